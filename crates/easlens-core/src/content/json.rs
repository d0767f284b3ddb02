//! JSON bodies (Autodiscover v2, REST and OAuth endpoints a device talks to beside ActiveSync),
//! indented for reading. serde_json parses and writes them, keys in the order sent.

/// Bodies larger than this are left as plain text: parsing builds the whole value in memory.
pub const MAX_PRETTY: usize = 4 << 20;

/// `bytes` indented, when they are one JSON object or array (whitespace around it allowed).
pub fn pretty(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes.len() > MAX_PRETTY || !matches!(bytes[start], b'{' | b'[') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_arrays_are_indented_in_the_order_sent() {
        let out = pretty(br#" {"z":1,"a":[true,null],"m":"\u00fc"} "#).unwrap();
        assert_eq!(
            out,
            "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    null\n  ],\n  \"m\": \"ü\"\n}"
        );
        assert_eq!(pretty(b"[]").as_deref(), Some("[]"));
    }

    #[test]
    fn other_bodies_are_not_json() {
        for b in [&b"42"[..], b"\"text\"", b"{broken", b"<xml/>", b"", b"   "] {
            assert_eq!(pretty(b), None, "{:?}", String::from_utf8_lossy(b));
        }
    }
}
