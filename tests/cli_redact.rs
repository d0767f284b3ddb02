//! `easlens redact` (issue "Evidence 4/6", acceptance 1 and 2): every bundled capture (both
//! devices, SAZ and HAR, the encrypted one too), written redacted as SAZ and as HAR, holds none of
//! the personal values the generator put in — searched in the raw file, every zip entry, every
//! decompressed body, every decoded WBXML body, every base64 query and header — and the command
//! line reads the same diagnosis from it: per session the same command, HTTP status and EAS
//! Status, the same findings, SyncKey chains and item histories, with pseudonyms where names were.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use common::{Temp, easlens, personal_leaks, sample_arg, sample_path};
use easlens_core::capture::{self, Capture, OpenOptions, PasswordPrompt};
use easlens_core::eas::query::parse_request_target;
use easlens_core::http::Side;
use easlens_samples::sets::SAMPLE_PASSWORD;
use serde_json::Value;

fn captures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sample_path(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".saz") || n.ends_with(".har"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    names
}

/// The arguments that open `name` (the encrypted sample's password).
fn input_password(name: &str) -> Vec<&'static str> {
    if name.contains("encrypted") {
        vec!["--input-password", SAMPLE_PASSWORD]
    } else {
        vec![]
    }
}

fn open(path: &Path, password: Option<&str>) -> Capture {
    let ask = |_: &PasswordPrompt| password.map(str::to_string);
    let options = OpenOptions {
        password: Some(&ask),
        ..Default::default()
    };
    capture::open(path, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every text a redacted file holds: the raw bytes, each zip entry inflated (SAZ), each body
/// decoded and each WBXML body as XML, each request line with its base64 query decoded, every
/// header, and the base64 bodies of a HAR decoded.
fn contents(path: &Path, password: Option<&str>) -> String {
    let mut out = String::new();
    let raw = std::fs::read(path).unwrap();
    out.push_str(&String::from_utf8_lossy(&raw));
    if path.extension().is_some_and(|e| e == "saz") {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        for i in 0..zip.len() {
            let mut entry = match password {
                Some(p) => zip.by_index_decrypt(i, p.as_bytes()).unwrap(),
                None => zip.by_index(i).unwrap(),
            };
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            out.push_str(&entry.name().map(|n| n.into_owned()).unwrap_or_default());
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    } else {
        let har: Value = serde_json::from_slice(&raw).unwrap();
        for entry in har["log"]["entries"].as_array().unwrap() {
            for text in [
                &entry["request"]["postData"]["text"],
                &entry["response"]["content"]["text"],
            ] {
                if let Some(t) = text.as_str()
                    && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(t)
                {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        }
    }
    let c = open(path, password);
    for (i, s) in c.sessions.iter().enumerate() {
        if let Some(r) = &s.request {
            out.push_str(&format!("{}\n{}\n", r.head.target, r.url()));
            if let Ok(line) = parse_request_target(&r.head.target) {
                out.push_str(&format!("{line:?}\n"));
            }
            for (n, v) in r.head.headers.iter() {
                out.push_str(&format!("{n}: {v}\n"));
            }
        }
        if let Some(r) = &s.response {
            for (n, v) in r.head.headers.iter() {
                out.push_str(&format!("{n}: {v}\n"));
            }
        }
        for side in [Side::Request, Side::Response] {
            if let Some(Ok(view)) = c.body_view(i, side) {
                out.push_str(&format!("{view:?}"));
            }
            if let Ok(Some(doc)) = c.body_document(i, side) {
                out.push_str(&easlens_core::wbxml::to_xml(&doc));
            }
        }
    }
    out
}

fn json(args: &[&str]) -> Value {
    let out = easlens(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// What the diagnosis rests on in `sessions --json`, per session.
fn sessions_view(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            [
                "index",
                "method",
                "http_status",
                "command",
                "protocol_version",
                "eas_status",
                "throttled",
                "highlight",
                "tunnel",
                "aborted",
                "started",
            ]
            .iter()
            .map(|k| format!("{k}={}", s[*k]))
            .collect::<Vec<_>>()
            .join(" ")
        })
        .collect()
}

fn findings_view(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["rule"], f["severity"], f["sessions"]))
        .collect()
}

fn synckeys_view(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["collection"], c["links"]))
        .collect()
}

fn history_view(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            [
                "session",
                "direction",
                "action",
                "command",
                "collection_id",
                "server_id",
                "client_id",
                "uid",
            ]
            .iter()
            .map(|k| format!("{k}={}", e[*k]))
            .collect::<Vec<_>>()
            .join(" ")
        })
        .collect()
}

#[test]
fn redacted_captures_hold_no_personal_data_and_the_same_diagnosis() {
    for name in captures() {
        let original = sample_arg(&name);
        let password = name.contains("encrypted").then_some(SAMPLE_PASSWORD);
        let capture = open(&sample_path(&name), password);
        let ids: BTreeSet<String> = capture
            .sessions
            .iter()
            .filter_map(|s| s.eas.as_ref())
            .flat_map(|e| {
                e.items
                    .iter()
                    .filter_map(|op| op.server_id.as_ref().map(|id| id.to_string()))
            })
            .take(3)
            .collect();
        let with_password = |args: &[&str]| -> Vec<String> {
            let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            if let Some(p) = password {
                a.extend(["--password".to_string(), p.to_string()]);
            }
            a
        };
        let run = |args: Vec<String>| json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let before_sessions = sessions_view(&run(with_password(&["sessions", "--json", &original])));
        let before_findings = findings_view(&run(with_password(&["findings", "--json", &original])));
        let before_chains = synckeys_view(&run(with_password(&["synckeys", "--json", &original])));
        let before_history: Vec<Vec<String>> = ids
            .iter()
            .map(|id| history_view(&run(with_password(&["history", "--json", "--item", id, &original]))))
            .collect();
        for ext in ["saz", "har"] {
            let out = Temp::new("cli-redact", &format!("{name}.{ext}"));
            let mut args = vec!["redact", original.as_str(), "-o", out.arg()];
            args.extend(input_password(&name));
            let result = easlens(&args);
            assert!(
                result.status.success(),
                "{name} → {ext}: {}",
                String::from_utf8_lossy(&result.stderr)
            );
            let found = personal_leaks(&contents(out.path(), None));
            assert!(found.is_empty(), "{name} → {ext}: {found:?}");
            if ext == "har" {
                let har: Value = serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
                common::check_har_1_2(&har);
            }
            let redacted = out.arg();
            assert_eq!(
                sessions_view(&json(&["sessions", "--json", redacted])),
                before_sessions,
                "{name} → {ext}: sessions"
            );
            assert_eq!(
                findings_view(&json(&["findings", "--json", redacted])),
                before_findings,
                "{name} → {ext}: findings"
            );
            assert_eq!(
                synckeys_view(&json(&["synckeys", "--json", redacted])),
                before_chains,
                "{name} → {ext}: SyncKey chains"
            );
            for (id, before) in ids.iter().zip(&before_history) {
                assert_eq!(
                    &history_view(&json(&["history", "--json", "--item", id, redacted])),
                    before,
                    "{name} → {ext}: history of {id}"
                );
            }
            // Text output too: none of it names a person.
            for sub in ["sessions", "findings", "synckeys"] {
                let text = String::from_utf8_lossy(&easlens(&[sub, redacted]).stdout).into_owned();
                let found = personal_leaks(&text);
                assert!(found.is_empty(), "{name} → {ext}: `{sub}` prints {found:?}");
            }
        }
    }
}

#[test]
fn the_redacted_saz_has_fiddlers_layout_and_can_be_protected() {
    let out = Temp::new("cli-redact", "layout.saz");
    let map = Temp::new("cli-redact", "map.json");
    let r = easlens(&[
        "redact",
        &sample_arg("healthy-android.saz"),
        "-o",
        out.arg(),
        "--password",
        "vendor-pw",
        "--sessions",
        "2-4,7",
        "--map",
        map.arg(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("4 sessions") && stdout.contains("password-protected"),
        "{stdout}"
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(out.path()).unwrap()).unwrap();
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    for n in 1..=4 {
        for part in ["c.txt", "s.txt", "m.xml"] {
            let entry = format!("raw/{n}_{part}");
            assert!(names.contains(&entry), "{entry} not in {names:?}");
        }
    }
    assert!(names.iter().any(|n| n == "[Content_Types].xml"), "{names:?}");
    assert!(zip.by_name("raw/1_c.txt").is_err(), "entries are encrypted");
    let mut m = String::new();
    zip.by_name_decrypt("raw/1_m.xml", b"vendor-pw")
        .unwrap()
        .read_to_string(&mut m)
        .unwrap();
    assert!(m.contains("<SessionTimers"), "{m}");
    assert!(contents(out.path(), Some("vendor-pw")).contains("Device1"));
    let c = open(out.path(), Some("vendor-pw"));
    assert_eq!(c.sessions.len(), 4);
    // The map names the originals (and is the only file that does).
    let json = std::fs::read_to_string(map.path()).unwrap();
    assert!(json.contains("SYNTHDEV0002ANDR") && json.contains("Device1"), "{json}");
    assert!(personal_leaks(&contents(out.path(), Some("vendor-pw"))).is_empty());
}

#[test]
fn bad_requests_are_refused_clearly() {
    let input = sample_arg("healthy-iphone.saz");
    let before = std::fs::read(sample_path("healthy-iphone.saz")).unwrap();
    for (args, says) in [
        (
            vec!["redact", input.as_str(), "-o", input.as_str()],
            "this is the capture being exported",
        ),
        (
            vec!["redact", input.as_str(), "-o", "/tmp/x.txt"],
            "must end in .saz or .har",
        ),
        (
            vec![
                "redact",
                input.as_str(),
                "-o",
                "/tmp/easlens-x.saz",
                "--sessions",
                "999",
            ],
            "no session 999",
        ),
        (
            vec!["redact", input.as_str(), "-o", "/tmp/easlens-x.har", "--password", "p"],
            "only a SAZ archive",
        ),
    ] {
        let out = easlens(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(sample_path("healthy-iphone.saz")).unwrap(), before);
}

#[test]
fn reports_are_redacted_unless_asked_not_to() {
    for name in captures() {
        let input = sample_arg(&name);
        let log_name = name
            .strip_suffix(".saz")
            .map(|stem| format!("{stem}.mailbox-log.txt"))
            .filter(|l| sample_path(l).exists());
        for ext in ["html", "md"] {
            let out = Temp::new("cli-redact-report", &format!("{name}.{ext}"));
            let mut args = vec!["report", input.as_str(), "--findings", "-o", out.arg()];
            let log_arg = log_name.as_ref().map(|l| sample_arg(l));
            if let Some(l) = &log_arg {
                args.extend(["--log", l.as_str()]);
            }
            let pw: Vec<&str> = if name.contains("encrypted") {
                vec!["--password", SAMPLE_PASSWORD]
            } else {
                vec![]
            };
            args.extend(&pw);
            let r = easlens(&args);
            assert!(r.status.success(), "{name}: {}", String::from_utf8_lossy(&r.stderr));
            let mut text = std::fs::read_to_string(out.path()).unwrap();
            let svg = out.path().with_extension("timeline.svg");
            if ext == "md" {
                text.push_str(&std::fs::read_to_string(&svg).unwrap());
                let _ = std::fs::remove_file(&svg);
            }
            let found = personal_leaks(&text);
            assert!(found.is_empty(), "{name} report.{ext}: {found:?}");
            assert!(text.contains("pseudonym"), "{name} report.{ext} says it is redacted");
        }
    }
    // Not redacted on request: the same report names the people (so the check above can fail).
    let out = Temp::new("cli-redact-report", "plain.html");
    let r = easlens(&[
        "report",
        &sample_arg("calendar-lifecycle-iphone.saz"),
        "--findings",
        "--no-redact",
        "-o",
        out.arg(),
    ]);
    assert!(r.status.success());
    let text = std::fs::read_to_string(out.path()).unwrap();
    assert!(personal_leaks(&text).len() >= 5, "{:?}", personal_leaks(&text));
}
