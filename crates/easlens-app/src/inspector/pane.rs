//! One side (request or response) of the selected session, prepared for display: the decoded
//! body as lines (XML or text), the Status annotations per XML line (placed by the element each
//! Status entry was read from), and the Raw text.

use std::ops::Range;
use std::sync::Arc;

use easlens_core::capture::Capture;
use easlens_core::capture::Session;
use easlens_core::capture::bodies::BodyView;
use easlens_core::content::{image, json, line_ranges, xml};
use easlens_core::eas::session::StatusEntry;
use easlens_core::http::Side;
use easlens_core::http::headers::shown_value;
use easlens_core::http::{Headers, readable_text};
use easlens_core::wbxml::render::StyledXml;

use super::super::sessions::format_size;

/// A text with its line index, shown virtualized.
#[derive(Default)]
pub struct Lines {
    pub text: String,
    pub lines: Vec<Range<usize>>,
}

impl Lines {
    pub fn new(text: String) -> Lines {
        let lines = line_ranges(&text);
        Lines { text, lines }
    }

    pub fn line(&self, i: usize) -> &str {
        &self.text[self.lines[i].clone()]
    }
}

/// One side (request or response) of the selected session.
pub struct Pane {
    pub side: Side,
    /// `None`: the session has no such side.
    pub view: Option<Result<Arc<BodyView>, String>>,
    pub xml: Lines,
    /// Status annotation per XML line.
    pub statuses: Vec<(usize, StatusEntry)>,
    /// The decoded body indented, when it is JSON, and as a tree to fold.
    pub json: Option<Lines>,
    pub json_tree: Option<json::JsonNode>,
    /// The decoded body indented, when it is XML sent as text (Autodiscover, EWS).
    pub xml_text: Option<Lines>,
    /// What an Autodiscover body's error codes, redirect and URL mean.
    pub autodiscover: Vec<xml::Explained>,
    /// The format and size of an image body.
    pub image: Option<image::ImageInfo>,
    /// The decoded body as text, when it is neither WBXML nor JSON but readable.
    pub text: Option<Lines>,
    /// Head and body as text for the Raw tab (depends on the reveal toggle).
    pub raw: Lines,
    pub raw_revealed: bool,
}

impl Pane {
    pub fn empty(side: Side) -> Pane {
        Pane {
            side,
            view: None,
            xml: Lines::default(),
            statuses: Vec::new(),
            json: None,
            json_tree: None,
            xml_text: None,
            autodiscover: Vec::new(),
            image: None,
            text: None,
            raw: Lines::default(),
            raw_revealed: false,
        }
    }

    pub fn load(capture: &Capture, index: usize, side: Side, reveal: bool) -> Pane {
        let mut pane = Pane::empty(side);
        pane.view = capture.body_view(index, side).map(|r| r.map_err(|e| e.to_string()));
        let session = &capture.sessions[index];
        if let Some(Ok(view)) = &pane.view {
            if let Some(styled) = &view.xml {
                pane.xml = Lines::new(styled.text.clone());
                pane.statuses = annotate_statuses(&pane.xml, styled, session, side);
            } else if let Some(json) = json::pretty(&view.decoded.bytes) {
                pane.json = Some(Lines::new(json));
                pane.json_tree = json::tree(&view.decoded.bytes);
            } else if let Some(x) = xml::pretty(&view.decoded.bytes) {
                pane.autodiscover = xml::explain_autodiscover(&x);
                pane.xml_text = Some(Lines::new(x));
            } else if let Some(i) = image::describe(&view.decoded.bytes) {
                pane.image = Some(i);
            } else if !view.decoded.bytes.is_empty()
                && let Some(t) = readable_text(&view.decoded.bytes)
            {
                pane.text = Some(Lines::new(t.to_string()));
            }
        }
        pane.build_raw(session, reveal);
        pane
    }

    /// The body as shown in the XML tab (decoded XML, indented JSON or readable text), for Copy
    /// and search.
    pub fn copyable_body(&self) -> Option<&str> {
        self.body_lines().map(|l| l.text.as_str())
    }

    /// Bytes of the body once de-chunked and decompressed (0 when it could not be read).
    pub fn decoded_len(&self) -> u64 {
        self.view
            .as_ref()
            .and_then(|v| v.as_ref().ok())
            .map_or(0, |v| v.decoded.bytes.len() as u64)
    }

    /// What the body tab shows, for its Copy button: XML, JSON or text.
    pub fn body_name(&self) -> &'static str {
        if !self.xml.lines.is_empty() || self.xml_text.is_some() {
            "XML"
        } else if self.json.is_some() {
            "JSON"
        } else {
            "text"
        }
    }

    /// The lines the XML tab shows (for search).
    pub fn body_lines(&self) -> Option<&Lines> {
        if !self.xml.lines.is_empty() {
            return Some(&self.xml);
        }
        self.json.as_ref().or(self.xml_text.as_ref()).or(self.text.as_ref())
    }

    /// Start line and headers as text, secrets masked unless `reveal`.
    pub fn header_text(&self, session: &Session, reveal: bool) -> Option<String> {
        let (mut out, headers) = head(session, self.side)?;
        out.push('\n');
        for (n, v) in headers.iter() {
            out.push_str(&format!("{n}: {}\n", shown_value(n, v, reveal)));
        }
        Some(out)
    }

    pub fn build_raw(&mut self, session: &Session, reveal: bool) {
        let mut out = self.header_text(session, reveal).unwrap_or_default();
        if !out.is_empty() {
            out.push('\n');
        }
        if let Some(Ok(view)) = &self.view {
            match readable_text(&view.raw) {
                Some(t) => out.push_str(t),
                None => out.push_str(&format!(
                    "[{} of binary body — see the Hex tab]",
                    format_size(view.raw.len() as u64)
                )),
            }
        }
        self.raw = Lines::new(out);
        self.raw_revealed = reveal;
    }
}

/// The session's Status entries of `side`, each on the line of its element: the entries record
/// their element's node and the rendering records where each element starts.
fn annotate_statuses(xml: &Lines, styled: &StyledXml, session: &Session, side: Side) -> Vec<(usize, StatusEntry)> {
    let Some(eas) = &session.eas else { return Vec::new() };
    let mut out: Vec<(usize, StatusEntry)> = eas
        .statuses
        .iter()
        .filter(|e| e.side == side)
        .filter_map(|e| {
            let offset = styled.element_offset(e.node?)?;
            let line = xml.lines.partition_point(|r| r.end < offset);
            (line < xml.lines.len()).then(|| (line, e.clone()))
        })
        .collect();
    out.sort_by_key(|(line, _)| *line);
    out
}

/// The request line or status line of `side`, and its headers.
pub fn head(session: &Session, side: Side) -> Option<(String, &Headers)> {
    match side {
        Side::Request => session.request.as_ref().map(|r| {
            (
                format!("{} {} {}", r.head.method, r.head.target, r.head.version),
                &r.head.headers,
            )
        }),
        Side::Response => session.response.as_ref().map(|r| {
            (
                format!("{} {} {}", r.head.version, r.head.status, r.head.reason),
                &r.head.headers,
            )
        }),
    }
}
