//! Session filter benchmark: `cargo bench --bench filter`.
//!
//! Opens `bench-data/big-100000.saz` when it exists, else `bench-data/big-20000.saz` (written
//! first with `easlens samples --big 20000` when missing); `EASLENS_BENCH_FILTER_FILE=PATH` picks
//! another capture. Then reports:
//!
//! * metadata queries over 100,000 sessions (the capture's sessions repeated up to 100,000 when it
//!   has fewer; no body is read): parse + `filter`, median of 15 runs;
//! * `TextIndex::build`: wall and CPU time, index memory (its own count, and resident memory
//!   before/after), words and postings;
//! * free-text queries with the index, as the filter bar runs them on each keystroke (parse, resolve
//!   against the index, filter), and without the index (URL, headers and notes only).
//!
//! The machine's load average is printed first: the figures are only as quiet as the machine.

use std::path::{Path, PathBuf};
use std::time::Instant;

use easlens_core::capture::{self, Capture, Format, OpenOptions, Session};
use easlens_core::filter::{self, TextIndex};
use easlens_core::readers::MemoryStore;

mod common;

/// The same allocator as the app, so that the figures are the app's.
#[global_allocator]
static GLOBAL: easlens_alloc::MiMalloc = easlens_alloc::MiMalloc;

const RUNS: usize = 15;
const METADATA_SESSIONS: usize = 100_000;

/// User + system CPU time of this process, in milliseconds (clock ticks of 10 ms).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    (ticks(11) + ticks(12)) * 10.0
}

/// Median wall time of `f` over `RUNS` runs, in milliseconds, and its last result.
fn time<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (common::median(times), last.expect("RUNS > 0"))
}

fn capture_file() -> PathBuf {
    if let Ok(p) = std::env::var("EASLENS_BENCH_FILTER_FILE") {
        return PathBuf::from(p);
    }
    let dir = common::bench_data();
    let big = dir.join("big-100000.saz");
    if big.exists() {
        return big;
    }
    common::big_capture(20000)
}

/// The capture's sessions repeated (renumbered) up to `n`, for filtering only.
fn repeated(c: &Capture, n: usize) -> Capture {
    let mut sessions: Vec<Session> = Vec::with_capacity(n);
    while sessions.len() < n {
        for s in c.sessions.iter().take(n - sessions.len()) {
            let mut s = s.clone();
            s.index = sessions.len() as u32 + 1;
            sessions.push(s);
        }
    }
    Capture::new(
        Path::new("repeated.saz").into(),
        Format::Saz,
        sessions,
        Vec::new(),
        Box::new(MemoryStore),
    )
}

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    let path = capture_file();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Session filter benchmark ({} cores, load average {}; median of {RUNS} runs)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let t = Instant::now();
    let c = capture::open(&path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "capture: {} ({} sessions, {:.0} MB), opened in {:.1} s",
        path.strip_prefix(common::bench_data().join(".."))
            .unwrap_or(&path)
            .display(),
        c.sessions.len(),
        std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // ---- metadata queries over 100,000 sessions
    let meta = if c.sessions.len() >= METADATA_SESSIONS {
        None
    } else {
        Some(repeated(&c, METADATA_SESSIONS))
    };
    let m = meta.as_ref().unwrap_or(&c);
    println!(
        "\nmetadata queries over {} sessions (parse + filter):",
        m.sessions.len()
    );
    for query in [
        "cmd:Sync",
        "http:!200",
        "status:!1",
        "throttled OR problem",
        "cmd:Sync,Ping folder:5 -status:1",
        "device:Android ver:14 http:2xx",
        "header:Content-Encoding=gzip",
        "user:jdoe index:1000-90000 -cmd:Ping",
        "Fiddler",
    ] {
        let (ms, found) = time(|| filter::filter(m, &filter::parse(query).unwrap(), None));
        println!("  {query:42} {ms:>8.2} ms  {:>7} matches", found.len());
    }

    drop(meta);

    // ---- the text index
    println!("\ntext index of {} sessions:", c.sessions.len());
    // Reset the peak resident size so that VmHWM is the build's own peak.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = common::proc_status_kib("VmRSS:").unwrap_or(0);
    let (wall0, cpu0) = (Instant::now(), cpu_ms());
    let index = TextIndex::build(&c, None, None).expect("not cancelled");
    let (wall, cpu) = (wall0.elapsed().as_secs_f64() * 1e3, cpu_ms() - cpu0);
    let rss_after = common::proc_status_kib("VmRSS:").unwrap_or(0);
    let peak = common::peak_rss_kib().unwrap_or(0);
    let s = index.stats();
    println!(
        "  build: {:.2} s wall, {:.2} s CPU; {} bodies, {:.0} MB of text cut into words",
        wall / 1e3,
        cpu / 1e3,
        s.bodies,
        s.text_bytes as f64 / 1e6
    );
    println!(
        "  index: {:.1} MB ({:.0} bytes/session; {} words, {} postings, {} words as bitmaps)",
        s.memory_bytes as f64 / 1e6,
        s.memory_bytes as f64 / c.sessions.len().max(1) as f64,
        s.words,
        s.postings,
        s.bitmap_words
    );
    println!(
        "  resident: {:.0} MB before, {:.0} MB after ({:+.0} MB), {:.0} MB peak during the build",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after as f64 - rss_before as f64) / 1024.0,
        peak as f64 / 1024.0
    );

    // ---- free text
    println!(
        "\nfree-text queries over {} sessions (parse + resolve + filter):",
        c.sessions.len()
    );
    println!(
        "  {:42} {:>11} {:>9}   {:>11} {:>9}",
        "", "with index", "matches", "without", "matches"
    );
    for query in [
        "q",
        "qu",
        "quarterly",
        "\"Quarterly numbers for review\"",
        "e",
        "er",
        "zzzzqx",
        "fabrikam.com",
        "cmd:Sync quarterly -status:1",
        "Viele Grüße",
        "jdoe",
    ] {
        let (with_ms, with) = time(|| filter::filter(&c, &filter::parse(query).unwrap(), Some(&index)));
        let (without_ms, without) = time(|| filter::filter(&c, &filter::parse(query).unwrap(), None));
        println!(
            "  {query:42} {with_ms:>8.2} ms {:>9}   {without_ms:>8.2} ms {:>9}",
            with.len(),
            without.len()
        );
    }
}
