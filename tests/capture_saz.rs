//! SAZ reading: the real Fiddler captures of `../shared/corpus/captures` (skipped when absent) and
//! every edge case of the reference, generated with the project's own SAZ writer.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::DateTime;
use easlens_core::capture::{self, Capture, OpenError, OpenOptions, PasswordPrompt, Progress, Session};
use easlens_core::eas::Command;
use easlens_core::http::decode_body;
use easlens_core::readers;
use easlens_core::wbxml::{encode, from_xml};
use easlens_core::writers::Exchange;
use easlens_core::writers::saz::{
    EntryOrder, NameStyle, RequestTarget, SazCompression, SazEncryption, SazOptions, write_saz, write_saz_file,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A file in the temp directory, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Temp(std::env::temp_dir().join(format!("easlens-capture-saz-{}-{n}-{name}", std::process::id())))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn wbxml(xml: &str) -> Vec<u8> {
    encode(&from_xml(xml).unwrap())
}

const EAS_PATH: &str = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=jdoe&DeviceId=ABCDEF0123&DeviceType=iPhone";

fn folder_sync_request() -> Vec<u8> {
    wbxml(r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>"#)
}

fn folder_sync_response(status: u32) -> Vec<u8> {
    wbxml(&format!(
        r#"<FolderSync xmlns="FolderHierarchy:"><Status>{status}</Status><SyncKey>1</SyncKey><Changes><Count>0</Count></Changes></FolderSync>"#
    ))
}

fn request(target: &str, host: &str, eol: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "POST {target} HTTP/1.1{eol}Host: {host}{eol}Content-Type: application/vnd.ms-sync.wbxml{eol}MS-ASProtocolVersion: 14.1{eol}Content-Length: {}{eol}{eol}",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

fn response(status_line: &str, eol: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "{status_line}{eol}Content-Type: application/vnd.ms-sync.wbxml{eol}Content-Length: {}{eol}{eol}",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

/// A FolderSync exchange to `https://mail.example.com`, absolute-form like Fiddler writes.
fn exchange(sid: u64) -> Exchange {
    let host = "mail.example.com";
    Exchange {
        sid,
        started: DateTime::parse_from_rfc3339("2025-03-04T10:20:30.1234567+01:00").unwrap(),
        duration_ms: 250,
        client_ip: "10.0.0.7".into(),
        server_ip: "192.0.2.10".into(),
        request: request(
            &format!("https://{host}{EAS_PATH}"),
            host,
            "\r\n",
            &folder_sync_request(),
        ),
        response: Some(response("HTTP/1.1 200 OK", "\r\n", &folder_sync_response(1))),
        aborted: false,
        generated_by_proxy: false,
        comment: None,
        ..Default::default()
    }
}

/// A FolderSync exchange whose response lists `folders` folders with names unique to `sid`.
fn folder_list_exchange(sid: u64, folders: usize) -> Exchange {
    let adds: String = (0..folders)
        .map(|i| format!("<Add><ServerId>{sid}-{i}</ServerId><ParentId>0</ParentId><DisplayName>Folder {i} of session {sid}</DisplayName><Type>12</Type></Add>"))
        .collect();
    let doc = wbxml(&format!(
        r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>1</SyncKey><Changes><Count>{folders}</Count>{adds}</Changes></FolderSync>"#
    ));
    Exchange {
        response: Some(response("HTTP/1.1 200 OK", "\r\n", &doc)),
        ..exchange(sid)
    }
}

fn exchanges(count: usize) -> Vec<Exchange> {
    (0..count).map(|i| exchange(100 + i as u64)).collect()
}

fn write(name: &str, sessions: &[Exchange], options: &SazOptions) -> Temp {
    let t = Temp::new(name);
    write_saz_file(t.path(), sessions, options).unwrap();
    t
}

fn open(path: &Path) -> Capture {
    capture::open(path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Opens with a password callback that gives `answers` in turn (then `None`); returns the result
/// and the prompts it was shown.
fn open_with_answers(path: &Path, answers: &[Option<&str>]) -> (Result<Capture, OpenError>, Vec<PasswordPrompt>) {
    let prompts = Mutex::new(Vec::new());
    let ask = |p: &PasswordPrompt| {
        let mut seen = prompts.lock().unwrap();
        seen.push(p.clone());
        answers.get(seen.len() - 1).copied().flatten().map(str::to_string)
    };
    let options = OpenOptions {
        password: Some(&ask),
        ..Default::default()
    };
    let result = capture::open(path, &options);
    (result, prompts.into_inner().unwrap())
}

fn by_index(c: &Capture, n: u32) -> &Session {
    c.sessions
        .iter()
        .find(|s| s.index == n)
        .unwrap_or_else(|| panic!("no session raw/{n}"))
}

fn entry_names(path: &Path) -> Vec<String> {
    let ar = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    ar.file_names().map(|n| n.unwrap().into_owned()).collect()
}

/// The request and response bodies read back through the capture.
fn bodies(c: &Capture, s: &Session) -> (Vec<u8>, Vec<u8>) {
    let req = c.raw_body(&s.request.as_ref().unwrap().body).unwrap();
    let resp = s
        .response
        .as_ref()
        .map(|r| c.raw_body(&r.body).unwrap())
        .unwrap_or_default();
    (req, resp)
}

fn body_of(raw: &[u8]) -> &[u8] {
    let i = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let j = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (i, j) {
        (Some(a), Some(b)) => &raw[a.min(b)..],
        (a, b) => &raw[a.or(b).unwrap()..],
    }
}

/// The session is a well-read FolderSync: summary, status, bodies identical to what was written.
fn assert_folder_sync(c: &Capture, s: &Session, written: &Exchange) {
    let eas = s
        .eas
        .as_ref()
        .unwrap_or_else(|| panic!("raw/{}: no EAS summary; notes {:?}", s.index, s.notes));
    assert_eq!(eas.command, Some(Command::FolderSync), "raw/{}", s.index);
    assert_eq!(
        eas.response_status_values(),
        vec![1],
        "raw/{}: {:?}",
        s.index,
        eas.notes
    );
    assert_eq!(eas.user.as_deref(), Some("jdoe"));
    let (req, resp) = bodies(c, s);
    assert_eq!(req, body_of(&written.request), "raw/{} request body", s.index);
    assert_eq!(
        resp,
        body_of(written.response.as_ref().unwrap()),
        "raw/{} response body",
        s.index
    );
}

// ---------------------------------------------------------------------------------------------
// Corpus: real Fiddler files

fn corpus(name: &str) -> Option<PathBuf> {
    let dir = common::shared_dir("corpus/captures")?;
    let path = dir.join(name);
    assert!(path.is_file(), "{} is missing from the corpus", path.display());
    Some(path)
}

const NEW_CASE: &str = "OfficeDev_Office-Inspectors__NewCaseName.saz";
const NEW_CASE_1: &str = "OfficeDev_Office-Inspectors__NewCaseName1.saz";
const COAUTH: &str = "OfficeDev_Office-Inspectors__NewCaseName_Coauth.saz";
const HTTPBIN: &str = "joelverhagen_SAZ__httpbin-test.saz";
const IMAGES: &str = "joelverhagen_SAZ__images.saz";

#[test]
fn corpus_session_counts_and_the_files_stay_unchanged() {
    for (name, count) in [
        (NEW_CASE, 56),
        (NEW_CASE_1, 3),
        (COAUTH, 220),
        (HTTPBIN, 6),
        (IMAGES, 3),
    ] {
        let Some(path) = corpus(name) else { return };
        let before = std::fs::read(&path).unwrap();
        let c = open(&path);
        assert_eq!(c.format, capture::Format::Saz);
        assert_eq!(c.sessions.len(), count, "{name}");
        assert!(c.warnings.is_empty(), "{name}: {:?}", c.warnings);
        let indices: Vec<u32> = c.sessions.iter().map(|s| s.index).collect();
        assert_eq!(
            indices,
            (1..=count as u32).collect::<Vec<_>>(),
            "{name}: sessions in numeric order"
        );
        for s in &c.sessions {
            assert!(s.request.is_some(), "{name} raw/{}: {:?}", s.index, s.notes);
            assert!(s.id.is_some(), "{name} raw/{}: SID", s.index);
            assert!(s.timers.started().is_some(), "{name} raw/{}: timers", s.index);
            // Every body can be read back, with the length the index announced.
            let req = s.request.as_ref().unwrap();
            assert_eq!(
                c.raw_body(&req.body).unwrap().len() as u64,
                req.body.stored_len,
                "{name} raw/{}",
                s.index
            );
            if let Some(resp) = &s.response {
                assert_eq!(
                    c.raw_body(&resp.body).unwrap().len() as u64,
                    resp.body.stored_len,
                    "{name} raw/{}",
                    s.index
                );
            }
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "{name} was modified");
    }
}

#[test]
fn corpus_connect_tunnels() {
    for (name, tunnels) in [(NEW_CASE, 11), (COAUTH, 24), (NEW_CASE_1, 0), (HTTPBIN, 0)] {
        let Some(path) = corpus(name) else { return };
        let c = open(&path);
        let flagged: Vec<&Session> = c.sessions.iter().filter(|s| s.flags.tunnel).collect();
        assert_eq!(flagged.len(), tunnels, "{name}");
        for s in flagged {
            let req = s.request.as_ref().unwrap();
            assert_eq!(req.head.method, "CONNECT", "{name} raw/{}", s.index);
            assert!(s.eas.is_none());
            // The "body" is Fiddler's ClientHello description under Content-Length: 0.
            assert!(
                matches!(req.head.headers.content_length(), None | Some(0)),
                "{name} raw/{}",
                s.index
            );
            let text = c.raw_body(&req.body).unwrap();
            assert!(
                text.starts_with(b"A SSLv3-compatible ClientHello"),
                "{name} raw/{}",
                s.index
            );
            assert_eq!(s.http_status(), Some(200));
        }
    }
}

#[test]
fn corpus_aborted_and_generated_sessions() {
    let Some(path) = corpus(NEW_CASE) else { return };
    let c = open(&path);
    for n in [39, 41, 43, 45] {
        let s = by_index(&c, n);
        assert!(s.flags.generated && s.flags.aborted, "raw/{n}: {:?}", s.flags);
        assert_eq!(s.flags.bit_flags, Some(0x8108));
        assert_eq!(s.http_status(), Some(408));
    }
    // Tunnels are answered by Fiddler (0x2100); ordinary sessions are not generated.
    assert_eq!(c.sessions.iter().filter(|s| s.flags.generated).count(), 4 + 11);
    assert_eq!(c.sessions.iter().filter(|s| s.flags.aborted).count(), 4);

    let Some(path) = corpus(COAUTH) else { return };
    let c = open(&path);
    let aborted: Vec<u32> = c.sessions.iter().filter(|s| s.flags.aborted).map(|s| s.index).collect();
    assert_eq!(aborted, vec![110, 137]);
    for n in [110, 137] {
        assert_eq!(
            by_index(&c, n).http_status(),
            Some(200),
            "aborted while the response was sent"
        );
    }
    // Re-saved archive: the original ids are kept as comments.
    assert_eq!(
        c.sessions
            .iter()
            .filter(|s| s.comment.as_deref().is_some_and(|t| t.starts_with("[#")))
            .count(),
        219
    );
    assert!(
        c.sessions[1..]
            .iter()
            .all(|s| s.flags.bit_flags.is_some_and(|b| b & 0x200 != 0))
    );
}

#[test]
fn corpus_httpbin_ids_metadata_and_decoded_bodies() {
    let Some(path) = corpus(HTTPBIN) else { return };
    let c = open(&path);
    let s2 = by_index(&c, 2);
    assert_eq!(s2.id, Some(72), "N ≠ SID");
    assert_eq!(s2.flags.bit_flags, Some(0x19));
    assert!(s2.flags.https);
    assert_eq!(s2.client_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(s2.server_ip.as_deref(), Some("44.195.242.49"));
    assert_eq!(s2.process.as_deref(), Some("msedge:12140"));
    assert_eq!(s2.request.as_ref().unwrap().url(), "https://httpbin.org/stream/5");
    assert_eq!(
        s2.timers.started().unwrap().to_rfc3339(),
        "2025-08-30T11:34:28.685937300-07:00"
    );
    for (n, step) in [(2, "chunked"), (3, "brotli"), (4, "deflate"), (5, "gzip")] {
        let s = by_index(&c, n);
        let resp = s.response.as_ref().unwrap();
        let raw = c.raw_body(&resp.body).unwrap();
        let decoded = decode_body(&raw, &resp.head.headers);
        assert_eq!(decoded.steps, vec![step], "raw/{n}: {:?}", decoded.notes);
        assert!(decoded.notes.is_empty(), "raw/{n}: {:?}", decoded.notes);
        assert!(
            decoded.bytes.starts_with(b"{"),
            "raw/{n}: {:?}",
            String::from_utf8_lossy(&decoded.bytes[..20])
        );
        assert!(decoded.bytes.windows(11).any(|w| w == b"httpbin.org"), "raw/{n}");
    }
}

#[test]
fn corpus_binary_bodies_stay_bytes() {
    let Some(path) = corpus(IMAGES) else { return };
    let c = open(&path);
    let mut magics = Vec::new();
    for s in &c.sessions {
        let resp = s.response.as_ref().unwrap();
        let raw = c.raw_body(&resp.body).unwrap();
        assert!(raw.contains(&0) && raw.iter().any(|&b| b >= 0x80), "raw/{}", s.index);
        magics.push(raw[..4].to_vec());
    }
    assert!(
        magics.iter().any(|m| m.starts_with(b"\xFF\xD8\xFF")),
        "JPEG: {magics:?}"
    );
    assert!(magics.iter().any(|m| m == b"\x89PNG"), "PNG: {magics:?}");
    assert!(magics.iter().any(|m| m == b"RIFF"), "WebP: {magics:?}");
}

// ---------------------------------------------------------------------------------------------
// Generated archives

#[test]
fn fiddler_like_archive_round_trips() {
    let mut sessions = exchanges(3);
    sessions[1].comment = Some("a \"quoted\" & <odd> comment".into());
    let t = write("default.saz", &sessions, &SazOptions::default());
    let before = std::fs::read(t.path()).unwrap();
    let names = entry_names(t.path());
    assert_eq!(names.first().map(String::as_str), Some("raw/"));
    assert!(
        names.contains(&"raw/1_c.txt".to_string()) && names.contains(&"raw/3_m.xml".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"_index.htm".to_string()) && names.contains(&"[Content_Types].xml".to_string()));

    let c = open(t.path());
    assert_eq!(c.sessions.len(), 3);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    for (s, w) in c.sessions.iter().zip(&sessions) {
        assert_eq!(s.id, Some(w.sid));
        assert_eq!(s.flags.bit_flags, Some(0x1));
        assert!(s.flags.https && !s.flags.aborted && !s.flags.generated && !s.flags.tunnel);
        assert_eq!(s.client_ip.as_deref(), Some("10.0.0.7"));
        assert_eq!(s.server_ip.as_deref(), Some("192.0.2.10"));
        assert_eq!(s.timers.started(), Some(w.started));
        assert_eq!(s.timers.duration_ms(), Some(250.0));
        assert_eq!(
            s.request.as_ref().unwrap().url(),
            format!("https://mail.example.com{EAS_PATH}")
        );
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_folder_sync(&c, s, w);
    }
    assert_eq!(c.sessions[1].comment, sessions[1].comment);
    assert_eq!(
        std::fs::read(t.path()).unwrap(),
        before,
        "opening must not write the file"
    );
}

#[test]
fn padding_widths_four_and_one_digits() {
    let sessions = exchanges(12);
    let four = SazOptions {
        names: NameStyle {
            width: Some(4),
            ..Default::default()
        },
        ..Default::default()
    };
    let t = write("w4.saz", &sessions, &four);
    assert!(entry_names(t.path()).contains(&"raw/0012_c.txt".to_string()));
    let c = open(t.path());
    assert_eq!(
        c.sessions.iter().map(|s| s.index).collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    assert_eq!(c.sessions[11].id, Some(111));

    let one = SazOptions {
        names: NameStyle {
            width: Some(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let t = write("w1.saz", &sessions, &one);
    let names = entry_names(t.path());
    assert!(
        names.contains(&"raw/9_c.txt".to_string()) && names.contains(&"raw/10_c.txt".to_string()),
        "{names:?}"
    );
    let c = open(t.path());
    // Numeric, not lexical, order: 1, 2, …, 9, 10, 11, 12.
    assert_eq!(
        c.sessions.iter().map(|s| s.index).collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    assert_eq!(
        c.sessions.iter().map(|s| s.id.unwrap()).collect::<Vec<_>>(),
        (100..112).collect::<Vec<_>>()
    );
}

#[test]
fn gaps_mixed_widths_and_stray_files() {
    let sessions = exchanges(3);
    let hand_made = exchange(999);
    let options = SazOptions {
        numbers: Some(vec![3, 7, 20]),
        extra_entries: vec![
            ("raw/0100_c.txt".into(), hand_made.request.clone()),
            ("raw/0100_s.txt".into(), hand_made.response.clone().unwrap()),
            ("thumbs.db".into(), vec![0xD0, 0xCF, 0x11, 0xE0]),
            ("__MACOSX/raw/._3_c.txt".into(), b"\0\x05\x16\x07".to_vec()),
            ("raw/7_w.txt".into(), b"\r\n".to_vec()),
            ("raw/55_s.txt".into(), b"HTTP/1.1 200 OK\r\n\r\n".to_vec()),
            ("raw/notes.txt".into(), b"hello".to_vec()),
        ],
        ..Default::default()
    };
    let t = write("gaps.saz", &sessions, &options);
    let c = open(t.path());
    assert_eq!(
        c.sessions.iter().map(|s| s.index).collect::<Vec<_>>(),
        vec![3, 7, 20, 100]
    );
    let hm = by_index(&c, 100);
    assert_eq!(hm.id, None, "no _m.xml for the hand-made session");
    assert_folder_sync(&c, hm, &hand_made);
    assert!(
        by_index(&c, 7).notes.iter().any(|n| n.contains("raw/7_w.txt")),
        "{:?}",
        by_index(&c, 7).notes
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("55")),
        "orphan raw/55_s.txt: {:?}",
        c.warnings
    );
    for (s, w) in c.sessions.iter().zip(&sessions) {
        assert_folder_sync(&c, s, w);
    }
}

#[test]
fn backslash_and_upper_case_names() {
    let sessions = exchanges(2);
    for (backslash, uppercase, expected) in [
        (true, false, "raw\\1_c.txt"),
        (false, true, "RAW/1_C.TXT"),
        (true, true, "RAW\\1_C.TXT"),
    ] {
        let options = SazOptions {
            names: NameStyle {
                width: None,
                backslash,
                uppercase,
            },
            ..Default::default()
        };
        let t = write("names.saz", &sessions, &options);
        assert!(
            entry_names(t.path()).contains(&expected.to_string()),
            "{:?}",
            entry_names(t.path())
        );
        let c = open(t.path());
        assert_eq!(c.sessions.len(), 2, "{expected}");
        assert_eq!(c.sessions[1].id, Some(101), "{expected}: the _m.xml was found");
        assert_folder_sync(&c, &c.sessions[0], &sessions[0]);
    }
}

#[test]
fn no_metadata_and_no_index_files() {
    let sessions = exchanges(2);
    let options = SazOptions {
        with_meta: false,
        with_index_files: false,
        ..Default::default()
    };
    let t = write("bare.saz", &sessions, &options);
    let names = entry_names(t.path());
    assert_eq!(names.len(), 4, "only _c and _s entries: {names:?}");
    let c = open(t.path());
    assert_eq!(c.sessions.len(), 2);
    for (s, w) in c.sessions.iter().zip(&sessions) {
        assert_eq!(s.id, None);
        assert_eq!(s.flags.bit_flags, None);
        assert_eq!(s.timers.started(), None);
        assert!(s.flags.https, "from the URL scheme");
        assert!(!s.flags.generated && !s.flags.aborted);
        assert_folder_sync(&c, s, w);
    }
}

#[test]
fn stored_bzip2_zip64_and_entry_order() {
    let sessions = exchanges(3);
    for (compression, method) in [
        (SazCompression::Stored, zip::CompressionMethod::Stored),
        (SazCompression::Bzip2, zip::CompressionMethod::Bzip2),
        (SazCompression::Deflate, zip::CompressionMethod::Deflated),
    ] {
        let options = SazOptions {
            compression,
            zip64: true,
            order: EntryOrder::ClientMetaServer,
            ..Default::default()
        };
        let t = write("methods.saz", &sessions, &options);
        let mut ar = zip::ZipArchive::new(std::fs::File::open(t.path()).unwrap()).unwrap();
        assert_eq!(ar.by_name("raw/1_c.txt").unwrap().compression(), method);
        assert_eq!(ar.file_names().nth(2).unwrap().unwrap(), "raw/1_m.xml", "c, m, s order");
        let c = open(t.path());
        assert_eq!(c.sessions.len(), 3, "{method:?}");
        for (s, w) in c.sessions.iter().zip(&sessions) {
            assert_folder_sync(&c, s, w);
        }
    }
}

#[test]
fn lf_only_headers() {
    let mut s = exchange(1);
    s.request = request(
        &format!("https://mail.example.com{EAS_PATH}"),
        "mail.example.com",
        "\n",
        &folder_sync_request(),
    );
    s.response = Some(response("HTTP/1.1 200 OK", "\n", &folder_sync_response(1)));
    let t = write("lf.saz", std::slice::from_ref(&s), &SazOptions::default());
    let c = open(t.path());
    let got = &c.sessions[0];
    assert_eq!(
        got.request.as_ref().unwrap().head.headers.get("ms-asprotocolversion"),
        Some("14.1")
    );
    assert_eq!(got.response.as_ref().unwrap().head.status, 200);
    assert_folder_sync(&c, got, &s);
}

#[test]
fn origin_form_request_lines_get_a_url_from_host() {
    let host = "mail.example.com";
    let mut tunnel = exchange(1);
    tunnel.request =
        format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\nContent-Length: 0\r\n\r\nA SSLv3-compatible ClientHello handshake was found.")
            .into_bytes();
    tunnel.response = Some(b"HTTP/1.1 200 Connection Established\r\nFiddlerGateway: Direct\r\n\r\nEncrypted HTTPS traffic flows through this CONNECT tunnel.".to_vec());
    let mut inside = exchange(2);
    inside.request = request(EAS_PATH, host, "\r\n", &folder_sync_request());
    let mut plain = exchange(3);
    plain.request = request(EAS_PATH, "legacy.example.com", "\r\n", &folder_sync_request());
    let sessions = vec![tunnel, inside, plain];

    for with_meta in [true, false] {
        let t = write(
            "origin.saz",
            &sessions,
            &SazOptions {
                with_meta,
                // Origin-form lines as third-party writers leave them.
                request_target: RequestTarget::AsGiven,
                ..Default::default()
            },
        );
        let c = open(t.path());
        let [t0, s1, s2] = &c.sessions[..] else {
            panic!("{} sessions", c.sessions.len())
        };
        assert!(t0.flags.tunnel, "with_meta {with_meta}");
        assert_eq!(t0.request.as_ref().unwrap().url(), "mail.example.com:443");
        // HTTPS from BitFlags 0x1, or without metadata from the CONNECT before it.
        assert_eq!(
            s1.request.as_ref().unwrap().url(),
            format!("https://{host}{EAS_PATH}"),
            "with_meta {with_meta}"
        );
        assert!(s1.flags.https);
        assert_eq!(
            s2.request.as_ref().unwrap().url(),
            format!("http://legacy.example.com{EAS_PATH}")
        );
        assert!(!s2.flags.https);
        assert_folder_sync(&c, s1, &sessions[1]);
        assert_folder_sync(&c, s2, &sessions[2]);
        if with_meta {
            assert_eq!(t0.flags.bit_flags, Some(0x2100));
        }
    }
}

#[test]
fn empty_response_entry_means_aborted_without_response() {
    let mut ping = exchange(5);
    ping.response = None;
    ping.aborted = true;
    let mut no_meta_ping = ping.clone();
    no_meta_ping.aborted = false;
    for (s, with_meta) in [(ping, true), (no_meta_ping, false)] {
        let t = write(
            "aborted.saz",
            std::slice::from_ref(&s),
            &SazOptions {
                with_meta,
                ..Default::default()
            },
        );
        let mut ar = zip::ZipArchive::new(std::fs::File::open(t.path()).unwrap()).unwrap();
        assert_eq!(ar.by_name("raw/1_s.txt").unwrap().size(), 0);
        let c = open(t.path());
        let got = &c.sessions[0];
        assert!(got.response.is_none());
        assert!(got.flags.aborted, "with_meta {with_meta}");
        assert!(
            got.notes.iter().any(|n| n == "no response (aborted)"),
            "{:?}",
            got.notes
        );
        let eas = got.eas.as_ref().unwrap();
        assert_eq!(eas.command, Some(Command::FolderSync));
        assert!(eas.response_status_values().is_empty());
    }
}

#[test]
fn unreadable_and_empty_parts_are_kept_with_notes() {
    let garbage_request = b"\x03\x01\x6a\x00 not HTTP at all".to_vec();
    let options = SazOptions {
        extra_entries: vec![
            ("raw/1_c.txt".into(), garbage_request.clone()),
            ("raw/1_s.txt".into(), b"garbage response".to_vec()),
            ("raw/1_m.xml".into(), b"<Session SID=\"abc\" <<<".to_vec()),
            ("raw/2_c.txt".into(), Vec::new()),
            ("raw/2_s.txt".into(), response("HTTP/1.1 200 OK", "\r\n", b"ok")),
        ],
        ..Default::default()
    };
    let t = write("broken.saz", &[], &options);
    let c = open(t.path());
    assert_eq!(c.sessions.len(), 2);
    let s1 = &c.sessions[0];
    let req = s1.request.as_ref().unwrap();
    assert!(
        req.head.method.is_empty() && !req.head.problems.is_empty(),
        "{:?}",
        req.head
    );
    assert_eq!(c.raw_body(&req.body).unwrap(), garbage_request, "the bytes are kept");
    let resp = s1.response.as_ref().unwrap();
    assert_eq!(resp.head.status, 0);
    assert_eq!(c.raw_body(&resp.body).unwrap(), b"garbage response");
    for name in ["raw/1_c.txt", "raw/1_s.txt", "raw/1_m.xml"] {
        assert!(s1.notes.iter().any(|n| n.contains(name)), "{name}: {:?}", s1.notes);
    }
    assert_eq!(s1.id, None);
    let s2 = &c.sessions[1];
    assert!(s2.request.is_none());
    assert!(
        s2.notes.iter().any(|n| n.contains("raw/2_c.txt is empty")),
        "{:?}",
        s2.notes
    );
    assert_eq!(s2.http_status(), Some(200));
}

#[test]
fn generated_responses_from_bit_flags_or_their_look() {
    let mut s = exchange(9);
    s.generated_by_proxy = true;
    s.response = Some(b"HTTP/1.1 502 Fiddler - Connection Failed\r\nContent-Type: text/html\r\n\r\n[Fiddler] The connection to 'mail.example.com' failed.".to_vec());
    for with_meta in [true, false] {
        let t = write(
            "generated.saz",
            std::slice::from_ref(&s),
            &SazOptions {
                with_meta,
                ..Default::default()
            },
        );
        let c = open(t.path());
        let got = &c.sessions[0];
        assert!(got.flags.generated, "with_meta {with_meta}");
        assert_eq!(got.http_status(), Some(502));
        assert!(
            got.eas
                .as_ref()
                .unwrap()
                .notes
                .iter()
                .any(|n| n.contains("generated by the proxy"))
        );
    }
}

#[test]
fn decimal_bit_flags_are_detected() {
    let mut tunnel = exchange(1);
    tunnel.request = b"CONNECT mail.example.com:443 HTTP/1.1\r\nHost: mail.example.com:443\r\n\r\n".to_vec();
    tunnel.response = Some(b"HTTP/1.1 200 Connection Established\r\n\r\n".to_vec());
    let mut generated = exchange(2);
    generated.generated_by_proxy = true;
    generated.response = Some(b"HTTP/1.1 504 Gateway Timeout\r\n\r\nno answer".to_vec());
    let sessions = vec![tunnel, generated, exchange(3)];
    for decimal_bit_flags in [false, true] {
        let t = write(
            "decimal.saz",
            &sessions,
            &SazOptions {
                decimal_bit_flags,
                ..Default::default()
            },
        );
        let mut ar = zip::ZipArchive::new(std::fs::File::open(t.path()).unwrap()).unwrap();
        let mut meta = String::new();
        ar.by_name("raw/1_m.xml").unwrap().read_to_string(&mut meta).unwrap();
        assert!(
            meta.contains(if decimal_bit_flags {
                "BitFlags=\"8448\""
            } else {
                "BitFlags=\"2100\""
            }),
            "{meta}"
        );
        let c = open(t.path());
        assert_eq!(
            c.sessions[0].flags.bit_flags,
            Some(0x2100),
            "decimal {decimal_bit_flags}"
        );
        assert!(c.sessions[0].flags.tunnel);
        assert_eq!(c.sessions[1].flags.bit_flags, Some(0x101));
        assert!(c.sessions[1].flags.generated, "decimal {decimal_bit_flags}");
        assert!(!c.sessions[2].flags.generated);
        assert_eq!(
            c.warnings.iter().any(|w| w.contains("decimal")),
            decimal_bit_flags,
            "{:?}",
            c.warnings
        );
    }
}

#[test]
fn large_bodies_are_read_back_from_the_archive() {
    // Bodies larger than the reader's first read, EAS and not.
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut download = exchange(1);
    download.request = b"GET http://files.example.com/big.bin HTTP/1.1\r\nHost: files.example.com\r\n\r\n".to_vec();
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    resp.extend_from_slice(&big);
    download.response = Some(resp);
    let mut eas = exchange(2);
    let adds: String = (0..3000)
        .map(|i| format!("<Add><ServerId>{i}</ServerId><ParentId>0</ParentId><DisplayName>Folder number {i} with a long name</DisplayName><Type>12</Type></Add>"))
        .collect();
    let doc = wbxml(&format!(
        r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>1</SyncKey><Changes><Count>3000</Count>{adds}</Changes></FolderSync>"#
    ));
    assert!(doc.len() > 100_000);
    eas.response = Some(response("HTTP/1.1 200 OK", "\r\n", &doc));
    let t = write("big.saz", &[download, eas], &SazOptions::default());
    let c = open(t.path());
    let (_, body) = bodies(&c, &c.sessions[0]);
    assert_eq!(body, big);
    assert_eq!(
        c.sessions[0].response.as_ref().unwrap().body.stored_len,
        big.len() as u64
    );
    assert!(c.sessions[0].eas.is_none());
    let (_, body) = bodies(&c, &c.sessions[1]);
    assert_eq!(body, doc);
    assert_eq!(c.sessions[1].eas.as_ref().unwrap().response_status_values(), vec![1]);
}

// ---------------------------------------------------------------------------------------------
// Passwords

const PASSWORD: &str = "s3cret pässword";

fn encrypted(name: &str, encryption: SazEncryption) -> (Temp, Vec<Exchange>) {
    let sessions = exchanges(4);
    let options = SazOptions {
        password: Some((PASSWORD.into(), encryption)),
        ..Default::default()
    };
    (write(name, &sessions, &options), sessions)
}

#[test]
fn encrypted_archives_open_with_the_right_password() {
    for encryption in [SazEncryption::ZipCrypto, SazEncryption::Aes128, SazEncryption::Aes256] {
        let (t, sessions) = encrypted("enc.saz", encryption);
        let mut ar = zip::ZipArchive::new(std::fs::File::open(t.path()).unwrap()).unwrap();
        assert!(ar.by_index_data(1).unwrap().encrypted(), "{encryption:?}");
        assert!(!ar.by_index_data(0).unwrap().encrypted(), "the raw/ record stays clear");
        assert!(
            ar.by_name("raw/1_c.txt").is_err(),
            "{encryption:?}: unreadable without the password"
        );

        let (result, prompts) = open_with_answers(t.path(), &[Some(PASSWORD)]);
        let c = result.unwrap_or_else(|e| panic!("{encryption:?}: {e}"));
        assert_eq!(
            prompts,
            vec![PasswordPrompt {
                path: t.path().into(),
                attempt: 1,
                previous_was_wrong: false
            }]
        );
        assert_eq!(c.sessions.len(), 4);
        for (s, w) in c.sessions.iter().zip(&sessions) {
            assert!(s.notes.is_empty(), "{encryption:?}: {:?}", s.notes);
            assert_eq!(s.id, Some(w.sid));
            // Bodies are decrypted again when read back.
            assert_folder_sync(&c, s, w);
        }
    }
}

#[test]
fn wrong_password_then_right_one() {
    for encryption in [SazEncryption::ZipCrypto, SazEncryption::Aes256] {
        let (t, _) = encrypted("retry.saz", encryption);
        let (result, prompts) = open_with_answers(t.path(), &[Some("wrong"), Some(PASSWORD)]);
        assert_eq!(result.unwrap().sessions.len(), 4);
        assert_eq!(prompts.len(), 2, "{encryption:?}");
        assert_eq!((prompts[0].attempt, prompts[0].previous_was_wrong), (1, false));
        assert_eq!((prompts[1].attempt, prompts[1].previous_was_wrong), (2, true));
    }
}

#[test]
fn zipcrypto_check_byte_collisions_count_as_wrong() {
    // ZipCrypto checks one byte of the decrypted header: about 1 wrong password in 256 passes that
    // check. Find one, and make sure the full read still rejects it. (One non-empty entry, so that
    // a colliding password is quick to find.)
    let mut s = exchange(1);
    s.response = None;
    let options = SazOptions {
        password: Some((PASSWORD.into(), SazEncryption::ZipCrypto)),
        with_meta: false,
        with_index_files: false,
        ..Default::default()
    };
    let t = write("collide.saz", &[s], &options);
    let mut ar = zip::ZipArchive::new(std::fs::File::open(t.path()).unwrap()).unwrap();
    let probe_entries: Vec<usize> = (0..ar.len())
        .filter(|&i| ar.by_index_data(i).unwrap().size() > 0)
        .collect();
    let colliding = (0..100_000)
        .map(|i| format!("guess-{i}"))
        .find(|g| {
            probe_entries
                .iter()
                .all(|&i| ar.by_index_decrypt(i, g.as_bytes()).is_ok())
        })
        .expect("a password that passes every entry's check byte");
    let (result, prompts) = open_with_answers(t.path(), &[Some(&colliding), None]);
    assert!(
        matches!(result, Err(OpenError::WrongPassword { .. })),
        "{colliding}: {result:?}"
    );
    assert_eq!(prompts.len(), 2);
    // A callback that keeps answering wrong is not asked forever.
    let answers: Vec<String> = (0..150).map(|i| format!("wrong-{i}")).collect();
    let all: Vec<Option<&str>> = answers.iter().map(|a| Some(a.as_str())).collect();
    let (result, prompts) = open_with_answers(t.path(), &all);
    assert!(matches!(result, Err(OpenError::WrongPassword { .. })), "{result:?}");
    assert!(prompts.len() < 150, "{} prompts", prompts.len());
}

#[test]
fn missing_password() {
    let (t, _) = encrypted("nopw.saz", SazEncryption::Aes128);
    let result = capture::open(t.path(), &OpenOptions::default());
    assert!(
        matches!(&result, Err(OpenError::PasswordRequired { path }) if path == t.path()),
        "{result:?}"
    );
    let (result, prompts) = open_with_answers(t.path(), &[None]);
    assert!(matches!(result, Err(OpenError::PasswordRequired { .. })), "{result:?}");
    assert_eq!(prompts.len(), 1);
    // An empty answer cancels like no answer.
    let (result, _) = open_with_answers(t.path(), &[Some("")]);
    assert!(matches!(result, Err(OpenError::PasswordRequired { .. })), "{result:?}");
}

#[test]
fn wrong_password_only() {
    let (t, _) = encrypted("wrongpw.saz", SazEncryption::ZipCrypto);
    let (result, prompts) = open_with_answers(t.path(), &[Some("wrong"), None]);
    let err = result.unwrap_err();
    assert!(
        matches!(&err, OpenError::WrongPassword { path } if path == t.path()),
        "{err:?}"
    );
    assert!(err.to_string().contains(&t.path().display().to_string()));
    assert_eq!(prompts.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Not SAZ, damaged SAZ

#[test]
fn not_a_saz() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        (
            "random",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 | 1)
                .collect(),
        ),
    ];
    for (name, bytes) in cases {
        let t = Temp::new(name);
        std::fs::write(t.path(), &bytes).unwrap();
        for result in [
            capture::open(t.path(), &OpenOptions::default()).map(drop),
            readers::saz::open(t.path(), &OpenOptions::default(), &capture::EasIndexer).map(drop),
        ] {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, OpenError::NotACapture { path, .. } if path == t.path()),
                "{name}: {err:?}"
            );
        }
    }
    // Zip signatures followed by garbage: a damaged archive with nothing to recover.
    let t = Temp::new("pk-garbage");
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8));
    std::fs::write(t.path(), &bytes).unwrap();
    let err = capture::open(t.path(), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, OpenError::BadArchive { .. }), "{err:?}");
    // A valid zip without sessions.
    let t = Temp::new("plain.zip");
    let mut zw = zip::ZipWriter::new(std::fs::File::create(t.path()).unwrap());
    zw.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zw.write_all(b"hello").unwrap();
    zw.finish().unwrap();
    let err = capture::open(t.path(), &OpenOptions::default()).unwrap_err();
    match &err {
        OpenError::NotACapture { reason, .. } => assert!(reason.contains("raw/N_c.txt"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_archive_is_recovered_from_local_headers() {
    let sessions: Vec<Exchange> = (0..30).map(|i| folder_list_exchange(i, 40)).collect();
    for options in [
        SazOptions {
            names: NameStyle {
                width: Some(3),
                ..Default::default()
            },
            ..Default::default()
        },
        SazOptions {
            password: Some((PASSWORD.into(), SazEncryption::ZipCrypto)),
            ..Default::default()
        },
        SazOptions {
            compression: SazCompression::Stored,
            with_meta: false,
            ..Default::default()
        },
    ] {
        let full = write("full.saz", &sessions, &options);
        let bytes = std::fs::read(full.path()).unwrap();
        let cut = Temp::new("cut.saz");
        std::fs::write(cut.path(), &bytes[..bytes.len() * 6 / 10]).unwrap();
        let before = std::fs::read(cut.path()).unwrap();
        let (result, prompts) = open_with_answers(cut.path(), &[Some(PASSWORD)]);
        let c = result.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(prompts.len(), usize::from(options.password.is_some()));
        assert!(
            c.sessions.len() >= 10 && c.sessions.len() < 30,
            "{} sessions: {:?}",
            c.sessions.len(),
            c.warnings
        );
        let w = &c.warnings[0];
        assert!(
            w.contains(&format!("recovered {} session", c.sessions.len())) && w.contains("lost"),
            "{w}"
        );
        if options.names.width == Some(3) {
            assert!(w.contains("at least"), "the padding tells how many were lost: {w}");
        }
        // Every complete session reads as written, bodies from memory.
        for (i, (s, written)) in c.sessions.iter().zip(&sessions).enumerate() {
            assert_eq!(s.index as usize, i + 1);
            if s.response.is_some() {
                assert_folder_sync(&c, s, written);
            }
        }
        assert!(c.sessions[..c.sessions.len() - 1].iter().all(|s| s.response.is_some()));
        assert_eq!(std::fs::read(cut.path()).unwrap(), before);
    }
}

#[test]
fn damaged_end_record_loses_nothing() {
    let sessions = exchanges(5);
    let full = write("full.saz", &sessions, &SazOptions::default());
    let bytes = std::fs::read(full.path()).unwrap();
    let cut = Temp::new("no-eocd.saz");
    std::fs::write(cut.path(), &bytes[..bytes.len() - 40]).unwrap(); // the comment and most of the end record
    let c = open(cut.path());
    assert_eq!(c.sessions.len(), 5);
    assert!(c.warnings[0].contains("no session was lost"), "{:?}", c.warnings);
    for (s, w) in c.sessions.iter().zip(&sessions) {
        assert_folder_sync(&c, s, w);
    }
}

#[test]
fn one_damaged_entry_does_not_fail_the_file() {
    let sessions = exchanges(3);
    let t = write("damaged.saz", &sessions, &SazOptions::default());
    let mut bytes = std::fs::read(t.path()).unwrap();
    let (start, len) = {
        let ar = zip::ZipArchive::new(std::fs::File::open(t.path()).unwrap()).unwrap();
        let i = ar.index_for_name("raw/2_s.txt").unwrap();
        let e = ar.by_index_data(i).unwrap();
        let h = e.header_start() as usize;
        let le16 = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
        (h + 30 + le16(h + 26) + le16(h + 28), e.compressed_size() as usize)
    };
    for b in &mut bytes[start..start + len] {
        *b ^= 0x5A;
    }
    std::fs::write(t.path(), &bytes).unwrap();
    let c = open(t.path());
    assert_eq!(c.sessions.len(), 3);
    let s2 = &c.sessions[1];
    assert!(s2.notes.iter().any(|n| n.contains("raw/2_s.txt")), "{:?}", s2.notes);
    assert!(s2.request.is_some());
    assert_folder_sync(&c, &c.sessions[0], &sessions[0]);
    assert_folder_sync(&c, &c.sessions[2], &sessions[2]);
}

// ---------------------------------------------------------------------------------------------
// Progress and cancellation

#[test]
fn progress_is_reported() {
    let t = write("progress.saz", &exchanges(40), &SazOptions::default());
    let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let progress = |p: Progress| seen.lock().unwrap().push(p);
    let options = OpenOptions {
        progress: Some(&progress),
        ..Default::default()
    };
    assert_eq!(capture::open(t.path(), &options).unwrap().sessions.len(), 40);
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.iter().all(|p| (0.0..=1.0).contains(&p.fraction)));
    assert_eq!(seen.last().unwrap().fraction, 1.0, "{seen:?}");
    assert!(seen.iter().any(|p| p.message.contains("of 40")), "{seen:?}");
}

#[test]
fn cancel_stops_loading() {
    let t = write("cancel.saz", &exchanges(200), &SazOptions::default());
    // Cancelled before starting.
    let cancel = AtomicBool::new(true);
    let options = OpenOptions {
        cancel: Some(&cancel),
        ..Default::default()
    };
    let err = capture::open(t.path(), &options).unwrap_err();
    assert!(
        matches!(&err, OpenError::Cancelled { path } if path == t.path()),
        "{err:?}"
    );
    // Cancelled while indexing (by the first progress report).
    let cancel = AtomicBool::new(false);
    let progress = |p: Progress| {
        if p.message.contains("Indexing") {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let options = OpenOptions {
        cancel: Some(&cancel),
        progress: Some(&progress),
        ..Default::default()
    };
    let err = capture::open(t.path(), &options).unwrap_err();
    assert!(matches!(err, OpenError::Cancelled { .. }), "{err:?}");
}

#[test]
fn writer_streams_to_any_seekable_output() {
    let mut buf = std::io::Cursor::new(Vec::new());
    write_saz(&mut buf, &exchanges(2), &SazOptions::default()).unwrap();
    let bytes = buf.into_inner();
    let ar = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(ar.comment(), b"easlens sample generator");
    let t = Temp::new("cursor.saz");
    std::fs::write(t.path(), &bytes).unwrap();
    assert_eq!(open(t.path()).sessions.len(), 2);
}

/// A 100,000-session archive (about 1 GB) opens with a peak RSS below its size. Slow: run with
/// `cargo test --release --test capture_saz -- --ignored --nocapture`.
#[test]
#[ignore]
fn huge_archive_memory_stays_below_the_file_size() {
    let t = Temp::new("huge.saz");
    let count = 100_000;
    {
        let out = std::io::BufWriter::new(std::fs::File::create(t.path()).unwrap());
        let options = SazOptions {
            compression: SazCompression::Stored,
            ..Default::default()
        };
        let mut w = easlens_core::writers::saz::SazWriter::new(out, count, &options).unwrap();
        // About 10 KB per session: a FolderSync response with a long folder list.
        let mut s = folder_list_exchange(0, 180);
        for i in 0..count {
            s.sid = i as u64;
            w.write_session(&s).unwrap();
        }
        w.finish().unwrap().flush().unwrap();
    }
    let size = std::fs::metadata(t.path()).unwrap().len();
    let started = std::time::Instant::now();
    let c = open(t.path());
    let elapsed = started.elapsed();
    assert_eq!(c.sessions.len(), count);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    eprintln!(
        "{count} sessions, {} MB file, opened in {elapsed:?}, peak RSS {} MB",
        size >> 20,
        peak_kb >> 10
    );
    assert!(peak_kb * 1024 < size, "peak RSS {peak_kb} kB for a {size}-byte file");
}

// ---------------------------------------------------------------------------------------------
// Hostile archives (each the small version of a case that hung, exhausted memory or took minutes)

/// Local file header + stored data of one entry; `flags` 8 defers the sizes to a data descriptor.
fn local_entry(name: &str, data: &[u8], flags: u16, crc: u32) -> Vec<u8> {
    let sizes = if flags & 8 != 0 { 0 } else { data.len() as u32 };
    let crc_field = if flags & 8 != 0 { 0 } else { crc };
    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04");
    out.extend_from_slice(&20u16.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // stored
    out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
    out.extend_from_slice(&crc_field.to_le_bytes());
    out.extend_from_slice(&sizes.to_le_bytes());
    out.extend_from_slice(&sizes.to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A central directory record for a stored entry at `offset`, and the end record after `records`.
fn central_directory(records: &[(&str, u32, u32, u32)], cd_offset: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, crc, size, offset) in records {
        out.extend_from_slice(b"PK\x01\x02");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
    }
    let cd_len = out.len();
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(cd_len as u32).to_le_bytes());
    out.extend_from_slice(&(cd_offset as u32).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut h = flate2::Crc::new();
    h.update(data);
    h.sum()
}

#[test]
fn overlapping_entries_are_refused_and_named() {
    // Five directory records, one local entry: what a 2 MB file inflating to 1 TB is made of.
    let request = request(
        &format!("https://mail.example.com{EAS_PATH}"),
        "mail.example.com",
        "\r\n",
        &folder_sync_request(),
    );
    let crc = crc32(&request);
    let mut bytes = local_entry("raw/1_c.txt", &request, 0, crc);
    let names = [
        "raw/1_c.txt",
        "raw/2_c.txt",
        "raw/3_c.txt",
        "raw/4_c.txt",
        "raw/5_c.txt",
    ];
    let mut records: Vec<(&str, u32, u32, u32)> = names.iter().map(|n| (*n, crc, request.len() as u32, 0)).collect();
    // And one pointing into the first one's data.
    records.push(("raw/6_c.txt", crc, request.len() as u32, 40));
    let cd_offset = bytes.len();
    bytes.extend(central_directory(&records, cd_offset));
    let t = Temp::new("overlap.saz");
    std::fs::write(t.path(), &bytes).unwrap();
    let c = open(t.path());
    assert_eq!(c.sessions.len(), 6);
    assert!(c.sessions[0].request.is_some() && c.sessions[0].notes.iter().all(|n| !n.contains("overlap")));
    for s in &c.sessions[1..] {
        let name = format!("raw/{}_c.txt", s.index);
        assert!(s.request.is_none(), "{name} must not be read");
        assert!(
            s.notes.iter().any(|n| n.starts_with(&format!(
                "{name}: cannot be read: its bytes in the archive overlap those of raw/1_c.txt"
            ))),
            "{:?}",
            s.notes
        );
    }
    assert!(
        c.warnings.iter().any(|w| w.starts_with(
            "5 entries overlap other entries in the archive and were not read (first: raw/2_c.txt overlaps raw/1_c.txt)"
        )),
        "{:?}",
        c.warnings
    );
}

#[test]
fn header_blocks_are_searched_once_and_cut_at_one_mib() {
    let head = format!("POST https://mail.example.com{EAS_PATH} HTTP/1.1\r\nHost: mail.example.com\r\n");
    // No blank line in 20 MiB: every byte used to be searched again after each 16 KiB read.
    let mut no_blank = head.clone().into_bytes();
    no_blank.extend_from_slice(b"X-Long: ");
    no_blank.resize(20 << 20, b'A');
    // A blank line right across the first 16 KiB read.
    let mut straddling = head.clone().into_bytes();
    straddling.extend_from_slice(b"X-Pad: ");
    straddling.resize(16 * 1024 - 2, b'p');
    straddling.extend_from_slice(b"\r\n\r\n");
    straddling.extend_from_slice(&folder_sync_request());
    let sessions = [
        Exchange {
            request: no_blank.clone(),
            ..exchange(1)
        },
        Exchange {
            request: straddling.clone(),
            ..exchange(2)
        },
    ];
    let t = write("long-heads.saz", &sessions, &SazOptions::default());
    let c = open(t.path());
    let cut = &c.sessions[0];
    assert!(
        cut.notes.iter().any(|n| n.starts_with(
            "raw/1_c.txt: no blank line ends the header block within its first 1 MiB; the headers are cut there"
        )),
        "{:?}",
        cut.notes
    );
    let r = cut.request.as_ref().unwrap();
    assert_eq!(r.head.method, "POST");
    assert_eq!(
        r.body.stored_len,
        (20 << 20) - (1 << 20),
        "the rest of the entry is the body"
    );
    assert!(r.head.headers.get("x-long").is_some_and(|v| v.len() < 1 << 20));
    let (request_body, _) = bodies(&c, cut);
    assert!(request_body.iter().all(|&b| b == b'A'));
    // The blank line split across two reads is found.
    let s2 = &c.sessions[1];
    assert!(s2.notes.iter().all(|n| !n.contains("blank line")), "{:?}", s2.notes);
    let (request_body, _) = bodies(&c, s2);
    assert_eq!(request_body, folder_sync_request());
}

#[test]
fn damaged_archives_with_data_descriptors_are_recovered_in_one_pass() {
    // Entries whose sizes are in a data descriptor after the data; the first one's data holds a
    // descriptor signature that does not belong to it. No central directory.
    let request_1 = request(
        &format!("https://mail.example.com{EAS_PATH}"),
        "mail.example.com",
        "\r\n",
        &folder_sync_request(),
    );
    let mut body_with_noise = request_1.clone();
    body_with_noise.extend_from_slice(b"PK\x07\x08\x01\x02\x03\x04\x05\x00\x00\x00\x05\x00\x00\x00");
    let response_1 = response("HTTP/1.1 200 OK", "\r\n", &folder_sync_response(1));
    let mut bytes = Vec::new();
    for (name, data) in [("raw/1_c.txt", &body_with_noise), ("raw/1_s.txt", &response_1)] {
        bytes.extend(local_entry(name, data, 8, 0));
        bytes.extend_from_slice(b"PK\x07\x08");
        bytes.extend_from_slice(&crc32(data).to_le_bytes());
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
    }
    let t = Temp::new("descriptors.saz");
    std::fs::write(t.path(), &bytes).unwrap();
    let c = open(t.path());
    assert_eq!(c.sessions.len(), 1, "{:?}", c.warnings);
    let (req, resp) = bodies(&c, &c.sessions[0]);
    assert_eq!(req, body_of(&body_with_noise));
    assert_eq!(resp, body_of(&response_1));

    // 20,000 headers that each defer to a descriptor that is never there: each one used to scan
    // to the end of the file.
    let mut bytes = Vec::new();
    for i in 0..20_000 {
        bytes.extend(local_entry(&format!("raw/{i}_c.txt"), b"", 8, 0));
    }
    let t = Temp::new("no-descriptors.saz");
    std::fs::write(t.path(), &bytes).unwrap();
    let started = std::time::Instant::now();
    let err = capture::open(t.path(), &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(&err, OpenError::BadArchive { path, .. } if path == t.path()),
        "{err}"
    );
    assert!(started.elapsed().as_secs() < 20, "took {:?}", started.elapsed());
}

#[cfg(unix)]
#[test]
fn special_files_are_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("easlens-capture-saz-{}-special", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("capture.saz");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    for (path, what) in [
        (fifo.as_path(), "a named pipe (FIFO)"),
        (Path::new("/dev/zero"), "a character device"),
        (dir.as_path(), "a directory"),
    ] {
        // Opening the FIFO would wait for a writer: it must not be opened at all.
        let err = capture::open(path, &OpenOptions::default()).unwrap_err();
        assert!(
            matches!(&err, OpenError::NotAFile { path: p, what: w } if p == path && *w == what),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: {what}, not a regular file; captures are read from files only",
                path.display()
            )
        );
    }
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}
