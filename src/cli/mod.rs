//! Command-line interface: argument parsing (clap) and one module per subcommand. Each
//! subcommand prints its result to stdout and problems to stderr, prefixed with the file name.
//!
//! Text goes through `report::terminal_safe` once, at the edge (stdout and stderr alike), so that no
//! control, C1 or bidi character from a capture reaches the terminal; a column that is cut is cut
//! on the escaped text (`report::cut`). JSON is written as serde_json escapes it.

mod align;
mod decode;
mod findings;
mod history;
mod iis;
mod redact;
mod report;
mod samples;
mod session_range;
mod sessions;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use easlens_core::capture::{self, Capture, OpenOptions, PasswordPrompt};
use easlens_core::report::{Layout, terminal_safe};
use serde::Serialize;

/// Exit status for malformed input: the partial result is printed, the error goes to stderr.
pub const EXIT_MALFORMED: u8 = 2;
/// Exit status when the input cannot be read at all.
pub const EXIT_UNREADABLE: u8 = 1;
/// Exit status when what was asked for is not in the input (`history --item` with an unknown id).
pub const EXIT_NOT_FOUND: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "easlens",
    version,
    about = "Inspect Exchange ActiveSync traffic: SAZ/HAR captures, WBXML bodies, EAS status codes",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A capture (.saz or .har) to open in the desktop inspector.
    pub file: Option<PathBuf>,
    /// An Exchange mailbox log of the same device to add to FILE in the inspector (as File ▸ Add
    /// mailbox log…).
    #[arg(long, requires = "file")]
    pub log: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode an ActiveSync WBXML body (or a multipart ItemOperations body) to XML.
    Decode(decode::DecodeArgs),
    /// List the sessions of a SAZ or HAR capture with their EAS command, statuses and highlights.
    Sessions(sessions::SessionsArgs),
    /// Every operation on one item (by ServerId, ClientId, UID, ConversationId…) and its expected final state.
    History(history::HistoryArgs),
    /// Report the known failure patterns of a capture (throttling, SyncKey resets, policy loops, …).
    Findings(findings::FindingsArgs),
    /// Show each collection's SyncKey chain (request key → response key) with what is wrong.
    Synckeys(findings::SyncKeysArgs),
    /// Line a capture up with the Exchange mailbox log of the same device.
    Align(align::AlignArgs),
    /// Write the capture (or chosen sessions) with personal data replaced by pseudonyms, as a SAZ
    /// or HAR a vendor can be sent.
    Redact(redact::RedactArgs),
    /// Write an evidence report (HTML or Markdown) of a capture for a vendor ticket.
    Report(report::ReportArgs),
    /// Answer the Log Parser Studio questions over Exchange IIS logs (users, sendmail, synckey0,
    /// synckeys, http-status, eas-status, errors, throttling, hourly, …).
    IisReport(iis::IisReportArgs),
    /// Write the ActiveSync lines of Exchange IIS logs, decoded, as a Parquet file for DuckDB,
    /// Spark or any SQL engine.
    IisExport(iis::IisExportArgs),
    /// Write the bundled sample captures, or a big capture for benchmarks (`--big N`).
    Samples(samples::SamplesArgs),
}

/// Opens a capture for a subcommand: `password` answers the first prompt of an encrypted SAZ;
/// warnings go to stderr. On failure the message is printed and the exit status returned.
fn open_capture(file: &Path, password: Option<&str>) -> Result<Capture, ExitCode> {
    let ask = |prompt: &PasswordPrompt| {
        if prompt.attempt == 1 {
            password.map(str::to_string)
        } else {
            None
        }
    };
    let options = OpenOptions {
        password: Some(&ask),
        ..Default::default()
    };
    let capture = capture::open(file, &options).map_err(|e| {
        eprintln!("easlens: {}", terminal_safe(&e.to_string(), Layout::Lines));
        ExitCode::from(EXIT_UNREADABLE)
    })?;
    for w in &capture.warnings {
        let line = format!("{}: warning: {w}", file.display());
        eprintln!("easlens: {}", terminal_safe(&line, Layout::Lines));
    }
    Ok(capture)
}

/// Prints `value` as pretty JSON on stdout, written as it is serialized (a capture of millions of
/// sessions is never held as one string): success, or (naming the file) the exit status when it
/// cannot be written.
fn print_json(file: &Path, value: &impl Serialize) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: {}: cannot write JSON: {e}", file.display());
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// `easlens findings FILE | head` closes the pipe early: a command-line tool then ends quietly,
/// as `cat` does, instead of `println!` panicking on the write error. Only for the subcommands:
/// the window keeps Rust's default (ignored SIGPIPE), so a closed D-Bus socket cannot kill it.
fn exit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread is spawned; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn run(cli: Cli) -> ExitCode {
    if cli.command.is_some() {
        exit_quietly_on_closed_pipe();
    }
    match cli.command {
        Some(Command::Decode(args)) => decode::run(&args),
        Some(Command::IisReport(args)) => iis::run(&args),
        Some(Command::IisExport(args)) => iis::run_export(&args),
        Some(Command::Sessions(args)) => sessions::run(&args),
        Some(Command::History(args)) => history::run(&args),
        Some(Command::Findings(args)) => findings::run(&args),
        Some(Command::Synckeys(args)) => findings::run_synckeys(&args),
        Some(Command::Align(args)) => align::run(&args),
        Some(Command::Redact(args)) => redact::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        Some(Command::Samples(args)) => samples::run(&args),
        // No subcommand: the desktop inspector, on FILE or on its empty state.
        None => easlens_app::run(cli.file, cli.log),
    }
}
