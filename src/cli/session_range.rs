//! `--sessions 3,5-9`: session numbers as the CLI shows them (`easlens sessions`' `#` column, a
//! session's `index`), parsed once here for every subcommand that takes a selection of sessions.

use std::ops::RangeInclusive;
use std::str::FromStr;

use easlens_core::capture::Capture;

/// A selection of sessions by number: single numbers and inclusive ranges (`3,5-9`; an en dash
/// `5–9`, as `easlens findings` prints ranges, reads the same; spaces are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRanges(Vec<RangeInclusive<u32>>);

impl FromStr for SessionRanges {
    type Err = String;

    fn from_str(text: &str) -> Result<SessionRanges, String> {
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let part: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            if part.is_empty() {
                return Err(format!(
                    "{text:?}: an empty item; expected numbers and ranges such as 3,5-9"
                ));
            }
            let number = |s: &str| -> Result<u32, String> {
                match s.parse::<u32>() {
                    Ok(0) => Err(format!("{text:?}: sessions are numbered from 1")),
                    Ok(n) => Ok(n),
                    Err(_) => Err(format!("{text:?}: {s:?} is not a session number; expected e.g. 3,5-9")),
                }
            };
            let range = match part.split_once(['-', '–']) {
                Some((a, b)) => {
                    let (a, b) = (number(a)?, number(b)?);
                    if a > b {
                        return Err(format!("{text:?}: the range {a}-{b} runs backwards"));
                    }
                    a..=b
                }
                None => {
                    let n = number(&part)?;
                    n..=n
                }
            };
            ranges.push(range);
        }
        Ok(SessionRanges(ranges))
    }
}

impl SessionRanges {
    /// True when session number `n` is selected.
    pub fn contains(&self, n: u32) -> bool {
        self.0.iter().any(|r| r.contains(&n))
    }

    /// The positions (in `capture.sessions`, in capture order) of the selected sessions; an error
    /// naming every single number, and every range, that selects no session of the capture.
    pub fn positions(&self, capture: &Capture) -> Result<Vec<usize>, String> {
        let positions: Vec<usize> = (0..capture.sessions.len())
            .filter(|&p| self.contains(capture.sessions[p].index))
            .collect();
        let missing: Vec<String> = self
            .0
            .iter()
            .filter(|r| !capture.sessions.iter().any(|s| r.contains(&s.index)))
            .map(|r| {
                if r.start() == r.end() {
                    r.start().to_string()
                } else {
                    format!("{}-{}", r.start(), r.end())
                }
            })
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "no session {} in the capture (its sessions are numbered as `easlens sessions` shows them)",
                missing.join(", ")
            ));
        }
        Ok(positions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SessionRanges, String> {
        s.parse()
    }

    #[test]
    fn numbers_and_ranges() {
        let r = parse("3,5-9").unwrap();
        assert_eq!(r, SessionRanges(vec![3..=3, 5..=9]));
        assert!(r.contains(3) && r.contains(5) && r.contains(9));
        assert!(!r.contains(4) && !r.contains(10) && !r.contains(1));
        assert_eq!(parse(" 2 – 4 , 7").unwrap(), SessionRanges(vec![2..=4, 7..=7]));
        assert_eq!(parse("4-4").unwrap(), SessionRanges(vec![4..=4]));
        // A huge range is two numbers, never a list of them.
        assert!(parse("1-4294967295").unwrap().contains(4_000_000_000));
    }

    #[test]
    fn what_is_not_a_selection() {
        for bad in [
            "",
            "3,",
            ",3",
            "a",
            "3-",
            "-3",
            "9-5",
            "0",
            "0-3",
            "1-2-3",
            "3;4",
            "1.5",
            "99999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse("9-5").unwrap_err().contains("backwards"));
        assert!(parse("0").unwrap_err().contains("from 1"));
    }
}
