//! The written lines are well-formed W3C under their `#Fields`, the truth is the exact answer
//! key (checked against the text and against the engine's own `&Log=` tokenizer), and every
//! pattern the reports look for is in the logs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use super::*;
use crate::scenarios::{Device, Scenario, all_samples, conversation};
use crate::sets::{FLEET_SEED, iis_options};
use easlens_core::eas::query::decode_query;
use easlens_core::iis::log_tokens::{log_value, parse_log};

/// The logs of the sample set: every conversation with its sample options, then the fleet.
fn sample_logs() -> Vec<(String, IisLogs)> {
    let mut out: Vec<(String, IisLogs)> = all_samples()
        .into_iter()
        .map(|(stem, c)| {
            let logs = conversation_iis_logs(&c, &iis_options(&stem)).unwrap();
            (stem, logs)
        })
        .collect();
    out.push(("fleet".into(), fleet_iis_logs(FLEET_SEED)));
    out
}

/// A file's text (gzip files decompressed).
fn text(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    if bytes.starts_with(&[0x1F, 0x8B]) {
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    } else {
        out.extend_from_slice(bytes);
    }
    String::from_utf8(out).unwrap()
}

/// One line of a file: its text and the `#Fields` names in force.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    names: Vec<String>,
    directive: bool,
    /// Ended by CRLF (a cut last line is not).
    complete: bool,
}

impl Line {
    fn values(&self) -> Vec<&str> {
        self.text.split(' ').collect()
    }

    fn get(&self, name: &str) -> &str {
        let k = self.names.iter().position(|n| n == name).unwrap();
        self.values()[k]
    }
}

/// The lines of a file, numbered from 1 (index 0 unused).
fn lines(text: &str) -> Vec<Line> {
    let mut out = vec![Line {
        text: String::new(),
        names: Vec::new(),
        directive: true,
        complete: true,
    }];
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, complete) = match rest.find("\r\n") {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 2..];
                (line, true)
            }
            None => {
                let line = rest;
                rest = "";
                (line, false)
            }
        };
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "a bare line break: {line:?}"
        );
        if let Some(fields) = line.strip_prefix("#Fields: ") {
            names = fields.split(' ').map(str::to_string).collect();
        }
        out.push(Line {
            text: line.to_string(),
            names: names.clone(),
            directive: line.starts_with('#'),
            complete,
        });
    }
    out
}

/// Every file of `logs`, split into lines, by relative path.
fn files(logs: &IisLogs) -> BTreeMap<String, Vec<Line>> {
    logs.files
        .iter()
        .map(|(rel, bytes)| (rel.clone(), lines(&text(bytes))))
        .collect()
}

fn at<'a>(files: &'a BTreeMap<String, Vec<Line>>, r: &LineRef) -> &'a Line {
    &files[&r.file][r.line]
}

/// Every line reference of a request.
fn refs(r: &RequestTruth) -> impl Iterator<Item = &LineRef> {
    [&r.front_end, &r.back_end, &r.cas].into_iter().flatten()
}

#[test]
fn the_writer_is_deterministic() {
    for scenario in [Scenario::Healthy, Scenario::SyncKeyReset, Scenario::PolicyRefreshLegacy] {
        let c = conversation(scenario, Device::Android);
        let options = IisLogOptions {
            gzip_back_end: true,
            cut_last_line: true,
            ..IisLogOptions::default()
        };
        assert_eq!(
            conversation_iis_logs(&c, &options).unwrap(),
            conversation_iis_logs(&c, &options).unwrap()
        );
    }
    let fleet = fleet_iis_logs(FLEET_SEED);
    assert_eq!(fleet, fleet_iis_logs(FLEET_SEED));
    assert_ne!(fleet.files, fleet_iis_logs(FLEET_SEED + 1).files, "the seed is used");
}

#[test]
fn every_line_has_the_field_count_of_its_fields_but_the_one_cut_line() {
    let mut cut = Vec::new();
    for (name, logs) in sample_logs() {
        for (rel, lines) in files(&logs) {
            assert!(
                lines[1]
                    .text
                    .starts_with("#Software: Microsoft Internet Information Services ")
            );
            assert_eq!(lines[2].text, "#Version: 1.0");
            assert!(lines[3].text.starts_with("#Date: "));
            for (n, line) in lines.iter().enumerate().skip(1) {
                if line.directive {
                    continue;
                }
                assert!(!line.names.is_empty(), "{name}/{rel}:{n} before #Fields");
                let count = line.values().len();
                if count == line.names.len() && line.complete {
                    assert!(
                        line.values().iter().all(|v| !v.is_empty()),
                        "{name}/{rel}:{n}: empty value"
                    );
                    continue;
                }
                cut.push((name.clone(), rel.clone(), n, n + 1 == lines.len(), line.complete));
            }
        }
    }
    assert_eq!(
        cut,
        [(
            "healthy-android".to_string(),
            "W3SVC1/u_ex240305.log".to_string(),
            cut.first().map_or(0, |c| c.2),
            true,
            false
        )],
        "one cut line: the last of the healthy Android front end, without its CRLF"
    );
}

#[test]
fn the_truth_counts_add_up_and_match_the_files() {
    for (name, logs) in sample_logs() {
        let t = &logs.truth;
        let files = files(&logs);
        assert_eq!(t.files, logs.files.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>());
        assert_eq!(
            t.lines_total,
            files.values().map(|l| l.len() - 1).sum::<usize>(),
            "{name}"
        );
        let directives = files
            .values()
            .flatten()
            .filter(|l| l.directive && !l.text.is_empty())
            .count();
        assert_eq!(t.directive_lines, directives, "{name}");
        assert_eq!(
            t.lines_total,
            t.directive_lines + t.activesync_lines + t.other_lines + t.skipped_lines,
            "{name}"
        );
        let side = |f: fn(&RequestTruth) -> bool| t.requests.iter().filter(|r| f(r)).count();
        let (fe, be, cas) = (
            side(|r| r.front_end.is_some()),
            side(|r| r.back_end.is_some()),
            side(|r| r.cas.is_some()),
        );
        assert_eq!(t.activesync_lines, fe + be + cas + t.probe_lines, "{name}");
        let stems = files
            .values()
            .flatten()
            .filter(|l| !l.directive && l.complete)
            .filter(|l| l.get("cs-uri-stem").starts_with("/Microsoft-Server-ActiveSync"))
            .count();
        assert_eq!(t.activesync_lines, stems, "{name}");
        let probes = files
            .values()
            .flatten()
            .filter(|l| !l.directive && l.complete && l.get("cs(User-Agent)").starts_with("AMProbe/"))
            .count();
        assert_eq!(t.probe_lines, probes, "{name}");
        let servers: usize = t.servers.values().map(|s| s.lines).sum();
        assert_eq!(servers, t.activesync_lines + t.other_lines, "{name}");

        // One hit per request, whichever servers logged it; only OPTIONS names no device.
        let with_device = t.requests.iter().filter(|r| r.user.is_some() && r.device_id.is_some());
        assert_eq!(
            t.devices.iter().map(|d| d.hits).sum::<usize>(),
            with_device.count(),
            "{name}"
        );
        for r in t.requests.iter().filter(|r| r.device_id.is_none()) {
            assert_eq!(r.method, "OPTIONS", "{name}: {r:?}");
        }
        assert_eq!(
            t.hourly.values().map(|h| h.hits).sum::<usize>(),
            t.requests.len(),
            "{name}"
        );
        for d in &t.devices {
            assert_eq!(d.commands.values().sum::<usize>(), d.hits, "{name}: {}", d.device_id);
            assert_eq!(d.http_status.values().sum::<usize>(), d.hits, "{name}: {}", d.device_id);
            assert!(d.first_seen <= d.last_seen);
        }
        // In time order, and every line of a request is where the truth says.
        assert!(t.requests.windows(2).all(|w| w[0].time <= w[1].time), "{name}");
        let mut seen = BTreeSet::new();
        for r in &t.requests {
            assert!(refs(r).next().is_some(), "{name}: {r:?} has no line");
            for line_ref in refs(r) {
                assert!(seen.insert(line_ref.clone()), "{name}: {line_ref:?} twice");
                assert!(!at(&files, line_ref).directive);
            }
        }
    }
}

#[test]
fn each_line_of_a_request_has_the_truth_s_date_time() {
    for (name, logs) in sample_logs() {
        let files = files(&logs);
        for r in &logs.truth.requests {
            // RFC 3339 `2024-03-05T07:02:14.123Z` → IIS's `2024-03-05 07:02:14`.
            let want = format!("{} {}", &r.time[..10], &r.time[11..19]);
            for line_ref in refs(r) {
                let line = at(&files, line_ref);
                assert_eq!(
                    format!("{} {}", line.get("date"), line.get("time")),
                    want,
                    "{name} {line_ref:?}"
                );
                assert_eq!(line.get("sc-status"), r.http_status.to_string());
            }
            if let Some(line_ref) = r.front_end.as_ref().or(r.cas.as_ref()) {
                let line = at(&files, line_ref);
                assert_eq!(
                    line.get("time-taken"),
                    r.time_taken_ms.to_string(),
                    "{name} {line_ref:?}"
                );
                assert_eq!(line.get("sc-substatus"), r.http_substatus.to_string());
                assert_eq!(line.get("sc-win32-status"), r.win32_status.to_string());
            }
        }
    }
}

#[test]
fn the_front_end_s_cafe_req_id_is_the_back_end_s_activity_id() {
    let mut joined = 0;
    for (name, logs) in sample_logs() {
        let files = files(&logs);
        for r in &logs.truth.requests {
            let Some(fe) = &r.front_end else { continue };
            let query = at(&files, fe).get("cs-uri-query");
            let id = query
                .split("&cafeReqId=")
                .nth(1)
                .and_then(|s| s.strip_suffix(';'))
                .unwrap_or_else(|| panic!("{name} {fe:?}: {query}"));
            assert!(query.contains("&CorrelationID=<empty>;"), "{name} {fe:?}");
            assert!(!query.contains("&Log="), "{name} {fe:?}: the front end writes no Log");
            assert_eq!(Some(id), r.activity_id.as_deref(), "{name} {fe:?}");
            if let Some(be) = &r.back_end {
                let line = at(&files, be);
                let back = line.get("cs-uri-query");
                assert!(
                    back.contains(&format!("ActivityContextData:ActivityID%3d{id}%3b")),
                    "{name} {be:?}"
                );
                // The back end was called by the front end.
                assert_eq!(line.get("c-ip"), at(&files, fe).get("s-ip"), "{name} {be:?}");
                assert!(
                    back.contains(&format!("PrxFrom:{}_", line.get("c-ip"))),
                    "{name} {be:?}"
                );
                joined += 1;
            }
        }
    }
    assert!(joined > 1000, "{joined} requests joined");
}

#[test]
fn the_lines_say_what_the_truth_says() {
    for (name, logs) in sample_logs() {
        let files = files(&logs);
        for r in &logs.truth.requests {
            // The device's query, in either form, names the request's user, device and command.
            if let Some(line_ref) = r.front_end.as_ref().or(r.cas.as_ref())
                && r.command.is_some()
            {
                let query = at(&files, line_ref).get("cs-uri-query");
                let device_part = query
                    .split("&CorrelationID=")
                    .next()
                    .and_then(|q| q.split("&Log=").next())
                    .unwrap();
                let decoded = decode_query(device_part).unwrap_or_else(|e| panic!("{name} {line_ref:?}: {e}"));
                assert_eq!(decoded.device_id, r.device_id, "{name} {line_ref:?}");
                assert_eq!(decoded.command_raw, r.command, "{name} {line_ref:?}");
                let user = decoded
                    .user
                    .or_else(|| Some(at(&files, line_ref).get("cs-username").to_string()));
                assert_eq!(user, r.user, "{name} {line_ref:?}");
            }
            // The engine's tokenizer reads the Log as the truth has it.
            let Some(line_ref) = r.back_end.as_ref().or(r.cas.as_ref()) else {
                assert!(r.eas_status.is_none() && r.error.is_none() && r.folders.is_empty());
                continue;
            };
            let query = at(&files, line_ref).get("cs-uri-query");
            let log = parse_log(log_value(query).unwrap_or_else(|| panic!("{name} {line_ref:?}: no Log")));
            assert_eq!(log.status, r.eas_status, "{name} {line_ref:?}");
            assert_eq!(log.error, r.error, "{name} {line_ref:?}");
            assert_eq!(log.heartbeat_s, r.heartbeat_s, "{name} {line_ref:?}");
            assert_eq!(log.throttle_ms, r.throttle_ms, "{name} {line_ref:?}");
            assert_eq!(log.access_state, r.access_state, "{name} {line_ref:?}");
            assert_eq!(log.policy_key, r.policy_key, "{name} {line_ref:?}");
            let tokens = |want: &str| -> Vec<String> {
                log.tokens
                    .iter()
                    .filter(|(n, _)| n == want)
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            let keys: Vec<String> = r.folders.iter().map(|f| f.sync_key.clone()).collect();
            let server_keys: Vec<String> = r.folders.iter().filter_map(|f| f.server_sync_key.clone()).collect();
            assert_eq!(tokens("Sk"), keys, "{name} {line_ref:?}");
            assert_eq!(tokens("Sks"), server_keys, "{name} {line_ref:?}");
            assert_eq!(
                tokens("Pa"),
                r.policy_ack.map(|a| a.to_string()).into_iter().collect::<Vec<_>>()
            );
            assert_eq!(r.sync_key, keys.first().cloned());
        }
    }
}

#[test]
fn every_exchange_is_logged_once_or_said_not_to_be() {
    for (stem, c) in all_samples() {
        let logs = conversation_iis_logs(&c, &iis_options(&stem)).unwrap();
        let t = &logs.truth;
        let mut indexes: Vec<usize> = t.requests.iter().filter_map(|r| r.exchange).collect();
        indexes.extend(&t.not_logged);
        indexes.sort_unstable();
        let all: Vec<usize> = (0..c.trace.len() + c.after_capture.len()).collect();
        assert_eq!(indexes, all, "{stem}");
        for &i in &t.not_logged {
            assert!(c.trace[i].generated_by_proxy, "{stem}: #{i} was not logged");
        }
        let legacy = stem.starts_with("policy-refresh-449");
        for r in &t.requests {
            match (legacy, r.http_status) {
                (true, _) => assert!(r.cas.is_some() && r.front_end.is_none() && r.back_end.is_none()),
                (false, 401 | 451) => assert!(r.front_end.is_some() && r.back_end.is_none(), "{stem}: {r:?}"),
                (false, _) => assert!(r.back_end.is_some(), "{stem}: {r:?}"),
            }
            if r.http_status == 401 {
                // The devices send Basic credentials: a wrong password, never a bare challenge.
                assert_eq!((r.http_substatus, r.win32_status), (1, 1326));
            }
        }
    }
}

#[test]
fn the_sample_variants_are_where_the_sets_put_them() {
    for (name, logs) in sample_logs() {
        let names: Vec<&str> = logs.files.iter().map(|(f, _)| f.as_str()).collect();
        match name.as_str() {
            "synckey-reset-android" => assert_eq!(names, ["W3SVC1/u_ex240307.log", "W3SVC2/u_ex240307.log.gz"]),
            n if n.starts_with("policy-refresh-449") => assert_eq!(names, ["W3SVC1/u_ex240308.log"]),
            "fleet" => assert_eq!(names.len(), 6),
            _ => {
                assert_eq!(names.len(), 2, "{name}");
                assert!(names[0].starts_with("W3SVC1/u_ex24") && names[1].starts_with("W3SVC2/u_ex24"));
            }
        }
        assert!(
            logs.files
                .iter()
                .all(|(f, b)| f.ends_with(".gz") == b.starts_with(&[0x1F, 0x8B]))
        );
        // Every 2013+ back end restarts halfway and comes back with three more fields.
        for (rel, lines) in files(&logs) {
            let fields: Vec<&Line> = lines.iter().filter(|l| l.text.starts_with("#Fields: ")).collect();
            if rel.contains("W3SVC2") && (name != "fleet" || rel.starts_with("MBX01")) {
                assert_eq!(fields.len(), 2, "{name}/{rel}");
                assert_eq!(fields[1].text.split(' ').count(), fields[0].text.split(' ').count() + 3);
                for added in ["s-computername", "sc-bytes", "cs-bytes"] {
                    assert!(!fields[0].text.contains(added) && fields[1].text.contains(added));
                }
            }
        }
    }
}

#[test]
fn scenarios_show_their_trouble() {
    let logs: BTreeMap<String, IisLogs> = sample_logs().into_iter().collect();
    for device in ["iphone", "android"] {
        // Twelve Syncs with the same key, then 503s refused before the body was read.
        let t = &logs[&format!("throttling-storm-{device}")].truth;
        assert_eq!(t.repeated_sync_keys.len(), 1, "{device}");
        assert_eq!(t.repeated_sync_keys[0].count, 12);
        let throttled: Vec<_> = t.requests.iter().filter(|r| r.http_status == 503).collect();
        assert_eq!(throttled.len(), 3);
        for r in throttled {
            assert_eq!((r.eas_status, r.error.as_deref()), (Some(111), Some("OverBudget")));
            assert!(r.throttle_ms.unwrap() > 0 && r.folders.is_empty());
        }
        assert_eq!(t.devices[0].throttled, 3);

        // The reset: 500s, then the Inbox from SyncKey 0.
        let t = &logs[&format!("synckey-reset-{device}")].truth;
        assert_eq!(t.devices[0].sync_key_zero, 1);
        assert!(t.devices[0].errors.get("SyncStateNotFound").is_some_and(|&n| n >= 2));
        let zero = t.requests.iter().find(|r| r.sync_key.as_deref() == Some("0")).unwrap();
        assert_eq!(zero.folders[0].sync_type, "F");
        // The Ping the device saw dropped was answered after its heartbeat, into a dead connection.
        let ping = t.requests.iter().find(|r| r.exchange == Some(0)).unwrap();
        assert_eq!((ping.http_status, ping.win32_status), (200, 64));
        assert_eq!(ping.time_taken_ms, u64::from(ping.heartbeat_s.unwrap()) * 1000 + 17);

        // Five wrong passwords, refused by the front end.
        let t = &logs[&format!("redirect-and-auth-{device}")].truth;
        assert_eq!(t.devices[0].http_status.get("401.1"), Some(&5));
    }
    let t = &logs["synckey-reset-android"].truth;
    assert_eq!(t.devices[0].errors.get("InvalidSyncKey"), Some(&1));
    let t = &logs["healthy-iphone"].truth;
    let d = &t.devices[0];
    assert_eq!((d.policy_key.is_some(), d.policy_ack), (true, Some(1)));
    assert_eq!(
        d.eas_status.keys().collect::<Vec<_>>(),
        [&1, &2],
        "healthy: only success statuses"
    );
}

/// The device of the fleet with this user (lower case) and device type.
fn fleet_device<'a>(t: &'a IisTruth, user: &str) -> &'a DeviceTruth {
    t.devices
        .iter()
        .find(|d| d.user.to_lowercase().contains(user))
        .unwrap_or_else(|| panic!("no device of {user}"))
}

#[test]
fn the_fleet_has_every_pattern_the_reports_look_for() {
    let logs = fleet_iis_logs(FLEET_SEED);
    let t = &logs.truth;
    let files = files(&logs);
    assert!((2000..6000).contains(&t.lines_total), "{} lines", t.lines_total);
    let users: BTreeSet<String> = t
        .devices
        .iter()
        .map(|d| {
            d.user
                .to_lowercase()
                .replace("contoso\\", "")
                .replace("@contoso.com", "")
        })
        .collect();
    assert!((5..=8).contains(&users.len()), "{users:?}");
    let roles: Vec<ServerRole> = t.servers.values().map(|s| s.role).collect();
    assert_eq!(roles.iter().filter(|r| **r == ServerRole::FrontEnd).count(), 3);
    assert_eq!(roles.iter().filter(|r| **r == ServerRole::BackEnd).count(), 2);
    assert!(t.requests.iter().all(|r| r.time.starts_with("2024-05-02T")));

    // SyncKey 0 again and again; a key replayed; sends that fail under HTTP 200.
    let cgarcia = fleet_device(t, "cgarcia");
    assert!(cgarcia.sync_key_zero >= 20, "{}", cgarcia.sync_key_zero);
    assert!(t.repeated_sync_keys.iter().any(|k| k.user == "dkim" && k.count >= 30));
    let fnguyen = fleet_device(t, "fnguyen");
    for (status, error) in [(115, "SendQuotaExceeded"), (120, "MailSubmissionFailed")] {
        assert!(
            fnguyen
                .sendmail
                .iter()
                .any(|o| o.eas_status == Some(status) && o.error.as_deref() == Some(error) && o.http_status == "200.0")
        );
    }
    assert!(fnguyen.sendmail.iter().any(|o| o.eas_status == Some(1)));
    let sends: BTreeSet<&str> = fnguyen.sendmail.iter().map(|o| o.command.as_str()).collect();
    assert_eq!(sends, BTreeSet::from(["SendMail", "SmartForward", "SmartReply"]));

    // Throttling, quarantine and auto-block on one device.
    let asmith = fleet_device(t, "asmith");
    assert!(asmith.errors.get("OverBudget").is_some_and(|&n| n >= 10));
    assert!(
        asmith.throttled > asmith.errors["OverBudget"],
        "requests queued before they were refused"
    );
    for state in ["QuarantinedG", "AllowedI", "BlockedABO"] {
        assert!(asmith.access_states.contains_key(state), "{state}");
    }

    // A 401 storm: many wrong passwords within a minute.
    let storm: Vec<i64> = t
        .requests
        .iter()
        .filter(|r| r.user.as_deref() == Some("contoso\\bwhite") && r.http_substatus == 1)
        .map(|r| parse_ms(&r.time))
        .collect();
    let in_a_minute = storm
        .iter()
        .map(|&s| storm.iter().filter(|&&o| o >= s && o < s + 60_000).count())
        .max();
    assert!(in_a_minute >= Some(30), "{in_a_minute:?}");
    assert_eq!(fleet_device(t, "bwhite").policy_ack, Some(3));
    assert_eq!(
        t.devices
            .iter()
            .find(|d| d.device_type == "iPhone" && d.user == "jdoe@contoso.com")
            .unwrap()
            .policy_ack,
        Some(1)
    );

    // A burst of 500s from MBX02 across its users.
    let burst: BTreeSet<&str> = t
        .requests
        .iter()
        .filter(|r| r.http_status == 500 && r.time.starts_with("2024-05-02T14:0"))
        .filter_map(|r| r.user.as_deref())
        .collect();
    assert!(burst.len() >= 2, "{burst:?}");

    // The heartbeat collapses from 900 to 60 on an IPv6 device.
    let elee: Vec<&RequestTruth> = t
        .requests
        .iter()
        .filter(|r| r.user.as_deref() == Some("elee@contoso.com") && r.heartbeat_s.is_some())
        .collect();
    let collapse: Vec<u32> = elee
        .iter()
        .filter(|r| r.time.as_str() >= "2024-05-02T12")
        .filter_map(|r| r.heartbeat_s)
        .take(16)
        .collect();
    assert_eq!(collapse[0], 900);
    assert!(collapse.contains(&60));
    assert!(
        elee.iter()
            .any(|r| r.error.as_deref() == Some("Ping.HbiTooLow") && r.eas_status == Some(5))
    );
    assert!(
        fleet_device(t, "elee")
            .client_ips
            .iter()
            .all(|ip| ip.starts_with("2001:db8:"))
    );

    // Outlook for iOS: a user agent with spaces, written with `+`.
    let outlook = &fleet_device(t, "fnguyen").user_agents[0];
    assert!(outlook.contains(' '));
    assert!(
        files
            .values()
            .flatten()
            .any(|l| l.text.contains(&outlook.replace(' ', "+")))
    );

    // The Exchange 2010 CAS: the old token style, no split, the spec's blob.
    let cas = &files["CAS2010/W3SVC1/u_ex240502.log"];
    let text: String = cas.iter().map(|l| l.text.clone() + "\n").collect();
    for want in [
        "Sk:0_Sks1204981531_",
        " jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l&Log=V140_",
        "_Hb1680_S3_Error:PingCollisionDetected_",
        "_Throttle0_",
        " /Microsoft-Server-ActiveSync/default.eas ",
    ] {
        assert!(text.contains(want), "{want}");
    }
    assert!(!text.contains("SC1:") && !text.contains("cafeReqId"));
    assert_eq!(fleet_device(t, "contoso\\hlopez").device_id, "v140Device");
}

#[test]
fn the_truth_round_trips_through_its_json() {
    for (name, logs) in sample_logs() {
        let json = truth_json(&logs.truth).unwrap();
        let back: IisTruth = serde_json::from_str(&json).unwrap();
        assert_eq!(back, logs.truth, "{name}");
        // One line per request.
        assert_eq!(
            json.lines().filter(|l| l.starts_with("    {\"")).count(),
            logs.truth.requests.len(),
            "{name}"
        );
    }
}

#[test]
fn the_big_log_is_the_size_asked_and_well_formed() {
    let dir = std::env::temp_dir().join(format!("easlens-big-iis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b, c) = (dir.join("a.log"), dir.join("b.log"), dir.join("c.log"));
    let target = 3 << 20;
    let written = big::write_big(&a, target, 7, 700 << 10).unwrap();
    big::write_big(&b, target, 7, 700 << 10).unwrap();
    big::write_big(&c, target, 8, 700 << 10).unwrap();
    let bytes = std::fs::read(&a).unwrap();
    assert!(
        bytes == std::fs::read(&b).unwrap(),
        "the same seed writes the same file"
    );
    assert!(bytes != std::fs::read(&c).unwrap());
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        (target..target + 4096).contains(&(bytes.len() as u64)),
        "{} bytes",
        bytes.len()
    );

    let lines = lines(&text(&bytes));
    assert_eq!(written as usize, lines.len() - 1);
    let fields: Vec<&Line> = lines.iter().filter(|l| l.text.starts_with("#Fields: ")).collect();
    assert!(fields.len() >= 4, "a #Fields change every 700 KB");
    assert!(
        fields.windows(2).all(|w| w[0].text != w[1].text),
        "the field sets alternate"
    );
    let requests: Vec<&Line> = lines.iter().filter(|l| !l.directive).collect();
    let mut last = String::new();
    let (mut other, mut ipv6, mut front, mut back) = (0, 0, BTreeSet::new(), BTreeSet::new());
    for l in &requests {
        assert!(l.complete && l.values().len() == l.names.len(), "{}", l.text);
        let time = format!("{} {}", l.get("date"), l.get("time"));
        assert!(time >= last, "times increase: {time} after {last}");
        last = time;
        let query = l.get("cs-uri-query");
        match l.get("cs-uri-stem") {
            "/Microsoft-Server-ActiveSync/default.eas" => {
                front.insert(
                    query
                        .split("cafeReqId=")
                        .nth(1)
                        .unwrap()
                        .trim_end_matches(';')
                        .to_string(),
                );
                ipv6 += usize::from(l.get("c-ip").contains(':'));
            }
            "/Microsoft-Server-ActiveSync/Proxy/default.eas" => {
                let id = query.split("ActivityID%3d").nth(1).unwrap();
                back.insert(id[..36].to_string());
                assert!(parse_log(log_value(query).unwrap()).protocol_version.is_some());
            }
            _ => other += 1,
        }
    }
    let share = other as f64 / requests.len() as f64;
    assert!((0.01..0.04).contains(&share), "{share}");
    assert!(ipv6 > 0);
    // Every back-end line belongs to a front-end line; the front end alone answers 401s.
    assert!(back.is_subset(&front));
    assert!(front.len() > back.len() && back.len() * 100 > front.len() * 95);
}
