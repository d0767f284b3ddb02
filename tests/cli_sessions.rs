//! `easlens sessions`: the JSON fields scripts rely on, the table, and clear failures on bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{easlens, easlens_json_array, sample_path as sample};
use serde_json::Value;

fn json(path: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["sessions", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    easlens_json_array(&args)
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("easlens-cli-sessions-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn json_has_every_documented_field() {
    let rows = json(&sample("throttling-storm-iphone.saz"), &[]);
    assert_eq!(rows.len(), 16);
    for key in [
        "index",
        "id",
        "started",
        "method",
        "url",
        "http_status",
        "command",
        "user",
        "device_id",
        "device_type",
        "protocol_version",
        "eas_status",
        "throttled",
        "highlight",
        "request_body_state",
        "notes",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
    let sync = &rows[1];
    assert_eq!(sync["index"], 2);
    assert_eq!(sync["method"], "POST");
    assert_eq!(sync["command"], "Sync");
    assert_eq!(sync["user"], "contoso\\jdoe");
    assert_eq!(sync["device_type"], "iPhone");
    assert_eq!(sync["protocol_version"], "16.1");
    assert_eq!(sync["http_status"], 200);
    assert_eq!(sync["eas_status"], serde_json::json!([1]));
    assert_eq!(sync["request_body_state"], "wbxml");
    assert_eq!(sync["highlight"], serde_json::json!([]));
    assert!(
        sync["started"].as_str().unwrap().starts_with("20"),
        "RFC 3339: {}",
        sync["started"]
    );
    assert!(
        sync["url"]
            .as_str()
            .unwrap()
            .starts_with("https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync")
    );
    let last = rows.last().unwrap();
    assert_eq!(last["http_status"], 503);
    assert_eq!(last["throttled"], true);
    assert_eq!(last["highlight"], serde_json::json!(["http", "throttle"]));
}

#[test]
fn base64_query_fields_lost_bodies_and_failing_statuses() {
    let rows = json(&sample("policy-refresh-android.saz"), &[]);
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r["highlight"].as_array().unwrap().contains(&"status".into()))
        .collect();
    assert!(!refused.is_empty());
    for r in &refused {
        assert_eq!(r["device_type"], "Android");
        assert_eq!(r["protocol_version"], "14.1", "from the base64 query");
        let st: Vec<u64> = r["eas_status"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert!(st.iter().any(|s| (142..=144).contains(s)), "{st:?}");
    }
    let rows = json(&sample("healthy-iphone.fiddler.har"), &[]);
    let lost = rows
        .iter()
        .find(|r| r["request_body_state"] == "lost")
        .expect("a lost request body");
    assert!(
        lost["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("lost by the HAR exporter"))
    );
    assert_eq!(rows[0]["method"], "OPTIONS");
    assert_eq!(rows[0]["request_body_state"], "none");
}

#[test]
fn encrypted_capture_takes_a_password() {
    let path = sample("policy-refresh-iphone-encrypted.saz");
    let rows = json(&path, &["--password", "easlens"]);
    assert!(!rows.is_empty());
    let out = easlens(&["sessions", path.to_str().unwrap(), "--password", "wrong"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("policy-refresh-iphone-encrypted.saz: wrong password"));
    let out = easlens(&["sessions", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("password-protected"));
}

#[test]
fn table_lists_sessions_and_explains_flags() {
    let out = easlens(&["sessions", sample("redirect-and-auth-iphone.saz").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("10 sessions (SAZ)"), "{text}");
    assert!(
        text.lines().any(|l| l.contains(" 451 ") && l.contains("Sync")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains(" 502 ") && l.contains("HG")),
        "generated 502 is flagged: {text}"
    );
    assert!(text.contains("flags: H non-2xx HTTP"));
}

#[test]
fn bad_input_is_a_clear_error_naming_the_file() {
    let saz = std::fs::read(sample("healthy-android.saz")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.saz", vec![], "the file is empty"),
        (
            "random.saz",
            (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect(),
            "not a capture",
        ),
        (
            "notzip.saz",
            b"PK this is not really a zip archive, just text".to_vec(),
            "damaged SAZ archive",
        ),
        (
            "broken.har",
            b"{\"log\": {\"entries\": [ {\"request\": ".to_vec(),
            "not a valid HAR file",
        ),
        ("text.har", b"hello".to_vec(), "not a capture"),
    ];
    for (name, bytes, want) in cases {
        let path = temp(name, &bytes);
        let out = easlens(&["sessions", path.to_str().unwrap(), "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(path.to_str().unwrap()),
            "{name}: names the file: {stderr}"
        );
        assert!(stderr.contains(want), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
        assert!(!stderr.contains("panicked"), "{name}");
    }
    // A truncated archive: the intact sessions are recovered, with a warning, exit 0.
    let path = temp("truncated.saz", &saz[..saz.len() * 6 / 10]);
    let out = easlens(&["sessions", path.to_str().unwrap(), "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning"), "{stderr}");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!rows.is_empty() && rows.len() < 16, "{} sessions recovered", rows.len());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        &saz[..saz.len() * 6 / 10],
        "the input is never written"
    );
}

#[test]
fn corpus_captures_open_with_their_session_counts() {
    let Some(dir) = common::shared_dir("corpus/captures") else {
        return;
    };
    for (file, count) in [
        ("OfficeDev_Office-Inspectors__NewCaseName.saz", 56),
        ("OfficeDev_Office-Inspectors__NewCaseName1.saz", 3),
        ("OfficeDev_Office-Inspectors__NewCaseName_Coauth.saz", 220),
        ("joelverhagen_SAZ__httpbin-test.saz", 6),
        ("joelverhagen_SAZ__images.saz", 3),
        ("mitmproxy_mitmproxy__chrome.har", 3),
        ("mitmproxy_mitmproxy__safari.har", 19),
        ("mitmproxy_mitmproxy__with-bom.har", 1),
    ] {
        let rows = json(&dir.join(file), &[]);
        assert_eq!(rows.len(), count, "{file}");
    }
    let rows = json(&dir.join("joelverhagen_SAZ__httpbin-test.saz"), &[]);
    assert_eq!(
        (rows[1]["index"].as_u64(), rows[1]["id"].as_u64()),
        (Some(2), Some(72)),
        "N is not the SID"
    );
    let out = easlens(&[
        "sessions",
        dir.join("mitmproxy_mitmproxy__brokenfile.har").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("brokenfile.har: not a valid HAR file"));
}

#[test]
fn a_bare_file_argument_without_a_display_points_to_the_terminal_listing() {
    // `easlens FILE` opens the desktop window; without a display it says what to use instead.
    let out = Command::new(env!("CARGO_BIN_EXE_easlens"))
        .arg(sample("healthy-android.saz"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open the window"), "{stderr}");
    assert!(stderr.contains("`easlens sessions FILE`"), "{stderr}");
}
