//! The files the kit writes: the bundled sample set (`samples/`) and big captures for benchmarks.

use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use crate::iis_log_writer::{
    ExchangeVersion, IisLogOptions, conversation_iis_logs, fleet_iis_logs, write_big_iis_log, write_iis_logs,
};
use crate::mailbox_log_writer::{Damage, FileForm, MailboxLogOptions, write_mailbox_log};
pub use crate::scenarios::BigShape;
use crate::scenarios::{self, Conversation, Scenario};
use easlens_core::writers::Exchange;
use easlens_core::writers::har::{HarOptions, HarStyle, write_har, write_har_file};
use easlens_core::writers::saz::{SazEncryption, SazOptions, SazWriter, write_saz_file};

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

/// The conversation whose mailbox log is also written in the quirky forms (see [`write_logs`]).
const QUIRKS_STEM: &str = "synckey-reset-android";

/// The conversation whose front end's IIS log ends with a cut line (see [`write_iis`]).
const CUT_IIS_STEM: &str = "healthy-android";

/// The seed of `samples/fleet.iis/`.
pub const FLEET_SEED: u64 = 20240502;

/// The bundled samples: every scenario for both devices as a Fiddler SAZ, as Exchange's mailbox
/// log with its manifest and as Exchange's IIS logs with their truth, four conversations also as
/// HAR (Fiddler's lossy export, mitmproxy's recoverable one), one AES-256 encrypted SAZ, and the
/// IIS logs of a fleet of devices (`fleet.iis/`). Returns the files written, in order.
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
            "calendar-failures-iphone" => Some((HarStyle::Fiddler, "fiddler")),
            "item-failures-android" => Some((HarStyle::Fiddler, "fiddler")),
            "item-near-misses-iphone" => Some((HarStyle::Mitmproxy, "mitmproxy")),
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
        write_logs(dir, &stem, &conversation, &mut written)?;
        write_iis(dir, &stem, &conversation, &mut written)?;
    }
    written.extend(write_iis_logs(dir, "fleet", &fleet_iis_logs(FLEET_SEED))?);
    Ok(written)
}

/// `<stem>.iis/` (the front end's `W3SVC1` and the back end's `W3SVC2`, or the Exchange 2007
/// CAS's `W3SVC1`) and its truth `<stem>.iis.json`. The back end of [`QUIRKS_STEM`] is
/// gzip-compressed, and the front end of [`CUT_IIS_STEM`] ends with a cut line.
fn write_iis(dir: &Path, stem: &str, conversation: &Conversation, written: &mut Vec<PathBuf>) -> io::Result<()> {
    let logs = conversation_iis_logs(conversation, &iis_options(stem))
        .map_err(|e| io::Error::new(e.kind(), format!("{stem}: {e}")))?;
    written.extend(write_iis_logs(dir, stem, &logs)?);
    Ok(())
}

/// How the IIS logs of the sample `stem` are written (see [`write_iis`]).
pub(crate) fn iis_options(stem: &str) -> IisLogOptions {
    IisLogOptions {
        version: if stem.starts_with(Scenario::PolicyRefreshLegacy.name()) {
            ExchangeVersion::Exchange2007 // the scenario's server
        } else {
            ExchangeVersion::Exchange2016
        },
        gzip_back_end: stem == QUIRKS_STEM,
        cut_last_line: stem == CUT_IIS_STEM,
    }
}

/// Writes one W3C file of about `target_bytes` with Exchange's front-end and back-end lines of
/// thousands of devices (see [`write_big_iis_log`]); returns the lines written.
pub fn write_big_iis(out: &Path, target_bytes: u64, seed: u64) -> io::Result<u64> {
    write_big_iis_log(out, target_bytes, seed).map_err(at(out))
}

/// `<stem>.mailbox-log.txt` (one redacted CRLF dump of the whole log) and its manifest
/// `<stem>.mailbox-log.json`; for [`QUIRKS_STEM`] also the forms readers must cope with: two
/// overlapping dumps (`.1`, `.2`, the second after mail residue), the same text gzipped
/// (`.txt.gz`), BOM + LF + values on the name's line (`.bom-lf.txt`) and two damaged entries
/// (`.damaged.txt`). Variants whose entries differ from the plain dump have their own manifest.
fn write_logs(dir: &Path, stem: &str, conversation: &Conversation, written: &mut Vec<PathBuf>) -> io::Result<()> {
    let assembly_version = if stem.starts_with(Scenario::PolicyRefreshLegacy.name()) {
        "08.03.0083.006" // the scenario's Exchange 2007 SP3
    } else {
        "15.01.2507.027"
    };
    let base = MailboxLogOptions {
        after_capture: conversation.after_capture.clone(),
        assembly_version: assembly_version.into(),
        ..MailboxLogOptions::default()
    };
    let mut log = |name: &str, manifest: bool, options: MailboxLogOptions| {
        write_log(
            dir,
            &format!("{stem}.mailbox-log{name}"),
            manifest,
            &conversation.trace,
            &options,
            written,
        )
    };
    log(".txt", true, base.clone())?;
    if stem != QUIRKS_STEM {
        return Ok(());
    }
    let form = |form: FileForm| MailboxLogOptions { form, ..base.clone() };
    log(
        ".1.txt",
        true,
        MailboxLogOptions {
            entries: 0..7,
            ..base.clone()
        },
    )?;
    let residue = "From: Microsoft Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com>\r\nSent: Thursday, March 7, 2024 5:02 PM\r\nTo: Jordan Doe <jdoe@contoso.com>\r\nSubject: Mailbox Log for jdoe@contoso.com\r\n\r\nThe mailbox log for device SYNTHDEV0002ANDR follows.\r\n";
    log(
        ".2.txt",
        true,
        MailboxLogOptions {
            entries: 3..usize::MAX,
            form: FileForm {
                preamble: Some(residue.into()),
                ..FileForm::default()
            },
            ..base.clone()
        },
    )?;
    log(
        ".txt.gz",
        false,
        form(FileForm {
            gzip: true,
            ..FileForm::default()
        }),
    )?;
    log(
        ".bom-lf.txt",
        false,
        form(FileForm {
            lf_only: true,
            bom: true,
            same_line_values: true,
            ..FileForm::default()
        }),
    )?;
    log(
        ".damaged.txt",
        true,
        form(FileForm {
            damage: vec![(4, Damage::CutSeparator), (7, Damage::FieldWithoutValue)],
            ..FileForm::default()
        }),
    )
}

/// Writes one mailbox log file `name` and, when `manifest`, its manifest next to it (`.json` for
/// the name's `.txt`).
fn write_log(
    dir: &Path,
    name: &str,
    manifest: bool,
    sessions: &[Exchange],
    options: &MailboxLogOptions,
    written: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let path = dir.join(name);
    let file = BufWriter::new(std::fs::File::create(&path).map_err(at(&path))?);
    let m = write_mailbox_log(file, sessions, options).map_err(at(&path))?;
    written.push(path);
    if manifest {
        let path = dir.join(name.replace(".txt", ".json"));
        let mut json = serde_json::to_string_pretty(&m).map_err(io::Error::other)?;
        json.push('\n');
        std::fs::write(&path, json).map_err(at(&path))?;
        written.push(path);
    }
    Ok(())
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
