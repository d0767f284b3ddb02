//! Text for a terminal: every character that a terminal (or a bidi-aware viewer) would act on
//! instead of showing is written out visibly, so that strings from a capture cannot change the
//! window title, clear the screen, colour the output or reorder what the reader sees.
//!
//! Escaped, in every [`Layout`]:
//!
//! - C0 controls (U+0000–U+001F) other than the line feed and tab that [`Layout::Lines`] keeps,
//!   and DEL (U+007F), as `\xHH` (`\x1b`, `\x07`, `\x7f`); CR, LF and tab as `\r`, `\n`, `\t`;
//! - C1 controls (U+0080–U+009F, among them U+009B CSI and U+009D OSC) as `\u{HH}`;
//! - the bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E,
//!   U+2066–U+2069) as `\u{HHHH}`.
//!
//! Backslashes are not doubled: `domain\user` reads as sent, and an escape is told from a literal
//! backslash by the capture's JSON output, which this module does not touch.
//!
//! The command line applies [`terminal_safe`] once to everything it writes as text (the edge), and
//! [`cut`] to a column it shortens: the cut is made on the escaped text and never splits an escape.

use std::borrow::Cow;
use std::fmt::Write as _;

/// How much layout of the text is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Multi-line text (a table, a report, decoded XML): line feeds and tabs stay.
    Lines,
    /// One field of a line (a column, a value inside a sentence): line feeds and tabs are escaped
    /// too, so that a value cannot start a line of its own.
    Field,
}

/// True for a character [`terminal_safe`] escapes in `layout`.
pub fn is_unsafe(c: char, layout: Layout) -> bool {
    match c {
        '\n' | '\t' => layout == Layout::Field,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// `text` with every control, DEL, C1 and bidi formatting character written out visibly (see the
/// module documentation); borrowed when there is nothing to escape.
pub fn terminal_safe(text: &str, layout: Layout) -> Cow<'_, str> {
    let Some(first) = text.find(|c| is_unsafe(c, layout)) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        push_escaped(&mut out, c, layout);
    }
    Cow::Owned(out)
}

/// `text` escaped as a [`Layout::Field`] and cut to at most `max` characters, the last one `…`
/// when cut. The cut falls between escapes, never inside one.
pub fn cut(text: &str, max: usize) -> String {
    let safe = terminal_safe(text, Layout::Field);
    if safe.chars().count() <= max {
        return safe.into_owned();
    }
    let mut out = String::new();
    let mut width = 0;
    let mut unit = String::new();
    for c in text.chars() {
        unit.clear();
        push_escaped(&mut unit, c, Layout::Field);
        let w = unit.chars().count();
        if width + w + 1 > max {
            break;
        }
        out.push_str(&unit);
        width += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

fn push_escaped(out: &mut String, c: char, layout: Layout) {
    if !is_unsafe(c, layout) {
        out.push(c);
        return;
    }
    let _ = match c {
        '\n' => write!(out, "\\n"),
        '\t' => write!(out, "\\t"),
        '\r' => write!(out, "\\r"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => write!(out, "\\x{:02x}", u32::from(c)),
        _ => write!(out, "\\u{{{:x}}}", u32::from(c)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_c1_and_bidi_are_written_out() {
        let s = "a\u{1b}]0;T\u{7}b\u{9b}31mc\u{202e}d\u{2066}e\u{200f}f\u{7f}g\u{0}h";
        assert_eq!(
            terminal_safe(s, Layout::Lines),
            "a\\x1b]0;T\\x07b\\u{9b}31mc\\u{202e}d\\u{2066}e\\u{200f}f\\x7fg\\x00h"
        );
        assert_eq!(terminal_safe("x\r\ny\tz", Layout::Lines), "x\\r\ny\tz");
        assert_eq!(terminal_safe("x\r\ny\tz", Layout::Field), "x\\r\\ny\\tz");
        assert_eq!(terminal_safe("\u{61c}", Layout::Lines), "\\u{61c}");
    }

    #[test]
    fn safe_text_is_borrowed_and_kept() {
        for s in ["", "plain", "contoso\\jdoe", "ünïcødé → ✓ 日本", "tab\tand\nline"] {
            assert!(matches!(terminal_safe(s, Layout::Lines), Cow::Borrowed(t) if t == s));
        }
        // U+00A0 and U+2028 are not controls a terminal acts on.
        assert_eq!(terminal_safe("a\u{a0}b", Layout::Field), "a\u{a0}b");
    }

    #[test]
    fn output_has_no_raw_control_left() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        for layout in [Layout::Lines, Layout::Field] {
            let safe = terminal_safe(&all, layout);
            assert!(!safe.chars().any(|c| is_unsafe(c, layout)));
            assert!(!safe.chars().any(|c| is_unsafe(c, Layout::Lines)));
        }
    }

    #[test]
    fn cut_never_splits_an_escape() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("exactly10!", 10), "exactly10!");
        assert_eq!(cut("abcdefghijk", 5), "abcd…");
        // The escaped text is 4 + 1 + 4 characters; the cut comes before `\x1b`, not inside it.
        assert_eq!(cut("\u{1b}]\u{1b}[2J", 7), "\\x1b]…");
        assert_eq!(cut("ab\u{202e}cdef", 6), "ab…");
        assert_eq!(cut("ab\u{202e}cdef", 13), "ab\\u{202e}cd…");
        assert_eq!(cut("a\nb", 10), "a\\nb");
        for max in 0..30 {
            let c = cut("1\u{1b}]0;PWNED\u{7}\u{1b}[31mX\u{9d}", max);
            assert!(c.chars().count() <= max.max(1), "{max}: {c}");
            assert!(!c.chars().any(|ch| is_unsafe(ch, Layout::Field)), "{max}: {c}");
            let kept = c.trim_end_matches('…');
            assert!(
                !kept.ends_with('\\') && !kept.ends_with("\\x1") && !kept.ends_with("\\u{"),
                "{max}: {c}"
            );
        }
    }
}
