//! The analysis of the open capture (the engine's [`Analysis`]): its folder names are there from
//! the first frame, the rest is computed on a background thread right after the capture opens.

use eframe::egui;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use easlens_core::analysis::Analysis;
use easlens_core::analysis::folders::FolderNames;
use easlens_core::capture::Capture;

/// The analysis of the open capture: being completed, or complete.
#[derive(Default)]
pub struct AnalysisState {
    /// The analysis, complete or not (its folder names always are).
    shared: Option<Arc<Analysis>>,
    pending: Option<Receiver<()>>,
}

impl AnalysisState {
    /// Starts analysing a newly opened capture; its folder names are computed now.
    pub fn start(&mut self, capture: &Arc<Capture>, ctx: &egui::Context) {
        let analysis = Arc::new(Analysis::new(capture.clone()));
        analysis.folders();
        self.shared = Some(analysis.clone());
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let a = analysis.clone();
        let spawned = std::thread::Builder::new()
            .name("easlens-analysis".into())
            .spawn(move || {
                a.complete();
                let _ = tx.send(());
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(_) => {
                self.pending = None;
                analysis.complete();
            }
        }
    }

    /// The analysis, once complete.
    pub fn get(&mut self) -> Option<Arc<Analysis>> {
        if let Some(rx) = &self.pending {
            match rx.try_recv() {
                Ok(()) | Err(TryRecvError::Disconnected) => self.pending = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        self.shared
            .clone()
            .filter(|a| self.pending.is_none() && a.is_complete())
    }

    /// The capture's folder names (available as soon as the capture is open).
    pub fn folders(&self) -> Option<&FolderNames> {
        self.shared.as_deref().map(Analysis::folders)
    }

    pub fn is_computing(&self) -> bool {
        self.pending.is_some()
    }
}
