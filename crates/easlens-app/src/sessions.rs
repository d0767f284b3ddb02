//! The sessions table: a virtualized, sortable table over the visible rows (a `Vec<u32>` of
//! positions in `Capture::sessions`, rebuilt only when the capture or the sort changes), keyboard
//! navigation, and highlights with a colour and a glyph per reason. What each cell says comes from
//! the engine (`overview`); folder names from the capture's analysis.

use eframe::egui;
use egui::{Align, Color32, Key, Modifiers, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use std::sync::Arc;

use super::command::{AppCommand, Commands};
use super::mailbox_log::{Attached, LOG_ROW, session as row_session};
use easlens_core::analysis::align::PairKind;
use easlens_core::analysis::folders::FolderNames;
use easlens_core::capture::{Capture, LabelStyle, Session};
use easlens_core::eas::session::Highlight;
use easlens_core::eas::status::{Verdict, http_meaning_for};
use easlens_core::http::Side;
use easlens_core::overview::{
    device_label, folder_labels, main_highlight, request_size, response_size, throttle_label, url_label, worst_status,
};

/// Glyph and name of each highlight reason.
pub fn highlight_glyph(h: Highlight) -> (&'static str, &'static str) {
    match h {
        Highlight::Http => ("⊘", "HTTP error (non-2xx)"),
        Highlight::Throttle => ("◆", "throttled (X-MS-ASThrottle)"),
        Highlight::Status => ("△", "failing EAS Status"),
    }
}

/// Colour of each highlight reason, readable on both themes.
pub fn highlight_color(h: Highlight, dark: bool) -> Color32 {
    match (h, dark) {
        (Highlight::Http, true) => Color32::from_rgb(255, 110, 100),
        (Highlight::Http, false) => Color32::from_rgb(190, 30, 30),
        (Highlight::Throttle, true) => Color32::from_rgb(255, 170, 60),
        (Highlight::Throttle, false) => Color32::from_rgb(175, 95, 0),
        (Highlight::Status, true) => Color32::from_rgb(235, 205, 70),
        (Highlight::Status, false) => Color32::from_rgb(140, 110, 0),
    }
}

/// A redirect (3xx) is not a failure: milder than the other non-2xx answers.
fn redirect_color(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(150, 165, 220)
    } else {
        Color32::from_rgb(70, 85, 160)
    }
}

/// The colour of a highlighted row: its reason's, or the milder one of a redirect.
pub fn row_color(s: &Session, h: Highlight, dark: bool) -> Color32 {
    match (h, s.http_status()) {
        (Highlight::Http, Some(300..=399)) => redirect_color(dark),
        _ => highlight_color(h, dark),
    }
}

pub fn format_size(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

/// Milliseconds below 10 s, seconds above (a Ping's 9-minute wait reads as "540.0 s").
pub fn format_duration(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortColumn {
    Index,
    Time,
    Duration,
    Command,
    Folder,
    Http,
    EasStatus,
    Throttle,
    RequestSize,
    ResponseSize,
    Device,
    /// Host and path of the request.
    Url,
    /// The place against the attached mailbox log.
    Log,
}

/// Every column in its place (the Log column is shown with a log attached).
const COLUMNS: [(SortColumn, &str); 13] = [
    (SortColumn::Index, "#"),
    (SortColumn::Log, "Log"),
    (SortColumn::Time, "Time"),
    (SortColumn::Duration, "Duration"),
    (SortColumn::Command, "Command"),
    (SortColumn::Folder, "Folder"),
    (SortColumn::Http, "HTTP"),
    (SortColumn::EasStatus, "EAS status"),
    (SortColumn::Throttle, "Throttle"),
    (SortColumn::RequestSize, "Req size"),
    (SortColumn::ResponseSize, "Resp size"),
    (SortColumn::Device, "Device"),
    (SortColumn::Url, "Host/URL"),
];

/// What the Log column says of a row, and its explanation.
pub fn log_label(kind: Option<PairKind>) -> (&'static str, &'static str) {
    match kind {
        Some(PairKind::Matched) => ("matched", "Exchange's mailbox log has this request"),
        Some(PairKind::TraceOnly) => (
            "trace only",
            "Not in Exchange's log: the request did not reach Exchange (or was not an ActiveSync request)",
        ),
        Some(PairKind::LogOnly) => (
            "log only",
            "Only in Exchange's log: the capture does not have this request (sent around the proxy, or before/after the capture)",
        ),
        None => ("", "A CONNECT tunnel is not lined up with the log"),
    }
}

/// The tint of a log-only row, readable on both themes.
pub fn log_only_tint(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgba_unmultiplied(60, 110, 200, 48)
    } else {
        Color32::from_rgba_unmultiplied(70, 120, 220, 40)
    }
}

/// The colour of the Log column's text.
fn log_color(kind: Option<PairKind>, dark: bool) -> Option<Color32> {
    match (kind, dark) {
        (Some(PairKind::TraceOnly), _) => Some(highlight_color(Highlight::Throttle, dark)),
        (Some(PairKind::LogOnly), true) => Some(Color32::from_rgb(130, 175, 255)),
        (Some(PairKind::LogOnly), false) => Some(Color32::from_rgb(30, 80, 180)),
        _ => None,
    }
}

/// State of the sessions table.
pub struct SessionsPanel {
    /// Row ids in display order: positions in `Capture::sessions`, and with a mailbox log
    /// attached, log-only entries ([`LOG_ROW`] plus their position in the log).
    pub visible: Vec<u32>,
    /// The capture's sessions among `visible`, in display order (with a log attached; without,
    /// `visible` is that).
    visible_trace: Vec<u32>,
    /// The mailbox log attached to the capture.
    log: Option<Arc<Attached>>,
    /// Rows matching the filter, before sorting (`None` = every session).
    filtered: Option<Vec<u32>>,
    pub selected: Option<u32>,
    sort: SortColumn,
    ascending: bool,
    scroll_to_selected: bool,
    /// A scroll position (in rows) to jump to on the next frame (bench mode).
    scroll_offset_rows: Option<usize>,
    page_rows: usize,
    /// The first display row drawn in the last frame (where the table is scrolled to).
    pub first_row_shown: Option<usize>,
    /// Columns the user hid (by name; kept in the preferences).
    pub hidden_columns: Vec<String>,
    /// The capture spans more than one day: the Time column shows dates.
    dated: bool,
}

impl Default for SessionsPanel {
    fn default() -> Self {
        SessionsPanel {
            visible: Vec::new(),
            visible_trace: Vec::new(),
            log: None,
            filtered: None,
            selected: None,
            sort: SortColumn::Index,
            ascending: true,
            scroll_to_selected: false,
            scroll_offset_rows: None,
            page_rows: 10,
            first_row_shown: None,
            hidden_columns: Vec::new(),
            dated: false,
        }
    }
}

const ROW_HEIGHT: f32 = 20.0;

impl SessionsPanel {
    /// A new capture: every session visible, nothing selected.
    /// `folders`: the capture's folder names (from its analysis), shown and sorted by in the
    /// Folder column.
    pub fn reset(&mut self, capture: &Capture, folders: Option<&FolderNames>) {
        *self = SessionsPanel {
            sort: self.sort,
            ascending: self.ascending,
            log: self.log.take(),
            hidden_columns: std::mem::take(&mut self.hidden_columns),
            dated: spans_days(capture),
            ..SessionsPanel::default()
        };
        self.rebuild(capture, folders);
    }

    /// Restricts the rows to `rows` (positions in `Capture::sessions`); `None` shows every session.
    /// A selection the rows hide is dropped; the table scrolls to the selection, or to the top.
    pub fn set_filter(&mut self, capture: &Capture, folders: Option<&FolderNames>, rows: Option<Vec<u32>>) {
        self.filtered = rows;
        self.rebuild(capture, folders);
        if self.selected.is_some_and(|s| !self.visible.contains(&s)) {
            self.selected = None;
        }
        if self.selected.is_none() {
            self.scroll_to_top();
        }
    }

    /// True when the filter hides row `i`.
    pub fn hides(&self, i: u32) -> bool {
        self.filtered.is_some() && !self.visible.contains(&i)
    }

    /// Shows the first rows on the next frame.
    pub fn scroll_to_top(&mut self) {
        self.scroll_offset_rows = Some(0);
    }

    /// The mailbox log attached to the capture (`None`: removed, or another capture); the rows are
    /// rebuilt by the [`SessionsPanel::set_filter`] that follows.
    pub fn set_log(&mut self, log: Option<Arc<Attached>>) {
        if self.log.is_some() && self.sort == SortColumn::Log && log.is_none() {
            self.sort = SortColumn::Index;
        }
        self.log = log;
        if self.selected.is_some_and(|s| s & LOG_ROW != 0) {
            self.selected = None;
        }
    }

    /// The mailbox log shown in the table.
    pub fn log(&self) -> Option<&Arc<Attached>> {
        self.log.as_ref()
    }

    /// The capture's sessions among the visible rows (the log-only entries left out).
    pub fn trace_rows(&self) -> &[u32] {
        if self.log.is_some() {
            &self.visible_trace
        } else {
            &self.visible
        }
    }

    fn rebuild(&mut self, capture: &Capture, folders: Option<&FolderNames>) {
        let log = self.log.as_deref();
        let mut rows = match &self.filtered {
            Some(r) => r.clone(),
            None => (0..capture.sessions.len() as u32)
                .chain(log.into_iter().flat_map(Attached::log_only_rows))
                .collect(),
        };
        let empty = easlens_core::capture::Session::new(0);
        let key = |i: &u32| row_session(capture, log, *i).unwrap_or(&empty);
        match (self.sort, log) {
            // With a log, the capture's order and the log-only entries in between: time order.
            (SortColumn::Index | SortColumn::Time, Some(a)) => rows.sort_by_key(|i| (a.rank(*i), *i)),
            (SortColumn::Log, Some(a)) => rows.sort_by_key(|i| (a.kind(*i).map(|k| k as u8), a.rank(*i))),
            (SortColumn::Log, None) => rows.sort_by_key(|i| key(i).index),
            (SortColumn::Index, None) => rows.sort_by_key(|i| key(i).index),
            (SortColumn::Time, None) => rows.sort_by_key(|i| key(i).timers.started()),
            _ => {}
        }
        match self.sort {
            SortColumn::Index | SortColumn::Time | SortColumn::Log => {}
            SortColumn::Duration => rows.sort_by(|a, b| {
                let d = |i: &u32| key(i).timers.duration_ms().unwrap_or(-1.0);
                d(a).total_cmp(&d(b))
            }),
            SortColumn::Command => {
                rows.sort_by_cached_key(|i| key(i).command_label(LabelStyle::WINDOW).to_ascii_lowercase())
            }
            SortColumn::Folder => rows.sort_by_cached_key(|i| folder_labels(key(i), folders)),
            SortColumn::Http => rows.sort_by_key(|i| key(i).http_status()),
            SortColumn::EasStatus => rows.sort_by_key(|i| {
                worst_status(key(i)).map(|s| (s.verdict != Verdict::Failure, s.value.unwrap_or(u32::MAX)))
            }),
            SortColumn::Throttle => rows.sort_by_cached_key(|i| throttle_label(key(i))),
            SortColumn::RequestSize => rows.sort_by_key(|i| request_size(key(i))),
            SortColumn::ResponseSize => rows.sort_by_key(|i| response_size(key(i))),
            SortColumn::Device => rows.sort_by_cached_key(|i| device_label(key(i))),
            SortColumn::Url => rows.sort_by_cached_key(|i| url_label(key(i))),
        }
        if !self.ascending {
            rows.reverse();
        }
        self.visible_trace = if log.is_some() {
            rows.iter().copied().filter(|i| i & LOG_ROW == 0).collect()
        } else {
            Vec::new()
        };
        self.visible = rows;
        if self.selected.is_some() {
            self.scroll_to_selected = true;
        }
    }

    /// Rows that fit in the table's height (a PgUp/PgDn step).
    pub fn page_rows(&self) -> usize {
        self.page_rows
    }

    /// Scrolls so that display row `row` is at the top, without selecting (wraps around).
    pub fn scroll_to_offset_rows(&mut self, row: usize) {
        let n = self.visible.len().saturating_sub(self.page_rows).max(1);
        self.scroll_offset_rows = Some(row % n);
    }

    /// Selects session `index` (position in `Capture::sessions`) and scrolls to it.
    pub fn select(&mut self, index: u32) {
        self.selected = Some(index);
        self.scroll_to_selected = true;
    }

    /// Selects the row at display position `pos` (clamped).
    fn select_pos(&mut self, pos: usize) {
        if let Some(&i) = self.visible.get(pos.min(self.visible.len().saturating_sub(1))) {
            self.selected = Some(i);
            self.scroll_to_selected = true;
        }
    }

    /// Selects the next (`forward`) or previous highlighted row after (before) the selection,
    /// from the top (bottom) without one; false when there is none.
    pub fn select_problem(&mut self, capture: &Capture, forward: bool) -> bool {
        let problem =
            |&&i: &&u32| i & LOG_ROW == 0 && capture.sessions.get(i as usize).and_then(main_highlight).is_some();
        let found = match (self.selected_pos(), forward) {
            (Some(p), true) => self.visible[p + 1..].iter().find(problem),
            (Some(p), false) => self.visible[..p].iter().rev().find(problem),
            (None, true) => self.visible.iter().find(problem),
            (None, false) => self.visible.iter().rev().find(problem),
        };
        match found.copied() {
            Some(i) => {
                self.select(i);
                true
            }
            None => false,
        }
    }

    fn selected_pos(&self) -> Option<usize> {
        let s = self.selected?;
        self.visible.iter().position(|&i| i == s)
    }

    /// ↑/↓/PgUp/PgDn/Home/End move the selection unless a text field has the keyboard.
    fn keyboard(&mut self, ui: &egui::Ui) {
        // Only a text field keeps the keys; a clicked row (or button) having the focus must not.
        // A pass egui runs again sees the same key events: move once.
        if self.visible.is_empty() || ui.ctx().text_edit_focused() || ui.ctx().current_pass_index() > 0 {
            return;
        }
        let last = self.visible.len() - 1;
        let page = self.page_rows.max(1);
        let cur = self.selected_pos();
        let target = ui.input_mut(|i| {
            let mut t = None;
            if i.consume_key(Modifiers::NONE, Key::ArrowDown) {
                t = Some(cur.map_or(0, |c| (c + 1).min(last)));
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowUp) {
                t = Some(cur.map_or(0, |c| c.saturating_sub(1)));
            }
            if i.consume_key(Modifiers::NONE, Key::PageDown) {
                t = Some(cur.map_or(0, |c| (c + page).min(last)));
            }
            if i.consume_key(Modifiers::NONE, Key::PageUp) {
                t = Some(cur.map_or(0, |c| c.saturating_sub(page)));
            }
            if i.consume_key(Modifiers::NONE, Key::Home) {
                t = Some(0);
            }
            if i.consume_key(Modifiers::NONE, Key::End) {
                t = Some(last);
            }
            t
        });
        if let Some(t) = target {
            self.select_pos(t);
            // egui would otherwise also move the focus between widgets with the arrow keys.
            ui.ctx().memory_mut(|m| {
                if let Some(id) = m.focused() {
                    m.surrender_focus(id);
                }
            });
        }
    }

    /// The highlight legend (one glyph and colour per reason).
    pub fn legend(ui: &mut egui::Ui) {
        let dark = ui.visuals().dark_mode;
        for h in [Highlight::Http, Highlight::Throttle, Highlight::Status] {
            let (g, name) = highlight_glyph(h);
            ui.label(RichText::new(format!("{g} {name}")).color(highlight_color(h, dark)));
        }
        let (g, _) = highlight_glyph(Highlight::Http);
        ui.label(RichText::new(format!("{g} redirect (3xx)")).color(redirect_color(dark)))
            .on_hover_text("A 3xx answer (e.g. autodiscover's redirect): not a failure by itself");
    }

    /// The columns shown, in order (the Log column only with a log attached).
    fn shown_columns(&self) -> Vec<SortColumn> {
        let log = self.log.is_some();
        COLUMNS
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| *c != SortColumn::Log || log)
            .filter(|c| !self.hidden_columns.iter().any(|h| h == column_name(*c)))
            .collect()
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, capture: &Capture, folders: Option<&FolderNames>, out: &mut Commands) {
        if self.visible.is_empty() && self.filtered.is_some() {
            // Instead of the table (a label after it would grow the resizable panel every frame).
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new("No session matches the filter.").weak());
            });
            return;
        }
        self.keyboard(ui);
        let dark = ui.visuals().dark_mode;
        let available = ui.available_height();
        self.page_rows = ((available - ROW_HEIGHT) / ROW_HEIGHT).floor().max(1.0) as usize;
        let row_pitch = ROW_HEIGHT + ui.spacing().item_spacing.y;
        let columns = self.shown_columns();
        // Narrow data columns as wide as their widest value; the URL (or the last column shown)
        // takes the rest of the window.
        let widths = ColumnWidths::measure(ui, capture, self.dated);
        let initial = widths.fit(&columns, ui.available_width(), ui.spacing().item_spacing.x);
        // Their widths are kept per set of columns (hiding one does not resize the others).
        let mut table = TableBuilder::new(ui)
            .id_salt(("sessions", &columns))
            .striped(true)
            .resizable(true)
            .sense(Sense::click())
            .auto_shrink([false, false])
            .max_scroll_height(available)
            .min_scrolled_height(0.0)
            .cell_layout(egui::Layout::left_to_right(Align::Center))
            .column(Column::exact(22.0)); // highlight glyph
        for (k, (w, least)) in initial.iter().enumerate() {
            table = table.column(if k + 1 == columns.len() {
                Column::remainder().at_least(60.0)
            } else {
                Column::initial(*w).at_least(*least).clip(true)
            });
        }
        if let Some(r) = self.scroll_offset_rows.take() {
            table = table.vertical_scroll_offset(r as f32 * row_pitch);
        }
        if self.scroll_to_selected {
            if let Some(pos) = self.selected_pos() {
                table = table.scroll_to_row(pos, None);
            }
            self.scroll_to_selected = false;
        }
        let log = self.log.clone();
        let log = log.as_deref();
        let mut clicked_sort = None;
        let mut clicked_row = None;
        let mut toggled = None;
        let empty = easlens_core::capture::Session::new(0);
        // The capture's zone: a log-only entry's time is shown in it.
        let zone = log.and_then(|_| {
            capture
                .sessions
                .iter()
                .find_map(|s| s.timers.started())
                .map(|t| *t.offset())
        });
        let time_format = if self.dated {
            "%Y-%m-%d %H:%M:%S%.3f"
        } else {
            "%H:%M:%S%.3f"
        };
        let hidden = self.hidden_columns.clone();
        table
            .header(ROW_HEIGHT + 2.0, |mut header| {
                header.col(|ui| {
                    ui.label(RichText::new("!").strong())
                        .on_hover_text("Why the session is highlighted");
                });
                for col in &columns {
                    let name = column_name(*col);
                    header.col(|ui| {
                        let arrow = match (self.sort == *col, self.ascending) {
                            (true, true) => " ▲",
                            (true, false) => " ▼",
                            _ => "",
                        };
                        let b = egui::Button::new(RichText::new(format!("{name}{arrow}")).strong()).frame(false);
                        let r = ui
                            .add(b)
                            .on_hover_text(format!("Sort by {name} (right-click: choose the columns)"));
                        if r.clicked() {
                            clicked_sort = Some(*col);
                        }
                        r.context_menu(|ui| {
                            if let Some(c) = column_menu(ui, &hidden) {
                                toggled = Some(c);
                            }
                        });
                    });
                }
            })
            .body(|body| {
                self.first_row_shown = None;
                body.rows(ROW_HEIGHT, self.visible.len(), |mut row| {
                    let pos = row.index();
                    self.first_row_shown = Some(self.first_row_shown.map_or(pos, |f| f.min(pos)));
                    let i = self.visible[pos];
                    let s = row_session(capture, log, i).unwrap_or(&empty);
                    let log_row = i & LOG_ROW != 0;
                    let tint = log_row.then(|| log_only_tint(dark));
                    row.set_selected(self.selected == Some(i));
                    let hl = main_highlight(s);
                    let color = hl.map(|h| row_color(s, h, dark));
                    let text = |t: String| match color {
                        Some(c) => RichText::new(t).color(c),
                        None => RichText::new(t),
                    };
                    // One cell: its text cut to the column, and what it says in full on hover —
                    // built only while hovered, not for every visible row every frame.
                    let cell = |row: &mut egui_extras::TableRow<'_, '_>,
                                t: RichText,
                                hover: &dyn Fn() -> Option<String>| {
                        row.col(|ui| {
                            ui.style_mut().interaction.selectable_labels = false;
                            paint_tint(ui, tint);
                            let r = ui.add(egui::Label::new(t).truncate());
                            if r.hovered()
                                && let Some(h) = hover()
                            {
                                r.on_hover_text(h);
                            }
                        });
                    };
                    row.col(|ui| {
                        ui.style_mut().interaction.selectable_labels = false;
                        paint_tint(ui, tint);
                        if let Some(h) = hl {
                            // Every reason of an EAS session; the HTTP answer of any other one.
                            let reasons = s.eas.as_ref().map_or(vec![h], |e| e.highlights.to_vec());
                            let mut tip = Vec::new();
                            let mut glyphs = String::new();
                            for h in reasons {
                                let (g, name) = highlight_glyph(h);
                                glyphs.push_str(g);
                                tip.push(name);
                            }
                            ui.label(RichText::new(glyphs).color(row_color(s, h, dark)).strong())
                                .on_hover_text(tip.join(", "));
                        }
                    });
                    // A log-only entry at its place in the capture's clock (the log's own on hover).
                    let shift = match (log, log_row) {
                        (Some(a), true) => chrono::Duration::seconds(a.alignment.clock_offset_seconds),
                        _ => chrono::Duration::zero(),
                    };
                    let started = s.timers.started();
                    for col in &columns {
                        match col {
                            SortColumn::Index if log_row => {
                                let hover = || {
                                    let id = easlens_core::readers::mailbox_log::identifier(s).unwrap_or_default();
                                    Some(format!("Mailbox log entry {} (Identifier {id})", s.index))
                                };
                                cell(&mut row, RichText::new("log").italics().weak(), &hover);
                            }
                            SortColumn::Index => cell(&mut row, text(s.index.to_string()), &|| None),
                            SortColumn::Log => {
                                let kind = log.and_then(|a| a.kind(i));
                                let (label, tip) = log_label(kind);
                                let t = match log_color(kind, dark) {
                                    Some(c) => RichText::new(label).color(c),
                                    None => RichText::new(label),
                                };
                                let t = if log_row { t.strong() } else { t };
                                cell(&mut row, t, &|| Some(tip.to_string()));
                            }
                            SortColumn::Time => {
                                let t = started.map(|t| t - shift);
                                let shown = t
                                    .map(|t| match (log_row, zone) {
                                        (true, Some(z)) => t.with_timezone(&z).format(time_format).to_string(),
                                        _ => t.format(time_format).to_string(),
                                    })
                                    .unwrap_or_default();
                                // The date, always on hover.
                                let hover = || match (log_row, started) {
                                    (true, Some(t)) => Some(format!(
                                        "Logged at {} (the log's clock, {} from the capture's)",
                                        t.format("%Y-%m-%d %H:%M:%S"),
                                        log.map(Attached::offset_label).unwrap_or_default()
                                    )),
                                    (false, Some(t)) => Some(t.format("%Y-%m-%d %H:%M:%S%.3f (UTC%:z)").to_string()),
                                    _ => None,
                                };
                                cell(&mut row, text(shown), &hover);
                            }
                            SortColumn::Duration => {
                                let dur = s.timers.duration_ms().map(format_duration).unwrap_or_default();
                                cell(&mut row, text(dur), &|| None);
                            }
                            SortColumn::Command => cell(&mut row, text(s.command_label(LabelStyle::WINDOW)), &|| None),
                            SortColumn::Folder => {
                                let f = folder_labels(s, folders);
                                let hover = || {
                                    let f = folder_labels(s, folders);
                                    f.contains('(')
                                        .then(|| format!("CollectionId (folder name from FolderSync): {f}"))
                                };
                                cell(&mut row, text(f), &hover);
                            }
                            SortColumn::Http => match s.http_status() {
                                Some(code) => {
                                    let hover = || {
                                        http_meaning_for(code, s.eas.is_some())
                                            .map(|m| format!("{code} {}: {}", m.name, m.meaning))
                                    };
                                    cell(&mut row, text(code.to_string()), &hover);
                                }
                                None if s.flags.aborted => cell(&mut row, text("aborted".into()), &|| None),
                                None => cell(&mut row, text("—".into()), &|| None),
                            },
                            SortColumn::EasStatus => {
                                row.col(|ui| {
                                    ui.style_mut().interaction.selectable_labels = false;
                                    paint_tint(ui, tint);
                                    status_cell(ui, s, color, dark);
                                });
                            }
                            SortColumn::Throttle => {
                                let t = throttle_label(s);
                                let hover = || {
                                    let t = throttle_label(s);
                                    (!t.is_empty()).then(|| {
                                        format!(
                                            "X-MS-ASThrottle / Retry-After: {t}\nExchange denied the request; the device must back off"
                                        )
                                    })
                                };
                                cell(&mut row, text(t), &hover);
                            }
                            SortColumn::RequestSize => {
                                let req = s.request.as_ref().map(|_| format_size(request_size(s)));
                                cell(&mut row, text(req.unwrap_or_default()), &|| None);
                            }
                            SortColumn::ResponseSize => {
                                let resp = s.response.as_ref().map(|_| format_size(response_size(s)));
                                cell(&mut row, text(resp.unwrap_or_default()), &|| None);
                            }
                            SortColumn::Device => {
                                let hover = || Some(device_label(s)).filter(|d| !d.is_empty());
                                cell(&mut row, text(device_label(s)), &hover);
                            }
                            SortColumn::Url => {
                                let full = || s.request.as_ref().map(|r| r.url().into_owned());
                                cell(&mut row, text(url_label(s)), &full);
                            }
                        }
                    }
                    if row.response().clicked() {
                        clicked_row = Some(i);
                    }
                    compare_menu(&row.response(), i, self.selected, out);
                });
            });
        if let Some(c) = toggled {
            let name = column_name(c).to_string();
            match self.hidden_columns.iter().position(|h| *h == name) {
                Some(k) => {
                    self.hidden_columns.remove(k);
                }
                None => self.hidden_columns.push(name),
            }
        }
        if let Some(col) = clicked_sort {
            if self.sort == col {
                self.ascending = !self.ascending;
            } else {
                self.sort = col;
                self.ascending = true;
            }
            self.rebuild(capture, folders);
        }
        if let Some(i) = clicked_row {
            self.selected = Some(i);
        }
    }
}

/// True when the sessions start on more than one day (in the capture's own offsets).
fn spans_days(capture: &Capture) -> bool {
    let mut days = capture
        .sessions
        .iter()
        .filter_map(|s| s.timers.started())
        .map(|t| t.date_naive());
    let Some(first) = days.next() else { return false };
    days.any(|d| d != first)
}

/// The EAS status cell: the Status that matters most, each response Status on hover.
fn status_cell(ui: &mut egui::Ui, s: &Session, color: Option<Color32>, dark: bool) {
    let Some(st) = worst_status(s) else { return };
    let label = match st.name {
        Some(n) => format!("{} {n}", st.raw),
        None => st.raw.to_string(),
    };
    let c = match st.verdict {
        Verdict::Failure => Some(highlight_color(Highlight::Status, dark)),
        _ => color,
    };
    let rt = match c {
        Some(c) => RichText::new(label).color(c),
        None => RichText::new(label),
    };
    // Built only while hovered: formatting every Status of every visible row each frame would
    // cost more than drawing the table.
    ui.add(egui::Label::new(rt).truncate()).on_hover_ui(|ui| {
        for e in s.eas.iter().flat_map(|e| e.statuses.iter()) {
            if e.side == Side::Response {
                ui.label(format!(
                    "{} = {} {}: {}",
                    e.path,
                    e.raw,
                    e.name.unwrap_or(""),
                    e.meaning.unwrap_or("no meaning known for this command")
                ));
            }
        }
    });
}

/// The header's context menu: a check box per column (the Log column comes with a log, and one
/// column always stays). Returns the column toggled.
fn column_menu(ui: &mut egui::Ui, hidden: &[String]) -> Option<SortColumn> {
    ui.label(RichText::new("Columns").strong());
    let mut toggled = None;
    let shown = COLUMNS.len() - 1 - hidden.len();
    for (c, name) in COLUMNS {
        if c == SortColumn::Log {
            continue;
        }
        let mut on = !hidden.iter().any(|h| h == name);
        let last = on && shown <= 1;
        if ui.add_enabled(!last, egui::Checkbox::new(&mut on, name)).changed() {
            toggled = Some(c);
        }
    }
    toggled
}

/// The name of column `c` (its header, and how the preferences remember it hidden).
pub fn column_name(c: SortColumn) -> &'static str {
    COLUMNS.iter().find(|(k, _)| *k == c).map_or("", |(_, n)| n)
}

/// The starting widths of the columns, from the widest value each can show.
struct ColumnWidths {
    index: f32,
    time: f32,
    duration: f32,
    http: f32,
    size: f32,
}

impl ColumnWidths {
    fn measure(ui: &egui::Ui, capture: &Capture, dated: bool) -> ColumnWidths {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let width = |t: &str| {
            ui.painter()
                .layout_no_wrap(t.to_string(), font.clone(), Color32::WHITE)
                .size()
                .x
                + 14.0
        };
        let digits = capture
            .sessions
            .last()
            .map_or(1, |s| s.index.max(1).ilog10() as usize + 1);
        let time = if dated {
            "2088-08-28 00:00:00.000"
        } else {
            "00:00:00.000"
        };
        ColumnWidths {
            index: width(&"8".repeat(digits.max(2))),
            time: width(time),
            duration: width("888.8 s"),
            http: width("aborted"),
            size: width("888.8 KB"),
        }
    }

    /// The starting width and the least width of column `c`.
    fn of(&self, c: SortColumn) -> (f32, f32) {
        match c {
            SortColumn::Index => (self.index, 30.0),
            SortColumn::Log => (74.0, 40.0),
            SortColumn::Time => (self.time, 40.0),
            SortColumn::Duration => (self.duration, 40.0),
            SortColumn::Command => (110.0, 60.0),
            SortColumn::Folder => (100.0, 40.0),
            SortColumn::Http => (self.http, 36.0),
            SortColumn::EasStatus => (140.0, 60.0),
            SortColumn::Throttle => (80.0, 40.0),
            SortColumn::RequestSize | SortColumn::ResponseSize => (self.size, 40.0),
            SortColumn::Device => (150.0, 60.0),
            SortColumn::Url => (200.0, 60.0),
        }
    }

    /// The starting (width, least width) of `columns` in a table `available` wide: when they do
    /// not fit, the text columns (command, folder, status, throttle, device) give up width down
    /// to their least, so that the last column (the URL) keeps its place on a narrow window.
    fn fit(&self, columns: &[SortColumn], available: f32, spacing: f32) -> Vec<(f32, f32)> {
        let mut out: Vec<(f32, f32)> = columns.iter().map(|c| self.of(*c)).collect();
        let flexible = |c: &SortColumn| {
            matches!(
                c,
                SortColumn::Command
                    | SortColumn::Folder
                    | SortColumn::EasStatus
                    | SortColumn::Throttle
                    | SortColumn::Device
            )
        };
        // The glyph column and the spacing between every pair of columns.
        let fixed = 22.0 + spacing * (columns.len() as f32 + 1.0);
        let last_least = out.last().map_or(0.0, |w| w.1);
        let wanted: f32 = out[..out.len().saturating_sub(1)].iter().map(|w| w.0).sum::<f32>() + last_least + fixed;
        let over = wanted - available;
        let give: f32 = columns
            .iter()
            .zip(&out)
            .filter(|(c, _)| flexible(c))
            .map(|(_, (w, least))| w - least)
            .sum();
        if over > 0.0 && give > 0.0 {
            let share = (over / give).min(1.0);
            for (c, (w, least)) in columns.iter().zip(out.iter_mut()) {
                if flexible(c) {
                    *w -= (*w - *least) * share;
                }
            }
        }
        out
    }
}

/// A row's right-click menu: "Compare with selected session" (the selected one on the left).
fn compare_menu(response: &egui::Response, row: u32, selected: Option<u32>, out: &mut Commands) {
    response.context_menu(|ui| {
        let trace = |i: u32| (i & LOG_ROW == 0).then_some(i);
        let pair = selected.and_then(trace).zip(trace(row)).filter(|(s, r)| s != r);
        if ui
            .add_enabled(pair.is_some(), egui::Button::new("Compare with selected session"))
            .on_disabled_hover_text("Select another session of the capture first (a log-only entry cannot be compared)")
            .clicked()
            && let Some((left, right)) = pair
        {
            out.push(AppCommand::Compare(left, right));
            ui.close();
        }
    });
}

/// The log-only rows' tint, under the cell's content.
fn paint_tint(ui: &egui::Ui, tint: Option<Color32>) {
    if let Some(c) = tint {
        ui.painter()
            .rect_filled(ui.max_rect().expand2(egui::vec2(4.0, 1.0)), 0.0, c);
    }
}
