//! The window's layout at the sizes support engineers use, driven headless through egui_kittest:
//! the split between the session table and the views below leaves both usable from 1024×700 to
//! 1920×1080 and keeps its share when the window is resized; every column has a place (the URL
//! column on a narrow window too), columns hide and show from the header's context menu; the
//! Time column shows dates when a capture spans days.

use easlens_app::{AppCommand, EaslensApp, LOWER_PANEL_MIN};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
mod common;
use app_support::{sample, step_until};

fn open_at(size: [f32; 2], path: std::path::PathBuf) -> Harness<'static, EaslensApp> {
    let mut h = Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut EaslensApp| app.ui(ui), EaslensApp::new(Some(path)));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    h
}

/// Heights of the session table's panel and of the views under it.
fn split(h: &Harness<'_, EaslensApp>) -> (f32, f32) {
    let a = h.state();
    (
        a.table_rect.expect("the table was drawn").height(),
        a.inspector_rect.expect("the views were drawn").height(),
    )
}

#[test]
fn both_parts_of_the_split_are_usable_at_every_size() {
    for (size, least_rows) in [([1024.0, 700.0], 6), ([1280.0, 800.0], 8), ([1920.0, 1080.0], 12)] {
        let mut h = open_at(size, sample("throttling-storm-iphone.saz"));
        // The throttled 503 Sync: its request body has 20 lines of XML.
        h.state_mut().push(AppCommand::SelectSessionNumber(14));
        h.run_steps(4);
        let (table, views) = split(&h);
        assert!(
            h.state().sessions.page_rows() >= least_rows,
            "{size:?}: the table shows {} rows",
            h.state().sessions.page_rows()
        );
        assert!(views >= LOWER_PANEL_MIN, "{size:?}: the views below get {views} px");
        assert!(table >= 0.3 * size[1], "{size:?}: the table gets {table} px");
        // The inspector shows a dozen lines of body, not five: the 11th line of the request.
        h.get_by_label_contains("<FilterType>3</FilterType>");
        // Every column has its header, the URL one too.
        for name in ["#", "Time", "Command", "HTTP", "EAS status", "Device", "Host/URL"] {
            assert!(
                h.query_all_by_label_contains(name).next().is_some(),
                "{size:?}: no {name} column"
            );
        }
    }
}

#[test]
fn the_split_keeps_its_share_when_the_window_grows_and_cannot_squeeze_the_views() {
    let mut h = open_at([1024.0, 700.0], sample("throttling-storm-iphone.saz"));
    h.run_steps(3);
    let (t1, v1) = split(&h);
    let share = t1 / (t1 + v1);
    h.set_size(egui::vec2(1920.0, 1080.0));
    h.run_steps(4);
    let (t2, v2) = split(&h);
    assert!(
        (t2 / (t2 + v2) - share).abs() < 0.03,
        "the table's share went from {share} to {}",
        t2 / (t2 + v2)
    );
    // A remembered share too large for the window still leaves the views their room.
    h.state_mut().prefs.split = 0.95;
    h.set_size(egui::vec2(1024.0, 700.0));
    h.run_steps(4);
    let (_, v3) = split(&h);
    assert!(v3 >= LOWER_PANEL_MIN, "the views got {v3} px");
}

#[test]
fn columns_hide_and_show_from_the_header_menu() {
    let mut h = open_at([1024.0, 700.0], sample("throttling-storm-iphone.saz"));
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Throttle").click_secondary();
    h.run_steps(2);
    h.get_by_role_and_label(Role::CheckBox, "Throttle").click();
    h.run_steps(3);
    assert_eq!(h.state().sessions.hidden_columns, ["Throttle"]);
    assert!(
        h.query_by_role_and_label(Role::Button, "Throttle").is_none(),
        "the column is gone"
    );
    // Back again.
    h.get_by_role_and_label(Role::Button, "Device").click_secondary();
    h.run_steps(2);
    h.get_by_role_and_label(Role::CheckBox, "Throttle").click();
    h.run_steps(3);
    assert!(h.state().sessions.hidden_columns.is_empty());
    h.get_by_role_and_label(Role::Button, "Throttle");
}

#[test]
fn the_time_column_shows_dates_when_the_capture_spans_days() {
    // Two sessions a day apart.
    let t = common::Temp::new("app-layout", "two-days.saz");
    let get = |i: u64| {
        let mut e = common::exchange(
            i,
            format!("GET /day/{i} HTTP/1.1\r\nHost: intranet.contoso.com\r\n\r\n").into_bytes(),
            Some(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()),
        );
        e.started += chrono::TimeDelta::days(i as i64);
        e
    };
    easlens_core::writers::saz::write_saz_file(t.path(), &[get(1), get(2)], &Default::default()).unwrap();
    let h = open_at([1280.0, 800.0], t.path().to_path_buf());
    h.get_by_label("2025-03-05 10:20:40.123");
    h.get_by_label("2025-03-06 10:20:50.123");
    // One day: times only.
    let h = open_at([1280.0, 800.0], sample("throttling-storm-iphone.saz"));
    h.get_by_label("14:02:11.000");
}
