//! The "Redact personal data" switch. When it is on, the window shows a redacted copy of the
//! capture (and of its mailbox log), made by the engine's `redact::Redactor` in the `redact` job,
//! with its own analysis: every view, the clipboard, screenshots and exports then see pseudonyms
//! only, because they see nothing else. The capture as opened is kept, so switching off is
//! immediate. The switch stays on for the next capture opened: until that one is redacted, the
//! window shows no data of it.
//!
//! The pseudonym map (original → pseudonym) is shown to the engineer in a window of its own and
//! can be exported; it is never part of what is shared.

use eframe::egui;
use std::path::Path;
use std::sync::Arc;

use super::jobs::{Job, Poll};
use super::mailbox_log::Attached;
use easlens_core::analysis::Analysis;
use easlens_core::capture::Capture;
use easlens_core::redact::{Pseudonyms, Redactor};

/// What the window shows while redaction is on.
pub struct Redacted {
    pub capture: Arc<Capture>,
    pub analysis: Arc<Analysis>,
    pub log: Option<Arc<Attached>>,
    pub map: Arc<Pseudonyms>,
    /// The map as JSON, for export.
    pub map_json: Arc<str>,
}

/// The capture as opened, kept while the window shows its redacted copy.
#[derive(Clone)]
pub struct Original {
    pub capture: Arc<Capture>,
    pub analysis: Arc<Analysis>,
    pub log: Option<Arc<Attached>>,
}

#[derive(Default)]
pub struct Redaction {
    /// The switch.
    pub on: bool,
    /// The capture as opened while the window shows a redacted copy of it.
    original: Option<Original>,
    job: Option<Job<Redacted>>,
    /// The map of the redacted capture shown.
    pub map: Option<Arc<Pseudonyms>>,
    map_json: Option<Arc<str>>,
    /// The map window is open.
    pub show_map: bool,
    /// The redacted mailbox log shown (a realignment of it stays redacted).
    shown_log: Option<Arc<Capture>>,
}

impl Redaction {
    /// True while the redacted copy is being made (the window shows no data meanwhile).
    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    /// The window shows a redacted copy now.
    pub fn is_showing_redacted(&self) -> bool {
        self.on && self.original.is_some() && self.job.is_none()
    }

    /// The capture as opened (while a redacted copy is shown).
    pub fn original(&self) -> Option<&Original> {
        self.original.as_ref()
    }

    /// Starts the `redact` job for `original` (a capture just opened, or the one shown when the
    /// switch is turned on, or the same with a log just added).
    pub fn start(&mut self, original: Original, ctx: &egui::Context) {
        let o = original.clone();
        self.original = Some(original);
        self.map = None;
        self.map_json = None;
        self.job = Some(Job::start("redact", ctx, move |_| redact(&o)));
    }

    /// Switches off: the capture as opened comes back (`None` when nothing was redacted).
    pub fn stop(&mut self) -> Option<Original> {
        self.on = false;
        self.job = None;
        self.map = None;
        self.map_json = None;
        self.show_map = false;
        self.original.take()
    }

    /// Another capture opened: the previous one's original and job go.
    pub fn forget(&mut self) {
        self.job = None;
        self.original = None;
        self.map = None;
        self.map_json = None;
    }

    /// The redacted copy, once the job has made it.
    pub fn poll(&mut self) -> Option<Redacted> {
        let job = self.job.as_mut()?;
        match job.poll() {
            Poll::Pending => None,
            Poll::Ready(r) => {
                self.job = None;
                self.shown_log = r.log.as_ref().map(|a| a.log.clone());
                self.map = Some(r.map.clone());
                self.map_json = Some(r.map_json.clone());
                Some(r)
            }
            Poll::Lost => {
                self.job = None;
                None
            }
        }
    }

    /// True when `log` is the redacted log the window shows (lined up again, it needs no new
    /// redaction).
    pub fn is_redacted_log(&self, log: &Arc<Capture>) -> bool {
        self.shown_log.as_ref().is_some_and(|l| Arc::ptr_eq(l, log))
    }

    /// Writes the map as JSON to `path`.
    pub fn export_map(&self, path: &Path) -> Result<(), String> {
        let json = self.map_json.as_deref().ok_or("No pseudonym map: redaction is off")?;
        std::fs::write(path, json).map_err(|e| format!("Cannot write {}: {e}", path.display()))
    }

    /// The map window: every value met and its pseudonym, and Export.
    pub fn map_window(&mut self, ctx: &egui::Context) -> Option<MapAction> {
        if !self.show_map {
            return None;
        }
        let mut open = true;
        let mut action = None;
        egui::Window::new("Pseudonym map")
            .open(&mut open)
            .default_size([520.0, 420.0])
            .show(ctx, |ui| {
                ui.label(
                    egui::RichText::new("For you only: this map turns pseudonyms back into personal data. It is never part of a report or a redacted capture.")
                        .color(ui.visuals().warn_fg_color),
                );
                let Some(map) = &self.map else {
                    ui.label("Turn on “Redact personal data” to see the map.");
                    return;
                };
                ui.horizontal(|ui| {
                    ui.label(format!("{} values", map.entries().len()));
                    if ui.button("Export map…").clicked() {
                        action = Some(MapAction::Export);
                    }
                });
                ui.separator();
                egui_extras::TableBuilder::new(ui)
                    .striped(true)
                    .column(egui_extras::Column::auto().at_least(90.0))
                    .column(egui_extras::Column::remainder().at_least(140.0))
                    .column(egui_extras::Column::remainder().at_least(140.0))
                    .header(20.0, |mut h| {
                        for title in ["Kind", "Original", "Pseudonym"] {
                            h.col(|ui| {
                                ui.strong(title);
                            });
                        }
                    })
                    .body(|body| {
                        body.rows(18.0, map.entries().len(), |mut row| {
                            let e = &map.entries()[row.index()];
                            row.col(|ui| {
                                ui.label(e.kind.label());
                            });
                            row.col(|ui| {
                                ui.label(easlens_core::report::terminal_safe(&e.original, easlens_core::report::Layout::Field));
                            });
                            row.col(|ui| {
                                ui.label(&e.pseudonym);
                            });
                        });
                    });
            });
        if !open {
            self.show_map = false;
        }
        action
    }
}

/// What the map window asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapAction {
    Export,
}

/// The `redact` job: the capture and its log redacted with one map, analysed, the log lined up
/// again with the clock offset it had.
fn redact(o: &Original) -> Redacted {
    let mut redactor = Redactor::new();
    let capture = Arc::new(redactor.capture(&o.capture, None));
    let analysis = Arc::new(Analysis::new(capture.clone()));
    analysis.complete();
    let log = o.log.as_ref().map(|a| {
        let log = Arc::new(redactor.capture(&a.log, None));
        Arc::new(Attached::build(
            &capture,
            &analysis,
            log,
            Some(a.alignment.clock_offset_seconds),
        ))
    });
    let map_json: Arc<str> = redactor.map_json().into();
    Redacted {
        capture,
        analysis,
        log,
        map: Arc::new(redactor.pseudonyms().clone()),
        map_json,
    }
}
