//! The reports a support engineer asks of Log Parser Studio and of Exchange's ActiveSync report
//! scripts (`iis-eas-log.md` §4–§5), computed while the lines stream by ([`Reports`] is a
//! [`Visitor`]): per user and device, SendMail outcomes, SyncKey 0 and repeated SyncKeys, HTTP and
//! EAS status counts, Exchange's `Error:` tags, throttling, hourly load, top hitters, user agents,
//! servers and policy compliance. Each is a [`Table`] (sortable in the window, CSV and JSON in the
//! CLI); where the logs lack what a report needs, the table says so in its notes.
//!
//! A request 2013+ logs twice (front end and back end) counts once: a device's hits and commands
//! come from its front-end (and 2010 CAS) lines or its back-end lines, whichever are more (the
//! front end also logs what never reached a mailbox server, such as 401 challenges; a case may
//! bring only one of the two); the HTTP status, hourly and user-agent tables show both sides in
//! their own columns. What only `Log=` says (EAS status, errors, SyncKeys, throttling, policy)
//! comes from the lines that carry it (back end and CAS). Memory grows with devices, hours and distinct keys,
//! never with lines; the SyncKey table keeps at most [`MAX_SYNC_KEYS`] keys.

use std::hash::BuildHasher;

use foldhash::{HashMap, HashSet};

use serde::Serialize;

use super::line::{EasLine, Role};
use super::log_tokens::{decoded, name_tag as tag, tagged_tokens};
use super::scan::{BATCH, LineAt, Visitor};
use super::substatus_tsv::{self, SubstatusRow};
use crate::eas::Command;

/// Distinct (device, folder, SyncKey) kept for the SyncKey report, at most.
pub const MAX_SYNC_KEYS: usize = 2_000_000;
/// User agents counted per device (more are counted together); the users report names 6.
const AGENTS_PER_DEVICE: usize = 32;
/// Agents per device whose hashes are kept beside the device's counters.
const FAST_AGENTS: usize = 4;

fn agent_hash(agent: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(11).hash_one(agent)
}

/// A report's rows, ready to show, sort or write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// What the logs did not carry, or how to read the numbers.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: &'static str,
    pub numeric: bool,
}

impl Table {
    /// The table as CSV: a header row, then the rows. A text cell a spreadsheet would run as a
    /// formula (`=`, `+`, `-`, `@` first) is written with a `'` before it: log values come from
    /// devices.
    pub fn write_csv(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.columns.iter().map(|c| c.name))?;
        for row in &self.rows {
            w.write_record(row.iter().map(|c| {
                let s = c.display();
                if s.starts_with(['=', '+', '-', '@']) && !c.is_number() {
                    format!("'{s}")
                } else {
                    s
                }
            }))?;
        }
        w.flush()
    }

    /// The position of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// One value: a number, a text or nothing (JSON null, empty CSV cell).
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    fn opt(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    fn int(n: u64) -> Cell {
        Cell::Int(n.min(i64::MAX as u64) as i64)
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Real(_))
    }

    /// As a CSV cell or terminal text.
    pub fn display(&self) -> String {
        match self {
            Cell::Int(n) => n.to_string(),
            Cell::Real(x) => format!("{x:.1}"),
            Cell::Text(s) => s.clone(),
            Cell::Empty => String::new(),
        }
    }

    /// Orders two cells of a column (numbers by value, texts case-insensitively, empty last).
    pub fn compare(&self, other: &Cell) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Real(a), Cell::Real(b)) => a.total_cmp(b),
            (Cell::Text(a), Cell::Text(b)) => cmp_lowercase(a, b),
            (Cell::Empty, Cell::Empty) => Ordering::Equal,
            (Cell::Empty, _) => Ordering::Greater,
            (_, Cell::Empty) => Ordering::Less,
            (a, b) => a.display().cmp(&b.display()),
        }
    }
}

/// `a` and `b` ordered as their lower-case forms are, without making them (a table of a fleet
/// sorts by text a hundred thousand times): UTF-8 orders as its characters do.
fn cmp_lowercase(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// The reports, by the name `easlens iis-report NAME` takes, with their titles and what they show.
pub const REPORTS: &[(&str, &str, &str)] = &[
    (
        "users",
        "Users and devices",
        "Per user and device: hits, commands, HTTP errors, Exchange errors, bytes, first and last seen, user agents (LPS Device query; ActiveSyncReport.ps1; Export-ActiveSyncLog Users.csv).",
    ),
    (
        "top",
        "Top hitters",
        "The 25 devices with the most requests and their share of all requests (ActiveSyncReport.ps1 -TopHits).",
    ),
    (
        "sendmail",
        "SendMail results",
        "SendMail, SmartReply and SmartForward by EAS Status, Error, ABQ state and HTTP status (LPS \"ActiveSync: SendMail\").",
    ),
    (
        "synckey0",
        "Syncs with SyncKey 0",
        "Per user and device: Syncs sent with SyncKey 0, all Syncs, sync state not found, first and recovery syncs (LPS \"Count Syncs with SyncKey of Zero Per User\").",
    ),
    (
        "synckeys",
        "Syncs per SyncKey",
        "Client SyncKeys sent more than once for the same folder: a key repeated many times is a replay loop (LPS \"Count all Syncs per SyncKey\").",
    ),
    (
        "http-status",
        "HTTP status",
        "sc-status, sc-substatus and sc-win32-status counts with their share (Export-ActiveSyncLog StatusCodes.csv).",
    ),
    (
        "eas-status",
        "EAS status",
        "The command's EAS Status from Log= (S / SC1:), per command, with its meaning.",
    ),
    (
        "errors",
        "Exchange errors",
        "The Error: tags Exchange logged, with requests and devices.",
    ),
    (
        "throttling",
        "Throttling",
        "Per device and budget: HTTP 503s, Error:OverBudget, time queued (Throttle), suggested back-off and the lowest budget balance.",
    ),
    (
        "hourly",
        "Hourly load",
        "Per UTC hour: requests, unique devices, Sync and GetItemEstimate requests (Export-ActiveSyncLog Hourly.csv).",
    ),
    (
        "user-agents",
        "User agents",
        "User agents with requests and unique devices (Export-ActiveSyncLog UserAgents.csv).",
    ),
    (
        "servers",
        "Servers",
        "Each server and role: lines, unique devices, bytes (Export-ActiveSyncLog Servers.csv).",
    ),
    (
        "access",
        "Device access (ABQ)",
        "Per device: each Allow/Block/Quarantine state Exchange wrote (As: AccessState and the reason's first letter, G global, I individual, D device rule, U upgrade, P policy, E external; AB + U/R/W/O/S/C auto-blocked for user agents, recent commands, Watsons, out of budgets, sync commands, command frequency), with its lines and when it was first and last seen; devices that were ever blocked or quarantined first.",
    ),
    (
        "policy",
        "Policy compliance",
        "Per device: Provision requests, the last policy key sent (Pk) and policy acknowledgement (Pa: 1 compliant, 2 partially, 3 not compliant), DeviceNotProvisioned errors (Export-ActiveSyncLog PolicyCompliance.csv).",
    ),
];

/// The commands counted by name; the rest are "other".
const COMMANDS: [Command; 14] = [
    Command::Sync,
    Command::Ping,
    Command::FolderSync,
    Command::SendMail,
    Command::SmartReply,
    Command::SmartForward,
    Command::ItemOperations,
    Command::GetItemEstimate,
    Command::MoveItems,
    Command::MeetingResponse,
    Command::Provision,
    Command::Settings,
    Command::Search,
    Command::GetAttachment,
];
const OTHER: usize = COMMANDS.len();
const NO_COMMAND: usize = COMMANDS.len() + 1;

fn command_slot(line: &EasLine<'_>) -> usize {
    match (line.command_id, &line.command) {
        (Some(c), _) => COMMANDS.iter().position(|&k| k == c).unwrap_or(OTHER),
        (None, Some(_)) => OTHER,
        (None, None) => NO_COMMAND,
    }
}

/// The slot of `command` (a constant, so that a line is tested by number, not by name).
const fn slot_of(command: Command) -> usize {
    let mut i = 0;
    while i < COMMANDS.len() {
        if COMMANDS[i] as u8 == command as u8 {
            return i;
        }
        i += 1;
    }
    OTHER
}
const SYNC: usize = slot_of(Command::Sync);
const ESTIMATE: usize = slot_of(Command::GetItemEstimate);
const PROVISION: usize = slot_of(Command::Provision);
/// SendMail, SmartReply, SmartForward: the commands of the sendmail report.
fn sends_mail(slot: usize) -> bool {
    [
        slot_of(Command::SendMail),
        slot_of(Command::SmartReply),
        slot_of(Command::SmartForward),
    ]
    .contains(&slot)
}

fn slot_name(slot: usize) -> &'static str {
    match slot {
        s if s < OTHER => COMMANDS[s].name(),
        OTHER => "other",
        _ => "(no command)",
    }
}

/// What the requests of one group (front-end lines, or back-end lines) show.
#[derive(Debug, Clone, Default)]
struct Counts {
    hits: u64,
    commands: [u64; COMMANDS.len() + 2],
    http_4xx: u64,
    http_5xx: u64,
    status_503: u64,
    unauthorized: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.hits += o.hits;
        for (a, b) in self.commands.iter_mut().zip(o.commands) {
            *a += b;
        }
        self.http_4xx += o.http_4xx;
        self.http_5xx += o.http_5xx;
        self.status_503 += o.status_503;
        self.unauthorized += o.unauthorized;
    }
}

/// A device's counters. The fields every line changes come first and together (`repr(C)`
/// keeps the order), so that a line's few cache misses on its device are issued at once; the
/// names, agents' text and timed values follow.
#[derive(Debug, Clone, Default)]
#[repr(C)]
struct Device {
    first_ms: i64,
    last_ms: i64,
    /// The hour last counted in `hours` / `hours_back` (a device's lines come in runs).
    last_hour: [i64; 2],
    max_time_taken: u64,
    sc_bytes: u64,
    cs_bytes: u64,
    /// How many agents `agents` holds (read on every line, beside the hashes).
    n_agents: usize,
    /// The hashes of the first agents, compared before any agent's text is read (a device's
    /// counters are one cache miss away, its agents' text two).
    agent_hashes: [u64; FAST_AGENTS],
    /// The lines of the first agents, counted here beside their hashes (their counts in `agents`
    /// grow only when a merge settles them): see [`Device::agent_lines`].
    agent_counts: [[u64; 2]; FAST_AGENTS],
    /// Front-end and CAS lines; back-end lines.
    front: Counts,
    back: Counts,
    errors: u64,
    // SyncKey 0
    syncs: u64,
    sync_key_zero: u64,
    state_not_found: u64,
    first_syncs: u64,
    recovery_syncs: u64,
    // Throttling
    overbudget: u64,
    queued: u64,
    max_throttle_ms: u64,
    min_balance: Option<i64>,
    // Policy
    provisions: u64,
    not_provisioned: u64,
    policy_ack: Option<(When, u32)>,
    /// The lines of the access state being counted, kept here while the state does not change
    /// (no trip to `access` per line): see [`Device::access_seen`].
    access_run: Option<AccessRun>,
    /// The access states (`As:`) seen, by the hash of their text (a device has one or two).
    access: Vec<AccessSeen>,
    policy_key: Option<(When, String)>,
    back_off: Option<(When, String)>,
    budget_owner: Option<String>,
    user: String,
    device_id: String,
    device_type: String,
    /// The fingerprint of (user, device) the index knows it by.
    key: u128,
    /// Where the line that gave `user`, `device_id` and `device_type` their spelling was read
    /// (block, line): the first in read order wins, whichever worker saw it.
    spelled_at: (u32, u32),
    /// User agents as written, with their front-end and back-end lines.
    agents: Vec<(String, [u64; 2])>,
    other_agents: [u64; 2],
}

impl Device {
    /// Each user agent as written with its (front-end, back-end) lines.
    fn agent_lines(&self) -> impl Iterator<Item = (&str, [u64; 2])> {
        self.agents.iter().enumerate().map(|(i, (a, n))| {
            let f = self.agent_counts.get(i).copied().unwrap_or_default();
            (a.as_str(), [n[0] + f[0], n[1] + f[1]])
        })
    }

    /// Moves the first agents' counts into `agents`.
    fn settle_agents(&mut self) {
        for (a, f) in self.agents.iter_mut().zip(&mut self.agent_counts) {
            (a.1[0], a.1[1]) = (a.1[0] + f[0], a.1[1] + f[1]);
            *f = [0, 0];
        }
    }

    fn merge(&mut self, mut o: Device) {
        self.settle_agents();
        o.settle_agents();
        self.settle_access();
        o.settle_access();
        if o.spelled_at < self.spelled_at {
            self.spelled_at = o.spelled_at;
            self.user = o.user;
            self.device_id = o.device_id;
            self.device_type = o.device_type;
        }
        self.front.add(&o.front);
        self.back.add(&o.back);
        self.errors += o.errors;
        self.sc_bytes += o.sc_bytes;
        self.cs_bytes += o.cs_bytes;
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
        for (a, n) in o.agents {
            let room = self.agents.len() < AGENTS_PER_DEVICE;
            match self.agents.iter_mut().find(|x| x.0 == a) {
                Some(x) => (x.1[0], x.1[1]) = (x.1[0] + n[0], x.1[1] + n[1]),
                None if room => self.agents.push((a, n)),
                None => {
                    (self.other_agents[0], self.other_agents[1]) =
                        (self.other_agents[0] + n[0], self.other_agents[1] + n[1])
                }
            }
        }
        (self.other_agents[0], self.other_agents[1]) = (
            self.other_agents[0] + o.other_agents[0],
            self.other_agents[1] + o.other_agents[1],
        );
        self.n_agents = self.agents.len();
        for (h, a) in self.agent_hashes.iter_mut().zip(&self.agents) {
            *h = agent_hash(&a.0);
        }
        self.max_time_taken = self.max_time_taken.max(o.max_time_taken);
        self.syncs += o.syncs;
        self.sync_key_zero += o.sync_key_zero;
        self.state_not_found += o.state_not_found;
        self.first_syncs += o.first_syncs;
        self.recovery_syncs += o.recovery_syncs;
        self.overbudget += o.overbudget;
        self.queued += o.queued;
        self.max_throttle_ms = self.max_throttle_ms.max(o.max_throttle_ms);
        self.back_off = latest(self.back_off.take(), o.back_off);
        self.budget_owner = self.budget_owner.take().or(o.budget_owner);
        self.min_balance = match (self.min_balance, o.min_balance) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.provisions += o.provisions;
        self.policy_key = latest(self.policy_key.take(), o.policy_key);
        self.policy_ack = latest(self.policy_ack.take(), o.policy_ack);
        for a in o.access {
            let at = self.access_entry(a.hash, || a.state, a.tally.first);
            self.access[at].tally.add(a.tally);
        }
        self.not_provisioned += o.not_provisioned;
    }

    fn throttled(&self) -> u64 {
        self.front.status_503.max(self.back.status_503) + self.overbudget + self.queued
    }
}

/// Lines of one access state, and when the first and the last were written.
#[derive(Debug, Clone, Copy)]
struct AccessTally {
    lines: u64,
    first: When,
    last: When,
}

impl AccessTally {
    fn one(when: When) -> AccessTally {
        AccessTally {
            lines: 1,
            first: when,
            last: when,
        }
    }

    fn add(&mut self, o: AccessTally) {
        self.lines += o.lines;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

/// One access state (`As:`) of a device, by the hash of its text.
#[derive(Debug, Clone)]
struct AccessSeen {
    hash: u64,
    state: String,
    tally: AccessTally,
}

/// Lines of one access state in a row, counted for the entry `at` of [`Device::access`].
#[derive(Debug, Clone, Copy)]
struct AccessRun {
    hash: u64,
    at: usize,
    tally: AccessTally,
}

/// Access states kept per device (more are counted with the last).
const ACCESS_STATES: usize = 8;

impl Device {
    /// Counts a line with access state `state` (as written) at `when`.
    fn count_access(&mut self, state: &str, when: When) {
        let hash = foldhash::fast::FixedState::with_seed(13).hash_one(state);
        if let Some(r) = self.access_run.as_mut().filter(|r| r.hash == hash) {
            r.tally.add(AccessTally::one(when));
            return;
        }
        self.settle_access();
        let at = self.access_entry(hash, || decoded(state).into_owned(), when);
        self.access_run = Some(AccessRun {
            hash,
            at,
            tally: AccessTally::one(when),
        });
    }

    /// Moves the counted run into `access`.
    fn settle_access(&mut self) {
        if let Some(r) = self.access_run.take() {
            self.access[r.at].tally.add(r.tally);
        }
    }

    /// The access states with every line counted.
    fn access_seen(&self) -> Vec<AccessSeen> {
        let mut seen = self.access.clone();
        if let Some(r) = self.access_run {
            seen[r.at].tally.add(r.tally);
        }
        seen
    }

    /// Where the entry of the state of `hash` is, made with `state()` and no lines (first and
    /// last at `when`) when new; beyond [`ACCESS_STATES`], the last.
    fn access_entry(&mut self, hash: u64, state: impl FnOnce() -> String, when: When) -> usize {
        match self.access.iter().position(|a| a.hash == hash) {
            Some(i) => i,
            None if self.access.len() < ACCESS_STATES => {
                self.access.push(AccessSeen {
                    hash,
                    state: state(),
                    tally: AccessTally {
                        lines: 0,
                        ..AccessTally::one(when)
                    },
                });
                self.access.len() - 1
            }
            None => self.access.len() - 1,
        }
    }
}

/// When a line was written, and where it was read (block, line in block): IIS writes whole
/// seconds, so two lines of one second are told apart by their place in the logs, whichever
/// worker read them first.
type When = (i64, (u32, u32));

/// Keeps `value` at `when` when it is the later, copying it only when it differs from the value
/// held (a device sends the same policy key on every request).
fn set_latest(held: &mut Option<(When, String)>, when: When, value: &str) {
    match held {
        Some((t, v)) if *t <= when => {
            *t = when;
            if v != value {
                value.clone_into(v);
            }
        }
        Some(_) => {}
        None => *held = Some((when, value.to_string())),
    }
}

/// The later of two timed values.
fn latest<T>(a: Option<(When, T)>, b: Option<(When, T)>) -> Option<(When, T)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.0 >= a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Clone, Default)]
struct Hour {
    hits: u64,
    syncs: u64,
    devices: HashSet<u32>,
}

/// A server's (lines, devices, bytes) as front end, back end and CAS.
type ServerRoles = [(u64, DeviceBits, u64); 3];

/// A set of devices by their position in [`Reports::devices`], one bit each: every line adds its
/// device to its server's set, and setting a bit costs less than a hash set's insert (a fleet of
/// 100 000 devices is 12.5 kB per server and role).
#[derive(Debug, Clone, Default)]
struct DeviceBits(Vec<u64>);

impl DeviceBits {
    fn insert(&mut self, d: u32) {
        let (word, bit) = (d as usize / 64, d % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        })
    }

    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn union(&mut self, other: &DeviceBits) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }
}

/// A (device, folder, SyncKey)'s Syncs, and its folder and key: `text[at..at + folder]` and the
/// `key` bytes after it, in [`SyncKeys::text`].
#[derive(Debug, Clone, Copy)]
struct SyncKeyCount {
    device: u32,
    /// The hash of folder and key.
    hash: u64,
    syncs: u64,
    at: u32,
    folder: u16,
    key: u16,
}

/// The Syncs of each (device, folder, client SyncKey). A Sync sends a new key nearly every time,
/// so a map would take a cache miss per Sync for an entry seldom seen again: each Sync is
/// appended instead, and the list is gathered (sorted, one count per key) when it grows long and
/// at the end. At most [`MAX_SYNC_KEYS`] keys are kept, the most sent.
#[derive(Debug, Clone)]
struct SyncKeys {
    /// Keys kept, at most: [`MAX_SYNC_KEYS`].
    most: usize,
    counts: Vec<SyncKeyCount>,
    /// The folders and keys, one after the other.
    text: String,
    /// How many of `counts`, from the first, are gathered.
    gathered: usize,
    /// The Syncs of the keys left out.
    dropped: u64,
}

impl Default for SyncKeys {
    fn default() -> SyncKeys {
        SyncKeys {
            most: MAX_SYNC_KEYS,
            counts: Vec::new(),
            text: String::new(),
            gathered: 0,
            dropped: 0,
        }
    }
}

impl SyncKeys {
    /// Text of appended keys gathered at the latest (a hostile log's keys are long).
    const MAX_TEXT: usize = 256 << 20;

    /// Counts `n` Syncs of `folder` with `key` for device `d`, by the key's hash `h`.
    fn count(&mut self, d: u32, h: u64, n: u64, folder: &str, key: &str) {
        // A folder or key longer than a SyncKey can be (hostile bytes) is cut, at a character.
        let (folder, key) = (cut_at_char(folder, 256), cut_at_char(key, 256));
        let at = self.text.len();
        self.text.push_str(folder);
        self.text.push_str(key);
        self.counts.push(SyncKeyCount {
            device: d,
            hash: h,
            syncs: n,
            at: at as u32,
            folder: folder.len() as u16,
            key: key.len() as u16,
        });
        if self.counts.len() >= self.gathered + 2 * self.most || self.text.len() >= Self::MAX_TEXT {
            self.gather();
        }
    }

    /// One count per key, in (device, hash) order, the text of the keys kept only.
    fn gather(&mut self) {
        if self.gathered == self.counts.len() {
            return;
        }
        self.counts.sort_unstable_by_key(|c| (c.device, c.hash));
        self.counts.dedup_by(|later, kept| {
            let same = (later.device, later.hash) == (kept.device, kept.hash);
            if same {
                kept.syncs += later.syncs;
            }
            same
        });
        if self.counts.len() > self.most {
            self.counts.select_nth_unstable_by(self.most, |a, b| {
                b.syncs.cmp(&a.syncs).then((a.device, a.hash).cmp(&(b.device, b.hash)))
            });
            self.dropped += self.counts[self.most..].iter().map(|c| c.syncs).sum::<u64>();
            self.counts.truncate(self.most);
            self.counts.sort_unstable_by_key(|c| (c.device, c.hash));
        }
        let mut text = String::with_capacity(self.counts.len() * 16);
        for c in &mut self.counts {
            let (folder, key) = c.text(&self.text);
            let at = text.len() as u32;
            text.push_str(folder);
            text.push_str(key);
            c.at = at;
        }
        self.text = text;
        self.gathered = self.counts.len();
    }

    /// Takes in another visitor's keys, its devices renumbered by `re`.
    fn merge(&mut self, other: SyncKeys, re: impl Fn(u32) -> u32) {
        for c in &other.counts {
            let (folder, key) = c.text(&other.text);
            self.count(re(c.device), c.hash, c.syncs, folder, key);
        }
        self.dropped += other.dropped;
        self.gather();
    }

    /// The keys with their Syncs, one count each (gathered here when they are not yet).
    fn gathered(&self) -> std::borrow::Cow<'_, SyncKeys> {
        if self.gathered == self.counts.len() {
            std::borrow::Cow::Borrowed(self)
        } else {
            let mut all = self.clone();
            all.gather();
            std::borrow::Cow::Owned(all)
        }
    }
}

impl SyncKeyCount {
    /// The folder and SyncKey, in `text` (the [`SyncKeys::text`] that counted it).
    fn text<'a>(&self, text: &'a str) -> (&'a str, &'a str) {
        let at = self.at as usize;
        let mid = at + usize::from(self.folder);
        (&text[at..mid], &text[mid..mid + usize::from(self.key)])
    }
}

/// `s` cut to at most `max` bytes, at a character's start.
fn cut_at_char(s: &str, max: usize) -> &str {
    &s[..s.floor_char_boundary(max)]
}

/// A SendMail outcome: (device, command slot, EAS status, error, ABQ state, sc-status).
type SendMailKey = (u32, usize, Option<u32>, String, String, u16);

/// Every report's numbers, gathered line by line.
#[derive(Debug, Default)]
pub struct Reports {
    /// The fingerprint of "user\u{1}device" in lower case ([`fingerprint`]) → position in
    /// `devices`: compared without reading any text, one cache miss fewer per line.
    index: HashMap<u128, u32>,
    /// The same for the user and device as written ([`raw_fingerprint`]): a device writes them
    /// the same way on every line, so a line finds its device without building its key. A cache
    /// (only this visitor's lines), emptied when it holds [`MAX_SPELLINGS`].
    spellings: HashMap<u64, u32>,
    devices: Vec<Device>,
    key: String,
    scratch: Vec<u8>,
    /// (status, substatus, win32) → (front-end lines, back-end lines).
    http: HashMap<(u16, u32, u32), (u64, u64)>,
    /// (command slot, EAS status) → lines.
    eas: HashMap<(usize, u32), u64>,
    /// Error tag → (lines, devices).
    errors: HashMap<String, (u64, HashSet<u32>)>,
    /// (device, command slot, status, error, abq, sc-status) → lines.
    sendmail: HashMap<SendMailKey, u64>,
    /// Syncs per (device, folder, client SyncKey).
    sync_keys: SyncKeys,
    /// Hour (ms since 1970 / 3,600,000) → load, from front-end lines; `hours_back` from back-end.
    hours: HashMap<i64, Hour>,
    hours_back: HashMap<i64, Hour>,
    /// Server → by role (front end, back end, CAS).
    servers: HashMap<String, ServerRoles>,
    /// `s-ip` → `s-computername`, learnt from lines that have both (a field set may lack the
    /// name), so that a server counts under one name.
    server_names: HashMap<String, String>,
    /// Lines with a `Log=` value, and with each field some reports need.
    log_lines: u64,
    with_policy_ack: u64,
    with_sync_key: u64,
    with_bytes: u64,
    probes: u64,
    front_lines: u64,
    back_lines: u64,
}

impl Reports {
    pub fn new() -> Reports {
        Reports::default()
    }

    /// The device of `line`, whose spelling of user and device is `spelling` ([`spelling`]).
    fn device(&mut self, spelling: u64, line: &EasLine<'_>, at: LineAt) -> u32 {
        if let Some(&i) = self.spellings.get(&spelling) {
            return i;
        }
        if self.spellings.len() >= MAX_SPELLINGS {
            self.spellings.clear();
        }
        let i = self.device_by_key(line, at);
        self.spellings.insert(spelling, i);
        i
    }

    /// The device of `line` by its key: user and device id percent-decoded, in lower case.
    fn device_by_key(&mut self, line: &EasLine<'_>, at: LineAt) -> u32 {
        self.key.clear();
        let who = line.who_raw();
        if !push_lower_unescaped(&mut self.key, who) {
            // Escapes of non-ASCII bytes: decoded in a buffer kept for the purpose.
            self.key.clear();
            self.scratch.clear();
            self.scratch.extend(percent_encoding::percent_decode_str(who));
            push_lower(&mut self.key, &String::from_utf8_lossy(&self.scratch));
        }
        self.key.push('\u{1}');
        push_lower(&mut self.key, line.device_id.as_deref().unwrap_or(""));
        let key = fingerprint(&self.key);
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.devices.len() as u32;
        self.index.insert(key, i);
        self.devices.push(Device {
            key,
            spelled_at: (at.block, at.line_in_block),
            user: line.who().into_owned(),
            device_id: line.device_id.as_deref().unwrap_or("").to_string(),
            device_type: line.device_type.as_deref().unwrap_or("").to_string(),
            first_ms: line.time_ms,
            last_ms: line.time_ms,
            last_hour: [i64::MIN; 2],
            ..Device::default()
        });
        i
    }
}

impl Visitor for Reports {
    fn line(&mut self, line: &EasLine<'_>, at: LineAt) {
        self.lines(&[(line.clone(), at)]);
    }

    fn lines(&mut self, lines: &[(EasLine<'_>, LineAt)]) {
        // A caller may hand more than a batch: each batch in turn, none left out.
        for batch in lines.chunks(BATCH) {
            self.batch(batch);
        }
    }

    fn merge(&mut self, other: Reports) {
        let remap: Vec<u32> = other
            .devices
            .into_iter()
            .map(|dev| match self.index.get(&dev.key) {
                Some(&i) => {
                    self.devices[i as usize].merge(dev);
                    i
                }
                None => {
                    let i = self.devices.len() as u32;
                    self.index.insert(dev.key, i);
                    self.devices.push(dev);
                    i
                }
            })
            .collect();
        let re = |d: u32| remap[d as usize];
        let re_set = |s: HashSet<u32>| s.into_iter().map(re).collect::<HashSet<u32>>();
        for (k, (a, b)) in other.http {
            let e = self.http.entry(k).or_default();
            e.0 += a;
            e.1 += b;
        }
        for (k, n) in other.eas {
            *self.eas.entry(k).or_default() += n;
        }
        for (k, (n, devs)) in other.errors {
            let e = self.errors.entry(k).or_default();
            e.0 += n;
            e.1.extend(re_set(devs));
        }
        for ((d, c, s, e, a, sc), n) in other.sendmail {
            *self.sendmail.entry((re(d), c, s, e, a, sc)).or_default() += n;
        }
        self.sync_keys.merge(other.sync_keys, re);
        for (hours, theirs) in [(&mut self.hours, other.hours), (&mut self.hours_back, other.hours_back)] {
            for (k, h) in theirs {
                let e = hours.entry(k).or_default();
                e.hits += h.hits;
                e.syncs += h.syncs;
                e.devices.extend(re_set(h.devices));
            }
        }
        for (ip, name) in other.server_names {
            self.server_names.entry(ip).or_insert(name);
        }
        for (k, roles) in other.servers {
            let mine = self.servers.entry(k).or_default();
            for (e, (n, devs, bytes)) in mine.iter_mut().zip(roles) {
                e.0 += n;
                devs.iter().for_each(|d| e.1.insert(re(d)));
                e.2 += bytes;
            }
        }
        self.log_lines += other.log_lines;
        self.with_policy_ack += other.with_policy_ack;
        self.with_sync_key += other.with_sync_key;
        self.with_bytes += other.with_bytes;
        self.probes += other.probes;
        self.front_lines += other.front_lines;
        self.back_lines += other.back_lines;
    }
}

impl Reports {
    /// Counts at most [`BATCH`] lines. Their devices are all looked up, then each one's counters
    /// touched, before any line is counted: a fleet's counters do not fit in a core's cache, and a
    /// line at a time waited for two cache misses in a row, lookup then counters; a batch waits
    /// about once for all of them.
    fn batch(&mut self, batch: &[(EasLine<'_>, LineAt)]) {
        let mut spellings = [0u64; BATCH];
        for (s, (l, _)) in spellings.iter_mut().zip(batch) {
            *s = spelling(l);
        }
        let mut devices = [u32::MAX; BATCH];
        for ((d, (l, at)), &s) in devices.iter_mut().zip(batch).zip(&spellings) {
            if !l.probe {
                *d = self.device(s, l, *at);
            }
        }
        let mut touched = 0u64;
        for (&d, (l, _)) in devices.iter().zip(batch) {
            if let Some(dev) = self.devices.get(d as usize) {
                let c = if l.role == Role::BackEnd { &dev.back } else { &dev.front };
                touched ^= dev.last_ms as u64 ^ dev.agent_counts[0][0] ^ c.hits ^ c.commands[command_slot(l)];
                touched ^= dev.errors ^ u64::from(dev.budget_owner.is_none());
            }
        }
        std::hint::black_box(touched);
        for (&d, (l, at)) in devices.iter().zip(batch) {
            if l.probe {
                self.probes += 1;
            } else {
                self.count(l, *at, d);
            }
        }
    }

    /// Counts `line`, of device `d`.
    fn count(&mut self, line: &EasLine<'_>, at: LineAt, d: u32) {
        // The `Log=` value is read while the device's counters come from memory.
        let slot = command_slot(line);
        let keys = &mut self.sync_keys;
        let facts = line.log.map(|log| {
            LogFacts::read(log, |folder, key| {
                if slot == SYNC {
                    let h = foldhash::fast::FixedState::with_seed(7).hash_one((folder, key));
                    keys.count(d, h, 1, folder, key);
                }
            })
        });
        let front = line.role != Role::BackEnd;
        if front {
            self.front_lines += 1;
        } else {
            self.back_lines += 1;
        }
        let hour = line.time_ms.div_euclid(3_600_000);
        {
            let dev = &mut self.devices[d as usize];
            dev.first_ms = dev.first_ms.min(line.time_ms);
            dev.last_ms = dev.last_ms.max(line.time_ms);
            let c = if front { &mut dev.front } else { &mut dev.back };
            c.hits += 1;
            c.commands[slot] += 1;
            match line.status {
                400..=499 => c.http_4xx += 1,
                500..=599 => c.http_5xx += 1,
                _ => {}
            }
            c.status_503 += u64::from(line.status == 503);
            c.unauthorized += u64::from(line.status == 401);
            let agent = line.user_agent.unwrap_or("");
            let side = usize::from(!front);
            let hash = agent_hash(agent);
            let fast = dev.n_agents.min(FAST_AGENTS);
            let room = dev.n_agents < AGENTS_PER_DEVICE;
            // Two of a device's first agents share a 64-bit hash by a 2^-60 chance: the text is
            // compared only beyond them.
            let at = match dev.agent_hashes[..fast].iter().position(|&h| h == hash) {
                Some(i) => Some(i),
                None => dev
                    .agents
                    .iter()
                    .skip(fast)
                    .position(|x| x.0 == agent)
                    .map(|i| i + fast),
            };
            match at {
                Some(i) if i < FAST_AGENTS => dev.agent_counts[i][side] += 1,
                Some(i) => dev.agents[i].1[side] += 1,
                None if room => {
                    let mut n = [0; 2];
                    let i = dev.agents.len();
                    match (dev.agent_hashes.get_mut(i), dev.agent_counts.get_mut(i)) {
                        (Some(h), Some(c)) => (*h, c[side]) = (hash, 1),
                        _ => n[side] = 1,
                    }
                    dev.agents.push((agent.to_string(), n));
                    dev.n_agents = dev.agents.len();
                }
                None => dev.other_agents[side] += 1,
            }
            dev.max_time_taken = dev.max_time_taken.max(line.time_taken_ms.unwrap_or(0));
            if front {
                dev.sc_bytes += line.sc_bytes.unwrap_or(0);
                dev.cs_bytes += line.cs_bytes.unwrap_or(0);
            }
        }
        self.with_bytes += u64::from(line.sc_bytes.is_some());
        let http = self.http.entry((line.status, line.substatus, line.win32)).or_default();
        if front {
            http.0 += 1;
        } else {
            http.1 += 1;
        }
        let hours = if front { &mut self.hours } else { &mut self.hours_back };
        let h = hours.entry(hour).or_default();
        h.hits += 1;
        h.syncs += u64::from(slot == SYNC || slot == ESTIMATE);
        // Lines without a DeviceId (OPTIONS) are not a device.
        let has_device = line.device_id.as_deref().is_some_and(|id| !id.is_empty());
        let last = &mut self.devices[d as usize].last_hour[usize::from(!front)];
        if has_device && *last != hour {
            *last = hour;
            h.devices.insert(d);
        }
        if let Some(ip) = line.server_ip
            && ip != line.server
            && !self.server_names.contains_key(ip)
        {
            self.server_names.insert(ip.to_string(), line.server.to_string());
        }
        let servers = match self.servers.get_mut(line.server) {
            Some(s) => s,
            None => self.servers.entry(line.server.to_string()).or_default(),
        };
        let server = &mut servers[line.role as usize];
        server.0 += 1;
        if has_device {
            server.1.insert(d);
        }
        server.2 += line.sc_bytes.unwrap_or(0) + line.cs_bytes.unwrap_or(0);
        if let Some(f) = &facts {
            let when = (line.time_ms, (at.block, at.line_in_block));
            self.log(line, f, d, slot, when);
        } else if line.role == Role::FrontEnd && line.status == 401 && sends_mail(slot) {
            // Refused by the front end: no back end ever logs it.
            *self
                .sendmail
                .entry((d, slot, None, String::new(), String::new(), 401))
                .or_default() += 1;
        }
    }
}

/// Spellings of (user, device) a report visitor remembers, at most (a log writing each device in
/// many spellings would otherwise grow the cache with its lines).
const MAX_SPELLINGS: usize = 1 << 20;

/// The [`raw_fingerprint`] of a line's user and device id as written.
fn spelling(line: &EasLine<'_>) -> u64 {
    raw_fingerprint(line.who_raw(), line.device_id.as_deref().unwrap_or(""))
}

/// A 64-bit fingerprint of a (user, device id) as written. Two of the spellings the cache holds
/// share one by a chance of about n²/2^65 (1 in 30 million when it is full); 64 bits keep an
/// entry of the cache at 16 bytes, so that the cache of a fleet stays in a core's L2.
fn raw_fingerprint(who: &str, id: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(3).hash_one((who, id))
}

/// A 128-bit fingerprint of a device's key: two hashes under different seeds. Two of the devices
/// of a log share one by a chance of about n²/2^129 (none, for any log that exists).
fn fingerprint(key: &str) -> u128 {
    let hash = |seed| foldhash::quality::FixedState::with_seed(seed).hash_one(key);
    u128::from(hash(1)) << 64 | u128::from(hash(2))
}

/// What a line's `Log=` says that the reports count, read before the line's device is touched
/// (its counters are a cache miss away: the reading overlaps the wait).
#[derive(Default)]
struct LogFacts<'a> {
    status: Option<u32>,
    error: Option<&'a str>,
    abq: &'a str,
    /// The folders of the line that name a client SyncKey, and whether one of the keys is `0`
    /// (the keys themselves go to the callback of [`LogFacts::read`]).
    n_keys: u64,
    key_zero: bool,
    state_not_found: u64,
    first_syncs: u64,
    recovery_syncs: u64,
    queued: u64,
    max_throttle_ms: Option<u64>,
    /// The last of each in the line (one time for the whole line).
    back_off: Option<&'a str>,
    policy_key: Option<&'a str>,
    policy_ack: Option<u32>,
    policy_acks: u64,
    /// The first Budget owner; the lowest balance.
    budget_owner: Option<&'a str>,
    min_balance: Option<i64>,
}

impl<'a> LogFacts<'a> {
    /// Reads `log`, handing each (folder, client SyncKey) to `on_key` as it comes (a Sync names
    /// a handful of folders; holding them would cost a copy of every line's facts).
    fn read(log: &'a str, mut on_key: impl FnMut(&'a str, &'a str)) -> LogFacts<'a> {
        let mut f = LogFacts::default();
        let mut folder = None;
        for (tag, at) in tagged_tokens(log) {
            let raw = || &log[at.clone()];
            match tag {
                S | SC1 => f.status = f.status.or(raw().parse::<u32>().ok()),
                ERROR => f.error = Some(raw()),
                AS => f.abq = raw(),
                FID => folder = Some(raw()),
                SK => {
                    f.n_keys += 1;
                    f.key_zero |= raw() == "0";
                    on_key(folder.unwrap_or(""), raw());
                }
                SSNF => f.state_not_found += u64::from(raw() == "T"),
                ST => match raw() {
                    "F" => f.first_syncs += 1,
                    "R" => f.recovery_syncs += 1,
                    _ => {}
                },
                THROTTLE => {
                    let ms = raw().parse::<u64>().unwrap_or(0);
                    f.queued += u64::from(ms > 0);
                    f.max_throttle_ms = Some(f.max_throttle_ms.unwrap_or(0).max(ms));
                }
                SBKOFFD => f.back_off = Some(raw()),
                BUDGET => {
                    // Read as written (`Owner%3a…%2cBalance%3a-36972`): most 2016+ lines carry one.
                    if f.budget_owner.is_none() {
                        f.budget_owner = budget_part(raw(), "Owner");
                    }
                    if let Some(balance) = budget_part(raw(), "Balance").and_then(|v| v.parse::<f64>().ok()) {
                        let balance = balance as i64;
                        f.min_balance = Some(f.min_balance.map_or(balance, |m| m.min(balance)));
                    }
                }
                PK => f.policy_key = Some(raw()),
                PA => {
                    if let Ok(pa) = raw().parse::<u32>() {
                        f.policy_ack = Some(pa);
                        f.policy_acks += 1;
                    }
                }
                _ => {}
            }
        }
        f
    }
}

impl Device {
    /// Counts what `f` says of a line of this device written and read at `when`, by command slot;
    /// `error` is its `Error:` value decoded.
    fn count_log(&mut self, f: &LogFacts<'_>, error: Option<&str>, when: When, slot: usize) {
        self.state_not_found += f.state_not_found;
        self.first_syncs += f.first_syncs;
        self.recovery_syncs += f.recovery_syncs;
        self.queued += f.queued;
        if let Some(ms) = f.max_throttle_ms {
            self.max_throttle_ms = self.max_throttle_ms.max(ms);
        }
        if let Some(b) = f.back_off {
            set_latest(&mut self.back_off, when, &decoded(b));
        }
        if self.budget_owner.is_none()
            && let Some(owner) = f.budget_owner
        {
            self.budget_owner = Some(decoded(owner).into_owned());
        }
        if let Some(balance) = f.min_balance {
            self.min_balance = Some(self.min_balance.map_or(balance, |m| m.min(balance)));
        }
        if let Some(pk) = f.policy_key {
            set_latest(&mut self.policy_key, when, pk);
        }
        if let Some(pa) = f.policy_ack {
            self.policy_ack = latest(self.policy_ack.take(), Some((when, pa)));
        }
        if !f.abq.is_empty() {
            self.count_access(f.abq, when);
        }
        self.syncs += u64::from(slot == SYNC);
        self.provisions += u64::from(slot == PROVISION);
        if let Some(e) = error {
            self.errors += 1;
            self.overbudget += u64::from(e.contains("OverBudget"));
            self.not_provisioned +=
                u64::from(e.contains("DeviceNotProvisioned") || e.contains("DeviceNotFullyProvisionable"));
        }
        // LPS counts the lines with `Sk:0_`: a Sync starting any folder over counts once.
        if slot == SYNC {
            self.sync_key_zero += u64::from(f.key_zero);
        }
    }
}

impl Reports {
    /// What only `Log=` says: the device's counters, and the status, error, SendMail and SyncKey
    /// tables.
    fn log(&mut self, line: &EasLine<'_>, f: &LogFacts<'_>, d: u32, slot: usize, when: When) {
        self.log_lines += 1;
        self.with_policy_ack += f.policy_acks;
        let error = f.error.map(decoded);
        self.devices[d as usize].count_log(f, error.as_deref(), when, slot);
        if let Some(e) = &error {
            for tag in e.split(';').filter(|t| !t.is_empty()) {
                let entry = match self.errors.get_mut(tag) {
                    Some(e) => e,
                    None => self.errors.entry(tag.to_string()).or_default(),
                };
                entry.0 += 1;
                entry.1.insert(d);
            }
        }
        if let Some(s) = f.status {
            *self.eas.entry((slot, s)).or_default() += 1;
        }
        if sends_mail(slot) {
            let error = error.as_deref().unwrap_or("").to_string();
            let key = (d, slot, f.status, error, decoded(f.abq).into_owned(), line.status);
            *self.sendmail.entry(key).or_default() += 1;
        }
        if slot != SYNC {
            return;
        }
        self.with_sync_key += u64::from(f.n_keys > 0);
    }
}

// The tokens the reports read (`iis-eas-log.md` §3.2).
const S: u64 = tag("S");
const SC1: u64 = tag("SC1");
const ERROR: u64 = tag("Error");
const AS: u64 = tag("As");
const FID: u64 = tag("Fid");
const SK: u64 = tag("Sk");
const SSNF: u64 = tag("Ssnf");
const ST: u64 = tag("St");
const THROTTLE: u64 = tag("Throttle");
const SBKOFFD: u64 = tag("SBkOffD");
const BUDGET: u64 = tag("Budget");
const PK: u64 = tag("Pk");
const PA: u64 = tag("Pa");

/// The users report's list of a device's user agents: the 6 most used, spaces restored.
fn agents_text<'a>(agents: impl Iterator<Item = (&'a str, [u64; 2])>) -> String {
    let mut sorted: Vec<(&str, [u64; 2])> = agents.filter(|a| !a.0.is_empty()).collect();
    sorted.sort_by(|a, b| (b.1[0] + b.1[1]).cmp(&(a.1[0] + a.1[1])).then_with(|| a.0.cmp(b.0)));
    let mut names: Vec<String> = sorted.iter().take(6).map(|a| a.0.replace('+', " ")).collect();
    if sorted.len() > 6 {
        names.push(format!("and {} more", sorted.len() - 6));
    }
    names.join(", ")
}

/// Appends `raw` percent-decoded and in lower case when it is ASCII and escapes only ASCII bytes
/// (`jdoe%40contoso.com`, `CONTOSO%5Cjdoe`: nearly every user); false (with `out` in any state)
/// otherwise.
fn push_lower_unescaped(out: &mut String, raw: &str) -> bool {
    let b = raw.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < b.len() {
        let c = match b[i] {
            b'%' => match (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) if h < 8 => {
                    i += 2;
                    h << 4 | l
                }
                (Some(_), Some(_)) => return false,
                _ => b'%',
            },
            c if c.is_ascii() => c,
            _ => return false,
        };
        out.push(char::from(c.to_ascii_lowercase()));
        i += 1;
    }
    true
}

/// Appends `s` in lower case (ASCII quickly, the rest as Unicode says).
fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// The value of `name` in a Budget snapshot as written, percent-encoded
/// (`Owner%3aS-1-…%5FDev%5FType%2cConn%3a3%2cBalance%3a-36972`): up to the next `%2c` (`,`) or
/// `%3b` (`;`).
fn budget_part<'a>(budget: &'a str, name: &str) -> Option<&'a str> {
    let finder = memchr::memmem::find_iter(budget.as_bytes(), name.as_bytes());
    for at in finder {
        let rest = &budget[at + name.len()..];
        let Some(value) = rest
            .strip_prefix("%3a")
            .or_else(|| rest.strip_prefix("%3A"))
            .or_else(|| rest.strip_prefix(':'))
        else {
            continue;
        };
        let end = value
            .match_indices('%')
            .map(|(i, _)| i)
            .find(|&i| matches!(value.get(i..i + 3), Some("%2c" | "%2C" | "%3b" | "%3B")))
            .or_else(|| value.find([',', ';']))
            .unwrap_or(value.len());
        return Some(&value[..end]);
    }
    None
}

/// `2024-05-02 08:15:02` (UTC) of ms since 1970.
pub fn utc(ms: i64) -> String {
    use chrono::{Datelike, Timelike};
    // Written digit by digit, not through a format string (which cost fifty times as much, and
    // a fleet's tables write two times per device). IIS dates have four-digit years.
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms).filter(|t| (0..=9999).contains(&t.year())) else {
        return String::new();
    };
    let year = t.year() as u32;
    let mut out = String::with_capacity(19);
    for (n, sep) in [
        (year / 100, None),
        (year % 100, Some('-')),
        (t.month(), Some('-')),
        (t.day(), Some(' ')),
    ]
    .into_iter()
    .chain([(t.hour(), Some(':')), (t.minute(), Some(':')), (t.second(), None)])
    {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
        if let Some(c) = sep {
            out.push(c);
        }
    }
    out
}

fn columns(spec: &[(&'static str, bool)]) -> Vec<Column> {
    spec.iter().map(|&(name, numeric)| Column { name, numeric }).collect()
}

fn share(n: u64, total: u64) -> Cell {
    Cell::Real(if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    })
}

impl Reports {
    /// The names of the reports, in the order [`REPORTS`] lists them.
    pub fn names() -> impl Iterator<Item = &'static str> {
        REPORTS.iter().map(|r| r.0)
    }

    /// Every report.
    pub fn tables(&self) -> Vec<Table> {
        self.tables_named(&Reports::names().collect::<Vec<_>>())
    }

    /// The tables of `names` (unknown names are left out), in that order, built on every core:
    /// each reads the whole report, and a fleet's users and SyncKeys tables take a while.
    pub fn tables_named(&self, names: &[&str]) -> Vec<Table> {
        use rayon::prelude::*;
        names.par_iter().filter_map(|n| self.table(n)).collect()
    }

    /// The report named `name` (see [`REPORTS`]); `None` for an unknown name.
    pub fn table(&self, name: &str) -> Option<Table> {
        let &(name, title, description) = REPORTS.iter().find(|r| r.0 == name)?;
        let mut t = Table {
            name,
            title,
            description,
            columns: Vec::new(),
            rows: Vec::new(),
            notes: Vec::new(),
        };
        let front = self.front_lines > 0;
        let counted = |d: &Device| {
            if d.front.hits >= d.back.hits {
                d.front.clone()
            } else {
                d.back.clone()
            }
        };
        let no_log = self.log_lines == 0;
        let say_no_log = |t: &mut Table| {
            if no_log {
                t.notes.push(
                    "These logs carry no Log= field (2013+ front-end logs do not): this report needs the back-end (W3SVC2) or 2010 CAS logs.".into(),
                );
            }
        };
        if self.front_lines > 0 && self.back_lines > 0 && matches!(name, "users" | "top") {
            t.notes.push(
                "Front-end and back-end lines log the same requests: each device's hits are counted from whichever of the two it has more of.".into(),
            );
        }
        match name {
            "users" => {
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Device type", false),
                    ("Hits", true),
                    ("Sync", true),
                    ("Ping", true),
                    ("FolderSync", true),
                    ("SendMail", true),
                    ("Other commands", true),
                    ("HTTP 4xx", true),
                    ("HTTP 5xx", true),
                    ("Exchange errors", true),
                    ("Bytes sent", true),
                    ("Bytes received", true),
                    ("First seen (UTC)", false),
                    ("Last seen (UTC)", false),
                    ("User agents", false),
                ]);
                for d in &self.devices {
                    let c = counted(d);
                    if c.hits == 0 && d.errors == 0 {
                        continue;
                    }
                    let named: u64 = [0, 1, 2, 3].iter().map(|&i| c.commands[i]).sum();
                    let bytes = |n: u64| if self.with_bytes > 0 { Cell::int(n) } else { Cell::Empty };
                    t.rows.push(vec![
                        Cell::text(&d.user),
                        Cell::text(&d.device_id),
                        Cell::text(&d.device_type),
                        Cell::int(c.hits),
                        Cell::int(c.commands[0]),
                        Cell::int(c.commands[1]),
                        Cell::int(c.commands[2]),
                        Cell::int(c.commands[3]),
                        Cell::int(c.hits - named),
                        Cell::int(c.http_4xx),
                        Cell::int(c.http_5xx),
                        Cell::int(d.errors),
                        bytes(d.sc_bytes),
                        bytes(d.cs_bytes),
                        Cell::text(utc(d.first_ms)),
                        Cell::text(utc(d.last_ms)),
                        Cell::text(agents_text(d.agent_lines())),
                    ]);
                }
                sort_desc(&mut t.rows, 3);
                if self.with_bytes == 0 {
                    t.notes
                        .push("The logs have no sc-bytes / cs-bytes fields: bytes are not known.".into());
                }
                if self.probes > 0 {
                    t.notes.push(format!(
                        "{} health-probe lines (AMProbe, HealthMailbox) are left out.",
                        self.probes
                    ));
                }
            }
            "top" => {
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Device type", false),
                    ("Hits", true),
                    ("Share %", true),
                    ("Top command", false),
                ]);
                let total: u64 = self.devices.iter().map(|d| counted(d).hits).sum();
                for d in &self.devices {
                    let c = counted(d);
                    if c.hits == 0 {
                        continue;
                    }
                    let top = (0..c.commands.len())
                        .max_by_key(|&i| (c.commands[i], std::cmp::Reverse(i)))
                        .unwrap_or(0);
                    t.rows.push(vec![
                        Cell::text(&d.user),
                        Cell::text(&d.device_id),
                        Cell::text(&d.device_type),
                        Cell::int(c.hits),
                        share(c.hits, total),
                        Cell::text(format!("{} ({})", slot_name(top), c.commands[top])),
                    ]);
                }
                sort_desc(&mut t.rows, 3);
                t.rows.truncate(25);
            }
            "sendmail" => {
                say_no_log(&mut t);
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Command", false),
                    ("EAS status", true),
                    ("Meaning", false),
                    ("Error", false),
                    ("ABQ", false),
                    ("sc-status", true),
                    ("Requests", true),
                ]);
                for ((d, slot, status, error, abq, sc), n) in &self.sendmail {
                    let dev = &self.devices[*d as usize];
                    let meaning = status.and_then(|s| {
                        super::log_status(Command::from_name(slot_name(*slot)), s)
                            .1
                            .map(|m| m.0)
                    });
                    t.rows.push(vec![
                        Cell::text(&dev.user),
                        Cell::text(&dev.device_id),
                        Cell::text(slot_name(*slot)),
                        status.map_or(Cell::Empty, |s| Cell::int(u64::from(s))),
                        Cell::opt(meaning),
                        Cell::opt(Some(error.clone()).filter(|e| !e.is_empty())),
                        Cell::opt(Some(abq.clone()).filter(|e| !e.is_empty())),
                        Cell::int(u64::from(*sc)),
                        Cell::int(*n),
                    ]);
                }
                sort_desc(&mut t.rows, 8);
            }
            "synckey0" => {
                say_no_log(&mut t);
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Device type", false),
                    ("Syncs with SyncKey 0", true),
                    ("All Syncs", true),
                    ("Sync state not found", true),
                    ("First syncs (St:F)", true),
                    ("Recovery syncs (St:R)", true),
                ]);
                for d in self.devices.iter() {
                    let syncs = counted(d).commands[0];
                    if syncs == 0 && d.syncs == 0 {
                        continue;
                    }
                    t.rows.push(vec![
                        Cell::text(&d.user),
                        Cell::text(&d.device_id),
                        Cell::text(&d.device_type),
                        Cell::int(d.sync_key_zero),
                        Cell::int(syncs),
                        Cell::int(d.state_not_found),
                        Cell::int(d.first_syncs),
                        Cell::int(d.recovery_syncs),
                    ]);
                }
                sort_desc(&mut t.rows, 3);
                if !no_log && self.with_sync_key == 0 {
                    t.notes
                        .push("No Sync line carries a client SyncKey (Sk:) in these logs.".into());
                }
            }
            "synckeys" => {
                say_no_log(&mut t);
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Folder (Fid)", false),
                    ("Client SyncKey", false),
                    ("Syncs", true),
                ]);
                let keys = self.sync_keys.gathered();
                for c in keys.counts.iter().filter(|c| c.syncs > 1) {
                    let dev = &self.devices[c.device as usize];
                    let (folder, key) = c.text(&keys.text);
                    t.rows.push(vec![
                        Cell::text(&dev.user),
                        Cell::text(&dev.device_id),
                        Cell::opt(Some(folder).filter(|f| !f.is_empty())),
                        Cell::text(key),
                        Cell::int(c.syncs),
                    ]);
                }
                sort_desc(&mut t.rows, 4);
                t.notes.push(format!(
                    "{} distinct SyncKeys were sent; only those sent more than once for a folder are listed.",
                    keys.counts.len()
                ));
                if keys.dropped > 0 {
                    t.notes.push(format!(
                        "More than {MAX_SYNC_KEYS} distinct SyncKeys: the {MAX_SYNC_KEYS} sent most are kept, and {} Syncs with other keys are not counted.",
                        keys.dropped
                    ));
                }
            }
            "http-status" => {
                t.columns = columns(&[
                    ("sc-status", true),
                    ("sc-substatus", true),
                    ("sc-win32-status", true),
                    ("Meaning", false),
                    ("Front end / CAS", true),
                    ("Back end", true),
                    ("Share %", true),
                ]);
                let pick = |&(a, b): &(u64, u64)| if front { a } else { b };
                let total: u64 = self.http.values().map(pick).sum();
                for (&(s, sub, win32), counts) in &self.http {
                    t.rows.push(vec![
                        Cell::int(u64::from(s)),
                        Cell::int(u64::from(sub)),
                        Cell::int(u64::from(win32)),
                        Cell::text(http_meaning(s, sub, win32)),
                        Cell::int(counts.0),
                        Cell::int(counts.1),
                        share(pick(counts), total),
                    ]);
                }
                sort_desc(&mut t.rows, if front { 4 } else { 5 });
                t.notes.push(format!(
                    "Share of the {} lines.",
                    if front { "front-end and CAS" } else { "back-end" }
                ));
            }
            "eas-status" => {
                say_no_log(&mut t);
                t.columns = columns(&[
                    ("Command", false),
                    ("EAS status", true),
                    ("Name", false),
                    ("Meaning", false),
                    ("Requests", true),
                ]);
                for (&(slot, s), &n) in &self.eas {
                    let m = super::log_status(Command::from_name(slot_name(slot)), s).1;
                    t.rows.push(vec![
                        Cell::text(slot_name(slot)),
                        Cell::int(u64::from(s)),
                        Cell::opt(m.map(|m| m.0)),
                        Cell::opt(m.map(|m| m.1)),
                        Cell::int(n),
                    ]);
                }
                sort_desc(&mut t.rows, 4);
            }
            "errors" => {
                say_no_log(&mut t);
                t.columns = columns(&[("Error", false), ("Requests", true), ("Devices", true)]);
                for (tag, (n, devs)) in &self.errors {
                    t.rows
                        .push(vec![Cell::text(tag), Cell::int(*n), Cell::int(devs.len() as u64)]);
                }
                sort_desc(&mut t.rows, 1);
            }
            "throttling" => {
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Budget owner", false),
                    ("HTTP 503", true),
                    ("Error:OverBudget", true),
                    ("Queued (Throttle > 0)", true),
                    ("Longest queue ms", true),
                    ("Last back-off (SBkOffD)", false),
                    ("Lowest balance", true),
                ]);
                for d in self.devices.iter().filter(|d| d.throttled() > 0) {
                    t.rows.push(vec![
                        Cell::text(&d.user),
                        Cell::text(&d.device_id),
                        Cell::opt(d.budget_owner.clone()),
                        Cell::int(d.front.status_503.max(d.back.status_503)),
                        Cell::int(d.overbudget),
                        Cell::int(d.queued),
                        Cell::int(d.max_throttle_ms),
                        Cell::opt(d.back_off.as_ref().map(|b| b.1.clone())),
                        d.min_balance.map_or(Cell::Empty, Cell::Int),
                    ]);
                }
                sort_desc(&mut t.rows, 3);
                say_no_log(&mut t);
            }
            "hourly" => {
                t.columns = columns(&[
                    ("Hour (UTC)", false),
                    ("Front end / CAS", true),
                    ("Back end", true),
                    ("Unique devices", true),
                    ("Sync + GetItemEstimate", true),
                ]);
                let mut keys: Vec<&i64> = self.hours.keys().chain(self.hours_back.keys()).collect();
                keys.sort();
                keys.dedup();
                let empty = Hour::default();
                for k in keys {
                    let (f, b) = (
                        self.hours.get(k).unwrap_or(&empty),
                        self.hours_back.get(k).unwrap_or(&empty),
                    );
                    t.rows.push(vec![
                        Cell::text(utc(k * 3_600_000)[..13].to_string() + ":00"),
                        Cell::int(f.hits),
                        Cell::int(b.hits),
                        Cell::int(f.devices.union(&b.devices).count() as u64),
                        Cell::int(f.syncs.max(b.syncs)),
                    ]);
                }
            }
            "user-agents" => {
                t.columns = columns(&[
                    ("User agent", false),
                    ("Front end / CAS", true),
                    ("Back end", true),
                    ("Unique devices", true),
                ]);
                let mut agents: HashMap<&str, ([u64; 2], u64)> = HashMap::default();
                let mut others = ([0u64; 2], 0u64);
                for d in &self.devices {
                    let device = u64::from(!d.device_id.is_empty());
                    for (a, n) in d.agent_lines() {
                        let e = agents.entry(a).or_default();
                        (e.0[0], e.0[1], e.1) = (e.0[0] + n[0], e.0[1] + n[1], e.1 + device);
                    }
                    if d.other_agents != [0, 0] {
                        (others.0[0], others.0[1], others.1) = (
                            others.0[0] + d.other_agents[0],
                            others.0[1] + d.other_agents[1],
                            others.1 + device,
                        );
                    }
                }
                for (a, (n, devices)) in agents
                    .into_iter()
                    .chain((others.1 > 0).then_some(("(other agents of devices with more than 32)", others)))
                {
                    t.rows.push(vec![
                        Cell::text(if a.is_empty() {
                            "(none)".to_string()
                        } else {
                            a.replace('+', " ")
                        }),
                        Cell::int(n[0]),
                        Cell::int(n[1]),
                        Cell::int(devices),
                    ]);
                }
                sort_desc(&mut t.rows, if front { 1 } else { 2 });
            }
            "servers" => {
                t.columns = columns(&[
                    ("Server", false),
                    ("Role", false),
                    ("Lines", true),
                    ("Unique devices", true),
                    ("Bytes", true),
                ]);
                let roles = [Role::FrontEnd, Role::BackEnd, Role::Cas];
                // Under one name: an address whose name other lines gave counts under the name.
                let mut merged: HashMap<&str, ServerRoles> = HashMap::default();
                for (server, by_role) in &self.servers {
                    let name = self.server_names.get(server).map_or(server.as_str(), String::as_str);
                    let into = merged.entry(name).or_default();
                    for (e, (n, devs, bytes)) in into.iter_mut().zip(by_role) {
                        e.0 += n;
                        e.1.union(devs);
                        e.2 += bytes;
                    }
                }
                for (server, by_role) in &merged {
                    for (role, (n, devs, bytes)) in roles.iter().zip(by_role).filter(|(_, r)| r.0 > 0) {
                        t.rows.push(vec![
                            Cell::text(*server),
                            Cell::text(role.name()),
                            Cell::int(*n),
                            Cell::int(devs.len() as u64),
                            if self.with_bytes > 0 {
                                Cell::int(*bytes)
                            } else {
                                Cell::Empty
                            },
                        ]);
                    }
                }
                sort_desc(&mut t.rows, 2);
            }
            "access" => {
                say_no_log(&mut t);
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Device type", false),
                    ("Access state now", false),
                    ("Lines blocked or quarantined", true),
                    ("States seen", false),
                ]);
                for d in self.devices.iter().filter(|d| !d.access.is_empty()) {
                    let mut seen = d.access_seen();
                    let now = seen.iter().max_by_key(|a| a.tally.last).map(|a| a.state.clone());
                    seen.sort_by_key(|a| a.tally.first);
                    let not_allowed: u64 = seen
                        .iter()
                        .filter(|a| !a.state.starts_with("Allowed"))
                        .map(|a| a.tally.lines)
                        .sum();
                    let states: Vec<String> = seen
                        .iter()
                        .map(|a| {
                            let AccessTally { lines, first, last } = a.tally;
                            let (first, last) = (utc(first.0), utc(last.0));
                            // The last time without its date when it is the first's.
                            let last = match last.split_once(' ') {
                                Some((day, time)) if first.starts_with(day) => time.to_string(),
                                _ => last,
                            };
                            let word = if lines == 1 { "line" } else { "lines" };
                            let lines = crate::numbers::group_thousands(lines);
                            format!("{} {lines} {word} {first}–{last}", a.state)
                        })
                        .collect();
                    t.rows.push(vec![
                        Cell::text(&d.user),
                        Cell::text(&d.device_id),
                        Cell::text(&d.device_type),
                        Cell::opt(now),
                        Cell::int(not_allowed),
                        Cell::text(states.join("; ")),
                    ]);
                }
                sort_desc(&mut t.rows, 4);
            }
            "policy" => {
                say_no_log(&mut t);
                t.columns = columns(&[
                    ("User", false),
                    ("Device ID", false),
                    ("Device type", false),
                    ("Provision requests", true),
                    ("Last policy key (Pk)", false),
                    ("Compliance (last Pa)", false),
                    ("DeviceNotProvisioned errors", true),
                ]);
                for d in self
                    .devices
                    .iter()
                    .filter(|d| d.provisions > 0 || d.policy_key.is_some() || d.not_provisioned > 0)
                {
                    t.rows.push(vec![
                        Cell::text(&d.user),
                        Cell::text(&d.device_id),
                        Cell::text(&d.device_type),
                        Cell::int(d.provisions),
                        Cell::opt(d.policy_key.as_ref().map(|p| p.1.clone())),
                        Cell::opt(d.policy_ack.map(|(_, pa)| policy_ack_name(pa))),
                        Cell::int(d.not_provisioned),
                    ]);
                }
                sort_desc(&mut t.rows, 3);
                if !no_log && self.with_policy_ack == 0 {
                    t.notes.push(
                        "No line carries a policy acknowledgement (Pa): compliance is not known from these logs."
                            .into(),
                    );
                }
            }
            _ => return None,
        }
        Some(t)
    }
}

/// `Pa` in words (Export-ActiveSyncLog's names).
pub fn policy_ack_name(pa: u32) -> String {
    match pa {
        1 => "1 Compliant".into(),
        2 => "2 Partially compliant".into(),
        3 => "3 Not compliant".into(),
        n => n.to_string(),
    }
}

/// What an IIS status, substatus and win32 status mean, in short: `substatus.tsv`, else the
/// status's EAS meaning.
fn http_meaning(status: u16, sub: u32, win32: u32) -> String {
    static ROWS: std::sync::OnceLock<Vec<SubstatusRow<'static>>> = std::sync::OnceLock::new();
    // Checked by build.rs: a bad row fails the build, so an empty table here cannot happen.
    let rows = ROWS.get_or_init(|| substatus_tsv::rows(include_str!("substatus.tsv")).unwrap_or_default());
    match substatus_tsv::meaning(rows, status, sub, win32) {
        Some(m) => m.to_string(),
        None => crate::eas::status::http_meaning_for(status, true)
            .map(|m| m.name.to_string())
            .unwrap_or_default(),
    }
}

/// Rows by column `col`, largest first; ties by the other columns in order, so that a report
/// reads the same whichever worker saw which line.
fn sort_desc(rows: &mut [Vec<Cell>], col: usize) {
    rows.sort_by(|a, b| {
        b[col].compare(&a[col]).then_with(|| {
            a.iter()
                .zip(b.iter())
                .map(|(x, y)| x.compare(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iis::line::{Blobs, Classified, read};
    use crate::iis::w3c::{Dates, FieldSet, MAX_FIELDS, Values};

    const FIELDS: &str = " date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";

    #[test]
    fn utc_writes_what_chrono_formats() {
        for ms in [
            0,
            1_714_637_702_123,
            253_402_300_799_999,
            -62_135_596_800_000,
            -1,
            86_399_999,
        ] {
            let want = chrono::DateTime::from_timestamp_millis(ms)
                .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
            assert_eq!(utc(ms), want, "{ms}");
        }
        assert_eq!(utc(i64::MAX), "");
        // Beyond four-digit years (no IIS date): nothing rather than a wrong width.
        assert_eq!(utc(253_402_300_800_000), "");
    }

    #[test]
    fn texts_order_as_their_lower_case_forms() {
        let words = [
            "alice",
            "Bob",
            "bob",
            "ÉMILE",
            "émile",
            "zoé",
            "Zoe",
            "",
            "a",
            "İstanbul",
            "ß",
            "SS",
            "user10",
            "User9",
        ];
        for a in words {
            for b in words {
                assert_eq!(cmp_lowercase(a, b), a.to_lowercase().cmp(&b.to_lowercase()), "{a} {b}");
            }
        }
    }

    /// Feeds `lines` (text, block, line in block) to a fresh [`Reports`].
    fn reports(lines: &[(&str, u32, u32)]) -> Reports {
        let fields = FieldSet::parse(FIELDS);
        let mut r = Reports::new();
        for &(text, block, line_in_block) in lines {
            let mut spaces = [0; MAX_FIELDS];
            let values = Values::split(text, &mut spaces).unwrap();
            match read(&fields, &values, &mut Dates::default(), &mut Blobs::default()) {
                Classified::ActiveSync(l) => r.line(
                    &l,
                    LineAt {
                        file: 0,
                        block,
                        line_in_block,
                    },
                ),
                _ => panic!("not ActiveSync: {text}"),
            }
        }
        r
    }

    fn sync(user: &str, device: &str, agent: &str, status: u16) -> String {
        format!(
            "2026-03-02 08:00:00 10.0.0.5 POST /Microsoft-Server-ActiveSync/default.eas Cmd=Sync&User={user}&DeviceId={device}&DeviceType=iPhone 443 {user} 10.1.1.1 {agent} {status} 0 0 31"
        )
    }

    /// Workers see blocks in any order; what they saw merges to the same tables whichever
    /// merges into which, and a device keeps the spelling of its first line in read order.
    #[test]
    fn a_policy_key_of_the_same_second_is_the_one_read_last_whichever_worker_saw_it() {
        let provision = |pk: &str, backoff: &str| {
            format!(
                "2026-03-02 08:00:00 10.0.0.5 POST /Microsoft-Server-ActiveSync/default.eas Cmd=Provision&User=bob&DeviceId=dev2&DeviceType=iPhone&Log=V161_Pk{pk}_SBkOffD:{backoff}_Pa1_Throttle250_ 443 bob 10.1.1.1 X/1 200 0 0 31"
            )
        };
        let (early, late) = (provision("111", "L1s"), provision("222", "L2s"));
        // The later line (block 5) is read by one worker, the earlier (block 4) by the other.
        let first = [(late.as_str(), 5, 1)];
        let second = [(early.as_str(), 4, 9)];
        for (a, b) in [(&first, &second), (&second, &first)] {
            let mut r = reports(a);
            r.merge(reports(b));
            let text = format!("{:?}", r.table("policy").unwrap().rows);
            assert!(text.contains("222") && !text.contains("111"), "{text}");
            let text = format!("{:?}", r.table("throttling").unwrap().rows);
            assert!(text.contains("L2s") && !text.contains("L1s"), "{text}");
        }
    }

    #[test]
    fn sync_keys_are_gathered_into_one_count_each_and_the_most_sent_are_kept() {
        let mut keys = SyncKeys {
            most: 3,
            ..SyncKeys::default()
        };
        let h = |k: &str| foldhash::fast::FixedState::with_seed(7).hash_one(("5", k));
        // Device 0 sends key A four times, B three times, C, D and E once (the first six are
        // gathered on the way: three keys, none left out); device 1 sends A once.
        for k in ["A", "B", "A", "C", "A", "B", "D", "E", "A", "B"] {
            keys.count(0, h(k), 1, "5", k);
        }
        assert_eq!((keys.gathered, keys.dropped), (3, 0));
        keys.count(1, h("A"), 1, "5", "A");
        let mut other = SyncKeys {
            most: 3,
            ..SyncKeys::default()
        };
        // Another worker's device 0 is this one's device 1.
        other.count(0, h("A"), 2, "5", "A");
        keys.merge(other, |d| d + 1);
        let kept: Vec<(u32, &str, u64)> = keys
            .counts
            .iter()
            .map(|c| (c.device, c.text(&keys.text).1, c.syncs))
            .collect();
        let mut expected = vec![(0, "A", 4), (0, "B", 3), (1, "A", 3)];
        expected.sort_by_key(|&(d, k, _)| (d, h(k)));
        assert_eq!(kept, expected);
        assert!(kept.iter().all(|&(_, k, _)| !k.is_empty()));
        // C, D and E were sent once each.
        assert_eq!(keys.dropped, 3);
        assert_eq!(keys.text.len(), 6, "only the kept keys' text remains");
    }

    #[test]
    fn lines_handed_in_more_than_a_batch_are_all_counted() {
        let fields = FieldSet::parse(FIELDS);
        let texts: Vec<String> = (0..BATCH * 2 + 5)
            .map(|i| {
                sync(
                    &format!("user{}", i % 7),
                    &format!("DEV{}", i % 7),
                    "Apple-iPhone",
                    200 + (i % 3) as u16 * 100,
                )
            })
            .collect();
        let mut spaces = vec![[0; MAX_FIELDS]; texts.len()];
        let mut blobs: Vec<Blobs> = (0..texts.len()).map(|_| Blobs::default()).collect();
        let mut lines = Vec::new();
        for (i, ((text, spaces), blobs)) in texts.iter().zip(&mut spaces).zip(&mut blobs).enumerate() {
            let values = Values::split(text, spaces).unwrap();
            let Classified::ActiveSync(l) = read(&fields, &values, &mut Dates::default(), blobs) else {
                panic!("not ActiveSync: {text}");
            };
            let at = LineAt {
                file: 0,
                block: 0,
                line_in_block: i as u32 + 1,
            };
            lines.push((l, at));
        }
        let mut at_once = Reports::new();
        at_once.lines(&lines);
        let mut one_by_one = Reports::new();
        for (l, at) in &lines {
            one_by_one.line(l, *at);
        }
        assert_eq!(at_once.front_lines, lines.len() as u64);
        assert_eq!(at_once.tables(), one_by_one.tables());
    }

    #[test]
    fn merging_in_either_order_gives_the_same_tables() {
        let (a1, a2) = (
            sync("CONTOSO%5Calice", "ApplDEV1", "Apple-iPhone/1", 200),
            sync("bob", "dev2", "X/1", 500),
        );
        let (b1, b2) = (
            sync("contoso%5Calice", "appldev1", "Apple-iPhone/2", 200),
            sync("bob", "dev2", "X/2", 500),
        );
        let first = [(a1.as_str(), 3, 7), (a2.as_str(), 3, 8)];
        let second = [(b1.as_str(), 1, 2), (b2.as_str(), 1, 3)];
        let mut ab = reports(&first);
        ab.merge(reports(&second));
        let mut ba = reports(&second);
        ba.merge(reports(&first));
        let (ab, ba) = (ab.tables(), ba.tables());
        assert_eq!(ab, ba);
        let users = ab.iter().find(|t| t.name == "users").unwrap();
        let text = format!("{:?}", users.rows);
        assert!(text.contains(r"contoso\\alice") && text.contains("appldev1"), "{text}");
        assert!(!text.contains("CONTOSO"), "the later spelling won: {text}");
    }
}

#[cfg(test)]
mod substatus_tests {
    use super::*;

    #[test]
    fn the_most_specific_substatus_row_wins() {
        assert_eq!(
            http_meaning(401, 2, 2148074254),
            "challenge: no credentials sent yet (the normal first 401)"
        );
        assert_eq!(http_meaning(401, 1, 1326), "logon failed: bad user name or password");
        assert_eq!(http_meaning(401, 1, 1909), "logon failed: the account is locked out");
        assert_eq!(http_meaning(401, 1, 5), "logon failed");
        assert_eq!(http_meaning(401, 7, 0), "access denied");
        assert_eq!(http_meaning(503, 2, 0), "concurrent request limit exceeded");
        // No row: the EAS meaning of the status.
        assert_eq!(
            http_meaning(449, 0, 0),
            crate::eas::status::http_meaning_for(449, true).unwrap().name
        );
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        assert!(
            substatus_tsv::rows("401\t1\t*\tA\tS\n401\t1\t*\tB\tS\n")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(
            substatus_tsv::rows("99\t1\t*\tA\tS\n")
                .unwrap_err()
                .contains("not an HTTP status")
        );
        assert!(
            substatus_tsv::rows("401\tx\t*\tA\tS\n")
                .unwrap_err()
                .contains("substatus")
        );
    }
}
