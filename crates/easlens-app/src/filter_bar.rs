//! The filter bar: a text field for the engine's query language (`filter::parse`), and the
//! evaluation of the query (`filter::filter`: the text index's vocabulary scan, then every
//! session) whenever it changes. The body word index (`TextIndex`) is built by the `text-index`
//! job after a capture opens; until it is ready, free text searches only the URL and headers, and
//! the rows are filtered again the moment it is. On a big capture the evaluation is the `filter`
//! job (one at a time: the newest query waits for the one in flight); the rows it finds reach the
//! table as [`AppCommand::FilteredRows`]. The help popup lists the fields of the engine's table
//! (`filter::fields::FIELDS`).

use eframe::egui;
use std::sync::Arc;
use std::time::Instant;

use egui::{Key, RichText};

use super::command::{AppCommand, Commands};
use super::jobs::{Job, Poll};
use super::mailbox_log::{Attached, filter_rows};
use easlens_core::capture::{Capture, Progress};
use easlens_core::filter::{self, FilterError, Query, TextIndex};

/// Examples shown in the help popup: (query, what it finds).
pub const EXAMPLES: [(&str, &str); 14] = [
    ("cmd:Sync", "Sync requests"),
    ("http:!200", "responses other than 200 (and no response)"),
    ("http:5xx", "server errors"),
    ("status:!1", "a response Status other than 1"),
    ("status:fail", "a Status that means failure for that command"),
    ("throttled", "responses with X-MS-ASThrottle"),
    ("folder:5", "CollectionId 5"),
    ("device:ABC", "DeviceId or DeviceType containing ABC"),
    ("user:jdoe", "user containing jdoe"),
    ("-cmd:Ping", "everything but Ping"),
    ("http:401 | http:403", "either"),
    ("\"Quarterly planning\"", "free text in URL, headers and decoded bodies"),
    (
        "log:trace_only",
        "requests Exchange's mailbox log does not have (with a log added)",
    ),
    (
        "log:log_only",
        "log entries the capture does not have (with a log added)",
    ),
];

/// Captures with fewer sessions are filtered on the window's thread, in the frame the query
/// changed: evaluating a query over the in-memory summaries of 2,048 sessions (and scanning their
/// bodies' vocabulary) takes well under a millisecond, less than the frame a job's result takes
/// to arrive, and the rows change with the keystroke. Bigger captures use the `filter` job.
pub const FILTER_INLINE_BELOW: usize = 2048;

/// The rows a query matched, and how long finding them took.
struct Evaluated {
    rows: Vec<u32>,
    ms: f64,
}

fn evaluate(capture: &Capture, query: &Query, index: Option<&TextIndex>, log: Option<&Attached>) -> Evaluated {
    let started = Instant::now();
    let rows = filter_rows(capture, query, index, log);
    Evaluated {
        rows,
        ms: started.elapsed().as_secs_f64() * 1e3,
    }
}

/// The `text-index` job: builds the body index of `capture`.
fn index_job(capture: &Arc<Capture>, ctx: &egui::Context) -> Job<Option<TextIndex>> {
    let c = capture.clone();
    // Without a thread there is no body index: free text searches the metadata only.
    Job::start_on_thread("text-index", ctx, move |worker| {
        let report = |p: Progress| worker.set_progress(p.fraction);
        TextIndex::build(&c, Some(&report), Some(worker.cancel_flag()))
    })
}

/// State of the filter bar.
pub struct FilterBar {
    /// What the user typed.
    pub text: String,
    /// The query last parsed (its rows are shown, being computed, or waiting in `pending`).
    applied: Option<String>,
    pub error: Option<FilterError>,
    /// The last query that parsed: while `error` is set, the table still shows its rows, and
    /// says so.
    valid: String,
    /// The body index being built (`None` when built, or not started).
    indexing: Option<Job<Option<TextIndex>>>,
    index: Option<Arc<TextIndex>>,
    /// A valid query waiting for the evaluation in flight to finish.
    pending: Option<Query>,
    evaluating: Option<Job<Evaluated>>,
    /// Captures with fewer sessions are evaluated inline ([`FILTER_INLINE_BELOW`]).
    pub inline_below: usize,
    /// How long the last evaluation took (shown on hover, used by the bench mode).
    pub last_eval_ms: f64,
    focus_requested: bool,
    /// The mailbox log attached to the capture (`log:` terms and the log-only rows).
    log: Option<Arc<Attached>>,
}

impl Default for FilterBar {
    fn default() -> Self {
        FilterBar {
            text: String::new(),
            applied: None,
            error: None,
            valid: String::new(),
            indexing: None,
            index: None,
            pending: None,
            evaluating: None,
            inline_below: FILTER_INLINE_BELOW,
            last_eval_ms: 0.0,
            focus_requested: false,
            log: None,
        }
    }
}

impl FilterBar {
    /// Another file was opened: its sessions are shown unfiltered (a query typed for the previous
    /// file would make the new one look empty).
    pub fn clear_query(&mut self) {
        self.text.clear();
        self.valid.clear();
        self.error = None;
    }

    /// The same capture shown again (the redacted copy, or the original): keeps the query, starts
    /// indexing the bodies in the background.
    pub fn reset(&mut self, capture: &Arc<Capture>, ctx: &egui::Context) {
        self.applied = None;
        self.pending = None;
        self.evaluating = None;
        self.index = None;
        self.indexing = Some(index_job(capture, ctx));
    }

    /// The capture's mailbox log was attached, aligned again or removed: the query is evaluated
    /// again with it.
    pub fn set_log(&mut self, log: Option<Arc<Attached>>) {
        self.log = log;
        self.applied = None;
        self.pending = None;
        self.evaluating = None;
    }

    /// Another capture is being opened: stops building this one's body index (cancelling the
    /// job), which would take the cores from the open while the window shows its progress.
    pub fn pause_indexing(&mut self) {
        self.indexing = None;
    }

    /// Back to this capture (the other one's open was cancelled or failed): builds its body index
    /// again if it was stopped before it was ready.
    pub fn resume_indexing(&mut self, capture: &Arc<Capture>, ctx: &egui::Context) {
        if self.index.is_none() && self.indexing.is_none() {
            self.indexing = Some(index_job(capture, ctx));
        }
    }

    /// The body index, once built.
    pub fn text_index(&self) -> Option<&TextIndex> {
        self.index.as_deref()
    }

    /// Progress of the body index: `None` when ready (or not started).
    pub fn indexing(&self) -> Option<f32> {
        self.indexing.as_ref().map(Job::progress)
    }

    /// True while the rows of the query are being computed (or waiting to be).
    pub fn is_filtering(&self) -> bool {
        self.evaluating.is_some() || self.pending.is_some()
    }

    /// True when the rows shown are those of the query in the field: it parsed, and nothing is
    /// being evaluated or waiting to be.
    pub fn is_settled(&self) -> bool {
        self.error.is_none() && self.applied.as_deref() == Some(self.text.as_str()) && !self.is_filtering()
    }

    /// The query whose rows the table shows while the one typed is invalid.
    pub fn last_valid(&self) -> &str {
        &self.valid
    }

    /// Sets the query (e.g. from a clicked finding); applied on the next [`FilterBar::poll`].
    pub fn set_query(&mut self, text: impl Into<String>) {
        self.text = text.into();
    }

    /// Puts the keyboard focus in the field on the next frame (Ctrl+F).
    pub fn focus(&mut self) {
        self.focus_requested = true;
    }

    /// Checks the index and the evaluation jobs and the query; pushes the new rows when they
    /// changed ([`AppCommand::FilteredRows`], `None`: every session).
    pub fn poll(&mut self, capture: &Arc<Capture>, ctx: &egui::Context, out: &mut Commands) {
        let mut index_arrived = false;
        if let Some(job) = &mut self.indexing {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(Some(index)) => {
                    self.index = Some(Arc::new(index));
                    self.indexing = None;
                    index_arrived = true;
                }
                Poll::Ready(None) | Poll::Lost => self.indexing = None,
            }
        }
        if let Some(job) = &mut self.evaluating {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(done) => {
                    self.evaluating = None;
                    self.last_eval_ms = done.ms;
                    out.push(AppCommand::FilteredRows(Some(done.rows)));
                }
                Poll::Lost => self.evaluating = None,
            }
        }
        let changed = self.applied.as_deref() != Some(self.text.as_str());
        if changed || index_arrived {
            match filter::parse(&self.text) {
                // Keep the last good rows while the user is still typing.
                Err(e) => self.error = Some(e),
                Ok(query) => {
                    self.error = None;
                    self.valid = self.text.clone();
                    if changed || query.uses_text() {
                        self.pending = Some(query);
                    }
                }
            }
            self.applied = Some(self.text.clone());
        }
        if self.evaluating.is_some() {
            return;
        }
        let Some(query) = self.pending.take() else { return };
        if query.is_empty() {
            self.last_eval_ms = 0.0;
            out.push(AppCommand::FilteredRows(None));
        } else if capture.sessions.len() < self.inline_below {
            let done = evaluate(capture, &query, self.text_index(), self.log.as_deref());
            self.last_eval_ms = done.ms;
            out.push(AppCommand::FilteredRows(Some(done.rows)));
        } else {
            let (c, index, log) = (capture.clone(), self.index.clone(), self.log.clone());
            self.evaluating = Some(Job::start("filter", ctx, move |_| {
                evaluate(&c, &query, index.as_deref(), log.as_deref())
            }));
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label(RichText::new("Filter").strong());
            let hint = "cmd:Sync  http:5xx  status:!1  throttled  folder:5  device:…  user:…  free text";
            let w = (ui.available_width() - 200.0).max(200.0);
            let edit = egui::TextEdit::singleline(&mut self.text)
                .id_salt("filter-query")
                .hint_text(hint)
                .desired_width(w)
                .font(egui::TextStyle::Monospace);
            let r = ui
                .add(edit)
                .labelled_by(label.id)
                .on_hover_text("Filter the sessions (Ctrl+F). Esc clears.");
            if self.focus_requested {
                r.request_focus();
                self.focus_requested = false;
            }
            if r.has_focus() && ui.input(|i| i.key_pressed(Key::Escape)) {
                self.text.clear();
            }
            if !self.text.is_empty() && ui.small_button("Clear").clicked() {
                self.text.clear();
            }
            let menu = ui.menu_button("?", help);
            if let Some(Some(example)) = menu.inner {
                self.text = example;
            }
            menu.response.on_hover_text("Filter syntax");
            if let Some(f) = self.indexing() {
                ui.add(
                    egui::ProgressBar::new(f)
                        .desired_width(90.0)
                        .text(RichText::new("indexing bodies").small()),
                )
                .on_hover_text("Free text searches URLs and headers now, and the decoded bodies once indexed");
            }
        });
        if let Some(e) = &self.error {
            let mut t = e.to_string();
            if t.is_empty() {
                t = "invalid query".into();
            }
            // The rows below are not this query's: say whose they are.
            let shown = if self.valid.trim().is_empty() {
                "the table shows every session".to_string()
            } else {
                format!(
                    "the table still shows the rows of the last valid filter `{}`",
                    self.valid
                )
            };
            ui.label(RichText::new(format!("⊘ Invalid filter: {t} — {shown}")).color(ui.visuals().error_fg_color));
        }
    }
}

/// The syntax popup; returns the example the user clicked.
fn help(ui: &mut egui::Ui) -> Option<String> {
    let mut picked = None;
    ui.set_max_width(460.0);
    ui.label(RichText::new("Filter syntax").strong());
    ui.label(
        "Terms separated by spaces must all match. field:value, field:!value (has another value), \
         -term (does not match), a | b (either), \"quoted text\". Anything else is free text.",
    );
    egui::Grid::new("filter-examples").striped(true).show(ui, |ui| {
        for (q, what) in EXAMPLES {
            if ui.link(RichText::new(q).monospace()).clicked() {
                picked = Some(q.to_string());
                ui.close();
            }
            ui.label(what);
            ui.end_row();
        }
    });
    let fields: Vec<&str> = filter::fields::FIELDS.iter().map(|f| f.name).collect();
    ui.label(
        RichText::new(format!(
            "Fields: {}. Flags: throttled problem aborted tunnel generated lost eas.",
            fields.join(" ")
        ))
        .weak(),
    );
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_paused_body_index_is_built_again_when_resumed() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/healthy-android.saz");
        let capture = Arc::new(easlens_core::capture::open(&path, &Default::default()).unwrap());
        let ctx = egui::Context::default();
        let mut bar = FilterBar::default();
        bar.reset(&capture, &ctx);
        bar.pause_indexing();
        assert!(bar.indexing().is_none() && bar.text_index().is_none());
        bar.resume_indexing(&capture, &ctx);
        assert!(bar.indexing().is_some());
        let started = Instant::now();
        while bar.indexing().is_some() && started.elapsed() < Duration::from_secs(30) {
            bar.poll(&capture, &ctx, &mut Commands::new());
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(bar.text_index().is_some());
    }
}
