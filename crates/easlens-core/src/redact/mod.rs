//! Redaction: a capture (or a mailbox log) with its personal data replaced by consistent
//! pseudonyms, everything an engineer diagnoses with left as it was.
//!
//! [`Redactor::capture`] makes a new [`Capture`] from the chosen sessions of one: the same
//! session numbers, timers and flags, request lines whose `User` and `DeviceId` (plain or base64
//! query) are pseudonyms, headers redacted as `rules.tsv` says, and bodies decoded (de-chunked,
//! decompressed, with `Content-Length` set and `Content-Encoding`/`Transfer-Encoding` removed to
//! match) and redacted: WBXML element by element ([`document`]), MIME and HTML with their
//! structure kept, other text scrubbed, binary content zeroed. The EAS summary of each session is
//! computed again from the redacted bytes, so every view, analysis and export of the redacted
//! capture sees the pseudonyms only, and the same findings, chains and histories.
//!
//! It works in two passes: the first redacts what has structure (query fields, WBXML elements,
//! MIME headers) and so learns the personal values of the capture; the second scrubs what has
//! none (other headers, text bodies, notes, comments) of every value the first learnt.
//!
//! One [`Redactor`] keeps one [`Pseudonyms`] map: redact a capture and its mailbox log with the
//! same redactor and their pseudonyms agree.

mod document;
pub mod pseudonyms;
pub mod rules;
// The file reader shared with build.rs, which uses all of it; the crate only some.
#[allow(dead_code)]
mod rules_tsv;
pub mod text;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::capture::{self, Body, BodyKept, Capture, Session};
use rayon::prelude::*;

use crate::content::{Budget, Content, ContentKind};
use crate::eas::query::{QueryForm, decode_base64_query, encode_base64_query, parse_request_target};
use crate::http::headers::auth_scheme;
use crate::http::{Headers, Side};
use crate::readers::{BodyLocation, BodyStore, HttpSession};
use crate::wbxml::{encode, multipart};

pub use pseudonyms::{Entry, Kind, Pseudonyms};
pub use rules::Class;
use text::Scrubber;

/// What replaces a removed credential or cookie value.
pub const REMOVED: &str = "[removed]";

/// Redacts captures with one pseudonym map.
#[derive(Default)]
pub struct Redactor {
    map: Pseudonyms,
    scrubber: Option<Scrubber>,
    /// Notes for the session being redacted (bodies cut), added to its notes.
    cut_notes: Vec<String>,
}

/// A body between the passes: final (packed, see [`PackedStore`], so that the first pass over a
/// big capture does not hold every body unpacked), or text still to be scrubbed.
enum Pending {
    Done(Body),
    Scrub(String),
}

impl Pending {
    fn bytes(bytes: Vec<u8>) -> Pending {
        Pending::Done(packed_body(&bytes, BodyKept::Present))
    }
}

/// A session between the passes.
struct Partial {
    http: HttpSession,
    request: Option<Pending>,
    response: Option<Pending>,
}

/// Characters a query value keeps unencoded (RFC 3986 unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl Redactor {
    pub fn new() -> Self {
        Redactor::default()
    }

    /// The map so far: each personal value and its pseudonym, in the order met.
    pub fn pseudonyms(&self) -> &Pseudonyms {
        &self.map
    }

    /// The map as JSON (for the engineer, never for what is shared).
    pub fn map_json(&self) -> String {
        serde_json::to_string_pretty(&serde_json::json!({ "pseudonyms": self.map.entries() })).unwrap_or_default()
    }

    /// `text` scrubbed of every personal value known so far and of email addresses.
    pub fn scrub(&mut self, text: &str) -> String {
        let stale = self
            .scrubber
            .as_ref()
            .is_none_or(|s| s.built_from != self.map.entries().len());
        if stale {
            self.scrubber = Some(Scrubber::new(&self.map));
        }
        match &self.scrubber {
            Some(s) => s.scrub(text, &mut self.map),
            None => text.to_string(),
        }
    }

    /// A redacted copy of `capture`: the sessions at `positions` (indices into
    /// `capture.sessions`), or all of them when `None`.
    pub fn capture(&mut self, capture: &Capture, positions: Option<&[usize]>) -> Capture {
        let all: Vec<usize>;
        let positions = match positions {
            Some(p) => p,
            None => {
                all = (0..capture.sessions.len()).collect();
                &all
            }
        };
        // Reading and decoding bodies is independent per session and runs on every core, a
        // chunk at a time (bounded memory); what uses the map runs in order, so the pseudonyms
        // are numbered as the sessions come.
        let chosen: Vec<&Session> = positions.iter().filter_map(|&i| capture.sessions.get(i)).collect();
        let mut partials: Vec<Partial> = Vec::with_capacity(chosen.len());
        for chunk in chosen.chunks(DECODE_CHUNK) {
            let decoded: Vec<[Option<Content>; 2]> = chunk
                .par_iter()
                .map(|s| [decode(capture, s, Side::Request), decode(capture, s, Side::Response)])
                .collect();
            for (s, [request, response]) in chunk.iter().zip(decoded) {
                partials.push(self.structured(s, request, response));
            }
        }
        let finished: Vec<HttpSession> = partials.into_iter().map(|p| self.finish(p)).collect();
        let sessions: Vec<Session> = finished
            .into_par_iter()
            .map(|http| {
                let read = |side| {
                    capture::body_of(&http, side)
                        .and_then(|b| PackedStore.read(b).ok())
                        .unwrap_or_default()
                };
                let eas = capture::summarize(&http, &read(Side::Request), &read(Side::Response));
                Session { http, eas, iis: None }
            })
            .collect();
        let warnings = capture.warnings.iter().map(|w| self.scrub(w)).collect();
        let name = self.file_name(&capture.path);
        let path = capture
            .path
            .parent()
            .map_or_else(|| name.clone().into(), |p| p.join(&name));
        let mut redacted = Capture::new(path, capture.format, sessions, warnings, Box::new(PackedStore));
        redacted.origin = capture.origin.clone();
        redacted
    }

    /// The file name of `path` as a redacted view or report shows it: a capture is often named
    /// after its user (`jdoe-iphone.saz`).
    pub fn file_name(&mut self, path: &std::path::Path) -> String {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.scrub(&name)
    }

    /// The first pass over one session: everything with structure.
    fn structured(&mut self, s: &Session, request: Option<Content>, response: Option<Content>) -> Partial {
        let mut http = s.http.clone();
        if let Some(ip) = http.client_ip.take() {
            http.client_ip = Some(self.map.ip(&ip).into());
        }
        let request = http.request.as_ref().map(|_| self.body(request, s, Side::Request));
        let response = http.response.as_ref().map(|_| self.body(response, s, Side::Response));
        http.notes.append(&mut self.cut_notes);
        if let Some(r) = http.request.as_mut() {
            let target = self.target(&r.head.target);
            let url = r.url().replacen(r.head.target.trim(), &target, 1);
            r.head.target = target.into();
            r.set_url(url);
            r.head.headers = self.headers(&r.head.headers);
        }
        if let Some(r) = http.response.as_mut() {
            r.head.headers = self.headers(&r.head.headers);
        }
        Partial {
            http,
            request,
            response,
        }
    }

    /// The second pass: scrub what has no structure, set the bodies (the EAS summary is
    /// computed from them by the caller).
    fn finish(&mut self, p: Partial) -> HttpSession {
        let Partial {
            mut http,
            request,
            response,
        } = p;
        http.notes = http.notes.iter().map(|n| self.scrub(n)).collect();
        http.facts = http.facts.iter().map(|n| self.scrub(n)).collect();
        http.comment = http.comment.take().map(|c| self.scrub(&c));
        if let Some(r) = http.request.as_mut() {
            let target = self.scrub(&r.head.target);
            let url = self.scrub(&r.url());
            r.head.target = target.into();
            r.set_url(url);
            r.head.headers = self.scrub_headers(&r.head.headers);
            r.head.problems = r.head.problems.iter().map(|p| self.scrub(p)).collect();
            let body = self.pending(request, r.body.kept);
            set_body(&mut r.body, &mut r.head.headers, body);
        }
        if let Some(r) = http.response.as_mut() {
            r.head.reason = self.scrub(&r.head.reason).into();
            r.head.headers = self.scrub_headers(&r.head.headers);
            r.head.problems = r.head.problems.iter().map(|p| self.scrub(p)).collect();
            let body = self.pending(response, r.body.kept);
            set_body(&mut r.body, &mut r.head.headers, body);
        }
        http
    }

    /// The final body (packed), with what the capture kept of the original.
    fn pending(&mut self, body: Option<Pending>, kept: BodyKept) -> Body {
        let mut body = match body {
            Some(Pending::Done(b)) => b,
            Some(Pending::Scrub(t)) => packed_body(self.scrub(&t).as_bytes(), BodyKept::Present),
            None => Body::empty(),
        };
        body.kept = kept;
        body
    }

    /// One side's body, redacted as far as its structure allows (`content`: what [`decode`]
    /// read of it).
    fn body(&mut self, content: Option<Content>, s: &Session, side: Side) -> Pending {
        let Some(content) = content else {
            return Pending::Done(Body::empty());
        };
        match content.kind {
            ContentKind::None | ContentKind::Empty | ContentKind::Lost => return Pending::Done(Body::empty()),
            ContentKind::Wbxml | ContentKind::Bytes => {}
        }
        if content.decoded.cut {
            self.cut_notes.push(format!(
                "{side:?} body cut to {} bytes by redaction (the analysis budget)",
                Budget::ANALYSIS.max_bytes
            ));
        }
        if let Some(doc) = content.document() {
            let redacted = encode(&self.document(doc));
            if content.parts.is_empty() {
                return Pending::bytes(redacted);
            }
            let zeroed: Vec<Vec<u8>> = content.other_parts().map(|p| vec![0; p.len()]).collect();
            let mut parts: Vec<&[u8]> = vec![&redacted];
            parts.extend(zeroed.iter().map(Vec::as_slice));
            return Pending::bytes(multipart::build(&parts));
        }
        let bytes = content.decoded.bytes;
        let headers = match side {
            Side::Request => s.request.as_ref().map(|r| &r.head.headers),
            Side::Response => s.response.as_ref().map(|r| &r.head.headers),
        };
        let content_type = headers
            .and_then(|h| h.get("Content-Type"))
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.contains("rfc822") {
            // SendMail before 14.0: the message itself, often in an 8-bit charset.
            let mime = match std::str::from_utf8(&bytes) {
                Ok(t) => text::mime(t, &mut self.map).into_bytes(),
                Err(_) => text::to_latin1(&text::mime(&text::from_latin1(&bytes), &mut self.map)),
            };
            return Pending::bytes(mime);
        }
        match String::from_utf8(bytes) {
            Ok(text) if content_type.contains("html") => Pending::Scrub(text::html(&text)),
            Ok(text) => Pending::Scrub(text),
            // Binary (pictures, documents, a body that did not decode): nothing to read, zeroed.
            Err(e) => Pending::bytes(vec![0; e.into_bytes().len()]),
        }
    }

    /// The request-target with the `User` and `DeviceId` of its query (plain or base64) replaced.
    fn target(&mut self, target: &str) -> String {
        let Ok(line) = parse_request_target(target) else {
            return target.to_string();
        };
        let Some(q) = target.find('?') else {
            return target.to_string();
        };
        let (path, query) = (&target[..q], &target[q + 1..]);
        let query = match line.form {
            QueryForm::Plain => self.plain_query(query),
            QueryForm::Base64 => self.base64_query(query),
        };
        format!("{path}?{query}")
    }

    fn plain_query(&mut self, query: &str) -> String {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let Some((name, value)) = pair.split_once('=') else {
                    return pair.to_string();
                };
                let decoded_name = percent_decode_str(name).decode_utf8_lossy();
                let class = rules::rules().query(&decoded_name);
                if class == Class::Keep {
                    return pair.to_string();
                }
                let value = percent_decode_str(&value.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned();
                let new = self.query_value(class, &value);
                format!("{name}={}", utf8_percent_encode(&new, QUERY_VALUE))
            })
            .collect();
        pairs.join("&")
    }

    fn query_value(&mut self, class: Class, value: &str) -> String {
        match class {
            Class::User => self.map.user(value),
            Class::Device => self.map.device(value),
            _ => value.to_string(),
        }
    }

    /// A base64 query with its user and device ID replaced, encoded again; a query that does not
    /// decode or encode again is replaced whole (it may hold them, unreadable).
    fn base64_query(&mut self, query: &str) -> String {
        let decoded = percent_decode_str(query).decode_utf8_lossy();
        let Ok(mut line) = decode_base64_query(&decoded) else {
            return REMOVED.to_string();
        };
        if rules::rules().query("User") != Class::Keep
            && let Some(user) = line.user.take()
        {
            let new = self.map.user(&user);
            for (name, value) in line.parameters.iter_mut() {
                if name.eq_ignore_ascii_case("User") {
                    *value = new.clone();
                }
            }
            line.user = Some(new);
        }
        if rules::rules().query("DeviceId") != Class::Keep
            && let Some(id) = line.device_id.clone()
        {
            let new = self.map.device(&id);
            line.set_device_id_bytes(new.as_bytes());
        }
        match encode_base64_query(&line) {
            // Written as the device wrote it: percent-encoded only if it was.
            Ok(b) if query.contains('%') => utf8_percent_encode(&b, QUERY_VALUE).to_string(),
            Ok(b) => b,
            Err(_) => REMOVED.to_string(),
        }
    }

    /// Headers with a row in `rules.tsv`, redacted; the others are scrubbed in the second pass.
    fn headers(&mut self, headers: &Headers) -> Headers {
        headers
            .iter()
            .map(|(name, value)| {
                let value = match rules::rules().header(name) {
                    None => value.to_string(),
                    Some(Class::Credential) => match auth_scheme(value) {
                        Some(scheme) => format!("{scheme} {REMOVED}"),
                        None => REMOVED.to_string(),
                    },
                    Some(Class::Cookie) => cookies(value),
                    Some(Class::SetCookie) => set_cookie(value),
                    Some(Class::Ip) => self.ip_list(value),
                    Some(Class::People) => text::people(value, &mut self.map),
                    Some(Class::User) => self.map.user(value),
                    Some(Class::Device) => self.map.device(value),
                    Some(_) => REMOVED.to_string(),
                };
                (name.to_string(), value)
            })
            .collect()
    }

    fn scrub_headers(&mut self, headers: &Headers) -> Headers {
        headers
            .iter()
            .map(|(name, value)| {
                let value = match rules::rules().header(name) {
                    Some(_) => value.to_string(),
                    None => self.scrub(value),
                };
                (name.to_string(), value)
            })
            .collect()
    }

    /// `1.2.3.4, 5.6.7.8` or `for=1.2.3.4;proto=https`: every address replaced.
    fn ip_list(&mut self, value: &str) -> String {
        let items: Vec<String> = value
            .split(',')
            .map(|item| {
                let parts: Vec<String> = item
                    .split(';')
                    .map(|part| {
                        let (prefix, v) = match part.split_once('=') {
                            Some((k, v)) => (format!("{k}="), v),
                            None => (String::new(), part),
                        };
                        let bare = v.trim().trim_matches('"').trim_start_matches('[');
                        let bare = bare.split(']').next().unwrap_or(bare);
                        let host = bare
                            .rsplit_once(':')
                            .filter(|(h, p)| !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()))
                            .map_or(bare, |(h, _)| h);
                        if host.parse::<std::net::IpAddr>().is_ok() {
                            let lead = &v[..v.len() - v.trim_start().len()];
                            format!("{prefix}{lead}{}", self.map.ip(host))
                        } else {
                            part.to_string()
                        }
                    })
                    .collect();
                parts.join(";")
            })
            .collect();
        items.join(",")
    }
}

/// Sessions whose bodies are read and decoded at once, on every core.
const DECODE_CHUNK: usize = 256;

/// What one side's body of `s` holds, read and decoded within the analysis budget (it bounds what
/// one body may cost; a redacted capture keeps every body in memory); `None` without such a body
/// or when its bytes cannot be read.
fn decode(capture: &Capture, s: &Session, side: Side) -> Option<Content> {
    let body = capture::body_of(s, side)?;
    if body.kept != BodyKept::Present {
        return None;
    }
    let raw = capture.raw_body(body).ok()?;
    capture::body_content(s, side, &raw, Budget::ANALYSIS)
}

/// `a=1; b=2` → `a=[removed]; b=[removed]`.
fn cookies(value: &str) -> String {
    value
        .split(';')
        .map(|c| match c.split_once('=') {
            Some((name, _)) => format!("{name}={REMOVED}"),
            None => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `name=value; Path=/; HttpOnly` → `name=[removed]; Path=/; HttpOnly`.
fn set_cookie(value: &str) -> String {
    let (first, rest) = value.split_once(';').map_or((value, None), |(a, b)| (a, Some(b)));
    let first = match first.split_once('=') {
        Some((name, _)) => format!("{name}={REMOVED}"),
        None => REMOVED.to_string(),
    };
    match rest {
        Some(r) => format!("{first};{r}"),
        None => first,
    }
}

/// The store of a redacted copy: every body in memory, packed with zstd (level 1: fast, and
/// bodies of mail and calendar text shrink several times), unpacked when read. `stored_len` is
/// the unpacked length: what the body's headers say and what exports write.
struct PackedStore;

impl BodyStore for PackedStore {
    fn read(&self, body: &Body) -> std::io::Result<Vec<u8>> {
        match &body.location {
            BodyLocation::None => Ok(Vec::new()),
            BodyLocation::Memory(packed) => zstd::bulk::decompress(packed, body.stored_len as usize),
            BodyLocation::ZipEntry { .. } => Err(std::io::Error::other("a redacted copy has no zip archive")),
        }
    }
}

/// `bytes` as a body of a redacted copy ([`PackedStore`]); packing only fails when memory runs
/// out, and the body is then left out.
fn packed_body(bytes: &[u8], kept: BodyKept) -> Body {
    match zstd::bulk::compress(bytes, 1) {
        Ok(packed) if !bytes.is_empty() => Body {
            location: BodyLocation::Memory(packed.into()),
            stored_len: bytes.len() as u64,
            kept,
        },
        _ => Body { kept, ..Body::empty() },
    }
}

/// Puts the redacted (decoded, packed) body in place and makes the headers agree: no content or
/// transfer coding, and the length as it is now.
fn set_body(body: &mut Body, headers: &mut Headers, new: Body) {
    let had_length = headers.contains("Content-Length") || headers.contains("Transfer-Encoding");
    let had_body = body.stored_len > 0 || body.kept != BodyKept::Present;
    let len = new.stored_len;
    *body = new;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut length_written = false;
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case("Content-Encoding") || name.eq_ignore_ascii_case("Transfer-Encoding") {
            continue;
        }
        if name.eq_ignore_ascii_case("Content-Length") {
            if !length_written {
                out.push((name.to_string(), len.to_string()));
                length_written = true;
            }
            continue;
        }
        out.push((name.to_string(), value.to_string()));
    }
    if !length_written && (had_length || (had_body && len > 0)) {
        out.push(("Content-Length".to_string(), len.to_string()));
    }
    *headers = out.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_by_rule() {
        let mut r = Redactor::new();
        let h: Headers = [
            ("Authorization", "Basic Y29udG9zb1xqZG9lOnB3"),
            ("Cookie", "a=1; X-BackEndCookie=abc"),
            ("Set-Cookie", "s=xyz; path=/; HttpOnly"),
            ("X-Forwarded-For", "10.1.2.3, [fe80::1]:443"),
            ("MS-ASProtocolVersion", "14.1"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let out = r.headers(&h);
        let v: Vec<(&str, &str)> = out.iter().collect();
        assert_eq!(
            v,
            [
                ("Authorization", "Basic [removed]"),
                ("Cookie", "a=[removed]; X-BackEndCookie=[removed]"),
                ("Set-Cookie", "s=[removed]; path=/; HttpOnly"),
                ("X-Forwarded-For", "192.0.2.1, 2001:db8::1"),
                ("MS-ASProtocolVersion", "14.1"),
            ]
        );
    }

    #[test]
    fn plain_and_base64_queries() {
        let mut r = Redactor::new();
        let t = r.target(
            "/Microsoft-Server-ActiveSync?Cmd=Sync&User=contoso%5Cjdoe&DeviceId=ApplF17XK2J3&DeviceType=iPhone",
        );
        assert_eq!(
            t,
            "/Microsoft-Server-ActiveSync?Cmd=Sync&User=CONTOSO%5Cuser1&DeviceId=Device1&DeviceType=iPhone"
        );
        let mut line = crate::eas::query::RequestLine::new(QueryForm::Base64);
        line.command = Some(crate::eas::command::Command::Sync);
        line.protocol_version = Some("14.1".into());
        line.user = Some("jdoe@contoso.com".into());
        line.device_id = Some("ApplF17XK2J3".into());
        line.device_type = Some("iPhone".into());
        line.policy_key = Some(1234);
        let q = encode_base64_query(&line).unwrap();
        let t = r.target(&format!("/Microsoft-Server-ActiveSync?{q}"));
        let back = parse_request_target(&t).unwrap();
        assert_eq!(back.user.as_deref(), Some("user1@contoso.invalid"));
        assert_eq!(back.device_id.as_deref(), Some("Device1"));
        assert_eq!(back.policy_key, Some(1234));
        assert_eq!(back.device_type.as_deref(), Some("iPhone"));
        assert_eq!(back.protocol_version.as_deref(), Some("14.1"));
    }

    #[test]
    fn body_headers_follow_the_body() {
        let mut h: Headers = [
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("X-A", "1"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let mut body = Body::in_memory(vec![1, 2, 3]);
        set_body(&mut body, &mut h, packed_body(b"hello", BodyKept::Present));
        let v: Vec<(&str, &str)> = h.iter().collect();
        assert_eq!(v, [("X-A", "1"), ("Content-Length", "5")]);
        assert_eq!(body.stored_len, 5);
        assert_eq!(PackedStore.read(&body).unwrap(), b"hello");
    }
}
