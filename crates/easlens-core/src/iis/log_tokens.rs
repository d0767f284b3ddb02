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
    /// `Budget:`: the throttling budget snapshot, decoded (see [`LogFields::budgets`]).
    pub budget: Option<String>,
    /// The budget snapshots of `Budget:`, each as its named values.
    pub budgets: Vec<BudgetSnapshot>,
    /// `ActivityContextData:`: the request's activity id and Exchange's counters.
    pub activity: Option<ActivityContext>,
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
    /// The `Tm*` tokens: when Exchange reached each stage of the request, in the order written.
    pub stages: Vec<StageTime>,
}

/// One budget snapshot of `Budget:` (§3.2): `(A)` when the budget was acquired, `(D)` when
/// released, then `Name:value` pairs joined with `,` (2013+: `Owner`, `Conn`, `MaxConn`,
/// `MaxBurst`, `Balance`, `Cutoff`, `RechargeRate`, `Policy`, `IsServiceAccount`, `LiveTime`;
/// 2010: `Conn`, `HangingConn`, `AD`, `CAS`, `AB`, `RPC`, `FC`, `Policy`, `Norm`). 2016+ logs
/// both, joined with `;`. A part without `:` is kept with an empty value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BudgetSnapshot {
    /// `acquired` (`(A)`), `released` (`(D)`), or none.
    pub phase: Option<&'static str>,
    pub values: Vec<(String, String)>,
}

impl BudgetSnapshot {
    /// The snapshots of a decoded `Budget:` value.
    pub fn parse_all(budget: &str) -> Vec<BudgetSnapshot> {
        budget
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (phase, rest) = match s.get(..3) {
                    Some("(A)") => (Some("acquired"), &s[3..]),
                    Some("(D)") => (Some("released"), &s[3..]),
                    _ => (None, s),
                };
                let values = rest
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| match p.split_once(':') {
                        Some((n, v)) => (n.to_string(), v.to_string()),
                        None => (p.to_string(), String::new()),
                    })
                    .collect();
                BudgetSnapshot { phase, values }
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `ActivityContextData:` decoded (§3.2): `ActivityID=<GUID>;` then `type:key[instance]=value;`
/// entries (`I32:ADS.C[dc1]=1`, `F:ADS.AL[dc1]=1.62791`, `S:WLM.BT=Eas`). An entry that does not
/// read so is kept whole as its key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ActivityContext {
    pub activity_id: Option<String>,
    pub entries: Vec<ActivityEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ActivityEntry {
    /// The value's type as written (`I32`, `F`, `S`, …).
    pub kind: String,
    /// `ADS.C` (AD searches, count), `WLM.BT` (budget type), …
    pub key: String,
    /// The bracketed instance, e.g. the domain controller.
    pub instance: Option<String>,
    pub value: String,
}

impl ActivityContext {
    pub fn parse(text: &str) -> ActivityContext {
        let mut out = ActivityContext::default();
        for part in text.split(';').filter(|p| !p.is_empty()) {
            if let Some(id) = part.strip_prefix("ActivityID=") {
                out.activity_id = Some(id.to_string()).filter(|i| !i.is_empty());
                continue;
            }
            let (head, value) = part.split_once('=').unwrap_or((part, ""));
            let (kind, name) = head.split_once(':').unwrap_or(("", head));
            let (key, instance) = match name.split_once('[') {
                Some((k, rest)) if rest.ends_with(']') => (k, Some(rest[..rest.len() - 1].to_string())),
                _ => (name, None),
            };
            out.entries.push(ActivityEntry {
                kind: kind.to_string(),
                key: key.to_string(),
                instance,
                value: value.to_string(),
            });
        }
        out
    }

    /// The entries as one line of text: `ADS.C[dc1]=1, WLM.BT=Eas`.
    pub fn text(&self) -> String {
        let parts: Vec<String> = self
            .entries
            .iter()
            .map(|e| match &e.instance {
                Some(i) => format!("{}[{i}]={}", e.key, e.value),
                None => format!("{}={}", e.key, e.value),
            })
            .collect();
        parts.join(", ")
    }
}

/// A `Tm*` token (`TmRcv06:53:38.448`, `TmRcv:06:53:38.4480003`): the UTC time of day Exchange
/// reached a stage of the request (§3.2). It carries no date: [`LogFields::anchor`] gives it the
/// line's, across midnight.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StageTime {
    pub token: String,
    /// What the stage is, in words (`received`, `execute started`, …).
    pub stage: &'static str,
    /// Milliseconds since midnight UTC, as written.
    pub time_of_day_ms: i64,
    /// The time with the line's date, ms since 1970 UTC, once anchored.
    pub at_ms: Option<i64>,
}

/// What a `Tm*` token's stage is (`iis-eas-log.md` §3.2).
fn stage_name(token: &str) -> Option<&'static str> {
    Some(match token {
        "TmRcv" => "received",
        "TmSt" => "started",
        "TmDASt" => "access check",
        "TmPolSt" => "policy check",
        "TmExSt" => "execute started",
        "TmExFin" => "execute finished",
        "TmFin" => "finished",
        "TmCmpl" => "completed",
        "TmHang" => "went pending",
        "TmCnt" => "continued",
        _ => return None,
    })
}

const DAY_MS: i64 = 86_400_000;

impl LogFields {
    /// Gives each `Tm*` time the date of its line, written at `line_ms` (ms since 1970 UTC): the
    /// day, the day before or the day after, whichever puts it nearest the line (a request that
    /// began before midnight is logged after it).
    pub fn anchor(&mut self, line_ms: i64) {
        let day = line_ms.div_euclid(DAY_MS) * DAY_MS;
        for s in &mut self.stages {
            s.at_ms = [day - DAY_MS, day, day + DAY_MS]
                .into_iter()
                .map(|d| d + s.time_of_day_ms)
                .min_by_key(|t| (t - line_ms).abs());
        }
    }

    /// The stages as one line of text: each time of day, then how long after the first stage
    /// (`received 06:53:38.448, execute started 06:53:38.460 (+12 ms), …`).
    pub fn stages_text(&self) -> Option<String> {
        let first = self.stages.first()?.time_of_day_ms;
        let parts: Vec<String> = self
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let t = s.time_of_day_ms;
                let clock = format!(
                    "{:02}:{:02}:{:02}.{:03}",
                    t / 3_600_000,
                    t / 60_000 % 60,
                    t / 1000 % 60,
                    t % 1000
                );
                let after = (t - first).rem_euclid(DAY_MS);
                match i {
                    0 => format!("{} {clock}", s.stage),
                    _ => format!(
                        "{} {clock} (+{} ms)",
                        s.stage,
                        crate::numbers::group_thousands(after as u64)
                    ),
                }
            })
            .collect();
        Some(parts.join(", "))
    }
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
    /// `Cli:`: what the device sent for this folder (`0a1c0d0f0e0s0fs`).
    pub client_changes: Option<ItemCounts>,
    /// `Srv:`: what the server sent (`3a0c1d0s0e0r0A0sd`).
    pub server_changes: Option<ItemCounts>,
}

/// The item counts of a `Cli:` or `Srv:` token: each number with what it counts, in the order
/// written (§3.2: `{adds}a{changes}c{deletes}d…`). A letter code the reference does not name is
/// kept as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemCounts(pub Vec<(String, u64)>);

/// As an object in the order written: `{"adds": 3, "changes": 0, …}`.
impl serde::Serialize for ItemCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(what, n)| (what, n)))
    }
}

impl ItemCounts {
    /// `3a0c1d0s0e0r0A0sd` of the server (`Srv:`, `client` false) or the device (`Cli:`).
    pub fn parse(value: &str, client: bool) -> Option<ItemCounts> {
        let b = value.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let letters = b[i + digits..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
            if digits == 0 || letters == 0 {
                return None;
            }
            let n = value[i..i + digits].parse().ok()?;
            let code = &value[i + digits..i + digits + letters];
            out.push((item_count_name(code, client).unwrap_or(code).to_string(), n));
            i += digits + letters;
        }
        (!out.is_empty()).then_some(ItemCounts(out))
    }

    /// The count named `what` (`adds`, `soft_deletes`, …).
    pub fn get(&self, what: &str) -> Option<u64> {
        self.0.iter().find(|(w, _)| w == what).map(|(_, n)| *n)
    }
}

/// What a letter code of `Cli:` / `Srv:` counts (`iis-eas-log.md` §3.2, from Exchange's code).
fn item_count_name(code: &str, client: bool) -> Option<&'static str> {
    Some(match (client, code) {
        (_, "a") => "adds",
        (_, "c") => "changes",
        (_, "d") => "deletes",
        (true, "f") => "fetches",
        (true, "e") => "failed_conversions",
        (true, "s") => "sends",
        (true, "fs") => "failed_sends",
        (false, "s") => "soft_deletes",
        (false, "e") => "failed",
        (false, "r") => "change_tracking_rejects",
        (false, "A") => "associated_adds",
        (false, "sd") => "skipped_deletes",
        _ => return None,
    })
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

/// How many ASCII letters `b` starts with. A name is rarely longer than 8 bytes: its first 8 are
/// tested at once as one word (a loop per byte cost more than the rest of a token's reading).
#[inline]
fn leading_letters(b: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let Some(word) = b.first_chunk::<8>() else {
        return b.iter().position(|c| !c.is_ascii_alphabetic()).unwrap_or(b.len());
    };
    let w = u64::from_le_bytes(*word);
    // Each byte folded to lower case, its top bit apart: from 0x61 (`a`) up its top bit is set
    // by adding 0x1F, from 0x7B (past `z`) by adding 0x05; no sum leaves its byte.
    let low = (w | 0x2020_2020_2020_2020) & !HIGH;
    let from_a = low.wrapping_add(0x1F1F_1F1F_1F1F_1F1F) & HIGH;
    let past_z = low.wrapping_add(0x0505_0505_0505_0505) & HIGH;
    let letters = from_a & !past_z & !(w & HIGH);
    let not_letters = !letters & HIGH;
    if not_letters == 0 {
        8 + b[8..]
            .iter()
            .position(|c| !c.is_ascii_alphabetic())
            .unwrap_or(b.len() - 8)
    } else {
        not_letters.trailing_zeros() as usize / 8
    }
}

/// Splits one token into its name and value: a name ending in a digit only before `:`
/// (`SC1:1`), else the leading letters (`V141` → `V`, `TmRcv06:53:38` → `TmRcv`).
fn split_token(token: &str) -> (&str, &str) {
    let (name, value) = name_end(token.as_bytes(), leading_letters(token.as_bytes()));
    (&token[..name], &token[value..])
}

/// Where a token's name ends and its value starts, given the letters it starts with: the name
/// takes one digit more only before `:`.
#[inline]
fn name_end(token: &[u8], letters: usize) -> (usize, usize) {
    match token.get(letters) {
        Some(b':') => (letters, letters + 1),
        Some(d) if d.is_ascii_digit() && token.get(letters + 1) == Some(&b':') => (letters + 1, letters + 2),
        _ => (letters, letters),
    }
}

/// A token's name as one number: its bytes, little-endian, 0 for a name longer than 8 bytes
/// (none that a report reads is). A name is matched by one compare instead of a string's.
pub const fn name_tag(name: &str) -> u64 {
    let b = name.as_bytes();
    if b.len() > 8 {
        return 0;
    }
    let mut t = 0u64;
    let mut i = 0;
    while i < b.len() {
        t |= (b[i] as u64) << (8 * i);
        i += 1;
    }
    t
}

/// The tokens of a `Log=` value as ([`name_tag`] of the name, where the value is in `value`),
/// for a reader that wants a few names: no token is cut into strings, a name is read with one
/// 8-byte load, and the reader slices only the values it wants.
pub fn tagged_tokens(value: &str) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> + '_ {
    let b = value.as_bytes();
    token_ranges(value).map(move |token| {
        let from = token.start;
        // The letters run on past the token only if it is the last (`_` is not a letter).
        let letters = leading_letters(&b[from..]).min(token.len());
        let (name, value_from) = name_end(&b[token.clone()], letters);
        let tag = match b.get(from..from + 8) {
            _ if name > 8 => 0,
            Some(word) => {
                let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
                if name == 8 {
                    word
                } else {
                    word & ((1u64 << (8 * name)) - 1)
                }
            }
            None => name_tag(&value[from..from + name]),
        };
        (tag, from + value_from..token.end)
    })
}

/// Where the tokens of a `Log=` value are: the pieces between its `_`s that are not empty (one
/// scan for every `_`: a call per token costs more than the token).
fn token_ranges(value: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    super::delimiters::pieces(value.as_bytes(), b'_').filter(|t| !t.is_empty())
}

/// A value as written, URL-decoded (`+` is a space, `%5F` an underscore); borrowed when there is
/// nothing to decode (nearly always).
pub fn decoded(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(|c| c == b'+' || c == b'%') {
        return Cow::Borrowed(value);
    }
    let spaced = value.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// The tokens of a `Log=` value in order, as (name, value as written), without copying.
pub fn tokens(value: &str) -> impl Iterator<Item = (&str, &str)> {
    token_ranges(value).map(move |t| split_token(&value[t]))
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
            "Cli" | "Srv" => {
                if let Some(f) = out.folders.last_mut() {
                    let counts = ItemCounts::parse(&v, name == "Cli");
                    if name == "Cli" {
                        f.client_changes = counts;
                    } else {
                        f.server_changes = counts;
                    }
                }
            }
            "Fc" | "FldrC1" => out.folder_count = v.parse().ok(),
            "Pk" => out.policy_key = text(),
            "Throttle" => out.throttle_ms = v.parse().ok(),
            "Budget" => {
                out.budgets.extend(BudgetSnapshot::parse_all(&v));
                out.budget = text();
            }
            "ActivityContextData" => out.activity = Some(ActivityContext::parse(&v)),
            "SBkOffD" => out.back_off = text(),
            "As" => out.access_state = text(),
            "Mbx" => out.mailbox_server = text(),
            "Cafe" => out.front_end = text(),
            "PrxFrom" => out.proxied_from = text(),
            "Fet" => out.elapsed_ms = v.parse().ok(),
            "Pa" => out.policy_ack = v.parse().ok(),
            name if name.starts_with("Tm") => {
                if let (Some(stage), Some(t)) = (stage_name(name), super::w3c::time_of_day_ms(&v)) {
                    out.stages.push(StageTime {
                        token: name.to_string(),
                        stage,
                        time_of_day_ms: t,
                        at_ms: None,
                    });
                }
            }
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
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The tagged tokens are the tokens, each name as its tag and each value where it is.
        #[test]
        fn tagged_tokens_are_the_tokens(value in "(SC1:1|S3|Sk:|Throttle:|ThrottleX:|Abcdefghi1:|V141|_|[A-Za-z0-9:%]{0,12}){0,12}") {
            let want: Vec<(u64, &str)> = tokens(&value).map(|(n, v)| (name_tag(n), v)).collect();
            let got: Vec<(u64, &str)> = tagged_tokens(&value).map(|(t, r)| (t, &value[r])).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn leading_letters_are_counted_whatever_the_bytes() {
        let scalar = |b: &[u8]| b.iter().position(|c| !c.is_ascii_alphabetic()).unwrap_or(b.len());
        // Every byte value at every place of a word, after letters of both cases.
        for len in 0..12 {
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut b: Vec<u8> = (0..len)
                        .map(|i| if i % 2 == 0 { b'a' + i as u8 } else { b'Z' - i as u8 })
                        .collect();
                    b[at] = c;
                    assert_eq!(leading_letters(&b), scalar(&b), "{b:?}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn leading_letters_as_a_byte_loop_counts_them(b in proptest::collection::vec(proptest::num::u8::ANY, 0..20)) {
            prop_assert_eq!(leading_letters(&b), b.iter().position(|c| !c.is_ascii_alphabetic()).unwrap_or(b.len()));
        }

        /// The tokens are those of splitting at every `_`, empty ones left out, at any length
        /// (values longer than one 64-byte chunk of the scan too).
        #[test]
        fn tokens_are_the_nonempty_pieces_between_underscores(value in "[A-Za-z0-9:_%]{0,200}") {
            let want: Vec<(&str, &str)> = value.split('_').filter(|t| !t.is_empty()).map(split_token).collect();
            prop_assert_eq!(tokens(&value).collect::<Vec<_>>(), want);
        }
    }

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

    /// Every token of `iis-eas-log.md` §3.2, in each spelling the reference documents, as Exchange
    /// writes it (values URL-encoded, `_` as `%5F`) → the name and the decoded value it must read
    /// as. Names with `*` in the reference (`ItO*`, `Srch*`) are read by their written prefix.
    const DOCUMENTED: &[(&str, &str, &str)] = &[
        ("PrxFrom:10.0.1.161", "PrxFrom", "10.0.1.161"),
        ("PrxTo:cas2.contoso.com", "PrxTo", "cas2.contoso.com"),
        (
            "RdirTo:https%3a%2f%2fmail.contoso.com",
            "RdirTo",
            "https://mail.contoso.com",
        ),
        ("PrxUser:jdoe%40contoso.com", "PrxUser", "jdoe@contoso.com"),
        ("V141", "V", "141"),
        ("Ver1:161", "Ver1", "161"),
        ("HH:eas.contoso.com", "HH", "eas.contoso.com"),
        ("SmtpAdrs:jmartin%40contoso.com", "SmtpAdrs", "jmartin@contoso.com"),
        ("DRmv1", "DRmv", "1"),
        ("NMS", "NMS", ""),
        ("Ssnf:T", "Ssnf", "T"),
        ("Fc3", "Fc", "3"),
        ("FldrC1:3", "FldrC1", "3"),
        ("Fid:5", "Fid", "5"),
        ("Ty:Em", "Ty", "Em"),
        ("Filt3", "Filt", "3"),
        ("Filter1:3", "Filter1", "3"),
        ("St:S", "St", "S"),
        ("Sk:0", "Sk", "0"),
        ("Sks1204981531", "Sks", "1204981531"),
        ("Sks:1204981532", "Sks", "1204981532"),
        ("Sst12", "Sst", "12"),
        ("Sslc4", "Sslc", "4"),
        ("SsCmt1", "SsCmt", "1"),
        ("TotSvC5", "TotSvC", "5"),
        ("ColdSvC0", "ColdSvC", "0"),
        ("ColdCpyC0", "ColdCpyC", "0"),
        ("TotLdC2", "TotLdC", "2"),
        ("MR1", "MR", "1"),
        ("FtsR0", "FtsR", "0"),
        ("ProvSyncType2", "ProvSyncType", "2"),
        ("GetChgsIter1", "GetChgsIter", "1"),
        ("GetChgsTime15", "GetChgsTime", "15"),
        ("Filts0", "Filts", "0"),
        ("Cli:0a1c0d0f0e0s0fs", "Cli", "0a1c0d0f0e0s0fs"),
        ("Srv:3a0c1d0s0e0r0A0sd", "Srv", "3a0c1d0s0e0r0A0sd"),
        ("Pfs1", "Pfs", "1"),
        ("BR2", "BR", "2"),
        ("BPR1", "BPR", "1"),
        ("E0", "E", "0"),
        ("Io3", "Io", "3"),
        ("Hb1680", "Hb", "1680"),
        ("Hb:600", "Hb", "600"),
        ("Rto:2", "Rto", "2"),
        ("Hang540", "Hang", "540"),
        ("Erq1", "Erq", "1"),
        ("Ers1", "Ers", "1"),
        ("Erd30", "Erd", "30"),
        ("Cpo:656", "Cpo", "656"),
        ("Fet:600000", "Fet", "600000"),
        ("Ssp1", "Ssp", "1"),
        ("Sspb2048", "Sspb", "2048"),
        ("Unc1", "Unc", "1"),
        ("Uncb4096", "Uncb", "4096"),
        ("Att1", "Att", "1"),
        ("Attb52311", "Attb", "52311"),
        ("Pk4016830080", "Pk", "4016830080"),
        ("Pk:4016830081", "Pk", "4016830081"),
        ("Pa1", "Pa", "1"),
        ("Oof:Get", "Oof", "Get"),
        ("UserInfo:Get", "UserInfo", "Get"),
        ("DevModel:iPhone14C4", "DevModel", "iPhone14C4"),
        ("DevIMEI:356938035643809", "DevIMEI", "356938035643809"),
        ("DevName:Jane%27s+iPhone", "DevName", "Jane's iPhone"),
        ("DevOS:iOS+9.2+13C71", "DevOS", "iOS 9.2 13C71"),
        ("DevLang:en", "DevLang", "en"),
        (
            "DevAgent:Apple-iPhone14C4%2f2008.100",
            "DevAgent",
            "Apple-iPhone14C4/2008.100",
        ),
        ("DevEnaSMS:False", "DevEnaSMS", "False"),
        ("DevMoOp:Contoso+Mobile", "DevMoOp", "Contoso Mobile"),
        ("S3", "S", "3"),
        ("SC1:1", "SC1", "1"),
        ("Error:PingCollisionDetected", "Error", "PingCollisionDetected"),
        ("Error:FId%3a5%3aSyncStateNotFound", "Error", "FId:5:SyncStateNotFound"),
        ("Msg:Mailbox+full", "Msg", "Mailbox full"),
        ("ADWR:DeviceOS", "ADWR", "DeviceOS"),
        ("ExStk:at+Foo.Bar%5FBaz()", "ExStk", "at Foo.Bar_Baz()"),
        ("RR1", "RR", "1"),
        ("Fb0", "Fb", "0"),
        ("Ct1", "Ct", "1"),
        ("Pic0", "Pic", "0"),
        ("ItO2", "ItO", "2"),
        ("MRi1", "MRi", "1"),
        ("MRe0", "MRe", "0"),
        ("Mi3", "Mi", "3"),
        ("MeI0", "MeI", "0"),
        ("Srch5", "Srch", "5"),
        ("Tpr1", "Tpr", "1"),
        ("Spr1", "Spr", "1"),
        ("Pfc2", "Pfc", "2"),
        ("VCh1", "VCh", "1"),
        ("VCe0", "VCe", "0"),
        ("VCRL1", "VCRL", "1"),
        ("ClsName:Email", "ClsName", "Email"),
        ("SkipSend:T", "SkipSend", "T"),
        ("MOLk:F", "MOLk", "F"),
        ("Uuhp:T", "Uuhp", "T"),
        ("Em:T", "Em", "T"),
        ("GaC:1", "GaC", "1"),
        ("Puid:1003BFFD9A3C4D2B", "Puid", "1003BFFD9A3C4D2B"),
        ("Oid:5c3a9f1e", "Oid", "5c3a9f1e"),
        ("OrgType:Consumer", "OrgType", "Consumer"),
        ("OlkExtHdr:T", "OlkExtHdr", "T"),
        ("SNSSN:1", "SNSSN", "1"),
        ("NmDeferred1", "NmDeferred", "1"),
        ("IcsHier1", "IcsHier", "1"),
        ("BlCARName:rule1", "BlCARName", "rule1"),
        ("LatCAR12", "LatCAR", "12"),
        ("DBL1", "DBL", "1"),
        ("DBS0", "DBS", "0"),
        ("CmdHC-1220337025", "CmdHC", "-1220337025"),
        ("SyncHC1741155935", "SyncHC", "1741155935"),
        ("As:AllowedG", "As", "AllowedG"),
        ("As:BlockedABO", "As", "BlockedABO"),
        ("Ms:ABQ", "Ms", "ABQ"),
        ("Ssu:2007-2010", "Ssu", "2007-2010"),
        ("Ab:1", "Ab", "1"),
        ("Mbx:MBX1.contoso.com", "Mbx", "MBX1.contoso.com"),
        ("Cafe:FE01.contoso.com", "Cafe", "FE01.contoso.com"),
        ("Dc:dc1.contoso.com", "Dc", "dc1.contoso.com"),
        ("Throttle0", "Throttle", "0"),
        ("Throttle:250", "Throttle", "250"),
        ("SBkOffD:L%2f-470", "SBkOffD", "L/-470"),
        ("BkOffRsn:OutOfBudget", "BkOffRsn", "OutOfBudget"),
        ("TmRcv06:53:38.4480003", "TmRcv", "06:53:38.4480003"),
        ("TmSt:06:53:38.45", "TmSt", "06:53:38.45"),
        ("TmDASt06:53:38.46", "TmDASt", "06:53:38.46"),
        ("TmPolSt06:53:38.47", "TmPolSt", "06:53:38.47"),
        ("TmExSt06:53:38.48", "TmExSt", "06:53:38.48"),
        ("TmExFin06:53:38.49", "TmExFin", "06:53:38.49"),
        ("TmFin06:53:38.50", "TmFin", "06:53:38.50"),
        ("TmCmpl06:53:38.51", "TmCmpl", "06:53:38.51"),
        ("TmHang06:53:39.00", "TmHang", "06:53:39.00"),
        ("TmCnt07:03:38.00", "TmCnt", "07:03:38.00"),
        (
            "ActivityContextData:ActivityID%3d0483abd0-1b2c%3bI32%3aADS.C%5bdc1%5d%3d1%3bS%3aWLM.BT%3dEas",
            "ActivityContextData",
            "ActivityID=0483abd0-1b2c;I32:ADS.C[dc1]=1;S:WLM.BT=Eas",
        ),
        (
            "Budget:(A)Owner%3aS-1-5-21-1%5FiPhone%2cConn%3a0%2cBalance%3a-36972",
            "Budget",
            "(A)Owner:S-1-5-21-1_iPhone,Conn:0,Balance:-36972",
        ),
        ("LdapC1", "LdapC", "1"),
        ("LdapL2", "LdapL", "2"),
        ("RpcC28", "RpcC", "28"),
        ("RpcL31", "RpcL", "31"),
    ];

    #[test]
    fn budget_snapshots_and_activity_context_read_as_structures() {
        // 2016+: acquired and released, joined with `;` (the reference's layout, §3.2).
        let f = parse_log(
            "Budget:(A)Owner%3aS-1-5-21-1%5FSYNTH0002%5FAndroid%2cConn%3a3%2cMaxConn%3a10%2cBalance%3a-36972%3b(D)Owner%3aS-1-5-21-1%5FSYNTH0002%5FAndroid%2cConn%3a2%2cBalance%3a-37000_ActivityContextData:ActivityID%3d0483abd0-1b2c%3bI32%3aADS.C%5bdc-srv%5d%3d1%3bF%3aADS.AL%5bdc-srv%5d%3d1.62791%3bS%3aWLM.BT%3dEas%3bodd_",
        );
        let phases: Vec<Option<&str>> = f.budgets.iter().map(|b| b.phase).collect();
        assert_eq!(phases, [Some("acquired"), Some("released")]);
        assert_eq!(f.budgets[0].get("Owner"), Some("S-1-5-21-1_SYNTH0002_Android"));
        assert_eq!(f.budgets[0].get("MaxConn"), Some("10"));
        assert_eq!(f.budgets[1].get("Balance"), Some("-37000"));
        let a = f.activity.as_ref().unwrap();
        assert_eq!(a.activity_id.as_deref(), Some("0483abd0-1b2c"));
        let entries: Vec<(&str, &str, Option<&str>, &str)> = a
            .entries
            .iter()
            .map(|e| (e.kind.as_str(), e.key.as_str(), e.instance.as_deref(), e.value.as_str()))
            .collect();
        assert_eq!(
            entries,
            [
                ("I32", "ADS.C", Some("dc-srv"), "1"),
                ("F", "ADS.AL", Some("dc-srv"), "1.62791"),
                ("S", "WLM.BT", None, "Eas"),
                ("", "odd", None, ""),
            ]
        );
        assert_eq!(a.text(), "ADS.C[dc-srv]=1, ADS.AL[dc-srv]=1.62791, WLM.BT=Eas, odd=");
        // 2010 (§3.3): no phase letters past (A), values with `$` and `/`, a part without `:`.
        let f = parse_log("Budget:(A)Conn%3a1%2cHangingConn%3a0%2cAD%3a%24null%2f%24null%2f0%25%2cNorm_");
        assert_eq!(f.budgets.len(), 1);
        assert_eq!(f.budgets[0].get("AD"), Some("$null/$null/0%"));
        assert_eq!(f.budgets[0].get("Norm"), Some(""));
    }

    #[test]
    fn stage_times_read_in_both_spellings_and_take_the_line_s_date_across_midnight() {
        // The reference's 2016 line (§3.3) is logged at 07:03:38 after a 600 s Ping.
        let mut f = parse_log("Hb:600_TmRcv:06:53:38.4480003_TmExSt06:53:38.460_TmCmpl:07:03:38.502_Junk_TmNope:1_");
        let line_ms = chrono::NaiveDate::from_ymd_opt(2022, 7, 20)
            .unwrap()
            .and_hms_opt(7, 3, 38)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        f.anchor(line_ms);
        let got: Vec<(&str, &str, i64)> = f
            .stages
            .iter()
            .map(|s| (s.token.as_str(), s.stage, line_ms - s.at_ms.unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("TmRcv", "received", 599_552),
                ("TmExSt", "execute started", 599_540),
                ("TmCmpl", "completed", -502),
            ]
        );
        assert_eq!(
            f.stages_text().as_deref(),
            Some("received 06:53:38.448, execute started 06:53:38.460 (+12 ms), completed 07:03:38.502 (+600,054 ms)")
        );
        // Received before midnight, logged after it: the day before.
        let mut f = parse_log("TmRcv23:59:58.000_TmCmpl00:00:04.5_");
        let midnight = 19_000 * DAY_MS;
        f.anchor(midnight + 5_000);
        let at: Vec<i64> = f.stages.iter().map(|s| s.at_ms.unwrap() - midnight).collect();
        assert_eq!(at, vec![-2_000, 4_500]);
        assert_eq!(
            f.stages_text().as_deref(),
            Some("received 23:59:58.000, completed 00:00:04.500 (+6,500 ms)")
        );
        assert_eq!(parse_log("TmRcv:25:00:00_").stages, vec![], "not a time of day");
    }

    #[test]
    fn every_documented_token_reads_with_its_name_and_value() {
        for &(written, name, value) in DOCUMENTED {
            let f = parse_log(&format!("{written}_"));
            assert_eq!(f.tokens, vec![(name.to_string(), value.to_string())], "{written}");
        }
        // All of them in one value, in order, each kept.
        let all: String = DOCUMENTED.iter().map(|(w, _, _)| format!("{w}_")).collect();
        let f = parse_log(&all);
        let want: Vec<(String, String)> = DOCUMENTED
            .iter()
            .map(|(_, n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(f.tokens, want);
        // The named fields, from the first spelling seen where a token repeats.
        assert_eq!(f.protocol_version.as_deref(), Some("14.1"));
        assert_eq!(f.status, Some(3));
        assert_eq!(f.error.as_deref(), Some("FId:5:SyncStateNotFound"));
        assert_eq!(f.heartbeat_s, Some(600));
        assert_eq!(
            (f.sync_key.as_deref(), f.server_sync_key.as_deref()),
            (Some("0"), Some("1204981531"))
        );
        assert_eq!(f.sync_type.as_deref(), Some("S"));
        assert_eq!(f.folder_count, Some(3));
        assert_eq!(f.folder.as_deref(), Some("5"));
        assert_eq!(f.policy_key.as_deref(), Some("4016830081"));
        assert_eq!(f.policy_ack, Some(1));
        assert_eq!(f.throttle_ms, Some(250));
        assert_eq!(
            f.budget.as_deref(),
            Some("(A)Owner:S-1-5-21-1_iPhone,Conn:0,Balance:-36972")
        );
        assert_eq!(f.back_off.as_deref(), Some("L/-470"));
        assert_eq!(f.access_state.as_deref(), Some("BlockedABO"));
        assert_eq!(f.mailbox_server.as_deref(), Some("MBX1.contoso.com"));
        assert_eq!(f.front_end.as_deref(), Some("FE01.contoso.com"));
        assert_eq!(f.proxied_from.as_deref(), Some("10.0.1.161"));
        assert_eq!(f.elapsed_ms, Some(600000));
        // The per-folder tokens belong to the folder they follow.
        let folder = &f.folders[0];
        assert_eq!((folder.id.as_str(), folder.class.as_deref()), ("5", Some("Em")));
        let cli = folder.client_changes.as_ref().unwrap();
        assert_eq!((cli.get("changes"), cli.get("failed_sends")), (Some(1), Some(0)));
        let srv = folder.server_changes.as_ref().unwrap();
        assert_eq!(
            (
                srv.get("adds"),
                srv.get("deletes"),
                srv.get("associated_adds"),
                srv.get("skipped_deletes")
            ),
            (Some(3), Some(1), Some(0), Some(0))
        );
    }

    #[test]
    fn item_counts_of_both_sides_and_odd_values() {
        let srv = ItemCounts::parse("12a3c0d1s0e2r0A4sd", false).unwrap();
        assert_eq!(
            srv.0,
            [
                ("adds", 12),
                ("changes", 3),
                ("deletes", 0),
                ("soft_deletes", 1),
                ("failed", 0),
                ("change_tracking_rejects", 2),
                ("associated_adds", 0),
                ("skipped_deletes", 4)
            ]
            .map(|(w, n)| (w.to_string(), n))
            .to_vec()
        );
        let cli = ItemCounts::parse("1a0c2d3f1e1s0fs", true).unwrap();
        assert_eq!(
            (cli.get("fetches"), cli.get("failed_conversions"), cli.get("sends")),
            (Some(3), Some(1), Some(1))
        );
        // The 2007 form (TN07's `Svr:2A0C2D1F1E`) keeps its codes as written.
        assert_eq!(ItemCounts::parse("2A0C", false).unwrap().0[1], ("C".to_string(), 0));
        for odd in ["", "a", "3", "3a-1c", "99999999999999999999999a"] {
            assert_eq!(ItemCounts::parse(odd, false), None, "{odd}");
        }
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
