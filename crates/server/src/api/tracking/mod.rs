//! Production tracking over HTTP: projects, episodes, sequences, shots, conforming a sequence to
//! an edit (CMX 3600 EDL or OpenTimelineIO) with a dry-run diff first, and exporting its cut back.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::page::Cursor;
use mstation_core::tracking::conform::Conform;
use mstation_core::tracking::edl::{self, Edl};
use mstation_core::tracking::export::{self, CutShot, Export, ShotRow};
use mstation_core::tracking::otio;
use mstation_core::tracking::timecode::Rate;
use mstation_store::Page;
use mstation_store::tracking::{
    Episode, EpisodeChanges, NewProject, Project, ProjectChanges, Sequence, SequenceChanges, Shot,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::identity::ListParams;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, etag, idempotent, list_query};

pub mod activity;
pub mod assets;
pub mod fields;
pub mod notes;
pub mod sessions;
pub mod tasks;
pub mod timelogs;
pub mod versions;
pub mod views;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project))
        .routes(routes!(list_sequences, create_sequence))
        .routes(routes!(get_sequence, update_sequence))
        .routes(routes!(list_episodes, create_episode))
        .routes(routes!(get_episode, update_episode, delete_episode))
        .routes(routes!(list_shots))
        .routes(routes!(conform))
        .routes(routes!(export_sequence))
        .routes(routes!(get_shot))
        .merge(tasks::router())
        .merge(activity::router())
        .merge(assets::router())
        .merge(fields::router())
        .merge(notes::router())
        .merge(versions::router())
        .merge(sessions::router())
        .merge(timelogs::router())
        .merge(views::router())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProjectParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    /// `development`, `active`, `on_hold` or `wrapped`.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "tracking", params(ProjectParams), responses((status = 200, body = Page<Project>)))]
async fn list_projects(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ProjectParams>,
) -> ApiResult<Json<Page<Project>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .projects(p.status.as_deref(), &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    pub name: String,
    /// Short code for names and paths, e.g. `MOONLIGHT`.
    pub code: String,
    /// `24`, `25`, `23.976`, `29.97`, `24000/1001`, …
    pub fps: String,
    pub width: i64,
    pub height: i64,
    /// First frame of a shot's handles; 1001 when absent.
    pub start_frame: Option<i64>,
    /// Default handles of new shots; 8 when absent.
    pub head_handles: Option<i64>,
    pub tail_handles: Option<i64>,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "tracking", request_body = ProjectInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Project), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_project(
    AxState(state): AxState<State>,
    m: Member,
    key: IdempotencyKey,
    Body(input): Body<ProjectInput>,
) -> Response {
    let scope = match m.may(Permission::ManageProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let rate =
            Rate::parse(&input.fps).map_err(|_| ApiError::invalid("fps", "unknown_frame_rate"))?;
        let p = st
            .store
            .tenant(&scope)
            .create_project(NewProject {
                name: input.name,
                code: input.code,
                rate,
                width: input.width,
                height: input.height,
                start_frame: input.start_frame,
                head_handles: input.head_handles,
                tail_handles: input.tail_handles,
                start_date: input.start_date,
                end_date: input.end_date,
            })
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(p).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}", tag = "tracking", params(("project_id" = Uuid, Path)),
    responses((status = 200, body = Project), (status = 404, body = Problem)))]
async fn get_project(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
) -> ApiResult<Response> {
    let p = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .project(project_id)
        .await?;
    Ok((etag(p.version), Json(p)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub status: Option<String>,
    pub head_handles: Option<i64>,
    pub tail_handles: Option<i64>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/projects/{project_id}", tag = "tracking", request_body = ProjectPatch,
    params(("project_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Project), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_project(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<ProjectPatch>,
) -> ApiResult<Response> {
    let changes = ProjectChanges {
        name: p.name,
        status: p.status,
        head_handles: p.head_handles,
        tail_handles: p.tail_handles,
        start_date: p.start_date,
        end_date: p.end_date,
    };
    let project = state
        .store
        .tenant(m.may(Permission::ManageProduction)?)
        .update_project(project_id, v, changes)
        .await?;
    Ok((etag(project.version), Json(project)).into_response())
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/sequences", tag = "tracking", params(("project_id" = Uuid, Path), ListParams),
    responses((status = 200, body = Page<Sequence>), (status = 404, body = Problem)))]
async fn list_sequences(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Sequence>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .sequences(project_id, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SequenceInput {
    /// e.g. `SQ010`; shots are named after it (`SQ010_0010`).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// An episode of the project, for a series.
    pub episode_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/projects/{project_id}/sequences", tag = "tracking", request_body = SequenceInput,
    params(("project_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Sequence), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_sequence(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<SequenceInput>,
) -> Response {
    let scope = match m.may(Permission::PlanProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let s = st
            .store
            .tenant(&scope)
            .create_sequence_in(
                project_id,
                input.episode_id,
                &input.name,
                &input.description,
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(s).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/sequences/{sequence_id}", tag = "tracking", params(("sequence_id" = Uuid, Path)),
    responses((status = 200, body = Sequence), (status = 404, body = Problem)))]
async fn get_sequence(
    AxState(state): AxState<State>,
    m: Member,
    Path(sequence_id): Path<Uuid>,
) -> ApiResult<Response> {
    let s = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .sequence(sequence_id)
        .await?;
    Ok((etag(s.version), Json(s)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SequencePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// An episode of the project, or null to take the sequence out of its episode.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<Uuid>)]
    pub episode_id: Option<Option<Uuid>>,
}

#[utoipa::path(patch, path = "/api/v1/sequences/{sequence_id}", tag = "tracking", request_body = SequencePatch,
    params(("sequence_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Sequence), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_sequence(
    AxState(state): AxState<State>,
    m: Member,
    Path(sequence_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<SequencePatch>,
) -> ApiResult<Response> {
    let changes = SequenceChanges {
        name: p.name,
        description: p.description,
        episode_id: p.episode_id,
    };
    let s = state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .update_sequence(sequence_id, v, changes)
        .await?;
    Ok((etag(s.version), Json(s)).into_response())
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/episodes", tag = "tracking", params(("project_id" = Uuid, Path), ListParams),
    responses((status = 200, body = Page<Episode>), (status = 404, body = Problem)))]
async fn list_episodes(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Episode>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .episodes(project_id, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodeInput {
    /// Unique in the project, e.g. `EP101`.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{project_id}/episodes", tag = "tracking", request_body = EpisodeInput,
    params(("project_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Episode), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_episode(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    key: IdempotencyKey,
    Body(input): Body<EpisodeInput>,
) -> Response {
    let scope = match m.may(Permission::PlanProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let e = st
            .store
            .tenant(&scope)
            .create_episode(project_id, &input.name, &input.description)
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(e).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/episodes/{episode_id}", tag = "tracking", params(("episode_id" = Uuid, Path)),
    responses((status = 200, body = Episode), (status = 404, body = Problem)))]
async fn get_episode(
    AxState(state): AxState<State>,
    m: Member,
    Path(episode_id): Path<Uuid>,
) -> ApiResult<Response> {
    let e = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .episode(episode_id)
        .await?;
    Ok((etag(e.version), Json(e)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodePatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/episodes/{episode_id}", tag = "tracking", request_body = EpisodePatch,
    params(("episode_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Episode), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_episode(
    AxState(state): AxState<State>,
    m: Member,
    Path(episode_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<EpisodePatch>,
) -> ApiResult<Response> {
    let changes = EpisodeChanges {
        name: p.name,
        description: p.description,
    };
    let e = state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .update_episode(episode_id, v, changes)
        .await?;
    Ok((etag(e.version), Json(e)).into_response())
}

/// Deletes an episode that no sequence or asset belongs to (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/episodes/{episode_id}", tag = "tracking",
    params(("episode_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_episode(
    AxState(state): AxState<State>,
    m: Member,
    Path(episode_id): Path<Uuid>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::PlanProduction)?)
        .delete_episode(episode_id, v)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShotParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Also list shots a later cut omitted.
    #[serde(default)]
    pub include_omitted: bool,
}

#[utoipa::path(get, path = "/api/v1/sequences/{sequence_id}/shots", tag = "tracking", params(("sequence_id" = Uuid, Path), ShotParams),
    responses((status = 200, body = Page<Shot>, description = "In cut order, without their locators (`GET /api/v1/shots/{shot_id}` has them)"), (status = 404, body = Problem)))]
async fn list_shots(
    AxState(state): AxState<State>,
    m: Member,
    Path(sequence_id): Path<Uuid>,
    Q(p): Q<ShotParams>,
) -> ApiResult<Json<Page<Shot>>> {
    let after = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            Cursor::decode(c)
                .and_then(|c| c.key.parse::<i64>().ok())
                .ok_or_else(|| ApiError::new(Code::RequestInvalidCursor))?,
        ),
    };
    let limit = crate::extract::page_limit(p.limit)?;
    let (mut items, total) = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .shots(sequence_id, p.include_omitted, after, limit)
        .await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|s| {
            Cursor {
                key: s.cut_order.to_string(),
                id: s.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Json(Page {
        items,
        next_cursor,
        total,
        total_capped: false,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConformInput {
    /// `cmx3600` (an .edl file) or `otio` (an OpenTimelineIO .otio file).
    pub format: String,
    /// The file's text.
    pub edl: String,
    /// false (the default): only compute the diff. true: write it, all or nothing (a big cut appears at once).
    #[serde(default)]
    pub apply: bool,
}

/// Reads an edit in one of the formats the conform takes, at the project's rate.
pub fn read_edit(format: &str, text: &str, rate: Rate) -> Result<Edl, ApiError> {
    match format {
        "cmx3600" => edl::parse(text, rate).map_err(|e| ApiError::from(e).field("edl")),
        "otio" => otio::read(text, rate, false).map_err(|e| ApiError::from(e).field("edl")),
        _ => Err(ApiError::invalid("format", "unsupported_format")),
    }
}

/// Conforms a sequence to an edit: one shot per video event, matched to existing shots by reel
/// and source range, so re-importing a new cut updates shots and never duplicates them.
#[utoipa::path(post, path = "/api/v1/sequences/{sequence_id}/conform", tag = "tracking", request_body = ConformInput,
    params(("sequence_id" = Uuid, Path)),
    responses((status = 200, body = Conform, description = "The diff (new / changed / unchanged / removed / skipped); written when apply is true"),
              (status = 404, body = Problem), (status = 422, body = Problem, description = "The file could not be read; the detail names the line (EDL) or the JSON path (OTIO)")))]
async fn conform(
    AxState(state): AxState<State>,
    m: Member,
    Path(sequence_id): Path<Uuid>,
    Body(input): Body<ConformInput>,
) -> ApiResult<Json<Conform>> {
    let scope = if input.apply {
        m.may(Permission::PlanProduction)?
    } else {
        m.may(Permission::ReadOrg)?
    };
    let seq = state.store.tenant(scope).sequence(sequence_id).await?;
    let project = state.store.tenant(scope).project(seq.project_id).await?;
    let rate = project
        .rate()
        .ok_or_else(|| ApiError::invalid("fps", "unknown_frame_rate"))?;
    let edit = read_edit(&input.format, &input.edl, rate)?;
    Ok(Json(
        state
            .store
            .tenant(scope)
            .conform_sequence(sequence_id, &edit, input.apply)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `cmx3600` (the default), `otio`, or `csv` (the shot list, one row per shot in cut order).
    pub format: Option<String>,
}

/// The sequence's current cut, as its shots say it: one event per active shot, in cut order.
pub async fn sequence_cut(
    state: &State,
    scope: &mstation_core::TenantScope,
    sequence_id: Uuid,
) -> ApiResult<(Sequence, Export)> {
    let seq = state.store.tenant(scope).sequence(sequence_id).await?;
    let project = state.store.tenant(scope).project(seq.project_id).await?;
    let rate = project
        .rate()
        .ok_or_else(|| ApiError::invalid("fps", "unknown_frame_rate"))?;
    let (shots, _) = state
        .store
        .tenant(scope)
        .shots(sequence_id, false, None, 1_000_000)
        .await?;
    let mut marks = state
        .store
        .tenant(scope)
        .sequence_locators(sequence_id)
        .await?;
    let shots = export::lay(shots.into_iter().map(|s| {
        CutShot {
            locators: marks
                .remove(&s.id)
                .unwrap_or_default()
                .into_iter()
                .map(|l| (l.frame, l.colour, l.text))
                .collect(),
            name: s.name,
            clip_name: s.clip_name,
            reel: s.reel,
            cut_in: s.cut_in,
            cut_out: s.cut_out,
            record_in: s.record_in,
            record_out: s.record_out,
            source_in: s.source_in,
            source_out: s.source_out,
        }
    }));
    Ok((
        seq.clone(),
        Export {
            title: format!("{} {}", project.code, seq.name),
            rate,
            drop_frame: false,
            shots,
        },
    ))
}

/// Exports a sequence's cut as a CMX 3600 EDL or an OpenTimelineIO timeline, for editorial, or
/// its shot list as CSV.
#[utoipa::path(get, path = "/api/v1/sequences/{sequence_id}/export", tag = "tracking", params(("sequence_id" = Uuid, Path), ExportParams),
    responses((status = 200, content_type = "text/plain", description = "The EDL (`format=cmx3600`, each shot's locators as `* LOC:` lines), the .otio JSON (`format=otio`, locators as markers on their clips) or the shot list (`format=csv`: frames = cut_out - cut_in + 1), as a download"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn export_sequence(
    AxState(state): AxState<State>,
    m: Member,
    Path(sequence_id): Path<Uuid>,
    Q(p): Q<ExportParams>,
) -> ApiResult<Response> {
    let scope = m.may(Permission::ReadOrg)?;
    let format = p.format.as_deref().unwrap_or("cmx3600");
    if !matches!(format, "cmx3600" | "otio" | "csv") {
        return Err(ApiError::invalid("format", "unsupported_format"));
    }
    let (seq, cut) = sequence_cut(&state, scope, sequence_id).await?;
    let (text, mime, ext) = match format {
        "cmx3600" => (edl::write(&cut)?, "text/plain; charset=utf-8", "edl"),
        "otio" => (otio::write(&cut)?, "application/json", "otio"),
        _ => {
            let (shots, _) = state
                .store
                .tenant(scope)
                .shots(sequence_id, false, None, 1_000_000)
                .await?;
            let rows: Vec<ShotRow> = shots
                .into_iter()
                .map(|s| ShotRow {
                    name: s.name,
                    cut_order: s.cut_order,
                    cut_in: s.cut_in,
                    cut_out: s.cut_out,
                    head_handles: s.head_handles,
                    tail_handles: s.tail_handles,
                    reel: s.reel,
                    clip_name: s.clip_name,
                    source_in_tc: s.source_in_tc,
                    source_out_tc: s.source_out_tc,
                    description: s.description,
                })
                .collect();
            (
                export::shot_list_csv(&rows),
                "text/csv; charset=utf-8",
                "csv",
            )
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.{ext}\"", seq.name),
            ),
        ],
        text,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/shots/{shot_id}", tag = "tracking", params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = Shot, description = "The shot, with its locators"), (status = 404, body = Problem)))]
async fn get_shot(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
) -> ApiResult<Response> {
    let s = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .shot_with_locators(shot_id)
        .await?;
    Ok((etag(s.version), Json(s)).into_response())
}
