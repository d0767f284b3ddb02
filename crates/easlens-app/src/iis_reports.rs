//! The IIS reports view: the Log Parser Studio questions over the IIS logs that are open (every
//! device's lines, computed by the engine in the pass that read them: `Capture::iis_reports`), one
//! report at a time in a sortable table. A click on a row with a device filters the session
//! table to it; "Export CSV…" writes the report shown (both pushed as [`AppCommand`]s).

use eframe::egui;
use std::sync::Arc;

use egui::{Align, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::command::{AppCommand, Commands};
use easlens_core::capture::Capture;
use easlens_core::iis::reports::{REPORTS, Table};

const ROW_HEIGHT: f32 = 20.0;

/// The view's state: the report shown, its rows in the order shown, the sort.
pub struct IisReportsView {
    pub report: &'static str,
    /// The table of `report` for the capture it was made from (by address).
    table: Option<(usize, Arc<Table>)>,
    order: Vec<usize>,
    /// (column, ascending).
    sort: Option<(usize, bool)>,
    selected: Option<usize>,
}

impl Default for IisReportsView {
    fn default() -> Self {
        IisReportsView {
            report: REPORTS[0].0,
            table: None,
            order: Vec::new(),
            sort: None,
            selected: None,
        }
    }
}

impl IisReportsView {
    /// The table shown, made when the capture or the report changed.
    pub fn table(&mut self, capture: &Arc<Capture>) -> Option<Arc<Table>> {
        let reports = capture.iis_reports.as_ref()?;
        let key = Arc::as_ptr(capture) as usize;
        if self
            .table
            .as_ref()
            .is_none_or(|(k, t)| *k != key || t.name != self.report)
        {
            let t = Arc::new(reports.table(self.report)?);
            self.order = (0..t.rows.len()).collect();
            self.sort = None;
            self.selected = None;
            self.table = Some((key, t));
        }
        self.table.as_ref().map(|(_, t)| t.clone())
    }

    /// The rows of the table shown, in the order shown (positions in `Table::rows`).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    fn sort_rows(&mut self, t: &Table) {
        self.order = (0..t.rows.len()).collect();
        if let Some((c, ascending)) = self.sort {
            self.order.sort_by(|&a, &b| {
                let o = t.rows[a][c].compare(&t.rows[b][c]);
                if ascending { o } else { o.reverse() }
            });
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, capture: &Arc<Capture>, out: &mut Commands) {
        if capture.iis_reports.is_none() {
            ui.label(RichText::new("The IIS reports are computed from IIS logs: File ▸ Open IIS logs folder…").weak());
            return;
        }
        ui.horizontal_wrapped(|ui| {
            for &(name, title, description) in REPORTS {
                ui.selectable_value(&mut self.report, name, title)
                    .on_hover_text(format!("{description}\n\neaslens iis-report {name} FILES… --csv"));
            }
        });
        let Some(t) = self.table(capture) else { return };
        // The description wraps: at 1024 px it is longer than the view is wide.
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(t.title).strong());
            ui.label(RichText::new(t.description).weak());
        });
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} row{}",
                t.rows.len(),
                if t.rows.len() == 1 { "" } else { "s" }
            ));
            let device = t.column("Device ID").is_some();
            if device {
                ui.label(RichText::new("Click a row to filter the sessions to its device").weak());
            }
            if ui
                .button("Export CSV…")
                .on_hover_text("Write this report as CSV, as `easlens iis-report NAME … --csv` does")
                .clicked()
            {
                out.push(AppCommand::ExportIisReport(t.name));
            }
        });
        for note in &t.notes {
            ui.label(RichText::new(format!("Note: {note}")).weak());
        }
        if t.rows.is_empty() {
            ui.label(RichText::new("No row: these logs have nothing for this report.").weak());
            return;
        }
        let mut clicked_sort = None;
        let mut clicked_row = None;
        egui::ScrollArea::horizontal().id_salt("iis-report-h").show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt(("iis-report", t.name))
                .striped(true)
                .resizable(true)
                .sense(Sense::click())
                .auto_shrink([false, false])
                .min_scrolled_height(0.0)
                .cell_layout(egui::Layout::left_to_right(Align::Center));
            for c in &t.columns {
                let width = if c.numeric { 80.0 } else { 150.0 };
                table = table.column(Column::initial(width).at_least(40.0).clip(true));
            }
            table
                .header(ROW_HEIGHT + 2.0, |mut header| {
                    for (i, c) in t.columns.iter().enumerate() {
                        header.col(|ui| {
                            let arrow = match self.sort {
                                Some((k, true)) if k == i => " ▲",
                                Some((k, false)) if k == i => " ▼",
                                _ => "",
                            };
                            let b =
                                egui::Button::new(RichText::new(format!("{}{arrow}", c.name)).strong()).frame(false);
                            if ui.add(b).on_hover_text("Click to sort").clicked() {
                                clicked_sort = Some(i);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(ROW_HEIGHT, self.order.len(), |mut row| {
                        let k = self.order[row.index()];
                        row.set_selected(self.selected == Some(k));
                        for (i, cell) in t.rows[k].iter().enumerate() {
                            let numeric = t.columns[i].numeric;
                            row.col(|ui| {
                                ui.style_mut().interaction.selectable_labels = false;
                                let layout = if numeric {
                                    egui::Layout::right_to_left(Align::Center)
                                } else {
                                    egui::Layout::left_to_right(Align::Center)
                                };
                                let text = cell.display();
                                ui.with_layout(layout, |ui| {
                                    let r = ui.add(egui::Label::new(&text).truncate());
                                    if !numeric && text.chars().count() > 20 {
                                        r.on_hover_text(&text);
                                    }
                                });
                            });
                        }
                        if row.response().clicked() {
                            clicked_row = Some(k);
                        }
                    });
                });
        });
        if let Some(c) = clicked_sort {
            self.sort = match self.sort {
                Some((k, ascending)) if k == c => Some((k, !ascending)),
                // Numbers read best largest first, names from A.
                _ => Some((c, !t.columns[c].numeric)),
            };
            self.sort_rows(&t);
        }
        if let Some(k) = clicked_row {
            self.selected = Some(k);
            if let Some(d) = t
                .column("Device ID")
                .map(|c| t.rows[k][c].display())
                .filter(|d| !d.is_empty())
            {
                out.push(AppCommand::SetFilter(format!("device:{}", quoted(&d))));
            }
        }
    }
}

/// A filter value, quoted when it holds a space or a quote.
fn quoted(v: &str) -> String {
    if v.contains([' ', '"', '(', ')']) {
        format!("\"{}\"", v.replace('"', "\\\""))
    } else {
        v.to_string()
    }
}
