//! The findings rules as data: `src/analysis/rules.tsv` (id, severities, title, explanation),
//! checked by `build.rs`, which generates [`RuleId`] (one variant per row) and the rule table from
//! it, and the severities a rule can have ([`Severity`]). The findings engine (`findings.rs`) names rules by [`RuleId`], so a misspelt rule
//! fails the build; findings, the JSON and the UI carry the id text ([`RuleId::id`]).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// How much a finding matters. Ordered most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FindingsError {
    #[error("unknown severity {0:?} (expected error, warning or info)")]
    UnknownSeverity(String),
}

impl FromStr for Severity {
    type Err = FindingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(Severity::Error),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            _ => Err(FindingsError::UnknownSeverity(s.to_string())),
        }
    }
}

/// A rule as `rules.tsv` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    /// The severities a finding of this rule can have.
    pub severities: &'static [Severity],
    pub title: &'static str,
    /// Cause and what to do, one paragraph.
    pub explanation: &'static str,
}

/// Every rule, in the order of `rules.tsv`.
pub fn rules() -> &'static [Rule] {
    &RULES
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

impl RuleId {
    /// The rule's row.
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// `rules.tsv` as text and its reader, for the tests that check the data.
#[cfg(test)]
pub(crate) const RULES_TSV: &str = include_str!("rules.tsv");
#[cfg(test)]
pub(crate) use super::rules_tsv::parse_rules;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enum_and_the_table_follow_the_file() {
        let rows = parse_rules(RULES_TSV).expect("rules.tsv");
        assert_eq!(rows.len(), RuleId::ALL.len());
        for (row, id) in rows.iter().zip(RuleId::ALL) {
            let r = id.rule();
            assert_eq!(
                (r.id, id.id(), r.title, r.explanation),
                (row.id, row.id, row.title, row.explanation)
            );
            let severities: Vec<&str> = r.severities.iter().map(|s| s.name()).collect();
            assert_eq!(severities, row.severities);
            assert_eq!(rule(row.id), Some(r));
        }
        assert_eq!(RuleId::HttpError.to_string(), "http-error");
        assert_eq!(
            serde_json::to_string(&RuleId::UserAgentChange).ok().as_deref(),
            Some("\"user-agent-change\"")
        );
    }
}
