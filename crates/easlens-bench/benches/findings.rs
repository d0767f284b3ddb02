//! Findings benchmark: `cargo bench --bench findings` (size: `EASLENS_BENCH_SESSIONS`, default
//! 20000; several sizes comma-separated).
//!
//! For each size it writes (once) an N-session SAZ with the sample generator (`easlens samples
//! --big N`, shared with `--bench capture` in `bench-data/`), opens and indexes it, then times
//! `SyncKeyChains::build` and the findings over the indexed capture — the time they add to
//! opening a capture. Median of `EASLENS_BENCH_RUNS` (default 5) runs of the analysis.

use std::time::Instant;

use easlens_core::analysis::findings::Findings;
use easlens_core::analysis::synckey::SyncKeyChains;
use easlens_core::capture::{self, OpenOptions};

mod common;

/// The same allocator as the app, so that the figures are the app's.
#[global_allocator]
static GLOBAL: easlens_alloc::MiMalloc = easlens_alloc::MiMalloc;

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    let sizes = common::sizes("20000");
    let runs = common::runs(5);
    println!(
        "Findings benchmark ({} cores, median of {runs} runs)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>9} {:>12} {:>10} {:>10} {:>10} {:>8} {:>9} {:>9}",
        "sessions", "open+index", "chains", "findings", "total", "added", "chains#", "findings#"
    );
    for n in sizes {
        let path = common::big_capture(n);
        let t = Instant::now();
        let c = capture::open(&path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let open_ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(c.sessions.len(), n, "every session indexed");
        let (mut chain_ms, mut finding_ms) = (Vec::new(), Vec::new());
        let (mut chain_count, mut finding_count) = (0, 0);
        for _ in 0..runs {
            let t = Instant::now();
            let chains = SyncKeyChains::build(&c);
            chain_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let f = Findings::from_sessions(&c.sessions, &chains);
            finding_ms.push(t.elapsed().as_secs_f64() * 1e3);
            chain_count = chains.chains.len();
            finding_count = f.findings.len();
        }
        let (chains, findings) = (common::median(chain_ms), common::median(finding_ms));
        println!(
            "{:>9} {:>10.0}ms {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>7.1}% {:>9} {:>9}",
            n,
            open_ms,
            chains,
            findings,
            chains + findings,
            (chains + findings) * 100.0 / open_ms,
            chain_count,
            finding_count
        );
    }
}
