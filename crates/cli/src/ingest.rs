//! `mstation ingest PATH --project P`: a camera card (or any folder) into a project. Each file is
//! read once: the same pieces are hashed for the platform (BLAKE3), hashed for the card's ASC MHL
//! history (xxh64, and any format asked for) and sent as a tus upload of the ingest. Then a new
//! generation of the card's history is written beside its files, and the ingest is ended with
//! it: every file is filed at once, or, when a file no longer matches its history, none is.
//!
//! What has arrived is remembered in the cache folder as each file completes, so running the
//! command again after an interruption sends only what had not arrived, from where it stopped.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mhl::{Card, ToRead};

/// How much of a file is read, hashed and sent at a time.
const PIECE: usize = 4 << 20;
/// How many times a file's sending is taken up again (after asking where it stands) before the
/// ingest stops.
const RETRIES: u32 = 8;

pub struct Options {
    pub path: PathBuf,
    pub project: String,
    pub server: String,
    pub token: String,
    /// Hash formats besides xxh64 for the history.
    pub formats: Vec<String>,
}

/// What arrived of one file, as remembered between runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Arrived {
    size: u64,
    modified: String,
    upload_id: Uuid,
    /// Once every byte was read and sent: its hashes as read.
    blake3: Option<String>,
    hashes: Option<BTreeMap<String, String>>,
}

/// An ingest in progress, remembered in the cache folder.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    ingest_id: Option<Uuid>,
    files: BTreeMap<String, Arrived>,
}

/// The cache folder: `MSTATION_CACHE`, else `XDG_CACHE_HOME/mstation`, else `~/.cache/mstation`.
fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MSTATION_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("mstation");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".cache").join("mstation")
}

struct Memory {
    path: PathBuf,
    state: Remembered,
}

impl Memory {
    fn open(server: &str, project: Uuid, root: &Path) -> anyhow::Result<Memory> {
        let key = blake3::hash(format!("{server}\n{project}\n{}", root.display()).as_bytes());
        let dir = cache_dir().join("ingests");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the cache folder {}", dir.display()))?;
        let path = dir.join(format!("{}.json", &key.to_hex()[..32]));
        let state = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => Remembered::default(),
        };
        Ok(Memory { path, state })
    }

    fn save(&self) -> anyhow::Result<()> {
        let tmp = self.path.with_extension("tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(&self.state)?)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The platform's side, over HTTP with the caller's token.
#[derive(Clone)]
struct Platform {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// A refusal or failure of the platform, with its problem's words.
async fn problem(r: reqwest::Response, what: &str) -> anyhow::Error {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let text = [body["title"].as_str(), body["detail"].as_str()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
    anyhow::anyhow!("{what}: the platform answered {status}: {text}")
}

impl Platform {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !r.status().is_success() {
            return Err(problem(r, &format!("GET {path}")).await);
        }
        Ok(Some(r.json().await?))
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        if !r.status().is_success() {
            return Err(problem(r, &format!("POST {path}")).await);
        }
        Ok(r.json().await?)
    }

    /// The project named by its id or its code.
    async fn project(&self, name: &str) -> anyhow::Result<Uuid> {
        if let Ok(id) = Uuid::parse_str(name) {
            return Ok(id);
        }
        let mut cursor = String::new();
        loop {
            let page = self
                .get(&format!("/api/v1/projects?limit=200&cursor={cursor}"))
                .await?
                .unwrap_or(Value::Null);
            for p in page["items"].as_array().into_iter().flatten() {
                if p["code"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case(name))
                {
                    return Ok(Uuid::parse_str(p["id"].as_str().unwrap_or_default())?);
                }
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => bail!("no project with the code or id {name} in your organisation"),
            }
        }
    }

    /// Starts an upload of the ingest for the file at `path` on the card.
    async fn create_upload(&self, ingest: Uuid, path: &str, size: u64) -> anyhow::Result<Uuid> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let name = path.rsplit('/').next().unwrap_or(path);
        let meta = format!(
            "filename {},path {},ingest {}",
            b64(name),
            b64(path),
            b64(&ingest.to_string())
        );
        let r = self
            .http
            .post(self.url("/files"))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", size)
            .header("upload-metadata", meta)
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        if r.status() != reqwest::StatusCode::CREATED {
            return Err(problem(r, &format!("starting the upload of {path}")).await);
        }
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let id = location.rsplit('/').next().unwrap_or_default();
        Uuid::parse_str(id).with_context(|| format!("the platform gave the upload {location:?}"))
    }

    /// Where an upload stands: its bytes kept so far; none when it is gone (expired, ended).
    async fn offset(&self, upload: Uuid) -> anyhow::Result<Option<u64>> {
        let r = self
            .http
            .head(self.url(&format!("/files/{upload}")))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        if matches!(r.status().as_u16(), 404 | 410) {
            return Ok(None);
        }
        if !r.status().is_success() {
            bail!(
                "asking where an upload stands: the platform answered {}",
                r.status()
            );
        }
        Ok(r.headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }

    /// Sends `length` bytes from `offset`, as they come down `pieces`; answers the new offset.
    async fn send(
        &self,
        upload: Uuid,
        offset: u64,
        length: u64,
        pieces: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    ) -> anyhow::Result<u64> {
        let stream = futures_util::stream::unfold(pieces, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        let r = self
            .http
            .patch(self.url(&format!("/files/{upload}")))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .header("content-length", length)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .with_context(|| format!("sending to {}", self.base))?;
        if r.status() != reqwest::StatusCode::NO_CONTENT {
            return Err(problem(r, "sending a file").await);
        }
        r.headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .context("the platform gave no Upload-Offset")
    }
}

/// A file read from the card, as the ingest's end names it.
struct ReadOne {
    upload_id: Uuid,
    path: String,
    blake3: String,
}

/// Runs the ingest; answers the process's exit code (1 when files failed on the card).
pub async fn run(o: Options) -> anyhow::Result<i32> {
    mstation_server::init_tls();
    let started = Instant::now();
    let card = Card::open(&o.path)?;
    let base = o.server.trim_end_matches('/').to_string();
    let platform = Platform {
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A connection that stalls is dropped, and the file taken up where it stands.
            .read_timeout(Duration::from_secs(120))
            .build()?,
        base,
        token: o.token.clone(),
    };
    let project = platform.project(&o.project).await?;
    let mut memory = Memory::open(&platform.base, project, &card.root)?;
    let files: Vec<(String, u64, String)> = card.files();
    let total: u64 = files.iter().map(|f| f.1).sum();
    // Paths are kept on the platform exactly as on the card: one it would have to change is
    // named before anything is sent.
    let odd: Vec<&str> = files
        .iter()
        .map(|f| f.0.as_str())
        .filter(|p| !mstation_core::media::names::is_card_path(p))
        .collect();
    if !odd.is_empty() {
        bail!(
            "these names cannot be kept as they are (spaces at either end of a name, control characters or a backslash in it): {}; rename them and run the ingest again",
            odd.join(", ")
        );
    }

    // The ingest left open by an interrupted run, or a new one.
    let mut arrived: HashMap<Uuid, Value> = HashMap::new();
    let mut ingest = None;
    if let Some(id) = memory.state.ingest_id
        && let Some(v) = platform.get(&format!("/api/v1/ingests/{id}")).await?
        && v["state"] == "open"
    {
        for u in v["uploads"].as_array().into_iter().flatten() {
            if let Some(uid) = u["upload_id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                arrived.insert(uid, u.clone());
            }
        }
        ingest = Some(id);
    }
    let ingest = match ingest {
        Some(id) => id,
        None => {
            let v = platform
                .post(
                    &format!("/api/v1/projects/{project}/ingests"),
                    &json!({"source": card.name(), "files": files.len(), "bytes": total}),
                )
                .await?;
            memory.state = Remembered {
                ingest_id: Some(Uuid::parse_str(v["id"].as_str().unwrap_or_default())?),
                files: BTreeMap::new(),
            };
            memory.save()?;
            memory.state.ingest_id.unwrap_or_default()
        }
    };

    let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let overall = bars.add(ProgressBar::new(total));
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} [{bar:32}] {bytes}/{total_bytes}  {binary_bytes_per_sec}  ETA {eta}  {msg}",
        )?
        .progress_chars("=> "),
    );
    overall.set_prefix(card.name());
    let one_style = ProgressStyle::with_template(
        "{prefix:>12} [{bar:32}] {bytes}/{total_bytes}  {binary_bytes_per_sec}  {msg}",
    )?
    .progress_chars("=> ");

    let memory = Arc::new(Mutex::new(memory));
    let read: Arc<Mutex<Vec<ReadOne>>> = Arc::default();
    let skipped = Arc::new(Mutex::new(0usize));
    let handle = tokio::runtime::Handle::current();
    let asked = o.formats.clone();
    let count = files.len();
    let (written, card) = {
        let (memory, read, skipped, platform) = (
            memory.clone(),
            read.clone(),
            skipped.clone(),
            platform.clone(),
        );
        let (bars, overall) = (bars.clone(), overall.clone());
        tokio::task::spawn_blocking(move || {
            let mut done = 0usize;
            let w = card.write_generation(&asked, &mut |f: ToRead<'_>| {
                done += 1;
                overall.set_message(format!("file {done}/{count}"));
                let known = memory
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .state
                    .files
                    .get(f.path)
                    .cloned();
                // Read and sent whole in an earlier run, unchanged since: not read again.
                if let Some(k) = &known
                    && k.size == f.size
                    && k.modified == f.modified
                    && let (Some(b3), Some(h)) = (&k.blake3, &k.hashes)
                    && f.formats.iter().all(|fmt| h.contains_key(*fmt))
                    && arrived
                        .get(&k.upload_id)
                        .is_some_and(|u| u["blake3"].as_str() == Some(b3.as_str()))
                {
                    overall.inc(f.size);
                    *skipped.lock().map_err(|_| anyhow::anyhow!("poisoned"))? += 1;
                    read.lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .push(ReadOne {
                            upload_id: k.upload_id,
                            path: f.path.to_string(),
                            blake3: b3.clone(),
                        });
                    return Ok(h.clone());
                }
                let bar = bars.add(ProgressBar::new(f.size));
                bar.set_style(one_style.clone());
                bar.set_prefix(format!("{done}/{count}"));
                bar.set_message(f.path.to_string());
                // An upload begun in an earlier run goes on where it stands.
                let resumed = match &known {
                    Some(k) if k.size == f.size && k.modified == f.modified => handle
                        .block_on(platform.offset(k.upload_id))?
                        .map(|off| (k.upload_id, off)),
                    _ => None,
                };
                let (upload_id, offset) = match resumed {
                    Some(r) => r,
                    None => {
                        let id = handle.block_on(platform.create_upload(ingest, f.path, f.size))?;
                        let mut m = memory.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                        m.state.files.insert(
                            f.path.to_string(),
                            Arrived {
                                size: f.size,
                                modified: f.modified.to_string(),
                                upload_id: id,
                                blake3: None,
                                hashes: None,
                            },
                        );
                        m.save()?;
                        (id, 0)
                    }
                };
                let (b3, hashes) =
                    read_and_send(&handle, &platform, &f, upload_id, offset, &bar, &overall)?;
                bar.finish_and_clear();
                bars.remove(&bar);
                let mut m = memory.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                if let Some(a) = m.state.files.get_mut(f.path) {
                    a.blake3 = Some(b3.clone());
                    a.hashes = Some(hashes.clone());
                }
                m.save()?;
                read.lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .push(ReadOne {
                        upload_id,
                        path: f.path.to_string(),
                        blake3: b3,
                    });
                Ok(hashes)
            }, &mut || {
                // Before the card's history says anything: every file arrived as it was read.
                // One that did not is forgotten, to be sent again by the next run.
                let v = handle
                    .block_on(platform.get(&format!("/api/v1/ingests/{ingest}")))?
                    .unwrap_or(Value::Null);
                let kept: HashMap<&str, &str> = v["uploads"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|u| Some((u["upload_id"].as_str()?, u["blake3"].as_str()?)))
                    .collect();
                let read = read.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                let wrong: Vec<&ReadOne> = read
                    .iter()
                    .filter(|r| kept.get(r.upload_id.to_string().as_str()) != Some(&r.blake3.as_str()))
                    .collect();
                if wrong.is_empty() {
                    return Ok(());
                }
                let mut m = memory.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                for r in &wrong {
                    m.state.files.remove(&r.path);
                }
                m.save()?;
                let names: Vec<&str> = wrong.iter().map(|r| r.path.as_str()).collect();
                bail!(
                    "these files did not arrive as they were read: {}; run the ingest again to send them again",
                    names.join(", ")
                )
            });
            (w, card)
        })
        .await?
    };
    overall.finish_and_clear();
    let written = written?;
    for (what, path) in &written.problems {
        eprintln!("{what}: {path}");
    }
    let read = std::mem::take(&mut *read.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    let failed: Vec<String> = written.problems.iter().map(|(_, p)| p.clone()).collect();
    let body = json!({
        "generation": written.xml,
        "nested": written.nested.iter().map(|(path, xml)| json!({"path": path, "generation": xml})).collect::<Vec<_>>(),
        "files": read.iter().map(|r| json!({"upload_id": r.upload_id, "path": r.path, "blake3": r.blake3})).collect::<Vec<_>>(),
        "failed": failed,
    });
    let ended = platform
        .post(&format!("/api/v1/ingests/{ingest}/finish"), &body)
        .await?;
    let memory = memory.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    memory.forget();
    let secs = started.elapsed().as_secs_f64();
    let skipped = *skipped.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    if !failed.is_empty() {
        println!(
            "{}: ingest {ingest} failed: {} files failed their check, so nothing was filed; generation {} ({}) records it",
            card.root.display(),
            failed.len(),
            written.n,
            written.name
        );
        return Ok(1);
    }
    println!(
        "{}: ingest {ingest} filed {} files ({} bytes, {} already arrived) into the project in {secs:.1} s; generation {} ({})",
        card.root.display(),
        ended["files"],
        ended["bytes"],
        skipped,
        written.n,
        written.name
    );
    Ok(0)
}

/// Reads the file once from its start, hashing every piece (BLAKE3 and the history's formats)
/// and sending those from `offset` on; takes the sending up again where the platform stands if
/// it breaks off. Answers the BLAKE3 hash and the history's hashes.
fn read_and_send(
    handle: &tokio::runtime::Handle,
    platform: &Platform,
    f: &ToRead<'_>,
    upload_id: Uuid,
    offset: u64,
    bar: &ProgressBar,
    overall: &ProgressBar,
) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let mut file =
        std::fs::File::open(&f.full).with_context(|| format!("opening {}", f.full.display()))?;
    let mut mhl = mstation_core::media::mhl::Hasher::new(f.formats.iter().copied());
    let mut b3 = blake3::Hasher::new();
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let sending = (offset < f.size).then(|| {
        let p = platform.clone();
        let length = f.size - offset;
        handle.spawn(async move { p.send(upload_id, offset, length, rx).await })
    });
    let mut tx = Some(tx);
    let mut pos = 0u64;
    loop {
        let mut piece = vec![0u8; PIECE];
        let n = read_full(&mut file, &mut piece)
            .with_context(|| format!("reading {}", f.full.display()))?;
        if n == 0 {
            break;
        }
        piece.truncate(n);
        mhl.update(&piece);
        b3.update(&piece);
        let end = pos + n as u64;
        if end > offset
            && let Some(t) = &tx
        {
            let skip = offset.saturating_sub(pos) as usize;
            let b = bytes::Bytes::from(piece).slice(skip..);
            // The request broke off: the rest is sent again below, from where it stands.
            if t.blocking_send(b).is_err() {
                tx = None;
            }
        }
        pos = end;
        bar.set_position(pos);
        overall.inc(n as u64);
    }
    drop(tx);
    if pos != f.size {
        bail!(
            "{} changed while it was read ({} bytes, not {}); run the ingest again",
            f.path,
            pos,
            f.size
        );
    }
    let mut result = match sending {
        Some(s) => handle.block_on(s)?,
        None => Ok(offset),
    };
    // Taken up again where the platform stands, reading only what it lacks.
    let mut attempt = 0;
    loop {
        match result {
            Ok(n) if n == f.size => break,
            Err(e) if attempt == RETRIES => {
                return Err(e.context(format!("sending {}", f.path)));
            }
            Ok(n) if attempt == RETRIES => {
                bail!(
                    "sending {}: the platform kept {n} of its {} bytes",
                    f.path,
                    f.size
                );
            }
            _ => {}
        }
        attempt += 1;
        // 1, 2, 4, 8, then 15 s: over a minute in all, longer than a server's hold on an
        // upload whose request broke off.
        std::thread::sleep(Duration::from_secs((1u64 << (attempt - 1).min(4)).min(15)));
        result = (|| {
            let Some(at) = handle.block_on(platform.offset(upload_id))? else {
                bail!("the upload of {} is gone; run the ingest again", f.path);
            };
            if at >= f.size {
                return Ok(at);
            }
            let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
            let p = platform.clone();
            let length = f.size - at;
            let s = handle.spawn(async move { p.send(upload_id, at, length, rx).await });
            file.seek(SeekFrom::Start(at))?;
            let mut left = f.size - at;
            while left > 0 {
                let mut piece = vec![0u8; PIECE.min(left as usize)];
                let n = read_full(&mut file, &mut piece)?;
                if n == 0 {
                    break;
                }
                piece.truncate(n);
                left -= n as u64;
                if tx.blocking_send(bytes::Bytes::from(piece)).is_err() {
                    break;
                }
            }
            drop(tx);
            handle.block_on(s)?
        })();
    }
    Ok((b3.finalize().to_hex().to_string(), mhl.finish()))
}

/// Reads until `buf` is full or the file ends; answers how many bytes were read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
