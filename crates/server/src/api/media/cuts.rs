//! Cut detection over HTTP: asking for the changes of shot in a file to be found (a `media.cuts`
//! job, run by the server's workers), and reading them as JSON, or as a CMX 3600 EDL or an
//! OpenTimelineIO timeline with one event a shot, on the movie's own timecode.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::media::cuts::Cutting;
use mstation_core::tracking::{edl, otio};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Q;

/// A cut detection asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct CutsAsked {
    /// The job that looks (`GET /api/v1/jobs/{id}`); its end is announced as `job.succeeded`.
    pub job_id: Uuid,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CutsParams {
    /// `json` (the default), `cmx3600` or `otio`.
    pub format: Option<String>,
}

/// Finds where the shots of a movie change: hard cuts, fades through black and dissolves (a
/// flash or a fast pan is none), each named by the first frame of the incoming shot. The file
/// must have been read and hold pictures.
#[utoipa::path(post, path = "/api/v1/media/{media_id}/cuts", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 202, body = CutsAsked), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "Not read yet, not readable, or no picture")))]
pub async fn find_cuts(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<CutsAsked>)> {
    let scope = m.may(Permission::WriteProduction)?;
    let job_id = state.store.tenant(scope).find_cuts(media_id).await?;
    Ok((StatusCode::ACCEPTED, Json(CutsAsked { job_id })))
}

/// What cut detection found in a file: its changes (`format=json`), or the movie as a cut, one
/// event a shot (`cmx3600`, `otio`), which imports frame-exact. 404 until it has looked.
#[utoipa::path(get, path = "/api/v1/media/{media_id}/cuts", tag = "media", params(("media_id" = Uuid, Path), CutsParams),
    responses((status = 200, body = Cutting), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "A format other than json, cmx3600 or otio, or an EDL of a rate timecode does not count")))]
pub async fn get_cuts(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
    Q(p): Q<CutsParams>,
) -> ApiResult<Response> {
    let store = state.store.tenant(m.may(Permission::ReadOrg)?);
    let format = p.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "cmx3600" | "otio") {
        return Err(ApiError::invalid("format", "unsupported_cut_format"));
    }
    let file = store.media_file(media_id).await?;
    let Some(cutting) = store.media_cuts(media_id).await?.0 else {
        return Err(ApiError::not_found("cut list"));
    };
    if format == "json" {
        return Ok(Json(cutting).into_response());
    }
    let stem = std::path::Path::new(&file.name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cut = cutting
        .as_cut(&stem, &file.name)
        .ok_or_else(|| ApiError::invalid("format", "no_timecode_rate"))??;
    let (text, mime, ext) = match format {
        "cmx3600" => (edl::write(&cut)?, "text/plain; charset=utf-8", "edl"),
        _ => (otio::write(&cut)?, "application/json", "otio"),
    };
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}_cuts.{ext}\""),
            ),
        ],
        text,
    )
        .into_response())
}
