use crate::common::TestContext;
use std::collections::BTreeMap;

/// 16 processes log at once, many of them the same keys: every key ends up
/// exactly once, every line is whole, nothing is lost.
#[test]
fn concurrent_loggers_lose_nothing_tear_nothing_and_double_nothing() {
    let t = TestContext::new();
    let processes = 16;
    let per_process = 20;
    std::thread::scope(|scope| {
        for p in 0..processes {
            let t = &t;
            scope.spawn(move || {
                for j in 0..per_process {
                    // Each key is attempted by several processes.
                    let key = format!("session-{}", (p * 7 + j) % 60);
                    t.run(&[
                        "log",
                        &key,
                        &format!("agent-{p}"),
                        "claude-sonnet-4-5",
                        "1000",
                        "500",
                    ])
                    .success();
                }
            });
        }
    });
    let register = t.register();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in register.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
        *counts
            .entry(value["session_key"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let expected: std::collections::BTreeSet<String> = (0..processes)
        .flat_map(|p| (0..per_process).map(move |j| format!("session-{}", (p * 7 + j) % 60)))
        .collect();
    assert_eq!(
        counts
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        expected
    );
    assert!(counts.values().all(|&c| c == 1), "duplicates: {counts:?}");
    assert!(register.ends_with('\n'));
}
