//! The protocol data of the crate, checked and turned into Rust at build time, so that adding a code
//! page, a token, a header or a rule is a data change only, and a bad row or a misspelt name fails
//! the build instead of a test or a user:
//!
//! - `wbxml-codepages/*.tsv` (top of the workspace) → embedded as they are (`codepage_files.rs`,
//!   parsed by `wbxml::codepages`), and one constant per element name (`element_names.rs`, the
//!   module `wbxml::names`) for the code that matches element names;
//! - `src/eas/headers.tsv` → the header table of `eas::headers` (`eas_headers.rs`);
//! - `src/analysis/rules.tsv` → the `RuleId` enum and the rule table of `analysis::rules`
//!   (`rules.rs`);
//! - `src/eas/locales.tsv` → checked only (`eas::query` reads it at run time);
//! - `src/content/autodiscover.tsv` → checked only (`content::xml` reads it at run time);
//! - `src/eas/status/*.tsv` → checked only (`eas::status` reads them at run time);
//! - `src/iis/substatus.tsv` → checked only (`iis::reports` reads it at run time);
//! - `src/redact/rules.tsv` → checked only, also that every element of every code page has a row
//!   (`redact::rules` reads it at run time).
//!
//! The readers of the `src/` files are the crate's own (`#[path]` below), plain `std`, unit-tested
//! with the crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

// The build uses only part of each reader.
#[allow(dead_code)]
#[path = "src/content/autodiscover_tsv.rs"]
mod autodiscover_tsv;
#[allow(dead_code)]
#[path = "src/eas/headers_tsv.rs"]
mod headers_tsv;
#[allow(dead_code)]
#[path = "src/eas/locales_tsv.rs"]
mod locales_tsv;
#[allow(dead_code)]
#[path = "src/redact/rules_tsv.rs"]
mod redact_rules_tsv;
#[allow(dead_code)]
#[path = "src/analysis/rules_tsv.rs"]
mod rules_tsv;
#[allow(dead_code)]
#[path = "src/eas/status_tsv.rs"]
mod status_tsv;
#[allow(dead_code)]
#[path = "src/iis/substatus_tsv.rs"]
mod substatus_tsv;
#[allow(dead_code)]
#[path = "src/tsv.rs"]
mod tsv;

use headers_tsv::Carried;

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    if let Err(e) = generate(&manifest, &out) {
        // One line that names the file and the row; cargo fails the build with it.
        println!("cargo::error={e}");
        std::process::exit(1);
    }
}

fn generate(manifest: &Path, out: &Path) -> Result<(), String> {
    let pages = code_pages(&manifest.join("../../wbxml-codepages"))?;
    write(out, "codepage_files.rs", &codepage_files(&pages))?;
    write(out, "element_names.rs", &element_names(&pages)?)?;

    let headers = read(&manifest.join("src/eas/headers.tsv"))?;
    let rows = headers_tsv::parse_headers(&headers).map_err(|e| format!("src/eas/headers.tsv: {e}"))?;
    write(out, "eas_headers.rs", &eas_headers(&rows))?;
    write(out, "eas_header_fill.rs", &eas_header_fill(&rows))?;

    let rules = read(&manifest.join("src/analysis/rules.tsv"))?;
    let rows = rules_tsv::parse_rules(&rules).map_err(|e| format!("src/analysis/rules.tsv: {e}"))?;
    write(out, "rules.rs", &rule_table(&rows))?;

    let redact = read(&manifest.join("src/redact/rules.tsv"))?;
    let rows = redact_rules_tsv::parse_rules(&redact).map_err(|e| format!("src/redact/rules.tsv: {e}"))?;
    let tags: Vec<(&str, Vec<&str>)> = pages
        .iter()
        .map(|p| (p.namespace.as_str(), p.tags.iter().map(|t| t.1.as_str()).collect()))
        .collect();
    redact_rules_tsv::check_elements(&rows, &tags).map_err(|e| format!("src/redact/rules.tsv: {e}"))?;

    let status = manifest.join("src/eas/status");
    let command_status = read(&status.join("command-status.tsv"))?;
    status_tsv::check(
        &command_status,
        &read(&status.join("common-status.tsv"))?,
        &read(&status.join("http-status.tsv"))?,
    )
    .map_err(|e| format!("src/eas/status/{e}"))?;
    locales_tsv::rows(&read(&manifest.join("src/eas/locales.tsv"))?)
        .map_err(|e| format!("src/eas/locales.tsv: {e}"))?;
    autodiscover_tsv::rows(&read(&manifest.join("src/content/autodiscover.tsv"))?)
        .map_err(|e| format!("src/content/autodiscover.tsv: {e}"))?;
    status_tsv::check_web(&read(&status.join("web-http-status.tsv"))?).map_err(|e| format!("src/eas/status/{e}"))?;
    substatus_tsv::rows(&read(&manifest.join("src/iis/substatus.tsv"))?)
        .map_err(|e| format!("src/iis/substatus.tsv: {e}"))?;
    // Every command with a Status table is the root element of its requests and responses.
    let elements: Vec<&str> = pages.iter().flat_map(|p| p.tags.iter().map(|t| t.1.as_str())).collect();
    for row in status_tsv::command_rows(&command_status).unwrap_or_default() {
        if !elements.contains(&row.command) {
            return Err(format!(
                "src/eas/status/command-status.tsv: line {}: no code page defines an element {:?}",
                row.line, row.command
            ));
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    println!("cargo::rerun-if-changed={}", path.display());
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(out: &Path, name: &str, text: &str) -> Result<(), String> {
    fs::write(out.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Code pages

/// What the build needs of a code page file: its name and the tags it defines (disputed ones, which
/// the decoder ignores, left out). `wbxml::codepages` parses the full file at run time.
struct Page {
    file: PathBuf,
    number: u8,
    namespace: String,
    /// (token, tag)
    tags: Vec<(u8, String)>,
}

fn code_pages(dir: &Path) -> Result<Vec<Page>, String> {
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e} (wbxml-codepages/ is missing)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    files.iter().map(|f| code_page(f)).collect()
}

fn code_page(file: &Path) -> Result<Page, String> {
    let text = read(file)?;
    let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let (mut number, mut namespace, mut tags, mut in_table) = (None, None, Vec::new(), false);
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("wbxml-codepages/{name}: line {}: {e}", i + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if !in_table {
            match cols.as_slice() {
                ["page", n] => number = Some(n.parse::<u8>().map_err(|e| at(format!("page: {e}")))?),
                ["namespace", n] => namespace = Some(n.to_string()),
                ["token", ..] => in_table = true,
                _ => {}
            }
            continue;
        }
        let token = cols
            .first()
            .and_then(|t| t.strip_prefix("0x"))
            .and_then(|t| u8::from_str_radix(t, 16).ok())
            .filter(|t| (0x05..=0x3F).contains(t))
            .ok_or_else(|| at("token must be 0x05..0x3F".into()))?;
        let tag = cols.get(1).copied().unwrap_or("");
        if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(at(format!("tag {tag:?} is not an element name")));
        }
        match cols.get(2).copied() {
            Some("spec" | "legacy") => tags.push((token, tag.to_string())),
            Some("disputed") => {}
            other => return Err(at(format!("unknown status {other:?}"))),
        }
    }
    Ok(Page {
        file: file.to_path_buf(),
        number: number.ok_or_else(|| format!("wbxml-codepages/{name}: no `page` line"))?,
        namespace: namespace.ok_or_else(|| format!("wbxml-codepages/{name}: no `namespace` line"))?,
        tags,
    })
}

fn codepage_files(pages: &[Page]) -> String {
    let mut out = String::from("pub(crate) static CODEPAGE_FILES: &[(&str, &str)] = &[\n");
    for p in pages {
        let name = p.file.file_name().unwrap_or_default().to_string_lossy();
        let _ = writeln!(out, "    ({name:?}, include_str!({:?})),", p.file.display().to_string());
    }
    out + "];\n"
}

/// One constant per distinct element name (`SYNC_KEY`), documented with the pages that define it,
/// and one per namespace in `ns`.
fn element_names(pages: &[Page]) -> Result<String, String> {
    let mut names: BTreeMap<String, (&str, Vec<String>)> = BTreeMap::new();
    for p in pages {
        for (token, tag) in &p.tags {
            let constant = tsv::upper_snake(tag);
            let entry = names.entry(constant.clone()).or_insert((tag, Vec::new()));
            if entry.0 != tag {
                return Err(format!(
                    "wbxml-codepages: elements {} and {tag} would both be the constant {constant}",
                    entry.0
                ));
            }
            let at = format!("{} 0x{token:02X}", p.namespace);
            if !entry.1.contains(&at) {
                entry.1.push(at);
            }
        }
    }
    let mut out = String::from("// Generated by build.rs from wbxml-codepages/*.tsv.\n\n");
    for (constant, (tag, at)) in &names {
        let _ = writeln!(out, "/// `{tag}`: {}.", at.join(", "));
        let _ = writeln!(out, "pub const {constant}: &str = {tag:?};");
    }
    out +=
        "\n/// The namespaces of the code pages (`Email2`, `AirSyncBase`), as element tags carry them.\npub mod ns {\n";
    for p in pages {
        let _ = writeln!(out, "    /// Code page {}.", p.number);
        let _ = writeln!(
            out,
            "    pub const {}: &str = {:?};",
            tsv::upper_snake(&p.namespace),
            p.namespace
        );
    }
    Ok(out + "}\n")
}

// ---------------------------------------------------------------------------------------------
// Headers

fn eas_headers(rows: &[headers_tsv::HeaderRow<'_>]) -> String {
    let mut out = String::from("// Generated by build.rs from src/eas/headers.tsv.\n\n");
    out += "/// The header names of `headers.tsv`, one constant each.\npub mod name {\n";
    for r in rows {
        let _ = writeln!(out, "    /// `{}`.", r.name);
        let _ = writeln!(out, "    pub const {}: &str = {:?};", tsv::upper_snake(r.name), r.name);
    }
    out += "}\n\n";
    let _ = writeln!(out, "static HEADERS: [EasHeader; {}] = [", rows.len());
    for r in rows {
        let side = match r.side {
            Carried::Request => "Request",
            Carried::Response => "Response",
            Carried::Both => "Both",
        };
        let _ = writeln!(
            out,
            "    EasHeader {{ name: name::{}, side: HeaderSide::{side}, meaning: {:?}, quote: {:?}, strong: {}, field: {:?} }},",
            tsv::upper_snake(r.name),
            r.meaning,
            r.quote,
            r.strong,
            r.field
        );
    }
    out += "];\n\n";
    for (side, constant) in [
        (Carried::Request, "QUOTED_REQUEST"),
        (Carried::Response, "QUOTED_RESPONSE"),
    ] {
        let mut quoted: Vec<_> = rows
            .iter()
            .filter(|r| r.side == side || r.side == Carried::Both)
            .filter_map(|r| Some((r.quote?, r.name)))
            .collect();
        quoted.sort();
        let names: Vec<String> = quoted
            .iter()
            .map(|(_, n)| format!("name::{}", tsv::upper_snake(n)))
            .collect();
        let _ = writeln!(
            out,
            "static {constant}: [&str; {}] = [{}];",
            names.len(),
            names.join(", ")
        );
    }
    out
}

/// The function that fills the EAS summary's header fields, included by `eas::session`, which
/// owns the summary (so the header table knows nothing of it).
fn eas_header_fill(rows: &[headers_tsv::HeaderRow<'_>]) -> String {
    let mut out = String::from("// Generated by build.rs from src/eas/headers.tsv.\n");
    out += "\n/// Sets the summary fields that the headers of `side` fill (`headers.tsv`, column `field`).\n";
    out += "pub(crate) fn fill_headers(s: &mut EasSummary, side: Side, h: &Headers) {\n    match side {\n";
    for (side, variant) in [(Carried::Request, "Request"), (Carried::Response, "Response")] {
        let _ = writeln!(out, "        Side::{variant} => {{");
        for r in rows.iter().filter(|r| r.side == side) {
            if let Some(field) = r.field {
                // A write to `s.headers` allocates its box: only when the header is there.
                let _ = writeln!(
                    out,
                    "            if let Some(v) = h.get(headers::name::{}) {{ s.{field} = Some(v.into()); }}",
                    tsv::upper_snake(r.name)
                );
            }
        }
        out += "        }\n";
    }
    out + "    }\n}\n"
}

// ---------------------------------------------------------------------------------------------
// Findings rules

fn rule_table(rows: &[rules_tsv::RuleRow<'_>]) -> String {
    let variant = |r: &rules_tsv::RuleRow<'_>| tsv::upper_camel(r.id);
    let mut out = String::from("// Generated by build.rs from src/analysis/rules.tsv.\n\n");
    out += "/// A findings rule: one variant per row of `rules.tsv`, in its order.\n";
    out += "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum RuleId {\n";
    for r in rows {
        let _ = writeln!(out, "    /// `{}`: {}.", r.id, r.title);
        let _ = writeln!(out, "    {},", variant(r));
    }
    out += "}\n\nimpl RuleId {\n";
    let _ = writeln!(out, "    /// Every rule, in the order of `rules.tsv`.");
    let all: Vec<String> = rows.iter().map(|r| format!("RuleId::{}", variant(r))).collect();
    let _ = writeln!(
        out,
        "    pub const ALL: [RuleId; {}] = [{}];\n",
        rows.len(),
        all.join(", ")
    );
    out += "    /// The id as `rules.tsv`, the JSON and the UI write it: `http-error`.\n";
    out += "    pub const fn id(self) -> &'static str {\n        match self {\n";
    for r in rows {
        let _ = writeln!(out, "            RuleId::{} => {:?},", variant(r), r.id);
    }
    out += "        }\n    }\n}\n\n";
    let _ = writeln!(out, "static RULES: [Rule; {}] = [", rows.len());
    for r in rows {
        let severities: Vec<String> = r
            .severities
            .iter()
            .map(|s| format!("Severity::{}", tsv::upper_camel(s)))
            .collect();
        let _ = writeln!(
            out,
            "    Rule {{ id: {:?}, severities: &[{}], title: {:?}, explanation: {:?} }},",
            r.id,
            severities.join(", "),
            r.title,
            r.explanation
        );
    }
    out + "];\n"
}
