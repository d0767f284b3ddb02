//! The findings engine and SyncKey chains on every generated scenario (both devices): each
//! scenario produces its findings with the sessions that are their evidence — derived from the
//! capture's own data, not hard-coded — and the healthy conversation (SAZ and both HAR styles)
//! produces no error or warning. The reference corpus is analysed too, without a panic.

mod common;

use std::path::PathBuf;

use easlens_core::analysis::findings::{Finding, Findings, ITEM_RULES, Severity, rule};
use easlens_core::analysis::synckey::{HIERARCHY, Mark, SyncKeyChains};
use easlens_core::capture::{self, Capture, OpenOptions, Session};
use easlens_core::eas::Command;
use easlens_core::http::Side;
use easlens_core::writers::har::{HarOptions, HarStyle, write_har_file};
use easlens_samples::scenarios::{Device, Scenario, exchanges};

fn scenario(s: Scenario, d: Device) -> Capture {
    common::open_sample(&format!("{}-{}.saz", s.name(), d.name()))
}

/// Checks what every finding must satisfy, and returns them.
fn analyse(c: &Capture) -> Vec<Finding> {
    let all = Findings::build(c);
    for f in &all.findings {
        let r = rule(f.rule).unwrap_or_else(|| panic!("{} not in rules.tsv", f.rule));
        assert!(r.severities.contains(&f.severity), "{f:?}");
        assert!(!f.sessions.is_empty() && f.sessions.is_sorted(), "{f:?}");
        assert!(!f.message.is_empty() && f.explanation == r.explanation && f.title == r.title);
        assert!(f.first <= f.last);
    }
    assert!(all.findings.is_sorted_by_key(|f| f.severity), "most severe first");
    let count = |s| all.findings.iter().filter(|f| f.severity == s).count();
    assert_eq!(
        (all.errors, all.warnings, all.infos),
        (count(Severity::Error), count(Severity::Warning), count(Severity::Info))
    );
    all.findings
}

/// The findings of the session-level rules (`tests/item_findings.rs` checks the item-level ones).
fn session_level(f: Vec<Finding>) -> Vec<Finding> {
    f.into_iter()
        .filter(|f| !ITEM_RULES.iter().any(|r| r.id() == f.rule))
        .collect()
}

fn rules_of(f: &[Finding]) -> Vec<&'static str> {
    let mut r: Vec<_> = f.iter().map(|f| f.rule).collect();
    r.sort_unstable();
    r
}

/// The single finding of `rule`.
fn one<'f>(f: &'f [Finding], rule: &str) -> &'f Finding {
    let hits: Vec<_> = f.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(hits.len(), 1, "{rule}: {f:#?}");
    hits[0]
}

/// Capture indices of the sessions for which `pred` holds.
fn indices(c: &Capture, pred: impl Fn(&Session) -> bool) -> Vec<u32> {
    c.sessions.iter().filter(|s| pred(s)).map(|s| s.index).collect()
}

fn command(s: &Session) -> Option<Command> {
    s.eas.as_ref().and_then(|e| e.command)
}

fn response_statuses(s: &Session) -> Vec<u32> {
    s.eas.as_ref().map(|e| e.response_status_values()).unwrap_or_default()
}

fn request_key_zero(s: &Session) -> bool {
    s.eas
        .as_ref()
        .is_some_and(|e| e.sync_keys.iter().any(|k| k.side == Side::Request && k.value == "0"))
}

fn url(s: &Session) -> String {
    s.request.as_ref().map(|r| r.url().into_owned()).unwrap_or_default()
}

#[test]
fn healthy_conversations_have_no_error_or_warning_in_any_format() {
    let dir = std::env::temp_dir();
    for device in Device::ALL {
        let mut captures = vec![(
            format!("healthy-{}.saz", device.name()),
            scenario(Scenario::Healthy, device),
        )];
        for style in [HarStyle::Fiddler, HarStyle::Mitmproxy] {
            let path = dir.join(format!(
                "easlens-findings-{}-{}-{style:?}.har",
                std::process::id(),
                device.name()
            ));
            write_har_file(&path, &exchanges(Scenario::Healthy, device), &HarOptions::new(style)).unwrap();
            let c = capture::open(&path, &OpenOptions::default()).unwrap();
            std::fs::remove_file(&path).ok();
            captures.push((format!("healthy-{} {style:?} HAR", device.name()), c));
        }
        for (name, c) in captures {
            let f = analyse(&c);
            assert!(f.iter().all(|f| f.severity == Severity::Info), "{name}: {f:#?}");
        }
    }
    let name = "healthy-iphone.fiddler.har";
    let f = analyse(&common::open_sample(name));
    assert!(f.iter().all(|f| f.severity == Severity::Info), "{name}: {f:#?}");
}

#[test]
fn healthy_chains_start_from_zero_and_follow_every_key() {
    for device in Device::ALL {
        let c = scenario(Scenario::Healthy, device);
        let chains = SyncKeyChains::build(&c);
        let names: Vec<&str> = chains.chains.iter().map(|ch| ch.collection.as_str()).collect();
        assert_eq!(names, [HIERARCHY, "5", "1", "3"], "{}", device.name());
        for chain in &chains.chains {
            assert_eq!(chain.links[0].marks, [Mark::Initial], "{chain:#?}");
            assert_eq!(chain.links[0].request_key.as_deref(), Some("0"));
            assert!(chain.links[1..].iter().all(|l| l.marks.is_empty()), "{chain:#?}");
        }
        // The Inbox: every request carries the key of the previous response.
        let inbox = chains.chain(chains.chains[1].device.as_str(), "5").unwrap();
        for pair in inbox.links.windows(2) {
            assert_eq!(pair[1].request_key, pair[0].response_key, "{inbox:#?}");
        }
    }
}

#[test]
fn throttling_storm_is_identical_commands_then_throttling_with_quick_retries() {
    for device in Device::ALL {
        let c = scenario(Scenario::ThrottlingStorm, device);
        let f = analyse(&c);
        let syncs = indices(&c, |s| command(s) == Some(Command::Sync));
        let throttled = indices(&c, |s| s.eas.as_ref().is_some_and(|e| e.throttled()));
        assert_eq!(throttled.len(), 3);
        assert_eq!(
            rules_of(&f),
            ["identical-commands", "synckey-repeated", "throttled"],
            "{f:#?}"
        );
        let t = one(&f, "throttled");
        assert_eq!((t.severity, &t.sessions), (Severity::Error, &throttled));
        assert!(t.message.contains("retried 5 s after"), "{}", t.message);
        let i = one(&f, "identical-commands");
        assert_eq!((i.severity, &i.sessions), (Severity::Error, &syncs));
        assert!(
            i.message
                .contains(&format!("throttled the device from session {}", throttled[0]))
        );
        let r = one(&f, "synckey-repeated");
        assert_eq!((r.severity, &r.sessions), (Severity::Warning, &syncs));

        let chains = SyncKeyChains::build(&c);
        let inbox = &chains.chains[0];
        assert_eq!(inbox.collection, "5");
        assert!(inbox.links[1..].iter().all(|l| l.has(Mark::Repeated)), "{inbox:#?}");
        assert_eq!(inbox.links.last().unwrap().repeat, syncs.len() as u32);
    }
}

#[test]
fn synckey_reset_names_the_500s_and_the_status_3_before_it() {
    for device in Device::ALL {
        let c = scenario(Scenario::SyncKeyReset, device);
        let f = analyse(&c);
        let errors = indices(&c, |s| s.http_status() == Some(500));
        let status3 = indices(&c, |s| response_statuses(s).contains(&3));
        let reset = indices(&c, request_key_zero);
        let aborted = indices(&c, |s| s.flags.aborted);
        assert_eq!((reset.len(), aborted.len()), (1, 1));
        let mut expected = vec!["http-error", "no-response", "synckey-reset"];
        if device == Device::Android {
            assert_eq!(status3.len(), 1);
            expected.push("status-error");
            let s = one(&f, "status-error");
            assert_eq!((s.severity, &s.sessions), (Severity::Warning, &status3));
            assert!(s.message.contains("Sync Status 3 InvalidSyncKey"));
        } else {
            assert!(status3.is_empty());
        }
        expected.sort_unstable();
        assert_eq!(rules_of(&f), expected, "{f:#?}");

        let h = one(&f, "http-error");
        assert_eq!((h.severity, &h.sessions), (Severity::Error, &errors));
        let r = one(&f, "synckey-reset");
        let evidence: Vec<u32> = [errors.clone(), status3, reset.clone()].concat();
        assert_eq!((r.severity, &r.sessions), (Severity::Warning, &evidence));
        assert!(
            r.message.contains(&format!("HTTP 500 × {}", errors.len())),
            "{}",
            r.message
        );
        let n = one(&f, "no-response");
        assert_eq!((n.severity, &n.sessions), (Severity::Info, &aborted));

        let chains = SyncKeyChains::build(&c);
        let link = chains.chains[0].links.iter().find(|l| l.session == reset[0]).unwrap();
        assert_eq!(link.marks, [Mark::Reset]);
    }
}

#[test]
fn policy_refresh_is_handled_on_iphone_and_loops_on_android() {
    for legacy in [false, true] {
        let s = if legacy {
            Scenario::PolicyRefreshLegacy
        } else {
            Scenario::PolicyRefresh
        };
        let demand = |x: &Session| {
            command(x) != Some(Command::Provision)
                && (x.http_status() == Some(449) || response_statuses(x).iter().any(|v| [142, 143, 144].contains(v)))
        };
        let iphone = scenario(s, Device::IPhone);
        let f = analyse(&iphone);
        assert_eq!(rules_of(&f), ["policy-refresh"], "{f:#?}");
        let p = one(&f, "policy-refresh");
        let demands = indices(&iphone, demand);
        let provisions = indices(&iphone, |x| command(x) == Some(Command::Provision));
        assert_eq!((demands.len(), provisions.len()), (1, 2));
        assert_eq!(p.severity, Severity::Info);
        assert_eq!(p.sessions, [demands, provisions].concat());
        assert!(p.message.contains("handled"));

        let android = scenario(s, Device::Android);
        let f = analyse(&android);
        assert_eq!(rules_of(&f), ["policy-refresh"], "{f:#?}");
        let p = one(&f, "policy-refresh");
        let demands = indices(&android, demand);
        assert!(demands.len() >= 6);
        assert_eq!((p.severity, &p.sessions), (Severity::Error, &demands));
        assert!(p.message.contains("no Provision") && p.message.contains("X-MS-PolicyKey stayed"));
    }
}

#[test]
fn calendar_lifecycle_has_nothing_to_report() {
    for device in Device::ALL {
        let f = analyse(&scenario(Scenario::CalendarItemLifecycle, device));
        assert!(f.is_empty(), "{f:#?}");
    }
}

#[test]
fn calendar_failures_raise_no_session_level_finding() {
    // Every request is answered 200 with Status 1: what is wrong is in the items (the item-level
    // rules judge them, in tests/item_findings.rs).
    for device in Device::ALL {
        let f = session_level(analyse(&scenario(Scenario::CalendarFailures, device)));
        assert!(f.is_empty(), "{f:#?}");
    }
}

#[test]
fn item_failures_report_the_failing_statuses_and_the_lost_fetch() {
    for device in Device::ALL {
        let c = scenario(Scenario::ItemFailures, device);
        let f = session_level(analyse(&c));
        let mut expected = vec!["status-error", "status-error"];
        match device {
            Device::IPhone => expected.push("no-response"),
            Device::Android => expected.push("http-error"),
        }
        expected.sort_unstable();
        assert_eq!(rules_of(&f), expected, "{f:#?}");
        // The three refused Changes are one finding; the failed Fetch another.
        let syncs = indices(&c, |s| {
            command(s) == Some(Command::Sync) && response_statuses(s).contains(&6)
        });
        assert_eq!(syncs.len(), 3);
        assert!(
            f.iter().any(|f| f.rule == "status-error" && f.sessions == syncs),
            "{f:#?}"
        );
        let fetches = indices(&c, |s| command(s) == Some(Command::ItemOperations));
        assert_eq!(fetches.len(), 2);
        let fetch_failed: Vec<u32> = match device {
            Device::IPhone => vec![fetches[0]],
            Device::Android => vec![fetches[1]],
        };
        assert!(
            f.iter().any(|f| f.rule == "status-error" && f.sessions == fetch_failed),
            "{f:#?}"
        );
    }
}

#[test]
fn item_near_misses_report_only_the_one_refused_change() {
    for device in Device::ALL {
        let c = scenario(Scenario::ItemNearMisses, device);
        let f = analyse(&c);
        // No item-level finding either: these are the near misses of patterns 9-16.
        assert_eq!(rules_of(&f), ["status-error"], "{f:#?}");
        let refused = indices(&c, |s| response_statuses(s).contains(&6));
        assert_eq!(one(&f, "status-error").sessions, refused);
        assert_eq!(refused.len(), 1);
    }
}

#[test]
fn redirect_and_auth_reports_the_redirect_the_401_run_and_what_ended_it() {
    for device in Device::ALL {
        let c = scenario(Scenario::RedirectAndAuth, device);
        let f = analyse(&c);
        let redirects = indices(&c, |s| s.http_status() == Some(451));
        let moved = c
            .sessions
            .iter()
            .find(|s| url(s).contains("mail2."))
            .map(|s| s.index)
            .unwrap();
        let unauthorized = indices(&c, |s| s.http_status() == Some(401));
        let expiry = indices(&c, |s| {
            s.eas
                .as_ref()
                .is_some_and(|e| e.headers.credentials_expire.is_some() || e.headers.credential_service_url.is_some())
        });
        let mut expected = vec!["auth-failure", "credential-expiry", "redirect"];
        let r = one(&f, "redirect");
        assert_eq!(r.sessions, [redirects.clone(), vec![moved]].concat());
        let a = one(&f, "auth-failure");
        assert_eq!((a.severity, &a.sessions), (Severity::Error, &unauthorized));
        let e = one(&f, "credential-expiry");
        assert_eq!((e.severity, &e.sessions), (Severity::Warning, &expiry));
        match device {
            Device::IPhone => {
                // Followed at once; Fiddler's own 502 on the way; the password expired.
                assert_eq!((redirects.len(), r.severity), (1, Severity::Info));
                expected.extend(["http-error", "password-expired"]);
                let h = one(&f, "http-error");
                let generated = indices(&c, |s| s.flags.generated);
                assert_eq!((h.severity, &h.sessions), (Severity::Warning, &generated));
                assert!(h.message.contains("generated by the proxy"));
                let p = one(&f, "password-expired");
                assert_eq!(p.sessions, indices(&c, |s| s.http_status() == Some(457)));
                assert!(a.message.contains("then HTTP 457"));
            }
            Device::Android => {
                // Three 451s to the old host before moving.
                assert_eq!((redirects.len(), r.severity), (3, Severity::Warning));
                expected.push("device-blocked");
                let b = one(&f, "device-blocked");
                assert_eq!(
                    (b.severity, &b.sessions),
                    (Severity::Error, &indices(&c, |s| s.http_status() == Some(456)))
                );
                assert!(a.message.contains("then HTTP 456"));
            }
        }
        expected.sort_unstable();
        assert_eq!(rules_of(&f), expected, "{f:#?}");
    }
}

#[test]
fn every_rule_of_the_samples_is_described_and_the_ids_are_stable() {
    // The ids are an interface (JSON, the UI): the set the README documents.
    let ids: Vec<&str> = easlens_core::analysis::findings::rules().iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            "http-error",
            "throttled",
            "identical-commands",
            "synckey-repeated",
            "synckey-reset",
            "synckey-unexpected",
            "policy-refresh",
            "redirect",
            "auth-failure",
            "credential-expiry",
            "password-expired",
            "device-blocked",
            "mailbox-full",
            "status-error",
            "ping-repeat",
            "reset-partnership",
            "user-agent-change",
            "no-response",
            "not-reaching-exchange",
            "response-lost",
            "server-exception",
            "iis-throttled",
            "iis-auth-storm",
            "iis-server-errors",
            "iis-synckey-reset",
            "iis-heartbeat-collapse",
            "iis-exchange-error",
            "recurring-series-deleted",
            "attendee-as-organizer",
            "meeting-update-stale",
            "recurrence-day-29-31",
            "duplicate-contacts",
            "meeting-response-loop",
            "body-not-downloaded",
            "item-sync-failure",
        ]
    );
    let readme = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for id in ids {
        assert!(readme.contains(&format!("`{id}`")), "README does not list {id}");
    }
}

#[test]
fn reference_corpus_captures_are_analysed_without_trouble() {
    let Some(dir) = common::shared_dir("corpus/captures") else {
        return;
    };
    let mut analysed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(c) = capture::open(&path, &OpenOptions::default()) else {
            continue; // The corpus holds deliberately broken files; capture tests cover them.
        };
        let f = analyse(&c);
        // None of these captures is ActiveSync traffic: browser and Office traffic is not judged.
        assert!(f.is_empty(), "{}: {f:#?}", path.display());
        analysed += 1;
    }
    assert!(analysed >= 15, "{analysed} captures analysed");
}
