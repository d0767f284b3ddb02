//! The log splits as the reference's parsing rules say, the manifest is the exact answer key,
//! and every file form and damage reads back as intended.

use std::collections::{BTreeMap, HashSet};
use std::io::Read as _;

use chrono::{DateTime, FixedOffset};

use super::*;
use crate::scenarios::{Device, Scenario, all_samples, conversation};

/// `(Log Entry number, fields)` of every entry found by the rules of mailbox-log.md §5: entries
/// at `\r?\n-{17}\r?\n ?Log Entry: (\d+)\r?\n-{17}\r?\n`, fields at whole lines
/// `^([A-Za-z][A-Za-z0-9_]*) : ?$` (with `same_line`, also `Name : value`); a value runs to the
/// next field header, minus trailing blank lines. Lines are compared LF-only.
type Fields = Vec<(String, String)>;

fn split(text: &str, same_line: bool) -> Vec<(usize, Fields)> {
    let text = text.trim_start_matches('\u{FEFF}').replace("\r\n", "\n");
    let marker = format!("\n{SEPARATOR}\n Log Entry: ");
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(&marker) {
        let at = from + i;
        let number_at = at + marker.len();
        let nl = number_at + text[number_at..].find('\n').unwrap();
        let n: usize = text[number_at..nl].parse().unwrap();
        assert!(
            text[nl + 1..].starts_with(&format!("{SEPARATOR}\n\n")),
            "separator of entry {n}"
        );
        let body = nl + 1 + SEPARATOR.len() + 2;
        starts.push((at, body, n));
        from = body;
    }
    (0..starts.len())
        .map(|j| {
            let (_, body, n) = starts[j];
            let end = starts.get(j + 1).map_or(text.len(), |s| s.0);
            (n, fields(&text[body..end], same_line))
        })
        .collect()
}

fn fields(block: &str, same_line: bool) -> Fields {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for line in block.split('\n') {
        let header = line.split_once(" :").filter(|(name, rest)| {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && (rest.is_empty() || *rest == " " || (same_line && rest.starts_with(' ')))
        });
        match header {
            Some((name, rest)) => {
                let first = rest.strip_prefix(' ').filter(|v| !v.is_empty());
                out.push((name.to_string(), first.into_iter().collect()));
            }
            None => out.last_mut().expect("text before the first field").1.push(line),
        }
    }
    out.into_iter()
        .map(|(name, mut lines)| {
            while lines.last() == Some(&"") {
                lines.pop();
            }
            (name, lines.join("\n"))
        })
        .collect()
}

fn value<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn log(sessions: &[Exchange], options: &MailboxLogOptions) -> (Vec<u8>, LogManifest) {
    let mut out = Vec::new();
    let manifest = write_mailbox_log(&mut out, sessions, options).unwrap();
    (out, manifest)
}

fn text_log(sessions: &[Exchange], options: &MailboxLogOptions) -> (String, LogManifest) {
    let (bytes, manifest) = log(sessions, options);
    (String::from_utf8(bytes).unwrap(), manifest)
}

fn sample(scenario: Scenario, device: Device) -> (Vec<Exchange>, MailboxLogOptions) {
    let c = conversation(scenario, device);
    let options = MailboxLogOptions {
        after_capture: c.after_capture,
        ..MailboxLogOptions::default()
    };
    (c.trace, options)
}

fn parse_time(t: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(t, "%m/%d/%Y %H:%M:%S").unwrap_or_else(|e| panic!("{t:?}: {e}"))
}

#[test]
fn every_log_splits_into_its_entries_with_the_fields_in_order() {
    for (stem, c) in all_samples() {
        let options = MailboxLogOptions {
            after_capture: c.after_capture.clone(),
            ..MailboxLogOptions::default()
        };
        let (text, manifest) = text_log(&c.trace, &options);
        assert!(text.starts_with("\r\n-----------------\r\n Log Entry: 0\r\n"), "{stem}");
        assert!(!text.replace("\r\n", "").contains('\n'), "{stem}: CRLF only");
        assert!(!text.contains("Basic "), "{stem}: credentials");
        let entries = split(&text, false);
        assert_eq!(
            entries.len(),
            manifest.entries.len() + manifest.log_only.len(),
            "{stem}"
        );
        for (k, (n, fields)) in entries.iter().enumerate() {
            assert_eq!(*n, k, "{stem}");
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let core = [
                "RequestTime",
                "ServerName",
                "AssemblyVersion",
                "Identifier",
                "RequestHeader",
                "RequestBody",
            ];
            assert_eq!(names[..6], core, "{stem} #{k}");
            assert_eq!(
                names[names.len() - 3..],
                ["ResponseHeader", "ResponseBody", "ResponseTime"]
            );
            let id = value(fields, "Identifier").unwrap();
            assert!(id.len() == 8 && id.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
            let (request, response) = (
                value(fields, "RequestTime").unwrap(),
                value(fields, "ResponseTime").unwrap(),
            );
            assert!(parse_time(request) <= parse_time(response), "{stem} #{k}");
            let header = value(fields, "RequestHeader").unwrap();
            assert!(header.starts_with("POST /Microsoft-Server-ActiveSync") || header.starts_with("OPTIONS /"));
            if header.contains("Authorization") {
                assert!(header.contains("\nAuthorization: ********\n"), "{stem} #{k}");
            }
            let response_header = value(fields, "ResponseHeader").unwrap();
            assert!(response_header.starts_with("HTTP/1.1 "), "{stem} #{k}");
            for gone in [
                "Content-Length",
                "Transfer-Encoding",
                "Content-Encoding",
                "X-Powered-By",
            ] {
                assert!(!response_header.contains(gone), "{stem} #{k}: {gone}");
            }
            for body in ["RequestBody", "ResponseBody"] {
                let v = value(fields, body).unwrap();
                assert!(
                    v.starts_with(XML_DECLARATION)
                        || v.starts_with("-----------------------")
                        || ["Empty", "[No XmlResponse]"].contains(&v),
                    "{stem} #{k} {body}: {v}"
                );
            }
        }
        // Exactly one field no reader knows, on the first entry.
        assert_eq!(text.matches("\r\nFutureField : \r\n").count(), 1, "{stem}");
        assert_eq!(value(&entries[0].1, UNKNOWN_FIELD.0), Some(UNKNOWN_FIELD.1));
    }
}

#[test]
fn the_manifest_accounts_for_every_exchange_exactly_once() {
    let mut reasons = HashSet::new();
    for (stem, c) in all_samples() {
        let options = MailboxLogOptions {
            after_capture: c.after_capture.clone(),
            ..MailboxLogOptions::default()
        };
        let (text, manifest) = text_log(&c.trace, &options);
        let mut seen: Vec<usize> = manifest
            .entries
            .iter()
            .map(|e| e.trace_index)
            .chain(manifest.trace_only.iter().map(|t| t.trace_index))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..c.trace.len()).collect::<Vec<_>>(), "{stem}");
        assert_eq!(manifest.log_only.len(), c.after_capture.len(), "{stem}");
        reasons.extend(manifest.trace_only.iter().map(|t| t.reason));
        // Log entries are numbered in order; identifiers are unique and are the ones written.
        let entries = split(&text, false);
        let mut numbers: Vec<usize> = manifest.entries.iter().map(|e| e.log_entry).collect();
        numbers.extend(manifest.log_only.iter().map(|e| e.log_entry));
        numbers.sort_unstable();
        assert_eq!(numbers, (0..entries.len()).collect::<Vec<_>>());
        let ids: HashSet<&str> = entries.iter().map(|(_, f)| value(f, "Identifier").unwrap()).collect();
        assert_eq!(ids.len(), entries.len(), "{stem}");
        for e in &manifest.entries {
            assert_eq!(
                value(&entries[e.log_entry].1, "Identifier"),
                Some(e.identifier.as_str())
            );
            let ex = &c.trace[e.trace_index];
            assert_eq!(e.response_lost, ex.response.is_none());
            assert_eq!(e.pending, value(&entries[e.log_entry].1, "WasPending").is_some());
            // The request line the device sent is the one logged.
            let line = String::from_utf8_lossy(&ex.request);
            let line = line.split("\r\n").next().unwrap();
            assert!(
                value(&entries[e.log_entry].1, "RequestHeader")
                    .unwrap()
                    .starts_with(line)
            );
        }
        for t in &manifest.trace_only {
            let ex = &c.trace[t.trace_index];
            let status = ex.response.as_deref().map(|r| parse_response(r).unwrap().0.status);
            match t.reason {
                TraceOnlyReason::GeneratedByProxy => assert!(ex.generated_by_proxy),
                TraceOnlyReason::Unauthenticated => assert_eq!(status, Some(401)),
                other => panic!("{stem}: {other:?}"),
            }
        }
        // The JSON committed next to the log reads back as the same manifest.
        let json = serde_json::to_string_pretty(&manifest).unwrap();
        assert_eq!(serde_json::from_str::<LogManifest>(&json).unwrap(), manifest);
    }
    assert_eq!(
        reasons,
        HashSet::from([TraceOnlyReason::GeneratedByProxy, TraceOnlyReason::Unauthenticated])
    );
}

#[test]
fn times_are_the_trace_times_shifted_by_the_clock_offset() {
    let (sessions, options) = sample(Scenario::Healthy, Device::Android);
    for (utc_offset_seconds, clock_skew_seconds) in [(3600, 3), (-5 * 3600, -7), (0, 0)] {
        let options = MailboxLogOptions {
            utc_offset_seconds,
            clock_skew_seconds,
            ..options.clone()
        };
        let (text, manifest) = text_log(&sessions, &options);
        let offset = i64::from(utc_offset_seconds + clock_skew_seconds);
        assert_eq!(manifest.clock_offset_seconds, offset);
        let entries = split(&text, false);
        for e in &manifest.entries {
            let ex = &sessions[e.trace_index];
            let shifted = |t: DateTime<FixedOffset>| {
                (t.naive_utc() + TimeDelta::seconds(offset))
                    .format("%m/%d/%Y %H:%M:%S")
                    .to_string()
            };
            let fields = &entries[e.log_entry].1;
            assert_eq!(value(fields, "RequestTime"), Some(shifted(ex.started).as_str()));
            let done = ex.started + TimeDelta::milliseconds(i64::from(ex.duration_ms));
            assert_eq!(value(fields, "ResponseTime"), Some(shifted(done).as_str()));
        }
    }
    // The Android phone is at -05:00 and the server at +01:00: six hours and three seconds apart.
    let (text, _) = text_log(&sessions, &options);
    let first = split(&text, false).remove(0).1;
    assert_eq!(sessions[0].started.to_rfc3339(), "2024-03-05T08:02:14-05:00");
    assert_eq!(value(&first, "RequestTime"), Some("03/05/2024 14:02:17"));
}

#[test]
fn personal_values_are_redacted_to_their_character_count() {
    let xml = concat!(
        r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>12</SyncKey><CollectionId>5</CollectionId>"#,
        r#"<Commands><Add><ServerId>5:1</ServerId><ApplicationData>"#,
        r#"<To xmlns="Email:">"Jörg Weiß" &lt;jw@example.com&gt;</To>"#,
        r#"<Subject xmlns="Email:">Grüße &amp; "Danke"</Subject>"#,
        r#"<Read xmlns="Email:">0</Read>"#,
        r#"<Body xmlns="AirSyncBase:"><Type>2</Type><EstimatedDataSize>1187</EstimatedDataSize><Data>short</Data></Body>"#,
        r#"<Categories xmlns="Email:"><Category>Blue</Category></Categories>"#,
        r#"<Location xmlns="AirSyncBase:"><DisplayName>Room 4</DisplayName></Location>"#,
        r#"<FileAs xmlns="Contacts:">Doe, Jo</FileAs>"#,
        r#"<ConversationId xmlns="Email2:" encoding="hex">A9A57B</ConversationId>"#,
        r#"<Attachments xmlns="AirSyncBase:"><Attachment><Body/></Attachment></Attachments>"#,
        r#"</ApplicationData></Add></Commands><GetChanges/></Collection></Collections></Sync>"#,
    );
    let doc = wbxml::from_xml(xml).unwrap();
    let redacted = render_xml(doc.root(), false);
    let expected = [
        r#"<?xml version="1.0" encoding="utf-8" ?>"#,
        r#"<Sync xmlns="AirSync:">"#,
        "\t<Collections>",
        "\t\t<Collection>",
        "\t\t\t<SyncKey>12</SyncKey>",
        "\t\t\t<CollectionId>5</CollectionId>",
        "\t\t\t<Commands>",
        "\t\t\t\t<Add>",
        "\t\t\t\t\t<ServerId>5:1</ServerId>",
        "\t\t\t\t\t<ApplicationData>",
        r#"						<To xmlns="Email:" bytes="28"/>"#,
        r#"						<Subject xmlns="Email:" bytes="15"/>"#,
        r#"						<Read xmlns="Email:">0</Read>"#,
        "\t\t\t\t\t\t<Body=1187 bytes/>",
        r#"						<Categories xmlns="Email:">"#,
        r#"							<Category bytes="4"/>"#,
        "\t\t\t\t\t\t</Categories>",
        r#"						<Location xmlns="AirSyncBase:">"#,
        r#"							<DisplayName bytes="6"/>"#,
        "\t\t\t\t\t\t</Location>",
        r#"						<FileAs xmlns="Contacts:" bytes="7"/>"#,
        r#"						<ConversationId xmlns="Email2:">A9A57B</ConversationId>"#,
        r#"						<Attachments xmlns="AirSyncBase:">"#,
        "\t\t\t\t\t\t\t<Attachment>",
        "\t\t\t\t\t\t\t\t<Body/>",
        "\t\t\t\t\t\t\t</Attachment>",
        "\t\t\t\t\t\t</Attachments>",
        "\t\t\t\t\t</ApplicationData>",
        "\t\t\t\t</Add>",
        "\t\t\t</Commands>",
        "\t\t\t<GetChanges/>",
        "\t\t</Collection>",
        "\t</Collections>",
        "</Sync>",
    ];
    assert_eq!(redacted.split("\r\n").collect::<Vec<_>>(), expected);
    // Body without EstimatedDataSize: the length of Data.
    let doc = wbxml::from_xml(r#"<Body xmlns="AirSyncBase:"><Type>1</Type><Data>héllo</Data></Body>"#).unwrap();
    assert!(render_xml(doc.root(), false).ends_with("\r\n<Body=5 bytes/>"));
    // Verbose mode: everything in the clear, escaped.
    let doc = wbxml::from_xml(xml).unwrap();
    let verbose = render_xml(doc.root(), true);
    assert!(verbose.contains(r#"<To xmlns="Email:">&quot;Jörg Weiß&quot; &lt;jw@example.com&gt;</To>"#));
    assert!(verbose.contains(r#"<Subject xmlns="Email:">Grüße &amp; &quot;Danke&quot;</Subject>"#));
    assert!(verbose.contains("\t\t\t\t\t\t<Body xmlns=\"AirSyncBase:\">\r\n\t\t\t\t\t\t\t<Type>2</Type>"));
    assert!(!verbose.contains("bytes"));
}

#[test]
fn redaction_in_the_samples_matches_the_device_values() {
    let (sessions, options) = sample(Scenario::Healthy, Device::IPhone);
    let (text, _) = text_log(&sessions, &options);
    // Settings: the user's display name and addresses.
    for (tag, v) in [
        ("UserDisplayName", "Jordan Doe"),
        ("PrimarySmtpAddress", "jdoe@contoso.com"),
    ] {
        assert!(
            text.contains(&format!(r#"<{tag} bytes="{}"/>"#, v.chars().count())),
            "{tag}"
        );
    }
    // Every personal tag is redacted and no real text of them is left.
    assert!(!text.contains("Jordan Doe") && !text.contains("priya.natarajan@contoso.com"));
    assert!(!text.contains("Draft contract") && !text.contains("Weekly team sync"));
    let bodies = text.matches("<Body=").count();
    assert!(bodies > 20, "{bodies}");
    let verbose = MailboxLogOptions {
        verbose: true,
        ..options
    };
    let (text, _) = text_log(&sessions, &verbose);
    assert!(text.contains("Jordan Doe") && text.contains("Weekly team sync"));
    assert!(!text.contains(" bytes=\"") && !text.contains("<Body="));
}

#[test]
fn a_lost_ping_is_logged_pending_with_status_1_after_its_heartbeat() {
    for device in Device::ALL {
        let (sessions, options) = sample(Scenario::SyncKeyReset, device);
        let (text, manifest) = text_log(&sessions, &options);
        let lost: Vec<&MatchedEntry> = manifest.entries.iter().filter(|e| e.response_lost).collect();
        assert_eq!(lost.len(), 1);
        assert!(lost[0].pending && sessions[lost[0].trace_index].aborted);
        let fields = &split(&text, false)[lost[0].log_entry].1;
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names[names.len() - 4..],
            ["WasPending", "ResponseHeader", "ResponseBody", "ResponseTime"]
        );
        assert_eq!(value(fields, "WasPending"), Some("[Response was pending]"));
        assert!(
            value(fields, "ResponseHeader")
                .unwrap()
                .starts_with("HTTP/1.1 200 OK\n")
        );
        assert!(
            value(fields, "ResponseBody")
                .unwrap()
                .contains("<Ping xmlns=\"Ping:\">\n\t<Status>1</Status>")
        );
        let hung =
            parse_time(value(fields, "ResponseTime").unwrap()) - parse_time(value(fields, "RequestTime").unwrap());
        let heartbeat = if device == Device::IPhone { 900 } else { 470 };
        assert!((heartbeat..=heartbeat + 1).contains(&hung.num_seconds()), "{hung}");
        // The HTTP 500s carry the .NET exception; Exchange logged no XML answer for them.
        let entries = split(&text, false);
        let failed: Vec<&Fields> = entries
            .iter()
            .map(|(_, f)| f)
            .filter(|f| value(f, "ResponseHeader").unwrap().starts_with("HTTP/1.1 500"))
            .collect();
        assert_eq!(failed.len(), if device == Device::IPhone { 3 } else { 2 });
        for f in failed {
            let exception = value(f, "SyncCommand_OnExecute_Exception").unwrap();
            assert!(exception.starts_with("Microsoft.Exchange.AirSync.AirSyncPermanentException: "));
            assert_eq!(exception.lines().count(), 6);
            assert_eq!(value(f, "ResponseBody"), Some("[No XmlResponse]"));
        }
    }
}

#[test]
fn refused_changes_and_repeated_meeting_responses_carry_their_exceptions() {
    const CONVERT: &str = "SyncCommand_GenerateResponsesXmlNode_AddChange_ConvertServerToClientObject_Exception";
    const MEETING: &str = "MeetingResponseCommand_OnExecute_Exception";
    for device in Device::ALL {
        let exceptions = |scenario: Scenario, field: &str| -> Vec<String> {
            let (sessions, options) = sample(scenario, device);
            let (text, _) = text_log(&sessions, &options);
            split(&text, false)
                .iter()
                .filter_map(|(_, f)| value(f, field).map(String::from))
                .collect()
        };
        // Each of the three Changes of 5:72 refused with Status 6.
        let convert = exceptions(Scenario::ItemFailures, CONVERT);
        assert_eq!(convert.len(), 3);
        assert!(convert.iter().all(|e| e.contains("Item 5:72 could not be converted")));
        // Every MeetingResponse for 5:60 after the first.
        let meeting = exceptions(Scenario::CalendarFailures, MEETING);
        assert_eq!(meeting.len(), 3);
        assert!(
            meeting
                .iter()
                .all(|e| e.starts_with("Microsoft.Exchange.Data.Storage.WrongObjectTypeException: "))
        );
        // The near misses: one refused Change, one MeetingResponse.
        assert_eq!(exceptions(Scenario::ItemNearMisses, CONVERT).len(), 1);
        assert!(exceptions(Scenario::ItemNearMisses, MEETING).is_empty());
    }
}

#[test]
fn multipart_responses_start_with_the_part_table() {
    let (sessions, options) = sample(Scenario::Healthy, Device::Android);
    let (text, _) = text_log(&sessions, &options);
    let entry = split(&text, false)
        .into_iter()
        .find(|(_, f)| value(f, "ResponseBody").unwrap().starts_with('-'))
        .unwrap();
    let body = value(&entry.1, "ResponseBody").unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "----------------------- Multipart Response ---------------------"
    );
    assert_eq!(lines[1], "Number of Parts: 2");
    assert!(lines[2].starts_with("Part 0: offset 20, size ") && lines[3].starts_with("Part 1: offset "));
    assert_eq!(lines[4], XML_DECLARATION);
    assert_eq!(lines[5], r#"<ItemOperations xmlns="ItemOperations:">"#);
}

#[test]
fn overlapping_dumps_repeat_entries_under_the_same_identifiers() {
    let (sessions, options) = sample(Scenario::SyncKeyReset, Device::Android);
    let (whole, all) = text_log(&sessions, &options);
    let dump = |entries: Range<usize>| {
        text_log(
            &sessions,
            &MailboxLogOptions {
                entries,
                ..options.clone()
            },
        )
    };
    let (first, m1) = dump(0..7);
    let (second, m2) = dump(3..usize::MAX);
    let ids = |m: &LogManifest| -> BTreeMap<usize, String> {
        m.entries
            .iter()
            .map(|e| (e.trace_index, e.identifier.clone()))
            .collect()
    };
    let (i1, i2, ia) = (ids(&m1), ids(&m2), ids(&all));
    assert_eq!((i1.len(), i2.len()), (7, all.entries.len() - 3));
    let shared: Vec<_> = i1.keys().filter(|k| i2.contains_key(k)).collect();
    assert_eq!(shared.len(), 4);
    for k in shared {
        assert_eq!(i1[k], i2[k]);
        assert_eq!(i1[k], ia[k]);
    }
    // Each dump numbers from 0; entry 3 of the first is entry 0 of the second, word for word.
    let (e1, e2, ea) = (split(&first, false), split(&second, false), split(&whole, false));
    assert_eq!(e1.iter().map(|e| e.0).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
    assert_eq!(e2[0].0, 0);
    assert_eq!(e1[3].1, e2[0].1);
    assert_eq!(e2.last().unwrap().1, ea.last().unwrap().1);
    // What a dump does not hold is trace-only for it.
    let outside = |m: &LogManifest| {
        m.trace_only
            .iter()
            .filter(|t| t.reason == TraceOnlyReason::OutsideDump)
            .count()
    };
    assert_eq!((outside(&m1), outside(&m2)), (all.entries.len() - 7, 3));
}

#[test]
fn file_forms_read_back_to_the_same_entries() {
    let (sessions, options) = sample(Scenario::SyncKeyReset, Device::Android);
    let (plain, manifest) = text_log(&sessions, &options);
    let with = |form: FileForm| {
        log(
            &sessions,
            &MailboxLogOptions {
                form,
                ..options.clone()
            },
        )
    };

    let (gz, m) = with(FileForm {
        gzip: true,
        ..FileForm::default()
    });
    assert_eq!(m, manifest);
    assert_eq!(&gz[..2], [0x1F, 0x8B]);
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);

    let residue = "From: Microsoft Exchange\r\nSubject: Mailbox Log\r\n\r\n";
    let (quirky, m) = with(FileForm {
        lf_only: true,
        bom: true,
        same_line_values: true,
        preamble: Some(residue.into()),
        ..FileForm::default()
    });
    assert_eq!(m, manifest);
    let quirky = String::from_utf8(quirky).unwrap();
    assert!(
        quirky.starts_with(
            "\u{FEFF}From: Microsoft Exchange\nSubject: Mailbox Log\n\n\n-----------------\n Log Entry: 0\n"
        )
    );
    assert!(!quirky.contains('\r'));
    assert!(
        quirky.contains("\nRequestTime : 03/07/2024 16:31:43\n\n"),
        "{}",
        &quirky[..600]
    );
    assert!(quirky.contains("\nRequestHeader : \nPOST /Microsoft-Server-ActiveSync/default.eas?"));
    assert_eq!(split(&quirky, true), split(&plain, false));
}

#[test]
fn damaged_entries_are_where_the_manifest_says() {
    let (sessions, options) = sample(Scenario::SyncKeyReset, Device::Android);
    let (text, manifest) = text_log(
        &sessions,
        &MailboxLogOptions {
            form: FileForm {
                damage: vec![(4, Damage::CutSeparator), (7, Damage::FieldWithoutValue)],
                ..FileForm::default()
            },
            ..options
        },
    );
    assert_eq!(
        manifest.damaged,
        [
            Damaged {
                log_entry: 4,
                damage: Damage::CutSeparator
            },
            Damaged {
                log_entry: 7,
                damage: Damage::FieldWithoutValue
            }
        ]
    );
    assert!(text.contains("\r\n-----------------\r\n Log En\r\nRequestTime : \r\n"));
    assert!(text.contains("\r\nResponseBody : \r\nResponseTime : \r\n"));
    let entries = split(&text, false);
    let numbers: Vec<usize> = entries.iter().map(|e| e.0).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 5, 6, 7, 8, 9]);
    // Entry 3 ran into entry 4: two RequestTimes.
    assert_eq!(entries[3].1.iter().filter(|(n, _)| n == "RequestTime").count(), 2);
    assert_eq!(value(&entries[6].1, "ResponseBody"), Some(""));
}

/// A request as a device sends it: origin form, Host, Authorization, the body.
fn request(method: &str, query: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} /Microsoft-Server-ActiveSync?{query} HTTP/1.1\r\nHost: mail.example.com\r\nContent-Type: {content_type}\r\nAuthorization: Basic c2VjcmV0\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn hand_made(request: Vec<u8>, response: Option<&[u8]>, second: i64) -> Exchange {
    Exchange {
        sid: 1,
        started: DateTime::parse_from_rfc3339("2024-03-05T09:14:05+01:00").unwrap() + TimeDelta::seconds(second),
        duration_ms: 250,
        client_ip: "192.168.1.23".into(),
        server_ip: "203.0.113.10".into(),
        request,
        response: response.map(<[u8]>::to_vec),
        aborted: response.is_none(),
        generated_by_proxy: false,
        comment: None,
        ..Default::default()
    }
}

#[test]
fn tunnels_cached_syncs_mime_lost_answers_and_waiting_syncs() {
    let query = |cmd: &str| format!("Cmd={cmd}&User=jdoe&DeviceId=DEV1&DeviceType=iPhone");
    let sync = wbxml::encode(
        &wbxml::from_xml(r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>7</SyncKey><CollectionId>5</CollectionId></Collection></Collections></Sync>"#)
            .unwrap(),
    );
    let waiting = wbxml::encode(
        &wbxml::from_xml(r#"<Sync xmlns="AirSync:"><Wait>1</Wait><Collections><Collection><SyncKey>8</SyncKey><CollectionId>5</CollectionId></Collection></Collections></Sync>"#)
            .unwrap(),
    );
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let mime = "From: jdoe@contoso.com\r\nTo: alex@fabrikam.com\r\nSubject: Hi\r\n\r\nSee you.\r\n";
    let mut sessions = [
        hand_made(
            b"CONNECT mail.example.com:443 HTTP/1.1\r\nHost: mail.example.com:443\r\n\r\n".to_vec(),
            Some(b"HTTP/1.1 200 Connection Established\r\n\r\n"),
            0,
        ),
        hand_made(request("POST", &query("Sync"), WBXML_TYPE, &sync), Some(ok), 1),
        hand_made(request("POST", &query("Sync"), WBXML_TYPE, b""), Some(ok), 2),
        hand_made(
            request(
                "POST",
                &query("SendMail&SaveInSent=T"),
                "message/rfc822",
                mime.as_bytes(),
            ),
            Some(ok),
            3,
        ),
        hand_made(request("POST", &query("Sync"), WBXML_TYPE, &sync), None, 4),
        hand_made(request("POST", &query("Sync"), WBXML_TYPE, &waiting), Some(ok), 5),
    ];
    sessions[5].duration_ms = 60_000;
    let (text, manifest) = text_log(&sessions, &MailboxLogOptions::default());
    assert_eq!(
        manifest.trace_only,
        [TraceOnly {
            trace_index: 0,
            reason: TraceOnlyReason::Tunnel
        }]
    );
    let entries = split(&text, false);
    assert_eq!(entries.len(), 5);
    let sync_xml = value(&entries[0].1, "RequestBody").unwrap();
    assert!(sync_xml.contains("\t\t\t<SyncKey>7</SyncKey>"));
    // The cached (empty) Sync: Empty, and the request Exchange reused.
    assert_eq!(value(&entries[1].1, "RequestBody"), Some("Empty"));
    assert_eq!(value(&entries[1].1, "LogicalRequest"), Some(sync_xml));
    // SendMail as MIME text.
    assert_eq!(
        value(&entries[2].1, "RequestBody"),
        Some(mime.replace("\r\n", "\n").trim_end())
    );
    assert!(
        value(&entries[2].1, "RequestHeader")
            .unwrap()
            .contains("\nAuthorization: ********\n")
    );
    // A Sync whose answer was lost: 200 without a body, not pending.
    let lost = &manifest.entries[3];
    assert!(lost.response_lost && !lost.pending);
    assert_eq!(value(&entries[3].1, "ResponseHeader"), Some("HTTP/1.1 200 OK"));
    assert_eq!(value(&entries[3].1, "ResponseBody"), Some("[No XmlResponse]"));
    // A Sync that asked to wait and hung for a minute went pending.
    assert!(manifest.entries[4].pending);
    assert_eq!(value(&entries[4].1, "WasPending"), Some("[Response was pending]"));
}
