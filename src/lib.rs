//! easlens engine: everything the desktop inspector and the CLI show is computed here, free of any UI.
//!
//! - [`wbxml`] — the ActiveSync WBXML codec: code pages as data, decoder, XML renderer, encoder.
//! - [`eas`] — Exchange ActiveSync protocol knowledge: request-line (query) decoding, status meanings.

pub mod eas;
pub mod wbxml;
