//! The filter bar: a text field for the engine's query language (`filter::parse`), evaluated with
//! `filter::filter` whenever the query changes, and the body word index (`TextIndex`) built on a
//! background thread after a capture opens. Until the index is ready, free text searches only the
//! URL and headers; the rows are filtered again the moment it is ready. The help popup lists the
//! fields of the engine's table (`filter::fields::FIELDS`).

use eframe::egui;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use egui::{Key, RichText};

use easlens_core::capture::{Capture, Progress};
use easlens_core::filter::{self, FilterError, TextIndex};

/// Examples shown in the help popup: (query, what it finds).
pub const EXAMPLES: [(&str, &str); 12] = [
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
];

enum IndexState {
    None,
    Building {
        rx: Receiver<Option<TextIndex>>,
        progress: Arc<Mutex<f32>>,
        cancel: Arc<AtomicBool>,
    },
    Ready(Arc<TextIndex>),
}

/// State of the filter bar.
pub struct FilterBar {
    /// What the user typed.
    pub text: String,
    /// The query the rows were last computed for.
    applied: Option<String>,
    pub error: Option<FilterError>,
    index: IndexState,
    /// How long the last evaluation took (shown on hover, used by the bench mode).
    pub last_eval_ms: f64,
    focus_requested: bool,
}

impl Default for FilterBar {
    fn default() -> Self {
        FilterBar {
            text: String::new(),
            applied: None,
            error: None,
            index: IndexState::None,
            last_eval_ms: 0.0,
            focus_requested: false,
        }
    }
}

impl Drop for FilterBar {
    fn drop(&mut self) {
        self.cancel_index();
    }
}

impl FilterBar {
    /// A new capture: keeps the query, starts indexing the bodies in the background.
    pub fn reset(&mut self, capture: &Arc<Capture>, ctx: &egui::Context) {
        self.cancel_index();
        self.applied = None;
        let (tx, rx) = channel();
        let progress = Arc::new(Mutex::new(0.0f32));
        let cancel = Arc::new(AtomicBool::new(false));
        let (c, p, k, ctx) = (capture.clone(), progress.clone(), cancel.clone(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("easlens-text-index".into())
            .spawn(move || {
                let report = |pr: Progress| {
                    if let Ok(mut f) = p.lock() {
                        *f = pr.fraction;
                    }
                };
                let index = TextIndex::build(&c, Some(&report), Some(&k));
                let _ = tx.send(index);
                ctx.request_repaint();
            });
        self.index = match spawned {
            Ok(_) => IndexState::Building { rx, progress, cancel },
            Err(_) => IndexState::None,
        };
    }

    fn cancel_index(&mut self) {
        if let IndexState::Building { cancel, .. } = &self.index {
            cancel.store(true, Ordering::Relaxed);
        }
        self.index = IndexState::None;
    }

    /// The body index, once built.
    pub fn text_index(&self) -> Option<&TextIndex> {
        match &self.index {
            IndexState::Ready(i) => Some(i),
            _ => None,
        }
    }

    /// Progress of the body index: `None` when ready (or not started).
    pub fn indexing(&self) -> Option<f32> {
        match &self.index {
            IndexState::Building { progress, .. } => Some(progress.lock().map(|f| *f).unwrap_or(0.0)),
            _ => None,
        }
    }

    /// Sets the query (e.g. from a clicked finding); applied on the next [`FilterBar::poll`].
    pub fn set_query(&mut self, text: impl Into<String>) {
        self.text = text.into();
    }

    /// Puts the keyboard focus in the field on the next frame (Ctrl+F).
    pub fn focus(&mut self) {
        self.focus_requested = true;
    }

    /// Checks the index thread and the query; returns the new rows when they changed
    /// (`Some(None)`: every session).
    pub fn poll(&mut self, capture: &Capture) -> Option<Option<Vec<u32>>> {
        let mut index_arrived = false;
        if let IndexState::Building { rx, .. } = &self.index {
            match rx.try_recv() {
                Ok(Some(index)) => {
                    self.index = IndexState::Ready(Arc::new(index));
                    index_arrived = true;
                }
                Ok(None) | Err(TryRecvError::Disconnected) => self.index = IndexState::None,
                Err(TryRecvError::Empty) => {}
            }
        }
        let changed = self.applied.as_deref() != Some(self.text.as_str());
        if !changed && !index_arrived {
            return None;
        }
        let query = match filter::parse(&self.text) {
            Ok(q) => q,
            Err(e) => {
                // Keep the last good rows while the user is still typing.
                self.error = Some(e);
                self.applied = Some(self.text.clone());
                return None;
            }
        };
        self.error = None;
        self.applied = Some(self.text.clone());
        if index_arrived && !query.uses_text() && !changed {
            return None;
        }
        if query.is_empty() {
            self.last_eval_ms = 0.0;
            return Some(None);
        }
        let started = Instant::now();
        let rows = filter::filter(capture, &query, self.text_index());
        self.last_eval_ms = started.elapsed().as_secs_f64() * 1e3;
        Some(Some(rows))
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
            ui.label(RichText::new(format!("⊘ {t}")).color(ui.visuals().error_fg_color));
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
