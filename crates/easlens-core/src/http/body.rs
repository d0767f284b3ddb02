//! Bodies as they were on the wire → the bytes the application sent: de-chunk, then undo each
//! Content-Encoding (gzip, deflate as zlib or raw, brotli, zstd). Every step that fails falls back
//! to the bytes it was given, with a note; the raw bytes always stay available to the caller.

use std::borrow::Cow;
use std::io::Read;

use super::Headers;

/// Decompressed bodies larger than this are cut (a zip bomb must not take the machine down).
pub const MAX_DECODED: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedBody {
    pub bytes: Vec<u8>,
    /// What was undone, in order (`chunked`, `gzip`, …).
    pub steps: Vec<&'static str>,
    /// Steps that failed or were suspicious; the bytes are then those before the failing step.
    pub notes: Vec<String>,
    /// [`decode_body_within`] cut the bytes to its limit (they are the body's first bytes).
    pub cut: bool,
}

/// `bytes` as text when they are UTF-8 without control characters other than line breaks and
/// tabs (a body worth showing as text rather than as hex).
pub fn readable_text(bytes: &[u8]) -> Option<&str> {
    let t = std::str::from_utf8(bytes).ok()?;
    (!t.bytes().any(|b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'))).then_some(t)
}

/// Decodes `raw` according to `headers`. Fiddler's "Decode" button (or a HAR exporter) may already
/// have removed the encodings while leaving the headers, so each step first checks the bytes.
pub fn decode_body(raw: &[u8], headers: &Headers) -> DecodedBody {
    decode(raw, headers, MAX_DECODED, false)
}

/// [`decode_body`] for a consumer that reads at most `max` bytes of a body (never more than
/// [`MAX_DECODED`]): decompression stops at `max` as it does at [`MAX_DECODED`], and a longer body
/// (as sent, or after de-chunking) is cut to its first `max` bytes with a note instead of being
/// copied whole. The EAS summary decodes every body of a capture on several workers; this keeps
/// each body's copy within its budget.
pub fn decode_body_within(raw: &[u8], headers: &Headers, max: u64) -> DecodedBody {
    decode(raw, headers, max.min(MAX_DECODED), true)
}

fn decode(raw: &[u8], headers: &Headers, max: u64, cut: bool) -> DecodedBody {
    let mut out = DecodedBody::default();
    if raw.is_empty() {
        return out;
    }
    // Borrowed until a step succeeds: a body with nothing to undo is copied once, at the end.
    let mut bytes: Cow<'_, [u8]> = Cow::Borrowed(raw);
    if headers.has_token("transfer-encoding", "chunked") {
        match dechunk(&bytes) {
            Ok(b) => {
                bytes = Cow::Owned(b);
                out.steps.push("chunked");
            }
            Err(e) => out.notes.push(format!(
                "Transfer-Encoding: chunked, but the body is not chunked ({e}); shown as is"
            )),
        }
    }
    // Content-Encoding lists codings in the order they were applied; undo them in reverse.
    let codings = headers.content_codings();
    for coding in codings.iter().rev() {
        let limit = Limit { max, cut };
        let result =
            match coding.as_str() {
                "gzip" | "x-gzip" => inflate(flate2::read::MultiGzDecoder::new(&bytes[..]), limit, gzip_size(&bytes))
                    .map(|b| (b, "gzip")),
                "deflate" => inflate(flate2::read::ZlibDecoder::new(&bytes[..]), limit, guessed_size(&bytes))
                    .map(|b| (b, "deflate"))
                    .or_else(|_| {
                        inflate(
                            flate2::read::DeflateDecoder::new(&bytes[..]),
                            limit,
                            guessed_size(&bytes),
                        )
                        .map(|b| (b, "raw deflate"))
                    }),
                "br" => inflate(brotli::Decompressor::new(&bytes[..], 4096), limit, guessed_size(&bytes))
                    .map(|b| (b, "brotli")),
                "zstd" => zstd_decode(&bytes, limit).map(|b| (b, "zstd")),
                other => {
                    out.notes
                        .push(format!("unknown Content-Encoding {other:?}; shown as is"));
                    break;
                }
            };
        match result {
            Ok(((b, whole), step)) => {
                bytes = Cow::Owned(b);
                out.steps.push(step);
                if !whole {
                    // Only in `cut` mode: the first `max` bytes of a longer body.
                    out.notes.push(format!(
                        "more than {} once decompressed ({step}): cut to the first {} (the most kept of one body here)",
                        size_text(max),
                        size_text(max)
                    ));
                    out.cut = true;
                    break;
                }
            }
            Err(e) => {
                out.notes.push(format!(
                    "Content-Encoding: {coding}, but decompression failed ({e}); shown as is"
                ));
                break;
            }
        }
    }
    if cut && bytes.len() as u64 > max {
        out.notes.push(format!(
            "{} bytes, cut to the first {} (the most kept of one body here)",
            bytes.len(),
            size_text(max)
        ));
        out.cut = true;
        bytes = Cow::Owned(bytes[..max as usize].to_vec());
    }
    out.bytes = bytes.into_owned();
    out
}

/// `max` in words: "64 MiB", or "100 bytes" below a MiB.
fn size_text(max: u64) -> String {
    if max >= 1 << 20 {
        format!("{} MiB", max >> 20)
    } else {
        format!("{max} bytes")
    }
}

/// How much a decompression may produce, and what happens past it: an error (a bomb, shown as
/// sent), or with `cut` the first `max` bytes.
#[derive(Clone, Copy)]
struct Limit {
    max: u64,
    cut: bool,
}

/// The decompressed bytes, and whether they are whole.
/// A guess at the decompressed size of `bytes` (text compresses about 4:1).
fn guessed_size(bytes: &[u8]) -> u64 {
    bytes.len() as u64 * 4
}

/// The size a gzip stream says it inflates to (its last member's ISIZE), when deflate's largest
/// ratio (1032:1) allows it; else a guess.
fn gzip_size(bytes: &[u8]) -> u64 {
    match bytes.last_chunk::<4>() {
        Some(isize) if bytes.len() >= 18 => u64::from(u32::from_le_bytes(*isize)).min(bytes.len() as u64 * 1032),
        _ => guessed_size(bytes),
    }
}

/// Decompresses up to `limit`. The output starts at the `expected` size (never more than the
/// limit): grown from empty, the first reads were of a
/// few dozen bytes, and zlib copied its window after each one.
fn inflate(reader: impl Read, limit: Limit, expected: u64) -> std::io::Result<(Vec<u8>, bool)> {
    let most = (limit.max + 1).min(expected.max(64));
    let mut out = Vec::with_capacity(usize::try_from(most).unwrap_or(0));
    let n = reader.take(limit.max + 1).read_to_end(&mut out)?;
    if n as u64 > limit.max {
        if limit.cut {
            out.truncate(limit.max as usize);
            return Ok((out, false));
        }
        return Err(std::io::Error::other(format!(
            "more than {} once decompressed",
            size_text(limit.max)
        )));
    }
    Ok((out, true))
}

fn zstd_decode(bytes: &[u8], limit: Limit) -> std::io::Result<(Vec<u8>, bool)> {
    inflate(zstd::stream::read::Decoder::new(bytes)?, limit, guessed_size(bytes))
}

/// Removes HTTP/1.1 chunked framing (RFC 9112 section 7.1), ignoring chunk extensions and
/// trailers. A body that ends before its last chunk is an error.
pub fn dechunk(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut pos = 0usize;
    loop {
        let line_end = memchr::memchr(b'\n', &bytes[pos..]).ok_or("no chunk-size line")? + pos;
        let line = std::str::from_utf8(&bytes[pos..line_end]).map_err(|_| "chunk-size line is not text")?;
        let size_text = line.trim_end_matches('\r').split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?} at byte {pos}"))?;
        pos = line_end + 1;
        if size == 0 {
            return Ok(out); // trailers, if any, are not body
        }
        let end = pos
            .checked_add(size)
            .filter(|&e| e <= bytes.len())
            .ok_or(format!("chunk of {size} bytes at byte {pos} runs past the end"))?;
        out.extend_from_slice(&bytes[pos..end]);
        pos = end;
        // CRLF (or LF) after the chunk data.
        if bytes[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if bytes[pos..].starts_with(b"\n") {
            pos += 1;
        } else if pos == bytes.len() {
            return Err("body ends before the last chunk".into());
        } else {
            return Err(format!("no line end after the chunk at byte {pos}"));
        }
    }
}

/// The most a deflate stream (gzip, zlib or raw deflate) inflates to per byte: 258 bytes per
/// length/distance pair of at least two bits.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// An upper bound on the memory [`decode_body`] holds for `len` raw bytes sent with `headers`,
/// beyond the caller's `raw`: the de-chunked copy, each decompressed output (with room for the
/// buffer growing: twice its size; deflate streams inflate at most 1032-fold, brotli and zstd
/// are taken at [`MAX_DECODED`]) and the final copy when nothing is undone.
pub fn decode_memory_bound(len: u64, headers: &Headers) -> u64 {
    if len == 0 {
        return 0;
    }
    let mut total = len;
    let mut current = len;
    if headers.has_token("transfer-encoding", "chunked") {
        total = total.saturating_add(len);
    }
    for coding in headers.content_codings().iter().rev() {
        let out = match coding.as_str() {
            "gzip" | "x-gzip" | "deflate" => current.saturating_mul(DEFLATE_MAX_RATIO).saturating_add(1024),
            "br" | "zstd" => MAX_DECODED,
            _ => break,
        }
        .min(MAX_DECODED + 1);
        total = total.saturating_add(out.saturating_mul(2));
        current = out;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn within_a_limit_bodies_are_cut_not_copied_whole() {
        let plain = vec![b'x'; 100];
        let d = decode_body_within(&plain, &headers(&[]), 40);
        assert_eq!((d.bytes.len(), d.cut), (40, true));
        assert_eq!(
            d.notes,
            ["100 bytes, cut to the first 40 bytes (the most kept of one body here)"]
        );
        // decode_body keeps a body that needs nothing undone whole, and stops bombs as before.
        let d = decode_body(&plain, &headers(&[]));
        assert_eq!((d.bytes, d.cut), (plain.clone(), false));
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&plain).unwrap();
        let z = e.finish().unwrap();
        let d = decode_body_within(&z, &headers(&[("Content-Encoding", "deflate")]), 40);
        assert_eq!(
            (d.bytes.as_slice(), d.cut, d.steps.as_slice()),
            (&plain[..40], true, &["deflate"][..])
        );
        assert_eq!(
            d.notes,
            [
                "more than 40 bytes once decompressed (deflate): cut to the first 40 bytes (the most kept of one body here)"
            ]
        );
        let d = decode_body_within(&z, &headers(&[("Content-Encoding", "deflate")]), 100);
        assert_eq!((d.bytes, d.cut), (plain, false));
    }

    #[test]
    fn chunked_then_gzip() {
        let payload = b"\x03\x01\x6a\x00\x45\x01";
        let gz = gzip(payload);
        let mut chunked = format!("{:x}\r\n", 5).into_bytes();
        chunked.extend_from_slice(&gz[..5]);
        chunked.extend_from_slice(format!("\r\n{:x};ext=1\r\n", gz.len() - 5).as_bytes());
        chunked.extend_from_slice(&gz[5..]);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let d = decode_body(
            &chunked,
            &headers(&[("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")]),
        );
        assert_eq!(d.bytes, payload);
        assert_eq!(d.steps, vec!["chunked", "gzip"]);
        assert!(d.notes.is_empty());
    }

    #[test]
    fn deflate_zlib_or_raw_and_brotli() {
        let payload = b"hello hello hello";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(payload).unwrap();
        let d = decode_body(&z.finish().unwrap(), &headers(&[("Content-Encoding", "deflate")]));
        assert_eq!(
            (d.bytes.as_slice(), d.steps.as_slice()),
            (&payload[..], &["deflate"][..])
        );
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(payload).unwrap();
        let d = decode_body(&r.finish().unwrap(), &headers(&[("Content-Encoding", "deflate")]));
        assert_eq!(
            (d.bytes.as_slice(), d.steps.as_slice()),
            (&payload[..], &["raw deflate"][..])
        );
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 5, 22)
            .write_all(payload)
            .unwrap();
        let d = decode_body(&br, &headers(&[("Content-Encoding", "br")]));
        assert_eq!(d.bytes, payload);
    }

    #[test]
    fn failures_fall_back_with_a_note() {
        let d = decode_body(b"not gzip", &headers(&[("Content-Encoding", "gzip")]));
        assert_eq!(d.bytes, b"not gzip");
        assert!(d.notes[0].contains("decompression failed"), "{:?}", d.notes);
        let d = decode_body(b"\x03\x01\x6a\x00", &headers(&[("Transfer-Encoding", "chunked")]));
        assert_eq!(d.bytes, b"\x03\x01\x6a\x00");
        assert!(d.notes[0].contains("not chunked"));
        let d = decode_body(b"abc", &headers(&[("Content-Encoding", "compress")]));
        assert!(d.notes[0].contains("unknown Content-Encoding"));
    }

    #[test]
    fn dechunk_errors() {
        assert!(dechunk(b"5\r\nab").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"2\r\nab").is_err());
        assert_eq!(dechunk(b"2\nab\n0\n\n").unwrap(), b"ab");
        assert!(dechunk(b"ffffffffffffffff\r\n").is_err());
    }
}
