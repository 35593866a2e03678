//! Media over HTTP: the organisation's files and their bytes under `/api/v1/media`, and
//! resumable uploads at `/files` (`tus`).

pub mod tus;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::media::{MediaFile, MediaUsage};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Q, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_media))
        .routes(routes!(media_usage))
        .routes(routes!(get_media))
        .routes(routes!(media_content))
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

/// A file's bytes, as a download. Reached only through a file of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/media/{media_id}/content", tag = "media", params(("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
async fn media_content(
    AxState(state): AxState<State>,
    m: Member,
    Path(media_id): Path<Uuid>,
) -> ApiResult<Response> {
    let file = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .media_file(media_id)
        .await?;
    let bytes = state.blobs.get(&file.hash).await?;
    let mut r = (StatusCode::OK, Body::from_stream(bytes)).into_response();
    let h = r.headers_mut();
    let kind = file
        .content_type
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, kind);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&attachment(&file.name))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", file.hash))
            .unwrap_or(HeaderValue::from_static("\"\"")),
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
    use super::attachment;

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
