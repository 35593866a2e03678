//! The words people read: the default workflow's statuses and pipeline steps in the viewer's
//! language.

use crate::common::*;
use crate::pages::{Browser, CUT};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_statuses_and_steps_speak_the_viewers_language() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let pid = p["id"].as_str().unwrap().to_string();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        let (s, _) = srv.post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true})).await;
        assert_eq!(s, 200);
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (_, tasks) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][0]["id"]}]})).await;
        let task = tasks["items"][0]["id"].as_str().unwrap().to_string();
        let r = srv.call(&a.token, Method::PATCH, "/api/v1/me", Some(json!({"locale": "zh-CN"}))).await;
        assert_eq!(r.status(), 200);
        let b = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (_, page) = b.get(&format!("/app/tasks/{task}")).await;
        assert!(page.contains("待开始") && page.contains("镜头布局"), "the default status and step in Chinese");
        for english in ["To do", "In progress", "Waiting for approval", ">Layout<"] {
            assert!(!page.contains(english), "no English status or step on a Chinese page: {english}");
        }
        let (_, grid) = b.get(&format!("/app/projects/{pid}/shots?sequence={seq}")).await;
        assert!(grid.contains("进行中") && !grid.contains("In progress"), "the grid's statuses too");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_lines_are_sentences_naming_the_task() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (li, li_token) = srv.member(&a, "li.na@alpha.example", mstation_core::Role::Artist, &[mstation_core::TokenScope::Read, mstation_core::TokenScope::Write]).await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let pid = p["id"].as_str().unwrap().to_string();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        let (s, _) = srv.post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true})).await;
        assert_eq!(s, 200);
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (_, statuses) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/statuses")).await;
        let wfa = statuses["items"].as_array().unwrap().iter().find(|s| s["short_name"] == "wfa").unwrap()["id"].clone();
        let (_, tasks) = srv.post(&a.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][0]["id"], "assignees": [li.id]}]})).await;
        let task = tasks["items"][0]["id"].as_str().unwrap().to_string();
        let (s, _) = srv.post(&li_token, &format!("/api/v1/tasks/{task}/versions"), json!({"comment": "first pass"})).await;
        assert_eq!(s, 201);
        let (s, _) = srv.post(&li_token, &format!("/api/v1/tasks/{task}/time-logs"), json!({"date": "2027-01-04", "minutes": 90})).await;
        assert_eq!(s, 201);
        let (s, _) = srv.post(&li_token, &format!("/api/v1/tasks/{task}/notes"), json!({"body": "ready for review", "status_id": wfa})).await;
        assert_eq!(s, 201);

        let b = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (_, feed) = b.get(&format!("/app/projects/{pid}/activity")).await;
        let text = feed.replace(['\n'], " ");
        assert!(text.contains("handed in v001 of <a href=\"/app/tasks/"), "the version as a sentence");
        assert!(text.contains("SQ010_0010 · Layout</a>"), "naming the shot and step");
        assert!(text.contains("logged 1:30 on"), "the time log as a sentence");
        assert!(text.contains("conformed <a href=") && text.contains("to a new cut: 2 new, 0 changed, 0 omitted"), "the conform, once, with its counts");
        assert_eq!(text.matches("changed the status of").count(), 0, "a note that changes a status shows once, as the note");
        assert_eq!(text.matches("wrote a note on").count(), 1);
        for internal in ["version.created", "time_log.created", "note.created", "sequence.conformed", "{ $", "{$"] {
            assert!(!text.contains(internal), "no internal text on the page: {internal}");
        }
        let r = srv.call(&a.token, Method::PATCH, "/api/v1/me", Some(json!({"locale": "zh-CN"}))).await;
        assert_eq!(r.status(), 200);
        let (_, feed) = b.get(&format!("/app/projects/{pid}/activity")).await;
        assert!(feed.contains("的 v001") && feed.contains("登记了 1:30"), "the same sentences in Chinese");
        assert!(!feed.contains("handed in") && !feed.contains("logged"), "no English on the Chinese feed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_reads_as_sentences_with_filters() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/tokens",
                json!({"name": "render farm", "scopes": ["read"]}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/invitations",
                json!({"email": "mei@alpha.example", "role": "artist"}),
            )
            .await;
        assert_eq!(s, 201);
        let b = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (s, page) = b.get("/app/audit").await;
        assert_eq!(s, 200);
        assert!(
            page.contains("made the API token render farm"),
            "a sentence naming the token"
        );
        assert!(page.contains("invited mei@alpha.example"));
        assert!(
            !page.contains("{$") && !page.contains("{ $"),
            "no placeholder anywhere on the page, the filter's choices included"
        );
        for internal in ["token.created", "invitation.created", "<code>"] {
            assert!(
                !page[page.find("data-testid=\"audit\"").unwrap()..].contains(internal),
                "no internal text: {internal}"
            );
        }
        let (_, only) = b.get("/app/audit?action=token.created").await;
        assert!(
            only.contains("render farm") && !only.contains("invited mei"),
            "filtered by action"
        );
        let (_, none) = b
            .get(&format!("/app/audit?person={}", uuid::Uuid::now_v7()))
            .await;
        assert!(
            none.contains("Nothing matches these filters."),
            "filtered by person"
        );
        let (_, mine) = b.get(&format!("/app/audit?person={}", a.owner.id)).await;
        assert!(mine.contains("render farm"));
        let (_, past) = b.get("/app/audit?to=2020-01-01").await;
        assert!(
            past.contains("Nothing matches these filters."),
            "filtered by date"
        );
        let (s, bad) = b.get("/app/audit?from=2026-02-30").await;
        assert_eq!(s, 200);
        assert!(
            bad.contains("cannot use “2026-02-30”") && bad.contains("render farm"),
            "a bad date is said and left out"
        );
        let r = srv
            .call(
                &a.token,
                Method::PATCH,
                "/api/v1/me",
                Some(json!({"locale": "zh-CN"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        let (_, zh) = b.get("/app/audit").await;
        assert!(zh.contains("创建了 API 令牌 render farm") && !zh.contains("made the API token"));
    })
    .await;
}
