//! The evidence report as values, before any format: what a support engineer mails to a phone
//! vendor about one capture (and, optionally, Exchange's mailbox log of the device). [`build`]
//! reads the capture once and fills a [`Report`]; `outline.rs` says it in words, `html.rs` and
//! `markdown.rs` write that, `svg.rs` draws its timeline.
//!
//! What is in it:
//!
//! - a [`Summary`]: the capture's file name, devices, user agents, protocol versions, time span,
//!   and the sessions per command and [`Outcome`];
//! - the findings ([`Analysis::findings`], plus those needing both sources from
//!   [`align::findings`] when a log is given), each with the sessions it cites;
//! - the [`Timeline`] of the whole capture;
//! - the evidence sessions in full ([`SessionEvidence`]: request line, decoded query, key headers
//!   with their meaning, HTTP and EAS Status meanings, decoded bodies), with the log entry the
//!   alignment pairs with each. Which sessions, is the [`Scope`]'s: at most [`EVIDENCE_CAP`] of
//!   them, each body cut to [`BODY_CAP`] bytes, so that a report of a 100,000-session capture still
//!   fits in a mail.
//!
//! Credentials are always masked. Strings are kept as the capture has them: escaping them (they
//! are hostile input) is the writers' job.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::session::{SessionEvidence, StatusEvidence, statuses};
use super::svg::Timeline;
use crate::analysis::align::{self, Pair, PairKind};
use crate::analysis::findings::Finding;
use crate::analysis::{Analysis, ended, started};
use crate::capture::{Capture, Format, LabelStyle, Session};
use crate::eas::session::Highlight;
use crate::eas::status::{HttpMeaning, http_meaning};
use crate::http::Side;
use crate::overview::timeline_outcome;
use crate::readers::mailbox_log::{exception_notes, identifier};

/// The most sessions a report shows in full; the report says which were left out.
pub const EVIDENCE_CAP: usize = 100;
/// The most bytes of each body's text a report shows; the report says how many were left out.
pub const BODY_CAP: usize = 32 * 1024;

/// Which sessions a report shows in full.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// With [`ReportOptions::findings`], the sessions the findings cite (all ActiveSync sessions
    /// when none cites any); without, all ActiveSync sessions.
    #[default]
    All,
    /// These sessions (positions in `Capture::sessions`).
    Sessions(Vec<usize>),
    /// The sessions one finding cites (its position in the findings, most severe first, with the
    /// log's findings when a log is given); the findings section then shows that finding alone.
    Finding(usize),
}

/// What a report holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOptions {
    pub scope: Scope,
    /// Include the findings section (always included, with just that finding, for
    /// [`Scope::Finding`]).
    pub findings: bool,
    /// The capture was redacted (personal data replaced by pseudonyms): only said in the header,
    /// where an unredacted report carries a visible warning instead.
    pub redacted: bool,
    /// The report's title; by default one naming the capture.
    pub title: Option<String>,
    /// The clock offset of the log the user knows (seconds, log − trace), as
    /// [`align::align`] takes it; estimated when `None`.
    pub log_clock_offset: Option<i64>,
}

/// How a session ended, as the report counts and colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Ok,
    /// A failing EAS Status in the response body.
    StatusFailure,
    /// A non-2xx answer (throttling aside).
    HttpError,
    /// Exchange throttled the request (`X-MS-ASThrottle`).
    Throttled,
    /// No response: aborted, or never answered.
    Aborted,
}

impl Outcome {
    /// Every outcome, in the order the report lists them.
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::HttpError,
        Outcome::StatusFailure,
        Outcome::Throttled,
        Outcome::Aborted,
    ];

    /// The outcome of `s`: throttling, then an HTTP error, then a failing Status (the order the
    /// window's timeline uses, [`timeline_outcome`]); else no response; else OK.
    pub fn of(s: &Session) -> Outcome {
        match timeline_outcome(s) {
            Some(Highlight::Throttle) => Outcome::Throttled,
            Some(Highlight::Http) => Outcome::HttpError,
            Some(Highlight::Status) => Outcome::StatusFailure,
            None if s.response.is_none() || s.flags.aborted => Outcome::Aborted,
            None => Outcome::Ok,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::HttpError => "HTTP error",
            Outcome::StatusFailure => "EAS Status failure",
            Outcome::Throttled => "throttled",
            Outcome::Aborted => "aborted / no response",
        }
    }

    /// A short ASCII name (CSS classes, anchors).
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::HttpError => "http",
            Outcome::StatusFailure => "status",
            Outcome::Throttled => "throttled",
            Outcome::Aborted => "aborted",
        }
    }

    fn slot(self) -> usize {
        Outcome::ALL.iter().position(|&o| o == self).unwrap_or(0)
    }
}

/// The report.
#[derive(Debug, Clone)]
pub struct Report {
    pub title: String,
    pub redacted: bool,
    /// `easlens 0.1.0`.
    pub generator: String,
    pub summary: Summary,
    /// The mailbox log lined up with the capture, when one was given.
    pub log: Option<LogSummary>,
    /// `None`: the findings were not asked for.
    pub findings: Option<Vec<Finding>>,
    pub timeline: Timeline,
    /// Which sessions [`Report::evidence`] holds and why, as a sentence.
    pub selection: String,
    pub evidence: Vec<Evidence>,
    /// Problems with what was asked (a session or finding that does not exist).
    pub notes: Vec<String>,
}

/// The capture at a glance.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The capture's file name (without its folder).
    pub capture: String,
    pub format: &'static str,
    pub sessions: usize,
    /// Sessions that are ActiveSync requests.
    pub eas_sessions: usize,
    /// Problems with the file as a whole, as the reader reported them.
    pub warnings: Vec<String>,
    pub devices: Vec<Device>,
    pub user_agents: Vec<Counted>,
    pub protocol_versions: Vec<Counted>,
    pub first: Option<DateTime<FixedOffset>>,
    pub last: Option<DateTime<FixedOffset>>,
    /// Sessions per command (most first), by outcome.
    pub commands: Vec<CommandCounts>,
    /// Every session, by outcome (`command` is empty).
    pub total: CommandCounts,
}

/// A value and how many sessions carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub value: String,
    pub sessions: usize,
}

/// One device of the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub device_type: String,
    pub users: Vec<String>,
    pub sessions: usize,
}

/// How many sessions of one command ended how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandCounts {
    pub command: String,
    by_outcome: [usize; 5],
}

impl CommandCounts {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.by_outcome[outcome.slot()]
    }

    pub fn total(&self) -> usize {
        self.by_outcome.iter().sum()
    }
}

/// The mailbox log as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSummary {
    /// The (first) log's file name.
    pub file: String,
    pub entries: usize,
    /// Log time minus trace time, as the alignment estimated it.
    pub clock_offset_seconds: i64,
    pub matched: usize,
    pub trace_only: usize,
    pub log_only: usize,
}

/// One session shown in full.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub session: SessionEvidence,
    pub outcome: Outcome,
    /// The findings (positions in [`Report::findings`]) that cite the session.
    pub cited_by: Vec<usize>,
    /// What Exchange's mailbox log says of it, when a log is given.
    pub log: Option<LogEvidence>,
}

/// A session's line of the alignment.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvidence {
    /// Matched, or trace-only (Exchange never logged the request).
    pub kind: PairKind,
    /// What differs between the device's view and Exchange's.
    pub differences: Vec<String>,
    /// The log entry, when matched.
    pub entry: Option<LogEntryEvidence>,
}

/// A log entry: its status and exceptions.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntryEvidence {
    /// The entry's number as the CLI shows it (time order in the log).
    pub number: u32,
    /// Exchange's `Identifier`.
    pub identifier: Option<String>,
    /// The request time as the log wrote it (the log's clock).
    pub time: Option<DateTime<FixedOffset>>,
    /// `HTTP/1.1 200 OK`; `None` when the log has no response.
    pub response: Option<String>,
    pub http_meaning: Option<&'static HttpMeaning>,
    pub statuses: Vec<StatusEvidence>,
    /// Each `…_Exception` field, `Name: text` (the text may hold many lines).
    pub exceptions: Vec<String>,
    /// The entry's other notes (AccessState, values Exchange did not log, …).
    pub notes: Vec<String>,
}

/// The report of `capture` (with `log`, the device's mailbox log opened as a capture) as
/// `options` say.
pub fn build(capture: &Capture, log: Option<&Capture>, options: &ReportOptions) -> Report {
    let analysis = Analysis::new(capture);
    let mut findings = analysis.findings().clone();
    let alignment = log.map(|log| {
        let alignment = align::align(capture, log, options.log_clock_offset);
        align::add_findings(&mut findings, capture, log, &alignment);
        alignment
    });
    let mut notes = Vec::new();
    let findings: Option<Vec<Finding>> = match &options.scope {
        Scope::Finding(i) => match findings.findings.get(*i) {
            Some(f) => Some(vec![f.clone()]),
            None => {
                notes.push(format!(
                    "Finding {} was asked for; the capture has {} finding(s).",
                    i + 1,
                    findings.findings.len()
                ));
                Some(Vec::new())
            }
        },
        _ if options.findings => Some(findings.findings),
        _ => None,
    };

    let position_of: HashMap<u32, usize> = capture.sessions.iter().enumerate().map(|(p, s)| (s.index, p)).collect();
    let cited: Vec<Vec<usize>> = findings
        .iter()
        .flatten()
        .map(|f| f.sessions.iter().filter_map(|n| position_of.get(n).copied()).collect())
        .collect();
    let (positions, selection) = select(capture, &options.scope, options.findings, &cited, &mut notes);

    let pair_of: HashMap<usize, &Pair> = alignment
        .iter()
        .flat_map(|a| &a.pairs)
        .filter_map(|p| Some((p.trace?, p)))
        .collect();
    let evidence = positions
        .iter()
        .filter_map(|&p| {
            let session = SessionEvidence::of(capture, p, false, Some(BODY_CAP))?;
            Some(Evidence {
                session,
                outcome: Outcome::of(&capture.sessions[p]),
                cited_by: (0..cited.len()).filter(|&f| cited[f].contains(&p)).collect(),
                log: log.zip(pair_of.get(&p)).map(|(log, pair)| log_evidence(log, pair)),
            })
        })
        .collect();

    let summary = summary(capture);
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| format!("ActiveSync evidence: {}", summary.capture));
    Report {
        title,
        redacted: options.redacted,
        generator: format!("easlens {}", env!("CARGO_PKG_VERSION")),
        log: log.zip(alignment.as_ref()).map(|(log, a)| {
            let count = |k| a.pairs.iter().filter(|p| p.kind == k).count();
            LogSummary {
                file: file_name(&log.path),
                entries: log.sessions.len(),
                clock_offset_seconds: a.clock_offset_seconds,
                matched: count(PairKind::Matched),
                trace_only: count(PairKind::TraceOnly),
                log_only: count(PairKind::LogOnly),
            }
        }),
        timeline: Timeline::build(capture, analysis.throttled(), analysis.synckey_resets()),
        summary,
        findings,
        selection,
        evidence,
        notes,
    }
}

/// The positions shown in full, in capture order, and the sentence that says why.
fn select(
    capture: &Capture,
    scope: &Scope,
    with_findings: bool,
    cited: &[Vec<usize>],
    notes: &mut Vec<String>,
) -> (Vec<usize>, String) {
    let capped = |mut positions: Vec<usize>, what: String| {
        positions.sort_unstable();
        positions.dedup();
        let n = positions.len();
        if n > EVIDENCE_CAP {
            positions.truncate(EVIDENCE_CAP);
            let s = format!("The first {EVIDENCE_CAP} of {what} ({n}; a report shows at most {EVIDENCE_CAP} in full).");
            (positions, s)
        } else {
            (positions, format!("{} ({n}).", capitalized(&what)))
        }
    };
    let eas = || -> Vec<usize> {
        (0..capture.sessions.len())
            .filter(|&p| capture.sessions[p].eas.is_some())
            .collect()
    };
    match scope {
        Scope::Sessions(asked) => {
            let mut asked = asked.clone();
            asked.sort_unstable();
            asked.dedup();
            let (known, unknown): (Vec<usize>, Vec<usize>) =
                asked.into_iter().partition(|&p| p < capture.sessions.len());
            if !unknown.is_empty() {
                notes.push(format!(
                    "{} session position(s) asked for are not in the capture ({} sessions).",
                    unknown.len(),
                    capture.sessions.len()
                ));
            }
            capped(known, "the sessions asked for".into())
        }
        Scope::Finding(_) => {
            let positions = cited.first().cloned().unwrap_or_default();
            capped(positions, "the sessions the finding cites".into())
        }
        Scope::All if with_findings && cited.iter().any(|c| !c.is_empty()) => {
            let all: usize = {
                let mut v: Vec<usize> = cited.iter().flatten().copied().collect();
                v.sort_unstable();
                v.dedup();
                v.len()
            };
            if all <= EVIDENCE_CAP {
                return capped(
                    cited.iter().flatten().copied().collect(),
                    "the sessions the findings cite".into(),
                );
            }
            // Each finding's first sessions, in turn, so that every finding has its evidence.
            let mut chosen: Vec<usize> = Vec::new();
            let mut round = 0;
            while chosen.len() < EVIDENCE_CAP && cited.iter().any(|c| c.len() > round) {
                for c in cited {
                    if let Some(&p) = c.get(round)
                        && chosen.len() < EVIDENCE_CAP
                        && !chosen.contains(&p)
                    {
                        chosen.push(p);
                    }
                }
                round += 1;
            }
            chosen.sort_unstable();
            let n = chosen.len();
            (
                chosen,
                format!(
                    "{n} of the {all} sessions the findings cite: each finding's first sessions in turn (a report shows at most {EVIDENCE_CAP} in full)."
                ),
            )
        }
        Scope::All if with_findings => {
            let (p, s) = capped(eas(), "all ActiveSync sessions".into());
            (p, format!("No finding cites a session. {s}"))
        }
        Scope::All => capped(eas(), "all ActiveSync sessions".into()),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The file name of `path`, without its folder (which may name the engineer's machine).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn summary(capture: &Capture) -> Summary {
    let mut devices: BTreeMap<(String, String), (Vec<String>, usize)> = BTreeMap::new();
    let mut agents: BTreeMap<String, usize> = BTreeMap::new();
    let mut versions: BTreeMap<String, usize> = BTreeMap::new();
    let mut commands: HashMap<String, CommandCounts> = HashMap::new();
    let mut total = CommandCounts::default();
    let (mut first, mut last) = (None, None);
    for s in &capture.sessions {
        let outcome = Outcome::of(s);
        total.by_outcome[outcome.slot()] += 1;
        let command = s.command_label(LabelStyle::CLI);
        commands
            .entry(command.clone())
            .or_insert_with(|| CommandCounts {
                command,
                ..Default::default()
            })
            .by_outcome[outcome.slot()] += 1;
        if let Some(t) = started(s) {
            first = Some(first.map_or(t, |f: DateTime<FixedOffset>| f.min(t)));
        }
        if let Some(t) = ended(s) {
            last = Some(last.map_or(t, |l: DateTime<FixedOffset>| l.max(t)));
        }
        let Some(e) = &s.eas else { continue };
        let text = |v: Option<&str>| v.unwrap_or_default().to_string();
        let device = devices
            .entry((text(e.device_id.as_deref()), text(e.device_type.as_deref())))
            .or_default();
        device.1 += 1;
        if let Some(u) = e.user.as_deref()
            && !device.0.iter().any(|k| k == u)
        {
            device.0.push(u.to_string());
        }
        if let Some(a) = e.user_agent.as_deref() {
            *agents.entry(a.to_string()).or_default() += 1;
        }
        if let Some(v) = e.protocol_version.as_deref() {
            *versions.entry(v.to_string()).or_default() += 1;
        }
    }
    let counted = |m: BTreeMap<String, usize>| {
        let mut v: Vec<Counted> = m
            .into_iter()
            .map(|(value, sessions)| Counted { value, sessions })
            .collect();
        v.sort_by(|a, b| b.sessions.cmp(&a.sessions).then_with(|| a.value.cmp(&b.value)));
        v
    };
    let mut commands: Vec<CommandCounts> = commands.into_values().collect();
    commands.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.command.cmp(&b.command)));
    let mut devices: Vec<Device> = devices
        .into_iter()
        .map(|((device_id, device_type), (users, sessions))| Device {
            device_id,
            device_type,
            users,
            sessions,
        })
        .collect();
    devices.sort_by_key(|d| std::cmp::Reverse(d.sessions));
    Summary {
        capture: file_name(&capture.path),
        format: match capture.format {
            Format::Saz => "Fiddler archive (SAZ)",
            Format::Har => "HAR",
            Format::MailboxLog => "Exchange mailbox log",
            Format::IisLog => "Exchange IIS logs",
        },
        sessions: capture.sessions.len(),
        eas_sessions: capture.sessions.iter().filter(|s| s.eas.is_some()).count(),
        warnings: capture.warnings.clone(),
        devices,
        user_agents: counted(agents),
        protocol_versions: counted(versions),
        first,
        last,
        commands,
        total,
    }
}

fn log_evidence(log: &Capture, pair: &Pair) -> LogEvidence {
    let entry = pair.log.and_then(|l| log.sessions.get(l)).map(|e| {
        let exceptions: Vec<String> = exception_notes(e).map(str::to_string).collect();
        LogEntryEvidence {
            number: e.index,
            identifier: identifier(e),
            time: e.timers.started(),
            response: e
                .response
                .as_ref()
                .map(|r| format!("{} {} {}", r.head.version, r.head.status, r.head.reason)),
            http_meaning: e.http_status().and_then(http_meaning),
            statuses: statuses(e, Side::Response),
            notes: e
                .notes
                .iter()
                .chain(&e.facts)
                .filter(|n| !exceptions.contains(n))
                .cloned()
                .collect(),
            exceptions,
        }
    });
    LogEvidence {
        kind: pair.kind,
        differences: pair.differences.clone(),
        entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_kept_as_sent_and_credentials_masked() {
        use crate::report::testing::{HOSTILE, hostile_capture};
        let capture = hostile_capture();
        let report = build(&capture, None, &ReportOptions::default());
        assert!(report.title.contains("hostile<script>.har"), "{}", report.title);
        assert!(
            report.summary.user_agents[0]
                .value
                .starts_with(&format!("Phone{HOSTILE}\u{1b}"))
        );
        assert_eq!(report.evidence.len(), 1, "{}", report.selection);
        let Some(request) = &report.evidence[0].session.request else {
            panic!("no request")
        };
        let auth = request.headers.iter().find(|h| h.name == "Authorization");
        assert_eq!(auth.map(|h| h.value.as_str()), Some("Basic ••••••••"));
        assert_eq!(report.selection, "All ActiveSync sessions (1).");
        assert!(!report.redacted && report.findings.is_none() && report.log.is_none());
    }

    #[test]
    fn many_cited_sessions_leave_every_finding_its_first_ones() {
        let cited = vec![(0..300).collect::<Vec<usize>>(), vec![500, 501], vec![]];
        let capture = Capture::new(
            "t.saz".into(),
            Format::Saz,
            Vec::new(),
            Vec::new(),
            Box::new(crate::readers::MemoryStore),
        );
        let mut notes = Vec::new();
        let (p, why) = select(&capture, &Scope::All, true, &cited, &mut notes);
        assert_eq!(p.len(), EVIDENCE_CAP);
        assert!(p.contains(&500) && p.contains(&501) && p.contains(&0), "{p:?}");
        assert!(why.contains("of the 302 sessions the findings cite"), "{why}");
        let (p, why) = select(&capture, &Scope::Sessions(vec![3, 1, 3]), false, &[], &mut notes);
        assert!(p.is_empty(), "{p:?}");
        assert!(notes[0].contains("2 session position(s)"), "{notes:?}");
        assert_eq!(why, "The sessions asked for (0).");
    }
}
