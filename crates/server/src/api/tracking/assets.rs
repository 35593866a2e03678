//! Assets over HTTP: the assets of a project, filtered by kind, and their casting into shots
//! (the breakdown), read from either side.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::tracking::assets::{
    Asset, AssetChanges, AssetKind, CastAsset, CastShot, Casting,
};
use mstation_store::tracking::tasks::Task;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::api::tracking::tasks::TaskItems;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, etag, idempotent, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_assets, create_asset))
        .routes(routes!(get_asset, update_asset, delete_asset))
        .routes(routes!(asset_shots))
        .routes(routes!(asset_tasks))
        .routes(routes!(shot_assets))
        .routes(routes!(cast, uncast))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssetParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    pub kind: Option<AssetKind>,
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/assets", tag = "tracking", params(("project_id" = Uuid, Path), AssetParams),
    responses((status = 200, body = Page<Asset>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_assets(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<AssetParams>,
) -> ApiResult<Json<Page<Asset>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .assets(project_id, p.kind, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    pub kind: AssetKind,
    /// Unique in the project.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The episode the asset is made for, in a series.
    pub episode_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/projects/{project_id}/assets", tag = "tracking", request_body = AssetInput,
    params(("project_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Asset), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_asset(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<AssetInput>,
) -> Response {
    let scope = match m.may(Permission::PlanProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let a = st
            .store
            .tenant(&scope)
            .create_asset(
                project_id,
                input.episode_id,
                input.kind,
                &input.name,
                &input.description,
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(a).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/assets/{asset_id}", tag = "tracking", params(("asset_id" = Uuid, Path)),
    responses((status = 200, body = Asset), (status = 404, body = Problem)))]
async fn get_asset(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
) -> ApiResult<Response> {
    let a = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .asset(asset_id)
        .await?;
    Ok((etag(a.version), Json(a)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub kind: Option<AssetKind>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// An episode of the project, or null to take the asset out of its episode.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<Uuid>)]
    pub episode_id: Option<Option<Uuid>>,
}

#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}", tag = "tracking", request_body = AssetPatch,
    params(("asset_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Asset), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_asset(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<AssetPatch>,
) -> ApiResult<Response> {
    let changes = AssetChanges {
        kind: p.kind,
        episode_id: p.episode_id,
        name: p.name,
        description: p.description,
    };
    let a = state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .update_asset(asset_id, v, changes)
        .await?;
    Ok((etag(a.version), Json(a)).into_response())
}

/// Deletes an asset and its casting; an asset that has tasks is kept (409).
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}", tag = "tracking",
    params(("asset_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_asset(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .delete_asset(asset_id, v)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/shots", tag = "tracking", params(("asset_id" = Uuid, Path)),
    responses((status = 200, body = Items<CastShot>, description = "The shots the asset is cast in"), (status = 404, body = Problem)))]
async fn asset_shots(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
) -> ApiResult<Json<Items<CastShot>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .asset_shots(asset_id)
            .await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/tasks", tag = "tracking", params(("asset_id" = Uuid, Path)),
    responses((status = 200, body = Items<Task>, description = "In pipeline order"), (status = 404, body = Problem)))]
async fn asset_tasks(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
) -> ApiResult<TaskItems> {
    Ok(TaskItems(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .asset_tasks(asset_id)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/shots/{shot_id}/assets", tag = "tracking", params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = Items<CastAsset>, description = "The assets cast in the shot"), (status = 404, body = Problem)))]
async fn shot_assets(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
) -> ApiResult<Json<Items<CastAsset>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .shot_assets(shot_id)
            .await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastingInput {
    /// How many appear in the shot (1 to 100,000), when known.
    pub count: Option<i64>,
}

/// Casts an asset of the same project in the shot; casting it again sets the count.
#[utoipa::path(put, path = "/api/v1/shots/{shot_id}/assets/{asset_id}", tag = "tracking", request_body = CastingInput,
    params(("shot_id" = Uuid, Path), ("asset_id" = Uuid, Path)),
    responses((status = 200, body = Casting), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn cast(
    AxState(state): AxState<State>,
    m: Member,
    Path((shot_id, asset_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<CastingInput>,
) -> ApiResult<Json<Casting>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .cast(shot_id, asset_id, input.count)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/shots/{shot_id}/assets/{asset_id}", tag = "tracking",
    params(("shot_id" = Uuid, Path), ("asset_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn uncast(
    AxState(state): AxState<State>,
    m: Member,
    Path((shot_id, asset_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .uncast(shot_id, asset_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
