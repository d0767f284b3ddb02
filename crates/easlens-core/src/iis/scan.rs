//! Reading IIS logs fast and in bounded memory: plain and gzip files, several at once, whole
//! folders. One thread reads each file in blocks cut at line ends and notes the `#Fields:` in force
//! at each block's start; the other cores read the blocks' lines ([`super::line`]) and hand the
//! ActiveSync lines, [`BATCH`] at a time, to their own [`Visitor`] (a report, the session builder,
//! an export), merged at the end. At most a few blocks are in flight, so memory does not grow with
//! the size of a log.
//!
//! A file that cannot be read is a warning naming it; the others are still read, and so are the
//! lines of a file read before its error (a gzip file cut short).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use thiserror::Error;

use super::delimiters;
use super::line::{self, Classified, EasLine};
use super::w3c::{self, Dates, FieldSet, Line, Skipped};
use crate::readers::{OpenOptions, open_file};

/// Bytes per block handed to a worker.
const BLOCK: usize = 4 << 20;
/// Blocks waiting for a worker, at most (with the ones being read: memory stays a few blocks).
const QUEUED: usize = 4;
/// Room beyond a block in a new buffer, for the start of a line carried over from the block
/// before (a longer one makes a bigger buffer).
const CARRY_ROOM: usize = 64 << 10;
/// Files looked at in a folder, at most (a folder of logs holds a file per day).
const MAX_FILES: usize = 10_000;

/// Where a line is: the block it was read in and its line number inside the block (1-based).
/// [`Scan::line_number`] gives its line number in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt {
    pub file: u32,
    pub block: u32,
    pub line_in_block: u32,
}

/// Lines handed to a visitor at once, at most: a visitor may look up all their devices before
/// counting any, so that their cache misses overlap.
pub const BATCH: usize = 32;

/// What reads the ActiveSync lines: one per worker, merged at the end.
pub trait Visitor: Send {
    fn line(&mut self, line: &EasLine<'_>, at: LineAt);
    /// The next lines of a block, in order (at most [`BATCH`]); by default one at a time.
    fn lines(&mut self, batch: &[(EasLine<'_>, LineAt)]) {
        for (line, at) in batch {
            self.line(line, *at);
        }
    }
    /// The block `seq` of `file`, `lines` lines long, has been read to its end (every block is
    /// ended once, by the worker that read it; blocks are numbered in the order they were read).
    fn block_end(&mut self, _file: u32, _seq: u32, _lines: u32) {}
    /// Takes in what another worker's visitor saw.
    fn merge(&mut self, other: Self);
}

/// Two visitors in one pass over the logs (the sessions and the reports of a window's open).
impl<A: Visitor, B: Visitor> Visitor for (A, B) {
    fn line(&mut self, line: &EasLine<'_>, at: LineAt) {
        self.0.line(line, at);
        self.1.line(line, at);
    }

    fn lines(&mut self, batch: &[(EasLine<'_>, LineAt)]) {
        self.0.lines(batch);
        self.1.lines(batch);
    }

    fn block_end(&mut self, file: u32, seq: u32, lines: u32) {
        self.0.block_end(file, seq, lines);
        self.1.block_end(file, seq, lines);
    }

    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
        self.1.merge(other.1);
    }
}

/// What was read of one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileScan {
    pub path: PathBuf,
    pub gzip: bool,
    /// Bytes of log text (decompressed).
    pub bytes: u64,
    pub lines: u64,
    pub activesync_lines: u64,
    /// Lines of other virtual directories (`/owa`, `/EWS`, …).
    pub other_lines: u64,
    pub probe_lines: u64,
    pub skipped: Skipped,
    /// `#Fields:` lines seen.
    pub field_sets: u32,
    /// Why the file could not be read (whole or in part).
    pub error: Option<String>,
}

/// What a scan read, file by file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    pub files: Vec<FileScan>,
    /// Lines per block, for [`Scan::line_number`]: (file, lines) by block number.
    #[serde(skip)]
    blocks: Vec<(u32, u32)>,
    #[serde(skip)]
    block_base: Vec<u64>,
}

impl Scan {
    /// The 1-based line number in its file of the line at `at`.
    pub fn line_number(&self, at: LineAt) -> u64 {
        self.block_base.get(at.block as usize).copied().unwrap_or(0) + u64::from(at.line_in_block)
    }

    pub fn activesync_lines(&self) -> u64 {
        self.files.iter().map(|f| f.activesync_lines).sum()
    }

    pub fn skipped(&self) -> Skipped {
        let mut s = Skipped::default();
        for f in &self.files {
            s.add(&f.skipped);
        }
        s
    }

    /// The load warnings: files that could not be read, lines skipped and why, files that are
    /// not IIS logs. Each names its file.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.files {
            let name = f.path.display();
            if let Some(e) = &f.error {
                out.push(format!("{name}: {e}"));
            }
            if f.field_sets == 0 && f.error.is_none() {
                out.push(format!("{name}: not an IIS (W3C) log: it has no #Fields: line"));
                continue;
            }
            let reasons = f.skipped.describe();
            if !reasons.is_empty() {
                out.push(format!(
                    "{name}: {} line(s) skipped: {}",
                    crate::numbers::group_thousands(f.skipped.total()),
                    reasons.join(", ")
                ));
            }
        }
        out
    }

    fn resolve_lines(&mut self) {
        let mut base = Vec::with_capacity(self.blocks.len());
        let mut per_file = vec![0u64; self.files.len()];
        for &(file, lines) in &self.blocks {
            let at = &mut per_file[file as usize];
            base.push(*at);
            *at += u64::from(lines);
        }
        self.block_base = base;
    }
}

#[derive(Debug, Error)]
pub enum IisError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no IIS log was given")]
    NoInput,
    #[error("{path}: loading cancelled")]
    Cancelled { path: PathBuf },
    #[error("no IIS log could be read: {0}")]
    NothingRead(String),
}

/// The files `inputs` stand for: each file, and each regular file under each folder (recursively,
/// sorted by path), at most [`MAX_FILES`].
pub fn files_of(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, IisError> {
    if inputs.is_empty() {
        return Err(IisError::NoInput);
    }
    let mut out = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|source| IisError::Io {
            path: input.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found, 0)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
        if out.len() > MAX_FILES {
            out.truncate(MAX_FILES);
            break;
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: u32) -> Result<(), IisError> {
    if depth > 8 || out.len() > MAX_FILES {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| IisError::Io {
        path: dir.into(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if kind.is_file() && !is_side_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Files a folder of logs holds beside them that are not logs (the sample kit's truth, notes).
fn is_side_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    [".json", ".md", ".txt.json", ".ini", ".xml"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// The server a file's path names, for lines without `s-computername`: logs collected from
/// several servers are laid out `SERVER/W3SVC1/u_exYYMMDD.log` (the folder IIS writes, under a
/// folder per server), so the folder above `W3SVC…` is the server when it lies inside an opened
/// folder.
fn server_of_path(file: &Path, inputs: &[PathBuf]) -> Option<String> {
    let site = file.parent()?;
    let site_name = site.file_name()?.to_str()?;
    if !site_name.to_ascii_uppercase().starts_with("W3SVC") {
        return None;
    }
    let server = site.parent()?;
    inputs
        .iter()
        .any(|i| server.starts_with(i) && server != i.as_path())
        .then(|| server.file_name()?.to_str().map(str::to_string))
        .flatten()
}

/// A block of whole lines of one file.
struct Block {
    file: u32,
    seq: u32,
    fields: Option<Arc<FieldSet>>,
    /// A buffer of the reader's; the block is `bytes[range]`.
    bytes: Vec<u8>,
    range: std::ops::Range<usize>,
}

/// What a worker counted in one block.
struct BlockCount {
    file: u32,
    seq: u32,
    lines: u32,
    eas: u64,
    other: u64,
    probes: u64,
    skipped: Skipped,
}

/// Reads every file of `inputs` (files or folders), handing every ActiveSync line to a visitor
/// made by `make` (one per worker), and gives the merged visitor and what was read. Honours
/// `options`' cancel flag and reports progress by bytes.
pub fn scan<V: Visitor>(
    inputs: &[PathBuf],
    options: &OpenOptions<'_>,
    make: impl Fn() -> V + Sync,
) -> Result<(V, Scan), IisError> {
    scan_files(&files_of(inputs)?, inputs, options, make)
}

/// [`scan`] of `files`, the files `inputs` stand for ([`files_of`]), for a caller that needs
/// them too (the folders in `inputs` name the servers).
pub fn scan_files<V: Visitor>(
    files: &[PathBuf],
    inputs: &[PathBuf],
    options: &OpenOptions<'_>,
    make: impl Fn() -> V + Sync,
) -> Result<(V, Scan), IisError> {
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .collect();
    let total = sizes.iter().sum::<u64>().max(1);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let servers: Vec<Option<String>> = files.iter().map(|f| server_of_path(f, inputs)).collect();
    let mut scan = Scan {
        files: files
            .iter()
            .map(|p| FileScan {
                path: p.clone(),
                ..FileScan::default()
            })
            .collect(),
        ..Scan::default()
    };
    let (to_workers, from_reader) = sync_channel::<Block>(QUEUED);
    let from_reader = Mutex::new(from_reader);
    let (recycle, recycled) = sync_channel::<Vec<u8>>(QUEUED + workers + 1);
    let (counts_tx, counts_rx) = std::sync::mpsc::channel::<BlockCount>();
    let cancelled = std::sync::atomic::AtomicBool::new(false);

    let visitors: Vec<V> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (rx, recycle, counts) = (&from_reader, recycle.clone(), counts_tx.clone());
                let (make, servers) = (&make, &servers);
                s.spawn(move || work(rx, recycle, counts, servers, make()))
            })
            .collect();
        drop(counts_tx);
        // The workers hold the only senders: should they all stop, the reader is not left waiting.
        drop(recycle);
        let mut buffers = Buffers {
            recycled,
            made: 0,
            most: QUEUED + workers + 1,
        };
        let mut done = 0u64;
        let mut seq = 0u32;
        for (i, file) in files.iter().enumerate() {
            if options.cancelled() {
                cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
                break;
            }
            let f = &mut scan.files[i];
            let before = done;
            if let Err(e) = read_file(file, i as u32, &mut seq, f, &to_workers, &mut buffers, &mut |read| {
                done = before + read;
                options.report(
                    done as f32 / total as f32,
                    format!("Reading {} ({} MB)", file.display(), done >> 20),
                );
                !options.cancelled()
            }) {
                f.error = Some(e);
            }
            done = before + sizes[i];
        }
        drop(to_workers);
        handles
            .into_iter()
            .map(|h| h.join().expect("an IIS log worker panicked"))
            .collect()
    });
    if cancelled.load(std::sync::atomic::Ordering::Relaxed) || options.cancelled() {
        return Err(IisError::Cancelled {
            path: inputs[0].clone(),
        });
    }
    let mut blocks = Vec::new();
    for c in counts_rx {
        let f = &mut scan.files[c.file as usize];
        f.lines += u64::from(c.lines);
        f.activesync_lines += c.eas;
        f.other_lines += c.other;
        f.probe_lines += c.probes;
        f.skipped.add(&c.skipped);
        blocks.push((c.seq, c.file, c.lines));
    }
    blocks.sort_unstable();
    scan.blocks = blocks.into_iter().map(|(_, file, lines)| (file, lines)).collect();
    scan.resolve_lines();
    // A file that failed part way (a cut gzip file) still gives the lines read before.
    if scan.files.iter().all(|f| f.error.is_some() && f.lines == 0) {
        let why: Vec<String> = scan
            .files
            .iter()
            .map(|f| format!("{}: {}", f.path.display(), f.error.as_deref().unwrap_or("")))
            .collect();
        return Err(IisError::NothingRead(why.join("; ")));
    }
    let mut visitors = visitors.into_iter();
    let mut merged = visitors.next().unwrap_or_else(&make);
    for v in visitors {
        merged.merge(v);
    }
    Ok((merged, scan))
}

/// Reads one file into blocks of whole lines; `progress(bytes read)` returns false to stop.
fn read_file(
    path: &Path,
    file: u32,
    seq: &mut u32,
    scan: &mut FileScan,
    out: &SyncSender<Block>,
    buffers: &mut Buffers,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), String> {
    let (f, _) = open_file(path).map_err(|e| match e {
        crate::readers::OpenError::Io { source, .. } => source.to_string(),
        e => e
            .to_string()
            .trim_start_matches(&format!("{}: ", path.display()))
            .to_string(),
    })?;
    let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counting = Counting {
        inner: f,
        read: read.clone(),
    };
    let mut head = [0u8; 2];
    let mut input: Box<dyn Read> = {
        let mut r = std::io::BufReader::new(counting);
        let n = r.fill_buf_peek(&mut head);
        if n == 2 && head == [0x1f, 0x8b] {
            scan.gzip = true;
            Box::new(flate2::bufread::MultiGzDecoder::new(r))
        } else {
            Box::new(r)
        }
    };
    let mut fields: Option<Arc<FieldSet>> = None;
    let mut carry: Vec<u8> = Vec::new();
    let mut skipping_long = false;
    loop {
        let mut buf = buffers.take(BLOCK + carry.len());
        buf[..carry.len()].copy_from_slice(&carry);
        let start = carry.len();
        carry.clear();
        let mut filled = start;
        while filled < start + BLOCK {
            match input.read(&mut buf[filled..start + BLOCK]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    scan.bytes += (filled - start) as u64;
                    send_tail(buf, 0..filled, file, seq, &mut fields, scan, out);
                    return Err(format!("read error after {} bytes: {e}", scan.bytes));
                }
            }
        }
        let eof = filled < start + BLOCK;
        scan.bytes += (filled - start) as u64;
        let mut from = 0;
        if skipping_long {
            // The rest of a line too long to hold: dropped up to its end.
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(i) => {
                    from = i + 1;
                    skipping_long = false;
                }
                None => {
                    if eof {
                        return Ok(());
                    }
                    continue;
                }
            }
        }
        if eof {
            send_tail(buf, from..filled, file, seq, &mut fields, scan, out);
            return Ok(());
        }
        let end = match memchr::memrchr(b'\n', &buf[from..filled]) {
            Some(i) => from + i + 1,
            None => {
                // One line longer than a block: counted and skipped.
                scan.skipped.too_long += 1;
                skipping_long = true;
                continue;
            }
        };
        carry.extend_from_slice(&buf[end..filled]);
        if !send_tail(buf, from..end, file, seq, &mut fields, scan, out) {
            return Ok(());
        }
        if !progress(read.load(std::sync::atomic::Ordering::Relaxed)) {
            return Ok(());
        }
    }
}

/// The reader's block buffers. At most `most` are made; then each comes back from the worker that
/// read its block, at its full length: only the carried bytes are copied into it, nothing is
/// zeroed again, and no page of it is faulted in again.
struct Buffers {
    recycled: Receiver<Vec<u8>>,
    made: usize,
    most: usize,
}

impl Buffers {
    /// A buffer of at least `len` bytes, holding whatever it held.
    fn take(&mut self, len: usize) -> Vec<u8> {
        let buf = match self.recycled.try_recv() {
            Ok(buf) => buf,
            Err(_) if self.made < self.most => {
                self.made += 1;
                Vec::new()
            }
            // Every buffer is out: one comes back when a worker has read its block (none left to
            // send one: a new one).
            Err(_) => self.recycled.recv().unwrap_or_default(),
        };
        if buf.len() >= len {
            buf
        } else {
            // Replaced, not grown: its bytes are not needed, and growing would copy them.
            vec![0; len.max(BLOCK + CARRY_ROOM)]
        }
    }
}

/// Sends `buf[range]` (whole lines; at a file's end, the last line without its line break too)
/// as a block; false when the workers are gone.
fn send_tail(
    buf: Vec<u8>,
    range: std::ops::Range<usize>,
    file: u32,
    seq: &mut u32,
    fields: &mut Option<Arc<FieldSet>>,
    scan: &mut FileScan,
    out: &SyncSender<Block>,
) -> bool {
    if range.is_empty() {
        return true;
    }
    let block_fields = fields.clone();
    note_fields(&buf[range.clone()], fields, scan);
    let sent = out.send(Block {
        file,
        seq: *seq,
        fields: block_fields,
        bytes: buf,
        range,
    });
    *seq += 1;
    sent.is_ok()
}

/// The `#Fields:` lines of a block: the last one is in force after it.
fn note_fields(block: &[u8], fields: &mut Option<Arc<FieldSet>>, scan: &mut FileScan) {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&block[from..], b"#Fields:") {
        let at = from + i;
        from = at + 8;
        if at != 0 && block[at - 1] != b'\n' && !(at == 3 && block.starts_with(b"\xEF\xBB\xBF")) {
            continue;
        }
        let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |e| at + e);
        if let Ok(text) = std::str::from_utf8(&block[at + 8..end]) {
            *fields = Some(Arc::new(FieldSet::parse(text.trim_end_matches('\r'))));
            scan.field_sets += 1;
        }
    }
}

fn work<V: Visitor>(
    rx: &Mutex<Receiver<Block>>,
    recycle: SyncSender<Vec<u8>>,
    counts: std::sync::mpsc::Sender<BlockCount>,
    servers: &[Option<String>],
    mut visitor: V,
) -> V {
    let mut dates = Dates::default();
    // A batch's lines borrow their spaces and decoded blobs.
    let mut spaces = [[0u32; w3c::MAX_FIELDS]; BATCH];
    let mut blobs: [line::Blobs; BATCH] = Default::default();
    loop {
        let block = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => break,
        };
        let Ok(block) = block else { break };
        let mut fields = block.fields.clone();
        let mut c = BlockCount {
            file: block.file,
            seq: block.seq,
            lines: 0,
            eas: 0,
            other: 0,
            probes: 0,
            skipped: Skipped::default(),
        };
        let bytes = &block.bytes[block.range.clone()];
        // One UTF-8 check for the block, not one per line (a block ends at a line break).
        let text = simdutf8::basic::from_utf8(bytes).ok();
        let mut lines = delimiters::Lines::<{ w3c::MAX_FIELDS }>::new(bytes);
        let mut more = true;
        while more {
            let mut batch = Vec::with_capacity(BATCH);
            // Each line of a batch its own spaces and blobs (a line that is no request leaves its
            // blobs unused).
            for (slot, blobs) in spaces.iter_mut().zip(blobs.iter_mut()) {
                let Some((range, count)) = lines.next_line(slot) else {
                    more = false;
                    break;
                };
                c.lines += 1;
                let line_text = text.and_then(|t| t.get(range.clone()));
                let line_bytes = &bytes[range];
                match w3c::classify_found(line_bytes, line_text, slot, count, fields.as_deref(), &mut c.skipped) {
                    Line::Fields(f) => fields = Some(f),
                    Line::Request(values) => {
                        let set = fields.as_deref().expect("a request line has a field set");
                        match line::read(set, &values, &mut dates, blobs) {
                            Classified::ActiveSync(mut l) => {
                                if l.server_name.is_none()
                                    && let Some(Some(server)) = servers.get(block.file as usize)
                                {
                                    l.server = server;
                                }
                                c.eas += 1;
                                c.probes += u64::from(l.probe);
                                let at = LineAt {
                                    file: block.file,
                                    block: block.seq,
                                    line_in_block: c.lines,
                                };
                                batch.push((l, at));
                            }
                            Classified::Other => c.other += 1,
                            Classified::BadTime => c.skipped.bad_time += 1,
                        }
                    }
                    Line::Nothing | Line::Skipped => {}
                }
            }
            if !batch.is_empty() {
                visitor.lines(&batch);
            }
        }
        visitor.block_end(c.file, c.seq, c.lines);
        let _ = counts.send(c);
        let _ = recycle.try_send(block.bytes);
    }
    visitor
}

/// Counts the bytes read from the file (progress is by file bytes, gzip files too).
struct Counting<R> {
    inner: R,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

trait PeekExt {
    /// Copies the first bytes of the buffer without consuming them; how many.
    fn fill_buf_peek(&mut self, out: &mut [u8]) -> usize;
}

impl<R: Read> PeekExt for std::io::BufReader<R> {
    fn fill_buf_peek(&mut self, out: &mut [u8]) -> usize {
        use std::io::BufRead;
        match self.fill_buf() {
            Ok(b) => {
                let n = b.len().min(out.len());
                out[..n].copy_from_slice(&b[..n]);
                n
            }
            Err(_) => 0,
        }
    }
}
