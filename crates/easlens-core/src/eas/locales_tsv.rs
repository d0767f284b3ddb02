//! Reading `eas/locales.tsv` (LCID → language tag). Plain `std` and the crate's TSV reader only:
//! `build.rs` compiles this file too (`#[path]`) and fails the build on a bad row.

use crate::tsv::records;

/// The rows of the file in order: (LCID, language tag); the error names the line.
pub fn rows(text: &str) -> Result<Vec<(u16, &str)>, String> {
    let mut out: Vec<(u16, &str)> = Vec::new();
    for r in records::<2>(text) {
        let (n, [lcid, tag]) = r?;
        let hex = lcid
            .strip_prefix("0x")
            .ok_or_else(|| format!("line {n}: LCID {lcid:?} is not written 0xNNNN"))?;
        let lcid = u16::from_str_radix(hex, 16).map_err(|_| format!("line {n}: LCID {lcid:?} is not a number"))?;
        let (language, region) = tag
            .split_once('-')
            .ok_or_else(|| format!("line {n}: tag {tag:?} is not language-REGION"))?;
        if !(language.chars().all(|c| c.is_ascii_lowercase()) && region.chars().all(|c| c.is_ascii_uppercase())) {
            return Err(format!("line {n}: tag {tag:?} is not language-REGION"));
        }
        if out.last().is_some_and(|(l, _)| *l >= lcid) {
            return Err(format!("line {n}: LCID 0x{lcid:04X} is out of order or listed twice"));
        }
        out.push((lcid, tag));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked() {
        let all = rows(include_str!("locales.tsv")).unwrap();
        assert!(all.contains(&(0x0409, "en-US")));
        assert!(rows("409\ten-US\n").unwrap_err().contains("0xNNNN"));
        assert!(rows("0x0409\ten_us\n").unwrap_err().contains("language-REGION"));
        assert!(rows("0x0409\ten-US\n0x0409\ten-US\n").unwrap_err().contains("line 2"));
    }
}
