//! The index layer: an opened [`Capture`], the API the window, the CLI and the analyses work on.
//!
//! [`open`] runs a reader ([`crate::readers`]) with [`EasIndexer`], so that each session's EAS
//! summary is computed in the same pass that reads it, while its bodies are in hand. A [`Session`]
//! is then what the reader read plus that EAS view, and is named by [`label`]. Bodies are not
//! kept decoded; [`bodies`] reads and decodes them again when shown, keeping the last few.

pub mod bodies;
pub mod label;

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use crate::content::{self, BodyContext, Budget, Content};
use crate::eas::session::{self as eas_session, EasSummary};
use crate::http::Side;
use crate::iis::{self, IisFacts};
use crate::readers::{self, HttpSession, Indexer};
use crate::wbxml;

pub use label::{CommandNaming, LabelStyle, NoCommand};

pub use crate::readers::{
    Body, BodyKept, BodyLocation, BodyStore, Format, OpenError, OpenOptions, PasswordCallback, PasswordPrompt,
    Progress, ProgressCallback, Request, Response, SessionFlags, Timers,
};

/// One session of a capture: what the reader read, plus the EAS view computed while indexing.
///
/// It derefs (mutably too) to its [`HttpSession`]: the index layer only adds the EAS view to what
/// the reader produced, so `s.request`, `s.flags` or `s.notes` read the same on either, and
/// code that needs only the HTTP facts can take a `&HttpSession`.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub http: HttpSession,
    /// The EAS view, for requests to the ActiveSync endpoint.
    pub eas: Option<EasSummary>,
    /// What an IIS log line says beyond the exchange rebuilt from it (IIS logs only).
    pub iis: Option<Box<IisFacts>>,
}

impl Session {
    /// An empty session numbered `index`, without an EAS view.
    pub fn new(index: u32) -> Self {
        HttpSession::new(index).into()
    }

    /// Its problems: the reader's notes, then the EAS layer's.
    pub fn problems(&self) -> impl Iterator<Item = &String> {
        self.http
            .notes
            .iter()
            .chain(self.eas.iter().flat_map(|e| e.notes.iter()))
    }

    /// All that is said of it: its problems, then what its source says besides (its facts).
    pub fn remarks(&self) -> impl Iterator<Item = &String> {
        self.problems().chain(&self.http.facts)
    }
}

impl From<HttpSession> for Session {
    fn from(http: HttpSession) -> Self {
        Session {
            http,
            eas: None,
            iis: None,
        }
    }
}

impl Deref for Session {
    type Target = HttpSession;

    fn deref(&self) -> &HttpSession {
        &self.http
    }
}

impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut HttpSession {
        &mut self.http
    }
}

/// The indexer [`open`] runs: the EAS summary of every ActiveSync session (bodies are read while
/// indexing only for those), and WBXML as the judge of a well-formed body.
pub struct EasIndexer;

impl Indexer for EasIndexer {
    type Summary = Option<EasSummary>;

    fn wants_bodies(&self, session: &HttpSession) -> bool {
        eas_session::is_eas_session(session)
    }

    /// What decoding both bodies may hold
    /// ([`decode_memory_bound`](crate::http::body::decode_memory_bound)); the WBXML trees
    /// decoded from them are not counted.
    fn working_memory(&self, session: &HttpSession, request_len: u64, response_len: u64) -> u64 {
        if !eas_session::is_eas_session(session) {
            return 0;
        }
        let request = session.request.as_ref().map_or(0, |r| {
            crate::http::body::decode_memory_bound(request_len, &r.head.headers)
        });
        let response = session.response.as_ref().map_or(0, |r| {
            crate::http::body::decode_memory_bound(response_len, &r.head.headers)
        });
        request.saturating_add(response)
    }

    fn summarize(&self, session: &HttpSession, request_raw: &[u8], response_raw: &[u8]) -> Option<EasSummary> {
        summarize(session, request_raw, response_raw)
    }

    /// Decoded within the analysis budget like every body of the summary; a body that decodes
    /// well up to that budget counts as well-formed.
    fn is_well_formed_body(&self, bytes: &[u8]) -> bool {
        match wbxml::decode_with(bytes, Budget::ANALYSIS) {
            Ok(_) => true,
            Err(p) => matches!(p.error.kind, wbxml::ErrorKind::OverBudget { .. }),
        }
    }
}

/// The EAS view of `session` from its raw (as stored) bodies, as [`open`] computes it; `None`
/// when the session is not an ActiveSync request (or is a CONNECT tunnel).
pub fn summarize(session: &HttpSession, request_raw: &[u8], response_raw: &[u8]) -> Option<EasSummary> {
    if !eas_session::is_eas_session(session) {
        return None;
    }
    let request = body_content(session, Side::Request, request_raw, Budget::ANALYSIS)?;
    let response = eas_session::reads_body(session, Side::Response)
        .then(|| body_content(session, Side::Response, response_raw, Budget::ANALYSIS))
        .flatten();
    eas_session::summarize(session, &request, response.as_ref())
}

/// The body of one side of `session`; `None` when there is no such side.
pub(crate) fn body_of(session: &HttpSession, side: Side) -> Option<&Body> {
    match side {
        Side::Request => session.request.as_ref().map(|r| &r.body),
        Side::Response => session.response.as_ref().map(|r| &r.body),
    }
}

/// What one side's body of `session` holds, from its raw bytes, analysed within `budget`; `None`
/// when there is no such side.
pub(crate) fn body_content(session: &HttpSession, side: Side, raw: &[u8], budget: Budget) -> Option<Content> {
    let (body, headers, method) = match side {
        Side::Request => session
            .request
            .as_ref()
            .map(|r| (&r.body, &r.head.headers, r.head.method.as_str()))?,
        Side::Response => session.response.as_ref().map(|r| (&r.body, &r.head.headers, ""))?,
    };
    let context = BodyContext {
        side,
        method,
        tunnel: session.flags.tunnel,
    };
    Some(content::analyse(raw, body, headers, &context, budget))
}

/// Opens a SAZ or HAR capture, a mailbox log or an IIS log (or a folder of IIS logs) and indexes
/// it. The file is only ever read.
pub fn open(path: &Path, options: &OpenOptions<'_>) -> Result<Capture, OpenError> {
    if is_iis_log(path) {
        return open_iis(&[path.to_path_buf()], options, None);
    }
    let loaded = readers::open(path, options, &EasIndexer)?;
    Ok(capture_of(path, loaded))
}

/// Opens IIS logs (files or folders, several servers) as one capture of their ActiveSync lines in
/// time order ([`iis::sessions`]). With `device` (lining the logs up with that device's capture),
/// only that device's lines, and a back-end line folded into the front-end line of the same
/// request.
pub fn open_iis(paths: &[PathBuf], options: &OpenOptions<'_>, device: Option<&str>) -> Result<Capture, OpenError> {
    let first = paths.first().cloned().unwrap_or_default();
    let read = iis::sessions(paths, options, device).map_err(|e| match e {
        iis::IisError::Io { path, source } => OpenError::Io { path, source },
        iis::IisError::Cancelled { path } => OpenError::Cancelled { path },
        e => OpenError::NotACapture {
            path: first.clone(),
            reason: e.to_string(),
        },
    })?;
    let sessions = read
        .sessions
        .into_iter()
        .map(|(http, eas, facts)| Session {
            http,
            eas,
            iis: Some(Box::new(facts)),
        })
        .collect();
    let mut c = Capture::new(
        first,
        Format::IisLog,
        sessions,
        read.warnings,
        Box::new(readers::MemoryStore),
    );
    c.iis_reports = Some(std::sync::Arc::new(read.reports));
    Ok(c)
}

/// Whether `path` is an IIS log, or a folder whose first file is one.
pub fn is_iis_log(path: &Path) -> bool {
    if path.is_dir() {
        return iis::scan::files_of(&[path.to_path_buf()])
            .ok()
            .and_then(|files| files.into_iter().next())
            .is_some_and(|f| readers::sniff(&f).ok().flatten() == Some(Format::IisLog));
    }
    readers::sniff(path).ok().flatten() == Some(Format::IisLog)
}

/// Opens several mailbox logs (dumps of one device; a directory stands for its files) as one
/// capture, entries repeated across dumps read once ([`readers::mailbox_log::open_logs`]); or,
/// when the first is an IIS log, IIS logs ([`open_iis`]).
pub fn open_logs(paths: &[&Path], options: &OpenOptions<'_>) -> Result<Capture, OpenError> {
    if paths.first().is_some_and(|p| is_iis_log(p)) {
        let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
        return open_iis(&paths, options, None);
    }
    let loaded = readers::mailbox_log::open_logs(paths, options, &EasIndexer)?;
    Ok(capture_of(paths.first().copied().unwrap_or(Path::new("")), loaded))
}

pub(crate) fn capture_of(path: &Path, loaded: readers::Loaded<Option<EasSummary>>) -> Capture {
    let sessions = loaded
        .sessions
        .into_iter()
        .map(|(http, eas)| Session { http, eas, iis: None })
        .collect();
    Capture::new(path.into(), loaded.format, sessions, loaded.warnings, loaded.store)
}

/// An opened capture.
pub struct Capture {
    /// The file as views and reports name it: the file opened, or for a redacted copy the same
    /// folder and a redacted file name (a capture is often named after its user).
    pub path: PathBuf,
    /// The file the sessions were read from (exports never write over it).
    pub origin: PathBuf,
    pub format: Format,
    pub sessions: Vec<Session>,
    /// Problems with the file as a whole (recovered archive, unreadable entries, …).
    pub warnings: Vec<String>,
    pub(crate) store: Box<dyn BodyStore>,
    /// The last bodies decoded for display (see `Capture::body_view`).
    pub(crate) cache: bodies::Cache,
    /// IIS logs: the Log Parser Studio reports of every line read (all devices).
    pub iis_reports: Option<std::sync::Arc<iis::reports::Reports>>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("sessions", &self.sessions.len())
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl Capture {
    pub fn new(
        path: PathBuf,
        format: Format,
        sessions: Vec<Session>,
        warnings: Vec<String>,
        store: Box<dyn BodyStore>,
    ) -> Self {
        Capture {
            origin: path.clone(),
            path,
            format,
            sessions,
            warnings,
            store,
            cache: bodies::new_cache(),
            iis_reports: None,
        }
    }

    /// Raw bytes of a body of this capture, as stored (still chunked/compressed).
    pub fn raw_body(&self, body: &Body) -> std::io::Result<Vec<u8>> {
        self.store.read(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn har_reading_and_indexing_never_panic_on_prefixes_and_flips() {
        let json = r#"{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [
            {"startedDateTime": "2024-01-02T03:04:05.1234567+01:00", "time": 12.5,
             "request": {"method": "POST", "url": "https://h/Microsoft-Server-ActiveSync?Cmd=Ping", "postData": {"text": "\u0003\u0001j\u0000\udcff"}},
             "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                          "headers": [{"name": "Content-Encoding", "value": "br"}],
                          "content": {"text": "AwFqAA==", "encoding": "base64"}},
             "serverIPAddress": "10.0.0.1", "comment": "c"}]}}"#;
        let bytes = json.as_bytes();
        let parse = |data: &[u8]| readers::har::parse(Path::new("t.har"), data, &OpenOptions::default(), &EasIndexer);
        for end in 0..bytes.len() {
            let _ = parse(&bytes[..end]);
        }
        for i in 0..bytes.len() {
            let mut m = bytes.to_vec();
            m[i] ^= 0x55;
            let _ = parse(&m);
        }
    }
}
