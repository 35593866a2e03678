//! Versions over HTTP: the next version of a task (numbered by the server), the versions of a
//! task, and one version.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::tracking::versions::Version;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::identity::ListParams;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, Q, idempotent, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_versions, create_version))
        .routes(routes!(get_version))
}

#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/versions", tag = "tracking", params(("task_id" = Uuid, Path), ListParams),
    responses((status = 200, body = Page<Version>, description = "Oldest first"), (status = 404, body = Problem)))]
async fn list_versions(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Version>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .versions(m.may(Permission::ReadOrg)?, task_id, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    /// What changed in this version.
    #[serde(default)]
    pub comment: String,
}

/// Adds the task's next version; the server gives it the next number (1, 2, 3 …).
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/versions", tag = "tracking", request_body = VersionInput,
    params(("task_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Version), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_version(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<VersionInput>,
) -> Response {
    let scope = match m.may(Permission::WriteProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let v = st
            .store
            .create_version(&scope, task_id, &input.comment)
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(v).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/versions/{version_id}", tag = "tracking", params(("version_id" = Uuid, Path)),
    responses((status = 200, body = Version), (status = 404, body = Problem)))]
async fn get_version(
    AxState(state): AxState<State>,
    m: Member,
    Path(version_id): Path<Uuid>,
) -> ApiResult<Json<Version>> {
    Ok(Json(
        state
            .store
            .version(m.may(Permission::ReadOrg)?, version_id)
            .await?,
    ))
}
