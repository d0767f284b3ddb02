//! `easlens samples [--out DIR]` writes the bundled sample captures (the files in `samples/`);
//! `easlens samples --big N --out FILE [--small]` writes an N-session capture for benchmarks;
//! `easlens samples --big-iis BYTES --out FILE` writes an Exchange IIS log of about BYTES.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use easlens_samples::sets::{self, BigShape, write_big_iis, write_big_shaped, write_sample_set};

use super::EXIT_UNREADABLE;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BigFormat {
    Saz,
    Har,
}

#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// Output directory (default `samples/`), or the output file with `--big` or `--big-iis`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one capture of N sessions (Sync responses of 1-50 KB) instead of the sample set.
    #[arg(long, value_name = "N")]
    pub big: Option<usize>,
    /// Format of the `--big` capture.
    #[arg(long, value_enum, default_value = "saz")]
    pub format: BigFormat,
    /// Seed of the `--big` capture or the `--big-iis` log (the same seed writes the same file).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bodies of the `--big` capture of a few hundred bytes instead of 1-50 KB (many small sessions).
    #[arg(long, requires = "big")]
    pub small: bool,
    /// Write one Exchange IIS log (W3C, front-end and back-end lines of thousands of devices) of
    /// about BYTES instead of the sample set.
    #[arg(long, value_name = "BYTES", conflicts_with = "big")]
    pub big_iis: Option<u64>,
}

pub fn run(args: &SamplesArgs) -> ExitCode {
    let result = match (args.big, args.big_iis) {
        (_, Some(bytes)) => {
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("big-{bytes}.iis.log")));
            let started = std::time::Instant::now();
            write_big_iis(&out, bytes, args.seed).map(|lines| {
                let seconds = started.elapsed().as_secs_f64();
                let len = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
                println!(
                    "{lines} lines, {len} bytes written to {} in {seconds:.2} s ({:.0} MB/s)",
                    out.display(),
                    len as f64 / 1e6 / seconds.max(1e-9)
                );
            })
        }
        (Some(n), None) => {
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("big-{n}.saz")));
            let format = match args.format {
                BigFormat::Saz => sets::BigFormat::Saz,
                BigFormat::Har => sets::BigFormat::Har,
            };
            let shape = if args.small { BigShape::Small } else { BigShape::Large };
            write_big_shaped(&out, n, args.seed, format, shape)
                .map(|()| println!("{n} sessions written to {}", out.display()))
        }
        (None, None) => write_sample_set(args.out.as_deref().unwrap_or(Path::new("samples"))).map(|written| {
            for p in &written {
                let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                println!("{:>9} bytes  {}", len, p.display());
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: {e:#}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}
