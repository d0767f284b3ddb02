//! Writes [`Exchange`]s as a Fiddler SAZ archive, the way Fiddler does, with switches for
//! the variants other writers produce (other zero-padding, backslash or upper-case names, no
//! metadata, no index files, Stored/BZip2 entries, decimal BitFlags, gaps, stray files) and for
//! password protection (ZipCrypto, WinZip AES-128/256).
//!
//! Per session: `raw/N_c.txt` (the request bytes as given), `raw/N_s.txt` (the response bytes, 0
//! bytes when there is none) and `raw/N_m.xml` (UTF-8 BOM, `SID`, hexadecimal `BitFlags`,
//! `Aborted`, `SessionTimers`, `SessionFlags`). Around them, like Fiddler: a `raw/` directory
//! record first, `_index.htm` and `[Content_Types].xml` last, and a zip comment.
//!
//! The timers, BitFlags, HTTPS and process of an [`Exchange`] that has them (an exported capture)
//! are written as they are; without them, they are made up from the request line and
//! `started`/`duration_ms`, as the sample kit wants.
//!
//! The writer streams: entries go to the output as they are written, and only one short row per
//! session is kept for `_index.htm` ([`SazWriter`] takes sessions one at a time).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, FixedOffset, Timelike};
use zip::write::{FileOptions, SimpleFileOptions};
use zip::{AesMode, CompressionMethod, ZipWriter};

use super::Exchange;
use crate::http::message::split_head;
use crate::http::{parse_request, parse_response};
use crate::readers::saz_meta::bits;
use crate::readers::{Timer, Timers};
// Fiddler writes sizes with the machine's locale: `3643` → `3,643`.
use crate::numbers::group_thousands;

/// The zip comment of the archives written here, unless [`SazOptions::zip_comment`] says otherwise.
pub const ZIP_COMMENT: &str = "easlens sample generator";

/// How a password-protected SAZ is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SazEncryption {
    /// Traditional PKWARE encryption (DotNetZip's default).
    ZipCrypto,
    /// WinZip AES, 128-bit key.
    Aes128,
    /// WinZip AES, 256-bit key.
    Aes256,
}

/// Compression of the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SazCompression {
    Stored,
    #[default]
    Deflate,
    Bzip2,
}

/// How entry names are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameStyle {
    /// Zero-padding width of N. `None`: Fiddler's, the number of digits of the session count.
    pub width: Option<usize>,
    /// `raw\1_c.txt` instead of `raw/1_c.txt`.
    pub backslash: bool,
    /// `RAW/1_C.TXT`.
    pub uppercase: bool,
}

/// The order of a session's entries in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryOrder {
    /// c, s, m (Fiddler Classic 2025).
    #[default]
    ClientServerMeta,
    /// c, m, s (FiddlerCore 2020).
    ClientMetaServer,
}

/// How origin-form request lines (`POST /path HTTP/1.1` plus `Host`) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestTarget {
    /// As Fiddler writes decrypted HTTPS: `POST https://host/path HTTP/1.1`.
    #[default]
    AbsoluteHttps,
    /// Unchanged, as third-party writers (Fluxzy) leave them.
    AsGiven,
}

/// What to write. [`Default`] is Fiddler-like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SazOptions {
    /// Encrypt every file entry with this password (the `raw/` directory record stays clear).
    pub password: Option<(String, SazEncryption)>,
    pub names: NameStyle,
    /// Write `raw/N_m.xml`.
    pub with_meta: bool,
    /// Write `_index.htm`, `[Content_Types].xml` and the `raw/` directory record.
    pub with_index_files: bool,
    pub compression: SazCompression,
    /// BitFlags in decimal (as Fluxzy writes them) instead of Fiddler's hexadecimal.
    pub decimal_bit_flags: bool,
    /// N of each session, in order (gaps allowed); sessions beyond the list continue after its
    /// largest number. `None`: 1, 2, 3, …
    pub numbers: Option<Vec<u32>>,
    /// Entries written as they are after the sessions (stray files, hand-made sessions).
    pub extra_entries: Vec<(String, Vec<u8>)>,
    /// A Zip64 extra field on every entry, as Fiddler Classic 5.0.2025x writes.
    pub zip64: bool,
    pub order: EntryOrder,
    pub request_target: RequestTarget,
    /// The zip comment (Fiddler names its build there).
    pub zip_comment: String,
    /// Deflate level (1 fastest … 9 smallest); `None`: the zip crate's default (6).
    pub level: Option<i64>,
    /// Entries shorter than this are stored, not deflated (deflating a few hundred bytes costs
    /// more than it saves); 0: every entry as `compression` says.
    pub store_below: usize,
}

impl Default for SazOptions {
    fn default() -> Self {
        SazOptions {
            password: None,
            names: NameStyle::default(),
            with_meta: true,
            with_index_files: true,
            compression: SazCompression::Deflate,
            decimal_bit_flags: false,
            numbers: None,
            extra_entries: Vec::new(),
            zip64: false,
            order: EntryOrder::default(),
            request_target: RequestTarget::default(),
            zip_comment: ZIP_COMMENT.to_string(),
            level: None,
            store_below: 0,
        }
    }
}

/// Writes `sessions` as a SAZ archive to `out`.
pub fn write_saz(out: impl Write + Seek, sessions: &[Exchange], options: &SazOptions) -> io::Result<()> {
    let mut w = SazWriter::new(out, sessions.len(), options)?;
    for s in sessions {
        w.write_session(s)?;
    }
    w.finish()?;
    Ok(())
}

/// Writes `sessions` as a SAZ archive to a new file at `path` (replaced if it exists).
pub fn write_saz_file(path: &Path, sessions: &[Exchange], options: &SazOptions) -> io::Result<()> {
    let out = BufWriter::with_capacity(256 * 1024, File::create(path)?);
    let mut w = SazWriter::new(out, sessions.len(), options)?;
    for s in sessions {
        w.write_session(s)?;
    }
    w.finish()?.flush()
}

/// A SAZ archive being written, one session at a time.
pub struct SazWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    options: SazOptions,
    width: usize,
    written: usize,
    next_number: u32,
    /// `host:port` of the CONNECT tunnels seen so far (origin-form requests through them are HTTPS).
    tunnels: HashSet<String>,
    index_rows: String,
    first_time: Option<zip::DateTime>,
}

fn to_io(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::other(other),
    }
}

impl<W: Write + Seek> SazWriter<W> {
    /// Starts an archive of `session_count` sessions (the count sets Fiddler's zero-padding).
    pub fn new(out: W, session_count: usize, options: &SazOptions) -> io::Result<Self> {
        let mut zip = ZipWriter::new(out);
        if options.with_index_files {
            let dir = if options.names.uppercase { "RAW/" } else { "raw/" };
            zip.add_directory(dir, SimpleFileOptions::default()).map_err(to_io)?;
        }
        let count_digits = session_count.max(1).to_string().len();
        let width = options.names.width.unwrap_or(count_digits);
        Ok(SazWriter {
            zip,
            options: options.clone(),
            width,
            written: 0,
            next_number: 1,
            tunnels: HashSet::new(),
            index_rows: String::new(),
            first_time: None,
        })
    }

    fn entry_name(&self, n: u32, part: char, ext: &str) -> String {
        let sep = if self.options.names.backslash { '\\' } else { '/' };
        let name = format!("raw{sep}{n:0width$}_{part}.{ext}", width = self.width);
        if self.options.names.uppercase {
            name.to_ascii_uppercase()
        } else {
            name
        }
    }

    fn write_entry(&mut self, name: &str, data: &[u8], time: zip::DateTime) -> io::Result<()> {
        let large = self.options.zip64 || data.len() as u64 >= 0xFFFF_FFFF;
        let mut options = file_options(&self.options, time, large)?;
        if data.len() < self.options.store_below {
            options = options
                .compression_method(CompressionMethod::Stored)
                .compression_level(None);
        }
        self.zip.start_file(name, options).map_err(to_io)?;
        self.zip.write_all(data)
    }

    /// Writes one session.
    pub fn write_session(&mut self, s: &Exchange) -> io::Result<()> {
        let n = match self.options.numbers.as_ref().and_then(|v| v.get(self.written)) {
            Some(&n) => n,
            None => self.next_number,
        };
        self.next_number = self.next_number.max(n.saturating_add(1));
        self.written += 1;
        let time = zip_time(&s.started);
        self.first_time.get_or_insert(time);

        let request = match self.options.request_target {
            RequestTarget::AbsoluteHttps => absolute_https(&s.request),
            RequestTarget::AsGiven => None,
        };
        let request: &[u8] = request.as_deref().unwrap_or(&s.request);
        let mut info = RequestInfo::of(request, &mut self.tunnels);
        info.https = s.https.unwrap_or(info.https);
        let c = self.entry_name(n, 'c', "txt");
        let srv = self.entry_name(n, 's', "txt");
        let m = self.entry_name(n, 'm', "xml");
        let response: &[u8] = s.response.as_deref().unwrap_or_default();
        let meta = self
            .options
            .with_meta
            .then(|| meta_xml(s, &info, self.options.decimal_bit_flags));
        self.write_entry(&c, request, time)?;
        match self.options.order {
            EntryOrder::ClientServerMeta => {
                self.write_entry(&srv, response, time)?;
                if let Some(meta) = &meta {
                    self.write_entry(&m, meta.as_bytes(), time)?;
                }
            }
            EntryOrder::ClientMetaServer => {
                if let Some(meta) = &meta {
                    self.write_entry(&m, meta.as_bytes(), time)?;
                }
                self.write_entry(&srv, response, time)?;
            }
        }
        if self.options.with_index_files {
            self.index_row(s, &info, &c, &srv, &m);
        }
        Ok(())
    }

    fn index_row(&mut self, s: &Exchange, info: &RequestInfo, c: &str, srv: &str, m: &str) {
        let link = |name: &str| name.replace('/', "\\");
        let (status, content_type, body_len) = match s.response.as_deref().map(parse_response) {
            Some(Ok((head, off))) => (
                head.status.to_string(),
                head.headers.get("content-type").unwrap_or("").to_string(),
                group_thousands(s.response.as_ref().map_or(0, |r| r.len().saturating_sub(off)) as u64),
            ),
            _ => ("-".into(), String::new(), "-1".into()),
        };
        let _ = write!(
            self.index_rows,
            "<tr><td><a href='{}'>C</a>&nbsp;<a href='{}'>S</a>&nbsp;<a href='{}'>M</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td>{}</td><td>{}</td><td>{}</td><td></td></tr>",
            html(&link(c)),
            html(&link(srv)),
            html(&link(m)),
            s.sid,
            html(&status),
            if info.connect {
                "HTTP"
            } else if info.https {
                "HTTPS"
            } else {
                "HTTP"
            },
            html(&info.host),
            html(&info.path),
            html(&body_len),
            html(&content_type),
            html(s.process.as_deref().unwrap_or("")),
            html(s.comment.as_deref().unwrap_or("")),
        );
    }

    /// Writes the index files, the extra entries and the zip comment, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let time = self.first_time.unwrap_or_default();
        for (name, data) in std::mem::take(&mut self.options.extra_entries) {
            self.write_entry(&name, &data, time)?;
        }
        if self.options.with_index_files {
            let mut index = String::from(
                "\u{feff}<html><head><style>body,thead,td,a,p{font-family:verdana,sans-serif;font-size: 10px;}</style></head><body><table cols=12><thead><tr><th>&nbsp;</th><th>#</th><th>Result</th><th>Protocol</th><th>Host</th><th>URL</th><th>Body</th><th>Caching</th><th>Content-Type</th><th>Process</th><th>Comments</th><th>Custom</th></tr></thead><tbody>",
            );
            index.push_str(&std::mem::take(&mut self.index_rows));
            index.push_str("</tbody></table></body></html>");
            self.write_entry("_index.htm", index.as_bytes(), time)?;
            self.write_entry("[Content_Types].xml", CONTENT_TYPES.as_bytes(), time)?;
        }
        let comment = std::mem::take(&mut self.options.zip_comment);
        self.zip.set_comment(comment).map_err(to_io)?;
        self.zip.finish().map_err(to_io)
    }
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\r\n<Default Extension=\"htm\" ContentType=\"text/html\" />\r\n<Default Extension=\"xml\" ContentType=\"application/xml\" />\r\n<Default Extension=\"txt\" ContentType=\"text/plain\" />\r\n</Types>";

fn file_options(options: &SazOptions, time: zip::DateTime, large: bool) -> io::Result<FileOptions<'_, 'static, ()>> {
    let method = match options.compression {
        SazCompression::Stored => CompressionMethod::Stored,
        SazCompression::Deflate => CompressionMethod::Deflated,
        SazCompression::Bzip2 => CompressionMethod::Bzip2,
    };
    let base = SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(options.level.filter(|_| method == CompressionMethod::Deflated))
        .last_modified_time(time)
        .large_file(large);
    Ok(match &options.password {
        None => base,
        Some((pw, SazEncryption::ZipCrypto)) => {
            use zip::unstable::write::FileOptionsExt as _;
            base.with_deprecated_encryption(pw.as_bytes()).map_err(to_io)?
        }
        Some((pw, SazEncryption::Aes128)) => base.with_aes_encryption(AesMode::Aes128, pw),
        Some((pw, SazEncryption::Aes256)) => base.with_aes_encryption(AesMode::Aes256, pw),
    })
}

fn zip_time(t: &DateTime<FixedOffset>) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

/// What the metadata and the index need from the request line.
struct RequestInfo {
    connect: bool,
    https: bool,
    host: String,
    path: String,
}

impl RequestInfo {
    fn of(request: &[u8], tunnels: &mut HashSet<String>) -> Self {
        let Ok((head, _)) = parse_request(request) else {
            return RequestInfo {
                connect: false,
                https: false,
                host: String::new(),
                path: String::new(),
            };
        };
        let host_header = head.headers.get("host").unwrap_or("").trim().to_ascii_lowercase();
        if head.method.eq_ignore_ascii_case("CONNECT") {
            let target = head.target.trim().to_ascii_lowercase();
            tunnels.insert(target.clone());
            return RequestInfo {
                connect: true,
                https: false,
                host: target,
                path: String::new(),
            };
        }
        let target = head.target.trim();
        if let Some((scheme, rest)) = target.split_once("://") {
            let (host, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            return RequestInfo {
                connect: false,
                https: scheme.eq_ignore_ascii_case("https"),
                host: host.to_string(),
                path: path.to_string(),
            };
        }
        // Origin form: HTTPS when the port is 443 or a CONNECT tunnel to the host came before.
        let https = host_header.ends_with(":443")
            || tunnels.contains(&host_header)
            || tunnels.contains(&format!("{host_header}:443"));
        RequestInfo {
            connect: false,
            https,
            host: host_header,
            path: target.to_string(),
        }
    }
}

/// The request with an origin-form request line rewritten to Fiddler's absolute HTTPS form;
/// `None` when it is already absolute, a CONNECT, or has no Host.
fn absolute_https(raw: &[u8]) -> Option<Vec<u8>> {
    let (head, _) = parse_request(raw).ok()?;
    if !head.target.starts_with('/') || head.method.eq_ignore_ascii_case("CONNECT") {
        return None;
    }
    let host = head.headers.get("host")?.trim();
    let line_end = raw.iter().position(|&b| b == b'\n')?;
    let line_end = if line_end > 0 && raw[line_end - 1] == b'\r' {
        line_end - 1
    } else {
        line_end
    };
    let mut out = format!("{} https://{host}{} {}", head.method, head.target, head.version).into_bytes();
    out.extend_from_slice(&raw[line_end..]);
    Some(out)
}

/// `_m.xml` as Fiddler writes it.
fn meta_xml(s: &Exchange, info: &RequestInfo, decimal: bool) -> String {
    let mut flags = s.bit_flags.unwrap_or_else(|| made_up_bit_flags(s, info));
    if s.request_body_missing.is_some() {
        flags |= bits::REQUEST_BODY_DROPPED;
    }
    if s.response_body_missing.is_some() {
        flags |= bits::RESPONSE_BODY_DROPPED;
    }
    let bit_flags = if decimal {
        flags.to_string()
    } else {
        format!("{flags:x}")
    };
    let aborted = if s.aborted { " Aborted=\"true\"" } else { "" };

    let timers = match &s.timers {
        Some(timers) => kept_timers(timers),
        None => made_up_timers(s),
    };
    let mut x = String::with_capacity(2048);
    x.push('\u{feff}');
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n");
    let _ = write!(x, "<Session SID=\"{}\" BitFlags=\"{bit_flags}\"{aborted}>\r\n", s.sid);
    let [cc, cbr, grh, cdr, sc, fbr, sgr, sbr, gresp, sdr, cbresp, cdresp] = timers;
    let _ = write!(
        x,
        "  <SessionTimers ClientConnected=\"{cc}\" ClientBeginRequest=\"{cbr}\" GotRequestHeaders=\"{grh}\" ClientDoneRequest=\"{cdr}\" GatewayTime=\"0\" DNSTime=\"0\" TCPConnectTime=\"0\" HTTPSHandshakeTime=\"0\" ServerConnected=\"{sc}\" FiddlerBeginRequest=\"{fbr}\" ServerGotRequest=\"{sgr}\" ServerBeginResponse=\"{sbr}\" GotResponseHeaders=\"{gresp}\" ServerDoneResponse=\"{sdr}\" ClientBeginResponse=\"{cbresp}\" ClientDoneResponse=\"{cdresp}\" />\r\n",
    );
    x.push_str("  <PipeInfo />\r\n");
    if info.connect {
        x.push_str("  <TunnelInfo BytesEgress=\"0\" BytesIngress=\"0\" />\r\n");
    }
    x.push_str("  <SessionFlags>\r\n");
    let mut flag = |name: &str, value: &str| {
        let _ = write!(x, "    <SessionFlag N=\"{name}\" V=\"{}\" />\r\n", xml_attr(value));
    };
    if let Some(resp) = &s.response {
        let body = split_head(resp).map_or(0, |(_, b)| resp.len() - b);
        flag("x-responsebodytransferlength", &group_thousands(body as u64));
    }
    if !s.client_ip.is_empty() {
        flag("x-clientip", &s.client_ip);
    }
    if !s.server_ip.is_empty() {
        flag("x-hostip", &s.server_ip);
    }
    if let Some(process) = &s.process {
        flag("x-processinfo", process);
    }
    if let Some(comment) = &s.comment {
        flag("ui-comments", comment);
    }
    x.push_str("  </SessionFlags>\r\n</Session>");
    x
}

/// The BitFlags of a session whose capture did not give them: HTTPS, generated by the proxy, CONNECT.
fn made_up_bit_flags(s: &Exchange, info: &RequestInfo) -> u64 {
    let mut flags: u64 = 0;
    if info.https {
        flags |= bits::IS_HTTPS;
    }
    if s.generated_by_proxy {
        flags |= bits::RESPONSE_GENERATED_BY_FIDDLER;
    }
    if info.connect {
        // A decrypting tunnel; Fiddler answers the CONNECT itself.
        flags |= bits::IS_DECRYPTING_TUNNEL | bits::RESPONSE_GENERATED_BY_FIDDLER;
    }
    flags
}

/// Fiddler's twelve timers in `_m.xml` order, made up from `started` and `duration_ms` (response
/// timers unset without a response).
fn made_up_timers(s: &Exchange) -> [String; 12] {
    let start = s.started;
    let total = i64::from(s.duration_ms);
    let at = |permille: i64| dotnet_time(&(start + Duration::microseconds(total * permille))); // ms × ‰ = µs
    let has_response = s.response.is_some();
    let response_time = |permille: i64| {
        if has_response {
            at(permille)
        } else {
            UNSET_TIME.to_string()
        }
    };
    [
        at(0),
        at(0),
        at(0),
        at(50),
        at(50),
        at(50),
        at(60),
        response_time(800),
        response_time(800),
        response_time(950),
        response_time(950),
        at(1000),
    ]
}

/// Fiddler's twelve timers in `_m.xml` order from the six a capture keeps, exactly. Each of the
/// six others (GotRequestHeaders, FiddlerBeginRequest, ServerGotRequest, GotResponseHeaders,
/// ServerDoneResponse, ClientBeginResponse) is the kept timer just before it, so the order stays
/// Fiddler's; unset when that one is.
fn kept_timers(timers: &Timers) -> [String; 12] {
    let at = |timer: Timer| {
        timers
            .get(timer)
            .map_or_else(|| UNSET_TIME.to_string(), |t| dotnet_time(&t))
    };
    let [cc, cbr, cdr, sc, sbr, cdresp] = Timer::ALL.map(at);
    [
        cc,
        cbr.clone(),
        cbr,
        cdr,
        sc.clone(),
        sc.clone(),
        sc,
        sbr.clone(),
        sbr.clone(),
        sbr.clone(),
        sbr,
        cdresp,
    ]
}

/// What Fiddler writes for a timer that is not set.
const UNSET_TIME: &str = "0001-01-01T00:00:00";

/// .NET's round-trip form: 7 fraction digits with trailing zeros trimmed, and the offset.
fn dotnet_time(t: &DateTime<FixedOffset>) -> String {
    let ticks = t.nanosecond() % 1_000_000_000 / 100;
    let mut fraction = format!("{ticks:07}");
    while fraction.ends_with('0') {
        fraction.pop();
    }
    let dot = if fraction.is_empty() { "" } else { "." };
    format!("{}{dot}{fraction}{}", t.format("%Y-%m-%dT%H:%M:%S"), t.format("%:z"))
}

fn xml_attr(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\n' => out.push_str("&#xA;"),
            '\t' => out.push_str("&#x9;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

fn html(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = DateTime::parse_from_rfc3339("2025-08-30T11:34:28.6859373-07:00").unwrap();
        assert_eq!(dotnet_time(&t), "2025-08-30T11:34:28.6859373-07:00");
        let t = DateTime::parse_from_rfc3339("2025-08-30T11:34:28.5+00:00").unwrap();
        assert_eq!(dotnet_time(&t), "2025-08-30T11:34:28.5+00:00");
        let t = DateTime::parse_from_rfc3339("2025-08-30T11:34:28Z").unwrap();
        assert_eq!(dotnet_time(&t), "2025-08-30T11:34:28+00:00");
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(3643), "3,643");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(xml_attr("a&b \"c\"\n<d>"), "a&amp;b &quot;c&quot;&#xA;&lt;d&gt;");
    }

    #[test]
    fn a_captures_timers_and_flags_are_written_as_they_are() {
        let t = |v: &str| Some(DateTime::parse_from_rfc3339(v).unwrap());
        let mut timers = Timers::default();
        timers.set(Timer::ClientConnected, t("2025-08-30T11:34:28.1000001-07:00"));
        timers.set(Timer::ClientBeginRequest, t("2025-08-30T11:34:28.6859373-07:00"));
        timers.set(Timer::ClientDoneRequest, t("2025-08-30T11:34:28.7-07:00"));
        timers.set(Timer::ClientDoneResponse, t("2025-08-30T18:34:29.0000009Z"));
        let s = Exchange {
            sid: 72,
            request: b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            timers: Some(timers),
            process: Some("msedge:12140".into()),
            https: Some(true),
            bit_flags: Some(0x2300),
            response_body_missing: Some(10),
            ..Exchange::default()
        };
        let mut tunnels = HashSet::new();
        let mut info = RequestInfo::of(&s.request, &mut tunnels);
        info.https = s.https.unwrap_or(info.https);
        let xml = meta_xml(&s, &info, false);
        assert!(xml.contains("<Session SID=\"72\" BitFlags=\"22300\">"), "{xml}");
        assert!(xml.contains("ClientConnected=\"2025-08-30T11:34:28.1000001-07:00\" ClientBeginRequest=\"2025-08-30T11:34:28.6859373-07:00\" GotRequestHeaders=\"2025-08-30T11:34:28.6859373-07:00\" ClientDoneRequest=\"2025-08-30T11:34:28.7-07:00\""), "{xml}");
        assert!(xml.contains("ServerConnected=\"0001-01-01T00:00:00\""), "{xml}");
        assert!(
            xml.contains("ClientDoneResponse=\"2025-08-30T11:34:29.0000009-07:00\""),
            "{xml}"
        );
        assert!(
            xml.contains("<SessionFlag N=\"x-processinfo\" V=\"msedge:12140\" />"),
            "{xml}"
        );
        let meta = crate::readers::saz_meta::parse(xml.as_bytes());
        assert_eq!(meta.timers, *s.timers.as_ref().unwrap());
        // Without them, BitFlags are made up from the request: HTTPS as told.
        let plain = Exchange {
            bit_flags: None,
            response_body_missing: None,
            ..s
        };
        assert!(meta_xml(&plain, &info, false).contains("BitFlags=\"1\""));
    }
}
