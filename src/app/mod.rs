//! The desktop inspector (eframe/egui, glow renderer). It only presents what the engine computed:
//! the capture is opened by `capture::open` on a background thread (`loading`), the sessions table
//! (`sessions`) and the request/response inspector (`inspector`) each own their state.
//!
//! [`EaslensApp::ui`] draws the whole window into any `Ui`, so tests drive it headless through
//! egui_kittest exactly as eframe does.

pub mod inspector;
pub mod loading;
pub mod sessions;

use eframe::egui;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use egui::RichText;

use crate::capture::Capture;
use inspector::Inspector;
use loading::{LoadOutcome, Loader, display_name};
use sessions::SessionsPanel;

/// The empty-state text.
pub const EMPTY_STATE: &str = "Open a Fiddler .saz or HAR capture — File ▸ Open, drop a file here, or `easlens FILE`";

/// Opens the window (blocking until it is closed).
pub fn run(file: Option<PathBuf>) -> ExitCode {
    let title = match &file {
        Some(f) => format!("easlens — {}", display_name(f)),
        None => "easlens".into(),
    };
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_app_id("easlens")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let result = eframe::run_native(
        "easlens",
        options,
        Box::new(move |_cc| Ok(Box::new(EaslensApp::new(file)) as Box<dyn eframe::App>)),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: cannot open the window: {e}");
            eprintln!("easlens: without a display, `easlens sessions FILE` lists the capture in the terminal");
            ExitCode::from(1)
        }
    }
}

/// The whole application state.
pub struct EaslensApp {
    /// A file to open on the first frame (from the command line).
    pending: Option<PathBuf>,
    loader: Option<Loader>,
    capture: Option<Arc<Capture>>,
    /// The last open failure, shown in a banner until dismissed.
    error: Option<String>,
    file_dialog: Option<Receiver<Option<PathBuf>>>,
    pub sessions: SessionsPanel,
    pub inspector: Inspector,
    show_warnings: bool,
    fonts_set: bool,
}

impl EaslensApp {
    pub fn new(file: Option<PathBuf>) -> EaslensApp {
        EaslensApp {
            pending: file,
            loader: None,
            capture: None,
            error: None,
            file_dialog: None,
            sessions: SessionsPanel::default(),
            inspector: Inspector::default(),
            show_warnings: false,
            fonts_set: false,
        }
    }

    /// The opened capture, once loaded.
    pub fn capture(&self) -> Option<&Capture> {
        self.capture.as_deref()
    }

    /// True while a capture is being opened (including a pending password prompt).
    pub fn is_loading(&self) -> bool {
        self.loader.is_some() || self.pending.is_some()
    }

    /// The password prompt waiting for the user, if any.
    pub fn password_prompt(&self) -> Option<&crate::capture::PasswordPrompt> {
        self.loader.as_ref().and_then(|l| l.prompt())
    }

    /// The last open failure.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Starts opening `path` (replacing the capture when it succeeds).
    pub fn open(&mut self, path: PathBuf) {
        if let Some(mut l) = self.loader.take() {
            l.cancel();
        }
        self.pending = Some(path);
    }

    fn start_pending(&mut self, ctx: &egui::Context) {
        if let Some(path) = self.pending.take() {
            self.error = None;
            self.loader = Some(Loader::start(path, ctx));
        }
    }

    fn poll_loader(&mut self) {
        let Some(loader) = &mut self.loader else { return };
        match loader.poll() {
            LoadOutcome::Pending => {}
            LoadOutcome::Cancelled => self.loader = None,
            LoadOutcome::Done(result) => {
                self.loader = None;
                match result {
                    Ok(capture) => {
                        self.sessions.reset(&capture);
                        self.inspector.clear();
                        self.show_warnings = !capture.warnings.is_empty();
                        self.capture = Some(Arc::new(capture));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
        }
    }

    fn open_dialog(&mut self, ctx: &egui::Context) {
        if self.file_dialog.is_some() {
            return;
        }
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("easlens-file-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .set_title("Open a capture")
                    .add_filter("Captures (.saz, .har)", &["saz", "har"])
                    .add_filter("All files", &["*"])
                    .pick_file();
                let _ = tx.send(picked);
                ctx.request_repaint();
            });
        if spawned.is_ok() {
            self.file_dialog = Some(rx);
        }
    }

    fn poll_dialog(&mut self) {
        let Some(rx) = &self.file_dialog else { return };
        match rx.try_recv() {
            Ok(Some(path)) => {
                self.file_dialog = None;
                self.open(path);
            }
            // Cancelled, or no dialog available (no desktop portal, no zenity): drag-and-drop and
            // `easlens FILE` still work.
            Ok(None) => self.file_dialog = None,
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => self.file_dialog = None,
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| {
            i.raw.dropped_files.iter().find_map(|f| {
                let p = f.path();
                (!p.as_os_str().is_empty()).then(|| p.to_path_buf())
            })
        });
        if let Some(path) = dropped {
            self.open(path);
        }
    }

    /// Draws the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.fonts_set {
            set_fonts(&ctx);
            self.fonts_set = true;
        }
        self.dropped_files(&ctx);
        self.poll_dialog();
        self.start_pending(&ctx);
        self.poll_loader();

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));

        if let Some(loader) = &mut self.loader {
            egui::CentralPanel::default().show(ui, |ui| loader.ui(ui));
            // The password dialog may have been answered or cancelled this frame.
            self.poll_loader();
            return;
        }
        let Some(capture) = self.capture.clone() else {
            egui::CentralPanel::default().show(ui, |ui| {
                self.error_banner(ui);
                ui.centered_and_justified(|ui| {
                    ui.label(RichText::new(EMPTY_STATE).size(18.0).weak());
                });
            });
            return;
        };
        let total_h = ui.available_height();
        egui::Panel::top("sessions-panel")
            .resizable(true)
            .default_size((total_h * 0.42).max(160.0))
            .min_size(100.0)
            .show(ui, |ui| {
                self.error_banner(ui);
                self.warnings_banner(ui, &capture);
                self.sessions.ui(ui, &capture);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            self.inspector.ui(ui, &capture, self.sessions.selected);
        });
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…").clicked() {
                    self.open_dialog(ui.ctx());
                    ui.close();
                }
                if let Some(c) = &self.capture
                    && ui.button("Reload").clicked()
                {
                    let p = c.path.clone();
                    self.open(p);
                    ui.close();
                }
            });
            ui.separator();
            SessionsPanel::legend(ui);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                // Text buttons: the built-in switch uses emoji the bundled fonts do not have.
                let current = ui.ctx().options(|o| o.theme_preference);
                for (pref, name) in [
                    (egui::ThemePreference::Dark, "Dark"),
                    (egui::ThemePreference::Light, "Light"),
                    (egui::ThemePreference::System, "System"),
                ] {
                    if ui.selectable_label(current == pref, name).clicked() {
                        ui.ctx().set_theme(pref);
                    }
                }
                ui.label(RichText::new("Theme").weak());
            });
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(l) = &self.loader {
                ui.spinner();
                ui.label(format!("Opening {}…", l.path().display()));
                return;
            }
            let Some(c) = &self.capture else {
                ui.label("No capture open");
                return;
            };
            ui.label(format!(
                "{} of {} sessions",
                self.sessions.visible.len(),
                c.sessions.len()
            ));
            ui.separator();
            ui.label(RichText::new(c.path.display().to_string()).weak());
            if !c.warnings.is_empty() {
                ui.separator();
                let text = format!(
                    "△ {} load warning{}",
                    c.warnings.len(),
                    if c.warnings.len() == 1 { "" } else { "s" }
                );
                if ui
                    .add(egui::Button::new(RichText::new(text).color(ui.visuals().warn_fg_color)).frame(false))
                    .on_hover_text(c.warnings.join("\n"))
                    .clicked()
                {
                    self.show_warnings = !self.show_warnings;
                }
            }
        });
    }

    fn error_banner(&mut self, ui: &mut egui::Ui) {
        let Some(e) = &self.error else { return };
        let mut dismiss = false;
        egui::Frame::group(ui.style())
            .fill(ui.visuals().extreme_bg_color)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(format!("Could not open the capture: {e}")).color(ui.visuals().error_fg_color),
                    );
                    if ui.button("Dismiss").clicked() {
                        dismiss = true;
                    }
                });
            });
        if dismiss {
            self.error = None;
        }
    }

    fn warnings_banner(&mut self, ui: &mut egui::Ui, capture: &Capture) {
        if !self.show_warnings || capture.warnings.is_empty() {
            return;
        }
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new("Load warnings")
                        .strong()
                        .color(ui.visuals().warn_fg_color),
                );
                if ui.button("Hide").clicked() {
                    self.show_warnings = false;
                }
            });
            for w in &capture.warnings {
                ui.label(format!("△ {w}"));
            }
        });
    }
}

/// The bundled fonts, with Hack as a fallback of the proportional family: it has the geometric
/// shapes (▲ ▼ ◀ ◆ ● ⊘ △ ▸ →) the highlight glyphs and arrows use, which Ubuntu-Light lacks.
pub fn set_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional)
        && !family.iter().any(|f| f == "Hack")
    {
        family.push("Hack".into());
    }
    ctx.set_fonts(fonts);
}

impl eframe::App for EaslensApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        EaslensApp::ui(self, ui);
    }
}
