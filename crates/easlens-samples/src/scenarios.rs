//! Realistic Exchange ActiveSync conversations as [`Exchange`]s: what an iPhone (EAS 16.1,
//! plain query) or a Samsung Android phone (EAS 14.1, base64 query) and Exchange say to each other
//! in a healthy session and in the failure patterns a support engineer looks for
//! (see `eas-protocol-notes.md` §4): a throttling storm, a SyncKey 0 resync, policy refresh with and
//! without Provision, a calendar item's life, a 451 redirect followed by an expired password.
//!
//! Bodies are written with the project's own encoders (ActiveSync XML → [`easlens_core::wbxml::encode`],
//! [`easlens_core::eas::query`] for the request line, [`easlens_core::wbxml::multipart::build`]); responses are
//! sometimes gzip-compressed and/or chunked as Exchange sends them. Everything is deterministic:
//! fixed start times and a seeded LCG. All names, addresses, keys and ids are invented.
//!
//! Requests use the origin form (`POST /Microsoft-Server-ActiveSync?… HTTP/1.1` with `Host`), as
//! on the wire.

mod big;
mod content;
mod flows;
#[cfg(test)]
mod tests;
mod wire;

pub use big::{BigShape, big, big_shaped};

use easlens_core::eas::query::QueryForm;
use easlens_core::writers::Exchange;

/// The device of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// iOS Mail: EAS 16.1, plain query, `MS-ASProtocolVersion` and `X-MS-PolicyKey` headers,
    /// user `contoso\jdoe`.
    IPhone,
    /// Samsung Email: EAS 14.1, base64 query (version and policy key inside the query), user
    /// `jdoe@contoso.com`.
    Android,
}

impl Device {
    pub const ALL: [Device; 2] = [Device::IPhone, Device::Android];

    /// Lower-case name for file stems (`iphone`, `android`).
    pub fn name(self) -> &'static str {
        match self {
            Device::IPhone => "iphone",
            Device::Android => "android",
        }
    }

    /// The protocol version the device speaks to a current Exchange.
    pub fn protocol_version(self) -> &'static str {
        match self {
            Device::IPhone => "16.1",
            Device::Android => "14.1",
        }
    }

    pub fn query_form(self) -> QueryForm {
        match self {
            Device::IPhone => QueryForm::Plain,
            Device::Android => QueryForm::Base64,
        }
    }

    pub fn user_agent(self) -> &'static str {
        match self {
            Device::IPhone => "Apple-iPhone14C2/2008.100",
            Device::Android => "Android-SAMSUNG-SM-G991B/101.40002",
        }
    }

    pub fn device_id(self) -> &'static str {
        match self {
            Device::IPhone => "SYNTHDEV0001IPHN",
            Device::Android => "SYNTHDEV0002ANDR",
        }
    }

    pub fn device_type(self) -> &'static str {
        match self {
            Device::IPhone => "iPhone",
            Device::Android => "Android",
        }
    }

    /// The user name as typed on the device.
    pub fn user(self) -> &'static str {
        match self {
            Device::IPhone => "contoso\\jdoe",
            Device::Android => "jdoe@contoso.com",
        }
    }

    /// The ActiveSync path the device uses on its first server.
    pub fn path(self) -> &'static str {
        match self {
            Device::IPhone => "/Microsoft-Server-ActiveSync",
            Device::Android => "/Microsoft-Server-ActiveSync/default.eas",
        }
    }

    pub(crate) fn client_ip(self) -> &'static str {
        match self {
            Device::IPhone => "192.168.1.23",
            Device::Android => "10.20.0.41",
        }
    }
}

/// A conversation between one device and Exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Account set-up and normal use: OPTIONS, Provision (two steps), FolderSync, Settings,
    /// Sync from SyncKey 0, email Adds, Ping, multipart ItemOperations, SendMail, MoreAvailable.
    /// Every HTTP status 200, every EAS Status a success. After the capture stops, one more Ping
    /// (only the mailbox log has it).
    Healthy,
    /// Twelve identical Syncs for the Inbox with the same SyncKey, then 503 with
    /// `X-MS-ASThrottle`, and retries seconds later (failure patterns 1 and 3).
    ThrottlingStorm,
    /// An aborted long Ping, HTTP 500s on Sync (and Status 3 on Android), then SyncKey 0 and the
    /// same items sent again (failure pattern 2).
    SyncKeyReset,
    /// Status 144 → Provision → Sync again (iPhone); a loop of 143/142 with no Provision and an
    /// unchanged policy key (Android, failure pattern 5).
    PolicyRefresh,
    /// The same against an EAS 12.1 server (Exchange 2007), which asks with HTTP 449: the iPhone
    /// provisions, the Android phone loops.
    PolicyRefreshLegacy,
    /// A meeting added, changed by the client, changed by the server and deleted (server Delete
    /// with a cancellation on iPhone, client Delete on Android), plus a client Add with ClientId.
    CalendarItemLifecycle,
    /// 451 with `X-MS-Location` (followed at once by the iPhone, after repeats by Android; a
    /// Fiddler-generated 502 on the way), then 401s with credentials and 457 (iPhone) or 456
    /// (Android).
    RedirectAndAuth,
    /// Calendar items that go wrong on the device: a monthly series on day 31, the attendee's
    /// copy changed to make the user its organizer, a server update older than the copy it
    /// replaces, an occurrence edited with `Exceptions` but no `InstanceId` on EAS 16.1 (iPhone
    /// only), a cancellation of one occurrence read as the whole series and deleted, and the
    /// same MeetingResponse sent four times.
    CalendarFailures,
    /// Items that go wrong: a contact added again by the device with the same name and address,
    /// email bodies that never download (Fetch Status 6, HTTP 500, a dropped connection) and a
    /// Change the server refuses three times with Status 6.
    ItemFailures,
    /// The same items done right, which must not look like failures: a single occurrence
    /// cancelled with InstanceType 3 and RecurrenceId and an exception on the series, a monthly
    /// series on day 28, a truncated body fetched, one MeetingResponse, a Change refused once and
    /// accepted on retry, a new contact, an attendee's reminder change.
    ItemNearMisses,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::Healthy,
        Scenario::ThrottlingStorm,
        Scenario::SyncKeyReset,
        Scenario::PolicyRefresh,
        Scenario::PolicyRefreshLegacy,
        Scenario::CalendarItemLifecycle,
        Scenario::RedirectAndAuth,
        Scenario::CalendarFailures,
        Scenario::ItemFailures,
        Scenario::ItemNearMisses,
    ];

    /// Kebab-case name for file stems.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::ThrottlingStorm => "throttling-storm",
            Scenario::SyncKeyReset => "synckey-reset",
            Scenario::PolicyRefresh => "policy-refresh",
            Scenario::PolicyRefreshLegacy => "policy-refresh-449",
            Scenario::CalendarItemLifecycle => "calendar-lifecycle",
            Scenario::RedirectAndAuth => "redirect-and-auth",
            Scenario::CalendarFailures => "calendar-failures",
            Scenario::ItemFailures => "item-failures",
            Scenario::ItemNearMisses => "item-near-misses",
        }
    }
}

/// One scenario for one device: what the capture holds, and what the device said after the
/// capture was stopped (Exchange logged it, so only the mailbox log has it).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub trace: Vec<Exchange>,
    pub after_capture: Vec<Exchange>,
}

/// Every personal value the sample scenarios put in a capture (names, addresses, subjects,
/// locations, phone numbers, IMEIs, device IDs, user names, client IPs, credentials, words of
/// bodies): a redacted sample must contain none of them.
pub fn personal_strings() -> Vec<String> {
    let mut out = content::personal_values();
    for device in [Device::IPhone, Device::Android] {
        out.extend([device.device_id(), device.user(), device.client_ip()].map(String::from));
    }
    out.extend(["jdoe", wire::PASSWORD_IN_CREDENTIALS].map(String::from));
    out.push(wire::basic_credentials());
    out
}

pub fn conversation(scenario: Scenario, device: Device) -> Conversation {
    flows::run(scenario, device)
}

/// The captured exchanges of one scenario for one device, in order.
pub fn exchanges(scenario: Scenario, device: Device) -> Vec<Exchange> {
    conversation(scenario, device).trace
}

/// Every scenario for both devices, named `<scenario>-<device>` (`healthy-iphone`, …): the set
/// written to `samples/`. Together the traces cover both query forms, gzip, chunked and
/// gzip+chunked responses, a multipart response, an aborted session and a proxy-generated 502.
pub fn all_samples() -> Vec<(String, Conversation)> {
    Scenario::ALL
        .iter()
        .flat_map(|&s| {
            Device::ALL
                .iter()
                .map(move |&d| (format!("{}-{}", s.name(), d.name()), conversation(s, d)))
        })
        .collect()
}
