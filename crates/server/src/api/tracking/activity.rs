//! Activity feeds: what happened on a project, and what a person did on the organisation's
//! productions, newest first. Any member may read them; they hold production changes only.

use axum::Json;
use axum::extract::{Path, State as AxState};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::identity::audit::{AuditEntry, Feed};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Q, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(project_activity))
        .routes(routes!(person_activity))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `-created_at` (newest first, the default) or `created_at`.
    pub sort: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/activity", tag = "tracking", params(("project_id" = Uuid, Path), FeedParams),
    responses((status = 200, body = Page<AuditEntry>, description = "Every recorded change of the project: what, who, when, before and after"),
              (status = 404, body = Problem)))]
async fn project_activity(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
    Q(p): Q<FeedParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let scope = m.may(Permission::ReadOrg)?;
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    state.store.tenant(scope).project(project_id).await?;
    Ok(Json(
        state
            .store
            .tenant(scope)
            .activity(Feed::Project(project_id), &q)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/people/{user_id}/activity", tag = "tracking",
    params(("user_id" = String, Path, description = "A member's user id, or `me`"), FeedParams),
    responses((status = 200, body = Page<AuditEntry>, description = "What the person did on the organisation's productions"),
              (status = 404, body = Problem)))]
async fn person_activity(
    AxState(state): AxState<State>,
    m: Member,
    Path(user_id): Path<String>,
    Q(p): Q<FeedParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let scope = m.may(Permission::ReadOrg)?;
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    let user = crate::api::tracking::activity::person(&state, scope, &user_id).await?;
    Ok(Json(
        state
            .store
            .tenant(scope)
            .activity(Feed::Person(user), &q)
            .await?,
    ))
}

/// A `{user_id}` path segment: `me`, or a member of the caller's organisation (anyone else is
/// a 404, so ids of other organisations' people reveal nothing).
pub async fn person(
    state: &State,
    scope: &mstation_core::TenantScope,
    user_id: &str,
) -> ApiResult<Uuid> {
    let user = if user_id == "me" {
        scope.user_id
    } else {
        user_id
            .parse::<Uuid>()
            .map_err(|_| ApiError::not_found("person"))?
    };
    if state
        .store
        .platform()
        .role_in(user, scope.org_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("person"));
    }
    Ok(user)
}
