//! Opening captures: Fiddler SAZ archives and HAR files, into the common [`Capture`] model.
//!
//! [`open`] detects the format from the bytes (not the extension), indexes every session on all
//! cores (reporting progress and honouring cancellation), and computes each session's EAS summary.
//! Bodies are not kept decoded; they are read again from the file when shown.

pub mod bodies;
pub mod har;
pub mod index;
pub mod model;
pub mod saz;
pub mod saz_meta;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

pub use model::{
    Body, BodyKept, BodyLocation, BodyStore, Capture, Format, Request, Response, Session, SessionFlags, Timers,
};

/// Why a password is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPrompt {
    pub path: PathBuf,
    /// 1 for the first question, 2 after one wrong answer, …
    pub attempt: u32,
    /// The previous answer was wrong.
    pub previous_was_wrong: bool,
}

/// Loading progress for the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// 0.0 ..= 1.0
    pub fraction: f32,
    pub message: String,
}

/// Answers a password prompt; `None` gives up.
pub type PasswordCallback<'a> = dyn Fn(&PasswordPrompt) -> Option<String> + Sync + 'a;
/// Receives progress reports, from worker threads.
pub type ProgressCallback<'a> = dyn Fn(Progress) + Sync + 'a;

/// How to open a capture. Every callback is optional.
#[derive(Default)]
pub struct OpenOptions<'a> {
    /// Asked for the password of an encrypted SAZ; `None` gives up (the open fails with
    /// [`OpenError::PasswordRequired`] or, after a wrong answer, [`OpenError::WrongPassword`]).
    pub password: Option<&'a PasswordCallback<'a>>,
    /// Called from worker threads with the progress so far.
    pub progress: Option<&'a ProgressCallback<'a>>,
    /// Set to true to stop loading; the open then fails with [`OpenError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

impl OpenOptions<'_> {
    pub fn report(&self, fraction: f32, message: impl Into<String>) {
        if let Some(p) = self.progress {
            p(Progress {
                fraction: fraction.clamp(0.0, 1.0),
                message: message.into(),
            });
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// Why a capture could not be opened at all. Every message names the file.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a capture: {reason}")]
    NotACapture { path: PathBuf, reason: String },
    #[error("{path}: the archive is password-protected and no password was given")]
    PasswordRequired { path: PathBuf },
    #[error("{path}: wrong password")]
    WrongPassword { path: PathBuf },
    #[error("{path}: damaged SAZ archive: {reason}")]
    BadArchive { path: PathBuf, reason: String },
    #[error("{path}: not a valid HAR file: {reason}")]
    BadHar { path: PathBuf, reason: String },
    #[error("{path}: loading cancelled")]
    Cancelled { path: PathBuf },
}

/// Opens a SAZ or HAR capture. The file is only ever read.
pub fn open(path: &Path, options: &OpenOptions<'_>) -> Result<Capture, OpenError> {
    options.report(0.0, format!("Opening {}", path.display()));
    let mut head = [0u8; 8];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|source| OpenError::Io {
            path: path.into(),
            source,
        })?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(source) => {
                    return Err(OpenError::Io {
                        path: path.into(),
                        source,
                    });
                }
            }
        }
        n
    };
    match detect(&head[..n]) {
        Some(Format::Saz) => saz::open(path, options),
        Some(Format::Har) => har::open(path, options),
        None if n == 0 => Err(OpenError::NotACapture {
            path: path.into(),
            reason: "the file is empty".into(),
        }),
        None => Err(OpenError::NotACapture {
            path: path.into(),
            reason: "neither a SAZ archive (zip) nor a HAR file (JSON)".into(),
        }),
    }
}

/// The format a file's first bytes announce: `PK` → SAZ (zip), `{` (after a BOM or whitespace) → HAR.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK") {
        return Some(Format::Saz);
    }
    let rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match rest.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(Format::Har),
        _ => None,
    }
}
