//! The findings engine: scans a whole capture for the failure patterns an EAS support engineer
//! looks for (/work/shared/reference/eas-protocol-notes.md section 4 and its related patterns) and
//! reports each with a rule id, a severity, the sessions that are its evidence, a specific message
//! and the rule's explanation.
//!
//! The rules' ids, severities, titles and explanations are data (`rules.tsv`, see
//! [`super::rules`]); the code names a rule by its [`RuleId`] and decides when it fires, how its
//! evidence is grouped and how severe an instance is. Only the EAS summaries computed at indexing
//! time are read, plus response headers, so a 100,000-session capture is analysed in milliseconds.
//! Sessions that are not ActiveSync requests are not looked at.
//!
//! Precision matters as much as recall: what is normal protocol behaviour (a handshake 401 without
//! credentials, Ping 1 and 2, FolderSync from SyncKey 0 as the first request, one resend of a
//! SyncKey after a lost response, a policy refresh answered with Provision) is never a warning.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

pub use super::item_findings::ITEM_RULES;
pub use super::rules::{FindingsError, Rule, RuleId, Severity, rule, rules};
use super::synckey::{Chain, Link, Mark, SyncKeyChains};
use super::{ended, started};
use crate::capture::{Capture, LabelStyle, Session};
use crate::eas::Command;
use crate::eas::headers::name as header;
use crate::eas::session::EasSummary;
use crate::eas::status::{Level, Verdict, http_meaning};
use crate::http::Side;
use crate::http::headers::auth_scheme;

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What this capture shows: counts, collection, times, what followed.
    pub message: String,
    /// The rule's explanation: cause and what to do.
    pub explanation: &'static str,
    /// The evidence: capture indices ([`HttpSession::index`](crate::readers::HttpSession::index)), in capture order.
    pub sessions: Vec<u32>,
    pub first: Option<DateTime<FixedOffset>>,
    pub last: Option<DateTime<FixedOffset>>,
    /// The item the finding is about (a ServerId, ClientId or UID), for its history; item-level
    /// rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

/// The findings of a capture, most severe first, then by first evidence session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Findings {
    pub findings: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Findings {
    /// The findings of `capture` alone (as [`Analysis::findings`](super::Analysis::findings)
    /// computes them).
    pub fn build(capture: &Capture) -> Findings {
        super::Analysis::new(capture).findings().clone()
    }

    /// With chains already built (the UI shows them too).
    pub fn from_sessions(sessions: &[Session], chains: &SyncKeyChains) -> Findings {
        let cx = Cx::new(sessions, chains);
        let mut out = Vec::new();
        for check in CHECKS {
            check(&cx, &mut out);
        }
        out.extend(super::iis_findings::findings(sessions));
        // Sort by severity, then by first evidence (positions keep SAZ gaps out of the order).
        out.sort_by_key(|(f, first)| (f.severity, *first));
        let mut findings = Findings::default();
        findings.add(out.into_iter().map(|(f, _)| f).collect());
        findings
    }

    /// Adds `more` (e.g. the findings that need a mailbox log too), keeping the order: by
    /// severity, then by first evidence session.
    pub fn add(&mut self, more: Vec<Finding>) {
        for f in more {
            let at = self
                .findings
                .iter()
                .position(|g| (g.severity, g.sessions.first()) > (f.severity, f.sessions.first()))
                .unwrap_or(self.findings.len());
            self.findings.insert(at, f);
        }
        let count = |s| self.findings.iter().filter(|f| f.severity == s).count();
        (self.errors, self.warnings, self.infos) =
            (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    }
}

/// A finding of `rule` whose evidence is `sessions` (in capture order): its title and explanation
/// from the rule's row, the message starting with a capital.
pub(crate) fn finding(rule: RuleId, severity: Severity, message: String, sessions: &[&Session]) -> Finding {
    let info = rule.rule();
    debug_assert!(info.severities.contains(&severity), "{rule} cannot be {severity:?}");
    let times: Vec<_> = sessions.iter().filter_map(|s| started(s)).collect();
    let mut chars = message.chars();
    let message = chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect());
    Finding {
        rule: info.id,
        severity,
        title: info.title,
        message,
        explanation: info.explanation,
        sessions: sessions.iter().map(|s| s.index).collect(),
        first: times.iter().min().copied(),
        last: times.iter().max().copied(),
        item: None,
    }
}

/// The findings of `capture` (see [`Findings::build`]).
pub fn findings(capture: &Capture) -> Vec<Finding> {
    Findings::build(capture).findings
}

type Check = fn(&Cx<'_>, &mut Vec<(Finding, usize)>);

const CHECKS: &[Check] = &[
    http_errors,
    throttled,
    identical_commands,
    synckey_repeated,
    synckey_resets,
    synckey_unexpected,
    policy_refresh,
    redirects,
    auth_failures,
    credential_expiry,
    password_expired,
    device_blocked,
    mailbox_full,
    status_errors,
    ping_repeat,
    reset_partnership,
    user_agent_changes,
    no_response,
];

// ---------------------------------------------------------------------------------------------
// Thresholds, each with its reason.

/// Retry after throttling: Retry-After when given, else Microsoft's "at least 10 minutes".
const THROTTLE_BACKOFF_SECS: i64 = 600;
/// Identical commands: this many in a row ...
const IDENTICAL_MIN: usize = 5;
/// ... each within this many seconds of the previous. A device that uses Ping sends a Sync only
/// when something changed, so five identical Syncs two minutes apart are already a loop.
const IDENTICAL_GAP_SECS: i64 = 120;
/// Failure pattern 3: "three or more consecutive Sync requests with the same SyncKey".
const REPEATED_MIN: u32 = 3;
/// A run of 401s with credentials this long is an error (a locked-out account follows).
const AUTH_ERROR_RUN: usize = 3;
/// Exchange blocks a device whose User-Agent changes more than twice in 24 hours.
const UA_CHANGES_BLOCKED: usize = 2;
const UA_WINDOW_SECS: i64 = 24 * 3600;

/// Status values that have a rule of their own (not repeated as `status-error`).
const POLICY_STATUSES: [u32; 3] = [142, 143, 144];
/// [MS-ASCMD] 2.2.2 codes that mean the account or device is not allowed to sync.
const BLOCK_STATUSES: [u32; 8] = [126, 129, 130, 131, 139, 141, 145, 177];
const MAILBOX_FULL_STATUS: u32 = 113;
/// HTTP codes that have a rule of their own (503 only with X-MS-ASThrottle).
const OWNED_HTTP: [u16; 7] = [401, 403, 449, 451, 456, 457, 507];

/// `status-error` severity of failing values that are less than an error: they concern one item,
/// or tell the client to correct something it then can (the default is error).
const STATUS_SEVERITY: &[(Command, u32, Severity)] = &[
    (Command::Sync, 3, Severity::Warning),
    (Command::Sync, 6, Severity::Warning),
    (Command::Sync, 7, Severity::Info),
    (Command::Sync, 8, Severity::Warning),
    (Command::Sync, 12, Severity::Info),
    (Command::Sync, 13, Severity::Warning),
    (Command::Sync, 14, Severity::Info),
    (Command::Sync, 16, Severity::Info),
    (Command::Ping, 5, Severity::Info),
    (Command::Ping, 6, Severity::Warning),
    (Command::Ping, 7, Severity::Info),
    (Command::FolderSync, 9, Severity::Warning),
    (Command::SendMail, 118, Severity::Info),
    (Command::SmartReply, 118, Severity::Info),
    (Command::SmartForward, 118, Severity::Info),
];

// ---------------------------------------------------------------------------------------------
// Context

struct Cx<'a> {
    sessions: &'a [Session],
    chains: &'a SyncKeyChains,
    /// Positions of the EAS sessions of each device, in capture order; devices in order of
    /// appearance.
    devices: Vec<(&'a str, Vec<usize>)>,
    /// False when no request of the capture shows an Authorization header (sanitized HAR,
    /// certificate authentication): then every 401 counts as refused credentials.
    credentials_visible: bool,
}

impl<'a> Cx<'a> {
    fn new(sessions: &'a [Session], chains: &'a SyncKeyChains) -> Cx<'a> {
        let devices = super::by_device(sessions, |s| s.eas.is_some());
        let credentials_visible = sessions.iter().any(has_credentials);
        Cx {
            sessions,
            chains,
            devices,
            credentials_visible,
        }
    }

    fn eas(&self, p: usize) -> &'a EasSummary {
        // Only called with positions of EAS sessions.
        self.sessions[p]
            .eas
            .as_ref()
            .unwrap_or_else(|| unreachable!("not an EAS session"))
    }

    /// The command of the EAS session at `p`, as findings name it.
    fn command(&self, p: usize) -> String {
        self.sessions[p].command_label(LabelStyle::FINDINGS)
    }

    fn http(&self, p: usize) -> Option<u16> {
        self.sessions[p].http_status()
    }

    fn index(&self, p: usize) -> u32 {
        self.sessions[p].index
    }

    /// The positions among `positions` for which `pred` holds.
    fn select(&self, positions: &[usize], pred: impl Fn(usize) -> bool) -> Vec<usize> {
        positions.iter().copied().filter(|&p| pred(p)).collect()
    }

    fn eas_positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.eas.is_some())
            .map(|(p, _)| p)
    }

    /// A finding of `rule` with the evidence at `positions` (any order, repeats allowed).
    fn finding(
        &self,
        rule: RuleId,
        severity: Severity,
        message: String,
        mut positions: Vec<usize>,
    ) -> (Finding, usize) {
        positions.sort_unstable();
        positions.dedup();
        let evidence: Vec<&Session> = positions.iter().map(|&p| &self.sessions[p]).collect();
        let f = finding(rule, severity, message, &evidence);
        (f, positions.first().copied().unwrap_or(usize::MAX))
    }

    /// `session 7` / `sessions 4–6, 9` for messages.
    fn sessions_text(&self, positions: &[usize]) -> String {
        let indices: Vec<u32> = positions.iter().map(|&p| self.index(p)).collect();
        sessions_phrase(&indices)
    }
}

/// `session 7` / `sessions 4–6, 9`: session indices (sorted) as a message names them.
pub(crate) fn sessions_phrase(indices: &[u32]) -> String {
    let word = if indices.len() == 1 { "session" } else { "sessions" };
    format!("{word} {}", ranges(indices))
}

fn has_credentials(s: &Session) -> bool {
    s.request
        .as_ref()
        .is_some_and(|r| r.head.headers.contains(header::AUTHORIZATION))
}

/// `1–3, 7, 9–10`: sorted indices as ranges.
pub fn ranges(indices: &[u32]) -> String {
    let parts: Vec<String> = index_runs(indices)
        .into_iter()
        .map(|(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") })
        .collect();
    parts.join(", ")
}

/// Sorted indices as runs of consecutive numbers, `(first, last)` each.
pub fn index_runs(indices: &[u32]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        out.push((indices[i], indices[j]));
        i = j + 1;
    }
    out
}

/// `4 s`, `2 min 5 s`, `3 h 10 min`.
pub(crate) fn duration_text(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 if secs % 60 == 0 => format!("{} min", secs / 60),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

fn clock(t: Option<DateTime<FixedOffset>>) -> String {
    t.map_or_else(|| "?".into(), |t| t.format("%H:%M:%S").to_string())
}

pub(crate) fn seconds_between(a: Option<DateTime<FixedOffset>>, b: Option<DateTime<FixedOffset>>) -> Option<i64> {
    Some((b? - a?).num_seconds())
}

/// `Sync × 3, FolderSync × 2` in order of first appearance.
fn command_counts(cx: &Cx<'_>, positions: &[usize]) -> String {
    counted(positions.iter().map(|&p| cx.command(p)))
}

/// `a × 3, b` in order of first appearance.
fn counted(items: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for item in items {
        match seen.iter_mut().find(|(s, _)| *s == item) {
            Some(e) => e.1 += 1,
            None => seen.push((item, 1)),
        }
    }
    seen.iter()
        .map(|(s, n)| if *n > 1 { format!("{s} × {n}") } else { s.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

pub(crate) fn device_label(device: &str) -> String {
    if device.is_empty() {
        "the device".into()
    } else {
        format!("device {device}")
    }
}

fn response_values<'e>(e: &'e EasSummary) -> impl Iterator<Item = u32> + 'e {
    e.statuses
        .iter()
        .filter(|s| s.side == Side::Response)
        .filter_map(|s| s.value)
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn http_errors(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    // (code, generated by the proxy) → positions, in order of first appearance.
    let mut groups: Vec<((u16, bool), Vec<usize>)> = Vec::new();
    for p in cx.eas_positions() {
        let Some(code) = cx.http(p) else { continue };
        let throttled = cx.eas(p).headers.throttle.is_some();
        if (200..300).contains(&code) || OWNED_HTTP.contains(&code) || throttled {
            continue;
        }
        let key = (code, cx.sessions[p].flags.generated);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some(g) => g.1.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    for ((code, generated), positions) in groups {
        let n = positions.len();
        let severity = match (code, generated) {
            (408, true) => Severity::Info,
            (_, true) | (502..=504, false) | (408, false) => Severity::Warning,
            (500, false) if n == 1 => Severity::Warning,
            (400..=599, false) => Severity::Error,
            _ => Severity::Warning,
        };
        let name = http_meaning(code).map_or("", |m| m.name);
        let first = started(&cx.sessions[positions[0]]);
        let last = started(&cx.sessions[positions[n - 1]]);
        let mut message = format!(
            "{n} × HTTP {code} {name} on {} ({}",
            command_counts(cx, &positions),
            clock(first)
        );
        if n > 1 {
            message += &format!("–{}", clock(last));
        }
        message.push(')');
        if generated {
            message += "; generated by the proxy (Fiddler), not by Exchange";
        }
        let cas: Vec<String> = positions
            .iter()
            .filter_map(|&p| cx.eas(p).headers.cas_error_code.as_deref().map(String::from))
            .collect();
        if !cas.is_empty() {
            message += &format!("; X-CasErrorCode {}", counted(cas.into_iter()));
        }
        message.push('.');
        out.push(cx.finding(RuleId::HttpError, severity, message, positions));
    }
}

fn throttled(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let hits: Vec<usize> = cx.select(positions, |p| cx.eas(p).headers.throttle.is_some());
        let Some(&first) = hits.first() else { continue };
        let e = cx.eas(first);
        let reasons = counted(
            hits.iter()
                .filter_map(|&p| cx.eas(p).headers.throttle.as_deref().map(String::from)),
        );
        let retry_after = e
            .headers
            .retry_after
            .as_deref()
            .and_then(|v| v.trim().parse::<i64>().ok());
        let required = retry_after.unwrap_or(THROTTLE_BACKOFF_SECS);
        // For each throttled answer, how long until the device's next request.
        let mut gaps: Vec<i64> = Vec::new();
        for &p in &hits {
            let next = positions.iter().find(|&&q| q > p);
            if let Some(gap) = next.and_then(|&q| seconds_between(ended(&cx.sessions[p]), started(&cx.sessions[q]))) {
                gaps.push(gap);
            }
        }
        let too_soon = gaps.iter().filter(|&&g| g < required).count();
        let mut message = format!(
            "{} × HTTP {} with X-MS-ASThrottle: {reasons} for {} from {}",
            hits.len(),
            cx.http(first).map_or("-".into(), |c| c.to_string()),
            device_label(device),
            clock(started(&cx.sessions[first])),
        );
        match retry_after {
            Some(r) => message += &format!(" (Retry-After: {r} s)"),
            None => message += " (no Retry-After: back off exponentially)",
        }
        match gaps.first() {
            Some(&g) => message += &format!("; the device retried {} after the first one", duration_text(g)),
            None => message += "; no later request from the device in the capture",
        }
        if too_soon > 0 {
            message += &format!(
                ", and {too_soon} of {} retries came sooner than the {} {}",
                gaps.len(),
                duration_text(required),
                if retry_after.is_some() {
                    "Retry-After asks for"
                } else {
                    "Microsoft asks for"
                }
            );
        }
        message.push('.');
        let severity = if too_soon > 0 {
            Severity::Error
        } else {
            Severity::Warning
        };
        out.push(cx.finding(RuleId::Throttled, severity, message, hits));
    }
}

// ---------------------------------------------------------------------------------------------
// SyncKey chains

fn chain_name(chain: &Chain) -> String {
    if chain.hierarchy {
        "the folder hierarchy (FolderSync)".into()
    } else {
        format!("collection {}", chain.collection)
    }
}

fn chain_command(chain: &Chain) -> &'static str {
    if chain.hierarchy { "FolderSync" } else { "Sync" }
}

/// Splits a chain's links into maximal runs where `same(previous, next)` holds.
fn runs(links: &[Link], same: impl Fn(&Link, &Link) -> bool) -> Vec<&[Link]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=links.len() {
        if i == links.len() || !same(&links[i - 1], &links[i]) {
            out.push(&links[start..i]);
            start = i;
        }
    }
    out
}

fn identical_commands(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for chain in &cx.chains.chains {
        let same = |a: &Link, b: &Link| {
            a.request_key.is_some()
                && a.request_key == b.request_key
                && seconds_between(a.time, b.time).is_none_or(|s| s <= IDENTICAL_GAP_SECS)
        };
        for run in runs(&chain.links, same) {
            if run.len() < IDENTICAL_MIN {
                continue;
            }
            let positions: Vec<usize> = run.iter().map(|l| l.position).collect();
            let first = run[0].time;
            let last = run[run.len() - 1].time;
            let throttled_at = positions
                .iter()
                .copied()
                .find(|&p| cx.eas(p).headers.throttle.is_some());
            let mut message = format!(
                "{} × {} for {} with SyncKey {} in {} ({}–{}) from {}",
                run.len(),
                chain_command(chain),
                chain_name(chain),
                run[0].request_key.as_deref().unwrap_or("?"),
                seconds_between(first, last).map_or("?".into(), duration_text),
                clock(first),
                clock(last),
                device_label(&chain.device),
            );
            if let Some(p) = throttled_at {
                message += &format!("; Exchange throttled the device from session {} on", cx.index(p));
            }
            message.push('.');
            let severity = if throttled_at.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            };
            out.push(cx.finding(RuleId::IdenticalCommands, severity, message, positions));
        }
    }
}

fn synckey_repeated(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for chain in &cx.chains.chains {
        let links = &chain.links;
        // A run: the first send of a key, then the links that sent it again (marked Repeated).
        let mut i = 0;
        while i < links.len() {
            let mut j = i + 1;
            while j < links.len() && links[j].has(Mark::Repeated) && links[j].request_key == links[i].request_key {
                j += 1;
            }
            let run = &links[i..j];
            i = j;
            if (run.len() as u32) < REPEATED_MIN {
                continue;
            }
            let handed_out: Vec<&str> = run.iter().filter_map(|l| l.response_key.as_deref()).collect();
            let message = format!(
                "{} {} requests for {} from {} sent SyncKey {} ({}–{}) although the server answered with new keys{}.",
                run.len(),
                chain_command(chain),
                chain_name(chain),
                device_label(&chain.device),
                run[0].request_key.as_deref().unwrap_or("?"),
                clock(run[0].time),
                clock(run[run.len() - 1].time),
                match (handed_out.first(), handed_out.last()) {
                    (Some(a), Some(b)) if a != b => format!(" ({a} … {b})"),
                    (Some(a), _) => format!(" ({a})"),
                    _ => String::new(),
                }
            );
            let positions = run.iter().map(|l| l.position).collect();
            out.push(cx.finding(RuleId::SynckeyRepeated, Severity::Warning, message, positions));
        }
    }
}

/// A link after which the chain was in a good state: answered 2xx, no failing Status.
fn good(link: &Link) -> bool {
    link.http_status.is_some_and(|c| (200..300).contains(&c))
        && !link.has(Mark::InvalidKey)
        && !link.has(Mark::HierarchyChanged)
        && !link.has(Mark::Failed)
}

fn synckey_resets(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for chain in &cx.chains.chains {
        for (i, link) in chain.links.iter().enumerate() {
            // IIS logs' resets are `iis-synckey-reset`'s, one finding per device.
            if !link.has(Mark::Reset) || cx.sessions[link.position].iis.is_some() {
                continue;
            }
            // The usual triggers: failures since the chain's last good link ...
            let since = chain.links[..i].iter().rposition(good);
            let lower = since.map(|g| chain.links[g].position);
            let mut triggers: Vec<usize> = chain.links[since.map_or(0, |g| g + 1)..i]
                .iter()
                .map(|l| l.position)
                .collect();
            // ... and, for a folder, a hierarchy reset or invalid FolderSync key in that time.
            if !chain.hierarchy
                && let Some(h) = cx.chains.chain(&chain.device, super::synckey::HIERARCHY)
            {
                triggers.extend(
                    h.links
                        .iter()
                        .filter(|l| lower.is_none_or(|lo| l.position > lo) && l.position < link.position)
                        .filter(|l| l.has(Mark::InvalidKey) || l.has(Mark::Reset))
                        .map(|l| l.position),
                );
            }
            triggers.sort_unstable();
            let previous_key = chain.links[..i].iter().rev().find_map(|l| {
                l.response_key
                    .as_deref()
                    .filter(|k| *k != "0")
                    .or(l.request_key.as_deref())
            });
            let mut message = format!(
                "{} of {} restarted from SyncKey 0 at {} (session {}){}",
                chain_name(chain),
                device_label(&chain.device),
                clock(link.time),
                link.session,
                previous_key.map_or(String::new(), |k| format!(", after key {k}")),
            );
            if triggers.is_empty() {
                message += "; no server error or Status 3/12 before it in the capture: the device dropped its state.";
            } else {
                let what = counted(triggers.iter().map(|&p| {
                    let s = &cx.sessions[p];
                    match s.http_status() {
                        None => "no response".to_string(),
                        Some(c) if !(200..300).contains(&c) => format!("HTTP {c}"),
                        _ => {
                            let statuses: Vec<String> = response_values(cx.eas(p))
                                .filter(|&v| v != 1)
                                .map(|v| v.to_string())
                                .collect();
                            format!("{} Status {}", cx.command(p), statuses.join("/"))
                        }
                    }
                }));
                message += &format!("; before it: {what} ({}).", cx.sessions_text(&triggers));
            }
            triggers.push(link.position);
            out.push(cx.finding(RuleId::SynckeyReset, Severity::Warning, message, triggers));
        }
    }
}

fn synckey_unexpected(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for chain in &cx.chains.chains {
        let odd: Vec<&Link> = chain.links.iter().filter(|l| l.has(Mark::Unexpected)).collect();
        if odd.is_empty() {
            continue;
        }
        let keys: Vec<&str> = odd.iter().filter_map(|l| l.request_key.as_deref()).collect();
        let message = format!(
            "{} {} request(s) for {} from {} carried a SyncKey out of sequence ({}).",
            odd.len(),
            chain_command(chain),
            chain_name(chain),
            device_label(&chain.device),
            keys.join(", ")
        );
        let positions = odd.iter().map(|l| l.position).collect();
        out.push(cx.finding(RuleId::SynckeyUnexpected, Severity::Info, message, positions));
    }
}

// ---------------------------------------------------------------------------------------------
// Provisioning, redirects, authentication

fn policy_demand(cx: &Cx<'_>, p: usize) -> bool {
    let e = cx.eas(p);
    e.command != Some(Command::Provision)
        && (cx.http(p) == Some(449) || response_values(e).any(|v| POLICY_STATUSES.contains(&v)))
}

fn policy_refresh(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let mut demands: Vec<usize> = Vec::new();
        let mut provisions: Vec<usize> = Vec::new();
        let flush = |demands: &mut Vec<usize>, provisions: &mut Vec<usize>, out: &mut Vec<(Finding, usize)>| {
            if demands.is_empty() {
                return;
            }
            let what = counted(demands.iter().map(|&p| {
                let e = cx.eas(p);
                let status = response_values(e).find(|v| POLICY_STATUSES.contains(v));
                match status {
                    Some(v) => format!("Status {v}"),
                    None => "HTTP 449".into(),
                }
            }));
            let on = counted(demands.iter().map(|&p| cx.command(p)));
            let (severity, tail) = if !provisions.is_empty() {
                (
                    Severity::Info,
                    format!(
                        ", then Provision ({}): the policy refresh was handled",
                        cx.sessions_text(provisions)
                    ),
                )
            } else {
                let keys: Vec<&str> = demands
                    .iter()
                    .filter_map(|&p| cx.eas(p).policy_key.as_deref())
                    .collect();
                let unchanged = match keys.first() {
                    Some(k) if keys.len() == demands.len() && keys.iter().all(|x| x == k) => {
                        format!("; X-MS-PolicyKey stayed {k}")
                    }
                    _ => String::new(),
                };
                if demands.len() > 1 {
                    (
                        Severity::Error,
                        format!(
                            ", and no Provision: the device repeats its commands instead of provisioning{unchanged}"
                        ),
                    )
                } else {
                    (
                        Severity::Warning,
                        format!(", and no Provision before the capture ends{unchanged}"),
                    )
                }
            };
            let first = demands[0];
            let message = format!(
                "The server demanded provisioning from {} at {}: {what} on {on}{tail}.",
                device_label(device),
                clock(started(&cx.sessions[first])),
            );
            let mut evidence = std::mem::take(demands);
            evidence.append(provisions);
            out.push(cx.finding(RuleId::PolicyRefresh, severity, message, evidence));
        };
        for &p in positions {
            if cx.eas(p).command == Some(Command::Provision) {
                if !demands.is_empty() {
                    provisions.push(p);
                }
            } else if policy_demand(cx, p) {
                if !provisions.is_empty() {
                    flush(&mut demands, &mut provisions, out);
                }
                demands.push(p);
            } else if !provisions.is_empty() {
                flush(&mut demands, &mut provisions, out);
            }
        }
        flush(&mut demands, &mut provisions, out);
    }
}

fn redirects(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let url = |p: usize| cx.sessions[p].request.as_ref().map(|r| r.url()).unwrap_or_default();
        let url_host = |p: usize| host(&url(p)).to_string();
        let mut episode: Vec<usize> = Vec::new();
        let emit = |episode: &mut Vec<usize>, follower: Option<usize>, later: bool, out: &mut Vec<(Finding, usize)>| {
            let first = episode[0];
            let location = cx.eas(first).headers.location.clone();
            let old = url_host(first);
            let mut message = format!(
                "{} × HTTP 451 from {old} for {} from {}",
                episode.len(),
                device_label(device),
                clock(started(&cx.sessions[first])),
            );
            message += &match &location {
                Some(l) => format!(" (X-MS-Location: {l})"),
                None => " without X-MS-Location (the device must run Autodiscover)".into(),
            };
            let severity = match follower {
                Some(f) => {
                    let gap = seconds_between(started(&cx.sessions[first]), started(&cx.sessions[f]));
                    message += &format!(
                        "; the device moved to {} in session {}{}",
                        url_host(f),
                        cx.index(f),
                        gap.map_or(String::new(), |g| format!(", {} after the first 451", duration_text(g)))
                    );
                    if episode.len() > 1 {
                        message += &format!(", after sending {} requests to the old host", episode.len());
                        Severity::Warning
                    } else {
                        Severity::Info
                    }
                }
                None if later => {
                    message += "; the device kept using the old host and never followed the redirect";
                    Severity::Error
                }
                None => {
                    message += "; the capture ends before the device's next request";
                    Severity::Warning
                }
            };
            message.push('.');
            let mut evidence = std::mem::take(episode);
            evidence.extend(follower);
            out.push(cx.finding(RuleId::Redirect, severity, message, evidence));
        };
        let mut later = false;
        for &p in positions {
            if cx.http(p) == Some(451) {
                episode.push(p);
                continue;
            }
            let Some(&first) = episode.first() else { continue };
            let target = url_host(p);
            let location_host = cx.eas(first).headers.location.as_deref().map(host);
            let moved = location_host.map_or(target != url_host(first), |l| l.eq_ignore_ascii_case(&target))
                || url(p).to_ascii_lowercase().contains("autodiscover");
            if moved {
                emit(&mut episode, Some(p), true, out);
                later = false;
            } else {
                later = true;
            }
        }
        if !episode.is_empty() {
            emit(&mut episode, None, later, out);
        }
    }
}

fn auth_failures(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let mut run: Vec<usize> = Vec::new();
        let flush = |run: &mut Vec<usize>, next: Option<usize>, out: &mut Vec<(Finding, usize)>| {
            if run.is_empty() {
                return;
            }
            let n = run.len();
            let (first, last) = (started(&cx.sessions[run[0]]), started(&cx.sessions[run[n - 1]]));
            // Only a known scheme is named: a value without one is all credential.
            let scheme = match cx.sessions[run[0]]
                .request
                .as_ref()
                .and_then(|r| r.head.headers.get(header::AUTHORIZATION))
            {
                None => "credentials that are not in the capture".to_string(),
                Some(value) => auth_scheme(value).map_or("credentials of an unrecognised scheme".to_string(), |s| {
                    format!("{s} credentials")
                }),
            };
            let mut message = format!(
                "{n} × HTTP 401 on requests from {} with {scheme}, from {}",
                device_label(device),
                clock(first)
            );
            if n > 1 {
                let secs = seconds_between(first, last).unwrap_or(0);
                message += &format!(" to {}", clock(last));
                if secs > 0 {
                    message += &format!(" ({:.1} per minute)", n as f64 * 60.0 / secs as f64);
                }
            }
            if let Some(q) = next {
                match cx.http(q) {
                    Some(code @ (403 | 456 | 457)) => {
                        let name = http_meaning(code).map_or("", |m| m.name);
                        message += &format!("; then HTTP {code} {name} (session {})", cx.index(q));
                    }
                    Some(code) if (200..300).contains(&code) => {
                        message += &format!("; session {} succeeded again", cx.index(q));
                    }
                    _ => {}
                }
            }
            message.push('.');
            let severity = match n {
                1 => Severity::Info,
                n if n < AUTH_ERROR_RUN => Severity::Warning,
                _ => Severity::Error,
            };
            out.push(cx.finding(RuleId::AuthFailure, severity, message, std::mem::take(run)));
        };
        for &p in positions {
            // IIS logs say which 401 is the challenge and which a refusal: `iis-auth-storm`.
            if cx.sessions[p].iis.is_some() {
                continue;
            }
            match cx.http(p) {
                // A 401 without credentials is a handshake step, not a refusal.
                Some(401) if !cx.credentials_visible || has_credentials(&cx.sessions[p]) => run.push(p),
                Some(401) | None => {}
                Some(_) => flush(&mut run, Some(p), out),
            }
        }
        flush(&mut run, None, out);
    }
}

fn credential_expiry(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let hits: Vec<usize> = cx.select(positions, |p| {
            let h = &cx.eas(p).headers;
            h.credentials_expire.is_some() || h.credential_service_url.is_some()
        });
        let Some(&first) = hits.first() else { continue };
        let mut message = format!("{} response(s) to {}", hits.len(), device_label(device));
        let days: Vec<&str> = hits
            .iter()
            .filter_map(|&p| cx.eas(p).headers.credentials_expire.as_deref())
            .collect();
        if let Some(d) = days.iter().min_by_key(|d| d.trim().parse::<i64>().unwrap_or(i64::MAX)) {
            let when = match d.trim() {
                "0" => "in less than 24 hours".to_string(),
                "1" => "in 1 day".to_string(),
                other => format!("in {other} days"),
            };
            message += &format!(" say the password expires {when} (X-MS-Credentials-Expire: {d})");
        }
        if let Some(url) = hits
            .iter()
            .find_map(|&p| cx.eas(p).headers.credential_service_url.as_deref())
        {
            message += &format!("; reset page {url}");
        }
        message += &format!(", from {}", clock(started(&cx.sessions[first])));
        let failures: Vec<usize> = cx.select(positions, |p| p > first && matches!(cx.http(p), Some(401 | 457)));
        if let Some(&f) = failures.first() {
            message += &format!(
                "; the {} × 401/457 from session {} on are most likely the expired password",
                failures.len(),
                cx.index(f)
            );
        }
        message.push('.');
        out.push(cx.finding(RuleId::CredentialExpiry, Severity::Warning, message, hits));
    }
}

fn password_expired(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let hits: Vec<usize> = cx.select(positions, |p| cx.http(p) == Some(457));
        let Some(&first) = hits.first() else { continue };
        let url = hits
            .iter()
            .find_map(|&p| cx.eas(p).headers.credential_service_url.as_deref())
            .map_or(String::new(), |u| format!("; reset page {u}"));
        let message = format!(
            "{} × HTTP 457 Expired Password for {} from {}{url}.",
            hits.len(),
            device_label(device),
            clock(started(&cx.sessions[first]))
        );
        out.push(cx.finding(RuleId::PasswordExpired, Severity::Error, message, hits));
    }
}

/// Sessions of each device matching `what` (a short description, or None), reported as one
/// error finding of `rule` per device.
fn per_device_errors(
    cx: &Cx<'_>,
    out: &mut Vec<(Finding, usize)>,
    rule: RuleId,
    headline: &str,
    what: impl Fn(usize) -> Option<String>,
) {
    for (device, positions) in &cx.devices {
        let hits: Vec<(usize, String)> = positions.iter().filter_map(|&p| what(p).map(|w| (p, w))).collect();
        let Some(&(first, _)) = hits.first() else { continue };
        let message = format!(
            "{headline} for {} from {}: {}.",
            device_label(device),
            clock(started(&cx.sessions[first])),
            counted(hits.iter().map(|(_, w)| w.clone()))
        );
        out.push(cx.finding(
            rule,
            Severity::Error,
            message,
            hits.into_iter().map(|(p, _)| p).collect(),
        ));
    }
}

fn device_blocked(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    per_device_errors(cx, out, RuleId::DeviceBlocked, "Access refused", |p| {
        let e = cx.eas(p);
        if let Some(code @ (403 | 456)) = cx.http(p) {
            let name = http_meaning(code).map_or("", |m| m.name);
            return Some(format!("HTTP {code} {name} on {}", cx.command(p)));
        }
        e.statuses
            .iter()
            .filter(|s| s.side == Side::Response)
            .find(|s| s.value.is_some_and(|v| BLOCK_STATUSES.contains(&v)))
            .map(|s| format!("{} Status {} {}", cx.command(p), s.raw, s.name.unwrap_or("")))
    });
}

fn mailbox_full(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    per_device_errors(cx, out, RuleId::MailboxFull, "Mailbox full", |p| {
        let e = cx.eas(p);
        if cx.http(p) == Some(507) {
            Some(format!("HTTP 507 on {}", cx.command(p)))
        } else if response_values(e).any(|v| v == MAILBOX_FULL_STATUS) {
            Some(format!("{} Status 113 MailboxQuotaExceeded", cx.command(p)))
        } else {
            None
        }
    });
}

// ---------------------------------------------------------------------------------------------
// EAS Status

fn status_errors(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    // (command, item element, value) → (name, meaning, positions), in order of first appearance. The
    // item element is `None` for the command's own Status (and its collections' or stores'), else
    // the element an item-level Status answers for (`Add`, `Fetch`, `Picture`, …).
    type Group = (
        (String, Option<String>, u32),
        Option<&'static str>,
        Option<&'static str>,
        Vec<usize>,
    );
    let mut groups: Vec<Group> = Vec::new();
    for p in cx.eas_positions() {
        let e = cx.eas(p);
        if e.command == Some(Command::Provision) && response_values(e).any(|v| BLOCK_STATUSES.contains(&v)) {
            continue;
        }
        // Informational values (Status 173 NoPicture of a GAL result) are no failure at all.
        for s in e
            .statuses
            .iter()
            .filter(|s| s.side == Side::Response && s.verdict == Verdict::Failure)
        {
            let Some(v) = s.value else { continue };
            if POLICY_STATUSES.contains(&v) || BLOCK_STATUSES.contains(&v) || v == MAILBOX_FULL_STATUS {
                continue;
            }
            let item = match s.level {
                Level::Command => None,
                Level::Item => Some(item_element(&s.path)),
            };
            let key = (cx.command(p), item, v);
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.3.push(p),
                None => groups.push((key, s.name, s.meaning, vec![p])),
            }
        }
    }
    for ((command, item, value), name, meaning, positions) in groups {
        let mut positions = positions;
        positions.dedup();
        let mut severity = STATUS_SEVERITY
            .iter()
            .find(|(c, v, _)| c.name() == command && *v == value)
            .map_or(Severity::Error, |(_, _, s)| *s);
        // A failing item (one Add, one fetched attachment, one recipient) is not the command's
        // failure: at most a warning.
        if item.is_some() {
            severity = severity.max(Severity::Warning);
        }
        let message = format!(
            "{} × {command}{} Status {value}{}{} ({}).",
            positions.len(),
            item.as_ref().map_or(String::new(), |i| format!(" {i}")),
            name.map_or(String::new(), |n| format!(" {n}")),
            meaning.map_or(String::new(), |m| format!(": {}", m.trim_end_matches('.'))),
            clock(started(&cx.sessions[positions[0]])),
        );
        out.push(cx.finding(RuleId::StatusError, severity, message, positions));
    }
}

/// The element an item-level Status belongs to: its parent in `path` (`…/Responses/Add/Status` →
/// `Add`), without a namespace prefix.
fn item_element(path: &str) -> String {
    let parent = path.rsplit('/').nth(1).unwrap_or("item");
    parent.rsplit(':').next().unwrap_or(parent).to_string()
}

fn ping_repeat(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let pings: Vec<usize> = cx.select(positions, |p| cx.eas(p).command == Some(Command::Ping));
        let rejected = |p: usize| response_values(cx.eas(p)).find(|v| matches!(v, 5 | 6));
        let body_len = |p: usize| cx.sessions[p].request.as_ref().map(|r| r.body.stored_len);
        let mut i = 0;
        while i < pings.len() {
            let Some(status) = rejected(pings[i]) else {
                i += 1;
                continue;
            };
            // The same Ping (same body size) answered the same way, again and again.
            let mut j = i + 1;
            while j < pings.len() && rejected(pings[j]) == Some(status) && body_len(pings[j]) == body_len(pings[i]) {
                j += 1;
            }
            let run = &pings[i..j];
            i = j;
            if run.len() < 2 {
                continue;
            }
            let message = format!(
                "{} × the same Ping from {} answered Status {status} {} ({}–{}), never corrected.",
                run.len(),
                device_label(device),
                if status == 5 {
                    "HeartbeatOutOfRange"
                } else {
                    "TooManyFolders"
                },
                clock(started(&cx.sessions[run[0]])),
                clock(started(&cx.sessions[run[run.len() - 1]])),
            );
            out.push(cx.finding(RuleId::PingRepeat, Severity::Warning, message, run.to_vec()));
        }
    }
}

fn reset_partnership(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        let hits: Vec<usize> = cx.select(positions, |p| {
            let e = cx.eas(p);
            let initial_folder_sync = e.command == Some(Command::FolderSync)
                && e.sync_keys.iter().any(|k| k.side == Side::Request && k.value == "0");
            e.headers.reset_partnership.is_some() && !initial_folder_sync
        });
        let Some(&first) = hits.first() else { continue };
        let message = format!(
            "{} response(s) to {} carried X-MS-RP: {} ({} from {}): the device must discard its data and resynchronise.",
            hits.len(),
            device_label(device),
            cx.eas(first).headers.reset_partnership.as_deref().unwrap_or(""),
            command_counts(cx, &hits),
            clock(started(&cx.sessions[first])),
        );
        out.push(cx.finding(RuleId::ResetPartnership, Severity::Warning, message, hits));
    }
}

fn user_agent_changes(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    for (device, positions) in &cx.devices {
        if device.is_empty() {
            continue;
        }
        let mut current: Option<&str> = None;
        let mut changes: Vec<usize> = Vec::new();
        let mut agents: Vec<String> = Vec::new();
        for &p in positions {
            let Some(ua) = cx.eas(p).user_agent.as_deref() else {
                continue;
            };
            match current {
                None => agents.push(ua.to_string()),
                Some(c) if c != ua => {
                    changes.push(p);
                    agents.push(ua.to_string());
                }
                _ => {}
            }
            current = Some(ua);
        }
        if changes.is_empty() {
            continue;
        }
        // More than UA_CHANGES_BLOCKED changes within any 24 hours.
        let k = UA_CHANGES_BLOCKED;
        let blocked = changes.windows(k + 1).any(|w| {
            seconds_between(started(&cx.sessions[w[0]]), started(&cx.sessions[w[k]]))
                .is_none_or(|s| s <= UA_WINDOW_SECS)
        });
        let message = format!(
            "The User-Agent of {} changed {} time(s): {}{}.",
            device_label(device),
            changes.len(),
            agents.join(" → "),
            if blocked {
                "; more than twice within 24 hours gets the device blocked for 14 hours"
            } else {
                ""
            }
        );
        let severity = if blocked { Severity::Warning } else { Severity::Info };
        out.push(cx.finding(RuleId::UserAgentChange, severity, message, changes));
    }
}

fn no_response(cx: &Cx<'_>, out: &mut Vec<(Finding, usize)>) {
    let positions: Vec<usize> = cx
        .eas_positions()
        .filter(|&p| cx.sessions[p].response.is_none())
        .collect();
    if positions.is_empty() {
        return;
    }
    let message = format!(
        "{} session(s) ended without a response: {} ({}).",
        positions.len(),
        command_counts(cx, &positions),
        cx.sessions_text(&positions)
    );
    out.push(cx.finding(RuleId::NoResponse, Severity::Info, message, positions));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rules::{RULES_TSV as RULES, parse_rules};
    use crate::analysis::testing::{headers, plain, session, with_status};

    fn run(sessions: &[Session]) -> Vec<Finding> {
        Findings::from_sessions(sessions, &SyncKeyChains::from_sessions(sessions)).findings
    }

    /// (rule, severity, sessions) of every finding.
    fn summary(sessions: &[Session]) -> Vec<(&'static str, Severity, Vec<u32>)> {
        run(sessions)
            .into_iter()
            .map(|f| (f.rule, f.severity, f.sessions))
            .collect()
    }

    fn authorized(mut s: Session) -> Session {
        if let Some(r) = s.request.as_mut() {
            r.head.headers.push("Authorization", "Basic eDp5");
        }
        s
    }

    #[test]
    fn a_handshake_401_is_not_reported_and_a_single_refusal_is_info() {
        let s = [
            plain(1, Command::Sync, Some(401)),
            authorized(plain(2, Command::Sync, Some(200))),
            authorized(plain(3, Command::Ping, Some(401))),
            authorized(plain(4, Command::Ping, Some(200))),
        ];
        assert_eq!(summary(&s), [("auth-failure", Severity::Info, vec![3])]);
    }

    #[test]
    fn a_credential_without_a_known_scheme_is_never_printed() {
        let with = |value: &str| {
            let mut s = plain(1, Command::Sync, Some(401));
            if let Some(r) = s.request.as_mut() {
                r.head.headers.push("Authorization", value);
            }
            let f = run(&[s]);
            assert_eq!(f.len(), 1, "{f:#?}");
            f[0].message.clone()
        };
        let m = with("dXNlcjpodW50ZXIy");
        assert!(m.contains("credentials of an unrecognised scheme"), "{m}");
        assert!(!m.contains("dXNl"), "{m}");
        let m = with("s3cr3t more words");
        assert!(!m.contains("s3cr3t"), "{m}");
        assert!(with("ntlm TlRMTVNTUAAB").contains("with NTLM credentials"));
        assert!(with("Basic dXNlcjpodW50ZXIy").contains("with Basic credentials"));
    }

    #[test]
    fn throttling_with_proper_back_off_is_a_warning() {
        let mut t = plain(1, Command::Sync, Some(503));
        headers(&mut t).throttle = Some("CommandFrequency".into());
        headers(&mut t).retry_after = Some("30".into());
        // Session 4 starts 30 s after session 1 (ten seconds per index).
        let s = [t, plain(4, Command::Sync, Some(200))];
        let f = run(&s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].rule, f[0].severity), ("throttled", Severity::Warning));
        assert!(f[0].message.contains("retried 30 s after"), "{}", f[0].message);
        // A 503 without X-MS-ASThrottle is server load: an HTTP error.
        let s = [plain(1, Command::Sync, Some(503))];
        assert_eq!(summary(&s), [("http-error", Severity::Warning, vec![1])]);
    }

    #[test]
    fn identical_commands_without_throttling_are_a_warning() {
        // A folder polled with an unchanged key (no changes) six times, ten seconds apart.
        let s: Vec<Session> = (1..=6)
            .map(|i| session(i, Some("5"), Some("100"), Some(200), None, None))
            .collect();
        assert_eq!(
            summary(&s),
            [("identical-commands", Severity::Warning, (1..=6).collect())]
        );
        // Four are not a burst.
        assert!(run(&s[..4]).is_empty());
    }

    #[test]
    fn an_out_of_sequence_key_is_info() {
        let s = [
            session(1, Some("5"), Some("100"), Some(200), Some("101"), Some(1)),
            session(2, Some("5"), Some("555"), Some(200), Some("556"), Some(1)),
        ];
        assert_eq!(summary(&s), [("synckey-unexpected", Severity::Info, vec![2])]);
    }

    #[test]
    fn a_redirect_never_followed_is_an_error() {
        let mut r = plain(1, Command::Sync, Some(451));
        headers(&mut r).location = Some("https://mail2.example.com/Microsoft-Server-ActiveSync".into());
        let again = plain(2, Command::Sync, Some(451));
        let s = [r, again, plain(3, Command::Ping, Some(200))];
        assert_eq!(summary(&s), [("redirect", Severity::Error, vec![1, 2])]);
    }

    #[test]
    fn mailbox_full_blocked_and_status_errors_are_grouped() {
        let s = [
            plain(1, Command::Sync, Some(507)),
            with_status(plain(2, Command::SendMail, Some(200)), 113),
            with_status(plain(3, Command::FolderSync, Some(200)), 129),
            with_status(plain(4, Command::Ping, Some(200)), 4),
            with_status(plain(5, Command::Ping, Some(200)), 4),
            with_status(plain(6, Command::Ping, Some(200)), 2),
            with_status(plain(7, Command::Sync, Some(200)), 7),
        ];
        assert_eq!(
            summary(&s),
            [
                ("mailbox-full", Severity::Error, vec![1, 2]),
                ("device-blocked", Severity::Error, vec![3]),
                ("status-error", Severity::Error, vec![4, 5]),
                ("status-error", Severity::Info, vec![7]),
            ]
        );
    }

    #[test]
    fn a_rejected_ping_sent_again_is_repeated() {
        let s = [
            with_status(plain(1, Command::Ping, Some(200)), 5),
            with_status(plain(2, Command::Ping, Some(200)), 5),
            with_status(plain(3, Command::Ping, Some(200)), 5),
            with_status(plain(4, Command::Ping, Some(200)), 1),
        ];
        let f = summary(&s);
        assert!(f.contains(&("ping-repeat", Severity::Warning, vec![1, 2, 3])), "{f:?}");
        assert!(f.contains(&("status-error", Severity::Info, vec![1, 2, 3])), "{f:?}");
        // Corrected at once: only the Status is reported.
        let f = summary(&[s[0].clone(), s[3].clone()]);
        assert_eq!(f, [("status-error", Severity::Info, vec![1])]);
    }

    #[test]
    fn x_ms_rp_counts_except_on_the_initial_folder_sync() {
        let mut initial = session(1, None, Some("0"), Some(200), Some("1"), Some(1));
        headers(&mut initial).reset_partnership = Some("14.1,16.1".into());
        let mut later = plain(2, Command::Sync, Some(200));
        headers(&mut later).reset_partnership = Some("14.1,16.1".into());
        assert_eq!(
            summary(&[initial, later]),
            [("reset-partnership", Severity::Warning, vec![2])]
        );
    }

    #[test]
    fn user_agent_changes_more_than_twice_a_day_are_a_warning() {
        let ua = |i: u32, agent: &str| {
            let mut s = plain(i, Command::Ping, Some(200));
            s.eas.as_mut().unwrap_or_else(|| unreachable!()).user_agent = Some(agent.into());
            s
        };
        let once = [ua(1, "Apple-iPhone/1"), ua(2, "Apple-iPhone/2")];
        assert_eq!(summary(&once), [("user-agent-change", Severity::Info, vec![2])]);
        let flapping = [ua(1, "A/1"), ua(2, "B/1"), ua(3, "A/1"), ua(4, "B/1")];
        assert_eq!(
            summary(&flapping),
            [("user-agent-change", Severity::Warning, vec![2, 3, 4])]
        );
    }

    #[test]
    fn rules_data_is_well_formed_and_every_rule_has_a_check() {
        let rules = parse_rules(RULES).expect("rules.tsv");
        // The rules that need a mailbox log beside the capture are checked in `align`.
        let cross_source = ["not-reaching-exchange", "response-lost", "server-exception"];
        // The rules only IIS logs show are checked in `iis_findings`.
        let iis = [
            "iis-throttled",
            "iis-auth-storm",
            "iis-server-errors",
            "iis-synckey-reset",
            "iis-heartbeat-collapse",
            "iis-exchange-error",
        ];
        // The item-level rules are checked in `item_findings`.
        let items = ITEM_RULES.map(RuleId::id);
        assert_eq!(
            rules.len(),
            CHECKS.len() + cross_source.len() + iis.len() + items.len(),
            "one check per rule"
        );
        assert!(
            cross_source
                .iter()
                .chain(&iis)
                .chain(&items)
                .all(|id| rules.iter().any(|r| r.id == *id))
        );
        for r in &rules {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.id
            );
            assert!(!r.severities.is_empty());
            assert!(r.explanation.ends_with('.') && r.explanation.len() > 150, "{}", r.id);
            assert!(!r.title.ends_with('.'), "{}", r.id);
        }
        assert!(parse_rules("a\terror\tT\n").unwrap_err().contains("3 fields"));
        assert!(parse_rules("a\tbad\tT\tE.\n").unwrap_err().contains("unknown severity"));
        assert!(
            parse_rules("a\terror\tT\tE.\na\terror\tT\tE.\n")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn severity_parses_and_orders_most_severe_first() {
        assert_eq!("Warning".parse::<Severity>(), Ok(Severity::Warning));
        assert!("fatal".parse::<Severity>().is_err());
        assert!(Severity::Error < Severity::Warning && Severity::Warning < Severity::Info);
    }

    #[test]
    fn ranges_and_durations_read_well() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1–3, 7, 9–10");
        assert_eq!(ranges(&[4]), "4");
        assert_eq!(duration_text(4), "4 s");
        assert_eq!(duration_text(600), "10 min");
        assert_eq!(duration_text(125), "2 min 5 s");
        assert_eq!(duration_text(3 * 3600 + 600), "3 h 10 min");
        assert_eq!(
            host("https://mail2.example.com/Microsoft-Server-ActiveSync?Cmd=Sync"),
            "mail2.example.com"
        );
    }
}
