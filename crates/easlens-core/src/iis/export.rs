//! The decoded ActiveSync lines of IIS logs as a Parquet file (`easlens iis-export`), for months
//! of logs from many servers queried with DuckDB, Spark or any SQL engine. One row per line, in
//! file order: where it was written (file, line), when, which server and role, who, what, what
//! IIS answered, and the `Log=` fields as [`super::log_tokens`] names them, with the `Log=` value
//! itself kept for the tokens no column names.
//!
//! The workers build a batch of arrays per block; a sink writes the blocks in the order they were
//! read (so the rows are in file order and the line numbers are known), holding back only the
//! blocks that finished early. Memory stays a few blocks and the writer's row group.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::builder::{BooleanBuilder, StringBuilder, UInt16Builder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use thiserror::Error;

use super::line::{EasLine, Role};
use super::log_tokens::parse_log;
use super::scan::{self, LineAt, Scan, Visitor};
use crate::readers::OpenOptions;

/// Rows per row group: large enough for column statistics to skip well, small enough that the
/// writer's buffer stays tens of MB.
const ROW_GROUP: usize = 256 * 1024;

#[derive(Debug, Error)]
pub enum ExportError {
    #[error(transparent)]
    Read(#[from] scan::IisError),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot write Parquet: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{0}: is one of the logs being read; choose another output file")]
    OutputIsInput(PathBuf),
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    pub rows: u64,
    pub bytes: u64,
    pub scan: Scan,
}

/// The columns, in order. Strings are UTF-8, absent values null; `time` is UTC.
pub fn schema() -> SchemaRef {
    use DataType::{Boolean, UInt16, UInt32, UInt64, Utf8};
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    Arc::new(Schema::new(vec![
        f("file", Utf8, false),
        f("line", UInt64, false),
        f(
            "time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        f("server", Utf8, false),
        f("server_ip", Utf8, true),
        f("site", Utf8, true),
        // front_end, back_end or cas.
        f("role", Utf8, false),
        f("method", Utf8, false),
        f("stem", Utf8, false),
        f("command", Utf8, true),
        // `User=` decoded, else cs-username.
        f("user", Utf8, false),
        f("cs_username", Utf8, true),
        f("device_id", Utf8, true),
        f("device_type", Utf8, true),
        f("client_ip", Utf8, true),
        f("forwarded_for", Utf8, true),
        // With IIS's `+` read back as spaces.
        f("user_agent", Utf8, true),
        f("status", UInt16, false),
        f("substatus", UInt32, false),
        f("win32", UInt32, false),
        f("time_taken_ms", UInt64, true),
        f("sc_bytes", UInt64, true),
        f("cs_bytes", UInt64, true),
        f("probe", Boolean, false),
        // cafeReqId (front end) or ActivityID (back end): the same for both lines of a request.
        f("request_id", Utf8, true),
        f("base64_query", Boolean, false),
        f("protocol_version", Utf8, true),
        f("eas_status", UInt32, true),
        f("error", Utf8, true),
        f("heartbeat_s", UInt32, true),
        f("sync_key", Utf8, true),
        f("server_sync_key", Utf8, true),
        f("sync_type", Utf8, true),
        f("folder", Utf8, true),
        f("folder_count", UInt32, true),
        f("policy_key", Utf8, true),
        f("policy_ack", UInt32, true),
        f("throttle_ms", UInt64, true),
        f("budget", Utf8, true),
        f("back_off", Utf8, true),
        f("access_state", Utf8, true),
        f("mailbox_server", Utf8, true),
        f("front_end", Utf8, true),
        f("proxied_from", Utf8, true),
        f("elapsed_ms", UInt64, true),
        // The `Log=` value as written (every token, named or not).
        f("log", Utf8, true),
        // The device's query as written (before `&Log=`).
        f("query", Utf8, false),
    ]))
}

/// The columns a worker fills: every column of [`schema`] but `file` and `line`, which the
/// sink adds when it knows where the block starts in its file.
#[derive(Default)]
struct Columns {
    line_in_block: Vec<u32>,
    time: Vec<i64>,
    server: StringBuilder,
    server_ip: StringBuilder,
    site: StringBuilder,
    role: StringBuilder,
    method: StringBuilder,
    stem: StringBuilder,
    command: StringBuilder,
    user: StringBuilder,
    cs_username: StringBuilder,
    device_id: StringBuilder,
    device_type: StringBuilder,
    client_ip: StringBuilder,
    forwarded_for: StringBuilder,
    user_agent: StringBuilder,
    status: UInt16Builder,
    substatus: UInt32Builder,
    win32: UInt32Builder,
    time_taken_ms: UInt64Builder,
    sc_bytes: UInt64Builder,
    cs_bytes: UInt64Builder,
    probe: BooleanBuilder,
    request_id: StringBuilder,
    base64_query: BooleanBuilder,
    protocol_version: StringBuilder,
    eas_status: UInt32Builder,
    error: StringBuilder,
    heartbeat_s: UInt32Builder,
    sync_key: StringBuilder,
    server_sync_key: StringBuilder,
    sync_type: StringBuilder,
    folder: StringBuilder,
    folder_count: UInt32Builder,
    policy_key: StringBuilder,
    policy_ack: UInt32Builder,
    throttle_ms: UInt64Builder,
    budget: StringBuilder,
    back_off: StringBuilder,
    access_state: StringBuilder,
    mailbox_server: StringBuilder,
    front_end: StringBuilder,
    proxied_from: StringBuilder,
    elapsed_ms: UInt64Builder,
    log: StringBuilder,
    query: StringBuilder,
}

impl Columns {
    fn push(&mut self, l: &EasLine<'_>, at: LineAt) {
        self.line_in_block.push(at.line_in_block);
        self.time.push(l.time_ms);
        self.server.append_value(l.server);
        self.server_ip.append_option(l.server_ip);
        self.site.append_option(l.site);
        self.role.append_value(match l.role {
            Role::FrontEnd => "front_end",
            Role::BackEnd => "back_end",
            Role::Cas => "cas",
        });
        self.method.append_value(l.method);
        self.stem.append_value(l.stem);
        self.command.append_option(l.command.as_deref());
        self.user.append_value(l.who());
        self.cs_username.append_option(l.user_name);
        self.device_id.append_option(l.device_id.as_deref());
        self.device_type.append_option(l.device_type.as_deref());
        self.client_ip.append_option(l.client_ip);
        self.forwarded_for.append_option(l.forwarded_for);
        self.user_agent.append_option(l.user_agent_text());
        self.status.append_value(l.status);
        self.substatus.append_value(l.substatus);
        self.win32.append_value(l.win32);
        self.time_taken_ms.append_option(l.time_taken_ms);
        self.sc_bytes.append_option(l.sc_bytes);
        self.cs_bytes.append_option(l.cs_bytes);
        self.probe.append_value(l.probe);
        self.request_id.append_option(l.request_id());
        self.base64_query.append_value(l.base64);
        let f = l.log.map(parse_log).unwrap_or_default();
        self.protocol_version.append_option(f.protocol_version);
        self.eas_status.append_option(f.status);
        self.error.append_option(f.error);
        self.heartbeat_s.append_option(f.heartbeat_s);
        self.sync_key.append_option(f.sync_key);
        self.server_sync_key.append_option(f.server_sync_key);
        self.sync_type.append_option(f.sync_type);
        self.folder.append_option(f.folder);
        self.folder_count.append_option(f.folder_count);
        self.policy_key.append_option(f.policy_key);
        self.policy_ack.append_option(f.policy_ack);
        self.throttle_ms.append_option(f.throttle_ms);
        self.budget.append_option(f.budget);
        self.back_off.append_option(f.back_off);
        self.access_state.append_option(f.access_state);
        self.mailbox_server.append_option(f.mailbox_server);
        self.front_end.append_option(f.front_end);
        self.proxied_from.append_option(f.proxied_from);
        self.elapsed_ms.append_option(f.elapsed_ms);
        self.log.append_option(l.log);
        self.query.append_value(l.query);
    }

    /// The arrays after `file` and `line`, in [`schema`]'s order; the builders start again.
    fn finish(&mut self) -> Vec<ArrayRef> {
        let time = TimestampMillisecondArray::from(std::mem::take(&mut self.time)).with_timezone("UTC");
        vec![
            Arc::new(time),
            Arc::new(self.server.finish()),
            Arc::new(self.server_ip.finish()),
            Arc::new(self.site.finish()),
            Arc::new(self.role.finish()),
            Arc::new(self.method.finish()),
            Arc::new(self.stem.finish()),
            Arc::new(self.command.finish()),
            Arc::new(self.user.finish()),
            Arc::new(self.cs_username.finish()),
            Arc::new(self.device_id.finish()),
            Arc::new(self.device_type.finish()),
            Arc::new(self.client_ip.finish()),
            Arc::new(self.forwarded_for.finish()),
            Arc::new(self.user_agent.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.substatus.finish()),
            Arc::new(self.win32.finish()),
            Arc::new(self.time_taken_ms.finish()),
            Arc::new(self.sc_bytes.finish()),
            Arc::new(self.cs_bytes.finish()),
            Arc::new(self.probe.finish()),
            Arc::new(self.request_id.finish()),
            Arc::new(self.base64_query.finish()),
            Arc::new(self.protocol_version.finish()),
            Arc::new(self.eas_status.finish()),
            Arc::new(self.error.finish()),
            Arc::new(self.heartbeat_s.finish()),
            Arc::new(self.sync_key.finish()),
            Arc::new(self.server_sync_key.finish()),
            Arc::new(self.sync_type.finish()),
            Arc::new(self.folder.finish()),
            Arc::new(self.folder_count.finish()),
            Arc::new(self.policy_key.finish()),
            Arc::new(self.policy_ack.finish()),
            Arc::new(self.throttle_ms.finish()),
            Arc::new(self.budget.finish()),
            Arc::new(self.back_off.finish()),
            Arc::new(self.access_state.finish()),
            Arc::new(self.mailbox_server.finish()),
            Arc::new(self.front_end.finish()),
            Arc::new(self.proxied_from.finish()),
            Arc::new(self.elapsed_ms.finish()),
            Arc::new(self.log.finish()),
            Arc::new(self.query.finish()),
        ]
    }
}

/// One block's rows, waiting for its turn.
struct Done {
    file: u32,
    /// Lines in the block (ActiveSync or not): where the next block of the file starts.
    lines: u32,
    line_in_block: Vec<u32>,
    arrays: Vec<ArrayRef>,
}

/// Writes the blocks in the order they were read.
struct Sink {
    writer: Option<ArrowWriter<File>>,
    schema: SchemaRef,
    files: Vec<String>,
    /// Lines before the next block, per file.
    file_lines: Vec<u64>,
    next: u32,
    waiting: BTreeMap<u32, Done>,
    rows: u64,
    error: Option<parquet::errors::ParquetError>,
}

impl Sink {
    fn take(&mut self, seq: u32, done: Done) {
        self.waiting.insert(seq, done);
        while let Some(done) = self.waiting.remove(&self.next) {
            self.next += 1;
            self.write(done);
        }
    }

    fn write(&mut self, done: Done) {
        let base = &mut self.file_lines[done.file as usize];
        let rows = done.line_in_block.len();
        let lines = UInt64Array::from_iter_values(done.line_in_block.iter().map(|&l| *base + u64::from(l)));
        *base += u64::from(done.lines);
        if rows == 0 || self.error.is_some() {
            return;
        }
        let name = self.files[done.file as usize].as_str();
        let file = StringArray::from_iter_values(std::iter::repeat_n(name, rows));
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(file), Arc::new(lines)];
        arrays.extend(done.arrays);
        let written = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(parquet::errors::ParquetError::from)
            .and_then(|batch| match &mut self.writer {
                Some(w) => w.write(&batch),
                None => Ok(()),
            });
        match written {
            Ok(()) => self.rows += rows as u64,
            Err(e) => self.error = Some(e),
        }
    }
}

/// A worker's side: the current block's rows.
struct Rows<'s> {
    sink: &'s Mutex<Sink>,
    columns: Columns,
}

impl Visitor for Rows<'_> {
    fn line(&mut self, line: &EasLine<'_>, at: LineAt) {
        self.columns.push(line, at);
    }

    fn block_end(&mut self, file: u32, seq: u32, lines: u32) {
        let done = Done {
            file,
            lines,
            line_in_block: std::mem::take(&mut self.columns.line_in_block),
            arrays: self.columns.finish(),
        };
        if let Ok(mut sink) = self.sink.lock() {
            sink.take(seq, done);
        }
    }

    fn merge(&mut self, _other: Self) {}
}

/// Reads `inputs` (files and folders of IIS logs) and writes their ActiveSync lines to `out` as
/// Parquet (zstd). The file is written beside `out` and renamed into place when complete, so a
/// failed export leaves no half file; `out` may not be one of the logs.
pub fn export(inputs: &[PathBuf], out: &Path, options: &OpenOptions<'_>) -> Result<Exported, ExportError> {
    let files = scan::files_of(inputs)?;
    let same = |a: &Path| match (a.canonicalize(), out.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if files.iter().any(|f| same(f)) {
        return Err(ExportError::OutputIsInput(out.to_path_buf()));
    }
    let partial = partial_path(out);
    let write_err = |source| ExportError::Write {
        path: out.to_path_buf(),
        source,
    };
    let file = File::create(&partial).map_err(write_err)?;
    let parquet_err = |source| ExportError::Parquet {
        path: out.to_path_buf(),
        source,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_created_by(format!("easlens {}", env!("CARGO_PKG_VERSION")))
        .build();
    let schema = schema();
    let writer = ArrowWriter::try_new(file, schema.clone(), Some(props));
    let writer = match writer {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(parquet_err(e));
        }
    };
    let sink = Mutex::new(Sink {
        writer: Some(writer),
        schema,
        files: files.iter().map(|f| f.display().to_string()).collect(),
        file_lines: vec![0; files.len()],
        next: 0,
        waiting: BTreeMap::new(),
        rows: 0,
        error: None,
    });
    let scanned = scan::scan_files(&files, inputs, options, || Rows {
        sink: &sink,
        columns: Columns::default(),
    })
    .map(|(_rows, scan)| scan);
    let mut sink = sink.into_inner().unwrap_or_else(|p| p.into_inner());
    let finished = match scanned {
        Err(e) => Err(ExportError::Read(e)),
        Ok(scan) => {
            // Every block was handed in; any still waiting (none, unless a block was lost) go
            // out in order.
            for (_, done) in std::mem::take(&mut sink.waiting) {
                sink.write(done);
            }
            match (sink.error.take(), sink.writer.take()) {
                (Some(e), _) => Err(parquet_err(e)),
                (None, Some(w)) => w.close().map(|_| scan).map_err(parquet_err),
                (None, None) => Ok(scan),
            }
        }
    };
    let scan = match finished {
        Ok(scan) => scan,
        Err(e) => {
            drop(sink);
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out).map_err(write_err)?;
    let bytes = std::fs::metadata(out).map_or(0, |m| m.len());
    Ok(Exported {
        rows: sink.rows,
        bytes,
        scan,
    })
}

/// `OUT.parquet` → `OUT.parquet.partial`, beside it (the rename stays on one file system).
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}
