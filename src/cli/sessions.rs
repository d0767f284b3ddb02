//! `easlens sessions FILE [--password P] [--json]` (or `easlens sessions LOG [LOG2 …]
//! [--log-offset ±HH:MM]`, several mailbox log dumps merged): one line (or JSON object) per
//! session with what happened: command, HTTP and EAS status, throttling, and why it deserves
//! attention.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use easlens_core::capture::{self, BodyKept, Capture, CommandNaming, LabelStyle, Session};
use easlens_core::eas::session::{BodyState, Highlight};
use easlens_core::http::has_no_body;
use easlens_core::readers::mailbox_log;
use easlens_core::report::{Layout, cut, terminal_safe};
use serde::Serialize;

use super::{open_capture, print_json};

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// A Fiddler archive (.saz), a HAR file or an Exchange mailbox log; several files are dumps
    /// of mailbox logs, merged.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Password of an encrypted SAZ.
    #[arg(long)]
    pub password: Option<String>,
    /// The zone of a mailbox log's times (server local time, written without one), e.g. `+01:00`.
    #[arg(long, value_parser = super::align::parse_offset, allow_hyphen_values = true)]
    pub log_offset: Option<chrono::FixedOffset>,
    /// Print a JSON array with one object per session instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One session as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    pub index: u32,
    /// Fiddler's session id (a number); a mailbox log entry's `Identifier` (hex text).
    pub id: Option<serde_json::Value>,
    /// `saz`, `har`, `mailbox_log` or `iis_log`: where the session was read from.
    pub source: capture::Format,
    pub started: Option<String>,
    pub duration_ms: Option<f64>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub http_status: Option<u16>,
    pub command: Option<String>,
    pub user: Option<String>,
    pub device_id: Option<String>,
    pub device_type: Option<String>,
    pub protocol_version: Option<String>,
    pub eas_status: Vec<u32>,
    pub throttled: bool,
    pub highlight: Vec<Highlight>,
    pub request_body_state: BodyState,
    pub response_body_state: BodyState,
    pub tunnel: bool,
    pub aborted: bool,
    pub generated_by_proxy: bool,
    pub notes: Vec<String>,
    /// What the source says of the session that is no problem (an IIS line's place and `Log=`
    /// tokens, a mailbox log entry's other fields).
    pub facts: Vec<String>,
    /// What an IIS log line says besides (server, role, substatus, win32 status, time taken,
    /// `Log=` tokens…); IIS logs only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iis: Option<easlens_core::iis::IisFacts>,
}

pub fn run(args: &SessionsArgs) -> ExitCode {
    let opened = match (&args.files[..], args.log_offset) {
        // A folder is a folder of mailbox log dumps.
        ([file], None) if !file.is_dir() || capture::is_iis_log(file) => open_capture(file, args.password.as_deref()),
        (files, offset) => super::align::open_logs(files, offset),
    };
    let capture = match opened {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.json {
        // One row at a time, as it is written.
        return print_json(&args.files[0], &Rows(&capture));
    }
    // One line at a time, as it is written: a table of every row held 60 MB for 100,000 sessions.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write_table(&mut out, &capture).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) ends the listing quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: cannot write the table: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The JSON array of the rows of a capture's sessions, each made when it is serialized.
struct Rows<'a>(&'a Capture);

impl Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.sessions.iter().map(|s| row(s, self.0.format)))
    }
}

/// The JSON row of a session read from a `source` file.
pub fn row(s: &Session, source: capture::Format) -> SessionRow {
    let eas = s.eas.as_ref();
    let notes = s.problems().cloned().collect();
    SessionRow {
        index: s.index,
        id: match source {
            capture::Format::MailboxLog => mailbox_log::identifier(s).map(serde_json::Value::from),
            _ => s.id.map(serde_json::Value::from),
        },
        source,
        started: s.timers.started().map(|t| t.to_rfc3339()),
        duration_ms: s.timers.duration_ms(),
        method: s.request.as_ref().map(|r| r.head.method.to_string()),
        url: s.request.as_ref().map(|r| r.url().into_owned()),
        http_status: s.http_status(),
        command: s.eas_command(CommandNaming::Canonical).map(str::to_string),
        user: eas.and_then(|e| e.user.as_deref().map(String::from)),
        device_id: eas.and_then(|e| e.device_id.as_deref().map(String::from)),
        device_type: eas.and_then(|e| e.device_type.as_deref().map(String::from)),
        protocol_version: eas.and_then(|e| e.protocol_version.as_deref().map(String::from)),
        eas_status: eas.map(|e| e.response_status_values()).unwrap_or_default(),
        throttled: eas.is_some_and(|e| e.throttled()),
        highlight: eas
            .map(|e| e.highlights.clone())
            .unwrap_or_else(|| generic_highlight(s)),
        request_body_state: eas.map_or_else(|| generic_request_state(s), |e| e.request_body),
        response_body_state: eas.map_or(BodyState::None, |e| e.response_body),
        tunnel: s.flags.tunnel,
        aborted: s.flags.aborted,
        generated_by_proxy: s.flags.generated,
        notes,
        facts: s.facts.clone(),
        iis: s.iis.as_deref().cloned(),
    }
}

/// Non-EAS sessions are highlighted for their HTTP status only.
fn generic_highlight(s: &Session) -> Vec<Highlight> {
    match s.http_status() {
        Some(c) if !(200..300).contains(&c) && !s.flags.tunnel => vec![Highlight::Http],
        _ => Vec::new(),
    }
}

fn generic_request_state(s: &Session) -> BodyState {
    let Some(r) = &s.request else { return BodyState::None };
    // What Fiddler stores after a CONNECT is its description of the tunnel, not an HTTP body.
    if s.flags.tunnel {
        return BodyState::None;
    }
    match r.body.kept {
        BodyKept::LostByExporter | BodyKept::Omitted => BodyState::Lost,
        BodyKept::Present if r.body.stored_len > 0 => BodyState::Other,
        BodyKept::Present if has_no_body(&r.head.method) => BodyState::None,
        BodyKept::Present => BodyState::Empty,
    }
}

/// The human-readable table; its columns are escaped and cut here ([`cut`]), the whole text once
/// more by the caller ([`terminal_safe`]).
fn write_table(out: &mut impl Write, capture: &Capture) -> std::io::Result<()> {
    let mut line = |text: String| out.write_all(terminal_safe(&text, Layout::Lines).as_bytes());
    line(format!(
        "{} — {} sessions ({})\n",
        capture.path.display(),
        capture.sessions.len(),
        match capture.format {
            capture::Format::Saz => "SAZ",
            capture::Format::Har => "HAR",
            capture::Format::MailboxLog => "mailbox log",
            capture::Format::IisLog => "IIS logs",
        }
    ))?;
    line(format!(
        "{:>6}  {:<12} {:<18} {:>4}  {:<14} {:<9} {}\n",
        "#", "time", "command", "http", "eas status", "flags", "url"
    ))?;
    for s in &capture.sessions {
        let r = &row(s, capture.format);
        let time = s
            .timers
            .started()
            .map_or_else(|| "-".to_string(), |t| t.format("%H:%M:%S%.3f").to_string());
        let command = s.command_label(LabelStyle::CLI);
        let http = r.http_status.map_or("-".to_string(), |c| c.to_string());
        let eas: Vec<String> = r.eas_status.iter().map(u32::to_string).collect();
        let mut flags = String::new();
        for (on, c) in [
            (r.highlight.contains(&Highlight::Http), 'H'),
            (r.throttled, 'T'),
            (r.highlight.contains(&Highlight::Status), 'S'),
            (r.aborted, 'A'),
            (r.tunnel, 'C'),
            (r.generated_by_proxy, 'G'),
            (r.request_body_state == BodyState::Lost, 'L'),
        ] {
            if on {
                flags.push(c);
            }
        }
        line(format!(
            "{:>6}  {:<12} {:<18} {:>4}  {:<14} {:<9} {}\n",
            r.index,
            time,
            cut(&command, 18),
            http,
            cut(&eas.join(","), 14),
            flags,
            terminal_safe(r.url.as_deref().unwrap_or("-"), Layout::Field)
        ))?;
    }
    line(
        "flags: H non-2xx HTTP, T throttled (X-MS-ASThrottle), S failing EAS Status, A aborted, C CONNECT tunnel, \
         G generated by the proxy, L request body lost by the exporter\n"
            .to_string(),
    )
}
