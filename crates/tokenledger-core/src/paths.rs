//! Where data and configuration live.

use std::path::{Path, PathBuf};

pub const HOME_ENV: &str = "TOKENLEDGER_HOME";
pub const CONFIG_ENV: &str = "TOKENLEDGER_CONFIG";

/// `--home`, else `TOKENLEDGER_HOME`, else `$XDG_DATA_HOME/tokenledger`, else `~/.local/share/tokenledger`.
pub fn resolve_home(flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    if let Some(path) = non_empty_env(HOME_ENV) {
        return path;
    }
    if let Some(data) = non_empty_env("XDG_DATA_HOME") {
        return data.join("tokenledger");
    }
    user_home().join(".local/share/tokenledger")
}

/// `--config`, else `TOKENLEDGER_CONFIG`, else `$XDG_CONFIG_HOME/tokenledger/config.toml`, else `~/.config/tokenledger/config.toml`.
pub fn resolve_config(flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    if let Some(path) = non_empty_env(CONFIG_ENV) {
        return path;
    }
    if let Some(config) = non_empty_env("XDG_CONFIG_HOME") {
        return config.join("tokenledger/config.toml");
    }
    user_home().join(".config/tokenledger/config.toml")
}

fn non_empty_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn user_home() -> PathBuf {
    non_empty_env("HOME").unwrap_or_else(|| PathBuf::from("/"))
}
