//! Arbitrary bytes → a SAZ file on a RAM disk → the SAZ reader (central directory, the zip crate
//! for what it does not read itself, recovery from local headers, every session indexed) → every
//! body read back from the archive.
//!
//! Oracles (besides "never panics"): opening the same bytes twice gives the same sessions and
//! warnings; a body read back is never longer than the entry it comes from may inflate to.

#![no_main]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::hex_prefix;
use easlens_core::capture::{EasIndexer, OpenOptions};
use easlens_core::readers::saz::{self, MAX_ENTRY_SIZE};
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for each input.
fn file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| common::input_file("saz"))
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    std::fs::write(path, data).expect("write the input");
    let open = || saz::open(path, &OpenOptions::default(), &EasIndexer);
    let (first, second) = (open(), open());
    type Opened = Result<easlens_core::readers::Loaded<Option<easlens_core::eas::session::EasSummary>>, easlens_core::readers::OpenError>;
    let summary = |r: &Opened| match r {
        Ok(loaded) => Ok((loaded.sessions.len(), loaded.warnings.clone())),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(
        summary(&first),
        summary(&second),
        "the same bytes opened twice differ\ninput: {}",
        hex_prefix(data, 4096)
    );
    let Ok(loaded) = first else {
        return;
    };
    for (s, _) in &loaded.sessions {
        let bodies = [
            s.request.as_ref().map(|r| &r.body),
            s.response.as_ref().map(|r| &r.body),
        ];
        for body in bodies.into_iter().flatten() {
            if let Ok(bytes) = loaded.store.read(body) {
                assert!(
                    bytes.len() as u64 <= MAX_ENTRY_SIZE,
                    "session {}: a body of {} bytes\ninput: {}",
                    s.index,
                    bytes.len(),
                    hex_prefix(data, 4096)
                );
            }
        }
    }
});
