//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod r#gen;

use std::path::PathBuf;

/// `../shared/<sub>` beside the project, or `None` (with a message) when it is not there, so that
/// tests reading third-party material skip cleanly on a machine without it.
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} not found (the shared reference material is not beside the project)",
            dir.display()
        );
        None
    }
}
