//! The statistics (`analysis::statistics`) against the filter language: on every bundled capture
//! and on a hand-made one (a device id with quotes, a comma and spaces; a request that is not
//! ActiveSync), each row's filter query shows exactly that row's sessions, the outcome counts
//! add up, and every session is in one command row of its device.

use std::path::PathBuf;

use easlens_core::analysis::statistics::{NO_DEVICE, Outcome, Row, Statistics};
use easlens_core::capture::{
    self, Body, Capture, CommandNaming, Format, OpenOptions, PasswordPrompt, Request, Session,
};
use easlens_core::filter;
use easlens_core::http::{Headers, RequestHead};
use easlens_core::readers::MemoryStore;

/// Positions of the sessions a row is about, found without the engine's grouping: same device
/// label, and the same command (the EAS command's name, else the method) unless a total row.
fn sessions_of(c: &Capture, r: &Row) -> Vec<u32> {
    (0..c.sessions.len() as u32)
        .filter(|&i| {
            let s = &c.sessions[i as usize];
            let device = s.device_label();
            let device = if device.is_empty() {
                NO_DEVICE.to_string()
            } else {
                device
            };
            let command = s
                .eas_command(CommandNaming::Canonical)
                .map(str::to_string)
                .or_else(|| s.request.as_ref().map(|q| q.head.method.to_string()));
            device == r.device && r.command.as_ref().is_none_or(|c| Some(c) == command.as_ref())
        })
        .collect()
}

fn check(name: &str, c: &Capture) {
    let st = Statistics::of(c);
    let mut in_command_rows = 0;
    for r in &st.rows {
        let query = r.filter_query();
        let q = filter::parse(&query).unwrap_or_else(|e| panic!("{name}: {query}: {e:?}"));
        let expected = sessions_of(c, r);
        assert_eq!(filter::filter(c, &q, None), expected, "{name}: {query}");
        assert_eq!(r.count, expected.len() as u64, "{name}: {query}");
        let failing = expected
            .iter()
            .filter(|&&i| Outcome::of(&c.sessions[i as usize]) != Outcome::Ok)
            .count() as u64;
        assert_eq!(r.outcomes.failing(), failing, "{name}: {query}");
        assert_eq!(r.outcomes.ok + failing, r.count);
        if r.command.is_some() {
            in_command_rows += r.count;
        }
    }
    assert_eq!(in_command_rows, c.sessions.len() as u64, "{name}");
}

#[test]
fn on_every_sample_each_row_filters_to_its_sessions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let password = |_: &PasswordPrompt| Some("easlens".to_string());
    let options = OpenOptions {
        password: Some(&password),
        ..Default::default()
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".saz") || name.ends_with(".har")) {
            continue;
        }
        let c = capture::open(&path, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        check(&name, &c);
        checked += 1;
    }
    assert!(checked >= 10, "{checked} samples");
}

/// A request with no body to `url`, answered `status`.
fn request(index: u32, method: &str, url: &str) -> Session {
    let mut s = Session::new(index);
    let target = url.find("/Microsoft").or(url.find("/owa")).map_or("/", |i| &url[i..]);
    let head = RequestHead {
        method: method.into(),
        target: target.into(),
        version: "HTTP/1.1".into(),
        headers: Headers::new(),
        problems: Vec::new(),
    };
    s.request = Some(Request::new(head, url.into(), Body::empty()));
    s.eas = capture::summarize(&s, &[], &[]);
    s
}

#[test]
fn odd_device_ids_and_requests_that_are_not_activesync_filter_exactly() {
    let eas = "https://mail.contoso.com/Microsoft-Server-ActiveSync?User=u&Cmd=";
    let odd = "&DeviceId=id%20%221%22%2C%20x&DeviceType=Odd%20Type";
    let other = "&DeviceId=OTHER&DeviceType=iPhone";
    let sessions = vec![
        request(1, "POST", &format!("{eas}Sync{odd}")),
        request(2, "POST", &format!("{eas}sync{odd}")),
        request(3, "POST", &format!("{eas}Ping{odd}")),
        request(4, "POST", &format!("{eas}Sync{other}")),
        request(5, "GET", "https://mail.contoso.com/owa/"),
        request(6, "OPTIONS", "https://mail.contoso.com/Microsoft-Server-ActiveSync"),
    ];
    assert_eq!(sessions[0].device_label(), "Odd Type id \"1\", x");
    let c = Capture::new("t.saz".into(), Format::Saz, sessions, Vec::new(), Box::new(MemoryStore));
    check("hand-made", &c);
    let st = Statistics::of(&c);
    let sync = st
        .rows
        .iter()
        .find(|r| r.device == "Odd Type id \"1\", x" && r.command.as_deref() == Some("Sync"))
        .unwrap();
    assert_eq!(sync.count, 2, "Cmd=sync and Cmd=Sync are one command");
    assert_eq!(sync.outcomes.no_response, 2);
    let none: Vec<&str> = st
        .rows
        .iter()
        .filter(|r| r.device == NO_DEVICE)
        .map(|r| r.command_label())
        .collect();
    assert_eq!(none, ["(all commands)", "GET", "OPTIONS"]);
}
