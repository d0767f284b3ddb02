//! An Exchange mailbox log attached to the open capture (File ▸ Add mailbox log…, or a log dropped
//! on a window showing a capture): the `add-log` job opens it (`capture::open`), lines the capture
//! up with it (`analysis::align`) and adds the cross-source findings (`align::findings`) to the
//! capture's; the `align` job does the alignment again with a clock offset the user corrects. What
//! the window shows of it (the Log column, the log-only rows, the side-by-side inspector, the
//! `log:` filter) reads the [`Attached`] those jobs computed. It belongs to the capture: opening
//! another one drops it.
//!
//! The table's rows are `u32` ids: a position in the capture's sessions, or [`LOG_ROW`] plus the
//! position of a log-only entry in the log's sessions.

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::RichText;

use super::command::{AppCommand, Commands};
use super::jobs::{self, Job, Poll};
use super::loading::display_name;
use chrono::{DateTime, FixedOffset};
use easlens_core::analysis::Analysis;
use easlens_core::analysis::align::{self, Alignment, Pair, PairKind};
use easlens_core::analysis::findings::Findings;
use easlens_core::capture::{self, Capture, Format, OpenOptions, Progress, Session};
use easlens_core::filter::{self, Query, TextIndex};

/// The device most of a capture's ActiveSync requests come from.
pub fn trace_device(trace: &Capture) -> Option<String> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for s in &trace.sessions {
        if let Some(id) = s.eas.as_ref().and_then(|e| e.device_id.as_deref()) {
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(id, n)| (n, std::cmp::Reverse(id)))
        .map(|(id, _)| id.to_string())
}

/// Whether a capture is a device's own (SAZ or HAR), which a server log can be added to.
pub fn is_trace(format: Format) -> bool {
    matches!(format, Format::Saz | Format::Har)
}

/// The bit that marks a table row as a log-only entry (the rest is its position in the log).
pub const LOG_ROW: u32 = 1 << 31;

/// What a table row id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A session of the capture (its position in `Capture::sessions`).
    Trace(usize),
    /// A log-only entry (its position in the log's sessions).
    Log(usize),
}

impl Row {
    pub fn of(id: u32) -> Row {
        if id & LOG_ROW != 0 {
            Row::Log((id & !LOG_ROW) as usize)
        } else {
            Row::Trace(id as usize)
        }
    }
}

/// No pair (a CONNECT tunnel, or a log entry matched to a trace session).
const NONE: u32 = u32::MAX;

/// A mailbox log lined up with the capture: everything the window shows of it.
pub struct Attached {
    pub log: Arc<Capture>,
    /// The log's own item history and SyncKey chains (built with the alignment, off the UI thread).
    pub log_analysis: Analysis,
    pub alignment: Alignment,
    /// The capture's findings with the cross-source ones added.
    pub findings: Findings,
    /// Each trace session's place in the alignment (`log:`), by position.
    pub trace_tags: Vec<Option<PairKind>>,
    /// Each log entry's place in the alignment, by position.
    pub log_tags: Vec<Option<PairKind>>,
    /// Pair of each trace session / log entry (position in `alignment.pairs`, [`NONE`]).
    trace_pair: Vec<u32>,
    log_pair: Vec<u32>,
    /// Rank in time order of each trace session and of each log-only entry (sorting by # or time).
    trace_rank: Vec<u32>,
    log_rank: Vec<u32>,
    /// Matched, trace-only, log-only pairs.
    pub counts: [usize; 3],
}

impl Attached {
    /// Lines `trace` up with `log` (`hint`: a clock offset the user gave, seconds log − trace) and
    /// adds the cross-source findings to the capture's (computing those if need be).
    pub fn build(trace: &Capture, analysis: &Analysis, log: Arc<Capture>, hint: Option<i64>) -> Attached {
        let alignment = align::align(trace, &log, hint);
        let mut findings = analysis.findings().clone();
        align::add_findings(&mut findings, trace, &log, &alignment);
        let mut trace_tags = vec![None; trace.sessions.len()];
        let mut log_tags = vec![None; log.sessions.len()];
        let mut trace_pair = vec![NONE; trace.sessions.len()];
        let mut log_pair = vec![NONE; log.sessions.len()];
        let mut counts = [0; 3];
        for (k, p) in alignment.pairs.iter().enumerate() {
            if let Some(t) = p.trace {
                trace_tags[t] = Some(p.kind);
                trace_pair[t] = k as u32;
            }
            if let Some(l) = p.log {
                log_tags[l] = Some(p.kind);
                log_pair[l] = k as u32;
            }
            counts[match p.kind {
                PairKind::Matched => 0,
                PairKind::TraceOnly => 1,
                PairKind::LogOnly => 2,
            }] += 1;
        }
        // The alignment is in time order; a tunnel (left out of it) goes right after the session
        // before it (odd ranks sit between two pairs).
        let mut trace_rank = vec![NONE; trace.sessions.len()];
        let mut log_rank = vec![NONE; log.sessions.len()];
        for (k, p) in alignment.pairs.iter().enumerate() {
            let r = 2 * k as u32;
            match (p.trace, p.log) {
                (Some(t), _) => trace_rank[t] = r,
                (None, Some(l)) => log_rank[l] = r,
                _ => {}
            }
        }
        let mut last = 0;
        for r in trace_rank.iter_mut() {
            if *r == NONE {
                *r = last + 1;
            } else {
                last = *r;
            }
        }
        let log_analysis = Analysis::new(log.clone());
        // The index and chains are built now, in the job, not when a view first asks.
        let _ = (log_analysis.history().len(), log_analysis.chains().chains.len());
        Attached {
            log,
            log_analysis,
            alignment,
            findings,
            trace_tags,
            log_tags,
            trace_pair,
            log_pair,
            trace_rank,
            log_rank,
            counts,
        }
    }

    /// The pair a row belongs to.
    pub fn pair(&self, row: u32) -> Option<&Pair> {
        let k = match Row::of(row) {
            Row::Trace(t) => *self.trace_pair.get(t)?,
            Row::Log(l) => *self.log_pair.get(l)?,
        };
        self.alignment.pairs.get(k as usize)
    }

    /// A log time (as the log wrote it) in the capture's clock.
    pub fn to_trace_clock(&self, t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        t - chrono::Duration::seconds(self.alignment.clock_offset_seconds)
    }

    /// The trace session (its number) a log entry (position) is matched with.
    pub fn matched_trace_session(&self, trace: &Capture, log_position: usize) -> Option<u32> {
        let k = *self.log_pair.get(log_position)?;
        let p = self.alignment.pairs.get(k as usize)?;
        if p.kind != PairKind::Matched {
            return None;
        }
        trace.sessions.get(p.trace?).map(|s| s.http.index)
    }

    /// The row's place in the alignment (`None`: a tunnel).
    pub fn kind(&self, row: u32) -> Option<PairKind> {
        match Row::of(row) {
            Row::Trace(t) => self.trace_tags.get(t).copied().flatten(),
            Row::Log(l) => self.log_tags.get(l).copied().flatten(),
        }
    }

    /// The row's rank in time order.
    pub fn rank(&self, row: u32) -> u32 {
        match Row::of(row) {
            Row::Trace(t) => self.trace_rank.get(t).copied().unwrap_or(NONE),
            Row::Log(l) => self.log_rank.get(l).copied().unwrap_or(NONE),
        }
    }

    /// The log-only entries, as row ids.
    pub fn log_only_rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.alignment
            .pairs
            .iter()
            .filter(|p| p.kind == PairKind::LogOnly)
            .filter_map(|p| p.log.map(|l| l as u32 | LOG_ROW))
    }

    /// The clock offset as the window writes it: "+1:00:03".
    pub fn offset_label(&self) -> String {
        format_offset(self.alignment.clock_offset_seconds)
    }
}

/// The session a row shows: the capture's, or the log's for a log-only row.
pub fn session<'a>(trace: &'a Capture, log: Option<&'a Attached>, row: u32) -> Option<&'a Session> {
    match Row::of(row) {
        Row::Trace(t) => trace.sessions.get(t),
        Row::Log(l) => log?.log.sessions.get(l),
    }
}

/// The rows `query` matches: the capture's sessions (`text`: its body index), and with a log
/// attached, the log-only entries it matches too (their metadata; `log:` sees every row's place).
pub fn filter_rows(trace: &Capture, query: &Query, text: Option<&TextIndex>, log: Option<&Attached>) -> Vec<u32> {
    let Some(a) = log else {
        return filter::filter(trace, query, text);
    };
    let mut rows = filter::filter_aligned(trace, query, text, Some(&a.trace_tags));
    let entries = filter::filter_aligned(&a.log, query, None, Some(&a.log_tags));
    rows.extend(
        entries
            .into_iter()
            .filter(|&l| a.log_tags[l as usize] == Some(PairKind::LogOnly))
            .map(|l| l | LOG_ROW),
    );
    rows
}

/// "+1:00:03", "-0:00:05", "+0:00:00": a clock offset in seconds as ±H:MM:SS.
pub fn format_offset(seconds: i64) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A clock offset as typed: `±HH:MM:SS`, `±H:MM`, or seconds (`-3603`).
pub fn parse_offset(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let bad = || format!("`{t}` is not an offset: write ±HH:MM:SS (e.g. +1:00:03) or seconds (e.g. -45)");
    if rest.is_empty() {
        return Err(bad());
    }
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad());
    }
    let nums: Vec<i64> = parts
        .iter()
        .map(|p| p.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let seconds = match nums[..] {
        [s] => s,
        [h, m] if m < 60 => h * 3600 + m * 60,
        [h, m, s] if m < 60 && s < 60 => h * 3600 + m * 60 + s,
        _ => return Err(bad()),
    };
    if seconds > 14 * 24 * 3600 {
        return Err(format!("`{t}` is more than two weeks"));
    }
    Ok(sign * seconds)
}

/// Whether `path` starts like a mailbox log (its first 64 KiB: a cheap read, done when a file is
/// dropped on a window showing a capture, to add it rather than open it).
pub fn is_mailbox_log(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .is_ok()
        && easlens_core::readers::mailbox_log::looks_like_mailbox_log(&head)
}

/// The `add-log` job: the log aligned, or why it could not be (naming the file); progress updates.
type AddJob = Job<Result<Attached, String>, Progress>;

/// The mailbox log of the open capture: being added, being aligned again, attached.
#[derive(Default)]
pub struct LogPanel {
    /// The `add-log` job: (the log's path, the job).
    adding: Option<(PathBuf, AddJob)>,
    progress: Option<Progress>,
    /// The `align` job (a corrected clock offset).
    aligning: Option<Job<Attached>>,
    attached: Option<Arc<Attached>>,
    /// The last failure, naming the file.
    pub error: Option<String>,
    /// The clock offset field (what the user typed).
    offset_text: String,
    offset_error: Option<String>,
}

impl LogPanel {
    /// The log attached to the capture, once aligned.
    pub fn attached(&self) -> Option<&Arc<Attached>> {
        self.attached.as_ref()
    }

    /// True while a log is being opened or aligned.
    pub fn is_busy(&self) -> bool {
        self.adding.is_some() || self.aligning.is_some()
    }

    /// Another capture was opened: the log (and its jobs, cancelled) goes with the old one.
    pub fn clear(&mut self) -> Option<Arc<Attached>> {
        let previous = self.attached.take();
        *self = LogPanel::default();
        previous
    }

    /// Shows `attached` (the same log, redacted or as opened) in place of the one attached.
    pub fn replace_attached(&mut self, attached: Option<Arc<Attached>>) -> Option<Arc<Attached>> {
        self.aligning = None;
        if let Some(a) = &attached {
            self.offset_text = a.offset_label();
        }
        std::mem::replace(&mut self.attached, attached)
    }

    /// Starts the `add-log` job: opens `path`, aligns `trace` with it, adds the findings.
    pub fn add(&mut self, path: PathBuf, trace: Arc<Capture>, analysis: Arc<Analysis>, ctx: &egui::Context) {
        self.error = None;
        self.aligning = None;
        let name = display_name(&path);
        let p = path.clone();
        let job = Job::start_with_updates("add-log", ctx, move |worker| {
            let progress = |p: Progress| worker.post(p);
            let options = OpenOptions {
                progress: Some(&progress),
                cancel: Some(worker.cancel_flag()),
                ..Default::default()
            };
            let log = if capture::is_iis_log(&p) {
                // IIS logs hold every device: only this capture's device is read, and each
                // back-end line is folded into the front-end line of the same request.
                let device = trace_device(&trace);
                capture::open_iis(std::slice::from_ref(&p), &options, device.as_deref())
                    .map_err(|e| format!("Could not add the IIS logs {name}: {e}"))?
            } else {
                capture::open(&p, &options).map_err(|e| format!("Could not add the mailbox log {name}: {e}"))?
            };
            if !matches!(log.format, Format::MailboxLog | Format::IisLog) {
                return Err(format!(
                    "{name} is a {} capture, not an Exchange mailbox log: File ▸ Open shows it on its own",
                    format_name(log.format)
                ));
            }
            worker.post(Progress {
                fraction: 1.0,
                message: format!("Lining the capture up with {name}"),
            });
            Ok(Attached::build(&trace, &analysis, Arc::new(log), None))
        });
        self.progress = Some(Progress {
            fraction: 0.0,
            message: format!("Opening {}", display_name(&path)),
        });
        self.adding = Some((path, job));
    }

    /// Starts the `align` job again with `offset` (seconds, log − trace) as the hint.
    pub fn realign(&mut self, offset: i64, trace: Arc<Capture>, analysis: Arc<Analysis>, ctx: &egui::Context) {
        let Some(a) = &self.attached else { return };
        let log = a.log.clone();
        self.aligning = Some(Job::start("align", ctx, move |_| {
            Attached::build(&trace, &analysis, log, Some(offset))
        }));
    }

    /// Takes the jobs' results; true when the attached log changed (the table and the filter
    /// then show it).
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        if let Some((path, job)) = &mut self.adding {
            let progress = &mut self.progress;
            match job.poll_with(|p| *progress = Some(p)) {
                Poll::Pending => {}
                Poll::Ready(Ok(a)) => {
                    self.offset_text = a.offset_label();
                    self.attached = Some(Arc::new(a));
                    self.adding = None;
                    changed = true;
                }
                Poll::Ready(Err(e)) => {
                    self.error = Some(e);
                    self.adding = None;
                }
                Poll::Lost => {
                    self.error = Some(format!(
                        "Could not add the mailbox log {}: the job stopped unexpectedly",
                        display_name(path)
                    ));
                    self.adding = None;
                }
            }
        }
        if let Some(job) = &mut self.aligning {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(a) => {
                    self.offset_text = a.offset_label();
                    self.attached = Some(Arc::new(a));
                    self.aligning = None;
                    changed = true;
                }
                Poll::Lost => self.aligning = None,
            }
        }
        changed
    }

    /// The strip above the table: progress, the error, or the attached log with its clock offset
    /// and the field to correct it.
    pub fn ui(&mut self, ui: &mut egui::Ui, out: &mut Commands) {
        if let Some((path, job)) = &self.adding {
            let progress = self.progress.as_ref();
            let mut cancel = false;
            ui.horizontal(|ui| {
                jobs::spinner(ui);
                ui.label(format!("Adding mailbox log {}", display_name(path)));
                ui.add(
                    egui::ProgressBar::new(progress.map_or(job.progress(), |p| p.fraction))
                        .desired_width(160.0)
                        .show_percentage(),
                );
                if let Some(p) = progress {
                    ui.label(RichText::new(&p.message).weak());
                }
                cancel = ui.button("Cancel").clicked();
            });
            if cancel {
                self.adding = None;
            }
        }
        if let Some(e) = &self.error {
            let mut dismiss = false;
            egui::Frame::group(ui.style())
                .fill(ui.visuals().extreme_bg_color)
                .show(ui, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
                        dismiss = ui.button("Dismiss").clicked();
                    });
                });
            if dismiss {
                self.error = None;
            }
        }
        let Some(a) = self.attached.clone() else { return };
        let [matched, trace_only, log_only] = a.counts;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Mailbox log").strong());
            ui.label(display_name(&a.log.path))
                .on_hover_text(a.log.path.display().to_string());
            ui.label(
                RichText::new(format!(
                    "{matched} matched · {trace_only} trace only · {log_only} log only"
                ))
                .weak(),
            );
            ui.separator();
            ui.label(format!("log clock {} from the trace", a.offset_label()))
                .on_hover_text(
                    "Exchange's log time minus the capture's, estimated from requests only one log entry can match",
                );
            let label = ui.label("Correct:");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.offset_text)
                        .id_salt("log-offset")
                        .desired_width(80.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id)
                .on_hover_text("The log's clock offset: ±HH:MM:SS or seconds; Enter lines the capture up again");
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Re-align").clicked() || enter {
                match parse_offset(&self.offset_text) {
                    Ok(s) => {
                        self.offset_error = None;
                        out.push(AppCommand::RealignLog(s));
                    }
                    Err(e) => self.offset_error = Some(e),
                }
            }
            if self.aligning.is_some() {
                jobs::spinner(ui).on_hover_text("Lining up again…");
            }
            if ui.button("Remove log").clicked() {
                out.push(AppCommand::DetachLog);
            }
        });
        if let Some(e) = &self.offset_error {
            ui.label(RichText::new(format!("⊘ {e}")).color(ui.visuals().error_fg_color));
        }
    }

    /// Drops the attached log (Remove log).
    pub fn detach(&mut self) -> Option<Arc<Attached>> {
        self.aligning = None;
        self.offset_error = None;
        self.attached.take()
    }
}

/// What the window calls a capture's format.
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Saz => "SAZ",
        Format::Har => "HAR",
        Format::MailboxLog => "mailbox log",
        Format::IisLog => "IIS log",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_and_write_as_signed_hours_minutes_seconds() {
        assert_eq!(format_offset(3603), "+1:00:03");
        assert_eq!(format_offset(-5), "-0:00:05");
        assert_eq!(format_offset(0), "+0:00:00");
        for (t, s) in [
            ("+1:00:03", 3603),
            ("1:00:03", 3603),
            ("-0:00:05", -5),
            ("-45", -45),
            ("3600", 3600),
            ("+02:30", 9000),
            (" -1:00:00 ", -3600),
        ] {
            assert_eq!(parse_offset(t), Ok(s), "{t}");
        }
        for t in ["", "+", "1:60:00", "a", "1::2", "1:2:3:4", "99999999"] {
            assert!(parse_offset(t).is_err(), "{t}");
        }
    }

    #[test]
    fn row_ids_tell_log_entries_from_sessions() {
        assert_eq!(Row::of(5), Row::Trace(5));
        assert_eq!(Row::of(5 | LOG_ROW), Row::Log(5));
    }
}
