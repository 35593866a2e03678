//! The audit log over HTTP: read-only, for owners, admins, producers and finance.

use axum::Json;
use axum::extract::State as AxState;
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::identity::audit::{AuditEntry, AuditFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{Q, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `-created_at` (newest first, the default) or `created_at`.
    pub sort: Option<String>,
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// e.g. `member.updated`.
    pub action: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "identity", params(AuditParams),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem)))]
async fn list_audit(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<AuditParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    for (param, v) in [("entity_type", &p.entity_type), ("action", &p.action)] {
        if let Some(v) = v
            && (v.len() > 64
                || !v
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'))
        {
            return Err(ApiError::new(Code::RequestInvalidQuery)
                .message("problem-request-invalid_query-name")
                .arg("param", param));
        }
    }
    let f = AuditFilter {
        actor_id: p.actor_id,
        entity_type: p.entity_type,
        entity_id: p.entity_id,
        action: p.action,
        ..AuditFilter::default()
    };
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadAudit)?)
            .audit(&f, &q)
            .await?,
    ))
}
