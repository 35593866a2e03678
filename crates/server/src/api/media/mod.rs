//! Media over HTTP: the organisation's files and their bytes under `/api/v1/media`, and
//! resumable uploads at `/files` (`tus`).

pub mod cuts;
pub mod ingest;
pub mod share;
pub mod tus;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::media::{CameraFile, MediaFile, MediaUsage};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Q, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_media))
        .routes(routes!(media_usage))
        .routes(routes!(get_media))
        .routes(routes!(media_content))
        .routes(routes!(media_proxy))
        .routes(routes!(media_poster))
        .routes(routes!(media_sprite))
        .routes(routes!(shot_camera_files))
        .routes(routes!(media_waveform))
        .routes(routes!(cuts::find_cuts, cuts::get_cuts))
        .merge(share::router())
        .routes(routes!(ingest::create_ingest))
        .routes(routes!(ingest::get_ingest))
        .routes(routes!(ingest::finish_ingest))
        .routes(routes!(ingest::seal_ingest))
        .routes(routes!(ingest::ingest_generation))
        .routes(routes!(tus::options, tus::create))
        .routes(routes!(tus::head, tus::patch, tus::terminate))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MediaParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    /// Only the files of this project.
    pub project: Option<Uuid>,
}

/// The organisation's files, newest first.
#[utoipa::path(get, path = "/api/v1/media", tag = "media", params(MediaParams),
    responses((status = 200, body = Page<MediaFile>), (status = 400, body = Problem)))]
async fn list_media(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<MediaParams>,
) -> ApiResult<Json<Page<MediaFile>>> {
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .media_files(p.project, &q)
            .await?,
    ))
}

/// How much media the organisation keeps (its files and unfinished uploads), and may keep.
#[utoipa::path(get, path = "/api/v1/media/usage", tag = "media",
    responses((status = 200, body = MediaUsage)))]
async fn media_usage(AxState(state): AxState<State>, m: Member) -> ApiResult<Json<MediaUsage>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .media_usage()
            .await?,
    ))
}

/// One file of the organisation.
#[utoipa::path(get, path = "/api/v1/media/{media_id}", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, body = MediaFile), (status = 404, body = Problem)))]
async fn get_media(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
) -> ApiResult<Json<MediaFile>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .media_file(media_id)
            .await?,
    ))
}

/// A file's bytes, as a download (a `Range` of them when asked). Reached only through a file of
/// the caller's organisation.
#[utoipa::path(get, path = "/api/v1/media/{media_id}/content", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for"), (status = 404, body = Problem)))]
async fn media_content(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .media_file(media_id)
        .await?;
    file_answer(&state, &file, &headers).await
}

/// A file's own bytes as a download, under its name and type (a `Range` of them when asked).
pub(crate) async fn file_answer(
    state: &State,
    file: &MediaFile,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let kind = file
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    blob_answer(
        state,
        &file.hash,
        file.size,
        kind,
        Some(&file.name),
        headers,
    )
    .await
}

/// A file's browser proxy: H.264 in MP4, playable in any browser, seekable (`Range`).
#[utoipa::path(get, path = "/api/v1/media/{media_id}/proxy", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "video/mp4", body = Vec<u8>),
        (status = 206, description = "The range asked for"),
        (status = 404, body = Problem, description = "No such file, or no proxy yet")))]
async fn media_proxy(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    derived(
        &state,
        &m,
        media_id,
        &headers,
        |f| f.proxy_hash.clone(),
        "video/mp4",
    )
    .await
}

/// A file's poster image (JPEG, 480 wide).
#[utoipa::path(get, path = "/api/v1/media/{media_id}/poster", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, body = Problem, description = "No such file, or no poster yet")))]
async fn media_poster(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    derived(
        &state,
        &m,
        media_id,
        &headers,
        |f| f.poster_hash.clone(),
        "image/jpeg",
    )
    .await
}

/// The camera files holding a shot.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CameraFiles {
    /// Newest first.
    pub items: Vec<CameraFile>,
}

/// The camera files of the shot's project that hold its source (the reel its cut names, its
/// source timecode within theirs), each with where the shot starts in it: camera-to-cloud
/// relinking, with nobody picking the file by hand.
#[utoipa::path(get, path = "/api/v1/shots/{shot_id}/camera-files", tag = "media", params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = CameraFiles), (status = 404, body = Problem)))]
async fn shot_camera_files(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
) -> ApiResult<Json<CameraFiles>> {
    Ok(Json(CameraFiles {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .shot_camera_files(shot_id)
            .await?,
    }))
}

/// A file's scrub sprite (JPEG: 100 frames evenly spread over its duration, 10 by 10, each 160
/// wide, left to right then down).
#[utoipa::path(get, path = "/api/v1/media/{media_id}/sprite", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, body = Problem, description = "No such file, or no sprite yet")))]
async fn media_sprite(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    derived(
        &state,
        &m,
        media_id,
        &headers,
        |f| f.sprite_hash.clone(),
        "image/jpeg",
    )
    .await
}

/// The waveform of a file's sound (PNG, 1600 by 120).
#[utoipa::path(get, path = "/api/v1/media/{media_id}/waveform", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>),
        (status = 404, body = Problem, description = "No such file, no sound, or no waveform yet")))]
async fn media_waveform(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    derived(
        &state,
        &m,
        media_id,
        &headers,
        |f| f.waveform_hash.clone(),
        "image/png",
    )
    .await
}

/// A blob made from a file (its proxy, poster, sprite, waveform), once made.
async fn derived(
    state: &State,
    m: &Member,
    media_id: Uuid,
    headers: &HeaderMap,
    pick: impl Fn(&MediaFile) -> Option<String>,
    kind: &str,
) -> ApiResult<Response> {
    let file = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .media_file(media_id)
        .await?;
    derived_answer(state, &file, headers, pick, kind).await
}

/// What was made of a file (`pick`: its proxy, poster …) as `kind`; not found until it is made.
pub(crate) async fn derived_answer(
    state: &State,
    file: &MediaFile,
    headers: &HeaderMap,
    pick: impl Fn(&MediaFile) -> Option<String>,
    kind: &str,
) -> ApiResult<Response> {
    let missing = || {
        ApiError::from(mstation_store::StoreError::NotFound {
            entity: "media file",
        })
    };
    let hash = pick(file).ok_or_else(missing)?;
    let size = state
        .store
        .platform()
        .blob_size(&hash)
        .await?
        .ok_or_else(missing)?;
    blob_answer(state, &hash, size, kind, None, headers).await
}

/// `Range: bytes=…` of an object of `size` bytes: the one range asked for (end excluded);
/// `Err` when it lies outside the object (416); none when absent or not a single byte range.
fn byte_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(from), Some(to)) if from <= to => (from, to.saturating_add(1).min(size)),
        (Some(from), None) if b.is_empty() => (from, size),
        (None, Some(last)) if a.is_empty() && last > 0 => (size.saturating_sub(last), size),
        _ => return Ok(None),
    };
    if range.0 >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// The bytes of the blob `hash` as an answer, the asked range of them when there is one.
pub(crate) async fn blob_answer(
    state: &State,
    hash: &str,
    size: i64,
    kind: &str,
    download_as: Option<&str>,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let size = size.max(0) as u64;
    let range = match byte_range(headers, size) {
        Ok(r) => r,
        Err(()) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}"))
                    .unwrap_or(HeaderValue::from_static("bytes */0")),
            );
            return Ok(r);
        }
    };
    let (status, body, length) = match range {
        Some((from, to)) => (
            StatusCode::PARTIAL_CONTENT,
            state.blobs.get_range(hash, from, to).await?,
            to - from,
        ),
        None => (StatusCode::OK, state.blobs.get(hash).await?, size),
    };
    let mut r = (status, Body::from_stream(body)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(kind).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some((from, to)) = range {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {from}-{}/{size}", to - 1))
                .unwrap_or(HeaderValue::from_static("bytes */0")),
        );
    }
    if let Some(name) = download_as {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&attachment(name))
                .unwrap_or(HeaderValue::from_static("attachment")),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{hash}\"")).unwrap_or(HeaderValue::from_static("\"\"")),
    );
    Ok(r)
}

/// `Content-Disposition` for a download named `name`: an ASCII fallback and the name itself
/// (RFC 6266 / RFC 8187), so a Chinese file name arrives whole.
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                encoded.push(b as char)
            }
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::{attachment, byte_range};
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn a_range_is_one_span_of_the_bytes() {
        let asked = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
            byte_range(&h, 1000)
        };
        assert_eq!(byte_range(&HeaderMap::new(), 1000), Ok(None));
        assert_eq!(asked("bytes=0-99"), Ok(Some((0, 100))));
        assert_eq!(asked("bytes=900-"), Ok(Some((900, 1000))));
        assert_eq!(asked("bytes=-10"), Ok(Some((990, 1000))));
        assert_eq!(asked("bytes=990-5000"), Ok(Some((990, 1000))));
        assert_eq!(asked("bytes=1000-"), Err(()), "past the end: 416");
        for whole in [
            "bytes=5-1",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=x-y",
            "bytes=-0",
        ] {
            assert_eq!(asked(whole), Ok(None), "{whole}: the whole of it");
        }
    }

    #[test]
    fn a_download_keeps_its_name_in_any_script() {
        assert_eq!(
            attachment("镜头 01.mov"),
            "attachment; filename=\"__ 01.mov\"; filename*=UTF-8''%E9%95%9C%E5%A4%B4%2001.mov"
        );
        assert_eq!(
            attachment("a\"b.mov"),
            "attachment; filename=\"a_b.mov\"; filename*=UTF-8''a%22b.mov"
        );
    }
}
