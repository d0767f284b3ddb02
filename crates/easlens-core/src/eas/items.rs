//! The item and folder operations of one session, read from its decoded WBXML bodies while the
//! capture is indexed: Sync Add/Change/Delete/SoftDelete/Fetch from the client (request) and the
//! server (response `Commands`, and `Responses` with the ClientId → ServerId mapping and per-item
//! Status), ItemOperations Fetch/Move, MoveItems, MeetingResponse, SmartReply/SmartForward, and
//! FolderSync/FolderCreate/FolderUpdate/FolderDelete.
//!
//! Only ids, the status and a short label are kept — no item fields — and the ids of a session live
//! in one buffer, each operation's present ids one after the other, so that a 100,000-session
//! capture of email Adds stays small (16 bytes an operation and 2 a field beside the text). The fields of
//! an item are read again from the body when a history asks for them
//! (the item history in `analysis::history` builds on them).
//!
//! Elements are matched by the name constants of [`crate::wbxml::names`], generated from the code
//! pages (`wbxml-codepages/*.tsv`), so a misspelt element name fails the build.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeSeq;

use super::Command;
use crate::http::Side;
use crate::wbxml::names::{self, ns};
use crate::wbxml::render::{ContentForm, content_form};
use crate::wbxml::{Child, Document, Element};

/// What an operation does to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemAction {
    /// Sync Add ([MS-ASCMD] 2.2.3.7.2): a new item (client: with a ClientId; server reply: the
    /// ServerId it was given).
    Add,
    /// Sync Change (2.2.3.24).
    Change,
    /// Sync Delete (2.2.3.42.2).
    Delete,
    /// Sync SoftDelete (2.2.3.161): the item left the sync window; it is still on the server.
    SoftDelete,
    /// Sync Fetch (2.2.3.67.2).
    Fetch,
    /// ItemOperations Fetch (2.2.1.10): an item, a body or an attachment (FileReference).
    ItemOperationsFetch,
    /// ItemOperations Move (2.2.1.10): a whole conversation to another folder.
    ItemOperationsMove,
    /// MoveItems (2.2.1.12): SrcMsgId in SrcFldId → DstFldId, answered with the DstMsgId.
    Move,
    /// MeetingResponse (2.2.1.11): RequestId is the meeting request, CalendarId the calendar item.
    MeetingResponse,
    /// SmartReply (2.2.1.19) to the item in Source.
    SmartReply,
    /// SmartForward (2.2.1.18) of the item in Source.
    SmartForward,
}

impl ItemAction {
    /// The command that carries the operation.
    pub fn command(self) -> Command {
        match self {
            ItemAction::Add | ItemAction::Change | ItemAction::Delete | ItemAction::SoftDelete | ItemAction::Fetch => {
                Command::Sync
            }
            ItemAction::ItemOperationsFetch | ItemAction::ItemOperationsMove => Command::ItemOperations,
            ItemAction::Move => Command::MoveItems,
            ItemAction::MeetingResponse => Command::MeetingResponse,
            ItemAction::SmartReply => Command::SmartReply,
            ItemAction::SmartForward => Command::SmartForward,
        }
    }

    /// How a user names it: `Add`, `SoftDelete`, `ItemOperations Fetch`, `MoveItems`…
    pub fn label(self) -> &'static str {
        match self {
            ItemAction::Add => "Add",
            ItemAction::Change => "Change",
            ItemAction::Delete => "Delete",
            ItemAction::SoftDelete => "SoftDelete",
            ItemAction::Fetch => "Fetch",
            ItemAction::ItemOperationsFetch => "ItemOperations Fetch",
            ItemAction::ItemOperationsMove => "ItemOperations Move",
            ItemAction::Move => "MoveItems",
            ItemAction::MeetingResponse => "MeetingResponse",
            ItemAction::SmartReply => "SmartReply",
            ItemAction::SmartForward => "SmartForward",
        }
    }
}

impl fmt::Display for ItemAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The id-like fields of an operation, in storage order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    CollectionId,
    ServerId,
    ClientId,
    Uid,
    ConversationId,
    InstanceId,
    DstCollectionId,
    DstServerId,
    FileReference,
    Class,
    Subject,
}

impl Field {
    /// Every field, by its number.
    const ALL: [Field; 11] = [
        Field::CollectionId,
        Field::ServerId,
        Field::ClientId,
        Field::Uid,
        Field::ConversationId,
        Field::InstanceId,
        Field::DstCollectionId,
        Field::DstServerId,
        Field::FileReference,
        Field::Class,
        Field::Subject,
    ];
}

/// A LEB128 length and the bytes after it.
fn read_len(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut len = 0usize;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((len, &bytes[i + 1..]));
        }
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PackedOp {
    /// Where the operation's fields start in [`ItemOps::text`]; they end where the next one's start.
    start: u32,
    status: Option<u32>,
    side: Side,
    action: ItemAction,
    reply: bool,
}

/// One item operation, borrowed from a session's [`ItemOps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ItemOp<'a> {
    /// Request = sent by the client (device), Response = sent by the server.
    pub side: Side,
    pub action: ItemAction,
    /// The server's answer to a client operation (Sync `Responses`, the Result of MoveItems or
    /// MeetingResponse, the Response of ItemOperations), not a change the server makes itself.
    pub reply: bool,
    /// Server operations: the Status of the operation's own element. Client operations: the
    /// Status the server answered it with — the item's reply, else its Collection's, else the
    /// command's top-level Status; `None` when the response says nothing (or there is none).
    pub status: Option<u32>,
    pub collection_id: Option<&'a str>,
    pub server_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    /// calendar:UID; for a meeting request email, its email:GlobalObjId as upper-case hex — the
    /// form Exchange gives the calendar item's UID — so that the two can be followed together.
    pub uid: Option<&'a str>,
    /// email2:ConversationId as upper-case hex (as the mailbox log shows it).
    pub conversation_id: Option<&'a str>,
    /// airsyncbase:InstanceId or the meeting request's RecurrenceId: which occurrence.
    pub instance_id: Option<&'a str>,
    /// MoveItems DstFldId, ItemOperations Move DstFldId.
    pub dst_collection_id: Option<&'a str>,
    /// MoveItems DstMsgId (the item's new ServerId), MeetingResponse CalendarId.
    pub dst_server_id: Option<&'a str>,
    /// airsyncbase:FileReference of an attachment fetch.
    pub file_reference: Option<&'a str>,
    /// `Email`, `Calendar`, `Contacts`, `Tasks`, `Notes`, `SMS`: the Class element, else the
    /// namespace of the item's data.
    pub class: Option<&'a str>,
    /// A short label: Subject, or FileAs for a contact, or the answer of a MeetingResponse;
    /// at most [`SUBJECT_MAX`] bytes.
    pub subject: Option<&'a str>,
}

/// Longest label kept per operation (bytes, cut at a character boundary with `…`).
pub const SUBJECT_MAX: usize = 60;

/// The item operations of one session, in document order: the request's, then the response's.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ItemOps {
    /// The fields of every operation, one operation after the other, each field as its [`Field`]
    /// (one byte), its length (LEB128) and its UTF-8 text; an absent field is not there. Fields
    /// are only ever added to the newest operation, so each one's fields are contiguous.
    text: Vec<u8>,
    ops: Vec<PackedOp>,
}

impl fmt::Debug for ItemOps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for ItemOps {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for op in self.iter() {
            seq.serialize_element(&op)?;
        }
        seq.end()
    }
}

impl ItemOps {
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<ItemOp<'_>> {
        let op = self.ops.get(i)?;
        let mut fields: [Option<&str>; 11] = [None; 11];
        for (field, value) in self.fields(i) {
            fields[field as usize] = Some(value);
        }
        let s = |f: Field| fields[f as usize];
        Some(ItemOp {
            side: op.side,
            action: op.action,
            reply: op.reply,
            status: op.status,
            collection_id: s(Field::CollectionId),
            server_id: s(Field::ServerId),
            client_id: s(Field::ClientId),
            uid: s(Field::Uid),
            conversation_id: s(Field::ConversationId),
            instance_id: s(Field::InstanceId),
            dst_collection_id: s(Field::DstCollectionId),
            dst_server_id: s(Field::DstServerId),
            file_reference: s(Field::FileReference),
            class: s(Field::Class),
            subject: s(Field::Subject),
        })
    }

    /// The fields of operation `op` in the order they were set (a field set twice: the later wins).
    fn fields(&self, op: usize) -> impl Iterator<Item = (Field, &str)> {
        let start = self.ops.get(op).map_or(self.text.len(), |o| o.start as usize);
        let end = self.ops.get(op + 1).map_or(self.text.len(), |o| o.start as usize);
        let mut rest = self.text.get(start..end).unwrap_or_default();
        std::iter::from_fn(move || {
            let (&tag, after) = rest.split_first()?;
            let (len, after) = read_len(after)?;
            let (value, after) = after.split_at_checked(len)?;
            rest = after;
            let field = Field::ALL.get(usize::from(tag)).copied()?;
            Some((field, std::str::from_utf8(value).unwrap_or_default()))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = ItemOp<'_>> {
        (0..self.ops.len()).filter_map(|i| self.get(i))
    }

    fn push(&mut self, side: Side, action: ItemAction, reply: bool) -> usize {
        self.ops.push(PackedOp {
            start: u32::try_from(self.text.len()).unwrap_or(u32::MAX),
            status: None,
            side,
            action,
            reply,
        });
        self.ops.len() - 1
    }

    /// Sets a field of the newest operation (`op`); an empty value is no value.
    fn set(&mut self, op: usize, field: Field, value: Option<&str>) {
        debug_assert_eq!(op + 1, self.ops.len(), "fields are set on the newest operation only");
        let Some(v) = value.filter(|v| !v.is_empty()) else {
            return;
        };
        if op + 1 != self.ops.len() || self.text.len() + v.len() + 11 > u32::MAX as usize {
            return;
        }
        self.text.push(field as u8);
        let mut len = v.len();
        while len >= 0x80 {
            self.text.push((len & 0x7f) as u8 | 0x80);
            len >>= 7;
        }
        self.text.push(len as u8);
        self.text.extend_from_slice(v.as_bytes());
    }

    fn has(&self, op: usize, field: Field) -> bool {
        self.text_of(op, field).is_some()
    }

    fn text_of(&self, op: usize, field: Field) -> Option<&str> {
        self.fields(op).filter(|(f, _)| *f == field).last().map(|(_, v)| v)
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ops.shrink_to_fit();
    }
}

/// What a folder operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FolderAction {
    Add,
    Update,
    Delete,
}

/// A folder added, renamed/moved or deleted: a FolderSync response change ([MS-ASCMD] 2.2.1.5),
/// or a client FolderCreate/FolderUpdate/FolderDelete (2.2.1.3, .6, .4) with the server's Status
/// (and, for FolderCreate, the ServerId the server gave the new folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderOp {
    pub side: Side,
    pub action: FolderAction,
    pub server_id: Option<String>,
    pub parent_id: Option<String>,
    pub display_name: Option<String>,
    /// FolderHierarchy:Type (2 Inbox, 8 Calendar, 9 Contacts, 12 user mail folder, …).
    pub folder_type: Option<u32>,
    /// The FolderSync/FolderCreate/… Status, when the response has one.
    pub status: Option<u32>,
}

/// The value of an element as text: UTF-8 content as is, binary content as the renderer shows it
/// (upper-case hex for ConversationId/ConversationIndex, else base64).
pub fn element_value(e: Element<'_>) -> String {
    let (bytes, opaque) = e.data();
    match content_form(e.tag(), &bytes, opaque) {
        ContentForm::Text => String::from_utf8(bytes).unwrap_or_default(),
        ContentForm::Hex => hex::encode_upper(&bytes),
        ContentForm::Base64 => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        }
    }
}

fn value(parent: Element<'_>, name: &str) -> Option<String> {
    parent.child(name).map(element_value).map(|v| v.trim().to_string())
}

fn number(parent: Element<'_>, name: &str) -> Option<u32> {
    value(parent, name).and_then(|v| v.parse().ok())
}

/// The child elements of `parent`, by value (not tied to a borrow of `parent`).
fn child_elements<'d>(parent: Element<'d>) -> impl Iterator<Item = Element<'d>> {
    parent.children().filter_map(|c| match c {
        Child::Element(e) => Some(e),
        Child::Data { .. } => None,
    })
}

fn elements_named<'d>(parent: Element<'d>, name: &'static str) -> impl Iterator<Item = Element<'d>> {
    child_elements(parent).filter(move |e| e.name() == Some(name))
}

fn label(text: &str) -> String {
    let text = text.trim();
    if text.len() <= SUBJECT_MAX {
        return text.to_string();
    }
    let cut = text.floor_char_boundary(SUBJECT_MAX - '…'.len_utf8());
    format!("{}…", &text[..cut])
}

/// Reads the item and folder operations of a decoded body into `ops`/`folders`. Returns, for each
/// operation added, the element holding the item's fields (Sync ApplicationData, ItemOperations
/// Properties), so that a caller that re-decodes the body can compare them.
///
/// Call it for the request first, then for the response: the response fills in the status of
/// the request's operations.
pub fn extract<'d>(
    doc: &'d Document,
    side: Side,
    ops: &mut ItemOps,
    folders: &mut Vec<FolderOp>,
) -> Vec<Option<Element<'d>>> {
    let mut x = Extractor {
        side,
        ops,
        first: 0,
        data: Vec::new(),
    };
    x.first = x.ops.len();
    let Some(root) = doc.root() else { return Vec::new() };
    match root.name() {
        Some(names::SYNC) => x.sync(root),
        Some(names::ITEM_OPERATIONS) => x.item_operations(root),
        Some(names::MOVE_ITEMS) => x.move_items(root),
        Some(names::MEETING_RESPONSE) => x.meeting_response(root),
        Some(name @ (names::SMART_REPLY | names::SMART_FORWARD)) => x.smart(root, name),
        Some(name @ (names::FOLDER_SYNC | names::FOLDER_CREATE | names::FOLDER_UPDATE | names::FOLDER_DELETE)) => {
            folder_ops(root, name, side, folders)
        }
        _ => {}
    }
    x.ops.shrink();
    x.data
}

/// Which element fills which field, per command ([MS-ASCMD] 2.2.3.x for each element).
const SYNC_FIELDS: &[(Field, &[&str])] = &[
    (Field::ServerId, &[names::SERVER_ID]),
    (Field::ClientId, &[names::CLIENT_ID]),
    (Field::InstanceId, &[names::INSTANCE_ID]),
];
const ITEM_OPERATIONS_FIELDS: &[(Field, &[&str])] = &[
    (Field::CollectionId, &[names::COLLECTION_ID]),
    (Field::ServerId, &[names::SERVER_ID, names::LONG_ID]),
    (Field::FileReference, &[names::FILE_REFERENCE]),
    (Field::ConversationId, &[names::CONVERSATION_ID]),
    (Field::DstCollectionId, &[names::DST_FLD_ID]),
];
const MOVE_ITEMS_FIELDS: &[(Field, &[&str])] = &[
    (Field::ServerId, &[names::SRC_MSG_ID]),
    (Field::CollectionId, &[names::SRC_FLD_ID]),
    (Field::DstCollectionId, &[names::DST_FLD_ID]),
    (Field::DstServerId, &[names::DST_MSG_ID]),
];
const MEETING_RESPONSE_FIELDS: &[(Field, &[&str])] = &[
    (Field::CollectionId, &[names::COLLECTION_ID]),
    (Field::ServerId, &[names::REQUEST_ID, names::LONG_ID]),
    (Field::InstanceId, &[names::INSTANCE_ID]),
    (Field::DstServerId, &[names::CALENDAR_ID]),
];
/// SmartReply/SmartForward Source.
const SOURCE_FIELDS: &[(Field, &[&str])] = &[
    (Field::CollectionId, &[names::FOLDER_ID]),
    (Field::ServerId, &[names::ITEM_ID, names::LONG_ID]),
    (Field::InstanceId, &[names::INSTANCE_ID]),
];

struct Extractor<'o, 'd> {
    side: Side,
    ops: &'o mut ItemOps,
    /// The first operation of this body (earlier ones are the request's).
    first: usize,
    data: Vec<Option<Element<'d>>>,
}

impl<'d> Extractor<'_, 'd> {
    /// Adds an operation read from `e`: its Status, and each field from the first of its element
    /// names that `e` has.
    fn push(
        &mut self,
        action: ItemAction,
        reply: bool,
        e: Element<'d>,
        data: Option<Element<'d>>,
        fields: &[(Field, &[&str])],
    ) -> usize {
        self.data.push(data);
        let op = self.ops.push(self.side, action, reply);
        self.ops.ops[op].status = number(e, names::STATUS);
        for (field, elements) in fields {
            let v = elements.iter().find_map(|n| value(e, n));
            self.ops.set(op, *field, v.as_deref());
        }
        op
    }

    /// [MS-ASCMD] 2.2.1.21: Collections/Collection/{Commands,Responses}/{Add,Change,Delete,…}.
    fn sync(&mut self, root: Element<'d>) {
        let top_status = number(root, names::STATUS);
        let mut collection_status: Vec<(Option<String>, Option<u32>)> = Vec::new();
        for collection in root
            .child(names::COLLECTIONS)
            .into_iter()
            .flat_map(|c| elements_named(c, names::COLLECTION))
        {
            let collection_id = value(collection, names::COLLECTION_ID);
            let class = value(collection, names::CLASS);
            collection_status.push((collection_id.clone(), number(collection, names::STATUS)));
            for group in collection.elements() {
                let reply = match group.name() {
                    Some(names::COMMANDS) => false,
                    Some(names::RESPONSES) => true,
                    _ => continue,
                };
                for command in group.elements() {
                    let action = match command.name() {
                        Some(names::ADD) => ItemAction::Add,
                        Some(names::CHANGE) => ItemAction::Change,
                        Some(names::DELETE) => ItemAction::Delete,
                        Some(names::SOFT_DELETE) => ItemAction::SoftDelete,
                        Some(names::FETCH) => ItemAction::Fetch,
                        _ => continue,
                    };
                    let data = command.child(names::APPLICATION_DATA);
                    let op = self.push(action, reply, command, data, SYNC_FIELDS);
                    self.ops.set(op, Field::CollectionId, collection_id.as_deref());
                    let class = value(command, names::CLASS).or_else(|| class.clone());
                    self.item_data(op, data, class);
                }
            }
        }
        if self.side == Side::Response {
            self.answer_requests(|op: ItemOp<'_>| {
                collection_status
                    .iter()
                    .find(|(id, _)| id.as_deref() == op.collection_id)
                    .and_then(|(_, s)| *s)
                    .or(top_status)
            });
        }
    }

    /// The ids and label inside an item's ApplicationData (or Properties).
    fn item_data(&mut self, op: usize, data: Option<Element<'d>>, class: Option<String>) {
        let Some(data) = data else {
            self.ops.set(op, Field::Class, class.as_deref());
            return;
        };
        // MS-ASCAL 2.2.2.46 UID; MS-ASEMAIL 2.2.2.51 MeetingRequest/GlobalObjId (base64 of the
        // Outlook GlobalObjectId whose hex is the calendar item's UID on Exchange).
        let mut uid = value(data, names::UID);
        let meeting = data.child(names::MEETING_REQUEST);
        if uid.is_none()
            && let Some(goid) = meeting.and_then(|m| value(m, names::GLOBAL_OBJ_ID))
        {
            use base64::Engine as _;
            uid = base64::engine::general_purpose::STANDARD
                .decode(goid.as_bytes())
                .ok()
                .map(hex::encode_upper);
        }
        self.ops.set(op, Field::Uid, uid.as_deref());
        self.ops.set(
            op,
            Field::ConversationId,
            value(data, names::CONVERSATION_ID).as_deref(),
        );
        if !self.ops.has(op, Field::InstanceId) {
            let recurrence = meeting.and_then(|m| value(m, names::RECURRENCE_ID));
            self.ops.set(op, Field::InstanceId, recurrence.as_deref());
        }
        let subject = value(data, names::SUBJECT).or_else(|| value(data, names::FILE_AS));
        self.ops
            .set(op, Field::Subject, subject.as_deref().map(label).as_deref());
        let class = class.or_else(|| {
            data.elements().find_map(|e| match e.tag().namespace()? {
                ns::EMAIL | ns::EMAIL2 => Some(ns::EMAIL.to_string()),
                namespace @ (ns::CALENDAR | ns::CONTACTS | ns::CONTACTS2 | ns::TASKS | ns::NOTES) => {
                    Some(namespace.trim_end_matches('2').to_string())
                }
                _ => None,
            })
        });
        self.ops.set(op, Field::Class, class.as_deref());
    }

    /// Copies the server's answer into the request's operations: the reply for the same item
    /// (a ClientId for Add, else the ServerId, FileReference or source id), else `fallback`.
    fn answer_requests(&mut self, fallback: impl Fn(ItemOp<'_>) -> Option<u32>) {
        let ours = self.first..self.ops.len();
        let mut used = vec![false; ours.len()];
        for req in 0..self.first {
            if self.ops.ops[req].side != Side::Request || self.ops.ops[req].status.is_some() {
                continue;
            }
            let action = self.ops.ops[req].action;
            let key = |ops: &ItemOps, i: usize| match action {
                ItemAction::Add => ops.text_of(i, Field::ClientId).map(str::to_string),
                _ => ops
                    .text_of(i, Field::ServerId)
                    .or_else(|| ops.text_of(i, Field::FileReference))
                    .or_else(|| ops.text_of(i, Field::ConversationId))
                    .map(str::to_string),
            };
            let wanted = key(self.ops, req);
            let reply = ours.clone().zip(used.iter_mut()).find(|(i, used)| {
                !**used && self.ops.ops[*i].reply && self.ops.ops[*i].action == action && key(self.ops, *i) == wanted
            });
            let status = match reply {
                Some((i, used)) => {
                    *used = true;
                    self.ops.ops[i].status
                }
                None => self.ops.get(req).and_then(&fallback),
            };
            self.ops.ops[req].status = status;
        }
    }

    /// [MS-ASCMD] 2.2.1.10: Fetch (by CollectionId+ServerId, LongId or FileReference) and Move of
    /// a conversation; the response's Response/Fetch carries the per-item Status.
    fn item_operations(&mut self, root: Element<'d>) {
        let reply = self.side == Side::Response;
        let parent = if reply { root.child(names::RESPONSE) } else { Some(root) };
        for e in parent.into_iter().flat_map(child_elements) {
            let action = match e.name() {
                Some(names::FETCH) => ItemAction::ItemOperationsFetch,
                Some(names::MOVE) => ItemAction::ItemOperationsMove,
                _ => continue,
            };
            let data = e.child(names::PROPERTIES);
            let op = self.push(action, reply, e, data, ITEM_OPERATIONS_FIELDS);
            self.item_data(op, data, value(e, names::CLASS));
        }
        if reply {
            let top = number(root, names::STATUS);
            self.answer_requests(|_| top);
        }
    }

    /// [MS-ASCMD] 2.2.1.12: Move{SrcMsgId, SrcFldId, DstFldId} → Response{SrcMsgId, Status, DstMsgId}.
    fn move_items(&mut self, root: Element<'d>) {
        let reply = self.side == Side::Response;
        let name = if reply { names::RESPONSE } else { names::MOVE };
        for e in elements_named(root, name) {
            self.push(ItemAction::Move, reply, e, None, MOVE_ITEMS_FIELDS);
        }
        if reply {
            let top = number(root, names::STATUS);
            self.answer_requests(|_| top);
        }
    }

    /// [MS-ASCMD] 2.2.1.11: Request{UserResponse, CollectionId, RequestId, InstanceId} →
    /// Result{RequestId, Status, CalendarId}.
    fn meeting_response(&mut self, root: Element<'d>) {
        let reply = self.side == Side::Response;
        let name = if reply { names::RESULT } else { names::REQUEST };
        for e in elements_named(root, name) {
            let op = self.push(ItemAction::MeetingResponse, reply, e, None, MEETING_RESPONSE_FIELDS);
            // 2.2.3.185 UserResponse: 1 accepted, 2 tentatively accepted, 3 declined.
            let answer = match number(e, names::USER_RESPONSE) {
                Some(1) => Some("accepted"),
                Some(2) => Some("tentatively accepted"),
                Some(3) => Some("declined"),
                _ => None,
            };
            self.ops.set(op, Field::Subject, answer);
        }
        if reply {
            self.answer_requests(|_| None);
        }
    }

    /// SmartReply/SmartForward ([MS-ASCMD] 2.2.1.19/.18): Source{FolderId, ItemId, LongId,
    /// InstanceId} names the item replied to or forwarded; success is an empty response.
    fn smart(&mut self, root: Element<'d>, name: &str) {
        if self.side == Side::Response {
            let status = number(root, names::STATUS);
            for op in 0..self.first {
                if self.ops.ops[op].side == Side::Request {
                    self.ops.ops[op].status = status;
                }
            }
            return;
        }
        let Some(source) = root.child(names::SOURCE) else {
            return;
        };
        let action = if name == names::SMART_REPLY {
            ItemAction::SmartReply
        } else {
            ItemAction::SmartForward
        };
        self.push(action, false, source, None, SOURCE_FIELDS);
    }
}

/// FolderSync Changes ([MS-ASCMD] 2.2.1.5) and the client's FolderCreate/Update/Delete.
fn folder_ops(root: Element<'_>, command: &str, side: Side, folders: &mut Vec<FolderOp>) {
    let op_of = |e: Element<'_>, action: FolderAction| FolderOp {
        side,
        action,
        server_id: value(e, names::SERVER_ID),
        parent_id: value(e, names::PARENT_ID),
        display_name: value(e, names::DISPLAY_NAME),
        folder_type: number(e, names::TYPE),
        status: None,
    };
    let status = number(root, names::STATUS);
    match (command, side) {
        (names::FOLDER_SYNC, Side::Response) => {
            for change in root.child(names::CHANGES).into_iter().flat_map(child_elements) {
                let action = match change.name() {
                    Some(names::ADD) => FolderAction::Add,
                    Some(names::UPDATE) => FolderAction::Update,
                    Some(names::DELETE) => FolderAction::Delete,
                    _ => continue,
                };
                folders.push(FolderOp {
                    status,
                    ..op_of(change, action)
                });
            }
        }
        (names::FOLDER_SYNC, Side::Request) => {}
        (_, Side::Request) => {
            let action = match command {
                names::FOLDER_CREATE => FolderAction::Add,
                names::FOLDER_UPDATE => FolderAction::Update,
                _ => FolderAction::Delete,
            };
            folders.push(op_of(root, action));
        }
        (_, Side::Response) => {
            let server_id = value(root, names::SERVER_ID);
            for op in folders.iter_mut().filter(|f| f.side == Side::Request) {
                op.status = status;
                if op.server_id.is_none() {
                    op.server_id.clone_from(&server_id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::from_xml;

    fn ops_of(request: Option<&str>, response: Option<&str>) -> (ItemOps, Vec<FolderOp>) {
        let (mut ops, mut folders) = (ItemOps::default(), Vec::new());
        for (xml, side) in [(request, Side::Request), (response, Side::Response)] {
            if let Some(xml) = xml {
                let doc = from_xml(xml).unwrap();
                extract(&doc, side, &mut ops, &mut folders);
            }
        }
        (ops, folders)
    }

    #[test]
    fn sync_client_add_gets_its_server_id_and_status() {
        let request = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>7</SyncKey><CollectionId>1</CollectionId><Commands>
            <Add><ClientId>c-17</ClientId><ApplicationData><Subject xmlns="Calendar:">Dentist</Subject><UID xmlns="Calendar:">ABC</UID></ApplicationData></Add>
            <Change><ServerId>1:3</ServerId><ApplicationData><Reminder xmlns="Calendar:">30</Reminder></ApplicationData></Change>
            <Delete><ServerId>1:4</ServerId></Delete>
            </Commands></Collection></Collections></Sync>"#;
        let response = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>8</SyncKey><CollectionId>1</CollectionId><Status>1</Status><Responses>
            <Add><ClientId>c-17</ClientId><ServerId>1:26</ServerId><Status>1</Status></Add>
            <Delete><ServerId>1:4</ServerId><Status>8</Status></Delete>
            </Responses></Collection></Collections></Sync>"#;
        let (ops, _) = ops_of(Some(request), Some(response));
        let all: Vec<ItemOp<'_>> = ops.iter().collect();
        assert_eq!(all.len(), 5);
        let add = all[0];
        assert_eq!(
            (add.side, add.action, add.reply, add.client_id, add.server_id),
            (Side::Request, ItemAction::Add, false, Some("c-17"), None)
        );
        assert_eq!(
            (add.uid, add.subject, add.class),
            (Some("ABC"), Some("Dentist"), Some("Calendar"))
        );
        assert_eq!(add.status, Some(1), "from the reply");
        // A Change without a reply succeeded with its Collection (Responses 2.2.3.154).
        assert_eq!((all[1].action, all[1].status), (ItemAction::Change, Some(1)));
        assert_eq!((all[2].action, all[2].status), (ItemAction::Delete, Some(8)));
        let reply = all[3];
        assert_eq!(
            (
                reply.side,
                reply.reply,
                reply.client_id,
                reply.server_id,
                reply.status,
                reply.collection_id
            ),
            (Side::Response, true, Some("c-17"), Some("1:26"), Some(1), Some("1"))
        );
    }

    #[test]
    fn failing_collection_status_is_the_answer_to_its_commands() {
        let request = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>7</SyncKey><CollectionId>5</CollectionId><Commands><Change><ServerId>5:1</ServerId><ApplicationData><Read xmlns="Email:">1</Read></ApplicationData></Change></Commands></Collection></Collections></Sync>"#;
        let bad_key = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>5</CollectionId><Status>3</Status></Collection></Collections></Sync>"#;
        let (ops, _) = ops_of(Some(request), Some(bad_key));
        assert_eq!(ops.get(0).unwrap().status, Some(3));
        let policy = r#"<Sync xmlns="AirSync:"><Status>142</Status></Sync>"#;
        let (ops, _) = ops_of(Some(request), Some(policy));
        assert_eq!(ops.get(0).unwrap().status, Some(142));
        assert_eq!(ops.get(0).unwrap().class, Some("Email"));
        let (ops, _) = ops_of(Some(request), None);
        assert_eq!(ops.get(0).unwrap().status, None, "no response, no answer");
    }

    #[test]
    fn server_commands_carry_ids_labels_and_meeting_uid() {
        let response = r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>8</SyncKey><CollectionId>5</CollectionId><Status>1</Status><Commands>
            <Add><ServerId>5:31</ServerId><ApplicationData><Subject xmlns="Email:">Quarterly planning review — a very long subject that goes on and on</Subject>
              <MeetingRequest xmlns="Email:"><GlobalObjId>BAAAAIIA4AB0xbcQGoLgCA==</GlobalObjId><RecurrenceId>20240313T130000Z</RecurrenceId></MeetingRequest>
              <ConversationId xmlns="Email2:" encoding="hex">A9A57BDA90934B4CAE83B1A1AFDDEAD5</ConversationId></ApplicationData></Add>
            <SoftDelete><ServerId>5:2</ServerId></SoftDelete>
            </Commands></Collection></Collections></Sync>"#;
        let (ops, _) = ops_of(None, Some(response));
        let add = ops.get(0).unwrap();
        assert_eq!(add.uid, Some("040000008200E00074C5B7101A82E008"));
        assert_eq!(add.conversation_id, Some("A9A57BDA90934B4CAE83B1A1AFDDEAD5"));
        assert_eq!(add.instance_id, Some("20240313T130000Z"));
        assert_eq!(add.class, Some("Email"));
        assert_eq!((add.reply, add.status), (false, None));
        let subject = add.subject.unwrap();
        assert!(subject.len() <= SUBJECT_MAX && subject.ends_with('…'), "{subject}");
        let soft = ops.get(1).unwrap();
        assert_eq!(
            (soft.action, soft.server_id, soft.class),
            (ItemAction::SoftDelete, Some("5:2"), None)
        );
    }

    #[test]
    fn move_items_maps_source_to_destination() {
        let request = r#"<MoveItems xmlns="Move:"><Move><SrcMsgId>5:7</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>11</DstFldId></Move><Move><SrcMsgId>5:8</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>11</DstFldId></Move></MoveItems>"#;
        let response = r#"<MoveItems xmlns="Move:"><Response><SrcMsgId>5:8</SrcMsgId><Status>1</Status></Response><Response><SrcMsgId>5:7</SrcMsgId><Status>3</Status><DstMsgId>11:1</DstMsgId></Response></MoveItems>"#;
        let (ops, _) = ops_of(Some(request), Some(response));
        let first = ops.get(0).unwrap();
        assert_eq!(
            (
                first.action,
                first.server_id,
                first.collection_id,
                first.dst_collection_id,
                first.status
            ),
            (ItemAction::Move, Some("5:7"), Some("5"), Some("11"), Some(3))
        );
        assert_eq!(
            ops.get(1).unwrap().status,
            Some(1),
            "matched by SrcMsgId, not by position"
        );
        let answer = ops.get(3).unwrap();
        assert_eq!((answer.reply, answer.dst_server_id), (true, Some("11:1")));
    }

    #[test]
    fn item_operations_and_meeting_response() {
        let request = r#"<ItemOperations xmlns="ItemOperations:"><Fetch><Store>Mailbox</Store><CollectionId xmlns="AirSync:">5</CollectionId><ServerId xmlns="AirSync:">5:6</ServerId></Fetch><Fetch><Store>Mailbox</Store><FileReference xmlns="AirSyncBase:">5%3a6%3a0</FileReference></Fetch></ItemOperations>"#;
        let response = r#"<ItemOperations xmlns="ItemOperations:"><Status>1</Status><Response><Fetch><Status>1</Status><CollectionId xmlns="AirSync:">5</CollectionId><ServerId xmlns="AirSync:">5:6</ServerId><Class xmlns="AirSync:">Email</Class><Properties><Subject xmlns="Email:">Hi</Subject></Properties></Fetch><Fetch><Status>15</Status><FileReference xmlns="AirSyncBase:">5%3a6%3a0</FileReference></Fetch></Response></ItemOperations>"#;
        let (ops, _) = ops_of(Some(request), Some(response));
        let all: Vec<ItemOp<'_>> = ops.iter().collect();
        assert_eq!(all.len(), 4);
        assert_eq!(
            (all[0].action, all[0].server_id, all[0].status),
            (ItemAction::ItemOperationsFetch, Some("5:6"), Some(1))
        );
        assert_eq!((all[1].file_reference, all[1].status), (Some("5%3a6%3a0"), Some(15)));
        assert_eq!(
            (all[2].class, all[2].subject, all[2].reply),
            (Some("Email"), Some("Hi"), true)
        );

        let request = r#"<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse><CollectionId>5</CollectionId><RequestId>5:31</RequestId></Request></MeetingResponse>"#;
        let response = r#"<MeetingResponse xmlns="MeetingResponse:"><Result><RequestId>5:31</RequestId><Status>1</Status><CalendarId>1:25</CalendarId></Result></MeetingResponse>"#;
        let (ops, _) = ops_of(Some(request), Some(response));
        let req = ops.get(0).unwrap();
        assert_eq!(
            (req.server_id, req.subject, req.status),
            (Some("5:31"), Some("accepted"), Some(1))
        );
        assert_eq!(ops.get(1).unwrap().dst_server_id, Some("1:25"));
    }

    #[test]
    fn folder_changes_and_client_folder_commands() {
        let response = r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>2</SyncKey><Changes><Count>2</Count>
            <Add><ServerId>11</ServerId><ParentId>5</ParentId><DisplayName>Projects</DisplayName><Type>12</Type></Add>
            <Delete><ServerId>12</ServerId></Delete></Changes></FolderSync>"#;
        let (_, folders) = ops_of(None, Some(response));
        assert_eq!(folders.len(), 2);
        assert_eq!(
            (
                folders[0].action,
                folders[0].server_id.as_deref(),
                folders[0].display_name.as_deref(),
                folders[0].folder_type
            ),
            (FolderAction::Add, Some("11"), Some("Projects"), Some(12))
        );
        assert_eq!((folders[1].action, folders[1].status), (FolderAction::Delete, Some(1)));

        let request = r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>2</SyncKey><ParentId>0</ParentId><DisplayName>Receipts</DisplayName><Type>12</Type></FolderCreate>"#;
        let response = r#"<FolderCreate xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>3</SyncKey><ServerId>13</ServerId></FolderCreate>"#;
        let (_, folders) = ops_of(Some(request), Some(response));
        assert_eq!(
            (
                folders[0].server_id.as_deref(),
                folders[0].display_name.as_deref(),
                folders[0].status
            ),
            (Some("13"), Some("Receipts"), Some(1))
        );
    }

    #[test]
    fn serializes_as_a_list_of_operations() {
        let request = r#"<SmartReply xmlns="ComposeMail:"><ClientId>1</ClientId><Source><FolderId>5</FolderId><ItemId>5:6</ItemId></Source><Mime>x</Mime></SmartReply>"#;
        let (ops, _) = ops_of(Some(request), None);
        let json = serde_json::to_value(&ops).unwrap();
        assert_eq!(json[0]["action"], "smart_reply");
        assert_eq!(json[0]["server_id"], "5:6");
        assert_eq!(json[0]["side"], "request");
    }
}
