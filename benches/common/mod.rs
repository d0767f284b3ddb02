//! Shared by the benchmarks: the generated big captures, the sizes asked for, and peak RSS.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `bench-data/big-N.saz`, written once with `easlens samples --big N`.
pub fn big_capture(n: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    std::fs::create_dir_all(&dir).expect("cannot create bench-data/");
    let path = dir.join(format!("big-{n}.saz"));
    if !path.exists() {
        eprintln!("writing {} …", path.display());
        let ok = Command::new(env!("CARGO_BIN_EXE_easlens"))
            .args(["samples", "--big", &n.to_string(), "--out"])
            .arg(&path)
            .stdout(Stdio::null())
            .status()
            .expect("run easlens samples");
        assert!(ok.success(), "easlens samples --big failed");
    }
    path
}

/// The sizes in `EASLENS_BENCH_SESSIONS` (comma-separated), else `default`.
pub fn sizes(default: &str) -> Vec<usize> {
    std::env::var("EASLENS_BENCH_SESSIONS")
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}
