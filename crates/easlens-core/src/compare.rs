//! Two sessions side by side: each part (request body, response body, the HTTP heads) of both as
//! the text the inspector shows — decoded WBXML as XML, indented JSON, readable text, or the size
//! of binary bytes — and a line diff of the two as aligned rows for a side-by-side view (the
//! window's Compare view). Which session to compare the selected one with by default (a retry of
//! a Sync with the same SyncKey, else the previous one of the same command and folder) is here too.
//!
//! The diff is [`similar`]'s, with a deadline ([`DIFF_TIMEOUT`]): past it the diff is still
//! complete and correct but less minimal ([`LineDiff::approximate`]), so a hostile body of
//! millions of lines cannot stall the view. The bodies themselves are bounded by the inspector's
//! decode budget ([`Capture::body_view`]).

use std::ops::Range;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffTag, TextDiff};
use thiserror::Error;

use crate::capture::{BodyKept, Capture, LabelStyle, Session};
use crate::content::json;
use crate::eas::Command;
use crate::http::headers::shown_value;
use crate::http::{Side, readable_text};

/// How long one part's diff may take before similar settles for a less minimal one.
pub const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// Rows of context kept around each difference by [`only_differences`] in the window.
pub const CONTEXT_ROWS: usize = 2;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CompareError {
    #[error("there is no session at position {0} (the capture has {1})")]
    NoSession(usize, usize),
}

/// A part of a session compared on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The request body.
    Request,
    /// The response body.
    Response,
    /// The request line with its headers, then the status line with its headers.
    Headers,
}

impl Part {
    /// Every part, in the order the window lists them.
    pub const ALL: [Part; 3] = [Part::Request, Part::Response, Part::Headers];

    pub fn name(self) -> &'static str {
        match self {
            Part::Request => "Request",
            Part::Response => "Response",
            Part::Headers => "Headers",
        }
    }
}

/// One side's text of a part, split into lines, with a note on what it is when that is not
/// plain decoded XML (no such side, JSON, a decode error, binary bytes, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    /// Byte ranges of the lines, without their line break (`\n` or `\r\n`).
    lines: Vec<Range<usize>>,
    pub note: Option<String>,
}

impl Text {
    pub fn new(text: String, note: Option<String>) -> Text {
        let lines = crate::content::line_ranges(&text);
        Text { text, lines, note }
    }

    /// Nothing to show, and why.
    fn noted(note: impl Into<String>) -> Text {
        Text::new(String::new(), Some(note.into()))
    }

    /// How many lines the text has.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `i` (0-based), without its line break.
    pub fn line(&self, i: usize) -> &str {
        &self.text[self.lines[i].clone()]
    }

    fn all_lines(&self) -> Vec<&str> {
        self.lines.iter().map(|r| &self.text[r.clone()]).collect()
    }
}

/// What one row of a side-by-side view holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// The same line on both sides.
    Same,
    /// A line on each side, different.
    Changed,
    /// A line only the left side has.
    Removed,
    /// A line only the right side has.
    Added,
}

/// One row of a side-by-side view: a line number (0-based) on either side or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub left: Option<usize>,
    pub right: Option<usize>,
    pub kind: RowKind,
}

/// The line diff of two texts as aligned rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineDiff {
    pub rows: Vec<Row>,
    /// How many rows differ (are not [`RowKind::Same`]).
    pub differences: usize,
    /// The first row of each run of differing rows, in order.
    pub blocks: Vec<usize>,
    /// The deadline was reached: the rows are a correct but not minimal diff.
    pub approximate: bool,
}

/// The line diff of `left` and `right`, given up on as minimal after `timeout`. A run of removed
/// lines followed by added ones is paired line by line into changed rows, the longer side's rest
/// left as removed or added.
pub fn diff_lines(left: &Text, right: &Text, timeout: Duration) -> LineDiff {
    let (old, new) = (left.all_lines(), right.all_lines());
    let started = Instant::now();
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(timeout)
        .diff_slices(&old, &new);
    let approximate = started.elapsed() >= timeout;
    let mut rows = Vec::with_capacity(old.len().max(new.len()));
    // Removed lines waiting for added ones to be paired with.
    let mut removed: Option<Range<usize>> = None;
    for op in diff.ops() {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => {
                pair(&mut rows, removed.take().unwrap_or(0..0), 0..0);
                rows.extend(o.zip(n).map(|(l, r)| Row {
                    left: Some(l),
                    right: Some(r),
                    kind: RowKind::Same,
                }));
            }
            DiffTag::Delete => {
                removed = Some(match removed.take() {
                    Some(r) => r.start..o.end,
                    None => o,
                })
            }
            DiffTag::Insert => pair(&mut rows, removed.take().unwrap_or(0..0), n),
            DiffTag::Replace => {
                let o = match removed.take() {
                    Some(r) => r.start..o.end,
                    None => o,
                };
                pair(&mut rows, o, n);
            }
        }
    }
    pair(&mut rows, removed.take().unwrap_or(0..0), 0..0);
    let differences = rows.iter().filter(|r| r.kind != RowKind::Same).count();
    let blocks = (0..rows.len())
        .filter(|&i| rows[i].kind != RowKind::Same && (i == 0 || rows[i - 1].kind == RowKind::Same))
        .collect();
    LineDiff {
        rows,
        differences,
        blocks,
        approximate,
    }
}

/// Rows for left lines `old` replaced by right lines `new`.
fn pair(rows: &mut Vec<Row>, old: Range<usize>, new: Range<usize>) {
    let n = old.len().max(new.len());
    for k in 0..n {
        let left = (k < old.len()).then(|| old.start + k);
        let right = (k < new.len()).then(|| new.start + k);
        let kind = match (left, right) {
            (Some(_), Some(_)) => RowKind::Changed,
            (Some(_), None) => RowKind::Removed,
            _ => RowKind::Added,
        };
        rows.push(Row { left, right, kind });
    }
}

/// The rows "only differences" shows: every differing row with `context` rows either side, in
/// order; `None` stands for rows left out between two such stretches.
pub fn only_differences(rows: &[Row], context: usize) -> Vec<Option<usize>> {
    let mut keep = vec![false; rows.len()];
    for (i, r) in rows.iter().enumerate() {
        if r.kind != RowKind::Same {
            let end = (i + context + 1).min(rows.len());
            keep[i.saturating_sub(context)..end].fill(true);
        }
    }
    let mut out = Vec::new();
    for (i, &k) in keep.iter().enumerate() {
        if k {
            if i > 0 && !keep[i - 1] && !out.is_empty() {
                out.push(None);
            }
            out.push(Some(i));
        }
    }
    out
}

/// One part of both sessions and its diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartDiff {
    pub part: Part,
    pub left: Text,
    pub right: Text,
    pub diff: LineDiff,
}

/// Two sessions compared part by part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Positions in `Capture::sessions`.
    pub left: usize,
    pub right: usize,
    /// One per [`Part::ALL`], in that order.
    pub parts: Vec<PartDiff>,
}

impl Comparison {
    /// Differing rows over every part.
    pub fn differences(&self) -> usize {
        self.parts.iter().map(|p| p.diff.differences).sum()
    }

    pub fn part(&self, part: Part) -> Option<&PartDiff> {
        self.parts.iter().find(|p| p.part == part)
    }
}

/// Sessions `left` and `right` (positions in `capture.sessions`) compared part by part; header
/// values that are credentials are masked unless `reveal`.
pub fn compare(capture: &Capture, left: usize, right: usize, reveal: bool) -> Result<Comparison, CompareError> {
    let session = |p: usize| {
        capture
            .sessions
            .get(p)
            .ok_or(CompareError::NoSession(p, capture.sessions.len()))
    };
    let (l, r) = (session(left)?, session(right)?);
    let parts = Part::ALL
        .iter()
        .map(|&part| {
            let (lt, rt) = match part {
                Part::Request => (
                    body_text(capture, left, Side::Request),
                    body_text(capture, right, Side::Request),
                ),
                Part::Response => (
                    body_text(capture, left, Side::Response),
                    body_text(capture, right, Side::Response),
                ),
                Part::Headers => (head_text(l, reveal), head_text(r, reveal)),
            };
            let diff = diff_lines(&lt, &rt, DIFF_TIMEOUT);
            PartDiff {
                part,
                left: lt,
                right: rt,
                diff,
            }
        })
        .collect();
    Ok(Comparison { left, right, parts })
}

/// The body of one side of session `position` as the inspector's body tab shows it.
pub fn body_text(capture: &Capture, position: usize, side: Side) -> Text {
    let name = match side {
        Side::Request => "request",
        Side::Response => "response",
    };
    let view = match capture.body_view(position, side) {
        None => {
            let aborted = capture.sessions.get(position).is_some_and(|s| s.flags.aborted);
            return Text::noted(format!("No {name}{}", if aborted { " (aborted)" } else { "" }));
        }
        Some(Err(e)) => return Text::noted(format!("The {name} body is unreadable: {e}")),
        Some(Ok(v)) => v,
    };
    match view.kept {
        BodyKept::LostByExporter => return Text::noted("Body lost by the HAR exporter"),
        BodyKept::Omitted => return Text::noted("Body not included in the capture file"),
        BodyKept::Present => {}
    }
    if let Some(xml) = &view.xml {
        let note = view.wbxml_error.as_ref().map(|e| {
            format!(
                "WBXML decode error at byte offset {}: {} (the XML is partial)",
                e.offset, e.kind
            )
        });
        return Text::new(xml.text.clone(), note);
    }
    let bytes = &view.decoded.bytes;
    if bytes.is_empty() {
        return Text::noted("No body");
    }
    if let Some(pretty) = json::pretty(bytes) {
        return Text::new(pretty, Some("Not WBXML: JSON, indented".into()));
    }
    match readable_text(bytes) {
        Some(t) => Text::new(t.to_string(), Some("Not WBXML: text".into())),
        None => Text::new(
            format!("{} bytes of binary", bytes.len()),
            Some("Not WBXML: binary data".into()),
        ),
    }
}

/// The request line and headers, a blank line, the status line and headers of `session`, as the
/// inspector's Headers tab shows them (credentials masked unless `reveal`).
pub fn head_text(session: &Session, reveal: bool) -> Text {
    let mut out = String::new();
    let headers = |out: &mut String, h: &crate::http::Headers| {
        for (n, v) in h.iter() {
            out.push_str(&format!("{n}: {}\n", shown_value(n, v, reveal)));
        }
    };
    match &session.request {
        Some(r) => {
            out.push_str(&format!("{} {} {}\n", r.head.method, r.head.target, r.head.version));
            headers(&mut out, &r.head.headers);
        }
        None => out.push_str("(no request)\n"),
    }
    out.push('\n');
    match &session.response {
        Some(r) => {
            out.push_str(&format!("{} {} {}\n", r.head.version, r.head.status, r.head.reason));
            headers(&mut out, &r.head.headers);
        }
        None if session.flags.aborted => out.push_str("(no response: aborted)\n"),
        None => out.push_str("(no response)\n"),
    }
    Text::new(out, None)
}

/// The session to compare session `position` with by default: for a Sync, another Sync of the
/// device that sent the same request SyncKeys (a retry; the nearest before it, else after it);
/// otherwise the nearest earlier session of the same command, folders and device.
pub fn counterpart(capture: &Capture, position: usize) -> Option<usize> {
    let s = capture.sessions.get(position)?;
    let eas = s.eas.as_ref()?;
    let command = s.command_label(LabelStyle::REPORT);
    let same_kind = |o: &Session| {
        o.eas
            .as_ref()
            .is_some_and(|e| e.device_id == eas.device_id && e.collection_ids == eas.collection_ids)
            && o.command_label(LabelStyle::REPORT) == command
    };
    let keys = |o: &Session| {
        o.eas.as_ref().map_or(Vec::new(), |e| {
            e.sync_keys
                .iter()
                .filter(|k| k.side == Side::Request)
                .map(|k| (k.collection_id.clone(), k.value.clone()))
                .collect()
        })
    };
    let earlier = (0..position).rev();
    if eas.command == Some(Command::Sync) {
        let mine = keys(s);
        if !mine.is_empty() {
            let later = position + 1..capture.sessions.len();
            let retry = earlier
                .clone()
                .chain(later)
                .find(|&p| same_kind(&capture.sessions[p]) && keys(&capture.sessions[p]) == mine);
            if retry.is_some() {
                return retry;
            }
        }
    }
    earlier.into_iter().find(|&p| same_kind(&capture.sessions[p]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::session;
    use crate::capture::{Body, Format};
    use crate::http::Headers;
    use crate::readers::MemoryStore;

    fn text(s: &str) -> Text {
        Text::new(s.to_string(), None)
    }

    fn row(left: Option<usize>, right: Option<usize>, kind: RowKind) -> Row {
        Row { left, right, kind }
    }

    #[test]
    fn lines_drop_their_breaks_and_a_final_break_adds_no_line() {
        let t = text("a\r\nb\n\nc");
        assert_eq!((0..t.len()).map(|i| t.line(i)).collect::<Vec<_>>(), ["a", "b", "", "c"]);
        assert_eq!(text("a\n").len(), 1);
        assert!(text("").is_empty());
    }

    #[test]
    fn two_sync_responses_line_up_with_their_changed_removed_and_added_lines() {
        let left = text(concat!(
            "<Sync xmlns=\"AirSync\">\n",
            "  <Collections>\n",
            "    <Collection>\n",
            "      <SyncKey>5</SyncKey>\n",
            "      <CollectionId>1</CollectionId>\n",
            "      <Status>1</Status>\n",
            "      <MoreAvailable/>\n",
            "    </Collection>\n",
            "  </Collections>\n",
            "</Sync>\n",
        ));
        let right = text(concat!(
            "<Sync xmlns=\"AirSync\">\n",
            "  <Collections>\n",
            "    <Collection>\n",
            "      <SyncKey>6</SyncKey>\n",
            "      <CollectionId>1</CollectionId>\n",
            "      <Status>3</Status>\n",
            "    </Collection>\n",
            "  </Collections>\n",
            "  <Limit>100</Limit>\n",
            "</Sync>\n",
        ));
        let d = diff_lines(&left, &right, DIFF_TIMEOUT);
        use RowKind::*;
        assert_eq!(
            d.rows,
            [
                row(Some(0), Some(0), Same),
                row(Some(1), Some(1), Same),
                row(Some(2), Some(2), Same),
                row(Some(3), Some(3), Changed),
                row(Some(4), Some(4), Same),
                row(Some(5), Some(5), Changed),
                row(Some(6), None, Removed),
                row(Some(7), Some(6), Same),
                row(Some(8), Some(7), Same),
                row(None, Some(8), Added),
                row(Some(9), Some(9), Same),
            ]
        );
        assert_eq!(d.differences, 4);
        assert_eq!(d.blocks, [3, 5, 9]);
        assert!(!d.approximate);
        assert_eq!(
            only_differences(&d.rows, 1),
            [2, 3, 4, 5, 6, 7, 8, 9, 10].map(Some).to_vec()
        );
        assert_eq!(
            only_differences(&d.rows, 0),
            [Some(3), None, Some(5), Some(6), None, Some(9)]
        );
    }

    #[test]
    fn identical_and_one_sided_texts() {
        let a = text("<a>\n  <b/>\n</a>\n");
        let same = diff_lines(&a, &a, DIFF_TIMEOUT);
        assert_eq!(same.differences, 0);
        assert!(same.blocks.is_empty());
        assert!(same.rows.iter().all(|r| r.kind == RowKind::Same && r.left == r.right));
        assert!(only_differences(&same.rows, CONTEXT_ROWS).is_empty());
        let gone = diff_lines(&a, &text(""), DIFF_TIMEOUT);
        assert_eq!(gone.differences, 3);
        assert!(
            gone.rows
                .iter()
                .all(|r| r.kind == RowKind::Removed && r.right.is_none())
        );
        let new = diff_lines(&text(""), &a, DIFF_TIMEOUT);
        assert_eq!(new.blocks, [0]);
        assert!(new.rows.iter().all(|r| r.kind == RowKind::Added && r.left.is_none()));
    }

    #[test]
    fn a_huge_diff_stops_at_its_deadline_and_still_covers_every_line() {
        // Every line differs: Myers' worst case, far past a zero deadline.
        let left: String = (0..20_000).map(|i| format!("left {i}\n")).collect();
        let right: String = (0..20_000).map(|i| format!("right {i}\n")).collect();
        let (l, r) = (text(&left), text(&right));
        let started = Instant::now();
        let d = diff_lines(&l, &r, Duration::ZERO);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(d.approximate);
        let lefts: Vec<usize> = d.rows.iter().filter_map(|r| r.left).collect();
        let rights: Vec<usize> = d.rows.iter().filter_map(|r| r.right).collect();
        assert_eq!(lefts, (0..20_000).collect::<Vec<_>>());
        assert_eq!(rights, (0..20_000).collect::<Vec<_>>());
    }

    fn wbxml(xml: &str) -> Body {
        Body::in_memory(crate::wbxml::encode(&crate::wbxml::from_xml(xml).unwrap()))
    }

    /// Two Syncs of collection 5 with WBXML bodies, the second also with a JSON error body.
    fn capture() -> Capture {
        let mut a = session(1, Some("5"), Some("7"), Some(200), Some("8"), Some(1));
        let mut b = session(2, Some("5"), Some("7"), Some(503), None, None);
        let request = r#"<Sync xmlns="AirSync"><Collections><Collection><SyncKey>7</SyncKey><CollectionId>5</CollectionId></Collection></Collections></Sync>"#;
        let wbxml_type: Headers = [("Content-Type".to_string(), "application/vnd.ms-sync.wbxml".to_string())]
            .into_iter()
            .collect();
        for s in [&mut a, &mut b] {
            let r = s.request.as_mut().unwrap();
            r.head.headers = wbxml_type.clone();
            r.head.headers.push("Authorization", "Basic c2VjcmV0");
            r.body = wbxml(request);
        }
        let response = a.response.as_mut().unwrap();
        response.head.headers = wbxml_type;
        response.body = wbxml(
            r#"<Sync xmlns="AirSync"><Collections><Collection><SyncKey>8</SyncKey><CollectionId>5</CollectionId><Status>1</Status></Collection></Collections></Sync>"#,
        );
        b.response.as_mut().unwrap().body = Body::in_memory(br#"{"error":"busy","retry":30}"#.to_vec());
        Capture::new(
            "t.saz".into(),
            Format::Saz,
            vec![a, b],
            Vec::new(),
            Box::new(MemoryStore),
        )
    }

    #[test]
    fn sessions_compare_as_the_inspector_shows_them() {
        let c = capture();
        let cmp = compare(&c, 0, 1, false).unwrap();
        assert_eq!(cmp.parts.iter().map(|p| p.part).collect::<Vec<_>>(), Part::ALL);
        let request = cmp.part(Part::Request).unwrap();
        assert_eq!(request.left, request.right);
        assert!(
            request.left.text.contains("<SyncKey>7</SyncKey>"),
            "{}",
            request.left.text
        );
        assert_eq!(request.diff.differences, 0);
        let response = cmp.part(Part::Response).unwrap();
        assert!(response.left.text.contains("<Status>1</Status>") && response.left.note.is_none());
        assert_eq!(response.right.text, "{\n  \"error\": \"busy\",\n  \"retry\": 30\n}");
        assert_eq!(response.right.note.as_deref(), Some("Not WBXML: JSON, indented"));
        assert_eq!(response.diff.differences, response.left.len().max(response.right.len()));
        let headers = cmp.part(Part::Headers).unwrap();
        assert_eq!(headers.left.line(0), "POST /Microsoft-Server-ActiveSync HTTP/1.1");
        assert!(
            headers.left.text.contains("Authorization: Basic ••••••••"),
            "{}",
            headers.left.text
        );
        let status = |t: &Text| {
            (0..t.len())
                .map(|i| t.line(i).to_string())
                .find(|l| l.starts_with("HTTP/"))
        };
        assert_eq!(status(&headers.right).as_deref(), Some("HTTP/1.1 503 "));
        let changed: Vec<&Row> = headers
            .diff
            .rows
            .iter()
            .filter(|r| r.kind == RowKind::Changed)
            .collect();
        assert_eq!(changed.len(), 1, "{:?}", headers.diff.rows);
        // The status line changed, the 503's missing Content-Type removed.
        assert_eq!(headers.diff.differences, 2, "{:?}", headers.diff.rows);
        assert_eq!(cmp.differences(), response.diff.differences + 2);
        // Revealed, the credential is shown as sent; a session compared with itself has no difference.
        let revealed = compare(&c, 0, 0, true).unwrap();
        assert!(
            revealed
                .part(Part::Headers)
                .unwrap()
                .left
                .text
                .contains("Basic c2VjcmV0")
        );
        assert_eq!(revealed.differences(), 0);
        assert_eq!(compare(&c, 0, 2, false), Err(CompareError::NoSession(2, 2)));
    }

    #[test]
    fn a_missing_side_says_so() {
        let mut c = capture();
        c.sessions[1].response = None;
        c.sessions[1].flags.aborted = true;
        let response = compare(&c, 0, 1, false).unwrap().parts[1].clone();
        assert!(response.right.is_empty());
        assert_eq!(response.right.note.as_deref(), Some("No response (aborted)"));
        assert_eq!(response.diff.differences, response.left.len());
    }

    #[test]
    fn a_sync_is_compared_with_its_retry_else_the_previous_one_of_its_folder() {
        let sessions = vec![
            session(1, Some("5"), Some("6"), Some(200), Some("7"), Some(1)),
            session(2, Some("9"), Some("1"), Some(200), Some("2"), Some(1)),
            session(3, Some("5"), Some("7"), Some(503), None, None),
            session(4, Some("9"), Some("2"), Some(200), Some("3"), Some(1)),
            session(5, Some("5"), Some("7"), Some(200), Some("8"), Some(1)),
            session(6, Some("5"), Some("8"), Some(200), Some("9"), Some(1)),
            session(7, None, Some("0"), Some(200), Some("1"), Some(1)),
        ];
        let c = Capture::new("t.saz".into(), Format::Saz, sessions, Vec::new(), Box::new(MemoryStore));
        // The retry with key 7, before it or after it.
        assert_eq!(counterpart(&c, 4), Some(2));
        assert_eq!(counterpart(&c, 2), Some(4));
        // No other request with key 8 or 2: the previous Sync of the same folder.
        assert_eq!(counterpart(&c, 5), Some(4));
        assert_eq!(counterpart(&c, 3), Some(1));
        // The first of its folder, a FolderSync alone, no such session: none.
        assert_eq!(counterpart(&c, 1), None);
        assert_eq!(counterpart(&c, 0), None);
        assert_eq!(counterpart(&c, 6), None);
        assert_eq!(counterpart(&c, 7), None);
    }
}
