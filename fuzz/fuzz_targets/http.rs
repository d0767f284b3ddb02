//! Arbitrary bytes → HTTP header-block parsers, body decoding and the EAS request-target decoder.
//!
//! Each input is read both as a request (`raw/N_c.txt`) and as a response (`raw/N_s.txt`). Oracles
//! (besides "never panics"): the body offset is within the input; `decode_body` returns the raw
//! bytes unchanged when it undid nothing and never more than `MAX_DECODED` bytes; `dechunk` never
//! grows its input.

#![no_main]

mod common;

use common::hex_prefix;
use easlens_core::eas::query::{encode_base64_query, encode_plain_query, parse_request_target};
use easlens_core::http::body::{MAX_DECODED, dechunk};
use easlens_core::http::{Headers, decode_body, parse_request, parse_response};
use libfuzzer_sys::fuzz_target;

fn body(data: &[u8], offset: usize, headers: &Headers) {
    assert!(
        offset <= data.len(),
        "body offset {offset} past the end ({} bytes)\ninput: {}",
        data.len(),
        hex_prefix(data, 4096)
    );
    let raw = &data[offset..];
    let decoded = decode_body(raw, headers);
    assert!(
        decoded.bytes.len() as u64 <= MAX_DECODED,
        "decode_body returned {} bytes, more than MAX_DECODED\ninput: {}",
        decoded.bytes.len(),
        hex_prefix(data, 4096)
    );
    if decoded.steps.is_empty() {
        assert!(
            decoded.bytes == raw,
            "decode_body undid nothing ({:?}) but changed the bytes\ninput: {}",
            decoded.notes,
            hex_prefix(data, 4096)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = dechunk(data) {
        assert!(
            out.len() <= data.len(),
            "dechunk grew {} bytes into {}\ninput: {}",
            data.len(),
            out.len(),
            hex_prefix(data, 4096)
        );
    }

    if let Ok((head, offset)) = parse_request(data) {
        body(data, offset, &head.headers);
        if let Ok(line) = parse_request_target(&head.target) {
            let _ = encode_plain_query(&line);
            let _ = encode_base64_query(&line);
        }
    }

    if let Ok((head, offset)) = parse_response(data) {
        body(data, offset, &head.headers);
    }
});
