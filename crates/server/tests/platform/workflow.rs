//! Who may set which status: the roles each status of the workflow names, artists only on their
//! own tasks, producers changing the workflow; and the pages offering only what the viewer may do.

use crate::common::*;
use crate::pages::{Browser, CUT};
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_follow_the_roles_of_the_workflow() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let rw = [TokenScope::Read, TokenScope::Write];
        let (artist, artist_t) = srv.member(&a, "li.na@alpha.example", Role::Artist, &rw).await;
        let (_, other_t) = srv.member(&a, "zhao.min@alpha.example", Role::Artist, &rw).await;
        let (_, sup_t) = srv.member(&a, "wang.lei@alpha.example", Role::Supervisor, &rw).await;
        let (_, coord_t) = srv.member(&a, "zhang.wei@alpha.example", Role::Coordinator, &rw).await;
        let (_, prod_t) = srv.member(&a, "chen.jing@alpha.example", Role::Producer, &rw).await;
        let (_, client_t) = srv.member(&a, "client@alpha.example", Role::Client, &rw).await;

        let (s, p) = srv.post(&prod_t, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 4096, "height": 2160})).await;
        assert_eq!(s, 201, "a producer creates projects: {p}");
        let pid = p["id"].as_str().unwrap().to_string();
        let (s, _) = srv.post(&sup_t, "/api/v1/projects", json!({"name": "Other", "code": "OTH", "fps": "24", "width": 1920, "height": 1080})).await;
        assert_eq!(s, 403, "a supervisor does not");
        let (s, seq) = srv.post(&coord_t, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        assert_eq!(s, 201, "a coordinator creates sequences: {seq}");
        let seq = seq["id"].as_str().unwrap().to_string();
        let (s, _) = srv.post(&artist_t, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true})).await;
        assert_eq!(s, 403, "an artist does not apply cuts");
        let (s, _) = srv.post(&coord_t, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true})).await;
        assert_eq!(s, 200, "a coordinator does");
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (_, statuses) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/statuses")).await;
        let st = |short: &str| -> String {
            statuses["items"].as_array().unwrap().iter().find(|s| s["short_name"] == short).unwrap()["id"].as_str().unwrap().to_string()
        };
        let set_by = |short: &str| -> Value {
            statuses["items"].as_array().unwrap().iter().find(|s| s["short_name"] == short).unwrap()["set_by"].clone()
        };
        assert_eq!(set_by("wip"), json!(["supervisor", "artist"]));
        assert_eq!(set_by("done"), json!(["supervisor"]));
        assert_eq!(set_by("approved"), json!(["producer", "supervisor", "client"]));
        assert_eq!(set_by("todo"), json!(["producer", "coordinator", "supervisor"]));
        let ty = types["items"][0]["id"].clone();
        let (s, tasks) = srv
            .post(&coord_t, "/api/v1/tasks", json!({"tasks": [
                {"shot_id": shots["items"][0]["id"], "task_type_id": ty, "assignees": [artist.id]},
                {"shot_id": shots["items"][1]["id"], "task_type_id": ty},
            ]}))
            .await;
        assert_eq!(s, 201, "a coordinator creates and assigns tasks: {tasks}");
        let mine = tasks["items"][0]["id"].as_str().unwrap().to_string();
        let theirs = tasks["items"][1]["id"].as_str().unwrap().to_string();

        let set = |token: String, task: String, body: Value| {
            let srv = srv.clone();
            async move {
                let r = srv.call(&token, Method::PATCH, &format!("/api/v1/tasks/{task}"), Some(body)).await;
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap();
                (status, v["code"].as_str().unwrap_or("").to_string(), v)
            }
        };
        let status_of = |task: String| {
            let srv = srv.clone();
            let token = a.token.clone();
            async move { srv.get(&token, &format!("/api/v1/tasks/{task}")).await.1["status_id"].as_str().unwrap().to_string() }
        };

        // An artist moves their own work along and hands it in, and nothing else.
        for short in ["wip", "wfa"] {
            let (s, _, v) = set(artist_t.clone(), mine.clone(), json!({"status_id": st(short)})).await;
            assert_eq!(s, 200, "an artist sets {short} on their own task: {v}");
        }
        for short in ["done", "retake", "approved", "todo"] {
            let (s, code, _) = set(artist_t.clone(), mine.clone(), json!({"status_id": st(short)})).await;
            assert_eq!((s, code.as_str()), (403, "tracking.status_not_for_role"), "an artist may not set {short}");
        }
        assert_eq!(status_of(mine.clone()).await, st("wfa"));
        for token in [&artist_t, &other_t] {
            let (s, code, _) = set(token.clone(), theirs.clone(), json!({"status_id": st("wip")})).await;
            assert_eq!((s, code.as_str()), (403, "tracking.not_your_task"), "not on a task that is not theirs");
        }
        let (s, code, _) = set(artist_t.clone(), mine.clone(), json!({"priority": 3})).await;
        assert_eq!((s, code.as_str()), (403, "auth.forbidden"), "priorities are the coordinator's");
        // A note carrying a status, and a bulk change, follow the same rules, all or nothing.
        let (s, _) = srv.post(&artist_t, &format!("/api/v1/tasks/{theirs}/notes"), json!({"body": "done!", "status_id": st("wfa")})).await;
        assert_eq!(s, 403);
        let (_, notes) = srv.get(&a.token, &format!("/api/v1/tasks/{theirs}/notes")).await;
        assert_eq!(notes["items"].as_array().unwrap().len(), 0, "the refused note was not kept");
        let (s, v) = srv
            .post(&artist_t, "/api/v1/tasks/bulk-update", json!({"updates": [{"id": mine, "status_id": st("wip")}, {"id": theirs, "status_id": st("wip")}]}))
            .await;
        assert_eq!((s, v["code"].as_str()), (403, Some("tracking.not_your_task")));
        assert_eq!(status_of(mine.clone()).await, st("wfa"), "nothing of the batch was applied");
        let (s, _) = srv.post(&artist_t, &format!("/api/v1/tasks/{mine}/notes"), json!({"body": "v2 is up", "status_id": st("wip")})).await;
        assert_eq!(s, 201, "on their own task, with a note");

        // A supervisor gives retakes and finals; a coordinator does not, but assigns.
        for short in ["retake", "done"] {
            let (s, _, v) = set(sup_t.clone(), mine.clone(), json!({"status_id": st(short)})).await;
            assert_eq!(s, 200, "{v}");
        }
        let (s, code, _) = set(coord_t.clone(), theirs.clone(), json!({"status_id": st("done")})).await;
        assert_eq!((s, code.as_str()), (403, "tracking.status_not_for_role"));
        let (s, _, v) = set(coord_t.clone(), theirs.clone(), json!({"assignees": [artist.id], "priority": 2})).await;
        assert_eq!(s, 200, "{v}");
        let (s, _, v) = set(artist_t.clone(), theirs.clone(), json!({"status_id": st("wip")})).await;
        assert_eq!(s, 200, "assigned now, the artist starts it: {v}");

        // The client's reviewer approves; writes notes; hands in nothing.
        let (s, _, v) = set(client_t.clone(), mine.clone(), json!({"status_id": st("approved")})).await;
        assert_eq!(s, 200, "{v}");
        let (s, code, _) = set(client_t.clone(), mine.clone(), json!({"status_id": st("retake")})).await;
        assert_eq!((s, code.as_str()), (403, "tracking.status_not_for_role"));
        let (s, _) = srv.post(&client_t, &format!("/api/v1/tasks/{mine}/notes"), json!({"body": "Lovely."})).await;
        assert_eq!(s, 201);
        let (s, _) = srv.post(&client_t, &format!("/api/v1/tasks/{mine}/versions"), json!({"comment": "x"})).await;
        assert_eq!(s, 403);

        // A producer changes the workflow; a coordinator may not.
        let (s, code, _) = set(prod_t.clone(), theirs.clone(), json!({"status_id": st("done")})).await;
        assert_eq!((s, code.as_str()), (403, "tracking.status_not_for_role"));
        let done = format!("/api/v1/statuses/{}", st("done"));
        let r = srv.call(&coord_t, Method::PATCH, &done, Some(json!({"set_by": ["coordinator"]}))).await;
        assert_eq!(r.status(), 403);
        let r = srv.call(&prod_t, Method::PATCH, &done, Some(json!({"set_by": ["wizard"]}))).await;
        assert_eq!(r.status(), 422, "an unknown role is refused");
        let r = srv.call(&prod_t, Method::PATCH, &done, Some(json!({"set_by": ["supervisor", "producer", "producer"]}))).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["set_by"], json!(["producer", "supervisor"]));
        let (s, _, v) = set(prod_t.clone(), theirs.clone(), json!({"status_id": st("done")})).await;
        assert_eq!(s, 200, "the workflow now lets producers give finals: {v}");
        let (s, _, v) = set(a.token.clone(), theirs.clone(), json!({"status_id": st("todo")})).await;
        assert_eq!(s, 200, "an owner sets any status: {v}");

        // The pages offer what the viewer may do, and a refusal keeps the navigation.
        let li = Browser::sign_in(&srv, "li.na@alpha.example", "correct horse battery").await;
        let (_, page) = li.get(&format!("/app/tasks/{mine}")).await;
        assert!(page.contains("name=\"status_id\""), "their own task offers statuses");
        let offered: Vec<&str> = page.split("<option value=\"").skip(1).filter_map(|o| o.get(..36)).collect();
        assert!(offered.contains(&st("wip").as_str()) && offered.contains(&st("wfa").as_str()));
        assert!(!offered.contains(&st("done").as_str()) && !offered.contains(&st("approved").as_str()), "no status they cannot set");
        let (_, page) = li.get(&format!("/app/tasks/{theirs}")).await;
        assert!(page.contains("/app/tasks/") && page.contains("name=\"body\""), "an artist may still write a note");
        let (_, page) = li.get(&format!("/app/projects/{pid}/shots?sequence={seq}")).await;
        assert!(page.contains("\"own_only\":true"));
        assert!(!page.contains("/add-tasks"), "an artist does not add tasks");
        assert!(!page.contains("href=\"/app/audit\"") && !page.contains("href=\"/app/webhooks\""), "no links that end in a refusal");
        assert!(!page.contains("href=\"/app/overview\""), "an artist has no overview of people's hours");
        assert_eq!(li.get("/app/overview").await.0, 403);
        let (s, page) = li.post("/app/projects", &[("name", "Mine"), ("code", "MINE"), ("fps", "24"), ("width", "1920"), ("height", "1080")]).await;
        assert_eq!(s, 403);
        assert!(page.contains("class=\"top\"") && page.contains("href=\"/app/my-tasks\""), "the refusal keeps the navigation: {page}");
        assert!(page.contains("data-testid=\"refused\""));
        let chen = Browser::sign_in(&srv, "chen.jing@alpha.example", "correct horse battery").await;
        let (_, page) = chen.get("/app/projects").await;
        assert!(page.contains("href=\"/app/audit\""), "a producer reads the audit log");
        let (s, _) = chen.get("/app/audit").await;
        assert_eq!(s, 200);
    })
    .await;
}
