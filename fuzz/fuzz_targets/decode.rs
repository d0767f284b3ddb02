//! WBXML bytes → decoder, renderer, XML reader, encoder, and the multipart table reader.
//!
//! Oracles (besides "never panics"): a successful decode renders to XML that reads back to the
//! same tree, and encodes to WBXML that decodes to the same tree. A failed decode's partial tree
//! renders without panicking. Every check is strict (mixed content included).

#![no_main]

mod common;

use common::hex;
use easlens_core::wbxml::{decode, encode, from_xml, multipart, to_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = multipart::parts(data);
    let _ = multipart::is_multipart(data);

    match decode(data) {
        Ok(doc) => {
            let xml = to_xml(&doc);
            match from_xml(&xml) {
                Ok(back) => assert!(
                    back.same_tree(&doc),
                    "to_xml → from_xml changed the tree\ninput: {}\nxml:\n{xml}",
                    hex(data)
                ),
                Err(e) => panic!(
                    "from_xml rejects what to_xml wrote: {e}\ninput: {}\nxml:\n{xml}",
                    hex(data)
                ),
            }
            let wbxml = encode(&doc);
            match decode(&wbxml) {
                Ok(again) => assert!(
                    again.same_tree(&doc),
                    "encode → decode changed the tree\ninput: {}\nencoded: {}",
                    hex(data),
                    hex(&wbxml)
                ),
                Err(p) => panic!(
                    "decode rejects what encode wrote: {}\ninput: {}\nencoded: {}",
                    p.error,
                    hex(data),
                    hex(&wbxml)
                ),
            }
        }
        Err(p) => {
            let _ = to_xml(&p.partial);
            let _ = p.error.to_string();
        }
    }
});
