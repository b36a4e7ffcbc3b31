//! The server: shared state, the routes, and a shutdown that finishes every
//! request already accepted before the process exits.

use crate::auth::Auth;
use crate::error::ServerError;
use crate::otlp::metrics::Cumulative;
use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokenledger_core::event_store::EventStore;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::report::Prefer;
use tokenledger_core::server_config::ServerConfig;

pub use crate::auth::Need;

pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Also OTLP over gRPC on this address (a build with the `grpc` feature).
    pub grpc_listen: Option<SocketAddr>,
    pub store: Arc<dyn EventStore>,
    pub prices: PriceTable,
    pub config: ServerConfig,
    /// `[merge] prefer`: register or log first, as in local reports.
    pub prefer: Prefer,
    /// `[report] tz`: the default display zone of reports.
    pub report_tz: Option<String>,
}

pub struct AppState {
    pub store: Arc<dyn EventStore>,
    pub prices: PriceTable,
    pub auth: Auth,
    pub body_limit: usize,
    pub prefer: Prefer,
    pub report_tz: Option<String>,
    /// Held across resolving and storing cumulative points, so two exports
    /// of one series never both count the same increase.
    pub cumulative: Mutex<Cumulative>,
    warned_no_totals: AtomicBool,
}

impl AppState {
    pub fn warn_once_no_totals(&self) {
        if !self.warned_no_totals.swap(true, Ordering::Relaxed) {
            eprintln!(
                "tokenledger: warning: {} cannot sum stored cumulative series; after a restart, cumulative OTLP counters count from their first point again",
                self.store.describe()
            );
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    use crate::routes;
    Router::new()
        .route("/", get(routes::dashboard::get))
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::prom::get))
        .route("/v1/events", post(routes::events::post))
        .route("/v1/report", get(routes::report::get))
        .route("/v1/metrics", post(crate::otlp::post_metrics))
        .route("/v1/logs", post(crate::otlp::post_logs))
        .with_state(state)
}

/// Runs until SIGTERM or Ctrl-C, then stops accepting connections and waits
/// for the requests in flight: each is answered only after its events are
/// durable, so whatever was acknowledged is kept.
pub fn serve(options: ServeOptions) -> Result<(), ServerError> {
    let auth = Auth::new(&options.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    runtime.block_on(async move {
        let listener = bind(options.listen).await?;
        let local = listener.local_addr().map_err(ServerError::Runtime)?;
        let grpc = match options.grpc_listen {
            Some(addr) if cfg!(feature = "grpc") => Some(bind(addr).await?),
            Some(_) => {
                return Err(ServerError::Config(
                    "this build has no OTLP over gRPC; rebuild with `--features grpc`".into(),
                ));
            }
            None => None,
        };
        let grpc_local = match &grpc {
            Some(listener) => Some(listener.local_addr().map_err(ServerError::Runtime)?),
            None => None,
        };
        let exposed = std::iter::once(local)
            .chain(grpc_local)
            .find(|addr| !addr.ip().is_loopback());
        if let Some(exposed) = exposed.filter(|_| auth.is_open()) {
            eprintln!(
                "tokenledger: warning: listening on {exposed} without tokens: anyone who can reach it may write and read; add [[server.token]] entries (see `tokenledger serve hash-token`)"
            );
        }
        let state = Arc::new(AppState {
            store: options.store,
            prices: options.prices,
            auth,
            body_limit: options.config.body_limit_bytes,
            prefer: options.prefer,
            report_tz: options.report_tz,
            cumulative: Mutex::new(Cumulative::default()),
            warned_no_totals: AtomicBool::new(false),
        });
        eprintln!(
            "tokenledger: listening on http://{local} (store: {})",
            state.store.describe()
        );
        if let Some(addr) = grpc_local {
            eprintln!("tokenledger: OTLP over gRPC on {addr}");
        }
        // One signal stops both listeners; each then finishes its own calls.
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        let stopped = move || {
            let mut stopping = stopping.clone();
            async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            }
        };
        let grpc_state = Arc::clone(&state);
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let http = async {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped())
                .await
                .map_err(ServerError::Runtime)
        };
        let grpc = async {
            match grpc {
                #[cfg(feature = "grpc")]
                Some(listener) => crate::otlp::grpc::serve(listener, grpc_state, stopped()).await,
                _ => {
                    drop(grpc_state);
                    Ok(())
                }
            }
        };
        tokio::try_join!(http, grpc)?;
        eprintln!("tokenledger: stopped; every acknowledged event is stored");
        Ok(())
    })
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServerError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    eprintln!("tokenledger: shutting down: finishing requests in flight");
}
