//! Notes on shots, assets and versions (notes on tasks, with their status change, are in
//! `tasks`), the @mentions of every note resolved to members, and a person's mentions feed.

use mstation_core::TenantScope;
use mstation_core::validate::{self, FieldError};
use uuid::Uuid;

use super::tasks::{NOTE_COLS, Note};
use crate::direct::Arg;
use crate::{
    ListQuery, Millis, Page, Result, Store, StoreError, new_id, now_ms, on_hot_write, on_read,
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

/// A note's row, its columns as `NOTE_COLS` after the organisation.
pub(crate) const NOTE_INSERT: &str = "INSERT INTO notes (org_id, id, project_id, task_id, shot_id, asset_id, version_id, parent_id, author_id, body, frame, status_from, status_to, created_at, mentions)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

/// Inside a write transaction: resolves the mentions of `$note`'s body to members of the
/// scope's organisation (an address or a name nobody there has, or that two members share,
/// mentions nobody), then inserts the note and its mentions and records it. The recorded note,
/// and so the outbox event, carries the mentioned user ids.
macro_rules! write_note {
    ($tx:ident, $scope:expr, $note:expr) => {{
        use mstation_core::tracking::mentions::{self, Mention};
        let scope: &mstation_core::TenantScope = $scope;
        let note: &mut $crate::tracking::tasks::Note = $note;
        let mut users: Vec<uuid::Uuid> = Vec::new();
        for m in mentions::parse(&note.body) {
            let (text, who) = match &m {
                Mention::Email(e) => ("SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1 AND u.email = $2", e),
                Mention::Name(n) => ("SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1 AND LOWER(u.display_name) = LOWER($2) LIMIT 2", n),
            };
            let found: Vec<(uuid::Uuid,)> = $crate::ReadTx::read(&mut $tx, text,
                &[$crate::direct::Arg::Uuid(Some(scope.org_id)), $crate::direct::Arg::Text(Some(who.to_string()))], |r| Ok((r.get(0)?,))).await?;
            if let [(one,)] = found[..]
                && !users.contains(&one)
            {
                users.push(one);
            }
        }
        users.sort();
        note.mentions = users.iter().map(uuid::Uuid::to_string).collect::<Vec<_>>().join(" ");
        $crate::Deferred::write(&mut $tx, $crate::tracking::notes::NOTE_INSERT, vec![
            $crate::direct::Arg::Uuid(Some(scope.org_id)), $crate::direct::Arg::Uuid(Some(note.id)), $crate::direct::Arg::Uuid(Some(note.project_id)), $crate::direct::Arg::Uuid(note.task_id),
            $crate::direct::Arg::Uuid(note.shot_id), $crate::direct::Arg::Uuid(note.asset_id), $crate::direct::Arg::Uuid(note.version_id), $crate::direct::Arg::Uuid(note.parent_id),
            $crate::direct::Arg::Uuid(Some(note.author_id)), $crate::direct::Arg::Text(Some(note.body.clone())), $crate::direct::Arg::Int(note.frame), $crate::direct::Arg::Uuid(note.status_from),
            $crate::direct::Arg::Uuid(note.status_to), $crate::direct::Arg::Int(Some(note.created_at.0)), $crate::direct::Arg::Text(Some(note.mentions.clone())),
        ]).await?;
        for u in &users {
            $crate::Deferred::write(&mut $tx, "INSERT INTO note_mentions (note_id, user_id, org_id) VALUES ($1, $2, $3)",
                vec![$crate::direct::Arg::Uuid(Some(note.id)), $crate::direct::Arg::Uuid(Some(*u)), $crate::direct::Arg::Uuid(Some(scope.org_id))]).await?;
        }
        $crate::record!($tx, &$crate::Actor::of(scope), $crate::Change::new(Some(scope.org_id), "note.created", "note", note.id).after(&*note));
    }};
}
pub(crate) use write_note;

impl Store {
    /// Adds a note to a shot, an asset or a version; `parent_id` makes it a reply to a note on
    /// the same one.
    pub async fn add_entity_note(
        &self,
        scope: &TenantScope,
        on: NoteOn,
        body: &str,
        frame: Option<i64>,
        parent_id: Option<Uuid>,
    ) -> Result<Note> {
        let body = validate::text("body", body, 20_000)?;
        if frame.is_some_and(|f| !(0..=100_000_000).contains(&f)) {
            return Err(FieldError::new("frame", "out_of_range").into());
        }
        let find = format!(
            "SELECT project_id FROM {} WHERE org_id = $1 AND id = $2",
            on.table()
        );
        let parent = format!(
            "SELECT id FROM notes WHERE org_id = $1 AND {} = $2 AND id = $3",
            on.column()
        );
        let scope = scope.clone();
        on_hot_write!(self, tx => {
            let project: Vec<(Uuid,)> = crate::ReadTx::read(&mut tx, &find,
                &[Arg::Uuid(Some(scope.org_id)), Arg::Uuid(Some(on.id()))], |r| Ok((r.get(0)?,))).await?;
            let Some((project_id,)) = project.first().copied() else { return Err(StoreError::NotFound { entity: on.entity() }) };
            // Checked once the subject is known to be the caller's: another organisation's is a 404 whatever the body.
            if body.is_empty() {
                return Err(FieldError::new("body", "required").into());
            }
            if let Some(p) = parent_id {
                let ok: Vec<(Uuid,)> = crate::ReadTx::read(&mut tx, &parent,
                    &[Arg::Uuid(Some(scope.org_id)), Arg::Uuid(Some(on.id())), Arg::Uuid(Some(p))], |r| Ok((r.get(0)?,))).await?;
                if ok.is_empty() { return Err(FieldError::new("parent_id", "not_a_note_of_this_subject").into()); }
            }
            let (shot_id, asset_id, version_id) = match on {
                NoteOn::Shot(id) => (Some(id), None, None),
                NoteOn::Asset(id) => (None, Some(id), None),
                NoteOn::Version(id) => (None, None, Some(id)),
            };
            let mut note = Note {
                id: new_id(), project_id, task_id: None, shot_id, asset_id, version_id, parent_id,
                author_id: scope.user_id, body, frame, status_from: None, status_to: None,
                created_at: Millis(now_ms()), mentions: String::new(),
            };
            write_note!(tx, &scope, &mut note);
            tx.commit().await?;
            Ok(note)
        })
    }

    /// The notes of a shot, an asset or a version, oldest first (replies after their note).
    pub async fn entity_notes(&self, scope: &TenantScope, on: NoteOn) -> Result<Vec<Note>> {
        let find = format!(
            "SELECT project_id FROM {} WHERE org_id = $1 AND id = $2",
            on.table()
        );
        let list = format!(
            "SELECT {NOTE_COLS} FROM notes WHERE org_id = $1 AND {} = $2 ORDER BY id",
            on.column()
        );
        on_read!(self, pool => {
            let project: Option<Uuid> = sqlx::query_scalar(sql(find)).bind(scope.org_id).bind(on.id()).fetch_optional(pool).await?;
            if project.is_none() { return Err(StoreError::NotFound { entity: on.entity() }); }
            Ok(sqlx::query_as::<_, Note>(sql(list)).bind(scope.org_id).bind(on.id()).fetch_all(pool).await?)
        })
    }

    /// The notes that mention `user_id`, in the scope's organisation, by note id (newest first
    /// when `q` is descending).
    pub async fn mentions(
        &self,
        scope: &TenantScope,
        user_id: Uuid,
        q: &ListQuery,
    ) -> Result<Page<Note>> {
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
        let (items, total) = on_read!(self, pool => {
            let items = sqlx::query_as::<_, Note>(sql(text)).bind(scope.org_id).bind(user_id).bind(q.after).bind(q.limit as i64 + 1).fetch_all(pool).await?;
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM note_mentions WHERE org_id = $1 AND user_id = $2")
                .bind(scope.org_id).bind(user_id).fetch_one(pool).await?;
            (items, total)
        });
        Ok(q.finish(items, total, |n| n.id))
    }
}
