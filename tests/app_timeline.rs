//! The timeline, driven headless through egui_kittest on captures built here: a nine-minute Ping
//! is a bar, an aborted Sync is counted and drawn as aborted, each legend entry appears once, the
//! CONNECT tunnel's lane label gets its whole width, and thousands of throttled responses become
//! a few shaded bands instead of a wall of lines.

use easlens_app::{EaslensApp, View};
use easlens_core::timeline::Outcome;
use eframe::egui;
use egui_kittest::Harness;

mod app_support;
mod common;
use app_support::{harness, step_until};

fn open(path: std::path::PathBuf) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(path)));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    step_until(&mut h, "the analysis", |a| !a.analysis.is_computing());
    h.state_mut().view = View::Timeline;
    h.run_steps(4);
    h
}

fn eas(command: &str) -> Vec<u8> {
    format!(
        "POST /Microsoft-Server-ActiveSync?Cmd={command}&User=jdoe&DeviceId=DEV1&DeviceType=iPhone HTTP/1.1\r\n\
         Host: mail.contoso.com\r\nMS-ASProtocolVersion: 16.1\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn answer(status: &str, headers: &str) -> Option<Vec<u8>> {
    Some(format!("HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\n\r\n").into_bytes())
}

/// A tunnel, Syncs, a Ping held nine minutes and a Sync aborted without an answer.
fn mixed_capture() -> common::Temp {
    let t = common::Temp::new("app-timeline", "mixed.saz");
    let connect = b"CONNECT mail.contoso.com:443 HTTP/1.1\r\nHost: mail.contoso.com:443\r\n\r\n".to_vec();
    let mut ping = common::exchange(3, eas("Ping"), answer("200 OK", ""));
    ping.duration_ms = 9 * 60 * 1000;
    let mut aborted = common::exchange(4, eas("Sync"), None);
    aborted.aborted = true;
    let sessions = vec![
        common::exchange(1, connect, answer("200 Connection Established", "")),
        common::exchange(2, eas("Sync"), answer("200 OK", "")),
        ping,
        aborted,
        common::exchange(5, eas("Sync"), answer("200 OK", "")),
        common::exchange(80, eas("Sync"), answer("200 OK", "")),
    ];
    easlens_core::writers::saz::write_saz_file(t.path(), &sessions, &Default::default()).unwrap();
    t
}

#[test]
fn a_long_ping_is_a_bar_aborted_is_aborted_and_labels_are_whole() {
    let t = mixed_capture();
    let mut h = open(t.path().to_path_buf());
    let tl = &h.state().timeline;
    let data = &tl.data;
    assert!(data.lanes.iter().any(|l| l == "CONNECT (tunnel)"), "{:?}", data.lanes);
    let ping_lane = data.lanes.iter().position(|l| l == "Ping").unwrap() as u16;
    // The Ping spans its nine minutes and is drawn as a bar, not a point.
    let ping = data.spans.iter().find(|s| s.lane == ping_lane).unwrap();
    assert!((ping.end - ping.start - 540.0).abs() < 1.0, "{ping:?}");
    let binned = data.bin(0.0, data.extent(), 1000);
    assert!(binned.bars.iter().any(|m| m.lane == ping_lane), "{binned:?}");
    assert_eq!(data.counts[Outcome::Aborted as usize], 1, "{:?}", data.counts);
    assert_eq!(data.counts[Outcome::Ok as usize], 5, "{:?}", data.counts);
    // The legend: each outcome once, aborted among them.
    let legend = tl.legend.clone();
    let mut unique = legend.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), legend.len(), "{legend:?}");
    assert!(legend.contains(&"aborted") && legend.contains(&"OK"), "{legend:?}");
    // The label column is as wide as the widest label, "CONNECT (tunnel)" whole.
    let font = egui::TextStyle::Body.resolve(&h.ctx.global_style());
    let width = h.ctx.fonts_mut(|f| {
        f.layout_no_wrap("CONNECT (tunnel)".into(), font, egui::Color32::WHITE)
            .size()
            .x
    });
    assert!(tl.label_width >= width, "{} < {width}", tl.label_width);
    // Drawing again does not build it again.
    h.run_steps(2);
    assert_eq!(h.state().timeline.legend, legend);
}

/// `n` Syncs answered 503 with X-MS-ASThrottle, 10 s apart.
fn throttled_capture(n: u64) -> common::Temp {
    let t = common::Temp::new("app-timeline", "storm.saz");
    let sessions: Vec<_> = (1..=n)
        .map(|i| {
            common::exchange(
                i,
                eas("Sync"),
                answer(
                    "503 Service Unavailable",
                    "X-MS-ASThrottle: CommandFrequency\r\nRetry-After: 30\r\n",
                ),
            )
        })
        .collect();
    easlens_core::writers::saz::write_saz_file(t.path(), &sessions, &Default::default()).unwrap();
    t
}

#[test]
fn thousands_of_throttled_responses_are_bands_with_counts() {
    let t = throttled_capture(3000);
    let h = open(t.path().to_path_buf());
    let tl = &h.state().timeline;
    assert_eq!(tl.data.counts[Outcome::Throttled as usize], 3000);
    let (_, bands) = tl
        .bands
        .iter()
        .find(|(name, _)| *name == "throttled")
        .expect("the throttle markers are drawn");
    assert!(bands.len() < 100, "{} bands", bands.len());
    assert!(bands.iter().any(|b| b.count > 1 && b.end > b.start), "{bands:?}");
    assert_eq!(bands.iter().map(|b| b.count).sum::<usize>(), 3000);
    // The throttled points and their markers share one legend entry.
    assert_eq!(
        tl.legend.iter().filter(|n| n.contains("throttl")).count(),
        1,
        "{:?}",
        tl.legend
    );
}
