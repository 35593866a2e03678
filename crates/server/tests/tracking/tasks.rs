//! Tasks: the seeded workflow, creating tasks in bulk, the reads a shot grid needs, filtered
//! lists, optimistic concurrency, atomic bulk changes, and notes that change a status.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

struct Fixture {
    project: String,
    sequence: String,
    shots: Vec<String>,
    types: Vec<Value>,
    statuses: Vec<Value>,
}

async fn production(srv: &Srv, token: &str) -> Fixture {
    let (_, p) = srv.post(token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
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
    let shots = shots["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let (_, statuses) = srv
        .get(token, &format!("/api/v1/projects/{project}/statuses"))
        .await;
    Fixture {
        project,
        sequence,
        shots,
        // The shot steps; the asset steps follow them in the project's list.
        types: types["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["entity"] == "shot")
            .cloned()
            .collect(),
        statuses: statuses["items"].as_array().unwrap().clone(),
    }
}

fn status<'a>(f: &'a Fixture, short: &str) -> &'a str {
    f.statuses
        .iter()
        .find(|s| s["short_name"] == short)
        .unwrap()["id"]
        .as_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_for_a_shot_grid() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (artist, artist_token) = srv.member(&a, "artist@alpha.example", Role::Artist, &[TokenScope::Read, TokenScope::Write]).await;
        let f = production(&srv, &a.token).await;
        assert_eq!(f.statuses.len(), 6, "a project starts with a workflow");
        assert_eq!(f.types.len(), 6, "and with pipeline steps for shots");
        let (_, all) = srv.get(&a.token, &format!("/api/v1/projects/{}/task-types", f.project)).await;
        let for_assets: Vec<&Value> = all["items"].as_array().unwrap().iter().filter(|t| t["entity"] == "asset").collect();
        assert_eq!(for_assets.iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Concept", "Modelling", "Rigging", "Texturing", "Lookdev"], "and for assets");
        assert!(f.statuses.iter().any(|s| s["needs_review"] == true && s["short_name"] == "wfa"));

        // Every shot gets every task type, in one atomic request; the artist gets the comps.
        let mut tasks = Vec::new();
        for shot in &f.shots {
            for ty in &f.types {
                let assignees = if ty["short_name"] == "comp" { json!([artist.id]) } else { json!([]) };
                tasks.push(json!({"shot_id": shot, "task_type_id": ty["id"], "assignees": assignees, "due_date": "2027-03-01"}));
            }
        }
        let (s, created) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": tasks})).await;
        assert_eq!(s, 201, "{created}");
        assert_eq!(created["items"].as_array().unwrap().len(), 18);
        assert_eq!(created["items"][0]["status_id"], status(&f, "todo"), "the default status");
        // The same task twice is refused, and nothing of that request is kept.
        let again = json!({"tasks": [{"shot_id": f.shots[0], "task_type_id": f.types[0]["id"]}]});
        let (s, _) = srv.post(&a.token, "/api/v1/tasks", again).await;
        assert_eq!(s, 409);

        let (_, shot_tasks) = srv.get(&a.token, &format!("/api/v1/shots/{}/tasks", f.shots[1])).await;
        let order: Vec<&str> = shot_tasks["items"].as_array().unwrap().iter().map(|t| t["task_type_id"].as_str().unwrap()).collect();
        let expected: Vec<&str> = f.types.iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(order, expected, "in pipeline order");
        let (_, seq_tasks) = srv.get(&a.token, &format!("/api/v1/sequences/{}/tasks", f.sequence)).await;
        let seq_tasks = seq_tasks["items"].as_array().unwrap();
        assert_eq!(seq_tasks.len(), 18);
        assert_eq!(seq_tasks[0]["shot_id"], json!(f.shots[0]));
        assert_eq!(seq_tasks[17]["shot_id"], json!(f.shots[2]), "in cut order");

        // "My tasks" and filters.
        let (_, mine) = srv.get(&artist_token, "/api/v1/tasks?assignee=me").await;
        assert_eq!(mine["total"], 3);
        let comp = f.types.iter().find(|t| t["short_name"] == "comp").unwrap()["id"].as_str().unwrap();
        let (_, filtered) = srv.get(&a.token, &format!("/api/v1/tasks?project_id={}&task_type_id={comp}&status_id={}&due_before=2027-03-31&limit=2", f.project, status(&f, "todo"))).await;
        assert_eq!(filtered["total"], 3);
        assert_eq!(filtered["items"].as_array().unwrap().len(), 2);
        let (s, _) = srv.get(&a.token, "/api/v1/tasks?due_before=tomorrow").await;
        assert_eq!(s, 422);

        // The artist moves a comp to "waiting for approval"; a stale second write is refused.
        let task = mine["items"][0]["id"].as_str().unwrap().to_string();
        let patch = |etag: &'static str, to: String| {
            srv.http.patch(format!("{}/api/v1/tasks/{task}", srv.base)).bearer_auth(&artist_token).header("if-match", etag).json(&json!({"status_id": to})).send()
        };
        let r = patch("\"1\"", status(&f, "wfa").to_string()).await.unwrap();
        assert_eq!(r.status(), 200);
        let r = patch("\"1\"", status(&f, "done").to_string()).await.unwrap();
        assert_eq!(r.status(), 409, "no lost update");
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["status_id"], status(&f, "wfa"));
        // A status of another project is not a status of this one.
        let (_, other) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Other", "code": "OTHER", "fps": "24", "width": 1920, "height": 1080})).await;
        let (_, other_statuses) = srv.get(&a.token, &format!("/api/v1/projects/{}/statuses", other["id"].as_str().unwrap())).await;
        let r = srv.call(&a.token, Method::PATCH, &format!("/api/v1/tasks/{task}"), Some(json!({"status_id": other_statuses["items"][1]["id"]}))).await;
        assert_eq!(r.status(), 422);
        // Assignees must be members.
        let r = srv.call(&a.token, Method::PATCH, &format!("/api/v1/tasks/{task}"), Some(json!({"assignees": [uuid::Uuid::now_v7()]}))).await;
        assert_eq!(r.status(), 422);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_changes_and_notes_are_atomic() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let f = production(&srv, &a.token).await;
        let tasks: Vec<Value> = f
            .shots
            .iter()
            .map(|s| json!({"shot_id": s, "task_type_id": f.types[4]["id"]}))
            .collect();
        let (_, created) = srv
            .post(&a.token, "/api/v1/tasks", json!({"tasks": tasks}))
            .await;
        let ids: Vec<String> = created["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();

        // One unknown task in the batch: nothing changes.
        let mut updates: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "status_id": status(&f, "wip")}))
            .collect();
        updates.push(json!({"id": uuid::Uuid::now_v7(), "status_id": status(&f, "wip")}));
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/tasks/bulk-update",
                json!({"updates": updates}),
            )
            .await;
        assert_eq!(s, 404);
        let (_, wip) = srv
            .get(
                &a.token,
                &format!("/api/v1/tasks?status_id={}", status(&f, "wip")),
            )
            .await;
        assert_eq!(wip["total"], 0, "the batch is all or nothing");
        updates.pop();
        // Two changes to one task in a batch are refused: each would be checked against the
        // task as it was.
        let mut twice = updates.clone();
        twice.push(json!({"id": ids[0], "status_id": status(&f, "wip")}));
        let (s, v) = srv
            .post(
                &a.token,
                "/api/v1/tasks/bulk-update",
                json!({"updates": twice}),
            )
            .await;
        assert_eq!(
            (s, v["field"].as_str(), v["reason"].as_str()),
            (422, Some("updates"), Some("one_change_per_task")),
            "{v}"
        );
        let (s, done) = srv
            .post(
                &a.token,
                "/api/v1/tasks/bulk-update",
                json!({"updates": updates}),
            )
            .await;
        assert_eq!(s, 200, "{done}");
        let (_, wip) = srv
            .get(
                &a.token,
                &format!("/api/v1/tasks?status_id={}", status(&f, "wip")),
            )
            .await;
        assert_eq!(wip["total"], 3);

        // A note with a status change: one write. With a stale version, neither happens.
        let task = &ids[0];
        let note = |etag: &'static str, body: &'static str, to: &str| {
            srv.http
                .post(format!("{}/api/v1/tasks/{task}/notes", srv.base))
                .bearer_auth(&a.token)
                .header("if-match", etag)
                .json(&json!({"body": body, "frame": 1012, "status_id": to}))
                .send()
        };
        let (s, v) = json(
            note(
                "\"2\"",
                "edge halo on the left, frame 1012",
                status(&f, "retake"),
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["task"]["status_id"], status(&f, "retake"));
        assert_eq!(v["note"]["status_from"], status(&f, "wip"));
        let (s, _) = json(
            note("\"2\"", "this one is stale", status(&f, "done"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 409);
        let (_, notes) = srv
            .get(&a.token, &format!("/api/v1/tasks/{task}/notes"))
            .await;
        assert_eq!(
            notes["items"].as_array().unwrap().len(),
            1,
            "the stale note was not kept"
        );
        assert_eq!(notes["items"][0]["frame"], 1012);
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["status_id"], status(&f, "retake"));
        // Replies thread under their note.
        let parent = notes["items"][0]["id"].as_str().unwrap();
        let (s, _) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{task}/notes"),
                json!({"body": "fixed in v3", "parent_id": parent}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, _) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{task}/notes"),
                json!({"body": ""}),
            )
            .await;
        assert_eq!(s, 422, "an empty note without a status change says nothing");
        let (_, audit) = srv
            .get(&a.token, "/api/v1/audit?action=task.status_changed")
            .await;
        assert_eq!(audit["total"], 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_tasks_in_a_status_follow_every_kind_of_change() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let f = production(&srv, &a.token).await;
        let me = a.owner.id.to_string();
        let (s, created) = srv
            .post(&a.token, "/api/v1/tasks", json!({"tasks": f.shots.iter().map(|shot| json!({"shot_id": shot, "task_type_id": f.types[0]["id"], "assignees": [me]})).collect::<Vec<_>>()}))
            .await;
        assert_eq!(s, 201, "{created}");
        let ids: Vec<String> = created["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
        let mine = |short: &'static str| {
            let srv = &srv;
            let token = a.token.clone();
            let st = status(&f, short).to_string();
            let project = f.project.clone();
            async move {
                let (_, page) = srv.get(&token, &format!("/api/v1/tasks?assignee=me&status_id={st}&project_id={project}")).await;
                let mut ids: Vec<String> = page["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
                ids.sort();
                assert_eq!(page["total"].as_i64().unwrap() as usize, ids.len());
                // Counted without the project, and without the status, the same tasks.
                let (_, all) = srv.get(&token, &format!("/api/v1/tasks?assignee=me&status_id={st}")).await;
                assert_eq!(all["total"].as_i64().unwrap() as usize, ids.len(), "{all}");
                let (_, any) = srv.get(&token, &format!("/api/v1/tasks?assignee=me&project_id={project}")).await;
                assert_eq!(any["total"].as_i64().unwrap() as usize, any["items"].as_array().unwrap().len(), "{any}");
                ids
            }
        };
        assert_eq!(mine("todo").await.len(), 3);
        assert!(mine("wip").await.is_empty());

        // A PATCH, a bulk change and a note each move the task between the person's lists.
        let s = srv.call(&a.token, Method::PATCH, &format!("/api/v1/tasks/{}", ids[0]), Some(json!({"status_id": status(&f, "wip")}))).await.status().as_u16();
        assert_eq!(s, 200);
        assert_eq!(mine("wip").await, vec![ids[0].clone()]);
        let (s, _) = srv.post(&a.token, "/api/v1/tasks/bulk-update", json!({"updates": [{"id": ids[1], "status_id": status(&f, "wip")}, {"id": ids[0], "status_id": status(&f, "wfa")}]})).await;
        assert_eq!(s, 200);
        assert_eq!(mine("wip").await, vec![ids[1].clone()]);
        assert_eq!(mine("wfa").await, vec![ids[0].clone()]);
        let (s, _) = srv.post(&a.token, &format!("/api/v1/tasks/{}/notes", ids[2]), json!({"body": "on it", "status_id": status(&f, "wip")})).await;
        assert_eq!(s, 201);
        let mut both = vec![ids[1].clone(), ids[2].clone()];
        both.sort();
        assert_eq!(mine("wip").await, both);
        assert!(mine("todo").await.is_empty());

        // Re-assigning keeps the status with the new assignment; the old one is gone.
        let (artist, _) = srv.member(&a, "artist@alpha.example", Role::Artist, &[TokenScope::Read]).await;
        let (s, _) = srv.post(&a.token, "/api/v1/tasks/bulk-update", json!({"updates": [{"id": ids[1], "assignees": [artist.id]}]})).await;
        assert_eq!(s, 200);
        assert_eq!(mine("wip").await, vec![ids[2].clone()]);
        let (_, theirs) = srv.get(&a.token, &format!("/api/v1/tasks?assignee={}&status_id={}", artist.id, status(&f, "wip"))).await;
        assert_eq!(theirs["items"][0]["id"].as_str(), Some(ids[1].as_str()));
        assert_eq!(theirs["total"], 1);
        // Taking the task back from the artist takes it off their count.
        let (s, _) = srv.post(&a.token, "/api/v1/tasks/bulk-update", json!({"updates": [{"id": ids[1], "assignees": []}]})).await;
        assert_eq!(s, 200);
        let (_, theirs) = srv.get(&a.token, &format!("/api/v1/tasks?assignee={}&status_id={}", artist.id, status(&f, "wip"))).await;
        assert_eq!((theirs["total"].as_i64(), theirs["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_lists_sort_by_due_date_and_priority_across_pages() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let f = production(&srv, &a.token).await;
        // Three shots × six steps = 18 tasks with due dates and priorities that repeat, some
        // without a due date.
        let mut batch = Vec::new();
        for (i, shot) in f.shots.iter().enumerate() {
            for (k, ty) in f.types.iter().enumerate() {
                let n = i * 6 + k;
                let due = (n % 4 != 0).then(|| format!("2027-01-{:02}", 1 + n % 5));
                batch.push(json!({"shot_id": shot, "task_type_id": ty["id"], "priority": n % 3, "due_date": due}));
            }
        }
        let (s, _) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": batch})).await;
        assert_eq!(s, 201);
        let walk = |sort: &'static str| {
            let srv = &srv;
            let token = a.token.clone();
            let project = f.project.clone();
            async move {
                let mut seen: Vec<Value> = Vec::new();
                let mut cursor = String::new();
                loop {
                    let (s, page) = srv.get(&token, &format!("/api/v1/tasks?project_id={project}&sort={sort}&limit=4&cursor={cursor}")).await;
                    assert_eq!(s, 200, "{page}");
                    seen.extend(page["items"].as_array().unwrap().iter().cloned());
                    match page["next_cursor"].as_str() {
                        Some(c) => cursor = c.to_string(),
                        None => break,
                    }
                }
                seen
            }
        };
        for sort in ["due_date", "-due_date", "priority", "-priority", "-created_at"] {
            let tasks = walk(sort).await;
            assert_eq!(tasks.len(), 18, "{sort}: every task once");
            let mut ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 18, "{sort}: no task twice");
            let key = |t: &Value| match sort.trim_start_matches('-') {
                "due_date" => t["due_date"].as_str().unwrap_or("9999-12-31").to_string(),
                "priority" => format!("{:03}", t["priority"].as_i64().unwrap()),
                _ => t["id"].as_str().unwrap().to_string(),
            };
            let keys: Vec<String> = tasks.iter().map(key).collect();
            let mut want = keys.clone();
            want.sort();
            if sort.starts_with('-') {
                want.reverse();
            }
            assert_eq!(keys, want, "{sort}");
        }
        // Sorted pages combine with custom field filters: every task with a bid of 5 or more,
        // by priority, four at a time.
        let (s, field) = srv
            .post(&a.token, &format!("/api/v1/projects/{}/fields", f.project), json!({"entity": "task", "key": "bid", "name": "Bid", "kind": "number"}))
            .await;
        assert_eq!(s, 201, "{field}");
        let all = walk("created_at").await;
        for (n, t) in all.iter().enumerate() {
            let r = srv.call(&a.token, Method::PATCH, &format!("/api/v1/tasks/{}/fields", t["id"].as_str().unwrap()), Some(json!({"bid": n}))).await;
            assert_eq!(r.status().as_u16(), 200);
        }
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (s, page) = srv.get(&a.token, &format!("/api/v1/tasks?project_id={}&sort=-priority&field.bid.gte=5&limit=4&cursor={cursor}", f.project)).await;
            assert_eq!(s, 200, "{page}");
            assert_eq!(page["total"], 13);
            seen.extend(page["items"].as_array().unwrap().iter().map(|t| t["priority"].as_i64().unwrap()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 13);
        assert!(seen.windows(2).all(|w| w[0] >= w[1]), "{seen:?}");

        let (s, e) = srv.get(&a.token, "/api/v1/tasks?sort=colour").await;
        assert_eq!((s, e["code"].as_str()), (400, Some("request.invalid_sort")));
    })
    .await;
}
