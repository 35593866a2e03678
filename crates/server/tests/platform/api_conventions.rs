//! The conventions every endpoint keeps: strict decoding with problem+json answers, permissions,
//! optimistic concurrency, idempotency keys, cursor pagination, sessions with CSRF, and the
//! login rate limit. Each story runs on SQLite and on PostgreSQL.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn problem(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (_, v) = json(r).await;
    assert_eq!(ct, "application/problem+json", "status {status}: {v}");
    for k in ["type", "title", "status", "detail", "code"] {
        assert!(v.get(k).is_some(), "problem lacks {k}: {v}");
    }
    assert_eq!(v["status"], status);
    (status, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_a_clear_4xx() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let url = format!("{}/api/v1/tokens", srv.base);
        let send = |body: Vec<u8>, ct: &'static str| {
            srv.http
                .post(&url)
                .bearer_auth(&a.token)
                .header("content-type", ct)
                .body(body)
                .send()
        };
        let (s, v) = problem(
            send(b"{\"name\": ".to_vec(), "application/json")
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("request.malformed_json"))
        );
        let (s, v) = problem(
            send(
                br#"{"name": 5, "scopes": ["read"]}"#.to_vec(),
                "application/json",
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str(), v["field"].as_str()),
            (422, Some("request.invalid_body"), Some("name"))
        );
        let (s, v) = problem(
            send(
                br#"{"name": "x", "scopes": ["read"], "colour": "red"}"#.to_vec(),
                "application/json",
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(s, 422);
        assert!(v["detail"].as_str().unwrap().contains("colour"), "{v}");
        let (s, v) = problem(
            send(
                br#"{"name": "x", "scopes": ["root"]}"#.to_vec(),
                "application/json",
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(s, 422, "{v}");
        let (s, _) = problem(
            send(
                br#"{"name": "x", "scopes": ["read"]}"#.to_vec(),
                "text/plain",
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(s, 415);
        let big = format!(
            r#"{{"name": "{}", "scopes": ["read"]}}"#,
            "x".repeat(2 * 1024 * 1024)
        );
        let (s, v) = problem(send(big.into_bytes(), "application/json").await.unwrap()).await;
        assert_eq!((s, v["code"].as_str()), (413, Some("request.too_large")));
        let (s, v) = problem(
            send(
                br#"{"name": "", "scopes": ["read"]}"#.to_vec(),
                "application/json",
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!((s, v["field"].as_str()), (422, Some("name")));

        // Bad credentials of every shape.
        for auth in [
            "Bearer mst_nope",
            "Bearer",
            "Basic dXNlcjpwdw==",
            "Bearer \u{7f}",
        ] {
            let r = srv
                .http
                .get(format!("{}/api/v1/me", srv.base))
                .header("authorization", auth)
                .send()
                .await;
            if let Ok(r) = r {
                let (s, _) = problem(r).await;
                assert_eq!(s, 401, "{auth}");
            }
        }
        let (s, _) = problem(
            srv.http
                .get(format!("{}/api/v1/members", srv.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 401);

        // Queries and paths.
        let (s, v) = problem(
            srv.call(&a.token, Method::GET, "/api/v1/members?limit=lots", None)
                .await,
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("request.invalid_query"))
        );
        let (s, _) = problem(
            srv.call(&a.token, Method::GET, "/api/v1/members?colour=red", None)
                .await,
        )
        .await;
        assert_eq!(s, 400);
        let (s, v) = problem(
            srv.call(&a.token, Method::GET, "/api/v1/members?cursor=%%%", None)
                .await,
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("request.invalid_cursor"))
        );
        let (s, _) = problem(
            srv.call(&a.token, Method::GET, "/api/v1/members?sort=password", None)
                .await,
        )
        .await;
        assert_eq!(s, 400);
        let r = srv
            .call(&a.token, Method::GET, "/api/v1/tokens/not-a-uuid", None)
            .await;
        assert_eq!(r.status().as_u16(), 400);
        let (s, _) = problem(
            srv.call(&a.token, Method::GET, "/api/v1/nothing-here", None)
                .await,
        )
        .await;
        assert_eq!(s, 404);
        let r = srv
            .http
            .patch(format!("{}/api/v1/org", srv.base))
            .bearer_auth(&a.token)
            .header("if-match", "banana")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let (s, v) = problem(r).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("request.invalid_if_match"))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_zones_are_iana_names() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (_, org) = srv.get(&a.token, "/api/v1/org").await;
    assert_eq!(
        org["timezone"], "Asia/Shanghai",
        "the default for organisations that set none"
    );
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/org",
            Some(json!({"timezone": "Mars/Olympus_Mons"})),
        )
        .await;
    let (s, v) = problem(r).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("timezone")));
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/org",
            Some(json!({"timezone": "Europe/London"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"timezone": "Nowhere/Special"})),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"timezone": "America/Argentina/Buenos_Aires"})),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_follow_the_language() {
    let srv = start(Backend::Sqlite).await;
    let r = srv
        .http
        .get(format!("{}/api/v1/me", srv.base))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    let (_, v) = json(r).await;
    assert_eq!(v["title"], "需要登录");
    let r = srv
        .http
        .get(format!("{}/api/v1/me", srv.base))
        .header("accept-language", "en-GB")
        .send()
        .await
        .unwrap();
    let (_, v) = json(r).await;
    assert_eq!(v["title"], "Sign-in required");
    // The user's own setting wins over the browser's.
    let a = srv.tenant("Alpha", "alpha").await;
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"locale": "zh-CN"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = srv
        .http
        .get(format!(
            "{}/api/v1/webhooks/{}",
            srv.base,
            uuid::Uuid::now_v7()
        ))
        .bearer_auth(&a.token)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!((s, v["title"].as_str()), (404, Some("未找到")));
}

/// Whether `s` is written in Chinese: at least one CJK character.
fn chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_speak_the_callers_language() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let project = uuid::Uuid::now_v7();
    let send = |lang: Option<&'static str>, method: Method, path: String, body: Value| {
        let mut r = srv
            .http
            .request(method.clone(), format!("{}{}", srv.base, path))
            .bearer_auth(&a.token);
        if method == Method::PATCH {
            // Not the version the organisation is at.
            r = r.header("if-match", "\"999\"");
        }
        if !body.is_null() {
            r = r.json(&body);
        }
        if let Some(l) = lang {
            r = r.header("accept-language", l);
        }
        r.send()
    };
    let asks = || {
        [
            (
                Method::POST,
                "/api/v1/tokens".to_string(),
                json!({"name": "", "scopes": ["read"]}),
                422,
                "invalid_field",
            ),
            (
                Method::GET,
                format!("/api/v1/projects/{project}"),
                Value::Null,
                404,
                "not_found",
            ),
            (
                Method::PATCH,
                "/api/v1/org".to_string(),
                json!({"name": "Alpha Studio"}),
                409,
                "stale_version",
            ),
        ]
    };
    let mut zh = Vec::new();
    for (method, path, body, status, code) in asks() {
        let (s, v) = problem(send(Some("zh-CN"), method, path, body).await.unwrap()).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
        for k in ["title", "detail"] {
            let text = v[k].as_str().unwrap();
            assert!(chinese(text), "{code}: the {k} is not in Chinese: {text}");
        }
        zh.push(v);
    }
    assert_eq!(zh[0]["detail"], "name 为必填项。");
    assert_eq!(zh[0]["reason"], "required");
    assert_eq!(zh[1]["detail"], "你的机构中没有此 ID 的项目。");
    assert!(
        zh[2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("此机构已被他人修改")
    );
    let mut en = Vec::new();
    for (method, path, body, status, code) in asks() {
        let (s, v) = problem(send(None, method, path, body).await.unwrap()).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
        for k in ["title", "detail"] {
            let text = v[k].as_str().unwrap();
            assert!(text.is_ascii() && !chinese(text), "{code}: the {k}: {text}");
        }
        en.push(v);
    }
    assert_eq!(en[0]["title"], "A field is not valid");
    assert_eq!(en[0]["detail"], "name is required.");
    assert_eq!(
        en[1]["detail"],
        "There is no project with this id in your organisation."
    );
    assert!(
        en[2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("This organisation was changed by someone else"),
        "{}",
        en[2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_scopes_are_enforced() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, viewer) = srv
            .member(
                &a,
                "viewer@alpha.example",
                Role::Viewer,
                &[TokenScope::Read, TokenScope::Write, TokenScope::Admin],
            )
            .await;
        let (_, reader) = srv
            .member(
                &a,
                "admin-ro@alpha.example",
                Role::Admin,
                &[TokenScope::Read],
            )
            .await;
        let hook = json!({"url": "https://hooks.example.com/x", "events": ["*"]});
        let (s, v) = srv.post(&viewer, "/api/v1/webhooks", hook.clone()).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("auth.forbidden")),
            "a viewer cannot add webhooks"
        );
        let (s, _) = srv.post(&reader, "/api/v1/webhooks", hook.clone()).await;
        assert_eq!(
            s, 403,
            "a read-only token cannot add webhooks even for an admin"
        );
        let (s, _) = srv.get(&reader, "/api/v1/audit").await;
        assert_eq!(s, 200, "but it can read");
        let (s, _) = srv.get(&viewer, "/api/v1/audit").await;
        assert_eq!(s, 403, "viewers do not read the audit log");
        let (s, _) = srv.post(&a.token, "/api/v1/webhooks", hook).await;
        assert_eq!(s, 201);
        // A token cannot mint a wider token than itself.
        let (s, _) = srv
            .post(
                &reader,
                "/api/v1/tokens",
                json!({"name": "wider", "scopes": ["write"]}),
            )
            .await;
        assert_eq!(s, 403);
        // Nobody below owner makes owners; the last owner cannot leave.
        let (s, v) = srv.get(&a.token, "/api/v1/members?role=viewer").await;
        assert_eq!((s, v["total"].as_i64()), (200, Some(1)));
        let viewer_id = v["items"][0]["user_id"].as_str().unwrap().to_string();
        let (s, _) = json(
            srv.call(
                &reader,
                Method::PATCH,
                &format!("/api/v1/members/{viewer_id}"),
                Some(json!({"role": "owner"})),
            )
            .await,
        )
        .await;
        assert_eq!(s, 403);
        let (s, v) = json(
            srv.call(
                &a.token,
                Method::DELETE,
                &format!("/api/v1/members/{}", a.owner.id),
                None,
            )
            .await,
        )
        .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("identity.last_owner")));
        // A new role takes effect on the member's very next request, though their token was
        // just resolved (and is remembered for a moment).
        assert_eq!(srv.get(&viewer, "/api/v1/audit").await.0, 403);
        let (s, _) = json(
            srv.call(
                &a.token,
                Method::PATCH,
                &format!("/api/v1/members/{viewer_id}"),
                Some(json!({"role": "admin"})),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(srv.get(&viewer, "/api/v1/audit").await.0, 200);
        // A removed member's token stops working at once.
        let (s, _) = json(
            srv.call(
                &a.token,
                Method::DELETE,
                &format!("/api/v1/members/{viewer_id}"),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(s, 204);
        let (s, _) = srv.get(&viewer, "/api/v1/me").await;
        assert_eq!(s, 401);
        // A revoked token too.
        let (s, t) = srv
            .post(
                &a.token,
                "/api/v1/tokens",
                json!({"name": "short-lived", "scopes": ["read"]}),
            )
            .await;
        assert_eq!(s, 201);
        let secret = t["secret"].as_str().unwrap().to_string();
        assert_eq!(srv.get(&secret, "/api/v1/me").await.0, 200);
        let r = srv
            .call(
                &a.token,
                Method::DELETE,
                &format!("/api/v1/tokens/{}", t["token"]["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(srv.get(&secret, "/api/v1/me").await.0, 401);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_gets_409() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let r = srv.call(&a.token, Method::GET, "/api/v1/org", None).await;
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(etag, "\"1\"");
        let patch = |name: &'static str, etag: String| {
            srv.http
                .patch(format!("{}/api/v1/org", srv.base))
                .bearer_auth(&a.token)
                .header("if-match", etag)
                .json(&json!({"name": name}))
                .send()
        };
        // Two editors saw version 1; the first write wins, the second is told.
        let first = patch("Alpha Pictures", etag.clone()).await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["etag"], "\"2\"");
        let second = patch("Alpha Films", etag).await.unwrap();
        let (s, v) = problem(second).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("stale_version")));
        let (_, org) = srv.get(&a.token, "/api/v1/org").await;
        assert_eq!(org["name"], "Alpha Pictures");
        // The audit log kept before and after of the change that won.
        let (_, audit) = srv.get(&a.token, "/api/v1/audit?action=org.updated").await;
        assert_eq!(audit["total"], 1);
        assert_eq!(audit["items"][0]["before"]["name"], "Alpha");
        assert_eq!(audit["items"][0]["after"]["name"], "Alpha Pictures");
        assert_eq!(audit["items"][0]["actor_id"], json!(a.owner.id));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_creates_once() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let post = |key: &'static str, name: &'static str| {
            srv.http
                .post(format!("{}/api/v1/webhooks", srv.base))
                .bearer_auth(&a.token)
                .header("idempotency-key", key)
                .json(&json!({"url": "https://hooks.example.com/a", "events": ["member.*"], "description": name}))
                .send()
        };
        let (s1, first) = json(post("key-1", "first").await.unwrap()).await;
        let r = post("key-1", "first").await.unwrap();
        assert_eq!(r.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
        let (s2, again) = json(r).await;
        assert_eq!((s1, s2), (201, 201));
        assert_eq!(first["webhook"], again["webhook"], "the retry gets the first answer");
        assert!(first["secret"].is_string());
        assert!(again.get("secret").is_none(), "secrets are shown once and never stored");
        // The replay keeps the documented shape: every field the document requires is there.
        let doc: Value = srv.http.get(format!("{}/api/openapi.json", srv.base)).send().await.unwrap().json().await.unwrap();
        let required = |schema: &str| -> Vec<String> {
            doc["components"]["schemas"][schema]["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
        };
        for field in required("WebhookOut") {
            assert!(again.get(&field).is_some(), "the replay lacks the documented `{field}`: {again}");
        }
        for (path, body, schema) in [
            ("/api/v1/tokens", json!({"name": "ci", "scopes": ["read"]}), "TokenOut"),
            ("/api/v1/invitations", json!({"email": "new@alpha.example", "role": "viewer"}), "InvitationOut"),
        ] {
            let send = || srv.http.post(format!("{}{path}", srv.base)).bearer_auth(&a.token).header("idempotency-key", format!("k-{schema}")).json(&body).send();
            let (s1, _) = json(send().await.unwrap()).await;
            let (s2, replay) = json(send().await.unwrap()).await;
            assert_eq!((s1, s2), (201, 201), "{replay}");
            for field in required(schema) {
                assert!(replay.get(&field).is_some(), "{schema}: the replay lacks the documented `{field}`: {replay}");
            }
        }
        let (_, list) = srv.get(&a.token, "/api/v1/webhooks").await;
        assert_eq!(list["total"], 1, "and nothing twice");
        let (s, v) = json(post("key-1", "different").await.unwrap()).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("request.idempotency_key_reused")));
        let (s, _) = json(post("key-2", "second").await.unwrap()).await;
        assert_eq!(s, 201);
        let (_, list) = srv.get(&a.token, "/api/v1/webhooks").await;
        assert_eq!(list["total"], 2);
    })
    .await;
}

/// Three retries of one creation sent at once, round after round: one creates, the others get
/// its answer or "in flight", and a later retry still gets the first answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_one_idempotency_key_create_exactly_once() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Lanterns", "code": "LANT", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let pid = p["id"].as_str().unwrap().to_string();
        let (_, asset) = srv
            .post(&a.token, &format!("/api/v1/projects/{pid}/assets"), json!({"kind": "prop", "name": "Lantern"}))
            .await;
        let asset = asset["id"].as_str().unwrap().to_string();
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let types: Vec<String> = types["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
        let send = |path: String, key: String, body: Value| {
            srv.http
                .post(format!("{}{path}", srv.base))
                .bearer_auth(&a.token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
        };
        // Sends one request three times at once; answers the body of the one that created.
        let race = |path: String, key: String, body: Value| async move {
            let (r1, r2, r3) = tokio::join!(
                send(path.clone(), key.clone(), body.clone()),
                send(path.clone(), key.clone(), body.clone()),
                send(path.clone(), key.clone(), body.clone())
            );
            let mut created = Vec::new();
            for r in [r1, r2, r3] {
                let r = r.unwrap();
                let replayed = r.headers().contains_key("idempotent-replayed");
                let (status, v) = json(r).await;
                match (status, replayed) {
                    (201, false) => created.push(v),
                    (201, true) => {}
                    (409, _) => assert_eq!(v["code"], "request.idempotency_in_flight", "{v}"),
                    other => panic!("{other:?}: {v}"),
                }
            }
            assert_eq!(created.len(), 1, "exactly one of three creates: {created:?}");
            let again = send(path, key, body).await.unwrap();
            assert!(again.headers().contains_key("idempotent-replayed"), "a later retry is a replay");
            let (status, v) = json(again).await;
            assert_eq!(status, 201);
            assert_eq!(v, created[0], "with the first answer");
            created.pop().unwrap()
        };
        let mut tasks = Vec::new();
        for (i, ty) in types.iter().enumerate() {
            let body = json!({"tasks": [{"asset_id": asset, "task_type_id": ty}]});
            let v = race("/api/v1/tasks".into(), format!("task-{i}"), body).await;
            tasks.push(v["items"][0]["id"].as_str().unwrap().to_string());
        }
        let (_, list) = srv.get(&a.token, &format!("/api/v1/assets/{asset}/tasks")).await;
        assert_eq!(list["items"].as_array().unwrap().len(), types.len(), "one task per key: {list}");
        for round in 0..8 {
            let body = json!({"body": format!("Warmer light, take {round}")});
            race(format!("/api/v1/tasks/{}/notes", tasks[0]), format!("note-{round}"), body).await;
        }
        let (_, notes) = srv.get(&a.token, &format!("/api/v1/tasks/{}/notes", tasks[0])).await;
        assert_eq!(notes["items"].as_array().unwrap().len(), 8, "one note per key");
        // A failed creation releases its key: corrected, the same key creates.
        let bad = json!({"tasks": [{"asset_id": asset, "task_type_id": pid}]});
        let (s, _) = json(send("/api/v1/tasks".into(), "task-fix".into(), bad).await.unwrap()).await;
        assert_eq!(s, 422);
        let (_, other) = srv
            .post(&a.token, &format!("/api/v1/projects/{pid}/assets"), json!({"kind": "prop", "name": "Oil lamp"}))
            .await;
        let good = json!({"tasks": [{"asset_id": other["id"], "task_type_id": types[0]}]});
        let (s, v) = json(send("/api/v1/tasks".into(), "task-fix".into(), good).await.unwrap()).await;
        assert_eq!(s, 201, "{v}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_by_cursor_with_a_total() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        for i in 0..7 {
            let (s, _) = srv
                .post(
                    &a.token,
                    "/api/v1/invitations",
                    json!({"email": format!("p{i}@alpha.example"), "role": "artist"}),
                )
                .await;
            assert_eq!(s, 201);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/invitations?limit=3&cursor={c}"),
                None => "/api/v1/invitations?limit=3".into(),
            };
            let (s, page) = srv.get(&a.token, &path).await;
            assert_eq!(s, 200);
            assert_eq!(page["total"], 7);
            for i in page["items"].as_array().unwrap() {
                seen.push(i["email"].as_str().unwrap().to_string());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let expected: Vec<String> = (0..7).map(|i| format!("p{i}@alpha.example")).collect();
        assert_eq!(seen, expected, "every item once, in creation order");
        let (_, desc) = srv
            .get(&a.token, "/api/v1/invitations?limit=2&sort=-created_at")
            .await;
        assert_eq!(desc["items"][0]["email"], "p6@alpha.example");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_need_csrf_and_end_with_logout_or_password_change() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let jar = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let login = |pw: &str| jar.post(format!("{}/api/v1/auth/login", srv.base)).json(&json!({"email": a.owner.email, "password": pw})).send();
        let (s, v) = json(login("wrong password").await.unwrap()).await;
        assert_eq!((s, v["code"].as_str()), (401, Some("auth.bad_credentials")));
        let (s, me) = json(login(&a.password).await.unwrap()).await;
        assert_eq!(s, 200, "{me}");
        let csrf = me["csrf_token"].as_str().unwrap().to_string();
        let body = json!({"name": "from the browser", "scopes": ["read"]});
        let r = jar.post(format!("{}/api/v1/tokens", srv.base)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 403, "a cookie without the CSRF header cannot change anything");
        let r = jar.post(format!("{}/api/v1/tokens", srv.base)).header("x-csrf-token", &csrf).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let r = jar
            .post(format!("{}/api/v1/auth/password", srv.base))
            .header("x-csrf-token", &csrf)
            .json(&json!({"current_password": a.password, "new_password": "a much better passphrase"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = jar.get(format!("{}/api/v1/me", srv.base)).send().await.unwrap();
        assert_eq!(r.status(), 401, "changing the password ends sessions");
        let (s, _) = json(login("a much better passphrase").await.unwrap()).await;
        assert_eq!(s, 200);
        let r = jar.get(format!("{}/api/v1/me", srv.base)).send().await.unwrap();
        let csrf = json(r).await.1["csrf_token"].as_str().unwrap().to_string();
        let r = jar.post(format!("{}/api/v1/auth/logout", srv.base)).header("x-csrf-token", &csrf).send().await.unwrap();
        assert_eq!(r.status(), 204);
        let r = jar.get(format!("{}/api/v1/me", srv.base)).send().await.unwrap();
        assert_eq!(r.status(), 401);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_limited() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = srv
            .http
            .post(format!("{}/api/v1/auth/login", srv.base))
            .json(&json!({"email": a.owner.email, "password": "guess guess guess"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[10..], [429, 429]);
    // Even the right password waits out the window.
    let r = srv
        .http
        .post(format!("{}/api/v1/auth/login", srv.base))
        .json(&json!({"email": a.owner.email, "password": a.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_makes_a_member() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (s, inv) = srv
            .post(
                &a.token,
                "/api/v1/invitations",
                json!({"email": "Mei.Lin@Alpha.example", "role": "coordinator"}),
            )
            .await;
        assert_eq!(s, 201, "{inv}");
        let token = inv["token"].as_str().unwrap();
        let r = srv
            .http
            .post(format!("{}/api/v1/invitations/accept", srv.base))
            .json(
                &json!({"token": token, "display_name": "Mei Lin", "password": "lantern festival"}),
            )
            .send()
            .await
            .unwrap();
        let (s, v) = json(r).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["org"]["id"], json!(a.org.id));
        let r = srv
            .http
            .post(format!("{}/api/v1/invitations/accept", srv.base))
            .json(
                &json!({"token": token, "display_name": "Mei Lin", "password": "lantern festival"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "an invitation works once");
        let (_, m) = srv.get(&a.token, "/api/v1/members?role=coordinator").await;
        assert_eq!(m["items"][0]["email"], "mei.lin@alpha.example");
        let r = srv
            .http
            .post(format!("{}/api/v1/auth/login", srv.base))
            .json(&json!({"email": "mei.lin@alpha.example", "password": "lantern festival"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    })
    .await;
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "read",
            "write",
            "admin",
            "owner",
            "viewer",
            "*",
            "https://x.example/y",
            "name",
            "scopes"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "name",
                    "scopes",
                    "email",
                    "role",
                    "url",
                    "events",
                    "expires_at",
                    "grantee_org_id",
                    "project_id",
                    "permissions",
                    "token",
                    "locale",
                    "x"
                ])
                .prop_map(str::to_string),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Fuzzes the decoding of every creating endpoint with arbitrary JSON and arbitrary bytes:
/// the answer is always a 2xx or a 4xx problem, never a 5xx and never a dropped connection.
#[test]
fn request_decoding_never_fails_the_server() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (srv, token) = rt.block_on(async {
        let srv = start_with_workers(Backend::Sqlite, 0).await;
        let a = srv.tenant("Alpha", "alpha").await;
        (srv, a.token)
    });
    let endpoints = [
        (Method::POST, "/api/v1/tokens"),
        (Method::POST, "/api/v1/webhooks"),
        (Method::POST, "/api/v1/invitations"),
        (Method::POST, "/api/v1/grants"),
        (Method::PATCH, "/api/v1/org"),
        (Method::PATCH, "/api/v1/me"),
        (Method::POST, "/api/v1/auth/login"),
        (Method::POST, "/api/v1/invitations/accept"),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 400,
        ..Default::default()
    });
    let strategy = (
        0..endpoints.len(),
        prop_oneof![
            arb_json().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..200)
        ],
    );
    runner
        .run(&strategy, |(i, body)| {
            let (method, path) = endpoints[i].clone();
            let status = rt.block_on(async {
                srv.http
                    .request(method, format!("{}{}", srv.base, path))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            let status =
                status.map_err(|e| TestCaseError::fail(format!("connection failed: {e}")))?;
            prop_assert!(
                status < 500,
                "{path} answered {status} to {:?}",
                String::from_utf8_lossy(&body)
            );
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_with_one_etag_get_one_success() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let path = format!("{}/api/v1/projects/{}", srv.base, p["id"].as_str().unwrap());
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (http, path, token) = (srv.http.clone(), path.clone(), a.token.clone());
            tasks.push(tokio::spawn(async move {
                http.patch(&path).bearer_auth(token).header("if-match", "\"1\"").json(&json!({"name": format!("Moonlight {i}")})).send().await.unwrap().status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409], "exactly one writer wins; no lost update");
        let (_, now) = srv.get(&a.token, &format!("/api/v1/projects/{}", p["id"].as_str().unwrap())).await;
        assert_eq!(now["version"], 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_belongs_to_its_endpoint() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let mut projects = Vec::new();
    for code in ["ONE", "TWO"] {
        let (_, p) = srv
            .post(
                &a.token,
                "/api/v1/projects",
                json!({"name": code, "code": code, "fps": "25", "width": 1920, "height": 1080}),
            )
            .await;
        projects.push(p["id"].as_str().unwrap().to_string());
    }
    let send = |p: &String| {
        srv.http
            .post(format!("{}/api/v1/projects/{p}/sequences", srv.base))
            .bearer_auth(&a.token)
            .header("idempotency-key", "same")
            .json(&json!({"name": "SQ010"}))
            .send()
    };
    let (s, first) = json(send(&projects[0]).await.unwrap()).await;
    assert_eq!(
        (s, first["project_id"].as_str()),
        (201, Some(projects[0].as_str()))
    );
    // The same key and body on another project's endpoint is another request: refused, never
    // answered with the first project's sequence.
    let (s, v) = json(send(&projects[1]).await.unwrap()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("request.idempotency_key_reused")),
        "{v}"
    );
    let (_, seqs) = srv
        .get(
            &a.token,
            &format!("/api/v1/projects/{}/sequences", projects[1]),
        )
        .await;
    assert_eq!(seqs["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_blind_writes_all_apply() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080})).await;
        let path = format!("{}/api/v1/projects/{}", srv.base, p["id"].as_str().unwrap());
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (http, path, token) = (srv.http.clone(), path.clone(), a.token.clone());
            tasks.push(tokio::spawn(async move {
                http.patch(&path).bearer_auth(token).json(&json!({"head_handles": i})).send().await.unwrap().status().as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200, "a write without If-Match waits its turn instead of failing");
        }
        let (_, now) = srv.get(&a.token, &format!("/api/v1/projects/{}", p["id"].as_str().unwrap())).await;
        assert_eq!(now["version"], 9);
    })
    .await;
}

/// Sign-in attempts from different addresses (different e-mails, so only the address limit
/// counts), each client sending its `X-Forwarded-For` lines; answers the statuses of each
/// client's attempts.
async fn attempts(srv: &Srv, clients: &[&[&str]], each: usize) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    for (c, lines) in clients.iter().enumerate() {
        let mut statuses = Vec::new();
        for n in 0..each {
            let mut req = srv
                .http
                .post(format!("{}/api/v1/auth/login", srv.base))
                .json(&json!({"email": format!("nobody{c}-{n}@example.com"), "password": "guess guess guess"}));
            for line in lines.iter() {
                req = req.header("x-forwarded-for", *line);
            }
            statuses.push(req.send().await.unwrap().status().as_u16());
        }
        out.push(statuses);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_limiter_counts_each_client() {
    // The test client connects from 127.0.0.1: here that is the trusted proxy.
    let srv = start_behind(Backend::Sqlite, &["127.0.0.1"]).await;
    let got = attempts(
        &srv,
        &[
            &["198.51.100.1"],
            &["198.51.100.2"],
            &["6.6.6.6, 198.51.100.1"],
            // A proxy that adds a line of its own after the client's.
            &["7.7.7.7", "198.51.100.1"],
            // The same client with a port, as some proxies write it.
            &["198.51.100.1:4711"],
        ],
        11,
    )
    .await;
    assert_eq!(got[0][..10], [401; 10]);
    assert_eq!(got[0][10], 429, "the first client is limited");
    assert_eq!(
        got[1][..10],
        [401; 10],
        "the second has attempts of its own"
    );
    // What the proxy added counts, not what the client wrote before it.
    for limited in &got[2..] {
        assert!(limited.iter().all(|s| *s == 429), "{limited:?}");
    }

    // Not a trusted proxy: the header is ignored, and one address is one address.
    let srv = start(Backend::Sqlite).await;
    let got = attempts(&srv, &[&["198.51.100.1"], &["198.51.100.2"]], 6).await;
    assert_eq!(got[0], [401; 6]);
    assert_eq!(got[1][..4], [401; 4]);
    assert_eq!(
        got[1][4..],
        [429, 429],
        "a made-up header does not escape the limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_from_many_addresses_is_limited_and_one_ipv6_64_is_one_client() {
    let srv = start_behind(Backend::Sqlite, &["127.0.0.1"]).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let login = |from: String, password: &'static str| {
        let (http, url, email) = (
            srv.http.clone(),
            format!("{}/api/v1/auth/login", srv.base),
            a.owner.email.clone(),
        );
        async move {
            http.post(url)
                .header("x-forwarded-for", from)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // One account guessed at from a new address each time: the account's own budget holds.
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(login(format!("203.0.113.{n}"), "guess guess guess").await);
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(
        statuses[10..],
        [429, 429],
        "the eleventh try on the account waits, from anywhere"
    );
    assert_eq!(
        login("198.51.100.77".into(), "the right one is no key").await,
        429,
        "even a fresh address with any password waits"
    );

    // Two addresses of one IPv6 /64 share one budget; the next /64 has its own.
    let got = attempts(
        &srv,
        &[
            &["2001:db8:1:2::1"],
            &["2001:db8:1:2:ffff:ffff:ffff:9"],
            &["2001:db8:1:3::1"],
        ],
        6,
    )
    .await;
    assert_eq!(got[0], [401; 6]);
    assert_eq!(got[1][..4], [401; 4]);
    assert_eq!(
        got[1][4..],
        [429, 429],
        "the second address of the /64 spends the first's budget"
    );
    assert_eq!(got[2], [401; 6], "another /64 is another client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_size_outside_its_range_is_refused_not_changed() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        for path in ["/api/v1/projects", "/api/v1/tasks", "/api/v1/members"] {
            for bad in ["0", "501", "100000"] {
                let (s, v) = srv.get(&a.token, &format!("{path}?limit={bad}")).await;
                assert_eq!(
                    (s, v["code"].as_str()),
                    (400, Some("request.invalid_query")),
                    "{path} {bad}: {v}"
                );
                assert!(v["detail"].as_str().unwrap().contains("500"), "{v}");
            }
            let (s, v) = srv.get(&a.token, &format!("{path}?limit=500")).await;
            assert_eq!(s, 200, "{path}: {v}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_path_id_and_an_unknown_method_are_problems_too() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        for id in ["not-an-id".to_string(), "x".repeat(6000)] {
            let (s, v) = srv.get(&a.token, &format!("/api/v1/projects/{id}")).await;
            assert_eq!(
                (s, v["code"].as_str()),
                (400, Some("request.invalid_path")),
                "{v}"
            );
        }
        let r = srv
            .http
            .request(
                Method::from_bytes(b"BREW").unwrap(),
                format!("{}/api/v1/projects", srv.base),
            )
            .bearer_auth(&a.token)
            .header("accept-language", "zh-CN")
            .send()
            .await
            .unwrap();
        let allow = r
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string());
        let (s, v) = problem(r).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (405, Some("request.method_not_allowed")),
            "{v}"
        );
        assert!(
            allow.is_some_and(|a| a.contains("GET")),
            "the allowed methods are named"
        );
        assert!(
            !v["title"].as_str().unwrap().is_ascii(),
            "in the caller's language: {v}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_keep_bounded_labels_and_can_be_kept_to_a_scraper() {
    let srv = start(Backend::Sqlite).await;
    let metrics = format!("{}/metrics", srv.base);
    for i in 0..20 {
        let m = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let _ = srv
            .http
            .request(m, format!("{}/api/v1/projects", srv.base))
            .send()
            .await
            .unwrap();
    }
    let text = srv
        .http
        .get(&metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("MADEUP"),
        "a made-up method is no label of its own"
    );
    assert!(text.contains("method=\"other\""), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("mstation_http_requests_total"))
        .count();
    assert!(series < 10, "{series} series from 20 made-up methods");

    srv.state.metrics_token.set("scrape-secret".into()).unwrap();
    let r = srv.http.get(&metrics).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = srv
        .http
        .get(&metrics)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = srv
        .http
        .get(&metrics)
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// An edit to conform may be larger than other bodies: a 15,000-event EDL written as editing
/// systems pad it (1.8 MB) is read; the same size elsewhere is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_edl_is_taken_where_other_bodies_are_not() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (_, p) = srv
        .post(
            &a.token,
            "/api/v1/projects",
            json!({"name": "Big", "code": "BIG", "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    let (_, seq) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{}/sequences", p["id"].as_str().unwrap()),
            json!({"name": "SQ010"}),
        )
        .await;
    let tc = |f: i64| {
        format!(
            "{:02}:{:02}:{:02}:{:02}",
            f / 86400,
            f / 1440 % 60,
            f / 24 % 60,
            f % 24
        )
    };
    let mut edl = String::from("TITLE: BIG\nFCM: NON-DROP FRAME\n");
    for i in 0..15_000i64 {
        let rec = 86_400 + 24 * i;
        edl.push_str(&format!("{:03}  R{i:06}  V     C        10:00:00:00 10:00:01:00 {} {}\n* FROM CLIP NAME: R{i:06}_PLATE.MOV\n", i % 999 + 1, tc(rec), tc(rec + 24)));
    }
    let body = json!({"format": "cmx3600", "edl": edl, "apply": false});
    assert!(
        body.to_string().len() > 3 * 1024 * 1024 / 2,
        "well over the 1 MiB other bodies may send"
    );
    let (s, v) = srv
        .post(
            &a.token,
            &format!("/api/v1/sequences/{}/conform", seq["id"].as_str().unwrap()),
            body,
        )
        .await;
    assert_eq!(s, 200, "{}", &v.to_string()[..v.to_string().len().min(300)]);
    assert_eq!(v["new"].as_array().unwrap().len(), 15_000);
    let (s, v) = srv.post(&a.token, "/api/v1/projects", json!({"name": "x".repeat(2 * 1024 * 1024), "code": "AB", "fps": "24", "width": 100, "height": 100})).await;
    assert_eq!((s, v["code"].as_str()), (413, Some("request.too_large")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_declared_or_chunked_are_413_problems() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let big = format!(
        r#"{{"name": "{}", "code": "AB", "fps": "24", "width": 100, "height": 100}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    // A chunked body (no Content-Length) is read up to the limit, then refused.
    for (path, ct, auth) in [
        ("/api/v1/projects", "application/json", true),
        ("/signin", "application/x-www-form-urlencoded", false),
    ] {
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(
            big.clone()
                .into_bytes()
                .chunks(64 * 1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        ));
        let mut r = srv
            .http
            .post(format!("{}{path}", srv.base))
            .header("content-type", ct)
            .body(body);
        if auth {
            r = r.bearer_auth(&a.token);
        }
        let r = r.send().await.expect("an answer, never a reset connection");
        assert_eq!(r.status(), 413, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["code"], "request.too_large");
        // And with its length declared.
        let mut r = srv
            .http
            .post(format!("{}{path}", srv.base))
            .header("content-type", ct)
            .body(big.clone());
        if auth {
            r = r.bearer_auth(&a.token);
        }
        let r = r.send().await.expect("an answer, never a reset connection");
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["content-type"].to_str().unwrap()
            ),
            (413, "application/problem+json"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_accepted_by_a_member_records_what_happened() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (artist, _) = srv
            .member(&a, "li.na@alpha.example", Role::Artist, &[TokenScope::Read])
            .await;
        let (s, inv) = srv
            .post(
                &a.token,
                "/api/v1/invitations",
                json!({"email": "li.na@alpha.example", "role": "producer"}),
            )
            .await;
        assert_eq!(s, 201, "{inv}");
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r = browser
            .post(format!("{}/api/v1/auth/login", srv.base))
            .json(&json!({"email": "li.na@alpha.example", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let me: Value = r.json().await.unwrap();
        let r = browser
            .post(format!("{}/api/v1/invitations/accept", srv.base))
            .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
            .json(&json!({"token": inv["token"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, m) = srv
            .get(&a.token, &format!("/api/v1/members/{}", artist.id))
            .await;
        assert_eq!(
            m["role"], "artist",
            "an invitation never changes a member's role"
        );
        let (_, audit) = srv.get(&a.token, "/api/v1/audit?limit=1").await;
        let last = &audit["items"][0];
        assert_eq!(
            last["action"], "invitation.accepted",
            "not a member added: {last}"
        );
        assert_eq!(last["after"]["already_a_member"], true);
        assert_eq!(
            (
                last["after"]["role"].as_str(),
                last["after"]["invited_as"].as_str()
            ),
            (Some("artist"), Some("producer"))
        );
    })
    .await;
}
