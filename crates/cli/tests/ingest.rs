//! `mstation ingest` against a real server: a card read once, filed with its ASC MHL history;
//! a run killed half-way taken up again without sending again what arrived; a server killed
//! half-way (`kill -9`) keeps what it acknowledged, and the run, waiting for it, goes on once
//! it is back and delivers the card whole; the same card filed once; a card whose file no longer matches its
//! history files nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

mod common;
use common::*;

/// A server with the organisation Alpha, its owner's token and the project FEAT.
struct Platform {
    server: Running,
    port: u16,
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Platform {
    async fn start(dir: &Path) -> Platform {
        mstation_server::init_tls();
        let token = owner_of(
            dir,
            "alpha",
            "dit@alpha.example",
            "production_company",
            "read,write",
        );
        let port = free_port();
        let server = serve(dir, None, port);
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&base).await;
        let p = Platform {
            server,
            port,
            base,
            token,
            http: reqwest::Client::new(),
        };
        let r = p
            .http
            .post(format!("{}/api/v1/projects", p.base))
            .bearer_auth(&p.token)
            .json(&json!({"name": "Feature", "code": "FEAT", "fps": "24", "width": 1920, "height": 1080}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        p
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// `mstation ingest CARD --project FEAT`, remembering in `cache`.
    fn ingest(&self, card: &Path, cache: &Path) -> Command {
        let mut c = Command::new(BIN);
        c.args([
            "ingest",
            &card.display().to_string(),
            "--project",
            "FEAT",
            "--server",
            &self.base,
        ])
        .env("MSTATION_TOKEN", &self.token)
        .env("MSTATION_CACHE", cache);
        c
    }

    async fn files(&self) -> Vec<Value> {
        self.get("/api/v1/media?limit=100").await["items"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Removes the test's folder when the test ends, passed or failed.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(mut c: Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `len` bytes that differ from file to file.
fn content(len: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_ingested_once_resumed_after_a_kill_and_refused_when_it_no_longer_matches() {
    let dir =
        std::env::temp_dir().join(format!("mstation-ingest-{}", uuid::Uuid::now_v7().simple()));
    let _cleanup = Cleanup(dir.clone());
    let p = Platform::start(&dir.join("data")).await;
    let cache = dir.join("cache");
    let card = dir.join("A001_R1XZ");
    let clip = card.join("A001C001_R1XZ");
    std::fs::create_dir_all(&clip).unwrap();
    std::fs::create_dir_all(card.join("空文件夹")).unwrap();
    std::fs::write(clip.join("A001C001.mov"), content(300_000, 1)).unwrap();
    std::fs::write(card.join("镜头说明.txt"), "第一天".as_bytes()).unwrap();
    std::fs::write(card.join(".DS_Store"), b"finder").unwrap();
    // Big enough that the kill below lands while it is on its way.
    let big = content(192 << 20, 2);
    std::fs::write(clip.join("A001C002.mov"), &big).unwrap();

    // Killed while the big file is on its way.
    let mut first = p.ingest(&card, &cache);
    let mut child = first
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ingest_id = None;
    let mut upload_of_big = None;
    for _ in 0..2000 {
        if ingest_id.is_none()
            && let Ok(entries) = std::fs::read_dir(cache.join("ingests"))
        {
            for e in entries.flatten() {
                let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap_or_default())
                    .unwrap_or(Value::Null);
                if let Some(i) = v["ingest_id"].as_str() {
                    ingest_id = Some(i.to_string());
                }
            }
        }
        if let Some(i) = &ingest_id {
            let v = p.get(&format!("/api/v1/ingests/{i}")).await;
            let big = v["uploads"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["path"] == "A001C001_R1XZ/A001C002.mov")
                .cloned();
            if let Some(u) = big
                && u["received"].as_i64().unwrap() > 0
            {
                upload_of_big = Some((
                    u["upload_id"].as_str().unwrap().to_string(),
                    u["received"].as_i64().unwrap(),
                ));
                child.kill().unwrap();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.wait().unwrap();
    let (big_upload, received) =
        upload_of_big.expect("the big file was on its way when the run was killed");
    assert!(received < big.len() as i64, "killed half-way");
    assert!(
        p.files().await.is_empty(),
        "nothing is filed before the ingest ends"
    );

    // Run again: what arrived is not sent again, the big file goes on from where it stood.
    let (code, out, err) = run(p.ingest(&card, &cache));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("filed 3 files"), "{out}");
    let ingest_id = ingest_id.unwrap();
    assert!(
        out.contains(&format!("ingest {ingest_id}")),
        "the same ingest goes on: {out}"
    );
    let v = p.get(&format!("/api/v1/ingests/{ingest_id}")).await;
    assert_eq!(v["state"], "done");
    let sent_big: Vec<&Value> = v["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["path"] == "A001C001_R1XZ/A001C002.mov")
        .collect();
    assert_eq!(
        sent_big.len(),
        1,
        "the big file went on in its own upload: {v}"
    );
    assert_eq!(sent_big[0]["upload_id"], big_upload.as_str());

    let files = p.files().await;
    assert_eq!(files.len(), 3);
    let mut paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "A001C001_R1XZ/A001C001.mov",
            "A001C001_R1XZ/A001C002.mov",
            "镜头说明.txt"
        ]
    );
    let f = files.iter().find(|f| f["name"] == "A001C002.mov").unwrap();
    assert_eq!(f["hash"], blake3::hash(&big).to_hex().as_str());
    let bytes = p
        .http
        .get(format!(
            "{}/api/v1/media/{}/content",
            p.base,
            f["id"].as_str().unwrap()
        ))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        bytes.as_ref() == big.as_slice(),
        "the big file arrived whole"
    );

    // The card's history: verified by our reader, and kept by the platform as written.
    let history: Vec<_> = std::fs::read_dir(card.join("ascmhl"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    let generation = history
        .iter()
        .find(|n| n.starts_with("0001_A001_R1XZ_") && n.ends_with(".mhl"))
        .unwrap_or_else(|| panic!("{history:?}"));
    let written = std::fs::read_to_string(card.join("ascmhl").join(generation)).unwrap();
    assert!(!written.contains(".DS_Store\"") && !written.contains(">.DS_Store</path>"));
    let kept = p
        .http
        .get(format!("{}/api/v1/ingests/{ingest_id}/generation", p.base))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(kept, written);
    let (code, out, err) = run({
        let mut c = Command::new(BIN);
        c.args(["mhl", "verify", &card.display().to_string()]);
        c
    });
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("3 files verified"), "{out}");
    assert!(
        std::fs::read_dir(cache.join("ingests"))
            .unwrap()
            .next()
            .is_none(),
        "a finished ingest leaves nothing in the cache"
    );

    // The same card again, in md5 too: verified, and nothing filed twice.
    let mut again = p.ingest(&card, &cache);
    again.args(["--hash", "md5"]);
    let (code, out, err) = run(again);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(p.files().await.len(), 3);
    let second = std::fs::read_dir(card.join("ascmhl"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .find(|n| n.starts_with("0002_"))
        .unwrap();
    let written = std::fs::read_to_string(card.join("ascmhl").join(second)).unwrap();
    assert!(written.contains("<xxh64 action=\"verified\""), "{written}");
    assert!(written.contains("<md5 action="), "{written}");

    // A flipped byte: named, a failed generation written, nothing filed.
    let mut changed = std::fs::read(clip.join("A001C001.mov")).unwrap();
    changed[1000] ^= 0xff;
    std::fs::write(clip.join("A001C001.mov"), changed).unwrap();
    let (code, out, err) = run(p.ingest(&card, &cache));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("mismatch: A001C001_R1XZ/A001C001.mov"),
        "{err}"
    );
    assert!(out.contains("nothing was filed"), "{out}");
    assert_eq!(p.files().await.len(), 3);
    assert!(
        std::fs::read_dir(card.join("ascmhl"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("0003_"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_folder_holding_a_card_with_its_own_history_is_filed_whole_and_both_histories_grow() {
    let dir = std::env::temp_dir().join(format!(
        "mstation-ingest-nested-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let _cleanup = Cleanup(dir.clone());
    let p = Platform::start(&dir.join("data")).await;
    let cache = dir.join("cache");
    let day = dir.join("DAY_01");
    let card = day.join("A001_R1XZ");
    std::fs::create_dir_all(card.join("CLIP")).unwrap();
    std::fs::write(card.join("CLIP/A001C001.mov"), content(40_000, 7)).unwrap();
    std::fs::write(day.join("call_sheet.txt"), b"day one").unwrap();
    // The card was given its history on set.
    let mut on_set = Command::new(BIN);
    on_set.args(["mhl", "create", &card.display().to_string()]);
    let (code, out, err) = run(on_set);
    assert_eq!(code, 0, "{out}\n{err}");

    let (code, out, err) = run(p.ingest(&day, &cache));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("filed 2 files"), "{out}");
    let mut paths: Vec<String> = p
        .files()
        .await
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["A001_R1XZ/CLIP/A001C001.mov", "call_sheet.txt"]);
    // The card's history has a second generation, verifying its file; the day's first refers
    // to it and leaves the card's files to it.
    let card_gens: Vec<_> = std::fs::read_dir(card.join("ascmhl"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".mhl"))
        .collect();
    assert_eq!(card_gens.len(), 2);
    let day_gen = std::fs::read_dir(day.join("ascmhl"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("0001_"))
        .unwrap();
    let xml = std::fs::read_to_string(day_gen.path()).unwrap();
    assert!(xml.contains("<hashlistreference>") && xml.contains("A001_R1XZ/ascmhl/0002_"));
    assert!(!xml.contains("CLIP/A001C001.mov"), "{xml}");
    // The platform keeps both generations, the card's by its folder.
    let ingest = out
        .split("ingest ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    let kept = |query: &str| {
        let (p, ingest) = (&p, &ingest);
        let query = query.to_string();
        async move {
            p.http
                .get(format!(
                    "{}/api/v1/ingests/{ingest}/generation{query}",
                    p.base
                ))
                .bearer_auth(&p.token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(kept("").await, xml);
    let card_gen = card_gens
        .iter()
        .find(|e| e.file_name().to_string_lossy().starts_with("0002_"))
        .unwrap();
    assert_eq!(
        kept("?folder=A001_R1XZ").await,
        std::fs::read_to_string(card_gen.path()).unwrap()
    );
    let mut verify = Command::new(BIN);
    verify.args(["mhl", "verify", &day.display().to_string()]);
    let (code, out, _) = run(verify);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 files verified"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_ingest_keeps_what_it_took_and_the_run_goes_on_once_it_is_back() {
    let dir =
        std::env::temp_dir().join(format!("mstation-ingest-{}", uuid::Uuid::now_v7().simple()));
    let _cleanup = Cleanup(dir.clone());
    let data = dir.join("data");
    let mut p = Platform::start(&data).await;
    let cache = dir.join("cache");
    let card = dir.join("B002_K9QZ");
    let clip = card.join("B002C001_K9QZ");
    std::fs::create_dir_all(&clip).unwrap();
    std::fs::write(clip.join("B002C001.mov"), content(200_000, 3)).unwrap();
    // Not a whole number of the server's 16 MiB progress records, so its last record before the
    // end is never the whole file.
    let big = content((160 << 20) + 12_345, 4);
    std::fs::write(clip.join("B002C002.mov"), &big).unwrap();

    // The server is killed while the big file is on its way.
    // Killed (even while held still) if the test stops early.
    let mut child = Running(
        p.ingest(&card, &cache)
            .stdout(std::fs::File::create(dir.join("run.out")).unwrap())
            .stderr(std::fs::File::create(dir.join("run.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut seen = None;
    for _ in 0..4000 {
        let ingest = std::fs::read_dir(cache.join("ingests"))
            .into_iter()
            .flatten()
            .flatten()
            .find_map(|e| {
                let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap_or_default())
                    .unwrap_or(Value::Null);
                v["ingest_id"].as_str().map(str::to_string)
            });
        if let Some(i) = ingest {
            let v = p.get(&format!("/api/v1/ingests/{i}")).await;
            let on_its_way = v["uploads"].as_array().unwrap().iter().find(|u| {
                let received = u["received"].as_i64().unwrap();
                u["path"] == "B002C001_K9QZ/B002C002.mov"
                    && received > 0
                    && received < big.len() as i64
            });
            if let Some(u) = on_its_way {
                seen = Some((
                    i,
                    u["upload_id"].as_str().unwrap().to_string(),
                    u["received"].as_i64().unwrap(),
                ));
                p.server.kill().unwrap();
                p.server.wait().unwrap();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (ingest_id, big_upload, acknowledged) =
        seen.expect("the big file was on its way when the server was killed");
    // The run is held still while the server comes back, to read what the server kept.
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    };
    signal("-STOP");
    p.server = serve(&data, None, p.port);
    wait_ready(&p.base).await;
    let v = p.get(&format!("/api/v1/ingests/{ingest_id}")).await;
    let kept = v["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["upload_id"] == big_upload.as_str())
        .unwrap_or_else(|| panic!("the big file's upload is kept: {v}"))["received"]
        .as_i64()
        .unwrap();
    assert!(
        (acknowledged..=big.len() as i64).contains(&kept),
        "all it acknowledged ({acknowledged}) is kept: {kept}"
    );
    assert!(
        p.files().await.is_empty(),
        "nothing is filed before the ingest ends"
    );

    // The run, waiting for its server, goes on where the server stands, in the same upload,
    // once the killed server's hold on the upload has run out (`HOLD_MS`, a minute: no server
    // can tell a dead holder from a live one on another machine).
    signal("-CONT");
    let mut ended = None;
    for _ in 0..1800 {
        if let Some(s) = child.try_wait().unwrap() {
            ended = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = std::fs::read_to_string(dir.join("run.out")).unwrap();
    let err = std::fs::read_to_string(dir.join("run.err")).unwrap();
    assert!(ended.is_some_and(|s| s.success()), "{out}\n{err}");
    assert!(
        out.contains("filed 2 files") && out.contains(&format!("ingest {ingest_id}")),
        "{out}"
    );
    let v = p.get(&format!("/api/v1/ingests/{ingest_id}")).await;
    assert_eq!(v["state"], "done", "{v}");
    let sent: Vec<&Value> = v["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["path"] == "B002C001_K9QZ/B002C002.mov")
        .collect();
    assert_eq!(sent.len(), 1, "one upload for the big file: {v}");
    assert_eq!(
        sent[0]["upload_id"],
        big_upload.as_str(),
        "taken up, not sent again"
    );
    let files = p.files().await;
    assert_eq!(files.len(), 2);
    let f = files.iter().find(|f| f["name"] == "B002C002.mov").unwrap();
    assert_eq!(
        f["hash"],
        blake3::hash(&big).to_hex().as_str(),
        "the big file arrived whole"
    );
    let (code, out, err) = run({
        let mut c = Command::new(BIN);
        c.args(["mhl", "verify", &card.display().to_string()]);
        c
    });
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 files verified"), "{out}");
}
