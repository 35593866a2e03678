//! Share links over HTTP: a playlist shown to someone outside the organisation through a link
//! that needs no account (`/share/{token}`, `pages/media/share.rs`). Made, listed and revoked
//! by producers and coordinators; the link's secret is in the answer that makes it, and nowhere
//! after.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::media::share::{
    GuestNote, MAX_LIFE_MS, NewShareLink, ShareLink, SharedVersion,
};
use mstation_store::tracking::notes::Note;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_links, create_link))
        .routes(routes!(get_link))
        .routes(routes!(revoke_link))
        .routes(routes!(remake_copies))
        .routes(routes!(list_guest_notes))
        .routes(routes!(publish_guest_note))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareLinkInput {
    /// Who it is for: burnt into every frame the link serves ("Zhang Wei, Star Pictures").
    pub recipient: String,
    /// A password the guest must type (8 characters or more); none: the link alone opens it.
    pub password: Option<String>,
    /// Whether the guest may download the (watermarked) copies.
    #[serde(default)]
    pub allow_download: bool,
    /// How many days it runs, 1 to 90 (7 when absent).
    pub days: Option<i64>,
}

/// A new link, with the address to send.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedLink {
    #[serde(flatten)]
    pub made: NewShareLink,
    /// The guest's address on this server: `/share/{token}`.
    pub path: String,
}

/// A link and the versions it shares.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareLinkDetail {
    #[serde(flatten)]
    pub link: ShareLink,
    pub versions: Vec<SharedVersion>,
}

/// Makes a link sharing the playlist with someone outside the organisation. A watermarked copy
/// of each version with a proxy is made for it by a `media.watermark` job.
#[utoipa::path(post, path = "/api/v1/playlists/{playlist_id}/share-links", tag = "media", request_body = ShareLinkInput,
    params(("playlist_id" = Uuid, Path)),
    responses((status = 201, body = SharedLink), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_link(
    AxState(state): AxState<State>,
    m: Member,
    Path(playlist_id): Path<Uuid>,
    Body(input): Body<ShareLinkInput>,
) -> ApiResult<Response> {
    let store = state.store.tenant(m.may(Permission::PlanProduction)?);
    let days = input.days.unwrap_or(7);
    if !(1..=MAX_LIFE_MS / 86_400_000).contains(&days) {
        return Err(ApiError::invalid("days", "share_too_long"));
    }
    let expires_at = mstation_store::now_ms() + days * 86_400_000;
    let made = store
        .create_share_link(
            playlist_id,
            &input.recipient,
            input.password.as_deref(),
            input.allow_download,
            expires_at,
        )
        .await?;
    let path = format!("/share/{}", made.token);
    Ok((StatusCode::CREATED, Json(SharedLink { made, path })).into_response())
}

#[utoipa::path(get, path = "/api/v1/playlists/{playlist_id}/share-links", tag = "media", params(("playlist_id" = Uuid, Path)),
    responses((status = 200, body = Vec<ShareLink>, description = "Newest first"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_links(
    AxState(state): AxState<State>,
    m: Member,
    Path(playlist_id): Path<Uuid>,
) -> ApiResult<Json<Vec<ShareLink>>> {
    let store = state.store.tenant(m.may(Permission::PlanProduction)?);
    store.playlist(playlist_id).await?;
    Ok(Json(store.share_links(playlist_id).await?))
}

#[utoipa::path(get, path = "/api/v1/share-links/{link_id}", tag = "media", params(("link_id" = Uuid, Path)),
    responses((status = 200, body = ShareLinkDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_link(
    AxState(state): AxState<State>,
    m: Member,
    Path(link_id): Path<Uuid>,
) -> ApiResult<Json<ShareLinkDetail>> {
    let store = state.store.tenant(m.may(Permission::PlanProduction)?);
    let link = store.share_link(link_id).await?;
    let versions = store.share_link_versions(link_id).await?;
    Ok(Json(ShareLinkDetail { link, versions }))
}

/// Revokes the link: its guests reach nothing from the next request on.
#[utoipa::path(post, path = "/api/v1/share-links/{link_id}/revoke", tag = "media", params(("link_id" = Uuid, Path)),
    responses((status = 200, body = ShareLink), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_link(
    AxState(state): AxState<State>,
    m: Member,
    Path(link_id): Path<Uuid>,
) -> ApiResult<Json<ShareLink>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .revoke_share_link(link_id)
            .await?,
    ))
}

/// How many copies were asked for again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Asked {
    pub asked: i64,
}

/// Asks again for the link's copies whose job failed for good (a `media.watermark` job each);
/// none for a link revoked or run out.
#[utoipa::path(post, path = "/api/v1/share-links/{link_id}/remake", tag = "media", params(("link_id" = Uuid, Path)),
    responses((status = 200, body = Asked), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remake_copies(
    AxState(state): AxState<State>,
    m: Member,
    Path(link_id): Path<Uuid>,
) -> ApiResult<Json<Asked>> {
    let asked = state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .remake_share_copies(link_id)
        .await?;
    Ok(Json(Asked { asked }))
}

/// The notes a link's guest wrote, held with production until published, oldest first.
#[utoipa::path(get, path = "/api/v1/share-links/{link_id}/notes", tag = "media", params(("link_id" = Uuid, Path)),
    responses((status = 200, body = Vec<GuestNote>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_guest_notes(
    AxState(state): AxState<State>,
    m: Member,
    Path(link_id): Path<Uuid>,
) -> ApiResult<Json<Vec<GuestNote>>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .guest_notes(link_id)
            .await?,
    ))
}

/// A guest's note published to the team and its note of the version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub guest_note: GuestNote,
    pub note: Note,
}

/// Publishes a guest's note to the team: a note of its version, on the production frame the
/// guest's copy showed, in the guest's words. Publishing it again changes nothing.
#[utoipa::path(post, path = "/api/v1/guest-notes/{guest_note_id}/publish", tag = "media", params(("guest_note_id" = Uuid, Path)),
    responses((status = 200, body = Published), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn publish_guest_note(
    AxState(state): AxState<State>,
    m: Member,
    Path(guest_note_id): Path<Uuid>,
) -> ApiResult<Json<Published>> {
    let scope = m.may(Permission::PlanProduction)?;
    let (guest_note, note) = publish(&state, scope, guest_note_id).await?;
    Ok(Json(Published { guest_note, note }))
}

/// Publishes the guest note `id` on the frame its time in the copy is (the copy has the proxy's
/// frames: the production frame of its first, at its rate).
pub(crate) async fn publish(
    state: &State,
    scope: &mstation_core::TenantScope,
    id: Uuid,
) -> ApiResult<(GuestNote, Note)> {
    let store = state.store.tenant(scope);
    let held = store.guest_note(id).await?;
    let reel = crate::pages::tracking::player::proxy_frames(&store, held.version_id).await?;
    let [num, den] = reel.fps;
    // The frame shown at that time (the browser rounds its time to the millisecond, so half a
    // millisecond is given back), within the copy's frames.
    let index = (2 * held.at_ms + 1) * num / (2000 * den.max(1));
    let frame = reel.first + index.clamp(0, (reel.count - 1).max(0));
    Ok(store.publish_guest_note(id, frame).await?)
}
