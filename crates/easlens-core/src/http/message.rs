//! Request and response header blocks as capture files store them (`raw/N_c.txt`, `raw/N_s.txt`).
//!
//! Hand-written rather than `httparse` on purpose: captures are not wire traffic. Fiddler writes
//! placeholder lines such as `GET http://MISSING-REQUEST/? HTTP/0.0`, third-party writers use
//! LF-only line ends, and a proxy may have kept folded or colon-less lines; a strict parser rejects
//! the whole session where an engineer still wants to see it. The body is every byte after the
//! header block, whatever Content-Length says.

use serde::Serialize;
use thiserror::Error;

use super::Headers;
use crate::shared::Shared;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    #[error("empty message")]
    Empty,
    #[error("not an HTTP request line: {0:?}")]
    BadRequestLine(String),
    #[error("not an HTTP status line: {0:?}")]
    BadStatusLine(String),
}

/// Which side of an exchange something belongs to: the client's request or the server's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Request,
    Response,
}

/// Request methods that send no body: such a request without bytes has no body, rather than an
/// empty one.
pub const METHODS_WITHOUT_BODY: [&str; 4] = ["GET", "HEAD", "OPTIONS", "CONNECT"];

/// True when requests of `method` (in any case) send no body.
pub fn has_no_body(method: &str) -> bool {
    METHODS_WITHOUT_BODY.iter().any(|m| m.eq_ignore_ascii_case(method))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestHead {
    pub method: Shared,
    /// The request-target exactly as in the request line (absolute or origin form).
    pub target: Shared,
    /// `HTTP/1.1`, or empty when the line has none.
    pub version: Shared,
    pub headers: Headers,
    /// Lines that could not be read as headers, and similar oddities.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseHead {
    pub version: Shared,
    pub status: u16,
    pub reason: Shared,
    pub headers: Headers,
    pub problems: Vec<String>,
}

/// Where the header block ends: `(end of the header lines, start of the body)`. Accepts CRLF CRLF
/// and LF LF, whichever comes first. `None` when there is no blank line (a truncated message).
pub fn split_head(bytes: &[u8]) -> Option<(usize, usize)> {
    let crlf = memchr::memmem::find(bytes, b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = memchr::memmem::find(bytes, b"\n\n").map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Splits a message into its lines (CRLF or LF) and its body offset.
fn head_lines(bytes: &[u8]) -> (String, usize, Option<String>) {
    match split_head(bytes) {
        Some((end, body)) => (String::from_utf8_lossy(&bytes[..end]).into_owned(), body, None),
        None => (
            String::from_utf8_lossy(bytes).into_owned(),
            bytes.len(),
            Some("no blank line after the headers (message truncated?)".to_string()),
        ),
    }
}

fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>, problems: &mut Vec<String>) -> Headers {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in lines {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // obs-fold: a continuation of the previous header's value.
            match pairs.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => problems.push(format!("continuation line without a header: {line:?}")),
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                pairs.push((name.trim().to_string(), value.trim().to_string()))
            }
            _ => problems.push(format!("not a header line: {line:?}")),
        }
    }
    pairs.into_iter().collect()
}

/// Parses a request; returns the head and the offset where the body starts.
pub fn parse_request(bytes: &[u8]) -> Result<(RequestHead, usize), HttpError> {
    let (text, body_start, truncated) = head_lines(bytes);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("").trim();
    if first.is_empty() {
        return Err(HttpError::Empty);
    }
    let mut parts = first.split_ascii_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(HttpError::BadRequestLine(first.chars().take(200).collect()));
    };
    if !method
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
    {
        return Err(HttpError::BadRequestLine(first.chars().take(200).collect()));
    }
    let version = parts.next().unwrap_or("").to_string();
    let mut problems: Vec<String> = truncated.into_iter().collect();
    let headers = parse_headers(lines, &mut problems);
    Ok((
        RequestHead {
            method: Shared::from(method.to_string()),
            target: Shared::from(target.to_string()),
            version: Shared::from(version),
            headers,
            problems,
        },
        body_start,
    ))
}

/// Parses a response; returns the head and the offset where the body starts.
pub fn parse_response(bytes: &[u8]) -> Result<(ResponseHead, usize), HttpError> {
    let (text, body_start, truncated) = head_lines(bytes);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("").trim();
    if first.is_empty() {
        return Err(HttpError::Empty);
    }
    let bad = || HttpError::BadStatusLine(first.chars().take(200).collect());
    let (version, rest) = first.split_once(' ').ok_or_else(bad)?;
    if !version.to_ascii_uppercase().starts_with("HTTP/") {
        return Err(bad());
    }
    let rest = rest.trim_start();
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let status: u16 = code.parse().map_err(|_| bad())?;
    let mut problems: Vec<String> = truncated.into_iter().collect();
    let headers = parse_headers(lines, &mut problems);
    Ok((
        ResponseHead {
            version: Shared::from(version.to_string()),
            status,
            reason: Shared::from(reason.trim().to_string()),
            headers,
            problems,
        },
        body_start,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_form_request_with_crlf() {
        let raw = b"POST https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=jdoe HTTP/1.1\r\nHost: mail.example.com\r\nContent-Length: 4\r\n\r\n\x03\x01\x6a\x00";
        let (head, body) = parse_request(raw).unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(
            head.target,
            "https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=jdoe"
        );
        assert_eq!(head.version, "HTTP/1.1");
        assert_eq!(head.headers.get("host"), Some("mail.example.com"));
        assert_eq!(&raw[body..], b"\x03\x01\x6a\x00");
        assert!(head.problems.is_empty());
    }

    #[test]
    fn lf_only_origin_form_and_oddities() {
        let raw =
            b"GET /Microsoft-Server-ActiveSync HTTP/1.0\nHost: h\nX-Long: a\n  b\nbroken line\n\nbody\r\n\r\nmore";
        let (head, body) = parse_request(raw).unwrap();
        assert_eq!(head.target, "/Microsoft-Server-ActiveSync");
        assert_eq!(head.headers.get("x-long"), Some("a b"));
        assert_eq!(head.problems, vec!["not a header line: \"broken line\"".to_string()]);
        // The body is everything after the first blank line, including its own blank lines.
        assert_eq!(&raw[body..], b"body\r\n\r\nmore");
    }

    #[test]
    fn fiddler_placeholders_and_generated_responses() {
        let (head, _) = parse_request(b"GET http://MISSING-REQUEST/? HTTP/0.0\r\n\r\n").unwrap();
        assert_eq!(head.version, "HTTP/0.0");
        let (resp, body) = parse_response(b"HTTP/1.1 408 Request body incomplete\r\nDate: x\r\n\r\nThe request body did not contain the specified number of bytes.").unwrap();
        assert_eq!((resp.status, resp.reason.as_str()), (408, "Request body incomplete"));
        assert!(body > 0);
        let (resp, _) = parse_response(b"HTTP/1.1 200\r\n\r\n").unwrap();
        assert_eq!((resp.status, resp.reason.as_str()), (200, ""));
    }

    #[test]
    fn errors() {
        assert_eq!(parse_response(b""), Err(HttpError::Empty));
        assert_eq!(parse_request(b"\r\n\r\n"), Err(HttpError::Empty));
        assert!(matches!(
            parse_response(b"garbage here"),
            Err(HttpError::BadStatusLine(_))
        ));
        assert!(matches!(
            parse_response(b"HTTP/1.1 abc OK\r\n\r\n"),
            Err(HttpError::BadStatusLine(_))
        ));
        assert!(matches!(
            parse_request(b"\x03\x01\x6a\x00"),
            Err(HttpError::BadRequestLine(_))
        ));
        // No blank line: everything is header, with a note.
        let (resp, body) = parse_response(b"HTTP/1.1 200 OK\r\nA: b").unwrap();
        assert_eq!(body, 21, "the whole message is header");
        assert_eq!(resp.problems.len(), 1);
    }
}
