//! An ordered header list with case-insensitive lookup (names keep the case they were sent in).
//!
//! A capture holds every session's headers for as long as it is open, and most header lines repeat
//! from one session to the next (`Host`, `User-Agent`, `Content-Type`, `Server`…). A line that can
//! repeat is kept once, in the process's dictionary ([`crate::shared`]), and a header list stores
//! its number (4 bytes instead of the line); lines that differ every time (`Date`,
//! `Content-Length`, `request-id`) and credentials are stored in the list itself, all names and values
//! in one string, as are all lines once the dictionary is full. A 100,000-session capture kept a
//! fifth of its memory in header text before.

use serde::Serialize;
use serde::ser::SerializeSeq;

/// Headers whose value differs in every message: not worth a dictionary line.
const UNIQUE_VALUED: [&str; 12] = [
    "date",
    "content-length",
    "request-id",
    "x-request-id",
    "x-requestid",
    "x-ms-request-id",
    "etag",
    "last-modified",
    "expires",
    "age",
    "traceparent",
    "x-correlation-id",
];

/// In [`Headers::entries`]: a dictionary line (its key's index) rather than a pair of the list's own.
const FROM_DICTIONARY: u32 = 1 << 31;

#[derive(Clone, Default)]
pub struct Headers {
    /// The number of headers `n`, then one entry per header, in order (`FROM_DICTIONARY | key
    /// index`, or the index of a pair of the list's own), then where each own name and each own
    /// value ends in `text` (two per pair): one allocation where three lists took three.
    entries: Box<[u32]>,
    /// The list's own names and values, one after the other: `name₀ value₀ name₁ value₁ …`.
    text: Box<str>,
}

/// The dictionary number of a line worth sharing, adding it when there is room.
fn shared_line(name: &str, value: &str) -> Option<u32> {
    let len = name.len() + 1 + value.len();
    if len > crate::shared::MAX_LEN
        || name.contains('\0')
        || is_secret(name)
        || UNIQUE_VALUED.iter().any(|u| name.eq_ignore_ascii_case(u))
    {
        return None;
    }
    let mut line = String::with_capacity(len);
    line.push_str(name);
    line.push('\0');
    line.push_str(value);
    crate::shared::key(&line)
}

/// Builds a list one header at a time.
#[derive(Default)]
struct Builder {
    order: Vec<u32>,
    text: String,
    ends: Vec<u32>,
}

impl Builder {
    /// Appends one header, unless the list's own text would pass 4 GiB (no capture's headers
    /// come near it).
    fn push(&mut self, name: &str, value: &str) {
        if let Some(key) = shared_line(name, value) {
            self.order.push(FROM_DICTIONARY | key);
            return;
        }
        let (Ok(name_end), Ok(value_end), Ok(pair)) = (
            u32::try_from(self.text.len() + name.len()),
            u32::try_from(self.text.len() + name.len() + value.len()),
            u32::try_from(self.ends.len() / 2),
        ) else {
            return;
        };
        if pair >= FROM_DICTIONARY {
            return;
        }
        self.text.push_str(name);
        self.text.push_str(value);
        self.ends.extend([name_end, value_end]);
        self.order.push(pair);
    }

    fn finish(self) -> Headers {
        if self.order.is_empty() {
            return Headers::default();
        }
        let mut entries = Vec::with_capacity(1 + self.order.len() + self.ends.len());
        entries.push(self.order.len() as u32);
        entries.extend(self.order);
        entries.extend(self.ends);
        Headers {
            entries: entries.into_boxed_slice(),
            text: self.text.into_boxed_str(),
        }
    }
}

impl Headers {
    pub fn new() -> Self {
        Headers::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let mut b = Builder::default();
        for (n, v) in self.iter() {
            b.push(n, v);
        }
        b.push(&name.into(), &value.into());
        *self = b.finish();
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
        let (order, ends) = self.parts();
        order.iter().map(move |&entry| {
            if entry & FROM_DICTIONARY != 0 {
                let line = crate::shared::resolve(entry & !FROM_DICTIONARY);
                return line.split_once('\0').unwrap_or((line, ""));
            }
            let pair = entry as usize * 2;
            let start = pair.checked_sub(1).map_or(0, |i| ends[i] as usize);
            let (name_end, value_end) = (ends[pair] as usize, ends[pair + 1] as usize);
            (&self.text[start..name_end], &self.text[name_end..value_end])
        })
    }

    pub fn len(&self) -> usize {
        self.parts().0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The order entries and the ends of the list's own pairs.
    fn parts(&self) -> (&[u32], &[u32]) {
        let Some((&n, rest)) = self.entries.split_first() else {
            return (&[], &[]);
        };
        rest.split_at((n as usize).min(rest.len()))
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

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut b = Builder::default();
        for (name, value) in iter {
            b.push(&name, &value);
        }
        b.finish()
    }
}

/// Equal when they list the same headers in the same order, however each line is stored.
impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

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
