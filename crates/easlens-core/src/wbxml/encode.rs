//! [`Document`] → WBXML with the ActiveSync header `03 01 6A 00`. SWITCH_PAGE is written only when
//! the page changes (the current page survives END). Content that arrived as OPAQUE, or that a
//! NUL-terminated STR_I cannot carry, is written as OPAQUE; everything else as STR_I.
//!
//! A document with LITERAL elements (decoded from a string table, never ActiveSync) gets a string
//! table with their names and attribute names, each once; their attribute values are STR_I.

use std::collections::HashMap;

use super::document::{Document, Event};

/// Encodes the document. `decode(&encode(doc))` has the same tree as `doc`.
pub fn encode(doc: &Document) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.data.len() + doc.nodes.len() * 2 + 4);
    out.push(0x03); // WBXML 1.3
    out.push(0x01); // public id: unknown
    out.push(0x6A); // charset: UTF-8 (MIBenum 106)
    // The string table: empty (0x00) unless there are LITERAL elements.
    let mut table: Vec<u8> = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    let names = doc
        .literals
        .iter()
        .flat_map(|l| std::iter::once(&l.name).chain(l.attributes.iter().map(|(n, _)| n)));
    for name in names {
        if !index.contains_key(name.as_str()) {
            index.insert(name, table.len() as u32);
            table.extend_from_slice(name.as_bytes());
            table.push(0);
        }
    }
    put_mb_u_int32(&mut out, table.len() as u32);
    out.extend_from_slice(&table);
    let mut page = 0u8;
    for event in doc.walk() {
        match event {
            Event::Start(e) if e.literal().is_some() => {
                let Some(l) = e.literal() else { continue };
                let attributes = !l.attributes.is_empty();
                out.push(0x04 | if e.has_children() { 0x40 } else { 0 } | if attributes { 0x80 } else { 0 });
                put_mb_u_int32(&mut out, index[l.name.as_str()]);
                if attributes {
                    for (name, value) in &l.attributes {
                        out.push(0x04); // LITERAL attribute name
                        put_mb_u_int32(&mut out, index[name.as_str()]);
                        if !value.is_empty() {
                            out.push(0x03);
                            out.extend(value.bytes().filter(|&b| b != 0));
                            out.push(0x00);
                        }
                    }
                    out.push(0x01); // end of the attribute list
                }
            }
            Event::Start(e) => {
                let tag = e.tag();
                if tag.page != page {
                    out.extend_from_slice(&[0x00, tag.page]);
                    page = tag.page;
                }
                out.push(tag.token | if e.has_children() { 0x40 } else { 0 });
            }
            Event::Data { bytes, opaque } => {
                if opaque || bytes.contains(&0) {
                    out.push(0xC3);
                    put_mb_u_int32(&mut out, bytes.len() as u32);
                    out.extend_from_slice(bytes);
                } else {
                    out.push(0x03);
                    out.extend_from_slice(bytes);
                    out.push(0x00);
                }
            }
            Event::End(e) => {
                if e.has_children() {
                    out.push(0x01);
                }
            }
        }
    }
    out
}

/// WBXML mb_u_int32: big-endian groups of 7 bits, continuation bit on all but the last byte.
fn put_mb_u_int32(out: &mut Vec<u8>, v: u32) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut v = v;
    loop {
        groups[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::{decode, from_xml};

    #[test]
    fn mb_u_int32_forms() {
        for (v, want) in [
            (0u32, vec![0x00]),
            (0x7F, vec![0x7F]),
            (0x80, vec![0x81, 0x00]),
            (u32::MAX, vec![0x8F, 0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            put_mb_u_int32(&mut out, v);
            assert_eq!(out, want, "{v}");
        }
    }

    #[test]
    fn encodes_the_spec_example_byte_for_byte() {
        // [MS-ASWBXML] section 3: the Sync response with a contact Add.
        let xml = r#"<Sync xmlns="AirSync:"><Collections><Collection><Class>Contacts</Class><SyncKey>2</SyncKey>
            <CollectionId>2</CollectionId><Status>1</Status><Commands><Add><ServerId>2:1</ServerId><ApplicationData>
            <Body xmlns="AirSyncBase:"><Type>1</Type><EstimatedDataSize>0</EstimatedDataSize><Truncated>1</Truncated></Body>
            <FileAs xmlns="Contacts:">Funk, Don</FileAs><FirstName xmlns="Contacts:">Don</FirstName>
            <LastName xmlns="Contacts:">Funk</LastName><NativeBodyType xmlns="AirSyncBase:">1</NativeBodyType>
            </ApplicationData></Add></Commands></Collection></Collections></Sync>"#;
        let want = hex::decode(concat!(
            "03016a00455c4f5003436f6e746163747300014b0332000152033200014e0331",
            "000156474d03323a3100015d00114a46033100014c033000014d033100010100",
            "015e0346756e6b2c20446f6e00015f03446f6e0001690346756e6b0001001156",
            "03310001010101010101",
        ))
        .unwrap();
        let doc = from_xml(xml).unwrap();
        assert_eq!(hex::encode(encode(&doc)), hex::encode(&want));
        assert!(decode(&want).unwrap().same_tree(&doc));
    }
}
