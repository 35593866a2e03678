//! One frame model: a cut from 1009 to 1080 is 72 frames (in and out included) in the API, the
//! pages, the CSV shot list and both exports.

use crate::common::*;
use crate::pages::Browser;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shot_from_1009_to_1080_is_72_frames_everywhere() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 4096, "height": 2160})).await;
        let pid = p["id"].as_str().unwrap().to_string();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        // Three seconds at 24 fps: 72 frames, from 1001 + 8 frames of head handles.
        let edl = "TITLE: MOON\n001  A001C003 V     C        10:00:00:00 10:00:03:00 01:00:00:00 01:00:03:00\n* FROM CLIP NAME: A001C003_ROOF.MOV\n";
        let (s, v) = srv.post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
        assert_eq!(s, 200, "{v}");
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let shot = &shots["items"][0];
        assert_eq!((shot["cut_in"].as_i64(), shot["cut_out"].as_i64(), shot["frames"].as_i64()), (Some(1009), Some(1080), Some(72)));
        let shot_id = shot["id"].as_str().unwrap().to_string();
        let (_, one) = srv.get(&a.token, &format!("/api/v1/shots/{shot_id}")).await;
        assert_eq!(one["frames"], 72);

        let export = |format: &'static str| {
            let srv = srv.clone();
            let (token, seq) = (a.token.clone(), seq.clone());
            async move {
                let r = srv.http.get(format!("{}/api/v1/sequences/{seq}/export?format={format}", srv.base)).bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200, "{format}");
                r.text().await.unwrap()
            }
        };
        let csv = export("csv").await;
        let mut lines = csv.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| row[head.iter().position(|h| *h == name).unwrap()];
        assert_eq!((col("cut_in"), col("cut_out"), col("frames")), ("1009", "1080", "72"), "{csv}");
        let cmx = export("cmx3600").await;
        let event = cmx.lines().find(|l| l.starts_with("001")).unwrap();
        let tcs: Vec<&str> = event.split_whitespace().rev().take(2).collect();
        assert_eq!(tcs, ["01:00:03:00", "01:00:00:00"], "record out is exclusive, 72 frames after in: {cmx}");
        let otio: Value = serde_json::from_str(&export("otio").await).unwrap();
        let clip = &otio["tracks"]["children"][0]["children"][0];
        assert_eq!(clip["source_range"]["duration"]["value"].as_f64(), Some(72.0), "{clip}");

        // The pages: the grid's frames column and the task page.
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (_, tasks) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shot_id, "task_type_id": types["items"][0]["id"]}]})).await;
        let task = tasks["items"][0]["id"].as_str().unwrap();
        let b = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (_, grid) = b.get(&format!("/app/projects/{pid}/shots?sequence={seq}")).await;
        assert!(grid.contains("data-frames=\"72\""), "the grid counts 72");
        let (_, page) = b.get(&format!("/app/tasks/{task}")).await;
        assert!(page.contains("1009–1080 (72)"), "the task page counts 72");
    })
    .await;
}
