//! easlens engine: everything the desktop inspector and the CLI show is computed here, free of any UI.
//!
//! - [`analysis`] — analysis over a whole indexed capture: SyncKey chains per collection and the findings engine.
//! - [`alloc`] — the allocator the binaries use (mimalloc, returning freed memory promptly).
//! - [`capture`] — opening SAZ and HAR captures into sessions, indexed in parallel with progress.
//! - [`wbxml`] — the ActiveSync WBXML codec: code pages as data, decoder, XML renderer, encoder.
//! - [`samples`] — the sample generator: realistic EAS captures written with the project's own encoders.
//! - [`hexdump`] — bytes from pasted hex dumps (plain, C-style, xxd, hexdump -C, Fiddler).
//! - [`http`] — HTTP messages as captures store them: header blocks, on-the-wire bodies decoded on demand.
//! - [`eas`] — Exchange ActiveSync protocol knowledge: request-line (query) decoding, status meanings.
//! - [`app`] — the desktop inspector (egui); renders what the engine computed, nothing else.
//! - [`report`] — evidence as text ("Copy as text"): request line, key headers, Status meanings, decoded XML; credentials masked.
//! - [`analysis`] — analysis over a whole capture: item history by any id, folder names.
//! - [`filter`] — the session filter: a query language (`cmd:Sync http:5xx -throttled`) and a free-text index of the bodies.

pub mod alloc;
pub mod analysis;
pub mod app;
pub mod capture;
pub mod eas;
pub mod filter;
pub mod hexdump;
pub mod http;
pub mod report;
pub mod samples;
pub mod wbxml;
