//! Shared by the fuzz targets.

#![allow(dead_code)] // each target uses only part of this module

/// Lower-case hex of `b`, for panic messages (the input that failed, in a form to paste back).
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Like [`hex`], but at most `max` bytes (then `…+N bytes`), for large inputs such as HAR files.
pub fn hex_prefix(b: &[u8], max: usize) -> String {
    if b.len() <= max {
        hex(b)
    } else {
        format!("{}…+{} bytes", hex(&b[..max]), b.len() - max)
    }
}

/// A file of this fuzzing process named `easlens-fuzz-<pid>.<ext>` (in /dev/shm when there is
/// one), for readers that take a path: each input is written to it.
pub fn input_file(ext: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new("/dev/shm");
    let dir = if dir.is_dir() { dir.to_path_buf() } else { std::env::temp_dir() };
    dir.join(format!("easlens-fuzz-{}.{ext}", std::process::id()))
}
