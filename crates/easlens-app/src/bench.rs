//! The bench mode: `EASLENS_BENCH=1 easlens FILE` opens FILE, waits for the body index, scrolls the
//! session table for `EASLENS_BENCH_FRAMES` frames (default 300) a screenful at a time, applies a
//! series of filters, prints the timings to stdout and closes the window. With
//! `EASLENS_BENCH_SCREENSHOT=FILE` it then saves the window as "Save screenshot" does.
//!
//! A frame's time is the wall-clock time between the starts of two consecutive frames with
//! continuous repaint and vsync off: layout, tessellation, painting and the buffer swap.

use eframe::egui;
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
    Loading,
    Indexing,
    Scrolling(usize),
    /// Sets query `k` (applied in the same frame) after recording query `k-1`'s frame.
    Filtering(usize),
    /// `EASLENS_BENCH_SCREENSHOT=FILE`: the window saved through "Save screenshot" (without the
    /// dialog), timed.
    Screenshot(Instant),
    Done,
}

pub struct Bench {
    frames: usize,
    phase: Phase,
    started: Instant,
    last_frame: Option<Instant>,
    loaded_ms: f64,
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
        Some(Bench {
            frames,
            phase: Phase::Loading,
            started: Instant::now(),
            last_frame: None,
            loaded_ms: 0.0,
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
        ctx.request_repaint();
        let ms = |t: Instant| (t - self.started).as_secs_f64() * 1e3;
        self.phase = match self.phase {
            Phase::Loading => match app.capture() {
                Some(_) => {
                    self.loaded_ms = ms(now);
                    Phase::Indexing
                }
                None if app.error().is_some() => {
                    eprintln!("easlens bench: {}", app.error().unwrap_or_default());
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    Phase::Done
                }
                None => Phase::Loading,
            },
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
                        Some(path) => {
                            app.sessions.select(0);
                            app.screenshot
                                .capture_to(ctx, super::screenshot::Target::Window, path.into());
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
        println!("  opened and indexed: {:.0} ms", self.loaded_ms);
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
    }
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
