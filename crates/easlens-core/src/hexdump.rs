//! Bytes from a pasted hex dump: plain hex (`03 01 6A 00`, `03016a00`), C-style (`0x03, 0x01`),
//! or a dump with offsets and an ASCII column as xxd, `hexdump -C` and Fiddler's HexView write
//! (`00000000: 0301 6a00 4503  ..j.E.`), which support engineers paste from tickets.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HexError {
    #[error("line {line}: {token:?} is not hex")]
    NotHex { line: usize, token: String },
    #[error("line {line}: {token:?} has an odd number of hex digits")]
    OddDigits { line: usize, token: String },
    #[error("no hex bytes found")]
    Empty,
}

/// Bytes shown per line by xxd, `hexdump -C` and Fiddler: after 16, the rest is the ASCII column.
const BYTES_PER_DUMP_LINE: usize = 16;

pub fn parse(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let (body, is_dump) = match strip_offset(line) {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let mut on_line = 0;
        for raw in body.split(|c: char| c.is_whitespace() || c == ',') {
            let token = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")).unwrap_or(raw);
            if token.is_empty() {
                continue;
            }
            if is_dump && on_line >= BYTES_PER_DUMP_LINE {
                break;
            }
            if !token.chars().all(|c| c.is_ascii_hexdigit()) {
                if is_dump {
                    break; // the ASCII column of a short last line
                }
                return Err(HexError::NotHex {
                    line: line_no,
                    token: raw.to_string(),
                });
            }
            let bytes = hex::decode(token).map_err(|_| HexError::OddDigits {
                line: line_no,
                token: raw.to_string(),
            })?;
            on_line += bytes.len();
            out.extend(bytes);
        }
    }
    if out.is_empty() { Err(HexError::Empty) } else { Ok(out) }
}

/// The rest of a dump line after its offset column (`00000010:` or `00000010  `), if it has one.
fn strip_offset(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let digits = line.find(|c: char| !c.is_ascii_hexdigit())?;
    // Offsets are 6–8 digits wide (hexdump 7, xxd/hexdump -C/Fiddler 8); shorter is data.
    if digits < 6 {
        return None;
    }
    let rest = &line[digits..];
    rest.strip_prefix(':').or_else(|| rest.strip_prefix("  "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_c_style() {
        assert_eq!(parse("03 01 6A 00\n45 01").unwrap(), [3, 1, 0x6A, 0, 0x45, 1]);
        assert_eq!(parse("03016a00").unwrap(), [3, 1, 0x6A, 0]);
        assert_eq!(parse("0x03, 0x01,0x6a").unwrap(), [3, 1, 0x6A]);
    }

    #[test]
    fn dumps_with_offsets_and_ascii() {
        let xxd = "00000000: 0301 6a00 455c 4f50 0343 6f6e 7461 6374  ..j.E\\OP.Contact\n00000010: 7300 01                                  s..\n";
        let got = parse(xxd).unwrap();
        assert_eq!(got, hex::decode("03016a00455c4f5003436f6e74616374730001").unwrap());
        let hd = "00000000  03 01 6a 00 45 5c 4f 50  03 43 6f 6e 74 61 63 74  |..j.E\\OP.Contact|\n00000010  73 00 01                                          |s..|\n";
        assert_eq!(parse(hd).unwrap(), got);
        // An ASCII column that happens to look like hex is not read as bytes.
        assert_eq!(
            parse("00000000  03 01 6a 00 45 5c 4f 50 03 43 6f 6e 74 61 63 74  cafe")
                .unwrap()
                .len(),
            16
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("03 01\nzz").unwrap_err(),
            HexError::NotHex {
                line: 2,
                token: "zz".into()
            }
        );
        assert_eq!(
            parse("031").unwrap_err(),
            HexError::OddDigits {
                line: 1,
                token: "031".into()
            }
        );
        assert_eq!(parse("  \n").unwrap_err(), HexError::Empty);
    }
}
