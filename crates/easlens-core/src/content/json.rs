//! JSON bodies (Autodiscover v2, REST and OAuth endpoints a device talks to beside ActiveSync),
//! indented for reading, and as a tree the window folds. serde_json parses and writes them, keys
//! in the order sent.

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

/// Bodies with more values than this are shown as indented text only (a tree of them would be
/// laid out every frame).
pub const MAX_TREE_NODES: usize = 20_000;

/// One value of a JSON document, for a folding view: its key (or index) in its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonNode {
    pub key: Option<String>,
    pub value: JsonValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// A string, number, boolean or null, written as JSON.
    Scalar(String),
    Object(Vec<JsonNode>),
    Array(Vec<JsonNode>),
}

/// `bytes` as a tree, when they are one JSON object or array of at most [`MAX_TREE_NODES`]
/// values.
pub fn tree(bytes: &[u8]) -> Option<JsonNode> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes.len() > MAX_PRETTY || !matches!(bytes[start], b'{' | b'[') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut budget = MAX_TREE_NODES;
    node(None, &value, &mut budget)
}

fn node(key: Option<String>, v: &serde_json::Value, budget: &mut usize) -> Option<JsonNode> {
    *budget = budget.checked_sub(1)?;
    let value = match v {
        serde_json::Value::Object(m) => JsonValue::Object(
            m.iter()
                .map(|(k, v)| node(Some(k.clone()), v, budget))
                .collect::<Option<_>>()?,
        ),
        serde_json::Value::Array(a) => JsonValue::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| node(Some(i.to_string()), v, budget))
                .collect::<Option<_>>()?,
        ),
        scalar => JsonValue::Scalar(scalar.to_string()),
    };
    Some(JsonNode { key, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_keeps_keys_in_order_and_stops_at_its_budget() {
        let t = tree(br#"{"z":1,"a":[true,"x"]}"#).unwrap();
        let JsonValue::Object(kids) = &t.value else {
            panic!("{t:?}")
        };
        assert_eq!(kids[0].key.as_deref(), Some("z"));
        assert_eq!(kids[0].value, JsonValue::Scalar("1".into()));
        let JsonValue::Array(items) = &kids[1].value else {
            panic!()
        };
        assert_eq!(items[1].value, JsonValue::Scalar("\"x\"".into()));
        let big = format!("[{}0]", "0,".repeat(MAX_TREE_NODES));
        assert_eq!(tree(big.as_bytes()), None);
        assert_eq!(tree(b"42"), None);
    }

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
