//! The desktop inspector (eframe/egui, glow renderer). It only presents what the engine computed:
//! the capture is opened by `capture::open` in the background (`loading`), and its analysis
//! (`analysis`) completed there too; every background task is a job (`jobs`). The filter bar
//! (`filter_bar`), the sessions table (`sessions`), the request/response inspector (`inspector`),
//! the views under the table (`findings`, `history`, `synckeys`, `timeline`, `compare`,
//! `statistics`), screenshots (`screenshot`) and the bench mode (`bench`) each own their state;
//! what they ask of the rest of the window is an [`AppCommand`] (`command`), applied in one place
//! ([`EaslensApp::apply`]). What the window keeps between runs is the preferences (`prefs`, with
//! the `recent` files).
//!
//! [`EaslensApp::ui`] draws the whole window into any `Ui`, so tests drive it headless through
//! egui_kittest exactly as eframe does.

pub mod analysis;
pub mod bench;
pub mod command;
pub mod compare;
pub mod filter_bar;
pub mod findings;
pub mod history;
pub mod iis_reports;
pub mod inspector;
pub mod jobs;
pub mod keys;
pub mod loading;
pub mod mailbox_log;
pub mod prefs;
pub mod recent;
pub mod redaction;
pub mod screenshot;
pub mod sessions;
pub mod statistics;
pub mod synckeys;
pub mod timeline;

use eframe::egui;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{KeyboardShortcut, RichText};

use analysis::AnalysisState;
use bench::Bench;
use command::Commands;
pub use command::{AppCommand, ReportScope, View};
use easlens_core::analysis::statistics::Statistics;
use easlens_core::capture::Capture;
use easlens_core::numbers;
use filter_bar::FilterBar;
use history::HistoryPanel;
use inspector::Inspector;
use jobs::{Job, Poll};
use loading::{LoadOutcome, LoadTimes, Loader, Opened, display_name};
use prefs::Prefs;
use screenshot::Screenshotter;
use sessions::SessionsPanel;

use keys::{COPY_TEXT, NEXT_PROBLEM, OPEN, PREVIOUS_PROBLEM, QUIT, SHORTCUT_LIST, SHOT_INSPECTOR, SHOT_WINDOW};

/// The least height the views under the session table keep when the split is dragged.
pub const LOWER_PANEL_MIN: f32 = 300.0;

/// How often the window repaints while a big capture's first sessions are shown and the rest
/// loads.
const PREVIEW_REPAINT: Duration = Duration::from_millis(500);

/// How long a status-bar message stays.
const TOAST: Duration = Duration::from_secs(4);

/// The empty-state text.
pub const EMPTY_STATE: &str = "Open a Fiddler .saz or HAR capture — File ▸ Open, drop a file here, or `easlens FILE`";

/// Opens the window (blocking until it is closed) on `file`, with the mailbox log `log` added to it.
pub fn run(file: Option<PathBuf>, log: Option<PathBuf>) -> ExitCode {
    let title = match &file {
        Some(f) => format!("easlens — {}", display_name(f)),
        None => "easlens".into(),
    };
    let bench = Bench::from_env();
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        // The bench mode measures frame times, which vsync would pin to the display rate, in a
        // window of the size asked for.
        glow_options: eframe::egui_glow::GlowConfiguration {
            vsync: bench.is_none(),
            ..Default::default()
        },
        persist_window: bench.is_none(),
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_app_id("easlens")
            .with_inner_size(bench.as_ref().and(bench::window_size()).unwrap_or([1280.0, 800.0]))
            .with_min_inner_size([800.0, 560.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let result = eframe::run_native(
        "easlens",
        options,
        Box::new(move |cc| {
            let mut app = EaslensApp::new(file).with_log(log);
            if let Some(storage) = cc.storage {
                app.prefs = Prefs::load(storage);
                app.sessions.hidden_columns = app.prefs.hidden_columns.clone();
            }
            app.bench = bench;
            Ok(Box::new(app) as Box<dyn eframe::App>)
        }),
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

/// The whole application state: the preferences kept between runs, and the open capture with
/// everything shown of it.
pub struct EaslensApp {
    /// What the window keeps between runs (the recent files).
    pub prefs: Prefs,
    /// A file to open on the first frame (from the command line).
    pending: Option<PathBuf>,
    /// A mailbox log to add once that file is open (`easlens FILE --log LOG`).
    pending_log: Option<PathBuf>,
    loader: Option<Loader>,
    capture: Option<Arc<Capture>>,
    /// When the steps of opening the capture ended.
    load_times: Option<LoadTimes>,
    /// The last open failure, shown in a banner until dismissed.
    error: Option<String>,
    /// The Open or Add mailbox log dialog (the `file-dialog` job); true for Add mailbox log.
    file_dialog: Option<(bool, Job<Option<PathBuf>>)>,
    /// The Exchange mailbox log attached to the capture.
    pub log: mailbox_log::LogPanel,
    pub filter: FilterBar,
    pub sessions: SessionsPanel,
    pub inspector: Inspector,
    pub view: View,
    pub history: HistoryPanel,
    pub timeline: timeline::Timeline,
    pub findings: findings::FindingsPanel,
    pub synckeys: synckeys::SyncKeysPanel,
    pub compare: compare::ComparePanel,
    pub statistics: statistics::StatisticsPanel,
    pub iis_reports: iis_reports::IisReportsView,
    pub analysis: AnalysisState,
    pub screenshot: Screenshotter,
    /// The inspector panel's rect in the last frame (for "screenshot of the inspector"), and
    /// the session table's.
    pub inspector_rect: Option<egui::Rect>,
    pub table_rect: Option<egui::Rect>,
    /// Set by the bench mode (`EASLENS_BENCH`).
    pub bench: Option<Bench>,
    /// A short-lived message for the status bar (e.g. "Copied …").
    toast: Option<(String, Instant)>,
    show_warnings: bool,
    /// Help ▸ Keyboard shortcuts is open.
    pub show_shortcuts: bool,
    /// Only the first sessions of the capture are shown (still loading, or the rest was not
    /// read): what the banner says.
    pub partial: Option<String>,
    /// The height under the menu last frame (the split keeps its share when it changes).
    last_total_h: f32,
    fonts_set: bool,
    /// What the views asked for this frame, not applied yet.
    commands: Commands,
    /// "Redact personal data": the redacted copy shown, the capture as opened, the map.
    pub redaction: redaction::Redaction,
    /// A Save dialog for an export (the `save-dialog` job), and what it is for.
    save_dialog: Option<(Export, Job<Option<PathBuf>>)>,
    /// An export being written (the `export` job).
    exporting: Option<Job<Result<String, String>>>,
    /// Reports exported from the window keep personal data (off: they are redacted).
    pub report_personal_data: bool,
}

/// What a Save dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    PseudonymMap,
    /// A redacted SAZ or HAR of these sessions.
    RedactedCapture(Scope),
    /// An evidence report (HTML or Markdown).
    Report(ReportScope),
    /// The statistics view as CSV.
    Statistics,
    /// An IIS report (by name) as CSV.
    IisReport(&'static str),
}

/// Which sessions an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every session of the capture.
    All,
    /// The sessions the filter shows, in capture order.
    Filtered,
    /// The selected session.
    Selected,
}

impl EaslensApp {
    pub fn new(file: Option<PathBuf>) -> EaslensApp {
        EaslensApp {
            prefs: Prefs::default(),
            pending: file,
            pending_log: None,
            loader: None,
            capture: None,
            load_times: None,
            error: None,
            file_dialog: None,
            log: mailbox_log::LogPanel::default(),
            filter: FilterBar::default(),
            sessions: SessionsPanel::default(),
            inspector: Inspector::default(),
            view: View::Inspector,
            history: HistoryPanel::default(),
            timeline: timeline::Timeline::default(),
            findings: findings::FindingsPanel::default(),
            synckeys: synckeys::SyncKeysPanel::default(),
            compare: compare::ComparePanel::default(),
            statistics: statistics::StatisticsPanel::default(),
            iis_reports: iis_reports::IisReportsView::default(),
            analysis: AnalysisState::default(),
            screenshot: Screenshotter::default(),
            inspector_rect: None,
            table_rect: None,
            bench: None,
            toast: None,
            show_warnings: false,
            show_shortcuts: false,
            partial: None,
            last_total_h: 0.0,
            fonts_set: false,
            commands: Commands::new(),
            redaction: redaction::Redaction::default(),
            save_dialog: None,
            exporting: None,
            report_personal_data: false,
        }
    }

    /// Adds the mailbox log `log` to the capture given to [`EaslensApp::new`] once it is open.
    pub fn with_log(mut self, log: Option<PathBuf>) -> EaslensApp {
        self.pending_log = log;
        self
    }

    /// The opened capture, once loaded.
    pub fn capture(&self) -> Option<&Capture> {
        self.capture.as_deref()
    }

    /// When the steps of opening the capture ended (the bench mode reports them).
    pub fn load_times(&self) -> Option<LoadTimes> {
        self.load_times
    }

    /// True while a capture is being opened (including a pending password prompt).
    pub fn is_loading(&self) -> bool {
        self.loader.is_some() || self.pending.is_some()
    }

    /// The password prompt waiting for the user, if any.
    pub fn password_prompt(&self) -> Option<&easlens_core::capture::PasswordPrompt> {
        self.loader.as_ref().and_then(|l| l.prompt())
    }

    /// The last open failure.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Asks for `command` (applied with the others of the frame).
    pub fn push(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    /// Carries out the commands pushed so far (and those they push), in order: the one place
    /// where views' requests change the window's state.
    pub fn apply(&mut self, ctx: &egui::Context) {
        while !self.commands.is_empty() {
            for command in std::mem::take(&mut self.commands) {
                match command {
                    AppCommand::Open(path) => self.open(path),
                    AppCommand::ShowOpenDialog => self.open_dialog(ctx, false, false),
                    AppCommand::ShowAddLogDialog => self.open_dialog(ctx, true, false),
                    AppCommand::ShowIisFolderDialog(add) => self.open_dialog(ctx, add, true),
                    AppCommand::AddLog(path) => self.add_log(path, ctx),
                    AppCommand::RealignLog(offset) => {
                        if let (Some(c), Some(a)) = (&self.capture, self.analysis.shared_arc()) {
                            self.log.realign(offset, c.clone(), a, ctx);
                        }
                    }
                    AppCommand::DetachLog => {
                        let previous = self.log.detach();
                        self.log_changed(ctx);
                        release(previous);
                    }
                    AppCommand::ClearRecent => self.prefs.recent.clear(),
                    AppCommand::SelectSession(i) => self.select(i),
                    AppCommand::SelectSessionNumber(n) => {
                        if let Some(pos) = self
                            .capture
                            .as_ref()
                            .and_then(|c| c.sessions.iter().position(|s| s.index == n))
                        {
                            self.select(pos as u32);
                        }
                    }
                    AppCommand::SetFilter(query) => self.filter.set_query(query),
                    AppCommand::FilteredRows(rows) => {
                        if let Some(c) = &self.capture {
                            // A selection the new rows hide is dropped (the inspector no longer
                            // shows it as if selected); the table scrolls to it, or to the top.
                            self.sessions.set_filter(c, self.analysis.folders(), rows);
                        }
                    }
                    AppCommand::FocusFilter => self.filter.focus(),
                    AppCommand::FollowItem(id) => self.follow_item(&id, ctx),
                    AppCommand::Compare(left, right) => {
                        self.compare.set(left as usize, right as usize);
                        self.view = View::Compare;
                    }
                    AppCommand::ShowView(view) => self.view = view,
                    AppCommand::Screenshot(target) => self.take_screenshot(ctx, target),
                    AppCommand::CopyScreenshot(target) => self.screenshot.copy(ctx, target),
                    AppCommand::CopySelectedAsText => self.copy_selected_as_text(ctx),
                    AppCommand::Notify(text) => {
                        self.toast = Some((text, Instant::now()));
                        ctx.request_repaint_after(TOAST);
                    }
                    AppCommand::DismissError => self.error = None,
                    AppCommand::ShowWarnings(show) => self.show_warnings = show,
                    AppCommand::SetRedaction(_) | AppCommand::SaveRedactedCapture(_) | AppCommand::ExportReport(_)
                        if self.loader.as_ref().is_some_and(|l| l.previewing) =>
                    {
                        self.push(AppCommand::Notify(
                            "Only the first sessions are loaded yet: wait until the whole capture is read".into(),
                        ));
                    }
                    AppCommand::SetRedaction(on) => self.set_redaction(on, ctx),
                    AppCommand::ShowPseudonymMap(show) => self.redaction.show_map = show,
                    AppCommand::ExportPseudonymMap => self.save_dialog(ctx, Export::PseudonymMap),
                    AppCommand::SaveRedactedCapture(scope) => self.save_dialog(ctx, Export::RedactedCapture(scope)),
                    AppCommand::ExportReport(scope) => self.save_dialog(ctx, Export::Report(scope)),
                    AppCommand::NextProblem(forward) => self.next_problem(forward),
                    AppCommand::ShowShortcuts(show) => self.show_shortcuts = show,
                    AppCommand::ExportStatistics => self.save_dialog(ctx, Export::Statistics),
                    AppCommand::ExportIisReport(name) => self.save_dialog(ctx, Export::IisReport(name)),
                    AppCommand::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
                }
            }
        }
    }

    /// Selects session `i` (position in `Capture::sessions`) asked for by a view. A session the
    /// settled filter hides is shown by clearing the filter (said in the status bar): the
    /// inspector never shows a session the table does not.
    fn select(&mut self, i: u32) {
        if self.filter.is_settled() && self.sessions.hides(i) {
            self.filter.set_query("");
            let n = self
                .capture
                .as_ref()
                .and_then(|c| c.sessions.get(i as usize))
                .map_or(0, |s| s.index);
            self.push(AppCommand::Notify(format!(
                "Session #{n} was hidden by the filter: the filter was cleared"
            )));
        }
        self.sessions.select(i);
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
            // The open capture is not shown while another opens: its body index waits.
            self.filter.pause_indexing();
            // While redacting, nothing unredacted may be shown: no preview then.
            self.loader = Some(Loader::start(path, !self.redaction.on, ctx));
        }
    }

    /// The open was cancelled or failed: the capture still open gets its body index back.
    fn back_to_capture(&mut self, ctx: &egui::Context) {
        if let Some(c) = &self.capture {
            self.filter.resume_indexing(c, ctx);
        }
    }

    fn poll_loader(&mut self, ctx: &egui::Context) {
        let Some(loader) = &mut self.loader else { return };
        let outcome = loader.poll();
        if let Some(first) = loader.take_preview() {
            let n = first.capture.sessions.len();
            self.take_opened(first, false, false, ctx);
            self.partial = Some(format!(
                "The first {} sessions are shown while the rest of the capture is read",
                numbers::group_thousands(n as u64)
            ));
        }
        let previewed = self.loader.as_ref().is_some_and(|l| l.previewing);
        let shown = self.capture.as_ref().map_or(0, |c| c.sessions.len());
        let only_first = |why: &str| {
            format!(
                "{why}: only the first {} sessions are shown (File ▸ Reload reads them all)",
                numbers::group_thousands(shown as u64)
            )
        };
        match outcome {
            LoadOutcome::Pending => {}
            LoadOutcome::Cancelled => {
                self.loader = None;
                if previewed {
                    self.partial = Some(only_first("Loading was cancelled"));
                } else {
                    self.back_to_capture(ctx);
                }
            }
            LoadOutcome::Done(result) => {
                self.loader = None;
                match result {
                    Ok(opened) => {
                        self.partial = None;
                        self.take_opened(opened, true, previewed, ctx);
                    }
                    Err(e) => {
                        self.error = Some(e.to_string());
                        if previewed {
                            self.partial = Some(only_first("The rest could not be read"));
                        } else {
                            self.back_to_capture(ctx);
                        }
                    }
                }
            }
        }
    }

    /// Shows a capture the loader opened: its first sessions (`whole` false), or all of them.
    /// A new file starts afresh; the whole of a capture whose first sessions are shown
    /// (`replacing`) keeps the filter, the selection and the scroll position.
    fn take_opened(&mut self, opened: Opened, whole: bool, replacing: bool, ctx: &egui::Context) {
        let Opened {
            capture,
            analysis,
            times,
        } = opened;
        if !replacing {
            // Another capture: its log (and the log's jobs), the filter, the selection and the
            // table's scroll position go.
            release(self.log.clear());
            self.sessions.selected = None;
            self.filter.clear_query();
        }
        self.show_warnings = whole && !capture.warnings.is_empty();
        self.show(capture.clone(), analysis.clone(), None, ctx);
        if !replacing {
            self.sessions.scroll_to_top();
        }
        if !whole {
            return;
        }
        self.load_times = Some(times);
        self.prefs.recent.push(&capture.path);
        self.redaction.forget();
        if self.redaction.on {
            self.redaction.start(
                redaction::Original {
                    capture,
                    analysis,
                    log: None,
                },
                ctx,
            );
        }
        if let Some(log) = self.pending_log.take() {
            self.push(AppCommand::AddLog(log));
        }
    }

    /// Starts adding the mailbox log `path` to the open capture (the `add-log` job).
    pub fn add_log(&mut self, path: PathBuf, ctx: &egui::Context) {
        match (&self.capture, self.analysis.shared_arc()) {
            (Some(c), _) if !mailbox_log::is_trace(c.format) => {
                self.log.error = Some(format!(
                    "Cannot add {}: the open file is itself a server log; open the device's capture first",
                    display_name(&path)
                ));
            }
            // While redacting, the log is lined up with the capture as opened, then both are
            // redacted together (`log_changed`).
            (Some(_), Some(_)) if self.redaction.original().is_some() => {
                if let Some(o) = self.redaction.original() {
                    self.log.add(path, o.capture.clone(), o.analysis.clone(), ctx);
                }
            }
            (Some(c), Some(a)) => self.log.add(path, c.clone(), a, ctx),
            _ => self.push(AppCommand::Open(path)),
        }
    }

    /// Turns "Redact personal data" on (the `redact` job makes the copy shown) or off (the
    /// capture as opened is shown again).
    pub fn set_redaction(&mut self, on: bool, ctx: &egui::Context) {
        if on == self.redaction.on {
            return;
        }
        if !on {
            if let Some(o) = self.redaction.stop() {
                self.show(o.capture, o.analysis, o.log, ctx);
            }
            return;
        }
        self.redaction.on = true;
        if let (Some(capture), Some(analysis)) = (self.capture.clone(), self.analysis.shared_arc()) {
            let log = self.log.attached().cloned();
            self.redaction
                .start(redaction::Original { capture, analysis, log }, ctx);
        }
    }

    /// Shows `capture` (one just opened, the redacted copy of the one open, or the one as opened)
    /// in its place, keeping the filter's query, the selection and the view.
    fn show(
        &mut self,
        capture: Arc<Capture>,
        analysis: Arc<easlens_core::analysis::Analysis>,
        log: Option<Arc<mailbox_log::Attached>>,
        ctx: &egui::Context,
    ) {
        let selected = self.sessions.selected;
        let previous_analysis = self.analysis.start(analysis, ctx);
        let previous_log = self.log.replace_attached(log.clone());
        self.filter.set_log(log.clone());
        self.sessions.set_log(log);
        self.sessions.reset(&capture, self.analysis.folders());
        if let Some(s) = selected {
            self.sessions.select(s);
        }
        self.inspector.clear();
        self.history.clear();
        self.findings = findings::FindingsPanel::default();
        self.synckeys.clear();
        self.compare.clear();
        self.statistics.clear();
        self.timeline.clear_markers();
        self.filter.reset(&capture, ctx);
        let previous = self.capture.replace(capture);
        release((previous, previous_analysis, previous_log));
        if let Some(c) = &self.capture {
            let title = format!("easlens — {}", display_name(&c.path));
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title));
        }
    }

    /// Asks where to save an export (the `save-dialog` job).
    fn save_dialog(&mut self, ctx: &egui::Context, what: Export) {
        if self.save_dialog.is_some() {
            return;
        }
        let dir = self
            .capture
            .as_ref()
            .and_then(|c| c.path.parent().map(Path::to_path_buf));
        let stem = self
            .capture
            .as_ref()
            .and_then(|c| c.path.file_stem())
            .map_or("capture".into(), |s| s.to_string_lossy().into_owned());
        let (title, filters, name): (&str, Vec<(&str, &[&str])>, String) = match what {
            Export::PseudonymMap => (
                "Export the pseudonym map (for you only)",
                vec![("JSON", &["json"])],
                format!("{stem}-pseudonyms.json"),
            ),
            Export::RedactedCapture(_) => (
                "Save a redacted capture",
                vec![("Fiddler archive (.saz)", &["saz"]), ("HAR (.har)", &["har"])],
                format!("{stem}-redacted.saz"),
            ),
            Export::Report(_) => (
                "Export an evidence report",
                vec![("HTML, one self-contained file", &["html"]), ("Markdown", &["md"])],
                format!("{stem}-report.html"),
            ),
            Export::Statistics => (
                "Export the statistics",
                vec![("CSV", &["csv"])],
                format!("{stem}-statistics.csv"),
            ),
            Export::IisReport(name) => (
                "Export the IIS report",
                vec![("CSV", &["csv"])],
                format!("{stem}-{name}.csv"),
            ),
        };
        let job = Job::start_on_thread("save-dialog", ctx, move |_| {
            let mut d = rfd::FileDialog::new().set_title(title).set_file_name(name);
            for (label, exts) in filters {
                d = d.add_filter(label, exts);
            }
            if let Some(dir) = dir {
                d = d.set_directory(dir);
            }
            d.save_file()
        });
        self.save_dialog = Some((what, job));
    }

    fn poll_exports(&mut self, ctx: &egui::Context) {
        if let Some((what, job)) = &mut self.save_dialog {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(Some(path)) => {
                    let what = *what;
                    self.save_dialog = None;
                    self.export_to(what, path, ctx);
                }
                Poll::Ready(None) | Poll::Lost => self.save_dialog = None,
            }
        }
        if let Some(job) = &mut self.exporting {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(Ok(message)) | Poll::Ready(Err(message)) => {
                    self.exporting = None;
                    self.push(AppCommand::Notify(message));
                }
                Poll::Lost => self.exporting = None,
            }
        }
    }

    /// Positions (in `Capture::sessions`, capture order) of the sessions `scope` names.
    pub fn scope_positions(&self, scope: Scope) -> Vec<usize> {
        let Some(c) = &self.capture else { return Vec::new() };
        let mut positions: Vec<usize> = match scope {
            Scope::All => (0..c.sessions.len()).collect(),
            Scope::Filtered => self.sessions.trace_rows().iter().map(|&r| r as usize).collect(),
            Scope::Selected => match self.sessions.selected.map(mailbox_log::Row::of) {
                Some(mailbox_log::Row::Trace(i)) => vec![i],
                _ => Vec::new(),
            },
        };
        positions.sort_unstable();
        positions
    }

    /// Writes an export to `path` (the `export` job; the map is small and written at once).
    pub fn export_to(&mut self, what: Export, path: PathBuf, ctx: &egui::Context) {
        match what {
            Export::PseudonymMap => {
                let message = match self.redaction.export_map(&path) {
                    Ok(()) => format!("Saved the pseudonym map to {}", path.display()),
                    Err(e) => e,
                };
                self.push(AppCommand::Notify(message));
            }
            Export::Report(scope) => self.export_report(scope, path, ctx),
            Export::Statistics => {
                let Some(shown) = self.capture.clone() else { return };
                // Never over the capture or its log, as the other exports.
                let mut inputs = vec![shown.origin.clone()];
                inputs.extend(self.log.attached().map(|a| a.log.origin.clone()));
                if inputs.iter().any(|i| easlens_core::writers::same_file(i, &path)) {
                    self.push(AppCommand::Notify(format!(
                        "Not exported: {} is the file opened; choose another name",
                        path.display()
                    )));
                    return;
                }
                // Computed again when the view has not been opened on this capture.
                let computed = self.statistics.statistics_of(&shown);
                self.exporting = Some(Job::start("export", ctx, move |_| {
                    let st = computed.unwrap_or_else(|| Arc::new(Statistics::of(&shown)));
                    save_statistics(&st, &path)
                }));
            }
            Export::IisReport(name) => {
                let Some(table) = self.capture.as_ref().and_then(|c| c.iis_reports.as_ref()?.table(name)) else {
                    return;
                };
                if self.capture.as_ref().is_some_and(|c| {
                    easlens_core::iis::scan::files_of(std::slice::from_ref(&c.origin))
                        .unwrap_or_default()
                        .iter()
                        .any(|f| easlens_core::writers::same_file(f, &path))
                }) {
                    self.push(AppCommand::Notify(format!(
                        "Not exported: {} is a log that is open; choose another name",
                        path.display()
                    )));
                    return;
                }
                self.exporting = Some(Job::start("export", ctx, move |_| {
                    let failed =
                        |e: &dyn std::fmt::Display| format!("Could not export the report to {}: {e}", path.display());
                    let file = std::fs::File::create(&path).map_err(|e| failed(&e))?;
                    table
                        .write_csv(&mut std::io::BufWriter::new(file))
                        .map_err(|e| failed(&e))?;
                    Ok(format!(
                        "Exported {} ({} rows) to {}",
                        table.title,
                        table.rows.len(),
                        path.display()
                    ))
                }));
            }
            Export::RedactedCapture(scope) => {
                let Some(shown) = self.capture.clone() else { return };
                let positions = self.scope_positions(scope);
                if positions.is_empty() {
                    self.push(AppCommand::Notify(
                        "No session to save: nothing is selected or shown".into(),
                    ));
                    return;
                }
                // The copy shown is redacted already; otherwise the chosen sessions are redacted now.
                let redacted = self.redaction.is_showing_redacted();
                self.exporting = Some(Job::start("export", ctx, move |_| {
                    save_redacted(&shown, &positions, redacted, &path)
                }));
            }
        }
    }

    /// Starts the `export` job of an evidence report of `scope` to `path`: of the copy shown
    /// when it is redacted, else of a redacted copy made for it unless `report_personal_data`.
    fn export_report(&mut self, scope: ReportScope, path: PathBuf, ctx: &egui::Context) {
        use easlens_core::report::{ReportOptions, Scope as Covers};
        let Some(shown) = self.capture.clone() else { return };
        let (covers, findings) = match scope {
            ReportScope::Of(Scope::All) => (Covers::All, true),
            ReportScope::Of(s) => (Covers::Sessions(self.scope_positions(s)), false),
            ReportScope::Finding(k) => (Covers::Finding(k), true),
        };
        if matches!(&covers, Covers::Sessions(p) if p.is_empty()) {
            self.push(AppCommand::Notify(
                "No session to report: nothing is selected or shown".into(),
            ));
            return;
        }
        let log = self
            .log
            .attached()
            .map(|a| (a.log.clone(), a.alignment.clock_offset_seconds));
        let shown_redacted = self.redaction.is_showing_redacted();
        let redact = !shown_redacted && !self.report_personal_data;
        self.exporting = Some(Job::start("export", ctx, move |_| {
            let (capture, log_capture) = if redact {
                let mut r = easlens_core::redact::Redactor::new();
                let c = Arc::new(r.capture(&shown, None));
                let l = log.as_ref().map(|(l, _)| Arc::new(r.capture(l, None)));
                (c, l)
            } else {
                (shown.clone(), log.as_ref().map(|(l, _)| l.clone()))
            };
            let options = ReportOptions {
                scope: covers,
                findings,
                redacted: redact || shown_redacted,
                title: None,
                log_clock_offset: log.as_ref().map(|(_, o)| *o),
            };
            let report = easlens_core::report::build(&capture, log_capture.as_deref(), &options);
            let mut inputs = vec![shown.origin.as_path()];
            if let Some((l, _)) = &log {
                inputs.push(l.origin.as_path());
            }
            let written = easlens_core::report::write_report(&report, &path, &inputs).map_err(|e| e.to_string())?;
            Ok(format!(
                "Exported the report to {}",
                written
                    .first()
                    .map_or(path.display().to_string(), |p| p.display().to_string())
            ))
        }));
    }

    /// True while an export is being written.
    pub fn is_exporting(&self) -> bool {
        self.exporting.is_some()
    }

    /// The attached log arrived, was aligned again or removed: the table, the filter and the
    /// inspector show it.
    fn log_changed(&mut self, ctx: &egui::Context) {
        // A log added (or removed) while redacting was lined up with the capture as opened: both
        // are redacted again together, and nothing of it is shown until then.
        let realigned = self
            .log
            .attached()
            .is_some_and(|a| self.redaction.is_redacted_log(&a.log));
        if self.redaction.on
            && !realigned
            && let Some(o) = self.redaction.original().cloned()
        {
            let log = self.log.replace_attached(None);
            self.redaction.start(redaction::Original { log, ..o }, ctx);
            return;
        }
        let attached = self.log.attached().cloned();
        self.filter.set_log(attached.clone());
        self.sessions.set_log(attached);
        if let Some(c) = &self.capture {
            self.sessions.set_filter(c, self.analysis.folders(), None);
        }
        self.inspector.clear();
    }

    /// Opens the history view on item `id` (once the analysis is ready).
    pub fn follow_item(&mut self, id: &str, ctx: &egui::Context) {
        self.view = View::History;
        let (Some(c), Some(a)) = (self.capture.clone(), self.analysis.get()) else {
            self.history.query = id.to_string();
            return;
        };
        self.history.follow(&c, &a, id, ctx);
    }

    /// Puts the selected session as text on the clipboard (credentials masked unless revealed).
    pub fn copy_selected_as_text(&mut self, ctx: &egui::Context) {
        let (Some(c), Some(i)) = (&self.capture, self.sessions.selected) else {
            return;
        };
        let (c, i, what) = match (mailbox_log::Row::of(i), self.log.attached()) {
            (mailbox_log::Row::Trace(t), _) => (c.clone(), t, "session"),
            (mailbox_log::Row::Log(l), Some(a)) => (a.log.clone(), l, "log entry"),
            (mailbox_log::Row::Log(_), None) => return,
        };
        let text = easlens_core::report::session_text(&c, i, self.inspector.reveal);
        ctx.copy_text(text);
        let message = format!("Copied {what} #{} as text", c.sessions[i].index);
        self.push(AppCommand::Notify(message));
    }

    fn take_screenshot(&mut self, ctx: &egui::Context, target: screenshot::Target) {
        let Some(c) = &self.capture else {
            self.screenshot.request(ctx, target, "easlens.png".into(), None);
            return;
        };
        // Redacted, the picture is named after the redacted file name too.
        let stem = c
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let view = match (target, self.view) {
            (screenshot::Target::Window, _) => "window",
            (_, View::Inspector) => "inspector",
            (_, View::Findings) => "findings",
            (_, View::History) => "history",
            (_, View::SyncKeys) => "synckeys",
            (_, View::Timeline) => "timeline",
            (_, View::Compare) => "compare",
            (_, View::Statistics) => "statistics",
            (_, View::IisReports) => "iis-reports",
        };
        let session = match self.sessions.selected.map(mailbox_log::Row::of) {
            Some(mailbox_log::Row::Trace(i)) => format!("session-{}", c.sessions[i].index),
            Some(mailbox_log::Row::Log(l)) => format!("log-entry-{l}"),
            None => String::new(),
        };
        let dir = c.path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let path = screenshot::unique_name(&dir, &[&stem, view, &session], chrono::Local::now());
        let name = path
            .file_name()
            .map_or("easlens.png".into(), |n| n.to_string_lossy().into_owned());
        self.screenshot.request(ctx, target, name, Some(dir));
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        for command in keys::pressed(ctx) {
            self.push(command);
        }
    }

    /// F8 / Shift+F8: selects the next (previous) highlighted row of the table.
    fn next_problem(&mut self, forward: bool) {
        let Some(c) = &self.capture else { return };
        if !self.sessions.select_problem(c, forward) {
            let which = if forward { "after" } else { "before" };
            self.push(AppCommand::Notify(format!("No highlighted session {which} this one")));
        }
    }

    /// Where File ▸ Open starts: the folder of the capture open (its mailbox log is usually
    /// beside it).
    pub fn open_folder(&self) -> Option<PathBuf> {
        let c = self.capture.as_ref()?;
        c.origin.parent().map(Path::to_path_buf).filter(|d| d.is_dir())
    }

    /// Starts the Open (or Add mailbox log) dialog (the `file-dialog` job) unless one is open.
    /// The file dialog (a folder dialog with `folder`: IIS logs are folders of daily files).
    fn open_dialog(&mut self, ctx: &egui::Context, add_log: bool, folder: bool) {
        if self.file_dialog.is_some() {
            return;
        }
        let dir = self.open_folder();
        // Without a thread there is no dialog: drag-and-drop and `easlens FILE` still work.
        let job = Job::start_on_thread("file-dialog", ctx, move |_| {
            if folder {
                let dialog = rfd::FileDialog::new().set_title(if add_log {
                    "Add a folder of Exchange IIS logs (only this device's lines are read)"
                } else {
                    "Open a folder of Exchange IIS logs"
                });
                let dialog = match dir {
                    Some(d) => dialog.set_directory(d),
                    None => dialog,
                };
                return dialog.pick_folder();
            }
            let dialog = if add_log {
                rfd::FileDialog::new()
                    .set_title("Add an Exchange mailbox log or IIS log")
                    .add_filter("Mailbox and IIS logs (.txt, .log, .gz)", &["txt", "log", "gz"])
            } else {
                rfd::FileDialog::new().set_title("Open a capture").add_filter(
                    "Captures (.saz, .har, mailbox log, IIS log)",
                    &["saz", "har", "txt", "log", "gz"],
                )
            };
            let dialog = match dir {
                Some(d) => dialog.set_directory(d),
                None => dialog,
            };
            dialog.add_filter("All files", &["*"]).pick_file()
        });
        self.file_dialog = Some((add_log, job));
    }

    fn poll_dialog(&mut self) {
        let Some((add_log, job)) = &mut self.file_dialog else {
            return;
        };
        match job.poll() {
            Poll::Pending => {}
            Poll::Ready(Some(path)) => {
                let add_log = *add_log;
                self.file_dialog = None;
                self.push(if add_log {
                    AppCommand::AddLog(path)
                } else {
                    AppCommand::Open(path)
                });
            }
            // Cancelled, or no dialog available (no desktop portal, no zenity): drag-and-drop and
            // `easlens FILE` still work.
            Poll::Ready(None) | Poll::Lost => self.file_dialog = None,
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
            // A mailbox log dropped on a capture (not itself a log) is added to it.
            let onto_trace = self.capture.as_ref().is_some_and(|c| mailbox_log::is_trace(c.format));
            if onto_trace
                && self.loader.is_none()
                && (mailbox_log::is_mailbox_log(&path) || easlens_core::capture::is_iis_log(&path))
            {
                self.push(AppCommand::AddLog(path));
            } else {
                self.push(AppCommand::Open(path));
            }
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
        self.apply(&ctx);
        self.start_pending(&ctx);
        self.poll_loader(&ctx);
        if self.log.poll() {
            self.log_changed(&ctx);
        }
        if let Some(r) = self.redaction.poll() {
            self.show(r.capture, r.analysis, r.log, &ctx);
        }
        self.poll_exports(&ctx);
        if let Some(mut bench) = self.bench.take() {
            bench.frame(self, &ctx);
            self.bench = Some(bench);
        }
        self.shortcuts(&ctx);
        if let Some(c) = &self.capture {
            self.filter.poll(c, &ctx, &mut self.commands);
        }
        self.apply(&ctx);
        self.screenshot.poll(&ctx, self.inspector_rect);
        self.draw(ui, &ctx);
        if !self.screenshot.hiding_controls() {
            keys::focus_ring(&ctx);
        }
        self.apply(&ctx);
    }

    fn draw(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let analysis = self.analysis.get();

        // A screenshot that shows data only leaves the controls out of the frames it reads.
        let controls = !self.screenshot.hiding_controls();
        if controls {
            egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
            egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        }
        if self.show_shortcuts {
            keys::shortcut_window(ctx, &mut self.show_shortcuts);
        }

        if let Some(loader) = &mut self.loader {
            if !loader.previewing {
                egui::CentralPanel::default().show(ui, |ui| loader.ui(ui));
                // The password dialog may have been answered or cancelled this frame.
                self.poll_loader(ctx);
                return;
            }
            loader.password_dialog(ctx);
        }
        if let Some(redaction::MapAction::Export) = self.redaction.map_window(ctx) {
            self.commands.push(AppCommand::ExportPseudonymMap);
        }
        let Some(capture) = self.capture.clone() else {
            egui::CentralPanel::default().show(ui, |ui| {
                self.error_banner(ui);
                self.empty_state(ui);
            });
            return;
        };
        if self.redaction.is_busy() {
            // Nothing of the capture is shown until its redacted copy is ready.
            egui::CentralPanel::default().show(ui, |ui| {
                ui.vertical_centered(|ui| {
                    ui.add_space((ui.available_height() * 0.3).max(20.0));
                    jobs::spinner(ui);
                    ui.label(RichText::new("Redacting personal data…").size(16.0));
                    ui.label(
                        RichText::new("Names, addresses, subjects, bodies and device IDs become pseudonyms").weak(),
                    );
                });
            });
            return;
        }
        // The split is dragged and remembered as a share of the height (a preference), within
        // bounds that leave both parts usable at any window size: the table a few rows, the view
        // below room for its tabs and a dozen lines of body. When the window's height changes
        // the table keeps its share.
        let total_h = ui.available_height();
        let table_min = 140.0;
        let table_max = (total_h - LOWER_PANEL_MIN).max(table_min);
        let wanted = (total_h * self.prefs.split).clamp(table_min, table_max);
        let resized = (total_h - self.last_total_h).abs() > 0.5;
        let panel = egui::Panel::top("sessions-panel").resizable(true);
        let panel = if resized {
            panel.exact_size(wanted)
        } else {
            panel.default_size(wanted).size_range(table_min..=table_max)
        };
        self.last_total_h = total_h;
        let table = panel.show(ui, |ui| {
            self.error_banner(ui);
            self.warnings_banner(ui, &capture);
            if let Some(p) = &self.partial {
                ui.label(RichText::new(format!("△ {p}")).color(ui.visuals().warn_fg_color));
            }
            if controls {
                self.log.ui(ui, &mut self.commands);
                self.filter.ui(ui);
                ui.add_space(2.0);
            }
            self.sessions
                .ui(ui, &capture, self.analysis.folders(), &mut self.commands);
        });
        if !resized && total_h > 0.0 {
            self.prefs.split = (table.response.rect.height() / total_h).clamp(0.1, 0.9);
        }
        self.table_rect = Some(table.response.rect);
        let central = egui::CentralPanel::default().show(ui, |ui| {
            if controls {
                ui.horizontal(|ui| {
                    let ctx = ui.ctx().clone();
                    for view in View::ALL {
                        // The IIS reports are there for IIS logs only.
                        if view == View::IisReports && capture.iis_reports.is_none() {
                            continue;
                        }
                        let r = ui.selectable_value(&mut self.view, view, RichText::new(view.title()).strong());
                        if let Some(s) = keys::view_shortcut(view) {
                            r.on_hover_text(ctx.format_shortcut(&s));
                        }
                        if view == View::Findings {
                            if let Some(f) = self.log.attached().map(|l| &l.findings) {
                                findings::badges(ui, f);
                            } else if let Some(a) = &analysis {
                                findings::badges(ui, a.findings());
                            } else {
                                jobs::spinner(ui);
                            }
                        }
                    }
                });
            }
            ui.separator();
            let out = &mut self.commands;
            let a = analysis.as_deref();
            let log = self.log.attached();
            match self.view {
                View::Inspector => {
                    self.inspector
                        .ui(ui, &capture, log, self.sessions.selected, a.map(|a| a.folders()), out)
                }
                View::Findings => {
                    let f = log.map(|l| &l.findings).or(a.map(|a| a.findings()));
                    self.findings.ui(ui, f, out)
                }
                View::SyncKeys => self.synckeys.ui(
                    ui,
                    a.map(|a| a.chains()),
                    a.map(|a| a.folders()),
                    log.map(|l| &**l),
                    out,
                ),
                View::History => self.history.ui(ui, &capture, a, log.map(|l| &**l), out),
                View::Timeline => {
                    let lines = self.analysis.shared().map(|s| (s, a.is_some()));
                    self.timeline.ui(ui, &capture, self.sessions.trace_rows(), lines, out);
                }
                View::Compare => {
                    let selected = match self.sessions.selected.map(mailbox_log::Row::of) {
                        Some(mailbox_log::Row::Trace(i)) => Some(i),
                        _ => None,
                    };
                    self.compare.ui(ui, &capture, selected, self.inspector.reveal);
                }
                View::Statistics => self.statistics.ui(ui, &capture, out),
                View::IisReports => self.iis_reports.ui(ui, &capture, out),
            }
        });
        self.inspector_rect = Some(central.response.rect);
    }

    /// What the window shows before a capture is open: how to open one, and the recent files.
    fn empty_state(&mut self, ui: &mut egui::Ui) {
        let mut open = None;
        ui.vertical_centered(|ui| {
            ui.add_space((ui.available_height() * 0.28).max(20.0));
            ui.label(RichText::new("easlens").size(30.0).strong());
            ui.label(RichText::new("Exchange ActiveSync capture inspector").size(15.0).weak());
            ui.add_space(18.0);
            ui.label(RichText::new(EMPTY_STATE).size(16.0));
            ui.add_space(12.0);
            if ui.button(RichText::new("Open a capture…").size(15.0)).clicked() {
                self.commands.push(AppCommand::ShowOpenDialog);
            }
            if !self.prefs.recent.files().is_empty() {
                ui.add_space(22.0);
                ui.label(RichText::new("Recent captures").strong());
                for f in self.prefs.recent.files() {
                    let exists = f.exists();
                    let r = ui
                        .add_enabled(exists, egui::Link::new(f.display().to_string()))
                        .on_disabled_hover_text("The file no longer exists");
                    if r.clicked() {
                        open = Some(f.clone());
                    }
                }
            }
        });
        if let Some(f) = open {
            self.push(AppCommand::Open(f));
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                let ctx = ui.ctx().clone();
                let out = &mut self.commands;
                if ui.add(shortcut_button(&ctx, "Open…", &OPEN)).clicked() {
                    out.push(AppCommand::ShowOpenDialog);
                    ui.close();
                }
                if ui
                    .button("Open IIS logs folder…")
                    .on_hover_text("Exchange's IIS logs (W3SVC1, W3SVC2, .log and .gz, several servers), merged in time order")
                    .clicked()
                {
                    out.push(AppCommand::ShowIisFolderDialog(false));
                    ui.close();
                }
                let recent = self.prefs.recent.files();
                ui.add_enabled_ui(!recent.is_empty(), |ui| {
                    ui.menu_button("Open recent", |ui| {
                        for f in recent {
                            if ui
                                .add_enabled(f.exists(), egui::Button::new(f.display().to_string()))
                                .clicked()
                            {
                                out.push(AppCommand::Open(f.clone()));
                                ui.close();
                            }
                        }
                        ui.separator();
                        if ui.button("Clear the list").clicked() {
                            out.push(AppCommand::ClearRecent);
                            ui.close();
                        }
                    });
                });
                if let Some(c) = &self.capture
                    && ui.button("Reload").clicked()
                {
                    out.push(AppCommand::Open(c.origin.clone()));
                    ui.close();
                }
                let trace = self
                    .capture
                    .as_ref()
                    .is_some_and(|c| mailbox_log::is_trace(c.format));
                if ui
                    .add_enabled(trace, egui::Button::new("Add mailbox log…"))
                    .on_hover_text(
                        "Line the capture up with Exchange's mailbox log of the device, or an IIS log file (also: drop the log here)",
                    )
                    .on_disabled_hover_text("Open the device's capture (SAZ or HAR) first")
                    .clicked()
                {
                    out.push(AppCommand::ShowAddLogDialog);
                    ui.close();
                }
                if ui
                    .add_enabled(trace, egui::Button::new("Add IIS logs folder…"))
                    .on_hover_text("Line the capture up with the Exchange servers' IIS logs: only this device's lines are read")
                    .on_disabled_hover_text("Open the device's capture (SAZ or HAR) first")
                    .clicked()
                {
                    out.push(AppCommand::ShowIisFolderDialog(true));
                    ui.close();
                }
                ui.separator();
                let mut redact = self.redaction.on;
                if ui
                    .checkbox(&mut redact, "Redact personal data")
                    .on_hover_text(
                        "Every view, Copy as text, screenshots and exports show pseudonyms instead of names, addresses, subjects, bodies and device IDs",
                    )
                    .changed()
                {
                    out.push(AppCommand::SetRedaction(redact));
                    ui.close();
                }
                if ui
                    .add_enabled(self.redaction.map.is_some(), egui::Button::new("Pseudonym map…"))
                    .on_hover_text("Which pseudonym stands for which value (for you only; never exported with the evidence)")
                    .on_disabled_hover_text("Turn on “Redact personal data” first")
                    .clicked()
                {
                    out.push(AppCommand::ShowPseudonymMap(true));
                    ui.close();
                }
                let has = self.capture.is_some();
                let selected = self.sessions.selected.is_some();
                let filtered = !self.filter.text.trim().is_empty();
                ui.add_enabled_ui(has, |ui| {
                    ui.menu_button("Export report", |ui| {
                        let first = "Whole capture (findings and their sessions)…";
                        if let Some(scope) = scope_items(ui, first, filtered, selected) {
                            out.push(AppCommand::ExportReport(ReportScope::Of(scope)));
                        }
                        ui.separator();
                        ui.checkbox(&mut self.report_personal_data, "Keep personal data (not for a vendor)")
                            .on_hover_text("Reports are redacted unless this is ticked (a report of the redacted view always is)");
                    })
                    .response
                    .on_hover_text("A self-contained HTML or Markdown report: summary, findings, timeline and the decoded sessions; one finding: its Report… button in the Findings view");
                });
                ui.add_enabled_ui(has, |ui| {
                    ui.menu_button("Save redacted capture", |ui| {
                        if let Some(scope) = scope_items(ui, "Whole capture…", filtered, selected) {
                            out.push(AppCommand::SaveRedactedCapture(scope));
                        }
                    })
                    .response
                    .on_hover_text("A SAZ or HAR with personal data replaced by pseudonyms, for a vendor");
                });
                ui.separator();
                if ui
                    .add_enabled(
                        has,
                        shortcut_button(&ctx, "Save screenshot of the window…", &SHOT_WINDOW),
                    )
                    .clicked()
                {
                    out.push(AppCommand::Screenshot(screenshot::Target::Window));
                    ui.close();
                }
                if ui
                    .add_enabled(
                        selected,
                        shortcut_button(&ctx, "Save screenshot of the inspector…", &SHOT_INSPECTOR),
                    )
                    .clicked()
                {
                    out.push(AppCommand::Screenshot(screenshot::Target::Inspector));
                    ui.close();
                }
                if ui
                    .add_enabled(has, egui::Button::new("Copy screenshot of the window"))
                    .on_hover_text("A PNG of the window at 2× on the clipboard, to paste into a ticket")
                    .clicked()
                {
                    out.push(AppCommand::CopyScreenshot(screenshot::Target::Window));
                    ui.close();
                }
                if ui
                    .add_enabled(selected, egui::Button::new("Copy screenshot of the inspector"))
                    .clicked()
                {
                    out.push(AppCommand::CopyScreenshot(screenshot::Target::Inspector));
                    ui.close();
                }
                ui.checkbox(&mut self.screenshot.hide_controls, "Screenshots show data only")
                    .on_hover_text("Leave the menu, the filter bar, the view buttons and the status bar out of screenshots");
                ui.separator();
                if ui
                    .add_enabled(selected, shortcut_button(&ctx, "Copy session as text", &COPY_TEXT))
                    .on_hover_text("Request line, key headers, Status meanings and decoded XML (credentials masked)")
                    .clicked()
                {
                    out.push(AppCommand::CopySelectedAsText);
                    ui.close();
                }
                ui.separator();
                if ui.add(shortcut_button(&ctx, "Quit", &QUIT)).clicked() {
                    out.push(AppCommand::Quit);
                }
            });
            ui.menu_button("View", |ui| {
                let ctx = ui.ctx().clone();
                for view in View::ALL {
                    let mut b = egui::Button::selectable(self.view == view, view.title());
                    if let Some(s) = keys::view_shortcut(view) {
                        b = b.shortcut_text(ctx.format_shortcut(&s));
                    }
                    if ui.add(b).clicked() {
                        self.commands.push(AppCommand::ShowView(view));
                        ui.close();
                    }
                }
                ui.separator();
                let has = self.capture.is_some();
                for (text, shortcut, forward) in [
                    ("Next problem session", &NEXT_PROBLEM, true),
                    ("Previous problem session", &PREVIOUS_PROBLEM, false),
                ] {
                    if ui.add_enabled(has, shortcut_button(&ctx, text, shortcut)).clicked() {
                        self.commands.push(AppCommand::NextProblem(forward));
                        ui.close();
                    }
                }
            });
            ui.menu_button("Help", |ui| {
                let ctx = ui.ctx().clone();
                if ui.add(shortcut_button(&ctx, "Keyboard shortcuts", &SHORTCUT_LIST)).clicked() {
                    self.commands.push(AppCommand::ShowShortcuts(true));
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
            if let Some(l) = &mut self.loader {
                if !l.previewing {
                    jobs::spinner(ui);
                    ui.label(format!("Opening {}…", l.path().display()));
                    return;
                }
                // The first sessions are shown: the rest loads here, with its Cancel. Two frames
                // a second are enough for the bar, and leave the cores to the reading.
                ui.ctx().request_repaint_after(PREVIEW_REPAINT);
                ui.label(format!("Reading the rest of {}", display_name(l.path())));
                ui.add(
                    egui::ProgressBar::new(l.progress().fraction)
                        .desired_width(160.0)
                        .show_percentage(),
                )
                .on_hover_text(l.progress().message.clone());
                if ui.small_button("Cancel").clicked() {
                    l.cancel();
                }
                ui.separator();
            }
            self.redaction_indicator(ui);
            let Some(c) = &self.capture else {
                ui.label("No capture open");
                return;
            };
            ui.label(RichText::new(mailbox_log::format_name(c.format)).strong())
                .on_hover_text("The file's format");
            let shown = self.sessions.trace_rows().len();
            if self.filter.error.is_some() {
                // The rows are the last valid filter's, not the query typed: no "N of M".
                ui.label(RichText::new("⊘ Invalid filter").color(ui.visuals().error_fg_color))
                    .on_hover_text(format!(
                        "The table still shows the {shown} session(s) of the last valid filter `{}`",
                        self.filter.last_valid()
                    ));
            } else {
                let label = match self.log.attached() {
                    Some(a) => format!(
                        "{shown} of {} sessions · {} of {} log-only entries",
                        c.sessions.len(),
                        self.sessions.visible.len() - shown,
                        a.counts[2]
                    ),
                    None => format!("{shown} of {} sessions", c.sessions.len()),
                };
                ui.label(label)
                    .on_hover_text(format!("Filtered in {:.1} ms", self.filter.last_eval_ms));
            }
            if self.filter.is_filtering() {
                jobs::spinner(ui).on_hover_text("Filtering…");
            }
            ui.separator();
            // Redacted, the file name is the redacted one, and the folder is left out.
            let path = if self.redaction.is_showing_redacted() {
                display_name(&c.path)
            } else {
                c.path.display().to_string()
            };
            ui.label(RichText::new(path).weak());
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
                    self.commands.push(AppCommand::ShowWarnings(!self.show_warnings));
                }
            }
            let toast = self.toast.as_ref().filter(|(_, t)| t.elapsed() < TOAST);
            if let Some((text, _)) = toast {
                ui.separator();
                ui.label(RichText::new(text).strong());
            } else if let Some((ok, text)) = &self.screenshot.message {
                ui.separator();
                let c = if *ok {
                    ui.visuals().text_color()
                } else {
                    ui.visuals().error_fg_color
                };
                ui.label(RichText::new(text).color(c));
            }
            if self.screenshot.busy() && !self.screenshot.capturing() {
                ui.separator();
                jobs::spinner(ui);
                ui.label("Saving screenshot…");
            }
        });
    }

    /// The status bar's redaction switch: says whether what is shown is redacted, and flips it.
    fn redaction_indicator(&mut self, ui: &mut egui::Ui) {
        let (text, color, hover) = if self.redaction.is_busy() {
            (
                "Redacting…",
                ui.visuals().warn_fg_color,
                "Making the redacted copy; nothing of the capture is shown until it is ready",
            )
        } else if self.redaction.on {
            (
                "● Redacted",
                ui.visuals().selection.bg_fill,
                "Personal data is replaced by pseudonyms in every view, Copy as text, screenshots and exports. Click to show the capture as opened.",
            )
        } else {
            (
                "Not redacted",
                ui.visuals().weak_text_color(),
                "Click to replace personal data by pseudonyms (File ▸ Redact personal data)",
            )
        };
        let r = ui
            .add(egui::Button::new(RichText::new(text).strong().color(color)).frame(false))
            .on_hover_text(hover);
        if r.clicked() {
            self.commands.push(AppCommand::SetRedaction(!self.redaction.on));
        }
        ui.separator();
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
            self.commands.push(AppCommand::DismissError);
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
                    self.commands.push(AppCommand::ShowWarnings(false));
                }
            });
            for w in &capture.warnings {
                ui.label(format!("△ {w}"));
            }
        });
    }
}

/// The `export` job of Save redacted capture: the sessions at `positions` of `capture` (redacted
/// already when `redacted`), written to `path` as its extension says.
fn save_redacted(capture: &Capture, positions: &[usize], redacted: bool, path: &Path) -> Result<String, String> {
    use easlens_core::writers::{ExportFormat, ExportTarget, export};
    let format = ExportFormat::from_path(path)
        .ok_or_else(|| format!("{}: choose a name ending in .saz or .har", path.display()))?;
    let target = ExportTarget {
        path: path.to_path_buf(),
        format,
        password: None,
    };
    let summary = if redacted {
        export(capture, positions, &target)
    } else {
        let copy = easlens_core::redact::Redactor::new().capture(capture, Some(positions));
        let all: Vec<usize> = (0..copy.sessions.len()).collect();
        export(&copy, &all, &target)
    }
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "Saved {} redacted session{} to {}",
        summary.sessions,
        if summary.sessions == 1 { "" } else { "s" },
        summary.path.display()
    ))
}

/// The `export` job of the statistics: `st` as CSV at `path`.
fn save_statistics(st: &Statistics, path: &Path) -> Result<String, String> {
    let failed = |e: &dyn std::fmt::Display| format!("Could not export the statistics to {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| failed(&e))?;
    st.write_csv(std::io::BufWriter::new(file)).map_err(|e| failed(&e))?;
    Ok(format!(
        "Exported the statistics ({} row{}) to {}",
        st.rows.len(),
        if st.rows.len() == 1 { "" } else { "s" },
        path.display()
    ))
}

/// Frees the capture that was replaced (with its analysis) on a thread of its own: giving back
/// the memory of 100,000 sessions takes a while, which the frame showing the new capture must not
/// wait for. What its jobs still hold is freed when they stop (they are cancelled).
fn release<T: Send + 'static>(previous: T) {
    let spawned = std::thread::Builder::new()
        .name("easlens-release".into())
        .spawn(move || drop(previous));
    // Without a thread it was freed here, when the closure was dropped.
    let _ = spawned;
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

/// The items of an export menu, one per [`Scope`] (`all`: the first one's label); the scope
/// clicked, when one was.
fn scope_items(ui: &mut egui::Ui, all: &str, filtered: bool, selected: bool) -> Option<Scope> {
    let mut chosen = None;
    for (scope, label, enabled) in [
        (Scope::All, all, true),
        (Scope::Filtered, "Sessions the filter shows…", filtered),
        (Scope::Selected, "Selected session…", selected),
    ] {
        if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
            chosen = Some(scope);
            ui.close();
        }
    }
    chosen
}

/// A menu button that shows its keyboard shortcut.
fn shortcut_button<'a>(ctx: &egui::Context, text: &'a str, shortcut: &KeyboardShortcut) -> egui::Button<'a> {
    egui::Button::new(text).shortcut_text(ctx.format_shortcut(shortcut))
}

impl eframe::App for EaslensApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        EaslensApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.prefs.hidden_columns = self.sessions.hidden_columns.clone();
        self.prefs.save(storage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every non-ASCII character the window draws must be in the bundled fonts: egui panics on a
    /// missing glyph (and a real window would show tofu).
    #[test]
    fn the_bundled_fonts_have_every_glyph_the_window_uses() {
        let ctx = egui::Context::default();
        set_fonts(&ctx);
        let mut out = ctx.run_ui(Default::default(), |_| {});
        out.textures_delta.clear();
        // Every non-ASCII character in the window's code outside comments (string literals).
        let mut glyphs = String::new();
        let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    for line in std::fs::read_to_string(&path).unwrap().lines() {
                        let code = line.trim_start();
                        if code.starts_with("//") {
                            continue;
                        }
                        let code = code.split(" // ").next().unwrap_or(code);
                        for c in code.chars().filter(|c| !c.is_ascii()) {
                            if !glyphs.contains(c) {
                                glyphs.push(c);
                            }
                        }
                    }
                }
            }
        }
        assert!(glyphs.contains('▸') && glyphs.contains('●'), "{glyphs}");
        for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
            let font = egui::FontId::new(14.0, family.clone());
            for c in glyphs.chars() {
                assert!(
                    ctx.fonts_mut(|f| f.has_glyph(&font, c)),
                    "no glyph for {c:?} in {family:?}"
                );
            }
        }
    }
}
