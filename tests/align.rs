//! Each bundled capture lined up with the mailbox log the sample generator wrote for it: the
//! pairs, the clock offset and the cross-source findings are exactly what the generator made
//! (its manifest, `samples/<stem>.mailbox-log.json`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::easlens_json_array;
use easlens_core::analysis::align::{self, PairKind};
use easlens_core::capture::{self, Capture, OpenOptions};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn open(path: &Path) -> Capture {
    capture::open(path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The scenarios with a mailbox log: (stem, manifest).
fn manifests() -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(samples())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".mailbox-log.json")?.to_string();
            let text = std::fs::read_to_string(samples().join(&name)).unwrap();
            Some((stem, serde_json::from_str(&text).unwrap()))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Capture index (as `easlens sessions` prints it) of the exchange at `trace_index` (0-based).
fn trace_session(v: &serde_json::Value) -> u32 {
    v["trace_index"].as_u64().expect("trace_index") as u32 + 1
}

#[test]
fn every_pair_the_generator_made_is_found_with_the_clock_offset() {
    let all = manifests();
    assert!(all.len() >= 14, "{} scenarios with a mailbox log", all.len());
    for (stem, m) in &all {
        let trace = open(&samples().join(format!("{stem}.saz")));
        let log = open(&samples().join(format!("{stem}.mailbox-log.txt")));
        let a = align::align(&trace, &log, None);
        let offset = m["clock_offset_seconds"].as_i64().unwrap();
        assert!(
            (a.clock_offset_seconds - offset).abs() <= 2,
            "{stem}: offset {} against {offset}",
            a.clock_offset_seconds
        );
        let id = |l: usize| format!("{:08X}", log.sessions[l].id.unwrap());
        let index = |t: usize| trace.sessions[t].index;
        let matched: BTreeSet<(u32, String)> = a
            .pairs
            .iter()
            .filter(|p| p.kind == PairKind::Matched)
            .map(|p| (index(p.trace.unwrap()), id(p.log.unwrap())))
            .collect();
        let expected: BTreeSet<(u32, String)> = m["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !e["trace_index"].is_null())
            .map(|e| (trace_session(e), e["identifier"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(matched, expected, "{stem}");
        let trace_only: BTreeSet<u32> = a
            .pairs
            .iter()
            .filter(|p| p.kind == PairKind::TraceOnly)
            .map(|p| index(p.trace.unwrap()))
            .collect();
        let expected: BTreeSet<u32> = m["trace_only"].as_array().unwrap().iter().map(trace_session).collect();
        assert_eq!(trace_only, expected, "{stem}: trace only");
        let log_only: BTreeSet<String> = a
            .pairs
            .iter()
            .filter(|p| p.kind == PairKind::LogOnly)
            .map(|p| id(p.log.unwrap()))
            .collect();
        let expected: BTreeSet<String> = m["log_only"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["identifier"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(log_only, expected, "{stem}: log only");
        // Every session (tunnels aside) and every entry once.
        let traced = a.pairs.iter().filter(|p| p.trace.is_some()).count();
        let logged = a.pairs.iter().filter(|p| p.log.is_some()).count();
        assert_eq!(
            traced,
            trace.sessions.iter().filter(|s| !s.flags.tunnel).count(),
            "{stem}"
        );
        assert_eq!(logged, log.sessions.len(), "{stem}");
        // A response the device lost is the only difference of a matched pair.
        for p in a.pairs.iter().filter(|p| p.kind == PairKind::Matched) {
            let lost = m["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["identifier"] == id(p.log.unwrap()).as_str() && e["response_lost"] == true);
            if lost {
                assert!(
                    p.differences
                        .iter()
                        .any(|d| d.starts_with("the device got no response")),
                    "{stem}: {:?}",
                    p.differences
                );
            } else {
                assert!(p.differences.is_empty(), "{stem}: {:?}", p.differences);
            }
        }
    }
}

#[test]
fn a_known_zone_leaves_only_the_skew() {
    let stem = "healthy-iphone";
    let trace = open(&samples().join(format!("{stem}.saz")));
    let options = OpenOptions {
        log_offset: Some(chrono::FixedOffset::east_opt(3600).unwrap()),
        ..Default::default()
    };
    let log = capture::open(&samples().join(format!("{stem}.mailbox-log.txt")), &options).unwrap();
    let a = align::align(&trace, &log, Some(0));
    assert!((0..=4).contains(&a.clock_offset_seconds), "{}", a.clock_offset_seconds);
    assert!(a.pairs.iter().filter(|p| p.kind == PairKind::Matched).count() >= 16);
}

#[test]
fn cross_source_findings_cite_the_right_sessions() {
    let findings = |stem: &str| {
        let s = samples();
        easlens_json_array(&[
            "findings",
            s.join(format!("{stem}.saz")).to_str().unwrap(),
            "--log",
            s.join(format!("{stem}.mailbox-log.txt")).to_str().unwrap(),
            "--json",
        ])
    };
    let rule = |all: &[serde_json::Value], id: &str| -> Option<Vec<u64>> {
        all.iter().find(|f| f["rule"] == id).map(|f| {
            f["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        })
    };
    for (stem, m) in manifests() {
        let all = findings(&stem);
        // Requests the proxy answered never reached Exchange; a 401 is not logged by Exchange
        // either, and is no sign of anything in between.
        let trace = open(&samples().join(format!("{stem}.saz")));
        let expected: Vec<u64> = m["trace_only"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| u64::from(trace_session(e)))
            .filter(|&i| {
                let s = trace.sessions.iter().find(|s| u64::from(s.index) == i).unwrap();
                s.flags.generated || s.http_status() != Some(401)
            })
            .collect();
        assert_eq!(
            rule(&all, "not-reaching-exchange"),
            (!expected.is_empty()).then_some(expected),
            "{stem}"
        );
        let lost: Vec<u64> = m["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["response_lost"] == true)
            .map(|e| u64::from(trace_session(e)))
            .collect();
        assert_eq!(
            rule(&all, "response-lost"),
            (!lost.is_empty()).then_some(lost),
            "{stem}"
        );
    }
    let all = findings("synckey-reset-android");
    let exception = all
        .iter()
        .find(|f| f["rule"] == "server-exception")
        .expect("server-exception");
    assert!(
        exception["message"]
            .as_str()
            .unwrap()
            .contains("SyncCommand_OnExecute_Exception"),
        "{exception}"
    );
}

#[test]
fn the_align_json_contract() {
    let s = samples();
    let out = common::easlens(&[
        "align",
        s.join("redirect-and-auth-iphone.saz").to_str().unwrap(),
        s.join("redirect-and-auth-iphone.mailbox-log.txt").to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["clock_offset_seconds"].is_i64());
    let pairs = v["pairs"].as_array().unwrap();
    for p in pairs {
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["trace_session", "log_identifier", "kind", "differences"]);
        match p["kind"].as_str().unwrap() {
            "matched" => assert!(p["trace_session"].is_u64() && p["log_identifier"].is_string()),
            "trace_only" => assert!(p["trace_session"].is_u64() && p["log_identifier"].is_null()),
            "log_only" => assert!(p["trace_session"].is_null() && p["log_identifier"].is_string()),
            other => panic!("kind {other}"),
        }
    }
    // The 502 Fiddler generated is the trace-only session.
    let proxy = pairs.iter().find(|p| p["kind"] == "trace_only").unwrap();
    assert_eq!(proxy["trace_session"], 2);
}

#[test]
fn a_matched_pair_says_what_differs() {
    // Exchange's entry 6 (a Sync) as if it had answered 503 with Status 3 to a request with
    // another WindowSize than the device sent.
    let text = std::fs::read_to_string(samples().join("healthy-iphone.mailbox-log.txt")).unwrap();
    let start = text.find(" Log Entry: 6\r\n").unwrap();
    let end = text.find(" Log Entry: 7\r\n").unwrap();
    let entry = text[start..end]
        .replacen("<WindowSize>25</WindowSize>", "<WindowSize>26</WindowSize>", 1)
        .replacen("HTTP/1.1 200 OK", "HTTP/1.1 503 Service Unavailable", 1)
        .replacen("<Status>1</Status>", "<Status>3</Status>", 1);
    assert!(
        entry.contains("2312FC81") && entry.contains("Cmd=Sync"),
        "entry 6 is the Sync"
    );
    let changed = format!("{}{entry}{}", &text[..start], &text[end..]);
    let t = common::Temp::new("align", "changed.mailbox-log.txt");
    std::fs::write(t.path(), changed).unwrap();
    let trace = open(&samples().join("healthy-iphone.saz"));
    let log = open(t.path());
    let a = align::align(&trace, &log, None);
    let pair = a
        .pairs
        .iter()
        .find(|p| p.log.is_some_and(|l| log.sessions[l].id == Some(0x2312FC81)))
        .unwrap();
    assert_eq!(pair.kind, PairKind::Matched);
    assert_eq!(
        pair.differences,
        [
            "HTTP status differs: the device saw 200, Exchange sent 503",
            "the request bodies differ beyond what the log leaves out",
            "EAS Status differs: the device got [1, 1, 1], Exchange sent [3, 1, 1]",
        ]
    );
    // Every other pair is as the generator made it.
    assert_eq!(a.pairs.iter().filter(|p| !p.differences.is_empty()).count(), 1);
}

#[test]
fn the_sample_dumps_read_as_the_whole_log() {
    let ids = |c: &Capture| -> Vec<u64> { c.sessions.iter().filter_map(|s| s.id).collect() };
    let stem = "synckey-reset-android.mailbox-log";
    let whole = open(&samples().join(format!("{stem}.txt")));
    assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
    // Two overlapping dumps, each numbered from 0, merged by Identifier.
    let one = samples().join(format!("{stem}.1.txt"));
    let two = samples().join(format!("{stem}.2.txt"));
    let merged = capture::open_logs(&[two.as_path(), one.as_path()], &OpenOptions::default()).unwrap();
    assert_eq!(ids(&merged), ids(&whole));
    assert_eq!(merged.warnings.len(), 1, "{:?}", merged.warnings);
    // gzip; a BOM, LF only and values on the name's line.
    for variant in ["txt.gz", "bom-lf.txt"] {
        let c = open(&samples().join(format!("{stem}.{variant}")));
        assert_eq!(ids(&c), ids(&whole), "{variant}");
        assert!(c.warnings.is_empty(), "{variant}: {:?}", c.warnings);
    }
    // A separator cut in half: the entry after it is still read, with a warning naming the line;
    // an empty ResponseBody is an empty body.
    let damaged = open(&samples().join(format!("{stem}.damaged.txt")));
    assert_eq!(ids(&damaged), ids(&whole));
    assert_eq!(damaged.warnings.len(), 1, "{:?}", damaged.warnings);
    assert!(damaged.warnings[0].starts_with("line ") && damaged.warnings[0].contains("damaged entry separator"));
}
