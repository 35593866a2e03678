//! Versions over HTTP: the next version of a task (numbered by the server), the versions of a
//! task, and one version; playlists of a project's versions, reordered by writing the whole list.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::media::MediaFile;
use mstation_store::tracking::versions::{Playlist, PlaylistWithItems, Version};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::identity::ListParams;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, etag, idempotent, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_versions, create_version))
        .routes(routes!(get_version))
        .routes(routes!(version_media))
        .routes(routes!(list_playlists, create_playlist))
        .routes(routes!(get_playlist))
        .routes(routes!(set_playlist_items))
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
            .tenant(m.may(Permission::ReadOrg)?)
            .versions(task_id, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    /// What changed in this version.
    #[serde(default)]
    pub comment: String,
    /// The files it is made of, in order (ids of the organisation's media files, of the
    /// task's project; at most 20).
    #[serde(default)]
    pub media: Vec<Uuid>,
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
            .tenant(&scope)
            .create_version_of(task_id, &input.comment, &input.media)
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
            .tenant(m.may(Permission::ReadOrg)?)
            .version(version_id)
            .await?,
    ))
}

/// The files a version is made of.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionMedia {
    /// In the order the version gives them.
    pub items: Vec<MediaFile>,
}

/// The files a version is made of, in order, each with its poster, proxy and what ffprobe read.
#[utoipa::path(get, path = "/api/v1/versions/{version_id}/media", tag = "tracking", params(("version_id" = Uuid, Path)),
    responses((status = 200, body = VersionMedia), (status = 404, body = Problem)))]
async fn version_media(
    AxState(state): AxState<State>,
    m: Member,
    Path(version_id): Path<Uuid>,
) -> ApiResult<Json<VersionMedia>> {
    let tenant = state.store.tenant(m.may(Permission::ReadOrg)?);
    tenant.version(version_id).await?;
    let mut all = tenant.versions_media(&[version_id]).await?;
    Ok(Json(VersionMedia {
        items: all.remove(&version_id).unwrap_or_default(),
    }))
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/playlists", tag = "tracking", params(("project_id" = Uuid, Path), ListParams),
    responses((status = 200, body = Page<Playlist>, description = "Without their items"), (status = 404, body = Problem)))]
async fn list_playlists(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Playlist>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .playlists(project_id, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaylistInput {
    pub name: String,
    /// Version ids of this project, in play order, each at most once (up to 1,000).
    #[serde(default)]
    pub items: Vec<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/projects/{project_id}/playlists", tag = "tracking", request_body = PlaylistInput,
    params(("project_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PlaylistWithItems), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_playlist(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<PlaylistInput>,
) -> Response {
    let scope = match m.may(Permission::WriteProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let p = st
            .store
            .tenant(&scope)
            .create_playlist(project_id, &input.name, &input.items)
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(p).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/playlists/{playlist_id}", tag = "tracking", params(("playlist_id" = Uuid, Path)),
    responses((status = 200, body = PlaylistWithItems), (status = 404, body = Problem)))]
async fn get_playlist(
    AxState(state): AxState<State>,
    m: Member,
    Path(playlist_id): Path<Uuid>,
) -> ApiResult<Response> {
    let p = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .playlist(playlist_id)
        .await?;
    Ok((etag(p.playlist.version), Json(p)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaylistItemsInput {
    /// The whole list, in play order: versions of the playlist's project, each at most once.
    pub items: Vec<Uuid>,
}

/// Replaces the playlist's items: add, remove and reorder by sending the whole list, with
/// If-Match so two people reordering at once do not lose each other's work.
#[utoipa::path(put, path = "/api/v1/playlists/{playlist_id}/items", tag = "tracking", request_body = PlaylistItemsInput,
    params(("playlist_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = PlaylistWithItems), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_playlist_items(
    AxState(state): AxState<State>,
    m: Member,
    Path(playlist_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(input): Body<PlaylistItemsInput>,
) -> ApiResult<Response> {
    let p = state
        .store
        .tenant(m.may(Permission::WriteProduction)?)
        .set_playlist_items(playlist_id, v, &input.items)
        .await?;
    Ok((etag(p.playlist.version), Json(p)).into_response())
}
