//! IIS log benchmark: `cargo bench -p easlens-bench --bench iis` (size: `EASLENS_BENCH_IIS_MB`,
//! default 1024; runs: `EASLENS_BENCH_RUNS`, default 5).
//!
//! Writes (once) `bench-data/big-iis-<MB>.log` with the sample generator (`easlens samples
//! --big-iis`: a fleet of about 10,000 devices behind two front ends and two back ends, `#Fields`
//! changing every 100 MB), then times, run in turn so that the machine's noise falls on all three
//! alike, each in a fresh process:
//! - the floor, `grep -c Microsoft-Server-ActiveSync FILE` (what issue 14 measures against);
//! - reading alone: every line split and decoded, handed to a visitor that only counts;
//! - all reports: what `easlens iis-report all FILE` computes (the scan and its tables).
//!
//! It prints the medians, their ratios to the floor and the peak RSS of each run.
//!
//! The measuring process is this same binary, re-run with `EASLENS_BENCH_IIS=FILE` and
//! `EASLENS_BENCH_IIS_WHAT=read|reports`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use easlens_core::capture::OpenOptions;
use easlens_core::iis::line::EasLine;
use easlens_core::iis::reports::Reports;
use easlens_core::iis::scan::{self, LineAt, Visitor};

mod common;

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

/// Counts the lines it is given, and a byte of each, so that nothing is optimised away.
#[derive(Default)]
struct Count(u64, u64);

impl Visitor for Count {
    fn line(&mut self, line: &EasLine<'_>, _: LineAt) {
        self.0 += 1;
        self.1 += u64::from(line.status) + line.device_id.as_deref().map_or(0, |d| d.len() as u64);
    }

    fn merge(&mut self, other: Self) {
        self.0 += other.0;
        self.1 += other.1;
    }
}

/// CPU time of this process so far (user + system, all threads), in ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command's `(name)`: fields 14 and 15 of the whole line are utime and stime.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let ticks = field(11) + field(12);
    ticks * 10.0
}

/// Child mode: read `path`, print `wall_ms peak_rss_kib lines cpu_ms`.
fn measure(path: &Path, what: &str) {
    let start = Instant::now();
    let files = [path.to_path_buf()];
    let lines = match what {
        "read" => {
            let (count, _) =
                scan::scan(&files, &OpenOptions::default(), Count::default).unwrap_or_else(|e| panic!("{e}"));
            std::hint::black_box(count.1);
            count.0
        }
        _ => {
            let (reports, scan) =
                scan::scan(&files, &OpenOptions::default(), Reports::new).unwrap_or_else(|e| panic!("{e}"));
            let names: Vec<&str> = Reports::names().collect();
            let tables = reports.tables_named(&names);
            std::hint::black_box(tables.iter().map(|t| t.rows.len()).sum::<usize>());
            scan.activesync_lines()
        }
    };
    println!(
        "{:.1} {} {lines} {:.0}",
        start.elapsed().as_secs_f64() * 1e3,
        common::peak_rss_kib().unwrap_or(0),
        cpu_ms()
    );
}

/// `bench-data/big-iis-<MB>.log`, written first when missing.
fn big_log(mb: u64) -> PathBuf {
    let dir = common::bench_data();
    std::fs::create_dir_all(&dir).expect("bench-data");
    let path = dir.join(format!("big-iis-{mb}.log"));
    if !path.exists() {
        eprintln!("writing {} …", path.display());
        let tmp = path.with_extension("log.part");
        easlens_samples::sets::write_big_iis(&tmp, mb << 20, 1).unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&tmp, &path).expect("rename the bench log");
    }
    path
}

/// One timed run of `grep -c` (its count to a pipe: to /dev/null grep stops at the first match).
fn grep(path: &Path) -> Option<f64> {
    let t = Instant::now();
    let out = Command::new("grep")
        .args(["-c", "Microsoft-Server-ActiveSync"])
        .arg(path)
        .stdout(Stdio::piped())
        .output()
        .ok()?;
    out.status.success().then(|| t.elapsed().as_secs_f64() * 1e3)
}

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    if let Ok(path) = std::env::var("EASLENS_BENCH_IIS") {
        measure(
            Path::new(&path),
            &std::env::var("EASLENS_BENCH_IIS_WHAT").unwrap_or_default(),
        );
        return;
    }
    let mb: u64 = std::env::var("EASLENS_BENCH_IIS_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let runs = common::runs(5);
    let path = big_log(mb);
    let me = std::env::current_exe().expect("own path");
    // The first read puts the file in the page cache for every run after it.
    let _ = grep(&path);
    let (mut floor, mut read, mut all) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_read, mut cpu_all) = (Vec::new(), Vec::new());
    let (mut rss_read, mut rss_all, mut lines) = (0u64, 0u64, 0u64);
    for _ in 0..runs {
        if let Some(ms) = grep(&path) {
            floor.push(ms);
        }
        for (what, times, cpu, rss) in [
            ("read", &mut read, &mut cpu_read, &mut rss_read),
            ("reports", &mut all, &mut cpu_all, &mut rss_all),
        ] {
            let out = Command::new(&me)
                .env("EASLENS_BENCH_IIS", &path)
                .env("EASLENS_BENCH_IIS_WHAT", what)
                .output()
                .expect("child run");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout);
            let f: Vec<&str> = text.split_whitespace().collect();
            times.push(f[0].parse::<f64>().unwrap());
            *rss = (*rss).max(f[1].parse().unwrap());
            lines = f[2].parse().unwrap();
            cpu.push(f[3].parse::<f64>().unwrap());
        }
    }
    let len = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "IIS log benchmark: {} ({:.0} MB, {lines} ActiveSync lines), {} cores, median of {runs} runs",
        path.display(),
        len as f64 / (1 << 20) as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let spread = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!("{lo:.0}–{hi:.0} ms")
    };
    if floor.is_empty() {
        println!("  grep -c floor: SKIPPED (grep did not run)");
    }
    let floor_ms = (!floor.is_empty()).then(|| common::median(floor.clone()));
    if let Some(f) = floor_ms {
        println!(
            "  {:<40} {:>8.0} ms  ({})",
            "floor: grep -c Microsoft-Server-ActiveSync",
            f,
            spread(&floor)
        );
    }
    for (name, times, cpu, rss) in [
        ("reading alone (a visitor that counts)", &read, &cpu_read, rss_read),
        ("all reports (iis-report all)", &all, &cpu_all, rss_all),
    ] {
        let m = common::median(times.clone());
        let ratio = floor_ms.map_or(String::new(), |f| format!("{:.2}× the floor, ", m / f));
        println!(
            "  {name:<40} {m:>8.0} ms  ({}; {ratio}CPU {:.0} ms, peak RSS {:.0} MB)",
            spread(times),
            common::median(cpu.clone()),
            rss as f64 / 1024.0
        );
    }
}
