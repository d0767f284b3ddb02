//! Text widgets of the inspector: the XML colouring (one line at a time, from the renderer's
//! parts), the virtualized line
//! view, Status colours and the framed notices.

use eframe::egui;

use egui::text::{ByteIndex, LayoutJob};
use egui::{Color32, FontId, RichText, TextFormat, TextStyle, TextWrapMode};

use super::pane::Lines;
use easlens_core::eas::session::StatusEntry;
use easlens_core::eas::status::{Level, Verdict};
use easlens_core::wbxml::render::{StyledXml, XmlPart};
use std::ops::Range;

pub struct Palette {
    pub punct: Color32,
    pub name: Color32,
    pub attr: Color32,
    pub value: Color32,
    pub text: Color32,
}

impl Palette {
    pub fn new(dark: bool) -> Palette {
        if dark {
            Palette {
                punct: Color32::from_gray(140),
                name: Color32::from_rgb(110, 170, 255),
                attr: Color32::from_rgb(150, 210, 230),
                value: Color32::from_rgb(230, 170, 110),
                text: Color32::from_gray(225),
            }
        } else {
            Palette {
                punct: Color32::from_gray(110),
                name: Color32::from_rgb(20, 80, 180),
                attr: Color32::from_rgb(20, 120, 140),
                value: Color32::from_rgb(160, 70, 0),
                text: Color32::from_gray(20),
            }
        }
    }
}

/// Colours `range` (one line) of the rendered XML from what the renderer said each piece is.
pub fn xml_job(styled: &StyledXml, range: Range<usize>, p: &Palette, font: &FontId) -> LayoutJob {
    let mut job = LayoutJob::default();
    for (r, part) in styled.spans_in(range) {
        let color = match part {
            XmlPart::Punct => p.punct,
            XmlPart::Name => p.name,
            XmlPart::Attr => p.attr,
            XmlPart::Value => p.value,
            XmlPart::Text => p.text,
        };
        job.append(&styled.text[r], 0.0, TextFormat::simple(font.clone(), color));
    }
    job
}

pub fn verdict_color(v: Verdict, dark: bool) -> Color32 {
    match (v, dark) {
        (Verdict::Failure, true) => Color32::from_rgb(255, 120, 110),
        (Verdict::Failure, false) => Color32::from_rgb(190, 30, 30),
        (Verdict::Success, true) => Color32::from_rgb(120, 210, 120),
        (Verdict::Success, false) => Color32::from_rgb(20, 130, 40),
        (Verdict::Info, true) => Color32::from_rgb(130, 170, 230),
        (Verdict::Info, false) => Color32::from_rgb(40, 90, 170),
        (Verdict::Unknown, _) => Color32::GRAY,
    }
}

pub fn status_text(e: &StatusEntry) -> String {
    let verdict = match e.verdict {
        Verdict::Failure => "failure",
        Verdict::Success => "success",
        Verdict::Info => "informational",
        Verdict::Unknown => "unknown value",
    };
    let verdict = match e.level {
        Level::Command => verdict.to_string(),
        Level::Item => format!("{verdict}, for this item only"),
    };
    match (e.name, e.meaning) {
        (Some(n), Some(m)) => format!("{} {n} ({verdict}): {m}", e.raw),
        (Some(n), None) => format!("{} {n} ({verdict})", e.raw),
        _ => format!("{} ({verdict}; no meaning known for this command)", e.raw),
    }
}

/// Search within a body: the lower-cased needle, the line of the current match, and a line to
/// scroll to once.
#[derive(Debug, Default, Clone)]
pub struct Find {
    pub needle: String,
    pub current: Option<usize>,
    pub scroll_to: Option<usize>,
    /// The lines wrap at the pane's width (the inspector's "Wrap lines").
    pub wrap: bool,
}

/// Bodies longer than this many lines are not wrapped: wrapped lines have heights of their own,
/// so every line would be laid out every frame.
pub const WRAP_AT_MOST_LINES: usize = 5_000;

/// Shows `n` lines, only the visible ones laid out: `line(i)` gives line `i`'s text and an
/// optional hover text. Matches of `find` are highlighted; `find.scroll_to` is scrolled into view.
pub fn virtual_lines(
    ui: &mut egui::Ui,
    id: egui::IdSalt,
    n: usize,
    find: &Find,
    mut line: impl FnMut(usize) -> (LayoutJob, Option<String>),
) {
    if find.wrap && n <= WRAP_AT_MOST_LINES {
        wrapped_lines(ui, id, n, find, line);
        return;
    }
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    // Rows are placed without spacing, and show_rows must count them so: a row pitch that
    // differed from the one the offset below assumes put a match deep in a body off screen.
    let spacing = ui.spacing().item_spacing.y;
    ui.spacing_mut().item_spacing.y = 0.0;
    let mut area = egui::ScrollArea::both().id_salt(id).auto_shrink([false, false]);
    if let Some(target) = find.scroll_to.filter(|t| *t < n) {
        // A few lines of context above the match, and the match itself in view sideways.
        area = area.vertical_scroll_offset((target.saturating_sub(3)) as f32 * row_height);
        let (job, _) = line(target);
        let lower = job.text.to_ascii_lowercase();
        let at = if find.needle.is_empty() {
            None
        } else {
            lower.find(&find.needle)
        };
        let x = at.map_or(0.0, |at| {
            let font = TextStyle::Monospace.resolve(ui.style());
            ui.painter()
                .layout_no_wrap(job.text[..at].to_string(), font, Color32::WHITE)
                .size()
                .x
        });
        area = area.horizontal_scroll_offset((x - 80.0).max(0.0));
    }
    let dark = ui.visuals().dark_mode;
    area.show_rows(ui, row_height, n, |ui, range| {
        for i in range {
            let (mut job, hover) = line(i);
            if !find.needle.is_empty() {
                highlight(&mut job, &find.needle, find.current == Some(i), dark);
            }
            let r = mono_label(ui, job);
            if let Some(h) = hover {
                r.on_hover_text(h);
            }
        }
    });
    ui.spacing_mut().item_spacing.y = spacing;
}

/// [`virtual_lines`] wrapped at the pane's width: every line laid out, the current match
/// scrolled to.
fn wrapped_lines(
    ui: &mut egui::Ui,
    id: egui::IdSalt,
    n: usize,
    find: &Find,
    mut line: impl FnMut(usize) -> (LayoutJob, Option<String>),
) {
    let dark = ui.visuals().dark_mode;
    egui::ScrollArea::vertical()
        .id_salt((id, "wrapped"))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing.y = 0.0;
            for i in 0..n {
                let (mut job, hover) = line(i);
                if !find.needle.is_empty() {
                    highlight(&mut job, &find.needle, find.current == Some(i), dark);
                }
                job.wrap.max_width = ui.available_width();
                let r = ui.add(egui::Label::new(job).wrap_mode(TextWrapMode::Wrap));
                if find.scroll_to == Some(i) {
                    r.scroll_to_me(Some(egui::Align::Center));
                }
                if let Some(h) = hover {
                    r.on_hover_text(h);
                }
            }
        });
}

/// Gives the (ASCII case-insensitive) occurrences of `needle` in `job` a background colour.
pub fn highlight(job: &mut LayoutJob, needle: &str, current: bool, dark: bool) {
    let hay = job.text.to_ascii_lowercase();
    let hits: Vec<(usize, usize)> = hay.match_indices(needle).map(|(a, m)| (a, a + m.len())).collect();
    if hits.is_empty() {
        return;
    }
    let bg = match (current, dark) {
        (true, true) => Color32::from_rgb(150, 100, 0),
        (true, false) => Color32::from_rgb(255, 170, 40),
        (false, true) => Color32::from_rgb(80, 70, 20),
        (false, false) => Color32::from_rgb(255, 235, 140),
    };
    let mut sections = Vec::with_capacity(job.sections.len() + 2 * hits.len());
    for sec in job.sections.drain(..) {
        let (start, end) = (sec.byte_range.start.0, sec.byte_range.end.0);
        // Cut points inside this section: match starts and ends.
        let mut cuts = vec![start];
        for &(a, b) in &hits {
            for c in [a, b] {
                if c > start && c < end {
                    cuts.push(c);
                }
            }
        }
        cuts.push(end);
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let mut format = sec.format.clone();
            if hits.iter().any(|&(a, b)| w[0] >= a && w[1] <= b) {
                format.background = bg;
            }
            sections.push(egui::text::LayoutSection {
                leading_space: if w[0] == start { sec.leading_space } else { 0.0 },
                byte_range: ByteIndex(w[0])..ByteIndex(w[1]),
                format,
            });
        }
    }
    job.sections = sections;
}

pub fn mono_label(ui: &mut egui::Ui, job: LayoutJob) -> egui::Response {
    ui.add(egui::Label::new(job).wrap_mode(TextWrapMode::Extend))
}

pub fn plain_lines(ui: &mut egui::Ui, id: egui::IdSalt, lines: &Lines, find: &Find) {
    let font = TextStyle::Monospace.resolve(ui.style());
    let color = ui.visuals().text_color();
    virtual_lines(ui, id, lines.lines.len(), find, |i| {
        let mut job = LayoutJob::default();
        job.append(lines.line(i), 0.0, TextFormat::simple(font.clone(), color));
        (job, None)
    });
}

/// A notice in a frame: what the pane shows and why.
pub fn notice(ui: &mut egui::Ui, text: impl Into<String>, color: Option<Color32>) {
    let text = text.into();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        match color {
            Some(c) => ui.label(RichText::new(text).color(c)),
            None => ui.label(text),
        };
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_splits_sections_at_the_matches() {
        let font = FontId::monospace(12.0);
        let mut job = LayoutJob::default();
        job.append("<Status>", 0.0, TextFormat::simple(font.clone(), Color32::RED));
        job.append("3</Status>", 0.0, TextFormat::simple(font, Color32::BLUE));
        highlight(&mut job, "status", false, true);
        let marked: Vec<&str> = job
            .sections
            .iter()
            .filter(|s| s.format.background != Color32::TRANSPARENT)
            .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
            .collect();
        assert_eq!(marked, ["Status", "Status"]);
        let all: String = job
            .sections
            .iter()
            .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
            .collect();
        assert_eq!(all, "<Status>3</Status>");
    }
}
