//! The sample kit: everything easlens generates for its samples, tests and benchmarks.
//!
//! - [`scenarios`] — realistic EAS conversations (format-neutral [`Exchange`]s), written
//!   with the engine's own WBXML and query encoders;
//! - those exchanges are written as Fiddler SAZ and as HAR (several exporters' styles) by the
//!   engine's writers ([`easlens_core::writers`]); [`mailbox_log_writer`] — the server's side of
//!   the same conversation as Exchange's ActiveSync mailbox log, with the manifest that pairs its
//!   entries with the exchanges; [`iis_log_writer`] — the same conversations, a fleet of devices
//!   and a big benchmark file as Exchange's IIS logs (W3C), with the truth that says what every
//!   line is; [`sets`] — the bundled sample set and big benchmark captures;
//! - [`random_wbxml`] — seeded random, well-formed ActiveSync documents and byte noise for the
//!   property and differential tests of the codec.

pub mod iis_log_writer;
pub mod mailbox_log_writer;
pub mod random_wbxml;
pub mod scenarios;
pub mod sets;
