//! What one session shows as evidence, as values: the request line and its decoded base64 query,
//! the key headers (the `quote` column of `src/eas/headers.tsv`, [`headers::quoted`]) with their
//! meaning, the response line with the HTTP status's ActiveSync meaning, every response Status
//! with its meaning, and both bodies as decoded XML (or why there is none). Credentials are masked
//! unless the caller reveals them ([`shown_value`]).
//!
//! Read once here; "Copy as text" ([`super::session_text`]) and the report's HTML and Markdown
//! ([`super::evidence`]) write it each in their own form.

use chrono::{DateTime, FixedOffset};

use crate::capture::{BodyKept, Capture, LabelStyle, Session};
use crate::eas::headers;
use crate::eas::query::{QueryForm, parse_request_target};
use crate::eas::status::{HttpMeaning, Level, Verdict, http_meaning_for};
use crate::http::headers::shown_value;
use crate::http::{Headers, Side, readable_text};

/// One session as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvidence {
    /// The session's number as the CLI and the window show it ([`HttpSession::index`](crate::readers::HttpSession::index)).
    pub number: u32,
    /// Its position in `Capture::sessions`.
    pub position: usize,
    /// The command as sent, else the method.
    pub command: String,
    pub started: Option<DateTime<FixedOffset>>,
    pub duration_ms: Option<f64>,
    /// `None`: the capture has no request for the session.
    pub request: Option<RequestEvidence>,
    pub response: ResponseEvidence,
}

/// The request side.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestEvidence {
    /// `POST https://…/Microsoft-Server-ActiveSync?… HTTP/1.1`.
    pub line: String,
    /// The base64 query decoded (`Cmd`, `User`, `DeviceId`, `DeviceType`, `Version`, `PolicyKey`;
    /// `?` for a field the query does not have, `-` for no policy key); empty for a plain query,
    /// which the request line shows readably.
    pub base64_query: Vec<(&'static str, String)>,
    pub headers: Vec<HeaderEvidence>,
    pub body: BodyEvidence,
}

/// The response side.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvidence {
    /// No response in the capture; `aborted` when the capture says the session was aborted.
    Missing {
        aborted: bool,
    },
    Present(Box<ResponsePart>),
}

/// A response that is in the capture.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsePart {
    /// `HTTP/1.1 503 Service Unavailable`.
    pub line: String,
    pub status: u16,
    /// What the HTTP status means to ActiveSync, when known.
    pub meaning: Option<&'static HttpMeaning>,
    /// The proxy generated the response; Exchange did not send it.
    pub generated: bool,
    pub headers: Vec<HeaderEvidence>,
    /// Every Status of the response body, in document order.
    pub statuses: Vec<StatusEvidence>,
    pub body: BodyEvidence,
}

/// One quoted header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEvidence {
    /// As `headers.tsv` spells it.
    pub name: &'static str,
    /// Masked when it is a credential (unless revealed).
    pub value: String,
    /// What it means to ActiveSync, when `headers.tsv` says.
    pub meaning: Option<&'static str>,
}

/// One EAS Status element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvidence {
    /// `Sync/Collections/Collection/Status`.
    pub path: String,
    /// The value as sent.
    pub raw: String,
    pub name: Option<&'static str>,
    pub meaning: Option<&'static str>,
    pub verdict: Verdict,
    pub level: Level,
}

/// What a body shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEvidence {
    /// Nothing to show: no such side, or no bytes.
    None,
    /// Why there is no body to show (lost by the HAR exporter, unreadable, …), as a phrase.
    Note(String),
    /// Decoded WBXML as XML; `error` says where decoding stopped (the XML is then partial).
    Xml {
        text: String,
        error: Option<String>,
        omitted: usize,
    },
    /// A body that is readable text (an HTML error page, MIME).
    Text { text: String, omitted: usize },
    /// Bytes that are neither: how many.
    Binary(usize),
}

impl SessionEvidence {
    /// Session `position` of `capture`; each body's text cut to `body_cap` bytes when given (the
    /// number left out is kept in the body's `omitted`). `None` when there is no such session.
    pub fn of(capture: &Capture, position: usize, reveal: bool, body_cap: Option<usize>) -> Option<SessionEvidence> {
        let s = capture.sessions.get(position)?;
        let request = s.request.as_ref().map(|r| {
            let mut base64_query = Vec::new();
            if let Ok(q) = parse_request_target(&r.head.target)
                && q.form == QueryForm::Base64
            {
                let or_unknown = |v: Option<&str>| v.unwrap_or("?").to_string();
                base64_query = vec![
                    ("Cmd", or_unknown(q.command_raw.as_deref())),
                    ("User", or_unknown(q.user.as_deref())),
                    ("DeviceId", or_unknown(q.device_id.as_deref())),
                    ("DeviceType", or_unknown(q.device_type.as_deref())),
                    ("Version", or_unknown(q.protocol_version.as_deref())),
                    ("PolicyKey", q.policy_key.map_or("-".into(), |k| k.to_string())),
                ];
            }
            RequestEvidence {
                line: format!("{} {} {}", r.head.method, r.url(), r.head.version),
                base64_query,
                headers: key_headers(&r.head.headers, Side::Request, reveal),
                body: body(capture, position, Side::Request, r.body.kept, body_cap),
            }
        });
        let response = match &s.response {
            Some(r) => ResponseEvidence::Present(Box::new(ResponsePart {
                line: format!("{} {} {}", r.head.version, r.head.status, r.head.reason),
                status: r.head.status,
                meaning: http_meaning_for(r.head.status, s.eas.is_some()),
                generated: s.flags.generated,
                headers: key_headers(&r.head.headers, Side::Response, reveal),
                statuses: statuses(s, Side::Response),
                body: body(capture, position, Side::Response, r.body.kept, body_cap),
            })),
            None => ResponseEvidence::Missing {
                aborted: s.flags.aborted,
            },
        };
        Some(SessionEvidence {
            number: s.index,
            position,
            command: s.command_label(LabelStyle::REPORT),
            started: s.timers.started(),
            duration_ms: s.timers.duration_ms(),
            request,
            response,
        })
    }
}

/// The Status elements of one side of `s`, with their meaning.
pub(crate) fn statuses(s: &Session, side: Side) -> Vec<StatusEvidence> {
    let Some(eas) = &s.eas else { return Vec::new() };
    eas.statuses
        .iter()
        .filter(|e| e.side == side)
        .map(|e| StatusEvidence {
            path: e.path.to_string(),
            raw: e.raw.to_string(),
            name: e.name,
            meaning: e.meaning,
            verdict: e.verdict,
            level: e.level,
        })
        .collect()
}

/// The headers "Copy as text" quotes on `side`, every value, credentials masked unless `reveal`.
fn key_headers(headers: &Headers, side: Side, reveal: bool) -> Vec<HeaderEvidence> {
    let mut out = Vec::new();
    for &name in headers::quoted(side) {
        for v in headers.get_all(name) {
            out.push(HeaderEvidence {
                name,
                value: shown_value(name, v, reveal),
                meaning: headers::meaning(name),
            });
        }
    }
    out
}

fn body(capture: &Capture, position: usize, side: Side, kept: BodyKept, cap: Option<usize>) -> BodyEvidence {
    match kept {
        BodyKept::LostByExporter => return BodyEvidence::Note("body lost by the HAR exporter".into()),
        BodyKept::Omitted => return BodyEvidence::Note("body not included in the capture file".into()),
        BodyKept::Present => {}
    }
    let view = match capture.body_view(position, side) {
        Some(Ok(v)) => v,
        Some(Err(e)) => return BodyEvidence::Note(format!("body unreadable: {e}")),
        None => return BodyEvidence::None,
    };
    let error = view
        .wbxml_error
        .as_ref()
        .map(|e| format!("WBXML decode error at byte offset {}: {}", e.offset, e.kind));
    if let Some(xml) = view.xml.as_ref().map(|x| &x.text) {
        let (text, omitted) = capped(xml, cap);
        return BodyEvidence::Xml { text, error, omitted };
    }
    if view.decoded.bytes.is_empty() {
        return BodyEvidence::None;
    }
    match readable_text(&view.decoded.bytes) {
        Some(t) => {
            let (text, omitted) = capped(t, cap);
            BodyEvidence::Text { text, omitted }
        }
        None => BodyEvidence::Binary(view.decoded.bytes.len()),
    }
}

/// `text` cut to at most `cap` bytes, at the end of a line when one ends in the last quarter,
/// else at a character boundary; with the number of bytes left out.
fn capped(text: &str, cap: Option<usize>) -> (String, usize) {
    let Some(cap) = cap.filter(|&c| text.len() > c) else {
        return (text.to_string(), 0);
    };
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(nl) = text[..end].rfind('\n')
        && nl >= end - end / 4
    {
        end = nl + 1;
    }
    (text[..end].to_string(), text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_cut_at_a_line_end_or_a_character_boundary() {
        assert_eq!(capped("short", Some(10)), ("short".into(), 0));
        assert_eq!(capped("short", None), ("short".into(), 0));
        assert_eq!(capped("line one\nline two\n", Some(10)), ("line one\n".into(), 9));
        // No line end in the last quarter: cut inside the line, never inside a character.
        assert_eq!(capped("ééééé", Some(5)), ("éé".into(), 6));
    }
}
