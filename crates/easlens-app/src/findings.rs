//! The findings view: what the engine's findings rules (`analysis::findings`) report for the
//! capture, most severe first, with count badges; clicking a finding filters the table to its
//! sessions and selects the first one (pushed as [`AppCommand`]s).

use eframe::egui;

use egui::{Color32, RichText};

use super::command::{AppCommand, Commands, ReportScope};
use super::jobs;
use super::sessions::highlight_color;
use easlens_core::analysis::findings::{Finding, Findings, Severity};
use easlens_core::eas::session::Highlight;
use easlens_core::filter::index_query;

/// Colour and glyph of a severity, readable on both themes.
pub fn severity_style(s: Severity, dark: bool) -> (Color32, &'static str) {
    // Errors and warnings in the table's colours for HTTP errors and throttling.
    match (s, dark) {
        (Severity::Error, _) => (highlight_color(Highlight::Http, dark), "⊘"),
        (Severity::Warning, _) => (highlight_color(Highlight::Throttle, dark), "△"),
        (Severity::Info, true) => (Color32::from_rgb(120, 170, 230), "•"),
        (Severity::Info, false) => (Color32::from_rgb(40, 90, 170), "•"),
    }
}

/// The badges for the view's tab: `⊘ 2 △ 3 • 1`.
pub fn badges(ui: &mut egui::Ui, f: &Findings) {
    let dark = ui.visuals().dark_mode;
    if f.findings.is_empty() {
        ui.label(RichText::new("none").weak())
            .on_hover_text("No known failure pattern in this capture");
        return;
    }
    for (sev, n) in [
        (Severity::Error, f.errors),
        (Severity::Warning, f.warnings),
        (Severity::Info, f.infos),
    ] {
        if n > 0 {
            let (c, g) = severity_style(sev, dark);
            ui.label(RichText::new(format!("{g} {n}")).color(c).strong())
                .on_hover_text(format!("{n} {}", sev.name()));
        }
    }
}

#[derive(Default)]
pub struct FindingsPanel {
    /// The finding last clicked (its position in the list).
    pub selected: Option<usize>,
    /// The finding whose "Report…" button was clicked this frame.
    report: Option<usize>,
    /// The item whose "Item history" link was clicked this frame.
    follow: Option<String>,
}

impl FindingsPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, findings: Option<&Findings>, out: &mut Commands) {
        let Some(findings) = findings else {
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label("Looking for known failure patterns…");
            });
            return;
        };
        if findings.findings.is_empty() {
            ui.add_space(8.0);
            ui.label(
                RichText::new("No known failure pattern in this capture: no throttling, SyncKey resets, policy loops, redirects or authentication failures.")
                    .weak(),
            );
            return;
        }
        let dark = ui.visuals().dark_mode;
        egui::ScrollArea::vertical()
            .id_salt("findings")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for (k, f) in findings.findings.iter().enumerate() {
                    if self.finding_ui(ui, k, f, dark) {
                        // Filter the table to the finding's sessions and select the first.
                        out.push(AppCommand::SetFilter(index_query(&f.sessions)));
                        out.push(AppCommand::SelectSessionNumber(f.sessions[0]));
                    }
                    if let Some(k) = self.report.take() {
                        out.push(AppCommand::ExportReport(ReportScope::Finding(k)));
                    }
                    if let Some(id) = self.follow.take() {
                        out.push(AppCommand::FollowItem(id));
                    }
                }
            });
    }

    /// Draws one finding; true when the user clicked it (a finding with sessions).
    fn finding_ui(&mut self, ui: &mut egui::Ui, k: usize, f: &Finding, dark: bool) -> bool {
        let (color, glyph) = severity_style(f.severity, dark);
        let selected = self.selected == Some(k);
        let mut frame = egui::Frame::group(ui.style());
        if selected {
            frame = frame.stroke(egui::Stroke::new(1.5, color));
        }
        let mut clicked = false;
        frame.show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(format!("{glyph} {}", f.severity.name()))
                        .color(color)
                        .strong(),
                );
                // The title filters too (the card as a whole does not: a click sensed over the
                // whole card would take the clicks of "Why, and what to do").
                let title = ui
                    .add(egui::Label::new(RichText::new(f.title).strong()).sense(egui::Sense::click()))
                    .on_hover_text("Filter the table to these sessions and select the first");
                if title.clicked() && !f.sessions.is_empty() {
                    self.selected = Some(k);
                    clicked = true;
                }
                ui.label(RichText::new(f.rule).monospace().weak());
                let n = f.sessions.len();
                let label = format!("{n} session{}", if n == 1 { "" } else { "s" });
                if !f.sessions.is_empty()
                    && ui
                        .link(label)
                        .on_hover_text("Filter the table to these sessions and select the first")
                        .clicked()
                {
                    self.selected = Some(k);
                    clicked = true;
                }
                if let (Some(a), Some(b)) = (f.first, f.last) {
                    ui.label(RichText::new(format!("{} – {}", a.format("%H:%M:%S"), b.format("%H:%M:%S"))).weak());
                }
                if let Some(item) = &f.item
                    && ui
                        .link(format!("History of {item}"))
                        .on_hover_text("Open the item's history: every Add, Change and Delete of it, in capture order")
                        .clicked()
                {
                    self.selected = Some(k);
                    self.follow = Some(item.clone());
                }
                if ui
                    .small_button("Report…")
                    .on_hover_text("Export an evidence report of this finding and its sessions (HTML or Markdown)")
                    .clicked()
                {
                    self.report = Some(k);
                }
            });
            ui.label(&f.message);
            egui::CollapsingHeader::new(RichText::new("Why, and what to do").weak())
                .id_salt(("finding-why", k))
                .show(ui, |ui| {
                    ui.label(f.explanation);
                });
        });
        clicked
    }
}
