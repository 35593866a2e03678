//! Notes over HTTP on shots, assets and versions (a task's notes, which can change its status,
//! are in `tasks`), and the feed of notes that mention a person.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::tracking::drawing::Shape;
use mstation_store::Page;
use mstation_store::tracking::notes::Note;
use mstation_store::tracking::notes::{NoteOn, OnFrames};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::api::tracking::activity::FeedParams;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, Q, idempotent, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(shot_notes, add_shot_note))
        .routes(routes!(asset_notes, add_asset_note))
        .routes(routes!(version_notes, add_version_note))
        .routes(routes!(person_mentions))
        .routes(routes!(publish_note))
}

/// A note. Mention members in the body as `@` and their e-mail address (`@li.wei@studio.cn`)
/// or `@` and their display name in double quotes (`@"Li Wei"`); the note's `mentions` lists
/// the members found.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityNoteInput {
    pub body: String,
    /// The frame the note is about.
    pub frame: Option<i64>,
    /// The last frame of a range the note is about, from `frame` (both included).
    pub frame_out: Option<i64>,
    /// Shapes drawn on `frame` (pen, arrow, rect, ellipse, text), in coordinates relative to
    /// the picture: `[x, y]` from its top left, as fractions of its width and height. Shapes
    /// off the picture, of no length, in a colour other than `#rrggbb` or too many are refused
    /// with 422, naming the shape (`drawing[2]`).
    pub drawing: Option<Vec<Shape>>,
    /// Reply to this note (a note on the same shot, asset or version).
    pub parent_id: Option<Uuid>,
}

async fn list(state: &State, m: &Member, on: NoteOn) -> ApiResult<Json<Items<Note>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .entity_notes(on)
            .await?,
    }))
}

async fn add(
    state: State,
    m: Member,
    on: NoteOn,
    key: IdempotencyKey,
    input: EntityNoteInput,
) -> Response {
    let scope = match m.may(Permission::Review) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let n = st
            .store
            .tenant(&scope)
            .add_entity_note(
                on,
                &input.body,
                OnFrames {
                    frame: input.frame,
                    frame_out: input.frame_out,
                    drawing: input.drawing,
                },
                input.parent_id,
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(n).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/shots/{shot_id}/notes", tag = "tracking", params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = Items<Note>, description = "Oldest first"), (status = 404, body = Problem)))]
async fn shot_notes(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
) -> ApiResult<Json<Items<Note>>> {
    list(&state, &m, NoteOn::Shot(shot_id)).await
}

#[utoipa::path(post, path = "/api/v1/shots/{shot_id}/notes", tag = "tracking", request_body = EntityNoteInput,
    params(("shot_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Note), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_shot_note(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<EntityNoteInput>,
) -> Response {
    add(state, m, NoteOn::Shot(shot_id), key, input).await
}

#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/notes", tag = "tracking", params(("asset_id" = Uuid, Path)),
    responses((status = 200, body = Items<Note>, description = "Oldest first"), (status = 404, body = Problem)))]
async fn asset_notes(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
) -> ApiResult<Json<Items<Note>>> {
    list(&state, &m, NoteOn::Asset(asset_id)).await
}

#[utoipa::path(post, path = "/api/v1/assets/{asset_id}/notes", tag = "tracking", request_body = EntityNoteInput,
    params(("asset_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Note), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_asset_note(
    AxState(state): AxState<State>,
    m: Member,
    Path(asset_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<EntityNoteInput>,
) -> Response {
    add(state, m, NoteOn::Asset(asset_id), key, input).await
}

#[utoipa::path(get, path = "/api/v1/versions/{version_id}/notes", tag = "tracking", params(("version_id" = Uuid, Path)),
    responses((status = 200, body = Items<Note>, description = "Oldest first"), (status = 404, body = Problem)))]
async fn version_notes(
    AxState(state): AxState<State>,
    m: Member,
    Path(version_id): Path<Uuid>,
) -> ApiResult<Json<Items<Note>>> {
    list(&state, &m, NoteOn::Version(version_id)).await
}

/// A review note on a version.
#[utoipa::path(post, path = "/api/v1/versions/{version_id}/notes", tag = "tracking", request_body = EntityNoteInput,
    params(("version_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Note), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_version_note(
    AxState(state): AxState<State>,
    m: Member,
    Path(version_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<EntityNoteInput>,
) -> Response {
    add(state, m, NoteOn::Version(version_id), key, input).await
}

/// Publishes a client's held note to the team as it was written (its author, frame and
/// drawing): the artists read it from now on, and the members it mentions are told. Publishing
/// a note that is not held changes nothing.
#[utoipa::path(post, path = "/api/v1/notes/{note_id}/publish", tag = "tracking", params(("note_id" = Uuid, Path)),
    responses((status = 200, body = Note), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn publish_note(
    AxState(state): AxState<State>,
    m: Member,
    Path(note_id): Path<Uuid>,
) -> ApiResult<Json<Note>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .publish_note(note_id)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/people/{user_id}/mentions", tag = "tracking",
    params(("user_id" = String, Path, description = "A member's user id, or `me`"), FeedParams),
    responses((status = 200, body = Page<Note>, description = "The notes that mention the person, newest first"),
              (status = 404, body = Problem)))]
async fn person_mentions(
    AxState(state): AxState<State>,
    m: Member,
    Path(user_id): Path<String>,
    Q(p): Q<FeedParams>,
) -> ApiResult<Json<Page<Note>>> {
    let scope = m.may(Permission::ReadOrg)?;
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    let user = crate::api::tracking::activity::person(&state, scope, &user_id).await?;
    Ok(Json(state.store.tenant(scope).mentions(user, &q).await?))
}
