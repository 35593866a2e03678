//! The end of a media job, wherever it ran (a server's own worker or a remote agent): what it
//! made is recorded with the job's end in one transaction, and only while the worker still holds
//! the job's lease. A job whose lease lapsed and that ran again elsewhere is recorded once: the
//! late worker's end finds the lease gone and records nothing.

use mstation_core::media::probe::Probe;
use uuid::Uuid;

use super::{CUTS_JOB, Derived, PROBE_JOB, PROXY_JOB, WATERMARK_JOB, cuts_tx, probe_tx, proxy_tx};
use crate::{Platform, Result, StoreError, now_ms};

/// What a media job made.
#[derive(Debug, Clone)]
pub enum Made {
    /// What ffprobe said of the file, or why it could not read it (which fails the job for good).
    Probe(Box<std::result::Result<Probe, String>>),
    /// The file's browser proxy, poster, sprite and waveform, blobs already kept.
    Proxy(Derived),
    /// Where its shots change.
    Cuts(Box<mstation_core::media::cuts::Cutting>),
    /// A share link's copy of a version, its recipient burnt in: the blob's hash, already kept.
    Watermarked(String),
    /// A market listing's preview (the blob's hash, already kept) and its picture's signature
    /// (`mstation_core::market::signature`; empty when every frame sampled was flat).
    Preview(String, Vec<u64>),
}

/// How a media job ended once recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Recorded; the job succeeded with this result.
    Succeeded(serde_json::Value),
    /// Recorded; the job failed for good with this error (a file ffprobe cannot read).
    Failed(String),
    /// The worker no longer holds the job: nothing was recorded.
    LeaseLost,
}

impl Ended {
    /// The job's result when it succeeded (null otherwise).
    pub fn result(&self) -> serde_json::Value {
        match self {
            Ended::Succeeded(r) => r.clone(),
            _ => serde_json::Value::Null,
        }
    }
}

/// The file a media job is about, from its payload.
pub fn job_file(payload: &serde_json::Value) -> Option<(Uuid, String)> {
    let file = payload["media_file_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())?;
    let hash = payload["hash"]
        .as_str()
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
    Some((file, hash.to_string()))
}

impl Platform<'_> {
    /// Records what the media job `id` made and ends it, in one transaction, if `worker` still
    /// holds it. The file is the job's own (from its payload), whatever the worker says.
    pub async fn finish_media_job(&self, id: Uuid, worker: &str, made: Made) -> Result<Ended> {
        let worker = worker.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT org_id, kind, payload FROM jobs
                     WHERE id = $1 AND lease_owner = $2 AND status = 'running'{}",
                    tx.lock_rows()
                );
                let held: Option<(Option<Uuid>, String, String)> =
                    tx.query_opt(&text, &[id.into(), (&worker).into()]).await?;
                let Some((org_id, kind, payload)) = held else {
                    return Ok(Ended::LeaseLost);
                };
                let payload_text = payload;
                let payload: serde_json::Value =
                    serde_json::from_str(&payload_text).unwrap_or_default();
                let (Some(org_id), Some((file, _))) = (org_id, job_file(&payload)) else {
                    return Err(StoreError::NotFound {
                        entity: "media file",
                    });
                };
                let recorded = match (&made, kind.as_str()) {
                    (Made::Probe(outcome), PROBE_JOB) => {
                        probe_tx(tx, org_id, file, outcome.as_ref()).await
                    }
                    (Made::Proxy(d), PROXY_JOB) => proxy_tx(tx, org_id, file, d).await,
                    (Made::Cuts(c), CUTS_JOB) => cuts_tx(tx, org_id, file, c).await,
                    (Made::Preview(h, likeness), WATERMARK_JOB)
                        if payload.get("listing_id").is_some() =>
                    {
                        crate::market::preview_tx(tx, org_id, &payload, h, likeness).await
                    }
                    (Made::Watermarked(h), WATERMARK_JOB) => {
                        super::share::watermark_tx(tx, org_id, &payload, h).await
                    }
                    _ => {
                        return Err(StoreError::InvalidValue {
                            field: "outcome".into(),
                            reason: "not_what_this_job_makes",
                        });
                    }
                };
                let ended = match recorded {
                    // The file was deleted meanwhile: nothing left to record it on.
                    Err(StoreError::NotFound { .. }) => {
                        Ended::Succeeded(serde_json::json!({"media_file_id": file, "gone": true}))
                    }
                    Err(e) => return Err(e),
                    Ok(()) => match &made {
                        Made::Probe(outcome) => match outcome.as_ref() {
                            Ok(p) => Ended::Succeeded(
                                serde_json::json!({"media_file_id": file, "probe": p}),
                            ),
                            Err(why) => {
                                Ended::Failed(format!("ffprobe could not read the file: {why}"))
                            }
                        },
                        Made::Proxy(d) => {
                            let mut r = serde_json::to_value(d).unwrap_or_default();
                            r["media_file_id"] = serde_json::json!(file);
                            Ended::Succeeded(r)
                        }
                        Made::Cuts(c) => Ended::Succeeded(serde_json::json!({
                            "media_file_id": file, "frames": c.frames,
                            "transitions": c.transitions.len()})),
                        Made::Watermarked(h) => Ended::Succeeded(serde_json::json!({
                            "media_file_id": file, "hash": h,
                            "share_link_id": payload["share_link_id"],
                            "version_id": payload["version_id"]})),
                        Made::Preview(h, likeness) => Ended::Succeeded(serde_json::json!({
                            "media_file_id": file, "hash": h,
                            "listing_id": payload["listing_id"],
                            "frames_compared": likeness.len()})),
                    },
                };
                let (status, result, error) = match &ended {
                    Ended::Failed(e) => ("failed", None, Some(e.clone())),
                    other => ("succeeded", Some(other.result().to_string()), None),
                };
                let (attempts,): (i64,) = tx
                    .query_opt(
                        "UPDATE jobs SET status = $3, result = $4, last_error = $5, lease_owner = NULL,
                         lease_expires_at = NULL, updated_at = $6
                         WHERE id = $1 AND lease_owner = $2 RETURNING attempts",
                        &[
                            id.into(),
                            worker.into(),
                            status.into(),
                            result.into(),
                            (&error).into(),
                            now_ms().into(),
                        ],
                    )
                    .await?
                    .unwrap_or_default();
                let news = crate::jobs::News {
                    id,
                    org_id: Some(org_id),
                    kind: &kind,
                    payload: &payload_text,
                    attempts,
                    error: error.as_deref(),
                };
                let action = if status == "failed" {
                    "job.failed"
                } else {
                    "job.succeeded"
                };
                crate::jobs::announce(tx, action, news).await?;
                Ok(ended)
            })
        })
        .await
    }

    /// Names the blob `hash` as an output of the job `worker` holds; false when it holds the
    /// job no more. A fifth output is refused (`at_most_4`).
    pub async fn add_job_output(&self, id: Uuid, worker: &str, hash: &str) -> Result<bool> {
        let (worker, hash) = (worker.to_string(), hash.to_string());
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT outputs FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running'{}",
                    tx.lock_rows()
                );
                let found: Option<(Option<String>,)> =
                    tx.query_opt(&text, &[id.into(), (&worker).into()]).await?;
                let Some((outputs,)) = found else {
                    return Ok(false);
                };
                let mut list: Vec<&str> = outputs.as_deref().unwrap_or("").split_whitespace().collect();
                if list.contains(&hash.as_str()) {
                    return Ok(true);
                }
                if list.len() >= 4 {
                    return Err(StoreError::InvalidValue {
                        field: "outputs".into(),
                        reason: "at_most_4",
                    });
                }
                list.push(&hash);
                let joined = list.join(" ");
                tx.execute(
                    "UPDATE jobs SET outputs = $3 WHERE id = $1 AND lease_owner = $2",
                    &[id.into(), (&worker).into(), joined.into()],
                )
                .await?;
                Ok(true)
            })
        })
        .await
    }

    /// The blobs agents sent as outputs of the job.
    pub async fn job_outputs(&self, id: Uuid) -> Result<Vec<String>> {
        let found: Option<(Option<String>,)> = self
            .read_opt("SELECT outputs FROM jobs WHERE id = $1", &[id.into()])
            .await?;
        Ok(found
            .and_then(|(o,)| o)
            .map(|o| o.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default())
    }

    /// A job `worker` holds now: its kind and payload (what an agent asks before fetching a
    /// job's source or sending what it made).
    pub async fn held_job(&self, id: Uuid, worker: &str) -> Result<Option<(String, String)>> {
        self.read_opt(
            "SELECT kind, payload FROM jobs WHERE id = $1 AND lease_owner = $2
             AND status = 'running' AND lease_expires_at >= $3",
            &[id.into(), worker.into(), now_ms().into()],
        )
        .await
    }
}
