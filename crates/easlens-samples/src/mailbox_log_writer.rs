//! Writes a device conversation as the Exchange ActiveSync mailbox log (reference:
//! mailbox-log.md): the server's view of the exchanges a capture holds, with the bodies rendered
//! as Exchange's XML and personal data redacted, plus a [`LogManifest`] that says which log entry
//! is which trace exchange, so that tests of the trace/log alignment know the right answer.
//!
//! Written by hand: no crate reads or writes this text format. The switches of [`FileForm`]
//! produce what real files also look like (LF-only, BOM, gzip, values on the name's line, mail
//! residue before the first entry, overlapping dumps) and damaged entries for reader tests.
//!
//! What Exchange logs, from a trace: every exchange except those that never reached ActiveSync —
//! CONNECT tunnels, responses the proxy made up (Fiddler's 502), and 401s (authentication failed
//! before Exchange knew whose log to write). An exchange the device saw aborted without a
//! response was still answered: the log has a 200 (for a Ping, Status 1 after its heartbeat).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::Range;

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde::{Deserialize, Serialize};

use easlens_core::eas::Command;
use easlens_core::eas::query::parse_request_target;
use easlens_core::http::{decode_body, parse_request, parse_response};
use easlens_core::wbxml::render::{ContentForm, content_form};
use easlens_core::wbxml::{self, Element, multipart};
use easlens_core::writers::Exchange;

/// How the log file is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileForm {
    /// LF line ends instead of Exchange's CRLF (the text after an editor or a Unix tool).
    pub lf_only: bool,
    /// A UTF-8 byte order mark first.
    pub bom: bool,
    /// gzip-compressed, as the notification mail attaches big logs (`….gz`).
    pub gzip: bool,
    /// One-line values on the name's line (`RequestTime : 03/05/2024 09:14:05`), as some dumps
    /// have them; values of several lines stay below their name.
    pub same_line_values: bool,
    /// Text before the first entry (mail or console residue).
    pub preamble: Option<String>,
    /// Entries of this dump (numbered from 0) written damaged.
    pub damage: Vec<(usize, Damage)>,
}

/// A deliberately damaged entry, for reader robustness tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Damage {
    /// The separator before the entry is cut in half, so the entry runs into the previous one.
    CutSeparator,
    /// `ResponseBody : ` with no value and no blank line, the next field header right after it.
    FieldWithoutValue,
}

/// What to write. [`Default`]: a redacted Exchange 2016 log of the whole conversation, CRLF.
#[derive(Debug, Clone, PartialEq)]
pub struct MailboxLogOptions {
    /// The server's local time minus UTC (the log's times have no zone).
    pub utc_offset_seconds: i32,
    /// How far the server's clock is ahead of the capture machine's.
    pub clock_skew_seconds: i32,
    pub server_name: String,
    pub assembly_version: String,
    /// Exchange's verbose mode: personal data in the clear instead of `bytes="N"`.
    pub verbose: bool,
    /// Exchanges Exchange logged that the capture does not have (sent after it stopped).
    pub after_capture: Vec<Exchange>,
    /// The entries of the whole log this dump holds (clamped to the log): a dump taken earlier
    /// ends sooner, a full buffer has dropped the oldest. Each dump numbers its entries from 0.
    pub entries: Range<usize>,
    pub form: FileForm,
}

impl Default for MailboxLogOptions {
    fn default() -> Self {
        MailboxLogOptions {
            utc_offset_seconds: 3600,
            clock_skew_seconds: 3,
            server_name: "EXMBX02".into(),
            assembly_version: "15.01.2507.027".into(),
            verbose: false,
            after_capture: Vec::new(),
            entries: 0..usize::MAX,
            form: FileForm::default(),
        }
    }
}

/// Which log entry is which trace exchange: the answer key of trace/log alignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogManifest {
    /// Seconds added to the trace's UTC times to get the log's times (UTC offset plus skew;
    /// the log then drops the fractions of a second).
    pub clock_offset_seconds: i64,
    /// Log entries of a trace exchange, in log order.
    pub entries: Vec<MatchedEntry>,
    /// Trace exchanges without a log entry in this dump, in trace order.
    pub trace_only: Vec<TraceOnly>,
    /// Log entries without a trace exchange.
    pub log_only: Vec<LogOnly>,
    pub damaged: Vec<Damaged>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedEntry {
    /// `Log Entry: n` of this dump.
    pub log_entry: usize,
    pub identifier: String,
    /// Index of the exchange in the `sessions` slice.
    pub trace_index: usize,
    /// The entry has the `WasPending` block (a Ping or waiting Sync that hung).
    pub pending: bool,
    /// The device saw no response; the log has the one Exchange sent.
    pub response_lost: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceOnly {
    pub trace_index: usize,
    pub reason: TraceOnlyReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceOnlyReason {
    /// The proxy answered (Fiddler's 502): the request never reached Exchange.
    GeneratedByProxy,
    /// A CONNECT tunnel.
    Tunnel,
    /// 401: authentication failed before ActiveSync ran.
    Unauthenticated,
    /// Logged, but not in the entries this dump holds.
    OutsideDump,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOnly {
    pub log_entry: usize,
    pub identifier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Damaged {
    pub log_entry: usize,
    pub damage: Damage,
}

const SEPARATOR: &str = "-----------------";
const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8" ?>"#;
const WBXML_TYPE: &str = "application/vnd.ms-sync.wbxml";
/// A Ping or waiting Sync answered this much later (or more) went pending.
const PENDING_AFTER_MS: u32 = 1000;

/// Response headers IIS, ASP.NET, the front end or the transport set, not ActiveSync: not logged.
const NOT_LOGGED_RESPONSE_HEADERS: [&str; 11] = [
    "Content-Length",
    "Transfer-Encoding",
    "Content-Encoding",
    "Connection",
    "Date",
    "Server",
    "X-Powered-By",
    "Cache-Control",
    "request-id",
    "X-FEServer",
    "X-BEServer",
];

/// Tags whose values Exchange truncates to `bytes="N"` unless in verbose mode, by namespace.
const PERSONAL: [(&str, &[&str]); 8] = [
    (
        "Email",
        &[
            "To",
            "Cc",
            "From",
            "ReplyTo",
            "Subject",
            "DisplayTo",
            "ThreadTopic",
            "Location",
            "Organizer",
            "Category",
            "DisplayName",
            "AttName",
            "MIMEData",
        ],
    ),
    ("Email2", &["Sender", "Bcc", "UmCallerID", "UmUserNotes"]),
    (
        "Calendar",
        &[
            "Subject",
            "Location",
            "OrganizerName",
            "OrganizerEmail",
            "Email",
            "Name",
            "Category",
            "DisplayName",
            "AttName",
            "OnlineMeetingConfLink",
            "OnlineMeetingExternalLink",
        ],
    ),
    (
        "AirSyncBase",
        &[
            "DisplayName",
            "Data",
            "Preview",
            "Annotation",
            "Street",
            "City",
            "State",
            "Country",
            "PostalCode",
            "Latitude",
            "Longitude",
            "LocationUri",
        ],
    ),
    (
        "Settings",
        &[
            "UserDisplayName",
            "SMTPAddress",
            "PrimarySmtpAddress",
            "AccountName",
            "FriendlyName",
            "IMEI",
            "PhoneNumber",
            "MobileOperator",
            "OofMessage",
            "ReplyMessage",
        ],
    ),
    ("ComposeMail", &["Mime", "Name", "Email"]),
    ("Tasks", &["Subject", "Category"]),
    ("Notes", &["Subject", "Category"]),
];
/// Pages where every value is personal: contact names, addresses, phone numbers, pictures.
const PERSONAL_PAGES: [&str; 2] = ["Contacts", "Contacts2"];

/// The .NET exception ActiveSync logs with a Sync it answered with HTTP 500.
const SYNC_EXCEPTION: &str = "Microsoft.Exchange.AirSync.AirSyncPermanentException: Sync state 'Inbox : 5' could not be loaded ---> Microsoft.Exchange.Data.Storage.CorruptSyncStateException: The sync state is corrupt.\r
   at Microsoft.Exchange.Data.Storage.SyncStateStorage.GetFolderSyncState(SyncStateType type, String name)\r
   at Microsoft.Exchange.AirSync.SyncCommand.OpenSyncState(SyncCollection collection)\r
   --- End of inner exception stack trace ---\r
   at Microsoft.Exchange.AirSync.SyncCommand.OnExecute()\r
   at Microsoft.Exchange.AirSync.Command.WorkerThread()";

/// The .NET exception ActiveSync logs when it could not convert an item for a client Change it
/// answered with Status 6 (`{server_id}` is the item).
const CONVERT_EXCEPTION: &str = "Microsoft.Exchange.AirSync.ConversionException: Item {server_id} could not be converted ---> Microsoft.Exchange.Data.Storage.ConversionFailedException: The message content has become corrupted.\r
   at Microsoft.Exchange.AirSync.SchemaConverter.AirSyncXmlEmailConverter.ConvertServerToClientObject(ISyncItem item)\r
   --- End of inner exception stack trace ---\r
   at Microsoft.Exchange.AirSync.SyncCommand.GenerateResponsesXmlNode()";

/// The .NET exception ActiveSync logs with a MeetingResponse for a request it already answered
/// (the invitation is no longer a meeting request).
const MEETING_RESPONSE_EXCEPTION: &str =
    "Microsoft.Exchange.Data.Storage.WrongObjectTypeException: The object is not a meeting request.\r
   at Microsoft.Exchange.Data.Storage.MeetingRequest.Bind(StoreSession session, StoreId storeId)\r
   at Microsoft.Exchange.AirSync.MeetingResponseCommand.ProcessRequest(Request request)\r
   at Microsoft.Exchange.AirSync.MeetingResponseCommand.OnExecute()";

/// A field name no reader knows (written on the log's first entry).
const UNKNOWN_FIELD: (&str, &str) = (
    "FutureField",
    "written by a newer Exchange: readers keep what they do not know",
);

/// Writes the dump `options.entries` of the mailbox log of `sessions` (a device's trace, in
/// order) and says which entry is which exchange.
pub fn write_mailbox_log(
    mut out: impl Write,
    sessions: &[Exchange],
    options: &MailboxLogOptions,
) -> io::Result<LogManifest> {
    let (text, manifest) = mailbox_log(sessions, options)?;
    if options.form.gzip {
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        gz.write_all(text.as_bytes())?;
        gz.finish()?.flush()?;
    } else {
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    Ok(manifest)
}

/// Where a log entry comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Trace(usize),
    AfterCapture,
}

/// One log entry before it is written.
struct Entry {
    source: Source,
    identifier: String,
    fields: Vec<(&'static str, String)>,
    pending: bool,
    response_lost: bool,
}

/// The dump's text (before any gzip) and its manifest.
fn mailbox_log(sessions: &[Exchange], options: &MailboxLogOptions) -> io::Result<(String, LogManifest)> {
    let offset = i64::from(options.utc_offset_seconds) + i64::from(options.clock_skew_seconds);
    let mut manifest = LogManifest {
        clock_offset_seconds: offset,
        entries: Vec::new(),
        trace_only: Vec::new(),
        log_only: Vec::new(),
        damaged: Vec::new(),
    };
    let all = sessions
        .iter()
        .enumerate()
        .map(|(i, ex)| (Source::Trace(i), ex))
        .chain(options.after_capture.iter().map(|ex| (Source::AfterCapture, ex)));
    let mut sources = Vec::new();
    for (source, ex) in all {
        match (not_logged(ex)?, source) {
            (None, _) => sources.push((source, ex)),
            (Some(reason), Source::Trace(trace_index)) => manifest.trace_only.push(TraceOnly { trace_index, reason }),
            // In neither the trace nor the log.
            (Some(_), Source::AfterCapture) => {}
        }
    }
    // Exchange writes entries in the order requests arrive.
    sources.sort_by_key(|(_, ex)| ex.started);
    let mut seen = Seen::default();
    let mut entries = Vec::with_capacity(sources.len());
    for (k, (source, ex)) in sources.into_iter().enumerate() {
        let id = identifier(sessions, k);
        entries.push(render_entry(ex, source, id, k == 0, options, offset, &mut seen)?);
    }

    let dump = options.entries.start.min(entries.len())..options.entries.end.min(entries.len());
    let mut text = String::new();
    if options.form.bom {
        text.push('\u{FEFF}');
    }
    if let Some(p) = &options.form.preamble {
        text.push_str(p);
    }
    for (k, entry) in entries.iter().enumerate() {
        if !dump.contains(&k) {
            if let Source::Trace(trace_index) = entry.source {
                manifest.trace_only.push(TraceOnly {
                    trace_index,
                    reason: TraceOnlyReason::OutsideDump,
                });
            }
            continue;
        }
        let n = k - dump.start;
        let damage = options.form.damage.iter().find(|(d, _)| *d == n).map(|&(_, d)| d);
        write_entry(&mut text, n, entry, damage, options.form.same_line_values);
        if let Some(damage) = damage {
            manifest.damaged.push(Damaged { log_entry: n, damage });
        }
        let identifier = entry.identifier.clone();
        match entry.source {
            Source::Trace(trace_index) => manifest.entries.push(MatchedEntry {
                log_entry: n,
                identifier,
                trace_index,
                pending: entry.pending,
                response_lost: entry.response_lost,
            }),
            Source::AfterCapture => manifest.log_only.push(LogOnly {
                log_entry: n,
                identifier,
            }),
        }
    }
    manifest.trace_only.sort_by_key(|t| t.trace_index);
    if options.form.lf_only {
        text = text.replace("\r\n", "\n");
    }
    Ok((text, manifest))
}

/// Why Exchange has no log entry for an exchange, if it has none.
fn not_logged(ex: &Exchange) -> io::Result<Option<TraceOnlyReason>> {
    let head = parse_request(&ex.request).map_err(invalid)?.0;
    let status = ex
        .response
        .as_deref()
        .and_then(|r| parse_response(r).ok())
        .map(|(head, _)| head.status);
    Ok(if head.method.eq_ignore_ascii_case("CONNECT") {
        Some(TraceOnlyReason::Tunnel)
    } else if ex.generated_by_proxy {
        Some(TraceOnlyReason::GeneratedByProxy)
    } else if status == Some(401) {
        Some(TraceOnlyReason::Unauthenticated)
    } else {
        None
    })
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// The `k`th entry's Identifier: 8 upper-case hex digits, from the conversation's start, so every
/// dump of the same log gives an exchange the same one.
fn identifier(sessions: &[Exchange], k: usize) -> String {
    let seed = sessions.first().map_or(0, |s| s.started.timestamp() as u64);
    // splitmix64
    let mut z = seed.wrapping_add((k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("{:08X}", (z ^ (z >> 31)) >> 32)
}

/// `MM/dd/yyyy HH:mm:ss` in the server's local time.
fn log_time(t: DateTime<FixedOffset>, offset: i64) -> String {
    (t.naive_utc() + TimeDelta::seconds(offset))
        .format("%m/%d/%Y %H:%M:%S")
        .to_string()
}

/// What earlier entries of the log said that a later one depends on.
#[derive(Default)]
struct Seen {
    /// The last Sync request body (a cached Sync logs it as its LogicalRequest).
    last_sync: Option<String>,
    /// The RequestIds of the MeetingResponses so far.
    meeting_requests: Vec<String>,
}

/// The fields of one logged exchange; the log's first entry also gets a field no reader knows.
fn render_entry(
    ex: &Exchange,
    source: Source,
    identifier: String,
    first: bool,
    options: &MailboxLogOptions,
    offset: i64,
    seen: &mut Seen,
) -> io::Result<Entry> {
    let last_sync = &mut seen.last_sync;
    let (head, start) = parse_request(&ex.request).map_err(invalid)?;
    let command = parse_request_target(&head.target).ok().and_then(|l| l.command);
    let body = decode_body(&ex.request[start..], &head.headers).bytes;
    let request_doc = wbxml::decode(&body).ok();

    let mut request_header = format!("{} {} {}\r\n", head.method, head.target, head.version);
    for (name, value) in head.headers.iter() {
        let value = if name.eq_ignore_ascii_case("Authorization") {
            "********"
        } else {
            value
        };
        let _ = write!(request_header, "{name}: {value}\r\n");
    }
    let mut fields = vec![
        ("RequestTime", log_time(ex.started, offset)),
        ("ServerName", options.server_name.clone()),
        ("AssemblyVersion", options.assembly_version.clone()),
        ("Identifier", identifier.clone()),
        ("RequestHeader", request_header),
    ];
    let request_xml = request_doc.as_ref().map(|d| render_xml(d.root(), options.verbose));
    match (&request_xml, body.is_empty()) {
        (Some(xml), _) => fields.push(("RequestBody", xml.clone())),
        (None, true) => {
            fields.push(("RequestBody", "Empty".into()));
            // A cached Sync: Exchange logs the request it reused.
            if let (Some(Command::Sync), Some(previous)) = (command, last_sync.as_ref()) {
                fields.push(("LogicalRequest", previous.clone()));
            }
        }
        (None, false) => fields.push(("RequestBody", String::from_utf8_lossy(&body).into_owned())),
    }
    if let (Some(Command::Sync), Some(xml)) = (command, request_xml) {
        *last_sync = Some(xml);
    }
    fields.push(("AccessState", "Allowed".into()));
    fields.push(("AccessStateReason", "Global".into()));
    if first {
        fields.push((UNKNOWN_FIELD.0, UNKNOWN_FIELD.1.into()));
    }

    // The response Exchange sent; one the device never got is made up here.
    let heartbeat = request_doc
        .as_ref()
        .and_then(|d| d.root()?.child("HeartbeatInterval")?.text()?.parse::<i64>().ok());
    let (response, response_ms) = match (&ex.response, command) {
        (Some(r), _) => (r.clone(), i64::from(ex.duration_ms)),
        (None, Some(Command::Ping)) => {
            let doc = wbxml::from_xml(r#"<Ping xmlns="Ping:"><Status>1</Status></Ping>"#).map_err(invalid)?;
            let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: {WBXML_TYPE}\r\n\r\n").into_bytes();
            r.extend_from_slice(&wbxml::encode(&doc));
            (r, heartbeat.unwrap_or(0) * 1000)
        }
        (None, _) => (b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), i64::from(ex.duration_ms)),
    };
    let (head, start) = parse_response(&response).map_err(invalid)?;
    let body = decode_body(&response[start..], &head.headers).bytes;
    let response_doc = wbxml::decode(&body).ok();
    if head.status == 500 && command == Some(Command::Sync) {
        fields.push(("SyncCommand_OnExecute_Exception", SYNC_EXCEPTION.into()));
    }
    if command == Some(Command::Sync) {
        for server_id in failed_changes(response_doc.as_ref().and_then(|d| d.root())) {
            fields.push((
                "SyncCommand_GenerateResponsesXmlNode_AddChange_ConvertServerToClientObject_Exception",
                CONVERT_EXCEPTION.replace("{server_id}", &server_id),
            ));
        }
    }
    if command == Some(Command::MeetingResponse) {
        let ids = meeting_request_ids(request_doc.as_ref().and_then(|d| d.root()));
        if ids.iter().any(|id| seen.meeting_requests.contains(id)) {
            fields.push((
                "MeetingResponseCommand_OnExecute_Exception",
                MEETING_RESPONSE_EXCEPTION.into(),
            ));
        }
        seen.meeting_requests.extend(ids);
    }
    let waits = command == Some(Command::Ping)
        || request_doc
            .as_ref()
            .and_then(|d| d.root())
            .is_some_and(|r| r.child("Wait").is_some() || r.child("HeartbeatInterval").is_some());
    let pending = waits && response_ms >= i64::from(PENDING_AFTER_MS);
    if pending {
        fields.push(("WasPending", "[Response was pending]".into()));
    }
    let mut response_header = format!("{} {} {}\r\n", head.version, head.status, head.reason);
    for (name, value) in head.headers.iter() {
        if !NOT_LOGGED_RESPONSE_HEADERS.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            let _ = write!(response_header, "{name}: {value}\r\n");
        }
    }
    fields.push(("ResponseHeader", response_header));
    let is_multipart = head
        .headers
        .get("Content-Type")
        .is_some_and(|t| t.eq_ignore_ascii_case("application/vnd.ms-sync.multipart"));
    let response_body = if is_multipart {
        multipart_body(&body, options.verbose)
    } else {
        response_doc.as_ref().map(|d| render_xml(d.root(), options.verbose))
    };
    fields.push((
        "ResponseBody",
        response_body.unwrap_or_else(|| "[No XmlResponse]".into()),
    ));
    let done = ex.started + TimeDelta::milliseconds(response_ms);
    fields.push(("ResponseTime", log_time(done, offset)));
    Ok(Entry {
        source,
        identifier,
        fields,
        pending,
        response_lost: ex.response.is_none(),
    })
}

/// The ServerIds of a Sync response's `Responses/Change` answered with Status 6 (the server
/// could not convert the item).
fn failed_changes(root: Option<Element<'_>>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(collections) = root.and_then(|r| r.child("Collections")) else {
        return out;
    };
    for responses in collections.elements().filter_map(|c| c.child("Responses")) {
        for change in responses.elements().filter(|c| c.name() == Some("Change")) {
            if change.child("Status").and_then(|s| s.text()).as_deref() == Some("6") {
                out.extend(change.child("ServerId").and_then(|s| s.text()));
            }
        }
    }
    out
}

/// The RequestIds of a MeetingResponse request.
fn meeting_request_ids(root: Option<Element<'_>>) -> Vec<String> {
    root.map(|r| {
        r.elements()
            .filter(|c| c.name() == Some("Request"))
            .filter_map(|c| c.child("RequestId")?.text())
            .collect()
    })
    .unwrap_or_default()
}

/// A multipart ItemOperations response: the part table as text, then part 0 as XML.
fn multipart_body(body: &[u8], verbose: bool) -> Option<String> {
    let parts = multipart::parts(body).ok()?;
    let mut out = format!(
        "----------------------- Multipart Response ---------------------\r\nNumber of Parts: {}\r\n",
        parts.len()
    );
    for (i, p) in parts.iter().enumerate() {
        let _ = write!(out, "Part {i}: offset {}, size {}\r\n", p.start, p.len());
    }
    let doc = wbxml::decode(&body[parts[0].clone()]).ok()?;
    out.push_str(&render_xml(doc.root(), verbose));
    Some(out)
}

/// Writes one entry: separator, then each field as `Name : ` and its value.
fn write_entry(text: &mut String, n: usize, entry: &Entry, damage: Option<Damage>, same_line: bool) {
    let separator = format!("\r\n{SEPARATOR}\r\n Log Entry: {n}\r\n{SEPARATOR}\r\n\r\n");
    if damage == Some(Damage::CutSeparator) {
        text.push_str(&separator[..separator.len() / 2]);
        text.push_str("\r\n");
    } else {
        text.push_str(&separator);
    }
    for (name, value) in &entry.fields {
        if damage == Some(Damage::FieldWithoutValue) && *name == "ResponseBody" {
            let _ = write!(text, "{name} : \r\n");
        } else if same_line && !value.contains('\n') {
            let _ = write!(text, "{name} : {value}\r\n\r\n");
        } else {
            let _ = write!(text, "{name} : \r\n{value}\r\n\r\n");
        }
    }
}

/// A document in Exchange's layout: declaration, one element a line, TAB indentation,
/// `xmlns="NS:"` where the namespace changes, personal values as `bytes="N"` unless `verbose`.
fn render_xml(root: Option<Element<'_>>, verbose: bool) -> String {
    let mut out = String::from(XML_DECLARATION);
    if let Some(root) = root {
        render_element(&mut out, root, None, 0, verbose);
    }
    out
}

fn render_element(out: &mut String, e: Element<'_>, parent_ns: Option<&str>, depth: usize, verbose: bool) {
    let name = e.name().unwrap_or("Unknown");
    let ns = e.tag().namespace();
    let xmlns = if ns == parent_ns {
        String::new()
    } else {
        format!(r#" xmlns="{}:""#, ns.unwrap_or_default())
    };
    out.push_str("\r\n");
    out.extend(std::iter::repeat_n('\t', depth));
    let (content, opaque) = e.data();
    let has_elements = e.elements().next().is_some();
    if !verbose && name == "Body" {
        // Exchange's non-XML token: EstimatedDataSize, else the length of Data (or of the text).
        let size = e
            .child("EstimatedDataSize")
            .and_then(|s| s.text()?.trim().parse().ok())
            .or_else(|| has_elements.then(|| e.child("Data").map_or(0, |d| chars(&d.content()))))
            .or_else(|| (!content.is_empty()).then(|| chars(&content)));
        match size {
            Some(n) => {
                let _ = write!(out, "<Body={n} bytes/>");
            }
            None => out.push_str("<Body/>"),
        }
        return;
    }
    if !verbose && !has_elements && is_personal(ns, name) {
        let _ = write!(out, r#"<{name}{xmlns} bytes="{}"/>"#, chars(&content));
        return;
    }
    if !e.has_children() {
        let _ = write!(out, "<{name}{xmlns}/>");
    } else if !has_elements {
        let value = match (content_form(e.tag(), &content, opaque), std::str::from_utf8(&content)) {
            (ContentForm::Text, Ok(text)) => escape(text),
            _ => hex::encode_upper(&content),
        };
        let _ = write!(out, "<{name}{xmlns}>{value}</{name}>");
    } else {
        let _ = write!(out, "<{name}{xmlns}>");
        // Text beside elements (never valid ActiveSync) is not logged.
        for child in e.elements() {
            render_element(out, child, ns, depth + 1, verbose);
        }
        out.push_str("\r\n");
        out.extend(std::iter::repeat_n('\t', depth));
        let _ = write!(out, "</{name}>");
    }
}

fn is_personal(ns: Option<&str>, name: &str) -> bool {
    let Some(ns) = ns else { return false };
    PERSONAL_PAGES.contains(&ns)
        || PERSONAL
            .iter()
            .any(|(page, names)| *page == ns && names.contains(&name))
}

/// Characters of the value (bytes when it is not UTF-8): the `N` of `bytes="N"`.
fn chars(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes).map_or(bytes.len(), |s| s.chars().count())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
