//! Review sessions over HTTP: a playlist played together. The presenter sets the playhead
//! (`PUT …/playhead`); every participant follows it through the session's stream, which sends
//! the playhead as it stands on connecting (a late joiner or a reload is where the presenter is
//! at once) and each change after, from this process at once and from other processes within
//! a second. The log (who joined, what was played, each note with its frame) exports as JSON
//! or CSV.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::tracking::session::{self, LogLine, Playhead};
use mstation_store::tracking::sessions::{ReviewSession, SessionLog};
use mstation_store::{Millis, now_ms};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::{Member, Signed};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Q};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, start_session))
        .routes(routes!(get_session))
        .routes(routes!(move_playhead))
        .routes(routes!(take_over))
        .routes(routes!(end_session))
        .routes(routes!(stream))
        .routes(routes!(session_log))
}

/// A session as its followers get it, with the server's clock to count a playing playhead on
/// from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionNow {
    #[serde(flatten)]
    pub session: ReviewSession,
    /// The server's clock when this was sent (a follower of a playing session counts on from
    /// `moved_at` by the difference).
    pub now: Millis,
}

pub(crate) fn now_of(session: ReviewSession) -> SessionNow {
    SessionNow {
        session,
        now: Millis(now_ms()),
    }
}

/// Tells this process's followers of a session where it is now.
pub(crate) fn announce(state: &State, s: &ReviewSession) {
    let _ = state.sessions.send(std::sync::Arc::new(s.clone()));
}

#[utoipa::path(get, path = "/api/v1/playlists/{playlist_id}/sessions", tag = "tracking", params(("playlist_id" = Uuid, Path)),
    responses((status = 200, body = Vec<ReviewSession>, description = "The playlist's sessions, newest first (at most 20)"), (status = 404, body = Problem)))]
async fn list_sessions(
    AxState(state): AxState<State>,
    m: Member,
    Path(playlist_id): Path<Uuid>,
) -> ApiResult<Json<Vec<ReviewSession>>> {
    let store = state.store.tenant(m.may(Permission::ReadOrg)?);
    store.playlist(playlist_id).await?;
    Ok(Json(store.review_sessions(playlist_id).await?))
}

/// Starts a review session of the playlist, on its first version's first frame, the caller
/// presenting.
#[utoipa::path(post, path = "/api/v1/playlists/{playlist_id}/sessions", tag = "tracking", params(("playlist_id" = Uuid, Path)),
    responses((status = 201, body = SessionNow), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem, description = "The playlist has no versions")))]
async fn start_session(
    AxState(state): AxState<State>,
    m: Member,
    Path(playlist_id): Path<Uuid>,
) -> ApiResult<Response> {
    let store = state.store.tenant(m.may(Permission::WriteProduction)?);
    let list = store.playlist(playlist_id).await?;
    let first = match list.items.first() {
        Some(i) => crate::pages::tracking::player::first_frame_of(&store, i.version_id).await?,
        None => 0,
    };
    let s = store.start_review_session(playlist_id, first).await?;
    announce(&state, &s);
    Ok((StatusCode::CREATED, Json(now_of(s))).into_response())
}

#[utoipa::path(get, path = "/api/v1/review-sessions/{session_id}", tag = "tracking", params(("session_id" = Uuid, Path)),
    responses((status = 200, body = SessionNow), (status = 404, body = Problem)))]
async fn get_session(
    AxState(state): AxState<State>,
    m: Member,
    Path(session_id): Path<Uuid>,
) -> ApiResult<Json<SessionNow>> {
    let s = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .review_session(session_id)
        .await?;
    Ok(Json(now_of(s)))
}

/// The presenter moves the playhead: the whole playhead, as it is now. While playing, `frame`
/// is the frame on screen as it is sent.
#[utoipa::path(put, path = "/api/v1/review-sessions/{session_id}/playhead", tag = "tracking", request_body = Playhead,
    params(("session_id" = Uuid, Path)),
    responses((status = 200, body = SessionNow), (status = 403, body = Problem, description = "Not the presenter"),
              (status = 404, body = Problem), (status = 409, body = Problem, description = "The session has ended"),
              (status = 422, body = Problem)))]
async fn move_playhead(
    AxState(state): AxState<State>,
    m: Member,
    Path(session_id): Path<Uuid>,
    Body(to): Body<Playhead>,
) -> ApiResult<Json<SessionNow>> {
    let s = state
        .store
        .tenant(m.may(Permission::Review)?)
        .move_review_session(session_id, to)
        .await?;
    announce(&state, &s);
    Ok(Json(now_of(s)))
}

/// The caller presents from now on.
#[utoipa::path(post, path = "/api/v1/review-sessions/{session_id}/presenter", tag = "tracking", params(("session_id" = Uuid, Path)),
    responses((status = 200, body = SessionNow), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "The session has ended")))]
async fn take_over(
    AxState(state): AxState<State>,
    m: Member,
    Path(session_id): Path<Uuid>,
) -> ApiResult<Json<SessionNow>> {
    let s = state
        .store
        .tenant(m.may(Permission::WriteProduction)?)
        .present_review_session(session_id)
        .await?;
    announce(&state, &s);
    Ok(Json(now_of(s)))
}

/// Ends the session (its presenter, whoever started it, or a producer or coordinator); ending
/// it again changes nothing.
#[utoipa::path(post, path = "/api/v1/review-sessions/{session_id}/end", tag = "tracking", params(("session_id" = Uuid, Path)),
    responses((status = 200, body = SessionNow), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn end_session(
    AxState(state): AxState<State>,
    m: Member,
    Path(session_id): Path<Uuid>,
) -> ApiResult<Json<SessionNow>> {
    let s = state
        .store
        .tenant(m.may(Permission::Review)?)
        .end_review_session(session_id)
        .await?;
    announce(&state, &s);
    Ok(Json(now_of(s)))
}

/// Follows a session: an SSE `state` message (a `SessionNow`) at once and on every change; the
/// stream ends after the session does. Connecting logs the caller as joined, leaving as left.
#[utoipa::path(get, path = "/api/v1/review-sessions/{session_id}/stream", tag = "tracking", params(("session_id" = Uuid, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "One `state` message (id = the playhead's seq, data = a SessionNow) now and on every change"),
              (status = 404, body = Problem)))]
async fn stream(
    AxState(state): AxState<State>,
    m: Member,
    Signed(caller): Signed,
    Path(session_id): Path<Uuid>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>> {
    let mut scope = m.may(Permission::ReadOrg)?.clone();
    let signed_in = caller.session.map(|s| s.secret);
    // Subscribed before reading the row: a change committed after the read comes live.
    let mut live = state.sessions.subscribe();
    let first = state
        .store
        .tenant(&scope)
        .review_session(session_id)
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<SseEvent, Infallible>>(64);
    let st = state.clone();
    tokio::spawn(async move {
        let send = |s: &ReviewSession| {
            let data = serde_json::to_string(&now_of(s.clone())).unwrap_or_default();
            Ok(SseEvent::default()
                .id(s.seq.to_string())
                .event("state")
                .data(data))
        };
        // Where the session is, first; then the caller is logged as joined.
        let running = first.ended_at.is_none();
        let mut seen = first.seq;
        let mut ended = first.ended_at.is_some();
        if tx.send(send(&first)).await.is_err() {
            ended = true;
        }
        if running {
            let _ = st
                .store
                .tenant(&scope)
                .review_session_presence(session_id, true)
                .await;
        }
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        every_second.tick().await;
        let mut checks = 0u32;
        while !ended {
            let newer = tokio::select! {
                _ = tx.closed() => break,
                got = live.recv() => match got {
                    Ok(s) if s.id == session_id && s.seq > seen => Some((*s).clone()),
                    Ok(_) => None,
                    Err(RecvError::Lagged(_)) => st.store.tenant(&scope).review_session(session_id).await.ok(),
                    Err(RecvError::Closed) => break,
                },
                // Moves made through another process, and a caller whose access ended.
                _ = every_second.tick() => {
                    checks += 1;
                    if checks.is_multiple_of(5)
                        && !crate::api::events::recheck(&st, &mut scope, signed_in.as_deref()).await
                    {
                        break;
                    }
                    st.store.tenant(&scope).review_session(session_id).await.ok()
                }
            };
            if let Some(s) = newer.filter(|s| s.seq > seen) {
                seen = s.seq;
                ended = s.ended_at.is_some();
                if tx.send(send(&s)).await.is_err() {
                    break;
                }
            }
        }
        if running {
            let _ = st
                .store
                .tenant(&scope)
                .review_session_presence(session_id, false)
                .await;
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// `json` (the default: the log, and the notes with their drawings) or `csv` (one line per
    /// event, named and timed).
    pub format: Option<String>,
}

/// The session's log: who joined and left, each item played, each play, pause, seek, change of
/// speed or loop and drawing shown, and each note written on its versions while it ran, with
/// its frame.
#[utoipa::path(get, path = "/api/v1/review-sessions/{session_id}/log", tag = "tracking", params(("session_id" = Uuid, Path), LogParams),
    responses((status = 200, body = SessionLog, description = "JSON, or with `format=csv` a CSV download"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn session_log(
    AxState(state): AxState<State>,
    m: Member,
    Path(session_id): Path<Uuid>,
    Q(p): Q<LogParams>,
) -> ApiResult<Response> {
    let scope = m.may(Permission::ReadOrg)?;
    let format = p.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::invalid("format", "unsupported_format"));
    }
    let log = state
        .store
        .tenant(scope)
        .review_session_log(session_id)
        .await?;
    if format == "json" {
        return Ok(Json(log).into_response());
    }
    let lines = log_lines(&state, scope, &log).await?;
    let name = format!("review-session-{}.csv", log.session.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        session::log_csv(&lines),
    )
        .into_response())
}

/// A session's log named for people: who by name, each version as "SQ010_0010 · Comp v003".
pub(crate) async fn log_lines(
    state: &State,
    scope: &mstation_core::TenantScope,
    log: &SessionLog,
) -> ApiResult<Vec<LogLine>> {
    let store = state.store.tenant(scope);
    let names: std::collections::HashMap<Uuid, String> =
        crate::pages::tracking::members_named(state, scope)
            .await?
            .into_iter()
            .collect();
    let mut versions: std::collections::HashMap<Uuid, String> = Default::default();
    for v in log.events.iter().filter_map(|e| e.version_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = versions.entry(v) {
            e.insert(crate::pages::tracking::player::version_label(&store, v).await?);
        }
    }
    Ok(log
        .events
        .iter()
        .map(|e| LogLine {
            at: e.at.rfc3339(),
            who: names.get(&e.actor_id).cloned().unwrap_or_default(),
            what: e.kind.clone(),
            item: e.item.map(|i| i + 1),
            version: e
                .version_id
                .and_then(|v| versions.get(&v).cloned())
                .unwrap_or_default(),
            frame: e.frame,
            frame_out: e.frame_out,
            detail: e.detail.clone().unwrap_or_default(),
        })
        .collect())
}
