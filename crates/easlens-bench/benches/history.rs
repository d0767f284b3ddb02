//! Item history benchmark: `cargo bench --bench history` (sizes: `EASLENS_BENCH_SESSIONS=20000,100000`,
//! default 20000).
//!
//! The item operations are read while the capture is indexed (same decoded documents, no second
//! decode), so their cost is inside "open + index" — compare it with the figure of
//! `cargo bench --bench capture` before item extraction (README: 1.26 s for 20,000 sessions, 6.03 s
//! for 100,000). On top of that this prints the time of `HistoryIndex::build` and
//! `FolderNames::build`, of one history lookup with its changed fields, how many operations the
//! capture holds, and the peak RSS of the process. One run per size in a fresh process (this
//! binary, re-run with `EASLENS_BENCH_OPEN=FILE`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use easlens_core::analysis::folders::FolderNames;
use easlens_core::analysis::history::{self, HistoryIndex};
use easlens_core::capture::{self, OpenOptions};
use easlens_core::eas::items::{self, ItemOps};
use easlens_core::http::Side;

mod common;

#[global_allocator]
static GLOBAL: easlens_alloc::MiMalloc = easlens_alloc::MiMalloc;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Child mode: prints one line of figures for `path`.
fn measure(path: &Path) {
    let t = Instant::now();
    let c = capture::open(path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let open = ms(t);
    let ops: usize = c
        .sessions
        .iter()
        .filter_map(|s| s.eas.as_ref())
        .map(|e| e.items.len())
        .sum();
    let t = Instant::now();
    let index = HistoryIndex::build(&c);
    let build = ms(t);
    let t = Instant::now();
    let folders = FolderNames::build(&c);
    let folder_ms = ms(t);
    // A ServerId of the middle of the capture, fetched by ItemOperations too.
    let id = c.sessions[c.sessions.len() / 2..]
        .iter()
        .filter_map(|s| s.eas.as_ref())
        .flat_map(|e| e.items.iter())
        .find_map(|op| op.server_id.map(str::to_string))
        .expect("a ServerId");
    let t = Instant::now();
    let events = index.history(&c, &id);
    let changes = history::changed_fields(&c, &events).expect("bodies readable");
    let states = history::final_states(&events, &folders);
    let lookup = ms(t);
    assert!(!events.is_empty() && changes.len() == events.len() && !states.is_empty());
    // The extraction's own cost, apart from everything else indexing does: both bodies of every
    // session decoded again (read, inflate, decode) on one thread, then extracted, timed apart.
    // On a busy machine the ratio of the two is steadier than a wall-time difference.
    let (mut decode_ms, mut extract_ms) = (0.0, 0.0);
    for i in 0..c.sessions.len() {
        let mut ops = ItemOps::default();
        let mut folder_ops = Vec::new();
        for side in [Side::Request, Side::Response] {
            let t = Instant::now();
            let doc = c.body_document(i, side).ok().flatten();
            decode_ms += ms(t);
            if let Some(doc) = doc {
                let t = Instant::now();
                items::extract(&doc, side, &mut ops, &mut folder_ops);
                extract_ms += ms(t);
            }
        }
    }
    println!(
        "{} {open:.1} {ops} {} {build:.1} {folder_ms:.2} {} {} {lookup:.1} {} {decode_ms:.0} {extract_ms:.0}",
        c.sessions.len(),
        index.len(),
        folders.len(),
        events.len(),
        common::peak_rss_kib().unwrap_or(0)
    );
}

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    if let Ok(path) = std::env::var("EASLENS_BENCH_OPEN") {
        measure(Path::new(&path));
        return;
    }
    let sizes = common::sizes("20000");
    let me = std::env::current_exe().expect("own path");
    println!(
        "Item history benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>9} {:>11} {:>10} {:>10} {:>13} {:>13} {:>8} {:>15} {:>9} {:>17} {:>16}",
        "sessions",
        "open+index",
        "item ops",
        "ids",
        "history index",
        "folder names",
        "folders",
        "1 item (events)",
        "peak RSS",
        "decode (1 thread)",
        "extract (1 thread)"
    );
    for n in sizes {
        let path = common::big_capture(n);
        let out = Command::new(&me)
            .env("EASLENS_BENCH_OPEN", &path)
            .output()
            .expect("child run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.split_whitespace().collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        assert_eq!(num(0) as usize, n, "every session indexed");
        println!(
            "{:>9} {:>9.0}ms {:>10} {:>10} {:>11.1}ms {:>11.2}ms {:>8} {:>8.1}ms ({:>3}) {:>7.0}MB {:>15.0}ms {:>7.0}ms ({:.1}%)",
            f[0],
            num(1),
            f[2],
            f[3],
            num(4),
            num(5),
            f[6],
            num(8),
            f[7],
            num(9) / 1024.0,
            num(10),
            num(11),
            num(11) / num(10) * 100.0
        );
    }
}
