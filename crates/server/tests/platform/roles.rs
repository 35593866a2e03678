//! The role walk: every endpoint of the OpenAPI document, called by a member of each role with a
//! token carrying every scope, gets what the table below says and nothing more. A role the table
//! leaves out is refused with `auth.forbidden` (and changes nothing); a role it names is never
//! refused for its role. A new endpoint fails this test until it has a row.

use std::collections::HashMap;

use crate::common::*;
use crate::tenant_isolation::{body_for, one_of_everything};
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

use Role::*;

/// The role groups the API's and the pages' role walks share (`page_roles.rs`).
pub(crate) const EVERYONE: &[Role] = &[
    Owner,
    Admin,
    Producer,
    Coordinator,
    Supervisor,
    Artist,
    Finance,
    Viewer,
    Client,
];
/// Members, invitations, webhooks, organisation settings.
pub(crate) const ADMINS: &[Role] = &[Owner, Admin];
/// Projects, workflows, custom field definitions, collaboration grants.
pub(crate) const PRODUCERS: &[Role] = &[Owner, Admin, Producer];
/// Sequences, episodes, assets, tasks, assignments, casting, custom values, conforms.
pub(crate) const PLANNERS: &[Role] = &[Owner, Admin, Producer, Coordinator];
/// Notes, and the statuses the workflow gives the role.
pub(crate) const REVIEWERS: &[Role] = &[
    Owner,
    Admin,
    Producer,
    Coordinator,
    Supervisor,
    Artist,
    Client,
];
/// Versions, time logs, playlists.
pub(crate) const MAKERS: &[Role] = &[Owner, Admin, Producer, Coordinator, Supervisor, Artist];
/// The audit log.
pub(crate) const AUDITORS: &[Role] = &[Owner, Admin, Producer, Finance];
/// Who reads the ledger, and who moves money.
pub(crate) const LEDGER_READERS: &[Role] = &[Owner, Admin, Producer, Finance];
pub(crate) const LEDGER_KEEPERS: &[Role] = &[Owner, Admin, Finance];
/// Who lists media in the market (and reads its sales), who buys licences, and who uses them.
pub(crate) const SELLERS: &[Role] = &[Owner, Admin, Producer];
pub(crate) const BUYERS: &[Role] = &[Owner, Admin, Producer, Finance];
pub(crate) const LICENCE_USERS: &[Role] = &[
    Owner,
    Admin,
    Producer,
    Coordinator,
    Supervisor,
    Artist,
    Finance,
];
/// Who finds people in the talent directory, and who keeps the organisation's profiles.
pub(crate) const TALENT_FINDERS: &[Role] = &[Owner, Admin, Producer, Coordinator, Supervisor];
pub(crate) const TALENT_KEEPERS: &[Role] = &[Owner, Admin, Producer, Coordinator];
/// Who reads work orders (both sides of them); producers post, award, bid and deliver.
pub(crate) const ORDER_READERS: &[Role] = &[Owner, Admin, Producer, Coordinator, Finance];
const JOB_READERS: &[Role] = &[
    Owner,
    Admin,
    Producer,
    Coordinator,
    Supervisor,
    Artist,
    Finance,
];

/// Who may call an operation; `None` for those this walk does not cover, with the reason.
fn table(method: &Method, path: &str) -> Result<&'static [Role], &'static str> {
    let m = method.as_str();
    Ok(match (m, path) {
        (_, p) if p.starts_with("/api/v1/auth/") => {
            return Err("signing in and out: identity tests");
        }
        ("POST", "/api/v1/invitations/accept") => {
            return Err("accepted by the invitee: identity tests");
        }
        ("POST", "/api/v1/orgs") => return Err("platform operators only: identity tests"),
        ("GET", "/api/v1/me/data") | ("POST", "/api/v1/me/erase") => {
            return Err("a person's own data, signed in only: identity privacy tests");
        }
        ("GET", "/api/v1/events") => return Err("a stream: events tests"),
        ("GET", "/api/v1/review-sessions/{session_id}/stream") => {
            return Err("a stream: review session tests");
        }
        (_, "/healthz" | "/readyz" | "/metrics") => return Err("not an organisation's"),
        ("HEAD", _) => return Err("a HEAD answer has no body to name a refusal: media tests"),
        ("OPTIONS", "/files") => EVERYONE,
        // The platform's own agents: no member of an organisation, whatever the role.
        (_, p) if p.starts_with("/api/v1/agent/") => &[],
        // Uploads: a member's own, sent by those who make the work.
        (_, "/files" | "/files/{upload_id}") => MAKERS,
        // Camera-card ingests: sent by those who make the work, like uploads.
        (
            "POST",
            "/api/v1/projects/{project_id}/ingests"
            | "/api/v1/ingests/{ingest_id}/finish"
            | "/api/v1/ingests/{ingest_id}/seal",
        ) => MAKERS,
        ("GET", "/api/v1/audit") => AUDITORS,
        ("GET", p) if p.starts_with("/api/v1/ledger/") => LEDGER_READERS,
        ("POST", p) if p.starts_with("/api/v1/ledger/") => LEDGER_KEEPERS,
        ("GET", p) if p.starts_with("/api/v1/jobs") => JOB_READERS,
        // The market: the storefront is everyone's to browse (the last GET row below).
        (_, p) if p.starts_with("/api/v1/market/listings") => SELLERS,
        ("GET", "/api/v1/market/sales") => SELLERS,
        ("POST", "/api/v1/market/checkout" | "/api/v1/market/licences/{licence_id}/refund") => {
            BUYERS
        }
        (_, p) if p.starts_with("/api/v1/market/licences") => LICENCE_USERS,
        ("GET", "/api/v1/market/wallets") => LEDGER_READERS,
        ("POST", "/api/v1/market/wallets/credit") => LEDGER_KEEPERS,
        // A contributor's terms and what it was paid; the operator's finance announces terms
        // and pays out months.
        ("GET", "/api/v1/market/terms" | "/api/v1/market/payouts") => SELLERS,
        ("POST", "/api/v1/market/agreements" | "/api/v1/market/payout-batches") => LEDGER_KEEPERS,
        ("GET", "/api/v1/market/payout-batches") => LEDGER_READERS,
        // The review of held listings: the operator's administrators (refused to any other
        // organisation by the store).
        (_, p) if p.starts_with("/api/v1/market/review") => ADMINS,
        // A school's training records: read and written by those who keep its profiles.
        ("GET", "/api/v1/talent/training") => TALENT_KEEPERS,
        ("GET", p) if p.starts_with("/api/v1/talent/") => TALENT_FINDERS,
        // A wrapped project credits its crew: its producers give the credits, its planners
        // read whom they went to.
        ("POST", "/api/v1/projects/{project_id}/credits") => PRODUCERS,
        ("GET", "/api/v1/projects/{project_id}/credits") => PLANNERS,
        ("DELETE", "/api/v1/projects/{project_id}/credits/{credit_id}") => PRODUCERS,
        (_, p) if p.starts_with("/api/v1/talent/") => TALENT_KEEPERS,
        // The operator's finance reads the disputes and rules on them (refused to any other
        // organisation by the store).
        ("GET", "/api/v1/work-orders/disputes") => LEDGER_READERS,
        ("POST", "/api/v1/work-orders/{order_id}/ruling") => LEDGER_KEEPERS,
        // The work an award shares: every member may ask (the store shows a vendor's artist
        // the tasks it is on and nothing else); notes by reviewers, versions by makers, the
        // vendor's artists put on tasks by its planners.
        (
            "GET",
            "/api/v1/work-orders/assigned"
            | "/api/v1/work-orders/{order_id}/work"
            | "/api/v1/work-orders/{order_id}/work/{item_id}"
            | "/api/v1/work-orders/{order_id}/media/{media_id}/content"
            | "/api/v1/work-orders/{order_id}/media/{media_id}/proxy",
        ) => EVERYONE,
        ("POST", "/api/v1/work-orders/{order_id}/work/{item_id}/notes") => REVIEWERS,
        ("POST", "/api/v1/work-orders/{order_id}/work/{item_id}/versions") => MAKERS,
        ("PUT", "/api/v1/work-orders/{order_id}/work/{item_id}/artists") => PLANNERS,
        ("GET", p) if p.starts_with("/api/v1/work-orders") => ORDER_READERS,
        (_, p) if p.starts_with("/api/v1/work-orders") => PRODUCERS,
        // A member's own cart: those who buy for the organisation.
        (_, p) if p.starts_with("/api/v1/market/cart") => BUYERS,
        (_, p) if p.starts_with("/api/v1/webhooks") => ADMINS,
        (_, p) if p.starts_with("/api/v1/invitations") => ADMINS,
        ("PATCH" | "DELETE", p) if p.starts_with("/api/v1/members/") => ADMINS,
        ("PATCH", "/api/v1/org") => ADMINS,
        ("POST" | "DELETE", p) if p.starts_with("/api/v1/grants") => PRODUCERS,
        // A member's own tokens and profile.
        (_, p) if p.starts_with("/api/v1/tokens") || p == "/api/v1/me" => EVERYONE,
        // A member's own saved views of the grids.
        ("POST", "/api/v1/projects/{project_id}/views") | ("DELETE", "/api/v1/views/{view_id}") => {
            EVERYONE
        }
        // Share links name who they are for: producers' and coordinators' to make and see.
        (_, p) if p.contains("share-links") || p.starts_with("/api/v1/guest-notes/") => PLANNERS,
        // A client's held note is published to the team by a producer or coordinator.
        ("POST", "/api/v1/notes/{note_id}/publish") => PLANNERS,
        ("GET", _) => EVERYONE,
        ("POST", "/api/v1/projects") | ("PATCH", "/api/v1/projects/{project_id}") => PRODUCERS,
        ("PATCH", "/api/v1/statuses/{status_id}") => PRODUCERS,
        ("POST", "/api/v1/projects/{project_id}/fields") => PRODUCERS,
        (_, "/api/v1/fields/{field_id}") => PRODUCERS,
        (_, p) if p.ends_with("/fields") => PLANNERS,
        (
            "POST",
            "/api/v1/projects/{project_id}/sequences"
            | "/api/v1/projects/{project_id}/episodes"
            | "/api/v1/projects/{project_id}/assets",
        ) => PLANNERS,
        (
            _,
            "/api/v1/sequences/{sequence_id}"
            | "/api/v1/episodes/{episode_id}"
            | "/api/v1/assets/{asset_id}",
        ) => PLANNERS,
        ("POST", "/api/v1/sequences/{sequence_id}/conform") => PLANNERS,
        ("POST", "/api/v1/media/{media_id}/cuts") => MAKERS,
        (_, "/api/v1/shots/{shot_id}/assets/{asset_id}") => PLANNERS,
        ("POST", "/api/v1/tasks")
        | ("POST", "/api/v1/tasks/bulk-update")
        | ("PATCH", "/api/v1/tasks/{task_id}") => PLANNERS,
        ("POST", p) if p.ends_with("/notes") => REVIEWERS,
        (
            "POST",
            "/api/v1/tasks/{task_id}/versions"
            | "/api/v1/tasks/{task_id}/time-logs"
            | "/api/v1/projects/{project_id}/playlists",
        ) => MAKERS,
        (_, "/api/v1/time-logs/{time_log_id}" | "/api/v1/playlists/{playlist_id}/items") => MAKERS,
        // Review sessions: started and taken over by those who make the work; moved by the
        // presenter and ended (by the presenter, the starter or a planner) by reviewers.
        (
            "POST",
            "/api/v1/playlists/{playlist_id}/sessions"
            | "/api/v1/review-sessions/{session_id}/presenter",
        ) => MAKERS,
        (
            "PUT" | "POST",
            "/api/v1/review-sessions/{session_id}/playhead"
            | "/api/v1/review-sessions/{session_id}/end",
        ) => REVIEWERS,
        _ => panic!("{m} {path} has no row in the role table: say who may call it"),
    })
}

/// Bodies that reach the permission check with the change the row is about (the OpenAPI sample
/// otherwise): a planning change of a task, an applied conform.
fn body(
    doc: &Value,
    op: &Value,
    method: &Method,
    path: &str,
    f: &HashMap<&str, String>,
) -> Option<Value> {
    match (method.as_str(), path) {
        ("PATCH", "/api/v1/tasks/{task_id}") => Some(json!({"priority": 2})),
        ("POST", "/api/v1/tasks/bulk-update") => {
            Some(json!({"updates": [{"id": f["task_id"], "priority": 2}]}))
        }
        ("POST", "/api/v1/sequences/{sequence_id}/conform") => {
            Some(json!({"format": "cmx3600", "apply": true,
            "edl": "TITLE: ALPHA\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n"}))
        }
        _ => body_for(doc, op),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_gets_what_the_table_says_and_nothing_more() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Pictures", "alpha-pictures").await;
        let c = srv.tenant("Charlie VFX", "charlie-vfx").await;
        let fixtures = one_of_everything(&srv, &a, &c).await;
        let all = [TokenScope::Read, TokenScope::Write, TokenScope::Admin];
        let mut tokens: Vec<(Role, String)> = vec![(Owner, a.token.clone())];
        // Whose audit rows a refused call must not add to: the caller's own (the jobs the
        // fixtures queued record theirs as the system whenever they end).
        let mut who: HashMap<Role, String> = HashMap::from([(Owner, a.owner.id.to_string())]);
        for role in Role::ALL.into_iter().filter(|r| *r != Owner) {
            let (u, t) = srv.member(&a, &format!("{}.walk@alpha-pictures.example", role.as_str()), role, &all).await;
            tokens.push((role, t));
            who.insert(role, u.id.to_string());
        }

        let doc: Value = srv.http.get(format!("{}/api/openapi.json", srv.base)).send().await.unwrap().json().await.unwrap();
        let mut ops: Vec<(Method, String, Value)> = Vec::new();
        for (template, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                ops.push((Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), template.clone(), op.clone()));
            }
        }
        // Deletions last, so the records the other calls need are still there.
        ops.sort_by_key(|(m, _, _)| *m == Method::DELETE);
        let (mut refused, mut let_through, mut skipped) = (0, 0, 0);
        for (method, template, op) in &ops {
            let allowed = match table(method, template) {
                Ok(roles) => roles,
                Err(_) => {
                    skipped += 1;
                    continue;
                }
            };
            let mut path = template.clone();
            for (name, id) in &fixtures {
                path = path.replace(&format!("{{{name}}}"), id);
            }
            assert!(!path.contains('{'), "{template}: a path parameter without a fixture");
            let body = body(&doc, op, method, template, &fixtures);
            // Refusals first: they must change nothing the allowed calls then find.
            let (no, yes): (Vec<_>, Vec<_>) = tokens.iter().partition(|(r, _)| !allowed.contains(r));
            for (role, token) in no.into_iter().chain(yes) {
                let theirs = format!("/api/v1/audit?limit=1&actor_id={}", who[role]);
                let last_change = if allowed.contains(role) { Value::Null } else { srv.get(&a.token, &theirs).await.1["items"][0]["id"].clone() };
                let r = srv.call(token, method.clone(), &path, body.clone()).await;
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                let forbidden = status == 403 && v["code"] == "auth.forbidden";
                if allowed.contains(role) {
                    assert!(!forbidden, "{method} {template}: a {role:?} is refused, but the table lets them: {v}");
                    assert!(status < 500, "{method} {template} as {role:?}: {status} {v}");
                    let_through += 1;
                } else {
                    assert!(forbidden, "{method} {template}: a {role:?} got {status}, but the table refuses them: {v}");
                    assert_eq!(v["status"], 403);
                    let now = srv.get(&a.token, &theirs).await.1["items"][0]["id"].clone();
                    assert_eq!(now, last_change, "{method} {template}: a {role:?}'s refused call changed something");
                    refused += 1;
                }
            }
        }
        assert!(refused > 200 && let_through > 300 && skipped < 15, "refused {refused}, let through {let_through}, skipped {skipped}");
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{}", fixtures["task_id"])).await;
        assert_eq!(t["priority"], 2, "the planners' change landed: {t}");
    })
    .await;
}
