//! The inspector's tabs: XML, Headers, Query, Raw and Hex, each drawn for one pane. The Headers
//! tab's "ActiveSync headers" list (which headers, what they mean, which stand out) is the engine's
//! `eas::headers` table, data in `crates/easlens-core/src/eas/headers.tsv`.

use eframe::egui;

use egui::text::LayoutJob;
use egui::{RichText, TextFormat, TextStyle};

use super::super::sessions::format_size;
use super::Tab;
use super::content;
use super::pane::{Pane, head};
use super::view::{Find, notice, plain_lines, status_text, verdict_color, virtual_lines};
use easlens_core::capture::{BodyKept, Session};
use easlens_core::eas::headers::{self as eas_headers, EasHeader};
use easlens_core::eas::query::{QueryForm, locale_label, parse_request_target};
use easlens_core::eas::session::StatusEntry;
use easlens_core::eas::status::{Verdict, http_meaning_for};
use easlens_core::http::Side;
use easlens_core::http::headers::shown_value;

/// The pane's heading: side, sizes, Content-Type, and the copy button of the tab. Returns
/// (what was copied, the text) when the button was clicked.
fn pane_title(ui: &mut egui::Ui, pane: &Pane, s: &Session, tab: Tab, reveal: bool) -> Option<(String, String)> {
    let title = match pane.side {
        Side::Request => "Request",
        Side::Response => "Response",
    };
    let detail = match (&pane.view, pane.side) {
        (None, _) => String::new(),
        (Some(Ok(v)), _) => {
            let mut d = format_size(v.raw.len() as u64);
            if !v.decoded.steps.is_empty() {
                d.push_str(&format!(
                    " ({} → {})",
                    v.decoded.steps.join(", "),
                    format_size(v.decoded.bytes.len() as u64)
                ));
            }
            d
        }
        (Some(Err(_)), _) => "unreadable".into(),
    };
    let ct = match pane.side {
        Side::Request => s.request.as_ref().and_then(|r| r.head.headers.get("Content-Type")),
        Side::Response => s.response.as_ref().and_then(|r| r.head.headers.get("Content-Type")),
    };
    let mut copied = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new(title).heading());
        ui.label(RichText::new(detail).weak());
        if let Some(ct) = ct {
            ui.add(egui::Label::new(RichText::new(ct).weak().monospace()).truncate());
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let what = match tab {
                Tab::Xml => pane.copyable_body().map(|t| (pane.body_name(), t.to_string())),
                Tab::Headers => pane.header_text(s, reveal).map(|t| ("headers", t)),
                _ => None,
            };
            if let Some((what, text)) = what
                && ui
                    .small_button(format!("Copy {what}"))
                    .on_hover_text(format!("Copy the {} {what} to the clipboard", title.to_lowercase()))
                    .clicked()
            {
                copied = Some((format!("{title} {what}"), text));
            }
        });
    });
    copied
}

/// How a pane is drawn: the tab, the toggles, and the search within its body.
pub struct PaneOptions<'a> {
    pub tab: Tab,
    pub reveal: bool,
    pub hex_decoded: bool,
    pub find: &'a Find,
}

/// Draws one pane; returns text the user asked to copy.
pub fn pane_ui(ui: &mut egui::Ui, pane: &Pane, s: &Session, o: &PaneOptions<'_>) -> Option<(String, String)> {
    let copy = pane_title(ui, pane, s, o.tab, o.reveal);
    let id = egui::IdSalt::new((pane.side, o.tab));
    let (tab, reveal, hex_decoded, find) = (o.tab, o.reveal, o.hex_decoded, o.find);
    match tab {
        Tab::Xml => body_tab(ui, pane, s, id, find),
        Tab::Headers => headers_tab(ui, pane, s, reveal, o.find.wrap),
        Tab::Query => query_tab(ui, pane, s),
        Tab::Raw => plain_lines(ui, id, &pane.raw, find),
        Tab::Hex => hex_tab(ui, pane, hex_decoded, id),
    }
    copy
}

fn body_tab(ui: &mut egui::Ui, pane: &Pane, s: &Session, id: egui::IdSalt, find: &Find) {
    let err = ui.visuals().error_fg_color;
    let warn = ui.visuals().warn_fg_color;
    let Some(view) = &pane.view else {
        match pane.side {
            Side::Request => notice(ui, "The capture has no request for this session.", None),
            Side::Response if s.flags.aborted => notice(
                ui,
                "No response: the session was aborted before the server answered (for a Ping or a \
                 long Sync this is often the client hanging up a waiting request).",
                Some(warn),
            ),
            Side::Response => notice(ui, "No response in the capture.", None),
        }
        return;
    };
    let view = match view {
        Ok(v) => v,
        Err(e) => {
            notice(
                ui,
                format!("The body could not be read from the capture: {e}"),
                Some(err),
            );
            return;
        }
    };
    if s.flags.tunnel {
        notice(
            ui,
            "CONNECT tunnel: the proxy opened a TLS tunnel; the body is the proxy's description of the \
             handshake, not EAS traffic.",
            None,
        );
        if let Some(t) = &pane.text {
            plain_lines(ui, id, t, find);
        }
        return;
    }
    match view.kept {
        BodyKept::LostByExporter => {
            notice(
                ui,
                "Body lost: the HAR exporter replaced the binary WBXML bytes with U+FFFD, so they cannot \
                 be decoded. Capture with Fiddler's SAZ or mitmproxy to keep them.",
                Some(warn),
            );
            return;
        }
        BodyKept::Omitted => {
            notice(
                ui,
                "Body omitted: the exporter left this body out of the HAR file.",
                Some(warn),
            );
            return;
        }
        BodyKept::Present => {}
    }
    for n in &view.decoded.notes {
        notice(ui, format!("△ {n}"), Some(warn));
    }
    if view.multipart_parts.len() > 1 {
        let sizes: Vec<String> = view.multipart_parts.iter().map(|n| format_size(*n as u64)).collect();
        notice(
            ui,
            format!(
                "Multipart response: {} parts ({}); part 0 (WBXML) is shown, the others are item data.",
                view.multipart_parts.len(),
                sizes.join(", ")
            ),
            None,
        );
    }
    if let Some(e) = &view.wbxml_error {
        notice(
            ui,
            format!(
                "WBXML decode error at byte offset {} (0x{:X}): {}. The XML decoded before it is shown below.",
                e.offset, e.offset, e.kind
            ),
            Some(err),
        );
    }
    if view.xml.is_none() && view.decoded.bytes.is_empty() {
        if view.raw.is_empty() {
            notice(ui, "No body.", None);
        } else {
            notice(ui, "The body decodes to zero bytes.", None);
        }
        return;
    }
    content::view_for(pane).ui(ui, pane, id, find);
}

fn headers_tab(ui: &mut egui::Ui, pane: &Pane, s: &Session, reveal: bool, wrap: bool) {
    let dark = ui.visuals().dark_mode;
    let Some((start, headers)) = head(s, pane.side) else {
        let what = match pane.side {
            Side::Request => "The capture has no request for this session.",
            Side::Response => "No response, so no response headers.",
        };
        notice(ui, what, None);
        return;
    };
    // Wrapped, values break at the pane's width (no sideways scrolling then).
    let area = if wrap {
        egui::ScrollArea::vertical()
    } else {
        egui::ScrollArea::both()
    };
    let mode = if wrap {
        egui::TextWrapMode::Wrap
    } else {
        egui::TextWrapMode::Extend
    };
    area.id_salt((pane.side, "headers", wrap))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if wrap {
                ui.set_max_width(ui.available_width());
            }
            ui.add(egui::Label::new(RichText::new(start).monospace().strong()).wrap_mode(egui::TextWrapMode::Wrap));
            if let (Side::Response, Some(r)) = (pane.side, &s.response)
                && let Some(m) = http_meaning_for(r.head.status, s.eas.is_some())
            {
                let c = if m.failure {
                    verdict_color(Verdict::Failure, dark)
                } else {
                    ui.visuals().text_color()
                };
                ui.label(RichText::new(format!("{} {}: {} ({})", m.code, m.name, m.meaning, m.source)).color(c));
            }
            let called: Vec<(&EasHeader, &str)> = eas_headers::explained()
                .filter_map(|h| headers.get(h.name).map(|v| (h, v)))
                .collect();
            if !called.is_empty() {
                ui.add_space(4.0);
                ui.label(RichText::new("ActiveSync headers").strong());
                egui::Grid::new((pane.side, "eas-headers"))
                    .striped(true)
                    .num_columns(3)
                    .show(ui, |ui| {
                        for (h, v) in called {
                            let (n, what) = (h.name, h.meaning.unwrap_or_default());
                            let c = if h.strong {
                                Some(verdict_color(Verdict::Failure, dark))
                            } else {
                                None
                            };
                            let name = RichText::new(n).monospace().strong();
                            ui.label(match c {
                                Some(c) => name.color(c),
                                None => name,
                            });
                            ui.add(egui::Label::new(RichText::new(v).monospace()).wrap_mode(mode));
                            ui.add(egui::Label::new(RichText::new(what).weak()).wrap_mode(mode));
                            ui.end_row();
                        }
                    });
            }
            ui.add_space(6.0);
            ui.label(RichText::new(format!("All headers ({})", headers.len())).strong());
            egui::Grid::new((pane.side, "all-headers"))
                .striped(true)
                .num_columns(2)
                .show(ui, |ui| {
                    for (n, v) in headers.iter() {
                        ui.label(RichText::new(n).monospace());
                        let shown = shown_value(n, v, reveal);
                        let masked = shown != v;
                        let r = ui.add(egui::Label::new(RichText::new(shown).monospace()).wrap_mode(mode));
                        if masked {
                            r.on_hover_text("Masked — tick “Reveal credentials” to show it");
                        }
                        ui.end_row();
                    }
                });
        });
}

fn query_tab(ui: &mut egui::Ui, pane: &Pane, s: &Session) {
    let dark = ui.visuals().dark_mode;
    egui::ScrollArea::both()
        .id_salt((pane.side, "query"))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if pane.side == Side::Request {
                let Some(r) = &s.request else {
                    notice(ui, "The capture has no request for this session.", None);
                    return;
                };
                ui.label(RichText::new(r.head.target.as_str()).monospace());
                match parse_request_target(&r.head.target) {
                    Ok(q) => {
                        egui::Grid::new("query-grid")
                            .striped(true)
                            .num_columns(2)
                            .show(ui, |ui| {
                                let mut row = |k: &str, v: String| {
                                    ui.label(RichText::new(k).strong());
                                    ui.label(RichText::new(v).monospace());
                                    ui.end_row();
                                };
                                row(
                                    "Form",
                                    match q.form {
                                        QueryForm::Plain => "plain (Cmd=…&User=…)".into(),
                                        QueryForm::Base64 => "base64-encoded (MS-ASHTTP 2.2.1.1.1.1)".into(),
                                    },
                                );
                                row("Path", q.path.clone());
                                if let Some(c) = &q.command_raw {
                                    row("Command", c.clone());
                                }
                                if let Some(u) = &q.user {
                                    row("User", u.clone());
                                }
                                if let Some(d) = &q.device_id {
                                    row("Device ID", d.clone());
                                }
                                if q.form == QueryForm::Base64
                                    && let Some(h) = q.device_id_hex()
                                {
                                    row("Device ID (hex)", h);
                                }
                                if let Some(g) = &q.device_id_guid {
                                    row("Device ID (GUID)", g.clone());
                                }
                                if let Some(t) = &q.device_type {
                                    row("Device type", t.clone());
                                }
                                if let Some(v) = &q.protocol_version {
                                    row("Protocol version", v.clone());
                                }
                                if let Some(l) = q.locale {
                                    row("Locale", locale_label(l));
                                }
                                if let Some(p) = q.policy_key {
                                    row("Policy key", p.to_string());
                                }
                                // Each parameter once: those with a row of their own above or
                                // below (User, and Options / SaveInSent as their flags) are not
                                // repeated.
                                let flags = q.save_in_sent.is_some() || q.accept_multipart.is_some();
                                for (k, v) in &q.parameters {
                                    let shown = (k == "User" && q.user.as_deref() == Some(v.as_str()))
                                        || (k == "SaveInSent" && q.save_in_sent.is_some())
                                        || (k == "Options" && flags);
                                    if !shown {
                                        row(k, v.clone());
                                    }
                                }
                                if let Some(b) = q.save_in_sent {
                                    row("SaveInSent", b.to_string());
                                }
                                if let Some(b) = q.accept_multipart {
                                    row("AcceptMultiPart", b.to_string());
                                }
                            });
                        for w in &q.warnings {
                            ui.label(RichText::new(format!("△ {w}")).color(ui.visuals().warn_fg_color));
                        }
                        for n in &q.notes {
                            ui.label(RichText::new(format!("• {n}")).weak());
                        }
                    }
                    Err(e) => notice(
                        ui,
                        format!("The request line does not decode: {e}"),
                        Some(ui.visuals().error_fg_color),
                    ),
                }
            }
            let Some(eas) = &s.eas else {
                if pane.side == Side::Response {
                    notice(ui, "Not an ActiveSync request.", None);
                }
                return;
            };
            let statuses: Vec<&StatusEntry> = eas.statuses.iter().filter(|e| e.side == pane.side).collect();
            let keys: Vec<_> = eas.sync_keys.iter().filter(|k| k.side == pane.side).collect();
            ui.add_space(6.0);
            ui.label(RichText::new("EAS summary").strong());
            egui::Grid::new((pane.side, "eas-summary"))
                .striped(true)
                .num_columns(2)
                .show(ui, |ui| {
                    if pane.side == Side::Request {
                        if let Some(v) = &eas.protocol_version {
                            ui.label("Protocol version");
                            ui.label(RichText::new(v.as_str()).monospace());
                            ui.end_row();
                        }
                        if let Some(v) = &eas.policy_key {
                            ui.label("Policy key");
                            ui.label(RichText::new(v.as_str()).monospace());
                            ui.end_row();
                        }
                        if !eas.collection_ids.is_empty() {
                            ui.label("CollectionIds");
                            ui.label(RichText::new(eas.collection_ids.join(", ")).monospace());
                            ui.end_row();
                        }
                    }
                    for k in keys {
                        ui.label(match &k.collection_id {
                            Some(c) => format!("SyncKey (collection {c})"),
                            None => "SyncKey".into(),
                        });
                        ui.label(RichText::new(&k.value).monospace());
                        ui.end_row();
                    }
                    for e in statuses {
                        ui.label(e.path.as_str());
                        ui.label(RichText::new(status_text(e)).color(verdict_color(e.verdict, dark)));
                        ui.end_row();
                    }
                });
        });
}

fn hex_tab(ui: &mut egui::Ui, pane: &Pane, decoded: bool, id: egui::IdSalt) {
    let Some(Ok(view)) = &pane.view else {
        notice(ui, "No body bytes.", None);
        return;
    };
    let bytes: &[u8] = if decoded { &view.decoded.bytes } else { &view.raw };
    if bytes.is_empty() {
        notice(ui, "No body bytes.", None);
        return;
    }
    let font = TextStyle::Monospace.resolve(ui.style());
    let weak = ui.visuals().weak_text_color();
    let color = ui.visuals().text_color();
    let n = bytes.len().div_ceil(16);
    virtual_lines(ui, id, n, &Find::default(), |i| {
        let chunk = &bytes[i * 16..((i + 1) * 16).min(bytes.len())];
        let mut hex = String::with_capacity(50);
        for (k, b) in chunk.iter().enumerate() {
            if k == 8 {
                hex.push(' ');
            }
            hex.push_str(&format!("{b:02X} "));
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let mut job = LayoutJob::default();
        job.append(
            &format!("{:08X}  ", i * 16),
            0.0,
            TextFormat::simple(font.clone(), weak),
        );
        job.append(&format!("{hex:<49} "), 0.0, TextFormat::simple(font.clone(), color));
        job.append(&ascii, 0.0, TextFormat::simple(font.clone(), weak));
        (job, None)
    });
}
