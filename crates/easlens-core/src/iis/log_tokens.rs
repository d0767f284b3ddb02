//! The `&Log=` diagnostics Exchange appends to an ActiveSync request's `cs-uri-query` in its IIS
//! logs, split into tokens and the ones a support engineer reads named:
//! protocol version, EAS status, error, heartbeat, sync keys, throttling and budget, servers,
//! policy key, ABQ state. The grammar (`../shared/reference/iis-eas-log.md` §3.1, from
//! Exchange's own ProtocolLogger): tokens in a fixed order, each ended by `_`; an integer is its
//! name and digits (`V141`, `Hb1680`), a string is `Name:` and its URL-encoded value
//! (`Error:OverBudget`); Exchange 2016+ writes almost every token as `Name:value` and has names
//! ending in a digit (`SC1:`, `Ver1:`). Every token is kept, known or not.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The tokens of a `Log=` value and the named ones among them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LogFields {
    /// Every token in order: (name, value decoded).
    pub tokens: Vec<(String, String)>,
    /// `V141` / `Ver1:161`, as `14.1`.
    pub protocol_version: Option<String>,
    /// `S3` / `SC1:1`: the command's EAS Status.
    pub status: Option<u32>,
    /// `Error:` (several tags joined with `;`).
    pub error: Option<String>,
    /// `Hb` / `Hb:`: the heartbeat, in seconds.
    pub heartbeat_s: Option<u32>,
    /// `Sk:`: the client's SyncKey as sent (`0` = initial sync); the first folder's.
    pub sync_key: Option<String>,
    /// `Sks`: the SyncKey the server returned.
    pub server_sync_key: Option<String>,
    /// `St:`: the sync type (F first, S subsequent, R recovery, I invalid).
    pub sync_type: Option<String>,
    /// `Fc` / `FldrC1:`: the folder count.
    pub folder_count: Option<u32>,
    /// `Pk` / `Pk:`: the policy key the device sent.
    pub policy_key: Option<String>,
    /// `Throttle`: ms spent in the workload-management queue.
    pub throttle_ms: Option<u64>,
    /// `Budget:`: the throttling budget snapshot, as written.
    pub budget: Option<String>,
    /// `SBkOffD:`: the suggested back-off.
    pub back_off: Option<String>,
    /// `As:`: the ABQ (allow/block/quarantine) state.
    pub access_state: Option<String>,
    /// `Mbx:`: the mailbox server; `Cafe:`: the front end (2016+).
    pub mailbox_server: Option<String>,
    pub front_end: Option<String>,
    /// `PrxFrom:`: proxied from (a 2013+ back end: the front end's IP).
    pub proxied_from: Option<String>,
    /// `Fet`: final elapsed time, ms since arrival.
    pub elapsed_ms: Option<u64>,
    /// `Pa`: the policy acknowledgement (1 compliant, 2 partially, 3 not compliant).
    pub policy_ack: Option<u32>,
    /// `Fid:`: the folder (collection) of a Sync, the first one when several.
    pub folder: Option<String>,
    /// Each folder of a Sync (`Fid:` and the per-folder tokens after it), in order.
    pub folders: Vec<FolderLog>,
}

/// One folder (collection) of a Sync as `Log=` has it: `Fid:5_Ty:Em_Filter1:3_St:S_Sk:…_Sks:…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FolderLog {
    pub id: String,
    /// `Ty:`: Em mail, Ca calendar, Co contacts, Ta tasks, Nt notes.
    pub class: Option<String>,
    /// `St:`: F first, S subsequent, R recovery, I invalid.
    pub sync_type: Option<String>,
    /// `Sk:`: the client's SyncKey; `Sks`: the server's.
    pub sync_key: Option<String>,
    pub server_sync_key: Option<String>,
}

/// The `Log=` value of `query` (up to the next `&`), when there is one.
pub fn log_value(query: &str) -> Option<&str> {
    let at = query
        .find("&Log=")
        .map(|i| i + 5)
        .or_else(|| query.strip_prefix("Log=").map(|_| 4))?;
    let rest = &query[at..];
    Some(rest.split('&').next().unwrap_or(rest))
}

/// Splits one token into its name and value: a name ending in a digit only before `:`
/// (`SC1:1`), else the leading letters (`V141` → `V`, `TmRcv06:53:38` → `TmRcv`).
fn split_token(token: &str) -> (&str, &str) {
    let b = token.as_bytes();
    let letters = b.iter().position(|c| !c.is_ascii_alphabetic()).unwrap_or(b.len());
    match b.get(letters) {
        Some(b':') => return (&token[..letters], &token[letters + 1..]),
        Some(d) if d.is_ascii_digit() && b.get(letters + 1) == Some(&b':') => {
            return (&token[..letters + 1], &token[letters + 2..]);
        }
        _ => {}
    }
    (&token[..letters], &token[letters..])
}

/// A value as written, URL-decoded (`+` is a space, `%5F` an underscore); borrowed when there is
/// nothing to decode (nearly always).
pub fn decoded(value: &str) -> Cow<'_, str> {
    if !value.contains(['+', '%']) {
        return Cow::Borrowed(value);
    }
    let spaced = value.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// The tokens of a `Log=` value in order, as (name, value as written), without copying.
pub fn tokens(value: &str) -> impl Iterator<Item = (&str, &str)> {
    // One scan for every `_` (a call per token costs more than the token).
    let mut start = 0;
    memchr::memchr_iter(b'_', value.as_bytes())
        .chain(std::iter::once(value.len()))
        .filter_map(move |end| {
            let token = &value[start..end];
            start = end + 1;
            (!token.is_empty()).then(|| split_token(token))
        })
}

/// `141` → `14.1` (the version ×10).
fn version(tenfold: &str) -> Option<String> {
    let n: u32 = tenfold.parse().ok()?;
    Some(format!("{}.{}", n / 10, n % 10))
}

/// The tokens of a `Log=` value, and the named fields.
pub fn parse_log(value: &str) -> LogFields {
    let mut out = LogFields::default();
    for (name, raw) in tokens(value) {
        let v = decoded(raw).into_owned();
        let text = || Some(v.clone()).filter(|v| !v.is_empty());
        match name {
            "V" | "Ver" | "Ver1" => out.protocol_version = out.protocol_version.take().or_else(|| version(&v)),
            "S" | "SC1" => out.status = out.status.or(v.parse().ok()),
            "Error" => out.error = text(),
            "Hb" => out.heartbeat_s = v.parse().ok(),
            "Sk" => {
                out.sync_key = out.sync_key.take().or_else(text);
                if let Some(f) = out.folders.last_mut() {
                    f.sync_key = text();
                }
            }
            "Sks" => {
                out.server_sync_key = out.server_sync_key.take().or_else(text);
                if let Some(f) = out.folders.last_mut() {
                    f.server_sync_key = text();
                }
            }
            "St" => {
                out.sync_type = out.sync_type.take().or_else(text);
                if let Some(f) = out.folders.last_mut() {
                    f.sync_type = text();
                }
            }
            "Ty" => {
                if let Some(f) = out.folders.last_mut() {
                    f.class = text();
                }
            }
            "Fc" | "FldrC1" => out.folder_count = v.parse().ok(),
            "Pk" => out.policy_key = text(),
            "Throttle" => out.throttle_ms = v.parse().ok(),
            "Budget" => out.budget = text(),
            "SBkOffD" => out.back_off = text(),
            "As" => out.access_state = text(),
            "Mbx" => out.mailbox_server = text(),
            "Cafe" => out.front_end = text(),
            "PrxFrom" => out.proxied_from = text(),
            "Fet" => out.elapsed_ms = v.parse().ok(),
            "Pa" => out.policy_ack = v.parse().ok(),
            "Fid" => {
                out.folder = out.folder.take().or_else(text);
                out.folders.push(FolderLog {
                    id: v.clone(),
                    ..FolderLog::default()
                });
            }
            _ => {}
        }
        out.tokens.push((name.to_string(), v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The real lines quoted in the reference (iis-eas-log.md §3.3), their queries.
    const EX2010: &str = "Cmd=Ping&User=cdrcb.com%5Cdengmu&DeviceId=androidc537050526&DeviceType=KSAndroid&Log=V141_LdapC1_RpcC28_RpcL31_Hb1680_S3_Error:PingCollisionDetected_Mbx:MAIL1.cdrcb.com_Throttle0_Budget:(A)Conn%3a1%2cHangingConn%3a0%2cNorm_";
    const EX2016: &str = "User=jmartin@contoso.com&DeviceId=VBHDCRCR131BJBUID1MORNING&DeviceType=iPhone&Cmd=MeetingResponse&Log=PrxFrom:10.0.1.161_V160_Ver1:160_HH:eas.contoso.com_SmtpAdrs:jmartin%40contoso.com_Fet:6014_Pk:4016830080_DevOS:iOS+9.2+13C71_As:AllowedG_Mbx:CLT-E16-MBX1.contoso.com_Throttle:0";
    const EX2019: &str = "User=user@domain.com&DeviceId=JUQGGDFCDD29R3H003TJA63E10&DeviceType=iPhone&Cmd=Ping&Log=SC1:1_PrxFrom:10.0.22.211_Ver1:161_HH:mail.domain.com_Hb:600_Rto:2_Cpo:656_Fet:600000_Mbx:mail.domain.com_Cafe:MBX-SRV.DOMAIN.COM_Dc:dc-srv.domain.com_Throttle:0_SBkOffD:L%2f-470_TmRcv:06:53:38.4480003_";

    fn fields(query: &str) -> LogFields {
        parse_log(log_value(query).unwrap())
    }

    #[test]
    fn exchange_2010_tokens() {
        let f = fields(EX2010);
        assert_eq!(f.protocol_version.as_deref(), Some("14.1"));
        assert_eq!(f.heartbeat_s, Some(1680));
        assert_eq!(f.status, Some(3));
        assert_eq!(f.error.as_deref(), Some("PingCollisionDetected"));
        assert_eq!(f.mailbox_server.as_deref(), Some("MAIL1.cdrcb.com"));
        assert_eq!(f.throttle_ms, Some(0));
        assert_eq!(f.budget.as_deref(), Some("(A)Conn:1,HangingConn:0,Norm"));
        // Tokens the fields do not name are kept.
        assert!(f.tokens.contains(&("RpcC".into(), "28".into())));
        assert!(f.tokens.contains(&("LdapC".into(), "1".into())));
    }

    #[test]
    fn exchange_2016_and_2019_tokens() {
        let f = fields(EX2016);
        assert_eq!(f.proxied_from.as_deref(), Some("10.0.1.161"));
        assert_eq!(f.protocol_version.as_deref(), Some("16.0"));
        assert_eq!(f.elapsed_ms, Some(6014));
        assert_eq!(f.policy_key.as_deref(), Some("4016830080"));
        assert_eq!(f.access_state.as_deref(), Some("AllowedG"));
        assert!(f.tokens.contains(&("SmtpAdrs".into(), "jmartin@contoso.com".into())));
        assert!(f.tokens.contains(&("DevOS".into(), "iOS 9.2 13C71".into())));
        let f = fields(EX2019);
        assert_eq!(f.status, Some(1));
        assert_eq!(f.protocol_version.as_deref(), Some("16.1"));
        assert_eq!((f.heartbeat_s, f.elapsed_ms), (Some(600), Some(600000)));
        assert_eq!(f.front_end.as_deref(), Some("MBX-SRV.DOMAIN.COM"));
        assert_eq!(f.back_off.as_deref(), Some("L/-470"));
        assert!(f.tokens.contains(&("TmRcv".into(), "06:53:38.4480003".into())));
        assert!(f.tokens.contains(&("Rto".into(), "2".into())));
    }

    #[test]
    fn token_spellings_of_every_generation() {
        assert_eq!(split_token("V141"), ("V", "141"));
        assert_eq!(split_token("TmRcv06:53:38.448"), ("TmRcv", "06:53:38.448"));
        assert_eq!(split_token("TmRcv:06:53:38.44"), ("TmRcv", "06:53:38.44"));
        assert_eq!(split_token("SC1:1"), ("SC1", "1"));
        assert_eq!(split_token("Sk:0"), ("Sk", "0"));
        assert_eq!(split_token("Sks1204981531"), ("Sks", "1204981531"));
        assert_eq!(log_value("Cmd=Sync&User=a"), None);
        assert_eq!(log_value("jQAJBBBT==&Log=V141_S1_"), Some("V141_S1_"));
        let f = parse_log("Sk:0_St:F_Fc3_Filt3_");
        assert_eq!(
            (f.sync_key.as_deref(), f.sync_type.as_deref(), f.folder_count),
            (Some("0"), Some("F"), Some(3))
        );
    }
}
