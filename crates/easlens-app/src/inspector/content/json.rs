//! JSON bodies: a tree that folds (objects and arrays open two levels deep), from the engine's
//! `content::json::tree`; while Find searches, or for a body too big for a tree, the indented
//! text (`content::json::pretty`), keys in the order sent.

use eframe::egui;
use egui::RichText;

use super::ContentView;
use crate::inspector::pane::Pane;
use crate::inspector::view::{Find, notice, plain_lines};
use easlens_core::content::json::{JsonNode, JsonValue};

pub struct Json;

impl ContentView for Json {
    fn name(&self) -> &'static str {
        "JSON"
    }

    fn fits(&self, pane: &Pane) -> bool {
        pane.json.is_some()
    }

    fn ui(&self, ui: &mut egui::Ui, pane: &Pane, id: egui::IdSalt, find: &Find) {
        let Some(lines) = &pane.json else { return };
        match (&pane.json_tree, find.needle.is_empty()) {
            (Some(tree), true) => {
                notice(
                    ui,
                    "Not WBXML: the body is JSON (click a { } or [ ] line to fold it; Find shows it as text).",
                    None,
                );
                egui::ScrollArea::both()
                    .id_salt((id, "json-tree"))
                    .auto_shrink([false, false])
                    .show(ui, |ui| node_ui(ui, tree, 0, ui.scope_id().with(("json", pane.side))));
            }
            _ => {
                notice(ui, "Not WBXML: the body is JSON, shown indented.", None);
                plain_lines(ui, id, lines, find);
            }
        }
    }
}

/// One value: a scalar on one line, an object or array as a folding header with its children.
fn node_ui(ui: &mut egui::Ui, n: &JsonNode, depth: usize, parent: egui::Id) {
    let key = n.key.as_deref().map(|k| format!("{k}: ")).unwrap_or_default();
    let (children, open, close) = match &n.value {
        JsonValue::Scalar(v) => {
            ui.label(RichText::new(format!("{key}{v}")).monospace());
            return;
        }
        JsonValue::Object(c) => (c, "{", "}"),
        JsonValue::Array(c) => (c, "[", "]"),
    };
    let what = if open == "{" { "key" } else { "item" };
    let plural = if children.len() == 1 { "" } else { "s" };
    let header = format!("{key}{open}…{close} {} {what}{plural}", children.len());
    let id = parent.with((depth, n.key.as_deref()));
    egui::CollapsingHeader::new(RichText::new(header).monospace())
        .id_salt(id)
        .default_open(depth < 2)
        .show(ui, |ui| {
            for c in children {
                node_ui(ui, c, depth + 1, id);
            }
        });
}
