//! Fiddler SAZ archives: a zip of `raw/N_c.txt` (request), `raw/N_s.txt` (response) and
//! `raw/N_m.xml` (metadata) per session.
//!
//! * Names are matched leniently (`\` → `/`, any case, any zero-padding, gaps, stray files) and
//!   grouped by the numeric N; a `_c.txt` makes a session, everything else is optional.
//! * The central directory is read once; sessions are indexed on all cores, each worker cloning a
//!   cheap [`ZipArchive`] over positioned reads of one shared file handle. Only header blocks are
//!   kept; bodies are read again from the archive when shown ([`SazStore`]), so memory follows the
//!   session count, not the body sizes. Entries are capped at [`MAX_ENTRY_SIZE`] once inflated.
//! * Password-protected archives (ZipCrypto, WinZip AES-128/256) ask [`OpenOptions::password`] and
//!   verify the answer by reading an encrypted entry completely.
//! * An archive whose central directory is missing (a truncated download) is recovered from its
//!   local file headers, with a warning that says what was lost; its bodies are kept in memory.
//! * One unreadable session never fails the file: it gets notes and keeps what could be read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use zip::result::ZipError;
use zip::{ZipArchive, ZipReadOptions};

use super::budget::{self, INDEXING_MEMORY, InflateBudget};
use super::index::parallel_map_with;
use super::model::{self, Body, BodyKept, BodyLocation, BodyStore, Format, HttpSession, Request, Response};
use super::saz_meta::{self, SessionMeta, bits};
use super::{Indexer, Loaded, OpenError, OpenOptions, PasswordPrompt};
use crate::http::message::split_head;
use crate::http::{Headers, RequestHead, ResponseHead, parse_request, parse_response};
use crate::shared::Shared;

/// Largest inflated size read from one entry (a zip bomb must not take the machine down).
pub const MAX_ENTRY_SIZE: u64 = 512 * 1024 * 1024;
/// Largest `_m.xml` read (real ones are about 1.5 KB).
const MAX_META_SIZE: u64 = 4 * 1024 * 1024;
/// Bytes read at a time while looking for the end of a header block.
const HEAD_CHUNK: usize = 16 * 1024;
/// Longest header block read. Fiddler's blocks are a few KiB (a long cookie or URL makes tens);
/// a block without a blank line in its first MiB is cut there, with a note, and the rest of the
/// entry is its body.
pub const MAX_HEAD: usize = 1024 * 1024;
/// A password callback that keeps answering wrong is asked at most this many times.
const MAX_PASSWORD_ATTEMPTS: u32 = 100;

/// Opens a SAZ archive, running `indexer` on every session. The file is only ever read.
pub fn open<I: Indexer>(path: &Path, options: &OpenOptions<'_>, indexer: &I) -> Result<Loaded<I::Summary>, OpenError> {
    let io_err = |source| OpenError::Io {
        path: path.into(),
        source,
    };
    let (file, len) = super::open_file(path)?;
    if len == 0 {
        return Err(OpenError::NotACapture {
            path: path.into(),
            reason: "the file is empty".into(),
        });
    }
    let mut reader = FileReader::new(Arc::new(file), len);
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut reader, &mut magic).map_err(io_err)?;
    if !magic[..got].starts_with(b"PK") || got < 2 {
        return Err(OpenError::NotACapture {
            path: path.into(),
            reason: "not a zip archive (a SAZ file is a zip archive and starts with \"PK\")".into(),
        });
    }
    if options.cancelled() {
        return Err(OpenError::Cancelled { path: path.into() });
    }
    options.report(0.0, "Reading the archive directory");
    // An error here is the zip crate's to find and name.
    if let Ok(Some(dir)) = Directory::read_plain(&reader, len) {
        return open_archive(path, options, dir, None, len, indexer);
    }
    reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
    match ZipArchive::new(reader.clone()) {
        Ok(archive) => {
            let dir = Directory::new(archive.clone(), reader);
            open_archive(path, options, dir, Some(archive), len, indexer)
        }
        Err(ZipError::Io(e)) if e.kind() != io::ErrorKind::UnexpectedEof && e.kind() != io::ErrorKind::InvalidData => {
            Err(io_err(e))
        }
        Err(cause) if got == 4 && magic == *b"PK\x03\x04" => recover(path, options, reader, len, cause, indexer),
        Err(cause) => Err(OpenError::BadArchive {
            path: path.into(),
            reason: format!("not a readable zip archive ({cause})"),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Positioned reads on a shared file handle

/// `Read + Seek` over a shared file with positioned reads, so that clones (one per worker) never
/// disturb each other's position. A small read-ahead buffer serves the zip crate's header reads.
#[derive(Clone)]
struct FileReader {
    file: Arc<File>,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
    buf_len: usize,
}

const READ_AHEAD: usize = 8 * 1024;

impl FileReader {
    fn new(file: Arc<File>, len: u64) -> Self {
        FileReader {
            file,
            len,
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
            buf_len: 0,
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "positioned reads are not supported on this platform",
    ))
}

fn read_at_retry(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        match read_at(file, buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl Read for FileReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let buffered_end = self.buf_start + self.buf_len as u64;
        if self.pos >= self.buf_start && self.pos < buffered_end {
            let from = (self.pos - self.buf_start) as usize;
            let n = out.len().min(self.buf_len - from);
            out[..n].copy_from_slice(&self.buf[from..from + n]);
            self.pos += n as u64;
            return Ok(n);
        }
        if out.len() >= READ_AHEAD {
            let n = read_at_retry(&self.file, out, self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        if self.buf.len() < READ_AHEAD {
            self.buf.resize(READ_AHEAD, 0);
        }
        let n = read_at_retry(&self.file, &mut self.buf, self.pos)?;
        self.buf_start = self.pos;
        self.buf_len = n;
        let k = out.len().min(n);
        out[..k].copy_from_slice(&self.buf[..k]);
        self.pos += k as u64;
        Ok(k)
    }
}

impl Seek for FileReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )),
        }
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Entry names and session layout

/// The part of a session an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Client,
    Server,
    Meta,
    WebSocket,
    Grpc,
}

/// `raw/N_x.txt|xml` (any case, `\` or `/`) → (N, part, width of N as written).
fn classify(name: &str) -> Option<(u32, PartKind, usize)> {
    let name = name.replace('\\', "/");
    let name = name.trim_start_matches('/').as_bytes();
    if name.len() < 4 || !name[..4].eq_ignore_ascii_case(b"raw/") {
        return None;
    }
    let rest = &name[4..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let tail = &rest[digits..];
    if digits == 0 || tail.len() != 6 || tail[0] != b'_' || tail[2] != b'.' {
        return None;
    }
    let ext = &tail[3..];
    if !ext.eq_ignore_ascii_case(b"txt") && !ext.eq_ignore_ascii_case(b"xml") {
        return None;
    }
    let kind = match tail[1].to_ascii_lowercase() {
        b'c' => PartKind::Client,
        b's' => PartKind::Server,
        b'm' => PartKind::Meta,
        b'w' => PartKind::WebSocket,
        b'g' => PartKind::Grpc,
        _ => return None,
    };
    let n: u32 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some((n, kind, digits))
}

/// The entries of one session (indices into the archive or the recovered entry list).
#[derive(Debug, Clone, Default)]
struct SessionEntries {
    n: u32,
    c: Option<usize>,
    s: Option<usize>,
    m: Option<usize>,
    w: Option<usize>,
    g: Option<usize>,
}

#[derive(Debug, Default)]
struct Layout {
    /// Sessions that have a `_c.txt`, sorted by N.
    sessions: Vec<SessionEntries>,
    /// N of groups without a `_c.txt`.
    orphans: Vec<u32>,
    /// Entries whose (N, part) was already seen (`raw/1_c.txt` and `raw/01_c.txt`).
    duplicates: Vec<String>,
    /// Widest N as written (zero-padding included).
    width: usize,
}

fn layout(names: impl Iterator<Item = (usize, String)>) -> Layout {
    let mut groups: BTreeMap<u32, SessionEntries> = BTreeMap::new();
    let mut out = Layout::default();
    for (idx, name) in names {
        let Some((n, kind, width)) = classify(&name) else {
            continue;
        };
        out.width = out.width.max(width);
        let g = groups.entry(n).or_insert_with(|| SessionEntries {
            n,
            ..Default::default()
        });
        let slot = match kind {
            PartKind::Client => &mut g.c,
            PartKind::Server => &mut g.s,
            PartKind::Meta => &mut g.m,
            PartKind::WebSocket => &mut g.w,
            PartKind::Grpc => &mut g.g,
        };
        if slot.is_some() {
            out.duplicates.push(name);
        } else {
            *slot = Some(idx);
        }
    }
    for (n, g) in groups {
        if g.c.is_some() {
            out.sessions.push(g);
        } else {
            out.orphans.push(n);
        }
    }
    out
}

fn layout_warnings(layout: &Layout, warnings: &mut Vec<String>) {
    if !layout.orphans.is_empty() {
        let list: Vec<String> = layout.orphans.iter().take(10).map(u32::to_string).collect();
        let more = if layout.orphans.len() > 10 { ", …" } else { "" };
        warnings.push(format!(
            "{} session number(s) have response or metadata entries but no raw/N_c.txt request and were skipped (N = {}{more})",
            layout.orphans.len(),
            list.join(", ")
        ));
    }
    if !layout.duplicates.is_empty() {
        warnings.push(format!(
            "{} entries repeat a session part already seen and were ignored (first: {})",
            layout.duplicates.len(),
            layout.duplicates[0]
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Reading entries

/// Where a session's entries are read from: the archive (central directory) or, for a damaged
/// archive, its local file headers.
trait EntrySource {
    fn open(&mut self, idx: usize) -> Result<Box<dyn Read + '_>, String>;
    fn name(&self, idx: usize) -> String;
    /// The inflated size the archive announces, when it does.
    fn declared_len(&self, idx: usize) -> Option<u64>;
    /// Bodies are kept in memory ([`BodyLocation::Memory`]) instead of being re-read later.
    fn keeps_bodies(&self) -> bool;
}

fn zip_error_text(e: &ZipError) -> String {
    match e {
        ZipError::InvalidPassword => "wrong password".into(),
        ZipError::UnsupportedArchive(m) if *m == ZipError::PASSWORD_REQUIRED => {
            "encrypted, and no password given".into()
        }
        other => other.to_string(),
    }
}

/// How an entry's data is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    /// Stored, in the clear: read as is (CRC and size checked).
    Stored,
    /// Deflated, in the clear (every entry Fiddler writes without a password): inflated by the
    /// reading source's own [`Inflater`].
    Deflated,
    /// Encrypted, or compressed some other way: read by the zip crate.
    Other,
}

/// One entry of the central directory: what reading it needs.
#[derive(Debug, Clone, Copy)]
struct DirEntry {
    header_start: u64,
    compressed: u64,
    size: u64,
    crc: u32,
    /// Where its name ends in [`Directory::names`].
    name_end: u32,
    kind: EntryKind,
}

/// The central directory, as much of it as reading the entries needs: about 40 bytes and the
/// name per entry, against the zip crate's 175 per entry, for as long as the capture is open.
/// The zip crate's own view is kept only when some entry needs it ([`EntryKind::Other`]).
struct Directory {
    entries: Box<[DirEntry]>,
    /// Every entry's name, one after the other (lossy UTF-8 or CP437, as the zip crate reads them).
    names: Box<str>,
    comment: Box<[u8]>,
    archive: Option<ZipArchive<FileReader>>,
    file: FileReader,
}

impl Directory {
    fn new(archive: ZipArchive<FileReader>, file: FileReader) -> Directory {
        let mut names = String::new();
        let mut entries = Vec::with_capacity(archive.len());
        let mut needs_archive = false;
        for i in 0..archive.len() {
            names.push_str(&entry_name(&archive, i));
            let name_end = u32::try_from(names.len()).unwrap_or(u32::MAX);
            let entry = archive.by_index_data(i).ok().map(|d| {
                let kind = match d.compression() {
                    _ if d.encrypted() => EntryKind::Other,
                    zip::CompressionMethod::Stored => EntryKind::Stored,
                    zip::CompressionMethod::Deflated => EntryKind::Deflated,
                    _ => EntryKind::Other,
                };
                (d.header_start(), d.compressed_size(), d.size(), d.crc32(), kind)
            });
            let (header_start, compressed, size, crc, kind) = entry.unwrap_or((u64::MAX, 0, 0, 0, EntryKind::Other));
            needs_archive |= kind == EntryKind::Other;
            entries.push(DirEntry {
                header_start,
                compressed,
                size,
                crc,
                name_end,
                kind,
            });
        }
        Directory {
            entries: entries.into_boxed_slice(),
            names: names.into_boxed_str(),
            comment: archive.comment().into(),
            archive: needs_archive.then_some(archive),
            file,
        }
    }

    /// The directory of a plain archive, read straight from its records: the zip crate builds a
    /// name map and 175 bytes per entry first, 3 s on one core for a 1,000,000-session capture
    /// (3,000,000 entries) before indexing could start; this takes a tenth of that. Only what
    /// needs nothing of the zip crate's judgement is read here: one disk, nothing before the
    /// first entry, no encryption, Stored or Deflated, ASCII names (read alike as UTF-8 and
    /// CP437), records that end exactly where the end record says (Zip64 included). Anything
    /// else is `None` and goes through the zip crate, as do damaged archives. A name listed twice
    /// stays two entries here (the session layout keeps the first and says so), where the zip
    /// crate keeps one.
    fn read_plain(file: &FileReader, len: u64) -> io::Result<Option<Directory>> {
        const END_LEN: usize = 22;
        const MAX_COMMENT: u64 = 0xFFFF;
        let mut r = file.clone();
        let Some(tail_start) = len.checked_sub(END_LEN as u64) else {
            return Ok(None);
        };
        // The end record is the last one whose comment reaches exactly to the end of the file.
        let search_from = tail_start.saturating_sub(MAX_COMMENT);
        let tail = read_exact_at(&mut r, search_from, (len - search_from) as usize)?;
        let Some(at) = memchr::memmem::rfind(&tail, &END_OF_DIRECTORY) else {
            return Ok(None);
        };
        let end = &tail[at..];
        let end_pos = search_from + at as u64;
        if end.len() < END_LEN || end_pos + END_LEN as u64 + u64::from(le16(end, 20)) != len {
            return Ok(None);
        }
        let comment: Box<[u8]> = end[END_LEN..].into();
        let (mut count, mut dir_size, mut dir_start) = (
            u64::from(le16(end, 10)),
            u64::from(le32(end, 12)),
            u64::from(le32(end, 16)),
        );
        let (disk, dir_disk, count_here) = (le16(end, 4), le16(end, 6), u64::from(le16(end, 8)));
        if disk != 0 || dir_disk != 0 || count_here != count {
            return Ok(None);
        }
        // A Zip64 end record (found through the locator just before the end record) holds the
        // real counts and positions.
        let mut dir_end = end_pos;
        if end_pos >= 20 {
            let locator = read_exact_at(&mut r, end_pos - 20, 20)?;
            if locator[..4] == *b"PK\x06\x07" {
                let at = le64(&locator, 8);
                if le32(&locator, 4) != 0 || le32(&locator, 16) != 1 || at.checked_add(56) != Some(end_pos - 20) {
                    return Ok(None);
                }
                let z = read_exact_at(&mut r, at, 56)?;
                if z[..4] != ZIP64_END_OF_DIRECTORY
                    || le32(&z, 16) != 0
                    || le32(&z, 20) != 0
                    || le64(&z, 24) != le64(&z, 32)
                {
                    return Ok(None);
                }
                (count, dir_size, dir_start, dir_end) = (le64(&z, 32), le64(&z, 40), le64(&z, 48), at);
            }
        }
        if count == 0 || dir_start.checked_add(dir_size) != Some(dir_end) {
            return Ok(None);
        }
        r.seek(SeekFrom::Start(dir_start))?;
        let mut r = io::BufReader::with_capacity(256 * 1024, (&mut r).take(dir_size));
        let mut names = String::new();
        let mut entries = Vec::new();
        let (mut record, mut name, mut extra) = ([0u8; 46], Vec::new(), Vec::new());
        let mut read = 0u64;
        while read < dir_size {
            if dir_size - read < 46 || entries.len() as u64 == count {
                return Ok(None);
            }
            r.read_exact(&mut record)?;
            let (name_len, extra_len, comment_len) = (le16(&record, 28), le16(&record, 30), le16(&record, 32));
            let kind = match le16(&record, 10) {
                0 => EntryKind::Stored,
                8 => EntryKind::Deflated,
                _ => return Ok(None),
            };
            if record[..4] != CENTRAL_HEADER || le16(&record, 8) & 1 != 0 || le16(&record, 34) != 0 {
                return Ok(None);
            }
            name.resize(usize::from(name_len), 0);
            r.read_exact(&mut name)?;
            extra.resize(usize::from(extra_len), 0);
            r.read_exact(&mut extra)?;
            io::copy(&mut (&mut r).take(u64::from(comment_len)), &mut io::sink())?;
            read += 46 + u64::from(name_len) + u64::from(extra_len) + u64::from(comment_len);
            let Some((size, compressed, header_start)) = zip64_sizes(&record, &extra) else {
                return Ok(None);
            };
            let Ok(name) = std::str::from_utf8(&name)
                .map_err(drop)
                .and_then(|n| if n.is_ascii() { Ok(n) } else { Err(()) })
            else {
                return Ok(None);
            };
            names.push_str(name);
            entries.push(DirEntry {
                header_start,
                compressed,
                size,
                crc: le32(&record, 16),
                name_end: u32::try_from(names.len()).unwrap_or(u32::MAX),
                kind,
            });
        }
        if read != dir_size || entries.len() as u64 != count {
            return Ok(None);
        }
        Ok(Some(Directory {
            entries: entries.into_boxed_slice(),
            names: names.into_boxed_str(),
            comment,
            archive: None,
            file: file.clone(),
        }))
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn name(&self, idx: usize) -> &str {
        let end = self.entries.get(idx).map_or(0, |e| e.name_end as usize);
        let start = idx
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .map_or(0, |e| e.name_end as usize);
        self.names.get(start.min(end)..end).unwrap_or_default()
    }
}

/// A central directory record's (size, compressed size, local header offset), each from the
/// Zip64 extra field (id 1, in that order) when the record marks it 0xFFFFFFFF; `None` when a
/// marked one is missing.
fn zip64_sizes(record: &[u8; 46], extra: &[u8]) -> Option<(u64, u64, u64)> {
    let mut fields = [le32(record, 24), le32(record, 20), le32(record, 42)].map(u64::from);
    if !fields.contains(&u64::from(u32::MAX)) {
        return Some((fields[0], fields[1], fields[2]));
    }
    let mut rest = extra;
    let mut zip64: &[u8] = &[];
    while rest.len() >= 4 {
        let (id, len) = (le16(rest, 0), usize::from(le16(rest, 2)));
        let data = rest.get(4..4 + len)?;
        if id == 1 {
            zip64 = data;
            break;
        }
        rest = &rest[4 + len..];
    }
    for f in fields.iter_mut().filter(|f| **f == u64::from(u32::MAX)) {
        *f = le64(zip64.get(..8)?, 0);
        zip64 = &zip64[8..];
    }
    Some((fields[0], fields[1], fields[2]))
}

/// Reads the entries of a [`Directory`]: one per worker (and one per body read back), each with
/// its own file position, decompressor and, when needed, zip crate view.
struct ArchiveSource {
    dir: Arc<Directory>,
    file: FileReader,
    archive: Option<ZipArchive<FileReader>>,
    password: Option<Arc<str>>,
    /// Entries refused because their bytes overlap an earlier entry's: why.
    overlapping: Arc<HashMap<usize, String>>,
    inflater: Inflater,
}

impl ArchiveSource {
    fn new(dir: Arc<Directory>, password: Option<Arc<str>>, overlapping: Arc<HashMap<usize, String>>) -> Self {
        ArchiveSource {
            file: dir.file.clone(),
            archive: dir.archive.clone(),
            dir,
            password,
            overlapping,
            inflater: Inflater::default(),
        }
    }

    /// Where the data of `entry` starts: after its local header, whose name and extra field
    /// may differ in length from the central directory's.
    fn data_start(&mut self, entry: &DirEntry) -> Result<u64, String> {
        let mut h = [0u8; 30];
        self.file
            .seek(SeekFrom::Start(entry.header_start))
            .and_then(|_| self.file.read_exact(&mut h))
            .map_err(|e| e.to_string())?;
        if h[..4] != LOCAL_HEADER {
            return Err("invalid Zip archive: Invalid local file header".into());
        }
        Ok(entry.header_start + 30 + u64::from(le16(&h, 26)) + u64::from(le16(&h, 28)))
    }
}

impl Clone for ArchiveSource {
    fn clone(&self) -> Self {
        ArchiveSource::new(self.dir.clone(), self.password.clone(), self.overlapping.clone())
    }
}

impl EntrySource for ArchiveSource {
    fn open(&mut self, idx: usize) -> Result<Box<dyn Read + '_>, String> {
        if let Some(why) = self.overlapping.get(&idx) {
            return Err(why.clone());
        }
        let entry = *self.dir.entries.get(idx).ok_or("no such entry")?;
        if entry.kind == EntryKind::Other {
            let Some(archive) = &mut self.archive else {
                return Err("no such entry".into());
            };
            let options = ZipReadOptions::new().password(self.password.as_deref().map(str::as_bytes));
            return match archive.by_index_with_options(idx, options) {
                Ok(f) => Ok(Box::new(f)),
                Err(e) => Err(zip_error_text(&e)),
            };
        }
        let start = self.data_start(&entry)?;
        self.file.seek(SeekFrom::Start(start)).map_err(|e| e.to_string())?;
        let raw = (&mut self.file).take(entry.compressed);
        Ok(match entry.kind {
            EntryKind::Deflated => Box::new(self.inflater.start(raw, entry.compressed, entry.size, entry.crc)),
            _ => Box::new(Checked::new(raw, entry.size, entry.crc)),
        })
    }

    fn name(&self, idx: usize) -> String {
        self.dir.name(idx).to_string()
    }

    fn declared_len(&self, idx: usize) -> Option<u64> {
        self.dir.entries.get(idx).map(|e| e.size)
    }

    fn keeps_bodies(&self) -> bool {
        false
    }
}

/// A stored entry's bytes, checked as the zip crate checks them: no more than the declared size,
/// and the declared CRC at the end.
struct Checked<R> {
    inner: R,
    size: u64,
    read: u64,
    crc: crc32fast::Hasher,
    expected_crc: u32,
}

impl<R: Read> Checked<R> {
    fn new(inner: R, size: u64, crc: u32) -> Self {
        Checked {
            inner,
            size,
            read: 0,
            crc: crc32fast::Hasher::new(),
            expected_crc: crc,
        }
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.read += n as u64;
        if self.read > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "File is larger than its declared uncompressed size",
            ));
        }
        if n == 0 && !out.is_empty() && self.crc.clone().finalize() != self.expected_crc {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "Invalid checksum"));
        }
        self.crc.update(&out[..n]);
        Ok(n)
    }
}

/// A raw-deflate decompressor and its input buffer, kept from one entry to the next: a
/// decompressor's state and window are tens of KiB, more than a small entry inflates to, and
/// allocating them for each entry cost more than the inflating.
#[derive(Default)]
struct Inflater {
    decompress: Option<flate2::Decompress>,
    input: Vec<u8>,
}

impl Inflater {
    const INPUT: usize = 16 * 1024;

    /// A reader of the inflated bytes of `raw` (the entry's `compressed` bytes), which the
    /// archive says inflates to `size` bytes with CRC-32 `crc`: more bytes, or another CRC at
    /// the end, is an error, as the zip crate's own readers have it.
    fn start<R: Read>(&mut self, raw: R, compressed: u64, size: u64, crc: u32) -> Inflate<'_, R> {
        let decompress = match &mut self.decompress {
            Some(d) => {
                d.reset(false);
                d
            }
            none => none.insert(flate2::Decompress::new(false)),
        };
        if self.input.len() < Self::INPUT {
            self.input.resize(Self::INPUT, 0);
        }
        Inflate {
            raw,
            decompress,
            input: &mut self.input,
            start: 0,
            end: 0,
            raw_done: false,
            raw_left: compressed,
            done: false,
            size,
            produced: 0,
            crc: crc32fast::Hasher::new(),
            expected_crc: crc,
        }
    }
}

/// The inflated bytes of one entry (see [`Inflater::start`]).
struct Inflate<'a, R> {
    raw: R,
    decompress: &'a mut flate2::Decompress,
    input: &'a mut Vec<u8>,
    /// The unread input is `input[start..end]`.
    start: usize,
    end: usize,
    raw_done: bool,
    /// Compressed bytes not yet read from `raw`.
    raw_left: u64,
    done: bool,
    size: u64,
    produced: u64,
    crc: crc32fast::Hasher,
    expected_crc: u32,
}

impl<R: Read> Read for Inflate<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.done {
            return Ok(0);
        }
        loop {
            if self.start == self.end && !self.raw_done {
                let n = loop {
                    match self.raw.read(&mut self.input[..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                (self.start, self.end, self.raw_done) = (0, n, n == 0);
                self.raw_left = self.raw_left.saturating_sub(n as u64);
            }
            let (in_before, out_before) = (self.decompress.total_in(), self.decompress.total_out());
            // Once all the input is in, inflating to the end keeps no window: copying each
            // small entry's output into zlib's window was a tenth of indexing time.
            let flush = if self.raw_done || self.raw_left == 0 {
                flate2::FlushDecompress::Finish
            } else {
                flate2::FlushDecompress::None
            };
            let status = self
                .decompress
                .decompress(&self.input[self.start..self.end], out, flush)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "corrupt deflate stream"))?;
            let consumed = (self.decompress.total_in() - in_before) as usize;
            self.start += consumed;
            let n = (self.decompress.total_out() - out_before) as usize;
            if n > 0 {
                self.produced += n as u64;
                if self.produced > self.size {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "File is larger than its declared uncompressed size",
                    ));
                }
                self.crc.update(&out[..n]);
            }
            // The end: of the deflate stream, or of the data with nothing more to inflate (as
            // flate2's readers, a cut stream ends there and the CRC tells).
            let stalled = n == 0 && consumed == 0 && (self.raw_done || self.start < self.end);
            if status == flate2::Status::StreamEnd || stalled {
                self.done = true;
                if self.crc.clone().finalize() != self.expected_crc {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "Invalid checksum"));
                }
                return Ok(n);
            }
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

fn entry_name(archive: &ZipArchive<FileReader>, idx: usize) -> String {
    match archive.by_index_data(idx) {
        Ok(e) => match e.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(e.name_raw()).into_owned(),
        },
        Err(_) => format!("entry #{idx}"),
    }
}

/// One entry being read: the header block first, the rest only when needed.
struct Part<'a> {
    reader: Box<dyn Read + 'a>,
    bytes: Vec<u8>,
    eof: bool,
    error: Option<String>,
    /// Cut at [`MAX_ENTRY_SIZE`].
    capped: bool,
    /// Bytes handed over by [`Part::take_bytes`].
    taken: usize,
    /// No blank line in the first [`MAX_HEAD`] bytes: the header block was cut there.
    head_cut: bool,
    /// Not read further: the archive's [`InflateBudget`] is spent.
    over_budget: bool,
    /// Bytes asked for by the first read of the head.
    first_read: usize,
}

impl<'a> Part<'a> {
    /// An entry of `declared` bytes (when the archive says) to read from `reader`.
    fn new(reader: Box<dyn Read + 'a>, declared: Option<u64>) -> Self {
        Part {
            reader,
            // The first read takes a small entry whole, without a buffer larger than it.
            first_read: declared.map_or(HEAD_CHUNK, |d| {
                usize::try_from(d).unwrap_or(HEAD_CHUNK).clamp(1, HEAD_CHUNK - 1) + 1
            }),
            bytes: Vec::new(),
            eof: false,
            error: None,
            capped: false,
            taken: 0,
            head_cut: false,
            over_budget: false,
        }
    }

    fn done(&self) -> bool {
        self.eof || self.error.is_some() || self.capped || self.over_budget
    }

    /// Records a read error: the budget running out, or damage.
    fn fail(&mut self, e: io::Error) {
        if budget::is_over_budget(&e) {
            self.over_budget = true;
        } else {
            self.error = Some(e.to_string());
        }
    }

    /// Reads until the blank line after the headers, the end of the entry, or [`MAX_HEAD`] bytes
    /// without a blank line (then [`Part::head_cut`]). Each byte is searched once.
    fn read_head(&mut self) {
        // Bytes already searched; the last 3 again, for a blank line split across two reads.
        let mut searched = 0usize;
        while !self.done() {
            if split_head(&self.bytes[searched.saturating_sub(3)..]).is_some() {
                return;
            }
            searched = self.bytes.len();
            let room = MAX_HEAD.saturating_sub(self.bytes.len());
            if room == 0 {
                self.head_cut = true;
                return;
            }
            let start = self.bytes.len();
            let chunk = if start == 0 { self.first_read } else { HEAD_CHUNK };
            self.bytes.resize(start + chunk.min(room), 0);
            match self.reader.read(&mut self.bytes[start..]) {
                Ok(0) => {
                    self.bytes.truncate(start);
                    self.eof = true;
                }
                Ok(k) => self.bytes.truncate(start + k),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.bytes.truncate(start),
                Err(e) => {
                    self.bytes.truncate(start);
                    self.fail(e);
                }
            }
        }
    }

    /// Reads everything (up to the cap). The buffer is sized from the `declared` length once,
    /// instead of doubling as it fills.
    fn read_all(&mut self, declared: Option<u64>) {
        if self.done() {
            return;
        }
        let room = MAX_ENTRY_SIZE.saturating_sub(self.bytes.len() as u64);
        if let Some(rest) = declared.map(|d| d.min(MAX_ENTRY_SIZE).saturating_sub(self.bytes.len() as u64)) {
            self.bytes.reserve_exact(usize::try_from(rest).unwrap_or(0));
        }
        match (&mut self.reader).take(room).read_to_end(&mut self.bytes) {
            Ok(_) if self.bytes.len() as u64 >= MAX_ENTRY_SIZE => self.check_cap(),
            Ok(_) => self.eof = true,
            Err(e) => self.fail(e),
        }
    }

    fn check_cap(&mut self) {
        let mut one = [0u8; 1];
        match read_up_to(&mut self.reader, &mut one) {
            Ok(0) => self.eof = true,
            Ok(_) => self.capped = true,
            Err(e) => self.fail(e),
        }
    }

    /// Hands the bytes read over (for the EAS summary).
    fn take_bytes(&mut self) -> Vec<u8> {
        self.taken = self.bytes.len();
        std::mem::take(&mut self.bytes)
    }

    /// The body from `offset`: in the archive, or in memory when `memory` or when the entry is
    /// damaged (the bytes read are all there is).
    fn body(&self, offset: usize, entry: usize, declared: Option<u64>, memory: bool) -> Body {
        let read = self.bytes.len() as u64;
        let total = if self.eof || self.capped || self.error.is_some() {
            read
        } else {
            declared.unwrap_or(read).max(read).min(MAX_ENTRY_SIZE)
        };
        let stored_len = total.saturating_sub(offset as u64);
        if stored_len == 0 {
            return Body::empty();
        }
        if memory || self.error.is_some() {
            return Body::in_memory(self.bytes.get(offset..).unwrap_or_default().to_vec());
        }
        Body {
            location: BodyLocation::ZipEntry {
                entry,
                offset: offset as u64,
            },
            stored_len,
            kept: BodyKept::Present,
        }
    }

    /// Notes about how the entry was read.
    fn notes(&self, name: &str, declared: Option<u64>, inflate: &InflateBudget, notes: &mut Vec<String>) {
        if self.head_cut {
            notes.push(format!(
                "{name}: no blank line ends the header block within its first {} MiB; the headers are cut there and the rest of the entry is taken as the body",
                MAX_HEAD >> 20
            ));
        }
        if self.over_budget {
            let read = self.bytes.len().max(self.taken) as u64;
            notes.push(format!("{name}: {}", over_budget_note(inflate, read)));
        }
        if let Some(e) = &self.error {
            notes.push(format!(
                "{name}: damaged ({e}); showing the {} bytes that could be read",
                self.bytes.len().max(self.taken)
            ));
        }
        let declared_too_large = !self.done() && declared.is_some_and(|d| d > MAX_ENTRY_SIZE);
        if self.capped || declared_too_large {
            notes.push(format!(
                "{name} is larger than {} MiB once decompressed; only the first {} MiB are used",
                MAX_ENTRY_SIZE >> 20,
                MAX_ENTRY_SIZE >> 20
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One session

/// How BitFlags are read for the whole archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlagBase {
    Hex,
    Decimal,
}

/// One worker's entry sources: a session's request and response are read side by side, so that
/// both heads are known before the memory for the bodies is reserved.
struct Sources {
    c: Box<dyn EntrySource>,
    s: Box<dyn EntrySource>,
}

/// What every session of one pass shares.
struct Pass<'a, I> {
    base: FlagBase,
    recovered: bool,
    indexer: &'a I,
    inflate: &'a InflateBudget,
}

/// The raw bytes a part will hold once read to the end (its declared size when not read yet).
fn held_after_read(part: &Part<'_>, declared: Option<u64>) -> u64 {
    let read = part.bytes.len() as u64;
    if part.done() {
        read
    } else {
        declared.unwrap_or(MAX_ENTRY_SIZE).min(MAX_ENTRY_SIZE).max(read) + 1
    }
}

fn index_session<I: Indexer>(srcs: &mut Sources, e: &SessionEntries, pass: &Pass<'_, I>) -> (HttpSession, I::Summary) {
    let Pass {
        base,
        recovered,
        indexer,
        inflate,
    } = *pass;
    let mut s = HttpSession::new(e.n);
    let memory = srcs.c.keeps_bodies();

    // Metadata.
    let meta: Option<SessionMeta> = e.m.and_then(|m| read_meta(srcs.c.as_mut(), m, inflate, &mut s.notes));
    let mut bit_flags = None;
    if let Some(meta) = &meta {
        s.id = meta.sid;
        s.timers = meta.timers.clone();
        s.client_ip = meta.client_ip.as_deref().map(Shared::from);
        s.server_ip = meta.server_ip.as_deref().map(Shared::from);
        s.process = meta.process.as_deref().map(Shared::from);
        s.comment = meta.comment.clone();
        s.flags.aborted = meta.aborted;
        bit_flags = match base {
            FlagBase::Hex => meta.bit_flags,
            FlagBase::Decimal => meta
                .bit_flags_text
                .as_deref()
                .and_then(saz_meta::parse_bit_flags_decimal),
        };
        let m_name = srcs.c.name(e.m.unwrap_or_default());
        s.notes.extend(meta.notes.iter().map(|n| format!("{m_name}: {n}")));
    }
    s.flags.bit_flags = bit_flags;
    let bit = |mask: u64| bit_flags.is_some_and(|b| b & mask != 0);

    // Both heads first. Notes are kept per part, in the order parts are listed.
    let mut request_notes: Vec<String> = Vec::new();
    let mut response_notes: Vec<String> = Vec::new();
    let other_notes: Vec<String> = [(e.w, "WebSocket messages"), (e.g, "gRPC messages")]
        .into_iter()
        .filter_map(|(entry, what)| entry.map(|idx| format!("{} ({what}) is not shown", srcs.c.name(idx))))
        .collect();

    // Request head.
    let c = e.c.unwrap_or_default();
    let c_name = srcs.c.name(c);
    let c_declared = srcs.c.declared_len(c);
    // The request part and where its body starts; `parsed` when the head is an HTTP request.
    let mut request_part: Option<(Part<'_>, usize, bool)> = None;
    let mut wants_bodies = false;
    match srcs.c.open(c) {
        Err(err) => request_notes.push(format!("{c_name}: cannot be read: {err}")),
        Ok(reader) => {
            let mut part = Part::new(Box::new(inflate.reader(reader)), c_declared);
            part.read_head();
            if part.bytes.is_empty() && part.error.is_none() {
                if !part.over_budget {
                    request_notes.push(format!("{c_name} is empty (no request)"));
                }
                part.notes(&c_name, c_declared, inflate, &mut request_notes);
            } else {
                match parse_request(&part.bytes) {
                    Ok((head, offset)) => {
                        let connect = head.method.eq_ignore_ascii_case("CONNECT");
                        s.flags.tunnel = connect || bit(bits::TUNNEL);
                        let url = build_url(&head, bit_flags);
                        // The indexer decides from the head, URL and flags; the body comes next.
                        s.request = Some(Request::new(head, url, Body::empty()));
                        wants_bodies = indexer.wants_bodies(&s);
                        request_part = Some((part, offset, true));
                    }
                    Err(err) => {
                        request_notes.push(format!(
                            "{c_name}: not an HTTP request ({err}); the bytes are kept as the body"
                        ));
                        let head = RequestHead {
                            method: Shared::default(),
                            target: Shared::default(),
                            version: Shared::default(),
                            headers: Headers::new(),
                            problems: vec![err.to_string()],
                        };
                        s.request = Some(Request::new(head, String::new(), Body::empty()));
                        request_part = Some((part, 0, false));
                    }
                }
            }
        }
    }

    // Response head.
    let mut response_part: Option<(Part<'_>, usize, bool, usize, Option<u64>, String)> = None;
    match e.s {
        None if recovered => response_notes
            .push("no response entry: raw/N_s.txt may have been lost with the damaged part of the archive".to_string()),
        None => {
            s.flags.aborted = true;
            response_notes.push(format!("no response (there is no raw/{}_s.txt)", e.n));
        }
        Some(sx) => {
            let s_name = srcs.s.name(sx);
            let s_declared = srcs.s.declared_len(sx);
            match srcs.s.open(sx) {
                Err(err) => response_notes.push(format!("{s_name}: cannot be read: {err}")),
                Ok(reader) => {
                    let mut part = Part::new(Box::new(inflate.reader(reader)), s_declared);
                    part.read_head();
                    if part.bytes.is_empty() && part.error.is_none() {
                        if !part.over_budget {
                            s.flags.aborted = true;
                            response_notes.push("no response (aborted)".into());
                        }
                        part.notes(&s_name, s_declared, inflate, &mut response_notes);
                    } else {
                        match parse_response(&part.bytes) {
                            Ok((head, offset)) => {
                                s.response = Some(Response {
                                    head,
                                    body: Body::empty(),
                                });
                                response_part = Some((part, offset, true, sx, s_declared, s_name));
                            }
                            Err(err) => {
                                response_notes.push(format!(
                                    "{s_name}: not an HTTP response ({err}); the bytes are kept as the body"
                                ));
                                let head = ResponseHead {
                                    version: Shared::default(),
                                    status: 0,
                                    reason: Shared::default(),
                                    headers: Headers::new(),
                                    problems: vec![err.to_string()],
                                };
                                s.response = Some(Response {
                                    head,
                                    body: Body::empty(),
                                });
                                response_part = Some((part, 0, false, sx, s_declared, s_name));
                            }
                        }
                    }
                }
            }
        }
    }

    // What reading the bodies will hold: the raw bytes (twice when they are kept in memory) and
    // what the indexer decodes from them. Reserved before reading, released once summarized.
    let reads = |parsed: bool| memory || (parsed && wants_bodies);
    let request_len = request_part
        .as_ref()
        .filter(|(_, _, parsed)| reads(*parsed))
        .map_or(0, |(part, _, _)| held_after_read(part, c_declared));
    let response_len = response_part
        .as_ref()
        .filter(|(_, _, parsed, ..)| reads(*parsed))
        .map_or(0, |(part, _, _, _, declared, _)| held_after_read(part, *declared));
    let raw = request_len.saturating_add(response_len);
    let work = if wants_bodies {
        indexer.working_memory(&s, request_len, response_len)
    } else {
        0
    };
    let _reservation = INDEXING_MEMORY.reserve(raw.saturating_mul(if memory { 2 } else { 1 }).saturating_add(work));

    // Request body. The raw bytes the indexer wants, for its summary: (whole entry, body offset).
    let mut request_raw: (Vec<u8>, usize) = (Vec::new(), 0);
    if let Some((mut part, offset, parsed)) = request_part {
        if reads(parsed) {
            part.read_all(c_declared);
        }
        let body = part.body(offset, c, c_declared, memory);
        if parsed && wants_bodies {
            request_raw = (part.take_bytes(), offset);
        }
        if let Some(request) = &mut s.request {
            request.body = body;
        }
        part.notes(&c_name, c_declared, inflate, &mut request_notes);
    }

    // Response body.
    let mut response_raw: (Vec<u8>, usize) = (Vec::new(), 0);
    let mut body_start: Vec<u8> = Vec::new();
    if let Some((mut part, offset, parsed, sx, s_declared, s_name)) = response_part {
        if reads(parsed) {
            part.read_all(s_declared);
        }
        if parsed {
            let start = part.bytes.get(offset..).unwrap_or_default();
            body_start = start[..start.len().min(16)].to_vec();
        }
        let body = part.body(offset, sx, s_declared, memory);
        if parsed && wants_bodies {
            response_raw = (part.take_bytes(), offset);
        }
        if let Some(response) = &mut s.response {
            response.body = body;
        }
        part.notes(&s_name, s_declared, inflate, &mut response_notes);
    }
    s.notes.extend(request_notes);
    s.notes.extend(response_notes);
    s.notes.extend(other_notes);

    // Flags.
    s.flags.generated = match bit_flags {
        Some(b) => b & bits::RESPONSE_GENERATED_BY_FIDDLER != 0,
        None => s
            .response
            .as_ref()
            .is_some_and(|r| looks_generated(&r.head, &body_start)),
    };
    s.flags.https = bit(bits::IS_HTTPS)
        || s.request
            .as_ref()
            .is_some_and(|r| r.url().get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://")));

    // A body a Fiddler rule dropped (or that the capture an export came from did not have): an
    // empty body under the original headers, not an empty body that was sent.
    let dropped = [
        (
            bits::REQUEST_BODY_DROPPED,
            s.request.as_mut().map(|r| &mut r.body),
            "request",
        ),
        (
            bits::RESPONSE_BODY_DROPPED,
            s.response.as_mut().map(|r| &mut r.body),
            "response",
        ),
    ];
    for (mask, body, which) in dropped {
        if let Some(body) = body.filter(|b| bit(mask) && b.stored_len == 0) {
            body.kept = BodyKept::Omitted;
            s.notes.push(format!(
                "{which} body not in the archive (BitFlags {mask:#x}: body dropped)"
            ));
        }
    }

    fn raw_body((bytes, offset): &(Vec<u8>, usize)) -> &[u8] {
        bytes.get(*offset..).unwrap_or_default()
    }
    let summary = indexer.summarize(&s, raw_body(&request_raw), raw_body(&response_raw));
    (s, summary)
}

fn read_meta(
    src: &mut dyn EntrySource,
    idx: usize,
    inflate: &InflateBudget,
    notes: &mut Vec<String>,
) -> Option<SessionMeta> {
    let name = src.name(idx);
    // Sized once (real ones are about 1.5 KB), instead of growing as it is read.
    let declared = src.declared_len(idx).unwrap_or(0).min(MAX_META_SIZE + 1);
    let reader = match src.open(idx) {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!("{name}: cannot be read: {e}"));
            return None;
        }
    };
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    match inflate.reader(reader).take(MAX_META_SIZE + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > MAX_META_SIZE => {
            notes.push(format!("{name} is larger than {} MiB; ignored", MAX_META_SIZE >> 20));
            None
        }
        Ok(_) => Some(saz_meta::parse(&bytes)),
        Err(e) if budget::is_over_budget(&e) => {
            notes.push(format!("{name}: {}", over_budget_note(inflate, bytes.len() as u64)));
            None
        }
        Err(e) => {
            notes.push(format!("{name}: cannot be read: {e}"));
            None
        }
    }
}

/// Why an entry was not read (further).
fn over_budget_note(inflate: &InflateBudget, read: u64) -> String {
    let what = if read == 0 {
        "not read".to_string()
    } else {
        format!("read only up to byte {read}")
    };
    format!(
        "{what}: the archive had already inflated to its limit of {} (a zip bomb?)",
        inflate.describe()
    )
}

/// The absolute URL of a request: the request-target when it is absolute (or a CONNECT
/// authority), else `Host` + target with `https` when BitFlags say IsHTTPS or the port is 443.
fn build_url(head: &RequestHead, bit_flags: Option<u64>) -> String {
    let target = head.target.trim();
    if head.method.eq_ignore_ascii_case("CONNECT") || target.contains("://") {
        return target.to_string();
    }
    let host = head.headers.get("host").map(str::trim).unwrap_or_default();
    let https = bit_flags.is_some_and(|b| b & bits::IS_HTTPS != 0) || host.ends_with(":443");
    model::origin_url(head, https).unwrap_or_else(|| target.to_string())
}

/// `host:port` of a CONNECT request.
fn connect_target(s: &HttpSession) -> Option<String> {
    let req = s.request.as_ref()?;
    req.head
        .method
        .eq_ignore_ascii_case("CONNECT")
        .then(|| req.head.target.trim().to_ascii_lowercase())
}

/// The host of an origin-form request whose `http` scheme was a guess (no BitFlags to say).
fn guessed_http_host(s: &HttpSession) -> Option<String> {
    let req = s.request.as_ref()?;
    let guessed = s.flags.bit_flags.is_none() && !req.head.target.contains("://") && req.url().starts_with("http://");
    if !guessed || req.head.method.eq_ignore_ascii_case("CONNECT") {
        return None;
    }
    req.head.headers.get("host").map(|h| h.trim().to_ascii_lowercase())
}

/// A response that Fiddler made up (used only when there are no BitFlags; a HAR has none).
pub(super) fn looks_generated(head: &ResponseHead, body_start: &[u8]) -> bool {
    let reason = head.reason.to_ascii_lowercase();
    reason.starts_with("fiddler - ") || reason.contains("fiddler generated") || body_start.starts_with(b"[Fiddler]")
}

// ---------------------------------------------------------------------------------------------
// Archive-wide passes

/// Fiddler writes BitFlags in hexadecimal, some other writers in decimal. Decide from the archive:
/// the tunnel bits must agree with CONNECT requests, and no unknown high bits may be set.
fn flags_look_decimal<'a>(sessions: impl Iterator<Item = &'a HttpSession>, comment: &[u8]) -> bool {
    if comment.starts_with(b"Fiddler") {
        return false;
    }
    let (mut against_hex, mut against_dec) = (0usize, 0usize);
    for s in sessions {
        // Read as hexadecimal, the value's hex digits are the text as written (less leading zeros).
        let Some(hex) = s.flags.bit_flags else { continue };
        let Some(dec) = saz_meta::parse_bit_flags_decimal(&format!("{hex:x}")) else {
            continue;
        };
        let connect = connect_target(s).is_some();
        let wrong = |v: u64| usize::from((v & bits::TUNNEL != 0) != connect) + usize::from(v >= 0x100_0000);
        against_hex += wrong(hex);
        against_dec += wrong(dec);
    }
    against_dec < against_hex
}

/// Origin-form requests without BitFlags: `https` when a CONNECT tunnel to `host:443` precedes.
fn apply_connect_context<S>(sessions: &mut [(HttpSession, S)]) {
    let targets: HashSet<String> = sessions.iter().filter_map(|(s, _)| connect_target(s)).collect();
    if targets.is_empty() {
        return;
    }
    for (s, _) in sessions.iter_mut() {
        let Some(host) = guessed_http_host(s) else { continue };
        let tunnelled = if host.contains(':') {
            targets.contains(&host)
        } else {
            targets.contains(&format!("{host}:443"))
        };
        if !tunnelled {
            continue;
        }
        if let Some(req) = s.request.as_mut()
            && let Some(rest) = req.url().strip_prefix("http://").map(str::to_string)
        {
            req.set_url(format!("https://{rest}"));
            s.flags.https = true;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn index_all<I: Indexer>(
    path: &Path,
    options: &OpenOptions<'_>,
    layout: &Layout,
    recovered: bool,
    comment: &[u8],
    file_len: u64,
    make_source: &(dyn Fn() -> Box<dyn EntrySource> + Sync),
    warnings: &mut Vec<String>,
    indexer: &I,
) -> Result<Vec<(HttpSession, I::Summary)>, OpenError> {
    let run = |base: FlagBase| {
        let inflate = InflateBudget::for_archive(file_len);
        let pass = Pass {
            base,
            recovered,
            indexer,
            inflate: &inflate,
        };
        let sessions = parallel_map_with(
            layout.sessions.len(),
            options,
            "Indexing sessions",
            || Sources {
                c: make_source(),
                s: make_source(),
            },
            |srcs, i| index_session(srcs, &layout.sessions[i], &pass),
        )
        .ok_or_else(|| OpenError::Cancelled { path: path.into() })?;
        Ok::<_, OpenError>((sessions, inflate.exhausted().then(|| inflate.describe())))
    };
    let (mut sessions, mut exhausted) = run(FlagBase::Hex)?;
    if flags_look_decimal(sessions.iter().map(|(s, _)| s), comment) {
        warnings.push("BitFlags look decimal (as some non-Fiddler writers store them); read as decimal".into());
        drop(sessions);
        (sessions, exhausted) = run(FlagBase::Decimal)?;
    }
    if let Some(limit) = exhausted {
        warnings.push(format!(
            "the archive inflates to more than {limit}, far more than a capture of its size holds (a zip bomb?): \
             what was left was not read; the sessions concerned say so in their notes"
        ));
    }
    apply_connect_context(&mut sessions);
    options.report(1.0, format!("Loaded {} sessions", sessions.len()));
    Ok(sessions)
}

// ---------------------------------------------------------------------------------------------
// Passwords

enum Verdict {
    Right,
    Wrong,
}

/// Asks for the password until `verify` accepts it.
fn unlock(path: &Path, options: &OpenOptions<'_>, verify: impl Fn(&str) -> Verdict) -> Result<String, OpenError> {
    let mut previous_was_wrong = false;
    for attempt in 1..=MAX_PASSWORD_ATTEMPTS {
        if options.cancelled() {
            return Err(OpenError::Cancelled { path: path.into() });
        }
        let give_up = || {
            if previous_was_wrong {
                OpenError::WrongPassword { path: path.into() }
            } else {
                OpenError::PasswordRequired { path: path.into() }
            }
        };
        let Some(ask) = options.password else {
            return Err(give_up());
        };
        let answer = ask(&PasswordPrompt {
            path: path.into(),
            attempt,
            previous_was_wrong,
        });
        let Some(password) = answer.filter(|p| !p.is_empty()) else {
            return Err(give_up());
        };
        match verify(&password) {
            Verdict::Right => return Ok(password),
            Verdict::Wrong => previous_was_wrong = true,
        }
    }
    Err(OpenError::WrongPassword { path: path.into() })
}

/// What opening one encrypted entry with a candidate password gave.
enum Probe {
    /// The archive refused the password.
    WrongPassword,
    /// Not readable for another reason (unsupported method…): says nothing about the password.
    Unreadable,
    /// Opened; whether it also read to the end without a CRC or decompression error.
    Read(bool),
}

/// The entries a password is checked on: the three smallest non-empty encrypted ones.
fn probe_entries(mut encrypted: Vec<(u64, usize)>) -> Vec<(u64, usize)> {
    encrypted.retain(|(size, _)| *size > 0);
    encrypted.sort_unstable();
    encrypted.truncate(3);
    encrypted
}

/// Checks a password on `entries` through `open`: right as soon as one reads fully, wrong when
/// it is refused or every opened entry fails. When nothing could be opened at all the password
/// cannot be checked and is taken; the sessions will then say what is wrong.
fn check_password(entries: &[(u64, usize)], mut open: impl FnMut(usize) -> Probe) -> Verdict {
    let mut any_read = false;
    for &(_, idx) in entries {
        match open(idx) {
            Probe::WrongPassword => return Verdict::Wrong,
            Probe::Unreadable => {}
            Probe::Read(true) => return Verdict::Right,
            Probe::Read(false) => any_read = true,
        }
    }
    if any_read { Verdict::Wrong } else { Verdict::Right }
}

/// Reads a whole entry to check a password: ZipCrypto's one check byte lets 1 in 256 wrong
/// passwords through, so a CRC or decompression error after it counts as wrong too.
fn read_fully_to_verify(reader: &mut dyn Read) -> bool {
    io::copy(&mut reader.take(MAX_ENTRY_SIZE), &mut io::sink()).is_ok()
}

// ---------------------------------------------------------------------------------------------
// Normal archives

/// Indexes the sessions of an archive whose directory was read, by the zip crate (`archive`) or
/// by [`Directory::read_plain`] (no encrypted entries then).
fn open_archive<I: Indexer>(
    path: &Path,
    options: &OpenOptions<'_>,
    dir: Directory,
    archive: Option<ZipArchive<FileReader>>,
    len: u64,
    indexer: &I,
) -> Result<Loaded<I::Summary>, OpenError> {
    let mut layout = layout((0..dir.len()).map(|i| (i, dir.name(i).to_string())));
    if let Some(n) = options.first_sessions {
        layout.sessions.truncate(n.max(1));
    }
    if layout.sessions.is_empty() {
        return Err(OpenError::NotACapture {
            path: path.into(),
            reason: "no Fiddler sessions (raw/N_c.txt)".into(),
        });
    }
    let mut warnings = Vec::new();
    layout_warnings(&layout, &mut warnings);

    // Encrypted entries: find a few small ones to check the password with.
    let encrypted: Vec<(u64, usize)> = layout
        .sessions
        .iter()
        .flat_map(|e| [e.c, e.s, e.m])
        .flatten()
        .filter_map(|i| {
            archive
                .as_ref()?
                .by_index_data(i)
                .ok()
                .filter(|d| d.encrypted())
                .map(|d| (d.size(), i))
        })
        .collect();
    let password = if let Some(archive) = archive.as_ref().filter(|_| !encrypted.is_empty()) {
        let probes = probe_entries(encrypted);
        let verify = |pw: &str| {
            check_password(&probes, |idx| {
                let mut ar = archive.clone();
                match ar.by_index_decrypt(idx, pw.as_bytes()) {
                    Err(ZipError::InvalidPassword) => Probe::WrongPassword,
                    Err(_) => Probe::Unreadable,
                    Ok(mut f) => Probe::Read(read_fully_to_verify(&mut f)),
                }
            })
        };
        options.report(0.0, "The archive is password-protected");
        Some(Arc::<str>::from(unlock(path, options, verify)?))
    } else {
        None
    };
    // The zip crate's view is kept only when the directory needs it.
    drop(archive);

    let overlapping = Arc::new(overlapping_entries(&dir, &layout, &mut warnings));
    let dir = Arc::new(dir);
    let source = ArchiveSource::new(dir.clone(), password, overlapping);
    let make_source = || Box::new(source.clone()) as Box<dyn EntrySource>;
    let sessions = index_all(
        path,
        options,
        &layout,
        false,
        &dir.comment,
        len,
        &make_source,
        &mut warnings,
        indexer,
    )?;
    drop(dir);
    let mut source = source;
    // Reading bodies back needs the entries, not their names (a sixth of what a session keeps).
    if let Some(dir) = Arc::get_mut(&mut source.dir) {
        dir.names = Box::default();
        dir.comment = Box::default();
    }
    let store = SazStore { source: Some(source) };
    Ok(Loaded {
        format: Format::Saz,
        sessions,
        warnings,
        store: Box::new(store),
    })
}

/// The session entries whose bytes in the archive overlap those of another entry, each with why
/// it is not read. An archive whose central directory points many entries at the same
/// compressed data (or at data inside another entry's) inflates it once per entry: a small file
/// that inflates without end. Real writers never share bytes between entries. Of entries that
/// overlap, the one that starts first (first listed, on a tie) is read; the others are refused.
///
/// An entry spans at least its 30-byte local header and its compressed data; its name and extra
/// field are left out, so only real overlaps are found.
fn overlapping_entries(dir: &Directory, layout: &Layout, warnings: &mut Vec<String>) -> HashMap<usize, String> {
    let mut spans: Vec<(u64, u64, usize)> = layout
        .sessions
        .iter()
        .flat_map(|e| [e.c, e.s, e.m])
        .flatten()
        .filter_map(|i| {
            let d = dir.entries.get(i).filter(|d| d.header_start != u64::MAX)?;
            Some((
                d.header_start,
                d.header_start.saturating_add(30).saturating_add(d.compressed),
                i,
            ))
        })
        .collect();
    spans.sort_unstable();
    let mut refused = HashMap::new();
    let mut first: Option<(String, String)> = None;
    // The entry read last that reaches furthest: (end, index).
    let mut reach: Option<(u64, usize)> = None;
    for (start, end, i) in spans {
        match reach {
            Some((reach_end, owner)) if start < reach_end => {
                let (name, owner) = (dir.name(i).to_string(), dir.name(owner).to_string());
                refused.insert(
                    i,
                    format!(
                        "its bytes in the archive overlap those of {owner} (entries that share bytes are a zip bomb trick); not read"
                    ),
                );
                first.get_or_insert((name, owner));
            }
            _ => reach = Some((end, i)),
        }
    }
    if let Some((name, owner)) = first {
        warnings.push(format!(
            "{} entries overlap other entries in the archive and were not read (first: {name} overlaps {owner}); \
             entries that share bytes are a zip bomb trick",
            refused.len()
        ));
    }
    refused
}

/// Reads SAZ bodies back from the archive.
struct SazStore {
    /// `None` for a capture recovered from a damaged archive (its bodies are in memory). Holds
    /// the password the archive was opened with, in memory only.
    source: Option<ArchiveSource>,
}

impl BodyStore for SazStore {
    fn read(&self, body: &Body) -> io::Result<Vec<u8>> {
        match &body.location {
            BodyLocation::None => Ok(Vec::new()),
            BodyLocation::Memory(bytes) => Ok(bytes.to_vec()),
            BodyLocation::ZipEntry { entry, offset } => {
                let Some(source) = &self.source else {
                    return Err(io::Error::other("this capture was recovered from a damaged archive"));
                };
                let mut source = source.clone();
                let mut f = source.open(*entry).map_err(io::Error::other)?;
                let skipped = io::copy(&mut (&mut f).take(*offset), &mut io::sink())?;
                if skipped < *offset {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the entry is shorter than when it was indexed",
                    ));
                }
                let room = MAX_ENTRY_SIZE.saturating_sub(*offset);
                let mut out = Vec::with_capacity(body.stored_len.min(room) as usize);
                f.take(room).read_to_end(&mut out)?;
                Ok(out)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Damaged archives: recovery from the local file headers

const LOCAL_HEADER: [u8; 4] = *b"PK\x03\x04";
const CENTRAL_HEADER: [u8; 4] = *b"PK\x01\x02";
const END_OF_DIRECTORY: [u8; 4] = *b"PK\x05\x06";
const ZIP64_END_OF_DIRECTORY: [u8; 4] = *b"PK\x06\x06";
const DATA_DESCRIPTOR: [u8; 4] = *b"PK\x07\x08";

/// An entry found by scanning the local file headers.
#[derive(Debug, Clone)]
struct LocalEntry {
    name: String,
    header_offset: u64,
    encrypted: bool,
    uncompressed: u64,
    /// Sizes and CRC from the data descriptor, when the local header defers to one.
    descriptor: Option<(u32, u64, u64)>,
}

#[derive(Debug, Default)]
struct Scan {
    entries: Vec<LocalEntry>,
    /// `(offset, reason)` of each unreadable stretch.
    damage: Vec<(u64, String)>,
    /// The scan reached the central directory (only the end record was damaged).
    reached_directory: bool,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

fn read_exact_at(r: &mut FileReader, at: u64, len: usize) -> io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Parses the local header at `pos`; returns the entry and where the next header starts.
fn parse_local(
    r: &mut FileReader,
    pos: u64,
    len: u64,
    descriptors: &mut Option<Descriptors>,
) -> Result<(LocalEntry, u64), String> {
    if pos + 30 > len {
        return Err("its local header is cut off".into());
    }
    let h = read_exact_at(r, pos, 30).map_err(|e| e.to_string())?;
    let flags = le16(&h, 6);
    let crc = le32(&h, 14);
    let mut compressed = u64::from(le32(&h, 18));
    let mut uncompressed = u64::from(le32(&h, 22));
    let name_len = usize::from(le16(&h, 26));
    let extra_len = usize::from(le16(&h, 28));
    let data_start = pos + 30 + (name_len + extra_len) as u64;
    if name_len == 0 || data_start > len {
        return Err("its local header is cut off".into());
    }
    let var = read_exact_at(r, pos + 30, name_len + extra_len).map_err(|e| e.to_string())?;
    let name = String::from_utf8_lossy(&var[..name_len]).into_owned();
    if name.chars().any(|c| c.is_control()) {
        return Err("a signature without a valid header".into());
    }
    // Zip64: the 32-bit sizes are 0xFFFFFFFF and the real ones are in extra field 0x0001.
    let extra = &var[name_len..];
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, size) = (le16(extra, at), usize::from(le16(extra, at + 2)));
        let data = &extra[at + 4..(at + 4 + size).min(extra.len())];
        if id == 0x0001 {
            let mut k = 0;
            if uncompressed == 0xFFFF_FFFF && data.len() >= k + 8 {
                uncompressed = le64(data, k);
                k += 8;
            }
            if compressed == 0xFFFF_FFFF && data.len() >= k + 8 {
                compressed = le64(data, k);
            }
        }
        at += 4 + size;
    }
    let encrypted = flags & 1 != 0;
    if flags & 8 != 0 {
        if descriptors.is_none() {
            *descriptors = Some(Descriptors::build(r, len).map_err(|e| e.to_string())?);
        }
        let (crc, c, u, desc_len) = descriptors
            .as_ref()
            .and_then(|d| d.get(data_start))
            .ok_or("its data descriptor is missing")?;
        let entry = LocalEntry {
            name,
            header_offset: pos,
            encrypted,
            uncompressed: u,
            descriptor: Some((crc, c, u)),
        };
        return Ok((entry, data_start + c + desc_len));
    }
    let _ = crc;
    let end = data_start
        .checked_add(compressed)
        .filter(|&e| e <= len)
        .ok_or("its data is cut off")?;
    Ok((
        LocalEntry {
            name,
            header_offset: pos,
            encrypted,
            uncompressed,
            descriptor: None,
        },
        end,
    ))
}

/// Finds zip signatures going forward through the file, reading each byte once for searches
/// that move forward (the window read last is searched again before anything is read).
struct SignatureScanner {
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    start: u64,
    /// Valid bytes in `buf`.
    filled: usize,
}

impl SignatureScanner {
    const WINDOW: usize = 256 * 1024;

    fn new() -> Self {
        SignatureScanner {
            buf: Vec::new(),
            start: 0,
            filled: 0,
        }
    }

    /// The offset of the first of `signatures` at or after `from`.
    fn find(&mut self, r: &mut FileReader, from: u64, len: u64, signatures: &[[u8; 4]]) -> io::Result<Option<u64>> {
        let mut pos = from;
        loop {
            if pos.saturating_add(4) > len {
                return Ok(None);
            }
            let end = self.start + self.filled as u64;
            if pos < self.start || pos + 4 > end {
                if self.buf.len() < Self::WINDOW {
                    self.buf.resize(Self::WINDOW, 0);
                }
                let want = ((len - pos) as usize).min(Self::WINDOW);
                r.seek(SeekFrom::Start(pos))?;
                self.start = pos;
                self.filled = 0;
                self.filled = read_up_to(r, &mut self.buf[..want])?;
                if self.filled < 4 {
                    return Ok(None);
                }
            }
            let from_here = (pos - self.start) as usize;
            let window = &self.buf[from_here..self.filled];
            for i in memchr::memmem::find_iter(window, b"PK") {
                if i + 4 <= window.len() && signatures.iter().any(|s| window[i..i + 4] == *s) {
                    return Ok(Some(pos + i as u64));
                }
            }
            // Not in this window: go on from its last 3 bytes (a signature may straddle).
            let end = self.start + self.filled as u64;
            if end >= len {
                return Ok(None);
            }
            pos = end - 3;
        }
    }
}

/// The data descriptors of a damaged archive, matched to the local headers that defer to one:
/// built once, in two passes over the file, the first time a header needs one (instead of a
/// scan to the end of the file for each such header).
struct Descriptors {
    /// Sorted data starts of every local header that defers to a data descriptor.
    starts: Vec<u64>,
    /// For each start: (CRC, compressed size, uncompressed size, descriptor length).
    found: Vec<Option<(u32, u64, u64, u64)>>,
}

impl Descriptors {
    fn build(r: &mut FileReader, len: u64) -> io::Result<Descriptors> {
        // 1. Where the data of every header with flag bit 3 would start.
        let mut starts = Vec::new();
        let mut scanner = SignatureScanner::new();
        let mut from = 0;
        while let Some(at) = scanner.find(r, from, len, &[LOCAL_HEADER])? {
            from = at + 1;
            if at + 30 > len {
                break;
            }
            let h = read_exact_at(r, at, 30)?;
            if le16(&h, 6) & 8 != 0 {
                starts.push(at + 30 + u64::from(le16(&h, 26)) + u64::from(le16(&h, 28)));
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut found = vec![None; starts.len()];
        // 2. Each descriptor names its entry's data start: its offset less the compressed size it
        //    gives (32-bit, or 64-bit for Zip64). The first descriptor after a start wins, as a
        //    forward search from that start would find it.
        let mut scanner = SignatureScanner::new();
        let mut from = 0;
        while let Some(at) = scanner.find(r, from, len, &[DATA_DESCRIPTOR])? {
            from = at + 1;
            if at + 16 > len {
                continue;
            }
            let d = read_exact_at(r, at, (len - at).min(24) as usize)?;
            let mut claim = |start: Option<u64>, value: (u32, u64, u64, u64)| {
                if let Some(i) = start.and_then(|s| starts.binary_search(&s).ok())
                    && found[i].is_none()
                {
                    found[i] = Some(value);
                }
            };
            let c32 = u64::from(le32(&d, 8));
            claim(at.checked_sub(c32), (le32(&d, 4), c32, u64::from(le32(&d, 12)), 16));
            if d.len() >= 24 {
                let c64 = le64(&d, 8);
                claim(at.checked_sub(c64), (le32(&d, 4), c64, le64(&d, 16), 24));
            }
        }
        Ok(Descriptors { starts, found })
    }

    /// The descriptor of the entry whose data starts at `data_start`: (CRC, compressed size,
    /// uncompressed size, descriptor length).
    fn get(&self, data_start: u64) -> Option<(u32, u64, u64, u64)> {
        let i = self.starts.binary_search(&data_start).ok()?;
        self.found[i]
    }
}

fn scan_local_headers(path: &Path, options: &OpenOptions<'_>, r: &mut FileReader, len: u64) -> Result<Scan, OpenError> {
    let mut scan = Scan::default();
    let mut scanner = SignatureScanner::new();
    let mut descriptors = None;
    let mut pos = 0u64;
    let mut last_report = 0u64;
    while pos < len {
        if options.cancelled() {
            return Err(OpenError::Cancelled { path: path.into() });
        }
        if pos - last_report >= 4 << 20 {
            last_report = pos;
            options.report(
                pos as f32 / len as f32 * 0.5,
                format!("Recovering entries: byte {pos} of {len}"),
            );
        }
        let sig = if pos + 4 <= len {
            read_exact_at(r, pos, 4).ok()
        } else {
            None
        };
        match sig.as_deref() {
            Some(s) if s == LOCAL_HEADER => match parse_local(r, pos, len, &mut descriptors) {
                Ok((entry, next)) => {
                    scan.entries.push(entry);
                    pos = next;
                    continue;
                }
                Err(why) => scan.damage.push((pos, why)),
            },
            Some(s) if s == CENTRAL_HEADER || s == END_OF_DIRECTORY || s == ZIP64_END_OF_DIRECTORY => {
                scan.reached_directory = true;
                break;
            }
            _ => scan.damage.push((pos, "unreadable bytes".into())),
        }
        // Resynchronise on the next header.
        match scanner.find(r, pos + 1, len, &[LOCAL_HEADER, CENTRAL_HEADER]) {
            Ok(Some(next)) => pos = next,
            _ => break,
        }
    }
    Ok(scan)
}

/// Reads recovered entries through the zip crate's streaming reader.
#[derive(Clone)]
struct LocalSource {
    reader: FileReader,
    entries: Arc<Vec<LocalEntry>>,
    password: Option<Arc<str>>,
}

impl EntrySource for LocalSource {
    fn open(&mut self, idx: usize) -> Result<Box<dyn Read + '_>, String> {
        let entry = self.entries.get(idx).ok_or("no such entry")?;
        self.reader
            .seek(SeekFrom::Start(entry.header_offset))
            .map_err(|e| e.to_string())?;
        let mut options = ZipReadOptions::new().password(self.password.as_deref().map(str::as_bytes));
        if let Some((crc, compressed, uncompressed)) = entry.descriptor {
            options = options
                .override_compressed_size(compressed)
                .override_uncompressed_size(uncompressed)
                .override_crc(crc);
        }
        match zip::read::read_zipfile_from_stream_with_options(&mut self.reader, options) {
            Ok(Some(f)) => Ok(Box::new(f)),
            Ok(None) => Err("no local header".into()),
            Err(e) => Err(zip_error_text(&e)),
        }
    }

    fn name(&self, idx: usize) -> String {
        self.entries.get(idx).map(|e| e.name.clone()).unwrap_or_default()
    }

    fn declared_len(&self, idx: usize) -> Option<u64> {
        self.entries.get(idx).map(|e| e.uncompressed)
    }

    fn keeps_bodies(&self) -> bool {
        true
    }
}

fn recover<I: Indexer>(
    path: &Path,
    options: &OpenOptions<'_>,
    mut reader: FileReader,
    len: u64,
    cause: ZipError,
    indexer: &I,
) -> Result<Loaded<I::Summary>, OpenError> {
    options.report(
        0.0,
        "The archive directory is damaged; recovering entries from the local headers",
    );
    let scan = scan_local_headers(path, options, &mut reader, len)?;
    let layout = layout(scan.entries.iter().enumerate().map(|(i, e)| (i, e.name.clone())));
    if layout.sessions.is_empty() {
        let reason = if scan.entries.is_empty() {
            format!("the zip directory is unreadable ({cause}) and no entry could be recovered")
        } else {
            format!(
                "the zip directory is unreadable ({cause}) and none of the {} recovered entries is a Fiddler session (raw/N_c.txt)",
                scan.entries.len()
            )
        };
        return Err(OpenError::BadArchive {
            path: path.into(),
            reason,
        });
    }
    let entries = Arc::new(scan.entries);
    let mut source = LocalSource {
        reader,
        entries: entries.clone(),
        password: None,
    };

    let encrypted: Vec<(u64, usize)> = layout
        .sessions
        .iter()
        .flat_map(|e| [e.c, e.s, e.m])
        .flatten()
        .filter(|&i| entries[i].encrypted)
        .map(|i| (entries[i].uncompressed, i))
        .collect();
    if !encrypted.is_empty() {
        let probes = probe_entries(encrypted);
        let verify = |pw: &str| {
            let mut probe = LocalSource {
                password: Some(Arc::from(pw)),
                ..source.clone()
            };
            check_password(&probes, |idx| match probe.open(idx) {
                Err(e) if e == "wrong password" => Probe::WrongPassword,
                Err(_) => Probe::Unreadable,
                Ok(mut f) => Probe::Read(read_fully_to_verify(&mut f)),
            })
        };
        source.password = Some(Arc::from(unlock(path, options, verify)?));
    }

    let mut warnings = Vec::new();
    layout_warnings(&layout, &mut warnings);
    let make_source = || Box::new(source.clone()) as Box<dyn EntrySource>;
    let sessions = index_all(
        path,
        options,
        &layout,
        true,
        b"",
        len,
        &make_source,
        &mut warnings,
        indexer,
    )?;

    // What was lost.
    let recovered = sessions.len();
    let mut lost = String::new();
    if scan.reached_directory && scan.damage.is_empty() {
        lost.push_str("only the end of the zip directory was damaged; no session was lost");
    } else {
        // Without the directory, the last damage is where the file was cut.
        let (middle, cut) = match scan.damage.split_last() {
            Some((last, rest)) if !scan.reached_directory => (rest, Some(last)),
            _ => (&scan.damage[..], None),
        };
        let mut parts: Vec<String> = Vec::new();
        if let Some((at, why)) = middle.first() {
            parts.push(format!(
                "{} damaged stretch(es) were skipped, the first at byte {at} ({why}); the entries there were lost",
                middle.len()
            ));
        }
        if !scan.reached_directory {
            parts.push(match cut {
                Some((at, why)) => format!(
                    "the file ends at byte {len} without its zip directory (truncated?): the entry at byte {at} is incomplete ({why}) and any entries after it were lost"
                ),
                None => format!(
                    "the file ends at byte {len} without its zip directory (truncated?): any entries after the last complete one were lost"
                ),
            });
        }
        // Fiddler pads N to the number of digits of the session count: there were at least 10^(w-1).
        let max_n = u64::from(layout.sessions.last().map_or(0, |s| s.n));
        let at_least = u32::try_from(layout.width)
            .ok()
            .and_then(|w| 10u64.checked_pow(w.saturating_sub(1)));
        if let Some(at_least) = at_least.filter(|&a| layout.width > 1 && a > max_n) {
            parts.push(format!(
                "the names are padded to {} digits, so at least {} more session(s) were lost",
                layout.width,
                at_least - max_n
            ));
        }
        lost = parts.join("; ");
    }
    warnings.insert(
        0,
        format!("damaged archive ({cause}): recovered {recovered} session(s) from the local file headers; {lost}"),
    );
    let store = SazStore { source: None };
    Ok(Loaded {
        format: Format::Saz,
        sessions,
        warnings,
        store: Box::new(store),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_leniently() {
        assert_eq!(classify("raw/1_c.txt"), Some((1, PartKind::Client, 1)));
        assert_eq!(classify("raw/0001_s.txt"), Some((1, PartKind::Server, 4)));
        assert_eq!(classify("RAW\\017_M.XML"), Some((17, PartKind::Meta, 3)));
        assert_eq!(classify("/raw/5_w.txt"), Some((5, PartKind::WebSocket, 1)));
        assert_eq!(classify("raw/5_g.txt"), Some((5, PartKind::Grpc, 1)));
        for stray in [
            "_index.htm",
            "[Content_Types].xml",
            "raw/",
            "__MACOSX/raw/._1_c.txt",
            "raw/thumbs.db",
            "raw/1_x.txt",
            "raw/1_c.txt.bak",
            "raw/_c.txt",
            "raw/a1_c.txt",
            "raw/1_c.htm",
            "raw/99999999999_c.txt",
            "other/1_c.txt",
        ] {
            assert_eq!(classify(stray), None, "{stray}");
        }
    }

    #[test]
    fn layout_groups_by_number_and_reports_oddities() {
        let names = [
            "raw/10_c.txt",
            "raw/2_s.txt",
            "raw/02_c.txt",
            "raw/2_c.txt",
            "raw/7_m.xml",
            "raw/1_c.txt",
            "x",
        ];
        let l = layout(names.iter().enumerate().map(|(i, n)| (i, n.to_string())));
        let ns: Vec<u32> = l.sessions.iter().map(|s| s.n).collect();
        assert_eq!(ns, vec![1, 2, 10]);
        assert_eq!((l.sessions[1].c, l.sessions[1].s), (Some(2), Some(1)));
        assert_eq!(l.orphans, vec![7]);
        assert_eq!(l.duplicates, vec!["raw/2_c.txt".to_string()]);
        assert_eq!(l.width, 2);
        let mut w = Vec::new();
        layout_warnings(&l, &mut w);
        assert_eq!(w.len(), 2, "{w:?}");
    }

    fn req(raw: &str) -> RequestHead {
        parse_request(raw.as_bytes()).unwrap().0
    }

    #[test]
    fn urls() {
        let h = req("POST https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Ping HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            build_url(&h, None),
            "https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Ping"
        );
        let h = req("GET /a?b HTTP/1.1\r\nHost: h.example\r\n\r\n");
        assert_eq!(build_url(&h, Some(0x1)), "https://h.example/a?b");
        assert_eq!(build_url(&h, Some(0x0)), "http://h.example/a?b");
        assert_eq!(build_url(&h, None), "http://h.example/a?b");
        let h = req("OPTIONS * HTTP/1.1\r\nHost: h.example\r\n\r\n");
        assert_eq!(build_url(&h, None), "http://h.example");
        let h = req("GET /a HTTP/1.1\nHost: h.example:443\n\n");
        assert_eq!(build_url(&h, None), "https://h.example:443/a");
        let h = req("CONNECT h.example:443 HTTP/1.0\r\nHost: h.example:443\r\n\r\n");
        assert_eq!(build_url(&h, Some(0x2100)), "h.example:443");
        let h = req("GET /nohost HTTP/1.1\r\n\r\n");
        assert_eq!(build_url(&h, None), "/nohost");
    }

    #[test]
    fn decimal_bit_flags_are_recognised_from_tunnels() {
        let ev = |connect: bool, text: &str| {
            let mut s = HttpSession::new(1);
            let line = if connect {
                "CONNECT h:443 HTTP/1.1\r\n\r\n"
            } else {
                "GET http://h/ HTTP/1.1\r\n\r\n"
            };
            let head = req(line);
            let url = build_url(&head, None);
            s.request = Some(Request::new(head, url, Body::empty()));
            s.flags.bit_flags = saz_meta::parse_bit_flags(text).ok();
            s
        };
        // 8448 = 0x2100 (decrypting tunnel + generated) in decimal.
        let decimal = [ev(true, "8448"), ev(false, "1"), ev(false, "257")];
        assert!(flags_look_decimal(decimal.iter(), b"easlens sample generator"));
        assert!(!flags_look_decimal(
            decimal.iter(),
            b"Fiddler (v5.0.20194.41348) Session Archive."
        ));
        let hex = [ev(true, "2100"), ev(false, "19"), ev(false, "8108")];
        assert!(!flags_look_decimal(hex.iter(), b""));
    }

    #[test]
    fn one_inflater_reads_entry_after_entry_and_checks_each() {
        use std::io::Write;
        let deflate = |data: &[u8]| {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let crc = |data: &[u8]| {
            let mut c = flate2::Crc::new();
            c.update(data);
            c.sum()
        };
        let big: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let small = b"POST / HTTP/1.1\r\n\r\nbody".to_vec();
        let mut inflater = Inflater::default();
        let read = |inflater: &mut Inflater, data: &[u8], size: u64, sum: u32| {
            let compressed = deflate(data);
            let mut out = Vec::new();
            inflater
                .start(&compressed[..], compressed.len() as u64, size, sum)
                .read_to_end(&mut out)
                .map(|_| out)
        };
        // Left half read, then the next entry from a clean state.
        let compressed = deflate(&big);
        let mut first = [0u8; 100];
        inflater
            .start(&compressed[..], compressed.len() as u64, big.len() as u64, crc(&big))
            .read_exact(&mut first)
            .unwrap();
        assert_eq!(first[..], big[..100]);
        assert_eq!(
            read(&mut inflater, &small, small.len() as u64, crc(&small)).unwrap(),
            small
        );
        assert_eq!(read(&mut inflater, &big, big.len() as u64, crc(&big)).unwrap(), big);
        assert_eq!(read(&mut inflater, b"", 0, 0).unwrap(), b"");
        // A wrong CRC, more bytes than declared, a cut or corrupt stream: errors.
        let e = read(&mut inflater, &small, small.len() as u64, crc(&small) ^ 1).unwrap_err();
        assert_eq!(e.to_string(), "Invalid checksum");
        let e = read(&mut inflater, &big, 1000, crc(&big)).unwrap_err();
        assert_eq!(e.to_string(), "File is larger than its declared uncompressed size");
        let mut out = Vec::new();
        let e = inflater
            .start(
                &compressed[..compressed.len() / 2],
                compressed.len() as u64 / 2,
                big.len() as u64,
                crc(&big),
            )
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(e.to_string(), "Invalid checksum");
        let e = inflater
            .start(&[0xFFu8; 64][..], 64, 100, 0)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(e.to_string(), "corrupt deflate stream");
        assert_eq!(
            read(&mut inflater, &small, small.len() as u64, crc(&small)).unwrap(),
            small
        );
    }

    #[test]
    fn parts_stop_where_the_inflate_budget_ends() {
        let budget = InflateBudget::with_limit(3 << 20);
        let entry = io::repeat(b'x').take(8 << 20);
        let mut part = Part::new(Box::new(budget.reader(entry)), None);
        part.read_head();
        assert!(part.head_cut && !part.over_budget);
        assert_eq!(part.bytes.len(), MAX_HEAD);
        part.read_all(Some(8 << 20));
        assert!(part.over_budget && part.error.is_none() && !part.eof);
        assert!(
            part.bytes.len() >= 3 << 20 && part.bytes.len() < 5 << 20,
            "{}",
            part.bytes.len()
        );
        // The body is still where the archive has it, at its declared size.
        let body = part.body(MAX_HEAD, 7, Some(8 << 20), false);
        assert_eq!(
            body.location,
            BodyLocation::ZipEntry {
                entry: 7,
                offset: MAX_HEAD as u64
            }
        );
        assert_eq!(body.stored_len, (8 << 20) - MAX_HEAD as u64);
        let mut notes = Vec::new();
        part.notes("raw/1_c.txt", Some(8 << 20), &budget, &mut notes);
        assert!(
            notes[0].starts_with("raw/1_c.txt: no blank line ends the header block"),
            "{notes:?}"
        );
        assert!(
            notes[1].starts_with(&format!(
                "raw/1_c.txt: read only up to byte {}: the archive had already inflated to its limit of 3 MiB",
                part.bytes.len()
            )),
            "{notes:?}"
        );
        // A part opened once the budget is spent is not read at all.
        let mut late = Part::new(Box::new(budget.reader(io::repeat(b'x').take(10))), Some(10));
        late.read_head();
        assert!(late.over_budget && late.bytes.is_empty());
    }

    #[test]
    fn generated_responses_without_bit_flags() {
        let (h, _) = parse_response(b"HTTP/1.1 502 Fiddler - Connection Failed\r\n\r\n").unwrap();
        assert!(looks_generated(&h, b""));
        let (h, _) = parse_response(b"HTTP/1.1 408 Request body incomplete\r\n\r\n").unwrap();
        assert!(looks_generated(&h, b"[Fiddler] ReadResponse() failed"));
        assert!(!looks_generated(&h, b"<html>"));
    }

    /// What reading an entry needs, per entry: the same whoever read the directory.
    fn entries_of(dir: &Directory) -> Vec<(String, u64, u64, u64, u32, EntryKind)> {
        (0..dir.len())
            .map(|i| {
                let e = dir.entries[i];
                (
                    dir.name(i).to_string(),
                    e.header_start,
                    e.compressed,
                    e.size,
                    e.crc,
                    e.kind,
                )
            })
            .collect()
    }

    fn zip_crate_directory(path: &Path) -> Directory {
        let file = File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        let reader = FileReader::new(Arc::new(file), len);
        Directory::new(ZipArchive::new(reader.clone()).unwrap(), reader)
    }

    fn plain_directory(path: &Path) -> Option<Directory> {
        let file = File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        Directory::read_plain(&FileReader::new(Arc::new(file), len), len).unwrap()
    }

    #[test]
    fn a_plain_directory_reads_as_the_zip_crate_reads_it() {
        let samples = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples"));
        let mut compared = 0;
        for entry in std::fs::read_dir(samples).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "saz") {
                continue;
            }
            let by_crate = zip_crate_directory(&path);
            match plain_directory(&path) {
                Some(plain) => {
                    assert_eq!(entries_of(&plain), entries_of(&by_crate), "{}", path.display());
                    assert_eq!(plain.comment, by_crate.comment);
                    compared += 1;
                }
                // Encrypted entries are the zip crate's to read.
                None => assert!(path.to_string_lossy().contains("encrypted"), "{}", path.display()),
            }
        }
        assert!(compared >= 10, "only {compared} samples compared");
    }

    #[test]
    fn zip64_records_are_read_and_anything_unusual_is_left_to_the_zip_crate() {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let dir = std::env::temp_dir().join(format!("easlens-plain-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, prefix: &[u8], entries: &[(&str, SimpleFileOptions)]| {
            let path = dir.join(name);
            let mut out = std::io::Cursor::new(prefix.to_vec());
            out.set_position(prefix.len() as u64);
            let mut zw = zip::ZipWriter::new(out);
            for (entry, options) in entries {
                zw.start_file(*entry, *options).unwrap();
                zw.write_all(entry.repeat(50).as_bytes()).unwrap();
            }
            zw.set_comment("comment").unwrap();
            std::fs::write(&path, zw.finish().unwrap().into_inner()).unwrap();
            path
        };
        let deflated = SimpleFileOptions::default();
        let zip64 = deflated.large_file(true);
        let stored = deflated.compression_method(zip::CompressionMethod::Stored);
        // Zip64 extra fields on every entry, and a Zip64 end record.
        let path = write(
            "zip64.saz",
            b"",
            &[("raw/1_c.txt", zip64), ("raw/1_s.txt", stored), ("raw/1_m.xml", zip64)],
        );
        let plain = plain_directory(&path).expect("read without the zip crate");
        assert_eq!(entries_of(&plain), entries_of(&zip_crate_directory(&path)));
        assert_eq!(&*plain.comment, b"comment");
        assert_eq!(plain.entries[1].kind, EntryKind::Stored);
        // Written after other data, offsets counted from the file's start: read here.
        let path = write("after-stub.saz", b"MZ stub", &[("raw/1_c.txt", deflated)]);
        let plain = plain_directory(&path).expect("offsets from the file's start");
        assert_eq!(entries_of(&plain), entries_of(&zip_crate_directory(&path)));
        // Offsets counted from the archive's own start (a stub put in front of a finished
        // archive), a name that is not ASCII, another method: the zip crate.
        let path = write("prefixed.saz", b"", &[("raw/1_c.txt", deflated)]);
        let mut bytes = b"MZ stub".to_vec();
        bytes.extend(std::fs::read(&path).unwrap());
        std::fs::write(&path, bytes).unwrap();
        assert!(plain_directory(&path).is_none());
        assert_eq!(zip_crate_directory(&path).len(), 1);
        let path = write("accent.saz", b"", &[("raw/1_c.txt", deflated), ("raw/é.txt", deflated)]);
        assert!(plain_directory(&path).is_none());
        let bzip2 = deflated.compression_method(zip::CompressionMethod::Bzip2);
        let path = write("bzip2.saz", b"", &[("raw/1_c.txt", bzip2)]);
        assert!(plain_directory(&path).is_none());
        // A cut directory: not read here (the zip crate then fails and the archive is recovered).
        let path = write("cut.saz", b"", &[("raw/1_c.txt", deflated), ("raw/1_s.txt", deflated)]);
        let bytes = std::fs::read(&path).unwrap();
        let end = bytes.len() - 22 - "comment".len();
        let mut cut = bytes[..end - 10].to_vec();
        cut.extend_from_slice(&bytes[end..]);
        std::fs::write(&path, cut).unwrap();
        assert!(plain_directory(&path).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
