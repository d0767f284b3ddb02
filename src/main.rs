//! `easlens FILE` opens the desktop inspector on a capture; `easlens <subcommand> …` runs the CLI.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: easlens::alloc::MiMalloc = easlens::alloc::MiMalloc;

fn main() -> ExitCode {
    easlens::alloc::return_freed_memory_promptly();
    let args = cli::Cli::parse();
    cli::run(args)
}
