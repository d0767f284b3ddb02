//! SyncKey chains: per device and collection (and per device for the folder hierarchy of
//! FolderSync), the request SyncKey → response SyncKey of every Sync/FolderSync in capture order,
//! with what is wrong about each link.
//!
//! The SyncKey protocol ([MS-ASCMD] 2.2.3.166.4 for Sync, 2.2.3.166.1 for FolderSync): the client
//! starts a collection with SyncKey 0, and every successful response hands out the key the next
//! request must carry. Status 3 (Sync) or 9 (FolderSync) means the server no longer knows the key
//! and the client must start again from 0; Sync Status 12 means the folder hierarchy changed and a
//! FolderSync is due. Exchange keeps the previous state too, so one resend of the old key after a
//! lost response is recovery, not a fault; several in a row are (failure pattern 3).
//!
//! Built from the EAS summaries computed at indexing time — no body is decoded again.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::rules::Severity;
use super::{device_of, started};
use crate::capture::{Capture, Session};
use crate::eas::Command;
use crate::eas::session::{BodyState, EasSummary, StatusEntry};
use crate::eas::status::Verdict;
use crate::http::Side;

/// The `collection` of a FolderSync chain.
pub const HIERARCHY: &str = "FolderSync";

/// What a link of a chain shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// SyncKey 0 as the chain's first key: the normal initial synchronisation.
    Initial,
    /// SyncKey 0 after a non-zero key: the collection is synchronised again from scratch.
    Reset,
    /// A successful Sync that hands out no new key for the collection: the server had no changes
    /// (an empty 200 response, or a response that leaves the collection out, [MS-ASCMD] 2.2.1.21),
    /// so the request's key stays the current one. Normal.
    KeyUnchanged,
    /// The same key as the previous request although the server has handed out a newer one.
    Repeated,
    /// A non-zero key that is neither the last key the server handed out nor the previous request's.
    Unexpected,
    /// Sync Status 3 / FolderSync Status 9: the server does not know the key; restart from 0.
    InvalidKey,
    /// Sync Status 12: the folder hierarchy changed; the client must run FolderSync.
    HierarchyChanged,
    /// Any other failing Status for the collection (or the whole command).
    Failed,
    /// A non-2xx HTTP answer: no new key.
    HttpError,
    /// No response at all (aborted session).
    NoResponse,
}

impl Mark {
    /// How bad the mark is: `None` for the normal initial key; warnings for what may recover
    /// (the same key again, an unexpected key, hierarchy changed, no response); errors for what
    /// loses state (reset, invalid key, failed Status, HTTP error).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Mark::Initial | Mark::KeyUnchanged => None,
            Mark::Repeated | Mark::Unexpected | Mark::HierarchyChanged | Mark::NoResponse => Some(Severity::Warning),
            Mark::Reset | Mark::InvalidKey | Mark::Failed | Mark::HttpError => Some(Severity::Error),
        }
    }
}

/// One Sync or FolderSync request as it concerns one collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The session's capture index ([`HttpSession::index`](crate::readers::HttpSession::index)).
    pub session: u32,
    /// Position of the session in [`Capture::sessions`].
    #[serde(skip)]
    pub position: usize,
    pub time: Option<DateTime<FixedOffset>>,
    pub http_status: Option<u16>,
    /// `None` when the request did not name the key (lost body, cached Sync, response-only data).
    pub request_key: Option<String>,
    /// `None` when the response handed out no key (error, no changes, empty body); with no changes
    /// the link is marked [`Mark::KeyUnchanged`].
    pub response_key: Option<String>,
    /// The collection's Status (else the command's top-level Status).
    pub status: Option<u32>,
    pub marks: Vec<Mark>,
    /// How many requests in a row (this one included) sent this request key.
    pub repeat: u32,
}

impl Link {
    pub fn has(&self, mark: Mark) -> bool {
        self.marks.contains(&mark)
    }
}

impl Chain {
    /// True when a link has a mark worse than the initial key.
    pub fn has_problem(&self) -> bool {
        self.links
            .iter()
            .any(|l| l.marks.iter().any(|m| m.severity().is_some()))
    }
}

/// The links of one collection of one device, in capture order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    /// DeviceId (else user) of the requests.
    pub device: String,
    pub user: Option<String>,
    /// The CollectionId, or [`HIERARCHY`] for FolderSync.
    pub collection: String,
    pub hierarchy: bool,
    pub links: Vec<Link>,
}

/// Every chain of a capture, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncKeyChains {
    pub chains: Vec<Chain>,
}

/// Per chain, what the next link is compared with.
#[derive(Debug, Default)]
struct State {
    /// The last key a successful response handed out.
    last_good: Option<String>,
    previous_request: Option<String>,
    run: u32,
    /// A non-zero key has been seen (so a 0 now is a reset, not the start).
    seen_nonzero: bool,
}

impl SyncKeyChains {
    pub fn build(capture: &Capture) -> SyncKeyChains {
        Self::from_sessions(&capture.sessions)
    }

    pub fn from_sessions(sessions: &[Session]) -> SyncKeyChains {
        let mut chains: Vec<Chain> = Vec::new();
        let mut states: Vec<State> = Vec::new();
        let mut by_key: HashMap<(String, String, bool), usize> = HashMap::new();
        for (position, session) in sessions.iter().enumerate() {
            let Some(eas) = &session.eas else { continue };
            let hierarchy = match eas.command {
                Some(Command::Sync) => false,
                Some(Command::FolderSync) => true,
                _ => continue,
            };
            for entry in entries(eas, hierarchy) {
                let device = device_of(session).to_string();
                let collection = entry.collection.unwrap_or(HIERARCHY).to_string();
                let at = *by_key
                    .entry((device.clone(), collection.clone(), hierarchy))
                    .or_insert_with(|| {
                        chains.push(Chain {
                            device,
                            user: eas.user.as_deref().map(String::from),
                            collection,
                            hierarchy,
                            links: Vec::new(),
                        });
                        states.push(State::default());
                        chains.len() - 1
                    });
                let link = link(session, position, hierarchy, entry, &mut states[at]);
                chains[at].links.push(link);
            }
        }
        SyncKeyChains { chains }
    }

    /// The chain of `collection` (or [`HIERARCHY`]) of `device`.
    pub fn chain(&self, device: &str, collection: &str) -> Option<&Chain> {
        self.chains
            .iter()
            .find(|c| c.device == device && c.collection == collection)
    }
}

/// What one session says about one collection.
struct Entry<'a> {
    collection: Option<&'a str>,
    request_key: Option<&'a str>,
    response_key: Option<&'a str>,
    status: Option<&'a StatusEntry>,
    /// The response says something about this collection (its own Status or key).
    answered: bool,
}

/// The collections a Sync names (request keys, response keys, collection Status), or the
/// hierarchy of a FolderSync.
fn entries(eas: &EasSummary, hierarchy: bool) -> Vec<Entry<'_>> {
    let key = |side: Side, cid: Option<&str>| {
        eas.sync_keys
            .iter()
            .find(|k| k.side == side && k.collection_id.as_deref() == cid)
            .map(|k| k.value.as_str())
    };
    let response_statuses = || eas.statuses.iter().filter(|s| s.side == Side::Response);
    // The command's own Status (`Sync/Status`, `FolderSync/Status`) applies to every collection.
    let top = response_statuses().find(|s| s.collection_id.is_none() && s.path.matches('/').count() == 1);
    if hierarchy {
        return vec![Entry {
            collection: None,
            request_key: key(Side::Request, None),
            response_key: key(Side::Response, None),
            status: top,
            answered: true,
        }];
    }
    let mut collections: Vec<&str> = Vec::new();
    let named = eas
        .sync_keys
        .iter()
        .filter_map(|k| k.collection_id.as_deref())
        .chain(response_statuses().filter_map(|s| s.collection_id.as_deref()));
    for cid in named {
        if !collections.contains(&cid) {
            collections.push(cid);
        }
    }
    collections
        .into_iter()
        .map(|cid| {
            // The collection's own Status, not an item's (`Collection/Responses/Add/Status`).
            let own = response_statuses()
                .find(|s| s.collection_id.as_deref() == Some(cid) && s.path.ends_with("Collection/Status"));
            let response_key = key(Side::Response, Some(cid));
            Entry {
                collection: Some(cid),
                request_key: key(Side::Request, Some(cid)),
                response_key,
                status: own.or(top),
                answered: own.is_some() || response_key.is_some(),
            }
        })
        .collect()
}

fn link(session: &Session, position: usize, hierarchy: bool, e: Entry<'_>, st: &mut State) -> Link {
    let mut marks = Vec::new();
    let http_status = session.http_status();
    let http_ok = http_status.is_some_and(|c| (200..300).contains(&c));
    match http_status {
        None => marks.push(Mark::NoResponse),
        Some(_) if !http_ok => marks.push(Mark::HttpError),
        Some(_) => {}
    }
    let status = e.status.and_then(|s| s.value);
    let failed = e.status.is_some_and(|s| s.verdict == Verdict::Failure);
    // No changes: the server answered 2xx with an empty body, or with a body that leaves this
    // collection out; the key the request carried stays current.
    let response_read = session
        .eas
        .as_ref()
        .is_some_and(|eas| matches!(eas.response_body, BodyState::Empty | BodyState::None | BodyState::Wbxml));
    let unchanged =
        !hierarchy && http_ok && !failed && response_read && !e.answered && e.request_key.is_some_and(|r| r != "0");
    match (hierarchy, status) {
        (false, Some(3)) | (true, Some(9)) => marks.push(Mark::InvalidKey),
        (false, Some(12)) => marks.push(Mark::HierarchyChanged),
        _ if failed => marks.push(Mark::Failed),
        _ => {}
    }
    if let Some(r) = e.request_key {
        st.run = if st.previous_request.as_deref() == Some(r) {
            st.run + 1
        } else {
            1
        };
        if r == "0" {
            marks.push(if st.seen_nonzero { Mark::Reset } else { Mark::Initial });
        } else if let Some(good) = st.last_good.as_deref()
            && good != r
        {
            marks.push(if st.previous_request.as_deref() == Some(r) {
                Mark::Repeated
            } else {
                Mark::Unexpected
            });
        }
        st.seen_nonzero |= r != "0";
        st.previous_request = Some(r.to_string());
    }
    if unchanged {
        marks.push(Mark::KeyUnchanged);
    }
    if let Some(k) = e.response_key {
        st.seen_nonzero |= k != "0";
        // A key that comes with a failure (Status 3 answers with SyncKey 0) is not one to follow.
        if http_ok && !failed && k != "0" {
            st.last_good = Some(k.to_string());
        }
    }
    Link {
        session: session.index,
        position,
        time: started(session),
        http_status,
        request_key: e.request_key.map(str::to_string),
        response_key: e.response_key.map(str::to_string),
        status,
        marks,
        repeat: if e.request_key.is_some() { st.run } else { 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::session;

    fn marks(sessions: &[Session]) -> Vec<Vec<Mark>> {
        let chains = SyncKeyChains::from_sessions(sessions);
        assert_eq!(chains.chains.len(), 1, "{chains:#?}");
        chains.chains[0].links.iter().map(|l| l.marks.clone()).collect()
    }

    #[test]
    fn a_healthy_chain_has_only_its_initial_mark() {
        let s = [
            session(1, Some("5"), Some("0"), Some(200), Some("100"), Some(1)),
            session(2, Some("5"), Some("100"), Some(200), Some("101"), Some(1)),
            // No changes: empty response, the key stays.
            session(3, Some("5"), Some("101"), Some(200), None, None),
            session(4, Some("5"), Some("101"), Some(200), Some("102"), Some(1)),
        ];
        assert_eq!(
            marks(&s),
            [vec![Mark::Initial], vec![], vec![Mark::KeyUnchanged], vec![]]
        );
        let chains = SyncKeyChains::from_sessions(&s);
        let chain = chains.chain("DEV1", "5").unwrap();
        assert_eq!(chain.links.iter().map(|l| l.repeat).collect::<Vec<_>>(), [1, 1, 1, 2]);
        assert!(!chain.hierarchy);
    }

    #[test]
    fn zero_after_a_nonzero_key_is_a_reset_and_errors_are_marked() {
        let s = [
            session(1, Some("5"), Some("100"), Some(200), Some("101"), Some(1)),
            session(2, Some("5"), Some("101"), Some(500), None, None),
            session(3, Some("5"), Some("101"), None, None, None),
            session(4, Some("5"), Some("101"), Some(200), Some("0"), Some(3)),
            session(5, Some("5"), Some("0"), Some(200), Some("200"), Some(1)),
            session(6, Some("5"), Some("200"), Some(200), Some("201"), Some(12)),
        ];
        assert_eq!(
            marks(&s),
            [
                vec![],
                vec![Mark::HttpError],
                vec![Mark::NoResponse],
                vec![Mark::InvalidKey],
                vec![Mark::Reset],
                vec![Mark::HierarchyChanged],
            ]
        );
    }

    #[test]
    fn old_key_sent_again_is_repeated_and_a_stranger_is_unexpected() {
        let s = [
            session(1, Some("5"), Some("100"), Some(200), Some("101"), Some(1)),
            session(2, Some("5"), Some("100"), Some(200), Some("102"), Some(1)),
            session(3, Some("5"), Some("100"), Some(503), None, None),
            session(4, Some("5"), Some("777"), Some(200), Some("778"), Some(1)),
        ];
        assert_eq!(
            marks(&s),
            [
                vec![],
                vec![Mark::Repeated],
                vec![Mark::HttpError, Mark::Repeated],
                vec![Mark::Unexpected],
            ]
        );
        let chains = SyncKeyChains::from_sessions(&s);
        assert_eq!(chains.chains[0].links[2].repeat, 3);
    }

    #[test]
    fn folder_sync_is_its_own_chain_and_status_9_is_an_invalid_key() {
        let s = [
            session(1, None, Some("0"), Some(200), Some("1"), Some(1)),
            session(2, Some("5"), Some("0"), Some(200), Some("100"), Some(1)),
            session(3, None, Some("1"), Some(200), None, Some(9)),
            session(4, None, Some("0"), Some(200), Some("1"), Some(1)),
        ];
        let chains = SyncKeyChains::from_sessions(&s);
        assert_eq!(chains.chains.len(), 2);
        let h = chains.chain("DEV1", HIERARCHY).unwrap();
        assert!(h.hierarchy);
        assert_eq!(h.links.iter().map(|l| l.session).collect::<Vec<_>>(), [1, 3, 4]);
        let m: Vec<_> = h.links.iter().map(|l| l.marks.clone()).collect();
        assert_eq!(m, [vec![Mark::Initial], vec![Mark::InvalidKey], vec![Mark::Reset]]);
    }

    #[test]
    fn devices_have_separate_chains() {
        let mut other = session(2, Some("5"), Some("0"), Some(200), Some("9"), Some(1));
        if let Some(e) = other.eas.as_mut() {
            e.device_id = Some("DEV2".into());
        }
        let s = [
            session(1, Some("5"), Some("100"), Some(200), Some("101"), Some(1)),
            other,
        ];
        let chains = SyncKeyChains::from_sessions(&s);
        assert_eq!(chains.chains.len(), 2);
        assert_eq!(chains.chain("DEV2", "5").unwrap().links[0].marks, [Mark::Initial]);
    }
}
