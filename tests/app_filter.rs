//! The window's filter bar, body search, copy actions and recent files, driven headless through
//! egui_kittest. Each filter form of the issue is typed into the field as a user would, and the
//! rows the table shows are checked against the sessions' own data.

use easlens_app::EaslensApp;
use easlens_core::capture::{Capture, Session};
use easlens_core::eas::command::Command;
use easlens_core::http::Side;
use eframe::egui;
use egui::OutputCommand;
use egui::accesskit::Role;
use egui_kittest::Harness;

mod app_support;
use app_support::{harness, sample, step_until, type_into_filter};
use egui_kittest::kittest::Queryable;

/// Opens a sample and waits for the body index too, so free text searches bodies.
fn open(name: &str) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(sample(name))));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    step_until(&mut h, "the body index", |a| a.filter.indexing().is_none());
    h
}

/// Types `query` into the filter field (replacing what is there) and returns the visible rows.
fn type_filter(h: &mut Harness<'_, EaslensApp>, query: &str) -> Vec<u32> {
    type_into_filter(h, query);
    assert_eq!(h.state().filter.text, query);
    let rows = h.state().sessions.visible.clone();
    let total = h.state().capture().unwrap().sessions.len();
    h.get_by_label(&format!("{} of {total} sessions", rows.len()));
    rows
}

/// Positions of the sessions for which `pred` holds.
fn expected(c: &Capture, pred: impl Fn(&Session) -> bool) -> Vec<u32> {
    (0..c.sessions.len() as u32)
        .filter(|&i| pred(&c.sessions[i as usize]))
        .collect()
}

/// The same capture, opened independently (the harness owns the app's).
fn load(h: &Harness<'_, EaslensApp>) -> Capture {
    let path = h.state().capture().unwrap().path.clone();
    easlens_core::capture::open(&path, &Default::default()).unwrap()
}

fn cmd(s: &Session) -> Option<Command> {
    s.eas.as_ref().and_then(|e| e.command)
}

#[test]
fn every_filter_form_of_the_issue_narrows_the_table() {
    let mut h = open("synckey-reset-android.saz");
    let c = load(&h);
    let http = |s: &Session| s.http_status();
    let resp_status = |s: &Session| -> Vec<u32> { s.eas.as_ref().map_or(vec![], |e| e.response_status_values()) };

    let sync = type_filter(&mut h, "cmd:Sync");
    assert_eq!(sync, expected(&c, |s| cmd(s) == Some(Command::Sync)));
    assert!(!sync.is_empty() && sync.len() < c.sessions.len());

    let not200 = type_filter(&mut h, "http:!200");
    assert_eq!(not200, expected(&c, |s| http(s) != Some(200)));
    assert!(!not200.is_empty());

    let fivexx = type_filter(&mut h, "http:5xx");
    assert_eq!(
        fivexx,
        expected(&c, |s| http(s).is_some_and(|v| (500..600).contains(&v)))
    );
    assert!(!fivexx.is_empty(), "the reset scenario has 5xx responses");

    let status = type_filter(&mut h, "status:!1");
    assert_eq!(status, expected(&c, |s| resp_status(s).iter().any(|&v| v != 1)));
    assert!(!status.is_empty());

    let folder = type_filter(&mut h, "folder:5");
    assert_eq!(
        folder,
        expected(&c, |s| s
            .eas
            .as_ref()
            .is_some_and(|e| e.collection_ids.iter().any(|i| i == "5")))
    );

    let device_id = c
        .sessions
        .iter()
        .find_map(|s| s.eas.as_ref()?.device_id.clone())
        .unwrap();
    let device = type_filter(&mut h, &format!("device:{}", &device_id[..6]));
    assert_eq!(
        device,
        expected(&c, |s| s.eas.as_ref().and_then(|e| e.device_id.as_ref())
            == Some(&device_id))
    );

    let user = c.sessions.iter().find_map(|s| s.eas.as_ref()?.user.clone()).unwrap();
    let short = user.rsplit('\\').next().unwrap().to_string();
    let by_user = type_filter(&mut h, &format!("user:{short}"));
    assert_eq!(
        by_user,
        expected(&c, |s| s.eas.as_ref().is_some_and(|e| e.user.is_some()))
    );

    // Negation and OR.
    let no_ping = type_filter(&mut h, "-cmd:Ping");
    assert_eq!(no_ping, expected(&c, |s| cmd(s) != Some(Command::Ping)));
    let either = type_filter(&mut h, "cmd:Ping | cmd:FolderSync");
    assert_eq!(
        either,
        expected(&c, |s| matches!(
            cmd(s),
            Some(Command::Ping) | Some(Command::FolderSync)
        ))
    );

    // Clearing shows everything again.
    let all = type_filter(&mut h, "");
    assert_eq!(all.len(), c.sessions.len());
}

#[test]
fn throttled_flag_and_free_text_in_decoded_bodies() {
    let mut h = open("throttling-storm-iphone.saz");
    let c = load(&h);
    let throttled = type_filter(&mut h, "throttled");
    assert_eq!(
        throttled,
        expected(&c, |s| s.eas.as_ref().is_some_and(|e| e.headers.throttle.is_some()))
    );
    assert!(!throttled.is_empty());

    // A word that only occurs inside WBXML bodies: the element name of a Sync collection.
    let words = type_filter(&mut h, "WindowSize");
    assert!(!words.is_empty(), "free text finds words of the decoded XML");
    for &i in &words {
        let v = c.body_view(i as usize, Side::Request).unwrap().unwrap();
        let in_request = v.xml.as_deref().is_some_and(|x| x.contains("WindowSize"));
        let v = c.body_view(i as usize, Side::Response).map(|r| r.unwrap());
        let in_response = v.and_then(|v| v.xml.clone()).is_some_and(|x| x.contains("WindowSize"));
        assert!(in_request || in_response, "session {i} does not contain the word");
    }
}

#[test]
fn an_invalid_query_explains_itself_and_keeps_the_rows() {
    let mut h = open("throttling-storm-iphone.saz");
    let sync = type_filter(&mut h, "cmd:Sync");
    let field = h.get_by_role_and_label(Role::TextInput, "Filter");
    field.focus();
    // Appends to "cmd:Sync": a typo in the second term.
    field.type_text(" fodler:5");
    h.run_steps(3);
    assert_eq!(h.state().filter.text, "cmd:Sync fodler:5");
    h.get_by_label_contains("did you mean `folder:`?");
    // The last good rows stay while the user corrects the query.
    assert_eq!(h.state().sessions.visible, sync);
}

#[test]
fn keys_work_after_clicking_a_row_with_the_pointer_over_the_table() {
    let mut h = open("throttling-storm-iphone.saz");
    let n = h.state().sessions.visible.len();
    // Click a row (the row takes the keyboard focus in egui) and leave the pointer over the table.
    h.get_all_by_label("3").next().expect("row #3").click();
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(2));
    h.key_press(egui::Key::End);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[n - 1]));
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(h.state().sessions.selected, Some(h.state().sessions.visible[0]));
}

fn copied(h: &Harness<'_, EaslensApp>) -> Option<String> {
    h.output().platform_output.commands.iter().find_map(|c| match c {
        OutputCommand::CopyText(t) => Some(t.clone()),
        _ => None,
    })
}

#[test]
fn copy_as_text_masks_credentials_and_has_the_decoded_xml() {
    let mut h = open("throttling-storm-iphone.saz");
    // Session #14, the throttled 503 (selection by mouse and keyboard is tested elsewhere).
    h.state_mut().sessions.selected = Some(13);
    h.run_steps(2);
    // One key event with the modifiers egui-winit reports for Ctrl+Shift+C on Linux (kittest's
    // key_press_modifiers spreads a press over several frames and keeps only the last output).
    h.event(egui::Event::Key {
        key: egui::Key::C,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::CTRL | egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
    });
    h.step();
    let text = copied(&h).expect("Ctrl+Shift+C copies the session");
    assert!(text.starts_with("Session #14"), "{text}");
    assert!(text.contains("503"), "{text}");
    assert!(text.contains("X-MS-ASThrottle:"), "{text}");
    assert!(text.contains("Authorization: Basic ••••••••"), "{text}");
    assert!(text.contains("<Sync xmlns=\"AirSync:\">"), "{text}");
    h.run_steps(2);
    h.get_by_label_contains("Copied session #14 as text");
}

#[test]
fn copy_buttons_copy_the_xml_and_the_headers() {
    let mut h = open("throttling-storm-iphone.saz");
    h.get_all_by_label("2").next().unwrap().click();
    h.run_steps(2);
    let xml = h
        .state()
        .capture()
        .unwrap()
        .body_view(1, Side::Response)
        .unwrap()
        .unwrap()
        .xml
        .clone()
        .unwrap();
    h.get_all_by_label("Copy XML")
        .nth(1)
        .expect("the response's Copy XML")
        .click();
    h.step();
    assert_eq!(copied(&h).as_deref(), Some(xml.text.as_str()));
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Headers").click();
    h.run_steps(2);
    h.get_all_by_label("Copy headers")
        .next()
        .expect("the request's Copy headers")
        .click();
    h.step();
    let headers = copied(&h).unwrap();
    assert!(headers.starts_with("POST "), "{headers}");
    assert!(headers.contains("Authorization: Basic ••••••••"), "{headers}");
}

#[test]
fn find_in_body_counts_and_steps_through_matches() {
    let mut h = open("throttling-storm-iphone.saz");
    h.get_all_by_label("2").next().unwrap().click();
    h.run_steps(2);
    let c = load(&h);
    let count = |side| {
        c.body_view(1, side)
            .unwrap()
            .unwrap()
            .xml
            .clone()
            .unwrap()
            .lines()
            .filter(|l| l.to_ascii_lowercase().contains("synckey"))
            .count()
    };
    let n = count(Side::Request) + count(Side::Response);
    assert!(n >= 2);
    let field = h.get_by_role_and_label(Role::TextInput, "Find");
    field.focus();
    field.type_text("synckey");
    h.run_steps(3);
    assert_eq!(h.state().inspector.find_hits(), n);
    h.get_by_label(&format!("1 of {n}"));
    h.get_by_label("▼").click();
    h.run_steps(2);
    h.get_by_label(&format!("2 of {n}"));
    h.get_by_label("▲").click();
    h.get_by_label("▲").click();
    h.run_steps(2);
    h.get_by_label(&format!("{n} of {n}"));
}

#[test]
fn recent_files_are_listed_in_the_empty_state_and_reopen() {
    let mut app = EaslensApp::new(None);
    app.prefs.recent.push(&sample("healthy-iphone.saz"));
    app.prefs.recent.push(std::path::Path::new("/nonexistent/gone.saz"));
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Recent captures");
    let healthy = std::fs::canonicalize(sample("healthy-iphone.saz")).unwrap();
    h.get_by_label(&healthy.display().to_string()).click();
    step_until(&mut h, "the recent capture to open", |a| a.capture().is_some());
    assert_eq!(h.state().capture().unwrap().path, healthy);
    assert_eq!(
        h.state().prefs.recent.files()[0],
        healthy,
        "the reopened file moves to the top"
    );
}

#[test]
fn a_big_capture_is_filtered_off_the_window_thread_with_the_same_rows() {
    let mut h = open("synckey-reset-android.saz");
    let c = load(&h);
    let index = easlens_core::filter::TextIndex::build(&c, None, None).unwrap();
    // As if the capture were big: every evaluation is the `filter` job.
    h.state_mut().filter.inline_below = 0;
    for query in ["cmd:Sync", "http:5xx", "-cmd:Ping", "SyncKey", ""] {
        h.state_mut().filter.set_query(query);
        h.step();
        step_until(&mut h, "the filter job", |a| !a.filter.is_filtering());
        let q = easlens_core::filter::parse(query).unwrap();
        let rows = easlens_core::filter::filter(&c, &q, Some(&index));
        assert_eq!(h.state().sessions.visible, rows, "{query}");
        h.get_by_label(&format!("{} of {} sessions", rows.len(), c.sessions.len()));
    }
}

/// A capture that fails to open leaves the open one as it was: shown, with its body index.
#[test]
fn a_failed_open_keeps_the_capture_and_its_body_index() {
    let mut h = harness(EaslensApp::new(Some(sample("healthy-android.saz"))));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    let shown = h.state().capture().unwrap().sessions.len();
    h.state_mut()
        .push(easlens_app::AppCommand::Open(sample("no-such-capture.saz")));
    step_until(&mut h, "the open to fail", |a| a.error().is_some());
    step_until(&mut h, "the body index", |a| a.filter.indexing().is_none());
    assert!(h.state().filter.text_index().is_some());
    assert_eq!(h.state().capture().unwrap().sessions.len(), shown);
    assert_eq!(h.state().sessions.visible.len(), shown);
}
