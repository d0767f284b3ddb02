//! WBXML bodies as XML: the engine's rendering, coloured by the parts it names, each Status
//! element's line annotated with its meaning and verdict.

use eframe::egui;

use egui::{TextFormat, TextStyle};

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, Palette, status_text, verdict_color, virtual_lines, xml_job};

pub struct Xml;

impl ContentView for Xml {
    fn name(&self) -> &'static str {
        "XML"
    }

    fn fits(&self, pane: &Pane) -> bool {
        pane.view
            .as_ref()
            .is_some_and(|v| v.as_ref().is_ok_and(|v| v.xml.is_some()))
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, id: egui::IdSalt, find: &Find) {
        let Some(Ok(view)) = &pane.view else { return };
        let Some(styled) = &view.xml else { return };
        let dark = ui.visuals().dark_mode;
        let p = Palette::new(dark);
        let font = TextStyle::Monospace.resolve(ui.style());
        let statuses = &pane.statuses;
        virtual_lines(ui, id, pane.xml.lines.len(), find, |i| {
            let mut job = xml_job(styled, pane.xml.lines[i].clone(), &p, &font);
            if let Ok(k) = statuses.binary_search_by_key(&i, |(l, _)| *l) {
                let e = &statuses[k].1;
                let c = verdict_color(e.verdict, dark);
                job.append("   ◀ ", 0.0, TextFormat::simple(font.clone(), c));
                let label = match (e.name, e.meaning) {
                    (Some(n), Some(m)) => format!("{n}: {m}"),
                    (Some(n), None) => n.to_string(),
                    _ => "unknown value for this command".into(),
                };
                job.append(&label, 0.0, TextFormat::simple(font.clone(), c));
                (job, Some(format!("{}\n{}", e.path, status_text(e))))
            } else {
                (job, None)
            }
        });
    }
}
