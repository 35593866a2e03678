//! Notes on shots, assets and versions (notes on tasks, with their status change, are in
//! `tasks`), the @mentions of every note resolved to members, and a person's mentions feed.

use mstation_core::TenantScope;
use mstation_core::identity::Permission;
use mstation_core::tracking::drawing::{self, Shape};
use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids_out;
use crate::identity;
use crate::{
    Actor, COUNT_CAP, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError,
    Tenant, WriteTx, new_id, now_ms,
};

/// What a note is on, besides a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteOn {
    Shot(Uuid),
    Asset(Uuid),
    Version(Uuid),
}

impl NoteOn {
    fn id(self) -> Uuid {
        match self {
            NoteOn::Shot(id) | NoteOn::Asset(id) | NoteOn::Version(id) => id,
        }
    }
    fn entity(self) -> &'static str {
        match self {
            NoteOn::Shot(_) => "shot",
            NoteOn::Asset(_) => "asset",
            NoteOn::Version(_) => "version",
        }
    }
    fn table(self) -> &'static str {
        match self {
            NoteOn::Shot(_) => "shots",
            NoteOn::Asset(_) => "assets",
            NoteOn::Version(_) => "versions",
        }
    }
    fn column(self) -> &'static str {
        match self {
            NoteOn::Shot(_) => "shot_id",
            NoteOn::Asset(_) => "asset_id",
            NoteOn::Version(_) => "version_id",
        }
    }
}

/// Where in the picture a note is: on a frame, or on a range of frames (`frame` to `frame_out`,
/// both included), with what was drawn on the frame. A plain `Option<i64>` is a note on one
/// frame, or on none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnFrames {
    pub frame: Option<i64>,
    pub frame_out: Option<i64>,
    pub drawing: Option<Vec<Shape>>,
}

impl From<Option<i64>> for OnFrames {
    fn from(frame: Option<i64>) -> Self {
        OnFrames {
            frame,
            ..Default::default()
        }
    }
}

/// The frames a note may name: a production's frame numbers are never negative, nor beyond a
/// hundred million (a week of 24 fps is 14.5 million).
const FRAMES: std::ops::RangeInclusive<i64> = 0..=100_000_000;

impl OnFrames {
    /// Checked: frames in range, a range's out at or after its in, a drawing only on a frame
    /// and made canonical (`drawing::check`; a shape refused names its place, `drawing[2]`).
    pub(crate) fn checked(self) -> Result<Self> {
        if self.frame.is_some_and(|f| !FRAMES.contains(&f)) {
            return Err(FieldError::new("frame", "out_of_range").into());
        }
        if let Some(out) = self.frame_out {
            match self.frame {
                None => return Err(FieldError::new("frame_out", "range_without_frame").into()),
                Some(f) if out < f || !FRAMES.contains(&out) => {
                    return Err(FieldError::new("frame_out", "out_of_range").into());
                }
                Some(_) => {}
            }
        }
        let drawing = match self.drawing {
            None => None,
            Some(_) if self.frame.is_none() => {
                return Err(FieldError::new("drawing", "drawing_without_frame").into());
            }
            Some(shapes) => Some(
                drawing::check(shapes).map_err(|e| StoreError::InvalidValue {
                    field: format!("drawing[{}]", e.index),
                    reason: e.reason,
                })?,
            ),
        };
        // A range of one frame is that frame.
        let frame_out = self.frame_out.filter(|&o| Some(o) != self.frame);
        Ok(OnFrames {
            frame: self.frame,
            frame_out,
            drawing,
        })
    }
}

/// A note on exactly one of a task, a shot, an asset or a version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Note {
    pub id: Uuid,
    pub project_id: Uuid,
    pub task_id: Option<Uuid>,
    pub shot_id: Option<Uuid>,
    pub asset_id: Option<Uuid>,
    pub version_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub body: String,
    /// The frame the note is about, for review notes.
    pub frame: Option<i64>,
    /// The last frame of the range the note is about (from `frame`, both included).
    pub frame_out: Option<i64>,
    /// What was drawn on `frame` (shown through the note's range), in coordinates relative to
    /// the picture.
    pub drawing: Option<Vec<Shape>>,
    pub status_from: Option<Uuid>,
    pub status_to: Option<Uuid>,
    pub created_at: Millis,
    /// User ids of the members the body mentions (`@e-mail` or `@"Display Name"`).
    #[serde(serialize_with = "ids_out")]
    #[schema(value_type = Vec<Uuid>)]
    pub mentions: String,
    /// A client's note that production has not published yet: read only by its author and by
    /// those who plan the production (producers, coordinators), its mentions not yet resolved.
    pub held: bool,
}

impl Note {
    /// Whether the caller may read this note: a held note is its author's and production's.
    pub fn readable_by(&self, scope: &TenantScope) -> bool {
        !self.held || self.author_id == scope.user_id || scope.can(Permission::PlanProduction)
    }
}

/// The condition, on the notes aliased `n`, that leaves out the held notes the caller may not
/// read, for reads that cannot filter their rows afterwards (counts, searches): `user` and
/// `plans` are the numbers of the parameters that carry the caller's user id and
/// `plans_production(scope)`.
pub(crate) fn unheld(user: usize, plans: usize) -> String {
    format!("(n.held_at IS NULL OR n.author_id = ${user} OR ${plans} = 1)")
}

/// Whether the note found as `(author, held_at)` may take the caller's reply. A held note is
/// answered only by its author (whose reply is held too): a planner's reply would reach the
/// artists before the note it answers, so it waits until the note is published; to anyone else
/// a held note is `missing`, as one that is not there.
pub(crate) fn reply_to(
    found: Option<(Uuid, Option<Millis>)>,
    scope: &TenantScope,
    missing: &'static str,
) -> Result<()> {
    match found {
        Some((_, None)) => Ok(()),
        Some((author, Some(_))) if author == scope.user_id => Ok(()),
        Some(_) if scope.can(Permission::PlanProduction) => {
            Err(FieldError::new("parent_id", "held_publish_first").into())
        }
        _ => Err(FieldError::new("parent_id", missing).into()),
    }
}

/// 1 when the caller plans the production (and so reads held notes), else 0.
pub(crate) fn plans_production(scope: &TenantScope) -> i64 {
    i64::from(scope.can(Permission::PlanProduction))
}

pub(crate) const NOTE_COLS: &str = "id, project_id, task_id, shot_id, asset_id, version_id, parent_id, author_id, body, frame, status_from, status_to, created_at, mentions, frame_out, drawing, held_at";

/// A row of `NOTE_COLS`, in that order.
impl FromRow for Note {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Note {
            id: r.get()?,
            project_id: r.get()?,
            task_id: r.get()?,
            shot_id: r.get()?,
            asset_id: r.get()?,
            version_id: r.get()?,
            parent_id: r.get()?,
            author_id: r.get()?,
            body: r.get()?,
            frame: r.get()?,
            status_from: r.get()?,
            status_to: r.get()?,
            created_at: r.get()?,
            mentions: r.get()?,
            frame_out: r.get()?,
            // Written by this store from checked shapes.
            drawing: r
                .get::<Option<String>>()?
                .and_then(|j| serde_json::from_str(&j).ok()),
            held: r.get::<Option<Millis>>()?.is_some(),
        })
    }
}

/// A note's row, its columns as `NOTE_COLS` after the organisation.
pub(crate) const NOTE_INSERT: &str = "INSERT INTO notes (org_id, id, project_id, task_id, shot_id, asset_id, version_id, parent_id, author_id, body, frame, status_from, status_to, created_at, mentions, frame_out, drawing, held_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// Inside a write: resolves the mentions of `note`'s body to members of the scope's
/// organisation (an address or a name nobody there has, or that two members share, mentions
/// nobody), then inserts the note and its mentions and records it. The recorded note, and so
/// the outbox event, carries the mentioned user ids. A client's note is held instead
/// (`Role::notes_held`): inserted without mentions and recorded as a held note, which only
/// production reads, until `publish_note`.
pub(crate) async fn write_note(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    note: &mut Note,
) -> Result<()> {
    write_note_as(tx, scope, note, true).await
}

/// `write_note`, with `mentions` false for words from outside the organisation (a guest's,
/// published by production): an @ in them mentions nobody.
pub(crate) async fn write_note_as(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    note: &mut Note,
    mentions: bool,
) -> Result<()> {
    note.held = scope.role.notes_held();
    let users = if note.held || !mentions {
        note.mentions.clear();
        Vec::new()
    } else {
        mention(tx, scope.org_id, note).await?
    };
    let drawing = note
        .drawing
        .as_ref()
        .map(|d| serde_json::to_string(d).unwrap_or_default());
    let args = [
        scope.org_id.into(),
        note.id.into(),
        note.project_id.into(),
        note.task_id.into(),
        note.shot_id.into(),
        note.asset_id.into(),
        note.version_id.into(),
        note.parent_id.into(),
        note.author_id.into(),
        (&note.body).into(),
        note.frame.into(),
        note.status_from.into(),
        note.status_to.into(),
        note.created_at.into(),
        (&note.mentions).into(),
        note.frame_out.into(),
        drawing.into(),
        note.held.then_some(note.created_at).into(),
    ];
    tx.execute(NOTE_INSERT, &args).await?;
    insert_mentions(tx, scope.org_id, note.id, &users).await?;
    let change = if note.held {
        Change::new(Some(scope.org_id), "note.held", "held_note", note.id)
    } else {
        Change::new(Some(scope.org_id), "note.created", "note", note.id)
    };
    tx.record(&Actor::of(scope), change.after(&*note)).await?;
    Ok(())
}

/// The members `note`'s body mentions, sorted, also written into `note.mentions`.
async fn mention(tx: &mut WriteTx<'_>, org_id: Uuid, note: &mut Note) -> Result<Vec<Uuid>> {
    use mstation_core::tracking::mentions::{self, Mention};
    let mut users: Vec<Uuid> = Vec::new();
    for m in mentions::parse(&note.body) {
        let found = match &m {
            Mention::Email(e) => identity::members_called(tx, org_id, e, false).await?,
            Mention::Name(n) => identity::members_called(tx, org_id, n, true).await?,
        };
        if let [one] = found[..]
            && !users.contains(&one)
        {
            users.push(one);
        }
    }
    users.sort();
    note.mentions = users
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(users)
}

async fn insert_mentions(
    tx: &mut WriteTx<'_>,
    org_id: Uuid,
    note_id: Uuid,
    users: &[Uuid],
) -> Result<()> {
    for u in users {
        tx.execute(
            "INSERT INTO note_mentions (note_id, user_id, org_id) VALUES ($1, $2, $3)",
            &[note_id.into(), u.into(), org_id.into()],
        )
        .await?;
    }
    Ok(())
}

impl Tenant<'_> {
    /// Adds a note to a shot, an asset or a version; `parent_id` makes it a reply to a note on
    /// the same one.
    pub async fn add_entity_note(
        &self,
        on: NoteOn,
        body: &str,
        at: OnFrames,
        parent_id: Option<Uuid>,
    ) -> Result<Note> {
        let body = validate::text("body", body, 20_000)?;
        let at = at.checked()?;
        let find = format!(
            "SELECT project_id FROM {} WHERE org_id = $1 AND id = $2",
            on.table()
        );
        let parent = format!(
            "SELECT author_id, held_at FROM notes WHERE org_id = $1 AND {} = $2 AND id = $3",
            on.column()
        );
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let args = [scope.org_id.into(), on.id().into()];
                let Some((project_id,)) = tx.query_opt::<(Uuid,)>(&find, &args).await? else {
                    return Err(StoreError::NotFound {
                        entity: on.entity(),
                    });
                };
                // Checked once the subject is known to be the caller's: another organisation's
                // is a 404 whatever the body.
                if body.is_empty() {
                    return Err(FieldError::new("body", "required").into());
                }
                if let Some(p) = parent_id {
                    let args = [scope.org_id.into(), on.id().into(), p.into()];
                    let found = tx.query_opt(&parent, &args).await?;
                    reply_to(found, &scope, "not_a_note_of_this_subject")?;
                }
                let (shot_id, asset_id, version_id) = match on {
                    NoteOn::Shot(id) => (Some(id), None, None),
                    NoteOn::Asset(id) => (None, Some(id), None),
                    NoteOn::Version(id) => (None, None, Some(id)),
                };
                let mut note = Note {
                    id: new_id(),
                    project_id,
                    task_id: None,
                    shot_id,
                    asset_id,
                    version_id,
                    parent_id,
                    author_id: scope.user_id,
                    body,
                    frame: at.frame,
                    frame_out: at.frame_out,
                    drawing: at.drawing,
                    status_from: None,
                    status_to: None,
                    created_at: Millis(now_ms()),
                    mentions: String::new(),
                    held: false,
                };
                write_note(tx, &scope, &mut note).await?;
                Ok(note)
            })
        })
        .await
    }

    /// The notes of a shot, an asset or a version, oldest first (replies after their note).
    pub async fn entity_notes(&self, on: NoteOn) -> Result<Vec<Note>> {
        let scope = self.scope();
        let find = format!(
            "SELECT project_id FROM {} WHERE org_id = $1 AND id = $2",
            on.table()
        );
        let list = format!(
            "SELECT {NOTE_COLS} FROM notes WHERE org_id = $1 AND {} = $2 ORDER BY id",
            on.column()
        );
        let args = [scope.org_id.into(), on.id().into()];
        let project: Option<Uuid> = self.scalar_opt(&find, &args).await?;
        if project.is_none() {
            return Err(StoreError::NotFound {
                entity: on.entity(),
            });
        }
        let mut notes: Vec<Note> = self.read(&list, &args).await?;
        notes.retain(|n| n.readable_by(scope));
        Ok(notes)
    }

    /// Publishes a client's held note to the team, as it was written (its author, its frame,
    /// its time): its mentions are resolved and notified now, and the feeds say who published
    /// it. Publishing a note that is not held changes nothing.
    pub async fn publish_note(&self, id: Uuid) -> Result<Note> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT {NOTE_COLS} FROM notes WHERE org_id = $1 AND id = $2{}",
                    tx.lock_rows()
                );
                let mut note: Note = tx
                    .query_opt(&text, &[scope.org_id.into(), id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "note" })?;
                if !note.held {
                    return Ok(note);
                }
                let users = mention(tx, scope.org_id, &mut note).await?;
                note.held = false;
                tx.execute(
                    "UPDATE notes SET held_at = NULL, mentions = $3 WHERE org_id = $1 AND id = $2",
                    &[scope.org_id.into(), id.into(), (&note.mentions).into()],
                )
                .await?;
                insert_mentions(tx, scope.org_id, id, &users).await?;
                let change = Change::new(Some(scope.org_id), "note.published", "note", id);
                tx.record(&Actor::of(&scope), change.after(&note)).await?;
                Ok(note)
            })
        })
        .await
    }

    /// The notes that mention `user_id`, in the scope's organisation, by note id (newest first
    /// when `q` is descending).
    pub async fn mentions(&self, user_id: Uuid, q: &ListQuery) -> Result<Page<Note>> {
        let scope = self.scope();
        let (cmp, dir) = q.order();
        let cols = NOTE_COLS
            .split(", ")
            .map(|c| format!("n.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "SELECT {cols} FROM note_mentions m JOIN notes n ON n.id = m.note_id
             WHERE m.org_id = $1 AND m.user_id = $2 AND ($3 IS NULL OR m.note_id {cmp} $3) ORDER BY m.note_id {dir} LIMIT $4"
        );
        let args = [
            scope.org_id.into(),
            user_id.into(),
            q.after.into(),
            (q.limit as i64 + 1).into(),
        ];
        let items = self.read(&text, &args).await?;
        let counting = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM note_mentions WHERE org_id = $1 AND user_id = $2
             LIMIT {}) c",
            COUNT_CAP + 1
        );
        let total: i64 = self
            .scalar(&counting, &[scope.org_id.into(), user_id.into()])
            .await?;
        let mut page = q.finish(items, total.min(COUNT_CAP), |n: &Note| n.id);
        page.total_capped = total > COUNT_CAP;
        Ok(page)
    }
}
