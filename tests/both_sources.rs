//! `easlens history --log` and `easlens synckeys --log`: the item history and the SyncKey chains
//! of the device's capture together with Exchange's mailbox log of it.

mod common;

use chrono::DateTime;
use common::{Temp, easlens, easlens_json_array, sample_arg as sample};
use serde_json::Value;

fn history_with_log(stem: &str, item: &str) -> Vec<Value> {
    let trace = sample(&format!("{stem}.saz"));
    let log = sample(&format!("{stem}.mailbox-log.txt"));
    easlens_json_array(&["history", &trace, "--item", item, "--log", &log, "--json"])
}

fn time(e: &Value) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).unwrap()
}

#[test]
fn history_pairs_each_server_operation_of_the_trace_with_the_logs() {
    let trace_only = easlens_json_array(&[
        "history",
        &sample("calendar-lifecycle-iphone.saz"),
        "--item",
        "1:25",
        "--json",
    ]);
    assert!(
        trace_only.iter().all(|e| e.get("source").is_none()),
        "no source without --log"
    );
    let events = history_with_log("calendar-lifecycle-iphone", "1:25");
    let trace: Vec<&Value> = events.iter().filter(|e| e["source"] == "trace").collect();
    let log: Vec<&Value> = events.iter().filter(|e| e["source"] == "mailbox_log").collect();
    assert_eq!(trace.len() + log.len(), events.len(), "every event has a source");
    assert_eq!(trace.len(), trace_only.len(), "the trace's events stay");
    // Every server Add/Change/Delete is there twice: the trace's, then the log's paired with it.
    let server_ops: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e["source"] == "trace"
                && e["direction"] == "server"
                && ["add", "change", "delete"].contains(&e["action"].as_str().unwrap())
        })
        .map(|(i, _)| i)
        .collect();
    assert!(server_ops.len() >= 2, "{events:#?}");
    for i in server_ops {
        let (t, l) = (&events[i], &events[i + 1]);
        assert_eq!(l["source"], "mailbox_log", "{t:#} is followed by its log event");
        assert_eq!(l["trace_session"], t["session"]);
        assert_eq!((&l["direction"], &l["action"]), (&t["direction"], &t["action"]));
        assert_eq!(l["server_id"], t["server_id"]);
        // The log's time is in the capture's clock: within seconds of the trace's.
        assert!((time(l) - time(t)).num_seconds().abs() <= 5, "{t:#} {l:#}");
        assert_ne!(l["log_time"], l["time"], "log_time is as the log wrote it (+1 h)");
    }
    // Every log event here is paired, and a trace event's trace_session is null.
    assert!(log.iter().all(|e| e["trace_session"].is_u64()), "{log:#?}");
    assert!(
        trace
            .iter()
            .all(|e| e["trace_session"].is_null() && e["log_time"].is_null())
    );
    // Time order (a paired log event right after its trace event).
    let trace_times: Vec<_> = trace.iter().map(|e| time(e)).collect();
    assert!(trace_times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn history_text_has_a_source_column_and_pairs_on_one_line() {
    let out = easlens(&[
        "history",
        &sample("calendar-lifecycle-iphone.saz"),
        "--item",
        "1:25",
        "--log",
        &sample("calendar-lifecycle-iphone.mailbox-log.txt"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().nth(1).unwrap();
    assert!(header.contains("source") && header.contains("exchange"), "{text}");
    assert!(text.contains("= log #"), "{text}");
    assert!(
        text.contains("Expected on the device at the end of the capture"),
        "{text}"
    );
    // Paired log events are not lines of their own.
    let log_lines = text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("log"))
        .count();
    assert_eq!(log_lines, 0, "{text}");
}

#[test]
fn history_with_log_of_an_unknown_id_and_an_unreadable_log() {
    let trace = sample("calendar-lifecycle-iphone.saz");
    let log = sample("calendar-lifecycle-iphone.mailbox-log.txt");
    let out = easlens(&["history", &trace, "--item", "no-such-id", "--log", &log]);
    assert_eq!(out.status.code(), Some(3));
    let missing = Temp::new("both-sources", "missing.txt");
    let out = easlens(&["history", &trace, "--item", "1:25", "--log", missing.arg()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn synckeys_with_log_keeps_the_chains_and_adds_exchanges() {
    let trace = sample("synckey-reset-android.saz");
    let log = sample("synckey-reset-android.mailbox-log.txt");
    let plain = easlens_json_array(&["synckeys", &trace, "--json"]);
    let both = easlens_json_array(&["synckeys", &trace, "--log", &log, "--json"]);
    assert!(both.len() >= plain.len());
    for (p, b) in plain.iter().zip(&both) {
        for (k, v) in p.as_object().unwrap() {
            assert_eq!(&b[k], v, "{k}: the trace's chain is unchanged");
        }
        let log_chain = &b["log_chain"];
        assert!(log_chain.is_object(), "{b:#}");
        assert_eq!(log_chain["collection"], p["collection"]);
        assert!(b["disagreements"].as_array().unwrap().is_empty(), "{b:#}");
        // The log's requests are the trace's (the sample's log has every request).
        let keys = |c: &Value, side: &str| -> Vec<Value> {
            c["links"].as_array().unwrap().iter().map(|l| l[side].clone()).collect()
        };
        assert_eq!(keys(log_chain, "request_key"), keys(p, "request_key"), "{b:#}");
    }
    // The reset is in Exchange's chain too.
    assert!(
        both.iter().any(|c| c["log_chain"]["links"]
            .as_array()
            .is_some_and(|l| l
                .iter()
                .any(|l| l["marks"].as_array().unwrap().iter().any(|m| m == "reset")))),
        "{both:#?}"
    );
    let out = easlens(&["synckeys", &trace, "--log", &log]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Exchange's mailbox log:") && text.contains("log #"),
        "{text}"
    );
}

/// The log without the entry of one Sync: the key that request sent is one Exchange never saw.
#[test]
fn synckeys_with_log_says_which_key_exchange_never_saw() {
    let trace = sample("synckey-reset-android.saz");
    let plain = easlens_json_array(&["synckeys", &trace, "--json"]);
    let text = std::fs::read_to_string(sample("synckey-reset-android.mailbox-log.txt"))
        .unwrap()
        .replace("\r\n", "\n");
    let marker = "-----------------\n Log Entry: ";
    let parts: Vec<&str> = text.split(marker).collect();
    // The first Sync entry with a non-zero request key.
    let chain = plain.iter().find(|c| c["hierarchy"] == false).unwrap();
    let link = chain["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["request_key"].as_str().is_some_and(|k| k != "0") && l["response_key"].is_string())
        .unwrap();
    let key = link["request_key"].as_str().unwrap();
    let session = link["session"].as_u64().unwrap();
    let cut = parts
        .iter()
        .position(|p| p.contains("<Sync") && p.contains(&format!("<SyncKey>{key}</SyncKey>")))
        .unwrap_or_else(|| panic!("no log entry with key {key}"));
    let mut kept = parts[0].to_string();
    for (i, p) in parts.iter().enumerate().skip(1) {
        if i != cut {
            kept += marker;
            kept += p;
        }
    }
    let file = Temp::new("both-sources", "cut.mailbox-log.txt");
    std::fs::write(file.path(), kept).unwrap();
    let both = easlens_json_array(&["synckeys", &trace, "--log", file.arg(), "--json"]);
    let all: Vec<&Value> = both
        .iter()
        .flat_map(|c| c["disagreements"].as_array().unwrap())
        .collect();
    assert!(
        all.iter()
            .any(|d| d["kind"] == "not_seen_by_exchange" && d["key"] == key && d["trace_session"] == session),
        "{key} of session {session}: {all:#?}"
    );
}
