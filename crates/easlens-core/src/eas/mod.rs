//! Exchange ActiveSync protocol knowledge: commands, the HTTP request line ([MS-ASHTTP]) and
//! what status values mean ([MS-ASCMD]). No UI, no I/O.

pub mod command;
pub mod items;
pub mod query;
pub mod session;
pub mod status;
mod status_tsv;

pub use command::Command;
