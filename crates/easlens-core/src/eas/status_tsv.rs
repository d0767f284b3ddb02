//! The rows of the Status tables `src/eas/status/*.tsv` as written, and the checks the build runs
//! on them: [`command_rows`], [`common_rows`] and [`http_rows`] read the fields (numbers, yes/no,
//! levels, qualifier syntax); [`check`] adds what a well-formed table must also satisfy (section
//! citations, one-sentence meanings, no duplicate rows, one level per table, top-level tables at
//! the command level, informational values only at the item level).
//!
//! Plain `std` only: `build.rs` compiles this file too (`#[path]`) and fails the build when a table
//! does not pass [`check`]; `status.rs` reads the same rows at run time and turns them into its
//! lookup tables (resolving command names, which only the crate knows).

use crate::tsv::{records, yes_no};

/// The `level` column of `command-status.tsv`: what a Status of the table reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLevel {
    /// `command`: the command (or one of its collections or stores); decides its success.
    Command,
    /// `item`: one item, operation or result inside the response.
    Item,
}

/// The `ok` column of `command-status.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOk {
    /// `yes`: success.
    Yes,
    /// `no`: failure.
    No,
    /// `info`: informational, neither success nor failure (level `item` only).
    Info,
}

/// One row of `command-status.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRow<'a> {
    pub line: usize,
    /// The command name as written (checked against `Command` by `status.rs`).
    pub command: &'a str,
    /// `*`, or alternatives (`|`) of parent chains (`/`).
    pub qualifier: &'a str,
    pub level: RowLevel,
    /// `None` for `*`: "any other value".
    pub value: Option<u32>,
    pub ok: RowOk,
    pub name: &'a str,
    pub section: &'a str,
    pub meaning: &'a str,
}

/// One row of `common-status.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonRow<'a> {
    pub line: usize,
    pub value: u32,
    pub name: &'a str,
    pub meaning: &'a str,
}

/// One row of `http-status.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRow<'a> {
    pub line: usize,
    pub code: u16,
    pub name: &'a str,
    pub failure: bool,
    pub source: &'a str,
    pub meaning: &'a str,
}

/// The parent chains of a qualifier, `None` for `*` (the command's top-level table).
pub fn qualifier_chains(text: &str) -> Result<Option<Vec<Vec<&str>>>, String> {
    if text == "*" {
        return Ok(None);
    }
    let chains: Vec<Vec<&str>> = text.split('|').map(|c| c.split('/').collect()).collect();
    if chains
        .iter()
        .flatten()
        .any(|n| n.is_empty() || n.contains(char::is_whitespace))
    {
        return Err(format!("bad qualifier {text:?}"));
    }
    Ok(Some(chains))
}

pub fn command_rows(text: &str) -> Result<Vec<CommandRow<'_>>, String> {
    let mut rows = Vec::new();
    for record in records::<8>(text) {
        let (n, [command, qualifier, level, value, ok, name, section, meaning]) = record?;
        let at = |e: String| format!("line {n}: {e}");
        if !command.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(at(format!("unknown command {command:?}")));
        }
        qualifier_chains(qualifier).map_err(at)?;
        let level = match level {
            "command" => RowLevel::Command,
            "item" => RowLevel::Item,
            other => return Err(at(format!("level must be command or item, found {other:?}"))),
        };
        let ok = match ok {
            "yes" => RowOk::Yes,
            "no" => RowOk::No,
            "info" => RowOk::Info,
            other => return Err(at(format!("ok must be yes, no or info, found {other:?}"))),
        };
        let value = match value {
            "*" => None,
            v => Some(v.parse().map_err(|_| at(format!("bad value {v:?}")))?),
        };
        rows.push(CommandRow {
            line: n,
            command,
            qualifier,
            level,
            value,
            ok,
            name,
            section,
            meaning,
        });
    }
    Ok(rows)
}

pub fn common_rows(text: &str) -> Result<Vec<CommonRow<'_>>, String> {
    records::<3>(text)
        .map(|record| {
            let (n, [value, name, meaning]) = record?;
            let value = value.parse().map_err(|_| format!("line {n}: bad value {value:?}"))?;
            Ok(CommonRow {
                line: n,
                value,
                name,
                meaning,
            })
        })
        .collect()
}

pub fn http_rows(text: &str) -> Result<Vec<HttpRow<'_>>, String> {
    records::<5>(text)
        .map(|record| {
            let (n, [code, name, failure, source, meaning]) = record?;
            let at = |e: String| format!("line {n}: {e}");
            Ok(HttpRow {
                line: n,
                code: code.parse().map_err(|_| at(format!("bad code {code:?}")))?,
                name,
                failure: yes_no(failure).map_err(at)?,
                source,
                meaning,
            })
        })
        .collect()
}

/// Everything the build demands of the three files (given as their texts); the error names the
/// file and the line.
// build.rs runs it, the crate only in its tests.
#[cfg_attr(not(test), allow(dead_code))]
pub fn check(command_status: &str, common_status: &str, http_status: &str) -> Result<(), String> {
    let sentence = |meaning: &str| {
        if meaning.ends_with('.') {
            Ok(())
        } else {
            Err("the meaning is not a sentence (no final `.`)".to_string())
        }
    };
    let short_name = |name: &str| {
        if name.contains(' ') {
            Err(format!("name {name:?} has spaces"))
        } else {
            Ok(())
        }
    };

    let in_file = |file: &'static str| move |e: String| format!("{file}: {e}");
    let rows = command_rows(command_status).map_err(in_file("command-status.tsv"))?;
    let mut seen: Vec<(String, String, u32)> = Vec::new();
    // (command, qualifier alternative) → level and the line that set it.
    let mut levels: Vec<(String, String, RowLevel, usize)> = Vec::new();
    for r in &rows {
        let at = |e: String| format!("command-status.tsv: line {}: {e}", r.line);
        short_name(r.name).map_err(at)?;
        sentence(r.meaning).map_err(at)?;
        if !(r.section.starts_with("MS-ASCMD 2.2.3.177.") || r.section.starts_with("MS-ASPROV ")) {
            return Err(at(format!(
                "section {:?} cites neither [MS-ASCMD] 2.2.3.177.x nor [MS-ASPROV]",
                r.section
            )));
        }
        if r.qualifier == "*" && r.level != RowLevel::Command {
            return Err(at("a top-level (`*`) table is at level command".into()));
        }
        if r.ok == RowOk::Info && r.level != RowLevel::Item {
            return Err(at(
                "an informational (`info`) value belongs to a table at level item: it never decides a command".into(),
            ));
        }
        for alt in r.qualifier.split('|') {
            let key = (r.command.to_string(), alt.to_ascii_lowercase());
            match levels.iter().find(|l| (&l.0, &l.1) == (&key.0, &key.1)) {
                Some(l) if l.2 != r.level => {
                    return Err(at(format!(
                        "{} {alt} is at another level on line {}: one table, one level",
                        r.command, l.3
                    )));
                }
                Some(_) => {}
                None => levels.push((key.0, key.1, r.level, r.line)),
            }
        }
        if let Some(value) = r.value {
            for alt in r.qualifier.split('|') {
                let key = (r.command.to_string(), alt.to_ascii_lowercase(), value);
                if seen.contains(&key) {
                    return Err(at(format!("{} {alt} {value} is listed twice", r.command)));
                }
                seen.push(key);
            }
        }
    }

    let common = common_rows(common_status).map_err(in_file("common-status.tsv"))?;
    for (i, r) in common.iter().enumerate() {
        let at = |e: String| format!("common-status.tsv: line {}: {e}", r.line);
        short_name(r.name).map_err(at)?;
        sentence(r.meaning).map_err(at)?;
        if i > 0 && common[i - 1].value >= r.value {
            return Err(at(format!("value {} is out of order or listed twice", r.value)));
        }
    }

    check_http(http_status, "http-status.tsv", |source| {
        source.starts_with("MS-ASHTTP ") || source == "Exchange practice"
    })
}

/// Checks `web-http-status.tsv`: HTTP meanings for the sessions that are not ActiveSync, each
/// from an RFC section.
#[cfg_attr(not(test), allow(dead_code))]
pub fn check_web(web_http_status: &str) -> Result<(), String> {
    check_http(web_http_status, "web-http-status.tsv", |source| {
        source.starts_with("RFC ")
    })
}

/// A table of HTTP codes: sentences, a known kind of source, each code once.
#[cfg_attr(not(test), allow(dead_code))]
fn check_http(text: &str, file: &str, source_ok: impl Fn(&str) -> bool) -> Result<(), String> {
    let sentence = |meaning: &str| {
        if meaning.ends_with('.') {
            Ok(())
        } else {
            Err("the meaning is not a sentence (no final `.`)".to_string())
        }
    };
    let http = http_rows(text).map_err(|e| format!("{file}: {e}"))?;
    for (i, r) in http.iter().enumerate() {
        let at = |e: String| format!("{file}: line {}: {e}", r.line);
        sentence(r.meaning).map_err(at)?;
        if !source_ok(r.source) {
            return Err(at(format!("source {:?} is not one this table may cite", r.source)));
        }
        if http[..i].iter().any(|h| h.code == r.code) {
            return Err(at(format!("HTTP {} is listed twice", r.code)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMAND: &str = include_str!("status/command-status.tsv");
    const COMMON: &str = include_str!("status/common-status.tsv");
    const HTTP: &str = include_str!("status/http-status.tsv");
    const WEB: &str = include_str!("status/web-http-status.tsv");

    #[test]
    fn the_embedded_tables_pass_the_build_checks() {
        assert_eq!(check(COMMAND, COMMON, HTTP), Ok(()));
        assert_eq!(check_web(WEB), Ok(()));
    }

    #[test]
    fn web_meanings_cite_an_rfc() {
        let e = check_web("200\tOK\tno\tMS-ASHTTP 2.2.2.1.1\tM.\n").unwrap_err();
        assert!(e.starts_with("web-http-status.tsv: line 1: source"), "{e}");
        assert_eq!(check_web("200\tOK\tno\tRFC 9110 15.3.1\tM.\n"), Ok(()));
    }

    #[test]
    fn bad_rows_are_reported_with_file_and_line() {
        let row = "Sync\t*\tcommand\t1\tyes\tSuccess\tMS-ASCMD 2.2.3.177.17\tDone.\n";
        assert_eq!(check(row, "", ""), Ok(()));
        let uncited = row.replace("MS-ASCMD 2.2.3.177.17", "somewhere");
        let e = check(&uncited, "", "").unwrap_err();
        assert!(e.starts_with("command-status.tsv: line 1: section"), "{e}");
        let twice = format!("# c\n{row}{row}");
        assert!(
            check(&twice, "", "")
                .unwrap_err()
                .contains("line 3: Sync * 1 is listed twice")
        );
        let e = check(row, "101\tA\tM.\n101\tB\tM.\n", "").unwrap_err();
        assert!(e.starts_with("common-status.tsv: line 2"), "{e}");
        let e = check(row, "", "200\tOK\tno\tsomewhere\tM.\n").unwrap_err();
        assert!(e.contains("http-status.tsv: line 1: source"), "{e}");
        let e = check(row, "", "2x0\tOK\tno\tMS-ASHTTP 1\tM.\n").unwrap_err();
        assert_eq!(e, "http-status.tsv: line 1: bad code \"2x0\"");
        assert!(check("Sync\ta b\tcommand\t1\tyes\tS\tMS-ASPROV 1\tM.\n", "", "").is_err());
    }

    #[test]
    fn levels_are_checked() {
        let c = |rows: &str| check(rows, "", "");
        let e = c("Sync\t*\titem\t1\tyes\tS\tMS-ASPROV 1\tM.\n").unwrap_err();
        assert!(e.contains("line 1: a top-level"), "{e}");
        let e = c("Search\tStore\tcommand\t173\tinfo\tS\tMS-ASPROV 1\tM.\n").unwrap_err();
        assert!(e.contains("belongs to a table at level item"), "{e}");
        let e = c("Search\tPicture\titem\t1\tyes\tS\tMS-ASPROV 1\tM.\nSearch\tStore|Picture\tcommand\t2\tno\tS\tMS-ASPROV 1\tM.\n")
            .unwrap_err();
        assert!(
            e.contains("line 2: Search Picture is at another level on line 1"),
            "{e}"
        );
        let e = c("Sync\t*\tglobal\t1\tyes\tS\tMS-ASPROV 1\tM.\n").unwrap_err();
        assert!(e.contains("level must be command or item"), "{e}");
        let e = c("Sync\t*\tcommand\t1\tmaybe\tS\tMS-ASPROV 1\tM.\n").unwrap_err();
        assert!(e.contains("yes, no or info"), "{e}");
        assert_eq!(c("Search\tPicture\titem\t173\tinfo\tS\tMS-ASPROV 1\tM.\n"), Ok(()));
    }
}
