//! The audit log: who changed what in which organisation, when, with the before and after.
//! Rows are written by `record!` inside the transaction of the change itself.

use mstation_core::TenantScope;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{ListQuery, Millis, Page, Result, Store, on_read};

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
            "SELECT id, org_id, actor_id, token_id, action, entity_type, entity_id, before, after, at FROM audit_log
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
}
