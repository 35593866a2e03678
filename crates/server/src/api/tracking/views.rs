//! Saved views over HTTP: a person keeps named queries of a project's shot and asset grids, and
//! reads back only their own.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use mstation_core::Permission;
use mstation_store::tracking::grid::SavedView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Q};
use crate::pages::grid_query;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_views, save_view))
        .routes(routes!(delete_view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ViewParams {
    /// `shots` (the one grid views are kept for); every grid's when absent.
    pub grid: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedViews {
    /// By name; at most 50 per grid.
    pub items: Vec<SavedView>,
}

/// The caller's saved views of a project's grids.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/views", tag = "tracking", params(("project_id" = Uuid, Path), ViewParams),
    responses((status = 200, body = SavedViews), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_views(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<ViewParams>,
) -> ApiResult<Json<SavedViews>> {
    let items = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .saved_views(project_id, p.grid.as_deref())
        .await?;
    Ok(Json(SavedViews { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    /// `shots`: the shot grid (the asset grid filters in the page and keeps no views yet).
    pub grid: String,
    /// 1 to 80 characters; saving a name the caller already uses for this grid replaces it.
    pub name: String,
    /// The grid page's query, such as `person=me&due=overdue&show=due`: `sequence`, `q`,
    /// `person` (`me`, `nobody` or a user id), `due` (`overdue` or `week`), `asset`, `status`
    /// and any number of `show` (`due`, `priority`, `field.<key>`). Kept in that order.
    #[serde(default)]
    pub query: String,
}

/// Saves a view of a grid for the caller: 201 when new, 200 when it replaced the caller's view of
/// that name (so sending it again changes nothing).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/views", tag = "tracking", request_body = ViewInput,
    params(("project_id" = Uuid, Path)),
    responses((status = 201, body = SavedView), (status = 200, body = SavedView, description = "Replaced the view of that name"),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save_view(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Body(input): Body<ViewInput>,
) -> ApiResult<(StatusCode, Json<SavedView>)> {
    let scope = m.may(Permission::KeepViews)?;
    // Another organisation's project is a 404 whatever the body.
    state.store.tenant(scope).project(project_id).await?;
    let query =
        grid_query(&input.query).ok_or_else(|| ApiError::invalid("query", "not_a_grid_query"))?;
    let (v, created) = state
        .store
        .tenant(scope)
        .save_view(project_id, &input.grid, &input.name, &query)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(v)))
}

/// Deletes one of the caller's saved views.
#[utoipa::path(delete, path = "/api/v1/views/{view_id}", tag = "tracking", params(("view_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_view(
    AxState(state): AxState<State>,
    m: Member,
    Path(view_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::KeepViews)?)
        .delete_view(view_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
