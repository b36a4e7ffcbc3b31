//! The shared test context: a temporary home and config, and helpers to run the binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub struct TestContext {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub config: PathBuf,
}

impl TestContext {
    pub fn new() -> TestContext {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let config = dir.path().join("config.toml");
        TestContext { dir, home, config }
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// A plain `std::process::Command`, for tests that spawn and kill.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("TOKENLEDGER_HOME", &self.home)
            .env("TOKENLEDGER_CONFIG", &self.config)
            .env("NO_COLOR", "1")
            .env("TZ", "UTC");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd().args(args).assert()
    }

    pub fn register_path(&self) -> PathBuf {
        self.home.join("token-usage-register.jsonl")
    }

    pub fn register(&self) -> String {
        std::fs::read_to_string(self.register_path()).unwrap_or_default()
    }

    pub fn write_register(&self, text: &str) {
        std::fs::create_dir_all(&self.home).unwrap();
        std::fs::write(self.register_path(), text).unwrap();
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
    }

    /// `report --format json` parsed.
    pub fn report_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["report", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.cmd().args(&all).output().unwrap();
        assert!(
            out.status.success(),
            "report failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tokenledger"))
}

/// A compact register line in the seed's key order.
pub fn line(
    ts: &str,
    key: &str,
    agent: &str,
    model: &str,
    input: u64,
    output: u64,
    cost: Option<f64>,
) -> String {
    let cost = cost.map(|c| format!(",\"cost\":{c}")).unwrap_or_default();
    format!(
        "{{\"timestamp\":\"{ts}\",\"session_key\":\"{key}\",\"agent_id\":\"{agent}\",\"model\":\"{model}\",\"tokens_input\":{input},\"tokens_output\":{output}{cost}}}\n"
    )
}

/// Every valid entry line in the register and its archives, sorted: the multiset crash tests compare.
pub fn all_entry_lines(home: &Path) -> Vec<String> {
    use std::io::Read;
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(home).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = if name == "token-usage-register.jsonl" {
            std::fs::read_to_string(&path).unwrap()
        } else if name.starts_with("token-usage-register-") && name.ends_with(".jsonl.gz") {
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            text
        } else {
            continue;
        };
        lines.extend(
            text.lines()
                .filter(|l| l.trim_start().starts_with('{'))
                .map(|l| l.trim_end_matches('\r').to_string()),
        );
    }
    lines.sort();
    lines
}

/// A timestamp `hours_ago` hours before now, in the register's format.
pub fn hours_ago(hours: i64) -> String {
    let ts = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours);
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Make a file unwritable even for root (CI runs as root, where chmod alone does not stop writes).
pub fn make_read_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::OpenOptions::new().append(true).open(path).is_ok() {
        let status = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "cannot make {} read-only: running as root and chattr +i failed",
            path.display()
        );
    }
}

pub fn undo_read_only(path: &Path) {
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(path)
        .status();
}
