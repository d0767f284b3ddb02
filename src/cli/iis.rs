//! `easlens iis-report NAME FILES… [--json|--csv]`: the Log Parser Studio questions over Exchange's
//! IIS logs (files, `.gz` files, folders, several servers), streamed in one pass
//! (`easlens_core::iis::reports`). `NAME` is one report or `all`; `--list` names them.
//!
//! `easlens iis-export FILES… -o OUT.parquet`: the same lines, decoded, as Parquet
//! (`easlens_core::iis::export`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use easlens_core::capture::OpenOptions;
use easlens_core::iis::reports::{Cell, Column, REPORTS, Reports, Table};
use easlens_core::iis::scan;
use easlens_core::report::{Layout, cut, terminal_safe};
use serde::Serialize;

use super::{EXIT_UNREADABLE, print_json};

#[derive(Debug, Args)]
pub struct IisReportArgs {
    /// The report: users, top, sendmail, synckey0, synckeys, http-status, eas-status, errors,
    /// throttling, hourly, user-agents, servers, access, policy; or `all`.
    pub name: String,
    /// IIS log files (plain or .gz) and folders of them, from any number of servers.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON: the report's rows as objects keyed by column, with its notes.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (one report only): a header row, then the rows; the notes go to stderr.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Args)]
pub struct IisExportArgs {
    /// IIS log files (plain or .gz) and folders of them, from any number of servers.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The Parquet file to write (replaced if it exists; never one of the logs).
    #[arg(short = 'o', long = "out", required = true)]
    pub out: PathBuf,
}

/// A report as `--json` prints it: rows as objects keyed by column, written straight from the
/// table (a fleet's reports hold hundreds of thousands of cells).
#[derive(Serialize)]
struct JsonReport<'a> {
    report: &'static str,
    title: &'static str,
    description: &'static str,
    notes: &'a [String],
    rows: Vec<JsonRow<'a>>,
}

/// One row: each cell under its column's name, in column order.
struct JsonRow<'a> {
    columns: &'a [Column],
    cells: &'a [Cell],
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.columns.iter().zip(self.cells).map(|(c, v)| (c.name, v)))
    }
}

impl<'a> JsonReport<'a> {
    fn of(t: &'a Table) -> Self {
        JsonReport {
            report: t.name,
            title: t.title,
            description: t.description,
            notes: &t.notes,
            rows: t
                .rows
                .iter()
                .map(|r| JsonRow {
                    columns: &t.columns,
                    cells: r,
                })
                .collect(),
        }
    }
}

pub fn run(args: &IisReportArgs) -> ExitCode {
    let names: Vec<&str> = if args.name == "all" {
        Reports::names().collect()
    } else if let Some(r) = REPORTS.iter().find(|r| r.0 == args.name) {
        vec![r.0]
    } else {
        let known: Vec<&str> = Reports::names().collect();
        eprintln!(
            "easlens: unknown report {:?}; the reports are: {}, all",
            terminal_safe(&args.name, Layout::Lines),
            known.join(", ")
        );
        return ExitCode::from(EXIT_UNREADABLE);
    };
    if args.csv && names.len() > 1 {
        eprintln!("easlens: --csv writes one report: name one instead of `all`");
        return ExitCode::from(EXIT_UNREADABLE);
    }
    let (reports, scan) = match scan::scan(&args.files, &OpenOptions::default(), Reports::new) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("easlens: {}", terminal_safe(&e.to_string(), Layout::Lines));
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    for w in scan.warnings() {
        eprintln!("easlens: {}", terminal_safe(&format!("warning: {w}"), Layout::Lines));
    }
    let tables: Vec<Table> = reports.tables_named(&names);
    if args.json {
        let out: Vec<JsonReport> = tables.iter().map(JsonReport::of).collect();
        return match &out[..] {
            [one] => print_json(&args.files[0], one),
            all => print_json(&args.files[0], &all),
        };
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if args.csv {
        for n in &tables[0].notes {
            eprintln!("easlens: note: {}", terminal_safe(n, Layout::Lines));
        }
        tables[0].write_csv(&mut out)
    } else {
        let lines = scan.activesync_lines();
        let files = scan.files.len();
        tables.iter().try_for_each(|t| write_text(&mut out, t, lines, files))
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("easlens: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An aligned text table, columns cut at 40 characters.
fn write_text(out: &mut impl Write, t: &Table, lines: u64, files: usize) -> std::io::Result<()> {
    const WIDEST: usize = 40;
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| cut(&c.display(), WIDEST)).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.name.chars().count().min(WIDEST)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = |text: String| out.write_all(terminal_safe(&text, Layout::Lines).as_bytes());
    line(format!(
        "{} — {} ({} ActiveSync lines in {} file(s))\n{}\n",
        t.title,
        t.name,
        easlens_core::numbers::group_thousands(lines),
        files,
        t.description
    ))?;
    let row = |values: Vec<String>| -> String {
        let mut s: Vec<String> = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let w = widths[i];
            s.push(if t.columns[i].numeric {
                format!("{v:>w$}")
            } else {
                format!("{v:<w$}")
            });
        }
        s.join("  ").trim_end().to_string() + "\n"
    };
    line(row(t.columns.iter().map(|c| cut(c.name, WIDEST)).collect()))?;
    for r in cells {
        line(row(r))?;
    }
    if t.rows.is_empty() {
        line("(no rows)\n".into())?;
    }
    for n in &t.notes {
        line(format!("Note: {n}\n"))?;
    }
    line("\n".into())
}

pub fn run_export(args: &IisExportArgs) -> ExitCode {
    let safe = |text: &str| terminal_safe(text, Layout::Lines).into_owned();
    match easlens_core::iis::export::export(&args.files, &args.out, &OpenOptions::default()) {
        Ok(done) => {
            for w in done.scan.warnings() {
                eprintln!("easlens: {}", safe(&format!("warning: {w}")));
            }
            eprintln!(
                "easlens: {}",
                safe(&format!(
                    "wrote {} ActiveSync lines of {} file(s) to {} ({} bytes)",
                    easlens_core::numbers::group_thousands(done.rows),
                    done.scan.files.len(),
                    args.out.display(),
                    easlens_core::numbers::group_thousands(done.bytes),
                ))
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("easlens: {}", safe(&e.to_string()));
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}
