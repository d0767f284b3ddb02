//! The bundled IIS logs (`samples/*.iis/`, written by the sample kit with the truth of what it
//! wrote beside them, `samples/*.iis.json`) read back: every report's numbers and every session
//! checked against the generated truth, never against easlens' own output.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use easlens_core::capture::{self, Format, OpenOptions};
use easlens_core::iis::Role;
use easlens_core::iis::reports::{Cell, Reports, Table};
use easlens_core::iis::scan;
use serde_json::Value;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Every `(folder, truth)` pair of the bundled IIS logs.
fn logs() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(samples()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(stem) = name.strip_suffix(".iis.json") {
            let truth: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            out.push((samples().join(format!("{stem}.iis")), truth));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 15,
        "the sample kit writes an IIS log per conversation and a fleet"
    );
    out
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn cell_int(t: &Table, row: &[Cell], column: &str) -> i64 {
    match &row[t
        .column(column)
        .unwrap_or_else(|| panic!("{}: no column {column}", t.name))]
    {
        Cell::Int(n) => *n,
        Cell::Empty => 0,
        other => panic!("{column}: {other:?}"),
    }
}

fn cell_text(t: &Table, row: &[Cell], column: &str) -> String {
    row[t.column(column).unwrap()].display()
}

/// The row of a per-device table for (user, device id), compared in lower case.
fn device_row<'a>(t: &'a Table, user: &str, device: &str) -> Option<&'a [Cell]> {
    let (u, d) = (t.column("User").unwrap(), t.column("Device ID").unwrap());
    t.rows
        .iter()
        .find(|r| r[u].display().eq_ignore_ascii_case(user) && r[d].display().eq_ignore_ascii_case(device))
        .map(Vec::as_slice)
}

/// `2024-05-02T06:31:00.124Z` as the reports write it.
fn utc(t: &str) -> String {
    t[..19].replace('T', " ")
}

#[test]
fn every_report_agrees_with_the_generated_truth() {
    for (dir, truth) in logs() {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let (r, scan) = scan::scan(std::slice::from_ref(&dir), &OpenOptions::default(), Reports::new).unwrap();
        assert_eq!(scan.activesync_lines() as i64, n(&truth["activesync_lines"]), "{name}");
        let other: u64 = scan.files.iter().map(|f| f.other_lines).sum();
        assert_eq!(other as i64, n(&truth["other_lines"]), "{name}");
        let probes: u64 = scan.files.iter().map(|f| f.probe_lines).sum();
        assert_eq!(probes as i64, n(&truth["probe_lines"]), "{name}");
        assert_eq!(scan.skipped().total() as i64, n(&truth["skipped_lines"]), "{name}");
        let requests = truth["requests"].as_array().unwrap();

        let users = r.table("users").unwrap();
        let synckey0 = r.table("synckey0").unwrap();
        let policy = r.table("policy").unwrap();
        let access = r.table("access").unwrap();
        let throttling = r.table("throttling").unwrap();
        let devices = truth["devices"].as_array().unwrap();
        // Requests without a DeviceId (OPTIONS) are a row of their own, for the user.
        let with_device = users
            .rows
            .iter()
            .filter(|r| !cell_text(&users, r, "Device ID").is_empty())
            .count();
        assert_eq!(with_device, devices.len(), "{name}: one row per device");
        for d in devices {
            let (user, id) = (d["user"].as_str().unwrap(), d["device_id"].as_str().unwrap());
            let at = format!("{name} {user} {id}");
            let row = device_row(&users, user, id).unwrap_or_else(|| panic!("{at}: no users row"));
            assert_eq!(cell_int(&users, row, "Hits"), n(&d["hits"]), "{at}: hits");
            let cmd = |c: &str| n(&d["commands"][c]);
            for c in ["Sync", "Ping", "FolderSync", "SendMail"] {
                assert_eq!(cell_int(&users, row, c), cmd(c), "{at}: {c}");
            }
            let named: i64 = ["Sync", "Ping", "FolderSync", "SendMail"].iter().map(|c| cmd(c)).sum();
            assert_eq!(cell_int(&users, row, "Other commands"), n(&d["hits"]) - named, "{at}");
            let http_class = |lo: u32| -> i64 {
                d["http_status"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| k.split('.').next().unwrap().parse::<u32>().unwrap() / 100 == lo)
                    .map(|(_, v)| n(v))
                    .sum()
            };
            assert_eq!(cell_int(&users, row, "HTTP 4xx"), http_class(4), "{at}: 4xx");
            assert_eq!(cell_int(&users, row, "HTTP 5xx"), http_class(5), "{at}: 5xx");
            let errors: i64 = requests
                .iter()
                .filter(|q| q["user"] == d["user"] && q["device_id"] == d["device_id"] && q["error"].is_string())
                .count() as i64;
            assert_eq!(cell_int(&users, row, "Exchange errors"), errors, "{at}: errors");
            assert_eq!(
                cell_text(&users, row, "First seen (UTC)"),
                utc(d["first_seen"].as_str().unwrap()),
                "{at}"
            );
            assert_eq!(
                cell_text(&users, row, "Last seen (UTC)"),
                utc(d["last_seen"].as_str().unwrap()),
                "{at}"
            );
            for agent in d["user_agents"].as_array().unwrap() {
                assert!(
                    cell_text(&users, row, "User agents").contains(agent.as_str().unwrap()),
                    "{at}: {agent}"
                );
            }
            // SyncKey 0 (LPS "Count Syncs with SyncKey of Zero Per User").
            if n(&d["syncs"]) > 0 {
                let s = device_row(&synckey0, user, id).unwrap_or_else(|| panic!("{at}: no synckey0 row"));
                assert_eq!(
                    cell_int(&synckey0, s, "Syncs with SyncKey 0"),
                    n(&d["sync_key_zero"]),
                    "{at}"
                );
                assert_eq!(cell_int(&synckey0, s, "All Syncs"), n(&d["syncs"]), "{at}");
            }
            // Throttling, counted from the requests' own fields.
            let mine: Vec<&Value> = requests
                .iter()
                .filter(|q| q["user"] == d["user"] && q["device_id"] == d["device_id"])
                .collect();
            let count = |f: &dyn Fn(&Value) -> bool| mine.iter().filter(|q| f(q)).count() as i64;
            let s503 = count(&|q| q["http_status"] == 503);
            let over = count(&|q| q["error"].as_str().is_some_and(|e| e.contains("OverBudget")));
            let queued = count(&|q| n(&q["throttle_ms"]) > 0);
            match device_row(&throttling, user, id) {
                Some(t) => {
                    assert_eq!(cell_int(&throttling, t, "HTTP 503"), s503, "{at}: 503");
                    assert_eq!(cell_int(&throttling, t, "Error:OverBudget"), over, "{at}: OverBudget");
                    assert_eq!(
                        cell_int(&throttling, t, "Queued (Throttle > 0)"),
                        queued,
                        "{at}: queued"
                    );
                    let longest = mine.iter().map(|q| n(&q["throttle_ms"])).max().unwrap_or(0);
                    assert_eq!(cell_int(&throttling, t, "Longest queue ms"), longest, "{at}");
                }
                None => assert_eq!((s503, over, queued), (0, 0, 0), "{at}: throttled but not listed"),
            }
            // Access (ABQ): every state's lines, and the state of the latest line with one.
            let states: Vec<(&str, &str)> = mine
                .iter()
                .filter_map(|q| Some((q["access_state"].as_str()?, q["time"].as_str()?)))
                .collect();
            match device_row(&access, user, id) {
                Some(a) => {
                    let not_allowed = states.iter().filter(|(s, _)| !s.starts_with("Allowed")).count() as i64;
                    assert_eq!(
                        cell_int(&access, a, "Lines blocked or quarantined"),
                        not_allowed,
                        "{at}"
                    );
                    let seen = cell_text(&access, a, "States seen");
                    for state in states
                        .iter()
                        .map(|(s, _)| *s)
                        .collect::<std::collections::BTreeSet<_>>()
                    {
                        let lines = states.iter().filter(|(s, _)| *s == state).count();
                        let word = if lines == 1 { "line" } else { "lines" };
                        assert!(
                            seen.contains(&format!("{state} {lines} {word} ")),
                            "{at}: {state} in {seen}"
                        );
                    }
                    // The latest line's state, when no other line shares its time.
                    let last = states.iter().map(|(_, t)| *t).max().unwrap();
                    let at_last: Vec<&str> = states.iter().filter(|(_, t)| *t == last).map(|(s, _)| *s).collect();
                    if at_last.len() == 1 {
                        assert_eq!(cell_text(&access, a, "Access state now"), at_last[0], "{at}");
                    }
                }
                None => assert!(states.is_empty(), "{at}: access states but no row"),
            }
            // Policy: the last key and acknowledgement.
            if let Some(pk) = d["policy_key"]
                .as_str()
                .map(str::to_string)
                .or(d["policy_key"].as_i64().map(|k| k.to_string()))
            {
                let p = device_row(&policy, user, id).unwrap_or_else(|| panic!("{at}: no policy row"));
                assert_eq!(cell_text(&policy, p, "Last policy key (Pk)"), pk, "{at}");
                if let Some(pa) = d["policy_ack"].as_i64() {
                    assert!(
                        cell_text(&policy, p, "Compliance (last Pa)").starts_with(&pa.to_string()),
                        "{at}"
                    );
                }
            }
        }

        // SendMail results: (command, EAS status, error, HTTP status) → requests.
        let sendmail = r.table("sendmail").unwrap();
        let mut want: BTreeMap<(String, i64, String, i64), i64> = BTreeMap::new();
        for d in devices {
            for s in d["sendmail"].as_array().unwrap() {
                let http = s["http_status"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .next()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap();
                let key = (
                    s["command"].as_str().unwrap().to_string(),
                    n(&s["eas_status"]),
                    s["error"].as_str().unwrap_or("").to_string(),
                    http,
                );
                *want.entry(key).or_default() += n(&s["count"]);
            }
        }
        let mut got: BTreeMap<(String, i64, String, i64), i64> = BTreeMap::new();
        for row in &sendmail.rows {
            let key = (
                cell_text(&sendmail, row, "Command"),
                cell_int(&sendmail, row, "EAS status"),
                cell_text(&sendmail, row, "Error"),
                cell_int(&sendmail, row, "sc-status"),
            );
            *got.entry(key).or_default() += cell_int(&sendmail, row, "Requests");
        }
        assert_eq!(got, want, "{name}: SendMail results");

        // EAS status and error counts over all devices.
        let eas = r.table("eas-status").unwrap();
        let mut want: BTreeMap<i64, i64> = BTreeMap::new();
        for d in devices {
            for (k, v) in d["eas_status"].as_object().unwrap() {
                *want.entry(k.parse().unwrap()).or_default() += n(v);
            }
        }
        let mut got: BTreeMap<i64, i64> = BTreeMap::new();
        for row in &eas.rows {
            *got.entry(cell_int(&eas, row, "EAS status")).or_default() += cell_int(&eas, row, "Requests");
        }
        assert_eq!(got, want, "{name}: EAS status");
        let errors = r.table("errors").unwrap();
        let mut want: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for d in devices {
            for (k, v) in d["errors"].as_object().unwrap() {
                let e = want.entry(k.clone()).or_default();
                (e.0, e.1) = (e.0 + n(v), e.1 + 1);
            }
        }
        let got: BTreeMap<String, (i64, i64)> = errors
            .rows
            .iter()
            .map(|row| {
                (
                    cell_text(&errors, row, "Error"),
                    (cell_int(&errors, row, "Requests"), cell_int(&errors, row, "Devices")),
                )
            })
            .collect();
        assert_eq!(got, want, "{name}: errors");

        // Repeated SyncKeys (LPS "Count all Syncs per SyncKey").
        let keys = r.table("synckeys").unwrap();
        let want: BTreeMap<(String, String, String), i64> = truth["repeated_sync_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    (
                        k["device_id"].as_str().unwrap().to_lowercase(),
                        k["folder"].as_str().unwrap().to_string(),
                        k["sync_key"].as_str().unwrap().to_string(),
                    ),
                    n(&k["count"]),
                )
            })
            .collect();
        let got: BTreeMap<(String, String, String), i64> = keys
            .rows
            .iter()
            .map(|row| {
                (
                    (
                        cell_text(&keys, row, "Device ID").to_lowercase(),
                        cell_text(&keys, row, "Folder (Fid)"),
                        cell_text(&keys, row, "Client SyncKey"),
                    ),
                    cell_int(&keys, row, "Syncs"),
                )
            })
            .collect();
        assert_eq!(got, want, "{name}: repeated SyncKeys");

        // Hourly: requests (front end and CAS lines: every request has one unless its line was
        // cut), unique devices, Sync + GetItemEstimate.
        let hourly = r.table("hourly").unwrap();
        for (hour, h) in truth["hourly"].as_object().unwrap() {
            let label = format!("{hour}:00");
            let row = hourly
                .rows
                .iter()
                .find(|r| r[0] == Cell::Text(label.clone()))
                .unwrap_or_else(|| panic!("{name}: no hour {label}"));
            assert_eq!(
                cell_int(&hourly, row, "Unique devices"),
                n(&h["devices"]),
                "{name} {label}"
            );
            assert_eq!(
                cell_int(&hourly, row, "Sync + GetItemEstimate"),
                n(&h["sync_and_estimate"]),
                "{name} {label}"
            );
            let lines = cell_int(&hourly, row, "Front end / CAS").max(cell_int(&hourly, row, "Back end"));
            assert_eq!(lines, n(&h["hits"]), "{name} {label}: requests");
        }

        // Servers: lines per role (a log without s-computername names its server by address),
        // health probes left out of the report.
        let servers = r.table("servers").unwrap();
        for role in ["front_end", "back_end", "cas"] {
            let shown = match role {
                "front_end" => "front end",
                "back_end" => "back end",
                _ => "CAS",
            };
            let want: i64 = truth["servers"]
                .as_object()
                .unwrap()
                .values()
                .filter(|s| s["role"] == role)
                .map(|s| n(&s["activesync_lines"]))
                .sum();
            let got: i64 = servers
                .rows
                .iter()
                .filter(|r| cell_text(&servers, r, "Role") == shown)
                .map(|r| cell_int(&servers, r, "Lines"))
                .sum();
            assert!(got <= want && (got > 0) == (want > 0), "{name} {role}: {got} of {want}");
        }
        for (server, s) in truth["servers"].as_object().unwrap() {
            let named = servers.rows.iter().any(|r| cell_text(&servers, r, "Server") == *server);
            // Named when the logs name it: a folder of its own, or s-computername on its lines.
            let _ = s;
            let in_layout = dir.join(server).is_dir();
            let in_lines = std::fs::read_dir(&dir).unwrap().flatten().any(|site| {
                std::fs::read_dir(site.path()).into_iter().flatten().flatten().any(|f| {
                    std::fs::read(f.path()).is_ok_and(|b| String::from_utf8_lossy(&b).contains(&format!(" {server} ")))
                })
            });
            if in_layout || in_lines {
                assert!(named, "{name}: server {server} not listed: {:?}", servers.rows);
            }
        }
    }
}

#[test]
fn every_line_becomes_a_session_at_its_time_and_the_two_lines_of_a_request_are_paired() {
    for (dir, truth) in logs() {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let c = capture::open(&dir, &OpenOptions::default()).unwrap();
        assert_eq!(c.format, Format::IisLog);
        assert_eq!(c.sessions.len() as i64, n(&truth["activesync_lines"]), "{name}");
        let mut stages = 0;
        // Each session by (file, line).
        let mut at: HashMap<(String, u64), usize> = HashMap::new();
        for (p, s) in c.sessions.iter().enumerate() {
            let f = s.iis.as_deref().unwrap();
            let rel = f.file.strip_prefix(&dir).unwrap().to_str().unwrap().replace('\\', "/");
            at.insert((rel, f.line), p);
        }
        for q in truth["requests"].as_array().unwrap() {
            let find = |side: &str| -> Option<usize> {
                let r = q[side].as_object()?;
                let key = (r["file"].as_str().unwrap().to_string(), r["line"].as_u64().unwrap());
                Some(*at.get(&key).unwrap_or_else(|| panic!("{name}: no session for {key:?}")))
            };
            let (fe, be, cas) = (find("front_end"), find("back_end"), find("cas"));
            for p in [fe, be, cas].into_iter().flatten() {
                let s = &c.sessions[p];
                let ended = s.timers.client_done_response().unwrap();
                assert_eq!(
                    utc(&ended.to_rfc3339()),
                    utc(q["time"].as_str().unwrap()),
                    "{name} #{}",
                    s.index
                );
                let eas = s.eas.as_ref().unwrap();
                assert_eq!(eas.command_raw.as_deref(), q["command"].as_str(), "{name} #{}", s.index);
                assert!(
                    eas.device_id
                        .as_deref()
                        .unwrap_or("")
                        .eq_ignore_ascii_case(q["device_id"].as_str().unwrap_or("")),
                    "{name} #{}",
                    s.index
                );
            }
            // The stages Exchange wrote (`Tm*`), dated by the line they are on.
            if let Some(received) = q["received"].as_str() {
                let s = &c.sessions[be.or(cas).or(fe).unwrap()];
                let log = s.iis.as_deref().unwrap().log.as_ref().expect("a line with Log=");
                let at = |token: &str| log.stages.iter().find(|t| t.token == token).and_then(|t| t.at_ms);
                let ms = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis();
                assert_eq!(at("TmRcv"), Some(ms(received)), "{name} #{}", s.index);
                assert_eq!(
                    at("TmCmpl"),
                    Some(ms(q["time"].as_str().unwrap()) - 1),
                    "{name} #{}",
                    s.index
                );
                stages += 1;
            }
            if let (Some(f), Some(b)) = (fe, be) {
                let (f, b) = (&c.sessions[f], &c.sessions[b]);
                assert_eq!(f.iis.as_deref().unwrap().role, Role::FrontEnd);
                assert_eq!(b.iis.as_deref().unwrap().role, Role::BackEnd);
                assert_eq!(
                    f.iis.as_deref().unwrap().paired_with,
                    Some(b.index),
                    "{name}: #{} and #{}",
                    f.index,
                    b.index
                );
                if let Some(s) = q["eas_status"].as_i64() {
                    assert_eq!(
                        b.eas.as_ref().unwrap().response_status_values(),
                        vec![s as u32],
                        "{name} #{}",
                        b.index
                    );
                }
            }
        }
        let with_stages = truth["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["received"].is_string());
        assert_eq!(stages, with_stages.count(), "{name}");
    }
    // The 2013+ servers of the samples write stages.
    assert!(
        logs().iter().any(|(_, t)| t["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["received"].is_string())),
        "no sample has Tm* stages"
    );
}

#[test]
fn the_iis_rules_find_the_fleets_failures_and_nothing_in_healthy_logs() {
    use easlens_core::analysis::findings::{Findings, Severity};
    let fleet = capture::open(&samples().join("fleet.iis"), &OpenOptions::default()).unwrap();
    let found = Findings::build(&fleet);
    let of = |rule: &str| -> Vec<_> { found.findings.iter().filter(|f| f.rule == rule).collect() };
    // Each pattern the fleet was written with, on the device it was written for (the truth's
    // errors and statuses say which).
    let truth: Value = serde_json::from_slice(&std::fs::read(samples().join("fleet.iis.json")).unwrap()).unwrap();
    let device_with = |f: &dyn Fn(&Value) -> bool| -> Vec<String> {
        truth["devices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| f(d))
            .map(|d| d["device_id"].as_str().unwrap().to_string())
            .collect()
    };
    let over = device_with(&|d| n(&d["errors"]["OverBudget"]) > 0);
    let throttled = of("iis-throttled");
    assert_eq!(throttled.len(), over.len());
    assert!(
        throttled
            .iter()
            .all(|f| over.iter().any(|d| f.message.contains(d.as_str())))
    );
    let storm = device_with(&|d| n(&d["http_status"]["401.1"]) >= 5);
    let auth = of("iis-auth-storm");
    assert_eq!(auth.len(), storm.len());
    assert!(auth[0].message.contains(storm[0].as_str()) && auth[0].severity == Severity::Error);
    let low = device_with(&|d| n(&d["errors"]["Ping.HbiTooLow"]) > 0);
    let hb = of("iis-heartbeat-collapse");
    assert_eq!(hb.len(), low.len());
    assert!(hb[0].message.contains(low[0].as_str()) && hb[0].message.contains("fell from"));
    let resets = device_with(&|d| n(&d["sync_key_zero"]) > 1);
    let reset = of("iis-synckey-reset");
    assert!(
        resets
            .iter()
            .all(|d| reset.iter().any(|f| f.message.contains(d.as_str()))),
        "{resets:?}"
    );
    let errors500 = of("iis-server-errors");
    assert!(
        errors500
            .iter()
            .any(|f| f.message.contains("(500)") && f.severity == Severity::Error)
    );
    assert!(
        errors500.iter().all(|f| !f.message.contains("from 10.")),
        "servers by name: {errors500:?}"
    );
    let quarantine = of("iis-exchange-error");
    assert!(
        quarantine
            .iter()
            .any(|f| f.message.contains("InQuarantine") && f.severity == Severity::Warning)
    );
    // Every rule's evidence is sessions of the device it names.
    for f in found
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("iis-") && f.rule != "iis-server-errors")
    {
        for &i in &f.sessions {
            let s = fleet.sessions.iter().find(|s| s.index == i).unwrap();
            let d = s.eas.as_ref().unwrap().device_id.clone().unwrap_or_default();
            assert!(f.message.contains(d.as_ref() as &str), "{}: #{i} of {d}", f.message);
        }
    }
    // Healthy conversations raise nothing.
    for name in ["healthy-iphone.iis", "healthy-android.iis"] {
        let c = capture::open(&samples().join(name), &OpenOptions::default()).unwrap();
        let f = Findings::build(&c);
        assert!(f.findings.is_empty(), "{name}: {:?}", f.findings);
    }
}
