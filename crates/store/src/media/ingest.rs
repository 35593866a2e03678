//! Camera-card ingests: a card (or any folder) sent to a project file by file, each file an
//! upload of the ingest at its path on the card, then filed all at once with the card's ASC MHL
//! generation, when every file arrived as the card's reader hashed it; or failed, filing nothing
//! (a file on the card no longer matches its history).

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{MediaRule, UPLOAD_COLS, Upload};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, new_id, now_ms,
};

/// An ingest of a card into a project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ingest {
    pub id: Uuid,
    pub project_id: Uuid,
    pub user_id: Uuid,
    /// The card's (or folder's) name.
    pub source: String,
    /// `open` while its files arrive, then `done` (filed) or `failed` (nothing filed).
    pub state: String,
    /// How many files, and bytes, the card holds.
    pub files: i64,
    pub bytes: i64,
    /// The files that failed (mismatching their history, or missing), when it failed.
    pub problems: Option<Vec<String>>,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
}

impl FromRow for Ingest {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Ingest {
            id: r.get()?,
            project_id: r.get()?,
            user_id: r.get()?,
            source: r.get()?,
            state: r.get()?,
            files: r.get()?,
            bytes: r.get()?,
            // Written by this store as a JSON list.
            problems: r
                .get::<Option<String>>()?
                .and_then(|j| serde_json::from_str(&j).ok()),
            created_at: r.get()?,
            finished_at: r.get::<Option<i64>>()?.map(Millis),
        })
    }
}

const INGEST_COLS: &str =
    "id, project_id, user_id, source, state, files, bytes, problems, created_at, finished_at";

/// A new ingest: the card's name, and what it holds.
#[derive(Debug, Clone)]
pub struct NewIngest {
    pub project_id: Uuid,
    pub source: String,
    pub files: i64,
    pub bytes: i64,
}

/// A file as the card's reader read it: its upload, its path on the card, its BLAKE3 hash.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFile {
    pub upload_id: Uuid,
    pub path: String,
    /// 64 hex digits.
    pub blake3: String,
}

/// How an ingest ends: filed with its generation, or failed naming the files that failed.
#[derive(Debug, Clone)]
pub struct IngestEnd {
    /// The ASC MHL generation the card's reader wrote for this ingest.
    pub generation: String,
    pub files: Vec<ReadFile>,
    /// Files that failed on the card (mismatching their history, missing): the ingest fails.
    pub failed: Vec<String>,
    /// The generations written with it in nested histories: each folder's path on the card,
    /// and the generation.
    pub nested: Vec<(String, String)>,
}

/// What stops an ingest from being filed: the first file, by path, that did not arrive as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfinished {
    /// Not every byte of it arrived.
    NotArrived(String),
    /// What arrived is not what the card's reader hashed.
    Differs(String),
    /// The card's reader named no upload of this ingest for it, or one of another path.
    Unknown(String),
}

impl Unfinished {
    pub fn path(&self) -> &str {
        match self {
            Unfinished::NotArrived(p) | Unfinished::Differs(p) | Unfinished::Unknown(p) => p,
        }
    }
}

/// Checks `read` against the ingest's uploads: every file read is an upload of it at that path,
/// complete, whose blob is the hash read.
pub fn unfinished(uploads: &[Upload], read: &[ReadFile]) -> Option<Unfinished> {
    let by_id: std::collections::HashMap<Uuid, &Upload> =
        uploads.iter().map(|u| (u.id, u)).collect();
    for f in read {
        let Some(u) = by_id
            .get(&f.upload_id)
            .filter(|u| u.path.as_deref() == Some(f.path.as_str()))
        else {
            return Some(Unfinished::Unknown(f.path.clone()));
        };
        match &u.blob_hash {
            None => return Some(Unfinished::NotArrived(f.path.clone())),
            Some(h) if !h.eq_ignore_ascii_case(&f.blake3) => {
                return Some(Unfinished::Differs(f.path.clone()));
            }
            Some(_) => {}
        }
    }
    None
}

/// An ingest as its events announce it.
fn announced(i: &Ingest) -> serde_json::Value {
    serde_json::json!({
        "id": i.id, "project_id": i.project_id, "name": i.source, "source": i.source, "state": i.state,
        "files": i.files, "bytes": i.bytes, "problems": i.problems,
    })
}

impl Tenant<'_> {
    /// Starts the caller's ingest of a card into a project of the organisation.
    pub async fn create_ingest(&self, new: NewIngest) -> Result<Ingest> {
        let scope = self.scope().clone();
        let actor = Actor::of(&scope);
        self.write(move |tx| {
            Box::pin(async move {
                let found: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT id FROM projects WHERE org_id = $1 AND id = $2",
                        &[scope.org_id.into(), new.project_id.into()],
                    )
                    .await?;
                if found.is_none() {
                    return Err(StoreError::NotFound { entity: "project" });
                }
                let i = Ingest {
                    id: new_id(),
                    project_id: new.project_id,
                    user_id: scope.user_id,
                    source: new.source,
                    state: "open".into(),
                    files: new.files,
                    bytes: new.bytes,
                    problems: None,
                    created_at: Millis(now_ms()),
                    finished_at: None,
                };
                tx.execute(
                    "INSERT INTO ingests (id, org_id, project_id, user_id, source, state, files,
                     bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        i.id.into(),
                        scope.org_id.into(),
                        i.project_id.into(),
                        i.user_id.into(),
                        (&i.source).into(),
                        (&i.state).into(),
                        i.files.into(),
                        i.bytes.into(),
                        i.created_at.0.into(),
                    ],
                )
                .await?;
                tx.record(
                    &actor,
                    Change::new(Some(scope.org_id), "ingest.started", "ingest", i.id)
                        .after(&announced(&i)),
                )
                .await?;
                Ok(i)
            })
        })
        .await
    }

    /// One ingest of the organisation, with its uploads (path on the card, bytes arrived, blob).
    pub async fn ingest(&self, id: Uuid) -> Result<(Ingest, Vec<Upload>)> {
        let text = format!("SELECT {INGEST_COLS} FROM ingests WHERE org_id = $1 AND id = $2");
        let i: Ingest = self
            .read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "ingest" })?;
        let text = format!(
            "SELECT {UPLOAD_COLS} FROM uploads WHERE org_id = $1 AND ingest_id = $2
             ORDER BY path, created_at"
        );
        let uploads = self.read(&text, &[self.org_id().into(), id.into()]).await?;
        Ok((i, uploads))
    }

    /// Ends the caller's open ingest. With no failed file, every file read becomes a file of
    /// the project, at once (`ingest.done`); refused while one has not arrived as read. With
    /// failed files nothing is filed, its uploads expire now (`ingest.failed`).
    pub async fn finish_ingest(&self, id: Uuid, end: IngestEnd) -> Result<Ingest> {
        let scope = self.scope().clone();
        let actor = Actor::of(&scope);
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT {INGEST_COLS} FROM ingests WHERE org_id = $1 AND id = $2 AND user_id = $3{}",
                    tx.lock_rows()
                );
                let i: Option<Ingest> = tx
                    .query_opt(&text, &[scope.org_id.into(), id.into(), scope.user_id.into()])
                    .await?;
                let mut i = i.ok_or(StoreError::NotFound { entity: "ingest" })?;
                if i.state != "open" {
                    return Err(StoreError::Rule(crate::Rule::Media(MediaRule::IngestClosed)));
                }
                // Ingests into one project end one at a time (PostgreSQL), so the same card
                // ended twice at once is still filed once.
                let text = format!(
                    "SELECT id FROM projects WHERE org_id = $1 AND id = $2{}",
                    tx.lock_rows()
                );
                let _: Option<Uuid> = tx
                    .scalar_opt(&text, &[scope.org_id.into(), i.project_id.into()])
                    .await?;
                let now = now_ms();
                if !end.failed.is_empty() {
                    i.state = "failed".into();
                    i.problems = Some(end.failed.clone());
                    tx.execute(
                        "UPDATE uploads SET expires_at = $3 WHERE org_id = $1 AND ingest_id = $2",
                        &[scope.org_id.into(), id.into(), now.into()],
                    )
                    .await?;
                } else {
                    // Held until this commits: an expiry or an end of one of them waits, so a
                    // blob they keep is not collected from under the file made of it.
                    let text = format!(
                        "SELECT {UPLOAD_COLS} FROM uploads WHERE org_id = $1 AND ingest_id = $2
                         AND expires_at > $3{}",
                        tx.lock_rows()
                    );
                    let uploads: Vec<Upload> = tx
                        .query(&text, &[scope.org_id.into(), id.into(), now.into()])
                        .await?;
                    if unfinished(&uploads, &end.files).is_some() {
                        return Err(StoreError::Rule(crate::Rule::Media(
                            MediaRule::IngestUnfinished,
                        )));
                    }
                    for f in &end.files {
                        let Some(u) = uploads.iter().find(|u| u.id == f.upload_id) else {
                            continue;
                        };
                        // The same card ingested again: a file it already filed into the
                        // project (same path, same bytes) is not filed twice.
                        let filed: Option<Uuid> = tx
                            .scalar_opt(
                                "SELECT id FROM media_files WHERE org_id = $1 AND project_id = $2
                                 AND path = $3 AND hash = $4",
                                &[
                                    scope.org_id.into(),
                                    i.project_id.into(),
                                    u.path.clone().into(),
                                    u.blob_hash.clone().into(),
                                ],
                            )
                            .await?;
                        if let Some(existing) = filed {
                            let n = tx
                                .execute(
                                    "UPDATE uploads SET media_file_id = $3, blob_hash = NULL
                                     WHERE org_id = $1 AND id = $2",
                                    &[scope.org_id.into(), u.id.into(), existing.into()],
                                )
                                .await?;
                            if n != 1 {
                                return Err(StoreError::Rule(crate::Rule::Media(
                                    MediaRule::IngestUnfinished,
                                )));
                            }
                            continue;
                        }
                        let hash = u.blob_hash.clone().unwrap_or_default();
                        let file = super::add_file_tx(
                            tx,
                            &actor,
                            scope.org_id,
                            u,
                            &hash,
                            Some((id, i.project_id)),
                        )
                        .await?;
                        let n = tx
                            .execute(
                                "UPDATE uploads SET media_file_id = $3, blob_hash = NULL
                                 WHERE org_id = $1 AND id = $2",
                                &[scope.org_id.into(), u.id.into(), file.id.into()],
                            )
                            .await?;
                        if n != 1 {
                            return Err(StoreError::Rule(crate::Rule::Media(
                                MediaRule::IngestUnfinished,
                            )));
                        }
                    }
                    // Uploads of the ingest the reader did not name (sent twice after a lost
                    // resume) are let go.
                    tx.execute(
                        "UPDATE uploads SET expires_at = $3 WHERE org_id = $1 AND ingest_id = $2
                         AND media_file_id IS NULL",
                        &[scope.org_id.into(), id.into(), now.into()],
                    )
                    .await?;
                    i.state = "done".into();
                    i.files = end.files.len() as i64;
                    i.bytes = end
                        .files
                        .iter()
                        .filter_map(|f| uploads.iter().find(|u| u.id == f.upload_id))
                        .map(|u| u.length)
                        .sum();
                }
                i.finished_at = Some(Millis(now));
                let problems = i
                    .problems
                    .as_ref()
                    .map(|p| serde_json::to_string(p).unwrap_or_default());
                tx.execute(
                    "UPDATE ingests SET state = $3, files = $4, bytes = $5, generation = $6,
                     problems = $7, finished_at = $8 WHERE org_id = $1 AND id = $2",
                    &[
                        scope.org_id.into(),
                        id.into(),
                        (&i.state).into(),
                        i.files.into(),
                        i.bytes.into(),
                        end.generation.into(),
                        problems.into(),
                        now.into(),
                    ],
                )
                .await?;
                for (folder, generation) in end.nested {
                    tx.execute(
                        "INSERT INTO ingest_generations (org_id, ingest_id, folder, generation)
                         VALUES ($1, $2, $3, $4)",
                        &[
                            scope.org_id.into(),
                            id.into(),
                            folder.into(),
                            generation.into(),
                        ],
                    )
                    .await?;
                }
                let action = if i.state == "done" {
                    "ingest.done"
                } else {
                    "ingest.failed"
                };
                tx.record(
                    &actor,
                    Change::new(Some(scope.org_id), action, "ingest", id).after(&announced(&i)),
                )
                .await?;
                Ok(i)
            })
        })
        .await
    }

    /// The ASC MHL generation an ingest was filed (or failed) with.
    pub async fn ingest_generation(&self, id: Uuid) -> Result<Option<String>> {
        self.ingest_generation_in(id, None).await
    }

    /// The generation an ingest ended with in the history of `folder` on the card (a nested
    /// history), or of the card itself (`None`).
    pub async fn ingest_generation_in(
        &self,
        id: Uuid,
        folder: Option<&str>,
    ) -> Result<Option<String>> {
        if let Some(folder) = folder {
            self.ingest(id).await?;
            let found: Option<(String,)> = self
                .read_opt(
                    "SELECT generation FROM ingest_generations
                     WHERE org_id = $1 AND ingest_id = $2 AND folder = $3",
                    &[self.org_id().into(), id.into(), folder.into()],
                )
                .await?;
            return Ok(found.map(|(g,)| g));
        }
        let found: Option<(Option<String>,)> = self
            .read_opt(
                "SELECT generation FROM ingests WHERE org_id = $1 AND id = $2",
                &[self.org_id().into(), id.into()],
            )
            .await?;
        found
            .map(|(g,)| g)
            .ok_or(StoreError::NotFound { entity: "ingest" })
    }
}
