//! `easlens findings` and `easlens synckeys`: the JSON fields scripts rely on, the text report, the
//! severity filter, and a clear failure on bad input.

mod common;

use common::{easlens, easlens_json_array, sample_arg as sample};
use serde_json::Value;

fn json(args: &[&str]) -> Vec<Value> {
    easlens_json_array(args)
}

#[test]
fn json_has_every_documented_field_most_severe_first() {
    let file = sample("throttling-storm-iphone.saz");
    let findings = json(&["findings", &file, "--json"]);
    assert_eq!(findings.len(), 3);
    for f in &findings {
        for key in [
            "rule",
            "severity",
            "title",
            "message",
            "explanation",
            "sessions",
            "first",
            "last",
        ] {
            assert!(f.get(key).is_some(), "missing {key} in {f}");
        }
    }
    let throttled = findings.iter().find(|f| f["rule"] == "throttled").unwrap();
    assert_eq!(throttled["severity"], "error");
    assert_eq!(throttled["sessions"], serde_json::json!([14, 15, 16]));
    assert!(throttled["first"].as_str().unwrap().starts_with("2024-03-06T14:03:29"));
    let severities: Vec<&str> = findings.iter().map(|f| f["severity"].as_str().unwrap()).collect();
    assert_eq!(severities, ["error", "error", "warning"]);
}

#[test]
fn min_severity_leaves_out_the_less_severe() {
    let file = sample("synckey-reset-android.saz");
    let all = json(&["findings", &file, "--json"]);
    let errors = json(&["findings", &file, "--json", "--min-severity", "error"]);
    assert!(all.iter().any(|f| f["severity"] == "info"));
    assert!(!errors.is_empty() && errors.iter().all(|f| f["severity"] == "error"));
    assert!(errors.len() < all.len());
    let out = easlens(&["findings", &file, "--min-severity", "fatal"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects an unknown severity");
}

#[test]
fn text_report_groups_by_severity_with_session_ranges_and_explanations() {
    let out = easlens(&["findings", &sample("redirect-and-auth-android.saz")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("10 sessions: 2 error(s), 2 warning(s), 0 info"), "{text}");
    assert!(
        text.contains("ERROR   auth-failure — Authentication refused (HTTP 401)\n  sessions 5–9 · 11:35:25–11:36:12\n"),
        "{text}"
    );
    assert!(text.contains("WARNING redirect"), "{text}");
    assert!(text.find("ERROR").unwrap() < text.find("WARNING").unwrap());
    // Explanations are wrapped and indented.
    assert!(text.lines().skip(1).all(|l| l.chars().count() <= 100), "{text}");
    let explanation: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("    ")).collect();
    assert!(
        explanation
            .join(" ")
            .contains("A run of 401s with credentials means a wrong or expired password"),
        "{text}"
    );

    let out = easlens(&["findings", &sample("healthy-iphone.saz")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("0 error(s), 0 warning(s), 0 info") && text.contains("Nothing to report."),
        "{text}"
    );
}

#[test]
fn synckeys_lists_every_chain_with_its_marks() {
    let chains = json(&["synckeys", &sample("synckey-reset-android.saz"), "--json"]);
    assert_eq!(chains.len(), 1);
    let links = chains[0]["links"].as_array().unwrap();
    assert_eq!(chains[0]["collection"], "5");
    let marks: Vec<String> = links.iter().map(|l| l["marks"].to_string()).collect();
    assert!(marks.contains(&r#"["invalid_key"]"#.to_string()), "{marks:?}");
    assert!(marks.contains(&r#"["reset"]"#.to_string()), "{marks:?}");
    let out = easlens(&["synckeys", &sample("healthy-android.saz")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("4 SyncKey chain(s)") && text.contains("FolderSync") && text.contains("initial"),
        "{text}"
    );
}

#[test]
fn a_file_that_is_not_a_capture_fails_with_its_name() {
    let path = std::env::temp_dir().join(format!("easlens-cli-findings-{}.saz", std::process::id()));
    std::fs::write(&path, b"not a capture at all").unwrap();
    for sub in ["findings", "synckeys"] {
        let out = easlens(&[sub, path.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(1), "{sub}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains(path.file_name().unwrap().to_str().unwrap()));
    }
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `easlens findings FILE | head -0`: the pipe is closed before anything is written.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_easlens"))
        .args(["findings", &sample("throttling-storm-iphone.saz")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
