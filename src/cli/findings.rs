//! `easlens findings FILE [--log LOG …] [--json] [--password P] [--min-severity S]`: the failure
//! patterns of a capture, most severe first (with the device's mailbox logs, also those that need
//! both sources); and `easlens synckeys FILE [--json]`: the SyncKey chain of every
//! collection. Exit 0 when the capture opened (whatever was found), 1 when it could not be opened.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use easlens_core::analysis::findings::{Finding, Severity, ranges};
use easlens_core::analysis::synckey::{Chain, Link, Mark};
use easlens_core::analysis::{Analysis, align};
use easlens_core::report::{Layout, terminal_safe};

use super::{open_capture, print_json};

mod both;

/// Width the explanations are wrapped to.
const WRAP: usize = 100;

#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// A Fiddler archive (.saz) or HAR file.
    pub file: PathBuf,
    /// Password of an encrypted SAZ.
    #[arg(long)]
    pub password: Option<String>,
    /// Print a JSON array with one object per finding instead of text.
    #[arg(long)]
    pub json: bool,
    /// Leave out findings less severe than this: info (all), warning or error.
    #[arg(long, default_value = "info")]
    pub min_severity: Severity,
    /// The device's Exchange mailbox log (repeat for several dumps): adds the findings that need
    /// both the capture and the log.
    #[arg(long = "log")]
    pub logs: Vec<PathBuf>,
    /// The zone of the log's times, e.g. `+01:00` (see `easlens align`).
    #[arg(long, value_parser = super::align::parse_offset, allow_hyphen_values = true)]
    pub log_offset: Option<chrono::FixedOffset>,
}

#[derive(Debug, Args)]
pub struct SyncKeysArgs {
    /// A Fiddler archive (.saz) or HAR file.
    pub file: PathBuf,
    /// Password of an encrypted SAZ.
    #[arg(long)]
    pub password: Option<String>,
    /// Print the chains as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The device's Exchange mailbox log (repeat for several dumps): adds Exchange's chain of each
    /// collection and where the two disagree.
    #[arg(long = "log")]
    pub logs: Vec<PathBuf>,
    /// The zone of the log's times, e.g. `+01:00` (see `easlens align`).
    #[arg(long, value_parser = super::align::parse_offset, allow_hyphen_values = true)]
    pub log_offset: Option<chrono::FixedOffset>,
}

pub fn run(args: &FindingsArgs) -> ExitCode {
    let capture = match open_capture(&args.file, args.password.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let analysis = Analysis::new(&capture);
    let mut all = analysis.findings().clone();
    if !args.logs.is_empty() {
        let log = match super::align::open_logs(&args.logs, args.log_offset) {
            Ok(c) => c,
            Err(code) => return code,
        };
        let alignment = align::align(&capture, &log, args.log_offset.map(|_| 0));
        align::add_findings(&mut all, &capture, &log, &alignment);
    }
    let shown: Vec<&Finding> = all
        .findings
        .iter()
        .filter(|f| f.severity <= args.min_severity)
        .collect();
    if args.json {
        return print_json(&args.file, &shown);
    }
    let mut out = format!(
        "{} — {} sessions: {} error(s), {} warning(s), {} info\n",
        args.file.display(),
        capture.sessions.len(),
        all.errors,
        all.warnings,
        all.infos
    );
    if shown.is_empty() {
        out += "\nNothing to report.\n";
    }
    for f in shown {
        out += &format!("\n{}", text(f));
    }
    print!("{}", terminal_safe(&out, Layout::Lines));
    ExitCode::SUCCESS
}

pub fn run_synckeys(args: &SyncKeysArgs) -> ExitCode {
    let capture = match open_capture(&args.file, args.password.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let analysis = Analysis::new(&capture);
    let chains = analysis.chains();
    if !args.logs.is_empty() {
        let log = match super::align::open_logs(&args.logs, args.log_offset) {
            Ok(c) => c,
            Err(code) => return code,
        };
        return both::run_synckeys(args, &capture, chains, &log);
    }
    if args.json {
        return print_json(&args.file, &chains.chains);
    }
    let mut out = format!("{} — {} SyncKey chain(s)\n", args.file.display(), chains.chains.len());
    for chain in &chains.chains {
        out += &chain_heading(chain);
        for l in &chain.links {
            out += &link_line(l, "");
        }
    }
    print!("{}", terminal_safe(&out, Layout::Lines));
    ExitCode::SUCCESS
}

/// The line that names a chain's collection (or the folder hierarchy) and device.
fn chain_heading(chain: &Chain) -> String {
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    let (kind, collection) = if chain.hierarchy {
        ("FolderSync", String::new())
    } else {
        ("Collection", field(&chain.collection))
    };
    let device = if chain.device.is_empty() {
        String::new()
    } else {
        format!(" — device {}", field(&chain.device))
    };
    format!("\n{kind} {collection}{device}\n")
}

/// One link of a chain as a line; `prefix` goes before the session number (`log #`).
fn link_line(l: &Link, prefix: &str) -> String {
    let field = |s: &str| terminal_safe(s, Layout::Field).into_owned();
    // The key column says it; the marks repeat only what it does not.
    let unchanged = l.has(Mark::KeyUnchanged);
    let marks: Vec<String> = l
        .marks
        .iter()
        .filter(|m| **m != Mark::KeyUnchanged)
        .map(|m| {
            serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let response = match &l.response_key {
        Some(k) => field(k),
        None if unchanged => "key unchanged".into(),
        None => "-".into(),
    };
    format!(
        "{:>6}  {:<12} {:>4}  {:>12} → {:<12} {:>6}  {}\n",
        format!("{prefix}{}", l.session),
        l.time.map_or("-".into(), |t| t.format("%H:%M:%S%.3f").to_string()),
        l.http_status.map_or("-".into(), |c| c.to_string()),
        l.request_key.as_deref().map_or("-".into(), field),
        response,
        l.status.map_or(String::new(), |s| format!("st {s}")),
        marks.join(" ")
    )
}

/// One finding as text: severity, rule and title; sessions and times; message; explanation.
fn text(f: &Finding) -> String {
    let times = match (f.first, f.last) {
        (Some(a), Some(b)) if a != b => format!(" · {}–{}", a.format("%H:%M:%S"), b.format("%H:%M:%S")),
        (Some(a), _) => format!(" · {}", a.format("%H:%M:%S")),
        _ => String::new(),
    };
    let word = if f.sessions.len() == 1 { "session" } else { "sessions" };
    // The item's id, for `easlens history FILE ID`.
    let item = f
        .item
        .as_deref()
        .map(|id| format!(" · item {}", terminal_safe(id, Layout::Field)))
        .unwrap_or_default();
    let mut out = format!(
        "{:<7} {} — {}\n  {word} {}{times}{item}\n",
        f.severity.name().to_uppercase(),
        f.rule,
        f.title,
        ranges(&f.sessions)
    );
    for line in wrap(&terminal_safe(&f.message, Layout::Field), WRAP - 2) {
        out += &format!("  {line}\n");
    }
    for line in wrap(f.explanation, WRAP - 4) {
        out += &format!("    {line}\n");
    }
    out
}

/// Greedy word wrap.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
