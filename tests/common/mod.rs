//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aoai-arch"))
}

pub const EXAMPLES: [&str; 3] = ["afd", "apim", "afd-apim"];

pub fn example(name: &str) -> PathBuf {
    root().join("blueprints").join(format!("{name}.yaml"))
}

/// `../shared` (or `$AOAI_ARCH_SHARED`). `None` means the caller should skip, after this has
/// printed why; with `AOAI_ARCH_REQUIRE_SHARED=1` (CI) a missing folder is a failure instead.
pub fn shared(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("AOAI_ARCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"));
    if dir.join("arm-schemas").is_dir() && dir.join("apim-policy").is_dir() {
        return Some(dir);
    }
    if std::env::var("AOAI_ARCH_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "{test}: AOAI_ARCH_REQUIRE_SHARED=1 but {} has no arm-schemas/ and apim-policy/",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED {test}: reference data not found at {} (set AOAI_ARCH_SHARED, or AOAI_ARCH_REQUIRE_SHARED=1 to make this a failure)",
        dir.display()
    );
    None
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}
