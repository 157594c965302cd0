//! Conformance runner: checks every case of every `*.json` file in a directory of conformance
//! files (format: `tests/data/conformance/README.md`) against infer.
//!
//! The directory is `$INFER_CONFORMANCE_DIR`, by default the project's own copy in
//! `tests/data/conformance/`. The last line printed is
//! `conformance: N passed, N failed, N unsupported`; the process fails when
//! `failed + unsupported > 0`. An unknown case kind, distribution, function or parameter is
//! *unsupported*, never skipped.

mod build;
mod cases;
mod diagnostics;
mod dist;
mod kl;
mod loss;
mod mcmc;
mod psis;

use serde_json::Value;
use std::path::PathBuf;

/// What one case came to.
#[derive(Debug)]
pub enum Outcome {
    /// Every expected value matched.
    Pass,
    /// A value did not match (or the library returned an error).
    Fail(String),
    /// The case names something infer does not know.
    Unsupported(String),
}

fn main() {
    let dir = std::env::var_os("INFER_CONFORMANCE_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance"),
        PathBuf::from,
    );
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            println!("cannot read conformance directory {}: {e}", dir.display());
            println!("conformance: 0 passed, 1 failed, 0 unsupported");
            std::process::exit(1);
        }
    };
    files.sort();
    let (mut passed, mut failed, mut unsupported) = (0usize, 0usize, 0usize);
    for file in &files {
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let doc: Value = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                println!("FAIL {name}: unreadable: {e}");
                failed += 1;
                continue;
            }
        };
        if doc["format"] != "infer-conformance/1" {
            println!("UNSUPPORTED {name}: format {}", doc["format"]);
            unsupported += 1;
            continue;
        }
        let Some(list) = doc["cases"].as_array() else {
            println!("FAIL {name}: no cases array");
            failed += 1;
            continue;
        };
        for case in list {
            let id = case["id"].as_str().unwrap_or("?");
            match cases::check(case) {
                Outcome::Pass => passed += 1,
                Outcome::Fail(why) => {
                    failed += 1;
                    println!("FAIL {name} {id}: {why}");
                }
                Outcome::Unsupported(why) => {
                    unsupported += 1;
                    println!("UNSUPPORTED {name} {id}: {why}");
                }
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed, {unsupported} unsupported");
    if failed + unsupported > 0 {
        std::process::exit(1);
    }
}
