//! Any other body: its size, and where to read its bytes (the Hex tab).

use eframe::egui;

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, notice};
use crate::sessions::format_size;

pub struct Binary;

impl ContentView for Binary {
    fn name(&self) -> &'static str {
        "binary"
    }

    fn fits(&self, _: &Pane) -> bool {
        true
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, _: egui::IdSalt, _: &Find) {
        let size = pane.decoded_len();
        notice(
            ui,
            format!("Not WBXML: {} of binary data — see the Hex tab.", format_size(size)),
            None,
        );
    }
}
