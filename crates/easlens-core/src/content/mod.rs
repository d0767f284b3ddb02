//! What a body holds: the one pipeline from the bytes a capture stored to what is shown, indexed
//! and analysed. De-chunk and decompress ([`decode_body`]), split a multipart ItemOperations
//! response, then recognise the payload (part 0, or the whole body) as one of the
//! [`ContentKind`]s.
//!
//! The EAS summary, the inspector's body view, item history, the text index and "Copy as text"
//! all go through [`analyse`], so they agree on what a body is; the rules live here once, and the
//! ones that differ by consumer (the inspector shows a WBXML tree that analysis leaves out) are
//! methods on the one result. Each kind that is decoded has its own file ([`wbxml`], [`json`]): a
//! new kind is a variant of [`ContentKind`] and a file.
//!
//! What differs by consumer in the work itself is how much a body may cost: the consumer passes a
//! [`Budget`] — [`Budget::INSPECTOR`] for the one body shown, [`Budget::ANALYSIS`] for the summary,
//! item history and the text index, which decode every body of a capture on several workers. It
//! bounds the WBXML tree and caps decompression at its byte figure.

mod autodiscover_tsv;
pub mod image;
pub mod json;
pub mod wbxml;
pub mod xml;

use std::ops::Range;

use crate::http::{DecodedBody, Headers, Side, decode_body_within, has_no_body};
use crate::readers::{Body, BodyKept};
pub use crate::wbxml::Budget;
use crate::wbxml::{Document, multipart};

pub use self::wbxml::WbxmlBody;

/// Where a body comes from, as far as what it holds depends on it.
#[derive(Debug, Clone, Copy)]
pub struct BodyContext<'a> {
    pub side: Side,
    /// The request's method: a GET, HEAD, OPTIONS or CONNECT request without bytes has no body
    /// rather than an empty one. Empty for a response.
    pub method: &'a str,
    /// The session is a CONNECT tunnel: its "body" is the proxy's description of the TLS
    /// handshake, decoded for display but never recognised as content.
    pub tunnel: bool,
}

/// What a body turned out to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A WBXML document (or a multipart body whose part 0 is one); see [`WbxmlBody::is_document`].
    Wbxml,
    /// Bytes of no kind recognised here (MIME for SendMail in 12.x, HTML error pages, …).
    Bytes,
    /// A body was sent but it has no bytes.
    Empty,
    /// The capture does not have the bytes (destroyed or left out by a HAR exporter).
    Lost,
    /// No body at all (a request whose method has none).
    None,
}

/// One body, analysed.
#[derive(Debug)]
pub struct Content {
    pub kind: ContentKind,
    /// After de-chunking and decompression, with notes on any step that failed.
    pub decoded: DecodedBody,
    /// The part table when the decoded body is a multipart ItemOperations response (part 0 is
    /// the payload); empty otherwise.
    pub parts: Vec<Range<usize>>,
    /// The payload decoded as WBXML, when its version byte or the Content-Type says it is WBXML
    /// (whether or not it decoded).
    pub wbxml: Option<WbxmlBody>,
    /// Problems, each naming the side (`response body: …`): bytes lost or left out, decoding
    /// steps that failed, WBXML errors in a document kept partially.
    pub notes: Vec<String>,
}

/// Analyses the raw (as stored) bytes of `body`, sent with `headers`, within `budget`: the WBXML
/// tree stays within it (partial, with the error, past it), and a body longer than its byte
/// figure, as sent or once decompressed, is cut to that many bytes instead of being copied or
/// inflated whole (its WBXML then ends with the budget's error, after the tree decoded so far).
pub fn analyse(raw: &[u8], body: &Body, headers: &Headers, context: &BodyContext<'_>, budget: Budget) -> Content {
    let which = match context.side {
        Side::Request => "request body",
        Side::Response => "response body",
    };
    let mut content = Content {
        kind: ContentKind::Bytes,
        decoded: decode_body_within(raw, headers, budget.max_bytes as u64),
        parts: Vec::new(),
        wbxml: None,
        notes: Vec::new(),
    };
    match body.kept {
        BodyKept::LostByExporter => {
            content.notes.push(format!(
                "{which} lost by the HAR exporter ({} bytes on the wire)",
                body.stored_len
            ));
            content.kind = ContentKind::Lost;
            return content;
        }
        BodyKept::Omitted => {
            content.notes.push(format!("{which} not included in the capture file"));
            content.kind = ContentKind::Lost;
            return content;
        }
        BodyKept::Present => {}
    }
    if raw.is_empty() {
        content.kind = if context.side == Side::Request && has_no_body(context.method) {
            ContentKind::None
        } else {
            ContentKind::Empty
        };
        return content;
    }
    content
        .notes
        .extend(content.decoded.notes.iter().map(|n| format!("{which}: {n}")));
    if context.tunnel || content.decoded.bytes.is_empty() {
        return content;
    }
    content.parts = multipart::parts(&content.decoded.bytes).unwrap_or_default();
    content.wbxml = wbxml::detect(content.payload(), headers, budget, content.decoded.cut);
    if let Some(w) = content.wbxml.as_ref().filter(|w| w.is_document()) {
        content.kind = ContentKind::Wbxml;
        if let Some(e) = &w.error {
            content.notes.push(format!("{which}: WBXML {e}"));
        }
    }
    content
}

impl Content {
    /// The payload: part 0 of a multipart body, else the whole decoded body.
    pub fn payload(&self) -> &[u8] {
        let bytes = &self.decoded.bytes[..];
        self.parts.first().map_or(bytes, |p0| &bytes[p0.clone()])
    }

    /// The parts of a multipart body after part 0 (attachments, item bodies), in order.
    pub fn other_parts(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().skip(1).map(|p| &self.decoded.bytes[p.clone()])
    }

    /// The document analysis reads (EAS summary, item history, text index): `Some` when the body
    /// is [`ContentKind::Wbxml`] — partial after a decode error (see [`WbxmlBody::is_document`]).
    pub fn document(&self) -> Option<&Document> {
        self.wbxml.as_ref().filter(|w| w.is_document()).map(|w| &w.doc)
    }

    /// [`Content::document`], taken out.
    pub fn into_document(self) -> Option<Document> {
        self.wbxml.filter(WbxmlBody::is_document).map(|w| w.doc)
    }

    /// What the inspector shows as WBXML: the tree (partial, with its error) whenever the body
    /// was detected as WBXML, also when analysis does not take it as a document, so that the
    /// engineer sees how far it decoded.
    pub fn shown_wbxml(&self) -> Option<&WbxmlBody> {
        self.wbxml.as_ref()
    }
}

/// The lines of a text as byte ranges, without their line break (`\n` or `\r\n`): how a body
/// shown as text is split for the views that show it a line at a time.
pub fn line_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            out.push(start..end);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn request(method: &str) -> BodyContext<'_> {
        BodyContext {
            side: Side::Request,
            method,
            tunnel: false,
        }
    }

    const SYNC: &[u8] = &[0x03, 0x01, 0x6A, 0x00, 0x45, 0x4E, 0x03, b'3', 0x00, 0x01, 0x01];
    const WBXML_TYPE: (&str, &str) = ("Content-Type", "application/vnd.ms-sync.wbxml");

    #[test]
    fn what_each_body_is() {
        let analyse = |raw: &[u8], h: &[(&str, &str)], cx: &BodyContext<'_>| {
            analyse(raw, &Body::in_memory(raw.to_vec()), &headers(h), cx, Budget::ANALYSIS)
        };
        let c = analyse(SYNC, &[], &request("POST"));
        assert_eq!(c.kind, ContentKind::Wbxml);
        assert!(c.document().is_some() && c.notes.is_empty());
        assert_eq!(analyse(b"", &[], &request("GET")).kind, ContentKind::None);
        assert_eq!(analyse(b"", &[], &request("POST")).kind, ContentKind::Empty);
        assert_eq!(analyse(b"<html>", &[], &request("POST")).kind, ContentKind::Bytes);
        // A tunnel's body is decoded for display, never recognised.
        let tunnel = BodyContext {
            tunnel: true,
            ..request("CONNECT")
        };
        let c = analyse(SYNC, &[], &tunnel);
        assert_eq!((c.kind, c.decoded.bytes.len()), (ContentKind::Bytes, SYNC.len()));
        assert!(c.shown_wbxml().is_none());
    }

    #[test]
    fn partial_trees_are_documents_only_after_the_version_byte() {
        let cut = &SYNC[..7];
        let c = analyse(
            cut,
            &Body::in_memory(cut.to_vec()),
            &headers(&[]),
            &request("POST"),
            Budget::ANALYSIS,
        );
        assert_eq!(c.kind, ContentKind::Wbxml);
        assert!(c.notes[0].starts_with("request body: WBXML offset 7"), "{:?}", c.notes);
        // Only the Content-Type says WBXML and it does not decode: other bytes, but the
        // inspector still shows how far it got.
        let page = b"<html>error</html>";
        let c = analyse(
            page,
            &Body::in_memory(page.to_vec()),
            &headers(&[WBXML_TYPE]),
            &request("POST"),
            Budget::INSPECTOR,
        );
        assert_eq!(c.kind, ContentKind::Bytes);
        assert!(c.document().is_none() && c.notes.is_empty());
        assert!(c.shown_wbxml().is_some_and(|w| w.error.is_some() && !w.version_byte));
    }

    #[test]
    fn the_consumer_chooses_the_budget() {
        // <Sync> with 70 nested <Collections>: within the inspector's 256 levels, past analysis's 64.
        let mut deep = SYNC[..4].to_vec();
        deep.push(0x45);
        deep.extend(std::iter::repeat_n(0x5C, 70));
        deep.extend(std::iter::repeat_n(0x01, 71));
        let body = Body::in_memory(deep.clone());
        let shown = analyse(&deep, &body, &headers(&[]), &request("POST"), Budget::INSPECTOR);
        assert!(shown.notes.is_empty() && shown.wbxml.as_ref().is_some_and(|w| w.error.is_none()));
        let read = analyse(&deep, &body, &headers(&[]), &request("POST"), Budget::ANALYSIS);
        assert_eq!(read.kind, ContentKind::Wbxml);
        assert_eq!(
            read.notes,
            [
                "request body: WBXML offset 68: more than 64 levels of nesting: over the analysis decoding budget, \
              decoding stopped"
            ]
        );
        assert_eq!(read.document().map(|d| d.element_count()), Some(64));

        // A body longer than the budget's bytes, as sent or once decompressed, is cut to them;
        // its WBXML then stops with the budget's error, keeping what decoded.
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(SYNC).unwrap();
        let gz = gz.finish().unwrap();
        let small = Budget {
            max_bytes: SYNC.len() - 3,
            ..Budget::ANALYSIS
        };
        let over = "WBXML offset 8: more than 8 bytes of content: over the analysis decoding budget, decoding stopped";
        for (raw, h, cut_note) in [
            (
                &gz[..],
                &[WBXML_TYPE, ("Content-Encoding", "gzip")][..],
                "request body: more than 8 bytes once decompressed (gzip): cut to the first 8 bytes (the most kept of one body here)",
            ),
            (
                SYNC,
                &[],
                "request body: 11 bytes, cut to the first 8 bytes (the most kept of one body here)",
            ),
        ] {
            let c = analyse(
                raw,
                &Body::in_memory(raw.to_vec()),
                &headers(h),
                &request("POST"),
                small,
            );
            assert_eq!(
                (c.kind, c.decoded.bytes.as_slice(), c.decoded.cut),
                (ContentKind::Wbxml, &SYNC[..8], true)
            );
            assert_eq!(c.notes, [cut_note.to_string(), format!("request body: {over}")]);
            assert!(
                c.document()
                    .is_some_and(|d| d.root().unwrap().child("Status").is_some())
            );
            let c = analyse(
                raw,
                &Body::in_memory(raw.to_vec()),
                &headers(h),
                &request("POST"),
                Budget::ANALYSIS,
            );
            assert_eq!(
                (c.kind, c.decoded.bytes.as_slice(), c.decoded.cut),
                (ContentKind::Wbxml, SYNC, false)
            );
            assert!(c.notes.is_empty());
        }
    }

    #[test]
    fn other_wbxml_languages_are_shown_with_their_name_and_no_tree() {
        // WML 1.3 by its public id, with the ActiveSync Content-Type (WBXML 1.2 version byte) and
        // with version 1.3 (taken as the body's document, an empty one).
        for (version, kind) in [(0x02, ContentKind::Bytes), (0x03, ContentKind::Wbxml)] {
            let raw = [version, 0x0A, 0x6A, 0x00, 0x7F, 0x01];
            let c = analyse(
                &raw,
                &Body::in_memory(raw.to_vec()),
                &headers(&[WBXML_TYPE]),
                &request("POST"),
                Budget::INSPECTOR,
            );
            assert_eq!(c.kind, kind);
            let shown = c.shown_wbxml().unwrap();
            assert!(shown.doc.root().is_none());
            assert_eq!(
                shown.error.as_ref().unwrap().to_string(),
                "offset 1: WML WBXML (public id 0x0A, -//WAPFORUM//DTD WML 1.3//EN), not ActiveSync"
            );
            assert_eq!(c.decoded.bytes, raw, "the bytes stay for the hex view");
        }
    }

    #[test]
    fn lost_bodies_say_so() {
        let lost = Body {
            location: crate::readers::BodyLocation::None,
            stored_len: 9,
            kept: BodyKept::LostByExporter,
        };
        let c = analyse(b"", &lost, &headers(&[]), &request("POST"), Budget::ANALYSIS);
        assert_eq!(c.kind, ContentKind::Lost);
        assert_eq!(c.notes, ["request body lost by the HAR exporter (9 bytes on the wire)"]);
    }
}
