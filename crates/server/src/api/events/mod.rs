//! The live event stream (Server-Sent Events): every committed change of the caller's
//! organisation, in order. Reconnect with `Last-Event-ID` to get what was missed.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State as AxState;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use mstation_core::{Permission, TenantScope};
use mstation_store::events::Event;
use mstation_store::identity::audit::PRODUCTION_ONLY;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::State;
use crate::auth::{Member, Signed};
use crate::error::{ApiError, Code, Problem};
use crate::extract::Q;

pub mod webhooks;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(stream))
        .merge(webhooks::router())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Resume after this event `seq` (the same as the `Last-Event-ID` header).
    pub after: Option<i64>,
}

/// Whether a member may see an event: secrets never travel, the administrative and personal
/// kinds (tokens, saved views) go only to those who may read the audit log, the job queue's
/// to those who may read the queue, share links (who they are for) and notes held with
/// production to those who plan it, accounts and transfers to those who read the ledger, the
/// market's listings, offers and sales to those who sell there, licences to those who use
/// them, and talent profiles and their credits to those who keep them (a project's credits to
/// its crew and a school's training records are production's, `PRODUCTION_ONLY`), and work
/// orders, bids and milestones to those who read work orders.
fn visible(scope: &TenantScope, e: &Event) -> bool {
    e.org_id == Some(scope.org_id)
        && (e.entity_type != "job" || scope.can(Permission::ReadJobs))
        && (!PRODUCTION_ONLY.contains(&e.entity_type.as_str())
            || scope.can(Permission::PlanProduction))
        && (!matches!(e.entity_type.as_str(), "account" | "transfer")
            || scope.can(Permission::ReadLedger))
        && (!matches!(e.entity_type.as_str(), "listing" | "offer" | "sale")
            || scope.can(Permission::SellListings))
        && (e.entity_type != "licence" || scope.can(Permission::UseLicences))
        && (!matches!(
            e.entity_type.as_str(),
            "profile" | "credit" | "calendar_entry"
        ) || scope.can(Permission::ManageTalent))
        && (!matches!(e.entity_type.as_str(), "work_order" | "bid" | "milestone")
            || scope.can(Permission::ReadWorkOrders))
        && (scope.can(Permission::ReadAudit)
            || !matches!(
                e.entity_type.as_str(),
                "token" | "webhook" | "invitation" | "grant" | "session" | "view"
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
    Signed(caller): Signed,
    headers: HeaderMap,
    Q(p): Q<StreamParams>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let mut scope = m.may(Permission::ReadOrg)?.clone();
    let session = caller.session.map(|s| s.secret);
    let last_id = match headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("").trim().parse::<i64>())
    {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return Err(ApiError::new(Code::RequestInvalidLastEventId));
        }
        None => p.after,
    };
    // Subscribe before reading the tailer's position: whatever it broadcasts from now on comes
    // through `live`; everything up to `upto` is committed and in order in the outbox.
    let mut live = state.events.subscribe();
    let upto = state.broadcast_upto.load(Ordering::Acquire);
    if upto < 0 {
        return Err(
            ApiError::new(Code::StoreUnavailable).message("problem-store_unavailable-starting")
        );
    }
    // A stream without Last-Event-ID starts "now": events committed before this process
    // started are not news to it.
    let from_now = last_id.is_none();
    let mut sent = last_id.unwrap_or(upto);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<SseEvent, Infallible>>(256);
    let st = state.clone();
    tokio::spawn(async move {
        if !catch_up(&st, &mut scope, session.as_deref(), &mut sent, upto, &tx).await {
            return;
        }
        let mut every_5s = tokio::time::interval(Duration::from_secs(5));
        every_5s.tick().await;
        loop {
            tokio::select! {
                got = live.recv() => match got {
                    Ok(item) => {
                        let e = &item.event;
                        if e.seq <= sent
                            || e.org_id != Some(scope.org_id)
                            || (item.replayed && from_now)
                        {
                            continue;
                        }
                        // A change to this member (a new role, a removal) or the end of a
                        // session of theirs applies before the next event is sent.
                        if about_caller(&scope, e)
                            && !recheck(&st, &mut scope, session.as_deref()).await
                        {
                            return;
                        }
                        sent = e.seq;
                        if visible(&scope, e) && tx.send(Ok(to_sse(e))).await.is_err() {
                            return;
                        }
                    }
                    // Fell behind the live feed: catch up from the outbox, which keeps everything.
                    Err(RecvError::Lagged(_)) => {
                        let upto = st.broadcast_upto.load(Ordering::Acquire);
                        if !catch_up(&st, &mut scope, session.as_deref(), &mut sent, upto, &tx).await {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = every_5s.tick() => {
                    // A token revoked or a session expired stops receiving within seconds, not
                    // at reconnect.
                    if !recheck(&st, &mut scope, session.as_deref()).await {
                        return;
                    }
                }
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Sends the organisation's events in (`sent`, `upto`] from the outbox; false when the client left.
async fn catch_up(
    st: &State,
    scope: &mut TenantScope,
    session: Option<&str>,
    sent: &mut i64,
    upto: i64,
    tx: &tokio::sync::mpsc::Sender<Result<SseEvent, Infallible>>,
) -> bool {
    while *sent < upto {
        let Ok(batch) = st.store.tenant(scope).org_events_after(*sent, 500).await else {
            return false;
        };
        let done = batch.len() < 500 || batch.last().is_some_and(|e| e.seq >= upto);
        for e in batch.into_iter().filter(|e| e.seq <= upto) {
            *sent = e.seq;
            if about_caller(scope, &e) && !recheck(st, scope, session).await {
                return false;
            }
            if visible(scope, &e) && tx.send(Ok(to_sse(&e))).await.is_err() {
                return false;
            }
        }
        if done {
            *sent = (*sent).max(upto);
        }
    }
    true
}

/// Whether `e` changes what the caller may see: their membership, or a session of theirs ended.
fn about_caller(scope: &TenantScope, e: &Event) -> bool {
    e.entity_id == Some(scope.user_id) && matches!(e.entity_type.as_str(), "member" | "session")
}

/// Reads the caller's standing again: false when they are no longer a member, their token was
/// revoked or their session ended; their current role otherwise, into `scope`.
pub(crate) async fn recheck(st: &State, scope: &mut TenantScope, session: Option<&str>) -> bool {
    match st
        .store
        .platform()
        .role_in(scope.user_id, scope.org_id)
        .await
    {
        Ok(Some(role)) => scope.role = role,
        _ => return false,
    }
    let token = match scope.token_id {
        Some(t) => matches!(st.store.platform().token_live(t).await, Ok(true)),
        None => true,
    };
    let session = match session {
        Some(s) => matches!(st.store.platform().session(s).await, Ok(Some(_))),
        None => true,
    };
    token && session && scope.can(Permission::ReadOrg)
}
