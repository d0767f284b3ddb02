//! Exchange ActiveSync protocol knowledge: commands, the HTTP request line ([MS-ASHTTP]), the
//! headers that matter ([`headers`], data in `headers.tsv`), what status values mean ([`status`],
//! data in `status/*.tsv`; [MS-ASCMD]), and the EAS summary of a session ([`session`]), computed
//! from a reader's session and what its bodies hold. No UI, no I/O.

pub mod command;
pub mod datetime;
pub mod headers;
#[cfg(test)]
mod headers_tsv;
pub mod items;
mod locales_tsv;
pub mod query;
pub mod session;
pub mod status;
mod status_tsv;

pub use command::Command;
