//! What a list of sessions shows of each one, as values (the window's session table and timeline
//! draw them): the response Status that matters most, the highlight that
//! colours a row or a point, the device, the throttling, the folders, the body sizes, and the
//! commands of a set of sessions by frequency.

use crate::analysis::folders::FolderNames;
use crate::capture::{Capture, LabelStyle, Session};
use crate::eas::session::{Highlight, StatusEntry};
use crate::eas::status::{Level, Verdict};
use crate::http::Side;

/// The reason that colours a row: HTTP beats throttling beats Status. A session that is not
/// EAS (autodiscover, OWA, anything else in the capture) is highlighted for a non-2xx answer too.
pub fn main_highlight(s: &Session) -> Option<Highlight> {
    match &s.eas {
        Some(e) => [Highlight::Http, Highlight::Throttle, Highlight::Status]
            .into_iter()
            .find(|h| e.highlights.contains(h)),
        None => non_2xx(s),
    }
}

/// `Highlight::Http` for an answer outside 2xx.
fn non_2xx(s: &Session) -> Option<Highlight> {
    s.http_status()
        .filter(|c| !(200..300).contains(c))
        .map(|_| Highlight::Http)
}

/// The outcome a timeline plots: throttling (what a timeline is read for, so it beats the 503 it
/// comes with), then HTTP, then Status; a non-EAS session with a non-2xx answer is an HTTP error.
pub fn timeline_outcome(s: &Session) -> Option<Highlight> {
    let hl = s.eas.as_ref().and_then(|e| {
        [Highlight::Throttle, Highlight::Http, Highlight::Status]
            .into_iter()
            .find(|h| e.highlights.contains(h))
    });
    hl.or_else(|| non_2xx(s))
}

/// The response Status that matters most: the first failure of the command, else the first
/// failing item, else the first unknown value, else the command's first Status, else the first.
/// An informational item value (Status 173 NoPicture) never outranks the command's success.
pub fn worst_status(s: &Session) -> Option<&StatusEntry> {
    let eas = s.eas.as_ref()?;
    let resp = || eas.statuses.iter().filter(|e| e.side == Side::Response);
    let failure = |e: &&StatusEntry| e.verdict == Verdict::Failure;
    resp()
        .find(|e| failure(e) && e.level == Level::Command)
        .or_else(|| resp().find(failure))
        .or_else(|| resp().find(|e| e.verdict == Verdict::Unknown))
        .or_else(|| resp().find(|e| e.level == Level::Command))
        .or_else(|| resp().next())
}

/// Bytes of the request body as the capture stores it.
pub fn request_size(s: &Session) -> u64 {
    s.request.as_ref().map_or(0, |r| r.body.stored_len)
}

/// Bytes of the response body as the capture stores it.
pub fn response_size(s: &Session) -> u64 {
    s.response.as_ref().map_or(0, |r| r.body.stored_len)
}

/// The session's CollectionIds, each with the folder name a FolderSync in the capture gave it
/// (`5 (Inbox), 1 (Calendar)`; the bare ids without `names`).
pub fn folder_labels(s: &Session, names: Option<&FolderNames>) -> String {
    let Some(e) = &s.eas else { return String::new() };
    let labels: Vec<String> = e
        .collection_ids
        .iter()
        .map(|id| names.map_or_else(|| id.to_string(), |n| n.label(id)))
        .collect();
    labels.join(", ")
}

/// `DeviceType DeviceId`, either alone, or empty ([`Session::device_label`]).
pub fn device_label(s: &Session) -> String {
    s.device_label()
}

/// Host and path of the request, without scheme and query (the full URL is a hover away).
pub fn url_label(s: &Session) -> String {
    let Some(r) = &s.request else { return String::new() };
    let url = r.url();
    let rest = url.split_once("://").map_or(url.as_ref(), |(_, r)| r);
    rest.split(['?', '#']).next().unwrap_or(rest).to_string()
}

/// `X-MS-ASThrottle · retry N s`, either part alone, or empty.
pub fn throttle_label(s: &Session) -> String {
    let Some(e) = &s.eas else { return String::new() };
    match (&e.headers.throttle, &e.headers.retry_after) {
        (Some(t), Some(r)) => format!("{t} · retry {r} s"),
        (Some(t), None) => t.to_string(),
        (None, Some(r)) => format!("retry {r} s"),
        (None, None) => String::new(),
    }
}

/// The command labels of the sessions at `rows`, the most frequent first (ties by name).
pub fn commands_by_frequency(capture: &Capture, rows: &[u32]) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for &i in rows {
        let c = capture.sessions[i as usize].command_label(LabelStyle::WINDOW);
        match counts.iter_mut().find(|(n, _)| *n == c) {
            Some((_, k)) => *k += 1,
            None => counts.push((c, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.into_iter().map(|(n, _)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{headers, plain};
    use crate::eas::Command;

    #[test]
    fn rows_and_points_rank_the_highlights_differently() {
        let mut s = plain(1, Command::Sync, Some(503));
        if let Some(e) = s.eas.as_mut() {
            e.highlights = vec![Highlight::Status, Highlight::Throttle, Highlight::Http];
        }
        assert_eq!(main_highlight(&s), Some(Highlight::Http));
        assert_eq!(timeline_outcome(&s), Some(Highlight::Throttle));
        s.eas = None;
        assert_eq!(
            main_highlight(&s),
            Some(Highlight::Http),
            "a non-EAS session's non-2xx answer"
        );
        assert_eq!(timeline_outcome(&s), Some(Highlight::Http), "a non-2xx answer");
        assert_eq!(s.command_label(LabelStyle::WINDOW), "POST");
    }

    #[test]
    fn labels_of_the_device_and_the_throttling() {
        let mut s = plain(1, Command::Sync, Some(503));
        assert_eq!(s.command_label(LabelStyle::WINDOW), "Sync");
        assert_eq!(device_label(&s), "iPhone DEV1");
        headers(&mut s).throttle = Some("MaxDevicePartnershipsExceeded".into());
        headers(&mut s).retry_after = Some("30".into());
        assert_eq!(throttle_label(&s), "MaxDevicePartnershipsExceeded · retry 30 s");
    }
}
