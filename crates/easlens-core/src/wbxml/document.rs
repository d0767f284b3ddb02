//! The decoded document: a flat arena of nodes with all content bytes in one buffer.
//!
//! Flat storage keeps a 10 MiB body to a few allocations, and means no operation on the tree
//! (building, walking, dropping, comparing) recurses, however deep the input nests.

use super::codepages::{Render, codepages};

pub(crate) const NONE: u32 = u32::MAX;

/// A tag: code page and token (0x05–0x3F).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    pub page: u8,
    pub token: u8,
}

impl Tag {
    /// The tag of every LITERAL element (its name is in the string table, see
    /// [`Element::literal`]): token 0x04 is the LITERAL global token, never a tag token, and page
    /// 255 is no code page, so it has no name or namespace and equals no tokenised tag.
    pub const LITERAL: Tag = Tag {
        page: 0xFF,
        token: 0x04,
    };

    pub fn new(page: u8, token: u8) -> Self {
        Tag { page, token }
    }

    /// The spec name, or `None` for a token its page does not define.
    pub fn name(self) -> Option<&'static str> {
        codepages().name(self.page, self.token)
    }

    /// Namespace without trailing colon, or `None` for a page ActiveSync does not define.
    pub fn namespace(self) -> Option<&'static str> {
        codepages().page(self.page).map(|p| p.namespace)
    }

    pub(crate) fn render(self) -> Render {
        codepages()
            .page(self.page)
            .and_then(|p| p.token(self.token))
            .map_or(Render::Base64, |t| t.render)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Element(Tag),
    /// A LITERAL element: its name and attributes are `Document::literals[index]`.
    Literal(u32),
    /// Content bytes `data[start..start + len]`; `opaque` when any chunk came as OPAQUE.
    Data {
        start: u32,
        len: u32,
        opaque: bool,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) first_child: u32,
    pub(crate) last_child: u32,
    pub(crate) next_sibling: u32,
}

/// The WBXML header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub public_id: u32,
    pub charset: u32,
}

impl Default for Header {
    /// The header every ActiveSync peer sends: `03 01 6A 00`.
    fn default() -> Self {
        Header {
            version: 0x03,
            public_id: 0x01,
            charset: 106,
        }
    }
}

/// Something odd but harmless found while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.message)
    }
}

/// The name and attributes of an element whose tag is a LITERAL: a name from the string table
/// instead of a code-page token (WBXML 1.3 section 5.8.4.5). ActiveSync does not use them
/// ([MS-ASWBXML] 2.1.3), but a generic WBXML encoder may write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub name: String,
    /// `(name, value)` in document order; names come from the string table too.
    pub attributes: Vec<(String, String)>,
}

/// A WBXML document. Node 0 is the root element (absent only in an empty partial decode).
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub header: Header,
    pub warnings: Vec<Warning>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) data: Vec<u8>,
    /// Names and attributes of LITERAL elements ([`Kind::Literal`] indexes this).
    pub(crate) literals: Vec<Literal>,
}

/// A child of an element.
#[derive(Debug, Clone, Copy)]
pub enum Child<'a> {
    Element(Element<'a>),
    /// Content bytes; `opaque` when they arrived (at least partly) as OPAQUE.
    Data {
        bytes: &'a [u8],
        opaque: bool,
    },
}

/// A borrowed view of one element.
#[derive(Clone, Copy)]
pub struct Element<'a> {
    doc: &'a Document,
    id: u32,
}

impl std::fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.display_name())
    }
}

impl<'a> Element<'a> {
    /// The code page and token; [`Tag::LITERAL`] for a LITERAL element.
    pub fn tag(&self) -> Tag {
        match self.doc.nodes[self.id as usize].kind {
            Kind::Element(t) => t,
            Kind::Literal(_) => Tag::LITERAL,
            Kind::Data { .. } => unreachable!("Element always points at an element node"),
        }
    }

    /// The spec name, or `None` for an unknown token or a LITERAL element (see [`Element::literal`]).
    pub fn name(&self) -> Option<&'static str> {
        self.tag().name()
    }

    /// The name and attributes of a LITERAL element (a tag named by the string table).
    pub fn literal(&self) -> Option<&'a Literal> {
        match self.doc.nodes[self.id as usize].kind {
            Kind::Literal(i) => self.doc.literals.get(i as usize),
            _ => None,
        }
    }

    /// `Page.Name` style label for messages (`AirSync.Sync`, `Unknown(3, 0x3F)`, or
    /// `Literal(Name)`).
    pub fn display_name(&self) -> String {
        if let Some(l) = self.literal() {
            return format!("Literal({})", l.name);
        }
        let t = self.tag();
        match (t.namespace(), t.name()) {
            (Some(ns), Some(n)) => format!("{ns}.{n}"),
            _ => format!("Unknown({}, 0x{:02X})", t.page, t.token),
        }
    }

    pub fn children(&self) -> Children<'a> {
        Children {
            doc: self.doc,
            next: self.doc.nodes[self.id as usize].first_child,
        }
    }

    /// Child elements only.
    pub fn elements(&self) -> impl Iterator<Item = Element<'a>> + 'a {
        self.children().filter_map(|c| match c {
            Child::Element(e) => Some(e),
            Child::Data { .. } => None,
        })
    }

    /// The first child element with this spec name (any page).
    pub fn child(&self, name: &str) -> Option<Element<'a>> {
        self.elements().find(|e| e.name() == Some(name))
    }

    /// All content bytes directly inside this element, concatenated.
    pub fn content(&self) -> Vec<u8> {
        self.data().0
    }

    /// [`Element::content`], and whether any of it was sent as OPAQUE (binary) data.
    pub fn data(&self) -> (Vec<u8>, bool) {
        let (mut out, mut any_opaque) = (Vec::new(), false);
        for c in self.children() {
            if let Child::Data { bytes, opaque } = c {
                out.extend_from_slice(bytes);
                any_opaque |= opaque;
            }
        }
        (out, any_opaque)
    }

    /// The content as text, when it is valid UTF-8.
    pub fn text(&self) -> Option<String> {
        String::from_utf8(self.content()).ok()
    }

    pub fn has_children(&self) -> bool {
        self.doc.nodes[self.id as usize].first_child != NONE
    }

    /// The element's node number in its document: the same bytes decoded again give the same
    /// numbers, so a view of a body can find an element that an analysis of that body recorded.
    pub fn node_id(&self) -> u32 {
        self.id
    }
}

pub struct Children<'a> {
    doc: &'a Document,
    next: u32,
}

impl<'a> Iterator for Children<'a> {
    type Item = Child<'a>;
    fn next(&mut self) -> Option<Child<'a>> {
        let id = self.next;
        let node = self.doc.nodes.get(id as usize)?;
        self.next = node.next_sibling;
        Some(match node.kind {
            Kind::Element(_) | Kind::Literal(_) => Child::Element(Element { doc: self.doc, id }),
            Kind::Data { start, len, opaque } => Child::Data {
                bytes: &self.doc.data[start as usize..(start + len) as usize],
                opaque,
            },
        })
    }
}

/// A step of a depth-first walk.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    Start(Element<'a>),
    Data { bytes: &'a [u8], opaque: bool },
    End(Element<'a>),
}

impl Document {
    pub fn root(&self) -> Option<Element<'_>> {
        match self.nodes.first()?.kind {
            Kind::Element(_) | Kind::Literal(_) => Some(Element { doc: self, id: 0 }),
            Kind::Data { .. } => None,
        }
    }

    /// Number of elements.
    pub fn element_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Element(_) | Kind::Literal(_)))
            .count()
    }

    /// Number of nodes: elements plus content runs (what [`Budget::max_nodes`] counts).
    ///
    /// [`Budget::max_nodes`]: super::decode::Budget::max_nodes
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Whether any element is a LITERAL (named by the string table).
    pub fn has_literals(&self) -> bool {
        !self.literals.is_empty()
    }

    /// Depth-first walk without recursion.
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            doc: self,
            stack: Vec::new(),
            next: if self.nodes.is_empty() { NONE } else { 0 },
        }
    }

    // ---- building (decoder, XML reader) ----

    pub(crate) fn push_node(&mut self, parent: Option<u32>, kind: Kind) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        if let Some(p) = parent {
            let last = self.nodes[p as usize].last_child;
            if last == NONE {
                self.nodes[p as usize].first_child = id;
            } else {
                self.nodes[last as usize].next_sibling = id;
            }
            self.nodes[p as usize].last_child = id;
        }
        id
    }

    /// Starts an element under `parent` (or the root when `None`).
    pub(crate) fn start_element(&mut self, parent: Option<u32>, tag: Tag) -> u32 {
        self.push_node(parent, Kind::Element(tag))
    }

    /// Starts a LITERAL element under `parent` (or the root when `None`).
    pub(crate) fn start_literal(&mut self, parent: Option<u32>, literal: Literal) -> u32 {
        let index = self.literals.len() as u32;
        self.literals.push(literal);
        self.push_node(parent, Kind::Literal(index))
    }

    /// Appends content to `parent`, merging with directly preceding content (WBXML splits
    /// content into several STR_I/OPAQUE chunks; they form one value).
    pub(crate) fn append_data(&mut self, parent: u32, bytes: &[u8], opaque: bool) {
        if bytes.is_empty() {
            return;
        }
        let last = self.nodes[parent as usize].last_child;
        // Extend the preceding content node when its bytes end the buffer.
        if let Some(Node {
            kind: Kind::Data { start, len, opaque: o },
            ..
        }) = self.nodes.get_mut(last as usize)
            && (*start + *len) as usize == self.data.len()
        {
            *len += bytes.len() as u32;
            *o |= opaque;
            self.data.extend_from_slice(bytes);
            return;
        }
        let start = self.data.len() as u32;
        self.data.extend_from_slice(bytes);
        self.push_node(
            Some(parent),
            Kind::Data {
                start,
                len: bytes.len() as u32,
                opaque,
            },
        );
    }

    /// True when both documents have the same tree: tags (and the names and attributes of LITERAL
    /// elements), nesting and content bytes. Whether content travelled as STR_I, STR_T or OPAQUE,
    /// the header, and warnings are not compared.
    pub fn same_tree(&self, other: &Document) -> bool {
        let (mut a, mut b) = (self.walk(), other.walk());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) => {
                    let same = match (x, y) {
                        (Event::Start(x), Event::Start(y)) | (Event::End(x), Event::End(y)) => {
                            x.tag() == y.tag() && x.literal() == y.literal()
                        }
                        (Event::Data { bytes: x, .. }, Event::Data { bytes: y, .. }) => x == y,
                        _ => false,
                    };
                    if !same {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

pub struct Walk<'a> {
    doc: &'a Document,
    stack: Vec<u32>,
    next: u32,
}

impl<'a> Iterator for Walk<'a> {
    type Item = Event<'a>;
    fn next(&mut self) -> Option<Event<'a>> {
        let doc = self.doc;
        if self.next == NONE {
            // Close the innermost open element and continue with its next sibling.
            let id = self.stack.pop()?;
            let node = &doc.nodes[id as usize];
            self.next = if self.stack.is_empty() { NONE } else { node.next_sibling };
            return Some(Event::End(Element { doc, id }));
        }
        let id = self.next;
        let node = &doc.nodes[id as usize];
        match node.kind {
            Kind::Element(_) | Kind::Literal(_) => {
                self.stack.push(id);
                self.next = node.first_child;
                Some(Event::Start(Element { doc, id }))
            }
            Kind::Data { start, len, opaque } => {
                self.next = node.next_sibling;
                Some(Event::Data {
                    bytes: &doc.data[start as usize..(start + len) as usize],
                    opaque,
                })
            }
        }
    }
}
