//! Remote agents (`mstation agent`): the platform's media jobs run on other machines, pulled
//! over HTTP from the one job queue the servers' own workers share. An agent claims a job with
//! a lease, renews it while it works, reads the job's source blob and sends what it made
//! through the server, then ends the job; what it made is recorded with the job's end, once,
//! and only while it still holds the lease. Agents are the platform operators' own: a member
//! of the operator organisation with a token that may manage it.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use mstation_core::Permission;
use mstation_core::media::probe::Probe;
use mstation_store::jobs::Job;
use mstation_store::media::Derived;
use mstation_store::media::work::{Ended, Made};
use mstation_store::media::{CUTS_JOB, MAX_UPLOAD, PROBE_JOB, PROXY_JOB};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::State;
use crate::auth::{Member, Signed};
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{Body as JsonBody, Q};

/// The kinds of job agents run.
pub const AGENT_KINDS: [&str; 3] = [PROBE_JOB, PROXY_JOB, CUTS_JOB];
/// What an agent that names no kinds is given: what agents ran before cut detection, so one not
/// upgraded yet is never handed a job it cannot run.
const UNNAMED_KINDS: [&str; 2] = [PROBE_JOB, PROXY_JOB];

/// The caller may run the platform's jobs: a platform operator allowed to manage its
/// organisation.
async fn agent(state: &State, caller: &crate::auth::Caller, m: &Member) -> ApiResult<()> {
    let user = state.store.platform().user(caller.user_id).await?;
    let org = state.store.tenant(&m.0).org().await?;
    if !user.is_operator
        || org.kind != mstation_core::OrgKind::PlatformOperator
        || !m.0.can(Permission::ManageOrg)
    {
        return Err(ApiError::forbidden("forbidden-run_jobs"));
    }
    Ok(())
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<State> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(claim))
        .routes(routes!(heartbeat))
        .routes(routes!(source))
        .routes(routes!(output))
        .routes(routes!(finish))
        .routes(routes!(fail))
}

/// A worker's name as a lease holds it: apart from the servers' own workers.
fn lease_owner(worker: &str) -> ApiResult<String> {
    let ok = !worker.is_empty()
        && worker.len() <= 100
        && worker
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if !ok {
        return Err(ApiError::invalid("worker", "not_a_worker_name"));
    }
    Ok(format!("agent:{worker}"))
}

fn lease_ms(v: Option<i64>) -> ApiResult<i64> {
    match v {
        None => Ok(crate::workers::LEASE_MS),
        Some(ms) if (5_000..=600_000).contains(&ms) => Ok(ms),
        Some(_) => Err(ApiError::invalid("lease_ms", "between_5000_and_600000")),
    }
}

/// A claim of the next job.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// The agent's name for itself, unique among running agents (`render-07:1`).
    pub worker: String,
    /// The kinds it runs: `media.probe`, `media.proxy`, `media.cuts` (`media.probe` and
    /// `media.proxy` when absent, what agents ran before cut detection).
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// How long the job is the agent's without a heartbeat (5,000 to 600,000 ms; 30,000).
    #[serde(default)]
    pub lease_ms: Option<i64>,
}

/// A job claimed, the agent's until its lease runs out.
#[derive(Debug, Serialize, ToSchema)]
pub struct Claimed {
    pub job: Job,
    pub lease_ms: i64,
}

/// Claims the most urgent ready job of the kinds asked for (204 when there is none).
#[utoipa::path(post, path = "/api/v1/agent/claim", tag = "jobs", request_body = ClaimInput,
    responses((status = 200, body = Claimed), (status = 204, description = "No job is ready"),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn claim(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    m: Member,
    JsonBody(input): JsonBody<ClaimInput>,
) -> ApiResult<Response> {
    agent(&state, &caller, &m).await?;
    let owner = lease_owner(&input.worker)?;
    let lease = lease_ms(input.lease_ms)?;
    let kinds: Vec<&str> = match &input.kinds {
        None => UNNAMED_KINDS.to_vec(),
        Some(k) => {
            let mut out = Vec::new();
            for (n, kind) in k.iter().enumerate() {
                match AGENT_KINDS.iter().find(|a| **a == kind) {
                    Some(a) => out.push(*a),
                    None => {
                        return Err(ApiError::invalid(
                            &format!("kinds[{n}]"),
                            "not_a_job_kind_for_agents",
                        ));
                    }
                }
            }
            out
        }
    };
    match state
        .store
        .platform()
        .claim_job(&owner, &kinds, lease)
        .await?
    {
        Some(job) => Ok(Json(Claimed {
            job,
            lease_ms: lease,
        })
        .into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Who speaks of a held job.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatInput {
    pub worker: String,
    #[serde(default)]
    pub lease_ms: Option<i64>,
}

/// Renews the agent's lease on a job it holds; 409 when it holds it no more.
#[utoipa::path(post, path = "/api/v1/agent/jobs/{job_id}/heartbeat", tag = "jobs",
    params(("job_id" = Uuid, Path)), request_body = HeartbeatInput,
    responses((status = 204, description = "Renewed"), (status = 403, body = Problem),
        (status = 409, body = Problem)))]
pub async fn heartbeat(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    m: Member,
    Path(job_id): Path<Uuid>,
    JsonBody(input): JsonBody<HeartbeatInput>,
) -> ApiResult<StatusCode> {
    agent(&state, &caller, &m).await?;
    let owner = lease_owner(&input.worker)?;
    let lease = lease_ms(input.lease_ms)?;
    if state
        .store
        .platform()
        .heartbeat_job(job_id, &owner, lease)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(Code::JobLeaseLost))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WorkerParams {
    /// The agent holding the job (required).
    pub worker: Option<String>,
    /// For a job's source: `true` asks for the bytes straight from the S3 bucket the platform
    /// keeps blobs in, as a redirect to a signed address (where blobs are not in S3, the bytes
    /// come through the server all the same).
    pub direct: Option<bool>,
}

/// The job's file, the agent's while it holds the job: its kind, its file's blob hash and its
/// payload.
async fn held(
    state: &State,
    job_id: Uuid,
    owner: &str,
) -> ApiResult<(String, String, serde_json::Value)> {
    let Some((kind, payload)) = state.store.platform().held_job(job_id, owner).await? else {
        return Err(ApiError::new(Code::JobLeaseLost));
    };
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
    let Some((_, hash)) = mstation_store::media::work::job_file(&payload) else {
        return Err(ApiError::not_found("media_file"));
    };
    Ok((kind, hash, payload))
}

/// The bytes of the file a held job is about (a `Range` of them when asked).
#[utoipa::path(get, path = "/api/v1/agent/jobs/{job_id}/source", tag = "jobs",
    params(("job_id" = Uuid, Path), WorkerParams),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 307, description = "Asked for `direct` with media in S3: read the bytes at the signed address in `Location` (valid two minutes), with no token"),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn source(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    m: Member,
    Path(job_id): Path<Uuid>,
    Q(p): Q<WorkerParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    agent(&state, &caller, &m).await?;
    let owner = lease_owner(p.worker.as_deref().unwrap_or_default())?;
    let (_, hash, _) = held(&state, job_id, &owner).await?;
    let size = state
        .store
        .platform()
        .blob_size(&hash)
        .await?
        .ok_or_else(|| ApiError::not_found("media_file"))?;
    // An agent that can reach the bucket reads a camera file from it, not through this server.
    if p.direct == Some(true)
        && let Some(url) = state
            .blobs
            .signed_read(&hash, std::time::Duration::from_secs(120))
            .await?
    {
        return Ok((
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, url),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
        )
            .into_response());
    }
    crate::api::media::blob_answer(
        &state,
        &hash,
        size,
        "application/octet-stream",
        None,
        &headers,
    )
    .await
}

/// A blob kept for a held job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Kept {
    /// Its BLAKE3 hash, 64 hex digits.
    pub hash: String,
    pub size: i64,
}

/// Keeps a file a held job made (a proxy, a poster) as a blob: hashed as it arrives, kept once
/// whole. Name it in the job's end.
#[utoipa::path(put, path = "/api/v1/agent/jobs/{job_id}/outputs", tag = "jobs",
    params(("job_id" = Uuid, Path), WorkerParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Kept), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem)))]
pub async fn output(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    m: Member,
    Path(job_id): Path<Uuid>,
    Q(p): Q<WorkerParams>,
    body: Body,
) -> ApiResult<Response> {
    agent(&state, &caller, &m).await?;
    let owner = lease_owner(p.worker.as_deref().unwrap_or_default())?;
    let (kind, _, _) = held(&state, job_id, &owner).await?;
    // A proxy job makes up to four files; nothing else sends any.
    if kind != PROXY_JOB {
        return Err(ApiError::invalid("outcome", "not_what_this_job_makes"));
    }
    let staged = Staged(state.blobs.staging_file(Uuid::now_v7()));
    let path = &staged.0;
    let received = async {
        let mut file = tokio::io::BufWriter::with_capacity(
            1 << 20,
            tokio::fs::File::create(path).await.map_err(io)?,
        );
        let mut hasher = blake3::Hasher::new();
        let mut size: i64 = 0;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::new(Code::RequestUnreadable))?;
            size += chunk.len() as i64;
            if size > MAX_UPLOAD {
                return Err(ApiError::new(Code::RequestTooLarge));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        file.get_ref().sync_all().await.map_err(io)?;
        let hash = hasher.finalize().to_hex().to_string();
        crate::api::media::tus::keep_blob(&state, &hash, path, size).await?;
        // Named as this job's, so its end may name it (and no other blob).
        if !state
            .store
            .platform()
            .add_job_output(job_id, &owner, &hash)
            .await?
        {
            return Err(ApiError::new(Code::JobLeaseLost));
        }
        Ok(Kept { hash, size })
    };
    Ok((StatusCode::CREATED, Json(received.await?)).into_response())
}

/// A file an output is gathered in, deleted however the request ends (a client gone half-way
/// included).
struct Staged(std::path::PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn io(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "keeping an agent's output failed");
    ApiError::new(Code::StoreUnavailable)
}

/// What a media job made, as its agent reports it: a probe (what ffprobe said, or why it could
/// not read the file), or a proxy, a poster, a sprite and (with sound) a waveform already sent
/// to the job's outputs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFinishInput {
    pub worker: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub probe: Option<Probe>,
    /// ffprobe's reason for a file it cannot read.
    #[serde(default)]
    pub probe_error: Option<String>,
    #[serde(default)]
    pub proxy_hash: Option<String>,
    #[serde(default)]
    pub poster_hash: Option<String>,
    #[serde(default)]
    pub sprite_hash: Option<String>,
    /// For a file with sound.
    #[serde(default)]
    pub waveform_hash: Option<String>,
    /// Where the shots of the file change (a `media.cuts` job).
    #[serde(default)]
    pub cuts: Option<mstation_core::media::cuts::Cutting>,
}

/// An agent's cuts, as far as they can be: changes inside the movie, in order, a sensible rate
/// and a timecode of digits and separators.
fn checked_cuts(
    c: mstation_core::media::cuts::Cutting,
) -> ApiResult<mstation_core::media::cuts::Cutting> {
    if !(1..=100_000_000).contains(&c.frames) {
        return Err(ApiError::invalid("cuts.frames", "out_of_range"));
    }
    if !(1..=1_000_000).contains(&c.fps[0]) || !(1..=1_000_000).contains(&c.fps[1]) {
        return Err(ApiError::invalid("cuts.fps", "out_of_range"));
    }
    if c.start_timecode.as_ref().is_some_and(|t| {
        t.len() > 16 || !t.bytes().all(|b| b.is_ascii_digit() || b":;.".contains(&b))
    }) {
        return Err(ApiError::invalid("cuts.start_timecode", "not_a_timecode"));
    }
    let inside = c.transitions.len() <= 1_000_000
        && c.transitions.windows(2).all(|w| w[0].frame < w[1].frame)
        && c.transitions.iter().all(|t| {
            (1..c.frames).contains(&t.frame)
                && (1..=c.frames).contains(&t.frames)
                && t.strength.is_finite()
        });
    if !inside {
        return Err(ApiError::invalid("cuts.transitions", "out_of_range"));
    }
    Ok(c)
}

/// How a job ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobEnd {
    /// `succeeded` or `failed`.
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// Records what a held job made and ends it, at once; 409 (nothing recorded) when the agent
/// holds it no more.
#[utoipa::path(post, path = "/api/v1/agent/jobs/{job_id}/finish", tag = "jobs",
    params(("job_id" = Uuid, Path)), request_body = JobFinishInput,
    responses((status = 200, body = JobEnd), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn finish(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    m: Member,
    Path(job_id): Path<Uuid>,
    JsonBody(input): JsonBody<JobFinishInput>,
) -> ApiResult<Json<JobEnd>> {
    agent(&state, &caller, &m).await?;
    let owner = lease_owner(&input.worker)?;
    let (kind, _, _) = held(&state, job_id, &owner).await?;
    let proxy_fields = [
        &input.proxy_hash,
        &input.poster_hash,
        &input.sprite_hash,
        &input.waveform_hash,
    ];
    let made = match kind.as_str() {
        CUTS_JOB
            if proxy_fields.iter().all(|f| f.is_none())
                && input.probe.is_none()
                && input.probe_error.is_none() =>
        {
            let Some(cutting) = input.cuts else {
                return Err(ApiError::invalid("outcome", "not_what_this_job_makes"));
            };
            Made::Cuts(Box::new(checked_cuts(cutting)?))
        }
        PROBE_JOB if proxy_fields.iter().all(|f| f.is_none()) && input.cuts.is_none() => {
            match (input.probe, input.probe_error) {
                (Some(p), None) => Made::Probe(Box::new(Ok(p))),
                (None, Some(e)) => {
                    let e: String = e.chars().filter(|c| !c.is_control()).take(2000).collect();
                    Made::Probe(Box::new(Err(e)))
                }
                _ => return Err(ApiError::invalid("outcome", "not_what_this_job_makes")),
            }
        }
        PROXY_JOB
            if input.probe.is_none() && input.probe_error.is_none() && input.cuts.is_none() =>
        {
            let (Some(proxy), Some(poster)) = (input.proxy_hash, input.poster_hash) else {
                return Err(ApiError::invalid("outcome", "not_what_this_job_makes"));
            };
            let outputs = state.store.platform().job_outputs(job_id).await?;
            let named = [
                ("proxy_hash", Some(&proxy)),
                ("poster_hash", Some(&poster)),
                ("sprite_hash", input.sprite_hash.as_ref()),
                ("waveform_hash", input.waveform_hash.as_ref()),
            ];
            for (field, h) in named {
                if let Some(h) = h
                    && !outputs.iter().any(|o| o == h)
                {
                    return Err(ApiError::invalid(field, "unknown_blob"));
                }
            }
            Made::Proxy(Derived {
                proxy_hash: proxy,
                poster_hash: poster,
                sprite_hash: input.sprite_hash,
                waveform_hash: input.waveform_hash,
            })
        }
        _ => return Err(ApiError::invalid("outcome", "not_what_this_job_makes")),
    };
    match state
        .store
        .platform()
        .finish_media_job(job_id, &owner, made)
        .await?
    {
        Ended::LeaseLost => Err(ApiError::new(Code::JobLeaseLost)),
        Ended::Succeeded(r) => Ok(Json(JobEnd {
            status: "succeeded".into(),
            result: Some(r),
            error: None,
        })),
        Ended::Failed(e) => Ok(Json(JobEnd {
            status: "failed".into(),
            result: None,
            error: Some(e),
        })),
    }
}

/// Why a held job's attempt failed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailInput {
    pub worker: String,
    pub error: String,
    /// Whether another attempt could do better (ffmpeg missing on the agent: yes; a file
    /// ffmpeg cannot read: no).
    pub retry: bool,
}

/// Records a failed attempt: the job runs again later (`retry`, until its attempts are spent)
/// or fails for good.
#[utoipa::path(post, path = "/api/v1/agent/jobs/{job_id}/fail", tag = "jobs",
    params(("job_id" = Uuid, Path)), request_body = FailInput,
    responses((status = 204, description = "Recorded"), (status = 403, body = Problem),
        (status = 409, body = Problem)))]
pub async fn fail(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    m: Member,
    Path(job_id): Path<Uuid>,
    JsonBody(input): JsonBody<FailInput>,
) -> ApiResult<StatusCode> {
    agent(&state, &caller, &m).await?;
    let owner = lease_owner(&input.worker)?;
    let error: String = input
        .error
        .chars()
        .filter(|c| !c.is_control())
        .take(4000)
        .collect();
    let p = state.store.platform();
    let recorded = if input.retry {
        p.fail_job(job_id, &owner, &error).await?
    } else {
        p.fail_job_for_good(job_id, &owner, &error).await?
    };
    if recorded {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(Code::JobLeaseLost))
    }
}

#[cfg(test)]
mod tests {
    use super::checked_cuts;
    use mstation_core::media::cuts::Cutting;

    fn cut(json: serde_json::Value) -> Cutting {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn an_agents_cuts_are_taken_only_inside_the_movie_and_in_order() {
        let t = |frame: i64| serde_json::json!({"frame": frame, "kind": "cut", "frames": 1, "strength": 4.0});
        let of = |transitions: Vec<serde_json::Value>| {
            cut(
                serde_json::json!({"frames": 100, "fps": [24, 1], "start_timecode": "01:00:00:00", "transitions": transitions}),
            )
        };
        assert!(checked_cuts(of(vec![t(10), t(50)])).is_ok());
        for bad in [
            vec![t(50), t(10)],
            vec![t(10), t(10)],
            vec![t(0)],
            vec![t(100)],
            vec![t(-5)],
        ] {
            assert!(checked_cuts(of(bad)).is_err());
        }
        let mut c = of(vec![]);
        c.frames = 0;
        assert!(checked_cuts(c).is_err());
        let mut c = of(vec![]);
        c.fps = [24, 0];
        assert!(checked_cuts(c).is_err());
        let mut c = of(vec![]);
        c.start_timecode = Some("01:00:00:00<script>".into());
        assert!(checked_cuts(c).is_err());
    }
}
