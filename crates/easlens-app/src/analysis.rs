//! The analysis of the open capture (the engine's [`Analysis`]): its folder names are there from
//! the first frame (computed with the capture, on the loader thread), the rest is completed by the
//! `analysis` job right after the capture opens.

use eframe::egui;
use std::sync::Arc;

use super::jobs::{Job, Poll};
use easlens_core::analysis::Analysis;
use easlens_core::analysis::folders::FolderNames;

/// The analysis of the open capture: being completed, or complete.
#[derive(Default)]
pub struct AnalysisState {
    /// The analysis, complete or not (its folder names always are).
    shared: Option<Arc<Analysis>>,
    job: Option<Job<()>>,
}

impl AnalysisState {
    /// Completes `analysis` (of a newly opened capture) in the background; returns the previous
    /// capture's, for the caller to release.
    pub fn start(&mut self, analysis: Arc<Analysis>, ctx: &egui::Context) -> Option<Arc<Analysis>> {
        analysis.folders();
        let a = analysis.clone();
        let previous = self.shared.replace(analysis);
        self.job = Some(Job::start("analysis", ctx, move |_| a.complete()));
        previous
    }

    /// The analysis, once complete.
    pub fn get(&mut self) -> Option<Arc<Analysis>> {
        if let Some(job) = &mut self.job
            && !matches!(job.poll(), Poll::Pending)
        {
            self.job = None;
        }
        self.shared.clone().filter(|a| self.job.is_none() && a.is_complete())
    }

    /// The analysis whether complete or not: only its parts known to be computed may be read
    /// without waiting ([`Analysis::folders`]; the others once [`AnalysisState::get`] has it).
    pub fn shared(&self) -> Option<&Analysis> {
        self.shared.as_deref()
    }

    /// The analysis (complete or not) to hand to a job, which may compute what is missing.
    pub fn shared_arc(&self) -> Option<Arc<Analysis>> {
        self.shared.clone()
    }

    /// The capture's folder names (available as soon as the capture is open).
    pub fn folders(&self) -> Option<&FolderNames> {
        self.shared.as_deref().map(Analysis::folders)
    }

    pub fn is_computing(&self) -> bool {
        self.job.is_some()
    }
}
