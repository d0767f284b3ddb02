//! Reading the tab-separated data files of the crate (`src/eas/status/*.tsv`,
//! `src/eas/headers.tsv`, `src/analysis/rules.tsv`): data lines split into fields, with the line
//! number for error messages.
//!
//! Plain `std` only: `build.rs` compiles this file too (`#[path]`), so that the build checks the
//! files with the same reader the crate and its tests use.

/// The data lines of a file (no blank or `#` lines) with their line numbers, split at tabs into
/// exactly `N` non-empty fields without surrounding spaces.
pub fn records<const N: usize>(text: &str) -> impl Iterator<Item = Result<(usize, [&str; N]), String>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, line)| {
            let n = i + 1;
            let fields: Vec<&str> = line.split('\t').collect();
            let fields: [&str; N] = fields
                .try_into()
                .map_err(|f: Vec<_>| format!("line {n}: {} fields, expected {N}", f.len()))?;
            if let Some(k) = fields.iter().position(|f| f.trim().is_empty() || f.trim() != *f) {
                return Err(format!("line {n}: field {} is empty or padded", k + 1));
            }
            Ok((n, fields))
        })
}

/// `yes` or `no`.
pub fn yes_no(text: &str) -> Result<bool, String> {
    match text {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected yes or no, found {text:?}")),
    }
}

/// `-` (nothing) or the text.
pub fn optional(text: &str) -> Option<&str> {
    (text != "-").then_some(text)
}

/// `SyncKey` → `SYNC_KEY`, `MIMEData` → `MIME_DATA`, `X-MS-ASThrottle` → `X_MS_AS_THROTTLE`,
/// `http-error` → `HTTP_ERROR`: the name of a generated constant. An `_` in the name is kept
/// doubled (`Compressed_RTF` → `COMPRESSED__RTF`) so that it cannot meet another name's constant.
pub fn upper_snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '-' => out.push('_'),
            '_' => out.push_str("__"),
            _ => {
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + 1).copied();
                let word_start = c.is_ascii_uppercase()
                    && prev.is_some_and(|p| {
                        p.is_ascii_lowercase()
                            || p.is_ascii_digit()
                            || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                    });
                if word_start {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
        }
    }
    out
}

/// `http-error` → `HttpError`: the name of a generated enum variant.
pub fn upper_camel(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_need_exactly_n_clean_fields() {
        let ok: Vec<_> = records::<2>("# c\n\na\tb\n").collect();
        assert_eq!(ok, [Ok((3, ["a", "b"]))]);
        let bad: Vec<_> = records::<2>("a\tb\tc\n").collect();
        assert_eq!(bad, [Err("line 1: 3 fields, expected 2".to_string())]);
        let bad: Vec<_> = records::<2>("a\t b\n").collect();
        assert_eq!(bad, [Err("line 1: field 2 is empty or padded".to_string())]);
        assert_eq!(yes_no("yes"), Ok(true));
        assert!(yes_no("y").is_err());
        assert_eq!((optional("-"), optional("x")), (None, Some("x")));
    }

    #[test]
    fn constant_and_variant_names() {
        for (name, constant) in [
            ("SyncKey", "SYNC_KEY"),
            ("MIMEData", "MIME_DATA"),
            ("UID", "UID"),
            ("Email2Address", "EMAIL2_ADDRESS"),
            ("AllowPOPIMAPEmail", "ALLOW_POPIMAP_EMAIL"),
            ("Compressed_RTF", "COMPRESSED__RTF"),
            ("X-MS-ASThrottle", "X_MS_AS_THROTTLE"),
            ("MS-ASProtocolVersions", "MS_AS_PROTOCOL_VERSIONS"),
            ("WWW-Authenticate", "WWW_AUTHENTICATE"),
            ("http-error", "HTTP_ERROR"),
        ] {
            assert_eq!(upper_snake(name), constant, "{name}");
        }
        assert_eq!(upper_camel("user-agent-change"), "UserAgentChange");
        assert_eq!(upper_camel("throttled"), "Throttled");
    }
}
