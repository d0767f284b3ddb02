//! WBXML codec benchmark: `cargo bench --bench wbxml`.
//!
//! Builds Sync responses of about 1 MiB and 10 MiB (about 1,200 and 12,000 email Adds, written
//! with the project's encoder), then reports:
//! - in-process decode and decode + render throughput (MB/s, median of several runs);
//! - whole-process time of `easlens decode FILE` and of libwbxml's `wbxml2xml` on the same file
//!   (median of 5; wbxml2xml is skipped when it is not installed).
//!
//! Files are written to `bench-data/` (git-ignored).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use easlens_core::wbxml::{decode, encode, from_xml, to_xml};

mod common;

/// One email Add as Exchange sends it to an EAS 14.1 client (HTML body, conversation ids).
fn email_add(out: &mut String, i: usize) {
    let body = format!(
        "&lt;html&gt;&lt;head&gt;&lt;meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"&gt;&lt;/head&gt;\
         &lt;body&gt;&lt;p&gt;Hello team, here is the weekly status for item {i}. The migration of the \
         finance mailboxes finished on time; two devices still fail to sync their calendars and are being \
         investigated with the vendor. Please review the attached notes before Thursday.&lt;/p&gt;\
         &lt;p&gt;Open actions: confirm the new throttling policy with the messaging team, collect a Fiddler \
         trace from the two affected phones, and compare it with the mailbox log for the same hour.&lt;/p&gt;\
         &lt;p&gt;Regards,&lt;br&gt;Dana&lt;/p&gt;&lt;/body&gt;&lt;/html&gt;"
    );
    let _ = write!(
        out,
        "<Add><ServerId>5:{i}</ServerId><ApplicationData>\
         <To xmlns=\"Email:\">\"Team\" &lt;team@example.com&gt;</To>\
         <From xmlns=\"Email:\">\"Dana Smith\" &lt;dana.smith@example.com&gt;</From>\
         <Subject xmlns=\"Email:\">Weekly status {i}</Subject>\
         <DateReceived xmlns=\"Email:\">2026-11-{:02}T09:{:02}:00.000Z</DateReceived>\
         <DisplayTo xmlns=\"Email:\">Team</DisplayTo>\
         <ThreadTopic xmlns=\"Email:\">Weekly status {i}</ThreadTopic>\
         <Importance xmlns=\"Email:\">1</Importance><Read xmlns=\"Email:\">0</Read>\
         <Body xmlns=\"AirSyncBase:\"><Type>2</Type><EstimatedDataSize>{}</EstimatedDataSize><Data>{body}</Data></Body>\
         <MessageClass xmlns=\"Email:\">IPM.Note</MessageClass><InternetCPID xmlns=\"Email:\">65001</InternetCPID>\
         <Flag xmlns=\"Email:\"/><ContentClass xmlns=\"Email:\">urn:content-classes:message</ContentClass>\
         <NativeBodyType xmlns=\"AirSyncBase:\">2</NativeBodyType>\
         <ConversationId xmlns=\"Email2:\" encoding=\"hex\">{:032X}</ConversationId>\
         <ConversationIndex xmlns=\"Email2:\" encoding=\"hex\">01CE9AC6{:02X}</ConversationIndex>\
         </ApplicationData></Add>",
        1 + i % 28,
        i % 60,
        body.len(),
        (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
        i % 256,
    );
}

fn sync_response(adds: usize) -> Vec<u8> {
    let mut xml = String::from(
        "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1449836018</SyncKey>\
         <CollectionId>5</CollectionId><Status>1</Status><Commands>",
    );
    for i in 0..adds {
        email_add(&mut xml, i);
    }
    xml.push_str("</Commands></Collection></Collections></Sync>");
    encode(&from_xml(&xml).expect("benchmark XML is valid"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_in_process(bytes: &[u8], runs: usize, render: bool) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let doc = decode(bytes).expect("benchmark body decodes");
                if render {
                    std::hint::black_box(to_xml(&doc));
                }
                std::hint::black_box(&doc);
                t.elapsed()
            })
            .collect(),
    )
}

/// Median wall time of a whole process writing to /dev/null, or None when it cannot run.
fn time_process(program: &str, args: &[&str], runs: usize) -> Option<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        let elapsed = t.elapsed();
        if !status.success() {
            eprintln!("  {program} exited with {status}");
            return None;
        }
        times.push(elapsed);
    }
    Some(median(times))
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. a filter) is ignored.
    let dir = common::bench_data();
    std::fs::create_dir_all(&dir).expect("cannot create bench-data/");
    let easlens = common::easlens_bin();
    if easlens.is_none() {
        println!(
            "no release easlens binary: `cargo build --release` (or set EASLENS_BIN) for the whole-process column"
        );
    }
    let have_libwbxml = Command::new("wbxml2xml")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    println!("WBXML benchmark (median times)");
    println!(
        "{:>8} {:>6} {:>10} {:>12} {:>14} {:>16} {:>16} {:>8}",
        "size", "adds", "XML out", "decode", "decode+render", "easlens decode", "wbxml2xml", "speedup"
    );
    for (label, adds) in [("1 MiB", 1_200usize), ("10 MiB", 12_000)] {
        let bytes = sync_response(adds);
        let path: PathBuf = dir.join(format!("sync-{adds}-adds.wbxml"));
        std::fs::write(&path, &bytes).expect("cannot write benchmark file");
        let xml_len = to_xml(&decode(&bytes).unwrap()).len();
        let runs = if adds > 5_000 { 7 } else { 21 };
        let dec = time_in_process(&bytes, runs, false);
        let full = time_in_process(&bytes, runs, true);
        let p = path.to_str().unwrap();
        let ours = easlens
            .as_deref()
            .and_then(|bin| time_process(&bin.to_string_lossy(), &["decode", p], 5));
        let theirs = if have_libwbxml {
            time_process("wbxml2xml", &["-l", "ACTIVESYNC", "-m", "0", "-k", "-o", "-", p], 5)
        } else {
            None
        };
        let fmt = |d: Option<Duration>| d.map_or("n/a".to_string(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3));
        let speedup = match (ours, theirs) {
            (Some(a), Some(b)) => format!("{:.1}x", b.as_secs_f64() / a.as_secs_f64()),
            _ => "n/a".into(),
        };
        println!(
            "{:>8} {:>6} {:>9.1}M {:>6.1} ms {:>4.0}MB/s {:>6.1} ms {:>4.0}MB/s {:>16} {:>16} {:>8}",
            label,
            adds,
            xml_len as f64 / 1e6,
            dec.as_secs_f64() * 1e3,
            mb_per_s(bytes.len(), dec),
            full.as_secs_f64() * 1e3,
            mb_per_s(bytes.len(), full),
            fmt(ours),
            fmt(theirs),
            speedup
        );
        println!("         ({} bytes of WBXML in {})", bytes.len(), display(&path));
    }
    if !have_libwbxml {
        println!("wbxml2xml not found: apt-get install libwbxml2-utils to compare with libwbxml");
    }
}

fn display(p: &Path) -> String {
    p.strip_prefix(common::bench_data().join(".."))
        .unwrap_or(p)
        .display()
        .to_string()
}
