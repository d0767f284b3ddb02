//! The item history view: type (or follow from the inspector) a ServerId, ClientId, UID or
//! ConversationId — or words of its subject — and see every operation on that item across the
//! capture, in order, with the fields each Change altered (wrapped, EAS date-times readable with
//! the raw value on hover) and the state the device should end up in. Everything shown comes
//! from `analysis::history`; the changed fields re-read bodies from the capture, by the
//! `changed-fields` job when they are big. A click on a session pushes an [`AppCommand`].

use eframe::egui;
use std::sync::Arc;

use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};

use super::command::View;
use super::command::{AppCommand, Commands};
use super::jobs::{self, BODIES_INLINE_BELOW, Job, Poll};
use super::mailbox_log::Attached;
use super::sessions::highlight_color;
use easlens_core::analysis::Analysis;
use easlens_core::analysis::history::{
    Direction, Expected, FieldChange, FinalState, HistoryEvent, IdMatch, Outcome, changed_fields, final_states,
    item_place,
};
use easlens_core::capture::Capture;
use easlens_core::eas::datetime::readable;
use easlens_core::eas::session::Highlight;

/// The changed fields of each event, or why they could not be read.
type Changes = Result<Vec<Vec<FieldChange>>, String>;

pub struct HistoryPanel {
    /// What the user typed.
    pub query: String,
    /// The id whose history is shown.
    item: Option<String>,
    pub events: Vec<HistoryEvent>,
    changes: Vec<Vec<FieldChange>>,
    pub finals: Vec<FinalState>,
    error: Option<String>,
    suggestions: Vec<IdMatch>,
    suggested_for: Option<String>,
    /// The changed fields being read for the shown events.
    reading: Option<Job<Changes>>,
    /// Bodies smaller than this together are read inline ([`BODIES_INLINE_BELOW`]).
    pub inline_below: u64,
    /// Exchange's operations on the shown item, from the attached mailbox log: each event with its
    /// time in the capture's clock, and the trace session its log entry is matched with.
    pub log_events: Vec<(HistoryEvent, Option<u32>)>,
    /// The item and the attached log (address) `log_events` are of.
    log_for: Option<(String, usize)>,
    /// The width of the "Subject / changes" column last drawn: its wrapped lines' height.
    changes_width: std::cell::Cell<f32>,
}

impl Default for HistoryPanel {
    fn default() -> Self {
        HistoryPanel {
            query: String::new(),
            item: None,
            events: Vec::new(),
            changes: Vec::new(),
            finals: Vec::new(),
            error: None,
            suggestions: Vec::new(),
            suggested_for: None,
            reading: None,
            inline_below: BODIES_INLINE_BELOW,
            log_events: Vec::new(),
            log_for: None,
            changes_width: std::cell::Cell::new(400.0),
        }
    }
}

impl HistoryPanel {
    /// A new capture: forget the shown item.
    pub fn clear(&mut self) {
        *self = HistoryPanel {
            inline_below: self.inline_below,
            ..HistoryPanel::default()
        };
    }

    /// True while the changed fields of the shown events are being read.
    pub fn is_reading(&self) -> bool {
        self.reading.is_some()
    }

    /// The changed fields of each shown event (empty until read).
    pub fn changes(&self) -> &[Vec<FieldChange>] {
        &self.changes
    }

    /// Shows the history of `id`. The changed fields are read now when the bodies involved are
    /// small (under `inline_below` together), else by the `changed-fields` job.
    pub fn follow(&mut self, capture: &Arc<Capture>, analysis: &Analysis, id: &str, ctx: &egui::Context) {
        let id = id.trim();
        self.query = id.to_string();
        self.item = Some(id.to_string());
        self.events = analysis.history().history(capture, id);
        self.finals = final_states(&self.events, analysis.folders());
        self.error = None;
        self.changes = vec![Vec::new(); self.events.len()];
        self.reading = None;
        let read = |c: &Capture, events: &[HistoryEvent]| changed_fields(c, events).map_err(|e| e.to_string());
        if bodies_size(capture, &self.events) < self.inline_below {
            self.take_changes(read(capture, &self.events));
        } else {
            let (c, events) = (capture.clone(), self.events.clone());
            self.reading = Some(Job::start("changed-fields", ctx, move |_| read(&c, &events)));
        }
    }

    fn take_changes(&mut self, changes: Changes) {
        match changes {
            Ok(c) => self.changes = c,
            Err(e) => {
                self.error = Some(e);
                self.changes = vec![Vec::new(); self.events.len()];
            }
        }
    }

    /// Looks the shown item up in the attached log's history (when the item or the log changed).
    pub fn refresh_log(&mut self, capture: &Capture, log: Option<&Attached>) {
        let (Some(item), Some(log)) = (self.item.clone(), log) else {
            self.log_events.clear();
            self.log_for = None;
            return;
        };
        let key = (item, std::ptr::from_ref(log) as usize);
        if self.log_for.as_ref() == Some(&key) {
            return;
        }
        self.log_events = log
            .log_analysis
            .history()
            .history(&log.log, &key.0)
            .into_iter()
            .map(|mut e| {
                e.time = e.time.map(|t| log.to_trace_clock(t));
                let matched = log.matched_trace_session(capture, e.position);
                (e, matched)
            })
            .collect();
        self.log_for = Some(key);
    }

    /// Exchange's operations on the item, as the attached mailbox log shows them.
    fn log_ui(&self, ui: &mut egui::Ui, analysis: &Analysis) {
        let title = format!(
            "Exchange (mailbox log): {} operations on this item",
            self.log_events.len()
        );
        egui::CollapsingHeader::new(title)
            .id_salt("history-exchange")
            .default_open(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("history-exchange-events")
                    .max_height(160.0)
                    .show(ui, |ui| {
                        egui::Grid::new("history-exchange-grid").striped(true).show(ui, |ui| {
                            for n in [
                                "Time", "Log #", "Trace #", "From", "Action", "Folder", "ServerId", "Status",
                            ] {
                                ui.label(RichText::new(n).strong());
                            }
                            ui.end_row();
                            for (e, matched) in &self.log_events {
                                ui.label(e.time.map(|t| t.format("%H:%M:%S%.3f").to_string()).unwrap_or_default());
                                ui.label(e.session.to_string());
                                ui.label(matched.map_or_else(|| "—".to_string(), |n| n.to_string()));
                                ui.label(match e.direction {
                                    Direction::Client => "device",
                                    Direction::Server => "server",
                                });
                                ui.label(e.action.to_string());
                                let folder = e.collection_id.as_deref().map(|c| analysis.folders().label(c));
                                ui.label(folder.unwrap_or_default());
                                ui.label(RichText::new(e.server_id.clone().unwrap_or_default()).monospace());
                                ui.label(e.status.map(|s| s.to_string()).unwrap_or_default());
                                ui.end_row();
                            }
                        });
                    });
            });
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        capture: &Arc<Capture>,
        analysis: Option<&Analysis>,
        log: Option<&Attached>,
        out: &mut Commands,
    ) {
        if let Some(job) = &mut self.reading {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(changes) => {
                    self.reading = None;
                    self.take_changes(changes);
                }
                Poll::Lost => self.reading = None,
            }
        }
        let Some(analysis) = analysis else {
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label("Indexing the items of the capture…");
            });
            return;
        };
        let mut follow = None;
        ui.horizontal(|ui| {
            let label = ui.label(RichText::new("Item").strong());
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .id_salt("history-item")
                        .hint_text("ServerId, ClientId, calendar UID, ConversationId or subject")
                        .desired_width(380.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Follow").clicked() || enter) && !self.query.trim().is_empty() {
                follow = Some(self.query.clone());
            }
            ui.label(RichText::new(format!("{} item operations indexed", analysis.history().len())).weak());
        });
        // Ids starting with what was typed, then items whose subject contains it, while it is
        // not the followed one.
        let typed = self.query.trim().to_string();
        if !typed.is_empty() && self.item.as_deref() != Some(typed.as_str()) {
            if self.suggested_for.as_deref() != Some(typed.as_str()) {
                let index = analysis.history();
                let mut found = index.find_ids(capture, &typed, 8);
                for m in index.find_items(capture, &typed, 8) {
                    if !found.iter().any(|f| f.id == m.id) {
                        found.push(m);
                    }
                }
                self.suggestions = found;
                self.suggested_for = Some(typed.clone());
            }
            ui.horizontal_wrapped(|ui| {
                if self.suggestions.is_empty() {
                    ui.label(RichText::new("No id starts with that and no subject contains it.").weak());
                }
                for m in &self.suggestions {
                    if ui.link(suggestion_label(m, analysis)).clicked() {
                        follow = Some(m.id.clone());
                    }
                }
            });
        }
        if let Some(id) = follow {
            self.follow(capture, analysis, &id, ui.ctx());
        }
        let Some(item) = self.item.clone() else {
            ui.add_space(12.0);
            ui.label(
                RichText::new(
                    "Type an id, or select a session and use “Follow item” in the inspector, to see every \
                     Add, Change, Delete, Fetch and Move of that item across the capture.",
                )
                .weak(),
            );
            return;
        };
        ui.separator();
        self.refresh_log(capture, log);
        if log.is_some() {
            self.log_ui(ui, analysis);
        }
        if self.events.is_empty() {
            ui.label(format!("No operation in the capture mentions `{item}`."));
            return;
        }
        if let Some(e) = &self.error {
            ui.label(RichText::new(format!("△ changed fields unavailable: {e}")).color(ui.visuals().warn_fg_color));
        }
        if self.reading.is_some() {
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label("Reading the changed fields…");
            });
        }
        self.final_states_ui(ui);
        ui.add_space(4.0);
        if let Some(i) = self.events_table(ui, analysis) {
            out.push(AppCommand::SelectSession(i));
            out.push(AppCommand::ShowView(View::Inspector));
        }
    }

    fn final_states_ui(&self, ui: &mut egui::Ui) {
        let dark = ui.visuals().dark_mode;
        for f in &self.finals {
            let (glyph, color, what) = match (f.expected, dark) {
                (Expected::Present, true) => ("●", Color32::from_rgb(120, 210, 120), "should be on the device"),
                (Expected::Present, false) => ("●", Color32::from_rgb(20, 130, 40), "should be on the device"),
                (Expected::Updated, true) => (
                    "●",
                    Color32::from_rgb(120, 180, 255),
                    "should be on the device, updated",
                ),
                (Expected::Updated, false) => ("●", Color32::from_rgb(20, 80, 180), "should be on the device, updated"),
                (Expected::Gone, true) => ("○", Color32::from_rgb(235, 205, 70), "should be gone from the device"),
                (Expected::Gone, false) => ("○", Color32::from_rgb(140, 110, 0), "should be gone from the device"),
                (Expected::Unknown, _) => ("?", ui.visuals().weak_text_color(), "final state unknown"),
            };
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(format!("{glyph} {}", f.item))
                        .color(color)
                        .strong()
                        .monospace(),
                );
                if let Some(s) = &f.subject {
                    ui.label(RichText::new(format!("“{s}”")).strong());
                }
                ui.label(RichText::new(what).color(color));
                ui.label(RichText::new(&f.explanation).weak());
            });
        }
    }

    /// The events, oldest first; returns the session the user clicked.
    fn events_table(&self, ui: &mut egui::Ui, analysis: &Analysis) -> Option<u32> {
        /// (initial width, least width) of Time, #, From, Action, Folder, ServerId, ClientId, Status.
        const FIXED_COLUMNS: [(f32, f32); 8] = [
            (100.0, 92.0),
            (44.0, 30.0),
            (62.0, 40.0),
            (130.0, 60.0),
            (120.0, 50.0),
            (120.0, 50.0),
            (150.0, 50.0),
            (180.0, 50.0),
        ];
        let dark = ui.visuals().dark_mode;
        let mut clicked = None;
        let row_h = 20.0;
        // The last column wraps: each row as tall as its subject and changes, wrapped at the
        // column's width of the last frame.
        let lines: Vec<Vec<ChangeLine>> = self
            .events
            .iter()
            .enumerate()
            .map(|(k, _)| {
                let changes = self.changes.get(k).map(Vec::as_slice).unwrap_or(&[]);
                changes.iter().map(ChangeLine::of).collect()
            })
            .collect();
        let wrap = self.changes_width.get().max(60.0);
        let (body_font, mono_font) = (
            egui::TextStyle::Body.resolve(ui.style()),
            egui::TextStyle::Monospace.resolve(ui.style()),
        );
        let height = |text: &str, font: &egui::FontId| {
            ui.painter()
                .layout(text.to_string(), font.clone(), Color32::WHITE, wrap)
                .size()
                .y
        };
        let heights: Vec<f32> = self
            .events
            .iter()
            .zip(&lines)
            .map(|(e, lines)| {
                let subject = e.subject.as_deref().map_or(0.0, |s| height(s, &body_font));
                let changes: f32 = lines.iter().map(|l| height(&l.text, &mono_font)).sum();
                (subject + changes + 4.0).max(row_h)
            })
            .collect();
        let fixed: f32 = FIXED_COLUMNS.iter().map(|(w, _)| w).sum();
        let scale = (ui.available_width() * 0.55 / fixed).min(1.0);
        // The fixed columns take at most 55 % of a narrow window, so that the subject and the
        // changes keep room to be read (at 1024 px they would take nine tenths).
        let table = FIXED_COLUMNS.iter().fold(
            TableBuilder::new(ui)
                .id_salt("history-events")
                .striped(true)
                .resizable(true)
                .auto_shrink([false, false])
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center)),
            |t, &(initial, least)| t.column(Column::initial((initial * scale).max(least)).at_least(least)),
        );
        table
            .column(Column::remainder().at_least(100.0))
            .header(row_h, |mut h| {
                for name in [
                    "Time",
                    "#",
                    "From",
                    "Action",
                    "Folder",
                    "ServerId",
                    "ClientId",
                    "Status",
                    "Subject / changes",
                ] {
                    h.col(|ui| {
                        ui.label(RichText::new(name).strong());
                    });
                }
            })
            .body(|mut body| {
                for (k, e) in self.events.iter().enumerate() {
                    body.row(heights[k], |mut row| {
                        let failed = e.outcome() != Outcome::Applied;
                        let fail_color = highlight_color(Highlight::Http, dark);
                        let t = |s: String| {
                            if failed {
                                RichText::new(s).color(fail_color)
                            } else {
                                RichText::new(s)
                            }
                        };
                        row.col(|ui| {
                            ui.label(t(e
                                .time
                                .map(|t| t.format("%H:%M:%S%.3f").to_string())
                                .unwrap_or_default()));
                        });
                        row.col(|ui| {
                            if ui
                                .link(e.session.to_string())
                                .on_hover_text("Show this session")
                                .clicked()
                            {
                                clicked = Some(e.position as u32);
                            }
                        });
                        row.col(|ui| {
                            ui.label(t(match e.direction {
                                Direction::Client => "device".into(),
                                Direction::Server => "server".into(),
                            }));
                        });
                        row.col(|ui| {
                            let mut a = e.action.label().to_string();
                            if e.reply {
                                a.push_str(" (reply)");
                            }
                            ui.label(t(a).strong());
                        });
                        row.col(|ui| {
                            let f = e
                                .collection_id
                                .as_deref()
                                .map(|c| analysis.folders().label(c))
                                .unwrap_or_default();
                            ui.add(egui::Label::new(t(f)).truncate());
                        });
                        row.col(|ui| {
                            let mut s = e.server_id.clone().unwrap_or_default();
                            if let Some(d) = &e.dst_server_id {
                                s.push_str(&format!(" → {d}"));
                            }
                            ui.add(egui::Label::new(t(s).monospace()).truncate());
                        });
                        row.col(|ui| {
                            ui.add(egui::Label::new(t(e.client_id.clone().unwrap_or_default()).monospace()).truncate());
                        });
                        row.col(|ui| {
                            let s = match (e.status, e.status_name, e.http_status) {
                                (Some(v), Some(n), _) => format!("{v} {n}"),
                                (Some(v), None, _) => v.to_string(),
                                (None, _, Some(c)) if !(200..300).contains(&c) => format!("HTTP {c}"),
                                (None, _, None) => "no response".into(),
                                _ => String::new(),
                            };
                            let r = ui.add(egui::Label::new(t(s)).truncate());
                            if let Some(m) = e.status_meaning {
                                r.on_hover_text(m);
                            }
                        });
                        row.col(|ui| {
                            self.changes_width.set(ui.available_width());
                            ui.vertical(|ui| {
                                ui.spacing_mut().item_spacing.y = 0.0;
                                if let Some(subject) = &e.subject {
                                    ui.add(egui::Label::new(t(subject.clone())).wrap());
                                }
                                for l in &lines[k] {
                                    let r = ui.add(egui::Label::new(RichText::new(&l.text).monospace()).wrap());
                                    if let Some(raw) = &l.raw {
                                        r.on_hover_text(raw);
                                    }
                                }
                            });
                        });
                    });
                }
            });
        clicked
    }
}

/// Characters of a changed field shown before it is cut (about five wrapped lines).
const LONG_CHANGE: usize = 400;

/// A changed field as the history shows it: `StartTime: 2024-03-13 13:00 UTC → …`, and the raw
/// values (for the hover) when a date-time was made readable.
struct ChangeLine {
    /// Wrapped in the column.
    text: String,
    raw: Option<String>,
}

impl ChangeLine {
    fn of(c: &FieldChange) -> ChangeLine {
        let shown = |v: Option<&str>, none: &str| match v {
            Some(v) => readable(v).unwrap_or_else(|| v.to_string()),
            None => none.to_string(),
        };
        let (old, new) = (c.old.as_deref(), c.new.as_deref());
        let text = format!("{}: {} → {}", c.path, shown(old, "—"), shown(new, "(removed)"));
        let dated = [old, new].into_iter().flatten().any(|v| readable(v).is_some());
        let full = || format!("{}: {} → {}", c.path, old.unwrap_or("—"), new.unwrap_or("(removed)"));
        // A long value (a body) is cut after a few lines; all of it is on hover.
        if text.chars().count() > LONG_CHANGE {
            let cut: String = text.chars().take(LONG_CHANGE).collect();
            return ChangeLine {
                text: format!("{cut}…"),
                raw: Some(full()),
            };
        }
        ChangeLine {
            text,
            raw: dated.then(full),
        }
    }
}

/// A suggestion of the Item field: `ServerId 1:26 — Dentist · Calendar in 1 (Calendar) (2 ops)`.
fn suggestion_label(m: &IdMatch, analysis: &Analysis) -> String {
    let ops = format!("{} op{}", m.operations, if m.operations == 1 { "" } else { "s" });
    let mut text = format!("{} {}", m.kind.label(), m.id);
    if let Some(s) = &m.subject {
        text.push_str(&format!(" — {s}"));
    }
    if let Some(place) = item_place(m.item_kind, m.collection_id.as_deref(), Some(analysis.folders())) {
        text.push_str(&format!(" · {place}"));
    }
    format!("{text} ({ops})")
}

/// Bytes of the bodies of the sessions `events` are in, as the capture stores them.
fn bodies_size(capture: &Capture, events: &[HistoryEvent]) -> u64 {
    let mut positions: Vec<usize> = events.iter().map(|e| e.position).collect();
    positions.sort_unstable();
    positions.dedup();
    positions
        .iter()
        .filter_map(|&p| capture.sessions.get(p))
        .map(|s| {
            s.request.as_ref().map_or(0, |r| r.body.stored_len) + s.response.as_ref().map_or(0, |r| r.body.stored_len)
        })
        .sum()
}
