//! What the command line writes for hostile captures: control, C1 and bidi characters from a
//! capture are written out visibly in every text output (never as the raw sequences that change a
//! terminal's title, clear it or reorder the text), cuts never leave a sequence open, credentials
//! without a known scheme are never printed, and JSON keeps the values as they are (serde_json
//! escapes C0). The hostile strings are generated here.

mod common;

use common::{Temp, exchange};

use common::easlens;
use easlens_core::wbxml::{encode, from_xml};
use easlens_core::writers::Exchange;
use easlens_core::writers::saz::{SazOptions, write_saz_file};
use serde_json::Value;

/// Sets the window title, rings the bell, clears the screen and colours the rest red.
const ESC_SEQ: &str = "\u{1b}]0;PWNED-TITLE\u{7}\u{1b}[2J\u{1b}[31;1mINJECTED\u{1b}[0m";
/// The same as character references, for XML that is encoded to WBXML.
const ESC_REF: &str = "&#x1B;]0;PWNED-TITLE&#x7;&#x1B;[2J&#x1B;[31;1mINJECTED&#x1B;[0m";
/// CSI as a C1 control, a right-to-left override, an isolate and a right-to-left mark.
const C1_BIDI: &str = "\u{9b}31m\u{202e}txt.exe\u{2066}x\u{2069}\u{200f}";
const C1_BIDI_REF: &str = "&#x9B;31m&#x202E;txt.exe&#x2066;x&#x2069;&#x200F;";
/// A credential sent without any scheme (`user:hunter2`).
const BARE_CREDENTIAL: &str = "dXNlcjpodW50ZXIy";

fn wbxml(xml: &str) -> Vec<u8> {
    encode(&from_xml(xml).unwrap_or_else(|e| panic!("test XML: {e}\n{xml}")))
}

fn http(head: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "{head}\r\n{extra_headers}Content-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

fn saz(name: &str, sessions: &[Exchange]) -> Temp {
    let t = Temp::new("output-safety", name);
    write_saz_file(t.path(), sessions, &SazOptions::default()).unwrap();
    t
}

/// A Sync of collection `5` whose keys, ids and subject carry the hostile strings.
fn hostile_sync(sid: u64, key: &str, new_key: &str, subject: &str) -> Exchange {
    let request = wbxml(&format!(
        r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{key}</SyncKey><CollectionId>5{ESC_REF}</CollectionId><Commands><Change><ServerId>5:1</ServerId><ApplicationData><Subject xmlns="Email:">{subject}</Subject></ApplicationData></Change></Commands></Collection></Collections></Sync>"#
    ));
    let response = wbxml(&format!(
        r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{new_key}</SyncKey><CollectionId>5{ESC_REF}</CollectionId><Status>1</Status></Collection></Collections></Sync>"#
    ));
    let target = format!(
        "POST https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=jdoe{ESC_SEQ}&DeviceId=DEV{ESC_SEQ}&DeviceType=t%1B%5D0%3BX%07 HTTP/1.1"
    );
    exchange(
        sid,
        http(
            &target,
            &format!("Host: mail.example.com{ESC_SEQ}\r\nMS-ASProtocolVersion: 14.1\r\n"),
            &request,
        ),
        Some(http(&format!("HTTP/1.1 200 OK{ESC_SEQ}"), "", &response)),
    )
}

/// Three Syncs with hostile strings everywhere, and three 401s whose Authorization has no scheme.
fn hostile_capture() -> Temp {
    let long_subject = format!("first{ESC_REF}{C1_BIDI_REF}{}", "x".repeat(60));
    let mut sessions = vec![
        hostile_sync(1, &format!("1{ESC_REF}"), &format!("2{ESC_REF}"), &long_subject),
        hostile_sync(
            2,
            &format!("2{ESC_REF}"),
            &format!("3{ESC_REF}"),
            &format!("second{C1_BIDI_REF}"),
        ),
        hostile_sync(3, "1", "1", &format!("third{ESC_REF}")),
    ];
    for sid in 4..=6 {
        let target = format!(
            "POST https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Ping&User=jdoe&DeviceId=DEV{ESC_SEQ}&DeviceType=t HTTP/1.1"
        );
        sessions.push(exchange(
            sid,
            http(
                &target,
                &format!("Host: mail.example.com\r\nAuthorization: {BARE_CREDENTIAL}\r\nCookie: s=SECRETCOOKIE\r\n"),
                b"",
            ),
            Some(http(
                &format!("HTTP/1.1 401 Unauthorized{ESC_SEQ}"),
                "Set-Cookie: s=SECRETSET\r\n",
                b"",
            )),
        ));
    }
    saz("hostile.saz", &sessions)
}

/// Every character a terminal would act on, or that reorders text: everything [`easlens`] writes
/// as text must be free of them (line feeds excepted).
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (i, c) in text.char_indices() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(
            !bad,
            "{what}: raw U+{:04X} at byte {i}:\n{}",
            u32::from(c),
            &text[i.saturating_sub(80)..(i + 40).min(text.len())]
        );
    }
}

fn text_of(args: &[&str]) -> String {
    let out = easlens(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_terminal_safe(&format!("{args:?} stdout"), &out.stdout);
    assert_terminal_safe(&format!("{args:?} stderr"), &out.stderr);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_text_output_writes_escapes_instead_of_sequences() {
    let capture = hostile_capture();
    let file = capture.arg();
    let sessions = text_of(&["sessions", file]);
    assert!(sessions.contains("\\x1b]0;PWNED-TITLE\\x07\\x1b[2J"), "{sessions}");
    let findings = text_of(&["findings", file]);
    assert!(findings.contains("DEV\\x1b]0;PWNED-TITLE\\x07"), "{findings}");
    let synckeys = text_of(&["synckeys", file]);
    assert!(synckeys.contains("Collection 5\\x1b]0;PWNED-TITLE\\x07"), "{synckeys}");
    assert!(synckeys.contains("1\\x1b]0;PWNED-TITLE\\x07"), "{synckeys}");
    let history = text_of(&["history", file, "--item", "5:1"]);
    assert!(
        history.contains("second\\u{9b}31m\\u{202e}txt.exe\\u{2066}x\\u{2069}\\u{200f}"),
        "{history}"
    );
}

#[test]
fn history_cuts_the_escaped_text_never_a_sequence() {
    let capture = hostile_capture();
    let history = text_of(&["history", capture.arg(), "--item", "5:1"]);
    // The first subject is longer than the column: cut after whole escapes, marked with `…`.
    let line = history
        .lines()
        .find(|l| l.trim_start().starts_with("first"))
        .unwrap_or_else(|| panic!("{history}"));
    let subject = line.trim_start();
    assert!(subject.ends_with('…'), "{subject}");
    assert!(subject.chars().count() <= 80, "{subject}");
    let kept = subject.trim_end_matches('…');
    for open in ["\\", "\\x", "\\x1", "\\u", "\\u{", "\\u{2", "\\u{20", "\\u{202"] {
        assert!(!kept.ends_with(open), "cut inside an escape: {subject}");
    }
    // The escaped text is what was cut: the escapes before the cut are whole.
    assert!(
        subject.starts_with("first\\x1b]0;PWNED-TITLE\\x07\\x1b[2J"),
        "{subject}"
    );
}

#[test]
fn a_credential_without_a_known_scheme_is_never_printed() {
    let capture = hostile_capture();
    let text = text_of(&["findings", capture.arg()]);
    assert!(text.contains("credentials of an unrecognised scheme"), "{text}");
    let json = easlens(&["findings", capture.arg(), "--json"]);
    assert_eq!(json.status.code(), Some(0));
    for (what, out) in [("text", text.as_bytes()), ("json", &json.stdout[..])] {
        let out = String::from_utf8_lossy(out);
        for secret in [BARE_CREDENTIAL, "hunter2", "SECRETCOOKIE", "SECRETSET"] {
            assert!(!out.contains(secret), "{what} prints {secret}:\n{out}");
        }
    }
    for args in [vec!["sessions", capture.arg()], vec!["synckeys", capture.arg()]] {
        let out = String::from_utf8_lossy(&easlens(&args).stdout).into_owned();
        assert!(!out.contains(BARE_CREDENTIAL), "{args:?}");
    }
}

#[test]
fn json_keeps_the_values_as_sent() {
    let capture = hostile_capture();
    let rows = common::easlens_json_array(&["sessions", capture.arg(), "--json"]);
    // serde_json writes the ESC as \u001b; read back, the value is the one sent.
    assert_eq!(rows[0]["user"].as_str(), Some(format!("jdoe{ESC_SEQ}").as_str()));
    assert_eq!(rows[0]["device_type"].as_str(), Some("t\u{1b}]0;X\u{7}"));
    let raw = easlens(&["sessions", capture.arg(), "--json"]).stdout;
    assert!(!raw.contains(&0x1b) && !raw.contains(&0x07));
}

#[test]
fn decode_writes_c1_and_bidi_out() {
    // Sync > Status (STR_I) with ESC/BEL (character references in XML), C1 CSI and bidi overrides.
    let mut body = vec![0x03, 0x01, 0x6a, 0x00, 0x45, 0x4e, 0x03];
    body.extend_from_slice(ESC_SEQ.as_bytes());
    body.extend_from_slice(C1_BIDI.as_bytes());
    body.extend_from_slice(&[0x00, 0x01, 0x01]);
    let t = Temp::new("output-safety", "ctrl.wbxml");
    std::fs::write(t.path(), &body).unwrap();
    let out = easlens(&["decode", t.arg()]);
    assert_terminal_safe("decode stdout", &out.stdout);
    assert_terminal_safe("decode stderr", &out.stderr);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains("\\u{9b}31m\\u{202e}txt.exe\\u{2066}x\\u{2069}\\u{200f}"),
        "{xml}"
    );
    assert!(xml.contains("&#x1B;]0;PWNED-TITLE"), "{xml}");
}

#[test]
fn a_connect_tunnel_has_no_request_body() {
    let tunnel = exchange(
        1,
        b"CONNECT mail.example.com:443 HTTP/1.1\r\nHost: mail.example.com:443\r\n\r\nA SSLv3-compatible ClientHello handshake was found. Fiddler extracted the parameters below.\r\n\r\nVersion: 3.3 (TLS/1.2)\r\n".to_vec(),
        Some(b"HTTP/1.1 200 Connection Established\r\nFiddlerGateway: Direct\r\n\r\nThis is a CONNECT tunnel.".to_vec()),
    );
    let capture = saz("connect.saz", &[tunnel]);
    let rows = common::easlens_json_array(&["sessions", capture.arg(), "--json"]);
    assert_eq!(rows[0]["method"], "CONNECT");
    assert_eq!(rows[0]["tunnel"], true);
    assert_eq!(rows[0]["request_body_state"], "none");
    assert_eq!(rows[0]["response_body_state"], "none");
}

#[test]
fn options_with_a_query_carries_the_identity() {
    let with_query = exchange(
        1,
        b"OPTIONS https://mail.example.com/Microsoft-Server-ActiveSync?User=contoso%5Cjdoe&DeviceId=3F2504E0-4F89-11D3-9A0C-0305E82C3301&DeviceType=iPhone HTTP/1.1\r\nHost: mail.example.com\r\n\r\n".to_vec(),
        Some(b"HTTP/1.1 200 OK\r\nMS-ASProtocolVersions: 14.1,16.1\r\nContent-Length: 0\r\n\r\n".to_vec()),
    );
    let without = exchange(
        2,
        b"OPTIONS https://mail.example.com/Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: mail.example.com\r\n\r\n"
            .to_vec(),
        Some(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()),
    );
    let capture = saz("options.saz", &[with_query, without]);
    let rows = common::easlens_json_array(&["sessions", capture.arg(), "--json"]);
    let r: &Value = &rows[0];
    assert_eq!(r["method"], "OPTIONS");
    assert_eq!(r["user"], "contoso\\jdoe");
    assert_eq!(r["device_id"], "3F2504E0-4F89-11D3-9A0C-0305E82C3301");
    assert_eq!(r["device_type"], "iPhone");
    assert_eq!(r["command"], Value::Null);
    // No "missing Cmd=" for OPTIONS; the hyphenated DeviceId is information, not a violation.
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("has hyphens") && !notes[0].contains("not 1–32"),
        "{notes:?}"
    );
    assert_eq!(rows[1]["user"], Value::Null);
    assert_eq!(rows[1]["notes"], serde_json::json!([]));
}
