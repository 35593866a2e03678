//! Assets: the assets of a project by kind, optimistic concurrency, casting into shots read from
//! both sides, tasks on assets next to tasks on shots, and who may change what.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

struct Fixture {
    project: String,
    shots: Vec<String>,
    types: Vec<Value>,
}

async fn production(srv: &Srv, token: &str, code: &str) -> Fixture {
    let (s, p) = srv
        .post(
            token,
            "/api/v1/projects",
            json!({"name": code, "code": code, "fps": "24", "width": 1920, "height": 1080}),
        )
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
    let edl = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n002  A002 V C 10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00\n";
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
    let shots = shots["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    Fixture {
        project,
        shots,
        types: types["items"].as_array().unwrap().clone(),
    }
}

async fn asset(srv: &Srv, token: &str, project: &str, kind: &str, name: &str) -> String {
    let (s, a) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/assets"),
            json!({"kind": kind, "name": name, "description": "from the script"}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_and_their_casting() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, viewer) = srv
            .member(
                &a,
                "viewer@alpha.example",
                Role::Viewer,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (_, artist) = srv
            .member(
                &a,
                "artist@alpha.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (_, coordinator) = srv
            .member(
                &a,
                "coordinator@alpha.example",
                Role::Coordinator,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let f = production(&srv, &a.token, "MOON").await;
        let assets = format!("/api/v1/projects/{}/assets", f.project);

        let hero = asset(&srv, &a.token, &f.project, "character", "Hero").await;
        let sword = asset(&srv, &a.token, &f.project, "prop", "Sword").await;
        let _forest = asset(&srv, &a.token, &f.project, "environment", "Forest").await;
        for (body, status) in [
            (json!({"kind": "creature", "name": "Dragon"}), 422),
            (json!({"kind": "prop", "name": "  "}), 422),
            (json!({"kind": "prop", "name": "Sword"}), 409),
            (
                json!({"kind": "prop", "name": "Shield", "colour": "red"}),
                422,
            ),
        ] {
            let (s, v) = srv.post(&a.token, &assets, body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
        }
        let (s, _) = srv
            .post(&viewer, &assets, json!({"kind": "prop", "name": "Shield"}))
            .await;
        assert_eq!(s, 403, "a viewer cannot create assets");
        let (s, _) = srv
            .post(&artist, &assets, json!({"kind": "prop", "name": "Shield"}))
            .await;
        assert_eq!(s, 403, "setting up assets is production management");

        let (_, all) = srv.get(&a.token, &assets).await;
        assert_eq!(all["total"], 3);
        let (_, props) = srv.get(&a.token, &format!("{assets}?kind=prop")).await;
        assert_eq!(props["total"], 1);
        assert_eq!(props["items"][0]["name"], "Sword");
        let (s, _) = srv.get(&a.token, &format!("{assets}?kind=creature")).await;
        assert_eq!(s, 400);
        let (_, page) = srv
            .get(&a.token, &format!("{assets}?limit=2&sort=-created_at"))
            .await;
        assert_eq!(page["items"][0]["name"], "Forest");
        let (_, rest) = srv
            .get(
                &a.token,
                &format!(
                    "{assets}?limit=2&sort=-created_at&cursor={}",
                    page["next_cursor"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(rest["items"][0]["name"], "Hero");

        // Optimistic concurrency on the asset.
        let r = srv
            .call(
                &a.token,
                Method::GET,
                &format!("/api/v1/assets/{sword}"),
                None,
            )
            .await;
        assert_eq!(r.headers()["etag"], "\"1\"");
        let patch = |etag: &'static str, body: Value| {
            srv.http
                .patch(format!("{}/api/v1/assets/{sword}", srv.base))
                .bearer_auth(&a.token)
                .header("if-match", etag)
                .json(&body)
                .send()
        };
        let (s, v) = json(
            patch("\"1\"", json!({"name": "Magic sword", "kind": "fx"}))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["version"], 2);
        assert_eq!(v["kind"], "fx");
        let (s, _) = json(
            patch("\"1\"", json!({"description": "stale"}))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 409);
        let (s, _) = json(patch("\"2\"", json!({"name": "Hero"})).await.unwrap()).await;
        assert_eq!(s, 409, "names are unique in a project");
        let (s, _) = json(patch("\"2\"", json!({"kind": "weapon"})).await.unwrap()).await;
        assert_eq!(s, 422);

        // Casting: a coordinator does the breakdown; an artist or a viewer may not.
        let cast = |token: String, shot: String, asset: String, body: Value| {
            let url = format!("{}/api/v1/shots/{shot}/assets/{asset}", srv.base);
            let http = srv.http.clone();
            async move {
                json(
                    http.put(url)
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let (s, _) = cast(artist.clone(), f.shots[0].clone(), hero.clone(), json!({})).await;
        assert_eq!(s, 403, "an artist does not cast");
        let (s, v) = cast(
            coordinator.clone(),
            f.shots[0].clone(),
            hero.clone(),
            json!({}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert!(v["count"].is_null());
        let (s, _) = cast(
            coordinator.clone(),
            f.shots[0].clone(),
            sword.clone(),
            json!({"count": 2}),
        )
        .await;
        assert_eq!(s, 200);
        let (s, v) = cast(
            coordinator.clone(),
            f.shots[0].clone(),
            sword.clone(),
            json!({"count": 3}),
        )
        .await;
        assert_eq!(s, 200, "casting again changes the count");
        assert_eq!(v["count"], 3);
        let (s, _) = cast(
            coordinator.clone(),
            f.shots[1].clone(),
            hero.clone(),
            json!({"count": 1}),
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = cast(
            coordinator.clone(),
            f.shots[1].clone(),
            sword.clone(),
            json!({"count": 0}),
        )
        .await;
        assert_eq!(s, 422);
        let (s, _) = cast(viewer.clone(), f.shots[1].clone(), sword.clone(), json!({})).await;
        assert_eq!(s, 403);
        let (s, _) = cast(
            coordinator.clone(),
            f.shots[1].clone(),
            uuid::Uuid::now_v7().to_string(),
            json!({}),
        )
        .await;
        assert_eq!(s, 404);
        let other = production(&srv, &a.token, "OTHER").await;
        let stranger = asset(&srv, &a.token, &other.project, "prop", "Lamp").await;
        let (s, v) = cast(coordinator.clone(), f.shots[1].clone(), stranger, json!({})).await;
        assert_eq!(s, 422, "an asset of another project: {v}");
        assert_eq!(v["field"], "asset_id");

        let (_, in_shot) = srv
            .get(&viewer, &format!("/api/v1/shots/{}/assets", f.shots[0]))
            .await;
        let names: Vec<&str> = in_shot["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Hero", "Magic sword"], "by kind, then name");
        assert_eq!(in_shot["items"][1]["count"], 3);
        let (_, shots_of_hero) = srv
            .get(&viewer, &format!("/api/v1/assets/{hero}/shots"))
            .await;
        let ids: Vec<&str> = shots_of_hero["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["shot_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [f.shots[0].as_str(), f.shots[1].as_str()],
            "in cut order"
        );

        let r = srv
            .call(
                &viewer,
                Method::DELETE,
                &format!("/api/v1/shots/{}/assets/{hero}", f.shots[1]),
                None,
            )
            .await;
        assert_eq!(r.status(), 403);
        let r = srv
            .call(
                &coordinator,
                Method::DELETE,
                &format!("/api/v1/shots/{}/assets/{hero}", f.shots[1]),
                None,
            )
            .await;
        assert_eq!(r.status(), 204);
        let r = srv
            .call(
                &coordinator,
                Method::DELETE,
                &format!("/api/v1/shots/{}/assets/{hero}", f.shots[1]),
                None,
            )
            .await;
        assert_eq!(r.status(), 404, "it is no longer cast there");
        let (_, shots_of_hero) = srv
            .get(&a.token, &format!("/api/v1/assets/{hero}/shots"))
            .await;
        assert_eq!(shots_of_hero["items"].as_array().unwrap().len(), 1);

        // Deleting: an asset with tasks stays; one without goes, with its casting.
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/tasks",
                json!({"tasks": [{"asset_id": hero, "task_type_id": f.types[0]["id"]}]}),
            )
            .await;
        assert_eq!(s, 201);
        let r = srv
            .call(
                &a.token,
                Method::DELETE,
                &format!("/api/v1/assets/{hero}"),
                None,
            )
            .await;
        assert_eq!(r.status(), 409);
        let (_, v) = json(r).await;
        assert_eq!(v["code"], "tracking.asset_has_tasks");
        let r = srv
            .call(
                &viewer,
                Method::DELETE,
                &format!("/api/v1/assets/{sword}"),
                None,
            )
            .await;
        assert_eq!(r.status(), 403);
        let r = srv
            .http
            .delete(format!("{}/api/v1/assets/{sword}", srv.base))
            .bearer_auth(&a.token)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "a stale delete is refused");
        let r = srv
            .http
            .delete(format!("{}/api/v1/assets/{sword}", srv.base))
            .bearer_auth(&a.token)
            .header("if-match", "\"2\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let (s, _) = srv.get(&a.token, &format!("/api/v1/assets/{sword}")).await;
        assert_eq!(s, 404);
        let (_, in_shot) = srv
            .get(&a.token, &format!("/api/v1/shots/{}/assets", f.shots[0]))
            .await;
        assert_eq!(in_shot["items"].as_array().unwrap().len(), 1);
        let (_, audit) = srv
            .get(&a.token, "/api/v1/audit?action=casting.added")
            .await;
        assert_eq!(audit["total"], 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_on_assets_and_shots() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let f = production(&srv, &a.token, "MOON").await;
        let hero = asset(&srv, &a.token, &f.project, "character", "Hero").await;
        let castle = asset(&srv, &a.token, &f.project, "environment", "Castle").await;
        let ty = |i: usize| f.types[i]["id"].clone();

        // One request mixes shot and asset targets.
        let tasks = json!({"tasks": [
            {"asset_id": hero, "task_type_id": ty(1)},
            {"asset_id": hero, "task_type_id": ty(0)},
            {"asset_id": castle, "task_type_id": ty(3)},
            {"shot_id": f.shots[0], "task_type_id": ty(4)},
        ]});
        let (s, created) = srv.post(&a.token, "/api/v1/tasks", tasks).await;
        assert_eq!(s, 201, "{created}");
        let first = &created["items"][0];
        assert_eq!(first["asset_id"], json!(hero));
        assert!(first["shot_id"].is_null() && first["sequence_id"].is_null());
        assert!(created["items"][3]["asset_id"].is_null());
        assert!(created["items"][3]["sequence_id"].is_string());

        for (body, status) in [
            (json!({"tasks": [{"asset_id": hero, "shot_id": f.shots[1], "task_type_id": ty(2)}]}), 422),
            (json!({"tasks": [{"task_type_id": ty(2)}]}), 422),
            (json!({"tasks": [{"asset_id": hero, "task_type_id": ty(0)}]}), 409),
            (json!({"tasks": [{"asset_id": uuid::Uuid::now_v7(), "task_type_id": ty(0)}]}), 404),
        ] {
            let (s, v) = srv.post(&a.token, "/api/v1/tasks", body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
        }
        // A task type of another project is not one of this asset's project.
        let other = production(&srv, &a.token, "OTHER").await;
        let (s, _) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": [{"asset_id": castle, "task_type_id": other.types[0]["id"]}]})).await;
        assert_eq!(s, 422);

        let (_, hero_tasks) = srv.get(&a.token, &format!("/api/v1/assets/{hero}/tasks")).await;
        let order: Vec<&Value> = hero_tasks["items"].as_array().unwrap().iter().map(|t| &t["task_type_id"]).collect();
        assert_eq!(order, [&ty(0), &ty(1)], "in pipeline order");
        let (s, _) = srv.get(&a.token, &format!("/api/v1/assets/{}/tasks", uuid::Uuid::now_v7())).await;
        assert_eq!(s, 404);

        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?project_id={}&entity=asset", f.project)).await;
        assert_eq!(v["total"], 3);
        let (_, v) = srv.get(&a.token, "/api/v1/tasks?entity=shot").await;
        assert_eq!(v["total"], 1);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?task_type_id={}&entity=asset", ty(1).as_str().unwrap())).await;
        assert_eq!(v["total"], 1);
        let (_, v) = srv.get(&a.token, "/api/v1/tasks?entity=asset&limit=2").await;
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        let (_, v2) = srv.get(&a.token, &format!("/api/v1/tasks?entity=asset&limit=2&cursor={}", v["next_cursor"].as_str().unwrap())).await;
        assert_eq!(v2["items"].as_array().unwrap().len(), 1);
        let (s, _) = srv.get(&a.token, "/api/v1/tasks?entity=sequence").await;
        assert_eq!(s, 400);
        let (_, v) = srv.get(&a.token, "/api/v1/tasks").await;
        assert_eq!(v["total"], 4, "without a filter, both kinds");

        // An asset task moves through the same workflow, with notes.
        let task = first["id"].as_str().unwrap();
        let (_, statuses) = srv.get(&a.token, &format!("/api/v1/projects/{}/statuses", f.project)).await;
        let wip = statuses["items"][1]["id"].clone();
        let r = srv.http.patch(format!("{}/api/v1/tasks/{task}", srv.base)).bearer_auth(&a.token).header("if-match", "\"1\"").json(&json!({"status_id": wip})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let (s, v) = srv.post(&a.token, &format!("/api/v1/tasks/{task}/notes"), json!({"body": "turnaround approved"})).await;
        assert_eq!(s, 201, "{v}");
        let (_, shot_tasks) = srv.get(&a.token, &format!("/api/v1/shots/{}/tasks", f.shots[0])).await;
        assert_eq!(shot_tasks["items"].as_array().unwrap().len(), 1, "a shot's tasks are still its own");
    })
    .await;
}
