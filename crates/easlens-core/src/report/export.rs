//! Writing a report to a file: the format chosen by the file's extension (`.html`/`.htm` or
//! `.md`), a Markdown report's timeline written beside it (`OUT.timeline.svg`), every file written
//! to a temporary file in the same folder and renamed over the target (a reader never sees half a
//! report), and never over one of the files the report was made from.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::evidence::Report;
use super::{html, markdown};

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Html,
    Markdown,
}

/// Why a report could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{0}: the report's format comes from the file's extension: .html (or .htm) or .md")]
    UnknownFormat(PathBuf),
    #[error("{0}: this is one of the report's input files; write the report to another file")]
    WouldOverwriteInput(PathBuf),
    #[error("{path}: cannot write the report: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl OutputFormat {
    /// The format `path`'s extension names (any case).
    pub fn from_path(path: &Path) -> Result<OutputFormat, ReportError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("html" | "htm") => Ok(OutputFormat::Html),
            Some("md" | "markdown") => Ok(OutputFormat::Markdown),
            _ => Err(ReportError::UnknownFormat(path.to_path_buf())),
        }
    }
}

/// Writes `report` to `out` in the format of its extension (a Markdown report's timeline beside
/// it), refusing to write over any of `inputs`. Returns the files written, the report first.
pub fn write_report(report: &Report, out: &Path, inputs: &[&Path]) -> Result<Vec<PathBuf>, ReportError> {
    let format = OutputFormat::from_path(out)?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    match format {
        OutputFormat::Html => files.push((out.to_path_buf(), html::render(report))),
        OutputFormat::Markdown => {
            let name = out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let svg_name = markdown::timeline_file_name(&name);
            let svg = out.with_file_name(&svg_name);
            files.push((out.to_path_buf(), markdown::render(report, Some(&svg_name))));
            files.push((svg, report.timeline.svg()));
        }
    }
    for (path, _) in &files {
        if inputs.iter().any(|i| crate::writers::same_file(i, path)) {
            return Err(ReportError::WouldOverwriteInput(path.clone()));
        }
    }
    // The picture first: the report never points at a file that is not there yet.
    for (path, text) in files.iter().rev() {
        write_atomically(path, text.as_bytes())?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// `bytes` into a temporary file beside `path`, then renamed to `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(error(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_format() {
        assert_eq!(
            OutputFormat::from_path(Path::new("a/r.HTML")).ok(),
            Some(OutputFormat::Html)
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("r.htm")).ok(),
            Some(OutputFormat::Html)
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("r.md")).ok(),
            Some(OutputFormat::Markdown)
        );
        for bad in ["r.pdf", "r", "r.html.txt"] {
            assert!(matches!(
                OutputFormat::from_path(Path::new(bad)),
                Err(ReportError::UnknownFormat(_))
            ));
        }
    }
}
