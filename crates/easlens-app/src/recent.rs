//! The recent-files list, kept between runs in the preferences (`prefs`): most recent first, at
//! most [`MAX_RECENT`], files that no longer exist are still listed but shown disabled.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const MAX_RECENT: usize = 10;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecentFiles {
    files: Vec<PathBuf>,
}

impl RecentFiles {
    /// Records `path` as the most recently opened file.
    pub fn push(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.files.retain(|p| p != &path);
        self.files.insert(0, path);
        self.files.truncate(MAX_RECENT);
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn clear(&mut self) {
        self.files.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_recent_first_without_duplicates_and_bounded() {
        let mut r = RecentFiles::default();
        for i in 0..12 {
            r.push(Path::new(&format!("/nonexistent/{i}.saz")));
        }
        r.push(Path::new("/nonexistent/5.saz"));
        assert_eq!(r.files().len(), MAX_RECENT);
        assert_eq!(r.files()[0], Path::new("/nonexistent/5.saz"));
        assert_eq!(r.files()[1], Path::new("/nonexistent/11.saz"));
        assert_eq!(r.files().iter().filter(|p| p.ends_with("5.saz")).count(), 1);
    }
}
