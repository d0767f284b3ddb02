//! The item-level failure patterns (`eas-protocol-notes.md` §4, 9–16): a recurring series deleted
//! by one occurrence's cancellation, an attendee made the organizer, stale meeting updates,
//! recurrences on the 29th–31st, duplicate contacts, meeting-response loops, bodies that could not
//! be downloaded and items that fail on every sync.
//!
//! Unlike the session rules of `findings.rs`, most of these need an item's fields (InstanceType,
//! OrganizerEmail, DtStamp, Recurrence, FileAs, Truncated), which the EAS summaries do not keep.
//! The operations that can matter are picked from the summaries first — calendar items, meeting
//! messages, contacts, and the Adds of items whose later fetch failed — and only their bodies are
//! decoded again ([`history::body_fields`]), so a capture of 100,000 email Adds costs no more than
//! before. Each finding names its item ([`Finding::item`]) so that the window can open its history.
//! Messages name items by their ids, never by subject or name (those are personal data).

use std::collections::{HashMap, HashSet};

use super::findings::{Finding, RuleId, Severity, finding, seconds_between, sessions_phrase};
use super::history::{self, Fields};
use super::started;
use crate::capture::{Capture, Session};
use crate::eas::Command;
use crate::eas::items::{ItemAction, ItemOp};
use crate::eas::status::status_meaning;
use crate::http::Side;

/// The rules of this module.
pub const ITEM_RULES: [RuleId; 8] = [
    RuleId::RecurringSeriesDeleted,
    RuleId::AttendeeAsOrganizer,
    RuleId::MeetingUpdateStale,
    RuleId::RecurrenceDay2931,
    RuleId::DuplicateContacts,
    RuleId::MeetingResponseLoop,
    RuleId::BodyNotDownloaded,
    RuleId::ItemSyncFailure,
];

/// A MeetingResponse for the same request this many times is a loop (one resend after a lost
/// response is normal).
const RESPONSE_LOOP_MIN: usize = 3;
/// A device Delete of the series this soon after the bad cancellation (and within this many
/// sessions) is its consequence.
const DELETE_AFTER_CANCEL_SECS: i64 = 3600;
const DELETE_AFTER_CANCEL_SESSIONS: usize = 50;
/// An item failing in this many successive Syncs fails "on every sync".
const ITEM_FAILURE_MIN: usize = 2;
/// Per-item Sync Status values of an item that cannot be applied ([MS-ASCMD] 2.2.3.177.17).
const ITEM_FAILURES: [u32; 3] = [6, 7, 8];
/// The class id that starts an Outlook GlobalObjectId in hex ([MS-OXOCAL] 2.2.1.27); bytes
/// 16–19 hold the occurrence's date (zero for the whole series).
const GOID_PREFIX: &str = "040000008200E00074C5B7101A82E008";

/// The findings of the item-level rules over `capture`.
pub(crate) fn findings(capture: &Capture) -> Vec<Finding> {
    let mut cx = Cx::new(capture);
    let mut out = Vec::new();
    calendar(&mut cx, &mut out);
    contacts(&mut cx, &mut out);
    meeting_response_loops(&cx, &mut out);
    bodies_not_downloaded(&mut cx, &mut out);
    item_sync_failures(&cx, &mut out);
    out
}

/// One item operation and where it is.
struct Op<'a> {
    /// Position in `Capture::sessions`.
    p: usize,
    /// Position in the session's `EasSummary::items`.
    k: usize,
    op: ItemOp<'a>,
}

struct Cx<'a> {
    capture: &'a Capture,
    /// The item operations the rules look at ([`looked_at`]), in capture order.
    ops: Vec<Op<'a>>,
    /// Decoded bodies: (position, side) → the fields of each operation with data.
    bodies: HashMap<(usize, Side), Vec<(usize, Fields)>>,
}

impl<'a> Cx<'a> {
    fn new(capture: &'a Capture) -> Cx<'a> {
        let all = || {
            capture
                .sessions
                .iter()
                .enumerate()
                .filter_map(|(p, s)| Some((p, s.eas.as_ref()?)))
                .flat_map(|(p, e)| e.items.iter().enumerate().map(move |(k, op)| Op { p, k, op }))
        };
        // Only the operations a rule looks at are kept: a capture of 100,000 Syncs of email Adds
        // has millions of others.
        let fetched: HashSet<&str> = all()
            .filter(|o| is_body_fetch(&o.op))
            .filter_map(|o| o.op.server_id)
            .collect();
        let ops = all().filter(|o| looked_at(&o.op, &fetched)).collect();
        Cx {
            capture,
            ops,
            bodies: HashMap::new(),
        }
    }

    /// The operations of the session at `p` (the list is in capture order).
    fn ops_of(&self, p: usize) -> &[Op<'a>] {
        let from = self.ops.partition_point(|o| o.p < p);
        let to = self.ops.partition_point(|o| o.p <= p);
        &self.ops[from..to]
    }

    fn session(&self, p: usize) -> &'a Session {
        &self.capture.sessions[p]
    }

    /// The fields of operation `i` (empty when it carries none or its body cannot be read: a
    /// body that cannot be decoded has no evidence to give).
    fn fields(&mut self, i: usize) -> &[(String, String)] {
        let Op { p, k, op } = &self.ops[i];
        let (p, k, side) = (*p, *k, op.side);
        let body = self
            .bodies
            .entry((p, side))
            .or_insert_with(|| history::body_fields(self.capture, p, side).unwrap_or_default());
        body.iter().find(|(op, _)| *op == k).map_or(&[], |(_, f)| f.as_slice())
    }

    /// A finding whose evidence is the sessions at `positions`, about `item`.
    fn finding(&self, rule: RuleId, severity: Severity, message: String, positions: &[usize], item: &str) -> Finding {
        let mut positions = positions.to_vec();
        positions.sort_unstable();
        positions.dedup();
        let sessions: Vec<&Session> = positions.iter().map(|&p| self.session(p)).collect();
        let mut f = finding(rule, severity, message, &sessions);
        f.item = Some(item.to_string());
        f
    }

    fn index(&self, p: usize) -> u32 {
        self.session(p).index
    }

    fn sessions_text(&self, positions: &[usize]) -> String {
        let mut indices: Vec<u32> = positions.iter().map(|&p| self.index(p)).collect();
        indices.sort_unstable();
        indices.dedup();
        sessions_phrase(&indices)
    }

    fn seconds(&self, a: usize, b: usize) -> Option<i64> {
        seconds_between(started(self.session(a)), started(self.session(b)))
    }
}

/// A device's ItemOperations fetch of a whole item (not of an attachment by FileReference).
fn is_body_fetch(op: &ItemOp<'_>) -> bool {
    op.side == Side::Request && op.action == ItemAction::ItemOperationsFetch && op.file_reference.is_none()
}

/// True for the operations some rule reads: calendar items, meeting messages and contacts, the
/// device's Deletes and MeetingResponses, the server's answers to the device's Sync operations,
/// body fetches and the Adds of the items they fetched.
fn looked_at(op: &ItemOp<'_>, fetched: &HashSet<&str>) -> bool {
    let item_of_interest =
        matches!(op.class, Some("Calendar" | "Contacts")) || (op.class == Some("Email") && op.uid.is_some());
    let sync_reply = op.reply
        && matches!(
            op.action,
            ItemAction::Add | ItemAction::Change | ItemAction::Delete | ItemAction::Fetch
        );
    let device = op.side == Side::Request && matches!(op.action, ItemAction::Delete | ItemAction::MeetingResponse);
    let fetched_add = op.side == Side::Response
        && !op.reply
        && op.action == ItemAction::Add
        && op.server_id.is_some_and(|id| fetched.contains(id));
    item_of_interest || sync_reply || device || is_body_fetch(op) || fetched_add
}

/// The value of the first field at `path` (element names from the item's data down, e.g.
/// `MeetingRequest/InstanceType`).
fn get<'f>(fields: &'f [(String, String)], path: &str) -> Option<&'f str> {
    fields.iter().find(|(p, _)| p == path).map(|(_, v)| v.trim())
}

fn has_under(fields: &[(String, String)], prefix: &str) -> bool {
    fields.iter().any(|(p, _)| p.starts_with(prefix))
}

fn number(fields: &[(String, String)], path: &str) -> Option<u32> {
    get(fields, path)?.parse().ok()
}

/// A calendar or email date as comparable digits: `20240321T130000Z` and
/// `2024-03-21T13:00:00.000Z` both give `20240321130000`.
fn date_key(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).take(14).collect()
}

/// The series a UID belongs to: a GlobalObjectId with its occurrence date cleared (a
/// cancellation of one occurrence may carry the occurrence's date there); other UIDs as they are.
fn series_uid(uid: &str) -> String {
    let s = uid.to_ascii_uppercase();
    match (s.get(..32), s.get(40..)) {
        (Some(head), Some(tail)) if head == GOID_PREFIX => format!("{head}00000000{tail}"),
        _ => s,
    }
}

/// True when a GlobalObjectId names one occurrence (its date bytes are set).
fn names_occurrence(uid: &str) -> bool {
    uid.get(..32).is_some_and(|h| h.eq_ignore_ascii_case(GOID_PREFIX))
        && uid.get(32..40).is_some_and(|d| d != "00000000")
}

fn is_server_item(op: &ItemOp<'_>) -> bool {
    op.side == Side::Response
        && !op.reply
        && matches!(
            op.action,
            ItemAction::Add | ItemAction::Change | ItemAction::Fetch | ItemAction::ItemOperationsFetch
        )
}

fn is_class(op: &ItemOp<'_>, class: &str) -> bool {
    op.class == Some(class)
}

/// The address of an email field (`"Name" <a@b>` or `a@b`), lower case.
fn address(s: &str) -> String {
    let inner = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    inner.trim().to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Calendar: patterns 9, 10, 11, 12

/// What the server last said about a calendar item.
#[derive(Default)]
struct ServerCopy {
    p: usize,
    organizer_name: Option<String>,
    organizer_email: Option<String>,
    meeting_status: Option<u32>,
    recurring: bool,
    start: Option<String>,
}

fn calendar(cx: &mut Cx<'_>, out: &mut Vec<Finding>) {
    let mut copies: HashMap<String, ServerCopy> = HashMap::new();
    // Series UID → ServerId of its calendar item.
    let mut by_uid: HashMap<String, String> = HashMap::new();
    // (series UID, meeting message or not) → (newest DtStamp, where).
    let mut stamps: HashMap<(String, bool), (String, usize)> = HashMap::new();
    let mut stale_reported: HashSet<String> = HashSet::new();
    let mut organizer_reported: HashSet<String> = HashSet::new();
    let mut recurrence_reported: HashSet<String> = HashSet::new();
    for i in 0..cx.ops.len() {
        let op = cx.ops[i].op;
        let p = cx.ops[i].p;
        let calendar = is_class(&op, "Calendar");
        let meeting_message = is_class(&op, "Email") && op.uid.is_some();
        if !calendar && !meeting_message {
            continue;
        }
        if is_server_item(&op) {
            let fields = cx.fields(i).to_vec();
            if fields.is_empty() {
                continue;
            }
            let item = op.server_id.or(op.uid).unwrap_or("").to_string();
            recurrence_day(cx, &fields, p, &item, &mut recurrence_reported, out);
            let stamp_path = if meeting_message {
                "MeetingRequest/DtStamp"
            } else {
                "DtStamp"
            };
            if let (Some(uid), Some(stamp)) = (op.uid, get(&fields, stamp_path)) {
                let key = (series_uid(uid), meeting_message);
                let stamp = date_key(stamp);
                match stamps.get(&key) {
                    Some((newest, at)) if stamp < *newest && !stale_reported.contains(&key.0) => {
                        stale_reported.insert(key.0.clone());
                        let message = format!(
                            "Exchange sent an update of meeting {item} in session {} whose DtStamp ({}) is older than the one it sent in session {} ({}): a device that compares DtStamps keeps the earlier version.",
                            cx.index(p),
                            stamp_text(&stamp),
                            cx.index(*at),
                            stamp_text(newest)
                        );
                        out.push(cx.finding(RuleId::MeetingUpdateStale, Severity::Warning, message, &[*at, p], &item));
                    }
                    Some((newest, _)) if stamp <= *newest => {}
                    _ => {
                        stamps.insert(key, (stamp, p));
                    }
                }
            }
            if meeting_message {
                series_cancelled(cx, i, &fields, &copies, &by_uid, out);
                continue;
            }
            let Some(server_id) = op.server_id else { continue };
            let copy = copies.entry(server_id.to_string()).or_default();
            copy.p = p;
            if let Some(v) = get(&fields, "OrganizerName") {
                copy.organizer_name = Some(v.to_string());
            }
            if let Some(v) = get(&fields, "OrganizerEmail") {
                copy.organizer_email = Some(v.to_string());
            }
            if let Some(v) = number(&fields, "MeetingStatus") {
                copy.meeting_status = Some(v);
            }
            if let Some(v) = get(&fields, "StartTime") {
                copy.start = Some(date_key(v));
            }
            if op.action != ItemAction::Change || has_under(&fields, "Recurrence/") {
                copy.recurring = has_under(&fields, "Recurrence/");
            }
            if let Some(uid) = op.uid {
                by_uid.insert(series_uid(uid), server_id.to_string());
            }
        } else if calendar && op.side == Side::Request && op.action == ItemAction::Change {
            let Some(server_id) = op.server_id else { continue };
            let fields = cx.fields(i).to_vec();
            // One finding per meeting: its first such Change.
            if let Some(copy) = copies.get(server_id)
                && let Some(what) = organizer_taken(copy, &fields)
                && organizer_reported.insert(server_id.to_string())
            {
                let message = format!(
                    "The device's Change of meeting {server_id} in session {} {what}, unlike the server's copy (session {}): the attendee became the organizer.",
                    cx.index(p),
                    cx.index(copy.p)
                );
                out.push(cx.finding(
                    RuleId::AttendeeAsOrganizer,
                    Severity::Warning,
                    message,
                    &[copy.p, p],
                    server_id,
                ));
            }
            // EAS 16.x names an occurrence by InstanceId; Exceptions are the 14.x way.
            let v16 = cx
                .session(p)
                .eas
                .as_ref()
                .and_then(|e| e.identity.protocol_version.as_deref())
                .filter(|v| v.parse::<f32>().is_ok_and(|v| v >= 16.0));
            if let Some(version) = v16
                && op.instance_id.is_none()
                && has_under(&fields, "Exceptions/")
            {
                let message = format!(
                    "The device (EAS {version}) changed one occurrence of the series {server_id} in session {} with Exceptions and no InstanceId: Exchange applies it to every occurrence and invites the attendees to the whole series again.",
                    cx.index(p)
                );
                out.push(cx.finding(RuleId::MeetingUpdateStale, Severity::Warning, message, &[p], server_id));
            }
        }
    }
}

fn stamp_text(key: &str) -> String {
    if key.len() < 14 {
        return key.to_string();
    }
    format!(
        "{}-{}-{} {}:{}:{} UTC",
        &key[0..4],
        &key[4..6],
        &key[6..8],
        &key[8..10],
        &key[10..12],
        &key[12..14]
    )
}

/// What a device Change does to the organizer of a meeting it received, if anything.
fn organizer_taken(copy: &ServerCopy, fields: &[(String, String)]) -> Option<String> {
    let mut names = Vec::new();
    if let (Some(server), Some(device)) = (&copy.organizer_name, get(fields, "OrganizerName"))
        && !server.trim().eq_ignore_ascii_case(device)
    {
        names.push("OrganizerName");
    }
    if let (Some(server), Some(device)) = (&copy.organizer_email, get(fields, "OrganizerEmail"))
        && address(server) != address(device)
    {
        names.push("OrganizerEmail");
    }
    let mut what = Vec::new();
    if !names.is_empty() {
        what.push(format!("names another organizer ({})", names.join(", ")));
    }
    // MeetingStatus bit 1 (value 2) means "received" ([MS-ASCAL] 2.2.2.28).
    if let (Some(server), Some(device)) = (copy.meeting_status, number(fields, "MeetingStatus"))
        && server & 2 != 0
        && device & 2 == 0
    {
        what.push(format!(
            "turns MeetingStatus {server} (received) into {device} (organised)"
        ));
    }
    (!what.is_empty()).then(|| what.join(" and "))
}

/// Pattern 12: a monthly or yearly recurrence on day 29–31, once per item.
fn recurrence_day(
    cx: &Cx<'_>,
    fields: &[(String, String)],
    p: usize,
    item: &str,
    reported: &mut HashSet<String>,
    out: &mut Vec<Finding>,
) {
    let rule = ["Recurrence/", "MeetingRequest/Recurrences/Recurrence/"]
        .iter()
        .find_map(|prefix| {
            let kind = number(fields, &format!("{prefix}Type"))?;
            let day = number(fields, &format!("{prefix}DayOfMonth"))?;
            Some((kind, day))
        });
    let Some((kind, day)) = rule else { return };
    if !matches!(kind, 2 | 5) || !(29..=31).contains(&day) || !reported.insert(item.to_string()) {
        return;
    }
    let every = if kind == 2 { "monthly" } else { "yearly" };
    let message = format!(
        "Meeting {item} (session {}) recurs {every} on day {day} (Recurrence Type {kind}): some devices skip the months without a day {day}.",
        cx.index(p)
    );
    out.push(cx.finding(RuleId::RecurrenceDay2931, Severity::Info, message, &[p], item));
}

/// Pattern 9: a cancellation of one occurrence of a recurring series written as a cancellation
/// of the series, and the device's Delete of the series that follows it.
fn series_cancelled(
    cx: &Cx<'_>,
    i: usize,
    fields: &[(String, String)],
    copies: &HashMap<String, ServerCopy>,
    by_uid: &HashMap<String, String>,
    out: &mut Vec<Finding>,
) {
    let Op { p, op, .. } = &cx.ops[i];
    let (p, Some(uid)) = (*p, op.uid) else { return };
    let cancelled = get(fields, "MessageClass").is_some_and(|c| c.starts_with("IPM.Schedule.Meeting.Canceled"));
    let series_form = get(fields, "MeetingRequest/InstanceType").is_none_or(|t| t == "0")
        && get(fields, "MeetingRequest/RecurrenceId").is_none()
        && !has_under(fields, "MeetingRequest/Recurrences/");
    if !cancelled || !series_form {
        return;
    }
    let Some(series_id) = by_uid.get(&series_uid(uid)) else {
        return;
    };
    let Some(series) = copies.get(series_id).filter(|c| c.recurring) else {
        return;
    };
    // An occurrence was meant: the GlobalObjId carries its date, or the cancellation starts
    // elsewhere than the series.
    let start = get(fields, "MeetingRequest/StartTime").map(date_key);
    let occurrence = names_occurrence(uid) || (start.is_some() && start != series.start);
    if !occurrence {
        return;
    }
    let delete = cx.ops[i + 1..]
        .iter()
        .filter(|o| o.p > p)
        .take_while(|o| o.p <= p + DELETE_AFTER_CANCEL_SESSIONS)
        .take_while(|o| cx.seconds(p, o.p).is_none_or(|s| s <= DELETE_AFTER_CANCEL_SECS))
        .find(|o| {
            o.op.side == Side::Request
                && o.op.action == ItemAction::Delete
                && o.op.server_id == Some(series_id.as_str())
        })
        .map(|o| o.p);
    let when = start.as_deref().map(stamp_text).unwrap_or_default();
    let (severity, then, evidence) = match delete {
        Some(d) => (
            Severity::Error,
            format!("; the device deleted the whole series in session {}", cx.index(d)),
            vec![p, d],
        ),
        None => (
            Severity::Warning,
            "; the device may remove every occurrence".to_string(),
            vec![p],
        ),
    };
    let message = format!(
        "The cancellation in session {} names one occurrence ({when}) of the recurring meeting {series_id} but reads as a cancellation of the series (InstanceType 0, no RecurrenceId){then}.",
        cx.index(p)
    );
    // The history of the series' ServerId follows its UID to the meeting messages.
    out.push(cx.finding(RuleId::RecurringSeriesDeleted, severity, message, &evidence, series_id));
}

// ---------------------------------------------------------------------------------------------
// Contacts: pattern 13

/// A contact as duplicates are told: FileAs and email address, lower case.
fn contact_key(fields: &[(String, String)]) -> Option<(String, String)> {
    let file_as = get(fields, "FileAs").map(|s| s.to_lowercase()).unwrap_or_default();
    let email = get(fields, "Email1Address").map(address).unwrap_or_default();
    (!file_as.is_empty() || !email.is_empty()).then_some((file_as, email))
}

fn contacts(cx: &mut Cx<'_>, out: &mut Vec<Finding>) {
    // Contact → ServerIds with the session that made each known, and the sessions of the
    // device's Adds of it.
    #[derive(Default)]
    struct Seen {
        server_ids: Vec<(String, usize)>,
        client_adds: Vec<usize>,
        evidence: Vec<usize>,
        why: Vec<&'static str>,
    }
    let mut seen: HashMap<(String, String), Seen> = HashMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for i in 0..cx.ops.len() {
        let op = cx.ops[i].op;
        let p = cx.ops[i].p;
        if !is_class(&op, "Contacts") {
            continue;
        }
        let client_add = op.side == Side::Request && op.action == ItemAction::Add && op.client_id.is_some();
        if !is_server_item(&op) && !client_add {
            continue;
        }
        let fields = cx.fields(i).to_vec();
        let Some(key) = contact_key(&fields) else { continue };
        let s = seen.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Seen::default()
        });
        if client_add {
            if let Some((_, at)) = s.server_ids.first() {
                s.evidence.extend([*at, p]);
                s.why.push("the device added a contact the server had already sent");
            } else if let Some(&at) = s.client_adds.first() {
                s.evidence.extend([at, p]);
                s.why.push("the device added the same contact again");
            }
            s.client_adds.push(p);
            // The ServerId the server gave it, in the same session's Responses.
            let assigned = cx
                .ops_of(p)
                .iter()
                .filter(|o| o.op.reply && o.op.action == ItemAction::Add)
                .find(|o| o.op.client_id == op.client_id)
                .and_then(|o| o.op.server_id);
            if let Some(id) = assigned
                && !s.server_ids.iter().any(|(known, _)| known == id)
            {
                s.server_ids.push((id.to_string(), p));
            }
        } else if let Some(id) = op.server_id
            && !s.server_ids.iter().any(|(known, _)| known == id)
        {
            s.server_ids.push((id.to_string(), p));
        }
    }
    for key in order {
        let s = &seen[&key];
        let several = s.server_ids.len() > 1;
        if s.evidence.is_empty() && !several {
            continue;
        }
        let mut evidence = s.evidence.clone();
        let mut why: Vec<&str> = s.why.clone();
        if several {
            evidence.extend(s.server_ids.iter().map(|(_, p)| *p));
            why.push("the same contact now has several ServerIds");
        }
        why.dedup();
        let ids: Vec<&str> = s.server_ids.iter().map(|(id, _)| id.as_str()).collect();
        let message = format!(
            "A contact is on the device twice ({}): ServerId{} {} ({}).",
            why.join("; "),
            if ids.len() == 1 { "" } else { "s" },
            if ids.is_empty() {
                "not assigned".to_string()
            } else {
                ids.join(", ")
            },
            cx.sessions_text(&evidence)
        );
        let item = ids.first().copied().unwrap_or("");
        out.push(cx.finding(RuleId::DuplicateContacts, Severity::Warning, message, &evidence, item));
    }
}

// ---------------------------------------------------------------------------------------------
// Meeting responses: pattern 14

fn meeting_response_loops(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    // (device, collection, RequestId, InstanceId) → the sessions that answered it.
    type Request<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let mut groups: HashMap<Request<'_>, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for o in cx
        .ops
        .iter()
        .filter(|o| o.op.side == Side::Request && o.op.action == ItemAction::MeetingResponse)
    {
        let device = cx
            .session(o.p)
            .eas
            .as_ref()
            .and_then(|e| e.identity.device_id.as_deref());
        let key = (device, o.op.collection_id, o.op.server_id, o.op.instance_id);
        let g = groups.entry(key).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        if g.last() != Some(&o.p) {
            g.push(o.p);
        }
    }
    for key in order {
        let positions = &groups[&key];
        if positions.len() < RESPONSE_LOOP_MIN {
            continue;
        }
        let (_, _, request, instance) = key;
        let request = request.unwrap_or("?");
        let agent = cx
            .session(positions[0])
            .eas
            .as_ref()
            .and_then(|e| e.identity.user_agent.as_deref())
            .unwrap_or("no User-Agent");
        let known = if agent.contains("/1002.") {
            " (iOS 6.1, the known case)"
        } else {
            ""
        };
        let occurrence = instance.map(|i| format!(", occurrence {i}")).unwrap_or_default();
        let message = format!(
            "The device sent MeetingResponse for meeting request {request}{occurrence} {} times ({}), User-Agent {agent}{known}.",
            positions.len(),
            cx.sessions_text(positions)
        );
        out.push(cx.finding(
            RuleId::MeetingResponseLoop,
            Severity::Warning,
            message,
            positions,
            request,
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies: pattern 15

/// Why a fetch of a whole item failed, if it did.
fn fetch_failure(cx: &Cx<'_>, o: &Op<'_>) -> Option<String> {
    let s = cx.session(o.p);
    if s.response.is_none() {
        return Some("no response".into());
    }
    if let Some(code) = s.http_status().filter(|c| *c >= 500) {
        return Some(format!("HTTP {code}"));
    }
    let status = o.op.status.filter(|&v| v != 1)?;
    let name = status_meaning(
        Command::ItemOperations,
        &["ItemOperations", "Response", "Fetch", "Status"],
        status,
    )
    .map(|m| format!(" {}", m.name))
    .unwrap_or_default();
    Some(format!("Status {status}{name}"))
}

fn bodies_not_downloaded(cx: &mut Cx<'_>, out: &mut Vec<Finding>) {
    // ServerId → its fetches, in order: (position, failure).
    let mut fetches: HashMap<&str, Vec<(usize, Option<String>)>> = HashMap::new();
    let mut order = Vec::new();
    for o in cx.ops.iter().filter(|o| is_body_fetch(&o.op)) {
        let Some(id) = o.op.server_id else { continue };
        let list = fetches.entry(id).or_insert_with(|| {
            order.push(id);
            Vec::new()
        });
        list.push((o.p, fetch_failure(cx, o)));
    }
    // ServerId → the server's Adds of it (operation positions, in order).
    let mut adds: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, o) in cx.ops.iter().enumerate() {
        if o.op.side == Side::Response
            && !o.op.reply
            && o.op.action == ItemAction::Add
            && let Some(id) = o.op.server_id
            && fetches.contains_key(id)
        {
            adds.entry(id).or_default().push(i);
        }
    }
    let mut found = Vec::new();
    for id in order {
        let list = &fetches[id];
        let Some(first_failure) = list.iter().position(|(_, f)| f.is_some()) else {
            continue;
        };
        // A fetch that succeeded before or after: the body reached the device.
        if list.iter().any(|(_, f)| f.is_none()) {
            continue;
        }
        let fetch_at = list[first_failure].0;
        let add = adds
            .get(id)
            .and_then(|a| a.iter().rev().find(|&&i| cx.ops[i].p < fetch_at))
            .copied();
        if let Some(add) = add {
            found.push((id.to_string(), add, list.clone()));
        }
    }
    for (id, add, list) in found {
        let fields = cx.fields(add).to_vec();
        let truncated = get(&fields, "Body/Truncated").is_some_and(|t| t == "1" || t.eq_ignore_ascii_case("true"));
        let estimated = number(&fields, "Body/EstimatedDataSize").unwrap_or(0);
        let no_data = get(&fields, "Body/Data").is_none();
        if !(truncated || estimated > 0 && no_data) {
            continue;
        }
        let how = if truncated {
            "a truncated body (Truncated 1)".to_string()
        } else {
            format!("no body data ({estimated} bytes estimated)")
        };
        let add_p = cx.ops[add].p;
        let failures: Vec<String> = list
            .iter()
            .map(|(p, f)| format!("session {} {}", cx.index(*p), f.as_deref().unwrap_or("")))
            .collect();
        let message = format!(
            "Item {id} arrived with {how} in session {}, and the device's fetch of the whole item failed ({}): the user sees 'This message has not been downloaded from the server'.",
            cx.index(add_p),
            failures.join(", ")
        );
        let mut evidence = vec![add_p];
        evidence.extend(list.iter().map(|(p, _)| *p));
        out.push(cx.finding(RuleId::BodyNotDownloaded, Severity::Warning, message, &evidence, &id));
    }
}

// ---------------------------------------------------------------------------------------------
// Items that fail: pattern 16

fn item_sync_failures(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    // (collection, id) → the run of Syncs that failed it: (position, status).
    type Item<'a> = (Option<&'a str>, &'a str);
    type Run = Vec<(usize, u32)>;
    let mut runs: HashMap<Item<'_>, Run> = HashMap::new();
    let mut done: Vec<(Item<'_>, Run)> = Vec::new();
    let mut order = Vec::new();
    for o in cx.ops.iter().filter(|o| {
        o.op.side == Side::Response
            && o.op.reply
            && matches!(
                o.op.action,
                ItemAction::Add | ItemAction::Change | ItemAction::Delete | ItemAction::Fetch
            )
    }) {
        let Some(id) = o.op.server_id.or(o.op.client_id) else {
            continue;
        };
        let key = (o.op.collection_id, id);
        let run = runs.entry(key).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        match o.op.status {
            Some(s) if ITEM_FAILURES.contains(&s) => {
                if run.last().map(|(p, _)| *p) != Some(o.p) {
                    run.push((o.p, s));
                }
            }
            Some(1) | None => {
                // Applied (no Status in a reply means success): the run ends.
                let run = std::mem::take(run);
                if run.len() >= ITEM_FAILURE_MIN {
                    done.push((key, run));
                }
            }
            Some(_) => {}
        }
    }
    for key in order {
        let run = runs.remove(&key).unwrap_or_default();
        if run.len() >= ITEM_FAILURE_MIN {
            done.push((key, run));
        }
    }
    for ((collection, id), run) in done {
        let positions: Vec<usize> = run.iter().map(|(p, _)| *p).collect();
        let mut statuses: Vec<String> = Vec::new();
        for (_, s) in &run {
            let name = status_meaning(
                Command::Sync,
                &["Sync", "Collections", "Collection", "Responses", "Change", "Status"],
                *s,
            )
            .map_or_else(|| s.to_string(), |m| format!("{s} {}", m.name));
            if !statuses.contains(&name) {
                statuses.push(name);
            }
        }
        let folder = collection.map(|c| format!(" in collection {c}")).unwrap_or_default();
        let message = format!(
            "Item {id}{folder} failed in {} successive Syncs with Status {} ({}).",
            run.len(),
            statuses.join(", "),
            cx.sessions_text(&positions)
        );
        out.push(cx.finding(RuleId::ItemSyncFailure, Severity::Warning, message, &positions, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().map(|(p, v)| (p.to_string(), v.to_string())).collect()
    }

    #[test]
    fn dates_of_both_forms_compare() {
        assert_eq!(date_key("20240321T130000Z"), date_key("2024-03-21T13:00:00.000Z"));
        assert!(date_key("2024-03-21T12:50:00.000Z") < date_key("20240321T130000Z"));
        assert_eq!(stamp_text("20240321130000"), "2024-03-21 13:00:00 UTC");
    }

    #[test]
    fn an_occurrence_goid_belongs_to_its_series() {
        let series = format!("{GOID_PREFIX}00000000A1B2");
        let occurrence = format!("{GOID_PREFIX}07E80315A1B2");
        assert_eq!(series_uid(&occurrence), series_uid(&series));
        assert!(names_occurrence(&occurrence) && !names_occurrence(&series));
        // A UID whose date bytes are not whole characters is its own series (and no panic).
        let odd = "040000008200E00074C5B7101A82E008€€€€€€";
        assert_eq!(series_uid(odd), odd.to_ascii_uppercase());
        assert!(!names_occurrence(odd) && !names_occurrence("ab"));
    }

    #[test]
    fn an_attendee_taking_the_organizer_role_is_told_and_a_reminder_change_is_not() {
        let copy = ServerCopy {
            organizer_name: Some("Avery Lee".into()),
            organizer_email: Some("avery@example.com".into()),
            meeting_status: Some(3),
            ..ServerCopy::default()
        };
        let same = fields(&[
            ("OrganizerName", "Avery Lee"),
            ("OrganizerEmail", "\"Avery Lee\" <Avery@Example.com>"),
            ("MeetingStatus", "3"),
            ("Reminder", "30"),
        ]);
        assert_eq!(organizer_taken(&copy, &same), None);
        let taken = fields(&[
            ("OrganizerName", "Jordan Doe"),
            ("OrganizerEmail", "jdoe@example.com"),
            ("MeetingStatus", "1"),
        ]);
        let what = organizer_taken(&copy, &taken).unwrap();
        assert!(
            what.contains("OrganizerEmail") && what.contains("MeetingStatus 3 (received) into 1"),
            "{what}"
        );
        // Received and cancelled (7) to received (3): still received, nothing taken.
        let cancelled = ServerCopy {
            meeting_status: Some(7),
            ..ServerCopy::default()
        };
        assert_eq!(organizer_taken(&cancelled, &fields(&[("MeetingStatus", "3")])), None);
    }

    #[test]
    fn contacts_are_told_by_file_as_and_address() {
        let a = fields(&[
            ("FileAs", "Lee, Avery"),
            ("Email1Address", "\"Avery Lee\" <avery@example.com>"),
        ]);
        let b = fields(&[("FileAs", "lee, avery"), ("Email1Address", "AVERY@example.com")]);
        assert_eq!(contact_key(&a), contact_key(&b));
        assert_eq!(contact_key(&fields(&[("CompanyName", "Fabrikam")])), None);
    }
}
