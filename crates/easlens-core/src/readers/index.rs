//! The indexing loop shared by the readers: work on every session in parallel (rayon, all
//! cores), report progress at most every 50 ms, stop early when cancelled. Each job also runs the
//! caller's [`Indexer`](super::Indexer) on its session while the raw bodies are in hand; they are
//! dropped afterwards.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::OpenOptions;

const REPORT_EVERY: Duration = Duration::from_millis(50);

/// Runs `job(i)` for `0..count` in parallel, in order of results. `None` when cancelled.
/// `label` is shown with the progress ("Indexing sessions 1,234 of 20,000").
pub fn parallel_map<T: Send>(
    count: usize,
    options: &OpenOptions<'_>,
    label: &str,
    job: impl Fn(usize) -> T + Sync + Send,
) -> Option<Vec<T>> {
    parallel_map_with(count, options, label, || (), |_, i| job(i))
}

/// [`parallel_map`] where each job also gets a worker state made by `init` (made once per batch
/// of jobs a worker takes, not once per job).
pub fn parallel_map_with<W, T: Send>(
    count: usize,
    options: &OpenOptions<'_>,
    label: &str,
    init: impl Fn() -> W + Sync + Send,
    job: impl Fn(&mut W, usize) -> T + Sync + Send,
) -> Option<Vec<T>> {
    let done = AtomicUsize::new(0);
    let last_report = Mutex::new(Instant::now() - REPORT_EVERY);
    options.report(0.0, format!("{label} 0 of {count}"));
    // Collected in place (an indexed collect writes each result to its slot) rather than through
    // per-thread lists appended at the end, which held every result twice.
    let results: Vec<Option<T>> = (0..count)
        .into_par_iter()
        .map_init(init, |state, i| {
            if options.cancelled() {
                return None;
            }
            let out = job(state, i);
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            if options.progress.is_some()
                && let Ok(mut last) = last_report.try_lock()
                && (last.elapsed() >= REPORT_EVERY || finished == count)
            {
                *last = Instant::now();
                options.report(
                    finished as f32 / count.max(1) as f32,
                    format!("{label} {finished} of {count}"),
                );
            }
            Some(out)
        })
        .collect();
    if options.cancelled() {
        return None;
    }
    results.into_iter().collect()
}
