//! The whole-capture analysis the window shows (item history index, folder names, SyncKey chains,
//! findings), computed by the engine on a
//! background thread right after a capture opens.

use eframe::egui;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use easlens_core::analysis::findings::Findings;
use easlens_core::analysis::folders::FolderNames;
use easlens_core::analysis::history::HistoryIndex;
use easlens_core::analysis::synckey::SyncKeyChains;
use easlens_core::capture::Capture;

/// What the engine computed over the whole capture.
pub struct Analysis {
    pub history: HistoryIndex,
    pub folders: FolderNames,
    pub chains: SyncKeyChains,
    pub findings: Findings,
}

impl Analysis {
    pub fn build(capture: &Capture) -> Analysis {
        let chains = SyncKeyChains::build(capture);
        let findings = Findings::from_sessions(&capture.sessions, &chains);
        Analysis {
            history: HistoryIndex::build(capture),
            folders: FolderNames::build(capture),
            chains,
            findings,
        }
    }
}

/// The analysis of the open capture: being computed, or ready.
#[derive(Default)]
pub struct AnalysisState {
    pending: Option<Receiver<Analysis>>,
    ready: Option<Arc<Analysis>>,
}

impl AnalysisState {
    /// Starts analysing a newly opened capture.
    pub fn start(&mut self, capture: &Arc<Capture>, ctx: &egui::Context) {
        self.ready = None;
        let (tx, rx) = channel();
        let (c, ctx) = (capture.clone(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("easlens-analysis".into())
            .spawn(move || {
                let _ = tx.send(Analysis::build(&c));
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(_) => {
                self.pending = None;
                self.ready = Some(Arc::new(Analysis::build(capture)));
            }
        }
    }

    /// The analysis, once computed.
    pub fn get(&mut self) -> Option<Arc<Analysis>> {
        if let Some(rx) = &self.pending {
            match rx.try_recv() {
                Ok(a) => {
                    self.ready = Some(Arc::new(a));
                    self.pending = None;
                }
                Err(TryRecvError::Disconnected) => self.pending = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        self.ready.clone()
    }

    pub fn is_computing(&self) -> bool {
        self.pending.is_some()
    }
}
