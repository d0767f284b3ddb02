//! `easlens report`: the evidence report of the bundled samples, as HTML and as Markdown (with its
//! timeline beside it), with and without the device's mailbox log. What must be in it is derived
//! from the capture and from `easlens findings --json`, not hard-coded: the session counts per
//! command, every finding's title and cited sessions, the decoded XML of an evidence session, the
//! log entry of each matched session. Nothing in it loads or links to anything outside the file,
//! and the HTML (polyglot) and SVG parse as well-formed XML.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{easlens, easlens_json_array, open_sample, sample_arg};
use easlens_core::capture::{Capture, LabelStyle};
use easlens_core::http::Side;
use easlens_core::report::{Layout, markup_safe};
use serde_json::Value;

/// A folder in the temp directory for one test, removed with what is in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("easlens-report-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `easlens report` and returns the report's text; checks it printed the files it wrote.
fn report(args: &[&str], out: &Path) -> String {
    let mut all: Vec<&str> = vec!["report"];
    all.extend(args);
    all.extend(["-o", out.to_str().unwrap()]);
    let run = easlens(&all);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{all:?}: {stderr}");
    let printed = String::from_utf8_lossy(&run.stdout);
    assert_eq!(printed.lines().next(), Some(out.to_str().unwrap()), "{printed}");
    std::fs::read_to_string(out).unwrap()
}

/// The text a browser shows of `html`: tags dropped, the five XML entities read.
fn shown(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Parses `xml` strictly: every start tag closed by its own end tag, attributes well-formed, only
/// XML's entities. Returns the element names.
fn parse_xml(xml: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<String> = Vec::new();
    let mut names = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                assert!(e.attributes().all(|a| a.is_ok()), "{:?}", e);
                open.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                names.push(open.last().cloned().unwrap());
            }
            Ok(Event::Empty(e)) => {
                assert!(e.attributes().all(|a| a.is_ok()), "{:?}", e);
                names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Ok(Event::End(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                assert_eq!(open.pop().as_deref(), Some(name.as_str()), "unbalanced </{name}>");
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().unwrap().into_owned();
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str()) || name.starts_with('#'),
                    "&{name};"
                );
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at byte {}: {e}", reader.buffer_position()),
        }
    }
    assert!(open.is_empty(), "left open: {open:?}");
    names
}

/// No reference to anything outside the file: no `src`, no link other than an anchor, no CSS
/// `url()` or `@import`, no `<link>`; Markdown images and links only to a relative file.
fn assert_self_contained(text: &str) {
    let lower = text.to_ascii_lowercase();
    for attr in [
        "src=", "srcset=", "url(", "@import", "<link", "<script", "<img", "<iframe", "<object",
    ] {
        assert!(!lower.contains(attr), "{attr} in the report");
    }
    for link in lower.split("href=").skip(1) {
        assert!(link.starts_with("\"#"), "a link out: {}", &link[..60.min(link.len())]);
    }
    for scheme in ["](http", "](<http", "](//", "](<//", "<http", "](data:", "](<data:"] {
        assert!(!lower.contains(scheme), "{scheme} in the report");
    }
}

/// Sessions per command as the report counts them (the CLI's command names).
fn per_command(capture: &Capture) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in &capture.sessions {
        *counts.entry(s.command_label(LabelStyle::CLI)).or_default() += 1;
    }
    counts
}

/// `2–16, 20`: as `easlens findings` prints a finding's sessions.
fn ranges(sessions: &[Value]) -> String {
    let n: Vec<u32> = sessions.iter().map(|v| v.as_u64().unwrap() as u32).collect();
    easlens_core::analysis::findings::ranges(&n)
}

/// The third line of the decoded response XML of the session numbered `number` (one that says
/// something of the body, past the declaration and the root).
fn xml_line(capture: &Capture, number: u32) -> Option<String> {
    let p = capture.sessions.iter().position(|s| s.index == number)?;
    let view = capture.body_view(p, Side::Response)?.ok()?;
    let xml = &view.xml.as_ref()?.text;
    xml.lines().nth(2).map(str::to_string)
}

/// The heading of an evidence session's mailbox-log part.
const LOG_HEADING: &str = "<h4>Exchange&apos;s mailbox log</h4>";

/// Everything a report of `sample` (with `log`) must hold, in both formats.
fn check_sample(sample: &str, log: Option<&str>) {
    let dir = TempDir::new(&format!("{sample}-{}", log.is_some()));
    let capture = open_sample(sample);
    let file = sample_arg(sample);
    let mut args = vec![file.as_str(), "--findings"];
    let log_arg = log.map(sample_arg);
    if let Some(l) = &log_arg {
        args.extend(["--log", l.as_str()]);
    }
    let mut findings_args = vec!["findings", file.as_str(), "--json"];
    if let Some(l) = &log_arg {
        findings_args.extend(["--log", l.as_str()]);
    }
    let findings = easlens_json_array(&findings_args);

    let html = report(&args, &dir.file("r.html"));
    let md = report(&args, &dir.file("r.md"));
    let svg = std::fs::read_to_string(dir.file("r.timeline.svg")).expect("the Markdown report's timeline");
    for text in [&html, &md, &svg] {
        assert_self_contained(text);
    }
    let names = parse_xml(&html);
    assert!(names.contains(&"svg".to_string()) && names.contains(&"details".to_string()));
    assert!(parse_xml(&svg).starts_with(&["svg".to_string()]));
    assert!(
        md.contains("![The sessions over time, by outcome](<r.timeline.svg>)"),
        "{md}"
    );
    let text = shown(&html);

    // The summary's counts.
    assert!(
        text.contains(&format!("{} in all", capture.sessions.len())),
        "{sample}: session count"
    );
    for (command, n) in per_command(&capture) {
        assert!(
            html.contains(&format!("<tr><td>{command}</td><td class=\"n\">{n}</td>")),
            "{sample}: {command} × {n} in the HTML"
        );
        assert!(
            md.contains(&format!("| {command} | {n} |")),
            "{sample}: {command} × {n} in the Markdown"
        );
    }

    // Each finding with its title and cited sessions.
    if findings.is_empty() {
        assert!(text.contains("No known failure pattern was found."));
        assert!(text.contains("No finding cites a session."), "{sample}");
    }
    let mut cited = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let title = f["title"].as_str().unwrap();
        let sessions = ranges(f["sessions"].as_array().unwrap());
        let word = if f["sessions"].as_array().unwrap().len() == 1 {
            "Session"
        } else {
            "Sessions"
        };
        let heading = format!("{}. {title}", i + 1);
        assert!(text.contains(&heading), "{sample}: {heading}");
        assert!(md.contains(&format!(" — {heading} `")), "{sample}: {heading}");
        for doc in [&text, &md] {
            assert!(
                doc.contains(&format!("{word} {sessions}")),
                "{sample}: {title}: {word} {sessions}"
            );
        }
        cited.extend(
            f["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32),
        );
    }

    // An evidence session: its anchor, its heading and its decoded XML.
    let first = cited.iter().min().copied().unwrap_or_else(|| {
        capture
            .sessions
            .iter()
            .find(|s| s.eas.is_some())
            .map(|s| s.index)
            .unwrap()
    });
    assert!(
        html.contains(&format!("<section class=\"session\" id=\"s{first}\">")),
        "{sample}: #{first}"
    );
    assert!(md.contains(&format!(" — Session {first} · ")), "{sample}: #{first}");
    let with_body = cited
        .iter()
        .copied()
        .chain([first])
        .find_map(|n| xml_line(&capture, n).map(|l| (n, l)));
    if let Some((n, line)) = with_body {
        assert!(
            html.contains(&markup_safe(&line, Layout::Lines)),
            "{sample}: XML of #{n}: {line}"
        );
        assert!(md.contains(&line), "{sample}: XML of #{n}: {line}");
    }
    assert!(
        text.contains("Authorization") && !text.contains("Basic dX"),
        "credentials masked"
    );

    // The log: each evidence session says what Exchange's log has of it.
    match log {
        Some(_) => {
            assert!(text.contains("Mailbox log") && text.contains("matched"));
            let sections = html.matches("<section class=\"session\"").count();
            assert_eq!(html.matches(LOG_HEADING).count(), sections, "{sample}");
            assert!(text.contains("Matched with log entry"), "{sample}");
        }
        None => assert!(!html.contains(LOG_HEADING)),
    }
    // Nothing left behind but the report and its picture.
    let mut files: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["r.html", "r.md", "r.timeline.svg"]);
}

#[test]
fn healthy() {
    check_sample("healthy-iphone.saz", None);
    check_sample("healthy-android.saz", Some("healthy-android.mailbox-log.txt"));
}

#[test]
fn throttling() {
    check_sample("throttling-storm-iphone.saz", None);
    check_sample(
        "throttling-storm-iphone.saz",
        Some("throttling-storm-iphone.mailbox-log.txt"),
    );
}

#[test]
fn synckey_reset() {
    check_sample("synckey-reset-android.saz", None);
    check_sample(
        "synckey-reset-android.saz",
        Some("synckey-reset-android.mailbox-log.txt"),
    );
}

#[test]
fn the_log_adds_its_findings_and_exceptions() {
    let dir = TempDir::new("log-findings");
    let file = sample_arg("synckey-reset-android.saz");
    let log = sample_arg("synckey-reset-android.mailbox-log.txt");
    let text = shown(&report(&[&file, "--findings", "--log", &log], &dir.file("r.html")));
    assert!(
        text.contains("Exchange hit an exception"),
        "the server-exception finding"
    );
    assert!(text.contains("Exception in Exchange's log:") && text.contains("CorruptSyncStateException"));
}

#[test]
fn sessions_by_number() {
    let dir = TempDir::new("sessions");
    let file = sample_arg("throttling-storm-iphone.saz");
    let html = report(&[&file, "--sessions", "3,5-6"], &dir.file("r.html"));
    let shown_sessions: Vec<&str> = html
        .split("<section class=\"session\" id=\"s")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(shown_sessions, ["3", "5", "6"]);
    assert!(!html.contains("id=\"findings\""), "no findings without --findings");
    assert!(shown(&html).contains("The sessions asked for (3)."));

    let out = dir.file("x.html");
    for (sessions, why) in [
        ("17", "no session 17"),
        ("3,40-50", "no session 40-50"),
        ("5-3", "backwards"),
    ] {
        let run = easlens(&["report", &file, "--sessions", sessions, "-o", out.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(2), "--sessions {sessions}");
        assert!(String::from_utf8_lossy(&run.stderr).contains(why), "{sessions}");
        assert!(!out.exists());
    }
}

#[test]
fn output_is_checked_before_anything_is_written() {
    let dir = TempDir::new("output");
    let input = dir.file("capture.saz");
    std::fs::copy(common::sample_path("healthy-iphone.saz"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let input_arg = input.to_str().unwrap();
    let pdf = dir.file("r.pdf");
    let run = easlens(&["report", input_arg, "-o", pdf.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains(".html (or .htm) or .md"));
    assert!(!pdf.exists());
    // The input under another name that is a report's: refused, left as it was.
    let as_html = dir.file("capture.html");
    std::fs::copy(&input, &as_html).unwrap();
    let run = easlens(&["report", as_html.to_str().unwrap(), "-o", as_html.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("input"));
    assert_eq!(std::fs::read(&as_html).unwrap(), before);
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // An existing report is replaced whole.
    let out = dir.file("r.html");
    std::fs::write(&out, "old").unwrap();
    let html = report(&[input_arg], &out);
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
}

#[test]
fn one_finding_as_scope_and_the_redaction_line() {
    use easlens_core::report::{ReportOptions, Scope, build, html, markdown};
    let capture = open_sample("throttling-storm-iphone.saz");
    let all = build(
        &capture,
        None,
        &ReportOptions {
            findings: true,
            ..Default::default()
        },
    );
    let findings = all.findings.as_ref().unwrap();
    let throttled = findings.iter().position(|f| f.rule == "throttled").unwrap();
    let options = ReportOptions {
        scope: Scope::Finding(throttled),
        redacted: true,
        title: Some("Ticket 4711".into()),
        ..Default::default()
    };
    let one = build(&capture, None, &options);
    let only = one.findings.as_ref().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].rule, "throttled");
    let numbers: Vec<u32> = one.evidence.iter().map(|e| e.session.number).collect();
    assert_eq!(numbers, only[0].sessions);
    assert!(one.evidence.iter().all(|e| e.cited_by == [0]));
    assert!(one.notes.is_empty());
    let page = html::render(&one);
    assert!(page.contains("<title>Ticket 4711</title>"));
    assert!(page.contains("Personal data replaced by pseudonyms.") && !page.contains("NOT redacted"));
    let md = markdown::render(&one, None);
    assert!(md.starts_with("# Ticket 4711\n") && md.contains("> Personal data replaced by pseudonyms."));
    assert!(md.contains("(The timeline picture is not included.)"));

    let missing = build(
        &capture,
        None,
        &ReportOptions {
            scope: Scope::Finding(99),
            ..Default::default()
        },
    );
    assert!(missing.evidence.is_empty() && missing.findings.as_ref().is_some_and(Vec::is_empty));
    assert!(
        missing.notes[0].contains("Finding 100 was asked for"),
        "{:?}",
        missing.notes
    );
    assert!(html::render(&missing).contains("Finding 100 was asked for"));
}
