//! Time logs: minutes on a task for a day, listed by task and by person over a range of days,
//! the total on the task, and corrections that only the person who logged may make.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

async fn one_task(srv: &Srv, token: &str) -> String {
    let (_, p) = srv.post(token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
    let project = p["id"].as_str().unwrap();
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
    let (s, tasks) = srv
        .post(
            token,
            "/api/v1/tasks",
            json!({"tasks": [{"asset_id": hero["id"], "task_type_id": types["items"][0]["id"]}]}),
        )
        .await;
    assert_eq!(s, 201, "{tasks}");
    tasks["items"][0]["id"].as_str().unwrap().to_string()
}

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
async fn people_log_time_on_tasks() {
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
        let task = one_task(&srv, &a.token).await;
        let logs = format!("/api/v1/tasks/{task}/time-logs");

        let (s, first) = srv
            .post(
                &artist_token,
                &logs,
                json!({"date": "2027-01-04", "minutes": 90, "comment": "blocking"}),
            )
            .await;
        assert_eq!(s, 201, "{first}");
        assert_eq!(first["user_id"], json!(artist.id));
        let (s, _) = srv
            .post(
                &artist_token,
                &logs,
                json!({"date": "2027-01-05", "minutes": 60}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, _) = srv
            .post(
                &a.token,
                &logs,
                json!({"date": "2027-01-05", "minutes": 30}),
            )
            .await;
        assert_eq!(s, 201);
        for body in [
            json!({"date": "2027-01-05", "minutes": 0}),
            json!({"date": "2027-01-05", "minutes": 1441}),
            json!({"date": "05/01/2027", "minutes": 10}),
            json!({"date": "2027-13-01", "minutes": 10}),
            json!({"date": "2027-01-05", "minutes": 10, "billable": true}),
            json!({"minutes": 10}),
        ] {
            let (s, v) = srv.post(&artist_token, &logs, body.clone()).await;
            assert_eq!(s, 422, "{body}: {v}");
        }
        let (s, _) = srv
            .post(&viewer, &logs, json!({"date": "2027-01-05", "minutes": 10}))
            .await;
        assert_eq!(s, 403, "a viewer logs no time");
        let (s, _) = srv
            .post(
                &artist_token,
                &format!("/api/v1/tasks/{}/time-logs", uuid::Uuid::now_v7()),
                json!({"date": "2027-01-05", "minutes": 10}),
            )
            .await;
        assert_eq!(s, 404);

        // The task carries its total.
        let r = srv
            .call(&viewer, Method::GET, &format!("/api/v1/tasks/{task}"), None)
            .await;
        assert_eq!(r.headers()["etag"], "\"1\"");
        let (_, t) = json(r).await;
        assert_eq!(t["logged_minutes"], 180);
        assert!(
            t["asset_id"].is_string(),
            "the task's own fields are all there: {t}"
        );

        // By task, by person, by range of days.
        let (_, v) = srv.get(&viewer, &logs).await;
        assert_eq!(v["total"], 3);
        let (_, v) = srv.get(&viewer, &format!("{logs}?from=2027-01-05")).await;
        assert_eq!(v["total"], 2);
        let (_, v) = srv.get(&viewer, &format!("{logs}?to=2027-01-04")).await;
        assert_eq!(v["total"], 1);
        let (_, mine) = srv.get(&artist_token, "/api/v1/time-logs").await;
        assert_eq!(mine["total"], 2, "mine by default");
        let (_, v) = srv
            .get(
                &artist_token,
                "/api/v1/time-logs?person=me&from=2027-01-05&to=2027-01-05",
            )
            .await;
        assert_eq!(v["total"], 1);
        assert_eq!(v["items"][0]["minutes"], 60);
        let (_, v) = srv
            .get(
                &a.token,
                &format!(
                    "/api/v1/time-logs?person={}&task_id={task}&limit=1",
                    artist.id
                ),
            )
            .await;
        assert_eq!(v["total"], 2);
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        let (_, v) = srv.get(&viewer, "/api/v1/time-logs").await;
        assert_eq!(v["total"], 0);
        let (s, _) = srv.get(&a.token, "/api/v1/time-logs?person=bob").await;
        assert_eq!(s, 400);
        let (s, _) = srv.get(&a.token, "/api/v1/time-logs?from=yesterday").await;
        assert_eq!(s, 422);

        // Only the person who logged the time changes it, and not from a stale copy.
        let id = first["id"].as_str().unwrap();
        let one = format!("/api/v1/time-logs/{id}");
        let (s, v) = patch(
            &srv,
            &artist_token,
            &one,
            "\"1\"",
            json!({"minutes": 120, "comment": "blocking and notes"}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["version"], 2);
        let (s, _) = patch(&srv, &artist_token, &one, "\"1\"", json!({"minutes": 100})).await;
        assert_eq!(s, 409);
        let (s, v) = patch(&srv, &a.token, &one, "\"2\"", json!({"minutes": 10})).await;
        assert_eq!(s, 403, "{v}");
        assert_eq!(v["code"], "tracking.not_your_time_log");
        let (s, _) = patch(&srv, &artist_token, &one, "\"2\"", json!({"minutes": -5})).await;
        assert_eq!(s, 422);
        let (s, _) = patch(
            &srv,
            &artist_token,
            &one,
            "\"2\"",
            json!({"date": "2027-02-30x"}),
        )
        .await;
        assert_eq!(s, 422);
        let (_, t) = srv.get(&viewer, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["logged_minutes"], 210);

        let r = srv.call(&a.token, Method::DELETE, &one, None).await;
        assert_eq!(r.status(), 403);
        let r = srv
            .http
            .delete(format!("{}{one}", srv.base))
            .bearer_auth(&artist_token)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = srv.call(&artist_token, Method::DELETE, &one, None).await;
        assert_eq!(r.status(), 204);
        let (s, _) = srv.get(&artist_token, &one).await;
        assert_eq!(s, 404);
        let (_, t) = srv.get(&viewer, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["logged_minutes"], 90);
    })
    .await;
}
