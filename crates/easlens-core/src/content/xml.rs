//! Bodies that are XML as text (Autodiscover's POX requests and answers, EWS SOAP, error pages in
//! XHTML): indented for reading by quick-xml, and an Autodiscover answer explained element by
//! element from `autodiscover.tsv`.

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

use super::autodiscover_tsv;

/// Bodies larger than this are left as plain text (indenting copies the whole body).
pub const MAX_PRETTY: usize = 4 << 20;

const AUTODISCOVER: &str = include_str!("autodiscover.tsv");

/// `bytes` indented, when they are one well-formed XML document (UTF-8, a declaration allowed).
pub fn pretty(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes.len() > MAX_PRETTY || bytes[start] != b'<' {
        return None;
    }
    let text = std::str::from_utf8(&bytes[start..]).ok()?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let mut depth = 0usize;
    let mut elements = 0usize;
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            e => {
                match &e {
                    Event::Start(_) => {
                        depth += 1;
                        elements += 1;
                    }
                    Event::Empty(_) => elements += 1,
                    Event::End(_) => depth = depth.checked_sub(1)?,
                    _ => {}
                }
                writer.write_event(e).ok()?;
            }
        }
    }
    if depth != 0 || elements == 0 {
        return None;
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// One explained element of an Autodiscover answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub element: String,
    /// The element's text as sent.
    pub value: String,
    /// The row's name, e.g. `Invalid Request`; empty for a value the table does not know.
    pub name: &'static str,
    pub meaning: &'static str,
    pub source: &'static str,
}

/// The elements of an Autodiscover request or answer that `autodiscover.tsv` explains, in
/// document order; empty when `xml` is not Autodiscover.
pub fn explain_autodiscover(xml: &str) -> Vec<Explained> {
    // The build checked the file (`autodiscover_tsv::rows`).
    let rows = autodiscover_tsv::rows(AUTODISCOVER).unwrap_or_default();
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned()),
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                if path.first().is_none_or(|r| r != "Autodiscover") {
                    return Vec::new();
                }
                let Some(element) = path.last() else { continue };
                let value = t.decode().map(|v| v.trim().to_string()).unwrap_or_default();
                // `Status` means the Autodiscover Status only inside an Error.
                if element == "Status" && !path.iter().any(|p| p == "Error") {
                    continue;
                }
                let number = value.parse::<u32>().ok();
                let of_element = || rows.iter().filter(|r| r.element == element);
                let row = of_element()
                    .find(|r| r.value.is_some() && r.value == number)
                    .or_else(|| of_element().find(|r| r.value.is_none()));
                match row {
                    Some(r) => out.push(Explained {
                        element: element.clone(),
                        value,
                        name: r.name,
                        meaning: r.meaning,
                        source: r.source,
                    }),
                    None if of_element().next().is_some() => out.push(Explained {
                        element: element.clone(),
                        value,
                        name: "",
                        meaning: "A value the Autodiscover documents do not list.",
                        source: "",
                    }),
                    None => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERROR: &str = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"><Error Time="16:56:32.6164027" Id="1054084152"><ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData /></Error></Response></Autodiscover>"#;

    #[test]
    fn xml_text_is_indented_and_other_text_is_not() {
        let out = pretty(ERROR.as_bytes()).unwrap();
        assert!(out.contains("\n  <Response"), "{out}");
        assert!(out.contains("\n      <ErrorCode>600</ErrorCode>"), "{out}");
        assert_eq!(pretty(b"{\"a\":1}"), None);
        assert_eq!(pretty(b"<a><b></a>"), None, "mismatched tags");
        assert_eq!(pretty(b"<a>"), None, "left open");
        assert_eq!(pretty(b"hello <b>"), None);
    }

    #[test]
    fn an_autodiscover_error_is_explained() {
        let e = explain_autodiscover(ERROR);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(
            (e[0].element.as_str(), e[0].value.as_str(), e[0].name),
            ("ErrorCode", "600", "Invalid Request")
        );
        assert_eq!(e[0].source, "MS-ASCMD 2.2.3.64");
        assert_eq!(e[1].element, "Message");
        let redirect =
            "<Autodiscover><Response><Action><Redirect>jdoe@contoso.com</Redirect></Action></Response></Autodiscover>";
        let e = explain_autodiscover(redirect);
        assert_eq!(e[0].name, "Redirect to another address");
        assert_eq!(e[0].value, "jdoe@contoso.com");
        let unknown = "<Autodiscover><Response><Error><ErrorCode>777</ErrorCode></Error></Response></Autodiscover>";
        assert_eq!(explain_autodiscover(unknown)[0].name, "");
        assert!(
            explain_autodiscover("<soap:Envelope><Url>x</Url></soap:Envelope>").is_empty(),
            "not Autodiscover"
        );
    }
}
