//! Reading and checking `src/eas/headers.tsv`, the HTTP headers that matter to ActiveSync.
//!
//! Plain `std` only: `build.rs` compiles this file (`#[path]`), fails the build on a bad row and
//! generates the table of [`crate::eas::headers`] from the rows; the crate compiles it for its
//! tests only.

use crate::tsv::{optional, records, yes_no};

/// Which message carries a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    Request,
    Response,
    Both,
}

/// One row of `headers.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRow<'a> {
    pub line: usize,
    pub name: &'a str,
    pub side: Carried,
    /// What the inspector says the header means; `None`: not in its ActiveSync list.
    pub meaning: Option<&'a str>,
    /// Place in Copy as text (one numbering for both sides); `None`: not quoted.
    pub quote: Option<u32>,
    /// The inspector shows the name in the failure colour.
    pub strong: bool,
    /// The field of the session's EAS summary the header's value fills: `protocol_version`,
    /// `headers.throttle`, …
    pub field: Option<&'a str>,
}

/// The rows of `headers.tsv`, checked: header-name characters, no name twice, known sides, quote
/// places unique, strong only for explained headers, a summary field only for one side.
pub fn parse_headers(text: &str) -> Result<Vec<HeaderRow<'_>>, String> {
    let mut rows: Vec<HeaderRow<'_>> = Vec::new();
    for record in records::<6>(text) {
        let (n, [name, side, meaning, quote, strong, field]) = record?;
        let at = |e: String| format!("line {n}: {e}");
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(at(format!("{name:?} is not a header name")));
        }
        if let Some(first) = rows.iter().find(|r| r.name.eq_ignore_ascii_case(name)) {
            return Err(at(format!("{name} is already on line {}", first.line)));
        }
        let side = match side {
            "request" => Carried::Request,
            "response" => Carried::Response,
            "both" => Carried::Both,
            _ => return Err(at(format!("side {side:?}: expected request, response or both"))),
        };
        let meaning = optional(meaning);
        let quote = match optional(quote) {
            None => None,
            Some(q) => match q.parse::<u32>() {
                Ok(q) if q > 0 => Some(q),
                _ => return Err(at(format!("quote {q:?}: expected a place (1, 2, …) or -"))),
            },
        };
        if let Some(q) = quote
            && let Some(other) = rows.iter().find(|r| r.quote == Some(q))
        {
            return Err(at(format!("quote place {q} is already {}'s", other.name)));
        }
        let strong = yes_no(strong).map_err(at)?;
        if strong && meaning.is_none() {
            return Err(at("strong, but the inspector does not list it (no meaning)".into()));
        }
        let field = optional(field);
        if let Some(f) = field {
            let path = f
                .split('.')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            if !path {
                return Err(at(format!("field {f:?}: expected a field name like headers.throttle")));
            }
            if side == Carried::Both {
                return Err(at(format!(
                    "field {f}: a header that fills a field must be on one side"
                )));
            }
            if let Some(other) = rows.iter().find(|r| r.field == Some(f)) {
                return Err(at(format!("field {f} is already filled by {}", other.name)));
            }
        }
        rows.push(HeaderRow {
            line: n,
            name,
            side,
            meaning,
            quote,
            strong,
            field,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses() {
        let rows = parse_headers(include_str!("headers.tsv")).expect("headers.tsv");
        assert!(rows.iter().any(|r| r.name == "X-MS-ASThrottle" && r.strong));
    }

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let e = |text: &str| parse_headers(text).unwrap_err();
        let ok = "X-A\tresponse\tmeaning\t1\tyes\theaders.a\n";
        assert_eq!(parse_headers(ok).map(|r| r.len()), Ok(1));
        assert_eq!(
            e("X A\tresponse\t-\t-\tno\t-\n"),
            "line 1: \"X A\" is not a header name"
        );
        assert!(e(&format!("{ok}x-a\trequest\t-\t-\tno\t-\n")).contains("already on line 1"));
        assert!(e("X-A\tserver\t-\t-\tno\t-\n").contains("expected request, response or both"));
        assert!(e("X-A\tboth\t-\t0\tno\t-\n").contains("quote \"0\""));
        assert!(e(&format!("{ok}X-B\tboth\t-\t1\tno\t-\n")).contains("already X-A's"));
        assert!(e("X-A\tboth\t-\t-\tyes\t-\n").contains("strong"));
        assert!(e("X-A\tboth\tm\t-\tno\theaders.a\n").contains("one side"));
        assert!(e("X-A\trequest\tm\t-\tno\tHeaders.A\n").contains("field \"Headers.A\""));
        assert!(e("X-A\trequest\tm\t-\tno\n").contains("5 fields"));
    }
}
