//! The report as GitHub-flavoured Markdown: the same outline as the HTML (`outline.rs`), bodies in fenced code
//! blocks whose fence is longer than any backtick run inside, values in code spans likewise, and
//! every other string from the capture escaped so that it cannot start a link, an image, HTML,
//! emphasis, a table cell or an autolink. Control and bidi characters are written out visibly
//! ([`terminal_safe`]), as in every other output.
//!
//! The timeline is not inline: Markdown viewers (GitHub among them) refuse `data:` images and an
//! inline `<svg>`, so the picture is a file of its own beside the Markdown (`OUT.timeline.svg`,
//! [`timeline_file_name`]) and the Markdown shows it by its relative name; both are written by
//! [`super::export`].

use std::fmt::Write as _;

use super::evidence::Report;
use super::outline::{self, Banner, Column, Frame, Para, Row, Sink, Span};
use super::terminal::{Layout, terminal_safe};

/// The name of the timeline file beside a Markdown report named `report_file_name`:
/// `report.md` → `report.timeline.svg`.
pub fn timeline_file_name(report_file_name: &str) -> String {
    let stem = report_file_name
        .strip_suffix(".md")
        .or_else(|| report_file_name.strip_suffix(".MD"))
        .or_else(|| report_file_name.strip_suffix(".markdown"))
        .unwrap_or(report_file_name);
    format!("{stem}.timeline.svg")
}

/// The report as Markdown; `timeline` is the file name of the timeline picture beside it, or
/// `None` to leave the picture out.
pub fn render(report: &Report, timeline: Option<&str>) -> String {
    let mut md = Markdown {
        out: String::with_capacity(128 * 1024),
        timeline,
    };
    outline::write(report, &mut md);
    md.out
}

struct Markdown<'a> {
    out: String,
    timeline: Option<&'a str>,
}

/// `spans` as Markdown; `line_start`: they begin a line (a paragraph, a list item), where text
/// could start a list. In a table cell, a code span's `|` is escaped too (GFM splits cells on it
/// even there). Links within the report are left out: their text stays.
fn spans(spans: &[Span<'_>], line_start: bool, in_table: bool) -> String {
    let mut out = String::new();
    for (i, s) in spans.iter().enumerate() {
        let esc = |x: &str| if line_start && i == 0 { text(x) } else { inline(x) };
        match s {
            Span::Text(x) => out.push_str(&esc(x)),
            Span::Link { text: x, .. } => out.push_str(&esc(x)),
            Span::Strong(x) => {
                let _ = write!(out, "**{}**", inline(x));
            }
            Span::Code(x) if in_table => out.push_str(&cell(&code(x))),
            Span::Code(x) => out.push_str(&code(x)),
            Span::Outcome(o) => out.push_str(o.name()),
            Span::Severity(s) => out.push_str(&s.name().to_uppercase()),
            Span::Break => out.push_str("<br>"),
        }
    }
    out
}

impl Sink for Markdown<'_> {
    fn start(&mut self, title: &str) {
        let _ = writeln!(self.out, "# {}", text(title));
    }

    fn heading(&mut self, level: usize, _anchor: Option<&str>, s: &[Span<'_>]) {
        // A badge first reads `ERROR — …`, `throttled — …`.
        let (badge, rest) = match s.split_first() {
            Some((b @ (Span::Outcome(_) | Span::Severity(_)), rest)) => {
                (format!("{} — ", spans(std::slice::from_ref(b), false, false)), rest)
            }
            _ => (String::new(), s),
        };
        let _ = writeln!(self.out, "\n{} {badge}{}", "#".repeat(level), spans(rest, false, false));
    }

    fn paragraph(&mut self, kind: Para, s: &[Span<'_>]) {
        let s = spans(s, true, false);
        let _ = match kind {
            Para::Plain | Para::Meta => writeln!(self.out, "\n{s}"),
            Para::Warning => writeln!(self.out, "\n**{s}**"),
            Para::Explanation => writeln!(self.out, "\n> {s}"),
        };
    }

    fn banner(&mut self, kind: Banner, message: &str) {
        let _ = match kind {
            Banner::NotRedacted => writeln!(self.out, "\n> **{}**", text(message)),
            Banner::Redacted | Banner::Note => writeln!(self.out, "\n> {}", text(message)),
        };
    }

    fn table(&mut self, columns: &[Column<'_>], rows: &[Row<'_>], _key_value: bool) {
        self.out.push('\n');
        for c in columns {
            let _ = write!(self.out, "| {} ", spans(std::slice::from_ref(&c.title), false, true));
        }
        self.out.push_str("|\n");
        for c in columns {
            self.out.push_str(if c.numeric { "|--:" } else { "|---" });
        }
        self.out.push_str("|\n");
        for row in rows {
            for cell in &row.cells {
                let _ = write!(self.out, "| {} ", spans(cell, false, true));
            }
            self.out.push_str("|\n");
        }
    }

    fn list(&mut self, items: &[Vec<Span<'_>>]) {
        self.out.push('\n');
        for item in items {
            let _ = writeln!(self.out, "- {}", spans(item, true, false));
        }
    }

    fn line(&mut self, line: &str) {
        let _ = write!(self.out, "\n{}", fenced("text", line));
    }

    fn block(&mut self, title: Option<&str>, info: &str, body: &str) {
        if let Some(title) = title {
            let _ = writeln!(self.out, "\n{}", text(title));
        }
        let _ = write!(self.out, "\n{}", fenced(info, body));
    }

    fn timeline(&mut self, _svg: &str) {
        let _ = match self.timeline {
            Some(file) => writeln!(
                self.out,
                "\n![The sessions over time, by outcome](<{}>)",
                file.replace(['<', '>', '\n', '\r'], "_")
            ),
            None => writeln!(self.out, "\n(The timeline picture is not included.)"),
        };
    }

    fn open(&mut self, _frame: Frame, _anchor: &str) {}

    fn close(&mut self, _frame: Frame) {}

    fn end(&mut self, byline: &str) {
        let _ = writeln!(self.out, "\n---\n\n{}", text(byline));
    }
}

/// A fenced code block of `body` (its control and bidi characters written out visibly), fenced
/// by more backticks than any run inside it, so nothing in it can close the block.
pub fn fenced(info: &str, body: &str) -> String {
    let body = terminal_safe(body, Layout::Lines);
    let fence = "`".repeat((longest_backtick_run(&body) + 1).max(3));
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{info}\n{body}{newline}{fence}\n")
}

/// `value` as a code span on one line: delimited by more backticks than any run inside, padded
/// when it starts or ends with a backtick or a space. Nothing inside a code span is Markdown or
/// HTML.
pub fn code(value: &str) -> String {
    let v = terminal_safe(value, Layout::Field);
    if v.is_empty() {
        return String::new();
    }
    let ticks = "`".repeat(longest_backtick_run(&v) + 1);
    let pad = if v.starts_with(['`', ' ']) || v.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{v}{pad}{ticks}")
}

/// `s` safe in a table cell: `|` escaped (GFM splits cells on it even inside a code span).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Capture text as Markdown text on one line: Markdown's punctuation backslash-escaped, `<`, `>`
/// and `&` as entities, and what GFM would make an autolink (`https://`, `www.`, `a@b`) broken,
/// so the text reads as sent and does nothing else.
pub fn text(value: &str) -> String {
    escaped(value, true)
}

/// [`text`] for a place that is not the start of a line (after a heading's badge, in a table
/// cell, after other text), where `1.` or `-` cannot start a list and stay as they are.
fn inline(value: &str) -> String {
    escaped(value, false)
}

fn escaped(value: &str, line_start: bool) -> String {
    let v = terminal_safe(value, Layout::Field);
    let mut out = String::with_capacity(v.len() + 8);
    let chars: Vec<char> = v.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let after = |s: &str| chars[i + 1..].iter().take(s.chars().count()).copied().eq(s.chars());
        let before = |s: &str| {
            let n = s.chars().count();
            i >= n && chars[i - n..i].iter().copied().eq(s.chars())
        };
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '@' => {
                out.push('\\');
                out.push(c);
            }
            // Block markers at the start of a line: a list, a heading underline, a quote.
            '-' | '+' | '=' if line_start && i == 0 => {
                out.push('\\');
                out.push(c);
            }
            // `1. ` or `1) ` at the start: an ordered list.
            '.' | ')'
                if line_start
                    && i > 0
                    && chars[..i].iter().all(char::is_ascii_digit)
                    && chars.get(i + 1).is_none_or(|c| *c == ' ') =>
            {
                out.push('\\');
                out.push(c);
            }
            ':' if after("//") => out.push_str("\\:"),
            '.' if before("www") => out.push_str("\\."),
            c => out.push(c),
        }
    }
    out
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::terminal::is_unsafe;
    use crate::report::testing::hostile_capture;
    use crate::report::{ReportOptions, build};

    /// `line` without its code spans (a run of backticks up to the next run of the same length).
    fn without_code_spans(line: &str) -> String {
        let c: Vec<char> = line.chars().collect();
        let run = |at: usize| c[at..].iter().take_while(|&&x| x == '`').count();
        let mut out = String::new();
        let mut i = 0;
        while i < c.len() {
            if c[i] == '`' && (i == 0 || c[i - 1] != '\\') {
                let n = run(i);
                let mut j = i + n;
                while j < c.len() && !(c[j] == '`' && run(j) == n) {
                    j += if c[j] == '`' { run(j) } else { 1 };
                }
                if j < c.len() {
                    i = j + n;
                    continue;
                }
            }
            out.push(c[i]);
            i += 1;
        }
        out
    }

    #[test]
    fn capture_strings_stay_text() {
        let report = build(&hostile_capture(), None, &ReportOptions::default());
        let md = render(&report, Some("r.timeline.svg"));
        assert!(
            !md.chars().any(|c| is_unsafe(c, Layout::Lines)),
            "a raw control or bidi character"
        );
        let mut fence: Option<&str> = None;
        let mut fenced_lines = 0;
        for line in md.lines() {
            let ticks = &line[..line.len() - line.trim_start_matches('`').len()];
            match fence {
                Some(f) => {
                    fenced_lines += 1;
                    if line == f {
                        fence = None;
                    }
                    continue;
                }
                None if ticks.len() >= 3 => {
                    fence = Some(ticks);
                    continue;
                }
                None => {}
            }
            let outside = without_code_spans(line)
                .replace("<br>", "")
                .replace("](<r.timeline.svg>)", "");
            assert!(!outside.contains('<'), "HTML outside code: {line}");
            assert!(!outside.replace("\\]", "").contains("]("), "a link: {line}");
            assert!(!outside.replace("\\:", "").contains("://"), "an autolink: {line}");
        }
        assert!(fence.is_none(), "a fence left open");
        assert!(fenced_lines > 10);
        // The body's backticks did not close its fence: it is longer.
        assert!(md.contains("````xml\n"), "{md}");
        assert!(md.contains("\\x1b]0;owned\\x07"), "{md}");
        assert!(!md.contains("dXNlcjpodW50ZXIy"));
    }

    #[test]
    fn text_cannot_become_markdown_or_html() {
        assert_eq!(
            text("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(text("[x](javascript:1) ![i](y)"), "\\[x\\](javascript:1) \\!\\[i\\](y)");
        assert_eq!(text("*a* _b_ `c` |d| ~e~"), "\\*a\\* \\_b\\_ \\`c\\` \\|d\\| \\~e\\~");
        assert_eq!(text("# h"), "\\# h");
        assert_eq!(text("- item"), "\\- item");
        assert_eq!(text("12. item"), "12\\. item");
        assert_eq!(text("a-b 1.5"), "a-b 1.5");
        assert_eq!(text("16.1"), "16.1");
        assert_eq!(inline("1. item - x"), "1. item - x");
        assert_eq!(inline("<b>|"), "&lt;b&gt;\\|");
        assert_eq!(
            text("see https://evil.example and www.evil.example"),
            "see https\\://evil.example and www\\.evil.example"
        );
        assert_eq!(text("jdoe@contoso.com"), "jdoe\\@contoso.com");
        assert_eq!(text("contoso\\jdoe"), "contoso\\\\jdoe");
        // Line breaks and controls stay on the line, written out.
        assert_eq!(text("a\nb\u{1b}[2J\u{202e}"), "a\\\\nb\\\\x1b\\[2J\\\\u{202e}");
    }

    #[test]
    fn fences_and_code_spans_outlast_the_backticks_inside() {
        let body = "````\n</details>\n``` not a fence\n";
        let f = fenced("xml", body);
        assert!(f.starts_with("`````xml\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
        assert_eq!(fenced("text", "plain"), "```text\nplain\n```\n");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("<b>"), "`<b>`");
        assert_eq!(code(""), "");
        assert_eq!(cell(&code("a|b")), "`a\\|b`");
    }

    #[test]
    fn the_timeline_file_is_named_after_the_report() {
        assert_eq!(timeline_file_name("ticket-42.md"), "ticket-42.timeline.svg");
        assert_eq!(timeline_file_name("x.markdown"), "x.timeline.svg");
    }
}
