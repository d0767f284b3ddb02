//! The SyncKey chains view: per device and folder (and the FolderSync hierarchy), every request
//! key → response key with the marks the engine (`analysis::synckey`) put on it: reset to 0,
//! the same key sent again, a key that does not follow, Status 3 / 12, HTTP errors. A click on a
//! session shows it in the inspector (pushed as [`AppCommand`]s).

use eframe::egui;

use egui::RichText;
use egui_extras::{Column, TableBuilder};

use super::command::View;
use super::command::{AppCommand, Commands};
use super::findings::severity_style;
use super::jobs;
use super::mailbox_log::Attached;
use easlens_core::analysis::findings::Severity;
use easlens_core::analysis::folders::FolderNames;
use easlens_core::analysis::synckey::{Chain, Mark, SyncKeyChains};

/// Text and explanation of a mark.
fn mark_text(m: Mark) -> (&'static str, &'static str) {
    match m {
        Mark::Initial => (
            "initial",
            "SyncKey 0 as the first key: the normal initial synchronisation",
        ),
        Mark::KeyUnchanged => (
            "key unchanged",
            "no changes: the server handed out no new key, the request's key stays current",
        ),
        Mark::Reset => (
            "reset to 0",
            "SyncKey 0 after a non-zero key: everything is synchronised again",
        ),
        Mark::Repeated => (
            "same key again",
            "the device sent the previous key although the server gave a new one",
        ),
        Mark::Unexpected => (
            "unexpected key",
            "the key follows neither the last response nor the last request",
        ),
        Mark::InvalidKey => (
            "invalid key",
            "Status 3 (Sync) / 9 (FolderSync): the server does not know the key",
        ),
        Mark::HierarchyChanged => ("hierarchy changed", "Status 12: the client must run FolderSync"),
        Mark::Failed => ("failed", "a failing Status for this collection"),
        Mark::HttpError => ("HTTP error", "a non-2xx answer: no new key"),
        Mark::NoResponse => ("no response", "the session ended without a response"),
    }
}

#[derive(Default)]
pub struct SyncKeysPanel {
    selected: Option<usize>,
}

impl SyncKeysPanel {
    pub fn clear(&mut self) {
        self.selected = None;
    }

    /// Draws the chains.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        chains: Option<&SyncKeyChains>,
        folders: Option<&FolderNames>,
        log: Option<&Attached>,
        out: &mut Commands,
    ) {
        let Some(chains) = chains else {
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label("Following the SyncKeys…");
            });
            return;
        };
        if chains.chains.is_empty() {
            ui.label(RichText::new("No Sync or FolderSync request in this capture.").weak());
            return;
        }
        let dark = ui.visuals().dark_mode;
        let warn = severity_style(Severity::Warning, dark).0;
        let err = severity_style(Severity::Error, dark).0;
        let selected = *self
            .selected
            .get_or_insert_with(|| chains.chains.iter().position(Chain::has_problem).unwrap_or(0));
        let mut clicked = None;
        ui.horizontal_top(|ui| {
            // The chains, problem ones marked.
            ui.allocate_ui_with_layout(
                egui::vec2(240.0, ui.available_height()),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("chains")
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            for (k, c) in chains.chains.iter().enumerate() {
                                let name = if c.hierarchy {
                                    "FolderSync (hierarchy)".to_string()
                                } else {
                                    format!(
                                        "Collection {}",
                                        folders.map_or(c.collection.clone(), |f| f.label(&c.collection))
                                    )
                                };
                                let problem = c.has_problem();
                                let text =
                                    format!("{}{name} · {} requests", if problem { "△ " } else { "" }, c.links.len());
                                let rt = if problem {
                                    RichText::new(text).color(warn)
                                } else {
                                    RichText::new(text)
                                };
                                if ui
                                    .selectable_label(selected == k, rt)
                                    .on_hover_text(format!("device {}", c.device))
                                    .clicked()
                                {
                                    self.selected = Some(k);
                                }
                            }
                        });
                },
            );
            ui.separator();
            let Some(chain) = chains.chains.get(selected) else {
                return;
            };
            ui.vertical(|ui| {
                let what = if chain.hierarchy {
                    "The folder hierarchy (FolderSync)".to_string()
                } else {
                    let label = folders.map_or(chain.collection.clone(), |f| f.label(&chain.collection));
                    format!("Collection {label}")
                };
                let user = chain.user.as_deref().map(|u| format!(" ({u})")).unwrap_or_default();
                ui.label(RichText::new(format!("{what} — device {}{user}", chain.device)).strong());
                if let Some(log) = log {
                    exchange_chain(ui, chain, log);
                }
                TableBuilder::new(ui)
                    .id_salt("chain-links")
                    .striped(true)
                    .resizable(true)
                    .auto_shrink([false, false])
                    .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                    .column(Column::initial(100.0))
                    .column(Column::initial(44.0))
                    .column(Column::initial(130.0))
                    .column(Column::initial(130.0))
                    .column(Column::initial(70.0))
                    .column(Column::remainder().at_least(120.0))
                    .header(20.0, |mut h| {
                        for n in ["Time", "#", "Request key", "Response key", "Status", "Marks"] {
                            h.col(|ui| {
                                ui.label(RichText::new(n).strong());
                            });
                        }
                    })
                    .body(|body| {
                        body.rows(20.0, chain.links.len(), |mut row| {
                            let l = &chain.links[row.index()];
                            row.col(|ui| {
                                ui.label(l.time.map(|t| t.format("%H:%M:%S%.3f").to_string()).unwrap_or_default());
                            });
                            row.col(|ui| {
                                if ui
                                    .link(l.session.to_string())
                                    .on_hover_text("Show this session")
                                    .clicked()
                                {
                                    clicked = Some(l.position as u32);
                                }
                            });
                            row.col(|ui| {
                                ui.label(RichText::new(l.request_key.clone().unwrap_or_default()).monospace());
                            });
                            row.col(|ui| {
                                ui.label(RichText::new(l.response_key.clone().unwrap_or_default()).monospace());
                            });
                            row.col(|ui| {
                                let s = match (l.status, l.http_status) {
                                    (Some(v), _) => v.to_string(),
                                    (None, Some(c)) if !(200..300).contains(&c) => format!("HTTP {c}"),
                                    _ => String::new(),
                                };
                                ui.label(s);
                            });
                            row.col(|ui| {
                                for m in &l.marks {
                                    let (text, why) = mark_text(*m);
                                    let mut t = RichText::new(text);
                                    if *m == Mark::Repeated && l.repeat > 1 {
                                        t = RichText::new(format!("{text} ×{}", l.repeat));
                                    }
                                    let t = match m.severity() {
                                        Some(Severity::Error) => t.color(err).strong(),
                                        Some(_) => t.color(warn),
                                        None => t.weak(),
                                    };
                                    ui.label(t).on_hover_text(why);
                                }
                            });
                        });
                    });
            });
        });
        if let Some(i) = clicked {
            out.push(AppCommand::SelectSession(i));
            out.push(AppCommand::ShowView(View::Inspector));
        }
    }
}

/// Exchange's chain of the same collection, from the attached mailbox log (times in the capture's
/// clock), and the keys one source has and the other does not.
fn exchange_chain(ui: &mut egui::Ui, chain: &Chain, log: &Attached) {
    let found = log.log_analysis.chains().chains.iter().find(|l| {
        l.collection == chain.collection
            && l.hierarchy == chain.hierarchy
            && (l.device == chain.device || l.device.is_empty() || chain.device.is_empty())
    });
    let Some(lc) = found else {
        ui.label(RichText::new("Exchange: the mailbox log has no request of this collection.").weak());
        return;
    };
    let trace_keys: std::collections::HashSet<&str> = chain
        .links
        .iter()
        .flat_map(|l| [l.request_key.as_deref(), l.response_key.as_deref()])
        .flatten()
        .collect();
    let log_requests: std::collections::HashSet<&str> =
        lc.links.iter().filter_map(|l| l.request_key.as_deref()).collect();
    egui::CollapsingHeader::new(format!("Exchange (mailbox log): {} requests", lc.links.len()))
        .id_salt("exchange-chain")
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("exchange-chain-links")
                .max_height(160.0)
                .show(ui, |ui| {
                    egui::Grid::new("exchange-chain-grid").striped(true).show(ui, |ui| {
                        for n in ["Time", "Log #", "Request key", "Response key", "Status", "Marks"] {
                            ui.label(RichText::new(n).strong());
                        }
                        ui.end_row();
                        for l in &lc.links {
                            let time = l.time.map(|t| log.to_trace_clock(t).format("%H:%M:%S%.3f").to_string());
                            ui.label(time.unwrap_or_default());
                            ui.label(l.session.to_string());
                            ui.label(RichText::new(l.request_key.clone().unwrap_or_default()).monospace());
                            let response = l.response_key.clone().unwrap_or_default();
                            let lost = !response.is_empty() && !trace_keys.contains(response.as_str());
                            let r = ui.label(RichText::new(response).monospace());
                            if lost {
                                r.on_hover_text("the device never used or received this key");
                            }
                            let s = match (l.status, l.http_status) {
                                (Some(v), _) => v.to_string(),
                                (None, Some(c)) if !(200..300).contains(&c) => format!("HTTP {c}"),
                                _ => String::new(),
                            };
                            ui.label(s);
                            let marks: Vec<&str> = l.marks.iter().map(|m| mark_text(*m).0).collect();
                            ui.label(marks.join(", "));
                            ui.end_row();
                        }
                    });
                });
            // Only requests within the time the log covers (in the capture's clock).
            let times: Vec<_> = log
                .log
                .sessions
                .iter()
                .flat_map(|s| [s.http.timers.started(), s.http.timers.client_done_response()])
                .flatten()
                .map(|t| log.to_trace_clock(t))
                .collect();
            let span = times.iter().min().zip(times.iter().max());
            let covered = |t: Option<chrono::DateTime<chrono::FixedOffset>>| match (t, span) {
                (Some(t), Some((a, b))) => *a <= t && t <= *b,
                _ => true,
            };
            let unseen: Vec<&str> = chain
                .links
                .iter()
                .filter(|l| covered(l.time))
                .filter_map(|l| l.request_key.as_deref())
                .filter(|k| !log_requests.contains(k))
                .collect();
            let mut unseen = unseen;
            unseen.dedup();
            if !unseen.is_empty() {
                ui.label(format!(
                    "△ keys the device sent that no request in the log carries: {}",
                    unseen.join(", ")
                ));
            }
        });
}
