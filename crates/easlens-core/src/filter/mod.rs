//! The session filter: a small query language over sessions, evaluated in the engine.
//!
//! ```text
//! cmd:Sync http:5xx            Sync requests that got a 5xx
//! status:!1 -cmd:Ping          a response Status other than 1, except Pings
//! throttled | http:503         throttled or 503
//! device:Android "Quarterly planning"
//! ```
//!
//! # Grammar
//!
//! A query is a list of **terms** separated by spaces; a session matches when it matches **all**
//! of them. An empty query matches every session. Field names, flag names and values are
//! case-insensitive.
//!
//! | form | meaning |
//! |---|---|
//! | `a b` (or `a AND b`) | both |
//! | `a OR b`, `a \| b` | either; binds tighter than the space: `cmd:Sync http:401 OR http:403` is `cmd:Sync (http:401 OR http:403)` |
//! | `( … )` | grouping: `-(cmd:Ping OR cmd:Sync)` |
//! | `-term`, `!term`, `NOT term` | the term does not match |
//! | `field:v1,v2` | the session has a value of the field that matches `v1` or `v2` |
//! | `field:!v1,v2` | the session has a value of the field that matches neither (see below) |
//! | `"two words"` | quotes make anything literal: spaces, `-`, `:`, `OR`, `(`; `\"` and `\\` inside |
//!
//! `OR`, `AND` and `NOT` are keywords only in upper case; `or` is a word to search for. In a
//! field's value, commas separate alternatives; quote a comma that is part of the value
//! (`header:Accept="a, b"`).
//!
//! **`!value` is not the same as `-field:value`.** `field:!v` asks for a session that *has* a
//! value other than `v`; `-field:v` asks for a session that has *no* value `v`. For fields a
//! session can have several values of, or none, this differs: on a Sync whose collections answer
//! Status 1 and 3, `status:!1` matches (it has a 3) and `-status:1` does not; on a session without
//! any Status, `status:!1` does not match and `-status:1` does. `cmd:` and `http:` always have
//! exactly one value — `none` when there is no request / no response — so there `http:!200` and
//! `-http:200` are the same and both include aborted sessions. `field:none` matches sessions
//! without a value, `field:!none` sessions with one.
//!
//! ## Fields
//!
//! `field:value` terms name one of the fields of [`fields::FIELDS`] — `cmd:` (`command:`), `http:`,
//! `status:`, `folder:`, … — each with its aliases, the values it takes, what it matches and
//! examples. That table is the one list: the parser looks names up in it and quotes its examples
//! in errors, and the window's filter help lists it.
//!
//! `log:` (`matched`, `trace_only`, `log_only`) needs each session's place against an Exchange
//! mailbox log (`analysis::align`), which the session does not carry: [`filter_aligned`] takes it
//! as one tag per session; [`filter`] and [`Query::matches`] have none (only `log:none` matches).
//!
//! A word like `fodler:5` is an error ("unknown field `fodler:` at 0 — did you mean `folder:`?");
//! a word whose part before `:` is not letters (`2:41`) or whose value starts with `/`
//! (`https://…`) is free text.
//!
//! ## Flags (bare words)
//!
//! The bare words of [`fields::FLAGS`] — `throttled`, `highlighted` (`problem`), `aborted`,
//! `tunnel`, `generated`, `lost`, `eas` — each with what it matches. To search for one of these
//! words as text, quote it: `"throttled"`.
//!
//! ## Free text
//!
//! Any other term is free text, matched case-insensitively.
//!
//! * **Without a text index** (the first seconds after opening a capture): the term is searched as
//!   an exact substring of the URL, the method, the status line's reason, header names and
//!   values, the session's comment and notes. Bodies are not searched.
//! * **With a [`TextIndex`]** (built once in the background by [`TextIndex::build`]; the UI filters
//!   again when it is ready): the term is searched in the words of all of that *and* of the decoded
//!   request and response bodies — WBXML as the XML view shows it (element names, namespaces and
//!   text), MIME and other text bodies. The search is by words: `sync` finds `FolderSync`,
//!   `"quarterly planning"` finds sessions with both words, `jdoe@contoso.com` sessions with the
//!   words `…jdoe`, `contoso` and `com…`; punctuation is not compared (see [`text`]). A term with no
//!   letter or digit (`"<>"`) is still searched in the metadata only.
//!
//! # Evaluation
//!
//! [`parse`] once per query change; [`filter`] gives the matching positions (indices into
//! `Capture::sessions`), in order, on all cores for large captures. Evaluation is in two passes:
//! free-text terms are first resolved against the text index, once per query (a scan of its
//! vocabulary — all distinct words — and a union of the matching words' sessions into a bitset);
//! then each session is tested from its in-memory summary (no body is read), a free-text term
//! costing one bit test. Within `AND` and `OR`, cheap terms are tested first.
//!
//! [`index_query`] writes the query that selects given sessions by number (`index:3,5-7`).

mod eval;
pub mod fields;
mod parse;
pub mod text;

use std::sync::{Arc, Mutex};

use rayon::prelude::*;

pub use parse::FilterError;
pub use text::{TextIndex, TextIndexStats};

use crate::analysis::align::PairKind;
use crate::capture::{Capture, Session};
use parse::{Expr, TextTerm};
use text::Bitset;

/// Per free-text term, the sessions the text index says contain it (`None`: no word to look up).
type Resolved = Arc<Vec<Option<Bitset>>>;

/// Captures smaller than this are filtered on the calling thread.
const PARALLEL_FROM: usize = 4096;

/// A parsed query. Parse it with [`parse`] (or `str::parse`).
pub struct Query {
    source: String,
    expr: Option<Expr>,
    texts: Vec<TextTerm>,
    /// Free-text terms resolved against the last text index used (by its id).
    resolved: Mutex<Option<(u64, Resolved)>>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("source", &self.source)
            .field("expr", &self.expr)
            .finish()
    }
}

impl Clone for Query {
    fn clone(&self) -> Self {
        Query {
            source: self.source.clone(),
            expr: self.expr.clone(),
            texts: self.texts.clone(),
            resolved: Mutex::new(None),
        }
    }
}

impl PartialEq for Query {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.texts == other.texts
    }
}

impl std::str::FromStr for Query {
    type Err = FilterError;
    fn from_str(s: &str) -> Result<Query, FilterError> {
        parse(s)
    }
}

/// Parses a query (grammar in the module documentation). An empty query matches everything.
pub fn parse(query: &str) -> Result<Query, FilterError> {
    let parsed = parse::parse(query)?;
    Ok(Query {
        source: query.to_string(),
        expr: parsed.expr,
        texts: parsed.texts,
        resolved: Mutex::new(None),
    })
}

impl Query {
    /// The query as typed.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True for the empty query (it matches every session).
    pub fn is_empty(&self) -> bool {
        self.expr.is_none()
    }

    /// The free-text terms, as typed (for highlighting them in the body view).
    pub fn free_text(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(|t| t.text.as_str())
    }

    /// True when the query has free text, whose results change once a [`TextIndex`] is available.
    pub fn uses_text(&self) -> bool {
        !self.texts.is_empty()
    }

    /// Whether `session` matches. `text`: the index built from the capture `session` belongs to
    /// (the session is found in it by `Session::index`); without it (or when the session is not in
    /// it), free text only searches the URL, headers and notes. Free-text terms are resolved against
    /// the index on the first call and remembered for that index; [`filter`] is the faster way to
    /// test a whole capture.
    pub fn matches(&self, session: &Session, text: Option<&TextIndex>) -> bool {
        let Some(expr) = &self.expr else { return true };
        let resolved = text.filter(|_| self.uses_text()).map(|t| (self.resolve(t), t));
        let index = resolved
            .as_ref()
            .and_then(|(sets, t)| t.position_of(session).map(|p| (&sets[..], p)));
        eval::eval(
            expr,
            session,
            &eval::Ctx {
                texts: &self.texts,
                index,
                log: None,
            },
        )
    }

    /// The free-text terms resolved against `index`, cached for the index last used.
    fn resolve(&self, index: &TextIndex) -> Resolved {
        if let Ok(guard) = self.resolved.lock()
            && let Some((id, sets)) = guard.as_ref()
            && *id == index.id
        {
            return sets.clone();
        }
        let sets: Resolved = Arc::new(self.texts.iter().map(|t| index.resolve(&t.text)).collect());
        if let Ok(mut guard) = self.resolved.lock() {
            *guard = Some((index.id, sets.clone()));
        }
        sets
    }
}

/// The query that selects exactly the sessions the list numbers so (`Session::index`, sorted):
/// `index:3,5-7,9`.
pub fn index_query(sessions: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sessions.len() {
        let start = sessions[i];
        let mut end = start;
        while i + 1 < sessions.len() && sessions[i + 1] == end + 1 {
            i += 1;
            end = sessions[i];
        }
        parts.push(if end > start {
            format!("{start}-{end}")
        } else {
            start.to_string()
        });
        i += 1;
    }
    format!("index:{}", parts.join(","))
}

/// Positions (indices into `capture.sessions`) of the sessions `query` matches, in order.
/// `text` must have been built from `capture`; an index of another size is ignored. `log:` terms
/// match nothing but `log:none` (no mailbox log: see [`filter_aligned`]).
pub fn filter(capture: &Capture, query: &Query, text: Option<&TextIndex>) -> Vec<u32> {
    filter_aligned(capture, query, text, None)
}

/// [`filter`] with each session's place against a mailbox log (`log:`): `log[i]` is session `i`'s
/// [`PairKind`] (`None`: not aligned, as a CONNECT tunnel). A slice of another length than the
/// sessions is ignored. The sessions may be the log's own (its entries, `log:log_only`).
pub fn filter_aligned(
    capture: &Capture,
    query: &Query,
    text: Option<&TextIndex>,
    log: Option<&[Option<PairKind>]>,
) -> Vec<u32> {
    let sessions = &capture.sessions;
    let Some(expr) = &query.expr else {
        return (0..sessions.len() as u32).collect();
    };
    let text = text.filter(|t| t.sessions() == sessions.len() && query.uses_text());
    let log = log.filter(|l| l.len() == sessions.len());
    let sets = text.map(|t| query.resolve(t));
    let test = |i: usize| {
        eval::eval(
            expr,
            &sessions[i],
            &eval::Ctx {
                texts: &query.texts,
                index: sets.as_ref().map(|s| (&s[..], i)),
                log: log.and_then(|l| l[i]),
            },
        )
    };
    if sessions.len() < PARALLEL_FROM {
        (0..sessions.len()).filter(|&i| test(i)).map(|i| i as u32).collect()
    } else {
        (0..sessions.len())
            .into_par_iter()
            .with_min_len(1024)
            .filter(|&i| test(i))
            .map(|i| i as u32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_terms_parse_in_both_spellings_and_reject_other_words() {
        for (q, kind) in [
            ("log:matched", PairKind::Matched),
            ("log:trace_only", PairKind::TraceOnly),
            ("log:trace-only", PairKind::TraceOnly),
            ("log:Log-Only", PairKind::LogOnly),
            ("log:logonly", PairKind::LogOnly),
        ] {
            let parsed = parse(q).unwrap();
            match parsed.expr {
                Some(parse::Expr::Field { patterns, .. }) => assert_eq!(patterns, [parse::Pattern::Log(kind)], "{q}"),
                other => panic!("{q}: {other:?}"),
            }
        }
        let e = parse("log:sometimes").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`log:` needs"), "{text}");
        assert!(parse("log:none").is_ok());
        assert!(parse("log:!matched").is_ok());
    }

    #[test]
    fn log_terms_match_the_sessions_tags() {
        let sessions = (1..=4).map(Session::new).collect();
        let capture = Capture::new(
            "t.saz".into(),
            crate::capture::Format::Saz,
            sessions,
            Vec::new(),
            Box::new(crate::readers::model::MemoryStore),
        );
        let tags = [
            Some(PairKind::Matched),
            Some(PairKind::TraceOnly),
            None,
            Some(PairKind::LogOnly),
        ];
        let rows = |q: &str| filter_aligned(&capture, &parse(q).unwrap(), None, Some(&tags));
        assert_eq!(rows("log:matched"), [0]);
        assert_eq!(rows("log:trace-only"), [1]);
        assert_eq!(rows("log:log_only"), [3]);
        assert_eq!(rows("log:matched,log_only"), [0, 3]);
        assert_eq!(rows("log:!matched"), [1, 3]);
        assert_eq!(rows("-log:matched"), [1, 2, 3]);
        assert_eq!(rows("log:none"), [2]);
        assert_eq!(rows("log:matched | index:3"), [0, 2]);
        // Without tags (no log attached): only `log:none` matches; tags of another length are ignored.
        assert!(filter(&capture, &parse("log:matched").unwrap(), None).is_empty());
        assert_eq!(filter(&capture, &parse("log:none").unwrap(), None), [0, 1, 2, 3]);
        assert!(filter_aligned(&capture, &parse("log:matched").unwrap(), None, Some(&tags[..2])).is_empty());
        // `Query::matches` sees no log either.
        assert!(!parse("log:matched").unwrap().matches(&capture.sessions[0], None));
    }

    #[test]
    fn consecutive_sessions_become_ranges() {
        assert_eq!(index_query(&[3, 5, 6, 7, 9]), "index:3,5-7,9");
        assert_eq!(index_query(&[14]), "index:14");
    }
}
