//! easlens engine: everything the desktop inspector and the CLI show is computed here, free of any
//! UI, CLI or allocator.
//!
//! The modules are layers, lowest first; each imports only modules above it in this list, so none
//! of them depend on each other both ways.
//!
//! - [`numbers`] — numbers as people read them (`100,000`).
//! - [`shared`] — one copy per process of the short strings that repeat across sessions.
//! - [`http`] — HTTP messages as captures store them: header blocks, on-the-wire bodies decoded on
//!   demand, the side (request or response) of an exchange.
//! - [`wbxml`] — the ActiveSync WBXML codec: code pages as data, decoder, XML renderer, encoder.
//! - [`hexdump`] — bytes from pasted hex dumps (plain, C-style, xxd, hexdump -C, Fiddler).
//! - [`readers`] — reading SAZ and HAR files into HTTP sessions, in parallel with progress; what
//!   the bodies mean is left to the caller's indexer.
//! - [`content`] — what a body holds (decoded bytes, multipart parts, WBXML document): the one
//!   body pipeline every consumer goes through.
//! - [`eas`] — Exchange ActiveSync protocol knowledge: request-line (query) decoding, status
//!   meanings, and the EAS summary of a session.
//! - [`iis`] — Exchange's IIS logs: W3C lines read in blocks on every core, ActiveSync lines
//!   decoded (query, `Log=` tokens), the Log Parser Studio reports streamed, the lines as sessions.
//! - [`capture`] — the opened capture every consumer works on: sessions with their EAS summary
//!   (computed while reading), bodies read back and decoded on demand.
//! - [`writers`] — writing sessions as a Fiddler SAZ or a HAR file: the sample kit's captures in
//!   every writer's variant, and the export of an opened capture (or chosen sessions of it).
//! - [`analysis`] — analysis over a whole capture: item history by any id, folder names, SyncKey
//!   chains per collection and the findings engine.
//! - [`overview`] — what a list of sessions shows of each one: worst Status,
//!   highlight, device, throttling, folders.
//! - [`filter`] — the session filter: a query language (`cmd:Sync http:5xx -throttled`) and a free-text index of the bodies.
//! - [`redact`] — personal data replaced by consistent pseudonyms (rules as data in
//!   `redact/rules.tsv`): a redacted capture that every view, analysis and export can work on.
//! - [`compare`] — two sessions side by side: each part as the inspector shows it and a line diff
//!   as aligned rows (the window's Compare view), and which session to compare one with.
//! - [`report`] — evidence: one session as text ("Copy as text": request line, key headers, Status
//!   meanings, decoded XML; credentials masked), and the evidence report of a capture as
//!   self-contained HTML or Markdown with an SVG timeline.

pub mod analysis;
pub mod capture;
pub mod compare;
pub mod content;
pub mod eas;
pub mod filter;
pub mod hexdump;
pub mod http;
pub mod iis;
pub mod numbers;
pub mod overview;
pub mod readers;
pub mod redact;
pub mod report;
pub mod shared;
pub mod timeline;
// The data-file reader shared with build.rs, which also uses the parts the crate does not.
#[allow(dead_code)]
mod tsv;
pub mod wbxml;
pub mod writers;
