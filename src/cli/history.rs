//! `easlens history FILE --item ID [--json] [--password P]`: every operation on one item across
//! the capture (found by ServerId, ClientId, UID, ConversationId, DstMsgId or FileReference, with
//! the items linked to it), what each Change changed, and what the device should show at the end.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use easlens_core::analysis::Analysis;
use easlens_core::analysis::folders::FolderNames;
use easlens_core::analysis::history::{self, FieldChange, HistoryEvent};
use serde::Serialize;

use easlens_core::report::{Layout, cut as shorten, terminal_safe};

mod both;

use super::{EXIT_NOT_FOUND, EXIT_UNREADABLE, open_capture, print_json};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A Fiddler archive (.saz) or HAR file.
    pub file: PathBuf,
    /// The item: a ServerId, ClientId, calendar UID, ConversationId, DstMsgId or FileReference.
    #[arg(long)]
    pub item: String,
    /// Password of an encrypted SAZ.
    #[arg(long)]
    pub password: Option<String>,
    /// Print a JSON array with one object per event instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The device's Exchange mailbox log (repeat for several dumps): adds Exchange's view of the
    /// item's operations, in the capture's clock.
    #[arg(long = "log")]
    pub logs: Vec<PathBuf>,
    /// The zone of the log's times, e.g. `+01:00` (see `easlens align`).
    #[arg(long, value_parser = super::align::parse_offset, allow_hyphen_values = true)]
    pub log_offset: Option<chrono::FixedOffset>,
}

/// One event as `--json` prints it.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    event: &'a HistoryEvent,
    /// The folder's display name, when the capture's FolderSync names it.
    collection_name: Option<&'a str>,
    /// For a Change: the fields that differ from the previous known version.
    changed_fields: &'a [FieldChange],
}

pub fn run(args: &HistoryArgs) -> ExitCode {
    let file = args.file.display();
    let capture = match open_capture(&args.file, args.password.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if !args.logs.is_empty() {
        return both::run(args, &capture);
    }
    let analysis = Analysis::new(&capture);
    let events = analysis.history().history(&capture, &args.item);
    if events.is_empty() {
        eprintln!(
            "easlens: {}: no item operation carries the id \"{}\" (a ServerId, ClientId, UID, ConversationId, DstMsgId or FileReference)",
            terminal_safe(&file.to_string(), Layout::Field),
            terminal_safe(&args.item, Layout::Field)
        );
        return ExitCode::from(EXIT_NOT_FOUND);
    }
    let changes = match history::changed_fields(&capture, &events) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("easlens: {}", terminal_safe(&format!("{file}: {e}"), Layout::Lines));
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let folders = analysis.folders();
    if args.json {
        let rows: Vec<Row<'_>> = events
            .iter()
            .zip(&changes)
            .map(|(event, changed_fields)| Row {
                event,
                collection_name: event.collection_id.as_deref().and_then(|c| folders.name(c)),
                changed_fields,
            })
            .collect();
        return print_json(&args.file, &rows);
    }
    print!(
        "{}",
        terminal_safe(&text(&args.item, &events, &changes, folders), Layout::Lines)
    );
    ExitCode::SUCCESS
}

/// Longest field value shown in the table.
const VALUE_MAX: usize = 60;

/// The table; values from the capture are escaped (and cut) as fields here, the whole text once more
/// by the caller.
fn text(item: &str, events: &[HistoryEvent], changes: &[Vec<FieldChange>], folders: &FolderNames) -> String {
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    let mut out = format!("History of {}: {} events\n", field(item), events.len());
    out += &format!(
        "{:<12} {:>6}  {:<6} {:<22} {:<16} {:<40} {}\n",
        "time", "#", "from", "action", "collection", "ids", "status"
    );
    for (e, changed) in events.iter().zip(changes) {
        let [time, from, action, collection, ids, status] = cells(e, folders);
        out += &format!(
            "{time:<12} {:>6}  {from:<6} {:<22} {:<16} {:<40} {status}\n",
            e.session,
            action,
            shorten(&collection, 16),
            ids,
        );
        out += &details(e, changed, 28);
    }
    out += &final_states(events, folders);
    out
}

/// The table's cells of one event: time, from, action, collection, ids, status.
/// The lines under an event's line, indented by `indent`: the subject, and each field a Change
/// changed.
fn details(e: &HistoryEvent, changed: &[FieldChange], indent: usize) -> String {
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    let mut out = String::new();
    if let Some(subject) = &e.subject {
        out += &format!("{:<indent$}{}\n", "", shorten(subject, 80));
    }
    for c in changed {
        let show = |v: &Option<String>| {
            v.as_deref()
                .map_or_else(|| "(none)".to_string(), |v| shorten(v, VALUE_MAX))
        };
        out += &format!(
            "{:<indent$}changed {}: {} → {}\n",
            "",
            field(&c.path),
            show(&c.old),
            show(&c.new)
        );
    }
    out
}

/// What the device should show at the end of the capture, after `events`.
fn final_states(events: &[HistoryEvent], folders: &FolderNames) -> String {
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    let mut out = "\nExpected on the device at the end of the capture:\n".to_string();
    for s in history::final_states(events, folders) {
        out += &format!("  {} — {:?}: {}\n", field(&s.item), s.expected, field(&s.explanation));
    }
    out
}

fn cells(e: &HistoryEvent, folders: &FolderNames) -> [String; 6] {
    let time = e
        .time
        .map_or_else(|| "-".to_string(), |t| t.format("%H:%M:%S%.3f").to_string());
    let from = match e.direction {
        history::Direction::Client => "device",
        history::Direction::Server => "server",
    };
    let action = if e.reply {
        format!("{} (reply)", e.action)
    } else {
        e.action.to_string()
    };
    let collection = e
        .collection_id
        .as_deref()
        .map_or_else(|| "-".into(), |c| folders.label(c));
    let mut ids = Vec::new();
    for (label, v) in [
        ("ServerId", &e.server_id),
        ("ClientId", &e.client_id),
        ("→", &e.dst_server_id),
        ("UID", &e.uid),
        ("FileReference", &e.file_reference),
    ] {
        if let Some(v) = v {
            ids.push(format!("{label} {}", shorten(v, 24)));
        }
    }
    let status = match (e.status, e.status_name) {
        (Some(v), Some(name)) => format!("{v} {name}"),
        (Some(v), None) => v.to_string(),
        (None, _) => match e.http_status {
            Some(code) if !(200..300).contains(&code) => format!("HTTP {code}"),
            None => "no response".into(),
            _ => "-".into(),
        },
    };
    [time, from.to_string(), action, collection, ids.join(", "), status]
}
