//! `easlens history`: the JSON fields scripts rely on, the table with changed fields and the final
//! state, and a clear error for an id the capture does not have.

mod common;

use common::{easlens, sample_arg as sample};
use serde_json::Value;

#[test]
fn json_is_an_array_of_events_with_the_documented_fields() {
    let file = sample("calendar-lifecycle-iphone.saz");
    let out = easlens(&["history", &file, "--item", "1:25", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(events.len(), 7);
    for key in [
        "session",
        "time",
        "direction",
        "action",
        "collection_id",
        "server_id",
        "client_id",
        "uid",
        "status",
        "changed_fields",
    ] {
        assert!(events.iter().all(|e| e.get(key).is_some()), "missing {key}");
    }
    let change = &events[2];
    assert_eq!(change["session"], 3);
    assert_eq!(change["direction"], "client");
    assert_eq!(change["action"], "change");
    assert_eq!(change["collection_id"], "1");
    assert_eq!(change["server_id"], "1:25");
    assert_eq!(change["client_id"], Value::Null);
    assert_eq!(change["status"], 1);
    assert_eq!(
        change["changed_fields"],
        serde_json::json!([{"path": "Reminder", "old": "15", "new": "30"}])
    );
    assert!(
        change["time"].as_str().unwrap().starts_with("2024-03-11T09:13:20"),
        "{}",
        change["time"]
    );
    let last = &events[6];
    assert_eq!(
        (last["direction"].as_str(), last["action"].as_str()),
        (Some("server"), Some("delete"))
    );
    assert_eq!(last["status"], Value::Null);
    assert!(last["uid"].is_null() && events[1]["uid"].as_str().unwrap().starts_with("0400000082"));
}

#[test]
fn text_shows_the_events_the_changes_and_the_final_state() {
    let file = sample("calendar-lifecycle-android.saz");
    let out = easlens(&["history", &file, "--item", "1:25"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("History of 1:25: 6 events\n"), "{text}");
    assert!(text.contains("changed Reminder: 15 → 30"), "{text}");
    assert!(
        text.contains("changed Subject: Quarterly planning review → Quarterly planning review (moved to Thursday)")
    );
    assert!(text.contains("device Delete"), "{text}");
    assert!(
        text.contains("1:25 — Gone: Deleted by the device in session #7 (collection 1): after Delete the item should be gone from the device."),
        "{text}"
    );
}

#[test]
fn an_unknown_id_is_an_error_naming_the_file_and_the_id() {
    let file = sample("healthy-android.saz");
    let out = easlens(&["history", &file, "--item", "5:999"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&file) && err.contains("\"5:999\""), "{err}");

    let out = easlens(&["history", "/nonexistent/capture.saz", "--item", "5:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/capture.saz"));
}
