//! `easlens FILE` opens the desktop inspector on a capture; `easlens <subcommand> …` runs the CLI.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: easlens_alloc::MiMalloc = easlens_alloc::MiMalloc;

fn main() -> ExitCode {
    easlens_alloc::return_freed_memory_promptly();
    let args = cli::Cli::parse();
    cli::run(args)
}
