//! The fields and flags of the filter language (`cmd:`, `http:`, …; `throttled`, `tunnel`, …),
//! written once: [`FIELDS`] has one row per field with its aliases, the values it takes, what it
//! matches and example queries; [`FLAGS`] one row per flag. The parser looks fields and flags up
//! here (and suggests the closest name for a misspelt one), its error hints quote the examples
//! and list the flags, the module documentation points here, and the window's filter help lists
//! the names from it.

/// Bare-word flags (also `is:flag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    Throttled,
    Highlighted,
    Aborted,
    Tunnel,
    Generated,
    Lost,
    Eas,
}

/// The fields a `field:value` term can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Cmd,
    Http,
    Status,
    Folder,
    Device,
    User,
    Version,
    SyncKey,
    Host,
    Url,
    Header,
    Index,
    /// Where the session stands against an attached mailbox log (`analysis::align`).
    Log,
    /// IIS logs: the server that logged the line (or the capture's server IP).
    Server,
    /// The client's IP (and an IIS line's X-Forwarded-For).
    Ip,
    /// IIS logs: an `Error:` tag of the `Log=` field.
    Error,
    /// IIS logs: `time-taken` (ms); captures: the session's duration.
    TimeTaken,
}

/// One field of the filter language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDoc {
    /// The name as typed (lower case, without the `:`): `cmd`.
    pub name: &'static str,
    /// Other names for the same field: `command`.
    pub aliases: &'static [&'static str],
    /// The values it takes: `` `503`, `5xx`, `400-499`, `none` ``.
    pub values: &'static str,
    /// What a session must have to match.
    pub matches: &'static str,
    /// Example queries (`http:5xx`), quoted in error hints as "e.g. `http:503`, `http:5xx`".
    pub examples: &'static [&'static str],
    /// What the parser makes of it; `None` for `is:` and `text:`, which it handles apart.
    pub(crate) field: Option<Field>,
}

/// Every field, in the order the help and the error hints list them.
pub static FIELDS: [FieldDoc; 19] = [
    FieldDoc {
        name: "cmd",
        aliases: &["command"],
        values: "`Sync`, `Ping`, … or an HTTP method",
        matches: "the EAS command; for requests without one, the HTTP method (`cmd:OPTIONS`, `cmd:CONNECT`, \
                  `cmd:GET`)",
        examples: &["cmd:Sync", "cmd:OPTIONS"],
        field: Some(Field::Cmd),
    },
    FieldDoc {
        name: "http",
        aliases: &[],
        values: "`503`, `5xx`, `400-499`, `none`",
        matches: "the response's HTTP status; `none`: no response",
        examples: &["http:503", "http:5xx", "http:400-499", "http:!200", "http:none"],
        field: Some(Field::Http),
    },
    FieldDoc {
        name: "status",
        aliases: &[],
        values: "`3`, `140-149`, `fail`, `ok`, `info`, `unknown`, `none`",
        matches: "the EAS Status elements of the **response** body (any of them); `fail`: one whose verdict for \
                  this command is failure (the sessions the list flags S); `ok`: success; `info`: informational, \
                  such as Status 173 (no contact photo) of a GAL result; `unknown`: a value the spec does not list \
                  for the command",
        examples: &["status:3", "status:!1", "status:140-149", "status:fail"],
        field: Some(Field::Status),
    },
    FieldDoc {
        name: "folder",
        aliases: &["collection"],
        values: "`5`",
        matches: "a CollectionId (or Ping folder Id) in the request or the response, exactly",
        examples: &["folder:5"],
        field: Some(Field::Folder),
    },
    FieldDoc {
        name: "device",
        aliases: &[],
        values: "`ABC`, `Android`",
        matches: "substring of the DeviceId or of the DeviceType",
        examples: &["device:Android"],
        field: Some(Field::Device),
    },
    FieldDoc {
        name: "user",
        aliases: &[],
        values: "`jdoe`",
        matches: "substring of the user (`contoso\\jdoe`)",
        examples: &["user:jdoe"],
        field: Some(Field::User),
    },
    FieldDoc {
        name: "version",
        aliases: &["ver"],
        values: "`14.1`, `16`",
        matches: "the EAS protocol version; a bare major version matches all its minors",
        examples: &["ver:14.1", "ver:16"],
        field: Some(Field::Version),
    },
    FieldDoc {
        name: "synckey",
        aliases: &[],
        values: "`0`",
        matches: "a SyncKey in the request or the response, exactly",
        examples: &["synckey:0"],
        field: Some(Field::SyncKey),
    },
    FieldDoc {
        name: "host",
        aliases: &[],
        values: "`mail2`",
        matches: "substring of the URL's host",
        examples: &["host:mail2"],
        field: Some(Field::Host),
    },
    FieldDoc {
        name: "url",
        aliases: &[],
        values: "`default.eas`",
        matches: "substring of the URL",
        examples: &["url:default.eas"],
        field: Some(Field::Url),
    },
    FieldDoc {
        name: "header",
        aliases: &[],
        values: "`Name`, `Name=value`, `X-MS-*`",
        matches: "a request or response header of that name (a trailing `*` makes it a prefix) whose value \
                  contains `value`; `header:!Name`: no such header",
        examples: &["header:X-MS-ASThrottle", "header:Retry-After=30"],
        field: Some(Field::Header),
    },
    FieldDoc {
        name: "index",
        aliases: &[],
        values: "`12`, `10-20`, `100-`, `-20`",
        matches: "the session number the list shows (`Session::index`)",
        examples: &["index:10-20"],
        field: Some(Field::Index),
    },
    FieldDoc {
        name: "log",
        aliases: &[],
        values: "`matched`, `trace_only`, `log_only` (`-` for `_` too), `none`",
        matches: "with an Exchange mailbox log attached to the capture (`analysis::align`): `matched`, a request \
                  both the capture and the log have; `trace_only`, one Exchange did not log; `log_only`, a log \
                  entry the capture lacks; `none`: no log attached (or a CONNECT tunnel, which is never aligned)",
        examples: &["log:trace_only", "log:log_only", "log:matched"],
        field: Some(Field::Log),
    },
    FieldDoc {
        name: "server",
        aliases: &[],
        values: "`MBX01`, `10.0.0.21`",
        matches: "substring of the server: for IIS logs `s-computername` (else `s-ip`), or the back end's mailbox \
                  server (`Mbx:`), front end (`Cafe:`, `PrxFrom:`); for captures the server IP",
        examples: &["server:MBX01", "server:10.0.0.21"],
        field: Some(Field::Server),
    },
    FieldDoc {
        name: "ip",
        aliases: &["client"],
        values: "`203.0.113.7`, `2001:db8`",
        matches: "substring of the client IP (`c-ip`) or of an IIS line's X-Forwarded-For",
        examples: &["ip:203.0.113.7"],
        field: Some(Field::Ip),
    },
    FieldDoc {
        name: "error",
        aliases: &[],
        values: "`OverBudget`, `none`",
        matches: "IIS logs: substring of an `Error:` tag Exchange wrote in `Log=`; `none`: no error",
        examples: &["error:OverBudget", "error:SyncStateNotFound"],
        field: Some(Field::Error),
    },
    FieldDoc {
        name: "time-taken",
        aliases: &["duration", "ms"],
        values: "`>60000`, `1000-5000`, `60000-`",
        matches: "milliseconds: an IIS line's `time-taken`, a captured session's duration",
        examples: &["time-taken:>60000", "time-taken:1000-5000"],
        field: Some(Field::TimeTaken),
    },
    FieldDoc {
        name: "is",
        aliases: &[],
        values: "a flag name",
        matches: "the flag (see the flags in the module documentation)",
        examples: &["is:throttled"],
        field: None,
    },
    FieldDoc {
        name: "text",
        aliases: &[],
        values: "text",
        matches: "free text (see the module documentation), even when it looks like a flag",
        examples: &["text:\"Quarterly planning\""],
        field: None,
    },
];

/// One flag of the filter language: a bare word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagDoc {
    /// The word as typed (any case): `throttled`.
    pub name: &'static str,
    /// Other words for the same flag: `problem`.
    pub aliases: &'static [&'static str],
    /// What a session must have to match.
    pub matches: &'static str,
    pub(crate) flag: Flag,
}

/// Every flag, in the order the error hint lists them. To search for one of these words as text,
/// quote it: `"throttled"`.
pub static FLAGS: [FlagDoc; 7] = [
    FlagDoc {
        name: "throttled",
        aliases: &[],
        matches: "X-MS-ASThrottle on the response",
        flag: Flag::Throttled,
    },
    FlagDoc {
        name: "highlighted",
        aliases: &["problem"],
        matches: "what the session list highlights: non-2xx HTTP, throttled, or a failing EAS Status; for \
                  non-EAS sessions a non-2xx status",
        flag: Flag::Highlighted,
    },
    FlagDoc {
        name: "aborted",
        aliases: &[],
        matches: "the client or the server aborted the session",
        flag: Flag::Aborted,
    },
    FlagDoc {
        name: "tunnel",
        aliases: &[],
        matches: "a CONNECT tunnel",
        flag: Flag::Tunnel,
    },
    FlagDoc {
        name: "generated",
        aliases: &[],
        matches: "the response came from the proxy",
        flag: Flag::Generated,
    },
    FlagDoc {
        name: "lost",
        aliases: &[],
        matches: "a request or response body the exporter destroyed or left out",
        flag: Flag::Lost,
    },
    FlagDoc {
        name: "eas",
        aliases: &[],
        matches: "an ActiveSync request",
        flag: Flag::Eas,
    },
];

/// The flag typed as `word` (any case), by its name or an alias.
pub fn lookup_flag(word: &str) -> Option<&'static FlagDoc> {
    FLAGS
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(word) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(word)))
}

/// Every word a flag can be typed as, aliases after their flag's name.
pub fn flag_names() -> impl Iterator<Item = &'static str> {
    FLAGS
        .iter()
        .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
}

/// The flags as an error hint: "flags are throttled, highlighted (problem), …".
pub(crate) fn flag_list() -> String {
    let words: Vec<String> = FLAGS
        .iter()
        .map(|f| match f.aliases {
            [] => f.name.to_string(),
            aliases => format!("{} ({})", f.name, aliases.join(", ")),
        })
        .collect();
    format!("flags are {}", words.join(", "))
}

/// The field named `name` (lower case) by its name or an alias.
pub fn lookup(name: &str) -> Option<&'static FieldDoc> {
    FIELDS.iter().find(|f| f.name == name || f.aliases.contains(&name))
}

/// Every name a field can be typed as, aliases after their field's name: what "did you mean"
/// chooses from.
pub fn names() -> impl Iterator<Item = &'static str> {
    FIELDS
        .iter()
        .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
}

impl FieldDoc {
    /// The examples as an error hint: "e.g. `http:503`, `http:5xx`".
    pub fn example_hint(&self) -> String {
        let quoted: Vec<String> = self.examples.iter().map(|e| format!("`{e}`")).collect();
        format!("e.g. {}", quoted.join(", "))
    }
}

/// The example hint of the field typed as `name` (empty for a name that is no field).
pub(crate) fn example(name: &str) -> String {
    lookup(name).map(FieldDoc::example_hint).unwrap_or_default()
}

/// The example hint of `field`.
pub(crate) fn example_of(field: Field) -> String {
    FIELDS
        .iter()
        .find(|f| f.field == Some(field))
        .map(FieldDoc::example_hint)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lower_case_and_examples_use_them() {
        let all: Vec<&str> = names().collect();
        for (i, n) in all.iter().enumerate() {
            // `time-taken` is IIS's own field name.
            assert!(
                n.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !n.starts_with('-'),
                "{n}"
            );
            assert!(!all[..i].contains(n), "{n} twice");
        }
        for f in &FIELDS {
            assert!(!f.examples.is_empty(), "{}", f.name);
            for e in f.examples {
                let typed = e.split(':').next().unwrap_or_default();
                assert!(typed == f.name || f.aliases.contains(&typed), "{e}");
                assert!(super::super::parse(e).is_ok(), "{e}");
            }
        }
        assert_eq!(lookup("collection").map(|f| f.name), Some("folder"));
        assert_eq!(
            flag_list(),
            "flags are throttled, highlighted (problem), aborted, tunnel, generated, lost, eas"
        );
        assert_eq!(lookup_flag("PROBLEM").map(|f| f.flag), Some(Flag::Highlighted));
        for f in flag_names() {
            assert!(super::super::parse(f).is_ok(), "{f}");
            assert!(lookup(f).is_none(), "{f} is a field too");
        }
        assert_eq!(example("command"), "e.g. `cmd:Sync`, `cmd:OPTIONS`");
        assert_eq!(example_of(Field::Http), example("http"));
        assert_eq!(example("nosuch"), "");
    }
}
