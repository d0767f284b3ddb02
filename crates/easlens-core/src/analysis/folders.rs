//! Folder names for CollectionIds: the FolderSync changes of the capture (and the client's
//! FolderCreate/FolderUpdate/FolderDelete that the server accepted), applied in capture order.

use std::collections::HashMap;

use serde::Serialize;

use crate::capture::Capture;
use crate::eas::items::FolderAction;
use crate::http::Side;

/// FolderHierarchy:Type values, [MS-ASCMD] 2.2.3.186.3.
const FOLDER_TYPES: &[(u32, &str)] = &[
    (1, "user-created folder (generic)"),
    (2, "Inbox"),
    (3, "Drafts"),
    (4, "Deleted Items"),
    (5, "Sent Items"),
    (6, "Outbox"),
    (7, "Tasks"),
    (8, "Calendar"),
    (9, "Contacts"),
    (10, "Notes"),
    (11, "Journal"),
    (12, "user-created mail folder"),
    (13, "user-created calendar"),
    (14, "user-created contacts folder"),
    (15, "user-created tasks folder"),
    (16, "user-created journal folder"),
    (17, "user-created notes folder"),
    (18, "unknown folder type"),
    (19, "recipient information cache"),
];

/// What a FolderHierarchy:Type value means (`8` → `Calendar`).
pub fn folder_type_name(folder_type: u32) -> Option<&'static str> {
    FOLDER_TYPES.iter().find(|(t, _)| *t == folder_type).map(|(_, n)| *n)
}

/// A folder as the capture last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    pub server_id: String,
    pub parent_id: Option<String>,
    pub display_name: Option<String>,
    pub folder_type: Option<u32>,
    /// Deleted later in the capture; the name is kept so that earlier events can still be named.
    pub deleted: bool,
}

/// CollectionId → folder, from every folder change in the capture.
#[derive(Debug, Clone, Default)]
pub struct FolderNames {
    folders: HashMap<String, Folder>,
}

impl FolderNames {
    pub fn build(capture: &Capture) -> FolderNames {
        let mut names = FolderNames::default();
        for op in capture
            .sessions
            .iter()
            .filter_map(|s| s.eas.as_ref())
            .flat_map(|e| &e.folders)
        {
            // Server changes apply unless their FolderSync failed; client commands only when
            // the server said yes.
            let applied = match op.side {
                Side::Response => op.status.is_none_or(|s| s == 1),
                Side::Request => op.status == Some(1),
            };
            let Some(id) = op.server_id.clone().filter(|_| applied) else {
                continue;
            };
            let folder = names.folders.entry(id.clone()).or_insert_with(|| Folder {
                server_id: id,
                parent_id: None,
                display_name: None,
                folder_type: None,
                deleted: false,
            });
            match op.action {
                FolderAction::Add | FolderAction::Update => {
                    folder.deleted = false;
                    folder.parent_id = op.parent_id.clone().or(folder.parent_id.take());
                    folder.display_name = op.display_name.clone().or(folder.display_name.take());
                    folder.folder_type = op.folder_type.or(folder.folder_type);
                }
                FolderAction::Delete => folder.deleted = true,
            }
        }
        names
    }

    /// The display name of a CollectionId, when the capture has one.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.folders.get(id)?.display_name.as_deref()
    }

    pub fn folder(&self, id: &str) -> Option<&Folder> {
        self.folders.get(id)
    }

    /// `1 (Calendar)`, or just `1` when the capture does not name it.
    pub fn label(&self, id: &str) -> String {
        match self.name(id) {
            Some(name) => format!("{id} ({name})"),
            None => id.to_string(),
        }
    }

    /// Every folder, by ServerId.
    pub fn folders(&self) -> impl Iterator<Item = &Folder> {
        let mut all: Vec<&Folder> = self.folders.values().collect();
        all.sort_by(|a, b| natural(&a.server_id).cmp(&natural(&b.server_id)));
        all.into_iter()
    }

    pub fn len(&self) -> usize {
        self.folders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }
}

/// Numeric ids in numeric order (`2` before `10`), others after them by text.
fn natural(id: &str) -> (u64, &str) {
    (id.parse().unwrap_or(u64::MAX), id)
}
