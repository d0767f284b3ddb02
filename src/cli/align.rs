//! `easlens align TRACE LOG [LOG2 …] [--log-offset ±HH:MM] [--json]`: the device's capture lined
//! up with Exchange's mailbox log of it — which requests reached Exchange, what Exchange
//! answered, whether the device got it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::FixedOffset;
use clap::Args;
use easlens_core::analysis::align::{Alignment, PairKind, align};
use easlens_core::capture::{self, Capture, LabelStyle, OpenOptions};
use easlens_core::readers::mailbox_log;
use easlens_core::report::{Layout, cut, terminal_safe};

use super::{EXIT_UNREADABLE, open_capture, print_json};

#[derive(Debug, Args)]
pub struct AlignArgs {
    /// The device's capture (.saz or .har).
    pub trace: PathBuf,
    /// The mailbox log(s) of the device (several dumps, or a folder of them).
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// The zone of the log's times (server local time, written without one), e.g. `+01:00`;
    /// without it the offset is estimated from the requests.
    #[arg(long, value_parser = parse_offset, allow_hyphen_values = true)]
    pub log_offset: Option<FixedOffset>,
    /// Password of an encrypted SAZ.
    #[arg(long)]
    pub password: Option<String>,
    /// Print the alignment as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `±HH:MM` (or `±HH`, `Z`) as an offset east of UTC.
pub fn parse_offset(text: &str) -> Result<FixedOffset, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0).ok_or_else(|| "zero offset".into());
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(format!("{text:?}: expected ±HH:MM, e.g. +01:00")),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = match (h.parse(), m.parse()) {
        (Ok(h), Ok(m)) if (0..24).contains(&h) && (0..60).contains(&m) => (h, m),
        _ => return Err(format!("{text:?}: expected ±HH:MM, e.g. +01:00")),
    };
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(|| format!("{text:?}: out of range"))
}

/// Opens the mailbox logs as one capture, printing what went wrong.
pub fn open_logs(logs: &[PathBuf], offset: Option<FixedOffset>) -> Result<Capture, ExitCode> {
    let options = OpenOptions {
        log_offset: offset,
        ..Default::default()
    };
    let paths: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();
    let capture = capture::open_logs(&paths, &options).map_err(|e| {
        eprintln!("easlens: {}", terminal_safe(&e.to_string(), Layout::Lines));
        ExitCode::from(EXIT_UNREADABLE)
    })?;
    for w in &capture.warnings {
        eprintln!("easlens: {}", terminal_safe(&format!("warning: {w}"), Layout::Lines));
    }
    Ok(capture)
}

pub fn run(args: &AlignArgs) -> ExitCode {
    let trace = match open_capture(&args.trace, args.password.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let log = match open_logs(&args.logs, args.log_offset) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // With the zone given, only the skew is left to find.
    let alignment = align(&trace, &log, args.log_offset.map(|_| 0));
    if args.json {
        return print_json(&args.trace, &json(&trace, &log, &alignment));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write_table(&mut out, &trace, &log, &alignment).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: cannot write the alignment: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The JSON contract: `trace_session` is the session's `index` as `easlens sessions` prints it,
/// `log_identifier` the entry's Identifier.
fn json(trace: &Capture, log: &Capture, a: &Alignment) -> serde_json::Value {
    let pairs: Vec<serde_json::Value> = a
        .pairs
        .iter()
        .map(|p| {
            serde_json::json!({
                "trace_session": p.trace.map(|t| trace.sessions[t].index),
                "log_identifier": p.log.and_then(|l| identifier(log, l)),
                "kind": p.kind,
                "differences": p.differences,
            })
        })
        .collect();
    serde_json::json!({ "clock_offset_seconds": a.clock_offset_seconds, "pairs": pairs })
}

/// A log entry's Identifier as Exchange writes it (8 upper-case hex digits).
fn identifier(log: &Capture, l: usize) -> Option<String> {
    mailbox_log::identifier(&log.sessions[l])
}

fn write_table(out: &mut impl Write, trace: &Capture, log: &Capture, a: &Alignment) -> std::io::Result<()> {
    let mut line = |text: String| out.write_all(terminal_safe(&text, Layout::Lines).as_bytes());
    let offset = a.clock_offset_seconds;
    let (sign, h, m, s) = (
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 3600,
        offset.abs() / 60 % 60,
        offset.abs() % 60,
    );
    line(format!(
        "{} against {} ({} log entries): the log's clock is {sign}{h}:{m:02}:{s:02} from the trace's\n",
        trace.path.display(),
        log.path.display(),
        log.sessions.len()
    ))?;
    line(format!(
        "{:>6}  {:<9} {:<18} {:>5} {:>5}  {}\n",
        "trace", "log", "command", "dev", "exch", "differences"
    ))?;
    for p in &a.pairs {
        let session = p.trace.map(|t| &trace.sessions[t]).or(p.log.map(|l| &log.sessions[l]));
        let command = session.map_or_else(String::new, |s| s.command_label(LabelStyle::CLI));
        let status = |c: Option<&capture::Session>| {
            c.and_then(|s| s.http_status())
                .map_or("-".to_string(), |c| c.to_string())
        };
        let what = match p.kind {
            PairKind::Matched => p.differences.join("; "),
            PairKind::TraceOnly => "not in the log: did not reach Exchange".to_string(),
            PairKind::LogOnly => "not in the trace".to_string(),
        };
        line(format!(
            "{:>6}  {:<9} {:<18} {:>5} {:>5}  {}\n",
            p.trace.map_or("-".to_string(), |t| trace.sessions[t].index.to_string()),
            p.log.and_then(|l| identifier(log, l)).unwrap_or_else(|| "-".into()),
            cut(&command, 18),
            status(p.trace.map(|t| &trace.sessions[t])),
            status(p.log.map(|l| &log.sessions[l])),
            what
        ))?;
    }
    Ok(())
}
