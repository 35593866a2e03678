//! Activity feeds: a project's feed holds its production changes newest first, a person's feed
//! what they did; neither shows another organisation's work or administrative changes.

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_and_a_person_have_feeds() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let pid = p["id"].as_str().unwrap();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let (_, _) = srv
            .post(&a.token, "/api/v1/tokens", json!({"name": "not production", "scopes": ["read"]}))
            .await;

        let (s, feed) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/activity")).await;
        assert_eq!(s, 200, "{feed}");
        let actions: Vec<&str> = feed["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["sequence.created", "project.created"], "newest first, production only");
        assert_eq!(feed["items"][0]["entity_id"], seq["id"]);
        assert_eq!(feed["items"][0]["project_id"], p["id"]);
        assert_eq!(feed["items"][0]["actor_id"], json!(a.owner.id));

        let (s, mine) = srv.get(&a.token, "/api/v1/people/me/activity?limit=1").await;
        assert_eq!(s, 200);
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
        assert_eq!(mine["items"][0]["action"], "sequence.created");
        let (_, next) = srv.get(&a.token, &format!("/api/v1/people/me/activity?limit=1&cursor={}", mine["next_cursor"].as_str().unwrap())).await;
        assert_eq!(next["items"][0]["action"], "project.created");
        assert_eq!(mine["total"], 2, "the token is not production work");
        let (_, by_id) = srv.get(&a.token, &format!("/api/v1/people/{}/activity", a.owner.id)).await;
        assert_eq!(by_id["total"], 2);

        // Another organisation reaches neither feed.
        let b = srv.tenant("Bravo", "bravo").await;
        assert_eq!(srv.get(&b.token, &format!("/api/v1/projects/{pid}/activity")).await.0, 404);
        assert_eq!(srv.get(&b.token, &format!("/api/v1/people/{}/activity", a.owner.id)).await.0, 404);
        assert_eq!(srv.get(&b.token, "/api/v1/people/not-a-person/activity").await.0, 404);
        let (_, theirs) = srv.get(&b.token, "/api/v1/people/me/activity").await;
        assert_eq!(theirs["total"], 0);

        // On SQLite, /metrics tells how many writes the group commits carried.
        if srv.store().backend() == mstation_store::Backend::Sqlite {
            let text = srv.http.get(format!("{}/metrics", srv.base)).send().await.unwrap().text().await.unwrap();
            let writes: u64 = text.lines().find_map(|l| l.strip_prefix("mstation_sqlite_writes_total ")).unwrap().parse().unwrap();
            assert!(writes >= 5, "{text}");
        }
    })
    .await;
}
