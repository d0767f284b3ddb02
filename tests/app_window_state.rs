//! What belongs to a capture, the keyboard, and sessions that are not ActiveSync, driven headless
//! through egui_kittest: opening another capture starts it afresh; an invalid filter says the
//! rows are not its own; a selection the filter hides is not shown; Ctrl+1…, F8 and F1; and
//! Autodiscover / SharePoint sessions explained without EAS wording and highlighted when non-2xx.

use easlens_app::{AppCommand, EaslensApp, View};
use easlens_core::overview::main_highlight;
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
mod common;
use app_support::{harness, sample, step_until, type_into_filter};

fn open(path: std::path::PathBuf) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(path)));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    h
}

/// A key pressed once with `modifiers`, in one event (as egui-winit reports it).
fn press(h: &mut Harness<'_, EaslensApp>, key: egui::Key, modifiers: egui::Modifiers) {
    h.event(egui::Event::Key {
        key,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers,
    });
    h.run_steps(3);
}

/// A capture of `n` small web sessions (more rows than any window shows).
fn many_sessions(n: u64) -> common::Temp {
    let t = common::Temp::new("app-window-state", "many.saz");
    let sessions: Vec<_> = (1..=n)
        .map(|i| {
            let request = format!("GET /page/{i} HTTP/1.1\r\nHost: intranet.contoso.com\r\n\r\n");
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec();
            common::exchange(i, request.into_bytes(), Some(response))
        })
        .collect();
    easlens_core::writers::saz::write_saz_file(t.path(), &sessions, &Default::default()).unwrap();
    t
}

#[test]
fn opening_another_capture_starts_it_afresh() {
    let many = many_sessions(300);
    let mut h = open(many.path().to_path_buf());
    // A filter that matches nothing in the next file, a selection, and the table scrolled down.
    type_into_filter(&mut h, "page");
    let rows = h.state().sessions.visible.clone();
    assert_eq!(rows.len(), 300);
    h.state_mut().push(AppCommand::SelectSession(*rows.last().unwrap()));
    h.run_steps(4);
    assert!(
        h.state().sessions.first_row_shown.unwrap_or(0) > 200,
        "scrolled to the last row"
    );

    let next = sample("healthy-iphone.saz");
    h.state_mut().push(AppCommand::Open(next.clone()));
    step_until(&mut h, "the second capture", |a| {
        a.capture().is_some_and(|c| c.path.ends_with("healthy-iphone.saz"))
    });
    let a = h.state();
    assert_eq!(a.filter.text, "", "the previous file's filter is gone");
    assert_eq!(a.sessions.selected, None);
    let total = a.capture().unwrap().sessions.len();
    assert_eq!(
        a.sessions.visible.len(),
        total,
        "every session of the new file is shown"
    );
    assert_eq!(a.sessions.first_row_shown, Some(0), "the table starts at its first row");
    h.get_by_label(&format!("{total} of {total} sessions"));
    // The Open dialog starts where the capture is.
    assert_eq!(h.state().open_folder(), next.parent().map(|p| p.to_path_buf()));
}

#[test]
fn an_invalid_filter_does_not_pass_off_the_last_rows_as_its_own() {
    let mut h = open(sample("synckey-reset-android.saz"));
    let total = h.state().capture().unwrap().sessions.len();
    type_into_filter(&mut h, "cmd:Sync");
    let sync = h.state().sessions.visible.len();
    h.get_by_label(&format!("{sync} of {total} sessions"));
    // Set at once: typed, the query is valid up to `cmd:Sync http` (free text).
    h.state_mut().filter.text = "cmd:Sync http:abc".into();
    h.run_steps(3);
    assert!(h.state().filter.error.is_some());
    assert!(
        h.query_by_label(&format!("{sync} of {total} sessions")).is_none(),
        "the status bar claims no count for the failed query"
    );
    h.get_by_label("⊘ Invalid filter");
    h.get_by_label_contains("the table still shows the rows of the last valid filter `cmd:Sync`");
    // Fixed, it counts again.
    type_into_filter(&mut h, "cmd:FolderSync");
    assert!(h.state().filter.error.is_none());
    let n = h.state().sessions.visible.len();
    h.get_by_label(&format!("{n} of {total} sessions"));
}

#[test]
fn a_selection_the_filter_hides_is_not_shown_and_the_table_scrolls_sensibly() {
    let mut h = open(sample("synckey-reset-android.saz"));
    let c = easlens_core::capture::open(&h.state().capture().unwrap().path, &Default::default()).unwrap();
    let is = |i: u32, name: &str| {
        c.sessions[i as usize]
            .eas
            .as_ref()
            .and_then(|e| e.command)
            .is_some_and(|k| k.name() == name)
    };
    let ping = (0..c.sessions.len() as u32).find(|&i| is(i, "Ping")).unwrap();
    h.state_mut().push(AppCommand::SelectSession(ping));
    h.run_steps(3);
    assert!(h.query_by_label_contains("Select a session").is_none());
    // A filter that hides it: nothing is selected, the inspector shows no session, the table is
    // at its top.
    type_into_filter(&mut h, "cmd:Sync");
    assert_eq!(h.state().sessions.selected, None);
    assert_eq!(h.state().sessions.first_row_shown, Some(0));
    h.get_by_label_contains("Select a session");
    // A filter that keeps the selection scrolls to it.
    let last_sync = *h.state().sessions.visible.last().unwrap();
    h.state_mut().push(AppCommand::SelectSession(last_sync));
    h.run_steps(3);
    type_into_filter(&mut h, "cmd:Sync -cmd:Ping");
    assert_eq!(h.state().sessions.selected, Some(last_sync));
    // A view going to a session the filter hides clears the filter and says so.
    h.state_mut().push(AppCommand::SelectSession(ping));
    h.run_steps(4);
    assert_eq!(h.state().filter.text, "");
    assert_eq!(h.state().sessions.selected, Some(ping));
    assert!(h.state().sessions.visible.contains(&ping));
    h.get_by_label_contains("was hidden by the filter");
}

#[test]
fn keyboard_shortcuts_switch_views_walk_problems_and_are_listed() {
    let mut h = open(sample("throttling-storm-iphone.saz"));
    step_until(&mut h, "the analysis", |a| !a.analysis.is_computing());
    let ctrl = egui::Modifiers::CTRL | egui::Modifiers::COMMAND;
    for (i, view) in View::ALL.iter().enumerate().rev() {
        let key = egui::Key::from_name(&(i + 1).to_string()).unwrap();
        press(&mut h, key, ctrl);
        assert_eq!(h.state().view, *view, "Ctrl+{}", i + 1);
    }
    // F8 walks the highlighted rows in table order, Shift+F8 back.
    let c = easlens_core::capture::open(&h.state().capture().unwrap().path, &Default::default()).unwrap();
    let problems: Vec<u32> = (0..c.sessions.len() as u32)
        .filter(|&i| main_highlight(&c.sessions[i as usize]).is_some())
        .collect();
    assert!(problems.len() >= 2, "the throttling storm has several problem sessions");
    press(&mut h, egui::Key::F8, egui::Modifiers::NONE);
    assert_eq!(h.state().sessions.selected, Some(problems[0]));
    press(&mut h, egui::Key::F8, egui::Modifiers::NONE);
    assert_eq!(h.state().sessions.selected, Some(problems[1]));
    press(&mut h, egui::Key::F8, egui::Modifiers::SHIFT);
    assert_eq!(h.state().sessions.selected, Some(problems[0]));
    press(&mut h, egui::Key::F8, egui::Modifiers::SHIFT);
    assert_eq!(h.state().sessions.selected, Some(problems[0]), "none before the first");
    h.get_by_label_contains("No highlighted session before this one");
    // F1 lists the shortcuts, the ones above among them.
    press(&mut h, egui::Key::F1, egui::Modifiers::NONE);
    assert!(h.state().show_shortcuts);
    h.get_by_label("Keyboard shortcuts");
    h.get_by_label("Next problem session (highlighted row)");
    h.get_by_label("Show Timeline");
    h.get_by_label("F8");
}

/// A capture of web traffic beside ActiveSync: a SharePoint JSON GET, a 401 on it, Autodiscover's
/// HTTP redirect and its error answer.
fn web_capture() -> common::Temp {
    let t = common::Temp::new("app-window-state", "web.saz");
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: contoso.sharepoint.com\r\n\r\n").into_bytes();
    let answer = |status: &str, headers: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let autodiscover_request = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\"><Request><EMailAddress>jdoe@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>";
    let autodiscover_error = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\"><Response><Error Time=\"16:56:32.6164027\" Id=\"1054084152\"><ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData /></Error></Response></Autodiscover>";
    let post = format!(
        "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.contoso.com\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{autodiscover_request}",
        autodiscover_request.len()
    );
    let sessions = vec![
        common::exchange(
            1,
            get("/_api/web"),
            Some(answer(
                "200 OK",
                "Content-Type: application/json\r\n",
                "{\"d\":{\"Title\":\"Team\"}}",
            )),
        ),
        common::exchange(
            2,
            get("/sites/team"),
            Some(answer("401 Unauthorized", "WWW-Authenticate: NTLM\r\n", "")),
        ),
        common::exchange(
            3,
            b"GET /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n\r\n".to_vec(),
            Some(answer(
                "302 Found",
                "Location: https://mail.contoso.com/autodiscover/autodiscover.xml\r\n",
                "",
            )),
        ),
        common::exchange(
            4,
            post.into_bytes(),
            Some(answer("200 OK", "Content-Type: text/xml\r\n", autodiscover_error)),
        ),
        common::exchange(5, get("/photo.png"), Some(png_answer())),
    ];
    easlens_core::writers::saz::write_saz_file(t.path(), &sessions, &Default::default()).unwrap();
    t
}

/// A 3×2 PNG (its signature and header are all the size is read from).
fn png_answer() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&3u32.to_be_bytes());
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        png.len()
    )
    .into_bytes();
    out.extend_from_slice(&png);
    out
}

#[test]
fn web_sessions_are_explained_without_eas_wording_and_highlighted() {
    let t = web_capture();
    let mut h = open(t.path().to_path_buf());
    let c = easlens_core::capture::open(t.path(), &Default::default()).unwrap();
    assert!(c.sessions.iter().all(|s| s.eas.is_none()), "no session is ActiveSync");
    // The 401 and the redirect are highlighted (the legend's promise), the 200s are not.
    let highlighted: Vec<bool> = c.sessions.iter().map(|s| main_highlight(s).is_some()).collect();
    assert_eq!(highlighted, [false, true, true, false, false]);

    // The SharePoint GET: RFC wording, no EAS Status talk; its JSON indented in the Body tab.
    h.state_mut().push(AppCommand::SelectSession(0));
    h.run_steps(4);
    h.get_by_label_contains("HTTP 200 OK — The request succeeded; the body holds the answer.");
    assert!(h.query_by_label_contains("Status elements").is_none());
    assert!(h.query_by_label_contains("SendMail").is_none());
    h.get_by_label("Body");
    h.get_by_label_contains("the body is JSON");
    h.get_by_label("Title: \"Team\"");
    // It folds.
    h.get_by_label("d: {…} 1 key").click();
    h.run_steps(4);
    assert!(h.query_by_label("Title: \"Team\"").is_none(), "folded");

    h.state_mut().push(AppCommand::SelectSession(1));
    h.run_steps(4);
    h.get_by_label_contains("HTTP 401 Unauthorized — Credentials are required or were refused");

    // Autodiscover's error answer: indented, and its ErrorCode explained with its source.
    h.state_mut().push(AppCommand::SelectSession(3));
    h.run_steps(4);
    h.get_by_label_contains("ErrorCode 600 — Invalid Request:");
    h.get_by_label_contains("      <ErrorCode>600</ErrorCode>");
    h.get_by_label_contains("    <EMailAddress>jdoe@contoso.com</EMailAddress>");

    // A picture: its format and size.
    h.state_mut().push(AppCommand::SelectSession(4));
    h.run_steps(4);
    h.get_by_label_contains("PNG image, 3 × 2 px");
}

#[test]
fn find_in_body_scrolls_the_current_match_into_view() {
    // A text body of 3,000 lines; the word sought is deep in it, far to the right of its line.
    let t = common::Temp::new("app-window-state", "long.saz");
    let mut body = String::new();
    for i in 0..3000 {
        body.push_str(&format!("line {i:04} {}", "x".repeat(60)));
        if i == 2400 {
            body.push_str(&format!("{} needle-two-thousand-four-hundred", " ".repeat(300)));
        }
        body.push('\n');
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let request = b"GET /log.txt HTTP/1.1\r\nHost: intranet.contoso.com\r\n\r\n".to_vec();
    let sessions = [common::exchange(1, request, Some(response.into_bytes()))];
    easlens_core::writers::saz::write_saz_file(t.path(), &sessions, &Default::default()).unwrap();
    let mut h = Harness::builder().with_size([1024.0, 700.0]).build_ui_state(
        |ui, app: &mut EaslensApp| app.ui(ui),
        EaslensApp::new(Some(t.path().to_path_buf())),
    );
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    h.state_mut().push(AppCommand::SelectSession(0));
    h.run_steps(4);
    h.get_by_label_contains("line 0000");
    assert!(
        h.query_by_label_contains("needle-two-thousand").is_none(),
        "not in view yet"
    );
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Find");
    field.focus();
    field.type_text("needle-two");
    h.run_steps(4);
    let hit = h.get_by_label_contains("needle-two-thousand-four-hundred");
    assert!(
        h.query_by_label_contains("line 0000").is_none(),
        "scrolled away from the top"
    );
    // In view: inside the window, sideways too.
    let rect = hit.rect();
    assert!(rect.top() >= 0.0 && rect.bottom() <= 700.0, "{rect:?}");
    h.get_by_label("1 of 1");
}

#[test]
fn the_query_tab_lists_each_parameter_once_and_names_the_locale() {
    // Session #1: a base64 query (MS-ASHTTP 2.2.1.1.1.1) with its locale and User parameter.
    let mut h = open(sample("redirect-and-auth-android.saz"));
    h.state_mut().push(AppCommand::SelectSession(0));
    h.run_steps(3);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Query").click();
    h.run_steps(3);
    h.get_by_label("en-US (0x0409)");
    assert_eq!(h.query_all_by_label("User").count(), 1, "User is listed once");
    assert_eq!(h.query_all_by_label("Device ID").count(), 1);
}

#[test]
fn wrap_lines_keeps_long_explanations_inside_the_pane() {
    let mut h = Harness::builder().with_size([1024.0, 700.0]).build_ui_state(
        |ui, app: &mut EaslensApp| app.ui(ui),
        EaslensApp::new(Some(sample("synckey-reset-android.saz"))),
    );
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    // Session #6: Status 3 InvalidSyncKey, whose meaning is longer than a pane is wide.
    h.state_mut().push(AppCommand::SelectSessionNumber(6));
    h.run_steps(3);
    let meaning = "InvalidSyncKey: Invalid or mismatched synchronization key";
    let right = |h: &Harness<'_, EaslensApp>| {
        h.query_all_by_label_contains(meaning)
            .map(|n| n.rect().right())
            .fold(0.0f32, f32::max)
    };
    assert!(
        right(&h) > 1024.0,
        "unwrapped, the Status line runs past the window: {}",
        right(&h)
    );
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, "Wrap lines")
        .click();
    h.run_steps(4);
    assert!(h.state().inspector.wrap);
    assert!(
        right(&h) > 0.0 && right(&h) <= 1024.0,
        "wrapped, it stays inside: {}",
        right(&h)
    );
}
