//! "Save screenshot…": a PNG of the whole window or of the inspector panel at 2× pixels per point.
//!
//! On a 1× display the UI is zoomed to 2× and the window doubled in physical size (so the layout in
//! points stays the same), a few frames settle, eframe's screenshot API reads the frame back, and
//! the zoom and size are restored. The PNG is encoded and written on a worker thread to a file the
//! user picked (rfd, off the UI thread).

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::{Duration, Instant};

use egui::{ColorImage, Rect, Vec2};

/// The scale evidence images are rendered at.
pub const SCALE: f32 = 2.0;
/// Frames to let the zoomed layout settle before reading it back.
const SETTLE_FRAMES: u32 = 3;
/// Frames to wait for the window to grow to 2× before falling back to 1×.
const GROW_FRAMES: u32 = 20;
/// Give up when the integration never delivers the image (e.g. a headless test harness).
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Window,
    Inspector,
}

enum State {
    Idle,
    Choosing {
        target: Target,
        rx: Receiver<Option<PathBuf>>,
    },
    Settling {
        job: Job,
        frames: u32,
    },
    Reading {
        job: Job,
        rx: Receiver<Arc<ColorImage>>,
    },
    Saving {
        rx: Receiver<Result<PathBuf, String>>,
        fallback: bool,
    },
}

struct Job {
    target: Target,
    path: PathBuf,
    /// Zoom and size (points) to restore; `None` when no zoom was needed.
    restore: Option<(f32, Vec2)>,
    /// The window could not be enlarged for 2×, so the image is at the screen's scale.
    fallback: bool,
    started: Instant,
}

/// State of the screenshot feature.
pub struct Screenshotter {
    state: State,
    /// The outcome of the last screenshot ("Saved …" or the error), for the status bar.
    pub message: Option<(bool, String)>,
}

impl Default for Screenshotter {
    fn default() -> Self {
        Screenshotter {
            state: State::Idle,
            message: None,
        }
    }
}

impl Screenshotter {
    pub fn busy(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// True while frames are being rendered for the image (the status bar stays quiet then).
    pub fn capturing(&self) -> bool {
        matches!(self.state, State::Settling { .. } | State::Reading { .. })
    }

    /// Asks where to save, then takes the screenshot. `suggested`: file name; `dir`: where to start.
    pub fn request(&mut self, ctx: &egui::Context, target: Target, suggested: String, dir: Option<PathBuf>) {
        if self.busy() {
            return;
        }
        let (tx, rx) = channel();
        let ctx2 = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("easlens-save-dialog".into())
            .spawn(move || {
                let mut d = rfd::FileDialog::new()
                    .set_title("Save screenshot")
                    .add_filter("PNG image", &["png"])
                    .set_file_name(suggested);
                if let Some(dir) = dir {
                    d = d.set_directory(dir);
                }
                let _ = tx.send(d.save_file());
                ctx2.request_repaint();
            });
        if spawned.is_ok() {
            self.state = State::Choosing { target, rx };
        }
    }

    /// Takes a screenshot into `path` without asking (used after the dialog, and by the bench mode).
    pub fn capture_to(&mut self, ctx: &egui::Context, target: Target, path: PathBuf) {
        let ppp = ctx.pixels_per_point();
        let restore = (ppp < SCALE).then(|| {
            let zoom = ctx.zoom_factor();
            let size = ctx.content_rect().size();
            ctx.set_zoom_factor(zoom * SCALE / ppp);
            ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
            (zoom, size)
        });
        self.state = State::Settling {
            job: Job {
                target,
                path,
                restore,
                fallback: false,
                started: Instant::now(),
            },
            frames: 0,
        };
        ctx.request_repaint();
    }

    /// Advances the state machine; call once per frame. `inspector`: the inspector panel's rect.
    pub fn poll(&mut self, ctx: &egui::Context, inspector: Option<Rect>) {
        let state = std::mem::replace(&mut self.state, State::Idle);
        self.state = match state {
            State::Idle => State::Idle,
            State::Choosing { target, rx } => match rx.try_recv() {
                Ok(Some(mut path)) => {
                    if path.extension().is_none() {
                        path.set_extension("png");
                    }
                    self.capture_to(ctx, target, path);
                    return;
                }
                Ok(None) | Err(TryRecvError::Disconnected) => State::Idle,
                Err(TryRecvError::Empty) => State::Choosing { target, rx },
            },
            State::Settling { mut job, frames } => {
                // At 2×, wait until the window has really grown, to keep the layout in points.
                let grown = job.restore.is_none_or(|(_, size)| {
                    (ctx.content_rect().size() - size).length() < 1.0 && ctx.pixels_per_point() >= SCALE - 0.01
                });
                if !grown && frames >= GROW_FRAMES {
                    // The screen or the window manager refused the size: a cramped 2× layout
                    // would be worse evidence than a 1× image.
                    restore(ctx, &job);
                    job.restore = None;
                    job.fallback = true;
                    ctx.request_repaint();
                    State::Settling { job, frames: 0 }
                } else if !grown || frames < SETTLE_FRAMES {
                    ctx.request_repaint();
                    State::Settling {
                        job,
                        frames: frames + 1,
                    }
                } else {
                    let (tx, rx) = channel();
                    let c = ctx.clone();
                    ctx.request_screenshot(move |image| {
                        let _ = tx.send(image);
                        c.request_repaint();
                    });
                    State::Reading { job, rx }
                }
            }
            State::Reading { job, rx } => match rx.try_recv() {
                Ok(image) => {
                    // The layout in points is unchanged, so the image's own scale is its width over it.
                    let ppp = image.width() as f32 / ctx.content_rect().width().max(1.0);
                    restore(ctx, &job);
                    let region = match (job.target, inspector) {
                        (Target::Inspector, Some(rect)) => image.region(&rect, Some(ppp)),
                        _ => (*image).clone(),
                    };
                    let (tx, rx) = channel();
                    let c = ctx.clone();
                    let path = job.path.clone();
                    let _ = std::thread::Builder::new()
                        .name("easlens-save-png".into())
                        .spawn(move || {
                            let _ = tx.send(write_png(&path, &region).map(|()| path));
                            c.request_repaint();
                        });
                    State::Saving {
                        rx,
                        fallback: job.fallback,
                    }
                }
                Err(TryRecvError::Empty) if job.started.elapsed() < TIMEOUT => {
                    ctx.request_repaint_after(Duration::from_millis(50));
                    State::Reading { job, rx }
                }
                Err(_) => {
                    restore(ctx, &job);
                    self.message = Some((false, "The screenshot could not be read back from the renderer".into()));
                    State::Idle
                }
            },
            State::Saving { rx, fallback } => match rx.try_recv() {
                Ok(Ok(path)) => {
                    let note = if fallback {
                        " (at 1×: the window could not be enlarged to render at 2×)"
                    } else {
                        ""
                    };
                    self.message = Some((true, format!("Saved {}{note}", path.display())));
                    State::Idle
                }
                Ok(Err(e)) => {
                    self.message = Some((false, e));
                    State::Idle
                }
                Err(TryRecvError::Empty) => State::Saving { rx, fallback },
                Err(TryRecvError::Disconnected) => State::Idle,
            },
        };
    }
}

fn restore(ctx: &egui::Context, job: &Job) {
    if let Some((zoom, size)) = job.restore {
        ctx.set_zoom_factor(zoom);
        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
    }
}

/// Writes `image` as an 8-bit RGBA PNG.
pub fn write_png(path: &Path, image: &ColorImage) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("Cannot save {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let [w, h] = image.size;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(&e))?;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    writer.write_image_data(&bytes).map_err(|e| fail(&e))?;
    writer.finish().map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::Color32;

    #[test]
    fn png_round_trips_the_pixels_of_a_region() {
        let mut image = ColorImage::filled([40, 20], Color32::from_rgb(10, 20, 30));
        image[(30, 10)] = Color32::from_rgb(200, 100, 50);
        // The right half at 2 pixels per point: points (10..20, 0..10).
        let region = image.region(
            &Rect::from_min_max(egui::pos2(10.0, 0.0), egui::pos2(20.0, 10.0)),
            Some(2.0),
        );
        assert_eq!(region.size, [20, 20]);
        let dir = std::env::temp_dir().join(format!("easlens-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.png");
        write_png(&path, &region).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (20, 20));
        let px = |x: usize, y: usize| &buf[(y * 20 + x) * 4..(y * 20 + x) * 4 + 4];
        assert_eq!(px(10, 10), &[200, 100, 50, 255]);
        assert_eq!(px(0, 0), &[10, 20, 30, 255]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_path_is_a_clear_error() {
        let image = ColorImage::filled([2, 2], Color32::WHITE);
        let e = write_png(Path::new("/nonexistent-dir/x.png"), &image).unwrap_err();
        assert!(e.contains("/nonexistent-dir/x.png"), "{e}");
    }
}
