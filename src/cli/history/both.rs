//! `easlens history TRACE --item ID --log LOG …`: the item's operations as the device's capture
//! shows them and as Exchange's mailbox log shows them, interleaved in the capture's clock.
//!
//! An operation of a log entry that the alignment matched to a trace session, and that the trace
//! session also carries (same direction, action, ServerId and ClientId), is *paired*: in JSON the
//! log event names the trace session (`trace_session`); in the table it is not a line of its own
//! but the `exchange` column of the trace event's line.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::{DateTime, Duration, FixedOffset};
use easlens_core::analysis::align::{PairKind, align};
use easlens_core::analysis::history::{self, FieldChange, HistoryEvent};
use easlens_core::analysis::{Analysis, folders::FolderNames};
use easlens_core::capture::Capture;
use easlens_core::report::{Layout, cut as shorten, terminal_safe};
use serde::Serialize;

use super::{EXIT_NOT_FOUND, EXIT_UNREADABLE, HistoryArgs, cells, details, final_states, print_json};

/// Where an event was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The device's capture.
    Trace,
    /// Exchange's mailbox log.
    MailboxLog,
}

/// One event as `--json` prints it with `--log`.
#[derive(Debug, Serialize)]
struct Row<'a> {
    source: Source,
    #[serde(flatten)]
    event: &'a HistoryEvent,
    /// A log event: its time as the log wrote it (`time` is in the capture's clock).
    log_time: Option<DateTime<FixedOffset>>,
    /// A log event paired with the same operation of a trace session: that session's number.
    trace_session: Option<u32>,
    collection_name: Option<&'a str>,
    changed_fields: &'a [FieldChange],
}

/// The events of both sources, in the order they are shown.
struct Merged {
    trace: Vec<HistoryEvent>,
    /// The log's events with `time` shifted into the capture's clock.
    log: Vec<HistoryEvent>,
    log_times: Vec<Option<DateTime<FixedOffset>>>,
    /// Per log event, the trace event it is paired with.
    partner: Vec<Option<usize>>,
    /// (source, index) in display order.
    order: Vec<(Source, usize)>,
    clock_offset_seconds: i64,
}

/// Time (ms), trace or paired (0) before unpaired log (1), position, trace (0) before its log (1).
type SortKey = (i64, u8, usize, u8);

/// Same operation: direction, action, reply and the ids both name.
fn same(a: &HistoryEvent, b: &HistoryEvent, strict: bool) -> bool {
    a.direction == b.direction
        && a.action == b.action
        && a.reply == b.reply
        && (!strict || (a.server_id == b.server_id && a.client_id == b.client_id))
}

fn merge(
    capture: &Capture,
    log: &Capture,
    trace: Vec<HistoryEvent>,
    mut log_events: Vec<HistoryEvent>,
    offset: Option<i64>,
) -> Merged {
    let alignment = align(capture, log, offset);
    let clock = alignment.clock_offset_seconds;
    let matched: HashMap<usize, usize> = alignment
        .pairs
        .iter()
        .filter(|p| p.kind == PairKind::Matched)
        .filter_map(|p| Some((p.log?, p.trace?)))
        .collect();
    let mut used = vec![false; trace.len()];
    let mut partner = vec![None; log_events.len()];
    for (i, le) in log_events.iter().enumerate() {
        let Some(&t) = matched.get(&le.position) else { continue };
        for strict in [true, false] {
            let found = trace
                .iter()
                .enumerate()
                .position(|(j, te)| !used[j] && te.position == t && same(te, le, strict));
            if let Some(j) = found {
                used[j] = true;
                partner[i] = Some(j);
                break;
            }
        }
    }
    // The log's times in the capture's clock (and zone, when the trace has one).
    let zone = trace.iter().find_map(|e| e.time.map(|t| *t.offset()));
    let log_times: Vec<_> = log_events.iter().map(|e| e.time).collect();
    for e in &mut log_events {
        e.time = e.time.map(|t| {
            let shifted = t - Duration::seconds(clock);
            zone.map_or(shifted, |z| shifted.with_timezone(&z))
        });
    }
    // Sort key: milliseconds (carried forward over events without a time), then trace before
    // unpaired log, then position; a paired log event right after its trace event.
    let ms = |events: &[HistoryEvent]| -> Vec<i64> {
        let mut last = i64::MIN;
        events
            .iter()
            .map(|e| {
                if let Some(t) = e.time {
                    last = t.timestamp_millis();
                }
                last
            })
            .collect()
    };
    let (tms, lms) = (ms(&trace), ms(&log_events));
    let mut keyed: Vec<(SortKey, (Source, usize))> = Vec::new();
    for (j, m) in tms.iter().enumerate() {
        keyed.push(((*m, 0, j, 0), (Source::Trace, j)));
    }
    for (i, m) in lms.iter().enumerate() {
        let key = match partner[i] {
            Some(j) => (tms[j], 0, j, 1),
            None => (*m, 1, i, 0),
        };
        keyed.push((key, (Source::MailboxLog, i)));
    }
    keyed.sort_by_key(|(k, _)| *k);
    Merged {
        trace,
        log: log_events,
        log_times,
        partner,
        order: keyed.into_iter().map(|(_, v)| v).collect(),
        clock_offset_seconds: clock,
    }
}

pub(super) fn run(args: &HistoryArgs, capture: &Capture) -> ExitCode {
    let file = args.file.display().to_string();
    let log = match crate::cli::align::open_logs(&args.logs, args.log_offset) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let analysis = Analysis::new(capture);
    let log_analysis = Analysis::new(&log);
    let trace_events = analysis.history().history(capture, &args.item);
    let log_events = log_analysis.history().history(&log, &args.item);
    if trace_events.is_empty() && log_events.is_empty() {
        eprintln!(
            "easlens: {}: neither the capture nor the mailbox log has an item operation with the id \"{}\" (a ServerId, ClientId, UID, ConversationId, DstMsgId or FileReference)",
            terminal_safe(&file, Layout::Field),
            terminal_safe(&args.item, Layout::Field)
        );
        return ExitCode::from(EXIT_NOT_FOUND);
    }
    let trace_changes = history::changed_fields(capture, &trace_events);
    let log_changes = history::changed_fields(&log, &log_events);
    let (trace_changes, log_changes) = match (trace_changes, log_changes) {
        (Ok(t), Ok(l)) => (t, l),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("easlens: {}", terminal_safe(&format!("{file}: {e}"), Layout::Lines));
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let merged = merge(capture, &log, trace_events, log_events, args.log_offset.map(|_| 0));
    // The trace's FolderSync names the folders; the log's, when the trace has none.
    let folders = analysis.folders();
    let log_folders = log_analysis.folders();
    let name = |c: &str| folders.name(c).or_else(|| log_folders.name(c));
    if args.json {
        let rows: Vec<Row<'_>> = merged
            .order
            .iter()
            .map(|&(source, i)| {
                let (event, changed_fields, log_time, trace_session) = match source {
                    Source::Trace => (&merged.trace[i], &trace_changes[i][..], None, None),
                    Source::MailboxLog => (
                        &merged.log[i],
                        &log_changes[i][..],
                        merged.log_times[i],
                        merged.partner[i].map(|j| merged.trace[j].session),
                    ),
                };
                Row {
                    source,
                    event,
                    log_time,
                    trace_session,
                    collection_name: event.collection_id.as_deref().and_then(name),
                    changed_fields,
                }
            })
            .collect();
        return print_json(&args.file, &rows);
    }
    let out = text(&args.item, &merged, &trace_changes, &log_changes, folders);
    print!("{}", terminal_safe(&out, Layout::Lines));
    ExitCode::SUCCESS
}

/// The table with a source column; a paired log event is the `exchange` column of its trace event.
fn text(
    item: &str,
    m: &Merged,
    trace_changes: &[Vec<FieldChange>],
    log_changes: &[Vec<FieldChange>],
    folders: &FolderNames,
) -> String {
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    let paired = m.partner.iter().flatten().count();
    let mut out = format!(
        "History of {}: {} events in the capture, {} in Exchange's mailbox log ({} paired); log clock {:+} s from the capture's, log times shown in the capture's clock\n",
        field(item),
        m.trace.len(),
        m.log.len(),
        paired,
        m.clock_offset_seconds
    );
    out += &format!(
        "{:<12} {:<8} {:>6}  {:<6} {:<22} {:<16} {:<40} {:<18} {}\n",
        "time", "source", "#", "from", "action", "collection", "ids", "status", "exchange"
    );
    // Trace event → its paired log event.
    let mut pair_of: HashMap<usize, usize> = HashMap::new();
    for (i, p) in m.partner.iter().enumerate() {
        if let Some(j) = p {
            pair_of.insert(*j, i);
        }
    }
    for &(source, i) in &m.order {
        let (e, changed, exchange) = match source {
            Source::Trace => {
                let exchange = match pair_of.get(&i) {
                    Some(&l) => {
                        let le = &m.log[l];
                        let te = &m.trace[i];
                        if le.status == te.status {
                            format!("= log #{}", le.session)
                        } else {
                            format!(
                                "= log #{}, status {}",
                                le.session,
                                le.status.map_or_else(|| "-".into(), |s| s.to_string())
                            )
                        }
                    }
                    None => String::new(),
                };
                (&m.trace[i], &trace_changes[i], exchange)
            }
            Source::MailboxLog if m.partner[i].is_some() => continue,
            Source::MailboxLog => (&m.log[i], &log_changes[i], "only in the log".to_string()),
        };
        let [time, from, action, collection, ids, status] = cells(e, folders);
        let src = match source {
            Source::Trace => "trace",
            Source::MailboxLog => "log",
        };
        out += &format!(
            "{time:<12} {src:<8} {:>6}  {from:<6} {:<22} {:<16} {:<40} {status:<18} {exchange}\n",
            e.session,
            action,
            shorten(&collection, 16),
            ids,
        );
        out += &details(e, changed, 37);
    }
    if !m.trace.is_empty() {
        out += &final_states(&m.trace, folders);
    }
    out
}
