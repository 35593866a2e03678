//! Versions of a task's work: what an artist hands in, numbered 1, 2, 3 … per task without gaps
//! or repeats, with a comment and its author.

use mstation_core::TenantScope;
use mstation_core::validate;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Change, ListQuery, Millis, Page, Result, Store, StoreError, new_id, now_ms, on_read,
    on_write, record,
};

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
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

const VERSION_COLS: &str =
    "id, org_id, project_id, task_id, number, comment, author_id, created_at";

fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

impl Store {
    /// Adds the next version of a task. The task row is locked before the number is read, so
    /// concurrent writers take turns and the numbers have no gaps and no repeats.
    pub async fn create_version(
        &self,
        scope: &TenantScope,
        task_id: Uuid,
        comment: &str,
    ) -> Result<Version> {
        let comment = validate::text("comment", comment, 20_000)?;
        let lock = self.row_lock();
        on_write!(self, tx => {
            let project_id: Uuid = sqlx::query_scalar(sql(format!("SELECT project_id FROM tasks WHERE org_id = $1 AND id = $2{lock}")))
                .bind(scope.org_id).bind(task_id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound { entity: "task" })?;
            let number: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE task_id = $1")
                .bind(task_id).fetch_one(&mut *tx).await?;
            let v = Version {
                id: new_id(), org_id: scope.org_id, project_id, task_id, number, comment,
                author_id: scope.user_id, created_at: Millis(now_ms()),
            };
            sqlx::query(sql(format!("INSERT INTO versions ({VERSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")))
                .bind(v.id).bind(v.org_id).bind(v.project_id).bind(v.task_id).bind(v.number).bind(&v.comment).bind(v.author_id).bind(v.created_at)
                .execute(&mut *tx).await?;
            record!(tx, &Actor::of(scope), Change::new(Some(scope.org_id), "version.created", "version", v.id).after(&v));
            tx.commit().await?;
            Ok(v)
        })
    }

    /// The versions of a task, oldest first (`sort=-created_at`: newest first).
    pub async fn versions(
        &self,
        scope: &TenantScope,
        task_id: Uuid,
        q: &ListQuery,
    ) -> Result<Page<Version>> {
        self.task(scope, task_id).await?;
        let (cmp, dir) = q.order();
        let text = format!(
            "SELECT {VERSION_COLS} FROM versions WHERE org_id = $1 AND task_id = $2 AND ($3 IS NULL OR id {cmp} $3) ORDER BY id {dir} LIMIT $4"
        );
        let (items, total) = on_read!(self, pool => {
            let items = sqlx::query_as::<_, Version>(sql(text)).bind(scope.org_id).bind(task_id).bind(q.after).bind(q.limit as i64 + 1).fetch_all(pool).await?;
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM versions WHERE org_id = $1 AND task_id = $2")
                .bind(scope.org_id).bind(task_id).fetch_one(pool).await?;
            (items, total)
        });
        Ok(q.finish(items, total, |v| v.id))
    }

    pub async fn version(&self, scope: &TenantScope, id: Uuid) -> Result<Version> {
        on_read!(self, pool => sqlx::query_as::<_, Version>(sql(format!("SELECT {VERSION_COLS} FROM versions WHERE org_id = $1 AND id = $2")))
            .bind(scope.org_id).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound { entity: "version" })
    }
}
