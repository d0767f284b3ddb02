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
//!
//! [`to_styled_xml`] writes the same text and also says what each piece is (tag name, attribute,
//! value, text) and where each element starts, so a viewer colours and annotates the document
//! from the tree instead of lexing the text again.
//!
//! A LITERAL element (a tag named by the string table, not a code-page token) is in no
//! namespace: it is written with its name, `xmlns=""` (so that it cannot be taken for a tag of
//! its parent's page) and its attributes: `<Foo xmlns="" bar="v">`. libwbxml writes the same
//! name and attributes without the `xmlns=""`.
//!
//! Output is capped at [`MAX_OUTPUT`] bytes, checked between pieces and within large content, so
//! rendering a document the decoding budget allowed cannot take more memory than the cap.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::escape::partial_escape;

use super::codepages::Render;
use super::document::{Child, Children, Document, Element, Tag};

pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const INDENT: &str = "    ";
/// Deeper levels are not indented further: a hostile 1,000,000-deep document must not produce
/// gigabytes of spaces. Real ActiveSync documents stay below 20 levels.
const MAX_INDENT_LEVELS: usize = 32;
/// Rendering stops here with a visible marker: each 1-byte token becomes a whole line of XML, and
/// content can grow 6× (control characters as references), so a body within the decoding budget
/// could otherwise ask for gigabytes. A real 10 MiB Sync response (the biggest realistic body)
/// renders to 27 MB, with 2.3 million styled spans; 128 MiB is 4.7 times that.
pub const MAX_OUTPUT: usize = 128 << 20;
/// Large base64/hex content is written in pieces of this many input bytes (a multiple of 3), so
/// that a 256 MiB value stops at the cap instead of being encoded whole first.
const CONTENT_PIECE: usize = 3 << 20;
/// Processing instruction that carries binary content inside mixed content.
pub const BINARY_PI: &str = "easlens-base64";

/// How a content value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentForm {
    Text,
    Base64,
    Hex,
}

/// What a piece of rendered XML is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlPart {
    /// `<`, `</`, `>`, `/>`, `=`, `?>`, spaces between attributes, the line layout.
    Punct,
    /// An element name (or `xml` / the processing-instruction target).
    Name,
    /// An attribute name (`xmlns`, `encoding`, …) or a processing instruction's data.
    Attr,
    /// A quoted attribute value, quotes included.
    Value,
    /// Element content.
    Text,
}

/// XML text as [`to_xml`] writes it, with what each piece is and where each element starts.
/// Offsets are `u32`: the text is at most [`MAX_OUTPUT`] plus one piece, far below 4 GiB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StyledXml {
    pub text: String,
    /// `(byte offset, part)`: the part runs from its offset to the next one's (or the end).
    pub spans: Vec<(u32, XmlPart)>,
    /// `(node id, byte offset of its '<')` for every element written, in document order.
    pub elements: Vec<(u32, u32)>,
}

impl StyledXml {
    /// The spans overlapping `range`, cut to it: `(range, part)`.
    pub fn spans_in(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (std::ops::Range<usize>, XmlPart)> + '_ {
        let first = self
            .spans
            .partition_point(|&(start, _)| start as usize <= range.start)
            .saturating_sub(1);
        let end_of = move |i: usize| self.spans.get(i + 1).map_or(self.text.len(), |&(s, _)| s as usize);
        (first..self.spans.len())
            .take_while(move |&i| (self.spans[i].0 as usize) < range.end)
            .map(move |i| {
                let (start, part) = self.spans[i];
                ((start as usize).max(range.start)..end_of(i).min(range.end), part)
            })
            .filter(|(r, _)| !r.is_empty())
    }

    /// The byte offset where element `node` starts, when it was written.
    pub fn element_offset(&self, node: u32) -> Option<usize> {
        self.elements
            .iter()
            .find(|&&(id, _)| id == node)
            .map(|&(_, offset)| offset as usize)
    }
}

/// The XML text itself: a styled rendering reads wherever the plain text does.
impl std::ops::Deref for StyledXml {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

/// Where rendered XML goes: a plain string ([`to_xml`]) or a [`StyledXml`].
trait Sink {
    fn put(&mut self, s: &str, part: XmlPart);
    fn len(&self) -> usize;
    /// Element `id` starts here (before its `<`).
    fn element(&mut self, _id: u32) {}
}

impl Sink for String {
    fn put(&mut self, s: &str, _: XmlPart) {
        self.push_str(s);
    }
    fn len(&self) -> usize {
        String::len(self)
    }
}

impl Sink for StyledXml {
    fn put(&mut self, s: &str, part: XmlPart) {
        if s.is_empty() {
            return;
        }
        if self.spans.last().is_none_or(|&(_, last)| last != part) {
            self.spans.push((self.text.len() as u32, part));
        }
        self.text.push_str(s);
    }
    fn len(&self) -> usize {
        self.text.len()
    }
    fn element(&mut self, id: u32) {
        self.elements.push((id, self.text.len() as u32));
    }
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
///
/// Mixed content (content beside child elements; never valid ActiveSync, but a decoder sees it in
/// damaged bodies) is written inline, without layout whitespace, so that it reads back exactly:
/// text as text, binary runs as `<?easlens-base64 …?>` processing instructions.
pub fn to_xml(doc: &Document) -> String {
    let mut out = String::with_capacity(capacity(doc));
    render(doc, &mut out);
    out
}

/// [`to_xml`]'s text with what each piece is and where each element starts.
pub fn to_styled_xml(doc: &Document) -> StyledXml {
    let mut out = StyledXml {
        text: String::with_capacity(capacity(doc)),
        ..StyledXml::default()
    };
    render(doc, &mut out);
    out
}

/// A first guess at the output's size, never more than the cap.
fn capacity(doc: &Document) -> usize {
    (doc.data.len() + doc.nodes.len() * 24 + 64).min(MAX_OUTPUT)
}

/// The marker written where the output is cut.
fn truncated(out: &mut impl Sink) {
    out.put(
        &format!(
            "\n<!-- output truncated after {} MiB: the document is too large to show whole -->\n",
            MAX_OUTPUT >> 20
        ),
        XmlPart::Punct,
    );
}

/// Writes `bytes` as base64 or upper-case hex in pieces, stopping at the cap; false when cut.
fn write_binary(out: &mut impl Sink, bytes: &[u8], form: ContentForm, part: XmlPart) -> bool {
    for piece in bytes.chunks(CONTENT_PIECE) {
        if out.len() > MAX_OUTPUT {
            return false;
        }
        match form {
            ContentForm::Hex => out.put(&hex::encode_upper(piece), part),
            _ => out.put(&BASE64.encode(piece), part),
        }
    }
    true
}

fn render(doc: &Document, out: &mut impl Sink) {
    declaration(out);
    out.put("\n", XmlPart::Punct);
    let Some(root) = doc.root() else { return };
    // Explicit stack of open elements — no recursion. `inline`: inside mixed content.
    struct Frame<'a> {
        element: Element<'a>,
        children: Children<'a>,
        inline: bool,
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    open_tag(out, root, None, 0, false);
    let mut pending = Some(root);
    loop {
        if out.len() > MAX_OUTPUT {
            truncated(out);
            return;
        }
        if let Some(e) = pending.take() {
            let parent_inline = stack.last().is_some_and(|f| f.inline);
            let inline = parent_inline || is_mixed(e);
            match finish_open_tag(out, e, parent_inline, inline) {
                Some(true) => stack.push(Frame {
                    element: e,
                    children: e.children(),
                    inline,
                }),
                Some(false) => {}
                None => {
                    truncated(out);
                    return;
                }
            }
        }
        let Some(frame) = stack.last_mut() else { break };
        let (parent, inline) = (frame.element, frame.inline);
        match frame.children.next() {
            Some(Child::Element(child)) => {
                let depth = stack.len();
                open_tag(out, child, Some(parent), depth, inline);
                pending = Some(child);
            }
            Some(Child::Data { bytes, opaque }) => match content_form(parent.tag(), bytes, opaque) {
                ContentForm::Text => {
                    if !write_text(out, bytes, true) {
                        truncated(out);
                        return;
                    }
                }
                _ => {
                    out.put("<?", XmlPart::Punct);
                    out.put(BINARY_PI, XmlPart::Name);
                    out.put(" ", XmlPart::Punct);
                    if !write_binary(out, bytes, ContentForm::Base64, XmlPart::Attr) {
                        truncated(out);
                        return;
                    }
                    out.put("?>", XmlPart::Punct);
                }
            },
            None => {
                stack.pop();
                if !inline {
                    indent(out, stack.len());
                }
                close_tag(out, parent);
                if !stack.last().is_some_and(|f| f.inline) {
                    out.put("\n", XmlPart::Punct);
                }
            }
        }
    }
}

/// `<?xml version="1.0" encoding="utf-8"?>`, piece by piece.
fn declaration(out: &mut impl Sink) {
    out.put("<?", XmlPart::Punct);
    out.put("xml", XmlPart::Name);
    out.put(" ", XmlPart::Punct);
    out.put("version", XmlPart::Attr);
    out.put("=", XmlPart::Punct);
    out.put("\"1.0\"", XmlPart::Value);
    out.put(" ", XmlPart::Punct);
    out.put("encoding", XmlPart::Attr);
    out.put("=", XmlPart::Punct);
    out.put("\"utf-8\"", XmlPart::Value);
    out.put("?>", XmlPart::Punct);
}

/// ` name="value"`, the value written in pieces (no allocation on the hot path).
fn attribute(out: &mut impl Sink, name: &str, value: &[&str]) {
    out.put(" ", XmlPart::Punct);
    out.put(name, XmlPart::Attr);
    out.put("=", XmlPart::Punct);
    out.put("\"", XmlPart::Value);
    for piece in value {
        out.put(piece, XmlPart::Value);
    }
    out.put("\"", XmlPart::Value);
}

/// An element with both content and child elements.
fn is_mixed(e: Element<'_>) -> bool {
    let (mut data, mut elements) = (false, false);
    for c in e.children() {
        match c {
            Child::Data { .. } => data = true,
            Child::Element(_) => elements = true,
        }
    }
    data && elements
}

fn indent(out: &mut impl Sink, depth: usize) {
    for _ in 0..depth.min(MAX_INDENT_LEVELS) {
        out.put(INDENT, XmlPart::Punct);
    }
}

/// Writes `<Name` plus its namespace and identity attributes (the tag is left open).
fn open_tag(out: &mut impl Sink, e: Element<'_>, parent: Option<Element<'_>>, depth: usize, inline: bool) {
    if !inline {
        indent(out, depth);
    }
    out.element(e.node_id());
    out.put("<", XmlPart::Punct);
    if let Some(literal) = e.literal() {
        out.put(&literal.name, XmlPart::Name);
        // No namespace; a LITERAL child of a LITERAL element inherits that.
        if parent.is_none_or(|p| p.literal().is_none()) {
            attribute(out, "xmlns", &[""]);
        }
        for (name, value) in &literal.attributes {
            out.put(" ", XmlPart::Punct);
            out.put(name, XmlPart::Attr);
            out.put("=", XmlPart::Punct);
            out.put("\"", XmlPart::Value);
            write_attribute_value(out, value);
            out.put("\"", XmlPart::Value);
        }
        return;
    }
    let tag = e.tag();
    match tag.name() {
        Some(n) => out.put(n, XmlPart::Name),
        None => {
            out.put("Unknown", XmlPart::Name);
            attribute(out, "page", &[&tag.page.to_string()]);
            attribute(out, "token", &[&format!("0x{:02X}", tag.token)]);
        }
    }
    if parent.is_none_or(|p| p.tag().page != tag.page)
        && let Some(ns) = tag.namespace()
    {
        attribute(out, "xmlns", &[ns, ":"]);
    }
}

/// An attribute value: `&`, `<`, `"` escaped, and whitespace other than the space and characters
/// XML cannot carry literally as references, so that a reader's attribute-value normalisation
/// gives back the same string.
fn write_attribute_value(out: &mut impl Sink, value: &str) {
    let mut rest = value;
    while let Some(i) = rest.find(|c: char| matches!(c, '&' | '<' | '"' | '\t' | '\n') || needs_char_ref(c)) {
        out.put(&rest[..i], XmlPart::Value);
        let c = rest[i..].chars().next().unwrap_or_default();
        let escaped = match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '"' => "&quot;".to_string(),
            c => format!("&#x{:X};", u32::from(c)),
        };
        out.put(&escaped, XmlPart::Value);
        rest = &rest[i + c.len_utf8()..];
    }
    out.put(rest, XmlPart::Value);
}

fn close_tag(out: &mut impl Sink, e: Element<'_>) {
    out.put("</", XmlPart::Punct);
    match e.literal() {
        Some(l) => out.put(&l.name, XmlPart::Name),
        None => out.put(e.name().unwrap_or("Unknown"), XmlPart::Name),
    }
    out.put(">", XmlPart::Punct);
}

/// Finishes an opened tag: an empty element or a leaf is written whole; returns true when the
/// element has children still to be written, `None` when its content reached the cap.
fn finish_open_tag<S: Sink>(out: &mut S, e: Element<'_>, parent_inline: bool, inline: bool) -> Option<bool> {
    let mut children = e.children();
    let end_line = |out: &mut dyn Sink| {
        if !parent_inline {
            out.put("\n", XmlPart::Punct);
        }
    };
    match (children.next(), children.next()) {
        (None, _) => {
            out.put("/>", XmlPart::Punct);
            end_line(out);
            Some(false)
        }
        (Some(Child::Data { bytes, opaque }), None) => {
            match content_form(e.tag(), bytes, opaque) {
                ContentForm::Text => {
                    out.put(">", XmlPart::Punct);
                    if !write_text(out, bytes, false) {
                        return None;
                    }
                }
                form => {
                    let name = if form == ContentForm::Hex { "hex" } else { "base64" };
                    attribute(out, "encoding", &[name]);
                    out.put(">", XmlPart::Punct);
                    if !write_binary(out, bytes, form, XmlPart::Text) {
                        return None;
                    }
                }
            }
            close_tag(out, e);
            end_line(out);
            Some(false)
        }
        _ => {
            out.put(">", XmlPart::Punct);
            if !inline {
                out.put("\n", XmlPart::Punct);
            }
            Some(true)
        }
    }
}

/// True for characters XML 1.0 cannot carry literally (section 2.2), plus CR, which parsers
/// would normalise away.
fn needs_char_ref(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{D}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Escaped UTF-8 text; callers have checked that `bytes` is UTF-8. In mixed content a run of
/// only whitespace is written as character references, so that a reader cannot take it for layout.
/// Long text is written in pieces, stopping at the cap; false when cut.
fn write_text(out: &mut impl Sink, bytes: &[u8], mixed: bool) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return true;
    };
    if mixed && s.trim().is_empty() {
        for c in s.chars() {
            if out.len() > MAX_OUTPUT {
                return false;
            }
            out.put(&format!("&#x{:X};", u32::from(c)), XmlPart::Text);
        }
        return true;
    }
    let mut rest = s;
    while !rest.is_empty() {
        if out.len() > MAX_OUTPUT {
            return false;
        }
        let mut cut = rest.len().min(CONTENT_PIECE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (mut piece, tail) = rest.split_at(cut);
        rest = tail;
        while let Some(i) = piece.find(needs_char_ref) {
            out.put(&partial_escape(&piece[..i]), XmlPart::Text);
            let c = piece[i..].chars().next().unwrap_or_default();
            out.put(&format!("&#x{:X};", u32::from(c)), XmlPart::Text);
            piece = &piece[i + c.len_utf8()..];
        }
        out.put(&partial_escape(piece), XmlPart::Text);
    }
    true
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
    fn styled_xml_names_each_piece() {
        let bytes = hdr(&[
            0x45, 0x4E, 0x03, b'3', 0, 0x01, 0x00, 22, 0x49, 0xC3, 1, 0xAB, 0x01, 0x01,
        ]);
        let doc = decode(&bytes).unwrap();
        let styled = to_styled_xml(&doc);
        assert_eq!(styled.text, to_xml(&doc));
        let pieces: Vec<(&str, XmlPart)> = styled
            .spans_in(0..styled.text.len())
            .map(|(r, part)| (&styled.text[r], part))
            .collect();
        let status = pieces.iter().position(|&(t, _)| t == "Status").unwrap();
        assert_eq!(
            pieces[status - 1..status + 5],
            [
                (">\n    <", XmlPart::Punct),
                ("Status", XmlPart::Name),
                (">", XmlPart::Punct),
                ("3", XmlPart::Text),
                ("</", XmlPart::Punct),
                ("Status", XmlPart::Name),
            ]
        );
        assert!(pieces.contains(&("xmlns", XmlPart::Attr)));
        assert!(pieces.contains(&("\"Email2:\"", XmlPart::Value)));
        assert!(pieces.contains(&("AB", XmlPart::Text)));
        // Every element's offset is its start tag; a line's spans are cut to the line.
        for e in [doc.root().unwrap()].into_iter().chain(doc.root().unwrap().elements()) {
            let at = styled.element_offset(e.node_id()).unwrap();
            assert!(styled.text[at..].starts_with(&format!("<{}", e.name().unwrap())));
        }
        let line = styled.text.find("    <Status>").unwrap();
        let cut: String = styled
            .spans_in(line + 4..line + 12)
            .map(|(r, _)| &styled.text[r])
            .collect();
        assert_eq!(cut, "<Status>");
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
    fn mixed_content_is_written_inline_and_reads_back_exactly() {
        // Found by fuzzing: content beside child elements, whitespace-only or binary.
        for hex_input in [
            "03016a00450320000501",
            "03016a0045c301ff0501",
            "03016a00455c4f343d3119039e4700313918010101",
            "03016a004503206100054b033100010320620001",
        ] {
            let doc = decode(&hex::decode(hex_input).unwrap()).unwrap();
            let xml = to_xml(&doc);
            let back = crate::wbxml::from_xml(&xml).unwrap_or_else(|e| panic!("{hex_input}: {e}\n{xml}"));
            assert!(back.same_tree(&doc), "{hex_input}:\n{xml}");
        }
        let xml = to_xml(&decode(&hex::decode("03016a0045c301ff054b0331000101").unwrap()).unwrap());
        assert!(
            xml.contains("<Sync xmlns=\"AirSync:\"><?easlens-base64 /w==?><Sync/><SyncKey>1</SyncKey></Sync>"),
            "{xml}"
        );
    }

    #[test]
    fn hostile_documents_do_not_render_unbounded_output() {
        // 200,000 nested unknown elements: indentation stops growing after 32 levels.
        let mut body = vec![0x03, 0x01, 0x6A, 0x00];
        body.extend(std::iter::repeat_n(0x7F, 200_000));
        let partial = decode(&body).unwrap_err().partial;
        let xml = to_xml(&partial);
        assert!(xml.len() < 200_000 * 2 * (32 * 4 + 40), "{} bytes", xml.len());
        assert!(xml.lines().all(|l| l.len() < 32 * 4 + 60));
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
