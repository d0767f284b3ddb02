//! Item history: every operation on an item across the capture, found by any of its ids.
//!
//! [`HistoryIndex::build`] is a cheap pass over the sessions' EAS summaries (the operations were
//! read while indexing; see [`crate::eas::items`]): it keeps one 16-byte entry (hash of the id,
//! session, operation) per id occurrence, sorted by hash. [`HistoryIndex::history`] follows the
//! links between ids — a client Add's ClientId to the ServerId the server gave it and back, a UID
//! to every ServerId that carries it, a MoveItems source to its destination, a ConversationId to
//! its messages — and returns the events in capture order. [`changed_fields`] re-decodes only the
//! bodies of those events to say what each Change changed, and [`final_states`] says what the
//! device should show at the end of the capture, in the words of the troubleshooting guide:
//! after Add the item should be there, after Change it should be updated, after Delete it should
//! be gone. Ids are named by their elements' names ([`crate::wbxml::names`], from the code pages).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::folders::FolderNames;
use crate::capture::{Capture, Session};
use crate::eas::Command;
use crate::eas::items::{self, ItemAction, ItemOp, ItemOps, element_value};
use crate::eas::status::{self, Verdict};
use crate::http::Side;
use crate::wbxml::{Child, Element, names};

/// Which kind of id a string was found as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// A ServerId (also a MoveItems DstMsgId or a MeetingResponse CalendarId).
    ServerId,
    ClientId,
    Uid,
    ConversationId,
    FileReference,
}

impl IdKind {
    /// The element name of the id (`ServerId`, `UID`).
    pub fn label(self) -> &'static str {
        match self {
            IdKind::ServerId => names::SERVER_ID,
            IdKind::ClientId => names::CLIENT_ID,
            IdKind::Uid => names::UID,
            IdKind::ConversationId => names::CONVERSATION_ID,
            IdKind::FileReference => names::FILE_REFERENCE,
        }
    }
}

/// The searchable ids of an operation.
fn ids_of<'a>(op: &ItemOp<'a>) -> [(IdKind, Option<&'a str>); 6] {
    [
        (IdKind::ServerId, op.server_id),
        (IdKind::ServerId, op.dst_server_id),
        (IdKind::ClientId, op.client_id),
        (IdKind::Uid, op.uid),
        (IdKind::ConversationId, op.conversation_id),
        (IdKind::FileReference, op.file_reference),
    ]
}

fn hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    session: u32,
    op: u32,
}

/// Every id of every item operation of a capture, for lookups by id.
#[derive(Debug, Clone, Default)]
pub struct HistoryIndex {
    /// Sorted by hash; the id itself is compared on lookup, in the session's operations.
    entries: Vec<Entry>,
}

/// Where the client (device) or the server sent an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Client,
    Server,
}

impl From<Side> for Direction {
    fn from(side: Side) -> Direction {
        match side {
            Side::Request => Direction::Client,
            Side::Response => Direction::Server,
        }
    }
}

/// One operation on the item, as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    /// The session's index (SAZ: the N of `raw/N_c.txt`; HAR: the entry position).
    pub session: u32,
    /// The session's position in `Capture::sessions`, to go back to it.
    #[serde(skip)]
    pub position: usize,
    /// The operation's position in the session's `EasSummary::items`.
    #[serde(skip)]
    pub op: usize,
    /// Client operations: when the request started; server operations: when the response began
    /// (else when the request started).
    pub time: Option<DateTime<FixedOffset>>,
    pub direction: Direction,
    pub action: ItemAction,
    /// The server's answer to a client operation (see [`ItemOp::reply`]).
    pub reply: bool,
    pub command: Command,
    pub collection_id: Option<String>,
    pub server_id: Option<String>,
    pub client_id: Option<String>,
    pub uid: Option<String>,
    pub conversation_id: Option<String>,
    pub instance_id: Option<String>,
    pub dst_collection_id: Option<String>,
    pub dst_server_id: Option<String>,
    pub file_reference: Option<String>,
    pub class: Option<String>,
    pub subject: Option<String>,
    /// See [`ItemOp::status`].
    pub status: Option<u32>,
    pub status_name: Option<&'static str>,
    pub status_meaning: Option<&'static str>,
    /// `success`, `failure` or `unknown` for the status; `None` without one.
    pub verdict: Option<Verdict>,
    /// The session's HTTP status (`None`: no response, the session was aborted).
    pub http_status: Option<u16>,
}

impl HistoryEvent {
    fn new(session: &Session, position: usize, op_index: usize, op: ItemOp<'_>) -> HistoryEvent {
        let command = op.action.command();
        let meaning = op
            .status
            .and_then(|v| status::status_meaning(command, &[command.name()], v));
        let own = |s: Option<&str>| s.map(str::to_string);
        let timers = &session.timers;
        let time = match op.side {
            Side::Request => timers.started(),
            Side::Response => timers
                .server_begin_response()
                .or(timers.client_done_response())
                .or(timers.started()),
        };
        HistoryEvent {
            session: session.index,
            position,
            op: op_index,
            time,
            direction: op.side.into(),
            action: op.action,
            reply: op.reply,
            command,
            collection_id: own(op.collection_id),
            server_id: own(op.server_id),
            client_id: own(op.client_id),
            uid: own(op.uid),
            conversation_id: own(op.conversation_id),
            instance_id: own(op.instance_id),
            dst_collection_id: own(op.dst_collection_id),
            dst_server_id: own(op.dst_server_id),
            file_reference: own(op.file_reference),
            class: own(op.class),
            subject: own(op.subject),
            status: op.status,
            status_name: meaning.map(|m| m.name),
            status_meaning: meaning.map(|m| m.meaning),
            verdict: op.status.map(|v| status::verdict(command, &[command.name()], v)),
            http_status: session.http_status(),
        }
    }

    /// Did the operation take effect? Server operations do; a client operation does unless the
    /// server answered it with a failing Status, or did not answer (no response, non-2xx HTTP).
    pub fn outcome(&self) -> Outcome {
        if self.direction == Direction::Server {
            return match self.verdict {
                Some(Verdict::Failure) => Outcome::Failed,
                _ => Outcome::Applied,
            };
        }
        match (self.verdict, self.http_status) {
            (Some(Verdict::Failure), _) => Outcome::Failed,
            (Some(_), _) => Outcome::Applied,
            (None, None) => Outcome::NoAnswer,
            (None, Some(code)) if !(200..300).contains(&code) => Outcome::NoAnswer,
            (None, Some(_)) => Outcome::Applied,
        }
    }

    /// `Status 8 (ObjectNotFound)` or `HTTP 500` or `no response`: why it did not take effect.
    fn failure_text(&self) -> String {
        match (self.status, self.status_name, self.http_status) {
            (Some(v), Some(name), _) => format!("Status {v} ({name})"),
            (Some(v), None, _) => format!("Status {v}"),
            (None, _, Some(code)) => format!("HTTP {code}"),
            (None, _, None) => "no response".into(),
        }
    }

    fn who(&self) -> &'static str {
        match self.direction {
            Direction::Client => "the device",
            Direction::Server => "the server",
        }
    }
}

/// Whether an operation took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    /// The server answered with a failing Status.
    Failed,
    /// No response, or an HTTP error instead of an EAS answer.
    NoAnswer,
}

/// An id found by [`HistoryIndex::find_ids`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdMatch {
    pub id: String,
    pub kind: IdKind,
    /// How many operations carry it.
    pub operations: usize,
    /// A label of the item (the first subject seen with it).
    pub subject: Option<String>,
    /// The folder (CollectionId) it was first seen in.
    pub collection_id: Option<String>,
    /// What it is ([`item_kind`]).
    pub item_kind: Option<&'static str>,
}

/// What an item is, as an engineer names it: its class (`Calendar`, `Email`, `Contacts`,
/// `Tasks`, `Notes`, `SMS`), except that an email carrying a meeting's UID (a meeting request in
/// a mail folder) is an `invitation`, not the calendar item of the same meeting.
pub fn item_kind(class: Option<&str>, uid: Option<&str>) -> Option<&'static str> {
    const CLASSES: [&str; 6] = ["Calendar", "Email", "Contacts", "Tasks", "Notes", "SMS"];
    let class = CLASSES
        .into_iter()
        .find(|c| class.is_some_and(|k| k.eq_ignore_ascii_case(c)))?;
    Some(if class == "Email" && uid.is_some() {
        "invitation"
    } else {
        class
    })
}

/// What an item is and where, for a label: `Calendar in 1 (Calendar)`, `invitation in 5 (Inbox)`
/// (the folder's name from FolderSync when `folders` knows it); `None` when neither is known.
pub fn item_place(kind: Option<&str>, collection_id: Option<&str>, folders: Option<&FolderNames>) -> Option<String> {
    let folder = collection_id.map(|c| folders.map_or_else(|| c.to_string(), |f| f.label(c)));
    match (kind, folder) {
        (Some(k), Some(f)) => Some(format!("{k} in {f}")),
        (Some(k), None) => Some(k.to_string()),
        (None, Some(f)) => Some(format!("in {f}")),
        (None, None) => None,
    }
}

/// One item being gathered for an [`IdMatch`].
#[derive(Default)]
struct Gathered<'a> {
    operations: usize,
    subject: Option<&'a str>,
    collection_id: Option<&'a str>,
    item_kind: Option<&'static str>,
}

impl<'a> Gathered<'a> {
    fn add(&mut self, op: &ItemOp<'a>) {
        self.operations += 1;
        self.subject = self.subject.or(op.subject);
        self.collection_id = self.collection_id.or(op.collection_id);
        self.item_kind = self.item_kind.or_else(|| item_kind(op.class, op.uid));
    }

    fn into_match(self, kind: IdKind, id: &str) -> IdMatch {
        IdMatch {
            id: id.to_string(),
            kind,
            operations: self.operations,
            subject: self.subject.map(str::to_string),
            collection_id: self.collection_id.map(str::to_string),
            item_kind: self.item_kind,
        }
    }
}

/// The most used first, then by id; at most `limit`.
fn ranked(mut out: Vec<IdMatch>, limit: usize) -> Vec<IdMatch> {
    out.sort_by(|a, b| b.operations.cmp(&a.operations).then_with(|| a.id.cmp(&b.id)));
    out.truncate(limit);
    out
}

impl HistoryIndex {
    /// Indexes every id of every item operation of `capture`.
    pub fn build(capture: &Capture) -> HistoryIndex {
        let mut entries = Vec::new();
        for (position, session) in capture.sessions.iter().enumerate() {
            let Some(eas) = &session.eas else { continue };
            for (i, op) in eas.items.iter().enumerate() {
                for id in ids_of(&op).into_iter().filter_map(|(_, id)| id) {
                    entries.push(Entry {
                        hash: hash(id),
                        session: position as u32,
                        op: i as u32,
                    });
                }
            }
        }
        entries.sort_unstable_by_key(|e| (e.hash, e.session, e.op));
        entries.shrink_to_fit();
        HistoryIndex { entries }
    }

    /// Number of id occurrences indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The operations (session position, operation index) carrying `id` as one of `kinds`.
    fn lookup(&self, capture: &Capture, id: &str, kinds: &[IdKind]) -> Vec<(usize, usize)> {
        let h = hash(id);
        let start = self.entries.partition_point(|e| e.hash < h);
        let mut out = Vec::new();
        for e in self.entries[start..].iter().take_while(|e| e.hash == h) {
            let (position, index) = (e.session as usize, e.op as usize);
            let Some(op) = ops(capture, position).and_then(|o| o.get(index)) else {
                continue;
            };
            let hit = ids_of(&op)
                .into_iter()
                .any(|(kind, v)| v == Some(id) && kinds.contains(&kind));
            if hit && out.last() != Some(&(position, index)) {
                out.push((position, index));
            }
        }
        out
    }

    /// Every operation on the item that `id` names — a ServerId, ClientId, UID, ConversationId,
    /// DstMsgId or FileReference — and on the items linked to it, in capture order (session time,
    /// then session position, then document order). Empty when no operation carries `id`.
    pub fn history(&self, capture: &Capture, id: &str) -> Vec<HistoryEvent> {
        const ANY: &[IdKind] = &[
            IdKind::ServerId,
            IdKind::ClientId,
            IdKind::Uid,
            IdKind::ConversationId,
            IdKind::FileReference,
        ];
        let id = id.trim();
        if id.is_empty() {
            return Vec::new();
        }
        let mut found: HashSet<(usize, usize)> = HashSet::new();
        let mut seen: HashSet<(IdKind, String)> = HashSet::new();
        let mut queue: Vec<(String, &[IdKind])> = vec![(id.to_string(), ANY)];
        while let Some((next, kinds)) = queue.pop() {
            for (position, index) in self.lookup(capture, &next, kinds) {
                if !found.insert((position, index)) {
                    continue;
                }
                let Some(op) = ops(capture, position).and_then(|o| o.get(index)) else {
                    continue;
                };
                // Links: ServerId ↔ ClientId (an Add and its reply), ServerId ↔ UID, a move's
                // source → destination. Not to a ConversationId or FileReference: from one message
                // that would pull in its whole thread.
                for (kind, value) in ids_of(&op) {
                    let Some(value) = value else { continue };
                    let kinds: &[IdKind] = match kind {
                        IdKind::ServerId => &[IdKind::ServerId],
                        IdKind::ClientId => &[IdKind::ClientId],
                        IdKind::Uid => &[IdKind::Uid],
                        IdKind::ConversationId | IdKind::FileReference => continue,
                    };
                    if value != id && seen.insert((kind, value.to_string())) {
                        queue.push((value.to_string(), kinds));
                    }
                }
            }
        }
        let mut events: Vec<HistoryEvent> = found
            .into_iter()
            .filter_map(|(position, index)| {
                let session = capture.sessions.get(position)?;
                let op = session.eas.as_ref()?.items.get(index)?;
                Some(HistoryEvent::new(session, position, index, op))
            })
            .collect();
        events.sort_by_key(|e| {
            let started = capture.sessions[e.position].timers.started();
            (started, e.position, e.op)
        });
        events
    }

    /// Ids that start with `prefix` (case-insensitive), for a "type an id" box: at most `limit`,
    /// the most used first. A linear pass over the operations (a few ms on 100,000 sessions).
    pub fn find_ids(&self, capture: &Capture, prefix: &str, limit: usize) -> Vec<IdMatch> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() {
            return Vec::new();
        }
        let mut matches: HashMap<(IdKind, &str), Gathered> = HashMap::new();
        for eas in capture.sessions.iter().filter_map(|s| s.eas.as_ref()) {
            for op in eas.items.iter() {
                for (kind, id) in ids_of(&op) {
                    let Some(id) = id else { continue };
                    if id.len() >= prefix.len()
                        && id.is_char_boundary(prefix.len())
                        && id[..prefix.len()].to_lowercase() == prefix
                    {
                        matches.entry((kind, id)).or_default().add(&op);
                    }
                }
            }
        }
        let out = matches
            .into_iter()
            .map(|((kind, id), g)| g.into_match(kind, id))
            .collect();
        ranked(out, limit)
    }

    /// Items whose label — Subject, a contact's FileAs, a meeting answer — contains `text`
    /// (case-insensitive), each once by its ServerId (else its ClientId, else its UID): at most
    /// `limit`, the most used first. A linear pass over the operations, like [`Self::find_ids`].
    pub fn find_items(&self, capture: &Capture, text: &str, limit: usize) -> Vec<IdMatch> {
        let needle = text.trim().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let mut matches: HashMap<(IdKind, &str), Gathered> = HashMap::new();
        // A client Add's ClientId and the ServerId the server gave it: the same item.
        let mut assigned: HashMap<&str, &str> = HashMap::new();
        for eas in capture.sessions.iter().filter_map(|s| s.eas.as_ref()) {
            for op in eas.items.iter() {
                if let (Some(c), Some(s)) = (op.client_id, op.server_id) {
                    assigned.insert(c, s);
                }
                let Some(subject) = op.subject else { continue };
                if !subject.to_lowercase().contains(&needle) {
                    continue;
                }
                let key = match (op.server_id, op.client_id, op.uid) {
                    (Some(s), _, _) => (IdKind::ServerId, s),
                    (None, Some(c), _) => (IdKind::ClientId, c),
                    (None, None, Some(u)) => (IdKind::Uid, u),
                    (None, None, None) => continue,
                };
                matches.entry(key).or_default().add(&op);
            }
        }
        // Found by its ClientId: named by its ServerId, with that one's operations.
        let mut items: HashMap<(IdKind, &str), Gathered> = HashMap::new();
        for ((kind, id), g) in matches {
            let key = match assigned.get(id) {
                Some(server) if kind == IdKind::ClientId => (IdKind::ServerId, *server),
                _ => (kind, id),
            };
            let item = items.entry(key).or_default();
            item.operations += g.operations;
            item.subject = item.subject.or(g.subject);
            item.collection_id = item.collection_id.or(g.collection_id);
            item.item_kind = item.item_kind.or(g.item_kind);
        }
        let out = items
            .into_iter()
            .map(|((kind, id), g)| g.into_match(kind, id))
            .collect();
        ranked(out, limit)
    }
}

fn ops(capture: &Capture, position: usize) -> Option<&ItemOps> {
    Some(&capture.sessions.get(position)?.eas.as_ref()?.items)
}

// ---------------------------------------------------------------------------------------------
// Changed fields
// ---------------------------------------------------------------------------------------------

/// One field of an item's data that a Change changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Element names below ApplicationData, `[n]` for the n-th of repeated siblings:
    /// `Reminder`, `Attendees/Attendee[2]/Email`, `Body/Data`.
    pub path: String,
    /// The value in the previous known version; `None` when it had no such field.
    pub old: Option<String>,
    /// The value now; `None` when the Change removed it.
    pub new: Option<String>,
}

/// Problems re-reading the bodies of a history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("session {session}: cannot read the {side} body again: {source}")]
    Body {
        session: u32,
        side: &'static str,
        source: std::io::Error,
    },
}

/// An item's leaf fields as (path from its data element, value): `MeetingRequest/InstanceType`.
pub(crate) type Fields = Vec<(String, String)>;

/// The leaf fields of an item's data, in document order.
fn flatten(data: Element<'_>) -> Fields {
    struct Frame<'d> {
        children: crate::wbxml::document::Children<'d>,
        path_len: usize,
        seen: Vec<(&'static str, usize)>,
    }
    let mut out = Vec::new();
    let mut path = String::new();
    let mut stack = vec![Frame {
        children: data.children(),
        path_len: 0,
        seen: Vec::new(),
    }];
    while let Some(frame) = stack.last_mut() {
        let Some(child) = frame.children.next() else {
            stack.pop();
            continue;
        };
        let Child::Element(e) = child else { continue };
        let name = e.name().unwrap_or("Unknown");
        let n = match frame.seen.iter_mut().find(|(s, _)| *s == name) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                frame.seen.push((name, 1));
                1
            }
        };
        path.truncate(frame.path_len);
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(name);
        if n > 1 {
            path.push_str(&format!("[{n}]"));
        }
        if e.elements().next().is_some() {
            let path_len = path.len();
            stack.push(Frame {
                children: e.children(),
                path_len,
                seen: Vec::new(),
            });
        } else {
            out.push((path.clone(), element_value(e)));
        }
    }
    out
}

/// The leaf fields of every operation of one body of the session at `position` that carries an
/// item's data (Sync ApplicationData, ItemOperations Properties), as (the operation's position in
/// the session's [`EasSummary::items`](crate::eas::session::EasSummary), its fields). The body
/// is decoded again; nothing for a session without it.
pub(crate) fn body_fields(
    capture: &Capture,
    position: usize,
    side: Side,
) -> Result<Vec<(usize, Fields)>, HistoryError> {
    let Some(summary) = capture.sessions.get(position).and_then(|s| s.eas.as_ref()) else {
        return Ok(Vec::new());
    };
    let doc = capture
        .body_document(position, side)
        .map_err(|source| HistoryError::Body {
            session: capture.sessions[position].index,
            side: match side {
                Side::Request => "request",
                Side::Response => "response",
            },
            source,
        })?;
    let Some(doc) = doc else { return Ok(Vec::new()) };
    let (mut scratch, mut folders) = (ItemOps::default(), Vec::new());
    let elements = items::extract(&doc, side, &mut scratch, &mut folders);
    // The response's operations follow the request's in the summary.
    let offset = match side {
        Side::Request => 0,
        Side::Response => summary.items.iter().filter(|o| o.side == Side::Request).count(),
    };
    Ok(elements
        .into_iter()
        .enumerate()
        .filter_map(|(k, e)| Some((k + offset, flatten(e?))))
        .collect())
}

fn top(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or(path);
    first.split('[').next().unwrap_or(first)
}

/// For each event, the fields that differ from the previous known version of the item: filled
/// for Changes (client or server) only, empty for the other events. The previous version is
/// built from the Adds, Changes and Fetches before it that carried data and took effect. A field
/// a Change does not send is not reported (EAS clients send only some properties), unless the
/// Change sends its top-level element (then a missing attendee, say, was removed).
///
/// Only the bodies of these events are read again.
pub fn changed_fields(capture: &Capture, events: &[HistoryEvent]) -> Result<Vec<Vec<FieldChange>>, HistoryError> {
    // The data of every event that has some: re-decode each body once.
    let mut data: Vec<Option<Vec<(String, String)>>> = vec![None; events.len()];
    let mut bodies: HashMap<(usize, Side), Vec<usize>> = HashMap::new();
    let with_data = [
        ItemAction::Add,
        ItemAction::Change,
        ItemAction::Fetch,
        ItemAction::ItemOperationsFetch,
    ];
    for (i, e) in events.iter().enumerate().filter(|(_, e)| with_data.contains(&e.action)) {
        let side = match e.direction {
            Direction::Client => Side::Request,
            Direction::Server => Side::Response,
        };
        bodies.entry((e.position, side)).or_default().push(i);
    }
    for ((position, side), wanted) in bodies {
        let fields = body_fields(capture, position, side)?;
        for i in wanted {
            data[i] = fields
                .iter()
                .find(|(op, _)| *op == events[i].op)
                .map(|(_, f)| f.clone());
        }
    }

    let keys = item_keys(events);
    let mut versions: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut out = vec![Vec::new(); events.len()];
    for (i, e) in events.iter().enumerate() {
        let key = &keys[i];
        if e.action == ItemAction::Move && e.outcome() == Outcome::Applied {
            if let (Some(dst), Some(v)) = (&e.dst_server_id, versions.get(key).cloned()) {
                versions.insert(dst.clone(), v);
            }
            continue;
        }
        let Some(fields) = data[i].take() else { continue };
        let previous = versions.get(key);
        if e.action == ItemAction::Change
            && let Some(previous) = previous
        {
            out[i] = diff(previous, &fields);
        }
        if e.outcome() == Outcome::Applied {
            let merged = match (e.action, previous) {
                (ItemAction::Add, _) | (_, None) => fields,
                (_, Some(previous)) => merge(previous, fields),
            };
            versions.insert(key.clone(), merged);
        }
    }
    Ok(out)
}

fn diff(previous: &[(String, String)], now: &[(String, String)]) -> Vec<FieldChange> {
    let before: HashMap<&str, &str> = previous.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
    let after: HashMap<&str, &str> = now.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
    let sent: HashSet<&str> = now.iter().map(|(p, _)| top(p)).collect();
    let mut changes: Vec<FieldChange> = now
        .iter()
        .filter(|(p, v)| before.get(p.as_str()) != Some(&v.as_str()))
        .map(|(p, v)| FieldChange {
            path: p.clone(),
            old: before.get(p.as_str()).map(|s| s.to_string()),
            new: Some(v.clone()),
        })
        .collect();
    changes.extend(
        previous
            .iter()
            .filter(|(p, _)| sent.contains(top(p)) && !after.contains_key(p.as_str()))
            .map(|(p, v)| FieldChange {
                path: p.clone(),
                old: Some(v.clone()),
                new: None,
            }),
    );
    changes
}

/// The previous version with the top-level elements `now` sends replaced.
fn merge(previous: &[(String, String)], now: Vec<(String, String)>) -> Vec<(String, String)> {
    let sent: HashSet<String> = now.iter().map(|(p, _)| top(p).to_string()).collect();
    let mut merged: Vec<(String, String)> = previous
        .iter()
        .filter(|(p, _)| !sent.contains(top(p)))
        .cloned()
        .collect();
    merged.extend(now);
    merged
}

/// Which item each event is about: its ServerId, or, for a client Add, the ServerId the server
/// gave its ClientId (else `client:<ClientId>`).
fn item_keys(events: &[HistoryEvent]) -> Vec<String> {
    let assigned: HashMap<&str, &str> = events
        .iter()
        .filter_map(|e| Some((e.client_id.as_deref()?, e.server_id.as_deref()?)))
        .collect();
    events
        .iter()
        .map(|e| match (&e.server_id, &e.client_id, &e.file_reference) {
            (Some(s), _, _) => s.clone(),
            (None, Some(c), _) => assigned
                .get(c.as_str())
                .map_or_else(|| format!("client:{c}"), |s| s.to_string()),
            (None, None, Some(f)) => format!("file:{f}"),
            (None, None, None) => String::new(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Final state
// ---------------------------------------------------------------------------------------------

/// What the device should show for an item at the end of the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// Added (or known to exist): it should be there.
    Present,
    /// Changed: it should be there, updated.
    Updated,
    /// Deleted (or moved away, or out of the sync window): it should be gone.
    Gone,
    /// Nothing in the capture says.
    Unknown,
}

/// The expected state of one item of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinalState {
    /// The ServerId (or `client:<ClientId>` for a client Add the server never mapped).
    pub item: String,
    pub collection_id: Option<String>,
    pub class: Option<String>,
    pub subject: Option<String>,
    pub expected: Expected,
    pub explanation: String,
    /// The event (index into the history) that decided it.
    pub event: usize,
}

/// For each item of the history (in order of first appearance), what the device should show at
/// the end of the capture and why. Replies only confirm their client operation and decide
/// nothing themselves; an operation that failed or was never answered leaves the state as it was.
pub fn final_states(events: &[HistoryEvent], folders: &FolderNames) -> Vec<FinalState> {
    let keys = item_keys(events);
    let mut states: Vec<FinalState> = Vec::new();
    let folder = |id: &Option<String>| id.as_deref().map_or_else(|| "?".to_string(), |c| folders.label(c));
    // A client MoveItems and the new ServerId its answer gives.
    let moved_to = |e: &HistoryEvent| {
        events
            .iter()
            .find(|r| r.reply && r.action == ItemAction::Move && r.position == e.position && r.server_id == e.server_id)
            .and_then(|r| r.dst_server_id.clone())
    };
    for (i, e) in events.iter().enumerate() {
        if keys[i].is_empty() || e.reply {
            continue;
        }
        let at = match states.iter().position(|s| s.item == keys[i]) {
            Some(at) => at,
            None => {
                states.push(FinalState {
                    item: keys[i].clone(),
                    collection_id: e.collection_id.clone(),
                    class: e.class.clone(),
                    subject: e.subject.clone(),
                    expected: Expected::Unknown,
                    explanation: "Nothing in the capture says whether the item is on the device.".into(),
                    event: i,
                });
                states.len() - 1
            }
        };
        let state = &mut states[at];
        state.subject = e.subject.clone().or(state.subject.take());
        state.class = e.class.clone().or(state.class.take());
        state.collection_id = e.collection_id.clone().or(state.collection_id.take());
        let place = match &state.collection_id {
            Some(c) => format!(
                "{} in session #{} (collection {})",
                e.who(),
                e.session,
                folders.label(c)
            ),
            None => format!("{} in session #{}", e.who(), e.session),
        };
        let outcome = e.outcome();
        if outcome != Outcome::Applied {
            let before = match state.expected {
                Expected::Unknown => String::new(),
                _ => format!(" Before it: {}", state.explanation),
            };
            state.explanation = format!(
                "The last operation, {} by {place}, failed ({}): it did not take effect.{before}",
                e.action,
                e.failure_text()
            );
            state.event = i;
            continue;
        }
        let (expected, explanation) = match e.action {
            ItemAction::Add if e.direction == Direction::Server => (
                Expected::Present,
                format!("Added by {place}: after Add the item should be on the device."),
            ),
            ItemAction::Add => (
                Expected::Present,
                format!(
                    "Added on {place}{}: after Add the item should be there, on the device and on the server.",
                    match &e.status {
                        Some(_) => format!(", accepted by the server as ServerId {}", state.item),
                        None => String::new(),
                    }
                ),
            ),
            ItemAction::Change => (
                Expected::Updated,
                format!("Changed by {place}: after Change the item should be on the device, updated."),
            ),
            ItemAction::Delete => (
                Expected::Gone,
                format!("Deleted by {place}: after Delete the item should be gone from the device."),
            ),
            ItemAction::SoftDelete => (
                Expected::Gone,
                format!(
                    "SoftDelete by {place}: the item left the sync window; it should be gone from the device, \
                     but it is still on the server."
                ),
            ),
            ItemAction::Move => (
                Expected::Gone,
                format!(
                    "Moved by {place} to collection {}{}: it should be gone from {} and be in the destination.",
                    folder(&e.dst_collection_id),
                    moved_to(e).map_or_else(String::new, |d| format!(" as ServerId {d}")),
                    folder(&state.collection_id),
                ),
            ),
            ItemAction::Fetch | ItemAction::ItemOperationsFetch if state.expected == Expected::Unknown => (
                Expected::Present,
                format!("Fetched by {place}: the item exists on the server and should be on the device."),
            ),
            // Fetches, meeting responses, replies and forwards do not change whether the item is there.
            _ => continue,
        };
        state.expected = expected;
        state.explanation = explanation;
        state.event = i;
        // A move's destination: the item under its new ServerId, known from here on.
        if e.action == ItemAction::Move
            && let Some(dst) = moved_to(e)
        {
            let moved = FinalState {
                item: dst.clone(),
                collection_id: e.dst_collection_id.clone(),
                class: state.class.clone(),
                subject: state.subject.clone(),
                expected: Expected::Present,
                explanation: format!(
                    "Moved here by the device in session #{}: the item should be in collection {} as ServerId {dst}.",
                    e.session,
                    folder(&e.dst_collection_id)
                ),
                event: i,
            };
            match states.iter_mut().find(|s| s.item == dst) {
                Some(existing) => *existing = moved,
                None => states.push(moved),
            }
        }
    }
    states
}
