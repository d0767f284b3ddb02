//! easlens engine: everything the desktop inspector and the CLI show is computed here, free of any
//! UI, CLI or allocator.
//!
//! - [`http`] — HTTP messages as captures store them: header blocks, on-the-wire bodies decoded on demand.
//! - [`wbxml`] — the ActiveSync WBXML codec: code pages as data, decoder, XML renderer, encoder.
//! - [`hexdump`] — bytes from pasted hex dumps (plain, C-style, xxd, hexdump -C, Fiddler).
//! - [`eas`] — Exchange ActiveSync protocol knowledge: request-line (query) decoding, status meanings.
//! - [`capture`] — opening SAZ and HAR captures into sessions, indexed in parallel with progress.
//! - [`analysis`] — analysis over a whole capture: item history by any id, folder names, SyncKey
//!   chains per collection and the findings engine.
//! - [`overview`] — what a list of sessions shows of each one: command label, worst Status,
//!   highlight, device, throttling, folders.
//! - [`filter`] — the session filter: a query language (`cmd:Sync http:5xx -throttled`) and a free-text index of the bodies.
//! - [`report`] — evidence as text ("Copy as text"): request line, key headers, Status meanings, decoded XML; credentials masked.

pub mod analysis;
pub mod capture;
pub mod eas;
pub mod filter;
pub mod hexdump;
pub mod http;
pub mod overview;
pub mod report;
pub mod wbxml;
