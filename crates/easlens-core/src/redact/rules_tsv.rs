//! Reading and checking `src/redact/rules.tsv`, the redaction rules.
//!
//! Plain `std` only: `build.rs` compiles this file (`#[path]`) and fails the build on a bad row or
//! on an element of a code page without a row; [`crate::redact::rules`] parses the file with it at
//! run time.

use crate::tsv::records;

/// What a row applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Element,
    Header,
    Query,
}

/// What personal data becomes (the comment at the top of `rules.tsv` says what each does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Keep,
    People,
    User,
    Subject,
    Body,
    Text,
    Place,
    Phone,
    Postal,
    Digits,
    Imei,
    Attachment,
    Mime,
    Blob,
    Secret,
    Device,
    Ip,
    Credential,
    Cookie,
    SetCookie,
}

impl Class {
    /// Every class with its name in the file.
    pub const ALL: [(&'static str, Class); 20] = [
        ("keep", Class::Keep),
        ("people", Class::People),
        ("user", Class::User),
        ("subject", Class::Subject),
        ("body", Class::Body),
        ("text", Class::Text),
        ("place", Class::Place),
        ("phone", Class::Phone),
        ("postal", Class::Postal),
        ("digits", Class::Digits),
        ("imei", Class::Imei),
        ("attachment", Class::Attachment),
        ("mime", Class::Mime),
        ("blob", Class::Blob),
        ("secret", Class::Secret),
        ("device", Class::Device),
        ("ip", Class::Ip),
        ("credential", Class::Credential),
        ("cookie", Class::Cookie),
        ("set-cookie", Class::SetCookie),
    ];

    fn parse(name: &str) -> Option<Class> {
        Class::ALL.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
    }

    /// Whether a row of `kind` may use this class.
    fn fits(self, kind: RowKind) -> bool {
        use Class::*;
        match kind {
            RowKind::Element => !matches!(self, Device | Ip | Credential | Cookie | SetCookie | User),
            RowKind::Header => matches!(
                self,
                Credential | Cookie | SetCookie | Ip | People | User | Device | Secret
            ),
            RowKind::Query => matches!(self, Keep | User | Device),
        }
    }
}

/// One row of `rules.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow<'a> {
    pub line: usize,
    pub kind: RowKind,
    /// Element rows: `(namespace, tag)` of the parent, when the row is for one parent only.
    pub parent: Option<(&'a str, &'a str)>,
    /// Element rows: `(namespace, tag)`; header and query rows: `("", name)`.
    pub key: (&'a str, &'a str),
    pub class: Class,
}

/// `Namespace:Tag`.
fn element(text: &str) -> Option<(&str, &str)> {
    let (ns, tag) = text.split_once(':')?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (word(ns) && word(tag)).then_some((ns, tag))
}

/// The rows of `rules.tsv`, checked: three fields, a known kind and class, a class the kind may
/// use, well-formed keys, and no key twice (header names compared case-insensitively).
pub fn parse_rules(text: &str) -> Result<Vec<RuleRow<'_>>, String> {
    let mut out: Vec<RuleRow<'_>> = Vec::new();
    for record in records::<3>(text) {
        let (n, [kind, key, class]) = record?;
        let at = |e: String| format!("line {n}: {e}");
        let kind = match kind {
            "element" => RowKind::Element,
            "header" => RowKind::Header,
            "query" => RowKind::Query,
            other => return Err(at(format!("unknown kind {other:?} (element, header or query)"))),
        };
        let class = Class::parse(class).ok_or_else(|| at(format!("unknown class {class:?}")))?;
        if !class.fits(kind) {
            return Err(at(format!("class {class:?} is not for {kind:?} rows")));
        }
        let (parent, key) = match kind {
            RowKind::Element => {
                let (parent, tag) = match key.split_once('/') {
                    Some((p, t)) => (Some(element(p).ok_or_else(|| at(format!("bad parent in {key:?}")))?), t),
                    None => (None, key),
                };
                let tag = element(tag).ok_or_else(|| at(format!("{key:?}: expected Namespace:Tag")))?;
                (parent, tag)
            }
            RowKind::Header | RowKind::Query => {
                if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(at(format!("{key:?} is not a header or parameter name")));
                }
                (None, ("", key))
            }
        };
        let same = |r: &RuleRow<'_>| {
            r.kind == kind && r.parent == parent && r.key.0 == key.0 && r.key.1.eq_ignore_ascii_case(key.1)
        };
        if let Some(first) = out.iter().find(|r| same(r)) {
            return Err(at(format!("{key:?} already has a row (line {})", first.line)));
        }
        out.push(RuleRow {
            line: n,
            kind,
            parent,
            key,
            class,
        });
    }
    Ok(out)
}

/// Checks the element rows against the code pages, given as `(namespace, tags)`: every tag has a
/// plain row, and every row names a tag of a code page.
pub fn check_elements(rows: &[RuleRow<'_>], pages: &[(&str, Vec<&str>)]) -> Result<(), String> {
    let exists = |(ns, tag): (&str, &str)| pages.iter().any(|(n, tags)| *n == ns && tags.contains(&tag));
    for r in rows.iter().filter(|r| r.kind == RowKind::Element) {
        for (ns, tag) in std::iter::once(r.key).chain(r.parent) {
            if !exists((ns, tag)) {
                return Err(format!("line {}: no code page defines {ns}:{tag}", r.line));
            }
        }
    }
    for (ns, tags) in pages {
        for tag in tags {
            let listed = rows
                .iter()
                .any(|r| r.kind == RowKind::Element && r.parent.is_none() && r.key == (*ns, *tag));
            if !listed {
                return Err(format!(
                    "{ns}:{tag} has no row: say whether it carries personal data (class keep if not)"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked() {
        let ok =
            "element\tEmail:Subject\tsubject\nelement\tA:L/A:D\tplace\nheader\tCookie\tcookie\nquery\tUser\tuser\n";
        let rows = parse_rules(ok).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].parent, Some(("A", "L")));
        for (bad, why) in [
            ("element\tEmail:Subject\tnope\n", "unknown class"),
            ("row\tEmail:Subject\tkeep\n", "unknown kind"),
            ("element\tSubject\tkeep\n", "expected Namespace:Tag"),
            ("header\tCookie\tsubject\n", "not for Header"),
            ("query\tUser\tpeople\n", "not for Query"),
            ("header\tCookie\tcookie\nheader\tcookie\tcookie\n", "already has a row"),
        ] {
            let e = parse_rules(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        let pages = vec![("Email", vec!["Subject", "To"]), ("A", vec!["L", "D"])];
        let e = check_elements(&rows, &pages).unwrap_err();
        assert!(e.contains("Email:To has no row"), "{e}");
        let rows = parse_rules("element\tEmail:Nope\tkeep\n").unwrap();
        assert!(
            check_elements(&rows, &pages)
                .unwrap_err()
                .contains("no code page defines Email:Nope")
        );
    }
}
