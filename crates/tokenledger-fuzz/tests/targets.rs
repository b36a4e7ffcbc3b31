//! Nothing forgotten: every target has its cargo-fuzz file and every
//! cargo-fuzz file its target, and every seed line names a target and
//! finds files.

use std::collections::BTreeSet;
use tokenledger_fuzz::{TARGETS, corpus};

fn targets() -> BTreeSet<String> {
    TARGETS.iter().map(|(name, _)| name.to_string()).collect()
}

#[test]
fn every_target_has_a_fuzz_target_file_and_every_file_a_target() {
    let dir = corpus::root().join("fuzz/fuzz_targets");
    let files: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| Some(p.file_name()?.to_str()?.strip_suffix(".rs")?.to_string()))
        .collect();
    assert_eq!(files, targets());
    assert_eq!(targets().len(), TARGETS.len(), "a name used twice");
    // Each file calls its own function, and cargo-fuzz builds each.
    let manifest = std::fs::read_to_string(corpus::root().join("fuzz/Cargo.toml")).unwrap();
    for name in targets() {
        let text = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        assert!(
            text.contains(&format!("tokenledger_fuzz::{name}(")),
            "{name}.rs: {text}"
        );
        let bin = format!("name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\"");
        assert!(
            manifest.contains(&bin),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}

#[test]
fn every_seed_line_names_a_target_and_finds_files() {
    let targets = targets();
    for seeds in corpus::seed_dirs() {
        assert!(targets.contains(&seeds.target), "{seeds:?}");
        assert!(!seeds.files().is_empty(), "{seeds:?} finds no file");
    }
    for (target, path) in corpus::regressions() {
        assert!(targets.contains(&target), "{path:?}");
    }
}
