//! The productions overview: the organisation's active projects counted by step, by person, by
//! week and by day, each figure one grouped read over the whole organisation (no read a task).
//!
//! "Done" is finished work, as in "my tasks" (`mine::is_finished`): done, or approved by the client.

use uuid::Uuid;

use crate::{DbError, FromRow, Result, Row, Tenant};

/// `mine::is_finished` for a status row `s` in a query (a boolean on PostgreSQL, 0 or 1 on SQLite).
const FINISHED: &str = "(s.is_done OR s.client_approved)";

/// A week in milliseconds: the burn-up's buckets.
pub const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// One pipeline step of one active project: its tasks counted, and their estimates summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFigures {
    pub project_id: Uuid,
    pub task_type_id: Uuid,
    pub short_name: String,
    pub name: String,
    pub color: String,
    pub total: i64,
    pub done: i64,
    /// Open work due before the first day asked for.
    pub overdue: i64,
    /// Open work due from the first to the last day asked for.
    pub due_soon: i64,
    /// The sum of the tasks' `estimate_minutes` (tasks without one count nothing).
    pub estimate_minutes: i64,
}

impl FromRow for StepFigures {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(StepFigures {
            project_id: r.get()?,
            task_type_id: r.get()?,
            short_name: r.get()?,
            name: r.get()?,
            color: r.get()?,
            total: r.get()?,
            done: r.get()?,
            overdue: r.get()?,
            due_soon: r.get()?,
            estimate_minutes: r.get()?,
        })
    }
}

/// One person's work in one active project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFigures {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub open: i64,
    pub done: i64,
    /// Open work due before the day asked for.
    pub overdue: i64,
}

impl FromRow for PersonFigures {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(PersonFigures {
            project_id: r.get()?,
            user_id: r.get()?,
            open: r.get()?,
            done: r.get()?,
            overdue: r.get()?,
        })
    }
}

/// The tables of an active project's tasks, each with its status; `t.org_id = $1` filters them.
const ACTIVE_TASKS: &str = "tasks t JOIN task_statuses s ON s.id = t.status_id
     JOIN projects p ON p.id = t.project_id AND p.org_id = $1 AND p.status = 'active'";

impl Tenant<'_> {
    /// Each step of each active project: its tasks, the finished ones, the open ones due before
    /// `today` and from `today` to `until`, and their estimates. Steps in pipeline order.
    pub async fn overview_steps(&self, today: &str, until: &str) -> Result<Vec<StepFigures>> {
        super::date("today", today)?;
        super::date("until", until)?;
        let text = format!(
            "SELECT t.project_id, y.id, y.short_name, y.name, y.color,
                CAST(COUNT(*) AS BIGINT),
                CAST(SUM(CASE WHEN {FINISHED} THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN NOT {FINISHED} AND t.due_date < $2 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN NOT {FINISHED} AND t.due_date >= $2 AND t.due_date <= $3 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(COALESCE(SUM(t.estimate_minutes), 0) AS BIGINT)
             FROM {ACTIVE_TASKS} JOIN task_types y ON y.id = t.task_type_id
             WHERE t.org_id = $1
             GROUP BY t.project_id, y.id, y.short_name, y.name, y.color, y.sort_order
             ORDER BY t.project_id, y.sort_order, y.id"
        );
        self.read(&text, &[self.org_id().into(), today.into(), until.into()])
            .await
    }

    /// The minutes logged on each step of each active project: (project, step, minutes).
    pub async fn overview_logged(&self) -> Result<Vec<(Uuid, Uuid, i64)>> {
        let text = "SELECT t.project_id, t.task_type_id, CAST(SUM(l.minutes) AS BIGINT)
             FROM time_logs l JOIN tasks t ON t.id = l.task_id
             JOIN projects p ON p.id = t.project_id AND p.org_id = $1 AND p.status = 'active'
             WHERE l.org_id = $1 AND t.org_id = $1
             GROUP BY t.project_id, t.task_type_id";
        self.read(text, &[self.org_id().into()]).await
    }

    /// Each assignee's work in each active project, counted by where it stands on `today`.
    pub async fn overview_people(&self, today: &str) -> Result<Vec<PersonFigures>> {
        super::date("today", today)?;
        let text = format!(
            "SELECT t.project_id, a.user_id,
                CAST(SUM(CASE WHEN {FINISHED} THEN 0 ELSE 1 END) AS BIGINT),
                CAST(SUM(CASE WHEN {FINISHED} THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN NOT {FINISHED} AND t.due_date < $2 THEN 1 ELSE 0 END) AS BIGINT)
             FROM task_assignees a CROSS JOIN {ACTIVE_TASKS}
             WHERE a.org_id = $1 AND t.id = a.task_id AND t.org_id = $1
             GROUP BY t.project_id, a.user_id"
        );
        self.read(&text, &[self.org_id().into(), today.into()])
            .await
    }

    /// Finished tasks of each active project by the week they were finished in, counted from
    /// the instant `since` (ms) in weeks of [`WEEK_MS`]; week -1 holds all finished before it:
    /// (project, week, tasks).
    ///
    /// The week a task was finished is that of its `updated_at`: no cheaper record of when it
    /// became done exists (the audit log has no index by entity), and a finished task is seldom
    /// edited again, so this is nearly always the day it was finished; an edit afterwards moves
    /// it later, never earlier.
    pub async fn overview_done_by_week(&self, since: i64) -> Result<Vec<(Uuid, i64, i64)>> {
        let text = format!(
            "SELECT project_id, week, CAST(COUNT(*) AS BIGINT) FROM (
                SELECT t.project_id,
                    CAST(CASE WHEN t.updated_at < $2 THEN -1 ELSE (t.updated_at - $2) / $3 END AS BIGINT) AS week
                FROM {ACTIVE_TASKS}
                WHERE t.org_id = $1 AND {FINISHED}
             ) d GROUP BY project_id, week"
        );
        self.read(&text, &[self.org_id().into(), since.into(), WEEK_MS.into()])
            .await
    }

    /// The minutes each person logged on each day from `from` to `to` (both included), in
    /// every project: (person, day, minutes).
    pub async fn overview_timesheet(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(Uuid, String, i64)>> {
        super::date("from", from)?;
        super::date("to", to)?;
        let text = "SELECT user_id, date, CAST(SUM(minutes) AS BIGINT) FROM time_logs
             WHERE org_id = $1 AND date >= $2 AND date <= $3 GROUP BY user_id, date";
        self.read(text, &[self.org_id().into(), from.into(), to.into()])
            .await
    }
}
