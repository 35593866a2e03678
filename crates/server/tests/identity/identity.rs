//! Identity across servers: several `serve` processes share one database, and what one of them
//! changes about who may do what holds on the others within the promised 2 s.

use std::time::Duration;

use crate::common::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::json;

/// Polls `path` with `token` on `srv` until it answers `want`; fails after `within`.
async fn answers_within(srv: &Srv, token: &str, path: &str, want: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (s, v) = srv.get(token, path).await;
        if s == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} still answers {s} after {within:?}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_or_a_changed_role_holds_on_another_server_within_two_seconds() {
    on_every_backend(|first| async move {
        let second = start_beside(&first, 0).await;
        let a = first.tenant("Alpha", "alpha").await;
        let (producer, token) = first
            .member(&a, "pia@alpha.example", Role::Producer, &[TokenScope::Read])
            .await;
        // The second server has seen the token (and keeps it for up to 2 s).
        let (s, _) = second.get(&token, "/api/v1/audit").await;
        assert_eq!(s, 200);

        // Demoted to artist through the first server: the second refuses the audit log.
        let r = first
            .call(
                &a.token,
                Method::PATCH,
                &format!("/api/v1/members/{}", producer.id),
                Some(json!({"role": "artist"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        answers_within(
            &second,
            &token,
            "/api/v1/audit",
            403,
            Duration::from_millis(2500),
        )
        .await;

        // A token revoked through the first server stops working on the second.
        let (made, secret) = first
            .store()
            .platform()
            .create_token_for(
                &mstation_store::Actor::system(),
                a.org.id,
                a.owner.id,
                "script",
                &[TokenScope::Read],
                None,
            )
            .await
            .unwrap();
        let (s, _) = second.get(&secret, "/api/v1/org").await;
        assert_eq!(s, 200);
        let r = first
            .call(
                &a.token,
                Method::DELETE,
                &format!("/api/v1/tokens/{}", made.id),
                None,
            )
            .await;
        assert!(r.status().is_success(), "{}", r.status());
        answers_within(
            &second,
            &secret,
            "/api/v1/org",
            401,
            Duration::from_millis(2500),
        )
        .await;
    })
    .await;
}

/// A token made for `token` (or refused): `(status, secret, id)`.
async fn mint(srv: &Srv, token: &str, body: serde_json::Value) -> (u16, String, String) {
    let (s, v) = srv.post(token, "/api/v1/tokens", body).await;
    let secret = v["secret"].as_str().unwrap_or("").to_string();
    let id = v["token"]["id"].as_str().unwrap_or("").to_string();
    (s, secret, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_or_expiring_token_does_not_act_on_the_account() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
        let (s, read_only, read_only_id) = mint(
            &srv,
            &a.token,
            json!({"name": "dashboard", "scopes": ["read"]}),
        )
        .await;
        assert_eq!(s, 201);
        let (s, expiring, _) = mint(
            &srv,
            &a.token,
            json!({"name": "ci", "scopes": ["read", "write"], "expires_at": soon}),
        )
        .await;
        assert_eq!(s, 201);
        let (s, lasting, lasting_id) = mint(
            &srv,
            &a.token,
            json!({"name": "pipeline", "scopes": ["read", "write"]}),
        )
        .await;
        assert_eq!(s, 201);

        for (who, token) in [("read-only", &read_only), ("expiring", &expiring)] {
            let (s, _, _) = mint(&srv, token, json!({"name": "child", "scopes": ["read"]})).await;
            assert_eq!(s, 403, "a {who} token mints no token");
            let r = srv
                .call(
                    token,
                    Method::PATCH,
                    "/api/v1/me",
                    Some(json!({"timezone": "Asia/Shanghai"})),
                )
                .await;
            assert_eq!(r.status(), 403, "a {who} token does not change the profile");
            let r = srv
                .call(
                    token,
                    Method::DELETE,
                    &format!("/api/v1/tokens/{lasting_id}"),
                    None,
                )
                .await;
            assert_eq!(r.status(), 403, "a {who} token revokes no other token");
        }
        let (_, me) = srv.get(&a.token, "/api/v1/me").await;
        assert_ne!(me["user"]["timezone"], "Asia/Shanghai");
        let (_, t) = srv
            .get(&a.token, &format!("/api/v1/tokens/{lasting_id}"))
            .await;
        assert!(t["revoked_at"].is_null());

        // A lasting token that writes may; its child never outranks it.
        let (s, _, _) = mint(
            &srv,
            &lasting,
            json!({"name": "child", "scopes": ["admin"]}),
        )
        .await;
        assert_eq!(s, 403, "a child never outranks its parent");
        let (s, child, _) =
            mint(&srv, &lasting, json!({"name": "child", "scopes": ["read"]})).await;
        assert_eq!(s, 201);
        assert_eq!(srv.get(&child, "/api/v1/projects").await.0, 200);
        let r = srv
            .call(
                &lasting,
                Method::PATCH,
                "/api/v1/me",
                Some(json!({"timezone": "Asia/Shanghai"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        // Any token may revoke itself.
        let r = srv
            .call(
                &read_only,
                Method::DELETE,
                &format!("/api/v1/tokens/{read_only_id}"),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(srv.get(&read_only, "/api/v1/projects").await.0, 401);

        // A password is changed only when signed in, never with a token.
        let (s, v) = srv
            .post(
                &lasting,
                "/api/v1/auth/password",
                json!({"current_password": a.password, "new_password": "a much longer passphrase"}),
            )
            .await;
        assert_eq!(s, 403, "{v}");
        let r = srv
            .http
            .post(format!("{}/api/v1/auth/login", srv.base))
            .json(&json!({"email": a.owner.email, "password": a.password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the password is unchanged");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_password_counts_against_the_sign_in_limits() {
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
    let me: serde_json::Value = r.json().await.unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = browser
            .post(format!("{}/api/v1/auth/password", srv.base))
            .header("x-csrf-token", &csrf)
            .json(&json!({"current_password": format!("guess number {i}"), "new_password": "a much longer passphrase"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    // The sign-in above spent one of the account's ten tries a minute.
    assert_eq!(statuses[..9], [422; 9], "{statuses:?}");
    assert!(statuses[9..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = browser
        .post(format!("{}/api/v1/auth/password", srv.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": a.password, "new_password": "a much longer passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        429,
        "the right password waits too, like a sign-in would"
    );
    let r = srv
        .http
        .post(format!("{}/api/v1/auth/login", srv.base))
        .json(&json!({"email": a.owner.email, "password": a.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "one budget for the account");
}
