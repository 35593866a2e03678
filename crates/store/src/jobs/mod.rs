//! The persistent job queue: heavy or retried work (webhook deliveries now; probes, proxies and
//! renders later). A claim takes a lease that the worker renews; a lapsed lease puts the job back.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, Tenant,
    WriteTx, new_id, now_ms,
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
    Ok(id)
}

impl Platform<'_> {
    pub async fn enqueue(&self, actor: &Actor, job: NewJob) -> Result<Uuid> {
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let id = insert_job(tx, &job).await?;
                let change = Change::new(job.org_id, "job.queued", "job", id).after(
                    &serde_json::json!({"id": id, "kind": job.kind, "priority": job.priority}),
                );
                tx.record(&actor, change).await?;
                Ok(id)
            })
        })
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
                Ok(tx.query_opt::<Job>(&text, &args).await?)
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
                let n = tx
                    .execute(
                        "UPDATE jobs SET status = 'succeeded', result = $1, lease_owner = NULL,
                         lease_expires_at = NULL, last_error = NULL, updated_at = $2
                         WHERE id = $3 AND lease_owner = $4 AND status = 'running'",
                        &args,
                    )
                    .await?;
                Ok(n == 1)
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
                        "SELECT attempts, max_attempts FROM jobs
                         WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
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
                    error.into(),
                    now.into(),
                    id.into(),
                    worker.into(),
                ];
                let n = tx
                    .execute(
                        "UPDATE jobs SET status = $1, run_after = $2, last_error = $3,
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
                         WHERE id = $5 AND lease_owner = $6 AND status = 'running'",
                        &args,
                    )
                    .await?;
                Ok(n == 1)
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
                let failed = tx
                    .execute(
                        "UPDATE jobs SET status = 'failed',
                         last_error = 'the worker stopped answering (lease expired)',
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
                         WHERE status = 'running' AND lease_expires_at < $1
                           AND attempts >= max_attempts",
                        &[now.into()],
                    )
                    .await?;
                let back = tx
                    .execute(
                        "UPDATE jobs SET status = 'queued', lease_owner = NULL,
                         lease_expires_at = NULL, updated_at = $1
                         WHERE status = 'running' AND lease_expires_at < $1",
                        &[now.into()],
                    )
                    .await?;
                Ok(failed + back)
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
