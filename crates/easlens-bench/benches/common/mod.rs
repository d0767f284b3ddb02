//! Shared by the capture-level benchmarks: their settings from the environment (sizes, runs), the
//! big generated captures in `bench-data/`, and the process's memory figures.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::alloc::GlobalAlloc;
use std::path::PathBuf;

pub use easlens_samples::sets::BigShape;

/// `EASLENS_BENCH_SESSIONS` (comma-separated sizes), else `default`.
pub fn sizes(default: &str) -> Vec<usize> {
    std::env::var("EASLENS_BENCH_SESSIONS")
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// `EASLENS_BENCH_RUNS`, else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("EASLENS_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `bench-data/` at the top of the workspace (ignored by git).
pub fn bench_data() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench-data"))
}

/// The release `easlens` binary, for whole-process figures: `EASLENS_BIN`, else the workspace's
/// `target/release/easlens` (`cargo build --release` first); `None` when neither exists.
pub fn easlens_bin() -> Option<PathBuf> {
    let path = std::env::var_os("EASLENS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/release/easlens")));
    path.exists().then_some(path)
}

/// `bench-data/big-N.saz`, written first (as `easlens samples --big N` writes it) when missing.
pub fn big_capture(n: usize) -> PathBuf {
    big_capture_shaped(n, BigShape::Large)
}

/// `EASLENS_BENCH_SHAPES` (comma-separated: `large`, `small`), else `default`.
pub fn shapes(default: &str) -> Vec<BigShape> {
    std::env::var("EASLENS_BENCH_SHAPES")
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| match s.trim() {
            "large" => Some(BigShape::Large),
            "small" => Some(BigShape::Small),
            _ => None,
        })
        .collect()
}

/// [`big_capture`] of the given shape: `bench-data/big-N-small.saz` (as `easlens samples --big N
/// --small` writes it) for [`BigShape::Small`].
pub fn big_capture_shaped(n: usize, shape: BigShape) -> PathBuf {
    let dir = bench_data();
    std::fs::create_dir_all(&dir).expect("cannot create bench-data/");
    let path = match shape {
        BigShape::Large => dir.join(format!("big-{n}.saz")),
        BigShape::Small => dir.join(format!("big-{n}-small.saz")),
    };
    if !path.exists() {
        eprintln!("writing {} …", path.display());
        easlens_samples::sets::write_big_shaped(&path, n, 1, easlens_samples::sets::BigFormat::Saz, shape)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    path
}

/// A `/proc/self/status` field of this process (`"VmRSS:"`, `"VmHWM:"` …), in KiB.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

/// The median of `v` (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The app's allocator, counting the bytes currently allocated once [`count_heap`] was called: the
/// heap a capture keeps after opening, divided by its sessions, is the per-session cost (RSS adds
/// the allocator's slack and the libraries). Counting is one atomic add per allocation on a counter
/// both indexing threads share; that contention cost a fifth of the time opening 1,000,000
/// sessions, so timed runs leave it off and the heap is measured in a run of its own.
pub struct Counting;

/// The counter and the switch on separate cache lines: reading the switch must not contend.
#[repr(align(128))]
struct Line<T>(T);

static LIVE_BYTES: Line<std::sync::atomic::AtomicUsize> = Line(std::sync::atomic::AtomicUsize::new(0));
static COUNTING: Line<std::sync::atomic::AtomicBool> = Line(std::sync::atomic::AtomicBool::new(false));

/// Start counting (first thing in `main`, so that what is freed later was counted when allocated).
pub fn count_heap() {
    COUNTING.0.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Bytes allocated and not yet freed through [`Counting`] since [`count_heap`] (negative when more
/// was freed than allocated since: memory allocated before may be freed after; the difference of
/// two readings is exact).
pub fn live_heap_bytes() -> i64 {
    LIVE_BYTES.0.load(std::sync::atomic::Ordering::Relaxed) as isize as i64
}

fn count(add: usize, sub: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    if COUNTING.0.load(Relaxed) {
        if add != 0 {
            LIVE_BYTES.0.fetch_add(add, Relaxed);
        }
        if sub != 0 {
            LIVE_BYTES.0.fetch_sub(sub, Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to mimalloc unchanged; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract is mimalloc's.
        let p = unsafe { easlens_alloc::MiMalloc.alloc(layout) };
        if !p.is_null() {
            count(layout.size(), 0);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        count(0, layout.size());
        // SAFETY: as above.
        unsafe { easlens_alloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { easlens_alloc::MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size(), 0);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { easlens_alloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size, layout.size());
        }
        p
    }
}
