//! The Statistics view, driven headless through egui_kittest at 1024×700: opened by its tab, it
//! shows the engine's statistics of the capture (checked against statistics computed apart and
//! against a count over the sessions themselves), sorts by a header, filters the table to the row
//! clicked, and exports a CSV that reads back with the same numbers.

use easlens_app::{EaslensApp, Export};
use easlens_core::analysis::statistics::{ALL_COMMANDS, Statistics};
use easlens_core::capture::Capture;
use easlens_core::eas::command::Command;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
use app_support::{harness, sample, step_until};

/// Several commands, Pings with their heartbeat, and an OPTIONS that names no device.
const SAMPLE: &str = "healthy-iphone.saz";

fn open() -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(sample(SAMPLE))));
    // The smallest window the view must look right in.
    h.set_size(eframe::egui::vec2(1024.0, 700.0));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    step_until(&mut h, "the body index", |a| a.filter.indexing().is_none());
    h
}

/// The texts the statistics table shows (labels below the view's tab row), top to bottom.
fn shown_below(h: &Harness<'_, EaslensApp>, y: f32, text: &str) -> usize {
    h.query_all_by_label(text).filter(|n| n.rect().min.y > y).count()
}

#[test]
fn the_statistics_view_shows_filters_sorts_and_exports() {
    let mut h = open();
    let tab = h.get_by_label("Statistics");
    let tab_bottom = tab.rect().max.y;
    tab.click();
    step_until(&mut h, "the statistics", |a| a.statistics.shown().is_some());

    // What the view shows is the engine's statistics of the capture, computed apart here.
    let path = h.state().capture().unwrap().path.clone();
    let capture: Capture = easlens_core::capture::open(&path, &Default::default()).unwrap();
    let expected = Statistics::of(&capture);
    let (st, order) = h.state().statistics.shown().unwrap();
    assert_eq!(st, &expected);
    assert_eq!(
        order,
        (0..expected.rows.len()).collect::<Vec<_>>(),
        "the engine's order"
    );
    assert!(expected.rows.len() >= 6, "{expected:#?}");
    // One total row per device: the iPhone and the OPTIONS that names none.
    assert_eq!(shown_below(&h, tab_bottom, ALL_COMMANDS), 2);

    // A count checked against the sessions themselves: the iPhone's Syncs.
    let device = "SYNTHDEV0001IPHN";
    let syncs = capture
        .sessions
        .iter()
        .filter(|s| {
            s.eas
                .as_ref()
                .is_some_and(|e| e.command == Some(Command::Sync) && e.device_id.as_deref() == Some(device))
        })
        .count() as u64;
    let sync = expected
        .rows
        .iter()
        .find(|r| r.device_id.as_deref() == Some(device) && r.command.as_deref() == Some("Sync"))
        .unwrap();
    assert!(syncs >= 2);
    assert_eq!(sync.count, syncs);
    let ping = expected
        .rows
        .iter()
        .find(|r| r.command.as_deref() == Some("Ping"))
        .unwrap();
    assert!(ping.heartbeat_s.is_some() && ping.ping_gap_s.is_some(), "{ping:?}");

    // Sorting by Sessions: largest first, then smallest first.
    h.get_by_label("Sessions").click();
    h.run_steps(3);
    h.get_by_label("Sessions ▼");
    let counts = |h: &Harness<'_, EaslensApp>| -> Vec<u64> {
        let (st, order) = h.state().statistics.shown().unwrap();
        order.iter().map(|&k| st.rows[k].count).collect()
    };
    let down = counts(&h);
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    h.get_by_label("Sessions ▼").click();
    h.run_steps(3);
    let up = counts(&h);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");

    // Largest first again, so that the Sync row is in view.
    h.get_by_label("Sessions ▲").click();
    h.run_steps(3);
    assert_eq!(counts(&h), down);

    // A click on the Sync row (its Command cell, below the tabs) filters the table to it.
    let sync_cell = h
        .query_all_by_label("Sync")
        .find(|n| n.rect().min.y > tab_bottom)
        .expect("the Sync row");
    // In the window at 1024×700, below the tabs (the lower panel scrolls).
    let window = eframe::egui::Rect::from_min_size(eframe::egui::Pos2::ZERO, eframe::egui::vec2(1024.0, 700.0));
    assert!(window.contains_rect(sync_cell.rect()), "{:?}", sync_cell.rect());
    assert!(window.contains_rect(h.get_by_label("Export CSV…").rect()));
    sync_cell.click();
    h.run_steps(3);
    step_until(&mut h, "the filter", |a| !a.filter.is_filtering());
    assert_eq!(h.state().filter.text, format!("device:{device} cmd:Sync"));
    let visible: Vec<u32> = h.state().sessions.visible.clone();
    let mut positions: Vec<u32> = (0..capture.sessions.len() as u32)
        .filter(|&i| {
            let s = &capture.sessions[i as usize];
            s.eas
                .as_ref()
                .is_some_and(|e| e.command == Some(Command::Sync) && e.device_id.as_deref() == Some(device))
        })
        .collect();
    let mut shown = visible.clone();
    shown.sort_unstable();
    positions.sort_unstable();
    assert_eq!(shown, positions);
    h.get_by_label(&format!("{} of {} sessions", syncs, capture.sessions.len()));

    // Export: the CSV reads back with the same rows and numbers.
    let dir = std::env::temp_dir().join(format!("easlens-app-statistics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv_path = dir.join("statistics.csv");
    let ctx = h.ctx.clone();
    h.state_mut().export_to(Export::Statistics, csv_path.clone(), &ctx);
    step_until(&mut h, "the export", |a| !a.is_exporting());
    h.get_by_label_contains("Exported the statistics");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), expected.rows.len());
    for (rec, r) in records.iter().zip(&expected.rows) {
        assert_eq!(&rec[col("device")], r.device);
        assert_eq!(&rec[col("command")], r.command_label());
        assert_eq!(rec[col("sessions")].parse::<u64>().unwrap(), r.count);
        assert_eq!(rec[col("ok")].parse::<u64>().unwrap(), r.outcomes.ok);
        assert_eq!(rec[col("http_error")].parse::<u64>().unwrap(), r.outcomes.http_error);
        assert_eq!(rec[col("bytes_sent")].parse::<u64>().unwrap(), r.bytes_sent);
        let p95: Option<f64> = rec[col("p95_ms")].parse().ok();
        match (p95, r.p95_ms) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 0.05, "{a} {b}"),
            (a, b) => assert_eq!(a.is_some(), b.is_some()),
        }
        let hb: Option<f64> = rec[col("heartbeat_median_s")].parse().ok();
        assert_eq!(hb, r.heartbeat_s.map(|s| (s.median * 1000.0).round() / 1000.0));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_csv_is_never_written_over_the_capture_opened() {
    // A copy of a sample, so that a failure cannot damage the bundled one.
    let dir = std::env::temp_dir().join(format!("easlens-app-statistics-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("capture.saz");
    std::fs::copy(sample("healthy-iphone.saz"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let mut h = harness(EaslensApp::new(Some(copy.clone())));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    let ctx = h.ctx.clone();
    h.state_mut().export_to(Export::Statistics, copy.clone(), &ctx);
    h.run_steps(3);
    assert!(!h.state().is_exporting());
    h.get_by_label_contains("Not exported");
    assert_eq!(std::fs::read(&copy).unwrap(), before, "the capture is unchanged");
    std::fs::remove_dir_all(&dir).ok();
}
