//! A long synthetic capture for benchmarks: mostly Sync responses of 1–50 KB of email Adds, with
//! Ping, ItemOperations and FolderSync in between, from an iPhone (plain query) and an Android
//! phone (base64 query) sharing one clock. Streamed: one exchange is built per `next()`.
//! [`BigShape::Small`] keeps the same mix with bodies of a few hundred bytes (many small
//! sessions: per-session costs rather than inflating).

use chrono::TimeDelta;

use super::Device;
use super::content::*;
use super::flows::{email_adds, local_time};
use super::wire::{Conv, Framing, Lcg, MULTIPART, Req, Resp};
use easlens_core::eas::Command;
use easlens_core::wbxml::multipart;
use easlens_core::writers::Exchange;

/// Smallest and largest decoded size of a Sync response body.
pub(super) const SYNC_MIN: usize = 1024;
pub(super) const SYNC_MAX: usize = 50 * 1024;

/// The sizes of a big capture's bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BigShape {
    /// Sync responses of 1–50 KB, fetched bodies and attachments of 2–30 KB.
    #[default]
    Large,
    /// Sync responses, fetched bodies and attachments of 200 bytes to 1.5 KB.
    Small,
}

/// `n` exchanges for benchmarks, the same for the same seed. Built one at a time: memory does not
/// grow with `n`.
pub fn big(n: usize, seed: u64) -> impl Iterator<Item = Exchange> {
    big_shaped(n, seed, BigShape::Large)
}

/// [`big`] with bodies of the given shape.
pub fn big_shaped(n: usize, seed: u64, shape: BigShape) -> impl Iterator<Item = Exchange> {
    let mut stream = Stream::new(seed, shape);
    (0..n).map(move |_| stream.next_exchange())
}

struct DeviceState {
    conv: Conv,
    k5: u64,
    next_id: u32,
    folder_key: u32,
    /// ServerIds already sent (the newest few), for ItemOperations fetches.
    recent: Vec<String>,
}

impl DeviceState {
    fn new(device: Device, seed: u64) -> DeviceState {
        let start = local_time(Device::IPhone, (2024, 4, 2), (8, 0, 0));
        let mut conv = Conv::new(device, start, seed);
        conv.policy_key = Some(conv.rng.range(1_000_000_000, 4_000_000_000));
        let k5 = u64::from(conv.rng.range(100_000_000, 1_999_999_999));
        let folder_key = conv.rng.range(2, 40);
        DeviceState {
            conv,
            k5,
            next_id: 1,
            folder_key,
            recent: Vec::new(),
        }
    }
}

struct Stream {
    rng: Lcg,
    iphone: DeviceState,
    android: DeviceState,
    shape: BigShape,
}

impl Stream {
    fn new(seed: u64, shape: BigShape) -> Stream {
        Stream {
            shape,
            rng: Lcg::new(seed),
            iphone: DeviceState::new(Device::IPhone, seed.wrapping_mul(31).wrapping_add(1)),
            android: DeviceState::new(Device::Android, seed.wrapping_mul(31).wrapping_add(2)),
        }
    }

    fn next_exchange(&mut self) -> Exchange {
        let android = self.rng.chance(30);
        let (st, other) = if android {
            (&mut self.android, &mut self.iphone)
        } else {
            (&mut self.iphone, &mut self.android)
        };
        // One capture: both devices share Fiddler's clock and session numbers.
        st.conv.clock = st.conv.clock.max(other.conv.clock);
        st.conv.sid = st.conv.sid.max(other.conv.sid);
        match self.rng.below(100) {
            0..75 => sync(st, self.shape),
            75..85 => ping(st),
            85..95 => item_operations(st, self.shape),
            _ => folder_sync(st),
        }
        other.conv.clock = st.conv.clock;
        other.conv.sid = st.conv.sid;
        st.conv
            .out
            .pop()
            .unwrap_or_else(|| unreachable!("every step records one exchange"))
    }
}

fn sync(st: &mut DeviceState, shape: BigShape) {
    let c = &mut st.conv;
    let (d, v) = (c.device, c.version);
    let first_id = st.next_id;
    let new_mail = |c: &mut Conv, id: u32, len: usize| {
        let received = c.clock - TimeDelta::seconds(i64::from(c.rng.range(5, 3600)));
        let mut e = Email::generate(&mut c.rng, format!("{INBOX}:{id}"), received, len);
        if c.rng.chance(8) {
            e.truncate_to = Some(e.html.len() / 2);
        }
        e
    };
    // Adds until the estimated size reaches the target, then exact adjustments on the encoding.
    let (target, min, max) = match shape {
        BigShape::Large => (c.rng.range(1200, 46_000) as usize, SYNC_MIN, SYNC_MAX),
        BigShape::Small => (c.rng.range(200, 1200) as usize, 200, 1536),
    };
    let mut mails: Vec<Email> = Vec::new();
    let mut estimate = 120;
    while estimate < target {
        let len = (c.rng.range(400, 9000) as usize).min((target - estimate).max(300));
        let len = if shape == BigShape::Small { len.min(300) } else { len };
        let e = new_mail(c, first_id + mails.len() as u32, len);
        estimate += e.html.len() + 480;
        mails.push(e);
    }
    let encode = |mails: &[Email]| {
        wbxml(&sync_response(&[
            CollResp::new(INBOX, st.k5 + 1).commands(email_adds(v, mails))
        ]))
    };
    let mut body = encode(&mails);
    while body.len() > max {
        if mails.len() > 1 {
            mails.pop();
        } else if let Some(e) = mails.first_mut() {
            let half = e.html.floor_char_boundary(e.html.len() / 2);
            e.html.truncate(half);
        }
        body = encode(&mails);
    }
    while body.len() < min {
        let e = new_mail(c, first_id + mails.len() as u32, 1000.min(min));
        mails.push(e);
        body = encode(&mails);
    }
    st.next_id = first_id + mails.len() as u32;
    st.recent.extend(mails.iter().map(|m| m.server_id.clone()));
    if st.recent.len() > 32 {
        st.recent.drain(..st.recent.len() - 32);
    }
    let req = Req::post(
        Command::Sync,
        wbxml(&sync_request(d, v, &[CollReq::changes(INBOX, Class::Email, st.k5)])),
    );
    st.k5 += 1;
    let framing = match c.rng.below(20) {
        0..10 => Framing::Plain,
        10..15 => Framing::Gzip,
        15..18 => Framing::Chunked,
        _ => Framing::GzipChunked,
    };
    let ms = c.rng.range(120, 1800);
    c.send_timed(req, Resp::ok(body).framing(framing), ms);
}

fn ping(st: &mut DeviceState) {
    let c = &mut st.conv;
    let heartbeat = if c.device == Device::IPhone { 900 } else { 470 };
    let req = Req::post(Command::Ping, wbxml(&ping_request(heartbeat, PING_FOLDERS)));
    if c.rng.chance(50) {
        let ms = heartbeat * 1000 + c.rng.range(10, 400);
        c.send_timed(req, Resp::ok(wbxml(&ping_response(1, &[]))), ms);
    } else {
        let ms = c.rng.range(2_000, 300_000);
        c.send_timed(req, Resp::ok(wbxml(&ping_response(2, &[INBOX]))), ms);
    }
}

fn item_operations(st: &mut DeviceState, shape: BigShape) {
    let (low, high) = match shape {
        BigShape::Large => (2_000, 20_000),
        BigShape::Small => (200, 1_500),
    };
    let c = &mut st.conv;
    let server_id = if st.recent.is_empty() {
        format!("{INBOX}:1")
    } else {
        let i = c.rng.below(st.recent.len() as u32) as usize;
        st.recent[i].clone()
    };
    if c.rng.chance(70) {
        let len = c.rng.range(low, high) as usize;
        let html = html_body(&mut c.rng, len, "Jordan");
        let req = Req::post(Command::ItemOperations, wbxml(&fetch_body_request(INBOX, &server_id)));
        let resp = Resp::ok(wbxml(&fetch_body_response(INBOX, &server_id, &html)));
        let resp = if c.rng.chance(50) { resp.gzip() } else { resp };
        c.send(req, resp);
    } else {
        let file_reference = format!("{}%3a0", server_id.replace(':', "%3a"));
        let len = c.rng.range(low, high * 3 / 2) as usize;
        let mut bytes = b"%PDF-1.7\n".to_vec();
        while bytes.len() < len {
            bytes.push((c.rng.next_u32() >> 24) as u8);
        }
        bytes.extend_from_slice(b"\n%%EOF\n");
        let req = Req::post(
            Command::ItemOperations,
            wbxml(&fetch_attachment_request(&file_reference)),
        )
        .multipart();
        let part0 = wbxml(&fetch_attachment_response(&file_reference, "application/pdf"));
        let body = multipart::build(&[&part0, &bytes]);
        c.send(req, Resp::ok(body).content_type(MULTIPART).chunked());
    }
}

fn folder_sync(st: &mut DeviceState) {
    let c = &mut st.conv;
    let key = st.folder_key.to_string();
    let req = Req::post(Command::FolderSync, wbxml(&folder_sync_request(&key)));
    c.send(req, Resp::ok(wbxml(&folder_sync_unchanged(&key))));
}
