//! WBXML → [`Document`], as ActiveSync uses WBXML 1.3 ([MS-ASWBXML] section 2.1.2, WBXML 1.2
//! section 5). Never panics and never recurses: on malformed input it returns a [`DecodeError`]
//! naming the byte offset and what was expected, with the tree decoded up to that point.

use thiserror::Error;

use super::codepages::PAGE_COUNT;
use super::document::{Document, Header, Tag, Warning};

/// Global tokens (WBXML 1.2 section 7.1). A byte whose low six bits are 0–4 is always a global
/// token, so they are tested before masking out the tag bits.
const SWITCH_PAGE: u8 = 0x00;
const END: u8 = 0x01;
const STR_I: u8 = 0x03;
const OPAQUE: u8 = 0xC3;

/// Names of the global tokens ActiveSync never uses ([MS-ASWBXML] 2.1.3: no entities, string
/// tables, processing instructions or extensions).
fn unused_global(b: u8) -> Option<&'static str> {
    Some(match b {
        0x02 => "ENTITY",
        0x04 => "LITERAL",
        0x40 => "EXT_I_0",
        0x41 => "EXT_I_1",
        0x42 => "EXT_I_2",
        0x43 => "PI",
        0x44 => "LITERAL_C",
        0x80 => "EXT_T_0",
        0x81 => "EXT_T_1",
        0x82 => "EXT_T_2",
        0x83 => "STR_T",
        0x84 => "LITERAL_A",
        0xC0 => "EXT_0",
        0xC1 => "EXT_1",
        0xC2 => "EXT_2",
        0xC4 => "LITERAL_AC",
        _ => return None,
    })
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
    #[error("END token with no open element")]
    UnexpectedEnd,
    #[error("SWITCH_PAGE to code page {0}, which ActiveSync does not define (pages 0-25)")]
    UndefinedPage(u8),
    #[error("tag byte 0x{0:02X} has the attribute bit set; ActiveSync WBXML has no attributes")]
    AttributeBit(u8),
    #[error("global token {name} (0x{byte:02X}) is not used by ActiveSync")]
    UnsupportedToken { byte: u8, name: &'static str },
    #[error("content outside the root element")]
    ContentOutsideRoot,
    #[error("no root element")]
    NoRoot,
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

/// Decodes a whole WBXML body.
pub fn decode(input: &[u8]) -> Result<Document, Box<PartialDecode>> {
    let mut d = Decoder {
        input,
        pos: 0,
        doc: Document::default(),
        first_error: None,
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
}

impl<'a> Decoder<'a> {
    fn record(&mut self, e: DecodeError) {
        self.first_error.get_or_insert(e);
    }

    fn err(&self, offset: usize, kind: ErrorKind) -> DecodeError {
        DecodeError { offset, kind }
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

    fn header(&mut self) -> Result<(), DecodeError> {
        let version = self.byte("the WBXML version byte")?;
        // WBXML 1.1–1.3 share this body grammar; anything else is not WBXML (e.g. XML text).
        if !(0x01..=0x03).contains(&version) {
            return Err(self.err(0, ErrorKind::NotWbxml(version)));
        }
        let mut public_id = self.mb_u_int32("the public identifier")?;
        if public_id == 0 {
            // "0 = the public id is a string-table index" (plain WBXML, never EAS).
            self.mb_u_int32("the public identifier's string-table index")?;
            public_id = 0;
        }
        let charset_at = self.pos;
        let charset = self.mb_u_int32("the charset")?;
        self.doc.header = Header {
            version,
            public_id,
            charset,
        };
        if charset != 106 {
            self.doc.warnings.push(Warning {
                offset: charset_at,
                message: format!("charset MIBenum {charset} instead of 106 (UTF-8); strings are read as UTF-8"),
            });
        }
        let table_at = self.pos;
        let table = self.counted("the string table")?.len();
        if table > 0 {
            self.doc.warnings.push(Warning {
                offset: table_at,
                message: format!("{table}-byte string table skipped (ActiveSync does not use string tables)"),
            });
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
                STR_I => {
                    let parent = *open.last().ok_or_else(|| self.err(at, ErrorKind::ContentOutsideRoot))?;
                    let rest = &self.input[self.pos..];
                    let len = rest.iter().position(|&c| c == 0).ok_or_else(|| {
                        self.err(
                            self.input.len(),
                            ErrorKind::Truncated("the NUL ending an inline string".into()),
                        )
                    })?;
                    self.doc.append_data(parent, &rest[..len], false);
                    self.pos += len + 1;
                }
                OPAQUE => {
                    let parent = *open.last().ok_or_else(|| self.err(at, ErrorKind::ContentOutsideRoot))?;
                    let data = self.counted("OPAQUE data")?;
                    self.doc.append_data(parent, data, true);
                }
                _ => {
                    if let Some(name) = unused_global(b) {
                        return Err(self.err(at, ErrorKind::UnsupportedToken { byte: b, name }));
                    }
                    if b & 0x80 != 0 {
                        return Err(self.err(at, ErrorKind::AttributeBit(b)));
                    }
                    if have_root && open.is_empty() {
                        return Err(self.err(at, ErrorKind::ContentOutsideRoot));
                    }
                    have_root = true;
                    let id = self.doc.start_element(open.last().copied(), Tag::new(page, b & 0x3F));
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

    fn open_name(&self, open: &[u32]) -> String {
        open.last().map(|&id| element_label(&self.doc, id)).unwrap_or_default()
    }

    /// Bytes after the root element are not part of the document (a real Exchange capture has a
    /// second copy of the request there): ignored with a warning.
    fn finish_root(&mut self) -> Result<(), DecodeError> {
        let extra = self.input.len() - self.pos;
        if extra > 0 {
            self.doc.warnings.push(Warning {
                offset: self.pos,
                message: format!("{extra} bytes after the end of the root element ignored"),
            });
        }
        Ok(())
    }
}

fn element_label(doc: &Document, id: u32) -> String {
    match doc.nodes.get(id as usize).map(|n| n.kind) {
        Some(super::document::Kind::Element(t)) => match (t.namespace(), t.name()) {
            (Some(ns), Some(n)) => format!("<{ns}:{n}>"),
            _ => format!("<Unknown page {} token 0x{:02X}>", t.page, t.token),
        },
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
        let doc = decode(&hdr(&body)).unwrap();
        assert_eq!(doc.element_count(), depth);
        assert_eq!(doc.walk().count(), 2 * depth);
    }
}
