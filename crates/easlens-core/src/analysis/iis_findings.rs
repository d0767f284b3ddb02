//! The failure patterns only IIS logs show (`iis-eas-log.md` §3.2, §4, §7): throttling as Exchange
//! logged it, logon-failure storms, bursts of server errors, SyncKey 0 resets, collapsing Ping
//! heartbeats and Exchange's `Error:` tags. They read the sessions' [`IisFacts`] (the `Log=`
//! tokens), so they run on IIS logs only; their texts are rows of `rules.tsv` like every rule's.
//!
//! A request 2013+ logs twice (front end and back end): each rule counts the line that carries
//! what it reads (`Log=` on the back end; 401s and most 5xx on the front end), so a request is
//! evidence once.

use std::collections::HashMap;

use super::findings::{Finding, device_label, finding};
use super::rules::{RuleId, Severity};
use super::{device_of, started};
use crate::capture::Session;
use crate::eas::Command;
use crate::iis::{IisFacts, LogFields, Role};

/// Logon failures (401.1) from one device within this many seconds that make a storm.
const AUTH_STORM: usize = 5;
const AUTH_WINDOW_SECS: i64 = 600;
/// HTTP 5xx from one server within a minute that make a burst.
const SERVER_BURST: usize = 5;
/// Error tags that mean the device cannot sync at all.
const BLOCKING_ERRORS: &[&str] = &[
    "DeviceIsBlockedForThisUser",
    "InQuarantine",
    "UserDisabledForSync",
    "MailboxQuotaExceeded",
    "DeviceNotProvisioned",
    "DeviceNotFullyProvisionable",
    "AccessDenied",
    "UserHasNoMailbox",
];

fn facts(s: &Session) -> Option<&IisFacts> {
    s.iis.as_deref().filter(|f| !f.probe)
}

fn log(s: &Session) -> Option<&LogFields> {
    facts(s).and_then(|f| f.log.as_ref())
}

fn ms(s: &Session) -> i64 {
    started(s).map_or(0, |t| t.timestamp_millis())
}

/// The IIS-log findings of `sessions`, each with the position of its first evidence.
pub(crate) fn findings(sessions: &[Session]) -> Vec<(Finding, usize)> {
    if !sessions.iter().any(|s| s.iis.is_some()) {
        return Vec::new();
    }
    let devices = super::by_device(sessions, |s| facts(s).is_some() && s.eas.is_some());
    let mut out = Vec::new();
    for (device, positions) in &devices {
        throttled(sessions, device, positions, &mut out);
        auth_storm(sessions, device, positions, &mut out);
        synckey_reset(sessions, device, positions, &mut out);
        heartbeat(sessions, device, positions, &mut out);
        exchange_errors(sessions, device, positions, &mut out);
    }
    server_bursts(sessions, &mut out);
    out
}

fn clock(s: &Session) -> String {
    started(s).map_or_else(|| "?".into(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn emit(
    out: &mut Vec<(Finding, usize)>,
    rule: RuleId,
    severity: Severity,
    message: String,
    sessions: &[Session],
    evidence: &[usize],
) {
    let Some(&first) = evidence.first() else { return };
    let refs: Vec<&Session> = evidence.iter().map(|&p| &sessions[p]).collect();
    out.push((finding(rule, severity, message, &refs), first));
}

fn throttled(sessions: &[Session], device: &str, positions: &[usize], out: &mut Vec<(Finding, usize)>) {
    let mut over = 0;
    let mut queued = 0;
    let mut refused = 0;
    let mut longest = 0;
    let evidence: Vec<usize> = positions
        .iter()
        .copied()
        .filter(|&p| {
            let s = &sessions[p];
            let l = log(s);
            let is_over = l
                .and_then(|l| l.error.as_deref())
                .is_some_and(|e| e.contains("OverBudget"));
            let q = l.and_then(|l| l.throttle_ms).unwrap_or(0);
            // A 503 counts on the line that carries the Log (or a front-end line left alone).
            let is_503 =
                s.http_status() == Some(503) && facts(s).is_some_and(|f| f.log.is_some() || f.paired_with.is_none());
            over += usize::from(is_over);
            queued += usize::from(q > 0);
            refused += usize::from(is_503);
            longest = longest.max(q);
            is_over || q > 0 || is_503
        })
        .collect();
    let Some(&first) = evidence.first() else { return };
    let last = evidence[evidence.len() - 1];
    let mut message = format!(
        "{} throttled request(s) from {} between {} and {}: {refused} × HTTP 503, {over} × Error:OverBudget, {queued} queued (longest {longest} ms)",
        evidence.len(),
        device_label(device),
        clock(&sessions[first]),
        clock(&sessions[last]),
    );
    if let Some(b) = evidence
        .iter()
        .rev()
        .find_map(|&p| log(&sessions[p]).and_then(|l| l.back_off.clone()))
    {
        message += &format!("; last suggested back-off {b}");
    }
    let severity = if refused > 0 || over > 0 {
        Severity::Error
    } else {
        Severity::Warning
    };
    emit(out, RuleId::IisThrottled, severity, message, sessions, &evidence);
}

fn auth_storm(sessions: &[Session], device: &str, positions: &[usize], out: &mut Vec<(Finding, usize)>) {
    let fails: Vec<usize> = positions
        .iter()
        .copied()
        .filter(|&p| sessions[p].http_status() == Some(401) && facts(&sessions[p]).is_some_and(|f| f.substatus == 1))
        .collect();
    // The densest run: AUTH_STORM or more within the window.
    let mut best: &[usize] = &[];
    let mut start = 0;
    for end in 0..fails.len() {
        while ms(&sessions[fails[end]]) - ms(&sessions[fails[start]]) > AUTH_WINDOW_SECS * 1000 {
            start += 1;
        }
        if end + 1 - start > best.len() {
            best = &fails[start..=end];
        }
    }
    if best.len() < AUTH_STORM {
        return;
    }
    let (a, b) = (&sessions[best[0]], &sessions[best[best.len() - 1]]);
    let user = a
        .iis
        .as_deref()
        .and_then(|f| f.user_name.as_deref())
        .map(|u| format!(" as {u}"))
        .unwrap_or_default();
    let win32 = facts(a).map_or(0, |f| f.win32);
    let message = format!(
        "{} logon failures (HTTP 401.1, win32 {win32}{}) from {}{user} between {} and {} ({} in all in these logs)",
        best.len(),
        if win32 == 1326 {
            ": bad user name or password"
        } else {
            ""
        },
        device_label(device),
        clock(a),
        clock(b),
        fails.len()
    );
    emit(out, RuleId::IisAuthStorm, Severity::Error, message, sessions, best);
}

fn synckey_reset(sessions: &[Session], device: &str, positions: &[usize], out: &mut Vec<(Finding, usize)>) {
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut evidence = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    for &p in positions {
        let s = &sessions[p];
        let Some(l) = log(s) else { continue };
        if s.eas.as_ref().and_then(|e| e.command) != Some(Command::Sync) {
            continue;
        }
        let folder = l.folder.clone().unwrap_or_default();
        let state_lost = l
            .tokens
            .iter()
            .any(|(n, v)| (n == "Ssnf" && v == "T") || (n == "St" && v == "R"));
        let reset = match l.sync_key.as_deref() {
            Some("0") => seen.get(&folder).copied().unwrap_or(false),
            Some(_) => {
                seen.insert(folder.clone(), true);
                false
            }
            None => false,
        };
        if reset || state_lost {
            evidence.push(p);
            if !folders.contains(&folder) {
                folders.push(folder);
            }
        }
    }
    let Some(&first) = evidence.first() else { return };
    let names: Vec<String> = folders
        .iter()
        .map(|f| if f.is_empty() { "?".into() } else { f.clone() })
        .collect();
    let message = format!(
        "{} Sync(s) of {} started a folder over (SyncKey 0 after a key, sync state not found, or a recovery sync), folder(s) {}, first at {}",
        evidence.len(),
        device_label(device),
        names.join(", "),
        clock(&sessions[first])
    );
    emit(
        out,
        RuleId::IisSynckeyReset,
        Severity::Warning,
        message,
        sessions,
        &evidence,
    );
}

fn heartbeat(sessions: &[Session], device: &str, positions: &[usize], out: &mut Vec<(Finding, usize)>) {
    let pings: Vec<(usize, u32)> = positions
        .iter()
        .filter_map(|&p| log(&sessions[p]).and_then(|l| l.heartbeat_s).map(|h| (p, h)))
        .collect();
    let too_low: Vec<usize> = positions
        .iter()
        .copied()
        .filter(|&p| {
            log(&sessions[p])
                .and_then(|l| l.error.as_deref())
                .is_some_and(|e| e.contains("HbiTooLow"))
        })
        .collect();
    let highest = pings.iter().map(|&(_, h)| h).max().unwrap_or(0);
    let peak = pings.iter().position(|&(_, h)| h == highest);
    // After the highest heartbeat, the ones at a third of it or less.
    let fallen: Vec<usize> = match peak {
        Some(i) if highest >= 180 => pings[i + 1..]
            .iter()
            .filter(|&&(_, h)| h * 3 <= highest)
            .map(|&(p, _)| p)
            .collect(),
        _ => Vec::new(),
    };
    if fallen.is_empty() && too_low.is_empty() {
        return;
    }
    let lowest = fallen
        .iter()
        .filter_map(|&p| log(&sessions[p]).and_then(|l| l.heartbeat_s))
        .min();
    let mut evidence: Vec<usize> = peak
        .map(|i| pings[i].0)
        .into_iter()
        .chain(fallen.iter().copied())
        .chain(too_low.iter().copied())
        .collect();
    evidence.sort_unstable();
    evidence.dedup();
    let mut message = match lowest {
        Some(low) => format!(
            "The Ping heartbeat of {} fell from {highest} s to {low} s ({} Ping(s) at a third or less)",
            device_label(device),
            fallen.len()
        ),
        None => format!("The Ping heartbeat of {}", device_label(device)),
    };
    if !too_low.is_empty() {
        message += &format!(
            "{} {} × refused as too low (Error:Ping.HbiTooLow)",
            if lowest.is_some() { ";" } else { ":" },
            too_low.len()
        );
    }
    emit(
        out,
        RuleId::IisHeartbeatCollapse,
        Severity::Warning,
        message,
        sessions,
        &evidence,
    );
}

fn exchange_errors(sessions: &[Session], device: &str, positions: &[usize], out: &mut Vec<(Finding, usize)>) {
    let mut tags: Vec<(String, Vec<usize>)> = Vec::new();
    for &p in positions {
        let Some(e) = log(&sessions[p]).and_then(|l| l.error.as_deref()) else {
            continue;
        };
        for tag in e.split(';').filter(|t| !t.is_empty()) {
            // Throttling and heartbeat errors have their own rules.
            if tag.contains("OverBudget") || tag.contains("HbiTooLow") {
                continue;
            }
            match tags.iter_mut().find(|(t, _)| t == tag) {
                Some((_, ps)) => ps.push(p),
                None => tags.push((tag.to_string(), vec![p])),
            }
        }
    }
    for (tag, evidence) in tags {
        let blocking = BLOCKING_ERRORS.iter().any(|b| tag.contains(b));
        let message = format!(
            "Exchange logged Error:{tag} {} time(s) for {}, first at {}",
            evidence.len(),
            device_label(device),
            clock(&sessions[evidence[0]])
        );
        let severity = if blocking { Severity::Warning } else { Severity::Info };
        emit(out, RuleId::IisExchangeError, severity, message, sessions, &evidence);
    }
}

fn server_bursts(sessions: &[Session], out: &mut Vec<(Finding, usize)>) {
    let mut by_server: Vec<(&str, Role, Vec<usize>)> = Vec::new();
    for (p, s) in sessions.iter().enumerate() {
        let Some(f) = facts(s) else { continue };
        if !s.http_status().is_some_and(|c| (500..600).contains(&c)) {
            continue;
        }
        match by_server
            .iter_mut()
            .find(|(n, r, _)| *n == f.server.as_ref() && *r == f.role)
        {
            Some((_, _, ps)) => ps.push(p),
            None => by_server.push((f.server.as_ref(), f.role, vec![p])),
        }
    }
    for (server, role, errors) in by_server {
        // Runs of errors less than a minute apart; a run is a burst when some minute of it holds
        // SERVER_BURST of them.
        let mut i = 0;
        while i < errors.len() {
            let mut end = i;
            while end + 1 < errors.len() && ms(&sessions[errors[end + 1]]) - ms(&sessions[errors[end]]) <= 60_000 {
                end += 1;
            }
            let run = &errors[i..=end];
            let mut densest = 0;
            let mut from = 0;
            for to in 0..run.len() {
                while ms(&sessions[run[to]]) - ms(&sessions[run[from]]) > 60_000 {
                    from += 1;
                }
                densest = densest.max(to + 1 - from);
            }
            if densest >= SERVER_BURST {
                let devices: std::collections::HashSet<&str> = run.iter().map(|&p| device_of(&sessions[p])).collect();
                let statuses: std::collections::BTreeSet<u16> =
                    run.iter().filter_map(|&p| sessions[p].http_status()).collect();
                let message = format!(
                    "{} HTTP 5xx ({}) from {server} ({}) between {} and {}, to {} device(s)",
                    run.len(),
                    statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(", "),
                    role.name(),
                    clock(&sessions[run[0]]),
                    clock(&sessions[run[run.len() - 1]]),
                    devices.len()
                );
                let severity = if devices.len() > 1 {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                emit(out, RuleId::IisServerErrors, severity, message, sessions, run);
            }
            i = end + 1;
        }
    }
}
