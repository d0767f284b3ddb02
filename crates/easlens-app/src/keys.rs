//! The window's keyboard: every shortcut once, as data ([`SHORTCUTS`]) — the frame's handler,
//! the menus' shortcut texts and Help ▸ Keyboard shortcuts all read it — and the focus ring that
//! makes the widget holding the keyboard visible.

use eframe::egui;
use egui::{Key, KeyboardShortcut, Modifiers, RichText};

use super::command::{AppCommand, View};
use super::screenshot::Target;

const fn ctrl(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND, key)
}

pub const OPEN: KeyboardShortcut = ctrl(Key::O);
pub const FIND: KeyboardShortcut = ctrl(Key::F);
pub const SHOT_WINDOW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);
pub const SHOT_INSPECTOR: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::ALT), Key::S);
pub const COPY_TEXT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::C);
pub const QUIT: KeyboardShortcut = ctrl(Key::Q);
pub const NEXT_PROBLEM: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F8);
pub const PREVIOUS_PROBLEM: KeyboardShortcut = KeyboardShortcut::new(Modifiers::SHIFT, Key::F8);
pub const SHORTCUT_LIST: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F1);

/// The key that shows each view under the table: Ctrl+1 for the first of [`View::ALL`], …
const VIEW_KEYS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// The shortcut of `view`.
pub fn view_shortcut(view: View) -> Option<KeyboardShortcut> {
    let i = View::ALL.iter().position(|v| *v == view)?;
    VIEW_KEYS.get(i).map(|k| ctrl(*k))
}

/// Every shortcut the window's handler acts on, with what it does.
pub fn shortcuts() -> Vec<(KeyboardShortcut, AppCommand, String)> {
    let mut all = vec![
        (
            OPEN,
            AppCommand::ShowOpenDialog,
            "Open a capture or mailbox log".to_string(),
        ),
        (FIND, AppCommand::FocusFilter, "Filter the sessions".into()),
        (
            NEXT_PROBLEM,
            AppCommand::NextProblem(true),
            "Next problem session (highlighted row)".into(),
        ),
        (
            PREVIOUS_PROBLEM,
            AppCommand::NextProblem(false),
            "Previous problem session".into(),
        ),
        (
            COPY_TEXT,
            AppCommand::CopySelectedAsText,
            "Copy the selected session as text".into(),
        ),
        (
            SHOT_WINDOW,
            AppCommand::Screenshot(Target::Window),
            "Save a screenshot of the window".into(),
        ),
        (
            SHOT_INSPECTOR,
            AppCommand::Screenshot(Target::Inspector),
            "Save a screenshot of the inspector".into(),
        ),
        (SHORTCUT_LIST, AppCommand::ShowShortcuts(true), "This list".into()),
        (QUIT, AppCommand::Quit, "Quit".into()),
    ];
    for view in View::ALL {
        if let Some(s) = view_shortcut(view) {
            all.push((s, AppCommand::ShowView(view), format!("Show {}", view.title())));
        }
    }
    all
}

/// Keys that act where the keyboard is, not through a command (listed in the shortcut list).
const IN_PLACE: [(&str, &str); 6] = [
    ("↑ ↓", "Previous / next session in the table"),
    ("PgUp PgDn", "A page of sessions up / down"),
    ("Home End", "First / last session"),
    ("Esc", "Clear the filter (in the filter field)"),
    ("Enter / Shift+Enter", "Next / previous match (in Find in body)"),
    ("Tab", "Move the keyboard focus (the focused control is outlined)"),
];

/// The commands of the shortcuts pressed this frame (consumed, so no widget also acts on them).
pub fn pressed(ctx: &egui::Context) -> Vec<AppCommand> {
    // A frame egui runs again (a discarded pass) sees the same key events: act on them once.
    if ctx.current_pass_index() > 0 {
        return Vec::new();
    }
    // Most frames have no key pressed: the table is not built for them.
    let any_key = ctx.input(|i| {
        i.events
            .iter()
            .any(|e| matches!(e, egui::Event::Key { pressed: true, .. }))
    });
    if !any_key {
        return Vec::new();
    }
    let mut out = Vec::new();
    // egui matches Shift+F8 for F8 too (Shift and Alt are ignored when not asked for): the ones
    // with more modifiers are tried first.
    let mut all = shortcuts();
    all.sort_by_key(|(s, _, _)| std::cmp::Reverse(modifier_count(s.modifiers)));
    for (s, command, _) in all {
        if ctx.input_mut(|i| i.consume_shortcut(&s)) {
            out.push(command);
        }
    }
    out
}

fn modifier_count(m: Modifiers) -> u8 {
    u8::from(m.alt) + u8::from(m.ctrl || m.command || m.mac_cmd) + u8::from(m.shift)
}

/// Help ▸ Keyboard shortcuts (F1): the list, from [`shortcuts`].
pub fn shortcut_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts")
        .open(open)
        .collapsible(false)
        .resizable(true)
        .default_width(420.0)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                egui::Grid::new("shortcut-list")
                    .striped(true)
                    .num_columns(2)
                    .show(ui, |ui| {
                        for (s, _, what) in shortcuts() {
                            ui.label(RichText::new(ctx.format_shortcut(&s)).monospace().strong());
                            ui.label(what);
                            ui.end_row();
                        }
                        for (keys, what) in IN_PLACE {
                            ui.label(RichText::new(keys).monospace().strong());
                            ui.label(what);
                            ui.end_row();
                        }
                    });
            });
        });
}

/// Outlines the widget that has the keyboard focus (egui's own cue is a subtle fill), so Tab
/// navigation can be followed.
pub fn focus_ring(ctx: &egui::Context) {
    let Some(id) = ctx.memory(|m| m.focused()) else { return };
    let Some(r) = ctx.read_response(id) else { return };
    let stroke = egui::Stroke::new(2.0, ctx.global_style().visuals.selection.stroke.color);
    ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("focus-ring"),
    ))
    .rect_stroke(r.rect.expand(2.0), 3.0, stroke, egui::StrokeKind::Outside);
}
