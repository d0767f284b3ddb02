//! Exchange mailbox logs read as captures: the reader's quirks on hand-written logs, the
//! fragments quoted in the shared reference, and the `sessions` JSON of a log.

mod common;

use std::io::Write;

use common::{Temp, easlens, shared_dir};
use easlens_core::capture::{self, Capture, Format, OpenOptions};
use easlens_core::eas::Command;
use easlens_core::readers::mailbox_log::{self, LogEntry};

/// One log entry in Exchange's layout (CRLF added by [`log`]): fields with their values on the
/// next line.
fn entry(n: u32, fields: &[(&str, &str)]) -> String {
    let mut out = format!("\n-----------------\n Log Entry: {n}\n-----------------\n\n");
    for (name, value) in fields {
        out.push_str(&format!("{name} : \n{value}\n\n"));
    }
    out
}

fn log(entries: &[String]) -> String {
    entries.concat().replace('\n', "\r\n")
}

const SYNC_HEADER: &str = "POST /Microsoft-Server-ActiveSync/default.eas?Cmd=Sync&User=contoso%5Cjdoe&DeviceId=DEV1&DeviceType=iPhone HTTP/1.1\nContent-Type: application/vnd.ms-sync.wbxml\nAuthorization: ********\nMS-ASProtocolVersion: 14.1\n";
const PING_HEADER: &str = "POST /Microsoft-Server-ActiveSync/default.eas?Cmd=Ping&User=contoso%5Cjdoe&DeviceId=DEV1&DeviceType=iPhone HTTP/1.1\nContent-Type: application/vnd.ms-sync.wbxml\nMS-ASProtocolVersion: 14.1\n";

fn sync_request(key: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<Sync xmlns=\"AirSync:\">\n\t<Collections>\n\t\t<Collection>\n\t\t\t<SyncKey>{key}</SyncKey>\n\t\t\t<CollectionId>2</CollectionId>\n\t\t\t<GetChanges/>\n\t\t</Collection>\n\t</Collections>\n</Sync>"
    )
}

fn sync_response(old: &str, new: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<Sync xmlns=\"AirSync:\">\n\t<Collections>\n\t\t<Collection>\n\t\t\t<SyncKey>{new}</SyncKey>\n\t\t\t<CollectionId>2</CollectionId>\n\t\t\t<Status>1</Status>\n\t\t\t<Commands>\n\t\t\t\t<Add>\n\t\t\t\t\t<ServerId>2:{old}</ServerId>\n\t\t\t\t\t<ApplicationData>\n\t\t\t\t\t\t<To xmlns=\"Email:\" bytes=\"24\"/>\n\t\t\t\t\t\t<Subject xmlns=\"Email:\" bytes=\"12\"/>\n\t\t\t\t\t\t<Read xmlns=\"Email:\">0</Read>\n\t\t\t\t\t\t<Body=1187 bytes/>\n\t\t\t\t\t</ApplicationData>\n\t\t\t\t</Add>\n\t\t\t</Commands>\n\t\t</Collection>\n\t</Collections>\n</Sync>"
    )
}

fn sync_entry(n: u32, id: &str, time: &str, old: &str, new: &str) -> String {
    entry(
        n,
        &[
            ("RequestTime", time),
            ("ServerName", "EXCH01"),
            ("Identifier", id),
            ("RequestHeader", SYNC_HEADER),
            ("RequestBody", &sync_request(old)),
            ("AccessState", "Allowed"),
            (
                "ResponseHeader",
                "HTTP/1.1 200 OK\nContent-Type: application/vnd.ms-sync.wbxml\n",
            ),
            ("ResponseBody", &sync_response(old, new)),
            ("ResponseTime", time),
        ],
    )
}

fn open_text(name: &str, bytes: &[u8]) -> (Temp, Capture) {
    let t = Temp::new("mailbox-log", name);
    std::fs::write(t.path(), bytes).unwrap();
    let c = capture::open(t.path(), &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    (t, c)
}

#[test]
fn a_log_opens_as_a_capture_with_every_field_read() {
    let pending = entry(
        2,
        &[
            ("RequestTime", "03/05/2024 09:15:00"),
            ("Identifier", "0000BEEF"),
            ("RequestHeader", PING_HEADER),
            (
                "RequestBody",
                "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<Ping xmlns=\"Ping:\">\n\t<HeartbeatInterval>900</HeartbeatInterval>\n</Ping>",
            ),
            ("AccessState", "Allowed"),
            ("WasPending", "[Response was pending]"),
            ("ResponseHeader", "HTTP/1.1 200 OK\n"),
            (
                "ResponseBody",
                "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<Ping xmlns=\"Ping:\">\n\t<Status>1</Status>\n</Ping>",
            ),
            ("ResponseTime", "03/05/2024 09:30:00"),
            ("FutureField", "some value\nover two lines"),
        ],
    );
    let failing = entry(
        3,
        &[
            ("RequestTime", "03/05/2024 09:31:00"),
            ("Identifier", "5E2A10C4"),
            ("RequestHeader", SYNC_HEADER),
            ("RequestBody", &sync_request("1449836018")),
            (
                "SyncCommand_OnExecute_Exception",
                "Microsoft.Exchange.Data.Storage.ObjectNotFoundException: The object was not found.\n   at Microsoft.Exchange.AirSync.SyncCommand.OnExecute()",
            ),
            ("ResponseHeader", "HTTP/1.1 500 Internal Server Error\n"),
            ("ResponseBody", "[No XmlResponse]"),
            ("ResponseTime", "03/05/2024 09:31:01"),
        ],
    );
    let text = format!(
        "From: Exchange\nSubject: mailbox log\n\n{}",
        log(&[
            sync_entry(0, "5E2A10C3", "03/05/2024 09:14:05", "1449836017", "1449836018"),
            pending,
            failing
        ])
    );
    let (_t, c) = open_text("one.txt", text.as_bytes());
    assert_eq!(c.format, Format::MailboxLog);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.sessions.len(), 3);

    let sync = &c.sessions[0];
    let eas = sync.eas.as_ref().expect("an EAS session");
    assert_eq!(eas.command, Some(Command::Sync));
    assert_eq!(eas.device_id.as_deref(), Some("DEV1"));
    assert_eq!(eas.user.as_deref(), Some("contoso\\jdoe"));
    assert_eq!(sync.http_status(), Some(200));
    assert_eq!(eas.response_status_values(), vec![1]);
    assert_eq!(sync.id, Some(0x5E2A10C3));
    assert_eq!(sync.timers.started().unwrap().to_rfc3339(), "2024-03-05T09:14:05+00:00");
    assert!(
        sync.notes
            .iter()
            .any(|n| n == "ResponseBody: 3 value(s) not logged (1223 characters), as Exchange logs personal data"),
        "{:?}",
        sync.notes
    );
    assert!(sync.facts.iter().any(|n| n == "AccessState: Allowed"));
    assert!(
        !sync.notes.iter().any(|n| n.starts_with("AccessState")),
        "a fact, not a problem"
    );
    // The redacted Add is still an item operation of the collection.
    assert_eq!(eas.items.len(), 1, "{:?}", eas.items);

    let ping = &c.sessions[1];
    assert_eq!(ping.timers.duration_ms(), Some(900_000.0));
    assert!(
        ping.facts.iter().any(|n| n.contains("went pending")),
        "{:?}",
        ping.facts
    );
    assert!(
        ping.facts
            .iter()
            .any(|n| n == "FutureField: some value\nover two lines")
    );

    let failed = &c.sessions[2];
    assert_eq!(failed.http_status(), Some(500));
    assert!(
        failed.notes.iter().any(|n| n
            .starts_with("SyncCommand_OnExecute_Exception: Microsoft.Exchange.Data.Storage.ObjectNotFoundException")),
        "{:?}",
        failed.notes
    );
}

#[test]
fn quirks_of_real_dumps_are_read() {
    // Values on the same line as the name, LF only, a UTF-8 BOM.
    let same_line = "\u{feff}\n-----------------\nLog Entry: 0\n-----------------\n\nRequestTime : 03/05/2024 09:14:05\n\nIdentifier : 00A1\n\nRequestHeader : \nGET /Microsoft-Server-ActiveSync/default.eas?Cmd=Sync&User=u&DeviceId=D2&DeviceType=Android HTTP/1.1\n\nResponseHeader : \nHTTP/1.1 200 OK\n\nResponseTime : 03/05/2024 09:14:06\n";
    let (_t, c) = open_text("same-line.txt", same_line.as_bytes());
    assert_eq!(c.sessions.len(), 1);
    assert_eq!(c.sessions[0].timers.duration_ms(), Some(1000.0));
    assert_eq!(c.sessions[0].id, Some(0xA1));

    // gzip of a CRLF log.
    let text = log(&[sync_entry(0, "00000001", "03/05/2024 09:14:05", "1", "2")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let (_t, c) = open_text("log.txt.gz", &gz.finish().unwrap());
    assert_eq!(c.sessions.len(), 1);

    // UTF-16LE with a BOM (PowerShell 5.1 `Out-File`).
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (_t, c) = open_text("utf16.txt", &utf16);
    assert_eq!(c.sessions.len(), 1);

    // A damaged entry (a separator with nothing after it; an entry without RequestHeader) is
    // skipped with a warning that names where it is; the rest loads.
    let damaged = format!(
        "{}{}{}",
        log(&[sync_entry(0, "00000001", "03/05/2024 09:14:05", "1", "2")]),
        "\r\n-----------------\r\n Log Entry: 1\r\n-----------------\r\n\r\nthe rest of this entry was lost\r\n",
        log(&[
            entry(2, &[("RequestTime", "03/05/2024 09:14:07"), ("Identifier", "00000003")]),
            sync_entry(3, "00000004", "03/05/2024 09:14:08", "2", "3")
        ])
    );
    let (_t, c) = open_text("damaged.txt", damaged.as_bytes());
    assert_eq!(c.sessions.len(), 2);
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("entry 1 at line "), "{:?}", c.warnings);
    assert!(c.warnings[1].contains("entry 2 at line ") && c.warnings[1].contains("no RequestHeader"));
}

#[test]
fn a_file_of_damage_keeps_the_first_warnings() {
    let empty: String = (1..=200)
        .map(|n| format!("\r\n-----------------\r\n Log Entry: {n}\r\n-----------------\r\n\r\n"))
        .collect();
    let text = format!(
        "{}{empty}",
        log(&[sync_entry(0, "00000001", "03/05/2024 09:14:05", "1", "2")])
    );
    let (_t, c) = open_text("many-problems.txt", text.as_bytes());
    assert_eq!(c.sessions.len(), 1);
    assert_eq!(c.warnings.len(), 51);
    assert_eq!(c.warnings[50], "… and 150 more problems like these");
}

#[test]
fn overlapping_dumps_merge_by_identifier_in_time_order() {
    let a = sync_entry(0, "0000000A", "03/05/2024 09:00:00", "1", "2");
    let b = sync_entry(1, "0000000B", "03/05/2024 09:05:00", "2", "3");
    let b_again = sync_entry(0, "0000000B", "03/05/2024 09:05:00", "2", "3");
    let c = sync_entry(1, "0000000C", "03/05/2024 09:05:00", "3", "4");
    let d = sync_entry(2, "0000000D", "03/05/2024 09:10:00", "4", "5");
    let first = Temp::new("mailbox-log", "dump1.txt");
    let second = Temp::new("mailbox-log", "dump2.txt");
    std::fs::write(first.path(), log(&[a, b])).unwrap();
    std::fs::write(second.path(), log(&[b_again, c, d])).unwrap();
    // The later dump first: the order of the files does not matter.
    let loaded = mailbox_log::open_logs(
        &[second.path(), first.path()],
        &OpenOptions::default(),
        &easlens_core::capture::EasIndexer,
    )
    .unwrap();
    let ids: Vec<u64> = loaded.sessions.iter().filter_map(|(s, _)| s.id).collect();
    assert_eq!(ids, [0xA, 0xB, 0xC, 0xD]);
    assert_eq!(
        loaded.warnings,
        ["1 entries repeat an earlier entry's Identifier and time (dumps repeat earlier entries) and were read once"]
    );
}

#[test]
fn merging_stays_linear() {
    // Ten dumps of 5,000 entries, each repeating the one before it but 500: a quadratic merge
    // would take minutes.
    let dumps: Vec<Vec<LogEntry>> = (0..10)
        .map(|d| {
            (d * 500..d * 500 + 5000)
                .map(|i| LogEntry {
                    number: Some(i - d * 500),
                    line: 1,
                    fields: vec![
                        (
                            "RequestTime".into(),
                            format!("03/05/2024 {:02}:{:02}:{:02}", i / 3600 % 24, i / 60 % 60, i % 60),
                        ),
                        ("Identifier".into(), format!("{i:08X}")),
                    ],
                })
                .collect()
        })
        .collect();
    let (merged, repeats) = mailbox_log::merge(dumps);
    assert_eq!(merged.len(), 9500);
    assert_eq!(repeats, 50_000 - 9500);
}

#[test]
fn text_that_is_not_a_log_gets_a_clear_error() {
    let t = Temp::new("mailbox-log", "notes.txt");
    std::fs::write(t.path(), "Dear support,\r\nthe phone does not sync.\r\n").unwrap();
    let err = capture::open(t.path(), &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("notes.txt"), "{err}");
    assert!(err.contains("mailbox log"), "{err}");
}

#[test]
fn sessions_json_of_a_log_names_the_source_and_the_identifier() {
    let t = Temp::new("mailbox-log", "cli.txt");
    std::fs::write(
        t.path(),
        log(&[sync_entry(0, "0A2B3C4D", "03/05/2024 09:14:05", "1", "2")]),
    )
    .unwrap();
    let out = easlens(&["sessions", "--json", t.arg()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["id"], "0A2B3C4D");
    assert_eq!(rows[0]["source"], "mailbox_log");
    assert_eq!(rows[0]["command"], "Sync");
    assert_eq!(rows[0]["eas_status"], serde_json::json!([1]));
}

/// The code blocks of the reference's mailbox log notes that hold log text.
fn reference_blocks() -> Option<Vec<String>> {
    let md = std::fs::read_to_string(shared_dir("reference")?.join("mailbox-log.md")).unwrap();
    Some(
        md.split("```")
            .skip(1)
            .step_by(2)
            .map(|b| b.trim_start_matches(|c: char| c.is_ascii_alphabetic()).to_string())
            .collect(),
    )
}

#[test]
fn the_fragments_quoted_in_the_reference_are_read() {
    let Some(blocks) = reference_blocks() else {
        return;
    };
    // The synthetic whole entry (TABs shown as four spaces there).
    let example = blocks
        .iter()
        .find(|b| b.contains(" Log Entry: 0"))
        .expect("the example entry")
        .replace("    ", "\t")
        .replace('\n', "\r\n");
    let (_t, c) = open_text("example.txt", example.as_bytes());
    let s = &c.sessions[0];
    let eas = s.eas.as_ref().unwrap();
    assert_eq!(eas.command, Some(Command::Sync));
    assert_eq!(eas.user.as_deref(), Some("contoso\\jdoe"));
    assert_eq!(eas.device_id.as_deref(), Some("SYNTHDEV0001"));
    assert_eq!(eas.protocol_version.as_deref(), Some("14.1"));
    assert_eq!(s.http_status(), Some(200));
    assert_eq!(eas.response_status_values(), vec![1]);
    assert_eq!(s.timers.duration_ms(), Some(0.0));
    assert_eq!(eas.items.len(), 1);

    // KB 2851708: an excerpt that starts mid-entry, without a separator.
    let kb = blocks.iter().find(|b| b.contains("4D7D0057")).expect("the KB fragment");
    let (_t, c) = open_text("kb.txt", kb.as_bytes());
    let s = &c.sessions[0];
    let eas = s.eas.as_ref().unwrap();
    assert_eq!(eas.command, Some(Command::Provision));
    assert_eq!(eas.device_id.as_deref(), Some("ApplDMPGH8DWDFJ3"));
    assert_eq!(eas.user_agent.as_deref(), Some("Apple-iPad2C2/1101.465"));
    assert_eq!(s.id, Some(0x4D7D0057));

    // The 2015 calendar Sync response, as the ResponseBody of an entry.
    let calendar = blocks
        .iter()
        .find(|b| b.contains("2049434149"))
        .expect("the calendar fragment");
    let text = log(&[entry(
        0,
        &[
            ("RequestTime", "01/27/2015 03:13:19"),
            ("Identifier", "00000001"),
            ("RequestHeader", SYNC_HEADER),
            ("ResponseHeader", "HTTP/1.1 200 OK\n"),
            ("ResponseBody", calendar.trim()),
        ],
    )]);
    let (_t, c) = open_text("calendar.txt", text.as_bytes());
    let s = &c.sessions[0];
    assert!(
        s.notes.iter().all(|n| !n.contains("not ActiveSync XML")),
        "{:?}",
        s.notes
    );
    // Subject, OrganizerName, OrganizerEmail, Location, two Categories and the Body.
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("ResponseBody: 7 value(s) not logged")),
        "{:?}",
        s.notes
    );
    assert_eq!(s.eas.as_ref().unwrap().response_status_values(), vec![1]);
}

#[test]
fn an_empty_cached_sync_reads_its_logical_request() {
    let text = log(&[entry(
        0,
        &[
            ("RequestTime", "03/05/2024 09:14:05"),
            ("Identifier", "0000C0DE"),
            ("RequestHeader", SYNC_HEADER),
            ("RequestBody", "Empty"),
            ("LogicalRequest", &sync_request("777")),
            ("ResponseHeader", "HTTP/1.1 200 OK\n"),
            ("ResponseBody", &sync_response("777", "778")),
        ],
    )]);
    let (_t, c) = open_text("cached.txt", text.as_bytes());
    let s = &c.sessions[0];
    assert!(
        s.facts.iter().any(|n| n.contains("shown is Exchange's LogicalRequest")),
        "{:?}",
        s.facts
    );
    let keys: Vec<&str> = s
        .eas
        .as_ref()
        .unwrap()
        .sync_keys
        .iter()
        .map(|k| k.value.as_str())
        .collect();
    assert_eq!(keys, ["777", "778"]);
}
