//! Embeds every `wbxml-codepages/*.tsv` file so that adding a code page or a token is a data change only.

use std::{env, fs, path::Path};

fn main() {
    // The code pages live at the top of the workspace, beside the product they describe.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wbxml-codepages");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("wbxml-codepages/ is missing")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    let mut out = String::from("pub(crate) static CODEPAGE_FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out += &format!("    ({name:?}, include_str!({:?})),\n", f.display().to_string());
    }
    out += "];\n";
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("codepage_files.rs");
    fs::write(dest, out).expect("cannot write codepage_files.rs");
}
