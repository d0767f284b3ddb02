//! Capture indexing benchmark: `cargo bench --bench capture` (sizes: `EASLENS_BENCH_SESSIONS=20000,100000`;
//! shapes: `EASLENS_BENCH_SHAPES=large,small`).
//!
//! For each size and shape it writes (once) an N-session SAZ with the sample generator (`easlens
//! samples --big N`: mostly Sync responses of 1-50 KB; `--small`: bodies of a few hundred bytes,
//! where per-session costs rather than inflating dominate), then reports, for opening and indexing it in a
//! fresh process: wall time, peak RSS (VmHWM), the time of the first progress report and of the
//! first one that shows sessions indexed; and, on
//! the same file, the time of `unzip -p FILE > /dev/null` — the cost of merely inflating it.
//!
//! The measuring process is this same binary, re-run with `EASLENS_BENCH_OPEN=FILE`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use easlens_core::capture::{self, OpenOptions, Progress};

mod common;

/// The same allocator as the app (counting live bytes), so that the figures are the app's.
#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

/// Child mode: open the file, print `wall_ms first_report_ms first_indexed_report_ms peak_rss_kib
/// sessions eas_sessions live_heap_bytes` (the heap only with `EASLENS_BENCH_HEAP` set, else 0).
fn measure(path: &Path) {
    let start = Instant::now();
    // The first report of all, and the first that shows sessions indexed (fraction > 0).
    let first: Mutex<(Option<Duration>, Option<Duration>)> = Mutex::new((None, None));
    let progress = |p: Progress| {
        let mut f = first.lock().unwrap();
        f.0.get_or_insert_with(|| start.elapsed());
        if p.fraction > 0.0 {
            f.1.get_or_insert_with(|| start.elapsed());
        }
    };
    let options = OpenOptions {
        progress: Some(&progress),
        ..Default::default()
    };
    let heap_before = common::live_heap_bytes();
    let c = capture::open(path, &options).unwrap_or_else(|e| panic!("{e}"));
    let wall = start.elapsed();
    let kept = common::live_heap_bytes().saturating_sub(heap_before);
    let eas = c.sessions.iter().filter(|s| s.eas.is_some()).count();
    let (any, moving) = *first.lock().unwrap();
    println!(
        "{:.1} {:.1} {:.1} {} {} {} {}",
        wall.as_secs_f64() * 1e3,
        any.unwrap_or(wall).as_secs_f64() * 1e3,
        moving.unwrap_or(wall).as_secs_f64() * 1e3,
        common::peak_rss_kib().unwrap_or(0),
        c.sessions.len(),
        eas,
        kept
    );
}

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    // Only the run that measures the heap counts it (see [`common::Counting`]).
    if std::env::var_os("EASLENS_BENCH_HEAP").is_some() {
        common::count_heap();
    }
    if let Ok(path) = std::env::var("EASLENS_BENCH_OPEN") {
        measure(Path::new(&path));
        return;
    }
    let sizes = common::sizes("20000,100000");
    let shapes = common::shapes("large,small");
    let runs = common::runs(3);
    let me = std::env::current_exe().expect("own path");
    println!(
        "Capture indexing benchmark ({} cores, median of {runs} runs)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>9} {:>6} {:>10} {:>11} {:>14} {:>7} {:>13} {:>13} {:>10} {:>9} {:>10} {:>10}",
        "sessions",
        "shape",
        "file",
        "open+index",
        "unzip -p floor",
        "ratio",
        "first report",
        "first indexed",
        "peak RSS",
        "RSS/file",
        "RSS/sess.",
        "heap/sess."
    );
    for (n, shape) in sizes.iter().flat_map(|&n| shapes.iter().map(move |&s| (n, s))) {
        let path = common::big_capture_shaped(n, shape);
        let file_len = std::fs::metadata(&path).unwrap().len();
        let (mut walls, mut firsts, mut indexed, mut rss, mut count) =
            (Vec::new(), Vec::new(), Vec::new(), 0u64, (0, 0));
        let mut kept = 0i64;
        // The timed runs, then one that counts the heap.
        for run in 0..=runs {
            let mut child = Command::new(&me);
            child.env("EASLENS_BENCH_OPEN", &path);
            if run == runs {
                child.env("EASLENS_BENCH_HEAP", "1");
            }
            let out = child.output().expect("child run");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout);
            let f: Vec<&str> = text.split_whitespace().collect();
            count = (f[4].parse::<usize>().unwrap(), f[5].parse::<usize>().unwrap());
            if run == runs {
                kept = f[6].parse().unwrap();
                continue;
            }
            walls.push(f[0].parse::<f64>().unwrap());
            firsts.push(f[1].parse::<f64>().unwrap());
            indexed.push(f[2].parse::<f64>().unwrap());
            rss = rss.max(f[3].parse().unwrap());
        }
        let unzip: Vec<f64> = (0..runs)
            .filter_map(|_| {
                let t = Instant::now();
                let ok = Command::new("unzip")
                    .arg("-p")
                    .arg(&path)
                    .stdout(Stdio::null())
                    .status()
                    .ok()?;
                ok.success().then(|| t.elapsed().as_secs_f64() * 1e3)
            })
            .collect();
        let wall = common::median(walls);
        let floor = if unzip.is_empty() {
            f64::NAN
        } else {
            common::median(unzip)
        };
        println!(
            "{:>9} {:>6} {:>8.0}MB {:>9.0}ms {:>12.0}ms {:>6.2}x {:>11.1}ms {:>11.1}ms {:>8.0}MB {:>9.2} {:>8.0} B {:>8.0} B",
            count.0,
            match shape {
                common::BigShape::Large => "large",
                common::BigShape::Small => "small",
            },
            file_len as f64 / 1e6,
            wall,
            floor,
            wall / floor,
            common::median(firsts),
            common::median(indexed),
            rss as f64 * 1024.0 / 1e6,
            rss as f64 * 1024.0 / file_len as f64,
            rss as f64 * 1024.0 / count.0.max(1) as f64,
            kept as f64 / count.0.max(1) as f64
        );
        assert_eq!(count.0, n, "every session indexed");
        println!(
            "          ({} EAS sessions; {})",
            count.1,
            path.strip_prefix(common::bench_data().join(".."))
                .unwrap_or(&path)
                .display()
        );
    }
}
