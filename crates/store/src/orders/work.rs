//! The collaboration an award opens (migration 0066). The vendor reads and acts on exactly the
//! order's work: its shots, tasks and assets and the tasks of those shots and assets, their
//! notes, the tasks' versions and the versions' files. It writes notes there and hands in
//! versions, made of its own files, which become files of the production's. Its own artists,
//! assigned to the order's tasks, reach those tasks and nothing else. All of it lasts while the
//! award runs: once the order is completed or cancelled the vendor finds none of it.
//!
//! The work is the production's rows. Every read here is a platform read that binds the
//! production's organisation, made only after the caller was found to be a side of the order
//! and the row to be part of its work; every write locks the order again and checks that it
//! is still awarded before it touches anything.

use mstation_core::identity::Permission;
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{DeliveredVersion, OrderState, OrdersRule, ScopeKind, WorkOrder, party_order};
use crate::media::{FILE_COLS, MediaFile, copy_file_tx};
use crate::tracking::WorkItem;
use crate::tracking::crew::work_items;
use crate::tracking::notes::{NOTE_INSERT, Note, OnFrames};
use crate::tracking::versions::add_version_tx;
use crate::{
    Actor, Arg, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, Tenant,
    WriteTx, new_id, now_ms,
};

/// The most artists one task of an order takes.
pub const MOST_ARTISTS: usize = 50;

/// One of the order's shots, tasks or assets with what its parties share of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkDetail {
    pub order_id: Uuid,
    pub item: WorkItem,
    /// A shot's or asset's tasks that are part of the work.
    pub tasks: Vec<WorkItem>,
    /// A task's versions, newest first, each with its files.
    pub versions: Vec<WorkVersion>,
    /// The notes on it and on its versions, oldest first; a client's note production has not
    /// published yet is not among them.
    pub notes: Vec<WorkNote>,
    /// The vendor's artists on a task.
    pub artists: Vec<WorkArtist>,
}

/// Which side of the order wrote something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkSide {
    Production,
    Vendor,
}

/// Who wrote something of the work, as the reader may know them: the vendor's people by name
/// to both sides; the production's by name to the production, by the production's name to
/// the vendor (its people are not the vendor's to know).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkAuthor {
    pub side: WorkSide,
    pub name: String,
}

/// A version of a task of the work, with its files.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkVersion {
    pub id: Uuid,
    pub task_id: Uuid,
    /// 1, 2, 3 … per task.
    pub number: i64,
    pub comment: String,
    pub author: WorkAuthor,
    pub created_at: Millis,
    /// Its files, in order: read through the order (`/work-orders/{order_id}/media/{media_id}`).
    pub media: Vec<WorkFile>,
}

/// A file of a version of the work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkFile {
    pub id: Uuid,
    pub name: String,
    pub content_type: Option<String>,
    pub size: i64,
    /// Whether its browser proxy is made (`…/proxy`).
    pub proxy: bool,
}

/// A note on the work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkNote {
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    pub shot_id: Option<Uuid>,
    pub asset_id: Option<Uuid>,
    pub version_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub author: WorkAuthor,
    pub body: String,
    pub frame: Option<i64>,
    pub frame_out: Option<i64>,
    pub created_at: Millis,
}

/// One of the vendor's artists on a task of the order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkArtist {
    pub user_id: Uuid,
    pub name: String,
    pub assigned_at: Millis,
}

impl FromRow for WorkArtist {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(WorkArtist {
            user_id: r.get()?,
            name: r.get()?,
            assigned_at: r.get()?,
        })
    }
}

/// A task of an awarded order one of the vendor's artists is on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignedWork {
    pub order_id: Uuid,
    pub order_title: String,
    /// The production the work is for.
    pub client_name: String,
    pub due_on: String,
    pub task: WorkItem,
}

/// A note on one of the order's shots, tasks or assets, or on a version of one of its tasks.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkNote {
    pub body: String,
    /// A version of the task the note is on, when it is about that version.
    #[serde(default)]
    pub version_id: Option<Uuid>,
    /// The frame it is about, and the last of a range.
    #[serde(default)]
    pub frame: Option<i64>,
    #[serde(default)]
    pub frame_out: Option<i64>,
}

/// The vendor's work handed in: the task's next version, made of the vendor's own files.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandIn {
    #[serde(default)]
    pub comment: String,
    /// The vendor's files, in order (at most 20): each becomes a file of the production's.
    #[serde(default)]
    pub media: Vec<Uuid>,
}

/// The vendor's artists on a task of the order, replacing those there were.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetArtists {
    pub user_ids: Vec<Uuid>,
}

/// The shots, assets and tasks of an order's work.
#[derive(Debug, Default)]
struct WorkSet {
    shots: Vec<Uuid>,
    assets: Vec<Uuid>,
    tasks: Vec<Uuid>,
}

impl WorkSet {
    fn kind_of(&self, id: Uuid) -> Option<ScopeKind> {
        if self.shots.contains(&id) {
            Some(ScopeKind::Shot)
        } else if self.assets.contains(&id) {
            Some(ScopeKind::Asset)
        } else if self.tasks.contains(&id) {
            Some(ScopeKind::Task)
        } else {
            None
        }
    }
}

/// Who is reading the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Production,
    /// The vendor's members who read its work orders: the whole of it.
    Vendor,
    /// The vendor's other members: the tasks they are assigned to.
    Artist,
}

/// A side's view of an order's work.
struct Access {
    order: WorkOrder,
    side: Side,
    set: WorkSet,
}

impl Access {
    /// The author of something, `(name, the vendor that wrote it through an order)`, as this
    /// side may know them: a vendor's people by name to the production and to that vendor;
    /// everyone else, to a vendor, by the production's name.
    fn author(&self, (name, by): (String, Option<Uuid>)) -> WorkAuthor {
        let own_vendor = by.is_some() && by == self.order.vendor_org_id;
        match (by, self.side) {
            (Some(_), Side::Production) => WorkAuthor {
                side: WorkSide::Vendor,
                name,
            },
            (None, Side::Production) => WorkAuthor {
                side: WorkSide::Production,
                name,
            },
            (Some(_), _) if own_vendor => WorkAuthor {
                side: WorkSide::Vendor,
                name,
            },
            _ => WorkAuthor {
                side: WorkSide::Production,
                name: self.order.org_name.clone(),
            },
        }
    }
}

/// An author's name and the vendor that wrote the row through an order, if one did
/// (`work_order_contributions`, of the production bound as `$1`): the last two columns of a
/// read of notes or versions, `{id}` standing for the row's id column.
const AUTHOR: &str = "u.display_name, (SELECT c.vendor_org_id FROM work_order_contributions c WHERE c.org_id = $1 AND c.entity_id = {id} LIMIT 1)";

/// An author as `AUTHOR` reads them.
fn author_of(r: &mut Row<'_>) -> Result<(String, Option<Uuid>), DbError> {
    Ok((r.get()?, r.get()?))
}

/// Inside a write: records that the vendor wrote `entity` (a `version`, a `note`) into the
/// production's tracking through the order.
async fn contributed(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    vendor: Uuid,
    order: Uuid,
    entity: Uuid,
    kind: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO work_order_contributions (org_id, vendor_org_id, order_id, entity_id, kind, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[org.into(), vendor.into(), order.into(), entity.into(), kind.into(), Millis(now_ms()).into()],
    )
    .await?;
    Ok(())
}

struct NoteRow(WorkNote, (String, Option<Uuid>));

impl FromRow for NoteRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let n = WorkNote {
            id: r.get()?,
            task_id: r.get()?,
            shot_id: r.get()?,
            asset_id: r.get()?,
            version_id: r.get()?,
            parent_id: r.get()?,
            body: r.get()?,
            frame: r.get()?,
            frame_out: r.get()?,
            created_at: r.get()?,
            author: WorkAuthor {
                side: WorkSide::Production,
                name: String::new(),
            },
        };
        Ok(NoteRow(n, author_of(r)?))
    }
}

/// `$from, $from+1, …` for `n` values.
fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn work_item_missing() -> StoreError {
    StoreError::NotFound {
        entity: "work_item",
    }
}

fn order_missing() -> StoreError {
    StoreError::NotFound {
        entity: "work_order",
    }
}

/// The tasks of `org` on the shots and assets named, by id.
async fn tasks_on(
    p: &Platform<'_>,
    org: Uuid,
    shots: &[Uuid],
    assets: &[Uuid],
) -> Result<Vec<Uuid>> {
    let mut out = Vec::new();
    for (column, ids) in [("shot_id", shots), ("asset_id", assets)] {
        for chunk in ids.chunks(200) {
            let text = format!(
                "SELECT id FROM tasks WHERE org_id = $1 AND {column} IN ({})",
                marks(2, chunk.len())
            );
            let mut args: Vec<Arg> = vec![org.into()];
            args.extend(chunk.iter().map(|id| Arg::from(*id)));
            let found: Vec<(Uuid,)> = p.read(&text, &args).await?;
            out.extend(found.into_iter().map(|(id,)| id));
        }
    }
    Ok(out)
}

impl Tenant<'_> {
    /// The caller's view of the work of order `order_id`: the production's members who read
    /// work orders see all of it; the vendor's, while the order is awarded to it, all of it
    /// too, and its other members the tasks they are assigned to. Anyone else, and the vendor
    /// once the award has ended, does not find it.
    async fn work_access(&self, order_id: Uuid) -> Result<Access> {
        let o = self.work_order(order_id).await?;
        let scope = self.scope();
        let reads_orders = scope.can(Permission::ReadWorkOrders);
        let side = if o.own && reads_orders {
            Side::Production
        } else if o.vendor_org_id == Some(scope.org_id) && o.state == OrderState::Awarded {
            if reads_orders {
                Side::Vendor
            } else {
                Side::Artist
            }
        } else {
            return Err(order_missing());
        };
        let p = self.platform();
        let mut set = WorkSet::default();
        for s in &o.scope {
            match s.kind {
                ScopeKind::Shot => set.shots.push(s.id),
                ScopeKind::Asset => set.assets.push(s.id),
                ScopeKind::Task => set.tasks.push(s.id),
            }
        }
        for t in tasks_on(&p, o.org_id, &set.shots, &set.assets).await? {
            if !set.tasks.contains(&t) {
                set.tasks.push(t);
            }
        }
        if side == Side::Artist {
            let mine: Vec<(Uuid,)> = p
                .read(
                    "SELECT task_id FROM work_order_artists WHERE org_id = $1 AND order_id = $2 AND user_id = $3",
                    &[scope.org_id.into(), order_id.into(), scope.user_id.into()],
                )
                .await?;
            set.shots.clear();
            set.assets.clear();
            set.tasks.retain(|t| mine.iter().any(|(m,)| m == t));
            if set.tasks.is_empty() {
                return Err(order_missing());
            }
        }
        Ok(Access {
            order: o,
            side,
            set,
        })
    }

    /// The versions of the order's tasks the caller reads, newest first (the last 200): those
    /// a delivery may hand over.
    pub async fn work_versions(&self, order_id: Uuid) -> Result<Vec<DeliveredVersion>> {
        let a = self.work_access(order_id).await?;
        if a.set.tasks.is_empty() {
            return Ok(Vec::new());
        }
        let text = format!(
            "SELECT id, task_id, number FROM versions WHERE org_id = $1 AND task_id IN ({}) ORDER BY created_at DESC, id DESC LIMIT 200",
            marks(2, a.set.tasks.len())
        );
        let mut args: Vec<Arg> = vec![a.order.org_id.into()];
        args.extend(a.set.tasks.iter().map(|id| Arg::from(*id)));
        let rows: Vec<(Uuid, Uuid, i64)> = self.platform().read(&text, &args).await?;
        Ok(rows
            .into_iter()
            .map(|(id, task_id, number)| DeliveredVersion {
                id,
                task_id,
                number,
            })
            .collect())
    }

    /// The tasks of the order's work the caller reads (`work_access`).
    pub(super) async fn work_tasks(&self, order_id: Uuid) -> Result<Vec<Uuid>> {
        Ok(self.work_access(order_id).await?.set.tasks)
    }

    /// The order's shots, assets and tasks (those of its shots and assets included) as the
    /// caller reads them (`work_access`): shots first, then assets, then tasks.
    pub async fn order_work(&self, order_id: Uuid) -> Result<Vec<WorkItem>> {
        let a = self.work_access(order_id).await?;
        let p = self.platform();
        let org = a.order.org_id;
        let mut out = Vec::new();
        for (kind, ids) in [
            ("shot", &a.set.shots),
            ("asset", &a.set.assets),
            ("task", &a.set.tasks),
        ] {
            for chunk in ids.chunks(200) {
                out.extend(work_items(&p, org, kind, chunk).await?);
            }
        }
        Ok(out)
    }

    /// One shot, task or asset of the order's work with its tasks, versions, notes and
    /// artists; not found unless the caller reads it (`work_access`).
    pub async fn work_item(&self, order_id: Uuid, item_id: Uuid) -> Result<WorkDetail> {
        let a = self.work_access(order_id).await?;
        let kind = a.set.kind_of(item_id).ok_or_else(work_item_missing)?;
        let p = self.platform();
        let org = a.order.org_id;
        let item = work_items(&p, org, kind.as_str(), &[item_id])
            .await?
            .pop()
            .ok_or_else(work_item_missing)?;
        let mut tasks = Vec::new();
        let mut versions = Vec::new();
        let mut artists = Vec::new();
        let subject = match kind {
            ScopeKind::Shot | ScopeKind::Asset => {
                let (shots, assets) = if kind == ScopeKind::Shot {
                    (vec![item_id], Vec::new())
                } else {
                    (Vec::new(), vec![item_id])
                };
                let mut ids = tasks_on(&p, org, &shots, &assets).await?;
                ids.retain(|t| a.set.tasks.contains(t));
                tasks = work_items(&p, org, "task", &ids).await?;
                if kind == ScopeKind::Shot {
                    "shot_id"
                } else {
                    "asset_id"
                }
            }
            ScopeKind::Task => {
                versions = task_versions(&p, &a, item_id).await?;
                artists = p
                    .read(
                        "SELECT a.user_id, u.display_name, a.created_at FROM work_order_artists a JOIN users u ON u.id = a.user_id
                         WHERE a.client_org_id = $1 AND a.order_id = $2 AND a.task_id = $3 ORDER BY a.created_at, a.user_id",
                        &[org.into(), order_id.into(), item_id.into()],
                    )
                    .await?;
                "task_id"
            }
        };
        let version_ids: Vec<Uuid> = versions.iter().map(|v| v.id).collect();
        let mut text = format!(
            "SELECT n.id, n.task_id, n.shot_id, n.asset_id, n.version_id, n.parent_id, n.body, n.frame, n.frame_out, n.created_at, {AUTHOR}
             FROM notes n JOIN users u ON u.id = n.author_id
             WHERE n.org_id = $1 AND n.held_at IS NULL AND (n.{subject} = $2"
        )
        .replace("{id}", "n.id");
        if !version_ids.is_empty() {
            text.push_str(&format!(
                " OR n.version_id IN ({})",
                marks(3, version_ids.len())
            ));
        }
        text.push_str(") ORDER BY n.created_at, n.id");
        let mut args: Vec<Arg> = vec![org.into(), item_id.into()];
        args.extend(version_ids.iter().map(|id| Arg::from(*id)));
        let rows: Vec<NoteRow> = p.read(&text, &args).await?;
        let notes = rows
            .into_iter()
            .map(|NoteRow(mut n, by)| {
                n.author = a.author(by);
                n
            })
            .collect();
        Ok(WorkDetail {
            order_id,
            item,
            tasks,
            versions,
            notes,
            artists,
        })
    }

    /// A file of a version of one of the order's tasks, for reading its bytes through the
    /// order; not found unless the caller reads that task (`work_access`).
    pub async fn work_media(&self, order_id: Uuid, media_id: Uuid) -> Result<MediaFile> {
        let a = self.work_access(order_id).await?;
        let missing = StoreError::NotFound {
            entity: "media file",
        };
        if a.set.tasks.is_empty() {
            return Err(missing);
        }
        let text = format!(
            "SELECT {} FROM media_files f JOIN version_media m ON m.media_file_id = f.id AND m.org_id = f.org_id
             JOIN versions v ON v.id = m.version_id WHERE f.org_id = $1 AND f.id = $2 AND v.task_id IN ({}) LIMIT 1",
            prefixed(FILE_COLS, "f"),
            marks(3, a.set.tasks.len())
        );
        let mut args: Vec<Arg> = vec![a.order.org_id.into(), media_id.into()];
        args.extend(a.set.tasks.iter().map(|id| Arg::from(*id)));
        self.platform().read_opt(&text, &args).await?.ok_or(missing)
    }

    /// A note on one of the order's shots, tasks or assets, or on a version of one of its tasks,
    /// by either side. A vendor's @ mentions nobody: the production's members are not its to
    /// name.
    pub async fn add_work_note(
        &self,
        order_id: Uuid,
        item_id: Uuid,
        new: NewWorkNote,
    ) -> Result<WorkNote> {
        let a = self.work_access(order_id).await?;
        let kind = a.set.kind_of(item_id).ok_or_else(work_item_missing)?;
        let body = validate::text("body", &new.body, 20_000)?;
        if body.trim().is_empty() {
            return Err(FieldError::new("body", "required").into());
        }
        let at = OnFrames::from(new.frame);
        let at = OnFrames {
            frame_out: new.frame_out,
            ..at
        }
        .checked()?;
        if new.version_id.is_some() && kind != ScopeKind::Task {
            return Err(FieldError::new("version_id", "not_a_version_of_this_task").into());
        }
        let scope = self.scope().clone();
        let (org, vendor) = (a.order.org_id, a.order.vendor_org_id);
        let (side, org_name) = (a.side, a.order.org_name.clone());
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    still_awarded(tx, &scope, order_id, side).await?;
                    if side == Side::Artist {
                        still_assigned(tx, &scope, order_id, item_id).await?;
                    }
                    let project_id: Uuid = tx
                        .scalar_opt(
                            &format!(
                                "SELECT project_id FROM {}s WHERE org_id = $1 AND id = $2",
                                kind.as_str()
                            ),
                            &[org.into(), item_id.into()],
                        )
                        .await?
                        .ok_or_else(work_item_missing)?;
                    if let Some(v) = new.version_id {
                        let of: Option<Uuid> = tx
                            .scalar_opt(
                                "SELECT task_id FROM versions WHERE org_id = $1 AND id = $2",
                                &[org.into(), v.into()],
                            )
                            .await?;
                        if of != Some(item_id) {
                            return Err(FieldError::new(
                                "version_id",
                                "not_a_version_of_this_task",
                            )
                            .into());
                        }
                    }
                    let subject =
                        |k: ScopeKind| (kind == k && new.version_id.is_none()).then_some(item_id);
                    let note = Note {
                        id: new_id(),
                        project_id,
                        task_id: subject(ScopeKind::Task),
                        shot_id: subject(ScopeKind::Shot),
                        asset_id: subject(ScopeKind::Asset),
                        version_id: new.version_id,
                        parent_id: None,
                        author_id: scope.user_id,
                        body,
                        frame: at.frame,
                        frame_out: at.frame_out,
                        drawing: None,
                        status_from: None,
                        status_to: None,
                        created_at: Millis(now_ms()),
                        mentions: String::new(),
                        held: false,
                    };
                    let args = [
                        org.into(),
                        note.id.into(),
                        note.project_id.into(),
                        note.task_id.into(),
                        note.shot_id.into(),
                        note.asset_id.into(),
                        note.version_id.into(),
                        Arg::from(None::<Uuid>),
                        note.author_id.into(),
                        (&note.body).into(),
                        note.frame.into(),
                        Arg::from(None::<Uuid>),
                        Arg::from(None::<Uuid>),
                        note.created_at.into(),
                        (&note.mentions).into(),
                        note.frame_out.into(),
                        Arg::from(None::<String>),
                        Arg::from(None::<Millis>),
                    ];
                    tx.execute(NOTE_INSERT, &args).await?;
                    if side != Side::Production
                        && let Some(v) = vendor
                    {
                        contributed(tx, org, v, order_id, note.id, "note").await?;
                    }
                    let name = display_name(tx, scope.user_id).await?;
                    let by = if side == Side::Production {
                        WorkSide::Production
                    } else {
                        WorkSide::Vendor
                    };
                    let mut shared = WorkNote {
                        id: note.id,
                        task_id: note.task_id,
                        shot_id: note.shot_id,
                        asset_id: note.asset_id,
                        version_id: note.version_id,
                        parent_id: None,
                        author: WorkAuthor { side: by, name },
                        body: note.body.clone(),
                        frame: note.frame,
                        frame_out: note.frame_out,
                        created_at: note.created_at,
                    };
                    let recorded =
                        Change::new(Some(org), "note.created", "note", note.id).after(&note);
                    // The vendor is told of the note as it reads it.
                    let mut told = shared.clone();
                    if by == WorkSide::Production {
                        told.author.name = org_name;
                    }
                    let mut after = serde_json::to_value(&told).unwrap_or_default();
                    after["order_id"] = serde_json::json!(order_id);
                    let news = vendor
                        .map(|v| {
                            Change::new(Some(v), "note.created", "note", note.id).after(&after)
                        })
                        .into_iter()
                        .collect();
                    tx.record_and_announce(&Actor::of(&scope), vec![recorded], news)
                        .await?;
                    shared.parent_id = note.parent_id;
                    Ok(shared)
                })
            })
            .await
    }

    /// The vendor hands in its work on one of the order's tasks: the task's next version, made
    /// of the vendor's own files, each becoming a file of the production's (counted against
    /// its quota). The vendor's members who deliver its work orders, and its artists on the
    /// task, hand in; the production adds versions in its own tracking.
    pub async fn hand_in(&self, order_id: Uuid, task_id: Uuid, h: HandIn) -> Result<WorkVersion> {
        let a = self.work_access(order_id).await?;
        if a.set.kind_of(task_id) != Some(ScopeKind::Task) {
            return Err(StoreError::NotFound { entity: "task" });
        }
        if a.side == Side::Production {
            return Err(OrdersRule::OtherSide.into());
        }
        let comment = validate::text("comment", &h.comment, 20_000)?;
        if h.media.len() > 20 {
            return Err(FieldError::new("media", "at_most_20").into());
        }
        let mut seen = std::collections::HashSet::new();
        if !h.media.iter().all(|m| seen.insert(*m)) {
            return Err(FieldError::new("media", "duplicate_file").into());
        }
        let scope = self.scope().clone();
        let org = a.order.org_id;
        let side = a.side;
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    still_awarded(tx, &scope, order_id, side).await?;
                    if side == Side::Artist {
                        still_assigned(tx, &scope, order_id, task_id).await?;
                    }
                    let project: Uuid = tx
                        .scalar_opt(
                            "SELECT project_id FROM tasks WHERE org_id = $1 AND id = $2",
                            &[org.into(), task_id.into()],
                        )
                        .await?
                        .ok_or(StoreError::NotFound { entity: "task" })?;
                    let actor = Actor::of(&scope);
                    let mut copies = Vec::new();
                    for m in &h.media {
                        copies
                            .push(copy_file_tx(tx, &actor, scope.org_id, *m, org, project).await?);
                    }
                    let ids: Vec<Uuid> = copies.iter().map(|f| f.id).collect();
                    let v = add_version_tx(tx, org, task_id, scope.user_id, comment, &ids).await?;
                    contributed(tx, org, scope.org_id, order_id, v.id, "version").await?;
                    let mut after = serde_json::to_value(&v).unwrap_or_default();
                    after["media"] = serde_json::json!(ids);
                    after["order_id"] = serde_json::json!(order_id);
                    let recorded =
                        Change::new(Some(org), "version.created", "version", v.id).after(&after);
                    let shared = WorkVersion {
                        id: v.id,
                        task_id,
                        number: v.number,
                        comment: v.comment,
                        author: WorkAuthor {
                            side: WorkSide::Vendor,
                            name: display_name(tx, scope.user_id).await?,
                        },
                        created_at: v.created_at,
                        media: copies
                            .into_iter()
                            .map(|f| WorkFile {
                                id: f.id,
                                name: f.name,
                                content_type: f.content_type,
                                size: f.size,
                                proxy: f.proxy_hash.is_some(),
                            })
                            .collect(),
                    };
                    let mut after = serde_json::to_value(&shared).unwrap_or_default();
                    after["order_id"] = serde_json::json!(order_id);
                    let news =
                        Change::new(Some(scope.org_id), "version.handed_in", "version", v.id)
                            .after(&after);
                    tx.record_and_announce(&actor, vec![recorded], vec![news])
                        .await?;
                    Ok(shared)
                })
            })
            .await
    }

    /// The vendor puts its artists on one of the order's tasks (replacing those there were):
    /// each a member of the vendor's.
    pub async fn set_work_artists(
        &self,
        order_id: Uuid,
        task_id: Uuid,
        s: SetArtists,
    ) -> Result<Vec<WorkArtist>> {
        let a = self.work_access(order_id).await?;
        if a.set.kind_of(task_id) != Some(ScopeKind::Task) {
            return Err(StoreError::NotFound { entity: "task" });
        }
        if a.side == Side::Production {
            return Err(OrdersRule::OtherSide.into());
        }
        if s.user_ids.len() > MOST_ARTISTS {
            return Err(FieldError::new("user_ids", "at_most_50").into());
        }
        let mut seen = std::collections::HashSet::new();
        if !s.user_ids.iter().all(|u| seen.insert(*u)) {
            return Err(FieldError::new("user_ids", "duplicate_member").into());
        }
        let scope = self.scope().clone();
        let org = a.order.org_id;
        let side = a.side;
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    still_awarded(tx, &scope, order_id, side).await?;
                    let vendor = scope.org_id;
                    for u in &s.user_ids {
                        if !crate::identity::is_member(tx, vendor, *u).await? {
                            return Err(FieldError::new("user_ids", "not_a_member").into());
                        }
                    }
                    tx.execute(
                        "DELETE FROM work_order_artists WHERE org_id = $1 AND order_id = $2 AND task_id = $3",
                        &[vendor.into(), order_id.into(), task_id.into()],
                    )
                    .await?;
                    let now = Millis(now_ms());
                    for u in &s.user_ids {
                        tx.execute(
                            "INSERT INTO work_order_artists (org_id, client_org_id, order_id, task_id, user_id, created_at)
                             VALUES ($1, $2, $3, $4, $5, $6)",
                            &[vendor.into(), org.into(), order_id.into(), task_id.into(), (*u).into(), now.into()],
                        )
                        .await?;
                    }
                    let after = serde_json::json!({"order_id": order_id, "task_id": task_id, "user_ids": s.user_ids});
                    let recorded = Change::new(Some(vendor), "work_order.artists_set", "task", task_id).after(&after);
                    let news = Change::new(Some(org), "work_order.artists_set", "task", task_id).after(&after);
                    tx.record_and_announce(&Actor::of(&scope), vec![recorded], vec![news]).await?;
                    let artists: Vec<WorkArtist> = tx
                        .query(
                            "SELECT a.user_id, u.display_name, a.created_at FROM work_order_artists a JOIN users u ON u.id = a.user_id
                             WHERE a.org_id = $1 AND a.order_id = $2 AND a.task_id = $3 ORDER BY a.created_at, a.user_id",
                            &[vendor.into(), order_id.into(), task_id.into()],
                        )
                        .await?;
                    Ok(artists)
                })
            })
            .await
    }

    /// The tasks of awarded orders the caller is one of the vendor's artists on, soonest due
    /// first.
    pub async fn assigned_work(&self) -> Result<Vec<AssignedWork>> {
        let scope = self.scope();
        let rows: Vec<AssignedRow> = self
            .read(
                "SELECT o.id, o.title, (SELECT name FROM orgs WHERE id = o.org_id), o.due_on, o.org_id, a.task_id
                 FROM work_order_artists a JOIN work_orders o ON o.id = a.order_id
                 WHERE a.org_id = $1 AND a.user_id = $2 AND o.state = 'awarded' AND o.vendor_org_id = $1
                 ORDER BY o.due_on, o.id, a.task_id",
                &[scope.org_id.into(), scope.user_id.into()],
            )
            .await?;
        let p = self.platform();
        let mut out = Vec::new();
        for r in rows {
            if let Some(task) = work_items(&p, r.client, "task", &[r.task]).await?.pop() {
                out.push(AssignedWork {
                    order_id: r.order_id,
                    order_title: r.title,
                    client_name: r.client_name,
                    due_on: r.due_on,
                    task,
                });
            }
        }
        Ok(out)
    }
}

struct AssignedRow {
    order_id: Uuid,
    title: String,
    client_name: String,
    due_on: String,
    client: Uuid,
    task: Uuid,
}

impl FromRow for AssignedRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(AssignedRow {
            order_id: r.get()?,
            title: r.get()?,
            client_name: r.get()?,
            due_on: r.get()?,
            client: r.get()?,
            task: r.get()?,
        })
    }
}

/// `cols` (a comma-separated list) each prefixed with `alias.`.
fn prefixed(cols: &str, alias: &str) -> String {
    cols.split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The versions of the order's task `task`, newest first (the last 100), each with its files.
async fn task_versions(p: &Platform<'_>, a: &Access, task: Uuid) -> Result<Vec<WorkVersion>> {
    let org = a.order.org_id;
    let text = format!(
        "SELECT v.id, v.task_id, v.number, v.comment, v.created_at, {AUTHOR}
         FROM versions v JOIN users u ON u.id = v.author_id
         WHERE v.org_id = $1 AND v.task_id = $2 ORDER BY v.number DESC LIMIT 100"
    )
    .replace("{id}", "v.id");
    let rows: Vec<VersionRow> = p.read(&text, &[org.into(), task.into()]).await?;
    let files: Vec<VersionFile> = p
        .read(
            "SELECT m.version_id, f.id, f.name, f.content_type, f.size, f.proxy_hash
             FROM version_media m JOIN media_files f ON f.id = m.media_file_id AND f.org_id = m.org_id
             JOIN versions v ON v.id = m.version_id WHERE m.org_id = $1 AND v.task_id = $2 ORDER BY m.position",
            &[org.into(), task.into()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|VersionRow(mut v, by)| {
            v.author = a.author(by);
            v.media = files
                .iter()
                .filter(|f| f.0 == v.id)
                .map(|f| f.1.clone())
                .collect();
            v
        })
        .collect())
}

struct VersionRow(WorkVersion, (String, Option<Uuid>));

impl FromRow for VersionRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let v = WorkVersion {
            id: r.get()?,
            task_id: r.get()?,
            number: r.get()?,
            comment: r.get()?,
            created_at: r.get()?,
            author: WorkAuthor {
                side: WorkSide::Production,
                name: String::new(),
            },
            media: Vec::new(),
        };
        Ok(VersionRow(v, author_of(r)?))
    }
}

struct VersionFile(Uuid, WorkFile);

impl FromRow for VersionFile {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let version = r.get()?;
        let (id, name, content_type, size) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let proxy: Option<String> = r.get()?;
        Ok(VersionFile(
            version,
            WorkFile {
                id,
                name,
                content_type,
                size,
                proxy: proxy.is_some(),
            },
        ))
    }
}

/// Inside a platform write: the order, locked, is still awarded to the caller's organisation
/// (for the vendor's sides) or still the caller's (for the production).
async fn still_awarded(
    tx: &mut WriteTx<'_>,
    scope: &mstation_core::TenantScope,
    order_id: Uuid,
    side: Side,
) -> Result<()> {
    let o = party_order(tx, scope.org_id, order_id).await?;
    let vendor = o.vendor_org_id == Some(scope.org_id);
    if side != Side::Production && (!vendor || o.state != OrderState::Awarded) {
        return Err(order_missing());
    }
    if o.state != OrderState::Awarded {
        return Err(OrdersRule::NotAwarded.into());
    }
    Ok(())
}

/// Inside a write: a user's display name.
async fn display_name(tx: &mut WriteTx<'_>, user: Uuid) -> Result<String> {
    Ok(tx
        .scalar_opt(
            "SELECT display_name FROM users WHERE id = $1",
            &[user.into()],
        )
        .await?
        .unwrap_or_default())
}

/// Inside a platform write: the caller is still one of the vendor's artists on the task.
async fn still_assigned(
    tx: &mut WriteTx<'_>,
    scope: &mstation_core::TenantScope,
    order_id: Uuid,
    task_id: Uuid,
) -> Result<()> {
    let found: Option<Uuid> = tx
        .scalar_opt(
            "SELECT user_id FROM work_order_artists WHERE org_id = $1 AND order_id = $2 AND task_id = $3 AND user_id = $4",
            &[scope.org_id.into(), order_id.into(), task_id.into(), scope.user_id.into()],
        )
        .await?;
    found
        .map(|_| ())
        .ok_or(StoreError::NotFound { entity: "task" })
}
