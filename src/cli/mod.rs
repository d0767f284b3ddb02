//! Command-line interface: argument parsing (clap) and one module per subcommand. Each
//! subcommand prints its result to stdout and problems to stderr, prefixed with the file name.

mod decode;
mod samples;
mod sessions;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status for malformed input: the partial result is printed, the error goes to stderr.
pub const EXIT_MALFORMED: u8 = 2;
/// Exit status when the input cannot be read at all.
pub const EXIT_UNREADABLE: u8 = 1;

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
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode an ActiveSync WBXML body (or a multipart ItemOperations body) to XML.
    Decode(decode::DecodeArgs),
    /// List the sessions of a SAZ or HAR capture with their EAS command, statuses and highlights.
    Sessions(sessions::SessionsArgs),
    /// Write the bundled sample captures, or a big capture for benchmarks (`--big N`).
    Samples(samples::SamplesArgs),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Decode(args)) => decode::run(&args),
        Some(Command::Sessions(args)) => sessions::run(&args),
        Some(Command::Samples(args)) => samples::run(&args),
        // No subcommand: the desktop inspector, on FILE or on its empty state.
        None => easlens::app::run(cli.file),
    }
}
