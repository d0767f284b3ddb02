//! One ActiveSync line of an IIS log, read without copying: when, which server and role (front
//! end, back end, CAS), who (user, device id and type from the plain or base64 query), what (the
//! command), what IIS answered (status, substatus, win32 status, time taken, bytes) and the
//! `&Log=` diagnostics as written (`iis-eas-log.md` §1–§2, §7).
//!
//! Only requests under `/Microsoft-Server-ActiveSync` are ActiveSync lines; other virtual
//! directories share the file and are only counted. Health probes are ActiveSync lines, flagged.

use std::borrow::Cow;
use std::ops::Range;

use percent_encoding::percent_decode_str;
use serde::Serialize;

use super::delimiters;
use super::w3c::{Dates, FieldSet, Known, Values};
use crate::eas::Command;
use crate::eas::query;

/// Which IIS wrote the line (`iis-eas-log.md` §1, "Front end vs back end").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Exchange 2013+ front end (Client Access service, W3SVC1): answers the device, no `Log=`.
    FrontEnd,
    /// Exchange 2013+ back end (W3SVC2, `/Proxy/` stem): the mailbox server's side, with `Log=`.
    BackEnd,
    /// An Exchange 2007/2010 Client Access server: one line per request, with `Log=`.
    Cas,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::FrontEnd => "front end",
            Role::BackEnd => "back end",
            Role::Cas => "CAS",
        }
    }
}

/// One ActiveSync request line. Strings borrow the line, but for what the base64 query decodes to.
#[derive(Debug, Clone)]
pub struct EasLine<'a> {
    /// When IIS wrote the line (the request's end), ms since 1970 UTC.
    pub time_ms: i64,
    /// `s-computername`, else the server the file's path names, else `s-ip`.
    pub server: &'a str,
    /// `s-computername`.
    pub server_name: Option<&'a str>,
    pub server_ip: Option<&'a str>,
    pub site: Option<&'a str>,
    pub role: Role,
    pub method: &'a str,
    pub stem: &'a str,
    /// The query as the device sent it (before `&Log=`, `&CorrelationID=`, `&cafeReqId=`).
    pub query: &'a str,
    /// Whether `query` is the base64 form.
    pub base64: bool,
    /// The `Log=` value, as written.
    pub log: Option<&'a str>,
    /// `cs-uri-query` as written.
    pub raw_query: &'a str,
    pub command: Option<Cow<'a, str>>,
    /// The command, when known.
    pub command_id: Option<Command>,
    /// The `User=` value, as written (percent-encoded; see [`EasLine::user`]).
    pub user_raw: Option<Cow<'a, str>>,
    pub device_id: Option<Cow<'a, str>>,
    pub device_type: Option<Cow<'a, str>>,
    /// `cs-username` (the authenticated user; `-` for an anonymous challenge).
    pub user_name: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    /// `cs(User-Agent)` as written (spaces as `+`).
    pub user_agent: Option<&'a str>,
    pub host: Option<&'a str>,
    pub port: Option<&'a str>,
    pub status: u16,
    pub substatus: u32,
    pub win32: u32,
    pub time_taken_ms: Option<u64>,
    pub sc_bytes: Option<u64>,
    pub cs_bytes: Option<u64>,
    pub forwarded_for: Option<&'a str>,
    /// A Managed Availability or load-balancer probe (`AMProbe` agent, `HealthMailbox` user).
    pub probe: bool,
}

impl EasLine<'_> {
    /// The `User=` value, percent-decoded.
    pub fn user(&self) -> Option<Cow<'_, str>> {
        self.user_raw.as_deref().map(unescape)
    }

    /// The user as a report names them, as written (percent-encoded): `User=` from the query,
    /// else `cs-username`.
    pub fn who_raw(&self) -> &str {
        self.user_raw.as_deref().or(self.user_name).unwrap_or("")
    }

    /// The user as a report names them: `User=` from the query, else `cs-username`.
    pub fn who(&self) -> Cow<'_, str> {
        unescape(self.who_raw())
    }

    /// The user agent with IIS's `+` read back as spaces.
    pub fn user_agent_text(&self) -> Option<String> {
        self.user_agent.map(|u| u.replace('+', " "))
    }

    /// When the request started: the line's time minus `time-taken`.
    pub fn start_ms(&self) -> i64 {
        self.time_ms - self.time_taken_ms.unwrap_or(0).min(i64::MAX as u64) as i64
    }
}

/// What one request line is.
#[allow(clippy::large_enum_variant)] // one per line, never stored: a box would cost an allocation each
pub enum Classified<'a> {
    ActiveSync(EasLine<'a>),
    /// Another virtual directory (`/owa`, `/EWS`, …).
    Other,
    /// The date or time does not read.
    BadTime,
}

/// Whether `stem` is under the ActiveSync virtual directory.
pub fn is_activesync_stem(stem: &str) -> bool {
    const VDIR: &str = "/Microsoft-Server-ActiveSync";
    stem.len() >= VDIR.len()
        && stem.as_bytes()[..VDIR.len()].eq_ignore_ascii_case(VDIR.as_bytes())
        && stem.as_bytes().get(VDIR.len()).is_none_or(|&b| b == b'/' || b == b'?')
}

/// Reads one request line split under `fields`.
#[inline]
pub fn read<'a>(fields: &FieldSet, values: &Values<'a>, dates: &mut Dates, blobs: &'a mut Blobs) -> Classified<'a> {
    let get = |k| fields.get(values, k);
    let stem = get(Known::Stem).unwrap_or("");
    if !is_activesync_stem(stem) {
        return Classified::Other;
    }
    let Some(time_ms) = get(Known::Time).and_then(|t| match get(Known::Date) {
        Some(d) => dates.millis(d, t),
        None => None,
    }) else {
        return Classified::BadTime;
    };
    let raw_query = get(Known::Query).unwrap_or("");
    let (query, log) = split_query(raw_query);
    let number = |k| get(k).and_then(|v: &str| v.parse::<u64>().ok());
    let mut line = EasLine {
        time_ms,
        server: get(Known::ComputerName).or(get(Known::ServerIp)).unwrap_or(""),
        server_name: get(Known::ComputerName),
        server_ip: get(Known::ServerIp),
        site: get(Known::SiteName),
        role: Role::FrontEnd,
        method: get(Known::Method).unwrap_or(""),
        stem,
        query,
        base64: false,
        log,
        raw_query,
        command: None,
        command_id: None,
        user_raw: None,
        device_id: None,
        device_type: None,
        user_name: get(Known::UserName),
        client_ip: get(Known::ClientIp),
        user_agent: get(Known::UserAgent),
        host: get(Known::Host),
        port: get(Known::Port),
        status: number(Known::Status).map_or(0, |n| n.min(999) as u16),
        substatus: number(Known::Substatus).map_or(0, |n| n.min(u32::MAX as u64) as u32),
        win32: number(Known::Win32).map_or(0, |n| n.min(u32::MAX as u64) as u32),
        time_taken_ms: number(Known::TimeTaken),
        sc_bytes: number(Known::ScBytes),
        cs_bytes: number(Known::CsBytes),
        forwarded_for: get(Known::ForwardedFor),
        probe: false,
    };
    const VDIR: usize = "/Microsoft-Server-ActiveSync".len();
    line.role = if stem.len() >= VDIR + 6 && stem.as_bytes()[VDIR..VDIR + 6].eq_ignore_ascii_case(b"/proxy") {
        Role::BackEnd
    } else if log.is_some() {
        Role::Cas
    } else {
        Role::FrontEnd
    };
    read_identity(&mut line, blobs);
    line.probe = line.user_agent.is_some_and(|a| a.starts_with("AMProbe")) || names_health_mailbox(line.who_raw());
    Classified::ActiveSync(line)
}

/// Whether `user` holds `HealthMailbox` (any case): Managed Availability's probes sign in as one.
fn names_health_mailbox(user: &str) -> bool {
    const NAME: &[u8] = b"healthmailbox";
    let b = user.as_bytes();
    memchr::memchr2_iter(b'h', b'H', b).any(|i| b.get(i..i + NAME.len()).is_some_and(|w| w.eq_ignore_ascii_case(NAME)))
}

/// The device's query and the `Log=` value, found in one pass over the `&`s (a query is short,
/// but a busy server writes millions of them), which stops at the `&` that ends `Log=`.
fn split_query(raw: &str) -> (&str, Option<&str>) {
    if let Some(log) = raw.strip_prefix("Log=") {
        return ("", Some(&log[..log.find('&').unwrap_or(log.len())]));
    }
    let bytes = raw.as_bytes();
    let mut end = None;
    // Where the first `Log=` value starts, while its end is not found.
    let mut log_from = None;
    let mut log = None;
    for i in delimiters::positions(bytes, b'&') {
        if let Some(from) = log_from.take() {
            log = Some(&raw[from..i]);
            if end.is_some() {
                break;
            }
        }
        let rest = &bytes[i + 1..];
        let is_log = rest.starts_with(b"Log=");
        if end.is_none() && (is_log || rest.starts_with(b"CorrelationID=") || rest.starts_with(b"cafeReqId=")) {
            end = Some(i);
        }
        if is_log && log.is_none() {
            log_from = Some(i + 5);
        }
    }
    if let Some(from) = log_from {
        log = Some(&raw[from..]);
    }
    (&raw[..end.unwrap_or(raw.len())], log)
}

impl<'a> EasLine<'a> {
    /// The front end's `cafeReqId`, or the back end's `ActivityID` in `Log=`: the same GUID for
    /// one request.
    pub fn request_id(&self) -> Option<&'a str> {
        let id = match self.raw_query.find("cafeReqId=") {
            Some(i) => &self.raw_query[i + 10..],
            None => {
                let l = self.log?;
                let i = l.find("ActivityID%3d").or_else(|| l.find("ActivityID%3D"))?;
                &l[i + 13..]
            }
        };
        Some(&id[..id.find([';', '%', '&', '_']).unwrap_or(id.len())]).filter(|id| !id.is_empty())
    }
}

/// Percent-decoded (a `+` stays: it may be literal, `iis-eas-log.md` §1).
fn unescape(v: &str) -> Cow<'_, str> {
    // A byte loop: the values are short, and a memchr call costs more to set up.
    if v.bytes().any(|c| c == b'%') {
        percent_decode_str(v).decode_utf8_lossy()
    } else {
        Cow::Borrowed(v)
    }
}

/// What a base64 blob decodes to: command, user (written back as a query has it), device id and
/// type; all `None` when the blob does not decode.
type Identity<'a> = [Option<&'a str>; 4];

/// Buffers for decoding base64 queries, kept from line to line: a line's fields borrow them, and
/// decoding allocates nothing once they have grown (a front end writes a blob on most lines, and
/// a fleet sends more distinct blobs than a cache would hold: each carries the policy key).
#[derive(Default)]
pub struct Blobs {
    scratch: Vec<u8>,
    bytes: Vec<u8>,
    text: String,
}

impl Blobs {
    /// `blob`'s identity, as [`query::decode_base64_query`] reads it (the same values and the same
    /// failures).
    fn identity(&mut self, blob: &str) -> Identity<'_> {
        self.bytes.clear();
        self.text.clear();
        let Ok((command, user, id, kind)) = self.read(blob) else {
            return Default::default();
        };
        let t = self.text.as_str();
        [Some(&t[command]), user.map(|u| &t[u]), Some(&t[id]), Some(&t[kind])]
    }

    /// Writes command, user, device id and type one after another in `text`; where each is
    /// (the user only when the blob has one).
    #[allow(clippy::type_complexity)]
    fn read(
        &mut self,
        blob: &str,
    ) -> Result<(Range<usize>, Option<Range<usize>>, Range<usize>, Range<usize>), query::QueryError> {
        use std::fmt::Write as _;
        query::base64_query_bytes(blob, &mut self.scratch, &mut self.bytes)?;
        let fields = query::Base64Fields::read(&self.bytes)?;
        let user = fields.user()?;
        let t = &mut self.text;
        match Command::from_code(fields.code) {
            Some(c) => t.push_str(c.name()),
            None => {
                let _ = write!(t, "code {}", fields.code);
            }
        }
        let command = t.len();
        if let Some(u) = user {
            // Written back as a query would have it: the reports unescape the user.
            for piece in String::from_utf8_lossy(u).split_inclusive('%') {
                t.push_str(piece);
                if piece.ends_with('%') {
                    t.push_str("25");
                }
            }
        }
        let user_end = t.len();
        query::push_device_id(t, fields.device_id);
        let id = t.len();
        t.push_str(&String::from_utf8_lossy(fields.device_type));
        let user = user.is_some().then_some(command..user_end);
        Ok((0..command, user, user_end..id, id..t.len()))
    }
}

/// Command, user, device id and type from the plain query, or from the base64 blob.
fn read_identity<'a>(line: &mut EasLine<'a>, blobs: &'a mut Blobs) {
    let q = line.query;
    let b = q.as_bytes();
    let first_end = b.iter().position(|&c| c == b'&').unwrap_or(b.len());
    let first = &q[..first_end];
    if !first.is_empty() && !first.trim_end_matches('=').bytes().any(|c| c == b'=') {
        line.base64 = true;
        let [command, user, device_id, device_type] = blobs.identity(first);
        line.command = command.map(Cow::Borrowed);
        line.user_raw = user.map(Cow::Borrowed);
        line.device_id = device_id.map(Cow::Borrowed);
        line.device_type = device_type.map(Cow::Borrowed);
        canonical_command(line);
        return;
    }
    for pair in delimiters::pieces(b, b'&') {
        read_pair(line, &q[pair]);
    }
    canonical_command(line);
}

/// Command, user, device id or type from one `name=value` pair of a plain query (the first of
/// each wins).
#[inline]
fn read_pair<'a>(line: &mut EasLine<'a>, pair: &'a str) {
    let Some(eq) = pair.bytes().position(|c| c == b'=') else {
        return;
    };
    let (name, value) = (&pair[..eq], &pair[eq + 1..]);
    if value.is_empty() {
        return;
    }
    let slot = match name.len() {
        3 if name.eq_ignore_ascii_case("Cmd") => &mut line.command,
        4 if name.eq_ignore_ascii_case("User") => {
            if line.user_raw.is_none() {
                line.user_raw = Some(Cow::Borrowed(value));
            }
            return;
        }
        8 if name.eq_ignore_ascii_case("DeviceId") => &mut line.device_id,
        10 if name.eq_ignore_ascii_case("DeviceType") => &mut line.device_type,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(unescape(value));
    }
}

/// The command in its canonical spelling (`sync` → `Sync`), and which it is.
fn canonical_command(line: &mut EasLine<'_>) {
    line.command_id = line.command.as_deref().and_then(Command::from_name);
    if let Some(c) = line.command_id {
        line.command = Some(Cow::Borrowed(c.name()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iis::w3c::{MAX_FIELDS, Spaces};
    use std::sync::Arc;

    #[test]
    fn a_health_mailbox_is_named_in_any_case_anywhere() {
        for (user, is) in [
            ("HealthMailbox0f1e2d3c@contoso.com", true),
            ("CONTOSO%5CHEALTHMAILBOX9", true),
            ("healthmailbox", true),
            ("x.healthmailbo", false),
            ("healthmailbo", false),
            ("", false),
            ("jdoe@contoso.com", false),
            ("hhhhhhhhhhhhhhhealthmailboxé", true),
            ("éhealthmailbox", true),
        ] {
            assert_eq!(names_health_mailbox(user), is, "{user}");
        }
    }

    /// `split_query` as first written: every `&` looked at, the `Log=` value found again.
    fn split_query_reference(raw: &str) -> (&str, Option<&str>) {
        if let Some(log) = raw.strip_prefix("Log=") {
            return ("", Some(&log[..log.find('&').unwrap_or(log.len())]));
        }
        let mut end = raw.len();
        let mut log = None;
        for (i, _) in raw.match_indices('&') {
            let rest = &raw[i + 1..];
            if rest.starts_with("Log=") || rest.starts_with("CorrelationID=") || rest.starts_with("cafeReqId=") {
                end = end.min(i);
            }
            if log.is_none()
                && let Some(v) = rest.strip_prefix("Log=")
            {
                log = Some(&v[..v.find('&').unwrap_or(v.len())]);
            }
        }
        (&raw[..end], log)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn the_query_and_log_split_in_one_pass_as_in_two(
            parts in proptest::collection::vec(
                "(Log=|CorrelationID=|cafeReqId=|Cmd=|User=|Lo|x=)[A-Za-z0-9_:%=]{0,90}",
                0..6,
            ),
            lead in "[A-Za-z0-9=]{0,3}",
        ) {
            let raw = format!("{lead}{}", parts.iter().map(|p| format!("&{p}")).collect::<String>());
            proptest::prop_assert_eq!(split_query(&raw), split_query_reference(&raw));
            let bare = raw.trim_start_matches('&');
            proptest::prop_assert_eq!(split_query(bare), split_query_reference(bare));
        }
    }

    const FIELDS: &str = " date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";

    fn eas(line: &str, fields: &str) -> EasLine<'static> {
        let fields = Arc::new(FieldSet::parse(fields));
        let line: &'static str = Box::leak(line.to_string().into_boxed_str());
        let spaces: &'static mut Spaces = Box::leak(Box::new([0; MAX_FIELDS]));
        let values = Values::split(line, spaces).unwrap();
        assert_eq!(values.len(), fields.len());
        match read(&fields, &values, &mut Dates::default(), Box::leak(Box::default())) {
            Classified::ActiveSync(l) => l,
            _ => panic!("not ActiveSync: {line}"),
        }
    }

    #[test]
    fn the_reference_lines_read() {
        // Exchange 2010 CAS (iis-eas-log.md §3.3).
        let l = eas(
            "2016-08-21 00:01:43 20.0.18.20 POST /Microsoft-Server-ActiveSync/default.eas Cmd=Ping&User=cdrcb.com%5Cdengmu&DeviceId=androidc537050526&DeviceType=KSAndroid&Log=V141_Hb1680_S3_ 443 cdrcb.com\\dengmu 117.136.63.27 KSAndroid/5.1.1-EAS-1.3 200 0 0 218",
            FIELDS,
        );
        assert_eq!(l.role, Role::Cas);
        assert_eq!(
            (
                l.command.as_deref(),
                l.user().as_deref(),
                l.device_id.as_deref(),
                l.device_type.as_deref()
            ),
            (
                Some("Ping"),
                Some("cdrcb.com\\dengmu"),
                Some("androidc537050526"),
                Some("KSAndroid")
            )
        );
        assert_eq!(l.log, Some("V141_Hb1680_S3_"));
        assert_eq!(
            (l.status, l.time_taken_ms, l.start_ms()),
            (200, Some(218), l.time_ms - 218)
        );
        assert_eq!(
            l.query,
            "Cmd=Ping&User=cdrcb.com%5Cdengmu&DeviceId=androidc537050526&DeviceType=KSAndroid"
        );
        // 2013+ front end: no Log, cafeReqId; 401.2 challenge with no user.
        let l = eas(
            "2024-05-02 09:02:10 10.0.0.11 POST /Microsoft-Server-ActiveSync/default.eas Cmd=FolderSync&User=bwhite&DeviceId=SYNTH0003&DeviceType=SamsungDevice&CorrelationID=<empty>;&cafeReqId=3f2a9c1e-0000-4000-8000-00000000a001; 443 - 203.0.113.7 SAMSUNG-SM-S911B/101.140101 401 2 2148074254 15",
            FIELDS,
        );
        assert_eq!(
            (l.role, l.status, l.substatus, l.win32),
            (Role::FrontEnd, 401, 2, 2148074254)
        );
        assert_eq!(l.request_id(), Some("3f2a9c1e-0000-4000-8000-00000000a001"));
        assert_eq!((l.user_name, l.who().as_ref()), (None, "bwhite"));
        // 2013+ back end with an ActivityID.
        let l = eas(
            "2024-05-02 09:10:30 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=Provision&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&Log=SC1:1_PrxFrom:10.0.0.11_Pk:0_ActivityContextData:ActivityID%3d3f2a9c1e-0000-4000-8000-00000000a002%3bS%3aWLM.BT%3dEas_ 444 CONTOSO\\jdoe 10.0.0.11 Apple-iPhone15C2/2107.102 200 0 0 140",
            FIELDS,
        );
        assert_eq!(l.role, Role::BackEnd);
        assert_eq!(l.user().as_deref(), Some("jdoe@contoso.com"));
        assert_eq!(l.request_id(), Some("3f2a9c1e-0000-4000-8000-00000000a002"));
        // The base64 form (the spec's sample blob), Log after it.
        let l = eas(
            "2024-05-02 09:07:12 10.0.0.5 POST /Microsoft-Server-ActiveSync jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l&Log=V140_S1_ 443 CONTOSO\\rmjones 198.51.100.20 MSFT-WP/8.0.10512 200 0 0 240",
            FIELDS,
        );
        assert!(l.base64);
        assert_eq!(
            (l.command.as_deref(), l.device_id.as_deref(), l.device_type.as_deref()),
            (Some("Sync"), Some("v140Device"), Some("SmartPhone"))
        );
        assert_eq!(l.who(), "CONTOSO\\rmjones");
    }

    #[test]
    fn other_directories_and_probes() {
        let fields = Arc::new(FieldSet::parse(" date time cs-uri-stem cs(User-Agent)"));
        let mut dates = Dates::default();
        for (line, activesync) in [
            ("2024-05-02 00:00:01 /owa/ Mozilla", false),
            ("2024-05-02 00:00:01 /Microsoft-Server-ActiveSyncX x", false),
            ("2024-05-02 00:00:01 /microsoft-server-activesync x", true),
        ] {
            let mut spaces = [0; MAX_FIELDS];
            let v = Values::split(line, &mut spaces).unwrap();
            assert_eq!(
                matches!(
                    read(&fields, &v, &mut dates, &mut Blobs::default()),
                    Classified::ActiveSync(_)
                ),
                activesync,
                "{line}"
            );
        }
        let mut spaces = [0; MAX_FIELDS];
        let v = Values::split(
            "2024-05-02 00:00:01 /Microsoft-Server-ActiveSync/default.eas AMProbe/Local/ClientAccess",
            &mut spaces,
        )
        .unwrap();
        let mut blobs = Blobs::default();
        let Classified::ActiveSync(l) = read(&fields, &v, &mut dates, &mut blobs) else {
            panic!()
        };
        assert!(l.probe);
        let mut spaces = [0; MAX_FIELDS];
        let v = Values::split("2024-13-02 00:00:01 /Microsoft-Server-ActiveSync x", &mut spaces).unwrap();
        assert!(matches!(
            read(&fields, &v, &mut dates, &mut Blobs::default()),
            Classified::BadTime
        ));
    }

    /// What the engine's full decoder makes of a blob, as an identity.
    fn decoded(blob: &str) -> [Option<String>; 4] {
        match query::decode_base64_query(blob) {
            Ok(d) => [
                d.command_raw,
                d.user.map(|u| u.replace('%', "%25")),
                d.device_id,
                d.device_type,
            ],
            Err(_) => Default::default(),
        }
    }

    fn owned(id: Identity<'_>) -> [Option<String>; 4] {
        id.map(|v| v.map(str::to_string))
    }

    #[test]
    fn a_blob_reads_as_the_full_decoder_reads_it() {
        use base64::Engine as _;
        let mut blobs = Blobs::default();
        // Command 9 (Sync), device id, policy key, type, User with a '%', a binary device id,
        // an unknown command code, a cut-off parameter, not base64 at all.
        let good = [
            &[
                141u8, 0, 9, 4, 4, b'a', b'b', b'c', b'd', 4, 1, 2, 3, 4, 2, b'i', b'P', 8, 5, b'a', b'%', b'4', b'0',
                b'b',
            ][..],
            &[161, 1, 9, 4, 3, 0, 0xff, 0x10, 0, 0, 8, 2, 0xc3, 0x28],
            &[141, 99, 9, 4, 1, b'q', 0, 0],
            &[141, 0, 9, 4, 1, b'q', 0, 1, b't', 8, 9, b'u'],
            &[141, 0, 9, 4, 0],
        ];
        for bytes in good {
            let std = base64::engine::general_purpose::STANDARD.encode(bytes);
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            let escaped = std.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
            let spaced = std.replace('+', " ");
            for blob in [std, url, escaped, spaced] {
                assert_eq!(owned(blobs.identity(&blob)), decoded(&blob), "{blob}");
            }
        }
        for blob in ["not base64!", "%ZZ", "%C3%28AAAA"] {
            assert_eq!(owned(blobs.identity(blob)), decoded(blob), "{blob}");
        }
        let engine = base64::engine::general_purpose::STANDARD;
        assert_eq!(
            owned(blobs.identity(&engine.encode(good[0]))),
            [Some("Sync"), Some("a%2540b"), Some("abcd"), Some("iP")].map(|v| v.map(str::to_string))
        );
        assert_eq!(
            owned(blobs.identity(&engine.encode(good[1]))),
            [Some("SendMail"), Some("\u{fffd}("), Some("00FF10"), Some("")].map(|v| v.map(str::to_string))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_blob_reads_as_the_full_decoder_reads_it(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            use base64::Engine as _;
            let blob = base64::engine::general_purpose::STANDARD.encode(&bytes);
            proptest::prop_assert_eq!(owned(Blobs::default().identity(&blob)), decoded(&blob));
        }
    }
}
