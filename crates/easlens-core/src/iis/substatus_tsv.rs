//! Reading and checking `src/iis/substatus.tsv`, what IIS's substatus and win32 codes say.
//!
//! Plain `std` only: `build.rs` compiles this file (`#[path]`) and fails the build on a bad row;
//! the crate reads the rows at run time with the same function.

use crate::tsv::records;

/// One row: `None` stands for `*` (any value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstatusRow<'a> {
    pub status: u16,
    pub substatus: Option<u32>,
    pub win32: Option<u32>,
    pub meaning: &'a str,
    pub source: &'a str,
}

/// The rows of `substatus.tsv`, checked: an HTTP status 100–599, numbers or `*`, no key twice.
pub fn rows(text: &str) -> Result<Vec<SubstatusRow<'_>>, String> {
    let mut out: Vec<SubstatusRow<'_>> = Vec::new();
    for record in records::<5>(text) {
        let (n, [status, substatus, win32, meaning, source]) = record?;
        let any = |field: &str, name: &str| -> Result<Option<u32>, String> {
            match field {
                "*" => Ok(None),
                v => v
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("line {n}: {name} {v:?} is neither a number nor `*`")),
            }
        };
        let status: u16 = status
            .parse()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| format!("line {n}: status {status:?} is not an HTTP status"))?;
        let row = SubstatusRow {
            status,
            substatus: any(substatus, "substatus")?,
            win32: any(win32, "win32 status")?,
            meaning,
            source,
        };
        if out
            .iter()
            .any(|r| (r.status, r.substatus, r.win32) == (row.status, row.substatus, row.win32))
        {
            return Err(format!("line {n}: {status}.{substatus} win32 {win32} is there twice"));
        }
        out.push(row);
    }
    Ok(out)
}

/// The meaning of the most specific row for (status, substatus, win32): an exact win32 first,
/// then an exact substatus.
pub fn meaning<'a>(rows: &[SubstatusRow<'a>], status: u16, substatus: u32, win32: u32) -> Option<&'a str> {
    rows.iter()
        .filter(|r| r.status == status)
        .filter(|r| r.substatus.is_none_or(|s| s == substatus) && r.win32.is_none_or(|w| w == win32))
        .max_by_key(|r| (r.win32.is_some(), r.substatus.is_some()))
        .map(|r| r.meaning)
}
