//! The collaboration an award opens: the vendor reads and acts on exactly the order's shots,
//! tasks and assets, their notes, versions and files; its artists, put on the order's tasks,
//! reach those tasks only and hand in versions made of their own organisation's files; once
//! the award ends, the vendor finds none of it.

use super::*;
use mstation_core::{Role, TokenScope};
use reqwest::Method;

/// The tasks `t` makes, one per shot, of the project's first task type: their ids.
async fn tasks(srv: &Srv, t: &Tenant, pid: &str, shots: &[&str]) -> Vec<String> {
    let (_, types) = srv
        .get(&t.token, &format!("/api/v1/projects/{pid}/task-types"))
        .await;
    let ty = &types["items"][0]["id"];
    let rows: Vec<Value> = shots
        .iter()
        .map(|s| json!({"shot_id": s, "task_type_id": ty}))
        .collect();
    let (s, made) = srv
        .post(&t.token, "/api/v1/tasks", json!({ "tasks": rows }))
        .await;
    assert_eq!(s, 201, "{made}");
    made["items"].as_array().unwrap().iter().map(id).collect()
}

async fn put(srv: &Srv, token: &str, path: &str, body: Value) -> (u16, Value) {
    json(srv.call(token, Method::PUT, path, Some(body)).await).await
}

async fn bytes_of(srv: &Srv, token: &str, path: &str) -> (u16, Vec<u8>) {
    let r = srv.call(token, Method::GET, path, None).await;
    let s = r.status().as_u16();
    (s, r.bytes().await.unwrap().to_vec())
}

fn ids_of(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_works_inside_the_awarded_scope_and_nowhere_else() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let vendor = srv.tenant("Harbour VFX", "harbour").await;
        let (pid, shots, _asset) = production(&srv, &prod, "ALPHA").await;
        credit(&srv, &op, &prod, "20000.00").await;
        // Two shots, a task on each: the order is for the first shot only.
        let t = tasks(&srv, &prod, &pid, &[&shots[0], &shots[1]]).await;
        let (inside, outside) = (t[0].clone(), t[1].clone());
        // The production's own plate on the task, as version 1.
        let plate = srv
            .upload(&prod.token, "plate_v001.mov", b"alpha plate".to_vec())
            .await;
        let (s, v1) = srv
            .post(
                &prod.token,
                &format!("/api/v1/tasks/{inside}/versions"),
                json!({"comment": "plate", "media": [plate]}),
            )
            .await;
        assert_eq!(s, 201, "{v1}");
        let (s, o) = srv
            .post(
                &prod.token,
                "/api/v1/work-orders",
                json!({
                "project_id": pid, "title": "SQ010 cleanup", "currency": "CNY",
                "budget_min": 100_000, "budget_max": 500_000, "due_on": "2027-03-31",
                "scope": [{"kind": "shot", "id": shots[0]}]}),
            )
            .await;
        assert_eq!(s, 201, "{o}");
        let oid = id(&o);
        let base = format!("/api/v1/work-orders/{oid}");
        srv.post(
            &prod.token,
            &format!("{base}/publish"),
            json!({"audience": "invited", "invite": [vendor.org.id]}),
        )
        .await;
        let (_, bid) = srv
            .post(
                &vendor.token,
                &format!("{base}/bids"),
                json!({"price": 300_000, "days": 10}),
            )
            .await;
        // Before the award the vendor bids but does not see the work.
        let (s, _) = srv.get(&vendor.token, &format!("{base}/work")).await;
        assert_eq!(s, 404);
        let (s, awarded) = srv
            .post(
                &prod.token,
                &format!("{base}/award"),
                json!({"bid_id": id(&bid), "price": 300_000}),
            )
            .await;
        assert_eq!(s, 200, "{awarded}");

        // The same work for a second vendor, while the first has it: refused; the task alone too.
        let late = srv.tenant("Late Post", "late").await;
        let (_, o2) = srv
            .post(
                &prod.token,
                "/api/v1/work-orders",
                json!({
                "project_id": pid, "title": "SQ010 comp, second opinion", "currency": "CNY",
                "budget_min": 100_000, "budget_max": 500_000, "due_on": "2027-03-31",
                "scope": [{"kind": "task", "id": inside}]}),
            )
            .await;
        let base2 = format!("/api/v1/work-orders/{}", id(&o2));
        srv.post(
            &prod.token,
            &format!("{base2}/publish"),
            json!({"audience": "invited", "invite": [late.org.id]}),
        )
        .await;
        let (_, bid2) = srv
            .post(
                &late.token,
                &format!("{base2}/bids"),
                json!({"price": 200_000, "days": 5}),
            )
            .await;
        let (s, v) = srv
            .post(
                &prod.token,
                &format!("{base2}/award"),
                json!({"bid_id": id(&bid2), "price": 200_000}),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("orders.scope_taken")),
            "{v}"
        );

        // The vendor's producer sees the shot and its task, not the other shot's.
        let (s, work) = srv.get(&vendor.token, &format!("{base}/work")).await;
        assert_eq!(s, 200, "{work}");
        let seen = ids_of(&work);
        assert_eq!(seen, vec![shots[0].clone(), inside.clone()], "{work}");
        let (s, _) = srv
            .get(&vendor.token, &format!("{base}/work/{outside}"))
            .await;
        assert_eq!(s, 404, "a task outside the order");
        let (s, _) = srv
            .get(&vendor.token, &format!("{base}/work/{}", shots[1]))
            .await;
        assert_eq!(s, 404, "a shot outside the order");
        let (s, shot) = srv
            .get(&vendor.token, &format!("{base}/work/{}", shots[0]))
            .await;
        assert_eq!(
            (s, ids_of(&json!({"items": shot["tasks"]}))),
            (200, vec![inside.clone()]),
            "{shot}"
        );
        // The task with the production's version and its plate, readable through the order.
        let (s, task) = srv
            .get(&vendor.token, &format!("{base}/work/{inside}"))
            .await;
        assert_eq!(s, 200, "{task}");
        assert_eq!(task["versions"][0]["number"], 1);
        assert_eq!(
            task["versions"][0]["author"],
            json!({"side": "production", "name": "Alpha Pictures"}),
            "the production's people are not the vendor's to know"
        );
        let text = task.to_string();
        assert!(
            !text.contains(&pid) && !text.contains(&prod.owner.id.to_string()),
            "no project or person of the production: {text}"
        );
        let (s, got) = bytes_of(
            &srv,
            &vendor.token,
            &format!("{base}/media/{plate}/content"),
        )
        .await;
        assert_eq!((s, got.as_slice()), (200, b"alpha plate".as_slice()));
        // Not through its own organisation's media, and not a file of a task outside.
        let (s, _) = srv
            .get(&vendor.token, &format!("/api/v1/media/{plate}"))
            .await;
        assert_eq!(s, 404);
        let outside_file = srv
            .upload(&prod.token, "other_v001.mov", b"other".to_vec())
            .await;
        srv.post(
            &prod.token,
            &format!("/api/v1/tasks/{outside}/versions"),
            json!({"media": [outside_file]}),
        )
        .await;
        let (s, _) = bytes_of(
            &srv,
            &vendor.token,
            &format!("{base}/media/{outside_file}/content"),
        )
        .await;
        assert_eq!(s, 404, "a file of a task outside the order");

        // The vendor's artist: nothing until put on the task.
        let (artist, artist_token) = srv
            .member(
                &vendor,
                "comp@harbour.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (coordinator, coord_token) = srv
            .member(
                &vendor,
                "coord@harbour.example",
                Role::Coordinator,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (s, _) = srv.get(&artist_token, &format!("{base}/work")).await;
        assert_eq!(s, 404);
        let (_, mine) = srv.get(&artist_token, "/api/v1/work-orders/assigned").await;
        assert_eq!(mine["items"], json!([]));
        // Only the vendor's members go on its tasks; only the order's tasks take them.
        let (prod_artist, _) = srv
            .member(
                &prod,
                "anim@alpha.example",
                Role::Artist,
                &[TokenScope::Read],
            )
            .await;
        let (s, v) = put(
            &srv,
            &coord_token,
            &format!("{base}/work/{inside}/artists"),
            json!({"user_ids": [prod_artist.id]}),
        )
        .await;
        assert_eq!(
            (s, v["reason"].as_str()),
            (422, Some("not_a_member")),
            "{v}"
        );
        let (s, _) = put(
            &srv,
            &coord_token,
            &format!("{base}/work/{outside}/artists"),
            json!({"user_ids": [artist.id]}),
        )
        .await;
        assert_eq!(s, 404);
        let (s, v) = put(
            &srv,
            &prod.token,
            &format!("{base}/work/{inside}/artists"),
            json!({"user_ids": []}),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("orders.other_side")),
            "{v}"
        );
        let (s, v) = put(
            &srv,
            &coord_token,
            &format!("{base}/work/{inside}/artists"),
            json!({"user_ids": [artist.id, coordinator.id]}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        let (_, mine) = srv.get(&artist_token, "/api/v1/work-orders/assigned").await;
        assert_eq!(
            (
                mine["items"][0]["task"]["id"].as_str(),
                mine["items"][0]["client_name"].as_str()
            ),
            (Some(inside.as_str()), Some("Alpha Pictures")),
            "{mine}"
        );
        // The artist reaches its task and nothing else of the order.
        let (s, work) = srv.get(&artist_token, &format!("{base}/work")).await;
        assert_eq!((s, ids_of(&work)), (200, vec![inside.clone()]), "{work}");
        let (s, _) = srv
            .get(&artist_token, &format!("{base}/work/{}", shots[0]))
            .await;
        assert_eq!(
            s, 404,
            "the shot is the vendor's producers' to read, not the artist's"
        );
        let (s, _) = srv.get(&artist_token, &base).await;
        assert_eq!(
            s, 403,
            "the order itself (its money) is for those who read work orders"
        );

        // The artist hands in version 2, made of a file of its own organisation's.
        let comp = srv
            .upload(
                &artist_token,
                "SQ010_0010_comp_v002.mov",
                b"harbour comp".to_vec(),
            )
            .await;
        let (s, v) = srv
            .post(
                &artist_token,
                &format!("{base}/work/{inside}/versions"),
                json!({"comment": "first comp", "media": [plate]}),
            )
            .await;
        assert_eq!(
            (s, v["title"].is_string()),
            (404, true),
            "a file of the production's is not the vendor's to hand in: {v}"
        );
        let (s, v2) = srv
            .post(
                &artist_token,
                &format!("{base}/work/{inside}/versions"),
                json!({"comment": "first comp", "media": [comp]}),
            )
            .await;
        assert_eq!(s, 201, "{v2}");
        assert_eq!(
            (v2["number"].as_i64(), v2["author"]["side"].as_str()),
            (Some(2), Some("vendor")),
            "{v2}"
        );
        let copy = v2["media"][0]["id"].as_str().unwrap().to_string();
        assert_ne!(copy, comp, "the production keeps a file of its own");
        // The production finds it in its own tracking, by the vendor's artist, its bytes its own.
        let (_, listed) = srv
            .get(&prod.token, &format!("/api/v1/tasks/{inside}/versions"))
            .await;
        assert_eq!(listed["total"], 2, "{listed}");
        assert_eq!(listed["items"][1]["author_id"], json!(artist.id));
        let (s, got) = bytes_of(&srv, &prod.token, &format!("/api/v1/media/{copy}/content")).await;
        assert_eq!((s, got.as_slice()), (200, b"harbour comp".as_slice()));
        let (s, v) = srv
            .post(
                &prod.token,
                &format!("{base}/work/{inside}/versions"),
                json!({}),
            )
            .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.other_side")));
        // The artist on a task outside the order, or on the shot: not there.
        let (s, _) = srv
            .post(
                &artist_token,
                &format!("{base}/work/{outside}/versions"),
                json!({}),
            )
            .await;
        assert_eq!(s, 404);

        // Notes both ways: the production's (in its tracking) reach the vendor under the
        // production's name; a client's held note does not; the vendor's reach the production.
        let (s, _) = srv
            .post(
                &prod.token,
                &format!("/api/v1/tasks/{inside}/notes"),
                json!({"body": "Hold the crane's edge at frame 1012"}),
            )
            .await;
        assert_eq!(s, 201);
        let (_, client_token) = srv
            .member(
                &prod,
                "client@alpha.example",
                Role::Client,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (s, _) = srv
            .post(
                &client_token,
                &format!("/api/v1/versions/{}/notes", id(&v2)),
                json!({"body": "Could we add a lighthouse too?"}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, n) = srv
            .post(
                &artist_token,
                &format!("{base}/work/{inside}/notes"),
                json!({"body": "Edge fixed in v002", "version_id": id(&v2), "frame": 1012}),
            )
            .await;
        assert_eq!(s, 201, "{n}");
        assert_eq!(n["author"]["name"], "comp@harbour.example");
        let (s, v) = srv
            .post(
                &artist_token,
                &format!("{base}/work/{inside}/notes"),
                json!({"body": "x", "version_id": id(&v1), "frame": -1}),
            )
            .await;
        assert_eq!((s, v["field"].as_str()), (422, Some("frame")), "{v}");
        let (s, v) = srv
            .post(
                &artist_token,
                &format!("{base}/work/{inside}/notes"),
                json!({"body": "x", "version_id": outside}),
            )
            .await;
        assert_eq!(
            (s, v["reason"].as_str()),
            (422, Some("not_a_version_of_this_task")),
            "{v}"
        );
        let (_, task) = srv
            .get(&artist_token, &format!("{base}/work/{inside}"))
            .await;
        let bodies: Vec<&str> = task["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["body"].as_str().unwrap())
            .collect();
        assert_eq!(
            bodies,
            vec!["Hold the crane's edge at frame 1012", "Edge fixed in v002"],
            "{task}"
        );
        assert_eq!(task["notes"][0]["author"]["name"], "Alpha Pictures");
        let (_, notes) = srv
            .get(&prod.token, &format!("/api/v1/versions/{}/notes", id(&v2)))
            .await;
        assert!(notes.to_string().contains("Edge fixed in v002"), "{notes}");

        // The award ends: the vendor, its producers and its artists, find none of it.
        let (s, done) = srv
            .post(&prod.token, &format!("{base}/cancel"), json!({}))
            .await;
        assert_eq!(s, 200, "{done}");
        for token in [&vendor.token, &artist_token, &coord_token] {
            for path in [
                format!("{base}/work"),
                format!("{base}/work/{inside}"),
                format!("{base}/media/{plate}/content"),
                format!("{base}/media/{copy}/content"),
            ] {
                let (s, v) = srv.get(token, &path).await;
                assert_eq!(s, 404, "{path} after the award: {v}");
            }
            let (s, _) = srv
                .post(
                    token,
                    &format!("{base}/work/{inside}/notes"),
                    json!({"body": "late"}),
                )
                .await;
            assert_eq!(s, 404);
            let (s, _) = srv
                .post(token, &format!("{base}/work/{inside}/versions"), json!({}))
                .await;
            assert!(s == 404 || s == 403, "{s}");
        }
        let (_, mine) = srv.get(&artist_token, "/api/v1/work-orders/assigned").await;
        assert_eq!(mine["items"], json!([]));
        // The work is free again: the second vendor may have it.
        let (s, v) = srv
            .post(
                &prod.token,
                &format!("{base2}/award"),
                json!({"bid_id": id(&bid2), "price": 200_000}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        // The order itself stays readable to both sides, and the production keeps the work.
        let (s, _) = srv.get(&vendor.token, &base).await;
        assert_eq!(s, 200);
        let (s, work) = srv.get(&prod.token, &format!("{base}/work/{inside}")).await;
        assert_eq!(
            (s, work["versions"].as_array().map(Vec::len)),
            (200, Some(2))
        );
        assert_eq!(
            work["versions"][0]["author"]["name"],
            "comp@harbour.example"
        );
        // Events: the production was told of the version, the vendor of its hand-in.
        assert!(
            kinds(&srv, &prod)
                .await
                .contains(&"version.created".to_string())
        );
        assert!(
            kinds(&srv, &vendor)
                .await
                .contains(&"version.handed_in".to_string())
        );
    })
    .await;
}

/// An ASC MHL generation of `files` (path, bytes, hash format), as a vendor's tool writes it;
/// `tamper` names a path whose hash is written wrong.
fn manifest(files: &[(&str, &[u8], &str)], tamper: Option<&str>) -> String {
    use mstation_core::media::mhl;
    let g = mhl::Generation {
        created: "2026-12-07T10:00:00+00:00".into(),
        hostname: "harbour-io-01".into(),
        tool: "ascmhl".into(),
        tool_version: "1.2".into(),
        files: files
            .iter()
            .map(|(path, bytes, format)| {
                let mut h = mhl::Hasher::new([*format]);
                h.update(bytes);
                let mut hashes = h.finish();
                if tamper == Some(*path) {
                    hashes.insert(format.to_string(), "0".repeat(hashes[*format].len()));
                }
                mhl::FileHash {
                    path: path.to_string(),
                    size: bytes.len() as u64,
                    modified: "2026-12-07T09:00:00+00:00".into(),
                    hashes,
                    action: "original".into(),
                }
            })
            .collect(),
        ..Default::default()
    };
    mhl::write_generation(&g, "2026-12-07T10:00:00.000000+00:00")
}

/// The order as `token` reads it once its first milestone's delivery is no longer verifying.
async fn checked(srv: &Srv, token: &str, base: &str) -> Value {
    for _ in 0..300 {
        let (_, o) = srv.get(token, base).await;
        if o["milestones"][0]["delivery"]["check"] != "verifying" {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the delivery was not verified in 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_verified_against_its_manifest_before_it_is_paid() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let vendor = srv.tenant("Harbour VFX", "harbour").await;
        let (pid, shots, _asset) = production(&srv, &prod, "ALPHA").await;
        credit(&srv, &op, &prod, "20000.00").await;
        let t = tasks(&srv, &prod, &pid, &[&shots[0], &shots[1]]).await;
        let (inside, outside) = (t[0].clone(), t[1].clone());
        let (_, elsewhere) = srv
            .post(
                &prod.token,
                &format!("/api/v1/tasks/{outside}/versions"),
                json!({}),
            )
            .await;
        let (_, plate) = srv
            .post(
                &prod.token,
                &format!("/api/v1/tasks/{inside}/versions"),
                json!({"comment": "plate"}),
            )
            .await;
        let (_, o) = srv
            .post(
                &prod.token,
                "/api/v1/work-orders",
                json!({
                "project_id": pid, "title": "SQ010 comp", "currency": "CNY",
                "budget_min": 100_000, "budget_max": 500_000, "due_on": "2027-03-31",
                "scope": [{"kind": "shot", "id": shots[0]}]}),
            )
            .await;
        let base = format!("/api/v1/work-orders/{}", id(&o));
        srv.post(
            &prod.token,
            &format!("{base}/publish"),
            json!({"audience": "invited", "invite": [vendor.org.id]}),
        )
        .await;
        let (_, bid) = srv
            .post(
                &vendor.token,
                &format!("{base}/bids"),
                json!({"price": 300_000, "days": 10}),
            )
            .await;
        let (s, awarded) = srv
            .post(
                &prod.token,
                &format!("{base}/award"),
                json!({"bid_id": id(&bid), "price": 300_000}),
            )
            .await;
        assert_eq!(s, 200, "{awarded}");
        let m = milestone(&awarded, 0);
        let deliver = format!("{base}/milestones/{m}/deliver");

        // The vendor hands in a version of two files, then delivers it with their manifest.
        let (a, b): (&[u8], &[u8]) = (b"comp frames", b"stems");
        let fa = srv
            .upload(&vendor.token, "SQ010_0010_comp_v001.mov", a.to_vec())
            .await;
        let fb = srv
            .upload(&vendor.token, "SQ010_0010_stems.wav", b.to_vec())
            .await;
        let (s, v1) = srv
            .post(
                &vendor.token,
                &format!("{base}/work/{inside}/versions"),
                json!({"comment": "v001", "media": [fa, fb]}),
            )
            .await;
        assert_eq!(s, 201, "{v1}");
        // What a manifest must be, said by field.
        for (body, field, reason) in [
            (
                json!({"versions": [id(&v1)], "manifest": "<hashlist"}),
                "manifest",
                "not_well_formed_xml",
            ),
            (
                json!({"versions": [id(&v1)], "manifest": "<html></html>"}),
                "manifest",
                "not_an_mhl_manifest",
            ),
            (
                json!({"manifest": manifest(&[("A.mov", a, "xxh64")], None)}),
                "versions",
                "manifest_without_versions",
            ),
            (
                json!({"versions": [id(&elsewhere)]}),
                "versions",
                "not_a_version_of_this_work",
            ),
            (
                json!({"versions": [id(&plate)]}),
                "versions",
                "not_handed_in",
            ),
            (
                json!({"versions": [id(&v1), id(&v1)]}),
                "versions",
                "duplicate_version",
            ),
        ] {
            let (s, v) = srv.post(&vendor.token, &deliver, body).await;
            assert_eq!(
                (s, v["field"].as_str(), v["reason"].as_str()),
                (422, Some(field), Some(reason)),
                "{v}"
            );
        }
        let (_, o) = srv.get(&prod.token, &base).await;
        assert_eq!(
            o["milestones"][0]["state"], "held",
            "nothing was delivered: {o}"
        );

        // A manifest that lists the stems wrong and a file never delivered: it does not verify.
        let bad = manifest(
            &[
                ("SQ010/SQ010_0010_comp_v001.mov", a, "xxh64"),
                ("SQ010/SQ010_0010_stems.wav", b, "xxh64"),
                ("SQ010/SQ010_0010_matte.exr", b"matte", "xxh64"),
            ],
            Some("SQ010/SQ010_0010_stems.wav"),
        );
        let (s, v) = srv
            .post(
                &vendor.token,
                &deliver,
                json!({"note": "v001 with stems", "versions": [id(&v1)], "manifest": bad}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let o = checked(&srv, &prod.token, &base).await;
        let d = &o["milestones"][0]["delivery"];
        assert_eq!(d["check"], "failed", "{o}");
        let outcomes: Vec<(&str, &str)> = d["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap(), f["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("SQ010/SQ010_0010_comp_v001.mov", "match"),
                ("SQ010/SQ010_0010_stems.wav", "mismatch"),
                ("SQ010/SQ010_0010_matte.exr", "missing"),
            ],
            "{d}"
        );
        assert_eq!(d["versions"][0]["number"], 2, "the plate is the first");
        let (s, v) = srv
            .post(
                &prod.token,
                &format!("{base}/milestones/{m}/accept"),
                json!({}),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("orders.delivery_failed")),
            "{v}"
        );
        let (s, _) = srv
            .post(
                &prod.token,
                &format!("{base}/milestones/{m}/changes"),
                json!({"note": "The stems do not match their manifest"}),
            )
            .await;
        assert_eq!(s, 200);

        // Delivered again with the manifest right (in C4 and md5 this time): verified,
        // accepted, paid.
        let good = manifest(
            &[
                ("SQ010/SQ010_0010_comp_v001.mov", a, "c4"),
                ("SQ010/SQ010_0010_stems.wav", b, "md5"),
            ],
            None,
        );
        let (s, v) = srv
            .post(
                &vendor.token,
                &deliver,
                json!({"note": "v001, manifest fixed", "versions": [id(&v1)], "manifest": good}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let o = checked(&srv, &vendor.token, &base).await;
        let d = &o["milestones"][0]["delivery"];
        assert_eq!(d["check"], "verified", "{o}");
        assert!(
            d["files"]
                .as_array()
                .unwrap()
                .iter()
                .zip(["c4", "md5"])
                .all(|(f, format)| f["outcome"] == "match" && f["format"] == format),
            "{d}"
        );
        let (s, o) = srv
            .post(
                &prod.token,
                &format!("{base}/milestones/{m}/accept"),
                json!({}),
            )
            .await;
        assert_eq!(
            (s, o["milestones"][0]["state"].as_str()),
            (200, Some("accepted")),
            "{o}"
        );
        for t in [&prod, &vendor] {
            let k = kinds(&srv, t).await;
            assert!(
                k.contains(&"delivery.failed".to_string())
                    && k.contains(&"delivery.verified".to_string()),
                "{k:?}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_work_becomes_a_change_order_the_production_approves_before_the_artists_see_it() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let vendor = srv.tenant("Harbour VFX", "harbour").await;
        let (pid, shots, _asset) = production(&srv, &prod, "ALPHA").await;
        let (_, other_shots, _) = production(&srv, &prod, "OTHER").await;
        credit(&srv, &op, &prod, "20000.00").await;
        let t = tasks(&srv, &prod, &pid, &[&shots[0], &shots[1]]).await;
        let (inside, extra) = (t[0].clone(), t[1].clone());
        let (_, o) = srv
            .post(&prod.token, "/api/v1/work-orders", json!({
                "project_id": pid, "title": "SQ010 comp", "currency": "CNY",
                "budget_min": 100_000, "budget_max": 500_000, "due_on": "2027-03-31",
                "scope": [{"kind": "shot", "id": shots[0]}]}))
            .await;
        let base = format!("/api/v1/work-orders/{}", id(&o));
        srv.post(&prod.token, &format!("{base}/publish"), json!({"audience": "invited", "invite": [vendor.org.id]})).await;
        let (_, bid) = srv.post(&vendor.token, &format!("{base}/bids"), json!({"price": 300_000, "days": 10})).await;
        let (s, _) = srv.post(&prod.token, &format!("{base}/award"), json!({"bid_id": id(&bid), "price": 300_000})).await;
        assert_eq!(s, 200);
        let (artist, artist_token) = srv
            .member(&vendor, "comp@harbour.example", Role::Artist, &[TokenScope::Read, TokenScope::Write])
            .await;
        let (s, _) = put(&srv, &vendor.token, &format!("{base}/work/{inside}/artists"), json!({"user_ids": [artist.id]})).await;
        assert_eq!(s, 200);

        // The client asks, in a note on the next shot, for more than was awarded: held for
        // production, as a client's notes are.
        let (_, client_token) = srv
            .member(&prod, "director@alpha.example", Role::Client, &[TokenScope::Read, TokenScope::Write])
            .await;
        let (s, note) = srv
            .post(&client_token, &format!("/api/v1/shots/{}/notes", shots[1]), json!({"body": "Could the next shot get a lighthouse too?"}))
            .await;
        assert_eq!(s, 201, "{note}");
        let note_id = note["id"].as_str().or(note["note"]["id"].as_str()).unwrap().to_string();

        // The production writes it up: what, from which note, on which shot. Checked first.
        let changes = format!("{base}/changes");
        let (s, v) = srv.post(&prod.token, &changes, json!({"title": "Lighthouse", "scope": [{"kind": "shot", "id": other_shots[0]}]})).await;
        assert_eq!((s, v["reason"].as_str()), (422, Some("not_in_project")), "{v}");
        let (_, other_note) = srv.post(&prod.token, &format!("/api/v1/shots/{}/notes", other_shots[0]), json!({"body": "elsewhere"})).await;
        let other_note = other_note["id"].as_str().or(other_note["note"]["id"].as_str()).unwrap().to_string();
        let (s, v) = srv.post(&prod.token, &changes, json!({"title": "Lighthouse", "note_id": other_note})).await;
        assert_eq!((s, v["reason"].as_str()), (422, Some("not_a_note_of_this_project")), "{v}");
        let (s, v) = srv.post(&vendor.token, &changes, json!({"title": "Lighthouse"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.other_side")), "{v}");
        let (s, co) = srv
            .post(&prod.token, &changes, json!({"title": "Lighthouse", "description": "A lighthouse on the point, lit, in SQ010_0020.", "note_id": note_id, "scope": [{"kind": "shot", "id": shots[1]}]}))
            .await;
        assert_eq!(s, 201, "{co}");
        assert_eq!((co["number"].as_i64(), co["state"].as_str()), (Some(1), Some("requested")));
        let step = |what: &str| format!("{changes}/{}/{what}", id(&co));

        // The vendor reads it to price it (not which note it came from); its artist sees none
        // of it, and the work has not grown.
        let (_, seen) = srv.get(&vendor.token, &changes).await;
        assert_eq!((seen["items"][0]["title"].as_str(), seen["items"][0]["note_id"].is_null()), (Some("Lighthouse"), true), "{seen}");
        let (s, _) = srv.get(&artist_token, &changes).await;
        assert_eq!(s, 403);
        let (_, work) = srv.get(&vendor.token, &format!("{base}/work")).await;
        assert_eq!(ids_of(&work), vec![shots[0].clone(), inside.clone()]);
        let (s, _) = srv.get(&vendor.token, &format!("{base}/work/{extra}")).await;
        assert_eq!(s, 404);

        // Priced, then approved at the price read: held as a milestone of its own.
        let (s, v) = srv.post(&prod.token, &step("approve"), json!({"price": 80_000})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.not_quoted")), "{v}");
        let (s, v) = srv.post(&vendor.token, &step("quote"), json!({"price": 0, "days": 5})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("price")), "{v}");
        let (s, v) = srv.post(&prod.token, &step("quote"), json!({"price": 70_000, "days": 5})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.other_side")), "{v}");
        let (s, v) = srv.post(&vendor.token, &step("quote"), json!({"price": 80_000, "days": 5, "note": "Modelled, lit and comped"})).await;
        assert_eq!((s, v["state"].as_str(), v["price"].as_i64()), (200, Some("quoted"), Some(80_000)), "{v}");
        let (s, v) = srv.post(&prod.token, &step("approve"), json!({"price": 70_000})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.quote_changed")), "{v}");
        let (_, available) = wallet(&srv, &prod).await;
        let (s, v) = srv.post(&prod.token, &step("approve"), json!({"price": 80_000})).await;
        assert_eq!((s, v["state"].as_str()), (200, Some("approved")), "{v}");
        assert_eq!(wallet(&srv, &prod).await.1, available - 80_000, "the change's price is held");
        let (_, order) = srv.get(&vendor.token, &base).await;
        let ms = order["milestones"].as_array().unwrap();
        assert_eq!((ms.len(), ms[1]["title"].as_str(), ms[1]["amount"].as_i64(), ms[1]["state"].as_str()), (2, Some("CO-1 · Lighthouse"), Some(80_000), Some("held")), "{order}");
        assert_eq!(v["milestone_id"], ms[1]["id"]);
        let (s, v) = srv.post(&vendor.token, &step("close"), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.change_closed")), "{v}");

        // Now the work has the shot and its task; the artist reaches it once put on it.
        let (_, work) = srv.get(&vendor.token, &format!("{base}/work")).await;
        assert!(ids_of(&work).contains(&shots[1]) && ids_of(&work).contains(&extra), "{work}");
        let (s, _) = srv.get(&artist_token, &format!("{base}/work/{extra}")).await;
        assert_eq!(s, 404);
        let (s, _) = put(&srv, &vendor.token, &format!("{base}/work/{extra}/artists"), json!({"user_ids": [artist.id]})).await;
        assert_eq!(s, 200);
        let (s, _) = srv.get(&artist_token, &format!("{base}/work/{extra}")).await;
        assert_eq!(s, 200);

        // A second one the vendor declines; the production then cannot withdraw it.
        let (_, co2) = srv.post(&prod.token, &changes, json!({"title": "Night version"})).await;
        assert_eq!(co2["number"], 2);
        let (s, v) = srv.post(&vendor.token, &format!("{changes}/{}/close", id(&co2)), json!({})).await;
        assert_eq!((s, v["state"].as_str()), (200, Some("declined")), "{v}");
        let (s, v) = srv.post(&prod.token, &format!("{changes}/{}/close", id(&co2)), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.change_closed")), "{v}");
        let k = kinds(&srv, &vendor).await;
        for e in ["change_order.requested", "change_order.approved", "change_order.declined"] {
            assert!(k.contains(&e.to_string()), "{e}: {k:?}");
        }
    })
    .await;
}
