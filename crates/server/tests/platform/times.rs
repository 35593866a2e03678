//! Times on pages are the person's own zone, else their organisation's, and stay right across a
//! daylight-saving change in both directions.

use crate::common::*;
use crate::pages::{Browser, CUT};
use reqwest::Method;
use serde_json::json;
use sqlx::Connection;

/// Milliseconds of an RFC 3339 instant.
fn ms(at: &str) -> i64 {
    at.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_times_follow_the_person_then_the_organisation_across_daylight_saving() {
    // SQLite only: the test dates its notes by writing the file beside the server.
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (s, p) = srv
        .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}))
        .await;
    assert_eq!(s, 201, "{p}");
    let pid = p["id"].as_str().unwrap();
    let (_, seq) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{pid}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let seq = seq["id"].as_str().unwrap();
    let (s, _) = srv
        .post(
            &a.token,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": "cmx3600", "edl": CUT, "apply": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, shots) = srv
        .get(&a.token, &format!("/api/v1/sequences/{seq}/shots"))
        .await;
    let (_, types) = srv
        .get(&a.token, &format!("/api/v1/projects/{pid}/task-types"))
        .await;
    let (_, t) = srv
        .post(&a.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][0]["id"]}]}))
        .await;
    let task = t["items"][0]["id"].as_str().unwrap().to_string();

    // Four notes either side of London's two changes of 2026: clocks go forward at 01:00 GMT
    // on 29 March and back at 01:00 GMT on 25 October.
    let instants = [
        ("spring before", "2026-03-29T00:30:00Z"),
        ("spring after", "2026-03-29T01:30:00Z"),
        ("autumn before", "2026-10-25T00:30:00Z"),
        ("autumn after", "2026-10-25T01:30:00Z"),
    ];
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite:{}", srv.url))
        .await
        .unwrap();
    for (body, at) in instants {
        let (s, n) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{task}/notes"),
                json!({"body": body}),
            )
            .await;
        assert_eq!(s, 201, "{n}");
        let id = uuid::Uuid::parse_str(n["note"]["id"].as_str().unwrap()).unwrap();
        sqlx::query("UPDATE notes SET created_at = ? WHERE id = ?")
            .bind(ms(at))
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
    }
    let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
    let page_times = || async {
        let (s, page) = owner.get(&format!("/app/tasks/{task}")).await;
        assert_eq!(s, 200);
        page
    };

    // The organisation's zone when the person has none.
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/org",
            Some(json!({"timezone": "Europe/London"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = page_times().await;
    for shown in ["2026-03-29 00:30", "2026-03-29 02:30", "2026-10-25 01:30"] {
        assert!(page.contains(shown), "{shown} in London: {page}");
    }
    assert_eq!(
        page.matches("2026-10-25 01:30").count(),
        2,
        "the autumn hour happens twice"
    );

    // The person's own zone over the organisation's: New York changed three weeks before.
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"timezone": "America/New_York"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = page_times().await;
    for shown in [
        "2026-03-28 20:30",
        "2026-03-28 21:30",
        "2026-10-24 20:30",
        "2026-10-24 21:30",
    ] {
        assert!(page.contains(shown), "{shown} in New York: {page}");
    }
    assert!(!page.contains("2026-03-29 02:30"), "no London time is left");
}
