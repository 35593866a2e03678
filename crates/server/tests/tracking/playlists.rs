//! Playlists: versions of one project in play order, reordered by writing the whole list with
//! If-Match, and only versions of that project.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use serde_json::{Value, json};

/// A project with one task on an asset and `n` versions of it; answers the project and the
/// version ids in number order.
pub(crate) async fn versions(
    srv: &Srv,
    token: &str,
    code: &str,
    n: usize,
) -> (String, Vec<String>) {
    let (_, p) = srv
        .post(
            token,
            "/api/v1/projects",
            json!({"name": code, "code": code, "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    let project = p["id"].as_str().unwrap().to_string();
    let (_, hero) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/assets"),
            json!({"kind": "character", "name": "Hero"}),
        )
        .await;
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let (_, tasks) = srv
        .post(
            token,
            "/api/v1/tasks",
            json!({"tasks": [{"asset_id": hero["id"], "task_type_id": types["items"][1]["id"]}]}),
        )
        .await;
    let task = tasks["items"][0]["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let (s, v) = srv
            .post(
                token,
                &format!("/api/v1/tasks/{task}/versions"),
                json!({"comment": format!("take {}", i + 1)}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    (project, ids)
}

fn order(p: &Value) -> Vec<i64> {
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_i64().unwrap())
        .collect()
}

async fn put(srv: &Srv, token: &str, id: &str, etag: &str, items: Value) -> (u16, Value) {
    json(
        srv.http
            .put(format!("{}/api/v1/playlists/{id}/items", srv.base))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&json!({"items": items}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_order_versions_for_review() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, artist) = srv
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
        let (project, v) = versions(&srv, &a.token, "MOON", 3).await;
        let (_, foreign) = versions(&srv, &a.token, "OTHER", 1).await;
        let playlists = format!("/api/v1/projects/{project}/playlists");

        let (s, p) = srv
            .post(
                &artist,
                &playlists,
                json!({"name": "Dailies 4 Jan", "items": [v[2], v[0]]}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        assert_eq!(order(&p), [3, 1]);
        assert_eq!(p["item_count"], 2);
        assert_eq!(p["version"], 1);
        let id = p["id"].as_str().unwrap().to_string();
        let (s, empty) = srv
            .post(&a.token, &playlists, json!({"name": "Client review"}))
            .await;
        assert_eq!(s, 201);
        assert_eq!(empty["items"], json!([]));
        for body in [
            json!({"name": "Twice", "items": [v[0], v[0]]}),
            json!({"name": "Elsewhere", "items": [foreign[0]]}),
            json!({"name": "Unknown", "items": [uuid::Uuid::now_v7()]}),
            json!({"name": "", "items": []}),
            json!({"name": "Extra", "items": [], "colour": "blue"}),
        ] {
            let (s, r) = srv.post(&a.token, &playlists, body.clone()).await;
            assert_eq!(s, 422, "{body}: {r}");
        }
        let (s, _) = srv.post(&viewer, &playlists, json!({"name": "Mine"})).await;
        assert_eq!(s, 403);

        let (_, list) = srv.get(&viewer, &playlists).await;
        assert_eq!(list["total"], 2);
        assert_eq!(list["items"][0]["item_count"], 2);
        assert!(
            list["items"][0].get("items").is_none(),
            "lists leave the items out"
        );
        let r = srv
            .call(
                &viewer,
                reqwest::Method::GET,
                &format!("/api/v1/playlists/{id}"),
                None,
            )
            .await;
        assert_eq!(r.headers()["etag"], "\"1\"");
        let (_, got) = json(r).await;
        assert_eq!(order(&got), [3, 1]);
        assert_eq!(got["items"][0]["comment"], "take 3");

        // Reorder and extend by writing the whole list; a stale list is refused and changes
        // nothing.
        let (s, p) = put(&srv, &artist, &id, "\"1\"", json!([v[0], v[1], v[2]])).await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(order(&p), [1, 2, 3]);
        assert_eq!(p["version"], 2);
        let (s, _) = put(&srv, &artist, &id, "\"1\"", json!([v[2]])).await;
        assert_eq!(s, 409);
        let (s, _) = put(&srv, &artist, &id, "\"2\"", json!([v[1], foreign[0]])).await;
        assert_eq!(s, 422);
        let (s, _) = put(&srv, &artist, &id, "\"2\"", json!([v[1], v[1]])).await;
        assert_eq!(s, 422);
        let (s, _) = put(&srv, &viewer, &id, "\"2\"", json!([v[1]])).await;
        assert_eq!(s, 403);
        let (_, got) = srv.get(&viewer, &format!("/api/v1/playlists/{id}")).await;
        assert_eq!(order(&got), [1, 2, 3], "refused writes changed nothing");
        let (s, p) = put(&srv, &artist, &id, "\"2\"", json!([v[2], v[1]])).await;
        assert_eq!(s, 200);
        assert_eq!(order(&p), [3, 2]);
        assert_eq!(p["item_count"], 2);
        let (s, _) = put(
            &srv,
            &artist,
            &uuid::Uuid::now_v7().to_string(),
            "\"1\"",
            json!([]),
        )
        .await;
        assert_eq!(s, 404);
        let (_, audit) = srv
            .get(&a.token, "/api/v1/audit?action=playlist.updated")
            .await;
        assert_eq!(audit["total"], 2);
    })
    .await;
}
