//! "My tasks": the work assigned to the caller across the organisation's projects, read ready to
//! show (project, shot or asset, step and status by name), open work first, and counted by state.
//!
//! Whose work is never a parameter: it is the scope's own person, so no caller can ask for
//! someone else's list through these reads.

use mstation_core::page::Cursor;
use uuid::Uuid;

use super::tasks::TaskStatus;
use crate::{Arg, COUNT_CAP, DbError, FromRow, Page, Result, Row, Tenant};

/// Whether work in status `s` is finished: done, or approved by the client. Anything else is open.
pub fn is_finished(s: &TaskStatus) -> bool {
    s.is_done || s.client_approved
}

/// `is_finished` for a status row `s` in a query (a boolean on PostgreSQL, 0 or 1 on SQLite).
const FINISHED: &str = "(s.is_done OR s.client_approved)";

/// The sort value of a task without a due date, after every real day.
const NO_DUE: &str = "9999-12-31";

/// One task of the caller's, with the names a list shows.
#[derive(Debug, Clone)]
pub struct MyTask {
    pub id: Uuid,
    pub project_id: Uuid,
    pub project: String,
    /// The name of the shot or the asset the task is on.
    pub subject: String,
    /// The pipeline step (the task type).
    pub step: String,
    pub status_id: Uuid,
    pub status: String,
    pub color: String,
    pub finished: bool,
    pub due_date: Option<String>,
    pub priority: i64,
}

/// A row of `mine_cols()`, in that order.
impl FromRow for MyTask {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(MyTask {
            id: r.get()?,
            project_id: r.get()?,
            project: r.get()?,
            subject: r.get()?,
            step: r.get()?,
            status_id: r.get()?,
            status: r.get()?,
            color: r.get()?,
            finished: r.get()?,
            due_date: r.get()?,
            priority: r.get()?,
        })
    }
}

/// The columns of a `MyTask`, the status's `FINISHED` among them.
fn mine_cols() -> String {
    format!(
        "t.id, t.project_id, p.name, COALESCE(sh.name, x.name, ''), y.name, t.status_id, s.name, s.color, {FINISHED}, t.due_date, t.priority"
    )
}

/// How much of the caller's work is where it stands, in one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyTaskCounts {
    pub project_id: Uuid,
    pub project: String,
    pub open: i64,
    /// Open work due from the first to the last day asked for.
    pub due_soon: i64,
    /// Open work due before the first day asked for.
    pub overdue: i64,
    pub finished: i64,
}

/// A row of (project, name, open, due soon, overdue, finished).
impl FromRow for MyTaskCounts {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(MyTaskCounts {
            project_id: r.get()?,
            project: r.get()?,
            open: r.get()?,
            due_soon: r.get()?,
            overdue: r.get()?,
            finished: r.get()?,
        })
    }
}

/// Filters of the caller's task list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct MyTasksFilter {
    pub project_id: Option<Uuid>,
    /// Only finished work (`Some(true)`) or only open work (`Some(false)`).
    pub finished: Option<bool>,
    /// Only tasks in a status of this short name, in whichever project's workflow.
    pub status: Option<String>,
    /// Due on or after this day, `YYYY-MM-DD`.
    pub due_from: Option<String>,
    /// Due on or before this day, `YYYY-MM-DD`.
    pub due_until: Option<String>,
}

/// Where a page of the caller's list starts: after this task, in the list's order (finished
/// last, then due date, undated last, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyTasksAfter {
    finished: bool,
    due: String,
    id: Uuid,
}

impl MyTasksAfter {
    fn of(t: &MyTask) -> Self {
        MyTasksAfter {
            finished: t.finished,
            due: t.due_date.clone().unwrap_or_else(|| NO_DUE.into()),
            id: t.id,
        }
    }

    /// The cursor a page of `my_tasks` gave out; `None` for anything else.
    pub fn from_cursor(s: &str) -> Option<Self> {
        let c = Cursor::decode(s)?;
        let (state, due) = c.key.split_once(' ')?;
        let finished = match state {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        super::date("cursor", due).ok()?;
        Some(MyTasksAfter {
            finished,
            due: due.to_string(),
            id: c.id,
        })
    }

    pub fn to_cursor(&self) -> String {
        let state = if self.finished { "1" } else { "0" };
        Cursor {
            key: format!("{state} {}", self.due),
            id: self.id,
        }
        .encode()
    }
}

/// The tables of the caller's work: their assignments drive (CROSS JOIN holds SQLite's planner
/// to that order, as in `tasks_sorted`), each task's status beside it.
const MINE_FROM: &str =
    "task_assignees a CROSS JOIN tasks t JOIN task_statuses s ON s.id = t.status_id";

/// The filter of `my_tasks` and of its count, numbered `$1…$7` as `my_tasks` binds them.
fn mine_where() -> String {
    format!(
        "a.org_id = $1 AND a.user_id = $2 AND t.id = a.task_id AND t.org_id = $1
         AND ($3 IS NULL OR a.project_id = $3) AND ($4 IS NULL OR {FINISHED} = $4)
         AND ($5 IS NULL OR s.short_name = $5) AND ($6 IS NULL OR t.due_date >= $6)
         AND ($7 IS NULL OR t.due_date <= $7)"
    )
}

impl Tenant<'_> {
    /// One page of the caller's tasks: open work first, each part by due date (undated last),
    /// then by id; `after` is where the previous page ended.
    pub async fn my_tasks(
        &self,
        f: &MyTasksFilter,
        after: Option<&MyTasksAfter>,
        limit: u32,
    ) -> Result<Page<MyTask>> {
        let scope = self.scope();
        let limit = limit.max(1);
        for (field, d) in [("due_from", &f.due_from), ("due_until", &f.due_until)] {
            if let Some(d) = d {
                super::date(field, d)?;
            }
        }
        let args = vec![
            Arg::Uuid(Some(scope.org_id)),
            Arg::Uuid(Some(scope.user_id)),
            Arg::Uuid(f.project_id),
            Arg::Bool(f.finished),
            Arg::Text(f.status.clone()),
            Arg::Text(f.due_from.clone()),
            Arg::Text(f.due_until.clone()),
        ];
        let filter = mine_where();
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {MINE_FROM} WHERE {filter} LIMIT {}) c",
            COUNT_CAP + 1
        );
        let total: i64 = self.scalar(&count, &args).await?;
        let due = format!("COALESCE(t.due_date, '{NO_DUE}')");
        let from_cursor = if after.is_some() {
            format!(
                "AND ({FINISHED} > $9 OR ({FINISHED} = $9 AND ({due} > $10 OR ({due} = $10 AND t.id > $11))))"
            )
        } else {
            String::new()
        };
        let text = format!(
            "SELECT {} FROM {MINE_FROM}
             JOIN task_types y ON y.id = t.task_type_id JOIN projects p ON p.id = t.project_id
             LEFT JOIN shots sh ON sh.id = t.shot_id LEFT JOIN assets x ON x.id = t.asset_id
             WHERE {filter} {from_cursor}
             ORDER BY {FINISHED}, {due}, t.id LIMIT $8",
            mine_cols()
        );
        let mut page_args = args;
        page_args.push(Arg::Int(Some(i64::from(limit) + 1)));
        if let Some(a) = after {
            page_args.extend([
                Arg::Bool(Some(a.finished)),
                Arg::Text(Some(a.due.clone())),
                Arg::Uuid(Some(a.id)),
            ]);
        }
        let mut items: Vec<MyTask> = self.read(&text, &page_args).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|t| MyTasksAfter::of(t).to_cursor())
        } else {
            None
        };
        Ok(Page {
            items,
            next_cursor,
            total: total.min(COUNT_CAP),
            total_capped: total > COUNT_CAP,
        })
    }

    /// The caller's work per project, counted by where it stands on `today`: open, open and due
    /// from `today` to `until`, open and due before `today`, finished. Projects by name.
    pub async fn my_task_counts(&self, today: &str, until: &str) -> Result<Vec<MyTaskCounts>> {
        let scope = self.scope();
        super::date("today", today)?;
        super::date("until", until)?;
        let text = format!(
            "SELECT t.project_id, p.name,
                SUM(CASE WHEN {FINISHED} THEN 0 ELSE 1 END),
                SUM(CASE WHEN NOT {FINISHED} AND t.due_date >= $3 AND t.due_date <= $4 THEN 1 ELSE 0 END),
                SUM(CASE WHEN NOT {FINISHED} AND t.due_date < $3 THEN 1 ELSE 0 END),
                SUM(CASE WHEN {FINISHED} THEN 1 ELSE 0 END)
             FROM {MINE_FROM} JOIN projects p ON p.id = t.project_id
             WHERE a.org_id = $1 AND a.user_id = $2 AND t.id = a.task_id AND t.org_id = $1
             GROUP BY t.project_id, p.name ORDER BY p.name, t.project_id"
        );
        self.read(
            &text,
            &[
                scope.org_id.into(),
                scope.user_id.into(),
                today.into(),
                until.into(),
            ],
        )
        .await
    }
}
