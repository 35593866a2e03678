//! A person's own data: they download all of it, signed in (never with a token, which acts for
//! one organisation), and erase it with their password. Erased, they cannot sign in, their
//! tokens and sessions are dead, their profiles gone, and nothing the audit log or the event
//! stream holds names them; what they did stays on the record under an opaque id, and the
//! ledger's invariants hold (checked after every story).

use mstation_core::{OrgKind, Role, TokenScope};
use mstation_store::Actor;
use mstation_store::identity::NewOrg;
use serde_json::{Value, json};

use crate::common::*;

const NAME: &str = "Lin Qiao";
const EMAIL: &str = "lin.qiao@alpha.example";
const PASSWORD: &str = "correct horse battery";

async fn signed_in(srv: &Srv) -> (reqwest::Client, String) {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = browser
        .post(format!("{}/api/v1/auth/login", srv.base))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    (browser, me["csrf_token"].as_str().unwrap().to_string())
}

async fn erase(srv: &Srv, browser: &reqwest::Client, csrf: &str, password: &str) -> (u16, Value) {
    json(
        browser
            .post(format!("{}/api/v1/me/erase", srv.base))
            .header("x-csrf-token", csrf)
            .json(&json!({"password": password}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_downloads_all_their_data_and_erases_it_leaving_an_opaque_history() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let lin = srv.person(&a, EMAIL, NAME, Role::Artist).await;
        // A colleague whose name holds Lin's, named in Lin's note: erasing Lin leaves it whole.
        srv.person(&a, "lin.qiao.zhang@alpha.example", "Lin Qiao-Zhang", Role::Artist).await;
        let (_, lin_token) = srv
            .store()
            .platform()
            .create_token_for(&Actor::system(), a.org.id, lin.id, "Lin's laptop", &[TokenScope::Read, TokenScope::Write], None)
            .await
            .unwrap();
        // Lin's own studio, of which Lin is the only owner.
        let studio = srv
            .store()
            .platform()
            .create_org(&Actor::system(), NewOrg { name: "Qiao Studio".into(), slug: Some("qiao-studio".into()), kind: OrgKind::PostHouse, timezone: None }, lin.id)
            .await
            .unwrap();
        // Alpha keeps a profile of Lin's, with what only Alpha reads, a credit and a booking.
        let (s, profile) = srv
            .post(&a.token, "/api/v1/talent/profiles",
                  json!({"name": NAME, "roles": ["compositor"], "user_id": lin.id, "visibility": "platform",
                         "birth_date": "1991-06-30", "email": "lin.private@home.example"}))
            .await;
        assert_eq!(s, 201, "{profile}");
        let pid = id(&profile);
        let (s, _) = srv.post(&a.token, &format!("/api/v1/talent/profiles/{pid}/credits"), json!({"title": "Moon Harbour", "role": "compositor", "year": 2024})).await;
        assert_eq!(s, 201);
        let (s, _) = srv.post(&a.token, &format!("/api/v1/talent/profiles/{pid}/calendar"), json!({"kind": "booking", "starts_on": "2027-02-01", "ends_on": "2027-02-05", "what": "Night Ferry"})).await;
        assert_eq!(s, 201);
        // Lin's film school recorded what Lin completed there.
        let school = srv.tenant_of("Bund Film School", "bund-film", OrgKind::University).await;
        srv.store().platform().add_member(&Actor::system(), school.org.id, lin.id, Role::Viewer).await.unwrap();
        let (s, training) = srv
            .post(&school.token, "/api/v1/talent/training", json!({"user_id": lin.id, "programme": "Nuke compositing", "kind": "course", "ends_on": "2024-06-30"}))
            .await;
        assert_eq!(s, 201, "{training}");
        // A task of Alpha's for Lin, with Lin's note and time on it.
        let (_, project) = srv.post(&a.token, "/api/v1/projects", json!({"name": "Night Ferry", "code": "NF", "fps": "24", "width": 2048, "height": 858})).await;
        let project_id = id(&project);
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{project_id}/sequences"), json!({"name": "SQ010"})).await;
        let edl = "TITLE: NF\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
        srv.post(&a.token, &format!("/api/v1/sequences/{}/conform", id(&seq)), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{}/shots", id(&seq))).await;
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{project_id}/task-types")).await;
        let (s, tasks) = srv
            .post(&a.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][0]["id"], "assignees": [lin.id], "due_date": "2027-03-01"}]}))
            .await;
        assert_eq!(s, 201, "{tasks}");
        let task = tasks["items"][0]["id"].as_str().or(tasks[0]["id"].as_str()).unwrap().to_string();
        let (s, note) = srv.post(&lin_token, &format!("/api/v1/tasks/{task}/notes"), json!({"body": "First comp is up for review; plate from Lin Qiao-Zhang."})).await;
        assert_eq!(s, 201, "{note}");
        let (s, log) = srv.post(&lin_token, &format!("/api/v1/tasks/{task}/time-logs"), json!({"date": "2026-12-01", "minutes": 120})).await;
        assert_eq!(s, 201, "{log}");

        // The download: signed in, everything; with a token, refused.
        let (s, p) = srv.get(&lin_token, "/api/v1/me/data").await;
        assert_eq!((s, p["status"].as_u64()), (403, Some(403)), "{p}");
        let (browser, csrf) = signed_in(&srv).await;
        let r = browser.get(format!("{}/api/v1/me/data", srv.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let data: Value = r.json().await.unwrap();
        assert_eq!((data["account"]["email"].as_str(), data["account"]["display_name"].as_str()), (Some(EMAIL), Some(NAME)));
        let orgs: Vec<&str> = data["memberships"].as_array().unwrap().iter().map(|m| m["org_name"].as_str().unwrap()).collect();
        assert_eq!(orgs, ["Alpha Post", "Bund Film School", "Qiao Studio"], "{data}");
        assert_eq!((data["training"][0]["programme"].as_str(), data["training"][0]["org_name"].as_str()), (Some("Nuke compositing"), Some("Bund Film School")), "{data}");
        assert_eq!(data["tokens"][0]["name"], "Lin's laptop");
        assert!(!data.to_string().contains(&lin_token), "never a token's secret");
        assert_eq!(data["profiles"][0]["birth_date"], "1991-06-30", "their own data, all of it");
        assert_eq!(data["profiles"][0]["credits"][0]["title"], "Moon Harbour");
        assert_eq!(data["calendar"][0]["what"], "Night Ferry");
        assert_eq!((data["assignments"][0]["project_name"].as_str(), data["assignments"][0]["task_id"].as_str()), (Some("Night Ferry"), Some(task.as_str())));
        assert_eq!(data["notes"][0]["body"], "First comp is up for review; plate from Lin Qiao-Zhang.");
        assert_eq!(data["time_logs"][0]["minutes"], 120);
        assert!(data["actions"].as_array().unwrap().len() >= 2, "{data}");

        // Erasure: the password is asked; the last owner of an organisation is refused.
        let (s, p) = erase(&srv, &browser, &csrf, "not the password").await;
        assert_eq!((s, p["field"].as_str()), (422, Some("password")), "{p}");
        let (s, p) = erase(&srv, &browser, &csrf, PASSWORD).await;
        assert_eq!((s, p["code"].as_str()), (409, Some("identity.last_owner")), "{p}");
        let (s, _) = srv.get(&a.token, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!(s, 200, "a refused erasure changed nothing");
        let helper = srv.user("helper@qiao.example", "Helper").await;
        srv.store().platform().add_member(&Actor::system(), studio.id, helper.id, Role::Owner).await.unwrap();
        let (_, audit_before) = srv.get(&a.token, "/api/v1/audit?limit=200").await;
        let (s, erased) = erase(&srv, &browser, &csrf, PASSWORD).await;
        assert_eq!(s, 200, "{erased}");
        assert_eq!((erased["memberships"].as_u64(), erased["profiles"].as_u64()), (Some(3), Some(1)), "{erased}");
        // The school's record of Lin went with the rest; its history names no one.
        let (_, records) = srv.get(&school.token, "/api/v1/talent/training").await;
        assert_eq!(records["items"], json!([]), "{records}");
        let (_, school_audit) = srv.get(&school.token, "/api/v1/audit?entity_type=training").await;
        assert!(!school_audit.to_string().contains(NAME) && school_audit.to_string().contains("training.issued"), "{school_audit}");
        let label = erased["label"].as_str().unwrap().to_string();
        assert!(label.starts_with("erased-") && !label.contains("Lin"), "{label}");

        // Nothing works as Lin any more.
        let r = srv.http.post(format!("{}/api/v1/auth/login", srv.base)).json(&json!({"email": EMAIL, "password": PASSWORD})).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = browser.get(format!("{}/api/v1/me", srv.base)).send().await.unwrap();
        assert_eq!(r.status(), 401, "the session ended");
        let (s, _) = srv.get(&lin_token, "/api/v1/me").await;
        assert_eq!(s, 401, "the token died");
        let (s, _) = srv.get(&a.token, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!(s, 404, "the profile went");
        let (_, members) = srv.get(&a.token, "/api/v1/members").await;
        assert!(!members.to_string().contains(&lin.id.to_string()), "{members}");
        // What Lin did stays, by no one: the note, the time, the assignment.
        let (_, notes) = srv.get(&a.token, &format!("/api/v1/tasks/{task}/notes")).await;
        assert!(notes.to_string().contains("First comp is up for review; plate from Lin Qiao-Zhang."), "{notes}");
        // The history keeps its rows, and names Lin nowhere.
        let (_, audit_after) = srv.get(&a.token, "/api/v1/audit?limit=200").await;
        let (before_n, after_n) = (audit_before["items"].as_array().unwrap().len(), audit_after["items"].as_array().unwrap().len());
        assert!(after_n > before_n, "rows kept, and the erasure's own: {before_n} → {after_n}");
        let text = audit_after.to_string();
        let named = |t: &str| t.contains(&format!("\"{NAME}\"")) || t.contains(&format!("\\\"{NAME}\\\""));
        assert!(!named(&text) && !text.contains(EMAIL) && !text.contains("lin.private"), "{text}");
        assert!(text.contains("plate from Lin Qiao-Zhang."), "the namesake untouched: {text}");
        assert!(text.contains(&lin.id.to_string()), "the actor's opaque id stays");
        let events = srv.store().platform().events_after(0, 100_000).await.unwrap();
        for e in &events {
            assert!(!named(&e.payload) && !e.payload.contains(EMAIL), "{} {}", e.kind, e.payload);
        }
        assert!(events.iter().any(|e| e.payload.contains(&label)), "the label stands in");
        // Wrapped, the project credits its crew: the erased person is credited no more.
        let r = srv.call(&a.token, reqwest::Method::PATCH, &format!("/api/v1/projects/{project_id}"), Some(json!({"status": "wrapped"}))).await;
        assert_eq!(r.status(), 200);
        let (s, credited) = srv.post(&a.token, &format!("/api/v1/projects/{project_id}/credits"), json!({})).await;
        assert_eq!((s, credited["credited"].as_u64()), (200, Some(0)), "{credited}");
    })
    .await;
}
