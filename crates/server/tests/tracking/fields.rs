//! Custom fields: definitions per project and entity, values checked against their kind, the
//! `field.<key>` filters of the task list (numbers and dates compare as such, through an index),
//! and who may change what.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

struct Fixture {
    project: String,
    shots: Vec<String>,
    tasks: Vec<String>,
    asset: String,
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
    let edl = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n002  A002 V C 10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00\n003  A003 V C 10:00:00:00 10:00:01:00 01:00:02:00 01:00:03:00\n";
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
    let shots: Vec<String> = shots["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let comp = &types["items"][4]["id"];
    let new: Vec<Value> = shots
        .iter()
        .map(|s| json!({"shot_id": s, "task_type_id": comp}))
        .collect();
    let (s, created) = srv
        .post(token, "/api/v1/tasks", json!({"tasks": new}))
        .await;
    assert_eq!(s, 201, "{created}");
    let tasks = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let (s, a) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/assets"),
            json!({"kind": "character", "name": "Hero"}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    Fixture {
        project,
        shots,
        tasks,
        asset: a["id"].as_str().unwrap().to_string(),
    }
}

async fn patch(srv: &Srv, token: &str, path: &str, body: Value) -> (u16, Value) {
    json(srv.call(token, Method::PATCH, path, Some(body)).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_and_values() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, viewer) = srv.member(&a, "viewer@alpha.example", Role::Viewer, &[TokenScope::Read, TokenScope::Write]).await;
        let (_, artist) = srv.member(&a, "artist@alpha.example", Role::Artist, &[TokenScope::Read, TokenScope::Write]).await;
        let (_, coordinator) = srv.member(&a, "coordinator@alpha.example", Role::Coordinator, &[TokenScope::Read, TokenScope::Write]).await;
        let f = production(&srv, &a.token).await;
        let defs = format!("/api/v1/projects/{}/fields", f.project);

        for body in [
            json!({"entity": "task", "key": "bid_days", "name": "Bid (days)", "kind": "number", "sort_order": 1}),
            json!({"entity": "task", "key": "client_due", "name": "Client due", "kind": "date", "sort_order": 2}),
            json!({"entity": "task", "key": "grade", "name": "Complexity", "kind": "choice", "choices": ["easy", "medium", "hard"]}),
            json!({"entity": "task", "key": "brief", "name": "Brief", "kind": "text"}),
            json!({"entity": "shot", "key": "lens", "name": "Lens", "kind": "text"}),
            json!({"entity": "asset", "key": "rig", "name": "Rig", "kind": "choice", "choices": ["proxy", "full"]}),
        ] {
            let (s, v) = srv.post(&a.token, &defs, body.clone()).await;
            assert_eq!(s, 201, "{body}: {v}");
        }
        for (body, status) in [
            (json!({"entity": "task", "key": "Bid", "name": "Bid", "kind": "number"}), 422),
            (json!({"entity": "task", "key": "bid.days", "name": "Bid", "kind": "number"}), 422),
            (json!({"entity": "task", "key": "bid_days", "name": "Bid again", "kind": "number"}), 409),
            (json!({"entity": "task", "key": "mood", "name": "Mood", "kind": "choice"}), 422),
            (json!({"entity": "task", "key": "mood", "name": "Mood", "kind": "choice", "choices": ["a", "a"]}), 422),
            (json!({"entity": "task", "key": "mood", "name": "Mood", "kind": "text", "choices": ["a"]}), 422),
            (json!({"entity": "task", "key": "mood", "name": "Mood", "kind": "colour"}), 422),
            (json!({"entity": "sequence", "key": "mood", "name": "Mood", "kind": "text"}), 422),
        ] {
            let (s, v) = srv.post(&a.token, &defs, body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
        }
        let mood = json!({"entity": "task", "key": "mood", "name": "Mood", "kind": "text"});
        assert_eq!(srv.post(&viewer, &defs, mood.clone()).await.0, 403);
        assert_eq!(srv.post(&artist, &defs, mood.clone()).await.0, 403, "defining fields is production management");

        let (_, list) = srv.get(&a.token, &format!("{defs}?entity=task")).await;
        let keys: Vec<&str> = list["items"].as_array().unwrap().iter().map(|d| d["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["grade", "brief", "bid_days", "client_due"], "in display order, then creation order");
        assert_eq!(list["items"][0]["choices"], json!(["easy", "medium", "hard"]));
        assert_eq!(srv.get(&a.token, &format!("{defs}?entity=sequence")).await.0, 400);

        // Values, checked against their field.
        let task = format!("/api/v1/tasks/{}/fields", f.tasks[0]);
        let (s, _) = patch(&srv, &artist, &task, json!({"bid_days": 2.5})).await;
        assert_eq!(s, 403, "values are the coordinator's planning");
        let (s, v) = patch(&srv, &coordinator, &task, json!({"bid_days": 2.5, "client_due": "2027-03-01", "grade": "hard", "brief": "  match the plate  "})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v, json!({"bid_days": 2.5, "client_due": "2027-03-01", "grade": "hard", "brief": "match the plate"}));
        for (body, field) in [
            (json!({"bid_days": "lots"}), "bid_days"),
            (json!({"client_due": "2027-02-30"}), "client_due"),
            (json!({"client_due": "01/03/2027"}), "client_due"),
            (json!({"grade": "extreme"}), "grade"),
            (json!({"brief": "x".repeat(2001)}), "brief"),
            (json!({"brief": 12}), "brief"),
            (json!({"lens": "35mm"}), "lens"),
            (json!({"nothing": 1}), "nothing"),
        ] {
            let (s, v) = patch(&srv, &a.token, &task, body.clone()).await;
            assert_eq!((s, v["field"].as_str()), (422, Some(field)), "{body}: {v}");
            assert_eq!(v["code"], "invalid_field");
        }
        assert_eq!(patch(&srv, &viewer, &task, json!({"bid_days": 1})).await.0, 403, "a viewer changes nothing");
        let (s, v) = patch(&srv, &a.token, &task, json!({"brief": null, "bid_days": "3"})).await;
        assert_eq!(s, 200, "{v}");
        let (_, v) = srv.get(&viewer, &task).await;
        assert_eq!(v, json!({"bid_days": 3, "client_due": "2027-03-01", "grade": "hard", "brief": null}), "null cleared, the rest kept");
        let (s, v) = patch(&srv, &a.token, &format!("/api/v1/shots/{}/fields", f.shots[0]), json!({"lens": "35mm"})).await;
        assert_eq!((s, v.clone()), (200, json!({"lens": "35mm"})), "{v}");
        let (s, v) = patch(&srv, &a.token, &format!("/api/v1/assets/{}/fields", f.asset), json!({"rig": "full"})).await;
        assert_eq!((s, v.clone()), (200, json!({"rig": "full"})), "{v}");
        assert_eq!(patch(&srv, &a.token, &format!("/api/v1/tasks/{}/fields", uuid::Uuid::now_v7()), json!({})).await.0, 404);

        // A choice in use stays; renaming and reordering need the current version.
        let grade = list["items"][0]["id"].as_str().unwrap();
        let field = format!("/api/v1/fields/{grade}");
        let (s, v) = patch(&srv, &a.token, &field, json!({"choices": ["easy", "medium"]})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("tracking.choice_in_use")), "{v}");
        let r = srv.http.patch(format!("{}{field}", srv.base)).bearer_auth(&a.token).header("if-match", "\"1\"")
            .json(&json!({"name": "Difficulty", "choices": ["easy", "medium", "hard", "insane"]})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = srv.http.patch(format!("{}{field}", srv.base)).bearer_auth(&a.token).header("if-match", "\"1\"")
            .json(&json!({"name": "Grade"})).send().await.unwrap();
        assert_eq!(r.status(), 409, "no lost update");
        let (_, v) = srv.get(&a.token, &field).await;
        assert_eq!((v["name"].as_str(), v["version"].as_i64(), v["key"].as_str()), (Some("Difficulty"), Some(2), Some("grade")));

        // Changes are recorded in the project's activity.
        let (_, feed) = srv.get(&a.token, &format!("/api/v1/projects/{}/activity", f.project)).await;
        let actions: Vec<&str> = feed["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"custom_values.updated"), "{actions:?}");
        assert!(actions.contains(&"custom_field.updated"), "{actions:?}");

        // Deleting a field takes its values with it.
        let r = srv.call(&a.token, Method::DELETE, &field, None).await;
        assert_eq!(r.status(), 204);
        let (_, v) = srv.get(&a.token, &task).await;
        assert!(v.get("grade").is_none(), "{v}");
        assert_eq!(srv.get(&a.token, &field).await.0, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_filter_by_custom_fields() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let f = production(&srv, &a.token).await;
        let defs = format!("/api/v1/projects/{}/fields", f.project);
        for body in [
            json!({"entity": "task", "key": "bid_days", "name": "Bid", "kind": "number"}),
            json!({"entity": "task", "key": "client_due", "name": "Client due", "kind": "date"}),
            json!({"entity": "task", "key": "grade", "name": "Grade", "kind": "choice", "choices": ["easy", "hard"]}),
            json!({"entity": "shot", "key": "lens", "name": "Lens", "kind": "text"}),
        ] {
            assert_eq!(srv.post(&a.token, &defs, body).await.0, 201);
        }
        // 2 < 10 as numbers, though "10" < "2" as text.
        for (task, bid, due, grade) in [(0, 2, "2027-03-01", "hard"), (1, 10, "2027-03-15", "easy"), (2, 1, "2027-04-02", "hard")] {
            let (s, v) = patch(&srv, &a.token, &format!("/api/v1/tasks/{}/fields", f.tasks[task]), json!({"bid_days": bid, "client_due": due, "grade": grade})).await;
            assert_eq!(s, 200, "{v}");
        }
        let ids = |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect() };
        for (query, expected) in [
            ("field.bid_days.gte=2", vec![0, 1]),
            ("field.bid_days=10.0", vec![1]),
            ("field.bid_days.gte=2&field.bid_days.lte=5", vec![0]),
            ("field.client_due.gte=2027-03-02&field.client_due.lte=2027-04-30", vec![1, 2]),
            ("field.client_due=2027-03-01", vec![0]),
            ("field.grade=hard", vec![0, 2]),
            ("field.grade=hard&field.bid_days.lte=1.5", vec![2]),
            ("field.grade=medium", vec![]),
        ] {
            let (s, v) = srv.get(&a.token, &format!("/api/v1/tasks?project_id={}&{query}", f.project)).await;
            assert_eq!(s, 200, "{query}: {v}");
            let want: Vec<String> = expected.iter().map(|i: &usize| f.tasks[*i].clone()).collect();
            assert_eq!(ids(&v), want, "{query}");
            assert_eq!(v["total"], expected.len(), "{query}");
        }
        // Combined with the built-in filters, and across projects without project_id.
        let (_, statuses) = srv.get(&a.token, &format!("/api/v1/projects/{}/statuses", f.project)).await;
        let wip = statuses["items"].as_array().unwrap().iter().find(|s| s["short_name"] == "wip").unwrap()["id"].as_str().unwrap().to_string();
        let r = srv.call(&a.token, Method::PATCH, &format!("/api/v1/tasks/{}", f.tasks[2]), Some(json!({"status_id": wip}))).await;
        assert_eq!(r.status(), 200);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?status_id={wip}&field.grade=hard")).await;
        assert_eq!(ids(&v), vec![f.tasks[2].clone()]);
        let (_, v) = srv.get(&a.token, "/api/v1/tasks?field.grade=hard&limit=1").await;
        assert_eq!((ids(&v), v["total"].as_i64()), (vec![f.tasks[0].clone()], Some(2)));
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks?field.grade=hard&limit=1&cursor={}", v["next_cursor"].as_str().unwrap())).await;
        assert_eq!(ids(&v), vec![f.tasks[2].clone()]);

        for (query, status, field) in [
            ("field.nothing=1", 422, Some("field.nothing")),
            ("field.lens=35mm", 422, Some("field.lens")),
            ("field.grade.gte=easy", 422, Some("field.grade")),
            ("field.bid_days.gte=many", 422, Some("field.bid_days")),
            ("field.client_due.lte=soon", 422, Some("field.client_due")),
            ("field.Grade=hard", 400, None),
            ("field.grade.between=1", 400, None),
            ("fields=1", 400, None),
        ] {
            let (s, v) = srv.get(&a.token, &format!("/api/v1/tasks?{query}")).await;
            assert_eq!((s, v["field"].as_str()), (status, field), "{query}: {v}");
        }

        // The filters read the indexes made for them.
        let plan_sql = "SELECT v.entity_id FROM custom_fields d JOIN custom_values v ON v.field_id = d.id
                        WHERE d.org_id = $1 AND d.entity = 'task' AND d.key = $2 AND v.num >= $3";
        let plan: String = match srv.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", srv.url)).await.unwrap();
                let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {plan_sql}")))
                    .bind(a.org.id).bind("bid_days").bind(2.0).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&srv.url).await.unwrap();
                sqlx::query("SET enable_seqscan = off").execute(&mut c).await.unwrap();
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {plan_sql}")))
                    .bind(a.org.id).bind("bid_days").bind(2.0).fetch_all(&mut c).await.unwrap();
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
            }
        };
        assert!(plan.contains("custom_values_num"), "{plan}");
        assert!(plan.contains("custom_fields_key"), "{plan}");
    })
    .await;
}
