//! JSON bodies, indented by the engine (`content::json::pretty`), keys in the order sent.

use eframe::egui;

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, notice, plain_lines};

pub struct Json;

impl ContentView for Json {
    fn name(&self) -> &'static str {
        "JSON"
    }

    fn fits(&self, pane: &Pane) -> bool {
        pane.json.is_some()
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, id: egui::IdSalt, find: &Find) {
        if let Some(lines) = &pane.json {
            notice(ui, "Not WBXML: the body is JSON, shown indented.", None);
            plain_lines(ui, id, lines, find);
        }
    }
}
