//! Media: content-addressed blobs kept once across the platform (`blobs`, by BLAKE3 hash), an
//! organisation's files that reference them (`media_files`), and resumable uploads on their way
//! to becoming files (`uploads`, tus 1.0). The bytes live in the blob store (`blobs::BlobStore`);
//! the database decides which blobs exist, and a blob is reached only through a file of the
//! caller's organisation.
//!
//! An upload is held by one server process at a time while it writes (`holder`, `held_until`
//! in the row, taken and given back in the database), so any number of `serve` processes on one
//! database can serve one upload, and one that died lets go when its hold runs out.

pub mod blobs;
pub mod ingest;
pub mod share;
pub mod work;

use mstation_core::media::probe::Probe;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, StoreError,
    Tenant, new_id, now_ms,
};

/// How long an upload may stay unfinished before it expires (tus `expiration`).
pub const UPLOAD_LIFETIME_MS: i64 = 24 * 3600 * 1000;
/// How long a process holds an upload without showing progress; it renews the hold as it writes.
pub const HOLD_MS: i64 = 60_000;
/// How long a blob no file references is kept before it is collected: an upload that stored
/// its bytes is well within it becoming a file.
pub const BLOB_GRACE_MS: i64 = 3600 * 1000;
/// The largest single file an upload may announce: 1 TiB.
pub const MAX_UPLOAD: i64 = 1 << 40;

/// The rules of the media context a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRule {
    /// Another request is writing this upload now.
    UploadBusy,
    /// The request's `Upload-Offset` is not where the upload stands.
    OffsetMismatch,
    /// The upload ran out of time before it was finished.
    UploadExpired,
    /// The bytes sent do not match their `Upload-Checksum`.
    ChecksumMismatch,
    /// More bytes than the upload announced.
    PastLength,
    /// A final upload is made of its parts: it takes no bytes of its own.
    FinalUpload,
    /// A final upload names a part that is not a finished partial upload of the caller's.
    PartsUnfinished,
    /// The upload would take the organisation past its media quota.
    QuotaExceeded,
    /// The ingest was filed or failed already: it takes no more files.
    IngestClosed,
    /// Not every file of the ingest arrived whole, as the reader of the card hashed it.
    IngestUnfinished,
}

impl MediaRule {
    pub const ALL: [MediaRule; 10] = [
        MediaRule::UploadBusy,
        MediaRule::OffsetMismatch,
        MediaRule::UploadExpired,
        MediaRule::ChecksumMismatch,
        MediaRule::PastLength,
        MediaRule::FinalUpload,
        MediaRule::PartsUnfinished,
        MediaRule::QuotaExceeded,
        MediaRule::IngestClosed,
        MediaRule::IngestUnfinished,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            MediaRule::UploadBusy => "media.upload_busy",
            MediaRule::OffsetMismatch => "media.offset_mismatch",
            MediaRule::UploadExpired => "media.upload_expired",
            MediaRule::ChecksumMismatch => "media.checksum_mismatch",
            MediaRule::PastLength => "media.past_length",
            MediaRule::FinalUpload => "media.final_upload",
            MediaRule::PartsUnfinished => "media.parts_unfinished",
            MediaRule::QuotaExceeded => "media.quota_exceeded",
            MediaRule::IngestClosed => "media.ingest_closed",
            MediaRule::IngestUnfinished => "media.ingest_unfinished",
        }
    }
}

/// A file of an organisation: a name, and the blob holding its bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaFile {
    pub id: Uuid,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub content_type: Option<String>,
    /// In bytes.
    pub size: i64,
    /// The BLAKE3 hash of the bytes, 64 hex digits.
    pub hash: String,
    pub created_by: Uuid,
    pub created_at: Millis,
    /// What ffprobe says of it, once its probe job has run.
    pub probe: Option<Probe>,
    /// Why ffprobe could not read it, in ffprobe's words.
    pub probe_error: Option<String>,
    /// Its browser proxy's blob (H.264 MP4), once made.
    pub proxy_hash: Option<String>,
    /// Its poster image's blob (JPEG), once made.
    pub poster_hash: Option<String>,
    /// Its scrub sprite's blob (JPEG: 100 frames evenly spread over its duration, 10 by 10,
    /// each 160 wide, left to right then down), once made.
    pub sprite_hash: Option<String>,
    /// Its sound's waveform (PNG, 1600 by 120), once made, for a file with sound.
    pub waveform_hash: Option<String>,
    /// The camera-card ingest that brought it, if one did.
    pub ingest_id: Option<Uuid>,
    /// Where it was on the card (`A001C003_R1XZ/A001C003.MOV`), if it came from one.
    pub path: Option<String>,
}

impl FromRow for MediaFile {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(MediaFile {
            id: r.get()?,
            project_id: r.get()?,
            name: r.get()?,
            content_type: r.get()?,
            size: r.get()?,
            hash: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
            // Written by this store from a `Probe`; anything else reads as not probed.
            probe: r
                .get::<Option<String>>()?
                .and_then(|j| serde_json::from_str(&j).ok()),
            probe_error: r.get()?,
            proxy_hash: r.get()?,
            poster_hash: r.get()?,
            sprite_hash: r.get()?,
            waveform_hash: r.get()?,
            ingest_id: r.get()?,
            path: r.get()?,
        })
    }
}

pub(crate) const FILE_COLS: &str = "id, project_id, name, content_type, size, hash, created_by, created_at, probe, probe_error, proxy_hash, poster_hash, sprite_hash, waveform_hash, ingest_id, path";

/// The job that reads a new file with ffprobe.
pub const PROBE_JOB: &str = "media.probe";
/// The job that makes a file's browser proxy and poster, after its probe found pictures.
pub const PROXY_JOB: &str = "media.proxy";
/// The job that finds where the shots of a movie change, when someone asks.
pub const CUTS_JOB: &str = "media.cuts";
/// The job that makes a share link's copy of a version, its recipient burnt into every frame.
pub const WATERMARK_JOB: &str = "media.watermark";

/// A resumable upload: what it will be, and how much of it has arrived.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Upload {
    pub id: Uuid,
    pub user_id: Uuid,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub content_type: Option<String>,
    /// The `Upload-Metadata` header it was created with, to give back on `HEAD`.
    pub metadata: String,
    pub length: i64,
    /// The bytes received and kept so far (tus `Upload-Offset`).
    pub received: i64,
    /// The file it became, once complete.
    pub media_file_id: Option<Uuid>,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// `partial` or `final` in a concatenation (tus `Upload-Concat`), else none.
    pub concat: Option<String>,
    /// A final upload's parts, their ids in order separated by spaces.
    pub parts: Option<String>,
    /// The camera-card ingest it is a file of, and the file's path on the card.
    pub ingest_id: Option<Uuid>,
    pub path: Option<String>,
    /// An ingest's complete upload: its blob, until the ingest files it.
    pub blob_hash: Option<String>,
    /// An ingest's complete upload: the xxh64 of its bytes, for the card's ASC MHL history.
    pub xxh64: Option<String>,
    #[serde(skip)]
    pub holder: Option<String>,
    #[serde(skip)]
    pub held_until: Option<i64>,
}

impl FromRow for Upload {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Upload {
            id: r.get()?,
            user_id: r.get()?,
            project_id: r.get()?,
            name: r.get()?,
            content_type: r.get()?,
            metadata: r.get()?,
            length: r.get()?,
            received: r.get()?,
            media_file_id: r.get()?,
            created_at: r.get()?,
            expires_at: r.get()?,
            concat: r.get()?,
            parts: r.get()?,
            ingest_id: r.get()?,
            path: r.get()?,
            blob_hash: r.get()?,
            xxh64: r.get()?,
            holder: r.get()?,
            held_until: r.get()?,
        })
    }
}

const UPLOAD_COLS: &str = "id, user_id, project_id, name, content_type, metadata, length, received, media_file_id, created_at, expires_at, concat, parts, ingest_id, path, blob_hash, xxh64, holder, held_until";

impl Upload {
    pub fn is_complete(&self) -> bool {
        self.received == self.length
    }

    /// A part of a concatenation: complete, it waits for the final upload that joins it.
    pub fn is_partial(&self) -> bool {
        self.concat.as_deref() == Some("partial")
    }

    pub fn is_final(&self) -> bool {
        self.concat.as_deref() == Some("final")
    }

    /// Every byte arrived and is kept as a blob: a file, or an ingest's file waiting for its
    /// ingest to be filed.
    pub fn is_filed(&self) -> bool {
        self.media_file_id.is_some() || self.blob_hash.is_some()
    }
}

/// What a new upload will be.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub project_id: Option<Uuid>,
    pub name: String,
    pub content_type: Option<String>,
    pub metadata: String,
    pub length: i64,
    /// A part of a concatenation, sent on its own.
    pub partial: bool,
    /// A file of this camera-card ingest (of the caller's, still open), at this path on the card.
    pub ingest: Option<(Uuid, String)>,
}

/// What the media browser narrows a project's files to.
#[derive(Debug, Clone, Default)]
pub struct MediaFilter {
    pub reel: Option<String>,
    pub camera: Option<String>,
    /// Uploaded from, to (ms, end excluded).
    pub uploaded: Option<(i64, i64)>,
}

/// How much media an organisation keeps, and may keep.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaUsage {
    /// Bytes of its files and of its unfinished uploads (which are counted when they start).
    pub used: i64,
    /// The most it may keep; none: no limit.
    pub quota: Option<i64>,
}

/// The bytes an organisation ($1) keeps: its files, and the uploads not yet files (a final
/// upload's bytes are its parts').
const USAGE: &str = "SELECT CAST(COALESCE((SELECT SUM(size) FROM media_files WHERE org_id = $1), 0)
     + COALESCE((SELECT SUM(length) FROM uploads WHERE org_id = $1 AND media_file_id IS NULL
         AND (concat IS NULL OR concat <> 'final')), 0) AS BIGINT),
     (SELECT media_quota FROM orgs WHERE id = $1)";

/// Writes a new upload's row, as `u` says.
async fn insert_upload(tx: &mut crate::WriteTx<'_>, org_id: Uuid, u: &Upload) -> Result<()> {
    tx.execute(
        "INSERT INTO uploads (id, org_id, user_id, project_id, name, content_type, metadata,
         length, received, created_at, expires_at, concat, parts, holder, held_until, ingest_id, path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        &[
            u.id.into(),
            org_id.into(),
            u.user_id.into(),
            u.project_id.into(),
            (&u.name).into(),
            u.content_type.clone().into(),
            (&u.metadata).into(),
            u.length.into(),
            u.received.into(),
            u.created_at.0.into(),
            u.expires_at.0.into(),
            u.concat.clone().into(),
            u.parts.clone().into(),
            u.holder.clone().into(),
            u.held_until.into(),
            u.ingest_id.into(),
            u.path.clone().into(),
        ],
    )
    .await?;
    Ok(())
}

/// An upload as its events announce it.
fn announced(u: &Upload) -> serde_json::Value {
    serde_json::json!({
        "id": u.id, "project_id": u.project_id, "name": u.name, "length": u.length,
        "received": u.received, "ingest_id": u.ingest_id, "path": u.path,
    })
}

impl Tenant<'_> {
    /// Starts an upload for the caller.
    pub async fn create_upload(&self, new: NewUpload) -> Result<Upload> {
        if !(0..=MAX_UPLOAD).contains(&new.length) {
            return Err(StoreError::Rule(crate::Rule::Media(MediaRule::PastLength)));
        }
        let scope = self.scope().clone();
        let actor = Actor::of(&scope);
        self.write(move |tx| {
            Box::pin(async move {
                // Uploads of one organisation starting at once take turns here (PostgreSQL), so
                // together they stay inside the quota.
                let text = format!("SELECT id FROM orgs WHERE id = $1{}", tx.lock_rows());
                let _: Option<Uuid> = tx.scalar_opt(&text, &[scope.org_id.into()]).await?;
                let usage: Option<(i64, Option<i64>)> =
                    tx.query_opt(USAGE, &[scope.org_id.into()]).await?;
                if let Some((used, Some(quota))) = usage
                    && used + new.length > quota
                {
                    return Err(StoreError::Rule(crate::Rule::Media(
                        MediaRule::QuotaExceeded,
                    )));
                }
                let mut project_id = new.project_id;
                if let Some((ingest, _)) = &new.ingest {
                    // Held until this commits: an ingest ending now waits for the upload.
                    let text = format!(
                        "SELECT project_id, state FROM ingests
                         WHERE org_id = $1 AND id = $2 AND user_id = $3{}",
                        tx.lock_rows()
                    );
                    let found: Option<(Uuid, String)> = tx
                        .query_opt(
                            &text,
                            &[scope.org_id.into(), (*ingest).into(), scope.user_id.into()],
                        )
                        .await?;
                    match found {
                        None => return Err(StoreError::NotFound { entity: "ingest" }),
                        Some((_, state)) if state != "open" => {
                            return Err(StoreError::Rule(crate::Rule::Media(
                                MediaRule::IngestClosed,
                            )));
                        }
                        // An ingest's files are its project's.
                        Some((p, _)) => project_id = Some(p),
                    }
                }
                if let Some(p) = project_id {
                    let found: Option<Uuid> = tx
                        .scalar_opt(
                            "SELECT id FROM projects WHERE org_id = $1 AND id = $2",
                            &[scope.org_id.into(), p.into()],
                        )
                        .await?;
                    if found.is_none() {
                        return Err(StoreError::NotFound { entity: "project" });
                    }
                }
                let now = now_ms();
                let u = Upload {
                    id: new_id(),
                    user_id: scope.user_id,
                    project_id,
                    name: new.name,
                    content_type: new.content_type,
                    metadata: new.metadata,
                    length: new.length,
                    received: 0,
                    media_file_id: None,
                    created_at: Millis(now),
                    expires_at: Millis(now + UPLOAD_LIFETIME_MS),
                    concat: new.partial.then(|| "partial".to_string()),
                    parts: None,
                    ingest_id: new.ingest.as_ref().map(|(i, _)| *i),
                    path: new.ingest.map(|(_, p)| p),
                    blob_hash: None,
                    xxh64: None,
                    holder: None,
                    held_until: None,
                };
                insert_upload(tx, scope.org_id, &u).await?;
                tx.record(
                    &actor,
                    Change::new(Some(scope.org_id), "upload.created", "upload", u.id)
                        .after(&announced(&u)),
                )
                .await?;
                Ok(u)
            })
        })
        .await
    }

    /// One of the caller's own uploads (another person's is not found).
    pub async fn upload(&self, id: Uuid) -> Result<Upload> {
        let scope = self.scope();
        let text = format!(
            "SELECT {UPLOAD_COLS} FROM uploads WHERE org_id = $1 AND id = $2 AND user_id = $3"
        );
        let u: Option<Upload> = self
            .read_opt(
                &text,
                &[scope.org_id.into(), id.into(), scope.user_id.into()],
            )
            .await?;
        let u = u.ok_or(StoreError::NotFound { entity: "upload" })?;
        if u.media_file_id.is_none() && u.expires_at.0 <= now_ms() {
            return Err(StoreError::Rule(crate::Rule::Media(
                MediaRule::UploadExpired,
            )));
        }
        Ok(u)
    }

    /// Takes the caller's upload for `holder` to write from `offset`: refused while another
    /// request holds it, when `offset` is not where it stands, or once it expired.
    pub async fn hold_upload(&self, id: Uuid, offset: i64, holder: &str) -> Result<Upload> {
        let u = self.upload(id).await?;
        if u.is_final() {
            return Err(StoreError::Rule(crate::Rule::Media(MediaRule::FinalUpload)));
        }
        if u.received != offset {
            return Err(StoreError::Rule(crate::Rule::Media(
                MediaRule::OffsetMismatch,
            )));
        }
        let scope = self.scope().clone();
        let holder = holder.to_string();
        let taken = self
            .write(move |tx| {
                Box::pin(async move {
                    let now = now_ms();
                    Ok(tx
                        .execute(
                            "UPDATE uploads SET holder = $4, held_until = $5
                             WHERE org_id = $1 AND id = $2 AND user_id = $3 AND received = $6
                               AND media_file_id IS NULL AND blob_hash IS NULL
                               AND (holder IS NULL OR held_until < $7)",
                            &[
                                scope.org_id.into(),
                                id.into(),
                                scope.user_id.into(),
                                holder.into(),
                                (now + HOLD_MS).into(),
                                offset.into(),
                                now.into(),
                            ],
                        )
                        .await?)
                })
            })
            .await?;
        if taken == 0 {
            let now = self.upload(id).await?;
            return Err(StoreError::Rule(crate::Rule::Media(
                if now.received != offset || now.is_filed() {
                    MediaRule::OffsetMismatch
                } else {
                    MediaRule::UploadBusy
                },
            )));
        }
        Ok(u)
    }

    /// Records that `received` bytes of the upload are kept (written and flushed), renewing the
    /// hold, or giving it back when `release`. Fails when `holder` no longer holds it.
    pub async fn upload_progress(
        &self,
        id: Uuid,
        holder: &str,
        received: i64,
        release: bool,
    ) -> Result<()> {
        let scope = self.scope().clone();
        let holder = holder.to_string();
        let changed = self
            .write(move |tx| {
                Box::pin(async move {
                    let now = now_ms();
                    let (h, until): (Option<String>, Option<i64>) = match release {
                        true => (None, None),
                        false => (Some(holder.clone()), Some(now + HOLD_MS)),
                    };
                    Ok(tx
                        .execute(
                            "UPDATE uploads SET received = $4, holder = $5, held_until = $6
                             WHERE org_id = $1 AND id = $2 AND holder = $3 AND received <= $4
                               AND length >= $4",
                            &[
                                scope.org_id.into(),
                                id.into(),
                                holder.into(),
                                received.into(),
                                h.into(),
                                until.into(),
                            ],
                        )
                        .await?)
                })
            })
            .await?;
        if changed == 0 {
            return Err(StoreError::Rule(crate::Rule::Media(MediaRule::UploadBusy)));
        }
        Ok(())
    }

    /// Makes a complete upload the organisation's file, whose bytes are the blob `hash` (already
    /// in the blob store and in `blobs`), and gives the hold back. An ingest's upload keeps its
    /// blob until the ingest files it (no file yet: `None`).
    pub async fn finish_upload(
        &self,
        id: Uuid,
        holder: &str,
        hash: &str,
        xxh64: Option<&str>,
    ) -> Result<Option<MediaFile>> {
        let scope = self.scope().clone();
        let actor = Actor::of(&scope);
        let (holder, hash) = (holder.to_string(), hash.to_string());
        let xxh64 = xxh64.map(str::to_string);
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT {UPLOAD_COLS} FROM uploads WHERE org_id = $1 AND id = $2 AND holder = $3"
                );
                let u: Option<Upload> = tx
                    .query_opt(&text, &[scope.org_id.into(), id.into(), holder.into()])
                    .await?;
                let Some(mut u) = u else {
                    return Err(StoreError::Rule(crate::Rule::Media(MediaRule::UploadBusy)));
                };
                if let Some(ingest) = u.ingest_id {
                    tx.execute(
                        "UPDATE uploads SET received = length, blob_hash = $3, xxh64 = $4,
                         holder = NULL, held_until = NULL WHERE org_id = $1 AND id = $2",
                        &[
                            scope.org_id.into(),
                            id.into(),
                            hash.clone().into(),
                            xxh64.clone().into(),
                        ],
                    )
                    .await?;
                    // A card that takes longer than a day to send keeps what arrived while
                    // files still arrive.
                    tx.execute(
                        "UPDATE uploads SET expires_at = $3 WHERE org_id = $1 AND ingest_id = $2
                         AND blob_hash IS NOT NULL AND media_file_id IS NULL",
                        &[
                            scope.org_id.into(),
                            ingest.into(),
                            (now_ms() + UPLOAD_LIFETIME_MS).into(),
                        ],
                    )
                    .await?;
                    u.received = u.length;
                    tx.record(
                        &actor,
                        Change::new(Some(scope.org_id), "upload.completed", "upload", id)
                            .after(&announced(&u)),
                    )
                    .await?;
                    return Ok(None);
                }
                let file = add_file_tx(tx, &actor, scope.org_id, &u, &hash, None).await?;
                tx.execute(
                    "UPDATE uploads SET received = length, media_file_id = $3, holder = NULL,
                     held_until = NULL WHERE org_id = $1 AND id = $2",
                    &[scope.org_id.into(), id.into(), file.id.into()],
                )
                .await?;
                u.received = u.length;
                u.media_file_id = Some(file.id);
                tx.record(
                    &actor,
                    Change::new(Some(scope.org_id), "upload.completed", "upload", id)
                        .after(&announced(&u)),
                )
                .await?;
                Ok(Some(file))
            })
        })
        .await
    }

    /// Starts the upload made of the caller's finished partial uploads `parts`, in order (tus
    /// `concatenation`), held by `holder` while it joins them. Answers it with its parts.
    pub async fn create_final_upload(
        &self,
        parts: Vec<Uuid>,
        new: NewUpload,
        holder: &str,
    ) -> Result<(Upload, Vec<Upload>)> {
        let scope = self.scope().clone();
        let actor = Actor::of(&scope);
        let holder = holder.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let now = now_ms();
                let text = format!(
                    "SELECT {UPLOAD_COLS} FROM uploads WHERE org_id = $1 AND id = $2 AND user_id = $3"
                );
                let mut found = Vec::with_capacity(parts.len());
                for p in &parts {
                    let part: Option<Upload> = tx
                        .query_opt(&text, &[scope.org_id.into(), (*p).into(), scope.user_id.into()])
                        .await?;
                    let part = part.ok_or(StoreError::NotFound { entity: "upload" })?;
                    let held = part.holder.is_some() && part.held_until.is_some_and(|t| t >= now);
                    if !part.is_partial() || !part.is_complete() || held || part.expires_at.0 <= now {
                        return Err(StoreError::Rule(crate::Rule::Media(MediaRule::PartsUnfinished)));
                    }
                    found.push(part);
                }
                // The parts are this join's until it ends: another join, an expiry or an end
                // of one of them waits.
                for p in &parts {
                    let n = tx
                        .execute(
                            "UPDATE uploads SET holder = $3, held_until = $4
                             WHERE org_id = $1 AND id = $2 AND (holder IS NULL OR held_until < $5)",
                            &[
                                scope.org_id.into(),
                                (*p).into(),
                                holder.clone().into(),
                                (now + HOLD_MS).into(),
                                now.into(),
                            ],
                        )
                        .await?;
                    if n == 0 {
                        return Err(StoreError::Rule(crate::Rule::Media(MediaRule::PartsUnfinished)));
                    }
                }
                let length: i64 = found.iter().map(|p| p.length).sum();
                if length > MAX_UPLOAD {
                    return Err(StoreError::Rule(crate::Rule::Media(MediaRule::PastLength)));
                }
                let ids: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
                let u = Upload {
                    id: new_id(),
                    user_id: scope.user_id,
                    project_id: new.project_id,
                    name: new.name,
                    content_type: new.content_type,
                    metadata: new.metadata,
                    length,
                    received: 0,
                    media_file_id: None,
                    created_at: Millis(now),
                    expires_at: Millis(now + UPLOAD_LIFETIME_MS),
                    concat: Some("final".into()),
                    parts: Some(ids.join(" ")),
                    ingest_id: None,
                    path: None,
                    blob_hash: None,
                    xxh64: None,
                    holder: Some(holder.clone()),
                    held_until: Some(now + HOLD_MS),
                };
                if let Some(p) = u.project_id {
                    let project: Option<Uuid> = tx
                        .scalar_opt(
                            "SELECT id FROM projects WHERE org_id = $1 AND id = $2",
                            &[scope.org_id.into(), p.into()],
                        )
                        .await?;
                    if project.is_none() {
                        return Err(StoreError::NotFound { entity: "project" });
                    }
                }
                insert_upload(tx, scope.org_id, &u).await?;
                tx.record(
                    &actor,
                    Change::new(Some(scope.org_id), "upload.created", "upload", u.id)
                        .after(&announced(&u)),
                )
                .await?;
                Ok((u, found))
            })
        })
        .await
    }

    /// Renews the hold of a join on its parts; refused when one is no longer its own.
    pub async fn renew_parts(&self, parts: Vec<Uuid>, holder: &str) -> Result<()> {
        self.held_parts(
            parts,
            holder,
            "UPDATE uploads SET held_until = $4 WHERE org_id = $1 AND id = $2 AND holder = $3",
            true,
        )
        .await
    }

    /// Gives back the parts a join that failed held.
    pub async fn release_parts(&self, parts: Vec<Uuid>, holder: &str) -> Result<()> {
        self.held_parts(
            parts,
            holder,
            "UPDATE uploads SET holder = NULL, held_until = NULL
             WHERE org_id = $1 AND id = $2 AND holder = $3 AND $4 > 0",
            false,
        )
        .await
    }

    /// Forgets the partial uploads a finished final upload (held by `holder`) was made of.
    pub async fn drop_parts(&self, parts: Vec<Uuid>, holder: &str) -> Result<()> {
        self.held_parts(
            parts,
            holder,
            "DELETE FROM uploads WHERE org_id = $1 AND id = $2 AND concat = 'partial'
             AND holder = $3 AND $4 > 0",
            false,
        )
        .await
    }

    /// Runs `text` ($1 organisation, $2 part, $3 holder, $4 a new end of the hold) on each of
    /// the parts a join holds, in one write; with `all`, a part no longer held is refused.
    async fn held_parts(
        &self,
        parts: Vec<Uuid>,
        holder: &str,
        text: &'static str,
        all: bool,
    ) -> Result<()> {
        let scope = self.scope().clone();
        let holder = holder.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let until = now_ms() + HOLD_MS;
                for p in parts {
                    let args = [
                        scope.org_id.into(),
                        p.into(),
                        holder.clone().into(),
                        until.into(),
                    ];
                    if tx.execute(text, &args).await? == 0 && all {
                        return Err(StoreError::Rule(crate::Rule::Media(MediaRule::UploadBusy)));
                    }
                }
                Ok(())
            })
        })
        .await
    }

    /// Ends one of the caller's unfinished uploads (tus `termination`); its bytes are the
    /// caller's to delete. Refused while a request writes it.
    pub async fn terminate_upload(&self, id: Uuid) -> Result<Upload> {
        let u = self.upload(id).await?;
        let scope = self.scope().clone();
        let actor = Actor::of(&scope);
        let gone = u.clone();
        let deleted = self
            .write(move |tx| {
                Box::pin(async move {
                    let n = tx
                        .execute(
                            "DELETE FROM uploads WHERE org_id = $1 AND id = $2 AND user_id = $3
                             AND media_file_id IS NULL AND (holder IS NULL OR held_until < $4)",
                            &[
                                scope.org_id.into(),
                                id.into(),
                                scope.user_id.into(),
                                now_ms().into(),
                            ],
                        )
                        .await?;
                    if n > 0 {
                        tx.record(
                            &actor,
                            Change::new(Some(scope.org_id), "upload.terminated", "upload", id)
                                .before(&announced(&gone)),
                        )
                        .await?;
                    }
                    Ok(n)
                })
            })
            .await?;
        if deleted == 0 {
            // Finished (a file now: delete that instead) or being written.
            return Err(StoreError::Rule(crate::Rule::Media(
                if u.media_file_id.is_some() {
                    MediaRule::OffsetMismatch
                } else {
                    MediaRule::UploadBusy
                },
            )));
        }
        Ok(u)
    }

    /// A project's files as the media browser shows them, newest first: of one reel, of one
    /// camera, uploaded between two instants (ms, end excluded), as asked.
    pub async fn browse_media(
        &self,
        project_id: Uuid,
        by: &MediaFilter,
        q: &ListQuery,
    ) -> Result<Page<MediaFile>> {
        let mut args = vec![self.org_id().into(), project_id.into()];
        let mut filter = "org_id = $1 AND project_id = $2".to_string();
        for (col, v) in [("reel", &by.reel), ("camera", &by.camera)] {
            if let Some(v) = v {
                args.push(v.clone().into());
                filter.push_str(&format!(" AND {col} = ${}", args.len()));
            }
        }
        if let Some((from, to)) = by.uploaded {
            args.push(from.into());
            filter.push_str(&format!(" AND created_at >= ${}", args.len()));
            args.push(to.into());
            filter.push_str(&format!(" AND created_at < ${}", args.len()));
        }
        self.page(
            FILE_COLS,
            "media_files",
            &filter,
            args,
            q,
            |f: &MediaFile| f.id,
        )
        .await
    }

    /// The reels and cameras of a project's files, for the browser to offer, in order.
    pub async fn media_reels(&self, project_id: Uuid) -> Result<(Vec<String>, Vec<String>)> {
        let args = [self.org_id().into(), project_id.into()];
        let reels: Vec<(String,)> = self
            .read(
                "SELECT DISTINCT reel FROM media_files WHERE org_id = $1 AND project_id = $2
                 AND reel IS NOT NULL ORDER BY reel LIMIT 1000",
                &args,
            )
            .await?;
        let cameras: Vec<(String,)> = self
            .read(
                "SELECT DISTINCT camera FROM media_files WHERE org_id = $1 AND project_id = $2
                 AND camera IS NOT NULL ORDER BY camera LIMIT 100",
                &args,
            )
            .await?;
        Ok((
            reels.into_iter().map(|(r,)| r).collect(),
            cameras.into_iter().map(|(c,)| c).collect(),
        ))
    }

    /// The organisation's files, newest first, of one project when given.
    pub async fn media_files(
        &self,
        project_id: Option<Uuid>,
        q: &ListQuery,
    ) -> Result<Page<MediaFile>> {
        let mut args = vec![self.org_id().into()];
        let mut filter = "org_id = $1".to_string();
        if let Some(p) = project_id {
            args.push(p.into());
            filter.push_str(" AND project_id = $2");
        }
        self.page(
            FILE_COLS,
            "media_files",
            &filter,
            args,
            q,
            |f: &MediaFile| f.id,
        )
        .await
    }

    /// The caller's uploads not finished yet (of one project when given), oldest first: what a
    /// page offers to resume. Parts of a parallel upload and joined uploads are their client's.
    pub async fn open_uploads(&self, project_id: Option<Uuid>) -> Result<Vec<Upload>> {
        let scope = self.scope();
        let mut args = vec![scope.org_id.into(), scope.user_id.into(), now_ms().into()];
        let mut text = format!(
            "SELECT {UPLOAD_COLS} FROM uploads WHERE org_id = $1 AND user_id = $2
             AND media_file_id IS NULL AND concat IS NULL AND ingest_id IS NULL AND expires_at > $3"
        );
        if let Some(p) = project_id {
            args.push(p.into());
            text.push_str(" AND project_id = $4");
        }
        text.push_str(" ORDER BY created_at, id LIMIT 100");
        self.read(&text, &args).await
    }

    /// How much media the organisation keeps, and may keep.
    pub async fn media_usage(&self) -> Result<MediaUsage> {
        let (used, quota): (i64, Option<i64>) = self
            .read_opt(USAGE, &[self.org_id().into()])
            .await?
            .unwrap_or((0, None));
        Ok(MediaUsage { used, quota })
    }

    /// One file of the organisation.
    pub async fn media_file(&self, id: Uuid) -> Result<MediaFile> {
        self.one(FILE_COLS, "media_files", id, "media file").await
    }

    /// The camera files of the shot's project that hold its source: the reel its cut names,
    /// its source timecode within theirs (`core::media::relink`), newest first, with where the
    /// shot starts in each.
    pub async fn shot_camera_files(&self, shot_id: Uuid) -> Result<Vec<CameraFile>> {
        use mstation_core::media::relink;
        let shot = self.shot(shot_id).await?;
        let (Some(reel), Some(source_in), Some(source_out)) =
            (shot.reel.as_deref(), shot.source_in, shot.source_out)
        else {
            return Ok(Vec::new());
        };
        let Some(rate) = self.project(shot.project_id).await?.rate() else {
            return Ok(Vec::new());
        };
        // Narrowed in the database to files whose reel or name begins as the shot's reel
        // does (a superset of the matches `relink::reel_matches` then decides).
        let head = reel.trim().to_uppercase();
        let len = head.chars().count() as i64;
        let text = format!(
            "SELECT {FILE_COLS} FROM media_files WHERE org_id = $1 AND project_id = $2
             AND probe IS NOT NULL
             AND (upper(substr(reel, 1, CAST($3 AS INTEGER))) = $4
                  OR upper(substr(name, 1, CAST($3 AS INTEGER))) = $4)
             ORDER BY id DESC LIMIT 1000"
        );
        let files: Vec<MediaFile> = self
            .read(
                &text,
                &[
                    self.org_id().into(),
                    shot.project_id.into(),
                    len.into(),
                    head.into(),
                ],
            )
            .await?;
        let mut out = Vec::new();
        for file in files {
            let Some(p) = &file.probe else { continue };
            let (Some(tc), Some(v)) = (p.timecode.as_deref(), p.video.as_ref()) else {
                continue;
            };
            if !relink::reel_matches(reel, p.reel.as_deref(), &file.name) {
                continue;
            }
            // The cut counts source frames at the project's rate: a file at another rate
            // cannot be placed frame for frame.
            if let Some([num, den]) = v.fps
                && (u32::try_from(num).ok(), u32::try_from(den).ok())
                    != (Some(rate.num()), Some(rate.den()))
            {
                continue;
            }
            let frames = v.frames.or_else(|| {
                Some((p.duration? * f64::from(rate.num()) / f64::from(rate.den())).round() as i64)
            });
            let Some(frames) = frames else { continue };
            if let Some(offset) = relink::offset_in_file(source_in, source_out, tc, frames, rate) {
                out.push(CameraFile {
                    offset_frames: offset,
                    offset_seconds: rate.seconds(offset),
                    fps: [i64::from(rate.num()), i64::from(rate.den())],
                    file,
                });
            }
        }
        Ok(out)
    }
}

/// A camera file holding a shot's source, and where the shot starts in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CameraFile {
    pub file: MediaFile,
    /// Frames from the file's first frame to the shot's source in.
    pub offset_frames: i64,
    /// The same in seconds: where that frame starts.
    pub offset_seconds: f64,
    /// The file's frame rate (the project's), as a rational.
    pub fps: [i64; 2],
}

impl Platform<'_> {
    /// Sets how many bytes of media the organisation may keep (none: no limit). What it keeps
    /// already stays; new uploads past the quota are refused.
    pub async fn set_media_quota(
        &self,
        actor: &Actor,
        org_id: Uuid,
        quota: Option<i64>,
    ) -> Result<()> {
        if quota.is_some_and(|q| q < 0) {
            return Err(mstation_core::validate::FieldError::new("quota", "out_of_range").into());
        }
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let n = tx
                    .execute(
                        "UPDATE orgs SET media_quota = $2 WHERE id = $1",
                        &[org_id.into(), quota.into()],
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "organisation",
                    });
                }
                tx.record(
                    &actor,
                    Change::new(Some(org_id), "org.media_quota_set", "org", org_id)
                        .after(&serde_json::json!({"media_quota": quota})),
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Blobs no file references that are older than `before` (ms): crumbs of uploads that
    /// stopped between storing their bytes and becoming a file, and of files deleted; and any
    /// whose collection stopped half-way.
    pub async fn unreferenced_blobs(&self, before: i64, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self
            .read(
                "SELECT hash FROM blobs b WHERE (created_at < $1 OR dying = 1)
                 AND NOT EXISTS (SELECT 1 FROM media_files f WHERE f.hash = b.hash OR f.proxy_hash = b.hash OR f.poster_hash = b.hash OR f.sprite_hash = b.hash OR f.waveform_hash = b.hash)
                 AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.blob_hash = b.hash)
                 AND NOT EXISTS (SELECT 1 FROM share_link_media s JOIN share_links l ON l.id = s.link_id
                                 WHERE s.hash = b.hash AND l.revoked_at IS NULL AND l.expires_at > $3)
                 AND NOT EXISTS (SELECT 1 FROM market_listings m WHERE m.preview_hash = b.hash) LIMIT $2",
                &[before.into(), limit.into(), now_ms().into()],
            )
            .await?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    /// Marks the blob `hash` as being collected if still no file references it (and it is
    /// older than `before`, or marked already): its bytes are then the caller's to delete,
    /// before `forget_blob`. An upload of the same bytes waits until the row is gone.
    pub async fn collect_blob(&self, hash: &str, before: i64) -> Result<bool> {
        let hash = hash.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                Ok(tx
                    .execute(
                        "UPDATE blobs SET dying = 1 WHERE hash = $1 AND (created_at < $2 OR dying = 1)
                         AND NOT EXISTS (SELECT 1 FROM media_files f WHERE f.hash = $1 OR f.proxy_hash = $1 OR f.poster_hash = $1 OR f.sprite_hash = $1 OR f.waveform_hash = $1)
                         AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.blob_hash = $1)
                         AND NOT EXISTS (SELECT 1 FROM share_link_media s JOIN share_links l ON l.id = s.link_id
                                         WHERE s.hash = $1 AND l.revoked_at IS NULL AND l.expires_at > $3)
                         AND NOT EXISTS (SELECT 1 FROM market_listings m WHERE m.preview_hash = $1)",
                        &[hash.into(), before.into(), now_ms().into()],
                    )
                    .await?
                    > 0)
            })
        })
        .await
    }

    /// Forgets a collected blob whose bytes are deleted.
    pub async fn forget_blob(&self, hash: &str) -> Result<()> {
        let hash = hash.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "DELETE FROM blobs WHERE hash = $1 AND dying = 1",
                    &[hash.into()],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The size of the blob `hash`, if known.
    pub async fn blob_size(&self, hash: &str) -> Result<Option<i64>> {
        self.scalar_opt("SELECT size FROM blobs WHERE hash = $1", &[hash.into()])
            .await
    }

    /// Whether the blob `hash` is known (its bytes are in the blob store).
    pub async fn blob_known(&self, hash: &str) -> Result<bool> {
        let found: Option<String> = self
            .scalar_opt("SELECT hash FROM blobs WHERE hash = $1", &[hash.into()])
            .await?;
        Ok(found.is_some())
    }

    /// Records the blob `hash` of `size` bytes, after its bytes were put in the blob store, or
    /// renews a known one (so it is not collected from under a file about to reference it).
    /// `false` while the blob is being collected: put the bytes again once it is gone.
    pub async fn add_blob(&self, hash: &str, size: i64) -> Result<bool> {
        let hash = hash.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                Ok(tx
                    .execute(
                        "INSERT INTO blobs (hash, size, created_at) VALUES ($1, $2, $3)
                         ON CONFLICT (hash) DO UPDATE SET created_at = $3 WHERE blobs.dying = 0",
                        &[hash.into(), size.into(), now_ms().into()],
                    )
                    .await?
                    > 0)
            })
        })
        .await
    }

    /// Unfinished uploads whose time ran out (and that nobody is writing), oldest first.
    pub async fn expired_uploads(&self, limit: i64) -> Result<Vec<(Uuid, Uuid)>> {
        let now = now_ms();
        self.read(
            "SELECT id, org_id FROM uploads WHERE expires_at <= $1 AND media_file_id IS NULL
             AND (holder IS NULL OR held_until < $1) ORDER BY expires_at LIMIT $2",
            &[now.into(), limit.into()],
        )
        .await
    }

    /// Forgets an expired upload, announcing it to its organisation.
    pub async fn expire_upload(&self, id: Uuid, org_id: Uuid) -> Result<bool> {
        self.write(move |tx| {
            Box::pin(async move {
                let n = tx
                    .execute(
                        "DELETE FROM uploads WHERE id = $1 AND expires_at <= $2 AND media_file_id IS NULL
                         AND (holder IS NULL OR held_until < $2)",
                        &[id.into(), now_ms().into()],
                    )
                    .await?;
                if n > 0 {
                    tx.record(
                        &Actor::system(),
                        Change::new(Some(org_id), "upload.expired", "upload", id)
                            .after(&serde_json::json!({"id": id})),
                    )
                    .await?;
                }
                Ok(n > 0)
            })
        })
        .await
    }
}

/// Records what ffprobe said of the organisation's file (or why it could not read it), queues
/// its proxy when it has pictures, and announces it (`media.probed`, `media.probe_failed`).
pub(crate) async fn probe_tx(
    tx: &mut crate::WriteTx<'_>,
    org_id: Uuid,
    media_file_id: Uuid,
    outcome: &std::result::Result<Probe, String>,
) -> Result<()> {
    let (probe, error) = match outcome {
        Ok(p) => (Some(serde_json::to_string(p).unwrap_or_default()), None),
        Err(e) => (None, Some(e.clone())),
    };
    let reel = outcome
        .as_ref()
        .ok()
        .and_then(|p| p.reel.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let camera = reel
        .as_deref()
        .and_then(mstation_core::media::relink::camera_of);
    let n = tx
        .execute(
            "UPDATE media_files SET probe = $3, probe_error = $4, reel = $5, camera = $6,
             version = version + 1 WHERE org_id = $1 AND id = $2",
            &[
                org_id.into(),
                media_file_id.into(),
                probe.into(),
                error.into(),
                reel.into(),
                camera.into(),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "media file",
        });
    }
    if let Ok(Probe {
        video: Some(v),
        duration,
        timecode,
        audio,
        ..
    }) = outcome
    {
        let hash: Option<String> = tx
            .scalar_opt(
                "SELECT hash FROM media_files WHERE org_id = $1 AND id = $2",
                &[org_id.into(), media_file_id.into()],
            )
            .await?;
        crate::jobs::insert_job(
            tx,
            &crate::jobs::NewJob {
                org_id: Some(org_id),
                kind: PROXY_JOB.into(),
                payload: serde_json::json!({"media_file_id": media_file_id,
                    "hash": hash, "duration": duration, "timecode": timecode,
                    "sound": !audio.is_empty(), "width": v.width, "height": v.height}),
                priority: 0,
                max_attempts: 3,
                run_after: None,
            },
        )
        .await?;
    }
    let (kind, after) = match outcome {
        Ok(p) => (
            "media.probed",
            serde_json::json!({"id": media_file_id, "probe": p}),
        ),
        Err(e) => (
            "media.probe_failed",
            serde_json::json!({"id": media_file_id, "reason": e}),
        ),
    };
    tx.record(
        &Actor::system(),
        Change::new(Some(org_id), kind, "media_file", media_file_id).after(&after),
    )
    .await?;
    Ok(())
}

/// What a proxy job made of a file: blobs, already recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Derived {
    pub proxy_hash: String,
    pub poster_hash: String,
    pub sprite_hash: Option<String>,
    pub waveform_hash: Option<String>,
}

/// Records a file's browser proxy, poster, sprite and waveform (blobs already recorded) and
/// announces them.
/// Inside a write: keeps what cut detection found in the file.
pub(crate) async fn cuts_tx(
    tx: &mut crate::WriteTx<'_>,
    org_id: Uuid,
    media_file_id: Uuid,
    cutting: &mstation_core::media::cuts::Cutting,
) -> Result<()> {
    let json = serde_json::to_string(cutting).unwrap_or_default();
    let n = tx
        .execute(
            "UPDATE media_files SET cuts = $3, version = version + 1 WHERE org_id = $1 AND id = $2",
            &[org_id.into(), media_file_id.into(), json.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "media file",
        });
    }
    tx.record(
        &Actor::system(),
        Change::new(
            Some(org_id),
            "media.cuts_found",
            "media_file",
            media_file_id,
        )
        .after(
            &serde_json::json!({"id": media_file_id, "frames": cutting.frames,
                "transitions": cutting.transitions.len()}),
        ),
    )
    .await?;
    Ok(())
}

impl Tenant<'_> {
    /// Asks for the changes of shot in the file `id` to be found (a `media.cuts` job). The file
    /// must have been read by ffprobe and hold pictures. Answers the job's id.
    pub async fn find_cuts(&self, id: Uuid) -> Result<Uuid> {
        let file = self.media_file(id).await?;
        match &file.probe {
            None if file.probe_error.is_some() => {
                return Err(mstation_core::validate::FieldError::new(
                    "media_file",
                    "not_readable_media",
                )
                .into());
            }
            None => {
                return Err(
                    mstation_core::validate::FieldError::new("media_file", "not_read_yet").into(),
                );
            }
            Some(p) if p.video.is_none() => {
                return Err(
                    mstation_core::validate::FieldError::new("media_file", "no_picture").into(),
                );
            }
            Some(_) => {}
        }
        // Asked again while it looks: the same job.
        if let (_, Some(job)) = self.media_cuts(id).await?
            && let Ok(j) = self.job(job).await
            && matches!(j.status.as_str(), "queued" | "running")
        {
            return Ok(job);
        }
        let scope = self.scope().clone();
        let hash = file.hash.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let job = crate::jobs::insert_job(
                    tx,
                    &crate::jobs::NewJob {
                        org_id: Some(scope.org_id),
                        kind: CUTS_JOB.into(),
                        payload: serde_json::json!({"media_file_id": id, "hash": hash,
                            "asked_by": scope.user_id}),
                        priority: 0,
                        max_attempts: 3,
                        run_after: None,
                    },
                )
                .await?;
                tx.execute(
                    "UPDATE media_files SET cuts_job = $3 WHERE org_id = $1 AND id = $2",
                    &[scope.org_id.into(), id.into(), job.into()],
                )
                .await?;
                Ok(job)
            })
        })
        .await
    }

    /// What cut detection found in the file `id`, once it has looked, and the last job asked
    /// to look.
    pub async fn media_cuts(
        &self,
        id: Uuid,
    ) -> Result<(Option<mstation_core::media::cuts::Cutting>, Option<Uuid>)> {
        self.media_file(id).await?;
        let rows: Vec<(Option<String>, Option<Uuid>)> = self
            .read(
                "SELECT cuts, cuts_job FROM media_files WHERE org_id = $1 AND id = $2",
                &[self.org_id().into(), id.into()],
            )
            .await?;
        let (found, job) = rows.into_iter().next().unwrap_or((None, None));
        Ok((found.and_then(|j| serde_json::from_str(&j).ok()), job))
    }
}

pub(crate) async fn proxy_tx(
    tx: &mut crate::WriteTx<'_>,
    org_id: Uuid,
    media_file_id: Uuid,
    d: &Derived,
) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE media_files SET proxy_hash = $3, poster_hash = $4, sprite_hash = $5,
             waveform_hash = $6, version = version + 1 WHERE org_id = $1 AND id = $2",
            &[
                org_id.into(),
                media_file_id.into(),
                (&d.proxy_hash).into(),
                (&d.poster_hash).into(),
                d.sprite_hash.clone().into(),
                d.waveform_hash.clone().into(),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "media file",
        });
    }
    let mut after = serde_json::to_value(d).unwrap_or_default();
    after["id"] = serde_json::json!(media_file_id);
    tx.record(
        &Actor::system(),
        Change::new(Some(org_id), "media.proxied", "media_file", media_file_id).after(&after),
    )
    .await?;
    // Live share links waiting for this file's version get their copy made now.
    share::fill_in_tx(tx, org_id, media_file_id, &d.proxy_hash).await
}

/// Inside a platform write: `from`'s file `id` becomes a file of `to` too (a vendor's work
/// handed in to a production): a new row on the same blob, of `to`'s project `project`, with
/// what was made of it already, counted against `to`'s quota. A probe is queued for the copy
/// while its proxy is still to come. Not found unless the file is `from`'s.
pub(crate) async fn copy_file_tx(
    tx: &mut crate::WriteTx<'_>,
    actor: &Actor,
    from: Uuid,
    id: Uuid,
    to: Uuid,
    project: Uuid,
) -> Result<MediaFile> {
    let text = format!("SELECT {FILE_COLS} FROM media_files WHERE org_id = $1 AND id = $2");
    let mut file: MediaFile = tx
        .query_opt(&text, &[from.into(), id.into()])
        .await?
        .ok_or(StoreError::NotFound {
            entity: "media file",
        })?;
    let text = format!("SELECT id FROM orgs WHERE id = $1{}", tx.lock_rows());
    let _: Option<Uuid> = tx.scalar_opt(&text, &[to.into()]).await?;
    let usage: Option<(i64, Option<i64>)> = tx.query_opt(USAGE, &[to.into()]).await?;
    if let Some((used, Some(quota))) = usage
        && used + file.size > quota
    {
        return Err(StoreError::Rule(crate::Rule::Media(
            MediaRule::QuotaExceeded,
        )));
    }
    let now = now_ms();
    file.id = new_id();
    file.project_id = Some(project);
    file.created_by = actor.user_id.unwrap_or(file.created_by);
    file.created_at = Millis(now);
    file.ingest_id = None;
    file.path = None;
    let probe = file
        .probe
        .as_ref()
        .map(|p| serde_json::to_string(p).unwrap_or_default());
    tx.execute(
        "INSERT INTO media_files (id, org_id, project_id, name, content_type, size, hash,
         created_by, created_at, probe, probe_error, proxy_hash, poster_hash, sprite_hash,
         waveform_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            file.id.into(),
            to.into(),
            file.project_id.into(),
            (&file.name).into(),
            file.content_type.clone().into(),
            file.size.into(),
            (&file.hash).into(),
            file.created_by.into(),
            now.into(),
            probe.into(),
            file.probe_error.clone().into(),
            file.proxy_hash.clone().into(),
            file.poster_hash.clone().into(),
            file.sprite_hash.clone().into(),
            file.waveform_hash.clone().into(),
        ],
    )
    .await?;
    tx.record(
        actor,
        Change::new(Some(to), "media.added", "media_file", file.id).after(&file),
    )
    .await?;
    if file.proxy_hash.is_none() && file.probe_error.is_none() {
        queue_probe(tx, to, &file).await?;
    }
    Ok(file)
}

/// Inside a write: `org`'s new file `file` is read by ffprobe on the job queue once this
/// commits (and its proxy made after, when it has pictures).
async fn queue_probe(tx: &mut crate::WriteTx<'_>, org: Uuid, file: &MediaFile) -> Result<()> {
    crate::jobs::insert_job(
        tx,
        &crate::jobs::NewJob {
            org_id: Some(org),
            kind: PROBE_JOB.into(),
            payload: serde_json::json!({"media_file_id": file.id, "hash": file.hash}),
            priority: 0,
            max_attempts: 3,
            run_after: None,
        },
    )
    .await?;
    Ok(())
}

/// Makes the complete upload `u` (its bytes the blob `hash`) a file of the organisation, of the
/// ingest `ingest` when given (keeping its path on the card): the row, `media.added`, and its
/// probe job, read by ffprobe on the job queue once this commits.
pub(crate) async fn add_file_tx(
    tx: &mut crate::WriteTx<'_>,
    actor: &Actor,
    org_id: Uuid,
    u: &Upload,
    hash: &str,
    ingest: Option<(Uuid, Uuid)>,
) -> Result<MediaFile> {
    let now = now_ms();
    let file = MediaFile {
        id: new_id(),
        project_id: ingest.map(|(_, project)| project).or(u.project_id),
        name: u.name.clone(),
        content_type: u.content_type.clone(),
        size: u.length,
        hash: hash.to_string(),
        created_by: u.user_id,
        created_at: Millis(now),
        probe: None,
        probe_error: None,
        proxy_hash: None,
        poster_hash: None,
        sprite_hash: None,
        waveform_hash: None,
        ingest_id: ingest.map(|(id, _)| id),
        path: ingest.and(u.path.clone()),
    };
    tx.execute(
        "INSERT INTO media_files (id, org_id, project_id, name, content_type, size, hash,
         created_by, created_at, ingest_id, path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            file.id.into(),
            org_id.into(),
            file.project_id.into(),
            (&file.name).into(),
            file.content_type.clone().into(),
            file.size.into(),
            (&file.hash).into(),
            file.created_by.into(),
            now.into(),
            file.ingest_id.into(),
            file.path.clone().into(),
        ],
    )
    .await?;
    tx.record(
        actor,
        Change::new(Some(org_id), "media.added", "media_file", file.id).after(&file),
    )
    .await?;
    queue_probe(tx, org_id, &file).await?;
    Ok(file)
}
