//! The window's "Redact personal data" switch, driven headless through egui_kittest: with it on,
//! no view (table, inspector tabs, findings, item history, SyncKey chains, timeline, statistics),
//! no status line and no "Copy as text" shows a personal value the sample generator wrote;
//! pseudonyms are shown instead; the switch stays on for the next capture; the map window shows
//! the originals (for the engineer only) and exports them.

use easlens_app::{AppCommand, EaslensApp, View};
use eframe::egui;
use egui::OutputCommand;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
use app_support::{harness, sample, step_until};

const SAMPLE: &str = "calendar-lifecycle-iphone.saz";

fn open(name: &str) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(sample(name))));
    step_until(&mut h, "the capture and its analysis", |a| {
        a.capture().is_some() && !a.is_loading()
    });
    h.run_steps(10);
    h
}

/// The personal values on screen now (any label of the accessibility tree containing one).
fn shown(h: &Harness<'_, EaslensApp>) -> Vec<String> {
    easlens_samples::scenarios::personal_strings()
        .into_iter()
        .filter(|p| h.query_all_by_label_contains(p).next().is_some())
        .collect()
}

fn copied(h: &Harness<'_, EaslensApp>) -> Option<String> {
    h.output().platform_output.commands.iter().find_map(|c| match c {
        OutputCommand::CopyText(t) => Some(t.clone()),
        _ => None,
    })
}

/// Every view in turn, with session `position` selected: what each shows of personal data.
fn views(h: &mut Harness<'_, EaslensApp>, position: u32) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    h.state_mut().push(AppCommand::SelectSession(position));
    h.run_steps(4);
    for view in [
        View::Inspector,
        View::Findings,
        View::History,
        View::SyncKeys,
        View::Timeline,
        View::Statistics,
    ] {
        h.state_mut().push(AppCommand::ShowView(view));
        h.run_steps(4);
        if view == View::Inspector {
            for tab in ["Headers", "Query", "Raw", "Hex", "Body"] {
                if let Some(t) = h.query_by_label(tab) {
                    t.click();
                    h.run_steps(3);
                    out.push((format!("Inspector {tab}"), shown(h)));
                }
            }
        }
        if view == View::History {
            h.state_mut().push(AppCommand::FollowItem("1:25".into()));
            h.run_steps(8);
        }
        if view == View::Statistics {
            step_until(h, "the statistics", |a| a.statistics.shown().is_some());
        }
        out.push((format!("{view:?}"), shown(h)));
    }
    out
}

#[test]
fn the_switch_redacts_every_view_and_copy_as_text() {
    let mut h = open(SAMPLE);
    let capture = h.state().capture().unwrap();
    // The Sync that changes the meeting (its subject, organizer, attendees and location).
    let position = capture
        .sessions
        .iter()
        .position(|s| {
            s.eas
                .as_ref()
                .is_some_and(|e| e.items.iter().any(|op| op.server_id == Some("1:25")))
        })
        .unwrap() as u32;

    // Before: the inspector shows personal data, so the checks below can fail.
    let before = views(&mut h, position);
    let seen: usize = before.iter().map(|(_, v)| v.len()).sum();
    assert!(seen >= 5, "{before:?}");
    // The statistics name the device by its id.
    assert!(
        before.iter().any(|(v, found)| v == "Statistics" && !found.is_empty()),
        "{before:?}"
    );
    h.state_mut().push(AppCommand::CopySelectedAsText);
    h.step();
    let text = copied(&h).expect("copied");
    assert!(text.contains("Priya Natarajan"), "{text}");

    h.get_by_label("Not redacted").click();
    step_until(&mut h, "the redacted copy", |a| a.redaction.is_showing_redacted());
    h.run_steps(10);
    h.get_by_label("● Redacted");
    for (view, found) in views(&mut h, position) {
        assert!(found.is_empty(), "{view} shows {found:?}");
    }
    h.state_mut().push(AppCommand::ShowView(View::Inspector));
    h.state_mut().push(AppCommand::SelectSession(position));
    h.run_steps(4);
    h.get_all_by_label_contains("Person ")
        .next()
        .expect("pseudonyms in the XML");
    h.state_mut().push(AppCommand::CopySelectedAsText);
    h.step();
    let text = copied(&h).expect("copied");
    let leaks: Vec<String> = easlens_samples::scenarios::personal_strings()
        .into_iter()
        .filter(|p| text.contains(p.as_str()))
        .collect();
    assert!(leaks.is_empty(), "Copy as text: {leaks:?}\n{text}");
    assert!(text.contains("Person ") && text.contains("Device1"), "{text}");
    // The selection survived the switch.
    assert_eq!(h.state().sessions.selected, Some(position));

    // The map shows the originals to the engineer, and exports them.
    h.state_mut().push(AppCommand::ShowPseudonymMap(true));
    h.run_steps(4);
    h.get_by_label("Pseudonym map");
    h.get_all_by_label_contains("Priya Natarajan")
        .next()
        .expect("the map lists originals");
    let dir = std::env::temp_dir().join(format!("easlens-app-redaction-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("map.json");
    h.state_mut().export_to(
        easlens_app::Export::PseudonymMap,
        map.clone(),
        &egui::Context::default(),
    );
    let json = std::fs::read_to_string(&map).unwrap();
    assert!(json.contains("Priya Natarajan") && json.contains("Person "), "{json}");
    let _ = std::fs::remove_dir_all(&dir);
    h.state_mut().push(AppCommand::ShowPseudonymMap(false));

    // Off: the capture as opened again.
    h.get_by_label("● Redacted").click();
    h.run_steps(6);
    assert!(!h.state().redaction.on);
    let after = views(&mut h, position);
    assert!(after.iter().map(|(_, v)| v.len()).sum::<usize>() >= 5, "{after:?}");
}

#[test]
fn the_switch_stays_on_for_the_next_capture() {
    let mut h = open("healthy-iphone.saz");
    h.state_mut().push(AppCommand::SetRedaction(true));
    step_until(&mut h, "the redacted copy", |a| a.redaction.is_showing_redacted());
    h.state_mut().push(AppCommand::Open(sample("healthy-android.saz")));
    // While the new capture is redacted, none of it is shown.
    let mut saw_progress = false;
    step_until(&mut h, "the second capture, redacted", |a| {
        a.capture()
            .is_some_and(|c| c.path.to_string_lossy().contains("healthy-android"))
            && a.redaction.is_showing_redacted()
    });
    if h.query_by_label("Redacting personal data…").is_some() {
        saw_progress = true;
    }
    let _ = saw_progress;
    h.run_steps(10);
    let found = shown(&h);
    assert!(found.is_empty(), "{found:?}");
    h.get_by_label("● Redacted");
    let c = h.state().capture().unwrap();
    let devices: Vec<&str> = c
        .sessions
        .iter()
        .filter_map(|s| s.eas.as_ref()?.identity.device_id.as_deref())
        .collect();
    assert!(devices.iter().all(|d| *d == "Device1"), "{devices:?}");
}

#[test]
fn screenshots_can_leave_the_controls_out() {
    let mut h = open("healthy-iphone.saz");
    h.get_by_label("Not redacted");
    h.get_by_label("Inspector");
    h.state_mut().screenshot.hide_controls = true;
    h.state_mut()
        .push(AppCommand::CopyScreenshot(easlens_app::screenshot::Target::Window));
    h.run_steps(2);
    // While the frames of the picture are drawn: no status bar, no view buttons; the table stays.
    assert!(h.state().screenshot.capturing());
    assert!(h.query_by_label("Not redacted").is_none());
    assert!(h.query_by_label("Inspector").is_none());
    h.get_all_by_label_contains("Ping").next().expect("the sessions table");
    h.state_mut().screenshot.hide_controls = false;
    h.run_steps(2);
    h.get_by_label("Not redacted");
}

/// Steps until the `export` job has written its file; returns the status-bar message.
fn exported(h: &mut Harness<'_, EaslensApp>) {
    step_until(h, "the export", |a| !a.is_exporting());
}

#[test]
fn the_window_saves_redacted_captures_of_a_scope() {
    let mut h = open("healthy-android.saz");
    let dir = std::env::temp_dir().join(format!("easlens-app-save-redacted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let total = h.state().capture().unwrap().sessions.len();
    let ctx = h.ctx.clone();

    // Whole capture, redaction off: the sessions are redacted for the file only.
    let whole = dir.join("whole.saz");
    h.state_mut().export_to(
        easlens_app::Export::RedactedCapture(easlens_app::Scope::All),
        whole.clone(),
        &ctx,
    );
    exported(&mut h);
    // The filtered sessions, as HAR.
    h.state_mut().push(AppCommand::SetFilter("cmd:Sync".into()));
    step_until(&mut h, "the filter", |a| a.sessions.trace_rows().len() < total);
    let syncs = h.state().sessions.trace_rows().len();
    let filtered = dir.join("filtered.har");
    h.state_mut().export_to(
        easlens_app::Export::RedactedCapture(easlens_app::Scope::Filtered),
        filtered.clone(),
        &ctx,
    );
    exported(&mut h);
    // The selected session, with the switch on.
    h.state_mut().push(AppCommand::SetRedaction(true));
    step_until(&mut h, "the redacted copy", |a| a.redaction.is_showing_redacted());
    let first = h.state().sessions.trace_rows()[0];
    h.state_mut().push(AppCommand::SelectSession(first));
    h.run_steps(3);
    let one = dir.join("one.saz");
    h.state_mut().export_to(
        easlens_app::Export::RedactedCapture(easlens_app::Scope::Selected),
        one.clone(),
        &ctx,
    );
    exported(&mut h);

    let personal = easlens_samples::scenarios::personal_strings();
    for (path, count) in [(&whole, total), (&filtered, syncs), (&one, 1)] {
        let c = easlens_core::capture::open(path, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.sessions.len(), count, "{}", path.display());
        let text: String = c
            .sessions
            .iter()
            .filter_map(|s| {
                let target = s.request.as_ref()?.head.target.to_string();
                let device = s.eas.as_ref()?.identity.device_id.as_deref().unwrap_or("").to_string();
                Some(format!("{target} {device}\n"))
            })
            .collect();
        assert!(text.contains("Device1"), "{text}");
        let found: Vec<&String> = personal.iter().filter(|p| text.contains(p.as_str())).collect();
        assert!(found.is_empty(), "{}: {found:?}", path.display());
    }
    // The capture itself is never the output.
    let input = sample("healthy-android.saz");
    let before = std::fs::read(&input).unwrap();
    h.state_mut().export_to(
        easlens_app::Export::RedactedCapture(easlens_app::Scope::All),
        input.clone(),
        &ctx,
    );
    exported(&mut h);
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_window_exports_reports_of_a_scope_and_of_one_finding() {
    let mut h = open("throttling-storm-android.saz");
    step_until(&mut h, "the findings", |a| {
        a.capture().is_some() && !a.analysis.is_computing()
    });
    let dir = std::env::temp_dir().join(format!("easlens-app-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctx = h.ctx.clone();
    let personal = easlens_samples::scenarios::personal_strings();
    let leaks =
        |text: &str| -> Vec<String> { personal.iter().filter(|p| text.contains(p.as_str())).cloned().collect() };

    // The whole capture, redaction off in the window: the report is redacted all the same.
    let whole = dir.join("whole.html");
    h.state_mut().export_to(
        easlens_app::Export::Report(easlens_app::ReportScope::Of(easlens_app::Scope::All)),
        whole.clone(),
        &ctx,
    );
    exported(&mut h);
    let html = std::fs::read_to_string(&whole).unwrap();
    assert!(
        html.contains("<svg") && html.contains("Findings"),
        "{}",
        &html[..html.len().min(400)]
    );
    assert!(leaks(&html).is_empty(), "{:?}", leaks(&html));
    assert!(html.contains("Device1"));

    // One finding, from its card's Report… button (the dialog is skipped: export_to).
    h.state_mut().push(AppCommand::ShowView(View::Findings));
    h.run_steps(4);
    h.get_all_by_label("Report…")
        .next()
        .expect("a finding's Report… button");
    let one = dir.join("finding.md");
    h.state_mut().export_to(
        easlens_app::Export::Report(easlens_app::ReportScope::Finding(0)),
        one.clone(),
        &ctx,
    );
    exported(&mut h);
    let md = std::fs::read_to_string(&one).unwrap();
    let first = h.state().analysis.shared().unwrap().findings().findings[0].title;
    assert!(md.contains(first), "{first} not in the report");
    assert!(leaks(&md).is_empty(), "{:?}", leaks(&md));
    assert!(dir.join("finding.timeline.svg").exists());

    // The selected session, with personal data kept on request.
    h.state_mut().report_personal_data = true;
    h.state_mut().push(AppCommand::SelectSession(1));
    h.run_steps(3);
    let plain = dir.join("selected.html");
    h.state_mut().export_to(
        easlens_app::Export::Report(easlens_app::ReportScope::Of(easlens_app::Scope::Selected)),
        plain.clone(),
        &ctx,
    );
    exported(&mut h);
    let html = std::fs::read_to_string(&plain).unwrap();
    assert!(!leaks(&html).is_empty(), "kept personal data");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 13 (window papercuts): a finding's "Why, and what to do" unfolds when clicked (the card
/// used to take the click).
#[test]
fn a_findings_explanation_unfolds() {
    let mut h = open("throttling-storm-iphone.saz");
    step_until(&mut h, "the findings", |a| !a.analysis.is_computing());
    h.state_mut().push(AppCommand::ShowView(View::Findings));
    h.run_steps(4);
    let explanation = h.state().analysis.shared().unwrap().findings().findings[0].explanation;
    let start: String = explanation.chars().take(40).collect();
    assert!(
        h.query_all_by_label_contains(&start).next().is_none(),
        "folded at first"
    );
    h.get_all_by_label("Why, and what to do")
        .next()
        .expect("the fold")
        .click();
    h.run_steps(4);
    h.get_all_by_label_contains(&start)
        .next()
        .expect("the explanation, unfolded");
}
