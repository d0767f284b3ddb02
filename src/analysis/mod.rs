//! Analysis over a whole indexed capture, free of any UI: what happened to an item across the
//! sessions ([`history`]) and what the folders are called ([`folders`]). Everything here reads the
//! sessions' EAS summaries and re-decodes only the bodies it is asked about.

pub mod folders;
pub mod history;
