//! IIS logs in the W3C extended format, read a line at a time (the first step of reading
//! Exchange's IIS logs, issue 14): directive lines (`#Fields:` wherever it appears — a restart or
//! a changed field set writes a new header block mid-file), fields mapped by name, `-` as empty,
//! and lines whose field count differs from the current `#Fields` skipped and counted (as
//! Exchange's Export-ActiveSyncLog does). No maintained crate reads W3C logs; the format is a
//! space-separated line under a header, so this is a few lines of `std`.
//!
//! Values are kept as written: IIS writes a space inside a value as `+`, and a literal `+` (a
//! base64 query, some user agents) cannot be told apart from it, so nothing is decoded here.

use std::io::BufRead;

/// One request line: its values, by the names of the `#Fields:` line in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct W3cLine {
    /// 1-based line number in the file.
    pub line: u64,
    names: std::sync::Arc<[String]>,
    values: Vec<String>,
}

impl W3cLine {
    /// The value of field `name` (`cs-uri-query`, `sc-status`, …; ASCII case-insensitive), `None`
    /// when the line has no such field or its value is `-`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let k = self.names.iter().position(|n| n.eq_ignore_ascii_case(name))?;
        self.values.get(k).map(String::as_str).filter(|v| *v != "-")
    }

    /// The field names in force for this line.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What was left out while reading, for the load warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Request lines before any `#Fields:` line.
    pub before_fields: u64,
    /// Lines whose field count differs from the `#Fields:` in force (cut or odd lines).
    pub field_count: u64,
    /// Lines that are not UTF-8 text (read lossily would invent values).
    pub not_text: u64,
    /// Lines longer than [`MAX_LINE`] bytes.
    pub too_long: u64,
}

/// Lines longer than this are skipped (IIS caps a logged query far below it); reading stops
/// holding more than this per line whatever the bytes say.
pub const MAX_LINE: usize = 64 * 1024;

/// Reads W3C request lines from `input`, a line at a time.
pub struct W3cReader<R> {
    input: R,
    buf: Vec<u8>,
    line: u64,
    names: Option<std::sync::Arc<[String]>>,
    /// The `#Software:` directive last seen (e.g. the IIS version).
    pub software: Option<String>,
    pub skipped: Skipped,
}

impl<R: BufRead> W3cReader<R> {
    pub fn new(input: R) -> Self {
        W3cReader {
            input,
            buf: Vec::new(),
            line: 0,
            names: None,
            software: None,
            skipped: Skipped::default(),
        }
    }

    /// Reads one line into `buf` (without its line break), at most [`MAX_LINE`] bytes kept;
    /// `Ok(None)` at the end, `Ok(Some(false))` for a line that was too long.
    fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buf.clear();
        let mut total = 0usize;
        let mut ended = false;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = (MAX_LINE + 2).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            total += take;
            self.input.consume(take);
            if end {
                ended = true;
                break;
            }
        }
        // The line's bytes without its `\n` (a `\r` before it is allowed for).
        let fits = total - usize::from(ended) <= MAX_LINE + 1;
        if !any {
            return Ok(None);
        }
        while self.buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            self.buf.pop();
        }
        Ok(Some(fits))
    }
}

impl<R: BufRead> Iterator for W3cReader<R> {
    type Item = std::io::Result<W3cLine>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let fits = match self.read_line() {
                Ok(None) => return None,
                Ok(Some(f)) => f,
                Err(e) => return Some(Err(e)),
            };
            self.line += 1;
            if !fits {
                self.skipped.too_long += 1;
                continue;
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                self.skipped.not_text += 1;
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            if let Some(directive) = text.strip_prefix('#') {
                if let Some(fields) = directive.strip_prefix("Fields:") {
                    let names: Vec<String> = fields.split_whitespace().map(str::to_string).collect();
                    self.names = Some(names.into());
                } else if let Some(s) = directive.strip_prefix("Software:") {
                    self.software = Some(s.trim().to_string());
                }
                continue;
            }
            let Some(names) = &self.names else {
                self.skipped.before_fields += 1;
                continue;
            };
            let values: Vec<String> = text.split(' ').map(str::to_string).collect();
            if values.len() != names.len() {
                self.skipped.field_count += 1;
                continue;
            }
            return Some(Ok(W3cLine {
                line: self.line,
                names: names.clone(),
                values,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Exchange 2010 line of the reference (iis-eas-log.md §3.3), under IIS 7's default fields.
    const EX2010: &str = "#Software: Microsoft Internet Information Services 7.5\r\n#Version: 1.0\r\n#Date: 2016-08-21 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n2016-08-21 00:01:43 20.0.18.20 POST /Microsoft-Server-ActiveSync/default.eas Cmd=Ping&User=cdrcb.com%5Cdengmu&DeviceId=androidc537050526&DeviceType=KSAndroid&Log=V141_LdapC1_RpcC28_RpcL31_Hb1680_S3_Error:PingCollisionDetected_Mbx:MAIL1.cdrcb.com_Throttle0_ 443 cdrcb.com\\dengmu 117.136.63.27 KSAndroid/5.1.1-EAS-1.3 200 0 0 218\r\n";

    fn read(text: &str) -> (Vec<W3cLine>, Skipped, Option<String>) {
        let mut r = W3cReader::new(text.as_bytes());
        let lines = r.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        (lines, r.skipped.clone(), r.software.clone())
    }

    #[test]
    fn fields_are_read_by_name_and_dash_is_empty() {
        let (lines, skipped, software) = read(EX2010);
        assert_eq!(software.as_deref(), Some("Microsoft Internet Information Services 7.5"));
        assert_eq!(skipped, Skipped::default());
        let l = &lines[0];
        assert_eq!(l.line, 5);
        assert_eq!(l.get("cs-uri-stem"), Some("/Microsoft-Server-ActiveSync/default.eas"));
        assert_eq!(l.get("SC-STATUS"), Some("200"));
        assert_eq!(l.get("time-taken"), Some("218"));
        assert_eq!(l.get("cs(User-Agent)"), Some("KSAndroid/5.1.1-EAS-1.3"));
        assert!(l.get("cs-uri-query").unwrap().contains("&Log=V141_"));
        assert_eq!(l.get("cs(Referer)"), None, "no such field");
        let dash = EX2010.replace(" 443 cdrcb.com\\dengmu ", " 443 - ");
        assert_eq!(read(&dash).0[0].get("cs-username"), None);
    }

    #[test]
    fn a_new_fields_line_mid_file_remaps_and_odd_lines_are_counted() {
        let text = format!(
            "2016-08-21 00:00:01 before any header\n{EX2010}2016-08-21 00:01:44 cut line\n#Fields: time sc-status cs-uri-stem\n00:02:00 503 /Microsoft-Server-ActiveSync/default.eas\n\u{0}\u{ff}\u{fe} 1 2\n"
        );
        let mut bytes = text.into_bytes();
        // A line that is not UTF-8.
        bytes.extend_from_slice(b"00:03:00 \xff\xfe /x\n");
        let mut r = W3cReader::new(&bytes[..]);
        let lines: Vec<W3cLine> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[1].get("sc-status"), Some("503"));
        assert_eq!(lines[1].get("date"), None, "the new field set has no date");
        assert_eq!(
            r.skipped,
            Skipped {
                before_fields: 1,
                field_count: 1,
                not_text: 1,
                too_long: 0
            }
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_is_skipped_without_being_held() {
        let long = format!(
            "#Fields: time cs-uri-query\n00:00:01 {}\n00:00:02 Cmd=Sync\n",
            "a".repeat(MAX_LINE * 3)
        );
        let mut r = W3cReader::new(std::io::BufReader::with_capacity(1024, long.as_bytes()));
        let lines: Vec<W3cLine> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].get("cs-uri-query"), Some("Cmd=Sync"));
        assert_eq!(r.skipped.too_long, 1);
        assert!(r.buf.capacity() <= MAX_LINE * 2);
    }
}
