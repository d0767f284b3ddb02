//! The HTTP headers that matter to ActiveSync, as data: `src/eas/headers.tsv`, checked and turned
//! into the table below by `build.rs`. One row per header says which message carries it, what the
//! inspector says it means (and whether it shows it in the failure colour), where "Copy as text"
//! (the report) quotes it, and which field of the session summary
//! (the EAS summary of `session.rs`, which includes the generated fill) its value fills. Every header name the engine
//! and the window need is a constant of [`name`].

use crate::http::Side;

include!(concat!(env!("OUT_DIR"), "/eas_headers.rs"));

/// Which message carries a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderSide {
    Request,
    Response,
    Both,
}

/// One row of `headers.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EasHeader {
    /// As usually spelt; headers are matched case-insensitively.
    pub name: &'static str,
    pub side: HeaderSide,
    /// What the header means, as the inspector's "ActiveSync headers" list says it; `None`: the
    /// header is not in that list.
    pub meaning: Option<&'static str>,
    /// Its place in "Copy as text" (one numbering for both sides); `None`: not quoted.
    pub quote: Option<u32>,
    /// The inspector shows the name in the failure colour (throttling, redirects, resets).
    pub strong: bool,
    /// The [`EasSummary`] field its first value fills (`headers.throttle`, `protocol_version`).
    pub field: Option<&'static str>,
}

impl EasHeader {
    /// True when the header is sent on `side`.
    pub fn on(&self, side: Side) -> bool {
        matches!(
            (self.side, side),
            (HeaderSide::Both, _) | (HeaderSide::Request, Side::Request) | (HeaderSide::Response, Side::Response)
        )
    }
}

/// Every header of the table, in the order of `headers.tsv`.
pub fn all() -> &'static [EasHeader] {
    &HEADERS
}

/// The row of a header name (any case).
pub fn get(name: &str) -> Option<&'static EasHeader> {
    HEADERS.iter().find(|h| h.name.eq_ignore_ascii_case(name))
}

/// What a header means, when the inspector explains it.
pub fn meaning(name: &str) -> Option<&'static str> {
    get(name)?.meaning
}

/// The headers sent on `side`, in the order of `headers.tsv`.
pub fn on_side(side: Side) -> impl Iterator<Item = &'static EasHeader> {
    HEADERS.iter().filter(move |h| h.on(side))
}

/// The headers the inspector lists with their meaning (either side), in its order.
pub fn explained() -> impl Iterator<Item = &'static EasHeader> {
    HEADERS.iter().filter(|h| h.meaning.is_some())
}

/// The headers "Copy as text" quotes for `side`, in its order.
pub fn quoted(side: Side) -> &'static [&'static str] {
    match side {
        Side::Request => &QUOTED_REQUEST,
        Side::Response => &QUOTED_RESPONSE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_name_and_side() {
        assert_eq!(
            get("x-ms-asthrottle").map(|h| (h.name, h.strong)),
            Some(("X-MS-ASThrottle", true))
        );
        assert_eq!(meaning(name::RETRY_AFTER), Some("seconds to wait before retrying"));
        assert_eq!(meaning(name::HOST), None);
        assert!(get(name::CONTENT_TYPE).is_some_and(|h| h.on(Side::Request) && h.on(Side::Response)));
        assert!(on_side(Side::Request).all(|h| h.side != HeaderSide::Response));
        assert_eq!(quoted(Side::Request).first(), Some(&"Host"));
        assert_eq!(
            quoted(Side::Response)[..3],
            ["Content-Type", "Content-Encoding", "X-MS-ASThrottle"]
        );
        assert_eq!(explained().count(), 14);
    }
}
