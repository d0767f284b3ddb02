//! Item history on the generated samples: the calendar meeting's whole life in order, what each
//! Change changed, ClientId → ServerId and UID links, the final expected state, MoveItems and
//! MeetingResponse in a hand-made capture, and folder names from FolderSync.

mod common;

use easlens_core::analysis::folders::FolderNames;
use easlens_core::analysis::history::{self, Direction, Expected, HistoryEvent, HistoryIndex, IdKind};
use easlens_core::capture::{self, Capture, OpenOptions};
use easlens_core::eas::items::ItemAction;
use easlens_core::writers::Exchange;
use easlens_core::writers::saz::{SazOptions, write_saz_file};

fn history_of(c: &Capture, id: &str) -> Vec<HistoryEvent> {
    HistoryIndex::build(c).history(c, id)
}

/// (session, direction, action, ServerId) of each event.
fn steps(events: &[HistoryEvent]) -> Vec<(u32, Direction, ItemAction, Option<&str>)> {
    events
        .iter()
        .map(|e| (e.session, e.direction, e.action, e.server_id.as_deref()))
        .collect()
}

use Direction::{Client, Server};
use ItemAction::{Add, Change, Delete};

#[test]
fn calendar_meeting_history_is_complete_and_in_order() {
    let c = common::open_sample("calendar-lifecycle-iphone.saz");
    let events = history_of(&c, "1:25");
    // The invitation (Inbox 5:31) and the calendar item (1:25) arrive together; the device changes
    // the reminder; the organizer moves the meeting (update 5:32 + Change); then cancels it
    // (cancellation 5:33 + Delete). The messages share the meeting's UID (their GlobalObjId).
    assert_eq!(
        steps(&events),
        [
            (2, Server, Add, Some("5:31")),
            (2, Server, Add, Some("1:25")),
            (3, Client, Change, Some("1:25")),
            (6, Server, Add, Some("5:32")),
            (6, Server, Change, Some("1:25")),
            (8, Server, Add, Some("5:33")),
            (8, Server, Delete, Some("1:25")),
        ]
    );
    let uid = events[1].uid.clone().expect("the server's Add carries the UID");
    assert!(uid.starts_with("040000008200E00074C5B7101A82E008"), "{uid}");
    for e in events.iter().filter(|e| e.action == Add) {
        assert_eq!(e.uid.as_ref(), Some(&uid), "session {}", e.session);
    }
    assert!(events.windows(2).all(|w| w[0].time <= w[1].time), "in time order");
    assert_eq!(events[2].status, Some(1), "the device's Change was accepted");
    assert_eq!(events[2].status_name, Some("Success"));
    assert_eq!(events[1].class.as_deref(), Some("Calendar"));
    assert_eq!(events[0].class.as_deref(), Some("Email"));
    assert_eq!(
        events[4].subject.as_deref(),
        Some("Quarterly planning review (moved to Thursday)")
    );
    // The UID itself finds the same history.
    assert_eq!(history_of(&c, &uid), events);
}

#[test]
fn android_deletes_the_meeting_itself() {
    let c = common::open_sample("calendar-lifecycle-android.saz");
    let events = history_of(&c, "1:25");
    assert_eq!(
        steps(&events),
        [
            (2, Server, Add, Some("5:31")),
            (2, Server, Add, Some("1:25")),
            (3, Client, Change, Some("1:25")),
            (6, Server, Add, Some("5:32")),
            (6, Server, Change, Some("1:25")),
            (7, Client, Delete, Some("1:25")),
        ]
    );
    let states = history::final_states(&events, &FolderNames::build(&c));
    let item = states.iter().find(|s| s.item == "1:25").unwrap();
    assert_eq!(item.expected, Expected::Gone);
    assert_eq!(
        item.explanation,
        "Deleted by the device in session #7 (collection 1): after Delete the item should be gone from the device."
    );
}

#[test]
fn each_change_lists_the_fields_that_differ() {
    let c = common::open_sample("calendar-lifecycle-iphone.saz");
    let events = history_of(&c, "1:25");
    let changes = history::changed_fields(&c, &events).unwrap();
    assert_eq!(changes.len(), events.len());
    // The device changed only the reminder (it does not send the UID or server-only fields).
    let device: Vec<(&str, Option<&str>, Option<&str>)> = changes[2]
        .iter()
        .map(|f| (f.path.as_str(), f.old.as_deref(), f.new.as_deref()))
        .collect();
    assert_eq!(device, [("Reminder", Some("15"), Some("30"))]);
    // The organizer moved the meeting to Thursday and renamed it.
    let server: Vec<&str> = changes[4].iter().map(|f| f.path.as_str()).collect();
    assert_eq!(server, ["DtStamp", "StartTime", "Subject", "EndTime"]);
    let start = &changes[4][1];
    assert_eq!(
        (start.old.as_deref(), start.new.as_deref()),
        (Some("20240313T130000Z"), Some("20240314T140000Z"))
    );
    assert!(
        changes
            .iter()
            .enumerate()
            .all(|(i, c)| c.is_empty() || events[i].action == Change)
    );
}

#[test]
fn a_client_add_is_found_by_its_client_id_and_by_its_server_id() {
    let c = common::open_sample("calendar-lifecycle-iphone.saz");
    let by_server = history_of(&c, "1:26");
    assert_eq!(
        steps(&by_server),
        [(4, Client, Add, None), (4, Server, Add, Some("1:26"))]
    );
    let client_id = by_server[0].client_id.clone().unwrap();
    assert!(by_server[1].reply);
    assert_eq!(by_server[1].client_id.as_ref(), Some(&client_id));
    assert_eq!(history_of(&c, &client_id), by_server);
    assert_eq!(by_server[0].subject.as_deref(), Some("Dentist"));

    let states = history::final_states(&by_server, &FolderNames::build(&c));
    assert_eq!(states.len(), 1, "one item: the ClientId became ServerId 1:26");
    assert_eq!(states[0].item, "1:26");
    assert_eq!(states[0].expected, Expected::Present);
    assert!(
        states[0]
            .explanation
            .contains("accepted by the server as ServerId 1:26")
            && states[0].explanation.contains("after Add the item should be there"),
        "{}",
        states[0].explanation
    );
}

#[test]
fn final_state_of_every_item_of_the_meeting() {
    let c = common::open_sample("calendar-lifecycle-iphone.saz");
    let events = history_of(&c, "1:25");
    let states = history::final_states(&events, &FolderNames::build(&c));
    let summary: Vec<(&str, Expected)> = states.iter().map(|s| (s.item.as_str(), s.expected)).collect();
    assert_eq!(
        summary,
        [
            ("5:31", Expected::Present),
            ("1:25", Expected::Gone),
            ("5:32", Expected::Present),
            ("5:33", Expected::Present),
        ]
    );
    assert_eq!(
        states[1].explanation,
        "Deleted by the server in session #8 (collection 1): after Delete the item should be gone from the device."
    );
    assert_eq!(states[1].event, 6);
    // Up to the server's Change, the meeting should be there, updated.
    let before_delete = history::final_states(&events[..5], &FolderNames::build(&c));
    assert_eq!(before_delete[1].expected, Expected::Updated);
    assert!(
        before_delete[1]
            .explanation
            .contains("after Change the item should be on the device, updated")
    );
}

#[test]
fn unknown_ids_have_no_history_and_prefixes_find_ids() {
    let c = common::open_sample("calendar-lifecycle-iphone.saz");
    let index = HistoryIndex::build(&c);
    assert!(index.history(&c, "1:99").is_empty());
    assert!(index.history(&c, "").is_empty());
    // "1:2" is a prefix, not an id.
    assert!(index.history(&c, "1:2").is_empty());
    let found = index.find_ids(&c, "1:2", 10);
    let ids: Vec<(&str, IdKind, usize)> = found.iter().map(|m| (m.id.as_str(), m.kind, m.operations)).collect();
    assert_eq!(ids, [("1:25", IdKind::ServerId, 4), ("1:26", IdKind::ServerId, 1)]);
    assert_eq!(found[1].subject, None, "the reply has no subject");
    assert_eq!(found[0].subject.as_deref(), Some("Quarterly planning review"));
}

#[test]
fn folder_names_come_from_folder_sync() {
    let c = common::open_sample("healthy-iphone.saz");
    let names = FolderNames::build(&c);
    assert_eq!(names.len(), 12);
    assert_eq!(names.name("1"), Some("Calendar"));
    assert_eq!(names.name("5"), Some("Inbox"));
    assert_eq!(names.folder("11").unwrap().parent_id.as_deref(), Some("5"));
    assert_eq!(names.label("11"), "11 (Projects)");
    assert_eq!(names.label("99"), "99");
    assert_eq!(
        easlens_core::analysis::folders::folder_type_name(names.folder("1").unwrap().folder_type.unwrap()),
        Some("Calendar")
    );
    // The attachment fetched with ItemOperations is found by its FileReference.
    let events = history_of(&c, "5%3a6%3a0");
    assert_eq!(
        events.iter().map(|e| (e.action, e.reply, e.status)).collect::<Vec<_>>(),
        [
            (ItemAction::ItemOperationsFetch, false, Some(1)),
            (ItemAction::ItemOperationsFetch, true, Some(1))
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// A hand-made capture: MoveItems, MeetingResponse and a failing Change
// ---------------------------------------------------------------------------------------------

fn exchange(sid: u64, second: u32, command: &str, request_xml: &str, response_xml: &str) -> Exchange {
    let message = |head: String, xml: &str| {
        let body = easlens_core::wbxml::encode(&easlens_core::wbxml::from_xml(xml).unwrap());
        let mut m = format!(
            "{head}\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        m.extend_from_slice(&body);
        m
    };
    let request_line = format!(
        "POST /Microsoft-Server-ActiveSync?Cmd={command}&User=jdoe&DeviceId=HISTORYTEST01&DeviceType=iPhone HTTP/1.1\r\nHost: mail.example.com\r\nMS-ASProtocolVersion: 16.1"
    );
    Exchange {
        sid,
        started: chrono::DateTime::parse_from_rfc3339(&format!("2024-05-02T10:00:{second:02}+02:00")).unwrap(),
        duration_ms: 300,
        client_ip: "10.0.0.2".into(),
        server_ip: "10.0.0.1".into(),
        request: message(request_line, request_xml),
        response: Some(message("HTTP/1.1 200 OK".into(), response_xml)),
        aborted: false,
        generated_by_proxy: false,
        comment: None,
        ..Default::default()
    }
}

fn hand_made() -> Capture {
    let sync = |key: u32, commands: &str, responses: &str| {
        (
            format!(
                r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{key}</SyncKey><CollectionId>11</CollectionId>{commands}</Collection></Collections></Sync>"#
            ),
            format!(
                r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{}</SyncKey><CollectionId>11</CollectionId><Status>1</Status>{responses}</Collection></Collections></Sync>"#,
                key + 1
            ),
        )
    };
    let inbox_add = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>2</SyncKey><CollectionId>5</CollectionId><Status>1</Status><Commands><Add><ServerId>5:7</ServerId><ApplicationData><Subject xmlns="Email:">Invoice 4471</Subject><Read xmlns="Email:">0</Read></ApplicationData></Add></Commands></Collection></Collections></Sync>"#;
    let (change_req, change_resp) = sync(
        4,
        r#"<Commands><Change><ServerId>11:1</ServerId><ApplicationData><Read xmlns="Email:">1</Read></ApplicationData></Change></Commands>"#,
        r#"<Responses><Change><ServerId>11:1</ServerId><Status>8</Status></Change></Responses>"#,
    );
    let exchanges = [
        exchange(
            1,
            1,
            "FolderSync",
            r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>"#,
            r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>1</SyncKey><Changes><Count>2</Count><Add><ServerId>5</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName><Type>2</Type></Add><Add><ServerId>11</ServerId><ParentId>5</ParentId><DisplayName>Projects</DisplayName><Type>12</Type></Add></Changes></FolderSync>"#,
        ),
        exchange(
            2,
            2,
            "Sync",
            r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><GetChanges/></Collection></Collections></Sync>"#,
            inbox_add,
        ),
        exchange(
            3,
            3,
            "MoveItems",
            r#"<MoveItems xmlns="Move:"><Move><SrcMsgId>5:7</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>11</DstFldId></Move></MoveItems>"#,
            r#"<MoveItems xmlns="Move:"><Response><SrcMsgId>5:7</SrcMsgId><Status>3</Status><DstMsgId>11:1</DstMsgId></Response></MoveItems>"#,
        ),
        exchange(4, 4, "Sync", &change_req, &change_resp),
        exchange(
            5,
            5,
            "MeetingResponse",
            r#"<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>3</UserResponse><CollectionId>11</CollectionId><RequestId>11:1</RequestId></Request></MeetingResponse>"#,
            r#"<MeetingResponse xmlns="MeetingResponse:"><Result><RequestId>11:1</RequestId><Status>2</Status></Result></MeetingResponse>"#,
        ),
    ];
    let path = std::env::temp_dir().join(format!("easlens-history-{}.saz", std::process::id()));
    write_saz_file(&path, &exchanges, &SazOptions::default()).unwrap();
    let c = capture::open(&path, &OpenOptions::default()).unwrap();
    let _ = std::fs::remove_file(&path);
    c
}

#[test]
fn a_move_is_followed_to_the_new_server_id() {
    let c = hand_made();
    let events = history_of(&c, "5:7");
    assert_eq!(history_of(&c, "11:1"), events, "the DstMsgId leads to the same history");
    type Seen<'a> = (u32, Direction, ItemAction, bool, Option<&'a str>, Option<u32>);
    let seen: Vec<Seen<'_>> = events
        .iter()
        .map(|e| {
            (
                e.session,
                e.direction,
                e.action,
                e.reply,
                e.server_id.as_deref(),
                e.status,
            )
        })
        .collect();
    use ItemAction::{MeetingResponse, Move};
    assert_eq!(
        seen,
        [
            (2, Server, Add, false, Some("5:7"), None),
            (3, Client, Move, false, Some("5:7"), Some(3)),
            (3, Server, Move, true, Some("5:7"), Some(3)),
            (4, Client, Change, false, Some("11:1"), Some(8)),
            (4, Server, Change, true, Some("11:1"), Some(8)),
            (5, Client, MeetingResponse, false, Some("11:1"), Some(2)),
            (5, Server, MeetingResponse, true, Some("11:1"), Some(2)),
        ]
    );
    assert_eq!(events[2].dst_server_id.as_deref(), Some("11:1"));
    assert_eq!(events[1].dst_collection_id.as_deref(), Some("11"));
    assert_eq!(events[1].status_name, Some("Success"), "MoveItems success is 3");
    assert_eq!(events[3].status_name, Some("ObjectNotFound"));
    assert_eq!(events[5].subject.as_deref(), Some("declined"));

    let states = history::final_states(&events, &FolderNames::build(&c));
    let summary: Vec<(&str, Expected)> = states.iter().map(|s| (s.item.as_str(), s.expected)).collect();
    assert_eq!(summary, [("5:7", Expected::Gone), ("11:1", Expected::Present)]);
    assert_eq!(
        states[0].explanation,
        "Moved by the device in session #3 (collection 5 (Inbox)) to collection 11 (Projects) as ServerId 11:1: \
         it should be gone from 5 (Inbox) and be in the destination."
    );
    assert!(
        states[1].explanation.starts_with(
            "The last operation, MeetingResponse by the device in session #5 (collection 11 (Projects)), failed \
             (Status 2 (InvalidMeetingRequest)): it did not take effect. Before it: The last operation, Change by \
             the device in session #4 (collection 11 (Projects)), failed (Status 8 (ObjectNotFound)): it did not \
             take effect. Before it: Moved here by the device in session #3"
        ),
        "{}",
        states[1].explanation
    );
    assert_eq!(
        states[1].expected,
        Expected::Present,
        "failures leave the state as it was"
    );

    // The failed Change is still compared with the item as the server sent it (Read 0 → 1),
    // across the move.
    let changes = history::changed_fields(&c, &events).unwrap();
    assert_eq!(changes[3].len(), 1);
    assert_eq!(
        (
            changes[3][0].path.as_str(),
            changes[3][0].old.as_deref(),
            changes[3][0].new.as_deref()
        ),
        ("Read", Some("0"), Some("1"))
    );
}

#[test]
fn items_are_found_by_their_subject_and_named_by_folder_and_kind() {
    let c = common::open_sample("calendar-lifecycle-iphone.saz");
    let index = HistoryIndex::build(&c);
    // The device's Add has only a ClientId; the item is named by the ServerId the server gave it.
    let found = index.find_items(&c, "dENTist", 10);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].id.as_str(), found[0].kind), ("1:26", IdKind::ServerId));
    assert_eq!(found[0].subject.as_deref(), Some("Dentist"));
    assert_eq!(found[0].collection_id.as_deref(), Some("1"));
    assert_eq!(found[0].item_kind, Some("Calendar"));
    assert!(!index.history(&c, &found[0].id).is_empty());
    // The meeting is a calendar item and, in the Inbox, an invitation.
    let planning = index.find_items(&c, "quarterly planning", 10);
    let kinds: Vec<(Option<&str>, Option<&str>)> = planning
        .iter()
        .map(|m| (m.item_kind, m.collection_id.as_deref()))
        .collect();
    assert!(kinds.contains(&(Some("Calendar"), Some("1"))), "{kinds:?}");
    assert!(kinds.contains(&(Some("invitation"), Some("5"))), "{kinds:?}");
    assert!(index.find_items(&c, "no such subject", 10).is_empty());
    assert!(index.find_items(&c, "  ", 10).is_empty());
}

#[test]
fn item_kinds_name_invitations() {
    assert_eq!(
        history::item_kind(Some("Email"), Some("040000008200E0")),
        Some("invitation")
    );
    assert_eq!(history::item_kind(Some("Email"), None), Some("Email"));
    assert_eq!(history::item_kind(Some("Calendar"), Some("UID-1")), Some("Calendar"));
    assert_eq!(history::item_kind(Some("Contacts"), None), Some("Contacts"));
    assert_eq!(history::item_kind(None, None), None);
}

#[test]
fn item_places_name_the_folder_from_folder_sync() {
    let c = common::open_sample("healthy-iphone.saz");
    let names = FolderNames::build(&c);
    let place = |kind, folder| history::item_place(kind, folder, Some(&names));
    assert_eq!(
        place(Some("invitation"), Some("5")).as_deref(),
        Some("invitation in 5 (Inbox)")
    );
    assert_eq!(place(Some("Calendar"), None).as_deref(), Some("Calendar"));
    assert_eq!(place(None, Some("1")).as_deref(), Some("in 1 (Calendar)"));
    assert_eq!(place(None, None), None);
    assert_eq!(
        history::item_place(Some("Email"), Some("5"), None).as_deref(),
        Some("Email in 5")
    );
}
