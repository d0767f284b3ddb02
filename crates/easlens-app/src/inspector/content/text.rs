//! Bodies that are readable text (MIME of a 12.x SendMail, HTML error pages, …), as they are.

use eframe::egui;

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, notice, plain_lines};

pub struct Text;

impl ContentView for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn fits(&self, pane: &Pane) -> bool {
        pane.text.is_some()
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, id: egui::IdSalt, find: &Find) {
        if let Some(lines) = &pane.text {
            notice(ui, "Not WBXML: the body is shown as text.", None);
            plain_lines(ui, id, lines, find);
        }
    }
}
