//! Exchange ActiveSync mailbox logs (`Get-MobileDeviceStatistics -GetMailboxLog`): the server's
//! text log of one device's requests, read as a capture of its own, one session per entry.
//!
//! * Entries are split on the `-----------------` / ` Log Entry: n` separators; a field is a
//!   whole line `Name : ` with its value on the following lines (or, as some real dumps have it,
//!   after the colon for the field names Exchange writes). Unknown field names are kept. Text
//!   before the first separator is an entry of its own when it holds fields (an excerpt that
//!   starts mid-entry), else mail or console residue.
//! * CRLF or LF; UTF-8 with or without BOM, UTF-16 with a BOM; `.gz` (by its magic bytes).
//! * `RequestHeader` / `ResponseHeader` are HTTP heads; `RequestBody` / `ResponseBody` are XML in
//!   Exchange's layout, read into the same document tree the WBXML decoder produces and kept as
//!   WBXML, so that every view of a capture works on a log. Redacted values (`bytes="N"`, and the
//!   non-XML `<Body=N bytes/>`) read as empty elements, with a note of how many were not logged.
//!   A body that is not XML (SendMail MIME) is kept as text.
//! * Several dumps of one device repeat earlier entries and restart the `Log Entry` numbering:
//!   [`merge`] keeps one entry per (device, Identifier, RequestTime), in time order.
//! * Times have no zone: they are read as local time at [`OpenOptions::log_offset`] (UTC when
//!   not set).
//!
//! Hand-written: no maintained crate reads this format (see `mailbox-log.md` in the reference).

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use chrono::{FixedOffset, NaiveDateTime, TimeZone};

use super::model::{Body, BodyKept, BodyLocation, Format, HttpSession, MemoryStore, Request, Response, Timer};
use super::{Indexer, Loaded, OpenError, OpenOptions};
use crate::http::{parse_request, parse_response};
use crate::wbxml;

/// Largest log read (inflated, for `.gz`): Exchange keeps about 10 MB per device; a folder of
/// dumps is read file by file.
pub const MAX_LOG_SIZE: u64 = 64 * 1024 * 1024;
/// Most warnings kept for one open.
const MAX_WARNINGS: usize = 50;
/// How much of a file is looked at to tell a mailbox log.
pub(crate) const SNIFF: usize = 64 * 1024;
const SEPARATOR: &str = "-----------------";

/// Field names Exchange writes whose value may follow the colon on the same line.
const KNOWN_FIELDS: [&str; 15] = [
    "RequestTime",
    "ServerName",
    "AssemblyVersion",
    "Identifier",
    "RequestHeader",
    "RequestBody",
    "LogicalRequest",
    "AccessState",
    "AccessStateReason",
    "DeviceAccessControlRule",
    "WasPending",
    "ResponseHeader",
    "ResponseBody",
    "ResponseTime",
    "AdditionalData",
];

/// Whether `name` is one of Exchange's exception fields (`SyncCommand_OnExecute_Exception`, …).
fn is_exception(name: &str) -> bool {
    name.ends_with("_Exception")
}

/// A field the session shows in a place of its own (not as an unknown field's note).
fn is_known_field(name: &str) -> bool {
    KNOWN_FIELDS.contains(&name) || is_exception(name)
}

/// The `Identifier` of a session read from a log, as Exchange writes it (8 upper-case hex
/// digits; the session keeps it as its `id`).
pub fn identifier(session: &HttpSession) -> Option<String> {
    session.id.map(|id| format!("{id:08X}"))
}

/// The notes of a session read from a log that hold an exception field, as `Name: text`.
pub fn exception_notes(session: &HttpSession) -> impl Iterator<Item = &str> {
    session
        .notes
        .iter()
        .map(String::as_str)
        .filter(|n| n.split_once(": ").is_some_and(|(name, _)| is_exception(name)))
}

/// One entry of a log: its fields in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The `Log Entry` number (counts from 0 within one dump only); `None` for fields before the
    /// first separator.
    pub number: Option<u32>,
    /// 1-based line of the entry's first line in its file.
    pub line: usize,
    pub fields: Vec<(String, String)>,
}

impl LogEntry {
    /// The value of field `name` (the last one written: a pending entry's second block wins).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Identifier`, trimmed.
    pub fn identifier(&self) -> Option<&str> {
        self.get("Identifier").map(str::trim).filter(|s| !s.is_empty())
    }

    /// The exception fields (`…_Exception`), name and text.
    pub fn exceptions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .filter(|(n, _)| is_exception(n))
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The response came after the request went pending (`WasPending`).
    pub fn was_pending(&self) -> bool {
        self.get("WasPending").is_some()
    }
}

/// The entries of one log file and what was wrong with it.
#[derive(Debug, Default)]
pub struct ParsedLog {
    pub entries: Vec<LogEntry>,
    pub warnings: Vec<String>,
}

/// The text of a log file's bytes: gunzipped (bounded by [`MAX_LOG_SIZE`]), a BOM removed, UTF-16
/// decoded, anything else read as UTF-8 (invalid bytes replaced).
pub fn text_of(bytes: &[u8]) -> Result<String, String> {
    let inflated;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_LOG_SIZE + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("not a readable gzip file ({e})"))?;
        if out.len() as u64 > MAX_LOG_SIZE {
            return Err(format!("inflates to more than {} MiB", MAX_LOG_SIZE >> 20));
        }
        inflated = out;
        &inflated[..]
    } else {
        bytes
    };
    let utf16 = |le: bool, b: &[u8]| {
        let units = b.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    Ok(if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(true, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(false, rest)
    } else {
        String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).into_owned()
    })
}

/// Whether the start of a file (`head`, up to 64 KiB; gzip is looked into) is a mailbox log: an
/// entry separator, or a line `RequestTime : ` / `Identifier : ` / `RequestHeader : `.
pub fn looks_like_mailbox_log(head: &[u8]) -> bool {
    let text = if head.starts_with(&[0x1f, 0x8b]) {
        // The first inflated bytes of a possibly cut gzip stream.
        let mut out = Vec::new();
        let _ = flate2::read::GzDecoder::new(head)
            .take(SNIFF as u64)
            .read_to_end(&mut out);
        text_of(&out).unwrap_or_default()
    } else {
        text_of(head).unwrap_or_default()
    };
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    lines.windows(3).any(|w| is_separator(w[0], w[1], w[2]).is_some())
        || lines
            .iter()
            .filter_map(|l| field_header(l))
            .any(|(name, _)| matches!(name, "RequestTime" | "Identifier" | "RequestHeader"))
}

/// `Some(n)` when three lines are an entry separator (`n` from ` Log Entry: n`).
fn is_separator(a: &str, b: &str, c: &str) -> Option<u32> {
    let hyphens = |l: &str| l.trim_end() == SEPARATOR;
    if !hyphens(a) || !hyphens(c) {
        return None;
    }
    b.trim().strip_prefix("Log Entry:")?.trim().parse().ok()
}

/// A field header line: `Name : ` (any name of letters, digits and `_` starting with a letter),
/// or `Name : value` for the names Exchange writes; the name and the value on the line.
fn field_header(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(" :")?;
    let mut chars = name.chars();
    if !chars.next()?.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let value = rest.strip_prefix(' ').unwrap_or(rest);
    if value.trim().is_empty() {
        return Some((name, ""));
    }
    let known = is_known_field(name) || name.ends_with("_FailureCode");
    known.then_some((name, value))
}

/// Fields that begin a request: seen twice in one entry, a separator was lost between them.
const REQUEST_FIELDS: [&str; 3] = ["RequestTime", "Identifier", "RequestHeader"];

/// An entry being read.
struct Building<'a> {
    number: Option<u32>,
    line: usize,
    fields: Vec<(&'a str, Vec<&'a str>)>,
    /// Text before the first separator: residue unless it holds fields.
    residue: bool,
}

impl<'a> Building<'a> {
    fn new(number: Option<u32>, line: usize) -> Self {
        Building {
            number,
            line,
            fields: Vec::new(),
            residue: false,
        }
    }

    /// The entry, or a warning when it has no fields (nothing for residue).
    fn finish(self, out: &mut ParsedLog) {
        if self.fields.is_empty() {
            if !self.residue {
                out.warnings
                    .push(format!("{}: no fields; skipped", entry_label(self.number, self.line)));
            }
            return;
        }
        let fields = self
            .fields
            .into_iter()
            .map(|(name, mut value)| {
                while value.last().is_some_and(|l| l.trim().is_empty()) {
                    value.pop();
                }
                (name.to_string(), value.join("\n"))
            })
            .collect();
        out.entries.push(LogEntry {
            number: self.number,
            line: self.line,
            fields,
        });
    }
}

/// `entry 4 at line 300`, or `the entry at line 374` for one without a number.
fn entry_label(number: Option<u32>, line: usize) -> String {
    match number {
        Some(n) => format!("entry {n} at line {line}"),
        None => format!("the entry at line {line}"),
    }
}

/// Splits a log's text into entries and fields. A damaged separator (its hyphen line without the
/// `Log Entry` line) and a request field written twice in one entry (a lost separator) start a
/// new entry, with a warning, so that no entry is silently merged into the one before.
pub fn parse_text(text: &str) -> ParsedLog {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut out = ParsedLog::default();
    let mut current = Building {
        residue: true,
        ..Building::new(None, 1)
    };
    let mut i = 0;
    while i < lines.len() {
        if let Some(n) = lines.get(i..i + 3).and_then(|w| is_separator(w[0], w[1], w[2])) {
            std::mem::replace(&mut current, Building::new(Some(n), i + 1)).finish(&mut out);
            i += 3;
            continue;
        }
        let line = lines[i];
        if line.trim_end() == SEPARATOR {
            out.warnings.push(format!(
                "line {}: a damaged entry separator; what follows is read as an entry of its own",
                i + 1
            ));
            let mut next = Building::new(None, i + 1);
            // Nothing was lost if the text after it has no fields.
            next.residue = true;
            std::mem::replace(&mut current, next).finish(&mut out);
        } else if let Some((name, value)) = field_header(line) {
            if REQUEST_FIELDS.contains(&name) && current.fields.iter().any(|(n, _)| *n == name) {
                out.warnings.push(format!(
                    "line {}: {name} a second time in {} (a separator is missing?); read as a new entry",
                    i + 1,
                    entry_label(current.number, current.line)
                ));
                std::mem::replace(&mut current, Building::new(None, i + 1)).finish(&mut out);
            }
            current.residue = false;
            current
                .fields
                .push((name, [value].into_iter().filter(|v| !v.is_empty()).collect()));
        } else if let Some((_, value)) = current.fields.last_mut() {
            value.push(line);
        }
        i += 1;
    }
    current.finish(&mut out);
    out
}

/// The device of an entry (`DeviceId` of its request), for telling entries of several devices apart.
fn device_of(entry: &LogEntry) -> String {
    let head = entry.get("RequestHeader").unwrap_or_default();
    let target = head
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .nth(1)
        .unwrap_or_default();
    crate::eas::query::parse_request_target(target)
        .ok()
        .and_then(|q| q.device_id)
        .unwrap_or_default()
}

/// The time of `RequestTime` (or `ResponseTime`) as written, without zone.
pub fn entry_time(entry: &LogEntry, field: &str) -> Option<NaiveDateTime> {
    let text = entry.get(field)?.trim();
    NaiveDateTime::parse_from_str(text, "%m/%d/%Y %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%m/%d/%Y %H:%M:%S%.f"))
        .ok()
}

/// Several dumps' entries as one list: one entry per (device, Identifier, RequestTime) — the
/// first read — in request-time order (file order within the same second; entries without a
/// time keep their place after the one before). Returns the list and how many repeats were
/// dropped.
pub fn merge(dumps: Vec<Vec<LogEntry>>) -> (Vec<LogEntry>, usize) {
    let mut seen = HashSet::new();
    let mut merged = Vec::new();
    let mut repeats = 0;
    for entry in dumps.into_iter().flatten() {
        let key = entry.identifier().map(|id| {
            (
                device_of(&entry),
                id.to_ascii_uppercase(),
                entry.get("RequestTime").map(str::trim).unwrap_or_default().to_string(),
            )
        });
        if key.is_some_and(|key| !seen.insert(key)) {
            repeats += 1;
        } else {
            merged.push(entry);
        }
    }
    // A stable sort on the time; an entry without one sorts with the entry before it.
    let mut last = None;
    let mut keyed: Vec<_> = merged
        .into_iter()
        .map(|e| {
            let t = entry_time(&e, "RequestTime").or(last);
            last = t;
            (t, e)
        })
        .collect();
    keyed.sort_by_key(|(t, _)| *t);
    (keyed.into_iter().map(|(_, e)| e).collect(), repeats)
}

/// Opens one mailbox log file (see [`open_logs`]).
pub fn open<I: Indexer>(path: &Path, options: &OpenOptions<'_>, indexer: &I) -> Result<Loaded<I::Summary>, OpenError> {
    open_logs(&[path], options, indexer)
}

/// Opens several mailbox logs (dumps of one device, or of several) as one capture; a directory
/// stands for the files in it. A file that cannot be read or is not a log fails the whole; a
/// damaged entry is skipped with a warning.
pub fn open_logs<I: Indexer>(
    paths: &[&Path],
    options: &OpenOptions<'_>,
    indexer: &I,
) -> Result<Loaded<I::Summary>, OpenError> {
    let mut files = Vec::new();
    for &path in paths {
        if path.is_dir() {
            let mut inside: Vec<_> = std::fs::read_dir(path)
                .map_err(|source| OpenError::Io {
                    path: path.into(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.to_path_buf());
        }
    }
    let mut warnings = Vec::new();
    let mut dumps = Vec::new();
    for path in &files {
        options.report(0.0, format!("Reading {}", path.display()));
        let (file, len) = super::open_file(path)?;
        if len > MAX_LOG_SIZE {
            return Err(OpenError::NotACapture {
                path: path.clone(),
                reason: format!(
                    "{} MiB, larger than a mailbox log can be (Exchange keeps about 10 MB per device)",
                    len >> 20
                ),
            });
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(len).read_to_end(&mut bytes).map_err(|source| OpenError::Io {
            path: path.clone(),
            source,
        })?;
        let not_a_log = |reason: String| OpenError::NotACapture {
            path: path.clone(),
            reason,
        };
        if !looks_like_mailbox_log(&bytes[..bytes.len().min(SNIFF)]) {
            return Err(not_a_log(
                "not an Exchange mailbox log (no \"Log Entry\" separator or RequestTime/Identifier field)".into(),
            ));
        }
        let text = text_of(&bytes).map_err(not_a_log)?;
        let parsed = parse_text(&text);
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        // The file is named by the caller when it is the only one.
        warnings.extend(
            parsed
                .warnings
                .into_iter()
                .map(|w| if files.len() > 1 { format!("{name}: {w}") } else { w }),
        );
        dumps.push(parsed.entries);
    }
    let (entries, repeats) = merge(dumps);
    if repeats > 0 {
        warnings.push(format!(
            "{repeats} entries repeat an earlier entry's Identifier and time (dumps repeat earlier entries) and were read once"
        ));
    }
    let offset = options
        .log_offset
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    let mut sessions = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match session_of(entry, index, offset) {
            Ok((session, request_raw, response_raw)) => {
                let summary = indexer.summarize(&session, &request_raw, &response_raw);
                sessions.push((session, summary));
            }
            Err(why) => warnings.push(format!(
                "entry {} at line {}: {why}; skipped",
                entry
                    .number
                    .map_or_else(|| "before the first separator".into(), |n| n.to_string()),
                entry.line
            )),
        }
    }
    // A damaged file can have a problem per line: the first ones say what is wrong.
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
        warnings.push(format!("… and {more} more problems like these"));
    }
    if sessions.is_empty() {
        return Err(OpenError::NotACapture {
            path: files.first().cloned().unwrap_or_default(),
            reason: "a mailbox log without a readable entry".into(),
        });
    }
    options.report(1.0, format!("Loaded {} log entries", sessions.len()));
    Ok(Loaded {
        format: Format::MailboxLog,
        sessions,
        warnings,
        store: Box::new(MemoryStore),
    })
}

/// The session of one entry, with its raw request and response bodies (WBXML when the log's
/// XML could be read).
fn session_of(entry: &LogEntry, index: u32, offset: FixedOffset) -> Result<(HttpSession, Vec<u8>, Vec<u8>), String> {
    let mut s = HttpSession::new(index);
    s.id = entry.identifier().and_then(|id| u64::from_str_radix(id, 16).ok());
    let at = |field| entry_time(entry, field).and_then(|t| offset.from_local_datetime(&t).single());
    s.timers.set(Timer::ClientBeginRequest, at("RequestTime"));
    s.timers.set(Timer::ClientDoneResponse, at("ResponseTime"));

    let head = entry.get("RequestHeader").ok_or("no RequestHeader")?;
    let (head, _) = parse_request(format!("{}\r\n\r\n", head.trim_end()).as_bytes())
        .map_err(|e| format!("RequestHeader is not an HTTP request head ({e})"))?;
    let mut body_field = "RequestBody";
    if entry.get("RequestBody").is_none_or(|b| b.trim() == "Empty") && entry.get("LogicalRequest").is_some() {
        body_field = "LogicalRequest";
        s.facts
            .push("the request body was empty (a cached Sync): shown is Exchange's LogicalRequest".into());
    }
    let request_raw = body(entry.get(body_field), body_field, &mut s.notes);
    if let Some(logical) = entry.get("LogicalRequest").filter(|_| body_field != "LogicalRequest") {
        s.facts.push(format!(
            "LogicalRequest (the request as Exchange understood it): {logical}"
        ));
    }
    let url = super::model::origin_url(&head, true).unwrap_or_else(|| head.target.trim().to_string());
    s.request = Some(Request::new(head, url, memory_body(&request_raw)));

    let mut response_raw = Vec::new();
    if let Some(head) = entry.get("ResponseHeader") {
        match parse_response(format!("{}\r\n\r\n", head.trim_end()).as_bytes()) {
            Ok((head, _)) => {
                response_raw = body(entry.get("ResponseBody"), "ResponseBody", &mut s.notes);
                s.response = Some(Response {
                    head,
                    body: memory_body(&response_raw),
                });
            }
            Err(e) => s
                .notes
                .push(format!("ResponseHeader is not an HTTP response head ({e})")),
        }
    }
    if entry.was_pending() {
        s.facts
            .push("the request went pending (a long Ping or Sync); the response came later".into());
    }
    for (name, text) in entry.exceptions() {
        s.notes.push(format!("{name}: {text}"));
    }
    for name in [
        "AccessState",
        "AccessStateReason",
        "DeviceAccessControlRule",
        "ServerName",
        "AssemblyVersion",
    ] {
        if let Some(v) = entry.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            s.facts.push(format!("{name}: {v}"));
        }
    }
    for (name, value) in &entry.fields {
        if !is_known_field(name) {
            s.facts.push(format!("{name}: {value}"));
        }
    }
    Ok((s, request_raw, response_raw))
}

fn memory_body(raw: &[u8]) -> Body {
    if raw.is_empty() {
        return Body::empty();
    }
    Body {
        location: BodyLocation::Memory(Arc::from(raw)),
        stored_len: raw.len() as u64,
        kept: BodyKept::Present,
    }
}

/// A logged body as bytes: WBXML when its XML reads as ActiveSync, else its text; empty for
/// `Empty` and `[No XmlResponse]`. Redactions and failures are noted.
fn body(value: Option<&str>, field: &str, notes: &mut Vec<String>) -> Vec<u8> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    if matches!(value, "Empty" | "[No XmlResponse]") {
        return Vec::new();
    }
    // A multipart ItemOperations response: a text preamble before the XML.
    let xml_start = value.find("<?xml").or_else(|| value.starts_with('<').then_some(0));
    let Some(start) = xml_start else {
        return value.as_bytes().to_vec();
    };
    let (xml, redacted, bytes) = unredact(&value[start..]);
    if redacted > 0 {
        notes.push(format!(
            "{field}: {redacted} value(s) not logged ({bytes} characters), as Exchange logs personal data"
        ));
    }
    match wbxml::from_xml(&xml) {
        Ok(doc) => wbxml::encode(&doc),
        Err(e) => {
            notes.push(format!("{field} is not ActiveSync XML ({e}); kept as text"));
            value.as_bytes().to_vec()
        }
    }
}

/// Logged XML made well-formed: `<Body=N bytes/>` → `<Body xmlns="AirSyncBase:" bytes="N"/>`.
/// Returns the XML, how many values were redacted (`bytes="N"` attributes and `<Body=N bytes/>`)
/// and the characters they had.
fn unredact(xml: &str) -> (String, usize, u64) {
    let number = |s: &str| -> Option<(u64, usize)> {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        Some((s[..digits].parse().ok()?, digits))
    };
    let (mut count, mut chars) = (0, 0u64);
    let mut rest = xml;
    while let Some(at) = rest.find(" bytes=\"") {
        rest = &rest[at + " bytes=\"".len()..];
        if let Some((n, len)) = number(rest).filter(|&(_, len)| rest[len..].starts_with('"')) {
            count += 1;
            chars += n;
            rest = &rest[len..];
        }
    }
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(at) = rest.find("<Body=") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "<Body=".len()..];
        match number(after).and_then(|(n, len)| Some((n, after[len..].strip_prefix(" bytes/>")?))) {
            Some((n, tail)) => {
                out.push_str(&format!("<Body xmlns=\"AirSyncBase:\" bytes=\"{n}\"/>"));
                count += 1;
                chars += n;
                rest = tail;
            }
            None => {
                out.push_str("<Body=");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, count, chars)
}
