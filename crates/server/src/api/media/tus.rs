//! Resumable uploads at `/files`: the tus 1.0 protocol (core, creation, creation-with-upload,
//! termination, checksum, expiration). An upload's bytes gather in a staging file; what is
//! written and flushed is recorded in the database as it goes, so a dropped connection or a
//! killed server loses only what was not yet acknowledged. A complete upload is hashed in full
//! (BLAKE3), put in the blob store under its hash unless the platform has that blob already, and
//! becomes a file of the organisation.
//!
//! Which process writes an upload is held in the database (`Tenant::hold_upload`), so any
//! number of servers on one database and one media folder serve one upload without sticky
//! sessions: a second writer is answered 423 until the first lets go.

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use mstation_core::Permission;
use mstation_core::media::{mhl, names, tus};
use mstation_store::media::{MediaRule, NewUpload, Upload, blobs};
use mstation_store::{Rule, StoreError, Tenant};
use sha1::Digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Code};

/// How many bytes a PATCH writes between two records of its progress.
const PROGRESS_EVERY: u64 = 16 << 20;
/// How long a PATCH writes before it renews its hold (a third of the hold).
const RENEW_AFTER: std::time::Duration =
    std::time::Duration::from_millis(mstation_store::media::HOLD_MS as u64 / 3);
/// How long a PATCH may send nothing before it is taken for gone: with `RENEW_AFTER`, a hold is
/// renewed well before it runs out while bytes flow.
const IDLE: std::time::Duration = std::time::Duration::from_secs(30);
/// The content type of a PATCH body.
const OFFSET_STREAM: &str = "application/offset+octet-stream";

fn h(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

fn value(v: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&v.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// An answer of the protocol: a status and its headers, every one naming the version.
fn answer(status: StatusCode, headers: Vec<(&'static str, HeaderValue)>) -> Response {
    let mut r = status.into_response();
    let map = r.headers_mut();
    map.insert(h("tus-resumable"), HeaderValue::from_static(tus::VERSION));
    map.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (k, v) in headers {
        map.insert(h(k), v);
    }
    r
}

fn bad_header(e: tus::TusError) -> ApiError {
    ApiError::new(Code::BadUploadHeader).data(e.to_string())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| bad_header(tus::TusError::BadMetadataValue(name.to_string())))
        })
        .transpose()
}

/// The version check every request but `OPTIONS` passes first: the refusal to answer (412,
/// with the versions we speak) when it fails.
fn wrong_version(headers: &HeaderMap) -> Option<Response> {
    let v = headers.get("tus-resumable").and_then(|v| v.to_str().ok());
    let e = tus::resumable(v).err()?;
    let mut r = ApiError::new(Code::BadUploadHeader)
        .data(e.to_string())
        .into_response();
    *r.status_mut() = StatusCode::PRECONDITION_FAILED;
    r.headers_mut()
        .insert(h("tus-version"), HeaderValue::from_static(tus::VERSION));
    Some(r)
}

fn rule(r: MediaRule) -> ApiError {
    StoreError::Rule(Rule::Media(r)).into()
}

fn expires(u: &Upload) -> (&'static str, HeaderValue) {
    ("upload-expires", value(tus::http_date(u.expires_at.0)))
}

/// What the server speaks.
#[utoipa::path(options, path = "/files", tag = "media",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size and Tus-Checksum-Algorithm")))]
pub async fn options() -> Response {
    answer(
        StatusCode::NO_CONTENT,
        vec![
            ("tus-version", HeaderValue::from_static(tus::VERSION)),
            ("tus-extension", HeaderValue::from_static(tus::EXTENSIONS)),
            ("tus-max-size", value(mstation_store::media::MAX_UPLOAD)),
            (
                "tus-checksum-algorithm",
                HeaderValue::from_static(tus::CHECKSUM_ALGORITHMS),
            ),
        ],
    )
}

/// Starts an upload (tus `creation`), with its first bytes when the body carries them
/// (`creation-with-upload`). `Upload-Length` is required; `Upload-Metadata` may name the file
/// (`filename` or `name`), its type (`filetype` or `type`) and its project (`project`, an id).
#[utoipa::path(post, path = "/files", tag = "media",
    responses((status = 201, description = "Location of the new upload, its Upload-Offset and Upload-Expires"),
        (status = 400, body = crate::error::Problem), (status = 412, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem)))]
pub async fn create(
    AxState(state): AxState<State>,
    m: Member,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut body = Some(body);
    let answer = match create_upload(&state, &m, &headers, &mut body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    drain(body).await;
    answer
}

async fn create_upload(
    state: &State,
    m: &Member,
    headers: &HeaderMap,
    body: &mut Option<Body>,
) -> ApiResult<Response> {
    let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
    if let Some(r) = wrong_version(headers) {
        return Ok(r);
    }
    if headers.contains_key("upload-defer-length") {
        return Err(bad_header(tus::TusError::BadLength));
    }
    let concat = header_str(headers, "upload-concat")?
        .map(tus::parse_concat)
        .transpose()
        .map_err(bad_header)?;
    // A final upload's length is its parts'.
    let length = match (&concat, header_str(headers, "upload-length")?) {
        (Some(tus::Concat::Final(_)), None) => 0,
        (Some(tus::Concat::Final(_)), Some(_)) => return Err(bad_header(tus::TusError::BadLength)),
        (_, Some(v)) => tus::length(v).map_err(bad_header)?,
        (_, None) => return Err(bad_header(tus::TusError::BadLength)),
    };
    let raw = header_str(headers, "upload-metadata")?.unwrap_or("");
    let meta = tus::parse_metadata(raw).map_err(bad_header)?;
    let text = |keys: &[&str]| -> ApiResult<Option<String>> {
        for k in keys {
            if let Some(v) = meta.get_str(k).map_err(bad_header)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let name = match text(&["filename", "name"])? {
        Some(n) if n.contains(['/', '\\']) => {
            return Err(ApiError::new(Code::BadUploadHeader)
                .data("Upload-Metadata filename must be a file's name, without folders"));
        }
        Some(n) => names::file_name(&n).map_err(|e| {
            ApiError::new(Code::BadUploadHeader).data(format!("Upload-Metadata filename: {e}"))
        })?,
        None => "untitled".to_string(),
    };
    let content_type = text(&["filetype", "type"])?
        .filter(|t| !t.is_empty() && t.len() <= 255 && !t.chars().any(char::is_control));
    let project_id = match text(&["project", "project_id"])? {
        Some(p) => Some(Uuid::parse_str(&p).map_err(|_| {
            ApiError::new(Code::BadUploadHeader)
                .data("Upload-Metadata project must be a project's id")
        })?),
        None => None,
    };
    // A file of a camera-card ingest: the ingest's id, and the file's path on the card.
    let ingest = match (text(&["ingest"])?, text(&["path"])?) {
        (None, None) => None,
        (Some(i), Some(p)) => {
            let id = Uuid::parse_str(&i).map_err(|_| {
                ApiError::new(Code::BadUploadHeader)
                    .data("Upload-Metadata ingest must be an ingest's id")
            })?;
            let path = names::relative_path(&p).map_err(|e| {
                ApiError::new(Code::BadUploadHeader).data(format!("Upload-Metadata path: {e}"))
            })?;
            // Kept and compared as it is on the card: never silently changed.
            if path != p {
                return Err(ApiError::new(Code::BadUploadHeader).data(
                    "Upload-Metadata path must be written as on the card: / between folders, no spaces at either end of a name",
                ));
            }
            if concat.is_some() {
                return Err(ApiError::new(Code::BadUploadHeader)
                    .data("a file of an ingest is sent whole, not in parts (Upload-Concat)"));
            }
            Some((id, path))
        }
        _ => {
            return Err(ApiError::new(Code::BadUploadHeader)
                .data("Upload-Metadata ingest and path go together"));
        }
    };
    let length = i64::try_from(length)
        .map_err(|_| ApiError::from(StoreError::Rule(Rule::Media(MediaRule::PastLength))))?;
    let new = NewUpload {
        ingest,
        project_id,
        name,
        content_type,
        metadata: raw.to_string(),
        length,
        partial: concat == Some(tus::Concat::Partial),
    };
    if let Some(tus::Concat::Final(parts)) = concat {
        let upload = join_parts(state, &tenant, parts, new).await?;
        return Ok(answer(
            StatusCode::CREATED,
            vec![
                ("location", value(format!("/files/{}", upload.id))),
                ("upload-offset", value(upload.length)),
                expires(&upload),
            ],
        ));
    }
    let upload = tenant.create_upload(new).await?;
    let mut received = 0;
    let with_bytes = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == OFFSET_STREAM.as_bytes());
    if with_bytes || (length == 0) {
        received = match write_bytes(state, &tenant, &upload, 0, None, body).await {
            Ok(n) => n,
            // The upload exists: the refusal carries its address, to go on from.
            Err(e) => {
                let mut r = e.into_response();
                let hs = r.headers_mut();
                hs.insert(h("location"), value(format!("/files/{}", upload.id)));
                hs.insert(h("tus-resumable"), HeaderValue::from_static(tus::VERSION));
                return Ok(r);
            }
        };
    }
    let location = format!("/files/{}", upload.id);
    Ok(answer(
        StatusCode::CREATED,
        vec![
            ("location", value(location)),
            ("upload-offset", value(received)),
            expires(&upload),
        ],
    ))
}

/// Where an upload stands (tus `HEAD`): `Upload-Offset` is every byte kept so far.
#[utoipa::path(head, path = "/files/{upload_id}", tag = "media", params(("upload_id" = Uuid, Path)),
    responses((status = 200, description = "Upload-Offset, Upload-Length, Upload-Metadata and Upload-Expires"),
        (status = 404, description = "No such upload of yours"), (status = 410, description = "Expired")))]
pub async fn head(
    AxState(state): AxState<State>,
    m: Member,
    headers: HeaderMap,
    Path(upload_id): Path<Uuid>,
) -> Response {
    let found = async {
        let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
        ApiResult::Ok(tenant.upload(upload_id).await?)
    };
    // A refusal keeps its problem headers; a HEAD answer carries no body.
    let mut u = match found.await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    if let Some(r) = wrong_version(&headers) {
        return r;
    }
    // Every byte arrived, but making the file failed (a full disk, a restart): it is made now,
    // so a client that sees the whole offset finds its file.
    if u.is_complete() && !u.is_filed() && !u.is_partial() && !u.is_final() {
        let tenant = state.store.tenant(&m.0);
        match write_bytes(&state, &tenant, &u, u.length, None, &mut None).await {
            Ok(_) => u = tenant.upload(upload_id).await.unwrap_or(u),
            // Another request is finishing it now: where it stands is the answer.
            Err(e)
                if matches!(
                    e.code,
                    Code::Rule(Rule::Media(
                        MediaRule::UploadBusy | MediaRule::OffsetMismatch
                    ))
                ) => {}
            Err(e) => return e.into_response(),
        }
    }
    let mut hs = vec![
        ("upload-offset", value(u.received)),
        ("upload-length", value(u.length)),
        expires(&u),
    ];
    if !u.metadata.is_empty() {
        hs.push(("upload-metadata", value(&u.metadata)));
    }
    match (u.concat.as_deref(), &u.parts) {
        (Some("partial"), _) => hs.push(("upload-concat", HeaderValue::from_static("partial"))),
        (Some("final"), Some(parts)) => {
            let addresses: Vec<String> = parts.split(' ').map(|p| format!("/files/{p}")).collect();
            hs.push((
                "upload-concat",
                value(format!("final;{}", addresses.join(" "))),
            ));
        }
        _ => {}
    }
    answer(StatusCode::OK, hs)
}

/// Sends bytes of an upload from `Upload-Offset` (tus `PATCH`), checked against
/// `Upload-Checksum` when given (`sha1` or `sha256`: a mismatch keeps none of them, 460).
#[utoipa::path(patch, path = "/files/{upload_id}", tag = "media", params(("upload_id" = Uuid, Path)),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "The new Upload-Offset"),
        (status = 409, body = crate::error::Problem), (status = 410, body = crate::error::Problem),
        (status = 415, body = crate::error::Problem), (status = 423, body = crate::error::Problem),
        (status = 460, body = crate::error::Problem)))]
pub async fn patch(
    AxState(state): AxState<State>,
    m: Member,
    headers: HeaderMap,
    Path(upload_id): Path<Uuid>,
    body: Body,
) -> Response {
    let mut body = Some(body);
    let answer = match patch_upload(&state, &m, &headers, upload_id, &mut body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    drain(body).await;
    answer
}

async fn patch_upload(
    state: &State,
    m: &Member,
    headers: &HeaderMap,
    upload_id: Uuid,
    body: &mut Option<Body>,
) -> ApiResult<Response> {
    let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
    // Whose upload it is first: another's is not found, whatever else the request says.
    let upload = tenant.upload(upload_id).await?;
    if let Some(r) = wrong_version(headers) {
        return Ok(r);
    }
    if headers
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes() != OFFSET_STREAM.as_bytes())
    {
        return Err(ApiError::new(Code::RequestContentType));
    }
    let offset = tus::offset(
        header_str(headers, "upload-offset")?
            .ok_or_else(|| bad_header(tus::TusError::BadOffset))?,
    )
    .map_err(bad_header)?;
    let checksum = header_str(headers, "upload-checksum")?
        .map(tus::parse_checksum)
        .transpose()
        .map_err(bad_header)?;
    let offset = i64::try_from(offset).map_err(|_| rule(MediaRule::OffsetMismatch))?;
    let received = write_bytes(state, &tenant, &upload, offset, checksum, body).await?;
    let upload = tenant.upload(upload_id).await.unwrap_or(upload);
    Ok(answer(
        StatusCode::NO_CONTENT,
        vec![("upload-offset", value(received)), expires(&upload)],
    ))
}

/// Ends an unfinished upload and lets its bytes go (tus `termination`).
#[utoipa::path(delete, path = "/files/{upload_id}", tag = "media", params(("upload_id" = Uuid, Path)),
    responses((status = 204, description = "Terminated"), (status = 404, body = crate::error::Problem),
        (status = 423, body = crate::error::Problem)))]
pub async fn terminate(
    AxState(state): AxState<State>,
    m: Member,
    headers: HeaderMap,
    Path(upload_id): Path<Uuid>,
) -> Response {
    let done = async {
        let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
        tenant.upload(upload_id).await?;
        if let Some(r) = wrong_version(&headers) {
            return Ok(r);
        }
        tenant.terminate_upload(upload_id).await?;
        if let Err(e) = state.blobs.drop_staging(upload_id).await {
            tracing::warn!(error = %e, upload = %upload_id, "an ended upload's bytes stay on disk");
        }
        ApiResult::Ok(answer(StatusCode::NO_CONTENT, Vec::new()))
    };
    match done.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Reads what is left of a refused request's body (up to 16 MiB, for at most 5 s), so that
/// the connection can carry the client's next request; a longer body closes it.
async fn drain(body: Option<Body>) {
    let Some(body) = body else { return };
    let mut stream = body.into_data_stream();
    let mut left: usize = 16 << 20;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(chunk)) = stream.next().await {
            left = left.saturating_sub(chunk.len());
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

/// A process's name for its hold on an upload: unique to this request.
fn holder(state: &State) -> String {
    format!("{}/{}", state.worker_id, Uuid::now_v7().simple())
}

/// Writes `body` into the upload from `offset`, holding it meanwhile, and makes the upload a
/// file once complete. Answers the new offset.
async fn write_bytes(
    state: &State,
    tenant: &Tenant<'_>,
    upload: &Upload,
    offset: i64,
    checksum: Option<(tus::ChecksumAlgorithm, Vec<u8>)>,
    body: &mut Option<Body>,
) -> ApiResult<i64> {
    let me = holder(state);
    tenant.hold_upload(upload.id, offset, &me).await?;
    let mut kept = offset;
    let body = body.take().unwrap_or_else(Body::empty);
    let written = receive(
        state, tenant, upload, offset, checksum, body, &me, &mut kept,
    )
    .await;
    let (received, hash) = match written {
        Ok(n) => n,
        Err(e) => {
            // What was recorded before the failure stays; the hold is given back.
            let _ = tenant.upload_progress(upload.id, &me, kept, true).await;
            return Err(e);
        }
    };
    if received == upload.length && !upload.is_partial() {
        finish(state, tenant, upload, &me, hash).await?;
    } else {
        tenant
            .upload_progress(upload.id, &me, received, true)
            .await?;
    }
    Ok(received)
}

/// The bytes of one request, written to the staging file from `offset`; progress is recorded
/// every `PROGRESS_EVERY` bytes once flushed. Answers where the upload stands after them, and,
/// when this request carried the whole upload, the BLAKE3 hash of its bytes and, for a card's
/// file, their xxh64 (hashed as they arrived, so the file is not read again).
#[allow(clippy::too_many_arguments)]
async fn receive(
    state: &State,
    tenant: &Tenant<'_>,
    upload: &Upload,
    offset: i64,
    checksum: Option<(tus::ChecksumAlgorithm, Vec<u8>)>,
    body: Body,
    me: &str,
    kept: &mut i64,
) -> ApiResult<(i64, Option<Hashed>)> {
    let path = state.blobs.staging_file(upload.id);
    let mut raw = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .await
        .map_err(io_error)?;
    // The bytes recorded as kept must be there: a staging file that lost them (another
    // machine's folder, a damaged disk) is never filled with zeros.
    let on_disk = raw.metadata().await.map_err(io_error)?;
    if on_disk.len() < offset as u64 {
        tracing::error!(upload = %upload.id, recorded = offset, on_disk = on_disk.len(), "an upload's staging file lost bytes it had kept");
        return Err(ApiError::new(Code::StoreUnavailable));
    }
    // Bytes past the offset were never acknowledged: they are written again.
    raw.set_len(offset as u64).await.map_err(io_error)?;
    raw.seek(SeekFrom::Start(offset as u64))
        .await
        .map_err(io_error)?;
    // Written a mebibyte at a time, not a network read at a time.
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, raw);
    let mut whole = (offset == 0).then(blake3::Hasher::new);
    // A card's file is hashed for its ASC MHL history too.
    let mut whole_xxh64 =
        (offset == 0 && upload.ingest_id.is_some()).then(|| mhl::Hasher::new(["xxh64"]));
    let mut sha1 = sha1::Sha1::new();
    let mut sha256 = sha2::Sha256::new();
    let mut at = offset;
    let mut since = 0u64;
    let mut stream = body.into_data_stream();
    let mut broken = false;
    let mut renewed = std::time::Instant::now();
    loop {
        let chunk = match tokio::time::timeout(IDLE, stream.next()).await {
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => chunk,
            // The client went away, or sent nothing for too long: it resumes from what was kept.
            Ok(Some(Err(_))) | Err(_) => {
                broken = true;
                break;
            }
        };
        if at + chunk.len() as i64 > upload.length {
            // Back to what is recorded as kept; none of this request's later bytes stay.
            let file = file.into_inner();
            file.set_len(*kept as u64).await.map_err(io_error)?;
            return Err(rule(MediaRule::PastLength));
        }
        if let Some(h) = whole.as_mut() {
            h.update(&chunk);
        }
        if let Some(h) = whole_xxh64.as_mut() {
            h.update(&chunk);
        }
        match &checksum {
            Some((tus::ChecksumAlgorithm::Sha1, _)) => sha1.update(&chunk),
            Some((tus::ChecksumAlgorithm::Sha256, _)) => sha256.update(&chunk),
            None => {}
        }
        file.write_all(&chunk).await.map_err(io_error)?;
        at += chunk.len() as i64;
        since += chunk.len() as u64;
        // Progress is recorded (and the hold renewed) every so many bytes or seconds; bytes
        // still to be checked against a checksum are not progress yet.
        if since >= PROGRESS_EVERY || renewed.elapsed() >= RENEW_AFTER {
            if checksum.is_none() {
                file.flush().await.map_err(io_error)?;
                file.get_ref().sync_data().await.map_err(io_error)?;
                *kept = at;
            }
            tenant.upload_progress(upload.id, me, *kept, false).await?;
            since = 0;
            renewed = std::time::Instant::now();
        }
    }
    if let Some((alg, want)) = &checksum {
        let got = match alg {
            tus::ChecksumAlgorithm::Sha1 => sha1.finalize().to_vec(),
            tus::ChecksumAlgorithm::Sha256 => sha256.finalize().to_vec(),
        };
        if broken || &got != want {
            // Unflushed bytes are dropped with the buffer; the file goes back to the offset.
            let file = file.into_inner();
            file.set_len(offset as u64).await.map_err(io_error)?;
            return Err(match broken {
                true => ApiError::new(Code::RequestUnreadable),
                false => rule(MediaRule::ChecksumMismatch),
            });
        }
    }
    file.flush().await.map_err(io_error)?;
    file.get_ref().sync_data().await.map_err(io_error)?;
    if broken {
        // The client went away: what arrived is kept, and said where it resumes.
        *kept = at;
        return Err(ApiError::new(Code::RequestUnreadable));
    }
    let hash = whole.filter(|_| at == upload.length).map(|h| {
        (
            h.finalize().to_hex().to_string(),
            whole_xxh64.map(|x| x.finish().remove("xxh64").unwrap_or_default()),
        )
    });
    Ok((at, hash))
}

/// Makes the upload joining the finished partial uploads `parts` (tus `concatenation`): their
/// bytes copied in order into its staging file, then finished as any upload; the parts are let
/// go. On failure nothing of the final upload stays, and its parts can be joined again.
async fn join_parts(
    state: &State,
    tenant: &Tenant<'_>,
    parts: Vec<Uuid>,
    new: NewUpload,
) -> ApiResult<Upload> {
    let me = holder(state);
    let (upload, found) = tenant.create_final_upload(parts.clone(), new, &me).await?;
    let joined = async {
        let path = state.blobs.staging_file(upload.id);
        let mut out = tokio::fs::File::create(&path).await.map_err(io_error)?;
        for part in &found {
            let mut from = tokio::fs::File::open(state.blobs.staging_file(part.id))
                .await
                .map_err(io_error)?;
            // A piece at a time, the holds on the join and its parts renewed in between.
            let mut copied = 0u64;
            loop {
                let piece = (part.length as u64 - copied).min(PROGRESS_EVERY * 4);
                let n = tokio::io::copy(&mut (&mut from).take(piece), &mut out)
                    .await
                    .map_err(io_error)?;
                copied += n;
                if n == 0 || copied == part.length as u64 {
                    break;
                }
                tenant.upload_progress(upload.id, &me, 0, false).await?;
                tenant.renew_parts(parts.clone(), &me).await?;
            }
            if copied != part.length as u64 {
                return Err(io_error(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "the part {} holds {copied} of {} bytes",
                        part.id, part.length
                    ),
                )));
            }
        }
        out.sync_data().await.map_err(io_error)?;
        tenant
            .upload_progress(upload.id, &me, upload.length, false)
            .await?;
        finish(state, tenant, &upload, &me, None).await
    };
    if let Err(e) = joined.await {
        let _ = tenant
            .upload_progress(upload.id, &me, upload.length, true)
            .await;
        let _ = tenant.terminate_upload(upload.id).await;
        let _ = state.blobs.drop_staging(upload.id).await;
        let _ = tenant.release_parts(parts, &me).await;
        return Err(e);
    }
    tenant.drop_parts(parts.clone(), &me).await?;
    for p in parts {
        if let Err(e) = state.blobs.drop_staging(p).await {
            tracing::warn!(error = %e, upload = %p, "a joined part's bytes stay on disk");
        }
    }
    Ok(upload)
}

/// The hashes of a whole upload read as it arrived: BLAKE3, and xxh64 for a card's file.
type Hashed = (String, Option<String>);

/// A complete upload becomes a file: hashed in full, put in the blob store unless the platform
/// has the blob, recorded, and its staging file let go. A card's file is hashed in xxh64 too.
async fn finish(
    state: &State,
    tenant: &Tenant<'_>,
    upload: &Upload,
    me: &str,
    hashed: Option<Hashed>,
) -> ApiResult<()> {
    let path = state.blobs.staging_file(upload.id);
    if upload.length == 0 {
        tokio::fs::File::create(&path).await.map_err(io_error)?;
    }
    // Recorded as complete first: from here no request can write below the end of the file,
    // which is about to become the blob's bytes as well.
    tenant
        .upload_progress(upload.id, me, upload.length, false)
        .await?;
    let card = upload.ingest_id.is_some();
    let stored = async {
        let (hash, xxh64) = match hashed {
            Some((h, x)) if x.is_some() || !card => (h, x),
            _ if card => {
                let (h, x) = blobs::hash_file_xxh64(path.clone(), upload.length as u64).await?;
                (h, Some(x))
            }
            _ => (
                blobs::hash_file(path.clone(), upload.length as u64).await?,
                None,
            ),
        };
        // The hold is renewed after the long read.
        tenant
            .upload_progress(upload.id, me, upload.length, false)
            .await?;
        keep_blob(state, &hash, &path, upload.length).await?;
        Ok::<_, ApiError>((hash, xxh64))
    };
    let (hash, xxh64) = match stored.await {
        Ok(h) => h,
        Err(e) => {
            // Every byte is kept: asking where it stands (HEAD) or sending an empty PATCH at
            // its end finishes it.
            let _ = tenant
                .upload_progress(upload.id, me, upload.length, true)
                .await;
            return Err(e);
        }
    };
    tenant
        .finish_upload(upload.id, me, &hash, xxh64.as_deref())
        .await?;
    if let Err(e) = state.blobs.drop_staging(upload.id).await {
        tracing::warn!(error = %e, upload = %upload.id, "a finished upload's staging file stays");
    }
    Ok(())
}

/// Puts the file at `path` (`size` bytes, hashing to `hash`) in the blob store and records the
/// blob; a blob being collected is waited out, then stored again.
pub(crate) async fn keep_blob(
    state: &State,
    hash: &str,
    path: &std::path::Path,
    size: i64,
) -> ApiResult<()> {
    // The row first: recorded or renewed, it is not collected for `BLOB_GRACE_MS`, so the
    // bytes put next stay.
    for attempt in 0.. {
        if state.store.platform().add_blob(hash, size).await? {
            state.blobs.put_file(hash, path, size).await?;
            return Ok(());
        }
        if attempt == 50 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(ApiError::new(Code::StoreUnavailable))
}

fn io_error(e: std::io::Error) -> ApiError {
    blob_error(blobs::BlobError::Io(e))
}

fn blob_error(e: blobs::BlobError) -> ApiError {
    // A full disk (or a quota of the file system) is said as such: what arrived is kept up to
    // the last progress recorded, and the upload goes on once there is room.
    if let blobs::BlobError::Io(io) = &e
        && (io.kind() == std::io::ErrorKind::StorageFull
            || io.kind() == std::io::ErrorKind::QuotaExceeded)
    {
        tracing::error!(error = %e, "the media storage is full");
        return ApiError::new(Code::MediaStorageFull);
    }
    tracing::error!(error = %e, "media storage failed");
    ApiError::new(Code::StoreUnavailable)
}

impl From<blobs::BlobError> for ApiError {
    fn from(e: blobs::BlobError) -> Self {
        blob_error(e)
    }
}
