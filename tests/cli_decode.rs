//! `easlens decode`: what a support engineer sees on stdout/stderr and the exit status.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use easlens_core::wbxml::{encode, from_xml, multipart};

const SYNC_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync:">
    <Collections>
        <Collection>
            <SyncKey>1449836018</SyncKey>
            <CollectionId>2</CollectionId>
            <Status>1</Status>
            <Commands>
                <Add>
                    <ServerId>2:41</ServerId>
                    <ApplicationData>
                        <Subject xmlns="Email:">Q3 &lt;budget&gt; &amp; plans</Subject>
                        <Body xmlns="AirSyncBase:">
                            <Type>2</Type>
                            <Data>&lt;p&gt;hello&lt;/p&gt;&#xD;
</Data>
                        </Body>
                        <ConversationId xmlns="Email2:" encoding="hex">A9A57BDA90934B4CAE83B1A1AFDDEAD5</ConversationId>
                    </ApplicationData>
                </Add>
            </Commands>
        </Collection>
    </Collections>
</Sync>
"#;

fn wbxml(xml: &str) -> Vec<u8> {
    encode(&from_xml(xml).expect("test XML is valid"))
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("easlens-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn easlens(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_easlens"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

#[test]
fn decodes_a_file_to_mailbox_log_xml() {
    let path = temp_file("sync.wbxml", &wbxml(SYNC_XML));
    let before = std::fs::read(&path).unwrap();
    let out = easlens(&["decode", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), SYNC_XML);
    assert!(out.stderr.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), before, "the input file is never written");
}

#[test]
fn reads_stdin_and_hex_dumps() {
    let bytes = wbxml(SYNC_XML);
    let out = easlens(&["decode", "-"], Some(&bytes));
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), SYNC_XML.to_string()));

    // An xxd-style dump as pasted from a ticket.
    let mut dump = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hexes: Vec<String> = chunk.chunks(2).map(hex::encode).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        dump += &format!("{:08x}: {:<40} {ascii}\n", i * 16, hexes.join(" "));
    }
    let out = easlens(&["decode", "--hex", "-"], Some(dump.as_bytes()));
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), SYNC_XML.to_string()),
        "{}",
        text(&out.stderr)
    );

    let out = easlens(&["decode", "--hex", "-"], Some(b"03 01 6A 00 45 4E 03 31 00 01 01"));
    assert!(text(&out.stdout).contains("<Status>1</Status>"));
}

#[test]
fn malformed_input_prints_partial_xml_and_the_offset() {
    let mut bytes = wbxml(SYNC_XML);
    bytes.truncate(40);
    let path = temp_file("truncated.wbxml", &bytes);
    let out = easlens(&["decode", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("<SyncKey>1449836018</SyncKey>"),
        "partial XML is shown: {stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains(path.to_str().unwrap()), "names the file: {stderr}");
    assert!(
        stderr.contains("offset 40: input ends where"),
        "names the offset and expectation: {stderr}"
    );
}

#[test]
fn bad_hex_and_missing_files_are_clear_errors() {
    let out = easlens(&["decode", "--hex", "-"], Some(b"03 01 6A 0G"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 1: \"0G\" is not hex"),
        "{}",
        text(&out.stderr)
    );

    let out = easlens(&["decode", "/nonexistent/body.wbxml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/body.wbxml: cannot read the file"));

    let out = easlens(&["decode", "-"], Some(b""));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("input is empty"));
}

#[test]
fn multipart_bodies_list_their_parts() {
    let part0 = wbxml(
        r#"<ItemOperations xmlns="ItemOperations:"><Status>1</Status><Response><Fetch><Status>1</Status>
        <Properties><Part>1</Part></Properties></Fetch></Response></ItemOperations>"#,
    );
    let body = multipart::build(&[&part0, b"This is the body.\r\n"]);
    let out = easlens(&["decode", "-"], Some(&body));
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("multipart ItemOperations response: 2 parts"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!(
        "part 0: {} bytes at offset 20 (WBXML, decoded below)",
        part0.len()
    )));
    assert!(stdout.contains(&format!("part 1: 19 bytes at offset {}", 20 + part0.len())));
    assert!(stdout.contains("<Part>1</Part>"));
}

#[test]
fn trailing_bytes_are_a_warning_not_an_error() {
    let mut bytes = wbxml(r#"<Ping xmlns="Ping:"><Status>1</Status></Ping>"#);
    bytes.extend_from_slice(&[0x45, 0x01]);
    let out = easlens(&["decode", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("warning: offset 13: 2 bytes after the end of the root element ignored"));
}

#[test]
fn other_wbxml_languages_are_named_without_xml() {
    // SyncML 1.2 as its encoders write it: public id 0, the formal public id in the string table.
    let fpi = b"-//SYNCML//DTD SyncML 1.2//EN\0";
    let mut syncml = vec![0x02, 0x00, 0x00, 0x6A, fpi.len() as u8];
    syncml.extend_from_slice(fpi);
    syncml.extend_from_slice(&[0x6D, 0x6C, 0x71, 0x03, b'1', b'.', b'2', 0, 0x01, 0x01]);
    let path = temp_file("syncml.wbxml", &syncml);
    let out = easlens(&["decode", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no XML: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: offset 1: SyncML WBXML (public id -//SYNCML//DTD SyncML 1.2//EN), not ActiveSync",
            path.display()
        )),
        "{stderr}"
    );
    // WML by its registered number.
    let out = easlens(&["decode", "--hex", "-"], Some(b"03 0A 6A 00 7F 01"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("WML WBXML (public id 0x0A, -//WAPFORUM//DTD WML 1.3//EN), not ActiveSync"));
}

#[test]
fn string_tables_are_resolved_with_a_warning() {
    // <Sync><Status>STR_T 0</Status><Foo bar="v"/></Sync> with the string table "1\0Foo\0bar\0".
    let table = b"1\0Foo\0bar\0";
    let mut bytes = vec![0x03, 0x01, 0x6A, table.len() as u8];
    bytes.extend_from_slice(table);
    bytes.extend_from_slice(&[
        0x45, 0x4E, 0x83, 0x00, 0x01, 0x84, 0x02, 0x04, 0x06, 0x03, b'v', 0, 0x01, 0x01,
    ]);
    let out = easlens(&["decode", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("<Status>1</Status>\n    <Foo xmlns=\"\" bar=\"v\"/>"),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "warning: offset 16: STR_T string-table reference resolved (ActiveSync does not normally use string tables)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: offset 19: LITERAL tag <Foo> named by the string table"),
        "{stderr}"
    );
}

#[test]
fn documents_past_the_budget_print_what_decoded() {
    // 300 nested <Sync>s: the inspector's budget stops at 256 levels.
    let mut bytes = vec![0x03, 0x01, 0x6A, 0x00];
    bytes.extend(std::iter::repeat_n(0x45, 300));
    let out = easlens(&["decode", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout).matches("<Sync").count(), 256);
    assert!(
        text(&out.stderr).contains(
            "offset 260: more than 256 levels of nesting: over the inspector decoding budget, decoding stopped"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn named_pipes_and_devices_are_refused_stdin_is_read() {
    let fifo = std::env::temp_dir().join(format!("easlens-cli-{}-body.fifo", std::process::id()));
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let fifo_arg = fifo.to_str().unwrap();
    for (arg, what) in [(fifo_arg, "a named pipe (FIFO)"), ("/dev/zero", "a character device")] {
        let out = easlens(&["decode", arg], None);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stderr),
            format!("easlens: {arg}: {what}, not a regular file (use `-` to read standard input)\n")
        );
    }
    std::fs::remove_file(&fifo).unwrap();
    // Standard input still works.
    let out = easlens(&["decode", "-"], Some(&wbxml(SYNC_XML)));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
