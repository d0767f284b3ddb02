//! The ActiveSync WBXML codec ([MS-ASWBXML]): code pages as data, decoder, XML renderer,
//! XML reader and encoder, and the multipart ItemOperations framing.

pub mod codepages;
pub mod decode;
pub mod document;
pub mod encode;
pub mod multipart;
pub mod render;
pub mod xml;

pub use decode::{DecodeError, ErrorKind, PartialDecode, decode};
pub use document::{Child, Document, Element, Event, Header, Tag, Warning};
pub use encode::encode;
pub use render::to_xml;
pub use xml::{XmlError, from_xml};
