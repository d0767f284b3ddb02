//! The content views of a body: how the body tab ("Body") shows what a body holds. Each view is a
//! file with a name, a test of whether it can show a pane's body and how it draws it; the tab
//! shows the first view in [`VIEWS`] that fits. Adding a view (say, images) is adding a file and
//! a line to [`VIEWS`]. What the views draw was prepared by the engine (`Capture::body_view`)
//! and [`Pane::load`](super::pane::Pane::load).

mod binary;
mod image;
mod json;
mod text;
mod xml;
mod xml_text;

use eframe::egui;

use super::pane::Pane;
use super::view::Find;

/// One way of showing a body.
pub trait ContentView: Sync {
    /// What the view is called (in the tab's hover text and in tests).
    fn name(&self) -> &'static str;
    /// Whether this view can show the pane's body, which has bytes and was read.
    fn fits(&self, pane: &Pane) -> bool;
    /// Draws the body.
    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, id: egui::IdSalt, find: &Find);
}

/// Every view, most specific first; the last one fits every body.
pub static VIEWS: [&dyn ContentView; 6] = [
    &xml::Xml,
    &xml_text::XmlText,
    &json::Json,
    &text::Text,
    &image::Image,
    &binary::Binary,
];

/// The view the body tab uses for `pane`.
pub fn view_for(pane: &Pane) -> &'static dyn ContentView {
    VIEWS
        .iter()
        .copied()
        .find(|v| v.fits(pane))
        .unwrap_or(VIEWS[VIEWS.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspector::pane::Lines;
    use easlens_core::http::Side;

    #[test]
    fn each_body_gets_the_most_specific_view_that_fits() {
        let names: Vec<&str> = VIEWS.iter().map(|v| v.name()).collect();
        assert_eq!(names, ["XML", "XML text", "JSON", "text", "image", "binary"]);
        let mut pane = Pane::empty(Side::Response);
        assert_eq!(view_for(&pane).name(), "binary");
        pane.text = Some(Lines::new("hello".into()));
        assert_eq!(view_for(&pane).name(), "text");
        pane.json = Some(Lines::new("{}".into()));
        assert_eq!(view_for(&pane).name(), "JSON");
        pane.xml_text = Some(Lines::new("<a/>".into()));
        assert_eq!(view_for(&pane).name(), "XML text");
    }
}
