//! Export: an opened [`Capture`], or the chosen sessions of it, written as a SAZ that Fiddler opens
//! or a HAR 1.2 that browsers open ([`export`]).
//!
//! Each session becomes an [`Exchange`]: its request head re-serialised (request line and headers
//! in their captured order and spelling, CRLF) followed by its body exactly as stored (still
//! chunked or compressed), the same for the response, and every fact the capture has (the six
//! timers, BitFlags, HTTPS, process, IP addresses, comment). The SAZ writer stores those bytes as
//! they are; the HAR writer decodes the bodies (HAR's `text` is the decoded body), keeping every
//! byte (base64 where it is not text). Sessions are read and written one at a time, so memory
//! follows the largest session, not the capture.
//!
//! The file is written to a temporary file in the output's folder and renamed into place at the
//! end: a failure leaves no half file, and an output that is the capture itself (by path, through
//! a symbolic link or a hard link) is refused before anything is written.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::Exchange;
use super::har::{HarOptions, HarStyle, HarVersion, HarWriter};
use super::saz::{RequestTarget, SazEncryption, SazOptions, SazWriter};
use crate::capture::{Body, BodyKept, Capture, Session, Timers};
use crate::http::{Headers, RequestHead, ResponseHead};
use crate::readers::Timer;

/// The zip comment of an exported SAZ.
pub const EXPORT_ZIP_COMMENT: &str = "easlens export";

/// The format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A Fiddler session archive.
    Saz,
    /// A HAR 1.2 file.
    Har,
}

impl ExportFormat {
    /// The format a file name asks for: `.saz` or `.har`, in any case.
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("saz") {
            Some(ExportFormat::Saz)
        } else if ext.eq_ignore_ascii_case("har") {
            Some(ExportFormat::Har)
        } else {
            None
        }
    }
}

/// Where and how to write an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportTarget {
    pub path: PathBuf,
    pub format: ExportFormat,
    /// SAZ only: encrypt every entry with this password (WinZip AES-256, as Fiddler's "Encrypt
    /// using AES256" option writes).
    pub password: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub format: ExportFormat,
    /// Sessions written.
    pub sessions: usize,
    /// The size of the file written.
    pub bytes: u64,
    /// Bodies the capture did not have (lost or left out by the HAR exporter that wrote it),
    /// written as left out: HAR with their size and a comment, SAZ as an empty body with Fiddler's
    /// "body dropped" BitFlag.
    pub bodies_missing: usize,
    /// What the format could not carry as the capture has it, one line a kind, with a count.
    pub notes: Vec<String>,
}

/// Why an export failed. Every message names the output file; nothing is left at its path.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error("{path}: this is the capture being exported; write the export to another file")]
    WouldOverwriteInput { path: PathBuf },
    #[error("{path}: no session at position {position} (the capture has {count})")]
    NoSuchSession {
        path: PathBuf,
        position: usize,
        count: usize,
    },
    #[error("{path}: only a SAZ archive can be password-protected, not a HAR file")]
    PasswordForHar { path: PathBuf },
    #[error("{path}: cannot read a body of session {session} from {capture}: {source}")]
    ReadBody {
        path: PathBuf,
        capture: PathBuf,
        session: u32,
        source: io::Error,
    },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Writes the sessions of `capture` at `sessions` (positions in `capture.sessions`, written in
/// that order and numbered from 1) to `target`. The capture's file is only read.
pub fn export(capture: &Capture, sessions: &[usize], target: &ExportTarget) -> Result<ExportSummary, ExportError> {
    let path = target.path.as_path();
    let io_error = |source| ExportError::Io {
        path: path.into(),
        source,
    };
    if target.password.is_some() && target.format == ExportFormat::Har {
        return Err(ExportError::PasswordForHar { path: path.into() });
    }
    let count = capture.sessions.len();
    if let Some(&position) = sessions.iter().find(|&&p| p >= count) {
        return Err(ExportError::NoSuchSession {
            path: path.into(),
            position,
            count,
        });
    }
    if same_file(&capture.origin, path) || same_file(&capture.path, path) {
        return Err(ExportError::WouldOverwriteInput { path: path.into() });
    }
    if path.is_dir() {
        return Err(io_error(io::Error::new(io::ErrorKind::IsADirectory, "is a folder")));
    }

    let mut temp = TempFile::beside(path).map_err(io_error)?;
    let out = BufWriter::with_capacity(256 * 1024, temp.file.try_clone().map_err(io_error)?);
    let mut notes = Notes::default();
    let mut bodies_missing = 0;
    let mut next = |position: usize| -> Result<Exchange, ExportError> {
        let x = exchange(capture, position, target.format, &mut notes).map_err(|(session, source)| {
            ExportError::ReadBody {
                path: path.into(),
                capture: capture.origin.clone(),
                session,
                source,
            }
        })?;
        bodies_missing +=
            usize::from(x.request_body_missing.is_some()) + usize::from(x.response_body_missing.is_some());
        Ok(x)
    };
    let out = match target.format {
        ExportFormat::Saz => {
            let options = SazOptions {
                password: target.password.clone().map(|p| (p, SazEncryption::Aes256)),
                request_target: RequestTarget::AsGiven,
                zip_comment: EXPORT_ZIP_COMMENT.to_string(),
                // Most entries are a few hundred bytes, where deflate's set-up is most of the
                // work: those are stored, the others deflated at the fastest level (a
                // 10,000-session capture in a fraction of the time, for a few per cent more bytes).
                level: Some(1),
                store_below: 512,
                ..SazOptions::default()
            };
            let mut w = SazWriter::new(out, sessions.len(), &options).map_err(io_error)?;
            for &position in sessions {
                w.write_session(&next(position)?).map_err(io_error)?;
            }
            w.finish().map_err(io_error)?
        }
        ExportFormat::Har => {
            let options = HarOptions {
                style: HarStyle::Easlens,
                version: HarVersion::V1_2,
                bom: false,
            };
            let mut w = HarWriter::new(out, &options).map_err(io_error)?;
            for &position in sessions {
                w.write_entry(&next(position)?).map_err(io_error)?;
            }
            w.finish().map_err(io_error)?
        }
    };
    out.into_inner().map_err(|e| io_error(e.into_error()))?;
    temp.file.sync_all().map_err(io_error)?;
    let bytes = temp.file.metadata().map_err(io_error)?.len();
    temp.persist(path).map_err(io_error)?;
    Ok(ExportSummary {
        path: path.into(),
        format: target.format,
        sessions: sessions.len(),
        bytes,
        bodies_missing,
        notes: notes.lines(),
    })
}

/// Whether `output` is the file at `input`: the same path once symbolic links are resolved (the
/// output's folder when the output does not exist yet), or the same file under another name.
pub fn same_file(input: &Path, output: &Path) -> bool {
    let resolved = |p: &Path| -> Option<PathBuf> {
        fs::canonicalize(p).ok().or_else(|| {
            let folder = p
                .parent()
                .filter(|f| !f.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(fs::canonicalize(folder).ok()?.join(p.file_name()?))
        })
    };
    if let (Some(a), Some(b)) = (resolved(input), resolved(output))
        && a == b
    {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (fs::metadata(input), fs::metadata(output)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    false
}

/// A new file beside the output, removed when dropped unless renamed into place.
struct TempFile {
    path: PathBuf,
    file: File,
    persisted: bool,
}

impl TempFile {
    fn beside(output: &Path) -> io::Result<TempFile> {
        let name = output
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let folder = output.parent().unwrap_or(Path::new(""));
        for attempt in 0u32.. {
            let mut temp_name = std::ffi::OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".{}-{attempt}.part", std::process::id()));
            let path = folder.join(temp_name);
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file,
                        persisted: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {}
                Err(e) => return Err(e),
            }
        }
        unreachable!("the loop returns")
    }

    fn persist(&mut self, to: &Path) -> io::Result<()> {
        fs::rename(&self.path, to)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Counts of what the format could not carry, by kind.
#[derive(Default)]
struct Notes(BTreeMap<&'static str, usize>);

impl Notes {
    fn add(&mut self, what: &'static str) {
        *self.0.entry(what).or_default() += 1;
    }

    fn lines(self) -> Vec<String> {
        self.0
            .into_iter()
            .map(|(what, n)| format!("{n} session(s): {what}"))
            .collect()
    }
}

/// Fiddler's placeholder for a session without a request (what it shows for an empty `_c.txt`).
const MISSING_REQUEST: &[u8] = b"GET http://MISSING-REQUEST/? HTTP/0.0\r\n\r\n";

/// The exchange of the session at `position`; the error names the session whose body could not
/// be read.
fn exchange(
    capture: &Capture,
    position: usize,
    format: ExportFormat,
    notes: &mut Notes,
) -> Result<Exchange, (u32, io::Error)> {
    let s: &Session = &capture.sessions[position];
    let read = |body: &Body| capture.raw_body(body).map_err(|e| (s.index, e));
    let missing = |body: &Body| (body.kept != BodyKept::Present).then_some(body.stored_len);
    let timers = complete_timers(&s.timers);
    let mut x = Exchange {
        sid: s.id.unwrap_or(u64::from(s.index)),
        started: timers.started().unwrap_or_default(),
        duration_ms: timers
            .duration_ms()
            .map_or(0, |d| d.round().clamp(0.0, f64::from(u32::MAX)) as u32),
        client_ip: s.client_ip.as_deref().unwrap_or_default().to_string(),
        server_ip: s.server_ip.as_deref().unwrap_or_default().to_string(),
        aborted: s.flags.aborted,
        generated_by_proxy: s.flags.generated,
        comment: s.comment.clone(),
        timers: Some(timers),
        process: s.process.as_deref().map(str::to_string),
        https: Some(s.flags.https),
        bit_flags: s.flags.bit_flags,
        ..Exchange::default()
    };

    match &s.request {
        Some(r) => {
            x.url = Some(r.url().into_owned()).filter(|u| !u.is_empty());
            let has_head = !r.head.method.is_empty();
            x.request = if has_head {
                request_head(&r.head, notes)
            } else if format == ExportFormat::Har {
                // HAR has no place for bytes that are not an HTTP request.
                notes.add("not an HTTP request: written under Fiddler's MISSING-REQUEST line");
                MISSING_REQUEST.to_vec()
            } else {
                Vec::new()
            };
            match missing(&r.body) {
                Some(n) => x.request_body_missing = Some(n),
                None => x.request.extend(read(&r.body)?),
            }
        }
        None if format == ExportFormat::Har => {
            notes.add("no request: written as Fiddler's MISSING-REQUEST line");
            x.request = MISSING_REQUEST.to_vec();
        }
        None => {}
    }

    if let Some(r) = &s.response {
        let has_head = !r.head.version.is_empty() || r.head.status != 0;
        if has_head || format == ExportFormat::Saz {
            let mut bytes = if has_head {
                response_head(&r.head, notes)
            } else {
                Vec::new()
            };
            match missing(&r.body) {
                Some(n) => x.response_body_missing = Some(n),
                None => bytes.extend(read(&r.body)?),
            }
            x.response = Some(bytes);
        } else {
            notes.add("not an HTTP response: written as no response");
        }
    }
    Ok(x)
}

/// The session's timers, with the end of the response set from a HAR's `time` when only that says
/// it (so a SAZ keeps the duration).
fn complete_timers(timers: &Timers) -> Timers {
    let mut timers = timers.clone();
    if timers.client_done_response().is_none()
        && let (Some(started), Some(ms)) = (timers.started(), timers.total_ms())
    {
        // In the timers' 100 ns ticks.
        let total = chrono::Duration::nanoseconds(((ms * 10_000.0).round() as i64).saturating_mul(100));
        timers.set(Timer::ClientDoneResponse, started.checked_add_signed(total));
    }
    timers
}

/// A request line and its headers, CRLF, ending with the blank line.
fn request_head(head: &RequestHead, notes: &mut Notes) -> Vec<u8> {
    // A request-target has no spaces on the wire; a HAR's URL may.
    let target = head.target.trim().replace(' ', "%20");
    let mut line = format!("{} {target}", head.method);
    if !head.version.is_empty() {
        line.push(' ');
        line.push_str(&head.version);
    }
    with_headers(line, &head.headers, notes)
}

/// A status line and its headers, CRLF, ending with the blank line. A version that is not
/// `HTTP/…` (a HAR's `h2`, `unknown` or nothing) is written as one, or no reader takes the line
/// for a status line.
fn response_head(head: &ResponseHead, notes: &mut Notes) -> Vec<u8> {
    let given = head.version.trim();
    let version = if given.len() > 5 && given[..5].eq_ignore_ascii_case("HTTP/") {
        given.to_string()
    } else {
        notes.add("a response version that is not HTTP/… written as one (h2 → HTTP/2, else HTTP/1.1)");
        match given.to_ascii_lowercase().as_str() {
            "h2" => "HTTP/2",
            "h3" => "HTTP/3",
            _ => "HTTP/1.1",
        }
        .to_string()
    };
    let mut line = format!("{version} {}", head.status);
    if !head.reason.is_empty() {
        line.push(' ');
        line.push_str(&head.reason);
    }
    with_headers(line, &head.headers, notes)
}

/// `first_line`, then each header as `Name: value`, CRLF, and the blank line. HTTP/2
/// pseudo-headers (`:authority`) are left out: HTTP/1 text has no place for them (the request
/// line and `Host` say the same).
fn with_headers(first_line: String, headers: &Headers, notes: &mut Notes) -> Vec<u8> {
    let mut out = first_line.into_bytes();
    out.extend_from_slice(b"\r\n");
    let mut pseudo = false;
    for (name, value) in headers.iter() {
        if name.starts_with(':') {
            pseudo = true;
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if pseudo {
        notes.add("HTTP/2 pseudo-headers (:authority, :path, …) left out of the header block");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_request;

    #[test]
    fn heads_are_written_in_their_order_and_spelling() {
        let raw = b"POST https://h/Microsoft-Server-ActiveSync?Cmd=Ping HTTP/1.1\r\nHost: h\r\nx-MS-Thing:  a b \r\nContent-Length: 0\r\n\r\n";
        let (head, _) = parse_request(raw).unwrap();
        let mut notes = Notes::default();
        assert_eq!(
            request_head(&head, &mut notes),
            b"POST https://h/Microsoft-Server-ActiveSync?Cmd=Ping HTTP/1.1\r\nHost: h\r\nx-MS-Thing: a b\r\nContent-Length: 0\r\n\r\n"
        );
        assert!(notes.lines().is_empty());
        let head = ResponseHead {
            version: "h2".into(),
            status: 200,
            reason: "".into(),
            headers: [
                (":status".to_string(), "200".to_string()),
                ("Server".into(), "x".into()),
            ]
            .into_iter()
            .collect(),
            problems: Vec::new(),
        };
        let mut notes = Notes::default();
        assert_eq!(response_head(&head, &mut notes), b"HTTP/2 200\r\nServer: x\r\n\r\n");
        assert_eq!(notes.lines().len(), 2);
    }

    #[test]
    fn a_har_time_becomes_the_end_of_the_response() {
        let mut timers = Timers::default();
        let start = chrono::DateTime::parse_from_rfc3339("2025-01-02T03:04:05.1234567+02:00").unwrap();
        timers.set(Timer::ClientBeginRequest, Some(start));
        timers.set_total_ms(Some(12.5));
        let done = complete_timers(&timers);
        assert_eq!(
            done.client_done_response(),
            Some(start + chrono::Duration::microseconds(12_500))
        );
        assert_eq!(done.duration_ms(), Some(12.5));
    }

    #[test]
    fn same_file_sees_through_links() {
        let dir = std::env::temp_dir().join(format!("easlens-export-same-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in.saz");
        fs::write(&input, b"PK").unwrap();
        assert!(same_file(&input, &input));
        assert!(same_file(&input, &dir.join(".").join("in.saz")));
        assert!(!same_file(&input, &dir.join("out.saz")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&input, dir.join("link.saz")).unwrap();
            assert!(same_file(&input, &dir.join("link.saz")));
            fs::hard_link(&input, dir.join("hard.saz")).unwrap();
            assert!(same_file(&input, &dir.join("hard.saz")));
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
