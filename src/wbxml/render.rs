//! [`Document`] → XML in the form Exchange's mailbox log uses, so that a device trace and a
//! mailbox log can be compared line by line:
//!
//! ```text
//! <?xml version="1.0" encoding="utf-8"?>
//! <Sync xmlns="AirSync:">
//!     <Collections>
//!         <Collection>
//!             <GetChanges/>
//!             <ConversationId xmlns="Email2:" encoding="hex">A9A57BDA…</ConversationId>
//! ```
//!
//! No prefixes: an element whose code page differs from its parent's declares its own default
//! namespace (`Page:`). Content is written as escaped text when it is text; otherwise, so that no
//! byte is lost, as base64 (`encoding="base64"`) or, for byte-array elements, upper-case hex.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::escape::partial_escape;

use super::codepages::Render;
use super::document::{Child, Document, Element, Tag};

pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const INDENT: &str = "    ";
/// Deeper levels are not indented further: a hostile 1,000,000-deep document must not produce
/// terabytes of spaces. Real ActiveSync documents stay below 20 levels.
const MAX_INDENT_LEVELS: usize = 100;

/// How a content value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentForm {
    Text,
    Base64,
    Hex,
}

/// Decides how content of `tag` is shown: text when it is text, else base64 or hex.
///
/// STR_I content is text whenever it is valid UTF-8 (control characters become character
/// references). OPAQUE content is text only when it is valid UTF-8 without control characters
/// other than tab, LF and CR; byte-array elements (ConversationId/Index) sent as OPAQUE are always hex.
pub fn content_form(tag: Tag, bytes: &[u8], opaque: bool) -> ContentForm {
    let binary_form = match tag.render() {
        Render::Hex => ContentForm::Hex,
        Render::Base64 => ContentForm::Base64,
    };
    if opaque && binary_form == ContentForm::Hex {
        return ContentForm::Hex;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if !opaque || !s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) => ContentForm::Text,
        _ => binary_form,
    }
}

/// Renders the document (or the partial tree of a failed decode) as indented XML.
pub fn to_xml(doc: &Document) -> String {
    let mut out = String::with_capacity(doc.data.len() + doc.nodes.len() * 24 + 64);
    out.push_str(XML_DECLARATION);
    out.push('\n');
    let Some(root) = doc.root() else { return out };
    // Explicit stack of (element, next child iterator position) — no recursion.
    let mut stack: Vec<(Element<'_>, super::document::Children<'_>)> = Vec::new();
    open_tag(&mut out, root, None, 0);
    let mut pending = Some(root);
    loop {
        if let Some(e) = pending.take()
            && finish_open_tag(&mut out, e)
        {
            stack.push((e, e.children()));
        }
        let Some((parent, children)) = stack.last_mut() else {
            break;
        };
        let parent = *parent;
        match children.next() {
            Some(Child::Element(child)) => {
                let depth = stack.len();
                open_tag(&mut out, child, Some(parent.tag()), depth);
                pending = Some(child);
            }
            Some(Child::Data { bytes, opaque }) => {
                // Mixed content (never valid ActiveSync): each value on its own line.
                indent(&mut out, stack.len());
                match content_form(parent.tag(), bytes, opaque) {
                    ContentForm::Text => write_text(&mut out, bytes),
                    _ => {
                        out.push_str("<!-- base64: ");
                        out.push_str(&BASE64.encode(bytes));
                        out.push_str(" -->");
                    }
                }
                out.push('\n');
            }
            None => {
                stack.pop();
                indent(&mut out, stack.len());
                close_tag(&mut out, parent);
                out.push('\n');
            }
        }
    }
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth.min(MAX_INDENT_LEVELS) {
        out.push_str(INDENT);
    }
}

/// Writes `<Name` plus its namespace and identity attributes (the tag is left open).
fn open_tag(out: &mut String, e: Element<'_>, parent: Option<Tag>, depth: usize) {
    indent(out, depth);
    let tag = e.tag();
    out.push('<');
    match tag.name() {
        Some(n) => out.push_str(n),
        None => {
            out.push_str("Unknown page=\"");
            out.push_str(&tag.page.to_string());
            out.push_str("\" token=\"");
            out.push_str(&format!("0x{:02X}", tag.token));
            out.push('"');
        }
    }
    if parent.is_none_or(|p| p.page != tag.page)
        && let Some(ns) = tag.namespace()
    {
        out.push_str(" xmlns=\"");
        out.push_str(ns);
        out.push_str(":\"");
    }
}

fn close_tag(out: &mut String, e: Element<'_>) {
    out.push_str("</");
    out.push_str(e.name().unwrap_or("Unknown"));
    out.push('>');
}

/// Finishes an opened tag: an empty element or a leaf is written whole; returns true when the
/// element has children still to be written.
fn finish_open_tag(out: &mut String, e: Element<'_>) -> bool {
    let mut children = e.children();
    match (children.next(), children.next()) {
        (None, _) => {
            out.push_str("/>\n");
            false
        }
        (Some(Child::Data { bytes, opaque }), None) => {
            match content_form(e.tag(), bytes, opaque) {
                ContentForm::Text => {
                    out.push('>');
                    write_text(out, bytes);
                }
                ContentForm::Base64 => {
                    out.push_str(" encoding=\"base64\">");
                    out.push_str(&BASE64.encode(bytes));
                }
                ContentForm::Hex => {
                    out.push_str(" encoding=\"hex\">");
                    out.push_str(&hex::encode_upper(bytes));
                }
            }
            close_tag(out, e);
            out.push('\n');
            false
        }
        _ => {
            out.push_str(">\n");
            true
        }
    }
}

/// True for characters XML 1.0 cannot carry literally (section 2.2), plus CR, which parsers
/// would normalise away.
fn needs_char_ref(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{D}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Escaped UTF-8 text; callers have checked that `bytes` is UTF-8.
fn write_text(out: &mut String, bytes: &[u8]) {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return;
    };
    let mut rest = s;
    while let Some(i) = rest.find(needs_char_ref) {
        out.push_str(&partial_escape(&rest[..i]));
        let c = rest[i..].chars().next().unwrap_or_default();
        out.push_str(&format!("&#x{:X};", u32::from(c)));
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(&partial_escape(rest));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::decode;

    fn hdr(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0x03, 0x01, 0x6A, 0x00];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn mailbox_log_form() {
        // Sync > Collections > Collection > (SyncKey "1", GetChanges, page 22 ConversationId opaque)
        let bytes = hdr(&[
            0x45, 0x5C, 0x4F, 0x4B, 0x03, b'1', 0, 0x01, 0x13, 0x00, 22, 0x49, 0xC3, 2, 0xAB, 0x01, 0x01, 0x00, 0,
            0x01, 0x01, 0x01,
        ]);
        let xml = to_xml(&decode(&bytes).unwrap());
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <Sync xmlns=\"AirSync:\">\n\
             \x20   <Collections>\n\
             \x20       <Collection>\n\
             \x20           <SyncKey>1</SyncKey>\n\
             \x20           <GetChanges/>\n\
             \x20           <ConversationId xmlns=\"Email2:\" encoding=\"hex\">AB01</ConversationId>\n\
             \x20       </Collection>\n\
             \x20   </Collections>\n\
             </Sync>\n"
        );
    }

    #[test]
    fn text_escaping_and_binary() {
        // Subject "<a&b>\x01\r" as STR_I; Mime (ComposeMail 0x10) opaque binary.
        let mut body = vec![0x45, 0x00, 2, 0x54, 0x03];
        body.extend_from_slice(b"<a&b>\x01\r\0");
        body.extend_from_slice(&[0x01, 0x00, 21, 0x50, 0xC3, 3, 0xFF, 0x00, 0x01, 0x01, 0x01]);
        let xml = to_xml(&decode(&hdr(&body)).unwrap());
        assert!(
            xml.contains("<Subject xmlns=\"Email:\">&lt;a&amp;b&gt;&#x1;&#xD;</Subject>"),
            "{xml}"
        );
        assert!(
            xml.contains("<Mime xmlns=\"ComposeMail:\" encoding=\"base64\">/wAB</Mime>"),
            "{xml}"
        );
    }

    #[test]
    fn invalid_utf8_string_is_base64_and_unknown_tokens_are_labelled() {
        let xml = to_xml(&decode(&hdr(&[0x45, 0x7F, 0x03, 0xC3, 0x28, 0, 0x01, 0x01])).unwrap());
        assert!(
            xml.contains("<Unknown page=\"0\" token=\"0x3F\" encoding=\"base64\">wyg=</Unknown>"),
            "{xml}"
        );
    }
}
