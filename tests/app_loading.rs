//! A big capture shows its first sessions while the rest loads, driven headless through
//! egui_kittest: the table has rows before the whole file is read, the progress and its Cancel
//! move to the status bar, and the whole capture then replaces the first sessions without losing
//! the filter; cancelled, the first sessions stay, said so.

use easlens_app::EaslensApp;
use easlens_app::loading::{PREVIEW_ABOVE_BYTES, PREVIEW_SESSIONS};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
mod common;
use app_support::{harness, step_until, type_into_filter};

/// More sessions than the preview holds, in a file bigger than the preview threshold: bodies of
/// bytes that do not compress.
fn big_capture(name: &str) -> (common::Temp, usize) {
    let t = common::Temp::new("app-loading", name);
    let n = PREVIEW_SESSIONS + 600;
    let body_len = (PREVIEW_ABOVE_BYTES as usize / n) * 5 / 4;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let sessions: Vec<_> = (1..=n as u64)
        .map(|i| {
            let body: Vec<u8> = (0..body_len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let mut response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            response.extend_from_slice(&body);
            let request = format!("GET /file/{i} HTTP/1.1\r\nHost: files.contoso.com\r\n\r\n").into_bytes();
            common::exchange(i, request, Some(response))
        })
        .collect();
    easlens_core::writers::saz::write_saz_file(t.path(), &sessions, &Default::default()).unwrap();
    assert!(std::fs::metadata(t.path()).unwrap().len() > PREVIEW_ABOVE_BYTES);
    (t, n)
}

fn shows(h: &Harness<'_, EaslensApp>) -> usize {
    h.state().capture().map_or(0, |c| c.sessions.len())
}

#[test]
fn the_first_sessions_show_while_the_rest_loads() {
    let (t, n) = big_capture("big.saz");
    let mut h = harness(EaslensApp::new(Some(t.path().to_path_buf())));
    step_until(&mut h, "the first sessions", |a| a.partial.is_some());
    // Rows before the whole file is read, and the progress in the status bar.
    assert_eq!(shows(&h), PREVIEW_SESSIONS);
    assert!(h.state().is_loading());
    h.get_by_label_contains("Reading the rest of");
    h.get_by_label_contains(&format!(
        "The first {} sessions are shown",
        easlens_core::numbers::group_thousands(PREVIEW_SESSIONS as u64)
    ));
    // A filter typed meanwhile stays when the whole capture arrives.
    type_into_filter(&mut h, "file");
    step_until(&mut h, "the whole capture", |a| !a.is_loading());
    assert_eq!(shows(&h), n);
    assert!(h.state().partial.is_none());
    assert_eq!(h.state().filter.text, "file");
    step_until(&mut h, "the filter", |a| !a.filter.is_filtering());
    assert_eq!(h.state().sessions.visible.len(), n);
    h.get_by_label(&format!("{n} of {n} sessions"));
}

#[test]
fn cancelled_the_first_sessions_stay_and_say_so() {
    let (t, _) = big_capture("big-cancel.saz");
    let mut h = harness(EaslensApp::new(Some(t.path().to_path_buf())));
    step_until(&mut h, "the first sessions", |a| a.partial.is_some());
    h.get_by_label("Cancel").click();
    step_until(&mut h, "the cancel", |a| !a.is_loading());
    assert_eq!(shows(&h), PREVIEW_SESSIONS);
    h.get_by_label_contains("Loading was cancelled: only the first");
}
