//! Exchange's IIS logs as a source of their own (`../shared/reference/iis-eas-log.md`): what every
//! device asked of every server, not just the one in the capture.
//!
//! - [`w3c`] — the W3C extended format: `#Fields:` wherever it appears, lines split in place.
//! - [`delimiters`] — where the spaces, line ends, `&`s and `_`s are, 64 bytes at a time.
//! - [`line`] — one ActiveSync line: server and role, user and device from the plain or base64
//!   query, what IIS answered, the `Log=` value.
//! - [`log_tokens`] — the `Log=` diagnostics split into tokens and named fields.
//! - [`scan`] — plain and gzip files and folders read in blocks on every core, each ActiveSync
//!   line handed to a [`scan::Visitor`].
//! - [`export`] — the lines as a Parquet file, for SQL engines over months of logs.
//! - [`reports`] — the Log Parser Studio and ActiveSync report-script questions, streamed.
//! - this module — the lines as sessions of a capture ([`sessions`]), so that the table, the
//!   filter, the findings, the timeline and the statistics work on them, each with its
//!   [`IisFacts`]; the front-end and back-end lines of one request are paired.

mod delimiters;
pub mod export;
pub mod line;
pub mod log_tokens;
pub mod reports;
pub mod scan;
mod substatus_tsv;
pub mod w3c;

use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;

use serde::Serialize;

use crate::eas::Command;
use crate::eas::session::{EasSummary, StatusEntry, SyncKeyEntry};
use crate::eas::status::{self, Level, Verdict};
use crate::http::{Side, parse_request, parse_response};
use crate::readers::{HttpSession, OpenOptions, Request, Response, Timer};
use crate::shared::Shared;
pub use line::{EasLine, Role};
pub use log_tokens::LogFields;
pub use scan::{IisError, Scan, Visitor};

/// ActiveSync lines kept as sessions, at most: the earliest by time. Reports read every line.
pub const MAX_SESSIONS: usize = 300_000;

/// What an IIS log line says beyond the HTTP exchange rebuilt from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IisFacts {
    pub file: PathBuf,
    pub line: u64,
    pub role: Role,
    pub server: Shared,
    pub site: Option<Shared>,
    /// `cs-username`.
    pub user_name: Option<Shared>,
    pub substatus: u32,
    pub win32: u32,
    pub time_taken_ms: Option<u64>,
    pub sc_bytes: Option<u64>,
    pub cs_bytes: Option<u64>,
    pub forwarded_for: Option<String>,
    /// `cafeReqId` (front end) or `ActivityID` (back end).
    pub request_id: Option<String>,
    pub probe: bool,
    /// The `Log=` diagnostics, every token kept.
    pub log: Option<LogFields>,
    /// The session (index) of the other line of the same request (front end ↔ back end).
    pub paired_with: Option<u32>,
}

/// One line as a session, before it is numbered.
struct Built {
    start_ms: i64,
    at: scan::LineAt,
    http: HttpSession,
    eas: Option<EasSummary>,
    facts: IisFacts,
}

impl PartialEq for Built {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl Eq for Built {}
impl PartialOrd for Built {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Built {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key().cmp(&o.key())
    }
}
impl Built {
    fn key(&self) -> (i64, u32, u32, u32) {
        (self.start_ms, self.at.file, self.at.block, self.at.line_in_block)
    }
}

/// Builds sessions from lines: the earliest [`MAX_SESSIONS`] (a max-heap by time), optionally
/// only of one device.
struct Sessions<'f> {
    files: &'f [PathBuf],
    device: Option<&'f str>,
    kept: BinaryHeap<Built>,
    dropped: u64,
    limit: usize,
}

impl Visitor for Sessions<'_> {
    fn line(&mut self, line: &EasLine<'_>, at: scan::LineAt) {
        if let Some(d) = self.device
            && !line.device_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(d))
        {
            return;
        }
        if self.kept.len() >= self.limit {
            self.dropped += 1;
            if self.kept.peek().is_some_and(|top| top.start_ms <= line.start_ms()) {
                return;
            }
            self.kept.pop();
        }
        let file = self.files.get(at.file as usize).cloned().unwrap_or_default();
        self.kept.push(build(line, at, file));
    }

    fn merge(&mut self, other: Self) {
        self.dropped += other.dropped;
        for b in other.kept {
            if self.kept.len() >= self.limit {
                self.dropped += 1;
                if self.kept.peek().is_some_and(|top| top <= &b) {
                    continue;
                }
                self.kept.pop();
            }
            self.kept.push(b);
        }
    }
}

/// One line as a session: the exchange rebuilt from it, its EAS summary, what else it says.
pub type IisSession = (HttpSession, Option<EasSummary>, IisFacts);

/// What [`sessions`] read: the sessions, what was read of each file, the warnings (each naming
/// its file) and the reports of every line (of all devices, even with a `device`).
pub struct Read {
    pub sessions: Vec<IisSession>,
    pub scan: Scan,
    pub warnings: Vec<String>,
    pub reports: reports::Reports,
}

/// The sessions of IIS logs (files or folders), in time order (by when each request started),
/// numbered from 1, each with its EAS summary and its [`IisFacts`]; with `device`, only that
/// device's lines. The reports are computed in the same pass.
pub fn sessions(inputs: &[PathBuf], options: &OpenOptions<'_>, device: Option<&str>) -> Result<Read, IisError> {
    let files = scan::files_of(inputs)?;
    let limit = options.first_sessions.unwrap_or(MAX_SESSIONS).min(MAX_SESSIONS);
    let make = || {
        let sessions = Sessions {
            files: &files,
            device,
            kept: BinaryHeap::new(),
            dropped: 0,
            limit,
        };
        (sessions, reports::Reports::new())
    };
    // The inputs as given too: a folder per server names the servers.
    let ((built, reports), scan) = scan::scan_files(&files, inputs, options, make)?;
    let mut warnings = scan.warnings();
    if built.dropped > 0 {
        warnings.push(format!(
            "{} ActiveSync lines: the earliest {} are shown as sessions; the reports (iis-report) count every line",
            crate::numbers::group_thousands(scan.activesync_lines()),
            crate::numbers::group_thousands(limit as u64),
        ));
    }
    let mut list = built.kept.into_sorted_vec();
    for (i, b) in list.iter_mut().enumerate() {
        b.http.index = i as u32 + 1;
        b.http.id = Some(i as u64 + 1);
        b.facts.line = scan.line_number(b.at);
        let line = format!("line {}", b.facts.line);
        if let Some(n) = b.http.facts.iter_mut().find(|n| n.starts_with("IIS log ")) {
            *n = n.replacen("line {line}", &line, 1);
        }
    }
    pair_front_and_back(&mut list);
    if device.is_some() {
        list = fold_pairs(list);
    }
    Ok(Read {
        sessions: list.into_iter().map(|b| (b.http, b.eas, b.facts)).collect(),
        scan,
        warnings,
        reports,
    })
}

/// Notes on each line which session holds the other line of the same request: by request id
/// (`cafeReqId` = `ActivityID`), else by device, command, front-end address (= the back end's
/// `c-ip`) and a start within two seconds.
fn pair_front_and_back(list: &mut [Built]) {
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, b) in list.iter().enumerate() {
        if b.facts.role == Role::FrontEnd
            && let Some(id) = &b.facts.request_id
        {
            by_id.insert(id.to_ascii_lowercase(), i);
        }
    }
    let mut pairs = Vec::new();
    let mut taken = vec![false; list.len()];
    for (i, b) in list.iter().enumerate() {
        if b.facts.role != Role::BackEnd {
            continue;
        }
        let by_request = b
            .facts
            .request_id
            .as_ref()
            .and_then(|id| by_id.get(&id.to_ascii_lowercase()).copied())
            .filter(|&j| !taken[j]);
        let by_time = || {
            let from = b
                .facts
                .log
                .as_ref()
                .and_then(|l| l.proxied_from.as_deref())
                .or(b.http.client_ip.as_deref());
            let (lo, hi) = (b.start_ms - 2_000, b.start_ms + 2_000);
            let start = list.partition_point(|x| x.start_ms < lo);
            (start..list.len()).take_while(|&j| list[j].start_ms <= hi).find(|&j| {
                let f = &list[j];
                !taken[j]
                    && f.facts.role == Role::FrontEnd
                    && same(&f.eas, &b.eas)
                    && (from.is_none()
                        || f.http.server_ip.is_none()
                        || f.http.server_ip.as_deref() == from
                        || f.facts.server.as_ref() == from.unwrap_or(""))
            })
        };
        if let Some(j) = by_request.or_else(by_time) {
            taken[j] = true;
            pairs.push((i, j));
        }
    }
    for (i, j) in pairs {
        let (bi, fj) = (list[i].http.index, list[j].http.index);
        let (back_server, front_server) = (list[i].facts.server.clone(), list[j].facts.server.clone());
        list[i].facts.paired_with = Some(fj);
        list[j].facts.paired_with = Some(bi);
        list[i].http.facts.push(format!(
            "The front end's line of this request is session {fj} ({front_server})"
        ));
        list[j].http.facts.push(format!(
            "The back end's line of this request is session {bi} ({back_server})"
        ));
    }
}

/// Each back-end line folded into the front-end line of the same request (its `Log=`, EAS Status
/// and SyncKeys, its notes), so that one row says what the device sent, what the mailbox server
/// logged and what IIS answered; sessions numbered again.
fn fold_pairs(list: Vec<Built>) -> Vec<Built> {
    let mut slots: Vec<Option<Built>> = list.into_iter().map(Some).collect();
    for i in 0..slots.len() {
        let Some(b) = slots[i].as_ref() else { continue };
        let (Role::BackEnd, Some(front)) = (b.facts.role, b.facts.paired_with) else {
            continue;
        };
        let j = front as usize - 1;
        let Some(back) = slots[i].take() else { continue };
        let Some(f) = slots.get_mut(j).and_then(Option::as_mut) else {
            slots[i] = Some(back);
            continue;
        };
        f.http.facts.retain(|n| !n.starts_with("The back end's line"));
        f.http.facts.extend(
            back.http
                .facts
                .into_iter()
                .filter(|n| !n.starts_with("The front end's line")),
        );
        f.http.notes.extend(back.http.notes);
        if let (Some(fe), Some(be)) = (f.eas.as_mut(), back.eas) {
            // Exchange's error, among others: what the back end's line says went wrong.
            for n in &be.notes {
                if !fe.notes.contains(n) {
                    fe.notes.push(n.clone());
                }
            }
            if fe.protocol_version.is_none() {
                fe.protocol_version = be.protocol_version.clone();
            }
            fe.statuses.extend(be.statuses);
            fe.sync_keys.extend(be.sync_keys);
            for c in be.collection_ids {
                if !fe.collection_ids.contains(&c) {
                    fe.collection_ids.push(c);
                }
            }
        }
        f.facts.log = f.facts.log.take().or(back.facts.log);
        f.facts.paired_with = None;
    }
    let mut out: Vec<Built> = slots.into_iter().flatten().collect();
    for (i, b) in out.iter_mut().enumerate() {
        b.http.index = i as u32 + 1;
        b.http.id = Some(i as u64 + 1);
    }
    out
}

/// Same command and device.
fn same(a: &Option<EasSummary>, b: &Option<EasSummary>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.command_raw == b.command_raw
                && a.device_id.as_deref().map(str::to_ascii_lowercase)
                    == b.device_id.as_deref().map(str::to_ascii_lowercase)
        }
        _ => false,
    }
}

/// The session of one line: the request and response heads rebuilt from its fields (no bodies:
/// IIS logs none), the EAS summary from its query and `Log=`.
fn build(line: &EasLine<'_>, at: scan::LineAt, file: PathBuf) -> Built {
    let log = line.log.map(|l| {
        let mut f = log_tokens::parse_log(l);
        f.anchor(line.time_ms);
        f
    });
    let mut http = HttpSession::new(0);
    let offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    let time = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&offset));
    http.timers.set(Timer::ClientBeginRequest, time(line.start_ms()));
    http.timers.set(Timer::ClientDoneResponse, time(line.time_ms));
    http.client_ip = line.client_ip.map(Shared::from);
    http.server_ip = line.server_ip.map(Shared::from);
    http.flags.https = line.port != Some("80");
    let mut head = format!(
        "{} {}{}{} HTTP/1.1\r\n",
        if line.method.is_empty() { "POST" } else { line.method },
        line.stem,
        if line.query.is_empty() { "" } else { "?" },
        line.query
    );
    let host = line
        .host
        .map(str::to_string)
        .or_else(|| log.as_ref().and_then(|l| token(l, "HH")))
        .unwrap_or_else(|| line.server.to_string());
    head.push_str(&format!("Host: {host}\r\n"));
    if let Some(ua) = line.user_agent_text() {
        head.push_str(&format!("User-Agent: {ua}\r\n"));
    }
    if let Some(v) = log.as_ref().and_then(|l| l.protocol_version.as_deref()) {
        head.push_str(&format!("MS-ASProtocolVersion: {v}\r\n"));
    }
    if let Some(pk) = log.as_ref().and_then(|l| l.policy_key.as_deref()) {
        head.push_str(&format!("X-MS-PolicyKey: {pk}\r\n"));
    }
    head.push_str("\r\n");
    if let Ok((head, _)) = parse_request(sanitized(&head).as_bytes()) {
        let url = crate::readers::model::origin_url(&head, http.flags.https).unwrap_or_default();
        http.request = Some(Request::new(head, url, crate::readers::Body::empty()));
    } else {
        http.notes
            .push("the request line could not be rebuilt from the log's fields".into());
    }
    if line.status >= 100 {
        let reason = status::http_meaning_for(line.status, true).map_or("", |m| m.name);
        let text = format!("HTTP/1.1 {} {reason}\r\n\r\n", line.status);
        if let Ok((head, _)) = parse_response(sanitized(&text).as_bytes()) {
            http.response = Some(Response {
                head,
                body: crate::readers::Body::empty(),
            });
        }
    }
    http.facts.push(format!(
        "IIS log {} line {{line}}: {} {} ({}), HTTP {}.{} win32 {}{}",
        file.display(),
        line.role.name(),
        line.server,
        line.site
            .unwrap_or(if line.role == Role::BackEnd { "W3SVC2" } else { "W3SVC1" }),
        line.status,
        line.substatus,
        line.win32,
        line.time_taken_ms
            .map_or(String::new(), |t| format!(", time-taken {t} ms")),
    ));
    if let Some(l) = &log {
        let tokens: Vec<String> = l
            .tokens
            .iter()
            .map(|(n, v)| if v.is_empty() { n.clone() } else { format!("{n}={v}") })
            .collect();
        http.facts.push(format!("Log: {}", tokens.join(", ")));
        if let Some(stages) = l.stages_text() {
            http.facts.push(format!("Exchange's stages (UTC): {stages}"));
        }
        for b in &l.budgets {
            let values: Vec<String> = b.values.iter().map(|(n, v)| format!("{n} {v}")).collect();
            let phase = b.phase.map_or(String::new(), |p| format!(" ({p})"));
            http.facts.push(format!("Budget{phase}: {}", values.join(", ")));
        }
        if let Some(a) = l.activity.as_ref().filter(|a| !a.entries.is_empty()) {
            http.facts.push(format!("Exchange's activity: {}", a.text()));
        }
    }
    if line.probe {
        http.facts
            .push("a health probe (Managed Availability or load balancer), not a device".into());
    }
    let eas = summary(&http, log.as_ref());
    let facts = IisFacts {
        file,
        line: 0,
        role: line.role,
        server: Shared::from(line.server),
        site: line.site.map(Shared::from),
        user_name: line.user_name.map(Shared::from),
        substatus: line.substatus,
        win32: line.win32,
        time_taken_ms: line.time_taken_ms,
        sc_bytes: line.sc_bytes,
        cs_bytes: line.cs_bytes,
        forwarded_for: line.forwarded_for.map(|f| f.replace(",+", ", ")),
        request_id: line.request_id().map(str::to_string),
        probe: line.probe,
        log,
        paired_with: None,
    };
    Built {
        start_ms: line.start_ms(),
        at,
        http,
        eas,
        facts,
    }
}

/// A text without control characters (they cannot come from IIS, which escapes them, but a
/// hostile file can hold anything).
fn sanitized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.extend(l.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }));
    }
    out
}

/// The decoded value of the first token `name`.
fn token(log: &LogFields, name: &str) -> Option<String> {
    log.tokens.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// The commands whose response has no command-level Status element ([MS-ASCMD] 2.2.1: MoveItems
/// and MeetingResponse report per item, the mail commands only on failure, GetAttachment never):
/// for them the `S`/`SC1:` Exchange logs is 1 for success or a common code (MS-ASCMD 2.2.2), and
/// reading 1 in their per-item tables would be wrong (MoveItems 1 is InvalidSourceId).
const NO_COMMAND_STATUS: &[Command] = &[
    Command::MoveItems,
    Command::MeetingResponse,
    Command::SendMail,
    Command::SmartReply,
    Command::SmartForward,
    Command::GetAttachment,
];

/// The verdict and (name, meaning) of the EAS status Exchange logged for `command` (`S`, `SC1:`).
pub fn log_status(command: Option<Command>, value: u32) -> (Verdict, Option<(&'static str, &'static str)>) {
    let Some(c) = command else {
        return (Verdict::Unknown, None);
    };
    if value == 1 && NO_COMMAND_STATUS.contains(&c) {
        return (
            Verdict::Success,
            Some(("Success", "Exchange logged the command as successful.")),
        );
    }
    let path = [c.name(), "Status"];
    let meaning = status::status_meaning(c, &path, value).map(|m| (m.name, m.meaning));
    (status::verdict(c, &path, value), meaning)
}

/// The EAS summary of a rebuilt session: identity from the query, the command's Status and the
/// SyncKeys from `Log=`.
fn summary(http: &HttpSession, log: Option<&LogFields>) -> Option<EasSummary> {
    let request = crate::capture::body_content(http, Side::Request, &[], crate::content::Budget::ANALYSIS)?;
    let mut s = crate::eas::session::summarize(http, &request, None)?;
    // No body was logged: the summary's notes about bodies would only say so.
    s.request_body = Default::default();
    s.response_body = Default::default();
    let Some(log) = log else { return Some(s) };
    // What went wrong, in Exchange's words: beside the EAS layer's other problems (the session's
    // facts say what the line holds).
    if let Some(e) = &log.error {
        s.notes.push(format!("Exchange error: {e}"));
    }
    let command = s.command;
    if let Some(value) = log.status {
        let name = command.map_or("Status", Command::name);
        let path = [name, "Status"];
        let (verdict, meaning) = log_status(command, value);
        s.statuses.push(StatusEntry {
            side: Side::Response,
            path: Shared::from(path.join("/")),
            raw: Shared::from(value.to_string()),
            value: Some(value),
            verdict,
            level: Level::Command,
            name: meaning.map(|m| m.0),
            meaning: meaning.map(|m| m.1),
            collection_id: None,
            node: None,
        });
    }
    // Each folder's keys (a Log without Fid: one key pair for the command).
    let mut folders: Vec<(Option<&str>, Option<&str>, Option<&str>)> = log
        .folders
        .iter()
        .map(|f| (Some(f.id.as_str()), f.sync_key.as_deref(), f.server_sync_key.as_deref()))
        .collect();
    if folders.is_empty() {
        folders.push((None, log.sync_key.as_deref(), log.server_sync_key.as_deref()));
    }
    for (folder, key, server_key) in folders {
        let folder = folder.map(Shared::from);
        for (side, k) in [(Side::Request, key), (Side::Response, server_key)] {
            if let Some(k) = k {
                s.sync_keys.push(SyncKeyEntry {
                    side,
                    collection_id: folder.clone(),
                    value: k.to_string(),
                });
            }
        }
        if let Some(f) = folder
            && !s.collection_ids.contains(&f)
        {
            s.collection_ids.push(f);
        }
    }
    Some(s)
}
