//! Notes on shots, assets and versions next to notes on tasks, @mentions resolved to members
//! of the note's organisation only, announced with the note, and a person's mentions feed.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use mstation_store::Actor;
use serde_json::{Value, json};

struct Fixture {
    shot: String,
    asset: String,
    task: String,
    version: String,
}

async fn production(srv: &Srv, token: &str) -> Fixture {
    let (s, p) = srv
        .post(token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}))
        .await;
    assert_eq!(s, 201, "{p}");
    let project = p["id"].as_str().unwrap().to_string();
    let (_, seq) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let sequence = seq["id"].as_str().unwrap().to_string();
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
    let shot = shots["items"][0]["id"].as_str().unwrap().to_string();
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let (s, tasks) = srv
        .post(
            token,
            "/api/v1/tasks",
            json!({"tasks": [{"shot_id": shot, "task_type_id": types["items"][4]["id"]}]}),
        )
        .await;
    assert_eq!(s, 201, "{tasks}");
    let task = tasks["items"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = srv
        .post(
            token,
            &format!("/api/v1/tasks/{task}/versions"),
            json!({"comment": "v1"}),
        )
        .await;
    let (_, a) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/assets"),
            json!({"kind": "character", "name": "Hero"}),
        )
        .await;
    Fixture {
        shot,
        asset: a["id"].as_str().unwrap().to_string(),
        task,
        version: v["id"].as_str().unwrap().to_string(),
    }
}

/// A member with a display name of their own, and a read-write token.
async fn person(srv: &Srv, t: &Tenant, email: &str, name: &str, role: Role) -> (String, String) {
    let u = srv.user(email, name).await;
    srv.store()
        .platform()
        .add_member(&Actor::system(), t.org.id, u.id, role)
        .await
        .unwrap();
    let (_, token) = srv
        .store()
        .platform()
        .create_token_for(
            &Actor::system(),
            t.org.id,
            u.id,
            "tests",
            &[TokenScope::Read, TokenScope::Write],
            None,
        )
        .await
        .unwrap();
    (u.id.to_string(), token)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_on_everything_with_mentions() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let (li, li_token) = person(&srv, &a, "li.wei@alpha.example", "Li Wei", Role::Artist).await;
        let (zhang, _) = person(&srv, &a, "zhang@alpha.example", "Zhang Wei", Role::Supervisor).await;
        let (_, viewer) = person(&srv, &a, "viewer@alpha.example", "Sam", Role::Viewer).await;
        let _ = person(&srv, &a, "sam.two@alpha.example", "Sam", Role::Artist).await;
        // Bob is in Bravo only: Alpha's notes never resolve him.
        let (bob, bob_token) = person(&srv, &b, "bob@bravo.example", "Bob Bravo", Role::Artist).await;
        let f = production(&srv, &a.token).await;
        let mut sorted = vec![li.clone(), zhang.clone()];
        sorted.sort();

        let body = "@Li.Wei@alpha.example the halo is back, @\"zhang wei\" please look; cc @bob@bravo.example @\"Bob Bravo\" @\"Sam\" @ghost@alpha.example.";
        let (s, note) = srv.post(&a.token, &format!("/api/v1/shots/{}/notes", f.shot), json!({"body": body, "frame": 1012})).await;
        assert_eq!(s, 201, "{note}");
        assert_eq!((note["shot_id"].as_str(), note["task_id"].clone()), (Some(f.shot.as_str()), Value::Null));
        assert_eq!(ids(&note["mentions"]), sorted, "members by address and by name; not Bob, not an ambiguous or unknown one");
        assert_eq!(note["frame"], 1012);
        let shot_note = note["id"].as_str().unwrap().to_string();
        // The announcement carries the mentions.
        let events = srv.store().platform().events_after(0, 1000).await.unwrap();
        let e = events
            .iter()
            .find(|e| e.entity_id.map(|i| i.to_string()) == Some(shot_note.clone()))
            .unwrap();
        assert_eq!(e.kind, "note.created");
        let payload: Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(ids(&payload["entity"]["mentions"]), sorted);

        let (s, reply) = srv.post(&li_token, &format!("/api/v1/shots/{}/notes", f.shot), json!({"body": "on it", "parent_id": shot_note})).await;
        assert_eq!(s, 201, "{reply}");
        assert_eq!(reply["mentions"], json!([]));
        let (s, v) = srv.post(&a.token, &format!("/api/v1/assets/{}/notes", f.asset), json!({"body": "the cape needs a sim, @li.wei@alpha.example"})).await;
        assert_eq!((s, ids(&v["mentions"])), (201, vec![li.clone()]), "{v}");
        assert_eq!(v["asset_id"].as_str(), Some(f.asset.as_str()));
        let (s, v) = srv.post(&a.token, &format!("/api/v1/versions/{}/notes", f.version), json!({"body": "approved pending @\"Li Wei\"", "frame": 1001})).await;
        assert_eq!((s, ids(&v["mentions"])), (201, vec![li.clone()]), "{v}");
        assert_eq!(v["version_id"].as_str(), Some(f.version.as_str()));
        // Task notes keep their address, their answer and the atomic status change.
        let (_, statuses) = srv.get(&a.token, &format!("/api/v1/tasks/{}", f.task)).await;
        let (s, v) = srv.post(&a.token, &format!("/api/v1/tasks/{}/notes", f.task), json!({"body": "@zhang@alpha.example over to you"})).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!((v["note"]["task_id"].as_str(), ids(&v["note"]["mentions"])), (Some(f.task.as_str()), vec![zhang.clone()]));
        assert_eq!(v["task"]["version"], statuses["version"]);

        // Reading them back.
        let (_, list) = srv.get(&viewer, &format!("/api/v1/shots/{}/notes", f.shot)).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!((items[0]["body"].as_str(), items[1]["parent_id"].as_str()), (Some(body), Some(shot_note.as_str())));
        assert_eq!(srv.get(&a.token, &format!("/api/v1/assets/{}/notes", f.asset)).await.1["items"].as_array().unwrap().len(), 1);
        assert_eq!(srv.get(&a.token, &format!("/api/v1/versions/{}/notes", f.version)).await.1["items"].as_array().unwrap().len(), 1);
        assert_eq!(srv.get(&a.token, &format!("/api/v1/tasks/{}/notes", f.task)).await.1["items"].as_array().unwrap().len(), 1);

        // What is refused.
        let shot_notes = format!("/api/v1/shots/{}/notes", f.shot);
        for (body, status) in [
            (json!({"body": "  "}), 422),
            (json!({"body": "x", "frame": -1}), 422),
            (json!({"body": "x".repeat(20_001)}), 422),
            (json!({"body": "x", "status_id": uuid::Uuid::now_v7()}), 422),
            (json!({"frame": 3}), 422),
        ] {
            let (s, v) = srv.post(&a.token, &shot_notes, body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
        }
        let (s, v) = srv.post(&a.token, &format!("/api/v1/assets/{}/notes", f.asset), json!({"body": "x", "parent_id": shot_note})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("parent_id")), "a reply stays on its subject: {v}");
        assert_eq!(srv.post(&viewer, &shot_notes, json!({"body": "I only watch"})).await.0, 403);
        assert_eq!(srv.post(&a.token, &format!("/api/v1/versions/{}/notes", uuid::Uuid::now_v7()), json!({"body": "x"})).await.0, 404);
        assert_eq!(srv.post(&b.token, &shot_notes, json!({"body": "hello"})).await.0, 404);
        assert_eq!(srv.get(&b.token, &shot_notes).await.0, 404);
        // An asset with notes is kept.
        let r = srv.call(&a.token, reqwest::Method::DELETE, &format!("/api/v1/assets/{}", f.asset), None).await;
        assert_eq!(r.status(), 409);

        // The mentions feed: newest first, by cursor.
        let (s, mine) = srv.get(&li_token, "/api/v1/people/me/mentions?limit=1").await;
        assert_eq!((s, mine["total"].as_i64()), (200, Some(3)), "{mine}");
        assert!(mine["items"][0]["version_id"].is_string(), "the newest first: {mine}");
        let (_, next) = srv.get(&li_token, &format!("/api/v1/people/me/mentions?limit=1&cursor={}", mine["next_cursor"].as_str().unwrap())).await;
        assert!(next["items"][0]["asset_id"].is_string(), "{next}");
        let (_, all) = srv.get(&viewer, &format!("/api/v1/people/{zhang}/mentions")).await;
        let kinds: Vec<bool> = all["items"].as_array().unwrap().iter().map(|n| n["task_id"].is_string()).collect();
        assert_eq!(kinds, vec![true, false], "the task note, then the shot note");
        // Across the tenant boundary: nothing, and nobody.
        assert_eq!(srv.get(&b.token, &format!("/api/v1/people/{li}/mentions")).await.0, 404);
        assert_eq!(srv.get(&a.token, &format!("/api/v1/people/{bob}/mentions")).await.0, 404);
        let (_, theirs) = srv.get(&bob_token, "/api/v1/people/me/mentions").await;
        assert_eq!(theirs["total"], 0, "Bob was written about in Alpha, but is not a member there");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_notes_wait_for_production() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let (li, li_token) = person(&srv, &a, "li.wei@alpha.example", "Li Wei", Role::Artist).await;
        let (_, coord) = person(&srv, &a, "mei@alpha.example", "Mei", Role::Coordinator).await;
        let (client, client_token) = person(
            &srv,
            &a,
            "director@client.example",
            "Director",
            Role::Client,
        )
        .await;
        let f = production(&srv, &a.token).await;
        let (_, v) = srv
            .get(&a.token, &format!("/api/v1/versions/{}", f.version))
            .await;
        let project = v["project_id"].as_str().unwrap().to_string();
        let version_notes = format!("/api/v1/versions/{}/notes", f.version);
        let task_notes = format!("/api/v1/tasks/{}/notes", f.task);

        // The client's words are held: no mentions yet, and said so.
        let (s, held) = srv
            .post(
                &client_token,
                &version_notes,
                json!({"body": "@\"Li Wei\" the sky is too green", "frame": 1001}),
            )
            .await;
        assert_eq!(s, 201, "{held}");
        assert_eq!(
            (held["held"].as_bool(), held["mentions"].clone()),
            (Some(true), json!([])),
            "{held}"
        );
        let held_id = held["id"].as_str().unwrap().to_string();
        let (s, on_task) = srv
            .post(&client_token, &task_notes, json!({"body": "and shorter"}))
            .await;
        assert_eq!(
            (s, on_task["note"]["held"].as_bool()),
            (201, Some(true)),
            "{on_task}"
        );
        // An artist's note is not held.
        let (_, own) = srv
            .post(&li_token, &version_notes, json!({"body": "new sky coming"}))
            .await;
        assert_eq!(own["held"], false);

        let count = |v: &Value, id: &str| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["id"] == id)
                .count()
        };
        // The artist reads none of it: not in the lists, not in the mentions, not in the feed.
        let (_, list) = srv.get(&li_token, &version_notes).await;
        assert_eq!(
            (
                list["items"].as_array().unwrap().len(),
                count(&list, &held_id)
            ),
            (1, 0),
            "{list}"
        );
        let (_, list) = srv.get(&li_token, &task_notes).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
        assert_eq!(
            srv.get(&li_token, "/api/v1/people/me/mentions").await.1["total"],
            0
        );
        let (_, feed) = srv
            .get(
                &li_token,
                &format!("/api/v1/projects/{project}/activity?limit=100"),
            )
            .await;
        assert!(!feed.to_string().contains("too green"), "{feed}");
        assert!(
            feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["entity_type"] != "held_note")
        );
        // Nor can the artist answer it; production answers it once it is published, and its
        // author's own answer is held like it.
        let (s, v) = srv
            .post(
                &li_token,
                &version_notes,
                json!({"body": "why?", "parent_id": held_id}),
            )
            .await;
        assert_eq!(
            (s, v["field"].as_str(), v["reason"].as_str()),
            (422, Some("parent_id"), Some("not_a_note_of_this_subject")),
            "{v}"
        );
        let (s, v) = srv
            .post(
                &coord,
                &version_notes,
                json!({"body": "which sky?", "parent_id": held_id}),
            )
            .await;
        assert_eq!(
            (s, v["reason"].as_str()),
            (422, Some("held_publish_first")),
            "{v}"
        );
        let (s, v) = srv
            .post(
                &client_token,
                &version_notes,
                json!({"body": "the evening one", "parent_id": held_id}),
            )
            .await;
        assert_eq!((s, v["held"].as_bool()), (201, Some(true)), "{v}");
        // Its author and production read it, held.
        for token in [&client_token, &coord, &a.token] {
            let (_, list) = srv.get(token, &version_notes).await;
            let n = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["id"] == held_id.as_str())
                .cloned();
            assert_eq!(n.map(|n| n["held"].clone()), Some(json!(true)), "{list}");
        }
        let (_, feed) = srv
            .get(
                &coord,
                &format!("/api/v1/projects/{project}/activity?limit=100"),
            )
            .await;
        assert!(
            feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "note.held"),
            "{feed}"
        );

        // Published by production only, within the organisation.
        let publish = format!("/api/v1/notes/{held_id}/publish");
        assert_eq!(srv.post(&li_token, &publish, json!({})).await.0, 403);
        assert_eq!(srv.post(&client_token, &publish, json!({})).await.0, 403);
        assert_eq!(srv.post(&b.token, &publish, json!({})).await.0, 404);
        assert_eq!(
            srv.post(
                &coord,
                &format!("/api/v1/notes/{}/publish", uuid::Uuid::now_v7()),
                json!({})
            )
            .await
            .0,
            404
        );
        let (s, out) = srv.post(&coord, &publish, json!({})).await;
        assert_eq!(s, 200, "{out}");
        assert_eq!(
            (
                out["held"].as_bool(),
                ids(&out["mentions"]),
                out["author_id"].as_str(),
                out["frame"].as_i64()
            ),
            (
                Some(false),
                vec![li.clone()],
                Some(client.as_str()),
                Some(1001)
            ),
            "the client's note as written, its mention resolved now"
        );
        let (_, list) = srv.get(&li_token, &version_notes).await;
        assert_eq!(count(&list, &held_id), 1, "{list}");
        assert_eq!(
            srv.get(&li_token, "/api/v1/people/me/mentions").await.1["total"],
            1
        );
        let events = srv
            .store()
            .platform()
            .events_after(0, 10_000)
            .await
            .unwrap();
        let kinds: Vec<&str> = events
            .iter()
            .filter(|e| e.entity_id.map(|i| i.to_string()) == Some(held_id.clone()))
            .map(|e| e.kind.as_str())
            .collect();
        assert_eq!(kinds, ["note.held", "note.published"]);
        // Again: nothing changes.
        let (s, again) = srv.post(&coord, &publish, json!({})).await;
        assert_eq!(
            (s, again["mentions"].clone()),
            (200, out["mentions"].clone())
        );
        let events = srv
            .store()
            .platform()
            .events_after(0, 10_000)
            .await
            .unwrap();
        assert_eq!(
            events.iter().filter(|e| e.kind == "note.published").count(),
            1
        );
        // The task note is still held.
        assert_eq!(
            srv.get(&li_token, &task_notes).await.1["items"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
    })
    .await;
}
