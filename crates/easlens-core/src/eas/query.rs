//! The EAS HTTP request line: decoding (and encoding) the query of the request URI
//! ([MS-ASHTTP] section 2.2.1.1.1).
//!
//! Every ActiveSync command is a `POST` to the ActiveSync virtual directory, normally
//! `/Microsoft-Server-ActiveSync` (sometimes with `/default.eas`). The query carries the command,
//! the user, the device and, in the base64 form, what would otherwise be request headers. It comes in
//! two forms:
//!
//! * the **plain text query** ([MS-ASHTTP] 2.2.1.1.1.2):
//!   `Cmd=Sync&User=contoso%5Cjdoe&DeviceId=SYNTHDEV0001&DeviceType=iPhone` — protocol version and
//!   policy key travel in the `MS-ASProtocolVersion` (2.2.1.1.2.6) and `X-MS-PolicyKey`
//!   (2.2.1.1.2.8) headers;
//! * the **base64-encoded query** ([MS-ASHTTP] 2.2.1.1.1.1): one base64 string (RFC 2045 alphabet)
//!   of a byte sequence holding protocol version, command code, locale, device ID, policy key,
//!   device type and tagged command parameters. Only protocol versions 12.1–16.1 may use it.
//!
//! [`parse_request_target`] takes the request-target of the HTTP request line (absolute URL,
//! origin form or a bare query) and picks the form: a query with a `Cmd=` parameter is plain,
//! anything else is percent-decoded and decoded as base64 (standard or URL-safe alphabet, with or
//! without padding). Every length is bounds-checked; malformed input gives a [`QueryError`] that
//! names the field and the byte offset in the decoded query, and oddities that do not stop
//! decoding are listed in [`RequestLine::warnings`]. No input makes these functions panic.
//!
//! [`encode_base64_query`] and [`encode_plain_query`] go the other way (sample generation and
//! round-trip tests).
//!
//! Byte order: the spec does not state the byte order of the locale and the policy key; every
//! implementation read (Horde, Z-Push, EAS Inspector) uses little-endian, and so does this module.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use thiserror::Error;

use super::command::Command;

/// The usual ActiveSync virtual directory.
pub const DEFAULT_PATH: &str = "/Microsoft-Server-ActiveSync";

/// `Options` bit: save the message in Sent Items (SendMail, SmartForward, SmartReply)
/// ([MS-ASHTTP] 2.2.1.1.1.1.3).
pub const OPTION_SAVE_IN_SENT: u8 = 0x01;
/// `Options` bit: return the item as multipart (ItemOperations; replaces the
/// `MS-ASAcceptMultiPart` header, [MS-ASHTTP] 2.2.1.1.2.5) ([MS-ASHTTP] 2.2.1.1.1.1.3).
pub const OPTION_ACCEPT_MULTIPART: u8 = 0x02;

/// Protocol-version bytes allowed in the base64 form: 12.1, 14.0, 14.1, 16.0, 16.1
/// ([MS-ASHTTP] 2.2.1.1.1.1: "supported only by protocol versions 12.1, 14.0, 14.1, 16.0, and 16.1").
const BASE64_VERSIONS: &[u8] = &[121, 140, 141, 160, 161];

/// Command parameter tags of the base64 form ([MS-ASHTTP] 2.2.1.1.1.1.3): (tag, name, in the
/// current spec table). Tags 2 (CollectionName) and 5 (ParentId) are absent from the current table
/// but appear as deprecated in older implementations; they are decoded by name with a warning.
const PARAMETER_TAGS: &[(u8, &str, bool)] = &[
    (0, "AttachmentName", true),
    (1, "CollectionId", true),
    (2, "CollectionName", false),
    (3, "ItemId", true),
    (4, "LongId", true),
    (5, "ParentId", false),
    (6, "Occurrence", true),
    (7, "Options", true),
    (8, "User", true),
];
const TAG_OPTIONS: u8 = 7;
const TAG_USER: u8 = 8;

/// Command-specific parameters of the plain form ([MS-ASHTTP] 2.2.1.1.1.2.5).
const PLAIN_PARAMETERS: &[&str] = &[
    "AttachmentName",
    "CollectionId",
    "ItemId",
    "LongId",
    "Occurrence",
    "SaveInSent",
];

/// The name of a base64 command-parameter tag ([MS-ASHTTP] 2.2.1.1.1.1.3), including the
/// deprecated tags 2 and 5.
pub fn parameter_name(tag: u8) -> Option<&'static str> {
    PARAMETER_TAGS.iter().find(|(t, _, _)| *t == tag).map(|(_, n, _)| *n)
}

/// The base64 tag of a command-parameter name (case-insensitive).
pub fn parameter_tag(name: &str) -> Option<u8> {
    PARAMETER_TAGS
        .iter()
        .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
        .map(|(t, _, _)| *t)
}

/// Which of the two query forms of [MS-ASHTTP] 2.2.1.1.1 the request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryForm {
    /// Plain text query, `Cmd=…&User=…&DeviceId=…&DeviceType=…` (2.2.1.1.1.2).
    Plain,
    /// Base64-encoded query (2.2.1.1.1.1).
    Base64,
}

/// A decoded EAS request line. Both query forms map onto the same fields; values are shown as a
/// plain query would read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub form: QueryForm,
    /// Path of the request-target as sent (not percent-decoded), e.g.
    /// `/Microsoft-Server-ActiveSync` or `/Microsoft-Server-ActiveSync/default.eas`; empty when only
    /// a query was given.
    pub path: String,
    /// The command, when the name or code is known ([MS-ASHTTP] 2.2.1.1.1.1.2).
    pub command: Option<Command>,
    /// The command as sent: the `Cmd=` text (plain), the command name (base64, known code) or
    /// `code N` (base64, unknown code), so nothing is hidden.
    pub command_raw: Option<String>,
    /// User name, percent-decoded (`contoso\jdoe`, a UPN, …): the `User=` value (plain) or the
    /// `User` command parameter (base64, tag 8).
    pub user: Option<String>,
    /// Device ID for display. Plain: as sent (percent-decoded). Base64: the bytes as ASCII when all
    /// of them are visible ASCII characters, otherwise uppercase hex (see also
    /// [`device_id_guid`](Self::device_id_guid)).
    pub device_id: Option<String>,
    /// The device ID bytes exactly as sent.
    pub device_id_bytes: Option<Vec<u8>>,
    /// The device ID in GUID form, when it is 16 bytes that are not all visible ASCII (the spec
    /// calls the device ID "a string or a GUID"). Assumes the Windows GUID byte layout (first three
    /// fields little-endian).
    pub device_id_guid: Option<String>,
    /// Device type (`iPhone`, `Android`, `SP`, `PPC`, …).
    pub device_type: Option<String>,
    /// Protocol version (`"14.1"`) from the base64 version byte (141 → 14.1). `None` for the plain
    /// form: there it comes from the `MS-ASProtocolVersion` header, not the URL.
    pub protocol_version: Option<String>,
    /// Locale (LCID, e.g. 0x0409 = en-US) of the base64 form, read little-endian.
    pub locale: Option<u16>,
    /// Policy key of the base64 form (little-endian u32); `None` when its length is 0 and always for
    /// the plain form (there it is the `X-MS-PolicyKey` header).
    pub policy_key: Option<u32>,
    /// Command parameters in the order sent, by name. Base64: every tagged parameter
    /// (`AttachmentName`, `CollectionId`, `ItemId`, `LongId`, `Occurrence`, `Options`, `User`;
    /// `Options` and unknown tags — named `tag N` — as `0x` + uppercase hex). Plain: every query
    /// parameter other than `Cmd`, `User`, `DeviceId` and `DeviceType`, percent-decoded, known
    /// names in their canonical spelling.
    pub parameters: Vec<(String, String)>,
    /// SaveInSent: from the `Options` bitmask (bit 0x01; `Some` when the bit is set or the command
    /// is SendMail/SmartForward/SmartReply) or from `SaveInSent=T|F` (plain).
    pub save_in_sent: Option<bool>,
    /// AcceptMultiPart: from the `Options` bitmask (bit 0x02; `Some` when the bit is set or the
    /// command is ItemOperations). `None` for the plain form (it is the `MS-ASAcceptMultiPart`
    /// header there).
    pub accept_multipart: Option<bool>,
    /// Non-fatal oddities: unknown command code, unknown or duplicate parameter, missing plain
    /// parameter, protocol version not allowed with the base64 form, …
    pub warnings: Vec<String>,
    /// Information that is no protocol violation in practice, such as a DeviceId with hyphens
    /// (the grammar allows letters and digits only, real clients send hyphens and Exchange takes them).
    pub notes: Vec<String>,
}

impl RequestLine {
    /// An empty request line of the given form with the default path and no fields set
    /// (a starting point for building samples to encode).
    pub fn new(form: QueryForm) -> RequestLine {
        RequestLine {
            form,
            path: DEFAULT_PATH.to_string(),
            command: None,
            command_raw: None,
            user: None,
            device_id: None,
            device_id_bytes: None,
            device_id_guid: None,
            device_type: None,
            protocol_version: None,
            locale: None,
            policy_key: None,
            parameters: Vec::new(),
            save_in_sent: None,
            accept_multipart: None,
            warnings: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets the device ID from raw bytes, filling `device_id`, `device_id_bytes` and
    /// `device_id_guid` the way the base64 decoder does.
    pub fn set_device_id_bytes(&mut self, bytes: &[u8]) {
        let mut id = String::new();
        push_device_id(&mut id, bytes);
        self.device_id = Some(id);
        self.device_id_guid = device_id_guid(bytes);
        self.device_id_bytes = Some(bytes.to_vec());
    }

    /// The device ID bytes as uppercase hex.
    pub fn device_id_hex(&self) -> Option<String> {
        self.device_id_bytes.as_deref().map(hex::encode_upper)
    }

    /// The first value of a command parameter (name compared case-insensitively).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request-target or query could not be decoded. Byte offsets count from the start of the
/// decoded (binary) base64 query.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    #[error("empty request target or query")]
    Empty,
    #[error("no query string after {path:?}: an EAS command needs one (OPTIONS requests have none)")]
    MissingQuery { path: String },
    #[error("not base64 (and no Cmd= parameter, so not the plain form either): {detail}")]
    NotBase64 { detail: String },
    /// A fixed-size field (or a length byte) is cut off by the end of the data.
    #[error("decoded query ends at byte {total}: the {field} at byte {at} ({need} byte(s)) is missing")]
    Truncated {
        field: String,
        at: usize,
        need: usize,
        total: usize,
    },
    /// A length byte announces more bytes than are left.
    #[error("{field} length {len} at byte {at} runs past the end ({total} bytes)")]
    Overrun {
        field: String,
        len: usize,
        at: usize,
        total: usize,
    },
    #[error("device ID length 0 at byte {at}: the device ID must not be empty")]
    EmptyDeviceId { at: usize },
    /// [MS-ASHTTP] 2.2.1.1.1.1: the policy key is 0 or 4 bytes.
    #[error("policy key length {len} at byte {at}: only 0 or 4 are valid{hint}")]
    PolicyKeyLength { len: u8, at: usize, hint: String },
}

/// Why a [`RequestLine`] cannot be encoded as a base64 query.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("no protocol version: the base64 form carries it in its first byte")]
    MissingProtocolVersion,
    #[error("protocol version {0:?} does not fit the one-byte field (expected e.g. \"14.1\")")]
    BadProtocolVersion(String),
    #[error("no command")]
    MissingCommand,
    #[error("command {0} has no base64 command code ([MS-ASHTTP] 2.2.1.1.1.1.2); use the plain form")]
    NoCommandCode(String),
    #[error("no device ID (it must not be empty)")]
    MissingDeviceId,
    #[error("{field} is {len} bytes; a one-byte length allows at most 255")]
    TooLong { field: String, len: usize },
    #[error("parameter {0:?} has no base64 tag ([MS-ASHTTP] 2.2.1.1.1.1.3)")]
    UnknownParameter(String),
    #[error("parameter {name} value {value:?} is not hex bytes")]
    BadParameterValue { name: String, value: String },
}

// ---------------------------------------------------------------------------------------------
// Request-target and form selection
// ---------------------------------------------------------------------------------------------

/// Decodes the request-target of an EAS HTTP request line ([MS-ASHTTP] 2.2.1.1.1): an absolute URL
/// (`https://host/Microsoft-Server-ActiveSync?…`), the origin form (`/Microsoft-Server-ActiveSync?…`)
/// or a bare query (with or without a leading `?`; a bare query that starts with `/` is read as a
/// path). A whole request line (`POST /… HTTP/1.1`) is accepted too. A `#fragment` is ignored.
pub fn parse_request_target(target: &str) -> Result<RequestLine, QueryError> {
    let target = strip_request_line(target.trim());
    let target = target.split('#').next().unwrap_or_default();
    if target.is_empty() {
        return Err(QueryError::Empty);
    }
    let (path, query) = split_target(target);
    let query = query.map(str::trim).unwrap_or_default();
    if query.is_empty() {
        return if path.is_empty() {
            Err(QueryError::Empty)
        } else {
            Err(QueryError::MissingQuery { path: path.to_string() })
        };
    }
    let mut line = decode_query(query)?;
    line.path = path.to_string();
    Ok(line)
}

/// Decodes a query string (without the path) in either form: plain when it has a `Cmd=`
/// parameter, base64 otherwise. The returned `path` is empty.
pub fn decode_query(query: &str) -> Result<RequestLine, QueryError> {
    let query = query.trim();
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.is_empty() {
        return Err(QueryError::Empty);
    }
    if is_plain_query(query) {
        Ok(decode_plain_query(query))
    } else {
        decode_base64_query(query)
    }
}

/// True when some `&`-separated parameter is named `Cmd`, `User`, `DeviceId` or `DeviceType`
/// (case-insensitive): an OPTIONS request may carry the identity without a command. Base64 text
/// never contains `&`, and a base64 string that merely ends in `Cmd=` (or `User=`, …) has no
/// parameter of that name unless it is the whole query (which is then far too short to be a base64
/// query).
fn is_plain_query(query: &str) -> bool {
    query.split('&').any(|seg| {
        seg.split_once('=').is_some_and(|(name, _)| {
            ["cmd", "user", "deviceid", "devicetype"]
                .iter()
                .any(|n| name.trim().eq_ignore_ascii_case(n))
        })
    })
}

/// The start of the warning for a plain query without `Cmd=`; an OPTIONS request needs none, and
/// its reader drops the warning.
pub const NO_CMD_WARNING: &str = "plain query has no Cmd=";

/// `POST /path?q HTTP/1.1` → `/path?q`; anything else unchanged.
fn strip_request_line(s: &str) -> &str {
    const METHODS: &[&str] = &["POST", "GET", "OPTIONS", "HEAD", "PUT", "DELETE", "PATCH"];
    let mut parts = s.split_ascii_whitespace();
    match (parts.next(), parts.next()) {
        (Some(method), Some(target)) if METHODS.contains(&method) => target,
        _ => s,
    }
}

/// Splits a request-target into (path, query).
fn split_target(target: &str) -> (&str, Option<&str>) {
    let rest = match target.find("://") {
        Some(i) => {
            // absolute-form: skip scheme and authority
            let after = target.get(i + 3..).unwrap_or_default();
            match after.find(['/', '?']) {
                Some(j) => after.get(j..).unwrap_or_default(),
                None => return ("", None),
            }
        }
        None => target,
    };
    if rest.starts_with('/') {
        match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        }
    } else if let Some(q) = rest.strip_prefix('?') {
        ("", Some(q))
    } else if let Some((p, q)) = rest.split_once('?') {
        (p, Some(q))
    } else {
        ("", Some(rest))
    }
}

// ---------------------------------------------------------------------------------------------
// Plain text query (2.2.1.1.1.2)
// ---------------------------------------------------------------------------------------------

/// Decodes a plain text query ([MS-ASHTTP] 2.2.1.1.1.2). The spec grammar is
/// `Cmd=…&User=…&DeviceId=…&DeviceType=…*(&name=value)`; real clients use any order and any case
/// for the names, so this accepts both. Values are percent-decoded (`+` is kept as `+`: the query
/// is a URI query, not a form). Never fails: a missing or repeated field is a warning.
fn decode_plain_query(query: &str) -> RequestLine {
    let mut line = RequestLine::new(QueryForm::Plain);
    line.path = String::new();
    let mut seen: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();

    for seg in query.split('&') {
        if seg.is_empty() {
            continue;
        }
        let (raw_name, raw_value) = match seg.split_once('=') {
            Some((n, v)) => (n, v),
            None => {
                warnings.push(format!("query parameter {seg:?} has no '=' and no value"));
                (seg, "")
            }
        };
        let name = percent_decode_string(raw_name, "parameter name", &mut warnings);
        let value = percent_decode_string(raw_value, &name, &mut warnings);
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            warnings.push(format!(
                "query parameter {name} appears more than once (the first one is used)"
            ));
        } else {
            seen.push(lower.clone());
        }

        match lower.as_str() {
            "cmd" => {
                if line.command_raw.is_none() {
                    line.command = Command::from_name(&value);
                    if line.command.is_none() {
                        warnings.push(format!("unknown command Cmd={value:?}"));
                    }
                    line.command_raw = Some(value);
                }
            }
            "user" => {
                if line.user.is_none() {
                    line.user = Some(value);
                }
            }
            "deviceid" => {
                if line.device_id.is_none() {
                    match device_id_form(&value) {
                        DeviceIdForm::Grammar => {}
                        DeviceIdForm::Hyphenated => notes.push(format!(
                            "DeviceId {value:?} has hyphens: the grammar of [MS-ASHTTP] 2.2.1.1.1.2.3 \
                             allows letters and digits only, but real clients send hyphenated ids \
                             (GUIDs) and Exchange accepts them"
                        )),
                        DeviceIdForm::Invalid => warnings.push(format!(
                            "DeviceId {value:?} is not 1–32 letters or digits \
                             ([MS-ASHTTP] 2.2.1.1.1.2.3)"
                        )),
                    }
                    line.device_id_bytes = Some(value.as_bytes().to_vec());
                    line.device_id = Some(value);
                }
            }
            "devicetype" => {
                if line.device_type.is_none() {
                    line.device_type = Some(value);
                }
            }
            _ => {
                let canonical = PLAIN_PARAMETERS.iter().find(|p| p.eq_ignore_ascii_case(&name)).copied();
                match canonical {
                    Some("SaveInSent") => {
                        let flag = match value.as_str() {
                            "T" | "t" => Some(true),
                            "F" | "f" => Some(false),
                            _ => {
                                warnings.push(format!(
                                    "SaveInSent={value:?}: only T or F are valid \
                                     ([MS-ASHTTP] 2.2.1.1.1.2.5)"
                                ));
                                None
                            }
                        };
                        if line.save_in_sent.is_none() {
                            line.save_in_sent = flag;
                        }
                    }
                    Some(_) => {}
                    None => warnings.push(format!(
                        "query parameter {name} is not a command parameter of \
                         [MS-ASHTTP] 2.2.1.1.1.2.5"
                    )),
                }
                let name = canonical.map_or(name, str::to_string);
                line.parameters.push((name, value));
            }
        }
    }

    if line.command_raw.is_none() {
        warnings.push(format!(
            "{NO_CMD_WARNING} (every command request names one, [MS-ASHTTP] 2.2.1.1.1.2; \
             only OPTIONS goes without)"
        ));
    }
    for (field, present) in [
        ("User", line.user.is_some()),
        ("DeviceId", line.device_id.is_some()),
        ("DeviceType", line.device_type.is_some()),
    ] {
        if !present {
            warnings.push(format!(
                "plain query has no {field}= (required by [MS-ASHTTP] 2.2.1.1.1.2)"
            ));
        }
    }
    line.warnings = warnings;
    line.notes = notes;
    line
}

/// How a plain-query DeviceId compares with the grammar of [MS-ASHTTP] 2.2.1.1.1.2.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceIdForm {
    /// 1–32 letters or digits.
    Grammar,
    /// Letters and digits (1–32 of them) with hyphens between, as in a GUID: outside the grammar,
    /// common in practice.
    Hyphenated,
    /// Anything else: empty, too long, other characters.
    Invalid,
}

fn device_id_form(value: &str) -> DeviceIdForm {
    let alnum = value.bytes().filter(u8::is_ascii_alphanumeric).count();
    let only_allowed = value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !only_allowed || alnum == 0 || alnum > 32 {
        DeviceIdForm::Invalid
    } else if value.len() == alnum {
        DeviceIdForm::Grammar
    } else if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
        DeviceIdForm::Invalid
    } else {
        DeviceIdForm::Hyphenated
    }
}

// ---------------------------------------------------------------------------------------------
// Base64-encoded query (2.2.1.1.1.1)
// ---------------------------------------------------------------------------------------------

/// Standard alphabet, padding optional, non-zero trailing bits tolerated (URL-safe input is mapped
/// onto the standard alphabet first).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes a base64-encoded query ([MS-ASHTTP] 2.2.1.1.1.1). The text may be percent-encoded and
/// may use the standard (`+/`) or URL-safe (`-_`) alphabet, with or without `=` padding; a space
/// (a `+` mangled by form decoding) is read as `+` with a warning. A leading `?` is ignored.
pub fn decode_base64_query(query: &str) -> Result<RequestLine, QueryError> {
    let mut bytes = Vec::new();
    let spaces = base64_query_bytes(query, &mut Vec::new(), &mut bytes)?;
    let mut line = decode_base64_bytes(&bytes)?;
    if spaces {
        line.warnings.insert(
            0,
            "the base64 query contains spaces; read as '+' (the query was probably \
             form-decoded on the way)"
                .to_string(),
        );
    }
    Ok(line)
}

/// The bytes a base64-encoded query stands for, appended to `out` (`scratch` holds the text when
/// it must be rewritten first: percent escapes, spaces, the URL-safe alphabet); whether the text
/// held spaces. Allocates nothing once the buffers have grown: an IIS log holds millions of
/// these.
pub fn base64_query_bytes(query: &str, scratch: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<bool, QueryError> {
    let query = query.trim();
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.is_empty() {
        return Err(QueryError::Empty);
    }
    let rewrite = query.bytes().any(|b| matches!(b, b'%' | b' ' | b'-' | b'_'));
    let mut spaces = false;
    let text: &[u8] = if rewrite {
        scratch.clear();
        scratch.extend(percent_encoding::percent_decode_str(query));
        if std::str::from_utf8(scratch).is_err() {
            // Bytes that are not text are read as U+FFFD, which no base64 alphabet holds.
            let lossy = String::from_utf8_lossy(scratch).into_owned();
            scratch.clear();
            scratch.extend_from_slice(lossy.as_bytes());
        }
        for b in scratch.iter_mut() {
            *b = match *b {
                b' ' => {
                    spaces = true;
                    b'+'
                }
                b'-' => b'+',
                b'_' => b'/',
                b => b,
            };
        }
        scratch
    } else {
        query.as_bytes()
    };
    LENIENT
        .decode_vec(text, out)
        .map_err(|e| QueryError::NotBase64 { detail: e.to_string() })?;
    Ok(spaces)
}

/// The fields of a base64 query's bytes ([MS-ASHTTP] 2.2.1.1.1.1), borrowed and checked for
/// length, as the spec lays them out:
///
/// | field | size |
/// |---|---|
/// | protocol version | 1 (×10: 141 = 14.1) |
/// | command code | 1 (2.2.1.1.1.1.2) |
/// | locale | 2 (little-endian LCID) |
/// | device ID length, device ID | 1, n (n > 0) |
/// | policy key length, policy key | 1, 0 or 4 (little-endian u32) |
/// | device type length, device type | 1, n |
/// | command parameters | rest: tag 1, length 1, value (2.2.1.1.1.1.1, tags 2.2.1.1.1.1.3) |
///
/// Read without allocating; [`decode_base64_bytes`] builds a [`RequestLine`] with its warnings
/// from it.
pub struct Base64Fields<'a> {
    pub version: u8,
    pub code: u8,
    pub locale: u16,
    pub device_id: &'a [u8],
    pub policy_key: Option<u32>,
    pub device_type: &'a [u8],
    bytes: &'a [u8],
    /// Where the device type's length byte is (for warnings) and where the parameters start.
    type_at: usize,
    parameters_at: usize,
}

/// One command parameter of a base64 query: its tag, the tag's and the length byte's offsets, and
/// its value.
pub struct Base64Parameter<'a> {
    pub tag: u8,
    pub tag_at: usize,
    pub len_at: usize,
    pub value: &'a [u8],
}

impl<'a> Base64Fields<'a> {
    pub fn read(bytes: &'a [u8]) -> Result<Base64Fields<'a>, QueryError> {
        if bytes.is_empty() {
            return Err(QueryError::Empty);
        }
        let mut r = Reader { buf: bytes, pos: 0 };
        let version = r.u8("protocol version")?;
        let code = r.u8("command code")?;
        let locale = u16::from_le_bytes(r.array::<2>("locale")?);
        let at = r.pos;
        let len = r.u8("device ID length")?;
        if len == 0 {
            return Err(QueryError::EmptyDeviceId { at });
        }
        let device_id = r.take(usize::from(len), "device ID", at)?;
        let at = r.pos;
        let len = r.u8("policy key length")?;
        let policy_key = match len {
            0 => None,
            4 => {
                let key = r.take(4, "policy key", at)?;
                Some(u32::from_le_bytes(key.try_into().unwrap_or_default()))
            }
            _ => {
                return Err(QueryError::PolicyKeyLength {
                    len,
                    at,
                    hint: policy_key_hint(bytes, at),
                });
            }
        };
        let type_at = r.pos;
        let len = r.u8("device type length")?;
        let device_type = r.take(usize::from(len), "device type", type_at)?;
        Ok(Base64Fields {
            version,
            code,
            locale,
            device_id,
            policy_key,
            device_type,
            bytes,
            type_at,
            parameters_at: r.pos,
        })
    }

    /// The value of the first `User` parameter, once every parameter has been read (one cut off
    /// by the end of the bytes fails the query, as in [`decode_base64_bytes`]).
    pub fn user(&self) -> Result<Option<&'a [u8]>, QueryError> {
        let mut user = None;
        for p in self.parameters() {
            let p = p?;
            if p.tag == TAG_USER && user.is_none() {
                user = Some(p.value);
            }
        }
        Ok(user)
    }

    /// The command parameters in order; a parameter cut off by the end of the bytes is an error,
    /// and the last item.
    pub fn parameters(&self) -> impl Iterator<Item = Result<Base64Parameter<'a>, QueryError>> + 'a {
        let mut r = Reader {
            buf: self.bytes,
            pos: self.parameters_at,
        };
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed || r.at_end() {
                return None;
            }
            let tag_at = r.pos;
            let next = (|| {
                let tag = r.u8("parameter tag")?;
                // Named only when it is cut off (a query has millions of parameters to read).
                let name = || {
                    let n = parameter_name(tag).map_or_else(|| format!("tag {tag}"), str::to_string);
                    format!("parameter {n} (tag {tag})")
                };
                let len_at = r.pos;
                let len = r.u8("").map_err(|e| e.of_field(|| format!("length of {}", name())))?;
                let value = r.take(usize::from(len), "", len_at).map_err(|e| e.of_field(name))?;
                Ok(Base64Parameter {
                    tag,
                    tag_at,
                    len_at,
                    value,
                })
            })();
            failed = next.is_err();
            Some(next)
        })
    }
}

/// Decodes the byte sequence of a base64 query (after base64 decoding), [MS-ASHTTP] 2.2.1.1.1.1
/// (the layout: [`Base64Fields`]), with a warning for each value the spec does not allow.
pub fn decode_base64_bytes(bytes: &[u8]) -> Result<RequestLine, QueryError> {
    let fields = Base64Fields::read(bytes)?;
    let mut line = RequestLine::new(QueryForm::Base64);
    line.path = String::new();
    let mut warnings = Vec::new();

    let version = fields.version;
    line.protocol_version = Some(format!("{}.{}", version / 10, version % 10));
    if !BASE64_VERSIONS.contains(&version) {
        let v = format!("{}.{}", version / 10, version % 10);
        if version == 25 || version == 120 {
            warnings.push(format!(
                "protocol version {v} (byte {version}) must use the plain query, not base64 \
                 ([MS-ASHTTP] 2.2.1.1.1.1)"
            ));
        } else {
            warnings.push(format!(
                "unknown protocol version byte {version} ({v}); the base64 form allows \
                 12.1, 14.0, 14.1, 16.0, 16.1"
            ));
        }
    }

    let code = fields.code;
    line.command = Command::from_code(code);
    match line.command {
        Some(c) => line.command_raw = Some(c.name().to_string()),
        None => {
            line.command_raw = Some(format!("code {code}"));
            let why = if (5..=8).contains(&code) {
                "not assigned"
            } else {
                "unknown"
            };
            warnings.push(format!(
                "command code {code} at byte 1 is {why} ([MS-ASHTTP] 2.2.1.1.1.1.2)"
            ));
        }
    }
    line.locale = Some(fields.locale);
    line.set_device_id_bytes(fields.device_id);
    line.policy_key = fields.policy_key;
    if fields.device_type.is_empty() {
        let at = fields.type_at;
        warnings.push(format!("device type length 0 at byte {at}: the device type is empty"));
    }
    line.device_type = Some(bytes_to_string(fields.device_type, "device type", &mut warnings));

    let mut seen_tags: Vec<u8> = Vec::new();
    for parameter in fields.parameters() {
        let Base64Parameter { tag, tag_at, value, .. } = parameter?;
        let len = value.len();
        let known = PARAMETER_TAGS.iter().find(|(t, _, _)| *t == tag);
        let name = match known {
            Some((_, n, _)) => (*n).to_string(),
            None => format!("tag {tag}"),
        };
        let duplicate = seen_tags.contains(&tag);
        if duplicate {
            warnings.push(format!(
                "parameter {name} (tag {tag}) at byte {tag_at} appears more than once"
            ));
        } else {
            seen_tags.push(tag);
        }

        let text = match known {
            None => {
                warnings.push(format!(
                    "unknown parameter tag {tag} at byte {tag_at} ({len} byte value kept as hex)"
                ));
                hex_value(value)
            }
            Some((_, n, false)) => {
                warnings.push(format!(
                    "parameter tag {tag} ({n}) at byte {tag_at} is not in the current \
                     [MS-ASHTTP] 2.2.1.1.1.1.3 table (deprecated)"
                ));
                bytes_to_string(value, n, &mut warnings)
            }
            Some((TAG_OPTIONS, _, _)) => {
                if !duplicate {
                    apply_options(&mut line, value, tag_at, &mut warnings);
                }
                hex_value(value)
            }
            Some((t, n, _)) => {
                let s = bytes_to_string(value, n, &mut warnings);
                if *t == TAG_USER && line.user.is_none() {
                    line.user = Some(s.clone());
                }
                s
            }
        };
        line.parameters.push((name, text));
    }

    line.warnings = warnings;
    Ok(line)
}

/// Interprets the `Options` bitmask ([MS-ASHTTP] 2.2.1.1.1.1.3).
fn apply_options(line: &mut RequestLine, value: &[u8], at: usize, warnings: &mut Vec<String>) {
    let [bits] = value else {
        warnings.push(format!(
            "parameter Options at byte {at} has {} value bytes; expected 1 (not interpreted)",
            value.len()
        ));
        return;
    };
    let bits = *bits;
    let save = bits & OPTION_SAVE_IN_SENT != 0;
    let multipart = bits & OPTION_ACCEPT_MULTIPART != 0;
    let mail = matches!(
        line.command,
        Some(Command::SendMail | Command::SmartForward | Command::SmartReply)
    );
    let item_ops = line.command == Some(Command::ItemOperations);
    if save || mail {
        line.save_in_sent = Some(save);
    }
    if multipart || item_ops {
        line.accept_multipart = Some(multipart);
    }
    if save && !mail {
        warnings.push("Options has SaveInSent (0x01), valid only for SendMail, SmartForward, SmartReply".to_string());
    }
    if multipart && !item_ops {
        warnings.push("Options has AcceptMultiPart (0x02), valid only for ItemOperations".to_string());
    }
    let unknown = bits & !(OPTION_SAVE_IN_SENT | OPTION_ACCEPT_MULTIPART);
    if unknown != 0 {
        warnings.push(format!("Options has unknown bits 0x{unknown:02X}"));
    }
}

/// When the policy-key length is invalid, checks whether the bytes read as device type followed by
/// a policy key (the layout one client library writes) and says so; the query is not reparsed.
fn policy_key_hint(bytes: &[u8], at: usize) -> String {
    let Some(&type_len) = bytes.get(at) else {
        return String::new();
    };
    let type_start = at + 1;
    let type_end = type_start + usize::from(type_len);
    let Some(device_type) = bytes.get(type_start..type_end) else {
        return String::new();
    };
    if device_type.is_empty() || !device_type.iter().all(|b| b.is_ascii_graphic()) {
        return String::new();
    }
    let Some(&key_len) = bytes.get(type_end) else {
        return String::new();
    };
    if (key_len == 0 || key_len == 4) && bytes.len() >= type_end + 1 + usize::from(key_len) {
        format!(
            " (the bytes from byte {at} read as device type {:?} followed by a policy-key length \
             {key_len} at byte {type_end}: this client seems to write the device type before the \
             policy key, which [MS-ASHTTP] 2.2.1.1.1.1 does not allow)",
            String::from_utf8_lossy(device_type)
        )
    } else {
        String::new()
    }
}

impl QueryError {
    /// The same error for the field `field()` names (a cut-off field's name made only when it is
    /// cut off).
    fn of_field(self, field: impl FnOnce() -> String) -> QueryError {
        match self {
            QueryError::Truncated { at, need, total, .. } => QueryError::Truncated {
                field: field(),
                at,
                need,
                total,
            },
            QueryError::Overrun { len, at, total, .. } => QueryError::Overrun {
                field: field(),
                len,
                at,
                total,
            },
            e => e,
        }
    }
}

/// Bounds-checked reader over the decoded bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn truncated(&self, field: &str, need: usize) -> QueryError {
        QueryError::Truncated {
            field: field.to_string(),
            at: self.pos,
            need,
            total: self.buf.len(),
        }
    }

    fn u8(&mut self, field: &str) -> Result<u8, QueryError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.truncated(field, 1))?;
        self.pos += 1;
        Ok(b)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], QueryError> {
        let end = self.pos.saturating_add(N);
        let slice = self.buf.get(self.pos..end).ok_or_else(|| self.truncated(field, N))?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos = end;
        Ok(out)
    }

    /// `len` bytes announced by the length byte at `len_at`.
    fn take(&mut self, len: usize, field: &str, len_at: usize) -> Result<&'a [u8], QueryError> {
        let end = self.pos.saturating_add(len);
        let slice = self.buf.get(self.pos..end).ok_or(QueryError::Overrun {
            field: field.to_string(),
            len,
            at: len_at,
            total: self.buf.len(),
        })?;
        self.pos = end;
        Ok(slice)
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Encodes a request line as a base64 query ([MS-ASHTTP] 2.2.1.1.1.1), standard alphabet with
/// padding, not percent-encoded (`+`, `/`, `=` are legal in a URI query).
///
/// Uses `protocol_version`, `command` (or `command_raw` = `code N`), `locale` (0x0409 when
/// `None`), `device_id_bytes` (or the `device_id` text), `policy_key`, `device_type` (empty when
/// `None`) and `parameters` by name (`Options` and `tag N` values as hex, optional `0x`);
/// `SaveInSent`/`AcceptMultiPart` entries are skipped. A `User` parameter is added from `user`, and
/// an `Options` parameter from `save_in_sent`/`accept_multipart`, when `parameters` has none.
pub fn encode_base64_query(line: &RequestLine) -> Result<String, EncodeError> {
    encode_base64_bytes(line).map(|bytes| STANDARD.encode(bytes))
}

/// The byte sequence of [`encode_base64_query`] before base64 encoding.
pub fn encode_base64_bytes(line: &RequestLine) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();

    let version = line
        .protocol_version
        .as_deref()
        .ok_or(EncodeError::MissingProtocolVersion)?;
    out.push(parse_version_byte(version).ok_or_else(|| EncodeError::BadProtocolVersion(version.to_string()))?);

    let code = match (line.command, line.command_raw.as_deref()) {
        (Some(c), _) => c
            .code()
            .ok_or_else(|| EncodeError::NoCommandCode(c.name().to_string()))?,
        (None, Some(raw)) => match raw.strip_prefix("code ").map(str::parse::<u8>) {
            Some(Ok(code)) => code,
            _ => return Err(EncodeError::NoCommandCode(raw.to_string())),
        },
        (None, None) => return Err(EncodeError::MissingCommand),
    };
    out.push(code);
    out.extend_from_slice(&line.locale.unwrap_or(0x0409).to_le_bytes());

    let device_id: &[u8] = match (&line.device_id_bytes, &line.device_id) {
        (Some(b), _) => b,
        (None, Some(s)) => s.as_bytes(),
        (None, None) => &[],
    };
    if device_id.is_empty() {
        return Err(EncodeError::MissingDeviceId);
    }
    push_with_len(&mut out, "device ID", device_id)?;

    match line.policy_key {
        None => out.push(0),
        Some(key) => {
            out.push(4);
            out.extend_from_slice(&key.to_le_bytes());
        }
    }
    push_with_len(
        &mut out,
        "device type",
        line.device_type.as_deref().unwrap_or_default().as_bytes(),
    )?;

    let mut has_user = false;
    let mut has_options = false;
    for (name, value) in &line.parameters {
        if name.eq_ignore_ascii_case("SaveInSent") || name.eq_ignore_ascii_case("AcceptMultiPart") {
            continue;
        }
        let tag = match parameter_tag(name) {
            Some(t) => t,
            None => match name.strip_prefix("tag ").map(str::parse::<u8>) {
                Some(Ok(t)) => t,
                _ => return Err(EncodeError::UnknownParameter(name.clone())),
            },
        };
        let bytes = if tag == TAG_OPTIONS || parameter_name(tag).is_none() {
            parse_hex_value(value).ok_or_else(|| EncodeError::BadParameterValue {
                name: name.clone(),
                value: value.clone(),
            })?
        } else {
            value.as_bytes().to_vec()
        };
        has_user |= tag == TAG_USER;
        has_options |= tag == TAG_OPTIONS;
        out.push(tag);
        push_with_len(&mut out, &format!("parameter {name}"), &bytes)?;
    }
    if !has_user && let Some(user) = &line.user {
        out.push(TAG_USER);
        push_with_len(&mut out, "parameter User", user.as_bytes())?;
    }
    if !has_options {
        let mut bits = 0u8;
        if line.save_in_sent == Some(true) {
            bits |= OPTION_SAVE_IN_SENT;
        }
        if line.accept_multipart == Some(true) {
            bits |= OPTION_ACCEPT_MULTIPART;
        }
        if bits != 0 {
            out.extend_from_slice(&[TAG_OPTIONS, 1, bits]);
        }
    }
    Ok(out)
}

/// Encodes a request line as a plain text query ([MS-ASHTTP] 2.2.1.1.1.2), without the leading
/// `?`: `Cmd`, `User`, `DeviceId`, `DeviceType`, then the command parameters, every value
/// percent-encoded. From a base64 line: the `User` and `Options` parameters become `User=` and
/// `SaveInSent=T|F`; protocol version, locale, policy key and AcceptMultiPart have no place in the
/// plain query (they are headers) and are left out.
pub fn encode_plain_query(line: &RequestLine) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let cmd = match (line.command, &line.command_raw) {
        (_, Some(raw)) if line.form == QueryForm::Plain => raw.clone(),
        (Some(c), _) => c.name().to_string(),
        (None, Some(raw)) => raw.clone(),
        (None, None) => String::new(),
    };
    pairs.push(("Cmd", cmd));
    if let Some(user) = &line.user {
        pairs.push(("User", user.clone()));
    }
    if let Some(id) = &line.device_id {
        pairs.push(("DeviceId", id.clone()));
    }
    if let Some(t) = &line.device_type {
        pairs.push(("DeviceType", t.clone()));
    }
    let mut has_save = false;
    for (name, value) in &line.parameters {
        if name.eq_ignore_ascii_case("User") || name.eq_ignore_ascii_case("Options") {
            continue;
        }
        has_save |= name.eq_ignore_ascii_case("SaveInSent");
        pairs.push((name.as_str(), value.clone()));
    }
    if !has_save && let Some(save) = line.save_in_sent {
        pairs.push(("SaveInSent", if save { "T" } else { "F" }.to_string()));
    }
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn push_with_len(out: &mut Vec<u8>, field: &str, bytes: &[u8]) -> Result<(), EncodeError> {
    let len = u8::try_from(bytes.len()).map_err(|_| EncodeError::TooLong {
        field: field.to_string(),
        len: bytes.len(),
    })?;
    out.push(len);
    out.extend_from_slice(bytes);
    Ok(())
}

/// `"14.1"` → 141 (major × 10 + one-digit minor).
fn parse_version_byte(v: &str) -> Option<u8> {
    let (major, minor) = v.trim().split_once('.')?;
    let major: u8 = major.parse().ok()?;
    let minor: u8 = minor.parse().ok()?;
    if minor > 9 {
        return None;
    }
    major.checked_mul(10)?.checked_add(minor)
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// Appends the display form of base64 device-ID bytes: ASCII when every byte is a visible ASCII
/// character, otherwise uppercase hex (into the caller's buffer: the IIS reader shows millions).
pub fn push_device_id(out: &mut String, bytes: &[u8]) {
    if !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic()) {
        out.extend(bytes.iter().map(|&b| char::from(b)));
    } else {
        for b in bytes {
            let _ = std::fmt::Write::write_fmt(out, format_args!("{b:02X}"));
        }
    }
}

/// GUID form of a 16-byte binary device ID (Windows layout: Data1–Data3 little-endian).
fn device_id_guid(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    if b.iter().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    Some(format!(
        "{:08X}-{:04X}-{:04X}-{}-{}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        hex::encode_upper(&b[8..10]),
        hex::encode_upper(&b[10..16]),
    ))
}

fn hex_value(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode_upper(bytes))
}

fn parse_hex_value(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    hex::decode(s).ok()
}

fn bytes_to_string(bytes: &[u8], field: &str, warnings: &mut Vec<String>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            warnings.push(format!(
                "{field} is not valid UTF-8 (hex {}); shown with replacement characters",
                hex::encode_upper(bytes)
            ));
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

fn percent_decode_string(s: &str, field: &str, warnings: &mut Vec<String>) -> String {
    let bytes = percent_decode(s);
    bytes_to_string(&bytes, field, warnings)
}

/// `%XX` → byte (the `percent-encoding` crate); a `%` not followed by two hex digits is kept as
/// is, and `+` is not a space.
fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// The locale field as a reader wants it: `en-US (0x0409)`, or the number alone for an LCID
/// `locales.tsv` does not list.
pub fn locale_label(lcid: u16) -> String {
    static LOCALES: std::sync::OnceLock<Vec<(u16, &'static str)>> = std::sync::OnceLock::new();
    // The build checked the file (`locales_tsv::rows`).
    let all = LOCALES.get_or_init(|| super::locales_tsv::rows(include_str!("locales.tsv")).unwrap_or_default());
    match all.binary_search_by_key(&lcid, |(l, _)| *l) {
        Ok(k) => format!("{} (0x{lcid:04X})", all[k].1),
        Err(_) => format!("0x{lcid:04X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC_EXAMPLE: &str = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";
    const SYNTHETIC: &str = "oRMJBBBTWU5USEVUSUNERVYwMDAxBNIClkkHQW5kcm9pZAgEamRvZQcBAg==";

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    fn synthetic_bytes() -> Vec<u8> {
        STANDARD.decode(SYNTHETIC).unwrap()
    }

    fn check_synthetic(l: &RequestLine) {
        assert_eq!(l.form, QueryForm::Base64);
        assert_eq!(l.protocol_version.as_deref(), Some("16.1"));
        assert_eq!(l.command, Some(Command::ItemOperations));
        assert_eq!(l.command_raw.as_deref(), Some("ItemOperations"));
        assert_eq!(l.locale, Some(0x0409));
        assert_eq!(l.device_id.as_deref(), Some("SYNTHETICDEV0001"));
        assert_eq!(l.device_id_bytes.as_deref(), Some(&b"SYNTHETICDEV0001"[..]));
        assert_eq!(l.device_id_guid, None, "16 ASCII bytes are not shown as a GUID");
        assert_eq!(l.policy_key, Some(1_234_567_890));
        assert_eq!(l.device_type.as_deref(), Some("Android"));
        assert_eq!(l.user.as_deref(), Some("jdoe"));
        assert_eq!(
            l.parameters,
            vec![
                ("User".to_string(), "jdoe".to_string()),
                ("Options".to_string(), "0x02".to_string())
            ]
        );
        assert_eq!(l.accept_multipart, Some(true));
        assert_eq!(l.save_in_sent, None);
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn spec_worked_example() {
        let l = parse_request_target(&format!("/Microsoft-Server-ActiveSync?{SPEC_EXAMPLE}")).unwrap();
        assert_eq!(l.form, QueryForm::Base64);
        assert_eq!(l.path, "/Microsoft-Server-ActiveSync");
        assert_eq!(l.protocol_version.as_deref(), Some("14.0"));
        assert_eq!(l.command, Some(Command::Sync));
        assert_eq!(l.locale, Some(0x0409));
        assert_eq!(l.device_id.as_deref(), Some("v140Device"));
        assert_eq!(l.policy_key, None);
        assert_eq!(l.device_type.as_deref(), Some("SmartPhone"));
        assert_eq!(l.user, None);
        assert!(l.parameters.is_empty());
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        // the encoder reproduces the spec's string exactly
        assert_eq!(encode_base64_query(&l).unwrap(), SPEC_EXAMPLE);
    }

    #[test]
    fn synthetic_example_all_spellings() {
        check_synthetic(&decode_base64_query(SYNTHETIC).unwrap());
        // percent-encoded padding
        let pct = SYNTHETIC.replace('=', "%3D");
        check_synthetic(&decode_base64_query(&pct).unwrap());
        // URL-safe, unpadded
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(synthetic_bytes());
        assert!(!url_safe.ends_with('='));
        check_synthetic(&decode_base64_query(&url_safe).unwrap());
        // standard, unpadded
        check_synthetic(&decode_base64_query(SYNTHETIC.trim_end_matches('=')).unwrap());
        // through the request-target parser, absolute URL
        let l = parse_request_target(&format!("https://mail.contoso.com/Microsoft-Server-ActiveSync?{pct}")).unwrap();
        check_synthetic(&l);
        assert_eq!(l.path, "/Microsoft-Server-ActiveSync");
        assert_eq!(encode_base64_query(&l).unwrap(), SYNTHETIC);
    }

    #[test]
    fn url_safe_characters_and_percent_encoded_plus_slash() {
        // bytes chosen so the standard encoding has both '+' and '/'
        let mut line = RequestLine::new(QueryForm::Base64);
        line.protocol_version = Some("14.1".into());
        line.command = Some(Command::Ping);
        line.set_device_id_bytes(&[0xfb, 0xef, 0xff, 0xfe, 0x3e, 0x3f]);
        line.device_type = Some("WP8".into());
        let std = encode_base64_query(&line).unwrap();
        assert!(std.contains('+') && std.contains('/'), "{std}");
        let url = std.replace('+', "-").replace('/', "_");
        let pct = std.replace('+', "%2B").replace('/', "%2F");
        let spaced = std.replace('+', " ");
        for q in [&std, &url, &pct, &spaced] {
            let l = decode_base64_query(q).unwrap();
            assert_eq!(l.device_id_bytes, line.device_id_bytes, "{q}");
            assert_eq!(l.device_id.as_deref(), Some("FBEFFFFE3E3F"));
        }
        assert!(decode_base64_query(&spaced).unwrap().warnings[0].contains("spaces"));
    }

    #[test]
    fn locales_are_named() {
        assert_eq!(locale_label(0x0409), "en-US (0x0409)");
        assert_eq!(locale_label(0x0C0A), "es-ES (0x0C0A)");
        assert_eq!(locale_label(0x7777), "0x7777");
    }

    #[test]
    fn plain_query_forms() {
        let q = "Cmd=Sync&User=contoso%5Cjdoe&DeviceId=SYNTHDEV0001&DeviceType=iPhone";
        for target in [
            format!("/Microsoft-Server-ActiveSync?{q}"),
            format!("https://mail.contoso.com/Microsoft-Server-ActiveSync?{q}"),
            format!("http://mail.contoso.com:8080/Microsoft-Server-ActiveSync?{q}"),
            format!("/Microsoft-Server-ActiveSync/default.eas?{q}"),
            format!("POST /Microsoft-Server-ActiveSync?{q} HTTP/1.1"),
            format!("?{q}"),
            q.to_string(),
        ] {
            let l = parse_request_target(&target).unwrap();
            assert_eq!(l.form, QueryForm::Plain, "{target}");
            assert_eq!(l.command, Some(Command::Sync));
            assert_eq!(l.command_raw.as_deref(), Some("Sync"));
            assert_eq!(l.user.as_deref(), Some("contoso\\jdoe"));
            assert_eq!(l.device_id.as_deref(), Some("SYNTHDEV0001"));
            assert_eq!(l.device_type.as_deref(), Some("iPhone"));
            assert_eq!(l.protocol_version, None);
            assert_eq!(l.locale, None);
            assert_eq!(l.policy_key, None);
            assert!(l.parameters.is_empty());
            assert!(l.warnings.is_empty(), "{target}: {:?}", l.warnings);
            let expected_path = if target.contains("default.eas") {
                "/Microsoft-Server-ActiveSync/default.eas"
            } else if target.contains("Microsoft-Server-ActiveSync") {
                "/Microsoft-Server-ActiveSync"
            } else {
                ""
            };
            assert_eq!(l.path, expected_path, "{target}");
        }
    }

    #[test]
    fn plain_any_order_and_case_upn() {
        let l = parse_request_target(
            "/Microsoft-Server-ActiveSync?devicetype=Android&DEVICEID=abc123&user=jdoe%40contoso.com&cmd=foldersync",
        )
        .unwrap();
        assert_eq!(l.form, QueryForm::Plain);
        assert_eq!(l.command, Some(Command::FolderSync));
        assert_eq!(l.command_raw.as_deref(), Some("foldersync"));
        assert_eq!(l.user.as_deref(), Some("jdoe@contoso.com"));
        assert_eq!(l.device_id.as_deref(), Some("abc123"));
        assert_eq!(l.device_type.as_deref(), Some("Android"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn plain_sendmail_smartreply_parameters() {
        let l = parse_request_target(
            "/Microsoft-Server-ActiveSync?Cmd=SmartReply&User=jdoe&DeviceId=D1&DeviceType=iPhone\
             &ItemId=5%3A12&CollectionId=5&SaveInSent=T",
        )
        .unwrap();
        assert_eq!(l.command, Some(Command::SmartReply));
        assert_eq!(l.save_in_sent, Some(true));
        assert_eq!(l.accept_multipart, None);
        assert_eq!(l.parameter("itemid"), Some("5:12"));
        assert_eq!(l.parameter("CollectionId"), Some("5"));
        assert_eq!(
            l.parameters,
            vec![
                ("ItemId".into(), "5:12".into()),
                ("CollectionId".into(), "5".into()),
                ("SaveInSent".into(), "T".into())
            ]
        );
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);

        let l = parse_request_target(
            "/Microsoft-Server-ActiveSync?Cmd=SendMail&User=jdoe&DeviceId=D1&DeviceType=iPhone&saveinsent=F",
        )
        .unwrap();
        assert_eq!(l.command, Some(Command::SendMail));
        assert_eq!(l.save_in_sent, Some(false));
        assert_eq!(l.parameters, vec![("SaveInSent".into(), "F".into())]);
    }

    #[test]
    fn hyphenated_device_ids_are_information_not_violations() {
        let l =
            decode_query("Cmd=Sync&User=u&DeviceId=3F2504E0-4F89-11D3-9A0C-0305E82C3301&DeviceType=Outlook").unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.notes.len(), 1, "{:?}", l.notes);
        assert!(l.notes[0].contains("has hyphens") && l.notes[0].contains("[MS-ASHTTP] 2.2.1.1.1.2.3"));
        assert_eq!(l.device_id.as_deref(), Some("3F2504E0-4F89-11D3-9A0C-0305E82C3301"));
        for bad in [
            "-abc",
            "abc-",
            "a--b",
            "-",
            "a_b",
            &"a".repeat(33),
            &format!("{}-1", "a".repeat(32)),
        ] {
            let l = decode_query(&format!("Cmd=Sync&User=u&DeviceId={bad}&DeviceType=t")).unwrap();
            assert!(l.notes.is_empty(), "{bad}");
            assert!(
                l.warnings.iter().any(|w| w.contains("not 1–32 letters")),
                "{bad}: {:?}",
                l.warnings
            );
        }
        let l = decode_query("Cmd=Sync&User=u&DeviceId=ABC123&DeviceType=t").unwrap();
        assert!(l.warnings.is_empty() && l.notes.is_empty());
    }

    #[test]
    fn identity_without_a_command_is_a_plain_query() {
        // What real clients send with OPTIONS.
        let l = parse_request_target("/Microsoft-Server-ActiveSync?User=jdoe&DeviceId=DEV1&DeviceType=iPhone").unwrap();
        assert_eq!(l.form, QueryForm::Plain);
        assert_eq!(
            (l.user.as_deref(), l.device_id.as_deref(), l.device_type.as_deref()),
            (Some("jdoe"), Some("DEV1"), Some("iPhone"))
        );
        assert_eq!((l.command, l.command_raw), (None, None));
        assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
        assert!(l.warnings[0].starts_with(NO_CMD_WARNING));
        // A base64 query is still one.
        let l = decode_query("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l").unwrap();
        assert_eq!(l.form, QueryForm::Base64);
    }

    #[test]
    fn plain_warnings() {
        let l = decode_query("Cmd=Frobnicate&Cmd=Sync&DeviceId=bad-id!&Foo=1&SaveInSent=maybe&bare").unwrap();
        assert_eq!(l.command, None);
        assert_eq!(l.command_raw.as_deref(), Some("Frobnicate"));
        let w = l.warnings.join("\n");
        for needle in [
            "unknown command",
            "more than once",
            "not 1–32 letters",
            "Foo is not a command parameter",
            "SaveInSent=\"maybe\"",
            "no '='",
            "no User=",
            "no DeviceType=",
        ] {
            assert!(w.contains(needle), "missing {needle:?} in\n{w}");
        }
        assert_eq!(l.save_in_sent, None);
    }

    #[test]
    fn base64_sendmail_save_in_sent_and_params() {
        let mut line = RequestLine::new(QueryForm::Base64);
        line.protocol_version = Some("14.1".into());
        line.command = Some(Command::SmartForward);
        line.locale = Some(0x0407);
        line.set_device_id_bytes(b"ABC");
        line.device_type = Some("SP".into());
        line.parameters = vec![
            ("CollectionId".into(), "7".into()),
            ("ItemId".into(), "7:33".into()),
            ("LongId".into(), "RgAAAA".into()),
            ("Occurrence".into(), "2026-01-01T00:00:00.000Z".into()),
            ("AttachmentName".into(), "a.txt".into()),
        ];
        line.save_in_sent = Some(true);
        line.user = Some("contoso\\jdoe".into());
        let q = encode_base64_query(&line).unwrap();
        let l = decode_base64_query(&q).unwrap();
        assert_eq!(l.command, Some(Command::SmartForward));
        assert_eq!(l.locale, Some(0x0407));
        assert_eq!(l.save_in_sent, Some(true));
        assert_eq!(l.accept_multipart, None);
        assert_eq!(l.user.as_deref(), Some("contoso\\jdoe"));
        assert_eq!(l.parameter("ItemId"), Some("7:33"));
        assert_eq!(l.parameter("Occurrence"), Some("2026-01-01T00:00:00.000Z"));
        assert_eq!(l.parameter("Options"), Some("0x01"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);

        // SendMail with Options = 0 → SaveInSent explicitly false
        let mut bytes = vec![141, 1, 9, 4, 1, b'X', 0, 0, 7, 1, 0];
        let l = decode_base64_bytes(&bytes).unwrap();
        assert_eq!(l.command, Some(Command::SendMail));
        assert_eq!(l.save_in_sent, Some(false));
        // Options with AcceptMultiPart on SendMail → warning
        bytes[10] = 0x03;
        let l = decode_base64_bytes(&bytes).unwrap();
        assert_eq!(l.save_in_sent, Some(true));
        assert_eq!(l.accept_multipart, Some(true));
        assert!(
            l.warnings.iter().any(|w| w.contains("AcceptMultiPart")),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn base64_warnings_unknown_code_tag_duplicates() {
        // version 12.0 (plain-only), code 7 (not assigned), unknown tag 9, deprecated tag 2,
        // duplicate User, Options of 2 bytes
        let bytes = [
            120, 7, 9, 4, 1, b'X', 0, 2, b'S', b'P', 9, 2, 0xAB, 0xCD, 2, 1, b'C', 8, 1, b'a', 8, 1, b'b', 7, 2, 1, 2,
        ];
        let l = decode_base64_bytes(&bytes).unwrap();
        assert_eq!(l.command, None);
        assert_eq!(l.command_raw.as_deref(), Some("code 7"));
        assert_eq!(l.protocol_version.as_deref(), Some("12.0"));
        assert_eq!(l.user.as_deref(), Some("a"));
        assert_eq!(l.parameter("tag 9"), Some("0xABCD"));
        assert_eq!(l.parameter("CollectionName"), Some("C"));
        assert_eq!(l.parameter("Options"), Some("0x0102"));
        assert_eq!(l.save_in_sent, None);
        let w = l.warnings.join("\n");
        for needle in [
            "must use the plain query",
            "command code 7 at byte 1 is not assigned",
            "unknown parameter tag 9 at byte 10",
            "tag 2 (CollectionName)",
            "User (tag 8) at byte 20 appears more than once",
            "2 value bytes",
        ] {
            assert!(w.contains(needle), "missing {needle:?} in\n{w}");
        }
        // round trip keeps the odd parameters byte for byte
        let mut again = l.clone();
        again.warnings.clear();
        assert_eq!(encode_base64_bytes(&again).unwrap(), bytes);

        let l = decode_base64_bytes(&[161, 200, 9, 4, 1, b'X', 0, 0]).unwrap();
        assert_eq!(l.command_raw.as_deref(), Some("code 200"));
        assert!(l.warnings.iter().any(|w| w.contains("code 200 at byte 1 is unknown")));
        assert_eq!(encode_base64_bytes(&l).unwrap(), [161, 200, 9, 4, 1, b'X', 0, 0]);
    }

    #[test]
    fn binary_device_id_hex_and_guid() {
        let guid = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
        ];
        let mut bytes = vec![161, 0, 9, 4, 16];
        bytes.extend_from_slice(&guid);
        bytes.extend_from_slice(&[0, 3, b'W', b'P', b'8']);
        let l = decode_base64_bytes(&bytes).unwrap();
        assert_eq!(l.device_id.as_deref(), Some("33221100554477668899AABBCCDDEEFF"));
        assert_eq!(
            l.device_id_guid.as_deref(),
            Some("00112233-4455-6677-8899-AABBCCDDEEFF")
        );
        assert_eq!(l.device_id_hex().as_deref(), Some("33221100554477668899AABBCCDDEEFF"));
        // non-printable but not 16 bytes: hex, no GUID
        let l = decode_base64_bytes(&[161, 0, 9, 4, 2, 0x00, 0x41, 0, 0]).unwrap();
        assert_eq!(l.device_id.as_deref(), Some("0041"));
        assert_eq!(l.device_id_guid, None);
    }

    #[test]
    fn error_messages() {
        let e = decode_base64_bytes(&[141, 0, 9, 4, 40, b'a', b'b']).unwrap_err();
        assert_eq!(
            e,
            QueryError::Overrun {
                field: "device ID".into(),
                len: 40,
                at: 4,
                total: 7
            }
        );
        assert_eq!(
            e.to_string(),
            "device ID length 40 at byte 4 runs past the end (7 bytes)"
        );

        let e = decode_base64_bytes(&[141, 0, 9, 4, 0, 0, 0]).unwrap_err();
        assert_eq!(e, QueryError::EmptyDeviceId { at: 4 });
        assert!(e.to_string().contains("device ID length 0 at byte 4"));

        let e = decode_base64_bytes(&[141, 0, 9, 4, 1, b'X', 3, 1, 2, 3, 0]).unwrap_err();
        assert!(matches!(e, QueryError::PolicyKeyLength { len: 3, at: 6, .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("policy key length 3 at byte 6: only 0 or 4 are valid"),
            "{e}"
        );

        let e = decode_base64_bytes(&[141, 0, 9]).unwrap_err();
        assert_eq!(
            e,
            QueryError::Truncated {
                field: "locale".into(),
                at: 2,
                need: 2,
                total: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "decoded query ends at byte 3: the locale at byte 2 (2 byte(s)) is missing"
        );
    }

    #[test]
    fn device_type_before_policy_key_is_reported() {
        // version, code, locale, devid "X", then device type "Android" BEFORE policy key 4 bytes
        let mut bytes = vec![141, 0, 9, 4, 1, b'X', 7];
        bytes.extend_from_slice(b"Android");
        bytes.extend_from_slice(&[4, 1, 2, 3, 4]);
        let e = decode_base64_bytes(&bytes).unwrap_err();
        match &e {
            QueryError::PolicyKeyLength { len, at, hint } => {
                assert_eq!((*len, *at), (7, 6));
                assert!(hint.contains("\"Android\""), "{hint}");
                assert!(hint.contains("device type before the policy key"), "{hint}");
            }
            other => panic!("{other:?}"),
        }
        // an invalid length that does not fit that layout gets no hint
        let e = decode_base64_bytes(&[141, 0, 9, 4, 1, b'X', 3, 1, 2, 3, 0]).unwrap_err();
        assert!(matches!(e, QueryError::PolicyKeyLength { ref hint, .. } if hint.is_empty()));
    }

    #[test]
    fn truncated_at_every_field() {
        let full = synthetic_bytes();
        assert_eq!(full.len(), 43);
        // field boundaries where a shorter query is still complete: after the device type (34)
        // and after each parameter (40, 43)
        for n in 0..full.len() {
            let r = decode_base64_bytes(&full[..n]);
            match n {
                34 | 40 => assert!(r.is_ok(), "prefix {n}: {r:?}"),
                _ => assert!(r.is_err(), "prefix {n} decoded: {r:?}"),
            }
        }
        let err = |n: usize| decode_base64_bytes(&full[..n]).unwrap_err();
        assert_eq!(err(0), QueryError::Empty);
        assert!(matches!(err(1), QueryError::Truncated { ref field, at: 1, .. } if field == "command code"));
        assert!(matches!(err(2), QueryError::Truncated { ref field, at: 2, .. } if field == "locale"));
        assert!(matches!(err(3), QueryError::Truncated { ref field, at: 2, .. } if field == "locale"));
        assert!(matches!(err(4), QueryError::Truncated { ref field, at: 4, .. } if field == "device ID length"));
        assert!(
            matches!(err(10), QueryError::Overrun { ref field, len: 16, at: 4, total: 10 } if field == "device ID")
        );
        assert!(matches!(err(21), QueryError::Truncated { ref field, at: 21, .. } if field == "policy key length"));
        assert!(matches!(err(24), QueryError::Overrun { ref field, len: 4, at: 21, .. } if field == "policy key"));
        assert!(matches!(err(26), QueryError::Truncated { ref field, at: 26, .. } if field == "device type length"));
        assert!(matches!(err(30), QueryError::Overrun { ref field, len: 7, at: 26, .. } if field == "device type"));
        assert!(
            matches!(err(35), QueryError::Truncated { ref field, at: 35, .. } if field.contains("length of parameter User"))
        );
        assert!(matches!(err(38), QueryError::Overrun { ref field, len: 4, at: 35, .. } if field.contains("User")));
        assert!(matches!(err(42), QueryError::Overrun { ref field, len: 1, at: 41, .. } if field.contains("Options")));
        // and through the text decoder
        assert!(matches!(
            decode_base64_query(&b64(&full[..10])),
            Err(QueryError::Overrun { .. })
        ));
    }

    #[test]
    fn garbage_and_empty() {
        assert_eq!(parse_request_target(""), Err(QueryError::Empty));
        assert_eq!(parse_request_target("   "), Err(QueryError::Empty));
        assert_eq!(parse_request_target("?"), Err(QueryError::Empty));
        assert_eq!(decode_base64_query(""), Err(QueryError::Empty));
        assert_eq!(decode_query("?"), Err(QueryError::Empty));
        assert_eq!(
            parse_request_target("/Microsoft-Server-ActiveSync"),
            Err(QueryError::MissingQuery {
                path: "/Microsoft-Server-ActiveSync".into()
            })
        );
        assert!(matches!(
            parse_request_target("/Microsoft-Server-ActiveSync?"),
            Err(QueryError::MissingQuery { .. })
        ));
        for garbage in [
            "!!!!",
            "foo=bar&x=y",
            "%ZZ%",
            "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l===",
            "ä",
        ] {
            let e = parse_request_target(&format!("/Microsoft-Server-ActiveSync?{garbage}")).unwrap_err();
            assert!(matches!(e, QueryError::NotBase64 { .. }), "{garbage}: {e:?}");
            assert!(e.to_string().starts_with("not base64"), "{e}");
        }
        // valid base64 but too short / meaningless
        assert!(matches!(
            decode_base64_query("AA"),
            Err(QueryError::Truncated { at: 1, .. })
        ));
        // a base64 query that happens to end in "Cmd=" is still base64
        assert!(!is_plain_query("jAAJBAp2Cmd="));
        assert!(is_plain_query("x=1&cmd=Sync"));
    }

    #[test]
    fn plain_round_trip_and_conversion() {
        let q = "Cmd=SendMail&User=contoso%5Cjdoe&DeviceId=SYNTHDEV0001&DeviceType=iPhone&ItemId=5%3A1&SaveInSent=T";
        let l = decode_query(q).unwrap();
        assert_eq!(encode_plain_query(&l), q);
        // plain → base64 needs a protocol version (a header in the plain form)
        assert_eq!(encode_base64_query(&l), Err(EncodeError::MissingProtocolVersion));
        let mut with_version = l.clone();
        with_version.protocol_version = Some("14.1".into());
        let b = decode_base64_query(&encode_base64_query(&with_version).unwrap()).unwrap();
        assert_eq!(b.command, Some(Command::SendMail));
        assert_eq!(b.user.as_deref(), Some("contoso\\jdoe"));
        assert_eq!(b.device_id.as_deref(), Some("SYNTHDEV0001"));
        assert_eq!(b.save_in_sent, Some(true));
        assert_eq!(b.parameter("ItemId"), Some("5:1"));
        // base64 → plain
        let s = decode_base64_query(SYNTHETIC).unwrap();
        assert_eq!(
            encode_plain_query(&s),
            "Cmd=ItemOperations&User=jdoe&DeviceId=SYNTHETICDEV0001&DeviceType=Android"
        );
    }

    #[test]
    fn encode_errors() {
        let mut l = RequestLine::new(QueryForm::Base64);
        assert_eq!(encode_base64_query(&l), Err(EncodeError::MissingProtocolVersion));
        l.protocol_version = Some("fourteen".into());
        assert!(matches!(
            encode_base64_query(&l),
            Err(EncodeError::BadProtocolVersion(_))
        ));
        l.protocol_version = Some("14.1".into());
        assert_eq!(encode_base64_query(&l), Err(EncodeError::MissingCommand));
        l.command = Some(Command::GetHierarchy);
        assert!(matches!(encode_base64_query(&l), Err(EncodeError::NoCommandCode(_))));
        l.command = Some(Command::Sync);
        assert_eq!(encode_base64_query(&l), Err(EncodeError::MissingDeviceId));
        l.set_device_id_bytes(&[b'a'; 256]);
        assert!(matches!(
            encode_base64_query(&l),
            Err(EncodeError::TooLong { len: 256, .. })
        ));
        l.set_device_id_bytes(b"a");
        l.parameters.push(("Frob".into(), "x".into()));
        assert!(matches!(encode_base64_query(&l), Err(EncodeError::UnknownParameter(_))));
        l.parameters = vec![("Options".into(), "zz".into())];
        assert!(matches!(
            encode_base64_query(&l),
            Err(EncodeError::BadParameterValue { .. })
        ));
    }

    fn arb_line() -> impl Strategy<Value = RequestLine> {
        let codes: Vec<u8> = Command::all().filter_map(Command::code).collect();
        (
            prop::sample::select(vec![121u8, 140, 141, 160, 161]),
            prop::sample::select(codes),
            any::<u16>(),
            prop::collection::vec(any::<u8>(), 1..=255),
            prop::option::of(any::<u32>()),
            "[A-Za-z0-9]{0,40}",
            prop::option::of("[a-z\\\\@.]{1,30}"),
            prop::collection::vec((0usize..6, "[ -~]{0,60}"), 0..5),
            prop::option::of(0u8..4),
        )
            .prop_map(|(version, code, locale, dev, key, dtype, user, params, options)| {
                let mut l = RequestLine::new(QueryForm::Base64);
                l.path = String::new();
                l.protocol_version = Some(format!("{}.{}", version / 10, version % 10));
                l.command = Command::from_code(code);
                l.locale = Some(locale);
                l.set_device_id_bytes(&dev);
                l.policy_key = key;
                l.device_type = Some(dtype);
                l.user = user;
                let names = [
                    "AttachmentName",
                    "CollectionId",
                    "ItemId",
                    "LongId",
                    "Occurrence",
                    "tag 42",
                ];
                l.parameters = params
                    .into_iter()
                    .map(|(i, v)| {
                        let v = if i == 5 { hex_value(v.as_bytes()) } else { v };
                        (names[i].to_string(), v)
                    })
                    .collect();
                if let Some(bits) = options {
                    l.parameters.push(("Options".into(), format!("0x{bits:02X}")));
                }
                l
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn encode_decode_round_trip(line in arb_line()) {
            let q = encode_base64_query(&line).unwrap();
            let d = decode_base64_query(&q).unwrap();
            prop_assert_eq!(&d.protocol_version, &line.protocol_version);
            prop_assert_eq!(d.command, line.command);
            prop_assert_eq!(d.locale, line.locale);
            prop_assert_eq!(&d.device_id_bytes, &line.device_id_bytes);
            prop_assert_eq!(&d.device_id, &line.device_id);
            prop_assert_eq!(&d.device_id_guid, &line.device_id_guid);
            prop_assert_eq!(d.policy_key, line.policy_key);
            prop_assert_eq!(&d.device_type, &line.device_type);
            prop_assert_eq!(&d.user, &line.user);
            for (n, v) in &line.parameters {
                prop_assert!(d.parameters.contains(&(n.clone(), v.clone())), "{} missing", n);
            }
            // re-encoding the decoded line gives the same string
            prop_assert_eq!(encode_base64_query(&d).unwrap(), q.clone());
            // and the URL-safe unpadded spelling decodes the same
            let url = q.trim_end_matches('=').replace('+', "-").replace('/', "_");
            prop_assert_eq!(decode_base64_query(&url).unwrap(), d);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let q = b64(&bytes);
            let _ = decode_base64_query(&q);
            let _ = parse_request_target(&format!("/Microsoft-Server-ActiveSync?{q}"));
            let _ = decode_base64_bytes(&bytes);
        }

        #[test]
        fn random_header_prefix_never_panics(
            head in prop::collection::vec(any::<u8>(), 0..8),
            tail in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            // a plausible start (valid version/code/locale) followed by random lengths and values
            let mut bytes = vec![141, 0, 9, 4];
            bytes.extend(head);
            bytes.extend(tail);
            let _ = decode_base64_bytes(&bytes);
            let _ = decode_base64_query(&b64(&bytes));
        }

        #[test]
        fn random_text_never_panics(s in "\\PC{0,200}") {
            let _ = parse_request_target(&s);
            let _ = decode_query(&s);
            let _ = decode_base64_query(&s);
        }
    }
}
