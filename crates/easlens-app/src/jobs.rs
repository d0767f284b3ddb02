//! The window's background work: one small runner for every task that must not hold up a frame
//! (opening a capture, the analysis, the body index, filtering, decoding big bodies, changed
//! fields, file dialogs, screenshots).
//!
//! A [`Job`] is a named piece of work started on its own thread; the thread asks the
//! `egui::Context` for a repaint when it is done, so the frame that follows can take the result.
//! The owner polls it once per frame ([`Job::poll`]). The work gets a [`Worker`]: a cancel flag
//! (set by [`Job::cancel`] or by dropping the job), a progress fraction the UI can show, and
//! optionally a stream of updates (`U`) the owner drains in order before the result
//! ([`Job::poll_with`]).
//!
//! While a job runs, the view waiting for it shows [`spinner`]: it asks for a frame ten times a
//! second, not every frame as egui's own spinner does, so the window does not take a core from
//! the work it waits for.
//!
//! When no thread can be started the job either runs inline ([`Job::start`]: the result is ready
//! at the first poll) or ends without a result ([`Job::start_on_thread`], for work that waits on
//! the user or would freeze the window for long: [`Poll::Lost`]).

use eframe::egui;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Work on bodies that add up to less than this (as stored) is done inline: reading and decoding
/// a quarter of a megabyte takes a few milliseconds, less than the frame a job's result takes to
/// arrive, and the view is complete in the frame it was asked for. Bigger work is a job.
pub const BODIES_INLINE_BELOW: u64 = 256 * 1024;

/// What polling a job found.
#[derive(Debug)]
pub enum Poll<T> {
    /// Still running.
    Pending,
    /// The result (given once).
    Ready(T),
    /// The job ended without a result: it panicked, no thread could be started for it, or its
    /// result was already taken.
    Lost,
}

/// What the work of a job is handed: its cancel flag, its progress and its update stream.
pub struct Worker<U = ()> {
    ctx: egui::Context,
    cancel: Arc<AtomicBool>,
    progress: Arc<AtomicU32>,
    updates: Sender<U>,
}

impl<U> Worker<U> {
    /// True once the owner cancelled the job (or dropped it).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The cancel flag, for engine functions that take one.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// Records how far the work is (0.0 ..= 1.0), shown the next time the window paints.
    pub fn set_progress(&self, fraction: f32) {
        self.progress.store(fraction.to_bits(), Ordering::Relaxed);
    }

    /// Sends an update to the owner and asks for a repaint so that it is seen.
    pub fn send(&self, update: U) {
        let _ = self.updates.send(update);
        self.ctx.request_repaint();
    }

    /// Sends an update the owner takes at its next frame, without asking for one (progress, which
    /// the view waiting for the job already repaints at [`SPINNER_REPAINT`]).
    pub fn post(&self, update: U) {
        let _ = self.updates.send(update);
    }
}

/// How often a view waiting for a job is repainted (its spinner, its progress).
pub const SPINNER_REPAINT: Duration = Duration::from_millis(100);

/// The spinner of a view waiting for a job: egui's, repainted every [`SPINNER_REPAINT`] instead of
/// every frame (egui's asks for the next frame at once, which keeps the window painting as fast
/// as it can for as long as the job runs: on a machine with few cores, time taken from the job).
pub fn spinner(ui: &mut egui::Ui) -> egui::Response {
    let size = ui.style().spacing.interact_size.y;
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    response.widget_info(|| egui::WidgetInfo::new(egui::Role::ProgressIndicator));
    if ui.is_rect_visible(rect) {
        ui.ctx().request_repaint_after(SPINNER_REPAINT);
        let color = ui.visuals().strong_text_color();
        let radius = (rect.height().min(rect.width()) * 0.5) - 2.0;
        let n_points = (radius.round() as u32).clamp(8, 128);
        let time = ui.input(|i| i.time);
        let start = time * std::f64::consts::TAU;
        let end = start + 240f64.to_radians() * time.sin();
        let points: Vec<egui::Pos2> = (0..n_points)
            .map(|i| {
                let angle = start + (end - start) * f64::from(i) / f64::from(n_points);
                let (sin, cos) = angle.sin_cos();
                rect.center() + radius * egui::vec2(cos as f32, sin as f32)
            })
            .collect();
        ui.painter()
            .add(egui::Shape::line(points, egui::Stroke::new(3.0, color)));
    }
    response
}

/// A task running in the background (see the module documentation).
pub struct Job<T, U = ()> {
    name: &'static str,
    done: Receiver<T>,
    updates: Receiver<U>,
    cancel: Arc<AtomicBool>,
    progress: Arc<AtomicU32>,
    finished: bool,
}

/// Completes a [`Job::external`] job from wherever the result comes from (a callback).
pub struct Completion<T> {
    ctx: egui::Context,
    done: Sender<T>,
}

impl<T> Completion<T> {
    /// Hands over the result and asks for a repaint.
    pub fn complete(self, value: T) {
        let _ = self.done.send(value);
        self.ctx.request_repaint();
    }
}

/// The work, its worker and where its result goes: run on the thread, or inline.
type Payload<T, U, F> = (F, Worker<U>, Sender<T>);

fn run<T, U, F: FnOnce(&Worker<U>) -> T>((work, worker, done): Payload<T, U, F>) {
    let result = work(&worker);
    let _ = done.send(result);
    worker.ctx.request_repaint();
}

impl<T: Send + 'static> Job<T, ()> {
    /// Starts `work` on a thread named after the job; runs it inline when no thread can be started.
    pub fn start(name: &'static str, ctx: &egui::Context, work: impl FnOnce(&Worker) -> T + Send + 'static) -> Job<T> {
        Job::launch(name, ctx, true, work)
    }

    /// Starts `work` on a thread; when none can be started the job is [`Poll::Lost`].
    pub fn start_on_thread(
        name: &'static str,
        ctx: &egui::Context,
        work: impl FnOnce(&Worker) -> T + Send + 'static,
    ) -> Job<T> {
        Job::launch(name, ctx, false, work)
    }

    /// A job whose result is handed over through the returned [`Completion`] (e.g. by a
    /// callback of the renderer) rather than computed on a thread of its own.
    pub fn external(name: &'static str, ctx: &egui::Context) -> (Job<T>, Completion<T>) {
        let (tx, done) = channel();
        let (_, updates) = channel();
        let job = Job {
            name,
            done,
            updates,
            cancel: Arc::default(),
            progress: Arc::default(),
            finished: false,
        };
        (
            job,
            Completion {
                ctx: ctx.clone(),
                done: tx,
            },
        )
    }
}

impl<T: Send + 'static, U: Send + 'static> Job<T, U> {
    /// Like [`Job::start_on_thread`], for work that also sends updates ([`Worker::send`]).
    pub fn start_with_updates(
        name: &'static str,
        ctx: &egui::Context,
        work: impl FnOnce(&Worker<U>) -> T + Send + 'static,
    ) -> Job<T, U> {
        Job::launch(name, ctx, false, work)
    }

    fn launch<F: FnOnce(&Worker<U>) -> T + Send + 'static>(
        name: &'static str,
        ctx: &egui::Context,
        inline_if_no_thread: bool,
        work: F,
    ) -> Job<T, U> {
        let (done_tx, done) = channel();
        let (updates_tx, updates) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(AtomicU32::new(0f32.to_bits()));
        let worker = Worker {
            ctx: ctx.clone(),
            cancel: cancel.clone(),
            progress: progress.clone(),
            updates: updates_tx,
        };
        // The payload stays reachable from here when the thread cannot be started.
        let payload = Arc::new(Mutex::new(Some((work, worker, done_tx))));
        let on_thread = payload.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("easlens-{name}"))
            .spawn(move || {
                if let Some(p) = on_thread.lock().ok().and_then(|mut p| p.take()) {
                    run(p);
                }
            });
        if spawned.is_err() {
            let p = payload.lock().ok().and_then(|mut p| p.take());
            if let Some(p) = p.filter(|_| inline_if_no_thread) {
                run(p);
            }
        }
        Job {
            name,
            done,
            updates,
            cancel,
            progress,
            finished: false,
        }
    }
}

impl<T, U> Job<T, U> {
    /// The job's name (its thread is `easlens-NAME`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The result, once there; updates sent before it are dropped.
    pub fn poll(&mut self) -> Poll<T> {
        self.poll_with(|_| {})
    }

    /// Hands every update sent so far to `update`, in order, then reports the result.
    pub fn poll_with(&mut self, mut update: impl FnMut(U)) -> Poll<T> {
        if self.finished {
            return Poll::Lost;
        }
        // The result first: every update sent before it is then in the queue too.
        let result = self.done.try_recv();
        while let Ok(u) = self.updates.try_recv() {
            update(u);
        }
        match result {
            Ok(value) => {
                self.finished = true;
                Poll::Ready(value)
            }
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Disconnected) => {
                self.finished = true;
                Poll::Lost
            }
        }
    }

    /// The last progress the work reported (0.0 ..= 1.0).
    pub fn progress(&self) -> f32 {
        f32::from_bits(self.progress.load(Ordering::Relaxed))
    }

    /// Asks the work to stop (it checks [`Worker::is_cancelled`] when it can).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl<T, U> Drop for Job<T, U> {
    /// A job nobody waits for any more is cancelled.
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait<T, U>(job: &mut Job<T, U>, mut update: impl FnMut(U)) -> Poll<T> {
        let start = Instant::now();
        loop {
            match job.poll_with(&mut update) {
                Poll::Pending if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                other => return other,
            }
        }
    }

    #[test]
    fn a_job_gives_its_result_once() {
        let ctx = egui::Context::default();
        let mut job = Job::start("test", &ctx, |_| 6 * 7);
        assert_eq!(job.name(), "test");
        assert!(matches!(wait(&mut job, |()| {}), Poll::Ready(42)));
        assert!(matches!(job.poll(), Poll::Lost));
    }

    #[test]
    fn updates_arrive_in_order_before_the_result() {
        let ctx = egui::Context::default();
        let mut job = Job::start_with_updates("test", &ctx, |w| {
            for i in 0..5 {
                w.send(i);
            }
            w.set_progress(1.0);
            "done"
        });
        let mut seen = Vec::new();
        assert!(matches!(wait(&mut job, |u| seen.push(u)), Poll::Ready("done")));
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert_eq!(job.progress(), 1.0);
    }

    #[test]
    fn cancelling_reaches_the_work() {
        let ctx = egui::Context::default();
        let (started_tx, started) = channel();
        let mut job = Job::start("test", &ctx, move |w| {
            let _ = started_tx.send(());
            while !w.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            "stopped"
        });
        started.recv().unwrap();
        job.cancel();
        assert!(matches!(wait(&mut job, |()| {}), Poll::Ready("stopped")));
    }

    #[test]
    fn a_panicking_job_is_lost() {
        let ctx = egui::Context::default();
        let mut job: Job<u32> = Job::start("test", &ctx, |_| panic!("boom"));
        assert!(matches!(wait(&mut job, |()| {}), Poll::Lost));
    }

    #[test]
    fn an_external_job_completes_from_elsewhere() {
        let ctx = egui::Context::default();
        let (mut job, completion) = Job::external("test", &ctx);
        assert!(matches!(job.poll(), Poll::Pending));
        completion.complete(7);
        assert!(matches!(job.poll(), Poll::Ready(7)));
    }
}
