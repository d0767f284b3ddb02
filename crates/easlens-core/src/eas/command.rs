//! ActiveSync commands and their base64-query codes ([MS-ASHTTP] section 2.2.1.1.1.1.2).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Sync,
    SendMail,
    SmartForward,
    SmartReply,
    GetAttachment,
    FolderSync,
    FolderCreate,
    FolderDelete,
    FolderUpdate,
    MoveItems,
    GetItemEstimate,
    MeetingResponse,
    Search,
    Settings,
    Ping,
    ItemOperations,
    Provision,
    ResolveRecipients,
    ValidateCert,
    Find,
    /// Retired commands that only have a plain-query name (still listed in MS-ASProtocolCommands).
    GetHierarchy,
    CreateCollection,
    DeleteCollection,
    MoveCollection,
}

/// (command, name, base64 code). Codes 5–8 are not assigned by the spec.
const TABLE: &[(Command, &str, Option<u8>)] = &[
    (Command::Sync, "Sync", Some(0)),
    (Command::SendMail, "SendMail", Some(1)),
    (Command::SmartForward, "SmartForward", Some(2)),
    (Command::SmartReply, "SmartReply", Some(3)),
    (Command::GetAttachment, "GetAttachment", Some(4)),
    (Command::FolderSync, "FolderSync", Some(9)),
    (Command::FolderCreate, "FolderCreate", Some(10)),
    (Command::FolderDelete, "FolderDelete", Some(11)),
    (Command::FolderUpdate, "FolderUpdate", Some(12)),
    (Command::MoveItems, "MoveItems", Some(13)),
    (Command::GetItemEstimate, "GetItemEstimate", Some(14)),
    (Command::MeetingResponse, "MeetingResponse", Some(15)),
    (Command::Search, "Search", Some(16)),
    (Command::Settings, "Settings", Some(17)),
    (Command::Ping, "Ping", Some(18)),
    (Command::ItemOperations, "ItemOperations", Some(19)),
    (Command::Provision, "Provision", Some(20)),
    (Command::ResolveRecipients, "ResolveRecipients", Some(21)),
    (Command::ValidateCert, "ValidateCert", Some(22)),
    (Command::Find, "Find", Some(23)),
    (Command::GetHierarchy, "GetHierarchy", None),
    (Command::CreateCollection, "CreateCollection", None),
    (Command::DeleteCollection, "DeleteCollection", None),
    (Command::MoveCollection, "MoveCollection", None),
];

impl Command {
    pub fn name(self) -> &'static str {
        TABLE.iter().find(|(c, _, _)| *c == self).map_or("?", |(_, n, _)| n)
    }

    /// The command for a `Cmd=` value (case-insensitive, as servers accept it).
    pub fn from_name(name: &str) -> Option<Command> {
        // As written by nearly every device first (one compare per entry), then in any case.
        if let Some((c, _, _)) = TABLE.iter().find(|(_, n, _)| *n == name) {
            return Some(*c);
        }
        TABLE
            .iter()
            .find(|(_, n, _)| n.len() == name.len() && n.eq_ignore_ascii_case(name))
            .map(|(c, _, _)| *c)
    }

    /// The command for a base64-query command code.
    pub fn from_code(code: u8) -> Option<Command> {
        TABLE.iter().find(|(_, _, k)| *k == Some(code)).map(|(c, _, _)| *c)
    }

    pub fn code(self) -> Option<u8> {
        TABLE.iter().find(|(c, _, _)| *c == self).and_then(|(_, _, k)| *k)
    }

    pub fn all() -> impl Iterator<Item = Command> {
        TABLE.iter().map(|(c, _, _)| *c)
    }
}

impl serde::Serialize for Command {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        assert_eq!(Command::from_code(0), Some(Command::Sync));
        assert_eq!(Command::from_code(19), Some(Command::ItemOperations));
        assert_eq!(Command::from_code(23), Some(Command::Find));
        assert_eq!(Command::from_code(5), None);
        assert_eq!(Command::from_code(24), None);
        assert_eq!(Command::from_name("foldersync"), Some(Command::FolderSync));
        for c in Command::all() {
            assert_eq!(Command::from_name(c.name()), Some(c));
            if let Some(k) = c.code() {
                assert_eq!(Command::from_code(k), Some(c));
            }
        }
    }
}
