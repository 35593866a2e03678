//! `serve --storage s3://…` against a real S3 server (the test command starts s3s-fs on loopback
//! and names its bucket in `MSTATION_TEST_S3`, its endpoint and keys in `AWS_*`): an upload is
//! kept in the bucket, read back whole and in ranges, probed and given a proxy.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_kept_in_s3_is_uploaded_read_back_probed_and_proxied() {
    let Some(bucket) = s3_bucket() else {
        return;
    };
    mstation_server::init_tls();
    let dir = std::env::temp_dir().join(format!("mstation-s3-{}", uuid::Uuid::now_v7().simple()));
    let data = dir.join("data");
    let token = owner_of(
        &data,
        "alpha",
        "post@alpha.example",
        "production_company",
        "read,write",
    );
    let port = free_port();
    let storage = format!(
        "{}/run-{}",
        bucket.trim_end_matches('/'),
        uuid::Uuid::now_v7().simple()
    );
    let _server = Running(
        Command::new(BIN)
            .arg("serve")
            .args(database_args(&data, None))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--storage",
                &storage,
            ])
            .env("MSTATION_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;

    let clip_path = dir.join("clip.mov");
    std::fs::create_dir_all(&dir).unwrap();
    ffmpeg_clip(&clip_path, "320x180", "1", &[]);
    let clip = std::fs::read(&clip_path).unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/files"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", clip.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(clip.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let get = |path: String| {
        let (http, token) = (&http, &token);
        async move { http.get(path).bearer_auth(token).send().await.unwrap() }
    };
    let started = Instant::now();
    let file = loop {
        let files: Value = get(format!("{base}/api/v1/media"))
            .await
            .json()
            .await
            .unwrap();
        let f = files["items"][0].clone();
        if !f["poster_hash"].is_null() {
            break f;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no proxy was made: {f}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        file["probe"]["video"]["width"], 320,
        "probed from a copy of the S3 object: {file}"
    );
    let id = file["id"].as_str().unwrap();
    let back = get(format!("{base}/api/v1/media/{id}/content"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(
        back.as_ref() == clip.as_slice(),
        "the bytes come back whole from S3"
    );
    let r = http
        .get(format!("{base}/api/v1/media/{id}/content"))
        .bearer_auth(&token)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert!(r.bytes().await.unwrap().as_ref() == &clip[100..200]);
    let proxy = get(format!("{base}/api/v1/media/{id}/proxy")).await;
    assert_eq!(proxy.status(), 200);
    assert!(proxy.bytes().await.unwrap().len() > 1000);
    // Copies made for ffprobe and ffmpeg are gone; only the upload area is left.
    let left: Vec<String> = std::fs::read_dir(data.join("media").join("uploads"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("read-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reads_a_camera_file_straight_from_the_bucket() {
    let Some(bucket) = s3_bucket() else {
        return;
    };
    mstation_server::init_tls();
    let dir = std::env::temp_dir().join(format!(
        "mstation-s3-agent-{}",
        uuid::Uuid::now_v7().simple()
    ));
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
    let storage = format!(
        "{}/agents-{}",
        bucket.trim_end_matches('/'),
        uuid::Uuid::now_v7().simple()
    );
    let _server = Running(
        Command::new(BIN)
            .arg("serve")
            .args(database_args(&data, None))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--workers", "0"])
            .args(["--storage", &storage])
            .env("MSTATION_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    std::fs::create_dir_all(&dir).unwrap();
    let clip_path = dir.join("clip.mov");
    ffmpeg_clip(&clip_path, "320x180", "1", &[]);
    let clip = std::fs::read(&clip_path).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{base}/files"))
        .bearer_auth(&alpha)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", clip.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(clip.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // The job's holder asking for its source straight from the bucket is sent to a signed
    // address there, which reads without any token of the platform.
    let claimed: Value = http
        .post(format!("{base}/api/v1/agent/claim"))
        .bearer_auth(&ops)
        .json(&serde_json::json!({"worker": "probe-1", "kinds": ["media.probe"], "lease_ms": 5000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = claimed["job"]["id"]
        .as_str()
        .expect("a probe job")
        .to_string();
    let r = http
        .get(format!(
            "{base}/api/v1/agent/jobs/{job}/source?worker=probe-1&direct=true"
        ))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    let signed = r.headers()["location"].to_str().unwrap().to_string();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    assert!(
        signed.starts_with(endpoint.trim_end_matches('/')),
        "{signed}"
    );
    assert!(signed.contains("X-Amz-Signature="), "{signed}");
    let direct = reqwest::get(&signed).await.unwrap();
    assert_eq!(direct.status(), 200);
    assert!(direct.bytes().await.unwrap().as_ref() == clip.as_slice());
    // Through the server, as before, when not asked.
    let r = http
        .get(format!(
            "{base}/api/v1/agent/jobs/{job}/source?worker=probe-1"
        ))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().as_ref() == clip.as_slice());

    // A real agent takes the job once its lease lapses and the proxy after it, reading the file
    // from the bucket (it says so when it has to fall back to the server, and it does not).
    let agent = Command::new(BIN)
        .args(["agent", "--server", &base, "--name", "s3-agent"])
        .arg("--work")
        .arg(dir.join("work"))
        .env("MSTATION_TOKEN", &ops)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut agent = Running(agent);
    let started = Instant::now();
    loop {
        let files: Value = reqwest::Client::new()
            .get(format!("{base}/api/v1/media"))
            .bearer_auth(&alpha)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !files["items"][0]["poster_hash"].is_null() {
            assert_eq!(files["items"][0]["probe"]["video"]["width"], 320);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the agent made no proxy: {files}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The agent says a job succeeded once the server has taken its end, a moment after the
    // poster is there to see: it is given that moment before it is stopped.
    tokio::time::sleep(Duration::from_secs(2)).await;
    agent.kill().unwrap();
    let (mut said, mut out) = (String::new(), String::new());
    std::io::Read::read_to_string(&mut agent.stdout.take().unwrap(), &mut said).unwrap();
    std::io::Read::read_to_string(&mut agent.stderr.take().unwrap(), &mut out).unwrap();
    assert!(
        said.contains("media.proxy"),
        "the agent ran the proxy: {said}"
    );
    assert!(
        !out.contains("reading the source through the server"),
        "the agent fell back to the server: {out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
