//! Redaction (issue "Evidence 4/6"): every bundled sample, redacted, holds none of the personal
//! values the sample generator put in, anywhere a view or an export could show them, and gives
//! the same diagnosis: the same commands, HTTP and EAS Status values per session, the same
//! findings, SyncKey chains and item histories (with pseudonyms where names were).

mod common;

use std::collections::BTreeSet;

use common::{open_sample, personal_leaks, sample_path};
use easlens_core::analysis::Analysis;
use easlens_core::capture::{self, Capture, OpenOptions, PasswordPrompt};
use easlens_core::eas::query::parse_request_target;
use easlens_core::http::Side;
use easlens_core::redact::Redactor;
use easlens_core::wbxml::to_xml;
use easlens_samples::scenarios::personal_strings;
use easlens_samples::sets::SAMPLE_PASSWORD;

/// Every bundled capture and mailbox log.
fn samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sample_path(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".saz") || n.ends_with(".har") || n.ends_with(".mailbox-log.txt"))
        .collect();
    names.sort();
    assert!(names.len() >= 25, "{names:?}");
    names
}

pub fn open_any(name: &str) -> Capture {
    if name.ends_with(".mailbox-log.txt") {
        return capture::open_logs(&[&sample_path(name)], &OpenOptions::default()).unwrap();
    }
    if name.contains("encrypted") {
        let ask = |_: &PasswordPrompt| Some(SAMPLE_PASSWORD.to_string());
        let options = OpenOptions {
            password: Some(&ask),
            ..Default::default()
        };
        return capture::open(&sample_path(name), &options).unwrap();
    }
    open_sample(name)
}

/// Everything of a capture a view or an export shows, as text: request lines (and the fields of
/// a base64 query), URLs, headers, reasons, notes, comments, IPs, bodies as stored and decoded
/// (WBXML as XML).
fn everything(c: &Capture) -> String {
    let mut out = String::new();
    for w in &c.warnings {
        out.push_str(w);
    }
    for (i, s) in c.sessions.iter().enumerate() {
        for text in s.notes.iter().chain(&s.facts).chain(&s.comment) {
            out.push_str(text);
            out.push('\n');
        }
        if let Some(ip) = &s.client_ip {
            out.push_str(ip);
            out.push('\n');
        }
        if let Some(r) = &s.request {
            out.push_str(&format!(
                "{} {} {}\n{}\n",
                r.head.method,
                r.head.target,
                r.head.version,
                r.url()
            ));
            if let Ok(line) = parse_request_target(&r.head.target) {
                out.push_str(&format!("{line:?}\n"));
            }
            for (n, v) in r.head.headers.iter() {
                out.push_str(&format!("{n}: {v}\n"));
            }
            out.push_str(&String::from_utf8_lossy(&c.raw_body(&r.body).unwrap()));
        }
        if let Some(r) = &s.response {
            out.push_str(&format!("{} {}\n", r.head.status, r.head.reason));
            for (n, v) in r.head.headers.iter() {
                out.push_str(&format!("{n}: {v}\n"));
            }
            out.push_str(&String::from_utf8_lossy(&c.raw_body(&r.body).unwrap()));
        }
        for side in [Side::Request, Side::Response] {
            if let Some(view) = c.body_view(i, side) {
                let view = view.unwrap();
                out.push_str(&format!("{view:?}"));
            }
            if let Ok(Some(doc)) = c.body_document(i, side) {
                out.push_str(&to_xml(&doc));
            }
        }
        if let Some(eas) = &s.eas {
            out.push_str(&format!("{eas:?}"));
        }
    }
    out
}

#[test]
fn the_fixture_finds_personal_data_in_the_originals() {
    // The check below can fail: the originals hold most of the fixture's values.
    let all: String = [
        "healthy-iphone.saz",
        "healthy-android.saz",
        "calendar-lifecycle-iphone.saz",
    ]
    .iter()
    .map(|n| everything(&open_any(n)))
    .collect();
    let found = personal_leaks(&all);
    assert!(
        found.len() >= 30,
        "{} of {}: {found:?}",
        found.len(),
        personal_strings().len()
    );
}

#[test]
fn no_personal_value_survives_in_any_sample() {
    for name in samples() {
        let original = open_any(&name);
        let mut redactor = Redactor::new();
        let redacted = redactor.capture(&original, None);
        assert_eq!(redacted.sessions.len(), original.sessions.len(), "{name}");
        let text = everything(&redacted);
        let found = personal_leaks(&text);
        assert!(found.is_empty(), "{name}: {found:?}");
        assert!(!redactor.pseudonyms().is_empty(), "{name}: nothing was redacted");
    }
}

/// What the diagnosis rests on, per session: command, HTTP status, every EAS Status (path and
/// value), SyncKeys, collections and item operations by id.
fn diagnosis(c: &Capture) -> Vec<String> {
    c.sessions
        .iter()
        .map(|s| {
            let eas = s.eas.as_ref();
            format!(
                "#{} {:?} {:?} http={:?} statuses={:?} keys={:?} collections={:?} items={:?} policy={:?} version={:?} notes={:?}",
                s.index,
                s.timers,
                eas.and_then(|e| e.identity.command),
                s.http_status(),
                eas.map(|e| e
                    .statuses
                    .iter()
                    .map(|st| (st.path.to_string(), st.raw.to_string(), st.verdict))
                    .collect::<Vec<_>>()),
                eas.map(|e| &e.sync_keys),
                eas.map(|e| &e.collection_ids),
                eas.map(|e| e
                    .items
                    .iter()
                    .map(|op| (
                        op.action,
                        op.server_id,
                        op.client_id,
                        op.uid,
                        op.collection_id
                    ))
                    .collect::<Vec<_>>()),
                eas.and_then(|e| e.identity.policy_key.clone()),
                eas.and_then(|e| e.identity.protocol_version.clone()),
                eas.map(|e| e.notes.len()),
            )
        })
        .collect()
}

#[test]
fn the_diagnosis_is_the_same_on_redacted_data() {
    for name in samples() {
        let original = open_any(&name);
        let redacted = Redactor::new().capture(&original, None);
        assert_eq!(diagnosis(&redacted), diagnosis(&original), "{name}");

        let (a, b) = (Analysis::new(&original), Analysis::new(&redacted));
        let findings = |x: &Analysis<&Capture>| -> Vec<(String, Vec<u32>)> {
            x.findings()
                .findings
                .iter()
                .map(|f| (f.rule.to_string(), f.sessions.clone()))
                .collect()
        };
        assert_eq!(findings(&b), findings(&a), "{name}: findings");
        let chains = |x: &Analysis<&Capture>| -> Vec<String> {
            x.chains()
                .chains
                .iter()
                .map(|c| format!("{} {:?}", c.collection, c.links))
                .collect()
        };
        assert_eq!(chains(&b), chains(&a), "{name}: SyncKey chains");
        let ids: BTreeSet<String> = original
            .sessions
            .iter()
            .filter_map(|s| s.eas.as_ref())
            .flat_map(|e| e.items.iter().flat_map(|op| [op.server_id, op.client_id]))
            .flatten()
            .map(|id| id.to_string())
            .collect();
        for id in ids {
            let events = |x: &Analysis<&Capture>| -> Vec<String> {
                x.history()
                    .history(x.capture(), &id)
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                            e.session,
                            e.direction,
                            e.action,
                            e.command,
                            e.collection_id,
                            e.server_id,
                            e.client_id,
                            e.uid
                        )
                    })
                    .collect()
            };
            assert_eq!(events(&b), events(&a), "{name}: history of {id}");
        }
    }
}

#[test]
fn a_capture_and_its_mailbox_log_share_pseudonyms() {
    let capture = open_any("synckey-reset-android.saz");
    let log = open_any("synckey-reset-android.mailbox-log.txt");
    let mut redactor = Redactor::new();
    let c = redactor.capture(&capture, None);
    let l = redactor.capture(&log, None);
    let device = |x: &Capture| -> BTreeSet<String> {
        x.sessions
            .iter()
            .filter_map(|s| s.eas.as_ref()?.identity.device_id.as_ref().map(|d| d.to_string()))
            .collect()
    };
    assert_eq!(device(&c), BTreeSet::from(["Device1".to_string()]));
    assert_eq!(device(&l), device(&c));
    let pairs = easlens_core::analysis::align::align(&c, &l, None);
    let unpaired = easlens_core::analysis::align::align(&capture, &log, None);
    assert_eq!(pairs.pairs.len(), unpaired.pairs.len());
}

#[test]
fn only_the_chosen_sessions_and_the_map_names_originals() {
    let original = open_any("healthy-iphone.saz");
    let mut redactor = Redactor::new();
    let redacted = redactor.capture(&original, Some(&[2, 5]));
    let numbers: Vec<u32> = redacted.sessions.iter().map(|s| s.index).collect();
    assert_eq!(numbers, [original.sessions[2].index, original.sessions[5].index]);
    let map = redactor.map_json();
    assert!(map.contains("jdoe") && map.contains("user1"), "{map}");
}
