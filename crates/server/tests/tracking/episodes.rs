//! Episodes: optional per project; sequences and assets may belong to one, and the task list
//! filters by episode across both.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

async fn patch(srv: &Srv, token: &str, path: &str, etag: &str, body: Value) -> (u16, Value) {
    json(
        srv.http
            .patch(format!("{}{path}", srv.base))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn episodes_group_sequences_and_assets() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, viewer) = srv.member(&a, "viewer@alpha.example", Role::Viewer, &[TokenScope::Read, TokenScope::Write]).await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Harbour", "code": "HRB", "fps": "25", "width": 1920, "height": 1080})).await;
        let project = p["id"].as_str().unwrap().to_string();
        let episodes = format!("/api/v1/projects/{project}/episodes");

        let (s, ep1) = srv.post(&a.token, &episodes, json!({"name": "EP101", "description": "Pilot"})).await;
        assert_eq!(s, 201, "{ep1}");
        let ep1 = ep1["id"].as_str().unwrap().to_string();
        let (s, ep2) = srv.post(&a.token, &episodes, json!({"name": "EP102"})).await;
        assert_eq!(s, 201);
        let ep2 = ep2["id"].as_str().unwrap().to_string();
        for (body, status) in [(json!({"name": "EP101"}), 409), (json!({"name": ""}), 422), (json!({"name": "EP103", "number": 3}), 422)] {
            let (s, v) = srv.post(&a.token, &episodes, body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
        }
        let (s, _) = srv.post(&viewer, &episodes, json!({"name": "EP109"})).await;
        assert_eq!(s, 403);
        let (_, list) = srv.get(&viewer, &episodes).await;
        assert_eq!(list["total"], 2);
        assert_eq!(list["items"][0]["name"], "EP101");

        let r = srv.call(&a.token, Method::GET, &format!("/api/v1/episodes/{ep2}"), None).await;
        assert_eq!(r.headers()["etag"], "\"1\"");
        let (s, v) = patch(&srv, &a.token, &format!("/api/v1/episodes/{ep2}"), "\"1\"", json!({"description": "The storm"})).await;
        assert_eq!(s, 200, "{v}");
        let (s, _) = patch(&srv, &a.token, &format!("/api/v1/episodes/{ep2}"), "\"1\"", json!({"name": "EP102B"})).await;
        assert_eq!(s, 409, "stale");
        let (s, _) = patch(&srv, &viewer, &format!("/api/v1/episodes/{ep2}"), "\"2\"", json!({"name": "EP102B"})).await;
        assert_eq!(s, 403);

        // Sequences join an episode when created or later; only an episode of their project.
        let (s, sq1) = srv.post(&a.token, &format!("/api/v1/projects/{project}/sequences"), json!({"name": "SQ010", "episode_id": ep1})).await;
        assert_eq!(s, 201, "{sq1}");
        assert_eq!(sq1["episode_id"], json!(ep1));
        let sq1 = sq1["id"].as_str().unwrap().to_string();
        let (_, sq2) = srv.post(&a.token, &format!("/api/v1/projects/{project}/sequences"), json!({"name": "SQ020"})).await;
        assert!(sq2["episode_id"].is_null());
        let sq2 = sq2["id"].as_str().unwrap().to_string();
        let (_, other) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Other", "code": "OTH", "fps": "25", "width": 1920, "height": 1080})).await;
        let (_, foreign) = srv.post(&a.token, &format!("/api/v1/projects/{}/episodes", other["id"].as_str().unwrap()), json!({"name": "EP1"})).await;
        let (s, v) = srv.post(&a.token, &format!("/api/v1/projects/{project}/sequences"), json!({"name": "SQ030", "episode_id": foreign["id"]})).await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["field"], "episode_id");
        let (s, v) = patch(&srv, &a.token, &format!("/api/v1/sequences/{sq2}"), "\"1\"", json!({"episode_id": ep2, "description": "harbour at night"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["episode_id"], json!(ep2));
        assert_eq!(v["version"], 2);
        let (s, _) = patch(&srv, &a.token, &format!("/api/v1/sequences/{sq2}"), "\"1\"", json!({"episode_id": null})).await;
        assert_eq!(s, 409, "stale");
        let (s, _) = patch(&srv, &a.token, &format!("/api/v1/sequences/{sq2}"), "\"2\"", json!({"episode_id": foreign["id"]})).await;
        assert_eq!(s, 422);
        let (s, _) = patch(&srv, &a.token, &format!("/api/v1/sequences/{sq2}"), "\"2\"", json!({"name": "SQ010"})).await;
        assert_eq!(s, 409, "sequence names are unique in a project");
        let (s, _) = patch(&srv, &viewer, &format!("/api/v1/sequences/{sq2}"), "\"2\"", json!({"episode_id": null})).await;
        assert_eq!(s, 403);

        // Tasks by episode: the shot tasks of its sequences and the tasks of its assets.
        for (sq, edl) in [(&sq1, "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n002  A002 V C 10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00\n"), (&sq2, "001  B001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n")] {
            let (s, _) = srv.post(&a.token, &format!("/api/v1/sequences/{sq}/conform"), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
            assert_eq!(s, 200);
        }
        let (s, boat) = srv.post(&a.token, &format!("/api/v1/projects/{project}/assets"), json!({"kind": "vehicle", "name": "Boat", "episode_id": ep2})).await;
        assert_eq!(s, 201, "{boat}");
        let (_, gull) = srv.post(&a.token, &format!("/api/v1/projects/{project}/assets"), json!({"kind": "character", "name": "Gull"})).await;
        let (s, v) = patch(&srv, &a.token, &format!("/api/v1/assets/{}", gull["id"].as_str().unwrap()), "\"1\"", json!({"episode_id": ep1})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["episode_id"], json!(ep1));
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{project}/task-types")).await;
        let ty = &types["items"][0]["id"];
        let mut tasks = vec![json!({"asset_id": boat["id"], "task_type_id": ty}), json!({"asset_id": gull["id"], "task_type_id": ty})];
        for sq in [&sq1, &sq2] {
            let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{sq}/shots")).await;
            for shot in shots["items"].as_array().unwrap() {
                tasks.push(json!({"shot_id": shot["id"], "task_type_id": ty}));
            }
        }
        let (s, _) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": tasks})).await;
        assert_eq!(s, 201);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?episode_id={ep1}")).await;
        assert_eq!(v["total"], 3, "two shots of SQ010 and the gull");
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?episode_id={ep2}&entity=shot")).await;
        assert_eq!(v["total"], 1);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?episode_id={ep2}&entity=asset")).await;
        assert_eq!(v["items"][0]["asset_id"], boat["id"]);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?episode_id={}", uuid::Uuid::now_v7())).await;
        assert_eq!(v["total"], 0);
        let (s, _) = srv.get(&a.token, "/api/v1/tasks?episode_id=EP101").await;
        assert_eq!(s, 400);

        // An episode in use stays; an empty one can go.
        let r = srv.call(&a.token, Method::DELETE, &format!("/api/v1/episodes/{ep1}"), None).await;
        assert_eq!(r.status(), 409);
        let (_, v) = json(r).await;
        assert_eq!(v["code"], "tracking.episode_in_use");
        let (_, e3) = srv.post(&a.token, &episodes, json!({"name": "EP103"})).await;
        let e3 = e3["id"].as_str().unwrap();
        let r = srv.call(&viewer, Method::DELETE, &format!("/api/v1/episodes/{e3}"), None).await;
        assert_eq!(r.status(), 403);
        let r = srv.call(&a.token, Method::DELETE, &format!("/api/v1/episodes/{e3}"), None).await;
        assert_eq!(r.status(), 204);
        let (s, _) = srv.get(&a.token, &format!("/api/v1/episodes/{e3}")).await;
        assert_eq!(s, 404);
    })
    .await;
}
