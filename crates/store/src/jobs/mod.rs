//! The persistent job queue: heavy or retried work (webhook deliveries now; probes, proxies and
//! renders later). A claim takes a lease that the worker renews; a lapsed lease puts the job back.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, Tenant, WriteTx,
    new_id, now_ms,
};

fn json_out<S: serde::Serializer>(
    v: &Option<String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    v.as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .serialize(s)
}
fn json_out_req<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    serde_json::from_str::<serde_json::Value>(v)
        .unwrap_or(serde_json::Value::Null)
        .serialize(s)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub kind: String,
    #[serde(serialize_with = "json_out_req")]
    #[schema(value_type = Object)]
    pub payload: String,
    pub priority: i64,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: Millis,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Millis>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "json_out")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl FromRow for Job {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Job {
            id: r.get()?,
            org_id: r.get()?,
            kind: r.get()?,
            payload: r.get()?,
            priority: r.get()?,
            status: r.get()?,
            attempts: r.get()?,
            max_attempts: r.get()?,
            run_after: r.get()?,
            lease_owner: r.get()?,
            lease_expires_at: r.get()?,
            last_error: r.get()?,
            result: r.get()?,
            created_at: r.get()?,
            updated_at: r.get()?,
        })
    }
}

const JOB_COLS: &str = "id, org_id, kind, payload, priority, status, attempts, max_attempts, run_after, lease_owner, lease_expires_at, last_error, result, created_at, updated_at";

/// A job to put on the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub org_id: Option<Uuid>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub priority: i64,
    pub max_attempts: i64,
    pub run_after: Option<i64>,
}

/// Inserts a job inside the caller's transaction (so a job exists iff the change that asked
/// for it committed).
pub(crate) async fn insert_job(tx: &mut WriteTx<'_>, job: &NewJob) -> Result<Uuid> {
    let id = new_id();
    let now = now_ms();
    let args = [
        id.into(),
        job.org_id.into(),
        (&job.kind).into(),
        job.payload.to_string().into(),
        job.priority.into(),
        job.max_attempts.into(),
        job.run_after.unwrap_or(now).into(),
        now.into(),
    ];
    tx.execute(
        "INSERT INTO jobs (id, org_id, kind, payload, priority, status, attempts, max_attempts,
         run_after, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8)",
        &args,
    )
    .await?;
    let payload = job.payload.to_string();
    let news = News {
        id,
        org_id: job.org_id,
        kind: &job.kind,
        payload: &payload,
        attempts: 0,
        error: None,
    };
    announce(tx, "job.queued", news).await?;
    Ok(id)
}

/// A job as its announcement tells of it.
pub(crate) struct News<'a> {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub kind: &'a str,
    pub payload: &'a str,
    pub attempts: i64,
    pub error: Option<&'a str>,
}

/// A job as a write that moves it reads it back (`RETURNING id, org_id, kind, attempts,
/// payload`).
pub(crate) struct Moved {
    id: Uuid,
    org_id: Option<Uuid>,
    kind: String,
    attempts: i64,
    payload: String,
}

impl FromRow for Moved {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Moved {
            id: r.get()?,
            org_id: r.get()?,
            kind: r.get()?,
            attempts: r.get()?,
            payload: r.get()?,
        })
    }
}

impl<'a> News<'a> {
    pub(crate) fn of(m: &'a Moved, error: Option<&'a str>) -> Self {
        News {
            id: m.id,
            org_id: m.org_id,
            kind: &m.kind,
            attempts: m.attempts,
            payload: &m.payload,
            error,
        }
    }
}

/// Announces a job's new state on the outbox, for events and webhooks: `job.queued`,
/// `job.started`, `job.succeeded`, `job.retrying` (it failed and waits for another attempt) or
/// `job.failed`. A webhook's own deliveries are not announced: a hook on `job.*` would feed
/// itself.
pub(crate) async fn announce(
    tx: &mut WriteTx<'_>,
    action: &'static str,
    job: News<'_>,
) -> Result<()> {
    if job.kind == crate::events::webhooks::DELIVERY_JOB {
        return Ok(());
    }
    let payload: serde_json::Value = serde_json::from_str(job.payload).unwrap_or_default();
    let mut about = serde_json::json!({
        "id": job.id,
        "kind": job.kind,
        "status": action.trim_start_matches("job."),
        "attempts": job.attempts,
    });
    // What the job is about, where it names it (a media job's file).
    if let Some(file) = payload.get("media_file_id") {
        about["media_file_id"] = file.clone();
    }
    if let Some(e) = job.error {
        about["error"] = e.into();
    }
    tx.announce(Change::new(job.org_id, action, "job", job.id).after(&about))
        .await?;
    Ok(())
}

/// Why a job whose worker went quiet was put back or stopped.
const LAPSED: &str = "the worker stopped answering (lease expired)";

impl Platform<'_> {
    /// Puts `job` on the queue (`job.queued`).
    pub async fn enqueue(&self, job: NewJob) -> Result<Uuid> {
        self.write(move |tx| Box::pin(async move { insert_job(tx, &job).await }))
            .await
    }

    /// Claims the most urgent ready job of one of `kinds` for `worker`, with a lease of `lease_ms`.
    /// PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.
    pub async fn claim_job(
        &self,
        worker: &str,
        kinds: &[&str],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        let now = now_ms();
        let kinds = kinds.join(",");
        let worker = worker.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let pick = "SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $3
                    AND (',' || $4 || ',') LIKE ('%,' || kind || ',%')
                    ORDER BY priority DESC, run_after, id LIMIT 1";
                let lock = tx.lock_rows_skip_locked();
                let text = format!(
                    "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2,
                     attempts = attempts + 1, updated_at = $3
                     WHERE id = ({pick}{lock}) RETURNING {JOB_COLS}"
                );
                let args = [
                    worker.into(),
                    (now + lease_ms).into(),
                    now.into(),
                    kinds.into(),
                ];
                let job = tx.query_opt::<Job>(&text, &args).await?;
                if let Some(j) = &job {
                    let news = News {
                        id: j.id,
                        org_id: j.org_id,
                        kind: &j.kind,
                        payload: &j.payload,
                        attempts: j.attempts,
                        error: None,
                    };
                    announce(tx, "job.started", news).await?;
                }
                Ok(job)
            })
        })
        .await
    }

    /// Extends the lease of a job the worker still holds; false when it lost the lease.
    pub async fn heartbeat_job(&self, id: Uuid, worker: &str, lease_ms: i64) -> Result<bool> {
        let now = now_ms();
        let worker = worker.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let args = [
                    (now + lease_ms).into(),
                    now.into(),
                    id.into(),
                    worker.into(),
                ];
                let n = tx
                    .execute(
                        "UPDATE jobs SET lease_expires_at = $1, updated_at = $2
                         WHERE id = $3 AND lease_owner = $4 AND status = 'running'",
                        &args,
                    )
                    .await?;
                Ok(n == 1)
            })
        })
        .await
    }

    pub async fn complete_job(
        &self,
        id: Uuid,
        worker: &str,
        result: &serde_json::Value,
    ) -> Result<bool> {
        let worker = worker.to_string();
        let result = result.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let args = [result.into(), now_ms().into(), id.into(), worker.into()];
                let moved: Option<Moved> = tx
                    .query_opt(
                        "UPDATE jobs SET status = 'succeeded', result = $1, lease_owner = NULL,
                         lease_expires_at = NULL, last_error = NULL, updated_at = $2
                         WHERE id = $3 AND lease_owner = $4 AND status = 'running'
                         RETURNING id, org_id, kind, attempts, payload",
                        &args,
                    )
                    .await?;
                let Some(m) = moved else { return Ok(false) };
                announce(tx, "job.succeeded", News::of(&m, None)).await?;
                Ok(true)
            })
        })
        .await
    }

    /// Records a failed attempt: the job waits `retry_delay_ms` and runs again, or, once it has
    /// used its attempts, stops as `failed` with the error kept.
    pub async fn fail_job(&self, id: Uuid, worker: &str, error: &str) -> Result<bool> {
        self.record_failure(id, worker, error, true).await
    }

    /// Fails the job `id` for good, whatever attempts it has left: retrying cannot help (a
    /// webhook whose receiver is refused, say).
    pub async fn fail_job_for_good(&self, id: Uuid, worker: &str, error: &str) -> Result<bool> {
        self.record_failure(id, worker, error, false).await
    }

    async fn record_failure(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry: bool,
    ) -> Result<bool> {
        let now = now_ms();
        let error: String = error.chars().take(4000).collect();
        let worker = worker.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let row: Option<(i64, i64)> = tx
                    .query_opt(
                        &format!(
                            "SELECT attempts, max_attempts FROM jobs
                             WHERE id = $1 AND lease_owner = $2 AND status = 'running'{}",
                            tx.lock_rows()
                        ),
                        &[id.into(), (&worker).into()],
                    )
                    .await?;
                let Some((attempts, max)) = row else {
                    return Ok(false);
                };
                let (status, run_after) = if attempts >= max || !retry {
                    ("failed", now)
                } else {
                    (
                        "queued",
                        now + mstation_core::jobs::retry_delay_ms(attempts as u32),
                    )
                };
                let args = [
                    status.into(),
                    run_after.into(),
                    (&error).into(),
                    now.into(),
                    id.into(),
                    worker.into(),
                ];
                let moved: Option<Moved> = tx
                    .query_opt(
                        "UPDATE jobs SET status = $1, run_after = $2, last_error = $3,
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
                         WHERE id = $5 AND lease_owner = $6 AND status = 'running'
                         RETURNING id, org_id, kind, attempts, payload",
                        &args,
                    )
                    .await?;
                let Some(m) = moved else { return Ok(false) };
                let action = if status == "failed" {
                    "job.failed"
                } else {
                    "job.retrying"
                };
                announce(tx, action, News::of(&m, Some(&error))).await?;
                Ok(true)
            })
        })
        .await
    }

    /// Puts back every job whose worker stopped renewing its lease (a crash, a kill -9, a lost
    /// machine). Jobs that used all their attempts stop as failed. Returns how many were touched.
    pub async fn reap_expired_leases(&self) -> Result<u64> {
        let now = now_ms();
        self.write(move |tx| {
            Box::pin(async move {
                let failed: Vec<Moved> = tx
                    .query(
                        &format!(
                            "UPDATE jobs SET status = 'failed', last_error = '{LAPSED}',
                             lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
                             WHERE status = 'running' AND lease_expires_at < $1
                               AND attempts >= max_attempts
                             RETURNING id, org_id, kind, attempts, payload"
                        ),
                        &[now.into()],
                    )
                    .await?;
                let back: Vec<Moved> = tx
                    .query(
                        "UPDATE jobs SET status = 'queued', lease_owner = NULL,
                         lease_expires_at = NULL, updated_at = $1
                         WHERE status = 'running' AND lease_expires_at < $1
                         RETURNING id, org_id, kind, attempts, payload",
                        &[now.into()],
                    )
                    .await?;
                for m in &failed {
                    announce(tx, "job.failed", News::of(m, Some(LAPSED))).await?;
                }
                for m in &back {
                    announce(tx, "job.retrying", News::of(m, Some(LAPSED))).await?;
                }
                Ok((failed.len() + back.len()) as u64)
            })
        })
        .await
    }
}

impl Tenant<'_> {
    pub async fn jobs(&self, status: Option<&str>, q: &ListQuery) -> Result<Page<Job>> {
        let filter = "org_id = $1 AND ($2 IS NULL OR status = $2)";
        let args = vec![self.org_id().into(), status.into()];
        self.page(JOB_COLS, "jobs", filter, args, q, |j: &Job| j.id)
            .await
    }

    pub async fn job(&self, id: Uuid) -> Result<Job> {
        self.one(JOB_COLS, "jobs", id, "job").await
    }
}
