//! The report's outline, written once: which parts come in which order, and the words around the
//! values of the [`Report`]. The formats are [`Sink`]s of it (`html.rs`, `markdown.rs`): each
//! says only how a heading, a paragraph, a table, a line or block of code, a list, a frame and
//! the picture are written, and escapes what it is given (every string may come from the
//! capture). So the HTML and the Markdown report say the same, in the same order.

use crate::numbers::group_thousands;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};

use super::evidence::{BODY_CAP, Counted, Evidence, LogEvidence, Outcome, Report};
use super::session::{BodyEvidence, HeaderEvidence, ResponseEvidence, StatusEvidence};
use crate::analysis::align::PairKind;
use crate::analysis::findings::{Finding, Severity, index_runs};
use crate::eas::status::{HttpMeaning, Level, Verdict};

/// A piece of a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Span<'a> {
    Text(Cow<'a, str>),
    Strong(Cow<'a, str>),
    /// A value as sent (a header, a command): code in Markdown, monospace in HTML.
    Code(Cow<'a, str>),
    /// A link to a place in the report (`s14` a session, `f1` a finding); a format without such
    /// links writes the text alone.
    Link {
        anchor: String,
        text: String,
    },
    Outcome(Outcome),
    Severity(Severity),
    /// A line break inside a table cell.
    Break,
}

/// What a paragraph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Para {
    Plain,
    /// Times, durations, where a thing comes from: secondary.
    Meta,
    /// Something the reader must not miss.
    Warning,
    /// A rule's explanation: cause and what to do.
    Explanation,
}

/// A banner at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    Redacted,
    NotRedacted,
    /// A problem with what was asked for.
    Note,
}

/// A table's column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column<'a> {
    pub title: Span<'a>,
    /// Numbers, aligned right.
    pub numeric: bool,
}

/// A table's row; `failure` rows are shown as such.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    pub cells: Vec<Vec<Span<'a>>>,
    pub failure: bool,
}

/// A frame around one finding or one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    Finding(Severity),
    Session,
}

/// A format the outline is written in.
pub trait Sink {
    /// The report's start: its title (the document's, and its first heading).
    fn start(&mut self, title: &str);
    fn heading(&mut self, level: usize, anchor: Option<&str>, spans: &[Span<'_>]);
    fn paragraph(&mut self, kind: Para, spans: &[Span<'_>]);
    fn banner(&mut self, kind: Banner, text: &str);
    /// A table; `key_value`: the first column names what the second holds.
    fn table(&mut self, columns: &[Column<'_>], rows: &[Row<'_>], key_value: bool);
    fn list(&mut self, items: &[Vec<Span<'_>>]);
    /// One line as sent: a request or status line.
    fn line(&mut self, text: &str);
    /// A block of text as sent (`info`: `xml` or `text`), under `title` when given (a body, which
    /// a format may let the reader fold).
    fn block(&mut self, title: Option<&str>, info: &str, text: &str);
    /// The timeline picture (SVG).
    fn timeline(&mut self, svg: &str);
    fn open(&mut self, frame: Frame, anchor: &str);
    fn close(&mut self, frame: Frame);
    /// The report's end.
    fn end(&mut self, byline: &str);
}

fn text<'a>(s: impl Into<Cow<'a, str>>) -> Span<'a> {
    Span::Text(s.into())
}

fn code<'a>(s: impl Into<Cow<'a, str>>) -> Span<'a> {
    Span::Code(s.into())
}

/// Writes `report` to `sink`.
pub fn write(report: &Report, sink: &mut impl Sink) {
    sink.start(&report.title);
    sink.paragraph(Para::Meta, &[text(byline(report))]);
    match report.redacted {
        true => sink.banner(Banner::Redacted, REDACTED),
        false => sink.banner(Banner::NotRedacted, NOT_REDACTED),
    }
    for n in &report.notes {
        sink.banner(Banner::Note, n);
    }
    summary(report, sink);
    if let Some(findings) = &report.findings {
        findings_section(report, findings, sink);
    }
    sink.heading(2, Some("timeline"), &[text("Timeline")]);
    sink.timeline(&report.timeline.svg());
    evidence_section(report, sink);
    sink.end(&byline(report));
}

fn summary(report: &Report, sink: &mut impl Sink) {
    sink.heading(2, Some("summary"), &[text("Summary")]);
    let rows: Vec<Row> = summary_rows(report)
        .into_iter()
        .map(|(label, values)| {
            let mut value = Vec::new();
            for (i, v) in values.into_iter().enumerate() {
                if i > 0 {
                    value.push(Span::Break);
                }
                value.push(text(v));
            }
            Row {
                cells: vec![vec![Span::Strong(label.into())], value],
                failure: false,
            }
        })
        .collect();
    let columns = [
        Column {
            title: text(""),
            numeric: false,
        },
        Column {
            title: text(""),
            numeric: false,
        },
    ];
    sink.table(&columns, &rows, true);
    let warnings: Vec<Vec<Span>> = report.summary.warnings.iter().map(|w| vec![text(w.as_str())]).collect();
    if !warnings.is_empty() {
        sink.paragraph(Para::Plain, &[text("Reading the capture reported:")]);
        sink.list(&warnings);
    }

    sink.heading(3, None, &[text("Sessions by command and outcome")]);
    let mut columns = vec![
        Column {
            title: text("Command"),
            numeric: false,
        },
        Column {
            title: text("Sessions"),
            numeric: true,
        },
    ];
    columns.extend(Outcome::ALL.map(|o| Column {
        title: Span::Outcome(o),
        numeric: true,
    }));
    let s = &report.summary;
    let rows: Vec<Row> = s
        .commands
        .iter()
        .map(|c| (c, text(c.command.as_str())))
        .chain([(&s.total, Span::Strong("All".into()))])
        .map(|(c, name)| {
            let mut cells = vec![vec![name], vec![text(count_text(c.total()))]];
            cells.extend(Outcome::ALL.map(|o| vec![text(count_text(c.count(o)))]));
            Row { cells, failure: false }
        })
        .collect();
    sink.table(&columns, &rows, false);
}

/// `14–16, 20`, each number a link when the report shows that session in full.
fn cited<'a>(sessions: &[u32], shown: &HashSet<u32>) -> Vec<Span<'a>> {
    let link = |n: u32| match shown.contains(&n) {
        true => Span::Link {
            anchor: format!("s{n}"),
            text: n.to_string(),
        },
        false => text(n.to_string()),
    };
    let mut out = Vec::new();
    for (i, (a, b)) in index_runs(sessions).into_iter().enumerate() {
        if i > 0 {
            out.push(text(", "));
        }
        out.push(link(a));
        if b != a {
            out.push(text("–"));
            out.push(link(b));
        }
    }
    out
}

fn findings_section(report: &Report, findings: &[Finding], sink: &mut impl Sink) {
    sink.heading(2, Some("findings"), &[text("Findings")]);
    sink.paragraph(Para::Plain, &[text(findings_count(findings))]);
    let shown: HashSet<u32> = report.evidence.iter().map(|e| e.session.number).collect();
    for ((i, f), explanation) in findings.iter().enumerate().zip(explanations(findings)) {
        let anchor = format!("f{}", i + 1);
        sink.open(Frame::Finding(f.severity), &anchor);
        sink.heading(
            3,
            None,
            &[
                Span::Severity(f.severity),
                text(format!("{}. {} ", i + 1, f.title)),
                code(f.rule),
            ],
        );
        let word = if f.sessions.len() == 1 { "Session " } else { "Sessions " };
        let mut when = vec![text(word)];
        when.extend(cited(&f.sessions, &shown));
        when.push(text(finding_when(f)));
        if let Some(item) = &f.item {
            // The id `easlens history` and the window's item history follow.
            when.push(text(" · item "));
            when.push(code(item.as_str()));
        }
        sink.paragraph(Para::Meta, &when);
        sink.paragraph(Para::Plain, &[text(f.message.as_str())]);
        sink.paragraph(Para::Explanation, &[text(explanation)]);
        sink.close(Frame::Finding(f.severity));
    }
}

fn evidence_section(report: &Report, sink: &mut impl Sink) {
    sink.heading(2, Some("evidence"), &[text("Evidence sessions")]);
    sink.paragraph(Para::Plain, &[text(report.selection.as_str())]);
    if report.evidence.is_empty() {
        return;
    }
    // An index first: one line a session.
    let columns: Vec<Column> = [
        ("#", true),
        ("Started", false),
        ("Command", false),
        ("HTTP", true),
        ("Outcome", false),
        ("Findings", false),
    ]
    .into_iter()
    .map(|(t, numeric)| Column {
        title: text(t),
        numeric,
    })
    .collect();
    let rows: Vec<Row> = report
        .evidence
        .iter()
        .map(|e| {
            let s = &e.session;
            let http = match &s.response {
                ResponseEvidence::Present(r) => r.status.to_string(),
                ResponseEvidence::Missing { .. } => "–".into(),
            };
            Row {
                cells: vec![
                    vec![Span::Link {
                        anchor: format!("s{}", s.number),
                        text: s.number.to_string(),
                    }],
                    vec![code(s.started.map_or(String::new(), |t| {
                        t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
                    }))],
                    vec![text(s.command.as_str())],
                    vec![text(http)],
                    vec![Span::Outcome(e.outcome)],
                    finding_links(e),
                ],
                failure: false,
            }
        })
        .collect();
    sink.table(&columns, &rows, false);
    for e in &report.evidence {
        session(report, e, sink);
    }
}

/// `1, 3`: the findings that cite a session, linked.
fn finding_links<'a>(e: &Evidence) -> Vec<Span<'a>> {
    let mut out = Vec::new();
    for (i, &f) in e.cited_by.iter().enumerate() {
        if i > 0 {
            out.push(text(", "));
        }
        out.push(Span::Link {
            anchor: format!("f{}", f + 1),
            text: (f + 1).to_string(),
        });
    }
    out
}

fn session(report: &Report, e: &Evidence, sink: &mut impl Sink) {
    let s = &e.session;
    let anchor = format!("s{}", s.number);
    sink.open(Frame::Session, &anchor);
    sink.heading(
        3,
        None,
        &[
            Span::Outcome(e.outcome),
            text(format!("Session {} · {}", s.number, s.command)),
        ],
    );
    sink.paragraph(Para::Meta, &[text(session_meta(e))]);
    if let Some(findings) = &report.findings
        && !e.cited_by.is_empty()
    {
        let mut spans = vec![text("Evidence of: ")];
        for (i, &f) in e.cited_by.iter().enumerate() {
            if i > 0 {
                spans.push(text("; "));
            }
            spans.push(Span::Link {
                anchor: format!("f{}", f + 1),
                text: format!("{}. {}", f + 1, findings.get(f).map_or("", |x| x.title)),
            });
        }
        sink.paragraph(Para::Plain, &spans);
    }
    sink.heading(4, None, &[text("Request")]);
    match &s.request {
        None => sink.paragraph(Para::Warning, &[text("The capture has no request for this session.")]),
        Some(r) => {
            sink.line(&r.line);
            if !r.base64_query.is_empty() {
                let mut columns = vec![Column {
                    title: text("Base64 query"),
                    numeric: false,
                }];
                columns.extend(r.base64_query.iter().map(|(k, _)| Column {
                    title: text(*k),
                    numeric: false,
                }));
                let mut cells = vec![vec![text("decoded")]];
                cells.extend(r.base64_query.iter().map(|(_, v)| vec![code(v.as_str())]));
                sink.table(&columns, &[Row { cells, failure: false }], false);
            }
            headers(&r.headers, sink);
            body("Request body", &r.body, sink);
        }
    }
    sink.heading(4, None, &[text("Response")]);
    match &s.response {
        ResponseEvidence::Missing { aborted } => {
            let why = match aborted {
                true => "No response: the session was aborted.",
                false => "No response in the capture.",
            };
            sink.paragraph(Para::Warning, &[text(why)]);
        }
        ResponseEvidence::Present(r) => {
            sink.line(&r.line);
            if let Some(m) = r.meaning {
                sink.paragraph(Para::Plain, &[text(http_meaning_text(m))]);
            }
            if r.generated {
                sink.paragraph(Para::Warning, &[text("Generated by the proxy, not by Exchange.")]);
            }
            headers(&r.headers, sink);
            statuses("EAS Status", &r.statuses, sink);
            body("Response body", &r.body, sink);
        }
    }
    if let Some(log) = &e.log {
        let status = match &s.response {
            ResponseEvidence::Present(r) => Some(r.status),
            ResponseEvidence::Missing { .. } => None,
        };
        log_entry(log, status, sink);
    }
    sink.close(Frame::Session);
}

fn headers(headers: &[HeaderEvidence], sink: &mut impl Sink) {
    if headers.is_empty() {
        return;
    }
    let columns = ["Header", "Value", "Meaning"].map(|t| Column {
        title: text(t),
        numeric: false,
    });
    let rows: Vec<Row> = headers
        .iter()
        .map(|h| Row {
            cells: vec![
                vec![code(h.name)],
                vec![code(h.value.as_str())],
                vec![text(h.meaning.unwrap_or_default())],
            ],
            failure: false,
        })
        .collect();
    sink.table(&columns, &rows, false);
}

fn statuses(what: &'static str, statuses: &[StatusEvidence], sink: &mut impl Sink) {
    if statuses.is_empty() {
        return;
    }
    let columns = [(what, false), ("Value", true), ("Meaning", false)].map(|(t, numeric)| Column {
        title: text(t),
        numeric,
    });
    let rows: Vec<Row> = statuses
        .iter()
        .map(|s| Row {
            cells: vec![
                vec![code(s.path.as_str())],
                vec![code(s.raw.as_str())],
                vec![text(status_meaning(s))],
            ],
            failure: s.verdict == Verdict::Failure,
        })
        .collect();
    sink.table(&columns, &rows, false);
}

fn body(side: &str, body: &BodyEvidence, sink: &mut impl Sink) {
    let heading = body_heading(side, body);
    match body {
        BodyEvidence::Xml { text: t, .. } => sink.block(Some(&heading), "xml", t),
        BodyEvidence::Text { text: t, .. } => sink.block(Some(&heading), "text", t),
        _ => sink.paragraph(Para::Plain, &[text(heading)]),
    }
}

/// The log entry of a session whose response had HTTP `status` (its meaning is said again only
/// when Exchange's differs).
fn log_entry(log: &LogEvidence, status: Option<u16>, sink: &mut impl Sink) {
    sink.heading(4, None, &[text("Exchange's mailbox log")]);
    let Some(entry) = log.entry.as_ref().filter(|_| log.kind == PairKind::Matched) else {
        sink.paragraph(
            Para::Warning,
            &[text(
                "Not in Exchange's log: the request did not reach Exchange (something in between answered or \
                 dropped it).",
            )],
        );
        return;
    };
    let mut heading = format!("Matched with log entry {}", entry.number);
    if let Some(id) = &entry.identifier {
        let _ = write!(heading, " · Identifier {id}");
    }
    if let Some(t) = entry.time {
        let _ = write!(heading, " · {} (the log's clock)", t.format("%Y-%m-%d %H:%M:%S"));
    }
    sink.paragraph(Para::Plain, &[text(heading)]);
    if log.differences.is_empty() {
        sink.paragraph(
            Para::Plain,
            &[text(
                "Exchange logged the same request and answer as the capture shows.",
            )],
        );
    } else {
        sink.paragraph(
            Para::Warning,
            &[text("What differs between the device's view and Exchange's:")],
        );
        let items: Vec<Vec<Span>> = log.differences.iter().map(|d| vec![text(d.as_str())]).collect();
        sink.list(&items);
    }
    if let Some(r) = &entry.response {
        sink.line(r);
    }
    if let Some(m) = entry.http_meaning.filter(|m| Some(m.code) != status) {
        sink.paragraph(Para::Plain, &[text(http_meaning_text(m))]);
    }
    statuses("EAS Status (log)", &entry.statuses, sink);
    for x in &entry.exceptions {
        sink.paragraph(Para::Warning, &[text("Exception in Exchange's log:")]);
        sink.block(None, "text", x);
    }
    let notes: Vec<Vec<Span>> = entry.notes.iter().map(|n| vec![text(n.as_str())]).collect();
    if !notes.is_empty() {
        sink.list(&notes);
    }
}

/// The header line of a report of a redacted capture.
const REDACTED: &str = "Personal data replaced by pseudonyms.";
/// The header warning of a report of a capture that was not redacted.
const NOT_REDACTED: &str = "NOT redacted: contains personal data (user names, device ids, addresses, mail \
     content). Redact the capture before sending this report outside your organisation.";

/// `Capture healthy.saz (Fiddler archive (SAZ)) · written by easlens 0.1.0`.
fn byline(report: &Report) -> String {
    format!(
        "Capture {} ({}) · written by {}",
        report.summary.capture, report.summary.format, report.generator
    )
}

/// The summary as (label, lines) rows.
fn summary_rows(report: &Report) -> Vec<(&'static str, Vec<String>)> {
    let s = &report.summary;
    let mut rows = vec![
        ("Capture", vec![format!("{} ({})", s.capture, s.format)]),
        (
            "Sessions",
            vec![format!(
                "{} in all, {} of them ActiveSync requests",
                count_text(s.sessions),
                count_text(s.eas_sessions)
            )],
        ),
        ("Time span", vec![time_span(s.first, s.last)]),
    ];
    let devices: Vec<String> = s
        .devices
        .iter()
        .map(|d| {
            let name = match (d.device_type.is_empty(), d.device_id.is_empty()) {
                (true, true) => "no DeviceId".to_string(),
                (false, true) => format!("{} (no DeviceId)", d.device_type),
                (true, false) => d.device_id.clone(),
                (false, false) => format!("{} {}", d.device_type, d.device_id),
            };
            let users = if d.users.is_empty() {
                String::new()
            } else {
                format!(", user {}", d.users.join(", "))
            };
            format!("{name}{users}: {} session(s)", count_text(d.sessions))
        })
        .collect();
    rows.push(("Devices", or_none(devices)));
    let counted = |c: &[Counted]| {
        or_none(
            c.iter()
                .map(|c| format!("{} ({} sessions)", c.value, count_text(c.sessions)))
                .collect(),
        )
    };
    rows.push(("User agents", counted(&s.user_agents)));
    rows.push(("Protocol versions", counted(&s.protocol_versions)));
    if let Some(l) = &report.log {
        let o = l.clock_offset_seconds;
        rows.push((
            "Mailbox log",
            vec![
                format!("{}: {} entries", l.file, count_text(l.entries)),
                format!(
                    "Log clock {}{}:{:02}:{:02} from the capture's (estimated)",
                    if o < 0 { '-' } else { '+' },
                    o.abs() / 3600,
                    o.abs() / 60 % 60,
                    o.abs() % 60
                ),
                format!(
                    "{} matched, {} only in the capture (never reached Exchange), {} only in the log",
                    count_text(l.matched),
                    count_text(l.trace_only),
                    count_text(l.log_only)
                ),
            ],
        ));
    }
    rows
}

fn or_none(v: Vec<String>) -> Vec<String> {
    if v.is_empty() { vec!["none".into()] } else { v }
}

/// A count as the report writes it: `100,000`.
fn count_text(n: usize) -> String {
    group_thousands(n as u64)
}

/// Each finding's explanation: the rule's, the first time the rule appears; after that a
/// pointer to the finding that gave it (a capture can have many findings of one rule).
fn explanations(findings: &[Finding]) -> Vec<String> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| match first.get(f.rule) {
            Some(&j) => format!("Explained under finding {}.", j + 1),
            None => {
                first.insert(f.rule, i);
                f.explanation.to_string()
            }
        })
        .collect()
}

/// `2024-03-06 14:02:11 – 14:03:44 (UTC+01:00), 1 min 33 s`.
fn time_span(first: Option<DateTime<FixedOffset>>, last: Option<DateTime<FixedOffset>>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => {
            let b = b.with_timezone(a.offset());
            let end = if a.date_naive() == b.date_naive() {
                b.format("%H:%M:%S")
            } else {
                b.format("%Y-%m-%d %H:%M:%S")
            };
            format!(
                "{} – {end} (UTC{}), {}",
                a.format("%Y-%m-%d %H:%M:%S"),
                a.format("%:z"),
                span_text((b - a).num_seconds())
            )
        }
        _ => "the capture has no times".into(),
    }
}

/// `1 min 33 s`, `3 h 10 min`, `56 days 1 h`.
fn span_text(secs: i64) -> String {
    const DAY: i64 = 86400;
    if secs < DAY {
        return crate::analysis::findings::duration_text(secs);
    }
    let days = secs / DAY;
    format!("{days} day{} {} h", if days == 1 { "" } else { "s" }, secs % DAY / 3600)
}

/// ` · 2024-03-06 14:02:50 – 14:03:44` (the finding's evidence times), or nothing.
fn finding_when(f: &Finding) -> String {
    match (f.first, f.last) {
        (Some(a), Some(b)) if a != b => format!(" · {} – {}", a.format("%Y-%m-%d %H:%M:%S"), b.format("%H:%M:%S")),
        (Some(a), _) => format!(" · {}", a.format("%Y-%m-%d %H:%M:%S")),
        _ => String::new(),
    }
}

/// `2 error(s), 1 warning(s), 0 info, most severe first.`, or that nothing was found.
fn findings_count(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No known failure pattern was found.".into();
    }
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "{} error(s), {} warning(s), {} info, most severe first.",
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Info)
    )
}

/// `In ActiveSync, HTTP 503 (Service Unavailable) means: …`.
fn http_meaning_text(m: &HttpMeaning) -> String {
    format!("In ActiveSync, HTTP {} ({}) means: {}", m.code, m.name, m.meaning)
}

/// A Status's name and meaning, `InvalidSyncKey: …`, or that the value is unknown.
fn status_meaning(s: &StatusEvidence) -> String {
    let verdict = match (s.verdict, s.level) {
        (Verdict::Failure, Level::Item) => " (failure of one item)",
        (Verdict::Failure, Level::Command) => " (failure)",
        _ => "",
    };
    match (s.name, s.meaning) {
        (Some(n), Some(m)) => format!("{n}: {m}{verdict}"),
        (Some(n), None) => format!("{n}{verdict}"),
        _ => format!("unknown value{verdict}"),
    }
}

/// `Request body: WBXML decoded as XML`, with what was left out; or why there is no body.
fn body_heading(side: &str, body: &BodyEvidence) -> String {
    let left_out = |n: usize| match n {
        0 => String::new(),
        n => format!(" (the first {} KiB; {n} more bytes left out)", BODY_CAP / 1024),
    };
    match body {
        BodyEvidence::None => format!("{side}: none."),
        BodyEvidence::Note(why) => format!("{side}: {why}."),
        BodyEvidence::Binary(n) => format!("{side}: {n} bytes of binary data (not shown)."),
        BodyEvidence::Text { omitted, .. } => format!("{side}: text{}", left_out(*omitted)),
        BodyEvidence::Xml { error, omitted, .. } => {
            let error = error
                .as_ref()
                .map_or(String::new(), |e| format!(" up to an error ({e})"));
            format!("{side}: WBXML decoded as XML{error}{}", left_out(*omitted))
        }
    }
}

/// `2024-03-06 14:03:29.220 +01:00 · 120 ms`.
fn session_meta(e: &Evidence) -> String {
    let s = &e.session;
    let mut parts = vec![s.started.map_or_else(
        || "no time in the capture".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string(),
    )];
    if let Some(d) = s.duration_ms {
        parts.push(format!("{d:.0} ms"));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_spans_read_easily() {
        assert_eq!(count_text(0), "0");
        assert_eq!(count_text(999), "999");
        assert_eq!(count_text(1000), "1,000");
        assert_eq!(count_text(100_000), "100,000");
        assert_eq!(span_text(93), "1 min 33 s");
        assert_eq!(span_text(86400 + 7200), "1 day 2 h");
        assert_eq!(span_text(56 * 86400 + 3600), "56 days 1 h");
    }

    #[test]
    fn sessions_cited_are_linked_when_shown() {
        let shown: HashSet<u32> = [2, 3, 4, 9].into();
        let spans = cited(&[2, 3, 4, 7, 9], &shown);
        let flat: String = spans
            .iter()
            .map(|s| match s {
                Span::Text(t) => t.to_string(),
                Span::Link { anchor, text } => format!("[{text}#{anchor}]"),
                _ => String::new(),
            })
            .collect();
        assert_eq!(flat, "[2#s2]–[4#s4], 7, [9#s9]");
    }
}
