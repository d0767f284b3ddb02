//! Arbitrary bytes → Fiddler's session metadata reader (`raw/N_m.xml`), and the value readers it
//! uses on UTF-8 input.
//!
//! Oracles (besides "never panics"): a timer that `parse_timer` accepts (years 0–9999) reads back
//! to the same instant and offset from its RFC 3339 rendering; `parse_bit_flags` agrees with
//! `u64::from_str_radix` on what it accepts.

#![no_main]

mod common;

use common::hex_prefix;
use easlens_core::readers::saz_meta::{digits_only, parse, parse_bit_flags, parse_bit_flags_decimal, parse_timer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let meta = parse(data);
    let _ = meta.flag("x-clientip");
    let _ = meta.timers.duration_ms();

    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Some(t)) = parse_timer(s)
        && let text = t.to_rfc3339()
        && text.bytes().take(4).all(|b| b.is_ascii_digit())
        && text.as_bytes().get(4) == Some(&b'-')
    {
        match parse_timer(&text) {
            // Year 1, January 1st reads as "not set" by design.
            Ok(None) if text.starts_with("0001-01-01") => {}
            Ok(Some(back)) => assert!(
                back == t && back.offset() == t.offset(),
                "parse_timer({s:?}) = {t}, but its rendering {text:?} reads back as {back}\ninput: {}",
                hex_prefix(data, 4096)
            ),
            other => panic!(
                "parse_timer({s:?}) = {t}, but its rendering {text:?} reads back as {other:?}\ninput: {}",
                hex_prefix(data, 4096)
            ),
        }
    }
    if let Ok(v) = parse_bit_flags(s) {
        let t = s.trim();
        let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        assert_eq!(
            u64::from_str_radix(t, 16).ok(),
            Some(v),
            "parse_bit_flags({s:?}) = {v:#x}\ninput: {}",
            hex_prefix(data, 4096)
        );
    }
    let _ = parse_bit_flags_decimal(s);
    let _ = digits_only(s);
});
