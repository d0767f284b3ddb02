//! `easlens iis-export`: the bundled IIS logs written as Parquet, read back with the `parquet`
//! crate, row by row against the truth the sample kit wrote beside them (never against easlens'
//! own reading of the logs).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMillisecondType, UInt16Type, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn easlens<I: AsRef<OsStr>>(args: impl IntoIterator<Item = I>) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_easlens")).args(args).output().unwrap()
}

/// One row read back, by column name: values as text (a time as ms since 1970), absent as None.
type Row = HashMap<String, Option<String>>;

fn rows_of(path: &Path) -> Vec<Row> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.unwrap();
        let schema = batch.schema();
        for r in 0..batch.num_rows() {
            let mut row = Row::new();
            for (i, field) in schema.fields().iter().enumerate() {
                let a = batch.column(i);
                let v = (!a.is_null(r)).then(|| match a.data_type() {
                    DataType::Utf8 => a.as_string::<i32>().value(r).to_string(),
                    DataType::UInt16 => a.as_primitive::<UInt16Type>().value(r).to_string(),
                    DataType::UInt32 => a.as_primitive::<UInt32Type>().value(r).to_string(),
                    DataType::UInt64 => a.as_primitive::<UInt64Type>().value(r).to_string(),
                    DataType::Boolean => a.as_boolean().value(r).to_string(),
                    DataType::Timestamp(..) => a.as_primitive::<TimestampMillisecondType>().value(r).to_string(),
                    other => panic!("{}: unexpected type {other}", field.name()),
                });
                row.insert(field.name().clone(), v);
            }
            out.push(row);
        }
    }
    out
}

fn text<'r>(row: &'r Row, column: &str) -> Option<&'r str> {
    row.get(column)
        .unwrap_or_else(|| panic!("no column {column}"))
        .as_deref()
}

/// The truth's value as the row would write it: text as is, numbers as digits.
fn truth_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The time IIS writes for a request that ended at `rfc3339`: to the second.
fn logged_millis(rfc3339: &str) -> String {
    let ms = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis();
    (ms - ms.rem_euclid(1000)).to_string()
}

#[test]
fn every_bundled_log_reads_back_from_parquet_as_the_truth_wrote_it() {
    let out_dir = std::env::temp_dir().join(format!("easlens-iis-export-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut logs = 0;
    for e in std::fs::read_dir(samples()).unwrap() {
        let truth_path = e.unwrap().path();
        let name = truth_path.file_name().unwrap().to_str().unwrap().to_string();
        let Some(stem) = name.strip_suffix(".iis.json") else {
            continue;
        };
        logs += 1;
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let dir = samples().join(format!("{stem}.iis"));
        let out = out_dir.join(format!("{stem}.parquet"));
        let run = easlens([
            OsStr::new("iis-export"),
            dir.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stem}: {stderr}");
        assert!(stderr.contains("wrote"), "{stem}: {stderr}");
        assert!(!out_dir.join(format!("{stem}.parquet.partial")).exists());

        let rows = rows_of(&out);
        assert_eq!(rows.len() as u64, truth["activesync_lines"].as_u64().unwrap(), "{stem}");
        // In file order: within a file, line numbers only grow.
        let mut last: HashMap<&str, u64> = HashMap::new();
        let mut at: HashMap<(String, u64), usize> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            let file = text(r, "file").unwrap();
            let line: u64 = text(r, "line").unwrap().parse().unwrap();
            assert!(
                last.get(file).is_none_or(|&l| l < line),
                "{stem}: {file}:{line} out of order"
            );
            last.insert(file, line);
            let rel = Path::new(file)
                .strip_prefix(&dir)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/");
            at.insert((rel, line), i);
        }

        let mut matched = vec![false; rows.len()];
        for q in truth["requests"].as_array().unwrap() {
            for side in ["front_end", "back_end", "cas"] {
                let Some(place) = q.get(side).and_then(Value::as_object) else {
                    continue;
                };
                let key = (
                    place["file"].as_str().unwrap().to_string(),
                    place["line"].as_u64().unwrap(),
                );
                let i = *at.get(&key).unwrap_or_else(|| panic!("{stem}: no row for {key:?}"));
                matched[i] = true;
                let r = &rows[i];
                let w = |c: &str| text(r, c).map(str::to_string);
                let ctx = format!("{stem} {key:?}");
                assert_eq!(w("role").as_deref(), Some(side), "{ctx}");
                assert_eq!(w("time"), Some(logged_millis(q["time"].as_str().unwrap())), "{ctx}");
                assert_eq!(w("probe").as_deref(), Some("false"), "{ctx}");
                for (column, truth_key) in [
                    ("method", "method"),
                    ("device_type", "device_type"),
                    ("command", "command"),
                    ("status", "http_status"),
                    ("substatus", "http_substatus"),
                    ("win32", "win32_status"),
                ] {
                    assert_eq!(w(column), truth_text(&q[truth_key]), "{ctx} {column}");
                }
                // Windows names and device ids compare without case (a back end writes the
                // account as Windows resolved it: `CONTOSO\jdoe`).
                for column in ["user", "device_id"] {
                    assert_eq!(
                        w(column).map(|d| d.to_lowercase()),
                        truth_text(&q[column]).map(|d| d.to_lowercase()),
                        "{ctx} {column}"
                    );
                }
                // The truth has the time the device's server took (the back end's is its own).
                if side != "back_end" {
                    assert_eq!(
                        w("time_taken_ms"),
                        truth_text(&q["time_taken_ms"]),
                        "{ctx} time_taken_ms"
                    );
                }
                if side != "cas" {
                    assert_eq!(w("request_id"), truth_text(&q["activity_id"]), "{ctx} request_id");
                }
                if side == "front_end" {
                    // A 2013+ front end writes no Log=.
                    assert_eq!((w("log"), w("eas_status")), (None, None), "{ctx}");
                    continue;
                }
                for (column, truth_key) in [
                    ("eas_status", "eas_status"),
                    ("error", "error"),
                    ("access_state", "access_state"),
                    ("throttle_ms", "throttle_ms"),
                    ("heartbeat_s", "heartbeat_s"),
                    ("sync_key", "sync_key"),
                    ("server_sync_key", "server_sync_key"),
                    ("policy_key", "policy_key"),
                    ("policy_ack", "policy_ack"),
                ] {
                    assert_eq!(w(column), truth_text(&q[truth_key]), "{ctx} {column}");
                }
                if let Some(folder) = q["folders"].as_array().and_then(|f| f.first()) {
                    assert_eq!(w("folder"), truth_text(&folder["id"]), "{ctx} folder");
                    assert_eq!(w("sync_type"), truth_text(&folder["sync_type"]), "{ctx} sync_type");
                }
            }
        }
        // The rows no request accounts for are the health probes, flagged.
        let probes: Vec<&Row> = rows
            .iter()
            .zip(&matched)
            .filter(|(_, m)| !**m)
            .map(|(r, _)| r)
            .collect();
        assert_eq!(probes.len() as u64, truth["probe_lines"].as_u64().unwrap(), "{stem}");
        assert!(probes.iter().all(|r| text(r, "probe") == Some("true")), "{stem}");
    }
    assert!(
        logs >= 15,
        "the sample kit writes an IIS log per conversation and a fleet"
    );
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[test]
fn an_export_never_writes_over_a_log_and_a_failed_one_leaves_no_file() {
    let dir = std::env::temp_dir().join(format!("easlens-iis-export-guard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("u_ex240502.log");
    std::fs::copy(samples().join("healthy-iphone.iis/W3SVC1/u_ex240305.log"), &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let run = easlens([
        OsStr::new("iis-export"),
        dir.as_os_str(),
        OsStr::new("-o"),
        log.as_os_str(),
    ]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("is one of the logs being read"));
    assert_eq!(std::fs::read(&log).unwrap(), before, "the log is unchanged");

    // Nothing readable: an error naming the input, and no Parquet file left behind.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = dir.join("out.parquet");
    let run = easlens([
        OsStr::new("iis-export"),
        empty.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert!(!run.status.success());
    assert!(!out.exists() && !dir.join("out.parquet.partial").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn line_numbers_hold_across_blocks_of_a_big_log() {
    // A log of many 4 MB blocks (a back end's day written 25 times, 10 MB): each row's line
    // number points at the line it was read from, whichever worker read the block.
    let dir = std::env::temp_dir().join(format!("easlens-iis-export-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let day = std::fs::read(samples().join("fleet.iis/MBX01/W3SVC2/u_ex240502.log")).unwrap();
    let copies = 25;
    let log = dir.join("u_ex240502.log");
    std::fs::write(&log, day.repeat(copies)).unwrap();
    let out = dir.join("big.parquet");
    let run = easlens([
        OsStr::new("iis-export"),
        log.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let text_of = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text_of.split('\n').collect();
    let rows = rows_of(&out);
    let per_copy = std::str::from_utf8(&day)
        .unwrap()
        .lines()
        .filter(|l| l.contains(" /Microsoft-Server-ActiveSync"))
        .count();
    assert_eq!(rows.len(), per_copy * copies);
    let mut previous = 0;
    for r in &rows {
        let n: usize = text(r, "line").unwrap().parse().unwrap();
        assert!(n > previous, "rows in file order");
        previous = n;
        let line = lines[n - 1];
        let ms = chrono::NaiveDateTime::parse_from_str(&line[..19], "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(text(r, "time"), Some(ms.to_string().as_str()), "line {n}");
        assert!(line.contains(text(r, "query").unwrap()), "line {n}");
        assert!(line.contains(text(r, "log").unwrap()), "line {n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
