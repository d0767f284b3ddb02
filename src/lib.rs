//! easlens engine: everything the desktop inspector and the CLI show is computed here, free of any UI.
//!
//! - [`wbxml`] — the ActiveSync WBXML codec: code pages as data, decoder, XML renderer, encoder.
//! - [`hexdump`] — bytes from pasted hex dumps (plain, C-style, xxd, hexdump -C, Fiddler).
//! - [`eas`] — Exchange ActiveSync protocol knowledge: request-line (query) decoding, status meanings.

pub mod eas;
pub mod hexdump;
pub mod wbxml;
