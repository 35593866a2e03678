//! The organisation's jobs over HTTP: what is queued, running, done or failed, and why.

use axum::Json;
use axum::extract::{Path, State as AxState};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::jobs::Job;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Q, bad_param, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobParams), responses((status = 200, body = Page<Job>), (status = 400, body = Problem)))]
async fn list_jobs(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<JobParams>,
) -> ApiResult<Json<Page<Job>>> {
    if let Some(s) = &p.status
        && !["queued", "running", "succeeded", "failed"].contains(&s.as_str())
    {
        return Err(bad_param("status", "queued, running, succeeded, failed"));
    }
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadJobs)?)
            .jobs(p.status.as_deref(), &q)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/jobs/{job_id}", tag = "jobs", params(("job_id" = Uuid, Path)),
    responses((status = 200, body = Job), (status = 404, body = Problem)))]
async fn get_job(
    AxState(state): AxState<State>,
    m: Member,
    Path(job_id): Path<Uuid>,
) -> ApiResult<Json<Job>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadJobs)?)
            .job(job_id)
            .await?,
    ))
}
