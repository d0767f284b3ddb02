//! XML sent as text (Autodiscover, EWS, XHTML error pages): indented by the engine
//! (`content::xml::pretty`); an Autodiscover answer's error codes, redirect and URL are explained
//! above it (`content::xml::explain_autodiscover`).

use eframe::egui;
use egui::RichText;

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, plain_lines, verdict_color};
use easlens_core::eas::status::Verdict;

pub struct XmlText;

impl ContentView for XmlText {
    fn name(&self) -> &'static str {
        "XML text"
    }

    fn fits(&self, pane: &Pane) -> bool {
        pane.xml_text.is_some()
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, id: egui::IdSalt, find: &Find) {
        let Some(lines) = &pane.xml_text else { return };
        let dark = ui.visuals().dark_mode;
        if !pane.autodiscover.is_empty() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(RichText::new("Autodiscover").strong());
                for e in &pane.autodiscover {
                    let failure = e.element == "ErrorCode" || (e.element == "Status" && e.value != "1");
                    let text = if e.name.is_empty() {
                        format!("{} {}: {}", e.element, e.value, e.meaning)
                    } else {
                        format!("{} {} — {}: {}", e.element, e.value, e.name, e.meaning)
                    };
                    let text = RichText::new(text);
                    let text = if failure {
                        text.color(verdict_color(Verdict::Failure, dark))
                    } else {
                        text
                    };
                    let r = ui.add(egui::Label::new(text).wrap());
                    if !e.source.is_empty() {
                        r.on_hover_text(format!("[{}]", e.source));
                    }
                }
            });
        }
        plain_lines(ui, id, lines, find);
    }
}
