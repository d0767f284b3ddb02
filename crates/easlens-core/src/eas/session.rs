//! The EAS view of one session: what the request line and headers say (command, user, device,
//! protocol version, policy key, throttling, redirects, credential expiry), every Status in the
//! bodies with its meaning and verdict, the SyncKeys and CollectionIds, and why the session
//! deserves attention. Computed once at indexing time from what the bodies hold ([`crate::content`]),
//! whose bytes are then dropped. The headers read are those of `headers.tsv` ([`super::headers`]).

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde::Serialize;

use super::Command;
use super::headers;
use super::items::{self, FolderOp, ItemOps};
use super::query::{self, QueryForm};
use super::status::{self, Level, Verdict};
use crate::content::{Content, ContentKind};
use crate::http::{Headers, Side};
use crate::readers::HttpSession;
use crate::shared::Shared;
use crate::wbxml::{Document, Element, Event, names};

include!(concat!(env!("OUT_DIR"), "/eas_header_fill.rs"));

/// The path every ActiveSync request goes to ([MS-ASHTTP] 2.2.1.1.1).
pub const EAS_PATH: &str = "/microsoft-server-activesync";

/// What a body turned out to hold. Serialized as `wbxml`, `empty`, `lost`, `other`, `none`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyState {
    /// An ActiveSync WBXML document (or a multipart body whose part 0 is one).
    Wbxml,
    /// A body was sent but it has no bytes.
    Empty,
    /// The capture does not have the bytes (destroyed or left out by a HAR exporter).
    Lost,
    /// Bytes that are not WBXML (MIME for SendMail in 12.x, HTML error pages, …).
    Other,
    /// No body at all (no request/response, or a method without a body).
    #[default]
    None,
}

impl From<ContentKind> for BodyState {
    fn from(kind: ContentKind) -> Self {
        match kind {
            ContentKind::Wbxml => BodyState::Wbxml,
            ContentKind::Bytes => BodyState::Other,
            ContentKind::Empty => BodyState::Empty,
            ContentKind::Lost => BodyState::Lost,
            ContentKind::None => BodyState::None,
        }
    }
}

/// Why a session is highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Highlight {
    /// Non-2xx HTTP status.
    Http,
    /// `X-MS-ASThrottle` on the response.
    Throttle,
    /// A Status in the response body that means failure: the command's, or one item's (an
    /// informational value, such as Status 173 NoPicture of a GAL result, never highlights).
    Status,
}

/// One Status element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEntry {
    pub side: Side,
    /// Element names from the root, e.g. `Sync/Collections/Collection/Status`.
    pub path: Shared,
    /// The text as sent.
    pub raw: Shared,
    /// The value, when it is a number.
    pub value: Option<u32>,
    pub verdict: Verdict,
    /// What the Status reports on, from its path: the command (or a collection or store), or one
    /// item, operation or result inside the body ([`status::level`]).
    pub level: Level,
    /// Short name of the value (`InvalidSyncKey`), when known.
    pub name: Option<&'static str>,
    /// One-sentence meaning, when known.
    pub meaning: Option<&'static str>,
    /// The CollectionId (or Ping folder Id) of the Collection/Folder the Status is in; `None` at
    /// the top level, so that SyncKey chains can pair a collection's Status with its keys.
    pub collection_id: Option<Shared>,
    /// The Status element's node in its body's document ([`crate::wbxml::Element::node_id`]): the
    /// inspector, which decodes the same bytes the same way, annotates that element's line.
    #[serde(skip)]
    pub node: Option<u32>,
}

/// A SyncKey and the collection it belongs to (None for FolderSync's hierarchy key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncKeyEntry {
    pub side: Side,
    pub collection_id: Option<Shared>,
    pub value: String,
}

/// Response and request headers that matter to an EAS support engineer and that most sessions do
/// not carry; which header fills which field is the `field` column of `headers.tsv` ([`headers`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EasHeaders {
    pub throttle: Option<Box<str>>,
    pub retry_after: Option<Box<str>>,
    pub credentials_expire: Option<Box<str>>,
    pub credential_service_url: Option<Box<str>>,
    pub location: Option<Box<str>>,
    pub cas_error_code: Option<Box<str>>,
    pub reset_partnership: Option<Box<str>>,
    pub protocol_versions: Option<Box<str>>,
    pub protocol_commands: Option<Box<str>>,
    pub accept_multipart: Option<Box<str>>,
}

const NO_EAS_HEADERS: EasHeaders = EasHeaders {
    throttle: None,
    retry_after: None,
    credentials_expire: None,
    credential_service_url: None,
    location: None,
    cas_error_code: None,
    reset_partnership: None,
    protocol_versions: None,
    protocol_commands: None,
    accept_multipart: None,
};

/// [`EasHeaders`] allocated only when a session has one of them: every session of a capture keeps
/// its summary while the capture is open, and these ten fields would be 160 bytes of each. Reads
/// (`summary.headers.throttle`) see empty headers when there are none; a write allocates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RareHeaders(Option<Box<EasHeaders>>);

impl std::ops::Deref for RareHeaders {
    type Target = EasHeaders;
    fn deref(&self) -> &EasHeaders {
        self.0.as_deref().unwrap_or(&NO_EAS_HEADERS)
    }
}

impl std::ops::DerefMut for RareHeaders {
    fn deref_mut(&mut self) -> &mut EasHeaders {
        self.0.get_or_insert_with(Box::default)
    }
}

impl Serialize for RareHeaders {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

/// Who sent a request and what it is, from its request line and headers: the same for most
/// sessions of a device, so sessions share one copy ([`EasSummary`] reads as if the fields were
/// its own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Identity {
    pub command: Option<Command>,
    /// The command as named on the wire (`Cmd=` text, or `code N` for an unknown base64 code).
    pub command_raw: Option<Shared>,
    pub query_form: Option<QueryForm>,
    pub user: Option<Shared>,
    pub device_id: Option<Shared>,
    pub device_type: Option<Shared>,
    /// `14.1` etc.: from the base64 query, else the `MS-ASProtocolVersion` header.
    pub protocol_version: Option<Shared>,
    /// From the base64 query, else the `X-MS-PolicyKey` header.
    pub policy_key: Option<Shared>,
    /// `User-Agent` of the request.
    pub user_agent: Option<Shared>,
    /// `MS-Server-ActiveSync` of the response (the Exchange build).
    pub server_version: Option<Shared>,
}

impl Identity {
    /// The one copy of `identity` the process keeps (at most 4,096 of them; past that each
    /// session keeps its own), so that a capture's sessions share theirs: ten fields of every
    /// session were a tenth of what a capture keeps.
    fn shared(identity: Arc<Identity>) -> Arc<Identity> {
        static KNOWN: LazyLock<Mutex<HashSet<Arc<Identity>>>> = LazyLock::new(Mutex::default);
        let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(one) = known.get(&*identity) {
            return one.clone();
        }
        if known.len() < 4096 {
            known.insert(identity.clone());
        }
        identity
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EasSummary {
    /// Command, user, device, versions: read as `summary.user` (through `Deref`).
    #[serde(flatten)]
    pub identity: Arc<Identity>,
    pub headers: RareHeaders,
    pub request_body: BodyState,
    pub response_body: BodyState,
    /// Every Status element, request first, each side in document order.
    pub statuses: Vec<StatusEntry>,
    pub sync_keys: Vec<SyncKeyEntry>,
    /// CollectionIds (and Ping folder ids) mentioned, in order, without repeats.
    pub collection_ids: Vec<Shared>,
    pub highlights: Vec<Highlight>,
    /// Item operations (Sync, ItemOperations, MoveItems, MeetingResponse, …), request then response.
    pub items: ItemOps,
    /// Folder changes (FolderSync, FolderCreate/Update/Delete).
    pub folders: Vec<FolderOp>,
    /// Problems: query that does not decode, WBXML errors with offsets, bodies that did not decompress…
    pub notes: Vec<String>,
}

impl std::ops::Deref for EasSummary {
    type Target = Identity;
    fn deref(&self) -> &Identity {
        &self.identity
    }
}

/// Writing an identity field while the summary is built (its identity is its own then).
impl std::ops::DerefMut for EasSummary {
    fn deref_mut(&mut self) -> &mut Identity {
        Arc::make_mut(&mut self.identity)
    }
}

impl EasSummary {
    /// Makes the summary as small as a capture keeps it while it is open: the identity becomes
    /// the shared copy, and the lists give back what they grew into but do not use (a list of one
    /// Status grown by `push` holds four).
    fn shrink(&mut self) {
        self.identity = Identity::shared(std::mem::take(&mut self.identity));
        self.statuses.shrink_to_fit();
        self.sync_keys.shrink_to_fit();
        self.collection_ids.shrink_to_fit();
        self.highlights.shrink_to_fit();
        self.folders.shrink_to_fit();
        self.notes.shrink_to_fit();
    }

    /// Integer values of the response's Status elements, in document order.
    pub fn response_status_values(&self) -> Vec<u32> {
        self.statuses
            .iter()
            .filter(|s| s.side == Side::Response)
            .filter_map(|s| s.value)
            .collect()
    }

    pub fn throttled(&self) -> bool {
        self.highlights.contains(&Highlight::Throttle)
    }
}

/// True when the URL goes to the ActiveSync endpoint.
pub fn is_eas_url(url: &str) -> bool {
    url.to_ascii_lowercase().contains(EAS_PATH)
}

/// True when the session is an ActiveSync request: one to the ActiveSync endpoint that is not a
/// CONNECT tunnel.
pub fn is_eas_session(session: &HttpSession) -> bool {
    !session.flags.tunnel && session.request.as_ref().is_some_and(|r| is_eas_url(&r.url()))
}

/// Whether the EAS view reads the `side` body of `session`: never a tunnel's, nor a response the
/// proxy generated (it says nothing about Exchange).
pub fn reads_body(session: &HttpSession, side: Side) -> bool {
    !session.flags.tunnel && (side == Side::Request || !session.flags.generated)
}

/// Computes the EAS view of `session` from what its bodies hold (`response_body` is needed only
/// when [`reads_body`] says so); `None` when the session is not an ActiveSync request (or is a
/// CONNECT tunnel).
pub fn summarize(session: &HttpSession, request_body: &Content, response_body: Option<&Content>) -> Option<EasSummary> {
    if !is_eas_session(session) {
        return None;
    }
    let request = session.request.as_ref()?;
    let mut s = EasSummary::default();
    fill_headers(&mut s, Side::Request, &request.head.headers);
    // OPTIONS needs no query; when it has one (`?User=…&DeviceId=…&DeviceType=…`, as real clients
    // send), its identity is read like any other request's, and only the missing Cmd= is expected.
    // Any other request without a decodable query is worth a note.
    let options = request.head.method.eq_ignore_ascii_case("OPTIONS");
    match query::parse_request_target(&request.head.target) {
        Ok(mut line) => {
            if options && line.command_raw.is_none() {
                line.warnings.retain(|w| !w.starts_with(query::NO_CMD_WARNING));
            }
            s.command = line.command;
            s.command_raw = line.command_raw.map(Shared::from);
            s.query_form = Some(line.form);
            s.user = line.user.map(Shared::from);
            s.device_id = line.device_id.map(Shared::from);
            s.device_type = line.device_type.map(Shared::from);
            if line.form == QueryForm::Base64 {
                s.protocol_version = line.protocol_version.map(Shared::from).or(s.protocol_version.take());
                s.policy_key = line
                    .policy_key
                    .map(|k| Shared::from(k.to_string()))
                    .or(s.policy_key.take());
            }
            s.notes
                .extend(line.warnings.into_iter().map(|w| format!("request line: {w}")));
            s.notes
                .extend(line.notes.into_iter().map(|n| format!("request line: {n}")));
        }
        Err(query::QueryError::MissingQuery { .. }) if options => {}
        Err(e) => s.notes.push(format!("request line: {e}")),
    }
    s.request_body = request_body.kind.into();
    s.notes.extend(request_body.notes.iter().cloned());
    if let Some(doc) = request_body.document() {
        collect(doc, Side::Request, &mut s);
    }

    if let Some(response) = &session.response {
        let h = &response.head.headers;
        fill_headers(&mut s, Side::Response, h);
        if session.flags.generated {
            s.notes.push(format!(
                "response {} was generated by the proxy, not by Exchange",
                response.head.status
            ));
        } else if let Some(body) = response_body {
            s.response_body = body.kind.into();
            s.notes.extend(body.notes.iter().cloned());
            if let Some(doc) = body.document() {
                collect(doc, Side::Response, &mut s);
            }
        }
        if !(200..300).contains(&response.head.status) {
            s.highlights.push(Highlight::Http);
        }
        if s.headers.throttle.is_some() {
            s.highlights.push(Highlight::Throttle);
        }
    }
    if s.statuses
        .iter()
        .any(|st| st.side == Side::Response && st.verdict == Verdict::Failure)
    {
        s.highlights.push(Highlight::Status);
    }
    s.shrink();
    Some(s)
}

/// Collects Status values, SyncKeys, CollectionIds and item/folder operations from a decoded body.
fn collect(doc: &Document, side: Side, s: &mut EasSummary) {
    items::extract(doc, side, &mut s.items, &mut s.folders);
    let root_command = doc.root().and_then(|r| r.name()).and_then(Command::from_name);
    let command = s.command.or(root_command);
    let mut path: Vec<&'static str> = Vec::new();
    // Per open Collection (or root): the CollectionId, SyncKeys and Status entries (indices) seen
    // inside it, so that they are attributed to their collection whatever order the elements come in.
    let mut scopes: Vec<(Option<Shared>, Vec<String>, Vec<usize>)> = vec![(None, Vec::new(), Vec::new())];
    // Malformed byte arrays: (problem, how many elements have it), in order of first appearance.
    let mut malformed: Vec<(String, usize)> = Vec::new();
    for ev in doc.walk() {
        match ev {
            Event::Start(e) => {
                let name = e.name().unwrap_or("Unknown");
                path.push(name);
                if name == names::COLLECTION || name == names::FOLDER {
                    scopes.push((None, Vec::new(), Vec::new()));
                }
            }
            Event::End(e) => {
                let name = path.pop().unwrap_or_default();
                let leaf = !e.has_children() || e.elements().next().is_none();
                if leaf {
                    let text = e.text().unwrap_or_default();
                    let in_ping_folder = path.last() == Some(&names::FOLDER) && path.first() == Some(&names::PING);
                    match name {
                        names::STATUS => {
                            let value = text.trim().parse::<u32>().ok();
                            let full: Vec<&str> = path.iter().copied().chain(std::iter::once(names::STATUS)).collect();
                            let (verdict, meaning) = match (command, value) {
                                (Some(c), Some(v)) => {
                                    (status::verdict(c, &full, v), status::status_meaning(c, &full, v))
                                }
                                _ => (Verdict::Unknown, None),
                            };
                            let level = command.map_or(Level::Command, |c| status::level(c, &full));
                            if let Some(scope) = scopes.last_mut() {
                                scope.2.push(s.statuses.len());
                            }
                            s.statuses.push(StatusEntry {
                                side,
                                path: Shared::from(full.join("/")),
                                raw: Shared::from(text),
                                value,
                                verdict,
                                level,
                                name: meaning.map(|m| m.name),
                                meaning: meaning.map(|m| m.meaning),
                                collection_id: None,
                                node: Some(e.node_id()),
                            });
                        }
                        names::SYNC_KEY => {
                            if let Some(scope) = scopes.last_mut() {
                                scope.1.push(text);
                            }
                        }
                        names::CONVERSATION_ID | names::CONVERSATION_INDEX => {
                            if let Some(problem) = byte_array_problem(name, e) {
                                match malformed.iter_mut().find(|(p, _)| *p == problem) {
                                    Some((_, n)) => *n += 1,
                                    None => malformed.push((problem, 1)),
                                }
                            }
                        }
                        names::COLLECTION_ID | names::ID if name == names::COLLECTION_ID || in_ping_folder => {
                            let id = Shared::from(text);
                            if !s.collection_ids.contains(&id) {
                                s.collection_ids.push(id.clone());
                            }
                            if let Some(scope) = scopes.last_mut() {
                                scope.0.get_or_insert(id);
                            }
                        }
                        _ => {}
                    }
                }
                if (name == names::COLLECTION || name == names::FOLDER) && scopes.len() > 1 {
                    let (cid, keys, statuses) = scopes.pop().unwrap_or_default();
                    for i in statuses {
                        s.statuses[i].collection_id.clone_from(&cid);
                    }
                    push_keys(s, side, cid, keys);
                }
            }
            Event::Data { .. } => {}
        }
    }
    // Unclosed scopes (a truncated document): keys keep their collection, statuses stay unattributed.
    for (cid, keys, _) in scopes {
        push_keys(s, side, cid, keys);
    }
    let which = match side {
        Side::Request => "request body",
        Side::Response => "response body",
    };
    for (problem, n) in malformed {
        let times = if n > 1 {
            format!(" ({n} elements)")
        } else {
            String::new()
        };
        s.notes.push(format!("{which}: {problem}{times}; shown as sent"));
    }
}

/// Longest value quoted in a note about a malformed byte array.
const QUOTE_MAX: usize = 40;

/// What is wrong with a ConversationId or ConversationIndex, `None` when nothing is. Both are byte
/// arrays ([MS-ASDTYPE] 2.7.1) sent as an opaque BLOB ([MS-ASEMAIL] 2.2.2.21): ConversationId is
/// the conversation's 16-byte id (PidTagConversationId, [MS-OXOMSG] 2.2.1.2, the 16-byte
/// ConversationID of [MS-OXOCFG] 2.2.8.8); ConversationIndex is a 5-byte header and 5 bytes per
/// reply or forward ([MS-ASCON] 2.2.2.4). A value sent as a string, or of another size, would be
/// shown as if it were one.
fn byte_array_problem(name: &str, e: Element<'_>) -> Option<String> {
    let (bytes, opaque) = e.data();
    let n = bytes.len();
    let (size_ok, expected, section) = if name == names::CONVERSATION_ID {
        (n == 16, "16 bytes", "[MS-ASEMAIL] 2.2.2.21, [MS-OXOMSG] 2.2.1.2")
    } else {
        (
            n >= 5 && n % 5 == 0,
            "5 bytes and 5 per reply or forward",
            "[MS-ASCON] 2.2.2.4",
        )
    };
    if opaque && size_ok {
        return None;
    }
    let form = if opaque {
        format!("{n} bytes of opaque data")
    } else {
        let text = String::from_utf8_lossy(&bytes);
        let mut quoted: String = text.chars().take(QUOTE_MAX).collect();
        if text.chars().count() > QUOTE_MAX {
            quoted.push('…');
        }
        format!("a string of {n} bytes ({quoted:?})")
    };
    Some(format!(
        "{name} is {form}, not an opaque byte array of {expected} ({section})"
    ))
}

fn push_keys(s: &mut EasSummary, side: Side, collection_id: Option<Shared>, keys: Vec<String>) {
    for value in keys {
        s.sync_keys.push(SyncKeyEntry {
            side,
            collection_id: collection_id.clone(),
            value,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_copies_the_mapped_headers_of_one_side() {
        let mut h = Headers::new();
        for (n, v) in [
            ("MS-ASProtocolVersion", "14.1"),
            ("user-agent", "Outlook"),
            ("X-MS-ASThrottle", "x"),
        ] {
            h.push(n, v);
        }
        let mut s = EasSummary::default();
        fill_headers(&mut s, Side::Request, &h);
        assert_eq!(s.protocol_version.as_deref(), Some("14.1"));
        assert_eq!(s.user_agent.as_deref(), Some("Outlook"));
        assert_eq!(s.headers.throttle, None, "a response header");
        fill_headers(&mut s, Side::Response, &h);
        assert_eq!(s.headers.throttle.as_deref(), Some("x"));
    }
}
