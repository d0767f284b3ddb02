//! Writes [`Exchange`]s as HAR files the way real exporters do, quirks included
//! (reference: saz-and-har.md §2.2), so that the reader can be tested against every known way a
//! WBXML body gets stored — or destroyed:
//!
//! | style | request body (`postData`) | response body (`content`) |
//! |---|---|---|
//! | [`HarStyle::Fiddler`] | HTTP-decoded, then read as UTF-8 with U+FFFD for invalid bytes (lossy); always present, even on GET | binary types: base64 of the raw bytes **as on the wire** (still gzip/chunked) below 32 KB (`MaxBinaryBodyLength`), omitted with a comment above; text types decoded |
//! | [`HarStyle::Mitmproxy`] | decoded, invalid UTF-8 bytes as lone surrogates `\udc80`–`\udcff` (surrogateescape); all non-ASCII `\u`-escaped (Python `json.dumps`) | decoded; base64 when mostly binary |
//! | [`HarStyle::Chrome`] | decoded, lossy; `Authorization`/`Cookie`/`Set-Cookie` dropped (the sanitized export of Chrome ≥ 130) | decoded; base64 for non-text types |
//! | [`HarStyle::Saz2Har`] | decoded; non-standard `postData.encoding: "base64"` when the body contains a NUL | decoded; base64 when it contains a NUL |
//! | [`HarStyle::Easlens`] | decoded, exact: text when it is readable UTF-8, else base64 with the non-standard `postData.encoding: "base64"` | decoded, exact: text when readable UTF-8, else base64 |
//!
//! [`HarStyle::Easlens`] is what an export writes: every byte kept (easlens's reader recovers
//! them exactly), a body the source capture did not have left out with a comment and its size,
//! and the timers of an [`Exchange`] that has them as `startedDateTime`, `time` and `timings`.
//!
//! HAR 1.1 has no `encoding`: every body that would be base64 is left out (only its size stays),
//! and the 1.2 additions (`ssl`, `comment`, `serverIPAddress`, `connection`) are not written.
//!
//! Entries are written one at a time ([`HarWriter`]); nothing holds more than one entry's JSON.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

use super::Exchange;
use crate::http::{Headers, decode_body, parse_request, parse_response, readable_text};
use crate::readers::har::is_sync_mime;

/// Fiddler's `fiddler.importexport.HTTPArchiveJSON.MaxBinaryBodyLength` default: binary bodies of
/// this size and more are left out of its HAR export.
pub const FIDDLER_MAX_BINARY_BODY: usize = 32 * 1024;

/// Which exporter's habits to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarStyle {
    /// Fiddler Classic "HTTPArchive v1.2" export.
    Fiddler,
    /// mitmproxy ≥ 10 (`mitmdump --set hardump=…`).
    Mitmproxy,
    /// Chrome/Edge DevTools "Save all as HAR".
    Chrome,
    /// paulomorgado/SAZ2HAR (C#).
    Saz2Har,
    /// easlens's own export: exact bodies, standard HAR 1.2 apart from `postData.encoding`.
    Easlens,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarVersion {
    V1_1,
    V1_2,
}

impl HarVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            HarVersion::V1_1 => "1.1",
            HarVersion::V1_2 => "1.2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HarOptions {
    pub style: HarStyle,
    pub version: HarVersion,
    /// Write a UTF-8 byte order mark before the JSON (Fiddler does).
    pub bom: bool,
}

impl HarOptions {
    /// HAR 1.2, with a BOM for Fiddler only — what each exporter writes by default.
    pub fn new(style: HarStyle) -> Self {
        HarOptions {
            style,
            version: HarVersion::V1_2,
            bom: style == HarStyle::Fiddler,
        }
    }
}

/// Writes `sessions` as a HAR file to `out`.
pub fn write_har(out: impl Write, sessions: &[Exchange], options: &HarOptions) -> io::Result<()> {
    let mut w = HarWriter::new(out, options)?;
    for s in sessions {
        w.write_entry(s)?;
    }
    w.finish()?;
    Ok(())
}

/// Writes `sessions` as a HAR file at `path` (created or truncated).
pub fn write_har_file(path: &Path, sessions: &[Exchange], options: &HarOptions) -> io::Result<()> {
    write_har(File::create(path)?, sessions, options)
}

/// A HAR file being written, one entry at a time.
pub struct HarWriter<W: Write> {
    w: BufWriter<W>,
    options: HarOptions,
    printer: Printer,
    entries: usize,
}

impl<W: Write> HarWriter<W> {
    /// Writes everything up to the first entry.
    pub fn new(out: W, options: &HarOptions) -> io::Result<Self> {
        let mut w = BufWriter::new(out);
        let style = options.style;
        let printer = Printer {
            unit: if style == HarStyle::Mitmproxy { 4 } else { 2 },
            ascii: style == HarStyle::Mitmproxy,
        };
        if options.bom {
            w.write_all(b"\xEF\xBB\xBF")?;
        }
        let pad = |level: usize| printer.pad(level);
        write!(
            w,
            "{{\n{}\"log\": {{\n{}\"version\": \"{}\",\n{}\"creator\": ",
            pad(1),
            pad(2),
            options.version.as_str(),
            pad(2)
        )?;
        printer.write(&mut w, &creator(style, options.version), 2)?;
        write!(w, ",\n{}\"pages\": [],\n{}\"entries\": [", pad(2), pad(2))?;
        Ok(HarWriter {
            w,
            options: *options,
            printer,
            entries: 0,
        })
    }

    /// Writes the entry of one exchange.
    pub fn write_entry(&mut self, s: &Exchange) -> io::Result<()> {
        let entry = entry(s, &self.options)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("session {}: {e}", s.sid)))?;
        self.w.write_all(if self.entries == 0 { b"\n" } else { b",\n" })?;
        self.w.write_all(self.printer.pad(3).as_bytes())?;
        self.printer.write(&mut self.w, &entry, 3)?;
        self.entries += 1;
        Ok(())
    }

    /// Closes the JSON and returns the output, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        let pad = |level: usize| self.printer.pad(level);
        if self.entries > 0 {
            write!(self.w, "\n{}", pad(2))?;
        }
        write!(self.w, "]\n{}}}\n}}\n", pad(1))?;
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal JSON tree for one entry, printed with the exporter's escaping
// ---------------------------------------------------------------------------------------------

enum J {
    Null,
    Int(i64),
    Num(f64),
    Str(String),
    /// Text whose bytes that are not UTF-8 are written as lone surrogates `\udcXX`.
    Escaped(Vec<u8>),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

fn s(v: impl Into<String>) -> J {
    J::Str(v.into())
}

struct Printer {
    unit: usize,
    /// Escape every non-ASCII character (`\u00e9`), as Python's `json.dumps` does.
    ascii: bool,
}

impl Printer {
    fn pad(&self, level: usize) -> String {
        " ".repeat(self.unit * level)
    }

    fn write(&self, w: &mut impl Write, j: &J, level: usize) -> io::Result<()> {
        let pad = |l: usize| self.pad(l);
        match j {
            J::Null => w.write_all(b"null"),
            J::Int(i) => write!(w, "{i}"),
            J::Num(f) if f.is_finite() => write!(w, "{f}"),
            J::Num(_) => w.write_all(b"null"),
            J::Str(v) => self.string(w, v.as_bytes()),
            J::Escaped(v) => self.string(w, v),
            J::Arr(items) if items.is_empty() => w.write_all(b"[]"),
            J::Obj(members) if members.is_empty() => w.write_all(b"{}"),
            J::Arr(items) => {
                w.write_all(b"[")?;
                for (i, item) in items.iter().enumerate() {
                    w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                    w.write_all(pad(level + 1).as_bytes())?;
                    self.write(w, item, level + 1)?;
                }
                write!(w, "\n{}]", pad(level))
            }
            J::Obj(members) => {
                w.write_all(b"{")?;
                for (i, (key, value)) in members.iter().enumerate() {
                    w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                    write!(w, "{}\"{key}\": ", pad(level + 1))?;
                    self.write(w, value, level + 1)?;
                }
                write!(w, "\n{}}}", pad(level))
            }
        }
    }

    /// A JSON string literal: UTF-8 runs escaped per the style, other bytes as `\udcXX`.
    fn string(&self, w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(bytes.len() + 2);
        out.push(b'"');
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '"' => out.extend_from_slice(b"\\\""),
                    '\\' => out.extend_from_slice(b"\\\\"),
                    '\n' => out.extend_from_slice(b"\\n"),
                    '\r' => out.extend_from_slice(b"\\r"),
                    '\t' => out.extend_from_slice(b"\\t"),
                    '\u{8}' => out.extend_from_slice(b"\\b"),
                    '\u{c}' => out.extend_from_slice(b"\\f"),
                    c if (c as u32) < 0x20 || (self.ascii && !c.is_ascii()) => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            write!(out, "\\u{unit:04x}")?;
                        }
                    }
                    c => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            for &b in chunk.invalid() {
                write!(out, "\\udc{b:02x}")?;
            }
        }
        out.push(b'"');
        w.write_all(&out)
    }
}

// ---------------------------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------------------------

fn creator(style: HarStyle, version: HarVersion) -> J {
    let (name, ver, comment) = match style {
        HarStyle::Fiddler => ("Fiddler", "5.0.20253.3311", Some("http://www.telerik.com/fiddler")),
        HarStyle::Mitmproxy => ("mitmproxy", "11.0.2", Some("")),
        HarStyle::Chrome => ("WebInspector", "537.36", None),
        HarStyle::Saz2Har => ("SAZ2HAR", "1.0.0", None),
        HarStyle::Easlens => ("easlens", env!("CARGO_PKG_VERSION"), None),
    };
    let mut members = vec![("name", s(name)), ("version", s(ver))];
    if let Some(c) = comment.filter(|_| version == HarVersion::V1_2) {
        members.push(("comment", s(c)));
    }
    J::Obj(members)
}

/// Types Chrome/Fiddler keep as text rather than base64.
fn is_text_mime(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or("").trim();
    m.starts_with("text/")
        || m.ends_with("+json")
        || m.ends_with("+xml")
        || matches!(
            m,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-javascript"
                | "application/x-www-form-urlencoded"
                | "message/rfc822"
        )
}

/// mitmproxy's `strutils.is_mostly_bin`: more than 30 % of the first 100 bytes unprintable.
fn is_mostly_bin(data: &[u8]) -> bool {
    let head = &data[..data.len().min(100)];
    let binary = head
        .iter()
        .filter(|&&b| b < 9 || (14..32).contains(&b) || b > 126)
        .count();
    binary * 10 > head.len() * 3
}

fn headers_json(headers: &Headers, drop: &[&str]) -> J {
    J::Arr(
        headers
            .iter()
            .filter(|(n, _)| !drop.iter().any(|d| n.eq_ignore_ascii_case(d)))
            .map(|(n, v)| J::Obj(vec![("name", s(n)), ("value", s(v))]))
            .collect(),
    )
}

fn query_string(url: &str) -> J {
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    let decode = |t: &str| {
        percent_encoding::percent_decode_str(&t.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    J::Arr(
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                J::Obj(vec![("name", s(decode(n))), ("value", s(decode(v)))])
            })
            .collect(),
    )
}

/// The absolute URL of a request: the target when absolute, else `https://` (`http://` when
/// `https` says so) + Host + target.
fn request_url(method: &str, target: &str, headers: &Headers, https: Option<bool>) -> String {
    if target.contains("://") {
        return target.to_string();
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        return format!("https://{target}/");
    }
    let scheme = if https == Some(false) { "http" } else { "https" };
    format!("{scheme}://{}{}", headers.get("host").unwrap_or("localhost"), target)
}

/// An exact body as HAR members: `text` when it is readable UTF-8 that no reader takes for
/// something else (U+FFFD in an ActiveSync body means "lost by the exporter"), else base64 with
/// `encoding`.
fn exact_text(bytes: &[u8], mime: &str) -> Vec<(&'static str, J)> {
    let sync = is_sync_mime(mime);
    match readable_text(bytes).filter(|t| !sync && !t.contains('\u{FFFD}')) {
        Some(text) => vec![("text", s(text))],
        None => vec![("text", s(BASE64.encode(bytes))), ("encoding", s("base64"))],
    }
}

/// The comment on a body that the capture an export came from did not have.
const MISSING_BODY: &str =
    "not in the capture this file was exported from (lost or left out by the exporter that wrote it)";

/// When an entry started, how long it took, and its `send`, `wait` and `receive` (milliseconds).
struct Timing {
    started: DateTime<FixedOffset>,
    total: f64,
    send: f64,
    wait: f64,
    receive: f64,
}

impl Timing {
    /// From the exchange's timers when it has them (the request's end and the response's start
    /// split the whole into send, wait and receive), else from `started` and `duration_ms`
    /// (10 %, 70 % and the rest).
    fn of(x: &Exchange) -> Timing {
        let Some(timers) = &x.timers else {
            let d = f64::from(x.duration_ms);
            let (send, wait) = ((d * 0.1).floor(), (d * 0.7).floor());
            return Timing {
                started: x.started,
                total: d,
                send,
                wait,
                receive: d - send - wait,
            };
        };
        let started = timers.started();
        let total = timers.duration_ms().unwrap_or(0.0);
        let span = |from: Option<DateTime<FixedOffset>>, to: Option<DateTime<FixedOffset>>| match (from, to) {
            (Some(a), Some(b)) => (b - a).num_microseconds().map_or(0.0, |us| us as f64 / 1000.0).max(0.0),
            _ => 0.0,
        };
        let done_request = timers.client_done_request();
        let send = span(started, done_request).min(total);
        let wait = span(done_request.or(started), timers.server_begin_response()).min(total - send);
        Timing {
            started: started.unwrap_or(x.started),
            total,
            send,
            wait,
            receive: total - send - wait,
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn entry(x: &Exchange, o: &HarOptions) -> Result<J, String> {
    let style = o.style;
    let v12 = o.version == HarVersion::V1_2;
    let (req, req_start) = parse_request(&x.request).map_err(|e| format!("request: {e}"))?;
    let req_raw = &x.request[req_start..];
    let req_decoded = decode_body(req_raw, &req.headers).bytes;
    let url = match &x.url {
        Some(url) => url.clone(),
        None => request_url(&req.method, &req.target, &req.headers, x.https),
    };
    let sanitized: &[&str] = if style == HarStyle::Chrome {
        &["authorization", "cookie", "set-cookie"]
    } else {
        &[]
    };
    let req_mime = req.headers.get("content-type").unwrap_or("").to_string();

    // Request.
    let mut post: Option<J> = None;
    let mut req_body_size = req_raw.len() as i64;
    match style {
        HarStyle::Easlens => {
            if let Some(n) = x.request_body_missing {
                req_body_size = n as i64;
                post = Some(J::Obj(vec![
                    ("mimeType", s(&req_mime)),
                    ("text", s("")),
                    ("comment", s(MISSING_BODY)),
                ]));
            } else if !req_decoded.is_empty() {
                let mut members = vec![("mimeType", s(&req_mime))];
                members.extend(exact_text(&req_decoded, &req_mime));
                post = Some(J::Obj(members));
            }
        }
        HarStyle::Fiddler => {
            post = Some(J::Obj(vec![
                ("mimeType", s(&req_mime)),
                ("text", s(lossy(&req_decoded))),
                ("params", J::Arr(vec![])),
            ]));
        }
        HarStyle::Mitmproxy if !req_decoded.is_empty() => {
            post = Some(J::Obj(vec![
                ("mimeType", s(&req_mime)),
                ("text", J::Escaped(req_decoded.clone())),
                ("params", J::Arr(vec![])),
            ]));
        }
        HarStyle::Chrome if !req_decoded.is_empty() => {
            let text = lossy(&req_decoded);
            req_body_size = text.encode_utf16().count() as i64;
            post = Some(J::Obj(vec![("mimeType", s(&req_mime)), ("text", s(text))]));
        }
        HarStyle::Saz2Har if !req_decoded.is_empty() => {
            if !req_decoded.contains(&0) {
                post = Some(J::Obj(vec![
                    ("mimeType", s(&req_mime)),
                    ("text", s(lossy(&req_decoded))),
                ]));
            } else if v12 {
                post = Some(J::Obj(vec![
                    ("mimeType", s(&req_mime)),
                    ("text", s(BASE64.encode(&req_decoded))),
                    ("encoding", s("base64")),
                ]));
            }
        }
        _ => {}
    }
    let version = if style == HarStyle::Chrome {
        req.version.to_ascii_lowercase()
    } else {
        req.version.to_string()
    };
    let headers_size = |len: usize| if style == HarStyle::Chrome { -1 } else { len as i64 };
    let mut request = vec![
        ("method", s(req.method.as_str())),
        ("url", s(&url)),
        ("httpVersion", s(version)),
        ("cookies", J::Arr(vec![])),
        ("headers", headers_json(&req.headers, sanitized)),
        ("queryString", query_string(&url)),
    ];
    if let Some(post) = post {
        request.push(("postData", post));
    }
    request.push(("headersSize", J::Int(headers_size(req_start))));
    request.push(("bodySize", J::Int(req_body_size)));

    // Response.
    let response = match &x.response {
        None => failed_response(style),
        Some(raw) => {
            let (resp, resp_start) = parse_response(raw).map_err(|e| format!("response: {e}"))?;
            let resp_raw = &raw[resp_start..];
            let decoded = decode_body(resp_raw, &resp.headers).bytes;
            let mime = resp.headers.get("content-type").unwrap_or("").to_string();
            let missing = x.response_body_missing.filter(|_| style == HarStyle::Easlens);
            let size = missing.map_or(decoded.len() as i64, |n| n as i64);
            let mut content = vec![("size", J::Int(size))];
            if style == HarStyle::Mitmproxy {
                content.push(("compression", J::Int(0)));
            }
            content.push(("mimeType", s(&mime)));
            let base64 = |bytes: &[u8]| -> Vec<(&'static str, J)> {
                if v12 {
                    vec![("text", s(BASE64.encode(bytes))), ("encoding", s("base64"))]
                } else {
                    vec![]
                }
            };
            if missing.is_some() {
                content.push(("comment", s(MISSING_BODY)));
            } else if !decoded.is_empty() || !resp_raw.is_empty() {
                match style {
                    HarStyle::Easlens => content.extend(exact_text(&decoded, &mime)),
                    HarStyle::Fiddler if is_text_mime(&mime) => content.push(("text", s(lossy(&decoded)))),
                    HarStyle::Fiddler if resp_raw.len() < FIDDLER_MAX_BINARY_BODY => content.extend(base64(resp_raw)),
                    HarStyle::Fiddler => {
                        if v12 {
                            content.push((
                                "comment",
                                s("Body length exceeded fiddler.importexport.HTTPArchiveJSON.MaxBinaryBodyLength , so body was omitted."),
                            ));
                        }
                    }
                    HarStyle::Mitmproxy if is_mostly_bin(&decoded) => content.extend(base64(&decoded)),
                    HarStyle::Mitmproxy => content.push(("text", J::Escaped(decoded.clone()))),
                    HarStyle::Chrome if is_text_mime(&mime) => content.push(("text", s(lossy(&decoded)))),
                    HarStyle::Chrome => content.extend(base64(&decoded)),
                    HarStyle::Saz2Har if decoded.contains(&0) => content.extend(base64(&decoded)),
                    HarStyle::Saz2Har => content.push(("text", s(lossy(&decoded)))),
                }
            } else {
                content.push(("text", s("")));
            }
            let mut response = vec![
                ("status", J::Int(i64::from(resp.status))),
                ("statusText", s(resp.reason.as_str())),
                (
                    "httpVersion",
                    s(if style == HarStyle::Chrome {
                        resp.version.to_ascii_lowercase()
                    } else {
                        resp.version.to_string()
                    }),
                ),
                ("cookies", J::Arr(vec![])),
                ("headers", headers_json(&resp.headers, sanitized)),
                ("content", J::Obj(content)),
                ("redirectURL", s(resp.headers.get("location").unwrap_or(""))),
                ("headersSize", J::Int(headers_size(resp_start))),
                ("bodySize", J::Int(missing.map_or(resp_raw.len() as i64, |n| n as i64))),
            ];
            if style == HarStyle::Chrome {
                response.push(("_transferSize", J::Int(raw.len() as i64)));
                response.push(("_error", J::Null));
            }
            J::Obj(response)
        }
    };

    // Entry.
    let timing = Timing::of(x);
    let at = timing.started;
    let started = match style {
        // .NET's round-trip format: seven fraction digits (100 ns, as Fiddler's timers).
        HarStyle::Fiddler | HarStyle::Easlens => format!(
            "{}.{:07}{}",
            at.format("%Y-%m-%dT%H:%M:%S"),
            at.timestamp_subsec_nanos() / 100,
            at.format("%:z")
        ),
        HarStyle::Mitmproxy => at.with_timezone(&Utc).format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        HarStyle::Chrome => at.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Millis, true),
        HarStyle::Saz2Har => at.to_rfc3339_opts(SecondsFormat::Millis, false),
    };
    let integer_times = matches!(style, HarStyle::Fiddler | HarStyle::Saz2Har);
    let t = |v: f64| if integer_times { J::Int(v as i64) } else { J::Num(v) };
    let mut timings = Vec::new();
    if style != HarStyle::Mitmproxy {
        // Unknown (-1) in an export: the capture does not time the wait for a connection.
        let blocked = if style == HarStyle::Easlens { -1.0 } else { 0.0 };
        timings.push(("blocked", t(blocked)));
        timings.push(("dns", t(-1.0)));
    }
    timings.push(("connect", t(-1.0)));
    if v12 {
        timings.push(("ssl", t(-1.0)));
    }
    timings.extend([
        ("send", t(timing.send)),
        ("wait", t(timing.wait)),
        ("receive", t(timing.receive)),
    ]);
    let d = timing.total;

    let mut entry = Vec::new();
    if style == HarStyle::Chrome {
        entry.push(("_priority", s("High")));
        entry.push(("_resourceType", s("xhr")));
    }
    entry.extend([
        ("startedDateTime", s(started)),
        ("time", t(d)),
        ("request", J::Obj(request)),
        ("response", response),
        ("cache", J::Obj(vec![])),
        ("timings", J::Obj(timings)),
    ]);
    if style == HarStyle::Easlens {
        if !x.server_ip.is_empty() {
            entry.push(("serverIPAddress", s(&x.server_ip)));
        }
        // Not in HAR 1.2; the name Chrome and easlens's reader use.
        if !x.client_ip.is_empty() {
            entry.push(("_clientIPAddress", s(&x.client_ip)));
        }
    } else if v12 {
        entry.push(("serverIPAddress", s(&x.server_ip)));
    }
    if v12 {
        if style == HarStyle::Chrome {
            entry.push(("connection", s("443")));
        }
        if let Some(c) = &x.comment {
            entry.push(("comment", s(c)));
        }
    }
    Ok(J::Obj(entry))
}

/// What each exporter writes for a session that never got a response.
fn failed_response(style: HarStyle) -> J {
    let mut response = vec![
        ("status", J::Int(0)),
        ("statusText", s("")),
        ("httpVersion", s("")),
        ("cookies", J::Arr(vec![])),
        ("headers", J::Arr(vec![])),
        (
            "content",
            J::Obj(vec![("size", J::Int(0)), ("mimeType", s("x-unknown"))]),
        ),
        ("redirectURL", s("")),
        ("headersSize", J::Int(-1)),
        ("bodySize", J::Int(-1)),
    ];
    if style == HarStyle::Chrome {
        response.push(("_transferSize", J::Int(0)));
        response.push(("_error", s("net::ERR_CONNECTION_RESET")));
    }
    J::Obj(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_per_style() {
        let mut out = Vec::new();
        Printer { unit: 2, ascii: true }
            .string(&mut out, b"a\"\\\n\x03\xC3\xA9\xF0\x9F\x98\x80\xFF")
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"\\\n\u0003\u00e9\ud83d\ude00\udcff""#
        );
        let mut out = Vec::new();
        Printer { unit: 2, ascii: false }
            .string(&mut out, "é".as_bytes())
            .unwrap();
        assert_eq!(out, "\"é\"".as_bytes());
    }

    #[test]
    fn exact_bodies_are_text_only_when_nothing_else_can_be_read_from_it() {
        let text = |bytes: &[u8], mime: &str| {
            exact_text(bytes, mime)
                .into_iter()
                .map(|(k, v)| match v {
                    J::Str(v) => format!("{k}={v}"),
                    _ => unreachable!(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(text(b"caf\xC3\xA9\r\n", "text/plain"), ["text=café\r\n"]);
        assert_eq!(text(b"\x03\x01j\x00", ""), ["text=AwFqAA==", "encoding=base64"]);
        assert_eq!(
            text(b"abc", "application/vnd.ms-sync.wbxml"),
            ["text=YWJj", "encoding=base64"]
        );
        assert_eq!(
            text("\u{FFFD}".as_bytes(), "text/plain"),
            ["text=77+9", "encoding=base64"]
        );
    }

    #[test]
    fn mostly_binary_like_mitmproxy() {
        assert!(is_mostly_bin(b"\x03\x01\x6a\x00\x45\x5c\x4f\x4b\x03\x31\x00\x01\x01"));
        assert!(!is_mostly_bin(b"<html>hello</html>\n"));
    }
}
