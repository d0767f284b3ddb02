//! `easlens synckeys TRACE --log LOG …`: each collection's SyncKey chain as the device's capture
//! shows it and as Exchange's mailbox log shows it, and where the two disagree.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Duration, FixedOffset};
use easlens_core::analysis::align::align;
use easlens_core::analysis::synckey::{Chain, SyncKeyChains};
use easlens_core::capture::Capture;
use easlens_core::report::{Layout, terminal_safe};
use serde::Serialize;

use super::{SyncKeysArgs, chain_heading, link_line, print_json};

/// Where the two chains of a collection disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Disagreement {
    /// Exchange handed out `key` (log entry `log_session`) but the device never sent or received
    /// it: the response was lost on the way.
    NotReceived { key: String, log_session: u32 },
    /// The device sent `key` (trace session `trace_session`) but no request in the log carries it:
    /// the request did not reach Exchange (or reached another server).
    NotSeenByExchange { key: String, trace_session: u32 },
}

/// One collection with `--log`: the trace's chain (the shape without `--log`; `links` empty for a
/// collection only the log has), Exchange's chain and the disagreements.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    chain: Chain,
    /// Exchange's chain of the collection (times in the capture's clock), if the log has one.
    log_chain: Option<Chain>,
    disagreements: Vec<Disagreement>,
}

/// The time a capture covers (its sessions' starts and ends), shifted back by `shift` seconds.
fn span(capture: &Capture, shift: i64) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let times: Vec<_> = capture
        .sessions
        .iter()
        .flat_map(|s| [s.http.timers.started(), s.http.timers.client_done_response()])
        .flatten()
        .collect();
    let shift = Duration::seconds(shift);
    Some((*times.iter().min()? - shift, *times.iter().max()? - shift))
}

fn within(t: Option<DateTime<FixedOffset>>, span: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>) -> bool {
    match (t, span) {
        (Some(t), Some((a, b))) => a <= t && t <= b,
        // Without times, nothing says the link is outside the other source's span.
        _ => true,
    }
}

/// Where `trace` and `log` (times already in the capture's clock) disagree, within the time both
/// sources cover.
fn disagreements(
    trace: &[&Chain],
    log: Option<&Chain>,
    trace_span: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    log_span: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let trace_keys: HashSet<&str> = trace
        .iter()
        .flat_map(|c| &c.links)
        .flat_map(|l| [l.request_key.as_deref(), l.response_key.as_deref()])
        .flatten()
        .collect();
    let mut seen = HashSet::new();
    if let Some(log) = log {
        for l in &log.links {
            if let Some(k) = l.response_key.as_deref()
                && !trace_keys.contains(k)
                && within(l.time, trace_span)
                && seen.insert(k)
            {
                out.push(Disagreement::NotReceived {
                    key: k.to_string(),
                    log_session: l.session,
                });
            }
        }
    }
    let log_requests: HashSet<&str> = log
        .iter()
        .flat_map(|c| &c.links)
        .filter_map(|l| l.request_key.as_deref())
        .collect();
    let mut seen = HashSet::new();
    for l in trace.iter().flat_map(|c| &c.links) {
        if let Some(k) = l.request_key.as_deref()
            && !log_requests.contains(k)
            && within(l.time, log_span)
            && seen.insert(k)
        {
            out.push(Disagreement::NotSeenByExchange {
                key: k.to_string(),
                trace_session: l.session,
            });
        }
    }
    out
}

pub(super) fn run_synckeys(args: &SyncKeysArgs, capture: &Capture, chains: &SyncKeyChains, log: &Capture) -> ExitCode {
    let alignment = align(capture, log, args.log_offset.map(|_| 0));
    let clock = alignment.clock_offset_seconds;
    let zone = chains
        .chains
        .iter()
        .flat_map(|c| c.links.iter().filter_map(|l| l.time))
        .map(|t| *t.offset())
        .next();
    let mut log_chains = SyncKeyChains::build(log);
    for l in log_chains.chains.iter_mut().flat_map(|c| c.links.iter_mut()) {
        l.time = l.time.map(|t| {
            let shifted = t - Duration::seconds(clock);
            zone.map_or(shifted, |z| shifted.with_timezone(&z))
        });
    }
    let trace_span = span(capture, 0);
    let log_span = span(log, clock);
    // The log's chain of a trace chain: same collection, same device (or one of them without).
    let same = |t: &Chain, l: &Chain| {
        t.collection == l.collection
            && t.hierarchy == l.hierarchy
            && (t.device == l.device || t.device.is_empty() || l.device.is_empty())
    };
    let mut used = vec![false; log_chains.chains.len()];
    let mut rows = Vec::new();
    for t in &chains.chains {
        let found = log_chains
            .chains
            .iter()
            .enumerate()
            .position(|(i, l)| !used[i] && same(t, l));
        if let Some(i) = found {
            used[i] = true;
        }
        let log_chain = found.map(|i| log_chains.chains[i].clone());
        rows.push(Row {
            disagreements: disagreements(&[t], log_chain.as_ref(), trace_span, log_span),
            chain: t.clone(),
            log_chain,
        });
    }
    for (i, l) in log_chains.chains.iter().enumerate() {
        if used[i] {
            continue;
        }
        rows.push(Row {
            chain: Chain {
                links: Vec::new(),
                ..l.clone()
            },
            disagreements: disagreements(&[], Some(l), trace_span, log_span),
            log_chain: Some(l.clone()),
        });
    }
    if args.json {
        return print_json(&args.file, &rows);
    }
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    let mut out = format!(
        "{} — {} SyncKey chain(s); Exchange's mailbox log: {} chain(s), log clock {:+} s from the capture's, log times shown in the capture's clock\n",
        args.file.display(),
        chains.chains.len(),
        log_chains.chains.len(),
        clock
    );
    for row in &rows {
        let chain = &row.chain;
        out += &chain_heading(chain);
        out += "  capture:\n";
        if chain.links.is_empty() {
            out += "    (no request of the capture)\n";
        }
        for l in &chain.links {
            out += &format!("  {}", link_line(l, ""));
        }
        out += "  Exchange's mailbox log:\n";
        match &row.log_chain {
            None => out += "    (no entry of the log)\n",
            Some(c) => {
                for l in &c.links {
                    out += &format!("  {}", link_line(l, "log #"));
                }
            }
        }
        if row.disagreements.is_empty() {
            out += "  The two agree.\n";
        }
        for d in &row.disagreements {
            let _ = match d {
                Disagreement::NotReceived { key, log_session } => writeln!(
                    out,
                    "  ! Exchange handed out key {} (log #{log_session}) that the device never used or received",
                    field(key)
                ),
                Disagreement::NotSeenByExchange { key, trace_session } => writeln!(
                    out,
                    "  ! the device sent key {} (session {trace_session}) that no request in the log carries",
                    field(key)
                ),
            };
        }
    }
    print!("{}", terminal_safe(&out, Layout::Lines));
    ExitCode::SUCCESS
}
