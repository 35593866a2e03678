//! `mstation agent --server URL --token T`: runs the platform's media jobs (probes, proxies) on
//! this machine, pulled over HTTP from the queue the servers' own workers share. Each job is
//! claimed with a lease and renewed while it runs; its source is read straight from the S3
//! bucket where the platform keeps media there (else through the server), what it made is sent
//! back through the server, and the job is ended with it, recorded once. A
//! killed agent stops renewing: its job goes back to the queue and runs elsewhere.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use mstation_server::media_jobs;
use mstation_server::tools::ToolError;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Options {
    pub server: String,
    pub token: String,
    pub name: String,
    pub jobs: usize,
    pub lease_ms: i64,
    pub work: PathBuf,
}

#[derive(Clone)]
struct Server {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// Why a job's attempt failed, as the agent tells the server.
enum Failure {
    /// Another attempt could do better.
    Retry(String),
    /// None could.
    Final(String),
    /// The agent no longer holds the job: nothing to tell.
    LeaseLost,
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Retry(format!("{e:#}"))
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<reqwest::Response> {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))
    }
}

/// The problem a refusal carries, in a line.
async fn said(r: reqwest::Response) -> String {
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    format!(
        "{status}: {}",
        v["detail"].as_str().or(v["title"].as_str()).unwrap_or("")
    )
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    mstation_server::init_tls();
    let server = Server {
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A stalled transfer is dropped and the job tried again, not held forever.
            .read_timeout(Duration::from_secs(60))
            // A source's redirect to the bucket is followed by hand, without the token.
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        base: o.server.trim_end_matches('/').to_string(),
        token: o.token.clone(),
    };
    // What a killed run of this agent left is let go.
    let _ = tokio::fs::remove_dir_all(&o.work).await;
    tokio::fs::create_dir_all(&o.work)
        .await
        .with_context(|| format!("creating the work folder {}", o.work.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping: the jobs running now finish, no new ones are taken");
                stop.store(true, Ordering::SeqCst);
            }
        });
    }
    println!(
        "agent {} working for {} with {} slot(s)",
        o.name, server.base, o.jobs
    );
    let mut slots = Vec::new();
    for slot in 0..o.jobs.max(1) {
        let worker = format!("{}.{slot}", o.name);
        let (server, stop, work) = (
            server.clone(),
            stop.clone(),
            o.work.join(format!("slot{slot}")),
        );
        let lease_ms = o.lease_ms;
        slots.push(tokio::spawn(async move {
            work_slot(server, worker, lease_ms, work, stop).await
        }));
    }
    for s in slots {
        s.await??;
    }
    Ok(())
}

async fn work_slot(
    server: Server,
    worker: String,
    lease_ms: i64,
    work: PathBuf,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut idle = Duration::from_millis(200);
    while !stop.load(Ordering::SeqCst) {
        let claimed = server
            .post(
                "/api/v1/agent/claim",
                &json!({"worker": worker, "lease_ms": lease_ms,
                    "kinds": ["media.probe", "media.proxy", "media.cuts"]}),
            )
            .await;
        let job: Value = match claimed {
            Ok(r) if r.status() == reqwest::StatusCode::NO_CONTENT => {
                tokio::time::sleep(idle).await;
                idle = (idle * 2).min(Duration::from_secs(2));
                continue;
            }
            Ok(r) if r.status().is_success() => r.json::<Value>().await?["job"].clone(),
            // Not allowed: no point asking again.
            Ok(r) if matches!(r.status().as_u16(), 401 | 403) => {
                bail!(
                    "the server refused this agent ({}); an agent needs a platform operator's token that may manage its organisation",
                    said(r).await
                );
            }
            Ok(r) => {
                eprintln!("{worker}: claiming a job: {}", said(r).await);
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            Err(e) => {
                eprintln!("{worker}: {e:#}");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        idle = Duration::from_millis(200);
        let id = job["id"].as_str().unwrap_or_default().to_string();
        let kind = job["kind"].as_str().unwrap_or_default().to_string();
        let started = Instant::now();
        // The lease is renewed at a third of its length; lost, the job is dropped.
        let lost = Arc::new(tokio::sync::Notify::new());
        let beat = {
            let (server, worker, id, lost) =
                (server.clone(), worker.clone(), id.clone(), lost.clone());
            tokio::spawn(async move {
                let every = Duration::from_millis(lease_ms as u64 / 3);
                let mut wait = every;
                loop {
                    tokio::time::sleep(wait).await;
                    let beat = server
                        .http
                        .post(server.url(&format!("/api/v1/agent/jobs/{id}/heartbeat")))
                        .bearer_auth(&server.token)
                        .timeout(Duration::from_millis(lease_ms as u64 / 4))
                        .json(&json!({"worker": worker, "lease_ms": lease_ms}))
                        .send()
                        .await;
                    wait = match beat {
                        Ok(r) if r.status().is_success() => every,
                        Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {
                            lost.notify_one();
                            return;
                        }
                        // The server is away for a moment: tried again soon, while the lease
                        // may still hold.
                        _ => Duration::from_secs(1),
                    };
                }
            })
        };
        let dir = work.join(&id);
        let made = tokio::select! {
            o = run_job(&server, &worker, &job, &dir) => o,
            _ = lost.notified() => Err(Failure::LeaseLost),
        };
        // The end is sent whole, whatever a heartbeat meanwhile says: the server decides.
        let outcome = match made {
            Ok(end) => finish(&server, &id, &end).await,
            Err(e) => Err(e),
        };
        beat.abort();
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let secs = started.elapsed().as_secs_f64();
        let told = match outcome {
            Ok(end) => {
                println!(
                    "{worker}: job {id} {kind}: {} in {secs:.1} s",
                    end["status"].as_str().unwrap_or("ended")
                );
                continue;
            }
            Err(Failure::LeaseLost) => {
                println!("{worker}: job {id} {kind}: the lease was lost; another worker has it");
                continue;
            }
            Err(Failure::Retry(e)) => {
                println!("{worker}: job {id} {kind}: failed, to be tried again: {e}");
                server
                    .post(
                        &format!("/api/v1/agent/jobs/{id}/fail"),
                        &json!({"worker": worker, "error": e, "retry": true}),
                    )
                    .await
            }
            Err(Failure::Final(e)) => {
                println!("{worker}: job {id} {kind}: failed for good: {e}");
                server
                    .post(
                        &format!("/api/v1/agent/jobs/{id}/fail"),
                        &json!({"worker": worker, "error": e, "retry": false}),
                    )
                    .await
            }
        };
        if let Err(e) = told {
            eprintln!(
                "{worker}: could not report the failure ({e:#}); the lease will run out and the job run again"
            );
        }
    }
    Ok(())
}

/// Runs one job: its source read (from the bucket, else through the server), the tool run here,
/// what it made sent back. Answers the end to send.
async fn run_job(server: &Server, worker: &str, job: &Value, dir: &Path) -> Result<Value, Failure> {
    let id = job["id"].as_str().unwrap_or_default();
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let src = dir.join("source");
    let hash = job["payload"]["hash"].as_str().filter(|h| !h.is_empty());
    // Straight from the bucket where the platform keeps blobs in S3 and this machine reaches
    // it; else through the server. Either way checked against the file's hash.
    match fetch(server, worker, id, &src, hash, hash.is_some()).await {
        Err(Failure::Retry(why)) if hash.is_some() => {
            eprintln!("{worker}: job {id}: reading the source through the server ({why})");
            fetch(server, worker, id, &src, hash, false).await?
        }
        other => other?,
    }
    let payload = &job["payload"];
    let end = match job["kind"].as_str() {
        Some("media.probe") => {
            let last = job["attempts"].as_i64() >= job["max_attempts"].as_i64();
            match media_jobs::probe_file(&src, last).await {
                Ok(Ok(p)) => json!({"worker": worker, "probe": p}),
                Ok(Err(why)) => json!({"worker": worker, "probe_error": why}),
                Err(e) => return Err(Failure::Retry(e)),
            }
        }
        Some("media.cuts") => {
            let last = job["attempts"].as_i64() >= job["max_attempts"].as_i64();
            match media_jobs::find_cuts(&src, last).await {
                Ok(Ok(cuts)) => json!({"worker": worker, "cuts": cuts}),
                Ok(Err(why)) => return Err(Failure::Final(why)),
                Err(e) => return Err(Failure::Retry(e)),
            }
        }
        Some("media.proxy") => {
            let settings = media_jobs::proxy_settings(payload);
            if let Some(why) = settings.refused() {
                return Err(Failure::Final(why));
            }
            let files = match media_jobs::make_proxy(&src, &dir.join("out"), &settings).await {
                Ok(f) => f,
                Err(ToolError::Failed { stderr, .. }) => {
                    return Err(Failure::Final(format!(
                        "ffmpeg could not make the proxy: {}",
                        mstation_core::media::probe::reason(&stderr)
                    )));
                }
                Err(e) => return Err(Failure::Retry(e.to_string())),
            };
            let sprite_hash = match &files.sprite {
                Some(s) => Some(send(server, worker, id, s).await?),
                None => None,
            };
            let waveform_hash = match &files.waveform {
                Some(w) => Some(send(server, worker, id, w).await?),
                None => None,
            };
            json!({
                "worker": worker,
                "proxy_hash": send(server, worker, id, &files.proxy).await?,
                "poster_hash": send(server, worker, id, &files.poster).await?,
                "sprite_hash": sprite_hash,
                "waveform_hash": waveform_hash,
            })
        }
        other => {
            return Err(Failure::Retry(format!(
                "this agent does not run {other:?} jobs"
            )));
        }
    };
    Ok(end)
}

/// Ends the job with what it made; answers the server's account of the end.
async fn finish(server: &Server, id: &str, end: &Value) -> Result<Value, Failure> {
    let r = server
        .post(&format!("/api/v1/agent/jobs/{id}/finish"), end)
        .await?;
    match r.status() {
        s if s.is_success() => Ok(r.json().await.map_err(|e| Failure::Retry(e.to_string()))?),
        reqwest::StatusCode::CONFLICT => Err(Failure::LeaseLost),
        _ => Err(Failure::Retry(format!(
            "the server refused the job's end: {}",
            said(r).await
        ))),
    }
}

/// Reads the job's source into `to`, checked against its `hash`: through the server, or, with
/// `direct`, straight from the S3 bucket when the server keeps media there (it answers with a
/// signed address, which is read with no token of the platform).
async fn fetch(
    server: &Server,
    worker: &str,
    id: &str,
    to: &Path,
    hash: Option<&str>,
    direct: bool,
) -> Result<(), Failure> {
    let ask = if direct { "&direct=true" } else { "" };
    let r = server
        .http
        .get(server.url(&format!(
            "/api/v1/agent/jobs/{id}/source?worker={worker}{ask}"
        )))
        .bearer_auth(&server.token)
        .send()
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    if r.status() == reqwest::StatusCode::CONFLICT {
        return Err(Failure::LeaseLost);
    }
    let r = if r.status() == reqwest::StatusCode::TEMPORARY_REDIRECT {
        let at = r
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Failure::Retry("the server named no address for the source".into()))?
            .to_string();
        server
            .http
            .get(&at)
            .send()
            .await
            .map_err(|e| Failure::Retry(format!("reading the source from the bucket: {e}")))?
    } else {
        r
    };
    if !r.status().is_success() {
        return Err(Failure::Retry(format!(
            "reading the job's source: {}",
            said(r).await
        )));
    }
    let mut file = tokio::fs::File::create(to)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let mut body = r.bytes_stream();
    let mut hasher = hash.map(|_| blake3::Hasher::new());
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Failure::Retry(format!("reading the job's source: {e}")))?;
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
    }
    file.flush()
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    if let (Some(h), Some(want)) = (hasher, hash)
        && h.finalize().to_hex().as_str() != want
    {
        let why = "the source read is not the file's bytes (its hash differs)".to_string();
        // From the bucket, the server may yet read it whole; from the server, the file kept is
        // damaged, and no attempt will do better.
        return Err(if direct {
            Failure::Retry(why)
        } else {
            Failure::Final(why)
        });
    }
    Ok(())
}

/// Sends a file the job made to the server; answers its blob's hash.
async fn send(server: &Server, worker: &str, id: &str, path: &Path) -> Result<String, Failure> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?
        .len();
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 1 << 20];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let r = server
        .http
        .put(server.url(&format!("/api/v1/agent/jobs/{id}/outputs?worker={worker}")))
        .bearer_auth(&server.token)
        .header("content-length", size)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    match r.status() {
        reqwest::StatusCode::CREATED => {}
        reqwest::StatusCode::CONFLICT => return Err(Failure::LeaseLost),
        _ => {
            return Err(Failure::Retry(format!(
                "sending what the job made: {}",
                said(r).await
            )));
        }
    }
    let v: Value = r.json().await.map_err(|e| Failure::Retry(e.to_string()))?;
    v["hash"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Failure::Retry("the server kept the output without a hash".into()))
}
