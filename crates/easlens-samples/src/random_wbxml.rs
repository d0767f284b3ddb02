//! A deterministic, seedable generator of random, well-formed ActiveSync documents for property
//! and differential tests.
//!
//! A document is generated as a small tree model ([`GenDoc`]) from a seed and a size budget; the
//! same `(seed, budget, options)` always gives the same document. The model is then written
//!
//! * as XML text in exactly the form [`easlens_core::wbxml::to_xml`] writes ([`GenDoc::xml`]): no
//!   prefixes, `xmlns="Page:"` whenever the page changes, four-space indentation, leaf text on one
//!   line, `encoding="base64"` / `encoding="hex"` for binary content, `<Unknown page="P"
//!   token="0xTT">` for tokens without a name — so `to_xml(from_xml(xml)) == xml` is testable;
//! * as WBXML by an encoder of its own ([`GenDoc::wbxml_variant`]) that picks, at random, among the
//!   legal encodings of the same tree (content split into several STR_I/OPAQUE chunks, redundant
//!   SWITCH_PAGEs, `4B 01` and `4B 03 00 01` empty elements, over-long mb_u_int32 lengths, header
//!   variants, an unused string table, trailing bytes after the root) — byte forms easlens's own
//!   encoder never produces ([`GenDoc::wbxml_variant_for_libwbxml`] leaves out the few libwbxml
//!   0.11.8 misreads);
//! * as generic WBXML 1.3 with a string table ([`GenDoc::wbxml_with_string_table`]): text as STR_T
//!   references (whole strings and tails), some elements as LITERAL tags named by the table, with
//!   attributes — what ActiveSync never sends but a generic encoder may, for comparing decoders.
//!
//! Tags come from the real code pages (spec and legacy tokens, all 26 pages) plus tokens no page
//! defines. Text mixes XML-special characters, non-ASCII UTF-8, leading/trailing whitespace, CR/LF
//! and control characters (STR_I can carry every character except NUL); binary content is opaque
//! data that is never valid text, shown as base64, and byte-array elements (ConversationId,
//! ConversationIndex) carry opaque bytes shown as hex. [`GenOptions::libwbxml`] keeps binary content
//! to the 8 tags libwbxml writes as base64.
//!
//! [`doc_strategy`] (feature `proptest`) wraps the generator as a proptest `Strategy` over `(seed, budget)`: shrinking
//! the budget shrinks the document. [`noise`] and [`mutate`] make byte strings for robustness tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use easlens_core::wbxml::Tag;
use easlens_core::wbxml::codepages::{Render, TokenStatus, codepages};
#[cfg(feature = "proptest")]
use proptest::prelude::*;

/// SplitMix64: tiny, fast, and good enough to drive a test generator. Same seed, same sequence.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// The 8 tags whose content libwbxml 0.11.8 always writes as base64 (STR_I or OPAQUE):
/// ResolveRecipients Data, Search ConversationId, GAL Data, AirSyncBase Content, ItemOperations
/// ConversationId, ComposeMail Mime, Email2 ConversationId and ConversationIndex. Every other
/// OPAQUE is written raw, so binary content elsewhere cannot be represented in its output.
pub const LIBWBXML_BASE64_TAGS: [(u8, u8); 8] = [
    (10, 0x1C),
    (15, 0x20),
    (16, 0x12),
    (17, 0x1F),
    (20, 0x18),
    (21, 0x10),
    (22, 0x09),
    (22, 0x0A),
];

pub fn libwbxml_base64_tag(tag: Tag) -> bool {
    LIBWBXML_BASE64_TAGS.contains(&(tag.page, tag.token))
}

/// True for tags shown as hex when their content is opaque (MS-ASDTYPE byte arrays).
pub fn hex_tag(tag: Tag) -> bool {
    codepages()
        .page(tag.page)
        .and_then(|p| p.token(tag.token))
        .is_some_and(|t| t.render == Render::Hex)
}

#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Upper bound on elements per document (the budget passed to [`GenDoc::generate`] is capped by it).
    pub max_elements: usize,
    /// Deepest nesting below the root.
    pub max_depth: usize,
    pub max_children: usize,
    /// Percent of elements that use a token no code page defines.
    pub unknown_percent: u32,
    /// Only what libwbxml can print faithfully: binary (non-text) opaque content only in
    /// [`LIBWBXML_BASE64_TAGS`]; everywhere else content is text.
    pub libwbxml_safe: bool,
}

impl GenOptions {
    /// For round-trip properties: everything the model can express.
    pub fn roundtrip() -> Self {
        GenOptions {
            max_elements: 60,
            max_depth: 9,
            max_children: 5,
            unknown_percent: 4,
            libwbxml_safe: false,
        }
    }

    /// For the libwbxml differential run.
    pub fn libwbxml() -> Self {
        GenOptions {
            libwbxml_safe: true,
            ..Self::roundtrip()
        }
    }
}

/// Content of a generated element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Empty,
    /// Non-empty UTF-8 text without NUL (what a STR_I carries).
    Text(String),
    /// Non-empty opaque bytes; shown as hex in byte-array elements, else as base64 (the generator
    /// makes sure the bytes are not shown as text: invalid UTF-8 or a control character).
    Opaque(Vec<u8>),
    Children(Vec<GNode>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GNode {
    pub tag: Tag,
    pub body: Body,
}

/// A generated document and the seed it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct GenDoc {
    pub seed: u64,
    pub root: GNode,
}

impl std::fmt::Debug for GenDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GenDoc(seed {:#x}):\n{}", self.seed, self.xml())
    }
}

/// Every named (page, token), split into spec and legacy, and every unnamed token of pages 0–25.
struct Tables {
    spec: Vec<Tag>,
    legacy: Vec<Tag>,
    unknown: Vec<Tag>,
    /// Tags typical for the root of a command.
    roots: Vec<Tag>,
}

fn tables() -> &'static Tables {
    static T: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let cp = codepages();
        let (mut spec, mut legacy, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
        for page in 0u8..26 {
            let p = cp.page(page).expect("pages 0-25 are defined");
            for token in 0x05u8..=0x3F {
                match p.token(token) {
                    Some(t) if t.status == TokenStatus::Spec => spec.push(Tag::new(page, token)),
                    Some(_) => legacy.push(Tag::new(page, token)),
                    None => unknown.push(Tag::new(page, token)),
                }
            }
        }
        let roots = [
            ("AirSync", "Sync"),
            ("FolderHierarchy", "FolderSync"),
            ("Ping", "Ping"),
            ("Provision", "Provision"),
            ("ItemOperations", "ItemOperations"),
            ("ComposeMail", "SendMail"),
            ("Search", "Search"),
            ("Settings", "Settings"),
            ("GetItemEstimate", "GetItemEstimate"),
            ("MeetingResponse", "MeetingResponse"),
            ("ResolveRecipients", "ResolveRecipients"),
            ("Move", "MoveItems"),
            ("Find", "Find"),
        ]
        .iter()
        .map(|(ns, name)| {
            let p = cp.page_for_namespace(ns).expect("namespace");
            Tag::new(p.number, p.token_for(name).expect("root tag"))
        })
        .collect();
        Tables {
            spec,
            legacy,
            unknown,
            roots,
        }
    })
}

/// Pieces text is assembled from: plain words, XML specials, non-ASCII, whitespace.
const WORDS: &[&str] = &[
    "1",
    "0",
    "42",
    "Inbox",
    "Funk, Don",
    "2:41",
    "{7A8C2A0B-1D5E-4B3C-9F00-0123456789AB}",
    "20260115T093000Z",
    "user@contoso.com",
    "Q3 budget",
    "a<b",
    "x > y",
    "Tom & Jerry",
    "&amp;",
    "&#x41;",
    "]]>",
    "<!-- no -->",
    "\"quoted\"",
    "it's",
    "<![CDATA[x]]>",
    "Bandeja de entrada",
    "Größe",
    "café",
    "日本語",
    "中文邮件",
    "שלום",
    "مرحبا",
    "😀",
    "e\u{301}",
    "\u{FEFF}bom",
    "\u{200B}",
    "\u{FFFD}",
];

const SPACES: &[&str] = &[" ", "  ", "\t", "\n", "\r\n", "\r", "\u{A0}", "\u{3000}"];

/// Characters XML 1.0 cannot carry literally; STR_I carries them (the renderer writes `&#xN;`).
const CONTROLS: &[char] = &[
    '\u{1}', '\u{7}', '\u{8}', '\u{B}', '\u{C}', '\u{E}', '\u{1B}', '\u{1F}', '\u{7F}', '\u{85}', '\u{FFFE}',
    '\u{FFFF}',
];

fn gen_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.chance(20) {
        s.push_str(rng.pick_str(SPACES));
    }
    for i in 0..rng.range(1, 4) {
        if i > 0 {
            s.push_str(if rng.chance(80) { " " } else { rng.pick_str(SPACES) });
        }
        s.push_str(rng.pick_str(WORDS));
        if rng.chance(10) {
            s.push(*rng.pick(CONTROLS));
        }
    }
    if rng.chance(20) {
        s.push_str(rng.pick_str(SPACES));
    }
    if rng.chance(3) {
        // A longer value (an HTML body, say).
        let line = s.clone();
        for _ in 0..rng.range(5, 40) {
            s.push_str("\r\n");
            s.push_str(&line);
        }
    }
    s
}

/// Opaque bytes that the renderer cannot show as text: invalid UTF-8, or UTF-8 with a control
/// character (the AOSP vectors send such text as OPAQUE).
fn gen_binary(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(25) {
        let mut s = gen_text(rng);
        s.push(*rng.pick(&['\u{0}', '\u{1}', '\u{1F}', '\u{7F}']));
        return s.into_bytes();
    }
    let n = if rng.chance(10) {
        rng.range(200, 600)
    } else {
        rng.range(1, 40)
    };
    let mut b = rng.bytes(n);
    let at = rng.below(n);
    b[at] = *rng.pick(&[0xFF, 0xFE, 0xC0, 0xC1]); // never part of valid UTF-8
    b
}

impl GenDoc {
    /// A document with at most `min(budget, options.max_elements)` elements (at least one).
    pub fn generate(seed: u64, budget: usize, options: &GenOptions) -> GenDoc {
        let mut rng = Rng::new(seed);
        let mut left = budget.clamp(1, options.max_elements.max(1));
        let t = tables();
        let root_tag = if rng.chance(75) {
            *rng.pick(&t.roots)
        } else {
            pick_tag(&mut rng, None, options)
        };
        left -= 1;
        let root = gen_node(&mut rng, root_tag, 0, &mut left, options);
        GenDoc { seed, root }
    }

    /// The document as [`to_xml`](easlens_core::wbxml::to_xml) writes it.
    pub fn xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        write_xml(&mut out, &self.root, None, 0);
        out
    }

    /// The document as WBXML, choosing at random (from `seed`) among legal encodings. Returns the
    /// bytes and the length of the document proper (`trailing` adds that many junk bytes after the
    /// root's END, which a decoder must ignore).
    pub fn wbxml_variant(&self, seed: u64, trailing: usize) -> (Vec<u8>, usize) {
        self.variant(seed, trailing, false)
    }

    /// [`wbxml_variant`](Self::wbxml_variant) without what libwbxml 0.11.8 cannot read: two
    /// SWITCH_PAGEs before the root (it prints the root as `<unknown/>` and drops the rest,
    /// reference section 5), trailing bytes that start with 0x43 (the grammar's `*pi` after the
    /// root: libwbxml parses a PI there and fails, exit 40, as ActiveSync has no attribute table),
    /// and `Data` content in several chunks (its SyncML `<Data>` hack then mis-nests the tree).
    pub fn wbxml_variant_for_libwbxml(&self, seed: u64, trailing: usize) -> (Vec<u8>, usize) {
        self.variant(seed, trailing, true)
    }

    fn variant(&self, seed: u64, trailing: usize, for_libwbxml: bool) -> (Vec<u8>, usize) {
        let mut rng = Rng::new(seed ^ 0xA5A5_0000_FFFF_1234);
        let mut out = Vec::new();
        write_header(&mut rng, &mut out);
        let mut page = 0u8;
        let root_page = self.root.tag.page;
        if for_libwbxml {
            if root_page != 0 || rng.chance(10) {
                out.extend_from_slice(&[0x00, root_page]);
                page = root_page;
            }
        } else if rng.chance(10) {
            out.extend_from_slice(&[0x00, 0x00]); // some encoders always start with SWITCH_PAGE 0
        }
        let lib = Lib {
            for_libwbxml,
            root: true,
        };
        write_wbxml(&mut rng, &mut out, &self.root, &mut page, lib);
        let end = out.len();
        out.extend(rng.bytes(trailing));
        if for_libwbxml && out.get(end) == Some(&0x43) {
            out[end] = 0xC3;
        }
        (out, end)
    }

    /// The document as generic WBXML 1.3 with a string table, as libwbxml 0.11.8 reads it
    /// faithfully (the same limits as [`wbxml_variant_for_libwbxml`](Self::wbxml_variant_for_libwbxml)):
    ///
    /// * about a third of the text values are STR_T references into the table, to a whole string
    ///   or to the tail of a longer one, sometimes after a STR_I chunk (`Data` content stays one
    ///   STR_I chunk, see [`wbxml_variant_for_libwbxml`](Self::wbxml_variant_for_libwbxml));
    /// * about one element in eight below the root that has no binary content is written as a
    ///   LITERAL tag (LITERAL, LITERAL_C, or with attributes LITERAL_A / LITERAL_AC) named by the
    ///   table, from [`LITERAL_NAMES`]; attribute names come from [`LITERAL_ATTRIBUTES`], values as
    ///   STR_I or STR_T;
    /// * the public id is 0x01, or 0 with the index of libwbxml's ActiveSync formal public
    ///   identifier in the table.
    ///
    /// Decoded, the tree differs from this model where LITERALs were written (they have names, not
    /// tokens), so the bytes are for comparing two decoders, not for round trips.
    pub fn wbxml_with_string_table(&self, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed ^ 0x5757_0000_1111_2222);
        let mut table = StringTable::default();
        let mut body = Vec::new();
        let mut page = 0u8;
        let root_page = self.root.tag.page;
        if root_page != 0 || rng.chance(10) {
            body.extend_from_slice(&[0x00, root_page]);
            page = root_page;
        }
        write_wbxml_with_table(&mut rng, &mut body, &self.root, &mut page, true, &mut table);
        let mut out = vec![0x03];
        if rng.chance(30) {
            let index = table.intern(ACTIVESYNC_FPI);
            out.push(0x00);
            mb_u_int32(&mut rng, &mut out, index);
        } else {
            out.push(0x01);
        }
        out.push(0x6A);
        mb_u_int32(&mut rng, &mut out, table.bytes.len() as u32);
        out.extend_from_slice(&table.bytes);
        out.extend_from_slice(&body);
        out
    }

    pub fn element_count(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |_, _| n += 1);
        n
    }

    /// Calls `f(node, depth)` for every element, depth-first.
    pub fn visit(&self, f: &mut dyn FnMut(&GNode, usize)) {
        let mut stack = vec![(&self.root, 0usize)];
        while let Some((n, d)) = stack.pop() {
            f(n, d);
            if let Body::Children(c) = &n.body {
                stack.extend(c.iter().rev().map(|c| (c, d + 1)));
            }
        }
    }
}

fn pick_tag(rng: &mut Rng, parent_page: Option<u8>, options: &GenOptions) -> Tag {
    let t = tables();
    if rng.chance(options.unknown_percent) {
        return *rng.pick(&t.unknown);
    }
    if rng.chance(3) {
        // The byte-array and binary-content elements are few among ~650 tags: favour them.
        let &(page, token) = rng.pick(&LIBWBXML_BASE64_TAGS);
        return Tag::new(page, token);
    }
    let pool = if rng.chance(12) { &t.legacy } else { &t.spec };
    // Mostly stay on the parent's page, as real documents do.
    if let Some(page) = parent_page.filter(|_| rng.chance(65)) {
        let same: Vec<Tag> = pool.iter().copied().filter(|t| t.page == page).collect();
        if !same.is_empty() {
            return *rng.pick(&same);
        }
    }
    *rng.pick(pool)
}

fn gen_node(rng: &mut Rng, tag: Tag, depth: usize, left: &mut usize, options: &GenOptions) -> GNode {
    let can_nest = depth < options.max_depth && *left > 0;
    let roll = rng.below(100);
    let body = if can_nest && (depth == 0 || roll < 45) {
        let n = rng.range(1, options.max_children).min(*left);
        *left -= n;
        let tags: Vec<Tag> = (0..n).map(|_| pick_tag(rng, Some(tag.page), options)).collect();
        Body::Children(
            tags.into_iter()
                .map(|t| gen_node(rng, t, depth + 1, left, options))
                .collect(),
        )
    } else if roll < 60 {
        Body::Empty
    } else if roll < 88 {
        Body::Text(gen_text(rng))
    } else if hex_tag(tag) {
        let n = if rng.chance(70) { 16 } else { rng.range(1, 24) };
        Body::Opaque(rng.bytes(n))
    } else if !options.libwbxml_safe || libwbxml_base64_tag(tag) {
        Body::Opaque(gen_binary(rng))
    } else {
        Body::Text(gen_text(rng))
    };
    // libwbxml-safe documents carry binary in the tags libwbxml base64s, and those often.
    let body = match body {
        Body::Text(_) | Body::Empty if options.libwbxml_safe && libwbxml_base64_tag(tag) && rng.chance(50) => {
            if hex_tag(tag) {
                Body::Opaque(rng.bytes(16))
            } else {
                Body::Opaque(gen_binary(rng))
            }
        }
        b => b,
    };
    GNode { tag, body }
}

// ---- XML in the renderer's form ----

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth.min(100) {
        out.push_str("    ");
    }
}

fn element_name(tag: Tag) -> &'static str {
    tag.name().unwrap_or("Unknown")
}

fn write_xml(out: &mut String, node: &GNode, parent_page: Option<u8>, depth: usize) {
    let tag = node.tag;
    indent(out, depth);
    out.push('<');
    match tag.name() {
        Some(n) => out.push_str(n),
        None => out.push_str(&format!("Unknown page=\"{}\" token=\"0x{:02X}\"", tag.page, tag.token)),
    }
    if parent_page != Some(tag.page) {
        out.push_str(&format!(" xmlns=\"{}:\"", tag.namespace().expect("pages 0-25")));
    }
    let close = |out: &mut String| {
        out.push_str("</");
        out.push_str(element_name(tag));
        out.push_str(">\n");
    };
    match &node.body {
        Body::Empty => out.push_str("/>\n"),
        Body::Text(s) => {
            out.push('>');
            escape_into(out, s);
            close(out);
        }
        Body::Opaque(b) if hex_tag(tag) => {
            out.push_str(" encoding=\"hex\">");
            out.push_str(&hex::encode_upper(b));
            close(out);
        }
        Body::Opaque(b) => {
            out.push_str(" encoding=\"base64\">");
            out.push_str(&BASE64.encode(b));
            close(out);
        }
        Body::Children(children) => {
            out.push_str(">\n");
            for c in children {
                write_xml(out, c, Some(tag.page), depth + 1);
            }
            indent(out, depth);
            close(out);
        }
    }
}

/// `<`, `>`, `&` as entities; characters XML 1.0 cannot carry (and CR) as `&#xN;`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{D}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                out.push_str(&format!("&#x{:X};", u32::from(c)))
            }
            c => out.push(c),
        }
    }
}

// ---- WBXML, by an encoder independent of easlens's ----

fn mb_u_int32(rng: &mut Rng, out: &mut Vec<u8>, v: u32) {
    let mut groups = Vec::new();
    let mut v = v;
    loop {
        groups.push((v & 0x7F) as u8);
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    // Over-long forms (leading 0x80 groups) are legal up to 5 bytes.
    if groups.len() < 5 && rng.chance(8) {
        groups.push(0);
    }
    for (i, g) in groups.iter().enumerate().rev() {
        out.push(g | if i > 0 { 0x80 } else { 0 });
    }
}

fn write_header(rng: &mut Rng, out: &mut Vec<u8>) {
    if rng.chance(80) {
        out.extend_from_slice(&[0x03, 0x01, 0x6A, 0x00]);
        return;
    }
    out.push(*rng.pick(&[0x03, 0x03, 0x02, 0x01]));
    if rng.chance(20) {
        out.push(0x00); // public id 0: a string-table index follows
        mb_u_int32(rng, out, 0);
    } else {
        mb_u_int32(rng, out, 1);
    }
    mb_u_int32(rng, out, 106);
    let table = if rng.chance(50) { rng.range(1, 12) } else { 0 };
    mb_u_int32(rng, out, table as u32);
    out.extend(rng.bytes(table));
}

fn switch_to(rng: &mut Rng, out: &mut Vec<u8>, page: &mut u8, want: u8, redundant_ok: bool) {
    if *page != want || (redundant_ok && rng.chance(4)) {
        out.extend_from_slice(&[0x00, want]);
        *page = want;
    }
}

/// Content as STR_I/OPAQUE chunks; `one_chunk` keeps it in one (see [`Lib`]).
fn write_chunks(rng: &mut Rng, out: &mut Vec<u8>, bytes: &[u8], prefer_opaque: bool, one_chunk: bool) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = if one_chunk || rng.chance(70) {
            rest.len()
        } else {
            rng.range(1, rest.len())
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let opaque = chunk.contains(&0) || if prefer_opaque { rng.chance(85) } else { rng.chance(10) };
        if opaque {
            out.push(0xC3);
            mb_u_int32(rng, out, chunk.len() as u32);
            out.extend_from_slice(chunk);
        } else {
            out.push(0x03);
            out.extend_from_slice(chunk);
            out.push(0x00);
        }
        if !one_chunk && rng.chance(3) {
            out.extend_from_slice(&[0x03, 0x00]); // an empty STR_I adds nothing
        }
    }
}

/// Whether the encoding must stay within what libwbxml 0.11.8 reads correctly, and whether this is
/// the root. libwbxml applies a SyncML hack to every language: the content of an element named
/// `Data` whose grandparent is named `Add` or `Replace` becomes a CDATA node; a second content
/// chunk then nests a CDATA inside it and all following siblings end up inside `<Data>`. So for
/// libwbxml, `Data` content is written as one chunk.
#[derive(Clone, Copy)]
struct Lib {
    for_libwbxml: bool,
    root: bool,
}

fn write_wbxml(rng: &mut Rng, out: &mut Vec<u8>, node: &GNode, page: &mut u8, lib: Lib) {
    switch_to(rng, out, page, node.tag.page, !(lib.for_libwbxml && lib.root));
    let one_chunk = lib.for_libwbxml && node.tag.name() == Some("Data");
    let token = node.tag.token;
    match &node.body {
        Body::Empty => match rng.below(20) {
            0 | 1 => out.extend_from_slice(&[token | 0x40, 0x01]),
            2 => out.extend_from_slice(&[token | 0x40, 0x03, 0x00, 0x01]),
            _ => out.push(token),
        },
        Body::Text(s) => {
            out.push(token | 0x40);
            write_chunks(rng, out, s.as_bytes(), false, one_chunk);
            out.push(0x01);
        }
        Body::Opaque(b) => {
            out.push(token | 0x40);
            write_chunks(rng, out, b, true, one_chunk);
            out.push(0x01);
        }
        Body::Children(children) => {
            out.push(token | 0x40);
            for c in children {
                write_wbxml(rng, out, c, page, Lib { root: false, ..lib });
            }
            out.push(0x01);
        }
    }
}

// ---- WBXML with a string table ----

/// libwbxml's formal public identifier for ActiveSync.
pub const ACTIVESYNC_FPI: &str = "-//MICROSOFT//DTD ActiveSync//EN";

/// Names for LITERAL tags: XML names that are no ActiveSync tag, and not the names libwbxml treats
/// specially (`unknown`, and `Data`, `Add`, `Replace` of its SyncML `<Data>` hack).
pub const LITERAL_NAMES: [&str; 8] = [
    "Item",
    "x-custom",
    "Property",
    "_private",
    "v2.field",
    "Ünïcode",
    "FolderInfo",
    "note",
];

/// Names for LITERAL attributes.
pub const LITERAL_ATTRIBUTES: [&str; 4] = ["id", "type", "lang", "x-ref"];

/// Attribute values: plain, empty, with spaces and XML-special characters, non-ASCII.
const ATTRIBUTE_VALUES: [&str; 7] = ["1", "", "a b", "<&>\"'", " lead", "naïve ✓", "x=y;z"];

/// A string table under construction: each string once, NUL-terminated.
#[derive(Default)]
struct StringTable {
    bytes: Vec<u8>,
    index: std::collections::HashMap<String, u32>,
}

impl StringTable {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        self.index.insert(s.to_string(), i);
        i
    }
}

/// Text as STR_I, or (in part) as a STR_T reference: to the whole string, or to its tail inside a
/// longer string of the table.
fn write_text_with_table(rng: &mut Rng, out: &mut Vec<u8>, text: &str, table: &mut StringTable, one_chunk: bool) {
    if one_chunk || !rng.chance(35) {
        out.push(0x03);
        out.extend_from_slice(text.as_bytes());
        out.push(0x00);
        return;
    }
    // Sometimes a STR_I head, then the rest by reference.
    let split = if rng.chance(25) {
        let mut at = rng.below(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    } else {
        0
    };
    let (head, tail) = text.split_at(split);
    if !head.is_empty() {
        out.push(0x03);
        out.extend_from_slice(head.as_bytes());
        out.push(0x00);
    }
    let index = if rng.chance(30) {
        // The tail of a longer string: the reference points inside it.
        let prefix = *rng.pick(&["zz", "ab c", "é"]);
        table.intern(&format!("{prefix}{tail}")) + prefix.len() as u32
    } else {
        table.intern(tail)
    };
    out.push(0x83);
    mb_u_int32(rng, out, index);
}

fn write_wbxml_with_table(
    rng: &mut Rng,
    out: &mut Vec<u8>,
    node: &GNode,
    page: &mut u8,
    root: bool,
    table: &mut StringTable,
) {
    let literal = !root && !matches!(node.body, Body::Opaque(_)) && rng.chance(12);
    let one_chunk = node.tag.name() == Some("Data");
    let has_content = !matches!(node.body, Body::Empty) || rng.chance(10);
    if literal {
        let name = table.intern(rng.pick_str(&LITERAL_NAMES));
        let attributes: Vec<&str> = match rng.below(10) {
            0..=5 => vec![],
            6..=8 => vec![rng.pick_str(&LITERAL_ATTRIBUTES)],
            _ => vec!["id", "type"],
        };
        out.push(0x04 | if has_content { 0x40 } else { 0 } | if attributes.is_empty() { 0 } else { 0x80 });
        mb_u_int32(rng, out, name);
        if !attributes.is_empty() {
            for a in attributes {
                out.push(0x04);
                let index = table.intern(a);
                mb_u_int32(rng, out, index);
                let value = rng.pick_str(&ATTRIBUTE_VALUES);
                if !value.is_empty() {
                    if rng.chance(50) {
                        out.push(0x03);
                        out.extend_from_slice(value.as_bytes());
                        out.push(0x00);
                    } else {
                        out.push(0x83);
                        let index = table.intern(value);
                        mb_u_int32(rng, out, index);
                    }
                }
            }
            out.push(0x01);
        }
    } else {
        switch_to(rng, out, page, node.tag.page, !root);
        out.push(node.tag.token | if has_content { 0x40 } else { 0 });
    }
    if !has_content {
        return;
    }
    match &node.body {
        Body::Empty => {}
        Body::Text(s) => write_text_with_table(rng, out, s, table, one_chunk),
        Body::Opaque(b) => write_chunks(rng, out, b, true, one_chunk),
        Body::Children(children) => {
            for c in children {
                write_wbxml_with_table(rng, out, c, page, false, table);
            }
        }
    }
    out.push(0x01);
}

// ---- proptest ----

/// Generated documents as a proptest strategy: `(seed, budget)`, so shrinking makes documents
/// smaller (a smaller budget cuts the same document short).
#[cfg(feature = "proptest")]
pub fn doc_strategy(options: GenOptions) -> impl Strategy<Value = GenDoc> {
    let max = options.max_elements.max(1);
    (any::<u64>(), 1..=max).prop_map(move |(seed, budget)| GenDoc::generate(seed, budget, &options))
}

/// Byte strings that look like WBXML often enough to get past the header: mostly a valid header,
/// then a random mix of tag bytes, SWITCH_PAGE, END, STR_I, OPAQUE (lengths sometimes too long)
/// and arbitrary bytes.
pub fn noise(seed: u64, max_tokens: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    if rng.chance(85) {
        write_header(&mut rng, &mut out);
    } else {
        let n = rng.range(0, 6);
        out.extend(rng.bytes(n));
    }
    let mut depth = 0usize;
    for _ in 0..rng.range(0, max_tokens) {
        match rng.below(100) {
            0..=29 => {
                out.push(rng.range(0x05, 0x3F) as u8 | 0x40);
                depth += 1;
            }
            30..=39 => out.push(rng.range(0x05, 0x3F) as u8),
            40..=59 => {
                if depth > 0 || rng.chance(10) {
                    out.push(0x01);
                    depth = depth.saturating_sub(1);
                }
            }
            60..=67 => out.extend_from_slice(&[
                0x00,
                if rng.chance(90) {
                    rng.range(0, 25) as u8
                } else {
                    rng.byte()
                },
            ]),
            68..=79 => {
                out.push(0x03);
                out.extend_from_slice(gen_text(&mut rng).as_bytes());
                if rng.chance(95) {
                    out.push(0x00);
                }
            }
            80..=87 => {
                let n = rng.range(0, 12);
                let data = rng.bytes(n);
                out.push(0xC3);
                let declared = if rng.chance(85) {
                    data.len() as u32
                } else {
                    rng.next_u64() as u32 >> rng.below(32)
                };
                mb_u_int32(&mut rng, &mut out, declared);
                out.extend_from_slice(&data);
            }
            _ => out.push(rng.byte()),
        }
    }
    if rng.chance(50) {
        out.extend(std::iter::repeat_n(0x01, depth));
    }
    out
}

/// A few random edits (flip, insert, delete, duplicate a range, cut) of `bytes`.
pub fn mutate(bytes: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut v = bytes.to_vec();
    for _ in 0..rng.range(1, 4) {
        if v.is_empty() {
            v.push(rng.byte());
            continue;
        }
        let at = rng.below(v.len());
        match rng.below(6) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => v[at] = rng.byte(),
            2 => v.insert(at, *rng.pick(&[0x00, 0x01, 0x03, 0xC3, 0x45, 0x80, 0xFF])),
            3 => {
                v.remove(at);
            }
            4 => {
                let end = rng.range(at, v.len());
                let range = v[at..end].to_vec();
                let to = rng.below(v.len());
                v.splice(to..to, range);
            }
            _ => v.truncate(at),
        }
    }
    v
}
