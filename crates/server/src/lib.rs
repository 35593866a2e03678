//! M-Station's HTTP server: the JSON API under `/api/v1`, its OpenAPI document, the pages, the
//! live event stream, and the workers that run inside `serve`. Only this crate knows about HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use mstation_store::Store;
use tokio::sync::broadcast;
use tower_http::LatencyUnit;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub mod api;
pub mod auth;
pub mod demo;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod media_jobs;
pub mod metrics;
pub mod pages;
pub mod ratelimit;
pub mod tools;
pub mod workers;

pub use error::ApiError;

/// Largest JSON body the API accepts. Media arrives through the upload endpoints, never as JSON.
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// The largest body of an edit to conform (an EDL or an OTIO timeline, in the API or the import
/// page): a feature's cut with its audio tracks runs to a few megabytes.
pub const MAX_EDIT_BODY: usize = 8 * 1024 * 1024;
/// An ingest's end: the card's ASC MHL generation and its files, some 500 bytes a file (a card
/// of DPX or CinemaDNG frames holds a file a frame: 100,000 of them fit).
pub const MAX_INGEST_BODY: usize = 96 * 1024 * 1024;
/// A work order's delivery: its ASC MHL manifest (`orders::MOST_MANIFEST`), form-encoded from
/// a page at worst.
pub const MAX_DELIVERY_BODY: usize = 3 * mstation_store::orders::MOST_MANIFEST;

/// The largest body a request to `path` may send.
pub fn body_limit(path: &str) -> usize {
    if path.ends_with("/conform") || path.ends_with("/import") {
        MAX_EDIT_BODY
    } else if path.starts_with("/api/v1/ingests/")
        && (path.ends_with("/finish") || path.ends_with("/seal"))
    {
        MAX_INGEST_BODY
    } else if path.starts_with("/api/v1/work-orders/") || path.starts_with("/app/work-orders/") {
        if path.ends_with("/deliver") {
            MAX_DELIVERY_BODY
        } else {
            MAX_JSON_BODY
        }
    } else {
        MAX_JSON_BODY
    }
}

/// A committed event on its way to this process's live streams. `replayed`: committed before
/// this process started, announced again only for streams resuming from an earlier event (a
/// stream that started "now" has no use for it).
pub struct Live {
    pub event: mstation_store::events::Event,
    pub replayed: bool,
}

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    /// Where media bytes are kept.
    pub blobs: mstation_store::media::blobs::BlobStore,
    /// Committed outbox events, as the tailer reads them; the event stream subscribes here.
    pub events: broadcast::Sender<Arc<Live>>,
    /// The outbox position up to which `events` has broadcast everything (in commit order).
    pub broadcast_upto: std::sync::atomic::AtomicI64,
    /// Review sessions' playheads as this process changes them, to their followers at once
    /// (followers on other processes read the row again every second).
    pub sessions: broadcast::Sender<Arc<mstation_store::tracking::sessions::ReviewSession>>,
    /// Whether webhooks may target loopback and private networks (tests, closed installations).
    pub allow_private_webhooks: bool,
    pub login_limiter: ratelimit::Limiter,
    pub metrics: metrics::Metrics,
    /// Whether cookies are marked `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Identifies this process as a job worker (lease owner).
    pub worker_id: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`core::net`); none by default.
    pub trusted_proxies: Vec<mstation_core::net::Cidr>,
    /// When set (once, at start), `/metrics` answers only `Authorization: Bearer <this>`.
    pub metrics_token: std::sync::OnceLock<String>,
    /// The address people reach the platform at (`https://m-station.example.com`, set once at
    /// start): what a printed certificate names. Unset, a page names the address its request
    /// came to.
    pub public_url: std::sync::OnceLock<String>,
    /// The storefront's search index of the listings on sale (`workers::keep_catalogue`).
    pub catalogue: Arc<mstation_store::market::search::Catalogue>,
    /// Changes to the catalogue take turns: each reads the database and applies what it read
    /// while holding it, so an older read never lands after a newer one.
    pub catalogue_turn: tokio::sync::Mutex<()>,
    /// Whether the catalogue has been built once: until then a search waits for it rather
    /// than answer that nothing is on sale.
    pub catalogue_ready: tokio::sync::watch::Sender<bool>,
    /// The talent directory's search index (`workers::keep_talent`).
    pub talent: Arc<mstation_store::talent::index::TalentIndex>,
    /// Changes to the talent index take turns, as the catalogue's do.
    pub talent_turn: tokio::sync::Mutex<()>,
    /// Whether the talent index has been built once.
    pub talent_ready: tokio::sync::watch::Sender<bool>,
    /// Told when profiles may want vectors (`workers::embed_talent`).
    pub talent_changed: tokio::sync::Notify,
    /// The sentence model's folder, when set at start (`--model-dir`, the data folder's
    /// `models/all-MiniLM-L6-v2`); else `$MSTATION_MODEL_DIR`.
    pub model_dir: std::sync::OnceLock<std::path::PathBuf>,
}

/// The sentence model, loaded once a process on first use (a few hundred milliseconds): none
/// when its folder is not there.
static SENTENCE_MODEL: std::sync::OnceLock<Option<Arc<mstation_embed::Embedder>>> =
    std::sync::OnceLock::new();

pub type State = Arc<AppState>;

pub struct Config {
    pub listen: SocketAddr,
    pub secure_cookies: bool,
    /// How many jobs the embedded workers run at once (0: none, for a pure API node).
    pub workers: usize,
}

/// Chooses the TLS implementation of outgoing HTTPS (webhooks): rustls with the ring provider.
/// Idempotent; every process that makes an HTTP client calls it first.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl AppState {
    pub fn new(
        store: Store,
        blobs: mstation_store::media::blobs::BlobStore,
        secure_cookies: bool,
    ) -> State {
        Self::with_options(store, blobs, secure_cookies, false, Vec::new())
    }

    pub fn with_options(
        store: Store,
        blobs: mstation_store::media::blobs::BlobStore,
        secure_cookies: bool,
        allow_private_webhooks: bool,
        trusted_proxies: Vec<mstation_core::net::Cidr>,
    ) -> State {
        init_tls();
        let (events, _) = broadcast::channel(4096);
        let (sessions, _) = broadcast::channel(1024);
        Arc::new(AppState {
            store,
            blobs,
            events,
            sessions,
            broadcast_upto: std::sync::atomic::AtomicI64::new(-1),
            allow_private_webhooks,
            login_limiter: ratelimit::Limiter::new(10, Duration::from_secs(60)),
            metrics: metrics::Metrics::default(),
            secure_cookies,
            worker_id: format!(
                "serve-{}-{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            ),
            trusted_proxies,
            metrics_token: std::sync::OnceLock::new(),
            public_url: std::sync::OnceLock::new(),
            catalogue: Arc::new(
                mstation_store::market::search::Catalogue::new()
                    .expect("an empty index in memory opens"),
            ),
            catalogue_turn: tokio::sync::Mutex::new(()),
            catalogue_ready: tokio::sync::watch::Sender::new(false),
            talent: Arc::new(mstation_store::talent::index::TalentIndex::new(role_names())),
            talent_turn: tokio::sync::Mutex::new(()),
            talent_ready: tokio::sync::watch::Sender::new(false),
            talent_changed: tokio::sync::Notify::new(),
            model_dir: std::sync::OnceLock::new(),
        })
    }

    /// The sentence model of semantic search, if its folder is there. The first call loads
    /// it (blocking: call it off the async threads).
    pub fn sentence_model(&self) -> Option<Arc<mstation_embed::Embedder>> {
        SENTENCE_MODEL
            .get_or_init(|| {
                let dir = match self.model_dir.get() {
                    Some(d) => mstation_embed::locate(Some(d), d),
                    None => mstation_embed::locate(None, std::path::Path::new("")),
                }?;
                match mstation_embed::Embedder::load(&dir) {
                    Ok(m) => {
                        tracing::info!(model = %dir.display(), "the sentence model is loaded");
                        Some(Arc::new(m))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "semantic search is off: the sentence model did not load");
                        None
                    }
                }
            })
            .clone()
    }

    /// Brings the talent index's entries for `profiles` up to date with the database: what
    /// this process changed is found at once; a failure is logged, and the outbox brings the
    /// change round again.
    pub async fn index_profiles(&self, profiles: &[uuid::Uuid]) {
        if let Err(e) = self.try_index_profiles(profiles).await {
            tracing::warn!(error = %e, "the talent index missed a change it will hear of again");
        }
    }

    /// [`index_profiles`](Self::index_profiles), telling of a failed read.
    pub async fn try_index_profiles(&self, profiles: &[uuid::Uuid]) -> mstation_store::Result<()> {
        let _turn = self.talent_turn.lock().await;
        let put = self.store.platform().talent_index_entries(profiles).await?;
        let there: std::collections::HashSet<uuid::Uuid> = put.iter().map(|e| e.id).collect();
        let gone: Vec<uuid::Uuid> = profiles
            .iter()
            .filter(|id| !there.contains(id))
            .copied()
            .collect();
        let index = self.talent.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || index.apply(put, &gone)).await {
            tracing::error!(error = %e, "the talent index's change stopped");
        }
        self.talent_changed.notify_one();
        Ok(())
    }

    /// Brings the catalogue's entries for `listings` up to date with the database: what this
    /// process changed is found at once, before the outbox brings the change round. A change
    /// that has committed is not undone by a failure here: it is logged, and the outbox brings
    /// the change round again to the catalogue's keeper.
    pub async fn index_listings(&self, listings: &[uuid::Uuid]) {
        if let Err(e) = self.try_index_listings(listings).await {
            tracing::warn!(error = %e, "the catalogue missed a change it will hear of again");
        }
    }

    /// [`index_listings`](Self::index_listings), telling of a failed read.
    pub async fn try_index_listings(&self, listings: &[uuid::Uuid]) -> mstation_store::Result<()> {
        let _turn = self.catalogue_turn.lock().await;
        // What is no longer on sale is taken out; the rest is put in again.
        let put = self.store.platform().catalogue_entries(listings).await?;
        let on_sale: std::collections::HashSet<uuid::Uuid> = put.iter().map(|e| e.id).collect();
        let gone: Vec<uuid::Uuid> = listings
            .iter()
            .filter(|id| !on_sale.contains(id))
            .copied()
            .collect();
        let catalogue = self.catalogue.clone();
        let done = tokio::task::spawn_blocking(move || catalogue.apply(&put, &gone)).await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the catalogue could not take a change"),
            Err(e) => tracing::error!(error = %e, "the catalogue's change stopped"),
        }
        Ok(())
    }
}

/// The whole application: API, OpenAPI document, pages, health and metrics.
pub fn app(state: State) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            axum::routing::get({
                let doc = openapi.clone();
                move || async move { axum::Json((*doc).clone()) }
            }),
        )
        .merge(pages::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(error::bare_errors_as_problems))
        .layer(axum::middleware::from_fn(i18n::negotiate))
        // Each address's own limit (`body_limit`) is kept by `refuse_large_bodies`, declared or
        // chunked; this is the ceiling behind it.
        .layer(DefaultBodyLimit::max(MAX_INGEST_BODY))
        .layer(axum::middleware::from_fn(extract::refuse_large_bodies))
        // Pages of thousands of shots and large JSON lists travel gzipped to clients that ask;
        // the event stream and small answers are left alone (tower-http's default predicate).
        .layer(tower_http::compression::CompressionLayer::new())
        // One line per request at INFO: method, path, status, latency (MSTATION_LOG=warn silences
        // it).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .fallback(error::not_found)
        .with_state(state)
}

/// A path as it may appear in logs: the invitation token in `/invite/{token}` is a credential.
fn loggable_path(path: &str) -> String {
    if path.starts_with("/invite/") {
        return "/invite/…".into();
    }
    // A share link's secret is its address: the log keeps what follows it.
    if let Some(rest) = path.strip_prefix("/share/") {
        return match rest.split_once('/') {
            Some((_, tail)) => format!("/share/…/{}", tail.chars().take(100).collect::<String>()),
            None => "/share/…".into(),
        };
    }
    path.chars().take(200).collect()
}

/// Runs the server until Ctrl-C or SIGTERM; workers stop with it.
pub async fn serve(state: State, cfg: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?state.store.backend(), "M-Station is listening");
    // The address to open: on every interface, this machine's own is one of them.
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    println!("Open http://{host}:{}", addr.port());
    let shutdown = tokio_util_shutdown();
    let bg = workers::start(state.clone(), cfg.workers, shutdown.clone());
    axum::serve(
        listener,
        app(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        wait_for_signal().await;
    })
    .await?;
    shutdown.send_replace(true);
    for h in bg {
        let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
    }
    // Refreshes the planner's statistics on SQLite, then closes the pools.
    state.store.close().await;
    Ok(())
}

fn tokio_util_shutdown() -> tokio::sync::watch::Sender<bool> {
    tokio::sync::watch::channel(false).0
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Each crew role's names (English, Chinese), by which the talent index also finds it.
pub fn role_names() -> std::collections::HashMap<String, (String, String)> {
    mstation_core::talent::all_roles()
        .map(|r| {
            (
                r.to_string(),
                (
                    i18n::text_in(i18n::Lang::En, &format!("talent-role-{r}")),
                    i18n::text_in(i18n::Lang::ZhCn, &format!("talent-role-{r}")),
                ),
            )
        })
        .collect()
}

/// Whether `dir` holds the sentence model's files.
pub fn model_at(dir: &std::path::Path) -> bool {
    mstation_embed::locate(Some(dir), dir).is_some()
}

#[cfg(test)]
mod log_tests {
    #[test]
    fn secrets_in_addresses_stay_out_of_the_log() {
        use super::loggable_path as l;
        assert_eq!(l("/invite/msi_abc"), "/invite/…");
        assert_eq!(l("/share/msl_secret"), "/share/…");
        assert_eq!(l("/share/msl_secret/0190/media"), "/share/…/0190/media");
        assert_eq!(l("/app/projects"), "/app/projects");
    }
}
