//! `--sessions 3,5-9`: sessions chosen by the numbers `easlens sessions` shows (`Session::index`,
//! Fiddler's N), for the subcommands that write evidence (`report`, `redact`).

use std::str::FromStr;

use easlens_core::capture::Capture;

/// A list of session numbers and ranges, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionNumbers(pub Vec<(u32, u32)>);

impl FromStr for SessionNumbers {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let number = |s: &str| -> Result<u32, String> {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("{part:?}: expected a session number or a range like 5-9"))
            };
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => (number(part)?, number(part)?),
            };
            if first > last {
                return Err(format!("{part:?}: the range runs backwards"));
            }
            ranges.push((first, last));
        }
        if ranges.is_empty() {
            return Err("no session numbers given (e.g. 3,5-9)".into());
        }
        Ok(SessionNumbers(ranges))
    }
}

impl SessionNumbers {
    pub fn contains(&self, n: u32) -> bool {
        self.0.iter().any(|&(a, b)| (a..=b).contains(&n))
    }
}

/// The positions in `capture.sessions` of the chosen sessions, in capture order (all without a
/// choice); an error names numbers the capture does not have.
pub fn positions(capture: &Capture, chosen: Option<&SessionNumbers>) -> Result<Vec<usize>, String> {
    let Some(chosen) = chosen else {
        return Ok((0..capture.sessions.len()).collect());
    };
    let found: Vec<usize> = capture
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| chosen.contains(s.index))
        .map(|(i, _)| i)
        .collect();
    let missing: Vec<String> = chosen
        .0
        .iter()
        .filter(|&&(a, b)| !capture.sessions.iter().any(|s| (a..=b).contains(&s.index)))
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no session {} in the capture (it has {} sessions)",
            missing.join(", "),
            capture.sessions.len()
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ranges() {
        let s: SessionNumbers = "3, 5-9,12".parse().unwrap();
        assert_eq!(s.0, [(3, 3), (5, 9), (12, 12)]);
        assert!(s.contains(7) && !s.contains(4));
        for bad in ["", "a", "9-5", "3,-", "1-2-3"] {
            assert!(bad.parse::<SessionNumbers>().is_err(), "{bad:?}");
        }
    }
}
