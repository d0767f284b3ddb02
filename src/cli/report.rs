//! `easlens report FILE [--log LOG …] [--log-offset ±HH:MM] [--sessions 3,5-9] [--findings]
//! [--redact | --no-redact] -o OUT.html|OUT.md`: the evidence report a support engineer mails to
//! a phone vendor, written by the engine (`report::build`, `report::write_report`: HTML, or
//! Markdown with its timeline beside it as `OUT.timeline.svg`). Personal data is replaced by
//! pseudonyms (`redact::Redactor`, capture and log with one map) unless `--no-redact`. Prints the
//! paths written. Exit 0 when written, 1 when an input cannot be opened or the report cannot be
//! written, 2 for a bad argument.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use easlens_core::report::{self, Layout, ReportOptions, Scope, terminal_safe};

use super::session_range::SessionRanges;
use super::{EXIT_UNREADABLE, open_capture};

/// Exit status for a bad argument: an output that is not .html or .md, or is an input file, or a
/// session the capture does not have (clap's own status for arguments it rejects).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The device's capture (.saz or .har), or a mailbox log.
    pub file: PathBuf,
    /// The device's Exchange mailbox log (repeat for several dumps): each evidence session shows
    /// the log entry it is matched with, and the findings that need both sources join.
    #[arg(long = "log")]
    pub logs: Vec<PathBuf>,
    /// The zone of the log's times, e.g. `+01:00` (see `easlens align`).
    #[arg(long, value_parser = super::align::parse_offset, allow_hyphen_values = true)]
    pub log_offset: Option<chrono::FixedOffset>,
    /// The sessions to show in full, by the numbers `easlens sessions` prints: `3,5-9`.
    #[arg(long)]
    pub sessions: Option<SessionRanges>,
    /// Include the findings; without --sessions, the sessions they cite are the evidence.
    #[arg(long)]
    pub findings: bool,
    /// The report's title (by default it names the capture).
    #[arg(long)]
    pub title: Option<String>,
    /// Password of an encrypted SAZ.
    #[arg(long)]
    pub password: Option<String>,
    /// Replace personal data by pseudonyms (the default).
    #[arg(long, overrides_with = "no_redact")]
    pub redact: bool,
    /// Keep personal data: the report then says, at the top, that it holds some.
    #[arg(long, overrides_with = "redact")]
    pub no_redact: bool,
    /// Where to write the report: `.html` (one self-contained file) or `.md` (with
    /// `OUT.timeline.svg` beside it).
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

pub fn run(args: &ReportArgs) -> ExitCode {
    let fail = |message: String, code: u8| {
        eprintln!("easlens: {}", terminal_safe(&message, Layout::Lines));
        ExitCode::from(code)
    };
    // A wrong extension is said before any capture is opened.
    if let Err(e) = report::OutputFormat::from_path(&args.out) {
        return fail(e.to_string(), EXIT_USAGE);
    }
    let capture = match open_capture(&args.file, args.password.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let log = if args.logs.is_empty() {
        None
    } else {
        match super::align::open_logs(&args.logs, args.log_offset) {
            Ok(c) => Some(c),
            Err(code) => return code,
        }
    };
    let scope = match &args.sessions {
        None => Scope::All,
        Some(ranges) => match ranges.positions(&capture) {
            Ok(p) => Scope::Sessions(p),
            Err(e) => return fail(format!("{}: {e}", args.file.display()), EXIT_USAGE),
        },
    };
    let redacted = !args.no_redact;
    let (capture, log) = if redacted {
        let mut redactor = easlens_core::redact::Redactor::new();
        let c = redactor.capture(&capture, None);
        let l = log.map(|l| redactor.capture(&l, None));
        (c, l)
    } else {
        (capture, log)
    };
    let options = ReportOptions {
        scope,
        findings: args.findings,
        redacted,
        title: args.title.clone(),
        // With the zone given, only the skew is left to find (as `easlens align`).
        log_clock_offset: args.log_offset.map(|_| 0),
    };
    let built = report::build(&capture, log.as_ref(), &options);
    let mut inputs: Vec<&Path> = vec![args.file.as_path()];
    inputs.extend(args.logs.iter().map(PathBuf::as_path));
    match report::write_report(&built, &args.out, &inputs) {
        Ok(written) => {
            for path in written {
                println!("{}", terminal_safe(&path.display().to_string(), Layout::Lines));
            }
            ExitCode::SUCCESS
        }
        Err(e @ report::ReportError::Write { .. }) => fail(e.to_string(), EXIT_UNREADABLE),
        Err(e) => fail(e.to_string(), EXIT_USAGE),
    }
}
