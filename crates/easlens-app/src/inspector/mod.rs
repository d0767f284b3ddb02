//! The inspector: the selected session's request and response side by side (stacked when the
//! window is narrow), with XML, Headers, Query, Raw and Hex tabs. Everything shown comes from the
//! engine (`Capture::body_view`, the session's `EasSummary`, `parse_request_target`); bodies are
//! shown through a virtualized per-line view so a 10 MB body costs only its visible lines. Big
//! bodies are decoded by the `decode` job. What the user asks of the rest of the window (follow an
//! item, the "Copied …" message) is pushed as an [`AppCommand`].

mod content;
mod pane;
mod tabs;
mod view;

use eframe::egui;
use std::sync::Arc;

use egui::RichText;

use super::command::{AppCommand, Commands};
use super::jobs::{self, BODIES_INLINE_BELOW, Job, Poll};
use super::mailbox_log::{Attached, Row};
use easlens_core::analysis::align::{Pair, PairKind};
use easlens_core::analysis::folders::FolderNames;
use easlens_core::analysis::history::{item_kind, item_place};
use easlens_core::capture::{Capture, LabelStyle, Session};
use easlens_core::eas::status::{Verdict, http_meaning_for};
use easlens_core::http::Side;
use easlens_core::readers::mailbox_log::identifier;
use pane::Pane;
use tabs::{PaneOptions, pane_ui};
use view::{Find, status_text, verdict_color};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Xml,
    Headers,
    Query,
    Raw,
    Hex,
}

const TABS: [(Tab, &str); 5] = [
    (Tab::Xml, "Body"),
    (Tab::Headers, "Headers"),
    (Tab::Query, "Query"),
    (Tab::Raw, "Raw"),
    (Tab::Hex, "Hex"),
];

/// State of the inspector.
pub struct Inspector {
    pub tab: Tab,
    /// Show Authorization and cookie values.
    pub reveal: bool,
    /// Long lines wrap at the pane's width (Body, Headers and Raw tabs).
    pub wrap: bool,
    /// Hex view of the decoded bytes instead of the bytes as stored.
    hex_decoded: bool,
    session: Option<u32>,
    request: Pane,
    response: Pane,
    /// Bodies being decoded off the UI thread: (session, job).
    decoding: Option<(u32, Job<(Pane, Pane)>)>,
    /// Search within the bodies of the XML and Raw tabs.
    pub find_text: String,
    /// What the matches were computed for: (needle, session, tab, panes reloaded).
    find_key: Option<(String, Option<u32>, Tab, bool)>,
    hits: Vec<(Side, usize)>,
    hit: usize,
    scroll_to_hit: bool,
    /// A matched session shown beside Exchange's log entry (the device's view and the server's).
    pub compare: bool,
    /// The log entry shown beside a matched session: (its position in the log, request, response).
    log_panes: Option<(usize, Pane, Pane)>,
    /// The log entry's bodies being decoded off the UI thread: (position in the log, job).
    log_decoding: Option<(usize, Job<(Pane, Pane)>)>,
}

impl Default for Inspector {
    fn default() -> Self {
        Inspector {
            tab: Tab::Xml,
            reveal: false,
            wrap: false,
            hex_decoded: false,
            session: None,
            request: Pane::empty(Side::Request),
            response: Pane::empty(Side::Response),
            decoding: None,
            find_text: String::new(),
            find_key: None,
            hits: Vec::new(),
            hit: 0,
            scroll_to_hit: false,
            compare: true,
            log_panes: None,
            log_decoding: None,
        }
    }
}

impl Inspector {
    /// Forgets the shown session (a new capture was opened).
    pub fn clear(&mut self) {
        self.session = None;
        self.request = Pane::empty(Side::Request);
        self.response = Pane::empty(Side::Response);
        self.decoding = None;
        self.find_key = None;
        self.log_panes = None;
        self.log_decoding = None;
    }

    /// True while the selected session's bodies are decoded in the background.
    pub fn is_decoding(&self) -> bool {
        self.decoding.is_some()
    }

    /// The number of matches of the body search.
    pub fn find_hits(&self) -> usize {
        self.hits.len()
    }

    /// The item menu: every id of the session's item operations, to follow through the capture.
    /// Each labelled with its subject, what it is and its folder (`· invitation in 5 (Inbox)`).
    fn follow_menu(&mut self, ui: &mut egui::Ui, session: &Session, folders: Option<&FolderNames>, out: &mut Commands) {
        let Some(eas) = &session.eas else { return };
        let mut ids: Vec<(String, String)> = Vec::new();
        for op in eas.items.iter() {
            let mut subject = op.subject.map(|s| format!(" — {s}")).unwrap_or_default();
            if let Some(place) = item_place(item_kind(op.class, op.uid), op.collection_id, folders) {
                subject.push_str(&format!(" · {place}"));
            }
            for (kind, id) in [("ServerId", op.server_id), ("ClientId", op.client_id), ("UID", op.uid)] {
                if let Some(id) = id
                    && !ids.iter().any(|(i, _)| i == id)
                {
                    ids.push((id.to_string(), format!("{kind} {id} ({}){subject}", op.action.label())));
                }
            }
        }
        if ids.is_empty() {
            return;
        }
        ui.menu_button(format!("Follow item ({})", ids.len()), |ui| {
            egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                for (id, label) in &ids {
                    if ui.button(label).clicked() {
                        out.push(AppCommand::FollowItem(id.clone()));
                        ui.close();
                    }
                }
            });
        })
        .response
        .on_hover_text("Show every operation on one of this session's items across the capture");
    }

    fn sync(&mut self, capture: &Arc<Capture>, selected: Option<(u32, usize)>, ctx: &egui::Context) {
        if self.session != selected.map(|(row, _)| row) {
            self.select(capture, selected, ctx);
        }
        if let Some((i, job)) = &mut self.decoding {
            match job.poll() {
                Poll::Ready((request, response)) if Some(*i) == self.session => {
                    self.request = request;
                    self.response = response;
                    self.decoding = None;
                    self.find_key = None;
                }
                Poll::Ready(_) | Poll::Lost => self.decoding = None,
                Poll::Pending => {}
            }
        }
    }

    /// Shows `selected`: its bodies decoded now, or by the `decode` job when they are big
    /// ([`BODIES_INLINE_BELOW`] both sides together, as stored; the job
    /// runs inline, and is done at once, when no thread can be started).
    /// `selected`: the row id (the key the panes are kept by) and the session's position in
    /// `capture` (the capture's, or the log's for a log-only row).
    fn select(&mut self, capture: &Arc<Capture>, selected: Option<(u32, usize)>, ctx: &egui::Context) {
        self.session = selected.map(|(row, _)| row);
        self.find_key = None;
        let Some((row, pos)) = selected else {
            self.clear();
            return;
        };
        let s = &capture.sessions[pos];
        let size =
            s.request.as_ref().map_or(0, |r| r.body.stored_len) + s.response.as_ref().map_or(0, |r| r.body.stored_len);
        let reveal = self.reveal;
        if size < BODIES_INLINE_BELOW {
            self.request = Pane::load(capture, pos, Side::Request, reveal);
            self.response = Pane::load(capture, pos, Side::Response, reveal);
            self.decoding = None;
            return;
        }
        self.request = Pane::empty(Side::Request);
        self.response = Pane::empty(Side::Response);
        let c = capture.clone();
        let job = Job::start("decode", ctx, move |_| {
            (
                Pane::load(&c, pos, Side::Request, reveal),
                Pane::load(&c, pos, Side::Response, reveal),
            )
        });
        self.decoding = Some((row, job));
    }

    /// Keeps the panes of log entry `l` (shown beside its matched session): decoded now, or by the
    /// `decode-log` job when big; true once they are there.
    fn sync_log(&mut self, log: &Arc<Capture>, l: usize, ctx: &egui::Context) -> bool {
        if self.log_panes.as_ref().is_some_and(|(k, ..)| *k == l) {
            return true;
        }
        if let Some((k, job)) = &mut self.log_decoding {
            if *k == l {
                match job.poll() {
                    Poll::Ready((request, response)) => {
                        self.log_panes = Some((l, request, response));
                        self.log_decoding = None;
                        return true;
                    }
                    Poll::Pending => return false,
                    Poll::Lost => {}
                }
            }
            self.log_decoding = None;
        }
        let s = &log.sessions[l];
        let size =
            s.request.as_ref().map_or(0, |r| r.body.stored_len) + s.response.as_ref().map_or(0, |r| r.body.stored_len);
        let reveal = self.reveal;
        if size < BODIES_INLINE_BELOW {
            let request = Pane::load(log, l, Side::Request, reveal);
            let response = Pane::load(log, l, Side::Response, reveal);
            self.log_panes = Some((l, request, response));
            return true;
        }
        let c = log.clone();
        let job = Job::start("decode-log", ctx, move |_| {
            (
                Pane::load(&c, l, Side::Request, reveal),
                Pane::load(&c, l, Side::Response, reveal),
            )
        });
        self.log_decoding = Some((l, job));
        false
    }

    /// Recomputes the search matches when the needle, the session or the tab changed.
    fn update_find(&mut self) {
        let key = (
            self.find_text.to_ascii_lowercase(),
            self.session,
            self.tab,
            self.decoding.is_some(),
        );
        if self.find_key.as_ref() == Some(&key) {
            return;
        }
        self.hits.clear();
        self.hit = 0;
        if !key.0.is_empty() {
            for pane in [&self.request, &self.response] {
                let lines = match self.tab {
                    Tab::Xml => pane.body_lines(),
                    Tab::Raw => Some(&pane.raw),
                    _ => None,
                };
                let Some(lines) = lines else { continue };
                for i in 0..lines.lines.len() {
                    if lines.line(i).to_ascii_lowercase().contains(&key.0) {
                        self.hits.push((pane.side, i));
                    }
                }
            }
            self.scroll_to_hit = !self.hits.is_empty();
        }
        self.find_key = Some(key);
    }

    fn find_for(&self, side: Side) -> Find {
        let current = self.hits.get(self.hit).filter(|(s, _)| *s == side).map(|(_, l)| *l);
        Find {
            needle: self.find_text.to_ascii_lowercase(),
            current,
            scroll_to: current.filter(|_| self.scroll_to_hit),
            wrap: self.wrap,
        }
    }

    fn find_bar(&mut self, ui: &mut egui::Ui) {
        let searchable = matches!(self.tab, Tab::Xml | Tab::Raw);
        ui.add_enabled_ui(searchable, |ui| {
            let label = ui.label("Find");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.find_text)
                        .id_salt("find-in-body")
                        .hint_text("in the body / Raw text")
                        .desired_width(170.0),
                )
                .labelled_by(label.id)
                .on_hover_text("Search the XML or Raw text of both panes (Enter: next match, Shift+Enter: previous)");
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let back = enter && ui.input(|i| i.modifiers.shift);
            if enter {
                r.request_focus();
            }
            let n = self.hits.len();
            let prev = ui
                .add_enabled(n > 0, egui::Button::new("▲").small())
                .on_hover_text("Previous match");
            let next = ui
                .add_enabled(n > 0, egui::Button::new("▼").small())
                .on_hover_text("Next match");
            if n > 0 && (next.clicked() || (enter && !back)) {
                self.hit = (self.hit + 1) % n;
                self.scroll_to_hit = true;
            }
            if n > 0 && (prev.clicked() || back) {
                self.hit = (self.hit + n - 1) % n;
                self.scroll_to_hit = true;
            }
            if !self.find_text.is_empty() {
                let t = if n == 0 {
                    "no match".to_string()
                } else {
                    format!("{} of {n}", self.hit + 1)
                };
                ui.label(RichText::new(t).weak());
            }
        });
    }

    /// `log`: the mailbox log attached to the capture; `selected`: the table's row id (a session
    /// of the capture, or a log-only entry of the log).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        capture: &Arc<Capture>,
        log: Option<&Arc<Attached>>,
        selected: Option<u32>,
        folders: Option<&FolderNames>,
        out: &mut Commands,
    ) {
        // The capture the row's session is in, and its position there.
        let (source, shown) = match (selected.map(Row::of), log) {
            (Some(Row::Log(l)), Some(a)) => (a.log.clone(), Some((l as u32 | super::mailbox_log::LOG_ROW, l))),
            (Some(Row::Trace(t)), _) => (capture.clone(), Some((t as u32, t))),
            _ => (capture.clone(), None),
        };
        let capture = &source;
        self.sync(capture, shown, ui.ctx());
        let Some((_, index)) = shown else {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new("Select a session to inspect its request and response (↑/↓ move).").weak());
            });
            return;
        };
        let session = &capture.sessions[index];
        let pair = selected.zip(log).and_then(|(row, a)| a.pair(row).map(|p| (a, p)));
        let number = if capture.format == easlens_core::capture::Format::MailboxLog {
            let id = identifier(session)
                .map(|id| format!(" · Identifier {id}"))
                .unwrap_or_default();
            format!("Log entry {}{id}", session.index)
        } else {
            format!("#{}", session.index)
        };
        self.summary(ui, session, &number);
        // The log entry beside a matched session.
        let mut beside = None;
        if let Some((a, p)) = pair {
            log_banner(ui, a, p);
            if let (PairKind::Matched, Some(l), true) = (p.kind, p.log, self.compare)
                && self.sync_log(&a.log, l, ui.ctx())
            {
                beside = Some((a, l));
            }
        }
        ui.horizontal(|ui| {
            for (tab, name) in TABS {
                let r = ui.selectable_value(&mut self.tab, tab, name);
                if tab == Tab::Xml {
                    r.on_hover_text(format!(
                        "The bodies: request as {}, response as {}",
                        content::view_for(&self.request).name(),
                        content::view_for(&self.response).name()
                    ));
                }
            }
            ui.separator();
            ui.checkbox(&mut self.reveal, "Reveal credentials")
                .on_hover_text("Show Authorization and cookie values (masked by default)");
            if pair.is_some_and(|(_, p)| p.kind == PairKind::Matched) {
                ui.checkbox(&mut self.compare, "Beside Exchange's log").on_hover_text(
                    "Show the device's request and response beside the log entry Exchange wrote for them",
                );
            }
            self.follow_menu(ui, session, folders, out);
            if matches!(self.tab, Tab::Xml | Tab::Headers | Tab::Raw) {
                ui.checkbox(&mut self.wrap, "Wrap lines")
                    .on_hover_text("Wrap long lines (Status meanings, header values) at the pane's width instead of scrolling sideways");
            }
            if self.tab == Tab::Hex {
                ui.checkbox(&mut self.hex_decoded, "Decoded bytes")
                    .on_hover_text("Hex of the body after de-chunking and decompression instead of as stored");
            }
            // Right-aligned: the find bar is about 330 points wide.
            ui.add_space((ui.available_width() - 330.0).max(8.0));
            self.find_bar(ui);
        });
        if self.request.raw_revealed != self.reveal {
            self.request.build_raw(session, self.reveal);
            self.response.build_raw(session, self.reveal);
            self.find_key = None;
        }
        if let (Some((a, _)), Some((l, request, response))) = (beside, &mut self.log_panes)
            && request.raw_revealed != self.reveal
        {
            request.build_raw(&a.log.sessions[*l], self.reveal);
            response.build_raw(&a.log.sessions[*l], self.reveal);
        }
        self.update_find();
        ui.separator();
        if self.decoding.is_some() {
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label("Decoding the bodies…");
            });
            return;
        }
        let avail = ui.available_size();
        let side_by_side = avail.x >= 900.0;
        let finds = [self.find_for(Side::Request), self.find_for(Side::Response)];
        self.scroll_to_hit = false;
        let options = |k: usize| PaneOptions {
            tab: self.tab,
            reveal: self.reveal,
            hex_decoded: self.hex_decoded,
            find: &finds[k],
        };
        let mut copied = None;
        if let (Some((a, _)), Some((l, log_request, log_response))) = (beside, &self.log_panes) {
            // Two columns, the device's view and Exchange's; request above response in each.
            let log_session = &a.log.sessions[*l];
            let no_find = Find {
                needle: String::new(),
                current: None,
                scroll_to: None,
                wrap: self.wrap,
            };
            let w = (avail.x - 12.0) / 2.0;
            let h = (avail.y - 40.0) / 2.0;
            let columns = [
                (
                    format!("Device (capture) · #{}", session.index),
                    [&self.request, &self.response],
                    session,
                    [&finds[0], &finds[1]],
                ),
                (
                    format!(
                        "Exchange (mailbox log) · entry {} · Identifier {}",
                        log_session.index,
                        identifier(log_session).unwrap_or_default()
                    ),
                    [log_request, log_response],
                    log_session,
                    [&no_find, &no_find],
                ),
            ];
            ui.horizontal_top(|ui| {
                for (k, (title, panes, s, finds)) in columns.into_iter().enumerate() {
                    ui.allocate_ui_with_layout(
                        egui::vec2(w, avail.y),
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
                            ui.set_min_size(egui::vec2(w, avail.y));
                            ui.set_max_width(w);
                            ui.label(RichText::new(title).strong());
                            for (pane, find) in panes.into_iter().zip(finds) {
                                ui.allocate_ui_with_layout(
                                    egui::vec2(w, h),
                                    egui::Layout::top_down(egui::Align::Min),
                                    |ui| {
                                        ui.set_min_size(egui::vec2(w, h));
                                        ui.set_max_height(h);
                                        ui.push_id(("compare", k, pane.side == Side::Request), |ui| {
                                            let o = PaneOptions {
                                                tab: self.tab,
                                                reveal: self.reveal,
                                                hex_decoded: self.hex_decoded,
                                                find,
                                            };
                                            copied = copied.take().or(pane_ui(ui, pane, s, &o));
                                        });
                                    },
                                );
                            }
                        },
                    );
                    if k == 0 {
                        ui.separator();
                    }
                }
            });
        } else if side_by_side {
            let w = (avail.x - 12.0) / 2.0;
            ui.horizontal_top(|ui| {
                for (k, pane) in [&self.request, &self.response].into_iter().enumerate() {
                    ui.allocate_ui_with_layout(
                        egui::vec2(w, avail.y),
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
                            ui.set_min_size(egui::vec2(w, avail.y));
                            ui.set_max_width(w);
                            copied = copied.take().or(pane_ui(ui, pane, session, &options(k)));
                        },
                    );
                    if pane.side == Side::Request {
                        ui.separator();
                    }
                }
            });
        } else {
            let h = (avail.y - 12.0) / 2.0;
            for (k, pane) in [&self.request, &self.response].into_iter().enumerate() {
                ui.allocate_ui_with_layout(egui::vec2(avail.x, h), egui::Layout::top_down(egui::Align::Min), |ui| {
                    ui.set_min_size(egui::vec2(avail.x, h));
                    ui.set_max_height(h);
                    copied = copied.take().or(pane_ui(ui, pane, session, &options(k)));
                });
                if pane.side == Side::Request {
                    ui.separator();
                }
            }
        }
        if let Some((what, text)) = copied {
            ui.ctx().copy_text(text);
            out.push(AppCommand::Notify(format!(
                "Copied the {} to the clipboard",
                what.to_lowercase()
            )));
        }
    }

    /// One or two lines about the session: what was asked, what came back, what it means.
    fn summary(&self, ui: &mut egui::Ui, s: &Session, number: &str) {
        let dark = ui.visuals().dark_mode;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(number).strong());
            ui.label(RichText::new(s.command_label(LabelStyle::WINDOW)).strong());
            if let Some(r) = &s.request {
                ui.label(RichText::new(r.url()).weak());
            }
        });
        ui.horizontal_wrapped(|ui| match &s.response {
            Some(r) => {
                let m = http_meaning_for(r.head.status, s.eas.is_some());
                let failure = m.is_some_and(|m| m.failure) || r.head.status >= 400;
                let c = if failure {
                    verdict_color(Verdict::Failure, dark)
                } else {
                    verdict_color(Verdict::Success, dark)
                };
                let mut t = format!("HTTP {} {}", r.head.status, r.head.reason);
                if let Some(m) = m {
                    t.push_str(&format!(" — {}", m.meaning));
                }
                ui.label(RichText::new(t).color(c));
            }
            None if s.flags.aborted => {
                ui.label(
                    RichText::new("No response: the session was aborted").color(verdict_color(Verdict::Failure, dark)),
                );
            }
            None => {
                ui.label("No response");
            }
        });
        if let Some(eas) = &s.eas {
            for e in eas
                .statuses
                .iter()
                .filter(|e| e.side == Side::Response && e.verdict != Verdict::Success)
            {
                ui.label(
                    RichText::new(format!("Status {} at {}", status_text(e), e.path))
                        .color(verdict_color(e.verdict, dark)),
                );
            }
        }
        // The problems, then what the source says of the session (facts, shown plainly).
        for n in s.problems() {
            ui.label(RichText::new(format!("△ {n}")).color(ui.visuals().warn_fg_color));
        }
        for n in &s.facts {
            ui.label(format!("· {n}"));
        }
    }
}

/// Where the row stands against Exchange's mailbox log: the pair's differences (marked), or that
/// only one side has the request.
fn log_banner(ui: &mut egui::Ui, a: &Attached, p: &Pair) {
    let warn = ui.visuals().warn_fg_color;
    match p.kind {
        PairKind::TraceOnly => {
            ui.label(
                RichText::new(
                    "Not in Exchange's log: this request did not reach Exchange (or Exchange did not log it).",
                )
                .color(warn)
                .strong(),
            );
        }
        PairKind::LogOnly => {
            let time = p
                .log
                .and_then(|l| a.log.sessions[l].timers.started())
                .map(|t| format!(" at {} (log clock)", t.format("%H:%M:%S")))
                .unwrap_or_default();
            ui.label(
                RichText::new(format!(
                    "Only in Exchange's log{time}: the capture has no such request (sent around the proxy, or outside the capture)."
                ))
                .color(ui.visuals().hyperlink_color)
                .strong(),
            );
        }
        PairKind::Matched if p.differences.is_empty() => {
            ui.label(
                RichText::new(
                    "Exchange's log has this request, as the device sent it and with the answer the device got.",
                )
                .weak(),
            );
        }
        PairKind::Matched => {
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, warn))
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    let n = p.differences.len();
                    ui.label(
                        RichText::new(format!(
                            "The device's view and Exchange's differ ({n} difference{}):",
                            if n == 1 { "" } else { "s" }
                        ))
                        .color(warn)
                        .strong(),
                    );
                    for d in &p.differences {
                        ui.label(RichText::new(format!("△ {d}")).color(warn));
                    }
                });
        }
    }
}
