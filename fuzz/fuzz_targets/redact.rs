//! Arbitrary bytes → the redaction pass (`redact::Redactor`).
//!
//! The first byte picks what the rest is: a HAR file (every session it holds redacted), one
//! WBXML body sent and answered in an ActiveSync Sync (wrapped in a HAR), or text for the
//! free-text transforms (MIME, HTML, address lists, scrubbing).
//!
//! Oracles (besides "never panics"): the redacted capture has the same sessions; a WBXML body
//! that decodes is redacted into one that decodes to the same tags in the same order (only
//! content changes); the text transforms keep the number of lines.

#![no_main]

mod common;

use std::path::Path;

use common::hex_prefix;
use easlens_core::capture::{Capture, EasIndexer, OpenOptions, Session};
use easlens_core::http::Side;
use easlens_core::readers::har;
use easlens_core::redact::{Pseudonyms, Redactor, text};
use easlens_core::wbxml::{self, Event};
use libfuzzer_sys::fuzz_target;

fn capture_of(data: &[u8]) -> Option<Capture> {
    let loaded = har::parse(Path::new("fuzz.har"), data, &OpenOptions::default(), &EasIndexer).ok()?;
    let sessions = loaded
        .sessions
        .into_iter()
        .map(|(http, eas)| Session { http, eas })
        .collect();
    Some(Capture::new("fuzz.har".into(), loaded.format, sessions, loaded.warnings, loaded.store))
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    out
}

/// One Sync whose request and response bodies are `body`.
fn sync_har(body: &[u8]) -> String {
    let b = base64(body);
    format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"f","version":"1"}},"entries":[{{"startedDateTime":"2024-01-01T00:00:00Z","time":1,
        "request":{{"method":"POST","url":"https://h/Microsoft-Server-ActiveSync?Cmd=Sync&User=d%5Cjdoe&DeviceId=ABC123&DeviceType=T","httpVersion":"HTTP/1.1","cookies":[],"queryString":[],"headersSize":-1,"bodySize":{n},
          "headers":[{{"name":"Content-Type","value":"application/vnd.ms-sync.wbxml"}}],
          "postData":{{"mimeType":"application/vnd.ms-sync.wbxml","text":"{b}","encoding":"base64"}}}},
        "response":{{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"redirectURL":"","headersSize":-1,"bodySize":{n},
          "headers":[{{"name":"Content-Type","value":"application/vnd.ms-sync.wbxml"}}],
          "content":{{"size":{n},"mimeType":"application/vnd.ms-sync.wbxml","text":"{b}","encoding":"base64"}}}},
        "cache":{{}},"timings":{{"send":0,"wait":1,"receive":0}}}}]}}}}"#,
        n = body.len()
    )
}

fn tags(doc: &wbxml::Document) -> Vec<(wbxml::Tag, bool)> {
    doc.walk()
        .filter_map(|e| match e {
            Event::Start(el) => Some((el.tag(), true)),
            Event::End(el) => Some((el.tag(), false)),
            Event::Data { .. } => None,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        0 | 1 => {
            let har = if mode % 3 == 0 { rest.to_vec() } else { sync_har(rest).into_bytes() };
            let Some(capture) = capture_of(&har) else { return };
            let redacted = Redactor::new().capture(&capture, None);
            assert_eq!(redacted.sessions.len(), capture.sessions.len());
            for i in 0..capture.sessions.len() {
                for side in [Side::Request, Side::Response] {
                    let Ok(Some(before)) = capture.body_document(i, side) else { continue };
                    let after = redacted.body_document(i, side).ok().flatten().unwrap_or_else(|| {
                        panic!("session {i} {side:?}: the redacted body does not decode\ninput: {}", hex_prefix(data, 4096))
                    });
                    assert_eq!(
                        tags(&after),
                        tags(&before),
                        "session {i} {side:?}: redaction changed the tree\ninput: {}",
                        hex_prefix(data, 4096)
                    );
                }
            }
        }
        _ => {
            let s = String::from_utf8_lossy(rest);
            let mut map = Pseudonyms::new();
            let lines = s.lines().count();
            assert_eq!(text::neutral(&s).lines().count(), lines);
            assert_eq!(text::html(&s).lines().count(), lines);
            let _ = text::mime(&s, &mut map);
            let _ = text::people(&s, &mut map);
            let _ = text::zero_digits(&s);
            let _ = text::find_addresses(&s);
            let mut r = Redactor::new();
            let _ = r.scrub(&s);
            let _ = r.scrub(&s);
        }
    }
});
