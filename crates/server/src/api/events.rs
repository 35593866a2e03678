//! The live event stream (Server-Sent Events): every committed change of the caller's
//! organisation, in order. Reconnect with `Last-Event-ID` to get what was missed.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State as AxState;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use mstation_core::{Permission, TenantScope};
use mstation_store::outbox::Event;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, Problem};
use crate::extract::Q;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new().routes(routes!(stream))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Resume after this event `seq` (the same as the `Last-Event-ID` header).
    pub after: Option<i64>,
}

/// Whether a member may see an event: secrets never travel, and the administrative kinds go only
/// to those who may read the audit log.
fn visible(scope: &TenantScope, e: &Event) -> bool {
    e.org_id == Some(scope.org_id)
        && (scope.can(Permission::ReadAudit)
            || !matches!(
                e.entity_type.as_str(),
                "token" | "webhook" | "invitation" | "grant" | "session"
            ))
}

fn to_sse(e: &Event) -> SseEvent {
    SseEvent::default()
        .id(e.seq.to_string())
        .event(e.kind.clone())
        .data(serde_json::to_string(e).unwrap_or_default())
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(StreamParams, ("Last-Event-ID" = Option<String>, Header)),
    responses((status = 200, content_type = "text/event-stream", description = "One SSE message per change: id = seq, event = kind, data = the event as JSON"),
              (status = 401, body = Problem)))]
async fn stream(
    AxState(state): AxState<State>,
    m: Member,
    headers: HeaderMap,
    Q(p): Q<StreamParams>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let scope = m.may(Permission::ReadOrg)?.clone();
    let last_id = match headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("").trim().parse::<i64>())
    {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return Err(ApiError::bad_request(
                "request.invalid_last_event_id",
                "Last-Event-ID must be an event seq.",
            ));
        }
        None => p.after,
    };
    // Subscribe before replaying, so nothing falls between the replay and the live feed.
    let mut live = state.events.subscribe();
    let mut sent = match last_id {
        Some(n) => n,
        None => state.store.last_event_seq().await?,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<SseEvent, Infallible>>(256);
    let st = state.clone();
    tokio::spawn(async move {
        loop {
            let batch = match st.store.org_events_after(scope.org_id, sent, 500).await {
                Ok(b) => b,
                Err(_) => return,
            };
            let n = batch.len();
            for e in batch {
                sent = e.seq;
                if visible(&scope, &e) && tx.send(Ok(to_sse(&e))).await.is_err() {
                    return;
                }
            }
            if n < 500 {
                break;
            }
        }
        loop {
            match live.recv().await {
                Ok(e) => {
                    if e.seq <= sent || e.org_id != Some(scope.org_id) {
                        continue;
                    }
                    sent = e.seq;
                    if visible(&scope, &e) && tx.send(Ok(to_sse(&e))).await.is_err() {
                        return;
                    }
                }
                // Fell behind the live feed: catch up from the outbox, which keeps everything.
                Err(RecvError::Lagged(_)) => {
                    let Ok(batch) = st.store.org_events_after(scope.org_id, sent, 1000).await
                    else {
                        return;
                    };
                    for e in batch {
                        sent = e.seq;
                        if visible(&scope, &e) && tx.send(Ok(to_sse(&e))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
