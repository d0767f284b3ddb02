//! Reading `content/autodiscover.tsv` (what the elements of an Autodiscover answer mean). Plain
//! `std` and the crate's TSV reader only: `build.rs` compiles this file too (`#[path]`) and fails
//! the build on a bad row.

use crate::tsv::records;

/// One row: an element, one of its values (`None`: any, shown as sent), and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    pub element: &'a str,
    pub value: Option<u32>,
    pub name: &'a str,
    pub source: &'a str,
    pub meaning: &'a str,
}

/// The rows of the file; the error names the line and the problem.
pub fn rows(text: &str) -> Result<Vec<Row<'_>>, String> {
    let mut out: Vec<Row<'_>> = Vec::new();
    for r in records::<5>(text) {
        let (n, [element, value, name, source, meaning]) = r?;
        let value = match value {
            "*" => None,
            v => Some(
                v.parse()
                    .map_err(|_| format!("line {n}: value {v:?} is neither `*` nor a number"))?,
            ),
        };
        if !meaning.ends_with('.') {
            return Err(format!("line {n}: the meaning is not a sentence (no final `.`)"));
        }
        if !source.starts_with("MS-") {
            return Err(format!("line {n}: source {source:?} is not an [MS-…] document"));
        }
        if out.iter().any(|o| o.element == element && o.value == value) {
            return Err(format!("line {n}: {element} {value:?} is listed twice"));
        }
        out.push(Row {
            element,
            value,
            name,
            source,
            meaning,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked() {
        assert_eq!(rows(include_str!("autodiscover.tsv")).map(|r| r.is_empty()), Ok(false));
        let e = rows("ErrorCode\tx\tN\tMS-ASCMD 1\tM.\n").unwrap_err();
        assert!(e.contains("neither"), "{e}");
        let e = rows("ErrorCode\t600\tN\tsomewhere\tM.\n").unwrap_err();
        assert!(e.contains("source"), "{e}");
        let twice = "Url\t*\tN\tMS-ASCMD 1\tM.\nUrl\t*\tN\tMS-ASCMD 1\tM.\n";
        assert!(rows(twice).unwrap_err().contains("line 2"));
    }
}
