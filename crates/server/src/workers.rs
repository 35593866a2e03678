//! The background work of `serve`: the outbox tailer that feeds live streams, the webhook
//! fan-out, the job workers with their leases, and the reaper that returns abandoned jobs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mstation_store::events::webhooks::{Attempt, DELIVERY_JOB, FANOUT_CONSUMER};
use mstation_store::jobs::Job;
use mstation_store::media::Derived;
use mstation_store::media::work::{Ended, Made};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::State;

/// How long a claimed job is ours without a heartbeat.
pub const LEASE_MS: i64 = 30_000;
const HEARTBEAT: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_millis(150);

/// Job kinds this process can run.
pub const KINDS: [&str; 6] = [
    DELIVERY_JOB,
    mstation_store::orders::VERIFY_JOB,
    mstation_store::media::PROBE_JOB,
    mstation_store::media::PROXY_JOB,
    mstation_store::media::CUTS_JOB,
    mstation_store::media::WATERMARK_JOB,
];

pub fn start(state: State, workers: usize, shutdown: watch::Sender<bool>) -> Vec<JoinHandle<()>> {
    let mut handles = vec![
        tokio::spawn(tail_outbox(state.clone(), shutdown.subscribe())),
        tokio::spawn(reaper(state.clone(), shutdown.subscribe())),
        tokio::spawn(keep_catalogue(state.clone(), shutdown.subscribe())),
        tokio::spawn(keep_talent(state.clone(), shutdown.subscribe())),
        tokio::spawn(embed_talent(state.clone(), shutdown.subscribe())),
    ];
    if workers > 0 {
        handles.push(tokio::spawn(fan_out(state.clone(), shutdown.subscribe())));
        for i in 0..workers {
            handles.push(tokio::spawn(work(
                state.clone(),
                format!("{}-{i}", state.worker_id),
                shutdown.subscribe(),
            )));
        }
    }
    handles
}

async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.changed() => true,
    }
}

/// How long a hole in the outbox may hold the live events back before the tailer says so.
const LONG_HOLE_MS: i64 = 30_000;

/// How far back a new outbox reader looks for writes still open on other servers.
const OUTBOX_START_WINDOW_MS: i64 = 60_000;

/// Reads committed events in order and hands them to the live streams of this process.
async fn tail_outbox(state: State, mut stop: watch::Receiver<bool>) {
    let (mut cursor, committed) = loop {
        match state
            .store
            .platform()
            .outbox_start(OUTBOX_START_WINDOW_MS)
            .await
        {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(error = %e, "outbox tailer waiting for the database");
                if pause(&mut stop, Duration::from_secs(1)).await {
                    return;
                }
            }
        }
    };
    // Committed before this process started: announced as replayed (for streams resuming from
    // an earlier event). What commits later below the newest of them (a write that was open
    // elsewhere) is announced in its place.
    let mut old: std::collections::VecDeque<i64> = committed.into();
    state
        .broadcast_upto
        .store(cursor, std::sync::atomic::Ordering::Release);
    let mut gap: Option<mstation_core::events::GapWatch> = None;
    let mut warned_at = None;
    loop {
        if let Some(w) = gap
            && mstation_store::now_ms() - w.since_ms > LONG_HOLE_MS
            && warned_at != Some(w.cursor)
        {
            warned_at = Some(w.cursor);
            tracing::warn!(
                after_seq = w.cursor,
                "an outbox number has waited 30 s for a transaction still open on the database \
                 server; live events of every organisation wait with it (look for sessions idle \
                 in transaction in pg_stat_activity; idle_in_transaction_session_timeout ends them)"
            );
        }
        let read = async {
            let horizon = match &gap {
                Some(w) => {
                    state
                        .store
                        .platform()
                        .outbox_horizon(w.holder_below.is_none())
                        .await?
                }
                None => None,
            };
            let batch = state.store.platform().events_after(cursor, 1000).await?;
            Ok::<_, mstation_store::StoreError>((horizon, batch))
        };
        match read.await {
            Ok((horizon, batch)) if !batch.is_empty() => {
                let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
                let (n, next) = mstation_core::events::advance(
                    cursor,
                    &seqs,
                    &mut gap,
                    mstation_store::now_ms(),
                    horizon,
                );
                for event in batch.into_iter().take(n) {
                    while old.front().is_some_and(|s| *s < event.seq) {
                        old.pop_front();
                    }
                    let replayed = old.front() == Some(&event.seq);
                    // Published before the event is sent: a stream that subscribes after the
                    // send reads it from the outbox (everything up to here is settled), one
                    // that subscribed before gets it live (and drops the copy by its number).
                    state
                        .broadcast_upto
                        .store(event.seq, std::sync::atomic::Ordering::Release);
                    let _ = state.events.send(Arc::new(crate::Live { event, replayed }));
                }
                cursor = next;
                state
                    .broadcast_upto
                    .store(cursor, std::sync::atomic::Ordering::Release);
                if n == seqs.len() {
                    continue;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox read failed"),
        }
        if pause(&mut stop, Duration::from_millis(100)).await {
            return;
        }
    }
}

/// Builds this process's catalogue of the listings on sale from the database, page by page.
async fn build_catalogue(state: &State) -> Result<usize, String> {
    let _turn = state.catalogue_turn.lock().await;
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .platform()
            .catalogue_page(after, 1000)
            .await
            .map_err(|e| e.to_string())?;
        let full = page.len() == 1000;
        after = page.last().map(|e| e.id);
        entries.extend(page);
        if !full {
            break;
        }
    }
    let n = entries.len();
    let catalogue = state.catalogue.clone();
    match tokio::task::spawn_blocking(move || catalogue.rebuild(&entries)).await {
        Ok(Ok(())) => Ok(n),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The events an index's keeper hears next: the first awaited, then what is already waiting,
/// up to 500 in one change; and whether the stream fell behind (the index is then built
/// again). None when stopped, or when the stream has closed.
async fn next_events(
    events: &mut tokio::sync::broadcast::Receiver<Arc<crate::Live>>,
    stop: &mut watch::Receiver<bool>,
) -> Option<(Vec<Arc<crate::Live>>, bool)> {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let mut heard = Vec::new();
    let mut behind = false;
    let first = tokio::select! {
        e = events.recv() => e,
        _ = stop.changed() => return None,
    };
    match first {
        Ok(live) => heard.push(live),
        Err(RecvError::Lagged(_)) => behind = true,
        Err(RecvError::Closed) => return None,
    }
    while heard.len() < 500 {
        match events.try_recv() {
            Ok(live) => heard.push(live),
            Err(TryRecvError::Lagged(_)) => behind = true,
            Err(TryRecvError::Closed) => return None,
            Err(TryRecvError::Empty) => break,
        }
    }
    Some((heard, behind))
}

/// Keeps the catalogue of listings on sale (`AppState::catalogue`): built at start, then told
/// of every listing and offer event of every server as the outbox brings them round, and of
/// the probes of media on sale and the renaming of contributors (a stream that fell behind,
/// or a read that failed, builds it again).
async fn keep_catalogue(state: State, mut stop: watch::Receiver<bool>) {
    let mut events = state.events.subscribe();
    let mut build = true;
    loop {
        if build {
            match build_catalogue(&state).await {
                Ok(n) => {
                    tracing::info!(listings = n, "the storefront's catalogue is built");
                    state.catalogue_ready.send_replace(true);
                    build = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the catalogue waits for the database");
                    if pause(&mut stop, Duration::from_secs(1)).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some((heard, behind)) = next_events(&mut events, &mut stop).await else {
            return;
        };
        build |= behind;
        let mut changed: Vec<Uuid> = Vec::new();
        for live in &heard {
            let e = &live.event;
            let platform = state.store.platform();
            let touched = match (e.entity_type.as_str(), e.entity_id) {
                ("listing", Some(id)) => Ok(vec![id]),
                ("offer", Some(id)) => platform
                    .offer_listing(id)
                    .await
                    .map(|l| l.into_iter().collect()),
                ("media_file", Some(id)) if e.kind == "media.probed" => {
                    platform.listings_touching(Some(id), None).await
                }
                ("org", Some(id)) if e.kind == "org.updated" => {
                    platform.listings_touching(None, Some(id)).await
                }
                _ => Ok(Vec::new()),
            };
            match touched {
                Ok(ids) => changed.extend(ids),
                Err(err) => {
                    tracing::warn!(error = %err, "the catalogue is built again after a failed read");
                    build = true;
                }
            }
        }
        if build || changed.is_empty() {
            continue;
        }
        changed.sort_unstable();
        changed.dedup();
        if let Err(e) = state.try_index_listings(&changed).await {
            tracing::warn!(error = %e, "the catalogue is built again after a failed change");
            build = true;
        }
    }
}

/// Builds this process's talent index from the database, page by page.
async fn build_talent(state: &State) -> Result<usize, String> {
    let _turn = state.talent_turn.lock().await;
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .platform()
            .talent_index_page(after, 5000)
            .await
            .map_err(|e| e.to_string())?;
        let full = page.len() == 5000;
        after = page.last().map(|e| e.id);
        entries.extend(page);
        if !full {
            break;
        }
    }
    let n = entries.len();
    let index = state.talent.clone();
    tokio::task::spawn_blocking(move || index.rebuild(entries))
        .await
        .map_err(|e| e.to_string())?;
    state.talent_changed.notify_one();
    Ok(n)
}

/// Keeps the talent index (`AppState::talent`): built at start, then told of every profile
/// event of every server as the outbox brings them round (a stream that fell behind, or a read
/// that failed, builds it again).
async fn keep_talent(state: State, mut stop: watch::Receiver<bool>) {
    let mut events = state.events.subscribe();
    let mut build = true;
    loop {
        if build {
            match build_talent(&state).await {
                Ok(n) => {
                    tracing::info!(profiles = n, "the talent index is built");
                    state.talent_ready.send_replace(true);
                    build = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the talent index waits for the database");
                    if pause(&mut stop, Duration::from_secs(1)).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some((heard, behind)) = next_events(&mut events, &mut stop).await else {
            return;
        };
        build |= behind;
        let mut changed: Vec<Uuid> = heard
            .iter()
            .filter_map(
                |live| match (live.event.entity_type.as_str(), live.event.entity_id) {
                    ("profile", Some(id)) => Some(id),
                    _ => None,
                },
            )
            .collect();
        if build || changed.is_empty() {
            continue;
        }
        changed.sort_unstable();
        changed.dedup();
        if let Err(e) = state.try_index_profiles(&changed).await {
            tracing::warn!(error = %e, "the talent index is built again after a failed change");
            build = true;
        }
    }
}

/// Gives the talent index's profiles their vectors: each profile whose text has none is
/// embedded by the sentence model (32 at a time, off the async threads) and its vector kept in
/// the database, so the next start reads it. Without the model, nothing is embedded and
/// searches by meaning are refused.
async fn embed_talent(state: State, mut stop: watch::Receiver<bool>) {
    loop {
        // A stop is heard between batches, however many profiles wait.
        if *stop.borrow() {
            return;
        }
        let wanting = state.talent.wanting_vectors(32);
        if wanting.is_empty() {
            tokio::select! {
                _ = state.talent_changed.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        let model = {
            let s = state.clone();
            tokio::task::spawn_blocking(move || s.sentence_model())
                .await
                .ok()
                .flatten()
        };
        let Some(model) = model else {
            // Nothing to embed with: wait to be stopped.
            let _ = stop.changed().await;
            return;
        };
        // Another server may have kept vectors for these meanwhile: read them again first.
        let ids: Vec<Uuid> = wanting.iter().map(|w| w.0).collect();
        if let Err(e) = state.try_index_profiles(&ids).await {
            tracing::warn!(error = %e, "the talent vectors wait for the database");
            if pause(&mut stop, Duration::from_secs(1)).await {
                return;
            }
            continue;
        }
        let wanting = state.talent.pending_of(&ids);
        if wanting.is_empty() {
            continue;
        }
        let texts: Vec<String> = wanting.iter().map(|w| w.1.clone()).collect();
        let made = tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            model.embed(&texts)
        })
        .await;
        let vectors = match made {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the sentence model failed; profiles wait for vectors");
                if pause(&mut stop, Duration::from_secs(30)).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "the sentence model stopped");
                return;
            }
        };
        let keep: Vec<(Uuid, String, Vec<f32>)> = wanting
            .into_iter()
            .zip(vectors)
            .map(|((id, _, digest), v)| (id, digest, v))
            .collect();
        match state
            .store
            .platform()
            .keep_talent_vectors(keep.clone())
            .await
        {
            Ok(()) => {
                for (id, digest, v) in &keep {
                    state.talent.set_vector(*id, digest, v);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the talent vectors wait for the database");
                if pause(&mut stop, Duration::from_secs(1)).await {
                    return;
                }
            }
        }
    }
}

/// Queues webhook deliveries for new events. The cursor moves in the same transaction as the
/// queued jobs, so a crash neither loses nor doubles a delivery.
async fn fan_out(state: State, mut stop: watch::Receiver<bool>) {
    let mut gap: Option<mstation_core::events::GapWatch> = None;
    loop {
        let gap = &mut gap;
        let step = async {
            let cursor = state
                .store
                .platform()
                .consumer_offset(FANOUT_CONSUMER)
                .await?
                .unwrap_or(0);
            // Another server may have moved the cursor past the hole this one waited on.
            if gap.is_some_and(|w| w.cursor != cursor) {
                *gap = None;
            }
            let horizon = match gap.as_ref() {
                Some(w) => {
                    state
                        .store
                        .platform()
                        .outbox_horizon(w.holder_below.is_none())
                        .await?
                }
                None => None,
            };
            let batch = state.store.platform().events_after(cursor, 500).await?;
            if batch.is_empty() {
                return Ok::<_, mstation_store::StoreError>(false);
            }
            let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
            let now = mstation_store::now_ms();
            let (n, next) = mstation_core::events::advance(cursor, &seqs, gap, now, horizon);
            if n == 0 {
                return Ok(false);
            }
            state
                .store
                .platform()
                .fan_out_webhooks(&batch[..n], cursor, next)
                .await?;
            Ok(n == seqs.len() && n == 500)
        };
        match step.await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "webhook fan-out failed; will retry"),
        }
        if pause(&mut stop, Duration::from_millis(200)).await {
            return;
        }
    }
}

async fn reaper(state: State, mut stop: watch::Receiver<bool>) {
    let mut last_prune = Instant::now();
    loop {
        match state.store.platform().reap_expired_leases().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "returned jobs whose worker stopped answering"),
            Err(e) => tracing::warn!(error = %e, "reaper failed"),
        }
        expire_uploads(&state).await;
        // Pending transfers whose time ran out give their money back, by this clock.
        match state
            .store
            .platform()
            .expire_pending(mstation_store::now_ms(), 1000)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(transfers = n, "expired pending transfers"),
            Err(e) => tracing::warn!(error = %e, "expiring pending transfers failed"),
        }
        if last_prune.elapsed() > Duration::from_secs(3600) {
            let before = mstation_store::now_ms() - mstation_store::media::BLOB_GRACE_MS;
            collect_blobs(&state, before).await;
            let _ = state.store.platform().idem_prune().await;
            let _ = state.store.optimize().await;
            last_prune = Instant::now();
        }
        if pause(&mut stop, Duration::from_secs(2)).await {
            return;
        }
    }
}

/// The file a media job is about (its id and blob hash, 64 hex digits, so safe in a path),
/// and the job's payload.
fn media_target(job: &Job) -> Result<(uuid::Uuid, String, serde_json::Value), JobFailure> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    match (job.org_id, mstation_store::media::work::job_file(&payload)) {
        (Some(_), Some((file, hash))) => Ok((file, hash, payload)),
        _ => Err(JobFailure::Final("the job names no file".into())),
    }
}

/// Reads a new file with ffprobe: what it says, or, for a file ffprobe cannot read (corrupt,
/// truncated, not media), its reason, which fails the job for good when recorded. A missing
/// ffprobe or a lost blob is tried again later.
async fn probe(state: &State, job: &Job) -> Result<Ran, JobFailure> {
    let (_, hash, _) = media_target(job)?;
    let readable = state
        .blobs
        .readable(&hash)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?;
    // A blob that is not there is not the file's fault: tried again, not recorded.
    if !readable.path.exists() {
        return Err(JobFailure::Retry(format!("the blob {hash} is missing")));
    }
    let outcome = crate::media_jobs::probe_file(&readable.path, job.attempts >= job.max_attempts)
        .await
        .map_err(JobFailure::Retry)?;
    Ok(Ran::Made(Made::Probe(Box::new(outcome))))
}

/// Makes a file's browser proxy, poster, sprite and waveform (`media_jobs::make_proxy`) and
/// keeps them as blobs.
/// A file ffmpeg cannot read fails the job for good, with ffmpeg's reason.
async fn proxy(state: &State, job: &Job) -> Result<Ran, JobFailure> {
    let (_, hash, payload) = media_target(job)?;
    let settings = crate::media_jobs::proxy_settings(&payload);
    if let Some(why) = settings.refused() {
        return Err(JobFailure::Final(why));
    }
    let src = state
        .blobs
        .readable(&hash)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?;
    let dir = state.blobs.staging_file(job.id).with_extension("proxy");
    let made = crate::media_jobs::make_proxy(&src.path, &dir, &settings).await;
    let result = match made {
        Ok(files) => {
            let keep = |path: std::path::PathBuf| keep_made(state, path);
            let sprite_hash = match files.sprite {
                Some(s) => Some(keep(s).await?),
                None => None,
            };
            let waveform_hash = match files.waveform {
                Some(w) => Some(keep(w).await?),
                None => None,
            };
            Ok(Ran::Made(Made::Proxy(Derived {
                proxy_hash: keep(files.proxy).await?,
                poster_hash: keep(files.poster).await?,
                sprite_hash,
                waveform_hash,
            })))
        }
        Err(crate::tools::ToolError::Failed { stderr, .. }) => Err(JobFailure::Final(format!(
            "ffmpeg could not make the proxy: {}",
            mstation_core::media::probe::reason(&stderr)
        ))),
        Err(e) => Err(JobFailure::Retry(e.to_string())),
    };
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

/// Finds where the shots of a file change (`core::media::cuts`), from its pictures decoded
/// small. A file ffmpeg cannot decode fails the job for good, with ffmpeg's reason.
async fn cuts(state: &State, job: &Job) -> Result<Ran, JobFailure> {
    let (_, hash, _) = media_target(job)?;
    let src = state
        .blobs
        .readable(&hash)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?;
    if !src.path.exists() {
        return Err(JobFailure::Retry(format!("the blob {hash} is missing")));
    }
    match crate::media_jobs::find_cuts(&src.path, job.attempts >= job.max_attempts).await {
        Ok(Ok(cutting)) => Ok(Ran::Made(Made::Cuts(Box::new(cutting)))),
        Ok(Err(why)) => Err(JobFailure::Final(why)),
        Err(why) => Err(JobFailure::Retry(why)),
    }
}

/// Verifies a work order's delivery: each delivered file's bytes read from the blob store and
/// hashed in the formats its line of the ASC MHL manifest gives, then the verification
/// recorded (a delivery verified already is left as it is).
async fn verify_delivery(state: &State, job: &Job) -> Result<serde_json::Value, JobFailure> {
    use mstation_store::orders::{FileOutcome, formats_needed, verify};
    let p: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    let id = p["delivery_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| JobFailure::Final("the job names no delivery".into()))?;
    let platform = state.store.platform();
    let Some(v) = platform
        .delivery_to_verify(id)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?
    else {
        return Ok(serde_json::json!({"delivery_id": id, "verified_before": true}));
    };
    // On the last attempt a file that still cannot be read is recorded as not matching (its
    // hash not found), so the delivery fails instead of waiting for ever.
    let last = job.attempts >= job.max_attempts;
    let mut hashes = Vec::new();
    for (f, formats) in v.files.iter().zip(formats_needed(&v)) {
        if formats.is_empty() {
            hashes.push(Default::default());
            continue;
        }
        match hash_blob(state, &f.hash, formats).await {
            Ok(h) => hashes.push(h),
            Err(_) if last => hashes.push(Default::default()),
            Err(why) => return Err(JobFailure::Retry(why)),
        }
    }
    let files = verify(&v, &hashes);
    let verified = !files.is_empty() && files.iter().all(|f| f.outcome == FileOutcome::Match);
    let count = files.len();
    platform
        .finish_verification(id, files)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?;
    Ok(serde_json::json!({"delivery_id": id, "verified": verified, "files": count}))
}

/// The hashes of blob `hash`'s bytes in `formats` (ASC MHL's).
async fn hash_blob(
    state: &State,
    hash: &str,
    formats: Vec<String>,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    use mstation_core::media::mhl;
    let src = state
        .blobs
        .readable(hash)
        .await
        .map_err(|e| e.to_string())?;
    if !src.path.exists() {
        return Err(format!("the blob {hash} is missing"));
    }
    let path = src.path.clone();
    let h = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut hasher = mhl::Hasher::new(formats.iter().map(String::as_str));
        let mut file = std::fs::File::open(&path)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok::<_, std::io::Error>(hasher.finish())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    drop(src);
    Ok(h)
}

/// Keeps a file a media job made as a blob: its hash.
async fn keep_made(state: &State, path: std::path::PathBuf) -> Result<String, JobFailure> {
    let size = tokio::fs::metadata(&path)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?
        .len();
    let h = mstation_store::media::blobs::hash_file(path.clone(), size)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?;
    crate::api::media::tus::keep_blob(state, &h, &path, size as i64)
        .await
        .map_err(|e| JobFailure::Retry(format!("{:?}", e.code)))?;
    Ok(h)
}

/// Makes a share link's copy of a version: its proxy with the link's recipient burnt into every
/// frame (`media_jobs::make_watermarked`); or a market listing's preview, from its original,
/// with the platform's mark, at most 720 lines.
async fn watermark(state: &State, job: &Job) -> Result<Ran, JobFailure> {
    let (_, hash, payload) = media_target(job)?;
    if payload.get("listing_id").is_some() {
        return mark(state, job, &hash, PREVIEW_MARK, Some(720)).await;
    }
    let link = payload["share_link_id"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok());
    let (Some(org), Some(link)) = (job.org_id, link) else {
        return Err(JobFailure::Final("the job names no share link".into()));
    };
    // Whom the copy is for, read now: a link withdrawn or run out meanwhile gets no copy.
    let text = match state.store.platform().share_recipient(org, link).await {
        Ok(Some(name)) => name,
        Ok(None) => {
            return Err(JobFailure::Final(
                "the share link was withdrawn or ran out".into(),
            ));
        }
        Err(e) => return Err(JobFailure::Retry(e.to_string())),
    };
    mark(state, job, &hash, &text, None).await
}

/// What a market preview carries in every frame.
const PREVIEW_MARK: &str = "M-Station · PREVIEW · 预览";

/// The blob `hash` with `text` burnt into every frame, scaled down to `lines` if it has more.
async fn mark(
    state: &State,
    job: &Job,
    hash: &str,
    text: &str,
    lines: Option<u32>,
) -> Result<Ran, JobFailure> {
    let src = state
        .blobs
        .readable(hash)
        .await
        .map_err(|e| JobFailure::Retry(e.to_string()))?;
    if !src.path.exists() {
        return Err(JobFailure::Retry(format!("the blob {hash} is missing")));
    }
    let duration = crate::media_jobs::probe_file(&src.path, false)
        .await
        .ok()
        .and_then(|p| p.ok())
        .and_then(|p| p.duration)
        .unwrap_or(600.0);
    let dir = state.blobs.staging_file(job.id).with_extension("mark");
    let made = crate::media_jobs::make_watermarked(&src.path, &dir, text, duration, lines).await;
    let result = match made {
        Ok((path, Some(sig))) => {
            let raw = tokio::fs::read(&sig).await.unwrap_or_default();
            let likeness = mstation_core::market::signature(&raw);
            let hash = keep_made(state, path).await?;
            Ok(Ran::Made(Made::Preview(hash, likeness)))
        }
        Ok((path, None)) => Ok(Ran::Made(Made::Watermarked(keep_made(state, path).await?))),
        Err(crate::tools::ToolError::Failed { stderr, .. }) => Err(JobFailure::Final(format!(
            "ffmpeg could not mark the copy: {}",
            mstation_core::media::probe::reason(&stderr)
        ))),
        Err(e) => Err(JobFailure::Retry(e.to_string())),
    };
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

/// Deletes blobs no file references, recorded before `before` (ms; the reaper passes now less
/// `BLOB_GRACE_MS`): the database forgets each first, then its bytes go.
pub async fn collect_blobs(state: &State, before: i64) {
    let hashes = match state
        .store
        .platform()
        .unreferenced_blobs(before, 1000)
        .await
    {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "reading unreferenced blobs failed");
            return;
        }
    };
    for hash in hashes {
        // Marked, its bytes deleted, then forgotten: an upload of the same bytes meanwhile
        // waits for the row to go and stores them again.
        match state.store.platform().collect_blob(&hash, before).await {
            Ok(true) => match state.blobs.delete(&hash).await {
                Ok(()) => {
                    if let Err(e) = state.store.platform().forget_blob(&hash).await {
                        tracing::warn!(error = %e, blob = %hash, "forgetting a blob failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, blob = %hash, "a collected blob's bytes stay"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, blob = %hash, "collecting a blob failed"),
        }
    }
}

/// Lets go of uploads whose time ran out: their rows (announced as `upload.expired`) and bytes.
async fn expire_uploads(state: &State) {
    let expired = match state.store.platform().expired_uploads(100).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "reading expired uploads failed");
            return;
        }
    };
    for (id, org_id) in expired {
        match state.store.platform().expire_upload(id, org_id).await {
            Ok(true) => {
                if let Err(e) = state.blobs.drop_staging(id).await {
                    tracing::warn!(error = %e, upload = %id, "an expired upload's bytes stay on disk");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, upload = %id, "expiring an upload failed"),
        }
    }
}

async fn work(state: State, worker: String, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let job = match state
            .store
            .platform()
            .claim_job(&worker, &KINDS, LEASE_MS)
            .await
        {
            Ok(Some(j)) => j,
            Ok(None) => {
                if pause(&mut stop, IDLE).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim a job");
                if pause(&mut stop, Duration::from_secs(1)).await {
                    return;
                }
                continue;
            }
        };
        let id = job.id;
        // Renew the lease while the job runs; a killed process stops renewing and the reaper
        // hands the job to someone else.
        let hb_state = state.clone();
        let hb_worker = worker.clone();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                match hb_state
                    .store
                    .platform()
                    .heartbeat_job(id, &hb_worker, LEASE_MS)
                    .await
                {
                    Ok(true) => {}
                    _ => return,
                }
            }
        });
        let outcome = run(&state, &job).await;
        heartbeat.abort();
        let saved = match outcome {
            Ok(Ran::Done(result)) => {
                state
                    .store
                    .platform()
                    .complete_job(id, &worker, &result)
                    .await
            }
            // What it made is recorded with the job's end, once, while this worker holds it.
            Ok(Ran::Made(made)) => match state
                .store
                .platform()
                .finish_media_job(id, &worker, made)
                .await
            {
                Ok(Ended::LeaseLost) => Ok(false),
                Ok(Ended::Failed(err)) => {
                    tracing::info!(job = %id, kind = %job.kind, error = %err, "job failed for good");
                    Ok(true)
                }
                Ok(Ended::Succeeded(_)) => Ok(true),
                Err(e) => Err(e),
            },
            Err(JobFailure::Retry(err)) => {
                tracing::info!(job = %id, kind = %job.kind, attempt = job.attempts, error = %err, "job attempt failed");
                state.store.platform().fail_job(id, &worker, &err).await
            }
            Err(JobFailure::Final(err)) => {
                tracing::info!(job = %id, kind = %job.kind, attempt = job.attempts, error = %err, "job failed for good");
                state
                    .store
                    .platform()
                    .fail_job_for_good(id, &worker, &err)
                    .await
            }
        };
        if let Err(e) = saved {
            tracing::warn!(job = %id, error = %e, "could not record the job's outcome; its lease will lapse and it will run again");
        }
    }
}

/// What a job's run gives: a result to end it with, or what a media job made, recorded with
/// its end.
enum Ran {
    Done(serde_json::Value),
    Made(Made),
}

async fn run(state: &State, job: &Job) -> Result<Ran, JobFailure> {
    match job.kind.as_str() {
        DELIVERY_JOB => deliver(state, job).await.map(Ran::Done),
        mstation_store::orders::VERIFY_JOB => verify_delivery(state, job).await.map(Ran::Done),
        mstation_store::media::PROBE_JOB => probe(state, job).await,
        mstation_store::media::PROXY_JOB => proxy(state, job).await,
        mstation_store::media::CUTS_JOB => cuts(state, job).await,
        mstation_store::media::WATERMARK_JOB => watermark(state, job).await,
        other => Err(JobFailure::Retry(format!(
            "this server does not know how to run `{other}` jobs"
        ))),
    }
}

/// The client deliveries go out on. With `public_only` it resolves names through `PublicOnly`,
/// so it connects only to addresses it has checked.
fn http_client(public_only: bool) -> &'static reqwest::Client {
    static PUBLIC: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    static ANY: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let build = || {
        // Receivers are usually HTTPS; verify them against the system's trust store.
        crate::init_tls();
        let b = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("M-Station-Webhooks/", env!("CARGO_PKG_VERSION")));
        // No proxy from the environment for the public client: through a proxy, the proxy
        // would resolve the receiver's name, unchecked.
        let b = if public_only {
            b.dns_resolver(PublicOnly).no_proxy()
        } else {
            b
        };
        b.build().expect("an HTTP client with default settings")
    };
    if public_only {
        PUBLIC.get_or_init(build)
    } else {
        ANY.get_or_init(build)
    }
}

/// Resolves a receiver's host name to public addresses only, at the moment of connecting. A
/// check made before the request is not enough: a name can answer a public address to the check
/// and a private one to the connection a moment later (DNS rebinding). Here the addresses the
/// connection uses are the ones checked.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = public_addresses(&host, 0)
                .await
                .map_err(JobFailure::into_text)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The addresses `host` resolves to, refused unless every one is public. A name that does not
/// resolve may resolve later; an address that is not public stays refused.
async fn public_addresses(host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>, JobFailure> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| JobFailure::Retry(format!("the receiver's host {host} does not resolve")))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(JobFailure::Final(format!(
            "the receiver's host {host} is not a public address; webhooks go only to public addresses"
        )));
    }
    Ok(addrs)
}

/// Why a job's attempt failed, and whether another attempt could do better.
#[derive(Debug)]
enum JobFailure {
    /// Tried again later, with back-off, until the job's attempts are spent.
    Retry(String),
    /// Failed for good now: no later attempt would fare otherwise.
    Final(String),
}

impl JobFailure {
    fn into_text(self) -> String {
        match self {
            JobFailure::Retry(t) | JobFailure::Final(t) => t,
        }
    }
}

impl From<String> for JobFailure {
    fn from(t: String) -> Self {
        JobFailure::Retry(t)
    }
}

impl From<&str> for JobFailure {
    fn from(t: &str) -> Self {
        JobFailure::Retry(t.to_string())
    }
}

/// Sends one event to one webhook, signed, and logs the attempt for the organisation's admins.
async fn deliver(state: &State, job: &Job) -> Result<serde_json::Value, JobFailure> {
    let p: serde_json::Value =
        serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
    let hook_id = p["webhook_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or("payload lacks webhook_id")?;
    let event_id = p["event_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or("payload lacks event_id")?;
    let Some((org_id, url, secret, active)) = state
        .store
        .platform()
        .webhook_target(hook_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(serde_json::json!({"skipped": "the webhook was deleted"}));
    };
    if !active {
        return Ok(serde_json::json!({"skipped": "the webhook is paused"}));
    }
    let refused = if state.allow_private_webhooks {
        None
    } else {
        public_target(&url).await.err()
    };
    if let Some(JobFailure::Retry(why)) = refused {
        return Err(JobFailure::Retry(why));
    }
    let event = state
        .store
        .platform()
        .event_by_id(event_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the event is gone")?;
    let body = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
    let now = mstation_store::now_ms() / 1000;
    let sig = mstation_core::webhooks::signature(&secret, now, &body);
    // In the log before anything is sent: an attempt cut off by a crash is still listed.
    let Some(logged) = state
        .store
        .platform()
        .start_delivery(org_id, hook_id, &event, job.attempts)
        .await
        .map_err(|e| format!("could not log the attempt: {e}"))?
    else {
        return Ok(serde_json::json!({"skipped": "the webhook was deleted"}));
    };
    // A receiver that is refused is refused at once, and the log says why.
    if let Some(failure) = refused {
        let why = failure.into_text();
        let answer = Attempt {
            attempt: job.attempts,
            status_code: None,
            error: Some(&why),
            duration_ms: 0,
        };
        if let Err(e) = state
            .store
            .platform()
            .finish_delivery(logged, &answer)
            .await
        {
            tracing::warn!(error = %e, "could not log a webhook delivery");
        }
        return Err(JobFailure::Final(why));
    }
    let start = Instant::now();
    let sent = http_client(!state.allow_private_webhooks)
        .post(&url)
        .header("content-type", "application/json")
        .header("x-mstation-event", &event.kind)
        .header("x-mstation-delivery", job.id.to_string())
        .header("x-mstation-signature", sig)
        .body(body)
        .send()
        .await;
    let ms = start.elapsed().as_millis() as i64;
    let (code, error) = match &sent {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16() as i64), None),
        Ok(r) => (
            Some(r.status().as_u16() as i64),
            Some(format!("the receiver answered {}", r.status())),
        ),
        Err(e) => (None, Some(format!("could not reach the receiver: {e}"))),
    };
    let answer = Attempt {
        attempt: job.attempts,
        status_code: code,
        error: error.as_deref(),
        duration_ms: ms,
    };
    if let Err(e) = state
        .store
        .platform()
        .finish_delivery(logged, &answer)
        .await
    {
        tracing::warn!(error = %e, "could not log a webhook delivery");
    }
    match error {
        None => Ok(serde_json::json!({"status": code})),
        Some(e) => Err(JobFailure::Retry(e)),
    }
}

/// Refuses receivers that resolve to loopback, private, link-local or other non-public
/// addresses, so a webhook cannot be used to probe the network M-Station runs in. This check
/// gives the delivery log a clear reason (and covers addresses written as such); the connection
/// itself resolves through `PublicOnly`.
async fn public_target(url: &str) -> Result<(), JobFailure> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| JobFailure::Final("the webhook URL does not parse".to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| JobFailure::Final("the webhook URL has no host".to_string()))?
        .trim_matches(|c| c == '[' || c == ']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    public_addresses(&host, port).await.map(|_| ())
}

fn is_public(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            // IPv4 carried in IPv6 is judged as that IPv4 address: mapped (::ffff:a.b.c.d),
            // compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002:a.b.c.d::/48).
            let embedded = |hi: u16, lo: u16| {
                std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(std::net::IpAddr::V4(v4));
            }
            if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                return is_public(std::net::IpAddr::V4(embedded(s[6], s[7])));
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(std::net::IpAddr::V4(embedded(s[6], s[7])));
            }
            if s[0] == 0x2002 {
                return is_public(std::net::IpAddr::V4(embedded(s[1], s[2])));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    /// The connection's own resolver refuses a name that resolves to a private address, even
    /// when nothing checked it first (the second answer of a rebinding name).
    #[tokio::test]
    async fn deliveries_resolve_names_to_public_addresses_only() {
        use reqwest::dns::Resolve;
        for private in ["localhost", "127.0.0.1", "10.0.0.7"] {
            let name = private.parse().unwrap();
            let answer = super::PublicOnly.resolve(name).await;
            assert!(answer.is_err(), "{private} resolved");
        }
        // And a delivery to such a name never connects: the receiver below sees nothing.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = super::http_client(true)
            .post(format!("http://localhost:{port}/hook"))
            .body("{}")
            .send()
            .await;
        let err = sent.expect_err("a private receiver was reached");
        assert!(
            err.is_connect() || format!("{err:?}").contains("public"),
            "{err:?}"
        );
        let accepted =
            tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "the receiver was connected to");
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
            "fec0::1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }
}
