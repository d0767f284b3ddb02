//! `easlens decode FILE|-  [--hex]`: WBXML (or a multipart ItemOperations body) → XML on stdout.
//! Exit 0 on success; on malformed input the partial XML is printed, the error (byte offset and
//! what was expected) goes to stderr, and the exit status is 2. WBXML of another language
//! (SyncML, WML…) prints no XML: only the error, exit status 2.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use easlens_core::hexdump;
use easlens_core::readers::OpenError;
use easlens_core::report::{Layout, terminal_safe};
use easlens_core::wbxml::{self, multipart};

use super::{EXIT_MALFORMED, EXIT_UNREADABLE};

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The body to decode (a regular file, at most 512 MiB); `-` reads standard input (the same limit).
    pub file: PathBuf,
    /// The input is a hex dump (plain hex, 0x.. lists, or xxd / hexdump -C / Fiddler dumps).
    #[arg(long)]
    pub hex: bool,
}

pub fn run(args: &DecodeArgs) -> ExitCode {
    let label = if args.file.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        args.file.display().to_string()
    };
    let bytes = match read_input(args) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("easlens: {}", terminal_safe(&format!("{label}: {e:#}"), Layout::Lines));
            return ExitCode::from(if e.is::<hexdump::HexError>() {
                EXIT_MALFORMED
            } else {
                EXIT_UNREADABLE
            });
        }
    };
    let (xml, problem) = decode_to_xml(&bytes);
    let mut out = std::io::stdout().lock();
    // C1 and bidi characters from the body (controls are character references already) are
    // written out visibly. A closed pipe (`| head`) is not an error worth reporting.
    let text = terminal_safe(&xml.text, Layout::Lines);
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    for w in &xml.warnings {
        eprintln!(
            "easlens: {}",
            terminal_safe(&format!("{label}: warning: {w}"), Layout::Lines)
        );
    }
    match problem {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("easlens: {}", terminal_safe(&format!("{label}: {e}"), Layout::Lines));
            ExitCode::from(EXIT_MALFORMED)
        }
    }
}

/// The most `decode` reads, from a file or from standard input: twice the largest body a
/// capture decodes to (`MAX_DECODED`), so that a hex dump of such a body still fits.
pub const MAX_INPUT: u64 = 2 * easlens_core::http::body::MAX_DECODED;

fn read_input(args: &DecodeArgs) -> Result<Vec<u8>> {
    let too_large = || anyhow::anyhow!("larger than {} MiB, the most `decode` reads", MAX_INPUT >> 20);
    let mut raw = Vec::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut raw)
            .context("cannot read standard input")?;
        if raw.len() as u64 > MAX_INPUT {
            return Err(too_large());
        }
    } else {
        // A regular file only: a named pipe or a device could be read forever.
        let (file, len) = easlens_core::readers::open_file(&args.file).map_err(|e| match e {
            OpenError::NotAFile { what, .. } => {
                anyhow::anyhow!("{what}, not a regular file (use `-` to read standard input)")
            }
            OpenError::Io { source, .. } => anyhow::Error::new(source).context("cannot read the file"),
            other => anyhow::Error::new(other),
        })?;
        if len > MAX_INPUT {
            return Err(too_large());
        }
        file.take(len).read_to_end(&mut raw).context("cannot read the file")?;
    }
    if args.hex {
        let text = String::from_utf8_lossy(&raw);
        return hexdump::parse(&text).context("not a hex dump");
    }
    Ok(raw)
}

pub struct Rendered {
    pub text: String,
    pub warnings: Vec<String>,
}

/// Decodes a body to XML. Multipart bodies: part 0 is decoded, the other parts are listed in a
/// comment with their sizes. Returns the (possibly partial) XML and the error, if any.
pub fn decode_to_xml(bytes: &[u8]) -> (Rendered, Option<String>) {
    let (wbxml_bytes, part_list) = match multipart::parts(bytes) {
        Ok(parts) => {
            let mut note = format!("<!-- multipart ItemOperations response: {} parts", parts.len());
            for (i, p) in parts.iter().enumerate() {
                let what = if i == 0 { " (WBXML, decoded below)" } else { "" };
                note += &format!("\n     part {i}: {} bytes at offset {}{what}", p.len(), p.start);
            }
            note += " -->\n";
            (&bytes[parts[0].clone()], Some(note))
        }
        Err(_) => (bytes, None),
    };
    let (doc, error) = match wbxml::decode(wbxml_bytes) {
        Ok(doc) => (doc, None),
        // Another WBXML language (SyncML, WML…): its tokens mean nothing on ActiveSync's code
        // pages, so no XML at all, only the error.
        Err(p) if matches!(p.error.kind, wbxml::ErrorKind::NotActiveSync { .. }) => {
            let warnings = p.partial.warnings.iter().map(|w| w.to_string()).collect();
            return (
                Rendered {
                    text: String::new(),
                    warnings,
                },
                Some(p.error.to_string()),
            );
        }
        Err(p) => (p.partial, Some(p.error.to_string())),
    };
    let mut text = wbxml::to_xml(&doc);
    if let Some(note) = part_list {
        let decl_end = text.find('\n').map_or(0, |i| i + 1);
        text.insert_str(decl_end, &note);
    }
    let warnings = doc.warnings.iter().map(|w| w.to_string()).collect();
    (Rendered { text, warnings }, error)
}
