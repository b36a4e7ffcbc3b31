//! The one integration-test binary: every module runs the real `tokenledger`
//! binary against a temporary home.

mod alert;
mod cleo_cli;
mod cleo_hooks;
mod common;
mod concurrency;
mod crash;
mod daily;
mod fault_disk;
mod fault_kill;
mod fault_readonly;
mod fault_support;
mod fault_time;
mod hook_install;
mod hook_openclaw;
mod html;
mod init;
mod log;
mod migrate_pg;
mod mock_http;
mod mount;
mod pricing;
mod remote;
mod report;
mod rotate;
mod schedule;
mod send;
mod serve;
mod serve_crash;
#[cfg(feature = "grpc")]
mod serve_grpc;
mod serve_hostile;
mod serve_jobs;
mod serve_otlp;
mod serve_pg;
mod serve_routes;
mod sources;
mod sync;

/// Every file in this folder must be a module above, or its tests never run.
#[test]
fn no_test_file_is_forgotten() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/it/{name} is not declared in main.rs"
            );
        }
    }
}

/// A build without the `grpc` feature says how to get gRPC, not "unknown flag".
#[cfg(not(feature = "grpc"))]
#[test]
fn grpc_listen_without_the_feature_says_to_rebuild() {
    let ctx = common::TestContext::new();
    ctx.run(&["serve", "--grpc-listen", "127.0.0.1:0"])
        .code(2)
        .stderr(predicates::str::contains("--features grpc"));
}
