//! An ordered header list with case-insensitive lookup (names keep the case they were sent in).

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
        Headers(iter.into_iter().collect())
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
