//! The audit log: who changed what in which organisation, when, with the before and after.
//! Rows are written by `record!` inside the transaction of the change itself.

use mstation_core::identity::Permission;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{COUNT_CAP, DbError, FromRow, ListQuery, Millis, Page, Result, Row, Tenant};

const AUDIT_COLS: &str =
    "id, org_id, actor_id, token_id, action, entity_type, entity_id, project_id, before, after, at";

/// The kinds of record only those who plan the production read, in the feeds and the event
/// stream: review links (whom they are for), the notes clients and guests wrote that
/// production has not published, the credits a wrapped project gave its crew (who worked on
/// it, and when), and a school's training records (who studied what).
pub const PRODUCTION_ONLY: [&str; 5] = [
    "share_link",
    "guest_note",
    "held_note",
    "work_credit",
    "training",
];

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

#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl FromRow for AuditEntry {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(AuditEntry {
            id: r.get()?,
            org_id: r.get()?,
            actor_id: r.get()?,
            token_id: r.get()?,
            action: r.get()?,
            entity_type: r.get()?,
            entity_id: r.get()?,
            project_id: r.get()?,
            before: r.get()?,
            after: r.get()?,
            at: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub action: Option<String>,
    /// Changes at or after this instant (ms since the epoch).
    pub from: Option<i64>,
    /// Changes before this instant.
    pub until: Option<i64>,
}

impl Tenant<'_> {
    /// What only production reads (`PRODUCTION_ONLY`) is left out for the others.
    pub async fn audit(&self, f: &AuditFilter, q: &ListQuery) -> Result<Page<AuditEntry>> {
        let mut filter =
            "org_id = $1 AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR entity_type = $3)
             AND ($4 IS NULL OR entity_id = $4) AND ($5 IS NULL OR action = $5)
             AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7)"
                .to_string();
        if !self.scope().can(Permission::PlanProduction) {
            let kinds = PRODUCTION_ONLY.map(|k| format!("'{k}'")).join(", ");
            filter.push_str(&format!(" AND entity_type NOT IN ({kinds})"));
        }
        let args = vec![
            self.org_id().into(),
            f.actor_id.into(),
            (&f.entity_type).into(),
            f.entity_id.into(),
            (&f.action).into(),
            f.from.into(),
            f.until.into(),
        ];
        self.page(
            AUDIT_COLS,
            "audit_log",
            &filter,
            args,
            q,
            |a: &AuditEntry| a.id,
        )
        .await
    }

    /// An activity feed, newest first by default: every recorded production change of one
    /// project, or everything one person did on the organisation's productions. The caller
    /// checks that the project or person is the organisation's.
    /// What only production reads (`PRODUCTION_ONLY`) is left out for the others.
    pub async fn activity(&self, feed: Feed, q: &ListQuery) -> Result<Page<AuditEntry>> {
        let scope = self.scope();
        let (cmp, dir) = q.order();
        let (filter, key) = match feed {
            Feed::Project(id) => ("org_id = $1 AND project_id = $2", id),
            Feed::Person(id) => (
                "org_id = $1 AND actor_id = $2 AND project_id IS NOT NULL",
                id,
            ),
        };
        let filter = if scope.can(Permission::PlanProduction) {
            filter.to_string()
        } else {
            let kinds = PRODUCTION_ONLY.map(|k| format!("'{k}'")).join(", ");
            format!("{filter} AND entity_type NOT IN ({kinds})")
        };
        let text = format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE {filter} AND ($3 IS NULL OR id {cmp} $3) ORDER BY id {dir} LIMIT $4"
        );
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM audit_log WHERE {filter} LIMIT {}) c",
            COUNT_CAP + 1
        );
        let items: Vec<AuditEntry> = self
            .read(
                &text,
                &[
                    scope.org_id.into(),
                    key.into(),
                    q.after.into(),
                    (q.limit as i64 + 1).into(),
                ],
            )
            .await?;
        let total: i64 = self
            .scalar(&count, &[scope.org_id.into(), key.into()])
            .await?;
        let mut page = q.finish(items, total.min(COUNT_CAP), |a| a.id);
        page.total_capped = total > COUNT_CAP;
        Ok(page)
    }
}
