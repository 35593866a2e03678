//! Time logs: the minutes a person spent on a task on a given day. Everyone logs their own time
//! and may correct or remove only their own logs.

use mstation_core::TenantScope;
use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::date;
use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError, Tenant,
    WriteTx, check_version, new_id, now_ms,
};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeLog {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub task_id: Uuid,
    /// Who spent the time.
    pub user_id: Uuid,
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// 1 to 1440.
    pub minutes: i64,
    pub comment: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
}

impl FromRow for TimeLog {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(TimeLog {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            task_id: r.get()?,
            user_id: r.get()?,
            date: r.get()?,
            minutes: r.get()?,
            comment: r.get()?,
            created_at: r.get()?,
            updated_at: r.get()?,
            version: r.get()?,
        })
    }
}

/// What a time-log update changes; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct TimeLogChanges {
    pub date: Option<String>,
    pub minutes: Option<i64>,
    pub comment: Option<String>,
}

/// Filters of a time-log list, combined with AND; `from` and `to` are inclusive days.
#[derive(Debug, Clone, Default)]
pub struct TimeLogFilter {
    pub task_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub from: Option<String>,
    pub to: Option<String>,
}

const TIME_LOG_COLS: &str = "id, org_id, project_id, task_id, user_id, date, minutes, comment, created_at, updated_at, version";

fn minutes(v: i64) -> Result<i64> {
    if (1..=1440).contains(&v) {
        Ok(v)
    } else {
        Err(FieldError::new("minutes", "between_1_and_1440").into())
    }
}

impl Tenant<'_> {
    /// Logs the caller's time on a task.
    pub async fn log_time(
        &self,
        task_id: Uuid,
        day: &str,
        mins: i64,
        comment: &str,
    ) -> Result<TimeLog> {
        let scope = self.scope().clone();
        let (day, comment) = (day.to_string(), comment.to_string());
        self.write(move |tx| {
            Box::pin(async move {
                let project_id: Uuid = tx
                    .scalar_opt(
                        "SELECT project_id FROM tasks WHERE org_id = $1 AND id = $2",
                        &[scope.org_id.into(), task_id.into()],
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "task" })?;
                // Checked once the task is known to be the caller's: another organisation's
                // task is a 404 whatever the body.
                let date = date("date", &day)?;
                let minutes = minutes(mins)?;
                let comment = validate::text("comment", &comment, 2000)?;
                let now = Millis(now_ms());
                let t = TimeLog {
                    id: new_id(),
                    org_id: scope.org_id,
                    project_id,
                    task_id,
                    user_id: scope.user_id,
                    date,
                    minutes,
                    comment,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                let text = format!(
                    "INSERT INTO time_logs ({TIME_LOG_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                );
                let args = [
                    t.id.into(),
                    t.org_id.into(),
                    t.project_id.into(),
                    t.task_id.into(),
                    t.user_id.into(),
                    (&t.date).into(),
                    t.minutes.into(),
                    (&t.comment).into(),
                    t.created_at.into(),
                    t.updated_at.into(),
                    t.version.into(),
                ];
                tx.execute(&text, &args).await?;
                let change = Change::new(Some(scope.org_id), "time_log.created", "time_log", t.id);
                tx.record(&Actor::of(&scope), change.after(&t)).await?;
                Ok(t)
            })
        })
        .await
    }

    /// Time logs by task and/or person within a range of days, in the order they were logged.
    pub async fn time_logs(&self, f: &TimeLogFilter, q: &ListQuery) -> Result<Page<TimeLog>> {
        let from = f.from.as_deref().map(|d| date("from", d)).transpose()?;
        let to = f.to.as_deref().map(|d| date("to", d)).transpose()?;
        if let Some(t) = f.task_id {
            self.task(t).await?;
        }
        let filter = "org_id = $1 AND ($2 IS NULL OR task_id = $2) AND ($3 IS NULL OR user_id = $3)
             AND ($4 IS NULL OR date >= $4) AND ($5 IS NULL OR date <= $5)";
        let args = vec![
            self.org_id().into(),
            f.task_id.into(),
            f.user_id.into(),
            from.into(),
            to.into(),
        ];
        self.page(
            TIME_LOG_COLS,
            "time_logs",
            filter,
            args,
            q,
            |t: &TimeLog| t.id,
        )
        .await
    }

    pub async fn time_log(&self, id: Uuid) -> Result<TimeLog> {
        self.one(TIME_LOG_COLS, "time_logs", id, "time log").await
    }

    /// The minutes logged on a task, by everyone.
    pub async fn task_logged_minutes(&self, task_id: Uuid) -> Result<i64> {
        let scope = self.scope();
        self.scalar(
            "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) FROM time_logs
             WHERE org_id = $1 AND task_id = $2",
            &[scope.org_id.into(), task_id.into()],
        )
        .await
    }

    /// The minutes logged on a task per day, by everyone, the latest day first: a day's total
    /// stays whole however many of its logs a page lists.
    pub async fn task_minutes_by_day(&self, task_id: Uuid) -> Result<Vec<(String, i64)>> {
        let scope = self.scope();
        self.task(task_id).await?;
        self.read(
            "SELECT date, CAST(SUM(minutes) AS BIGINT) FROM time_logs
             WHERE org_id = $1 AND task_id = $2 GROUP BY date ORDER BY date DESC",
            &[scope.org_id.into(), task_id.into()],
        )
        .await
    }

    /// Corrects one of the caller's own time logs.
    pub async fn update_time_log(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        ch: TimeLogChanges,
    ) -> Result<TimeLog> {
        let day = ch.date.as_deref().map(|d| date("date", d)).transpose()?;
        let mins = ch.minutes.map(minutes).transpose()?;
        let comment = ch
            .comment
            .map(|c| validate::text("comment", &c, 2000))
            .transpose()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before = own_time_log(tx, &scope, id, expected_version).await?;
                let mut after = before.clone();
                if let Some(d) = day {
                    after.date = d;
                }
                if let Some(m) = mins {
                    after.minutes = m;
                }
                if let Some(c) = comment {
                    after.comment = c;
                }
                after.version += 1;
                after.updated_at = Millis(now_ms());
                let args = [
                    (&after.date).into(),
                    after.minutes.into(),
                    (&after.comment).into(),
                    after.updated_at.into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "time log",
                    None,
                    before.version,
                    "UPDATE time_logs SET date = $1, minutes = $2, comment = $3, updated_at = $4,
                         version = $5 WHERE org_id = $6 AND id = $7 AND version = $8",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "time_log.updated", "time_log", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Removes one of the caller's own time logs.
    pub async fn delete_time_log(&self, id: Uuid, expected_version: Option<i64>) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before = own_time_log(tx, &scope, id, expected_version).await?;
                tx.execute(
                    "DELETE FROM time_logs WHERE org_id = $1 AND id = $2",
                    &[scope.org_id.into(), id.into()],
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "time_log.deleted", "time_log", id);
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// Inside a write: the caller's own time log `id`, locked, at the version they saw (if given).
async fn own_time_log(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<TimeLog> {
    let log: TimeLog =
        crate::locked(tx, TIME_LOG_COLS, "time_logs", scope.org_id, id, "time log").await?;
    if log.user_id != scope.user_id {
        return Err(StoreError::from(super::TrackingRule::NotYourTimeLog));
    }
    check_version("time log", expected_version, log.version)?;
    Ok(log)
}
