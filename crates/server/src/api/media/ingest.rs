//! Camera-card ingests over HTTP: `mstation ingest` (or a page) starts one for a project, sends
//! each file of the card as a tus upload carrying the ingest and the file's path, then ends it
//! with the card's ASC MHL generation: filed at once, or failed filing nothing.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::media::{mhl, names};
use mstation_store::media::MediaRule;
use mstation_store::media::Upload;
use mstation_store::media::ingest::{self, Ingest, IngestEnd, NewIngest, ReadFile, Unfinished};
use mstation_store::{Rule, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{Body, Q};

/// A card to ingest into a project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestInput {
    /// The card's (or folder's) name, e.g. `A001_R1XZ`.
    pub source: String,
    /// How many files, and bytes, it holds.
    pub files: i64,
    pub bytes: i64,
}

/// Starts an ingest of a card into the project; its files are then sent to `/files` with
/// `Upload-Metadata` `ingest` (this ingest's id) and `path` (the file's path on the card).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/ingests", tag = "media",
    params(("project_id" = Uuid, Path)), request_body = IngestInput,
    responses((status = 201, body = Ingest), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn create_ingest(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Body(input): Body<IngestInput>,
) -> ApiResult<Response> {
    let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
    let source = names::file_name(&input.source)
        .map_err(|_| ApiError::invalid("source", "not_a_file_name"))?;
    if input.files < 0 {
        return Err(ApiError::invalid("files", "not_a_number"));
    }
    if input.bytes < 0 {
        return Err(ApiError::invalid("bytes", "not_a_number"));
    }
    let i = tenant
        .create_ingest(NewIngest {
            project_id,
            source,
            files: input.files,
            bytes: input.bytes,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(i)).into_response())
}

/// An upload of an ingest: where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestUpload {
    pub upload_id: Uuid,
    /// Its path on the card.
    pub path: Option<String>,
    pub length: i64,
    pub received: i64,
    /// Its bytes' BLAKE3 hash, once every byte arrived.
    pub blake3: Option<String>,
    /// Its bytes' xxh64 (as ASC MHL writes it), once every byte arrived.
    pub xxh64: Option<String>,
    /// The file it became, once the ingest was filed.
    pub media_file_id: Option<Uuid>,
}

/// An ingest and its uploads.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestView {
    #[serde(flatten)]
    pub ingest: Ingest,
    pub uploads: Vec<IngestUpload>,
}

fn view(i: Ingest, uploads: Vec<Upload>) -> IngestView {
    IngestView {
        ingest: i,
        uploads: uploads
            .into_iter()
            .map(|u| IngestUpload {
                upload_id: u.id,
                path: u.path,
                length: u.length,
                received: u.received,
                blake3: u.blob_hash,
                xxh64: u.xxh64,
                media_file_id: u.media_file_id,
            })
            .collect(),
    }
}

/// An ingest of the organisation, with where each of its uploads stands: what a resumed
/// `mstation ingest` checks before sending a file again.
#[utoipa::path(get, path = "/api/v1/ingests/{ingest_id}", tag = "media",
    params(("ingest_id" = Uuid, Path)),
    responses((status = 200, body = IngestView), (status = 404, body = Problem)))]
pub async fn get_ingest(
    AxState(state): AxState<State>,
    m: Member,
    Path(ingest_id): Path<Uuid>,
) -> ApiResult<Json<IngestView>> {
    let tenant = state.store.tenant(m.may(Permission::ReadOrg)?);
    let (i, uploads) = tenant.ingest(ingest_id).await?;
    Ok(Json(view(i, uploads)))
}

/// How an ingest ends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestFinishInput {
    /// The ASC MHL generation written for this ingest (its XML).
    pub generation: String,
    /// Every file read from the card: its upload, path and BLAKE3 hash as read.
    pub files: Vec<ReadFile>,
    /// Files that failed on the card (mismatching their history, or missing): with any, the
    /// ingest fails and files nothing.
    #[serde(default)]
    pub failed: Vec<String>,
    /// The generations written at the same time in the nested histories of folders on the card
    /// (a card in a day's folder), each one referred to by the generation around it.
    #[serde(default)]
    pub nested: Vec<NestedGeneration>,
}

/// A nested history's generation, written with the ingest's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NestedGeneration {
    /// The folder holding the nested history, from the card's root.
    pub path: String,
    /// The generation's XML.
    pub generation: String,
}

/// Ends an open ingest of the caller's: files every file read at once, when each arrived whole
/// as read (else 409 naming the first that did not), or fails it when files failed on the card.
#[utoipa::path(post, path = "/api/v1/ingests/{ingest_id}/finish", tag = "media",
    params(("ingest_id" = Uuid, Path)), request_body = IngestFinishInput,
    responses((status = 200, body = Ingest), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn finish_ingest(
    AxState(state): AxState<State>,
    m: Member,
    Path(ingest_id): Path<Uuid>,
    Body(input): Body<IngestFinishInput>,
) -> ApiResult<Json<Ingest>> {
    let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
    let (i, uploads) = tenant.ingest(ingest_id).await?;
    end(&tenant, i, uploads, input).await.map(Json)
}

/// Ends the ingest `i` with `input`, checked against its uploads.
async fn end(
    tenant: &mstation_store::Tenant<'_>,
    i: Ingest,
    uploads: Vec<Upload>,
    input: IngestFinishInput,
) -> ApiResult<Ingest> {
    let ingest_id = i.id;
    let generation = mhl::parse_generation(&input.generation).map_err(|e| {
        ApiError::invalid("generation", "not_an_mhl_generation").arg("why", e.to_string())
    })?;
    if input.files.len() > 1_000_000 {
        return Err(ApiError::invalid("files", "at_most_1000000"));
    }
    if input.failed.len() > 1_000_000 {
        return Err(ApiError::invalid("failed", "at_most_1000000"));
    }
    if input.nested.len() > 10_000 {
        return Err(ApiError::invalid("nested", "at_most_10000"));
    }
    // Each nested generation is one a generation around it refers to (by its C4 ID), and its
    // files count as read at their path from the card's root.
    let mut recorded: std::collections::HashMap<String, u64> = generation
        .files
        .iter()
        .map(|g| (g.path.clone(), g.size))
        .collect();
    let mut referred: std::collections::HashSet<(String, String)> = generation
        .references
        .iter()
        .map(|r| (r.path.clone(), r.c4.clone()))
        .collect();
    let mut folders_seen = std::collections::HashSet::new();
    for (n, nested) in input.nested.iter().enumerate() {
        let field = format!("nested[{n}]");
        if !names::is_card_path(&nested.path) {
            return Err(ApiError::invalid(
                &format!("{field}.path"),
                "not_a_path_on_a_card",
            ));
        }
        if !folders_seen.insert(nested.path.as_str()) {
            return Err(ApiError::invalid(
                &format!("{field}.path"),
                "duplicate_folder",
            ));
        }
        let g = mhl::parse_generation(&nested.generation).map_err(|e| {
            ApiError::invalid(&format!("{field}.generation"), "not_an_mhl_generation")
                .arg("why", e.to_string())
        })?;
        let c4 = mhl::c4_id(nested.generation.as_bytes());
        let own = format!("{}/ascmhl/", nested.path);
        if !referred
            .iter()
            .any(|(p, id)| *id == c4 && p.strip_prefix(&own).is_some_and(|f| !f.contains('/')))
        {
            return Err(ApiError::invalid(
                &format!("{field}.generation"),
                "not_referred_to",
            ));
        }
        for f in &g.files {
            recorded.insert(format!("{}/{}", nested.path, f.path), f.size);
        }
        for r in &g.references {
            referred.insert((format!("{}/{}", nested.path, r.path), r.c4.clone()));
        }
    }
    let lengths: std::collections::HashMap<Uuid, i64> =
        uploads.iter().map(|u| (u.id, u.length)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut uploads_seen = std::collections::HashSet::new();
    let mut files = Vec::with_capacity(input.files.len());
    for (n, mut f) in input.files.into_iter().enumerate() {
        let field = format!("files[{n}]");
        if !names::is_card_path(&f.path) {
            return Err(ApiError::invalid(
                &format!("{field}.path"),
                "not_a_path_on_a_card",
            ));
        }
        if f.blake3.len() != 64 || !f.blake3.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::invalid(
                &format!("{field}.blake3"),
                "not_a_blake3_hash",
            ));
        }
        f.blake3.make_ascii_lowercase();
        if !seen.insert(f.path.clone()) || !uploads_seen.insert(f.upload_id) {
            return Err(ApiError::invalid(&field, "duplicate_file"));
        }
        // The generation records what was read, at the size read: a file it does not name, or
        // names at another size, was not part of it.
        match (recorded.get(&f.path), lengths.get(&f.upload_id)) {
            (None, _) => {
                return Err(ApiError::invalid(
                    &format!("{field}.path"),
                    "not_in_the_generation",
                ));
            }
            (Some(size), Some(len)) if *size as i64 != *len => {
                return Err(ApiError::invalid(
                    &format!("{field}.path"),
                    "not_in_the_generation",
                ));
            }
            _ => {}
        }
        files.push(f);
    }
    // Filed whole: every file the generation records is among those read.
    if input.failed.is_empty()
        && let Some(left) = recorded.keys().find(|p| !seen.contains(*p))
    {
        return Err(
            ApiError::invalid("files", "a_file_of_the_generation_is_missing")
                .arg("path", left.to_string()),
        );
    }
    if i.state != "open" {
        return Err(StoreError::Rule(Rule::Media(MediaRule::IngestClosed)).into());
    }
    if input.failed.is_empty()
        && let Some(u) = ingest::unfinished(&uploads, &files)
    {
        let key = match &u {
            Unfinished::NotArrived(_) => "problem-media-ingest_unfinished-not_arrived",
            Unfinished::Differs(_) => "problem-media-ingest_unfinished-differs",
            Unfinished::Unknown(_) => "problem-media-ingest_unfinished-unknown",
        };
        return Err(
            ApiError::new(Code::Rule(Rule::Media(MediaRule::IngestUnfinished)))
                .message(key)
                .arg("path", u.path().to_string()),
        );
    }
    let end = IngestEnd {
        generation: input.generation,
        files,
        failed: input.failed,
        nested: input
            .nested
            .into_iter()
            .map(|n| (n.path, n.generation))
            .collect(),
    };
    Ok(tenant.finish_ingest(ingest_id, end).await?)
}

/// A file of a card sent from a browser.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedFile {
    pub upload_id: Uuid,
    /// Its path on the card.
    pub path: String,
    /// When it was last changed, in milliseconds since 1970 (a browser's `File.lastModified`).
    pub modified_ms: i64,
}

/// A card sent from a browser, every file arrived: the platform writes its ASC MHL generation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestSealInput {
    /// Every file of the card.
    pub files: Vec<SealedFile>,
    /// The card's folders, empty ones included (a folder holding a file need not be named).
    #[serde(default)]
    pub folders: Vec<String>,
}

/// An instant as ASC MHL writes it: `2026-12-06T04:39:45+00:00`.
fn mhl_time(ms: i64) -> Option<String> {
    let t = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(t.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string())
}

/// Whether a path on a card holds a name ASC MHL histories leave out (`.DS_Store`, `ascmhl`).
fn left_out(path: &str) -> bool {
    path.split('/')
        .any(|name| mhl::IGNORED.iter().any(|p| mhl::ignored_by(p, name, false)))
}

/// Ends an open ingest of a card sent from a browser (no history of its own to write into):
/// the platform writes the card's ASC MHL generation from each file's xxh64, read as it arrived,
/// as `mstation mhl create` would of the same folder (same files, hashes and folder hashes), and
/// files every file at once. 409 names a file that has not arrived whole.
#[utoipa::path(post, path = "/api/v1/ingests/{ingest_id}/seal", tag = "media",
    params(("ingest_id" = Uuid, Path)), request_body = IngestSealInput,
    responses((status = 200, body = Ingest), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn seal_ingest(
    AxState(state): AxState<State>,
    m: Member,
    Path(ingest_id): Path<Uuid>,
    Body(input): Body<IngestSealInput>,
) -> ApiResult<Json<Ingest>> {
    let tenant = state.store.tenant(m.may(Permission::WriteProduction)?);
    let (i, uploads) = tenant.ingest(ingest_id).await?;
    if i.state != "open" {
        return Err(StoreError::Rule(Rule::Media(MediaRule::IngestClosed)).into());
    }
    if input.files.len() > 1_000_000 {
        return Err(ApiError::invalid("files", "at_most_1000000"));
    }
    if input.folders.len() > 1_000_000 {
        return Err(ApiError::invalid("folders", "at_most_1000000"));
    }
    let by_id: std::collections::HashMap<Uuid, &Upload> =
        uploads.iter().map(|u| (u.id, u)).collect();
    // Each folder, with the newest change of what it holds (a browser does not see a folder's).
    let mut dirs: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    fn hold(dirs: &mut std::collections::BTreeMap<String, i64>, path: &str, ms: i64) {
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('/') {
            let newest = dirs.entry(parent.to_string()).or_insert(ms);
            *newest = (*newest).max(ms);
            at = parent;
        }
    }
    let mut files = Vec::with_capacity(input.files.len());
    let mut read = Vec::with_capacity(input.files.len());
    for (n, f) in input.files.iter().enumerate() {
        let field = format!("files[{n}]");
        if !names::is_card_path(&f.path) {
            return Err(ApiError::invalid(
                &format!("{field}.path"),
                "not_a_path_on_a_card",
            ));
        }
        if left_out(&f.path) {
            return Err(ApiError::invalid(
                &format!("{field}.path"),
                "left_out_of_histories",
            ));
        }
        let Some(u) = by_id.get(&f.upload_id) else {
            return Err(ApiError::invalid(
                &format!("{field}.upload_id"),
                "not_an_upload_of_this_ingest",
            ));
        };
        if u.path.as_deref() != Some(f.path.as_str()) {
            return Err(ApiError::invalid(
                &format!("{field}.path"),
                "not_the_uploads_path",
            ));
        }
        let Some(modified) = mhl_time(f.modified_ms) else {
            return Err(ApiError::invalid(
                &format!("{field}.modified_ms"),
                "not_a_time",
            ));
        };
        let (Some(blake3), Some(xxh64)) = (&u.blob_hash, &u.xxh64) else {
            return Err(
                ApiError::new(Code::Rule(Rule::Media(MediaRule::IngestUnfinished)))
                    .message("problem-media-ingest_unfinished-not_arrived")
                    .arg("path", f.path.clone()),
            );
        };
        hold(&mut dirs, &f.path, f.modified_ms);
        files.push(mhl::FileHash {
            path: f.path.clone(),
            size: u.length as u64,
            modified,
            hashes: [("xxh64".to_string(), xxh64.clone())].into(),
            action: "original".into(),
        });
        read.push(ReadFile {
            upload_id: f.upload_id,
            path: f.path.clone(),
            blake3: blake3.clone(),
        });
    }
    // A folder with nothing in it (or only folders) is stamped with the ingest's start: a
    // browser does not see when a folder changed.
    for (n, folder) in input.folders.iter().enumerate() {
        if !names::is_card_path(folder) || left_out(folder) {
            return Err(ApiError::invalid(
                &format!("folders[{n}]"),
                "not_a_path_on_a_card",
            ));
        }
        let mut at = folder.as_str();
        loop {
            dirs.entry(at.to_string()).or_insert(i.created_at.0);
            match at.rsplit_once('/') {
                Some((parent, _)) => at = parent,
                None => break,
            }
        }
    }
    // A path is a file or a folder, not both.
    if let Some(n) = files.iter().position(|f| dirs.contains_key(&f.path)) {
        return Err(ApiError::invalid(
            &format!("files[{n}].path"),
            "a_file_and_a_folder",
        ));
    }
    // Written off the async threads: a card may hold a hundred thousand files.
    let generation = tokio::task::spawn_blocking(move || generation_of(files, dirs))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "writing a card's generation stopped");
            ApiError::new(Code::Internal)
        })?;
    let input = IngestFinishInput {
        generation,
        files: read,
        failed: Vec::new(),
        nested: Vec::new(),
    };
    end(&tenant, i, uploads, input).await.map(Json)
}

/// The ASC MHL generation of a card's `files` (xxh64 each) and folders (with when each last
/// changed), as `mstation mhl create` writes it of the same folder: files and folders by path.
fn generation_of(
    mut files: Vec<mhl::FileHash>,
    dirs: std::collections::BTreeMap<String, i64>,
) -> String {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let pairs: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.path.clone(), f.hashes["xxh64"].clone()))
        .collect();
    let dir_list: Vec<String> = dirs.keys().cloned().collect();
    let hashes = mhl::directory_hashes(&pairs, &dir_list);
    let now = jiff::Timestamp::now();
    let g = mhl::Generation {
        created: now.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        hostname: "M-Station".into(),
        tool: "mstation".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        root: hashes.get("").cloned(),
        dirs: dirs
            .iter()
            .filter_map(|(p, ms)| {
                Some(mhl::DirHash {
                    path: p.clone(),
                    modified: mhl_time(*ms)?,
                    hashes: hashes.get(p)?.clone(),
                })
            })
            .collect(),
        files,
        ignore: Vec::new(),
        references: Vec::new(),
        warnings: Vec::new(),
    };
    mhl::write_generation(&g, &now.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GenerationParams {
    /// A folder on the card with a history of its own (a nested history): its generation
    /// written with the ingest, in place of the card's.
    pub folder: Option<String>,
}

/// The ASC MHL generation an ingest ended with, as the card's reader wrote it (or the platform,
/// for a card sealed from a browser); `?folder=` gives a nested history's.
#[utoipa::path(get, path = "/api/v1/ingests/{ingest_id}/generation", tag = "media",
    params(("ingest_id" = Uuid, Path), GenerationParams),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 404, body = Problem)))]
pub async fn ingest_generation(
    AxState(state): AxState<State>,
    m: Member,
    Path(ingest_id): Path<Uuid>,
    Q(p): Q<GenerationParams>,
) -> ApiResult<Response> {
    let tenant = state.store.tenant(m.may(Permission::ReadOrg)?);
    match tenant
        .ingest_generation_in(ingest_id, p.folder.as_deref())
        .await?
    {
        // A download of the text as written, never a document a browser renders.
        Some(xml) => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "sandbox; default-src 'none'".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{ingest_id}.mhl\""),
                ),
            ],
            xml,
        )
            .into_response()),
        None => Err(ApiError::not_found("ingest")),
    }
}
