//! The one integration-test binary: every module runs the real `tokenledger`
//! binary against a temporary home.

mod common;
mod concurrency;
mod crash;
mod daily;
mod init;
mod log;
mod pricing;
mod report;
mod rotate;
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
