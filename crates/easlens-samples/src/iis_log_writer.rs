//! Writes the IIS logs (W3C extended format) Exchange keeps for ActiveSync (reference:
//! iis-eas-log.md), with an [`IisTruth`] that says what every line is, so that tests of the IIS
//! log importer and its reports know the right answer. It owns three kinds of logs:
//!
//! - the server's side of each bundled conversation ([`conversation_iis_logs`]): what an
//!   Exchange 2016/2019 front end (W3SVC1, port 443) and back end (W3SVC2, port 444) write for
//!   the exchanges of a capture, or an Exchange 2007 CAS for the scenario that talks to one;
//! - a "fleet" day ([`fleet_iis_logs`]): several users, devices and servers, and in them every
//!   pattern the reports look for (SyncKey 0 loops, replayed keys, throttling, 401 storms, 500
//!   bursts, collapsing heartbeats, send failures, quarantine, an Exchange 2010 CAS);
//! - one big file for benchmarks ([`write_big_iis_log`]).
//!
//! Written by hand: the format is a space-separated line under a `#Fields` header, so a crate
//! would add nothing. Everything is decided first as `Request`s (what each server logs for one
//! request) and other lines; the text is rendered from them, and the truth is computed from the
//! same decisions, never by reading the text back. Names, addresses and ids are invented
//! (contoso.com, documentation address ranges, 10.x).
//!
//! How Exchange logs a request (reference §1): the front end's line carries the device's query as
//! sent plus `&CorrelationID=<empty>;&cafeReqId=<GUID>;` and no diagnostics; the back end's line
//! has the query in plain form, `&Log=` tokens and the front end's address as `c-ip`, and its
//! `ActivityContextData` names the same GUID. A request the front end refuses (401, 451) has no
//! back-end line. IIS writes a line when the request ends, in UTC, to the second.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

mod big;
mod fleet;
mod scenario;
#[cfg(test)]
mod tests;

pub use big::write_big_iis_log;
pub use fleet::fleet_iis_logs;
pub use scenario::{ExchangeVersion, IisLogOptions, conversation_iis_logs};

// ---------------------------------------------------------------------------------------------
// The answer key
// ---------------------------------------------------------------------------------------------

/// What an IIS log folder holds, computed from what the generator decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IisTruth {
    /// Every line of every file: directives, request lines and skipped lines
    /// (`directive_lines + activesync_lines + other_lines + skipped_lines`).
    pub lines_total: usize,
    /// `#Software`, `#Version`, `#Date` and `#Fields` lines.
    pub directive_lines: usize,
    /// Request lines on an ActiveSync stem: front-end, back-end and CAS lines of requests, and
    /// probe lines.
    pub activesync_lines: usize,
    /// Of those, Managed Availability probe lines (`AMProbe/…` user agent, `HealthMailbox…` user):
    /// no device's requests, so they are in no other count.
    pub probe_lines: usize,
    /// Request lines on other stems (`/owa/`, `/EWS/`, `/Autodiscover/`).
    pub other_lines: usize,
    /// Lines a reader must skip because their field count differs from the `#Fields` in force
    /// (a last line cut while IIS was writing).
    pub skipped_lines: usize,
    /// The files, relative to the folder, `/`-separated, in the order written.
    pub files: Vec<String>,
    /// Exchanges of the conversation that no server logged (the proxy's own 502), by index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_logged: Vec<usize>,
    /// Every device request, in the order the lines were written (by end time).
    pub requests: Vec<RequestTruth>,
    /// Per device: (user, device id), both compared in lower case; sorted by that key.
    pub devices: Vec<DeviceTruth>,
    /// Every client SyncKey a device sent more than once for the same folder (as the back-end or
    /// CAS lines' `Sk:` show it), sorted by user, device, folder and key.
    pub repeated_sync_keys: Vec<RepeatedSyncKey>,
    /// Per UTC hour, `YYYY-MM-DD HH`.
    pub hourly: BTreeMap<String, HourTruth>,
    /// Per server (`s-computername`).
    pub servers: BTreeMap<String, ServerTruth>,
}

/// Where a line is: a file of [`IisTruth::files`] and its 1-based line number (directives count).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LineRef {
    pub file: String,
    pub line: usize,
}

/// One request of a device, as its lines show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestTruth {
    /// The exchange it comes from: its index in the conversation's trace, the exchanges logged
    /// after the capture stopped numbered on (`trace.len() + i`). `None` in the fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<usize>,
    /// The front end's line; `None` when there is none, or when it is the cut last line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_end: Option<LineRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_end: Option<LineRef>,
    /// The line of a server without the front-end/back-end split (Exchange 2007/2010 CAS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cas: Option<LineRef>,
    /// When the request ended, UTC, RFC 3339 with ms. Every line of the request has this `date
    /// time`, to the second.
    pub time: String,
    pub method: String,
    /// The query's `User`, decoded (either query form); for a request whose query names none
    /// (OPTIONS, the spec's sample blob), the `cs-username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// `Cmd`, from either query form; `None` for OPTIONS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub http_status: u16,
    pub http_substatus: u32,
    pub win32_status: u64,
    /// `time-taken` of the line the device's server wrote (front end or CAS), in ms.
    pub time_taken_ms: u64,
    /// The front end's `cafeReqId`, which is also the back end's `ActivityID` (2013+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    // What the `&Log=` tokens of the back-end or CAS line say; all empty without such a line.
    /// `SC1:` / `S`: the command's EAS status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eas_status: Option<u32>,
    /// `Error:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `As:`: the ABQ state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_state: Option<String>,
    /// `Throttle`: ms in the workload-management queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_ms: Option<u64>,
    /// `Sk:` and `Sks` of the first folder (all of them in `folders`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_sync_key: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<FolderTruth>,
    /// `Hb`: the Ping's heartbeat, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_s: Option<u32>,
    /// `Pk` and `Pa` (Provision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_ack: Option<u32>,
    /// `TmRcv` (2013+ `Log=`): when the server that wrote `Log=` received the request, RFC 3339
    /// with ms; its `TmCmpl` is 1 ms before `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
}

/// The per-folder tokens of a Sync (`Fid Ty Filter1 St Sk Sks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderTruth {
    pub id: String,
    /// `Em`, `Ca`, `Co`.
    pub class: String,
    /// `F` first, `S` subsequent, `I` invalid.
    pub sync_type: String,
    pub sync_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_sync_key: Option<String>,
}

/// The per-device report (the EXT12 `EASyncOutputReport` and Export-ActiveSyncLog's Users.csv).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceTruth {
    /// As the device's first request writes them.
    pub user: String,
    pub device_id: String,
    pub device_type: String,
    /// Requests (one per request, though the front end and the back end both logged it).
    pub hits: usize,
    /// `Cmd` → requests.
    pub commands: BTreeMap<String, usize>,
    /// `"status.substatus"` (`"401.1"`, `"200.0"`) → requests.
    pub http_status: BTreeMap<String, usize>,
    /// EAS status (from the Log) → requests.
    pub eas_status: BTreeMap<u32, usize>,
    /// `Error:` value → requests.
    pub errors: BTreeMap<String, usize>,
    /// `As:` value → requests.
    pub access_states: BTreeMap<String, usize>,
    /// Syncs with a folder at `Sk:0`.
    pub sync_key_zero: usize,
    pub syncs: usize,
    /// SendMail, SmartReply and SmartForward, by outcome.
    pub sendmail: Vec<SendOutcome>,
    /// Requests that were throttled: HTTP 503, or `Error:OverBudget`, or `Throttle` above 0.
    pub throttled: usize,
    pub first_seen: String,
    pub last_seen: String,
    /// Distinct user agents, as sent (spaces restored), in order of first use.
    pub user_agents: Vec<String>,
    /// Distinct `c-ip`s of the device's server (front end or CAS), in order of first use.
    pub client_ips: Vec<String>,
    /// The last `Pk` and the last `Pa` the device's lines show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_ack: Option<u32>,
}

/// How many send commands ended one way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SendOutcome {
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eas_status: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `"status.substatus"`.
    pub http_status: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatedSyncKey {
    pub user: String,
    pub device_id: String,
    pub folder: String,
    pub sync_key: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourTruth {
    pub hits: usize,
    pub devices: usize,
    /// Sync and GetItemEstimate requests (Export-ActiveSyncLog's Hourly.csv).
    pub sync_and_estimate: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerRole {
    FrontEnd,
    BackEnd,
    Cas,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTruth {
    pub role: ServerRole,
    /// Request lines of its files (ActiveSync and other; not directives, not skipped lines).
    pub lines: usize,
    pub activesync_lines: usize,
}

/// A folder of IIS logs in memory: the files (path relative to the folder, bytes as written) and
/// the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct IisLogs {
    pub files: Vec<(String, Vec<u8>)>,
    pub truth: IisTruth,
}

/// Writes `logs` as the folder `dir/<name>.iis/` (replacing an older one, so that it holds
/// exactly the truth's files) and its truth `dir/<name>.iis.json`; returns the files written.
pub fn write_iis_logs(dir: &Path, name: &str, logs: &IisLogs) -> io::Result<Vec<PathBuf>> {
    let at = |p: &Path, e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", p.display()));
    let folder = dir.join(format!("{name}.iis"));
    if folder.is_dir() {
        std::fs::remove_dir_all(&folder).map_err(|e| at(&folder, e))?;
    }
    let mut written = Vec::new();
    for (rel, bytes) in &logs.files {
        let path = folder.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| at(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| at(&path, e))?;
        written.push(path);
    }
    let path = dir.join(format!("{name}.iis.json"));
    std::fs::write(&path, truth_json(&logs.truth)?).map_err(|e| at(&path, e))?;
    written.push(path);
    Ok(written)
}

/// The truth as pretty JSON, except that each request is one line: the fleet has a thousand
/// of them, and one line each keeps the file small and easy to grep.
pub fn truth_json(truth: &IisTruth) -> io::Result<String> {
    const PLACEHOLDER: &str = "\u{1}requests";
    let mut value = serde_json::to_value(truth).map_err(io::Error::other)?;
    value["requests"] = serde_json::Value::String(PLACEHOLDER.into());
    let pretty = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
    let mut lines = Vec::with_capacity(truth.requests.len());
    for r in &truth.requests {
        lines.push(format!("    {}", serde_json::to_string(r).map_err(io::Error::other)?));
    }
    let array = if lines.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n{}\n  ]", lines.join(",\n"))
    };
    let placeholder = serde_json::to_string(PLACEHOLDER).map_err(io::Error::other)?;
    let mut json = pretty.replacen(&placeholder, &array, 1);
    json.push('\n');
    Ok(json)
}

// ---------------------------------------------------------------------------------------------
// The decisions: servers, requests, other lines
// ---------------------------------------------------------------------------------------------

/// Which `&Log=` dialect a server writes (reference §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// 2016/2019 back end: `Name:value` for almost everything, `SC1:`, `Ver1:`, `Filter1:`.
    Exchange2016,
    /// 2010 CAS: integers without a colon (`V141`, `S3`, `Sks1204981531`, `Throttle0`).
    Exchange2010,
    /// 2007 CAS: the 2010 style without ABQ, mailbox server or throttling.
    Exchange2007,
}

/// A `#Fields` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldSet {
    /// IIS 10 defaults (Windows Server 2016/2019).
    Iis10,
    /// IIS 10 with `s-computername`, `sc-bytes` and `cs-bytes` added by the admin.
    Iis10Extended,
    /// IIS 7.5 defaults (no `cs(Referer)`).
    Iis75,
}

impl FieldSet {
    /// The names, as the `#Fields:` line lists them.
    fn line(self) -> &'static str {
        match self {
            FieldSet::Iis10 => {
                "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
            }
            FieldSet::Iis10Extended => {
                "date time s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken"
            }
            FieldSet::Iis75 => {
                "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken"
            }
        }
    }

    fn names(self) -> impl Iterator<Item = &'static str> {
        self.line().split(' ')
    }

    fn software(self) -> &'static str {
        match self {
            FieldSet::Iis10 | FieldSet::Iis10Extended => "Microsoft Internet Information Services 10.0",
            FieldSet::Iis75 => "Microsoft Internet Information Services 7.5",
        }
    }
}

/// One IIS site of one server: one folder of daily files.
#[derive(Debug, Clone)]
struct Server {
    /// `s-computername`.
    name: String,
    fqdn: String,
    ip: String,
    role: ServerRole,
    dialect: Dialect,
    /// Folder of its files, relative to the log folder (`W3SVC1`, `FE01/W3SVC1`).
    dir: String,
    fields: FieldSet,
    /// Halfway through each file the app pool restarts and writes a new header block with these
    /// fields.
    restart: Option<FieldSet>,
    /// Files written gzip-compressed (`….log.gz`), as an admin hands them over.
    gzip: bool,
    /// The last line of its last file is cut mid-field.
    cut_last_line: bool,
}

const ACTIVESYNC_STEM: &str = "/Microsoft-Server-ActiveSync/default.eas";
const PROXY_STEM: &str = "/Microsoft-Server-ActiveSync/Proxy/default.eas";

/// Where a request was logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The front end refused it (401, 451): no back-end line.
    FrontEnd { fe: usize },
    /// Proxied: a front-end line and a back-end line.
    Proxied { fe: usize, be: usize },
    /// One line of a server that does everything (2007/2010).
    Cas { cas: usize },
}

/// One request and everything its lines say.
#[derive(Debug, Clone)]
struct Request {
    exchange: Option<usize>,
    /// A Managed Availability probe, not a device's request.
    probe: bool,
    /// When the request ended, ms since the Unix epoch, UTC.
    end_ms: i64,
    method: &'static str,
    /// The ActiveSync stem as the device's server writes it (2007 keeps the bare vdir).
    stem: &'static str,
    /// The device's query exactly as sent (plain or base64), without `?`; empty for none.
    device_query: String,
    /// The same request as a plain query (the back end's form); empty for none.
    plain_query: String,
    user: Option<String>,
    device_id: Option<String>,
    device_type: Option<String>,
    command: Option<String>,
    /// `cs-username` of the device's server (`None`: `-`).
    username: Option<String>,
    /// `cs-username` of the back end (the account Windows resolved).
    be_username: Option<String>,
    client_ip: String,
    user_agent: String,
    status: u16,
    substatus: u32,
    win32: u64,
    /// `time-taken` of the device's server, and of the back end.
    time_taken: u64,
    be_time_taken: u64,
    cs_bytes: u64,
    sc_bytes: u64,
    route: Route,
    /// cafeReqId / ActivityID (2013+).
    activity_id: Option<String>,
    /// The back end's or CAS's diagnostics; `None` when only the front end logged the request.
    log: Option<Diagnostics>,
}

/// The values of the `&Log=` tokens.
#[derive(Debug, Clone, Default)]
struct Diagnostics {
    eas_status: Option<u32>,
    /// Protocol version ×10 (`161`).
    version: Option<u32>,
    host: String,
    smtp: String,
    /// `Ssnf:T`: the sync state was not found.
    state_not_found: bool,
    folders: Vec<Folder>,
    heartbeat: Option<u32>,
    /// `Rto:2`: the Ping ran to its heartbeat with no changes.
    no_changes: bool,
    policy_key: Option<String>,
    policy_ack: Option<u32>,
    error: Option<String>,
    /// `As:` and `Throttle` (Exchange 2007 writes neither).
    access_state: Option<String>,
    throttle_ms: Option<u64>,
    /// Throttled: the suggested back-off (seconds) and the budget balance written.
    back_off: Option<(u32, i64)>,
    /// The 2010 Budget snapshot (hanging requests).
    budget_2010: bool,
    /// `Mbx:` of a 2010 CAS (a 2016 back end names itself).
    mailbox: String,
}

#[derive(Debug, Clone, Default)]
struct Folder {
    id: String,
    class: &'static str,
    filter: Option<u32>,
    sync_type: &'static str,
    sync_key: String,
    server_key: Option<String>,
    /// Client changes (adds, changes, deletes), written as `Cli:` when not all zero.
    client: (u32, u32, u32),
    /// Server changes, written as `Srv:` when the server answered the folder.
    server: Option<(u32, u32, u32)>,
    /// The folder's status when it is not 1 (`Pfs`).
    status: Option<u32>,
}

/// A line that is no device request: OWA, EWS, Autodiscover.
#[derive(Debug, Clone)]
struct Other {
    server: usize,
    end_ms: i64,
    method: &'static str,
    stem: &'static str,
    query: String,
    username: Option<String>,
    client_ip: String,
    user_agent: String,
    status: u16,
    substatus: u32,
    win32: u64,
    time_taken: u64,
}

/// Everything a log folder holds, before it is written.
#[derive(Debug, Clone, Default)]
struct Plan {
    servers: Vec<Server>,
    requests: Vec<Request>,
    others: Vec<Other>,
    not_logged: Vec<usize>,
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// The values of one line, by field.
struct Values<'a> {
    end_ms: i64,
    server: &'a Server,
    method: &'a str,
    stem: &'a str,
    query: &'a str,
    port: u16,
    username: Option<&'a str>,
    client_ip: &'a str,
    user_agent: &'a str,
    status: u16,
    substatus: u32,
    win32: u64,
    sc_bytes: u64,
    cs_bytes: u64,
    time_taken: u64,
}

fn utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `HH:MM:SS.fffffff`, as Exchange writes a `Tm*` token's time.
fn time_of_day(ms: i64) -> String {
    let mut text = Vec::with_capacity(16);
    big::time_of_day(&mut text, ms);
    String::from_utf8_lossy(&text).into_owned()
}

/// RFC 3339 with ms, `Z`.
fn rfc3339(ms: i64) -> String {
    utc(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `-` for an empty value; IIS writes a space inside a value as `+`.
fn field(out: &mut String, value: &str) {
    if value.is_empty() {
        out.push('-');
    } else {
        out.extend(value.chars().map(|c| if c == ' ' { '+' } else { c }));
    }
}

/// One line, CRLF-terminated, with the fields of `set`.
fn write_line(out: &mut String, set: FieldSet, v: &Values<'_>) {
    let t = utc(v.end_ms);
    for (i, name) in set.names().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let value: Cow<'_, str> = match name {
            "date" => t.format("%Y-%m-%d").to_string().into(),
            "time" => t.format("%H:%M:%S").to_string().into(),
            "s-computername" => v.server.name.as_str().into(),
            "s-ip" => v.server.ip.as_str().into(),
            "cs-method" => v.method.into(),
            "cs-uri-stem" => v.stem.into(),
            "cs-uri-query" => v.query.into(),
            "s-port" => v.port.to_string().into(),
            "cs-username" => v.username.unwrap_or_default().into(),
            "c-ip" => v.client_ip.into(),
            "cs(User-Agent)" => v.user_agent.into(),
            "cs(Referer)" => "".into(),
            "sc-status" => v.status.to_string().into(),
            "sc-substatus" => v.substatus.to_string().into(),
            "sc-win32-status" => v.win32.to_string().into(),
            "sc-bytes" => v.sc_bytes.to_string().into(),
            "cs-bytes" => v.cs_bytes.to_string().into(),
            "time-taken" => v.time_taken.to_string().into(),
            other => unreachable!("no value for field {other}"),
        };
        field(out, &value);
    }
    out.push_str("\r\n");
}

fn header(out: &mut String, set: FieldSet, first_ms: i64) {
    let _ = write!(
        out,
        "#Software: {}\r\n#Version: 1.0\r\n#Date: {}\r\n#Fields: {}\r\n",
        set.software(),
        utc(first_ms).format("%Y-%m-%d %H:%M:%S"),
        set.line()
    );
}

/// `query` followed by `suffix`, with `&` between them when both are there.
fn joined(query: &str, suffix: &str) -> String {
    match (query.is_empty(), suffix.is_empty()) {
        (_, true) => query.to_string(),
        (true, false) => format!("&{suffix}"),
        (false, false) => format!("{query}&{suffix}"),
    }
}

/// Which line of a request a server writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    FrontEnd,
    BackEnd,
    Cas,
}

fn request_values<'a>(plan: &'a Plan, r: &'a Request, side: Side, query: &'a str) -> Values<'a> {
    let (server, stem, port, username, client_ip, time_taken) = match (side, r.route) {
        (Side::BackEnd, Route::Proxied { fe, be }) => (
            &plan.servers[be],
            PROXY_STEM,
            444,
            r.be_username.as_deref(),
            plan.servers[fe].ip.as_str(),
            r.be_time_taken,
        ),
        (_, Route::FrontEnd { fe } | Route::Proxied { fe, .. }) => (
            &plan.servers[fe],
            ACTIVESYNC_STEM,
            443,
            r.username.as_deref(),
            r.client_ip.as_str(),
            r.time_taken,
        ),
        (_, Route::Cas { cas }) => (
            &plan.servers[cas],
            r.stem,
            443,
            r.username.as_deref(),
            r.client_ip.as_str(),
            r.time_taken,
        ),
    };
    Values {
        end_ms: r.end_ms,
        server,
        method: r.method,
        stem,
        query,
        port,
        username,
        client_ip,
        user_agent: &r.user_agent,
        status: r.status,
        substatus: r.substatus,
        win32: r.win32,
        sc_bytes: r.sc_bytes,
        // The back end gets the request with the proxy's headers added.
        cs_bytes: r.cs_bytes + if side == Side::BackEnd { 356 } else { 0 },
        time_taken,
    }
}

/// The `cs-uri-query` a server writes for a request.
fn request_query(plan: &Plan, r: &Request, side: Side) -> String {
    match side {
        Side::FrontEnd => {
            let id = r.activity_id.as_deref().unwrap_or_default();
            joined(&r.device_query, &format!("CorrelationID=<empty>;&cafeReqId={id};"))
        }
        Side::BackEnd => {
            let log = r.log.as_ref().map(|d| log_tokens(plan, r, d)).unwrap_or_default();
            joined(&r.plain_query, &format!("Log={log}"))
        }
        Side::Cas => match &r.log {
            Some(d) => joined(&r.device_query, &format!("Log={}", log_tokens(plan, r, d))),
            None => r.device_query.clone(),
        },
    }
}

/// A value as .NET's `HttpUtility.UrlEncode` writes it (lower-case hex, space as `+`), with `_`
/// as `%5F` so that it cannot end the token (reference §3.1).
fn encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'!' | b'*' | b'(' | b')' => out.push(b as char),
            b' ' => out.push('+'),
            b'_' => out.push_str("%5F"),
            _ => {
                let _ = write!(out, "%{b:02x}");
            }
        }
    }
    out
}

/// The `&Log=` value (without `Log=`) in the server's dialect, each token ended by `_`.
fn log_tokens(plan: &Plan, r: &Request, d: &Diagnostics) -> String {
    let mut s = String::with_capacity(400);
    let (front, server) = match r.route {
        Route::Proxied { fe, be } => (Some(&plan.servers[fe]), &plan.servers[be]),
        Route::FrontEnd { fe } => (None, &plan.servers[fe]),
        Route::Cas { cas } => (None, &plan.servers[cas]),
    };
    let mut t = |args: std::fmt::Arguments<'_>| {
        let _ = s.write_fmt(args);
        s.push('_');
    };
    match server.dialect {
        Dialect::Exchange2016 => {
            if let Some(v) = d.eas_status {
                t(format_args!("SC1:{v}"));
            }
            if let Some(fe) = front {
                t(format_args!("PrxFrom:{}", fe.ip));
            }
            if let Some(v) = d.version {
                t(format_args!("Ver1:{v}"));
            }
            t(format_args!("HH:{}", encoded(&d.host)));
            t(format_args!("SmtpAdrs:{}", encoded(&d.smtp)));
            if d.state_not_found {
                t(format_args!("Ssnf:T"));
            }
            for f in &d.folders {
                t(format_args!("Fid:{}", encoded(&f.id)));
                t(format_args!("Ty:{}", f.class));
                if let Some(v) = f.filter {
                    t(format_args!("Filter1:{v}"));
                }
                t(format_args!("St:{}", f.sync_type));
                t(format_args!("Sk:{}", encoded(&f.sync_key)));
                if let Some(k) = &f.server_key {
                    t(format_args!("Sks:{}", encoded(k)));
                }
                let (a, c, del) = f.client;
                if a + c + del > 0 {
                    t(format_args!("Cli:{a}a{c}c{del}d0f0e0s0fs"));
                }
                if let Some((a, c, del)) = f.server {
                    t(format_args!("Srv:{a}a{c}c{del}d0s0e0r0A0sd"));
                }
                if let Some(v) = f.status {
                    t(format_args!("Pfs:{v}"));
                }
            }
            if let Some(hb) = d.heartbeat {
                t(format_args!("Hb:{hb}"));
                if d.no_changes {
                    t(format_args!("Rto:2"));
                }
            }
            t(format_args!("Fet:{}", r.be_time_taken.saturating_sub(3)));
            if let Some(k) = &d.policy_key {
                t(format_args!("Pk:{}", encoded(k)));
            }
            if let Some(a) = d.policy_ack {
                t(format_args!("Pa:{a}"));
            }
            if let Some(e) = &d.error {
                t(format_args!("Error:{}", encoded(e)));
            }
            if let Some(a) = &d.access_state {
                t(format_args!("As:{a}"));
            }
            t(format_args!("Mbx:{}", server.fqdn));
            if let Some(fe) = front {
                t(format_args!("Cafe:{}", fe.fqdn));
            }
            t(format_args!("Throttle:{}", d.throttle_ms.unwrap_or(0)));
            if let Some((seconds, _)) = d.back_off {
                t(format_args!("SBkOffD:H%2f{seconds}"));
                t(format_args!("BkOffRsn:OutOfBudget"));
            }
            // Exchange's stages in UTC time of day, 7 fraction digits (`iis-eas-log.md` §3.2):
            // received when the back end's time-taken began, completed as its line is written.
            let received = r.end_ms - r.be_time_taken as i64;
            t(format_args!("TmRcv:{}", time_of_day(received)));
            t(format_args!("TmCmpl:{}", time_of_day(r.end_ms - 1)));
            if let Some((_, balance)) = d.back_off {
                let owner = format!(
                    "S-1-5-21-1-2-3-1104_{}_{}",
                    r.device_id.as_deref().unwrap_or_default(),
                    r.device_type.as_deref().unwrap_or_default()
                );
                t(format_args!(
                    "Budget:(A)Owner%3a{}%2cConn%3a3%2cBalance%3a{balance}",
                    encoded(&owner)
                ));
            }
            if let Some(id) = &r.activity_id {
                t(format_args!("ActivityContextData:ActivityID%3d{id}%3bS%3aWLM.BT%3dEas"));
            }
        }
        Dialect::Exchange2010 | Dialect::Exchange2007 => {
            let legacy = server.dialect == Dialect::Exchange2007;
            if let Some(v) = d.version {
                t(format_args!("V{v}"));
            }
            // LDAP and RPC counts: a fixed, plausible load.
            t(format_args!("LdapC1"));
            if legacy {
                t(format_args!("LdapL0"));
            }
            t(format_args!("RpcC{}", 4 + d.folders.len() * 6));
            t(format_args!("RpcL{}", 2 + (r.time_taken % 29)));
            for f in &d.folders {
                t(format_args!("Fid:{}", encoded(&f.id)));
                t(format_args!("Ty:{}", f.class));
                if let Some(v) = f.filter {
                    t(format_args!("Filt{v}"));
                }
                t(format_args!("St:{}", f.sync_type));
                t(format_args!("Sk:{}", encoded(&f.sync_key)));
                if let Some(k) = &f.server_key {
                    t(format_args!("Sks{k}"));
                }
                if let Some(v) = f.status {
                    t(format_args!("Pfs{v}"));
                }
            }
            if let Some(hb) = d.heartbeat {
                t(format_args!("Hb{hb}"));
            }
            if let Some(k) = &d.policy_key {
                t(format_args!("Pk{k}"));
            }
            if let Some(a) = d.policy_ack {
                t(format_args!("Pa{a}"));
            }
            if let Some(v) = d.eas_status {
                t(format_args!("S{v}"));
            }
            if let Some(e) = &d.error {
                t(format_args!("Error:{}", encoded(e)));
            }
            if let Some(a) = &d.access_state {
                t(format_args!("As:{a}"));
            }
            if !legacy {
                t(format_args!("Mbx:{}", d.mailbox));
            }
            if let Some(ms) = d.throttle_ms {
                t(format_args!("Throttle{ms}"));
            }
            if d.budget_2010 {
                t(format_args!(
                    "Budget:(A)Conn%3a1%2cHangingConn%3a1%2cAD%3a%24null%2f%24null%2f0%25%2cCAS%3a%24null%2f%24null%2f0%25%2cAB%3a%24null%2f%24null%2f0%25%2cRPC%3a%24null%2f%24null%2f0%25%2cFC%3a1000%2f0%2cPolicy%3aDefaultThrottlingPolicy%2cNorm"
                ));
            }
        }
    }
    s
}

/// Where each line of a request went.
#[derive(Debug, Clone, Default)]
struct Placement {
    front_end: Option<LineRef>,
    back_end: Option<LineRef>,
    cas: Option<LineRef>,
}

/// What a server's line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Request(usize, Side),
    Other(usize),
}

/// Line counts while the files are laid out.
#[derive(Debug, Clone, Default)]
struct Counts {
    lines_total: usize,
    directive_lines: usize,
    activesync_lines: usize,
    probe_lines: usize,
    other_lines: usize,
    skipped_lines: usize,
    servers: BTreeMap<String, ServerTruth>,
}

/// Renders every server's files and computes the truth.
fn render(plan: &Plan) -> IisLogs {
    let mut placements = vec![Placement::default(); plan.requests.len()];
    let mut counts = Counts::default();
    let mut files = Vec::new();
    for (k, server) in plan.servers.iter().enumerate() {
        let mut items: Vec<(i64, Item)> = Vec::new();
        for (i, r) in plan.requests.iter().enumerate() {
            let side = match r.route {
                Route::FrontEnd { fe } if fe == k => Some(Side::FrontEnd),
                Route::Proxied { fe, .. } if fe == k => Some(Side::FrontEnd),
                Route::Proxied { be, .. } if be == k => Some(Side::BackEnd),
                Route::Cas { cas } if cas == k => Some(Side::Cas),
                _ => None,
            };
            if let Some(side) = side {
                items.push((r.end_ms, Item::Request(i, side)));
            }
        }
        items.extend(
            plan.others
                .iter()
                .enumerate()
                .filter(|(_, o)| o.server == k)
                .map(|(j, o)| (o.end_ms, Item::Other(j))),
        );
        // IIS writes a line when the request ends; the sort is stable, so ties keep their order.
        items.sort_by_key(|(end, _)| *end);
        let mut truth = ServerTruth {
            role: server.role,
            lines: 0,
            activesync_lines: 0,
        };
        // One file per UTC day.
        let mut days: Vec<Vec<(i64, Item)>> = Vec::new();
        for item in items {
            let day = item.0.div_euclid(86_400_000);
            match days.last_mut() {
                Some(d) if d[0].0.div_euclid(86_400_000) == day => d.push(item),
                _ => days.push(vec![item]),
            }
        }
        let last_day = days.len().saturating_sub(1);
        for (n, day) in days.iter().enumerate() {
            let rel = format!(
                "{}/u_ex{}.log{}",
                server.dir,
                utc(day[0].0).format("%y%m%d"),
                if server.gzip { ".gz" } else { "" }
            );
            let cut = server.cut_last_line && n == last_day;
            let text = render_file(plan, server, day, &rel, cut, &mut placements, &mut counts, &mut truth);
            files.push((
                rel,
                if server.gzip {
                    gzip(text.as_bytes())
                } else {
                    text.into_bytes()
                },
            ));
        }
        counts.servers.insert(server.name.clone(), truth);
    }
    let truth = truth(
        plan,
        &placements,
        counts,
        files.iter().map(|(f, _)| f.clone()).collect(),
    );
    IisLogs { files, truth }
}

/// The text of one daily file, and its lines counted.
#[allow(clippy::too_many_arguments)]
fn render_file(
    plan: &Plan,
    server: &Server,
    items: &[(i64, Item)],
    rel: &str,
    cut: bool,
    placements: &mut [Placement],
    counts: &mut Counts,
    truth: &mut ServerTruth,
) -> String {
    let mut text = String::with_capacity(items.len() * 400);
    let mut line = 0;
    let mut set = server.fields;
    let mut directives = |text: &mut String, set: FieldSet, first_ms: i64, line: &mut usize| {
        header(text, set, first_ms);
        *line += 4;
        counts.directive_lines += 4;
    };
    directives(&mut text, set, items[0].0, &mut line);
    let restart_at = (items.len() >= 2).then_some(items.len() / 2);
    for (n, &(end_ms, item)) in items.iter().enumerate() {
        if let (Some(at), Some(new)) = (restart_at, server.restart)
            && n == at
        {
            set = new;
            directives(&mut text, set, end_ms, &mut line);
        }
        let start = text.len();
        match item {
            Item::Request(i, side) => {
                let r = &plan.requests[i];
                let query = request_query(plan, r, side);
                write_line(&mut text, set, &request_values(plan, r, side, &query));
            }
            Item::Other(j) => {
                let o = &plan.others[j];
                write_line(&mut text, set, &other_values(plan, o));
            }
        }
        line += 1;
        if cut && n + 1 == items.len() {
            // A copy taken while IIS was writing: the line stops inside cs-uri-query.
            let query_at = start + nth_space(&text[start..], set.names().position(|f| f == "cs-uri-query"));
            let keep = query_at + (text.len() - query_at) / 3;
            text.truncate(keep);
            counts.skipped_lines += 1;
            counts.lines_total += line;
            return text;
        }
        let at = Some(LineRef {
            file: rel.to_string(),
            line,
        });
        truth.lines += 1;
        match item {
            Item::Request(i, side) => {
                truth.activesync_lines += 1;
                counts.activesync_lines += 1;
                if plan.requests[i].probe {
                    counts.probe_lines += 1;
                }
                let p = &mut placements[i];
                match side {
                    Side::FrontEnd => p.front_end = at,
                    Side::BackEnd => p.back_end = at,
                    Side::Cas => p.cas = at,
                }
            }
            Item::Other(_) => counts.other_lines += 1,
        }
    }
    counts.lines_total += line;
    text
}

/// Byte offset just after the `n`th space of `line` (the start of field `n`).
fn nth_space(line: &str, n: Option<usize>) -> usize {
    let n = n.unwrap_or(0);
    if n == 0 {
        return 0;
    }
    line.match_indices(' ').nth(n - 1).map_or(0, |(i, _)| i + 1)
}

fn other_values<'a>(plan: &'a Plan, o: &'a Other) -> Values<'a> {
    let server = &plan.servers[o.server];
    Values {
        end_ms: o.end_ms,
        server,
        method: o.method,
        stem: o.stem,
        query: &o.query,
        port: if server.role == ServerRole::BackEnd { 444 } else { 443 },
        username: o.username.as_deref(),
        client_ip: &o.client_ip,
        user_agent: &o.user_agent,
        status: o.status,
        substatus: o.substatus,
        win32: o.win32,
        sc_bytes: 1200 + o.time_taken * 7 % 4000,
        cs_bytes: 400 + o.time_taken * 13 % 900,
        time_taken: o.time_taken,
    }
}

/// gzip with a fixed header (no name, mtime 0), so the bytes are the same on every run.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    encoder.write_all(data).unwrap_or_default();
    encoder.finish().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The truth, from the decisions
// ---------------------------------------------------------------------------------------------

/// `"status.substatus"`.
fn http_key(status: u16, substatus: u32) -> String {
    format!("{status}.{substatus}")
}

fn truth(plan: &Plan, placements: &[Placement], counts: Counts, files: Vec<String>) -> IisTruth {
    let mut order: Vec<usize> = (0..plan.requests.len()).filter(|&i| !plan.requests[i].probe).collect();
    order.sort_by_key(|&i| plan.requests[i].end_ms);
    let requests: Vec<RequestTruth> = order
        .iter()
        .map(|&i| request_truth(plan, &plan.requests[i], &placements[i]))
        .collect();

    let key = |r: &RequestTruth| Some((r.user.as_ref()?.to_lowercase(), r.device_id.as_ref()?.to_lowercase()));
    let mut devices: BTreeMap<(String, String), DeviceTruth> = BTreeMap::new();
    let mut sends: BTreeMap<(String, String), BTreeMap<SendOutcome, usize>> = BTreeMap::new();
    let mut sync_keys: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    // Per hour: hits, devices, Syncs and GetItemEstimates.
    type Hour = (usize, BTreeSet<(String, String)>, usize);
    let mut hourly: BTreeMap<String, Hour> = BTreeMap::new();
    for (r, source) in requests.iter().zip(order.iter().map(|&i| &plan.requests[i])) {
        let hour = format!("{}", utc(parse_ms(&r.time)).format("%Y-%m-%d %H"));
        let h = hourly.entry(hour).or_default();
        h.0 += 1;
        let command = r.command.as_deref().unwrap_or_default();
        h.2 += usize::from(matches!(command, "Sync" | "GetItemEstimate"));
        let Some(k) = key(r) else { continue };
        h.1.insert(k.clone());
        let d = devices.entry(k.clone()).or_insert_with(|| DeviceTruth {
            user: r.user.clone().unwrap_or_default(),
            device_id: r.device_id.clone().unwrap_or_default(),
            device_type: r.device_type.clone().unwrap_or_default(),
            hits: 0,
            commands: BTreeMap::new(),
            http_status: BTreeMap::new(),
            eas_status: BTreeMap::new(),
            errors: BTreeMap::new(),
            access_states: BTreeMap::new(),
            sync_key_zero: 0,
            syncs: 0,
            sendmail: Vec::new(),
            throttled: 0,
            first_seen: r.time.clone(),
            last_seen: r.time.clone(),
            user_agents: Vec::new(),
            client_ips: Vec::new(),
            policy_key: None,
            policy_ack: None,
        });
        d.hits += 1;
        *d.commands.entry(command.to_string()).or_default() += 1;
        *d.http_status
            .entry(http_key(r.http_status, r.http_substatus))
            .or_default() += 1;
        if let Some(s) = r.eas_status {
            *d.eas_status.entry(s).or_default() += 1;
        }
        if let Some(e) = &r.error {
            *d.errors.entry(e.clone()).or_default() += 1;
        }
        if let Some(a) = &r.access_state {
            *d.access_states.entry(a.clone()).or_default() += 1;
        }
        if command == "Sync" {
            d.syncs += 1;
            d.sync_key_zero += usize::from(r.folders.iter().any(|f| f.sync_key == "0"));
        }
        for f in &r.folders {
            let e = (k.0.clone(), k.1.clone(), f.id.clone(), f.sync_key.clone());
            *sync_keys.entry(e).or_default() += 1;
        }
        if matches!(command, "SendMail" | "SmartReply" | "SmartForward") {
            let outcome = SendOutcome {
                command: command.to_string(),
                eas_status: r.eas_status,
                error: r.error.clone(),
                http_status: http_key(r.http_status, r.http_substatus),
                count: 0,
            };
            *sends.entry(k.clone()).or_default().entry(outcome).or_default() += 1;
        }
        d.throttled += usize::from(
            r.http_status == 503 || r.error.as_deref() == Some("OverBudget") || r.throttle_ms.is_some_and(|t| t > 0),
        );
        d.last_seen = r.time.clone();
        if !d.user_agents.contains(&source.user_agent) {
            d.user_agents.push(source.user_agent.clone());
        }
        if !d.client_ips.contains(&source.client_ip) {
            d.client_ips.push(source.client_ip.clone());
        }
        if r.policy_key.is_some() {
            d.policy_key = r.policy_key.clone();
        }
        if r.policy_ack.is_some() {
            d.policy_ack = r.policy_ack;
        }
    }
    for (k, outcomes) in sends {
        if let Some(d) = devices.get_mut(&k) {
            d.sendmail = outcomes
                .into_iter()
                .map(|(o, count)| SendOutcome { count, ..o })
                .collect();
        }
    }
    let repeated_sync_keys = sync_keys
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((user, device, folder, sync_key), count)| {
            let d = &devices[&(user, device)];
            RepeatedSyncKey {
                user: d.user.clone(),
                device_id: d.device_id.clone(),
                folder,
                sync_key,
                count,
            }
        })
        .collect();
    IisTruth {
        lines_total: counts.lines_total,
        directive_lines: counts.directive_lines,
        activesync_lines: counts.activesync_lines,
        probe_lines: counts.probe_lines,
        other_lines: counts.other_lines,
        skipped_lines: counts.skipped_lines,
        files,
        not_logged: plan.not_logged.clone(),
        requests,
        devices: devices.into_values().collect(),
        repeated_sync_keys,
        hourly: hourly
            .into_iter()
            .map(|(hour, (hits, devices, sync_and_estimate))| {
                (
                    hour,
                    HourTruth {
                        hits,
                        devices: devices.len(),
                        sync_and_estimate,
                    },
                )
            })
            .collect(),
        servers: counts.servers,
    }
}

fn parse_ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339).map_or(0, |t| t.timestamp_millis())
}

fn request_truth(plan: &Plan, r: &Request, p: &Placement) -> RequestTruth {
    let log = r.log.as_ref();
    let logged_by = match r.route {
        Route::Proxied { be, .. } => &plan.servers[be],
        Route::FrontEnd { fe } => &plan.servers[fe],
        Route::Cas { cas } => &plan.servers[cas],
    };
    let received = (log.is_some() && logged_by.dialect == Dialect::Exchange2016)
        .then(|| rfc3339(r.end_ms - r.be_time_taken as i64));
    let folders: Vec<FolderTruth> = log
        .map(|d| {
            d.folders
                .iter()
                .map(|f| FolderTruth {
                    id: f.id.clone(),
                    class: f.class.to_string(),
                    sync_type: f.sync_type.to_string(),
                    sync_key: f.sync_key.clone(),
                    server_sync_key: f.server_key.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    RequestTruth {
        exchange: r.exchange,
        front_end: p.front_end.clone(),
        back_end: p.back_end.clone(),
        cas: p.cas.clone(),
        time: rfc3339(r.end_ms),
        method: r.method.to_string(),
        user: r.user.clone().or_else(|| r.username.clone()),
        device_id: r.device_id.clone(),
        device_type: r.device_type.clone(),
        command: r.command.clone(),
        http_status: r.status,
        http_substatus: r.substatus,
        win32_status: r.win32,
        time_taken_ms: r.time_taken,
        activity_id: r.activity_id.clone(),
        eas_status: log.and_then(|d| d.eas_status),
        error: log.and_then(|d| d.error.clone()),
        access_state: log.and_then(|d| d.access_state.clone()),
        throttle_ms: log.and_then(|d| d.throttle_ms),
        sync_key: folders.first().map(|f| f.sync_key.clone()),
        server_sync_key: folders.first().and_then(|f| f.server_sync_key.clone()),
        folders,
        heartbeat_s: log.and_then(|d| d.heartbeat),
        policy_key: log.and_then(|d| d.policy_key.clone()),
        policy_ack: log.and_then(|d| d.policy_ack),
        received,
    }
}

// ---------------------------------------------------------------------------------------------
// Small shared tools
// ---------------------------------------------------------------------------------------------

/// splitmix64: deterministic variation without the `rand` crate.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1B5_4A32)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// A value in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with the given probability in percent.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A GUID, lower case, as the cafeReqId is written.
    fn guid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            0x8000 | ((b >> 48) & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }
}
