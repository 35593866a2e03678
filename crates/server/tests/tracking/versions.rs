//! Versions of a task: numbered by the server per task, without gaps or repeats even when many
//! are handed in at once, listed, read one at a time, and only written by those who may.

use std::sync::Arc;

use crate::common::*;
use mstation_core::{Role, TokenScope};
use serde_json::{Value, json};

/// A project with one shot and two tasks on it; answers the task ids.
async fn two_tasks(srv: &Srv, token: &str) -> (String, String) {
    let (_, p) = srv.post(token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
    let project = p["id"].as_str().unwrap();
    let (_, seq) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let sequence = seq["id"].as_str().unwrap();
    let edl = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n";
    let (s, _) = srv
        .post(
            token,
            &format!("/api/v1/sequences/{sequence}/conform"),
            json!({"format": "cmx3600", "edl": edl, "apply": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, shots) = srv
        .get(token, &format!("/api/v1/sequences/{sequence}/shots"))
        .await;
    let shot = &shots["items"][0]["id"];
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let (s, tasks) = srv
        .post(token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shot, "task_type_id": types["items"][3]["id"]}, {"shot_id": shot, "task_type_id": types["items"][4]["id"]}]}))
        .await;
    assert_eq!(s, 201, "{tasks}");
    (
        tasks["items"][0]["id"].as_str().unwrap().to_string(),
        tasks["items"][1]["id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_numbered_per_task() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (artist, artist_token) = srv
            .member(
                &a,
                "artist@alpha.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (_, viewer) = srv
            .member(
                &a,
                "viewer@alpha.example",
                Role::Viewer,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (light, comp) = two_tasks(&srv, &a.token).await;
        let versions = format!("/api/v1/tasks/{light}/versions");

        for (i, comment) in ["first pass", "warmer key", "final"].iter().enumerate() {
            let (s, v) = srv
                .post(&artist_token, &versions, json!({"comment": comment}))
                .await;
            assert_eq!(s, 201, "{v}");
            assert_eq!(v["number"], i + 1);
            assert_eq!(v["author_id"], json!(artist.id));
            assert_eq!(v["task_id"], json!(light));
        }
        let (s, v) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{comp}/versions"),
                json!({}),
            )
            .await;
        assert_eq!(s, 201);
        assert_eq!(v["number"], 1, "each task counts its own");
        assert_eq!(v["comment"], "");

        let (s, _) = srv
            .post(&viewer, &versions, json!({"comment": "not mine to give"}))
            .await;
        assert_eq!(s, 403);
        for body in [
            json!({"comment": "x".repeat(20_001)}),
            json!({"comment": "v", "number": 7}),
            json!({"comment": 3}),
        ] {
            let (s, _) = srv.post(&artist_token, &versions, body).await;
            assert_eq!(s, 422);
        }
        let (s, _) = srv
            .post(
                &artist_token,
                &format!("/api/v1/tasks/{}/versions", uuid::Uuid::now_v7()),
                json!({}),
            )
            .await;
        assert_eq!(s, 404);

        let (_, list) = srv.get(&viewer, &versions).await;
        assert_eq!(list["total"], 3);
        let numbers: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["number"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, [1, 2, 3]);
        let (_, newest) = srv
            .get(&viewer, &format!("{versions}?sort=-created_at&limit=1"))
            .await;
        assert_eq!(newest["items"][0]["comment"], "final");
        let (_, next) = srv
            .get(
                &viewer,
                &format!(
                    "{versions}?sort=-created_at&limit=1&cursor={}",
                    newest["next_cursor"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(next["items"][0]["number"], 2);
        let id = list["items"][1]["id"].as_str().unwrap();
        let (s, one) = srv.get(&viewer, &format!("/api/v1/versions/{id}")).await;
        assert_eq!(s, 200);
        assert_eq!(one["comment"], "warmer key");
        let (s, _) = srv
            .get(
                &viewer,
                &format!("/api/v1/versions/{}", uuid::Uuid::now_v7()),
            )
            .await;
        assert_eq!(s, 404);

        // A retry with the same Idempotency-Key is the same version, not the next one.
        let send = || {
            srv.http
                .post(format!("{}{versions}", srv.base))
                .bearer_auth(&artist_token)
                .header("idempotency-key", "render-42")
                .json(&json!({"comment": "from the farm"}))
                .send()
        };
        let (s, first) = json(send().await.unwrap()).await;
        assert_eq!(s, 201);
        let r = send().await.unwrap();
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        let (_, again) = json(r).await;
        assert_eq!(again["id"], first["id"]);
        assert_eq!(first["number"], 4);
        let (_, list) = srv.get(&viewer, &versions).await;
        assert_eq!(list["total"], 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_versions_get_every_number_once() {
    on_every_backend(|srv| async move {
        let a = Arc::new(srv.tenant("Alpha", "alpha").await);
        let (task, _) = two_tasks(&srv, &a.token).await;
        let n = 16;
        let mut handles = Vec::new();
        for i in 0..n {
            let (srv, a, task) = (srv.clone(), a.clone(), task.clone());
            handles.push(tokio::spawn(async move {
                srv.post(
                    &a.token,
                    &format!("/api/v1/tasks/{task}/versions"),
                    json!({"comment": format!("writer {i}")}),
                )
                .await
            }));
        }
        let mut numbers = Vec::new();
        for h in handles {
            let (s, v): (u16, Value) = h.await.unwrap();
            assert_eq!(s, 201, "{v}");
            numbers.push(v["number"].as_i64().unwrap());
        }
        numbers.sort();
        assert_eq!(
            numbers,
            (1..=n).collect::<Vec<i64>>(),
            "no gaps, no repeats"
        );
        let (_, list) = srv
            .get(
                &a.token,
                &format!("/api/v1/tasks/{task}/versions?limit=500"),
            )
            .await;
        let listed: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["number"].as_i64().unwrap())
            .collect();
        assert_eq!(
            listed,
            (1..=n).collect::<Vec<i64>>(),
            "listed in number order"
        );
    })
    .await;
}

/// Uploads `bytes` as a file of `project` (or of none); answers its id.
async fn media_file(srv: &Srv, token: &str, project: Option<&str>, bytes: &[u8]) -> String {
    use base64::Engine;
    let mut meta = format!(
        "filename {}",
        base64::engine::general_purpose::STANDARD.encode("render.mov")
    );
    if let Some(p) = project {
        meta.push_str(&format!(
            ",project {}",
            base64::engine::general_purpose::STANDARD.encode(p)
        ));
    }
    let r = srv
        .http
        .post(format!("{}/files", srv.base))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", meta)
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, files) = srv.get(token, "/api/v1/media?limit=100").await;
    let hash = blake3::hash(bytes).to_hex().to_string();
    files["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["hash"] == hash.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_carries_its_files_in_order() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task, _) = two_tasks(&srv, &a.token).await;
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{task}")).await;
        let project = t["project_id"].as_str().unwrap().to_string();
        let (render, mix) = (
            media_file(&srv, &a.token, Some(&project), b"the render").await,
            media_file(&srv, &a.token, None, b"the sound mix").await,
        );
        let (s, v) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{task}/versions"),
                json!({"comment": "comp v2", "media": [render, mix]}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, files) = srv
            .get(
                &a.token,
                &format!("/api/v1/versions/{}/media", v["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(s, 200);
        let names: Vec<&str> = files["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(names, [render.as_str(), mix.as_str()], "in the order given");

        // Another project's file, twice the same, too many, not an id of the organisation's.
        let (_, other) = srv
            .post(
                &a.token,
                "/api/v1/projects",
                json!({"name": "Other", "code": "OTH", "fps": "24", "width": 1920, "height": 1080}),
            )
            .await;
        let elsewhere = media_file(
            &srv,
            &a.token,
            Some(other["id"].as_str().unwrap()),
            b"elsewhere",
        )
        .await;
        for (media, status, reason) in [
            (json!([elsewhere]), 422, Some("not_a_file_of_this_project")),
            (json!([render, render]), 422, Some("duplicate_file")),
            (json!(vec![render.clone(); 21]), 422, Some("at_most_20")),
        ] {
            let (s, p) = srv
                .post(
                    &a.token,
                    &format!("/api/v1/tasks/{task}/versions"),
                    json!({"media": media}),
                )
                .await;
            assert_eq!((s, p["reason"].as_str()), (status, reason), "{p}");
        }
        let b = srv.tenant("Bravo", "bravo").await;
        let theirs = media_file(&srv, &b.token, None, b"bravo's file").await;
        let (s, _) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{task}/versions"),
                json!({"media": [theirs]}),
            )
            .await;
        assert_eq!(s, 404, "another organisation's file is not found");
        let (_, list) = srv
            .get(&a.token, &format!("/api/v1/tasks/{task}/versions"))
            .await;
        assert_eq!(list["total"], 1, "refused versions leave nothing behind");
    })
    .await;
}
