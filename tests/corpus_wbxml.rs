//! Every third-party WBXML vector in `../shared/corpus/wbxml/` decodes to the tree of its
//! `.norm.xml` (namespaces, names, content bytes), and every expected-error vector fails cleanly.
//! Skips with a message when `../shared` is not beside the project.

mod common;

use std::fs;

use easlens_core::wbxml::{Event, decode, encode, from_xml, to_xml};

/// A namespace-resolved element tree, the common ground for comparing XML from anywhere.
#[derive(Debug, PartialEq)]
struct Node {
    ns: String,
    name: String,
    content: Vec<u8>,
    children: Vec<Node>,
}

/// Parses the corpus's normalised XML (prefixes, `enc="base64"`, `unknown.P.0xTT`).
fn parse_norm(xml: &str) -> Node {
    use base64::Engine as _;
    use quick_xml::events::Event as X;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut stack: Vec<(Node, bool)> = Vec::new();
    loop {
        let (ns, ev) = reader.read_resolved_event().expect("corpus XML is well formed");
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8(n.as_ref().to_vec()).unwrap(),
            _ => String::new(),
        };
        match ev {
            X::Start(ref e) | X::Empty(ref e) => {
                let b64 = e
                    .attributes()
                    .flatten()
                    .any(|a| a.key.as_ref() == b"enc" && a.value.as_ref() == b"base64");
                let node = Node {
                    ns,
                    name: String::from_utf8(e.local_name().as_ref().to_vec()).unwrap(),
                    content: vec![],
                    children: vec![],
                };
                if matches!(ev, X::Empty(_)) {
                    match stack.last_mut() {
                        Some((p, _)) => p.children.push(node),
                        None => return node,
                    }
                } else {
                    stack.push((node, b64));
                }
            }
            X::Text(t) => {
                if let Some((n, _)) = stack.last_mut() {
                    n.content.extend_from_slice(t.decode().unwrap().as_bytes());
                }
            }
            X::GeneralRef(r) => {
                let s = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.decode().unwrap())
                        .unwrap()
                        .to_string(),
                };
                stack.last_mut().unwrap().0.content.extend_from_slice(s.as_bytes());
            }
            X::End(_) => {
                let (mut n, b64) = stack.pop().unwrap();
                if !n.children.is_empty() {
                    n.content.clear(); // layout whitespace
                } else if b64 {
                    n.content = base64::engine::general_purpose::STANDARD.decode(&n.content).unwrap();
                }
                match stack.last_mut() {
                    Some((p, _)) => p.children.push(n),
                    None => return n,
                }
            }
            X::Eof => panic!("no root element"),
            _ => {}
        }
    }
}

/// XML end-of-line handling (XML 1.0 section 2.11): the corpus's normalised files carry a raw
/// CR LF as LF, so text content is compared after the same normalisation. (easlens itself keeps
/// CR, writing it as `&#xD;`.)
fn eol_normalised(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.replace("\r\n", "\n").replace('\r', "\n").into_bytes(),
        Err(_) => bytes.to_vec(),
    }
}

/// The decoded document as the same kind of tree, with the corpus's names for unknown tokens.
fn tree_of(doc: &easlens_core::wbxml::Document) -> Node {
    let mut stack: Vec<Node> = Vec::new();
    for ev in doc.walk() {
        match ev {
            Event::Start(e) => {
                let t = e.tag();
                stack.push(Node {
                    ns: t.namespace().unwrap_or("").to_string(),
                    name: e
                        .name()
                        .map_or_else(|| format!("unknown.{}.0x{:02X}", t.page, t.token), str::to_string),
                    content: vec![],
                    children: vec![],
                });
            }
            Event::Data { bytes, .. } => stack.last_mut().unwrap().content.extend_from_slice(bytes),
            Event::End(_) => {
                let mut n = stack.pop().unwrap();
                n.content = eol_normalised(&n.content);
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => return n,
                }
            }
        }
    }
    panic!("empty document")
}

#[test]
fn corpus_vectors_decode_to_their_expected_xml() {
    let Some(dir) = common::shared_dir("corpus/wbxml") else {
        return;
    };
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".wbxml").map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names.len(), 64, "the corpus has 64 vectors");
    let (mut ok, mut errors, mut failures) = (0, 0, Vec::new());
    for name in &names {
        let bytes = fs::read(dir.join(format!("{name}.wbxml"))).unwrap();
        let norm = fs::read_to_string(dir.join(format!("{name}.norm.xml"))).unwrap();
        let result = decode(&bytes);
        if norm.contains("EXPECTED ERROR") {
            match result {
                Err(p) => {
                    errors += 1;
                    // The partial tree must still render.
                    let _ = to_xml(&p.partial);
                }
                Ok(_) => failures.push(format!("{name}: decoded, but an error is expected")),
            }
            continue;
        }
        match result {
            Ok(doc) => {
                let (got, want) = (tree_of(&doc), parse_norm(&norm));
                if got != want {
                    failures.push(format!("{name}: tree differs\n got: {got:?}\nwant: {want:?}"));
                    continue;
                }
                // The renderer's XML reads back into the same tree, and re-encodes losslessly.
                let back =
                    from_xml(&to_xml(&doc)).unwrap_or_else(|e| panic!("{name}: own XML does not read back: {e}"));
                assert!(back.same_tree(&doc), "{name}: XML round trip changed the tree");
                let again = decode(&encode(&doc)).unwrap_or_else(|e| panic!("{name}: re-encoded bytes fail: {e}"));
                assert!(again.same_tree(&doc), "{name}: encode round trip changed the tree");
                ok += 1;
            }
            Err(p) => failures.push(format!("{name}: unexpected error {}", p.error)),
        }
    }
    eprintln!("corpus: {ok} vectors decoded as expected, {errors} expected errors reported");
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((ok, errors), (51, 13));
}

#[test]
fn corpus_normalised_xml_encodes_to_the_same_tree() {
    // The encoder reads the corpus's prefixed form too: norm.xml → WBXML → same tree as the vector.
    let Some(dir) = common::shared_dir("corpus/wbxml") else {
        return;
    };
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".norm.xml"))
        else {
            continue;
        };
        let norm = fs::read_to_string(&path).unwrap();
        if norm.contains("EXPECTED ERROR") {
            continue;
        }
        let from_norm = from_xml(&norm).unwrap_or_else(|e| panic!("{name}: {e}"));
        let original = decode(&fs::read(dir.join(format!("{name}.wbxml"))).unwrap()).unwrap();
        let reencoded = decode(&encode(&from_norm)).unwrap();
        assert_eq!(
            tree_of(&reencoded),
            tree_of(&original),
            "{name}: norm.xml encodes to a different tree"
        );
    }
}
