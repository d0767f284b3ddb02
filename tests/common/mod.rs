//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod r#gen;

use std::path::PathBuf;
use std::process::{Command, Output};

use easlens_core::capture::{self, Capture, OpenOptions};

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

/// `samples/<name>`: one of the bundled sample captures.
pub fn sample_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
}

/// [`sample_path`] as a command-line argument.
pub fn sample_arg(name: &str) -> String {
    sample_path(name).to_string_lossy().into_owned()
}

/// A bundled sample capture, opened (and indexed) without a password.
pub fn open_sample(name: &str) -> Capture {
    capture::open(&sample_path(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs the `easlens` binary with `args`.
pub fn easlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_easlens")).args(args).output().unwrap()
}

/// Runs `easlens` with `args`, expects exit 0, and returns the JSON array it printed.
pub fn easlens_json_array(args: &[&str]) -> Vec<serde_json::Value> {
    let out = easlens(args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    match serde_json::from_slice::<serde_json::Value>(&out.stdout) {
        Ok(serde_json::Value::Array(items)) => items,
        other => panic!("not a JSON array: {other:?}"),
    }
}
