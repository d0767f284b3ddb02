//! The desktop window, driven headless through egui_kittest: loading on the background thread,
//! the password prompt, selecting sessions (mouse and keyboard), the XML view with explained
//! Status values, and credential masking.

use easlens_app::{EMPTY_STATE, EaslensApp};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;

mod app_support;
use app_support::{harness, sample, step_until};
use egui_kittest::kittest::Queryable;

fn open(name: &str) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(sample(name))));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    h
}

#[test]
fn empty_state_explains_how_to_open_a_capture() {
    let mut h = harness(EaslensApp::new(None));
    h.run_steps(2);
    h.get_by_label(EMPTY_STATE);
    h.get_by_label("No capture open");
}

#[test]
fn opens_a_capture_in_the_background_and_shows_the_session_count() {
    let h = open("throttling-storm-iphone.saz");
    let n = h.state().capture().unwrap().sessions.len();
    assert_eq!(n, 16);
    h.get_by_label(&format!("{n} of {n} sessions"));
    // The highlight legend.
    h.get_by_label_contains("throttled (X-MS-ASThrottle)");
}

#[test]
fn selecting_a_session_shows_its_decoded_xml_and_explained_status() {
    let mut h = open("throttling-storm-iphone.saz");
    // Session #2 is a Sync answered with Status 1; click its number in the # column.
    h.get_all_by_label("2").next().expect("row #2").click();
    h.run_steps(3);
    assert_eq!(h.state().sessions.selected, Some(1));
    // Request and response are both decoded Sync documents.
    assert_eq!(h.get_all_by_label_contains("<Sync xmlns=\"AirSync:\">").count(), 2);
    h.get_by_label_contains("<Status>1</Status>   ◀ Success");
    // The throttled 503 (#14, below the fold) explains the HTTP status: End, then up twice.
    h.key_press(egui::Key::End);
    h.run_steps(2);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(3);
    assert_eq!(h.state().sessions.selected, Some(13));
    h.get_by_label_contains("HTTP 503");
}

#[test]
fn keyboard_moves_the_selection() {
    let mut h = open("throttling-storm-iphone.saz");
    let n = h.state().sessions.visible.len();
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[0]));
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[1]));
    h.key_press(egui::Key::End);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[n - 1]));
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[n - 2]));
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[0]));
    h.key_press(egui::Key::PageDown);
    h.run_steps(2);
    let pos = |h: &Harness<'_, EaslensApp>| {
        let s = h.state().sessions.selected.unwrap();
        h.state().sessions.visible.iter().position(|&i| i == s).unwrap()
    };
    assert!(pos(&h) > 1, "PageDown moves more than one row");
    h.key_press(egui::Key::PageUp);
    h.run_steps(2);
    assert_eq!(pos(&h), 0);
}

#[test]
fn authorization_is_masked_until_revealed() {
    let mut h = open("throttling-storm-iphone.saz");
    let auth = h.state().capture().unwrap().sessions[1]
        .request
        .as_ref()
        .and_then(|r| r.head.headers.get("Authorization").map(str::to_string))
        .expect("the sample sends Authorization");
    h.get_all_by_label("2").next().unwrap().click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Headers").click();
    h.run_steps(2);
    assert!(h.query_by_label(&auth).is_none(), "Authorization is masked");
    h.get_by_label_contains("••••••••");
    h.get_by_label("Reveal credentials").click();
    h.run_steps(2);
    h.get_by_label(&auth);
}

#[test]
fn encrypted_capture_asks_for_the_password_again_after_a_wrong_one() {
    let mut h = harness(EaslensApp::new(Some(sample("policy-refresh-iphone-encrypted.saz"))));
    step_until(&mut h, "the password prompt", |a| a.password_prompt().is_some());
    h.get_by_label("Password required");
    let field = h.get_by_role(Role::PasswordInput);
    field.focus();
    field.type_text("wrong");
    h.run_steps(1);
    h.get_by_label("Open").click();
    h.run_steps(1);
    step_until(&mut h, "the second prompt", |a| {
        a.password_prompt().is_some_and(|p| p.previous_was_wrong)
    });
    h.get_by_label_contains("Wrong password");
    let field = h.get_by_role(Role::PasswordInput);
    field.focus();
    field.type_text("easlens");
    h.run_steps(1);
    h.get_by_label("Open").click();
    h.run_steps(1);
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    assert!(h.state().error().is_none());
    assert!(!h.state().capture().unwrap().sessions.is_empty());
}

#[test]
fn dropping_a_file_on_the_window_opens_it() {
    let mut h = harness(EaslensApp::new(None));
    h.run_steps(2);
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(sample("healthy-iphone.saz"))));
    step_until(&mut h, "the dropped capture to load", |a| a.capture().is_some());
    assert_eq!(h.state().capture().unwrap().path, sample("healthy-iphone.saz"));
    let n = h.state().capture().unwrap().sessions.len();
    h.get_by_label(&format!("{n} of {n} sessions"));
}

/// A file dropped on the window, as the platform integration reports it.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}
