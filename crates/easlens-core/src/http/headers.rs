//! An ordered header list with case-insensitive lookup (names keep the case they were sent in).
//!
//! A capture holds every session's headers for as long as it is open, so they are stored
//! compactly: all names and values in one string, with where each ends, instead of two strings
//! per header (a 100,000-session capture kept a third of its memory in header strings).

use serde::Serialize;
use serde::ser::SerializeSeq;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name and value, one after the other: `name₀ value₀ name₁ value₁ …`.
    text: Box<str>,
    /// Where each name and each value ends in `text` (two per header).
    ends: Box<[u32]>,
}

impl Headers {
    pub fn new() -> Self {
        Headers::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let headers = std::mem::take(self);
        let mut text = String::from(headers.text);
        let mut ends = Vec::from(headers.ends);
        append(&mut text, &mut ends, &name.into(), &value.into());
        *self = Headers {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        };
    }

    /// The first value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        self.ends.chunks_exact(2).map(move |pair| {
            let (name_end, value_end) = (pair[0] as usize, pair[1] as usize);
            let name = &self.text[start..name_end];
            let value = &self.text[name_end..value_end];
            start = value_end;
            (name, value)
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// `Content-Length` as a number, when present and numeric.
    pub fn content_length(&self) -> Option<u64> {
        self.get("content-length")?.trim().parse().ok()
    }

    /// The Content-Encoding codings in the order they were applied, lower-cased, without `identity`.
    pub fn content_codings(&self) -> Vec<String> {
        self.get_all("content-encoding")
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty() && t != "identity")
            .collect()
    }

    /// True when a comma-separated header (`Transfer-Encoding`, `Content-Encoding`) lists `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Appends one header, unless the text would pass 4 GiB (no capture's headers come near it).
fn append(text: &mut String, ends: &mut Vec<u32>, name: &str, value: &str) {
    let (Ok(name_end), Ok(value_end)) = (
        u32::try_from(text.len() + name.len()),
        u32::try_from(text.len() + name.len() + value.len()),
    ) else {
        return;
    };
    text.push_str(name);
    text.push_str(value);
    ends.extend([name_end, value_end]);
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let (mut text, mut ends) = (String::new(), Vec::new());
        for (name, value) in iter {
            append(&mut text, &mut ends, &name, &value);
        }
        Headers {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Headers")
            .field(&self.iter().collect::<Vec<_>>())
            .finish()
    }
}

/// As a list of `[name, value]` pairs.
impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_ordered() {
        let mut h = Headers::new();
        h.push("Content-Type", "application/vnd.ms-sync.wbxml");
        h.push("X-MS-ASThrottle", "CommandFrequency");
        h.push("transfer-encoding", "gzip, chunked");
        assert_eq!(h.get("x-ms-asthrottle"), Some("CommandFrequency"));
        assert!(h.has_token("Transfer-Encoding", "chunked"));
        assert!(!h.has_token("Transfer-Encoding", "deflate"));
        assert_eq!(h.iter().next(), Some(("Content-Type", "application/vnd.ms-sync.wbxml")));
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn stored_compactly_read_as_pairs() {
        let pairs = [
            ("Host", "h"),
            ("", "no name"),
            ("X-Empty", ""),
            ("host", "second"),
            ("Ünï", "cödé"),
        ];
        let h: Headers = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        assert_eq!(h.iter().collect::<Vec<_>>(), pairs);
        assert_eq!(h.get_all("HOST").collect::<Vec<_>>(), ["h", "second"]);
        assert_eq!(h.get("x-empty"), Some(""));
        assert_eq!(format!("{h:?}"), format!("Headers({:?})", pairs.to_vec()));
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            serde_json::to_string(
                &pairs
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect::<Vec<_>>()
            )
            .unwrap()
        );
        let mut pushed = Headers::new();
        for (n, v) in pairs {
            pushed.push(n, v);
        }
        assert_eq!(pushed, h);
        assert!(Headers::new().is_empty() && Headers::new().iter().next().is_none());
    }
}

/// Headers whose values are credentials or session secrets: masked on screen and in exported
/// text unless the user reveals them (Basic credentials are only base64).
const SECRET_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// True for a header whose value must not be shown by default.
pub fn is_secret(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// The authentication schemes easlens names: the IANA HTTP Authentication Scheme Registry
/// (RFC 7235 section 5.1) and NTLM, which Exchange and its clients use.
const AUTH_SCHEMES: [&str; 15] = [
    "Basic",
    "Bearer",
    "Concealed",
    "Digest",
    "DPoP",
    "GNAP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "NTLM",
    "OAuth",
    "PrivateToken",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "vapid",
];

/// The scheme of an `Authorization` (or `Proxy-Authorization`) value, spelt as registered, when it
/// is a known one; `None` otherwise. A value without a known scheme (a bare token, a typo) is all
/// credential: nothing of it may be shown.
pub fn auth_scheme(value: &str) -> Option<&'static str> {
    let first = value.split_ascii_whitespace().next()?;
    AUTH_SCHEMES.iter().copied().find(|s| s.eq_ignore_ascii_case(first))
}

/// A header value as shown: secrets masked (a known auth scheme stays visible, see [`auth_scheme`])
/// unless `reveal`.
pub fn shown_value(name: &str, value: &str, reveal: bool) -> String {
    if reveal || !is_secret(name) {
        return value.to_string();
    }
    if name.to_ascii_lowercase().ends_with("authorization")
        && let Some(scheme) = auth_scheme(value)
    {
        return format!("{scheme} ••••••••");
    }
    "••••••••".into()
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn credentials_are_masked_unless_revealed() {
        let basic = "Basic am9obkBjb250b3NvLmNvbTpTZWNyZXQx";
        assert_eq!(shown_value("Authorization", basic, false), "Basic ••••••••");
        assert_eq!(shown_value("authorization", basic, true), basic);
        assert_eq!(shown_value("Cookie", "a=b", false), "••••••••");
        assert_eq!(shown_value("User-Agent", "Apple-iPhone", false), "Apple-iPhone");
        // Nothing of a credential without a known scheme is shown, not even its first word.
        assert_eq!(shown_value("Authorization", "dXNlcjpodW50ZXIy", false), "••••••••");
        assert_eq!(shown_value("Authorization", "dXNlcjpo dW50ZXIy", false), "••••••••");
        assert_eq!(
            shown_value("Proxy-Authorization", "negotiate YII=", false),
            "Negotiate ••••••••"
        );
    }

    #[test]
    fn only_known_schemes_are_named() {
        assert_eq!(auth_scheme("Basic am9objpw"), Some("Basic"));
        assert_eq!(auth_scheme("  bearer eyJ0"), Some("Bearer"));
        assert_eq!(auth_scheme("NTLM TlRMTVNTUAAB"), Some("NTLM"));
        assert_eq!(auth_scheme("Negotiate"), Some("Negotiate"));
        assert_eq!(auth_scheme("dXNlcjpodW50ZXIy"), None);
        assert_eq!(auth_scheme("Basicam9objpw"), None);
        assert_eq!(auth_scheme("secret token"), None);
        assert_eq!(auth_scheme(""), None);
    }
}
