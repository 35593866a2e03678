//! Review sessions: a playlist played together. The presenter's playhead reaches every follower
//! through the session's stream, a late joiner gets where the session is at once, only the
//! presenter moves it, and the log tells who joined, what was played and each note's frame.

use std::time::{Duration, Instant};

use crate::common::*;
use crate::playlists::versions;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

async fn follow(srv: &Srv, token: &str, session: &str) -> reqwest::Response {
    let r = srv
        .http
        .get(format!(
            "{}/api/v1/review-sessions/{session}/stream",
            srv.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    r
}

async fn playhead(srv: &Srv, token: &str, session: &str, to: Value) -> (u16, Value) {
    json(
        srv.call(
            token,
            Method::PUT,
            &format!("/api/v1/review-sessions/{session}/playhead"),
            Some(to),
        )
        .await,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_follows_its_presenter_and_keeps_a_log() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let (_, artist) = srv
            .member(
                &a,
                "artist@alpha.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (_, client) = srv
            .member(
                &a,
                "client@alpha.example",
                Role::Client,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (project, v) = versions(&srv, &a.token, "MOON", 2).await;
        let (_, list) = srv
            .post(
                &a.token,
                &format!("/api/v1/projects/{project}/playlists"),
                json!({"name": "Dailies", "items": [v[1], v[0]]}),
            )
            .await;
        let playlist = list["id"].as_str().unwrap();
        let (_, empty) = srv
            .post(
                &a.token,
                &format!("/api/v1/projects/{project}/playlists"),
                json!({"name": "Nothing yet"}),
            )
            .await;
        let sessions = format!("/api/v1/playlists/{playlist}/sessions");

        // Nothing to review, no session; a client follows sessions but does not start them.
        let (s, r) = srv
            .post(
                &a.token,
                &format!("/api/v1/playlists/{}/sessions", empty["id"].as_str().unwrap()),
                json!({}),
            )
            .await;
        assert_eq!(s, 422, "{r}");
        assert_eq!(r["field"], "playlist_id", "{r}");
        let (s, _) = srv.post(&client, &sessions, json!({})).await;
        assert_eq!(s, 403);

        let (s, started) = srv.post(&a.token, &sessions, json!({})).await;
        assert_eq!(s, 201, "{started}");
        let id = started["id"].as_str().unwrap().to_string();
        assert_eq!(started["presenter_id"], json!(a.owner.id));
        assert_eq!(started["playhead"]["item"], 0);
        // On the first frame of the first version, as the player numbers it (the project starts at 1001).
        assert_eq!(started["playhead"]["frame"], 1001);
        assert_eq!(started["version_id"], json!(v[1]));
        assert_eq!(started["items"], 2);
        assert!(started["now"].as_str().is_some_and(|t| t.ends_with("Z")));

        // A follower is told where the session is on arriving, then each move.
        let artist_stream = follow(&srv, &artist, &id).await;
        let (s, moved) = playhead(&srv, &a.token, &id, json!({"item": 0, "frame": 1012})).await;
        assert_eq!(s, 200, "{moved}");
        let sent = Instant::now();
        let got = read_events(artist_stream, 2, Duration::from_secs(5)).await;
        let took = sent.elapsed();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].1, "state");
        assert_eq!(got[0].2["playhead"]["frame"], 1001);
        assert_eq!(got[1].2["playhead"]["frame"], 1012);
        assert_eq!(got[1].0, moved["seq"].to_string());
        assert!(
            took < Duration::from_millis(900),
            "a move reached its follower only after {took:?}"
        );

        // Playing, at a speed, a loop, then paused with a drawing.
        let (s, p) = playhead(
            &srv,
            &a.token,
            &id,
            json!({"item": 0, "frame": 1012, "playing": true, "rate": 2, "loop_frames": [1010, 1040]}),
        )
        .await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["playhead"]["playing"], true);
        let drawn = json!([{"kind": "rect", "color": "#FFCC00", "width": 0.01, "from": [0.1, 0.1], "to": [0.4, 0.3]}]);
        let (s, p) = playhead(
            &srv,
            &a.token,
            &id,
            json!({"item": 0, "frame": 1031, "rate": 2, "loop_frames": [1010, 1040], "drawing": drawn}),
        )
        .await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["playhead"]["drawing"][0]["color"], "#ffcc00");
        let seq = p["seq"].as_i64().unwrap();
        // The same playhead again changes nothing.
        let (_, same) = playhead(
            &srv,
            &a.token,
            &id,
            json!({"item": 0, "frame": 1031, "rate": 2, "loop_frames": [1010, 1040], "drawing": drawn}),
        )
        .await;
        assert_eq!(same["seq"], seq);

        // A late joiner is where the presenter is at once.
        let late = follow(&srv, &client, &id).await;
        let got = read_events(late, 1, Duration::from_secs(2)).await;
        assert_eq!(got[0].2["seq"], seq);
        assert_eq!(got[0].2["playhead"]["frame"], 1031);
        assert_eq!(got[0].2["playhead"]["drawing"][0]["kind"], "rect");

        // Refused: another item than the playlist's, a speed not offered, a bad loop, a shape
        // off the picture, a field not of a playhead, and anyone but the presenter.
        for (body, field) in [
            (json!({"item": 2, "frame": 1}), "item"),
            (json!({"item": 0, "frame": 1, "rate": 3}), "rate"),
            (json!({"item": 0, "frame": 1, "loop_frames": [9, 3]}), "loop_frames"),
            (
                json!({"item": 0, "frame": 1, "drawing": [{"kind": "arrow", "color": "#ffffff", "width": 0.01, "from": [0.5, 0.5], "to": [1.5, 0.5]}]}),
                "drawing[0]",
            ),
        ] {
            let (s, r) = playhead(&srv, &a.token, &id, body.clone()).await;
            assert_eq!(s, 422, "{body}: {r}");
            assert_eq!(r["field"], field, "{r}");
        }
        let (s, _) = playhead(&srv, &a.token, &id, json!({"item": 0, "frame": 1, "speed": 2})).await;
        assert_eq!(s, 422);
        let (s, r) = playhead(&srv, &artist, &id, json!({"item": 1, "frame": 1})).await;
        assert_eq!(s, 403, "{r}");
        assert_eq!(r["code"], "tracking.not_presenter");

        // A note written while the session runs is in its log with its frame.
        let (s, note) = srv
            .post(
                &client,
                &format!("/api/v1/versions/{}/notes", v[1]),
                json!({"body": "Sky too warm", "frame": 1031, "frame_out": 1035}),
            )
            .await;
        assert_eq!(s, 201, "{note}");

        // The artist takes over and moves to the next item; the owner can no longer move it.
        let (s, r) = srv
            .post(&artist, &format!("/api/v1/review-sessions/{id}/presenter"), json!({}))
            .await;
        assert_eq!(s, 200, "{r}");
        let (s, r) = playhead(&srv, &artist, &id, json!({"item": 1, "frame": 0})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["version_id"], json!(v[0]));
        let (s, _) = playhead(&srv, &a.token, &id, json!({"item": 0, "frame": 0})).await;
        assert_eq!(s, 403);

        // Another organisation reaches nothing of it.
        for (method, path) in [
            (Method::GET, format!("/api/v1/review-sessions/{id}")),
            (Method::GET, format!("/api/v1/review-sessions/{id}/stream")),
            (Method::GET, format!("/api/v1/review-sessions/{id}/log")),
            (Method::POST, format!("/api/v1/review-sessions/{id}/presenter")),
            (Method::POST, format!("/api/v1/review-sessions/{id}/end")),
            (Method::GET, sessions.clone()),
            (Method::POST, sessions.clone()),
        ] {
            let body = (method == Method::POST).then(|| json!({}));
            let r = srv.call(&b.token, method.clone(), &path, body).await;
            assert_eq!(r.status(), 404, "{method} {path}");
        }
        let (s, _) = playhead(&srv, &b.token, &id, json!({"item": 0, "frame": 0})).await;
        assert_eq!(s, 404);

        // The client may not end it; the owner, who started it, may; then it moves no more.
        let end = format!("/api/v1/review-sessions/{id}/end");
        let (s, _) = srv.post(&client, &end, json!({})).await;
        assert_eq!(s, 403);
        let (s, r) = srv.post(&a.token, &end, json!({})).await;
        assert_eq!(s, 200, "{r}");
        assert!(r["ended_at"].as_str().is_some());
        let (s, r) = playhead(&srv, &artist, &id, json!({"item": 0, "frame": 5})).await;
        assert_eq!(s, 409, "{r}");
        assert_eq!(r["code"], "tracking.session_ended");

        // The log: in order, with who and where.
        let (s, log) = srv
            .get(&a.token, &format!("/api/v1/review-sessions/{id}/log"))
            .await;
        assert_eq!(s, 200, "{log}");
        let kinds: Vec<&str> = log["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        // Joins are logged as their streams open, alongside the moves.
        let want = [
            "started", "seek", "play", "speed", "loop", "pause", "drawing", "note", "presenter",
            "item", "ended",
        ];
        assert!(
            kinds.iter().filter(|k| **k == "joined").count() >= 2,
            "{kinds:?}"
        );
        let mut at = 0;
        for w in want {
            at += kinds[at..]
                .iter()
                .position(|k| *k == w)
                .unwrap_or_else(|| panic!("no {w} after {at} in {kinds:?}"))
                + 1;
        }
        // Followers who went away are logged as having left (when their stream closed).
        assert!(kinds.contains(&"left"), "{kinds:?}");
        let note_line = log["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "note")
            .unwrap();
        assert_eq!(note_line["frame"], 1031);
        assert_eq!(note_line["frame_out"], 1035);
        assert_eq!(note_line["item"], 0);
        assert_eq!(note_line["actor_id"], json!(note["author_id"]));
        assert_eq!(log["notes"][0]["body"], "Sky too warm");

        let r = srv
            .call(
                &a.token,
                Method::GET,
                &format!("/api/v1/review-sessions/{id}/log?format=csv"),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("at,who,what,item,version,frame,frame_out,detail")
        );
        let note_row = lines.find(|l| l.contains(",note,")).unwrap();
        assert!(
            note_row.contains(",1,Hero · ") && note_row.ends_with(",1031,1035,Sky too warm"),
            "{note_row}"
        );
        let (s, _) = srv
            .get(&a.token, &format!("/api/v1/review-sessions/{id}/log?format=pdf"))
            .await;
        assert_eq!(s, 422);

        let (_, listed) = srv.get(&client, &sessions).await;
        assert_eq!(listed[0]["id"], json!(id));
    })
    .await;
}
