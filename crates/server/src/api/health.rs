//! `/healthz` (the process answers), `/readyz` (and its database does) and `/metrics`
//! (Prometheus text). No authentication: load balancers and scrapers call them (`/metrics` can
//! be kept to a scraper's bearer token with `serve --metrics-token`).

use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::State;
use crate::error::{ApiError, Problem};

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
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus text format: requests and latency by route and status; SQLite commits and the writes they carried"),
              (status = 401, body = Problem, description = "The server was started with --metrics-token and the request did not carry it as a bearer token")))]
async fn metrics(AxState(state): AxState<State>, headers: HeaderMap) -> Response {
    // Kept to the operators when the server was given a metrics token.
    if let Some(want) = state.metrics_token.get() {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::auth::same_secret(sent.trim(), want) {
            return ApiError::unauthorized().into_response();
        }
    }
    let mut out = state.metrics.render();
    if let Some((commits, writes)) = state.store.write_batches() {
        out.push_str(&format!(
            "# HELP mstation_sqlite_commits_total Group-committed SQLite transactions.\n# TYPE mstation_sqlite_commits_total counter\nmstation_sqlite_commits_total {commits}\n\
             # HELP mstation_sqlite_writes_total Writes those commits carried.\n# TYPE mstation_sqlite_writes_total counter\nmstation_sqlite_writes_total {writes}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
