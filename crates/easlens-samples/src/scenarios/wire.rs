//! The wire layer of the scenarios: a device's request and Exchange's response as HTTP/1.1 bytes
//! (request line in origin form with the plain or base64 query, the headers each client sends,
//! gzip and chunked response bodies), a conversation clock, and a tiny seeded LCG so that every
//! sample is the same on every run.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use super::Device;
use easlens_core::eas::Command;
use easlens_core::eas::query::{QueryForm, RequestLine, encode_base64_query, encode_plain_query};
use easlens_core::writers::Exchange;

/// The Exchange front end every conversation starts on.
pub(super) const HOST: &str = "mail.example.com";
/// Where the 451 redirect sends the device.
pub(super) const HOST2: &str = "mail2.example.com";
/// The reset page announced by `X-MS-Credential-Service-Url`.
pub(super) const RESET_URL: &str = "https://passwordreset.example.com/";

pub(super) const WBXML: &str = "application/vnd.ms-sync.wbxml";
pub(super) const MULTIPART: &str = "application/vnd.ms-sync.multipart";

/// `contoso\jdoe:SamplePassword1`, an obviously fake credential.
const CREDENTIALS: &str = "contoso\\jdoe:SamplePassword1";

/// The password part of [`CREDENTIALS`].
pub(super) const PASSWORD_IN_CREDENTIALS: &str = "SamplePassword1";

/// The `Authorization: Basic` credentials the devices send.
pub(super) fn basic_credentials() -> String {
    BASE64.encode(CREDENTIALS)
}

/// A tiny linear congruential generator (Knuth's MMIX constants): deterministic variation without
/// the `rand` crate.
#[derive(Debug, Clone)]
pub(super) struct Lcg(u64);

impl Lcg {
    pub(super) fn new(seed: u64) -> Lcg {
        let mut lcg = Lcg(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        lcg.next_u32();
        lcg
    }

    pub(super) fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// A value in `0..n` (`n` > 0).
    pub(super) fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n.max(1))) >> 32) as u32
    }

    /// A value in `lo..=hi`.
    pub(super) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// True with the given probability in percent.
    pub(super) fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }

    pub(super) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = (self.next_u32() >> 24) as u8;
        }
        out
    }

    /// A GUID in registry form, upper-case (`request-id`, iOS ClientIds).
    pub(super) fn guid(&mut self) -> String {
        let b: [u8; 16] = self.bytes();
        let h = hex::encode_upper(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// One request of a device.
#[derive(Debug, Clone)]
pub(super) struct Req {
    method: &'static str,
    command: Option<Command>,
    /// Command parameters of the query (`CollectionId`, `ItemId`, …); none of the scenarios'
    /// commands needs one, the field keeps the encoder call general.
    params: Vec<(&'static str, String)>,
    body: Vec<u8>,
    accept_multipart: bool,
}

impl Req {
    /// A POST of `command` with a WBXML body (empty for a cached Sync/Ping).
    pub(super) fn post(command: Command, body: Vec<u8>) -> Req {
        Req {
            method: "POST",
            command: Some(command),
            params: Vec::new(),
            body,
            accept_multipart: false,
        }
    }

    /// Capability discovery: `OPTIONS` on the bare path.
    pub(super) fn options() -> Req {
        Req {
            method: "OPTIONS",
            command: None,
            params: Vec::new(),
            body: Vec::new(),
            accept_multipart: false,
        }
    }

    /// Asks for a multipart ItemOperations response (header or base64 Options bit).
    pub(super) fn multipart(mut self) -> Req {
        self.accept_multipart = true;
        self
    }
}

/// How a response body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    Plain,
    Gzip,
    Chunked,
    GzipChunked,
}

/// One response.
#[derive(Debug, Clone)]
pub(super) struct Resp {
    status: u16,
    reason: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    framing: Framing,
    /// Written by Exchange (IIS headers, MS-Server-ActiveSync) rather than by the proxy.
    from_exchange: bool,
    /// Carries `MS-Server-ActiveSync` (Exchange leaves it off its 401s).
    server_version: bool,
}

impl Resp {
    /// 200 with a WBXML body.
    pub(super) fn ok(body: Vec<u8>) -> Resp {
        Resp {
            status: 200,
            reason: "OK",
            content_type: Some(WBXML),
            body,
            headers: Vec::new(),
            framing: Framing::Plain,
            from_exchange: true,
            server_version: true,
        }
    }

    /// 200 with an empty body (SendMail, a Sync without changes).
    pub(super) fn ok_empty() -> Resp {
        Resp::status(200, "OK")
    }

    /// A bodiless status (`Content-Length: 0`).
    pub(super) fn status(status: u16, reason: &'static str) -> Resp {
        Resp {
            status,
            reason,
            content_type: None,
            body: Vec::new(),
            headers: Vec::new(),
            framing: Framing::Plain,
            from_exchange: true,
            server_version: status != 401,
        }
    }

    /// A text body with its content type.
    pub(super) fn text(mut self, content_type: &'static str, body: &str) -> Resp {
        self.content_type = Some(content_type);
        self.body = body.as_bytes().to_vec();
        self
    }

    pub(super) fn content_type(mut self, content_type: &'static str) -> Resp {
        self.content_type = Some(content_type);
        self
    }

    pub(super) fn header(mut self, name: &'static str, value: impl Into<String>) -> Resp {
        self.headers.push((name, value.into()));
        self
    }

    pub(super) fn framing(mut self, framing: Framing) -> Resp {
        self.framing = framing;
        self
    }

    pub(super) fn gzip(self) -> Resp {
        self.framing(Framing::Gzip)
    }

    pub(super) fn chunked(self) -> Resp {
        self.framing(Framing::Chunked)
    }

    pub(super) fn gzip_chunked(self) -> Resp {
        self.framing(Framing::GzipChunked)
    }

    /// A response Fiddler made up itself (no Exchange headers).
    pub(super) fn by_proxy(mut self) -> Resp {
        self.from_exchange = false;
        self.server_version = false;
        self
    }
}

/// A device talking to Exchange: builds the exchanges of one conversation in order.
#[derive(Debug)]
pub(super) struct Conv {
    pub(super) device: Device,
    /// Protocol version the device uses (the device default, or 12.1 against an old server).
    pub(super) version: &'static str,
    pub(super) host: &'static str,
    /// Path of the ActiveSync endpoint on `host`.
    pub(super) path: &'static str,
    /// Start time of the next request.
    pub(super) clock: DateTime<FixedOffset>,
    pub(super) sid: u64,
    pub(super) rng: Lcg,
    /// The device's policy key (`None`: not provisioned yet).
    pub(super) policy_key: Option<u32>,
    /// `MS-Server-ActiveSync` of the server.
    pub(super) server_build: &'static str,
    /// `Server` header of the server.
    pub(super) iis: &'static str,
    pub(super) out: Vec<Exchange>,
    /// Exchanges after [`Conv::stop_capture`]: Exchange logged them, the capture does not have them.
    pub(super) after_capture: Vec<Exchange>,
    capturing: bool,
}

impl Conv {
    pub(super) fn new(device: Device, start: DateTime<FixedOffset>, seed: u64) -> Conv {
        let mut rng = Lcg::new(seed);
        let sid = u64::from(rng.range(3, 40));
        Conv {
            device,
            version: device.protocol_version(),
            host: HOST,
            path: device.path(),
            clock: start,
            sid,
            rng,
            policy_key: None,
            server_build: "15.20",
            iis: "Microsoft-IIS/10.0",
            out: Vec::new(),
            after_capture: Vec::new(),
            capturing: true,
        }
    }

    pub(super) fn server_ip(&self) -> &'static str {
        if self.host == HOST2 {
            "203.0.113.25"
        } else {
            "203.0.113.10"
        }
    }

    /// The engineer stops the capture: later exchanges go to [`Conv::after_capture`].
    pub(super) fn stop_capture(&mut self) {
        self.capturing = false;
    }

    /// Waits `secs` seconds before the next request.
    pub(super) fn pause(&mut self, secs: i64) {
        self.clock += TimeDelta::seconds(secs);
    }

    /// An exchange with an ordinary server time (80–600 ms).
    pub(super) fn send(&mut self, req: Req, resp: Resp) -> &mut Exchange {
        let ms = self.rng.range(80, 600);
        self.send_timed(req, resp, ms)
    }

    /// An exchange that took `duration_ms` (a hanging Ping, a slow Sync).
    pub(super) fn send_timed(&mut self, req: Req, resp: Resp, duration_ms: u32) -> &mut Exchange {
        let request = self.request_bytes(&req);
        let done = self.clock + TimeDelta::milliseconds(i64::from(duration_ms));
        let generated = !resp.from_exchange;
        let response = self.response_bytes(&resp, done);
        self.push(request, Some(response), duration_ms, false, generated)
    }

    /// A request whose session was aborted before any response header arrived.
    pub(super) fn abort(&mut self, req: Req, duration_ms: u32) -> &mut Exchange {
        let request = self.request_bytes(&req);
        self.push(request, None, duration_ms, true, false)
    }

    fn push(
        &mut self,
        request: Vec<u8>,
        response: Option<Vec<u8>>,
        duration_ms: u32,
        aborted: bool,
        generated_by_proxy: bool,
    ) -> &mut Exchange {
        let exchange = Exchange {
            sid: self.sid,
            started: self.clock,
            duration_ms,
            client_ip: self.device.client_ip().to_string(),
            server_ip: self.server_ip().to_string(),
            request,
            response,
            aborted,
            generated_by_proxy,
            comment: None,
            ..Default::default()
        };
        // Fiddler numbers every session it sees; other traffic leaves gaps in the SIDs.
        self.sid += 1 + u64::from(self.rng.below(3)) * u64::from(self.rng.chance(30));
        self.clock += TimeDelta::milliseconds(i64::from(duration_ms) + i64::from(self.rng.range(700, 2600)));
        let list = if self.capturing {
            &mut self.out
        } else {
            &mut self.after_capture
        };
        list.push(exchange);
        let last = list.len() - 1;
        &mut list[last]
    }

    /// The request-target: path plus the plain or base64 query (none for OPTIONS).
    pub(super) fn target(&self, req: &Req) -> String {
        let Some(command) = req.command else {
            return self.path.to_string();
        };
        let device = self.device;
        let mut line = RequestLine::new(device.query_form());
        line.command = Some(command);
        line.user = Some(device.user().to_string());
        line.device_type = Some(device.device_type().to_string());
        line.parameters = req.params.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        let query = match device.query_form() {
            QueryForm::Plain => {
                line.device_id = Some(device.device_id().to_string());
                encode_plain_query(&line)
            }
            QueryForm::Base64 => {
                line.set_device_id_bytes(device.device_id().as_bytes());
                line.protocol_version = Some(self.version.to_string());
                line.locale = Some(0x0409);
                line.policy_key = self.policy_key;
                line.accept_multipart = req.accept_multipart.then_some(true);
                encode_base64_query(&line).unwrap_or_else(|e| panic!("sample request line does not encode: {e}"))
            }
        };
        format!("{}?{query}", self.path)
    }

    /// The whole request as the device sent it.
    pub(super) fn request_bytes(&self, req: &Req) -> Vec<u8> {
        let device = self.device;
        let post = req.method == "POST";
        let mut h: Vec<(&str, String)> = vec![("Host", self.host.to_string())];
        let auth = format!("Basic {}", basic_credentials());
        match device {
            Device::IPhone => {
                if post {
                    h.push(("Content-Type", WBXML.to_string()));
                }
                h.push(("Accept", "*/*".to_string()));
                h.push(("Accept-Language", "en-US,en;q=0.9".to_string()));
                h.push(("Accept-Encoding", "gzip, deflate, br".to_string()));
                h.push(("Authorization", auth));
                if post {
                    h.push(("MS-ASProtocolVersion", self.version.to_string()));
                    h.push(("X-MS-PolicyKey", self.policy_key.unwrap_or(0).to_string()));
                }
                if req.accept_multipart {
                    h.push(("MS-ASAcceptMultiPart", "T".to_string()));
                }
                h.push(("User-Agent", device.user_agent().to_string()));
            }
            Device::Android => {
                if post {
                    h.push(("Content-Type", WBXML.to_string()));
                }
                h.push(("Authorization", auth));
                h.push(("User-Agent", device.user_agent().to_string()));
                h.push(("Accept-Encoding", "gzip".to_string()));
            }
        }
        if post {
            h.push(("Content-Length", req.body.len().to_string()));
        }
        h.push((
            "Connection",
            if device == Device::IPhone {
                "keep-alive"
            } else {
                "Keep-Alive"
            }
            .to_string(),
        ));
        let mut out = format!("{} {} HTTP/1.1\r\n", req.method, self.target(req)).into_bytes();
        for (name, value) in &h {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&req.body);
        out
    }

    /// The whole response, finished at `done`.
    pub(super) fn response_bytes(&mut self, resp: &Resp, done: DateTime<FixedOffset>) -> Vec<u8> {
        let date = done.with_timezone(&Utc).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let gzip = matches!(resp.framing, Framing::Gzip | Framing::GzipChunked) && !resp.body.is_empty();
        let chunked = matches!(resp.framing, Framing::Chunked | Framing::GzipChunked);
        let body = if gzip {
            gzip_bytes(&resp.body)
        } else {
            resp.body.clone()
        };
        let body = if chunked { chunk(&body, &mut self.rng) } else { body };

        let mut h: Vec<(&str, String)> = Vec::new();
        if resp.from_exchange {
            h.push(("Cache-Control", "private".to_string()));
            if chunked {
                h.push(("Transfer-Encoding", "chunked".to_string()));
            }
            if let Some(ct) = resp.content_type {
                h.push(("Content-Type", ct.to_string()));
            }
            if gzip {
                h.push(("Content-Encoding", "gzip".to_string()));
            }
            h.push(("Server", self.iis.to_string()));
            h.push(("request-id", self.rng.guid().to_ascii_lowercase()));
            if resp.server_version {
                h.push(("MS-Server-ActiveSync", self.server_build.to_string()));
            }
            h.extend(resp.headers.iter().map(|(n, v)| (*n, v.clone())));
            h.push(("X-FEServer", "EXFE01".to_string()));
            h.push(("X-BEServer", "EXMBX02".to_string()));
            h.push(("X-Powered-By", "ASP.NET".to_string()));
            h.push(("Date", date));
            if !chunked {
                h.push(("Content-Length", body.len().to_string()));
            }
        } else {
            // Fiddler's own error page.
            h.push(("Date", date));
            if let Some(ct) = resp.content_type {
                h.push(("Content-Type", ct.to_string()));
            }
            h.push(("Connection", "close".to_string()));
            h.push(("Cache-Control", "no-cache, must-revalidate".to_string()));
            h.push(("Timestamp", done.format("%H:%M:%S%.3f").to_string()));
            h.extend(resp.headers.iter().map(|(n, v)| (*n, v.clone())));
        }
        let status_line = if resp.reason.is_empty() {
            format!("HTTP/1.1 {}\r\n", resp.status)
        } else {
            format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason)
        };
        let mut out = status_line.into_bytes();
        for (name, value) in &h {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        out
    }
}

/// gzip with a fixed header (no name, mtime 0), so the bytes are the same on every run. Level 1,
/// like IIS dynamic compression at its low default levels.
pub(super) fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    encoder.write_all(data).unwrap_or_default();
    encoder.finish().unwrap_or_default()
}

/// HTTP/1.1 chunked framing (RFC 9112 section 7.1): chunks of 1–8 KiB, then the last chunk.
pub(super) fn chunk(data: &[u8], rng: &mut Lcg) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16 + data.len() / 512);
    let mut rest = data;
    while !rest.is_empty() {
        let size = (rng.range(1024, 8192) as usize).min(rest.len());
        out.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        out.extend_from_slice(&rest[..size]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[size..];
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}
