//! The test harness: a real server on 127.0.0.1:0 over a fresh store, on SQLite and (always in
//! CI) on a fresh PostgreSQL database, talked to over HTTP.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use mstation_core::{OrgKind, Role, TokenScope};
use mstation_server::{AppState, State};
use mstation_store::identity::{NewOrg, NewUser, Org, User};
use mstation_store::{Actor, Store};
use reqwest::{Method, Response};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends every conformance story runs on. With `MSTATION_REQUIRE_PG=1` (the README's test
/// command sets it) a missing PostgreSQL is a failure, never a skip.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    match std::env::var("MSTATION_TEST_PG") {
        Ok(_) => v.push(Backend::Postgres),
        Err(_) if std::env::var("MSTATION_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!(
                "MSTATION_REQUIRE_PG=1 but MSTATION_TEST_PG is not set: run the suite with scripts/test"
            )
        }
        Err(_) => eprintln!("note: the PostgreSQL pass is not run here; scripts/test runs it"),
    }
    v
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("mstation-t-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty store of the given backend, and its URL (to reopen it).
pub async fn fresh_store(b: Backend, dir: &TempDir) -> (Store, String) {
    let url = match b {
        Backend::Sqlite => dir.0.join("mstation.db").display().to_string(),
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = std::env::var("MSTATION_TEST_PG").unwrap();
            let name = format!("mst_{}", uuid::Uuid::now_v7().simple());
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            format!("{base}/{name}")
        }
    };
    (Store::open(&url).await.expect("open the store"), url)
}

pub struct Srv {
    pub base: String,
    pub http: reqwest::Client,
    pub state: State,
    pub backend: Backend,
    pub url: String,
    shutdown: tokio::sync::watch::Sender<bool>,
    _dir: TempDir,
}

impl Drop for Srv {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

pub async fn start(b: Backend) -> Srv {
    start_with_workers(b, 2).await
}

pub async fn start_with_workers(b: Backend, workers: usize) -> Srv {
    // The tests' webhook receivers listen on loopback.
    start_with(b, workers, true).await
}

pub async fn start_with(b: Backend, workers: usize, allow_private_webhooks: bool) -> Srv {
    start_configured(b, workers, allow_private_webhooks, Vec::new()).await
}

/// A server that believes `X-Forwarded-For` from the listed proxies.
pub async fn start_behind(b: Backend, proxies: &[&str]) -> Srv {
    let proxies = proxies.iter().map(|p| p.parse().unwrap()).collect();
    start_configured(b, 0, false, proxies).await
}

/// Another server on `first`'s database (a second `serve` behind the same load balancer).
pub async fn start_beside(first: &Srv, workers: usize) -> Srv {
    let store = mstation_store::Store::open(&first.url).await.unwrap();
    serve_store(
        first.backend,
        store,
        first.url.clone(),
        TempDir::new(),
        workers,
        true,
        Vec::new(),
        Some(first.state.blobs.clone()),
    )
    .await
}

async fn start_configured(
    b: Backend,
    workers: usize,
    allow_private_webhooks: bool,
    trusted_proxies: Vec<mstation_core::net::Cidr>,
) -> Srv {
    let dir = TempDir::new();
    let (store, url) = fresh_store(b, &dir).await;
    serve_store(
        b,
        store,
        url,
        dir,
        workers,
        allow_private_webhooks,
        trusted_proxies,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)] // One helper behind every way a test starts a server.
async fn serve_store(
    b: Backend,
    store: mstation_store::Store,
    url: String,
    dir: TempDir,
    workers: usize,
    allow_private_webhooks: bool,
    trusted_proxies: Vec<mstation_core::net::Cidr>,
    // The media folder of another server beside this one; else one of its own.
    blobs: Option<mstation_store::media::blobs::BlobStore>,
) -> Srv {
    let blobs = blobs.unwrap_or_else(|| {
        mstation_store::media::blobs::BlobStore::local(&dir.0.join("media")).unwrap()
    });
    let state =
        AppState::with_options(store, blobs, false, allow_private_webhooks, trusted_proxies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, _) = tokio::sync::watch::channel(false);
    mstation_server::workers::start(state.clone(), workers, shutdown.clone());
    let app = mstation_server::app(state.clone());
    let mut stop = shutdown.subscribe();
    tokio::spawn(async move {
        axum_serve(listener, app, async move {
            let _ = stop.changed().await;
        })
        .await
    });
    Srv {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder().build().unwrap(),
        state,
        backend: b,
        url,
        shutdown,
        _dir: dir,
    }
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let _ = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await;
}

/// An organisation with an owner and an admin-scoped token for them.
pub struct Tenant {
    pub org: Org,
    pub owner: User,
    pub password: String,
    pub token: String,
}

impl Srv {
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub async fn user(&self, email: &str, name: &str) -> User {
        self.store()
            .platform()
            .create_user(
                &Actor::system(),
                NewUser {
                    email: email.into(),
                    display_name: name.into(),
                    password: "correct horse battery".into(),
                    locale: None,
                    is_operator: false,
                },
            )
            .await
            .unwrap()
    }

    /// A member of `t`'s organisation with a display name and a role (the password `user`'s).
    pub async fn person(&self, t: &Tenant, email: &str, name: &str, role: Role) -> User {
        let u = self.user(email, name).await;
        self.store()
            .platform()
            .add_member(&Actor::system(), t.org.id, u.id, role)
            .await
            .unwrap();
        u
    }

    pub async fn tenant(&self, name: &str, slug: &str) -> Tenant {
        self.tenant_of(name, slug, OrgKind::ProductionCompany).await
    }

    /// The platform's operator organisation, which keeps the market's books.
    pub async fn operator(&self) -> Tenant {
        self.tenant_of(
            "M-Station Operations",
            "operations",
            OrgKind::PlatformOperator,
        )
        .await
    }

    pub async fn tenant_of(&self, name: &str, slug: &str, kind: OrgKind) -> Tenant {
        let owner = self
            .user(&format!("owner@{slug}.example"), &format!("{name} Owner"))
            .await;
        let org = self
            .store()
            .platform()
            .create_org(
                &Actor::system(),
                NewOrg {
                    name: name.into(),
                    slug: Some(slug.into()),
                    kind,
                    timezone: None,
                },
                owner.id,
            )
            .await
            .unwrap();
        let (_, token) = self
            .store()
            .platform()
            .create_token_for(
                &Actor::system(),
                org.id,
                owner.id,
                "tests",
                &[TokenScope::Read, TokenScope::Write, TokenScope::Admin],
                None,
            )
            .await
            .unwrap();
        Tenant {
            org,
            owner,
            password: "correct horse battery".into(),
            token,
        }
    }

    /// A member with `role` in `t`'s organisation and a token with `scopes`.
    pub async fn member(
        &self,
        t: &Tenant,
        email: &str,
        role: Role,
        scopes: &[TokenScope],
    ) -> (User, String) {
        let u = self.user(email, email).await;
        self.store()
            .platform()
            .add_member(&Actor::system(), t.org.id, u.id, role)
            .await
            .unwrap();
        let (_, token) = self
            .store()
            .platform()
            .create_token_for(&Actor::system(), t.org.id, u.id, "member", scopes, None)
            .await
            .unwrap();
        (u, token)
    }

    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut r = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        json(self.call(token, Method::GET, path, None).await).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        json(self.call(token, Method::POST, path, Some(body)).await).await
    }

    /// Waits (up to 30 s) for the job workers to make media file `id`'s proxy and poster; panics
    /// if they never do.
    pub async fn proxied(&self, token: &str, id: &str) {
        for _ in 0..300 {
            let (_, f) = self.get(token, &format!("/api/v1/media/{id}")).await;
            if !f["proxy_hash"].is_null() && !f["poster_hash"].is_null() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no proxy and poster were made of media file {id}");
    }

    /// Uploads `bytes` as `name` through tus in one request: the new file's id.
    pub async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> String {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let r = self
            .http
            .post(format!("{}/files", self.base))
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .header(
                "Upload-Metadata",
                format!("filename {},filetype {}", b64(name), b64("video/quicktime")),
            )
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
        let (_, files) = self.get(token, "/api/v1/media?limit=500").await;
        files["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["id"].as_str())
            .unwrap_or_else(|| panic!("{name} is not among the files: {files}"))
            .to_string()
    }

    /// The job `id` once it has ended (succeeded or failed), as `token`'s organisation reads it;
    /// the test fails after 30 s.
    pub async fn job_ended(&self, token: &str, id: &str) -> Value {
        for _ in 0..300 {
            let (_, j) = self.get(token, &format!("/api/v1/jobs/{id}")).await;
            if matches!(j["status"].as_str(), Some("succeeded" | "failed")) {
                return j;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the job {id} did not end within 30 s");
    }
}

pub async fn json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Runs `story` once per backend, each on a fresh server.
pub async fn on_every_backend<F, Fut>(story: F)
where
    F: Fn(Arc<Srv>) -> Fut,
    Fut: Future<Output = ()>,
{
    for b in backends() {
        eprintln!("-- backend: {b:?}");
        let srv = Arc::new(start(b).await);
        story(Arc::clone(&srv)).await;
        // The ledger's invariants hold after every story, whatever it did.
        let broken = srv.store().platform().ledger_check().await.unwrap();
        assert!(
            broken.is_empty(),
            "the ledger's invariants are broken: {broken:?}"
        );
    }
}

/// The `id` of a record the API answered with.
pub fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// `YYYY-MM-DD` of `ms` (UTC).
pub fn day_of(ms: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap()
        .date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A short H.264 clip made with ffmpeg (the test command installs it): `seconds` of `size`
/// (`WxH`) test pictures at `rate`, with `extra` arguments (sound, a timecode) before the output.
#[allow(dead_code)] // Not every test binary makes clips.
pub fn ffmpeg_clip(size: &str, rate: &str, seconds: &str, extra: &[&str]) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("mstation-clip-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("clip.mov");
    let status = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate={rate}"))
        .args(extra)
        .args(["-t", seconds, "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (scripts/test installs it)");
    assert!(status.success(), "ffmpeg made the clip");
    let clip = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    clip
}

/// Reads SSE messages from a response until `n` events arrived or the time is up.
pub async fn read_events(
    resp: reqwest::Response,
    n: usize,
    within: std::time::Duration,
) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    use futures_util::StreamExt;
    let mut stream = resp.bytes_stream();
    let deadline = tokio::time::Instant::now() + within;
    while out.len() < n {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let msg: String = buf.drain(..end + 2).collect();
            let (mut id, mut kind, mut data) = (String::new(), String::new(), String::new());
            for line in msg.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().into();
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim().into();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !kind.is_empty() {
                out.push((id, kind, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
    }
    out
}
