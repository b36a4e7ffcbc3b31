//! `tokenledger serve`: the collector, on the home's files or PostgreSQL.

use crate::context::{Context, invalid, warn};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use tokenledger_core::event_store::EventStore;
use tokenledger_server::{FileEventStore, ServeOptions};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger serve\n  \
    tokenledger serve --listen 0.0.0.0:4318 --store postgres://tokenledger@db/tokenledger\n  \
    tokenledger serve --grpc-listen 127.0.0.1:4317   # also OTLP over gRPC (--features grpc)\n  \
    tokenledger serve hash-token    # reads the token from stdin, prints its sha256")]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// Address to listen on (loopback by default; port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:4318", value_name = "ADDR")]
    pub listen: String,
    /// Also accept OTLP over gRPC on this address, e.g. 127.0.0.1:4317 (a build with `--features grpc`)
    #[arg(long, value_name = "ADDR")]
    pub grpc_listen: Option<String>,
    /// Where events are kept: `file` (the home's ledger.jsonl) or a postgres:// URL
    #[arg(long, default_value = "file", value_name = "STORE")]
    pub store: String,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Print the sha256 to put in [[server.token]] for a bearer token
    HashToken {
        /// The token; read from stdin when omitted (keeps it out of shell history)
        token: Option<String>,
    },
}

pub fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(ServeCommand::HashToken { token }) = args.command {
        let token = match token {
            Some(token) => token,
            None => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the token from stdin")?;
                line
            }
        };
        if token.trim().is_empty() {
            return Err(invalid("the token is empty"));
        }
        println!("{}", tokenledger_server::hash_token(&token));
        return Ok(ExitCode::SUCCESS);
    }
    let listen: SocketAddr = args.listen.parse().map_err(|e| {
        invalid(format!(
            "--listen {:?} is not an address and port ({e}); try 127.0.0.1:4318",
            args.listen
        ))
    })?;
    let grpc_listen = grpc_listen(args.grpc_listen.as_deref())?;
    tokenledger_server::memory::limit_arenas();
    let server = ctx.config.server.clone();
    let (store, file): (Arc<dyn EventStore>, Option<Arc<FileEventStore>>) =
        match args.store.as_str() {
            "file" => {
                let file = Arc::new(FileEventStore::open(&ctx.home, server.otel_prefer)?);
                (file.clone(), Some(file))
            }
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let store = tokenledger_store_pg::PgStore::connect(url)?
                    .with_otel_prefer(server.otel_prefer);
                (Arc::new(store), None)
            }
            other => {
                return Err(invalid(format!(
                    "--store {other:?}: use `file` or a postgres:// URL"
                )));
            }
        };
    let jobs_store = store.clone();
    let run_schedules = server.run_schedules;
    let options = ServeOptions {
        listen,
        grpc_listen,
        store,
        prices: ctx.prices()?,
        config: server,
        prefer: ctx.config.merge.prefer,
        report_tz: ctx.config.report.tz.clone(),
    };
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Dropping the sender when the server stops ends the scheduler's wait.
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        if run_schedules {
            scope.spawn(move || super::serve_jobs::run(ctx, jobs_store.as_ref(), &stopped));
        }
        let served = tokenledger_server::serve(options);
        drop(stop);
        Ok(served?)
    })?;
    if let Some(file) = file
        && let Err(e) = file.save_snapshot()
    {
        warn(&format_args!(
            "ledger snapshot not written ({e}); the next start parses the ledger instead"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--grpc-listen`, refused up front by a build without gRPC, before the
/// store is opened or anything is bound.
fn grpc_listen(arg: Option<&str>) -> anyhow::Result<Option<SocketAddr>> {
    let Some(arg) = arg else { return Ok(None) };
    if !cfg!(feature = "grpc") {
        return Err(invalid(
            "--grpc-listen: this tokenledger was built without OTLP over gRPC; rebuild it with \
             `--features grpc` (cargo install --path crates/tokenledger --features grpc)",
        ));
    }
    let addr = arg.parse().map_err(|e| {
        invalid(format!(
            "--grpc-listen {arg:?} is not an address and port ({e}); try 127.0.0.1:4317"
        ))
    })?;
    Ok(Some(addr))
}
