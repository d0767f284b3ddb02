//! WBXML → [`Document`], as ActiveSync uses WBXML 1.3 ([MS-ASWBXML] section 2.1.2, WBXML 1.2
//! section 5). Never panics and never recurses: on malformed input it returns a [`DecodeError`]
//! naming the byte offset and what was expected, with the tree decoded up to that point.
//!
//! Hand-written on purpose: the grammar is small, and what easlens needs from it (code pages as
//! data, every unknown token kept, partial trees with byte offsets, a memory budget, ActiveSync's
//! quirks) is what no maintained WBXML crate offers.
//!
//! What one decode may build is bounded by a [`Budget`] (nodes, nesting depth, content bytes): the
//! tree costs about 24 bytes per node, so a small hostile body of nested or empty sibling tags
//! would otherwise ask for gigabytes. Past the budget, decoding stops with
//! [`ErrorKind::OverBudget`] and the partial tree.
//!
//! String tables: ActiveSync does not use them ([MS-ASWBXML] 2.1.3), but a generic encoder may
//! write valid WBXML 1.3 with one. STR_T content and LITERAL tags (LITERAL, LITERAL_C, LITERAL_A,
//! LITERAL_AC, with LITERAL attribute names and STR_I/STR_T values) are resolved as libwbxml
//! resolves them: an index into the table, the string running to the next NUL or the table's end.
//! Each kind of reference adds a [`Warning`] the first time it is met. A document whose public
//! id or string table names another language (SyncML, WML, Wireless Village…) is not decoded:
//! [`ErrorKind::NotActiveSync`].

use thiserror::Error;

use super::codepages::PAGE_COUNT;
use super::document::{Document, Header, Literal, Tag, Warning};
use super::language::{self, Verdict};

/// Global tokens (WBXML 1.2 section 7.1). A byte whose low six bits are 0–4 is always a global
/// token, so they are tested before masking out the tag bits.
const SWITCH_PAGE: u8 = 0x00;
const END: u8 = 0x01;
const STR_I: u8 = 0x03;
/// LITERAL (0x04) and its forms with content (0x44), attributes (0x84) or both (0xC4).
const LITERAL: u8 = 0x04;
const STR_T: u8 = 0x83;
const OPAQUE: u8 = 0xC3;

/// Names of the global tokens ActiveSync never uses and easlens does not read ([MS-ASWBXML]
/// 2.1.3: no entities, processing instructions or extensions).
fn unused_global(b: u8) -> Option<&'static str> {
    Some(match b {
        0x02 => "ENTITY",
        0x40 => "EXT_I_0",
        0x41 => "EXT_I_1",
        0x42 => "EXT_I_2",
        0x43 => "PI",
        0x80 => "EXT_T_0",
        0x81 => "EXT_T_1",
        0x82 => "EXT_T_2",
        0xC0 => "EXT_0",
        0xC1 => "EXT_1",
        0xC2 => "EXT_2",
        _ => return None,
    })
}

/// How much one decode may build; past any limit decoding stops with [`ErrorKind::OverBudget`]
/// and the tree decoded so far. The figures come from the biggest realistic body, a 10 MiB Sync
/// response with 12,000 email Adds (HTML bodies, conversation ids): 10.4 MB of WBXML, 480,000
/// nodes (264,000 elements and 216,000 content runs), 9.3 MB of content, 8 levels deep; it
/// renders to 27 MB of XML. Real ActiveSync documents nest at most about 12 levels (a calendar
/// exception's attendee inside a Sync Add).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Named in the error message ("over the analysis decoding budget").
    pub name: &'static str,
    /// Nodes: elements plus content runs (each node costs 24 bytes).
    pub max_nodes: usize,
    /// Levels of nesting (the root is level 1).
    pub max_depth: usize,
    /// Bytes the tree keeps: content (STR_I, OPAQUE, and STR_T references, which copy their
    /// string each time) plus LITERAL names and attributes. `content::analyse` also cuts a longer
    /// body (as sent or once decompressed) to this size: its content could not fit anyway.
    pub max_bytes: usize,
}

impl Budget {
    /// For one body shown at a time (the inspector, `easlens decode`): 4,000,000 nodes (8× the
    /// biggest realistic body; 96 MB of nodes), 256 levels (20× any real document), 256 MiB of
    /// content (the most `decode_body` decompresses, `http::body::MAX_DECODED`, so a body the
    /// inspector could show before is not refused now).
    pub const INSPECTOR: Budget = Budget {
        name: "inspector",
        max_nodes: 4_000_000,
        max_depth: 256,
        max_bytes: 256 << 20,
    };

    /// For the EAS summary, item history and the text index, which decode every body of a capture
    /// on several workers at once: 1,000,000 nodes (2× the biggest realistic body; 24 MB),
    /// 64 levels (5× any real document), 64 MiB of content (7× the biggest realistic Sync
    /// response; an ItemOperations fetch with a large attachment inline is cut there, its Status
    /// elements come before the data).
    pub const ANALYSIS: Budget = Budget {
        name: "analysis",
        max_nodes: 1_000_000,
        max_depth: 64,
        max_bytes: 64 << 20,
    };
}

/// Which limit of a [`Budget`] a document went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Nodes,
    Depth,
    Bytes,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::Nodes => "nodes (elements and content runs)",
            Limit::Depth => "levels of nesting",
            Limit::Bytes => "bytes of content",
        })
    }
}

/// What went wrong, without the position.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    #[error("input is empty")]
    Empty,
    #[error("body of {0} bytes is larger than the 4 GiB a WBXML document can address")]
    TooLarge(usize),
    #[error("not WBXML: version byte 0x{0:02X} (ActiveSync sends 0x03)")]
    NotWbxml(u8),
    #[error("{language} WBXML ({evidence}), not ActiveSync")]
    NotActiveSync { language: String, evidence: String },
    #[error("input ends where {0} was expected")]
    Truncated(String),
    #[error("multi-byte integer ({0}) is longer than 5 bytes")]
    MbUintTooLong(&'static str),
    #[error("multi-byte integer ({0}) does not fit in 32 bits")]
    MbUintOverflow(&'static str),
    #[error("{what} declares {declared} bytes but only {remaining} remain")]
    LengthOverrun {
        what: &'static str,
        declared: u32,
        remaining: usize,
    },
    #[error("{what} refers to byte {index} of a {len}-byte string table")]
    StringTableIndex { what: &'static str, index: u32, len: usize },
    #[error("{what} {name:?} from the string table cannot be written as XML: {reason}")]
    BadLiteralName {
        what: &'static str,
        name: String,
        reason: &'static str,
    },
    #[error("END token with no open element")]
    UnexpectedEnd,
    #[error("SWITCH_PAGE to code page {0}, which ActiveSync does not define (pages 0-25)")]
    UndefinedPage(u8),
    #[error("tag byte 0x{0:02X} has the attribute bit set; ActiveSync WBXML has no attributes")]
    AttributeBit(u8),
    #[error(
        "attribute token 0x{0:02X}: ActiveSync defines no attribute code page (only LITERAL names with STR_I/STR_T values are read)"
    )]
    AttributeToken(u8),
    #[error("global token {name} (0x{byte:02X}) is not used by ActiveSync")]
    UnsupportedToken { byte: u8, name: &'static str },
    #[error("content outside the root element")]
    ContentOutsideRoot,
    #[error("no root element")]
    NoRoot,
    #[error("more than {max} {limit}: over the {budget} decoding budget, decoding stopped")]
    OverBudget {
        limit: Limit,
        max: usize,
        budget: &'static str,
    },
}

/// A decoding failure at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("offset {offset}: {kind}")]
pub struct DecodeError {
    pub offset: usize,
    pub kind: ErrorKind,
}

/// The error together with everything decoded before it.
#[derive(Debug, Clone, Error)]
#[error("{error}")]
pub struct PartialDecode {
    pub error: DecodeError,
    pub partial: Document,
}

/// Decodes a whole WBXML body within [`Budget::INSPECTOR`].
pub fn decode(input: &[u8]) -> Result<Document, Box<PartialDecode>> {
    decode_with(input, Budget::INSPECTOR)
}

/// Decodes a whole WBXML body, building no more than `budget` allows.
pub fn decode_with(input: &[u8], budget: Budget) -> Result<Document, Box<PartialDecode>> {
    let mut d = Decoder {
        input,
        pos: 0,
        doc: Document::default(),
        first_error: None,
        budget,
        table: &[],
        kept: 0,
        warned_str_t: false,
        warned_literal: false,
    };
    if let Err(error) = d.run() {
        d.record(error);
    }
    match d.first_error {
        None => Ok(d.doc),
        Some(error) => Err(Box::new(PartialDecode { error, partial: d.doc })),
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    doc: Document,
    /// Errors that do not stop decoding (an undefined code page) are kept here; the first wins.
    first_error: Option<DecodeError>,
    budget: Budget,
    /// The string table (empty in ActiveSync).
    table: &'a [u8],
    /// Bytes the tree keeps (content, literal names and attributes), against `budget.max_bytes`.
    kept: usize,
    warned_str_t: bool,
    warned_literal: bool,
}

impl<'a> Decoder<'a> {
    fn record(&mut self, e: DecodeError) {
        self.first_error.get_or_insert(e);
    }

    fn err(&self, offset: usize, kind: ErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    fn warn(&mut self, offset: usize, message: String) {
        self.doc.warnings.push(Warning { offset, message });
    }

    fn over(&self, at: usize, limit: Limit) -> DecodeError {
        let max = match limit {
            Limit::Nodes => self.budget.max_nodes,
            Limit::Depth => self.budget.max_depth,
            Limit::Bytes => self.budget.max_bytes,
        };
        self.err(
            at,
            ErrorKind::OverBudget {
                limit,
                max,
                budget: self.budget.name,
            },
        )
    }

    /// Room for one more node (checked before every node, so the arena never outgrows the budget).
    fn room_for_node(&self, at: usize) -> Result<(), DecodeError> {
        if self.doc.nodes.len() >= self.budget.max_nodes {
            return Err(self.over(at, Limit::Nodes));
        }
        Ok(())
    }

    /// Counts `n` more bytes kept by the tree.
    fn keep(&mut self, at: usize, n: usize) -> Result<(), DecodeError> {
        match self.kept.checked_add(n).filter(|&k| k <= self.budget.max_bytes) {
            Some(k) => {
                self.kept = k;
                Ok(())
            }
            None => Err(self.over(at, Limit::Bytes)),
        }
    }

    fn byte(&mut self, expected: &str) -> Result<u8, DecodeError> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| self.err(self.pos, ErrorKind::Truncated(expected.to_string())))?;
        self.pos += 1;
        Ok(b)
    }

    /// mb_u_int32 (WBXML 5.1): big-endian base-128, continuation bit 0x80, at most 5 bytes.
    fn mb_u_int32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for _ in 0..5 {
            let b = self.byte(what)?;
            value = (value << 7) | u64::from(b & 0x7F);
            if b & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| self.err(start, ErrorKind::MbUintOverflow(what)));
            }
        }
        Err(self.err(start, ErrorKind::MbUintTooLong(what)))
    }

    /// A length followed by that many bytes, checked against what remains.
    fn counted(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let len = self.mb_u_int32(what)?;
        let remaining = self.input.len() - self.pos;
        if len as usize > remaining {
            return Err(self.err(
                at,
                ErrorKind::LengthOverrun {
                    what,
                    declared: len,
                    remaining,
                },
            ));
        }
        let input: &'a [u8] = self.input;
        let bytes = &input[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(bytes)
    }

    /// An inline string: the bytes up to the NUL, which is consumed.
    fn inline_string(&mut self) -> Result<&'a [u8], DecodeError> {
        let input: &'a [u8] = self.input;
        let rest = &input[self.pos..];
        let len = memchr::memchr(0, rest).ok_or_else(|| {
            self.err(
                input.len(),
                ErrorKind::Truncated("the NUL ending an inline string".into()),
            )
        })?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    /// The string at `index` of the string table, as libwbxml reads it: up to the next NUL, or
    /// to the end of the table when no NUL follows. An index at or past the end is an error.
    fn table_string(&self, at: usize, index: u32, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let table: &'a [u8] = self.table;
        let rest = table.get(index as usize..).filter(|r| !r.is_empty()).ok_or_else(|| {
            self.err(
                at,
                ErrorKind::StringTableIndex {
                    what,
                    index,
                    len: table.len(),
                },
            )
        })?;
        Ok(&rest[..memchr::memchr(0, rest).unwrap_or(rest.len())])
    }

    /// A STR_T reference (the token already read): its index and the string it names.
    fn str_t(&mut self, at: usize) -> Result<&'a [u8], DecodeError> {
        let index = self.mb_u_int32("the STR_T string-table index")?;
        let s = self.table_string(at, index, "STR_T")?;
        if !self.warned_str_t {
            self.warned_str_t = true;
            self.warn(
                at,
                "STR_T string-table reference resolved (ActiveSync does not normally use string tables)".into(),
            );
        }
        Ok(s)
    }

    /// A name from the string table for a LITERAL tag or attribute, checked to be writable as XML.
    fn literal_name(&mut self, at: usize, what: &'static str) -> Result<String, DecodeError> {
        let index = self.mb_u_int32("the LITERAL string-table index")?;
        let bytes = self.table_string(at, index, what)?;
        let name = String::from_utf8_lossy(bytes).into_owned();
        if let Err(reason) = check_literal_name(&name, what == "LITERAL attribute") {
            return Err(self.err(at, ErrorKind::BadLiteralName { what, name, reason }));
        }
        self.keep(at, name.len())?;
        Ok(name)
    }

    fn header(&mut self) -> Result<(), DecodeError> {
        let version = self.byte("the WBXML version byte")?;
        // WBXML 1.1–1.3 share this body grammar; anything else is not WBXML (e.g. XML text).
        if !(0x01..=0x03).contains(&version) {
            return Err(self.err(0, ErrorKind::NotWbxml(version)));
        }
        let public_id_at = self.pos;
        let mut public_id = self.mb_u_int32("the public identifier")?;
        let mut public_id_index = None;
        if public_id == 0 {
            // "0 = the public id is a string-table index" (plain WBXML, never EAS).
            public_id_index = Some(self.mb_u_int32("the public identifier's string-table index")?);
            public_id = 0;
        } else if let Some((fpi, language)) = language::registered(public_id) {
            // Named before anything else is read: the rest of the header may not be ActiveSync's.
            return Err(self.err(
                public_id_at,
                ErrorKind::NotActiveSync {
                    language: language.to_string(),
                    evidence: format!("public id 0x{public_id:02X}, {fpi}"),
                },
            ));
        }
        let charset_at = self.pos;
        let charset = self.mb_u_int32("the charset")?;
        self.doc.header = Header {
            version,
            public_id,
            charset,
        };
        if charset != 106 {
            self.warn(
                charset_at,
                format!("charset MIBenum {charset} instead of 106 (UTF-8); strings are read as UTF-8"),
            );
        }
        self.table = self.counted("the string table")?;
        let table_at = self.pos - self.table.len();
        if !self.table.is_empty() {
            self.warn(
                table_at,
                format!(
                    "{}-byte string table (ActiveSync does not normally use string tables)",
                    self.table.len()
                ),
            );
        }
        self.check_language(public_id_at, public_id, public_id_index, table_at)
    }

    /// Stops with [`ErrorKind::NotActiveSync`] when the public id, or a string of the string
    /// table, names another WBXML language; warns when the public id is not ActiveSync's but
    /// names nothing known.
    fn check_language(
        &mut self,
        at: usize,
        public_id: u32,
        index: Option<u32>,
        table_at: usize,
    ) -> Result<(), DecodeError> {
        let not_active_sync = |language: &str, evidence: String| DecodeError {
            offset: at,
            kind: ErrorKind::NotActiveSync {
                language: language.to_string(),
                evidence,
            },
        };
        match index {
            Some(index) => match self.table_string(at, index, "the public identifier") {
                Err(_) => self.warn(
                    at,
                    format!(
                        "public identifier: string-table index {index} is outside the {}-byte string table; decoded as ActiveSync",
                        self.table.len()
                    ),
                ),
                Ok(bytes) => {
                    let fpi = String::from_utf8_lossy(bytes);
                    match language::of_public_id_string(&fpi) {
                        Verdict::ActiveSync => {}
                        Verdict::Other(language) => {
                            return Err(not_active_sync(&language, format!("public id {fpi}")));
                        }
                        Verdict::Unknown => {
                            let shown: String = fpi.chars().take(80).collect();
                            self.warn(
                                at,
                                format!(
                                    "public identifier {shown:?} from the string table is not ActiveSync's; decoded as ActiveSync"
                                ),
                            )
                        }
                    }
                }
            },
            // Registered numbers were named when read (see `header`).
            None if public_id == 0x01 => {}
            None => self.warn(
                at,
                format!("public id 0x{public_id:02X} instead of ActiveSync's 0x01 (unknown); decoded as ActiveSync"),
            ),
        }
        let mut offset = 0;
        for s in self.table.split(|&b| b == 0) {
            if let Some(language) = std::str::from_utf8(s).ok().and_then(language::known_language) {
                let evidence = format!("string table names {}", String::from_utf8_lossy(s));
                return Err(DecodeError {
                    offset: table_at + offset,
                    kind: ErrorKind::NotActiveSync {
                        language: language.to_string(),
                        evidence,
                    },
                });
            }
            offset += s.len() + 1;
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            return Err(self.err(0, ErrorKind::Empty));
        }
        // The document stores offsets as u32 (mb_u_int32 lengths cannot say more anyway).
        if u32::try_from(self.input.len()).is_err() {
            return Err(self.err(0, ErrorKind::TooLarge(self.input.len())));
        }
        self.header()?;
        let mut page: u8 = 0;
        // Open elements; the current page survives END, as WBXML requires.
        let mut open: Vec<u32> = Vec::new();
        let mut have_root = false;
        loop {
            let at = self.pos;
            let Some(&b) = self.input.get(at) else {
                let expected = match open.last() {
                    Some(_) => format!("END of {} ({} elements still open)", self.open_name(&open), open.len()),
                    None => "the root element".to_string(),
                };
                return Err(self.err(at, ErrorKind::Truncated(expected)));
            };
            self.pos += 1;
            match b {
                SWITCH_PAGE => {
                    page = self.byte("the code page number after SWITCH_PAGE")?;
                    if usize::from(page) >= PAGE_COUNT {
                        // Keep decoding: elements on the page are shown as Unknown.
                        self.record(self.err(at, ErrorKind::UndefinedPage(page)));
                    }
                }
                END => {
                    open.pop().ok_or_else(|| self.err(at, ErrorKind::UnexpectedEnd))?;
                    if open.is_empty() {
                        return self.finish_root();
                    }
                }
                STR_I | STR_T | OPAQUE => {
                    let parent = *open.last().ok_or_else(|| self.err(at, ErrorKind::ContentOutsideRoot))?;
                    let data = match b {
                        STR_I => self.inline_string()?,
                        STR_T => self.str_t(at)?,
                        _ => self.counted("OPAQUE data")?,
                    };
                    if !data.is_empty() {
                        self.room_for_node(at)?;
                        self.keep(at, data.len())?;
                    }
                    self.doc.append_data(parent, data, b == OPAQUE);
                }
                _ => {
                    if let Some(name) = unused_global(b) {
                        return Err(self.err(at, ErrorKind::UnsupportedToken { byte: b, name }));
                    }
                    let literal = b & 0x3F == LITERAL;
                    if b & 0x80 != 0 && !literal {
                        return Err(self.err(at, ErrorKind::AttributeBit(b)));
                    }
                    if have_root && open.is_empty() {
                        return Err(self.err(at, ErrorKind::ContentOutsideRoot));
                    }
                    if open.len() >= self.budget.max_depth {
                        return Err(self.over(at, Limit::Depth));
                    }
                    self.room_for_node(at)?;
                    have_root = true;
                    let parent = open.last().copied();
                    let id = if literal {
                        let l = self.literal_element(at, b)?;
                        self.doc.start_literal(parent, l)
                    } else {
                        self.doc.start_element(parent, Tag::new(page, b & 0x3F))
                    };
                    if b & 0x40 != 0 {
                        open.push(id);
                    } else if open.is_empty() {
                        // An empty root element is a whole document.
                        return self.finish_root();
                    }
                }
            }
        }
    }

    /// The rest of a LITERAL tag (the token `b` already read): its name, and for LITERAL_A and
    /// LITERAL_AC its attribute list up to END.
    fn literal_element(&mut self, at: usize, b: u8) -> Result<Literal, DecodeError> {
        let name = self.literal_name(at, "LITERAL tag")?;
        if !self.warned_literal {
            self.warned_literal = true;
            self.warn(
                at,
                format!(
                    "LITERAL tag <{name}> named by the string table (ActiveSync does not normally use string tables)"
                ),
            );
        }
        let mut attributes: Vec<(String, String)> = Vec::new();
        if b & 0x80 != 0 {
            loop {
                let attr_at = self.pos;
                match self.byte("an attribute or the END of the attribute list")? {
                    END => break,
                    // The attribute code page: ActiveSync has none, and it does not change the
                    // tag code page.
                    SWITCH_PAGE => {
                        self.byte("the code page number after SWITCH_PAGE")?;
                    }
                    LITERAL => {
                        let attr = self.literal_name(attr_at, "LITERAL attribute")?;
                        if attributes.iter().any(|(n, _)| *n == attr) {
                            return Err(self.err(
                                attr_at,
                                ErrorKind::BadLiteralName {
                                    what: "LITERAL attribute",
                                    name: attr,
                                    reason: "the element already has an attribute of that name",
                                },
                            ));
                        }
                        let mut value = Vec::new();
                        loop {
                            let value_at = self.pos;
                            let chunk = match self.input.get(value_at) {
                                Some(&STR_I) => {
                                    self.pos += 1;
                                    self.inline_string()?
                                }
                                Some(&STR_T) => {
                                    self.pos += 1;
                                    self.str_t(value_at)?
                                }
                                _ => break,
                            };
                            self.keep(value_at, chunk.len())?;
                            value.extend_from_slice(chunk);
                        }
                        attributes.push((attr, String::from_utf8_lossy(&value).into_owned()));
                    }
                    other => return Err(self.err(attr_at, ErrorKind::AttributeToken(other))),
                }
            }
        }
        Ok(Literal { name, attributes })
    }

    fn open_name(&self, open: &[u32]) -> String {
        open.last().map(|&id| element_label(&self.doc, id)).unwrap_or_default()
    }

    /// Bytes after the root element are not part of the document (a real Exchange capture has a
    /// second copy of the request there): ignored with a warning.
    fn finish_root(&mut self) -> Result<(), DecodeError> {
        let extra = self.input.len() - self.pos;
        if extra > 0 {
            self.warn(
                self.pos,
                format!("{extra} bytes after the end of the root element ignored"),
            );
        }
        Ok(())
    }
}

/// Whether a LITERAL tag or attribute name can be written as XML and read back: an XML name
/// without a colon (libwbxml writes any bytes, which gives XML no parser reads). Attribute
/// names must not be ones the renderer writes itself (`xmlns…`, `encoding`, `enc`).
pub(crate) fn check_literal_name(name: &str, attribute: bool) -> Result<(), &'static str> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("it is empty");
    };
    if !(first.is_alphabetic() || first == '_') {
        return Err("an XML name starts with a letter or '_'");
    }
    if !chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err("an XML name holds only letters, digits, '_', '-' and '.'");
    }
    if attribute
        && (name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml")) || name == "encoding" || name == "enc")
    {
        return Err("the name is reserved for the XML the document is shown as");
    }
    Ok(())
}

fn element_label(doc: &Document, id: u32) -> String {
    match doc.nodes.get(id as usize).map(|n| n.kind) {
        Some(super::document::Kind::Element(t)) => match (t.namespace(), t.name()) {
            (Some(ns), Some(n)) => format!("<{ns}:{n}>"),
            _ => format!("<Unknown page {} token 0x{:02X}>", t.page, t.token),
        },
        Some(super::document::Kind::Literal(i)) => doc
            .literals
            .get(i as usize)
            .map(|l| format!("<{}> (LITERAL)", l.name))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0x03, 0x01, 0x6A, 0x00];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn minimal_sync_status() {
        // <Sync><Status>1</Status></Sync>
        let doc = decode(&hdr(&[0x45, 0x4E, 0x03, b'1', 0x00, 0x01, 0x01])).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(root.name(), Some("Sync"));
        assert_eq!(root.child("Status").unwrap().text().as_deref(), Some("1"));
        assert!(doc.warnings.is_empty());
    }

    #[test]
    fn page_persists_across_end_and_chunks_concatenate() {
        // Sync, SWITCH_PAGE 17, Body( Type "1" ) END, Type again still on page 17.
        let doc = decode(&hdr(&[
            0x45, 0x00, 0x11, 0x4A, 0x01, 0x46, 0x03, b'a', 0, 0xC3, 1, b'b', 0x01, 0x01,
        ]))
        .unwrap();
        let root = doc.root().unwrap();
        let kids: Vec<_> = root.elements().collect();
        assert_eq!(kids[0].tag(), Tag::new(17, 0x0A));
        assert_eq!(kids[1].tag(), Tag::new(17, 0x06));
        assert_eq!(kids[1].content(), b"ab");
        assert_eq!(kids[1].children().count(), 1, "adjacent chunks form one value");
    }

    #[test]
    fn unknown_tokens_are_kept() {
        let doc = decode(&hdr(&[0x45, 0x7F, 0x03, b'1', 0, 0x01, 0x01])).unwrap();
        let u = doc.root().unwrap().elements().next().unwrap();
        assert_eq!((u.tag(), u.name()), (Tag::new(0, 0x3F), None));
    }

    #[test]
    fn errors_name_offset_and_expectation() {
        let e = |b: &[u8]| decode(b).unwrap_err().error;
        assert_eq!(e(&[]).kind, ErrorKind::Empty);
        assert_eq!(
            e(&hdr(&[0x01])),
            DecodeError {
                offset: 4,
                kind: ErrorKind::UnexpectedEnd
            }
        );
        assert_eq!(
            e(&hdr(&[0x45, 0xC5])),
            DecodeError {
                offset: 5,
                kind: ErrorKind::AttributeBit(0xC5)
            }
        );
        assert_eq!(
            e(&hdr(&[0x45, 0x00, 64, 0x45, 0x01, 0x01])).kind,
            ErrorKind::UndefinedPage(64)
        );
        let t = e(&hdr(&[0x45, 0x4E]));
        assert_eq!(t.offset, 6);
        assert_eq!(
            t.to_string(),
            "offset 6: input ends where END of <AirSync:Status> (2 elements still open) was expected"
        );
        assert_eq!(
            e(&hdr(&[0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F])).kind,
            ErrorKind::LengthOverrun {
                what: "OPAQUE data",
                declared: u32::MAX,
                remaining: 0
            }
        );
        assert_eq!(
            e(&[0x03, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01]).kind,
            ErrorKind::MbUintTooLong("the public identifier")
        );
        // Five bytes, but 2^32: too large rather than too long.
        assert_eq!(
            e(&hdr(&[0x45, 0xC3, 0x90, 0x80, 0x80, 0x80, 0x00])).kind,
            ErrorKind::MbUintOverflow("OPAQUE data")
        );
        assert_eq!(
            e(&hdr(&[0x45, 0x02, 0x05])).kind,
            ErrorKind::UnsupportedToken {
                byte: 2,
                name: "ENTITY"
            }
        );
        assert_eq!(e(b"<?xml").kind, ErrorKind::NotWbxml(b'<'));
    }

    #[test]
    fn partial_tree_is_returned_with_the_error() {
        let p = decode(&hdr(&[0x45, 0x4E, 0x03, b'7', 0])).unwrap_err();
        assert_eq!(
            p.partial.root().unwrap().child("Status").unwrap().text().as_deref(),
            Some("7")
        );
    }

    #[test]
    fn trailing_bytes_are_a_warning() {
        let doc = decode(&hdr(&[0x45, 0x01, 0x45, 0x01])).unwrap();
        assert_eq!(
            doc.warnings,
            vec![Warning {
                offset: 6,
                message: "2 bytes after the end of the root element ignored".into()
            }]
        );
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let depth = 200_000;
        let mut body = vec![0x45; depth];
        body.extend(std::iter::repeat_n(0x01, depth));
        let unlimited = Budget {
            max_depth: usize::MAX,
            ..Budget::INSPECTOR
        };
        let doc = decode_with(&hdr(&body), unlimited).unwrap();
        assert_eq!(doc.element_count(), depth);
        assert_eq!(doc.walk().count(), 2 * depth);
    }

    // ---- the budget ----

    fn over(b: &[u8], budget: Budget) -> Box<PartialDecode> {
        decode_with(b, budget).unwrap_err()
    }

    #[test]
    fn budget_stops_nesting_at_the_depth_limit() {
        for budget in [Budget::ANALYSIS, Budget::INSPECTOR] {
            let max = budget.max_depth;
            // Exactly at the limit decodes; one more level stops, with the partial tree.
            let mut ok = vec![0x45; max];
            ok.extend(std::iter::repeat_n(0x01, max));
            assert_eq!(decode_with(&hdr(&ok), budget).unwrap().element_count(), max);
            let p = over(&hdr(&vec![0x45; max + 1]), budget);
            assert_eq!(
                p.error,
                DecodeError {
                    offset: 4 + max,
                    kind: ErrorKind::OverBudget {
                        limit: Limit::Depth,
                        max,
                        budget: budget.name
                    }
                }
            );
            assert_eq!(p.partial.element_count(), max);
        }
        assert_eq!(
            over(&hdr(&[0x45; 65]), Budget::ANALYSIS).error.to_string(),
            "offset 68: more than 64 levels of nesting: over the analysis decoding budget, decoding stopped"
        );
        // Empty elements count too: the 65th level is refused even without content.
        let mut deep_empty = vec![0x45; 64];
        deep_empty.push(0x05);
        assert!(matches!(
            over(&hdr(&deep_empty), Budget::ANALYSIS).error.kind,
            ErrorKind::OverBudget {
                limit: Limit::Depth,
                ..
            }
        ));
    }

    #[test]
    fn budget_stops_siblings_at_the_node_limit() {
        let budget = Budget::ANALYSIS;
        // <Sync> and then empty siblings, one node each: the root plus max - 1 fit.
        let mut body = vec![0x45];
        body.extend(std::iter::repeat_n(0x05, budget.max_nodes + 10));
        let p = over(&hdr(&body), budget);
        assert_eq!(
            p.error,
            DecodeError {
                offset: 4 + budget.max_nodes,
                kind: ErrorKind::OverBudget {
                    limit: Limit::Nodes,
                    max: budget.max_nodes,
                    budget: "analysis"
                }
            }
        );
        assert_eq!(p.partial.node_count(), budget.max_nodes);
        assert!(p.error.to_string().ends_with(
            "more than 1000000 nodes (elements and content runs): over the analysis decoding budget, decoding stopped"
        ));
        // Content runs are nodes as well.
        let small = Budget {
            max_nodes: 3,
            ..Budget::ANALYSIS
        };
        assert!(decode_with(&hdr(&[0x45, 0x4E, 0x03, b'1', 0, 0x01, 0x01]), small).is_ok());
        let p = over(&hdr(&[0x45, 0x4E, 0x03, b'1', 0, 0x01, 0x4E, 0x01]), small);
        assert_eq!((p.error.offset, p.partial.node_count()), (10, 3));
    }

    #[test]
    fn budget_stops_content_at_the_byte_limit() {
        let small = Budget {
            max_bytes: 10,
            ..Budget::ANALYSIS
        };
        let ten = hdr(&[
            0x45, 0x03, b'0', b'1', b'2', b'3', b'4', 0, 0xC3, 5, 1, 2, 3, 4, 5, 0x01,
        ]);
        assert_eq!(decode_with(&ten, small).unwrap().root().unwrap().content().len(), 10);
        let p = over(
            &hdr(&[0x45, 0x03, b'0', b'1', b'2', b'3', b'4', 0, 0xC3, 6, 1, 2, 3, 4, 5, 6]),
            small,
        );
        assert_eq!(
            p.error,
            DecodeError {
                offset: 12,
                kind: ErrorKind::OverBudget {
                    limit: Limit::Bytes,
                    max: 10,
                    budget: "analysis"
                }
            }
        );
        assert_eq!(p.partial.root().unwrap().content(), b"01234");
        // STR_T copies its string at each reference: 100 references to a 1 MiB string in a
        // 1 MiB body would be 100 MiB of content. The analysis budget stops at 64 MiB.
        let string = vec![b'x'; 1 << 20];
        let mut body = vec![0x03, 0x01, 0x6A, 0xC0, 0x80, 0x01]; // table of 2^20 + 1 bytes
        body.extend_from_slice(&string);
        body.push(0);
        body.push(0x45);
        for _ in 0..100 {
            body.extend_from_slice(&[0x83, 0x00]);
        }
        body.push(0x01);
        let p = over(&body, Budget::ANALYSIS);
        assert!(matches!(
            p.error.kind,
            ErrorKind::OverBudget {
                limit: Limit::Bytes,
                max: 67_108_864,
                ..
            }
        ));
        assert_eq!(p.partial.root().unwrap().content().len(), 64 << 20);
        assert!(decode(&body).is_ok(), "100 MiB is within the inspector's 256 MiB");
    }

    // ---- string tables ----

    /// A document with string table `table` and body `body`.
    fn with_table(table: &[u8], body: &[u8]) -> Vec<u8> {
        let mut v = vec![0x03, 0x01, 0x6A, table.len() as u8];
        v.extend_from_slice(table);
        v.extend_from_slice(body);
        v
    }

    fn status_text(b: &[u8]) -> Result<String, ErrorKind> {
        match decode(b) {
            Ok(doc) => Ok(doc.root().unwrap().child("Status").unwrap().text().unwrap()),
            Err(p) => Err(p.error.kind),
        }
    }

    #[test]
    fn str_t_references_resolve_like_libwbxml() {
        // <Sync><Status>STR_T index</Status></Sync>, table "abc\0".
        let doc = |i: u8| with_table(b"abc\0", &[0x45, 0x4E, 0x83, i, 0x01, 0x01]);
        assert_eq!(status_text(&doc(0)).unwrap(), "abc");
        assert_eq!(status_text(&doc(1)).unwrap(), "bc", "an index inside a string");
        assert!(
            decode(&doc(3))
                .unwrap()
                .root()
                .unwrap()
                .child("Status")
                .unwrap()
                .children()
                .next()
                .is_none()
        );
        for i in [4, 9] {
            assert_eq!(
                status_text(&doc(i)),
                Err(ErrorKind::StringTableIndex {
                    what: "STR_T",
                    index: u32::from(i),
                    len: 4
                })
            );
        }
        // Without a final NUL the string runs to the end of the table.
        assert_eq!(
            status_text(&with_table(b"abc", &[0x45, 0x4E, 0x83, 1, 0x01, 0x01])).unwrap(),
            "bc"
        );
        // STR_I and STR_T chunks form one value.
        let mixed = with_table(
            b"abc\0",
            &[0x45, 0x4E, 0x03, b'x', 0, 0x83, 0, 0x03, b'y', 0, 0x01, 0x01],
        );
        assert_eq!(status_text(&mixed).unwrap(), "xabcy");
        let d = decode(&mixed).unwrap();
        assert_eq!(d.root().unwrap().child("Status").unwrap().children().count(), 1);
        assert_eq!(
            d.warnings.iter().map(|w| w.message.as_str()).collect::<Vec<_>>(),
            [
                "4-byte string table (ActiveSync does not normally use string tables)",
                "STR_T string-table reference resolved (ActiveSync does not normally use string tables)"
            ]
        );
        assert_eq!(d.warnings[1].offset, 13);
        // Outside an element, STR_T is content outside the root.
        assert_eq!(
            decode(&with_table(b"a\0", &[0x83, 0])).unwrap_err().error.kind,
            ErrorKind::ContentOutsideRoot
        );
    }

    #[test]
    fn literal_tags_are_named_by_the_string_table() {
        let table = b"Foo\0bar\0";
        // <Sync> LITERAL(Foo) LITERAL_C(oo) { Status "x" } LITERAL_A(Foo bar="v") LITERAL_AC(Foo bar=STR_T) { "y" }
        let bytes = with_table(
            table,
            &[
                0x45, 0x04, 0x00, 0x44, 0x01, 0x4E, 0x03, b'x', 0, 0x01, 0x01, 0x84, 0x00, 0x04, 0x04, 0x03, b'v', 0,
                0x01, 0xC4, 0x00, 0x04, 0x04, 0x83, 0x00, 0x01, 0x03, b'y', 0, 0x01, 0x01,
            ],
        );
        let doc = decode(&bytes).unwrap();
        let kids: Vec<_> = doc.root().unwrap().elements().collect();
        let names: Vec<_> = kids.iter().map(|e| e.literal().unwrap().name.as_str()).collect();
        assert_eq!(names, ["Foo", "oo", "Foo", "Foo"]);
        assert!(kids.iter().all(|e| e.tag() == Tag::LITERAL && e.name().is_none()));
        assert_eq!(kids[1].child("Status").unwrap().text().as_deref(), Some("x"));
        assert_eq!(
            kids[2].literal().unwrap().attributes,
            [("bar".to_string(), "v".to_string())]
        );
        assert_eq!(
            kids[3].literal().unwrap().attributes,
            [("bar".to_string(), "Foo".to_string())]
        );
        assert_eq!(kids[3].text().as_deref(), Some("y"));
        assert_eq!(kids[0].display_name(), "Literal(Foo)");
        assert!(
            doc.warnings
                .iter()
                .any(|w| w.offset == 13 && w.message.starts_with("LITERAL tag <Foo> named by the string table"))
        );
        // The XML form reads back, and encodes (with a string table of its own) to the same tree.
        let xml = super::super::to_xml(&doc);
        assert!(
            xml.contains("<Foo xmlns=\"\"/>\n    <oo xmlns=\"\">\n        <Status xmlns=\"AirSync:\">x</Status>"),
            "{xml}"
        );
        assert!(xml.contains("<Foo xmlns=\"\" bar=\"v\"/>") && xml.contains("<Foo xmlns=\"\" bar=\"Foo\">y</Foo>"));
        let back = super::super::from_xml(&xml).unwrap();
        assert!(back.same_tree(&doc), "{xml}");
        let again = decode(&super::super::encode(&back)).unwrap();
        assert!(again.same_tree(&doc));
        // A LITERAL root, and a LITERAL root with no content.
        let root = decode(&with_table(b"Foo\0", &[0x44, 0x00, 0x4E, 0x01, 0x01])).unwrap();
        assert_eq!(root.root().unwrap().literal().unwrap().name, "Foo");
        assert!(decode(&with_table(b"Foo\0", &[0x04, 0x00])).is_ok());
    }

    #[test]
    fn literal_errors() {
        let e = |table: &[u8], body: &[u8]| decode(&with_table(table, body)).unwrap_err().error;
        assert_eq!(
            e(b"Foo\0", &[0x45, 0x04, 0x09, 0x01]),
            DecodeError {
                offset: 9,
                kind: ErrorKind::StringTableIndex {
                    what: "LITERAL tag",
                    index: 9,
                    len: 4
                }
            }
        );
        // libwbxml writes these names as they are, which is not XML.
        for (table, reason) in [
            (
                &b"a b\0"[..],
                "an XML name holds only letters, digits, '_', '-' and '.'",
            ),
            (b"\0", "it is empty"),
            (b"1a\0", "an XML name starts with a letter or '_'"),
            (b"p:a\0", "an XML name holds only letters, digits, '_', '-' and '.'"),
        ] {
            assert_eq!(
                e(table, &[0x45, 0x04, 0x00, 0x01]).kind,
                ErrorKind::BadLiteralName {
                    what: "LITERAL tag",
                    name: String::from_utf8_lossy(&table[..table.len() - 1]).into_owned(),
                    reason
                }
            );
        }
        // Attribute names the XML form uses itself, duplicates, attribute tokens.
        assert!(matches!(
            e(b"Foo\0encoding\0", &[0x45, 0x84, 0x00, 0x04, 0x04, 0x01, 0x01]).kind,
            ErrorKind::BadLiteralName {
                what: "LITERAL attribute",
                ..
            }
        ));
        assert!(matches!(
            e(b"Foo\0xmlns\0", &[0x45, 0x84, 0x00, 0x04, 0x04, 0x01, 0x01]).kind,
            ErrorKind::BadLiteralName {
                what: "LITERAL attribute",
                ..
            }
        ));
        assert!(matches!(
            e(b"Foo\0a\0", &[0x45, 0x84, 0x00, 0x04, 0x04, 0x04, 0x04, 0x01, 0x01]).kind,
            ErrorKind::BadLiteralName {
                reason: "the element already has an attribute of that name",
                ..
            }
        ));
        assert_eq!(
            e(b"Foo\0", &[0x45, 0x84, 0x00, 0x05, 0x01, 0x01]),
            DecodeError {
                offset: 11,
                kind: ErrorKind::AttributeToken(0x05)
            }
        );
        assert_eq!(
            e(b"Foo\0a\0", &[0x45, 0x84, 0x00, 0x04, 0x04, 0xC3, 0x01, b'x', 0x01]).kind,
            ErrorKind::AttributeToken(0xC3)
        );
        // A tokenised tag with the attribute bit is still an error (never ActiveSync).
        assert_eq!(e(b"", &[0x45, 0xC5]).kind, ErrorKind::AttributeBit(0xC5));
    }

    // ---- other WBXML languages ----

    fn language_error(b: &[u8]) -> (usize, String) {
        let p = decode(b).unwrap_err();
        assert!(p.partial.root().is_none(), "nothing is decoded");
        assert!(matches!(p.error.kind, ErrorKind::NotActiveSync { .. }), "{}", p.error);
        (p.error.offset, p.error.kind.to_string())
    }

    #[test]
    fn other_languages_are_named_not_decoded() {
        // SyncML 1.2 as SyncML encoders write it: public id 0, the FPI in the string table.
        let fpi = b"-//SYNCML//DTD SyncML 1.2//EN\0";
        let mut syncml = vec![0x02, 0x00, 0x00, 0x6A, fpi.len() as u8];
        syncml.extend_from_slice(fpi);
        syncml.extend_from_slice(&[0x6D, 0x6C, 0x71, 0x03, b'1', b'.', b'2', 0, 0x01, 0x01]);
        assert_eq!(
            language_error(&syncml),
            (
                1,
                "SyncML WBXML (public id -//SYNCML//DTD SyncML 1.2//EN), not ActiveSync".into()
            )
        );
        // Registered numbers: WML 1.3, SyncML 1.1 (0x0FD3, two bytes), SI.
        assert_eq!(
            language_error(&[0x03, 0x0A, 0x6A, 0x00, 0x7F, 0x01]).1,
            "WML WBXML (public id 0x0A, -//WAPFORUM//DTD WML 1.3//EN), not ActiveSync"
        );
        assert_eq!(
            language_error(&[0x02, 0x9F, 0x53, 0x6A, 0x00, 0x6D, 0x01]).1,
            "SyncML WBXML (public id 0xFD3, -//SYNCML//DTD SyncML 1.1//EN), not ActiveSync"
        );
        assert_eq!(
            language_error(&[0x01, 0x05, 0x04, 0x00, 0x45, 0x01]).1,
            "Service Indication (SI) WBXML (public id 0x05, -//WAPFORUM//DTD SI 1.0//EN), not ActiveSync"
        );
        // Wireless Village by its string.
        let wv = b"-//WIRELESSVILLAGE//DTD CSP 1.1//EN\0";
        let mut doc = vec![0x03, 0x00, 0x00, 0x6A, wv.len() as u8];
        doc.extend_from_slice(wv);
        doc.extend_from_slice(&[0x45, 0x01]);
        assert_eq!(
            language_error(&doc).1,
            "Wireless Village WBXML (public id -//WIRELESSVILLAGE//DTD CSP 1.1//EN), not ActiveSync"
        );
        // ActiveSync's public id with a SyncML MetInf string in the table.
        let metinf = b"x\0-//SYNCML//DTD MetInf 1.1//EN\0";
        let mut doc = vec![0x03, 0x01, 0x6A, metinf.len() as u8];
        doc.extend_from_slice(metinf);
        doc.extend_from_slice(&[0x45, 0x01]);
        assert_eq!(
            language_error(&doc),
            (
                6,
                "SyncML WBXML (string table names -//SYNCML//DTD MetInf 1.1//EN), not ActiveSync".into()
            )
        );
    }

    #[test]
    fn active_sync_and_unknown_public_ids_decode() {
        // libwbxml's ActiveSync FPI from the string table: no warning about the public id.
        let fpi = b"-//MICROSOFT//DTD ActiveSync//EN\0";
        let mut doc = vec![0x03, 0x00, 0x00, 0x6A, fpi.len() as u8];
        doc.extend_from_slice(fpi);
        doc.extend_from_slice(&[0x45, 0x01]);
        let d = decode(&doc).unwrap();
        assert_eq!(d.root().unwrap().name(), Some("Sync"));
        assert!(
            !d.warnings.iter().any(|w| w.message.contains("public")),
            "{:?}",
            d.warnings
        );
        // An unregistered number, a string that names nothing, an index outside the table:
        // decoded as ActiveSync, with a warning.
        for (bytes, warning) in [
            (
                vec![0x03, 0x42, 0x6A, 0x00, 0x45, 0x01],
                "public id 0x42 instead of ActiveSync's 0x01 (unknown); decoded as ActiveSync",
            ),
            (
                vec![0x03, 0x00, 0x00, 0x6A, 0x03, b'q', b'z', 0, 0x45, 0x01],
                "public identifier \"qz\" from the string table is not ActiveSync's; decoded as ActiveSync",
            ),
            (
                vec![0x03, 0x00, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x6A, 0x00, 0x45, 0x01],
                "public identifier: string-table index 4294967295 is outside the 0-byte string table; decoded as ActiveSync",
            ),
        ] {
            let d = decode(&bytes).unwrap();
            assert_eq!(d.root().unwrap().name(), Some("Sync"));
            assert!(d.warnings.iter().any(|w| w.message == warning), "{:?}", d.warnings);
        }
    }

    // ---- hostile inputs (the small cases of the shared hostile set) ----

    #[test]
    fn hostile_inputs_end_cleanly() {
        let kind = |hex_input: &str| {
            decode(&hex::decode(hex_input).unwrap())
                .map(|_| ())
                .map_err(|p| p.error.kind)
        };
        // wbxml_strtbl_beyond: a string table of 2^32 - 1 bytes in a 10-byte file.
        assert_eq!(
            kind("03016a8fffffff7f4501"),
            Err(ErrorKind::LengthOverrun {
                what: "the string table",
                declared: u32::MAX,
                remaining: 2
            })
        );
        // wbxml_opaque_max
        assert!(matches!(
            kind("03016a0045c38fffffff7f"),
            Err(ErrorKind::LengthOverrun {
                what: "OPAQUE data",
                ..
            })
        ));
        // wbxml_mb_overflow, wbxml_mb_too_long
        assert_eq!(
            kind("0390808080006a004501"),
            Err(ErrorKind::MbUintOverflow("the public identifier"))
        );
        assert_eq!(
            kind("0381818181818101"),
            Err(ErrorKind::MbUintTooLong("the public identifier"))
        );
        // wbxml_switch_255: elements on page 255 are kept (as Unknown), with the error.
        let p = decode(&hex::decode("03016a004500ff450378000100ff0501").unwrap()).unwrap_err();
        assert_eq!(p.error.kind, ErrorKind::UndefinedPage(255));
        assert_eq!(p.partial.element_count(), 3);
        // wbxml_pubid0: public id from string-table index 2^32 - 1 of an empty table.
        assert_eq!(kind("03008fffffff7f6a004501"), Ok(()));
        // wbxml_empty
        assert_eq!(kind(""), Err(ErrorKind::Empty));
        // wbxml_ctrl_chars: terminal escapes are content like any other.
        assert_eq!(
            kind("03016a00454e031b5d303b50574e4544071b5b33316d524544c29b33316de280ae000101"),
            Ok(())
        );
        // wbxml_deep_1m_closed: 1,000,000 levels, closed; stops at the depth limit.
        let mut deep = vec![0x45; 1_000_000];
        deep.extend(std::iter::repeat_n(0x01, 1_000_000));
        let p = decode(&hdr(&deep)).unwrap_err();
        assert!(matches!(
            p.error.kind,
            ErrorKind::OverBudget {
                limit: Limit::Depth,
                max: 256,
                ..
            }
        ));
        assert_eq!(p.partial.element_count(), 256);
        // wbxml_valid_200m in small: Status elements without end; stops at the node limit.
        let mut valid = vec![0x45];
        for _ in 0..600_000 {
            valid.extend_from_slice(&[0x4E, 0x03, b'1', 0, 0x01]);
        }
        let p = decode_with(&hdr(&valid), Budget::ANALYSIS).unwrap_err();
        assert!(matches!(
            p.error.kind,
            ErrorKind::OverBudget {
                limit: Limit::Nodes,
                ..
            }
        ));
        // The corpus's libwbxml fuzz input with public id 5 (SI) is named, not decoded.
        assert!(matches!(
            kind("0305002d2f2fa841412d2f2f574150464f52554d2f2f4454442043"),
            Err(ErrorKind::NotActiveSync { .. })
        ));
    }
}
