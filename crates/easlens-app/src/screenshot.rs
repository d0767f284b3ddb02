//! "Save screenshot…" and "Copy screenshot": a PNG of the whole window or of the inspector panel
//! at 2× scale, to a file (named after the capture, the view, the session and the time, never
//! over an existing file) or to the clipboard; optionally with the controls (menu, filter bar,
//! view buttons, status bar) hidden, so the picture shows data only.
//!
//! eframe's screenshot API reads the rendered frame back after a few settled frames. On a HiDPI
//! display (2 pixels per point) that is already the 2× image. On a 1× display every pixel is
//! doubled (nearest neighbour, so text stays sharp-edged): re-rendering at 2× would need the window
//! to double in size, which X11 window managers and small screens refuse or apply late. The PNG is
//! encoded and written by the `save-png` job to a file the user picked (the `save-dialog` job:
//! rfd, off the UI thread); the read-back is the `screenshot` job, completed by the renderer.

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{ColorImage, Rect};

use super::jobs::{Job, Poll};

/// The scale evidence images are rendered at.
pub const SCALE: f32 = 2.0;
/// Frames to let the layout settle (menus closed, repaint done) before reading it back.
const SETTLE_FRAMES: u32 = 3;
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
        dialog: Job<Option<PathBuf>>,
    },
    Settling {
        shot: Shot,
        frames: u32,
    },
    Reading {
        shot: Shot,
        image: Job<Arc<ColorImage>>,
    },
    Saving {
        png: Job<Result<PathBuf, String>>,
    },
}

/// Where a screenshot goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    File(PathBuf),
    Clipboard,
}

/// One screenshot being taken.
struct Shot {
    target: Target,
    dest: Dest,
    started: Instant,
}

/// State of the screenshot feature.
pub struct Screenshotter {
    state: State,
    /// The outcome of the last screenshot ("Saved …" or the error), for the status bar.
    pub message: Option<(bool, String)>,
    /// Screenshots leave out the controls (menu, filter bar, view buttons, status bar).
    pub hide_controls: bool,
}

impl Default for Screenshotter {
    fn default() -> Self {
        Screenshotter {
            state: State::Idle,
            message: None,
            hide_controls: false,
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

    /// True while the frames rendered for the image are to show data only.
    pub fn hiding_controls(&self) -> bool {
        self.hide_controls && self.capturing()
    }

    /// Takes a screenshot and puts it on the clipboard.
    pub fn copy(&mut self, ctx: &egui::Context, target: Target) {
        if self.busy() {
            return;
        }
        self.shoot(ctx, target, Dest::Clipboard);
    }

    /// Asks where to save, then takes the screenshot. `suggested`: file name; `dir`: where to start.
    pub fn request(&mut self, ctx: &egui::Context, target: Target, suggested: String, dir: Option<PathBuf>) {
        if self.busy() {
            return;
        }
        // Without a thread there is no dialog (and no screenshot), as when none is available.
        let dialog = Job::start_on_thread("save-dialog", ctx, move |_| {
            let mut d = rfd::FileDialog::new()
                .set_title("Save screenshot")
                .add_filter("PNG image", &["png"])
                .set_file_name(suggested);
            if let Some(dir) = dir {
                d = d.set_directory(dir);
            }
            d.save_file()
        });
        self.state = State::Choosing { target, dialog };
    }

    /// Takes a screenshot into `path` without asking (used after the dialog, and by the bench mode).
    pub fn capture_to(&mut self, ctx: &egui::Context, target: Target, path: PathBuf) {
        self.shoot(ctx, target, Dest::File(path));
    }

    fn shoot(&mut self, ctx: &egui::Context, target: Target, dest: Dest) {
        self.state = State::Settling {
            shot: Shot {
                target,
                dest,
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
            State::Choosing { target, mut dialog } => match dialog.poll() {
                Poll::Ready(Some(mut path)) => {
                    if path.extension().is_none() {
                        path.set_extension("png");
                    }
                    self.capture_to(ctx, target, path);
                    return;
                }
                Poll::Ready(None) | Poll::Lost => State::Idle,
                Poll::Pending => State::Choosing { target, dialog },
            },
            State::Settling { shot, frames } => {
                if frames < SETTLE_FRAMES {
                    ctx.request_repaint();
                    State::Settling {
                        shot,
                        frames: frames + 1,
                    }
                } else {
                    let (image, completion) = Job::external("screenshot", ctx);
                    ctx.request_screenshot(move |image| completion.complete(image));
                    State::Reading { shot, image }
                }
            }
            State::Reading { shot, mut image } => match image.poll() {
                Poll::Ready(image) => {
                    let ppp = ctx.pixels_per_point();
                    let region = match (shot.target, inspector) {
                        (Target::Inspector, Some(rect)) => image.region(&rect, Some(ppp)),
                        _ => (*image).clone(),
                    };
                    let factor = (SCALE / ppp).round().max(1.0) as usize;
                    match shot.dest {
                        Dest::Clipboard => {
                            ctx.copy_image(upscale(&region, factor));
                            self.message = Some((true, "Copied the screenshot to the clipboard".into()));
                            State::Idle
                        }
                        Dest::File(path) => {
                            // Without a thread the PNG is not written, and nothing is reported.
                            let png = Job::start_on_thread("save-png", ctx, move |_| {
                                write_png(&path, &upscale(&region, factor)).map(|()| path)
                            });
                            State::Saving { png }
                        }
                    }
                }
                Poll::Pending if shot.started.elapsed() < TIMEOUT => {
                    ctx.request_repaint_after(Duration::from_millis(50));
                    State::Reading { shot, image }
                }
                Poll::Pending | Poll::Lost => {
                    self.message = Some((false, "The screenshot could not be read back from the renderer".into()));
                    State::Idle
                }
            },
            State::Saving { mut png } => match png.poll() {
                Poll::Ready(Ok(path)) => {
                    self.message = Some((true, format!("Saved {}", path.display())));
                    State::Idle
                }
                Poll::Ready(Err(e)) => {
                    self.message = Some((false, e));
                    State::Idle
                }
                Poll::Pending => State::Saving { png },
                Poll::Lost => State::Idle,
            },
        };
    }
}

/// A file name for a screenshot in `dir` that names no existing file: `parts` (capture, view,
/// session) and the time joined by `-`, made safe for any file system, then `-2`, `-3`, … when
/// that name is taken.
pub fn unique_name(dir: &Path, parts: &[&str], time: chrono::DateTime<chrono::Local>) -> PathBuf {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut stem: Vec<String> = parts.iter().filter(|p| !p.is_empty()).map(|p| safe(p)).collect();
    stem.push(time.format("%Y%m%d-%H%M%S").to_string());
    let stem = stem.join("-");
    let mut path = dir.join(format!("{stem}.png"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.png"));
        n += 1;
    }
    path
}

/// `image` with every pixel repeated `factor` times in both directions.
pub fn upscale(image: &ColorImage, factor: usize) -> ColorImage {
    if factor <= 1 {
        return image.clone();
    }
    let [w, h] = image.size;
    let mut pixels = Vec::with_capacity(w * h * factor * factor);
    for row in image.pixels.chunks(w.max(1)) {
        let wide: Vec<_> = row.iter().flat_map(|p| std::iter::repeat_n(*p, factor)).collect();
        for _ in 0..factor {
            pixels.extend_from_slice(&wide);
        }
    }
    ColorImage::new([w * factor, h * factor], pixels)
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
    fn upscaling_doubles_every_pixel() {
        let mut image = ColorImage::filled([3, 2], Color32::BLACK);
        image[(2, 1)] = Color32::WHITE;
        let big = upscale(&image, 2);
        assert_eq!(big.size, [6, 4]);
        for (x, y) in [(4, 2), (5, 2), (4, 3), (5, 3)] {
            assert_eq!(big[(x, y)], Color32::WHITE, "({x}, {y})");
        }
        assert_eq!(big[(3, 2)], Color32::BLACK);
        assert_eq!(big[(4, 1)], Color32::BLACK);
        assert_eq!(upscale(&image, 1).size, [3, 2]);
    }

    #[test]
    fn screenshot_names_say_what_they_show_and_never_overwrite() {
        let dir = std::env::temp_dir().join(format!("easlens-shot-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let time = chrono::Local::now();
        let first = unique_name(&dir, &["my capture", "inspector", "session 12"], time);
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("my-capture-inspector-session-12-"), "{name}");
        assert!(name.ends_with(".png"), "{name}");
        std::fs::write(&first, b"x").unwrap();
        let second = unique_name(&dir, &["my capture", "inspector", "session 12"], time);
        assert_ne!(first, second);
        assert!(second.to_string_lossy().ends_with("-2.png"), "{}", second.display());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_path_is_a_clear_error() {
        let image = ColorImage::filled([2, 2], Color32::WHITE);
        let e = write_png(Path::new("/nonexistent-dir/x.png"), &image).unwrap_err();
        assert!(e.contains("/nonexistent-dir/x.png"), "{e}");
    }
}
