//! The bundled captures in `samples/`: they are exactly what the generator writes, and opening
//! each one shows what its scenario is about (commands, statuses, throttling, lost bodies…).

use std::path::PathBuf;
use std::process::Command as Process;

use easlens_core::capture::{self, Capture, OpenError, OpenOptions, PasswordPrompt};
use easlens_core::eas::Command;
use easlens_core::eas::session::{BodyState, Highlight};
use easlens_core::http::Side;
use easlens_core::http::decode_body;
use easlens_core::wbxml;

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn open(name: &str) -> Capture {
    let path = samples_dir().join(name);
    capture::open(&path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn commands(c: &Capture) -> Vec<Option<Command>> {
    c.sessions
        .iter()
        .map(|s| s.eas.as_ref().and_then(|e| e.command))
        .collect()
}

fn statuses(c: &Capture) -> Vec<u32> {
    c.sessions
        .iter()
        .filter_map(|s| s.eas.as_ref())
        .flat_map(|e| e.response_status_values())
        .collect()
}

fn http(c: &Capture) -> Vec<Option<u16>> {
    c.sessions.iter().map(|s| s.http_status()).collect()
}

/// The decoded XML of every WBXML body of the capture, request and response, concatenated.
fn all_xml(c: &Capture) -> String {
    let mut out = String::new();
    for s in &c.sessions {
        let parts = [
            s.request.as_ref().map(|r| (&r.body, &r.head.headers)),
            s.response.as_ref().map(|r| (&r.body, &r.head.headers)),
        ];
        for (body, headers) in parts.into_iter().flatten() {
            let raw = c.raw_body(body).unwrap();
            let bytes = decode_body(&raw, headers).bytes;
            if let Ok(doc) = wbxml::decode(&bytes) {
                out += &wbxml::to_xml(&doc);
            }
        }
    }
    out
}

#[test]
fn committed_samples_are_what_the_generator_writes() {
    let out = std::env::temp_dir().join(format!("easlens-samples-{}", std::process::id()));
    let status = Process::new(env!("CARGO_BIN_EXE_easlens"))
        .args(["samples", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    // Every file, as a path relative to its folder (the IIS logs are folders of servers' files).
    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    out.push(p.strip_prefix(dir).unwrap().to_str().unwrap().replace('\\', "/"));
                }
            }
        }
        out.sort();
        out
    }
    let generated = files(&out);
    let committed: Vec<String> = files(&samples_dir()).into_iter().filter(|n| n != "README.md").collect();
    assert_eq!(
        generated, committed,
        "samples/ holds exactly the generated set (run `easlens samples`)"
    );
    let size = |iis: bool| -> u64 {
        committed
            .iter()
            .filter(|n| n.contains(".iis") == iis)
            .map(|n| std::fs::metadata(samples_dir().join(n)).unwrap().len())
            .sum()
    };
    // About 800 KB of captures and 640 KB of mailbox logs (text: 45 KB gzipped).
    let total = size(false);
    assert!(total < 1_600_000, "the bundled samples stay small ({total} bytes)");
    // The IIS logs of every conversation, and of a fleet day (1.2 MB, 2013+ lines with their
    // `Tm*` stages) with its truth.
    let iis = size(true);
    assert!(iis < 2_400_000, "the bundled IIS logs stay small ({iis} bytes)");
    for name in &generated {
        if name.ends_with("-encrypted.saz") {
            continue; // AES uses a random salt; its content is compared below.
        }
        let fresh = std::fs::read(out.join(name)).unwrap();
        let kept = std::fs::read(samples_dir().join(name)).unwrap();
        assert!(
            fresh == kept,
            "{name} differs from what the generator writes now (run `easlens samples`)"
        );
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn healthy_conversations_have_every_command_and_nothing_highlighted() {
    for name in ["healthy-iphone.saz", "healthy-android.saz"] {
        let c = open(name);
        let cmds = commands(&c);
        for want in [
            Command::Provision,
            Command::FolderSync,
            Command::Settings,
            Command::Sync,
            Command::Ping,
            Command::ItemOperations,
            Command::SendMail,
        ] {
            assert!(cmds.contains(&Some(want)), "{name}: no {want}");
        }
        assert!(http(&c).iter().all(|h| *h == Some(200)), "{name}: {:?}", http(&c));
        for s in &c.sessions {
            let eas = s.eas.as_ref().unwrap();
            assert!(eas.highlights.is_empty(), "{name} #{}: {:?}", s.index, eas.highlights);
            assert!(eas.notes.is_empty(), "{name} #{}: {:?}", s.index, eas.notes);
        }
    }
    // The Android device uses the base64 query; its fields come from there.
    let c = open("healthy-android.saz");
    let e = c
        .sessions
        .iter()
        .find_map(|s| s.eas.as_ref().filter(|e| e.command == Some(Command::Sync)))
        .unwrap();
    assert_eq!(e.query_form, Some(easlens_core::eas::query::QueryForm::Base64));
    assert_eq!(
        (e.device_type.as_deref(), e.protocol_version.as_deref()),
        (Some("Android"), Some("14.1"))
    );
    let c = open("healthy-iphone.saz");
    let e = c
        .sessions
        .iter()
        .find_map(|s| s.eas.as_ref().filter(|e| e.command == Some(Command::Sync)))
        .unwrap();
    assert_eq!(
        (e.device_type.as_deref(), e.protocol_version.as_deref()),
        (Some("iPhone"), Some("16.1"))
    );
    assert_eq!(e.user.as_deref(), Some("contoso\\jdoe"));
}

#[test]
fn throttling_storm_repeats_one_sync_then_is_throttled() {
    for name in ["throttling-storm-iphone.saz", "throttling-storm-android.saz"] {
        let c = open(name);
        let syncs: Vec<_> = c
            .sessions
            .iter()
            .filter_map(|s| s.eas.as_ref())
            .filter(|e| e.command == Some(Command::Sync) && !e.throttled())
            .map(|e| {
                e.sync_keys
                    .iter()
                    .filter(|k| k.side == Side::Request)
                    .map(|k| (k.collection_id.clone(), k.value.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let first = &syncs[0];
        assert!(
            syncs.iter().filter(|k| *k == first).count() >= 10,
            "{name}: identical Syncs {syncs:?}"
        );
        let throttled: Vec<_> = c
            .sessions
            .iter()
            .filter(|s| s.eas.as_ref().unwrap().throttled())
            .collect();
        assert!(throttled.len() >= 2, "{name}");
        for s in throttled {
            assert_eq!(s.http_status(), Some(503));
            let e = s.eas.as_ref().unwrap();
            assert!(e.highlights.contains(&Highlight::Throttle) && e.highlights.contains(&Highlight::Http));
        }
    }
    let c = open("throttling-storm-iphone.saz");
    let last = c.sessions.last().unwrap().eas.as_ref().unwrap();
    assert_eq!(last.headers.throttle.as_deref(), Some("CommandFrequency"));
    assert_eq!(last.headers.retry_after.as_deref(), Some("600"));
}

#[test]
fn synckey_reset_follows_server_errors() {
    for name in ["synckey-reset-iphone.saz", "synckey-reset-android.saz"] {
        let c = open(name);
        let first_500 = c
            .sessions
            .iter()
            .position(|s| s.http_status() == Some(500))
            .expect("a 500");
        let reset = c
            .sessions
            .iter()
            .position(|s| {
                s.eas
                    .as_ref()
                    .is_some_and(|e| e.sync_keys.iter().any(|k| k.side == Side::Request && k.value == "0"))
            })
            .expect("a SyncKey 0");
        assert!(reset > first_500, "{name}: the reset comes after the 500s");
        let aborted = c.sessions.iter().find(|s| s.flags.aborted).expect("an aborted Ping");
        assert!(aborted.response.is_none());
    }
    assert!(
        statuses(&open("synckey-reset-android.saz")).contains(&3),
        "Android gets Sync Status 3"
    );
}

#[test]
fn policy_refresh_with_and_without_provision() {
    let c = open("policy-refresh-iphone.saz");
    let cmds = commands(&c);
    let refused = c
        .sessions
        .iter()
        .position(|s| s.eas.as_ref().unwrap().response_status_values().contains(&144))
        .unwrap();
    assert_eq!(
        cmds[refused + 1],
        Some(Command::Provision),
        "the iPhone provisions after Status 144"
    );
    let refusal = c.sessions[refused].eas.as_ref().unwrap();
    assert!(refusal.highlights.contains(&Highlight::Status));
    assert!(
        refusal.statuses.iter().any(|s| s.name == Some("InvalidPolicyKey")),
        "{:?}",
        refusal.statuses
    );

    let c = open("policy-refresh-android.saz");
    assert!(
        !commands(&c).contains(&Some(Command::Provision)),
        "the Android device never provisions"
    );
    let st = statuses(&c);
    assert!(st.contains(&142) && st.contains(&143), "{st:?}");

    for name in ["policy-refresh-449-iphone.saz", "policy-refresh-449-android.saz"] {
        assert!(http(&open(name)).contains(&Some(449)), "{name}");
    }
}

#[test]
fn calendar_item_is_added_changed_and_deleted() {
    for name in ["calendar-lifecycle-iphone.saz", "calendar-lifecycle-android.saz"] {
        let xml = all_xml(&open(name));
        assert!(xml.contains("<ServerId>1:25</ServerId>"), "{name}");
        let add = xml.find("<Add>").unwrap();
        let change = xml.find("<Change>").unwrap();
        let delete = xml.find("<Delete>").unwrap();
        assert!(add < change && change < delete, "{name}: Add, Change, Delete in order");
        assert!(xml.contains("<ClientId>"), "{name}: a client Add with ClientId");
    }
}

#[test]
fn redirect_and_credential_problems() {
    for (name, last) in [
        ("redirect-and-auth-iphone.saz", 457),
        ("redirect-and-auth-android.saz", 456),
    ] {
        let c = open(name);
        let codes = http(&c);
        assert!(codes.contains(&Some(451)), "{name}");
        assert!(
            codes.iter().filter(|c| **c == Some(401)).count() >= 4,
            "{name}: {codes:?}"
        );
        assert_eq!(*codes.last().unwrap(), Some(last), "{name}");
        let redirect = c.sessions.iter().find(|s| s.http_status() == Some(451)).unwrap();
        assert_eq!(
            redirect.eas.as_ref().unwrap().headers.location.as_deref(),
            Some("https://mail2.example.com/Microsoft-Server-ActiveSync")
        );
    }
    let c = open("redirect-and-auth-iphone.saz");
    assert!(
        c.sessions
            .iter()
            .any(|s| s.eas.as_ref().unwrap().headers.credentials_expire.as_deref() == Some("0"))
    );
    assert!(
        c.sessions.iter().any(|s| s.flags.generated),
        "the Fiddler-generated 502"
    );
}

#[test]
fn har_samples_show_lost_and_recovered_request_bodies() {
    let c = open("healthy-iphone.fiddler.har");
    let posts: Vec<_> = c
        .sessions
        .iter()
        .filter(|s| s.request.as_ref().is_some_and(|r| r.head.method == "POST"))
        .collect();
    assert!(!posts.is_empty());
    // Fiddler's HAR export decodes request bodies as text: WBXML that happens to be valid UTF-8
    // survives, anything with other bytes (opaque data, non-ASCII strings) is destroyed.
    let mut lost = 0;
    for s in &posts {
        let e = s.eas.as_ref().unwrap();
        match e.request_body {
            BodyState::Lost => {
                lost += 1;
                assert!(
                    e.notes
                        .iter()
                        .any(|n| n.contains("request body lost by the HAR exporter")),
                    "#{}",
                    s.index
                );
                assert!(
                    !e.notes.iter().any(|n| n.contains("WBXML")),
                    "#{}: a lost body is not a decode error",
                    s.index
                );
            }
            BodyState::Wbxml => {}
            other => panic!("#{}: request body {other:?}", s.index),
        }
    }
    assert!(
        lost > 0,
        "binary request bodies (SendMail's opaque MIME at least) are lost"
    );
    let c = open("policy-refresh-android.mitmproxy.har");
    assert!(
        c.sessions
            .iter()
            .filter_map(|s| s.eas.as_ref())
            .any(|e| e.request_body == BodyState::Wbxml)
    );
    assert!(statuses(&c).contains(&142));
}

#[test]
fn encrypted_sample_needs_its_password() {
    let path = samples_dir().join("policy-refresh-iphone-encrypted.saz");
    let ask = |p: &PasswordPrompt| (p.attempt == 1).then(|| "easlens".to_string());
    let c = capture::open(
        &path,
        &OpenOptions {
            password: Some(&ask),
            ..Default::default()
        },
    )
    .unwrap();
    let plain = open("policy-refresh-iphone.saz");
    assert_eq!(c.sessions.len(), plain.sessions.len());
    assert_eq!(statuses(&c), statuses(&plain));
    assert!(matches!(
        capture::open(&path, &OpenOptions::default()),
        Err(OpenError::PasswordRequired { .. })
    ));
    let wrong = |p: &PasswordPrompt| (p.attempt == 1).then(|| "nope".to_string());
    let err = capture::open(
        &path,
        &OpenOptions {
            password: Some(&wrong),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, OpenError::WrongPassword { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("policy-refresh-iphone-encrypted.saz: wrong password")
    );
}

#[test]
fn every_sample_opens_and_every_wbxml_body_decodes() {
    for entry in std::fs::read_dir(samples_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        // Mailbox logs are the server's side, not captures (their tests are in easlens-samples).
        if name.ends_with("-encrypted.saz")
            || name == "README.md"
            || name.contains(".mailbox-log.")
            || name.contains(".iis")
        {
            continue;
        }
        let c = capture::open(&path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.warnings.is_empty(), "{name}: {:?}", c.warnings);
        assert!(!c.sessions.is_empty());
        for s in &c.sessions {
            let url = s.request.as_ref().unwrap().url();
            assert!(url.starts_with("https://"), "{name} #{}: {url}", s.index);
            if let Some(e) = &s.eas {
                assert!(
                    !e.notes.iter().any(|n| n.contains("WBXML")),
                    "{name} #{}: {:?}",
                    s.index,
                    e.notes
                );
            }
        }
    }
}

#[test]
fn bodies_are_decoded_on_demand_and_cached() {
    let c = open("healthy-iphone.saz");
    let find = |cmd: Command| {
        c.sessions
            .iter()
            .position(|s| s.eas.as_ref().is_some_and(|e| e.command == Some(cmd)))
    };
    // A multipart ItemOperations response: part 0 decoded, the parts listed.
    let i = find(Command::ItemOperations).unwrap();
    let view = c.body_view(i, Side::Response).unwrap().unwrap();
    assert_eq!(view.multipart_parts.len(), 2, "{:?}", view.multipart_parts);
    assert!(
        view.xml
            .as_deref()
            .unwrap()
            .contains("<ItemOperations xmlns=\"ItemOperations:\">")
    );
    assert!(view.wbxml_error.is_none());
    assert!(view.decoded.steps.contains(&"chunked"), "{:?}", view.decoded.steps);
    // A second look is served from the cache.
    let again = c.body_view(i, Side::Response).unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&view, &again));
    // A gzip-compressed Sync response.
    let gz = c
        .sessions
        .iter()
        .position(|s| {
            s.response
                .as_ref()
                .is_some_and(|r| r.head.headers.get("Content-Encoding") == Some("gzip"))
        })
        .unwrap();
    let view = c.body_view(gz, Side::Response).unwrap().unwrap();
    assert!(view.decoded.steps.contains(&"gzip"));
    assert_eq!(&view.raw[..2], &[0x1F, 0x8B], "the raw bytes stay as stored");
    assert!(view.xml.as_deref().unwrap().contains("<Sync xmlns=\"AirSync:\">"));
    // OPTIONS has no request body; an aborted session has no response at all.
    assert!(c.body_view(0, Side::Request).unwrap().unwrap().raw.is_empty());
    let aborted = open("synckey-reset-iphone.saz");
    let a = aborted.sessions.iter().position(|s| s.flags.aborted).unwrap();
    assert!(aborted.body_view(a, Side::Response).is_none());
    // A request body the HAR exporter destroyed is marked, not decoded.
    let har = open("healthy-iphone.fiddler.har");
    let lost = har
        .sessions
        .iter()
        .position(|s| s.eas.as_ref().is_some_and(|e| e.request_body == BodyState::Lost))
        .unwrap();
    let view = har.body_view(lost, Side::Request).unwrap().unwrap();
    assert_eq!(view.kept, easlens_core::capture::BodyKept::LostByExporter);
    assert!(
        view.xml.is_none() && view.wbxml_error.is_none(),
        "not reported as a decode error"
    );
}

#[test]
fn the_first_sessions_of_a_capture_are_the_whole_capture_cut() {
    for name in [
        "throttling-storm-iphone.saz",
        "healthy-iphone.fiddler.har",
        "policy-refresh-android.mitmproxy.har",
    ] {
        let path = samples_dir().join(name);
        let whole = open(name);
        let first = capture::open(
            &path,
            &OpenOptions {
                first_sessions: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(first.sessions.len(), 5, "{name}");
        assert_eq!(first.sessions[..], whole.sessions[..5], "{name}");
    }
}
