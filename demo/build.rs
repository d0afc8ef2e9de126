//! Embeds the web front (`../web/public`) into the local server: writes a table of every file,
//! each with `include_bytes!` (so that cargo rebuilds when one changes) and an ETag computed
//! here from its bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// FNV-1a, 64 bits: enough to tell two versions of a file apart in an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../web/public");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut table = String::from("pub static FILES: &[(&str, &[u8], &str)] = &[\n");
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .expect("walked below the root")
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(file).expect("reading a web file");
        let abs = file.canonicalize().expect("canonical path of a web file");
        writeln!(
            table,
            "    ({rel:?}, include_bytes!({:?}), \"\\\"{:016x}\\\"\"),",
            abs.display().to_string(),
            fnv1a(&bytes)
        )
        .expect("writing to a string");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web.rs");
    std::fs::write(out, table).expect("writing the embedded web table");
}
