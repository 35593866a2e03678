//! Helpers of the binary's tests: the real `mstation` as a process, on SQLite or on a fresh
//! PostgreSQL database.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_mstation");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn database_args(dir: &Path, pg: Option<&str>) -> Vec<String> {
    let mut v = vec!["--data".to_string(), dir.display().to_string()];
    if let Some(url) = pg {
        v.push("--database".into());
        v.push(url.into());
    }
    v
}

pub fn admin(dir: &Path, pg: Option<&str>, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .arg("admin")
        .args(database_args(dir, pg))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A server process of a test: killed when the test ends, also when it fails half-way, so no
/// server outlives its test.
pub struct Running(pub Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve(dir: &Path, pg: Option<&str>, port: u16) -> Running {
    serve_to(dir, pg, port, Stdio::null())
}

/// Like `serve`, with the server's standard output going to `stdout`.
pub fn serve_to(dir: &Path, pg: Option<&str>, port: u16, stdout: Stdio) -> Running {
    let child = Command::new(BIN)
        .arg("serve")
        .args(database_args(dir, pg))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--allow-private-webhooks",
        ])
        .env("MSTATION_LOG", "warn")
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

pub async fn wait_ready(base: &str) {
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

pub async fn pg_database() -> Option<String> {
    let admin_url = match std::env::var("MSTATION_TEST_PG") {
        Ok(u) => u,
        Err(_) if std::env::var("MSTATION_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!("MSTATION_REQUIRE_PG=1 but MSTATION_TEST_PG is unset")
        }
        Err(_) => return None,
    };
    // A fresh database per run; the binary creates its tables when it opens it.
    let name = format!("mst_crash_{}", uuid::Uuid::now_v7().simple());
    let out = Command::new("psql")
        .args([&admin_url, "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0))
}

/// A user `email` owning the organisation `slug` (of `kind`), made through `mstation admin`
/// (`--operator` too for a platform operator); answers a token of theirs with `scopes`.
pub fn owner_of(dir: &Path, slug: &str, email: &str, kind: &str, scopes: &str) -> String {
    owner_on(dir, None, slug, email, kind, scopes)
}

/// Like `owner_of`, on the database `pg` (PostgreSQL) or the data folder's SQLite.
pub fn owner_on(
    dir: &Path,
    pg: Option<&str>,
    slug: &str,
    email: &str,
    kind: &str,
    scopes: &str,
) -> String {
    let mut user = vec![
        "create-user",
        "--email",
        email,
        "--name",
        slug,
        "--password",
        "correct horse battery",
    ];
    if kind == "platform_operator" {
        user.push("--operator");
    }
    admin(dir, pg, &user);
    admin(
        dir,
        pg,
        &[
            "create-org",
            "--name",
            slug,
            "--slug",
            slug,
            "--kind",
            kind,
            "--owner-email",
            email,
        ],
    );
    admin(
        dir,
        pg,
        &[
            "create-token",
            "--org",
            slug,
            "--email",
            email,
            "--scopes",
            scopes,
        ],
    )["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The bucket of the S3 pass (`MSTATION_TEST_S3`, with its endpoint and keys in `AWS_*`), or none
/// where it is not run; under the test command (`MSTATION_REQUIRE_S3=1`) its absence fails.
#[allow(dead_code)] // Only the S3 tests ask.
pub fn s3_bucket() -> Option<String> {
    match std::env::var("MSTATION_TEST_S3") {
        Ok(b) => Some(b),
        Err(_) if std::env::var("MSTATION_REQUIRE_S3").as_deref() == Ok("1") => {
            panic!("MSTATION_REQUIRE_S3=1 but MSTATION_TEST_S3 is unset")
        }
        Err(_) => {
            eprintln!("note: the S3 pass is not run here; scripts/test runs it");
            None
        }
    }
}

/// An H.264 clip made with ffmpeg (the test command installs it) at `path`: `seconds` of `size`
/// (`WxH`) test pictures at 24 fps, with `extra` arguments before the output.
#[allow(dead_code)] // Not every test binary makes clips.
pub fn ffmpeg_clip(path: &Path, size: &str, seconds: &str, extra: &[&str]) {
    let made = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=24"))
        .args(["-t", seconds, "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(extra)
        .arg(path)
        .status()
        .expect("ffmpeg is installed (scripts/test installs it)");
    assert!(made.success(), "ffmpeg made the clip");
}

/// splitmix64: small, fast and the same everywhere, so a seed replays its choices (the
/// simulations' random schedules).
#[allow(dead_code)] // Only the simulations draw.
pub struct Rng(pub u64);

#[allow(dead_code)]
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
