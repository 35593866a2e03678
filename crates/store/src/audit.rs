//! The audit log: who changed what in which organisation, when, with the before and after.
//! Rows are written by `record!` inside the transaction of the change itself.

use mstation_core::TenantScope;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{COUNT_CAP, ListQuery, Millis, Page, Result, Store, on_read};

const AUDIT_COLS: &str =
    "id, org_id, actor_id, token_id, action, entity_type, entity_id, project_id, before, after, at";

/// Which activity feed: a project's, or one person's production work.
#[derive(Debug, Clone, Copy)]
pub enum Feed {
    Project(Uuid),
    Person(Uuid),
}

fn json_out<S: serde::Serializer>(
    v: &Option<String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    v.as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .serialize(s)
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub token_id: Option<Uuid>,
    /// What happened, e.g. `member.updated`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    /// The project of a production change: the entry is in that project's activity feed.
    pub project_id: Option<Uuid>,
    #[serde(serialize_with = "json_out")]
    #[schema(value_type = Option<Object>)]
    pub before: Option<String>,
    #[serde(serialize_with = "json_out")]
    #[schema(value_type = Option<Object>)]
    pub after: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub action: Option<String>,
}

impl Store {
    pub async fn audit(
        &self,
        scope: &TenantScope,
        f: &AuditFilter,
        q: &ListQuery,
    ) -> Result<Page<AuditEntry>> {
        let (cmp, dir) = q.order();
        let filter =
            "org_id = $1 AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR entity_type = $3)
             AND ($4 IS NULL OR entity_id = $4) AND ($5 IS NULL OR action = $5)";
        let text = format!(
            "SELECT {AUDIT_COLS} FROM audit_log
             WHERE {filter} AND ($6 IS NULL OR id {cmp} $6) ORDER BY id {dir} LIMIT $7"
        );
        let count = format!("SELECT COUNT(*) FROM audit_log WHERE {filter}");
        let (items, total) = on_read!(self, pool => {
            let items = sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(text))
                .bind(scope.org_id).bind(f.actor_id).bind(&f.entity_type).bind(f.entity_id).bind(&f.action)
                .bind(q.after).bind(q.limit as i64 + 1)
                .fetch_all(pool).await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                .bind(scope.org_id).bind(f.actor_id).bind(&f.entity_type).bind(f.entity_id).bind(&f.action)
                .fetch_one(pool).await?;
            (items, total)
        });
        Ok(q.finish(items, total, |a| a.id))
    }

    /// An activity feed, newest first by default: every recorded production change of one
    /// project, or everything one person did on the organisation's productions. The caller
    /// checks that the project or person is the organisation's.
    pub async fn activity(
        &self,
        scope: &TenantScope,
        feed: Feed,
        q: &ListQuery,
    ) -> Result<Page<AuditEntry>> {
        let (cmp, dir) = q.order();
        let (filter, key) = match feed {
            Feed::Project(id) => ("org_id = $1 AND project_id = $2", id),
            Feed::Person(id) => (
                "org_id = $1 AND actor_id = $2 AND project_id IS NOT NULL",
                id,
            ),
        };
        let text = format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE {filter} AND ($3 IS NULL OR id {cmp} $3) ORDER BY id {dir} LIMIT $4"
        );
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM audit_log WHERE {filter} LIMIT {}) c",
            COUNT_CAP + 1
        );
        let (items, total) = on_read!(self, pool => {
            let items = sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(text))
                .bind(scope.org_id).bind(key).bind(q.after).bind(q.limit as i64 + 1)
                .fetch_all(pool).await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                .bind(scope.org_id).bind(key)
                .fetch_one(pool).await?;
            (items, total)
        });
        let mut page = q.finish(items, total.min(COUNT_CAP), |a| a.id);
        page.total_capped = total > COUNT_CAP;
        Ok(page)
    }
}
