//! Following an item from the inspector into the history view, and back to a session, driven
//! headless through egui_kittest on the calendar sample.

use easlens_app::{EaslensApp, View};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
use app_support::{harness, sample, step_until};

fn open(name: &str) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(sample(name))));
    step_until(&mut h, "the capture to load", |a| a.capture().is_some());
    step_until(&mut h, "the analysis", |a| !a.analysis.is_computing());
    h
}

#[test]
fn follow_an_item_from_the_inspector_and_go_back_to_a_session() {
    let mut h = open("calendar-lifecycle-iphone.saz");
    // Session #4: the device adds the "Dentist" appointment; the server answers with ServerId 1:26.
    h.state_mut().sessions.select(3);
    h.run_steps(3);
    h.get_by_label_contains("Follow item").click();
    h.run_steps(2);
    h.get_by_label_contains("ServerId 1:26").click();
    h.run_steps(3);
    assert_eq!(h.state().view, View::History);
    let events = &h.state().history.events;
    assert!(events.len() >= 2, "{events:?}");
    // The device's Add (with its ClientId) comes first, then the server's reply mapping it to 1:26.
    assert_eq!(events[0].action.label(), "Add");
    assert!(events[0].client_id.is_some());
    assert!(events.iter().any(|e| e.server_id.as_deref() == Some("1:26")));
    let times: Vec<_> = events.iter().map(|e| (e.time, e.session)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "events in capture order");
    // The final state is spelled out.
    assert!(!h.state().history.finals.is_empty());
    h.get_by_label_contains("“Dentist”");
    // A session number in the history goes back to the inspector on that session.
    let last = events.last().unwrap().clone();
    h.get_all_by_label(&last.session.to_string()).last().unwrap().click();
    h.run_steps(3);
    assert_eq!(h.state().view, View::Inspector);
    assert_eq!(h.state().sessions.selected, Some(last.position as u32));
}

#[test]
fn typing_an_id_prefix_suggests_ids_and_unknown_ids_say_so() {
    let mut h = open("calendar-lifecycle-iphone.saz");
    h.state_mut().view = View::History;
    h.run_steps(2);
    let field = h.get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Item");
    field.focus();
    field.type_text("1:2");
    h.run_steps(3);
    h.get_by_label_contains("ServerId 1:26").click();
    h.run_steps(3);
    assert!(!h.state().history.events.is_empty());
    h.state_mut().history.query = "no-such-id".into();
    h.run_steps(1);
    h.get_by_label("Follow").click();
    h.run_steps(3);
    h.get_by_label_contains("No operation in the capture mentions `no-such-id`");
}

#[test]
fn clicking_a_finding_filters_the_table_to_its_sessions_and_selects_the_first() {
    let mut h = open("throttling-storm-iphone.saz");
    h.get_by_label("Findings").click();
    h.run_steps(2);
    assert_eq!(h.state().view, View::Findings);
    let capture = easlens_core::capture::open(&sample("throttling-storm-iphone.saz"), &Default::default()).unwrap();
    let findings = easlens_core::analysis::findings::findings(&capture);
    let throttled = findings
        .iter()
        .find(|f| f.rule == "throttled")
        .expect("the storm is throttled");
    // Every finding shows its title; the throttled one is an error with its 503 sessions.
    h.get_by_label_contains(throttled.title);
    let n = throttled.sessions.len();
    let label = format!("{n} sessions");
    let links: Vec<_> = h.get_all_by_label(&label).collect();
    assert!(!links.is_empty());
    // Click the link of the `throttled` finding: its position in the list.
    let k = findings
        .iter()
        .filter(|f| f.sessions.len() == n)
        .position(|f| f.rule == "throttled")
        .unwrap();
    links[k].click();
    h.run_steps(4);
    let expected: Vec<u32> = (0..capture.sessions.len() as u32)
        .filter(|&i| throttled.sessions.contains(&capture.sessions[i as usize].index))
        .collect();
    assert!(h.state().filter.text.starts_with("index:"), "{}", h.state().filter.text);
    assert_eq!(h.state().sessions.visible, expected);
    assert_eq!(h.state().sessions.selected, Some(expected[0]));
    h.get_by_label(&format!("{n} of {} sessions", capture.sessions.len()));
}

#[test]
fn an_item_finding_opens_the_history_of_its_item() {
    let mut h = open("item-failures-iphone.saz");
    h.get_by_label("Findings").click();
    h.run_steps(2);
    let capture = easlens_core::capture::open(&sample("item-failures-iphone.saz"), &Default::default()).unwrap();
    let findings = easlens_core::analysis::findings::findings(&capture);
    let failing = findings
        .iter()
        .find(|f| f.rule == "item-sync-failure")
        .expect("the sample has an item that fails on every sync");
    let item = failing.item.clone().expect("an item-level finding names its item");
    // Each item-level finding links to its item's history.
    for f in findings.iter().filter(|f| f.item.is_some()) {
        h.get_by_label(&format!("History of {}", f.item.as_deref().unwrap()));
    }
    h.get_by_label(&format!("History of {item}")).click();
    h.run_steps(4);
    assert_eq!(h.state().view, View::History);
    let events = &h.state().history.events;
    assert!(
        events.iter().any(|e| e.server_id.as_deref() == Some(item.as_str())),
        "{item}: {events:?}"
    );
    // Every failing Sync of the finding is in the history.
    for s in &failing.sessions {
        assert!(events.iter().any(|e| e.session == *s), "session {s}: {events:?}");
    }
}

#[test]
fn a_healthy_capture_has_no_findings_to_report() {
    let mut h = open("healthy-iphone.saz");
    h.get_by_label("Findings").click();
    h.run_steps(2);
    h.get_by_label_contains("No known failure pattern");
}

#[test]
fn changed_fields_of_big_bodies_are_read_by_a_job_with_the_same_result() {
    let mut h = open("calendar-lifecycle-iphone.saz");
    let capture = easlens_core::capture::open(&sample("calendar-lifecycle-iphone.saz"), &Default::default()).unwrap();
    let analysis = easlens_core::analysis::Analysis::new(&capture);
    let events = analysis.history().history(&capture, "1:25");
    let expected = easlens_core::analysis::history::changed_fields(&capture, &events).unwrap();
    assert!(expected.iter().any(|c| !c.is_empty()), "the item was changed");
    // As if the bodies were big: the changed fields are the `changed-fields` job.
    h.state_mut().history.inline_below = 0;
    h.state_mut().view = View::History;
    h.run_steps(2);
    let field = h.get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Item");
    field.focus();
    field.type_text("1:25");
    h.key_press(eframe::egui::Key::Enter);
    h.run_steps(1);
    step_until(&mut h, "the changed fields", |a| !a.history.is_reading());
    assert_eq!(h.state().history.events, events);
    assert_eq!(h.state().history.changes(), expected.as_slice());
}

/// The Item field, focused, with `text` typed into it.
fn type_item(h: &mut Harness<'static, EaslensApp>, text: &str) {
    h.state_mut().view = View::History;
    h.run_steps(2);
    let field = h.get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Item");
    field.focus();
    field.type_text(text);
    h.run_steps(3);
}

#[test]
fn an_item_is_found_by_its_subject_and_followed() {
    let mut h = open("calendar-lifecycle-iphone.saz");
    type_item(&mut h, "dentist");
    // Named by its ServerId, with what it is and its folder (no FolderSync here to name it).
    h.get_by_label_contains("ServerId 1:26 — Dentist · Calendar in 1 (1 op)")
        .click();
    h.run_steps(3);
    let events = &h.state().history.events;
    assert!(
        events.iter().any(|e| e.server_id.as_deref() == Some("1:26")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.subject.as_deref() == Some("Dentist")),
        "{events:?}"
    );
    // The meeting request in the Inbox is an invitation, the calendar item a Calendar item.
    h.state_mut().history.query.clear();
    h.run_steps(2);
    type_item(&mut h, "QUARTERLY");
    h.get_by_label_contains("ServerId 5:31 — Quarterly planning review · invitation in 5 (");
    h.get_by_label_contains("ServerId 1:25 — Quarterly planning review · Calendar in 1 (");
    h.state_mut().history.query = "no such words".into();
    h.run_steps(3);
    h.get_by_label_contains("No id starts with that and no subject contains it.");
}

#[test]
fn changed_date_times_read_as_dates_with_the_raw_value_on_hover() {
    let mut h = open("calendar-lifecycle-iphone.saz");
    type_item(&mut h, "1:25");
    h.get_by_label("Follow").click();
    h.run_steps(3);
    step_until(&mut h, "the changed fields", |a| !a.history.is_reading());
    let line = h.get_by_label("StartTime: 2024-03-13 13:00 UTC → 2024-03-14 14:00 UTC");
    line.hover();
    h.run_steps(60);
    h.get_by_label_contains("StartTime: 20240313T130000Z → 20240314T140000Z");
    // A value that is not a date stays as it was.
    h.get_by_label("Reminder: 15 → 30");
}

/// Opens `name` and the inspector's "Follow item" menu on session `index`.
fn follow_menu_of(name: &str, index: u32) -> Harness<'static, EaslensApp> {
    let mut h = open(name);
    let sessions = &h.state().capture().unwrap().sessions;
    let position = sessions.iter().position(|s| s.index == index).unwrap();
    h.state_mut().sessions.select(position as u32);
    h.run_steps(3);
    h.get_by_label_contains("Follow item").click();
    h.run_steps(2);
    h
}

#[test]
fn follow_item_entries_name_the_folder_and_the_kind() {
    // Session #7: the server adds a mail, a meeting and a contact, in folders FolderSync named.
    let h = follow_menu_of("healthy-iphone.saz", 7);
    h.get_by_label_contains("ServerId 5:1 (Add) — Quarterly numbers for review · Email in 5 (Inbox)");
    h.get_by_label_contains("ServerId 1:1 (Add) — Weekly team sync · Calendar in 1 (Calendar)");
    h.get_by_label_contains("ServerId 3:1 (Add) — Chen, Alex · Contacts in 3 (Contacts)");
    // Session #2 of the calendar sample: the meeting's request in the Inbox is an invitation.
    let h = follow_menu_of("calendar-lifecycle-iphone.saz", 2);
    h.get_by_label_contains("ServerId 5:31 (Add) — Quarterly planning review · invitation in 5");
    h.get_by_label_contains("ServerId 1:25 (Add) — Quarterly planning review · Calendar in 1");
}
