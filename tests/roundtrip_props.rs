//! Property tests of the WBXML codec on generated documents (`easlens_samples::random_wbxml`) and arbitrary bytes:
//!
//! * the generator's XML is exactly what `to_xml` writes for the tree `from_xml` reads from it;
//! * `decode(encode(doc))` has the tree of `doc`;
//! * the generator's own WBXML (content split into chunks, redundant SWITCH_PAGEs, `4B 01` empty
//!   elements, over-long integers, header variants, string tables) decodes to the same tree;
//! * its generic WBXML with STR_T references and LITERAL tags passes the same round trips;
//! * `to_xml` of a decoded document is stable: render → read → render gives identical text;
//! * the styled rendering the inspector colours has `to_xml`'s text, parts covering it in order,
//!   and each element's recorded offset at its own start tag;
//! * arbitrary and mutated byte strings never make `decode` panic, and when they decode, the
//!   round trips above hold;
//! * every truncation of a valid encoding is a clean error that keeps the tree decoded so far,
//!   unless the prefix already holds the whole root element (then it decodes to the same tree).
//!
//! Runs with a fixed proptest seed (reproducible; `PROPTEST_RNG_SEED` / `PROPTEST_CASES` override)
//! and without failure persistence (a failure prints the seed and the generated document's XML).

mod common;

use easlens_core::wbxml::render::to_styled_xml;
use easlens_core::wbxml::{Document, Event, Tag, decode, encode, from_xml, to_xml};
use easlens_samples::random_wbxml::{self as generator, Body, GenDoc, GenOptions};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    let base = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            base.cases
        } else {
            cases
        },
        failure_persistence: None,
        rng_seed: match base.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0xEA5_1E45),
            fixed => fixed,
        },
        max_shrink_iters: 2_000,
        ..base
    }
}

/// The tree as (depth, start tag | content) steps: a flat form in which "decoded so far" is a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Start(usize, Tag),
    Data(usize, Vec<u8>),
}

fn steps(doc: &Document) -> Vec<Step> {
    let mut depth = 0;
    let mut out = Vec::new();
    for ev in doc.walk() {
        match ev {
            Event::Start(e) => {
                out.push(Step::Start(depth, e.tag()));
                depth += 1;
            }
            Event::Data { bytes, .. } => out.push(Step::Data(depth, bytes.to_vec())),
            Event::End(_) => depth -= 1,
        }
    }
    out
}

/// The round trips every successfully decoded document must pass.
fn check_decoded(doc: &Document) -> Result<(), TestCaseError> {
    let bytes = encode(doc);
    let again = decode(&bytes).map_err(|e| TestCaseError::fail(format!("re-encoded bytes fail: {e}")))?;
    prop_assert!(again.same_tree(doc), "decode(encode(doc)) changed the tree");
    // Only LITERAL elements need a string table, and their warnings are about it.
    prop_assert!(
        again
            .warnings
            .iter()
            .all(|w| doc.has_literals() && w.message.contains("ActiveSync does not normally use string tables")),
        "our own encoding has warnings: {:?}",
        again.warnings
    );
    prop_assert_eq!(encode(&again), bytes, "encode is not a fixpoint after one decode");

    let xml = to_xml(doc);
    let read =
        from_xml(&xml).map_err(|e| TestCaseError::fail(format!("to_xml output does not read back: {e}\n{xml}")))?;
    let xml2 = to_xml(&read);
    // Every document, mixed content included, reads back to the same tree and renders the same.
    prop_assert!(read.same_tree(doc), "from_xml(to_xml(doc)) changed the tree:\n{}", xml);
    prop_assert_eq!(&xml2, &xml, "to_xml is not stable (render, read, render)");
    Ok(())
}

fn roundtrip_options() -> GenOptions {
    GenOptions::roundtrip()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn generated_xml_is_the_renderers_form(g in generator::doc_strategy(roundtrip_options())) {
        let xml = g.xml();
        let doc = from_xml(&xml).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(doc.element_count(), g.element_count());
        prop_assert_eq!(to_xml(&doc), xml);
    }

    #[test]
    fn styled_xml_is_the_same_text_with_its_parts(g in generator::doc_strategy(roundtrip_options())) {
        let doc = from_xml(&g.xml()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let styled = to_styled_xml(&doc);
        prop_assert_eq!(&styled.text, &to_xml(&doc));
        prop_assert_eq!(styled.spans.first().map(|s| s.0), Some(0));
        prop_assert!(styled.spans.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 != w[1].1));
        let starts: Vec<u32> = doc.walk().filter_map(|ev| match ev {
            Event::Start(e) => Some(e.node_id()),
            _ => None,
        }).collect();
        let recorded: Vec<u32> = styled.elements.iter().map(|&(id, _)| id).collect();
        prop_assert_eq!(recorded, starts);
        for &(_, offset) in &styled.elements {
            prop_assert_eq!(styled.text.as_bytes()[offset as usize], b'<');
        }
    }

    #[test]
    fn encode_then_decode_keeps_the_tree(g in generator::doc_strategy(roundtrip_options())) {
        let doc = from_xml(&g.xml()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let back = decode(&encode(&doc)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(back.same_tree(&doc));
        check_decoded(&back)?;
    }

    #[test]
    fn other_legal_encodings_decode_to_the_same_tree(
        g in generator::doc_strategy(roundtrip_options()),
        variant in any::<u64>(),
        trailing in prop_oneof![4 => Just(0usize), 1 => 1usize..8],
    ) {
        let expected = from_xml(&g.xml()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let (bytes, end) = g.wbxml_variant(variant, trailing);
        let doc = decode(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{e}\nbytes: {}", hex::encode(&bytes))))?;
        prop_assert!(doc.same_tree(&expected), "bytes: {}", hex::encode(&bytes));
        prop_assert_eq!(
            doc.warnings.iter().any(|w| w.offset == end),
            end < bytes.len(),
            "a warning about the bytes after the root, and only then"
        );
        check_decoded(&doc)?;
    }

    #[test]
    fn string_table_documents_round_trip(
        g in generator::doc_strategy(GenOptions::libwbxml()),
        variant in any::<u64>(),
    ) {
        // STR_T content and LITERAL tags: rendered, read back and re-encoded to the same tree.
        let bytes = g.wbxml_with_string_table(variant);
        let doc = decode(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{e}\nbytes: {}", hex::encode(&bytes))))?;
        check_decoded(&doc)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_decoded_ones_round_trip(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..96),
            (any::<u64>(), 1usize..80).prop_map(|(seed, n)| generator::noise(seed, n)),
            (generator::doc_strategy(roundtrip_options()), any::<u64>(), any::<u64>())
                .prop_map(|(g, v, m)| generator::mutate(&g.wbxml_variant(v, 0).0, m)),
        ]
    ) {
        match decode(&bytes) {
            Ok(doc) => check_decoded(&doc)?,
            Err(p) => {
                prop_assert!(p.error.offset <= bytes.len(), "error offset past the input");
                let _ = to_xml(&p.partial);
                let _ = p.error.to_string();
            }
        }
    }

    #[test]
    fn truncations_are_clean_errors_that_keep_the_tree_so_far(
        g in generator::doc_strategy(GenOptions { max_elements: 25, ..roundtrip_options() }),
        variant in any::<u64>(),
        trailing in prop_oneof![3 => Just(0usize), 1 => 1usize..6],
    ) {
        let (bytes, end) = g.wbxml_variant(variant, trailing);
        let full = decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let full_steps = steps(&full);
        for cut in 0..=bytes.len() {
            let prefix = &bytes[..cut];
            match decode(prefix) {
                Ok(doc) => {
                    prop_assert!(cut >= end, "prefix of {} of {} bytes decodes: {}", cut, end, hex::encode(prefix));
                    prop_assert!(doc.same_tree(&full));
                }
                Err(p) => {
                    prop_assert!(cut < end, "complete prefix ({} bytes, root ends at {}) fails: {}", cut, end, p.error);
                    prop_assert!(p.error.offset <= cut);
                    let _ = to_xml(&p.partial);
                    // What was decoded is the start of the full tree (the last value may be cut short).
                    let got = steps(&p.partial);
                    prop_assert!(got.len() <= full_steps.len(), "partial tree larger than the full one at cut {}", cut);
                    for (i, s) in got.iter().enumerate() {
                        let same = match (s, &full_steps[i]) {
                            (Step::Data(d, b), Step::Data(fd, fb)) if i + 1 == got.len() => d == fd && fb.starts_with(b),
                            (a, b) => a == b,
                        };
                        prop_assert!(same, "cut {}: partial step {} is {:?}, full tree has {:?}", cut, i, s, full_steps[i]);
                    }
                }
            }
        }
    }
}

#[test]
fn generator_is_deterministic_and_covers_the_constructs() {
    let opts = GenOptions::roundtrip();
    let docs: Vec<GenDoc> = (0..400u64)
        .map(|s| GenDoc::generate(s, opts.max_elements, &opts))
        .collect();
    for (s, d) in docs.iter().enumerate().take(20) {
        assert_eq!(d, &GenDoc::generate(s as u64, opts.max_elements, &opts), "seed {s}");
        assert_eq!(d.wbxml_variant(7, 3), d.wbxml_variant(7, 3));
    }
    let cp = easlens_core::wbxml::codepages::codepages();
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    let mut pages = std::collections::BTreeSet::new();
    for d in &docs {
        let mut max_depth = 0;
        d.visit(&mut |n, depth| {
            max_depth = max_depth.max(depth);
            pages.insert(n.tag.page);
            let info = cp.page(n.tag.page).and_then(|p| p.token(n.tag.token));
            let mut hit = |k| *seen.entry(k).or_default() += 1;
            match info {
                None => hit("unknown token"),
                Some(t) if t.status == easlens_core::wbxml::codepages::TokenStatus::Legacy => hit("legacy token"),
                Some(_) => {}
            }
            match &n.body {
                Body::Empty => hit("empty element"),
                Body::Text(s) => {
                    if s.contains(['<', '>', '&']) {
                        hit("XML-special text");
                    }
                    if !s.is_ascii() {
                        hit("non-ASCII text");
                    }
                    if s.trim() != s {
                        hit("leading/trailing whitespace");
                    }
                    if s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
                        hit("control characters in STR_I");
                    }
                    if s.contains('\r') {
                        hit("CR in text");
                    }
                }
                Body::Opaque(_) if generator::hex_tag(n.tag) => hit("hex opaque (ConversationId/Index)"),
                Body::Opaque(_) => hit("base64 opaque"),
                Body::Children(_) => {}
            }
        });
        if max_depth >= 5 {
            *seen.entry("depth >= 5").or_default() += 1;
        }
    }
    eprintln!(
        "generator coverage over {} documents: {seen:?}, {} pages",
        docs.len(),
        pages.len()
    );
    for k in [
        "unknown token",
        "legacy token",
        "empty element",
        "XML-special text",
        "non-ASCII text",
        "leading/trailing whitespace",
        "control characters in STR_I",
        "CR in text",
        "hex opaque (ConversationId/Index)",
        "base64 opaque",
        "depth >= 5",
    ] {
        assert!(
            seen.get(k).copied().unwrap_or(0) >= 3,
            "generator rarely produces {k}: {seen:?}"
        );
    }
    assert_eq!(pages.len(), 26, "every code page is used");
}

#[test]
fn mixed_content_round_trips_through_xml() {
    // Text beside child elements (never valid ActiveSync, but seen in damaged bodies) is written
    // inline: surrounding and whitespace-only text and binary runs all survive.
    for body in [
        &[0x45, 0x03, b' ', b'a', 0, 0x4E, 0x01, 0x01][..],
        &[0x45, 0x03, b' ', 0, 0x05, 0x01],
        &[0x45, 0xC3, 0x01, 0xFF, 0x05, 0x01],
        &[0x45, 0x03, b'a', 0, 0x4E, 0x01, 0x03, b'\n', 0, 0x01],
    ] {
        let mut bytes = vec![3, 1, 0x6A, 0];
        bytes.extend_from_slice(body);
        let doc = decode(&bytes).unwrap();
        let xml = to_xml(&doc);
        assert!(from_xml(&xml).unwrap().same_tree(&doc), "{xml}");
    }
}

#[test]
fn noise_and_mutations_reach_both_outcomes() {
    // The proptest above draws from the same sources; this fixed sweep makes sure both branches
    // (clean error, successful decode + round trips) are exercised often, and says how often.
    let opts = GenOptions::roundtrip();
    let (mut ok, mut err) = (0usize, 0usize);
    for seed in 0..1500u64 {
        let noisy = generator::noise(seed, 60);
        let g = GenDoc::generate(seed, 30, &opts);
        let mutated = generator::mutate(&g.wbxml_variant(seed, 0).0, seed);
        for bytes in [noisy, mutated] {
            match decode(&bytes) {
                Ok(doc) => {
                    ok += 1;
                    if let Err(e) = check_decoded(&doc) {
                        panic!(
                            "seed {seed}: {e}
bytes: {}",
                            hex::encode(&bytes)
                        );
                    }
                }
                Err(p) => {
                    err += 1;
                    assert!(p.error.offset <= bytes.len());
                    let _ = to_xml(&p.partial);
                }
            }
        }
    }
    eprintln!("noise and mutations: {ok} decoded (round trips checked), {err} clean errors");
    assert!(ok >= 300 && err >= 300, "{ok} decoded, {err} errors");
}
