//! `easlens FILE` opens the desktop inspector on a capture; `easlens <subcommand> …` runs the CLI.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::run(args)
}
