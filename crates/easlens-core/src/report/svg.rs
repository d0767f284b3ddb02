//! The report's timeline picture, drawn by the engine as SVG (no window, no fonts, no script):
//! a time axis with dates, one lane per command (per device when the capture has several), each
//! session a mark coloured and shaped by its [`Outcome`], long requests (a Ping's wait) as bars of
//! their duration, throttled responses and SyncKey resets as vertical lines, and a legend naming
//! each thing drawn once.
//!
//! [`Timeline::build`] turns a capture into what is drawn; a dense capture (more than
//! [`MAX_MARKS`] sessions) is drawn as bins of time per lane instead of one mark a session, so the
//! picture stays small and readable at 100,000 sessions. [`Timeline::svg`] writes it; every text
//! from the capture (command names, device ids) is escaped ([`markup_safe`]).

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::evidence::Outcome;
use super::markup_safe;
use super::terminal::{Layout, cut};
use crate::capture::{Capture, LabelStyle};
use crate::overview::device_label;

/// Above this many sessions, sessions are drawn as bins.
pub const MAX_MARKS: usize = 2_000;
/// How many bins of time the plot is cut into for a dense capture.
const BINS: usize = 240;
/// The most lanes; the rarest commands (or devices) share the last one.
const MAX_LANES: usize = 12;
/// A request at least this long (seconds) is drawn as a bar of its duration too.
pub const LONG_REQUEST_SECONDS: f64 = 10.0;

const WIDTH: f64 = 960.0;
/// Where the plot ends; it starts after the widest lane label.
const PLOT_RIGHT: f64 = 944.0;
/// Space kept inside the plot's edges so a mark at the first or last moment stays whole.
const INSET: f64 = 8.0;
/// The most characters of a lane label.
const LABEL_CHARS: usize = 28;
const FONT_SIZE: f64 = 12.0;
const AXIS_Y: f64 = 58.0;
const LANE_HEIGHT: f64 = 24.0;

/// The colour of an outcome, the same in the timeline and the report's text.
pub fn outcome_color(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "#4c78a8",
        Outcome::HttpError => "#c62828",
        Outcome::StatusFailure => "#a67c00",
        Outcome::Throttled => "#e06c00",
        Outcome::Aborted => "#6e7781",
    }
}

const RESET_COLOR: &str = "#8250df";

/// What the lanes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneKind {
    Command,
    Device,
}

/// One session as a mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub lane: usize,
    /// Seconds from the timeline's start.
    pub at: f64,
    /// How long the request took, seconds.
    pub seconds: f64,
    pub outcome: Outcome,
    pub number: u32,
    pub command: String,
}

/// Sessions of one lane in one bin of time, by outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub lane: usize,
    pub bin: usize,
    pub counts: [usize; 5],
}

/// What the plot holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Marks {
    Each(Vec<Mark>),
    /// Dense: `bin_seconds` of time a bin.
    Binned {
        bin_seconds: f64,
        bins: Vec<Bin>,
    },
}

/// The timeline of a capture, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The first session's start (its offset is the one times are shown in).
    pub start: Option<DateTime<FixedOffset>>,
    /// Seconds from `start` to the end of the last session (at least 1).
    pub span: f64,
    pub lane_kind: LaneKind,
    pub lanes: Vec<String>,
    pub marks: Marks,
    /// Seconds from `start` of the throttled responses.
    pub throttled: Vec<f64>,
    /// Seconds from `start` of the SyncKey resets.
    pub resets: Vec<f64>,
    /// Sessions without a time, not drawn.
    pub untimed: usize,
    /// Where the plot starts: after the widest lane label.
    left: f64,
}

impl Timeline {
    /// The timeline of `capture`; `throttled` and `resets` are session positions
    /// ([`Analysis::throttled`](crate::analysis::Analysis::throttled),
    /// [`Analysis::synckey_resets`](crate::analysis::Analysis::synckey_resets)).
    pub fn build(capture: &Capture, throttled: &[u32], resets: &[u32]) -> Timeline {
        let sessions = &capture.sessions;
        let start = sessions.iter().filter_map(|s| s.timers.started()).min();
        let seconds_of = |t: DateTime<FixedOffset>| start.map_or(0.0, |s| (t - s).num_milliseconds() as f64 / 1000.0);
        let end = sessions
            .iter()
            .filter_map(|s| {
                let t = s.timers.started()?;
                Some(seconds_of(t) + s.timers.duration_ms().unwrap_or(0.0) / 1000.0)
            })
            .fold(0.0, f64::max);
        let span = end.max(1.0);

        let devices: std::collections::HashSet<&str> = sessions
            .iter()
            .filter_map(|s| s.eas.as_ref()?.device_id.as_deref())
            .collect();
        let lane_kind = if devices.len() > 1 {
            LaneKind::Device
        } else {
            LaneKind::Command
        };
        let key = |s: &crate::capture::Session| match lane_kind {
            LaneKind::Command => s.command_label(LabelStyle::CLI),
            LaneKind::Device if s.eas.is_none() => "not ActiveSync".to_string(),
            LaneKind::Device => {
                let d = device_label(s);
                if d.is_empty() { "no device".into() } else { d }
            }
        };
        let keys: Vec<String> = sessions.iter().map(key).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for k in &keys {
            *counts.entry(k).or_default() += 1;
        }
        let mut order: Vec<(&str, usize)> = counts.into_iter().collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut lanes: Vec<String> = order.iter().map(|(k, _)| k.to_string()).collect();
        if lanes.len() > MAX_LANES {
            let rest = lanes.len() - (MAX_LANES - 1);
            lanes.truncate(MAX_LANES - 1);
            lanes.push(match lane_kind {
                LaneKind::Command => format!("{rest} other commands"),
                LaneKind::Device => format!("{rest} other devices"),
            });
        }
        let lane_of: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (*k, i.min(MAX_LANES - 1)))
            .collect();

        let mut each = Vec::new();
        let mut untimed = 0;
        for (s, k) in sessions.iter().zip(&keys) {
            let Some(t) = s.timers.started() else {
                untimed += 1;
                continue;
            };
            each.push(Mark {
                lane: lane_of.get(k.as_str()).copied().unwrap_or(0),
                at: seconds_of(t),
                seconds: s.timers.duration_ms().unwrap_or(0.0) / 1000.0,
                outcome: Outcome::of(s),
                number: s.index,
                command: s.command_label(LabelStyle::REPORT),
            });
        }
        let marks = if each.len() > MAX_MARKS {
            let bin_seconds = span / BINS as f64;
            let mut bins: HashMap<(usize, usize), [usize; 5]> = HashMap::new();
            for m in &each {
                let bin = ((m.at / bin_seconds) as usize).min(BINS - 1);
                let slot = Outcome::ALL.iter().position(|&o| o == m.outcome).unwrap_or(0);
                bins.entry((m.lane, bin)).or_default()[slot] += 1;
            }
            let mut bins: Vec<Bin> = bins
                .into_iter()
                .map(|((lane, bin), counts)| Bin { lane, bin, counts })
                .collect();
            bins.sort_by_key(|b| (b.lane, b.bin));
            Marks::Binned { bin_seconds, bins }
        } else {
            // The worst drawn last, on top.
            each.sort_by(|a, b| a.outcome.cmp(&b.outcome).then(a.at.total_cmp(&b.at)));
            Marks::Each(each)
        };
        let times = |positions: &[u32]| -> Vec<f64> {
            positions
                .iter()
                .filter_map(|&p| sessions.get(p as usize)?.timers.started())
                .map(seconds_of)
                .collect()
        };
        let widest = lanes
            .iter()
            .map(|l| cut(l, LABEL_CHARS).chars().count())
            .max()
            .unwrap_or(0);
        Timeline {
            left: (widest as f64 * FONT_SIZE * 0.62 + 20.0).clamp(60.0, 230.0),
            start,
            span,
            lane_kind,
            lanes,
            marks,
            throttled: times(throttled),
            resets: times(resets),
            untimed,
        }
    }

    /// The picture as a standalone SVG document (also valid inline in HTML).
    pub fn svg(&self) -> String {
        let lanes_bottom = AXIS_Y + LANE_HEIGHT * self.lanes.len().max(1) as f64;
        let legend = self.legend();
        let legend_rows = legend_rows(&legend);
        let height = lanes_bottom + 16.0 + 20.0 * legend_rows.len() as f64 + 8.0;
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="timeline-title" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="{FONT_SIZE}">"#
        );
        let _ = write!(
            out,
            r##"<title id="timeline-title">{}</title><rect width="100%" height="100%" fill="#ffffff"/>"##,
            markup_safe(&self.caption(), Layout::Field)
        );
        let _ = write!(
            out,
            r##"<text x="8" y="16" font-weight="bold" fill="#1f2328">{}</text>"##,
            markup_safe(&self.caption(), Layout::Field)
        );
        // Lanes: a label and a stripe each.
        for (i, lane) in self.lanes.iter().enumerate() {
            let y = AXIS_Y + LANE_HEIGHT * i as f64;
            if i % 2 == 0 {
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{y}" width="{}" height="{LANE_HEIGHT}" fill="#f3f5f8"/>"##,
                    self.left,
                    PLOT_RIGHT - self.left
                );
            }
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" text-anchor="end" fill="#1f2328">{}</text>"##,
                self.left - 6.0,
                y + LANE_HEIGHT / 2.0 + 4.0,
                markup_safe(&cut(lane, LABEL_CHARS), Layout::Field)
            );
        }
        self.axis(&mut out, lanes_bottom);
        // Vertical lines, one per pixel column at most.
        for (times, color, dash) in [
            (&self.throttled, outcome_color(Outcome::Throttled), "4 3"),
            (&self.resets, RESET_COLOR, "8 3"),
        ] {
            let mut columns: Vec<i64> = times.iter().map(|&t| self.x(t).round() as i64).collect();
            columns.sort_unstable();
            columns.dedup();
            for x in columns {
                let _ = write!(
                    out,
                    r#"<line x1="{x}" y1="{AXIS_Y}" x2="{x}" y2="{lanes_bottom}" stroke="{color}" stroke-width="1.2" stroke-dasharray="{dash}"/>"#
                );
            }
        }
        match &self.marks {
            Marks::Each(marks) => {
                for m in marks.iter().filter(|m| m.seconds >= LONG_REQUEST_SECONDS) {
                    let (x0, x1) = (self.x(m.at), self.x(m.at + m.seconds));
                    let y = self.lane_center(m.lane);
                    let _ = write!(
                        out,
                        r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="6" fill="{}" fill-opacity="0.35"/>"#,
                        y - 3.0,
                        (x1 - x0).max(1.0),
                        outcome_color(m.outcome)
                    );
                }
                for m in marks {
                    let (x, y) = (self.x(m.at), self.lane_center(m.lane));
                    let tip = format!(
                        "#{} {} · {} · {} · {}",
                        m.number,
                        m.command,
                        self.time_text(m.at),
                        duration_text(m.seconds),
                        m.outcome.name()
                    );
                    let _ = write!(
                        out,
                        "<g>{}<title>{}</title></g>",
                        shape(m.outcome, x, y),
                        markup_safe(&tip, Layout::Field)
                    );
                }
            }
            Marks::Binned { bin_seconds, bins } => {
                let max = bins
                    .iter()
                    .map(|b| b.counts.iter().sum::<usize>())
                    .max()
                    .unwrap_or(1)
                    .max(1);
                let bin_width = ((PLOT_RIGHT - self.left - 2.0 * INSET) / BINS as f64 - 0.6).max(1.0);
                for b in bins {
                    let total: usize = b.counts.iter().sum();
                    let worst = WORST_FIRST
                        .into_iter()
                        .find(|o| b.counts[Outcome::ALL.iter().position(|a| a == o).unwrap_or(0)] > 0)
                        .unwrap_or(Outcome::Ok);
                    let h = 4.0 + (LANE_HEIGHT - 8.0) * ((1 + total) as f64).ln() / ((1 + max) as f64).ln();
                    let x = self.x(b.bin as f64 * bin_seconds);
                    let y = self.lane_center(b.lane) - h / 2.0;
                    let parts: Vec<String> = Outcome::ALL
                        .iter()
                        .zip(b.counts)
                        .filter(|(_, n)| *n > 0)
                        .map(|(o, n)| format!("{n} {}", o.name()))
                        .collect();
                    let tip = format!(
                        "{}: {total} session(s): {}",
                        self.time_text(b.bin as f64 * bin_seconds),
                        parts.join(", ")
                    );
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.1}" y="{y:.1}" width="{bin_width:.1}" height="{h:.1}" fill="{}"><title>{}</title></rect>"#,
                        outcome_color(worst),
                        markup_safe(&tip, Layout::Field)
                    );
                }
            }
        }
        // Legend.
        for (row, items) in legend_rows.iter().enumerate() {
            let y = lanes_bottom + 24.0 + 20.0 * row as f64;
            let mut x = 10.0;
            for &i in items {
                let (symbol, text) = &legend[i];
                out.push_str(&symbol.draw(x + 6.0, y - 4.0));
                let _ = write!(
                    out,
                    r##"<text x="{:.1}" y="{y:.1}" fill="#1f2328">{}</text>"##,
                    x + 16.0,
                    markup_safe(text, Layout::Field)
                );
                x += legend_width(text);
            }
        }
        out.push_str("</svg>");
        out
    }

    fn caption(&self) -> String {
        let what = match self.lane_kind {
            LaneKind::Command => "by command",
            LaneKind::Device => "by device",
        };
        let mut s = match self.start {
            Some(start) => {
                let end = start + TimeDelta::milliseconds((self.span * 1000.0) as i64);
                let end_format = if end.date_naive() == start.date_naive() {
                    "%H:%M:%S"
                } else {
                    "%Y-%m-%d %H:%M:%S"
                };
                format!(
                    "Sessions over time, {what}: {} – {} (UTC{})",
                    start.format("%Y-%m-%d %H:%M:%S"),
                    end.format(end_format),
                    start.format("%:z")
                )
            }
            None => format!("Sessions over time, {what}: the capture has no times"),
        };
        if self.untimed > 0 {
            let _ = write!(s, "; {} session(s) without a time not drawn", self.untimed);
        }
        s
    }

    fn x(&self, seconds: f64) -> f64 {
        self.left + INSET + (seconds / self.span).clamp(0.0, 1.0) * (PLOT_RIGHT - self.left - 2.0 * INSET)
    }

    fn lane_center(&self, lane: usize) -> f64 {
        AXIS_Y + LANE_HEIGHT * lane as f64 + LANE_HEIGHT / 2.0
    }

    fn time_text(&self, seconds: f64) -> String {
        self.start.map_or_else(String::new, |s| {
            (s + TimeDelta::milliseconds((seconds * 1000.0) as i64))
                .format("%H:%M:%S%.3f")
                .to_string()
        })
    }

    /// Ticks at a round step (in the capture's time zone), the date under the first tick and
    /// under each tick where the day changes.
    fn axis(&self, out: &mut String, lanes_bottom: f64) {
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{AXIS_Y}" x2="{PLOT_RIGHT}" y2="{AXIS_Y}" stroke="#57606a"/>"##,
            self.left
        );
        let Some(start) = self.start else { return };
        let step = tick_step(self.span);
        let local0 = start.timestamp_millis() as f64 / 1000.0 + start.offset().local_minus_utc() as f64;
        let first = (local0 / step).ceil() * step - local0;
        let mut previous_date = None;
        let mut t = first;
        while t <= self.span + 1e-9 {
            let x = self.x(t);
            let when = start + TimeDelta::milliseconds((t * 1000.0).round() as i64);
            // Whole days are named by their date alone.
            let time = if step >= 86400.0 {
                when.format("%m-%d")
            } else if step < 60.0 {
                when.format("%H:%M:%S")
            } else {
                when.format("%H:%M")
            };
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{lanes_bottom}" stroke="#d0d7de" stroke-width="0.6"/><line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{AXIS_Y}" stroke="#57606a"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="#57606a">{time}</text>"##,
                AXIS_Y,
                AXIS_Y - 4.0,
                AXIS_Y - 20.0
            );
            // Under it, the date where it changes (the year, for ticks that are dates).
            let (date, format) = if step >= 86400.0 {
                (when.format("%Y").to_string(), "%Y")
            } else {
                (when.format("%F").to_string(), "%F")
            };
            if previous_date.as_ref() != Some(&date) {
                let _ = write!(
                    out,
                    r##"<text x="{x:.1}" y="{}" text-anchor="middle" fill="#57606a">{}</text>"##,
                    AXIS_Y - 8.0,
                    when.format(format)
                );
                previous_date = Some(date);
            }
            t += step;
        }
    }

    /// What the legend names: each outcome drawn, the lines and bars drawn, once each.
    fn legend(&self) -> Vec<(Symbol, String)> {
        let mut out = Vec::new();
        let (present, long, binned): (Vec<Outcome>, bool, Option<f64>) = match &self.marks {
            Marks::Each(m) => (
                Outcome::ALL
                    .into_iter()
                    .filter(|o| m.iter().any(|k| k.outcome == *o))
                    .collect(),
                m.iter().any(|k| k.seconds >= LONG_REQUEST_SECONDS),
                None,
            ),
            Marks::Binned { bin_seconds, bins } => (
                Outcome::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| bins.iter().any(|b| b.counts[*i] > 0))
                    .map(|(_, o)| o)
                    .collect(),
                false,
                Some(*bin_seconds),
            ),
        };
        for o in present {
            let symbol = if binned.is_some() {
                Symbol::Square(o)
            } else {
                Symbol::Shape(o)
            };
            out.push((symbol, o.name().to_string()));
        }
        if long {
            out.push((Symbol::Bar, format!("request duration (≥ {LONG_REQUEST_SECONDS:.0} s)")));
        }
        if !self.throttled.is_empty() {
            out.push((
                Symbol::Line(outcome_color(Outcome::Throttled), "4 3"),
                "throttled (X-MS-ASThrottle)".into(),
            ));
        }
        if !self.resets.is_empty() {
            out.push((Symbol::Line(RESET_COLOR, "8 3"), "SyncKey reset to 0".into()));
        }
        if let Some(s) = binned {
            out.push((
                Symbol::None,
                format!(
                    "{} sessions drawn in bins of {}: height = sessions (log scale), colour = the worst outcome",
                    self.count(),
                    duration_text(s)
                ),
            ));
        }
        out
    }

    fn count(&self) -> usize {
        match &self.marks {
            Marks::Each(m) => m.len(),
            Marks::Binned { bins, .. } => bins.iter().map(|b| b.counts.iter().sum::<usize>()).sum(),
        }
    }
}

/// Outcomes from the one a bin is coloured by first.
const WORST_FIRST: [Outcome; 5] = [
    Outcome::Throttled,
    Outcome::HttpError,
    Outcome::StatusFailure,
    Outcome::Aborted,
    Outcome::Ok,
];

/// A legend entry's symbol.
#[derive(Debug, Clone, Copy)]
enum Symbol {
    Shape(Outcome),
    Square(Outcome),
    Bar,
    Line(&'static str, &'static str),
    None,
}

impl Symbol {
    fn draw(self, x: f64, y: f64) -> String {
        match self {
            Symbol::Shape(o) => shape(o, x, y),
            Symbol::Square(o) => format!(
                r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{}"/>"#,
                x - 5.0,
                y - 5.0,
                outcome_color(o)
            ),
            Symbol::Bar => format!(
                r#"<rect x="{:.1}" y="{:.1}" width="14" height="6" fill="{}" fill-opacity="0.35"/>"#,
                x - 7.0,
                y - 3.0,
                outcome_color(Outcome::Ok)
            ),
            Symbol::Line(color, dash) => format!(
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{color}" stroke-width="1.2" stroke-dasharray="{dash}"/>"#,
                y - 7.0,
                y + 7.0
            ),
            Symbol::None => String::new(),
        }
    }
}

/// Width a legend entry takes (an estimate: the text is not measured).
fn legend_width(text: &str) -> f64 {
    16.0 + FONT_SIZE * 0.56 * text.chars().count() as f64 + 22.0
}

/// The legend's entries by row, wrapped to the picture's width.
fn legend_rows(legend: &[(Symbol, String)]) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut x = 10.0;
    for (i, (_, text)) in legend.iter().enumerate() {
        let w = legend_width(text);
        if rows.is_empty() || (x + w > WIDTH && rows.last().is_some_and(|r| !r.is_empty())) {
            rows.push(Vec::new());
            x = 10.0;
        }
        if let Some(r) = rows.last_mut() {
            r.push(i);
        }
        x += w;
    }
    rows
}

/// The mark of an outcome, centred on (`x`, `y`): OK a circle, an HTTP error a square, a failing
/// Status a triangle, throttled a diamond, no response a cross.
fn shape(o: Outcome, x: f64, y: f64) -> String {
    let c = outcome_color(o);
    match o {
        Outcome::Ok => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{c}"/>"#),
        Outcome::HttpError => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{c}"/>"#,
            x - 4.0,
            y - 4.0
        ),
        Outcome::StatusFailure => format!(
            r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="{c}"/>"#,
            y - 5.0,
            x + 5.0,
            y + 4.0,
            x - 5.0,
            y + 4.0
        ),
        Outcome::Throttled => format!(
            r#"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z" fill="{c}"/>"#,
            y - 5.5,
            x + 5.5,
            y + 5.5,
            x - 5.5
        ),
        Outcome::Aborted => format!(
            r#"<path d="M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}" stroke="{c}" stroke-width="2"/>"#,
            x - 4.0,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0,
            y + 4.0,
            x + 4.0,
            y - 4.0
        ),
    }
}

/// A round step for at most ten ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    const DAY: f64 = 86400.0;
    const STEPS: [f64; 21] = [
        1.0,
        2.0,
        5.0,
        10.0,
        15.0,
        30.0,
        60.0,
        120.0,
        300.0,
        600.0,
        900.0,
        1800.0,
        3600.0,
        7200.0,
        10800.0,
        21600.0,
        43200.0,
        DAY,
        2.0 * DAY,
        7.0 * DAY,
        14.0 * DAY,
    ];
    STEPS
        .into_iter()
        .find(|s| span / s <= 10.0)
        .unwrap_or_else(|| (span / 10.0 / (7.0 * DAY)).ceil() * 7.0 * DAY)
}

/// `120 ms`, `4.5 s`, `2 min 5 s`.
fn duration_text(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        crate::analysis::findings::duration_text(seconds.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{plain, session};
    use crate::capture::{Capture, Format};
    use crate::eas::Command;
    use crate::readers::MemoryStore;
    use crate::report::terminal::is_unsafe;
    use crate::report::testing::{HOSTILE, xml_elements};

    const ELEMENTS: [&str; 8] = ["svg", "title", "rect", "text", "line", "g", "circle", "path"];

    fn check(svg: &str) {
        let names = xml_elements(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
        assert!(names.iter().all(|n| ELEMENTS.contains(&n.as_str())), "{names:?}");
        assert!(!svg.chars().any(|c| is_unsafe(c, Layout::Lines) || c == '\u{fffe}'));
    }

    fn legend_is_unique(t: &Timeline) {
        let texts: Vec<String> = t.legend().into_iter().map(|(_, s)| s).collect();
        let mut unique = texts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), texts.len(), "{texts:?}");
    }

    #[test]
    fn hostile_labels_stay_text() {
        let start = DateTime::parse_from_rfc3339("2024-03-06T23:59:30+01:00").ok();
        let mark = |lane, at, seconds, outcome| Mark {
            lane,
            at,
            seconds,
            outcome,
            number: 1,
            command: format!("{HOSTILE}\u{1b}[2J"),
        };
        let t = Timeline {
            start,
            span: 60.0,
            lane_kind: LaneKind::Device,
            lanes: vec![format!("{HOSTILE}\u{1b}]0;x\u{7}\u{202e}\u{fffe}"), "Sync".into()],
            marks: Marks::Each(vec![
                mark(0, 0.0, 30.0, Outcome::Aborted),
                mark(1, 20.0, 0.1, Outcome::Ok),
                mark(1, 20.0, 0.1, Outcome::Ok),
                mark(1, 60.0, 0.1, Outcome::Throttled),
            ]),
            throttled: vec![60.0],
            resets: vec![10.0],
            untimed: 1,
            left: 200.0,
        };
        let svg = t.svg();
        check(&svg);
        assert!(svg.contains("&lt;script&gt;") && svg.contains("\\x1b"), "{svg}");
        // The axis crosses midnight: both dates are named.
        assert!(svg.contains(">2024-03-06<") && svg.contains(">2024-03-07<"), "{svg}");
        legend_is_unique(&t);
        assert_eq!(svg.matches(">OK<").count(), 1, "OK named once in the legend");
    }

    #[test]
    fn a_dense_capture_is_drawn_in_bins() {
        let sessions = (1..=5_000u32)
            .map(|i| match i % 100 {
                0 => plain(i, Command::Sync, Some(503)),
                _ => session(i, Some("5"), Some("1"), Some(200), Some("2"), Some(1)),
            })
            .collect();
        let capture = Capture::new(
            "big.saz".into(),
            Format::Saz,
            sessions,
            Vec::new(),
            Box::new(MemoryStore),
        );
        let t = Timeline::build(&capture, &[], &[99]);
        let Marks::Binned { bins, .. } = &t.marks else {
            panic!("{} sessions drawn one by one", capture.sessions.len())
        };
        assert!(bins.len() <= BINS * t.lanes.len());
        assert_eq!(
            bins.iter().map(|b| b.counts.iter().sum::<usize>()).sum::<usize>(),
            5_000
        );
        let svg = t.svg();
        check(&svg);
        assert!(svg.len() < 100_000, "{} bytes", svg.len());
        legend_is_unique(&t);
        assert!(svg.contains(">HTTP error<") && svg.contains("in bins of"), "{svg}");
        assert!(svg.contains("SyncKey reset to 0"));
    }

    #[test]
    fn ticks_are_round_and_few() {
        for span in [0.5, 1.0, 59.0, 93.0, 3600.0, 50_000.0, 86400.0 * 56.0, 86400.0 * 400.0] {
            let step = tick_step(span);
            assert!(span / step <= 10.0, "{span}: {step}");
        }
        assert_eq!(tick_step(93.0), 10.0);
        assert_eq!(tick_step(86400.0 * 56.0), 86400.0 * 7.0);
    }
}
