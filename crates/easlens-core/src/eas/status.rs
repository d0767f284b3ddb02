//! What ActiveSync status values mean, and whether they are a success or a failure.
//!
//! The tables are data, embedded from `src/eas/status/*.tsv`, checked by the build (`build.rs` runs
//! `eas/status_tsv.rs` on them) and parsed once at run time:
//!
//! - `command-status.tsv`: each command's Status table, [MS-ASCMD] section 2.2.3.177.x (Find
//!   2.2.3.177.2, FolderCreate .3, FolderDelete .4, FolderSync .5, FolderUpdate .6, GetItemEstimate
//!   .7, ItemOperations .8, MeetingResponse .9, MoveItems .10, Ping .11, ResolveRecipients .12,
//!   Search .13, SendMail .14, Settings .15, SmartForward/SmartReply .16, Sync .17, ValidateCert
//!   .18) and, for Provision, [MS-ASPROV] 2.2.2.54 and 3.1.5.2;
//! - `common-status.tsv`: the common status codes 101 and up, [MS-ASCMD] section 2.2.2, which any
//!   command can return;
//! - `http-status.tsv`: HTTP status codes as ActiveSync uses them, [MS-ASHTTP] 2.2.2.1.1 and
//!   3.1.5.2, plus Exchange and proxy practice.
//!
//! Some commands have several Status tables, one per parent element (Provision vs Policy,
//! ResolveRecipients vs Response/Availability/Certificates/Picture, ...). A row's qualifier names
//! the parent element(s) its table is for; `*` is the command's top-level table.
//!
//! The table a Status element's path selects also gives its [`Level`]: the command's own Status
//! (and a collection's or a store's) decides whether the command succeeded; a Status at the item
//! level answers one item, operation or result inside the response (a Sync Add, a fetched
//! attachment, a recipient, a GAL contact's photo, a policy) and is reported at that level with
//! its own meaning. Some item values are informational ([`Verdict::Info`]): a GAL search that
//! succeeded carries Status 173 NoPicture ([MS-ASCMD] 2.2.3.177.13) for every contact without a
//! photo, and that is no failure of anything.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use super::status_tsv::{self, RowLevel, RowOk};
use crate::eas::Command;

const COMMAND_STATUS: &str = include_str!("status/command-status.tsv");
const COMMON_STATUS: &str = include_str!("status/common-status.tsv");
const HTTP_STATUS: &str = include_str!("status/http-status.tsv");
const WEB_HTTP_STATUS: &str = include_str!("status/web-http-status.tsv");

/// One status value of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMeaning {
    pub value: u32,
    /// Short name; the spec's own name for the common codes (e.g. `DeviceNotProvisioned`).
    pub name: &'static str,
    /// One sentence: what happened and what the client should do.
    pub meaning: &'static str,
    /// Success, failure or informational (never [`Verdict::Unknown`]).
    pub verdict: Verdict,
    /// Where the row comes from, e.g. `MS-ASCMD 2.2.3.177.17` or `MS-ASPROV 2.2.2.54.1`.
    pub section: &'static str,
    /// The command whose table holds the row; `None` for a common code ([MS-ASCMD] 2.2.2).
    pub command: Option<Command>,
    /// The parent element(s) the row's table is for, as written in the data (`*` = top level).
    pub qualifier: &'static str,
}

/// Whether a status value means the operation succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Success,
    Failure,
    /// Informational: neither success nor failure, and never a failure of the command (only item
    /// level values are, e.g. Status 173 NoPicture under a GAL result's Picture).
    Info,
    /// The value is in no table for this command (and the spec has no "any other value" rule).
    Unknown,
}

/// What a Status element reports on, from its path (the `level` column of `command-status.tsv`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The command, or one of its collections or stores: this Status decides the command's success.
    #[default]
    Command,
    /// One item, operation or result inside the response (a Sync Add/Change/Delete/Fetch, an
    /// ItemOperations Fetch, a ResolveRecipients recipient, a GAL Picture, a Provision Policy).
    Item,
}

/// An HTTP status code as ActiveSync uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMeaning {
    pub code: u16,
    pub name: &'static str,
    /// What it means for an ActiveSync client and what the client should do.
    pub meaning: &'static str,
    pub failure: bool,
    /// `MS-ASHTTP <section>` or `Exchange practice`.
    pub source: &'static str,
}

/// The meaning of `value` in the Status element at `path`.
///
/// `path` lists the element names from the root to the Status element, e.g.
/// `["Sync", "Collections", "Collection", "Status"]`, `["Provision", "Policies", "Policy", "Status"]`
/// or `["Ping", "Status"]` (namespace prefixes such as `gal:` are ignored, the trailing `Status` is
/// optional). The most specific table whose qualifier matches the path wins, then the command's
/// top-level table, then the common codes of [MS-ASCMD] 2.2.2.
pub fn status_meaning(command: Command, path: &[&str], value: u32) -> Option<&'static StatusMeaning> {
    let tables = tables();
    let parents = parents(path);
    tables
        .by_value
        .get(&(command, value))
        .into_iter()
        .flatten()
        .map(|&i| &tables.rows[i])
        .filter_map(|r| r.qualifier.specificity(&parents).map(|s| (s, &r.meaning)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, m)| m)
        .or_else(|| tables.common.iter().find(|m| m.value == value))
}

/// Success, failure, informational or unknown for `value` in the Status element at `path` (see
/// [`status_meaning`]). A value in no table is [`Verdict::Unknown`], except where the spec says
/// that any other value is a failure (Settings, [MS-ASCMD] 2.2.3.177.15).
pub fn verdict(command: Command, path: &[&str], value: u32) -> Verdict {
    if let Some(m) = status_meaning(command, path, value) {
        return m.verdict;
    }
    let parents = parents(path);
    tables()
        .otherwise
        .iter()
        .filter(|r| r.command == command)
        .filter_map(|r| r.qualifier.specificity(&parents).map(|s| (s, r.verdict)))
        .max_by_key(|(s, _)| *s)
        .map_or(Verdict::Unknown, |(_, verdict)| verdict)
}

/// The level of the Status element at `path` of `command`: the level of the most specific table
/// whose qualifier matches the path, whatever the value (a value the item table does not list
/// takes its meaning from the top-level table, but stays an item's Status). [`Level::Command`]
/// when no table matches (a command without tables, such as SendMail).
pub fn level(command: Command, path: &[&str]) -> Level {
    // Matching a path against a command's tables is a tenth of indexing many small sessions, and
    // a capture has few distinct Status paths: each thread remembers the levels it worked out.
    thread_local! {
        static LEVELS: RefCell<LevelCache> = RefCell::new(HashMap::new());
    }
    let mut hasher = std::hash::DefaultHasher::new();
    path.hash(&mut hasher);
    let key = (command, hasher.finish());
    let known = LEVELS.with_borrow(|levels| {
        levels
            .get(&key)
            .filter(|(p, _)| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| **a == **b))
            .map(|(_, level)| *level)
    });
    if let Some(level) = known {
        return level;
    }
    let level = level_uncached(command, path);
    LEVELS.with_borrow_mut(|levels| {
        // Bounded whatever the capture holds: forget everything rather than grow.
        if levels.len() >= 4096 {
            levels.clear();
        }
        levels.insert(key, (path.iter().map(|p| Box::from(*p)).collect(), level));
    });
    level
}

/// Levels by command and a hash of the path, with the path to check the hash against.
type LevelCache = HashMap<(Command, u64), (Box<[Box<str>]>, Level)>;

fn level_uncached(command: Command, path: &[&str]) -> Level {
    let parents = parents(path);
    tables()
        .rows
        .iter()
        .filter(|r| r.command == command)
        .filter_map(|r| r.qualifier.specificity(&parents).map(|s| (s, r.level)))
        .max_by_key(|(s, _)| *s)
        .map_or(Level::Command, |(_, level)| level)
}

impl Verdict {
    fn of(ok: RowOk) -> Verdict {
        match ok {
            RowOk::Yes => Verdict::Success,
            RowOk::No => Verdict::Failure,
            RowOk::Info => Verdict::Info,
        }
    }
}

/// The ActiveSync meaning of an HTTP status code, for the codes ActiveSync traffic commonly shows.
pub fn http_meaning(code: u16) -> Option<&'static HttpMeaning> {
    tables().http.iter().find(|h| h.code == code)
}

/// The meaning of HTTP `code` for a session that is not ActiveSync (Autodiscover, OWA, any other
/// web request): RFC 9110's, without EAS wording.
pub fn web_http_meaning(code: u16) -> Option<&'static HttpMeaning> {
    tables().web.iter().find(|h| h.code == code)
}

/// The meaning of HTTP `code` as the session it answers reads it: ActiveSync's when `eas`.
pub fn http_meaning_for(code: u16, eas: bool) -> Option<&'static HttpMeaning> {
    if eas {
        http_meaning(code)
    } else {
        web_http_meaning(code)
    }
}

/// The parent elements of the Status element, namespace prefixes removed.
fn parents<'a>(path: &[&'a str]) -> Vec<&'a str> {
    let local = |name: &'a str| name.rsplit(':').next().unwrap_or(name);
    let mut parents: Vec<&str> = path.iter().map(|n| local(n)).collect();
    if parents.last().is_some_and(|n| n.eq_ignore_ascii_case("Status")) {
        parents.pop();
    }
    parents
}

/// Which Status elements a table row is for: `*`, or alternatives (`|`) of parent chains (`/`).
#[derive(Debug)]
enum Qualifier {
    TopLevel,
    Parents(Vec<Vec<&'static str>>),
}

impl Qualifier {
    fn parse(text: &'static str) -> Result<Self, String> {
        Ok(match status_tsv::qualifier_chains(text)? {
            None => Qualifier::TopLevel,
            Some(chains) => Qualifier::Parents(chains),
        })
    }

    /// `None` if the qualifier does not match; otherwise how many parent elements it pins down.
    fn specificity(&self, parents: &[&str]) -> Option<usize> {
        match self {
            Qualifier::TopLevel => Some(0),
            Qualifier::Parents(chains) => chains
                .iter()
                .filter(|chain| {
                    chain.len() <= parents.len()
                        && parents[parents.len() - chain.len()..]
                            .iter()
                            .zip(chain.iter())
                            .all(|(p, q)| p.eq_ignore_ascii_case(q))
                })
                .map(Vec::len)
                .max(),
        }
    }
}

#[derive(Debug)]
struct Row {
    command: Command,
    qualifier: Qualifier,
    level: Level,
    meaning: StatusMeaning,
}

/// A "any other value" rule of one table.
#[derive(Debug)]
struct Otherwise {
    command: Command,
    qualifier: Qualifier,
    verdict: Verdict,
}

#[derive(Debug)]
struct Tables {
    rows: Vec<Row>,
    /// Where each (command, value)'s rows are in `rows`: a session's Status values are looked up
    /// for every session, and scanning all rows for each was 4% of indexing time.
    by_value: HashMap<(Command, u32), Box<[usize]>>,
    otherwise: Vec<Otherwise>,
    common: Vec<StatusMeaning>,
    http: Vec<HttpMeaning>,
    /// For the sessions that are not ActiveSync.
    web: Vec<HttpMeaning>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        // The build has checked the files (status_tsv::check); only a command name it cannot know
        // could still be wrong, and the tests parse every row.
        parse_tables().unwrap_or_else(|e| panic!("embedded status data: {e}"))
    })
}

fn parse_tables() -> Result<Tables, String> {
    let (rows, otherwise) = parse_command_rows(COMMAND_STATUS).map_err(|e| format!("command-status.tsv: {e}"))?;
    let common = parse_common(COMMON_STATUS).map_err(|e| format!("common-status.tsv: {e}"))?;
    let http = parse_http(HTTP_STATUS).map_err(|e| format!("http-status.tsv: {e}"))?;
    let web = parse_http(WEB_HTTP_STATUS).map_err(|e| format!("web-http-status.tsv: {e}"))?;
    let mut by_value: HashMap<(Command, u32), Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_value.entry((r.command, r.meaning.value)).or_default().push(i);
    }
    Ok(Tables {
        rows,
        by_value: by_value.into_iter().map(|(k, v)| (k, v.into_boxed_slice())).collect(),
        otherwise,
        common,
        http,
        web,
    })
}

fn parse_command_rows(text: &'static str) -> Result<(Vec<Row>, Vec<Otherwise>), String> {
    let mut rows = Vec::new();
    let mut otherwise = Vec::new();
    for r in status_tsv::command_rows(text)? {
        let at = |e: String| format!("line {}: {e}", r.line);
        let command = Command::from_name(r.command)
            .filter(|c| c.name() == r.command)
            .ok_or_else(|| at(format!("unknown command {:?}", r.command)))?;
        let qualifier = Qualifier::parse(r.qualifier).map_err(at)?;
        let Some(value) = r.value else {
            otherwise.push(Otherwise {
                command,
                qualifier,
                verdict: Verdict::of(r.ok),
            });
            continue;
        };
        let level = match r.level {
            RowLevel::Command => Level::Command,
            RowLevel::Item => Level::Item,
        };
        let meaning = StatusMeaning {
            value,
            name: r.name,
            meaning: r.meaning,
            verdict: Verdict::of(r.ok),
            section: r.section,
            command: Some(command),
            qualifier: r.qualifier,
        };
        rows.push(Row {
            command,
            qualifier,
            level,
            meaning,
        });
    }
    Ok((rows, otherwise))
}

fn parse_common(text: &'static str) -> Result<Vec<StatusMeaning>, String> {
    Ok(status_tsv::common_rows(text)?
        .into_iter()
        .map(|r| StatusMeaning {
            value: r.value,
            name: r.name,
            meaning: r.meaning,
            verdict: Verdict::Failure,
            section: "MS-ASCMD 2.2.2",
            command: None,
            qualifier: "*",
        })
        .collect())
}

fn parse_http(text: &'static str) -> Result<Vec<HttpMeaning>, String> {
    Ok(status_tsv::http_rows(text)?
        .into_iter()
        .map(|r| HttpMeaning {
            code: r.code,
            name: r.name,
            meaning: r.meaning,
            failure: r.failure,
            source: r.source,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn v(command: Command, path: &[&str], value: u32) -> Verdict {
        verdict(command, path, value)
    }

    #[test]
    fn embedded_data_parses_and_is_well_formed() {
        let t = parse_tables().expect("embedded status data");
        let mut seen = HashSet::new();
        for r in &t.rows {
            let m = &r.meaning;
            assert!(!m.name.contains(' '), "{m:?}: name has spaces");
            assert!(m.meaning.ends_with('.'), "{m:?}: meaning is not a sentence");
            assert!(
                m.section.starts_with("MS-ASCMD 2.2.3.177.") || m.section.starts_with("MS-ASPROV "),
                "{m:?}: section"
            );
            for alt in m.qualifier.split('|') {
                assert!(
                    seen.insert((r.command, alt.to_ascii_lowercase(), m.value)),
                    "duplicate row {:?} {alt} {}",
                    r.command,
                    m.value
                );
            }
        }
        // [MS-ASCMD] 2.2.2: 101-156, 160-179, 183, 184; nothing else, no duplicates.
        let common: Vec<u32> = t.common.iter().map(|m| m.value).collect();
        let expected: Vec<u32> = (101..=156).chain(160..=179).chain([183, 184]).collect();
        assert_eq!(common, expected);
        assert!(
            t.common
                .iter()
                .all(|m| m.meaning.ends_with('.') && !m.name.contains(' '))
        );
        let http: Vec<u16> = t.http.iter().map(|h| h.code).collect();
        for code in [
            200, 400, 401, 403, 404, 408, 449, 451, 456, 457, 500, 501, 502, 503, 504, 507,
        ] {
            assert!(http.contains(&code), "HTTP {code} missing");
        }
        assert_eq!(
            http.len(),
            http.iter().collect::<HashSet<_>>().len(),
            "duplicate HTTP code"
        );
        assert!(t.http.iter().all(|h| h.meaning.ends_with('.')));
        // Every command the spec gives a table for has one.
        for c in [
            Command::Sync,
            Command::FolderSync,
            Command::FolderCreate,
            Command::FolderUpdate,
            Command::FolderDelete,
            Command::GetItemEstimate,
            Command::MoveItems,
            Command::MeetingResponse,
            Command::Ping,
            Command::Provision,
            Command::ItemOperations,
            Command::Search,
            Command::Find,
            Command::Settings,
            Command::ResolveRecipients,
            Command::ValidateCert,
        ] {
            assert!(t.rows.iter().any(|r| r.command == c), "{c} has no table");
        }
    }

    #[test]
    fn malformed_data_is_reported_with_its_line() {
        let bad = "# c\nSync\t*\tcommand\t1\tyes\tSuccess\tMS-ASCMD 2.2.3.177.17\n";
        assert!(parse_command_rows(bad).unwrap_err().contains("line 2"));
        let bad = "Sync\t*\tcommand\tone\tyes\tSuccess\tS\tM.\n";
        assert!(parse_command_rows(bad).unwrap_err().contains("bad value"));
        let bad = "Synk\t*\tcommand\t1\tyes\tSuccess\tS\tM.\n";
        assert!(parse_command_rows(bad).unwrap_err().contains("unknown command"));
        let bad = "Sync\t*\tcommand\t1\tmaybe\tSuccess\tS\tM.\n";
        assert!(parse_command_rows(bad).unwrap_err().contains("yes, no or info"));
        let bad = "Sync\ta b\tcommand\t1\tyes\tSuccess\tS\tM.\n";
        assert!(parse_command_rows(bad).unwrap_err().contains("qualifier"));
        assert!(parse_common("101\t\tM.\n").unwrap_err().contains("empty"));
        assert!(parse_http("200\tOK\tno\tS\n").unwrap_err().contains("4 fields"));
    }

    #[test]
    fn sync_one_is_the_only_success() {
        let collection = ["Sync", "Collections", "Collection", "Status"];
        assert_eq!(v(Command::Sync, &collection, 1), Verdict::Success);
        for value in [3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16] {
            assert_eq!(v(Command::Sync, &collection, value), Verdict::Failure, "Sync {value}");
        }
        let add = ["Sync", "Collections", "Collection", "Responses", "Add", "Status"];
        assert_eq!(v(Command::Sync, &add, 6), Verdict::Failure);
        assert_eq!(
            status_meaning(Command::Sync, &["Sync", "Status"], 12).unwrap().name,
            "FolderHierarchyChanged"
        );
        assert_eq!(
            status_meaning(Command::Sync, &collection, 3).unwrap().section,
            "MS-ASCMD 2.2.3.177.17"
        );
        assert_eq!(v(Command::Sync, &collection, 2), Verdict::Unknown);
    }

    #[test]
    fn ping_one_and_two_succeed() {
        let p = ["Ping", "Status"];
        assert_eq!(v(Command::Ping, &p, 1), Verdict::Success);
        assert_eq!(v(Command::Ping, &p, 2), Verdict::Success);
        for value in 3..=8 {
            assert_eq!(v(Command::Ping, &p, value), Verdict::Failure, "Ping {value}");
        }
    }

    #[test]
    fn moveitems_success_is_three() {
        let p = ["MoveItems", "Response", "Status"];
        assert_eq!(v(Command::MoveItems, &p, 3), Verdict::Success);
        for value in [1, 2, 4, 5, 7] {
            assert_eq!(v(Command::MoveItems, &p, value), Verdict::Failure, "MoveItems {value}");
        }
    }

    #[test]
    fn foldersync_and_getitemestimate() {
        let p = ["FolderSync", "Status"];
        assert_eq!(v(Command::FolderSync, &p, 1), Verdict::Success);
        assert_eq!(v(Command::FolderSync, &p, 9), Verdict::Failure);
        assert_eq!(
            status_meaning(Command::FolderSync, &p, 9).unwrap().name,
            "InvalidSyncKey"
        );
        let g = ["GetItemEstimate", "Response", "Status"];
        assert_eq!(v(Command::GetItemEstimate, &g, 1), Verdict::Success);
        let names: Vec<_> = (2..=4)
            .map(|x| status_meaning(Command::GetItemEstimate, &g, x).unwrap().name)
            .collect();
        assert_eq!(names, ["InvalidCollection", "SyncStateNotPrimed", "InvalidSyncKey"]);
        assert!((2..=4).all(|x| v(Command::GetItemEstimate, &g, x) == Verdict::Failure));
    }

    #[test]
    fn provision_top_level_and_policy_tables_differ() {
        let top = ["Provision", "Status"];
        let policy = ["Provision", "Policies", "Policy", "Status"];
        assert_eq!(v(Command::Provision, &top, 1), Verdict::Success);
        assert_eq!(v(Command::Provision, &top, 2), Verdict::Failure);
        assert_eq!(v(Command::Provision, &top, 3), Verdict::Failure);
        assert_eq!(
            status_meaning(Command::Provision, &top, 2).unwrap().name,
            "ProtocolError"
        );
        assert_eq!(v(Command::Provision, &policy, 1), Verdict::Success);
        // "There is no policy for this client" is not an error ([MS-ASPROV] 2.2.2.54.1): it is
        // informational, at the level of the one policy.
        let no_policy = status_meaning(Command::Provision, &policy, 2).unwrap();
        assert_eq!((no_policy.name, no_policy.verdict), ("NoPolicy", Verdict::Info));
        assert_eq!(level(Command::Provision, &policy), Level::Item);
        assert_eq!(level(Command::Provision, &top), Level::Command);
        assert_eq!(no_policy.section, "MS-ASPROV 2.2.2.54.1");
        assert_eq!(
            status_meaning(Command::Provision, &policy, 5).unwrap().name,
            "WrongPolicyKey"
        );
        assert_eq!(v(Command::Provision, &policy, 5), Verdict::Failure);
        assert_eq!(v(Command::Provision, &top, 5), Verdict::Unknown);
        // A value only the top-level table has falls back to it.
        assert_eq!(
            status_meaning(Command::Provision, &policy, 139).unwrap().section,
            "MS-ASPROV 3.1.5.2"
        );
        assert_eq!(
            v(Command::Provision, &["Provision", "RemoteWipe", "Status"], 2),
            Verdict::Failure
        );
    }

    #[test]
    fn common_codes_apply_to_every_command() {
        for c in Command::all() {
            let p = [c.name(), "Status"];
            for value in [142, 143, 144] {
                assert_eq!(v(c, &p, value), Verdict::Failure, "{c} {value}");
            }
            assert_eq!(status_meaning(c, &p, 110).unwrap().name, "ServerError");
            assert_eq!(status_meaning(c, &p, 177).unwrap().name, "MaximumDevicesReached");
        }
        let m = status_meaning(Command::FolderSync, &["FolderSync", "Status"], 142).unwrap();
        assert_eq!(
            (m.name, m.command, m.section),
            ("DeviceNotProvisioned", None, "MS-ASCMD 2.2.2")
        );
        assert_eq!(v(Command::Sync, &["Sync", "Status"], 157), Verdict::Unknown);
        // A command table overrides the common code with the same value.
        let io = status_meaning(Command::ItemOperations, &["ItemOperations", "Move", "Status"], 156).unwrap();
        assert_eq!(io.command, Some(Command::ItemOperations));
    }

    #[test]
    fn one_is_success_for_the_other_commands() {
        for (c, path) in [
            (Command::Settings, &["Settings", "Status"][..]),
            (Command::Settings, &["Settings", "Oof", "Status"]),
            (Command::ResolveRecipients, &["ResolveRecipients", "Status"]),
            (Command::ResolveRecipients, &["ResolveRecipients", "Response", "Status"]),
            (
                Command::ItemOperations,
                &["ItemOperations", "Response", "Fetch", "Status"],
            ),
            (Command::ItemOperations, &["ItemOperations", "Status"]),
            (Command::FolderCreate, &["FolderCreate", "Status"]),
            (Command::FolderUpdate, &["FolderUpdate", "Status"]),
            (Command::FolderDelete, &["FolderDelete", "Status"]),
            (Command::MeetingResponse, &["MeetingResponse", "Result", "Status"]),
            (Command::Search, &["Search", "Response", "Store", "Status"]),
            (Command::Find, &["Find", "Response", "Status"]),
            (Command::ValidateCert, &["ValidateCert", "Certificate", "Status"]),
        ] {
            assert_eq!(v(c, path, 1), Verdict::Success, "{c} {path:?}");
        }
    }

    #[test]
    fn qualifiers_pick_the_most_specific_table() {
        let rr = |parent: &'static str| ["ResolveRecipients", "Response", "Recipient", parent, "Status"];
        assert_eq!(
            status_meaning(Command::ResolveRecipients, &rr("Certificates"), 7)
                .unwrap()
                .name,
            "NoValidCertificate"
        );
        assert_eq!(
            status_meaning(Command::ResolveRecipients, &rr("Availability"), 162)
                .unwrap()
                .qualifier,
            "Availability"
        );
        assert_eq!(
            status_meaning(Command::ResolveRecipients, &rr("Picture"), 173)
                .unwrap()
                .section,
            "MS-ASCMD 2.2.3.177.12"
        );
        assert_eq!(
            status_meaning(Command::ResolveRecipients, &["ResolveRecipients", "Status"], 5)
                .unwrap()
                .name,
            "ProtocolError"
        );
        // Namespace prefixes are ignored and the trailing Status is optional.
        let pic = ["Search", "Response", "Store", "Result", "Properties", "gal:Picture"];
        assert_eq!(status_meaning(Command::Search, &pic, 174).unwrap().qualifier, "Picture");
        assert_eq!(
            status_meaning(Command::Search, &["Search", "Status"], 3)
                .unwrap()
                .qualifier,
            "*"
        );
        // Find 4 exists only under Response.
        assert_eq!(v(Command::Find, &["Find", "Response", "Status"], 4), Verdict::Failure);
        assert_eq!(v(Command::Find, &["Find", "Status"], 4), Verdict::Unknown);
        let pw = ["Settings", "DevicePassword", "Status"];
        assert_eq!(
            status_meaning(Command::Settings, &pw, 7).unwrap().qualifier,
            "DevicePassword"
        );
        assert_eq!(
            status_meaning(Command::Settings, &["Settings", "Oof", "Status"], 6)
                .unwrap()
                .name,
            "ConflictingArguments"
        );
    }

    #[test]
    fn per_result_values_are_reported_at_their_level() {
        // A successful GAL search: Search 1, Store 1, and 173 for a contact without a photo
        // ([MS-ASCMD] 2.2.3.177.13).
        let search = ["Search", "Status"];
        let store = ["Search", "Response", "Store", "Status"];
        let picture = [
            "Search",
            "Response",
            "Store",
            "Result",
            "Properties",
            "gal:Picture",
            "gal:Status",
        ];
        assert_eq!(
            (v(Command::Search, &search, 1), level(Command::Search, &search)),
            (Verdict::Success, Level::Command)
        );
        assert_eq!(
            (v(Command::Search, &store, 1), level(Command::Search, &store)),
            (Verdict::Success, Level::Command)
        );
        for value in [173, 174, 175] {
            assert_eq!(v(Command::Search, &picture, value), Verdict::Info, "{value}");
        }
        assert_eq!(v(Command::Search, &picture, 1), Verdict::Success);
        assert_eq!(level(Command::Search, &picture), Level::Item);
        assert_eq!(
            status_meaning(Command::Search, &picture, 173).unwrap().name,
            "NoPicture"
        );
        // The same in ResolveRecipients ([MS-ASCMD] 2.2.3.177.12), and ambiguous recipients.
        let rr = ["ResolveRecipients", "Response", "Recipient", "Picture", "Status"];
        assert_eq!(v(Command::ResolveRecipients, &rr, 173), Verdict::Info);
        let resp = ["ResolveRecipients", "Response", "Status"];
        assert_eq!(v(Command::ResolveRecipients, &resp, 2), Verdict::Info);
        assert_eq!(v(Command::ResolveRecipients, &resp, 4), Verdict::Failure);
        assert_eq!(level(Command::ResolveRecipients, &resp), Level::Item);
        assert_eq!(
            level(Command::ResolveRecipients, &["ResolveRecipients", "Status"]),
            Level::Command
        );

        // Sync ([MS-ASCMD] 2.2.3.177.17): Sync and Collection decide the command; a Status under
        // Responses/Add, Change, Delete or Fetch answers one operation.
        let collection = ["Sync", "Collections", "Collection", "Status"];
        assert_eq!(level(Command::Sync, &collection), Level::Command);
        assert_eq!(level(Command::Sync, &["Sync", "Status"]), Level::Command);
        for op in ["Add", "Change", "Delete", "Fetch"] {
            let p = ["Sync", "Collections", "Collection", "Responses", op, "Status"];
            assert_eq!(level(Command::Sync, &p), Level::Item, "{op}");
            assert_eq!(v(Command::Sync, &p, 1), Verdict::Success, "{op}");
            assert_eq!(v(Command::Sync, &p, 8), Verdict::Failure, "{op}");
            assert_eq!(
                status_meaning(Command::Sync, &p, 1).unwrap().qualifier,
                "Add|Change|Delete|Fetch"
            );
            // A Global value under an item falls back to the top-level meaning, still an item's.
            assert_eq!(status_meaning(Command::Sync, &p, 5).unwrap().name, "ServerError");
        }
        // ItemOperations ([MS-ASCMD] 2.2.3.177.8): each Fetch is an item.
        let fetch = ["ItemOperations", "Response", "Fetch", "Status"];
        assert_eq!(level(Command::ItemOperations, &fetch), Level::Item);
        assert_eq!(v(Command::ItemOperations, &fetch, 15), Verdict::Failure);
        assert_eq!(
            level(Command::ItemOperations, &["ItemOperations", "Status"]),
            Level::Command
        );
        // Ping ([MS-ASCMD] 2.2.3.177.11) has one Status, the command's; 2 lists folders.
        assert_eq!(level(Command::Ping, &["Ping", "Status"]), Level::Command);
        // No table at all: the command's level.
        assert_eq!(level(Command::SendMail, &["SendMail", "Status"]), Level::Command);
        // Settings properties and ValidateCert certificates are items.
        assert_eq!(level(Command::Settings, &["Settings", "Oof", "Status"]), Level::Item);
        assert_eq!(
            level(Command::ValidateCert, &["ValidateCert", "Certificate", "Status"]),
            Level::Item
        );
    }

    #[test]
    fn settings_treats_any_other_value_as_failure() {
        assert_eq!(status_meaning(Command::Settings, &["Settings", "Status"], 42), None);
        assert_eq!(v(Command::Settings, &["Settings", "Status"], 42), Verdict::Failure);
        assert_eq!(
            v(Command::Settings, &["Settings", "UserInformation", "Status"], 200),
            Verdict::Failure
        );
        // Other commands have no such rule.
        assert_eq!(v(Command::Ping, &["Ping", "Status"], 42), Verdict::Unknown);
        assert_eq!(v(Command::SendMail, &["SendMail", "Status"], 1), Verdict::Unknown);
        assert_eq!(v(Command::SendMail, &["SendMail", "Status"], 120), Verdict::Failure);
    }

    #[test]
    fn http_codes() {
        assert!(!http_meaning(200).unwrap().failure);
        for code in [
            400, 401, 403, 404, 408, 449, 451, 456, 457, 500, 501, 502, 503, 504, 507,
        ] {
            assert!(http_meaning(code).unwrap().failure, "HTTP {code}");
        }
        assert!(http_meaning(503).unwrap().meaning.contains("X-MS-ASThrottle"));
        assert!(http_meaning(408).unwrap().meaning.contains("Fiddler"));
        assert_eq!(http_meaning(451).unwrap().name, "Redirect");
        assert_eq!(http_meaning(418), None);
    }
}
