//! Multipart ItemOperations responses ([MS-ASCMD] section 2.2.1.10.1.1, MultiPartResponse): sent
//! when the client asks with `MS-ASAcceptMultiPart: T` (or the AcceptMultiPart query option), as
//! `application/vnd.ms-sync.multipart`. Layout, all integers 32-bit little-endian:
//! `PartsCount`, then `PartsCount × (Offset, Length)`, then the parts. Part 0 is the WBXML
//! response; `itemoperations:Part` elements refer to the other parts by index.

use std::ops::Range;

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MultipartError {
    #[error("body is {0} bytes, too short for a multipart part table")]
    TooShort(usize),
    #[error("part count {count} needs a {needed}-byte table but the body has {len} bytes")]
    TableTooLong { count: u32, needed: u64, len: usize },
    #[error("part {index} (offset {offset}, length {length}) lies outside the {len}-byte body")]
    PartOutside {
        index: usize,
        offset: u32,
        length: u32,
        len: usize,
    },
    #[error("multipart body declares no parts")]
    NoParts,
}

/// The part table of a multipart body: byte ranges of each part, part 0 first.
pub fn parts(body: &[u8]) -> Result<Vec<Range<usize>>, MultipartError> {
    let word = |at: usize| -> Option<u32> { Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?)) };
    let count = word(0).ok_or(MultipartError::TooShort(body.len()))?;
    if count == 0 {
        return Err(MultipartError::NoParts);
    }
    let table_end = 4 + 8 * u64::from(count);
    if table_end > body.len() as u64 {
        return Err(MultipartError::TableTooLong {
            count,
            needed: table_end,
            len: body.len(),
        });
    }
    (0..count as usize)
        .map(|i| {
            let (offset, length) = (word(4 + 8 * i).unwrap_or(0), word(8 + 8 * i).unwrap_or(0));
            let end = u64::from(offset) + u64::from(length);
            if u64::from(offset) < table_end || end > body.len() as u64 {
                return Err(MultipartError::PartOutside {
                    index: i,
                    offset,
                    length,
                    len: body.len(),
                });
            }
            Ok(offset as usize..end as usize)
        })
        .collect()
}

/// True when the body is a well-formed multipart body. A WBXML body never is: its header
/// `03 01 6A 00` read as a part count would need a 55 MB table.
pub fn is_multipart(body: &[u8]) -> bool {
    parts(body).is_ok()
}

/// Builds a multipart body from its parts (for tests and the sample generator).
pub fn build(parts: &[&[u8]]) -> Vec<u8> {
    let table_end = 4 + 8 * parts.len();
    let mut out = Vec::with_capacity(table_end + parts.iter().map(|p| p.len()).sum::<usize>());
    out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
    let mut offset = table_end;
    for p in parts {
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        offset += p.len();
    }
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_the_spec_example_shape() {
        // Two parts as in MS-ASCMD 4.10.5.2: part 0 at offset 20, part 1 right after.
        let body = build(&[&[0x03, 0x01, 0x6A, 0x00, 0x45, 0x01], b"This is the body.\r\n"]);
        assert_eq!(parts(&body).unwrap(), vec![20..26, 26..45]);
        assert!(!is_multipart(&[0x03, 0x01, 0x6A, 0x00, 0x45, 0x01]));
    }

    #[test]
    fn bad_tables_are_errors() {
        assert_eq!(parts(&[1, 0]), Err(MultipartError::TooShort(2)));
        assert_eq!(parts(&[0, 0, 0, 0]), Err(MultipartError::NoParts));
        assert!(matches!(
            parts(&[0xFF, 0xFF, 0xFF, 0xFF]),
            Err(MultipartError::TableTooLong { .. })
        ));
        let mut body = build(&[b"abc"]);
        body[8] = 9; // length 9 > what is there
        assert!(matches!(
            parts(&body),
            Err(MultipartError::PartOutside { index: 0, .. })
        ));
    }
}
