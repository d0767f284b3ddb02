//! IIS logs in the window, driven headless through egui_kittest at 1024×700: a folder of servers'
//! logs opens as sessions, the filter reads the IIS fields, the IIS reports view shows, sorts,
//! filters and exports each report, and IIS logs added to a device's capture are lined up with it.

use easlens_app::{EaslensApp, Export, View};
use easlens_core::analysis::align::PairKind;
use easlens_core::capture::Format;
use easlens_core::iis::reports::{Cell, REPORTS};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod app_support;
use app_support::{harness, sample, step_until, type_into_filter};

fn open(name: &str) -> Harness<'static, EaslensApp> {
    let mut h = harness(EaslensApp::new(Some(sample(name))));
    h.set_size(eframe::egui::vec2(1024.0, 700.0));
    step_until(&mut h, "the logs to load", |a| a.capture().is_some());
    step_until(&mut h, "the body index", |a| a.filter.indexing().is_none());
    h
}

/// The positions the filter shows, sorted.
fn shown(h: &Harness<'_, EaslensApp>) -> Vec<u32> {
    let mut v = h.state().sessions.visible.clone();
    v.sort_unstable();
    v
}

#[test]
fn a_folder_of_iis_logs_opens_and_filters_by_the_iis_fields() {
    let mut h = open("fleet.iis");
    let capture = h.state().capture().unwrap();
    assert_eq!(capture.format, Format::IisLog);
    let n = capture.sessions.len();
    assert!(n > 2000, "{n}");
    h.get_by_label(&format!("{n} of {n} sessions"));
    // Each filter against the sessions' own facts.
    type Wanted<'a> = &'a dyn Fn(&easlens_core::capture::Session) -> bool;
    let cases: [(&str, Wanted); 3] = [
        ("error:OverBudget", &|s| {
            s.iis
                .as_deref()
                .and_then(|f| f.log.as_ref())
                .and_then(|l| l.error.as_deref())
                .is_some_and(|e| e.contains("OverBudget"))
        }),
        ("time-taken:>600000", &|s| {
            s.iis
                .as_deref()
                .and_then(|f| f.time_taken_ms)
                .is_some_and(|t| t > 600_000)
        }),
        ("server:MBX02 http:5xx", &|s| {
            let f = s.iis.as_deref().unwrap();
            let log = f.log.as_ref();
            let on = [Some(f.server.as_ref()), log.and_then(|l| l.mailbox_server.as_deref())]
                .into_iter()
                .flatten()
                .chain(log.and_then(|l| l.front_end.as_deref()))
                .chain(log.and_then(|l| l.proxied_from.as_deref()))
                .chain(s.server_ip.as_deref())
                .any(|v| v.to_lowercase().contains("mbx02"));
            on && s.http_status().is_some_and(|c| (500..600).contains(&c))
        }),
    ];
    for (query, want) in cases {
        type_into_filter(&mut h, query);
        step_until(&mut h, "the filter", |a| !a.filter.is_filtering());
        let capture = h.state().capture().unwrap();
        let expected: Vec<u32> = (0..capture.sessions.len() as u32)
            .filter(|&i| want(&capture.sessions[i as usize]))
            .collect();
        assert!(!expected.is_empty(), "{query}: the fleet has such sessions");
        assert_eq!(shown(&h), expected, "{query}");
    }
}

#[test]
fn the_iis_reports_view_shows_sorts_filters_and_exports_every_report() {
    let mut h = open("fleet.iis");
    let tab = h.get_by_label("IIS reports");
    let tab_bottom = tab.rect().max.y;
    tab.click();
    h.run_steps(3);
    assert_eq!(h.state().view, View::IisReports);
    let reports = h.state().capture().unwrap().iis_reports.clone().unwrap();
    // Every report opens from its button, with the engine's rows.
    for &(name, title, _) in REPORTS {
        // The report's button (its title is also the heading below it).
        h.query_all_by_label(title)
            .find(|n| n.rect().min.y > tab_bottom)
            .unwrap()
            .click();
        h.run_steps(3);
        assert_eq!(h.state().iis_reports.report, name);
        let t = reports.table(name).unwrap();
        h.get_by_label(&format!(
            "{} row{}",
            t.rows.len(),
            if t.rows.len() == 1 { "" } else { "s" }
        ));
        assert!(!t.rows.is_empty(), "{name}: the fleet has rows for every report");
    }
    // Users and devices: sorted by Hits, largest first, then smallest first.
    h.query_all_by_label("Users and devices")
        .find(|n| n.rect().min.y > tab_bottom)
        .unwrap()
        .click();
    h.run_steps(3);
    let t = reports.table("users").unwrap();
    let hits_col = t.column("Hits").unwrap();
    h.query_all_by_label("Hits")
        .find(|n| n.rect().min.y > tab_bottom)
        .unwrap()
        .click();
    h.run_steps(3);
    h.get_by_label("Hits ▼");
    let hits_shown = |h: &Harness<'_, EaslensApp>| -> Vec<i64> {
        h.state()
            .iis_reports
            .order()
            .iter()
            .map(|&k| match t.rows[k][hits_col] {
                Cell::Int(n) => n,
                _ => -1,
            })
            .collect()
    };
    let down = hits_shown(&h);
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    h.get_by_label("Hits ▼").click();
    h.run_steps(3);
    let up = hits_shown(&h);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    // Largest first again (the device with most hits on top), and a row filters the session
    // table to its device.
    h.get_by_label("Hits ▲").click();
    h.run_steps(3);
    let device = "G7HT2M4QPW8X5B1N";
    h.get_by_label(device).click();
    h.run_steps(3);
    step_until(&mut h, "the filter", |a| !a.filter.is_filtering());
    assert_eq!(h.state().filter.text, format!("device:{device}"));
    let capture = h.state().capture().unwrap();
    let expected: Vec<u32> = (0..capture.sessions.len() as u32)
        .filter(|&i| {
            capture.sessions[i as usize]
                .eas
                .as_ref()
                .is_some_and(|e| e.device_id.as_deref().is_some_and(|d| d.contains(device)))
        })
        .collect();
    assert_eq!(shown(&h), expected);
    // Export: the CSV reads back with the report's rows.
    let dir = std::env::temp_dir().join(format!("easlens-app-iis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv_path = dir.join("users.csv");
    let ctx = h.ctx.clone();
    h.state_mut()
        .export_to(Export::IisReport("users"), csv_path.clone(), &ctx);
    step_until(&mut h, "the export", |a| !a.is_exporting());
    h.get_by_label_contains("Exported Users and devices");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, t.columns.iter().map(|c| c.name.to_string()).collect::<Vec<_>>());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), t.rows.len());
    for (r, want) in rows.iter().zip(&t.rows) {
        assert_eq!(r.get(hits_col).unwrap(), want[hits_col].display());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn iis_logs_added_to_a_capture_are_its_devices_lines_lined_up_with_it() {
    let app = EaslensApp::new(Some(sample("throttling-storm-iphone.saz")))
        .with_log(Some(sample("throttling-storm-iphone.iis")));
    let mut h = harness(app);
    h.set_size(eframe::egui::vec2(1024.0, 700.0));
    step_until(&mut h, "the IIS logs to be lined up", |a| a.log.attached().is_some());
    let attached = h.state().log.attached().unwrap().clone();
    assert_eq!(attached.log.format, Format::IisLog);
    let trace = h.state().capture().unwrap();
    let device = trace
        .sessions
        .iter()
        .find_map(|s| s.eas.as_ref().and_then(|e| e.device_id.clone()))
        .unwrap();
    // Only the device's lines, a back-end line folded into its front-end line.
    assert!(attached.log.sessions.iter().all(|s| {
        s.eas
            .as_ref()
            .and_then(|e| e.device_id.as_deref())
            .is_none_or(|d| d.eq_ignore_ascii_case(&device))
    }));
    assert!(
        attached
            .log
            .sessions
            .iter()
            .all(|s| s.iis.as_deref().unwrap().role != easlens_core::iis::Role::BackEnd
                || s.iis.as_deref().unwrap().paired_with.is_none())
    );
    let matched = attached
        .alignment
        .pairs
        .iter()
        .filter(|p| p.kind == PairKind::Matched)
        .count();
    let eas = trace.sessions.iter().filter(|s| s.eas.is_some()).count();
    assert!(
        matched * 10 >= eas * 8,
        "most requests are found in the IIS logs: {matched} of {eas}"
    );
    // The throttled 503s: what IIS answered is on the matched line.
    let throttled = attached
        .alignment
        .pairs
        .iter()
        .filter(|p| p.kind == PairKind::Matched)
        .filter(|p| attached.log.sessions[p.log.unwrap()].http_status() == Some(503))
        .count();
    assert!(throttled > 0);
    type_into_filter(&mut h, "log:trace_only");
    step_until(&mut h, "the filter", |a| !a.filter.is_filtering());
}
