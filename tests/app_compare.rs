//! The Compare view, driven headless through egui_kittest in a 1024×700 window on the
//! throttling-storm sample, whose Syncs #2 and #3 send the same SyncKey (the server answered
//! without changes and the device asked again): opened from its tab (the selected session on the
//! left, its retry on the right), from a row's right-click menu and from `AppCommand::Compare`
//! (in the larger window the other window tests use);
//! the count shown is the engine's, the differing SyncKey line is in both columns, a session
//! compared with itself has no difference, and with "Redact personal data" on the columns show
//! the redacted copy.

use easlens_app::{AppCommand, EaslensApp, View};
use easlens_core::capture::Capture;
use easlens_core::compare::{Part, RowKind, compare};
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
use app_support::{harness, sample, step_until};

const SAMPLE: &str = "throttling-storm-iphone.saz";
const SIZE: [f32; 2] = [1024.0, 700.0];

/// The sample open in a window of `size` (`None`: the tests' usual 1400×900), its analysis done.
fn open_in(size: Option<[f32; 2]>) -> (Harness<'static, EaslensApp>, Capture) {
    let app = EaslensApp::new(Some(sample(SAMPLE)));
    let mut h = match size {
        Some(size) => Harness::builder()
            .with_size(size)
            .build_ui_state(|ui, app: &mut EaslensApp| app.ui(ui), app),
        None => harness(app),
    };
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    step_until(&mut h, "the analysis", |a| !a.analysis.is_computing());
    let capture = easlens_core::capture::open(&sample(SAMPLE), &Default::default()).unwrap();
    (h, capture)
}

fn open() -> (Harness<'static, EaslensApp>, Capture) {
    open_in(Some(SIZE))
}

/// The position of session number `n`.
fn pos(c: &Capture, n: u32) -> usize {
    c.sessions.iter().position(|s| s.index == n).unwrap()
}

fn compared(h: &mut Harness<'static, EaslensApp>, left: usize, right: usize) {
    step_until(h, "the comparison", |a| {
        a.compare
            .comparison()
            .is_some_and(|c| (c.left, c.right) == (left, right))
    });
}

/// The label "N differences" (or "1 difference") the view shows.
fn differences(n: usize) -> String {
    format!("{n} difference{}", if n == 1 { "" } else { "s" })
}

#[test]
fn the_compare_tab_puts_a_sync_beside_its_retry_and_marks_the_new_synckey() {
    let (mut h, capture) = open();
    let (two, three) = (pos(&capture, 2), pos(&capture, 3));
    h.state_mut().sessions.select(three as u32);
    h.run_steps(2);
    h.get_by_label("Compare").click();
    h.run_steps(2);
    assert_eq!(h.state().view, View::Compare);
    // Left: the selected session; right: the Sync that sent the same SyncKey before it.
    compared(&mut h, three, two);
    let expected = compare(&capture, three, two, false).unwrap();
    assert!(expected.differences() > 0);
    h.get_by_label(&differences(expected.differences()));
    // The requests are the same (a retry), so the view opens on the response, where the server
    // handed out a new SyncKey each time: the changed line is shown in both columns.
    assert_eq!(expected.part(Part::Request).unwrap().diff.differences, 0);
    assert_eq!(h.state().compare.part, Some(Part::Response));
    let response = expected.part(Part::Response).unwrap();
    let row = response
        .diff
        .rows
        .iter()
        .find(|r| r.kind == RowKind::Changed)
        .expect("a changed line in the response");
    let (left, right) = (
        response.left.line(row.left.unwrap()),
        response.right.line(row.right.unwrap()),
    );
    assert!(
        left.contains("<SyncKey>") && right.contains("<SyncKey>") && left != right,
        "{left} / {right}"
    );
    h.get_by_label(left);
    h.get_by_label(right);
    // Everything fits the window.
    for label in ["▼ Next difference", "Only differences"] {
        let r = h.get_by_label(label).rect();
        assert!(r.right() <= SIZE[0] && r.bottom() <= SIZE[1], "{label} at {r:?}");
    }

    // Stepping through the differences goes on from the response into the headers.
    let headers = expected.part(Part::Headers).unwrap();
    assert!(!headers.diff.blocks.is_empty());
    for _ in 0..response.diff.blocks.len() + 1 {
        h.get_by_label("▼ Next difference").click();
        h.run_steps(3);
    }
    assert_eq!(h.state().compare.part, Some(Part::Headers));
    let first = headers.diff.rows[headers.diff.blocks[0]];
    match (first.left, first.right) {
        (Some(l), _) => h.get_by_label(headers.left.line(l)),
        (None, Some(r)) => h.get_by_label(headers.right.line(r)),
        (None, None) => unreachable!("a row has a line on one side at least"),
    };
    h.get_by_label("▲ Previous difference").click();
    h.run_steps(3);
    assert_eq!(h.state().compare.part, Some(Part::Response));
    // Only differences: the rows between two differing stretches are left out ("…").
    h.get_by_label(&format!("Headers ({})", headers.diff.differences))
        .click();
    h.get_by_label("Only differences").click();
    h.run_steps(3);
    assert!(h.state().compare.only_differences);
    let kept = easlens_core::compare::only_differences(&headers.diff.rows, easlens_core::compare::CONTEXT_ROWS);
    assert_eq!(
        kept.iter().any(Option::is_none),
        h.query_all_by_label("…").next().is_some()
    );
    assert!(kept.len() < headers.diff.rows.len(), "{kept:?}");

    // The right field set to the left one's number: the session against itself.
    let right = h.get_by_role_and_label(Role::SpinButton, "Right #");
    right.set_value_accesskit(3.0);
    h.run_steps(2);
    compared(&mut h, three, three);
    h.get_by_label(&differences(0));
    h.get_by_label("Headers (0)");
}

#[test]
fn a_row_s_right_click_menu_compares_it_with_the_selected_session() {
    let (mut h, capture) = open();
    let (two, five) = (pos(&capture, 2), pos(&capture, 5));
    h.state_mut().sessions.select(two as u32);
    h.run_steps(2);
    let time = capture.sessions[five]
        .timers
        .started()
        .unwrap()
        .format("%H:%M:%S%.3f")
        .to_string();
    h.get_by_label(&time).click_secondary();
    h.run_steps(2);
    h.get_by_label("Compare with selected session").click();
    h.run_steps(2);
    assert_eq!(h.state().view, View::Compare);
    compared(&mut h, two, five);
    let expected = compare(&capture, two, five, false).unwrap();
    h.get_by_label(&differences(expected.differences()));
    // "Use selected" on the right: the selected session against itself.
    h.get_all_by_label("Use selected").nth(1).unwrap().click();
    h.run_steps(2);
    compared(&mut h, two, two);
    h.get_by_label(&differences(0));
}

#[test]
fn the_compare_command_shows_two_sessions_as_the_engine_compares_them() {
    let (mut h, capture) = open_in(None);
    // #14 is the first 503 of the storm, #13 the 200 before it: the response is an error page or
    // nothing against decoded XML, and the status lines differ.
    let (a, b) = (pos(&capture, 13), pos(&capture, 14));
    h.state_mut().push(AppCommand::Compare(a as u32, b as u32));
    h.run_steps(2);
    assert_eq!(h.state().view, View::Compare);
    compared(&mut h, a, b);
    let expected = compare(&capture, a, b, false).unwrap();
    h.get_by_label(&differences(expected.differences()));
    let headers = expected.part(Part::Headers).unwrap();
    assert!(headers.right.text.contains(" 503 "), "{}", headers.right.text);
    for p in &expected.parts {
        h.get_by_label(&format!("{} ({})", p.part.name(), p.diff.differences));
    }
    // A position the capture does not have says so (once, not a job every frame).
    let n = capture.sessions.len();
    h.state_mut().push(AppCommand::Compare(a as u32, n as u32));
    h.run_steps(2);
    step_until(&mut h, "the failed comparison", |a| {
        a.compare.right == Some(n) && !a.compare.is_comparing()
    });
    h.get_by_label(&format!(
        "Cannot compare: there is no session at position {n} (the capture has {n})"
    ));
    h.run_steps(2);
    assert!(!h.state().compare.is_comparing());
}

#[test]
fn redacted_the_compare_view_shows_pseudonyms() {
    let (mut h, capture) = open();
    let three = pos(&capture, 3);
    h.state_mut()
        .push(AppCommand::Compare(three as u32, pos(&capture, 2) as u32));
    h.run_steps(2);
    step_until(&mut h, "the comparison", |a| a.compare.comparison().is_some());
    // The response's first item is a mail to Jordan Doe, in the first rows of both columns.
    assert_eq!(h.query_all_by_label_contains("Jordan Doe").count(), 2);
    h.state_mut().sessions.select(three as u32);
    h.state_mut().push(AppCommand::SetRedaction(true));
    step_until(&mut h, "the redacted copy", |a| a.redaction.is_showing_redacted());
    step_until(&mut h, "the comparison of the redacted copy", |a| {
        a.compare.comparison().is_some()
    });
    let redacted = h.state().compare.comparison().unwrap();
    assert_eq!(redacted.left, three);
    assert!(
        redacted
            .parts
            .iter()
            .all(|p| !p.left.text.contains("Jordan") && !p.right.text.contains("Jordan"))
    );
    assert_eq!(h.query_all_by_label_contains("Jordan Doe").count(), 0);
    assert_eq!(h.query_all_by_label_contains("contoso.invalid").count(), 2);
}
