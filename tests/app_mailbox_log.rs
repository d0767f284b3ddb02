//! The window with an Exchange mailbox log: a log opened alone, a log added to a capture (the Log
//! column, the log-only rows, the side-by-side inspector of a matched pair, the clock offset and
//! its correction, the cross-source findings) and the `log:` filter, driven headless through
//! egui_kittest. The log is written by the test from the first sessions of a bundled sample, in
//! Exchange's layout, on a clock one hour ahead of the capture's.

use std::path::{Path, PathBuf};

use easlens_app::EaslensApp;
use easlens_app::mailbox_log::{LOG_ROW, Row};
use easlens_core::analysis::align::PairKind;
use easlens_core::capture::{self, Capture, Format};
use easlens_core::http::Side;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

mod app_support;
use app_support::{harness, sample, step_until};

const SAMPLE: &str = "healthy-iphone.saz";
/// The log's clock minus the capture's.
const OFFSET: i64 = 3600;

/// A directory removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!("easlens-app-log-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The decoded body of a session side as the log writes it (`Empty` without one).
fn logged_body(c: &Capture, i: usize, side: Side) -> String {
    let xml = c
        .body_view(i, side)
        .and_then(Result::ok)
        .and_then(|v| v.doc.as_ref().map(easlens_core::wbxml::render::to_xml));
    match xml {
        Some(x) if !x.trim().is_empty() => format!("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n{}", x.trim_end()),
        _ => "Empty".into(),
    }
}

/// The log Exchange would have written of the capture's EAS sessions `take` (positions), plus one
/// Ping the capture does not have, one minute after the last: the log's entries in Exchange's
/// layout (CRLF, `Name : ` then the value on the next lines).
fn write_log(c: &Capture, take: &[usize], path: &Path) {
    let mut out = String::new();
    let mut last = None;
    let mut entry = |n: usize, fields: &[(&str, String)]| {
        out.push_str(&format!("\n-----------------\n Log Entry: {n}\n-----------------\n\n"));
        for (name, value) in fields {
            out.push_str(&format!("{name} : \n{value}\n\n"));
        }
    };
    for (n, &i) in take.iter().enumerate() {
        let s = &c.sessions[i];
        let r = s.request.as_ref().unwrap();
        // Exchange writes the time without a zone; read as UTC.
        let t = s.timers.started().unwrap().with_timezone(&chrono::Utc) + chrono::Duration::seconds(OFFSET);
        last = Some(t);
        let url = r.url();
        let path_and_query = url.find("/Microsoft").map(|k| &url[k..]).unwrap_or(&url);
        let mut request = format!("{} {path_and_query} HTTP/1.1\n", r.head.method.as_str());
        for (name, value) in r.head.headers.iter() {
            let value = if name.eq_ignore_ascii_case("Authorization") {
                "********"
            } else {
                value
            };
            request.push_str(&format!("{name}: {value}\n"));
        }
        let resp = s.response.as_ref().unwrap();
        let mut response = format!("HTTP/1.1 {} {}\n", resp.head.status, resp.head.reason.as_str());
        for (name, value) in resp.head.headers.iter() {
            response.push_str(&format!("{name}: {value}\n"));
        }
        let time = t.format("%m/%d/%Y %H:%M:%S").to_string();
        entry(
            n,
            &[
                ("RequestTime", time.clone()),
                ("ServerName", "EXCH01".into()),
                ("Identifier", format!("{:08X}", 0x1A2B_0000 + n)),
                ("RequestHeader", request),
                ("RequestBody", logged_body(c, i, Side::Request)),
                ("AccessState", "Allowed".into()),
                ("ResponseHeader", response),
                ("ResponseBody", logged_body(c, i, Side::Response)),
                ("ResponseTime", time),
            ],
        );
    }
    // A Ping sent around the proxy: only Exchange saw it.
    let s = &c.sessions[take[0]];
    let user_device = s.request.as_ref().unwrap().url();
    let query = user_device.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let query = query
        .split('&')
        .filter(|p| !p.starts_with("Cmd="))
        .collect::<Vec<_>>()
        .join("&");
    let time = (last.unwrap() + chrono::Duration::seconds(60))
        .format("%m/%d/%Y %H:%M:%S")
        .to_string();
    entry(
        take.len(),
        &[
            ("RequestTime", time.clone()),
            ("Identifier", "1A2BFFFF".into()),
            (
                "RequestHeader",
                format!("POST /Microsoft-Server-ActiveSync/default.eas?Cmd=Ping&{query} HTTP/1.1\nMS-ASProtocolVersion: 14.1\n"),
            ),
            (
                "RequestBody",
                "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<Ping xmlns=\"Ping:\">\n\t<HeartbeatInterval>480</HeartbeatInterval>\n</Ping>".into(),
            ),
            ("Command_WorkerThread_Exception", "Microsoft.Exchange.Data.Storage.ConnectionFailedTransientException: Cannot open mailbox.".into()),
            ("ResponseHeader", "HTTP/1.1 500 Internal Server Error\n".into()),
            ("ResponseBody", "Empty".into()),
            ("ResponseTime", time),
        ],
    );
    std::fs::write(path, out.replace('\n', "\r\n")).unwrap();
}

/// The sample, its EAS sessions, and a log of all but the third of the first six of them.
fn sample_and_log(dir: &Temp) -> (Capture, PathBuf, Vec<usize>) {
    let trace = capture::open(&sample(SAMPLE), &Default::default()).unwrap();
    let eas: Vec<usize> = (0..trace.sessions.len())
        .filter(|&i| trace.sessions[i].eas.as_ref().is_some_and(|e| e.command.is_some()))
        .take(6)
        .collect();
    assert!(eas.len() >= 5, "the sample has EAS sessions");
    let mut logged = eas.clone();
    logged.remove(2);
    let path = dir.0.join("EASMailboxLog_jdoe_iPhone.txt");
    write_log(&trace, &logged, &path);
    (trace, path, eas)
}

fn with_log(trace: &Path, log: &Path) -> Harness<'static, EaslensApp> {
    let app = EaslensApp::new(Some(trace.to_path_buf())).with_log(Some(log.to_path_buf()));
    let mut h = harness(app);
    step_until(&mut h, "the log to be aligned", |a| a.log.attached().is_some());
    h
}

#[test]
fn a_log_opened_alone_is_shown_as_a_capture_named_a_mailbox_log() {
    let dir = Temp::new("alone");
    let (_, log, _) = sample_and_log(&dir);
    let mut h = harness(EaslensApp::new(Some(log)));
    step_until(&mut h, "the log to load", |a| a.capture().is_some());
    let c = h.state().capture().unwrap();
    assert_eq!(c.format, Format::MailboxLog);
    let n = c.sessions.len();
    h.get_by_label("mailbox log");
    h.get_by_label(&format!("{n} of {n} sessions"));
    // No log column, and a log cannot be added to a log.
    assert!(h.query_by_label("Log").is_none());
    h.get_by_label("File").click();
    h.run_steps(2);
    assert!(h.get_by_label("Add mailbox log…").accesskit_node().is_disabled());
}

#[test]
fn adding_a_log_lines_the_capture_up_with_it() {
    let dir = Temp::new("add");
    let (trace, log, eas) = sample_and_log(&dir);
    let mut h = with_log(&sample(SAMPLE), &log);
    let a = h.state().log.attached().unwrap().clone();
    // The log's times are to the second: the capture's milliseconds make it up to a second less.
    let offset = a.alignment.clock_offset_seconds;
    assert!((OFFSET - 1..=OFFSET).contains(&offset), "{offset}");
    assert_eq!(a.kind(eas[0] as u32), Some(PairKind::Matched));
    assert_eq!(a.kind(eas[2] as u32), Some(PairKind::TraceOnly));
    assert_eq!(a.counts[2], 1, "the Ping only Exchange saw");
    // The clock offset, the Log column, and the log-only row among the capture's rows.
    h.get_by_label(&format!(
        "log clock {} from the trace",
        easlens_app::mailbox_log::format_offset(offset)
    ));
    h.get_by_label("Log");
    assert!(h.get_all_by_label("matched").count() >= 4);
    h.get_all_by_label("trace only").next().expect("a trace-only row");
    let rows = h.state().sessions.visible.clone();
    assert_eq!(rows.len(), trace.sessions.len() + 1);
    let log_row = rows.iter().position(|&r| r & LOG_ROW != 0).expect("the log-only row");
    assert!(
        log_row > rows.iter().position(|&r| r == eas[5] as u32).unwrap(),
        "in time order"
    );
    h.get_by_label("log only");
    // The cross-source findings are among the findings.
    let rules: Vec<&str> = a.findings.findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"not-reaching-exchange"), "{rules:?}");
    h.get_by_label("Findings").click();
    h.run_steps(3);
    h.get_by_label_contains("not in Exchange's log");
    // Opening another capture drops the log.
    h.state_mut()
        .push(easlens_app::AppCommand::Open(sample("throttling-storm-iphone.saz")));
    step_until(&mut h, "the other capture", |a| {
        a.capture()
            .is_some_and(|c| c.path.ends_with("throttling-storm-iphone.saz"))
    });
    assert!(h.state().log.attached().is_none());
    assert!(h.query_by_label("Log").is_none());
}

#[test]
fn a_matched_pair_shows_the_device_and_exchange_side_by_side() {
    let dir = Temp::new("pair");
    let (_, log, eas) = sample_and_log(&dir);
    let mut h = with_log(&sample(SAMPLE), &log);
    h.state_mut()
        .push(easlens_app::AppCommand::SelectSession(eas[1] as u32));
    h.run_steps(4);
    h.get_by_label_contains("Device (capture) · #");
    h.get_by_label_contains("Exchange (mailbox log) · entry");
    // Four panes: the device's request and response, and Exchange's.
    let titles = h.get_all_by_label_contains("Request").count();
    assert!(titles >= 2, "{titles} request panes");
    // A trace-only session says so; the log-only entry shows the log entry with its exception.
    h.state_mut()
        .push(easlens_app::AppCommand::SelectSession(eas[2] as u32));
    h.run_steps(4);
    h.get_by_label_contains("Not in Exchange's log");
    let log_only = *h.state().sessions.visible.iter().find(|&&r| r & LOG_ROW != 0).unwrap();
    assert!(matches!(Row::of(log_only), Row::Log(_)));
    h.state_mut().push(easlens_app::AppCommand::SelectSession(log_only));
    h.run_steps(4);
    h.get_by_label_contains("Only in Exchange's log");
    h.get_by_label_contains("ConnectionFailedTransientException");
    // Named as the log names it, not by a capture number.
    h.get_by_label_contains("Log entry ");
    h.get_by_label_contains("Identifier 1A2BFFFF");
}

#[test]
fn the_log_filter_selects_rows_by_their_place_in_the_alignment() {
    let dir = Temp::new("filter");
    let (_, log, eas) = sample_and_log(&dir);
    let mut h = with_log(&sample(SAMPLE), &log);
    let set = |h: &mut Harness<'static, EaslensApp>, q: &str| {
        h.state_mut().push(easlens_app::AppCommand::SetFilter(q.into()));
        h.run_steps(4);
        h.state().sessions.visible.clone()
    };
    // The third EAS session, and every session after the sixth, are not in the log.
    let trace_only = set(&mut h, "log:trace-only");
    assert!(trace_only.contains(&(eas[2] as u32)), "{trace_only:?}");
    for i in [0, 1, 3, 4, 5] {
        assert!(!trace_only.contains(&(eas[i] as u32)), "{trace_only:?}");
    }
    let only = set(&mut h, "log:log_only");
    assert_eq!(only.len(), 1);
    assert!(only[0] & LOG_ROW != 0);
    let matched = set(&mut h, "log:matched");
    assert_eq!(matched.len(), 5);
    assert_eq!(set(&mut h, "cmd:Ping log:log_only"), only);
    h.get_by_label_contains("0 of");
}

#[test]
fn correcting_the_clock_offset_aligns_again() {
    let dir = Temp::new("offset");
    let (_, log, _) = sample_and_log(&dir);
    let mut h = with_log(&sample(SAMPLE), &log);
    // A wrong offset the estimate cannot refine (beyond two minutes): nothing matches any more.
    h.state_mut().push(easlens_app::AppCommand::RealignLog(-7200));
    step_until(&mut h, "the new alignment", |a| {
        a.log
            .attached()
            .is_some_and(|l| l.alignment.clock_offset_seconds == -7200)
    });
    h.get_by_label("log clock -2:00:00 from the trace");
    assert_eq!(h.state().log.attached().unwrap().counts[0], 0);
    h.state_mut().push(easlens_app::AppCommand::RealignLog(3600));
    step_until(&mut h, "the corrected alignment", |a| {
        a.log.attached().is_some_and(|l| l.counts[0] == 5)
    });
}

#[test]
fn a_capture_added_as_a_log_is_refused_naming_the_file() {
    let mut h = harness(EaslensApp::new(Some(sample(SAMPLE))).with_log(Some(sample("healthy-android.saz"))));
    step_until(&mut h, "the refusal", |a| a.log.error.is_some());
    h.get_by_label_contains("healthy-android.saz is a SAZ capture, not an Exchange mailbox log");
}

/// Writes the log these tests use to `EASLENS_LOG_OUT` (how the README's screenshot was made:
/// `easlens samples/healthy-iphone.saz --log FILE`). Run with `--ignored`.
#[test]
#[ignore]
fn write_the_test_log() {
    let Some(out) = std::env::var_os("EASLENS_LOG_OUT") else {
        return;
    };
    let trace = capture::open(&sample(SAMPLE), &Default::default()).unwrap();
    let eas: Vec<usize> = (0..trace.sessions.len())
        .filter(|&i| trace.sessions[i].eas.as_ref().is_some_and(|e| e.command.is_some()))
        .take(6)
        .collect();
    let mut logged = eas.clone();
    logged.remove(2);
    write_log(&trace, &logged, Path::new(&out));
}
