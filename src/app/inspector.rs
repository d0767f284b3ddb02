//! The inspector: the selected session's request and response side by side (stacked when the
//! window is narrow), with XML, Headers, Query, Raw and Hex tabs. Everything shown comes from the
//! engine (`Capture::body_view`, the session's `EasSummary`, `parse_request_target`); bodies are
//! shown through a virtualized per-line view so a 10 MB body costs only its visible lines.

use eframe::egui;
use std::ops::Range;
use std::sync::Arc;

use egui::text::LayoutJob;
use egui::{Color32, FontId, RichText, TextFormat, TextStyle, TextWrapMode};

use super::sessions::{command_label, format_size};
use crate::capture::bodies::BodyView;
use crate::capture::{BodyKept, Capture, Session};
use crate::eas::query::{QueryForm, parse_request_target};
use crate::eas::session::{Side, StatusEntry};
use crate::eas::status::{Verdict, http_meaning};
use crate::http::Headers;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Xml,
    Headers,
    Query,
    Raw,
    Hex,
}

const TABS: [(Tab, &str); 5] = [
    (Tab::Xml, "XML"),
    (Tab::Headers, "Headers"),
    (Tab::Query, "Query"),
    (Tab::Raw, "Raw"),
    (Tab::Hex, "Hex"),
];

/// Headers an EAS engineer looks at first, with what they mean.
const EAS_HEADERS: [(&str, &str); 14] = [
    ("MS-ASProtocolVersion", "protocol version the client speaks"),
    ("X-MS-PolicyKey", "policy key the client holds (0 = not provisioned)"),
    (
        "MS-ASAcceptMultiPart",
        "client accepts multipart ItemOperations responses",
    ),
    ("X-MS-ASThrottle", "throttled by Exchange"),
    ("Retry-After", "seconds to wait before retrying"),
    ("X-MS-Credentials-Expire", "days until the password expires"),
    ("X-MS-Credential-Service-Url", "where to change the password"),
    ("X-MS-Location", "redirect: use this URL from now on (451)"),
    ("X-CasErrorCode", "Exchange CAS error code"),
    ("X-MS-RP", "reset partnership: the client must re-provision"),
    ("MS-ASProtocolVersions", "versions the server supports"),
    ("MS-ASProtocolCommands", "commands the server supports"),
    ("MS-Server-ActiveSync", "server version"),
    ("User-Agent", "client software"),
];

fn is_secret(name: &str) -> bool {
    ["authorization", "proxy-authorization", "cookie", "set-cookie"]
        .iter()
        .any(|s| name.eq_ignore_ascii_case(s))
}

/// A header value as shown: secrets masked unless revealed.
pub fn shown_value(name: &str, value: &str, reveal: bool) -> String {
    if reveal || !is_secret(name) {
        return value.to_string();
    }
    if name.to_ascii_lowercase().ends_with("authorization")
        && let Some((scheme, _)) = value.split_once(' ')
    {
        return format!("{scheme} ••••••••");
    }
    "••••••••".into()
}

/// Text without control characters other than line breaks and tabs.
fn is_text(t: &str) -> bool {
    !t.bytes().any(|b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'))
}

/// The lines of a text: byte ranges without the line break.
fn line_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            out.push(start..end);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// A text with its line index, shown virtualized.
#[derive(Default)]
struct Lines {
    text: String,
    lines: Vec<Range<usize>>,
}

impl Lines {
    fn new(text: String) -> Lines {
        let lines = line_ranges(&text);
        Lines { text, lines }
    }

    fn line(&self, i: usize) -> &str {
        &self.text[self.lines[i].clone()]
    }
}

/// One side (request or response) of the selected session.
struct Pane {
    side: Side,
    /// `None`: the session has no such side.
    view: Option<Result<Arc<BodyView>, String>>,
    xml: Lines,
    /// Status annotation per XML line.
    statuses: Vec<(usize, StatusEntry)>,
    /// The decoded body as text, when it is not WBXML but readable.
    text: Option<Lines>,
    /// Head and body as text for the Raw tab (depends on the reveal toggle).
    raw: Lines,
    raw_revealed: bool,
}

impl Pane {
    fn empty(side: Side) -> Pane {
        Pane {
            side,
            view: None,
            xml: Lines::default(),
            statuses: Vec::new(),
            text: None,
            raw: Lines::default(),
            raw_revealed: false,
        }
    }

    fn load(capture: &Capture, index: usize, side: Side, reveal: bool) -> Pane {
        let mut pane = Pane::empty(side);
        pane.view = capture.body_view(index, side).map(|r| r.map_err(|e| e.to_string()));
        let session = &capture.sessions[index];
        if let Some(Ok(view)) = &pane.view {
            if let Some(xml) = &view.xml {
                pane.xml = Lines::new(xml.clone());
                pane.statuses = annotate_statuses(&pane.xml, session, side);
            } else if !view.decoded.bytes.is_empty()
                && let Ok(t) = std::str::from_utf8(&view.decoded.bytes)
                && is_text(t)
            {
                pane.text = Some(Lines::new(t.to_string()));
            }
        }
        pane.build_raw(session, reveal);
        pane
    }

    fn build_raw(&mut self, session: &Session, reveal: bool) {
        let mut out = String::new();
        let headers = match self.side {
            Side::Request => session.request.as_ref().map(|r| {
                out.push_str(&format!("{} {} {}\n", r.head.method, r.head.target, r.head.version));
                &r.head.headers
            }),
            Side::Response => session.response.as_ref().map(|r| {
                out.push_str(&format!("{} {} {}\n", r.head.version, r.head.status, r.head.reason));
                &r.head.headers
            }),
        };
        if let Some(h) = headers {
            for (n, v) in h.iter() {
                out.push_str(&format!("{n}: {}\n", shown_value(n, v, reveal)));
            }
            out.push('\n');
        }
        if let Some(Ok(view)) = &self.view {
            if let Ok(t) = std::str::from_utf8(&view.raw) {
                if is_text(t) {
                    out.push_str(t);
                } else {
                    out.push_str(&format!(
                        "[{} of binary body — see the Hex tab]",
                        format_size(view.raw.len() as u64)
                    ));
                }
            } else {
                out.push_str(&format!(
                    "[{} of binary body — see the Hex tab]",
                    format_size(view.raw.len() as u64)
                ));
            }
        }
        self.raw = Lines::new(out);
        self.raw_revealed = reveal;
    }
}

/// Pairs the `<Status>` lines of the XML with the session's Status entries of that side (both are
/// in document order).
fn annotate_statuses(xml: &Lines, session: &Session, side: Side) -> Vec<(usize, StatusEntry)> {
    let Some(eas) = &session.eas else { return Vec::new() };
    let entries: Vec<&StatusEntry> = eas.statuses.iter().filter(|e| e.side == side).collect();
    let mut out = Vec::new();
    let mut k = 0;
    for i in 0..xml.lines.len() {
        let Some(value) = status_value(xml.line(i)) else {
            continue;
        };
        if let Some(e) = entries.get(k)
            && e.raw == value
        {
            out.push((i, (*e).clone()));
        }
        k += 1;
    }
    out
}

/// The text of a one-line `<Status …>value</Status>` element.
fn status_value(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t.strip_prefix("<Status")?;
    if !(rest.starts_with('>') || rest.starts_with(' ')) {
        return None;
    }
    let open_end = rest.find('>')?;
    let inner = &rest[open_end + 1..];
    let close = inner.find("</Status>")?;
    Some(&inner[..close])
}

struct Palette {
    punct: Color32,
    name: Color32,
    attr: Color32,
    value: Color32,
    text: Color32,
}

impl Palette {
    fn new(dark: bool) -> Palette {
        if dark {
            Palette {
                punct: Color32::from_gray(140),
                name: Color32::from_rgb(110, 170, 255),
                attr: Color32::from_rgb(150, 210, 230),
                value: Color32::from_rgb(230, 170, 110),
                text: Color32::from_gray(225),
            }
        } else {
            Palette {
                punct: Color32::from_gray(110),
                name: Color32::from_rgb(20, 80, 180),
                attr: Color32::from_rgb(20, 120, 140),
                value: Color32::from_rgb(160, 70, 0),
                text: Color32::from_gray(20),
            }
        }
    }
}

/// Colours one line of XML. The renderer escapes `<` in text and writes one tag per line at most
/// per element, so every `<` starts a tag and a line needs no state from the previous one.
fn xml_job(line: &str, p: &Palette, font: &FontId) -> LayoutJob {
    let mut job = LayoutJob::default();
    let mut push = |s: &str, c: Color32| {
        if !s.is_empty() {
            job.append(s, 0.0, TextFormat::simple(font.clone(), c));
        }
    };
    let mut rest = line;
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = &rest[..end];
            rest = &rest[end..];
            // "<", "</" or "<?"
            let lead = if tag.starts_with("</") || tag.starts_with("<?") {
                2
            } else {
                1
            };
            push(&tag[..lead], p.punct);
            let body = &tag[lead..];
            let name_end = body
                .find(|c: char| c.is_whitespace() || c == '/' || c == '>' || c == '?')
                .unwrap_or(body.len());
            push(&body[..name_end], p.name);
            let mut attrs = &body[name_end..];
            while !attrs.is_empty() {
                let c = attrs.chars().next().unwrap_or(' ');
                if c == '"' || c == '\'' {
                    let close = attrs[1..].find(c).map_or(attrs.len(), |e| e + 2);
                    push(&attrs[..close], p.value);
                    attrs = &attrs[close..];
                } else if c.is_whitespace() || c == '=' || c == '/' || c == '>' || c == '?' {
                    let n = attrs
                        .find(|c: char| !(c.is_whitespace() || c == '=' || c == '/' || c == '>' || c == '?'))
                        .unwrap_or(attrs.len());
                    push(&attrs[..n], p.punct);
                    attrs = &attrs[n..];
                } else {
                    let n = attrs
                        .find(|c: char| c.is_whitespace() || c == '=' || c == '/' || c == '>')
                        .unwrap_or(attrs.len());
                    push(&attrs[..n], p.attr);
                    attrs = &attrs[n..];
                }
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            push(&rest[..end], p.text);
            rest = &rest[end..];
        }
    }
    job
}

fn verdict_color(v: Verdict, dark: bool) -> Color32 {
    match (v, dark) {
        (Verdict::Failure, true) => Color32::from_rgb(255, 120, 110),
        (Verdict::Failure, false) => Color32::from_rgb(190, 30, 30),
        (Verdict::Success, true) => Color32::from_rgb(120, 210, 120),
        (Verdict::Success, false) => Color32::from_rgb(20, 130, 40),
        (Verdict::Unknown, _) => Color32::GRAY,
    }
}

fn status_text(e: &StatusEntry) -> String {
    let verdict = match e.verdict {
        Verdict::Failure => "failure",
        Verdict::Success => "success",
        Verdict::Unknown => "unknown value",
    };
    match (e.name, e.meaning) {
        (Some(n), Some(m)) => format!("{} {n} ({verdict}): {m}", e.raw),
        (Some(n), None) => format!("{} {n} ({verdict})", e.raw),
        _ => format!("{} ({verdict}; no meaning known for this command)", e.raw),
    }
}

/// Shows `n` lines through `line(i)`, only the visible ones laid out.
fn virtual_lines(ui: &mut egui::Ui, id: egui::IdSalt, n: usize, mut line: impl FnMut(&mut egui::Ui, usize)) {
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    egui::ScrollArea::both()
        .id_salt(id)
        .auto_shrink([false, false])
        .show_rows(ui, row_height, n, |ui, range| {
            ui.spacing_mut().item_spacing.y = 0.0;
            for i in range {
                line(ui, i);
            }
        });
}

fn mono_label(ui: &mut egui::Ui, job: LayoutJob) -> egui::Response {
    ui.add(egui::Label::new(job).wrap_mode(TextWrapMode::Extend))
}

fn plain_lines(ui: &mut egui::Ui, id: egui::IdSalt, lines: &Lines) {
    let font = TextStyle::Monospace.resolve(ui.style());
    let color = ui.visuals().text_color();
    virtual_lines(ui, id, lines.lines.len(), |ui, i| {
        let mut job = LayoutJob::default();
        job.append(lines.line(i), 0.0, TextFormat::simple(font.clone(), color));
        mono_label(ui, job);
    });
}

/// A notice in a frame: what the pane shows and why.
fn notice(ui: &mut egui::Ui, text: impl Into<String>, color: Option<Color32>) {
    let text = text.into();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        match color {
            Some(c) => ui.label(RichText::new(text).color(c)),
            None => ui.label(text),
        };
    });
}

/// State of the inspector.
pub struct Inspector {
    pub tab: Tab,
    /// Show Authorization and cookie values.
    pub reveal: bool,
    /// Hex view of the decoded bytes instead of the bytes as stored.
    hex_decoded: bool,
    session: Option<u32>,
    request: Pane,
    response: Pane,
}

impl Default for Inspector {
    fn default() -> Self {
        Inspector {
            tab: Tab::Xml,
            reveal: false,
            hex_decoded: false,
            session: None,
            request: Pane::empty(Side::Request),
            response: Pane::empty(Side::Response),
        }
    }
}

impl Inspector {
    /// Forgets the shown session (a new capture was opened).
    pub fn clear(&mut self) {
        self.session = None;
        self.request = Pane::empty(Side::Request);
        self.response = Pane::empty(Side::Response);
    }

    fn sync(&mut self, capture: &Capture, selected: Option<u32>) {
        if self.session == selected {
            if self.request.raw_revealed != self.reveal
                && let Some(i) = selected
            {
                let s = &capture.sessions[i as usize];
                self.request.build_raw(s, self.reveal);
                self.response.build_raw(s, self.reveal);
            }
            return;
        }
        self.session = selected;
        match selected {
            Some(i) => {
                self.request = Pane::load(capture, i as usize, Side::Request, self.reveal);
                self.response = Pane::load(capture, i as usize, Side::Response, self.reveal);
            }
            None => self.clear(),
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, capture: &Capture, selected: Option<u32>) {
        self.sync(capture, selected);
        let Some(index) = self.session else {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new("Select a session to inspect its request and response (↑/↓ move).").weak());
            });
            return;
        };
        let session = &capture.sessions[index as usize];
        self.summary(ui, session);
        ui.horizontal(|ui| {
            for (tab, name) in TABS {
                ui.selectable_value(&mut self.tab, tab, name);
            }
            ui.separator();
            ui.checkbox(&mut self.reveal, "Reveal credentials")
                .on_hover_text("Show Authorization and cookie values (masked by default)");
            if self.tab == Tab::Hex {
                ui.checkbox(&mut self.hex_decoded, "Decoded bytes")
                    .on_hover_text("Hex of the body after de-chunking and decompression instead of as stored");
            }
        });
        if self.request.raw_revealed != self.reveal {
            self.request.build_raw(session, self.reveal);
            self.response.build_raw(session, self.reveal);
        }
        ui.separator();
        let avail = ui.available_size();
        let side_by_side = avail.x >= 900.0;
        let tab = self.tab;
        let reveal = self.reveal;
        let hex_decoded = self.hex_decoded;
        if side_by_side {
            let w = (avail.x - 12.0) / 2.0;
            ui.horizontal_top(|ui| {
                for pane in [&self.request, &self.response] {
                    ui.allocate_ui_with_layout(
                        egui::vec2(w, avail.y),
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
                            ui.set_min_size(egui::vec2(w, avail.y));
                            ui.set_max_width(w);
                            pane_ui(ui, pane, session, tab, reveal, hex_decoded);
                        },
                    );
                    if pane.side == Side::Request {
                        ui.separator();
                    }
                }
            });
        } else {
            let h = (avail.y - 12.0) / 2.0;
            for pane in [&self.request, &self.response] {
                ui.allocate_ui_with_layout(egui::vec2(avail.x, h), egui::Layout::top_down(egui::Align::Min), |ui| {
                    ui.set_min_size(egui::vec2(avail.x, h));
                    ui.set_max_height(h);
                    pane_ui(ui, pane, session, tab, reveal, hex_decoded);
                });
                if pane.side == Side::Request {
                    ui.separator();
                }
            }
        }
    }

    /// One or two lines about the session: what was asked, what came back, what it means.
    fn summary(&self, ui: &mut egui::Ui, s: &Session) {
        let dark = ui.visuals().dark_mode;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("#{}", s.index)).strong());
            ui.label(RichText::new(command_label(s)).strong());
            if let Some(r) = &s.request {
                ui.label(RichText::new(&r.url).weak());
            }
        });
        ui.horizontal_wrapped(|ui| match &s.response {
            Some(r) => {
                let m = http_meaning(r.head.status);
                let failure = m.is_some_and(|m| m.failure) || r.head.status >= 400;
                let c = if failure {
                    verdict_color(Verdict::Failure, dark)
                } else {
                    verdict_color(Verdict::Success, dark)
                };
                let mut t = format!("HTTP {} {}", r.head.status, r.head.reason);
                if let Some(m) = m {
                    t.push_str(&format!(" — {}", m.meaning));
                }
                ui.label(RichText::new(t).color(c));
            }
            None if s.flags.aborted => {
                ui.label(
                    RichText::new("No response: the session was aborted").color(verdict_color(Verdict::Failure, dark)),
                );
            }
            None => {
                ui.label("No response");
            }
        });
        if let Some(eas) = &s.eas {
            for e in eas
                .statuses
                .iter()
                .filter(|e| e.side == Side::Response && e.verdict != Verdict::Success)
            {
                ui.label(
                    RichText::new(format!("Status {} at {}", status_text(e), e.path))
                        .color(verdict_color(e.verdict, dark)),
                );
            }
        }
        let notes: Vec<&String> = s
            .notes
            .iter()
            .chain(s.eas.iter().flat_map(|e| e.notes.iter()))
            .collect();
        for n in notes {
            ui.label(RichText::new(format!("△ {n}")).color(ui.visuals().warn_fg_color));
        }
    }
}

fn pane_title(ui: &mut egui::Ui, pane: &Pane, s: &Session) {
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
    ui.horizontal(|ui| {
        ui.label(RichText::new(title).heading());
        ui.label(RichText::new(detail).weak());
        if let Some(ct) = ct {
            ui.label(RichText::new(ct).weak().monospace());
        }
    });
}

fn pane_ui(ui: &mut egui::Ui, pane: &Pane, s: &Session, tab: Tab, reveal: bool, hex_decoded: bool) {
    pane_title(ui, pane, s);
    let id = egui::IdSalt::new((pane.side, tab));
    match tab {
        Tab::Xml => xml_tab(ui, pane, s, id),
        Tab::Headers => headers_tab(ui, pane, s, reveal),
        Tab::Query => query_tab(ui, pane, s),
        Tab::Raw => plain_lines(ui, id, &pane.raw),
        Tab::Hex => hex_tab(ui, pane, hex_decoded, id),
    }
}

fn xml_tab(ui: &mut egui::Ui, pane: &Pane, s: &Session, id: egui::IdSalt) {
    let dark = ui.visuals().dark_mode;
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
            plain_lines(ui, id, t);
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
    if view.xml.is_some() {
        let p = Palette::new(dark);
        let font = TextStyle::Monospace.resolve(ui.style());
        let statuses = &pane.statuses;
        virtual_lines(ui, id, pane.xml.lines.len(), |ui, i| {
            let mut job = xml_job(pane.xml.line(i), &p, &font);
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
                mono_label(ui, job).on_hover_text(format!("{}\n{}", e.path, status_text(e)));
            } else {
                mono_label(ui, job);
            }
        });
        return;
    }
    if view.decoded.bytes.is_empty() {
        if view.raw.is_empty() {
            notice(ui, "No body.", None);
        } else {
            notice(ui, "The body decodes to zero bytes.", None);
        }
        return;
    }
    match &pane.text {
        Some(t) => {
            notice(ui, "Not WBXML: the body is shown as text.", None);
            plain_lines(ui, id, t);
        }
        None => notice(
            ui,
            format!(
                "Not WBXML: {} of binary data — see the Hex tab.",
                format_size(view.decoded.bytes.len() as u64)
            ),
            None,
        ),
    }
}

fn headers_tab(ui: &mut egui::Ui, pane: &Pane, s: &Session, reveal: bool) {
    let dark = ui.visuals().dark_mode;
    let (start, headers): (String, &Headers) = match pane.side {
        Side::Request => match &s.request {
            Some(r) => (
                format!("{} {} {}", r.head.method, r.head.target, r.head.version),
                &r.head.headers,
            ),
            None => {
                notice(ui, "The capture has no request for this session.", None);
                return;
            }
        },
        Side::Response => match &s.response {
            Some(r) => (
                format!("{} {} {}", r.head.version, r.head.status, r.head.reason),
                &r.head.headers,
            ),
            None => {
                notice(ui, "No response, so no response headers.", None);
                return;
            }
        },
    };
    egui::ScrollArea::both()
        .id_salt((pane.side, "headers"))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.label(RichText::new(start).monospace().strong());
            if let (Side::Response, Some(r)) = (pane.side, &s.response)
                && let Some(m) = http_meaning(r.head.status)
            {
                let c = if m.failure {
                    verdict_color(Verdict::Failure, dark)
                } else {
                    ui.visuals().text_color()
                };
                ui.label(RichText::new(format!("{} {}: {} ({})", m.code, m.name, m.meaning, m.source)).color(c));
            }
            let called: Vec<(&str, &str, &str)> = EAS_HEADERS
                .iter()
                .filter_map(|(n, what)| headers.get(n).map(|v| (*n, v, *what)))
                .collect();
            if !called.is_empty() {
                ui.add_space(4.0);
                ui.label(RichText::new("ActiveSync headers").strong());
                egui::Grid::new((pane.side, "eas-headers"))
                    .striped(true)
                    .num_columns(3)
                    .show(ui, |ui| {
                        for (n, v, what) in called {
                            let strong = matches!(n, "X-MS-ASThrottle" | "Retry-After" | "X-MS-Location" | "X-MS-RP");
                            let c = if strong {
                                Some(verdict_color(Verdict::Failure, dark))
                            } else {
                                None
                            };
                            let name = RichText::new(n).monospace().strong();
                            ui.label(match c {
                                Some(c) => name.color(c),
                                None => name,
                            });
                            ui.label(RichText::new(v).monospace());
                            ui.label(RichText::new(what).weak());
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
                        let r = ui.label(RichText::new(shown).monospace());
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
                ui.label(RichText::new(&r.head.target).monospace());
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
                                    row("Locale", format!("0x{l:04X}"));
                                }
                                if let Some(p) = q.policy_key {
                                    row("Policy key", p.to_string());
                                }
                                for (k, v) in &q.parameters {
                                    row(k, v.clone());
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
                            ui.label(RichText::new(v).monospace());
                            ui.end_row();
                        }
                        if let Some(v) = &eas.policy_key {
                            ui.label("Policy key");
                            ui.label(RichText::new(v).monospace());
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
                        ui.label(&e.path);
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
    virtual_lines(ui, id, n, |ui, i| {
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
        mono_label(ui, job);
    });
}
