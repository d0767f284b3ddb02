//! Image bodies: their format and size in pixels (`content::image::describe`), and where to read
//! their bytes (the Hex tab).

use eframe::egui;

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, notice};
use crate::sessions::format_size;

pub struct Image;

impl ContentView for Image {
    fn name(&self) -> &'static str {
        "image"
    }

    fn fits(&self, pane: &Pane) -> bool {
        pane.image.is_some()
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, _: egui::IdSalt, _: &Find) {
        let Some(i) = &pane.image else { return };
        let size = pane.decoded_len();
        notice(
            ui,
            format!(
                "{} image, {} × {} px, {} — see the Hex tab for its bytes.",
                i.format,
                i.width,
                i.height,
                format_size(size)
            ),
            None,
        );
    }
}
