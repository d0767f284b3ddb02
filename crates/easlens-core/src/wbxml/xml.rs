//! XML → [`Document`]: reads the form [`to_xml`](super::to_xml) writes (and the prefixed form of
//! the reference corpus), so that tests, samples and the sample generator are written as readable
//! XML and turned into WBXML by the encoder.
//!
//! Namespaces map to code pages by name (`AirSync:`, `AirSync` and `airsync` are all page 0).
//! `<Unknown page="P" token="0xTT">` and `<unknown.P.0xTT>` stand for tokens without a name.
//! `encoding="base64"`/`"hex"` (or `enc=`) content becomes OPAQUE bytes. Whitespace between
//! elements is layout and is dropped; the text of a leaf element is kept exactly.
//!
//! An element in no namespace by an explicit `xmlns=""` (or inside one) is a LITERAL element, as
//! the renderer writes it: its name and attributes (other than `xmlns…` and `encoding`/`enc`)
//! are kept as they are, and the encoder puts them in a string table.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::NsReader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use thiserror::Error;

use super::codepages::codepages;
use super::decode::check_literal_name;
use super::document::{Document, Literal, Tag};
use super::render::BINARY_PI;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("line {line}, column {column}: {message}")]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Text,
    Base64,
    Hex,
}

struct Open {
    id: u32,
    page: u8,
    /// The default namespace is explicitly empty here (`xmlns=""`): unprefixed elements are
    /// LITERAL elements.
    no_namespace: bool,
    /// Child elements (or binary runs) seen: text between them is layout unless significant.
    has_elements: bool,
    encoding: Encoding,
    text: String,
    /// The pending text came (partly) from a reference or CDATA, so it is content, not layout.
    significant: bool,
}

/// Parses ActiveSync XML into a document.
pub fn from_xml(xml: &str) -> Result<Document, XmlError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut doc = Document::default();
    let mut open: Vec<Open> = Vec::new();
    let mut have_root = false;
    let fail = |reader: &NsReader<&[u8]>, message: String| {
        let pos = (reader.buffer_position() as usize).min(xml.len());
        let before = &xml.as_bytes()[..pos];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = pos - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        XmlError { line, column, message }
    };
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(n), event)) => (Ok(Some(String::from_utf8_lossy(n.as_ref()).into_owned())), event),
            Ok((ResolveResult::Unbound, event)) => (Ok(None), event),
            Ok((ResolveResult::Unknown(p), event)) => (
                Err(format!("undeclared namespace prefix {:?}", String::from_utf8_lossy(&p))),
                event,
            ),
            Err(e) => {
                let message = e.to_string();
                return Err(fail(&reader, message));
            }
        };
        let ns = ns.map_err(|m| fail(&reader, m))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if have_root && open.is_empty() {
                    return Err(fail(&reader, "a second root element".into()));
                }
                have_root = true;
                if let Some(parent) = open.last_mut() {
                    flush_mixed(&mut doc, parent).map_err(|m| fail(&reader, m))?;
                    parent.has_elements = true;
                }
                let parent_page = open.last().map(|o| o.page);
                let parent_empty = open.last().is_some_and(|o| o.no_namespace);
                let (kind, encoding, no_namespace) =
                    element_kind(e, ns.as_deref(), parent_page, parent_empty).map_err(|m| fail(&reader, m))?;
                let parent = open.last().map(|o| o.id);
                let (id, page) = match kind {
                    ElementKind::Tag(tag) => (doc.start_element(parent, tag), tag.page),
                    ElementKind::Literal(l) => (doc.start_literal(parent, l), Tag::LITERAL.page),
                };
                if matches!(event, Event::Start(_)) {
                    open.push(Open {
                        id,
                        page,
                        no_namespace,
                        has_elements: false,
                        encoding,
                        text: String::new(),
                        significant: false,
                    });
                }
            }
            Event::End(_) => {
                let Some(mut el) = open.pop() else {
                    return Err(fail(&reader, "unexpected end tag".into()));
                };
                if el.has_elements {
                    flush_mixed(&mut doc, &mut el).map_err(|m| fail(&reader, m))?;
                } else {
                    let text = std::mem::take(&mut el.text);
                    flush_text(&mut doc, el.id, el.encoding, &text).map_err(|m| fail(&reader, m))?;
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| fail(&reader, e.to_string()))?;
                match open.last_mut() {
                    Some(o) => o.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(fail(&reader, "text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                let s = t.xml10_content().map_err(|e| fail(&reader, e.to_string()))?;
                let o = open
                    .last_mut()
                    .ok_or_else(|| fail(&reader, "CDATA outside the root element".into()))?;
                o.text.push_str(&s);
                o.significant = true;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| fail(&reader, e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| fail(&reader, e.to_string()))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| fail(&reader, format!("unknown entity &{name};")))?
                            .to_string()
                    }
                };
                let o = open
                    .last_mut()
                    .ok_or_else(|| fail(&reader, "reference outside the root element".into()))?;
                o.text.push_str(&c);
                o.significant = true;
            }
            Event::Eof => break,
            Event::PI(pi) if pi.target() == BINARY_PI.as_bytes() => {
                // Binary content inside mixed content, as `to_xml` writes it.
                let o = open
                    .last_mut()
                    .ok_or_else(|| fail(&reader, "binary content outside the root element".into()))?;
                flush_mixed(&mut doc, o).map_err(|m| fail(&reader, m))?;
                o.has_elements = true;
                let b64 = String::from_utf8_lossy(pi.content()).into_owned();
                flush_text(&mut doc, o.id, Encoding::Base64, b64.trim()).map_err(|m| fail(&reader, m))?;
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    }
    if !open.is_empty() {
        return Err(fail(&reader, format!("{} element(s) not closed", open.len())));
    }
    if !have_root {
        return Err(fail(&reader, "no root element".into()));
    }
    Ok(doc)
}

/// Text beside child elements: layout whitespace (dropped), or — in mixed content, which
/// `to_xml` writes inline — content, kept exactly.
fn flush_mixed(doc: &mut Document, parent: &mut Open) -> Result<(), String> {
    let text = std::mem::take(&mut parent.text);
    let significant = std::mem::take(&mut parent.significant);
    if significant || !text.trim().is_empty() {
        flush_text(doc, parent.id, Encoding::Text, &text)?;
    }
    Ok(())
}

fn flush_text(doc: &mut Document, id: u32, encoding: Encoding, text: &str) -> Result<(), String> {
    match encoding {
        Encoding::Text => doc.append_data(id, text.as_bytes(), false),
        Encoding::Base64 => {
            let compact: String = text.split_ascii_whitespace().collect();
            let bytes = BASE64.decode(compact).map_err(|e| format!("bad base64 content: {e}"))?;
            doc.append_data(id, &bytes, true);
        }
        Encoding::Hex => {
            let compact: String = text.split_ascii_whitespace().collect();
            let bytes = hex::decode(compact).map_err(|e| format!("bad hex content: {e}"))?;
            doc.append_data(id, &bytes, true);
        }
    }
    Ok(())
}

enum ElementKind {
    Tag(Tag),
    Literal(Literal),
}

/// What an element is (a code-page tag or a LITERAL), how its content is encoded, and whether the
/// default namespace is explicitly empty inside it.
fn element_kind(
    e: &BytesStart<'_>,
    ns: Option<&str>,
    parent_page: Option<u8>,
    parent_empty: bool,
) -> Result<(ElementKind, Encoding, bool), String> {
    let local = e.local_name();
    let local = std::str::from_utf8(local.as_ref()).map_err(|_| "element name is not UTF-8".to_string())?;
    let mut encoding = Encoding::Text;
    let (mut page_attr, mut token_attr) = (None, None);
    let mut own_default = None;
    let mut others: Vec<(String, String)> = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = a.key.local_name();
        let value = a.unescape_value().map_err(|e| e.to_string())?;
        if a.key.as_ref() == b"xmlns" {
            own_default = Some(value.is_empty());
            continue;
        }
        if a.key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        match key.as_ref() {
            b"encoding" | b"enc" => {
                encoding = match value.as_ref() {
                    "base64" => Encoding::Base64,
                    "hex" => Encoding::Hex,
                    other => {
                        return Err(format!("unknown content encoding {other:?} (base64 or hex)"));
                    }
                }
            }
            b"page" => page_attr = Some(value.clone().into_owned()),
            b"token" => token_attr = Some(value.clone().into_owned()),
            _ => {}
        }
        let key = std::str::from_utf8(a.key.as_ref()).map_err(|_| "attribute name is not UTF-8".to_string())?;
        if !matches!(key, "encoding" | "enc") {
            others.push((key.to_string(), value.into_owned()));
        }
    }
    let no_namespace = own_default.unwrap_or(parent_empty);
    if ns.is_none() && no_namespace {
        // A LITERAL element: every other attribute is one of its own.
        check_literal_name(local, false).map_err(|reason| format!("LITERAL element <{local}>: {reason}"))?;
        for (name, value) in &others {
            check_literal_name(name, true)
                .map_err(|reason| format!("attribute {name:?} of LITERAL element <{local}>: {reason}"))?;
            if value.contains('\0') {
                return Err(format!("attribute {name:?} of <{local}> holds a NUL character"));
            }
        }
        let literal = Literal {
            name: local.to_string(),
            attributes: others,
        };
        return Ok((ElementKind::Literal(literal), encoding, true));
    }
    let (tag, encoding) = element_tag(local, ns, parent_page, encoding, page_attr, token_attr)?;
    Ok((ElementKind::Tag(tag), encoding, no_namespace))
}

/// The tag of an element in a code page's namespace (`ns`, or the parent's page).
fn element_tag(
    local: &str,
    ns: Option<&str>,
    parent_page: Option<u8>,
    encoding: Encoding,
    page_attr: Option<String>,
    token_attr: Option<String>,
) -> Result<(Tag, Encoding), String> {
    let page = match ns {
        Some(ns) => codepages()
            .page_for_namespace(ns)
            .map(|p| p.number)
            .ok_or_else(|| format!("namespace {ns:?} is not an ActiveSync code page"))?,
        None => parent_page
            .filter(|&p| p != Tag::LITERAL.page)
            .ok_or_else(|| format!("<{local}> has no namespace (e.g. xmlns=\"AirSync:\")"))?,
    };
    // Tokens without a name: <Unknown page="P" token="0xTT"> or the corpus form <unknown.P.0xTT>.
    let unknown = if local == "Unknown" {
        Some((
            page_attr.ok_or("<Unknown> needs a page attribute")?,
            token_attr.ok_or("<Unknown> needs a token attribute")?,
        ))
    } else {
        local
            .strip_prefix("unknown.")
            .and_then(|r| r.split_once('.'))
            .map(|(p, t)| (p.to_string(), t.to_string()))
    };
    if let Some((p, t)) = unknown {
        // The decoder rejects pages MS-ASWBXML does not define, so the reader does too.
        let page = p
            .parse::<u8>()
            .ok()
            .filter(|&n| usize::from(n) < super::codepages::PAGE_COUNT)
            .ok_or_else(|| format!("bad page {p:?} (ActiveSync code pages are 0-25)"))?;
        let token = t
            .strip_prefix("0x")
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .filter(|t| (0x05..=0x3F).contains(t))
            .ok_or_else(|| format!("bad token {t:?} (0x05-0x3F)"))?;
        return Ok((Tag::new(page, token), encoding));
    }
    let cp = codepages()
        .page(page)
        .ok_or_else(|| format!("code page {page} is not defined"))?;
    let token = cp
        .token_for(local)
        .ok_or_else(|| format!("{local:?} is not a tag of code page {} ({})", cp.number, cp.name))?;
    Ok((Tag::new(page, token), encoding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::to_xml;

    #[test]
    fn reads_what_the_renderer_writes() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Sync xmlns=\"AirSync:\">\n    <Collections>\n        <Collection>\n            <SyncKey>1</SyncKey>\n            <GetChanges/>\n            <Data xmlns=\"AirSyncBase:\"> a &amp; b&#xD;\n</Data>\n            <ConversationId xmlns=\"Email2:\" encoding=\"hex\">AB01</ConversationId>\n        </Collection>\n    </Collections>\n</Sync>\n";
        let doc = from_xml(xml).unwrap();
        assert_eq!(to_xml(&doc), xml);
    }

    #[test]
    fn reads_the_prefixed_corpus_form() {
        let xml = r#"<Sync xmlns="AirSync" xmlns:email2="Email2"><unknown.0.0x3F>1</unknown.0.0x3F><email2:ConversationId enc="base64">qw==</email2:ConversationId></Sync>"#;
        let doc = from_xml(xml).unwrap();
        let kids: Vec<_> = doc.root().unwrap().elements().collect();
        assert_eq!(kids[0].tag(), Tag::new(0, 0x3F));
        assert_eq!(kids[1].tag(), Tag::new(22, 0x09));
        assert_eq!(kids[1].content(), vec![0xAB]);
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = from_xml("<Sync xmlns=\"AirSync:\">\n  <Nope/>\n</Sync>").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message.contains("\"Nope\" is not a tag of code page 0 (AirSync)"),
            "{e}"
        );
        assert!(from_xml("<Sync/>").unwrap_err().message.contains("no namespace"));
        assert!(
            from_xml("<Sync xmlns=\"Foo:\"/>")
                .unwrap_err()
                .message
                .contains("not an ActiveSync code page")
        );
        assert!(from_xml("<Sync xmlns=\"AirSync:\">").is_err());
        assert!(from_xml("").unwrap_err().message.contains("no root"));
        let e = from_xml(r#"<Sync xmlns="AirSync:"><Unknown page="50" token="0x05"/></Sync>"#).unwrap_err();
        assert!(
            e.message.contains("bad page \"50\" (ActiveSync code pages are 0-25)"),
            "{e}"
        );
    }
}
