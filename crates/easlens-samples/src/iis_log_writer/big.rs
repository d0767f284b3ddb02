//! One big W3C file for the importer's benchmarks: thousands of users and devices, every command
//! in realistic proportions, front-end and back-end lines of each request, `&Log=` tokens as the
//! small logs write them, a `#Fields` change every ~100 MB, ~2% other virtual directories, IPv6
//! clients, times increasing over one or several days.
//!
//! Built for speed (hundreds of MB/s): everything that repeats is formatted once per device or
//! server, lines are appended to one big buffer with hand-written number and GUID formatting,
//! and the buffer goes to the file in 8 MB writes. It is not a faithful conversation per device
//! (SyncKeys are per device and increase; Pings and Syncs alternate at random): a benchmark
//! needs realistic lines, not stories.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{Datelike as _, NaiveDate};

use super::{Rng, encoded};
use easlens_core::eas::Command;
use easlens_core::eas::query::{QueryForm, RequestLine, encode_base64_query};

const CHUNK: usize = 8 << 20;
/// A new `#Fields` block every this many bytes.
const FIELDS_EVERY: u64 = 100 << 20;
/// Bytes of an average line, to spread the file's time over its days.
const AVERAGE_LINE: u64 = 420;

/// The commands and their share of requests, per mille (with OPTIONS as "command" none).
const MIX: [(Option<Command>, u32); 15] = [
    (Some(Command::Ping), 380),
    (Some(Command::Sync), 340),
    (Some(Command::FolderSync), 40),
    (Some(Command::GetItemEstimate), 40),
    (Some(Command::ItemOperations), 60),
    (Some(Command::SendMail), 20),
    (Some(Command::SmartReply), 10),
    (Some(Command::SmartForward), 10),
    (Some(Command::MoveItems), 30),
    (Some(Command::MeetingResponse), 10),
    (Some(Command::Settings), 10),
    (Some(Command::Provision), 10),
    (Some(Command::Search), 10),
    (Some(Command::ResolveRecipients), 20),
    (None, 10),
];

/// A device, formatted once.
struct Device {
    /// Per entry of [`MIX`]: the query as the device sends it (plain or base64).
    queries: Vec<Vec<u8>>,
    /// Per entry of [`MIX`]: the plain query of the back end.
    plain: Vec<Vec<u8>>,
    logon: Vec<u8>,
    account: Vec<u8>,
    ip: Vec<u8>,
    user_agent: Vec<u8>,
    /// `SmtpAdrs:…_`, `Ver1:…_`.
    smtp: Vec<u8>,
    version: &'static [u8],
    /// `Owner%3a…` of the budget snapshot.
    owner: Vec<u8>,
    heartbeat: u32,
    sync_key: u64,
    policy_key: u32,
}

struct Server {
    name: &'static [u8],
    ip: &'static [u8],
    fqdn: &'static [u8],
}

const FRONT_ENDS: [Server; 4] = [
    Server {
        name: b"FE01",
        ip: b"10.0.1.11",
        fqdn: b"FE01.contoso.com",
    },
    Server {
        name: b"FE02",
        ip: b"10.0.1.12",
        fqdn: b"FE02.contoso.com",
    },
    Server {
        name: b"FE03",
        ip: b"10.0.1.13",
        fqdn: b"FE03.contoso.com",
    },
    Server {
        name: b"FE04",
        ip: b"10.0.1.14",
        fqdn: b"FE04.contoso.com",
    },
];

const BACK_ENDS: [Server; 4] = [
    Server {
        name: b"MBX01",
        ip: b"10.0.2.21",
        fqdn: b"MBX01.contoso.com",
    },
    Server {
        name: b"MBX02",
        ip: b"10.0.2.22",
        fqdn: b"MBX02.contoso.com",
    },
    Server {
        name: b"MBX03",
        ip: b"10.0.2.23",
        fqdn: b"MBX03.contoso.com",
    },
    Server {
        name: b"MBX04",
        ip: b"10.0.2.24",
        fqdn: b"MBX04.contoso.com",
    },
];

/// (user agent, device type, query form, protocol version, heartbeat).
const CLIENTS: [(&str, &str, QueryForm, &str, u32); 6] = [
    ("Apple-iPhone15C2/2107.102", "iPhone", QueryForm::Plain, "16.1", 900),
    ("Apple-iPhone14C4/2008.100", "iPhone", QueryForm::Plain, "16.1", 1680),
    ("Apple-iPad13C1/2107.102", "iPad", QueryForm::Plain, "16.1", 900),
    (
        "Android-SAMSUNG-SM-S918B/101.140101",
        "Android",
        QueryForm::Base64,
        "14.1",
        1680,
    ),
    (
        "SAMSUNG-SM-A546B/101.160100",
        "SAMSUNGSMA546B",
        QueryForm::Plain,
        "16.1",
        470,
    ),
    (
        "Outlook-iOS/723.4027091.prod.iphone (4.2412.0)",
        "Outlook",
        QueryForm::Plain,
        "16.1",
        0,
    ),
];

const OTHER_LINES: [&[u8]; 4] = [
    b"GET /owa/ ",
    b"POST /EWS/Exchange.asmx ",
    b"POST /Autodiscover/Autodiscover.xml ",
    b"POST /mapi/emsmdb/ ",
];

const FIELDS_PLAIN: &[u8] = b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n";
const FIELDS_EXTENDED: &[u8] = b"#Fields: date time s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken\r\n";

/// Writes one plain W3C file of about `target_bytes` (it stops at the first line past it) to
/// `out`; the same seed writes the same file. Returns the number of lines written, directives
/// included.
pub fn write_big_iis_log(out: &Path, target_bytes: u64, seed: u64) -> io::Result<u64> {
    write_big(out, target_bytes, seed, FIELDS_EVERY)
}

/// [`write_big_iis_log`] with a new `#Fields` block every `fields_every` bytes.
pub(super) fn write_big(out: &Path, target_bytes: u64, seed: u64, fields_every: u64) -> io::Result<u64> {
    let mut file = File::create(out).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", out.display())))?;
    let mut w = Writer::new(seed, target_bytes, fields_every);
    let mut lines = 4; // the first header block
    while w.written + w.buf.len() as u64 <= target_bytes {
        lines += w.request();
        if w.buf.len() >= CHUNK {
            file.write_all(&w.buf)?;
            w.written += w.buf.len() as u64;
            w.buf.clear();
        }
    }
    file.write_all(&w.buf)?;
    file.flush()?;
    Ok(lines)
}

struct Writer {
    rng: Rng,
    devices: Vec<Device>,
    /// Per mille → index of [`MIX`].
    mix: Vec<u8>,
    buf: Vec<u8>,
    /// Bytes already in the file.
    written: u64,
    /// The clock, ms since the Unix epoch; the day's `YYYY-MM-DD ` and its start.
    now: i64,
    day: (i64, Vec<u8>),
    /// Mean ms between requests.
    step_ms: u64,
    extended: bool,
    fields_every: u64,
    next_fields: u64,
}

impl Writer {
    fn new(seed: u64, target_bytes: u64, fields_every: u64) -> Writer {
        let mut rng = Rng::new(seed);
        let devices = (0..6000).map(|i| device(i, &mut rng)).collect();
        let mut mix = Vec::with_capacity(1000);
        for (k, (_, share)) in MIX.iter().enumerate() {
            mix.extend(std::iter::repeat_n(k as u8, *share as usize));
        }
        // About 1 GB a day: a big file covers several days.
        let days = (target_bytes / (1 << 30)).clamp(1, 7) as i64;
        let requests = (target_bytes / (2 * AVERAGE_LINE)).max(1);
        let start = NaiveDate::from_ymd_opt(2024, 5, 6)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp_millis());
        let mut w = Writer {
            rng,
            devices,
            mix,
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
            written: 0,
            now: start,
            day: (i64::MIN, Vec::new()),
            step_ms: ((days * 86_400_000) as u64 / requests).max(1),
            extended: false,
            fields_every: fields_every.max(1),
            next_fields: 0,
        };
        w.fields();
        w
    }

    /// A header block, alternating the field sets.
    fn fields(&mut self) {
        self.buf
            .extend_from_slice(b"#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ");
        self.date_time();
        self.buf.extend_from_slice(b"\r\n");
        self.buf
            .extend_from_slice(if self.extended { FIELDS_EXTENDED } else { FIELDS_PLAIN });
        self.next_fields += self.fields_every;
    }

    /// `YYYY-MM-DD HH:MM:SS` of now.
    fn date_time(&mut self) {
        let day_ms = self.now.div_euclid(86_400_000);
        if day_ms != self.day.0 {
            let date = chrono::DateTime::from_timestamp_millis(self.now).unwrap_or_default();
            self.day = (
                day_ms,
                format!("{:04}-{:02}-{:02} ", date.year(), date.month(), date.day()).into_bytes(),
            );
        }
        self.buf.extend_from_slice(&self.day.1);
        hms(&mut self.buf, self.now.rem_euclid(86_400_000) / 1000);
    }

    /// Writes one request (or one other line); returns the lines written.
    fn request(&mut self) -> u64 {
        let mut lines = 0;
        if self.written + self.buf.len() as u64 >= self.next_fields {
            self.extended = !self.extended;
            self.fields();
            lines += 4;
        }
        // Busier by day than by night: the mean step, per mille.
        let hour = self.now.rem_euclid(86_400_000) / 3_600_000;
        let pace = if (7..19).contains(&hour) { 600 } else { 2000 };
        self.now += self.rng.below(2 * self.step_ms * pace / 1000 + 1) as i64;
        // ~2% of lines (a request has two).
        if self.rng.chance(4) {
            self.other_line();
            return lines + 1;
        }
        let d = self.rng.below(self.devices.len() as u64) as usize;
        let k = self.mix[self.rng.below(1000) as usize] as usize;
        let command = MIX[k].0;
        let fe = self.rng.below(FRONT_ENDS.len() as u64) as usize;
        let be = d % BACK_ENDS.len();
        let mut guid = [0u8; 36];
        guid_into(&mut guid, &mut self.rng);

        // The outcome.
        let roll = self.rng.below(1000);
        let (status, sub, win32): (u16, u32, u64) = match roll {
            0..10 => (401, 2, 2_148_074_254),
            10..13 => (401, 1, 1326),
            13..18 => (503, 0, 0),
            18..20 => (500, 0, 0),
            20..24 => (200, 0, 64),
            _ => (200, 0, 0),
        };
        let heartbeat = self.devices[d].heartbeat.max(300);
        let taken: u64 = match command {
            Some(Command::Ping) if status == 200 && self.rng.chance(60) => {
                u64::from(heartbeat) * 1000 + self.rng.below(900)
            }
            Some(Command::Ping) => self.rng.range(5_000, u64::from(heartbeat) * 1000),
            _ if status == 401 => self.rng.below(40),
            _ => 40 + self.rng.below(1500),
        };
        let method: &[u8] = if command.is_some() { b"POST " } else { b"OPTIONS " };

        if status != 401 {
            self.back_end_line(d, k, be, fe, &guid, status, win32, taken);
            lines += 1;
        }
        // The front end's line.
        self.date_time();
        let extended = self.extended;
        let dev = &self.devices[d];
        let fe_server = &FRONT_ENDS[fe];
        let buf = &mut self.buf;
        buf.push(b' ');
        if extended {
            buf.extend_from_slice(fe_server.name);
            buf.push(b' ');
        }
        buf.extend_from_slice(fe_server.ip);
        buf.push(b' ');
        buf.extend_from_slice(method);
        buf.extend_from_slice(b"/Microsoft-Server-ActiveSync/default.eas ");
        buf.extend_from_slice(&dev.queries[k]);
        buf.extend_from_slice(b"&CorrelationID=<empty>;&cafeReqId=");
        buf.extend_from_slice(&guid);
        buf.extend_from_slice(b"; 443 ");
        if sub == 2 {
            buf.push(b'-');
        } else {
            buf.extend_from_slice(&dev.logon);
        }
        buf.push(b' ');
        buf.extend_from_slice(&dev.ip);
        buf.push(b' ');
        buf.extend_from_slice(&dev.user_agent);
        buf.extend_from_slice(b" - ");
        number(buf, u64::from(status));
        buf.push(b' ');
        number(buf, u64::from(sub));
        buf.push(b' ');
        number(buf, win32);
        buf.push(b' ');
        if extended {
            number(buf, 300 + (taken * 7) % 9000);
            buf.push(b' ');
            number(buf, 400 + (taken * 3) % 1200);
            buf.push(b' ');
        }
        number(buf, taken + 4);
        buf.extend_from_slice(b"\r\n");
        lines + 1
    }

    /// The back end's line of a request, with its `&Log=`.
    #[allow(clippy::too_many_arguments)]
    fn back_end_line(
        &mut self,
        d: usize,
        k: usize,
        be: usize,
        fe: usize,
        guid: &[u8; 36],
        status: u16,
        win32: u64,
        taken: u64,
    ) {
        let command = MIX[k].0;
        let roll = self.rng.below(100);
        self.date_time();
        let (extended, now) = (self.extended, self.now);
        let dev = &mut self.devices[d];
        let buf = &mut self.buf;
        let server = &BACK_ENDS[be];
        buf.push(b' ');
        if extended {
            buf.extend_from_slice(server.name);
            buf.push(b' ');
        }
        buf.extend_from_slice(server.ip);
        buf.extend_from_slice(if command.is_some() { b" POST " } else { b" OPTIONS " });
        buf.extend_from_slice(b"/Microsoft-Server-ActiveSync/Proxy/default.eas ");
        buf.extend_from_slice(&dev.plain[k]);
        buf.extend_from_slice(b"&Log=");
        let eas = match (status, command) {
            (500, _) => Some(110),
            (503, _) => Some(111),
            (_, None) => None,
            (_, Some(Command::Ping)) if roll < 55 => Some(1),
            (_, Some(Command::Ping)) => Some(2),
            (_, Some(Command::Sync)) if roll < 2 => Some(3),
            (_, Some(Command::SendMail)) if roll < 3 => Some(115),
            (_, Some(Command::SendMail)) if roll < 5 => Some(120),
            _ => Some(1),
        };
        if let Some(s) = eas {
            buf.extend_from_slice(b"SC1:");
            number(buf, s);
            buf.push(b'_');
        }
        buf.extend_from_slice(b"PrxFrom:");
        buf.extend_from_slice(FRONT_ENDS[fe].ip);
        buf.extend_from_slice(b"_Ver1:");
        buf.extend_from_slice(dev.version);
        buf.extend_from_slice(b"_HH:mail.contoso.com_");
        buf.extend_from_slice(&dev.smtp);
        match command {
            Some(Command::Sync) if status != 503 => {
                let zero = roll == 99;
                buf.extend_from_slice(b"Fid:5_Ty:Em_Filter1:3_St:");
                buf.extend_from_slice(if zero { b"F_Sk:0_Sks:" } else { b"S_Sk:" });
                if !zero {
                    number(buf, dev.sync_key);
                    buf.extend_from_slice(b"_Sks:");
                }
                dev.sync_key += 1;
                number(buf, dev.sync_key);
                buf.extend_from_slice(b"_Srv:");
                number(buf, roll % 4);
                buf.extend_from_slice(b"a0c0d0s0e0r0A0sd_");
            }
            Some(Command::Ping) => {
                buf.extend_from_slice(b"Hb:");
                number(buf, u64::from(dev.heartbeat.max(300)));
                buf.extend_from_slice(if eas == Some(1) { b"_Rto:2_" } else { b"_" });
            }
            Some(Command::Provision) => {
                buf.extend_from_slice(b"Pk:");
                number(buf, u64::from(dev.policy_key));
                buf.extend_from_slice(if roll < 3 { b"_Pa:3_" } else { b"_Pa:1_" });
            }
            _ => {}
        }
        buf.extend_from_slice(b"Fet:");
        number(buf, taken);
        buf.push(b'_');
        let error: &[u8] = match (status, eas) {
            (503, _) => b"Error:OverBudget_",
            (500, _) => b"Error:MailboxOffline_",
            (_, Some(3)) => b"Error:InvalidSyncKey_",
            (_, Some(115)) => b"Error:SendQuotaExceeded_",
            (_, Some(120)) => b"Error:MailSubmissionFailed_",
            _ => b"",
        };
        buf.extend_from_slice(error);
        buf.extend_from_slice(b"As:AllowedG_Mbx:");
        buf.extend_from_slice(server.fqdn);
        buf.extend_from_slice(b"_Cafe:");
        buf.extend_from_slice(FRONT_ENDS[fe].fqdn);
        buf.extend_from_slice(b"_Throttle:");
        if status == 503 {
            number(buf, 500 + taken % 2000);
            buf.extend_from_slice(b"_SBkOffD:H%2f");
            number(buf, 20 + taken % 40);
            buf.extend_from_slice(b"_BkOffRsn:OutOfBudget_Budget:(A)");
            buf.extend_from_slice(&dev.owner);
            buf.extend_from_slice(b"%2cConn%3a3%2cBalance%3a-");
            number(buf, 30_000 + taken % 9000);
            buf.push(b'_');
        } else {
            buf.extend_from_slice(b"0_");
        }
        // Exchange's stages: received when time-taken began, completed as the line is written.
        buf.extend_from_slice(b"TmRcv:");
        time_of_day(buf, now - taken as i64);
        buf.extend_from_slice(b"_TmCmpl:");
        time_of_day(buf, now - 1);
        buf.push(b'_');
        buf.extend_from_slice(b"ActivityContextData:ActivityID%3d");
        buf.extend_from_slice(guid);
        buf.extend_from_slice(b"%3bS%3aWLM.BT%3dEas_ 444 ");
        buf.extend_from_slice(&dev.account);
        buf.push(b' ');
        buf.extend_from_slice(FRONT_ENDS[fe].ip);
        buf.push(b' ');
        buf.extend_from_slice(&dev.user_agent);
        buf.extend_from_slice(b" - ");
        number(buf, u64::from(status));
        buf.extend_from_slice(b" 0 ");
        number(buf, win32);
        buf.push(b' ');
        if extended {
            number(buf, 300 + (taken * 7) % 9000);
            buf.push(b' ');
            number(buf, 700 + (taken * 3) % 1200);
            buf.push(b' ');
        }
        number(buf, taken);
        buf.extend_from_slice(b"\r\n");
    }

    /// An OWA, EWS, Autodiscover or MAPI line of a front end.
    fn other_line(&mut self) {
        let k = self.rng.below(OTHER_LINES.len() as u64) as usize;
        let fe = &FRONT_ENDS[self.rng.below(FRONT_ENDS.len() as u64) as usize];
        let d = self.rng.below(self.devices.len() as u64) as usize;
        let taken = self.rng.below(800);
        let mut guid = [0u8; 36];
        guid_into(&mut guid, &mut self.rng);
        self.date_time();
        let extended = self.extended;
        let buf = &mut self.buf;
        buf.push(b' ');
        if extended {
            buf.extend_from_slice(fe.name);
            buf.push(b' ');
        }
        buf.extend_from_slice(fe.ip);
        buf.push(b' ');
        buf.extend_from_slice(OTHER_LINES[k]);
        buf.extend_from_slice(b"&CorrelationID=<empty>;&cafeReqId=");
        buf.extend_from_slice(&guid);
        buf.extend_from_slice(b"; 443 ");
        buf.extend_from_slice(&self.devices[d].logon);
        buf.extend_from_slice(b" 198.51.100.");
        number(buf, 150 + (d as u64 % 100));
        buf.extend_from_slice(
            b" Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.17531;+Pro) - 200 0 0 ",
        );
        if extended {
            number(buf, 2000 + taken * 5);
            buf.push(b' ');
            number(buf, 600 + taken);
            buf.push(b' ');
        }
        number(buf, taken);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Device `i`: its user, client, addresses and every query it sends, formatted once.
fn device(i: usize, rng: &mut Rng) -> Device {
    let user = format!("user{:04}", i / 3 * 2 + i % 3 % 2);
    let (ua, device_type, form, version, heartbeat) = CLIENTS[rng.below(CLIENTS.len() as u64) as usize];
    let id = format!("{:016X}", rng.next_u64());
    let policy_key = rng.range(1_000_000_000, 4_000_000_000) as u32;
    let upn = format!("{user}@contoso.com");
    let mut queries = Vec::with_capacity(MIX.len());
    let mut plain = Vec::with_capacity(MIX.len());
    for (command, _) in MIX {
        let Some(command) = command else {
            queries.push(Vec::new());
            plain.push(Vec::new());
            continue;
        };
        let plain_query = format!(
            "Cmd={}&User={}&DeviceId={id}&DeviceType={device_type}",
            command.name(),
            encoded(&upn)
        );
        let sent = match form {
            QueryForm::Plain => plain_query.clone(),
            QueryForm::Base64 => {
                let mut line = RequestLine::new(QueryForm::Base64);
                line.command = Some(command);
                line.user = Some(upn.clone());
                line.set_device_id_bytes(id.as_bytes());
                line.device_type = Some(device_type.to_string());
                line.protocol_version = Some(version.to_string());
                line.locale = Some(0x0409);
                line.policy_key = Some(policy_key);
                encode_base64_query(&line).unwrap_or_else(|_| BASE64.encode(plain_query.as_bytes()))
            }
        };
        queries.push(sent.into_bytes());
        plain.push(plain_query.into_bytes());
    }
    let ip = if i % 10 == 7 {
        format!("2001:db8:{:x}:1::{:x}", i % 4096, rng.below(0xFFFF) + 1)
    } else {
        match i % 3 {
            0 => format!("198.51.100.{}", 1 + i % 250),
            1 => format!("203.0.113.{}", 1 + i % 250),
            _ => format!("192.0.2.{}", 1 + i % 250),
        }
    };
    Device {
        queries,
        plain,
        logon: format!("contoso\\{user}").into_bytes(),
        account: format!("CONTOSO\\{user}").into_bytes(),
        ip: ip.into_bytes(),
        user_agent: ua.replace(' ', "+").into_bytes(),
        smtp: format!("SmtpAdrs:{}_", encoded(&upn)).into_bytes(),
        version: if version == "16.1" { b"161" } else { b"141" },
        owner: format!(
            "Owner%3a{}",
            encoded(&format!("S-1-5-21-1-2-3-{}_{id}_{device_type}", 1104 + i))
        )
        .into_bytes(),
        heartbeat: if heartbeat == 0 { 900 } else { heartbeat },
        sync_key: rng.range(100_000_000, 1_999_999_999),
        policy_key,
    }
}

/// Two digits.
fn two(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// `HH:MM:SS` of a second of the day.
fn hms(buf: &mut Vec<u8>, s: i64) {
    two(buf, (s / 3600) as u32);
    buf.push(b':');
    two(buf, (s / 60 % 60) as u32);
    buf.push(b':');
    two(buf, (s % 60) as u32);
}

/// `HH:MM:SS.fffffff` of `ms` (UTC), as a `Tm*` token writes it.
pub(super) fn time_of_day(buf: &mut Vec<u8>, ms: i64) {
    let ms = ms.rem_euclid(86_400_000);
    hms(buf, ms / 1000);
    buf.push(b'.');
    let frac = (ms % 1000) as u32;
    two(buf, frac / 10);
    buf.push(b'0' + (frac % 10) as u8);
    buf.extend_from_slice(b"0000");
}

/// A number in decimal, without allocating.
fn number(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[at..]);
}

/// A random GUID, lower case (`8-4-4-4-12`).
fn guid_into(out: &mut [u8; 36], rng: &mut Rng) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let bits = (u128::from(a) << 64) | u128::from(b);
    let mut k = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            *slot = b'-';
        } else {
            *slot = HEX[((bits >> (124 - 4 * k)) & 0xF) as usize];
            k += 1;
        }
    }
}
