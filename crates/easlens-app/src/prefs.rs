//! What the window keeps between runs, in one serialisable struct stored with eframe's storage:
//! the recent files, the table's hidden columns and the split. Everything about the open capture (selection, filter, views) is not
//! kept. egui keeps its own memory (theme, panel sizes) and eframe the window geometry.

use serde::{Deserialize, Serialize};

use super::recent::RecentFiles;

/// The key the preferences are stored under.
pub const STORAGE_KEY: &str = "easlens-prefs";
/// The key the recent files were stored under before the preferences were grouped (read when
/// there are no preferences yet).
pub const LEGACY_RECENT_KEY: &str = "easlens-recent-files";

/// The window's preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub recent: RecentFiles,
    /// Session table columns the user hid (their names).
    pub hidden_columns: Vec<String>,
    /// The session table's share of the window's height (the split with the views below).
    pub split: f32,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            recent: RecentFiles::default(),
            hidden_columns: Vec::new(),
            split: 0.42,
        }
    }
}

impl Prefs {
    /// The stored preferences (the defaults when there are none).
    pub fn load(storage: &dyn eframe::Storage) -> Prefs {
        if let Some(prefs) = eframe::get_value(storage, STORAGE_KEY) {
            return prefs;
        }
        Prefs {
            recent: eframe::get_value(storage, LEGACY_RECENT_KEY).unwrap_or_default(),
            ..Prefs::default()
        }
    }

    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn preferences_round_trip_and_recent_files_stored_before_are_read() {
        let mut recent = RecentFiles::default();
        recent.push(Path::new("/nonexistent/a.saz"));
        let mut old = Memory::default();
        eframe::set_value(&mut old, LEGACY_RECENT_KEY, &recent);
        let prefs = Prefs::load(&old);
        assert_eq!(prefs.recent, recent);
        let mut new = Memory::default();
        prefs.save(&mut new);
        assert_eq!(Prefs::load(&new), prefs);
        assert_eq!(Prefs::load(&Memory::default()), Prefs::default());
    }
}
