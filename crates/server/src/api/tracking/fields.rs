//! Custom fields over HTTP: the fields a project defines for its shots, assets and tasks, and
//! the values of one entity, read and changed as one JSON object keyed by field key.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::tracking::fields::{FieldEntity, FieldKind};
use mstation_store::tracking::fields::{CustomField, CustomFieldChanges, NewCustomField};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, etag, idempotent};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_fields, create_field))
        .routes(routes!(get_field, update_field, delete_field))
        .routes(routes!(task_values, set_task_values))
        .routes(routes!(shot_values, set_shot_values))
        .routes(routes!(asset_values, set_asset_values))
}

/// Custom values by field key. Reading gives every field of the entity's project and kind
/// (null when unset); writing changes only the keys given, and null clears one.
type Values = BTreeMap<String, serde_json::Value>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FieldParams {
    /// Only the fields of `shot`, `asset` or `task`.
    pub entity: Option<FieldEntity>,
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/fields", tag = "tracking", params(("project_id" = Uuid, Path), FieldParams),
    responses((status = 200, body = Items<CustomField>, description = "By entity, then display order"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn list_fields(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<FieldParams>,
) -> ApiResult<Json<Items<CustomField>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .custom_fields(project_id, p.entity)
            .await?,
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    pub entity: FieldEntity,
    /// A lower-case letter, then letters, digits or `_` (at most 40); unique per project and
    /// entity. It names the field in values and in `field.<key>` filters, and never changes.
    pub key: String,
    pub name: String,
    pub kind: FieldKind,
    /// For a choice field: 1 to 100 distinct choices, in display order.
    #[serde(default)]
    pub choices: Vec<String>,
    /// Position among the entity's fields (0 to 1,000,000; default 0).
    pub sort_order: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/projects/{project_id}/fields", tag = "tracking", request_body = FieldInput,
    params(("project_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CustomField), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_field(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<FieldInput>,
) -> Response {
    let scope = match m.may(Permission::ManageProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let f = st
            .store
            .tenant(&scope)
            .create_custom_field(
                project_id,
                NewCustomField {
                    entity: input.entity,
                    key: input.key,
                    name: input.name,
                    kind: input.kind,
                    choices: input.choices,
                    sort_order: input.sort_order,
                },
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(f).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/fields/{field_id}", tag = "tracking", params(("field_id" = Uuid, Path)),
    responses((status = 200, body = CustomField), (status = 404, body = Problem)))]
async fn get_field(
    AxState(state): AxState<State>,
    m: Member,
    Path(field_id): Path<Uuid>,
) -> ApiResult<Response> {
    let f = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .custom_field(field_id)
        .await?;
    Ok((etag(f.version), Json(f)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldPatch {
    pub name: Option<String>,
    /// The whole list; a choice that some value still holds cannot be taken away (409).
    pub choices: Option<Vec<String>>,
    pub sort_order: Option<i64>,
}

#[utoipa::path(patch, path = "/api/v1/fields/{field_id}", tag = "tracking", request_body = FieldPatch,
    params(("field_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = CustomField), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_field(
    AxState(state): AxState<State>,
    m: Member,
    Path(field_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<FieldPatch>,
) -> ApiResult<Response> {
    let changes = CustomFieldChanges {
        name: p.name,
        choices: p.choices,
        sort_order: p.sort_order,
    };
    let f = state
        .store
        .tenant(m.may(Permission::ManageProduction)?)
        .update_custom_field(field_id, v, changes)
        .await?;
    Ok((etag(f.version), Json(f)).into_response())
}

/// Deletes the field and every value it held.
#[utoipa::path(delete, path = "/api/v1/fields/{field_id}", tag = "tracking",
    params(("field_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_field(
    AxState(state): AxState<State>,
    m: Member,
    Path(field_id): Path<Uuid>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageProduction)?)
        .delete_custom_field(field_id, v)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read(state: &State, m: &Member, entity: FieldEntity, id: Uuid) -> ApiResult<Json<Values>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .field_values(entity, id)
            .await?,
    ))
}

async fn write(
    state: &State,
    m: &Member,
    entity: FieldEntity,
    id: Uuid,
    values: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<Json<Values>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .set_field_values(entity, id, &values)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/fields", tag = "tracking", params(("task_id" = Uuid, Path)),
    responses((status = 200, body = BTreeMap<String, serde_json::Value>, description = "The task's custom values by key, null when unset"), (status = 404, body = Problem)))]
async fn task_values(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
) -> ApiResult<Json<Values>> {
    read(&state, &m, FieldEntity::Task, task_id).await
}

/// Sets custom values of the task: `{"bid_days": 2.5, "client_ref": null}`. Each key is a task
/// field of the project; a number field takes a number, a date field `YYYY-MM-DD`, a choice
/// field one of its choices, a text field up to 2,000 characters; null clears.
#[utoipa::path(patch, path = "/api/v1/tasks/{task_id}/fields", tag = "tracking", request_body = BTreeMap<String, serde_json::Value>,
    params(("task_id" = Uuid, Path)),
    responses((status = 200, body = BTreeMap<String, serde_json::Value>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_task_values(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    Body(values): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Values>> {
    write(&state, &m, FieldEntity::Task, task_id, values).await
}

#[utoipa::path(get, path = "/api/v1/shots/{shot_id}/fields", tag = "tracking", params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = BTreeMap<String, serde_json::Value>, description = "The shot's custom values by key, null when unset"), (status = 404, body = Problem)))]
async fn shot_values(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
) -> ApiResult<Json<Values>> {
    read(&state, &m, FieldEntity::Shot, shot_id).await
}

/// Sets custom values of the shot; see the task's.
#[utoipa::path(patch, path = "/api/v1/shots/{shot_id}/fields", tag = "tracking", request_body = BTreeMap<String, serde_json::Value>,
    params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = BTreeMap<String, serde_json::Value>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_shot_values(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
    Body(values): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Values>> {
    write(&state, &m, FieldEntity::Shot, shot_id, values).await
}

#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/fields", tag = "tracking", params(("asset_id" = Uuid, Path)),
    responses((status = 200, body = BTreeMap<String, serde_json::Value>, description = "The asset's custom values by key, null when unset"), (status = 404, body = Problem)))]
async fn asset_values(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
) -> ApiResult<Json<Values>> {
    read(&state, &m, FieldEntity::Asset, asset_id).await
}

/// Sets custom values of the asset; see the task's.
#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}/fields", tag = "tracking", request_body = BTreeMap<String, serde_json::Value>,
    params(("asset_id" = Uuid, Path)),
    responses((status = 200, body = BTreeMap<String, serde_json::Value>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_asset_values(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
    Body(values): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Values>> {
    write(&state, &m, FieldEntity::Asset, asset_id, values).await
}
