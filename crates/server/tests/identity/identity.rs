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
