//! The query parser: characters → words (quotes, parentheses, `|`) → an expression tree. The field
//! names, their aliases and the examples of its error hints are the table of `fields.rs`.
//!
//! Every error names the character position (0-based, in characters) where the problem starts and
//! how many characters it covers, so that the filter bar can underline it.

use std::fmt;

use super::fields::{self, Field, Flag};
use crate::analysis::align::PairKind;
use crate::eas::Command;
use crate::eas::status::Verdict;

/// Why a query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Character (not byte) position of the problem, 0-based.
    pub position: usize,
    /// How many characters the problem covers (at least 1, except at the end of the query).
    pub length: usize,
    /// What is wrong, e.g. "unknown field `fodler:`".
    pub message: String,
    /// What to do about it, e.g. "did you mean `folder:`?".
    pub hint: Option<String>,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.position)?;
        if let Some(h) = &self.hint {
            write!(f, " — {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FilterError {}

fn err(position: usize, length: usize, message: impl Into<String>, hint: Option<String>) -> FilterError {
    FilterError {
        position,
        length,
        message: message.into(),
        hint,
    }
}

// ---------------------------------------------------------------------------------------------
// The tree

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Flag(Flag),
    /// A free-text term: the slot in [`Parsed::texts`].
    Text(usize),
    Field {
        field: Field,
        /// `field:!value`: the session has a value that matches none of the patterns.
        negated: bool,
        patterns: Vec<Pattern>,
    },
}

impl Expr {
    /// Rough evaluation cost, to test cheap terms first in AND and OR.
    pub(crate) fn cost(&self) -> u32 {
        match self {
            Expr::Flag(_) => 1,
            Expr::Field { field, .. } => match field {
                Field::Log | Field::TimeTaken => 1,
                Field::Http | Field::Index | Field::Cmd | Field::Version => 2,
                Field::Status | Field::Folder | Field::SyncKey | Field::User | Field::Device => 3,
                Field::Host | Field::Url | Field::Header | Field::Server | Field::Ip | Field::Error => 5,
            },
            Expr::Text(_) => 20,
            Expr::Not(e) => e.cost(),
            Expr::And(v) | Expr::Or(v) => v.iter().map(Expr::cost).sum(),
        }
    }
}

fn flag(name: &str) -> Option<Flag> {
    fields::lookup_flag(name).map(|f| f.flag)
}

/// One alternative of a field's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pattern {
    /// `none`: the session has no value for the field.
    None,
    /// Lower-cased text (exact or substring, depending on the field).
    Text(String),
    /// Inclusive numeric range (an exact number is `n..=n`, `5xx` is `500..=599`).
    Range(u32, u32),
    /// `status:fail` / `ok` / `unknown`.
    Verdict(Verdict),
    /// Major protocol version (`ver:14` = 14.0, 14.1).
    Major(String),
    /// `log:matched` / `trace_only` / `log_only`.
    Log(PairKind),
    /// `header:Name[*][=value]`: lower-cased name (a prefix when `prefix`), value substring.
    Header {
        name: String,
        prefix: bool,
        value: Option<String>,
    },
}

/// A free-text term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextTerm {
    /// The text as typed (quotes removed).
    pub(crate) text: String,
    /// Lower-cased, for the substring search in URL, headers and notes.
    pub(crate) lower: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) expr: Option<Expr>,
    pub(crate) texts: Vec<TextTerm>,
}

// ---------------------------------------------------------------------------------------------
// Lexer

/// A character of a word: (char, quoted, position in the query).
type Ch = (char, bool, usize);

#[derive(Debug, Clone)]
enum Tok {
    LParen(usize),
    RParen(usize),
    Or(usize),
    And(usize),
    Not(usize),
    Word(Vec<Ch>),
}

impl Tok {
    fn pos(&self) -> usize {
        match self {
            Tok::LParen(p) | Tok::RParen(p) | Tok::Or(p) | Tok::And(p) | Tok::Not(p) => *p,
            Tok::Word(w) => w.first().map_or(0, |c| c.2),
        }
    }
}

fn lex(query: &str) -> Result<Vec<Tok>, FilterError> {
    let chars: Vec<char> = query.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                toks.push(Tok::LParen(i));
                i += 1;
                continue;
            }
            ')' => {
                toks.push(Tok::RParen(i));
                i += 1;
                continue;
            }
            '|' => {
                toks.push(Tok::Or(i));
                i += 1;
                continue;
            }
            _ => {}
        }
        // A word: unquoted characters and quoted stretches until whitespace, `(`, `)` or `|`.
        let start = i;
        let mut word: Vec<Ch> = Vec::new();
        let mut any_quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() || matches!(c, '(' | ')' | '|') {
                break;
            }
            if c == '"' {
                any_quoted = true;
                let open = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(err(
                                open,
                                chars.len() - open,
                                "unterminated quote",
                                Some("close it with `\"`".into()),
                            ));
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                            word.push((chars[i + 1], true, i + 1));
                            i += 2;
                        }
                        Some(&q) => {
                            word.push((q, true, i));
                            i += 1;
                        }
                    }
                }
                continue;
            }
            word.push((c, false, i));
            i += 1;
        }
        if !any_quoted {
            let text: String = word.iter().map(|c| c.0).collect();
            match text.as_str() {
                "OR" => {
                    toks.push(Tok::Or(start));
                    continue;
                }
                "AND" => {
                    toks.push(Tok::And(start));
                    continue;
                }
                "NOT" | "-" | "!" => {
                    toks.push(Tok::Not(start));
                    continue;
                }
                _ => {}
            }
        }
        if word.is_empty() {
            // `""`: an empty quoted string searches for nothing; say so.
            return Err(err(
                start,
                i - start,
                "empty quotes",
                Some("put the text to search between them".into()),
            ));
        }
        toks.push(Tok::Word(word));
    }
    Ok(toks)
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    /// Characters in the query (for errors at the end).
    len: usize,
    texts: Vec<TextTerm>,
}

pub(crate) fn parse(query: &str) -> Result<Parsed, FilterError> {
    let toks = lex(query)?;
    let mut p = Parser {
        toks,
        at: 0,
        len: query.chars().count(),
        texts: Vec::new(),
    };
    let expr = p.and_expr()?;
    if let Some(t) = p.toks.get(p.at) {
        // and_expr stops only at `)` or at the end.
        return Err(err(
            t.pos(),
            1,
            "unexpected `)`",
            Some("it closes no `(`; quote it to search for it".into()),
        ));
    }
    Ok(Parsed { expr, texts: p.texts })
}

fn ordered(mut v: Vec<Expr>) -> Vec<Expr> {
    v.sort_by_key(Expr::cost);
    v
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// Terms side by side (or joined by `AND`), up to `)` or the end. `None` when there are none.
    fn and_expr(&mut self) -> Result<Option<Expr>, FilterError> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::RParen(_)) => break,
                Some(Tok::And(p)) => {
                    let p = *p;
                    self.at += 1;
                    if items.is_empty() || matches!(self.peek(), None | Some(Tok::RParen(_) | Tok::Or(_) | Tok::And(_)))
                    {
                        return Err(err(p, 3, "`AND` needs a term on both sides", None));
                    }
                }
                Some(_) => items.push(self.or_expr()?),
            }
        }
        Ok(match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Expr::And(ordered(items))),
        })
    }

    /// `a OR b | c`: binds tighter than the implicit AND.
    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut alts = vec![self.unary()?];
        while let Some(Tok::Or(p)) = self.peek() {
            let p = *p;
            self.at += 1;
            if matches!(self.peek(), None | Some(Tok::RParen(_) | Tok::Or(_) | Tok::And(_))) {
                return Err(err(p, 1, "`OR` needs a term on both sides", None));
            }
            alts.push(self.unary()?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Expr::Or(ordered(alts))
        })
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Tok::Not(p)) => {
                if matches!(self.peek(), None | Some(Tok::RParen(_) | Tok::Or(_) | Tok::And(_))) {
                    return Err(err(
                        p,
                        1,
                        "negation needs a term after it",
                        Some("e.g. `-cmd:Ping`".into()),
                    ));
                }
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Tok::LParen(p)) => {
                let inner = self.and_expr()?;
                match self.next() {
                    Some(Tok::RParen(_)) => {}
                    _ => return Err(err(p, 1, "unmatched `(`", Some("close it with `)`".into()))),
                }
                inner.ok_or_else(|| err(p, 2, "empty `()`", None))
            }
            Some(Tok::RParen(p)) => Err(err(p, 1, "unexpected `)`", None)),
            Some(Tok::Or(p)) => Err(err(p, 1, "`OR` needs a term on both sides", None)),
            Some(Tok::And(p)) => Err(err(p, 3, "`AND` needs a term on both sides", None)),
            Some(Tok::Word(w)) => self.word(w),
            None => Err(err(self.len, 0, "a term is missing", None)),
        }
    }

    fn text(&mut self, chars: &[Ch]) -> Expr {
        let text: String = chars.iter().map(|c| c.0).collect();
        let lower = text.to_lowercase();
        self.texts.push(TextTerm { text, lower });
        Expr::Text(self.texts.len() - 1)
    }

    fn word(&mut self, w: Vec<Ch>) -> Result<Expr, FilterError> {
        // Leading unquoted `-` / `!` negate the term.
        let mut negate = false;
        let mut rest = &w[..];
        while let Some(&('-' | '!', false, _)) = rest.first() {
            negate = !negate;
            rest = &rest[1..];
        }
        if rest.is_empty() {
            return Err(err(
                w[0].2,
                w.len(),
                "negation needs a term after it",
                Some("e.g. `-cmd:Ping`".into()),
            ));
        }
        let e = self.term(rest)?;
        Ok(if negate { Expr::Not(Box::new(e)) } else { e })
    }

    fn term(&mut self, w: &[Ch]) -> Result<Expr, FilterError> {
        let start = w[0].2;
        let colon = w.iter().position(|c| c.0 == ':' && !c.1);
        let Some(colon) = colon else {
            // A bare word: a flag, or free text.
            if w.iter().all(|c| !c.1) {
                let s: String = w.iter().map(|c| c.0).collect();
                if let Some(f) = flag(&s) {
                    return Ok(Expr::Flag(f));
                }
            }
            return Ok(self.text(w));
        };
        let name_chars = &w[..colon];
        let value = &w[colon + 1..];
        let looks_like_field = !name_chars.is_empty()
            && name_chars
                .iter()
                .all(|c| !c.1 && (c.0.is_ascii_alphabetic() || c.0 == '-' || c.0 == '_'));
        if !looks_like_field {
            // `2:41` (a ServerId), `"a":b`…: free text.
            return Ok(self.text(w));
        }
        let name: String = name_chars.iter().map(|c| c.0.to_ascii_lowercase()).collect();
        let Some(field) = fields::lookup(&name).map(|f| f.field) else {
            if value.first().is_some_and(|c| c.0 == '/') {
                // `https://…`, `urn://…`: a URL typed as free text.
                return Ok(self.text(w));
            }
            let typed: String = name_chars.iter().map(|c| c.0).collect();
            let hint = suggest(&name, fields::names())
                .map(|s| format!("did you mean `{s}:`?"))
                .unwrap_or_else(|| {
                    let all: Vec<&str> = fields::FIELDS.iter().map(|f| f.name).collect();
                    format!("fields are {}; quote the word to search for it as text", all.join(", "))
                });
            return Err(err(start, colon + 1, format!("unknown field `{typed}:`"), Some(hint)));
        };
        let vpos = w[colon].2 + 1;
        if value.is_empty() {
            return Err(err(
                start,
                colon + 1,
                format!("`{name}:` needs a value"),
                Some(fields::example(&name)),
            ));
        }
        match (name.as_str(), field) {
            ("text", _) => {
                let (neg, v) = strip_bang(value);
                if v.is_empty() {
                    return Err(err(vpos, 1, "`text:` needs a value", Some(fields::example("text"))));
                }
                let e = self.text(v);
                Ok(if neg { Expr::Not(Box::new(e)) } else { e })
            }
            ("is", _) => {
                let (neg, v) = strip_bang(value);
                let mut flags = Vec::new();
                for (alt, p) in alternatives(v, vpos)? {
                    match flag(&alt) {
                        Some(f) => flags.push(Expr::Flag(f)),
                        None => {
                            return Err(err(
                                p,
                                alt.chars().count().max(1),
                                format!("unknown flag `{alt}`"),
                                Some(
                                    suggest(&alt.to_ascii_lowercase(), fields::flag_names())
                                        .map(|s| format!("did you mean `{s}`?"))
                                        .unwrap_or_else(fields::flag_list),
                                ),
                            ));
                        }
                    }
                }
                let e = if flags.len() == 1 {
                    flags.remove(0)
                } else {
                    Expr::Or(flags)
                };
                Ok(if neg { Expr::Not(Box::new(e)) } else { e })
            }
            (_, Some(field)) => {
                let (mut negated, v) = strip_bang(value);
                let vpos = if negated { vpos + 1 } else { vpos };
                if v.is_empty() {
                    return Err(err(
                        vpos,
                        0,
                        format!("`{name}:!` needs a value"),
                        Some(fields::example(&name)),
                    ));
                }
                let mut patterns = Vec::new();
                for (alt, p) in field_alternatives(v, vpos)? {
                    patterns.push(pattern(field, &alt, p)?);
                }
                let mut e_not = false;
                if field == Field::Header && negated {
                    // `header:!Name`: no such header (a session always has *some* other header).
                    negated = false;
                    e_not = true;
                }
                let e = Expr::Field {
                    field,
                    negated,
                    patterns,
                };
                Ok(if e_not { Expr::Not(Box::new(e)) } else { e })
            }
            (_, None) => unreachable!("only is: and text: have no Field"),
        }
    }
}

fn strip_bang(v: &[Ch]) -> (bool, &[Ch]) {
    match v.first() {
        Some(('!', false, _)) => (true, &v[1..]),
        _ => (false, v),
    }
}

/// A value split at unquoted commas: (text, whether any of it was quoted, position).
fn split_commas(v: &[Ch], vpos: usize) -> Result<Vec<(Vec<Ch>, usize)>, FilterError> {
    let mut out = Vec::new();
    let mut cur: Vec<Ch> = Vec::new();
    let mut cur_pos = v.first().map_or(vpos, |c| c.2);
    for &c in v {
        if c.0 == ',' && !c.1 {
            if cur.is_empty() {
                return Err(err(
                    c.2,
                    1,
                    "empty value in a list",
                    Some("remove the extra `,`".into()),
                ));
            }
            out.push((std::mem::take(&mut cur), cur_pos));
            cur_pos = c.2 + 1;
        } else {
            cur.push(c);
        }
    }
    if cur.is_empty() {
        return Err(err(
            cur_pos,
            0,
            "empty value in a list",
            Some("remove the extra `,`".into()),
        ));
    }
    out.push((cur, cur_pos));
    Ok(out)
}

fn alternatives(v: &[Ch], vpos: usize) -> Result<Vec<(String, usize)>, FilterError> {
    Ok(split_commas(v, vpos)?
        .into_iter()
        .map(|(chars, p)| (chars.iter().map(|c| c.0).collect(), p))
        .collect())
}

/// Alternatives as text, with `none` (unquoted) turned into a marker the pattern parser knows.
fn field_alternatives(v: &[Ch], vpos: usize) -> Result<Vec<(Alt, usize)>, FilterError> {
    // `header:Name="a, b"`: a value may hold commas, but only quoted.
    Ok(split_commas(v, vpos)?
        .into_iter()
        .map(|(chars, p)| {
            let quoted = chars.iter().any(|c| c.1);
            let text: String = chars.iter().map(|c| c.0).collect();
            let eq = chars.iter().position(|c| c.0 == '=' && !c.1);
            (
                Alt {
                    none: !quoted && text.eq_ignore_ascii_case("none"),
                    text,
                    eq,
                },
                p,
            )
        })
        .collect())
}

struct Alt {
    text: String,
    /// `none`, unquoted.
    none: bool,
    /// Char index of the first unquoted `=` (for `header:`).
    eq: Option<usize>,
}

const HTTP_METHODS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "CONNECT",
    "PATCH",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "RPC_IN_DATA",
    "RPC_OUT_DATA",
];

fn pattern(field: Field, alt: &Alt, pos: usize) -> Result<Pattern, FilterError> {
    let len = alt.text.chars().count().max(1);
    if alt.none && field != Field::Header {
        return Ok(Pattern::None);
    }
    let lower = alt.text.to_lowercase();
    match field {
        Field::Cmd => {
            if Command::from_name(&alt.text).is_none()
                && !HTTP_METHODS.iter().any(|m| m.eq_ignore_ascii_case(&alt.text))
            {
                let names: Vec<&str> = Command::all().map(Command::name).collect();
                if let Some(s) = suggest(&lower, names.iter().copied()) {
                    return Err(err(
                        pos,
                        len,
                        format!("unknown command `{}`", alt.text),
                        Some(format!("did you mean `{s}`?")),
                    ));
                }
            }
            Ok(Pattern::Text(lower))
        }
        Field::Http => parse_number_pattern(&lower, 999, true).ok_or_else(|| {
            err(
                pos,
                len,
                "`http:` needs a number, a class like 5xx, or a range",
                Some(fields::example_of(Field::Http)),
            )
        }),
        Field::Status => match lower.as_str() {
            "fail" | "failure" | "failed" | "error" | "bad" => Ok(Pattern::Verdict(Verdict::Failure)),
            "ok" | "success" | "good" => Ok(Pattern::Verdict(Verdict::Success)),
            "unknown" => Ok(Pattern::Verdict(Verdict::Unknown)),
            "info" | "informational" => Ok(Pattern::Verdict(Verdict::Info)),
            _ => parse_number_pattern(&lower, u32::MAX, false).ok_or_else(|| {
                err(
                    pos,
                    len,
                    "`status:` needs a number, a range, `fail`, `ok`, `info`, `unknown` or `none`",
                    Some(fields::example_of(Field::Status)),
                )
            }),
        },
        Field::Log => match lower.replace('-', "_").as_str() {
            "matched" => Ok(Pattern::Log(PairKind::Matched)),
            "trace_only" | "traceonly" => Ok(Pattern::Log(PairKind::TraceOnly)),
            "log_only" | "logonly" => Ok(Pattern::Log(PairKind::LogOnly)),
            _ => Err(err(
                pos,
                len,
                "`log:` needs `matched`, `trace_only`, `log_only` or `none`",
                Some(fields::example_of(Field::Log)),
            )),
        },
        Field::Index => parse_number_pattern(&lower, u32::MAX, false).ok_or_else(|| {
            err(
                pos,
                len,
                "`index:` needs a number or a range like 10-20",
                Some(fields::example_of(Field::Index)),
            )
        }),
        Field::Version => {
            if !lower.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Err(err(
                    pos,
                    len,
                    "`version:` needs a protocol version like 14.1 or a major version like 16",
                    Some(fields::example_of(Field::Version)),
                ));
            }
            Ok(if lower.contains('.') {
                Pattern::Text(lower)
            } else {
                Pattern::Major(lower)
            })
        }
        Field::Header => {
            let (n, v) = match alt.eq {
                Some(i) => {
                    let chars: Vec<char> = alt.text.chars().collect();
                    let n: String = chars[..i].iter().collect();
                    let v: String = chars[i + 1..].iter().collect();
                    (n, Some(v.to_lowercase()))
                }
                None => (alt.text.clone(), None),
            };
            let mut n = n.trim().to_ascii_lowercase();
            let prefix = n.ends_with('*');
            if prefix {
                n.pop();
            }
            if n.is_empty() {
                return Err(err(
                    pos,
                    len,
                    "`header:` needs a header name",
                    Some(fields::example_of(Field::Header)),
                ));
            }
            Ok(Pattern::Header {
                name: n,
                prefix,
                value: v,
            })
        }
        Field::TimeTaken => {
            // `>60000`, `<100`, `>=`, `<=` read as ranges.
            let range = if let Some(n) = lower.strip_prefix(">=") {
                Some(format!("{n}-"))
            } else if let Some(n) = lower.strip_prefix("<=") {
                Some(format!("-{n}"))
            } else if let Some(n) = lower.strip_prefix('>') {
                n.parse::<u32>().ok().map(|n| format!("{}-", n.saturating_add(1)))
            } else if let Some(n) = lower.strip_prefix('<') {
                n.parse::<u32>().ok().filter(|&n| n > 0).map(|n| format!("-{}", n - 1))
            } else {
                Some(lower.clone())
            };
            range
                .and_then(|r| parse_number_pattern(&r, u32::MAX, false))
                .ok_or_else(|| {
                    err(
                        pos,
                        len,
                        "`time-taken:` needs milliseconds: a number, a range like 1000-5000, or >60000",
                        Some(fields::example_of(Field::TimeTaken)),
                    )
                })
        }
        Field::Folder
        | Field::Device
        | Field::User
        | Field::SyncKey
        | Field::Host
        | Field::Url
        | Field::Server
        | Field::Ip
        | Field::Error => Ok(Pattern::Text(lower)),
    }
}

/// `503`, `5xx` (when `classes`), `400-499`, `10-`, `-20`.
fn parse_number_pattern(s: &str, max: u32, classes: bool) -> Option<Pattern> {
    let num = |t: &str| -> Option<u32> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse::<u32>().ok().filter(|&n| n <= max)
    };
    if classes && s.len() == 3 && s.ends_with("xx") {
        let d = num(&s[..1])?;
        if d == 0 {
            return None;
        }
        return Some(Pattern::Range(d * 100, d * 100 + 99));
    }
    if let Some((a, b)) = s.split_once('-') {
        let lo = if a.is_empty() { 0 } else { num(a)? };
        let hi = if b.is_empty() { max } else { num(b)? };
        if a.is_empty() && b.is_empty() || lo > hi {
            return None;
        }
        return Some(Pattern::Range(lo, hi));
    }
    let n = num(s)?;
    Some(Pattern::Range(n, n))
}

/// The closest candidate within a small edit distance (transpositions count as one edit).
fn suggest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_ascii_lowercase();
    let limit = if typed.chars().count() <= 3 { 1 } else { 2 };
    candidates
        .map(|c| (osa_distance(&typed, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Parsed {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    fn e(q: &str) -> FilterError {
        parse(q).expect_err(q)
    }

    #[test]
    fn empty_and_whitespace_queries_have_no_expression() {
        assert_eq!(p("").expr, None);
        assert_eq!(p("   \t ").expr, None);
    }

    #[test]
    fn fields_flags_and_text() {
        assert_eq!(
            p("cmd:Sync").expr,
            Some(Expr::Field {
                field: Field::Cmd,
                negated: false,
                patterns: vec![Pattern::Text("sync".into())]
            })
        );
        assert_eq!(p("THROTTLED").expr, Some(Expr::Flag(Flag::Throttled)));
        assert_eq!(p("problem").expr, Some(Expr::Flag(Flag::Highlighted)));
        assert_eq!(p("is:tunnel").expr, Some(Expr::Flag(Flag::Tunnel)));
        // Quoted, a flag name is text.
        let q = p("\"throttled\"");
        assert_eq!(q.expr, Some(Expr::Text(0)));
        assert_eq!(q.texts[0].text, "throttled");
        // A ServerId and a URL are text, not fields.
        assert_eq!(p("2:41").expr, Some(Expr::Text(0)));
        assert_eq!(p("https://mail2.example.com").expr, Some(Expr::Text(0)));
    }

    #[test]
    fn numbers_classes_and_ranges() {
        let pat = |q: &str| match p(q).expr {
            Some(Expr::Field { patterns, negated, .. }) => (negated, patterns),
            other => panic!("{other:?}"),
        };
        assert_eq!(pat("http:503"), (false, vec![Pattern::Range(503, 503)]));
        assert_eq!(pat("http:5XX"), (false, vec![Pattern::Range(500, 599)]));
        assert_eq!(pat("http:400-499"), (false, vec![Pattern::Range(400, 499)]));
        assert_eq!(pat("http:!200"), (true, vec![Pattern::Range(200, 200)]));
        assert_eq!(pat("http:none"), (false, vec![Pattern::None]));
        assert_eq!(pat("index:10-"), (false, vec![Pattern::Range(10, u32::MAX)]));
        assert_eq!(pat("index:-3"), (false, vec![Pattern::Range(0, 3)]));
        assert_eq!(
            pat("status:142,143"),
            (false, vec![Pattern::Range(142, 142), Pattern::Range(143, 143)])
        );
        assert_eq!(pat("status:fail"), (false, vec![Pattern::Verdict(Verdict::Failure)]));
        assert_eq!(pat("ver:14"), (false, vec![Pattern::Major("14".into())]));
        assert_eq!(
            pat("header:x-ms-*=\"a, b\""),
            (
                false,
                vec![Pattern::Header {
                    name: "x-ms-".into(),
                    prefix: true,
                    value: Some("a, b".into())
                }]
            )
        );
    }

    #[test]
    fn or_binds_tighter_than_and_and_negation_applies_to_one_term() {
        let q = p("a b OR c -d");
        let Some(Expr::And(items)) = q.expr else { panic!() };
        assert_eq!(items.len(), 3);
        assert!(items.iter().any(|e| matches!(e, Expr::Or(v) if v.len() == 2)));
        assert!(items.iter().any(|e| matches!(e, Expr::Not(_))));
        assert!(matches!(p("-(cmd:Ping | cmd:Sync)").expr, Some(Expr::Not(_))));
        assert!(matches!(p("NOT throttled").expr, Some(Expr::Not(_))));
        assert!(matches!(p("!throttled").expr, Some(Expr::Not(_))));
        assert!(matches!(p("--throttled").expr, Some(Expr::Flag(Flag::Throttled))));
    }

    #[test]
    fn errors_say_where_and_what() {
        let x = e("fodler:5");
        assert_eq!((x.position, x.length), (0, 7));
        assert_eq!(x.to_string(), "unknown field `fodler:` at 0 — did you mean `folder:`?");
        let x = e("cmd:Sync http:abc");
        assert_eq!(x.position, 14);
        assert!(
            x.message
                .starts_with("`http:` needs a number, a class like 5xx, or a range")
        );
        assert_eq!(e("cmd:Synk").hint.as_deref(), Some("did you mean `Sync`?"));
        assert_eq!(e("a \"b c").position, 2);
        assert_eq!(e("(cmd:Sync").position, 0);
        assert_eq!(e("cmd:Sync )").position, 9);
        assert_eq!(e("a OR").position, 2);
        assert_eq!(e("OR a").position, 0);
        assert_eq!(e("()").position, 0);
        assert_eq!(e("status:1,,3").position, 9);
        assert_eq!(e("index:20-10").position, 6);
        assert_eq!(e("cmd:").position, 0);
        assert_eq!(e("is:throtled").hint.as_deref(), Some("did you mean `throttled`?"));
        assert!(e("zzz:1").hint.unwrap().contains("fields are"));
        // Positions count characters, not bytes.
        assert_eq!(e("Grüße fodler:1").position, 6);
    }

    #[test]
    fn osa_counts_a_transposition_as_one_edit() {
        assert_eq!(osa_distance("fodler", "folder"), 1);
        assert_eq!(osa_distance("sync", "sync"), 0);
        assert_eq!(osa_distance("", "abc"), 3);
    }
}
