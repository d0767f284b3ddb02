//! Redacting a decoded WBXML document: the same tree, each element's content replaced as the
//! rules say for its tag (and, for a few, its parent), so that the re-encoded body decodes to the
//! same commands, Status values, SyncKeys and ids.

use super::Redactor;
use super::rules::{Class, rules};
use super::text;
use crate::wbxml::document::{Document, Element, Event};

/// How a body element's data reads, from its `Type` sibling ([MS-ASAIRS] 2.2.2.22.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyType {
    Text,
    Html,
    Rtf,
    Mime,
}

impl Redactor {
    /// `doc` with every personal value replaced.
    pub(super) fn document(&mut self, doc: &Document) -> Document {
        let mut out = Document {
            header: doc.header,
            ..Document::default()
        };
        // (node id in `out`, the element, its class, the type of the body it is the data of)
        let mut stack: Vec<(u32, Element<'_>, Class, Option<BodyType>)> = Vec::new();
        for event in doc.walk() {
            match event {
                Event::Start(e) => {
                    let parent = stack.last().map(|s| s.1);
                    let id = match e.literal() {
                        Some(l) => out.start_literal(stack.last().map(|s| s.0), l.clone()),
                        None => out.start_element(stack.last().map(|s| s.0), e.tag()),
                    };
                    // Generic WBXML (LITERAL tags) carries no ActiveSync meaning: its content is text.
                    let class = match e.literal() {
                        Some(_) => Class::Text,
                        None => rules().element(parent.map(|p| p.tag()), e.tag()),
                    };
                    let body = if class == Class::Body {
                        parent.and_then(body_type)
                    } else {
                        None
                    };
                    stack.push((id, e, class, body));
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Data { bytes, opaque } => {
                    let Some(&(id, _, class, body)) = stack.last() else {
                        continue;
                    };
                    let new = self.data(class, body, bytes, opaque);
                    out.append_data(id, &new, opaque);
                }
            }
        }
        out
    }

    /// One element's content, redacted as `class` says.
    fn data(&mut self, class: Class, body: Option<BodyType>, bytes: &[u8], opaque: bool) -> Vec<u8> {
        if class == Class::Keep {
            return bytes.to_vec();
        }
        if matches!(class, Class::Blob) || (class == Class::Body && body == Some(BodyType::Rtf)) {
            return blob(bytes, opaque);
        }
        if class == Class::Secret {
            return Vec::new();
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            // MIME and bodies in an 8-bit charset (ISO-8859-1 is common in SendMail) are read
            // byte for byte, so their structure survives.
            if matches!(class, Class::Mime | Class::Body) {
                let text = text::from_latin1(bytes);
                let new = match class {
                    Class::Mime => text::mime(&text, &mut self.map),
                    _ => text::neutral(&text),
                };
                return text::to_latin1(&new);
            }
            return blob(bytes, true);
        };
        let map = &mut self.map;
        let new = match class {
            Class::People => text::people(text, map),
            Class::Subject => map.subject(text),
            Class::Body => match body {
                Some(BodyType::Html) => text::html(text),
                Some(BodyType::Mime) => text::mime(text, map),
                _ if looks_like_html(text) => text::html(text),
                _ => text::neutral(text),
            },
            Class::Mime => text::mime(text, map),
            Class::Place => map.place(text),
            Class::Phone => map.phone(text),
            Class::Postal => map.postal(text),
            Class::Digits => text::zero_digits(text),
            Class::Imei => map.imei(text),
            Class::Attachment => map.attachment(text),
            Class::Device => map.device(text),
            Class::User => map.user(text),
            Class::Ip => map.ip(text),
            _ => text::neutral(text),
        };
        new.into_bytes()
    }
}

/// The type of a body from the `Type` child of its `Body` or `BodyPart` (the parent of its
/// `Data`); `None` for a 2.5 body (Email, Calendar, … `Body`), which is text or HTML by its look.
fn body_type(parent: Element<'_>) -> Option<BodyType> {
    let kind = parent.child("Type")?.text()?;
    Some(match kind.trim() {
        "2" => BodyType::Html,
        "3" => BodyType::Rtf,
        "4" => BodyType::Mime,
        _ => BodyType::Text,
    })
}

/// Whether text is an HTML document or fragment.
fn looks_like_html(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('<') && (t.contains("</") || t.contains("/>"))
}

/// Binary content: zero bytes of the same length; base64 text stays base64 (of zero bytes).
fn blob(bytes: &[u8], opaque: bool) -> Vec<u8> {
    let base64 = !opaque
        && !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n'));
    if base64 {
        bytes
            .iter()
            .map(|&b| {
                if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' {
                    b'A'
                } else {
                    b
                }
            })
            .collect()
    } else {
        vec![0; bytes.len()]
    }
}
