//! Reading capture files: Fiddler SAZ archives and HAR files, into [`HttpSession`]s.
//!
//! [`open`] detects the format from the bytes (not the extension) and indexes every session on
//! all cores, reporting progress and honouring cancellation. The readers know HTTP and the file
//! formats, nothing of what the bodies mean: the caller passes an [`Indexer`] that computes its own
//! summary of each session while the reader has the body bytes in hand, so a body is read from
//! the file once. Bodies are not kept decoded; they are read again through the [`BodyStore`].

pub mod budget;
pub mod har;
pub mod index;
pub mod mailbox_log;
pub mod model;
pub mod saz;
pub mod saz_meta;

use std::fs::{File, FileType};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

pub use model::{
    Body, BodyKept, BodyLocation, BodyStore, Format, HttpSession, MemoryStore, Request, Response, SessionFlags, Timer,
    Timers,
};

/// What the caller of a reader computes from each session during the one pass over the file.
pub trait Indexer: Sync {
    /// What is kept beside each [`HttpSession`].
    type Summary: Send;

    /// Whether [`Indexer::summarize`] needs the session's bodies. A SAZ reader then reads them
    /// from the archive while indexing (other bodies are read only when shown). Asked once the
    /// request head, its URL and the tunnel flag are known; the bodies are not set yet.
    fn wants_bodies(&self, session: &HttpSession) -> bool;

    /// The summary of a complete session, given its raw (as stored) request and response bodies
    /// when [`Indexer::wants_bodies`] said so (empty slices otherwise).
    fn summarize(&self, session: &HttpSession, request_raw: &[u8], response_raw: &[u8]) -> Self::Summary;

    /// Whether `bytes` are a well-formed body. HAR recovery asks it when a text can be read two
    /// ways (UTF-8, or one character per byte) and both start like WBXML.
    fn is_well_formed_body(&self, bytes: &[u8]) -> bool;

    /// An upper bound on the memory [`Indexer::summarize`] uses beyond the raw bodies it is
    /// given (decoded copies, decompressed bodies), for raw bodies of `request_len` and
    /// `response_len` bytes. Asked once both heads are known; the reader reserves it with the
    /// bodies in [`budget::INDEXING_MEMORY`] before reading them, so that what the workers hold
    /// together stays bounded however many there are.
    fn working_memory(&self, session: &HttpSession, request_len: u64, response_len: u64) -> u64 {
        let _ = (session, request_len, response_len);
        0
    }
}

/// Reads sessions without summarizing them, for code that needs only the HTTP view. Not knowing
/// any body format, it takes every body as not well-formed.
pub struct NoIndex;

impl Indexer for NoIndex {
    type Summary = ();

    fn wants_bodies(&self, _: &HttpSession) -> bool {
        false
    }

    fn summarize(&self, _: &HttpSession, _: &[u8], _: &[u8]) {}

    fn is_well_formed_body(&self, _: &[u8]) -> bool {
        false
    }
}

/// What a reader read.
pub struct Loaded<S> {
    pub format: Format,
    /// Every session with the indexer's summary of it, in file order.
    pub sessions: Vec<(HttpSession, S)>,
    /// Problems with the file as a whole (recovered archive, unreadable entries, …).
    pub warnings: Vec<String>,
    /// Where the bodies are read again.
    pub store: Box<dyn BodyStore>,
}

impl<S> std::fmt::Debug for Loaded<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("format", &self.format)
            .field("sessions", &self.sessions.len())
            .field("warnings", &self.warnings)
            .finish()
    }
}

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
    /// The zone a mailbox log's times (server local time, written without one) are read in;
    /// `None` reads them as UTC.
    pub log_offset: Option<chrono::FixedOffset>,
    /// Read only the first this many sessions (in the capture's order), for a first look at a
    /// big capture while the whole of it loads; `None` reads them all. Readers that must parse
    /// the whole file first (HAR, mailbox logs) only build fewer sessions.
    pub first_sessions: Option<usize>,
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
    #[error("{path}: {what}, not a regular file; captures are read from files only")]
    NotAFile { path: PathBuf, what: &'static str },
}

/// Opens `path` for reading when it is a regular file, and gives its length. Named pipes,
/// devices, sockets and directories are refused before they are opened: opening a FIFO waits
/// for a writer, and reading a pipe or `/dev/zero` need never end.
pub fn open_file(path: &Path) -> Result<(File, u64), OpenError> {
    let io = |source| OpenError::Io {
        path: path.into(),
        source,
    };
    let not_a_file = |kind: FileType| OpenError::NotAFile {
        path: path.into(),
        what: file_kind(kind),
    };
    let kind = std::fs::metadata(path).map_err(io)?.file_type();
    if !kind.is_file() {
        return Err(not_a_file(kind));
    }
    let file = File::open(path).map_err(io)?;
    // The path may have been replaced in between: check what was opened.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_a_file(meta.file_type()));
    }
    Ok((file, meta.len()))
}

/// What a file that is not a regular file is, in words.
fn file_kind(kind: FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Reads a SAZ or HAR capture or a mailbox log, the format detected from the first bytes, running
/// `indexer` on every session. The file is only ever read.
pub fn open<I: Indexer>(path: &Path, options: &OpenOptions<'_>, indexer: &I) -> Result<Loaded<I::Summary>, OpenError> {
    options.report(0.0, format!("Opening {}", path.display()));
    let mut head = vec![0u8; mailbox_log::SNIFF];
    let n = {
        use std::io::Read;
        let (mut f, _) = open_file(path)?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
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
        Some(Format::Saz) => saz::open(path, options, indexer),
        Some(Format::Har) => har::open(path, options, indexer),
        Some(Format::MailboxLog) => mailbox_log::open(path, options, indexer),
        Some(Format::IisLog) => Err(OpenError::NotACapture {
            path: path.into(),
            reason: "an IIS log: open it with capture::open_iis".into(),
        }),
        None if n == 0 => Err(OpenError::NotACapture {
            path: path.into(),
            reason: "the file is empty".into(),
        }),
        None => Err(OpenError::NotACapture {
            path: path.into(),
            reason: "neither a SAZ archive (zip), a HAR file (JSON) nor an Exchange mailbox log".into(),
        }),
    }
}

/// The format of the file at `path`, from its first bytes ([`detect`]); a gzip file is looked
/// into.
pub fn sniff(path: &Path) -> Result<Option<Format>, OpenError> {
    use std::io::Read;
    let (f, _) = open_file(path)?;
    let mut head = Vec::with_capacity(4096);
    let io = |source| OpenError::Io {
        path: path.into(),
        source,
    };
    f.take(4096).read_to_end(&mut head).map_err(io)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::with_capacity(4096);
        let _ = flate2::read::MultiGzDecoder::new(&head[..])
            .take(4096)
            .read_to_end(&mut inflated);
        if is_w3c(&inflated) {
            return Ok(Some(Format::IisLog));
        }
    }
    Ok(detect(&head))
}

/// Whether text starts like an IIS (W3C extended) log: a `#Software:`, `#Version:`, `#Date:`
/// or `#Fields:` directive first.
fn is_w3c(head: &[u8]) -> bool {
    let rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    [
        &b"#Software: Microsoft Internet Information Services"[..],
        b"#Fields:",
        b"#Version: 1.0",
        b"#Date:",
    ]
    .iter()
    .any(|d| rest.starts_with(d))
}

/// The format a file's first bytes announce: `PK` → SAZ (zip), `{` (after a BOM or whitespace) →
/// HAR, a W3C directive first → IIS log, the text of a mailbox log (see
/// [`mailbox_log::looks_like_mailbox_log`]; up to 64 KiB of it) → mailbox log.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK") {
        return Some(Format::Saz);
    }
    if is_w3c(head) {
        return Some(Format::IisLog);
    }
    let rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match rest.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(Format::Har),
        _ if mailbox_log::looks_like_mailbox_log(head) => Some(Format::MailboxLog),
        _ => None,
    }
}
