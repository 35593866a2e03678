//! The progress overview of a project: per sequence, shot tasks per status and per task type and
//! status, counting only the current cut's shots.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use serde_json::{Value, json};

const THREE: &str = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n002  A002 V C 10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00\n003  A003 V C 10:00:00:00 10:00:01:00 01:00:02:00 01:00:03:00\n";
const TWO: &str = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n002  A002 V C 10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00\n";

fn count(list: &Value, key: &[(&str, &Value)]) -> i64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| key.iter().all(|(k, v)| &c[*k] == *v))
        .map_or(0, |c| c["count"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_per_sequence_status_and_type() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, viewer) = srv.member(&a, "viewer@alpha.example", Role::Viewer, &[TokenScope::Read]).await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let project = p["id"].as_str().unwrap().to_string();
        let mut seqs = Vec::new();
        for name in ["SQ020", "SQ010", "SQ030"] {
            let (_, s) = srv.post(&a.token, &format!("/api/v1/projects/{project}/sequences"), json!({"name": name})).await;
            seqs.push(s["id"].as_str().unwrap().to_string());
        }
        let (sq020, sq010) = (&seqs[0], &seqs[1]);
        for (sq, edl) in [(sq010, THREE), (sq020, TWO)] {
            let (s, _) = srv.post(&a.token, &format!("/api/v1/sequences/{sq}/conform"), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
            assert_eq!(s, 200);
        }
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{project}/task-types")).await;
        let (_, statuses) = srv.get(&a.token, &format!("/api/v1/projects/{project}/statuses")).await;
        let (anim, comp) = (&types["items"][1]["id"], &types["items"][4]["id"]);
        let (todo, wip, done) = (&statuses["items"][0]["id"], &statuses["items"][1]["id"], &statuses["items"][4]["id"]);
        let mut tasks = Vec::new();
        for sq in [sq010, sq020] {
            let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{sq}/shots")).await;
            for shot in shots["items"].as_array().unwrap() {
                tasks.push(json!({"shot_id": shot["id"], "task_type_id": anim}));
                tasks.push(json!({"shot_id": shot["id"], "task_type_id": comp}));
            }
        }
        let (_, hero) = srv.post(&a.token, &format!("/api/v1/projects/{project}/assets"), json!({"kind": "character", "name": "Hero"})).await;
        tasks.push(json!({"asset_id": hero["id"], "task_type_id": anim}));
        let (s, created) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": tasks})).await;
        assert_eq!(s, 201, "{created}");
        let created = created["items"].as_array().unwrap();
        // SQ010: anim of shots 1 and 2 done, comp of shot 1 in progress.
        let updates = json!({"updates": [
            {"id": created[0]["id"], "status_id": done},
            {"id": created[2]["id"], "status_id": done},
            {"id": created[1]["id"], "status_id": wip},
        ]});
        let (s, _) = srv.post(&a.token, "/api/v1/tasks/bulk-update", updates).await;
        assert_eq!(s, 200);
        // A recut drops SQ010's third shot: its tasks leave the overview.
        let (s, _) = srv.post(&a.token, &format!("/api/v1/sequences/{sq010}/conform"), json!({"format": "cmx3600", "edl": TWO, "apply": true})).await;
        assert_eq!(s, 200);

        let (s, v) = srv.get(&viewer, &format!("/api/v1/projects/{project}/progress")).await;
        assert_eq!(s, 200, "{v}");
        let names: Vec<&str> = v["sequences"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["SQ010", "SQ020", "SQ030"]);
        let sq1 = &v["sequences"][0];
        assert_eq!(sq1["shots"], 2, "the omitted shot is not counted");
        assert_eq!(sq1["tasks"], 4, "two shots left in the cut, two tasks each: {sq1}");
        assert_eq!(count(&sq1["by_status"], &[("status_id", done)]), 2);
        assert_eq!(count(&sq1["by_status"], &[("status_id", wip)]), 1);
        assert_eq!(count(&sq1["by_status"], &[("status_id", todo)]), 1);
        let order: Vec<&Value> = sq1["by_status"].as_array().unwrap().iter().map(|c| &c["status_id"]).collect();
        assert_eq!(order, [todo, wip, done], "in workflow order");
        assert_eq!(count(&sq1["by_type"], &[("task_type_id", anim), ("status_id", done)]), 2);
        assert_eq!(count(&sq1["by_type"], &[("task_type_id", comp), ("status_id", wip)]), 1);
        assert_eq!(count(&sq1["by_type"], &[("task_type_id", comp), ("status_id", todo)]), 1);
        let sq2 = &v["sequences"][1];
        assert_eq!(sq2["tasks"], 4);
        assert_eq!(count(&sq2["by_status"], &[("status_id", todo)]), 4);
        assert_eq!(count(&sq2["by_type"], &[("task_type_id", anim), ("status_id", todo)]), 2);
        let sq3 = &v["sequences"][2];
        assert_eq!((&sq2["shots"], &sq3["shots"]), (&json!(2), &json!(0)));
        assert_eq!(sq3["tasks"], 0);
        assert_eq!(sq3["by_status"], json!([]));

        let (s, _) = srv.get(&a.token, &format!("/api/v1/projects/{}/progress", uuid::Uuid::now_v7())).await;
        assert_eq!(s, 404);
        let (_, other) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Other", "code": "OTH", "fps": "24", "width": 1920, "height": 1080})).await;
        let (_, v) = srv.get(&a.token, &format!("/api/v1/projects/{}/progress", other["id"].as_str().unwrap())).await;
        assert_eq!(v["sequences"], json!([]));
    })
    .await;
}
