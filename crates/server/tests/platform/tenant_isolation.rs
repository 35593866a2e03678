//! The tenant boundary, walked over the whole OpenAPI document: a member of org B, holding a
//! valid admin token, gets 404 for every org-A resource on every endpoint, and sees nothing of
//! org A in any list. A new endpoint is covered the day it is added; a new path parameter fails
//! this test until a fixture for it is named below.

use std::collections::HashMap;

use crate::common::*;
use mstation_core::{Role, TokenScope};
use mstation_store::jobs::NewJob;
use reqwest::Method;
use serde_json::{Value, json};

/// A request body that passes decoding for `schema`, so that the request reaches the tenant check.
pub(crate) fn sample(doc: &Value, schema: &Value) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return sample(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return sample(doc, &all[0]);
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        return sample(doc, &one[0]);
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        return e[0].clone();
    }
    let ty = match &schema["type"] {
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ => "object".into(),
    };
    match ty.as_str() {
        "object" => {
            let mut o = serde_json::Map::new();
            for req in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                o.insert(req.into(), sample(doc, &schema["properties"][req]));
            }
            Value::Object(o)
        }
        "array" => json!([]),
        "string" => match schema["format"].as_str() {
            Some("uuid") => json!(uuid::Uuid::now_v7()),
            Some("date-time") => json!("2030-01-01T00:00:00Z"),
            _ => json!("sample"),
        },
        "integer" | "number" => json!(1),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

pub(crate) fn body_for(doc: &Value, op: &Value) -> Option<Value> {
    let schema = op.pointer("/requestBody/content/application~1json/schema")?;
    Some(sample(doc, schema))
}

/// One of everything in org `a`, shared with `c` where it can be (a grant): path parameter name
/// → the id of `a`'s record. The artist (`member_id`) has the task (`task_id`).
pub(crate) async fn one_of_everything(
    srv: &Srv,
    a: &Tenant,
    c: &Tenant,
) -> HashMap<&'static str, String> {
    // One of everything in org A.
    let (artist, _) = srv
        .member(
            a,
            "artist@alpha-pictures.example",
            Role::Artist,
            &[TokenScope::Read],
        )
        .await;
    let (s, inv) = srv
        .post(
            &a.token,
            "/api/v1/invitations",
            json!({"email": "new@alpha-pictures.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(s, 201, "{inv}");
    let (s, tok) = srv
        .post(
            &a.token,
            "/api/v1/tokens",
            json!({"name": "alpha script", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(s, 201, "{tok}");
    let (s, hook) = srv
        .post(
            &a.token,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/alpha", "events": ["*"]}),
        )
        .await;
    assert_eq!(s, 201, "{hook}");
    let (s, project) = srv
        .post(&a.token, "/api/v1/projects", json!({"name": "Alpha Feature", "code": "ALPHA", "fps": "24", "width": 4096, "height": 1716}))
        .await;
    assert_eq!(s, 201, "{project}");
    let project_id = project["id"].as_str().unwrap().to_string();
    let (s, seq) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    assert_eq!(s, 201, "{seq}");
    let sequence_id = seq["id"].as_str().unwrap().to_string();
    let edl = "TITLE: ALPHA\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
    let (s, cut) = srv
        .post(
            &a.token,
            &format!("/api/v1/sequences/{sequence_id}/conform"),
            json!({"format": "cmx3600", "edl": edl, "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{cut}");
    let (_, shots) = srv
        .get(&a.token, &format!("/api/v1/sequences/{sequence_id}/shots"))
        .await;
    let shot_id = shots["items"][0]["id"].as_str().unwrap().to_string();
    let (_, types) = srv
        .get(
            &a.token,
            &format!("/api/v1/projects/{project_id}/task-types"),
        )
        .await;
    let (s, tasks) = srv
        .post(&a.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shot_id, "task_type_id": types["items"][0]["id"], "assignees": [artist.id]}]}))
        .await;
    assert_eq!(s, 201, "{tasks}");
    let task_id = tasks["items"][0]["id"].as_str().unwrap().to_string();
    let (s, note) = srv
        .post(
            &a.token,
            &format!("/api/v1/tasks/{task_id}/notes"),
            json!({"body": "alpha's note"}),
        )
        .await;
    assert_eq!(s, 201);
    let note_id = note["note"]["id"].as_str().unwrap().to_string();
    // Money: a bank and a wallet, and a deposit between them.
    let (s, bank) = srv
        .post(
            &a.token,
            "/api/v1/ledger/accounts",
            json!({"name": "Alpha bank", "purpose": "settlement", "currency": "CNY"}),
        )
        .await;
    assert_eq!(s, 201, "{bank}");
    let (_, wallet) = srv
        .post(
            &a.token,
            "/api/v1/ledger/accounts",
            json!({"name": "Alpha wallet", "purpose": "wallet", "currency": "CNY"}),
        )
        .await;
    let account_id = wallet["id"].as_str().unwrap().to_string();
    let (s, moved) = srv
        .post(&a.token, "/api/v1/ledger/transfers", json!({"transfers": [{"kind": "posted", "debit_account_id": bank["id"], "credit_account_id": wallet["id"], "amount": 500000}]}))
        .await;
    assert_eq!(s, 201, "{moved}");
    let transfer_id = moved["items"][0]["id"].as_str().unwrap().to_string();
    let (s, asset) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/assets"),
            json!({"kind": "character", "name": "Alpha Hero"}),
        )
        .await;
    assert_eq!(s, 201, "{asset}");
    let asset_id = asset["id"].as_str().unwrap().to_string();
    let (s, episode) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/episodes"),
            json!({"name": "EP101"}),
        )
        .await;
    assert_eq!(s, 201, "{episode}");
    let episode_id = episode["id"].as_str().unwrap().to_string();
    let (s, version) = srv
        .post(
            &a.token,
            &format!("/api/v1/tasks/{task_id}/versions"),
            json!({"comment": "alpha v1"}),
        )
        .await;
    assert_eq!(s, 201, "{version}");
    let version_id = version["id"].as_str().unwrap().to_string();
    let (s, playlist) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/playlists"),
            json!({"name": "Alpha dailies", "items": [version_id]}),
        )
        .await;
    assert_eq!(s, 201, "{playlist}");
    let playlist_id = playlist["id"].as_str().unwrap().to_string();
    let (s, session) = srv
        .post(
            &a.token,
            &format!("/api/v1/playlists/{playlist_id}/sessions"),
            json!({}),
        )
        .await;
    assert_eq!(s, 201, "{session}");
    let session_id = session["id"].as_str().unwrap().to_string();
    let (s, link) = srv
        .post(
            &a.token,
            &format!("/api/v1/playlists/{playlist_id}/share-links"),
            json!({"recipient": "Alpha's client", "days": 3}),
        )
        .await;
    assert_eq!(s, 201, "{link}");
    let link_id = link["link"]["id"].as_str().unwrap().to_string();
    // Its guest's note, held with production.
    let r = srv
        .http
        .post(format!(
            "{}{}/{version_id}/notes",
            srv.base,
            link["path"].as_str().unwrap()
        ))
        .form(&[("body", "Warmer, please"), ("at", "1000")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (_, notes) = srv
        .get(&a.token, &format!("/api/v1/share-links/{link_id}/notes"))
        .await;
    let guest_note_id = notes[0]["id"].as_str().unwrap().to_string();
    let (s, log) = srv
        .post(
            &a.token,
            &format!("/api/v1/tasks/{task_id}/time-logs"),
            json!({"date": "2027-01-04", "minutes": 90}),
        )
        .await;
    assert_eq!(s, 201, "{log}");
    let time_log_id = log["id"].as_str().unwrap().to_string();
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            &format!("/api/v1/sequences/{sequence_id}"),
            Some(json!({"episode_id": episode_id})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = srv
        .call(
            &a.token,
            Method::PUT,
            &format!("/api/v1/shots/{shot_id}/assets/{asset_id}"),
            Some(json!({"count": 1})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (s, v) = srv
        .post(
            &a.token,
            "/api/v1/tasks",
            json!({"tasks": [{"asset_id": asset_id, "task_type_id": types["items"][0]["id"]}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, field) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/fields"),
            json!({"entity": "task", "key": "bid_days", "name": "Bid", "kind": "number"}),
        )
        .await;
    assert_eq!(s, 201, "{field}");
    let r = srv
        .call(
            &a.token,
            Method::PATCH,
            &format!("/api/v1/tasks/{task_id}/fields"),
            Some(json!({"bid_days": 4})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (s, grant) = srv
        .post(&a.token, "/api/v1/grants", json!({"grantee_org_id": c.org.id, "project_id": project_id, "permissions": ["read"], "note": "alpha to charlie"}))
        .await;
    assert_eq!(s, 201, "{grant}");
    let (_, statuses) = srv
        .get(&a.token, &format!("/api/v1/projects/{project_id}/statuses"))
        .await;
    let (s, view) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/views"),
            json!({"grid": "shots", "name": "Alpha overdue", "query": "due=overdue&show=due"}),
        )
        .await;
    assert_eq!(s, 201, "{view}");
    let job = srv
        .store()
        .platform()
        .enqueue(NewJob {
            org_id: Some(a.org.id),
            kind: "test.alpha".into(),
            payload: json!({}),
            priority: 0,
            max_attempts: 1,
            run_after: Some(i64::MAX / 2),
        })
        .await
        .unwrap();

    // A file of A's (an upload finished) and an upload of A's still open.
    let upload = |length: usize| {
        srv.http
            .post(format!("{}/files", srv.base))
            .bearer_auth(&a.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header("Content-Type", "application/offset+octet-stream")
    };
    // A real clip, so that its proxy and poster are made too.
    let clip = ffmpeg_clip(
        "64x36",
        "24",
        "0.5",
        &["-f", "lavfi", "-i", "sine", "-c:a", "aac"],
    );
    let r = upload(clip.len()).body(clip).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let (_, media) = srv.get(&a.token, "/api/v1/media").await;
    let clip_id = media["items"][0]["id"].as_str().unwrap().to_string();
    // The clip is the task's second version: the order's work shows it, through the order.
    let (s, v2) = srv
        .post(
            &a.token,
            &format!("/api/v1/tasks/{task_id}/versions"),
            json!({"comment": "alpha v2", "media": [clip_id]}),
        )
        .await;
    assert_eq!(s, 201, "{v2}");
    for _ in 0..300 {
        let (_, f) = srv.get(&a.token, &format!("/api/v1/media/{clip_id}")).await;
        if !f["poster_hash"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Its cuts found.
    let cuts = format!("/api/v1/media/{clip_id}/cuts");
    for _ in 0..300 {
        let (s, _) = srv.post(&a.token, &cuts, json!({})).await;
        if s == 202 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for _ in 0..300 {
        if srv.get(&a.token, &cuts).await.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = upload(10).body("alpha").send().await.unwrap();
    assert_eq!(r.status(), 201);
    let open_upload = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/files/")
        .to_string();

    // A card ingested by A: filed, with its generation kept.
    let (s, ingest) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{project_id}/ingests"),
            json!({"source": "A001", "files": 0, "bytes": 0}),
        )
        .await;
    assert_eq!(s, 201, "{ingest}");
    let ingest_id = ingest["id"].as_str().unwrap().to_string();
    let generation = mstation_core::media::mhl::write_generation(
        &mstation_core::media::mhl::Generation {
            created: "2026-12-06T10:00:00+00:00".into(),
            hostname: "alpha-cart".into(),
            tool: "mstation".into(),
            tool_version: "test".into(),
            root: None,
            files: vec![],
            ignore: vec![],
            dirs: vec![],
            references: vec![],
            warnings: vec![],
        },
        "2026-12-06T10:00:00.000000+00:00",
    );
    let (s, done) = srv
        .post(
            &a.token,
            &format!("/api/v1/ingests/{ingest_id}/finish"),
            json!({"generation": generation, "files": []}),
        )
        .await;
    assert_eq!(s, 200, "{done}");

    // The market: a draft listing of A's (the storefront shows nothing of A's), and a licence A
    // bought from C with money the platform's operator credited to A's market wallet.
    let (s, listing) = srv
        .post(
            &a.token,
            "/api/v1/market/listings",
            json!({"media_file_id": media["items"][0]["id"], "category": "footage",
                   "title_en": "Alpha plate", "title_zh": "阿尔法素材"}),
        )
        .await;
    assert_eq!(s, 201, "{listing}");
    let (s, draft_offer) = srv
        .post(
            &a.token,
            &format!("/api/v1/market/listings/{}/offers", id(&listing)),
            json!({"kind": "rf_standard", "price": "15.00", "currency": "CNY"}),
        )
        .await;
    assert_eq!(s, 201, "{draft_offer}");
    let (s, release) = srv
        .post(
            &a.token,
            &format!("/api/v1/market/listings/{}/releases", id(&listing)),
            json!({"kind": "model", "name": "Alpha Lead", "media_file_id": media["items"][0]["id"]}),
        )
        .await;
    assert_eq!(s, 201, "{release}");
    let stock = srv
        .upload(&c.token, "charlie_stock.mov", b"charlie's stock".to_vec())
        .await;
    let (_, sold) = srv
        .post(
            &c.token,
            "/api/v1/market/listings",
            json!({"media_file_id": stock, "category": "vfx_element",
                   "title_en": "Charlie smoke", "title_zh": "烟雾"}),
        )
        .await;
    let (s, offer) = srv
        .post(
            &c.token,
            &format!("/api/v1/market/listings/{}/offers", id(&sold)),
            json!({"kind": "rf_standard", "price": "20.00", "currency": "CNY"}),
        )
        .await;
    assert_eq!(s, 201, "{offer}");
    srv.post(
        &c.token,
        &format!("/api/v1/market/listings/{}/publish", id(&sold)),
        json!({}),
    )
    .await;
    let op = srv.operator().await;
    let (s, v) = srv
        .post(
            &op.token,
            "/api/v1/market/wallets/credit",
            json!({"org_id": a.org.id, "currency": "CNY", "amount": "100.00", "reference": "alpha deposit"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, licence) = srv
        .post(
            &a.token,
            "/api/v1/market/checkout",
            json!({"offer_id": offer["id"]}),
        )
        .await;
    assert_eq!(s, 201, "{licence}");
    // A's terms as a contributor, announced by the operator.
    let (s, agreement) = srv
        .post(
            &op.token,
            "/api/v1/market/agreements",
            json!({"org_id": a.org.id, "share_bp": 6500, "effective_from": "2099-01-01"}),
        )
        .await;
    assert_eq!(s, 201, "{agreement}");
    // A talent profile A keeps to itself, with a credit (the talent tests show one the
    // platform sees, without what is sensitive).
    let (s, profile) = srv
        .post(
            &a.token,
            "/api/v1/talent/profiles",
            json!({"name": "Alpha Compositor", "roles": ["compositor"], "visibility": "private",
                   "birth_date": "1990-04-01", "email": "comp@alpha-pictures.example"}),
        )
        .await;
    assert_eq!(s, 201, "{profile}");
    let (s, credit) = srv
        .post(
            &a.token,
            &format!("/api/v1/talent/profiles/{}/credits", id(&profile)),
            json!({"title": "Alpha Feature", "role": "compositor", "year": 2024}),
        )
        .await;
    assert_eq!(s, 201, "{credit}");
    let (s, entry) = srv
        .post(
            &a.token,
            &format!("/api/v1/talent/profiles/{}/calendar", id(&profile)),
            json!({"kind": "hold", "starts_on": "2027-05-01", "ends_on": "2027-05-09", "what": "Alpha Feature"}),
        )
        .await;
    assert_eq!(s, 201, "{entry}");
    // Its showreel, from A's media.
    let r = srv
        .call(
            &a.token,
            Method::PUT,
            &format!("/api/v1/talent/profiles/{}/showreel", id(&profile)),
            Some(json!({"media_id": media["items"][0]["id"], "note": "Alpha lantern breakdowns"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    // A work order A posted and awarded to C, which bid for it: its price held from what A's
    // wallet has left.
    let (s, order) = srv
        .post(
            &a.token,
            "/api/v1/work-orders",
            json!({"project_id": project_id, "title": "Alpha cleanup", "currency": "CNY",
                   "budget_min": 1000, "budget_max": 5000, "due_on": "2027-06-30",
                   "scope": [{"kind": "shot", "id": shot_id}]}),
        )
        .await;
    assert_eq!(s, 201, "{order}");
    let order_id = id(&order);
    let (s, v) = srv
        .post(
            &a.token,
            &format!("/api/v1/work-orders/{order_id}/publish"),
            json!({"audience": "invited", "invite": [c.org.id]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, bid) = srv
        .post(
            &c.token,
            &format!("/api/v1/work-orders/{order_id}/bids"),
            json!({"price": 3000, "days": 10}),
        )
        .await;
    assert_eq!(s, 201, "{bid}");
    let (s, awarded) = srv
        .post(
            &a.token,
            &format!("/api/v1/work-orders/{order_id}/award"),
            json!({"bid_id": id(&bid), "price": 3000}),
        )
        .await;
    assert_eq!(s, 200, "{awarded}");

    // A change order A wrote up on it, for C to price.
    let (s, change) = srv
        .post(
            &a.token,
            &format!("/api/v1/work-orders/{order_id}/changes"),
            json!({"title": "More lanterns", "description": "Twelve more on the quay", "scope": [{"kind": "shot", "id": shot_id}]}),
        )
        .await;
    assert_eq!(s, 201, "{change}");

    // A training record: A is a production, not a school, so the record is one a school
    // issued its owner (nobody else reads or withdraws it; the talent tests show its keepers).
    let school = srv
        .tenant_of(
            "Delta Film School",
            "delta-film",
            mstation_core::OrgKind::University,
        )
        .await;
    let (s, training) = srv
        .post(
            &school.token,
            "/api/v1/talent/training",
            json!({"user_id": school.owner.id, "programme": "Colour science", "kind": "workshop", "ends_on": "2026-03-01"}),
        )
        .await;
    assert_eq!(s, 201, "{training}");

    HashMap::from([
        ("order_id", order_id.clone()),
        ("training_id", id(&training)),
        ("change_id", id(&change)),
        ("bid_id", id(&bid)),
        (
            "milestone_id",
            awarded["milestones"][0]["id"].as_str().unwrap().to_string(),
        ),
        ("profile_id", id(&profile)),
        ("entry_id", id(&entry)),
        ("credit_id", id(&credit)),
        ("agreement_id", id(&agreement)),
        ("offer_id", id(&draft_offer)),
        ("release_id", id(&release)),
        ("listing_id", id(&listing)),
        ("licence_id", id(&licence)),
        ("ingest_id", ingest_id),
        (
            "media_id",
            media["items"][0]["id"].as_str().unwrap().to_string(),
        ),
        ("upload_id", open_upload),
        ("member_id", artist.id.to_string()),
        ("user_id", artist.id.to_string()),
        (
            "invitation_id",
            inv["invitation"]["id"].as_str().unwrap().to_string(),
        ),
        ("token_id", tok["token"]["id"].as_str().unwrap().to_string()),
        (
            "webhook_id",
            hook["webhook"]["id"].as_str().unwrap().to_string(),
        ),
        ("grant_id", grant["id"].as_str().unwrap().to_string()),
        ("job_id", job.to_string()),
        ("project_id", project_id),
        ("sequence_id", sequence_id),
        ("shot_id", shot_id),
        // The order's work: the task, on the shot the order is for.
        ("item_id", task_id.clone()),
        ("task_id", task_id),
        ("asset_id", asset_id),
        ("episode_id", episode_id),
        ("version_id", version_id),
        ("time_log_id", time_log_id),
        ("playlist_id", playlist_id),
        ("session_id", session_id),
        ("link_id", link_id),
        ("guest_note_id", guest_note_id),
        ("account_id", account_id),
        ("bank_id", bank["id"].as_str().unwrap().to_string()),
        ("transfer_id", transfer_id),
        ("note_id", note_id),
        ("field_id", field["id"].as_str().unwrap().to_string()),
        ("view_id", view["id"].as_str().unwrap().to_string()),
        (
            "status_id",
            statuses["items"][0]["id"].as_str().unwrap().to_string(),
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_b_never_reaches_org_a() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Pictures", "alpha-pictures").await;
        let b = srv.tenant("Bravo Post", "bravo-post").await;
        let c = srv.tenant("Charlie VFX", "charlie-vfx").await;

        let fixtures = one_of_everything(&srv, &a, &c).await;
        // Strings that must never appear in anything org B reads.
        let secrets_of_a: Vec<String> = fixtures
            .values()
            .cloned()
            .chain([a.org.id.to_string(), a.owner.id.to_string(), "Alpha Pictures".into(), "alpha-pictures".into(), "Alpha Feature".into()])
            .collect();

        let doc: Value = srv.http.get(format!("{}/api/openapi.json", srv.base)).send().await.unwrap().json().await.unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "the OpenAPI document lists the API");
        let mut checked_by_id = 0;
        let mut checked_lists = 0;
        for (template, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let params: Vec<&str> =
                    template.split('{').skip(1).filter_map(|p| p.split('}').next()).collect();
                if params.is_empty() {
                    if method == Method::GET && template != "/api/v1/events" {
                        let (s, v) = srv.get(&b.token, template).await;
                        assert!(s < 500, "GET {template} as B gave {s}: {v}");
                        let text = v.to_string();
                        for secret in &secrets_of_a {
                            assert!(!text.contains(secret.as_str()), "GET {template} as org B shows org A's {secret}: {text}");
                        }
                        checked_lists += 1;
                    }
                    continue;
                }
                // The platform's agents' endpoints: refused to every organisation's member.
                if template.starts_with("/api/v1/agent/") {
                    let path = template.replace("{job_id}", &fixtures["job_id"]);
                    let body = body_for(&doc, op);
                    let r = srv.call(&b.token, method.clone(), &path, body).await;
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap();
                    assert_eq!(status, 403, "{method} {path} as org B: {text}");
                    for secret in &secrets_of_a {
                        assert!(!text.contains(secret.as_str()), "{method} {path} leaked {secret}");
                    }
                    continue;
                }
                let mut path = template.clone();
                for p in &params {
                    let id = fixtures.get(p).unwrap_or_else(|| panic!("{template}: no org-A fixture for path parameter `{p}`; add one to this test"));
                    path = path.replace(&format!("{{{p}}}"), id);
                }
                let body = body_for(&doc, op);
                // The storefront shows listings on sale to everyone; A's listing is a draft,
                // which nobody else sees (the market's tests show one on sale).
                if template.starts_with("/api/v1/market/store/{listing_id}") {
                    let (s, v) = srv.get(&b.token, &path).await;
                    assert_eq!(s, 404, "A's draft in the storefront: {v}");
                    continue;
                }
                // Positive control: the owner reaches the resource, so a 404 for B means something.
                if method == Method::GET {
                    let r = srv.call(&a.token, Method::GET, &path, None).await;
                    assert!(r.status().is_success(), "GET {path} as A gave {}", r.status());
                }
                let r = srv.call(&b.token, method.clone(), &path, body.clone()).await;
                let status = r.status().as_u16();
                let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let text = r.text().await.unwrap();
                assert_eq!(status, 404, "{method} {path} as org B: {text}");
                assert_eq!(ct, "application/problem+json", "{method} {path}");
                for secret in &secrets_of_a {
                    assert!(!text.contains(secret.as_str()), "{method} {path} leaked {secret}");
                }
                checked_by_id += 1;
            }
        }
        assert!(checked_by_id >= 12, "walked {checked_by_id} id endpoints");
        assert!(checked_lists >= 8, "walked {checked_lists} lists");

        // Nothing B tried changed A: every A resource is still there and unchanged.
        for (path, field) in [
            (format!("/api/v1/webhooks/{}", fixtures["webhook_id"]), "url"),
            (format!("/api/v1/tokens/{}", fixtures["token_id"]), "revoked_at"),
            (format!("/api/v1/grants/{}", fixtures["grant_id"]), "revoked_at"),
            (format!("/api/v1/members/{}", fixtures["member_id"]), "role"),
            (format!("/api/v1/invitations/{}", fixtures["invitation_id"]), "email"),
        ] {
            let (s, v) = srv.get(&a.token, &path).await;
            assert_eq!(s, 200, "{path} after B's attempts: {v}");
            match field {
                "url" => assert_eq!(v["url"], "http://127.0.0.1:9/alpha"),
                "revoked_at" => assert!(v["revoked_at"].is_null(), "{path} was revoked by B"),
                "role" => assert_eq!(v["role"], "artist"),
                _ => assert_eq!(v["email"], "new@alpha-pictures.example"),
            }
        }
        // The tracking records B aimed at are all still there, unchanged.
        let (_, v) = srv.get(&a.token, &format!("/api/v1/assets/{}", fixtures["asset_id"])).await;
        assert_eq!((v["name"].as_str(), v["version"].as_i64()), (Some("Alpha Hero"), Some(1)));
        let (_, v) = srv.get(&a.token, &format!("/api/v1/shots/{}/assets", fixtures["shot_id"])).await;
        assert_eq!(v["items"][0]["count"], 1, "the casting is still there");
        let (_, v) = srv.get(&a.token, &format!("/api/v1/episodes/{}", fixtures["episode_id"])).await;
        assert_eq!(v["version"], 1);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/playlists/{}", fixtures["playlist_id"])).await;
        assert_eq!((v["version"].as_i64(), v["item_count"].as_i64()), (Some(1), Some(1)));
        let (_, v) = srv.get(&a.token, &format!("/api/v1/time-logs/{}", fixtures["time_log_id"])).await;
        assert_eq!((v["minutes"].as_i64(), v["version"].as_i64()), (Some(90), Some(1)));
        let r = srv
            .http
            .head(format!("{}/files/{}", srv.base, fixtures["upload_id"]))
            .bearer_auth(&a.token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["upload-offset"].to_str().unwrap()), (200, "5"), "A's upload is as A left it");
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks/{}/versions", fixtures["task_id"])).await;
        assert_eq!(v["total"], 2, "B added no version to A's task");
        // A bulk change naming org A's task changes nothing and says it does not exist.
        let (s, _) = srv.post(&b.token, "/api/v1/tasks/bulk-update", json!({"updates": [{"id": fixtures["task_id"], "priority": 9}]})).await;
        assert_eq!(s, 404);
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{}", fixtures["task_id"])).await;
        assert_eq!(t["priority"], 0);
        let (_, v) = srv.get(&a.token, &format!("/api/v1/tasks/{}/fields", fixtures["task_id"])).await;
        assert_eq!(v, json!({"bid_days": 4}), "B changed no custom value of A's");
        let (s, _) = srv.get(&b.token, "/api/v1/tasks?field.bid_days=4").await;
        assert_eq!(s, 422, "A's field keys mean nothing in B");
        // Nobody shares what is not theirs.
        let (s, v) = srv
            .post(&b.token, "/api/v1/grants", json!({"grantee_org_id": c.org.id, "project_id": fixtures["project_id"], "permissions": ["write"]}))
            .await;
        assert_eq!(s, 404, "org B granted access to org A's project: {v}");
        // The grantee sees the grant it received; that is what a grant is for.
        let (s, _) = srv.get(&c.token, &format!("/api/v1/grants/{}", fixtures["grant_id"])).await;
        assert_eq!(s, 200);
    })
    .await;
}

/// The vendor case of the walk: C, awarded A's order on one shot, walks every endpoint with A's
/// ids. It reaches the order and its work (the shot, its task, their notes and versions) and
/// the grant A gave it; everything else of A's is not there. Once the award ends, the work is
/// not there either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_reaches_only_its_awarded_work_and_nothing_once_it_ends() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Pictures", "alpha-pictures").await;
        let c = srv.tenant("Charlie VFX", "charlie-vfx").await;
        let f = one_of_everything(&srv, &a, &c).await;
        // What the award shares with C, and what it never does.
        let shared = [
            "order_id",
            "change_id",
            "bid_id",
            "milestone_id",
            "shot_id",
            "task_id",
            "item_id",
            "version_id",
            "note_id",
            "media_id",
            "grant_id",
        ];
        let never: Vec<String> = f
            .iter()
            .filter(|(k, _)| !shared.contains(k))
            .map(|(_, v)| v.clone())
            .chain([a.owner.id.to_string(), "Alpha Feature".into()])
            .collect();
        let doc: Value = srv
            .http
            .get(format!("{}/api/openapi.json", srv.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (mut reached, mut refused) = (0, 0);
        for (template, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                if !template.contains('{')
                    || template.starts_with("/api/v1/agent/")
                    || template.starts_with("/api/v1/market/store/{listing_id}")
                {
                    continue;
                }
                let mut path = template.clone();
                for (name, id) in &f {
                    path = path.replace(&format!("{{{name}}}"), id);
                }
                // The grant A gave C names the project it is for: C reads it, and nothing of
                // the project through it.
                if template == "/api/v1/grants/{grant_id}" {
                    let (s, v) = srv.get(&c.token, &path).await;
                    assert_eq!(s, 200, "{v}");
                    continue;
                }
                if template.starts_with("/api/v1/work-orders/{order_id}") {
                    // What the award shares, read (its steps are the orders tests' to take).
                    if method == Method::GET && template.contains("/media/") {
                        let r = srv.call(&c.token, Method::GET, &path, None).await;
                        assert_eq!(r.status().as_u16(), 200, "GET {path} as the vendor");
                        reached += 1;
                    } else if method == Method::GET {
                        let (s, v) = srv.get(&c.token, &path).await;
                        assert!(s == 200, "GET {path} as the vendor gave {s}: {v}");
                        let text = v.to_string();
                        for secret in &never {
                            assert!(
                                !text.contains(secret.as_str()),
                                "GET {path} as the vendor shows {secret}: {text}"
                            );
                        }
                        reached += 1;
                    }
                    continue;
                }
                let r = srv
                    .call(&c.token, method.clone(), &path, body_for(&doc, op))
                    .await;
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                assert_eq!(status, 404, "{method} {path} as the vendor: {text}");
                for secret in f.values() {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{method} {path} leaked {secret}"
                    );
                }
                refused += 1;
            }
        }
        assert!(
            reached >= 6 && refused >= 100,
            "reached {reached}, refused {refused}"
        );
        // Its work, once the award ends: nothing.
        let order = &f["order_id"];
        let (s, v) = srv
            .post(
                &a.token,
                &format!("/api/v1/work-orders/{order}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        for path in [
            format!("/api/v1/work-orders/{order}/work"),
            format!("/api/v1/work-orders/{order}/work/{}", f["item_id"]),
            format!("/api/v1/work-orders/{order}/work/{}", f["shot_id"]),
            format!(
                "/api/v1/work-orders/{order}/media/{}/content",
                f["media_id"]
            ),
        ] {
            let (s, v) = srv.get(&c.token, &path).await;
            assert_eq!(s, 404, "{path} after the award: {v}");
        }
        for (method, tail, body) in [
            (Method::POST, "notes", json!({"body": "late"})),
            (Method::POST, "versions", json!({})),
            (Method::PUT, "artists", json!({"user_ids": []})),
        ] {
            let path = format!("/api/v1/work-orders/{order}/work/{}/{tail}", f["item_id"]);
            let r = srv.call(&c.token, method.clone(), &path, Some(body)).await;
            assert_eq!(r.status().as_u16(), 404, "{method} {path} after the award");
        }
        let (_, v) = srv
            .get(
                &a.token,
                &format!("/api/v1/tasks/{}/versions", f["task_id"]),
            )
            .await;
        assert_eq!(v["total"], 2, "the vendor added no version");
    })
    .await;
}
