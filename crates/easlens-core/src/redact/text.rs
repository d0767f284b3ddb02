//! Redacting text: neutral text of the same shape, HTML and MIME bodies with their structure kept,
//! lists of people, and scrubbing free text of every personal value known so far.
//!
//! Neutral text depends only on the shape of the original (word lengths, case of the first
//! letter, digits, punctuation, line breaks), never on its letters, so it leaks nothing but
//! lengths, and the same text always gives the same result. The few grammars here (address
//! lists, MIME headers, HTML tags) are scanned by hand on purpose: only their outline matters
//! (where a value starts and ends), and a full parser would refuse the damaged bodies captures
//! are full of.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::pseudonyms::{Kind, Pseudonyms};

/// Filler words by length (1–10 letters), lorem ipsum.
const FILLER: [&[&str]; 10] = [
    &["a", "e", "o"],
    &["et", "in", "ut", "ad"],
    &["sed", "non", "sit", "est"],
    &["amet", "enim", "quis", "duis"],
    &["lorem", "ipsum", "dolor", "magna"],
    &["labore", "dolore", "veniam", "fugiat"],
    &["aliquip", "commodo", "egestas", "laborum"],
    &["voluptas", "pariatur", "occaecat", "proident"],
    &["excepteur", "consequat", "cupidatat", "exercitat"],
    &["adipiscing", "incididunt", "reprehendo", "voluptatem"],
];

/// A filler word of `len` letters (the `n`th word of its text, for variety).
fn filler(len: usize, n: usize, out: &mut String) {
    let mut left = len;
    let mut k = n;
    while left > 0 {
        let take = left.min(10);
        let words = FILLER[take - 1];
        out.push_str(words[k % words.len()]);
        left -= take;
        k += 1;
    }
}

/// Neutral text of the same shape as `text`: every run of letters becomes a filler word of as
/// many letters (capitalised when the original was), every digit `0`; everything else (spaces,
/// punctuation, line breaks) stays.
pub fn neutral(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut n = 0usize;
    while let Some(c) = chars.next() {
        if c.is_alphabetic() {
            let mut len = 1;
            while chars.peek().is_some_and(|c| c.is_alphabetic()) {
                chars.next();
                len += 1;
            }
            let start = out.len();
            filler(len, n, &mut out);
            n += 1;
            if c.is_uppercase() {
                let first = out[start..start + 1].to_ascii_uppercase();
                out.replace_range(start..start + 1, &first);
            }
        } else if c.is_numeric() {
            out.push('0');
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes in ISO-8859-1 as text (every byte is a character).
pub fn from_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Text back to ISO-8859-1 (a character beyond it as `?`).
pub fn to_latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Every digit as `0`, the rest kept (personal dates, coordinates).
pub fn zero_digits(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect()
}

/// An HTML body: tags, attribute names and character references kept, text and attribute
/// values neutral.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            tag(&rest[..end], &mut out);
            rest = &rest[end..];
        } else if rest.starts_with('&') {
            let reference = rest[1..]
                .find(';')
                .filter(|&i| i <= 10 && rest[1..1 + i].chars().all(|c| c.is_ascii_alphanumeric() || c == '#'));
            let end = reference.map_or(1, |i| i + 2);
            out.push_str(if end == 1 { "&" } else { &rest[..end] });
            rest = &rest[end..];
        } else {
            let end = rest.find(['<', '&']).unwrap_or(rest.len());
            out.push_str(&neutral(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// One tag: quoted attribute values neutral, the rest kept.
fn tag(tag: &str, out: &mut String) {
    let mut rest = tag;
    while let Some(i) = rest.find(['"', '\'']) {
        let quote = &rest[i..i + 1];
        out.push_str(&rest[..=i]);
        let value = &rest[i + 1..];
        let end = value.find(quote).unwrap_or(value.len());
        out.push_str(&neutral(&value[..end]));
        rest = &value[end..];
        if let Some(r) = rest.strip_prefix(quote) {
            out.push_str(quote);
            rest = r;
        }
    }
    out.push_str(rest);
}

/// A list of people as mail headers and EAS elements write them: `"Name" <a@b>, c@d; Name`.
/// Each address becomes its pseudonym address and each name `Person N`; separators, quotes and
/// brackets stay.
pub fn people(text: &str, map: &mut Pseudonyms) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    let (mut quoted, mut angle) = (false, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                out.push_str(&person(&text[start..i], map));
                out.push(c);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&person(&text[start..], map));
    out
}

/// One item of a list of people, with the spaces around it kept.
fn person(item: &str, map: &mut Pseudonyms) -> String {
    let trimmed = item.trim();
    if trimmed.is_empty() {
        return item.to_string();
    }
    let lead = &item[..item.len() - item.trim_start().len()];
    let trail = &item[item.trim_end().len()..];
    let body = match (trimmed.rfind('<'), trimmed.ends_with('>')) {
        (Some(open), true) => {
            let name = trimmed[..open].trim_end();
            let address = &trimmed[open + 1..trimmed.len() - 1];
            let gap = &trimmed[name.len()..open];
            format!("{}{gap}<{}>", display_name(name, map), mailbox(address, map))
        }
        _ => mailbox_or_name(trimmed, map),
    };
    format!("{lead}{body}{trail}")
}

/// A display name, quoted or not.
fn display_name(name: &str, map: &mut Pseudonyms) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) if !inner.trim().is_empty() => format!("\"{}\"", map.person(inner.trim())),
        Some(_) => name.to_string(),
        None if name.is_empty() => String::new(),
        None => mailbox_or_name(name, map),
    }
}

/// An address (also `mailto:` or `SMTP:`-prefixed), a `DOMAIN\user` or a name.
fn mailbox_or_name(text: &str, map: &mut Pseudonyms) -> String {
    if text.contains('@') || text.contains('\\') {
        mailbox(text, map)
    } else {
        map.person(text)
    }
}

fn mailbox(address: &str, map: &mut Pseudonyms) -> String {
    let (prefix, rest) = match address.split_once(':') {
        Some((p, r)) if !p.contains('@') && p.len() <= 6 => (&address[..=p.len()], r),
        _ => ("", address),
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return address.to_string();
    }
    format!("{prefix}{}", map.user(rest))
}

/// MIME content (a message, or SendMail's MIME): header names, the technical headers and the
/// multipart structure kept; addresses and the subject as pseudonyms, file names as
/// `Attachment N`, other header values and every body line neutral.
pub fn mime(text: &str, map: &mut Pseudonyms) -> String {
    let mut out = String::with_capacity(text.len());
    let mut boundaries: Vec<String> = Vec::new();
    let mut in_headers = true;
    // A header with its folded continuation lines.
    let mut header = String::new();
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let bare = line.trim_end_matches(['\r', '\n']);
        let ending = &line[bare.len()..];
        if in_headers {
            header.push_str(line);
            let folded = lines.peek().is_some_and(|l| l.starts_with([' ', '\t']));
            if bare.is_empty() {
                header.clear();
                out.push_str(line);
                in_headers = false;
            } else if !folded {
                out.push_str(&mime_header(&header, map, &mut boundaries));
                header.clear();
            }
            continue;
        }
        let is_boundary = bare.strip_prefix("--").is_some_and(|b| {
            boundaries
                .iter()
                .any(|k| b.trim_end() == k || b.trim_end() == format!("{k}--"))
        });
        if is_boundary {
            out.push_str(line);
            in_headers = !bare.trim_end().ends_with("--");
        } else {
            out.push_str(&neutral(bare));
            out.push_str(ending);
        }
    }
    out.push_str(&neutral(&header));
    out
}

/// Headers whose values are kept as they are: structure, transport and client facts.
const MIME_KEPT: [&str; 17] = [
    "mime-version",
    "content-transfer-encoding",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "content-id",
    "content-language",
    "importance",
    "priority",
    "x-priority",
    "thread-index",
    "x-ms-has-attach",
    "x-ms-tnef-correlator",
    "x-mailer",
    "accept-language",
    "content-class",
];

const MIME_PEOPLE: [&str; 10] = [
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "sender",
    "return-path",
    "delivered-to",
    "disposition-notification-to",
    "resent-from",
];

/// One header (with its folded lines and line end).
fn mime_header(header: &str, map: &mut Pseudonyms, boundaries: &mut Vec<String>) -> String {
    let Some((name, value)) = header.split_once(':') else {
        return neutral(header);
    };
    let lower = name.trim().to_ascii_lowercase();
    let body = value.trim_end_matches(['\r', '\n']);
    let ending = &value[body.len()..];
    let new = if MIME_KEPT.contains(&lower.as_str()) {
        body.to_string()
    } else if MIME_PEOPLE.contains(&lower.as_str()) {
        people(body, map)
    } else if lower == "subject" || lower == "thread-topic" {
        let lead = &body[..body.len() - body.trim_start().len()];
        format!("{lead}{}", map.subject(body.trim()))
    } else if lower == "content-type" || lower == "content-disposition" {
        if let Some(b) = parameter(body, "boundary") {
            boundaries.push(b);
        }
        file_names(body, map)
    } else {
        neutral(body)
    };
    format!("{name}:{new}{ending}")
}

/// The value of `name=` in a header's parameters (quotes removed).
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// `name=` and `filename=` parameters (also `name*=`) as `Attachment N.ext`.
fn file_names(value: &str, map: &mut Pseudonyms) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (i, p) in value.split(';').enumerate() {
        let named = p.split_once('=').filter(|(n, _)| {
            let n = n.trim().trim_end_matches('*').to_ascii_lowercase();
            i > 0 && (n == "name" || n == "filename")
        });
        match named {
            Some((n, v)) => {
                let quoted = v.trim().starts_with('"');
                let inner = v.trim().trim_matches('"');
                let new = map.attachment(inner);
                parts.push(if quoted {
                    format!("{n}=\"{new}\"")
                } else {
                    format!("{n}={new}")
                });
            }
            None => parts.push(p.to_string()),
        }
    }
    parts.join(";")
}

/// Email addresses in free text: `local@domain.tld` with the usual characters.
pub fn find_addresses(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-'".contains(&b);
    let domain = |b: u8| b.is_ascii_alphanumeric() || b".-".contains(&b);
    let mut out = Vec::new();
    for at in memchr::memchr_iter(b'@', bytes) {
        let start = (0..at).rev().take_while(|&i| local(bytes[i])).last().unwrap_or(at);
        let mut end = (at + 1..bytes.len())
            .take_while(|&i| domain(bytes[i]))
            .last()
            .map_or(at + 1, |e| e + 1);
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let host = &text[at + 1..end];
        let dotted =
            host.contains('.') && !host.starts_with('.') && host.rsplit('.').next().is_some_and(|t| t.len() >= 2);
        if start < at && dotted && out.last().is_none_or(|r: &std::ops::Range<usize>| r.end <= start) {
            out.push(start..end);
        }
    }
    out
}

/// Replaces every known personal value (from the map) in free text, as it is, in any case and
/// percent-encoded, and every email address. Built from the map as it is; rebuilt by the
/// redactor when the map has grown.
pub struct Scrubber {
    automaton: Option<AhoCorasick>,
    /// For each pattern, the pseudonym that replaces it.
    replacements: Vec<String>,
    /// How many map entries it was built from.
    pub built_from: usize,
}

/// Values shorter than this are not searched for in free text: too many ordinary words match.
const MIN_SCRUB_LEN: usize = 4;

impl Scrubber {
    pub fn new(map: &Pseudonyms) -> Scrubber {
        let mut patterns: Vec<String> = Vec::new();
        let mut replacements: Vec<String> = Vec::new();
        for e in map.entries() {
            // A domain's first label is no personal data, and replacing it in free text would
            // mangle host names and user agents (`outlook`, `gmail`).
            if e.kind == Kind::Domain || e.original.chars().count() < MIN_SCRUB_LEN {
                continue;
            }
            let encoded =
                percent_encoding::utf8_percent_encode(&e.original, percent_encoding::NON_ALPHANUMERIC).to_string();
            let plus = e.original.replace(' ', "+");
            for form in [e.original.clone(), encoded, plus] {
                if !patterns.contains(&form) {
                    patterns.push(form);
                    replacements.push(e.pseudonym.clone());
                }
            }
        }
        let automaton = (!patterns.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Scrubber {
            automaton,
            replacements,
            built_from: map.entries().len(),
        }
    }

    /// `text` with every known value and every email address replaced. A match inside a longer
    /// word (letters or digits on either side) is left: `Alexandra` is not `Alex`.
    pub fn scrub(&self, text: &str, map: &mut Pseudonyms) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        if let Some(ac) = &self.automaton {
            for m in ac.find_iter(text) {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                let pattern = &text[m.start()..m.end()];
                let edge_word = |c: Option<char>, inner: Option<char>| word(c) && word(inner);
                if edge_word(before, pattern.chars().next()) || edge_word(after, pattern.chars().next_back()) {
                    continue;
                }
                out.push_str(&text[last..m.start()]);
                out.push_str(&self.replacements[m.pattern().as_usize()]);
                last = m.end();
            }
        }
        out.push_str(&text[last..]);
        // Addresses not met before (a pseudonym address ends in .invalid and is left).
        let ranges = find_addresses(&out);
        if ranges.is_empty() {
            return out;
        }
        let mut result = String::with_capacity(out.len());
        let mut last = 0;
        for r in ranges {
            let address = &out[r.clone()];
            result.push_str(&out[last..r.start]);
            if address.ends_with(".invalid") {
                result.push_str(address);
            } else {
                result.push_str(&map.address(address));
            }
            last = r.end;
        }
        result.push_str(&out[last..]);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_text_keeps_shape_only() {
        let t = "Hi Alex,\r\nThe Q3 numbers: 1,234.\n\tThanks — Jordan";
        let n = neutral(t);
        assert_eq!(n.chars().count(), t.chars().count());
        assert_eq!(n.lines().count(), t.lines().count());
        assert!(!n.contains("Alex") && !n.contains("Jordan") && !n.contains("1,234"));
        assert!(
            n.starts_with("Et ") && n.contains("\r\n") && n.contains("0,000."),
            "{n}"
        );
        assert_eq!(neutral("Alex"), neutral("Jose"));
        assert_eq!(zero_digits("1984-07-21T00:00:00.000Z"), "0000-00-00T00:00:00.000Z");
    }

    #[test]
    fn html_keeps_markup() {
        let h = "<div class=\"x\" title='Alex Chen'>Hi Alex &amp; Sam&nbsp;<br>Bye</div>";
        let r = html(h);
        assert!(r.starts_with("<div class=\"a\" title='"), "{r}");
        assert!(
            r.contains("&amp;") && r.contains("&nbsp;<br>") && r.ends_with("</div>"),
            "{r}"
        );
        assert!(!r.contains("Alex") && !r.contains("Sam") && !r.contains("Bye"), "{r}");
    }

    #[test]
    fn people_lists() {
        let mut map = Pseudonyms::new();
        let r = people(
            "\"Alex Chen\" <alex.chen@fabrikam.com>, jdoe@contoso.com; Priya Natarajan",
            &mut map,
        );
        assert_eq!(
            r,
            "\"Person 1\" <user1@contoso.invalid>, user2@fabrikam.invalid; Person 2"
        );
        assert_eq!(
            people("Alex Chen <ALEX.CHEN@fabrikam.com>", &mut map),
            "Person 1 <user1@contoso.invalid>"
        );
        assert_eq!(people("SMTP:jdoe@contoso.com", &mut map), "SMTP:user2@fabrikam.invalid");
        assert_eq!(people("", &mut map), "");
    }

    #[test]
    fn mime_keeps_structure() {
        let m = "From: \"Jordan Doe\" <jdoe@contoso.com>\r\nTo: alex.chen@fabrikam.com\r\nSubject: RE: Lunch\r\n\
                 MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"b1\"\r\nX-Secret: Alex\r\n\r\n\
                 --b1\r\nContent-Type: text/plain\r\n\r\nHi Alex, see you.\r\n\
                 --b1\r\nContent-Type: application/pdf; name=\"Q3 plan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b1--\r\n";
        let mut map = Pseudonyms::new();
        let r = mime(m, &mut map);
        assert_eq!(r.len() - m.len(), r.len() - m.len()); // shape checked below
        for gone in ["Jordan", "jdoe", "alex", "Alex", "Lunch", "Q3 plan", "QUJD"] {
            assert!(!r.contains(gone), "{gone} in {r}");
        }
        for kept in [
            "From: \"Person 1\" <user1@contoso.invalid>\r\n",
            "Subject: RE: Subject 1\r\n",
            "MIME-Version: 1.0\r\n",
            "\tboundary=\"b1\"\r\n",
            "--b1\r\nContent-Type: text/plain\r\n\r\n",
            "name=\"Attachment 1.pdf\"",
            "Content-Transfer-Encoding: base64\r\n",
            "--b1--\r\n",
        ] {
            assert!(r.contains(kept), "{kept:?} not in {r}");
        }
        assert_eq!(r.lines().count(), m.lines().count());
    }

    #[test]
    fn scrub_known_values_and_addresses() {
        let mut map = Pseudonyms::new();
        map.user("CONTOSO\\jdoe");
        map.device("ApplF17XK2J3");
        let s = Scrubber::new(&map);
        let r = s.scrub(
            "user=contoso%5Cjdoe dev=APPLF17XK2J3 jdoenot mail bob@example.org and user1@contoso.invalid",
            &mut map,
        );
        assert_eq!(
            r,
            "user=CONTOSO\\user1 dev=Device1 jdoenot mail user2@fabrikam.invalid and user1@contoso.invalid"
        );
        assert_eq!(find_addresses("a@b, x.y@z.co."), vec![5..13]);
    }
}
