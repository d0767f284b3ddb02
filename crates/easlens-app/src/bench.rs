//! The bench mode: `EASLENS_BENCH=1 easlens FILE` opens FILE, waits for the body index, scrolls the
//! session table for `EASLENS_BENCH_FRAMES` frames (default 300) a screenful at a time, applies a
//! series of filters, prints the timings to stdout and closes the window. With
//! `EASLENS_BENCH_NEXT=FILE2` it opens FILE2 the moment FILE is shown (two captures in a row) and
//! goes on with FILE2. With `EASLENS_BENCH_SCREENSHOT=FILE` it then saves the window as "Save
//! screenshot" does: with the filter cleared and session `EASLENS_BENCH_SELECT` (a number as the
//! table shows it; default the first) selected, and with `EASLENS_BENCH_REDACT=1` after turning
//! "Redact personal data" on (the time until the redacted copy is shown is printed).
//!
//! While a capture opens the window repaints as it does for a user (the bench asks for no frame):
//! "shown" is when the first frame drawing the table with every session has been painted and
//! swapped, measured from the start of the process (the first capture) or from the moment the
//! next one is asked for, so that it compares with the wall-clock time of `easlens sessions FILE`.
//! After that, a frame's time is the wall-clock time between the starts of two consecutive frames
//! with continuous repaint and vsync off: layout, tessellation, painting and the buffer swap.

use eframe::egui;
use std::path::PathBuf;
use std::time::Instant;

use super::EaslensApp;

/// Filters applied in the filter phase (the examples, and free text through the index).
pub const QUERIES: [&str; 11] = [
    "cmd:Sync",
    "http:!200",
    "http:5xx",
    "status:!1",
    "throttled",
    "folder:5",
    "device:ABC",
    "user:jdoe",
    "Quarterly",
    "cmd:Sync -throttled status:1",
    "",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// A capture is being opened (asked for at this instant); no frame is asked for.
    Loading(Instant),
    /// The frame that drew the table ended: its capture was asked for at this instant.
    Shown(Instant),
    Indexing,
    Scrolling(usize),
    /// Sets query `k` (applied in the same frame) after recording query `k-1`'s frame.
    Filtering(usize),
    /// `EASLENS_BENCH_REDACT=1`: waiting for the redacted copy (asked for at this instant).
    Redacting(Instant),
    /// `EASLENS_BENCH_SCREENSHOT=FILE`: the window saved through "Save screenshot" (without the
    /// dialog), timed.
    Screenshot(Instant),
    Done,
}

/// How opening one capture went.
struct Load {
    path: PathBuf,
    sessions: usize,
    /// Milliseconds from asking for the capture to: the open job starting, the engine returning it, its folder names
    /// computed, the window taking it, the first frame showing every session painted.
    start_ms: f64,
    engine_ms: f64,
    ready_ms: f64,
    taken_ms: f64,
    shown_ms: f64,
    /// Milliseconds from asking for the capture to the first frame showing rows of it (its
    /// first sessions, for a big capture; the same as `shown_ms` otherwise).
    first_rows_ms: f64,
    /// Frames drawn while it loaded.
    frames: usize,
    /// Processor time the process had used once shown (user and system, seconds).
    cpu_s: f64,
    /// Resident memory once shown, and the peak so far (MB).
    rss_mb: f64,
    peak_mb: f64,
}

pub struct Bench {
    frames: usize,
    phase: Phase,
    started: Instant,
    last_frame: Option<Instant>,
    /// `EASLENS_BENCH_NEXT`: a capture to open once the first is shown.
    next: Option<PathBuf>,
    loads: Vec<Load>,
    loading_frames: usize,
    /// When the first sessions of the capture being loaded were shown.
    first_rows: Option<Instant>,
    indexed_ms: f64,
    scroll_ms: Vec<f64>,
    filters: Vec<(String, usize, f64, f64)>,
}

impl Bench {
    /// The bench mode, when `EASLENS_BENCH` is set.
    pub fn from_env() -> Option<Bench> {
        std::env::var_os("EASLENS_BENCH").filter(|v| !v.is_empty() && v != "0")?;
        let frames = std::env::var("EASLENS_BENCH_FRAMES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        let started = Instant::now();
        Some(Bench {
            frames,
            phase: Phase::Loading(started),
            started,
            last_frame: None,
            next: std::env::var_os("EASLENS_BENCH_NEXT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            loads: Vec::new(),
            loading_frames: 0,
            first_rows: None,
            indexed_ms: 0.0,
            scroll_ms: Vec::new(),
            filters: Vec::new(),
        })
    }

    /// Called at the start of every frame, before the app applies the filter and draws.
    pub fn frame(&mut self, app: &mut EaslensApp, ctx: &egui::Context) {
        let now = Instant::now();
        let since_last = self.last_frame.map(|t| (now - t).as_secs_f64() * 1e3);
        self.last_frame = Some(now);
        // While loading, the window asks for its own frames, as it does for a user.
        if !matches!(self.phase, Phase::Loading(_)) {
            ctx.request_repaint();
        }
        let ms = |t: Instant| (t - self.started).as_secs_f64() * 1e3;
        self.phase = match self.phase {
            Phase::Loading(_) if app.error().is_some() => {
                eprintln!("easlens bench: {}", app.error().unwrap_or_default());
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                Phase::Done
            }
            Phase::Loading(asked) if app.is_loading() || app.capture().is_none() => {
                self.loading_frames += 1;
                if app.partial.is_some() && self.first_rows.is_none() {
                    self.first_rows = Some(now);
                }
                Phase::Loading(asked)
            }
            // The capture was taken in this frame, which draws the table: shown once it ends.
            Phase::Loading(asked) => {
                let since = |t: Instant| t.saturating_duration_since(asked).as_secs_f64() * 1e3;
                let c = app.capture().expect("the capture was taken");
                let times = app.load_times().expect("the capture was taken with its times");
                let n = c.sessions.len();
                if app.sessions.visible.len() != n {
                    eprintln!(
                        "easlens bench: the table shows {} of {n} sessions",
                        app.sessions.visible.len()
                    );
                }
                self.loads.push(Load {
                    path: c.path.clone(),
                    sessions: n,
                    start_ms: since(times.started),
                    engine_ms: since(times.opened),
                    ready_ms: since(times.ready),
                    taken_ms: since(now),
                    shown_ms: 0.0,
                    first_rows_ms: self.first_rows.take().map_or(-1.0, since),
                    frames: std::mem::take(&mut self.loading_frames),
                    cpu_s: 0.0,
                    rss_mb: 0.0,
                    peak_mb: 0.0,
                });
                ctx.request_repaint();
                Phase::Shown(asked)
            }
            Phase::Shown(asked) => {
                let (rss_mb, peak_mb) = memory_mb();
                if let Some(load) = self.loads.last_mut() {
                    load.shown_ms = (now - asked).as_secs_f64() * 1e3;
                    if load.first_rows_ms < 0.0 {
                        load.first_rows_ms = load.shown_ms;
                    }
                    (load.rss_mb, load.peak_mb) = (rss_mb, peak_mb);
                    load.cpu_s = cpu_seconds();
                }
                match self.next.take() {
                    Some(next) => {
                        app.open(next);
                        Phase::Loading(now)
                    }
                    None => Phase::Indexing,
                }
            }
            Phase::Indexing if app.filter.indexing().is_none() => {
                self.indexed_ms = ms(now);
                Phase::Scrolling(0)
            }
            Phase::Indexing => Phase::Indexing,
            Phase::Scrolling(n) => {
                // The time since the previous start is the previous (scrolled) frame's.
                if n > 0
                    && let Some(t) = since_last
                {
                    self.scroll_ms.push(t);
                }
                if n >= self.frames {
                    Phase::Filtering(0)
                } else {
                    let page = app.sessions.page_rows().max(1);
                    app.sessions.scroll_to_offset_rows(n * page);
                    Phase::Scrolling(n + 1)
                }
            }
            // A big capture is filtered by a job: the query's rows are recorded once they are shown.
            Phase::Filtering(k) if app.filter.is_filtering() => Phase::Filtering(k),
            Phase::Filtering(k) => {
                // The frame that just ended applied query k-1 (filter, sort, first paint of the rows).
                if k > 0 {
                    self.filters.push((
                        QUERIES[k - 1].to_string(),
                        app.sessions.visible.len(),
                        app.filter.last_eval_ms,
                        since_last.unwrap_or(0.0),
                    ));
                }
                if k >= QUERIES.len() {
                    self.report(app);
                    match std::env::var_os("EASLENS_BENCH_SCREENSHOT") {
                        Some(_) if std::env::var_os("EASLENS_BENCH_REDACT").is_some_and(|v| v == "1") => {
                            app.push(super::AppCommand::SetRedaction(true));
                            Phase::Redacting(now)
                        }
                        Some(path) => {
                            shoot(app, ctx, path.into());
                            Phase::Screenshot(now)
                        }
                        None => {
                            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                            Phase::Done
                        }
                    }
                } else {
                    app.filter.set_query(QUERIES[k]);
                    Phase::Filtering(k + 1)
                }
            }
            Phase::Redacting(asked) if app.redaction.is_showing_redacted() => {
                println!(
                    "  redacted copy shown after {:.0} ms",
                    (now - asked).as_secs_f64() * 1e3
                );
                let path = std::env::var_os("EASLENS_BENCH_SCREENSHOT").unwrap_or_default();
                shoot(app, ctx, path.into());
                Phase::Screenshot(now)
            }
            Phase::Redacting(asked) => Phase::Redacting(asked),
            Phase::Screenshot(started) if !app.screenshot.busy() => {
                let outcome = app.screenshot.message.as_ref().map_or("no outcome", |m| m.1.as_str());
                println!(
                    "  screenshot: {outcome} ({:.0} ms)",
                    (now - started).as_secs_f64() * 1e3
                );
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                Phase::Done
            }
            Phase::Screenshot(started) => Phase::Screenshot(started),
            Phase::Done => Phase::Done,
        };
    }

    fn report(&self, app: &EaslensApp) {
        let n = app.capture().map_or(0, |c| c.sessions.len());
        println!("easlens bench: {n} sessions");
        for (k, l) in self.loads.iter().enumerate() {
            let from = if k == 0 { "process start" } else { "asking" };
            println!(
                "  open {}: {} ({} sessions): first rows {:.0} ms, every session shown {:.0} ms after {from} ({} frames while loading, process CPU {:.2} s)",
                k + 1,
                super::loading::display_name(&l.path),
                l.sessions,
                l.first_rows_ms,
                l.shown_ms,
                l.frames,
                l.cpu_s
            );
            println!(
                "    open job started {:.0} ms, engine returned {:.0} ms, folder names {:.0} ms, taken by the window {:.0} ms, shown {:.0} ms; RSS {:.0} MB (peak {:.0} MB)",
                l.start_ms, l.engine_ms, l.ready_ms, l.taken_ms, l.shown_ms, l.rss_mb, l.peak_mb
            );
        }
        println!("  body text index ready: {:.0} ms", self.indexed_ms);
        let (med, p95, max) = stats(&self.scroll_ms);
        println!(
            "  scroll: {} frames, a screenful per frame: median {med:.1} ms, p95 {p95:.1} ms, max {max:.1} ms",
            self.scroll_ms.len()
        );
        for (q, rows, eval, frame) in &self.filters {
            println!(
                "  filter {:<32} {rows:>7} rows  evaluate {eval:>6.1} ms  frame {frame:>6.1} ms",
                format!("`{q}`")
            );
        }
        let worst = self.filters.iter().map(|f| f.3).fold(0.0, f64::max);
        println!("  slowest filter change (whole frame): {worst:.1} ms");
        let (rss, peak) = memory_mb();
        println!("  memory at the end: RSS {rss:.0} MB, peak {peak:.0} MB");
    }
}

/// Processor time used by the process so far, user and system (seconds), from /proc (zero
/// elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (in parentheses, which may hold spaces): utime and stime are the
    // 12th and 13th fields, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// The process's resident memory and its peak (MB), from /proc (zero elsewhere).
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The window size `EASLENS_BENCH_SIZE` asks for (`WIDTHxHEIGHT`).
pub fn window_size() -> Option<[f32; 2]> {
    let v = std::env::var("EASLENS_BENCH_SIZE").ok()?;
    let (w, h) = v.split_once('x')?;
    Some([w.trim().parse().ok()?, h.trim().parse().ok()?])
}

/// Median, 95th percentile and maximum.
fn stats(v: &[f64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95), s[s.len() - 1])
}

/// The screenshot of `EASLENS_BENCH_SCREENSHOT`: every session shown, session
/// `EASLENS_BENCH_SELECT` (else the first) selected, in view `EASLENS_BENCH_VIEW` (or the history
/// of item `EASLENS_BENCH_FOLLOW`).
fn shoot(app: &mut EaslensApp, ctx: &egui::Context, path: PathBuf) {
    app.push(super::AppCommand::SetFilter(String::new()));
    let number = std::env::var("EASLENS_BENCH_SELECT").ok().and_then(|v| v.parse().ok());
    match number {
        Some(n) => app.push(super::AppCommand::SelectSessionNumber(n)),
        None => app.sessions.select(0),
    }
    if let Ok(name) = std::env::var("EASLENS_BENCH_VIEW") {
        let name = name.to_ascii_lowercase();
        if let Some(v) = super::View::ALL
            .into_iter()
            .find(|v| v.title().to_ascii_lowercase().starts_with(&name))
        {
            app.push(super::AppCommand::ShowView(v));
        }
    }
    // `EASLENS_BENCH_FOLLOW=ID`: the history of an item, as a finding's link opens it.
    if let Ok(id) = std::env::var("EASLENS_BENCH_FOLLOW") {
        app.push(super::AppCommand::FollowItem(id));
    }
    match std::env::var("EASLENS_BENCH_THEME").as_deref() {
        Ok("light") => ctx.set_theme(egui::Theme::Light),
        Ok("dark") => ctx.set_theme(egui::Theme::Dark),
        _ => {}
    }
    app.screenshot.capture_to(ctx, super::screenshot::Target::Window, path);
}

#[cfg(test)]
mod tests {
    use super::stats;

    #[test]
    fn median_and_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let (med, p95, max) = stats(&v);
        assert_eq!((med.round(), p95, max), (51.0, 95.0, 100.0));
        assert_eq!(stats(&[]), (0.0, 0.0, 0.0));
    }
}
