//! The Compare view: two sessions picked by number ("Left #", "Right #", each with "Use
//! selected"; by default the selected session and the one the engine pairs it with) and their
//! request body, response body and heads side by side, as the engine compared them
//! (`easlens_core::compare`): aligned rows, line numbers, differing lines tinted, a count of the
//! differences, stepping from one difference to the next, and "Only differences".
//!
//! The comparison is made by the `compare` job whenever the sessions (or the reveal toggle) change,
//! and kept until they change again. The two columns scroll vertically together and each
//! horizontally on its own; a line longer than [`LONG_LINE`] bytes is laid out only where it is
//! visible, so a huge one-line body costs no more than a short one.

use std::sync::Arc;

use eframe::egui;
use egui::{Align, Align2, Color32, Layout, RichText, Sense, TextStyle};

use super::jobs::{self, Job, Poll};
use easlens_core::capture::{Capture, LabelStyle};
use easlens_core::compare::{
    CONTEXT_ROWS, Comparison, Part, PartDiff, RowKind, compare, counterpart, only_differences,
};

/// Lines longer than this (bytes) are laid out only around what is visible.
const LONG_LINE: usize = 4096;

/// What a comparison was made of: the capture shown (by address), the two positions, and whether
/// credentials were revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    capture: usize,
    left: usize,
    right: usize,
    reveal: bool,
}

/// A comparison ready to draw: with the widest line (in columns) of each side of each part, so
/// that a frame does not measure every line.
struct Prepared {
    comparison: Comparison,
    /// Per part (in `comparison.parts` order): the widest left and right line.
    widths: Vec<(usize, usize)>,
}

/// The columns a line takes: its characters, or its bytes when it is long (laid out in pieces
/// cut at byte offsets, see [`visible_piece`]).
fn line_columns(line: &str) -> usize {
    if line.len() > LONG_LINE {
        line.len()
    } else {
        line.chars().count()
    }
}

fn prepare(comparison: Comparison) -> Prepared {
    let widest = |t: &easlens_core::compare::Text| (0..t.len()).map(|i| line_columns(t.line(i))).max().unwrap_or(0);
    let widths = comparison
        .parts
        .iter()
        .map(|p| (widest(&p.left), widest(&p.right)))
        .collect();
    Prepared { comparison, widths }
}

/// A scroll both columns make on the next frame.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ScrollTo {
    /// This many points from the top.
    Offset(f32),
    /// The difference stepped to ([`ComparePanel::cursor`]), or the top.
    Cursor,
}

/// State of the Compare view.
#[derive(Default)]
pub struct ComparePanel {
    /// The sessions compared: positions in `Capture::sessions`.
    pub left: Option<usize>,
    pub right: Option<usize>,
    /// The part shown.
    pub part: Option<Part>,
    /// Show only differing rows, with [`CONTEXT_ROWS`] around them.
    pub only_differences: bool,
    /// The last comparison made (or why it could not be).
    shown: Option<(Key, Result<Arc<Prepared>, String>)>,
    job: Option<(Key, Job<Result<Prepared, String>>)>,
    /// The rows "Only differences" shows of the part shown (display row → row; `None`: a gap).
    filtered: Option<(Part, Vec<Option<usize>>)>,
    /// The difference stepped to last: its block in the part shown.
    cursor: Option<usize>,
    /// Where both columns scroll to on the next frame.
    scroll_to: Option<ScrollTo>,
    /// The columns' vertical offset last frame.
    offset_y: f32,
}

impl ComparePanel {
    /// Another capture (or its redacted copy) is shown: the picks and the comparison go.
    pub fn clear(&mut self) {
        *self = ComparePanel {
            only_differences: self.only_differences,
            ..ComparePanel::default()
        };
    }

    /// Compares the sessions at positions `left` and `right` (`AppCommand::Compare`).
    pub fn set(&mut self, left: usize, right: usize) {
        self.left = Some(left);
        self.right = Some(right);
    }

    /// The comparison shown, once made for the sessions picked.
    pub fn comparison(&self) -> Option<&Comparison> {
        let (key, Ok(prepared)) = self.shown.as_ref()? else {
            return None;
        };
        (Some(key.left) == self.left && Some(key.right) == self.right).then_some(&prepared.comparison)
    }

    /// True while the `compare` job runs.
    pub fn is_comparing(&self) -> bool {
        self.job.is_some()
    }

    /// Draws the view: `selected` is the table's selected session (a position), `reveal` the
    /// inspector's "Reveal credentials".
    pub fn ui(&mut self, ui: &mut egui::Ui, capture: &Arc<Capture>, selected: Option<usize>, reveal: bool) {
        if self.left.is_none() {
            self.left = selected;
        }
        if self.right.is_none() {
            self.right = self
                .left
                .map(|l| counterpart(capture, l).or(l.checked_sub(1)).unwrap_or(l));
        }
        self.pickers(ui, capture, selected);
        let (Some(left), Some(right)) = (self.left, self.right) else {
            ui.label(
                RichText::new("Select a session in the table, or right-click one: “Compare with selected session”.")
                    .weak(),
            );
            return;
        };
        let key = Key {
            capture: Arc::as_ptr(capture) as usize,
            left,
            right,
            reveal,
        };
        self.poll(ui.ctx(), capture, key);
        let prepared = match self.shown.as_ref().filter(|(k, _)| *k == key) {
            Some((_, Ok(p))) => p.clone(),
            Some((_, Err(e))) => {
                ui.label(RichText::new(format!("Cannot compare: {e}")).color(ui.visuals().error_fg_color));
                return;
            }
            None => {
                ui.horizontal(|ui| {
                    jobs::spinner(ui);
                    ui.label("Comparing…");
                });
                return;
            }
        };
        let comparison = &prepared.comparison;
        let part = self.part.unwrap_or(Part::Request);
        self.toolbar(ui, comparison, part);
        let Some(k) = comparison.parts.iter().position(|p| p.part == part) else {
            return;
        };
        self.side_by_side(ui, capture, &comparison.parts[k], prepared.widths[k]);
    }

    /// Starts the job for `key` unless it is shown or being made, and takes its result.
    fn poll(&mut self, ctx: &egui::Context, capture: &Arc<Capture>, key: Key) {
        let shown = self.shown.as_ref().is_some_and(|(k, _)| *k == key);
        let running = self.job.as_ref().is_some_and(|(k, _)| *k == key);
        if !shown && !running {
            let c = capture.clone();
            let job = Job::start("compare", ctx, move |_| {
                compare(&c, key.left, key.right, key.reveal)
                    .map(prepare)
                    .map_err(|e| e.to_string())
            });
            self.job = Some((key, job));
        }
        let Some((k, job)) = &mut self.job else { return };
        let k = *k;
        match job.poll() {
            Poll::Pending => {}
            Poll::Ready(Ok(prepared)) => {
                self.job = None;
                self.arrived(k, prepared);
            }
            // Kept for the key, so that the job is not started again every frame.
            Poll::Ready(Err(e)) => {
                self.job = None;
                self.shown = Some((k, Err(e)));
            }
            Poll::Lost => {
                self.job = None;
                self.shown = Some((k, Err("the comparison failed".into())));
            }
        }
    }

    /// A new comparison: shown from its top, on the part picked, or on the first part that
    /// differs when the one picked does not.
    fn arrived(&mut self, key: Key, prepared: Prepared) {
        let differs = |p: Part| prepared.comparison.part(p).is_some_and(|d| d.diff.differences > 0);
        let part = self.part.unwrap_or(Part::Request);
        if !differs(part)
            && let Some(first) = Part::ALL.into_iter().find(|&p| differs(p))
        {
            self.part = Some(first);
        }
        self.shown = Some((key, Ok(Arc::new(prepared))));
        self.filtered = None;
        self.cursor = None;
        self.scroll_to = Some(ScrollTo::Offset(0.0));
    }

    /// The two session fields, each with "Use selected".
    fn pickers(&mut self, ui: &mut egui::Ui, capture: &Capture, selected: Option<usize>) {
        let numbers = capture.sessions.iter().map(|s| s.index);
        let (min, max) = (numbers.clone().min().unwrap_or(0), numbers.max().unwrap_or(0));
        ui.horizontal(|ui| {
            for (name, left) in [("Left #", true), ("Right #", false)] {
                let pick = if left { self.left } else { self.right };
                let label = ui.label(RichText::new(name).strong());
                let mut n = pick.and_then(|p| capture.sessions.get(p)).map_or(min, |s| s.index);
                let r = ui
                    .add(egui::DragValue::new(&mut n).range(min..=max).speed(0.2))
                    .labelled_by(label.id)
                    .on_hover_text("The session's number in the table (#)");
                if r.changed()
                    && let Some(p) = capture.sessions.iter().position(|s| s.index == n)
                {
                    *(if left { &mut self.left } else { &mut self.right }) = Some(p);
                }
                if let Some(s) = pick.and_then(|p| capture.sessions.get(p)) {
                    ui.label(RichText::new(s.command_label(LabelStyle::WINDOW)).weak());
                }
                if ui
                    .add_enabled(selected.is_some(), egui::Button::new("Use selected"))
                    .on_hover_text(format!(
                        "Put the session selected in the table on the {}",
                        if left { "left" } else { "right" }
                    ))
                    .on_disabled_hover_text("No session is selected in the table")
                    .clicked()
                {
                    *(if left { &mut self.left } else { &mut self.right }) = selected;
                }
                ui.add_space(12.0);
            }
        });
    }

    /// The parts with their counts, the summary, stepping through differences, "Only differences".
    fn toolbar(&mut self, ui: &mut egui::Ui, comparison: &Comparison, part: Part) {
        ui.horizontal_wrapped(|ui| {
            for p in &comparison.parts {
                let text = format!("{} ({})", p.part.name(), p.diff.differences);
                let r = ui
                    .selectable_label(p.part == part, RichText::new(text).strong())
                    .on_hover_text(format!("{} differing lines in the {}", p.diff.differences, p.part.name().to_lowercase()));
                if r.clicked() && p.part != part {
                    self.show_part(p.part, None);
                }
            }
            ui.separator();
            let n = comparison.differences();
            let places: usize = comparison.parts.iter().map(|p| p.diff.blocks.len()).sum();
            ui.label(RichText::new(format!("{n} difference{}", if n == 1 { "" } else { "s" })).strong())
                .on_hover_text(format!("{n} differing lines in {places} places (request, response and headers)"));
            let target_next = self.step(comparison, part, true);
            let target_prev = self.step(comparison, part, false);
            if ui
                .add_enabled(target_prev.is_some(), egui::Button::new("▲ Previous difference"))
                .clicked()
                && let Some((p, b)) = target_prev
            {
                self.show_part(p, Some(b));
            }
            if ui
                .add_enabled(target_next.is_some(), egui::Button::new("▼ Next difference"))
                .clicked()
                && let Some((p, b)) = target_next
            {
                self.show_part(p, Some(b));
            }
            if ui
                .checkbox(&mut self.only_differences, "Only differences")
                .on_hover_text(format!("Show the differing lines with {CONTEXT_ROWS} lines around them"))
                .changed()
            {
                let cursor = self.cursor;
                self.show_part(part, cursor);
            }
            if comparison.parts.iter().any(|p| p.diff.approximate) {
                ui.label(RichText::new("△ approximate").color(ui.visuals().warn_fg_color))
                    .on_hover_text("The texts are so large that the diff stopped looking for the smallest one: every line is shown, some may be marked changed that are not");
            }
        });
    }

    /// The next (or previous) difference from the one stepped to last: (part, block), going on
    /// into the following (or preceding) parts.
    fn step(&self, comparison: &Comparison, part: Part, forward: bool) -> Option<(Part, usize)> {
        let blocks = |p: Part| comparison.part(p).map_or(0, |d| d.diff.blocks.len());
        let here = Part::ALL.iter().position(|&p| p == part)?;
        if forward {
            let next = self.cursor.map_or(0, |c| c + 1);
            if next < blocks(part) {
                return Some((part, next));
            }
            Part::ALL[here + 1..].iter().find(|&&p| blocks(p) > 0).map(|&p| (p, 0))
        } else {
            if let Some(c) = self.cursor.filter(|&c| c > 0) {
                return Some((part, c - 1));
            }
            Part::ALL[..here]
                .iter()
                .rev()
                .find(|&&p| blocks(p) > 0)
                .map(|&p| (p, blocks(p) - 1))
        }
    }

    /// Shows `part`, scrolled to its difference `block` (else to its top).
    fn show_part(&mut self, part: Part, block: Option<usize>) {
        if self.part != Some(part) {
            self.filtered = None;
        }
        self.part = Some(part);
        self.cursor = block;
        // The row is found when the part is drawn (it needs the rows and the row height).
        self.scroll_to = Some(ScrollTo::Cursor);
    }

    /// The two columns of `part`: a header each, then the rows, scrolled together.
    fn side_by_side(&mut self, ui: &mut egui::Ui, capture: &Capture, part: &PartDiff, widths: (usize, usize)) {
        if self.only_differences && self.filtered.as_ref().is_none_or(|(p, _)| *p != part.part) {
            self.filtered = Some((part.part, only_differences(&part.diff.rows, CONTEXT_ROWS)));
        }
        let shown: Option<&[Option<usize>]> = if self.only_differences {
            self.filtered.as_ref().map(|(_, f)| f.as_slice())
        } else {
            None
        };
        let count = shown.map_or(part.diff.rows.len(), <[_]>::len);
        let font = TextStyle::Monospace.resolve(ui.style());
        let row_h = ui.text_style_height(&TextStyle::Monospace);
        let gap = ui.spacing().item_spacing.y;
        let pitch = row_h + gap;
        let char_w = ui.ctx().fonts_mut(|f| f.glyph_width(&font, '0')).max(1.0);
        let digits = part.left.len().max(part.right.len()).max(1).to_string().len();
        let gutter = (digits as f32 + 1.5) * char_w;

        // Where a requested scroll lands: the block stepped to, two rows of context above it.
        let scroll_to = self.scroll_to.take().map(|s| match s {
            ScrollTo::Offset(y) => y,
            ScrollTo::Cursor => {
                let row = self.cursor.and_then(|b| part.diff.blocks.get(b)).copied();
                let display = match (row, shown) {
                    (Some(r), Some(s)) => s.iter().position(|&x| x == Some(r)).unwrap_or(0),
                    (Some(r), None) => r,
                    (None, _) => 0,
                };
                (display.saturating_sub(CONTEXT_ROWS) as f32) * pitch
            }
        });
        let dark = ui.visuals().dark_mode;
        let sessions = [self.left, self.right];
        let mut offsets = [0.0f32; 2];
        ui.columns(2, |cols| {
            for (side, ui) in cols.iter_mut().enumerate() {
                let (text, width) = if side == 0 {
                    (&part.left, widths.0)
                } else {
                    (&part.right, widths.1)
                };
                ui.horizontal(|ui| {
                    if let Some(s) = sessions[side].and_then(|p| capture.sessions.get(p)) {
                        let time = s.timers.started().map(|t| t.format("%H:%M:%S%.3f").to_string());
                        let http = s.http_status().map_or("no response".into(), |c| format!("HTTP {c}"));
                        let head = format!(
                            "#{}  {}  {http}  {}",
                            s.index,
                            s.command_label(LabelStyle::WINDOW),
                            time.unwrap_or_default()
                        );
                        ui.add(egui::Label::new(RichText::new(head).strong()).truncate());
                    }
                    if let Some(note) = &text.note {
                        ui.add(egui::Label::new(RichText::new(note).italics().weak()).truncate());
                    }
                });
                let content_w = gutter + (width as f32 + 2.0) * char_w;
                let mut area = egui::ScrollArea::both()
                    .id_salt(("compare-column", side))
                    .auto_shrink([false, false]);
                if let Some(y) = scroll_to {
                    area = area.vertical_scroll_offset(y);
                }
                let output = area.show_rows(ui, row_h, count, |ui, range| {
                    let clip = ui.clip_rect();
                    let width = content_w.max(ui.available_width());
                    ui.set_min_width(width);
                    for d in range {
                        let row = match shown {
                            Some(s) => s[d].map(|r| part.diff.rows[r]),
                            None => Some(part.diff.rows[d]),
                        };
                        let Some(row) = row else {
                            // Rows left out by "Only differences".
                            ui.allocate_ui_with_layout(
                                egui::vec2(width, row_h),
                                Layout::left_to_right(Align::Center),
                                |ui| {
                                    ui.add_space(gutter);
                                    ui.label(RichText::new("…").monospace().weak());
                                },
                            );
                            continue;
                        };
                        let line = if side == 0 { row.left } else { row.right };
                        let tint = tint(row.kind, side == 0, line.is_some(), dark);
                        ui.allocate_ui_with_layout(
                            egui::vec2(width, row_h),
                            Layout::left_to_right(Align::Center),
                            |ui| {
                                ui.spacing_mut().item_spacing.x = 0.0;
                                let (rect, _) = ui.allocate_exact_size(egui::vec2(gutter, row_h), Sense::hover());
                                // The tint covers the spacing between rows too: a run of lines is one block.
                                let full = rect.with_max_x(rect.left() + width).expand2(egui::vec2(0.0, gap / 2.0));
                                if let Some(c) = tint {
                                    ui.painter().rect_filled(full, 0.0, c);
                                }
                                let Some(l) = line else { return };
                                ui.painter().text(
                                    rect.right_center() - egui::vec2(char_w, 0.0),
                                    Align2::RIGHT_CENTER,
                                    (l + 1).to_string(),
                                    font.clone(),
                                    ui.visuals().weak_text_color(),
                                );
                                let (skip, piece) = visible_piece(text.line(l), rect.right(), clip, char_w);
                                ui.add_space(skip as f32 * char_w);
                                ui.add(egui::Label::new(RichText::new(piece).monospace()).extend());
                            },
                        );
                    }
                });
                offsets[side] = output.state.clamped_offset().y;
            }
        });
        // One column scrolled: the other follows on the next frame.
        if let Some(y) = scroll_to {
            self.offset_y = y;
        } else if let Some(y) = offsets.into_iter().find(|y| (y - self.offset_y).abs() > 0.5) {
            self.offset_y = y;
            self.scroll_to = Some(ScrollTo::Offset(y));
            ui.ctx().request_repaint();
        }
    }
}

/// The part of `line` to lay out, and the columns before it: the whole line unless it is longer
/// than [`LONG_LINE`], then the columns `clip` shows (text starting at `x`), cut at character
/// boundaries of the byte offsets.
fn visible_piece(line: &str, x: f32, clip: egui::Rect, char_w: f32) -> (usize, &str) {
    if line.len() <= LONG_LINE {
        return (0, line);
    }
    let first = (((clip.left() - x) / char_w).floor().max(0.0) as usize).saturating_sub(8);
    let shown = (clip.width() / char_w).ceil() as usize + 16;
    let floor = |mut i: usize| {
        i = i.min(line.len());
        while !line.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (start, end) = (floor(first), floor(first + shown));
    (start, &line[start..end])
}

/// The background of a row's cell: removed lines red on the left, added green on the right,
/// changed yellow on both; the side without the line a faint grey. Readable on both themes.
fn tint(kind: RowKind, left: bool, has_line: bool, dark: bool) -> Option<Color32> {
    let a = if dark { 56 } else { 96 };
    let (r, g, b) = match kind {
        RowKind::Same => return None,
        _ if !has_line => return Some(Color32::from_rgba_unmultiplied(128, 128, 128, a / 2)),
        RowKind::Changed => (230, 190, 40),
        RowKind::Removed if left => (230, 70, 70),
        RowKind::Added if !left => (60, 180, 80),
        // A removed line on the right or an added one on the left has no line (above).
        _ => return None,
    };
    Some(Color32::from_rgba_unmultiplied(r, g, b, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_laid_out_only_where_it_is_visible() {
        let line = "x".repeat(LONG_LINE * 10);
        let clip = egui::Rect::from_min_size(egui::pos2(1000.0, 0.0), egui::vec2(400.0, 300.0));
        let (skip, piece) = visible_piece(&line, 0.0, clip, 10.0);
        // Columns 100 to 140 are visible: laid out from 8 before to 16 after.
        assert_eq!(skip, 92);
        assert_eq!(piece.len(), 40 + 16);
        // Cut at character boundaries; a short line is whole.
        let wide = "é".repeat(LONG_LINE);
        let (skip, piece) = visible_piece(&wide, 0.0, clip, 10.0);
        assert_eq!(skip % 2, 0);
        assert!(!piece.is_empty());
        assert_eq!(visible_piece("short", 0.0, clip, 10.0), (0, "short"));
    }

    #[test]
    fn only_differing_rows_are_tinted_and_each_kind_on_its_side() {
        for dark in [true, false] {
            assert_eq!(tint(RowKind::Same, true, true, dark), None);
            let changed = tint(RowKind::Changed, true, true, dark);
            assert!(changed.is_some() && changed == tint(RowKind::Changed, false, true, dark));
            let removed = tint(RowKind::Removed, true, true, dark).unwrap();
            let added = tint(RowKind::Added, false, true, dark).unwrap();
            assert!(removed.r() > removed.g() && added.g() > added.r());
            assert_ne!(tint(RowKind::Removed, false, false, dark), Some(removed));
        }
    }
}
