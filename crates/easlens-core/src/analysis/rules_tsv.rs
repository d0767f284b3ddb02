//! Reading and checking `src/analysis/rules.tsv`, the findings rules.
//!
//! Plain `std` only: `build.rs` compiles this file (`#[path]`), fails the build on a bad row and
//! generates [`crate::analysis::rules`] (the `RuleId` enum and the rule table) from the rows; the
//! crate compiles it for its tests only.

use crate::tsv::records;

/// The severities a rule may name.
pub const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// One row of `rules.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow<'a> {
    pub line: usize,
    /// Lower case and `-`: `http-error`.
    pub id: &'a str,
    /// Some of [`SEVERITIES`], as written.
    pub severities: Vec<&'a str>,
    /// A heading, no final `.`.
    pub title: &'a str,
    /// One paragraph, ending with `.`.
    pub explanation: &'a str,
}

/// The rows of `rules.tsv`, checked: four non-empty fields, ids of lower-case words joined by
/// `-` and unique, known severities, a title without and an explanation with a final `.`.
pub fn parse_rules(text: &str) -> Result<Vec<RuleRow<'_>>, String> {
    let mut out: Vec<RuleRow<'_>> = Vec::new();
    for record in records::<4>(text) {
        let (n, [id, severities, title, explanation]) = record?;
        let at = |e: String| format!("line {n}: {e}");
        let words = id
            .split('-')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        if !words {
            return Err(at(format!(
                "rule id {id:?}: expected lower-case words or numbers joined by `-`"
            )));
        }
        let severities: Vec<&str> = severities.split('|').collect();
        if let Some(bad) = severities.iter().find(|s| !SEVERITIES.contains(s)) {
            return Err(at(format!(
                "unknown severity {bad:?} (expected error, warning or info)"
            )));
        }
        if title.ends_with('.') {
            return Err(at(format!("the title of {id} ends with `.`")));
        }
        if !explanation.ends_with('.') {
            return Err(at(format!("the explanation of {id} does not end with `.`")));
        }
        if out.iter().any(|r| r.id == id) {
            return Err(at(format!("rule {id} twice")));
        }
        out.push(RuleRow {
            line: n,
            id,
            severities,
            title,
            explanation,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let e = |text: &str| parse_rules(text).unwrap_err();
        assert_eq!(
            e("# c\nHTTP-error\terror\tT\tE.\n"),
            "line 2: rule id \"HTTP-error\": expected lower-case words or numbers joined by `-`"
        );
        assert!(e("a-\terror\tT\tE.\n").contains("lower-case words"));
        assert_eq!(
            e("a\terror|fatal\tT\tE.\n"),
            "line 1: unknown severity \"fatal\" (expected error, warning or info)"
        );
        assert!(e("a\terror\tT.\tE.\n").contains("title"));
        assert!(e("a\terror\tT\tE\n").contains("explanation"));
        assert!(e("a\terror\tT\t\n").contains("empty"));
    }
}
