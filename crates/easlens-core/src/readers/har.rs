//! HAR 1.1/1.2 files (browser DevTools, Fiddler, mitmproxy, Charles, Saz2Har, …) into
//! [`HttpSession`]s.
//!
//! The file is read once into memory and parsed with serde into lenient typed structs; `log.entries`
//! is streamed one entry at a time (a [`DeserializeSeed`] over the array), and body texts stay
//! borrowed slices of the file until each entry is turned into a session on all cores. Peak memory
//! is about the file size plus the recovered bodies.
//!
//! Bodies are recovered in the order of the reference (saz-and-har.md §2.2):
//!
//! 1. `encoding: "base64"` (standard for `content`, non-standard for `postData`) → the bytes, when
//!    the text really is base64 (otherwise read as text, with a note);
//! 2. lone surrogate escapes `\udc80`–`\udcff` (mitmproxy's surrogateescape) → one byte each. Every
//!    string is read in serde_json's bytes mode, which keeps lone surrogates as WTF-8;
//! 3. every character ≤ U+00FF and the Latin-1 bytes start like WBXML (`03 01 6A 00`) → those bytes
//!    (exporters that wrote one character per byte), unless the text read as UTF-8 is the better
//!    WBXML document (the [`Indexer`] judges which reading is well-formed);
//! 4. U+FFFD in a `vnd.ms-sync` (or WBXML-looking) body → [`BodyKept::LostByExporter`]: the
//!    exporter destroyed the bytes; only the size and the headers survive;
//! 5. otherwise the UTF-8 bytes of the text (an ActiveSync body that is base64 without the flag is
//!    decoded when the result starts like WBXML or gzip).
//!
//! Step 3 comes before "valid text → UTF-8 bytes" because one-character-per-byte text is valid
//! text too; it is only taken when the Latin-1 bytes are WBXML.
//!
//! A body that is absent while the size says there was one (or with a comment) is
//! [`BodyKept::Omitted`].
//!
//! HAR texts are normally already HTTP-decoded while the headers still say `Content-Encoding` /
//! `Transfer-Encoding`; Fiddler instead stores the raw bytes (still gzip or chunked). The session's
//! head keeps those headers only when the bytes really still are encoded, so the body is never
//! decoded twice.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::budget::INDEXING_MEMORY;
use super::index::parallel_map;
use super::model::{Body, BodyKept, BodyLocation, HttpSession, MemoryStore, Request, Response, Timer};
use super::{Format, Indexer, Loaded, OpenError, OpenOptions, Progress};
use crate::http::body::{dechunk, decode_memory_bound};
use crate::http::{Headers, RequestHead, ResponseHead, decode_body};
use crate::shared::Shared;

/// What every ActiveSync WBXML body starts with: version 1.3, public id 1, UTF-8, no string table.
const WBXML_HEADER: &[u8] = &[0x03, 0x01, 0x6A, 0x00];

const REPORT_EVERY: Duration = Duration::from_millis(50);

/// Opens a HAR file, running `indexer` on every session. The file is only read.
pub fn open<I: Indexer>(path: &Path, options: &OpenOptions<'_>, indexer: &I) -> Result<Loaded<I::Summary>, OpenError> {
    options.report(0.0, format!("Reading {}", path.display()));
    let (file, len) = super::open_file(path)?;
    // Only the bytes the file had when it was opened (a file still being written keeps growing).
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    std::io::Read::read_to_end(&mut std::io::Read::take(file, len), &mut data).map_err(|source| OpenError::Io {
        path: path.into(),
        source,
    })?;
    if options.cancelled() {
        return Err(OpenError::Cancelled { path: path.into() });
    }
    parse(path, &data, options, indexer)
}

/// Parses the bytes of a HAR file (`path` names it in errors).
pub fn parse<I: Indexer>(
    path: &Path,
    data: &[u8],
    options: &OpenOptions<'_>,
    indexer: &I,
) -> Result<Loaded<I::Summary>, OpenError> {
    let json = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if json.iter().all(u8::is_ascii_whitespace) {
        return Err(OpenError::BadHar {
            path: path.into(),
            reason: "the file is empty".into(),
        });
    }
    match parse_json(path, json, options, indexer) {
        Err(Fail::OutOfRange(error)) => {
            // A number beyond the range of a 64-bit float (`1e999`) fails the JSON parser. Such a
            // number is a schema deviation like any other: read it as missing, on a copy.
            let (patched, count, first) = null_out_of_range_numbers(json);
            let Some((at, text)) = first else {
                return Err(error);
            };
            let mut loaded = match parse_json(path, &patched, options, indexer) {
                Ok(loaded) => loaded,
                Err(Fail::OutOfRange(e) | Fail::Other(e)) => return Err(e),
            };
            let (line, column) = line_and_column(json, at);
            loaded.warnings.insert(
                0,
                format!(
                    "{count} number(s) too large for a 64-bit float were read as missing (the first, {text}, at line {line} column {column})"
                ),
            );
            Ok(loaded)
        }
        Err(Fail::Other(e)) => Err(e),
        Ok(loaded) => Ok(loaded),
    }
}

/// Why [`parse_json`] failed: a number out of range (retried on a patched copy), or anything else.
enum Fail {
    OutOfRange(OpenError),
    Other(OpenError),
}

/// `json` with every number that does not fit a 64-bit float (`1e999`, `-1e400`, a 400-digit
/// integer) replaced by `null` padded with spaces, so that every other byte keeps its place;
/// with how many there were and the first one's offset and text. Strings are left alone.
fn null_out_of_range_numbers(json: &[u8]) -> (Vec<u8>, usize, Option<(usize, String)>) {
    let mut out = json.to_vec();
    let (mut count, mut first) = (0, None);
    let mut i = 0;
    while i < out.len() {
        match out[i] {
            b'"' => {
                i += 1;
                while i < out.len() && out[i] != b'"' {
                    i += if out[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < out.len() && matches!(out[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let token = &out[start..i];
                let too_large = token.len() >= 4
                    && std::str::from_utf8(token)
                        .ok()
                        .and_then(|t| t.parse::<f64>().ok())
                        .is_some_and(f64::is_infinite);
                if too_large {
                    count += 1;
                    first.get_or_insert_with(|| {
                        (
                            start,
                            String::from_utf8_lossy(&token[..token.len().min(40)]).into_owned(),
                        )
                    });
                    out[start..start + 4].copy_from_slice(b"null");
                    out[start + 4..i].fill(b' ');
                }
            }
            _ => i += 1,
        }
    }
    (out, count, first)
}

/// 1-based line and column (in bytes) of `offset`, as serde_json counts them.
fn line_and_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let column = before.len() - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1) + 1;
    (line, column)
}

fn parse_json<I: Indexer>(
    path: &Path,
    json: &[u8],
    options: &OpenOptions<'_>,
    indexer: &I,
) -> Result<Loaded<I::Summary>, Fail> {
    let bad = |reason: String| {
        Fail::Other(OpenError::BadHar {
            path: path.into(),
            reason,
        })
    };

    // Phase 1 (first half of the progress bar): stream the entries into typed structs.
    let ctx = ParseCtx {
        input: json,
        options,
        entry: Cell::new(None),
        count: Cell::new(0),
        cancelled: Cell::new(false),
        last_report: Cell::new(Instant::now().checked_sub(REPORT_EVERY).unwrap_or_else(Instant::now)),
        position: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    let root = match (RootSeed { ctx: &ctx }).deserialize(&mut de) {
        Ok(root) => root,
        Err(_) if ctx.cancelled.get() => return Err(Fail::Other(OpenError::Cancelled { path: path.into() })),
        Err(e)
            if e.classify() == serde_json::error::Category::Syntax
                && e.to_string().starts_with("number out of range") =>
        {
            return Err(Fail::OutOfRange(OpenError::BadHar {
                path: path.into(),
                reason: json_error_reason(&e, ctx.entry.get()),
            }));
        }
        Err(e) => return Err(bad(json_error_reason(&e, ctx.entry.get()))),
    };
    let mut warnings = Vec::new();
    if let Err(e) = de.end() {
        warnings.push(format!("data after the end of the JSON document ignored ({e})"));
    }
    let Some(log) = root else {
        return Err(bad("no log object (a HAR file is {\"log\": {…}})".into()));
    };
    match log.version.as_deref().map(str::trim) {
        None | Some("") | Some("1.1") | Some("1.2") => {}
        Some(v) => warnings.push(format!("HAR version {v:?} (expected 1.1 or 1.2); read as 1.2")),
    }
    let mut entries = match log.entries {
        Some(entries) => entries,
        None => {
            warnings.push("the HAR log has no entries".into());
            Vec::new()
        }
    };
    if let Some(n) = options.first_sessions {
        entries.truncate(n.max(1));
    }

    // Phase 2 (second half): recover bodies, build sessions and their summaries on all cores.
    // Worker threads may report out of order: never let the bar go back.
    let highest = Mutex::new(0.5f32);
    let scaled = |p: Progress| {
        if let Some(report) = options.progress {
            let fraction = match highest.lock() {
                Ok(mut h) => {
                    *h = h.max(0.5 + p.fraction * 0.5);
                    *h
                }
                Err(_) => 0.5 + p.fraction * 0.5,
            };
            report(Progress {
                fraction,
                message: p.message,
            });
        }
    };
    let phase2 = OpenOptions {
        password: None,
        progress: Some(&scaled),
        cancel: options.cancel,
        log_offset: None,
        first_sessions: None,
    };
    // Each entry is taken out of its slot and dropped once its session is built, so that texts
    // copied out of the file (strings with escapes) do not outlive their session.
    let slots: Vec<Mutex<Option<Option<RawEntry<'_>>>>> = entries.into_iter().map(|e| Mutex::new(Some(e))).collect();
    let sessions = parallel_map(slots.len(), &phase2, "Reading HAR entries", |i| {
        let entry = slots[i].lock().ok().and_then(|mut slot| slot.take()).flatten();
        build_session(i, entry.as_ref(), indexer)
    })
    .ok_or_else(|| Fail::Other(OpenError::Cancelled { path: path.into() }))?;
    drop(slots);
    options.report(1.0, format!("{} sessions", sessions.len()));
    Ok(Loaded {
        format: Format::Har,
        sessions,
        warnings,
        store: Box::new(MemoryStore),
    })
}

fn json_error_reason(e: &serde_json::Error, entry: Option<usize>) -> String {
    use serde_json::error::Category;
    let place = entry.map(|i| format!(" (in log.entries[{i}])")).unwrap_or_default();
    match e.classify() {
        Category::Eof => format!("the JSON ends too early (truncated file?): {e}{place}"),
        Category::Syntax => format!("invalid JSON: {e}{place}"),
        Category::Data => format!("unexpected content: {e}{place}"),
        Category::Io => format!("{e}{place}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Lenient scalar types
// ---------------------------------------------------------------------------------------------

/// A JSON string read in bytes mode: escapes are resolved, lone surrogates are kept as WTF-8
/// (`\udcc5` → `ed b3 85`), and the bytes are borrowed from the file when the string has no escape.
#[derive(Debug, Clone, Default)]
struct Text<'a>(Cow<'a, [u8]>);

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, [u8]>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v.as_bytes()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.as_bytes().to_vec()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(TextVisitor).map(Text)
    }
}

/// A JSON string as an owned `String` (lone surrogates mapped back to bytes, then read lossily).
#[derive(Debug, Clone, Default)]
struct Str(String);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(TextVisitor).map(|b| Str(lossy_string(&b)))
    }
}

fn lossy_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(&unescape_surrogates(bytes)).into_owned(),
    }
}

/// A number that may also be `null`, `-1`, a float or a numeric string.
#[derive(Debug, Clone, Copy, Default)]
struct Num(Option<f64>);

impl Num {
    /// The value when it is a known, non-negative size.
    fn size(self) -> Option<u64> {
        self.0.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64)
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Some(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Some(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(Some(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                Ok(Num(v.trim().parse::<f64>().ok()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Num, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Num(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An array of `T` that is empty when the value is `null`, an object or a scalar (exporters write
/// `cookies` as an object, `params: null`, …). `null` items are skipped.
#[derive(Debug, Clone)]
struct List<T>(Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Option<T>>()? {
                    out.extend(item);
                }
                Ok(List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List<T>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(List(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Headers: the standard array of `{name, value}`, or an object `{"Name": "value"}`.
#[derive(Debug, Clone, Default)]
struct HeaderList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of {name, value} headers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HeaderList, A::Error> {
                let mut out = Vec::new();
                while let Some(h) = seq.next_element::<Option<RawHeader>>()? {
                    if let Some(h) = h {
                        out.push((
                            h.name.map(|s| s.0).unwrap_or_default(),
                            h.value.map(|s| s.0).unwrap_or_default(),
                        ));
                    }
                }
                Ok(HeaderList(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                let mut out = Vec::new();
                while let Some((name, value)) = map.next_entry::<Str, Option<Str>>()? {
                    out.push((name.0, value.map(|s| s.0).unwrap_or_default()));
                }
                Ok(HeaderList(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<HeaderList, E> {
                Ok(HeaderList::default())
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Lenient HAR structs (unknown members, `_custom` fields and cookies are ignored)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawEntry<'a> {
    #[serde(rename = "startedDateTime")]
    started: Option<Str>,
    time: Num,
    #[serde(borrow)]
    request: Option<RawRequest<'a>>,
    #[serde(borrow)]
    response: Option<RawResponse<'a>>,
    #[serde(rename = "serverIPAddress")]
    server_ip: Option<Str>,
    #[serde(rename = "_clientIPAddress", alias = "clientIPAddress", alias = "_clientAddress")]
    client_ip: Option<Str>,
    comment: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRequest<'a> {
    method: Option<Str>,
    url: Option<Str>,
    #[serde(rename = "httpVersion")]
    version: Option<Str>,
    headers: HeaderList,
    #[serde(rename = "postData", borrow)]
    post_data: Option<RawPostData<'a>>,
    #[serde(rename = "bodySize")]
    body_size: Num,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawHeader {
    name: Option<Str>,
    value: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawPostData<'a> {
    #[serde(rename = "mimeType")]
    mime: Option<Str>,
    #[serde(borrow)]
    text: Option<Text<'a>>,
    params: List<RawParam>,
    /// Non-standard (Saz2Har, Reqable): `"base64"`.
    encoding: Option<Str>,
    comment: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawParam {
    name: Option<Str>,
    value: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawResponse<'a> {
    status: Num,
    #[serde(rename = "statusText")]
    status_text: Option<Str>,
    #[serde(rename = "httpVersion")]
    version: Option<Str>,
    headers: HeaderList,
    #[serde(borrow)]
    content: Option<RawContent<'a>>,
    #[serde(rename = "bodySize")]
    body_size: Num,
    /// Chrome: why the request failed (`net::ERR_…`).
    #[serde(rename = "_error")]
    error: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawContent<'a> {
    size: Num,
    #[serde(rename = "mimeType")]
    mime: Option<Str>,
    #[serde(borrow)]
    text: Option<Text<'a>>,
    encoding: Option<Str>,
    comment: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCreator {
    name: Option<Str>,
    version: Option<Str>,
}

struct RawLog<'a> {
    version: Option<String>,
    entries: Option<Vec<Option<RawEntry<'a>>>>,
}

// ---------------------------------------------------------------------------------------------
// Streaming the document: root object → log object → entries array, one entry at a time
// ---------------------------------------------------------------------------------------------

struct ParseCtx<'c, 'o> {
    input: &'c [u8],
    options: &'c OpenOptions<'o>,
    /// The entry being read (for error messages).
    entry: Cell<Option<usize>>,
    count: Cell<usize>,
    cancelled: Cell<bool>,
    last_report: Cell<Instant>,
    /// How far into the input the parser is known to be (bytes).
    position: Cell<usize>,
}

impl ParseCtx<'_, '_> {
    /// Progress of phase 1 from where the parser is in the file: the end of the last body text
    /// borrowed from it.
    fn entry_done(&self, entry: Option<&RawEntry<'_>>) {
        self.count.set(self.count.get() + 1);
        if self.options.progress.is_none() {
            return;
        }
        let start = self.input.as_ptr() as usize;
        let end = start + self.input.len();
        let position = entry
            .into_iter()
            .flat_map(|e| {
                let request = e
                    .request
                    .as_ref()
                    .and_then(|r| r.post_data.as_ref())
                    .and_then(|p| p.text.as_ref());
                let response = e
                    .response
                    .as_ref()
                    .and_then(|r| r.content.as_ref())
                    .and_then(|c| c.text.as_ref());
                [request, response]
            })
            .flatten()
            .filter_map(|t| match &t.0 {
                Cow::Borrowed(b) => {
                    let p = b.as_ptr() as usize + b.len();
                    (p >= start && p <= end).then(|| p - start)
                }
                Cow::Owned(_) => None,
            })
            .max();
        if let Some(p) = position {
            self.position.set(self.position.get().max(p));
        }
        if self.last_report.get().elapsed() < REPORT_EVERY {
            return;
        }
        self.last_report.set(Instant::now());
        let fraction = self.position.get() as f32 / self.input.len().max(1) as f32;
        self.options.report(
            fraction * 0.5,
            format!("Reading HAR entries: {} so far", self.count.get()),
        );
    }
}

struct RootSeed<'p, 'c, 'o> {
    ctx: &'p ParseCtx<'c, 'o>,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_, '_, '_> {
    type Value = Option<RawLog<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_, '_, '_> {
    type Value = Option<RawLog<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR object {\"log\": {…}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut log = None;
        while let Some(key) = map.next_key::<Str>()? {
            if key.0 == "log" && log.is_none() {
                log = Some(map.next_value_seed(LogSeed { ctx: self.ctx })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(log)
    }
}

struct LogSeed<'p, 'c, 'o> {
    ctx: &'p ParseCtx<'c, 'o>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_, '_> {
    type Value = RawLog<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_, '_> {
    type Value = RawLog<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR log object {\"version\", \"creator\", \"entries\": […]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut log = RawLog {
            version: None,
            entries: None,
        };
        while let Some(key) = map.next_key::<Str>()? {
            match key.0.as_str() {
                "version" => log.version = map.next_value::<Option<Str>>()?.map(|s| s.0),
                "creator" => {
                    // Read for validation only (the writer's name is not part of the model).
                    let _creator: Option<RawCreator> = map.next_value()?;
                }
                "entries" if log.entries.is_none() => {
                    log.entries = Some(map.next_value_seed(EntriesSeed { ctx: self.ctx })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(log)
    }
}

struct EntriesSeed<'p, 'c, 'o> {
    ctx: &'p ParseCtx<'c, 'o>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_, '_> {
    type Value = Vec<Option<RawEntry<'de>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_, '_> {
    type Value = Vec<Option<RawEntry<'de>>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("log.entries as an array of HAR entries")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        loop {
            if self.ctx.options.cancelled() {
                self.ctx.cancelled.set(true);
                return Err(de::Error::custom("cancelled"));
            }
            self.ctx.entry.set(Some(out.len()));
            match seq.next_element::<Option<RawEntry<'de>>>()? {
                Some(entry) => {
                    self.ctx.entry_done(entry.as_ref());
                    out.push(entry);
                }
                None => break,
            }
        }
        self.ctx.entry.set(None);
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Entries → sessions
// ---------------------------------------------------------------------------------------------

fn non_empty(s: &Option<Str>) -> Option<String> {
    s.as_ref()
        .map(|s| s.0.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn build_session<I: Indexer>(position: usize, entry: Option<&RawEntry<'_>>, indexer: &I) -> (HttpSession, I::Summary) {
    let number = position + 1;
    let mut s = HttpSession::new(u32::try_from(number).unwrap_or(u32::MAX));
    s.id = Some(number as u64);
    let Some(e) = entry else {
        s.notes
            .push(format!("log.entries[{position}] is null: no request or response"));
        s.flags.aborted = true;
        let summary = indexer.summarize(&s, &[], &[]);
        return (s, summary);
    };
    // Bodies are recovered from their texts here: reserve what that holds first.
    let _reservation = INDEXING_MEMORY.reserve(memory_needed(e, indexer));
    if let Some(started) = non_empty(&e.started) {
        match parse_time(&started) {
            Some(t) => s.timers.set(Timer::ClientBeginRequest, Some(t)),
            None => s.notes.push(format!("startedDateTime {started:?} is not a date")),
        }
    }
    s.timers.set_total_ms(e.time.0.filter(|t| t.is_finite() && *t >= 0.0));
    s.server_ip = non_empty(&e.server_ip).map(Shared::from);
    s.client_ip = non_empty(&e.client_ip).map(Shared::from);
    s.comment = non_empty(&e.comment);

    let well_formed = |bytes: &[u8]| indexer.is_well_formed_body(bytes);
    let mut notes = Vec::new();
    match &e.request {
        Some(r) => {
            let request = build_request(r, &mut notes, &well_formed);
            s.flags.tunnel = request.head.method.eq_ignore_ascii_case("CONNECT");
            s.flags.https = request
                .url()
                .get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
                || request
                    .head
                    .headers
                    .get(":scheme")
                    .is_some_and(|v| v.eq_ignore_ascii_case("https"));
            s.request = Some(request);
        }
        None => notes.push("the entry has no request".into()),
    }
    match &e.response {
        Some(r) => match build_response(r, &mut notes, &well_formed) {
            Some(response) => s.response = Some(response),
            None => s.flags.aborted = true,
        },
        None => {
            notes.push("the entry has no response".into());
            s.flags.aborted = true;
        }
    }
    s.notes.extend(notes);
    // A HAR has no BitFlags: a response Fiddler made up is known by its words, as in a SAZ without.
    s.flags.generated = s
        .response
        .as_ref()
        .is_some_and(|r| super::saz::looks_generated(&r.head, &memory_bytes(&r.body)));

    // Every body is in memory already; they are handed over only when the indexer wants them.
    let summary = if indexer.wants_bodies(&s) {
        let request_raw = s.request.as_ref().map(|r| memory_bytes(&r.body)).unwrap_or_default();
        let response_raw = s.response.as_ref().map(|r| memory_bytes(&r.body)).unwrap_or_default();
        indexer.summarize(&s, &request_raw, &response_raw)
    } else {
        indexer.summarize(&s, &[], &[])
    };
    (s, summary)
}

/// What building the session of `e` holds at most: each body text recovered to bytes and copied
/// once into the session, the check of its encodings ([`reconcile_encodings`] decodes it), and
/// what the indexer uses on top ([`Indexer::working_memory`], asked with the entry's request line
/// and encoding headers).
fn memory_needed<I: Indexer>(e: &RawEntry<'_>, indexer: &I) -> u64 {
    let request_len = e
        .request
        .as_ref()
        .and_then(|r| r.post_data.as_ref())
        .and_then(|p| p.text.as_ref())
        .map_or(0, |t| t.0.len() as u64);
    let response_len = e
        .response
        .as_ref()
        .and_then(|r| r.content.as_ref())
        .and_then(|c| c.text.as_ref())
        .map_or(0, |t| t.0.len() as u64);
    if request_len == 0 && response_len == 0 {
        return 0;
    }
    let encodings = |headers: &HeaderList| -> Headers {
        headers
            .0
            .iter()
            .filter(|(name, _)| {
                name.eq_ignore_ascii_case("content-encoding") || name.eq_ignore_ascii_case("transfer-encoding")
            })
            .cloned()
            .collect()
    };
    let mut s = HttpSession::new(0);
    if let Some(r) = &e.request {
        let url = r.url.as_ref().map(|u| u.0.clone()).unwrap_or_default();
        let method = r.method.as_ref().map(|m| m.0.clone()).unwrap_or_default();
        s.flags.tunnel = method.eq_ignore_ascii_case("CONNECT");
        let head = RequestHead {
            method: Shared::from(method),
            target: Shared::default(),
            version: Shared::default(),
            headers: encodings(&r.headers),
            problems: Vec::new(),
        };
        s.request = Some(Request::new(head, url, Body::empty()));
    }
    if let Some(r) = &e.response {
        s.response = Some(Response {
            head: ResponseHead {
                version: Shared::default(),
                status: 0,
                reason: Shared::default(),
                headers: encodings(&r.headers),
                problems: Vec::new(),
            },
            body: Body::empty(),
        });
    }
    let decode = |len: u64, headers: Option<&Headers>| headers.map_or(0, |h| decode_memory_bound(len, h));
    let request_headers = s.request.as_ref().map(|r| &r.head.headers);
    let response_headers = s.response.as_ref().map(|r| &r.head.headers);
    (request_len + response_len)
        .saturating_mul(2)
        .saturating_add(decode(request_len, request_headers))
        .saturating_add(decode(response_len, response_headers))
        .saturating_add(indexer.working_memory(&s, request_len, response_len))
}

fn memory_bytes(body: &Body) -> Arc<[u8]> {
    match &body.location {
        BodyLocation::Memory(b) => b.clone(),
        _ => Arc::from(Vec::new()),
    }
}

/// Judges whether bytes are a well-formed body (the [`Indexer`]'s [`is_well_formed_body`](Indexer::is_well_formed_body)).
type WellFormed<'a> = dyn Fn(&[u8]) -> bool + 'a;

fn build_request(r: &RawRequest<'_>, notes: &mut Vec<String>, well_formed: &WellFormed<'_>) -> Request {
    let headers: Headers = r.headers.0.iter().cloned().collect();
    let method = match non_empty(&r.method) {
        Some(m) => m,
        None => {
            notes.push("the request has no method; shown as GET".into());
            "GET".to_string()
        }
    };
    let url = match non_empty(&r.url) {
        Some(u) => u,
        None => {
            let rebuilt = url_from_headers(&headers);
            notes.push(match &rebuilt {
                Some(u) => format!("the request has no url; rebuilt from the headers as {u}"),
                None => "the request has no url".to_string(),
            });
            rebuilt.unwrap_or_default()
        }
    };
    let version = r.version.as_ref().map(|v| v.0.trim().to_string()).unwrap_or_default();
    let mut head = RequestHead {
        method: Shared::from(method),
        target: Shared::from(url.clone()),
        version: Shared::from(version),
        headers,
        problems: Vec::new(),
    };
    let body = request_body(r, &mut head, notes, well_formed);
    Request::new(head, url, body)
}

/// `scheme://authority/path` from HTTP/2 pseudo-headers or `Host`.
fn url_from_headers(headers: &Headers) -> Option<String> {
    let host = headers.get(":authority").or_else(|| headers.get("host"))?.trim();
    if host.is_empty() {
        return None;
    }
    let scheme = headers.get(":scheme").unwrap_or("https");
    let path = headers.get(":path").unwrap_or("/");
    Some(format!("{scheme}://{host}{path}"))
}

fn request_body(
    r: &RawRequest<'_>,
    head: &mut RequestHead,
    notes: &mut Vec<String>,
    well_formed: &WellFormed<'_>,
) -> Body {
    let which = "request body";
    let declared = r.body_size.size().filter(|&n| n > 0);
    let Some(post) = &r.post_data else {
        return match declared {
            Some(n) => {
                notes.push(format!("{which} not included in the HAR file ({n} bytes)"));
                omitted(n)
            }
            None => Body::empty(),
        };
    };
    let mime = non_empty(&post.mime)
        .or_else(|| head.headers.get("content-type").map(str::to_string))
        .unwrap_or_default();
    let text = post.text.as_ref().map(|t| &t.0[..]).filter(|t| !t.is_empty());
    let Some(text) = text else {
        if !post.params.0.is_empty() {
            notes.push(format!("{which} rebuilt from postData.params"));
            return Body::in_memory(form_encode(&post.params.0).into_bytes());
        }
        let comment = non_empty(&post.comment);
        return match (declared, comment, post.text.is_some()) {
            (Some(n), comment, _) => {
                notes.push(omitted_note(which, Some(n), comment.as_deref()));
                omitted(n)
            }
            (None, Some(c), false) => {
                notes.push(omitted_note(which, None, Some(&c)));
                omitted(0)
            }
            _ => Body::empty(),
        };
    };
    let encoding = non_empty(&post.encoding);
    match recover(which, text, encoding.as_deref(), &mime, notes, well_formed) {
        Recovered::Bytes { bytes, from_base64 } => {
            reconcile_encodings(&mut head.headers, &bytes, from_base64, which, notes);
            Body::in_memory(bytes)
        }
        Recovered::Lost => {
            let n = head.headers.content_length().or(declared).unwrap_or(text.len() as u64);
            notes.push(lost_note(which, n));
            Body {
                location: BodyLocation::None,
                stored_len: n,
                kept: BodyKept::LostByExporter,
            }
        }
    }
}

fn build_response(r: &RawResponse<'_>, notes: &mut Vec<String>, well_formed: &WellFormed<'_>) -> Option<Response> {
    let status = r.status.0.filter(|s| s.is_finite()).unwrap_or(0.0);
    if !(1.0..=999.0).contains(&status) {
        let why = non_empty(&r.error).or_else(|| non_empty(&r.status_text));
        notes.push(match (status == 0.0, why) {
            (true, Some(why)) => format!("no response: status 0, the request failed ({why})"),
            (true, None) => "no response: status 0, the request failed".to_string(),
            (false, _) => format!("no response: status {status} is not an HTTP status"),
        });
        return None;
    }
    let headers: Headers = r.headers.0.iter().cloned().collect();
    let mut head = ResponseHead {
        version: Shared::from(r.version.as_ref().map(|v| v.0.trim().to_string()).unwrap_or_default()),
        status: status as u16,
        reason: Shared::from(r.status_text.as_ref().map(|t| t.0.clone()).unwrap_or_default()),
        headers,
        problems: Vec::new(),
    };
    let body = response_body(r, &mut head, notes, well_formed);
    Some(Response { head, body })
}

fn response_body(
    r: &RawResponse<'_>,
    head: &mut ResponseHead,
    notes: &mut Vec<String>,
    well_formed: &WellFormed<'_>,
) -> Body {
    let which = "response body";
    let declared = r.body_size.size().filter(|&n| n > 0);
    let Some(content) = &r.content else {
        return match declared {
            Some(n) => {
                notes.push(format!("{which} not included in the HAR file ({n} bytes)"));
                omitted(n)
            }
            None => Body::empty(),
        };
    };
    let size = content.size.size().filter(|&n| n > 0);
    let Some(text) = &content.text else {
        let comment = non_empty(&content.comment);
        return match (size.or(declared), comment) {
            (None, None) => Body::empty(),
            (n, comment) => {
                notes.push(omitted_note(which, n, comment.as_deref()));
                omitted(n.unwrap_or(0))
            }
        };
    };
    if text.0.is_empty() {
        return Body::empty();
    }
    let mime = non_empty(&content.mime)
        .or_else(|| head.headers.get("content-type").map(str::to_string))
        .unwrap_or_default();
    let encoding = non_empty(&content.encoding);
    match recover(which, &text.0, encoding.as_deref(), &mime, notes, well_formed) {
        Recovered::Bytes { bytes, from_base64 } => {
            reconcile_encodings(&mut head.headers, &bytes, from_base64, which, notes);
            Body::in_memory(bytes)
        }
        Recovered::Lost => {
            let n = head
                .headers
                .content_length()
                .or(declared)
                .or(size)
                .unwrap_or(text.0.len() as u64);
            notes.push(lost_note(which, n));
            Body {
                location: BodyLocation::None,
                stored_len: n,
                kept: BodyKept::LostByExporter,
            }
        }
    }
}

fn omitted(stored_len: u64) -> Body {
    Body {
        location: BodyLocation::None,
        stored_len,
        kept: BodyKept::Omitted,
    }
}

fn omitted_note(which: &str, size: Option<u64>, comment: Option<&str>) -> String {
    let mut note = format!("{which} not included in the HAR file");
    if let Some(n) = size {
        note.push_str(&format!(" ({n} bytes)"));
    }
    if let Some(c) = comment {
        note.push_str(&format!(": {c}"));
    }
    note
}

fn lost_note(which: &str, wire_len: u64) -> String {
    format!(
        "{which} lost by the HAR exporter: it stored the binary bytes as text and replaced them with U+FFFD \
         ({wire_len} bytes on the wire); only the size and the headers survive"
    )
}

/// `application/x-www-form-urlencoded` text from `postData.params`.
fn form_encode(params: &[RawParam]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    params
        .iter()
        .map(|p| {
            let name = p.name.as_ref().map(|s| s.0.as_str()).unwrap_or("");
            let value = p.value.as_ref().map(|s| s.0.as_str()).unwrap_or("");
            format!(
                "{}={}",
                utf8_percent_encode(name, NON_ALPHANUMERIC),
                utf8_percent_encode(value, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `startedDateTime`: RFC 3339 with `Z` or an offset and any number of fraction digits; also an
/// offset without a colon, and no zone at all (read as UTC).
fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%z").ok())
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc().fixed_offset())
        })
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc().fixed_offset())
        })
}

// ---------------------------------------------------------------------------------------------
// Body recovery
// ---------------------------------------------------------------------------------------------

enum Recovered {
    Bytes {
        bytes: Vec<u8>,
        from_base64: bool,
    },
    /// The exporter destroyed the bytes.
    Lost,
}

/// An ActiveSync content type (`application/vnd.ms-sync…`), in any case.
pub(crate) fn is_sync_mime(mime: &str) -> bool {
    mime.to_ascii_lowercase().contains("vnd.ms-sync")
}

/// Recovers the bytes of a HAR body text (WTF-8 as read by serde_json's bytes mode).
fn recover(
    which: &str,
    text: &[u8],
    encoding: Option<&str>,
    mime: &str,
    notes: &mut Vec<String>,
    well_formed: &WellFormed<'_>,
) -> Recovered {
    // 1. base64, when flagged and valid.
    if let Some(encoding) = encoding {
        if encoding.eq_ignore_ascii_case("base64") {
            match decode_base64(text) {
                Some(bytes) => {
                    return Recovered::Bytes {
                        bytes,
                        from_base64: true,
                    };
                }
                None => notes.push(format!(
                    "{which}: marked encoding \"base64\" but the text is not base64; read as text"
                )),
            }
        } else {
            notes.push(format!("{which}: unknown encoding {encoding:?}; read as text"));
        }
    }
    let scan = scan_text(text);
    // 2. mitmproxy surrogateescape: exact.
    if scan.escapes > 0 {
        notes.push(format!(
            "{which}: {} byte(s) stored as lone surrogates (\\udc80-\\udcff, mitmproxy) mapped back to bytes",
            scan.escapes
        ));
        return Recovered::Bytes {
            bytes: unescape_surrogates(text),
            from_base64: false,
        };
    }
    // 3. One character per byte (all ≤ U+00FF), when that reading is WBXML.
    if scan.raw_invalid == 0
        && scan.other_surrogates == 0
        && scan.non_ascii > 0
        && scan.max_char <= 0xFF
        && let Some(latin1) = latin1_bytes(text)
        && latin1.starts_with(WBXML_HEADER)
        && prefer_latin1(text, &latin1, well_formed)
    {
        notes.push(format!(
            "{which}: the HAR stores one character per byte; read as Latin-1 (WBXML)"
        ));
        return Recovered::Bytes {
            bytes: latin1,
            from_base64: false,
        };
    }
    // 4. U+FFFD: bytes destroyed by the exporter.
    if scan.replacement > 0 {
        if is_sync_mime(mime) || text.starts_with(WBXML_HEADER) {
            return Recovered::Lost;
        }
        notes.push(format!(
            "{which}: the text contains U+FFFD; the exporter may have replaced bytes that were not UTF-8"
        ));
    }
    // base64 without the flag, on an ActiveSync body.
    if encoding.is_none()
        && is_sync_mime(mime)
        && text.len() >= 8
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n'))
        && let Some(bytes) = decode_base64(text)
        && (bytes.starts_with(WBXML_HEADER) || bytes.starts_with(&[0x1F, 0x8B]))
    {
        notes.push(format!("{which}: base64 without encoding \"base64\"; decoded"));
        return Recovered::Bytes {
            bytes,
            from_base64: true,
        };
    }
    // 5. The text itself.
    let bytes = if scan.raw_invalid > 0 || scan.other_surrogates > 0 {
        unescape_surrogates(text)
    } else {
        text.to_vec()
    };
    Recovered::Bytes {
        bytes,
        from_base64: false,
    }
}

/// Latin-1 over UTF-8, unless the UTF-8 reading is a clean WBXML document and the Latin-1 one is
/// not a double encoding of UTF-8 (mitmproxy stores valid UTF-8 — `Müller` — as characters).
fn prefer_latin1(text: &[u8], latin1: &[u8], well_formed: &WellFormed<'_>) -> bool {
    if !well_formed(text) {
        return true;
    }
    // Both read as WBXML: one character per byte of UTF-8 text gives mojibake (`Ã¼`) whose
    // Latin-1 bytes are valid UTF-8 again.
    std::str::from_utf8(latin1).is_ok() && well_formed(latin1)
}

const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

const BASE64_URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let compact: Cow<[u8]> = if text.iter().any(u8::is_ascii_whitespace) {
        Cow::Owned(text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(text)
    };
    BASE64_LENIENT
        .decode(&compact)
        .or_else(|_| BASE64_URL_LENIENT.decode(&compact))
        .ok()
}

#[derive(Debug, Default, PartialEq)]
struct Scan {
    /// Lone surrogates U+DC80..=U+DCFF (surrogateescape of bytes 0x80..=0xFF).
    escapes: usize,
    /// Other lone surrogates.
    other_surrogates: usize,
    /// U+FFFD characters.
    replacement: usize,
    /// Bytes that are not WTF-8 at all (raw invalid bytes inside the JSON string).
    raw_invalid: usize,
    non_ascii: usize,
    max_char: u32,
}

/// Decodes one generalized UTF-8 (WTF-8) character: surrogates are accepted.
fn decode_wtf8(b: &[u8]) -> Option<(u32, usize)> {
    let b0 = *b.first()?;
    let (len, init) = match b0 {
        0x00..=0x7F => return Some((b0 as u32, 1)),
        0xC2..=0xDF => (2, (b0 & 0x1F) as u32),
        0xE0..=0xEF => (3, (b0 & 0x0F) as u32),
        0xF0..=0xF4 => (4, (b0 & 0x07) as u32),
        _ => return None,
    };
    let tail = b.get(1..len)?;
    let mut cp = init;
    for &c in tail {
        if c & 0xC0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | (c & 0x3F) as u32;
    }
    let min = match len {
        2 => 0x80,
        3 => 0x800,
        _ => 0x1_0000,
    };
    (cp >= min && cp <= 0x10_FFFF).then_some((cp, len))
}

fn scan_text(text: &[u8]) -> Scan {
    let mut scan = Scan::default();
    let mut i = 0;
    while i < text.len() {
        if text[i] < 0x80 {
            i += 1;
            continue;
        }
        match decode_wtf8(&text[i..]) {
            Some((cp, len)) => {
                scan.non_ascii += 1;
                scan.max_char = scan.max_char.max(cp);
                match cp {
                    0xDC80..=0xDCFF => scan.escapes += 1,
                    0xD800..=0xDFFF => scan.other_surrogates += 1,
                    0xFFFD => scan.replacement += 1,
                    _ => {}
                }
                i += len;
            }
            None => {
                scan.raw_invalid += 1;
                i += 1;
            }
        }
    }
    scan
}

/// WTF-8 → bytes: each U+DC80..=U+DCFF becomes the byte it escapes; everything else is copied.
fn unescape_surrogates(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match decode_wtf8(&text[i..]) {
            Some((cp @ 0xDC80..=0xDCFF, len)) => {
                out.push((cp & 0xFF) as u8);
                i += len;
            }
            Some((_, len)) => {
                out.extend_from_slice(&text[i..i + len]);
                i += len;
            }
            None => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    out
}

/// The text's characters as bytes, when every one is ≤ U+00FF.
fn latin1_bytes(text: &[u8]) -> Option<Vec<u8>> {
    std::str::from_utf8(text)
        .ok()?
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Content-Encoding / Transfer-Encoding against what the bytes are
// ---------------------------------------------------------------------------------------------

/// Drops `Transfer-Encoding: chunked` / `Content-Encoding` from the head when the HAR bytes are
/// already decoded (the usual case), with a note; keeps them when the bytes are still as on the
/// wire (Fiddler), and then notes any decoding failure.
fn reconcile_encodings(headers: &mut Headers, bytes: &[u8], from_base64: bool, which: &str, notes: &mut Vec<String>) {
    if bytes.is_empty() {
        return;
    }
    let chunked = headers.has_token("transfer-encoding", "chunked");
    let codings = headers.content_codings();
    if !chunked && codings.is_empty() {
        return;
    }
    let mut rest: Cow<[u8]> = Cow::Borrowed(bytes);
    let mut drop_te = false;
    if chunked {
        match looks_chunked(bytes).then(|| dechunk(bytes).ok()).flatten() {
            Some(d) => rest = Cow::Owned(d),
            None => drop_te = true,
        }
    }
    let drop_ce = match codings.last() {
        Some(coding) => !still_encoded(&rest, coding, from_base64),
        None => false,
    };
    if drop_te || drop_ce {
        let mut removed = Vec::new();
        let kept: Headers = headers
            .iter()
            .filter(|(name, value)| {
                let drop = (drop_te && name.eq_ignore_ascii_case("transfer-encoding"))
                    || (drop_ce && name.eq_ignore_ascii_case("content-encoding"));
                if drop {
                    removed.push(format!("{name}: {value}"));
                }
                !drop
            })
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        *headers = kept;
        notes.push(format!(
            "HAR {which} already decoded; {} removed from the view",
            removed.join(", ")
        ));
    }
    if (chunked && !drop_te) || (!codings.is_empty() && !drop_ce) {
        let decoded = decode_body(bytes, headers);
        notes.extend(decoded.notes.iter().map(|n| format!("{which}: {n}")));
    }
}

/// A chunk-size line at the start: hex digits, optional extensions, a line end.
fn looks_chunked(bytes: &[u8]) -> bool {
    let Some(eol) = memchr::memchr(b'\n', &bytes[..bytes.len().min(256)]) else {
        return false;
    };
    let line = bytes[..eol].strip_suffix(b"\r").unwrap_or(&bytes[..eol]);
    let size = line.split(|&b| b == b';').next().unwrap_or_default();
    !size.is_empty() && size.len() <= 16 && size.iter().all(u8::is_ascii_hexdigit)
}

/// Whether `bytes` still carry `coding` (the outermost Content-Encoding).
fn still_encoded(bytes: &[u8], coding: &str, from_base64: bool) -> bool {
    if bytes.starts_with(WBXML_HEADER) {
        return false;
    }
    let zlib = bytes.len() >= 2 && bytes[0] & 0x0F == 8 && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0;
    match coding {
        "gzip" | "x-gzip" => bytes.starts_with(&[0x1F, 0x8B]),
        "deflate" => zlib || (from_base64 && trial_decodes(bytes, coding)),
        "zstd" => bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]),
        "br" => from_base64 && trial_decodes(bytes, coding),
        // Unknown codings: raw bytes (base64) may still carry them; text does not.
        _ => from_base64,
    }
}

fn trial_decodes(bytes: &[u8], coding: &str) -> bool {
    let headers: Headers = std::iter::once(("Content-Encoding".to_string(), coding.to_string())).collect();
    let decoded = decode_body(bytes, &headers);
    !decoded.steps.is_empty() && !decoded.bytes.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    use crate::readers::{BodyStore, NoIndex};

    /// What the reader read, without summaries.
    struct Cap {
        sessions: Vec<HttpSession>,
        warnings: Vec<String>,
        store: Box<dyn BodyStore>,
    }

    impl std::fmt::Debug for Cap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Cap").field("sessions", &self.sessions.len()).finish()
        }
    }

    impl Cap {
        fn raw_body(&self, body: &Body) -> std::io::Result<Vec<u8>> {
            self.store.read(body)
        }
    }

    fn read(path: &Path, data: &[u8], options: &OpenOptions<'_>) -> Result<Cap, OpenError> {
        parse(path, data, options, &NoIndex).map(|l| Cap {
            sessions: l.sessions.into_iter().map(|(s, ())| s).collect(),
            warnings: l.warnings,
            store: l.store,
        })
    }

    fn open_str(json: &str) -> Result<Cap, OpenError> {
        read(Path::new("test.har"), json.as_bytes(), &OpenOptions::default())
    }

    fn entry(request: &str, response: &str) -> String {
        format!(
            r#"{{"log": {{"version": "1.2", "creator": {{"name": "t", "version": "1"}}, "entries": [
                {{"startedDateTime": "2024-01-02T03:04:05.1234567+01:00", "time": 12.5,
                  "request": {request}, "response": {response}, "serverIPAddress": "10.0.0.1", "comment": "c"}}]}}}}"#
        )
    }

    const GET: &str = r#"{"method": "GET", "url": "https://h/x", "httpVersion": "HTTP/1.1", "headers": []}"#;

    fn response_with(content: &str, headers: &str) -> String {
        format!(
            r#"{{"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": {headers}, "content": {content}}}"#
        )
    }

    fn response_bytes(cap: &Cap) -> Vec<u8> {
        cap.raw_body(&cap.sessions[0].response.as_ref().unwrap().body).unwrap()
    }

    #[test]
    fn wtf8_scanning_and_unescaping() {
        // "A" U+DCC5 "é" U+FFFD, raw 0xFF.
        let text = b"A\xED\xB3\x85\xC3\xA9\xEF\xBF\xBD\xFF";
        let scan = scan_text(text);
        assert_eq!(
            (scan.escapes, scan.replacement, scan.raw_invalid, scan.non_ascii),
            (1, 1, 1, 3)
        );
        assert_eq!(unescape_surrogates(text), b"A\xC5\xC3\xA9\xEF\xBF\xBD\xFF");
        assert_eq!(
            latin1_bytes("\u{3}\u{1}j\u{0}\u{ff}".as_bytes()),
            Some(vec![3, 1, 0x6A, 0, 0xFF])
        );
        assert_eq!(latin1_bytes("€".as_bytes()), None);
        assert_eq!(decode_wtf8(b"\xC0\x80"), None, "overlong");
        assert_eq!(decode_wtf8(b"\xE2\x82"), None, "truncated");
    }

    #[test]
    fn surrogate_escaped_request_body_is_exact() {
        let request = r#"{"method": "POST", "url": "https://h/Microsoft-Server-ActiveSync?Cmd=Sync&User=u&DeviceId=d&DeviceType=t",
            "headers": [{"name": "Content-Type", "value": "application/vnd.ms-sync.wbxml"}],
            "postData": {"mimeType": "application/vnd.ms-sync.wbxml", "text": "\u0003\u0001j\u0000E\udcc3\udc80\u0001"}}"#;
        let cap = open_str(&entry(request, &response_with(r#"{"size": 0, "text": ""}"#, "[]"))).unwrap();
        let s = &cap.sessions[0];
        let body = &s.request.as_ref().unwrap().body;
        assert_eq!(cap.raw_body(body).unwrap(), b"\x03\x01\x6a\x00\x45\xC3\x80\x01");
        assert!(s.notes.iter().any(|n| n.contains("lone surrogates")), "{:?}", s.notes);
        assert_eq!(
            (s.index, s.id, s.server_ip.as_deref(), s.comment.as_deref()),
            (1, Some(1), Some("10.0.0.1"), Some("c"))
        );
        assert_eq!(s.timers.total_ms(), Some(12.5));
        assert_eq!(
            s.timers.client_begin_request().unwrap().to_rfc3339(),
            "2024-01-02T03:04:05.123456700+01:00"
        );
    }

    #[test]
    fn replacement_characters_in_wbxml_mean_lost() {
        let request = r#"{"method": "POST", "url": "https://h/Microsoft-Server-ActiveSync?Cmd=Sync", "bodySize": 7,
            "headers": [{"name": "Content-Length", "value": "9"}],
            "postData": {"mimeType": "application/vnd.ms-sync.wbxml", "text": "\u0003\u0001j\u0000\ufffd\u0001"}}"#;
        let cap = open_str(&entry(request, &response_with(r#"{"size": 0}"#, "[]"))).unwrap();
        let s = &cap.sessions[0];
        let body = &s.request.as_ref().unwrap().body;
        assert_eq!((body.kept, body.stored_len), (BodyKept::LostByExporter, 9));
        assert!(
            s.notes
                .iter()
                .any(|n| n.starts_with("request body lost by the HAR exporter")),
            "{:?}",
            s.notes
        );
        // Text that is not ActiveSync keeps its bytes, with a note.
        let request =
            r#"{"method": "POST", "url": "https://h/", "postData": {"mimeType": "text/plain", "text": "a\ufffdb"}}"#;
        let cap = open_str(&entry(request, &response_with("{}", "[]"))).unwrap();
        let body = &cap.sessions[0].request.as_ref().unwrap().body;
        assert_eq!(cap.raw_body(body).unwrap(), "a\u{fffd}b".as_bytes());
        assert!(cap.sessions[0].notes.iter().any(|n| n.contains("U+FFFD")));
    }

    #[test]
    fn base64_flag_validated_and_latin1_recovered() {
        let content = r#"{"size": 3, "mimeType": "text/plain", "text": "not base64!", "encoding": "base64"}"#;
        let cap = open_str(&entry(GET, &response_with(content, "[]"))).unwrap();
        assert_eq!(response_bytes(&cap), b"not base64!");
        assert!(cap.sessions[0].notes.iter().any(|n| n.contains("not base64")));
        // Char-per-byte WBXML with a byte 0xC3 0x05 (not valid UTF-8 as bytes).
        let content = r#"{"size": 7, "mimeType": "application/vnd.ms-sync.wbxml", "text": "\u0003\u0001j\u0000\u00c3\u0005\u0001"}"#;
        let cap = open_str(&entry(GET, &response_with(content, "[]"))).unwrap();
        assert_eq!(response_bytes(&cap), b"\x03\x01\x6a\x00\xC3\x05\x01");
        assert!(
            cap.sessions[0]
                .notes
                .iter()
                .any(|n| n.contains("one character per byte"))
        );
        // base64 without the flag on an ActiveSync body.
        let content = r#"{"mimeType": "application/vnd.ms-sync.wbxml", "text": "AwFqAEUB"}"#;
        let cap = open_str(&entry(GET, &response_with(content, "[]"))).unwrap();
        assert_eq!(response_bytes(&cap), b"\x03\x01\x6a\x00\x45\x01");
    }

    #[test]
    fn encodings_dropped_only_when_already_decoded() {
        let headers =
            r#"[{"name": "Content-Encoding", "value": "gzip"}, {"name": "Transfer-Encoding", "value": "chunked"}]"#;
        let cap = open_str(&entry(GET, &response_with(r#"{"size": 5, "text": "hello"}"#, headers))).unwrap();
        let s = &cap.sessions[0];
        let h = &s.response.as_ref().unwrap().head.headers;
        assert!(
            !h.contains("content-encoding") && !h.contains("transfer-encoding"),
            "{h:?}"
        );
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("already decoded") && n.contains("Content-Encoding: gzip")),
            "{:?}",
            s.notes
        );
        // Still chunked + gzip (Fiddler stores raw bytes): both headers stay.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, b"hello").unwrap();
        let gz = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", gz.len()).into_bytes();
        chunked.extend_from_slice(&gz);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&chunked);
        let content = format!(r#"{{"size": 5, "text": "{b64}", "encoding": "base64"}}"#);
        let cap = open_str(&entry(GET, &response_with(&content, headers))).unwrap();
        let r = cap.sessions[0].response.as_ref().unwrap();
        assert!(r.head.headers.contains("content-encoding") && r.head.headers.contains("transfer-encoding"));
        assert_eq!(response_bytes(&cap), chunked);
        assert_eq!(decode_body(&chunked, &r.head.headers).bytes, b"hello");
    }

    #[test]
    fn shape_deviations_are_accepted() {
        let json = "\u{feff}".to_string()
            + r#"{"log": {"version": "1.1", "entries": [
                {"startedDateTime": "2023-03-29T16:58:59.303-0700", "time": null,
                 "request": {"method": "POST", "url": "http://mitm.it/", "httpVersion": "", "cookies": {"a": "b"},
                             "headers": {"Host": "mitm.it"}, "headersSize": null, "bodySize": -1.0,
                             "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "a b", "value": "1"}]}},
                 "response": {"status": 200.0, "statusText": null, "headers": null, "redirectURL": null,
                              "content": {"mimeType": "image/png", "comment": "Response bodies are not included."}}},
                null]}}"#;
        let cap = read(Path::new("t.har"), json.as_bytes(), &OpenOptions::default()).unwrap();
        assert_eq!(cap.sessions.len(), 2);
        let s = &cap.sessions[0];
        let req = s.request.as_ref().unwrap();
        assert_eq!(req.head.headers.get("host"), Some("mitm.it"));
        assert_eq!(cap.raw_body(&req.body).unwrap(), b"a%20b=1");
        let resp = s.response.as_ref().unwrap();
        assert_eq!((resp.head.status, resp.body.kept), (200, BodyKept::Omitted));
        assert!(s.timers.client_begin_request().is_some());
        assert!(cap.sessions[1].request.is_none() && cap.sessions[1].notes[0].contains("null"));
    }

    #[test]
    fn status_zero_has_no_response() {
        let response =
            r#"{"status": 0, "statusText": "", "headers": [], "content": {"size": 0}, "_error": "net::ERR_FAILED"}"#;
        let cap = open_str(&entry(GET, response)).unwrap();
        let s = &cap.sessions[0];
        assert!(s.response.is_none() && s.flags.aborted);
        assert!(s.notes.iter().any(|n| n.contains("net::ERR_FAILED")), "{:?}", s.notes);
    }

    #[test]
    fn errors_name_the_file_and_the_place() {
        let err = |json: &str| open_str(json).unwrap_err().to_string();
        assert!(err("{}").contains("no log object"));
        assert!(err("{}").starts_with("test.har: "));
        assert!(err(r#"{"log": {"entries": [{"request": {"method": "GET"}"#).contains("truncated"));
        let e = err(r#"{"log": {"entries": [{}, {"request": 7}]}}"#);
        assert!(e.contains("log.entries[1]") && e.contains("line 1"), "{e}");
        assert!(err(r#"{"log": {"entries": 5}}"#).contains("log.entries"));
        assert!(err("[]").contains("HAR object"));
        assert!(err("   ").contains("empty"));
        assert!(matches!(open_str(r#"{"log": {}}"#), Ok(c) if c.sessions.is_empty() && !c.warnings.is_empty()));
    }

    #[test]
    fn cancel_and_progress() {
        let json = entry(GET, &response_with(r#"{"text": "x"}"#, "[]"));
        let cancel = AtomicBool::new(true);
        let options = OpenOptions {
            cancel: Some(&cancel),
            ..Default::default()
        };
        assert!(matches!(
            read(Path::new("t.har"), json.as_bytes(), &options),
            Err(OpenError::Cancelled { .. })
        ));
        let seen = Mutex::new(Vec::new());
        let progress = |p: Progress| seen.lock().unwrap().push(p.fraction);
        let options = OpenOptions {
            progress: Some(&progress),
            ..Default::default()
        };
        read(Path::new("t.har"), json.as_bytes(), &options).unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.last(), Some(&1.0));
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    }
}
