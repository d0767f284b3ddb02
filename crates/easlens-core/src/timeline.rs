//! The timeline's values (the window draws them): each session of a list as a span on its
//! command's lane, from its start to its end (a Ping held for nine minutes is a long bar), with
//! its outcome — aborted included — and the binning by pixel column that keeps 100,000 sessions
//! and thousands of marker lines down to a few shapes per column.

use chrono::{DateTime, FixedOffset};

use crate::capture::{Capture, LabelStyle, Session};
use crate::eas::session::Highlight;
use crate::overview::{commands_by_frequency, timeline_outcome};

/// What a session's bar or point is coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ok,
    /// A failing EAS Status.
    Status,
    Throttled,
    /// A non-2xx answer.
    Http,
    /// No response: the client or the server gave up (a hanging request cut off, say).
    Aborted,
}

impl Outcome {
    /// Every outcome, in legend order.
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Status,
        Outcome::Throttled,
        Outcome::Http,
        Outcome::Aborted,
    ];

    /// The legend's name, as the session table calls it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Status => "failing EAS Status",
            Outcome::Throttled => "throttled",
            Outcome::Http => "HTTP error",
            Outcome::Aborted => "aborted",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The outcome of `s`: aborted when it has no response (or the capture says it was aborted and
/// nothing else went wrong), else [`timeline_outcome`].
pub fn outcome(s: &Session) -> Outcome {
    let hl = timeline_outcome(s);
    if s.response.is_none() || (s.flags.aborted && hl.is_none()) {
        return Outcome::Aborted;
    }
    match hl {
        None => Outcome::Ok,
        Some(Highlight::Status) => Outcome::Status,
        Some(Highlight::Throttle) => Outcome::Throttled,
        Some(Highlight::Http) => Outcome::Http,
    }
}

/// One session on the timeline: seconds from the timeline's base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: f64,
    /// The end (the start when the capture has no end time).
    pub end: f64,
    pub lane: u16,
    pub outcome: Outcome,
    /// The session's position in the capture.
    pub session: u32,
}

/// The sessions of a list as spans on lanes.
#[derive(Debug, Clone, Default)]
pub struct TimelineData {
    /// The earliest start: x = 0.
    pub base: Option<DateTime<FixedOffset>>,
    /// Command labels, the most frequent first (lane 0, drawn at the bottom).
    pub lanes: Vec<String>,
    /// Sorted by start.
    pub spans: Vec<Span>,
    /// The sessions start on more than one day: times are shown with their date.
    pub spans_days: bool,
    /// Sessions per outcome, by [`Outcome::ALL`] order.
    pub counts: [usize; 5],
}

/// Several sessions of one lane and outcome drawn as one shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub lane: u16,
    pub outcome: Outcome,
    pub start: f64,
    pub end: f64,
    /// How many sessions it stands for.
    pub sessions: u32,
    /// The first of them (capture position).
    pub first: u32,
}

/// Sessions shorter than this many pixel columns are points (their shape tells the outcome).
pub const BAR_MIN_COLUMNS: f64 = 8.0;

/// The visible sessions binned by pixel column: `bars` for sessions at least
/// [`BAR_MIN_COLUMNS`] long
/// (overlapping ones of a lane and outcome merged), `points` for the others (one per lane,
/// outcome and column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binned {
    pub bars: Vec<Mark>,
    pub points: Vec<Mark>,
}

/// Marker lines in a range: a single line (`start == end`, `count` 1) or a band of many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub start: f64,
    pub end: f64,
    pub count: usize,
}

impl TimelineData {
    /// The sessions at `rows` (capture positions) that have a start time.
    pub fn build(capture: &Capture, rows: &[u32]) -> TimelineData {
        let start = |i: u32| capture.sessions[i as usize].timers.started();
        let Some(base) = rows.iter().filter_map(|&i| start(i)).min() else {
            return TimelineData::default();
        };
        let lanes = commands_by_frequency(capture, rows);
        let secs = |t: DateTime<FixedOffset>| (t - base).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        let mut spans = Vec::with_capacity(rows.len());
        let mut counts = [0; 5];
        let (mut first_day, mut last_day) = (None, None);
        for &i in rows {
            let s = &capture.sessions[i as usize];
            let Some(t) = s.timers.started() else { continue };
            let day = t.date_naive();
            first_day = Some(first_day.map_or(day, |d: chrono::NaiveDate| d.min(day)));
            last_day = Some(last_day.map_or(day, |d: chrono::NaiveDate| d.max(day)));
            let x = secs(t);
            let end = crate::analysis::ended(s).map_or(x, |e| secs(e).max(x));
            let label = s.command_label(LabelStyle::WINDOW);
            let lane = lanes.iter().position(|l| *l == label).unwrap_or(0) as u16;
            let outcome = outcome(s);
            counts[outcome.index()] += 1;
            spans.push(Span {
                start: x,
                end,
                lane,
                outcome,
                session: i,
            });
        }
        spans.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.session.cmp(&b.session)));
        TimelineData {
            base: Some(base),
            lanes,
            spans,
            spans_days: first_day != last_day,
            counts,
        }
    }

    /// The latest end, in seconds from the base.
    pub fn extent(&self) -> f64 {
        self.spans.iter().map(|s| s.end).fold(0.0, f64::max)
    }

    /// The time at `x` seconds from the base: `13:00:05` (with the date, `2024-03-13 13:00:05`,
    /// when the sessions span days; `precise` adds milliseconds).
    pub fn time_label(&self, x: f64, precise: bool) -> String {
        let Some(base) = self.base else { return String::new() };
        let t = base + chrono::TimeDelta::microseconds((x * 1e6) as i64);
        let format = match (self.spans_days, precise) {
            (true, true) => "%Y-%m-%d %H:%M:%S%.3f",
            (true, false) => "%Y-%m-%d %H:%M:%S",
            (false, true) => "%H:%M:%S%.3f",
            (false, false) => "%H:%M:%S",
        };
        t.format(format).to_string()
    }

    /// Where the sessions `positions` (ascending capture positions) start, ascending.
    pub fn times_of(&self, positions: &[u32]) -> Vec<f64> {
        if positions.is_empty() {
            return Vec::new();
        }
        self.spans
            .iter()
            .filter(|s| positions.binary_search(&s.session).is_ok())
            .map(|s| s.start)
            .collect()
    }

    /// The sessions visible between `x_min` and `x_max` seconds on a plot `columns` pixels wide,
    /// binned by pixel column: a linear pass, at most a few shapes per lane, outcome and column.
    pub fn bin(&self, x_min: f64, x_max: f64, columns: usize) -> Binned {
        let mut out = Binned::default();
        if columns == 0 || x_max <= x_min {
            return out;
        }
        let px = (x_max - x_min) / columns as f64;
        let slots = self.lanes.len().max(1) * Outcome::ALL.len();
        // The bar and the point being grown for each lane and outcome.
        let mut bars: Vec<Option<Mark>> = vec![None; slots];
        let mut points: Vec<Option<(usize, Mark)>> = vec![None; slots];
        let end = self.spans.partition_point(|s| s.start <= x_max);
        for s in &self.spans[..end] {
            if s.end < x_min {
                continue;
            }
            let slot = s.lane as usize * Outcome::ALL.len() + s.outcome.index();
            let Some(_) = bars.get(slot) else { continue };
            let mark = Mark {
                lane: s.lane,
                outcome: s.outcome,
                start: s.start,
                end: s.end,
                sessions: 1,
                first: s.session,
            };
            if s.end - s.start >= BAR_MIN_COLUMNS * px {
                match &mut bars[slot] {
                    Some(open) if s.start <= open.end + px => {
                        open.end = open.end.max(s.end);
                        open.sessions += 1;
                    }
                    open => {
                        if let Some(done) = open.replace(mark) {
                            out.bars.push(done);
                        }
                    }
                }
            } else {
                let column = ((s.start - x_min) / px).floor().max(0.0) as usize;
                match &mut points[slot] {
                    Some((c, open)) if *c == column => {
                        open.sessions += 1;
                        open.end = open.end.max(s.end);
                    }
                    open => {
                        if let Some((_, done)) = open.replace((column, mark)) {
                            out.points.push(done);
                        }
                    }
                }
            }
        }
        out.bars.extend(bars.into_iter().flatten());
        out.points.extend(points.into_iter().flatten().map(|(_, m)| m));
        out
    }

    /// The session nearest to `x` on `lane` (a bar containing `x` is at distance 0), within
    /// `tolerance` seconds.
    pub fn nearest(&self, x: f64, lane: usize, tolerance: f64) -> Option<u32> {
        let end = self.spans.partition_point(|s| s.start <= x + tolerance);
        self.spans[..end]
            .iter()
            .filter(|s| s.lane as usize == lane)
            .map(|s| {
                let d = if x < s.start { s.start - x } else { (x - s.end).max(0.0) };
                (d, s.session)
            })
            .filter(|(d, _)| *d <= tolerance)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, i)| i)
    }
}

/// The marker lines at `xs` (ascending seconds) between `x_min` and `x_max` on `columns` pixels:
/// one line each while there is at most one per `min_gap` pixels on average, else bands — runs of
/// markers no more than `min_gap` pixels apart — each with its count.
pub fn bin_markers(xs: &[f64], x_min: f64, x_max: f64, columns: usize, min_gap: f64) -> Vec<Band> {
    let from = xs.partition_point(|&x| x < x_min);
    let to = xs.partition_point(|&x| x <= x_max);
    let visible = &xs[from..to.max(from)];
    if visible.is_empty() || columns == 0 || x_max <= x_min {
        return Vec::new();
    }
    if visible.len() as f64 * min_gap <= columns as f64 {
        return visible
            .iter()
            .map(|&x| Band {
                start: x,
                end: x,
                count: 1,
            })
            .collect();
    }
    let gap = min_gap * (x_max - x_min) / columns as f64;
    let mut bands: Vec<Band> = Vec::new();
    for &x in visible {
        match bands.last_mut() {
            Some(b) if x - b.end <= gap => {
                b.end = x;
                b.count += 1;
            }
            _ => bands.push(Band {
                start: x,
                end: x,
                count: 1,
            }),
        }
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::plain;
    use crate::capture::Format;
    use crate::eas::Command;
    use crate::readers::{MemoryStore, Timer};

    fn capture(sessions: Vec<Session>) -> Capture {
        Capture::new("t.saz".into(), Format::Saz, sessions, Vec::new(), Box::new(MemoryStore))
    }

    #[test]
    fn a_long_request_is_a_bar_and_a_lost_answer_is_aborted() {
        let mut ping = plain(1, Command::Ping, Some(200));
        let start = ping.timers.started().unwrap();
        ping.timers
            .set(Timer::ClientDoneResponse, Some(start + chrono::TimeDelta::minutes(9)));
        let mut lost = plain(2, Command::Sync, None);
        lost.flags.aborted = true;
        let throttled = {
            let mut s = plain(3, Command::Sync, Some(503));
            s.eas.as_mut().unwrap().highlights = vec![Highlight::Http, Highlight::Throttle];
            s
        };
        let c = capture(vec![ping, lost, throttled]);
        let t = TimelineData::build(&c, &[0, 1, 2]);
        assert_eq!(t.lanes, ["Sync", "Ping"]);
        assert_eq!(t.spans[0].end - t.spans[0].start, 540.0, "{:?}", t.spans[0]);
        assert_eq!(t.spans[1].outcome, Outcome::Aborted);
        assert_eq!(t.spans[2].outcome, Outcome::Throttled);
        assert_eq!(t.counts, [1, 0, 1, 0, 1]);
        assert!(!t.spans_days);
        assert_eq!(t.time_label(0.0, false), "14:00:10");
        // On 600 columns over the whole range the Ping is a bar, the Syncs are points.
        let b = t.bin(0.0, t.extent(), 600);
        assert_eq!(b.bars.len(), 1);
        assert_eq!((b.bars[0].lane, b.bars[0].first), (1, 0));
        assert_eq!(b.points.len(), 2);
        // Clicking in the middle of the bar finds the Ping.
        assert_eq!(t.nearest(300.0, 1, 1.0), Some(0));
        assert_eq!(t.nearest(300.0, 0, 1.0), None);
    }

    #[test]
    fn sessions_on_two_days_show_dates() {
        let mut late = plain(1, Command::Sync, Some(200));
        let t0 = late.timers.started().unwrap();
        late.timers
            .set(Timer::ClientBeginRequest, Some(t0 + chrono::TimeDelta::days(1)));
        let c = capture(vec![plain(1, Command::Sync, Some(200)), late]);
        let t = TimelineData::build(&c, &[0, 1]);
        assert!(t.spans_days);
        assert_eq!(t.time_label(0.0, false), "2024-03-06 14:00:10");
    }

    #[test]
    fn many_points_in_one_column_are_one_mark() {
        let sessions: Vec<Session> = (1..=1000).map(|i| plain(i, Command::Sync, Some(200))).collect();
        let c = capture(sessions);
        let rows: Vec<u32> = (0..1000).collect();
        let t = TimelineData::build(&c, &rows);
        // 10 s apart over 9,990 s on 100 columns: 10 sessions per column.
        let b = t.bin(0.0, t.extent(), 100);
        assert!(b.bars.is_empty());
        assert!(b.points.len() <= 101, "{}", b.points.len());
        assert_eq!(b.points.iter().map(|m| m.sessions).sum::<u32>(), 1000);
    }

    #[test]
    fn markers_become_bands_when_denser_than_the_pixels() {
        let few = [1.0, 50.0, 90.0];
        assert_eq!(bin_markers(&few, 0.0, 100.0, 100, 3.0).len(), 3);
        // 3,000 markers on 300 columns: bands, every marker counted once.
        let many: Vec<f64> = (0..3000)
            .map(|i| f64::from(i) * 0.01 + if i >= 1500 { 50.0 } else { 0.0 })
            .collect();
        let bands = bin_markers(&many, 0.0, 100.0, 300, 3.0);
        assert_eq!(bands.len(), 2, "{bands:?}");
        assert_eq!(bands.iter().map(|b| b.count).sum::<usize>(), 3000);
        // Only the visible ones.
        assert_eq!(
            bin_markers(&many, 0.0, 9.995, 300, 3.0)
                .iter()
                .map(|b| b.count)
                .sum::<usize>(),
            1000
        );
    }
}
