//! The W3C extended log format as IIS writes it (`iis-eas-log.md` §1): directive lines (`#Fields:`
//! wherever it appears — a restart or a changed field set writes a new header block mid-file),
//! request lines of single-space-separated values mapped by the names of the `#Fields:` in force,
//! `-` as empty. A line whose value count differs from that `#Fields:` is cut or odd and skipped
//! (as Exchange's Export-ActiveSyncLog does), counted in [`Skipped`].
//!
//! Hand-written: no maintained crate reads W3C logs, and the format is a space-separated line
//! under a header. Lines are split in place (no copy), since a busy server writes gigabytes a day.
//!
//! Values are kept as written: IIS writes a space inside a value as `+`, and a literal `+` (a
//! base64 query, some user agents) cannot be told apart from it, so nothing is decoded here.

use std::sync::Arc;

use chrono::NaiveDate;

/// Lines longer than this are skipped (IIS caps a logged query far below it), so that what is
/// held per line stays bounded whatever the bytes say.
pub const MAX_LINE: usize = 64 * 1024;

/// More values than this on a line: not a W3C line IIS writes (it has about 30 fields at most).
pub const MAX_FIELDS: usize = 64;

/// The fields easlens reads, by their W3C names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Date,
    Time,
    SiteName,
    ComputerName,
    ServerIp,
    Method,
    Stem,
    Query,
    Port,
    UserName,
    ClientIp,
    Version,
    UserAgent,
    Host,
    Status,
    Substatus,
    Win32,
    ScBytes,
    CsBytes,
    TimeTaken,
    ForwardedFor,
}

impl Known {
    const ALL: [Known; 21] = [
        Known::Date,
        Known::Time,
        Known::SiteName,
        Known::ComputerName,
        Known::ServerIp,
        Known::Method,
        Known::Stem,
        Known::Query,
        Known::Port,
        Known::UserName,
        Known::ClientIp,
        Known::Version,
        Known::UserAgent,
        Known::Host,
        Known::Status,
        Known::Substatus,
        Known::Win32,
        Known::ScBytes,
        Known::CsBytes,
        Known::TimeTaken,
        Known::ForwardedFor,
    ];

    /// The W3C names (compared ASCII case-insensitively); custom fields have several spellings.
    fn names(self) -> &'static [&'static str] {
        match self {
            Known::Date => &["date"],
            Known::Time => &["time"],
            Known::SiteName => &["s-sitename"],
            Known::ComputerName => &["s-computername"],
            Known::ServerIp => &["s-ip"],
            Known::Method => &["cs-method"],
            Known::Stem => &["cs-uri-stem"],
            Known::Query => &["cs-uri-query"],
            Known::Port => &["s-port"],
            Known::UserName => &["cs-username"],
            Known::ClientIp => &["c-ip"],
            Known::Version => &["cs-version"],
            Known::UserAgent => &["cs(user-agent)"],
            Known::Host => &["cs-host", "cs(host)"],
            Known::Status => &["sc-status"],
            Known::Substatus => &["sc-substatus"],
            Known::Win32 => &["sc-win32-status"],
            Known::ScBytes => &["sc-bytes"],
            Known::CsBytes => &["cs-bytes"],
            Known::TimeTaken => &["time-taken"],
            Known::ForwardedFor => &["x-forwarded-for", "cs(x-forwarded-for)", "x-forwarded-for-ip"],
        }
    }
}

/// The field set of a `#Fields:` line: the names in order and where each [`Known`] field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSet {
    pub names: Vec<Box<str>>,
    at: [u8; Known::ALL.len()],
}

const ABSENT: u8 = u8::MAX;

impl FieldSet {
    /// The field set of the text after `#Fields:`.
    pub fn parse(fields: &str) -> FieldSet {
        let names: Vec<Box<str>> = fields.split_whitespace().take(MAX_FIELDS).map(Box::from).collect();
        let mut at = [ABSENT; Known::ALL.len()];
        for k in Known::ALL {
            if let Some(i) = names
                .iter()
                .position(|n| k.names().iter().any(|m| n.eq_ignore_ascii_case(m)))
            {
                at[k as usize] = i as u8;
            }
        }
        FieldSet { names, at }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn has(&self, k: Known) -> bool {
        self.at[k as usize] != ABSENT
    }

    /// The value of `k` on a line split under this field set; `None` when absent or `-`.
    #[inline]
    pub fn get<'a>(&self, values: &Values<'a>, k: Known) -> Option<&'a str> {
        let i = self.at[k as usize];
        if i == ABSENT {
            return None;
        }
        values.get(i as usize).filter(|v| *v != "-")
    }
}

/// The values of one request line, split in place: the line and where its spaces are (two
/// slices, cheap to pass around; the offsets live in a buffer of the reader's).
pub struct Values<'a> {
    line: &'a str,
    spaces: &'a [u32],
}

/// Room for the space offsets of one line.
pub type Spaces = [u32; MAX_FIELDS];

impl<'a> Values<'a> {
    /// Splits `line` on single spaces, noting them in `spaces`; `None` with more than
    /// [`MAX_FIELDS`] values (a line is at most [`MAX_LINE`] bytes, so every offset fits).
    pub fn split(line: &'a str, spaces: &'a mut Spaces) -> Option<Values<'a>> {
        let mut n = 0;
        for at in memchr::memchr_iter(b' ', line.as_bytes()) {
            *spaces.get_mut(n)? = at as u32;
            n += 1;
        }
        (n < MAX_FIELDS).then(|| Values {
            line,
            spaces: &spaces[..n],
        })
    }

    pub fn len(&self) -> usize {
        self.spaces.len() + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let end = match self.spaces.get(i) {
            Some(&e) => e as usize,
            None if i == self.spaces.len() => self.line.len(),
            None => return None,
        };
        let start = match i {
            0 => 0,
            _ => self.spaces[i - 1] as usize + 1,
        };
        self.line.get(start..end)
    }
}

/// What was left out while reading, for the load warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Request lines before any `#Fields:` line.
    pub before_fields: u64,
    /// Lines whose value count differs from the `#Fields:` in force (cut or odd lines).
    pub field_count: u64,
    /// Lines that are not UTF-8 text (read lossily they would invent values).
    pub not_text: u64,
    /// Lines longer than [`MAX_LINE`] bytes.
    pub too_long: u64,
    /// Lines whose date or time does not read.
    pub bad_time: u64,
}

impl Skipped {
    pub fn add(&mut self, other: &Skipped) {
        self.before_fields += other.before_fields;
        self.field_count += other.field_count;
        self.not_text += other.not_text;
        self.too_long += other.too_long;
        self.bad_time += other.bad_time;
    }

    pub fn total(&self) -> u64 {
        self.before_fields + self.field_count + self.not_text + self.too_long + self.bad_time
    }

    /// The reasons in words, e.g. `3 with the wrong number of fields (cut or odd lines)`.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut say = |n: u64, what: &str| {
            if n > 0 {
                out.push(format!("{} {what}", crate::numbers::group_thousands(n)));
            }
        };
        say(self.field_count, "with the wrong number of fields (cut or odd lines)");
        say(self.before_fields, "before any #Fields: header");
        say(self.not_text, "not UTF-8 text");
        say(self.too_long, "longer than 64 KiB");
        say(self.bad_time, "with an unreadable date or time");
        out
    }
}

/// One line of a log, classified.
#[allow(clippy::large_enum_variant)] // one per line, never stored: a box would cost an allocation each
pub enum Line<'a> {
    /// A blank line or a directive other than `#Fields:`.
    Nothing,
    /// A `#Fields:` line: the field set from here on.
    Fields(Arc<FieldSet>),
    /// A request line, split under the field set in force.
    Request(Values<'a>),
    /// A line that is skipped; `skipped` counts it.
    Skipped,
}

/// Classifies one line (without its line break) under the field set in force.
pub fn classify<'a>(
    bytes: &'a [u8],
    fields: Option<&FieldSet>,
    skipped: &mut Skipped,
    spaces: &'a mut Spaces,
) -> Line<'a> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.len() > MAX_LINE {
        skipped.too_long += 1;
        return Line::Skipped;
    }
    let Ok(text) = simdutf8::basic::from_utf8(bytes) else {
        skipped.not_text += 1;
        return Line::Skipped;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(directive) = text.strip_prefix('#') {
        return match directive.strip_prefix("Fields:") {
            Some(f) => Line::Fields(Arc::new(FieldSet::parse(f))),
            None => Line::Nothing,
        };
    }
    if text.trim().is_empty() {
        return Line::Nothing;
    }
    let Some(fields) = fields else {
        skipped.before_fields += 1;
        return Line::Skipped;
    };
    match Values::split(text, spaces) {
        Some(v) if v.len() == fields.len() => Line::Request(v),
        _ => {
            skipped.field_count += 1;
            Line::Skipped
        }
    }
}

/// Classifies one line of a block whose spaces [`super::delimiters::Lines`] found: `spaces`
/// holds the first of them, `count` is how many there are in all; `text` is the line as text when
/// its block was checked as UTF-8 whole. A directive, a byte-order mark or a line starting blank
/// is read by [`classify`] instead (which splits it again into `spaces`).
#[inline]
pub fn classify_found<'a>(
    bytes: &'a [u8],
    text: Option<&'a str>,
    spaces: &'a mut Spaces,
    count: usize,
    fields: Option<&FieldSet>,
    skipped: &mut Skipped,
) -> Line<'a> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match bytes.first() {
        Some(&c) if c != b'#' && c != 0xEF && c > b' ' => {}
        _ => return classify(bytes, fields, skipped, spaces),
    }
    if bytes.len() > MAX_LINE {
        skipped.too_long += 1;
        return Line::Skipped;
    }
    let text = match text {
        Some(t) => t.get(..bytes.len()),
        None => simdutf8::basic::from_utf8(bytes).ok(),
    };
    let Some(text) = text else {
        skipped.not_text += 1;
        return Line::Skipped;
    };
    let Some(fields) = fields else {
        skipped.before_fields += 1;
        return Line::Skipped;
    };
    if count + 1 != fields.len() || count >= MAX_FIELDS {
        skipped.field_count += 1;
        return Line::Skipped;
    }
    Line::Request(Values {
        line: text,
        spaces: &spaces[..count],
    })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, remembered for the next line (a log holds one or
/// two dates).
#[derive(Default)]
pub struct Dates {
    last: Option<(String, i64)>,
}

impl Dates {
    /// Milliseconds since 1970 (UTC, as IIS always writes) of `date` and `time` (`HH:MM:SS`, with
    /// optional fraction).
    pub fn millis(&mut self, date: &str, time: &str) -> Option<i64> {
        let days = match &self.last {
            Some((d, days)) if d == date => *days,
            _ => {
                let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
                let days = (day - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days();
                self.last = Some((date.to_string(), days));
                days
            }
        };
        Some(days * 86_400_000 + time_of_day_ms(time)?)
    }
}

/// `HH:MM:SS[.fff]` as milliseconds since midnight.
pub fn time_of_day_ms(time: &str) -> Option<i64> {
    let b = time.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<i64> {
        let (h, l) = (b[i], b[i + 1]);
        (h.is_ascii_digit() && l.is_ascii_digit()).then(|| i64::from((h - b'0') * 10 + (l - b'0')))
    };
    let (h, m, s) = (two(0)?, two(3)?, two(6)?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut ms = 0;
    if b.len() > 8 {
        let frac = time[8..].strip_prefix('.')?;
        if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        ms =
            frac.bytes().take(3).fold(0, |a, c| a * 10 + i64::from(c - b'0')) * 10i64.pow(3 - frac.len().min(3) as u32);
    }
    Some(((h * 60 + m) * 60 + s) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Exchange 2010 line of the reference (iis-eas-log.md §3.3), under IIS 7's default fields.
    const EX2010: &str = "#Software: Microsoft Internet Information Services 7.5\r\n#Version: 1.0\r\n#Date: 2016-08-21 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n2016-08-21 00:01:43 20.0.18.20 POST /Microsoft-Server-ActiveSync/default.eas Cmd=Ping&User=cdrcb.com%5Cdengmu&DeviceId=androidc537050526&DeviceType=KSAndroid&Log=V141_LdapC1_RpcC28_RpcL31_Hb1680_S3_Error:PingCollisionDetected_Mbx:MAIL1.cdrcb.com_Throttle0_ 443 cdrcb.com\\dengmu 117.136.63.27 KSAndroid/5.1.1-EAS-1.3 200 0 0 218\r\n";

    /// Every request line of `text` as (field set, values), and what was skipped.
    type Read = (Vec<(Arc<FieldSet>, Vec<String>)>, Skipped);

    fn read(text: &[u8]) -> Read {
        let mut skipped = Skipped::default();
        let mut fields: Option<Arc<FieldSet>> = None;
        let mut out = Vec::new();
        for line in text.split(|b| *b == b'\n') {
            let mut spaces = [0; MAX_FIELDS];
            match classify(line, fields.as_deref(), &mut skipped, &mut spaces) {
                Line::Fields(f) => fields = Some(f),
                Line::Request(v) => out.push((
                    fields.clone().unwrap(),
                    (0..v.len()).map(|i| v.get(i).unwrap().to_string()).collect(),
                )),
                Line::Nothing | Line::Skipped => {}
            }
        }
        (out, skipped)
    }

    fn get(line: &(Arc<FieldSet>, Vec<String>), k: Known) -> Option<String> {
        let joined = line.1.join(" ");
        let mut spaces = [0; MAX_FIELDS];
        let values = Values::split(&joined, &mut spaces).unwrap();
        line.0.get(&values, k).map(str::to_string)
    }

    #[test]
    fn fields_are_read_by_name_and_dash_is_empty() {
        let (lines, skipped) = read(EX2010.as_bytes());
        assert_eq!(skipped, Skipped::default());
        let l = &lines[0];
        assert_eq!(
            get(l, Known::Stem).as_deref(),
            Some("/Microsoft-Server-ActiveSync/default.eas")
        );
        assert_eq!(get(l, Known::Status).as_deref(), Some("200"));
        assert_eq!(get(l, Known::TimeTaken).as_deref(), Some("218"));
        assert_eq!(get(l, Known::UserAgent).as_deref(), Some("KSAndroid/5.1.1-EAS-1.3"));
        assert!(get(l, Known::Query).unwrap().contains("&Log=V141_"));
        assert_eq!(get(l, Known::ComputerName), None, "no such field");
        let dash = EX2010.replace(" 443 cdrcb.com\\dengmu ", " 443 - ");
        assert_eq!(get(&read(dash.as_bytes()).0[0], Known::UserName), None);
    }

    #[test]
    fn a_new_fields_line_mid_file_remaps_and_odd_lines_are_counted() {
        let mut bytes = format!(
            "2016-08-21 00:00:01 before any header\n{EX2010}2016-08-21 00:01:44 cut line\n#Fields: time sc-status cs-uri-stem\n00:02:00 503 /Microsoft-Server-ActiveSync/default.eas\n"
        )
        .into_bytes();
        bytes.extend_from_slice(b"00:03:00 \xff\xfe /x\n");
        bytes.extend_from_slice(format!("00:04:00 200 /{}\n", "a".repeat(MAX_LINE)).as_bytes());
        let (lines, skipped) = read(&bytes);
        assert_eq!(lines.len(), 2);
        assert_eq!(get(&lines[1], Known::Status).as_deref(), Some("503"));
        assert_eq!(get(&lines[1], Known::Date), None, "the new field set has no date");
        assert_eq!(
            skipped,
            Skipped {
                before_fields: 1,
                field_count: 1,
                not_text: 1,
                too_long: 1,
                bad_time: 0,
            }
        );
        assert_eq!(skipped.total(), 4);
    }

    #[test]
    fn times_are_utc_milliseconds() {
        let mut d = Dates::default();
        assert_eq!(d.millis("1970-01-02", "00:00:01"), Some(86_401_000));
        assert_eq!(d.millis("2016-08-21", "00:01:43.5"), Some(1_471_737_703_500));
        assert_eq!(time_of_day_ms("23:59:59.1234567"), Some(86_399_123));
        for bad in ["24:00:00", "1:00:00", "00:00:00.", "00:60:00", "aa:bb:cc"] {
            assert_eq!(time_of_day_ms(bad), None, "{bad}");
        }
        assert_eq!(d.millis("2016-13-01", "00:00:00"), None);
    }
}
