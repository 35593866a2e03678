//! `mstation agent` against a real server with no workers of its own: the agent probes a new
//! file, makes its proxy and finds its cuts; killed with `kill -9` half-way through a proxy, its job goes back
//! to the queue when the lease lapses and another agent finishes it, recorded once. A server
//! killed with `kill -9` mid-proxy leaves no ffmpeg running, and runs the job again once.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::*;

struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn agent(base: &str, token: &str, name: &str, work: &Path) -> Running {
    Running(
        Command::new(BIN)
            .args(["agent", "--server", base, "--name", name, "--lease", "5"])
            .arg("--work")
            .arg(work)
            .env("MSTATION_TOKEN", token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_share_the_queue_and_a_killed_agents_job_is_finished_by_another_once() {
    mstation_server::init_tls();
    let dir =
        std::env::temp_dir().join(format!("mstation-agent-{}", uuid::Uuid::now_v7().simple()));
    let _cleanup = Cleanup(dir.clone());
    let data = dir.join("data");
    let ops = owner_of(
        &data,
        "ops",
        "farm@ops.example",
        "platform_operator",
        "read,write,admin",
    );
    let alpha = owner_of(
        &data,
        "alpha",
        "post@alpha.example",
        "production_company",
        "read,write",
    );

    let port = free_port();
    let _server = Running(
        Command::new(BIN)
            .arg("serve")
            .args(database_args(&data, None))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--workers", "0"])
            .env("MSTATION_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, alpha) = (&http, &alpha);
        async move {
            http.get(format!("{base}{path}", base = base_of(port)))
                .bearer_auth(alpha)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };

    // A clip long enough that its proxy takes a few seconds.
    let clip = dir.join("clip.mov");
    ffmpeg_clip(
        &clip,
        "1920x1080",
        "8",
        &["-preset", "ultrafast", "-timecode", "01:00:00:00"],
    );
    let bytes = std::fs::read(&clip).unwrap();
    let r = http
        .post(format!("{base}/files"))
        .bearer_auth(&alpha)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Agent A takes the probe, then the proxy, and is killed while it makes the proxy.
    let mut a = agent(&base, &ops, "a", &dir.join("work-a"));
    let started = Instant::now();
    let proxy_job = loop {
        let jobs = get("/api/v1/jobs?status=running".into()).await;
        if let Some(j) = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "media.proxy")
        {
            assert_eq!(j["lease_owner"], "agent:a.0");
            break j["id"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "agent A never took the proxy job: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Its ffmpeg, once started, goes with it.
    let mut tools = ffmpeg_children(a.id());
    while tools.is_empty() && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tools = ffmpeg_children(a.id());
    }
    assert!(!tools.is_empty(), "agent A never started ffmpeg");
    a.kill().unwrap();
    a.wait().unwrap();
    let killed = Instant::now();
    while tools.iter().any(|&t| runs(t)) {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "ffmpeg runs on after its agent was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let files = get("/api/v1/media".into()).await;
    let file = files["items"][0].clone();
    assert_eq!(
        file["probe"]["timecode"], "01:00:00:00",
        "the probe agent A made is recorded: {file}"
    );
    assert!(file["proxy_hash"].is_null());

    // Agent B finishes it once A's lease lapses.
    let _b = agent(&base, &ops, "b", &dir.join("work-b"));
    let started = Instant::now();
    let job = loop {
        let job = get(format!("/api/v1/jobs/{proxy_job}")).await;
        if job["status"] == "succeeded" {
            break job;
        }
        assert_ne!(job["status"], "failed", "{job}");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the proxy job was not finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["attempts"], 2, "run by A, then by B: {job}");
    let file = get(format!("/api/v1/media/{}", file["id"].as_str().unwrap())).await;
    assert_eq!(job["result"]["proxy_hash"], file["proxy_hash"]);
    assert!(
        !file["sprite_hash"].is_null(),
        "the scrub sprite is made on the agent too: {file}"
    );
    assert!(
        file["waveform_hash"].is_null(),
        "the clip has no sound: {file}"
    );
    // The proxy plays: H.264, the source's timecode kept.
    let proxy = http
        .get(format!(
            "{base}/api/v1/media/{}/proxy",
            file["id"].as_str().unwrap()
        ))
        .bearer_auth(&alpha)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let proxy_path = dir.join("proxy.mp4");
    std::fs::write(&proxy_path, &proxy).unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(&proxy_path)
        .output()
        .unwrap();
    let probe: Value = serde_json::from_slice(&probe.stdout).unwrap();
    assert_eq!(probe["streams"][0]["codec_name"], "h264", "{probe}");
    assert_eq!(
        probe["streams"][0]["tags"]["timecode"], "01:00:00:00",
        "{probe}"
    );
    // Cut detection on the agent too: one shot of eight seconds, no change found.
    let id = file["id"].as_str().unwrap();
    let asked: Value = http
        .post(format!("{base}/api/v1/media/{id}/cuts"))
        .bearer_auth(&alpha)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cuts_job = asked["job_id"].as_str().expect("asked").to_string();
    let started = Instant::now();
    loop {
        let job = get(format!("/api/v1/jobs/{cuts_job}")).await;
        if job["status"] == "succeeded" {
            break;
        }
        assert_ne!(job["status"], "failed", "{job}");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the cuts job was not run: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let found = get(format!("/api/v1/media/{id}/cuts")).await;
    assert_eq!(found["frames"], 192, "{found}");
    assert_eq!(found["transitions"], serde_json::json!([]), "{found}");
    assert_eq!(found["start_timecode"], "01:00:00:00", "{found}");
    // A token of an organisation's member runs no agent.
    let out = Command::new(BIN)
        .args(["agent", "--server", &base, "--name", "intruder"])
        .env("MSTATION_TOKEN", &alpha)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused this agent"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn base_of(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The ffmpeg processes whose parent is `parent`.
fn ffmpeg_children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..].split_whitespace().nth(1);
        if comm == "ffmpeg" && ppid == Some(&parent.to_string()) {
            out.push(pid);
        }
    }
    out
}

/// Whether the process `pid` still runs (a zombie does not).
fn runs(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            != Some("Z")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_proxy_leaves_no_ffmpeg_running_and_its_job_is_done_once_after_restart()
{
    mstation_server::init_tls();
    let dir = std::env::temp_dir().join(format!(
        "mstation-server-kill-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let _cleanup = Cleanup(dir.clone());
    let data = dir.join("data");
    let alpha = owner_of(
        &data,
        "alpha",
        "post@alpha.example",
        "production_company",
        "read,write",
    );
    let port = free_port();
    let base = base_of(port);
    let start = || {
        Running(
            Command::new(BIN)
                .arg("serve")
                .args(database_args(&data, None))
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .env("MSTATION_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let mut server = start();
    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, alpha, base) = (&http, &alpha, &base);
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(alpha)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let clip = dir.join("clip.mov");
    // Long enough that its proxy takes several seconds: ffmpeg left running would be seen.
    ffmpeg_clip(&clip, "1920x1080", "24", &["-preset", "ultrafast"]);
    let bytes = std::fs::read(&clip).unwrap();
    let r = http
        .post(format!("{base}/files"))
        .bearer_auth(&alpha)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // The server's own worker makes the proxy with ffmpeg; the server is killed meanwhile.
    let started = Instant::now();
    let (proxy_job, tools) = loop {
        let jobs = get("/api/v1/jobs?status=running".into()).await;
        let running = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "media.proxy")
            .cloned();
        let tools = ffmpeg_children(server.id());
        if let Some(j) = running
            && !tools.is_empty()
        {
            break (j["id"].as_str().unwrap().to_string(), tools);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the proxy never started: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.kill().unwrap();
    server.wait().unwrap();
    let killed = Instant::now();
    while tools.iter().any(|&t| runs(t)) {
        assert!(
            killed.elapsed() < Duration::from_millis(1500),
            "ffmpeg runs on after its server was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Started again on the same data, the job runs again once its lease lapses, and its proxy
    // is recorded once.
    let _server = start();
    wait_ready(&base).await;
    let started = Instant::now();
    let job = loop {
        let job = get(format!("/api/v1/jobs/{proxy_job}")).await;
        if job["status"] == "succeeded" {
            break job;
        }
        assert_ne!(job["status"], "failed", "{job}");
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "the proxy job was not finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["attempts"], 2, "killed once, then run again: {job}");
    let files = get("/api/v1/media".into()).await;
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files["items"][0]["proxy_hash"], job["result"]["proxy_hash"]);
    let jobs = get("/api/v1/jobs?limit=100".into()).await;
    let proxies = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "media.proxy")
        .count();
    assert_eq!(proxies, 1, "one proxy job, run twice: {jobs}");
}
