//! Arbitrary bytes → a mailbox log file on a RAM disk → the mailbox log reader (gzip, BOM and
//! UTF-16 sniffing, entry and field splitting, HTTP heads, XML bodies read into documents and
//! encoded, every session summarized as `capture::open` does).
//!
//! Oracles (besides "never panics"): every entry the splitter returns has a field, and splitting
//! the same text twice gives the same entries; every body of an opened log reads back from
//! memory with the length it claims.

#![no_main]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::hex_prefix;
use easlens_core::capture::{EasIndexer, OpenOptions};
use easlens_core::readers::mailbox_log;
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for each input.
fn file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| common::input_file("log"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = mailbox_log::text_of(data) {
        let parsed = mailbox_log::parse_text(&text);
        assert!(
            parsed.entries.iter().all(|e| !e.fields.is_empty()),
            "an entry without fields\ninput: {}",
            hex_prefix(data, 4096)
        );
        assert_eq!(parsed.entries, mailbox_log::parse_text(&text).entries);
    }
    let path = file();
    std::fs::write(path, data).expect("write the input");
    let Ok(loaded) = mailbox_log::open(path, &OpenOptions::default(), &EasIndexer) else {
        return;
    };
    for (s, _) in &loaded.sessions {
        for body in [s.request.as_ref().map(|r| &r.body), s.response.as_ref().map(|r| &r.body)]
            .into_iter()
            .flatten()
        {
            let bytes = loaded.store.read(body).expect("log bodies are in memory");
            assert_eq!(bytes.len() as u64, body.stored_len);
        }
    }
});
