//! Shared by the window tests: the bundled samples, a headless harness over the whole app, and
//! stepping it until a background thread (loading, indexing) has finished.
// Not every test file uses every helper.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use easlens_app::EaslensApp;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
}

pub fn harness(app: EaslensApp) -> Harness<'static, EaslensApp> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(|ui, app: &mut EaslensApp| app.ui(ui), app)
}

/// Steps the harness until `done` holds.
pub fn step_until(h: &mut Harness<'_, EaslensApp>, what: &str, done: impl Fn(&EaslensApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(3);
}

/// Types `query` into the filter field as a user would, replacing what is there.
pub fn type_into_filter(h: &mut Harness<'_, EaslensApp>, query: &str) {
    h.state_mut().filter.text.clear();
    h.run_steps(2);
    let field = h.get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Filter");
    field.focus();
    field.type_text(query);
    h.run_steps(3);
}
