//! Statistics of a capture per device and per command: how many requests, how they ended, how
//! long they took (median and 95th percentile), the heartbeat a device's Pings asked for and the
//! gap it actually left between them, and the bytes sent and received; one total row per device.
//! The window's Statistics view shows [`Statistics`], and [`Statistics::write_csv`] exports it.
//!
//! Everything but the heartbeat comes from the EAS summaries computed at indexing time; the
//! heartbeat is read again from the request body of each Ping that sent a WBXML body (Pings are
//! a small part of a capture and their bodies a few dozen bytes).

use std::collections::BTreeMap;
use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use crate::capture::{Capture, CommandNaming, LabelStyle, NoCommand, Session};
use crate::eas::Command;
use crate::eas::session::{BodyState, Highlight};
use crate::http::Side;

/// How a row names its command: the command's own name (`Sync` for `Cmd=sync`, as the filter's
/// `cmd:` matches it), else the request's method (`OPTIONS`, `GET`, `CONNECT`).
const COMMAND_LABEL: LabelStyle = LabelStyle {
    naming: CommandNaming::Canonical,
    otherwise: NoCommand::Method {
        mark_tunnel: false,
        no_request: NO_REQUEST,
    },
};

/// The command label of sessions without a request.
pub const NO_REQUEST: &str = "(no request)";
/// The device label of sessions that name no device (not ActiveSync, or no DeviceId/DeviceType).
pub const NO_DEVICE: &str = "(no device)";
/// The command label of a device's total row.
pub const ALL_COMMANDS: &str = "(all commands)";

/// A failure to write the CSV export.
#[derive(Debug, thiserror::Error)]
pub enum StatisticsError {
    #[error("cannot write the statistics: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the statistics: {0}")]
    Io(#[from] std::io::Error),
}

/// How the sessions of a row ended. Each session counts once, in the first of these that holds
/// (so the counts add up to the row's count): no response, throttled, HTTP error, EAS failure, OK.
/// Throttling comes before the HTTP error it usually arrives with (a 503), as on the timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// 2xx without a failing EAS Status.
    pub ok: u64,
    /// A non-2xx HTTP status (and no throttling header).
    pub http_error: u64,
    /// A 2xx whose response carries a Status that means failure for its command.
    pub eas_failure: u64,
    /// `X-MS-ASThrottle` on the response.
    pub throttled: u64,
    /// Aborted, or ended without a response.
    pub no_response: u64,
}

/// The outcome a session counts under (see [`Outcomes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    HttpError,
    EasFailure,
    Throttled,
    NoResponse,
}

impl Outcome {
    pub fn of(s: &Session) -> Outcome {
        let highlights = s.eas.as_ref().map_or(&[][..], |e| &e.highlights[..]);
        match s.http_status() {
            None => Outcome::NoResponse,
            Some(_) if s.flags.aborted => Outcome::NoResponse,
            Some(_) if highlights.contains(&Highlight::Throttle) => Outcome::Throttled,
            Some(code) if !(200..300).contains(&code) => Outcome::HttpError,
            Some(_) if highlights.contains(&Highlight::Status) => Outcome::EasFailure,
            Some(_) => Outcome::Ok,
        }
    }
}

impl Outcomes {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Ok => self.ok += 1,
            Outcome::HttpError => self.http_error += 1,
            Outcome::EasFailure => self.eas_failure += 1,
            Outcome::Throttled => self.throttled += 1,
            Outcome::NoResponse => self.no_response += 1,
        }
    }

    /// Every session that did not end OK.
    pub fn failing(&self) -> u64 {
        self.http_error + self.eas_failure + self.throttled + self.no_response
    }
}

/// The smallest, median and largest of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    /// How many values.
    pub n: usize,
}

impl Spread {
    /// The spread of `values` (sorted here); `None` when there are none.
    fn of(mut values: Vec<f64>) -> Option<Spread> {
        values.sort_by(f64::total_cmp);
        Some(Spread {
            min: *values.first()?,
            median: percentile(&values, 50)?,
            max: *values.last()?,
            n: values.len(),
        })
    }
}

/// The nearest-rank percentile `p` (1–100) of `sorted` (ascending): the smallest value that at
/// least `p` % of the values are at or below, `sorted[⌈p/100 · n⌉ − 1]`. Always one of the values
/// (no interpolation), so the median of an even number of values is the lower middle one.
pub fn percentile<T: Copy>(sorted: &[T], p: u32) -> Option<T> {
    let n = sorted.len();
    let rank = (p.clamp(1, 100) as usize * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// One row: the sessions of one device and one command, or all of a device's (`command` None).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `DeviceType DeviceId` as the session table shows it, or [`NO_DEVICE`].
    pub device: String,
    pub device_id: Option<String>,
    pub device_type: Option<String>,
    /// The command ([`ALL_COMMANDS`] is shown for `None`: the device's total row).
    pub command: Option<String>,
    pub count: u64,
    pub outcomes: Outcomes,
    /// Median and 95th percentile (nearest rank) of the durations known, in milliseconds.
    pub median_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Ping: the HeartbeatInterval (seconds) the Pings that sent one asked for.
    pub heartbeat_s: Option<Spread>,
    /// Ping: seconds from the start of one Ping of the device to the start of its next Ping.
    pub ping_gap_s: Option<Spread>,
    /// Request and response bodies, as the capture stores them (the table's sizes).
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl Row {
    /// The command as shown: its name, or [`ALL_COMMANDS`] for a total row.
    pub fn command_label(&self) -> &str {
        self.command.as_deref().unwrap_or(ALL_COMMANDS)
    }

    /// The filter query (`crate::filter`) that shows this row's sessions: `device:` with the
    /// DeviceId (else the DeviceType, else `none`) and, unless a total row, `cmd:`. `device:`
    /// matches a part of the id, so another device whose id contains this one's shows too.
    pub fn filter_query(&self) -> String {
        let device = match (&self.device_id, &self.device_type) {
            (Some(id), _) => format!("device:{}", filter_value(id)),
            (None, Some(t)) => format!("device:{}", filter_value(t)),
            (None, None) => "device:none".to_string(),
        };
        match self.command.as_deref() {
            None => device,
            Some(NO_REQUEST) => format!("{device} cmd:none"),
            Some(c) => format!("{device} cmd:{}", filter_value(c)),
        }
    }
}

/// `value` as a filter value: as it is when it is a plain word, else quoted (`"a b"`, `\"`, `\\`).
fn filter_value(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        && !value.is_empty()
        && !["none", "or", "and", "not"]
            .iter()
            .any(|w| value.eq_ignore_ascii_case(w));
    if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The statistics of a capture: per device a total row, then one row per command, the most
/// frequent first; devices by name, [`NO_DEVICE`] last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statistics {
    pub rows: Vec<Row>,
}

/// The sessions of one row, while they are gathered.
#[derive(Default)]
struct Group {
    count: u64,
    outcomes: Outcomes,
    durations: Vec<f64>,
    heartbeats: Vec<f64>,
    /// Start times (ms since the epoch) of the Pings, for the gaps.
    ping_starts: Vec<i64>,
    bytes_sent: u64,
    bytes_received: u64,
}

impl Group {
    /// Adds session `s`; `pings`: a Ping row, which keeps the Pings' heartbeats and start times.
    fn add(&mut self, s: &Session, heartbeat: Option<u32>, pings: bool) {
        self.count += 1;
        self.outcomes.add(Outcome::of(s));
        self.durations.extend(s.timers.duration_ms());
        if pings && is_ping(s) {
            self.heartbeats.extend(heartbeat.map(f64::from));
            self.ping_starts
                .extend(s.timers.started().map(|t| t.timestamp_millis()));
        }
        // As the capture stores the bodies, like the session table's sizes.
        self.bytes_sent += s.request.as_ref().map_or(0, |r| r.body.stored_len);
        self.bytes_received += s.response.as_ref().map_or(0, |r| r.body.stored_len);
    }

    fn row(mut self, device: &Device, command: Option<String>) -> Row {
        self.durations.sort_by(f64::total_cmp);
        self.ping_starts.sort_unstable();
        let gaps = self
            .ping_starts
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64 / 1000.0)
            .collect();
        Row {
            device: device.label.clone(),
            device_id: device.id.clone(),
            device_type: device.kind.clone(),
            command,
            count: self.count,
            outcomes: self.outcomes,
            median_ms: percentile(&self.durations, 50),
            p95_ms: percentile(&self.durations, 95),
            heartbeat_s: Spread::of(self.heartbeats),
            ping_gap_s: Spread::of(gaps),
            bytes_sent: self.bytes_sent,
            bytes_received: self.bytes_received,
        }
    }
}

/// A device as rows name it.
#[derive(Clone)]
struct Device {
    label: String,
    id: Option<String>,
    kind: Option<String>,
}

/// The sessions of one device while they are gathered: all of them, and per command.
struct DeviceGroup {
    device: Device,
    total: Group,
    commands: BTreeMap<String, Group>,
}

fn is_ping(s: &Session) -> bool {
    s.eas.as_ref().is_some_and(|e| e.command == Some(Command::Ping))
}

/// The HeartbeatInterval (seconds) the Ping at `position` asked for, when its request body
/// sends one that reads as a number.
fn heartbeat(capture: &Capture, position: usize) -> Option<u32> {
    let doc = capture.body_document(position, Side::Request).ok()??;
    let root = doc.root()?;
    root.child("HeartbeatInterval")?.text()?.trim().parse().ok()
}

impl Statistics {
    /// The statistics of every session of `capture`.
    pub fn of(capture: &Capture) -> Statistics {
        let sessions = &capture.sessions;
        // Only Pings with a WBXML request body can carry a heartbeat (an empty Ping repeats the
        // last one the server was sent).
        let heartbeats: Vec<Option<u32>> = (0..sessions.len())
            .into_par_iter()
            .map(|p| {
                let s = &sessions[p];
                let wbxml = s.eas.as_ref().is_some_and(|e| e.request_body == BodyState::Wbxml);
                (is_ping(s) && wbxml).then(|| heartbeat(capture, p)).flatten()
            })
            .collect();
        // By device label (no device last), then by command.
        let mut groups: BTreeMap<(bool, String), DeviceGroup> = BTreeMap::new();
        for (s, hb) in sessions.iter().zip(heartbeats) {
            let label = s.device_label();
            let key = (label.is_empty(), label);
            let group = groups.entry(key).or_insert_with_key(|(_, label)| {
                let eas = s.eas.as_ref();
                let device = Device {
                    label: if label.is_empty() {
                        NO_DEVICE.into()
                    } else {
                        label.clone()
                    },
                    id: eas.and_then(|e| e.device_id.as_deref()).map(str::to_string),
                    kind: eas.and_then(|e| e.device_type.as_deref()).map(str::to_string),
                };
                DeviceGroup {
                    device,
                    total: Group::default(),
                    commands: BTreeMap::new(),
                }
            });
            group.total.add(s, None, false);
            let command = s.command_label(COMMAND_LABEL);
            group.commands.entry(command).or_default().add(s, hb, true);
        }
        let mut rows = Vec::new();
        for DeviceGroup {
            device,
            total,
            commands,
        } in groups.into_values()
        {
            rows.push(total.row(&device, None));
            let mut per_command: Vec<Row> = commands
                .into_iter()
                .map(|(command, g)| g.row(&device, Some(command)))
                .collect();
            // The most frequent first; the sort is stable, so ties stay by name.
            per_command.sort_by_key(|r| std::cmp::Reverse(r.count));
            rows.extend(per_command);
        }
        Statistics { rows }
    }

    /// Writes the rows as CSV with a header row: what the view shows, as plain numbers
    /// (milliseconds, seconds, bytes); empty where there is no value.
    pub fn write_csv(&self, out: impl Write) -> Result<(), StatisticsError> {
        let mut w = csv::Writer::from_writer(out);
        for r in &self.rows {
            w.serialize(CsvRow::of(r))?;
        }
        w.flush()?;
        Ok(())
    }
}

/// One CSV record (the header row is its field names).
#[derive(Serialize)]
struct CsvRow<'a> {
    device: &'a str,
    command: &'a str,
    sessions: u64,
    ok: u64,
    http_error: u64,
    eas_failure: u64,
    throttled: u64,
    no_response: u64,
    median_ms: Option<f64>,
    p95_ms: Option<f64>,
    heartbeat_pings: Option<usize>,
    heartbeat_min_s: Option<f64>,
    heartbeat_median_s: Option<f64>,
    heartbeat_max_s: Option<f64>,
    ping_gap_min_s: Option<f64>,
    ping_gap_median_s: Option<f64>,
    ping_gap_max_s: Option<f64>,
    bytes_sent: u64,
    bytes_received: u64,
}

impl<'a> CsvRow<'a> {
    fn of(r: &'a Row) -> CsvRow<'a> {
        // A tenth of a millisecond (durations) or a millisecond (seconds): what the capture's
        // timers resolve, without the binary fraction's tail.
        let ms = |v: Option<f64>| v.map(|v| (v * 10.0).round() / 10.0);
        let s = |v: Option<f64>| v.map(|v| (v * 1000.0).round() / 1000.0);
        let (hb, gap) = (r.heartbeat_s, r.ping_gap_s);
        CsvRow {
            device: &r.device,
            command: r.command_label(),
            sessions: r.count,
            ok: r.outcomes.ok,
            http_error: r.outcomes.http_error,
            eas_failure: r.outcomes.eas_failure,
            throttled: r.outcomes.throttled,
            no_response: r.outcomes.no_response,
            median_ms: ms(r.median_ms),
            p95_ms: ms(r.p95_ms),
            heartbeat_pings: hb.map(|h| h.n),
            heartbeat_min_s: s(hb.map(|h| h.min)),
            heartbeat_median_s: s(hb.map(|h| h.median)),
            heartbeat_max_s: s(hb.map(|h| h.max)),
            ping_gap_min_s: s(gap.map(|g| g.min)),
            ping_gap_median_s: s(gap.map(|g| g.median)),
            ping_gap_max_s: s(gap.map(|g| g.max)),
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{plain, with_status};
    use crate::capture::{Body, Format};
    use crate::readers::MemoryStore;
    use crate::readers::Timer;
    use std::sync::Arc;

    /// `s` lasting `ms` milliseconds.
    fn lasting(mut s: Session, ms: i64) -> Session {
        let start = s.timers.started();
        s.timers.set(
            Timer::ClientDoneResponse,
            start.map(|t| t + chrono::TimeDelta::milliseconds(ms)),
        );
        s
    }

    /// `s` sent by another device.
    fn from_device(mut s: Session, id: &str, kind: &str) -> Session {
        if let Some(e) = s.eas.as_mut() {
            let mut identity = (*e.identity).clone();
            identity.device_id = Some(id.into());
            identity.device_type = Some(kind.into());
            e.identity = Arc::new(identity);
        }
        s
    }

    fn highlighted(mut s: Session, h: Highlight) -> Session {
        if let Some(e) = s.eas.as_mut() {
            e.highlights.push(h);
        }
        s
    }

    /// A Ping whose request body is `<Ping><HeartbeatInterval>{seconds}</HeartbeatInterval></Ping>`.
    fn ping(index: u32, seconds: &str) -> Session {
        let mut s = plain(index, Command::Ping, Some(200));
        // WBXML 1.3, public id 1, UTF-8, no string table; code page 13 (Ping): Ping (0x05) and
        // HeartbeatInterval (0x08) with content (0x40), an inline string, two ends.
        let mut wbxml = vec![0x03, 0x01, 0x6a, 0x00, 0x00, 0x0d, 0x45, 0x48, 0x03];
        wbxml.extend_from_slice(seconds.as_bytes());
        wbxml.extend_from_slice(&[0x00, 0x01, 0x01]);
        if let Some(r) = s.request.as_mut() {
            r.body = Body::in_memory(wbxml);
        }
        s
    }

    fn capture(sessions: Vec<Session>) -> Capture {
        Capture::new("t.saz".into(), Format::Saz, sessions, Vec::new(), Box::new(MemoryStore))
    }

    fn row<'a>(st: &'a Statistics, device: &str, command: Option<&str>) -> &'a Row {
        st.rows
            .iter()
            .find(|r| r.device == device && r.command.as_deref() == command)
            .unwrap_or_else(|| panic!("no row {device} {command:?} in {st:#?}"))
    }

    #[test]
    fn nearest_rank_percentiles() {
        let ten: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), Some(5), "the lower middle of an even count");
        assert_eq!(percentile(&ten, 95), Some(10));
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 1), Some(1));
        let twenty: Vec<u32> = (1..=20).collect();
        // ⌈0.95 · 20⌉ = 19.
        assert_eq!(percentile(&twenty, 95), Some(19));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile::<u32>(&[], 50), None);
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    }

    #[test]
    fn rows_per_device_and_command_with_outcomes_durations_and_bytes() {
        let mut sessions = vec![
            lasting(plain(1, Command::Sync, Some(200)), 100),
            lasting(plain(2, Command::Sync, Some(200)), 300),
            lasting(plain(3, Command::Sync, Some(200)), 200),
            lasting(
                highlighted(with_status(plain(4, Command::Sync, Some(200)), 3), Highlight::Status),
                400,
            ),
            highlighted(
                highlighted(plain(5, Command::Sync, Some(503)), Highlight::Http),
                Highlight::Throttle,
            ),
            highlighted(plain(6, Command::FolderSync, Some(500)), Highlight::Http),
            plain(7, Command::Sync, None),
            from_device(plain(8, Command::Sync, Some(200)), "B2", "Android"),
        ];
        sessions[0].request.as_mut().unwrap().body = Body::in_memory(vec![0; 10]);
        sessions[1].response.as_mut().unwrap().body = Body::in_memory(vec![0; 1000]);
        let mut not_eas = plain(9, Command::Sync, Some(404));
        not_eas.eas = None;
        sessions.push(not_eas);
        let st = Statistics::of(&capture(sessions));

        let order: Vec<(&str, &str)> = st.rows.iter().map(|r| (r.device.as_str(), r.command_label())).collect();
        assert_eq!(
            order,
            [
                ("Android B2", ALL_COMMANDS),
                ("Android B2", "Sync"),
                ("iPhone DEV1", ALL_COMMANDS),
                ("iPhone DEV1", "Sync"),
                ("iPhone DEV1", "FolderSync"),
                (NO_DEVICE, ALL_COMMANDS),
                (NO_DEVICE, "POST"),
            ]
        );
        let sync = row(&st, "iPhone DEV1", Some("Sync"));
        assert_eq!(sync.count, 6);
        let o = sync.outcomes;
        assert_eq!(
            (o.ok, o.eas_failure, o.throttled, o.http_error, o.no_response),
            (3, 1, 1, 0, 1)
        );
        // Durations known: 100, 300, 200, 400 → sorted 100 200 300 400: median the 2nd, p95 the 4th.
        assert_eq!((sync.median_ms, sync.p95_ms), (Some(200.0), Some(400.0)));
        assert_eq!((sync.bytes_sent, sync.bytes_received), (10, 1000));
        assert_eq!(sync.filter_query(), "device:DEV1 cmd:Sync");

        let total = row(&st, "iPhone DEV1", None);
        assert_eq!(total.count, 7);
        assert_eq!(total.outcomes.http_error, 1, "the FolderSync 500");
        assert_eq!(total.outcomes.failing(), 4);
        assert_eq!(total.filter_query(), "device:DEV1");
        for r in &st.rows {
            let o = r.outcomes;
            assert_eq!(o.ok + o.failing(), r.count, "{r:?}");
        }
        let other = row(&st, NO_DEVICE, Some("POST"));
        assert_eq!((other.count, other.outcomes.http_error), (1, 1));
        assert_eq!(other.filter_query(), "device:none cmd:POST");
        assert_eq!(other.median_ms, None);
    }

    #[test]
    fn pings_report_the_heartbeat_asked_for_and_the_gaps_between_them() {
        // Ten seconds per index (1, 2, 4, 5): gaps of 10, 20 and 10 s. An empty Ping sends no
        // heartbeat, nor does one whose value is not a number.
        let mut empty = plain(4, Command::Ping, Some(200));
        if let Some(e) = empty.eas.as_mut() {
            e.request_body = BodyState::Empty;
        }
        let st = Statistics::of(&capture(vec![ping(1, "480"), ping(2, "900"), empty, ping(5, "x")]));
        let r = row(&st, "iPhone DEV1", Some("Ping"));
        assert_eq!(r.count, 4);
        let hb = r.heartbeat_s.unwrap();
        assert_eq!((hb.min, hb.median, hb.max, hb.n), (480.0, 480.0, 900.0, 2));
        let gap = r.ping_gap_s.unwrap();
        assert_eq!((gap.min, gap.median, gap.max, gap.n), (10.0, 10.0, 20.0, 3));
        assert_eq!(row(&st, "iPhone DEV1", None).heartbeat_s, None);
        assert!(r.bytes_sent > 0);
    }

    #[test]
    fn filter_values_are_quoted_when_they_are_not_plain_words() {
        assert_eq!(filter_value("ABC_1.2"), "ABC_1.2");
        assert_eq!(filter_value("a b"), "\"a b\"");
        assert_eq!(filter_value("none"), "\"none\"");
        assert_eq!(filter_value("-x"), "\"-x\"");
        assert_eq!(filter_value("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    /// The CSV has a header row and one record per row, with the same numbers.
    #[test]
    fn the_csv_reads_back() {
        let sessions = vec![
            lasting(plain(1, Command::Sync, Some(200)), 100),
            lasting(highlighted(plain(2, Command::Sync, Some(500)), Highlight::Http), 250),
            ping(3, "480"),
            from_device(plain(4, Command::FolderSync, Some(200)), "B2", "Android, \"v2\""),
        ];
        let st = Statistics::of(&capture(sessions));
        let mut csv = Vec::new();
        st.write_csv(&mut csv).unwrap();
        let mut reader = csv::Reader::from_reader(&csv[..]);
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(header[..4], ["device", "command", "sessions", "ok"]);
        assert_eq!(header.len(), 19);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), st.rows.len());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (rec, r) in records.iter().zip(&st.rows) {
            assert_eq!(&rec[col("device")], r.device);
            assert_eq!(&rec[col("command")], r.command_label());
            assert_eq!(rec[col("sessions")].parse::<u64>().unwrap(), r.count);
            assert_eq!(rec[col("http_error")].parse::<u64>().unwrap(), r.outcomes.http_error);
            assert_eq!(rec[col("median_ms")].parse::<f64>().ok(), r.median_ms);
            assert_eq!(rec[col("bytes_sent")].parse::<u64>().unwrap(), r.bytes_sent);
        }
        let sync = records.iter().find(|r| &r[1] == "Sync").unwrap();
        assert_eq!((&sync[col("sessions")], &sync[col("p95_ms")]), ("2", "250.0"));
        let ping = records.iter().find(|r| &r[1] == "Ping").unwrap();
        assert_eq!(&ping[col("heartbeat_median_s")], "480.0");
        assert_eq!(&ping[col("ping_gap_median_s")], "", "one Ping: no gap");
        assert!(
            records.iter().any(|r| &r[0] == "Android, \"v2\" B2"),
            "quoted fields read back"
        );
    }
}
