//! Bodies decoded on demand: raw bytes read back from the capture file and analysed
//! ([`crate::content`]) for display, or for the analyses that need a body's document again. The
//! last few views are cached, so moving between a handful of sessions does not decode them again,
//! while memory stays bounded for any capture.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::{BodyKept, Capture, body_content, body_of};
use crate::content::{Budget, Content};
use crate::eas::session::reads_body;
use crate::http::{DecodedBody, Side};
use crate::wbxml::render::{StyledXml, to_styled_xml};
use crate::wbxml::{DecodeError, Document};

/// How many decoded bodies a capture keeps.
pub const CACHE_SIZE: usize = 16;

/// One body, ready to show.
#[derive(Debug)]
pub struct BodyView {
    /// The bytes as stored in the capture (for the hex view).
    pub raw: Vec<u8>,
    /// After de-chunking and decompression, with notes on any step that failed.
    pub decoded: DecodedBody,
    /// Part sizes when the body is a multipart ItemOperations response (part 0 is the WBXML).
    pub multipart_parts: Vec<usize>,
    /// The WBXML document when the body is WBXML (partial when `wbxml_error` is set): the tree
    /// `xml` is rendered from.
    pub doc: Option<Document>,
    /// The rendered XML when the body is WBXML (partial when `wbxml_error` is set), with what
    /// each piece is and where each element starts, for colouring and annotating it.
    pub xml: Option<StyledXml>,
    pub wbxml_error: Option<DecodeError>,
    /// The capture does not have the bytes (lost or omitted by a HAR exporter).
    pub kept: BodyKept,
}

pub(crate) type Cache = Mutex<LruCache<(usize, Side), Arc<BodyView>>>;

pub(crate) fn new_cache() -> Cache {
    Mutex::new(LruCache::new(
        NonZeroUsize::new(CACHE_SIZE).unwrap_or(NonZeroUsize::MIN),
    ))
}

impl Capture {
    /// The request or response body of session `index` (position in `sessions`), decoded within
    /// the inspector's budget. `None` when the session has no such side.
    pub fn body_view(&self, index: usize, side: Side) -> Option<std::io::Result<Arc<BodyView>>> {
        let session = self.sessions.get(index)?;
        let body = body_of(session, side)?;
        if let Some(hit) = self.cache.lock().ok().and_then(|mut c| c.get(&(index, side)).cloned()) {
            return Some(Ok(hit));
        }
        let raw = match self.raw_body(body) {
            Ok(raw) => raw,
            Err(e) => return Some(Err(e)),
        };
        let content = body_content(session, side, &raw, Budget::INSPECTOR)?;
        let view = Arc::new(view(raw, content, body.kept));
        if let Ok(mut c) = self.cache.lock() {
            c.put((index, side), view.clone());
        }
        Some(Ok(view))
    }

    /// The WBXML document of the request or response body of session `index`, decoded exactly as
    /// indexing decoded it (so what is read from it lines up with the session's EAS summary).
    /// `Ok(None)` when the session has no such side, the EAS view does not read it, or the body
    /// is not WBXML.
    pub fn body_document(&self, index: usize, side: Side) -> std::io::Result<Option<Document>> {
        let Some(session) = self.sessions.get(index) else {
            return Ok(None);
        };
        let Some(body) = body_of(session, side).filter(|_| reads_body(session, side)) else {
            return Ok(None);
        };
        let raw = self.raw_body(body)?;
        Ok(body_content(session, side, &raw, Budget::ANALYSIS).and_then(Content::into_document))
    }
}

/// The view of an analysed body: WBXML is shown whenever it was detected, partially after an
/// error ([`Content::shown_wbxml`]).
fn view(raw: Vec<u8>, content: Content, kept: BodyKept) -> BodyView {
    let multipart_parts = content.parts.iter().map(|p| p.len()).collect();
    let xml = content.shown_wbxml().map(|w| to_styled_xml(&w.doc));
    let Content { decoded, wbxml, .. } = content;
    let (doc, wbxml_error) = match wbxml {
        Some(w) => (Some(w.doc), w.error),
        None => (None, None),
    };
    BodyView {
        raw,
        decoded,
        multipart_parts,
        doc,
        xml,
        wbxml_error,
        kept,
    }
}
