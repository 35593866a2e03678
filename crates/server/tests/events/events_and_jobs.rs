//! The outbox and its consumers: the live event stream (per organisation, resumable), signed
//! webhooks with retries and a delivery log, and the job queue's leases and failure handling.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use mstation_store::jobs::NewJob;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_is_live_per_organisation_and_resumable() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        // A new stream starts where the live feed is; let it pass the set-up above.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let stream_a = srv
            .http
            .get(format!("{}/api/v1/events", srv.base))
            .bearer_auth(&a.token)
            .send()
            .await
            .unwrap();
        assert_eq!(stream_a.headers()["content-type"], "text/event-stream");
        let stream_b = srv
            .http
            .get(format!("{}/api/v1/events", srv.base))
            .bearer_auth(&b.token)
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;

        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/invitations",
                json!({"email": "x@alpha.example", "role": "artist"}),
            )
            .await;
        assert_eq!(s, 201);
        let r = srv
            .call(
                &a.token,
                reqwest::Method::PATCH,
                "/api/v1/org",
                Some(json!({"name": "Alpha Pictures"})),
            )
            .await;
        assert_eq!(r.status(), 200);

        let got = read_events(stream_a, 2, Duration::from_secs(5)).await;
        let kinds: Vec<&str> = got.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(kinds, ["invitation.created", "org.updated"]);
        assert_eq!(got[1].2["payload"]["entity"]["name"], "Alpha Pictures");
        let first_seq = got[0].0.clone();

        let seen_by_b = read_events(stream_b, 1, Duration::from_millis(800)).await;
        let leaked: Vec<_> = seen_by_b
            .iter()
            .filter(|e| e.2["org_id"] != json!(b.org.id))
            .collect();
        assert!(
            leaked.is_empty(),
            "org B saw another organisation's events: {leaked:?}"
        );

        // Reconnecting with Last-Event-ID replays what came after it.
        let again = srv
            .http
            .get(format!("{}/api/v1/events", srv.base))
            .bearer_auth(&a.token)
            .header("last-event-id", first_seq)
            .send()
            .await
            .unwrap();
        let replay = read_events(again, 1, Duration::from_secs(5)).await;
        assert_eq!(replay[0].1, "org.updated");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_events_reach_those_who_may_read_the_queue_and_no_one_else() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (_, viewer) = srv
        .member(
            &a,
            "viewer@alpha.example",
            mstation_core::Role::Viewer,
            &[mstation_core::TokenScope::Read],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let open = |token: String| {
        let srv = &srv;
        async move {
            srv.http
                .get(format!("{}/api/v1/events", srv.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let (owner_stream, viewer_stream) = (open(a.token.clone()).await, open(viewer).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    srv.store()
        .platform()
        .enqueue(NewJob {
            org_id: Some(a.org.id),
            kind: "test.render".into(),
            payload: json!({"n": 1}),
            priority: 0,
            max_attempts: 1,
            run_after: None,
        })
        .await
        .unwrap();
    let r = srv
        .call(
            &a.token,
            reqwest::Method::PATCH,
            "/api/v1/org",
            Some(json!({"name": "Alpha Pictures"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let owner: Vec<String> = read_events(owner_stream, 2, Duration::from_secs(5))
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(owner, ["job.queued", "org.updated"]);
    // The viewer, who may not read the queue (403 on /api/v1/jobs), hears only the change.
    let seen: Vec<String> = read_events(viewer_stream, 2, Duration::from_secs(2))
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(seen, ["org.updated"]);
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    fail_first: Arc<Mutex<u32>>,
}

async fn receiver(rx: Receiver) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let rx = rx.clone();
            async move {
                let mut fails = rx.fail_first.lock().unwrap();
                if *fails > 0 {
                    *fails -= 1;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                rx.got.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    format!("http://{addr}/hook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_and_logged() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let rx = Receiver::default();
        *rx.fail_first.lock().unwrap() = 1;
        let url = receiver(rx.clone()).await;
        let (s, hook) = srv
            .post(
                &a.token,
                "/api/v1/webhooks",
                // A hook on `job.*` hears of jobs, but not of its own deliveries (or it would
                // feed itself): this test has no other job.
                json!({"url": url, "events": ["invitation.*", "job.*"]}),
            )
            .await;
        assert_eq!(s, 201);
        let secret = hook["secret"].as_str().unwrap().to_string();
        let hook_id = hook["webhook"]["id"].as_str().unwrap().to_string();

        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/invitations",
                json!({"email": "y@alpha.example", "role": "viewer"}),
            )
            .await;
        assert_eq!(s, 201);
        // Not subscribed: a token event must not be delivered.
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/tokens",
                json!({"name": "quiet", "scopes": ["read"]}),
            )
            .await;
        assert_eq!(s, 201);

        // The first attempt meets a 503; the retry (2 s later) gets through.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while rx.got.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let got = rx.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "exactly the subscribed event, once");
        let (headers, body) = &got[0];
        assert_eq!(headers["x-mstation-event"], "invitation.created");
        let sig = headers["x-mstation-signature"].to_str().unwrap();
        let now = mstation_store::now_ms() / 1000;
        assert!(
            mstation_core::webhooks::verify(&secret, sig, body, now, 300),
            "the signature checks out"
        );
        assert!(!mstation_core::webhooks::verify(
            "whsec_wrong",
            sig,
            body,
            now,
            300
        ));
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["org_id"], json!(a.org.id));
        assert_eq!(event["payload"]["entity"]["email"], "y@alpha.example");

        // The sender logs the delivery after the receiver has answered: wait for that too.
        let log = loop {
            let (s, log) = srv
                .get(
                    &a.token,
                    &format!("/api/v1/webhooks/{hook_id}/deliveries?sort=created_at"),
                )
                .await;
            assert_eq!(s, 200);
            if log["total"] == 2 || tokio::time::Instant::now() >= deadline {
                break log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(log["total"], 2, "{log}");
        assert_eq!(log["items"][0]["status_code"], 503);
        assert_eq!(log["items"][0]["attempt"], 1);
        assert_eq!(log["items"][1]["status_code"], 204);
        assert_eq!(log["items"][1]["attempt"], 2);
        assert!(log["items"][1]["error"].is_null());
        assert_eq!(rx.got.lock().unwrap().len(), 1);
        let events = srv.store().platform().events_after(0, 1000).await.unwrap();
        assert!(
            !events.iter().any(|e| e.kind.starts_with("job.")),
            "a delivery is not announced"
        );

        // A job of the organisation is heard of, its queuing delivered once; the delivery's own
        // job is not announced, so nothing more comes.
        let job = srv
            .store()
            .platform()
            .enqueue(NewJob {
                org_id: Some(a.org.id),
                kind: "test.render".into(),
                payload: json!({"n": 1}),
                priority: 0,
                max_attempts: 1,
                run_after: None,
            })
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while rx.got.lock().unwrap().len() < 2 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = rx.got.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "the job's queuing, once");
        assert_eq!(got[1].0["x-mstation-event"], "job.queued");
        let event: Value = serde_json::from_slice(&got[1].1).unwrap();
        assert_eq!(event["payload"]["entity"]["id"], json!(job));
        assert_eq!(event["payload"]["entity"]["kind"], "test.render");
        let events = srv.store().platform().events_after(0, 1000).await.unwrap();
        assert!(
            events
                .iter()
                .filter(|e| e.kind.starts_with("job."))
                .all(|e| e.entity_id == Some(job)),
            "only the organisation's job is announced, not the deliveries"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_returns_the_job_and_failures_stop_it() {
    for b in backends() {
        // No embedded workers: this test is the worker.
        let srv = start_with_workers(b, 0).await;
        let store = srv.store();
        let a = srv.tenant("Alpha", "alpha").await;
        let job = |kind: &str, priority: i64, max: i64| NewJob {
            org_id: Some(a.org.id),
            kind: kind.into(),
            payload: json!({"n": priority}),
            priority,
            max_attempts: max,
            run_after: None,
        };
        let low = store
            .platform()
            .enqueue(job("test.render", 1, 3))
            .await
            .unwrap();
        let high = store
            .platform()
            .enqueue(job("test.render", 9, 2))
            .await
            .unwrap();

        // Most urgent first; a worker that dies (lease 1 ms, no heartbeat) loses the job.
        let j = store
            .platform()
            .claim_job("worker-a", &["test.render"], 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(j.id, high);
        assert_eq!(j.attempts, 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !store
                .platform()
                .complete_job(high, "worker-b", &json!({}))
                .await
                .unwrap(),
            "only the lease holder may finish"
        );
        assert_eq!(store.platform().reap_expired_leases().await.unwrap(), 1);
        assert!(
            !store
                .platform()
                .heartbeat_job(high, "worker-a", 1000)
                .await
                .unwrap(),
            "the dead worker's lease is gone"
        );
        let j = store
            .platform()
            .claim_job("worker-b", &["test.render"], 30_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((j.id, j.attempts), (high, 2));
        assert!(
            store
                .platform()
                .heartbeat_job(high, "worker-b", 30_000)
                .await
                .unwrap()
        );

        // Its second failure is its last: it stops as failed with the error kept.
        assert!(
            store
                .platform()
                .fail_job(high, "worker-b", "ffmpeg exited with 1: Invalid data")
                .await
                .unwrap()
        );
        let scope = mstation_core::TenantScope {
            org_id: a.org.id,
            user_id: a.owner.id,
            role: mstation_core::Role::Owner,
            token_scopes: None,
            token_id: None,
        };
        let done = store.tenant(&scope).job(high).await.unwrap();
        assert_eq!(done.status, "failed");
        assert_eq!(
            done.last_error.as_deref(),
            Some("ffmpeg exited with 1: Invalid data")
        );

        // A failure with attempts left waits for its back-off before it can be claimed again.
        let j = store
            .platform()
            .claim_job("worker-b", &["test.render"], 30_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(j.id, low);
        assert!(
            store
                .platform()
                .fail_job(low, "worker-b", "transient")
                .await
                .unwrap()
        );
        assert!(
            store
                .platform()
                .claim_job("worker-b", &["test.render"], 30_000)
                .await
                .unwrap()
                .is_none(),
            "backing off"
        );
        let waiting = store.tenant(&scope).job(low).await.unwrap();
        assert_eq!((waiting.status.as_str(), waiting.attempts), ("queued", 1));
        assert!(waiting.run_after.0 > mstation_store::now_ms() + 1000);

        // Kinds a worker does not know are left alone.
        assert!(
            store
                .platform()
                .claim_job("worker-b", &["other.kind"], 30_000)
                .await
                .unwrap()
                .is_none()
        );

        // Org B sees none of it through the API.
        let bravo = srv.tenant("Bravo", "bravo").await;
        let (_, list) = srv.get(&bravo.token, "/api/v1/jobs").await;
        assert_eq!(list["total"], 0);
        let (_, list) = srv.get(&a.token, "/api/v1/jobs?status=failed").await;
        assert_eq!(list["total"], 1);

        // Every state each job passed through was announced, in order, with why it failed;
        // none of it is in the audit log of what people did.
        let events = store.platform().events_after(0, 1000).await.unwrap();
        let told = |id: uuid::Uuid| -> Vec<(String, Value)> {
            events
                .iter()
                .filter(|e| e.entity_id == Some(id))
                .map(|e| {
                    let p: Value = serde_json::from_str(&e.payload).unwrap();
                    assert_eq!(e.org_id, Some(a.org.id));
                    (e.kind.clone(), p["entity"].clone())
                })
                .collect()
        };
        let high_told = told(high);
        let kinds: Vec<&str> = high_told.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "job.queued",
                "job.started",
                "job.retrying",
                "job.started",
                "job.failed"
            ]
        );
        assert_eq!(
            high_told[2].1["error"],
            "the worker stopped answering (lease expired)"
        );
        assert_eq!(high_told[3].1["attempts"], 2);
        assert_eq!(
            high_told[4].1["error"],
            "ffmpeg exited with 1: Invalid data"
        );
        assert_eq!(high_told[4].1["kind"], "test.render");
        let low_told: Vec<String> = told(low).into_iter().map(|(k, _)| k).collect();
        assert_eq!(low_told, ["job.queued", "job.started", "job.retrying"]);
        let (s, audit) = srv.get(&a.token, "/api/v1/audit?limit=200").await;
        assert_eq!(s, 200);
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| !e["action"].as_str().unwrap().starts_with("job.")),
            "{audit}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_never_share_a_job() {
    for b in backends() {
        let srv = start_with_workers(b, 0).await;
        let a = srv.tenant("Alpha", "alpha").await;
        for i in 0..60 {
            srv.store()
                .platform()
                .enqueue(NewJob {
                    org_id: Some(a.org.id),
                    kind: "test.chunk".into(),
                    payload: json!({"i": i}),
                    priority: 0,
                    max_attempts: 1,
                    run_after: None,
                })
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..6 {
            let state = srv.state.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(j) = state
                    .store
                    .platform()
                    .claim_job(&format!("w{w}"), &["test.chunk"], 30_000)
                    .await
                    .unwrap()
                {
                    assert!(
                        state
                            .store
                            .platform()
                            .complete_job(j.id, &format!("w{w}"), &json!({"by": w}))
                            .await
                            .unwrap()
                    );
                    mine.push(j.id);
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(
            (n, all.len()),
            (60, 60),
            "{b:?}: every job ran exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_stops_receiving_events() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (viewer, token) = srv
        .member(
            &a,
            "viewer@alpha.example",
            mstation_core::Role::Viewer,
            &[mstation_core::TokenScope::Read],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stream = srv
        .http
        .get(format!("{}/api/v1/events", srv.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let r = srv
        .call(
            &a.token,
            reqwest::Method::DELETE,
            &format!("/api/v1/members/{}", viewer.id),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    // The stream ends within the recheck interval, whatever is still happening in the organisation.
    let ended = tokio::time::timeout(Duration::from_secs(12), async {
        let mut s = stream.bytes_stream();
        loop {
            match s.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {
                    let _ = srv
                        .call(
                            &a.token,
                            reqwest::Method::PATCH,
                            "/api/v1/org",
                            Some(json!({"name": "Alpha again"})),
                        )
                        .await;
                }
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the removed member's stream stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_do_not_reach_private_addresses() {
    let srv = start_with(Backend::Sqlite, 2, false).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let rx = Receiver::default();
    let url = receiver(rx.clone()).await;
    let (s, hook) = srv
        .post(
            &a.token,
            "/api/v1/webhooks",
            json!({"url": url, "events": ["*"]}),
        )
        .await;
    assert_eq!(s, 201);
    let hook_id = hook["webhook"]["id"].as_str().unwrap().to_string();
    // The first attempt fails for good (no retries in back-off), and the log says why.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let job = loop {
        let (_, jobs) = srv.get(&a.token, "/api/v1/jobs").await;
        let job = jobs["items"][0].clone();
        if job["status"] == "failed" {
            break job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery did not fail at once: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["attempts"], 1, "{job}");
    assert!(
        job["last_error"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{job}"
    );
    let (_, log) = srv
        .get(&a.token, &format!("/api/v1/webhooks/{hook_id}/deliveries"))
        .await;
    let attempts = log["items"].as_array().unwrap();
    assert!(!attempts.is_empty(), "{log}");
    for d in attempts {
        assert_eq!(d["attempt"], 1, "one attempt per event, no retries: {log}");
        assert!(
            d["error"]
                .as_str()
                .unwrap()
                .contains("not a public address"),
            "{log}"
        );
        assert!(d["status_code"].is_null());
    }
    let (s, v) = srv
        .post(
            &a.token,
            "/api/v1/webhooks",
            json!({"url": "http://[::1/hook", "events": ["*"]}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (422, Some("url")),
        "an address that does not parse is refused at creation: {v}"
    );
    assert!(
        rx.got.lock().unwrap().is_empty(),
        "the loopback receiver was reached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_that_lost_the_race_for_the_cursor_queues_nothing() {
    for b in backends() {
        eprintln!("-- backend: {b:?}");
        // No workers: this test moves the fan-out cursor itself, as two processes would.
        let srv = start_with_workers(b, 0).await;
        let a = srv.tenant("Alpha", "alpha").await;
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/webhooks",
                json!({"url": "http://127.0.0.1:9/hook", "events": ["invitation.*"]}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/invitations",
                json!({"email": "y@alpha.example", "role": "viewer"}),
            )
            .await;
        assert_eq!(s, 201);
        let events = srv.store().platform().events_after(0, 500).await.unwrap();
        let last = events.last().unwrap().seq;

        // The first process moves the cursor from 0 and queues the one delivery.
        let queued = srv
            .store()
            .platform()
            .fan_out_webhooks(&events, 0, last)
            .await
            .unwrap();
        assert_eq!(queued, 1);
        assert_eq!(srv.get(&a.token, "/api/v1/jobs").await.1["total"], 1);
        // A second one read the same batch: the cursor is no longer at 0, so it writes nothing.
        let queued = srv
            .store()
            .platform()
            .fan_out_webhooks(&events, 0, last)
            .await
            .unwrap();
        assert_eq!(queued, 0, "the delivery is queued once");
        assert_eq!(srv.get(&a.token, "/api/v1/jobs").await.1["total"], 1);
        assert_eq!(
            srv.store()
                .platform()
                .consumer_offset(mstation_store::events::webhooks::FANOUT_CONSUMER)
                .await
                .unwrap(),
            Some(last)
        );
    }
}

/// On PostgreSQL an outbox number can be taken by a write that is still open while later writes
/// commit. Every reader waits for it, however long it stays open (longer than the old 10 s
/// guess), and a server started meanwhile does not start past it: the stream on either server
/// and the webhook fan-out see the event, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_number_held_by_an_open_write_is_waited_for_by_every_reader() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    use sqlx::Connection;
    let first = start_with_workers(Backend::Postgres, 1).await;
    let a = first.tenant("Alpha", "alpha").await;
    let (s, _) = first
        .post(
            &a.token,
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/a", "events": ["slow.*", "project.*"]}),
        )
        .await;
    assert_eq!(s, 201);
    let stream = |srv: &Srv| {
        srv.http
            .get(format!("{}/api/v1/events", srv.base))
            .bearer_auth(&a.token)
            .send()
    };
    let on_first = stream(&first).await.unwrap();
    assert_eq!(on_first.status(), 200);

    // Two writes by hand. The later one gets its transaction id first, then the slow one takes
    // its id and an outbox number and stays open (as a long conform does), then the later one
    // takes the next number and commits: the slow one's id is above every id that has
    // completed, the case where a snapshot's xmax would wrongly pass it.
    let org = a.org.id;
    async fn audit(tx: &mut sqlx::PgConnection, org: uuid::Uuid, kind: &str) {
        sqlx::query("INSERT INTO audit_log (id, org_id, action, entity_type, at) VALUES ($1, $2, $3, 'slow', 0)")
            .bind(uuid::Uuid::now_v7())
            .bind(org)
            .bind(kind)
            .execute(tx)
            .await
            .unwrap();
    }
    async fn outbox(
        tx: &mut sqlx::PgConnection,
        org: uuid::Uuid,
        id: uuid::Uuid,
        kind: &str,
    ) -> i64 {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO outbox (id, org_id, kind, entity_type, payload, at) VALUES ($1, $2, $3, 'slow', '{}', $4) RETURNING seq",
        )
        .bind(id)
        .bind(org)
        .bind(kind)
        .bind(mstation_store::now_ms())
        .fetch_one(tx)
        .await
        .unwrap()
    }
    let mut later_conn = sqlx::PgConnection::connect(&first.url).await.unwrap();
    let mut later = sqlx::Connection::begin(&mut later_conn).await.unwrap();
    audit(&mut later, org, "later.done").await;
    let mut slow = sqlx::PgConnection::connect(&first.url).await.unwrap();
    let mut held = sqlx::Connection::begin(&mut slow).await.unwrap();
    audit(&mut held, org, "slow.done").await;
    let slow_id = uuid::Uuid::now_v7();
    let slow_seq = outbox(&mut held, org, slow_id, "slow.done").await;
    let later_seq = outbox(&mut later, org, uuid::Uuid::now_v7(), "later.done").await;
    later.commit().await.unwrap();
    assert_eq!(later_seq, slow_seq + 1);

    // A second server starts while the slow write is still open.
    let second = start_beside(&first, 0).await;
    let on_second = loop {
        let r = stream(&second).await.unwrap();
        if r.status() == 200 {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A stream resuming on the second server from before the held number.
    let resumed = second
        .http
        .get(format!("{}/api/v1/events", second.base))
        .bearer_auth(&a.token)
        .header("last-event-id", (slow_seq - 1).to_string())
        .send()
        .await
        .unwrap();
    // Held for longer than the old rule's 10 s, after which a reader took a hole for a rollback.
    tokio::time::sleep(Duration::from_millis(
        mstation_core::events::GAP_GRACE_MS as u64 + 1500,
    ))
    .await;
    held.commit().await.unwrap();

    // Every stream sees the held event in its place, before the later one: the first server's
    // (started before both), the stream resuming on the second server (the later event is old
    // news to that server but not to the stream); a stream started "now" on the second server
    // sees the held event only.
    let streams = [
        ("first", on_first, 5, 10),
        ("resumed", resumed, 2, 10),
        ("second", on_second, 2, 2),
    ];
    for (name, resp, wanted, within) in streams {
        let got = read_events(resp, wanted, Duration::from_secs(within)).await;
        let seqs: Vec<i64> = got.iter().map(|(id, _, _)| id.parse().unwrap()).collect();
        let kinds: Vec<&str> = got.iter().map(|(_, k, _)| k.as_str()).collect();
        let slow = kinds.iter().position(|k| *k == "slow.done");
        assert_eq!(slow.map(|i| seqs[i]), Some(slow_seq), "{name}: {kinds:?}");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{name}, in order: {seqs:?}"
        );
        let later = kinds.iter().position(|k| *k == "later.done");
        assert_eq!(later.is_some(), name != "second", "{name}: {kinds:?}");
        assert!(later.is_none_or(|l| slow < Some(l)), "{name}: {kinds:?}");
    }
    // The fan-out queued a delivery for the slow event too.
    let mut queued = 0;
    for _ in 0..100 {
        let (_, jobs) = first.get(&a.token, "/api/v1/jobs?limit=100").await;
        queued = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["payload"].to_string().contains(&slow_id.to_string()))
            .count();
        if queued > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(queued, 1, "one delivery of the slow event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_admin_stops_receiving_admin_events_at_once() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let all = [
            mstation_core::TokenScope::Read,
            mstation_core::TokenScope::Write,
        ];
        let (admin, token) = srv
            .member(&a, "admin@alpha.example", mstation_core::Role::Admin, &all)
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stream = srv
            .http
            .get(format!("{}/api/v1/events", srv.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["project.created"]});
        assert_eq!(
            srv.post(&a.token, "/api/v1/webhooks", hook.clone()).await.0,
            201
        );
        let r = srv
            .call(
                &a.token,
                reqwest::Method::PATCH,
                &format!("/api/v1/members/{}", admin.id),
                Some(json!({"role": "artist"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        // Right after the demotion: an administrative event, then an ordinary one.
        assert_eq!(srv.post(&a.token, "/api/v1/webhooks", hook).await.0, 201);
        let r = srv
            .call(
                &a.token,
                reqwest::Method::PATCH,
                "/api/v1/org",
                Some(json!({"name": "Alpha Films"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        let got = read_events(stream, 4, Duration::from_secs(4)).await;
        let kinds: Vec<&str> = got.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            ["webhook.created", "member.updated", "org.updated"],
            "the second webhook is not news to an artist"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_session_signs_out() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = browser
        .post(format!("{}/api/v1/auth/login", srv.base))
        .json(&json!({"email": a.owner.email, "password": a.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stream = browser
        .get(format!("{}/api/v1/events", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let r = browser
        .post(format!("{}/api/v1/auth/logout", srv.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Well inside the five-second recheck: the sign-out itself ends it.
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        let mut s = stream.bytes_stream();
        while let Some(Ok(_)) = s.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its session");
}
