//! Export (`easlens_core::writers::export`): every bundled sample capture written as SAZ and as HAR
//! and opened again keeps its sessions, heads, decoded bodies, timers and EAS summaries; chosen
//! sessions, passwords, the SAZ layout, HAR 1.2's required fields, and the input never written.

mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::SecondsFormat;
use easlens_core::capture::{self, BodyKept, Capture, Format, OpenError, OpenOptions, PasswordPrompt};
use easlens_core::eas::session::EasSummary;
use easlens_core::http::Side;
use easlens_core::readers::Timer;
use easlens_core::writers::{ExportError, ExportFormat, ExportSummary, ExportTarget, export};
use easlens_samples::sets::SAMPLE_PASSWORD;
use serde_json::Value;

use common::{Temp, sample_path};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Every bundled capture (SAZ and HAR, the encrypted one too), by file name.
fn sample_captures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sample_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".saz") || n.ends_with(".har"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 14
            && names.iter().any(|n| n.ends_with("-encrypted.saz"))
            && names.iter().any(|n| n.ends_with(".har")),
        "the bundled captures: {names:?}"
    );
    names
}

fn open_with(path: &Path, password: Option<&str>) -> Result<Capture, OpenError> {
    let answer = |p: &PasswordPrompt| password.filter(|_| p.attempt == 1).map(str::to_string);
    capture::open(
        path,
        &OpenOptions {
            password: Some(&answer),
            ..Default::default()
        },
    )
}

/// A bundled capture, opened (the encrypted one with its password).
fn open_sample(name: &str) -> Capture {
    open_with(&sample_path(name), Some(SAMPLE_PASSWORD)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn target(path: &Path, format: ExportFormat) -> ExportTarget {
    ExportTarget {
        path: path.into(),
        format,
        password: None,
    }
}

fn all(c: &Capture) -> Vec<usize> {
    (0..c.sessions.len()).collect()
}

/// Exports `sessions` of `c` to a new temporary file and opens it again.
fn round_trip(c: &Capture, sessions: &[usize], format: ExportFormat, name: &str) -> (Temp, ExportSummary, Capture) {
    let ext = match format {
        ExportFormat::Saz => "saz",
        ExportFormat::Har => "har",
    };
    let out = Temp::new("export", &format!("{name}.{ext}"));
    let summary = export(c, sessions, &target(out.path(), format)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(summary.sessions, sessions.len());
    assert_eq!(summary.bytes, std::fs::metadata(out.path()).unwrap().len());
    let back = open_with(out.path(), None).unwrap_or_else(|e| panic!("{name} exported as {ext}: {e}"));
    assert_eq!(
        back.format,
        match format {
            ExportFormat::Saz => Format::Saz,
            ExportFormat::Har => Format::Har,
        }
    );
    (out, summary, back)
}

fn headers(c: &Capture, i: usize, side: Side) -> Option<Vec<(String, String)>> {
    let s = &c.sessions[i];
    let headers = match side {
        Side::Request => &s.request.as_ref()?.head.headers,
        Side::Response => &s.response.as_ref()?.head.headers,
    };
    Some(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
}

/// The body after de-chunking and decompression, and whether the capture had its bytes.
fn decoded(c: &Capture, i: usize, side: Side) -> Option<(Vec<u8>, bool)> {
    let view = c
        .body_view(i, side)?
        .unwrap_or_else(|e| panic!("session {i} {side:?}: {e}"));
    Some((view.decoded.bytes.clone(), view.kept == BodyKept::Present))
}

fn timer_text(c: &Capture, i: usize, timer: Timer) -> Option<String> {
    c.sessions[i]
        .timers
        .get(timer)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, false))
}

/// The summary less the notes that say a body is not in the capture: "lost by the HAR exporter"
/// (what the HAR that lost it said) and "not included in the capture file" (what an export that
/// could only leave it out says); the body state says the same in both.
fn without_missing_body_notes(eas: &Option<EasSummary>) -> Option<EasSummary> {
    eas.clone().map(|mut e| {
        e.notes
            .retain(|n| !n.contains("lost by the HAR exporter") && !n.contains("not included in the capture file"));
        e
    })
}

/// Headers a HAR reader removes from the view when the body is already decoded (as an export's is).
fn is_coding(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-encoding") || name.eq_ignore_ascii_case("transfer-encoding")
}

/// Session `a` of `orig` and session `b` of `back` (`orig` exported as `format`) say the same.
fn assert_same_session(orig: &Capture, a: usize, back: &Capture, b: usize, format: ExportFormat, what: &str) {
    let (s, t) = (&orig.sessions[a], &back.sessions[b]);
    let at = format!("{what}, session {} → {}", s.index, t.index);
    let (rq, rq2) = (s.request.as_ref(), t.request.as_ref());
    assert_eq!(
        rq.map(|r| r.head.method.to_string()),
        rq2.map(|r| r.head.method.to_string()),
        "{at}: method"
    );
    assert_eq!(
        rq.map(|r| r.url().into_owned()),
        rq2.map(|r| r.url().into_owned()),
        "{at}: URL"
    );
    assert_eq!(s.http_status(), t.http_status(), "{at}: HTTP status");
    assert_eq!(
        s.response.as_ref().map(|r| r.head.reason.to_string()),
        t.response.as_ref().map(|r| r.head.reason.to_string()),
        "{at}: reason"
    );

    for side in [Side::Request, Side::Response] {
        let (mut h, mut h2) = (headers(orig, a, side), headers(back, b, side));
        let body = decoded(orig, a, side);
        let body2 = decoded(back, b, side);
        if format == ExportFormat::Har {
            // HAR's text is the decoded body: the reader drops the codings from the view, with a note.
            let had_codings = h.as_ref().is_some_and(|h| h.iter().any(|(n, _)| is_coding(n)));
            let dropped = had_codings && !h2.as_ref().is_some_and(|h| h.iter().any(|(n, _)| is_coding(n)));
            if dropped {
                assert!(
                    t.notes.iter().any(|n| n.contains("already decoded")),
                    "{at}: {side:?} codings dropped without a note: {:?}",
                    t.notes
                );
            }
            for h in [&mut h, &mut h2].into_iter().flatten() {
                h.retain(|(n, _)| !is_coding(n));
            }
        }
        // HTTP/2 pseudo-headers have no place in an HTTP/1 header block (the export's notes say so).
        for h in [&mut h, &mut h2].into_iter().flatten() {
            h.retain(|(n, _)| !n.starts_with(':'));
        }
        assert_eq!(h, h2, "{at}: {side:?} headers");
        assert_eq!(
            body.as_ref().map(|(bytes, _)| bytes),
            body2.as_ref().map(|(bytes, _)| bytes),
            "{at}: {side:?} decoded body"
        );
        assert_eq!(
            body.as_ref().map(|(_, kept)| kept),
            body2.as_ref().map(|(_, kept)| kept),
            "{at}: {side:?} body kept"
        );
    }

    // Timers.
    let from_har = orig.format == Format::Har;
    if format == ExportFormat::Saz && !from_har {
        for timer in Timer::ALL {
            assert_eq!(
                timer_text(orig, a, timer),
                timer_text(back, b, timer),
                "{at}: {timer:?}"
            );
        }
    } else {
        let started = |c: &Capture, i: usize| {
            c.sessions[i]
                .timers
                .started()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, false))
        };
        assert_eq!(started(orig, a), started(back, b), "{at}: started");
        // A HAR's time to the microsecond once it went through timers (the duration of two
        // timers is read in microseconds); exact otherwise.
        let tolerance = if from_har { 1e-3 } else { 0.0 };
        match (s.timers.duration_ms(), t.timers.duration_ms()) {
            (Some(d), Some(d2)) => assert!((d - d2).abs() <= tolerance, "{at}: duration {d} → {d2}"),
            // HAR's `time` is required: an unknown duration is written as 0.
            (None, Some(d2)) if format == ExportFormat::Har => assert_eq!(d2, 0.0, "{at}: duration"),
            (d, d2) => assert_eq!(d, d2, "{at}: duration"),
        }
    }
    assert_eq!(s.comment, t.comment, "{at}: comment");
    assert_eq!(s.server_ip, t.server_ip, "{at}: server IP");
    assert_eq!(s.client_ip, t.client_ip, "{at}: client IP");
    if format == ExportFormat::Saz {
        assert_eq!(s.process, t.process, "{at}: process");
        assert_eq!(s.id, t.id, "{at}: SID");
        assert_eq!(s.flags.aborted, t.flags.aborted, "{at}: aborted");
        assert_eq!(s.flags.generated, t.flags.generated, "{at}: generated");
    }
    assert_eq!(s.flags.https, t.flags.https, "{at}: https");
    assert_eq!(s.flags.tunnel, t.flags.tunnel, "{at}: tunnel");

    // EAS summaries: exactly the same, but for what each file says of a body it does not have.
    let missing = |c: &Capture, i: usize| {
        [Side::Request, Side::Response]
            .into_iter()
            .any(|side| decoded(c, i, side).is_some_and(|(_, kept)| !kept))
    };
    if missing(orig, a) {
        assert_eq!(
            without_missing_body_notes(&s.eas),
            without_missing_body_notes(&t.eas),
            "{at}: EAS summary"
        );
    } else {
        assert_eq!(s.eas, t.eas, "{at}: EAS summary");
    }
}

fn assert_same_capture(orig: &Capture, back: &Capture, format: ExportFormat, what: &str) {
    assert_eq!(orig.sessions.len(), back.sessions.len(), "{what}: session count");
    for i in 0..orig.sessions.len() {
        assert_same_session(orig, i, back, i, format, what);
    }
}

fn zip_names(path: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    archive.file_names().map(|n| n.unwrap().into_owned()).collect()
}

/// The bytes of a zip entry (decrypted with `password` when given).
fn zip_bytes(path: &Path, name: &str, password: Option<&str>) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut entry = match password {
        Some(p) => archive.by_name_decrypt(name, p.as_bytes()),
        None => archive.by_name(name),
    }
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    entry.read_to_end(&mut out).unwrap();
    out
}

/// A zip entry as text.
fn zip_text(path: &Path, name: &str, password: Option<&str>) -> String {
    String::from_utf8(zip_bytes(path, name, password)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Files in `dir` whose name starts with `prefix` (an export's temporary file starts with a dot
/// and the output's name).
fn leftovers(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Every sample, both formats
// ---------------------------------------------------------------------------------------------

#[test]
fn every_sample_keeps_its_sessions_through_saz_and_har() {
    for name in sample_captures() {
        let before = std::fs::read(sample_path(&name)).unwrap();
        let orig = open_sample(&name);
        assert!(!orig.sessions.is_empty(), "{name}");
        for format in [ExportFormat::Saz, ExportFormat::Har] {
            let what = format!("{name} as {format:?}");
            let (_out, summary, back) = round_trip(&orig, &all(&orig), format, &name);
            assert_same_capture(&orig, &back, format, &what);
            let missing = (0..orig.sessions.len())
                .flat_map(|i| [Side::Request, Side::Response].map(|side| decoded(&orig, i, side)))
                .filter(|b| b.as_ref().is_some_and(|(_, kept)| !kept))
                .count();
            assert_eq!(
                summary.bodies_missing, missing,
                "{what}: bodies the capture did not have"
            );
        }
        assert!(
            std::fs::read(sample_path(&name)).unwrap() == before,
            "{name} changed while it was exported"
        );
    }
}

#[test]
fn an_export_of_an_export_is_the_same_file() {
    // A SAZ exported again holds the same entries: nothing is made up on the way. A HAR's first
    // export decodes the bodies (and its reader drops the codings); from then on the same file.
    for (name, format) in [
        ("healthy-android.saz", ExportFormat::Saz),
        ("synckey-reset-iphone.saz", ExportFormat::Har),
        ("policy-refresh-android.mitmproxy.har", ExportFormat::Har),
    ] {
        let orig = open_sample(name);
        let (first, _, back) = round_trip(&orig, &all(&orig), format, &format!("{name}-1"));
        let (second, _, back2) = round_trip(&back, &all(&back), format, &format!("{name}-2"));
        if format == ExportFormat::Saz {
            let names = zip_names(first.path());
            assert_eq!(names, zip_names(second.path()), "{name}");
            for entry in names.iter().filter(|n| !n.ends_with('/')) {
                assert!(
                    zip_bytes(first.path(), entry, None) == zip_bytes(second.path(), entry, None),
                    "{name}: {entry} differs"
                );
            }
        } else {
            let (third, _, _) = round_trip(&back2, &all(&back2), format, &format!("{name}-3"));
            let (b, c) = (
                std::fs::read(second.path()).unwrap(),
                std::fs::read(third.path()).unwrap(),
            );
            assert!(b == c, "{name}: the third HAR export differs from the second");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Chosen sessions, passwords
// ---------------------------------------------------------------------------------------------

#[test]
fn chosen_sessions_are_written_alone_and_in_order() {
    let orig = open_sample("throttling-storm-iphone.saz");
    assert!(orig.sessions.len() > 6);
    for format in [ExportFormat::Saz, ExportFormat::Har] {
        let (out, summary, back) = round_trip(&orig, &[2, 5], format, "chosen");
        assert_eq!(summary.sessions, 2);
        assert_eq!(back.sessions.len(), 2, "{format:?}");
        assert_same_session(&orig, 2, &back, 0, format, "chosen");
        assert_same_session(&orig, 5, &back, 1, format, "chosen");
        if format == ExportFormat::Saz {
            // Numbered by position in the file (1, 2); Fiddler's SID stays the session's own.
            let names = zip_names(out.path());
            assert!(
                names.contains(&"raw/1_c.txt".to_string()) && names.contains(&"raw/2_m.xml".to_string()),
                "{names:?}"
            );
            assert!(!names.iter().any(|n| n.starts_with("raw/3")), "{names:?}");
            assert_eq!(back.sessions[1].id, orig.sessions[5].id);
        }
    }
    // A position past the end is refused before anything is written.
    let out = Temp::new("export", "past-the-end.saz");
    let err = export(&orig, &[0, orig.sessions.len()], &target(out.path(), ExportFormat::Saz)).unwrap_err();
    assert!(
        matches!(err, ExportError::NoSuchSession { position, .. } if position == orig.sessions.len()),
        "{err}"
    );
    assert!(err.to_string().contains("past-the-end.saz"), "{err}");
    assert!(!out.path().exists());
}

#[test]
fn a_password_protected_export_opens_only_with_its_password() {
    let orig = open_sample("policy-refresh-iphone-encrypted.saz");
    let out = Temp::new("export", "protected.saz");
    let mut t = target(out.path(), ExportFormat::Saz);
    t.password = Some("s3cret pass".into());
    export(&orig, &all(&orig), &t).unwrap();
    assert!(matches!(
        open_with(out.path(), None),
        Err(OpenError::PasswordRequired { .. })
    ));
    assert!(matches!(
        open_with(out.path(), Some("wrong")),
        Err(OpenError::WrongPassword { .. })
    ));
    let back = open_with(out.path(), Some("s3cret pass")).unwrap();
    assert_same_capture(&orig, &back, ExportFormat::Saz, "protected");
    // Every file entry is encrypted, with WinZip AES (method 99 on disk).
    let mut archive = zip::ZipArchive::new(std::fs::File::open(out.path()).unwrap()).unwrap();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).unwrap();
        if !entry.is_dir() {
            assert!(entry.encrypted(), "{:?} is not encrypted", entry.name());
        }
    }
    let width = orig.sessions.len().to_string().len();
    let meta = zip_text(out.path(), &format!("raw/{:0width$}_m.xml", 1), Some("s3cret pass"));
    assert!(meta.contains("<SessionTimers"), "{meta}");

    // HAR has no password: refused, nothing written.
    let har = Temp::new("export", "protected.har");
    let mut t = target(har.path(), ExportFormat::Har);
    t.password = Some("x".into());
    let err = export(&orig, &all(&orig), &t).unwrap_err();
    assert!(matches!(err, ExportError::PasswordForHar { .. }), "{err}");
    assert!(!har.path().exists());
}

// ---------------------------------------------------------------------------------------------
// The files: SAZ layout, HAR 1.2
// ---------------------------------------------------------------------------------------------

#[test]
fn saz_has_fiddlers_layout() {
    let orig = open_sample("synckey-reset-android.saz");
    let n = orig.sessions.len();
    assert!((10..100).contains(&n), "two-digit numbering expected, {n} sessions");
    let (out, _, _) = round_trip(&orig, &all(&orig), ExportFormat::Saz, "layout");
    let names = zip_names(out.path());
    for i in 1..=n {
        for part in ["c.txt", "s.txt", "m.xml"] {
            let entry = format!("raw/{i:02}_{part}");
            assert!(names.contains(&entry), "{entry} missing from {names:?}");
        }
        let meta = zip_text(out.path(), &format!("raw/{i:02}_m.xml"), None);
        assert!(meta.starts_with("\u{feff}<?xml"), "{meta}");
        assert!(meta.contains("<SessionTimers ClientConnected="), "{meta}");
        let sid = orig.sessions[i - 1].id.unwrap();
        assert!(meta.contains(&format!("<Session SID=\"{sid}\"")), "{meta}");
    }
    assert!(names.contains(&"[Content_Types].xml".to_string()), "{names:?}");
    assert!(names.contains(&"_index.htm".to_string()), "{names:?}");
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("raw/") && !n.ends_with('/'))
            .count(),
        3 * n
    );
    // The request as captured: the absolute request line, then the headers as sent.
    let first = zip_text(out.path(), "raw/01_c.txt", None);
    let r = orig.sessions[0].request.as_ref().unwrap();
    assert!(
        first.starts_with(&format!("{} {} {}\r\n", r.head.method, r.head.target, r.head.version)),
        "{first}"
    );
}

#[test]
fn aborted_sessions_and_tunnels_are_written_as_fiddler_writes_them() {
    // The samples' aborted sessions (no response) and the HAR one's CONNECT-less HTTPS.
    let mut aborted_seen = 0;
    for name in sample_captures()
        .iter()
        .filter(|n| n.ends_with(".saz") && !n.contains("encrypted"))
    {
        let orig = open_sample(name);
        let aborted: Vec<usize> = (0..orig.sessions.len())
            .filter(|&i| orig.sessions[i].response.is_none())
            .collect();
        if aborted.is_empty() {
            continue;
        }
        aborted_seen += aborted.len();
        let (out, _, back) = round_trip(&orig, &aborted, ExportFormat::Saz, "aborted");
        let width = aborted.len().to_string().len();
        for k in 1..=aborted.len() {
            assert_eq!(
                zip_text(out.path(), &format!("raw/{k:0width$}_s.txt"), None),
                "",
                "{name}"
            );
            let meta = zip_text(out.path(), &format!("raw/{k:0width$}_m.xml"), None);
            assert!(meta.contains("Aborted=\"true\""), "{name}: {meta}");
            assert!(
                meta.contains("ServerBeginResponse=\"0001-01-01T00:00:00\""),
                "{name}: {meta}"
            );
            assert!(back.sessions[k - 1].flags.aborted && back.sessions[k - 1].response.is_none());
        }
    }
    assert!(aborted_seen > 0, "no sample has an aborted session");
}

#[test]
fn har_has_every_field_har_1_2_requires() {
    for name in [
        "redirect-and-auth-iphone.saz",
        "healthy-iphone.fiddler.har",
        "policy-refresh-android.mitmproxy.har",
    ] {
        let orig = open_sample(name);
        let (out, _, _) = round_trip(&orig, &all(&orig), ExportFormat::Har, name);
        let bytes = std::fs::read(out.path()).unwrap();
        assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
        let har: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        common::check_har_1_2(&har);
        let entries = har["log"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), orig.sessions.len());
        // Binary (WBXML) bodies are base64; a session with its request body gives its mime type.
        assert!(
            entries.iter().any(|e| e["response"]["content"]["encoding"] == "base64"),
            "{name}: no base64 body"
        );
        for (e, s) in entries.iter().zip(&orig.sessions) {
            if let Some(post) = e["request"].get("postData") {
                let mime = s
                    .request
                    .as_ref()
                    .unwrap()
                    .head
                    .headers
                    .get("content-type")
                    .unwrap_or("");
                assert_eq!(post["mimeType"], mime);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The input is never written
// ---------------------------------------------------------------------------------------------

#[test]
fn the_capture_itself_is_never_the_output() {
    let dir = std::env::temp_dir().join(format!("easlens-export-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("input.saz");
    std::fs::copy(sample_path("healthy-iphone.saz"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let c = capture::open(&input, &OpenOptions::default()).unwrap();
    let mut refused = vec![
        input.clone(),
        dir.join(".").join("input.saz"),
        dir.join("..").join(dir.file_name().unwrap()).join("input.saz"),
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&input, dir.join("link.saz")).unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("folder-link")).unwrap();
        std::fs::hard_link(&input, dir.join("hard.saz")).unwrap();
        refused.extend([
            dir.join("link.saz"),
            dir.join("folder-link").join("input.saz"),
            dir.join("hard.saz"),
        ]);
    }
    for path in &refused {
        for format in [ExportFormat::Saz, ExportFormat::Har] {
            let err = export(&c, &all(&c), &target(path, format)).unwrap_err();
            assert!(
                matches!(err, ExportError::WouldOverwriteInput { .. }),
                "{}: {err}",
                path.display()
            );
            assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        }
    }
    assert!(std::fs::read(&input).unwrap() == before, "the input changed");
    assert_eq!(leftovers(&dir, ".input"), Vec::<String>::new(), "temporary files left");

    // Another file in the same folder is written, and replaced on a second export.
    let out = dir.join("out.har");
    export(&c, &[0], &target(&out, ExportFormat::Har)).unwrap();
    let one = std::fs::metadata(&out).unwrap().len();
    export(&c, &all(&c), &target(&out, ExportFormat::Har)).unwrap();
    assert!(std::fs::metadata(&out).unwrap().len() > one);
    assert_eq!(leftovers(&dir, ".out"), Vec::<String>::new(), "temporary files left");
    assert!(std::fs::read(&input).unwrap() == before, "the input changed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_export_leaves_no_file() {
    let c = open_sample("healthy-android.saz");
    // A folder as the output, and a folder that does not exist.
    let dir = std::env::temp_dir().join(format!("easlens-export-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = export(&c, &all(&c), &target(&dir, ExportFormat::Saz)).unwrap_err();
    assert!(matches!(err, ExportError::Io { .. }), "{err}");
    let missing: PathBuf = dir.join("no-such-folder").join("out.saz");
    let err = export(&c, &all(&c), &target(&missing, ExportFormat::Saz)).unwrap_err();
    assert!(err.to_string().contains("no-such-folder/out.saz"), "{err}");
    // A body that cannot be read back (the capture's file is gone): no half file.
    let gone = dir.join("gone.saz");
    std::fs::copy(sample_path("healthy-android.saz"), &gone).unwrap();
    let c = capture::open(&gone, &OpenOptions::default()).unwrap();
    std::fs::write(&gone, b"PK not any more").unwrap();
    let out = dir.join("half.saz");
    let err = export(&c, &all(&c), &target(&out, ExportFormat::Saz)).unwrap_err();
    assert!(matches!(err, ExportError::ReadBody { .. }), "{err}");
    assert!(
        err.to_string().contains("half.saz") && err.to_string().contains("gone.saz"),
        "{err}"
    );
    assert!(!out.exists(), "a half file was left");
    assert_eq!(leftovers(&dir, ".half"), Vec::<String>::new(), "temporary files left");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Facts the samples do not show: real timers, tunnels, codings, aborted sessions; real captures
// ---------------------------------------------------------------------------------------------

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A SAZ of hand-made sessions whose timers have 100 ns digits and two offsets, a CONNECT tunnel,
/// a chunked gzip response, a process, comments and an aborted session.
fn hand_made_saz(path: &Path) {
    use easlens_core::capture::Timers;
    use easlens_core::writers::Exchange;
    use easlens_core::writers::saz::{SazOptions, write_saz_file};
    let t = |v: &str| Some(chrono::DateTime::parse_from_rfc3339(v).unwrap());
    let mut timers = Timers::default();
    timers.set(Timer::ClientConnected, t("2025-08-30T11:33:29.356942-07:00"));
    timers.set(Timer::ClientBeginRequest, t("2025-08-30T11:33:29.3579421-07:00"));
    timers.set(Timer::ClientDoneRequest, t("2025-08-30T11:33:29.4000007-07:00"));
    timers.set(Timer::ServerConnected, t("2025-08-30T18:33:29.41Z"));
    timers.set(Timer::ServerBeginResponse, t("2025-08-30T11:33:30.1234567-07:00"));
    timers.set(Timer::ClientDoneResponse, t("2025-08-30T11:33:30.2-07:00"));
    let mut aborted_timers = Timers::default();
    aborted_timers.set(Timer::ClientBeginRequest, t("2025-08-30T11:34:00.0000001+05:30"));
    let chunked_gzip = {
        let body = gzip(b"<html>Hello \xC3\xA9t\xC3\xA9</html>");
        let mut out = format!("{:x}\r\n", body.len()).into_bytes();
        out.extend_from_slice(&body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
        out
    };
    let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    response.extend_from_slice(&chunked_gzip);
    let sessions = [
        Exchange {
            sid: 40,
            request: b"CONNECT mail.example.com:443 HTTP/1.1\r\nHost: mail.example.com:443\r\nContent-Length: 0\r\n\r\nA SSLv3-compatible ClientHello handshake was found. Fiddler extracted the parameters below.\r\n".to_vec(),
            response: Some(b"HTTP/1.1 200 Connection Established\r\nFiddlerGateway: Direct\r\nStartTime: 11:33:29.357\r\nConnection: close\r\n\r\nEncrypted HTTPS traffic flows through this CONNECT tunnel.".to_vec()),
            bit_flags: Some(0x2100),
            timers: Some(timers.clone()),
            process: Some("outlook:4242".into()),
            client_ip: "127.0.0.1".into(),
            ..Exchange::default()
        },
        Exchange {
            sid: 41,
            request: b"GET https://mail.example.com/owa/ HTTP/1.1\r\nHost: mail.example.com\r\nAccept-Encoding: gzip\r\nX-Odd:   spaced value\r\n\r\n".to_vec(),
            response: Some(response),
            bit_flags: Some(0x19),
            timers: Some(timers),
            process: Some("outlook:4242".into()),
            comment: Some("look <here> & \"there\"".into()),
            client_ip: "127.0.0.1".into(),
            server_ip: "192.0.2.10".into(),
            ..Exchange::default()
        },
        Exchange {
            sid: 42,
            request: b"POST https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Ping&User=jdoe&DeviceId=D1&DeviceType=iPhone HTTP/1.1\r\nHost: mail.example.com\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nMS-ASProtocolVersion: 16.1\r\nContent-Length: 4\r\n\r\n\x03\x01\x6a\x00".to_vec(),
            response: None,
            aborted: true,
            bit_flags: Some(0x1),
            timers: Some(aborted_timers),
            ..Exchange::default()
        },
    ];
    write_saz_file(path, &sessions, &SazOptions::default()).unwrap();
}

#[test]
fn timers_tunnels_and_codings_survive_exactly() {
    let input = Temp::new("export", "hand-made.saz");
    hand_made_saz(input.path());
    let orig = open_with(input.path(), None).unwrap();
    assert_eq!(orig.sessions.len(), 3);
    assert!(orig.sessions[0].flags.tunnel && orig.sessions[2].flags.aborted);
    assert_eq!(orig.sessions[1].process.as_deref(), Some("outlook:4242"));
    for format in [ExportFormat::Saz, ExportFormat::Har] {
        let (out, _, back) = round_trip(&orig, &all(&orig), format, "hand-made");
        assert_same_capture(&orig, &back, format, &format!("hand-made as {format:?}"));
        if format == ExportFormat::Saz {
            // Written to the digit and on their offset; the tunnel as Fiddler writes it.
            let meta = zip_text(out.path(), "raw/2_m.xml", None);
            assert!(
                meta.contains("ClientBeginRequest=\"2025-08-30T11:33:29.3579421-07:00\"")
                    && meta.contains("ServerConnected=\"2025-08-30T11:33:29.41-07:00\""),
                "{meta}"
            );
            assert!(
                meta.contains("<SessionFlag N=\"x-processinfo\" V=\"outlook:4242\" />"),
                "{meta}"
            );
            assert!(meta.contains("BitFlags=\"19\""), "{meta}");
            let tunnel = zip_text(out.path(), "raw/1_m.xml", None);
            assert!(
                tunnel.contains("BitFlags=\"2100\"") && tunnel.contains("<TunnelInfo"),
                "{tunnel}"
            );
            assert_eq!(
                timer_text(&back, 2, Timer::ClientBeginRequest).as_deref(),
                Some("2025-08-30T11:34:00.000000100+05:30")
            );
            // The response's body exactly as stored: still chunked and gzip.
            let s = zip_bytes(out.path(), "raw/2_s.txt", None);
            assert!(s.ends_with(b"\r\n0\r\n\r\n") && s.windows(2).any(|w| w == [0x1f, 0x8b]));
        } else {
            let har: Value = serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
            common::check_har_1_2(&har);
            let e = &har["log"]["entries"][1];
            assert_eq!(e["startedDateTime"], "2025-08-30T11:33:29.3579421-07:00");
            assert_eq!(e["response"]["content"]["text"], "<html>Hello été</html>");
            assert_eq!(e["_clientIPAddress"], "127.0.0.1");
            assert_eq!(e["comment"], "look <here> & \"there\"");
            assert_eq!(har["log"]["entries"][2]["response"]["status"], 0);
        }
    }
}

#[test]
fn real_captures_of_the_corpus_survive_too() {
    let Some(dir) = common::shared_dir("corpus/captures") else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".saz") || name.ends_with(".har")) {
            continue;
        }
        let Ok(orig) = open_with(&path, None) else {
            continue; // the corpus's broken file is the reader's business
        };
        seen += 1;
        for format in [ExportFormat::Saz, ExportFormat::Har] {
            let (_out, _, back) = round_trip(&orig, &all(&orig), format, &name);
            assert_same_capture(&orig, &back, format, &format!("{name} as {format:?}"));
        }
    }
    assert!(seen >= 15, "{seen} corpus captures");
}
