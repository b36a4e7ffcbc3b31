//! What every command needs: the home, the config, the price table, and how to print.

use crate::cli::{ColorChoice, GlobalArgs};
use anyhow::Context as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use tokenledger_core::config::Config;
use tokenledger_core::event::SourceKind;
use tokenledger_core::ledger::{Ledger, SyncState, SyncedSource};
use tokenledger_core::paths::{resolve_config, resolve_home};
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::register::Register;
use tokenledger_core::source::Source;
use tokenledger_core::store::FileStore;
use tokenledger_sources::{Environment, agent_sources};

pub struct Context {
    pub home: PathBuf,
    pub config_path: PathBuf,
    pub config: Config,
    pub color: bool,
}

impl Context {
    pub fn load(global: &GlobalArgs) -> anyhow::Result<Context> {
        let home = resolve_home(global.home.as_deref());
        let config_path = resolve_config(global.config.as_deref());
        let (config, warnings) = Config::load(&config_path)?;
        for warning in warnings {
            warn(&warning);
        }
        Ok(Context {
            home,
            config_path,
            config,
            color: use_color(global.color),
        })
    }

    /// Where `log` and `rotate` write: the embedded file store.
    pub fn store(&self) -> FileStore {
        FileStore::new(self.register())
    }

    pub fn register(&self) -> Register {
        match &self.config.register.path {
            Some(path) => Register::at(path.clone()),
            None => Register::in_home(&self.home),
        }
    }

    /// The sources a command reads: `selection` names them (`register`,
    /// `claude-code`, `codex`, `openclaw`); empty means every detected one.
    /// Every event keeps its identity (dedupe key), as `migrate` needs.
    pub fn sources(
        &self,
        selection: &[String],
    ) -> anyhow::Result<Vec<Box<dyn Source + Send + Sync>>> {
        self.sources_with(selection, true)
    }

    /// [`Context::sources`] for aggregating only: events the ledger alone
    /// answers for may come without their dedupe keys, which a total never
    /// looks at (and allocating them was a fifth of a report after a sync).
    pub fn report_sources(
        &self,
        selection: &[String],
    ) -> anyhow::Result<Vec<Box<dyn Source + Send + Sync>>> {
        self.sources_with(selection, false)
    }

    fn sources_with(
        &self,
        selection: &[String],
        keys: bool,
    ) -> anyhow::Result<Vec<Box<dyn Source + Send + Sync>>> {
        let mut all: Vec<Box<dyn Source + Send + Sync>> = vec![Box::new(self.register())];
        all.extend(self.synced_agent_sources(keys)?);
        // Task ids from the CLEO hooks and `session end` (task-links.jsonl).
        let (all, warnings) = tokenledger_cleo::source::attribute(all, &self.home);
        warnings.iter().for_each(|w| warn(w));
        if selection.is_empty() {
            return Ok(all
                .into_iter()
                .filter(|s| s.kind() == SourceKind::Register || s.detected())
                .collect());
        }
        let mut chosen = Vec::new();
        for name in selection {
            let kind = SourceKind::parse(name.trim())
                .filter(|k| all.iter().any(|s| s.kind() == *k))
                .ok_or_else(|| {
                    let known: Vec<_> = all.iter().map(|s| s.kind().as_str()).collect();
                    invalid(format!(
                        "unknown source {name:?}; use one or more of {}",
                        known.join(", ")
                    ))
                })?;
            chosen.push(kind);
        }
        Ok(all
            .into_iter()
            .filter(|s| chosen.contains(&s.kind()))
            .collect())
    }

    /// The agents' logs as they are now, for `sync`.
    pub fn live_agent_sources(&self) -> Vec<Box<dyn Source + Send + Sync>> {
        agent_sources(&Environment::from_process())
    }

    /// The agents' logs seen through the ledger once `sync` has run: synced
    /// events survive the agents' cleanup, and unchanged logs are not re-read.
    fn synced_agent_sources(
        &self,
        keys: bool,
    ) -> anyhow::Result<Vec<Box<dyn Source + Send + Sync>>> {
        let live = self.live_agent_sources();
        let ledger = Ledger::in_home(&self.home);
        if !ledger.exists() {
            return Ok(live);
        }
        let state = SyncState::load(&ledger.state_path(), ledger.path());
        // A source never synced and absent here has nothing new to read.
        let changed: Vec<bool> = live
            .iter()
            .map(|s| !state.unchanged(s.kind()) && s.detected())
            .collect();
        // Event identities matter only where held events meet newly read ones.
        let loaded = ledger.load_with(keys || changed.contains(&true))?;
        for warning in &loaded.warnings {
            warn(warning);
        }
        // Shared, not split by kind: each source picks out its own, and
        // moving every event into per-kind vectors cost more than that.
        let held = std::sync::Arc::new(loaded.events);
        Ok(live
            .into_iter()
            .zip(changed)
            .map(|(source, changed)| {
                let kind = source.kind();
                let resume = if changed {
                    state.resume(kind)
                } else {
                    Default::default()
                };
                Box::new(SyncedSource::new(
                    source,
                    std::sync::Arc::clone(&held),
                    ledger.path().to_path_buf(),
                    changed,
                    resume,
                )) as Box<dyn Source + Send + Sync>
            })
            .collect())
    }

    pub fn prices(&self) -> anyhow::Result<PriceTable> {
        PriceTable::load(&self.config.pricing, Some(&self.config_path)).with_context(|| {
            format!(
                "loading prices configured in {}",
                self.config_path.display()
            )
        })
    }
}

/// Colour only on a terminal, never under NO_COLOR or TERM=dumb unless forced.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// Every warning goes through here, to stderr.
pub fn warn(message: &dyn std::fmt::Display) {
    eprintln!("tokenledger: warning: {message}");
}

/// Invalid input is exit 2 (like clap's usage errors); anything else is 1.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    let invalid = err.chain().any(|cause| {
        cause.downcast_ref::<InvalidInput>().is_some()
            || matches!(
                cause.downcast_ref::<tokenledger_core::Error>(),
                Some(tokenledger_core::Error::InvalidField { .. })
            )
    });
    if invalid { 2 } else { 1 }
}

/// A user-input problem found by the CLI itself.
#[derive(Debug)]
pub struct InvalidInput(pub String);

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidInput {}

pub fn invalid(message: impl Into<String>) -> anyhow::Error {
    InvalidInput(message.into()).into()
}
