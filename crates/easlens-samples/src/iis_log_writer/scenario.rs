//! The server's side of a bundled conversation: each exchange of the capture (and those Exchange
//! logged after it stopped) becomes the lines a front end and a back end, or an Exchange 2007
//! CAS, write for it. The values come from the exchange itself: request line, headers and WBXML
//! bodies (SyncKeys, heartbeat, policy key, Status), times and HTTP status.
//!
//! The line's time is the exchange's end (start + duration) and `time-taken` its duration, with
//! one exception taken from the server's side, as the mailbox log has it: a Ping the device saw
//! dropped was still answered when its heartbeat ran out, into a dead connection (200, win32
//! status 64). The second host of the redirect scenario is logged by the same pair of servers:
//! one folder is one front end and one back end.

use std::io;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::TimeDelta;

use super::*;
use crate::scenarios::Conversation;
use easlens_core::eas::Command;
use easlens_core::eas::query::{QueryForm, RequestLine, encode_plain_query, parse_request_target};
use easlens_core::http::{Headers, decode_body, parse_request, parse_response};
use easlens_core::wbxml::{self, Document};
use easlens_core::writers::Exchange;

/// Which Exchange answered the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExchangeVersion {
    /// 2016/2019: a front end (W3SVC1, 443) proxying to a back end (W3SVC2, 444).
    #[default]
    Exchange2016,
    /// 2007 SP3: one CAS on IIS 7.5 answers everything (the 449 scenario's server).
    Exchange2007,
}

/// How the logs of a conversation are written. [`Default`]: Exchange 2016, plain files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IisLogOptions {
    pub version: ExchangeVersion,
    /// The back end's files gzip-compressed (`u_exYYMMDD.log.gz`) instead of plain.
    pub gzip_back_end: bool,
    /// The device-facing server's (front end's or CAS's) last line cut inside `cs-uri-query`, as
    /// in a copy taken while IIS was writing.
    pub cut_last_line: bool,
}

/// The mailbox of every conversation.
const SMTP: &str = "jdoe@contoso.com";
/// The account Windows resolves for the conversations' credentials (the back end's
/// `cs-username`; the front end writes the name as the device typed it).
const ACCOUNT: &str = "CONTOSO\\jdoe";
/// The front end's processing around the back end's, ms.
const PROXY_OVERHEAD_MS: u64 = 6;

/// The IIS logs of `conversation` (its trace, then its after-capture exchanges).
pub fn conversation_iis_logs(conversation: &Conversation, options: &IisLogOptions) -> io::Result<IisLogs> {
    let mut plan = Plan {
        servers: servers(options),
        ..Plan::default()
    };
    let first = conversation.trace.first().map_or(0, |e| e.started.timestamp());
    let mut rng = Rng::new(first as u64);
    let all = conversation.trace.iter().chain(&conversation.after_capture);
    for (index, ex) in all.enumerate() {
        match request(ex, index, options.version, &mut rng)? {
            Some(r) => plan.requests.push(r),
            None => plan.not_logged.push(index),
        }
    }
    add_other_lines(&mut plan, options.version, &mut rng);
    Ok(render(&plan))
}

/// Front end 0 and back end 1, or the CAS 0.
fn servers(options: &IisLogOptions) -> Vec<Server> {
    match options.version {
        ExchangeVersion::Exchange2016 => vec![
            Server {
                name: "EXFE01".into(),
                fqdn: "EXFE01.contoso.com".into(),
                ip: "10.0.1.11".into(),
                role: ServerRole::FrontEnd,
                dialect: Dialect::Exchange2016,
                dir: "W3SVC1".into(),
                fields: FieldSet::Iis10,
                restart: None,
                gzip: false,
                cut_last_line: options.cut_last_line,
            },
            Server {
                name: "EXMBX02".into(),
                fqdn: "EXMBX02.contoso.com".into(),
                ip: "10.0.2.22".into(),
                role: ServerRole::BackEnd,
                dialect: Dialect::Exchange2016,
                dir: "W3SVC2".into(),
                fields: FieldSet::Iis10,
                restart: Some(FieldSet::Iis10Extended),
                gzip: options.gzip_back_end,
                cut_last_line: false,
            },
        ],
        ExchangeVersion::Exchange2007 => vec![Server {
            name: "EXCAS01".into(),
            fqdn: "EXCAS01.contoso.com".into(),
            ip: "10.0.1.5".into(),
            role: ServerRole::Cas,
            dialect: Dialect::Exchange2007,
            dir: "W3SVC1".into(),
            fields: FieldSet::Iis75,
            restart: None,
            gzip: false,
            cut_last_line: options.cut_last_line,
        }],
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// The decoded WBXML body of a message, when it has one.
fn document(body: &[u8], headers: &Headers) -> Option<Document> {
    let bytes = decode_body(body, headers).bytes;
    (!bytes.is_empty()).then(|| wbxml::decode(&bytes).ok()).flatten()
}

/// `child` of `e` as a number.
fn number(e: Option<wbxml::Element<'_>>, child: &str) -> Option<u32> {
    e?.child(child)?.text()?.trim().parse().ok()
}

/// The request one exchange was, as IIS logged it; `None` when no server logged it (the proxy's
/// own response, a CONNECT tunnel).
fn request(ex: &Exchange, index: usize, version: ExchangeVersion, rng: &mut Rng) -> io::Result<Option<Request>> {
    let (head, body_at) = parse_request(&ex.request).map_err(invalid)?;
    if ex.generated_by_proxy || head.method.eq_ignore_ascii_case("CONNECT") {
        return Ok(None);
    }
    let target: &str = &head.target;
    // OPTIONS has no query: nothing to decode.
    let line = if target.contains('?') {
        parse_request_target(target).map_err(invalid)?
    } else {
        let mut line = RequestLine::new(QueryForm::Plain);
        line.path = target.to_string();
        line
    };
    let request_doc = document(&ex.request[body_at..], &head.headers);
    let response = match ex.response.as_deref() {
        Some(r) => {
            let (head, at) = parse_response(r).map_err(invalid)?;
            let doc = document(&r[at..], &head.headers);
            Some((head.status, doc))
        }
        None => None,
    };
    let heartbeat = number(request_doc.as_ref().and_then(|d| d.root()), "HeartbeatInterval");
    let command = line.command;

    // An answer the device never got was still written, when the Ping's heartbeat ran out:
    // IIS then logs 200 with win32 status 64 (the network name is no longer available).
    let (status, server_ms) = match &response {
        Some((status, _)) => (*status, u64::from(ex.duration_ms)),
        None => (200, u64::from(heartbeat.unwrap_or(0)) * 1000 + 17),
    };
    let authorization = head.headers.get("Authorization");
    let (substatus, win32, username) = match (status, authorization) {
        (401, None) => (2, 2_148_074_254, None),
        (401, Some(_)) => (1, 1326, typed_user(authorization)),
        _ => (0, if response.is_none() { 64 } else { 0 }, typed_user(authorization)),
    };
    let refused = matches!(status, 401 | 451);
    let route = match (version, refused) {
        (ExchangeVersion::Exchange2007, _) => Route::Cas { cas: 0 },
        (ExchangeVersion::Exchange2016, true) => Route::FrontEnd { fe: 0 },
        (ExchangeVersion::Exchange2016, false) => Route::Proxied { fe: 0, be: 1 },
    };
    let activity_id = (version == ExchangeVersion::Exchange2016).then(|| rng.guid());
    let response_root = response.as_ref().and_then(|(_, d)| d.as_ref()).and_then(|d| d.root());
    let eas_status = if command.is_none() {
        None
    } else {
        match (number(response_root, "Status"), status) {
            (Some(s), _) => Some(s),
            (None, 200) => Some(1),
            (None, 500) => Some(110), // ServerError
            (None, 503) => Some(111), // ServerErrorRetryLater
            (None, _) => None,
        }
    };
    let throttled = status == 503;
    // Throttling and the policy check refuse a request before its body is read.
    let folders = if command == Some(Command::Sync) && !matches!(status, 503 | 449) {
        sync_folders(request_doc.as_ref(), response_root)
    } else {
        Vec::new()
    };
    let error = error_tag(status, eas_status, &folders);
    let policy = (command == Some(Command::Provision)).then(|| {
        let sent = head
            .headers
            .get("X-MS-PolicyKey")
            .map(str::to_string)
            .or_else(|| line.policy_key.map(|k| k.to_string()))
            .unwrap_or_else(|| "0".into());
        let policy = request_doc.as_ref().and_then(|d| {
            d.root()?
                .child("Policies")?
                .child("Policy")
                .map(|p| number(Some(p), "Status"))
        });
        (sent, policy.flatten())
    });
    let protocol = head
        .headers
        .get("MS-ASProtocolVersion")
        .map(str::to_string)
        .or_else(|| line.protocol_version.clone());
    let be_ms = server_ms.saturating_sub(PROXY_OVERHEAD_MS);
    let log = (!refused).then(|| Diagnostics {
        eas_status,
        version: protocol.and_then(|v| tenfold(&v)),
        host: head.headers.get("Host").unwrap_or_default().to_string(),
        smtp: SMTP.into(),
        state_not_found: false,
        folders,
        heartbeat: heartbeat.filter(|_| command == Some(Command::Ping)),
        no_changes: command == Some(Command::Ping) && eas_status == Some(1),
        policy_key: policy.as_ref().map(|p| p.0.clone()),
        policy_ack: policy.and_then(|p| p.1),
        error,
        access_state: (version == ExchangeVersion::Exchange2016).then(|| "AllowedG".into()),
        throttle_ms: (version == ExchangeVersion::Exchange2016).then_some(if throttled { be_ms * 2 / 3 } else { 0 }),
        back_off: throttled.then(|| (30 + rng.below(15) as u32, -36972 - rng.below(4000) as i64)),
        budget_2010: false,
        mailbox: String::new(),
    });
    let end = ex.started + TimeDelta::milliseconds(server_ms as i64);
    Ok(Some(Request {
        exchange: Some(index),
        probe: false,
        end_ms: end.timestamp_millis(),
        method: method_name(&head.method),
        stem: if line.path.eq_ignore_ascii_case("/Microsoft-Server-ActiveSync") {
            "/Microsoft-Server-ActiveSync"
        } else {
            ACTIVESYNC_STEM
        },
        device_query: target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default(),
        plain_query: if command.is_some() {
            encode_plain_query(&line)
        } else {
            String::new()
        },
        user: line.user.clone(),
        device_id: line.device_id.clone(),
        device_type: line.device_type.clone(),
        command: command_name(&line),
        username,
        be_username: Some(ACCOUNT.into()),
        client_ip: ex.client_ip.clone(),
        user_agent: head.headers.get("User-Agent").unwrap_or_default().to_string(),
        status,
        substatus,
        win32,
        time_taken: server_ms,
        be_time_taken: be_ms,
        cs_bytes: ex.request.len() as u64,
        sc_bytes: ex.response.as_ref().map_or(280, |r| r.len() as u64),
        route,
        activity_id,
        log,
    }))
}

/// The methods the scenarios use, as `'static` names.
fn method_name(method: &str) -> &'static str {
    ["POST", "OPTIONS", "GET"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .unwrap_or("POST")
}

fn command_name(line: &RequestLine) -> Option<String> {
    line.command
        .map(|c| c.name().to_string())
        .or_else(|| line.command_raw.clone())
}

/// `16.1` → 161.
fn tenfold(version: &str) -> Option<u32> {
    let (major, minor) = version.trim().split_once('.')?;
    Some(major.parse::<u32>().ok()? * 10 + minor.parse::<u32>().ok()?)
}

/// The user name of Basic credentials, as typed.
fn typed_user(authorization: Option<&str>) -> Option<String> {
    let encoded = authorization?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    Some(decoded.split_once(':')?.0.to_string())
}

/// The folder class of a collection id (the scenarios' folder list).
fn class_of(id: &str) -> &'static str {
    match id {
        "1" => "Ca",
        "3" => "Co",
        _ => "Em",
    }
}

/// Adds, changes and deletes inside a `Commands` element.
fn changes(collection: Option<wbxml::Element<'_>>) -> (u32, u32, u32) {
    let Some(commands) = collection.and_then(|c| c.child("Commands")) else {
        return (0, 0, 0);
    };
    let count = |name: &str| commands.elements().filter(|e| e.name() == Some(name)).count() as u32;
    (count("Add"), count("Change"), count("Delete"))
}

/// The per-folder tokens of a Sync: the request's collections, with the response's answer for
/// each.
fn sync_folders(request: Option<&Document>, response: Option<wbxml::Element<'_>>) -> Vec<Folder> {
    let Some(collections) = request.and_then(|d| d.root()?.child("Collections")) else {
        return Vec::new();
    };
    let answers: Vec<_> = response
        .and_then(|r| r.child("Collections"))
        .map(|c| c.elements().collect())
        .unwrap_or_default();
    collections
        .elements()
        .map(|c| {
            let text = |e: Option<wbxml::Element<'_>>, name: &str| e.and_then(|e| e.child(name)?.text());
            let id = text(Some(c), "CollectionId").unwrap_or_default();
            let sync_key = text(Some(c), "SyncKey").unwrap_or_default();
            let answer = answers
                .iter()
                .copied()
                .find(|a| text(Some(*a), "CollectionId").as_deref() == Some(id.as_str()));
            let status = number(answer, "Status").filter(|s| *s != 1);
            let sync_type = match (sync_key.as_str(), status) {
                (_, Some(3)) => "I",
                ("0", _) => "F",
                _ => "S",
            };
            Folder {
                class: class_of(&id),
                filter: number(c.child("Options"), "FilterType"),
                sync_type,
                server_key: text(answer, "SyncKey"),
                client: changes(Some(c)),
                server: answer.map(|a| changes(Some(a))),
                status,
                sync_key,
                id,
            }
        })
        .collect()
}

/// The `Error:` tag of a request. Tags from the reference's list; `AccountLockedOut` and
/// `PasswordExpired` (456, 457) are invented names for what no source shows.
fn error_tag(status: u16, eas_status: Option<u32>, folders: &[Folder]) -> Option<String> {
    let tag = match (status, eas_status) {
        (503, _) => "OverBudget",
        (500, _) => "SyncStateNotFound",
        (449, _) | (_, Some(142)) => "DeviceNotProvisioned",
        (_, Some(143)) => "PolicyRefresh",
        (_, Some(144)) => "InvalidPolicyKey",
        (456, _) => "AccountLockedOut",
        (457, _) => "PasswordExpired",
        _ if folders.iter().any(|f| f.status == Some(3)) => "InvalidSyncKey",
        _ => return None,
    };
    Some(tag.into())
}

/// A few lines that are not the device's: the device's Autodiscover before it starts, an OWA
/// sign-in and an EWS client from a workstation, and (2013+) a Managed Availability probe.
fn add_other_lines(plan: &mut Plan, version: ExchangeVersion, rng: &mut Rng) {
    let Some(first) = plan.requests.first().cloned() else {
        return;
    };
    let span = plan.requests.iter().map(|r| r.end_ms).max().unwrap_or(first.end_ms) - first.end_ms;
    let at = |fraction: i64| first.end_ms + span * fraction / 100;
    let (front, back) = match version {
        ExchangeVersion::Exchange2016 => (0, Some(1)),
        ExchangeVersion::Exchange2007 => (0, None),
    };
    let workstation = "198.51.100.77";
    let browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0";
    let ews_client = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)";
    let cafe = |rng: &mut Rng| format!("&CorrelationID=<empty>;&cafeReqId={};", rng.guid());
    let query = |rng: &mut Rng| match version {
        ExchangeVersion::Exchange2016 => cafe(rng),
        ExchangeVersion::Exchange2007 => String::new(),
    };
    let autodiscover = Other {
        server: front,
        end_ms: first.end_ms - 4_000,
        method: "POST",
        stem: "/Autodiscover/Autodiscover.xml",
        query: query(rng),
        username: first.username.clone(),
        client_ip: first.client_ip.clone(),
        user_agent: first.user_agent.clone(),
        status: 200,
        substatus: 0,
        win32: 0,
        time_taken: 187,
    };
    let owa = Other {
        server: front,
        end_ms: at(30),
        method: "GET",
        stem: "/owa/",
        query: query(rng),
        username: None,
        client_ip: workstation.into(),
        user_agent: browser.into(),
        status: 302,
        substatus: 0,
        win32: 0,
        time_taken: 3,
    };
    let ews = Other {
        server: front,
        end_ms: at(60),
        method: "POST",
        stem: "/EWS/Exchange.asmx",
        query: query(rng),
        username: Some("contoso\\psharma".into()),
        client_ip: workstation.into(),
        user_agent: ews_client.into(),
        status: 200,
        substatus: 0,
        win32: 0,
        time_taken: 93,
    };
    let mut others = vec![autodiscover, owa, ews.clone()];
    if let Some(be) = back {
        // The back end's half of the EWS request.
        let fe_ip = plan.servers[front].ip.clone();
        others.push(Other {
            server: be,
            query: String::new(),
            username: Some("CONTOSO\\psharma".into()),
            client_ip: fe_ip,
            time_taken: 81,
            ..ews
        });
        plan.requests.push(probe(at(45), Route::Proxied { fe: front, be }, rng));
    }
    plan.others.extend(others);
}

/// The ActiveSync probe of Managed Availability (a health mailbox, FolderSync).
pub(super) fn probe(end_ms: i64, route: Route, rng: &mut Rng) -> Request {
    const MAILBOX: &str = "HealthMailbox0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6";
    let query =
        format!("Cmd=FolderSync&User={MAILBOX}%40contoso.com&DeviceId=EASProbeDevice&DeviceType=EASProbeDeviceType");
    Request {
        exchange: None,
        probe: true,
        end_ms,
        method: "POST",
        stem: ACTIVESYNC_STEM,
        device_query: query.clone(),
        plain_query: query,
        user: Some(format!("{MAILBOX}@contoso.com")),
        device_id: Some("EASProbeDevice".into()),
        device_type: Some("EASProbeDeviceType".into()),
        command: Some("FolderSync".into()),
        username: Some(format!("CONTOSO\\{MAILBOX}")),
        be_username: Some(format!("CONTOSO\\{MAILBOX}")),
        client_ip: "::1".into(),
        user_agent: "AMProbe/Local/ClientAccess".into(),
        status: 200,
        substatus: 0,
        win32: 0,
        time_taken: 31,
        be_time_taken: 24,
        cs_bytes: 512,
        sc_bytes: 731,
        route,
        activity_id: Some(rng.guid()),
        log: Some(Diagnostics {
            eas_status: Some(1),
            version: Some(141),
            host: "localhost".into(),
            smtp: format!("{MAILBOX}@contoso.com"),
            access_state: Some("AllowedG".into()),
            throttle_ms: Some(0),
            ..Diagnostics::default()
        }),
    }
}
