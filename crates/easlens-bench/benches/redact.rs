//! Redaction benchmark: `cargo bench -p easlens-bench --bench redact`.
//!
//! For each size in `EASLENS_BENCH_SESSIONS` (default 10000) and shape in `EASLENS_BENCH_SHAPES`
//! (default `small,large`): the generated capture of the capture benchmark is opened, then
//! redacted whole (`redact::Redactor::capture`: every body decoded, redacted, re-encoded, every
//! EAS summary computed again), then the redacted copy is written as a SAZ (`writers::export`).
//! The floor, measured in the same run: writing the capture as opened to a SAZ (the same export
//! without redaction). Also the peak RSS of the process and the redacted copy's heap per session
//! (its bodies are kept in memory). Median of `EASLENS_BENCH_RUNS` (default 3).

use std::time::Instant;

use easlens_core::capture::{self, OpenOptions};
use easlens_core::redact::Redactor;
use easlens_core::writers::{ExportFormat, ExportTarget, export};

mod common;

#[global_allocator]
static ALLOCATOR: common::Counting = common::Counting;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    let runs = common::runs(3);
    let dir = common::bench_data().join("redact");
    std::fs::create_dir_all(&dir).expect("bench-data/redact");
    println!("Redaction benchmark (median of {runs} runs)");
    for n in common::sizes("10000") {
        for shape in common::shapes("small,large") {
            let path = common::big_capture_shaped(n, shape);
            let size = std::fs::metadata(&path).unwrap().len();
            let capture = capture::open(&path, &OpenOptions::default()).unwrap();
            let all: Vec<usize> = (0..capture.sessions.len()).collect();
            let out = dir.join("out.saz");
            let target = ExportTarget {
                path: out.clone(),
                format: ExportFormat::Saz,
                password: None,
            };
            let (mut floor, mut redacting, mut writing) = (Vec::new(), Vec::new(), Vec::new());
            let mut heap = 0i64;
            let mut pseudonyms = 0;
            for _ in 0..runs {
                let t = Instant::now();
                export(&capture, &all, &target).unwrap();
                floor.push(ms(t));

                common::count_heap();
                let before = common::live_heap_bytes();
                let t = Instant::now();
                let mut redactor = Redactor::new();
                let redacted = redactor.capture(&capture, None);
                redacting.push(ms(t));
                heap = common::live_heap_bytes() - before;
                pseudonyms = redactor.pseudonyms().entries().len();
                let t = Instant::now();
                export(&redacted, &all, &target).unwrap();
                writing.push(ms(t));
            }
            let (floor, redacting, writing) = (
                common::median(floor),
                common::median(redacting),
                common::median(writing),
            );
            println!(
                "{n} sessions ({shape:?}, {:.0} MB): redact {redacting:.0} ms + write SAZ {writing:.0} ms = {:.2} × writing it unredacted ({floor:.0} ms); \
                 redacted copy {:.0} B/session on the heap; {pseudonyms} pseudonyms; peak RSS {} MB",
                size as f64 / 1e6,
                (redacting + writing) / floor,
                heap as f64 / n as f64,
                common::peak_rss_kib().unwrap_or(0) / 1024,
            );
            let _ = std::fs::remove_file(&out);
        }
    }
}
