//! The scenario scripts: one believable conversation per scenario and device.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, TimeDelta, TimeZone as _};

use super::content::*;
use super::wire::{Conv, HOST2, Lcg, MULTIPART, RESET_URL, Req, Resp};
use super::{Conversation, Device, Scenario};
use easlens_core::eas::Command;
use easlens_core::wbxml::multipart;

/// Runs one scenario for one device.
pub(super) fn run(scenario: Scenario, device: Device) -> Conversation {
    let (date, time) = match scenario {
        Scenario::Healthy => ((2024, 3, 5), (8, 2, 14)),
        Scenario::ThrottlingStorm => ((2024, 3, 6), (14, 2, 11)),
        Scenario::SyncKeyReset => ((2024, 3, 7), (10, 31, 40)),
        Scenario::PolicyRefresh => ((2024, 3, 8), (7, 45, 3)),
        Scenario::PolicyRefreshLegacy => ((2024, 3, 8), (16, 20, 52)),
        Scenario::CalendarItemLifecycle => ((2024, 3, 11), (9, 12, 30)),
        Scenario::RedirectAndAuth => ((2024, 3, 12), (11, 5, 9)),
        Scenario::CalendarFailures => ((2024, 3, 13), (8, 41, 17)),
        Scenario::ItemFailures => ((2024, 3, 14), (13, 7, 52)),
        Scenario::ItemNearMisses => ((2024, 3, 15), (10, 18, 6)),
    };
    let seed = (scenario as u64 + 1) * 1000 + device as u64;
    let mut c = Conv::new(device, local_time(device, date, time), seed);
    match scenario {
        Scenario::Healthy => healthy(&mut c),
        Scenario::ThrottlingStorm => throttling_storm(&mut c),
        Scenario::SyncKeyReset => sync_key_reset(&mut c),
        Scenario::PolicyRefresh => policy_refresh(&mut c),
        Scenario::PolicyRefreshLegacy => policy_refresh_legacy(&mut c),
        Scenario::CalendarItemLifecycle => calendar_lifecycle(&mut c),
        Scenario::RedirectAndAuth => redirect_and_auth(&mut c),
        Scenario::CalendarFailures => calendar_failures(&mut c),
        Scenario::ItemFailures => item_failures(&mut c),
        Scenario::ItemNearMisses => item_near_misses(&mut c),
    }
    Conversation {
        trace: c.out,
        after_capture: c.after_capture,
    }
}

/// The device's local time: the iPhone is in Central Europe (+01:00), the Android phone on the US
/// east coast (-05:00).
pub(super) fn local_time(
    device: Device,
    (y, m, d): (i32, u32, u32),
    (hh, mm, ss): (u32, u32, u32),
) -> DateTime<FixedOffset> {
    let offset = match device {
        Device::IPhone => FixedOffset::east_opt(3600),
        Device::Android => FixedOffset::west_opt(5 * 3600),
    }
    .unwrap_or_else(|| chrono::Utc.fix());
    let naive = NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(hh, mm, ss))
        .unwrap_or_default();
    offset
        .from_local_datetime(&naive)
        .single()
        .unwrap_or_else(|| offset.from_utc_datetime(&naive))
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

fn sync_req(c: &Conv, collections: &[CollReq]) -> Req {
    Req::post(Command::Sync, wbxml(&sync_request(c.device, c.version, collections)))
}

/// The device sends one operation (`command`) to a collection and Exchange applies it: the
/// answer holds the next SyncKey and nothing else, which `key` becomes.
fn upload_accepted(c: &mut Conv, collection: &'static str, class: Class, key: &mut u64, command: String) {
    let req = sync_req(c, &[CollReq::upload(collection, class, *key, command)]);
    c.send(req, ok(&sync_response(&[CollResp::new(collection, *key + 1)])));
    *key += 1;
}

fn ok(xml: &str) -> Resp {
    Resp::ok(wbxml(xml))
}

fn ping_req(c: &Conv, folders: &[(&str, &str)]) -> Req {
    Req::post(Command::Ping, wbxml(&ping_request(heartbeat(c.device), folders)))
}

fn heartbeat(device: Device) -> u32 {
    match device {
        Device::IPhone => 900,
        Device::Android => 470,
    }
}

/// A Ping that ended with the heartbeat (Status 1).
fn ping_expired(c: &mut Conv) {
    let req = ping_req(c, PING_FOLDERS);
    let ms = heartbeat(c.device) * 1000 + c.rng.range(20, 900);
    c.send_timed(req, ok(&ping_response(1, &[])), ms);
}

/// A Ping answered early because `folders` changed (Status 2).
fn ping_changes(c: &mut Conv, folders: &[&str], after_secs: u32) {
    let req = ping_req(c, PING_FOLDERS);
    let ms = after_secs * 1000 + c.rng.range(20, 900);
    c.send_timed(req, ok(&ping_response(2, folders)), ms);
}

/// A plausible initial SyncKey (Exchange hands out large integers and counts up).
fn new_key(rng: &mut Lcg) -> u64 {
    u64::from(rng.range(100_000_000, 1_999_999_999))
}

fn policy_key(rng: &mut Lcg) -> u32 {
    rng.range(1_000_000_000, 4_000_000_000)
}

/// Provisioned device: a final policy key.
fn provisioned(c: &mut Conv) {
    c.policy_key = Some(policy_key(&mut c.rng));
}

/// Emails `5:first..` received shortly before now, one Add each.
fn emails(c: &mut Conv, first: u32, count: u32) -> Vec<Email> {
    (0..count)
        .map(|i| {
            let received = c.clock - TimeDelta::seconds(i64::from((count - i) * c.rng.range(40, 900)));
            let len = c.rng.range(900, 6000) as usize;
            Email::generate(&mut c.rng, format!("{INBOX}:{}", first + i), received, len)
        })
        .collect()
}

pub(super) fn email_adds(version: &str, list: &[Email]) -> String {
    list.iter()
        .map(|e| add(&e.server_id, &email_data(e, version)))
        .collect()
}

/// A small PDF-looking attachment.
fn fake_pdf(rng: &mut Lcg, len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n4 0 obj\n<< /Length 0 /Filter /FlateDecode >>\nstream\n".to_vec();
    while b.len() + 40 < len {
        b.push((rng.next_u32() >> 24) as u8);
    }
    b.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    b
}

fn options_response(versions: &str, commands: &str) -> Resp {
    Resp::status(200, "OK")
        .header("Allow", "OPTIONS,POST")
        .header("MS-ASProtocolVersions", versions)
        .header("MS-ASProtocolCommands", commands)
        .header("Public", "OPTIONS,POST")
}

const VERSIONS_16: &str = "2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1";
const COMMANDS_16: &str = "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert,Find";
const VERSIONS_12: &str = "2.0,2.1,2.5,12.0,12.1";
const COMMANDS_12: &str = "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert";

/// Two-step provisioning ([MS-ASPROV] 3.1.5.1): policy download with a temporary key, then the
/// acknowledgement that returns the final key.
fn provision(c: &mut Conv, with_device_information: bool) {
    let temp = policy_key(&mut c.rng);
    let req = Req::post(
        Command::Provision,
        wbxml(&provision_request(c.device, with_device_information)),
    );
    c.send(req, ok(&provision_policy_response(temp, with_device_information)));
    c.policy_key = Some(temp);
    let final_key = policy_key(&mut c.rng);
    let req = Req::post(Command::Provision, wbxml(&provision_ack(temp)));
    c.send(req, ok(&provision_ack_response(final_key)));
    c.policy_key = Some(final_key);
}

// ---------------------------------------------------------------------------------------------
// 1. Healthy
// ---------------------------------------------------------------------------------------------

/// A new account set up and used for a while: everything 200, every Status a success.
fn healthy(c: &mut Conv) {
    let d = c.device;
    c.send(Req::options(), options_response(VERSIONS_16, COMMANDS_16));
    provision(c, true);

    let folder_key = 1;
    let req = Req::post(Command::FolderSync, wbxml(&folder_sync_request("0")));
    c.send(req, ok(&folder_sync_initial(&folder_key.to_string())));

    let req = Req::post(Command::Settings, wbxml(&settings_request(d)));
    c.send(req, ok(&settings_response()));

    // Initial Sync of mail, calendar and contacts.
    let mut k5 = new_key(&mut c.rng);
    let (k1, k3) = (new_key(&mut c.rng), new_key(&mut c.rng));
    let req = sync_req(
        c,
        &[
            CollReq::initial(INBOX, Class::Email),
            CollReq::initial(CALENDAR, Class::Calendar),
            CollReq::initial(CONTACTS, Class::Contacts),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5),
        CollResp::new(CALENDAR, k1),
        CollResp::new(CONTACTS, k3),
    ]);
    c.send(req, ok(&resp));

    // First content: five emails, two meetings, three contacts.
    let mail = emails(c, 1, 5);
    let tz = timezone(*c.clock.offset());
    let meetings: Vec<Appointment> = [
        ("Weekly team sync", "Teams meeting", 1, 30),
        ("1:1 Jordan / Priya", "Priya's office", 2, 30),
    ]
    .iter()
    .map(|(subject, location, days, minutes)| {
        let start = c.clock + TimeDelta::days(*days) + TimeDelta::hours(2);
        Appointment {
            uid: goid_hex(&mut c.rng, c.clock - TimeDelta::days(20)),
            subject: subject.to_string(),
            location: location.to_string(),
            start,
            end: plus_minutes(start, *minutes),
            dtstamp: c.clock - TimeDelta::days(20),
            organizer: PEOPLE[1],
            attendees: vec![JDOE],
            meeting_status: 3,
            busy_status: 2,
            reminder: 15,
            body: prose(&mut c.rng, 160),
            timezone: tz.clone(),
            recurrence: None,
            exceptions: Vec::new(),
        }
    })
    .collect();
    let cal_adds: String = meetings
        .iter()
        .enumerate()
        .map(|(i, m)| {
            add(
                &format!("{CALENDAR}:{}", i + 1),
                &calendar_data(m, c.version, false, None),
            )
        })
        .collect();
    let contacts = [
        contact_data("Alex", "Chen", "alex.chen@fabrikam.com", "Fabrikam", "+1 555 0100 101"),
        contact_data(
            "Priya",
            "Natarajan",
            "priya.natarajan@contoso.com",
            "Contoso",
            "+1 555 0100 102",
        ),
        contact_data(
            "Sofia",
            "Lindqvist",
            "sofia.lindqvist@example.org",
            "Example Org",
            "+46 555 0100 103",
        ),
    ];
    let contact_adds: String = contacts
        .iter()
        .enumerate()
        .map(|(i, data)| add(&format!("{CONTACTS}:{}", i + 1), data))
        .collect();
    let req = sync_req(
        c,
        &[
            CollReq::changes(INBOX, Class::Email, k5),
            CollReq::changes(CALENDAR, Class::Calendar, k1),
            CollReq::changes(CONTACTS, Class::Contacts, k3),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &mail)),
        CollResp::new(CALENDAR, k1 + 1).commands(cal_adds),
        CollResp::new(CONTACTS, k3 + 1).commands(contact_adds),
    ]);
    k5 += 1;
    c.send(req, ok(&resp).gzip());

    // Idle: a heartbeat, then a new email with an attachment.
    ping_expired(c);
    ping_changes(c, &[INBOX], 97);
    let mut new_mail = emails(c, 6, 1);
    let pdf = fake_pdf(&mut c.rng, 4800);
    let file_reference = format!("{INBOX}%3a6%3a0");
    new_mail[0].subject = "Draft contract, second round".into();
    new_mail[0].from = PEOPLE[0];
    new_mail[0].attachment = Some(Attachment {
        name: "Contract-draft-v2.pdf".into(),
        file_reference: file_reference.clone(),
        content_type: "application/pdf",
        bytes: pdf,
    });
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    let resp = sync_response(&[CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &new_mail))]);
    k5 += 1;
    c.send(req, ok(&resp).gzip());

    // The user opens the attachment: multipart ItemOperations.
    let attachment = new_mail[0].attachment.clone().unwrap_or_else(|| unreachable!());
    let req = Req::post(
        Command::ItemOperations,
        wbxml(&fetch_attachment_request(&file_reference)),
    )
    .multipart();
    let part0 = wbxml(&fetch_attachment_response(&file_reference, attachment.content_type));
    let body = multipart::build(&[&part0, &attachment.bytes]);
    c.send(req, Resp::ok(body).content_type(MULTIPART).chunked());

    // The user replies.
    let mime = outgoing_mime(
        d,
        new_mail[0].from,
        &format!("Re: {}", new_mail[0].subject),
        "Thanks, I will go through it tonight and send comments tomorrow.",
        c.clock,
    );
    let client_id = match d {
        Device::IPhone => c.rng.guid(),
        Device::Android => format!("SendMail-{}", c.clock.timestamp_millis()),
    };
    let req = Req::post(Command::SendMail, wbxml(&send_mail(&client_id, &mime)));
    c.send(req, Resp::ok_empty());

    // A burst of newsletters: more than one window.
    ping_changes(c, &[INBOX], 412);
    let burst = emails(c, 7, 14);
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5).window(10)]);
    let resp = sync_response(&[CollResp::new(INBOX, k5 + 1)
        .more_available()
        .commands(email_adds(c.version, &burst[..10]))]);
    k5 += 1;
    c.send(req, ok(&resp).gzip_chunked());
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5).window(10)]);
    let resp = sync_response(&[CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &burst[10..]))]);
    c.send(req, ok(&resp).gzip());
    ping_expired(c);

    // The engineer stops the capture; the device goes on (only the mailbox log has this Ping).
    c.stop_capture();
    ping_expired(c);
}

// ---------------------------------------------------------------------------------------------
// 2. ThrottlingStorm
// ---------------------------------------------------------------------------------------------

/// The device does not adopt the new SyncKey and hammers one folder until Exchange throttles it.
fn throttling_storm(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let k5 = new_key(&mut c.rng);
    ping_changes(c, &[INBOX], 38);
    let item = emails(c, 77, 1);
    let adds = email_adds(c.version, &item);
    for i in 0..12 {
        let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
        let resp = ok(&sync_response(&[
            CollResp::new(INBOX, k5 + 1 + i).commands(adds.clone())
        ]));
        let resp = if i % 3 == 0 { resp.gzip() } else { resp };
        c.send(req, resp);
        let p = i64::from(c.rng.range(0, 2));
        c.pause(p);
    }
    let (reason, retry_after) = match d {
        Device::IPhone => ("CommandFrequency", Some("600")),
        Device::Android => ("RecentCommands", None),
    };
    for (n, wait) in [(1, 0), (2, 4), (3, 7)] {
        c.pause(wait);
        let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
        let mut resp = Resp::status(503, "Service Unavailable").header("X-MS-ASThrottle", reason);
        if let Some(r) = retry_after {
            resp = resp.header("Retry-After", r);
        }
        let ex = c.send(req, resp);
        if n == 1 {
            ex.comment = Some("throttled after 12 identical Syncs".into());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. SyncKeyReset
// ---------------------------------------------------------------------------------------------

/// Server errors on Sync, then the device starts the Inbox over from SyncKey 0 and gets every
/// item again.
fn sync_key_reset(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let mut k5 = new_key(&mut c.rng);

    // A long Ping that the network dropped.
    let req = ping_req(c, PING_FOLDERS);
    let ms = c.rng.range(180_000, 320_000);
    c.abort(req, ms).comment = Some("long Ping, connection dropped".into());

    let mut seen = emails(c, 41, 2);
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    c.send(
        req,
        ok(&sync_response(&[
            CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &seen))
        ]))
        .gzip(),
    );
    k5 += 1;
    let more = emails(c, 43, 1);
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    c.send(
        req,
        ok(&sync_response(&[
            CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &more))
        ])),
    );
    k5 += 1;
    seen.extend(more);

    let errors = match d {
        Device::IPhone => 3,
        Device::Android => 2,
    };
    for _ in 0..errors {
        let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
        let page = "<html><head><title>500 - Internal server error.</title></head><body><h2>500 - Internal server error.</h2><h3>There is a problem with the resource you are looking for, and it cannot be displayed.</h3></body></html>";
        c.send(req, Resp::status(500, "Internal Server Error").text("text/html", page));
        let p = i64::from(c.rng.range(2, 6));
        c.pause(p);
    }
    if d == Device::Android {
        // Exchange lost the sync state: Status 3, the device must start over.
        let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
        c.send(req, ok(&sync_response(&[CollResp::new(INBOX, 0).status(3)])));
    }

    let req = sync_req(c, &[CollReq::initial(INBOX, Class::Email)]);
    let fresh = new_key(&mut c.rng);
    c.send(req, ok(&sync_response(&[CollResp::new(INBOX, fresh)]))).comment =
        Some("Inbox resynchronised from SyncKey 0".into());
    let mut again = seen.clone();
    again.extend(emails(c, 44, 1));
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, fresh)]);
    c.send(
        req,
        ok(&sync_response(&[
            CollResp::new(INBOX, fresh + 1).commands(email_adds(c.version, &again))
        ]))
        .chunked(),
    );
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, fresh + 1)]);
    c.send(req, Resp::ok_empty());
    ping_expired(c);
}

// ---------------------------------------------------------------------------------------------
// 4. PolicyRefresh
// ---------------------------------------------------------------------------------------------

/// The policy changed on the server. The iPhone provisions again; the Android client repeats its
/// commands without provisioning (the client bug of failure pattern 5).
fn policy_refresh(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let mut k5 = new_key(&mut c.rng);
    let folder_key = c.rng.range(3, 30);
    let first = emails(c, 51, 1);
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    c.send(
        req,
        ok(&sync_response(&[
            CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &first))
        ])),
    );
    k5 += 1;
    match d {
        Device::IPhone => {
            ping_expired(c);
            let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
            c.send(req, ok(&sync_status(144)));
            provision(c, true);
            let next = emails(c, 52, 1);
            let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
            c.send(
                req,
                ok(&sync_response(&[
                    CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &next))
                ])),
            );
            ping_expired(c);
        }
        Device::Android => {
            let loop_statuses = [143, 143, 143, 143, 142, 142, 142];
            for (i, status) in loop_statuses.into_iter().enumerate() {
                let (req, body) = if i % 2 == 0 {
                    (
                        sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]),
                        sync_status(status),
                    )
                } else {
                    let req = Req::post(
                        Command::FolderSync,
                        wbxml(&folder_sync_request(&folder_key.to_string())),
                    );
                    (req, folder_sync_status(status))
                };
                c.send(req, ok(&body));
                let p = i64::from(c.rng.range(1, 8));
                c.pause(p);
            }
        }
    }
}

/// Against an Exchange 2007 (EAS 12.1) server, which asks for provisioning with HTTP 449. The
/// iPhone provisions and retries; the Android client loops.
fn policy_refresh_legacy(c: &mut Conv) {
    let d = c.device;
    c.version = "12.1";
    c.server_build = "8.3";
    c.iis = "Microsoft-IIS/7.5";
    provisioned(c);
    let folder_key = c.rng.range(3, 30);
    let k5 = new_key(&mut c.rng);
    c.send(Req::options(), options_response(VERSIONS_12, COMMANDS_12));
    let retry = || Resp::status(449, "Retry after sending a PROVISION command");
    match d {
        Device::IPhone => {
            let req = Req::post(
                Command::FolderSync,
                wbxml(&folder_sync_request(&folder_key.to_string())),
            );
            c.send(req, retry());
            provision(c, false);
            let req = Req::post(
                Command::FolderSync,
                wbxml(&folder_sync_request(&folder_key.to_string())),
            );
            c.send(req, ok(&folder_sync_unchanged(&folder_key.to_string())));
            let mail = emails(c, 21, 2);
            let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
            c.send(
                req,
                ok(&sync_response(&[
                    CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &mail))
                ])),
            );
        }
        Device::Android => {
            for i in 0..6 {
                let req = if i % 2 == 0 {
                    Req::post(
                        Command::FolderSync,
                        wbxml(&folder_sync_request(&folder_key.to_string())),
                    )
                } else {
                    sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)])
                };
                c.send(req, retry());
                let p = i64::from(c.rng.range(2, 10));
                c.pause(p);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. CalendarItemLifecycle
// ---------------------------------------------------------------------------------------------

/// One meeting from invitation to cancellation, plus an appointment the user creates.
fn calendar_lifecycle(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let (mut k5, mut k1) = (new_key(&mut c.rng), new_key(&mut c.rng));
    let tz = timezone(*c.clock.offset());
    let start = local_time(d, (2024, 3, 13), (14, 0, 0));
    let mut meeting = Appointment {
        uid: goid_hex(&mut c.rng, c.clock - TimeDelta::minutes(3)),
        subject: "Quarterly planning review".into(),
        location: "Conf Room 4.12 (Building 2)".into(),
        start,
        end: plus_minutes(start, 60),
        dtstamp: c.clock - TimeDelta::minutes(3),
        organizer: PEOPLE[1],
        attendees: vec![JDOE, PEOPLE[2]],
        meeting_status: 3,
        busy_status: 1,
        reminder: 15,
        body: "Agenda: Q1 results, Q2 targets, hiring plan. Please bring your team's numbers.".into(),
        timezone: tz.clone(),
        recurrence: None,
        exceptions: Vec::new(),
    };
    let meeting_id = format!("{CALENDAR}:25");

    // The invitation arrives: a meeting request in the Inbox and the item in the Calendar.
    ping_changes(c, &[INBOX, CALENDAR], 45);
    let mut invite = emails(c, 31, 1).remove(0);
    invite.from = meeting.organizer;
    invite.subject = meeting.subject.clone();
    invite.message_class = "IPM.Schedule.Meeting.Request";
    invite.meeting = Some(MeetingRef::new(meeting.clone(), 1));
    let req = sync_req(
        c,
        &[
            CollReq::changes(INBOX, Class::Email, k5),
            CollReq::changes(CALENDAR, Class::Calendar, k1),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, std::slice::from_ref(&invite))),
        CollResp::new(CALENDAR, k1 + 1).commands(add(&meeting_id, &calendar_data(&meeting, c.version, false, None))),
    ]);
    (k5, k1) = (k5 + 1, k1 + 1);
    c.send(req, ok(&resp).gzip());

    // The user changes the reminder on the device.
    let mut edited = meeting.clone();
    edited.reminder = 30;
    upload_accepted(
        c,
        CALENDAR,
        Class::Calendar,
        &mut k1,
        change(&meeting_id, &calendar_data(&edited, c.version, true, None)),
    );
    meeting.reminder = 30;

    // The user creates an appointment: client Add with ClientId, answered with the ServerId.
    let dentist_start = local_time(d, (2024, 3, 14), (8, 30, 0));
    let dentist = Appointment {
        uid: c.rng.guid(),
        subject: "Dentist".into(),
        location: "Harbour Dental, 12 Quay St".into(),
        start: dentist_start,
        end: plus_minutes(dentist_start, 45),
        dtstamp: c.clock,
        organizer: JDOE,
        attendees: Vec::new(),
        meeting_status: 0,
        busy_status: 2,
        reminder: 60,
        body: String::new(),
        timezone: tz,
        recurrence: None,
        exceptions: Vec::new(),
    };
    let client_id = match d {
        Device::IPhone => c.rng.guid(),
        Device::Android => c.rng.range(100, 999).to_string(),
    };
    let client_uid = (d == Device::IPhone).then(|| c.rng.guid());
    let req = sync_req(
        c,
        &[CollReq::upload(
            CALENDAR,
            Class::Calendar,
            k1,
            client_add(
                &client_id,
                &calendar_data(&dentist, c.version, true, client_uid.as_deref()),
            ),
        )],
    );
    let resp =
        sync_response(
            &[CollResp::new(CALENDAR, k1 + 1).responses(add_response(&client_id, &format!("{CALENDAR}:26")))],
        );
    c.send(req, ok(&resp));
    k1 += 1;

    // The organizer moves the meeting: an update in the Inbox and a Change in the Calendar.
    ping_changes(c, &[INBOX, CALENDAR], 611);
    meeting.subject = "Quarterly planning review (moved to Thursday)".into();
    meeting.start = local_time(d, (2024, 3, 14), (15, 0, 0));
    meeting.end = plus_minutes(meeting.start, 60);
    meeting.dtstamp = c.clock - TimeDelta::seconds(40);
    let mut update = emails(c, 32, 1).remove(0);
    update.from = meeting.organizer;
    update.subject = meeting.subject.clone();
    update.message_class = "IPM.Schedule.Meeting.Request";
    update.meeting = Some(MeetingRef::new(meeting.clone(), 1));
    let req = sync_req(
        c,
        &[
            CollReq::changes(INBOX, Class::Email, k5),
            CollReq::changes(CALENDAR, Class::Calendar, k1),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, std::slice::from_ref(&update))),
        CollResp::new(CALENDAR, k1 + 1).commands(change(&meeting_id, &calendar_data(&meeting, c.version, false, None))),
    ]);
    (k5, k1) = (k5 + 1, k1 + 1);
    c.send(req, ok(&resp).chunked());

    match d {
        Device::IPhone => {
            // The organizer cancels: a cancellation in the Inbox, a Delete in the Calendar.
            ping_changes(c, &[INBOX, CALENDAR], 233);
            meeting.dtstamp = c.clock - TimeDelta::seconds(25);
            let mut cancel = emails(c, 33, 1).remove(0);
            cancel.from = meeting.organizer;
            cancel.subject = format!("Canceled: {}", meeting.subject);
            cancel.message_class = "IPM.Schedule.Meeting.Canceled";
            cancel.meeting = Some(MeetingRef::new(meeting.clone(), 0));
            let req = sync_req(
                c,
                &[
                    CollReq::changes(INBOX, Class::Email, k5),
                    CollReq::changes(CALENDAR, Class::Calendar, k1),
                ],
            );
            let resp = sync_response(&[
                CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, std::slice::from_ref(&cancel))),
                CollResp::new(CALENDAR, k1 + 1).commands(delete(&meeting_id)),
            ]);
            c.send(req, ok(&resp).gzip());
        }
        Device::Android => {
            // The user deletes the meeting on the device.
            upload_accepted(c, CALENDAR, Class::Calendar, &mut k1, delete(&meeting_id));
        }
    }
    ping_expired(c);
}

// ---------------------------------------------------------------------------------------------
// 6. RedirectAndAuth
// ---------------------------------------------------------------------------------------------

/// The mailbox moved (451), then the password expired: 401s with credentials, then 457 (iPhone)
/// or 456 (Android, account locked out).
fn redirect_and_auth(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let k5 = new_key(&mut c.rng);
    let folder_key = c.rng.range(3, 30).to_string();
    let location = format!("https://{HOST2}/Microsoft-Server-ActiveSync");
    let redirect = || Resp::status(451, "Redirect").header("X-MS-Location", location.clone());

    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    c.send(req, redirect());
    if d == Device::Android {
        // Not followed at first: the same host again.
        c.pause(3);
        let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
        c.send(req, redirect());
        c.pause(5);
        let req = Req::post(Command::FolderSync, wbxml(&folder_sync_request(&folder_key)));
        c.send(req, redirect());
    }
    c.host = HOST2;
    c.path = "/Microsoft-Server-ActiveSync";
    if d == Device::IPhone {
        let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
        let page = format!(
            "[Fiddler] The connection to '{HOST2}' failed. <br />Error: TimedOut (0x274c). <br />System.Net.Sockets.SocketException A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond 203.0.113.25:443"
        );
        let resp = Resp::status(502, "Fiddler - Connection Failed")
            .text("text/html; charset=UTF-8", &page)
            .by_proxy();
        c.send_timed(req, resp, 21_043);
    }
    let mail = emails(c, 61, 1);
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    let resp = ok(&sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &mail))
    ]))
    .gzip()
    .header("X-MS-Credentials-Expire", "0");
    c.send(req, resp);
    let k5 = k5 + 1;
    if d == Device::IPhone {
        let req = ping_req(c, PING_FOLDERS);
        let ms = heartbeat(d) * 1000 + 310;
        c.send_timed(
            req,
            ok(&ping_response(1, &[])).header("X-MS-Credentials-Expire", "0"),
            ms,
        );
    } else {
        c.pause(1800);
    }

    // The password has expired: every request carries the old credentials and gets 401.
    let unauthorized = |n: usize| {
        let mut r = Resp::status(401, "Unauthorized").header("WWW-Authenticate", format!("Basic realm=\"{HOST2}\""));
        if n < 2 {
            r = r.header("X-MS-Credentials-Expire", "0");
        }
        if n == 3 {
            r = r.header("X-MS-Credential-Service-Url", RESET_URL);
        }
        r
    };
    for n in 0..5 {
        let req = match n % 3 {
            0 => ping_req(c, PING_FOLDERS),
            1 => sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]),
            _ => Req::post(Command::FolderSync, wbxml(&folder_sync_request(&folder_key))),
        };
        c.send(req, unauthorized(n));
        let p = i64::from(c.rng.range(4, 15));
        c.pause(p);
    }
    let req = Req::post(Command::FolderSync, wbxml(&folder_sync_request(&folder_key)));
    let last = match d {
        Device::IPhone => Resp::status(457, "Expired Password").header("X-MS-Credential-Service-Url", RESET_URL),
        Device::Android => Resp::status(456, "Blocked"),
    };
    c.send(req, last);
}

// ---------------------------------------------------------------------------------------------
// 7. CalendarFailures, ItemFailures, ItemNearMisses
// ---------------------------------------------------------------------------------------------

/// A meeting the user was invited to (MeetingStatus 3), created by `organizer` days ago.
fn received_meeting(
    c: &mut Conv,
    (subject, location): (&str, &str),
    start: DateTime<FixedOffset>,
    minutes: i64,
    organizer: Person,
    recurrence: Option<Recurrence>,
) -> Appointment {
    let created = c.clock - TimeDelta::days(6);
    Appointment {
        uid: goid_hex(&mut c.rng, created),
        subject: subject.into(),
        location: location.into(),
        start,
        end: plus_minutes(start, minutes),
        dtstamp: created,
        organizer,
        attendees: vec![JDOE, PEOPLE[2]],
        meeting_status: 3,
        busy_status: 2,
        reminder: 15,
        body: prose(&mut c.rng, 90),
        timezone: timezone(*c.clock.offset()),
        recurrence,
        exceptions: Vec::new(),
    }
}

/// Like [`emails`], with short bodies (600–1200 bytes): the item scenarios are about the items,
/// and the bundled samples stay small.
fn short_emails(c: &mut Conv, first: u32, count: u32) -> Vec<Email> {
    (0..count)
        .map(|i| {
            let received = c.clock - TimeDelta::seconds(i64::from((count - i) * c.rng.range(40, 900)));
            let len = c.rng.range(600, 1200) as usize;
            Email::generate(&mut c.rng, format!("{INBOX}:{}", first + i), received, len)
        })
        .collect()
}

/// Email `5:number`: a meeting request or cancellation from the meeting's organizer.
fn meeting_email(
    c: &mut Conv,
    number: u32,
    message_class: &'static str,
    subject: String,
    meeting: MeetingRef,
) -> Email {
    let mut e = short_emails(c, number, 1).remove(0);
    e.from = meeting.appointment.organizer;
    e.subject = subject;
    e.message_class = message_class;
    e.meeting = Some(meeting);
    e
}

/// Read and flagged on the device: the ApplicationData of an email Change.
fn read_and_flagged() -> String {
    format!(
        r#"{}<Flag xmlns="Email:"><Status>2</Status><FlagType>Follow up</FlagType></Flag>"#,
        ns("Email", "Read", 1)
    )
}

/// The device's own id for a client Add (a GUID on iOS, a small number on Android).
fn client_id(c: &mut Conv) -> String {
    match c.device {
        Device::IPhone => c.rng.guid(),
        Device::Android => c.rng.range(100, 999).to_string(),
    }
}

/// Calendar items that go wrong on the device (item-level failure patterns 9 to 12 and 14).
fn calendar_failures(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let (mut k5, mut k1) = (new_key(&mut c.rng), new_key(&mut c.rng));

    // Three invitations reach the calendar: a monthly series on day 31 (pattern 12), a weekly
    // series and a single meeting.
    ping_changes(c, &[CALENDAR], 52);
    let budget = received_meeting(
        c,
        ("Monthly budget review", "Finance room 3.02"),
        local_time(d, (2024, 1, 31), (10, 0, 0)),
        60,
        PEOPLE[3],
        Some(Recurrence::monthly(1, 31)),
    );
    let team = received_meeting(
        c,
        ("Weekly team sync", "Teams meeting"),
        local_time(d, (2024, 3, 5), (9, 30, 0)),
        30,
        PEOPLE[1],
        Some(Recurrence::weekly(1, 4)),
    );
    let vendor = received_meeting(
        c,
        ("Vendor onboarding", "Conf Room 2.07 (Building 1)"),
        local_time(d, (2024, 3, 15), (13, 0, 0)),
        90,
        PEOPLE[4],
        None,
    );
    let (team_id, vendor_id) = (format!("{CALENDAR}:41"), format!("{CALENDAR}:42"));
    let adds: String = [
        (format!("{CALENDAR}:40"), &budget),
        (team_id.clone(), &team),
        (vendor_id.clone(), &vendor),
    ]
    .iter()
    .map(|(id, a)| add(id, &calendar_data(a, c.version, false, None)))
    .collect();
    let req = sync_req(c, &[CollReq::changes(CALENDAR, Class::Calendar, k1)]);
    c.send(
        req,
        ok(&sync_response(&[CollResp::new(CALENDAR, k1 + 1).commands(adds)])).gzip(),
    );
    k1 += 1;

    // Pattern 10: the device sends the attendee's copy back with the user as its organizer.
    let mut hijacked = vendor.clone();
    hijacked.organizer = JDOE;
    hijacked.meeting_status = 1;
    upload_accepted(
        c,
        CALENDAR,
        Class::Calendar,
        &mut k1,
        change(&vendor_id, &calendar_data(&hijacked, c.version, true, None)),
    );

    // Pattern 11a: a fourth meeting, then an update of it older than the copy it replaces.
    ping_changes(c, &[CALENDAR], 140);
    let mut design = received_meeting(
        c,
        ("Design review", "Conf Room 4.12 (Building 2)"),
        local_time(d, (2024, 3, 18), (11, 0, 0)),
        60,
        PEOPLE[5],
        None,
    );
    let design_id = format!("{CALENDAR}:43");
    let delivered = c.clock - TimeDelta::seconds(35);
    design.dtstamp = delivered;
    let req = sync_req(c, &[CollReq::changes(CALENDAR, Class::Calendar, k1)]);
    let resp = sync_response(&[
        CollResp::new(CALENDAR, k1 + 1).commands(add(&design_id, &calendar_data(&design, c.version, false, None)))
    ]);
    c.send(req, ok(&resp));
    k1 += 1;
    ping_changes(c, &[CALENDAR], 380);
    design.location = "Conf Room 1.03 (Building 1)".into();
    design.dtstamp = delivered - TimeDelta::minutes(10);
    let req = sync_req(c, &[CollReq::changes(CALENDAR, Class::Calendar, k1)]);
    let resp =
        sync_response(&[CollResp::new(CALENDAR, k1 + 1)
            .commands(change(&design_id, &calendar_data(&design, c.version, false, None)))]);
    c.send(req, ok(&resp));
    k1 += 1;

    // Pattern 11b: on EAS 16.1 the iPhone moves one occurrence of the series the 14.x way,
    // with Exceptions/ExceptionStartTime and no InstanceId. (On 14.1 that is the right way.)
    if d == Device::IPhone {
        let from = local_time(d, (2024, 3, 26), (9, 30, 0));
        let to = local_time(d, (2024, 3, 27), (9, 30, 0));
        let mut edited = team.clone();
        edited.exceptions = vec![Exception {
            exception_start: from,
            by_instance_id: false,
            deleted: false,
            moved_to: Some((to, plus_minutes(to, 30))),
        }];
        upload_accepted(
            c,
            CALENDAR,
            Class::Calendar,
            &mut k1,
            change(&team_id, &calendar_data(&edited, c.version, true, None)),
        );
    }

    // Pattern 9: one occurrence of the weekly series is cancelled, but the message reads as a
    // single meeting (InstanceType 0, no RecurrenceId); the device deletes the whole series.
    ping_changes(c, &[INBOX], 95);
    let occurrence = local_time(d, (2024, 3, 19), (9, 30, 0));
    let mut cancelled = team.clone();
    cancelled.start = occurrence;
    cancelled.end = plus_minutes(occurrence, 30);
    cancelled.recurrence = None;
    cancelled.dtstamp = c.clock - TimeDelta::seconds(50);
    let subject = format!("Canceled: {}", team.subject);
    let cancel = meeting_email(
        c,
        58,
        "IPM.Schedule.Meeting.Canceled",
        subject,
        MeetingRef::new(cancelled, 0),
    );
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    let resp =
        sync_response(&[CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, std::slice::from_ref(&cancel)))]);
    c.send(req, ok(&resp).gzip());
    k5 += 1;
    upload_accepted(c, CALENDAR, Class::Calendar, &mut k1, delete(&team_id));

    // Pattern 14: an invitation, accepted four times over.
    ping_changes(c, &[INBOX], 210);
    let mut board = received_meeting(
        c,
        ("Architecture board", "Conf Room 4.12 (Building 2)"),
        local_time(d, (2024, 3, 20), (15, 0, 0)),
        60,
        PEOPLE[2],
        None,
    );
    board.attendees = vec![JDOE, PEOPLE[0]];
    board.dtstamp = c.clock - TimeDelta::seconds(70);
    let request_id = format!("{INBOX}:60");
    let subject = board.subject.clone();
    let invite = meeting_email(
        c,
        60,
        "IPM.Schedule.Meeting.Request",
        subject,
        MeetingRef::new(board, 1),
    );
    let req = sync_req(c, &[CollReq::changes(INBOX, Class::Email, k5)]);
    let resp =
        sync_response(&[CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, std::slice::from_ref(&invite)))]);
    c.send(req, ok(&resp));
    for wait in [0, 4, 17, 52] {
        c.pause(wait);
        let req = Req::post(
            Command::MeetingResponse,
            wbxml(&meeting_response_request(INBOX, &request_id, 1)),
        );
        let calendar_id = format!("{CALENDAR}:45");
        c.send(req, ok(&meeting_response_response(&request_id, 1, Some(&calendar_id))));
    }
    ping_expired(c);
}

/// Items that go wrong (item-level failure patterns 13, 15 and 16).
fn item_failures(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let (mut k5, k3) = (new_key(&mut c.rng), new_key(&mut c.rng));

    // Two contacts and three emails: one body cut at 512 bytes, one not sent at all.
    ping_changes(c, &[INBOX, CONTACTS], 64);
    const ELENA: (&str, &str, &str, &str, &str) = (
        "Elena",
        "Petrova",
        "elena.petrova@northwind.example",
        "Northwind Traders",
        "+1 555 0100 131",
    );
    let contact = |(first, last, email, company, mobile): (&str, &str, &str, &str, &str)| {
        contact_data(first, last, email, company, mobile)
    };
    let contact_adds = [
        add(&format!("{CONTACTS}:10"), &contact(ELENA)),
        add(
            &format!("{CONTACTS}:11"),
            &contact((
                "Rahul",
                "Mehta",
                "rahul.mehta@contoso.com",
                "Contoso",
                "+1 555 0100 132",
            )),
        ),
    ]
    .concat();
    let mut mail = short_emails(c, 70, 3);
    mail[0].truncate_to = Some(512);
    mail[1].body_omitted = true;
    let req = sync_req(
        c,
        &[
            CollReq::changes(INBOX, Class::Email, k5),
            CollReq::changes(CONTACTS, Class::Contacts, k3),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &mail)),
        CollResp::new(CONTACTS, k3 + 1).commands(contact_adds),
    ]);
    c.send(req, ok(&resp).gzip());
    k5 += 1;

    // Pattern 15: the bodies never download.
    let fetch = |id: &str| Req::post(Command::ItemOperations, wbxml(&fetch_body_request(INBOX, id)));
    let (cut, missing) = (format!("{INBOX}:70"), format!("{INBOX}:71"));
    match d {
        Device::IPhone => {
            c.send(fetch(&cut), ok(&fetch_failed_response(INBOX, &cut, 6)));
        }
        Device::Android => {
            c.send(fetch(&cut), Resp::status(500, "Internal Server Error"));
        }
    }
    c.pause(3);
    match d {
        Device::IPhone => {
            let ms = c.rng.range(30_000, 60_000);
            c.abort(fetch(&missing), ms).comment = Some("body fetch, connection dropped".into());
        }
        Device::Android => {
            c.send(fetch(&missing), ok(&fetch_failed_response(INBOX, &missing, 6)));
        }
    }

    // Pattern 13: the device adds the same contact again.
    let id = client_id(c);
    let req = sync_req(
        c,
        &[CollReq::upload(
            CONTACTS,
            Class::Contacts,
            k3 + 1,
            client_add(&id, &contact(ELENA)),
        )],
    );
    let resp =
        sync_response(&[CollResp::new(CONTACTS, k3 + 2).responses(add_response(&id, &format!("{CONTACTS}:12")))]);
    c.send(req, ok(&resp));

    // Pattern 16: the server refuses a Change of one email three times (Status 6).
    let flagged = format!("{INBOX}:72");
    for attempt in 0..3 {
        if attempt > 0 {
            let p = i64::from(c.rng.range(20, 90));
            c.pause(p);
        }
        let req = sync_req(
            c,
            &[CollReq::upload(
                INBOX,
                Class::Email,
                k5,
                change(&flagged, &read_and_flagged()),
            )],
        );
        let resp = sync_response(&[CollResp::new(INBOX, k5 + 1).responses(change_response(&flagged, 6))]);
        c.send(req, ok(&resp));
        k5 += 1;
    }
    ping_expired(c);
}

/// The same kinds of items done right: nothing here is an item-level failure.
fn item_near_misses(c: &mut Conv) {
    let d = c.device;
    provisioned(c);
    let (mut k5, mut k1, k3) = (new_key(&mut c.rng), new_key(&mut c.rng), new_key(&mut c.rng));

    // A weekly series, a monthly series on day 28, a single meeting; a truncated email, an
    // invitation and an ordinary email.
    ping_changes(c, &[INBOX, CALENDAR], 41);
    let standup = received_meeting(
        c,
        ("Project standup", "Teams meeting"),
        local_time(d, (2024, 3, 4), (9, 0, 0)),
        15,
        PEOPLE[5],
        Some(Recurrence::weekly(1, 2)),
    );
    let payroll = received_meeting(
        c,
        ("Payroll check-in", "Finance room 3.02"),
        local_time(d, (2024, 2, 28), (16, 0, 0)),
        30,
        PEOPLE[3],
        Some(Recurrence::monthly(1, 28)),
    );
    let supplier = received_meeting(
        c,
        ("Supplier call", "Teams meeting"),
        local_time(d, (2024, 3, 19), (14, 0, 0)),
        45,
        PEOPLE[0],
        None,
    );
    let (standup_id, supplier_id) = (format!("{CALENDAR}:50"), format!("{CALENDAR}:52"));
    let cal_adds: String = [
        (standup_id.clone(), &standup),
        (format!("{CALENDAR}:51"), &payroll),
        (supplier_id.clone(), &supplier),
    ]
    .iter()
    .map(|(id, a)| add(id, &calendar_data(a, c.version, false, None)))
    .collect();
    let mut mail = short_emails(c, 80, 3);
    mail[0].truncate_to = Some(512);
    let mut workshop = received_meeting(
        c,
        ("Roadmap workshop", "Conf Room 2.07 (Building 1)"),
        local_time(d, (2024, 3, 21), (10, 0, 0)),
        120,
        PEOPLE[1],
        None,
    );
    workshop.dtstamp = c.clock - TimeDelta::minutes(4);
    mail[1].from = workshop.organizer;
    mail[1].subject = workshop.subject.clone();
    mail[1].message_class = "IPM.Schedule.Meeting.Request";
    mail[1].meeting = Some(MeetingRef::new(workshop, 1));
    let req = sync_req(
        c,
        &[
            CollReq::changes(INBOX, Class::Email, k5),
            CollReq::changes(CALENDAR, Class::Calendar, k1),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, &mail)),
        CollResp::new(CALENDAR, k1 + 1).commands(cal_adds),
    ]);
    c.send(req, ok(&resp).gzip());
    (k5, k1) = (k5 + 1, k1 + 1);

    // The user opens the truncated email: the whole body is fetched.
    let opened = format!("{INBOX}:80");
    let req = Req::post(Command::ItemOperations, wbxml(&fetch_body_request(INBOX, &opened)));
    c.send(req, ok(&fetch_body_response(INBOX, &opened, &mail[0].html)).gzip());

    // The invitation is accepted once.
    let request_id = format!("{INBOX}:81");
    let req = Req::post(
        Command::MeetingResponse,
        wbxml(&meeting_response_request(INBOX, &request_id, 1)),
    );
    let calendar_id = format!("{CALENDAR}:53");
    c.send(req, ok(&meeting_response_response(&request_id, 1, Some(&calendar_id))));

    // A flag refused once, accepted on the retry.
    let flagged = format!("{INBOX}:82");
    for status in [6, 1] {
        let req = sync_req(
            c,
            &[CollReq::upload(
                INBOX,
                Class::Email,
                k5,
                change(&flagged, &read_and_flagged()),
            )],
        );
        let resp = sync_response(&[CollResp::new(INBOX, k5 + 1).responses(change_response(&flagged, status))]);
        c.send(req, ok(&resp));
        k5 += 1;
        let p = i64::from(c.rng.range(15, 40));
        c.pause(p);
    }

    // A new contact.
    let id = client_id(c);
    let lucia = contact_data(
        "Lucia",
        "Moreno",
        "lucia.moreno@adatum.example",
        "Adatum Corporation",
        "+34 555 0100 141",
    );
    let req = sync_req(
        c,
        &[CollReq::upload(CONTACTS, Class::Contacts, k3, client_add(&id, &lucia))],
    );
    let resp =
        sync_response(&[CollResp::new(CONTACTS, k3 + 1).responses(add_response(&id, &format!("{CONTACTS}:20")))]);
    c.send(req, ok(&resp));

    // The attendee changes the reminder of a meeting: organizer and MeetingStatus stay.
    let mut reminded = supplier.clone();
    reminded.reminder = 30;
    upload_accepted(
        c,
        CALENDAR,
        Class::Calendar,
        &mut k1,
        change(&supplier_id, &calendar_data(&reminded, c.version, true, None)),
    );

    // One occurrence of the weekly series is cancelled the right way: InstanceType 3 with its
    // RecurrenceId, and the series gets a deleted exception. The device keeps the series.
    ping_changes(c, &[INBOX, CALENDAR], 300);
    let occurrence = local_time(d, (2024, 3, 18), (9, 0, 0));
    let mut one = standup.clone();
    one.start = occurrence;
    one.end = plus_minutes(occurrence, 15);
    one.recurrence = None;
    one.dtstamp = c.clock - TimeDelta::seconds(45);
    let mut series = standup.clone();
    series.dtstamp = one.dtstamp;
    series.exceptions = vec![Exception {
        exception_start: occurrence,
        by_instance_id: c.version.starts_with("16."),
        deleted: true,
        moved_to: None,
    }];
    let subject = format!("Canceled: {}", standup.subject);
    let cancel = meeting_email(
        c,
        83,
        "IPM.Schedule.Meeting.Canceled",
        subject,
        MeetingRef {
            appointment: one,
            message_type: 0,
            instance_type: 3,
            recurrence_id: Some(occurrence),
        },
    );
    let req = sync_req(
        c,
        &[
            CollReq::changes(INBOX, Class::Email, k5),
            CollReq::changes(CALENDAR, Class::Calendar, k1),
        ],
    );
    let resp = sync_response(&[
        CollResp::new(INBOX, k5 + 1).commands(email_adds(c.version, std::slice::from_ref(&cancel))),
        CollResp::new(CALENDAR, k1 + 1).commands(change(&standup_id, &calendar_data(&series, c.version, false, None))),
    ]);
    c.send(req, ok(&resp).gzip());
    ping_expired(c);
}
