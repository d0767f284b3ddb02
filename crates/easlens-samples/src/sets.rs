//! The files the kit writes: the bundled sample set (`samples/`) and big captures for benchmarks.

use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use crate::har_writer::{HarOptions, HarStyle, write_har, write_har_file};
use crate::saz_writer::{SazEncryption, SazOptions, SazWriter, write_saz_file};
use crate::scenarios;
pub use crate::scenarios::BigShape;

/// The password of the encrypted sample (`samples/policy-refresh-iphone-encrypted.saz`).
pub const SAMPLE_PASSWORD: &str = "easlens";

/// The format of a big capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BigFormat {
    Saz,
    Har,
}

/// An I/O error with the file it happened to.
fn at(path: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The bundled samples: every scenario for both devices as a Fiddler SAZ, two conversations also
/// as HAR (Fiddler's lossy export, mitmproxy's recoverable one), and one AES-256 encrypted SAZ.
/// Returns the files written, in order.
pub fn write_sample_set(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    let mut written = Vec::new();
    for (stem, conversation) in scenarios::all_samples() {
        let sessions = &conversation.trace;
        let saz = dir.join(format!("{stem}.saz"));
        write_saz_file(&saz, sessions, &SazOptions::default()).map_err(at(&saz))?;
        written.push(saz);
        let har_style = match stem.as_str() {
            "healthy-iphone" => Some((HarStyle::Fiddler, "fiddler")),
            "policy-refresh-android" => Some((HarStyle::Mitmproxy, "mitmproxy")),
            _ => None,
        };
        if let Some((style, tag)) = har_style {
            let har = dir.join(format!("{stem}.{tag}.har"));
            write_har_file(&har, sessions, &HarOptions::new(style)).map_err(at(&har))?;
            written.push(har);
        }
        if stem == "policy-refresh-iphone" {
            let enc = dir.join(format!("{stem}-encrypted.saz"));
            let options = SazOptions {
                password: Some((SAMPLE_PASSWORD.into(), SazEncryption::Aes256)),
                ..SazOptions::default()
            };
            write_saz_file(&enc, sessions, &options).map_err(at(&enc))?;
            written.push(enc);
        }
    }
    Ok(written)
}

/// Writes an `n`-session capture (mostly Sync responses of 1-50 KB) to `out`; the same seed
/// writes the same sessions. `n` must be at least 1.
pub fn write_big(out: &Path, n: usize, seed: u64, format: BigFormat) -> io::Result<()> {
    write_big_shaped(out, n, seed, format, BigShape::Large)
}

/// [`write_big`] with bodies of the given shape ([`BigShape::Small`]: a few hundred bytes each).
pub fn write_big_shaped(out: &Path, n: usize, seed: u64, format: BigFormat, shape: BigShape) -> io::Result<()> {
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a big capture needs at least one session",
        ));
    }
    let file = BufWriter::new(std::fs::File::create(out).map_err(at(out))?);
    match format {
        BigFormat::Saz => {
            let mut w = SazWriter::new(file, n, &SazOptions::default()).map_err(at(out))?;
            for s in scenarios::big_shaped(n, seed, shape) {
                w.write_session(&s).map_err(at(out))?;
            }
            w.finish().map_err(at(out))?;
        }
        BigFormat::Har => {
            let sessions: Vec<_> = scenarios::big_shaped(n, seed, shape).collect();
            write_har(file, &sessions, &HarOptions::new(HarStyle::Mitmproxy)).map_err(at(out))?;
        }
    }
    Ok(())
}
