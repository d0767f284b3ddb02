//! Status values at their own level ([MS-ASCMD] 2.2.3.177): the command's Status decides whether
//! the command succeeded; a Status of one item, operation or result is reported at that level with
//! its own meaning, and an informational one (a GAL contact without a photo) raises nothing.
//! Also the session notes for malformed ConversationId/ConversationIndex values, and the SyncKey
//! chain of a Sync that had no changes.

mod common;

use common::Temp;
use easlens_core::analysis::findings::{Findings, Severity};
use easlens_core::analysis::synckey::{Mark, SyncKeyChains};
use easlens_core::capture::{self, Capture, OpenOptions, Session};
use easlens_core::eas::session::{EasSummary, Highlight, StatusEntry};
use easlens_core::eas::status::{Level, Verdict};
use easlens_core::http::Side;
use easlens_core::overview::worst_status;
use easlens_core::wbxml::{encode, from_xml};
use easlens_core::writers::Exchange;
use easlens_core::writers::saz::{SazOptions, write_saz_file};

fn http(head: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "{head}\r\nHost: mail.example.com\r\nMS-ASProtocolVersion: 16.1\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

fn wbxml(xml: &str) -> Vec<u8> {
    if xml.is_empty() {
        return Vec::new();
    }
    encode(&from_xml(xml).unwrap_or_else(|e| panic!("test XML: {e}\n{xml}")))
}

/// A `command` session whose bodies are the WBXML of `request` and `response` (empty: no body).
fn exchange(sid: u64, command: &str, request: &str, response: &str) -> Exchange {
    let target = format!(
        "POST https://mail.example.com/Microsoft-Server-ActiveSync?Cmd={command}&User=jdoe&DeviceId=DEV1&DeviceType=iPhone HTTP/1.1"
    );
    common::exchange(
        sid,
        http(&target, &wbxml(request)),
        Some(http("HTTP/1.1 200 OK", &wbxml(response))),
    )
}

fn open(sessions: &[Exchange]) -> Capture {
    let t = Temp::new("status-levels", "levels.saz");
    write_saz_file(t.path(), sessions, &SazOptions::default()).unwrap();
    capture::open(t.path(), &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn eas(s: &Session) -> &EasSummary {
    s.eas.as_ref().expect("an ActiveSync session")
}

fn response_status<'a>(s: &'a Session, path_end: &str) -> &'a StatusEntry {
    eas(s)
        .statuses
        .iter()
        .find(|e| e.side == Side::Response && e.path.ends_with(path_end))
        .unwrap_or_else(|| panic!("no Status at …{path_end}: {:#?}", eas(s).statuses))
}

fn status_findings(c: &Capture) -> Vec<(Severity, String)> {
    Findings::build(c)
        .findings
        .into_iter()
        .filter(|f| f.rule == "status-error")
        .map(|f| (f.severity, f.message))
        .collect()
}

const SEARCH_REQUEST: &str = r#"<Search xmlns="Search:"><Store><Name>GAL</Name><Query>smith</Query><Options><Range>0-9</Range><Picture><MaxSize>4096</MaxSize></Picture></Options></Store></Search>"#;

#[test]
fn a_gal_search_with_contacts_without_photos_succeeded() {
    // [MS-ASCMD] 2.2.3.177.13: Status 173 under gal:Picture, "the user does not have a contact
    // photo", on a Search whose own Status and Store Status are 1.
    let response = r#"<Search xmlns="Search:"><Status>1</Status><Response><Store><Status>1</Status><Result><Properties><DisplayName xmlns="GAL:">Ann Smith</DisplayName><Picture xmlns="GAL:"><Status>173</Status></Picture></Properties></Result><Result><Properties><DisplayName xmlns="GAL:">Bob Smith</DisplayName><Picture xmlns="GAL:"><Status>1</Status><Data>AAEC</Data></Picture></Properties></Result><Range>0-1</Range><Total>2</Total></Store></Response></Search>"#;
    let c = open(&[exchange(1, "Search", SEARCH_REQUEST, response)]);
    let s = &c.sessions[0];
    let pic = response_status(s, "Picture/Status");
    assert_eq!(
        (pic.value, pic.verdict, pic.level, pic.name),
        (Some(173), Verdict::Info, Level::Item, Some("NoPicture"))
    );
    let store = response_status(s, "Store/Status");
    assert_eq!((store.verdict, store.level), (Verdict::Success, Level::Command));
    let top = response_status(s, "Search/Status");
    assert_eq!((top.verdict, top.level), (Verdict::Success, Level::Command));
    assert!(
        !eas(s).highlights.contains(&Highlight::Status),
        "{:?}",
        eas(s).highlights
    );
    assert_eq!(worst_status(s).map(|e| e.path.as_str()), Some("Search/Status"));
    assert_eq!(status_findings(&c), []);
}

#[test]
fn sync_operations_are_answered_at_the_item_level() {
    let request = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>10</SyncKey><CollectionId>5</CollectionId><Commands><Add><ClientId>c1</ClientId><ApplicationData><Subject xmlns="Email:">new</Subject></ApplicationData></Add><Change><ServerId>5:1</ServerId><ApplicationData><Read xmlns="Email:">1</Read></ApplicationData></Change><Fetch><ServerId>5:2</ServerId></Fetch></Commands></Collection></Collections></Sync>"#;
    let ok = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>11</SyncKey><CollectionId>5</CollectionId><Status>1</Status><Responses><Add><ClientId>c1</ClientId><ServerId>5:3</ServerId><Status>1</Status></Add><Change><ServerId>5:1</ServerId><Status>1</Status></Change><Fetch><ServerId>5:2</ServerId><Status>1</Status><ApplicationData><Subject xmlns="Email:">old</Subject></ApplicationData></Fetch></Responses></Collection></Collections></Sync>"#;
    let conflict = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>12</SyncKey><CollectionId>5</CollectionId><Status>1</Status><Responses><Change><ServerId>5:1</ServerId><Status>7</Status></Change><Fetch><ServerId>5:2</ServerId><Status>8</Status></Fetch></Responses></Collection></Collections></Sync>"#;
    let c = open(&[
        exchange(1, "Sync", request, ok),
        exchange(2, "Sync", &request.replace(">10<", ">11<"), conflict),
    ]);
    let s = &c.sessions[0];
    for op in ["Add", "Change", "Fetch"] {
        let e = response_status(s, &format!("Responses/{op}/Status"));
        assert_eq!(
            (e.verdict, e.level, e.name),
            (Verdict::Success, Level::Item, Some("Success")),
            "{op}"
        );
    }
    let collection = response_status(s, "Collection/Status");
    assert_eq!(
        (collection.verdict, collection.level),
        (Verdict::Success, Level::Command)
    );
    assert!(eas(s).highlights.is_empty());

    // Failing operations inside a successful collection: reported as the items' failures, with
    // their own meaning, not as the command's.
    let s = &c.sessions[1];
    let change = response_status(s, "Change/Status");
    assert_eq!(
        (change.verdict, change.level, change.name),
        (Verdict::Failure, Level::Item, Some("Conflict"))
    );
    let fetch = response_status(s, "Fetch/Status");
    assert_eq!((fetch.level, fetch.name), (Level::Item, Some("ObjectNotFound")));
    assert_eq!(
        worst_status(s).map(|e| e.path.as_str()),
        Some("Sync/Collections/Collection/Responses/Change/Status")
    );
    let found = status_findings(&c);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, Severity::Warning);
    assert!(
        found[0].1.starts_with("1 × Sync Fetch Status 8 ObjectNotFound"),
        "{found:#?}"
    );
    assert_eq!(found[1].0, Severity::Info);
    assert!(
        found[1].1.starts_with("1 × Sync Change Status 7 Conflict"),
        "{found:#?}"
    );
    // The collection went on: its key chain follows the new keys without a failure mark.
    let chains = SyncKeyChains::build(&c);
    let chain = chains.chain("DEV1", "5").unwrap();
    assert!(chain.links.iter().all(|l| !l.has(Mark::Failed)), "{chain:#?}");
}

#[test]
fn ping_one_and_two_with_their_folders_succeed() {
    let request = r#"<Ping xmlns="Ping:"><HeartbeatInterval>900</HeartbeatInterval><Folders><Folder><Id>5</Id><Class>Email</Class></Folder><Folder><Id>7</Id><Class>Calendar</Class></Folder></Folders></Ping>"#;
    let changes =
        r#"<Ping xmlns="Ping:"><Status>2</Status><Folders><Folder>5</Folder><Folder>7</Folder></Folders></Ping>"#;
    let expired = r#"<Ping xmlns="Ping:"><Status>1</Status></Ping>"#;
    let c = open(&[
        exchange(1, "Ping", request, changes),
        exchange(2, "Ping", request, expired),
    ]);
    for (s, value) in c.sessions.iter().zip([2, 1]) {
        let e = response_status(s, "Ping/Status");
        assert_eq!(
            (e.value, e.verdict, e.level),
            (Some(value), Verdict::Success, Level::Command)
        );
        assert!(eas(s).highlights.is_empty(), "{:?}", eas(s).highlights);
        assert_eq!(eas(s).collection_ids, ["5", "7"]);
    }
    assert_eq!(status_findings(&c), []);
}

#[test]
fn provision_policy_status_is_the_policys() {
    let request = r#"<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>"#;
    let policy = |status: u32| {
        format!(
            r#"<Provision xmlns="Provision:"><Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>{status}</Status><PolicyKey>1307199584</PolicyKey></Policy></Policies></Provision>"#
        )
    };
    let c = open(&[
        exchange(1, "Provision", request, &policy(1)),
        exchange(2, "Provision", request, &policy(2)),
        exchange(3, "Provision", request, &policy(5)),
    ]);
    let expect = [
        (Verdict::Success, "Success"),
        (Verdict::Info, "NoPolicy"),
        (Verdict::Failure, "WrongPolicyKey"),
    ];
    for (s, (verdict, name)) in c.sessions.iter().zip(expect) {
        let top = response_status(s, "Provision/Status");
        assert_eq!((top.verdict, top.level), (Verdict::Success, Level::Command));
        let p = response_status(s, "Policy/Status");
        assert_eq!((p.verdict, p.level, p.name), (verdict, Level::Item, Some(name)));
    }
    assert!(!eas(&c.sessions[1]).highlights.contains(&Highlight::Status));
    // Only the wrong policy key is reported, as the policy's failure (a warning, not an error).
    let found = status_findings(&c);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, Severity::Warning);
    assert!(
        found[0].1.starts_with("1 × Provision Policy Status 5 WrongPolicyKey"),
        "{found:#?}"
    );
}

#[test]
fn malformed_conversation_ids_are_noted() {
    let request = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>10</SyncKey><CollectionId>5</CollectionId></Collection></Collections></Sync>"#;
    let add = |id: &str, index: &str| {
        format!(
            r#"<Add><ServerId>5:1</ServerId><ApplicationData><Subject xmlns="Email:">s</Subject>{id}{index}</ApplicationData></Add>"#
        )
    };
    let response = |adds: &str| {
        format!(
            r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>11</SyncKey><CollectionId>5</CollectionId><Status>1</Status><Commands>{adds}</Commands></Collection></Collections></Sync>"#
        )
    };
    let good_id = r#"<ConversationId xmlns="Email2:" encoding="hex">A9A57BDA90934B4CAE83B1A1AFDDEAD5</ConversationId>"#;
    // A 5-byte header and one reply.
    let good_index = r#"<ConversationIndex xmlns="Email2:" encoding="hex">01D3A1B2C30044556677</ConversationIndex>"#;
    let text_id = r#"<ConversationId xmlns="Email2:">ABCDEFGH</ConversationId>"#;
    let short_id = r#"<ConversationId xmlns="Email2:" encoding="hex">A9A57BDA</ConversationId>"#;
    let odd_index = r#"<ConversationIndex xmlns="Email2:" encoding="hex">01D3A1B2C300</ConversationIndex>"#;
    let c = open(&[
        exchange(1, "Sync", request, &response(&add(good_id, good_index))),
        exchange(
            2,
            "Sync",
            request,
            &response(
                &[
                    add(text_id, good_index),
                    add(text_id, odd_index),
                    add(short_id, good_index),
                ]
                .concat(),
            ),
        ),
    ]);
    assert_eq!(eas(&c.sessions[0]).notes, Vec::<String>::new());
    let notes = &eas(&c.sessions[1]).notes;
    assert_eq!(notes.len(), 3, "{notes:#?}");
    assert!(
        notes[0].starts_with(
            "response body: ConversationId is a string of 8 bytes (\"ABCDEFGH\"), not an opaque byte array of 16 bytes"
        ) && notes[0].ends_with("(2 elements); shown as sent"),
        "{notes:#?}"
    );
    assert!(
        notes[1].contains("ConversationIndex is 6 bytes of opaque data") && notes[1].contains("[MS-ASCON] 2.2.2.4"),
        "{notes:#?}"
    );
    assert!(
        notes[2].contains("ConversationId is 4 bytes of opaque data"),
        "{notes:#?}"
    );
}

#[test]
fn a_sync_without_changes_keeps_its_key() {
    let request = |key: u32| {
        format!(
            r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{key}</SyncKey><CollectionId>5</CollectionId></Collection></Collections></Sync>"#
        )
    };
    let response = |key: u32| {
        format!(
            r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{key}</SyncKey><CollectionId>5</CollectionId><Status>1</Status></Collection></Collections></Sync>"#
        )
    };
    let c = open(&[
        exchange(1, "Sync", &request(0), &response(1)),
        exchange(2, "Sync", &request(1), &response(2)),
        // No changes: HTTP 200 with an empty body.
        exchange(3, "Sync", &request(2), ""),
        exchange(4, "Sync", &request(2), &response(3)),
    ]);
    let chains = SyncKeyChains::build(&c);
    let chain = chains.chain("DEV1", "5").unwrap();
    let marks: Vec<Vec<Mark>> = chain.links.iter().map(|l| l.marks.clone()).collect();
    assert_eq!(marks, [vec![Mark::Initial], vec![], vec![Mark::KeyUnchanged], vec![]]);
    assert_eq!(chain.links[2].response_key, None);
    assert!(!chain.has_problem());
}
