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

/// Every seed file with its target.
fn seeds() -> Vec<(String, PathBuf)> {
    corpus::seed_dirs()
        .into_iter()
        .flat_map(|seeds| {
            let files = seeds.files();
            files.into_iter().map(move |f| (seeds.target.clone(), f))
        })
        .collect()
}

#[test]
fn every_seed_passes_its_target() {
    assert!(run(seeds()) > 0);
}

/// The short fuzz run of CI: a few thousand blind mutations of each
/// target's seeds (TOKENLEDGER_FUZZ_RUNS, 3,000 by default), from a fresh
/// random seed each run unless TOKENLEDGER_FUZZ_SEED gives one. An input that
/// breaks a target is saved, named in the failure, and becomes a regression
/// once copied to `fuzz/regressions/<target>/`.
#[test]
fn a_few_thousand_mutated_seeds_per_target_break_nothing() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokenledger_fuzz::mutate::mutate;

    let runs: usize = std::env::var("TOKENLEDGER_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let seed: u64 = std::env::var("TOKENLEDGER_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("fuzzing {runs} mutations per target from TOKENLEDGER_FUZZ_SEED={seed}");
    let mut inputs: Vec<(&str, Vec<Vec<u8>>)> = TARGETS
        .iter()
        .map(|(name, _)| (*name, Vec::new()))
        .collect();
    for (target, path) in seeds().into_iter().chain(corpus::regressions()) {
        let data = std::fs::read(&path).unwrap();
        let slot = inputs.iter_mut().find(|(name, _)| *name == target).unwrap();
        slot.1.push(data);
    }
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let saved_in = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(target, function)) = TARGETS.get(index) else {
                        break;
                    };
                    let seeds = &inputs[index].1;
                    // Each target its own stream of mutations.
                    let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(index as u64));
                    for run in 0..runs {
                        let base = seeds.get(rng.usize(..seeds.len().max(1)));
                        let input = mutate(&mut rng, base.map_or(&[][..], |b| b), seeds);
                        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            function(&input)
                        }));
                        if outcome.is_err() {
                            std::fs::create_dir_all(&saved_in).unwrap();
                            let path = saved_in.join(format!("{target}-{seed}-{run}"));
                            std::fs::write(&path, &input).unwrap();
                            failures.lock().unwrap().push(format!(
                                "{target}: mutation {run} of TOKENLEDGER_FUZZ_SEED={seed} panicked; \
                                 input saved to {}",
                                path.display()
                            ));
                            break;
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{}\n(fix the parser, then copy the input to fuzz/regressions/<target>/)",
        failures.join("\n")
    );
}
