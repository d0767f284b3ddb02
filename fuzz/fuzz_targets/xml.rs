//! Arbitrary UTF-8 → XML reader. Oracle: whatever `from_xml` accepts encodes to WBXML that
//! decodes to the same tree (and renders back to XML without panicking).

#![no_main]

mod common;

use common::hex;
use easlens_core::wbxml::{decode, encode, from_xml, to_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = from_xml(s) else {
        return;
    };
    let _ = to_xml(&doc);
    let wbxml = encode(&doc);
    match decode(&wbxml) {
        Ok(again) => assert!(
            again.same_tree(&doc),
            "encode → decode changed the tree\nxml: {s:?}\nencoded: {}",
            hex(&wbxml)
        ),
        Err(p) => panic!(
            "decode rejects what encode wrote: {}\nxml: {s:?}\nencoded: {}",
            p.error,
            hex(&wbxml)
        ),
    }
});
