//! The session filter on the bundled samples and on a hand-made capture: every field and form,
//! free text with and without the text index, negation, OR, quotes, and parse errors.
//!
//! Expected results are session numbers (`Session::index`, the `#` column of `easlens sessions`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use easlens_core::capture::{
    self, Body, BodyKept, BodyLocation, Capture, Format, OpenOptions, PasswordPrompt, Progress, Request, Response,
    Session,
};
use easlens_core::filter::{self, FilterError, Query, TextIndex};
use easlens_core::http::Side;
use easlens_core::http::{Headers, RequestHead, ResponseHead};
use easlens_core::readers::MemoryStore;
use easlens_core::wbxml;

// ---------------------------------------------------------------------------------------------
// Helpers

fn sample(name: &str) -> Capture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples").join(name);
    let password = |_: &PasswordPrompt| Some("easlens".to_string());
    let options = OpenOptions {
        password: Some(&password),
        ..Default::default()
    };
    capture::open(&path, &options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn index(c: &Capture) -> TextIndex {
    TextIndex::build(c, None, None).expect("not cancelled")
}

fn q(query: &str) -> Query {
    filter::parse(query).unwrap_or_else(|e| panic!("{query:?}: {e}"))
}

/// Session numbers `query` matches. Also checks that `Query::matches` agrees with `filter`.
fn hits(c: &Capture, query: &str, text: Option<&TextIndex>) -> Vec<u32> {
    let parsed = q(query);
    let positions = filter::filter(c, &parsed, text);
    let one_by_one: Vec<u32> = (0..c.sessions.len() as u32)
        .filter(|&p| parsed.matches(&c.sessions[p as usize], text))
        .collect();
    assert_eq!(positions, one_by_one, "{query:?}: filter and matches disagree");
    positions.iter().map(|&p| c.sessions[p as usize].index).collect()
}

fn all(c: &Capture) -> Vec<u32> {
    c.sessions.iter().map(|s| s.index).collect()
}

fn range(a: u32, b: u32) -> Vec<u32> {
    (a..=b).collect()
}

fn error(query: &str) -> FilterError {
    match filter::parse(query) {
        Ok(q) => panic!("{query:?} parsed: {q:?}"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Samples: metadata fields

#[test]
fn throttling_storm_http_throttled_cmd_header_index() {
    let c = sample("throttling-storm-iphone.saz");
    assert_eq!(hits(&c, "http:503", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "http:5xx", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "http:500-599", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "http:!200", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "-http:200", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "http:200", None), range(1, 13));
    assert_eq!(hits(&c, "throttled", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "is:throttled", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "-throttled", None), range(1, 13));
    assert_eq!(hits(&c, "!throttled", None), range(1, 13));
    assert_eq!(hits(&c, "NOT throttled", None), range(1, 13));
    assert_eq!(hits(&c, "problem", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "cmd:Ping", None), vec![1]);
    assert_eq!(hits(&c, "command:PING", None), vec![1]);
    assert_eq!(hits(&c, "-cmd:Ping", None), range(2, 16));
    assert_eq!(hits(&c, "cmd:!Ping", None), range(2, 16));
    assert_eq!(hits(&c, "cmd:Sync -throttled", None), range(2, 13));
    assert_eq!(hits(&c, "header:X-MS-ASThrottle", None), vec![14, 15, 16]);
    assert_eq!(
        hits(&c, "header:x-ms-asthrottle=commandfrequency", None),
        vec![14, 15, 16]
    );
    assert_eq!(hits(&c, "header:\"X-MS-ASThrottle\"", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "header:Retry-After", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "header:!Retry-After", None), range(1, 13));
    assert_eq!(hits(&c, "header:X-MS-AS*", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "header:X-MS-ASThrottle=Nonsense", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "index:10-12", None), vec![10, 11, 12]);
    assert_eq!(hits(&c, "index:15-", None), vec![15, 16]);
    assert_eq!(hits(&c, "index:-2", None), vec![1, 2]);
    assert_eq!(hits(&c, "index:7", None), vec![7]);
    assert_eq!(hits(&c, "index:!2-16", None), vec![1]);
    assert_eq!(hits(&c, "user:jdoe", None), all(&c));
    assert_eq!(hits(&c, "user:someone-else", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "folder:5", None), all(&c));
    assert_eq!(hits(&c, "ver:16.1", None), all(&c));
    assert_eq!(hits(&c, "device:iPhone", None), all(&c));
    // The same storm from the Android phone.
    let a = sample("throttling-storm-android.saz");
    assert_eq!(hits(&a, "throttled", None), vec![14, 15, 16]);
    assert_eq!(hits(&a, "device:Android ver:14.1 http:503", None), vec![14, 15, 16]);
}

#[test]
fn or_and_grouping() {
    let c = sample("throttling-storm-iphone.saz");
    assert_eq!(hits(&c, "throttled OR cmd:Ping", None), vec![1, 14, 15, 16]);
    assert_eq!(hits(&c, "throttled | cmd:Ping", None), vec![1, 14, 15, 16]);
    assert_eq!(hits(&c, "throttled|cmd:Ping", None), vec![1, 14, 15, 16]);
    assert_eq!(hits(&c, "cmd:Sync,Ping http:503", None), vec![14, 15, 16]);
    // OR binds tighter than the space: Sync AND (503 OR Ping).
    assert_eq!(hits(&c, "cmd:Sync http:503 OR cmd:Ping", None), vec![14, 15, 16]);
    assert_eq!(hits(&c, "(cmd:Sync http:503) OR cmd:Ping", None), vec![1, 14, 15, 16]);
    assert_eq!(hits(&c, "(cmd:Ping | http:503) -index:16", None), vec![1, 14, 15]);
    assert_eq!(hits(&c, "-(cmd:Ping | throttled)", None), range(2, 13));
    assert_eq!(hits(&c, "cmd:Sync AND index:2-3", None), vec![2, 3]);
    // Lower-case `or` is a word to search for, not the operator.
    assert_eq!(hits(&c, "cmd:Ping or cmd:Sync", None), Vec::<u32>::new());
}

#[test]
fn empty_query_matches_everything() {
    let c = sample("healthy-android.saz");
    assert!(q("").is_empty() && q("  ").is_empty());
    assert_eq!(hits(&c, "", None), all(&c));
    assert_eq!(hits(&c, "   ", None), all(&c));
}

#[test]
fn policy_refresh_status_values_verdicts_and_negation() {
    for name in ["policy-refresh-android.saz", "policy-refresh-android.mitmproxy.har"] {
        let c = sample(name);
        // Sessions 2-5 answer 143, 6-8 answer 142; session 1 answers Status 1.
        assert_eq!(hits(&c, "status:!1", None), range(2, 8), "{name}");
        assert_eq!(hits(&c, "status:142,143", None), range(2, 8), "{name}");
        assert_eq!(hits(&c, "status:143", None), range(2, 5), "{name}");
        assert_eq!(hits(&c, "status:142", None), range(6, 8), "{name}");
        assert_eq!(hits(&c, "status:140-149", None), range(2, 8), "{name}");
        assert_eq!(hits(&c, "status:fail", None), range(2, 8), "{name}");
        assert_eq!(hits(&c, "status:ok", None), vec![1], "{name}");
        assert_eq!(hits(&c, "status:1", None), vec![1], "{name}");
        assert_eq!(hits(&c, "-status:1", None), range(2, 8), "{name}");
        assert_eq!(hits(&c, "problem", None), range(2, 8), "{name}");
        assert_eq!(hits(&c, "cmd:FolderSync", None), vec![3, 5, 7], "{name}");
        assert_eq!(hits(&c, "cmd:FolderSync status:142", None), vec![7], "{name}");
        assert_eq!(hits(&c, "device:Android", None), all(&c), "{name}");
        assert_eq!(hits(&c, "device:SYNTHDEV0002", None), all(&c), "{name}");
        assert_eq!(hits(&c, "device:!Android", None), Vec::<u32>::new(), "{name}");
        assert_eq!(hits(&c, "ver:14.1", None), all(&c), "{name}");
        assert_eq!(hits(&c, "version:14", None), all(&c), "{name}");
        assert_eq!(hits(&c, "ver:16", None), Vec::<u32>::new(), "{name}");
        assert_eq!(hits(&c, "user:jdoe", None), all(&c), "{name}");
    }
    let iphone = sample("policy-refresh-iphone-encrypted.saz");
    assert_eq!(hits(&iphone, "status:144", None), vec![3]);
    assert_eq!(hits(&iphone, "cmd:Provision", None), vec![4, 5]);
}

#[test]
fn synckey_reset_aborted_none_and_the_two_negations() {
    let c = sample("synckey-reset-android.saz");
    assert_eq!(hits(&c, "aborted", None), vec![1]);
    assert_eq!(hits(&c, "http:none", None), vec![1]);
    assert_eq!(hits(&c, "http:!none", None), range(2, 10));
    // `http:` always has a value (`none` without a response): `!` and `-` agree.
    assert_eq!(hits(&c, "http:!200", None), vec![1, 4, 5]);
    assert_eq!(hits(&c, "-http:200", None), vec![1, 4, 5]);
    assert_eq!(hits(&c, "http:5xx", None), vec![4, 5]);
    assert_eq!(hits(&c, "cmd:Ping aborted", None), vec![1]);
    assert_eq!(hits(&c, "status:3", None), vec![6]);
    assert_eq!(hits(&c, "synckey:0", None), vec![6, 7]);
    // Sessions 1, 4, 5 and 9 have no Status in the response.
    assert_eq!(hits(&c, "status:none", None), vec![1, 4, 5, 9]);
    assert_eq!(hits(&c, "status:!none", None), vec![2, 3, 6, 7, 8, 10]);
    // `status:!1`: has a Status other than 1. `-status:1`: has no Status 1 (also: none at all).
    assert_eq!(hits(&c, "status:!1", None), vec![6]);
    assert_eq!(hits(&c, "-status:1", None), vec![1, 4, 5, 6, 9]);
    let i = sample("synckey-reset-iphone.saz");
    assert_eq!(hits(&i, "http:500", None), vec![4, 5, 6]);
    assert_eq!(hits(&i, "synckey:0 cmd:Sync", None), vec![7]);
}

#[test]
fn healthy_commands_folders_users_versions() {
    let c = sample("healthy-iphone.saz");
    assert_eq!(hits(&c, "cmd:OPTIONS", None), vec![1]);
    assert_eq!(hits(&c, "cmd:options", None), vec![1]);
    assert_eq!(hits(&c, "cmd:SendMail", None), vec![12]);
    assert_eq!(hits(&c, "cmd:ItemOperations", None), vec![11]);
    assert_eq!(hits(&c, "cmd:Sync", None), vec![6, 7, 10, 14, 15]);
    assert_eq!(hits(&c, "folder:5", None), vec![6, 7, 8, 9, 10, 13, 14, 15, 16]);
    assert_eq!(hits(&c, "collection:1", None), vec![6, 7, 8, 9, 13, 16]);
    assert_eq!(hits(&c, "folder:1,3", None), vec![6, 7, 8, 9, 13, 16]);
    assert_eq!(hits(&c, "folder:!5", None), vec![6, 7, 8, 9, 13, 16]);
    assert_eq!(hits(&c, "-folder:5", None), vec![1, 2, 3, 4, 5, 11, 12]);
    assert_eq!(hits(&c, "folder:none", None), vec![1, 2, 3, 4, 5, 11, 12]);
    assert_eq!(hits(&c, "synckey:0", None), vec![4, 6]);
    // OPTIONS has no query: no user, device or version.
    assert_eq!(hits(&c, "user:jdoe", None), range(2, 16));
    assert_eq!(hits(&c, "user:\"contoso\\jdoe\"", None), range(2, 16));
    assert_eq!(hits(&c, "user:none", None), vec![1]);
    assert_eq!(hits(&c, "device:SYNTHDEV0001", None), range(2, 16));
    assert_eq!(hits(&c, "device:iphone", None), range(2, 16));
    assert_eq!(hits(&c, "version:16.1", None), range(2, 16));
    assert_eq!(hits(&c, "ver:16", None), range(2, 16));
    assert_eq!(hits(&c, "ver:!16.1", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "eas", None), all(&c));
    assert_eq!(hits(&c, "-eas", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "status:none", None), vec![1, 12]);
    let a = sample("healthy-android.saz");
    assert_eq!(
        hits(&a, "device:Android", None),
        all(&a).into_iter().skip(1).collect::<Vec<_>>()
    );
    assert_eq!(hits(&a, "cmd:Sync", None), vec![6, 7, 10, 14, 15]);
}

#[test]
fn redirects_auth_generated_hosts_and_urls() {
    let c = sample("redirect-and-auth-iphone.saz");
    assert_eq!(hits(&c, "generated", None), vec![2]);
    assert_eq!(hits(&c, "http:401", None), range(5, 9));
    assert_eq!(hits(&c, "http:4xx", None), vec![1, 5, 6, 7, 8, 9, 10]);
    assert_eq!(hits(&c, "http:449-451|http:502", None), vec![1, 2]);
    assert_eq!(hits(&c, "http:451,457", None), vec![1, 10]);
    assert_eq!(hits(&c, "host:mail2", None), range(2, 10));
    assert_eq!(hits(&c, "host:mail.example.com", None), vec![1]);
    assert_eq!(hits(&c, "url:mail2", None), range(2, 10));
    assert_eq!(hits(&c, "url:Cmd=FolderSync", None), vec![7, 10]);
    assert_eq!(hits(&c, "header:X-MS-Location", None), vec![1]);
    assert_eq!(hits(&c, "header:X-MS-Credentials-Expire", None), vec![3, 4, 5, 6]);
    assert_eq!(hits(&c, "problem", None), vec![1, 2, 5, 6, 7, 8, 9, 10]);
    assert_eq!(hits(&c, "-problem", None), vec![3, 4]);
    assert_eq!(hits(&c, "-highlighted", None), vec![3, 4]);
    // Free text without an index: URL and headers (session 1 names mail2 in X-MS-Location).
    assert_eq!(hits(&c, "mail2.example.com", None), all(&c));
    assert_eq!(hits(&c, "X-MS-Location", None), vec![1]);
}

#[test]
fn har_with_lost_bodies() {
    let c = sample("healthy-iphone.fiddler.har");
    assert_eq!(hits(&c, "lost", None), vec![12]);
    assert_eq!(hits(&c, "lost cmd:SendMail", None), vec![12]);
    let t = index(&c);
    // The SendMail's MIME was destroyed by the exporter: nothing to find in it.
    assert_eq!(hits(&c, "Viele", Some(&t)), Vec::<u32>::new());
    // In the SAZ of the same conversation, it is there.
    let saz = sample("healthy-iphone.saz");
    assert_eq!(hits(&saz, "lost", None), Vec::<u32>::new());
    assert_eq!(hits(&saz, "Viele", Some(&index(&saz))), vec![12]);
}

// ---------------------------------------------------------------------------------------------
// Samples: free text with and without the text index

#[test]
fn free_text_in_bodies_needs_the_text_index() {
    let c = sample("healthy-iphone.saz");
    let t = index(&c);
    // An email subject, only in a Sync response body.
    assert_eq!(hits(&c, "\"Quarterly numbers for review\"", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "\"Quarterly numbers for review\"", Some(&t)), vec![7, 14]);
    assert_eq!(hits(&c, "quarterly", Some(&t)), vec![7, 14]);
    assert_eq!(hits(&c, "QUARTERLY cmd:Sync index:10-", Some(&t)), vec![14]);
    assert_eq!(
        hits(&c, "-quarterly", Some(&t)),
        vec![1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16]
    );
    assert_eq!(hits(&c, "-quarterly", None), all(&c));
    // The SendMail's MIME is 8-bit Latin-1 (shown as base64 in the XML): indexed as text.
    assert_eq!(hits(&c, "Viele", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "Viele", Some(&t)), vec![12]);
    assert_eq!(hits(&c, "grüße", Some(&t)), vec![12]);
    assert_eq!(hits(&c, "GRÜSSE", Some(&t)), Vec::<u32>::new());
    assert_eq!(hits(&c, "\"Viele Grüße\"", Some(&t)), vec![12]);
    // Unquoted, words are separate terms (ANDed); each may match anywhere.
    assert_eq!(hits(&c, "Sent from my iPhone", Some(&t)), vec![12]);
    // Element names are indexed: ItemOperations' Fetch.
    assert_eq!(hits(&c, "fetch", None), Vec::<u32>::new());
    assert_eq!(hits(&c, "fetch", Some(&t)), vec![11]);
    // Substrings of words: `sync` is in FolderSync, and in every EAS URL.
    assert_eq!(hits(&c, "foldersyn", Some(&t)), vec![1, 4]);
    // Without the index, free text searches URL and headers (OPTIONS lists the commands).
    assert_eq!(hits(&c, "ItemOperations", None), vec![1, 11]);
    // A flag name quoted, or with `text:`, is searched as text.
    assert_eq!(hits(&c, "\"throttled\"", Some(&t)), Vec::<u32>::new());
    assert_eq!(hits(&c, "text:problem", Some(&t)), Vec::<u32>::new());
    // Queries whose free text has no letters or digits match metadata only.
    assert_eq!(hits(&c, "\"<>\"", Some(&t)), Vec::<u32>::new());
    // `field:` looking text with a value that starts with `/` is free text (a URL).
    assert_eq!(
        hits(
            &c,
            "https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Ping",
            None
        ),
        vec![8, 9, 13, 16]
    );

    let r = sample("redirect-and-auth-iphone.saz");
    let rt = index(&r);
    // The proxy-generated 502's body.
    assert_eq!(hits(&r, "\"[Fiddler]\"", None), Vec::<u32>::new());
    assert_eq!(hits(&r, "\"[Fiddler]\"", Some(&rt)), vec![2]);
}

/// The text a session shows: rendered XML of both bodies, URL, headers.
fn shown_text(c: &Capture, i: usize) -> String {
    let s = &c.sessions[i];
    let mut parts: Vec<String> = [Side::Request, Side::Response]
        .into_iter()
        .filter_map(|side| c.body_view(i, side).and_then(Result::ok))
        .filter_map(|v| v.xml.as_ref().map(|x| x.text.clone()))
        .collect();
    for (n, v) in s
        .request
        .iter()
        .flat_map(|r| r.head.headers.iter())
        .chain(s.response.iter().flat_map(|r| r.head.headers.iter()))
    {
        parts.push(format!("{n}: {v}"));
    }
    parts.extend(s.request.as_ref().map(|r| r.url().into_owned()));
    parts.join("\n").to_lowercase()
}

/// Every session a brute-force search of what the session shows finds, the index finds too.
#[test]
fn text_index_finds_what_the_session_shows() {
    for name in [
        "healthy-iphone.saz",
        "healthy-android.saz",
        "calendar-lifecycle-iphone.saz",
    ] {
        let c = sample(name);
        let t = index(&c);
        let xml: Vec<String> = (0..c.sessions.len()).map(|i| shown_text(&c, i)).collect();
        for word in [
            "quarterly",
            "planning",
            "invoice",
            "offsite",
            "lunch",
            "meeting",
            "calendar",
            "collectionid",
            "windowsize",
            "provision",
            "heartbeatinterval",
            "fabrikam",
            "escalation",
        ] {
            let brute: Vec<u32> = (0..c.sessions.len() as u32)
                .filter(|&i| xml[i as usize].contains(word))
                .collect();
            let found = t.search(word);
            for p in &brute {
                assert!(
                    found.contains(p),
                    "{name}: {word:?} in session position {p} not found: {found:?}"
                );
            }
            // What the index adds comes from OPAQUE text (the SendMail's MIME).
            for p in &found {
                if !brute.contains(p) {
                    let s = &c.sessions[*p as usize];
                    assert!(
                        s.eas.as_ref().and_then(|e| e.command) == Some(easlens_core::eas::Command::SendMail),
                        "{name}: {word:?} found in position {p} but not in what it shows"
                    );
                }
            }
        }
    }
}

/// With the index, free text finds at least what the metadata search finds without it.
#[test]
fn with_the_index_free_text_finds_at_least_what_it_finds_without() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".saz") || n.ends_with(".har"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        let c = sample(&name);
        let t = index(&c);
        for text in [
            "jdoe",
            "mail2",
            "example.com",
            "gzip",
            "ItemOperations",
            "X-MS-ASThrottle",
            "14.1",
            "contoso%5Cjdoe",
            "SYNTHDEV",
            "Fiddler",
            "vnd.ms-sync",
            "Microsoft-Server-ActiveSync?Cmd=Sync",
            "default.eas?jQ",
            "Retry-After: 30",
            "Unauthorized",
            "lost by the HAR",
        ] {
            let query = format!("\"{text}\"");
            let without = hits(&c, &query, None);
            let with = hits(&c, &query, Some(&t));
            assert!(
                without.iter().all(|i| with.contains(i)),
                "{name}: {query}: {without:?} without the index, {with:?} with it"
            );
        }
    }
}

#[test]
fn text_index_reports_progress_and_can_be_cancelled() {
    let c = sample("healthy-android.saz");
    let seen = Mutex::new(Vec::new());
    let progress = |p: Progress| seen.lock().unwrap().push(p.fraction);
    let t = TextIndex::build(&c, Some(&progress), None).expect("built");
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.first(), Some(&0.0));
    assert_eq!(seen.last(), Some(&1.0));
    assert_eq!(t.sessions(), c.sessions.len());
    let s = t.stats();
    assert!(s.bodies > 20 && s.words > 100 && s.postings > s.words as u64, "{s:?}");
    assert!(t.memory_bytes() > 0 && t.memory_bytes() == s.memory_bytes);
    let cancel = AtomicBool::new(true);
    assert!(TextIndex::build(&c, None, Some(&cancel)).is_none());
}

/// An index of another capture (another size) is ignored by `filter`.
#[test]
fn an_index_of_another_capture_is_ignored() {
    let c = sample("healthy-iphone.saz");
    let other = sample("policy-refresh-android.saz");
    let t = index(&other);
    assert_eq!(filter::filter(&c, &q("quarterly"), Some(&t)), Vec::<u32>::new());
    // A query remembers what it resolved for the last index only.
    let own = index(&c);
    let query = q("quarterly");
    let seventh = &c.sessions[6];
    assert!(query.matches(seventh, Some(&own)));
    assert!(!query.matches(seventh, Some(&t)));
    assert!(query.matches(seventh, Some(&own)));
    assert_eq!(filter::filter(&c, &query, Some(&own)), vec![6, 13]);
}

// ---------------------------------------------------------------------------------------------
// A hand-made capture: tunnels, non-EAS requests, mixed statuses, lost bodies, comments, notes

fn headers(list: &[(&str, &str)]) -> Headers {
    let mut h = Headers::new();
    for (n, v) in list {
        h.push(*n, *v);
    }
    h
}

fn wbxml_of(xml: &str) -> Vec<u8> {
    wbxml::encode(&wbxml::from_xml(xml).unwrap())
}

const WBXML: (&str, &str) = ("Content-Type", "application/vnd.ms-sync.wbxml");

/// (status, reason, headers, body).
type Reply<'a> = (u16, &'a str, &'a [(&'a str, &'a str)], Vec<u8>);

struct Exchange<'a> {
    index: u32,
    method: &'a str,
    url: &'a str,
    req_headers: &'a [(&'a str, &'a str)],
    req_body: Vec<u8>,
    response: Option<Reply<'a>>,
}

fn session(x: Exchange<'_>) -> Session {
    let mut s = Session::new(x.index);
    let target = match x.url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/".to_string(), |i| rest[i..].to_string()),
        None => x.url.to_string(),
    };
    let head = RequestHead {
        method: x.method.into(),
        target: target.into(),
        version: "HTTP/1.1".into(),
        headers: headers(x.req_headers),
        problems: Vec::new(),
    };
    s.request = Some(Request::new(head, x.url.into(), Body::in_memory(x.req_body.clone())));
    let mut resp_body = Vec::new();
    if let Some((status, reason, h, body)) = x.response {
        resp_body = body.clone();
        s.response = Some(Response {
            head: ResponseHead {
                version: "HTTP/1.1".into(),
                status,
                reason: reason.into(),
                headers: headers(h),
                problems: Vec::new(),
            },
            body: Body::in_memory(body),
        });
    }
    s.eas = capture::summarize(&s, &x.req_body, &resp_body);
    s
}

const EAS: &str = "https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=";
const WHO: &str = "&User=fabrikam%5Cmchen&DeviceId=ABC123XYZ&DeviceType=WindowsMail";

fn synthetic() -> Capture {
    let sync_url = format!("{EAS}Sync{WHO}");
    let ping_url = format!("{EAS}Ping{WHO}");
    let mail_url = format!("{EAS}SendMail{WHO}");
    let v14 = [WBXML, ("MS-ASProtocolVersion", "14.0")];
    let mut sessions = Vec::new();
    // 1: a CONNECT tunnel; its body (the proxy's description) is not indexed.
    let mut tunnel = session(Exchange {
        index: 1,
        method: "CONNECT",
        url: "mail.contoso.com:443",
        req_headers: &[("Host", "mail.contoso.com:443")],
        req_body: Vec::new(),
        response: Some((
            200,
            "Connection Established",
            &[],
            b"This is a CONNECT tunnel, zeppelin".to_vec(),
        )),
    });
    tunnel.flags.tunnel = true;
    sessions.push(tunnel);
    // 2: a Sync whose collections answer Status 1 and Status 3.
    sessions.push(session(Exchange {
        index: 2,
        method: "POST",
        url: &sync_url,
        req_headers: &v14,
        req_body: wbxml_of(
            r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>7</CollectionId></Collection><Collection><SyncKey>55</SyncKey><CollectionId>9</CollectionId></Collection></Collections></Sync>"#,
        ),
        response: Some((
            200,
            "OK",
            &[WBXML],
            wbxml_of(
                r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>7</CollectionId><Status>1</Status><Commands><Add><ServerId>7:1</ServerId><ApplicationData><Subject xmlns="Email:">Zebra crossing budget</Subject></ApplicationData></Add></Commands></Collection><Collection><SyncKey>0</SyncKey><CollectionId>9</CollectionId><Status>3</Status></Collection></Collections></Sync>"#,
            ),
        )),
    }));
    // 4: a web page that is not ActiveSync, with a comment and a note.
    let mut page = session(Exchange {
        index: 4,
        method: "GET",
        url: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
        req_headers: &[("Host", "autodiscover.contoso.com")],
        req_body: Vec::new(),
        response: Some((
            404,
            "Not Found",
            &[("Content-Type", "text/html; charset=utf-8")],
            "<html><body>Die Seite wurde nicht gefunden: ÜNÏCÖDÉ</body></html>"
                .as_bytes()
                .to_vec(),
        )),
    });
    page.comment = Some("Check this one".into());
    page.notes.push("synthetic note about kerberos".into());
    sessions.push(page);
    // 8: a Ping whose request body the exporter destroyed.
    let mut lost = session(Exchange {
        index: 8,
        method: "POST",
        url: &ping_url,
        req_headers: &v14,
        req_body: Vec::new(),
        response: Some((
            200,
            "OK",
            &[WBXML],
            wbxml_of(r#"<Ping xmlns="Ping:"><Status>1</Status></Ping>"#),
        )),
    });
    if let Some(r) = &mut lost.request {
        r.body = Body {
            location: BodyLocation::None,
            stored_len: 120,
            kept: BodyKept::LostByExporter,
        };
    }
    sessions.push(lost);
    // 16: an aborted Ping (no response).
    let mut aborted = session(Exchange {
        index: 16,
        method: "POST",
        url: &ping_url,
        req_headers: &v14,
        req_body: wbxml_of(
            r#"<Ping xmlns="Ping:"><HeartbeatInterval>900</HeartbeatInterval><Folders><Folder><Id>7</Id><Class>Email</Class></Folder></Folders></Ping>"#,
        ),
        response: None,
    });
    aborted.flags.aborted = true;
    sessions.push(aborted);
    // 32: a SendMail answered by the proxy.
    let mut generated = session(Exchange {
        index: 32,
        method: "POST",
        url: &mail_url,
        req_headers: &[("Content-Type", "message/rfc822"), ("MS-ASProtocolVersion", "12.1")],
        req_body: b"Subject: Hallo\r\n\r\nSch\xf6ne Gr\xfc\xdfe aus K\xf6ln\r\n".to_vec(),
        response: Some((
            502,
            "Fiddler - Connection Failed",
            &[("Content-Type", "text/html")],
            b"[Fiddler] The connection to 'mail.contoso.com' failed.".to_vec(),
        )),
    });
    generated.flags.generated = true;
    sessions.push(generated);
    Capture::new(
        PathBuf::from("synthetic.har"),
        Format::Har,
        sessions,
        Vec::new(),
        Box::new(MemoryStore),
    )
}

#[test]
fn synthetic_capture_every_field_and_flag() {
    let c = synthetic();
    let none: Vec<u32> = Vec::new();
    assert_eq!(all(&c), vec![1, 2, 4, 8, 16, 32]);
    assert_eq!(hits(&c, "tunnel", None), vec![1]);
    assert_eq!(hits(&c, "cmd:CONNECT", None), vec![1]);
    assert_eq!(hits(&c, "cmd:GET", None), vec![4]);
    assert_eq!(hits(&c, "cmd:Ping", None), vec![8, 16]);
    assert_eq!(hits(&c, "-eas", None), vec![1, 4]);
    // Non-EAS sessions are highlighted for a non-2xx status; tunnels never.
    assert_eq!(hits(&c, "highlighted", None), vec![2, 4, 32]);
    assert_eq!(hits(&c, "status:!1", None), vec![2]);
    assert_eq!(hits(&c, "-status:1", None), vec![1, 4, 16, 32]);
    assert_eq!(hits(&c, "status:1", None), vec![2, 8]);
    assert_eq!(hits(&c, "status:3", None), vec![2]);
    assert_eq!(hits(&c, "status:fail", None), vec![2]);
    assert_eq!(hits(&c, "status:!fail", None), vec![2, 8]);
    assert_eq!(hits(&c, "folder:9", None), vec![2]);
    assert_eq!(hits(&c, "folder:7", None), vec![2, 16]);
    assert_eq!(hits(&c, "collection:7,9", None), vec![2, 16]);
    assert_eq!(hits(&c, "synckey:55", None), vec![2]);
    assert_eq!(hits(&c, "synckey:0", None), vec![2]);
    assert_eq!(hits(&c, "device:abc123", None), vec![2, 8, 16, 32]);
    assert_eq!(hits(&c, "device:windowsmail", None), vec![2, 8, 16, 32]);
    assert_eq!(hits(&c, "device:none", None), vec![1, 4]);
    assert_eq!(hits(&c, "user:MCHEN", None), vec![2, 8, 16, 32]);
    assert_eq!(hits(&c, "ver:14.0", None), vec![2, 8, 16]);
    assert_eq!(hits(&c, "ver:14", None), vec![2, 8, 16]);
    assert_eq!(hits(&c, "ver:12", None), vec![32]);
    assert_eq!(hits(&c, "ver:14,12.1", None), vec![2, 8, 16, 32]);
    assert_eq!(hits(&c, "lost", None), vec![8]);
    assert_eq!(hits(&c, "aborted", None), vec![16]);
    assert_eq!(hits(&c, "http:none", None), vec![16]);
    assert_eq!(hits(&c, "http:!2xx", None), vec![4, 16, 32]);
    assert_eq!(hits(&c, "generated", None), vec![32]);
    assert_eq!(hits(&c, "host:autodiscover", None), vec![4]);
    assert_eq!(hits(&c, "url:autodiscover.xml", None), vec![4]);
    assert_eq!(hits(&c, "header:Content-Type=text/html", None), vec![4, 32]);
    assert_eq!(hits(&c, "header:content-type=rfc822", None), vec![32]);
    assert_eq!(hits(&c, "header:MS-ASProtocolVersion=14.0", None), vec![2, 8, 16]);
    assert_eq!(hits(&c, "header:!MS-ASProtocolVersion", None), vec![1, 4]);
    assert_eq!(hits(&c, "index:3-20", None), vec![4, 8, 16]);
    // Free text in metadata: comment, notes, reason phrase, header names.
    assert_eq!(hits(&c, "\"check THIS\"", None), vec![4]);
    assert_eq!(hits(&c, "kerberos", None), vec![4]);
    assert_eq!(hits(&c, "\"Connection Failed\"", None), vec![32]);
    assert_eq!(hits(&c, "\"Connection Established\"", None), vec![1]);
    // Free text in bodies, with the index only.
    let t = index(&c);
    assert_eq!(hits(&c, "zebra", None), none);
    assert_eq!(hits(&c, "zebra", Some(&t)), vec![2]);
    assert_eq!(hits(&c, "\"zebra crossing\" status:3", Some(&t)), vec![2]);
    assert_eq!(hits(&c, "gefunden", Some(&t)), vec![4]);
    assert_eq!(hits(&c, "ünïcödé", Some(&t)), vec![4]);
    // A Latin-1 MIME body (SendMail in 12.1 is not WBXML).
    assert_eq!(hits(&c, "köln", Some(&t)), vec![32]);
    assert_eq!(hits(&c, "\"Schöne Grüße\"", Some(&t)), vec![32]);
    assert_eq!(hits(&c, "fiddler", Some(&t)), vec![32]);
    // The tunnel's body is not indexed.
    assert_eq!(hits(&c, "zeppelin", Some(&t)), none);
    // Element names: Ping's HeartbeatInterval, in the aborted Ping's request.
    assert_eq!(hits(&c, "heartbeat", Some(&t)), vec![16]);
    // Sessions are found by Session::index even when the numbers have gaps.
    let sync = &c.sessions[1];
    assert!(q("zebra").matches(sync, Some(&t)));
    assert!(!q("zebra").matches(sync, None));
}

// ---------------------------------------------------------------------------------------------
// Parse errors

#[test]
fn parse_errors_name_the_position_and_a_fix() {
    let e = error("fodler:5");
    assert_eq!(e.to_string(), "unknown field `fodler:` at 0 — did you mean `folder:`?");
    assert_eq!((e.position, e.length), (0, 7));
    let e = error("cmd:Sync stauts:1");
    assert_eq!(e.position, 9);
    assert_eq!(e.hint.as_deref(), Some("did you mean `status:`?"));
    let e = error("http:abc");
    assert_eq!(e.position, 5);
    assert!(
        e.to_string()
            .starts_with("`http:` needs a number, a class like 5xx, or a range at 5"),
        "{e}"
    );
    assert_eq!(error("http:!").position, 6);
    assert_eq!(error("http:6xxx").position, 5);
    assert_eq!(error("http:0xx").position, 5);
    assert_eq!(error("status:bad-value").position, 7);
    assert_eq!(error("index:x").position, 6);
    assert_eq!(error("index:20-10").position, 6);
    assert_eq!(error("ver:fourteen").position, 4);
    assert_eq!(error("cmd:Synk").hint.as_deref(), Some("did you mean `Sync`?"));
    assert_eq!(
        error("cmd:FolderSnyc").hint.as_deref(),
        Some("did you mean `FolderSync`?")
    );
    assert_eq!(error("is:throtled").hint.as_deref(), Some("did you mean `throttled`?"));
    assert!(error("xyzzy:1").hint.unwrap().contains("quote the word"));
    let e = error("user:\"jdoe");
    assert_eq!((e.position, e.message.as_str()), (5, "unterminated quote"));
    assert_eq!(error("(cmd:Sync").message, "unmatched `(`");
    assert_eq!(error("cmd:Sync )").position, 9);
    assert_eq!(error("()").message, "empty `()`");
    assert_eq!(error("throttled OR").position, 10);
    assert_eq!(error("OR throttled").position, 0);
    assert_eq!(error("throttled OR OR aborted").position, 10);
    assert_eq!(error("AND throttled").position, 0);
    assert_eq!(error("-").message, "negation needs a term after it");
    assert_eq!(error("status:1,,3").position, 9);
    assert_eq!(error("status:1,").position, 9);
    assert_eq!(error("folder:").position, 0);
    assert_eq!(error("header:=x").position, 7);
    assert_eq!(error("\"\"").message, "empty quotes");
    // Positions are in characters.
    assert_eq!(error("grüße fodler:1").position, 6);
    // Things that look like fields but are not are text, not errors.
    for ok in ["2:41", "https://mail.example.com/x", "\"fodler:5\"", "12:30:00", "a:/b"] {
        assert!(filter::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn queries_clone_compare_and_report_their_free_text() {
    let a = q("cmd:Sync \"zebra crossing\" -kerberos");
    let b: Query = "cmd:Sync \"zebra crossing\" -kerberos".parse().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.clone(), a);
    assert_eq!(a.as_str(), "cmd:Sync \"zebra crossing\" -kerberos");
    assert_eq!(a.free_text().collect::<Vec<_>>(), vec!["zebra crossing", "kerberos"]);
    assert!(a.uses_text() && !q("cmd:Sync").uses_text());
    assert_ne!(q("cmd:Sync"), q("cmd:Ping"));
}

/// Large captures are filtered in parallel: same result as one by one.
#[test]
fn parallel_filter_agrees_with_sequential() {
    let c = sample("throttling-storm-android.saz");
    let mut sessions = Vec::new();
    for k in 0..400u32 {
        for s in &c.sessions {
            let mut s = s.clone();
            s.index += k * 100;
            sessions.push(s);
        }
    }
    let big = Capture::new(
        Path::new("big.saz").into(),
        Format::Saz,
        sessions,
        Vec::new(),
        Box::new(MemoryStore),
    );
    assert_eq!(big.sessions.len(), 6400);
    let query = q("throttled OR cmd:Ping");
    let found = filter::filter(&big, &query, None);
    assert_eq!(found.len(), 400 * 4);
    let sequential: Vec<u32> = (0..big.sessions.len() as u32)
        .filter(|&p| query.matches(&big.sessions[p as usize], None))
        .collect();
    assert_eq!(found, sequential);
}
