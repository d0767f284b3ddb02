//! Lining a device's capture (the trace) up with Exchange's mailbox log of the same device: which
//! request reached Exchange, what Exchange answered, and whether the device got that answer.
//!
//! The log's clock is the server's local time, without zone, to the second; the trace's is the
//! capture machine's. So time alone cannot pair them: the clock offset is estimated first from
//! requests that can only be the same one (same command, device, and the same non-empty set of
//! request SyncKeys), as the most common difference of their times; then each trace session is
//! paired, in time order, with the log entry of the same command and device within a few seconds
//! of it (after the offset) that agrees best on request SyncKeys, request body (modulo what the
//! log leaves out) and response Status, never going back in the log. Identical retries and Pings
//! are told apart by that order.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::findings::{Finding, Findings, finding};
use super::rules::{RuleId, Severity};
use crate::capture::{Capture, Session};
use crate::eas::Command;
use crate::http::Side;
use crate::readers::mailbox_log::{exception_notes, identifier};
use crate::wbxml::{Child, Document, Element};

/// How far (seconds) a log entry may be from its trace session once the offset is applied: one
/// second of log resolution, a second of skew either way, and the time a request takes to arrive.
const WINDOW_SECONDS: i64 = 3;
/// Differences of time closer than this (seconds) count as the same offset when estimating it.
const OFFSET_TOLERANCE: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// The trace session and the log entry are the same request.
    Matched,
    /// A request in the trace that Exchange did not log: it did not reach Exchange (or is not an
    /// ActiveSync request).
    TraceOnly,
    /// A request Exchange logged that is not in the trace.
    LogOnly,
}

/// One line of an alignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    /// Position of the trace session in the capture's `sessions`.
    pub trace: Option<usize>,
    /// Position of the log entry in the log's `sessions`.
    pub log: Option<usize>,
    pub kind: PairKind,
    /// What differs between the device's view and Exchange's, in short sentences.
    pub differences: Vec<String>,
}

/// A trace lined up with a mailbox log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alignment {
    /// Log time (as written, read at the log's offset) minus trace time, estimated, in seconds.
    pub clock_offset_seconds: i64,
    /// Every trace session (CONNECT tunnels left out) and every log entry, once, in time order.
    pub pairs: Vec<Pair>,
}

/// What pairing looks at in one session.
struct Features {
    time: Option<DateTime<FixedOffset>>,
    /// The HTTP method (an OPTIONS request has no command).
    method: Option<String>,
    command: Option<Command>,
    device: Option<String>,
    /// Request SyncKeys (collection, value), sorted.
    keys: Vec<(String, String)>,
}

fn features(s: &Session) -> Features {
    let eas = s.eas.as_ref();
    let mut keys: Vec<(String, String)> = eas
        .map(|e| {
            e.sync_keys
                .iter()
                .filter(|k| k.side == Side::Request)
                .map(|k| {
                    (
                        k.collection_id.as_deref().unwrap_or_default().to_string(),
                        k.value.clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    Features {
        time: s.timers.started(),
        method: s.request.as_ref().map(|r| r.head.method.to_ascii_uppercase()),
        command: eas.and_then(|e| e.command),
        device: eas.and_then(|e| e.device_id.as_deref().map(str::to_string)),
        keys,
    }
}

/// The request key of a session with request SyncKeys.
fn key(f: &Features) -> Option<RequestKey<'_>> {
    (!f.keys.is_empty()).then(|| (f.command, f.device.as_deref(), &f.keys[..]))
}

/// Seconds from `a` to `b`.
fn seconds(a: DateTime<FixedOffset>, b: DateTime<FixedOffset>) -> i64 {
    (b - a).num_seconds()
}

/// Whether two sessions can be the same request at all: same method, command and device.
fn same_request_kind(t: &Features, l: &Features) -> bool {
    t.method.is_some()
        && t.method == l.method
        && t.command == l.command
        && (t.device.is_none() || l.device.is_none() || t.device == l.device)
}

/// What only one request of a device can have: command, device and request SyncKeys.
type RequestKey<'a> = (Option<Command>, Option<&'a str>, &'a [(String, String)]);

/// The clock offset (log − trace, seconds): the most common time difference of the pairs that
/// share command, device and a non-empty set of request SyncKeys — of the pairs whose key occurs
/// once on each side when there are any (twelve identical Syncs would otherwise pair each with
/// each). `near` narrows the search to within two minutes of a known offset. The log writes
/// whole seconds, cut: a difference of 3,602.4 s reads a true offset of 3,602.4 to 3,603.4 s, so
/// half a second is added. `None` when no pair is that sure.
fn estimate_offset(trace: &[Features], log: &[Features], near: Option<i64>) -> Option<i64> {
    let mut by_key: std::collections::HashMap<RequestKey<'_>, (Vec<usize>, Vec<usize>)> =
        std::collections::HashMap::new();
    for (i, t) in trace.iter().enumerate() {
        if let Some(k) = key(t) {
            by_key.entry(k).or_default().0.push(i);
        }
    }
    for (i, l) in log.iter().enumerate() {
        if let Some(k) = key(l) {
            by_key.entry(k).or_default().1.push(i);
        }
    }
    let unique = by_key.values().any(|(t, l)| t.len() == 1 && l.len() == 1);
    let mut diffs = Vec::new();
    for (ts, ls) in by_key
        .values()
        .filter(|(t, l)| !unique || (t.len() == 1 && l.len() == 1))
    {
        for (&t, &l) in ts.iter().flat_map(|t| ls.iter().map(move |l| (t, l))) {
            if let (Some(a), Some(b)) = (trace[t].time, log[l].time) {
                let ms = (b - a).num_milliseconds() + 500;
                if near.is_none_or(|n| (ms / 1000 - n).abs() <= 120) {
                    diffs.push(ms);
                }
            }
        }
    }
    if diffs.is_empty() {
        return None;
    }
    diffs.sort_unstable();
    // The window of width 2 × tolerance holding the most differences; its median.
    let (mut best, mut best_at) = (0, 0);
    let mut lo = 0;
    for hi in 0..diffs.len() {
        while diffs[hi] - diffs[lo] > 2 * OFFSET_TOLERANCE * 1000 {
            lo += 1;
        }
        if hi + 1 - lo > best {
            (best, best_at) = (hi + 1 - lo, lo);
        }
    }
    Some(diffs[best_at + best / 2].div_euclid(1000))
}

/// A body's tree for comparing, or `None` when it has none or it does not decode.
fn document(capture: &Capture, index: usize, side: Side) -> Option<Document> {
    capture.body_document(index, side).ok().flatten()
}

/// Whether a trace body and a log body say the same, modulo what the log leaves out: an element
/// the log has empty stands for any content (a redacted value, `<Body=N bytes/>`).
fn same_body(trace: Option<&Document>, log: Option<&Document>) -> bool {
    match (trace.and_then(Document::root), log.and_then(Document::root)) {
        (None, None) => true,
        (Some(t), Some(l)) => same_element(t, l, 0),
        _ => false,
    }
}

fn same_element(t: Element<'_>, l: Element<'_>, depth: usize) -> bool {
    if t.tag() != l.tag() {
        return false;
    }
    if !l.has_children() || depth > 64 {
        return true;
    }
    let mut tc = t.children();
    let mut lc = l.children();
    loop {
        match (tc.next(), lc.next()) {
            (None, None) => return true,
            (Some(Child::Element(a)), Some(Child::Element(b))) => {
                if !same_element(a, b, depth + 1) {
                    return false;
                }
            }
            (Some(Child::Data { bytes: a, .. }), Some(Child::Data { bytes: b, .. })) => {
                if a != b && !same_text(a, b) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Logged opaque values are written as hex text: equal when the hex reads as the same bytes.
fn same_text(trace: &[u8], log: &[u8]) -> bool {
    let hex: String = trace.iter().map(|b| format!("{b:02X}")).collect();
    hex.as_bytes().eq_ignore_ascii_case(log)
}

/// Lines `trace` up with `log` (a capture opened from a mailbox log). `offset`, when given, is the
/// clock offset the user knows (seconds, log − trace); it is refined within two minutes.
pub fn align(trace: &Capture, log: &Capture, offset: Option<i64>) -> Alignment {
    let tf: Vec<Features> = trace.sessions.iter().map(features).collect();
    let lf: Vec<Features> = log.sessions.iter().map(features).collect();
    let clock = estimate_offset(&tf, &lf, offset).or(offset).unwrap_or(0);

    let trace_order: Vec<usize> = {
        let mut v: Vec<usize> = (0..trace.sessions.len())
            .filter(|&i| !trace.sessions[i].flags.tunnel)
            .collect();
        v.sort_by_key(|&i| tf[i].time);
        v
    };
    let mut log_order: Vec<usize> = (0..log.sessions.len()).collect();
    log_order.sort_by_key(|&i| lf[i].time);

    let mut log_taken = vec![false; log.sessions.len()];
    // Position in `log_order` before which nothing may be matched any more.
    let mut floor = 0;
    // Each trace session with its entry and whether their request bodies are the same.
    let mut matches: Vec<(usize, Option<(usize, bool)>)> = Vec::new();
    let mut request_docs: Vec<Option<Option<Document>>> = vec![None; log.sessions.len()];
    for &t in &trace_order {
        let f = &tf[t];
        // Read only when some entry can be this request (a trace of 100,000 sessions against a
        // log of an hour would otherwise read every body).
        let mut trace_request: Option<Option<Document>> = None;
        // The first entry that may be in the window: entries are in time order (a session
        // without a time is compared with every entry from `floor` on).
        let start = match f.time {
            Some(a) => {
                log_order.partition_point(|&l| lf[l].time.is_none_or(|b| seconds(a, b) - clock < -WINDOW_SECONDS))
            }
            None => 0,
        };
        let mut best: Option<(i64, usize, bool)> = None;
        for (pos, &l) in log_order.iter().enumerate().skip(floor.max(start)) {
            let g = &lf[l];
            let delta = match (f.time, g.time) {
                (Some(a), Some(b)) => seconds(a, b) - clock,
                _ => 0,
            };
            if delta > WINDOW_SECONDS {
                break;
            }
            if log_taken[l] || delta < -WINDOW_SECONDS || !same_request_kind(f, g) {
                continue;
            }
            let log_request = request_docs[l].get_or_insert_with(|| document(log, l, Side::Request));
            let mut score = 10 - delta.abs();
            if f.keys == g.keys {
                score += 20;
            } else if !f.keys.is_empty() && !g.keys.is_empty() {
                continue; // different SyncKeys: another request
            }
            let trace_request = trace_request.get_or_insert_with(|| document(trace, t, Side::Request));
            let same_request = same_body(trace_request.as_ref(), log_request.as_ref());
            if same_request {
                score += 10;
            }
            let statuses = |s: &Session| s.eas.as_ref().map(|e| e.response_status_values());
            if statuses(&trace.sessions[t]) == statuses(&log.sessions[l]) {
                score += 5;
            }
            if best.is_none_or(|(b, _, _)| score > b) {
                best = Some((score, pos, same_request));
            }
        }
        match best {
            Some((_, pos, same_request)) => {
                let l = log_order[pos];
                log_taken[l] = true;
                // Entries skipped before it stay available to later sessions only if they are
                // within the window of those; order is kept by never matching before `floor`.
                floor = floor.max(first_open(&log_order, &log_taken, floor));
                matches.push((t, Some((l, same_request))));
            }
            None => matches.push((t, None)),
        }
    }

    let mut pairs: Vec<(Option<DateTime<FixedOffset>>, Pair)> = Vec::new();
    for (t, l) in matches {
        let time = tf[t].time;
        let pair = match l {
            Some((l, same_request)) => Pair {
                trace: Some(t),
                log: Some(l),
                kind: PairKind::Matched,
                differences: differences(trace, t, log, l, same_request),
            },
            None => Pair {
                trace: Some(t),
                log: None,
                kind: PairKind::TraceOnly,
                differences: Vec::new(),
            },
        };
        pairs.push((time, pair));
    }
    for l in (0..log.sessions.len()).filter(|&l| !log_taken[l]) {
        let time = lf[l].time.map(|t| t - chrono::Duration::seconds(clock));
        pairs.push((
            time,
            Pair {
                trace: None,
                log: Some(l),
                kind: PairKind::LogOnly,
                differences: Vec::new(),
            },
        ));
    }
    // Time order; a pair without a time keeps its place after the one before.
    let mut last = None;
    let mut keyed: Vec<_> = pairs
        .into_iter()
        .map(|(t, p)| {
            let t = t.or(last);
            last = t;
            (t, p)
        })
        .collect();
    keyed.sort_by_key(|(t, _)| *t);
    Alignment {
        clock_offset_seconds: clock,
        pairs: keyed.into_iter().map(|(_, p)| p).collect(),
    }
}

/// The first position at or after `from` whose entry is not yet matched.
fn first_open(order: &[usize], taken: &[bool], from: usize) -> usize {
    (from..order.len()).find(|&p| !taken[order[p]]).unwrap_or(order.len())
}

/// What differs between trace session `t` and log entry `l` (`same_request`: their request
/// bodies say the same, as pairing found).
fn differences(trace: &Capture, t: usize, log: &Capture, l: usize, same_request: bool) -> Vec<String> {
    let (ts, ls) = (&trace.sessions[t], &log.sessions[l]);
    let mut out = Vec::new();
    match (ts.http_status(), ls.http_status()) {
        (None, Some(code)) => out.push(format!("the device got no response; Exchange answered {code}")),
        (Some(a), Some(b)) if a != b => {
            let by = if ts.flags.generated {
                " (the trace's response was generated by the proxy)"
            } else {
                ""
            };
            out.push(format!(
                "HTTP status differs: the device saw {a}, Exchange sent {b}{by}"
            ));
        }
        (Some(a), None) => out.push(format!("the device saw {a}; Exchange logged no response")),
        _ => {}
    }
    if !same_request {
        out.push("the request bodies differ beyond what the log leaves out".into());
    }
    if ts.response.is_some() && ls.response.is_some() {
        let tr = document(trace, t, Side::Response);
        let lr = document(log, l, Side::Response);
        if !same_body(tr.as_ref(), lr.as_ref()) {
            let statuses = |s: &Session| s.eas.as_ref().map(|e| e.response_status_values()).unwrap_or_default();
            let (a, b) = (statuses(ts), statuses(ls));
            if a != b {
                out.push(format!("EAS Status differs: the device got {a:?}, Exchange sent {b:?}"));
            } else {
                out.push("the response bodies differ".into());
            }
        }
    }
    out
}

/// The findings that need both sources (`not-reaching-exchange`, `response-lost`,
/// `server-exception`), cited with their trace sessions (a log-only entry's exception is cited
/// by its Identifier in the message).
pub fn findings(trace: &Capture, log: &Capture, alignment: &Alignment) -> Vec<Finding> {
    let mut out = Vec::new();
    let eas = |s: &Session| s.eas.as_ref().is_some_and(|e| e.command.is_some());

    // Trace-only EAS requests: answered (or dropped) by something in between. A 401 from the
    // server is not among them: requests that fail authentication never reach ActiveSync, so
    // Exchange never logs them.
    let unlogged: Vec<&Session> = alignment
        .pairs
        .iter()
        .filter(|p| p.kind == PairKind::TraceOnly)
        .filter_map(|p| p.trace.map(|t| &trace.sessions[t]))
        .filter(|s| eas(s) && (s.flags.generated || s.http_status() != Some(401)))
        .collect();
    if !unlogged.is_empty() {
        let failed = unlogged
            .iter()
            .filter(|s| s.flags.generated || s.http_status().is_none_or(|c| !(200..300).contains(&c)))
            .count();
        let statuses = status_counts(&unlogged);
        let severity = if failed > 0 { Severity::Error } else { Severity::Warning };
        let message = format!(
            "{} EAS request(s) of the capture are not in Exchange's log ({statuses}){}.",
            unlogged.len(),
            if unlogged.iter().any(|s| s.flags.generated) {
                "; the capture marks some answers as generated by the proxy"
            } else {
                ""
            }
        );
        out.push(finding(RuleId::NotReachingExchange, severity, message, &unlogged));
    }

    // Exchange answered; the device got nothing, or something else.
    let lost: Vec<(&Session, &Session)> = alignment
        .pairs
        .iter()
        .filter(|p| p.kind == PairKind::Matched)
        .filter_map(|p| Some((&trace.sessions[p.trace?], &log.sessions[p.log?])))
        .filter(|(t, l)| l.response.is_some() && (t.response.is_none() || t.http_status() != l.http_status()))
        .collect();
    if !lost.is_empty() {
        let none = lost.iter().filter(|(t, _)| t.response.is_none()).count();
        let severity = if lost
            .iter()
            .any(|(t, _)| t.eas.as_ref().is_none_or(|e| e.command != Some(Command::Ping)))
        {
            Severity::Error
        } else {
            Severity::Warning
        };
        let sessions: Vec<&Session> = lost.iter().map(|(t, _)| *t).collect();
        let other = lost.len() - none;
        let parts: Vec<String> = [
            (none > 0).then(|| format!("{none} ended without any response")),
            (other > 0).then(|| {
                format!(
                    "{other} got another HTTP status than Exchange sent ({})",
                    status_counts(&sessions)
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        let message = format!(
            "Exchange answered {} request(s) that the device did not get as sent: {}.",
            lost.len(),
            parts.join("; ")
        );
        out.push(finding(RuleId::ResponseLost, severity, message, &sessions));
    }

    // Exceptions in the log, with the trace sessions of their entries.
    let mut cited = Vec::new();
    let mut texts = Vec::new();
    for (p, l, first_line) in logged_exceptions(log, alignment) {
        let id = identifier(&log.sessions[l]).unwrap_or_default();
        texts.push(match p.trace {
            Some(t) => format!("session {} (log entry {id}): {first_line}", trace.sessions[t].index),
            None => format!("log entry {id}, not in the capture: {first_line}"),
        });
        if let Some(t) = p.trace {
            cited.push(&trace.sessions[t]);
        }
    }
    if !texts.is_empty() {
        let failed = cited
            .iter()
            .any(|s| s.http_status().is_none_or(|c| !(200..300).contains(&c)));
        let severity = if failed || cited.is_empty() {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = format!("{} exception(s) in Exchange's log: {}.", texts.len(), texts.join("; "));
        cited.dedup_by_key(|s| s.index);
        out.push(finding(RuleId::ServerException, severity, message, &cited));
    }
    out
}

/// The first line of each exception Exchange logged, with the pair and the log position of its
/// entry, in the order of the pairs.
fn logged_exceptions<'a>(
    log: &'a Capture,
    alignment: &'a Alignment,
) -> impl Iterator<Item = (&'a Pair, usize, &'a str)> {
    alignment.pairs.iter().flat_map(move |p| {
        p.log.into_iter().flat_map(move |l| {
            exception_notes(&log.sessions[l]).map(move |note| (p, l, note.lines().next().unwrap_or_default()))
        })
    })
}

/// Adds to `findings` (a capture's) what the mailbox log tells: the cross-source findings
/// ([`findings`]), and, in the message of each item-level finding, the exceptions Exchange
/// logged for its sessions (`MeetingResponseCommand_OnExecute_Exception`,
/// `SyncCommand_…_Exception` naming the item).
pub fn add_findings(all: &mut Findings, trace: &Capture, log: &Capture, alignment: &Alignment) {
    let mut exceptions: std::collections::HashMap<u32, Vec<&str>> = std::collections::HashMap::new();
    for (p, _, first_line) in logged_exceptions(log, alignment) {
        if let Some(t) = p.trace {
            exceptions.entry(trace.sessions[t].index).or_default().push(first_line);
        }
    }
    for f in all.findings.iter_mut().filter(|f| f.item.is_some()) {
        // Each exception once, with the sessions it was logged for.
        let mut logged: Vec<(&str, Vec<u32>)> = Vec::new();
        for i in &f.sessions {
            for note in exceptions.get(i).into_iter().flatten() {
                let note = note.trim().trim_end_matches('.');
                match logged.iter_mut().find(|(n, _)| *n == note) {
                    Some((_, at)) => at.push(*i),
                    None => logged.push((note, vec![*i])),
                }
            }
        }
        if !logged.is_empty() {
            let texts: Vec<String> = logged
                .iter()
                .map(|(note, at)| {
                    let word = if at.len() == 1 { "session" } else { "sessions" };
                    format!("{note} ({word} {})", super::findings::ranges(at))
                })
                .collect();
            f.message
                .push_str(&format!(" Exchange's log shows {}.", texts.join("; ")));
        }
    }
    all.add(findings(trace, log, alignment));
}

/// `3 × 200, 2 × 502, 1 × no response` of some sessions.
fn status_counts(sessions: &[&Session]) -> String {
    let mut counts: std::collections::BTreeMap<Option<u16>, usize> = std::collections::BTreeMap::new();
    for s in sessions {
        *counts.entry(s.http_status()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(code, n)| match code {
            Some(c) => format!("{n} × {c}"),
            None => format!("{n} × no response"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
