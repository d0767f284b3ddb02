//! The Statistics view: the engine's [`Statistics`] of the capture shown (per device and command:
//! sessions, outcomes, median and p95 duration, the Pings' heartbeat and gaps, bytes), computed
//! once per capture by the `statistics` job, in a sortable table. A click on a row filters the
//! session table to its sessions; "Export CSV…" writes it (both pushed as [`AppCommand`]s).

use eframe::egui;
use std::cmp::Ordering;
use std::sync::Arc;

use egui::{Align, Color32, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::command::{AppCommand, Commands};
use super::jobs::{self, Job, Poll};
use super::sessions::{format_duration, format_size, highlight_color};
use easlens_core::analysis::statistics::{Row, Spread, Statistics};
use easlens_core::capture::Capture;
use easlens_core::eas::session::Highlight;
use easlens_core::numbers::group_thousands;

const ROW_HEIGHT: f32 = 20.0;

/// A column: what its header says, how it sorts, its width, and whether its cells are numbers
/// (right-aligned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Device,
    Command,
    Sessions,
    Ok,
    HttpError,
    EasFailure,
    Throttled,
    NoResponse,
    Median,
    P95,
    Heartbeat,
    PingGap,
    Sent,
    Received,
}

const COLUMNS: [(SortColumn, &str, f32, &str); 14] = [
    (
        SortColumn::Device,
        "Device",
        180.0,
        "DeviceType DeviceId, as the session table shows it",
    ),
    (
        SortColumn::Command,
        "Command",
        110.0,
        "The EAS command (else the HTTP method); “(all commands)”: the device's total",
    ),
    (SortColumn::Sessions, "Sessions", 66.0, "How many sessions"),
    (SortColumn::Ok, "OK", 56.0, "2xx without a failing EAS Status"),
    (
        SortColumn::HttpError,
        "HTTP err",
        62.0,
        "Non-2xx HTTP status (not throttled)",
    ),
    (
        SortColumn::EasFailure,
        "EAS fail",
        62.0,
        "2xx with a Status that means failure for the command",
    ),
    (
        SortColumn::Throttled,
        "Throttled",
        66.0,
        "X-MS-ASThrottle on the response",
    ),
    (
        SortColumn::NoResponse,
        "No resp",
        60.0,
        "Aborted, or ended without a response",
    ),
    (SortColumn::Median, "Median", 70.0, "Median duration (nearest rank)"),
    (
        SortColumn::P95,
        "p95",
        70.0,
        "95th percentile of the durations (nearest rank: the smallest duration at least 95 % of them do not exceed)",
    ),
    (
        SortColumn::Heartbeat,
        "Heartbeat",
        120.0,
        "Ping: the HeartbeatInterval the device asked for, median (min–max); Pings with an empty body repeat the last one and are not counted",
    ),
    (
        SortColumn::PingGap,
        "Ping gap",
        130.0,
        "Ping: time from the start of one Ping of the device to the start of its next, median (min–max)",
    ),
    (
        SortColumn::Sent,
        "Sent",
        74.0,
        "Request bodies, as the capture stores them",
    ),
    (
        SortColumn::Received,
        "Received",
        74.0,
        "Response bodies, as the capture stores them",
    ),
];

/// The statistics of the capture shown, and how the table is sorted.
#[derive(Default)]
pub struct StatisticsPanel {
    /// The capture the statistics are (being) computed for: its `Arc`'s address.
    of: Option<usize>,
    statistics: Option<Arc<Statistics>>,
    job: Option<Job<Statistics>>,
    /// The column sorted by and whether ascending; `None`: the engine's order (device, then the
    /// most frequent command first, each device's total first).
    sort: Option<(SortColumn, bool)>,
    /// Positions in `statistics.rows`, in the order shown.
    order: Vec<usize>,
    /// The row last clicked (a position in `statistics.rows`).
    selected: Option<usize>,
}

/// The address that identifies a capture while it is shown.
fn key(capture: &Arc<Capture>) -> usize {
    Arc::as_ptr(capture) as usize
}

impl StatisticsPanel {
    /// Another capture is shown: its statistics are computed again when the view is opened.
    pub fn clear(&mut self) {
        *self = StatisticsPanel {
            sort: self.sort,
            ..StatisticsPanel::default()
        };
    }

    /// The statistics shown, once computed, and the order of their rows on screen (positions in
    /// `rows`).
    pub fn shown(&self) -> Option<(&Statistics, &[usize])> {
        self.statistics.as_deref().map(|s| (s, &self.order[..]))
    }

    /// The statistics of `capture`, once computed.
    pub fn statistics_of(&self, capture: &Arc<Capture>) -> Option<Arc<Statistics>> {
        self.statistics.clone().filter(|_| self.of == Some(key(capture)))
    }

    /// Starts the `statistics` job for `capture` unless it is the one computed (or being).
    fn ensure(&mut self, capture: &Arc<Capture>, ctx: &egui::Context) {
        if self.of == Some(key(capture)) {
            return;
        }
        self.of = Some(key(capture));
        self.statistics = None;
        self.selected = None;
        let c = capture.clone();
        self.job = Some(Job::start("statistics", ctx, move |_| Statistics::of(&c)));
    }

    fn poll(&mut self) {
        let Some(job) = &mut self.job else { return };
        match job.poll() {
            Poll::Pending => {}
            Poll::Ready(st) => {
                self.job = None;
                self.statistics = Some(Arc::new(st));
                self.sort_rows();
            }
            Poll::Lost => self.job = None,
        }
    }

    fn sort_rows(&mut self) {
        let Some(st) = &self.statistics else { return };
        self.order = (0..st.rows.len()).collect();
        if let Some((column, ascending)) = self.sort {
            self.order.sort_by(|&a, &b| {
                let o = compare(column, &st.rows[a], &st.rows[b]);
                if ascending { o } else { o.reverse() }
            });
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, capture: &Arc<Capture>, out: &mut Commands) {
        self.ensure(capture, ui.ctx());
        self.poll();
        let Some(st) = self.statistics.clone() else {
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label("Counting the sessions per device and command…");
            });
            return;
        };
        let devices = st.rows.iter().filter(|r| r.command.is_none()).count();
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} session{} · {} device{} · {} command row{}",
                group_thousands(capture.sessions.len() as u64),
                plural(capture.sessions.len()),
                devices,
                plural(devices),
                st.rows.len() - devices,
                plural(st.rows.len() - devices),
            ));
            ui.label(RichText::new("Click a row to filter the sessions to it").weak());
            if ui
                .button("Export CSV…")
                .on_hover_text("Write these rows as CSV (what the table shows, as plain numbers)")
                .clicked()
            {
                out.push(AppCommand::ExportStatistics);
            }
        });
        if st.rows.is_empty() {
            ui.label(RichText::new("No session in this capture.").weak());
            return;
        }
        let dark = ui.visuals().dark_mode;
        let mut clicked_sort = None;
        let mut clicked_row = None;
        // Wider than the view at 1024 px: the table scrolls sideways as well as down.
        egui::ScrollArea::horizontal().id_salt("statistics-h").show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt("statistics")
                .striped(true)
                .resizable(true)
                .sense(Sense::click())
                .auto_shrink([false, false])
                .min_scrolled_height(0.0)
                .cell_layout(egui::Layout::left_to_right(Align::Center));
            for (_, _, width, _) in COLUMNS {
                table = table.column(Column::initial(width).at_least(36.0).clip(true));
            }
            table
                .header(ROW_HEIGHT + 2.0, |mut header| {
                    for (column, name, _, tip) in COLUMNS {
                        header.col(|ui| {
                            let arrow = match self.sort {
                                Some((c, true)) if c == column => " ▲",
                                Some((c, false)) if c == column => " ▼",
                                _ => "",
                            };
                            let b = egui::Button::new(RichText::new(format!("{name}{arrow}")).strong()).frame(false);
                            if ui.add(b).on_hover_text(format!("{tip}. Click to sort")).clicked() {
                                clicked_sort = Some(column);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(ROW_HEIGHT, self.order.len(), |mut row| {
                        let k = self.order[row.index()];
                        let r = &st.rows[k];
                        row.set_selected(self.selected == Some(k));
                        let total = r.command.is_none();
                        let strong = |t: RichText| if total { t.strong() } else { t };
                        text_cell(&mut row, strong(RichText::new(&r.device)), false);
                        text_cell(&mut row, strong(RichText::new(r.command_label())), false);
                        text_cell(&mut row, strong(RichText::new(group_thousands(r.count))), true);
                        let o = r.outcomes;
                        text_cell(&mut row, RichText::new(group_thousands(o.ok)), true);
                        for (n, h) in [
                            (o.http_error, Highlight::Http),
                            (o.eas_failure, Highlight::Status),
                            (o.throttled, Highlight::Throttle),
                            (o.no_response, Highlight::Http),
                        ] {
                            text_cell(&mut row, failing(n, highlight_color(h, dark)), true);
                        }
                        text_cell(&mut row, RichText::new(duration(r.median_ms)), true);
                        text_cell(&mut row, RichText::new(duration(r.p95_ms)), true);
                        spread_cell(&mut row, r.heartbeat_s, "Pings that sent a HeartbeatInterval");
                        spread_cell(&mut row, r.ping_gap_s, "gaps between Pings");
                        text_cell(&mut row, RichText::new(format_size(r.bytes_sent)), true);
                        text_cell(&mut row, RichText::new(format_size(r.bytes_received)), true);
                        if row.response().clicked() {
                            clicked_row = Some(k);
                        }
                    });
                });
        });
        if let Some(column) = clicked_sort {
            self.sort = match self.sort {
                Some((c, ascending)) if c == column => Some((c, !ascending)),
                // Numbers read best largest first, names from A.
                _ => Some((column, matches!(column, SortColumn::Device | SortColumn::Command))),
            };
            self.sort_rows();
        }
        if let Some(k) = clicked_row {
            self.selected = Some(k);
            out.push(AppCommand::SetFilter(st.rows[k].filter_query()));
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A cell of one label (right-aligned for numbers), which lets the row take the click.
fn text_cell(row: &mut egui_extras::TableRow<'_, '_>, text: RichText, number: bool) {
    row.col(|ui| {
        ui.style_mut().interaction.selectable_labels = false;
        let layout = if number {
            egui::Layout::right_to_left(Align::Center)
        } else {
            egui::Layout::left_to_right(Align::Center)
        };
        ui.with_layout(layout, |ui| {
            ui.add(egui::Label::new(text).truncate());
        });
    });
}

/// A count of failing sessions: in its highlight colour unless zero.
fn failing(n: u64, color: Color32) -> RichText {
    let t = RichText::new(group_thousands(n));
    if n == 0 { t.weak() } else { t.color(color).strong() }
}

fn duration(ms: Option<f64>) -> String {
    ms.map(format_duration).unwrap_or_default()
}

/// `median (min–max)` in seconds, or the one value; the counts on hover.
fn spread_cell(row: &mut egui_extras::TableRow<'_, '_>, spread: Option<Spread>, what: &str) {
    row.col(|ui| {
        ui.style_mut().interaction.selectable_labels = false;
        let Some(s) = spread else { return };
        let secs = |v: f64| format_duration(v * 1000.0);
        let text = if s.min == s.max {
            secs(s.median)
        } else {
            format!("{} ({}–{})", secs(s.median), secs(s.min), secs(s.max))
        };
        ui.with_layout(egui::Layout::right_to_left(Align::Center), |ui| {
            ui.add(egui::Label::new(text).truncate()).on_hover_text(format!(
                "{} {what}: min {}, median {}, max {}",
                group_thousands(s.n as u64),
                secs(s.min),
                secs(s.median),
                secs(s.max)
            ));
        });
    });
}

/// How two rows compare on `column` (no value sorts before any value).
fn compare(column: SortColumn, a: &Row, b: &Row) -> Ordering {
    let f = |v: Option<f64>, w: Option<f64>| match (v, w) {
        (Some(v), Some(w)) => v.total_cmp(&w),
        (v, w) => v.is_some().cmp(&w.is_some()),
    };
    let median = |s: Option<Spread>| s.map(|s| s.median);
    match column {
        SortColumn::Device => a.device.cmp(&b.device),
        SortColumn::Command => a.command_label().cmp(b.command_label()),
        SortColumn::Sessions => a.count.cmp(&b.count),
        SortColumn::Ok => a.outcomes.ok.cmp(&b.outcomes.ok),
        SortColumn::HttpError => a.outcomes.http_error.cmp(&b.outcomes.http_error),
        SortColumn::EasFailure => a.outcomes.eas_failure.cmp(&b.outcomes.eas_failure),
        SortColumn::Throttled => a.outcomes.throttled.cmp(&b.outcomes.throttled),
        SortColumn::NoResponse => a.outcomes.no_response.cmp(&b.outcomes.no_response),
        SortColumn::Median => f(a.median_ms, b.median_ms),
        SortColumn::P95 => f(a.p95_ms, b.p95_ms),
        SortColumn::Heartbeat => f(median(a.heartbeat_s), median(b.heartbeat_s)),
        SortColumn::PingGap => f(median(a.ping_gap_s), median(b.ping_gap_s)),
        SortColumn::Sent => a.bytes_sent.cmp(&b.bytes_sent),
        SortColumn::Received => a.bytes_received.cmp(&b.bytes_received),
    }
}
