//! Production tracking over HTTP: projects, sequences, and conforming a sequence to an EDL with
//! a dry run, an atomic apply, and re-imports that update shots without duplicating them.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use serde_json::{Value, json};

const CUT_1: &str = "TITLE: MOONLIGHT R1 v1
FCM: DROP FRAME
001  A001C003 V     C        10:00:00;00 10:00:02;00 01:00:00;00 01:00:02;00
* FROM CLIP NAME: A001C003_220101.MOV
002  A001C007 V     C        11:00:05;00 11:00:06;12 01:00:02;00 01:00:03;12
* FROM CLIP NAME: A001C007_220101.MOV
* LOC: 01:00:02;10 RED   fix boom mic
003  AX       AA    C        00:00:00;00 00:00:01;00 01:00:02;00 01:00:03;00
004  BL       V     C        00:00:00;00 00:00:00;12 01:00:03;12 01:00:04;00
004  B002C001 V     D    012 12:00:00;00 12:00:01;00 01:00:04;00 01:00:05;00
* TO CLIP NAME: B002C001_220102.MOV
M2   B002C001       048.0                12:00:00;00
";

const CUT_2: &str = "TITLE: MOONLIGHT R1 v2
FCM: DROP FRAME
001  A001C007 V     C        11:00:05;00 11:00:06;00 01:00:00;00 01:00:01;00
* FROM CLIP NAME: A001C007_220101.MOV
002  B002C001 V     C        12:00:00;00 12:00:01;00 01:00:01;00 01:00:02;00
003  C003C002 V     C        13:00:00;00 13:00:02;00 01:00:02;00 01:00:04;00
";

async fn conform(srv: &Srv, token: &str, seq: &str, edl: &str, apply: bool) -> (u16, Value) {
    srv.post(
        token,
        &format!("/api/v1/sequences/{seq}/conform"),
        json!({"format": "cmx3600", "edl": edl, "apply": apply}),
    )
    .await
}

async fn shot_names(srv: &Srv, token: &str, seq: &str) -> Vec<String> {
    let (_, v) = srv
        .get(token, &format!("/api/v1/sequences/{seq}/shots"))
        .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edl_conforms_a_sequence_and_a_recut_updates_it() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (s, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "29.97", "width": 3840, "height": 2160, "head_handles": 8, "tail_handles": 8}))
            .await;
        assert_eq!(s, 201, "{p}");
        assert_eq!((p["fps_num"].as_i64(), p["fps_den"].as_i64()), (Some(30000), Some(1001)));
        let (s, seq) = srv.post(&a.token, &format!("/api/v1/projects/{}/sequences", p["id"].as_str().unwrap()), json!({"name": "SQ010"})).await;
        assert_eq!(s, 201);
        let seq = seq["id"].as_str().unwrap().to_string();

        // The dry run shows the diff and writes nothing.
        let (s, diff) = conform(&srv, &a.token, &seq, CUT_1, false).await;
        assert_eq!(s, 200, "{diff}");
        let new: Vec<&str> = diff["new"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(new, ["SQ010_0010", "SQ010_0020", "SQ010_0030"]);
        let skipped: Vec<&str> = diff["skipped"].as_array().unwrap().iter().map(|s| s["reason"].as_str().unwrap()).collect();
        // The black under event 004 is the outgoing side of a dissolve, so it is no event of its
        // own.
        assert_eq!(skipped, ["audio_only"]);
        assert!(shot_names(&srv, &a.token, &seq).await.is_empty(), "a dry run writes nothing");

        let (s, applied) = conform(&srv, &a.token, &seq, CUT_1, true).await;
        assert_eq!(s, 200);
        assert_eq!(applied["new"], diff["new"], "apply writes what the dry run showed");
        assert_eq!(shot_names(&srv, &a.token, &seq).await, ["SQ010_0010", "SQ010_0020", "SQ010_0030"]);
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let first = &shots["items"][0];
        assert_eq!(first["cut_in"], 1009);
        assert_eq!(first["cut_out"], 1009 + 60 - 1, "2 s at 29.97 drop-frame is 60 frames");
        assert_eq!(first["source_in_tc"], "10:00:00;00");
        assert_eq!(first["clip_name"], "A001C003_220101.MOV");
        assert_eq!(shots["items"][2]["clip_name"], "B002C001_220102.MOV", "the incoming clip of a dissolve");

        // The same cut again: nothing new, nothing changed.
        let (_, again) = conform(&srv, &a.token, &seq, CUT_1, true).await;
        assert_eq!((again["new"].as_array().unwrap().len(), again["changed"].as_array().unwrap().len()), (0, 0));
        assert_eq!(again["unchanged"].as_array().unwrap().len(), 3);

        // A recut: one shot trimmed and moved, one dropped, one added.
        let (_, recut) = conform(&srv, &a.token, &seq, CUT_2, true).await;
        assert_eq!(recut["changed"].as_array().unwrap().len(), 2, "{recut}");
        assert_eq!(recut["new"][0]["name"], "SQ010_0040");
        assert_eq!(recut["removed"][0]["name"], "SQ010_0010");
        assert_eq!(shot_names(&srv, &a.token, &seq).await, ["SQ010_0020", "SQ010_0030", "SQ010_0040"]);
        let (_, all) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots?include_omitted=true")).await;
        assert_eq!(all["total"], 4, "the dropped shot is omitted, not deleted");
        // The recut is one record (a chunk of up to 400 shots each), saying what each shot became.
        let (_, audit) = srv.get(&a.token, "/api/v1/audit?action=sequence.conformed").await;
        assert_eq!(audit["total"], 2, "the cut and the recut (a re-import that changes nothing records nothing)");
        let last = &audit["items"][0]["after"];
        let changes: Vec<(&str, &str)> = last["shots"].as_array().unwrap().iter().map(|s| (s["change"].as_str().unwrap(), s["name"].as_str().unwrap())).collect();
        assert!(changes.contains(&("omitted", "SQ010_0010")) && changes.contains(&("new", "SQ010_0040")), "{last}");
        assert_eq!((last["new"].as_i64(), last["changed"].as_i64(), last["omitted"].as_i64()), (Some(1), Some(2), Some(1)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_edl_names_its_line_and_changes_nothing() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{}/sequences", p["id"].as_str().unwrap()), json!({"name": "SQ020"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        let bad = "TITLE: X\n001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n002  A002 V C 10:00:00:00 10:00:01:00 01:00:05:00 01:00:04:00\n";
        let (s, v) = conform(&srv, &a.token, &seq, bad, true).await;
        assert_eq!((s, v["code"].as_str(), v["field"].as_str()), (422, Some("tracking.bad_edl"), Some("edl")), "{v}");
        assert!(v["detail"].as_str().unwrap().starts_with("line 3:"), "{v}");
        assert!(shot_names(&srv, &a.token, &seq).await.is_empty());
        for empty in ["", "TITLE: X\n", "001  AX AA C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"] {
            let (s, v) = conform(&srv, &a.token, &seq, empty, true).await;
            let refused = (v["field"].as_str(), v["reason"].as_str());
            assert_eq!((s, refused), (422, (Some("edl"), Some("no_events"))), "{empty:?}: {v}");
        }
        let (s, v) = srv.post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "fcpxml", "edl": "x"})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("format")));
        let (s, v) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Bad", "code": "BAD", "fps": "23.5", "width": 1920, "height": 1080})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("fps")));
        let (s, _) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Again", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        assert_eq!(s, 409, "project codes are unique in an organisation");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artists_read_the_cut_but_do_not_reshape_it() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (_, artist) = srv
        .member(
            &a,
            "artist@alpha.example",
            Role::Artist,
            &[TokenScope::Read, TokenScope::Write],
        )
        .await;
    let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "29.97", "width": 1920, "height": 1080})).await;
    let pid = p["id"].as_str().unwrap();
    let (s, _) = srv
        .post(
            &artist,
            "/api/v1/projects",
            json!({"name": "Mine", "code": "MINE", "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = srv
        .post(
            &artist,
            &format!("/api/v1/projects/{pid}/sequences"),
            json!({"name": "SQ030"}),
        )
        .await;
    assert_eq!(s, 403);
    let (_, seq) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{pid}/sequences"),
            json!({"name": "SQ030"}),
        )
        .await;
    let seq = seq["id"].as_str().unwrap();
    let (s, _) = conform(&srv, &artist, seq, CUT_2, false).await;
    assert_eq!(s, 200, "anyone may preview a cut");
    let (s, _) = conform(&srv, &artist, seq, CUT_2, true).await;
    assert_eq!(s, 403, "only production staff apply it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequence_exports_its_cut_and_the_export_conforms_back_unchanged() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "29.97", "width": 3840, "height": 2160}))
            .await;
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{}/sequences", p["id"].as_str().unwrap()), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        let (s, _) = conform(&srv, &a.token, &seq, CUT_2, true).await;
        assert_eq!(s, 200);

        let export = |format: &'static str| {
            let srv = &srv;
            let token = a.token.clone();
            let seq = seq.clone();
            async move {
                let r = srv.call(&token, reqwest::Method::GET, &format!("/api/v1/sequences/{seq}/export?format={format}"), None).await;
                assert_eq!(r.status().as_u16(), 200);
                let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
                (disposition, r.text().await.unwrap())
            }
        };
        let (disposition, text) = export("cmx3600").await;
        assert_eq!(disposition, "attachment; filename=\"SQ010.edl\"");
        assert!(text.contains("A001C007_220101.MOV") && text.contains("C003C002"), "{text}");
        let (s, diff) = conform(&srv, &a.token, &seq, &text, false).await;
        assert_eq!(s, 200, "{diff}");
        assert_eq!((diff["new"].as_array().unwrap().len(), diff["changed"].as_array().unwrap().len(), diff["unchanged"].as_array().unwrap().len()), (0, 0, 3), "{diff}");

        let (_, otio) = export("otio").await;
        let (s, diff) = srv
            .post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "otio", "edl": otio, "apply": false}))
            .await;
        assert_eq!(s, 200, "{diff}");
        assert_eq!(diff["unchanged"].as_array().unwrap().len(), 3, "{diff}");
        assert!(diff["new"].as_array().unwrap().is_empty() && diff["changed"].as_array().unwrap().is_empty());

        // A broken .otio names where it is broken.
        let broken = otio.replacen("\"rate\"", "\"rat\"", 1);
        let (s, e) = srv
            .post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "otio", "edl": broken}))
            .await;
        assert_eq!(s, 422, "{e}");
        assert_eq!(e["code"], "tracking.bad_otio");
        let (s, e) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/export?format=xml")).await;
        assert_eq!((s, e["field"].as_str()), (422, Some("format")));
    })
    .await;
}

/// `CUT_2` played backwards: the same three clips, last first.
const CUT_2_REVERSED: &str = "TITLE: MOONLIGHT R1 v3
FCM: DROP FRAME
001  C003C002 V     C        13:00:00;00 13:00:02;00 01:00:00;00 01:00:02;00
002  B002C001 V     C        12:00:00;00 12:00:01;00 01:00:02;00 01:00:03;00
003  A001C007 V     C        11:00:05;00 11:00:06;00 01:00:03;00 01:00:04;00
* FROM CLIP NAME: A001C007_220101.MOV
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recut_reorders_the_tasks_of_its_sequence() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "29.97", "width": 1920, "height": 1080}))
            .await;
        let pid = p["id"].as_str().unwrap();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        let (s, _) = conform(&srv, &a.token, &seq, CUT_2, true).await;
        assert_eq!(s, 200);
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (comp, anim) = (types["items"][0]["id"].as_str().unwrap(), types["items"][1]["id"].as_str().unwrap());
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let ids: Vec<&str> = shots["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        // Created last shot first, so creation order is not the cut's.
        let tasks: Vec<Value> = ids.iter().rev().flat_map(|s| [json!({"shot_id": s, "task_type_id": comp}), json!({"shot_id": s, "task_type_id": anim})]).collect();
        let (s, v) = srv.post(&a.token, "/api/v1/tasks", json!({ "tasks": tasks })).await;
        assert_eq!(s, 201, "{v}");

        let order = |path: String| {
            let srv = &srv;
            let token = a.token.clone();
            async move {
                let (s, v) = srv.get(&token, &path).await;
                assert_eq!(s, 200, "{v}");
                v["items"].as_array().unwrap().iter().map(|t| t["shot_id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
            }
        };
        let step = format!("/api/v1/sequences/{seq}/tasks?task_type_id={comp}");
        let grid = format!("/api/v1/sequences/{seq}/tasks");
        assert_eq!(order(step.clone()).await, ids, "one step in cut order");
        let twice: Vec<&str> = ids.iter().flat_map(|s| [*s, *s]).collect();
        assert_eq!(order(grid.clone()).await, twice, "the grid in cut order");

        let (s, recut) = conform(&srv, &a.token, &seq, CUT_2_REVERSED, true).await;
        assert_eq!(s, 200, "{recut}");
        assert!(recut["new"].as_array().unwrap().is_empty(), "the same shots, moved: {recut}");
        let reversed: Vec<&str> = ids.iter().rev().copied().collect();
        assert_eq!(order(step).await, reversed, "the step follows the recut");
        let twice: Vec<&str> = reversed.iter().flat_map(|s| [*s, *s]).collect();
        assert_eq!(order(grid).await, twice, "and so does the grid");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_refreshes_postgresqls_statistics() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let pid = p["id"].as_str().unwrap();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        // 40 two-second events.
        let tc = |hour: u32, secs: u32| format!("{hour:02}:{:02}:{:02}:00", secs / 60, secs % 60);
        let mut edl = String::from("TITLE: BIG\nFCM: NON-DROP FRAME\n");
        for n in 0..40 {
            edl.push_str(&format!("{:03}  A{n:03}C001 V     C        {} {} {} {}\n", n + 1, tc(10, n * 2), tc(10, n * 2 + 2), tc(1, n * 2), tc(1, n * 2 + 2)));
        }
        let (s, v) = conform(&srv, &a.token, &seq, &edl, true).await;
        assert_eq!((s, v["new"].as_array().map(Vec::len)), (200, Some(40)), "{v}");
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots?limit=500")).await;
        let tasks: Vec<Value> = shots["items"].as_array().unwrap().iter()
            .flat_map(|s| types["items"].as_array().unwrap().iter().filter(|t| t["entity"] == "shot").map(move |t| json!({"shot_id": s["id"], "task_type_id": t["id"]})))
            .collect();
        assert_eq!(tasks.len(), 240);
        let (s, v) = srv.post(&a.token, "/api/v1/tasks", json!({ "tasks": tasks })).await;
        assert_eq!(s, 201, "{v}");
        if srv.backend != Backend::Postgres {
            return;
        }
        // `last_analyze` is a manual ANALYZE's (autovacuum's is `last_autoanalyze`).
        let pool = sqlx::PgPool::connect(&srv.url).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let analyzed: Option<(i64,)> = sqlx::query_as("SELECT 1::int8 FROM pg_stat_user_tables WHERE relname = 'tasks' AND last_analyze IS NOT NULL")
                .fetch_optional(&pool)
                .await
                .unwrap();
            if analyzed.is_some() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the task table's statistics were not refreshed");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await;
}
