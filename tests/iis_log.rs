//! Exchange IIS logs as a source: the reference's lines (iis-eas-log.md §3.3 and its synthetic
//! examples) read as sessions and reports, field sets that change mid-file, gzip files and
//! folders of several servers, front-end/back-end pairing, the CLI's `iis-report` and `sessions`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::easlens;
use easlens_core::capture::{self, Format, OpenOptions};
use easlens_core::iis::reports::{Cell, Reports, Table};
use easlens_core::iis::{Role, scan};

const HEADER: &str = "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2024-05-02 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n";

/// The reference's synthetic lines (iis-eas-log.md, end), in its order.
const LINES: [&str; 7] = [
    "2024-05-02 08:15:02 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=Sync&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&Log=SC1:1_PrxFrom:10.0.0.11_Ver1:161_Fid:5_Ty:Em_Filter1:3_St:S_Sk:1204981530_Sks:1204981531_Srv:2a0c0d0s0e0r0A0sd_Pfs:1_Fet:312_As:AllowedG_Mbx:MBX01.contoso.com_Cafe:FE01.contoso.com_Throttle:0_ 444 CONTOSO\\jdoe 10.0.0.11 Apple-iPhone15C2/2107.102 200 0 0 318",
    "2024-05-02 08:25:03 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=Ping&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&Log=SC1:1_PrxFrom:10.0.0.11_Ver1:161_Hb:600_Rto:2_Cpo:650_Fet:600004_As:AllowedG_Mbx:MBX01.contoso.com_Throttle:0_ 444 CONTOSO\\jdoe 10.0.0.11 Apple-iPhone15C2/2107.102 200 0 0 600011",
    "2024-05-02 09:00:41 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=Sync&User=asmith%40contoso.com&DeviceId=SYNTH0002&DeviceType=Android&Log=SC1:111_PrxFrom:10.0.0.12_Ver1:141_Error:OverBudget_As:AllowedG_Mbx:MBX02.contoso.com_Throttle:1500_SBkOffD:H%2f37_BkOffRsn:OutOfBudget_Budget:(A)Owner%3aS-1-5-21-1-2-3-1104%5FSYNTH0002%5FAndroid%2cConn%3a3%2cBalance%3a-36972_ 444 CONTOSO\\asmith 10.0.0.12 Android-Mail/2024.01 503 0 0 1612",
    "2024-05-02 09:02:10 10.0.0.11 POST /Microsoft-Server-ActiveSync/default.eas Cmd=FolderSync&User=bwhite&DeviceId=SYNTH0003&DeviceType=SamsungDevice&CorrelationID=<empty>;&cafeReqId=3f2a9c1e-0000-4000-8000-00000000a001; 443 - 203.0.113.7 SAMSUNG-SM-S911B/101.140101 401 2 2148074254 15",
    "2024-05-02 09:05:44 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=SendMail&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&SaveInSent=T&Log=SC1:115_PrxFrom:10.0.0.11_Ver1:161_Error:SendQuotaExceeded_As:AllowedG_Mbx:MBX01.contoso.com_Throttle:0_ 444 CONTOSO\\jdoe 10.0.0.11 Apple-iPhone15C2/2107.102 200 0 0 95",
    "2024-05-02 09:07:12 10.0.0.5 POST /Microsoft-Server-ActiveSync jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l&Log=V140_Fid:1_Ty:Em_Filt2_St:S_Sk:8_Sks9_S1_As:AllowedG_Mbx:EX2010MBX.contoso.com_Throttle0_ 443 CONTOSO\\rmjones 198.51.100.20 MSFT-WP/8.0.10512 200 0 0 240",
    "2024-05-02 09:10:30 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=Provision&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&Log=SC1:1_PrxFrom:10.0.0.11_Ver1:161_Pk:0_As:AllowedG_Mbx:MBX01.contoso.com_ActivityContextData:ActivityID%3d3f2a9c1e-0000-4000-8000-00000000a002%3bS%3aWLM.BT%3dEas_ 444 CONTOSO\\jdoe 10.0.0.11 Apple-iPhone15C2/2107.102 200 0 0 140",
];

/// A folder of its own for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("easlens-iis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn log_text(lines: &[&str]) -> String {
    let mut s = HEADER.to_string();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s
}

fn reports(paths: &[PathBuf]) -> (Reports, scan::Scan) {
    scan::scan(paths, &OpenOptions::default(), Reports::new).unwrap()
}

/// The row of `t` whose column `key` is `value`.
fn row<'a>(t: &'a Table, key: &str, value: &str) -> &'a [Cell] {
    let k = t.column(key).unwrap();
    t.rows
        .iter()
        .find(|r| r[k] == Cell::Text(value.into()))
        .unwrap_or_else(|| panic!("{}: no row with {key} = {value}: {:?}", t.name, t.rows))
}

fn int(t: &Table, r: &[Cell], column: &str) -> i64 {
    match &r[t
        .column(column)
        .unwrap_or_else(|| panic!("{}: no column {column}", t.name))]
    {
        Cell::Int(n) => *n,
        other => panic!("{column}: {other:?}"),
    }
}

fn text(t: &Table, r: &[Cell], column: &str) -> String {
    r[t.column(column).unwrap()].display()
}

#[test]
fn the_reference_lines_become_sessions_in_time_order() {
    let dir = Dir::new("sessions");
    // Written out of order: the capture is in time order (by when each request started).
    let mut lines = LINES.to_vec();
    lines.reverse();
    let path = dir.write("u_ex240502.log", log_text(&lines).as_bytes());
    let c = capture::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(c.format, Format::IisLog);
    assert_eq!(c.sessions.len(), 7);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let starts: Vec<_> = c.sessions.iter().map(|s| s.timers.started().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    // The first: a back-end Sync, started time-taken before the line's time.
    let s = &c.sessions[0];
    assert_eq!(s.index, 1);
    assert_eq!(
        s.timers.started().unwrap().to_rfc3339(),
        "2024-05-02T08:15:01.682+00:00"
    );
    assert_eq!(s.timers.duration_ms(), Some(318.0));
    let eas = s.eas.as_ref().unwrap();
    assert_eq!(eas.command_raw.as_deref(), Some("Sync"));
    assert_eq!(eas.user.as_deref(), Some("jdoe@contoso.com"));
    assert_eq!(eas.device_id.as_deref(), Some("SYNTH0001"));
    assert_eq!(eas.protocol_version.as_deref(), Some("16.1"));
    assert_eq!(eas.response_status_values(), vec![1]);
    let keys: Vec<(&str, Option<&str>)> = eas
        .sync_keys
        .iter()
        .map(|k| (k.value.as_str(), k.collection_id.as_deref()))
        .collect();
    assert_eq!(keys, [("1204981530", Some("5")), ("1204981531", Some("5"))]);
    let facts = s.iis.as_deref().unwrap();
    assert_eq!((facts.role, facts.line), (Role::BackEnd, 11));
    assert_eq!(
        facts.log.as_ref().unwrap().mailbox_server.as_deref(),
        Some("MBX01.contoso.com")
    );
    assert!(
        s.facts.iter().any(|n| n.contains("line 11") && n.contains("back end")),
        "{:?}",
        s.facts
    );
    assert!(
        s.facts
            .iter()
            .any(|n| n.starts_with("Log: ") && n.contains("Srv=2a0c0d0s0e0r0A0sd"))
    );
    // The throttled Sync: HTTP 503, EAS 111, the error.
    let t = &c.sessions[2];
    assert_eq!(t.http_status(), Some(503));
    assert_eq!(t.eas.as_ref().unwrap().response_status_values(), vec![111]);
    let eas_notes = &t.eas.as_ref().unwrap().notes;
    assert!(eas_notes.iter().any(|n| n == "Exchange error: OverBudget"));
    assert!(!t.notes.iter().any(|n| n.starts_with("Exchange error")));
    // The front end's 401 challenge: no user name, cafeReqId kept.
    let f = &c.sessions[3];
    let facts = f.iis.as_deref().unwrap();
    assert_eq!(
        (f.http_status(), facts.substatus, facts.win32),
        (Some(401), 2, 2148074254)
    );
    assert_eq!((facts.role, facts.user_name.as_deref()), (Role::FrontEnd, None));
    assert_eq!(
        facts.request_id.as_deref(),
        Some("3f2a9c1e-0000-4000-8000-00000000a001")
    );
    // The 2010 base64 line: command and device from the blob.
    let b = &c.sessions[5];
    let eas = b.eas.as_ref().unwrap();
    assert_eq!(
        (
            eas.command_raw.as_deref(),
            eas.device_id.as_deref(),
            eas.device_type.as_deref()
        ),
        (Some("Sync"), Some("v140Device"), Some("SmartPhone"))
    );
    assert_eq!(b.iis.as_deref().unwrap().role, Role::Cas);
    // The back-end Provision's ActivityID.
    let p = &c.sessions[6];
    assert_eq!(
        p.iis.as_deref().unwrap().request_id.as_deref(),
        Some("3f2a9c1e-0000-4000-8000-00000000a002")
    );
}

#[test]
fn the_reports_count_the_reference_lines() {
    let dir = Dir::new("reports");
    let path = dir.write("u_ex240502.log", log_text(&LINES).as_bytes());
    let (r, scan) = reports(&[path]);
    assert_eq!(scan.activesync_lines(), 7);
    let users = r.table("users").unwrap();
    assert_eq!(users.rows.len(), 4);
    let jdoe = row(&users, "User", "jdoe@contoso.com");
    assert_eq!(int(&users, jdoe, "Hits"), 4);
    assert_eq!(int(&users, jdoe, "Sync"), 1);
    assert_eq!(int(&users, jdoe, "Ping"), 1);
    assert_eq!(int(&users, jdoe, "SendMail"), 1);
    assert_eq!(int(&users, jdoe, "Other commands"), 1);
    assert_eq!(int(&users, jdoe, "Exchange errors"), 1);
    assert_eq!(text(&users, jdoe, "First seen (UTC)"), "2024-05-02 08:15:02");
    assert_eq!(text(&users, jdoe, "Last seen (UTC)"), "2024-05-02 09:10:30");
    assert_eq!(text(&users, jdoe, "User agents"), "Apple-iPhone15C2/2107.102");
    let bwhite = row(&users, "User", "bwhite");
    assert_eq!((int(&users, bwhite, "Hits"), int(&users, bwhite, "HTTP 4xx")), (1, 1));
    let rm = row(&users, "User", "CONTOSO\\rmjones");
    assert_eq!(text(&users, rm, "Device ID"), "v140Device");
    let sendmail = r.table("sendmail").unwrap();
    assert_eq!(sendmail.rows.len(), 1);
    let s = &sendmail.rows[0];
    assert_eq!(int(&sendmail, s, "EAS status"), 115);
    assert_eq!(text(&sendmail, s, "Error"), "SendQuotaExceeded");
    assert_eq!(text(&sendmail, s, "ABQ"), "AllowedG");
    assert_eq!(int(&sendmail, s, "sc-status"), 200);
    let throttling = r.table("throttling").unwrap();
    let a = row(&throttling, "User", "asmith@contoso.com");
    assert_eq!(int(&throttling, a, "HTTP 503"), 1);
    assert_eq!(int(&throttling, a, "Error:OverBudget"), 1);
    assert_eq!(int(&throttling, a, "Longest queue ms"), 1500);
    assert_eq!(int(&throttling, a, "Lowest balance"), -36972);
    assert_eq!(
        text(&throttling, a, "Budget owner"),
        "S-1-5-21-1-2-3-1104_SYNTH0002_Android"
    );
    assert_eq!(text(&throttling, a, "Last back-off (SBkOffD)"), "H/37");
    let eas = r.table("eas-status").unwrap();
    let total: i64 = eas.rows.iter().map(|r| int(&eas, r, "Requests")).sum();
    assert_eq!(total, 6, "every line with a Log= has a status");
    let http = r.table("http-status").unwrap();
    let ok = row(&http, "Meaning", "OK");
    assert_eq!((int(&http, ok, "Front end / CAS"), int(&http, ok, "Back end")), (1, 4));
    let errors = r.table("errors").unwrap();
    assert_eq!(errors.rows.len(), 2);
    let hourly = r.table("hourly").unwrap();
    let nine = row(&hourly, "Hour (UTC)", "2024-05-02 09:00");
    assert_eq!(int(&hourly, nine, "Back end"), 3);
    assert_eq!(int(&hourly, nine, "Unique devices"), 4);
    let policy = r.table("policy").unwrap();
    let p = row(&policy, "User", "jdoe@contoso.com");
    assert_eq!(text(&policy, p, "Last policy key (Pk)"), "0");
    assert!(
        policy.notes.iter().any(|n| n.contains("policy acknowledgement (Pa)")),
        "the log has no Pa: the report says so"
    );
    let servers = r.table("servers").unwrap();
    assert_eq!(servers.rows.len(), 3);
}

#[test]
fn fields_change_mid_file_gzip_and_folders_of_servers_merge() {
    let dir = Dir::new("folders");
    // Front end: one challenge, then a new header block (IIS restarted) with other fields, and a
    // line cut while IIS was writing.
    let fe = format!(
        "{HEADER}{}\r\n#Software: Microsoft Internet Information Services 10.0\r\n#Fields: time date s-computername cs-uri-stem cs-uri-query sc-status time-taken cs(User-Agent) c-ip\r\n09:05:44 2024-05-02 FE01 /Microsoft-Server-ActiveSync/default.eas Cmd=SendMail&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&cafeReqId=aaaa; 200 99 Apple-iPhone15C2/2107.102 198.51.100.7\r\n09:06:00 2024-05-02 FE01 /owa/ - 200 5 Mozilla 198.51.100.7\r\n09:07:00 2024-05-02 FE01 /Microsoft-Server-ActiveSync/default.eas Cmd=Sync&Us",
        LINES[3]
    );
    dir.write("FE01/W3SVC1/u_ex240502.log", fe.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log_text(&[LINES[4], LINES[6]]).as_bytes()).unwrap();
    dir.write("MBX01/W3SVC2/u_ex240502.log.gz", &gz.finish().unwrap());
    dir.write("notes.json", b"{}");
    let c = capture::open(&dir.0, &OpenOptions::default()).unwrap();
    assert_eq!(c.format, Format::IisLog);
    let commands: Vec<_> = c
        .sessions
        .iter()
        .map(|s| s.eas.as_ref().unwrap().command_raw.clone().unwrap())
        .collect();
    assert_eq!(commands, ["FolderSync", "SendMail", "SendMail", "Provision"]);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("u_ex240502.log: 1 line(s) skipped") && w.contains("wrong number of fields")),
        "{:?}",
        c.warnings
    );
    // The SendMail's two lines are one request: paired by device, command and time.
    let (fe, be) = (&c.sessions[1], &c.sessions[2]);
    assert_eq!(fe.iis.as_deref().unwrap().role, Role::FrontEnd);
    assert_eq!(fe.iis.as_deref().unwrap().server.as_ref(), "FE01");
    assert_eq!(fe.iis.as_deref().unwrap().paired_with, Some(be.index));
    assert_eq!(be.iis.as_deref().unwrap().paired_with, Some(fe.index));
    // Reports over the same folder: the SendMail counts once for the device.
    let (r, scan) = reports(std::slice::from_ref(&dir.0));
    assert_eq!(scan.files.len(), 2, "the side file is left out");
    assert!(scan.files.iter().any(|f| f.gzip));
    let users = r.table("users").unwrap();
    let jdoe = row(&users, "User", "jdoe@contoso.com");
    assert_eq!(int(&users, jdoe, "SendMail"), 1);
    // Lined up with this device only, the back-end line folds into the front end's.
    let one = capture::open_iis(std::slice::from_ref(&dir.0), &OpenOptions::default(), Some("synth0001")).unwrap();
    assert_eq!(
        one.sessions.len(),
        2,
        "{:?}",
        one.sessions.iter().map(|s| &s.facts).collect::<Vec<_>>()
    );
    let folded = &one.sessions[0];
    assert_eq!(folded.http_status(), Some(200));
    assert_eq!(folded.eas.as_ref().unwrap().response_status_values(), vec![115]);
    assert!(folded.iis.as_deref().unwrap().log.is_some());
    // The back end's error comes with it, as a problem; its Log= as a fact.
    let eas_notes = &folded.eas.as_ref().unwrap().notes;
    assert!(
        eas_notes.iter().any(|n| n == "Exchange error: SendQuotaExceeded"),
        "{eas_notes:?}"
    );
    assert!(
        folded.facts.iter().any(|n| n.starts_with("Log: SC1=115")),
        "{:?}",
        folded.facts
    );
    assert!(
        !folded
            .facts
            .iter()
            .any(|n| n.contains("line of this request is session"))
    );
}

/// Asserts that a warning of `scan` names `file` and says `what`.
fn assert_warns(scan: &scan::Scan, file: &str, what: &str) {
    let warnings = scan.warnings();
    assert!(
        warnings.iter().any(|w| w.contains(file) && w.contains(what)),
        "{warnings:?}"
    );
}

#[test]
fn bad_files_are_named_and_the_rest_still_loads() {
    let dir = Dir::new("bad");
    let good = dir.write("good.log", log_text(&LINES[..2]).as_bytes());
    let not_a_log = dir.write("readme.log", b"hello\r\nworld\r\n");
    let (r, scan) = reports(&[good.clone(), not_a_log.clone()]);
    assert_eq!(scan.activesync_lines(), 2);
    assert!(r.table("users").unwrap().rows.len() == 1);
    assert_warns(&scan, "readme.log", "not an IIS (W3C) log");
    // A gzip file cut short: the lines before the cut load, and the warning names the file.
    let many: Vec<&str> = LINES.iter().copied().cycle().take(LINES.len() * 3000).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log_text(&many).as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let cut = dir.write("cut.log.gz", &gz[..gz.len() * 3 / 5]);
    let (_, scan) = reports(std::slice::from_ref(&cut));
    assert!(scan.activesync_lines() > 1000, "{}", scan.activesync_lines());
    assert_warns(&scan, "cut.log.gz", "read error");
    let missing = dir.0.join("missing.log");
    assert!(matches!(
        scan::scan(&[missing], &OpenOptions::default(), Reports::new),
        Err(scan::IisError::Io { .. })
    ));
}

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let out = easlens(args);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn the_cli_prints_reports_as_text_json_and_csv_and_sessions_as_iis_log() {
    let dir = Dir::new("cli");
    // A hostile value: an escape sequence in a user agent must not reach the terminal.
    let hostile = LINES[0].replace("Apple-iPhone15C2/2107.102", "Evil\u{1b}[31mAgent");
    let path = dir.write("u_ex240502.log", log_text(&[&hostile, LINES[2], LINES[4]]).as_bytes());
    let p = path.to_str().unwrap();
    let (text, _, code) = run(&["iis-report", "users", p]);
    assert_eq!(code, Some(0));
    assert!(text.contains("jdoe@contoso.com") && !text.contains('\u{1b}'), "{text}");
    let (json, _, code) = run(&["iis-report", "sendmail", p, "--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["report"], "sendmail");
    assert_eq!(v["rows"][0]["EAS status"], 115);
    assert_eq!(v["rows"][0]["Error"], "SendQuotaExceeded");
    let (csv, _, code) = run(&["iis-report", "throttling", p, "--csv"]);
    assert_eq!(code, Some(0));
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("User,Device ID,Budget owner,HTTP 503")
    );
    assert!(lines.next().unwrap().starts_with("asmith@contoso.com,SYNTH0002,"));
    let (all, _, code) = run(&["iis-report", "all", p, "--json"]);
    assert_eq!(code, Some(0));
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all.as_array().unwrap().len(), Reports::names().count());
    let (_, err, code) = run(&["iis-report", "nonsense", p]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unknown report") && err.contains("synckey0"), "{err}");
    // The help names every report (its list is written by hand).
    let (help, _, code) = run(&["iis-report", "--help"]);
    assert_eq!(code, Some(0));
    let listed: Vec<&str> = help.split([' ', ',', ';', '\n']).collect();
    for name in Reports::names() {
        assert!(listed.contains(&name), "iis-report --help lacks {name}: {help}");
    }
    let rows = common::easlens_json_array(&["sessions", p, "--json"]);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["source"] == "iis_log"));
    assert_eq!(rows[0]["command"], "Sync");
    assert_eq!(rows[1]["http_status"], 503);
    assert_eq!(rows[1]["iis"]["role"], "back_end");
    assert_eq!(rows[1]["iis"]["log"]["error"], "OverBudget");
    let (table, _, code) = run(&["sessions", p]);
    assert_eq!(code, Some(0));
    assert!(table.contains("IIS logs") && !table.contains('\u{1b}'), "{table}");
    let (_, _, code) = run(&["findings", p]);
    assert_eq!(code, Some(0));
}

#[test]
fn an_empty_or_cut_log_is_a_clear_error() {
    let dir = Dir::new("empty");
    let only_header = dir.write("u_ex1.log", HEADER.as_bytes());
    let c = capture::open(&only_header, &OpenOptions::default()).unwrap();
    assert!(c.sessions.is_empty());
    let (_, err, code) = run(&["iis-report", "users", dir.0.join("nothing-here.log").to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("nothing-here.log"), "{err}");
    assert!(Path::new(&dir.0).exists());
}

#[test]
fn the_filter_reads_server_ip_error_and_time_taken() {
    use easlens_core::filter;
    let dir = Dir::new("filter");
    let path = dir.write("u_ex240502.log", log_text(&LINES).as_bytes());
    let c = capture::open(&path, &OpenOptions::default()).unwrap();
    let hits = |query: &str| -> Vec<u32> {
        let parsed = filter::parse(query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
        filter::filter(&c, &parsed, None)
            .iter()
            .map(|&p| c.sessions[p as usize].index)
            .collect()
    };
    // Sessions in time order: 1 Sync, 2 Ping (600 s), 3 throttled Sync, 4 FE 401, 5 SendMail,
    // 6 base64 Sync on the 2010 CAS, 7 Provision.
    assert_eq!(hits("time-taken:>60000"), [2]);
    assert_eq!(hits("time-taken:100-400"), [1, 6, 7]);
    assert_eq!(hits("error:OverBudget"), [3]);
    assert_eq!(hits("error:quota"), [5]);
    assert_eq!(hits("-error:none"), [3, 5]);
    assert_eq!(hits("server:10.0.0.5"), [6]);
    assert_eq!(hits("server:MBX02"), [3], "the mailbox server of Log=");
    assert_eq!(hits("ip:203.0.113.7"), [4]);
    assert_eq!(hits("ip:10.0.0.12 cmd:Sync"), [3]);
    assert!(filter::parse("time-taken:>abc").is_err());
}

#[test]
fn exchange_s_stage_times_take_the_line_s_date_and_show_in_the_session() {
    // A Ping received before midnight and logged after it, in the 2016 spelling (`TmRcv:`), and
    // an Exchange 2010 line in the older one (`TmRcv…` with no colon).
    let lines = [
        "2024-05-03 00:05:02 10.0.0.21 POST /Microsoft-Server-ActiveSync/Proxy/default.eas Cmd=Ping&User=jdoe%40contoso.com&DeviceId=SYNTH0001&DeviceType=iPhone&Log=SC1:1_Ver1:161_Hb:600_TmRcv:23:55:01.9870003_TmExSt:23:55:02.001_TmHang:23:55:02.010_TmCmpl:00:05:02.015_ 444 CONTOSO\\jdoe 10.0.0.11 Apple-iPhone15C2/2107.102 200 0 0 600028",
        "2024-05-03 00:06:00 10.0.0.5 POST /Microsoft-Server-ActiveSync/default.eas Cmd=Sync&User=rmjones&DeviceId=v140Device&DeviceType=SmartPhone&Log=V140_S1_TmRcv00:05:59.760_TmFin00:06:00.001_ 443 CONTOSO\\rmjones 198.51.100.20 MSFT-WP/8.0.10512 200 0 0 241",
    ];
    let dir = Dir::new("stages");
    let path = dir.write("u_ex240503.log", log_text(&lines).as_bytes());
    let c = capture::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(c.sessions.len(), 2);
    let at = |s: usize| -> Vec<(String, String)> {
        let log = c.sessions[s].iis.as_deref().unwrap().log.as_ref().unwrap();
        log.stages
            .iter()
            .map(|t| {
                let utc = chrono::DateTime::from_timestamp_millis(t.at_ms.unwrap()).unwrap();
                (t.token.clone(), utc.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            })
            .collect()
    };
    let own = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    assert_eq!(
        at(0),
        own(&[
            ("TmRcv", "2024-05-02 23:55:01.987"),
            ("TmExSt", "2024-05-02 23:55:02.001"),
            ("TmHang", "2024-05-02 23:55:02.010"),
            ("TmCmpl", "2024-05-03 00:05:02.015"),
        ])
    );
    assert_eq!(
        at(1),
        own(&[
            ("TmRcv", "2024-05-03 00:05:59.760"),
            ("TmFin", "2024-05-03 00:06:00.001")
        ])
    );
    let note = |s: usize| {
        c.sessions[s]
            .facts
            .iter()
            .find(|n| n.starts_with("Exchange's stages"))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        note(0),
        "Exchange's stages (UTC): received 23:55:01.987, execute started 23:55:02.001 (+14 ms), went pending 23:55:02.010 (+23 ms), completed 00:05:02.015 (+600,028 ms)"
    );
    assert_eq!(
        note(1),
        "Exchange's stages (UTC): received 00:05:59.760, finished 00:06:00.001 (+241 ms)"
    );
}

#[test]
fn the_budget_and_activity_of_the_reference_lines_are_in_their_facts() {
    let dir = Dir::new("budget");
    let path = dir.write("u_ex240502.log", log_text(&LINES).as_bytes());
    let c = capture::open(&path, &OpenOptions::default()).unwrap();
    let notes = |command: &str| -> Vec<String> {
        let s = c
            .sessions
            .iter()
            .find(|s| s.eas.as_ref().and_then(|e| e.command_raw.as_deref()) == Some(command))
            .unwrap();
        s.facts.clone()
    };
    let throttled = notes("Sync");
    assert!(
        throttled.iter().all(|n| !n.starts_with("Budget")),
        "the first Sync has no Budget: {throttled:?}"
    );
    let over = c
        .sessions
        .iter()
        .find(|s| s.facts.iter().any(|n| n.contains("OverBudget")))
        .unwrap();
    assert!(
        over.facts
            .iter()
            .any(|n| n == "Budget (acquired): Owner S-1-5-21-1-2-3-1104_SYNTH0002_Android, Conn 3, Balance -36972"),
        "{:?}",
        over.facts
    );
    assert!(
        notes("Provision")
            .iter()
            .any(|n| n == "Exchange's activity: WLM.BT=Eas")
    );
}
