//! Versions of a task's work: what an artist hands in, numbered 1, 2, 3 … per task without gaps
//! or repeats, with a comment and its author; and playlists that put versions of a project in
//! order for a review session.

use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::check_version;
use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError, Tenant,
    WriteTx, new_id, now_ms,
};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub task_id: Uuid,
    /// 1, 2, 3 … per task, in the order they were made.
    pub number: i64,
    pub comment: String,
    pub author_id: Uuid,
    pub created_at: Millis,
}

/// A row of `VERSION_COLS`, in that order.
impl FromRow for Version {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Version {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            task_id: r.get()?,
            number: r.get()?,
            comment: r.get()?,
            author_id: r.get()?,
            created_at: r.get()?,
        })
    }
}

/// A file of a version, as read with the version's id.
struct VersionFile(Uuid, crate::media::MediaFile);

impl FromRow for VersionFile {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let version = r.get()?;
        Ok(VersionFile(version, crate::media::MediaFile::from_row(r)?))
    }
}

/// A playlist as listed: without its items, with how many there are.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Playlist {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub created_by: Uuid,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub item_count: i64,
    pub version: i64,
}

impl FromRow for Playlist {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Playlist {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            name: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
            updated_at: r.get()?,
            item_count: r.get()?,
            version: r.get()?,
        })
    }
}

/// One version in a playlist, in play order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaylistItem {
    pub version_id: Uuid,
    pub task_id: Uuid,
    pub number: i64,
    pub comment: String,
}

impl FromRow for PlaylistItem {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(PlaylistItem {
            version_id: r.get()?,
            task_id: r.get()?,
            number: r.get()?,
            comment: r.get()?,
        })
    }
}

/// A playlist with its items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaylistWithItems {
    #[serde(flatten)]
    pub playlist: Playlist,
    pub items: Vec<PlaylistItem>,
}

pub const MAX_PLAYLIST_ITEMS: usize = 1000;

const PLAYLIST_COLS: &str = "p.id, p.org_id, p.project_id, p.name, p.created_by, p.created_at, p.updated_at, (SELECT COUNT(*) FROM playlist_items i WHERE i.playlist_id = p.id) AS item_count, p.version";

pub(crate) const VERSION_COLS: &str =
    "id, org_id, project_id, task_id, number, comment, author_id, created_at";

/// Checks the shape of a playlist's items: not too many, each version once.
fn check_items(items: &[Uuid]) -> Result<()> {
    if items.len() > MAX_PLAYLIST_ITEMS {
        return Err(FieldError::new("items", "at_most_1000").into());
    }
    let mut seen = std::collections::HashSet::new();
    if !items.iter().all(|i| seen.insert(*i)) {
        return Err(FieldError::new("items", "duplicate_version").into());
    }
    Ok(())
}

/// Inside a write transaction: replaces a playlist's items with `items`, each a version of
/// the playlist's project.
async fn write_items(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    project: Uuid,
    playlist: Uuid,
    items: &[Uuid],
) -> Result<()> {
    for v in items {
        let p: Option<Uuid> = tx
            .scalar_opt(
                "SELECT project_id FROM versions WHERE org_id = $1 AND id = $2",
                &[org.into(), v.into()],
            )
            .await?;
        if p != Some(project) {
            return Err(FieldError::new("items", "not_a_version_of_this_project").into());
        }
    }
    tx.execute(
        "DELETE FROM playlist_items WHERE org_id = $1 AND playlist_id = $2",
        &[org.into(), playlist.into()],
    )
    .await?;
    for (i, v) in items.iter().enumerate() {
        tx.execute(
            "INSERT INTO playlist_items (org_id, playlist_id, position, version_id)
             VALUES ($1, $2, $3, $4)",
            &[org.into(), playlist.into(), (i as i64).into(), v.into()],
        )
        .await?;
    }
    Ok(())
}

/// Inside a write: `org`'s task `task_id` gets its next version by `author`, made of `org`'s
/// files `media` in order (each of the task's project, or of none; checked by the caller for
/// count and repeats). The task row is locked before the number is read, so concurrent writers
/// take turns and the numbers have no gaps and no repeats. The caller records the change.
pub(crate) async fn add_version_tx(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    task_id: Uuid,
    author: Uuid,
    comment: String,
    media: &[Uuid],
) -> Result<Version> {
    let text = format!(
        "SELECT project_id FROM tasks WHERE org_id = $1 AND id = $2{}",
        tx.lock_rows()
    );
    let project_id: Uuid = tx
        .scalar_opt(&text, &[org.into(), task_id.into()])
        .await?
        .ok_or(StoreError::NotFound { entity: "task" })?;
    let number: i64 = tx
        .scalar(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM versions
             WHERE org_id = $1 AND task_id = $2",
            &[org.into(), task_id.into()],
        )
        .await?;
    let v = Version {
        id: new_id(),
        org_id: org,
        project_id,
        task_id,
        number,
        comment,
        author_id: author,
        created_at: Millis(now_ms()),
    };
    let text =
        format!("INSERT INTO versions ({VERSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    let args = [
        v.id.into(),
        v.org_id.into(),
        v.project_id.into(),
        v.task_id.into(),
        v.number.into(),
        (&v.comment).into(),
        v.author_id.into(),
        v.created_at.into(),
    ];
    tx.execute(&text, &args).await?;
    for (position, file) in media.iter().enumerate() {
        let project: Option<(Option<Uuid>,)> = tx
            .query_opt(
                "SELECT project_id FROM media_files WHERE org_id = $1 AND id = $2",
                &[org.into(), (*file).into()],
            )
            .await?;
        match project {
            None => {
                return Err(StoreError::NotFound {
                    entity: "media file",
                });
            }
            Some((Some(p),)) if p != project_id => {
                return Err(StoreError::Invalid(FieldError::new(
                    "media",
                    "not_a_file_of_this_project",
                )));
            }
            Some(_) => {}
        }
        tx.execute(
            "INSERT INTO version_media (org_id, version_id, media_file_id, position)
             VALUES ($1, $2, $3, $4)",
            &[
                org.into(),
                v.id.into(),
                (*file).into(),
                (position as i64).into(),
            ],
        )
        .await?;
    }
    Ok(v)
}

const ITEMS: &str = "SELECT i.version_id, v.task_id, v.number, v.comment FROM playlist_items i JOIN versions v ON v.id = i.version_id
     WHERE i.org_id = $1 AND i.playlist_id = $2 ORDER BY i.position";

impl Tenant<'_> {
    /// Adds the next version of a task. The task row is locked before the number is read, so
    /// concurrent writers take turns and the numbers have no gaps and no repeats.
    pub async fn create_version(&self, task_id: Uuid, comment: &str) -> Result<Version> {
        self.create_version_of(task_id, comment, &[]).await
    }

    /// Adds the task's next version, made of the organisation's files `media` (at most 20, in
    /// order; each of the task's project, or of none).
    pub async fn create_version_of(
        &self,
        task_id: Uuid,
        comment: &str,
        media: &[Uuid],
    ) -> Result<Version> {
        let comment = validate::text("comment", comment, 20_000)?;
        if media.len() > 20 {
            return Err(StoreError::Invalid(FieldError::new("media", "at_most_20")));
        }
        let mut seen = std::collections::HashSet::new();
        if !media.iter().all(|m| seen.insert(*m)) {
            return Err(StoreError::Invalid(FieldError::new(
                "media",
                "duplicate_file",
            )));
        }
        let media = media.to_vec();
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let v = add_version_tx(tx, scope.org_id, task_id, scope.user_id, comment, &media)
                    .await?;
                let mut after = serde_json::to_value(&v).unwrap_or_default();
                after["media"] = serde_json::json!(media);
                let change = Change::new(Some(scope.org_id), "version.created", "version", v.id);
                tx.record(&Actor::of(&scope), change.after(&after)).await?;
                Ok(v)
            })
        })
        .await
    }

    /// The versions of a task, oldest first (`sort=-created_at`: newest first).
    pub async fn versions(&self, task_id: Uuid, q: &ListQuery) -> Result<Page<Version>> {
        self.task(task_id).await?;
        let filter = "org_id = $1 AND task_id = $2";
        let args = vec![self.org_id().into(), task_id.into()];
        self.page(VERSION_COLS, "versions", filter, args, q, |v: &Version| {
            v.id
        })
        .await
    }

    pub async fn version(&self, id: Uuid) -> Result<Version> {
        self.one(VERSION_COLS, "versions", id, "version").await
    }

    /// The poster of each shot and asset of a project that has one: the first file with a
    /// poster of its newest version (of any of its tasks) that has such a file, by the id of the
    /// shot or asset.
    pub async fn latest_posters(
        &self,
        project_id: Uuid,
    ) -> Result<std::collections::HashMap<Uuid, Uuid>> {
        let rows: Vec<(Option<Uuid>, Option<Uuid>, Uuid)> = self
            .read(
                "SELECT shot_id, asset_id, media_file_id FROM (
                   SELECT t.shot_id, t.asset_id, vm.media_file_id, ROW_NUMBER() OVER (
                     PARTITION BY t.shot_id, t.asset_id ORDER BY v.id DESC, vm.position) AS n
                   FROM versions v
                   JOIN version_media vm ON vm.org_id = v.org_id AND vm.version_id = v.id
                   JOIN media_files f ON f.org_id = vm.org_id AND f.id = vm.media_file_id
                   JOIN tasks t ON t.org_id = v.org_id AND t.id = v.task_id
                   WHERE v.org_id = $1 AND v.project_id = $2 AND f.poster_hash IS NOT NULL
                 ) latest WHERE n = 1",
                &[self.org_id().into(), project_id.into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(shot, asset, file)| Some((shot.or(asset)?, file)))
            .collect())
    }

    /// For each task of a project with one: its newest version that a browser can play (a file
    /// with a proxy and a poster), and that file, by the task's id.
    pub async fn latest_playable(
        &self,
        project_id: Uuid,
    ) -> Result<std::collections::HashMap<Uuid, (Uuid, Uuid)>> {
        let rows: Vec<(Uuid, Uuid, Uuid)> = self
            .read(
                "SELECT task_id, version_id, media_file_id FROM (
                   SELECT v.task_id, v.id AS version_id, vm.media_file_id, ROW_NUMBER() OVER (
                     PARTITION BY v.task_id ORDER BY v.id DESC, vm.position) AS n
                   FROM versions v
                   JOIN version_media vm ON vm.org_id = v.org_id AND vm.version_id = v.id
                   JOIN media_files f ON f.org_id = vm.org_id AND f.id = vm.media_file_id
                   WHERE v.org_id = $1 AND v.project_id = $2
                     AND f.poster_hash IS NOT NULL AND f.proxy_hash IS NOT NULL
                 ) latest WHERE n = 1",
                &[self.org_id().into(), project_id.into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(task, version, file)| (task, (version, file)))
            .collect())
    }

    /// The files versions are made of, in order, for each of `versions` that has any.
    pub async fn versions_media(
        &self,
        versions: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<crate::media::MediaFile>>> {
        let mut out: std::collections::HashMap<Uuid, Vec<crate::media::MediaFile>> =
            std::collections::HashMap::new();
        for chunk in versions.chunks(200) {
            let mut args: Vec<crate::Arg> = vec![self.org_id().into()];
            let marks: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    args.push((*v).into());
                    format!("${}", i + 2)
                })
                .collect();
            let cols: Vec<String> = crate::media::FILE_COLS
                .split(", ")
                .map(|c| format!("f.{c}"))
                .collect();
            let text = format!(
                "SELECT vm.version_id, {} FROM version_media vm
                 JOIN media_files f ON f.org_id = vm.org_id AND f.id = vm.media_file_id
                 WHERE vm.org_id = $1 AND vm.version_id IN ({})
                 ORDER BY vm.version_id, vm.position",
                cols.join(", "),
                marks.join(", ")
            );
            let rows: Vec<VersionFile> = self.read(&text, &args).await?;
            for r in rows {
                out.entry(r.0).or_default().push(r.1);
            }
        }
        Ok(out)
    }

    /// A project's latest versions, newest first, at most `limit` (through `versions_project`).
    pub async fn latest_versions(&self, project_id: Uuid, limit: u32) -> Result<Vec<Version>> {
        self.read(
            &format!(
                "SELECT {VERSION_COLS} FROM versions WHERE org_id = $1 AND project_id = $2 ORDER BY id DESC LIMIT $3"
            ),
            &[
                self.org_id().into(),
                project_id.into(),
                i64::from(limit).into(),
            ],
        )
        .await
    }
}

impl Tenant<'_> {
    pub async fn create_playlist(
        &self,
        project_id: Uuid,
        name: &str,
        items: &[Uuid],
    ) -> Result<PlaylistWithItems> {
        let scope = self.scope().clone();
        let name = validate::name("name", name, 200)?;
        check_items(items)?;
        let now = Millis(now_ms());
        let p = Playlist {
            id: new_id(),
            org_id: scope.org_id,
            project_id,
            name,
            created_by: scope.user_id,
            created_at: now,
            updated_at: now,
            item_count: items.len() as i64,
            version: 1,
        };
        let items = items.to_vec();
        self.write(move |tx| {
            Box::pin(async move {
                crate::exists(tx, "projects", scope.org_id, project_id, "project").await?;
                let args = [
                    p.id.into(),
                    p.org_id.into(),
                    p.project_id.into(),
                    (&p.name).into(),
                    p.created_by.into(),
                    p.created_at.into(),
                    p.updated_at.into(),
                    p.version.into(),
                ];
                tx.execute(
                    "INSERT INTO playlists
                     (id, org_id, project_id, name, created_by, created_at, updated_at, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &args,
                )
                .await?;
                write_items(tx, scope.org_id, project_id, p.id, &items).await?;
                let items = tx
                    .query::<PlaylistItem>(ITEMS, &[scope.org_id.into(), p.id.into()])
                    .await?;
                let out = PlaylistWithItems { playlist: p, items };
                let change = Change::new(
                    Some(scope.org_id),
                    "playlist.created",
                    "playlist",
                    out.playlist.id,
                );
                tx.record(&Actor::of(&scope), change.after(&out)).await?;
                Ok(out)
            })
        })
        .await
    }

    /// The playlists of a project, without their items.
    pub async fn playlists(&self, project_id: Uuid, q: &ListQuery) -> Result<Page<Playlist>> {
        let scope = self.scope();
        self.project(project_id).await?;
        let (cmp, dir) = q.order();
        let text = format!(
            "SELECT {PLAYLIST_COLS} FROM playlists p WHERE p.org_id = $1 AND p.project_id = $2 AND ($3 IS NULL OR p.id {cmp} $3) ORDER BY p.id {dir} LIMIT $4"
        );
        let args = [
            scope.org_id.into(),
            project_id.into(),
            q.after.into(),
            (q.limit as i64 + 1).into(),
        ];
        let items = self.read(&text, &args).await?;
        let total = self
            .scalar(
                "SELECT COUNT(*) FROM playlists WHERE org_id = $1 AND project_id = $2",
                &[scope.org_id.into(), project_id.into()],
            )
            .await?;
        Ok(q.finish(items, total, |p| p.id))
    }

    pub async fn playlist(&self, id: Uuid) -> Result<PlaylistWithItems> {
        let scope = self.scope();
        let text =
            format!("SELECT {PLAYLIST_COLS} FROM playlists p WHERE p.org_id = $1 AND p.id = $2");
        let args = [scope.org_id.into(), id.into()];
        let playlist = self
            .read_opt(&text, &args)
            .await?
            .ok_or(StoreError::NotFound { entity: "playlist" })?;
        let items = self.read(ITEMS, &args).await?;
        Ok(PlaylistWithItems { playlist, items })
    }

    /// Replaces a playlist's items with `items`, in that order: adding, removing and reordering
    /// are all one write of the whole list.
    pub async fn set_playlist_items(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        items: &[Uuid],
    ) -> Result<PlaylistWithItems> {
        check_items(items)?;
        let scope = self.scope().clone();
        let items = items.to_vec();
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT {PLAYLIST_COLS} FROM playlists p WHERE p.org_id = $1 AND p.id = $2{}",
                    tx.lock_rows()
                );
                let before: Playlist = tx
                    .query_opt(&text, &[scope.org_id.into(), id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "playlist" })?;
                check_version("playlist", expected_version, before.version)?;
                let before_items = tx
                    .query::<PlaylistItem>(ITEMS, &[scope.org_id.into(), id.into()])
                    .await?;
                write_items(tx, scope.org_id, before.project_id, id, &items).await?;
                let mut after = before.clone();
                after.version += 1;
                after.updated_at = Millis(now_ms());
                after.item_count = items.len() as i64;
                let args = [
                    after.updated_at.into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "playlist",
                    None,
                    before.version,
                    "UPDATE playlists SET updated_at = $1, version = $2
                         WHERE org_id = $3 AND id = $4 AND version = $5",
                    &args,
                )
                .await?;
                let items = tx
                    .query::<PlaylistItem>(ITEMS, &[scope.org_id.into(), id.into()])
                    .await?;
                let before = PlaylistWithItems {
                    playlist: before,
                    items: before_items,
                };
                let after = PlaylistWithItems {
                    playlist: after,
                    items,
                };
                let change = Change::new(Some(scope.org_id), "playlist.updated", "playlist", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }
}
