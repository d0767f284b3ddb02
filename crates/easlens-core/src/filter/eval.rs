//! Evaluating a parsed query against one session: metadata from the session itself, free text
//! from the URL, headers and notes, and (when resolved) from the text index's bitsets.

use super::fields::{Field, Flag};
use super::parse::{Expr, Pattern, TextTerm};
use super::text::Bitset;
use crate::analysis::align::PairKind;
use crate::capture::{BodyKept, Session};

/// What evaluation needs besides the session.
pub(crate) struct Ctx<'a> {
    pub(crate) texts: &'a [TextTerm],
    /// Per free-text term, the sessions whose indexed text (bodies and metadata) contains it
    /// (`None`: the term has no word to look up), and this session's position in the index.
    pub(crate) index: Option<(&'a [Option<Bitset>], usize)>,
    /// Where the session stands against an attached mailbox log (`None`: no log, or not aligned).
    pub(crate) log: Option<PairKind>,
}

pub(crate) fn eval(e: &Expr, s: &Session, ctx: &Ctx<'_>) -> bool {
    match e {
        Expr::And(v) => v.iter().all(|e| eval(e, s, ctx)),
        Expr::Or(v) => v.iter().any(|e| eval(e, s, ctx)),
        Expr::Not(e) => !eval(e, s, ctx),
        Expr::Flag(f) => flag(*f, s),
        // With the index, words of bodies and metadata; without, metadata as exact substrings.
        Expr::Text(slot) => match ctx
            .index
            .and_then(|(sets, pos)| sets[*slot].as_ref().map(|b| b.get(pos)))
        {
            Some(hit) => hit,
            None => metadata_contains(s, &ctx.texts[*slot].lower),
        },
        Expr::Field {
            field,
            negated,
            patterns,
        } => field_matches(*field, *negated, patterns, s, ctx.log),
    }
}

fn flag(f: Flag, s: &Session) -> bool {
    match f {
        Flag::Throttled => s.eas.as_ref().is_some_and(|e| e.throttled()),
        Flag::Highlighted => match &s.eas {
            Some(e) => !e.highlights.is_empty(),
            // As the session list shows non-EAS sessions: highlighted for a non-2xx status only.
            None => s.http_status().is_some_and(|c| !(200..300).contains(&c)) && !s.flags.tunnel,
        },
        Flag::Aborted => s.flags.aborted,
        Flag::Tunnel => s.flags.tunnel,
        Flag::Generated => s.flags.generated,
        Flag::Lost => {
            s.request.as_ref().is_some_and(|r| r.body.kept != BodyKept::Present)
                || s.response.as_ref().is_some_and(|r| r.body.kept != BodyKept::Present)
        }
        Flag::Eas => s.eas.is_some(),
    }
}

/// `field:p1,p2`: some value matches some pattern (`none` matches when there is no value).
/// `field:!p1,p2`: some value matches no pattern (never when there is no value).
fn any_value<T>(
    values: impl Iterator<Item = T>,
    negated: bool,
    patterns: &[Pattern],
    m: impl Fn(&Pattern, &T) -> bool,
) -> bool {
    let mut seen = false;
    for v in values {
        seen = true;
        if patterns.iter().any(|p| m(p, &v)) != negated {
            return true;
        }
    }
    !seen && !negated && patterns.iter().any(|p| matches!(p, Pattern::None))
}

fn in_range(p: &Pattern, v: u32) -> bool {
    matches!(p, Pattern::Range(lo, hi) if (*lo..=*hi).contains(&v))
}

fn text_eq(p: &Pattern, v: &str) -> bool {
    matches!(p, Pattern::Text(t) if t.eq_ignore_ascii_case(v) || (!t.is_ascii() && *t == v.to_lowercase()))
}

fn text_in(p: &Pattern, v: &str) -> bool {
    matches!(p, Pattern::Text(t) if contains_ci(v, t))
}

fn field_matches(field: Field, negated: bool, patterns: &[Pattern], s: &Session, log: Option<PairKind>) -> bool {
    let eas = s.eas.as_ref();
    match field {
        // Always one value: the EAS command, else the method; `none` without a request.
        Field::Cmd => {
            let cmd = eas
                .and_then(|e| e.command.map(|c| c.name()).or(e.command_raw.as_deref()))
                .or(s.request.as_ref().map(|r| r.head.method.as_str()));
            any_value(std::iter::once(cmd), negated, patterns, |p, v| match v {
                Some(v) => text_eq(p, v),
                None => matches!(p, Pattern::None),
            })
        }
        // Always one value: the response status; `none` without a response.
        Field::Http => any_value(std::iter::once(s.http_status()), negated, patterns, |p, v| match v {
            Some(c) => in_range(p, u32::from(*c)),
            None => matches!(p, Pattern::None),
        }),
        Field::Index => any_value(std::iter::once(s.index), negated, patterns, |p, v| in_range(p, *v)),
        // One value at most: the session's place in the alignment; `none` without one.
        Field::Log => any_value(
            log.into_iter(),
            negated,
            patterns,
            |p, k| matches!(p, Pattern::Log(q) if q == k),
        ),
        Field::Status => {
            let values = eas
                .into_iter()
                .flat_map(|e| e.statuses.iter())
                .filter(|st| st.side == crate::http::Side::Response);
            any_value(values, negated, patterns, |p, st| match p {
                Pattern::Verdict(v) => st.verdict == *v,
                _ => st.value.is_some_and(|v| in_range(p, v)),
            })
        }
        Field::Folder => {
            let values = eas.into_iter().flat_map(|e| e.collection_ids.iter());
            any_value(values, negated, patterns, |p, v| text_eq(p, v))
        }
        Field::SyncKey => {
            let values = eas.into_iter().flat_map(|e| e.sync_keys.iter());
            any_value(values, negated, patterns, |p, k| text_eq(p, &k.value))
        }
        Field::User => {
            let values = eas.and_then(|e| e.user.as_deref()).into_iter();
            any_value(values, negated, patterns, |p, v| text_in(p, v))
        }
        // One value: DeviceId and DeviceType together.
        Field::Device => {
            let values = eas
                .filter(|e| e.device_id.is_some() || e.device_type.is_some())
                .map(|e| {
                    (
                        e.device_id.as_deref().unwrap_or(""),
                        e.device_type.as_deref().unwrap_or(""),
                    )
                })
                .into_iter();
            any_value(values, negated, patterns, |p, (id, ty)| {
                text_in(p, id) || text_in(p, ty)
            })
        }
        Field::Version => {
            let values = eas.and_then(|e| e.protocol_version.as_deref()).into_iter();
            any_value(values, negated, patterns, |p, v| match p {
                Pattern::Major(m) => v.split('.').next() == Some(m.as_str()),
                _ => text_eq(p, v),
            })
        }
        Field::Url => {
            let url = s.request.as_ref().map(|r| r.url());
            let values = url.as_deref().into_iter();
            any_value(values, negated, patterns, |p, v| text_in(p, v))
        }
        Field::Host => {
            let url = s.request.as_ref().map(|r| r.url());
            let values = url.as_deref().map(host_of).into_iter();
            any_value(values, negated, patterns, |p, v| text_in(p, v))
        }
        Field::Server => {
            let iis = s.iis.as_deref();
            let log = iis.and_then(|f| f.log.as_ref());
            let values = iis
                .map(|f| f.server.as_ref())
                .into_iter()
                .chain(log.and_then(|l| l.mailbox_server.as_deref()))
                .chain(log.and_then(|l| l.front_end.as_deref()))
                .chain(log.and_then(|l| l.proxied_from.as_deref()))
                .chain(s.server_ip.as_deref());
            any_value(values, negated, patterns, |p, v| text_in(p, v))
        }
        Field::Ip => {
            let values = s
                .client_ip
                .as_deref()
                .into_iter()
                .chain(s.iis.as_deref().and_then(|f| f.forwarded_for.as_deref()));
            any_value(values, negated, patterns, |p, v| text_in(p, v))
        }
        Field::Error => {
            let errors = s
                .iis
                .as_deref()
                .and_then(|f| f.log.as_ref())
                .and_then(|l| l.error.as_deref())
                .into_iter()
                .flat_map(|e| e.split(';'))
                .filter(|t| !t.is_empty());
            any_value(errors, negated, patterns, |p, v| text_in(p, v))
        }
        Field::TimeTaken => {
            let ms = match s.iis.as_deref().and_then(|f| f.time_taken_ms) {
                Some(t) => Some(t.min(u64::from(u32::MAX)) as u32),
                None => s.timers.duration_ms().map(|d| d.clamp(0.0, f64::from(u32::MAX)) as u32),
            };
            any_value(ms.into_iter(), negated, patterns, |p, v| in_range(p, *v))
        }
        // `header:!Name` was turned into `-header:Name` by the parser.
        Field::Header => {
            let values = s
                .request
                .iter()
                .flat_map(|r| r.head.headers.iter())
                .chain(s.response.iter().flat_map(|r| r.head.headers.iter()));
            any_value(values, negated, patterns, |p, (n, v)| match p {
                Pattern::Header { name, prefix, value } => {
                    let name_ok = if *prefix {
                        n.len() >= name.len() && n.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                    } else {
                        n.eq_ignore_ascii_case(name)
                    };
                    name_ok && value.as_ref().is_none_or(|want| contains_ci(v, want))
                }
                _ => false,
            })
        }
    }
}

/// The authority of an absolute URL, without user info (`mail.example.com:443`).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// Free text without the index: the URL, method, status line, header names and values, comments
/// and notes.
pub(crate) fn metadata_contains(s: &Session, needle: &str) -> bool {
    if let Some(r) = &s.request
        && (contains_ci(&r.url(), needle)
            || contains_ci(&r.head.method, needle)
            || r.head
                .headers
                .iter()
                .any(|(n, v)| contains_ci(n, needle) || contains_ci(v, needle)))
    {
        return true;
    }
    if let Some(r) = &s.response
        && (contains_ci(&r.head.reason, needle)
            || r.head
                .headers
                .iter()
                .any(|(n, v)| contains_ci(n, needle) || contains_ci(v, needle)))
    {
        return true;
    }
    s.remarks().any(|n| contains_ci(n, needle)) || s.comment.as_deref().is_some_and(|c| contains_ci(c, needle))
}

/// Case-insensitive substring search; `needle` is already lower-cased. No allocation when the
/// needle is ASCII.
pub(crate) fn contains_ci(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if !needle.is_ascii() {
        // ASCII lower-cases to ASCII: an ASCII haystack cannot hold a non-ASCII needle.
        return !haystack.is_ascii() && haystack.to_lowercase().contains(needle);
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return false;
    }
    let first = n[0];
    let upper = first.to_ascii_uppercase();
    let last_start = h.len() - n.len();
    let mut from = 0;
    while from <= last_start {
        let Some(i) = memchr::memchr2(first, upper, &h[from..=last_start]) else {
            return false;
        };
        let at = from + i;
        if h[at + 1..at + n.len()].eq_ignore_ascii_case(&n[1..]) {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ci("X-MS-ASThrottle", "asthrottle"));
        assert!(contains_ci("abc", ""));
        assert!(!contains_ci("ab", "abc"));
        assert!(contains_ci("aaAb", "ab"));
        assert!(contains_ci("Viele GRÜSSE", "grüsse"));
        assert!(!contains_ci("mail.example.com", "mail2"));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://mail.example.com/Microsoft-Server-ActiveSync?x"),
            "mail.example.com"
        );
        assert_eq!(host_of("http://u:p@h:8080"), "h:8080");
        assert_eq!(host_of("mail.example.com:443"), "mail.example.com:443");
    }
}
