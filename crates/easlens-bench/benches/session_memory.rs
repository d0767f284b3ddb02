//! Where a session's memory goes: `cargo bench --bench session_memory` (sizes:
//! `EASLENS_BENCH_SESSIONS=100000`; shapes: `EASLENS_BENCH_SHAPES=large,small`), or
//! `EASLENS_BENCH_OPEN=FILE` for any capture.
//!
//! Opens the capture, prints the heap it keeps per session (bytes allocated and not freed, counted
//! by the allocator), the inline size of the session structures, and then how much each part of
//! the sessions held, by clearing the parts one after the other and counting what was freed.

use std::mem::size_of;
use std::path::Path;

use easlens_core::capture::{self, OpenOptions};
use easlens_core::{eas, http, readers};

mod common;

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

fn main() {
    easlens_alloc::return_freed_memory_promptly();
    common::count_heap();
    match std::env::var("EASLENS_BENCH_OPEN") {
        Ok(path) => breakdown(Path::new(&path)),
        Err(_) => {
            let shapes = common::shapes("large,small");
            for n in common::sizes("100000") {
                for &shape in &shapes {
                    let path = common::big_capture_shaped(n, shape);
                    println!("{}", path.display());
                    breakdown(&path);
                }
            }
        }
    }
}

fn breakdown(path: &Path) {
    println!(
        "EasSummary {} EasHeaders {} StatusEntry {} SyncKeyEntry {} HttpSession {} Timers {} Request {} Response {} RequestHead {} ResponseHead {} Headers {} Body {} SessionFlags {}",
        size_of::<eas::session::EasSummary>(),
        size_of::<eas::session::EasHeaders>(),
        size_of::<eas::session::StatusEntry>(),
        size_of::<eas::session::SyncKeyEntry>(),
        size_of::<readers::HttpSession>(),
        size_of::<readers::Timers>(),
        size_of::<readers::Request>(),
        size_of::<readers::Response>(),
        size_of::<http::RequestHead>(),
        size_of::<http::ResponseHead>(),
        size_of::<http::Headers>(),
        size_of::<readers::Body>(),
        size_of::<readers::SessionFlags>()
    );
    let h0 = common::live_heap_bytes();
    let mut c = capture::open(path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let n = c.sessions.len() as f64;
    println!(
        "after open: VmRSS {} KiB, VmHWM {} KiB, live heap {} KiB",
        common::proc_status_kib("VmRSS:").unwrap_or(0),
        common::peak_rss_kib().unwrap_or(0),
        (common::live_heap_bytes() - h0) / 1024
    );
    let mut last = common::live_heap_bytes();
    println!(
        "total {:.0} B/sess; Vec<Session> cap {} x {} B = {:.0} B/sess",
        (last - h0) as f64 / n,
        c.sessions.capacity(),
        std::mem::size_of::<capture::Session>(),
        (c.sessions.capacity() * std::mem::size_of::<capture::Session>()) as f64 / n
    );
    let mut step = |name: &str, c: &mut capture::Capture, f: &dyn Fn(&mut capture::Session)| {
        for s in c.sessions.iter_mut() {
            f(s)
        }
        let now = common::live_heap_bytes();
        println!("{name:>28}: {:.0} B/sess", (last as f64 - now as f64) / n);
        last = now;
    };
    step("eas.items", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.items = Default::default()
        }
    });
    step("eas.statuses", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.statuses = Default::default()
        }
    });
    step("eas.sync_keys", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.sync_keys = Default::default()
        }
    });
    step("eas.collection_ids", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.collection_ids = Default::default()
        }
    });
    step("eas.highlights", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.highlights = Default::default()
        }
    });
    step("eas.folders", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.folders = Default::default()
        }
    });
    step("eas.notes", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.notes = Default::default()
        }
    });
    step("eas.headers", &mut c, &|s| {
        if let Some(e) = s.eas.as_mut() {
            e.headers = Default::default()
        }
    });
    step("eas rest", &mut c, &|s| s.eas = None);
    step("request url", &mut c, &|s| {
        if let Some(r) = s.http.request.as_mut() {
            r.set_url(String::new())
        }
    });
    step("request headers", &mut c, &|s| {
        if let Some(r) = s.http.request.as_mut() {
            r.head.headers = Default::default()
        }
    });
    step("response headers", &mut c, &|s| {
        if let Some(r) = s.http.response.as_mut() {
            r.head.headers = Default::default()
        }
    });
    step("request/response rest", &mut c, &|s| {
        s.http.request = None;
        s.http.response = None;
    });
    step("ips/process/comment/notes", &mut c, &|s| {
        s.http.client_ip = None;
        s.http.server_ip = None;
        s.http.process = None;
        s.http.comment = None;
        s.http.notes = Vec::new();
    });
    c.sessions = Vec::new();
    let now = common::live_heap_bytes();
    println!("{:>28}: {:.0} B/sess", "Vec<Session>", (last as f64 - now as f64) / n);
    last = now;
    drop(c);
    let now = common::live_heap_bytes();
    println!(
        "{:>28}: {:.0} B/sess",
        "store+cache+rest",
        (last as f64 - now as f64) / n
    );
}
