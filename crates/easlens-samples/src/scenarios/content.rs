//! The bodies of the scenarios, written as ActiveSync XML (`xmlns="Page:"` where the code page
//! changes) and turned into WBXML with the project's own reader and encoder: Sync requests and
//! responses, FolderSync, Ping, Provision, Settings, ItemOperations, SendMail, email and calendar
//! items. Every value is invented.

use std::fmt::Display;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use super::Device;
use super::wire::Lcg;
use easlens_core::wbxml::{encode, from_xml};

// ---------------------------------------------------------------------------------------------
// XML helpers
// ---------------------------------------------------------------------------------------------

/// XML-escapes element text. CR becomes a character reference, so CRLF survives the XML reader's
/// line-end normalisation.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '\r']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&#xD;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// `<name>text</name>` in the parent's namespace.
pub(super) fn el(name: &str, text: impl Display) -> String {
    format!("<{name}>{}</{name}>", esc(&text.to_string()))
}

/// `<name xmlns="page:">text</name>`.
pub(super) fn ns(page: &str, name: &str, text: impl Display) -> String {
    format!("<{name} xmlns=\"{page}:\">{}</{name}>", esc(&text.to_string()))
}

/// EAS 16.0 or later: airsyncbase:Location, no calendar:UID from the client, Email2:IsDraft.
fn v16(version: &str) -> bool {
    version.starts_with("16.")
}

/// EAS 14.0 or later: Email2 (ConversationId, MeetingMessageType), calendar:ResponseType.
fn v14(version: &str) -> bool {
    !(version.starts_with("12.") || version.starts_with("2."))
}

/// ActiveSync XML → WBXML. The samples are fixed text: XML that does not encode is a bug in this
/// module, caught by the tests.
pub(super) fn wbxml(xml: &str) -> Vec<u8> {
    match from_xml(xml) {
        Ok(doc) => encode(&doc),
        Err(e) => panic!("sample XML does not encode: {e}\n{xml}"),
    }
}

/// `2024-03-05T09:13:58.000Z` (Email DateReceived).
pub(super) fn email_date(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `20240305T091358Z` (Calendar times).
pub(super) fn cal_date(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5322 date for MIME headers.
pub(super) fn mime_date(t: DateTime<FixedOffset>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

// ---------------------------------------------------------------------------------------------
// Folders
// ---------------------------------------------------------------------------------------------

pub(super) const INBOX: &str = "5";
pub(super) const CALENDAR: &str = "1";
pub(super) const CONTACTS: &str = "3";

/// (ServerId, ParentId, DisplayName, Type) of the mailbox's folders ([MS-ASCMD] 2.2.3.186.3).
pub(super) const FOLDERS: &[(&str, &str, &str, u8)] = &[
    ("1", "0", "Calendar", 8),
    ("2", "0", "Tasks", 7),
    ("3", "0", "Contacts", 9),
    ("4", "0", "Deleted Items", 4),
    ("5", "0", "Inbox", 2),
    ("6", "0", "Sent Items", 5),
    ("7", "0", "Drafts", 3),
    ("8", "0", "Outbox", 6),
    ("9", "0", "Notes", 10),
    ("10", "0", "Journal", 11),
    ("11", "5", "Projects", 12),
    ("12", "0", "Junk Email", 12),
];

pub(super) fn folder_sync_request(sync_key: &str) -> String {
    format!(r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>{sync_key}</SyncKey></FolderSync>"#)
}

/// The full folder list (answer to SyncKey 0).
pub(super) fn folder_sync_initial(new_key: &str) -> String {
    let mut x = format!(
        r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>{new_key}</SyncKey><Changes><Count>{}</Count>"#,
        FOLDERS.len()
    );
    for (id, parent, name, kind) in FOLDERS {
        let _ = write!(
            x,
            "<Add>{}{}{}{}</Add>",
            el("ServerId", id),
            el("ParentId", parent),
            el("DisplayName", name),
            el("Type", kind)
        );
    }
    x.push_str("</Changes></FolderSync>");
    x
}

/// No hierarchy changes.
pub(super) fn folder_sync_unchanged(sync_key: &str) -> String {
    format!(
        r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>{sync_key}</SyncKey><Changes><Count>0</Count></Changes></FolderSync>"#
    )
}

/// A FolderSync answered with only a Status (142/143/144, 9, …).
pub(super) fn folder_sync_status(status: u32) -> String {
    format!(r#"<FolderSync xmlns="FolderHierarchy:"><Status>{status}</Status></FolderSync>"#)
}

// ---------------------------------------------------------------------------------------------
// Sync
// ---------------------------------------------------------------------------------------------

/// The class of a collection, for its Options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Email,
    Calendar,
    Contacts,
}

/// One Collection of a Sync request.
#[derive(Debug, Clone)]
pub(super) struct CollReq {
    pub(super) sync_key: String,
    pub(super) collection_id: &'static str,
    pub(super) class: Class,
    pub(super) get_changes: bool,
    pub(super) window_size: Option<u32>,
    /// Commands XML (client Add/Change/Delete), without the `<Commands>` element.
    pub(super) commands: Option<String>,
}

impl CollReq {
    /// The first Sync of a collection: SyncKey 0, nothing else.
    pub(super) fn initial(collection_id: &'static str, class: Class) -> CollReq {
        CollReq {
            sync_key: "0".into(),
            collection_id,
            class,
            get_changes: false,
            window_size: None,
            commands: None,
        }
    }

    /// A GetChanges Sync with the usual options.
    pub(super) fn changes(collection_id: &'static str, class: Class, sync_key: impl Display) -> CollReq {
        CollReq {
            sync_key: sync_key.to_string(),
            collection_id,
            class,
            get_changes: true,
            window_size: Some(25),
            commands: None,
        }
    }

    /// Client changes, no GetChanges.
    pub(super) fn upload(
        collection_id: &'static str,
        class: Class,
        sync_key: impl Display,
        commands: String,
    ) -> CollReq {
        CollReq {
            sync_key: sync_key.to_string(),
            collection_id,
            class,
            get_changes: false,
            window_size: None,
            commands: Some(commands),
        }
    }

    pub(super) fn window(mut self, size: u32) -> CollReq {
        self.window_size = Some(size);
        self
    }
}

fn sync_options(class: Class, device: Device, version: &str) -> String {
    let (filter, body_type, truncation) = match class {
        Class::Email => (3, 2, 200_000),
        Class::Calendar => (4, 1, 32_768),
        Class::Contacts => (0, 1, 32_768),
    };
    let mut x = String::from("<Options>");
    if class != Class::Contacts {
        x.push_str(&el("FilterType", filter));
    }
    if device == Device::IPhone && class == Class::Email {
        x.push_str(&el("MIMESupport", 0));
    }
    let _ = write!(
        x,
        r#"<BodyPreference xmlns="AirSyncBase:"><Type>{body_type}</Type><TruncationSize>{truncation}</TruncationSize></BodyPreference>"#
    );
    if device == Device::IPhone && class == Class::Email && v16(version) {
        x.push_str(r#"<BodyPartPreference xmlns="AirSyncBase:"><Type>2</Type><TruncationSize>30000</TruncationSize></BodyPartPreference>"#);
    }
    x.push_str("</Options>");
    x
}

pub(super) fn sync_request(device: Device, version: &str, collections: &[CollReq]) -> String {
    let mut x = String::from(r#"<Sync xmlns="AirSync:"><Collections>"#);
    for c in collections {
        x.push_str("<Collection>");
        x.push_str(&el("SyncKey", &c.sync_key));
        x.push_str(&el("CollectionId", c.collection_id));
        if c.sync_key != "0" {
            if c.class == Class::Email {
                x.push_str(&el("DeletesAsMoves", 1));
            }
            if c.get_changes {
                x.push_str("<GetChanges/>");
            }
            if let Some(w) = c.window_size {
                x.push_str(&el("WindowSize", w));
            }
            if c.get_changes {
                x.push_str(&sync_options(c.class, device, version));
            }
            if let Some(commands) = &c.commands {
                let _ = write!(x, "<Commands>{commands}</Commands>");
            }
        }
        x.push_str("</Collection>");
    }
    x.push_str("</Collections></Sync>");
    x
}

/// One Collection of a Sync response.
#[derive(Debug, Clone)]
pub(super) struct CollResp {
    pub(super) sync_key: String,
    pub(super) collection_id: &'static str,
    pub(super) status: u32,
    pub(super) more_available: bool,
    /// `<Responses>` content (answers to client Adds/Changes).
    pub(super) responses: Option<String>,
    /// `<Commands>` content (server Adds/Changes/Deletes).
    pub(super) commands: Option<String>,
}

impl CollResp {
    pub(super) fn new(collection_id: &'static str, sync_key: impl Display) -> CollResp {
        CollResp {
            sync_key: sync_key.to_string(),
            collection_id,
            status: 1,
            more_available: false,
            responses: None,
            commands: None,
        }
    }

    pub(super) fn status(mut self, status: u32) -> CollResp {
        self.status = status;
        self
    }

    pub(super) fn commands(mut self, commands: String) -> CollResp {
        if !commands.is_empty() {
            self.commands = Some(commands);
        }
        self
    }

    pub(super) fn responses(mut self, responses: String) -> CollResp {
        self.responses = Some(responses);
        self
    }

    pub(super) fn more_available(mut self) -> CollResp {
        self.more_available = true;
        self
    }
}

pub(super) fn sync_response(collections: &[CollResp]) -> String {
    let mut x = String::from(r#"<Sync xmlns="AirSync:"><Collections>"#);
    for c in collections {
        x.push_str("<Collection>");
        x.push_str(&el("SyncKey", &c.sync_key));
        x.push_str(&el("CollectionId", c.collection_id));
        x.push_str(&el("Status", c.status));
        if c.more_available {
            x.push_str("<MoreAvailable/>");
        }
        if let Some(r) = &c.responses {
            let _ = write!(x, "<Responses>{r}</Responses>");
        }
        if let Some(cmds) = &c.commands {
            let _ = write!(x, "<Commands>{cmds}</Commands>");
        }
        x.push_str("</Collection>");
    }
    x.push_str("</Collections></Sync>");
    x
}

/// A Sync answered with only a top-level Status (142/143/144, 4, …).
pub(super) fn sync_status(status: u32) -> String {
    format!(r#"<Sync xmlns="AirSync:"><Status>{status}</Status></Sync>"#)
}

/// `<Add><ServerId>…</ServerId><ApplicationData>…</ApplicationData></Add>`.
pub(super) fn add(server_id: &str, data: &str) -> String {
    format!(
        "<Add><ServerId>{}</ServerId><ApplicationData>{data}</ApplicationData></Add>",
        esc(server_id)
    )
}

pub(super) fn change(server_id: &str, data: &str) -> String {
    format!(
        "<Change><ServerId>{}</ServerId><ApplicationData>{data}</ApplicationData></Change>",
        esc(server_id)
    )
}

pub(super) fn delete(server_id: &str) -> String {
    format!("<Delete><ServerId>{}</ServerId></Delete>", esc(server_id))
}

/// A client Add (ClientId instead of ServerId).
pub(super) fn client_add(client_id: &str, data: &str) -> String {
    format!(
        "<Add><ClientId>{}</ClientId><ApplicationData>{data}</ApplicationData></Add>",
        esc(client_id)
    )
}

/// The server's answer to a client Add.
pub(super) fn add_response(client_id: &str, server_id: &str) -> String {
    format!(
        "<Add><ClientId>{}</ClientId><ServerId>{}</ServerId><Status>1</Status></Add>",
        esc(client_id),
        esc(server_id)
    )
}

/// The server's answer to a client Change (only sent when it did not succeed, or to say so).
pub(super) fn change_response(server_id: &str, status: u32) -> String {
    format!(
        "<Change><ServerId>{}</ServerId><Status>{status}</Status></Change>",
        esc(server_id)
    )
}

// ---------------------------------------------------------------------------------------------
// MeetingResponse
// ---------------------------------------------------------------------------------------------

/// The device answers a meeting request in `collection_id` (UserResponse 1 accept, 2 tentative,
/// 3 decline).
pub(super) fn meeting_response_request(collection_id: &str, request_id: &str, user_response: u8) -> String {
    format!(
        r#"<MeetingResponse xmlns="MeetingResponse:"><Request>{}{}{}</Request></MeetingResponse>"#,
        el("UserResponse", user_response),
        el("CollectionId", collection_id),
        el("RequestId", request_id),
    )
}

/// The server's answer: the request's Status and, when accepted, the calendar item's ServerId.
pub(super) fn meeting_response_response(request_id: &str, status: u32, calendar_id: Option<&str>) -> String {
    format!(
        r#"<MeetingResponse xmlns="MeetingResponse:"><Result>{}{}{}</Result></MeetingResponse>"#,
        el("RequestId", request_id),
        el("Status", status),
        calendar_id.map(|id| el("CalendarId", id)).unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------------------
// Ping
// ---------------------------------------------------------------------------------------------

pub(super) fn ping_request(heartbeat: u32, folders: &[(&str, &str)]) -> String {
    let mut x = format!(r#"<Ping xmlns="Ping:"><HeartbeatInterval>{heartbeat}</HeartbeatInterval><Folders>"#);
    for (id, class) in folders {
        let _ = write!(x, "<Folder>{}{}</Folder>", el("Id", id), el("Class", class));
    }
    x.push_str("</Folders></Ping>");
    x
}

/// Status 1 (heartbeat expired) or 2 (changes in `folders`).
pub(super) fn ping_response(status: u32, folders: &[&str]) -> String {
    let mut x = format!(r#"<Ping xmlns="Ping:"><Status>{status}</Status>"#);
    if !folders.is_empty() {
        x.push_str("<Folders>");
        for f in folders {
            x.push_str(&el("Folder", f));
        }
        x.push_str("</Folders>");
    }
    x.push_str("</Ping>");
    x
}

/// The folders a device pings: Inbox, Calendar, Contacts.
pub(super) const PING_FOLDERS: &[(&str, &str)] = &[(INBOX, "Email"), (CALENDAR, "Calendar"), (CONTACTS, "Contacts")];

// ---------------------------------------------------------------------------------------------
// Provision and Settings
// ---------------------------------------------------------------------------------------------

fn device_information(device: Device) -> String {
    let (model, imei, name, os, phone, operator) = match device {
        Device::IPhone => (
            "iPhone14C2",
            "350000000000017",
            "Jordan's iPhone",
            "iOS 16.1 20B82",
            "+15550100017",
            "Example Mobile",
        ),
        Device::Android => (
            "SM-G991B",
            "350000000000025",
            "Galaxy S21 5G",
            "Android 13.0.0",
            "+15550100025",
            "Example Wireless",
        ),
    };
    format!(
        r#"<DeviceInformation xmlns="Settings:"><Set>{}{}{}{}{}{}{}{}</Set></DeviceInformation>"#,
        el("Model", model),
        el("IMEI", imei),
        el("FriendlyName", name),
        el("OS", os),
        el("OSLanguage", "English"),
        el("PhoneNumber", phone),
        el("UserAgent", device.user_agent()),
        el("MobileOperator", operator),
    )
}

const POLICY_TYPE: &str = "MS-EAS-Provisioning-WBXML";

/// Step 1: ask for the policy. `with_device_information` for 14.1 and later.
pub(super) fn provision_request(device: Device, with_device_information: bool) -> String {
    let info = if with_device_information {
        device_information(device)
    } else {
        String::new()
    };
    format!(
        r#"<Provision xmlns="Provision:">{info}<Policies><Policy><PolicyType>{POLICY_TYPE}</PolicyType></Policy></Policies></Provision>"#
    )
}

/// The EASProvisionDoc of the contoso mailbox policy.
fn provision_doc() -> String {
    const SETTINGS: &[(&str, &str)] = &[
        ("DevicePasswordEnabled", "1"),
        ("AlphanumericDevicePasswordRequired", "0"),
        ("PasswordRecoveryEnabled", "0"),
        ("RequireStorageCardEncryption", "0"),
        ("AttachmentsEnabled", "1"),
        ("MinDevicePasswordLength", "6"),
        ("MaxInactivityTimeDeviceLock", "900"),
        ("MaxDevicePasswordFailedAttempts", "10"),
        ("MaxAttachmentSize", ""),
        ("AllowSimpleDevicePassword", "0"),
        ("DevicePasswordExpiration", ""),
        ("DevicePasswordHistory", "0"),
        ("AllowStorageCard", "1"),
        ("AllowCamera", "1"),
        ("RequireDeviceEncryption", "1"),
        ("AllowUnsignedApplications", "1"),
        ("AllowUnsignedInstallationPackages", "1"),
        ("MinDevicePasswordComplexCharacters", "1"),
        ("AllowWiFi", "1"),
        ("AllowTextMessaging", "1"),
        ("AllowPOPIMAPEmail", "1"),
        ("AllowBluetooth", "2"),
        ("AllowIrDA", "1"),
        ("RequireManualSyncWhenRoaming", "0"),
        ("AllowDesktopSync", "1"),
        ("MaxCalendarAgeFilter", "0"),
        ("AllowHTMLEmail", "1"),
        ("MaxEmailAgeFilter", "0"),
        ("MaxEmailBodyTruncationSize", "-1"),
        ("MaxEmailHTMLBodyTruncationSize", "-1"),
        ("RequireSignedSMIMEMessages", "0"),
        ("RequireEncryptedSMIMEMessages", "0"),
        ("RequireSignedSMIMEAlgorithm", "0"),
        ("RequireEncryptionSMIMEAlgorithm", "0"),
        ("AllowSMIMEEncryptionAlgorithmNegotiation", "2"),
        ("AllowSMIMESoftCerts", "1"),
        ("AllowBrowser", "1"),
        ("AllowConsumerEmail", "1"),
        ("AllowRemoteDesktop", "1"),
        ("AllowInternetSharing", "1"),
        ("UnapprovedInROMApplicationList", ""),
        ("ApprovedApplicationList", ""),
    ];
    let mut x = String::from("<EASProvisionDoc>");
    for (name, value) in SETTINGS {
        if value.is_empty() {
            let _ = write!(x, "<{name}/>");
        } else {
            x.push_str(&el(name, value));
        }
    }
    x.push_str("</EASProvisionDoc>");
    x
}

/// Step 1 answer: the policy and a temporary policy key.
pub(super) fn provision_policy_response(temp_key: u32, with_device_information: bool) -> String {
    let info = if with_device_information {
        r#"<DeviceInformation xmlns="Settings:"><Status>1</Status></DeviceInformation>"#
    } else {
        ""
    };
    format!(
        r#"<Provision xmlns="Provision:">{info}<Status>1</Status><Policies><Policy><PolicyType>{POLICY_TYPE}</PolicyType><Status>1</Status><PolicyKey>{temp_key}</PolicyKey><Data>{}</Data></Policy></Policies></Provision>"#,
        provision_doc()
    )
}

/// Step 2: the device acknowledges the policy with the temporary key.
pub(super) fn provision_ack(temp_key: u32) -> String {
    format!(
        r#"<Provision xmlns="Provision:"><Policies><Policy><PolicyType>{POLICY_TYPE}</PolicyType><PolicyKey>{temp_key}</PolicyKey><Status>1</Status></Policy></Policies></Provision>"#
    )
}

/// Step 2 answer: the final policy key.
pub(super) fn provision_ack_response(final_key: u32) -> String {
    format!(
        r#"<Provision xmlns="Provision:"><Status>1</Status><Policies><Policy><PolicyType>{POLICY_TYPE}</PolicyType><Status>1</Status><PolicyKey>{final_key}</PolicyKey></Policy></Policies></Provision>"#
    )
}

pub(super) fn settings_request(device: Device) -> String {
    format!(
        r#"<Settings xmlns="Settings:">{}<UserInformation><Get/></UserInformation></Settings>"#,
        device_information(device).replace(r#" xmlns="Settings:""#, "")
    )
}

pub(super) fn settings_response() -> String {
    // 14.1 and later: the Accounts form.
    let get = format!(
        "<Accounts><Account>{}<EmailAddresses>{}{}</EmailAddresses></Account></Accounts>",
        el("UserDisplayName", JDOE.0),
        el("SMTPAddress", JDOE.1),
        el("PrimarySmtpAddress", JDOE.1),
    );
    format!(
        r#"<Settings xmlns="Settings:"><Status>1</Status><DeviceInformation><Status>1</Status></DeviceInformation><UserInformation><Status>1</Status><Get>{get}</Get></UserInformation></Settings>"#
    )
}

// ---------------------------------------------------------------------------------------------
// ItemOperations and SendMail
// ---------------------------------------------------------------------------------------------

pub(super) fn fetch_attachment_request(file_reference: &str) -> String {
    format!(
        r#"<ItemOperations xmlns="ItemOperations:"><Fetch><Store>Mailbox</Store>{}</Fetch></ItemOperations>"#,
        ns("AirSyncBase", "FileReference", file_reference)
    )
}

/// Part 0 of a multipart answer: the attachment is part 1.
pub(super) fn fetch_attachment_response(file_reference: &str, content_type: &str) -> String {
    format!(
        r#"<ItemOperations xmlns="ItemOperations:"><Status>1</Status><Response><Fetch><Status>1</Status>{}<Properties>{}<Part>1</Part></Properties></Fetch></Response></ItemOperations>"#,
        ns("AirSyncBase", "FileReference", file_reference),
        ns("AirSyncBase", "ContentType", content_type),
    )
}

/// Fetch of a whole email body by ServerId.
pub(super) fn fetch_body_request(collection_id: &str, server_id: &str) -> String {
    format!(
        r#"<ItemOperations xmlns="ItemOperations:"><Fetch><Store>Mailbox</Store>{}{}<Options><BodyPreference xmlns="AirSyncBase:"><Type>2</Type></BodyPreference></Options></Fetch></ItemOperations>"#,
        ns("AirSync", "CollectionId", collection_id),
        ns("AirSync", "ServerId", server_id),
    )
}

pub(super) fn fetch_body_response(collection_id: &str, server_id: &str, html: &str) -> String {
    format!(
        r#"<ItemOperations xmlns="ItemOperations:"><Status>1</Status><Response><Fetch><Status>1</Status>{}{}{}<Properties><Body xmlns="AirSyncBase:"><Type>2</Type><EstimatedDataSize>{}</EstimatedDataSize>{}</Body></Properties></Fetch></Response></ItemOperations>"#,
        ns("AirSync", "CollectionId", collection_id),
        ns("AirSync", "ServerId", server_id),
        ns("AirSync", "Class", "Email"),
        html.len(),
        el("Data", html),
    )
}

/// A Fetch of an email body that failed: the command succeeded (`ItemOperations` Status 1), the
/// Fetch did not (`fetch_status`, e.g. 6 conversion error), and no Properties came back.
pub(super) fn fetch_failed_response(collection_id: &str, server_id: &str, fetch_status: u32) -> String {
    format!(
        r#"<ItemOperations xmlns="ItemOperations:"><Status>1</Status><Response><Fetch>{}{}{}</Fetch></Response></ItemOperations>"#,
        el("Status", fetch_status),
        ns("AirSync", "CollectionId", collection_id),
        ns("AirSync", "ServerId", server_id),
    )
}

/// SendMail (14.0 and later): the MIME message as OPAQUE.
pub(super) fn send_mail(client_id: &str, mime: &[u8]) -> String {
    format!(
        r#"<SendMail xmlns="ComposeMail:">{}<SaveInSentItems/><Mime encoding="base64">{}</Mime></SendMail>"#,
        el("ClientId", client_id),
        BASE64.encode(mime)
    )
}

/// An outgoing message as the device's mail app writes it: 8-bit ISO-8859-1 text, as many
/// clients still send. Those bytes are not UTF-8, which is what exporters that turn bodies into
/// text (Fiddler's and Chrome's HAR) destroy.
pub(super) fn outgoing_mime(
    device: Device,
    to: Person,
    subject: &str,
    text: &str,
    date: DateTime<FixedOffset>,
) -> Vec<u8> {
    let (mailer, signature) = match device {
        Device::IPhone => ("X-Mailer: iPhone Mail (20B82)", "Sent from my iPhone"),
        Device::Android => ("X-Mailer: Samsung Email", "Sent from my Galaxy"),
    };
    let message_id = format!("<{}.{}@contoso.com>", date.timestamp(), subject.len());
    let mime = format!(
        "From: {} <{}>\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\nMIME-Version: 1.0\r\nDate: {}\r\nSubject: {subject}\r\nMessage-Id: {message_id}\r\nTo: {} <{}>\r\n{mailer}\r\n\r\n{text}\r\n\r\nViele Grüße, Jordan\r\n{signature}\r\n",
        JDOE.0,
        JDOE.1,
        mime_date(date),
        to.0,
        to.1,
    );
    // Every character here is in Latin-1.
    mime.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// People, words, emails
// ---------------------------------------------------------------------------------------------

/// (display name, address).
pub(super) type Person = (&'static str, &'static str);

pub(super) const JDOE: Person = ("Jordan Doe", "jdoe@contoso.com");

pub(super) const PEOPLE: &[Person] = &[
    ("Alex Chen", "alex.chen@fabrikam.com"),
    ("Priya Natarajan", "priya.natarajan@contoso.com"),
    ("Marcus Webb", "marcus.webb@contoso.com"),
    ("Sofia Lindqvist", "sofia.lindqvist@example.org"),
    ("Tomasz Nowak", "tomasz.nowak@fabrikam.com"),
    ("Aiko Tanaka", "aiko.tanaka@contoso.com"),
    ("Facilities Desk", "facilities@contoso.com"),
    ("Travel Bookings", "noreply@travel.example.net"),
    ("IT Service Desk", "servicedesk@contoso.com"),
    ("Contoso Newsletter", "news@contoso.com"),
];

const SUBJECTS: &[&str] = &[
    "Quarterly numbers for review",
    "Re: Offsite agenda",
    "Updated slide deck",
    "Invoice 2024-0311 from Fabrikam",
    "Your itinerary: LHR to SEA",
    "Re: Re: Parking permits & badges",
    "Lunch on Thursday?",
    "Action items from Monday's call",
    "FW: Customer escalation <priority>",
    "Weekly status: mobile rollout",
    "Server maintenance window this Saturday",
    "Draft contract, second round",
    "Welcome to the team!",
    "Expense report approved",
    "Re: Building access during renovation",
    "Newsletter: March highlights",
];

/// Every personal value the scenarios write, in the form they write it: what a redacted capture
/// must contain none of (`tests/redact.rs`). Device-level values (ids, user names, addresses,
/// credentials) are added by [`super::personal_strings`].
pub(super) fn personal_values() -> Vec<String> {
    let mut out: Vec<&str> = vec![JDOE.0, JDOE.1, "Jordan", "Natarajan", "Lindqvist", "Example Org"];
    for (name, address) in PEOPLE {
        out.extend([*name, *address]);
    }
    out.extend(SUBJECTS.iter().copied());
    out.extend([
        // Settings/DeviceInformation
        "Jordan's iPhone",
        "350000000000017",
        "350000000000025",
        "+15550100017",
        "+15550100025",
        // Contacts
        "+1 555 0100 101",
        "+1 555 0100 102",
        "+46 555 0100 103",
        // Meetings
        "Weekly team sync",
        "1:1 Jordan / Priya",
        "Quarterly planning review",
        "Dentist",
        "Teams meeting",
        "Priya's office",
        "Conf Room 4.12 (Building 2)",
        "Harbour Dental, 12 Quay St",
        "Monthly budget review",
        "Vendor onboarding",
        "Design review",
        "Architecture board",
        "Project standup",
        "Payroll check-in",
        "Supplier call",
        "Roadmap workshop",
        "Finance room 3.02",
        "Conf Room 2.07 (Building 1)",
        "Conf Room 1.03 (Building 1)",
        // Contacts of the item scenarios
        "Petrova",
        "Elena Petrova",
        "elena.petrova@northwind.example",
        "Northwind Traders",
        "+1 555 0100 131",
        "Mehta",
        "Rahul Mehta",
        "rahul.mehta@contoso.com",
        "+1 555 0100 132",
        "Moreno",
        "Lucia Moreno",
        "lucia.moreno@adatum.example",
        "Adatum Corporation",
        "+34 555 0100 141",
        // Attachments
        "Contract-draft-v2.pdf",
        // Words of bodies and signatures
        "productive",
        "pricing",
        "renewal",
        "Sent from my",
        "Viele Gr",
    ]);
    out.into_iter().map(String::from).collect()
}

const WORDS_TEXT: &str = concat!(
    "the team agreed to move forward with revised plan for next quarter and review budget numbers before ",
    "Friday please send your comments on attached document we will need a decision from finance about ",
    "travel schedule customer meeting was productive they asked pricing options support contract renewal ",
    "let me know if you have any questions thanks again update rollout devices mailbox calendar ",
    "invitation room booked afternoon slides draft ",
);

fn words() -> &'static [&'static str] {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| WORDS_TEXT.split_ascii_whitespace().collect())
}

/// A paragraph of invented business prose of about `len` characters.
pub(super) fn prose(rng: &mut Lcg, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    let mut sentence_start = true;
    while s.len() < len {
        let w = *rng.pick(words());
        if sentence_start {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
                s.push_str(c.as_str());
            }
            sentence_start = false;
        } else {
            s.push_str(w);
        }
        if rng.chance(9) {
            s.push_str(". ");
            sentence_start = true;
        } else {
            s.push(' ');
        }
    }
    s.truncate(s.trim_end().len());
    s.push('.');
    s
}

/// An HTML email body of about `len` bytes, CRLF line ends as Exchange sends them.
pub(super) fn html_body(rng: &mut Lcg, len: usize, greeting: &str) -> String {
    let mut html = String::from(
        "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body dir=\"ltr\">\r\n",
    );
    let _ = write!(html, "<div>Hi {greeting},</div>\r\n");
    while html.len() + 40 < len {
        let para_len = rng.range(120, 600) as usize;
        let para = prose(rng, para_len);
        let _ = write!(html, "<div>{}</div>\r\n", para.replace('&', "&amp;"));
    }
    html.push_str("<div>Best regards,<br>\r\n</div>\r\n</body>\r\n</html>\r\n");
    html
}

/// An attachment of an email.
#[derive(Debug, Clone)]
pub(super) struct Attachment {
    pub(super) name: String,
    pub(super) file_reference: String,
    pub(super) content_type: &'static str,
    pub(super) bytes: Vec<u8>,
}

/// Meeting request data carried by an email (Email:MeetingRequest).
#[derive(Debug, Clone)]
pub(super) struct MeetingRef {
    pub(super) appointment: Appointment,
    /// Email2:MeetingMessageType: 1 request, 0 cancellation (no further type).
    pub(super) message_type: u8,
    /// Email:InstanceType: 0 single or the whole series, 1 recurring master, 2 single instance of
    /// a series, 3 exception of a series.
    pub(super) instance_type: u8,
    /// Email:RecurrenceId: the original start of the one occurrence the message is about.
    pub(super) recurrence_id: Option<DateTime<FixedOffset>>,
}

impl MeetingRef {
    /// A message about a whole single meeting (InstanceType 0, no RecurrenceId).
    pub(super) fn new(appointment: Appointment, message_type: u8) -> MeetingRef {
        MeetingRef {
            appointment,
            message_type,
            instance_type: 0,
            recurrence_id: None,
        }
    }
}

/// An email as the server sends it in a Sync Add.
#[derive(Debug, Clone)]
pub(super) struct Email {
    pub(super) server_id: String,
    pub(super) from: Person,
    pub(super) to: Vec<Person>,
    pub(super) subject: String,
    pub(super) received: DateTime<FixedOffset>,
    pub(super) html: String,
    pub(super) read: bool,
    pub(super) importance: u8,
    pub(super) conversation_id: [u8; 16],
    pub(super) conversation_index: [u8; 5],
    pub(super) attachment: Option<Attachment>,
    pub(super) message_class: &'static str,
    pub(super) meeting: Option<MeetingRef>,
    /// Body cut to this many bytes (Truncated 1).
    pub(super) truncate_to: Option<usize>,
    /// The body is not sent at all: Truncated 1, EstimatedDataSize, no Data (the device must
    /// fetch it).
    pub(super) body_omitted: bool,
}

impl Email {
    /// An everyday email with an HTML body of about `body_len` bytes.
    pub(super) fn generate(
        rng: &mut Lcg,
        server_id: String,
        received: DateTime<FixedOffset>,
        body_len: usize,
    ) -> Email {
        let from = *rng.pick(PEOPLE);
        let mut to = vec![JDOE];
        if rng.chance(35) {
            to.push(*rng.pick(PEOPLE));
        }
        let subject = rng.pick(SUBJECTS).to_string();
        let greeting = JDOE.0.split(' ').next().unwrap_or("Jordan");
        let html = html_body(rng, body_len, greeting);
        Email {
            server_id,
            from,
            to,
            subject,
            received,
            html,
            read: rng.chance(20),
            importance: if rng.chance(10) { 2 } else { 1 },
            conversation_id: rng.bytes(),
            conversation_index: rng.bytes(),
            attachment: None,
            message_class: "IPM.Note",
            meeting: None,
            truncate_to: None,
            body_omitted: false,
        }
    }
}

fn address_list(people: &[Person]) -> String {
    people
        .iter()
        .map(|(n, a)| format!("\"{n}\" <{a}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ApplicationData of an email ([MS-ASEMAIL], in the order Exchange writes it).
pub(super) fn email_data(e: &Email, version: &str) -> String {
    let mut x = String::new();
    x.push_str(&ns("Email", "To", address_list(&e.to)));
    x.push_str(&ns("Email", "From", address_list(&[e.from])));
    x.push_str(&ns("Email", "Subject", &e.subject));
    x.push_str(&ns("Email", "DateReceived", email_date(e.received)));
    x.push_str(&ns(
        "Email",
        "DisplayTo",
        e.to.iter().map(|p| p.0).collect::<Vec<_>>().join("; "),
    ));
    let topic = e
        .subject
        .trim_start_matches("Re: ")
        .trim_start_matches("Re: ")
        .trim_start_matches("FW: ");
    x.push_str(&ns("Email", "ThreadTopic", topic));
    x.push_str(&ns("Email", "Importance", e.importance));
    x.push_str(&ns("Email", "Read", u8::from(e.read)));
    if let Some(a) = &e.attachment {
        let _ = write!(
            x,
            r#"<Attachments xmlns="AirSyncBase:"><Attachment>{}{}{}{}{}</Attachment></Attachments>"#,
            el("DisplayName", &a.name),
            el("FileReference", &a.file_reference),
            el("Method", 1),
            el("EstimatedDataSize", a.bytes.len()),
            el("IsInline", 0),
        );
    }
    let (data, truncated) = match e.truncate_to {
        _ if e.body_omitted => (None, true),
        Some(n) if n < e.html.len() => (Some(&e.html[..e.html.floor_char_boundary(n)]), true),
        _ => (Some(e.html.as_str()), false),
    };
    let _ = write!(
        x,
        r#"<Body xmlns="AirSyncBase:"><Type>2</Type><EstimatedDataSize>{}</EstimatedDataSize>{}{}</Body>"#,
        e.html.len(),
        if truncated { el("Truncated", 1) } else { String::new() },
        data.map(|d| el("Data", d)).unwrap_or_default(),
    );
    x.push_str(&ns("Email", "MessageClass", e.message_class));
    if let Some(m) = &e.meeting {
        x.push_str(&meeting_request(m, version));
    }
    x.push_str(&ns("Email", "InternetCPID", 65001));
    x.push_str(r#"<Flag xmlns="Email:"/>"#);
    let content_class = if e.meeting.is_some() {
        "urn:content-classes:calendarmessage"
    } else {
        "urn:content-classes:message"
    };
    x.push_str(&ns("Email", "ContentClass", content_class));
    x.push_str(&ns("AirSyncBase", "NativeBodyType", 2));
    if v14(version) {
        let _ = write!(
            x,
            r#"<ConversationId xmlns="Email2:" encoding="hex">{}</ConversationId><ConversationIndex xmlns="Email2:" encoding="hex">{}</ConversationIndex>"#,
            hex::encode_upper(e.conversation_id),
            hex::encode_upper(e.conversation_index)
        );
        if let Some(m) = &e.meeting {
            x.push_str(&ns("Email2", "MeetingMessageType", m.message_type));
        }
    }
    x.push_str(r#"<Categories xmlns="Email:"/>"#);
    if v16(version) {
        x.push_str(&ns("Email2", "IsDraft", 0));
    }
    x
}

/// Email:MeetingRequest for a meeting request or cancellation.
fn meeting_request(m: &MeetingRef, version: &str) -> String {
    let a = &m.appointment;
    let location = if v16(version) {
        format!(
            r#"<Location xmlns="AirSyncBase:">{}</Location>"#,
            el("DisplayName", &a.location)
        )
    } else {
        el("Location", &a.location)
    };
    let recurrence_id = m
        .recurrence_id
        .map(|t| el("RecurrenceId", email_date(t)))
        .unwrap_or_default();
    let recurrences = a
        .recurrence
        .as_ref()
        .map(|r| format!("<Recurrences>{}</Recurrences>", r.xml()))
        .unwrap_or_default();
    format!(
        r#"<MeetingRequest xmlns="Email:">{}{}{}{}{}{location}{}{recurrence_id}{}{}{recurrences}{}{}{}{}{}</MeetingRequest>"#,
        el("AllDayEvent", 0),
        el("StartTime", email_date(a.start)),
        el("DtStamp", email_date(a.dtstamp)),
        el("EndTime", email_date(a.end)),
        el("InstanceType", m.instance_type),
        el("Organizer", format!("\"{}\" <{}>", a.organizer.0, a.organizer.1)),
        el("Reminder", 900),
        el("ResponseRequested", 1),
        el("Sensitivity", 0),
        el("BusyStatus", 2),
        el("TimeZone", &a.timezone),
        el("GlobalObjId", BASE64.encode(a.goid())),
        el("DisallowNewTimeProposal", 0),
    )
}

// ---------------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------------

/// A calendar item.
#[derive(Debug, Clone)]
pub(super) struct Appointment {
    /// calendar:UID: the Outlook GlobalObjectId as upper-case hex.
    pub(super) uid: String,
    pub(super) subject: String,
    pub(super) location: String,
    pub(super) start: DateTime<FixedOffset>,
    pub(super) end: DateTime<FixedOffset>,
    pub(super) dtstamp: DateTime<FixedOffset>,
    pub(super) organizer: Person,
    pub(super) attendees: Vec<Person>,
    /// 0 appointment, 1 meeting organised by the user, 3 meeting received.
    pub(super) meeting_status: u8,
    pub(super) busy_status: u8,
    pub(super) reminder: u32,
    pub(super) body: String,
    /// calendar:Timezone: base64 of a TIME_ZONE_INFORMATION structure.
    pub(super) timezone: String,
    /// calendar:Recurrence (and Email:Recurrences in a meeting request): `None` for a single
    /// meeting.
    pub(super) recurrence: Option<Recurrence>,
    /// calendar:Exceptions of a series: occurrences deleted or changed.
    pub(super) exceptions: Vec<Exception>,
}

/// A recurrence pattern ([MS-ASCAL] 2.2.2.38): the same element names in the Calendar and the
/// Email code page.
#[derive(Debug, Clone)]
pub(super) struct Recurrence {
    /// 0 daily, 1 weekly, 2 monthly on a day, 3 monthly on the nth weekday, 5 yearly, 6 yearly
    /// on the nth weekday.
    pub(super) kind: u8,
    pub(super) interval: u32,
    /// Weekly: a bit mask of days (1 Sunday, 2 Monday, 4 Tuesday, …).
    pub(super) day_of_week: Option<u32>,
    pub(super) day_of_month: Option<u32>,
}

impl Recurrence {
    /// Every `interval` weeks on the days of `day_of_week`.
    pub(super) fn weekly(interval: u32, day_of_week: u32) -> Recurrence {
        Recurrence {
            kind: 1,
            interval,
            day_of_week: Some(day_of_week),
            day_of_month: None,
        }
    }

    /// Every `interval` months on day `day_of_month`.
    pub(super) fn monthly(interval: u32, day_of_month: u32) -> Recurrence {
        Recurrence {
            kind: 2,
            interval,
            day_of_week: None,
            day_of_month: Some(day_of_month),
        }
    }

    /// `<Recurrence>…</Recurrence>` in the parent's namespace.
    fn xml(&self) -> String {
        format!(
            "<Recurrence>{}{}{}{}</Recurrence>",
            el("Type", self.kind),
            el("Interval", self.interval),
            self.day_of_week.map(|d| el("DayOfWeek", d)).unwrap_or_default(),
            self.day_of_month.map(|d| el("DayOfMonth", d)).unwrap_or_default(),
        )
    }
}

/// One calendar:Exception of a series, named by its original start: ExceptionStartTime (the 14.x
/// way) or airsyncbase:InstanceId (16.x).
#[derive(Debug, Clone)]
pub(super) struct Exception {
    pub(super) exception_start: DateTime<FixedOffset>,
    /// Named with airsyncbase:InstanceId instead of ExceptionStartTime.
    pub(super) by_instance_id: bool,
    /// The occurrence was deleted (Deleted 1).
    pub(super) deleted: bool,
    /// The occurrence moved: its new start and end.
    pub(super) moved_to: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
}

impl Exception {
    fn xml(&self) -> String {
        let mut x = String::from("<Exception>");
        if self.deleted {
            x.push_str(&el("Deleted", 1));
        }
        if self.by_instance_id {
            x.push_str(&ns("AirSyncBase", "InstanceId", email_date(self.exception_start)));
        } else {
            x.push_str(&el("ExceptionStartTime", cal_date(self.exception_start)));
        }
        if let Some((start, end)) = self.moved_to {
            x.push_str(&el("StartTime", cal_date(start)));
            x.push_str(&el("EndTime", cal_date(end)));
        }
        x.push_str("</Exception>");
        x
    }
}

impl Appointment {
    /// The GlobalObjectId bytes (hex-decoded UID).
    pub(super) fn goid(&self) -> Vec<u8> {
        hex::decode(&self.uid).unwrap_or_default()
    }
}

/// An Outlook GlobalObjectId ([MS-OXOCAL] 2.2.1.27) as upper-case hex: class id, no instance date,
/// creation time, 16 random bytes of data.
pub(super) fn goid_hex(rng: &mut Lcg, created: DateTime<FixedOffset>) -> String {
    let mut b = hex::decode("040000008200E00074C5B7101A82E008").unwrap_or_default();
    b.extend_from_slice(&[0, 0, 0, 0]); // instance date: the whole series
    // FILETIME: 100 ns ticks since 1601-01-01.
    let filetime = (created.timestamp() + 11_644_473_600) as u64 * 10_000_000;
    b.extend_from_slice(&filetime.to_le_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&rng.bytes::<16>());
    hex::encode_upper(b)
}

/// TIME_ZONE_INFORMATION ([MS-ASDTYPE] 2.7) as calendar:Timezone carries it: base64 of 172 bytes.
pub(super) fn timezone(offset: FixedOffset) -> String {
    // (bias, standard name, daylight name, standard date (month, week, hour), daylight date)
    let (bias, std_name, dst_name, std_date, dst_date) = if offset.local_minus_utc() < 0 {
        (
            300i32,
            "Eastern Standard Time",
            "Eastern Daylight Time",
            (11u16, 1u16, 2u16),
            (3u16, 2u16, 2u16),
        )
    } else {
        (
            -60,
            "W. Europe Standard Time",
            "W. Europe Daylight Time",
            (10, 5, 3),
            (3, 5, 2),
        )
    };
    let mut b = Vec::with_capacity(172);
    b.extend_from_slice(&bias.to_le_bytes());
    let name = |b: &mut Vec<u8>, s: &str| {
        let mut units: Vec<u16> = s.encode_utf16().collect();
        units.resize(32, 0);
        for u in units {
            b.extend_from_slice(&u.to_le_bytes());
        }
    };
    // SYSTEMTIME: year 0 (recurring rule), month, day of week (Sunday), week of month, hour.
    let date = |b: &mut Vec<u8>, (month, week, hour): (u16, u16, u16)| {
        for v in [0u16, month, 0, week, hour, 0, 0, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    };
    name(&mut b, std_name);
    date(&mut b, std_date);
    b.extend_from_slice(&0i32.to_le_bytes());
    name(&mut b, dst_name);
    date(&mut b, dst_date);
    b.extend_from_slice(&(-60i32).to_le_bytes());
    BASE64.encode(b)
}

/// The ApplicationData of a calendar item ([MS-ASCAL], in the order Exchange writes it).
/// `from_client`: a device Add/Change (EAS 16.x devices send no UID and use ClientUid on Add).
pub(super) fn calendar_data(a: &Appointment, version: &str, from_client: bool, client_uid: Option<&str>) -> String {
    let v16 = v16(version);
    let mut x = String::new();
    x.push_str(&ns("Calendar", "Timezone", &a.timezone));
    x.push_str(&ns("Calendar", "DtStamp", cal_date(a.dtstamp)));
    x.push_str(&ns("Calendar", "StartTime", cal_date(a.start)));
    x.push_str(&ns("Calendar", "Subject", &a.subject));
    if !(from_client && v16) {
        x.push_str(&ns("Calendar", "UID", &a.uid));
    }
    if a.meeting_status != 0 {
        x.push_str(&ns("Calendar", "OrganizerName", a.organizer.0));
        x.push_str(&ns("Calendar", "OrganizerEmail", a.organizer.1));
        x.push_str(r#"<Attendees xmlns="Calendar:">"#);
        for (name, email) in &a.attendees {
            let _ = write!(
                x,
                "<Attendee>{}{}{}{}</Attendee>",
                el("Email", email),
                el("Name", name),
                el("AttendeeStatus", 0),
                el("AttendeeType", 1)
            );
        }
        x.push_str("</Attendees>");
    }
    if v16 {
        let _ = write!(
            x,
            r#"<Location xmlns="AirSyncBase:">{}</Location>"#,
            el("DisplayName", &a.location)
        );
    } else {
        x.push_str(&ns("Calendar", "Location", &a.location));
    }
    x.push_str(&ns("Calendar", "EndTime", cal_date(a.end)));
    if let Some(r) = &a.recurrence {
        x.push_str(&r.xml().replacen("<Recurrence>", r#"<Recurrence xmlns="Calendar:">"#, 1));
    }
    let _ = write!(
        x,
        r#"<Body xmlns="AirSyncBase:"><Type>1</Type><EstimatedDataSize>{}</EstimatedDataSize>{}</Body>"#,
        a.body.len(),
        el("Data", &a.body)
    );
    x.push_str(&ns("Calendar", "Sensitivity", 0));
    x.push_str(&ns("Calendar", "BusyStatus", a.busy_status));
    x.push_str(&ns("Calendar", "AllDayEvent", 0));
    x.push_str(&ns("Calendar", "Reminder", a.reminder));
    if !a.exceptions.is_empty() {
        x.push_str(r#"<Exceptions xmlns="Calendar:">"#);
        for e in &a.exceptions {
            x.push_str(&e.xml());
        }
        x.push_str("</Exceptions>");
    }
    x.push_str(&ns("Calendar", "MeetingStatus", a.meeting_status));
    if !from_client {
        x.push_str(&ns("AirSyncBase", "NativeBodyType", 1));
        if a.meeting_status == 3 {
            x.push_str(&ns("Calendar", "ResponseRequested", 1));
            if v14(version) {
                x.push_str(&ns("Calendar", "ResponseType", 5));
            }
        }
        x.push_str(&ns("Calendar", "DisallowNewTimeProposal", 0));
    }
    if let Some(uid) = client_uid {
        x.push_str(&ns("Calendar", "ClientUid", uid));
    }
    x
}

/// A contact.
pub(super) fn contact_data(first: &str, last: &str, email: &str, company: &str, mobile: &str) -> String {
    format!(
        r#"<Body xmlns="AirSyncBase:"><Type>1</Type><EstimatedDataSize>0</EstimatedDataSize><Truncated>1</Truncated></Body>{}{}{}{}{}{}{}"#,
        ns("Contacts", "CompanyName", company),
        ns("Contacts", "Email1Address", format!("\"{first} {last}\" <{email}>")),
        ns("Contacts", "FileAs", format!("{last}, {first}")),
        ns("Contacts", "FirstName", first),
        ns("Contacts", "LastName", last),
        ns("Contacts", "MobilePhoneNumber", mobile),
        ns("AirSyncBase", "NativeBodyType", 1),
    )
}

/// `start` shifted by whole minutes.
pub(super) fn plus_minutes(t: DateTime<FixedOffset>, minutes: i64) -> DateTime<FixedOffset> {
    t + TimeDelta::minutes(minutes)
}
