//! `easlens samples [--out DIR]` writes the bundled sample captures (the files in `samples/`);
//! `easlens samples --big N --out FILE` writes an N-session capture for benchmarks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use easlens::samples::har_writer::{HarOptions, HarStyle, write_har, write_har_file};
use easlens::samples::saz_writer::{SazEncryption, SazOptions, SazWriter, write_saz_file};
use easlens::samples::scenarios;

use super::EXIT_UNREADABLE;

/// The password of the encrypted sample (`samples/policy-refresh-iphone-encrypted.saz`).
pub const SAMPLE_PASSWORD: &str = "easlens";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BigFormat {
    Saz,
    Har,
}

#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// Output directory (default `samples/`), or the output file with `--big`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one capture of N sessions (Sync responses of 1-50 KB) instead of the sample set.
    #[arg(long, value_name = "N")]
    pub big: Option<usize>,
    /// Format of the `--big` capture.
    #[arg(long, value_enum, default_value = "saz")]
    pub format: BigFormat,
    /// Seed of the `--big` capture (the same seed writes the same sessions).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: &SamplesArgs) -> ExitCode {
    let result = match args.big {
        Some(n) => {
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("big-{n}.saz")));
            write_big(&out, n, args.seed, args.format).with_context(|| format!("{}", out.display()))
        }
        None => write_sample_set(args.out.as_deref().unwrap_or(Path::new("samples"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: {e:#}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// The bundled samples: every scenario for both devices as a Fiddler SAZ, two conversations also
/// as HAR (Fiddler's lossy export, mitmproxy's recoverable one), and one AES-256 encrypted SAZ.
pub fn write_sample_set(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (stem, sessions) in scenarios::all_samples() {
        let saz = dir.join(format!("{stem}.saz"));
        write_saz_file(&saz, &sessions, &SazOptions::default()).with_context(|| format!("{}", saz.display()))?;
        written.push(saz);
        let har_style = match stem.as_str() {
            "healthy-iphone" => Some((HarStyle::Fiddler, "fiddler")),
            "policy-refresh-android" => Some((HarStyle::Mitmproxy, "mitmproxy")),
            _ => None,
        };
        if let Some((style, tag)) = har_style {
            let har = dir.join(format!("{stem}.{tag}.har"));
            write_har_file(&har, &sessions, &HarOptions::new(style)).with_context(|| format!("{}", har.display()))?;
            written.push(har);
        }
        if stem == "policy-refresh-iphone" {
            let enc = dir.join(format!("{stem}-encrypted.saz"));
            let options = SazOptions {
                password: Some((SAMPLE_PASSWORD.into(), SazEncryption::Aes256)),
                ..SazOptions::default()
            };
            write_saz_file(&enc, &sessions, &options).with_context(|| format!("{}", enc.display()))?;
            written.push(enc);
        }
    }
    for p in &written {
        let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        println!("{:>9} bytes  {}", len, p.display());
    }
    Ok(())
}

fn write_big(out: &Path, n: usize, seed: u64, format: BigFormat) -> Result<()> {
    if n == 0 {
        bail!("--big needs at least one session");
    }
    let file = std::fs::File::create(out).context("cannot create the file")?;
    match format {
        BigFormat::Saz => {
            let mut w = SazWriter::new(std::io::BufWriter::new(file), n, &SazOptions::default())?;
            for s in scenarios::big(n, seed) {
                w.write_session(&s)?;
            }
            w.finish()?;
        }
        BigFormat::Har => {
            let sessions: Vec<_> = scenarios::big(n, seed).collect();
            write_har(
                std::io::BufWriter::new(file),
                &sessions,
                &HarOptions::new(HarStyle::Mitmproxy),
            )?;
        }
    }
    println!("{n} sessions written to {}", out.display());
    Ok(())
}
