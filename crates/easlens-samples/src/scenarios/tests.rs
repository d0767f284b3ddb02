//! What a user of the inspector would see in each scenario: every exchange parsed with the
//! project's HTTP parser and summarised with `capture::summarize` (as opening a capture does).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::*;
use easlens_core::capture::summarize;
use easlens_core::eas::Command;
use easlens_core::eas::query::QueryForm;
use easlens_core::eas::session::{BodyState, EasSummary, Highlight};
use easlens_core::http::{decode_body, parse_request, parse_response};
use easlens_core::readers::{Body, HttpSession, Request, Response};
use easlens_core::wbxml::{self, multipart};

/// One exchange as the inspector sees it.
struct Seen {
    host: String,
    request_headers: easlens_core::http::Headers,
    http: Option<u16>,
    eas: EasSummary,
    request_xml: Option<String>,
    response_xml: Option<String>,
    /// Decoded response body (de-chunked, decompressed).
    response_body: Vec<u8>,
    steps: Vec<&'static str>,
}

fn xml_of(bytes: &[u8]) -> Option<String> {
    let part = match multipart::parts(bytes) {
        Ok(parts) => &bytes[parts[0].clone()],
        Err(_) => bytes,
    };
    if part.first() != Some(&0x03) {
        return None;
    }
    Some(wbxml::to_xml(&wbxml::decode(part).expect("WBXML decodes")))
}

fn see(ex: &Exchange) -> Seen {
    let (head, start) = parse_request(&ex.request).expect("request parses");
    assert!(head.problems.is_empty(), "{:?}", head.problems);
    let request_body = ex.request[start..].to_vec();
    let host = head.headers.get("Host").expect("Host header").to_string();
    assert!(head.target.starts_with('/'), "origin form: {}", head.target);
    let url = format!("https://{host}{}", head.target);
    let request_headers = head.headers.clone();
    if head.method == "POST" {
        assert_eq!(head.headers.content_length(), Some(request_body.len() as u64));
    }
    let mut session = HttpSession::new(1);
    session.id = Some(ex.sid);
    session.request = Some(Request::new(head, url, Body::in_memory(request_body.clone())));
    session.flags.aborted = ex.aborted;
    session.flags.generated = ex.generated_by_proxy;
    let mut response_raw = Vec::new();
    let mut response_body = Vec::new();
    let mut steps = Vec::new();
    if let Some(r) = &ex.response {
        let (head, start) = parse_response(r).expect("response parses");
        assert!(head.problems.is_empty(), "{:?}", head.problems);
        response_raw = r[start..].to_vec();
        if let Some(len) = head.headers.content_length() {
            assert_eq!(len, response_raw.len() as u64, "Content-Length");
        }
        let decoded = decode_body(&response_raw, &head.headers);
        assert!(decoded.notes.is_empty(), "{:?}", decoded.notes);
        response_body = decoded.bytes;
        steps = decoded.steps;
        session.response = Some(Response {
            head,
            body: Body::in_memory(response_raw.clone()),
        });
    }
    let http = session.http_status();
    let eas = summarize(&session, &request_body, &response_raw).expect("an ActiveSync session");
    Seen {
        host,
        request_headers,
        http,
        eas,
        request_xml: xml_of(&request_body),
        response_xml: if ex.generated_by_proxy {
            None
        } else {
            xml_of(&response_body)
        },
        response_body,
        steps,
    }
}

fn run(scenario: Scenario, device: Device) -> (Vec<Exchange>, Vec<Seen>) {
    let exchanges = exchanges(scenario, device);
    let seen = exchanges.iter().map(see).collect();
    (exchanges, seen)
}

fn commands(seen: &[Seen]) -> Vec<Option<Command>> {
    seen.iter().map(|s| s.eas.command).collect()
}

/// The text of the first `<name …>text</name>` in `xml`.
fn text_of<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = xml.find(&format!("<{name}"))?;
    let rest = &xml[open..];
    let start = rest.find('>')? + 1;
    let end = rest.find(&format!("</{name}>"))?;
    Some(&rest[start..end])
}

fn request_sync_keys(s: &Seen, collection: &str) -> Vec<String> {
    s.eas
        .sync_keys
        .iter()
        .filter(|k| k.side == easlens_core::http::Side::Request && k.collection_id.as_deref() == Some(collection))
        .map(|k| k.value.clone())
        .collect()
}

#[test]
fn every_exchange_reads_cleanly() {
    for scenario in Scenario::ALL {
        for device in Device::ALL {
            let (exchanges, seen) = run(scenario, device);
            let what = format!("{}-{}", scenario.name(), device.name());
            assert!(exchanges.len() >= 6, "{what}: {} exchanges", exchanges.len());
            for (i, (ex, s)) in exchanges.iter().zip(&seen).enumerate() {
                let at = format!("{what} #{i}");
                // No WBXML, query or decoding problems; only the proxy's own 502 gets a note.
                if ex.generated_by_proxy {
                    assert_eq!(s.eas.notes.len(), 1, "{at}: {:?}", s.eas.notes);
                    assert!(s.eas.notes[0].contains("generated by the proxy"));
                } else {
                    assert!(s.eas.notes.is_empty(), "{at}: {:?}", s.eas.notes);
                }
                assert_eq!(ex.response.is_none(), ex.aborted, "{at}");
                // Bodies: WBXML wherever the content type says so.
                if s.eas.command.is_some() {
                    assert_eq!(s.eas.request_body, BodyState::Wbxml, "{at}");
                    assert!(s.request_xml.is_some(), "{at}");
                }
                if ex.response.is_some() && !ex.generated_by_proxy && !s.response_body.is_empty() {
                    let html = s.http == Some(500);
                    assert_eq!(
                        s.eas.response_body,
                        if html { BodyState::Other } else { BodyState::Wbxml },
                        "{at}"
                    );
                }
                // Who is talking.
                assert_eq!(s.eas.user_agent.as_deref(), Some(device.user_agent()), "{at}");
                let auth = s.request_headers.get("Authorization").expect("Authorization");
                let creds = BASE64.decode(auth.strip_prefix("Basic ").expect("Basic")).unwrap();
                assert_eq!(creds, b"contoso\\jdoe:SamplePassword1");
                if s.eas.command.is_none() {
                    continue; // OPTIONS
                }
                assert_eq!(s.eas.device_id.as_deref(), Some(device.device_id()), "{at}");
                assert_eq!(s.eas.device_type.as_deref(), Some(device.device_type()), "{at}");
                assert_eq!(s.eas.user.as_deref(), Some(device.user()), "{at}");
                assert_eq!(s.eas.query_form, Some(device.query_form()), "{at}");
                let version = if scenario == Scenario::PolicyRefreshLegacy {
                    "12.1"
                } else {
                    device.protocol_version()
                };
                assert_eq!(s.eas.protocol_version.as_deref(), Some(version), "{at}");
                match device {
                    Device::IPhone => {
                        assert!(s.request_headers.contains("X-MS-PolicyKey"), "{at}");
                        assert!(s.request_headers.contains("MS-ASProtocolVersion"), "{at}");
                    }
                    Device::Android => {
                        // The base64 query carries version and policy key; no headers for them.
                        assert!(!s.request_headers.contains("X-MS-PolicyKey"), "{at}");
                        assert!(!s.request_headers.contains("MS-ASProtocolVersion"), "{at}");
                    }
                }
                if ex.response.is_some() && s.http != Some(401) && !ex.generated_by_proxy {
                    assert!(s.eas.server_version.is_some(), "{at}");
                }
            }
            // One conversation: time and Fiddler's session ids move forward.
            for w in exchanges.windows(2) {
                assert!(w[1].sid > w[0].sid, "{what}: SIDs");
                let end = w[0].started + chrono::TimeDelta::milliseconds(i64::from(w[0].duration_ms));
                assert!(
                    w[1].started > end,
                    "{what}: {} starts before {} ends",
                    w[1].sid,
                    w[0].sid
                );
                assert!(w[1].started - end < chrono::TimeDelta::hours(1), "{what}: gap");
            }
        }
    }
}

#[test]
fn generation_is_deterministic() {
    for scenario in Scenario::ALL {
        for device in Device::ALL {
            assert_eq!(conversation(scenario, device), conversation(scenario, device));
        }
    }
}

#[test]
fn the_sample_set_covers_devices_forms_and_framings() {
    let all = all_samples();
    assert_eq!(all.len(), Scenario::ALL.len() * Device::ALL.len());
    let names: std::collections::HashSet<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), all.len());
    assert!(names.contains("healthy-iphone") && names.contains("redirect-and-auth-android"));
    let mut forms = std::collections::HashSet::new();
    let (mut gzip, mut chunked, mut both, mut multi, mut aborted, mut generated) = (0, 0, 0, 0, 0, 0);
    for (_, conversation) in &all {
        for ex in &conversation.trace {
            let s = see(ex);
            forms.extend(s.eas.query_form);
            gzip += usize::from(s.steps == ["gzip"]);
            chunked += usize::from(s.steps == ["chunked"]);
            both += usize::from(s.steps == ["chunked", "gzip"]);
            multi += usize::from(multipart::is_multipart(&s.response_body));
            aborted += usize::from(ex.aborted);
            generated += usize::from(ex.generated_by_proxy);
        }
    }
    assert_eq!(forms.len(), 2);
    assert!(
        gzip > 5 && chunked > 3 && both >= 2 && multi >= 2,
        "{gzip} {chunked} {both} {multi}"
    );
    // The long Pings of synckey-reset, the iPhone's body fetch of item-failures; Fiddler's 502.
    assert_eq!((aborted, generated), (3, 1));
}

#[test]
fn healthy_has_nothing_to_highlight() {
    use Command::*;
    for device in Device::ALL {
        let (exchanges, seen) = run(Scenario::Healthy, device);
        assert_eq!(
            commands(&seen),
            [
                None,
                Some(Provision),
                Some(Provision),
                Some(FolderSync),
                Some(Settings),
                Some(Sync),
                Some(Sync),
                Some(Ping),
                Some(Ping),
                Some(Sync),
                Some(ItemOperations),
                Some(SendMail),
                Some(Ping),
                Some(Sync),
                Some(Sync),
                Some(Ping),
            ]
        );
        for (ex, s) in exchanges.iter().zip(&seen) {
            assert_eq!(s.http, Some(200));
            assert!(
                s.eas.highlights.is_empty(),
                "{:?} {:?}",
                s.eas.command,
                s.eas.highlights
            );
            assert!(!ex.aborted && !ex.generated_by_proxy);
            assert!(s.eas.headers.throttle.is_none());
        }
        // OPTIONS announces versions and commands.
        assert!(
            seen[0]
                .eas
                .headers
                .protocol_versions
                .as_deref()
                .unwrap()
                .contains("16.1")
        );
        assert!(
            seen[0]
                .eas
                .headers
                .protocol_commands
                .as_deref()
                .unwrap()
                .contains("ItemOperations")
        );
        // Provision: policy download, then acknowledgement with the temporary key.
        assert_eq!(seen[1].eas.response_status_values(), [1, 1, 1]);
        let temp = text_of(seen[1].response_xml.as_deref().unwrap(), "PolicyKey").unwrap();
        assert_eq!(
            text_of(seen[2].request_xml.as_deref().unwrap(), "PolicyKey"),
            Some(temp)
        );
        assert_eq!(seen[2].eas.policy_key.as_deref(), Some(temp));
        let final_key = text_of(seen[2].response_xml.as_deref().unwrap(), "PolicyKey").unwrap();
        assert_ne!(final_key, temp);
        assert_eq!(seen[3].eas.policy_key.as_deref(), Some(final_key));
        // FolderSync from 0 lists the folders.
        let folders = seen[3].response_xml.as_deref().unwrap();
        for name in ["Inbox", "Sent Items", "Calendar", "Contacts"] {
            assert!(
                folders.contains(&format!("<DisplayName>{name}</DisplayName>")),
                "{name}"
            );
        }
        // SyncKey 0 for three collections, then GetChanges with the keys the server gave.
        assert_eq!(request_sync_keys(&seen[5], "5"), ["0"]);
        assert_eq!(seen[5].eas.collection_ids, ["5", "1", "3"]);
        let given = seen[5]
            .eas
            .sync_keys
            .iter()
            .find(|k| k.side == easlens_core::http::Side::Response && k.collection_id.as_deref() == Some("5"))
            .unwrap()
            .value
            .clone();
        assert_eq!(request_sync_keys(&seen[6], "5"), [given]);
        let adds = seen[6].response_xml.as_deref().unwrap();
        assert!(adds.contains(r#"<ConversationId xmlns="Email2:" encoding="hex">"#));
        assert!(adds.contains("<Type>2</Type>") && adds.contains("&lt;html&gt;"));
        assert_eq!(seen[6].steps, ["gzip"]);
        // Ping: heartbeat expired, then changes in the Inbox.
        assert_eq!(seen[7].eas.response_status_values(), [1]);
        assert_eq!(seen[8].eas.response_status_values(), [2]);
        assert!(seen[8].response_xml.as_deref().unwrap().contains("<Folder>5</Folder>"));
        // Multipart attachment fetch.
        let s = &seen[10];
        assert!(multipart::is_multipart(&s.response_body));
        assert_eq!(multipart::parts(&s.response_body).unwrap().len(), 2);
        match device {
            Device::IPhone => assert_eq!(s.eas.headers.accept_multipart.as_deref(), Some("T")),
            Device::Android => {
                let target = parse_request(&exchanges[10].request).unwrap().0.target;
                let line = easlens_core::eas::query::parse_request_target(&target).unwrap();
                assert_eq!(line.accept_multipart, Some(true));
            }
        }
        // SendMail: 200 with an empty body.
        assert_eq!(seen[11].eas.response_body, BodyState::Empty);
        // 8-bit ISO-8859-1 MIME is not UTF-8 text, so it is shown as base64.
        assert!(
            seen[11]
                .request_xml
                .as_deref()
                .unwrap()
                .contains("<Mime encoding=\"base64\">RnJvbTog")
        );
        let body = &exchanges[11].request;
        let at = body.windows(11).position(|w| w == b"From: Jorda").unwrap();
        assert!(body[at - 4..at].contains(&0xC3), "MIME sent as OPAQUE");
        // MoreAvailable, then the rest.
        assert!(seen[13].response_xml.as_deref().unwrap().contains("<MoreAvailable/>"));
        assert!(!seen[14].response_xml.as_deref().unwrap().contains("<MoreAvailable/>"));
    }
}

#[test]
fn android_base64_query_decodes_to_the_device() {
    let exchanges = exchanges(Scenario::Healthy, Device::Android);
    let target = parse_request(&exchanges[5].request).unwrap().0.target;
    let line = easlens_core::eas::query::parse_request_target(&target).unwrap();
    assert_eq!(line.form, QueryForm::Base64);
    assert_eq!(line.command, Some(Command::Sync));
    assert_eq!(line.protocol_version.as_deref(), Some("14.1"));
    assert_eq!(line.device_id.as_deref(), Some("SYNTHDEV0002ANDR"));
    assert_eq!(line.device_type.as_deref(), Some("Android"));
    assert_eq!(line.user.as_deref(), Some("jdoe@contoso.com"));
    assert_eq!(line.locale, Some(0x0409));
    assert!(line.policy_key.is_some());
    assert!(line.warnings.is_empty(), "{:?}", line.warnings);
    // Before provisioning there is no policy key in the query.
    let target = parse_request(&exchanges[1].request).unwrap().0.target;
    let line = easlens_core::eas::query::parse_request_target(&target).unwrap();
    assert_eq!((line.command, line.policy_key), (Some(Command::Provision), None));
}

#[test]
fn throttling_storm_shows_the_burst_and_the_503s() {
    for device in Device::ALL {
        let (exchanges, seen) = run(Scenario::ThrottlingStorm, device);
        let syncs: Vec<&Seen> = seen.iter().filter(|s| s.eas.command == Some(Command::Sync)).collect();
        let ok: Vec<&&Seen> = syncs.iter().filter(|s| s.http == Some(200)).collect();
        assert!(ok.len() >= 10);
        let key = request_sync_keys(ok[0], "5");
        assert!(
            ok.iter().all(|s| request_sync_keys(s, "5") == key),
            "same SyncKey every time"
        );
        assert!(ok.iter().all(|s| s.eas.collection_ids == ["5"] && !s.eas.throttled()));
        // Each answer hands out a new key the device ignores.
        let answered: std::collections::HashSet<String> = ok
            .iter()
            .flat_map(|s| {
                s.eas
                    .sync_keys
                    .iter()
                    .filter(|k| k.side == easlens_core::http::Side::Response)
            })
            .map(|k| k.value.clone())
            .collect();
        assert_eq!(answered.len(), ok.len());
        let throttled: Vec<(usize, &Seen)> = seen.iter().enumerate().filter(|(_, s)| s.eas.throttled()).collect();
        assert!(throttled.len() >= 2);
        for (i, s) in &throttled {
            assert_eq!(s.http, Some(503));
            assert!(s.eas.highlights.contains(&Highlight::Http));
            assert_eq!(request_sync_keys(s, "5"), key);
            let reason = s.eas.headers.throttle.as_deref().unwrap();
            match device {
                Device::IPhone => {
                    assert_eq!(reason, "CommandFrequency");
                    assert_eq!(s.eas.headers.retry_after.as_deref(), Some("600"));
                }
                Device::Android => {
                    assert_eq!(reason, "RecentCommands");
                    assert_eq!(s.eas.headers.retry_after, None);
                }
            }
            assert!(*i > 10);
        }
        // The retries come seconds after the 503, not ten minutes.
        let (first, second) = (throttled[0].0, throttled[1].0);
        assert!(exchanges[second].started - exchanges[first].started < chrono::TimeDelta::seconds(30));
        // The burst: twelve Syncs within a couple of minutes.
        let burst = &exchanges[1..13];
        assert!(burst[11].started - burst[0].started < chrono::TimeDelta::minutes(2));
    }
}

#[test]
fn synckey_reset_goes_back_to_zero_and_resends_items() {
    for device in Device::ALL {
        let (exchanges, seen) = run(Scenario::SyncKeyReset, device);
        assert!(exchanges[0].aborted && exchanges[0].response.is_none());
        assert_eq!(seen[0].eas.command, Some(Command::Ping));
        assert_eq!(seen[0].http, None);
        assert!(seen[0].eas.highlights.is_empty());
        let errors = seen.iter().filter(|s| s.http == Some(500)).count();
        assert_eq!(errors, if device == Device::IPhone { 3 } else { 2 });
        let status3 = seen.iter().position(|s| s.eas.response_status_values() == [3]);
        assert_eq!(status3.is_some(), device == Device::Android);
        if let Some(i) = status3 {
            assert!(seen[i].eas.highlights.contains(&Highlight::Status));
        }
        let reset = seen
            .iter()
            .position(|s| request_sync_keys(s, "5") == ["0"])
            .expect("SyncKey 0");
        assert!(seen[reset - 1].http == Some(500) || status3 == Some(reset - 1));
        // Items already seen come again as Adds.
        let before: String = seen[..reset].iter().filter_map(|s| s.response_xml.clone()).collect();
        let after = seen[reset + 1].response_xml.as_deref().unwrap();
        for id in ["5:41", "5:42", "5:43"] {
            let tag = format!("<ServerId>{id}</ServerId>");
            assert!(before.contains(&tag) && after.contains(&tag), "{id}");
        }
        assert_eq!(seen[reset + 1].steps, ["chunked"]);
        assert_eq!(seen[reset + 2].eas.response_body, BodyState::Empty);
    }
}

#[test]
fn policy_refresh_with_and_without_provision() {
    // iPhone: 144, then the two Provision steps, then the Sync succeeds with the new key.
    let (_, seen) = run(Scenario::PolicyRefresh, Device::IPhone);
    let i = seen
        .iter()
        .position(|s| s.eas.response_status_values() == [144])
        .expect("Status 144");
    assert_eq!(seen[i].eas.command, Some(Command::Sync));
    assert!(seen[i].eas.highlights.contains(&Highlight::Status));
    assert_eq!(seen[i].eas.statuses[0].name, Some("InvalidPolicyKey"));
    assert_eq!(
        commands(&seen[i + 1..i + 4]),
        [Some(Command::Provision), Some(Command::Provision), Some(Command::Sync)]
    );
    assert_eq!(seen[i + 3].eas.response_status_values(), [1]);
    assert_ne!(seen[i].eas.policy_key, seen[i + 3].eas.policy_key);

    // Android: 143/142 over and over, never a Provision, the same policy key throughout.
    let (_, seen) = run(Scenario::PolicyRefresh, Device::Android);
    assert!(!commands(&seen).contains(&Some(Command::Provision)));
    let keys: std::collections::HashSet<_> = seen.iter().map(|s| s.eas.policy_key.clone()).collect();
    assert_eq!(keys.len(), 1);
    assert!(keys.iter().next().unwrap().is_some());
    let looped: Vec<&Seen> = seen
        .iter()
        .filter(|s| matches!(s.eas.response_status_values()[..], [142] | [143]))
        .collect();
    assert!(looped.len() >= 6);
    assert!(looped.iter().any(|s| s.eas.command == Some(Command::FolderSync)));
    assert!(looped.iter().any(|s| s.eas.command == Some(Command::Sync)));
    assert!(
        looped
            .iter()
            .all(|s| s.http == Some(200) && s.eas.highlights == [Highlight::Status])
    );

    // EAS 12.1 server: HTTP 449 instead of a Status.
    let (_, seen) = run(Scenario::PolicyRefreshLegacy, Device::Android);
    assert!(!commands(&seen).contains(&Some(Command::Provision)));
    assert!(seen[1..].iter().all(|s| s.http == Some(449)));
    assert!(seen.len() >= 6);
    assert_eq!(seen[0].eas.server_version.as_deref(), Some("8.3"));
    let (_, seen) = run(Scenario::PolicyRefreshLegacy, Device::IPhone);
    assert_eq!(seen[1].http, Some(449));
    assert_eq!(
        commands(&seen[2..4]),
        [Some(Command::Provision), Some(Command::Provision)]
    );
    assert!(
        seen[4..]
            .iter()
            .all(|s| s.http == Some(200) && s.eas.highlights.is_empty())
    );
}

#[test]
fn calendar_item_can_be_followed_by_uid_and_server_id() {
    for device in Device::ALL {
        let (_, seen) = run(Scenario::CalendarItemLifecycle, device);
        let has = |s: &Seen, needle: &str| {
            s.response_xml.as_deref().is_some_and(|x| x.contains(needle))
                || s.request_xml.as_deref().is_some_and(|x| x.contains(needle))
        };
        // Server Add: the UID, subject, times, organizer and meeting status.
        let add = seen.iter().find(|s| has(s, "<ServerId>1:25</ServerId>")).unwrap();
        let xml = add.response_xml.as_deref().unwrap();
        let uid = text_of(xml, "UID").unwrap().to_string();
        assert!(uid.starts_with("040000008200E00074C5B7101A82E008"), "{uid}");
        for field in [
            "<Subject xmlns=\"Calendar:\">Quarterly planning review</Subject>",
            "<StartTime",
            "<EndTime",
            "<OrganizerEmail",
            "<MeetingStatus xmlns=\"Calendar:\">3</MeetingStatus>",
            "<DtStamp",
        ] {
            assert!(xml.contains(field), "{field}");
        }
        match device {
            Device::IPhone => assert!(xml.contains("<Location xmlns=\"AirSyncBase:\">")),
            Device::Android => assert!(xml.contains("<Location xmlns=\"Calendar:\">")),
        }
        // The invitation in the Inbox carries the same object id.
        let goid = BASE64.encode(hex::decode(&uid).unwrap());
        assert!(xml.contains(&format!("<GlobalObjId>{goid}</GlobalObjId>")));
        // Client Change of 1:25.
        let client_change = seen
            .iter()
            .find(|s| {
                s.request_xml
                    .as_deref()
                    .is_some_and(|x| x.contains("<Change>") && x.contains("1:25"))
            })
            .unwrap();
        assert!(
            client_change
                .request_xml
                .as_deref()
                .unwrap()
                .contains("<Reminder xmlns=\"Calendar:\">30</Reminder>")
        );
        assert_eq!(client_change.eas.response_status_values(), [1]);
        // Client Add answered with a ServerId.
        let client_add = seen
            .iter()
            .find(|s| s.request_xml.as_deref().is_some_and(|x| x.contains("<ClientId>")))
            .unwrap();
        let client_id = text_of(client_add.request_xml.as_deref().unwrap(), "ClientId").unwrap();
        let resp = client_add.response_xml.as_deref().unwrap();
        assert!(resp.contains("<Responses>") && resp.contains("<ServerId>1:26</ServerId>"));
        assert_eq!(text_of(resp, "ClientId"), Some(client_id));
        assert_eq!(client_add.eas.response_status_values(), [1, 1]);
        // Server Change: same UID, new subject and a later DtStamp.
        let server_change = seen
            .iter()
            .find(|s| s.response_xml.as_deref().is_some_and(|x| x.contains("<Change>")))
            .unwrap();
        let xml = server_change.response_xml.as_deref().unwrap();
        let change = &xml[xml.find("<Change>").unwrap()..];
        assert_eq!(text_of(change, "UID"), Some(uid.as_str()));
        assert!(change.contains("(moved to Thursday)"));
        let added = add.response_xml.as_deref().unwrap();
        let added = &added[added.find("<ServerId>1:25</ServerId>").unwrap()..];
        let (stamp_add, stamp_change) = (text_of(added, "DtStamp").unwrap(), text_of(change, "DtStamp").unwrap());
        assert!(stamp_change > stamp_add, "{stamp_add} {stamp_change}");
        assert_ne!(text_of(added, "StartTime"), text_of(change, "StartTime"));
        // Delete: by the server with a cancellation (iPhone) or by the device (Android).
        let delete = seen.iter().find(|s| has(s, "<Delete>")).unwrap();
        match device {
            Device::IPhone => {
                let xml = delete.response_xml.as_deref().unwrap();
                assert!(xml.contains("<Delete>\n") && xml.contains("<ServerId>1:25</ServerId>"));
                assert!(xml.contains("IPM.Schedule.Meeting.Canceled"));
                assert!(xml.contains(&format!("<GlobalObjId>{goid}</GlobalObjId>")));
            }
            Device::Android => {
                let xml = delete.request_xml.as_deref().unwrap();
                assert!(xml.contains("<ServerId>1:25</ServerId>"));
                assert_eq!(delete.eas.response_status_values(), [1]);
            }
        }
        assert!(seen.iter().all(|s| s.http == Some(200) && s.eas.highlights.is_empty()));
    }
}

/// The index of the first exchange whose request (or response) XML holds every needle.
fn find(seen: &[Seen], request: bool, needles: &[&str]) -> Option<usize> {
    seen.iter().position(|s| {
        let xml = if request { &s.request_xml } else { &s.response_xml };
        xml.as_deref().is_some_and(|x| needles.iter().all(|n| x.contains(n)))
    })
}

#[test]
fn calendar_failures_show_each_item_pattern() {
    for device in Device::ALL {
        let (_, seen) = run(Scenario::CalendarFailures, device);
        let what = device.name();
        // Pattern 12: a monthly series on day 31, delivered with the weekly series and a meeting.
        let delivered = find(
            &seen,
            false,
            &["<ServerId>1:40</ServerId>", "<ServerId>1:41</ServerId>"],
        )
        .unwrap();
        let xml = seen[delivered].response_xml.as_deref().unwrap();
        assert!(
            xml.contains("<Type>2</Type>") && xml.contains("<DayOfMonth>31</DayOfMonth>"),
            "{what}"
        );
        assert!(xml.contains("<DayOfWeek>4</DayOfWeek>") && xml.contains("<ServerId>1:42</ServerId>"));
        let uid2 = text_of(&xml[xml.find("<ServerId>1:41</ServerId>").unwrap()..], "UID").unwrap();
        // Pattern 10: the attendee's copy sent back with the user as organizer.
        let hijack = find(&seen, true, &["<Change>", "<ServerId>1:42</ServerId>"]).unwrap();
        let xml = seen[hijack].request_xml.as_deref().unwrap();
        assert_eq!(text_of(xml, "OrganizerEmail"), Some("jdoe@contoso.com"));
        assert_eq!(text_of(xml, "MeetingStatus"), Some("1"));
        assert_eq!(seen[hijack].eas.response_status_values(), [1]);
        // Pattern 11a: the server's update of 1:43 is older than what it delivered.
        let add = find(&seen, false, &["<Add>", "<ServerId>1:43</ServerId>"]).unwrap();
        let change = find(&seen, false, &["<Change>", "<ServerId>1:43</ServerId>"]).unwrap();
        assert!(add < change);
        let stamp = |i: usize| {
            text_of(seen[i].response_xml.as_deref().unwrap(), "DtStamp")
                .unwrap()
                .to_string()
        };
        assert!(stamp(change) < stamp(add), "{what}");
        // Pattern 11b: only the iPhone (EAS 16.1) edits an occurrence with ExceptionStartTime.
        let exception = find(&seen, true, &["<ServerId>1:41</ServerId>", "<ExceptionStartTime>"]);
        match device {
            Device::IPhone => {
                let xml = seen[exception.unwrap()].request_xml.as_deref().unwrap();
                assert!(!xml.contains("InstanceId") && xml.contains("<Exception>"));
            }
            Device::Android => assert_eq!(exception, None),
        }
        // Pattern 9: a cancellation of one occurrence that reads as the whole meeting, and the
        // device's Delete of the series in the very next request.
        let cancel = find(&seen, false, &["IPM.Schedule.Meeting.Canceled"]).unwrap();
        let xml = seen[cancel].response_xml.as_deref().unwrap();
        assert_eq!(text_of(xml, "InstanceType"), Some("0"));
        assert!(!xml.contains("RecurrenceId") && !xml.contains("<Recurrences>"));
        let goid = BASE64.encode(hex::decode(uid2).unwrap());
        assert_eq!(text_of(xml, "GlobalObjId"), Some(goid.as_str()));
        assert!(text_of(xml, "StartTime").unwrap().starts_with("2024-03-19T"));
        let delete = find(&seen, true, &["<Delete>", "<ServerId>1:41</ServerId>"]).unwrap();
        assert_eq!(delete, cancel + 1, "{what}");
        assert_eq!(seen[delete].eas.response_status_values(), [1]);
        // Pattern 14: the same MeetingResponse four times, each answered Status 1.
        let responses: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.eas.command == Some(Command::MeetingResponse))
            .collect();
        assert_eq!(responses.len(), 4);
        for r in responses {
            assert_eq!(text_of(r.request_xml.as_deref().unwrap(), "RequestId"), Some("5:60"));
            let xml = r.response_xml.as_deref().unwrap();
            assert_eq!(text_of(xml, "Status"), Some("1"));
            assert_eq!(text_of(xml, "CalendarId"), Some("1:45"));
        }
        assert!(seen.iter().all(|s| s.http == Some(200)));
    }
}

#[test]
fn item_failures_show_each_item_pattern() {
    for device in Device::ALL {
        let (exchanges, seen) = run(Scenario::ItemFailures, device);
        // Pattern 13: the device adds a contact the server already has.
        let server = find(&seen, false, &["<ServerId>3:10</ServerId>"]).unwrap();
        let xml = seen[server].response_xml.as_deref().unwrap();
        let first = &xml[xml.find("<ServerId>3:10</ServerId>").unwrap()..];
        let client = find(&seen, true, &["<ClientId>"]).unwrap();
        let added = seen[client].request_xml.as_deref().unwrap();
        for field in ["FileAs", "Email1Address"] {
            assert_eq!(text_of(first, field), text_of(added, field), "{field}");
        }
        assert!(
            seen[client]
                .response_xml
                .as_deref()
                .unwrap()
                .contains("<ServerId>3:12</ServerId>")
        );
        // Pattern 15: one body cut, one not sent at all; neither fetch succeeds.
        let xml = seen[server].response_xml.as_deref().unwrap();
        let cut = &xml[xml.find("<ServerId>5:70</ServerId>").unwrap()..];
        assert_eq!(text_of(cut, "Truncated"), Some("1"));
        let missing = &xml[xml.find("<ServerId>5:71</ServerId>").unwrap()..];
        let body = &missing[..missing.find("</Body>").unwrap()];
        assert!(body.contains("<Truncated>1</Truncated>") && !body.contains("<Data>"));
        assert_ne!(text_of(body, "EstimatedDataSize"), Some("0"));
        let fetch = |id: &str| {
            find(
                &seen,
                true,
                &["<ItemOperations", &format!("<ServerId xmlns=\"AirSync:\">{id}<")],
            )
        };
        let (f70, f71) = (fetch("5:70").unwrap(), fetch("5:71").unwrap());
        match device {
            Device::IPhone => {
                assert_eq!(seen[f70].eas.response_status_values(), [1, 6]);
                assert!(exchanges[f71].aborted);
            }
            Device::Android => {
                assert_eq!(seen[f70].http, Some(500));
                assert_eq!(seen[f71].eas.response_status_values(), [1, 6]);
            }
        }
        // Pattern 16: the same Change refused three times; the SyncKey goes on.
        let changes: Vec<usize> = (0..seen.len())
            .filter(|&i| {
                seen[i]
                    .request_xml
                    .as_deref()
                    .is_some_and(|x| x.contains("<Change>") && x.contains("<ServerId>5:72</ServerId>"))
            })
            .collect();
        assert_eq!(changes.len(), 3);
        let keys: Vec<u64> = changes
            .iter()
            .map(|&i| request_sync_keys(&seen[i], "5")[0].parse().unwrap())
            .collect();
        assert!(keys.windows(2).all(|w| w[1] == w[0] + 1), "{keys:?}");
        for i in changes {
            assert_eq!(seen[i].eas.response_status_values(), [1, 6]);
        }
    }
}

#[test]
fn item_near_misses_do_everything_right() {
    for device in Device::ALL {
        let (_, seen) = run(Scenario::ItemNearMisses, device);
        // The device never deletes anything; the occurrence is cancelled as an occurrence.
        assert_eq!(find(&seen, true, &["<Delete>"]), None);
        let cancel = find(&seen, false, &["IPM.Schedule.Meeting.Canceled"]).unwrap();
        let xml = seen[cancel].response_xml.as_deref().unwrap();
        assert_eq!(text_of(xml, "InstanceType"), Some("3"));
        assert!(text_of(xml, "RecurrenceId").unwrap().starts_with("2024-03-18T"));
        let series = &xml[xml.find("<ServerId>1:50</ServerId>").unwrap()..];
        assert!(series.contains("<Deleted>1</Deleted>"));
        assert_eq!(
            series.contains("<ExceptionStartTime>"),
            device == Device::Android,
            "16.1 names the occurrence with InstanceId"
        );
        assert!(find(&seen, false, &["<DayOfMonth>28</DayOfMonth>"]).is_some());
        // The truncated body is fetched; one MeetingResponse.
        let fetch = find(&seen, true, &["<ItemOperations", "5:80"]).unwrap();
        assert_eq!(seen[fetch].eas.response_status_values(), [1, 1]);
        let meeting_responses = seen
            .iter()
            .filter(|s| s.eas.command == Some(Command::MeetingResponse))
            .count();
        assert_eq!(meeting_responses, 1);
        // A Change refused once, accepted on the retry.
        let statuses: Vec<Vec<u32>> = seen
            .iter()
            .filter(|s| {
                s.request_xml
                    .as_deref()
                    .is_some_and(|x| x.contains("<ServerId>5:82</ServerId>"))
            })
            .map(|s| s.eas.response_status_values())
            .collect();
        assert_eq!(statuses, [vec![1, 6], vec![1, 1]]);
        // The attendee's Change keeps the organizer and MeetingStatus 3.
        let change = find(&seen, true, &["<Change>", "<ServerId>1:52</ServerId>"]).unwrap();
        let xml = seen[change].request_xml.as_deref().unwrap();
        assert_eq!(text_of(xml, "MeetingStatus"), Some("3"));
        assert_ne!(text_of(xml, "OrganizerEmail"), Some("jdoe@contoso.com"));
    }
}

#[test]
fn redirect_then_failing_credentials() {
    let location = "https://mail2.example.com/Microsoft-Server-ActiveSync";
    for device in Device::ALL {
        let (exchanges, seen) = run(Scenario::RedirectAndAuth, device);
        assert_eq!(seen[0].http, Some(451));
        assert_eq!(seen[0].eas.headers.location.as_deref(), Some(location));
        assert_eq!(seen[0].host, "mail.example.com");
        let redirects = seen.iter().filter(|s| s.http == Some(451)).count();
        match device {
            Device::IPhone => {
                // Followed at once; the first attempt fails in the proxy.
                assert_eq!(redirects, 1);
                assert_eq!(seen[1].host, "mail2.example.com");
                assert!(exchanges[1].generated_by_proxy);
                assert_eq!(seen[1].http, Some(502));
                assert!(
                    seen[1]
                        .response_body
                        .starts_with(b"[Fiddler] The connection to 'mail2.example.com' failed")
                );
            }
            Device::Android => {
                assert_eq!(redirects, 3);
                assert!(seen[..3].iter().all(|s| s.host == "mail.example.com"));
                assert_eq!(seen[3].host, "mail2.example.com");
                let target = parse_request(&exchanges[3].request).unwrap().0.target;
                assert!(target.starts_with("/Microsoft-Server-ActiveSync?"));
            }
        }
        assert!(
            seen.iter()
                .any(|s| s.http == Some(200) && s.eas.headers.credentials_expire.as_deref() == Some("0"))
        );
        let unauthorized: Vec<&Seen> = seen.iter().filter(|s| s.http == Some(401)).collect();
        assert!(unauthorized.len() >= 4);
        assert!(
            unauthorized
                .iter()
                .all(|s| s.request_headers.get("Authorization").is_some())
        );
        assert!(unauthorized.iter().all(|s| s.host == "mail2.example.com"));
        assert!(
            unauthorized
                .iter()
                .any(|s| s.eas.headers.credentials_expire.as_deref() == Some("0"))
        );
        assert!(
            unauthorized
                .iter()
                .any(|s| s.eas.headers.credential_service_url.as_deref() == Some("https://passwordreset.example.com/"))
        );
        let last = seen.last().unwrap();
        match device {
            Device::IPhone => {
                assert_eq!(last.http, Some(457));
                assert_eq!(
                    last.eas.headers.credential_service_url.as_deref(),
                    Some("https://passwordreset.example.com/")
                );
            }
            Device::Android => assert_eq!(last.http, Some(456)),
        }
        assert!(last.eas.highlights.contains(&Highlight::Http));
    }
}

#[test]
fn big_streams_deterministic_sync_heavy_sessions() {
    let fingerprint = |exchanges: &mut dyn Iterator<Item = Exchange>| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut count = 0;
        for ex in exchanges {
            count += 1;
            for b in ex.request.iter().chain(ex.response.iter().flatten()) {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        (count, h)
    };
    let (mut syncs, mut kinds, mut forms, mut sizes) = (
        0,
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
        Vec::new(),
    );
    let mut count = 0;
    for ex in big(1000, 1) {
        count += 1;
        let s = see(&ex);
        assert!(s.eas.notes.is_empty(), "{:?}", s.eas.notes);
        assert!(s.eas.highlights.is_empty());
        assert!(
            s.eas
                .statuses
                .iter()
                .all(|st| st.verdict == easlens_core::eas::status::Verdict::Success)
        );
        kinds.insert(s.eas.command);
        forms.extend(s.eas.query_form);
        if s.eas.command == Some(Command::Sync) {
            syncs += 1;
            let n = s.response_body.len();
            assert!((1024..=50 * 1024).contains(&n), "Sync response of {n} bytes");
            sizes.push(n);
        }
    }
    assert_eq!(count, 1000);
    assert!(syncs > 650, "{syncs} Syncs");
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert_eq!(forms.len(), 2);
    // Sizes spread over the range.
    assert!(sizes.iter().any(|&n| n < 5 * 1024) && sizes.iter().any(|&n| n > 40 * 1024));
    // Deterministic for a seed, different for another.
    let a = fingerprint(&mut big(1000, 1));
    assert_eq!(a, (1000, fingerprint(&mut big(1000, 1)).1));
    assert_ne!(fingerprint(&mut big(50, 1)), fingerprint(&mut big(50, 2)));
    assert_eq!(fingerprint(&mut big(0, 1)).0, 0);
}
