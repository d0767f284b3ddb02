//! Opening a capture on a background thread: progress bar, message and Cancel, and the password
//! dialog. The engine asks for a password through a callback; the loader thread blocks on a channel
//! that the dialog answers, so a wrong password simply makes the engine ask again.

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egui::{Align2, Key, RichText};

use easlens_core::capture::{self, Capture, OpenError, OpenOptions, PasswordPrompt, Progress};

enum Event {
    Progress(Progress),
    Password(PasswordPrompt),
    Done(Box<Result<Capture, OpenError>>),
}

/// What the loader asks the app to do.
pub enum LoadOutcome {
    /// Still loading.
    Pending,
    /// The user cancelled (the progress Cancel, or Cancel in the password dialog).
    Cancelled,
    Done(Result<Capture, OpenError>),
}

/// One capture being opened.
pub struct Loader {
    path: PathBuf,
    events: Receiver<Event>,
    answers: Sender<Option<String>>,
    cancel: Arc<AtomicBool>,
    progress: Progress,
    prompt: Option<PasswordPrompt>,
    password: String,
    focus_password: bool,
    cancelled: bool,
}

impl Loader {
    /// Starts opening `path` on a new thread; `ctx` is asked to repaint whenever something happens.
    pub fn start(path: PathBuf, ctx: &egui::Context) -> Loader {
        let (tx, events) = channel::<Event>();
        let (answers, answer_rx) = channel::<Option<String>>();
        let cancel = Arc::new(AtomicBool::new(false));
        let thread_cancel = cancel.clone();
        let thread_path = path.clone();
        let ctx = ctx.clone();
        // If the thread cannot start, `poll` reports the closed channel as an error.
        let _ = std::thread::Builder::new().name("easlens-open".into()).spawn(move || {
            let answer_rx = Mutex::new(answer_rx);
            let progress_tx = tx.clone();
            let progress_ctx = ctx.clone();
            let progress = move |p: Progress| {
                let _ = progress_tx.send(Event::Progress(p));
                progress_ctx.request_repaint();
            };
            let ask = |prompt: &PasswordPrompt| -> Option<String> {
                tx.send(Event::Password(prompt.clone())).ok()?;
                ctx.request_repaint();
                // Blocks this (loader) thread until the dialog answers; None = cancelled.
                answer_rx.lock().ok()?.recv().ok().flatten()
            };
            let options = OpenOptions {
                password: Some(&ask),
                progress: Some(&progress),
                cancel: Some(&thread_cancel),
            };
            let result = capture::open(&thread_path, &options);
            let _ = tx.send(Event::Done(Box::new(result)));
            ctx.request_repaint();
        });
        Loader {
            progress: Progress {
                fraction: 0.0,
                message: format!("Opening {}", display_name(&path)),
            },
            path,
            events,
            answers,
            cancel,
            prompt: None,
            password: String::new(),
            focus_password: false,
            cancelled: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The password prompt waiting for an answer, if any.
    pub fn prompt(&self) -> Option<&PasswordPrompt> {
        self.prompt.as_ref()
    }

    /// Drains the loader thread's messages.
    pub fn poll(&mut self) -> LoadOutcome {
        if self.cancelled {
            return LoadOutcome::Cancelled;
        }
        loop {
            match self.events.try_recv() {
                Ok(Event::Progress(p)) => self.progress = p,
                Ok(Event::Password(prompt)) => {
                    self.password.clear();
                    self.focus_password = true;
                    self.prompt = Some(prompt);
                }
                Ok(Event::Done(result)) => return LoadOutcome::Done(*result),
                Err(TryRecvError::Empty) => return LoadOutcome::Pending,
                Err(TryRecvError::Disconnected) => {
                    return LoadOutcome::Done(Err(OpenError::Io {
                        path: self.path.clone(),
                        source: std::io::Error::other("the loader thread stopped unexpectedly"),
                    }));
                }
            }
        }
    }

    /// Answers the pending password prompt (`None` = cancel).
    pub fn answer(&mut self, password: Option<String>) {
        if self.prompt.take().is_none() {
            return;
        }
        if password.is_none() {
            self.cancel();
        }
        let _ = self.answers.send(password);
    }

    pub fn cancel(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if self.prompt.take().is_some() {
            let _ = self.answers.send(None);
        }
        self.cancelled = true;
    }

    /// The progress view (centred in the available space) and the password dialog.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.ctx().request_repaint_after(Duration::from_millis(100));
        let avail = ui.available_rect_before_wrap();
        let width = (avail.width() * 0.6).clamp(240.0, 560.0);
        let rect = egui::Rect::from_center_size(avail.center(), egui::vec2(width, 110.0));
        let mut cancel = false;
        ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
            ui.vertical_centered(|ui| {
                ui.label(RichText::new(format!("Opening {}", display_name(&self.path))).heading());
                ui.add_space(6.0);
                ui.add(
                    egui::ProgressBar::new(self.progress.fraction)
                        .show_percentage()
                        .desired_width(width),
                );
                ui.add_space(4.0);
                ui.label(RichText::new(&self.progress.message).weak());
                ui.add_space(6.0);
                if ui.button("Cancel").clicked() {
                    cancel = true;
                }
            });
        });
        if cancel {
            self.cancel();
            return;
        }
        self.password_dialog(ui.ctx());
    }

    fn password_dialog(&mut self, ctx: &egui::Context) {
        let Some(prompt) = self.prompt.clone() else {
            return;
        };
        let mut answer: Option<Option<String>> = None;
        egui::Window::new("Password required")
            .collapsible(false)
            .resizable(false)
            .anchor(Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .min_width(380.0)
            .show(ctx, |ui| {
                ui.set_min_width(380.0);
                ui.label(format!(
                    "{} is password-protected: enter the password it was saved with.",
                    display_name(&prompt.path)
                ));
                if prompt.previous_was_wrong {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Wrong password — try again (attempt {}).", prompt.attempt),
                    );
                }
                ui.add_space(4.0);
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut self.password)
                        .password(true)
                        .hint_text("Password")
                        .desired_width(260.0),
                );
                if self.focus_password {
                    edit.request_focus();
                    self.focus_password = false;
                }
                let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                ui.add_space(4.0);
                ui.horizontal(|ui| {
                    if ui.button("Open").clicked() || entered {
                        answer = Some(Some(std::mem::take(&mut self.password)));
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(None);
                    }
                });
            });
        if let Some(a) = answer {
            self.answer(a);
        }
    }
}

/// The file name of a path, for titles and messages.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
