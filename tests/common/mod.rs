//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use easlens_core::capture::{self, Capture, OpenOptions};

/// Set to `1` (CI does) to make missing reference material a failure instead of a skip.
pub const REQUIRE_CORPUS_ENV: &str = "EASLENS_REQUIRE_CORPUS";

/// Says that a test skipped part of its work, where the person running `cargo test` sees it: the
/// test harness captures `eprintln!` of passing tests, but not writes to the stderr handle.
pub fn skip(reason: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
}

/// True when the environment variable `name` is set to `1`.
pub fn required(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// `../shared/<sub>` beside the project, or `None` (after a visible skip line) when it is not
/// there, so that tests reading third-party material skip on a machine without it; under
/// `EASLENS_REQUIRE_CORPUS=1` a missing directory fails the test instead.
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    let why = format!(
        "{} not found (the shared reference material is not beside the project)",
        dir.display()
    );
    assert!(!required(REQUIRE_CORPUS_ENV), "{why} and {REQUIRE_CORPUS_ENV}=1");
    skip(&why);
    None
}

/// A file in the temp directory for one test, removed when dropped.
pub struct Temp(PathBuf);

impl Temp {
    /// `easlens-<test>-<pid>-<n>-<name>` in the temp directory (not created).
    pub fn new(test: &str, name: &str) -> Temp {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Temp(std::env::temp_dir().join(format!("easlens-{test}-{}-{n}-{name}", std::process::id())))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn arg(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Session `sid` of a test capture, exactly as `request` and `response` went over the wire; the
/// sessions of one capture start 10 s apart.
pub fn exchange(sid: u64, request: Vec<u8>, response: Option<Vec<u8>>) -> easlens_core::writers::Exchange {
    easlens_core::writers::Exchange {
        sid,
        started: chrono::DateTime::parse_from_rfc3339("2025-03-04T10:20:30.123+01:00").unwrap()
            + chrono::TimeDelta::seconds(sid as i64 * 10),
        duration_ms: 120,
        client_ip: "10.0.0.7".into(),
        server_ip: "192.0.2.10".into(),
        request,
        response,
        aborted: false,
        generated_by_proxy: false,
        comment: None,
        ..Default::default()
    }
}

/// `samples/<name>`: one of the bundled sample captures.
pub fn sample_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
}

/// [`sample_path`] as a command-line argument.
pub fn sample_arg(name: &str) -> String {
    sample_path(name).to_string_lossy().into_owned()
}

/// A bundled sample capture, opened (and indexed) without a password.
pub fn open_sample(name: &str) -> Capture {
    capture::open(&sample_path(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs the `easlens` binary with `args`.
pub fn easlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_easlens")).args(args).output().unwrap()
}

/// Runs `easlens` with `args`, expects exit 0, and returns the JSON array it printed.
pub fn easlens_json_array(args: &[&str]) -> Vec<serde_json::Value> {
    let out = easlens(args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    match serde_json::from_slice::<serde_json::Value>(&out.stdout) {
        Ok(serde_json::Value::Array(items)) => items,
        other => panic!("not a JSON array: {other:?}"),
    }
}

/// The personal values the sample generator writes (`scenarios::personal_strings`) that `text`
/// holds: addresses and user names in any case, the rest as written.
pub fn personal_leaks(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    easlens_samples::scenarios::personal_strings()
        .into_iter()
        .filter(|p| {
            if p.contains('@') || p.contains('\\') || p == "jdoe" {
                lower.contains(&p.to_lowercase())
            } else {
                text.contains(p.as_str())
            }
        })
        .collect()
}

/// HAR 1.2's required members and their types (https://w3c.github.io/web-performance/specs/HAR/Overview.html).
pub fn check_har_1_2(har: &serde_json::Value) {
    use serde_json::Value;
    fn obj<'a>(v: &'a Value, at: &str) -> &'a serde_json::Map<String, Value> {
        v.as_object().unwrap_or_else(|| panic!("{at} is not an object: {v}"))
    }
    fn field<'a>(o: &'a serde_json::Map<String, Value>, key: &str, at: &str) -> &'a Value {
        o.get(key).unwrap_or_else(|| panic!("{at}.{key} is missing"))
    }
    fn string(o: &serde_json::Map<String, Value>, key: &str, at: &str) -> String {
        field(o, key, at)
            .as_str()
            .unwrap_or_else(|| panic!("{at}.{key} is not a string"))
            .to_string()
    }
    fn number(o: &serde_json::Map<String, Value>, key: &str, at: &str) -> f64 {
        field(o, key, at)
            .as_f64()
            .unwrap_or_else(|| panic!("{at}.{key} is not a number"))
    }
    fn array<'a>(o: &'a serde_json::Map<String, Value>, key: &str, at: &str) -> &'a Vec<Value> {
        field(o, key, at)
            .as_array()
            .unwrap_or_else(|| panic!("{at}.{key} is not an array"))
    }
    fn name_values(o: &serde_json::Map<String, Value>, key: &str, at: &str) {
        for (i, h) in array(o, key, at).iter().enumerate() {
            let h = obj(h, &format!("{at}.{key}[{i}]"));
            string(h, "name", at);
            string(h, "value", at);
        }
    }
    let log = obj(field(obj(har, "root"), "log", "root"), "log");
    assert_eq!(string(log, "version", "log"), "1.2");
    let creator = obj(field(log, "creator", "log"), "log.creator");
    string(creator, "name", "log.creator");
    string(creator, "version", "log.creator");
    for (i, e) in array(log, "entries", "log").iter().enumerate() {
        let at = format!("entries[{i}]");
        let e = obj(e, &at);
        let started = string(e, "startedDateTime", &at);
        assert!(
            chrono::DateTime::parse_from_rfc3339(&started).is_ok(),
            "{at}.startedDateTime {started:?} is not ISO 8601"
        );
        let time = number(e, "time", &at);
        assert!(time >= 0.0, "{at}.time {time}");

        let rq = obj(field(e, "request", &at), &format!("{at}.request"));
        let rat = format!("{at}.request");
        for key in ["method", "url", "httpVersion"] {
            string(rq, key, &rat);
        }
        array(rq, "cookies", &rat);
        name_values(rq, "headers", &rat);
        name_values(rq, "queryString", &rat);
        let headers_size = number(rq, "headersSize", &rat);
        let body_size = number(rq, "bodySize", &rat);
        assert!(headers_size >= -1.0 && body_size >= -1.0, "{rat} sizes");
        if let Some(post) = rq.get("postData") {
            let post = obj(post, &format!("{rat}.postData"));
            string(post, "mimeType", &rat);
            string(post, "text", &rat);
        }

        let rs = obj(field(e, "response", &at), &format!("{at}.response"));
        let sat = format!("{at}.response");
        number(rs, "status", &sat);
        for key in ["statusText", "httpVersion", "redirectURL"] {
            string(rs, key, &sat);
        }
        array(rs, "cookies", &sat);
        name_values(rs, "headers", &sat);
        let content = obj(field(rs, "content", &sat), &format!("{sat}.content"));
        let size = number(content, "size", &sat);
        string(content, "mimeType", &sat);
        if let Some(text) = content.get("text") {
            let text = text.as_str().expect("content.text is a string");
            match content.get("encoding").and_then(Value::as_str) {
                Some("base64") => {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD.decode(text).expect("base64");
                    assert_eq!(bytes.len() as f64, size, "{sat}.content.size");
                }
                None => assert_eq!(text.len() as f64, size, "{sat}.content.size"),
                Some(other) => panic!("{sat}.content.encoding {other:?}"),
            }
        }
        number(rs, "headersSize", &sat);
        number(rs, "bodySize", &sat);

        obj(field(e, "cache", &at), &format!("{at}.cache"));
        let timings = obj(field(e, "timings", &at), &format!("{at}.timings"));
        let mut sum = 0.0;
        for key in ["send", "wait", "receive"] {
            let v = number(timings, key, &format!("{at}.timings"));
            assert!(v >= 0.0, "{at}.timings.{key} {v}");
            sum += v;
        }
        for key in ["blocked", "dns", "connect", "ssl"] {
            if let Some(v) = timings.get(key) {
                let v = v.as_f64().expect("a number");
                assert!(v == -1.0 || v >= 0.0, "{at}.timings.{key} {v}");
                sum += v.max(0.0);
            }
        }
        assert!(
            (sum - time).abs() < 1e-6,
            "{at}: time {time} is not the sum of the timings ({sum})"
        );
    }
}
