//! The ActiveSync WBXML codec ([MS-ASWBXML]): code pages as data (`wbxml-codepages/*.tsv`, with
//! their element names as constants in [`names`]), decoder, XML renderer, XML reader and encoder,
//! and the multipart ItemOperations framing.
//!
//! ```
//! use easlens_core::wbxml::{decode, encode, from_xml, to_xml};
//!
//! // A Sync response with Status 3 (invalid SyncKey), as a server sends it.
//! let bytes = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x4E, 0x03, b'3', 0x00, 0x01, 0x01];
//! let doc = decode(&bytes).expect("well-formed WBXML");
//! let xml = to_xml(&doc);
//! assert_eq!(xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Sync xmlns=\"AirSync:\">\n    <Status>3</Status>\n</Sync>\n");
//!
//! // And back: readable XML is how tests and the sample generator write WBXML.
//! assert_eq!(encode(&from_xml(&xml).unwrap()), bytes);
//!
//! // Malformed input gives the error (with its byte offset) and the tree decoded so far.
//! let cut = decode(&bytes[..7]).unwrap_err();
//! assert_eq!(cut.error.offset, 7);
//! assert!(to_xml(&cut.partial).contains("<Status/>"));
//! ```

pub mod codepages;
pub mod decode;
pub mod document;
pub mod encode;
mod language;
pub mod multipart;
pub mod names;
pub mod render;
pub mod xml;

pub use decode::{Budget, DecodeError, ErrorKind, Limit, PartialDecode, decode, decode_with};
pub use document::{Child, Document, Element, Event, Header, Literal, Tag, Warning};
pub use encode::encode;
pub use render::to_xml;
pub use xml::{XmlError, from_xml};
