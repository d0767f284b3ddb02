//! Analysis over a whole indexed capture, free of any UI: what a support engineer reads across
//! sessions rather than in one. Everything here works on the EAS summaries computed at indexing
//! time, so it stays cheap on captures of 100,000 sessions; only [`history`] re-decodes bodies,
//! and only those it is asked about.
//!
//! - [`align`] — a capture lined up with the mailbox log of the same device.
//! - [`history`] — what happened to an item across the sessions.
//! - [`folders`] — what the folders are called (from FolderSync and the folder commands).
//! - [`synckey`] — per collection (and the folder hierarchy), the chain of request → response
//!   SyncKeys with what is wrong about each link.
//! - [`findings`] — the findings engine: the known failure patterns, each with a rule id, a
//!   severity, its evidence sessions and an explanation; `item_findings` adds the item-level
//!   patterns, which read the fields of calendar items, contacts and truncated bodies again.
//! - [`rules`] — the findings rules as data (`rules.tsv`): ids, severities, titles, explanations.
//! - [`statistics`] — per device and command: counts, outcomes, durations, Ping heartbeats, bytes.
//!
//! [`Analysis`] is the one aggregate of these over a capture: the window computes it once when a
//! capture opens, the CLI subcommands ask it for the parts they print.

pub mod align;
pub mod findings;
pub mod folders;
pub mod history;
mod iis_findings;
mod item_findings;
pub mod rules;
#[cfg(test)]
mod rules_tsv;
pub mod statistics;
pub mod synckey;

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, FixedOffset};

use crate::capture::{Capture, Session};
use findings::Findings;
use folders::FolderNames;
use history::HistoryIndex;
use synckey::{Mark, SyncKeyChains};

/// Everything the engine computes over a whole capture: the item history index, the folder
/// names, the SyncKey chains, the findings and the sessions a timeline marks.
///
/// Each part is computed once, on first use, by the one recipe below ([`Analysis::findings`]
/// reuses [`Analysis::chains`]), so a caller that needs only some parts (a CLI subcommand) pays
/// only for those, and one that needs them all calls [`Analysis::complete`] (the window does, on a
/// worker thread, while it already shows [`Analysis::folders`]). `C` is how the capture is held:
/// `&Capture`, or `Arc<Capture>` to move the analysis to another thread.
pub struct Analysis<C: Deref<Target = Capture> = Arc<Capture>> {
    capture: C,
    folders: OnceLock<FolderNames>,
    history: OnceLock<HistoryIndex>,
    chains: OnceLock<SyncKeyChains>,
    findings: OnceLock<Findings>,
    throttled: OnceLock<Vec<u32>>,
    synckey_resets: OnceLock<Vec<u32>>,
}

impl<C: Deref<Target = Capture>> Analysis<C> {
    /// The analysis of `capture`, nothing computed yet.
    pub fn new(capture: C) -> Analysis<C> {
        Analysis {
            capture,
            folders: OnceLock::new(),
            history: OnceLock::new(),
            chains: OnceLock::new(),
            findings: OnceLock::new(),
            throttled: OnceLock::new(),
            synckey_resets: OnceLock::new(),
        }
    }

    /// The analysis of `capture` with every part computed.
    pub fn build(capture: C) -> Analysis<C> {
        let analysis = Analysis::new(capture);
        analysis.complete();
        analysis
    }

    /// Computes every part not computed yet.
    pub fn complete(&self) {
        self.folders();
        self.throttled();
        self.history();
        self.findings();
        self.synckey_resets();
    }

    /// True when every part has been computed (reading any part then costs nothing).
    pub fn is_complete(&self) -> bool {
        self.folders.get().is_some()
            && self.history.get().is_some()
            && self.chains.get().is_some()
            && self.findings.get().is_some()
            && self.throttled.get().is_some()
            && self.synckey_resets.get().is_some()
    }

    /// The capture analysed.
    pub fn capture(&self) -> &Capture {
        &self.capture
    }

    /// What the capture calls its folders.
    pub fn folders(&self) -> &FolderNames {
        self.folders.get_or_init(|| FolderNames::build(&self.capture))
    }

    /// Every item operation, by id.
    pub fn history(&self) -> &HistoryIndex {
        self.history.get_or_init(|| HistoryIndex::build(&self.capture))
    }

    /// The SyncKey chain of each collection and of the folder hierarchy.
    pub fn chains(&self) -> &SyncKeyChains {
        self.chains.get_or_init(|| SyncKeyChains::build(&self.capture))
    }

    /// The known failure patterns, most severe first.
    pub fn findings(&self) -> &Findings {
        self.findings.get_or_init(|| {
            let mut findings = Findings::from_sessions(&self.capture.sessions, self.chains());
            findings.add(item_findings::findings(&self.capture));
            findings
        })
    }

    /// Positions (in `Capture::sessions`) of the responses Exchange throttled, in capture order.
    pub fn throttled(&self) -> &[u32] {
        self.throttled.get_or_init(|| {
            (0..self.capture.sessions.len() as u32)
                .filter(|&i| {
                    self.capture.sessions[i as usize]
                        .eas
                        .as_ref()
                        .is_some_and(|e| e.throttled())
                })
                .collect()
        })
    }

    /// Positions of the requests that reset a SyncKey to 0, chain after chain.
    pub fn synckey_resets(&self) -> &[u32] {
        self.synckey_resets.get_or_init(|| {
            self.chains()
                .chains
                .iter()
                .flat_map(|c| c.links.iter().filter(|l| l.has(Mark::Reset)))
                .map(|l| l.position as u32)
                .collect()
        })
    }
}

/// The device a session belongs to: its DeviceId, else its user, else `""` (one unnamed device).
pub(crate) fn device_of(s: &Session) -> &str {
    s.eas
        .as_ref()
        .and_then(|e| e.device_id.as_deref().or(e.user.as_deref()))
        .unwrap_or("")
}

/// The positions of the sessions `keep` accepts, by device ([`device_of`]), devices in order of
/// appearance and positions in capture order.
pub(crate) fn by_device(sessions: &[Session], keep: impl Fn(&Session) -> bool) -> Vec<(&str, Vec<usize>)> {
    let mut devices: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (p, s) in sessions.iter().enumerate() {
        if !keep(s) {
            continue;
        }
        let d = device_of(s);
        let i = *at.entry(d).or_insert_with(|| {
            devices.push((d, Vec::new()));
            devices.len() - 1
        });
        devices[i].1.push(p);
    }
    devices
}

/// When the session's request started.
pub(crate) fn started(s: &Session) -> Option<DateTime<FixedOffset>> {
    s.timers.started()
}

/// When the session's response was complete (its start when the capture has no end time).
pub(crate) fn ended(s: &Session) -> Option<DateTime<FixedOffset>> {
    s.timers.client_done_response().or_else(|| {
        let start = s.timers.started()?;
        let ms = s.timers.duration_ms().unwrap_or(0.0);
        Some(start + chrono::TimeDelta::microseconds((ms * 1000.0) as i64))
    })
}

/// Small synthetic sessions for the unit tests of the analyses.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::{DateTime, FixedOffset, TimeDelta};

    use crate::capture::{Body, Request, Response, Session};
    use crate::eas::Command;
    use crate::eas::items::ItemOps;
    use crate::eas::session::{BodyState, EasHeaders, EasSummary, Identity, StatusEntry, SyncKeyEntry};
    use crate::eas::status;
    use crate::http::Side;
    use crate::http::{Headers, RequestHead, ResponseHead};
    use crate::readers::Timer;
    use std::sync::Arc;

    fn start() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2024-03-06T14:00:00+01:00").unwrap_or_default()
    }

    /// A Sync (or FolderSync when `collection` is None) with the given keys, HTTP and Status.
    pub(crate) fn session(
        index: u32,
        collection: Option<&str>,
        request_key: Option<&str>,
        http: Option<u16>,
        response_key: Option<&str>,
        status_value: Option<u32>,
    ) -> Session {
        let command = if collection.is_some() {
            Command::Sync
        } else {
            Command::FolderSync
        };
        let mut s = Session::new(index);
        // Ten seconds apart, so that time-based rules see a plausible pace.
        s.timers.set(
            Timer::ClientBeginRequest,
            Some(start() + TimeDelta::seconds(i64::from(index) * 10)),
        );
        let head = RequestHead {
            method: "POST".into(),
            target: "/Microsoft-Server-ActiveSync".into(),
            version: "HTTP/1.1".into(),
            headers: Headers::new(),
            problems: Vec::new(),
        };
        let url = "https://mail.example.com/Microsoft-Server-ActiveSync".into();
        s.request = Some(Request::new(head, url, Body::empty()));
        s.response = http.map(|code| Response {
            head: ResponseHead {
                version: "HTTP/1.1".into(),
                status: code,
                reason: Default::default(),
                headers: Headers::new(),
                problems: Vec::new(),
            },
            body: Body::empty(),
        });
        let key = |side, value: Option<&str>| {
            value.map(|v| SyncKeyEntry {
                side,
                collection_id: collection.map(Into::into),
                value: v.to_string(),
            })
        };
        let path: Vec<&str> = match collection {
            Some(_) => vec!["Sync", "Collections", "Collection", "Status"],
            None => vec!["FolderSync", "Status"],
        };
        let statuses = status_value
            .map(|v| StatusEntry {
                side: Side::Response,
                path: path.join("/").into(),
                raw: v.to_string().into(),
                value: Some(v),
                verdict: status::verdict(command, &path, v),
                level: status::level(command, &path),
                name: None,
                meaning: None,
                collection_id: collection.map(Into::into),
                node: None,
            })
            .into_iter()
            .collect();
        s.eas = Some(EasSummary {
            identity: Arc::new(Identity {
                command: Some(command),
                command_raw: Some(command.name().into()),
                query_form: None,
                user: Some("jdoe".into()),
                device_id: Some("DEV1".into()),
                device_type: Some("iPhone".into()),
                protocol_version: Some("16.1".into()),
                policy_key: None,
                user_agent: None,
                server_version: None,
            }),
            headers: Default::default(),
            request_body: BodyState::Wbxml,
            response_body: BodyState::Wbxml,
            statuses,
            sync_keys: [key(Side::Request, request_key), key(Side::Response, response_key)]
                .into_iter()
                .flatten()
                .collect(),
            collection_ids: collection.map(|c| vec![c.into()]).unwrap_or_default(),
            highlights: Vec::new(),
            items: ItemOps::default(),
            folders: Vec::new(),
            notes: Vec::new(),
        });
        s
    }

    /// A request of `command` answered `http` (or not at all), without keys or Status.
    pub(crate) fn plain(index: u32, command: Command, http: Option<u16>) -> Session {
        let mut s = session(index, Some("5"), None, http, None, None);
        if let Some(e) = s.eas.as_mut() {
            e.command = Some(command);
            e.command_raw = Some(command.name().into());
            e.collection_ids.clear();
        }
        s
    }

    /// Adds a response Status of the session's command at the top level.
    pub(crate) fn with_status(mut s: Session, value: u32) -> Session {
        if let Some(e) = s.eas.as_mut() {
            let command = e.command.unwrap_or(Command::Sync);
            let path = [command.name(), "Status"];
            e.statuses.push(StatusEntry {
                side: Side::Response,
                path: path.join("/").into(),
                raw: value.to_string().into(),
                value: Some(value),
                verdict: status::verdict(command, &path, value),
                level: status::level(command, &path),
                name: status::status_meaning(command, &path, value).map(|m| m.name),
                meaning: None,
                collection_id: None,
                node: None,
            });
        }
        s
    }

    pub(crate) fn headers(s: &mut Session) -> &mut EasHeaders {
        &mut s.eas.as_mut().unwrap_or_else(|| unreachable!()).headers
    }
}
