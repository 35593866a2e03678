//! Share links: a playlist shown to someone outside the organisation (a client, a director on
//! the road) through a link that needs no account. A link names its recipient, runs out at a set
//! time, may need a password and may allow downloads; it can be revoked at once. Guests are
//! served only copies of the versions made for the link by a `media.watermark` job, with the
//! recipient's name burnt into every frame: nothing else of the project (no other versions, no
//! notes, no names of the people who made the work) is reachable through it.
//!
//! The link's secret is shown once, when it is made; the store keeps its SHA-256 only, and the
//! password as argon2id.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::WATERMARK_JOB;
use crate::identity::{hash_password, hash_secret};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, Tenant, WriteTx,
    new_id, now_ms,
};
use mstation_core::validate::{self, FieldError};

/// The longest a link may run: 90 days.
pub const MAX_LIFE_MS: i64 = 90 * 24 * 3600 * 1000;

/// A share link as its organisation sees it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLink {
    pub id: Uuid,
    pub project_id: Uuid,
    pub playlist_id: Uuid,
    /// Who it is for, as the watermark names them ("Zhang Wei, Star Pictures").
    pub recipient: String,
    pub has_password: bool,
    pub allow_download: bool,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
    pub created_by: Uuid,
    pub created_at: Millis,
    /// Whether a guest may use it now: not revoked, not run out.
    pub live: bool,
}

const LINK_COLS: &str = "id, project_id, playlist_id, recipient, password_hash, allow_download, expires_at, revoked_at, created_by, created_at";

impl FromRow for ShareLink {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let mut l = ShareLink {
            id: r.get()?,
            project_id: r.get()?,
            playlist_id: r.get()?,
            recipient: r.get()?,
            has_password: r.get::<Option<String>>()?.is_some(),
            allow_download: r.get()?,
            expires_at: r.get()?,
            revoked_at: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
            live: false,
        };
        l.live = l.revoked_at.is_none() && l.expires_at.0 > now_ms();
        Ok(l)
    }
}

/// A link as a guest's request finds it by its secret: its organisation, and its password's
/// hash to check.
#[derive(Debug, Clone)]
pub struct GuestLink {
    pub org_id: Uuid,
    pub link: ShareLink,
    pub password_hash: Option<String>,
}

impl FromRow for GuestLink {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let org_id = r.get()?;
        let password_hash: Option<String> = r.get()?;
        let link = ShareLink::from_row(r)?;
        Ok(GuestLink {
            org_id,
            link,
            password_hash,
        })
    }
}

/// One version a link shares, as a guest sees it: its place, its name, and its watermarked copy
/// (none until made, or why it could not be).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SharedVersion {
    pub version_id: Uuid,
    pub position: i64,
    pub hash: Option<String>,
    pub error: Option<String>,
    /// The job making the copy, and how it stands (`queued`, `running`, `succeeded`, `failed`).
    pub job_id: Option<Uuid>,
    pub job_status: Option<String>,
    /// The copy's size in bytes, once made.
    pub size: Option<i64>,
    /// "SQ010_0010 v003": what the version is of, and its number.
    pub label: String,
}

impl FromRow for SharedVersion {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(SharedVersion {
            version_id: r.get()?,
            position: r.get()?,
            hash: r.get()?,
            error: r.get()?,
            job_id: r.get()?,
            job_status: r.get()?,
            size: r.get()?,
            label: {
                let (shot, asset, number): (Option<String>, Option<String>, i64) =
                    (r.get()?, r.get()?, r.get()?);
                format!("{} v{number:03}", shot.or(asset).unwrap_or_default())
                    .trim()
                    .to_string()
            },
        })
    }
}

const SHARED: &str = "SELECT m.version_id, m.position, m.hash, m.error, m.job_id,
     (SELECT j.status FROM jobs j WHERE j.id = m.job_id),
     (SELECT b.size FROM blobs b WHERE b.hash = m.hash),
     (SELECT s.name FROM shots s WHERE s.org_id = t.org_id AND s.id = t.shot_id),
     (SELECT a.name FROM assets a WHERE a.org_id = t.org_id AND a.id = t.asset_id),
     v.number
     FROM share_link_media m JOIN versions v ON v.org_id = m.org_id AND v.id = m.version_id
     JOIN tasks t ON t.org_id = v.org_id AND t.id = v.task_id
     WHERE m.org_id = $1 AND m.link_id = $2 ORDER BY m.position";

/// A new link: its secret (shown once) and the link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewShareLink {
    pub link: ShareLink,
    /// The secret of the link's address, `/share/{token}`: shown once, kept by no one but its
    /// holder.
    pub token: String,
}

/// A link as its changes record it: without its project, so it stays out of the project's
/// activity feed (every member reads that; links are for those who make them).
fn recorded(l: &ShareLink) -> serde_json::Value {
    let mut v = serde_json::to_value(l).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("project_id");
    }
    v
}

/// Inside a write: the link `id` of `org`, its row locked.
async fn locked_link(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid) -> Result<ShareLink> {
    let text = format!(
        "SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND id = $2{}",
        tx.lock_rows()
    );
    tx.query_opt(&text, &[org.into(), id.into()])
        .await?
        .ok_or(StoreError::NotFound {
            entity: "share link",
        })
}

/// A file of a version: the version, the file's place in it, the file and its proxy.
type VersionFile = (Uuid, i64, Uuid, Option<String>);

/// Inside a write: the versions a link shares, in the playlist's order, each with the file its
/// copy is made from (its first with a proxy), or none.
async fn playable(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    playlist: Uuid,
) -> Result<Vec<(Uuid, i64, Option<(Uuid, String)>)>> {
    let rows: Vec<(Uuid, i64)> = tx
        .query(
            "SELECT version_id, position FROM playlist_items WHERE org_id = $1 AND playlist_id = $2 ORDER BY position",
            &[org.into(), playlist.into()],
        )
        .await?;
    // Every file of the playlist's versions is locked, its proxy or not, in one order (by id,
    // so two links made at once never deadlock): a proxy being recorded at this moment is
    // either seen here, or recorded after this write, whose waiting rows its `fill_in_tx` then
    // finds. (On PostgreSQL a row filtered out by a condition is not waited for, so the
    // condition is applied here, after the lock.)
    let text = format!(
        "SELECT m.version_id, m.position, f.id, f.proxy_hash FROM version_media m JOIN media_files f ON f.org_id = m.org_id AND f.id = m.media_file_id
         WHERE m.org_id = $1 AND m.version_id IN (SELECT i.version_id FROM playlist_items i WHERE i.org_id = $1 AND i.playlist_id = $2)
         ORDER BY f.id{}",
        tx.lock_rows()
    );
    let files: Vec<VersionFile> = tx.query(&text, &[org.into(), playlist.into()]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (version, position) in rows {
        // The version's first file (by its place in the version) with a proxy.
        let file = files
            .iter()
            .filter(|f| f.0 == version && f.3.is_some())
            .min_by_key(|f| f.1)
            .and_then(|f| f.3.clone().map(|p| (f.2, p)));
        out.push((version, position, file));
    }
    Ok(out)
}

impl Tenant<'_> {
    /// Makes a link sharing the playlist `playlist_id` with `recipient` until `expires_at`,
    /// behind `password` if given; a watermarked copy of each of its versions with a proxy is
    /// asked of the job queue at once.
    pub async fn create_share_link(
        &self,
        playlist_id: Uuid,
        recipient: &str,
        password: Option<&str>,
        allow_download: bool,
        expires_at: i64,
    ) -> Result<NewShareLink> {
        let scope = self.scope().clone();
        let recipient = validate::name("recipient", recipient, 120)?;
        let now = now_ms();
        if expires_at <= now {
            return Err(FieldError::new("expires_at", "in_the_past").into());
        }
        if expires_at - now > MAX_LIFE_MS {
            return Err(FieldError::new("expires_at", "share_too_long").into());
        }
        let password_hash = match password.filter(|p| !p.is_empty()) {
            Some(p) if p.chars().count() < 8 => {
                return Err(FieldError::new("password", "too_short").into());
            }
            Some(p) if p.len() > 200 => return Err(FieldError::new("password", "too_long").into()),
            Some(p) => Some(hash_password(p.to_string()).await?),
            None => None,
        };
        let token = format!("msl_{}", crate::identity::random_secret(24));
        let token_hash = hash_secret(&token);
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let project: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT project_id FROM playlists WHERE org_id = $1 AND id = $2",
                        &[org.into(), playlist_id.into()],
                    )
                    .await?;
                let project = project.ok_or(StoreError::NotFound { entity: "playlist" })?;
                let id = new_id();
                let created = Millis(now_ms());
                tx.execute(
                    "INSERT INTO share_links (id, org_id, project_id, playlist_id, recipient, token_hash, password_hash, allow_download, expires_at, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[
                        id.into(),
                        org.into(),
                        project.into(),
                        playlist_id.into(),
                        (&recipient).into(),
                        (&token_hash).into(),
                        password_hash.clone().into(),
                        allow_download.into(),
                        Millis(expires_at).into(),
                        scope.user_id.into(),
                        created.into(),
                    ],
                )
                .await?;
                for (version, position, file) in playable(tx, org, playlist_id).await? {
                    let job = match &file {
                        Some((file, hash)) => Some(
                            crate::jobs::insert_job(
                                tx,
                                &crate::jobs::NewJob {
                                    org_id: Some(org),
                                    kind: WATERMARK_JOB.into(),
                                    payload: serde_json::json!({"media_file_id": file, "hash": hash,
                                        "share_link_id": id, "version_id": version}),
                                    priority: 0,
                                    max_attempts: 3,
                                    run_after: None,
                                },
                            )
                            .await?,
                        ),
                        None => None,
                    };
                    let error = file.is_none().then(|| "no playable file yet".to_string());
                    tx.execute(
                        "INSERT INTO share_link_media (org_id, link_id, version_id, position, media_file_id, job_id, error)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &[
                            org.into(),
                            id.into(),
                            version.into(),
                            position.into(),
                            file.map(|f| f.0).into(),
                            job.into(),
                            error.into(),
                        ],
                    )
                    .await?;
                }
                let text = format!("SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND id = $2");
                let link: ShareLink = tx
                    .query_opt(&text, &[org.into(), id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "share link" })?;
                // Recorded without its project: who a link is for is not the project's news.
                let change = Change::new(Some(org), "share_link.created", "share_link", id);
                tx.record(&Actor::of(&scope), change.after(&recorded(&link)))
                    .await?;
                Ok(NewShareLink { link, token })
            })
        })
        .await
    }

    pub async fn share_link(&self, id: Uuid) -> Result<ShareLink> {
        let text = format!("SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND id = $2");
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound {
                entity: "share link",
            })
    }

    /// A playlist's links, newest first.
    pub async fn share_links(&self, playlist_id: Uuid) -> Result<Vec<ShareLink>> {
        let text = format!(
            "SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND playlist_id = $2 ORDER BY id DESC LIMIT 200"
        );
        self.read(&text, &[self.org_id().into(), playlist_id.into()])
            .await
    }

    /// The versions a link shares and how far their copies are.
    pub async fn share_link_versions(&self, id: Uuid) -> Result<Vec<SharedVersion>> {
        self.share_link(id).await?;
        self.read(SHARED, &[self.org_id().into(), id.into()]).await
    }

    /// Revokes a link at once; revoking it again changes nothing.
    pub async fn revoke_share_link(&self, id: Uuid) -> Result<ShareLink> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before = locked_link(tx, org, id).await?;
                if before.revoked_at.is_some() {
                    return Ok(before);
                }
                tx.execute(
                    "UPDATE share_links SET revoked_at = $3 WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into(), Millis(now_ms()).into()],
                )
                .await?;
                let text =
                    format!("SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND id = $2");
                let after: ShareLink = tx.query_opt(&text, &[org.into(), id.into()]).await?.ok_or(
                    StoreError::NotFound {
                        entity: "share link",
                    },
                )?;
                // The copies still waiting to be made for it are not made: their jobs stop.
                let stopped: Vec<crate::jobs::Moved> = tx
                    .query(
                        "UPDATE jobs SET status = 'failed', last_error = $3, updated_at = $4
                         WHERE org_id = $1 AND status = 'queued'
                           AND id IN (SELECT job_id FROM share_link_media WHERE org_id = $1 AND link_id = $2)
                         RETURNING id, org_id, kind, attempts, payload",
                        &[org.into(), id.into(), LINK_REVOKED.into(), now_ms().into()],
                    )
                    .await?;
                for m in &stopped {
                    crate::jobs::announce(
                        tx,
                        "job.failed",
                        crate::jobs::News::of(m, Some(LINK_REVOKED)),
                    )
                    .await?;
                }
                let change = Change::new(Some(org), "share_link.revoked", "share_link", id);
                tx.record(
                    &Actor::of(&scope),
                    change.before(&recorded(&before)).after(&recorded(&after)),
                )
                .await?;
                Ok(after)
            })
        })
        .await
    }
}

impl Platform<'_> {
    /// The link whose secret is `token`, whatever its state (a guest's request is answered from
    /// it: gone, run out, behind a password, or open).
    pub async fn guest_link(&self, token: &str) -> Result<Option<GuestLink>> {
        let text = format!(
            "SELECT org_id, password_hash, {LINK_COLS} FROM share_links WHERE token_hash = $1"
        );
        self.read_opt(&text, &[hash_secret(token).into()]).await
    }

    /// Whom the live link `link` of `org` is for (none once revoked or run out): what its
    /// copies are marked with, read when each is made, so no job's payload names anyone.
    pub async fn share_recipient(&self, org: Uuid, link: Uuid) -> Result<Option<String>> {
        let text = format!("SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND id = $2");
        let found: Option<ShareLink> = self.read_opt(&text, &[org.into(), link.into()]).await?;
        Ok(found.filter(|l| l.live).map(|l| l.recipient))
    }

    /// The versions the link `link` of the organisation `org` shares.
    pub async fn guest_versions(&self, org: Uuid, link: Uuid) -> Result<Vec<SharedVersion>> {
        self.read(SHARED, &[org.into(), link.into()]).await
    }
}

/// Inside the write that records the proxy of the file `file`: a copy asked of the job queue
/// for each live link sharing a version made of it that had nothing to play when the link was
/// made.
pub(crate) async fn fill_in_tx(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    file: Uuid,
    proxy_hash: &str,
) -> Result<()> {
    let waiting: Vec<(Uuid, Uuid)> = tx
        .query(
            "SELECT m.link_id, m.version_id FROM share_link_media m
             JOIN share_links l ON l.org_id = m.org_id AND l.id = m.link_id
             JOIN version_media vm ON vm.org_id = m.org_id AND vm.version_id = m.version_id
             WHERE m.org_id = $1 AND vm.media_file_id = $2 AND m.job_id IS NULL
               AND l.revoked_at IS NULL AND l.expires_at > $3",
            &[org.into(), file.into(), now_ms().into()],
        )
        .await?;
    for (link, version) in waiting {
        // Claimed first: a version with two files proxied at once gets one copy.
        let claimed = tx
            .execute(
                "UPDATE share_link_media SET media_file_id = $4, error = NULL
                 WHERE org_id = $1 AND link_id = $2 AND version_id = $3 AND job_id IS NULL AND media_file_id IS NULL",
                &[org.into(), link.into(), version.into(), file.into()],
            )
            .await?;
        if claimed == 0 {
            continue;
        }
        queue_copy(tx, org, link, version, file, proxy_hash).await?;
    }
    Ok(())
}

/// Inside a write: a `media.watermark` job making the copy of `version` for `link` from the
/// proxy `proxy_hash` of `file`, named on the link's row of the version.
async fn queue_copy(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    link: Uuid,
    version: Uuid,
    file: Uuid,
    proxy_hash: &str,
) -> Result<()> {
    let job = crate::jobs::insert_job(
        tx,
        &crate::jobs::NewJob {
            org_id: Some(org),
            kind: WATERMARK_JOB.into(),
            payload: serde_json::json!({"media_file_id": file, "hash": proxy_hash,
                "share_link_id": link, "version_id": version}),
            priority: 0,
            max_attempts: 3,
            run_after: None,
        },
    )
    .await?;
    tx.execute(
        "UPDATE share_link_media SET job_id = $4, error = NULL WHERE org_id = $1 AND link_id = $2 AND version_id = $3",
        &[org.into(), link.into(), version.into(), job.into()],
    )
    .await?;
    Ok(())
}

/// How one copy of a link stands, for the playlist's page.
#[derive(Debug, Clone)]
pub struct LinkCopy {
    pub link_id: Uuid,
    /// Made.
    pub made: bool,
    /// Its job failed for good.
    pub failed: bool,
}

impl FromRow for LinkCopy {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let link_id = r.get()?;
        let hash: Option<String> = r.get()?;
        let status: Option<String> = r.get()?;
        Ok(LinkCopy {
            link_id,
            made: hash.is_some(),
            failed: hash.is_none() && status.as_deref() == Some("failed"),
        })
    }
}

/// Inside the end of a `media.watermark` job: the copy made for its link and version, unless
/// the link was revoked meanwhile (then nothing is recorded and the copy's blob is collected).
pub(crate) async fn watermark_tx(
    tx: &mut WriteTx<'_>,
    org_id: Uuid,
    payload: &serde_json::Value,
    hash: &str,
) -> Result<()> {
    let id = |k: &str| payload[k].as_str().and_then(|s| Uuid::parse_str(s).ok());
    let (Some(link), Some(version)) = (id("share_link_id"), id("version_id")) else {
        return Err(StoreError::NotFound {
            entity: "share link",
        });
    };
    let n = tx
        .execute(
            "UPDATE share_link_media SET hash = $4, error = NULL WHERE org_id = $1 AND link_id = $2 AND version_id = $3
               AND EXISTS (SELECT 1 FROM share_links l WHERE l.org_id = $1 AND l.id = $2 AND l.revoked_at IS NULL)",
            &[org_id.into(), link.into(), version.into(), hash.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "share link",
        });
    }
    Ok(())
}

/// A note a link's guest wrote on a version it shows: held with production until a producer or
/// coordinator publishes it, when it becomes a note of the version (`note_id`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GuestNote {
    pub id: Uuid,
    pub link_id: Uuid,
    pub version_id: Uuid,
    /// Where in the guest's copy it was written, in milliseconds from its start.
    pub at_ms: i64,
    pub body: String,
    pub created_at: Millis,
    pub published_at: Option<Millis>,
    pub published_by: Option<Uuid>,
    pub note_id: Option<Uuid>,
}

const GUEST_NOTE_COLS: &str =
    "id, link_id, version_id, at_ms, body, created_at, published_at, published_by, note_id";

impl FromRow for GuestNote {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(GuestNote {
            id: r.get()?,
            link_id: r.get()?,
            version_id: r.get()?,
            at_ms: r.get()?,
            body: r.get()?,
            created_at: r.get()?,
            published_at: r.get()?,
            published_by: r.get()?,
            note_id: r.get()?,
        })
    }
}

/// Why a copy asked for a link was not made: the link was revoked first.
const LINK_REVOKED: &str = "the share link was revoked before its copy was made";

/// The most notes a link's guests may write.
pub const MAX_GUEST_NOTES: i64 = 1000;

impl Platform<'_> {
    /// A guest's note on `version` through the link `link` of `org`, written at `at_ms` of its
    /// copy: held with production. The link must be live and share the version.
    pub async fn add_guest_note(
        &self,
        org: Uuid,
        link: Uuid,
        version: Uuid,
        at_ms: i64,
        body: &str,
    ) -> Result<GuestNote> {
        let body = validate::text("body", body, 5000)?;
        if body.is_empty() {
            return Err(FieldError::new("body", "required").into());
        }
        if !(0..=24 * 3600 * 1000).contains(&at_ms) {
            return Err(FieldError::new("at", "out_of_range").into());
        }
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT {LINK_COLS} FROM share_links WHERE org_id = $1 AND id = $2{}",
                    tx.lock_rows()
                );
                let found: Option<ShareLink> = tx.query_opt(&text, &[org.into(), link.into()]).await?;
                let shared: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT version_id FROM share_link_media WHERE org_id = $1 AND link_id = $2 AND version_id = $3",
                        &[org.into(), link.into(), version.into()],
                    )
                    .await?;
                if !found.is_some_and(|l| l.live) || shared.is_none() {
                    return Err(StoreError::NotFound { entity: "share link" });
                }
                let written: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM guest_notes WHERE org_id = $1 AND link_id = $2",
                        &[org.into(), link.into()],
                    )
                    .await?;
                if written >= MAX_GUEST_NOTES {
                    return Err(FieldError::new("body", "too_many").into());
                }
                let note = GuestNote {
                    id: new_id(),
                    link_id: link,
                    version_id: version,
                    at_ms,
                    body,
                    created_at: Millis(now_ms()),
                    published_at: None,
                    published_by: None,
                    note_id: None,
                };
                tx.execute(
                    "INSERT INTO guest_notes (id, org_id, link_id, version_id, at_ms, body, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        note.id.into(),
                        org.into(),
                        link.into(),
                        version.into(),
                        at_ms.into(),
                        (&note.body).into(),
                        note.created_at.into(),
                    ],
                )
                .await?;
                let change = Change::new(Some(org), "guest_note.created", "guest_note", note.id);
                tx.announce(change.after(&note)).await?;
                Ok(note)
            })
        })
        .await
    }

    /// The notes written through a link, oldest first (what its guest sees of their own).
    pub async fn guest_notes_of(&self, org: Uuid, link: Uuid) -> Result<Vec<GuestNote>> {
        let text = format!(
            "SELECT {GUEST_NOTE_COLS} FROM guest_notes WHERE org_id = $1 AND link_id = $2 ORDER BY id"
        );
        self.read(&text, &[org.into(), link.into()]).await
    }
}

/// The most guest notes a playlist's page reads, the newest.
pub const MAX_PLAYLIST_GUEST_NOTES: i64 = 2_000;

impl Tenant<'_> {
    /// The notes written through a link, oldest first.
    pub async fn guest_notes(&self, link: Uuid) -> Result<Vec<GuestNote>> {
        self.share_link(link).await?;
        let text = format!(
            "SELECT {GUEST_NOTE_COLS} FROM guest_notes WHERE org_id = $1 AND link_id = $2 ORDER BY id"
        );
        self.read(&text, &[self.org_id().into(), link.into()]).await
    }

    /// The notes written through the playlist's links, oldest first, in one read: at most
    /// `MAX_PLAYLIST_GUEST_NOTES`, the newest.
    pub async fn playlist_guest_notes(&self, playlist_id: Uuid) -> Result<Vec<GuestNote>> {
        let cols = GUEST_NOTE_COLS
            .split(", ")
            .map(|c| format!("n.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "SELECT {cols} FROM guest_notes n JOIN share_links l ON l.org_id = n.org_id AND l.id = n.link_id
             WHERE n.org_id = $1 AND l.playlist_id = $2 ORDER BY n.id DESC LIMIT $3"
        );
        let mut notes: Vec<GuestNote> = self
            .read(
                &text,
                &[
                    self.org_id().into(),
                    playlist_id.into(),
                    MAX_PLAYLIST_GUEST_NOTES.into(),
                ],
            )
            .await?;
        notes.reverse();
        Ok(notes)
    }

    /// How the copies of the playlist's links stand, in one read.
    pub async fn playlist_share_copies(&self, playlist_id: Uuid) -> Result<Vec<LinkCopy>> {
        self.read(
            "SELECT m.link_id, m.hash, (SELECT j.status FROM jobs j WHERE j.id = m.job_id)
             FROM share_link_media m JOIN share_links l ON l.org_id = m.org_id AND l.id = m.link_id
             WHERE m.org_id = $1 AND l.playlist_id = $2",
            &[self.org_id().into(), playlist_id.into()],
        )
        .await
    }

    /// Asks again for the copies of a live link whose job failed for good: a new
    /// `media.watermark` job each, from the proxy the version has now. How many were asked for
    /// (none for a link revoked or run out).
    pub async fn remake_share_copies(&self, id: Uuid) -> Result<i64> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let link = locked_link(tx, org, id).await?;
                if !link.live {
                    return Ok(0);
                }
                let failed: Vec<(Uuid, Uuid, String)> = tx
                    .query(
                        "SELECT m.version_id, f.id, f.proxy_hash FROM share_link_media m
                         JOIN media_files f ON f.org_id = m.org_id AND f.id = m.media_file_id
                         JOIN jobs j ON j.id = m.job_id
                         WHERE m.org_id = $1 AND m.link_id = $2 AND m.hash IS NULL AND j.status = 'failed'
                           AND f.proxy_hash IS NOT NULL",
                        &[org.into(), id.into()],
                    )
                    .await?;
                for (version, file, proxy) in &failed {
                    queue_copy(tx, org, id, *version, *file, proxy).await?;
                }
                let asked = failed.len() as i64;
                if asked > 0 {
                    let change = Change::new(Some(org), "share_link.copies_asked", "share_link", id);
                    let after = serde_json::json!({"recipient": link.recipient, "asked": asked});
                    tx.record(&Actor::of(&scope), change.after(&after)).await?;
                }
                Ok(asked)
            })
        })
        .await
    }

    pub async fn guest_note(&self, id: Uuid) -> Result<GuestNote> {
        let text =
            format!("SELECT {GUEST_NOTE_COLS} FROM guest_notes WHERE org_id = $1 AND id = $2");
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound {
                entity: "guest note",
            })
    }

    /// Publishes a guest's note to the team: a note of its version on `frame`, written by the
    /// caller in the guest's words, who it came from first. Publishing it again changes nothing.
    pub async fn publish_guest_note(
        &self,
        id: Uuid,
        frame: i64,
    ) -> Result<(GuestNote, crate::tracking::notes::Note)> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let text = format!(
                    "SELECT {GUEST_NOTE_COLS} FROM guest_notes WHERE org_id = $1 AND id = $2{}",
                    tx.lock_rows()
                );
                let held: GuestNote = tx
                    .query_opt(&text, &[org.into(), id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "guest note" })?;
                let cols = crate::tracking::notes::NOTE_COLS;
                if let Some(note_id) = held.note_id {
                    let text = format!("SELECT {cols} FROM notes WHERE org_id = $1 AND id = $2");
                    if let Some(note) = tx.query_opt(&text, &[org.into(), note_id.into()]).await? {
                        return Ok((held, note));
                    }
                }
                let (project_id, recipient): (Uuid, String) = tx
                    .query_opt(
                        "SELECT project_id, recipient FROM share_links WHERE org_id = $1 AND id = $2",
                        &[org.into(), held.link_id.into()],
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "share link" })?;
                let mut note = crate::tracking::notes::Note {
                    id: new_id(),
                    project_id,
                    task_id: None,
                    shot_id: None,
                    asset_id: None,
                    version_id: Some(held.version_id),
                    parent_id: None,
                    author_id: scope.user_id,
                    body: format!("{recipient}: {}", held.body),
                    frame: Some(frame),
                    frame_out: None,
                    drawing: None,
                    status_from: None,
                    status_to: None,
                    created_at: Millis(now_ms()),
                    mentions: String::new(),
                    held: false,
                };
                crate::tracking::notes::write_note_as(tx, &scope, &mut note, false).await?;
                let now = Millis(now_ms());
                tx.execute(
                    "UPDATE guest_notes SET published_at = $3, published_by = $4, note_id = $5 WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into(), now.into(), scope.user_id.into(), note.id.into()],
                )
                .await?;
                let after = GuestNote {
                    published_at: Some(now),
                    published_by: Some(scope.user_id),
                    note_id: Some(note.id),
                    ..held
                };
                let change = Change::new(Some(org), "guest_note.published", "guest_note", id);
                tx.record(&Actor::of(&scope), change.after(&after)).await?;
                Ok((after, note))
            })
        })
        .await
    }
}
