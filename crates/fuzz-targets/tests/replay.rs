//! Replays the committed fuzz inputs on stable: every file of `fuzz/seeds/<target>/` (valid
//! examples, broken ones, and a minimised corpus) and of `fuzz/regressions/<target>/` (inputs
//! that once crashed a parser) goes through its target function, which must not panic.
//! A target without seeds fails the test, so a renamed or emptied folder cannot pass silently.
//! The hand-made seeds also pin the parsers' verdicts: `valid-*` files must be accepted and
//! `broken-*` files refused (corpus entries, named by hash, only must not panic).

use inkstone_fuzz_targets::{Target, TARGETS};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; `None` when it does not exist.
fn files(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable folder entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Some(files)
}

fn replay(target: &str, run: Target, inputs: &[PathBuf]) {
    for path in inputs {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let accepted = std::panic::catch_unwind(|| run(&bytes))
            .unwrap_or_else(|_| panic!("target `{target}` panicked on {}", path.display()));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("valid-") {
            assert!(accepted, "`{target}` refused {}", path.display());
        } else if name.starts_with("broken-") {
            assert!(!accepted, "`{target}` accepted {}", path.display());
        }
    }
}

#[test]
fn every_seed_and_regression_input_passes_its_target() {
    let mut total = 0;
    for &(target, run) in TARGETS {
        let seeds_dir = fuzz_dir().join("seeds").join(target);
        let seeds = files(&seeds_dir).unwrap_or_default();
        assert!(
            !seeds.is_empty(),
            "{}: no seed files for target `{target}`",
            seeds_dir.display()
        );
        replay(target, run, &seeds);
        total += seeds.len();
        let regressions_dir = fuzz_dir().join("regressions").join(target);
        if let Some(regressions) = files(&regressions_dir) {
            assert!(
                !regressions.is_empty(),
                "{}: an empty regressions folder (remove it or add the inputs)",
                regressions_dir.display()
            );
            replay(target, run, &regressions);
            total += regressions.len();
        }
    }
    eprintln!("replayed {total} inputs through {} targets", TARGETS.len());
}

#[test]
fn every_target_has_a_cargo_fuzz_binary_and_no_binary_lacks_a_target() {
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    let dir = fuzz_dir().join("fuzz_targets");
    let mut binaries: Vec<String> = files(&dir)
        .unwrap_or_else(|| panic!("{} is missing", dir.display()))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    binaries.sort();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(binaries, expected, "fuzz/fuzz_targets/*.rs vs TARGETS");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in names {
        let source = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        assert!(
            source.contains(&format!("inkstone_fuzz_targets::{name}(")),
            "fuzz/fuzz_targets/{name}.rs does not call its target"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] `{name}`"
        );
    }
}
