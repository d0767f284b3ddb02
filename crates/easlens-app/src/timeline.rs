//! The timeline: every visible session as a point (x = when it started, y = its command), coloured
//! by outcome with the same colours and names as the session table, SyncKey resets and throttling
//! marked with vertical lines (the sessions the engine's analysis lists, turned into lines once per
//! capture). Zoom with the wheel (Ctrl) and drag; a click selects the session (an [`AppCommand`]).

use eframe::egui;

use chrono::{DateTime, FixedOffset};
use egui::Color32;
use egui_plot::{HoverPosition, Legend, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine};

use super::command::{AppCommand, Commands};
use super::sessions::highlight_color;
use easlens_core::analysis::Analysis;
use easlens_core::capture::{Capture, LabelStyle};
use easlens_core::eas::session::Highlight;
use easlens_core::overview::{commands_by_frequency, timeline_outcome};

/// A vertical marker: session position, colour, legend name.
#[derive(Clone)]
pub struct Marker {
    pub session: u32,
    pub color: Color32,
    pub name: &'static str,
}

/// The precomputed points of the visible sessions (rebuilt when the rows change).
#[derive(Default)]
pub struct Timeline {
    rows_key: Option<(usize, usize, Option<u32>)>,
    base: Option<DateTime<FixedOffset>>,
    lanes: Vec<String>,
    /// (x seconds, lane, session position, outcome)
    points: Vec<(f64, usize, u32, Option<Highlight>)>,
    /// The vertical lines and what they were built for: (SyncKey resets known, dark theme).
    markers: Option<((bool, bool), Vec<Marker>)>,
}

const OUTCOMES: [(Option<Highlight>, &str); 4] = [
    (None, "OK"),
    (Some(Highlight::Status), "failing EAS Status"),
    (Some(Highlight::Throttle), "throttled"),
    (Some(Highlight::Http), "HTTP error"),
];

impl Timeline {
    /// A new capture: its marker lines are built again.
    pub fn clear_markers(&mut self) {
        self.markers = None;
    }

    /// The vertical lines: throttled responses (known as soon as the capture is open) and, once
    /// the analysis is `complete`, SyncKey resets. Built when that or the theme changes.
    pub fn markers(&mut self, analysis: &Analysis, complete: bool, dark: bool) -> &[Marker] {
        let key = (complete, dark);
        if self.markers.as_ref().is_none_or(|(k, _)| *k != key) {
            let throttle = highlight_color(Highlight::Throttle, dark);
            let mut markers: Vec<Marker> = analysis
                .throttled()
                .iter()
                .map(|&i| Marker {
                    session: i,
                    color: throttle,
                    name: "throttled (X-MS-ASThrottle)",
                })
                .collect();
            if complete {
                let reset = highlight_color(Highlight::Http, dark);
                markers.extend(analysis.synckey_resets().iter().map(|&i| Marker {
                    session: i,
                    color: reset,
                    name: "SyncKey reset to 0",
                }));
            }
            self.markers = Some((key, markers));
        }
        self.markers.as_ref().map_or(&[], |(_, m)| m)
    }

    fn rebuild(&mut self, capture: &Capture, rows: &[u32]) {
        let key = (capture.sessions.len(), rows.len(), rows.first().copied());
        if self.rows_key == Some(key) {
            return;
        }
        self.rows_key = Some(key);
        let start = |i: u32| capture.sessions[i as usize].timers.started();
        self.base = rows.iter().filter_map(|&i| start(i)).min();
        // Lanes: commands by how often they occur, the most frequent at the bottom.
        self.lanes = commands_by_frequency(capture, rows);
        self.points.clear();
        let Some(base) = self.base else { return };
        for &i in rows {
            let s = &capture.sessions[i as usize];
            let Some(t) = s.timers.started() else { continue };
            let x = (t - base).num_milliseconds() as f64 / 1000.0;
            let c = s.command_label(LabelStyle::WINDOW);
            let lane = self.lanes.iter().position(|l| *l == c).unwrap_or(0);
            self.points.push((x, lane, i, timeline_outcome(s)));
        }
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
        let Some(base) = self.base else {
            ui.label("The visible sessions have no start times to plot.");
            return;
        };
        let dark = ui.visuals().dark_mode;
        let markers = match analysis {
            Some((a, complete)) => self.markers(a, complete, dark).to_vec(),
            None => Vec::new(),
        };
        let markers = &markers;
        let lanes = self.lanes.clone();
        let ok_color = if dark {
            Color32::from_rgb(120, 170, 230)
        } else {
            Color32::from_rgb(40, 90, 170)
        };
        let x_time = move |x: f64| {
            let t = base + chrono::Duration::milliseconds((x * 1000.0) as i64);
            t.format("%H:%M:%S").to_string()
        };
        let label_lanes = lanes.clone();
        let points = &self.points;
        let response = Plot::new("timeline")
            .legend(Legend::default())
            .allow_scroll(false)
            .y_axis_min_width(90.0)
            .include_y(-0.5)
            .include_y(lanes.len() as f64 - 0.5)
            .x_axis_formatter(move |m, _| x_time(m.value))
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
                Some(format!("{lane}\n{}", (x_time)(p.x)))
            })
            .show(ui, |plot| {
                for (hl, name) in OUTCOMES {
                    let pts: Vec<[f64; 2]> = points.iter().filter(|p| p.3 == hl).map(|p| [p.0, p.1 as f64]).collect();
                    if pts.is_empty() {
                        continue;
                    }
                    let color = hl.map_or(ok_color, |h| highlight_color(h, dark));
                    let shape = match hl {
                        None => MarkerShape::Circle,
                        Some(Highlight::Http) => MarkerShape::Cross,
                        Some(Highlight::Throttle) => MarkerShape::Diamond,
                        Some(Highlight::Status) => MarkerShape::Up,
                    };
                    plot.points(
                        Points::new(name, PlotPoints::new(pts))
                            .color(color)
                            .shape(shape)
                            .filled(true)
                            .radius(if hl.is_some() { 5.0 } else { 3.5 }),
                    );
                }
                for m in markers {
                    if let Some(p) = points.iter().find(|p| p.2 == m.session) {
                        plot.vline(VLine::new(m.name, p.0).color(m.color).style(LineStyle::dashed_loose()));
                    }
                }
                plot.pointer_coordinate()
            });
        // A click selects the nearest session (within 12 points on screen).
        if response.response.clicked()
            && let Some(pos) = response.response.interact_pointer_pos()
        {
            let t = &response.transform;
            let nearest = self
                .points
                .iter()
                .map(|p| {
                    let sp = t.position_from_point(&egui_plot::PlotPoint::new(p.0, p.1 as f64));
                    (sp.distance(pos), p.2)
                })
                .filter(|(d, _)| *d <= 12.0)
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, i)| i);
            if let Some(i) = nearest {
                out.push(AppCommand::SelectSession(i));
            }
        }
    }
}
