//! Mailbox log benchmark: `cargo bench -p easlens-bench --bench mailbox_log`.
//!
//! Writes (with the sample generator) the mailbox log of a big generated conversation until it is
//! about 10 MB — the size Exchange caps one device's log at, about 5,000 entries — then reports
//! the time to open it as a capture (entries split, heads parsed, XML bodies read into documents,
//! every EAS summary computed), and to open ten overlapping dumps of it at once (each repeats all
//! but 500 entries of the one before, as successive `Get-MobileDeviceStatistics -GetMailboxLog`
//! dumps do) against ten times one dump: merging must stay linear. Median of
//! `EASLENS_BENCH_RUNS` (default 5); reading the same file is the floor.
//!
//! Then lines the 100,000-session small capture of the capture benchmark up with the log of its
//! first 5,000 requests (`analysis::align`): what adding a log to a big capture costs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use easlens_core::analysis::align;
use easlens_core::capture::{self, OpenOptions};
use easlens_samples::mailbox_log_writer::{MailboxLogOptions, write_mailbox_log};
use easlens_samples::scenarios::{BigShape, big_shaped};

mod common;

/// Entries in the 10 MB log, and the step between successive dumps.
const ENTRIES: usize = 5000;
const DUMP_STEP: usize = 500;
const DUMPS: usize = 10;

fn write_dump(path: &Path, exchanges: &[easlens_core::writers::Exchange], entries: std::ops::Range<usize>) {
    let options = MailboxLogOptions {
        entries,
        ..MailboxLogOptions::default()
    };
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    write_mailbox_log(std::io::BufWriter::new(file), exchanges, &options).unwrap_or_else(|e| panic!("{e}"));
}

fn timed(runs: usize, mut f: impl FnMut()) -> f64 {
    common::median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    let runs = common::runs(5);
    let dir = common::bench_data().join("mailbox-log");
    std::fs::create_dir_all(&dir).expect("bench-data/mailbox-log");
    // Small sessions: a real device's log is mostly Pings and small Syncs.
    let exchanges: Vec<_> = big_shaped(ENTRIES + DUMP_STEP * (DUMPS - 1), 7, BigShape::Small).collect();
    let one = dir.join("device.txt");
    write_dump(&one, &exchanges, 0..ENTRIES);
    let dumps: Vec<PathBuf> = (0..DUMPS)
        .map(|d| {
            let path = dir.join(format!("dump-{d}.txt"));
            write_dump(&path, &exchanges, d * DUMP_STEP..d * DUMP_STEP + ENTRIES);
            path
        })
        .collect();
    let size = std::fs::metadata(&one).unwrap().len();
    let total: u64 = dumps.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();

    let floor = timed(runs, || {
        std::hint::black_box(std::fs::read(&one).unwrap());
    });
    let mut sessions = 0;
    let open_one = timed(runs, || {
        sessions = capture::open(&one, &OpenOptions::default()).unwrap().sessions.len();
    });
    let paths: Vec<&Path> = dumps.iter().map(PathBuf::as_path).collect();
    let mut merged = 0;
    let open_ten = timed(runs, || {
        merged = capture::open_logs(&paths, &OpenOptions::default())
            .unwrap()
            .sessions
            .len();
    });
    println!("Mailbox log benchmark (median of {runs} runs)");
    println!(
        "one log:   {:.1} MB, {sessions} entries: open {open_one:.0} ms (reading the file: {floor:.1} ms)",
        size as f64 / 1e6
    );
    println!(
        "ten dumps: {:.1} MB, {merged} entries after merging: open {open_ten:.0} ms = {:.2} × ten single opens",
        total as f64 / 1e6,
        open_ten / (open_one * DUMPS as f64)
    );
    assert_eq!(sessions, ENTRIES);
    assert_eq!(merged, ENTRIES + DUMP_STEP * (DUMPS - 1));

    // The capture benchmark's file and the log of its first requests (the same generator seed).
    const BIG: usize = 100_000;
    let trace_path = common::big_capture_shaped(BIG, BigShape::Small);
    let big: Vec<_> = big_shaped(BIG, 1, BigShape::Small).take(ENTRIES).collect();
    let log_path = dir.join("big-capture-log.txt");
    write_dump(&log_path, &big, 0..ENTRIES);
    let trace = capture::open(&trace_path, &OpenOptions::default()).unwrap();
    let log = capture::open(&log_path, &OpenOptions::default()).unwrap();
    let mut matched = 0;
    let aligning = timed(runs.min(3), || {
        let a = align::align(&trace, &log, None);
        matched = a.pairs.iter().filter(|p| p.kind == align::PairKind::Matched).count();
    });
    println!(
        "align:     {} capture sessions with {} log entries: {aligning:.0} ms, {matched} matched",
        trace.sessions.len(),
        log.sessions.len()
    );
}
