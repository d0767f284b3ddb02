//! Opening a capture in the background (the `open` job): progress bar, message and Cancel, and
//! the password dialog. The engine asks for a password through a callback; the job's thread blocks
//! on a channel that the dialog answers, so a wrong password simply makes the engine ask again.
//! The capture arrives with its [`Analysis`] started: the folder names the table shows are
//! computed on the same thread.
//!
//! A big capture is read twice: its first [`PREVIEW_SESSIONS`] sessions first (the engine's
//! `OpenOptions::first_sessions`), sent to the window as a [`Event::Preview`] so that the table
//! has rows within a second, then the whole of it, which replaces the preview. A password given
//! for the preview is used again for the whole.

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use egui::{Align2, Key, RichText};

use super::jobs::{Job, Poll, SPINNER_REPAINT};
use easlens_core::analysis::Analysis;
use easlens_core::capture::{self, Capture, OpenError, OpenOptions, PasswordPrompt, Progress};

/// Files larger than this are shown as a preview of their first sessions while they load.
pub const PREVIEW_ABOVE_BYTES: u64 = 16 << 20;
/// How many sessions the preview has.
pub const PREVIEW_SESSIONS: usize = 2_000;

/// What the open job tells the window while it works.
enum Event {
    Progress(Progress),
    Password(PasswordPrompt),
    /// The first sessions, while the rest loads.
    Preview(Opened),
}

/// A capture just opened, with its analysis (folder names computed, the rest to complete).
pub struct Opened {
    pub capture: Arc<Capture>,
    pub analysis: Arc<Analysis>,
    pub times: LoadTimes,
}

/// When the steps of opening a capture ended (the bench mode reports them).
#[derive(Debug, Clone, Copy)]
pub struct LoadTimes {
    /// The open job started.
    pub started: Instant,
    /// The engine returned the capture (`capture::open`).
    pub opened: Instant,
    /// Its folder names were computed: the capture is ready for the table.
    pub ready: Instant,
}

/// What the loader asks the app to do.
pub enum LoadOutcome {
    /// Still loading.
    Pending,
    /// The user cancelled (the progress Cancel, or Cancel in the password dialog).
    Cancelled,
    Done(Result<Opened, OpenError>),
}

/// One capture being opened.
pub struct Loader {
    path: PathBuf,
    job: Job<Result<Opened, OpenError>, Event>,
    answers: Sender<Option<String>>,
    progress: Progress,
    prompt: Option<PasswordPrompt>,
    password: String,
    focus_password: bool,
    cancelled: bool,
    /// The first sessions, arrived and not yet taken.
    preview: Option<Opened>,
    /// A preview was taken: the window shows it while the rest loads.
    pub previewing: bool,
}

impl Loader {
    /// Starts opening `path` on a new thread; `ctx` is asked to repaint whenever something happens.
    /// With `preview`, a big capture's first sessions are sent first ([`Loader::take_preview`]).
    pub fn start(path: PathBuf, preview: bool, ctx: &egui::Context) -> Loader {
        let (answers, answer_rx) = channel::<Option<String>>();
        let thread_path = path.clone();
        // If the thread cannot start, `poll` reports the job as lost (an error): the password
        // dialog must not block the window's thread.
        let job = Job::start_with_updates("open", ctx, move |worker| {
            let started = Instant::now();
            let answer_rx = Mutex::new(answer_rx);
            // Taken at the next frame: the progress view repaints itself (`SPINNER_REPAINT`); a repaint
            // per report would keep the window painting while the engine needs the cores.
            let progress = |p: Progress| worker.post(Event::Progress(p));
            // The password that opened the preview opens the whole capture without asking again.
            let accepted: Mutex<Option<String>> = Mutex::new(None);
            let ask = |prompt: &PasswordPrompt| -> Option<String> {
                if prompt.attempt == 1
                    && let Some(p) = accepted.lock().ok().and_then(|a| a.clone())
                {
                    return Some(p);
                }
                worker.send(Event::Password(prompt.clone()));
                // Blocks this (loader) thread until the dialog answers; None = cancelled.
                let answer = answer_rx.lock().ok()?.recv().ok().flatten();
                if let Ok(mut a) = accepted.lock() {
                    a.clone_from(&answer);
                }
                answer
            };
            let open = |first_sessions: Option<usize>| -> Result<Opened, OpenError> {
                let options = OpenOptions {
                    password: Some(&ask),
                    progress: Some(&progress),
                    cancel: Some(worker.cancel_flag()),
                    log_offset: None,
                    first_sessions,
                };
                let capture = Arc::new(capture::open(&thread_path, &options)?);
                let opened = Instant::now();
                let analysis = Arc::new(Analysis::new(capture.clone()));
                analysis.folders();
                let times = LoadTimes {
                    started,
                    opened,
                    ready: Instant::now(),
                };
                Ok(Opened {
                    capture,
                    analysis,
                    times,
                })
            };
            let big = std::fs::metadata(&thread_path).is_ok_and(|m| m.len() > PREVIEW_ABOVE_BYTES);
            if big && preview {
                let first = open(Some(PREVIEW_SESSIONS))?;
                // A capture no bigger than the preview is complete already.
                if first.capture.sessions.len() < PREVIEW_SESSIONS {
                    return Ok(first);
                }
                worker.send(Event::Preview(first));
            }
            open(None)
        });
        Loader {
            progress: Progress {
                fraction: 0.0,
                message: format!("Opening {}", display_name(&path)),
            },
            path,
            job,
            answers,
            prompt: None,
            password: String::new(),
            focus_password: false,
            cancelled: false,
            preview: None,
            previewing: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The password prompt waiting for an answer, if any.
    pub fn prompt(&self) -> Option<&PasswordPrompt> {
        self.prompt.as_ref()
    }

    /// Drains the open job's messages.
    pub fn poll(&mut self) -> LoadOutcome {
        if self.cancelled {
            return LoadOutcome::Cancelled;
        }
        let (progress, prompt, password, focus, preview) = (
            &mut self.progress,
            &mut self.prompt,
            &mut self.password,
            &mut self.focus_password,
            &mut self.preview,
        );
        let outcome = self.job.poll_with(|event| match event {
            Event::Progress(p) => *progress = p,
            Event::Preview(o) => *preview = Some(o),
            Event::Password(p) => {
                password.clear();
                *focus = true;
                *prompt = Some(p);
            }
        });
        match outcome {
            Poll::Pending => LoadOutcome::Pending,
            Poll::Ready(result) => LoadOutcome::Done(result),
            Poll::Lost => LoadOutcome::Done(Err(OpenError::Io {
                path: self.path.clone(),
                source: std::io::Error::other("the loader thread stopped unexpectedly"),
            })),
        }
    }

    /// The first sessions of a big capture, once, when they have arrived.
    pub fn take_preview(&mut self) -> Option<Opened> {
        let p = self.preview.take();
        self.previewing |= p.is_some();
        p
    }

    /// How far the open is (for the status bar while a preview is shown).
    pub fn progress(&self) -> &Progress {
        &self.progress
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
        self.job.cancel();
        if self.prompt.take().is_some() {
            let _ = self.answers.send(None);
        }
        self.cancelled = true;
    }

    /// The progress view (centred in the available space) and the password dialog.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.ctx().request_repaint_after(SPINNER_REPAINT);
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

    pub fn password_dialog(&mut self, ctx: &egui::Context) {
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
