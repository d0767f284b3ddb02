//! One day (2024-05-02, UTC) of a small organisation's ActiveSync traffic: eight users, ten
//! devices, three front ends and two back ends of Exchange 2019, and a leftover Exchange 2010 CAS.
//! Most of it is ordinary (Pings running to their heartbeat, Syncs after changes, sends, item
//! fetches); each device also has the trouble one report is for:
//!
//! | user | device | trouble |
//! |---|---|---|
//! | jdoe | iPhone, Outlook for iOS | none: policy refresh (Provision, `Pa:1`), sends that work |
//! | asmith | Samsung, base64 query | quarantined, then a Sync storm: throttled 503s (`OverBudget`, `Throttle`), auto-blocked (`As:BlockedABO`); caught in the 500 burst |
//! | bwhite | Samsung, plain query | not compliant (`Pa:3`); a 401 storm after a password change (`401 1 1326`) |
//! | cgarcia | iPhone | starts the Inbox over at `Sk:0` again and again (`St:F`, then `Ssnf:T`) |
//! | dkim | Samsung, base64 query | replays one SyncKey for 45 minutes; caught in the 500 burst |
//! | elee | iPhone over IPv6 | NAT drops long Pings: the heartbeat collapses from 900 to 60 (`Ping.HbiTooLow`) |
//! | fnguyen | Outlook for iOS | sends fail: `SC1:115 SendQuotaExceeded`, `SC1:120 MailSubmissionFailed`; caught in the 500 burst |
//! | hlopez | iPhone and a Windows Phone on the Exchange 2010 CAS | `Sk:0`, `Sks1204981531`, `PingCollisionDetected`, the spec's base64 sample blob |
//!
//! MBX02 fails from 14:05 to 14:09: its users' requests get HTTP 500. Managed Availability probes
//! every front end once an hour, and OWA, EWS and Autodiscover lines come in between.

use chrono::NaiveDate;

use super::*;
use easlens_core::eas::Command;
use easlens_core::eas::query::{QueryForm, RequestLine, encode_base64_query, encode_plain_query};

const FE: [usize; 3] = [0, 1, 2];
const MBX01: usize = 3;
const MBX02: usize = 4;
const CAS2010: usize = 5;

const HOST: &str = "mail.contoso.com";
const LEGACY_HOST: &str = "legacy.contoso.com";
const CAS2010_MAILBOX: &str = "EX2010MBX.contoso.com";
/// The organisation's minimum heartbeat (raised by the admin from Exchange's default 60).
const MIN_HEARTBEAT: u32 = 120;
/// MBX02's outage, seconds of the day.
const OUTAGE: (i64, i64) = (14 * 3600 + 5 * 60, 14 * 3600 + 9 * 60);

const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

/// What a device does that the others do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    None,
    Quarantine,
    WrongPassword,
    SyncKeyZero,
    Replay,
    Heartbeat,
    SendFailures,
    Legacy,
}

/// A device of the fleet.
#[derive(Debug, Clone, Copy)]
struct Phone {
    alias: &'static str,
    /// `User=` as the device writes it.
    user: &'static str,
    device_id: &'static str,
    device_type: &'static str,
    user_agent: &'static str,
    form: QueryForm,
    version: &'static str,
    /// Client addresses (a phone moves between networks).
    ips: &'static [&'static str],
    /// The back end of its mailbox (or the 2010 CAS).
    mailbox: usize,
    /// Ping heartbeat in seconds; 0: the device polls with Sync instead (Outlook for iOS).
    heartbeat: u32,
    /// `cs-username` on the front end: the Basic user as typed, or the UPN (Outlook, OAuth).
    logon: &'static str,
    trouble: Trouble,
}

const OUTLOOK_UA: &str = "Outlook-iOS/723.4027091.prod.iphone (4.2412.0)";

const PHONES: [Phone; 9] = [
    Phone {
        alias: "jdoe",
        user: "jdoe@contoso.com",
        device_id: "F2LXK9QZ1VHN7C3D",
        device_type: "iPhone",
        user_agent: "Apple-iPhone15C2/2107.102",
        form: QueryForm::Plain,
        version: "16.1",
        ips: &["198.51.100.23", "203.0.113.58"],
        mailbox: MBX01,
        heartbeat: 900,
        logon: "contoso\\jdoe",
        trouble: Trouble::None,
    },
    Phone {
        alias: "jdoe",
        user: "jdoe@contoso.com",
        device_id: "5E8B0C4D2A9F4D1B8E6A7C3F0B2D4E61",
        device_type: "Outlook",
        user_agent: OUTLOOK_UA,
        form: QueryForm::Plain,
        version: "16.1",
        ips: &["203.0.113.140", "203.0.113.141"],
        mailbox: MBX01,
        heartbeat: 0,
        logon: "jdoe@contoso.com",
        trouble: Trouble::None,
    },
    Phone {
        alias: "asmith",
        user: "asmith@contoso.com",
        device_id: "androidc4f1e2d3b5a6",
        device_type: "Android",
        user_agent: "Android-SAMSUNG-SM-S918B/101.140101",
        form: QueryForm::Base64,
        version: "14.1",
        ips: &["198.51.100.54"],
        mailbox: MBX02,
        heartbeat: 1680,
        logon: "contoso\\asmith",
        trouble: Trouble::Quarantine,
    },
    Phone {
        alias: "bwhite",
        user: "contoso\\bwhite",
        device_id: "SEC1A2B3C4D5E6F7",
        device_type: "SAMSUNGSMA546B",
        user_agent: "SAMSUNG-SM-A546B/101.160100",
        form: QueryForm::Plain,
        version: "16.1",
        ips: &["198.51.100.81"],
        mailbox: MBX01,
        heartbeat: 900,
        logon: "contoso\\bwhite",
        trouble: Trouble::WrongPassword,
    },
    Phone {
        alias: "cgarcia",
        user: "cgarcia@contoso.com",
        device_id: "G7HT2M4QPW8X5B1N",
        device_type: "iPhone",
        user_agent: "Apple-iPhone14C4/2008.100",
        form: QueryForm::Plain,
        version: "16.1",
        ips: &["203.0.113.77"],
        mailbox: MBX01,
        heartbeat: 900,
        logon: "contoso\\cgarcia",
        trouble: Trouble::SyncKeyZero,
    },
    Phone {
        alias: "dkim",
        user: "dkim",
        device_id: "android8e21d7f0a3bc",
        device_type: "SAMSUNGSMG991B",
        user_agent: "Android-SAMSUNG-SM-G991B/101.140101",
        form: QueryForm::Base64,
        version: "14.1",
        ips: &["198.51.100.112"],
        mailbox: MBX02,
        heartbeat: 1680,
        logon: "dkim",
        trouble: Trouble::Replay,
    },
    Phone {
        alias: "elee",
        user: "elee@contoso.com",
        device_id: "K3PZ9V6NQ2RT8D4F",
        device_type: "iPhone",
        user_agent: "Apple-iPhone16C1/2201.101",
        form: QueryForm::Plain,
        version: "16.1",
        ips: &[
            "2001:db8:4a1f:1:5c2e:91ff:fe3a:7b10",
            "2001:db8:4a1f:1:9d04:3bff:fe61:2c88",
        ],
        mailbox: MBX01,
        heartbeat: 900,
        logon: "contoso\\elee",
        trouble: Trouble::Heartbeat,
    },
    Phone {
        alias: "fnguyen",
        user: "fnguyen@contoso.com",
        device_id: "8C1F7A3E9B2D4C6E8F0A1B2C3D4E5F60",
        device_type: "Outlook",
        user_agent: OUTLOOK_UA,
        form: QueryForm::Plain,
        version: "16.1",
        ips: &["203.0.113.142"],
        mailbox: MBX02,
        heartbeat: 0,
        logon: "fnguyen@contoso.com",
        trouble: Trouble::SendFailures,
    },
    Phone {
        alias: "hlopez",
        user: "hlopez@contoso.com",
        device_id: "Q8WN5C2XJ4LM6H9R",
        device_type: "iPhone",
        user_agent: "Apple-iPhone13C2/1905.258",
        form: QueryForm::Plain,
        version: "14.1",
        ips: &["192.0.2.61"],
        mailbox: CAS2010,
        heartbeat: 1680,
        logon: "contoso\\hlopez",
        trouble: Trouble::Legacy,
    },
];

/// The folders every device syncs: (id, class, FilterType).
const FOLDERS: [(&str, &str, Option<u32>); 3] = [("5", "Em", Some(3)), ("1", "Ca", Some(4)), ("3", "Co", None)];

/// The fleet's IIS logs: `FE01..FE03/W3SVC1`, `MBX01..MBX02/W3SVC2`, `CAS2010/W3SVC1`, one
/// file each; the same seed writes the same logs.
pub fn fleet_iis_logs(seed: u64) -> IisLogs {
    let mut fleet = Fleet {
        plan: Plan {
            servers: servers(),
            ..Plan::default()
        },
        rng: Rng::new(seed),
        day: NaiveDate::from_ymd_opt(2024, 5, 2)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp_millis()),
    };
    for phone in &PHONES {
        fleet.device_day(phone);
    }
    fleet.windows_phone();
    fleet.probes_and_other_lines();
    render(&fleet.plan)
}

fn servers() -> Vec<Server> {
    let server = |name: &str, ip: &str, role: ServerRole, site: &str| Server {
        name: name.into(),
        fqdn: format!("{name}.contoso.com"),
        ip: ip.into(),
        role,
        dialect: Dialect::Exchange2016,
        dir: format!("{name}/{site}"),
        fields: FieldSet::Iis10,
        restart: None,
        gzip: false,
        cut_last_line: false,
    };
    vec![
        server("FE01", "10.0.1.11", ServerRole::FrontEnd, "W3SVC1"),
        // An iisreset in the afternoon: the same header again.
        Server {
            restart: Some(FieldSet::Iis10),
            ..server("FE02", "10.0.1.12", ServerRole::FrontEnd, "W3SVC1")
        },
        server("FE03", "10.0.1.13", ServerRole::FrontEnd, "W3SVC1"),
        Server {
            restart: Some(FieldSet::Iis10Extended),
            ..server("MBX01", "10.0.2.21", ServerRole::BackEnd, "W3SVC2")
        },
        server("MBX02", "10.0.2.22", ServerRole::BackEnd, "W3SVC2"),
        Server {
            dialect: Dialect::Exchange2010,
            fields: FieldSet::Iis75,
            fqdn: "CAS2010.contoso.com".into(),
            ..server("CAS2010", "10.0.3.5", ServerRole::Cas, "W3SVC1")
        },
    ]
}

struct Fleet {
    plan: Plan,
    rng: Rng,
    /// 00:00 UTC of the day, ms.
    day: i64,
}

/// A device during its day.
struct Dev {
    phone: &'static Phone,
    clock: i64,
    /// `As:` value now.
    access: &'static str,
    /// The last SyncKey the server gave for each of [`FOLDERS`].
    keys: [u64; 3],
    policy_key: u32,
    ip: usize,
}

impl Fleet {
    fn at(&self, h: i64, m: i64) -> i64 {
        self.day + h * HOUR + m * MIN
    }

    fn second_of_day(&self, t: i64) -> i64 {
        (t - self.day) / SEC
    }

    /// A request of `d` that starts now, with the usual outcome (200, status 1) and a back-end
    /// line; the caller changes what differs, then [`Fleet::push`]es it.
    fn request(&mut self, d: &Dev, command: Command, params: &[(&str, String)], duration_ms: u64) -> Request {
        let p = d.phone;
        let mut line = RequestLine::new(p.form);
        line.command = Some(command);
        line.user = Some(p.user.to_string());
        line.device_type = Some(p.device_type.to_string());
        line.parameters = params.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        line.save_in_sent = params.iter().any(|(n, _)| *n == "SaveInSent").then_some(true);
        let device_query = match p.form {
            QueryForm::Plain => {
                line.device_id = Some(p.device_id.to_string());
                encode_plain_query(&line)
            }
            QueryForm::Base64 => {
                line.set_device_id_bytes(p.device_id.as_bytes());
                line.protocol_version = Some(p.version.to_string());
                line.locale = Some(0x0409);
                line.policy_key = Some(d.policy_key);
                encode_base64_query(&line).unwrap_or_else(|e| panic!("fleet request line does not encode: {e}"))
            }
        };
        let legacy = p.mailbox == CAS2010;
        let route = if legacy {
            Route::Cas { cas: CAS2010 }
        } else {
            Route::Proxied {
                fe: *self.rng.pick(&FE),
                be: p.mailbox,
            }
        };
        let version = p.version.replace('.', "").parse().ok();
        Request {
            exchange: None,
            probe: false,
            end_ms: d.clock + duration_ms as i64,
            method: "POST",
            stem: ACTIVESYNC_STEM,
            plain_query: encode_plain_query(&line),
            device_query,
            user: Some(p.user.to_string()),
            device_id: Some(p.device_id.to_string()),
            device_type: Some(p.device_type.to_string()),
            command: Some(command.name().to_string()),
            username: Some(p.logon.to_string()),
            be_username: Some(format!("CONTOSO\\{}", p.alias)),
            client_ip: p.ips[d.ip % p.ips.len()].to_string(),
            user_agent: p.user_agent.to_string(),
            status: 200,
            substatus: 0,
            win32: 0,
            time_taken: duration_ms,
            be_time_taken: duration_ms.saturating_sub(self.rng.range(2, 9)),
            cs_bytes: 380 + self.rng.below(600),
            sc_bytes: 240 + self.rng.below(2400),
            route,
            activity_id: (!legacy).then(|| self.rng.guid()),
            log: Some(Diagnostics {
                eas_status: Some(1),
                version,
                host: if legacy { LEGACY_HOST } else { HOST }.into(),
                smtp: format!("{}@contoso.com", p.alias),
                access_state: Some(d.access.into()),
                throttle_ms: Some(0),
                mailbox: CAS2010_MAILBOX.into(),
                ..Diagnostics::default()
            }),
        }
    }

    /// Logs `r`; the device's next request starts a moment after it ended. Samsung clients
    /// sometimes open a connection without credentials first: a 401.2 challenge.
    fn push(&mut self, d: &mut Dev, r: Request) {
        let samsung = d.phone.user_agent.contains("SAMSUNG");
        if samsung && r.status != 401 && self.rng.chance(6) {
            let mut challenge = r.clone();
            challenge.status = 401;
            challenge.substatus = 2;
            challenge.win32 = 2_148_074_254;
            challenge.username = None;
            challenge.time_taken = self.rng.range(0, 3);
            challenge.end_ms = d.clock - self.rng.range(40, 120) as i64;
            challenge.log = None;
            challenge.activity_id = Some(self.rng.guid());
            if let Route::Proxied { fe, .. } = r.route {
                challenge.route = Route::FrontEnd { fe };
            }
            self.plan.requests.push(challenge);
        }
        d.clock = r.end_ms + self.rng.range(300, 2500) as i64;
        self.plan.requests.push(r);
    }

    fn in_outage(&self, d: &Dev) -> bool {
        let s = self.second_of_day(d.clock);
        d.phone.mailbox == MBX02 && (OUTAGE.0..OUTAGE.1).contains(&s)
    }

    /// A Sync of the `folders` (indexes of [`FOLDERS`]) that gets `adds` new items in each.
    fn sync(&mut self, d: &mut Dev, folders: &[usize], adds: u32) -> Request {
        let ms = self.rng.range(120, 900) + u64::from(adds) * 90;
        let mut r = self.request(d, Command::Sync, &[], ms);
        let mut list = Vec::new();
        for &f in folders {
            let (id, class, filter) = FOLDERS[f];
            list.push(Folder {
                id: id.into(),
                class,
                filter,
                sync_type: "S",
                sync_key: d.keys[f].to_string(),
                server_key: Some((d.keys[f] + 1).to_string()),
                server: Some((adds, 0, 0)),
                ..Folder::default()
            });
            d.keys[f] += 1;
        }
        if let Some(l) = r.log.as_mut() {
            l.folders = list;
        }
        r
    }

    /// The usual follow-ups of a Sync that brought mail: fetch, send, move, estimate.
    fn follow_ups(&mut self, d: &mut Dev) {
        let command = match self.rng.below(100) {
            0..15 => Command::ItemOperations,
            15..25 => Command::GetItemEstimate,
            25..30 => Command::MoveItems,
            30..32 => Command::MeetingResponse,
            32..34 => Command::ResolveRecipients,
            34..35 => Command::Search,
            35..43 => *self.rng.pick(&[
                Command::SendMail,
                Command::SendMail,
                Command::SmartReply,
                Command::SmartForward,
            ]),
            _ => return,
        };
        let params: Vec<(&str, String)> = match command {
            Command::SendMail => vec![("SaveInSent", "T".into())],
            Command::SmartReply | Command::SmartForward => vec![
                ("ItemId", format!("5:{}", self.rng.range(100, 999))),
                ("CollectionId", "5".into()),
                ("SaveInSent", "T".into()),
            ],
            _ => Vec::new(),
        };
        let ms = self.rng.range(150, 1400);
        let r = self.request(d, command, &params, ms);
        self.push(d, r);
    }

    /// Two-step Provision: the policy, then the acknowledgement with status `ack`.
    fn provision(&mut self, d: &mut Dev, ack: u32) {
        let sent = d.policy_key;
        let ms = self.rng.range(150, 400);
        let mut r = self.request(d, Command::Provision, &[], ms);
        if let Some(l) = r.log.as_mut() {
            l.policy_key = Some(sent.to_string());
        }
        self.push(d, r);
        let temporary = self.rng.range(1_000_000_000, 4_000_000_000) as u32;
        d.policy_key = temporary;
        let ms = self.rng.range(150, 400);
        let mut r = self.request(d, Command::Provision, &[], ms);
        if let Some(l) = r.log.as_mut() {
            l.policy_key = Some(temporary.to_string());
            l.policy_ack = Some(ack);
        }
        self.push(d, r);
        d.policy_key = self.rng.range(1_000_000_000, 4_000_000_000) as u32;
    }

    /// A Ping of `heartbeat` seconds that ends after `after` seconds with changes, or at the
    /// heartbeat without.
    fn ping(&mut self, d: &mut Dev, heartbeat: u32, changes: Option<u32>) -> Request {
        let ms = match changes {
            Some(after) => u64::from(after) * 1000 + self.rng.range(20, 400),
            None => u64::from(heartbeat) * 1000 + self.rng.range(5, 60),
        };
        let mut r = self.request(d, Command::Ping, &[], ms);
        if let Some(l) = r.log.as_mut() {
            l.heartbeat = Some(heartbeat);
            l.eas_status = Some(if changes.is_some() { 2 } else { 1 });
            l.no_changes = changes.is_none();
            l.budget_2010 = true;
        }
        // A Ping pending on MBX02 when it fails ends then, with 500.
        let outage = self.day + OUTAGE.0 * SEC + self.rng.range(0, 20_000) as i64;
        if d.phone.mailbox == MBX02 && d.clock < outage && outage < r.end_ms {
            let ms = (outage - d.clock) as u64;
            r.end_ms = outage;
            r.time_taken = ms;
            r.be_time_taken = ms.saturating_sub(5);
            r.status = 500;
            if let Some(l) = r.log.as_mut() {
                l.eas_status = Some(110);
                l.error = Some("MailboxOffline".into());
                l.no_changes = false;
            }
        }
        r
    }

    /// MBX02 is down: the request fails with 500, the device retries soon.
    fn outage_request(&mut self, d: &mut Dev) {
        let ms = self.rng.range(900, 4000);
        let mut r = self.sync(d, &[0], 0);
        r.end_ms = d.clock + ms as i64;
        r.status = 500;
        r.time_taken = ms;
        r.be_time_taken = ms - 4;
        if let Some(l) = r.log.as_mut() {
            l.eas_status = Some(110);
            l.error = Some("MailboxOffline".into());
            for f in &mut l.folders {
                f.server_key = None;
                f.server = None;
            }
        }
        d.keys[0] -= 1; // the server gave no new key
        self.push(d, r);
        d.clock += self.rng.range(10, 25) as i64 * SEC;
    }

    /// Whether the device is busy now (more changes during the working day).
    fn active(&self, t: i64) -> bool {
        (6..19).contains(&(self.second_of_day(t) / 3600))
    }

    /// One ordinary step: a Ping (or, for a polling client, a wait) and what follows it.
    fn step(&mut self, d: &mut Dev, heartbeat: u32) {
        if self.in_outage(d) {
            return self.outage_request(d);
        }
        let active = self.active(d.clock);
        let changed = self.rng.chance(if active { 35 } else { 5 });
        // At night the clients stretch their heartbeat.
        let heartbeat = if active { heartbeat } else { heartbeat.max(1680) };
        if d.phone.heartbeat == 0 {
            // Outlook for iOS polls: a Sync every few minutes.
            d.clock += self.rng.range(4, if active { 12 } else { 45 }) as i64 * MIN;
            if d.clock >= self.at(23, 45) {
                return; // the day's file ends here
            }
            let adds = if changed { self.rng.range(1, 3) as u32 } else { 0 };
            let r = self.sync(d, &[0], adds);
            self.push(d, r);
        } else {
            let after = changed.then(|| self.rng.range(20, u64::from(heartbeat) * 3 / 4) as u32);
            let r = self.ping(d, heartbeat, after);
            let failed = r.status != 200;
            self.push(d, r);
            if !changed || failed {
                return;
            }
            let folders: &[usize] = if self.rng.chance(20) { &[0, 1] } else { &[0] };
            let adds = self.rng.range(1, 3) as u32;
            let r = self.sync(d, folders, adds);
            self.push(d, r);
        }
        if changed && active {
            self.follow_ups(d);
        }
    }

    /// The device's day, ordinary steps around its trouble.
    fn device_day(&mut self, phone: &'static Phone) {
        let start = self.day + self.rng.range(0, 20) as i64 * MIN;
        let mut d = Dev {
            phone,
            clock: start,
            access: "AllowedG",
            keys: [0; 3].map(|_| self.rng.range(100_000_000, 1_999_999_999)),
            policy_key: self.rng.range(1_000_000_000, 4_000_000_000) as u32,
            ip: 0,
        };
        let end = self.at(23, 30);
        match phone.trouble {
            Trouble::None => {
                let mut provisioned = phone.heartbeat == 0; // Outlook's service does not provision
                self.ordinary(&mut d, end, |f, d| {
                    // The policy changed overnight: the iPhone provisions again when it joins
                    // the office Wi-Fi.
                    if !provisioned && d.clock >= f.at(7, 0) {
                        f.provision(d, 1);
                        d.ip = 1;
                        provisioned = true;
                    }
                })
            }
            Trouble::Quarantine => self.quarantine(&mut d, end),
            Trouble::WrongPassword => self.wrong_password(&mut d, end),
            Trouble::SyncKeyZero => self.sync_key_zero(&mut d, end),
            Trouble::Replay => self.replay(&mut d, end),
            Trouble::Heartbeat => self.heartbeat_collapse(&mut d, end),
            Trouble::SendFailures => self.send_failures(&mut d, end),
            Trouble::Legacy => self.legacy(&mut d, end),
        }
    }

    /// Ordinary steps until `end`, `hook` first at each.
    fn ordinary(&mut self, d: &mut Dev, end: i64, mut hook: impl FnMut(&mut Fleet, &mut Dev)) {
        while d.clock < end {
            hook(self, d);
            self.step(d, d.phone.heartbeat);
        }
    }

    /// fnguyen: sends fail in the morning because the mailbox is over its send quota (`SC1:115`)
    /// and in the afternoon because the transport refuses them (`SC1:120`), both under HTTP 200.
    fn send_failures(&mut self, d: &mut Dev, end: i64) {
        let episodes = [
            (
                10,
                0,
                115,
                "SendQuotaExceeded",
                [
                    Command::SendMail,
                    Command::SendMail,
                    Command::SmartReply,
                    Command::SendMail,
                ],
            ),
            (
                15,
                10,
                120,
                "MailSubmissionFailed",
                [
                    Command::SmartForward,
                    Command::SendMail,
                    Command::SmartReply,
                    Command::SendMail,
                ],
            ),
        ];
        for (h, m, status, error, commands) in episodes {
            self.ordinary(d, self.at(h, m), |_, _| {});
            for command in commands {
                let params = [("SaveInSent", "T".to_string())];
                let ms = self.rng.range(300, 1500);
                let mut r = self.request(d, command, &params, ms);
                if let Some(l) = r.log.as_mut() {
                    l.eas_status = Some(status);
                    l.error = Some(error.into());
                }
                self.push(d, r);
                d.clock += self.rng.range(1, 6) as i64 * MIN;
            }
            // The user gives up for a while; the last attempt goes through.
            let ms = self.rng.range(300, 1500);
            let r = self.request(d, Command::SendMail, &[("SaveInSent", "T".to_string())], ms);
            self.push(d, r);
        }
        self.ordinary(d, end, |_, _| {});
    }

    /// asmith: quarantined until the admin allows the device; then a Sync storm is throttled
    /// and auto-blocked for out-of-budget (ABO) for half an hour.
    fn quarantine(&mut self, d: &mut Dev, end: i64) {
        d.clock = self.at(6, 31);
        d.access = "QuarantinedG";
        while d.clock < self.at(8, 30) {
            let ms = self.rng.range(100, 300);
            let mut r = self.request(d, Command::FolderSync, &[], ms);
            if let Some(l) = r.log.as_mut() {
                l.error = Some("InQuarantine".into());
            }
            self.push(d, r);
            d.clock += self.rng.range(8, 16) as i64 * MIN;
        }
        d.access = "AllowedI";
        self.ordinary(d, self.at(11, 0), |_, _| {});
        // The storm: one Sync after another. After 20 the budget runs low (the requests wait in
        // the queue), after 30 they are refused.
        for n in 0..55 {
            let adds = self.rng.range(0, 1) as u32;
            let mut r = self.sync(d, &[0], adds);
            if n >= 20 {
                let refused = n >= 30;
                let queued = self.rng.range(600, 2500);
                r.time_taken += queued;
                r.end_ms += queued as i64;
                r.be_time_taken += queued;
                if let Some(l) = r.log.as_mut() {
                    l.throttle_ms = Some(queued);
                    if refused {
                        l.eas_status = Some(111);
                        l.error = Some("OverBudget".into());
                        l.folders.clear(); // refused before the body was read
                        l.back_off = Some((self.rng.range(20, 60) as u32, -(self.rng.range(30_000, 40_000) as i64)));
                    }
                }
                if refused {
                    r.status = 503;
                    d.keys[0] -= 1;
                }
            }
            self.push(d, r);
            d.clock += self.rng.range(3, 9) as i64 * SEC;
        }
        let blocked_until = d.clock + 30 * MIN;
        d.access = "BlockedABO";
        while d.clock < blocked_until {
            let ms = self.rng.range(10, 40);
            let mut r = self.request(d, Command::Sync, &[], ms);
            r.status = 503;
            if let Some(l) = r.log.as_mut() {
                l.eas_status = None;
            }
            self.push(d, r);
            d.clock += self.rng.range(90, 180) as i64 * SEC;
        }
        d.access = "AllowedI";
        self.ordinary(d, end, |_, _| {});
    }

    /// bwhite: the device cannot apply the policy (`Pa:3`); after a password change it keeps
    /// the old one: a storm of 401.1, then retries, until the user types the new one.
    fn wrong_password(&mut self, d: &mut Dev, end: i64) {
        self.ordinary(d, self.at(6, 50), |_, _| {});
        self.provision(d, 3);
        self.ordinary(d, self.at(15, 0), |_, _| {});
        self.provision(d, 3);
        self.ordinary(d, self.at(16, 42), |_, _| {});
        let storm_end = d.clock + MIN;
        let until = self.at(17, 31);
        let mut n = 0;
        while d.clock < until {
            let command = [Command::Ping, Command::Sync, Command::FolderSync][n % 3];
            n += 1;
            let ms = self.rng.range(12, 45);
            let mut r = self.request(d, command, &[], ms);
            r.status = 401;
            r.substatus = 1;
            r.win32 = 1326;
            r.log = None;
            if let Route::Proxied { fe, .. } = r.route {
                r.route = Route::FrontEnd { fe };
            }
            self.push(d, r);
            if d.clock >= storm_end {
                d.clock += self.rng.range(2, 6) as i64 * MIN;
            }
        }
        d.clock = self.at(17, 36);
        self.ordinary(d, end, |_, _| {});
    }

    /// cgarcia: every 20–30 minutes the iPhone starts the Inbox over from SyncKey 0; the key it
    /// gets is not found on the next Sync (`Ssnf:T`, folder status 3).
    fn sync_key_zero(&mut self, d: &mut Dev, end: i64) {
        let mut next_reset = d.clock + 15 * MIN;
        while d.clock < end {
            if d.clock >= next_reset && !self.in_outage(d) {
                let mut r = self.sync(d, &[0], 0);
                let fresh = self.rng.range(100_000_000, 1_999_999_999);
                if let Some(f) = r.log.as_mut().and_then(|l| l.folders.first_mut()) {
                    f.sync_type = "F";
                    f.sync_key = "0".into();
                    f.server_key = Some(fresh.to_string());
                    f.server = Some((0, 0, 0));
                    f.filter = None;
                }
                self.push(d, r);
                d.keys[0] = fresh;
                let mut r = self.sync(d, &[0], 0);
                if let Some(l) = r.log.as_mut() {
                    l.state_not_found = true;
                    l.error = Some("SyncStateNotFound".into());
                    if let Some(f) = l.folders.first_mut() {
                        f.server_key = Some("0".into());
                        f.server = None;
                        f.status = Some(3);
                    }
                }
                self.push(d, r);
                next_reset = d.clock + self.rng.range(20, 30) as i64 * MIN;
            }
            self.step(d, d.phone.heartbeat);
        }
    }

    /// dkim: the client does not keep the new SyncKey and sends the same one for 45 minutes.
    fn replay(&mut self, d: &mut Dev, end: i64) {
        self.ordinary(d, self.at(10, 0), |_, _| {});
        let stuck = d.keys[0];
        while d.clock < self.at(10, 45) {
            d.keys[0] = stuck;
            let adds = u32::from(self.rng.chance(30));
            let r = self.sync(d, &[0], adds);
            self.push(d, r);
            d.clock += self.rng.range(15, 60) as i64 * SEC;
        }
        self.ordinary(d, end, |_, _| {});
    }

    /// elee: from noon to two o'clock the phone is on a network whose NAT drops connections after
    /// five minutes. Pings longer than that are answered into a dead connection (200, win32 64);
    /// the device lowers its heartbeat until it goes below the organisation's minimum (`SC1:5`,
    /// `Ping.HbiTooLow`), then settles on 240 until it is back on its usual network.
    fn heartbeat_collapse(&mut self, d: &mut Dev, end: i64) {
        self.ordinary(d, self.at(12, 0), |_, _| {});
        d.ip = 1;
        for hb in [900, 780, 600, 480, 300, 240, 180, 120, 90, 60, 60, 60, 60, 60, 60] {
            let too_low = hb < MIN_HEARTBEAT;
            let mut r = if too_low {
                let ms = self.rng.range(8, 25);
                let mut r = self.request(d, Command::Ping, &[], ms);
                if let Some(l) = r.log.as_mut() {
                    l.heartbeat = Some(hb);
                    l.eas_status = Some(5);
                    l.error = Some("Ping.HbiTooLow".into());
                }
                r
            } else {
                self.ping(d, hb, None)
            };
            if hb > 300 {
                r.win32 = 64;
            }
            self.push(d, r);
            // The device waits for its own timeout on a dead connection, or retries at once.
            d.clock += if hb > 300 {
                30 * SEC
            } else {
                self.rng.range(40, 70) as i64 * SEC
            };
        }
        while d.clock < self.at(14, 0) {
            self.step(d, 240);
        }
        d.ip = 0;
        self.ordinary(d, end, |_, _| {});
    }

    /// hlopez on the Exchange 2010 CAS: the first Sync from `Sk:0` (`Sks1204981531`), Pings of
    /// 1680 seconds with a budget snapshot, and Pings that collide with one still pending.
    fn legacy(&mut self, d: &mut Dev, end: i64) {
        d.clock = self.at(6, 40);
        let ms = self.rng.range(200, 500);
        let r = self.request(d, Command::FolderSync, &[], ms);
        self.push(d, r);
        d.keys[0] = 1_204_981_530;
        let mut r = self.sync(d, &[0], 0);
        if let Some(f) = r.log.as_mut().and_then(|l| l.folders.first_mut()) {
            f.sync_type = "F";
            f.sync_key = "0".into();
            f.filter = None;
            f.server = None;
        }
        self.push(d, r);
        for (h, m) in [(8, 40), (12, 15), (17, 50), (23, 30)] {
            self.ordinary(d, self.at(h, m), |_, _| {});
            if d.clock >= end {
                break;
            }
            // The phone lost track of its pending Ping and sends another: Exchange answers the
            // new one at once.
            let ms = self.rng.range(150, 260);
            let mut r = self.request(d, Command::Ping, &[], ms);
            if let Some(l) = r.log.as_mut() {
                l.heartbeat = Some(d.phone.heartbeat);
                l.eas_status = Some(3);
                l.error = Some("PingCollisionDetected".into());
                l.budget_2010 = true;
            }
            self.push(d, r);
        }
    }

    /// The Windows Phone of the spec's sample: one base64 Sync without a User parameter.
    fn windows_phone(&mut self) {
        const BLOB: &str = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";
        let end_ms = self.at(9, 7) + 12 * SEC;
        self.plan.requests.push(Request {
            exchange: None,
            probe: false,
            end_ms,
            method: "POST",
            stem: ACTIVESYNC_STEM,
            device_query: BLOB.into(),
            plain_query: String::new(),
            // The blob names no user: readers take cs-username.
            user: None,
            device_id: Some("v140Device".into()),
            device_type: Some("SmartPhone".into()),
            command: Some("Sync".into()),
            username: Some("CONTOSO\\hlopez".into()),
            be_username: None,
            client_ip: "198.51.100.20".into(),
            user_agent: "MSFT-WP/8.0.10512".into(),
            status: 200,
            substatus: 0,
            win32: 0,
            time_taken: 240,
            be_time_taken: 240,
            cs_bytes: 402,
            sc_bytes: 611,
            route: Route::Cas { cas: CAS2010 },
            activity_id: None,
            log: Some(Diagnostics {
                eas_status: Some(1),
                version: Some(140),
                folders: vec![Folder {
                    id: "1".into(),
                    class: "Em",
                    filter: Some(2),
                    sync_type: "S",
                    sync_key: "8".into(),
                    server_key: Some("9".into()),
                    ..Folder::default()
                }],
                access_state: Some("AllowedG".into()),
                throttle_ms: Some(0),
                mailbox: CAS2010_MAILBOX.into(),
                ..Diagnostics::default()
            }),
        });
    }

    /// Hourly Managed Availability probes on every front end, and the other virtual
    /// directories: OWA sign-ins, EWS clients, Autodiscover.
    fn probes_and_other_lines(&mut self) {
        for hour in 0..24 {
            for (k, &fe) in FE.iter().enumerate() {
                let end = self.at(hour, 17 + 7 * k as i64) + self.rng.range(0, 900) as i64;
                let be = if (hour + k as i64) % 2 == 0 { MBX01 } else { MBX02 };
                let r = scenario::probe(end, Route::Proxied { fe, be }, &mut self.rng);
                self.plan.requests.push(r);
            }
            if !(6..19).contains(&hour) {
                continue;
            }
            for _ in 0..2 {
                let fe = *self.rng.pick(&FE);
                let end_ms = self.at(hour, 0) + self.rng.below(HOUR as u64) as i64;
                let kind = self.rng.below(3);
                let cafe = format!("&CorrelationID=<empty>;&cafeReqId={};", self.rng.guid());
                let user = ["jdoe", "asmith", "cgarcia", "psharma"][self.rng.below(4) as usize];
                let (method, stem, ua, status, taken) = match kind {
                    0 => (
                        "GET",
                        "/owa/",
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                        200,
                        self.rng.range(40, 400),
                    ),
                    1 => (
                        "POST",
                        "/EWS/Exchange.asmx",
                        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)",
                        200,
                        self.rng.range(30, 900),
                    ),
                    _ => (
                        "POST",
                        "/Autodiscover/Autodiscover.xml",
                        "Apple-iPhone15C2/2107.102",
                        200,
                        self.rng.range(60, 300),
                    ),
                };
                let other = Other {
                    server: fe,
                    end_ms,
                    method,
                    stem,
                    query: cafe,
                    username: Some(format!("contoso\\{user}")),
                    client_ip: format!("198.51.100.{}", 150 + self.rng.below(40)),
                    user_agent: ua.into(),
                    status,
                    substatus: 0,
                    win32: 0,
                    time_taken: taken,
                };
                // The back end's half.
                let be = if self.rng.chance(50) { MBX01 } else { MBX02 };
                self.plan.others.push(Other {
                    server: be,
                    end_ms: end_ms - 2,
                    query: String::new(),
                    username: Some(format!("CONTOSO\\{user}")),
                    client_ip: self.plan.servers[fe].ip.clone(),
                    time_taken: taken.saturating_sub(4),
                    ..other.clone()
                });
                self.plan.others.push(other);
            }
        }
    }
}
