//! How a session is named in lists and messages: its EAS command, else what stands in for one.
//! One function, [`Session::command_label`]; the places that show it differ in how they name a
//! command and what they say when there is none, and each says so with a [`LabelStyle`]. And its
//! device, [`Session::device_label`].

use super::Session;

/// How a command the request names is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandNaming {
    /// As the request sent it (`Cmd=` text, or `code N` for an unknown base64 code): what an
    /// engineer finds again in the raw request.
    AsSent,
    /// The command's own name (`Sync` for `Cmd=sync`), so that the same command always reads
    /// (and groups) the same; the text as sent when the command is unknown.
    Canonical,
}

/// What a session whose request names no EAS command is labelled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCommand {
    /// The request's method, followed by ` (tunnel)` for a CONNECT tunnel when `mark_tunnel`;
    /// `no_request` when the capture has no request.
    Method {
        mark_tunnel: bool,
        no_request: &'static str,
    },
    /// A fixed text.
    Text(&'static str),
}

/// How [`Session::command_label`] names a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelStyle {
    pub naming: CommandNaming,
    pub otherwise: NoCommand,
}

impl LabelStyle {
    /// The window (sessions table, timeline, inspector): the command as sent, tunnels marked.
    pub const WINDOW: LabelStyle = LabelStyle {
        naming: CommandNaming::AsSent,
        otherwise: NoCommand::Method {
            mark_tunnel: true,
            no_request: "—",
        },
    };
    /// "Copy as text": the command as sent, else the method.
    pub const REPORT: LabelStyle = LabelStyle {
        naming: CommandNaming::AsSent,
        otherwise: NoCommand::Method {
            mark_tunnel: false,
            no_request: "—",
        },
    };
    /// The CLI's sessions table: the command's name, else the method (ASCII placeholder).
    pub const CLI: LabelStyle = LabelStyle {
        naming: CommandNaming::Canonical,
        otherwise: NoCommand::Method {
            mark_tunnel: false,
            no_request: "-",
        },
    };
    /// Findings, which name only EAS sessions: the command's name; an ActiveSync request that
    /// names no command is the OPTIONS discovery request.
    pub const FINDINGS: LabelStyle = LabelStyle {
        naming: CommandNaming::Canonical,
        otherwise: NoCommand::Text("OPTIONS"),
    };
}

impl Session {
    /// The EAS command the request names, written as `naming` says; `None` for a session that is
    /// not ActiveSync or whose request names no command.
    pub fn eas_command(&self, naming: CommandNaming) -> Option<&str> {
        let eas = self.eas.as_ref()?;
        match naming {
            CommandNaming::AsSent => eas.command_raw.as_deref(),
            CommandNaming::Canonical => eas.command.map(|c| c.name()).or(eas.command_raw.as_deref()),
        }
    }

    /// `DeviceType DeviceId`, either alone, or empty: the device as lists name it.
    pub fn device_label(&self) -> String {
        let Some(e) = &self.eas else { return String::new() };
        match (&e.device_type, &e.device_id) {
            (Some(t), Some(id)) => format!("{t} {id}"),
            (Some(t), None) => t.to_string(),
            (None, Some(id)) => id.to_string(),
            (None, None) => String::new(),
        }
    }

    /// The label of the session: its EAS command, else what `style` puts in its place.
    pub fn command_label(&self, style: LabelStyle) -> String {
        if let Some(command) = self.eas_command(style.naming) {
            return command.to_string();
        }
        match (style.otherwise, &self.request) {
            (NoCommand::Text(text), _) => text.to_string(),
            (NoCommand::Method { mark_tunnel: true, .. }, Some(r)) if self.flags.tunnel => {
                format!("{} (tunnel)", r.head.method)
            }
            (NoCommand::Method { .. }, Some(r)) => r.head.method.to_string(),
            (NoCommand::Method { no_request, .. }, None) => no_request.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Body, Request};
    use crate::content::{self, BodyContext};
    use crate::eas::Command;
    use crate::eas::session::summarize;
    use crate::http::{Side, parse_request};

    /// An indexed session of a request line.
    fn session(request: &str) -> Session {
        let (head, _) = parse_request(request.as_bytes()).unwrap();
        let mut s = Session::new(1);
        let url = format!("https://h{}", head.target);
        s.request = Some(Request::new(head, url, Body::empty()));
        let r = s.request.as_ref().unwrap();
        let context = BodyContext {
            side: Side::Request,
            method: &r.head.method,
            tunnel: false,
        };
        let request_body = content::analyse(b"", &r.body, &r.head.headers, &context, content::Budget::ANALYSIS);
        s.eas = summarize(&s, &request_body, None);
        s
    }

    #[test]
    fn each_style_names_the_command_or_what_stands_for_it() {
        let sync =
            session("POST /Microsoft-Server-ActiveSync?Cmd=sync&User=u&DeviceId=d&DeviceType=t HTTP/1.1\r\n\r\n");
        assert_eq!(sync.eas.as_ref().unwrap().command, Some(Command::Sync));
        assert_eq!(sync.command_label(LabelStyle::WINDOW), "sync");
        assert_eq!(sync.command_label(LabelStyle::CLI), "Sync");
        let options = session("OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n\r\n");
        assert_eq!(options.eas_command(CommandNaming::Canonical), None);
        assert_eq!(options.command_label(LabelStyle::FINDINGS), "OPTIONS");
        assert_eq!(options.command_label(LabelStyle::REPORT), "OPTIONS");
        let mut tunnel = session("CONNECT h:443 HTTP/1.1\r\n\r\n");
        tunnel.flags.tunnel = true;
        assert_eq!(tunnel.command_label(LabelStyle::WINDOW), "CONNECT (tunnel)");
        assert_eq!(tunnel.command_label(LabelStyle::REPORT), "CONNECT");
        tunnel.request = None;
        assert_eq!(tunnel.command_label(LabelStyle::WINDOW), "—");
        assert_eq!(tunnel.command_label(LabelStyle::CLI), "-");
    }
}
