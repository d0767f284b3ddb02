//! WBXML bodies: when a payload is taken for WBXML, and when what decoded of it counts as the
//! body's document.

use crate::http::Headers;
use crate::wbxml::{self as codec, Budget, DecodeError, Document, ErrorKind, Limit};

/// A payload detected as WBXML (by its version byte or its Content-Type), decoded.
#[derive(Debug, Clone)]
pub struct WbxmlBody {
    /// The document; what decoded before the error when `error` is set.
    pub doc: Document,
    pub error: Option<DecodeError>,
    /// The first byte is 0x03, the WBXML 1.3 version every ActiveSync body starts with.
    pub version_byte: bool,
}

impl WbxmlBody {
    /// Whether analysis takes this as the body's document: it decoded, or it failed part-way
    /// through a body whose version byte says WBXML (the partial tree is kept). A body that only
    /// its Content-Type called WBXML and that does not decode is something else (an error page
    /// sent with the ActiveSync type).
    pub fn is_document(&self) -> bool {
        self.error.is_none() || self.version_byte
    }
}

/// Decodes `payload` within `budget` when the first byte (WBXML version 1.3) or the Content-Type
/// says it is WBXML. `cut`: the body was longer than the budget's bytes and was cut to them
/// (`http::decode_body_within`), so input ending too soon is the budget's doing, and says so.
pub fn detect(payload: &[u8], headers: &Headers, budget: Budget, cut: bool) -> Option<WbxmlBody> {
    let version_byte = payload.first() == Some(&0x03);
    let content_type = headers.get("Content-Type").unwrap_or("").to_ascii_lowercase();
    if !version_byte && !content_type.contains("vnd.ms-sync.wbxml") {
        return None;
    }
    Some(match codec::decode_with(payload, budget) {
        Ok(doc) => WbxmlBody {
            doc,
            error: None,
            version_byte,
        },
        Err(p) => {
            let mut error = p.error;
            if cut && matches!(error.kind, ErrorKind::Truncated(_) | ErrorKind::LengthOverrun { .. }) {
                error = DecodeError {
                    offset: payload.len(),
                    kind: ErrorKind::OverBudget {
                        limit: Limit::Bytes,
                        max: budget.max_bytes,
                        budget: budget.name,
                    },
                };
            }
            WbxmlBody {
                doc: p.partial,
                error: Some(error),
                version_byte,
            }
        }
    })
}
