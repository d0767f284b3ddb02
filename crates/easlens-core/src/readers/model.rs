//! What a reader produces: [`HttpSession`]s (request and response heads, where each body is,
//! timers, flags, notes), whatever file format they came from.
//!
//! Sessions keep their header blocks only; bodies stay in the file and are read again on demand
//! through a [`BodyStore`], so memory follows what is shown, not the size of the capture.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::http::{RequestHead, ResponseHead};
use crate::shared::Shared;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Saz,
    Har,
    /// An Exchange ActiveSync mailbox log (the server's view).
    #[serde(rename = "mailbox_log")]
    MailboxLog,
    /// Exchange's IIS (W3C) logs: every device's requests as each server logged them.
    #[serde(rename = "iis_log")]
    IisLog,
}

/// Where a body's raw bytes (as on the wire) can be read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyLocation {
    /// No body bytes at all.
    None,
    /// Bytes `offset..` of zip entry `entry` (SAZ `raw/N_c.txt` / `raw/N_s.txt`).
    ZipEntry { entry: usize, offset: u64 },
    /// Bytes kept in memory (HAR bodies, recovered when the file was read).
    Memory(Arc<[u8]>),
}

/// What a capture kept of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKept {
    /// The bytes are in the file (possibly zero bytes).
    Present,
    /// The exporter destroyed the bytes (a HAR that replaced binary bytes with U+FFFD).
    LostByExporter,
    /// The exporter left the body out (Firefox images, Fiddler HAR bodies over 32 KB).
    Omitted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub location: BodyLocation,
    /// Length of the raw bytes as stored (before de-chunking/decompression).
    pub stored_len: u64,
    pub kept: BodyKept,
}

impl Body {
    pub fn empty() -> Self {
        Body {
            location: BodyLocation::None,
            stored_len: 0,
            kept: BodyKept::Present,
        }
    }

    pub fn in_memory(bytes: Vec<u8>) -> Self {
        let stored_len = bytes.len() as u64;
        if bytes.is_empty() {
            return Body::empty();
        }
        Body {
            location: BodyLocation::Memory(bytes.into()),
            stored_len,
            kept: BodyKept::Present,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub head: RequestHead,
    url: Url,
    pub body: Body,
}

/// How a request's URL is kept: nearly always it is the request-target, or the target after the
/// scheme and `Host`, and then it is not stored a second time (a capture keeps every request).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Url {
    /// The request-target, trimmed.
    Target,
    /// `http(s)://` + `Host` + the request-target.
    Origin { https: bool },
    /// Anything else (a HAR's own `url`).
    Given(Box<str>),
}

impl Request {
    /// A request whose absolute URL is `url`.
    pub fn new(head: RequestHead, url: String, body: Body) -> Request {
        let mut r = Request {
            head,
            url: Url::Target,
            body,
        };
        r.set_url(url);
        r
    }

    /// Absolute URL: the request-target when absolute, else built from `Host` and the scheme
    /// (as the reader found it).
    pub fn url(&self) -> Cow<'_, str> {
        match &self.url {
            Url::Target => Cow::Borrowed(self.head.target.trim()),
            Url::Origin { https } => Cow::Owned(origin_url(&self.head, *https).unwrap_or_default()),
            Url::Given(url) => Cow::Borrowed(url),
        }
    }

    pub fn set_url(&mut self, url: String) {
        self.url = if url == self.head.target.trim() {
            Url::Target
        } else if let Some(https) = [true, false]
            .into_iter()
            .find(|&https| origin_url(&self.head, https).as_deref() == Some(url.as_str()))
        {
            Url::Origin { https }
        } else {
            Url::Given(url.into_boxed_str())
        };
    }
}

/// `http(s)://` + `Host` + the request-target (`*` and empty as no path); `None` without a `Host`.
pub(crate) fn origin_url(head: &RequestHead, https: bool) -> Option<String> {
    let host = head.headers.get("host").map(str::trim).filter(|h| !h.is_empty())?;
    let target = head.target.trim();
    let scheme = if https { "https" } else { "http" };
    let slash = if target.starts_with('/') || matches!(target, "*" | "") {
        ""
    } else {
        "/"
    };
    let path = if target == "*" { "" } else { target };
    Some(format!("{scheme}://{host}{slash}{path}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub head: ResponseHead,
    pub body: Body,
}

/// One of Fiddler's SessionTimers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    ClientConnected,
    ClientBeginRequest,
    ClientDoneRequest,
    ServerConnected,
    ServerBeginResponse,
    ClientDoneResponse,
}

impl Timer {
    pub const ALL: [Timer; 6] = [
        Timer::ClientConnected,
        Timer::ClientBeginRequest,
        Timer::ClientDoneRequest,
        Timer::ServerConnected,
        Timer::ServerBeginResponse,
        Timer::ClientDoneResponse,
    ];

    /// The name in JSON output (`client_begin_request`…).
    pub fn key(self) -> &'static str {
        match self {
            Timer::ClientConnected => "client_connected",
            Timer::ClientBeginRequest => "client_begin_request",
            Timer::ClientDoneRequest => "client_done_request",
            Timer::ServerConnected => "server_connected",
            Timer::ServerBeginResponse => "server_begin_response",
            Timer::ClientDoneResponse => "client_done_response",
        }
    }
}

/// Session timing. SAZ: Fiddler's SessionTimers (`0001-01-01` = unset → `None`); HAR:
/// `startedDateTime` and `time`.
///
/// Kept as ticks of 100 ns since 1970 (.NET's and so Fiddler's precision; finer digits of a HAR
/// time are dropped) on one UTC offset, the first one set (a session's timers come from one clock;
/// a later timer with another offset is the same instant on the first offset): 64 bytes a session
/// instead of 112.
#[derive(Clone)]
pub struct Timers {
    /// Each [`Timer`] in the order of [`Timer::ALL`]; [`UNSET`] when absent.
    ticks: [i64; 6],
    /// Seconds east of UTC.
    offset: i32,
    /// HAR `time` (total milliseconds); NaN when absent.
    total_ms: f64,
}

const UNSET: i64 = i64::MIN;
const TICKS_PER_SECOND: i64 = 10_000_000;

impl Default for Timers {
    fn default() -> Self {
        Timers {
            ticks: [UNSET; 6],
            offset: 0,
            total_ms: f64::NAN,
        }
    }
}

impl PartialEq for Timers {
    fn eq(&self, other: &Self) -> bool {
        Timer::ALL.iter().all(|&t| self.get(t) == other.get(t)) && self.total_ms() == other.total_ms()
    }
}

impl std::fmt::Debug for Timers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Timers");
        for t in Timer::ALL {
            d.field(t.key(), &self.get(t));
        }
        d.field("total_ms", &self.total_ms()).finish()
    }
}

impl Serialize for Timers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("Timers", 7)?;
        for t in Timer::ALL {
            st.serialize_field(t.key(), &self.get(t))?;
        }
        st.serialize_field("total_ms", &self.total_ms())?;
        st.end()
    }
}

impl Timers {
    pub fn get(&self, timer: Timer) -> Option<DateTime<FixedOffset>> {
        let ticks = self.ticks[timer as usize];
        if ticks == UNSET {
            return None;
        }
        let offset = FixedOffset::east_opt(self.offset)?;
        let nanos = (ticks.rem_euclid(TICKS_PER_SECOND) * 100) as u32;
        let at = DateTime::from_timestamp(ticks.div_euclid(TICKS_PER_SECOND), nanos)?;
        Some(at.with_timezone(&offset))
    }

    /// Sets (or clears) a timer. The first timer set gives the offset the others are shown on. A
    /// time more than 29,000 years from 1970 (no clock writes one) is taken as unset.
    pub fn set(&mut self, timer: Timer, value: Option<DateTime<FixedOffset>>) {
        let ticks = value.and_then(|v| {
            let ticks = v
                .timestamp()
                .checked_mul(TICKS_PER_SECOND)?
                .checked_add(i64::from(v.timestamp_subsec_nanos() / 100))?;
            Some((v, ticks))
        });
        let Some((value, ticks)) = ticks.filter(|&(_, t)| t != UNSET) else {
            self.ticks[timer as usize] = UNSET;
            return;
        };
        if self.ticks.iter().all(|&t| t == UNSET) {
            self.offset = value.offset().local_minus_utc();
        }
        self.ticks[timer as usize] = ticks;
    }

    pub fn client_connected(&self) -> Option<DateTime<FixedOffset>> {
        self.get(Timer::ClientConnected)
    }

    pub fn client_begin_request(&self) -> Option<DateTime<FixedOffset>> {
        self.get(Timer::ClientBeginRequest)
    }

    pub fn client_done_request(&self) -> Option<DateTime<FixedOffset>> {
        self.get(Timer::ClientDoneRequest)
    }

    pub fn server_connected(&self) -> Option<DateTime<FixedOffset>> {
        self.get(Timer::ServerConnected)
    }

    pub fn server_begin_response(&self) -> Option<DateTime<FixedOffset>> {
        self.get(Timer::ServerBeginResponse)
    }

    pub fn client_done_response(&self) -> Option<DateTime<FixedOffset>> {
        self.get(Timer::ClientDoneResponse)
    }

    /// HAR `time` (total milliseconds) when the capture gives no end time.
    pub fn total_ms(&self) -> Option<f64> {
        (!self.total_ms.is_nan()).then_some(self.total_ms)
    }

    pub fn set_total_ms(&mut self, ms: Option<f64>) {
        self.total_ms = ms.unwrap_or(f64::NAN);
    }

    /// When the request started (ClientBeginRequest, falling back to ClientConnected).
    pub fn started(&self) -> Option<DateTime<FixedOffset>> {
        self.client_begin_request().or(self.client_connected())
    }

    /// Whole-session duration in milliseconds, when known.
    pub fn duration_ms(&self) -> Option<f64> {
        match (self.started(), self.client_done_response()) {
            (Some(a), Some(b)) if b >= a => Some((b - a).num_microseconds()? as f64 / 1000.0),
            _ => self.total_ms(),
        }
    }
}

/// Facts about a session that change how it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionFlags {
    /// A CONNECT tunnel: its "body" is the proxy's TLS description, never decoded as EAS.
    pub tunnel: bool,
    /// The client or server aborted the session (Fiddler `Aborted="true"`, or no response).
    pub aborted: bool,
    /// The response was generated by the proxy (Fiddler BitFlags 0x100), not by Exchange.
    pub generated: bool,
    /// Fiddler's BitFlags, when the capture has them (a hint, not the truth).
    pub bit_flags: Option<u64>,
    /// HTTPS (from BitFlags or the URL).
    pub https: bool,
}

/// One request/response exchange, as the capture file has it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSession {
    /// SAZ: the N of `raw/N_c.txt` (1-based position Fiddler saved it at). HAR: 1-based entry position.
    pub index: u32,
    /// Fiddler's session id (`SID` in `_m.xml`); HAR: the entry position.
    pub id: Option<u64>,
    pub timers: Timers,
    pub client_ip: Option<Shared>,
    pub server_ip: Option<Shared>,
    /// Client process (`msedge:12140`), when the capture says.
    pub process: Option<Shared>,
    /// User comment (Fiddler `ui-comments`, HAR `comment`).
    pub comment: Option<String>,
    /// `None` when the capture has no request for this session (an empty `_c.txt`).
    pub request: Option<Request>,
    /// `None` when there is no response (aborted before response headers).
    pub response: Option<Response>,
    pub flags: SessionFlags,
    /// Problems for this session (unreadable parts, decode failures, lost bodies…).
    pub notes: Vec<String>,
    /// What the source says of this session that is no problem: an IIS log line's place, its
    /// `Log=` tokens and stages, a mailbox log entry's other fields. Searched, redacted and
    /// written out as the notes are, shown plainly.
    pub facts: Vec<String>,
}

impl HttpSession {
    pub fn new(index: u32) -> Self {
        HttpSession {
            index,
            id: None,
            timers: Timers::default(),
            client_ip: None,
            server_ip: None,
            process: None,
            comment: None,
            request: None,
            response: None,
            flags: SessionFlags::default(),
            notes: Vec::new(),
            facts: Vec::new(),
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.head.status)
    }
}

/// Reads raw body bytes back from the capture file.
pub trait BodyStore: Send + Sync {
    /// The raw (as stored) bytes of a body.
    fn read(&self, body: &Body) -> std::io::Result<Vec<u8>>;
}

/// A store for captures that keep every body in memory.
pub struct MemoryStore;

impl BodyStore for MemoryStore {
    fn read(&self, body: &Body) -> std::io::Result<Vec<u8>> {
        match &body.location {
            BodyLocation::None => Ok(Vec::new()),
            BodyLocation::Memory(b) => Ok(b.to_vec()),
            BodyLocation::ZipEntry { .. } => Err(std::io::Error::other("this capture has no zip archive")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_keep_100_ns_and_the_first_offset() {
        let t = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap());
        let mut timers = Timers::default();
        assert_eq!(timers, Timers::default());
        assert_eq!(
            (timers.started(), timers.duration_ms(), timers.total_ms()),
            (None, None, None)
        );
        timers.set(Timer::ClientBeginRequest, t("2025-08-30T11:34:28.6859373-07:00"));
        timers.set(Timer::ClientDoneResponse, t("2025-08-30T18:34:29.0000000Z"));
        assert_eq!(
            timers.client_begin_request().unwrap().to_rfc3339(),
            "2025-08-30T11:34:28.685937300-07:00"
        );
        // The same instant, on the first timer's offset.
        assert_eq!(
            timers.client_done_response().unwrap().to_rfc3339(),
            "2025-08-30T11:34:29-07:00"
        );
        assert_eq!(timers.duration_ms(), Some(314.062));
        timers.set(Timer::ServerConnected, t("1969-12-31T23:59:59.9999999Z"));
        assert_eq!(timers.server_connected(), t("1969-12-31T16:59:59.9999999-07:00"));
        timers.set(Timer::ServerConnected, None);
        assert_eq!(timers.server_connected(), None);
        timers.set_total_ms(Some(12.5));
        assert_eq!(timers.total_ms(), Some(12.5));
        let far = DateTime::from_timestamp(40_000 * 365 * 86_400, 0)
            .unwrap()
            .fixed_offset();
        timers.set(Timer::ClientConnected, Some(far));
        assert_eq!(timers.client_connected(), None);
    }
}
