//! The item-level rules (failure patterns 9–16) on every bundled sample: the scenarios that show
//! a pattern raise exactly its finding, citing exactly its evidence sessions — found here from the
//! capture's own item operations, not hard-coded — and naming its item; every other sample (the
//! near misses, the healthy conversations, the other scenarios, SAZ and HAR alike) raises none.

mod common;

use easlens_core::analysis::findings::{Finding, Findings, ITEM_RULES};
use easlens_core::capture::{Capture, Session};
use easlens_core::eas::Command;
use easlens_core::eas::items::{ItemAction, ItemOp};
use easlens_core::http::Side;

/// (rule, evidence session indices, item) of each item-level finding, sorted.
fn item_findings(c: &Capture) -> Vec<(&'static str, Vec<u32>, String)> {
    let findings: Vec<Finding> = Findings::build(c).findings;
    let mut out: Vec<_> = findings
        .into_iter()
        .filter(|f| ITEM_RULES.iter().any(|r| r.id() == f.rule))
        .map(|f| {
            let item = f
                .item
                .clone()
                .unwrap_or_else(|| panic!("{} names no item: {f:?}", f.rule));
            assert!(f.message.contains(&item), "the message names the item: {f:?}");
            (f.rule, f.sessions, item)
        })
        .collect();
    out.sort();
    out
}

fn ops(s: &Session) -> Vec<ItemOp<'_>> {
    s.eas.as_ref().map(|e| e.items.iter().collect()).unwrap_or_default()
}

/// Indices of the sessions with an operation for which `pred` holds.
fn with_op(c: &Capture, pred: impl Fn(&ItemOp<'_>) -> bool) -> Vec<u32> {
    c.sessions
        .iter()
        .filter(|s| ops(s).iter().any(&pred))
        .map(|s| s.index)
        .collect()
}

fn client(action: ItemAction, id: &'static str) -> impl Fn(&ItemOp<'_>) -> bool {
    move |o| o.side == Side::Request && o.action == action && o.server_id == Some(id)
}

fn server(id: &'static str) -> impl Fn(&ItemOp<'_>) -> bool {
    move |o| o.side == Side::Response && !o.reply && o.server_id == Some(id)
}

fn last_before(list: &[u32], before: u32) -> u32 {
    *list.iter().rfind(|&&i| i < before).expect("an earlier session")
}

/// What a sample must raise, found from its item operations.
fn expected(name: &str, c: &Capture) -> Vec<(&'static str, Vec<u32>, String)> {
    let mut out = Vec::new();
    if name.starts_with("calendar-failures-") {
        // 9: the device deletes the series 1:41 right after a meeting message in the Inbox.
        let delete = with_op(c, client(ItemAction::Delete, "1:41"))[0];
        let messages = with_op(c, |o| {
            o.side == Side::Response && o.action == ItemAction::Add && o.class == Some("Email") && o.uid.is_some()
        });
        let cancel = last_before(&messages, delete);
        out.push(("recurring-series-deleted", vec![cancel, delete], "1:41".into()));
        // 10: the device's Change of 1:42, against the server's copy.
        let change = with_op(c, client(ItemAction::Change, "1:42"))[0];
        let copy = last_before(&with_op(c, server("1:42")), change);
        out.push(("attendee-as-organizer", vec![copy, change], "1:42".into()));
        // 11: the later update of 1:43 is older than the first.
        let updates = with_op(c, server("1:43"));
        out.push((
            "meeting-update-stale",
            vec![updates[0], *updates.last().unwrap()],
            "1:43".into(),
        ));
        if name.contains("-iphone.") {
            // EAS 16.1: one occurrence of 1:41 changed without InstanceId.
            let change = with_op(c, client(ItemAction::Change, "1:41"));
            out.push(("meeting-update-stale", change, "1:41".into()));
        }
        // 12: the monthly series on day 31.
        out.push((
            "recurrence-day-29-31",
            vec![with_op(c, server("1:40"))[0]],
            "1:40".into(),
        ));
        // 14: every MeetingResponse is the same one.
        let responses: Vec<u32> = c
            .sessions
            .iter()
            .filter(|s| s.eas.as_ref().and_then(|e| e.command) == Some(Command::MeetingResponse))
            .map(|s| s.index)
            .collect();
        assert!(responses.len() >= 3);
        out.push(("meeting-response-loop", responses, "5:60".into()));
    }
    if name.starts_with("item-failures-") {
        // 13: the device adds a contact the server sent as 3:10.
        let sent = with_op(c, server("3:10"))[0];
        let added = with_op(c, |o| {
            o.side == Side::Request && o.action == ItemAction::Add && o.class == Some("Contacts")
        });
        let mut evidence = vec![sent];
        evidence.extend(added);
        out.push(("duplicate-contacts", evidence, "3:10".into()));
        // 15: the truncated bodies of 5:70 and 5:71, and their failing fetches.
        for id in ["5:70", "5:71"] {
            let mut evidence = vec![with_op(c, server(id))[0]];
            evidence.extend(with_op(c, client(ItemAction::ItemOperationsFetch, id)));
            out.push(("body-not-downloaded", evidence, id.to_string()));
        }
        // 16: every Sync that answered the Change of 5:72 with Status 6.
        let failing = with_op(c, |o| {
            o.reply && o.action == ItemAction::Change && o.server_id == Some("5:72") && o.status == Some(6)
        });
        assert!(failing.len() >= 2);
        out.push(("item-sync-failure", failing, "5:72".into()));
    }
    out.sort();
    out
}

#[test]
fn each_sample_raises_exactly_its_item_level_findings() {
    let dir = common::sample_path("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| (n.ends_with(".saz") && !n.contains("encrypted")) || n.ends_with(".har"))
        .collect();
    names.sort();
    let mut raised = 0;
    for name in &names {
        let c = common::open_sample(name);
        let got = item_findings(&c);
        let want = expected(name, &c);
        assert_eq!(got, want, "{name}");
        raised += got.len();
        println!("{name}: {} item-level finding(s)", got.len());
    }
    for stem in ["calendar-failures", "item-failures", "item-near-misses"] {
        for device in ["iphone", "android"] {
            assert!(
                names.contains(&format!("{stem}-{device}.saz")),
                "{stem}-{device}.saz is bundled"
            );
        }
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("item-failures-") && n.ends_with(".har"))
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("item-near-misses-") && n.ends_with(".har"))
    );
    assert!(raised > 0);
}

/// With the sample's mailbox log, the item-level findings name the exceptions Exchange logged
/// for their sessions, each once with its sessions.
#[test]
fn with_the_mailbox_log_the_item_findings_name_the_logged_exceptions() {
    let cases = [
        (
            "calendar-failures-iphone",
            "meeting-response-loop",
            "MeetingResponseCommand_OnExecute_Exception",
        ),
        (
            "item-failures-android",
            "item-sync-failure",
            "SyncCommand_GenerateResponsesXmlNode_AddChange_ConvertServerToClientObject_Exception",
        ),
    ];
    for (stem, rule, exception) in cases {
        let saz = common::sample_path(&format!("{stem}.saz"));
        let log = common::sample_path(&format!("{stem}.mailbox-log.txt"));
        let findings = common::easlens_json_array(&[
            "findings",
            saz.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--json",
        ]);
        let f = findings
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{stem}: no {rule}"));
        let message = f["message"].as_str().unwrap();
        assert_eq!(message.matches(exception).count(), 1, "{stem}: {message}");
        assert!(message.contains("Exchange's log shows"), "{message}");
        // Without the log, the finding is the same but says nothing of it.
        let alone = common::easlens_json_array(&["findings", saz.to_str().unwrap(), "--json"]);
        let g = alone.iter().find(|f| f["rule"] == rule).unwrap();
        assert!(!g["message"].as_str().unwrap().contains(exception));
        assert_eq!(f["sessions"], g["sessions"]);
        assert_eq!(f["item"], g["item"]);
    }
}
