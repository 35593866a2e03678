//! A full media disk: the real server with its media folder on a 4 MiB tmpfs. An upload that
//! does not fit is refused as such (507, `media.storage_full`), leaves no blob, keeps only what
//! was recorded, and the server goes on once there is room. Needs root to mount the tmpfs (the
//! test command runs as root); elsewhere it says so and does nothing.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

mod common;
use common::*;

/// The tmpfs, unmounted and its folder removed when the test ends.
struct Mounted(PathBuf, PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn blobs_in(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            n += blobs_in(&p);
        } else {
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_media_disk_refuses_the_upload_in_words_and_keeps_no_partial_blob() {
    mstation_server::init_tls();
    let dir = std::env::temp_dir().join(format!("mstation-full-{}", uuid::Uuid::now_v7().simple()));
    let data = dir.join("data");
    let media = data.join("media");
    std::fs::create_dir_all(&media).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&media)
        .output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "note: a 4 MiB tmpfs could not be mounted here (root is needed); the full-disk test did not run"
        );
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let _mounted = Mounted(media.clone(), dir.clone());
    let token = owner_of(
        &data,
        "alpha",
        "post@alpha.example",
        "production_company",
        "read,write",
    );
    let port = free_port();
    let _server = serve(&data, None, port);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let create = |length: usize| {
        let (http, base, token) = (&http, &base, &token);
        async move {
            let r = http
                .post(format!("{base}/files"))
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", length.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.headers()["location"].to_str().unwrap().to_string()
        }
    };
    let patch = |at: String, body: Vec<u8>| {
        let (http, base, token) = (&http, &base, &token);
        async move {
            http.patch(format!("{base}{at}"))
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", "0")
                .header("Content-Type", "application/offset+octet-stream")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };

    // A small file fits.
    let at = create(1 << 20).await;
    assert_eq!(patch(at, vec![1; 1 << 20]).await.status(), 204);

    // One that does not: refused in words, no blob of it, nothing kept past what was recorded.
    let big = create(8 << 20).await;
    let r = patch(big.clone(), vec![2; 8 << 20]).await;
    assert_eq!(r.status(), 507);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "media.storage_full", "{problem}");
    let r = http
        .head(format!("{base}{big}"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kept: u64 = r.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(kept < 8 << 20, "only what was recorded is kept: {kept}");
    let files: Value = http
        .get(format!("{base}/api/v1/media"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    assert_eq!(blobs_in(&media.join("blobs")), 1, "no partial blob");

    // Room made (the upload ended): the server goes on.
    let r = http
        .delete(format!("{base}{big}"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let at = create(1 << 20).await;
    assert_eq!(patch(at, vec![3; 1 << 20]).await.status(), 204);
    assert_eq!(blobs_in(&media.join("blobs")), 2);
}
