//! Exchange ActiveSync protocol knowledge: commands, the HTTP request line ([MS-ASHTTP]), what
//! status values mean ([MS-ASCMD]), and the EAS summary of a session ([`session`]), computed from
//! a reader's session and what its bodies hold. No UI, no I/O.

pub mod command;
pub mod items;
pub mod query;
pub mod session;
pub mod status;

pub use command::Command;
