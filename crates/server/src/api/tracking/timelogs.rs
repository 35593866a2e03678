//! Time logs over HTTP: log minutes on a task for a day, list them by task or by person over a
//! range of days, and correct or remove your own.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::tracking::timelogs::{TimeLog, TimeLogChanges, TimeLogFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, bad_person, etag, idempotent, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(task_time_logs, log_time))
        .routes(routes!(list_time_logs))
        .routes(routes!(get_time_log, update_time_log, delete_time_log))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskTimeParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    /// First day, `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// Last day, inclusive.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/time-logs", tag = "tracking", params(("task_id" = Uuid, Path), TaskTimeParams),
    responses((status = 200, body = Page<TimeLog>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn task_time_logs(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    Q(p): Q<TaskTimeParams>,
) -> ApiResult<Json<Page<TimeLog>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    let f = TimeLogFilter {
        task_id: Some(task_id),
        user_id: None,
        from: p.from,
        to: p.to,
    };
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .time_logs(&f, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeLogInput {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// 1 to 1440.
    pub minutes: i64,
    #[serde(default)]
    pub comment: String,
}

/// Logs the caller's time on the task.
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/time-logs", tag = "tracking", request_body = TimeLogInput,
    params(("task_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TimeLog), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn log_time(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<TimeLogInput>,
) -> Response {
    let scope = match m.may(Permission::WriteProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let t = st
            .store
            .tenant(&scope)
            .log_time(task_id, &input.date, input.minutes, &input.comment)
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(t).unwrap_or_default(),
        ))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TimeLogParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    /// A user id, or `me` (the default).
    pub person: Option<String>,
    pub task_id: Option<Uuid>,
    /// First day, `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// Last day, inclusive.
    pub to: Option<String>,
}

/// A person's time logs (yours by default), for a time sheet.
#[utoipa::path(get, path = "/api/v1/time-logs", tag = "tracking", params(TimeLogParams),
    responses((status = 200, body = Page<TimeLog>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_time_logs(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<TimeLogParams>,
) -> ApiResult<Json<Page<TimeLog>>> {
    let scope = m.may(Permission::ReadOrg)?;
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    let user_id = match p.person.as_deref() {
        None | Some("me") => scope.user_id,
        Some(s) => Uuid::parse_str(s).map_err(|_| bad_person("person"))?,
    };
    let f = TimeLogFilter {
        task_id: p.task_id,
        user_id: Some(user_id),
        from: p.from,
        to: p.to,
    };
    Ok(Json(state.store.tenant(scope).time_logs(&f, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/time-logs/{time_log_id}", tag = "tracking", params(("time_log_id" = Uuid, Path)),
    responses((status = 200, body = TimeLog), (status = 404, body = Problem)))]
async fn get_time_log(
    AxState(state): AxState<State>,
    m: Member,
    Path(time_log_id): Path<Uuid>,
) -> ApiResult<Response> {
    let t = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .time_log(time_log_id)
        .await?;
    Ok((etag(t.version), Json(t)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeLogPatch {
    pub date: Option<String>,
    pub minutes: Option<i64>,
    pub comment: Option<String>,
}

/// Corrects one of your own time logs.
#[utoipa::path(patch, path = "/api/v1/time-logs/{time_log_id}", tag = "tracking", request_body = TimeLogPatch,
    params(("time_log_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = TimeLog), (status = 403, body = Problem, description = "Not your time log"), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_time_log(
    AxState(state): AxState<State>,
    m: Member,
    Path(time_log_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<TimeLogPatch>,
) -> ApiResult<Response> {
    let changes = TimeLogChanges {
        date: p.date,
        minutes: p.minutes,
        comment: p.comment,
    };
    let t = state
        .store
        .tenant(m.may(Permission::WriteProduction)?)
        .update_time_log(time_log_id, v, changes)
        .await?;
    Ok((etag(t.version), Json(t)).into_response())
}

/// Removes one of your own time logs.
#[utoipa::path(delete, path = "/api/v1/time-logs/{time_log_id}", tag = "tracking",
    params(("time_log_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_time_log(
    AxState(state): AxState<State>,
    m: Member,
    Path(time_log_id): Path<Uuid>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::WriteProduction)?)
        .delete_time_log(time_log_id, v)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
