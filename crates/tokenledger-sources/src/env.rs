//! The environment sources read their locations from, captured once so tests
//! can supply a fake home and variables without touching the process.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The user's home directory (`$HOME`).
    pub home: PathBuf,
    pub vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn from_process() -> Environment {
        Environment {
            home: std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/")),
            vars: std::env::vars().collect(),
        }
    }

    /// A variable's value, `None` when unset or empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A comma-separated list variable (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`), `~/` expanded.
    pub fn path_list(&self, name: &str) -> Vec<PathBuf> {
        self.var(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| match p.strip_prefix("~/") {
                        Some(rest) => self.home.join(rest),
                        None => PathBuf::from(p),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
