//! `easlens redact FILE -o OUT.saz|OUT.har [--password P] [--sessions 3,5-9] [--map MAP.json]`:
//! the capture (or the chosen sessions) with its personal data replaced by pseudonyms
//! (`redact::Redactor`), written as a SAZ Fiddler opens or a HAR browsers open
//! (`writers::export`). The pseudonym map goes to `--map` only, never into the capture.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use easlens_core::redact::Redactor;
use easlens_core::report::{Layout, terminal_safe};
use easlens_core::writers::{ExportFormat, ExportTarget, export, same_file};

use super::session_range::SessionRanges;
use super::{EXIT_NOT_FOUND, EXIT_UNREADABLE, open_capture};

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The capture to redact (.saz or .har); it is only read.
    pub file: PathBuf,
    /// Where to write the redacted capture: `.saz` or `.har` (the format follows the extension).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Protect the redacted SAZ with this password (AES-256, as Fiddler does); without it the
    /// SAZ is written unencrypted, whether or not FILE was.
    #[arg(long)]
    pub password: Option<String>,
    /// Password of FILE, when it is an encrypted SAZ.
    #[arg(long)]
    pub input_password: Option<String>,
    /// Only these sessions, by number as `easlens sessions` shows them: `3,5-9`.
    #[arg(long)]
    pub sessions: Option<SessionRanges>,
    /// Also write the pseudonym map (original → pseudonym) as JSON here: for you only, never
    /// for the vendor.
    #[arg(long)]
    pub map: Option<PathBuf>,
}

pub fn run(args: &RedactArgs) -> ExitCode {
    let fail = |message: String, code: u8| {
        eprintln!("easlens: {}", terminal_safe(&message, Layout::Lines));
        ExitCode::from(code)
    };
    let Some(format) = ExportFormat::from_path(&args.output) else {
        return fail(
            format!(
                "{}: the output must end in .saz or .har (the format follows the extension)",
                args.output.display()
            ),
            EXIT_UNREADABLE,
        );
    };
    if let Some(map) = &args.map
        && (same_file(&args.file, map) || same_file(&args.output, map) || map == &args.output)
    {
        return fail(
            format!("{}: the map must go to a file of its own", map.display()),
            EXIT_UNREADABLE,
        );
    }
    let capture = match open_capture(&args.file, args.input_password.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let chosen = match args
        .sessions
        .as_ref()
        .map_or_else(|| Ok((0..capture.sessions.len()).collect()), |s| s.positions(&capture))
    {
        Ok(p) => p,
        Err(e) => return fail(format!("{}: {e}", args.file.display()), EXIT_NOT_FOUND),
    };
    let mut redactor = Redactor::new();
    let redacted = redactor.capture(&capture, Some(&chosen));
    drop(capture);
    let all: Vec<usize> = (0..redacted.sessions.len()).collect();
    let target = ExportTarget {
        path: args.output.clone(),
        format,
        password: args.password.clone(),
    };
    let summary = match export(&redacted, &all, &target) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string(), EXIT_UNREADABLE),
    };
    if let Some(map) = &args.map
        && let Err(e) = write_map(map, &redactor.map_json())
    {
        return fail(e, EXIT_UNREADABLE);
    }
    for note in &summary.notes {
        eprintln!(
            "easlens: {}",
            terminal_safe(&format!("{}: note: {note}", args.output.display()), Layout::Lines)
        );
    }
    println!(
        "{}",
        terminal_safe(
            &format!(
                "Wrote {} ({} session{}, personal data replaced by {} pseudonyms{})",
                summary.path.display(),
                summary.sessions,
                if summary.sessions == 1 { "" } else { "s" },
                redactor.pseudonyms().entries().len(),
                if args.password.is_some() {
                    ", password-protected"
                } else {
                    ""
                },
            ),
            Layout::Lines
        )
    );
    if let Some(map) = &args.map {
        println!(
            "{}",
            terminal_safe(
                &format!(
                    "Wrote the pseudonym map to {} (keep it: it is not redacted)",
                    map.display()
                ),
                Layout::Lines
            )
        );
    }
    ExitCode::SUCCESS
}

/// Writes the map through a temporary file beside it.
fn write_map(path: &Path, json: &str) -> Result<(), String> {
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, json)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!("{}: cannot write the pseudonym map: {e}", path.display())
        })
}
