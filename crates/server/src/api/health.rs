//! `/healthz` (the process answers), `/readyz` (and its database does) and `/metrics`
//! (Prometheus text). No authentication: load balancers and scrapers call them.

use axum::extract::State as AxState;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::State;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, body = String, description = "The process is up")))]
async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, body = String, description = "Ready: the database answers"), (status = 503, body = String, description = "The database does not answer")))]
async fn readyz(AxState(state): AxState<State>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus text format: requests and latency by route and status; SQLite commits and the writes they carried")))]
async fn metrics(AxState(state): AxState<State>) -> impl IntoResponse {
    let mut out = state.metrics.render();
    if let Some((commits, writes)) = state.store.write_batches() {
        out.push_str(&format!(
            "# HELP mstation_sqlite_commits_total Group-committed SQLite transactions.\n# TYPE mstation_sqlite_commits_total counter\nmstation_sqlite_commits_total {commits}\n\
             # HELP mstation_sqlite_writes_total Writes those commits carried.\n# TYPE mstation_sqlite_writes_total counter\nmstation_sqlite_writes_total {writes}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
