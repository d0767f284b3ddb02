//! What the views ask the window to do. Views, menus, shortcuts and finished jobs push an
//! [`AppCommand`] instead of reaching into other views' state; `EaslensApp::apply` carries them
//! out in one place, once the frame's polling is done and again once the frame is drawn.

use std::path::PathBuf;

use super::screenshot::Target;

/// What the area under the session table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Inspector,
    Findings,
    History,
    SyncKeys,
    Timeline,
    Compare,
    Statistics,
    /// The Log Parser Studio reports of the IIS logs that are open.
    IisReports,
}

impl View {
    /// The views in the order of their buttons (and of their shortcuts, Ctrl+1…).
    pub const ALL: [View; 8] = [
        View::Inspector,
        View::Findings,
        View::History,
        View::SyncKeys,
        View::Timeline,
        View::Statistics,
        View::Compare,
        View::IisReports,
    ];

    /// The view's button text.
    pub fn title(self) -> &'static str {
        match self {
            View::Inspector => "Inspector",
            View::Findings => "Findings",
            View::History => "Item history",
            View::SyncKeys => "SyncKey chains",
            View::Timeline => "Timeline",
            View::Compare => "Compare",
            View::Statistics => "Statistics",
            View::IisReports => "IIS reports",
        }
    }
}

/// One request to the window.
#[derive(Debug, Clone, PartialEq)]
pub enum AppCommand {
    /// Open this capture (replacing the current one once it has loaded).
    Open(PathBuf),
    /// Ask which capture to open (the file dialog).
    ShowOpenDialog,
    /// Attach this Exchange mailbox log to the open capture (opened and aligned in the background).
    AddLog(PathBuf),
    /// Ask which mailbox log to add (the file dialog).
    ShowAddLogDialog,
    /// Ask which folder of IIS logs to open (`false`) or to add to the capture (`true`).
    ShowIisFolderDialog(bool),
    /// Line the capture up with its log again, with this clock offset (seconds, log − trace).
    RealignLog(i64),
    /// Remove the attached mailbox log.
    DetachLog,
    /// Forget the recent files.
    ClearRecent,
    /// Select the session at this position in `Capture::sessions` and scroll to it.
    SelectSession(u32),
    /// Select the session the table numbers so (`Session::index`), if the capture has it.
    SelectSessionNumber(u32),
    /// Set the filter's query (evaluated on the next frame).
    SetFilter(String),
    /// The filter's rows changed (`None`: every session).
    FilteredRows(Option<Vec<u32>>),
    /// Put the keyboard focus in the filter field.
    FocusFilter,
    /// Compare these two sessions (positions in `Capture::sessions`: left, right) in the Compare view.
    Compare(u32, u32),
    /// Show every operation on this item (the history view).
    FollowItem(String),
    /// Show this view under the session table.
    ShowView(View),
    /// Save a screenshot (asking where).
    Screenshot(Target),
    /// Put a screenshot on the clipboard.
    CopyScreenshot(Target),
    /// Put the selected session on the clipboard as text.
    CopySelectedAsText,
    /// A short message for the status bar ("Copied …").
    Notify(String),
    /// Hide the open-failure banner.
    DismissError,
    /// Show or hide the load warnings.
    ShowWarnings(bool),
    /// Turn "Redact personal data" on or off.
    SetRedaction(bool),
    /// Show or hide the pseudonym map.
    ShowPseudonymMap(bool),
    /// Export the pseudonym map (asking where).
    ExportPseudonymMap,
    /// Save a redacted SAZ or HAR of these sessions (asking where).
    SaveRedactedCapture(super::Scope),
    /// Export an evidence report (asking where).
    ExportReport(ReportScope),
    /// Select the next (true) or previous highlighted session of the table.
    NextProblem(bool),
    /// Show or hide the keyboard shortcut list.
    ShowShortcuts(bool),
    /// Export the statistics view as CSV (asking where).
    ExportStatistics,
    /// Ask where to write the IIS report of this name as CSV.
    ExportIisReport(&'static str),
    /// Close the window.
    Quit,
}

/// What an evidence report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportScope {
    /// These sessions (the whole capture: its findings and the sessions they cite).
    Of(super::Scope),
    /// One finding (its position in the findings view) and its sessions.
    Finding(usize),
}

/// The commands of one frame, in the order they were pushed.
pub type Commands = Vec<AppCommand>;
