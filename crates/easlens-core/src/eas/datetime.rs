//! EAS date-times as people read them: `20240313T130000Z` (calendar's compact form) and
//! `2024-03-13T13:00:00.000Z` (email's, ISO 8601) both become `2024-03-13 13:00 UTC`.

use chrono::NaiveDateTime;

/// `2024-03-13 13:00 UTC` (seconds only when they are not zero) for an EAS date-time in either
/// form; `None` for any other text.
pub fn readable(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let body = raw.strip_suffix('Z')?;
    let t = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")
        .or_else(|_| NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    let format = if t.format("%S%.f").to_string().trim_end_matches(['0', '.']).is_empty() {
        "%Y-%m-%d %H:%M UTC"
    } else {
        "%Y-%m-%d %H:%M:%S UTC"
    };
    Some(t.format(format).to_string())
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn both_forms_read_the_same() {
        assert_eq!(readable("20240313T130000Z").as_deref(), Some("2024-03-13 13:00 UTC"));
        assert_eq!(
            readable("2024-03-13T13:00:00.000Z").as_deref(),
            Some("2024-03-13 13:00 UTC")
        );
        assert_eq!(
            readable("2024-03-13T13:00:00Z").as_deref(),
            Some("2024-03-13 13:00 UTC")
        );
        assert_eq!(readable("20240313T130005Z").as_deref(), Some("2024-03-13 13:00:05 UTC"));
        assert_eq!(
            readable("2024-03-13T13:00:05.500Z").as_deref(),
            Some("2024-03-13 13:00:05 UTC")
        );
    }

    #[test]
    fn other_text_is_not_a_date() {
        for s in ["Dentist", "15", "20240313T130000", "2024-13-13T13:00:00Z", "", "Z"] {
            assert_eq!(readable(s), None, "{s}");
        }
    }
}
