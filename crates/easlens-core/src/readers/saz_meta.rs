//! Fiddler's per-session metadata `raw/N_m.xml`.
//!
//! Read tolerantly: a BOM, unknown elements and attributes, timers with 0–7 fraction digits and an
//! offset or `Z`, `0001-01-01T00:00:00` for "not set", hexadecimal BitFlags without a prefix (other
//! writers use decimal, so the value is only a hint), flag names in any case, locale-formatted
//! numbers. Every value that cannot be read becomes a note; nothing here fails.
//!
//! ```xml
//! <Session SID="72" BitFlags="19" Aborted="true">
//!   <SessionTimers ClientConnected="2025-08-30T11:33:29.356942-07:00" … />
//!   <PipeInfo CltReuse="true" />
//!   <TunnelInfo BytesEgress="0" BytesIngress="0" />
//!   <SessionFlags><SessionFlag N="x-clientip" V="127.0.0.1" /></SessionFlags>
//! </Session>
//! ```

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::model::{Timer, Timers};

/// Fiddler's session BitFlags that the reader uses.
pub mod bits {
    pub const IS_HTTPS: u64 = 0x1;
    pub const RESPONSE_GENERATED_BY_FIDDLER: u64 = 0x100;
    pub const LOADED_FROM_SAZ: u64 = 0x200;
    pub const IS_BLIND_TUNNEL: u64 = 0x1000;
    pub const IS_DECRYPTING_TUNNEL: u64 = 0x2000;
    pub const TUNNEL: u64 = IS_BLIND_TUNNEL | IS_DECRYPTING_TUNNEL;
    /// A rule dropped the response body: an empty body under the original headers.
    pub const RESPONSE_BODY_DROPPED: u64 = 0x20000;
    /// The same for the request body (later builds).
    pub const REQUEST_BODY_DROPPED: u64 = 0x100000;
}

/// What a `_m.xml` says about its session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionMeta {
    /// Fiddler's session id (`SID`).
    pub sid: Option<u64>,
    /// The BitFlags text as written (hexadecimal for Fiddler, decimal for some other writers).
    pub bit_flags_text: Option<String>,
    /// BitFlags read as hexadecimal, when the text is a hexadecimal number.
    pub bit_flags: Option<u64>,
    /// `Aborted="true"` on `<Session>`.
    pub aborted: bool,
    /// `<TunnelInfo>` is present (Fiddler writes it for CONNECT tunnels).
    pub tunnel_info: bool,
    pub timers: Timers,
    /// `x-clientip`
    pub client_ip: Option<String>,
    /// `x-hostip`
    pub server_ip: Option<String>,
    /// `x-processinfo` (`msedge:12140`)
    pub process: Option<String>,
    /// `ui-comments`
    pub comment: Option<String>,
    /// `x-responsebodytransferlength`, digits only (`3,643` → 3643).
    pub response_body_transfer_length: Option<u64>,
    /// Every SessionFlag, names lower-cased, in file order.
    pub flags: Vec<(String, String)>,
    /// Values that could not be read, and similar remarks.
    pub notes: Vec<String>,
}

impl SessionMeta {
    /// The value of a SessionFlag, the name compared case-insensitively.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `_m.xml`. Never fails: what cannot be read is left unset with a note.
pub fn parse(bytes: &[u8]) -> SessionMeta {
    let mut meta = SessionMeta::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        meta.notes.push("the metadata file is empty".into());
        return meta;
    }
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut seen_session = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = e.local_name();
                let name = name.as_ref();
                if name.eq_ignore_ascii_case(b"Session") && !seen_session {
                    seen_session = true;
                    session_attributes(&e, &mut meta);
                } else if name.eq_ignore_ascii_case(b"SessionTimers") {
                    timer_attributes(&e, &mut meta);
                } else if name.eq_ignore_ascii_case(b"SessionFlag") {
                    session_flag(&e, &mut meta);
                } else if name.eq_ignore_ascii_case(b"TunnelInfo") {
                    meta.tunnel_info = true;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                meta.notes
                    .push(format!("XML error at byte {}: {e}", reader.error_position()));
                break;
            }
        }
    }
    if !seen_session {
        meta.notes.push("no <Session> element".into());
    }
    meta
}

/// `(lower-cased name, unescaped value)` of every readable attribute.
fn attributes(e: &BytesStart<'_>, notes: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for attr in e.attributes().with_checks(false) {
        match attr {
            Ok(a) => {
                let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_ascii_lowercase();
                let value = match a.unescape_value() {
                    Ok(v) => v.into_owned(),
                    Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
                };
                out.push((key, value));
            }
            Err(err) => notes.push(format!("unreadable attribute: {err}")),
        }
    }
    out
}

fn session_attributes(e: &BytesStart<'_>, meta: &mut SessionMeta) {
    for (key, value) in attributes(e, &mut meta.notes) {
        match key.as_str() {
            "sid" => match value.trim().parse::<u64>() {
                Ok(v) => meta.sid = Some(v),
                Err(_) => meta.notes.push(format!("SID {value:?} is not a number; ignored")),
            },
            "bitflags" => {
                meta.bit_flags = match parse_bit_flags(&value) {
                    Ok(v) => Some(v),
                    Err(why) => {
                        meta.notes.push(format!("BitFlags {value:?} {why}; ignored"));
                        None
                    }
                };
                meta.bit_flags_text = Some(value.trim().to_string());
            }
            "aborted" => meta.aborted = value.trim().eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
}

fn timer_attributes(e: &BytesStart<'_>, meta: &mut SessionMeta) {
    for (key, value) in attributes(e, &mut meta.notes) {
        let timer = match key.as_str() {
            "clientconnected" => Timer::ClientConnected,
            "clientbeginrequest" => Timer::ClientBeginRequest,
            "clientdonerequest" => Timer::ClientDoneRequest,
            "serverconnected" => Timer::ServerConnected,
            "serverbeginresponse" => Timer::ServerBeginResponse,
            "clientdoneresponse" => Timer::ClientDoneResponse,
            _ => continue,
        };
        match parse_timer(&value) {
            Ok(t) => meta.timers.set(timer, t),
            Err(why) => meta.notes.push(format!("SessionTimers {key}: {why}")),
        }
    }
}

fn session_flag(e: &BytesStart<'_>, meta: &mut SessionMeta) {
    let attrs = attributes(e, &mut meta.notes);
    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(name) = get("n") else {
        meta.notes.push("SessionFlag without a name".into());
        return;
    };
    let name = name.trim().to_ascii_lowercase();
    let value = get("v").unwrap_or_default();
    match name.as_str() {
        "x-clientip" => meta.client_ip = non_empty(&value),
        "x-hostip" => meta.server_ip = non_empty(&value),
        "x-processinfo" => meta.process = non_empty(&value),
        "ui-comments" => meta.comment = non_empty(&value),
        "x-responsebodytransferlength" => match digits_only(&value) {
            Some(n) => meta.response_body_transfer_length = Some(n),
            None => meta
                .notes
                .push(format!("x-responsebodytransferlength {value:?} has no digits; ignored")),
        },
        _ => {}
    }
    meta.flags.push((name, value));
}

fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// BitFlags as Fiddler writes them: hexadecimal without a prefix (`2300` = 0x2300). A `0x` prefix
/// is accepted. Any other character (a sign, a decimal point, `&`…) makes the value unreadable.
pub fn parse_bit_flags(text: &str) -> Result<u64, &'static str> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if t.is_empty() {
        return Err("is empty");
    }
    if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("is not a hexadecimal number");
    }
    u64::from_str_radix(t, 16).map_err(|_| "is too large")
}

/// BitFlags text read as decimal (as Fluxzy writes it), when it is all digits.
pub fn parse_bit_flags_decimal(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// A .NET round-trip timestamp: `2025-08-30T11:33:29.356942-07:00`, 0–7 fraction digits, an offset
/// or `Z`; without an offset the time is read as UTC. `0001-01-01T00:00:00` (year 1) means "not
/// set" → `Ok(None)`.
pub fn parse_timer(text: &str) -> Result<Option<DateTime<FixedOffset>>, String> {
    let t = text.trim();
    if t.is_empty() || t.starts_with("0001-01-01") {
        return Ok(None);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(d));
    }
    // No offset (DateTimeKind.Unspecified), or a fraction chrono's RFC 3339 parser refused.
    if let Ok(d) = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%:z") {
        return Ok(Some(d));
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(n.and_utc().fixed_offset()));
    }
    Err(format!("{t:?} is not a date and time"))
}

/// The digits of a locale-formatted number (`3,643`, `206\u{a0}345`, `3'643`, `3.643` → 3643).
pub fn digits_only(text: &str) -> Option<u64> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() { None } else { digits.parse().ok() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTPBIN_2: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Session SID=\"72\" BitFlags=\"19\">\r\n  <SessionTimers ClientConnected=\"2025-08-30T11:33:29.356942-07:00\" ClientBeginRequest=\"2025-08-30T11:34:28.6859373-07:00\" GotRequestHeaders=\"2025-08-30T11:34:28.686944-07:00\" ClientDoneRequest=\"2025-08-30T11:34:28.686944-07:00\" GatewayTime=\"0\" DNSTime=\"0\" TCPConnectTime=\"0\" HTTPSHandshakeTime=\"0\" ServerConnected=\"2025-08-30T11:33:40.1488416-07:00\" FiddlerBeginRequest=\"2025-08-30T11:34:28.686944-07:00\" ServerGotRequest=\"2025-08-30T11:34:28.686944-07:00\" ServerBeginResponse=\"2025-08-30T11:34:28.8119049-07:00\" GotResponseHeaders=\"2025-08-30T11:34:28.8119049-07:00\" ServerDoneResponse=\"2025-08-30T11:34:28.8119049-07:00\" ClientBeginResponse=\"2025-08-30T11:34:28.8119049-07:00\" ClientDoneResponse=\"2025-08-30T11:34:28.8119049-07:00\" />\r\n  <PipeInfo CltReuse=\"true\" Reused=\"true\" />\r\n  <SessionFlags>\r\n    <SessionFlag N=\"https-client-version\" V=\"Tls12\" />\r\n    <SessionFlag N=\"x-responsebodytransferlength\" V=\"3,643\" />\r\n    <SessionFlag N=\"x-clientip\" V=\"127.0.0.1\" />\r\n    <SessionFlag N=\"x-hostip\" V=\"44.195.242.49\" />\r\n    <SessionFlag N=\"x-processinfo\" V=\"msedge:12140\" />\r\n  </SessionFlags>\r\n</Session>";

    #[test]
    fn fiddler_2025_metadata() {
        let m = parse(HTTPBIN_2.as_bytes());
        assert_eq!(m.sid, Some(72));
        assert_eq!(m.bit_flags, Some(0x19));
        assert_eq!(m.bit_flags_text.as_deref(), Some("19"));
        assert!(!m.aborted);
        assert_eq!(m.client_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(m.server_ip.as_deref(), Some("44.195.242.49"));
        assert_eq!(m.process.as_deref(), Some("msedge:12140"));
        assert_eq!(m.response_body_transfer_length, Some(3643));
        assert_eq!(m.flag("HTTPS-Client-Version"), Some("Tls12"));
        let started = m.timers.started().unwrap();
        assert_eq!(started.to_rfc3339(), "2025-08-30T11:34:28.685937300-07:00");
        assert_eq!(m.timers.client_connected().unwrap().timestamp_subsec_micros(), 356_942);
        let ms = m.timers.duration_ms().unwrap();
        assert!((ms - 125.9676).abs() < 0.001, "{ms}");
        assert!(m.notes.is_empty(), "{:?}", m.notes);
    }

    #[test]
    fn aborted_tunnel_unset_timers_and_case() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<session sid="34" bitflags="2100" ABORTED="True">
  <SessionTimers ClientConnected="2020-04-02T04:33:00.6045201+00:00" ServerBeginResponse="0001-01-01T00:00:00" ClientDoneResponse="2020-04-02T04:33:00Z" />
  <TunnelInfo BytesEgress="0" BytesIngress="0" />
  <CertificateChainInfo><Cert>abc</Cert></CertificateChainInfo>
  <SessionFlags>
    <SessionFlag N="X-ClientIP" V="::1" />
    <SessionFlag N="UI-Comments" V="[#22] a &amp; b &#x41;" />
    <SessionFlag N="x-responsebodytransferlength" V="206&#160;345" />
  </SessionFlags>
</session>"#;
        let m = parse(xml);
        assert_eq!(m.sid, Some(34));
        assert_eq!(m.bit_flags, Some(0x2100));
        assert!(m.bit_flags.unwrap() & bits::TUNNEL != 0);
        assert!(m.aborted);
        assert!(m.tunnel_info);
        assert_eq!(m.timers.server_begin_response(), None);
        assert_eq!(
            m.timers.client_done_response().unwrap().to_rfc3339(),
            "2020-04-02T04:33:00+00:00"
        );
        assert_eq!(m.client_ip.as_deref(), Some("::1"));
        assert_eq!(m.comment.as_deref(), Some("[#22] a & b A"));
        assert_eq!(m.response_body_transfer_length, Some(206_345));
        assert!(m.notes.is_empty(), "{:?}", m.notes);
    }

    #[test]
    fn bit_flags_are_hex_and_a_hint() {
        assert_eq!(parse_bit_flags("19"), Ok(0x19));
        assert_eq!(parse_bit_flags("8108"), Ok(0x8108));
        assert_eq!(parse_bit_flags("0x2300"), Ok(0x2300));
        assert_eq!(parse_bit_flags("ff"), Ok(0xff));
        assert!(parse_bit_flags("-1").is_err());
        assert!(parse_bit_flags("12.5").is_err());
        assert!(parse_bit_flags("").is_err());
        assert!(parse_bit_flags("fffffffffffffffff").is_err());
        assert_eq!(parse_bit_flags_decimal("8448"), Some(0x2100));
        assert_eq!(parse_bit_flags_decimal("2a"), None);
        let m = parse(br#"<Session SID="1" BitFlags="-257"/>"#);
        assert_eq!(m.bit_flags, None);
        assert_eq!(m.bit_flags_text.as_deref(), Some("-257"));
        assert!(m.notes[0].contains("BitFlags"), "{:?}", m.notes);
    }

    #[test]
    fn timers_fraction_digits_and_offsets() {
        for (text, micros) in [
            ("2020-04-02T04:32:04+00:00", 0),
            ("2020-04-02T04:32:04.6+00:00", 600_000),
            ("2020-04-02T04:32:04.62786+02:00", 627_860),
            ("2020-04-02T04:32:04.6278649-07:00", 627_864),
            ("2020-04-02T04:32:04.6278649Z", 627_864),
            ("2020-04-02T04:32:04.6278649", 627_864),
        ] {
            let t = parse_timer(text).unwrap().unwrap_or_else(|| panic!("{text}"));
            assert_eq!(t.timestamp_subsec_micros(), micros, "{text}");
        }
        assert_eq!(
            parse_timer("2020-04-02T04:32:04.6278649")
                .unwrap()
                .unwrap()
                .offset()
                .local_minus_utc(),
            0
        );
        assert_eq!(parse_timer("0001-01-01T00:00:00"), Ok(None));
        assert_eq!(parse_timer(""), Ok(None));
        assert!(parse_timer("yesterday").is_err());
        let m = parse(br#"<Session SID="1"><SessionTimers ClientConnected="soon" /></Session>"#);
        assert_eq!(m.timers.client_connected(), None);
        assert!(m.notes[0].contains("clientconnected"), "{:?}", m.notes);
    }

    #[test]
    fn digits_of_locale_numbers() {
        assert_eq!(digits_only("3,643"), Some(3643));
        assert_eq!(digits_only("206\u{a0}345"), Some(206_345));
        assert_eq!(digits_only("3'643"), Some(3643));
        assert_eq!(digits_only("3.643"), Some(3643));
        assert_eq!(digits_only("n/a"), None);
    }

    #[test]
    fn broken_and_empty_metadata() {
        let m = parse(b"");
        assert!(m.notes[0].contains("empty"));
        let m = parse(b"\xEF\xBB\xBF   ");
        assert!(m.notes[0].contains("empty"));
        let m = parse(br#"<Session SID="5" BitFlags="1"><SessionFlags><SessionFlag N="x-clientip" V="1.2.3.4"/>"#);
        assert_eq!(
            (m.sid, m.bit_flags, m.client_ip.as_deref()),
            (Some(5), Some(1), Some("1.2.3.4"))
        );
        let m = parse(br#"<Session SID="5" <<<"#);
        assert!(!m.notes.is_empty());
        let m = parse(br#"<Other/>"#);
        assert_eq!(m.notes, vec!["no <Session> element".to_string()]);
        let m = parse(br#"<Session SID="abc"/>"#);
        assert_eq!(m.sid, None);
        assert!(m.notes[0].contains("SID"));
    }
}
