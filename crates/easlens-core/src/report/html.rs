//! The report as one self-contained HTML file, for a mail: inline CSS only and no external
//! resource of any kind (no font, image, script or link out; a Content-Security-Policy that
//! forbids loading anything says so to the browser too), readable with JavaScript off, the
//! timeline as inline SVG, the bodies in `<details open>` (folded on screen at a click, printed
//! unfolded), a narrow column of system fonts and bordered tables that survive a mail client, and
//! a print style. The outline and its words are `outline.rs`'s; this is how each piece is written.
//!
//! Every string goes through [`markup_safe`]: escaped, with its control and bidi characters
//! written out visibly. Anchors (`#s14`, `#f1`) are the only links. The markup is polyglot (void
//! elements closed, `<br/>`, `open="open"`): the file is well-formed XML too, which the tests
//! check by parsing it, so no capture string can have opened or closed an element.

use std::fmt::Write as _;

use super::evidence::{Outcome, Report};
use super::markup_safe;
use super::outline::{self, Banner, Column, Frame, Para, Row, Sink, Span};
use super::svg::outcome_color;
use super::terminal::Layout;

/// Text on one line (a cell, a sentence).
fn t(s: &str) -> String {
    markup_safe(s, Layout::Field)
}

/// The report as HTML.
pub fn render(report: &Report) -> String {
    let mut html = Html(String::with_capacity(256 * 1024));
    outline::write(report, &mut html);
    html.0
}

struct Html(String);

fn spans(spans: &[Span<'_>]) -> String {
    let mut out = String::new();
    for s in spans {
        let _ = match s {
            Span::Text(x) => write!(out, "{}", t(x)),
            Span::Strong(x) => write!(out, "<strong>{}</strong>", t(x)),
            Span::Code(x) => write!(out, "<code>{}</code>", t(x)),
            Span::Link { anchor, text } => write!(out, "<a href=\"#{}\">{}</a>", t(anchor), t(text)),
            Span::Outcome(o) => write!(out, "<span class=\"badge o-{}\">{}</span> ", o.key(), o.name()),
            Span::Severity(s) => write!(out, "<span class=\"sev {0}\">{0}</span> ", s.name()),
            Span::Break => write!(out, "<br/>"),
        };
    }
    out
}

impl Sink for Html {
    fn start(&mut self, title: &str) {
        let _ = write!(
            self.0,
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{}</title>
<style>{}</style>
</head>
<body>
<main>
<h1>{}</h1>
"#,
            t(title),
            css(),
            t(title)
        );
    }

    fn heading(&mut self, level: usize, anchor: Option<&str>, s: &[Span<'_>]) {
        let id = anchor.map_or(String::new(), |a| format!(" id=\"{}\"", t(a)));
        let _ = writeln!(self.0, "<h{level}{id}>{}</h{level}>", spans(s));
    }

    fn paragraph(&mut self, kind: Para, s: &[Span<'_>]) {
        let class = match kind {
            Para::Plain => "",
            Para::Meta => " class=\"meta\"",
            Para::Warning => " class=\"warn-text\"",
            Para::Explanation => " class=\"explanation\"",
        };
        let _ = writeln!(self.0, "<p{class}>{}</p>", spans(s));
    }

    fn banner(&mut self, kind: Banner, text: &str) {
        let class = match kind {
            Banner::Redacted => "ok",
            Banner::NotRedacted => "warn",
            Banner::Note => "note",
        };
        let _ = writeln!(self.0, "<p class=\"banner {class}\">{}</p>", t(text));
    }

    fn table(&mut self, columns: &[Column<'_>], rows: &[Row<'_>], key_value: bool) {
        self.0.push_str(if key_value {
            "<table class=\"kv\">\n"
        } else {
            "<table>\n<tr>"
        });
        if !key_value {
            for c in columns {
                let class = if c.numeric { " class=\"n\"" } else { "" };
                let _ = write!(self.0, "<th{class}>{}</th>", spans(std::slice::from_ref(&c.title)));
            }
            self.0.push_str("</tr>\n");
        }
        for row in rows {
            self.0
                .push_str(if row.failure { "<tr class=\"fail\">" } else { "<tr>" });
            for (i, (cell, column)) in row.cells.iter().zip(columns).enumerate() {
                let tag = if key_value && i == 0 { "th" } else { "td" };
                let zero = matches!(cell.as_slice(), [Span::Text(x)] if x == "0");
                let class = match (column.numeric, zero) {
                    (true, true) => " class=\"n zero\"",
                    (true, false) => " class=\"n\"",
                    _ => "",
                };
                let _ = write!(self.0, "<{tag}{class}>{}</{tag}>", spans(cell));
            }
            self.0.push_str("</tr>\n");
        }
        self.0.push_str("</table>\n");
    }

    fn list(&mut self, items: &[Vec<Span<'_>>]) {
        self.0.push_str("<ul>\n");
        for item in items {
            let _ = writeln!(self.0, "<li>{}</li>", spans(item));
        }
        self.0.push_str("</ul>\n");
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.0, "<pre class=\"line\">{}</pre>", t(text));
    }

    fn block(&mut self, title: Option<&str>, _info: &str, text: &str) {
        let body = markup_safe(text, Layout::Lines);
        let _ = match title {
            Some(title) => writeln!(
                self.0,
                r#"<details open="open"><summary>{}</summary><pre>{body}</pre></details>"#,
                t(title)
            ),
            None => writeln!(self.0, "<pre>{body}</pre>"),
        };
    }

    fn timeline(&mut self, svg: &str) {
        let _ = writeln!(self.0, "<div class=\"timeline\">{svg}</div>");
    }

    fn open(&mut self, frame: Frame, anchor: &str) {
        let _ = match frame {
            Frame::Finding(s) => writeln!(self.0, "<div class=\"finding {}\" id=\"{}\">", s.name(), t(anchor)),
            Frame::Session => writeln!(self.0, "<section class=\"session\" id=\"{}\">", t(anchor)),
        };
    }

    fn close(&mut self, frame: Frame) {
        self.0.push_str(match frame {
            Frame::Finding(_) => "</div>\n",
            Frame::Session => "</section>\n",
        });
    }

    fn end(&mut self, byline: &str) {
        let _ = writeln!(
            self.0,
            "<p class=\"meta end\">{}</p>\n</main>\n</body>\n</html>",
            t(byline)
        );
    }
}

fn css() -> String {
    let mut css = String::from(
        r#"
:root { color-scheme: light; }
body { margin: 0; background: #eef1f4; color: #1f2328; font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 20px 28px 32px; background: #fff; }
h1 { font-size: 22px; margin: 4px 0 2px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d0d7de; }
h3 { font-size: 15px; margin: 0 0 4px; }
h4 { font-size: 13px; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: .04em; color: #57606a; }
p { margin: 6px 0; }
a { color: #0550ae; }
.meta.end { margin-top: 24px; font-size: 12px; }
.banner { padding: 8px 12px; border-radius: 4px; font-weight: 600; }
.banner.ok { background: #dafbe1; border: 1px solid #4ac26b; color: #116329; }
.banner.warn { background: #ffebe9; border: 2px solid #cf222e; color: #82071e; }
.banner.note { background: #fff8c5; border: 1px solid #d4a72c; font-weight: normal; }
table { border-collapse: collapse; margin: 6px 0 10px; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: baseline; overflow-wrap: anywhere; }
th { background: #f6f8fa; font-weight: 600; }
table.kv th { width: 150px; }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.zero { color: #8c959f; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 8px 10px; margin: 4px 0 8px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.line { background: #fff; }
.finding { border: 1px solid #d0d7de; border-left-width: 5px; border-radius: 4px; padding: 8px 12px; margin: 10px 0; }
.finding.error { border-left-color: #cf222e; }
.finding.warning { border-left-color: #bf8700; }
.finding.info { border-left-color: #0969da; }
.finding .explanation { color: #3d444d; background: #f6f8fa; padding: 6px 10px; border-radius: 4px; }
.sev { display: inline-block; min-width: 58px; text-align: center; padding: 1px 6px; border-radius: 3px; color: #fff; font-size: 11px; font-weight: 700; text-transform: uppercase; vertical-align: 1px; }
.sev.error { background: #cf222e; }
.sev.warning { background: #9a6700; }
.sev.info { background: #0969da; }
.rule { color: #57606a; font-weight: normal; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; color: #fff; font-size: 11px; font-weight: 600; white-space: nowrap; }
.session { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; margin: 14px 0; }
.meta { color: #57606a; }
tr.fail td { color: #a40e26; }
.warn-text { color: #a40e26; font-weight: 600; }
details { margin: 4px 0 8px; }
summary { cursor: pointer; font-weight: 600; color: #3d444d; }
.timeline { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 4px; }
.timeline svg { display: block; width: 100%; height: auto; min-width: 640px; }
@media print {
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2, h3, h4 { break-after: avoid; }
  .finding, tr, .banner { break-inside: avoid; }
  .timeline { border: none; }
  .timeline svg { min-width: 0; }
  pre { font-size: 9px; }
  code { font-size: 10px; }
  summary { list-style: none; }
  summary::-webkit-details-marker { display: none; }
}
"#,
    );
    // The outcome colours, the same as the timeline's.
    for o in Outcome::ALL {
        let _ = writeln!(css, ".o-{} {{ background: {}; }}", o.key(), outcome_color(o));
    }
    css
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::terminal::is_unsafe;
    use crate::report::testing::{hostile_capture, xml_elements};
    use crate::report::{ReportOptions, build};

    /// Every element the report writes; a capture string that became markup would add another.
    const ELEMENTS: [&str; 35] = [
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "p", "table", "tr", "th",
        "td", "ul", "li", "div", "span", "a", "section", "details", "summary", "pre", "strong", "code", "br", "svg",
        "g", "rect", "text", "line", "circle", "path",
    ];

    #[test]
    fn capture_strings_stay_text() {
        let capture = hostile_capture();
        let options = ReportOptions {
            findings: true,
            ..Default::default()
        };
        let report = build(&capture, None, &options);
        assert_eq!(report.evidence.len(), 1);
        let html = render(&report);
        let names = xml_elements(&html).unwrap_or_else(|e| panic!("not well-formed: {e}"));
        for n in &names {
            assert!(ELEMENTS.contains(&n.as_str()), "element <{n}> in the report");
        }
        assert_eq!(
            names.iter().filter(|n| *n == "details").count(),
            1,
            "one body, one <details>"
        );
        assert!(
            !html.chars().any(|c| is_unsafe(c, Layout::Lines)),
            "a raw control or bidi character"
        );
        // Shown as sent, controls written out.
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/details&gt;```"),
            "{html}"
        );
        assert!(html.contains("\\x1b]0;owned\\x07\\u{9b}31m\\u{202e}gpj.exe"), "{html}");
        // The body's text too: its XML escaping is escaped again, so it reads as the XML does.
        assert!(
            html.contains("```&amp;lt;/details&amp;gt;&amp;lt;script&amp;gt;"),
            "{html}"
        );
        // Credentials masked; nothing links out or loads.
        assert!(!html.contains("dXNlcjpodW50ZXIy") && html.contains("Basic ••••••••"));
        for link in html.split("href=\"").skip(1) {
            assert!(link.starts_with('#'), "a link out: {}", &link[..40.min(link.len())]);
        }
        assert!(!html.contains("src=") && !html.contains("url("));
    }
}
