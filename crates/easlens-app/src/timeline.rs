//! The timeline: every visible session on its command's lane (x = time), coloured by outcome with
//! the same colours and names as the session table — a bar from start to end when it lasted
//! long enough to show (a hanging Ping), else a point; aborted sessions hollow and grey — and
//! throttling and SyncKey resets marked with vertical lines, or shaded bands with their count
//! where they are denser than the pixels. The values, binned by pixel column so that 100,000
//! sessions stay a few thousand shapes, come from `easlens_core::timeline`. Zoom with the wheel
//! (Ctrl) and drag; a click selects the session (an [`AppCommand`]).

use eframe::egui;
use std::sync::Arc;

use egui::Color32;
use egui_plot::{
    Bar, BarChart, HoverPosition, Legend, LineStyle, MarkerShape, Plot, PlotPoints, Points, Polygon, VLine,
};

use super::command::{AppCommand, Commands};
use super::sessions::highlight_color;
use easlens_core::analysis::Analysis;
use easlens_core::capture::Capture;
use easlens_core::eas::session::Highlight;
use easlens_core::timeline::{Band, Binned, Outcome, TimelineData, bin_markers};

/// Marker lines closer than this (pixels, on average) become bands.
const MARKER_GAP_PX: f64 = 3.0;

/// One kind of marker line: its legend name, colour and where its sessions start (ascending).
#[derive(Clone)]
pub struct MarkerSet {
    pub name: &'static str,
    pub color: Color32,
    pub xs: Vec<f64>,
}

/// What the marker lines were built for: (rows generation, SyncKey resets known, dark theme).
type MarkersKey = (usize, bool, bool);

/// The timeline of the visible sessions (rebuilt when the rows change) and what was drawn last.
#[derive(Default)]
pub struct Timeline {
    rows_key: Option<(usize, usize, Option<u32>)>,
    /// The sessions as spans (see `easlens_core::timeline`).
    pub data: TimelineData,
    /// The marker lines and what they were built for.
    markers: Option<(MarkersKey, Arc<Vec<MarkerSet>>)>,
    /// Bumped when `data` is rebuilt.
    generation: usize,
    /// The binned sessions and the view they were binned for: (x min, x max, columns).
    binned: Option<((u64, u64, usize), Binned)>,
    /// The marker lines or bands drawn last, by marker name.
    pub bands: Vec<(&'static str, Vec<Band>)>,
    /// The legend's entries drawn last, each once, in order.
    pub legend: Vec<&'static str>,
    /// The width the lane labels were given (the widest label's).
    pub label_width: f32,
}

impl Timeline {
    /// A new capture: its marker lines are built again.
    pub fn clear_markers(&mut self) {
        self.markers = None;
    }

    /// The vertical lines: throttled responses (known as soon as the capture is open) and, once
    /// the analysis is `complete`, SyncKey resets. Built when that, the rows or the theme change.
    fn markers(&mut self, analysis: &Analysis, complete: bool, dark: bool) -> Arc<Vec<MarkerSet>> {
        let key = (self.generation, complete, dark);
        if self.markers.as_ref().is_none_or(|(k, _)| *k != key) {
            // Named like the throttled outcome: one legend entry for both.
            let mut sets = vec![MarkerSet {
                name: Outcome::Throttled.label(),
                color: highlight_color(Highlight::Throttle, dark),
                xs: self.data.times_of(analysis.throttled()),
            }];
            if complete {
                let mut resets = analysis.synckey_resets().to_vec();
                resets.sort_unstable();
                sets.push(MarkerSet {
                    name: "SyncKey reset to 0",
                    color: highlight_color(Highlight::Http, dark),
                    xs: self.data.times_of(&resets),
                });
            }
            self.markers = Some((key, Arc::new(sets)));
        }
        self.markers.as_ref().map_or_else(Default::default, |(_, m)| m.clone())
    }

    fn rebuild(&mut self, capture: &Capture, rows: &[u32]) {
        let key = (capture.sessions.len(), rows.len(), rows.first().copied());
        if self.rows_key == Some(key) {
            return;
        }
        self.rows_key = Some(key);
        self.data = TimelineData::build(capture, rows);
        self.generation += 1;
        self.binned = None;
        self.label_width = 0.0;
    }

    /// The sessions binned for the view `x_min..x_max` on `columns` pixels (again only when the
    /// view changed).
    fn binned(&mut self, x_min: f64, x_max: f64, columns: usize) -> &Binned {
        let key = (x_min.to_bits(), x_max.to_bits(), columns);
        if self.binned.as_ref().is_none_or(|(k, _)| *k != key) {
            self.binned = Some((key, self.data.bin(x_min, x_max, columns)));
        }
        &self.binned.as_ref().expect("just binned").1
    }

    /// Draws the timeline of `rows` with the lines of `analysis` (`complete`: all of it computed).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        capture: &Capture,
        rows: &[u32],
        analysis: Option<(&Analysis, bool)>,
        out: &mut Commands,
    ) {
        self.rebuild(capture, rows);
        if self.data.base.is_none() {
            ui.label("The visible sessions have no start times to plot.");
            return;
        }
        let dark = ui.visuals().dark_mode;
        let markers = match analysis {
            Some((a, complete)) => self.markers(a, complete, dark),
            None => Arc::default(),
        };
        // The lane labels get the width of the widest one, never cut.
        if self.label_width == 0.0 {
            let font = egui::TextStyle::Body.resolve(ui.style());
            let painter = ui.painter();
            self.label_width = self
                .data
                .lanes
                .iter()
                .map(|l| painter.layout_no_wrap(l.clone(), font.clone(), Color32::WHITE).size().x)
                .fold(40.0, f32::max)
                + 12.0;
        }
        let lanes = self.data.lanes.clone();
        let label_lanes = lanes.clone();
        let n_lanes = lanes.len();
        let (axis_data, label_data) = (self.axis_clock(), self.axis_clock());
        // Hovering a band says how many lines it stands for (the bands of the last frame).
        let hover_bands: Vec<(&'static str, Band)> = self
            .bands
            .iter()
            .flat_map(|(name, bands)| bands.iter().filter(|b| b.count > 1).map(move |b| (*name, *b)))
            .collect();
        let mut legend: Vec<&'static str> = Vec::new();
        let mut drawn: Vec<(&'static str, Vec<Band>)> = Vec::new();
        let response = Plot::new("timeline")
            .legend(Legend::default())
            .allow_scroll(false)
            .y_axis_min_width(self.label_width)
            .include_x(0.0)
            .include_x(self.data.extent())
            .include_y(-0.5)
            .include_y(n_lanes as f64 - 0.5)
            .x_axis_formatter(move |m, _| axis_data.time_label(m.value, false))
            .y_axis_formatter(move |m, _| {
                let k = m.value.round();
                if (m.value - k).abs() < 1e-6 && k >= 0.0 {
                    lanes.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_formatter(move |h| {
                let p = match h {
                    HoverPosition::NearDataPoint { position, .. } | HoverPosition::Elsewhere { position } => *position,
                };
                let lane = label_lanes
                    .get(p.y.round().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default();
                let mut text = format!("{lane}\n{}", label_data.time_label(p.x, true));
                for (name, b) in &hover_bands {
                    if (b.start..=b.end).contains(&p.x) {
                        text.push_str(&format!("\n{} {name} in this band", b.count));
                    }
                }
                Some(text)
            })
            .show(ui, |plot| {
                let bounds = plot.plot_bounds();
                let (x_min, x_max) = (bounds.min()[0], bounds.max()[0]);
                let columns = plot.transform().frame().width().max(1.0) as usize;
                let px = (x_max - x_min) / columns as f64;
                let binned = self.binned(x_min, x_max, columns).clone();
                // Bars about as thick as a point is wide, whatever the lanes' height.
                let per_lane = plot.transform().dpos_dvalue_y().abs().max(1.0);
                let thickness = (10.0 / per_lane).min(0.35);
                for outcome in Outcome::ALL {
                    let name = outcome.label();
                    let color = outcome_color(outcome, dark);
                    let bars: Vec<Bar> = binned
                        .bars
                        .iter()
                        .filter(|m| m.outcome == outcome)
                        .map(|m| {
                            Bar::new(f64::from(m.lane), (m.end - m.start).max(px))
                                .base_offset(m.start)
                                .width(thickness)
                                .fill(color)
                                .stroke(egui::Stroke::NONE)
                        })
                        .collect();
                    let points: Vec<[f64; 2]> = binned
                        .points
                        .iter()
                        .filter(|m| m.outcome == outcome)
                        .map(|m| [m.start, f64::from(m.lane)])
                        .collect();
                    if bars.is_empty() && points.is_empty() {
                        continue;
                    }
                    legend.push(name);
                    if !bars.is_empty() {
                        plot.bar_chart(BarChart::new(name, bars).horizontal().color(color).allow_hover(false));
                    }
                    if !points.is_empty() {
                        let (shape, filled) = match outcome {
                            Outcome::Ok => (MarkerShape::Circle, true),
                            Outcome::Http => (MarkerShape::Cross, true),
                            Outcome::Throttled => (MarkerShape::Diamond, true),
                            Outcome::Status => (MarkerShape::Up, true),
                            Outcome::Aborted => (MarkerShape::Square, false),
                        };
                        plot.points(
                            Points::new(name, PlotPoints::new(points))
                                .color(color)
                                .shape(shape)
                                .filled(filled)
                                .radius(if outcome == Outcome::Ok { 3.5 } else { 5.0 }),
                        );
                    }
                }
                let (y0, y1) = (-0.5, n_lanes as f64 - 0.5);
                for m in markers.iter() {
                    let bands = bin_markers(&m.xs, x_min, x_max, columns, MARKER_GAP_PX);
                    if bands.is_empty() {
                        continue;
                    }
                    if !legend.contains(&m.name) {
                        legend.push(m.name);
                    }
                    for b in &bands {
                        if b.count == 1 {
                            plot.vline(
                                VLine::new(m.name, b.start)
                                    .color(m.color)
                                    .style(LineStyle::dashed_loose()),
                            );
                        } else {
                            let end = b.end.max(b.start + px);
                            let corners = vec![[b.start, y0], [end, y0], [end, y1], [b.start, y1]];
                            plot.polygon(
                                Polygon::new(m.name, PlotPoints::new(corners))
                                    .fill_color(m.color.gamma_multiply(0.18))
                                    .stroke(egui::Stroke::new(1.0, m.color.gamma_multiply(0.5)))
                                    .allow_hover(false),
                            );
                        }
                    }
                    drawn.push((m.name, bands));
                }
            });
        self.legend = legend;
        self.bands = drawn;
        // A click selects the nearest session on the lane (within 12 points on screen).
        if response.response.clicked()
            && let Some(pos) = response.response.interact_pointer_pos()
        {
            let t = &response.transform;
            let p = t.value_from_position(pos);
            let tolerance = 12.0 / t.dpos_dvalue_x().abs().max(f64::MIN_POSITIVE);
            let lane = p.y.round().max(0.0) as usize;
            if let Some(i) = self.data.nearest(p.x, lane, tolerance) {
                out.push(AppCommand::SelectSession(i));
            }
        }
    }

    /// What the axis and the hover label need to write times (moved into their closures).
    fn axis_clock(&self) -> TimelineData {
        TimelineData {
            base: self.data.base,
            spans_days: self.data.spans_days,
            ..TimelineData::default()
        }
    }
}

/// The colour of an outcome in the theme (the session table's).
fn outcome_color(outcome: Outcome, dark: bool) -> Color32 {
    match outcome {
        Outcome::Ok if dark => Color32::from_rgb(120, 170, 230),
        Outcome::Ok => Color32::from_rgb(40, 90, 170),
        Outcome::Status => highlight_color(Highlight::Status, dark),
        Outcome::Throttled => highlight_color(Highlight::Throttle, dark),
        Outcome::Http => highlight_color(Highlight::Http, dark),
        Outcome::Aborted if dark => Color32::from_gray(165),
        Outcome::Aborted => Color32::from_gray(105),
    }
}
