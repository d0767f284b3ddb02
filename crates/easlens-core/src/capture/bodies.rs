//! Bodies decoded on demand for display: raw bytes read back from the capture file, de-chunked and
//! decompressed, WBXML decoded and rendered. The last few views are cached, so moving between a
//! handful of sessions does not decode them again, while memory stays bounded for any capture.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::{Body, BodyKept, Capture};
use crate::eas::session::wbxml_payload;
use crate::http::Side;
use crate::http::{DecodedBody, Headers, decode_body};
use crate::wbxml::{self, DecodeError, Document};

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
    /// The rendered XML when the body is WBXML (partial when `wbxml_error` is set).
    pub xml: Option<String>,
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
    /// The request or response body of session `index` (position in `sessions`), decoded.
    /// `None` when the session has no such side.
    pub fn body_view(&self, index: usize, side: Side) -> Option<std::io::Result<Arc<BodyView>>> {
        let session = self.sessions.get(index)?;
        let (body, headers) = match side {
            Side::Request => session.request.as_ref().map(|r| (&r.body, &r.head.headers))?,
            Side::Response => session.response.as_ref().map(|r| (&r.body, &r.head.headers))?,
        };
        if let Some(hit) = self.cache.lock().ok().and_then(|mut c| c.get(&(index, side)).cloned()) {
            return Some(Ok(hit));
        }
        let view = match self.raw_body(body) {
            Ok(raw) => Arc::new(make_view(raw, body, headers, session.flags.tunnel)),
            Err(e) => return Some(Err(e)),
        };
        if let Ok(mut c) = self.cache.lock() {
            c.put((index, side), view.clone());
        }
        Some(Ok(view))
    }

    /// The WBXML document of the request or response body of session `index`, decoded exactly as
    /// indexing decoded it (so what is read from it lines up with the session's EAS summary).
    /// `Ok(None)` when the session has no such side or the body is not WBXML.
    pub fn body_document(&self, index: usize, side: Side) -> std::io::Result<Option<Document>> {
        let Some(session) = self.sessions.get(index) else {
            return Ok(None);
        };
        let (body, method, headers) = match (side, &session.request, &session.response) {
            (Side::Request, Some(r), _) => (&r.body, r.head.method.as_str(), &r.head.headers),
            (Side::Response, _, Some(r)) if !session.flags.generated => (&r.body, "", &r.head.headers),
            _ => return Ok(None),
        };
        if session.flags.tunnel {
            return Ok(None);
        }
        let raw = self.raw_body(body)?;
        let mut notes = Vec::new();
        Ok(crate::eas::session::body_document(body, method, headers, &raw, side, &mut notes).1)
    }
}

fn make_view(raw: Vec<u8>, body: &Body, headers: &Headers, tunnel: bool) -> BodyView {
    let decoded = decode_body(&raw, headers);
    let mut view = BodyView {
        raw,
        decoded,
        multipart_parts: Vec::new(),
        xml: None,
        wbxml_error: None,
        kept: body.kept,
    };
    // A tunnel's "body" is the proxy's description of the TLS handshake, never WBXML; what is
    // left of a body an exporter destroyed is not worth decoding either.
    if tunnel || body.kept != BodyKept::Present || view.decoded.bytes.is_empty() {
        return view;
    }
    let (payload, parts) = wbxml_payload(&view.decoded.bytes, headers);
    view.multipart_parts = parts.iter().map(|p| p.len()).collect();
    let Some(wbxml_bytes) = payload else { return view };
    match wbxml::decode(wbxml_bytes) {
        Ok(doc) => view.xml = Some(wbxml::to_xml(&doc)),
        Err(p) => {
            view.xml = Some(wbxml::to_xml(&p.partial));
            view.wbxml_error = Some(p.error);
        }
    }
    view
}
