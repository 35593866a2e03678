//! The reads a shot's page needs beyond one entity's: the versions and the notes of all its
//! tasks at once (newest first), and what each of a list of tasks is on. Reads only.

use uuid::Uuid;

use super::notes::{NOTE_COLS, Note};
use super::versions::Version;
use crate::{Arg, Result, Tenant};

/// The columns of a `Version`, in its `FromRow` order, read through the alias `v`.
const VERSION_COLS_V: &str =
    "v.id, v.org_id, v.project_id, v.task_id, v.number, v.comment, v.author_id, v.created_at";

/// The most task ids `task_subjects` takes at once (one bound parameter each).
pub const MAX_TASK_IDS: usize = 500;

impl Tenant<'_> {
    /// The versions of every task of a shot, newest first, at most `limit`, and how many there
    /// are in all. Both reads walk `tasks_shot` then `versions_task`, so a shot's page costs
    /// the same in a project of any size. An unknown shot has none.
    pub async fn shot_versions(&self, shot_id: Uuid, limit: u32) -> Result<(Vec<Version>, i64)> {
        let org = self.org_id();
        let from = "FROM versions v JOIN tasks t ON t.id = v.task_id
             WHERE v.org_id = $1 AND t.org_id = $1 AND t.shot_id = $2";
        let items = self
            .read(
                &format!("SELECT {VERSION_COLS_V} {from} ORDER BY v.id DESC LIMIT $3"),
                &[org.into(), shot_id.into(), i64::from(limit).into()],
            )
            .await?;
        let total = self
            .scalar(
                &format!("SELECT COUNT(*) {from}"),
                &[org.into(), shot_id.into()],
            )
            .await?;
        Ok((items, total))
    }

    /// The notes on the tasks of a shot (not those on the shot itself: `entity_notes`), newest
    /// first, at most `limit`.
    pub async fn shot_task_notes(&self, shot_id: Uuid, limit: u32) -> Result<Vec<Note>> {
        let cols = NOTE_COLS
            .split(", ")
            .map(|c| format!("n.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "SELECT {cols} FROM notes n JOIN tasks t ON t.id = n.task_id
             WHERE n.org_id = $1 AND t.org_id = $1 AND t.shot_id = $2 AND {}
             ORDER BY n.id DESC LIMIT $3",
            super::notes::unheld(4, 5)
        );
        let scope = self.scope();
        self.read(
            &text,
            &[
                self.org_id().into(),
                shot_id.into(),
                i64::from(limit).into(),
                scope.user_id.into(),
                super::notes::plans_production(scope).into(),
            ],
        )
        .await
    }

    /// `(task id, shot id, asset id)` of those of `task_ids` that are this organisation's
    /// tasks (a task is on one of a shot or an asset), for links to what each task is on. At
    /// most `MAX_TASK_IDS` ids are looked at.
    pub async fn task_subjects(
        &self,
        task_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Option<Uuid>, Option<Uuid>)>> {
        let ids = &task_ids[..task_ids.len().min(MAX_TASK_IDS)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (2..ids.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "SELECT id, shot_id, asset_id FROM tasks WHERE org_id = $1 AND id IN ({marks})"
        );
        let mut args: Vec<Arg> = Vec::with_capacity(ids.len() + 1);
        args.push(self.org_id().into());
        args.extend(ids.iter().map(|id| Arg::from(*id)));
        self.read(&text, &args).await
    }
}
