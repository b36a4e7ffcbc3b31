//! Every seed and every crash the fuzzers found, through its target: the
//! fuzzers' findings stay fixed with no fuzzer installed.

use std::path::PathBuf;
use tokenledger_fuzz::{TARGETS, corpus};

fn run(cases: Vec<(String, PathBuf)>) -> usize {
    for (target, path) in &cases {
        let (_, function) = TARGETS
            .iter()
            .find(|(name, _)| name == target)
            .unwrap_or_else(|| panic!("{path:?}: no target {target}"));
        let data = std::fs::read(path).unwrap();
        eprintln!("{target} {}", path.display());
        function(&data);
    }
    cases.len()
}

#[test]
fn every_committed_crash_is_fixed() {
    run(corpus::regressions());
}

#[test]
fn every_seed_passes_its_target() {
    let seeds = corpus::seed_dirs()
        .into_iter()
        .flat_map(|seeds| {
            let files = seeds.files();
            files.into_iter().map(move |f| (seeds.target.clone(), f))
        })
        .collect();
    assert!(run(seeds) > 0);
}
