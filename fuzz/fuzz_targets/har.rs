//! Arbitrary bytes → HAR reader → every body it recovered → HTTP body decoding.
//!
//! Oracles (besides "never panics"): reading a body of a parsed HAR capture never fails (HAR
//! bodies live in memory); a body kept in memory has the `stored_len` it claims.

#![no_main]

mod common;

use std::path::Path;

use common::hex_prefix;
use easlens_core::capture::{BodyLocation, EasIndexer, OpenOptions};
use easlens_core::http::decode_body;
use easlens_core::readers::har;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(capture) = har::parse(Path::new("fuzz.har"), data, &OpenOptions::default(), &EasIndexer) else {
        return;
    };
    let parts = capture.sessions.iter().flat_map(|(s, _)| {
        let request = s
            .request
            .as_ref()
            .map(|r| (s.index, "request", &r.body, &r.head.headers));
        let response = s
            .response
            .as_ref()
            .map(|r| (s.index, "response", &r.body, &r.head.headers));
        request.into_iter().chain(response)
    });
    for (index, which, body, headers) in parts {
        let raw = match capture.store.read(body) {
            Ok(raw) => raw,
            Err(e) => panic!(
                "session {index}: reading the {which} body failed: {e}\ninput: {}",
                hex_prefix(data, 4096)
            ),
        };
        if matches!(body.location, BodyLocation::Memory(_)) {
            assert_eq!(
                raw.len() as u64,
                body.stored_len,
                "session {index}: {which} body in memory differs from its stored_len\ninput: {}",
                hex_prefix(data, 4096)
            );
        }
        let _ = decode_body(&raw, headers);
    }
});
