//! The free-text index: which sessions contain which words, built once in the background.
//!
//! Holding the decoded XML of every session is out of the question (the 20,000 sessions of
//! `easlens samples --big 20000` hold 365 MB of text, their rendered XML far more), and decoding
//! 40,000 bodies on every keystroke is out of the question too. So the index keeps *words*: every
//! body is read once, decoded (de-chunk, decompress, WBXML) and cut into words — lower-cased runs
//! of letters and digits — and the index stores, for each distinct word, the sessions it occurs
//! in (delta-encoded varints, or a bitmap when that is smaller). A query word is looked up by
//! scanning the vocabulary (all distinct words in one `\0`-separated string) for it as a
//! substring, so `sync` still finds `foldersync` and `2024` finds `20240402t081500z`; the sessions
//! of every word that contains it are united. On the 20,000-session capture: 294,000 words, 4.7
//! million (word, session) pairs, 10 MB.
//!
//! The trade-off: a search is word-based, not byte-exact. A term with several words
//! (`"quarterly planning"`, `jdoe@contoso.com`) matches the sessions that contain all of its
//! words — the first as a word ending, the last as a word beginning, the ones between whole — but
//! not necessarily next to each other or in that order; punctuation is not searched. Words are
//! indexed by their first 64 characters, and what is evidently not prose is left out of bodies:
//! runs of base64 of 60 characters or more, binary content (images, encrypted blobs).
//!
//! What is indexed, for every session: the metadata free text searches without the index (URL,
//! method, reason phrase, header names and values, comment, notes), and — but for CONNECT
//! tunnels — the request and response bodies as kept in the capture (bodies an exporter destroyed
//! or left out have nothing to index). WBXML bodies: element names and namespaces, text content,
//! byte arrays as lower-case hex (ConversationId), and OPAQUE content that is text in UTF-8 or
//! Latin-1 (the MIME of SendMail and of Sync MIME bodies); the other parts of a multipart
//! ItemOperations response and bodies that are not WBXML (HTML error pages, MIME, text) when they
//! are text, up to 1 MiB each.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use memchr::memmem;
use rayon::prelude::*;

use crate::capture::{Body, BodyKept, Capture, Session};
use crate::capture::{Progress, ProgressCallback};
use crate::content::{self, BodyContext};
use crate::http::{Headers, Side};
use crate::wbxml::render::{ContentForm, content_form};
use crate::wbxml::{Document, Event, Tag};

/// Words are indexed by their first this many characters.
pub const MAX_WORD_CHARS: usize = 64;
/// Bodies that are not WBXML (and multipart parts after the first) are indexed up to this size.
pub const MAX_PLAIN_TEXT: usize = 1 << 20;
/// A whitespace-free run of base64 characters at least this long is not indexed.
const BLOB_RUN: usize = 60;
/// Sessions decoded per batch (between two merges into the index and two progress reports).
const BATCH: usize = 1024;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Figures about a built index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextIndexStats {
    pub sessions: usize,
    /// Bodies read back from the capture and decoded.
    pub bodies: usize,
    /// Bytes of text cut into words (element text, names, plain bodies).
    pub text_bytes: u64,
    /// Distinct words.
    pub words: usize,
    /// Bytes of the vocabulary (the distinct words, `\0`-separated).
    pub vocabulary_bytes: usize,
    /// Bytes of the session lists and bitmaps.
    pub postings_bytes: usize,
    /// (word, session) pairs.
    pub postings: u64,
    /// Words stored as a bitmap of sessions rather than a list.
    pub bitmap_words: usize,
    /// Heap memory the index holds.
    pub memory_bytes: usize,
    /// Wall time of [`TextIndex::build`], in milliseconds.
    pub build_ms: f64,
}

/// Which sessions contain which words. See the module documentation.
pub struct TextIndex {
    /// Distinguishes indexes, so a query can cache what it resolved against one.
    pub(crate) id: u64,
    /// `Session::index` of each position.
    ids: Vec<u32>,
    /// Position of each `Session::index` when `ids` is not strictly increasing.
    by_index: Option<HashMap<u32, u32>>,
    /// `\0word\0word\0…\0`.
    vocab: Vec<u8>,
    /// Offset in `vocab` of each word's first byte.
    starts: Vec<u32>,
    /// `postings[post_offsets[w]..post_offsets[w + 1]]`: tag 0 + varints, or tag 1 + bitmap bytes.
    post_offsets: Vec<u32>,
    postings: Vec<u8>,
    /// Per session, which of `0-9a-z` its words hold: a one-character search (the first
    /// keystroke) needs no union of the postings of most of the vocabulary.
    chars: Vec<u64>,
    stats: TextIndexStats,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex").field("stats", &self.stats).finish()
    }
}

impl TextIndex {
    /// Reads and decodes every body of `capture` (on all cores) and indexes its words. Reports
    /// progress about every 1,024 sessions; returns `None` when `cancel` is set.
    pub fn build(
        capture: &Capture,
        progress: Option<&ProgressCallback<'_>>,
        cancel: Option<&AtomicBool>,
    ) -> Option<TextIndex> {
        let started = Instant::now();
        let n = capture.sessions.len();
        let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        let report = |done: usize| {
            if let Some(p) = progress {
                p(Progress {
                    fraction: if n == 0 { 1.0 } else { done as f32 / n as f32 },
                    message: format!("Indexing text {done} of {n}"),
                });
            }
        };
        report(0);
        let mut builder = Builder::new(n);
        let decode_batch = |from: usize| -> Vec<SessionWords> {
            (from..(from + BATCH).min(n))
                .into_par_iter()
                .map(|i| {
                    if cancelled() {
                        SessionWords::default()
                    } else {
                        session_words(capture, &capture.sessions[i])
                    }
                })
                .collect()
        };
        // Merging a batch (one thread) overlaps decoding the next (all threads).
        let mut pending = if n > 0 { Some(decode_batch(0)) } else { None };
        let mut next = BATCH;
        while let Some(batch) = pending.take() {
            if cancelled() {
                return None;
            }
            let from = next - BATCH;
            let more = next < n;
            let (_, decoded) = rayon::join(|| builder.merge(from, batch), || more.then(|| decode_batch(next)));
            report((from + BATCH).min(n));
            pending = decoded;
            next += BATCH;
        }
        if cancelled() {
            return None;
        }
        let mut index = builder.finish(capture);
        index.stats.build_ms = started.elapsed().as_secs_f64() * 1e3;
        Some(index)
    }

    /// Number of sessions (the capture's, when the index was built).
    pub fn sessions(&self) -> usize {
        self.ids.len()
    }

    pub fn stats(&self) -> &TextIndexStats {
        &self.stats
    }

    /// Heap memory the index holds, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.stats.memory_bytes
    }

    /// Positions (in `Capture::sessions`) of the sessions whose bodies or metadata contain `text`,
    /// with the word-based meaning described in the module documentation.
    pub fn search(&self, text: &str) -> Vec<u32> {
        self.resolve(text).map_or_else(Vec::new, |b| b.ones().collect())
    }

    /// The position of `session` in the capture the index was built from, found by `Session::index`.
    pub(crate) fn position_of(&self, session: &Session) -> Option<usize> {
        let i = session.index as usize;
        if i >= 1 && self.ids.get(i - 1) == Some(&session.index) {
            return Some(i - 1);
        }
        match &self.by_index {
            Some(map) => map.get(&session.index).map(|&p| p as usize),
            None => self.ids.binary_search(&session.index).ok(),
        }
    }

    /// The sessions whose indexed text contains every word of `text`; `None` when `text` has no
    /// word (letters or digits) to look up.
    pub(crate) fn resolve(&self, text: &str) -> Option<Bitset> {
        let n = self.ids.len();
        let words = query_words(text);
        if words.is_empty() {
            return None;
        }
        let mut acc: Option<Bitset> = None;
        for w in &words {
            let mut b = Bitset::new(n);
            self.word_sessions(w, &mut b);
            let b = match acc {
                None => b,
                Some(mut a) => {
                    a.and(&b);
                    a
                }
            };
            if b.is_empty() {
                return Some(b);
            }
            acc = Some(b);
        }
        acc
    }

    /// Unites into `out` the sessions of every indexed word that `w` matches.
    fn word_sessions(&self, w: &QueryWord, out: &mut Bitset) {
        if let ([b], false, false) = (w.text.as_bytes(), w.anchored_start, w.anchored_end)
            && let Some(bit) = char_bit(*b)
        {
            for (i, mask) in self.chars.iter().enumerate() {
                if mask >> bit & 1 == 1 {
                    out.set(i);
                }
            }
            return;
        }
        self.scan_vocabulary(w, out);
    }

    fn scan_vocabulary(&self, w: &QueryWord, out: &mut Bitset) {
        let mut pattern = Vec::with_capacity(w.text.len() + 2);
        if w.anchored_start {
            pattern.push(0);
        }
        pattern.extend_from_slice(w.text.as_bytes());
        if w.anchored_end {
            pattern.push(0);
        }
        let mut last = usize::MAX;
        for hit in memmem::find_iter(&self.vocab, &pattern) {
            let first = hit + usize::from(w.anchored_start);
            let word = self.starts.partition_point(|&s| s as usize <= first).saturating_sub(1);
            if word != last {
                last = word;
                self.or_postings(word, out);
            }
        }
    }

    fn or_postings(&self, word: usize, out: &mut Bitset) {
        let data = &self.postings[self.post_offsets[word] as usize..self.post_offsets[word + 1] as usize];
        match data.split_first() {
            Some((0, mut list)) => {
                let mut pos = 0u64;
                let mut first = true;
                while let Some((v, rest)) = read_varint(list) {
                    pos = if first { v } else { pos + v };
                    first = false;
                    out.set(pos as usize);
                    list = rest;
                }
            }
            Some((_, bytes)) => {
                for (word, chunk) in out.0.iter_mut().zip(bytes.chunks(8)) {
                    let mut b = [0u8; 8];
                    b[..chunk.len()].copy_from_slice(chunk);
                    *word |= u64::from_le_bytes(b);
                }
            }
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bitsets

/// A set of session positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bitset(Vec<u64>);

impl Bitset {
    pub(crate) fn new(n: usize) -> Bitset {
        Bitset(vec![0; n.div_ceil(64)])
    }

    pub(crate) fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    fn and(&mut self, other: &Bitset) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(i as u32 * 64 + bit)
            })
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Words

/// Appends `c` lower-cased.
fn push_lower(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else {
        out.extend(c.to_lowercase());
    }
}

/// A word of a query: lower-cased, and whether it must start / end an indexed word (it does when
/// the query has a non-word character before / after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryWord {
    pub(crate) text: String,
    pub(crate) anchored_start: bool,
    pub(crate) anchored_end: bool,
}

pub(crate) fn query_words(text: &str) -> Vec<QueryWord> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_alphanumeric() {
            i += 1;
        }
        let mut w = String::new();
        for &c in chars[start..i].iter().take(MAX_WORD_CHARS) {
            push_lower(c, &mut w);
        }
        out.push(QueryWord {
            text: w,
            anchored_start: start > 0,
            // A word cut at 64 characters was indexed cut too: its end is not a word end.
            anchored_end: i < chars.len() && i - start <= MAX_WORD_CHARS,
        });
    }
    out
}

/// The distinct words of one session, collected in one `\0`-separated string.
///
/// Words are told apart by a 64-bit hash of their bytes: two different words of one session with
/// the same hash (odds around 10^-13 for a session of a few thousand words) would keep only the first.
#[derive(Default)]
struct Words {
    /// The word being cut, lower-cased.
    word: String,
    seen: HashSet<u64, BuildHasherDefault<IdentityHasher>>,
    out: String,
    text_bytes: u64,
    bodies: usize,
}

/// 1: ASCII letter or digit; 0: other ASCII; 2: a byte of a non-ASCII character.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_alphanumeric() {
            1
        } else if b >= 0x80 {
            2
        } else {
            0
        };
        i += 1;
    }
    t
};

impl Words {
    /// One word as given (an element or namespace name, hex bytes).
    fn word(&mut self, w: &str) {
        self.word.clear();
        for c in w.chars().take(MAX_WORD_CHARS) {
            push_lower(c, &mut self.word);
        }
        self.end_word();
    }

    fn end_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        if self.seen.insert(word_hash(self.word.as_bytes())) {
            if !self.out.is_empty() {
                self.out.push('\0');
            }
            self.out.push_str(&self.word);
        }
        self.word.clear();
    }

    /// Cuts `text` into words, leaving out base64 runs.
    fn text(&mut self, text: &str) {
        self.text_bytes += text.len() as u64;
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // A whitespace-separated chunk; tabs and form feeds do not end one (they end words).
            let end = memchr::memchr3(b' ', b'\n', b'\r', &b[i..]).map_or(b.len(), |k| i + k);
            let chunk = &b[i..end];
            let blob = chunk.len() >= BLOB_RUN
                && chunk
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_'));
            if !blob {
                // `i` and `end` are at ASCII bytes (or the ends): character boundaries.
                self.chunk(&text[i..end]);
            }
            i = end + 1;
        }
    }

    /// Cuts metadata into words; base64 runs included (a base64-encoded EAS query is searchable).
    fn metadata(&mut self, text: &str) {
        self.text_bytes += text.len() as u64;
        self.chunk(text);
    }

    fn chunk(&mut self, s: &str) {
        let b = s.as_bytes();
        let mut count = 0usize;
        let mut j = 0;
        while j < b.len() {
            match CLASS[b[j] as usize] {
                1 => {
                    let run = j;
                    while j < b.len() && CLASS[b[j] as usize] == 1 {
                        j += 1;
                    }
                    let take = (j - run).min(MAX_WORD_CHARS.saturating_sub(count));
                    if take > 0 {
                        let at = self.word.len();
                        self.word.push_str(&s[run..run + take]);
                        self.word[at..].make_ascii_lowercase();
                    }
                    count += j - run;
                }
                0 => {
                    j += 1;
                    self.end_word();
                    count = 0;
                }
                _ => {
                    let ch = s[j..].chars().next().unwrap_or(' ');
                    j += ch.len_utf8();
                    if ch.is_alphanumeric() {
                        if count < MAX_WORD_CHARS {
                            push_lower(ch, &mut self.word);
                        }
                        count += 1;
                    } else {
                        self.end_word();
                        count = 0;
                    }
                }
            }
        }
        self.end_word();
    }

    fn finish(self) -> SessionWords {
        let mut chars = 0u64;
        for &b in self.out.as_bytes() {
            if let Some(bit) = char_bit(b) {
                chars |= 1 << bit;
            }
        }
        SessionWords {
            words: self.out,
            chars,
            text_bytes: self.text_bytes,
            bodies: self.bodies,
        }
    }
}

/// The bit of an ASCII digit or lower-case letter in a session's character mask.
fn char_bit(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 10),
        _ => None,
    }
}

/// A 64-bit hash of a word (folded multiplications, as foldhash does).
fn word_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let fold = |a: u64, b: u64| {
        let r = u128::from(a) * u128::from(b);
        (r as u64) ^ ((r >> 64) as u64)
    };
    let mut h = 0x243f_6a88_85a3_08d3 ^ bytes.len() as u64;
    for c in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        h = fold(h ^ u64::from_le_bytes(w), K);
    }
    fold(h, K)
}

/// For sets of [`word_hash`] values, which are hashes already.
#[derive(Default, Clone, Copy)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
struct SessionWords {
    words: String,
    /// Which of `0-9a-z` occur in the words (bit 0 = `0`, bit 10 = `a`).
    chars: u64,
    text_bytes: u64,
    bodies: usize,
}

fn session_words(capture: &Capture, session: &Session) -> SessionWords {
    let mut w = Words::default();
    metadata_words(session, &mut w);
    if !session.flags.tunnel {
        if let Some(r) = &session.request {
            let context = BodyContext {
                side: Side::Request,
                method: &r.head.method,
                tunnel: false,
            };
            body_words(capture, &r.body, &r.head.headers, &context, &mut w);
        }
        if let Some(r) = &session.response {
            let context = BodyContext {
                side: Side::Response,
                method: "",
                tunnel: false,
            };
            body_words(capture, &r.body, &r.head.headers, &context, &mut w);
        }
    }
    w.finish()
}

/// What free text searches without the index: URL, method, reason, headers, comment, notes.
fn metadata_words(s: &Session, w: &mut Words) {
    if let Some(r) = &s.request {
        w.metadata(&r.url());
        w.metadata(&r.head.method);
        for (n, v) in r.head.headers.iter() {
            w.metadata(n);
            w.metadata(v);
        }
    }
    if let Some(r) = &s.response {
        w.metadata(&r.head.reason);
        for (n, v) in r.head.headers.iter() {
            w.metadata(n);
            w.metadata(v);
        }
    }
    for n in s.remarks() {
        w.metadata(n);
    }
    if let Some(c) = &s.comment {
        w.metadata(c);
    }
}

/// The words of a body: its document's when it is WBXML (as analysis reads it), else its text;
/// then the text of a multipart body's other parts.
fn body_words(capture: &Capture, body: &Body, headers: &Headers, context: &BodyContext<'_>, w: &mut Words) {
    if body.kept != BodyKept::Present || body.stored_len == 0 {
        return;
    }
    let Ok(raw) = capture.raw_body(body) else { return };
    if raw.is_empty() {
        return;
    }
    w.bodies += 1;
    // The analysis budget, as for the EAS summary: the index reads every body of a capture.
    let content = content::analyse(&raw, body, headers, context, content::Budget::ANALYSIS);
    drop(raw);
    match content.document() {
        Some(doc) => document_words(doc, w),
        None => plain_words(content.payload(), w),
    }
    for part in content.other_parts() {
        plain_words(part, w);
    }
}

fn document_words(doc: &Document, w: &mut Words) {
    let mut open: Vec<Tag> = Vec::new();
    for ev in doc.walk() {
        match ev {
            Event::Start(e) => {
                open.push(e.tag());
                if let Some(name) = e.name() {
                    w.word(name);
                }
                // The XML view declares each code page's namespace (`xmlns="Calendar:"`).
                if let Some(ns) = e.tag().namespace() {
                    w.word(ns);
                }
            }
            Event::End(_) => {
                open.pop();
            }
            Event::Data { bytes, opaque } => {
                let tag = open.last().copied().unwrap_or(Tag::new(0, 0));
                match content_form(tag, bytes, opaque) {
                    ContentForm::Text => w.text(std::str::from_utf8(bytes).unwrap_or_default()),
                    ContentForm::Hex if bytes.len() <= MAX_WORD_CHARS / 2 => {
                        w.text_bytes += bytes.len() as u64;
                        w.word(&hex::encode(bytes));
                    }
                    ContentForm::Hex => {}
                    ContentForm::Base64 => {
                        if let Some(t) = as_text(bytes) {
                            w.text(&t);
                        }
                    }
                }
            }
        }
    }
}

fn plain_words(bytes: &[u8], w: &mut Words) {
    let bytes = &bytes[..bytes.len().min(MAX_PLAIN_TEXT)];
    if let Some(t) = as_text(bytes) {
        w.text(&t);
    }
}

/// Bytes as text: UTF-8 when they are (a character cut at the end is dropped), else Latin-1;
/// `None` when they look binary (NUL, or more than 1 % control characters in the first 4 KiB).
fn as_text(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let sample = &bytes[..bytes.len().min(4096)];
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    if sample.is_empty() || sample.contains(&0) || controls * 100 > sample.len() {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(Cow::Borrowed(s)),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok().map(Cow::Borrowed),
        Err(_) => Some(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())),
    }
}

// ---------------------------------------------------------------------------------------------
// Building

/// FxHash (rustc's): fast for short keys; the keys are words, not attacker-chosen at scale.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ rest.len() as u64);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;

struct PostingList {
    last: u32,
    count: u32,
    bytes: Vec<u8>,
}

struct Builder {
    n: usize,
    map: HashMap<Box<str>, u32, FxBuild>,
    vocab: Vec<u8>,
    starts: Vec<u32>,
    lists: Vec<PostingList>,
    chars: Vec<u64>,
    bodies: usize,
    text_bytes: u64,
    postings: u64,
}

impl Builder {
    fn new(n: usize) -> Builder {
        Builder {
            n,
            map: HashMap::default(),
            vocab: vec![0],
            starts: Vec::new(),
            lists: Vec::new(),
            chars: Vec::with_capacity(n),
            bodies: 0,
            text_bytes: 0,
            postings: 0,
        }
    }

    fn merge(&mut self, from: usize, batch: Vec<SessionWords>) {
        for (i, sw) in batch.into_iter().enumerate() {
            let pos = (from + i) as u32;
            self.chars.push(sw.chars);
            self.bodies += sw.bodies;
            self.text_bytes += sw.text_bytes;
            if sw.words.is_empty() {
                continue;
            }
            for word in sw.words.split('\0') {
                let id = match self.map.get(word) {
                    Some(&id) => id,
                    None => {
                        // The vocabulary is addressed with u32 offsets; past 4 GiB new words are dropped.
                        if self.vocab.len() + word.len() + 1 > u32::MAX as usize {
                            continue;
                        }
                        let id = self.lists.len() as u32;
                        self.starts.push(self.vocab.len() as u32);
                        self.vocab.extend_from_slice(word.as_bytes());
                        self.vocab.push(0);
                        self.lists.push(PostingList {
                            last: 0,
                            count: 0,
                            bytes: Vec::new(),
                        });
                        self.map.insert(word.into(), id);
                        id
                    }
                };
                let list = &mut self.lists[id as usize];
                let delta = if list.count == 0 { pos } else { pos - list.last };
                write_varint(&mut list.bytes, u64::from(delta));
                list.last = pos;
                list.count += 1;
                self.postings += 1;
            }
        }
    }

    fn finish(self, capture: &Capture) -> TextIndex {
        let Builder {
            n,
            map,
            mut vocab,
            mut starts,
            lists,
            chars,
            bodies,
            text_bytes,
            postings: posting_count,
        } = self;
        drop(map);
        let bitmap_len = n.div_ceil(8);
        let mut post_offsets = Vec::with_capacity(lists.len() + 1);
        let mut postings = Vec::new();
        let mut bitmap_words = 0;
        for list in lists {
            // Offsets are u32: past 4 GiB of postings (far beyond any capture), words lose their sessions.
            if postings.len() + list.bytes.len().max(bitmap_len) + 1 > u32::MAX as usize {
                post_offsets.push(postings.len() as u32);
                continue;
            }
            post_offsets.push(postings.len() as u32);
            if list.bytes.len() > bitmap_len {
                bitmap_words += 1;
                postings.push(1);
                let at = postings.len();
                postings.resize(at + bitmap_len, 0);
                let mut rest = &list.bytes[..];
                let mut pos = 0u64;
                let mut first = true;
                while let Some((v, r)) = read_varint(rest) {
                    pos = if first { v } else { pos + v };
                    first = false;
                    postings[at + pos as usize / 8] |= 1 << (pos % 8);
                    rest = r;
                }
            } else {
                postings.push(0);
                postings.extend_from_slice(&list.bytes);
            }
        }
        post_offsets.push(postings.len() as u32);
        postings.shrink_to_fit();
        vocab.shrink_to_fit();
        starts.shrink_to_fit();
        let ids: Vec<u32> = capture.sessions.iter().map(|s| s.index).collect();
        let by_index = if ids.windows(2).all(|w| w[0] < w[1]) {
            None
        } else {
            let mut m = HashMap::with_capacity(ids.len());
            for (p, &i) in ids.iter().enumerate() {
                m.entry(i).or_insert(p as u32);
            }
            Some(m)
        };
        let memory_bytes = vocab.capacity()
            + starts.capacity() * 4
            + post_offsets.capacity() * 4
            + postings.capacity()
            + ids.capacity() * 4
            + chars.capacity() * 8
            + by_index.as_ref().map_or(0, |m| m.capacity() * 16);
        let (words, vocabulary_bytes, postings_bytes) = (starts.len(), vocab.len(), postings.len());
        TextIndex {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ids,
            by_index,
            vocab,
            starts,
            post_offsets,
            postings,
            chars,
            stats: TextIndexStats {
                sessions: n,
                bodies,
                text_bytes,
                words,
                vocabulary_bytes,
                postings_bytes,
                postings: posting_count,
                bitmap_words,
                memory_bytes,
                build_ms: 0.0,
            },
        }
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_are_anchored_by_the_punctuation_around_them() {
        let w = query_words("jdoe@Contoso.com");
        assert_eq!(
            w.iter()
                .map(|w| (w.text.as_str(), w.anchored_start, w.anchored_end))
                .collect::<Vec<_>>(),
            vec![("jdoe", false, true), ("contoso", true, true), ("com", true, false)]
        );
        let w = query_words("@Grüße");
        assert_eq!(
            (w[0].text.as_str(), w[0].anchored_start, w[0].anchored_end),
            ("grüße", true, false)
        );
        assert!(query_words("<> !").is_empty());
    }

    #[test]
    fn words_skip_base64_runs_and_cut_long_words() {
        let mut w = Words::default();
        w.text("Hello, World! hello");
        w.text(&"QUJD".repeat(20));
        w.text(&"x".repeat(100));
        let sw = w.finish();
        let words: Vec<&str> = sw.words.split('\0').collect();
        assert_eq!(words, vec!["hello", "world"]);
        let mut w = Words::default();
        w.text(&format!("{} y", "é".repeat(70)));
        let sw = w.finish();
        assert_eq!(sw.words.split('\0').next().unwrap().chars().count(), MAX_WORD_CHARS);
    }

    #[test]
    fn text_detection_accepts_utf8_and_latin1_and_rejects_binary() {
        assert_eq!(as_text(b"Viele Gr\xfc\xdfe").as_deref(), Some("Viele Grüße"));
        assert_eq!(as_text("ünï".as_bytes()).as_deref(), Some("ünï"));
        assert_eq!(as_text(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), None);
        // A UTF-8 character cut by the size limit is dropped, not read as Latin-1.
        assert_eq!(as_text(&"aé".as_bytes()[..2]).as_deref(), Some("a"));
    }

    #[test]
    fn one_character_searches_use_the_masks_and_agree_with_the_vocabulary() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/healthy-android.saz");
        let capture = crate::capture::open(&path, &Default::default()).unwrap();
        let index = TextIndex::build(&capture, None, None).unwrap();
        let mut differing = 0;
        for c in "0123456789abcdefghijklmnopqrstuvwxyz".chars() {
            let w = QueryWord {
                text: c.to_string(),
                anchored_start: false,
                anchored_end: false,
            };
            let (mut fast, mut slow) = (Bitset::new(capture.sessions.len()), Bitset::new(capture.sessions.len()));
            index.word_sessions(&w, &mut fast);
            index.scan_vocabulary(&w, &mut slow);
            assert_eq!(fast, slow, "{c}");
            differing += usize::from(fast.ones().count() < capture.sessions.len());
        }
        assert!(differing > 0, "some character is not in every session");
    }

    #[test]
    fn varints_and_bitsets_round_trip() {
        let mut v = Vec::new();
        for x in [0u64, 1, 127, 128, 300, u64::from(u32::MAX)] {
            write_varint(&mut v, x);
        }
        let mut rest = &v[..];
        let mut got = Vec::new();
        while let Some((x, r)) = read_varint(rest) {
            got.push(x);
            rest = r;
        }
        assert_eq!(got, vec![0, 1, 127, 128, 300, u64::from(u32::MAX)]);
        let mut b = Bitset::new(130);
        for i in [0, 63, 64, 129] {
            b.set(i);
        }
        assert_eq!(b.ones().collect::<Vec<_>>(), vec![0, 63, 64, 129]);
        assert!(b.get(129) && !b.get(128) && !b.get(1000));
    }
}
