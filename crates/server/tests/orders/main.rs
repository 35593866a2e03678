//! Work orders on both backends: a production posts one on some of its shots and assets,
//! invites a vendor, takes its bid and awards it, which holds the price in the production's
//! wallet; the vendor delivers each milestone, the production sends one back for changes and
//! accepts it, which pays it; a dispute freezes the money until its opener withdraws it; a
//! cancelled award gives back what is still held. Every step is the right side's only, an
//! organisation that is no side of the order never finds it, and the ledger's invariants hold
//! throughout (`on_every_backend` checks them after each story).

#[path = "../common/mod.rs"]
mod common;

use common::*;
use serde_json::{Value, json};

mod work;

/// What the platform's wallet of `t` holds in CNY: (posted, available).
async fn wallet(srv: &Srv, t: &Tenant) -> (i64, i64) {
    let (s, v) = srv.get(&t.token, "/api/v1/market/wallets").await;
    assert_eq!(s, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["purpose"] == "wallet" && a["currency"] == "CNY")
        .map_or((0, 0), |a| {
            (
                a["posted"].as_i64().unwrap(),
                a["available"].as_i64().unwrap(),
            )
        })
}

async fn credit(srv: &Srv, op: &Tenant, t: &Tenant, amount: &str) {
    let (s, v) = srv
        .post(&op.token, "/api/v1/market/wallets/credit",
              json!({"org_id": t.org.id, "currency": "CNY", "amount": amount, "reference": "bank transfer"}))
        .await;
    assert_eq!(s, 201, "{v}");
}

/// A project of `t` with two shots and an asset: (project, shots, asset).
async fn production(srv: &Srv, t: &Tenant, code: &str) -> (String, Vec<String>, String) {
    let (s, project) = srv
        .post(&t.token, "/api/v1/projects", json!({"name": format!("{code} Feature"), "code": code, "fps": "24", "width": 4096, "height": 1716}))
        .await;
    assert_eq!(s, 201, "{project}");
    let pid = id(&project);
    let (_, seq) = srv
        .post(
            &t.token,
            &format!("/api/v1/projects/{pid}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let edl = "TITLE: X\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n002  A001C004 V     C        10:00:05:00 10:00:07:00 01:00:02:00 01:00:04:00\n";
    let (s, cut) = srv
        .post(
            &t.token,
            &format!("/api/v1/sequences/{}/conform", id(&seq)),
            json!({"format": "cmx3600", "edl": edl, "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{cut}");
    let (_, shots) = srv
        .get(&t.token, &format!("/api/v1/sequences/{}/shots", id(&seq)))
        .await;
    let shots: Vec<String> = shots["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(shots.len(), 2);
    let (s, asset) = srv
        .post(
            &t.token,
            &format!("/api/v1/projects/{pid}/assets"),
            json!({"kind": "prop", "name": "Harbour crane"}),
        )
        .await;
    assert_eq!(s, 201, "{asset}");
    (pid, shots, id(&asset))
}

fn order(project: &str, shot: &str, asset: &str) -> Value {
    json!({
        "project_id": project, "title": "Harbour extension, SQ010",
        "brief": "Extend the harbour to the horizon in two shots; the crane is the hero prop.",
        "deliverables": "EXR 16-bit half, ACEScg, 4096x1716, handles 8+8",
        "currency": "CNY", "budget_min": 3_000_000, "budget_max": 5_000_000, "due_on": "2027-03-31", "nda": true,
        "scope": [{"kind": "shot", "id": shot}, {"kind": "asset", "id": asset}, {"kind": "shot", "id": shot}]
    })
}

/// The kinds of the events `t`'s owner is shown, from the first.
async fn kinds(srv: &Srv, t: &Tenant) -> Vec<String> {
    let resp = srv
        .http
        .get(format!("{}/api/v1/events?after=0", srv.base))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    read_events(resp, 500, std::time::Duration::from_secs(1))
        .await
        .into_iter()
        .map(|(_, kind, _)| kind)
        .collect()
}

fn milestone(o: &Value, i: usize) -> String {
    o["milestones"][i]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_work_order_is_posted_bid_for_awarded_delivered_and_paid() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let vendor = srv.tenant("Harbour VFX", "harbour").await;
        let outsider = srv.tenant("Citrus Post", "citrus").await;
        let (pid, shots, asset) = production(&srv, &prod, "ALPHA").await;
        let (other_pid, other_shots, _) = production(&srv, &prod, "BETA").await;
        credit(&srv, &op, &prod, "100000.00").await;

        // Refused by name, nothing written.
        for (body, field, reason) in [
            ({ let mut b = order(&pid, &shots[0], &asset); b["budget_max"] = json!(1); b }, "budget_max", "below_minimum"),
            ({ let mut b = order(&pid, &shots[0], &asset); b["scope"] = json!([{"kind": "shot", "id": other_shots[0]}]); b }, "scope", "not_in_project"),
            ({ let mut b = order(&pid, &shots[0], &asset); b["scope"] = json!([{"kind": "task", "id": asset}]); b }, "scope", "not_in_project"),
            ({ let mut b = order(&pid, &shots[0], &asset); b["due_on"] = json!("2027-02-30"); b }, "due_on", "not_a_date"),
            ({ let mut b = order(&pid, &shots[0], &asset); b["currency"] = json!("yuan"); b }, "currency", "not_a_currency"),
        ] {
            let (s, v) = srv.post(&prod.token, "/api/v1/work-orders", body).await;
            assert_eq!((s, v["field"].as_str(), v["reason"].as_str()), (422, Some(field), Some(reason)), "{v}");
        }
        let (s, v) = srv.post(&outsider.token, "/api/v1/work-orders", order(&other_pid, &shots[0], &asset)).await;
        assert_eq!(s, 404, "another organisation's project: {v}");
        let (_, none) = srv.get(&prod.token, "/api/v1/work-orders").await;
        assert_eq!(none["total"], 0);

        let (s, o) = srv.post(&prod.token, "/api/v1/work-orders", order(&pid, &shots[0], &asset)).await;
        assert_eq!(s, 201, "{o}");
        let oid = id(&o);
        assert_eq!((o["state"].as_str(), o["own"].as_bool(), o["bids"].as_i64()), (Some("draft"), Some(true), Some(0)));
        assert_eq!(o["scope"].as_array().unwrap().len(), 2, "the repeated shot once: {o}");
        // A draft is the production's alone.
        for t in [&vendor, &outsider] {
            let (s, _) = srv.get(&t.token, &format!("/api/v1/work-orders/{oid}")).await;
            assert_eq!(s, 404);
        }
        let (s, v) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/publish"), json!({"audience": "invited", "invite": [prod.org.id]})).await;
        assert_eq!((s, v["reason"].as_str()), (422, Some("not_another_organisation")), "{v}");
        let (s, o) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/publish"), json!({"audience": "invited", "invite": [vendor.org.id]})).await;
        assert_eq!(s, 200, "{o}");
        assert_eq!((o["state"].as_str(), o["invited"].clone()), (Some("open"), json!([vendor.org.id])));

        // The vendor invited sees what to bid on, not the production's project or scope; the
        // outsider sees nothing.
        let (_, open) = srv.get(&vendor.token, "/api/v1/work-orders?side=open").await;
        assert_eq!(open["total"], 1, "{open}");
        let seen = &open["items"][0];
        assert_eq!((seen["title"].as_str(), seen["own"].as_bool(), seen["org_name"].as_str()), (Some("Harbour extension, SQ010"), Some(false), Some("Alpha Pictures")));
        assert!(seen["project_id"].is_null() && seen["scope"] == json!([]) && seen["invited"] == json!([]), "{seen}");
        let (_, open) = srv.get(&outsider.token, "/api/v1/work-orders?side=open").await;
        assert_eq!(open["total"], 0);
        let (s, _) = srv.post(&outsider.token, &format!("/api/v1/work-orders/{oid}/bids"), json!({"price": 100, "days": 10})).await;
        assert_eq!(s, 404);
        let (s, v) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/bids"), json!({"price": 100, "days": 10})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("orders.own_order")), "{v}");
        let (s, v) = srv.post(&vendor.token, &format!("/api/v1/work-orders/{oid}/bids"), json!({"price": 0, "days": 10})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("price")), "{v}");

        // A bid, written again at a better price, withdrawn and made again.
        let path = format!("/api/v1/work-orders/{oid}/bids");
        let (s, b) = srv.post(&vendor.token, &path, json!({"price": 4_500_000, "days": 40, "assumptions": "Plates delivered by 2027-01-10"})).await;
        assert_eq!(s, 201, "{b}");
        let bid = id(&b);
        let (_, b) = srv.post(&vendor.token, &path, json!({"price": 4_000_000, "days": 45, "questions": "Is the crane rigged?"})).await;
        assert_eq!((id(&b), b["price"].as_i64()), (bid.clone(), Some(4_000_000)));
        let r = srv.post(&vendor.token, &format!("{path}/{bid}/withdraw"), json!({})).await;
        assert_eq!(r.0, 204, "{}", r.1);
        let (s, v) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/award"), json!({"bid_id": bid, "price": 4_000_000})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.bid_withdrawn")), "{v}");
        let (_, b) = srv.post(&vendor.token, &path, json!({"price": 4_000_000, "days": 45})).await;
        assert_eq!(b["state"], "open");
        let (_, bids) = srv.get(&prod.token, &path).await;
        assert_eq!(bids["items"].as_array().unwrap().len(), 1);
        let (_, posted) = srv.get(&prod.token, "/api/v1/work-orders?side=posted").await;
        assert_eq!(posted["items"][0]["bids"], 1, "{posted}");
        assert_eq!((bids["items"][0]["vendor_name"].as_str(), bids["items"][0]["awarded"].as_bool()), (Some("Harbour VFX"), Some(false)));

        // Awarded in two milestones that add up to the price: held from the wallet.
        let award = format!("/api/v1/work-orders/{oid}/award");
        let (s, v) = srv
            .post(&prod.token, &award, json!({"bid_id": bid, "price": 4_000_000, "milestones": [{"title": "Layout", "amount": 1_500_000}, {"title": "Finals", "amount": 2_000_000}]}))
            .await;
        assert_eq!((s, v["field"].as_str(), v["reason"].as_str()), (422, Some("milestones"), Some("must_add_up_to_price")), "{v}");
        let (s, v) = srv.post(&vendor.token, &award, json!({"bid_id": bid, "price": 4_000_000})).await;
        assert_eq!(s, 404, "the vendor awards nothing: {v}");
        // At the price the production read: a bid changed since is not awarded.
        let (s, v) = srv.post(&prod.token, &award, json!({"bid_id": bid, "price": 4_500_000})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.bid_changed")), "{v}");
        let (s, o) = srv
            .post(&prod.token, &award, json!({"bid_id": bid, "price": 4_000_000, "milestones": [{"title": "Layout", "amount": 1_500_000}, {"title": "Finals", "amount": 2_500_000}]}))
            .await;
        assert_eq!(s, 200, "{o}");
        assert_eq!((o["state"].as_str(), o["vendor_name"].as_str()), (Some("awarded"), Some("Harbour VFX")));
        assert_eq!(o["milestones"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect::<Vec<_>>(), ["held", "held"]);
        assert_eq!(wallet(&srv, &prod).await, (10_000_000, 6_000_000));
        assert_eq!(wallet(&srv, &vendor).await, (0, 0));
        let (s, v) = srv.post(&vendor.token, &path, json!({"price": 1, "days": 1})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.not_open")), "{v}");

        // The vendor now sees the scope and the milestones; the outsider still nothing.
        let (s, seen) = srv.get(&vendor.token, &format!("/api/v1/work-orders/{oid}")).await;
        assert_eq!(s, 200, "{seen}");
        assert_eq!((seen["scope"].as_array().unwrap().len(), seen["milestones"].as_array().unwrap().len()), (2, 2));
        assert!(seen["project_id"].is_null() && seen["invited"] == json!([]) && seen["bids"].is_null(), "{seen}");
        let (_, mine) = srv.get(&vendor.token, "/api/v1/work-orders?side=awarded").await;
        assert_eq!(mine["total"], 1);
        let (s, _) = srv.get(&outsider.token, &format!("/api/v1/work-orders/{oid}")).await;
        assert_eq!(s, 404);
        // The work itself, with its frames (in and out both counted), for both sides now.
        let work = format!("/api/v1/work-orders/{oid}/work");
        for t in [&prod, &vendor] {
            let (s, w) = srv.get(&t.token, &work).await;
            assert_eq!(s, 200, "{w}");
            let items = w["items"].as_array().unwrap();
            assert_eq!(items.len(), 2, "{w}");
            let shot = items.iter().find(|i| i["kind"] == "shot").unwrap();
            assert_eq!((shot["context"].as_str(), shot["frames"].as_i64()), (Some("SQ010"), Some(shot["frame_out"].as_i64().unwrap() - shot["frame_in"].as_i64().unwrap() + 1)), "{shot}");
            assert!(items.iter().any(|i| i["kind"] == "asset" && i["name"] == "Harbour crane"), "{w}");
        }
        let (s, _) = srv.get(&outsider.token, &work).await;
        assert_eq!(s, 404);

        // Each step is its side's.
        let (m1, m2) = (milestone(&o, 0), milestone(&o, 1));
        let step = |m: &str, what: &str| format!("/api/v1/work-orders/{oid}/milestones/{m}/{what}");
        let (s, v) = srv.post(&prod.token, &step(&m1, "accept"), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.not_delivered")), "{v}");
        let (s, v) = srv.post(&prod.token, &step(&m1, "deliver"), json!({"note": "mine"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.other_side")), "{v}");
        let (s, v) = srv.post(&vendor.token, &step(&m1, "accept"), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.other_side")), "{v}");
        for t in [&outsider] {
            let (s, _) = srv.post(&t.token, &step(&m1, "deliver"), json!({"note": "x"})).await;
            assert_eq!(s, 404);
        }

        // Delivered, sent back, delivered again, accepted: paid.
        let (s, o) = srv.post(&vendor.token, &step(&m1, "deliver"), json!({"note": "Layout v001 in the review room"})).await;
        assert_eq!((s, o["milestones"][0]["state"].as_str()), (200, Some("delivered")), "{o}");
        let (s, v) = srv.post(&vendor.token, &step(&m1, "deliver"), json!({"note": "v001 again"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.awaiting_review")), "{v}");
        // Work handed in is not cancelled unseen.
        let (s, v) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/cancel"), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.awaiting_review")), "{v}");
        let (s, v) = srv.post(&prod.token, &step(&m1, "changes"), json!({"note": ""})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("note")), "{v}");
        let (_, o) = srv.post(&prod.token, &step(&m1, "changes"), json!({"note": "Crane two metres left.\nSky a touch warmer."})).await;
        assert_eq!((o["milestones"][0]["state"].as_str(), o["milestones"][0]["review_note"].as_str()), (Some("changes_requested"), Some("Crane two metres left.\nSky a touch warmer.")));
        let (s, v) = srv.post(&prod.token, &step(&m1, "accept"), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.not_delivered")), "{v}");
        srv.post(&vendor.token, &step(&m1, "deliver"), json!({"note": "Layout v002"})).await;
        let (s, o) = srv.post(&prod.token, &step(&m1, "accept"), json!({})).await;
        assert_eq!(s, 200, "{o}");
        let m = &o["milestones"][0];
        assert_eq!((m["state"].as_str(), m["days_to_payment"].as_i64()), (Some("accepted"), Some(0)), "{m}");
        assert_eq!(m["accepted_at"], m["paid_at"]);
        assert_eq!(wallet(&srv, &prod).await, (8_500_000, 6_000_000));
        assert_eq!(wallet(&srv, &vendor).await, (1_500_000, 1_500_000));
        let (s, v) = srv.post(&prod.token, &step(&m1, "accept"), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.milestone_closed")), "{v}");

        // A dispute freezes the money until the side that opened it withdraws it.
        let dispute = format!("/api/v1/work-orders/{oid}/dispute");
        let (s, o) = srv.post(&vendor.token, &dispute, json!({"note": "Finals scope grew by a third shot"})).await;
        assert_eq!(s, 200, "{o}");
        assert_eq!(o["dispute"]["opened_by"], json!(vendor.org.id));
        let (s, v) = srv.post(&prod.token, &dispute, json!({"note": "again"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.disputed")), "{v}");
        srv.post(&vendor.token, &step(&m2, "deliver"), json!({"note": "Finals v001"})).await;
        for path in [step(&m2, "accept"), format!("/api/v1/work-orders/{oid}/cancel")] {
            let (s, v) = srv.post(&prod.token, &path, json!({})).await;
            assert_eq!((s, v["code"].as_str()), (409, Some("orders.disputed")), "{path}: {v}");
        }
        let r = srv.call(&prod.token, reqwest::Method::DELETE, &dispute, None).await;
        assert_eq!(r.status(), 409, "only its opener withdraws it");
        assert_eq!(wallet(&srv, &prod).await, (8_500_000, 6_000_000));
        let r = srv.call(&vendor.token, reqwest::Method::DELETE, &dispute, None).await;
        assert_eq!(r.status(), 200);
        let (s, o) = srv.post(&prod.token, &step(&m2, "accept"), json!({})).await;
        assert_eq!(s, 200, "{o}");
        assert_eq!((o["state"].as_str(), o["dispute"].is_null()), (Some("completed"), true), "{o}");
        // The award ended: the vendor no longer reads the work; the production does.
        let (s, _) = srv.get(&vendor.token, &format!("/api/v1/work-orders/{oid}/work")).await;
        assert_eq!(s, 404);
        let (s, _) = srv.get(&prod.token, &format!("/api/v1/work-orders/{oid}/work")).await;
        assert_eq!(s, 200);
        assert_eq!(wallet(&srv, &prod).await, (6_000_000, 6_000_000));
        assert_eq!(wallet(&srv, &vendor).await, (4_000_000, 4_000_000));
        let (_, bids) = srv.get(&vendor.token, &path).await;
        assert_eq!(bids["items"][0]["awarded"], true);

        // Both sides were told of every step; the outsider of none.
        let vendor_news = kinds(&srv, &vendor).await;
        for k in ["work_order.invited", "work_order.awarded", "milestone.changes_requested", "milestone.accepted", "work_order.disputed", "work_order.dispute_withdrawn", "bid.submitted"] {
            assert!(vendor_news.iter().any(|n| n == k), "the vendor was not told {k}: {vendor_news:?}");
        }
        let prod_news = kinds(&srv, &prod).await;
        for k in ["work_order.created", "bid.submitted", "milestone.delivered", "milestone.accepted", "work_order.disputed"] {
            assert!(prod_news.iter().any(|n| n == k), "the production was not told {k}: {prod_news:?}");
        }
        let outsider_news = kinds(&srv, &outsider).await;
        assert!(!outsider_news.iter().any(|n| n.starts_with("work_order") || n.starts_with("bid") || n.starts_with("milestone")), "{outsider_news:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_award_gives_back_what_is_held() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let vendor = srv.tenant("Harbour VFX", "harbour").await;
        let late = srv.tenant("Late Post", "late").await;
        let (pid, shots, asset) = production(&srv, &prod, "ALPHA").await;
        credit(&srv, &op, &prod, "20000.00").await;
        let (_, o) = srv
            .post(
                &prod.token,
                "/api/v1/work-orders",
                order(&pid, &shots[1], &asset),
            )
            .await;
        let oid = id(&o);
        // Shown to every organisation.
        let (s, o) = srv
            .post(
                &prod.token,
                &format!("/api/v1/work-orders/{oid}/publish"),
                json!({"audience": "platform"}),
            )
            .await;
        assert_eq!((s, o["audience"].as_str()), (200, Some("platform")), "{o}");
        let r = srv
            .call(
                &prod.token,
                reqwest::Method::DELETE,
                &format!("/api/v1/work-orders/{oid}"),
                None,
            )
            .await;
        assert_eq!(r.status(), 409, "an open order is cancelled, not removed");
        let (_, b) = srv
            .post(
                &vendor.token,
                &format!("/api/v1/work-orders/{oid}/bids"),
                json!({"price": 2_500_000, "days": 30}),
            )
            .await;
        let (_, lb) = srv
            .post(
                &late.token,
                &format!("/api/v1/work-orders/{oid}/bids"),
                json!({"price": 2_000_000, "days": 60}),
            )
            .await;
        // Lowest first.
        let (_, bids) = srv
            .get(&prod.token, &format!("/api/v1/work-orders/{oid}/bids"))
            .await;
        assert_eq!(
            bids["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(id)
                .collect::<Vec<_>>(),
            [id(&lb), id(&b)]
        );
        // More than the wallet holds is refused whole; once it holds enough, held.
        let award = format!("/api/v1/work-orders/{oid}/award");
        let (s, v) = srv
            .post(&prod.token, &award, json!({"bid_id": id(&b), "price": 2_500_000}))
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("ledger.exceeds_credits")),
            "{v}"
        );
        let (_, o) = srv
            .get(&prod.token, &format!("/api/v1/work-orders/{oid}"))
            .await;
        assert_eq!(
            (o["state"].as_str(), o["milestones"].clone()),
            (Some("open"), json!([]))
        );
        assert_eq!(wallet(&srv, &prod).await, (2_000_000, 2_000_000));
        credit(&srv, &op, &prod, "10000.00").await;
        let (s, v) = srv
            .post(
                &prod.token,
                &award,
                json!({"bid_id": id(&b), "price": 2_500_000, "milestones": [{"title": "All", "amount": 2_500_000}]}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(wallet(&srv, &prod).await, (3_000_000, 500_000));
        // The bidder not awarded no longer finds it.
        let (s, _) = srv
            .get(&late.token, &format!("/api/v1/work-orders/{oid}"))
            .await;
        assert_eq!(s, 404);
        let m = milestone(&v, 0);
        // The hold moves only by the order's steps: the operator's finance cannot post or void
        // it through the ledger.
        for kind in ["post", "void"] {
            let (s, e) = srv
                .post(&op.token, "/api/v1/ledger/transfers", json!({"transfers": [{"kind": kind, "pending_id": v["milestones"][0]["transfer_id"]}]}))
                .await;
            assert_eq!((s, e["code"].as_str()), (409, Some("orders.held_by_order")), "{e}");
        }
        srv.post(
            &vendor.token,
            &format!("/api/v1/work-orders/{oid}/milestones/{m}/deliver"),
            json!({}),
        )
        .await;
        // Work handed in is reviewed before the order is called off.
        let cancel = format!("/api/v1/work-orders/{oid}/cancel");
        let (s, v) = srv.post(&prod.token, &cancel, json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.awaiting_review")), "{v}");
        let (s, v) = srv
            .post(&prod.token, &format!("/api/v1/work-orders/{oid}/milestones/{m}/changes"), json!({"note": "Not what was asked"}))
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, o) = srv
            .post(
                &prod.token,
                &format!("/api/v1/work-orders/{oid}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{o}");
        assert_eq!(
            (o["state"].as_str(), o["milestones"][0]["state"].as_str()),
            (Some("cancelled"), Some("refunded"))
        );
        assert_eq!(wallet(&srv, &prod).await, (3_000_000, 3_000_000));
        assert_eq!(wallet(&srv, &vendor).await, (0, 0));
        let (s, v) = srv
            .post(
                &prod.token,
                &format!("/api/v1/work-orders/{oid}/milestones/{m}/accept"),
                json!({}),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("orders.not_awarded")),
            "{v}"
        );
        let (s, v) = srv
            .post(
                &prod.token,
                &format!("/api/v1/work-orders/{oid}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("orders.not_awarded")),
            "{v}"
        );
        // A draft is removed outright.
        let (_, d) = srv
            .post(
                &prod.token,
                "/api/v1/work-orders",
                order(&pid, &shots[0], &asset),
            )
            .await;
        let r = srv
            .call(
                &prod.token,
                reqwest::Method::DELETE,
                &format!("/api/v1/work-orders/{}", id(&d)),
                None,
            )
            .await;
        assert_eq!(r.status(), 204);
        let (_, posted) = srv.get(&prod.token, "/api/v1/work-orders").await;
        assert_eq!(posted["total"], 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awards_and_acceptances_sent_at_once_hold_and_pay_once() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let (v1, v2) = (
            srv.tenant("Harbour VFX", "harbour").await,
            srv.tenant("Late Post", "late").await,
        );
        let (pid, shots, asset) = production(&srv, &prod, "ALPHA").await;
        credit(&srv, &op, &prod, "100000.00").await;
        let (_, o) = srv
            .post(
                &prod.token,
                "/api/v1/work-orders",
                order(&pid, &shots[0], &asset),
            )
            .await;
        let oid = id(&o);
        srv.post(
            &prod.token,
            &format!("/api/v1/work-orders/{oid}/publish"),
            json!({"audience": "platform"}),
        )
        .await;
        let mut bids = Vec::new();
        for (t, price) in [(&v1, 3_000_000), (&v2, 3_500_000)] {
            let (s, b) = srv
                .post(
                    &t.token,
                    &format!("/api/v1/work-orders/{oid}/bids"),
                    json!({"price": price, "days": 20}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
            bids.push((id(&b), price));
        }
        // Six awards at once, of either bid: one holds its price, the others find it awarded.
        let awards = (0..6).map(|i| {
            let (srv, token, oid) = (&srv, prod.token.clone(), oid.clone());
            let (bid, price) = bids[i % 2].clone();
            async move {
                srv.post(
                    &token,
                    &format!("/api/v1/work-orders/{oid}/award"),
                    json!({"bid_id": bid, "price": price}),
                )
                .await
            }
        });
        let answers = futures_util::future::join_all(awards).await;
        let won: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(won.len(), 1, "{answers:?}");
        for (s, v) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!(
                (*s, v["code"].as_str()),
                (409, Some("orders.not_open")),
                "{v}"
            );
        }
        let price = won[0]["milestones"][0]["amount"].as_i64().unwrap();
        assert_eq!(wallet(&srv, &prod).await, (10_000_000, 10_000_000 - price));
        let vendor = if won[0]["vendor_org_id"] == json!(v1.org.id) {
            &v1
        } else {
            &v2
        };
        let m = milestone(won[0], 0);
        let (s, v) = srv
            .post(
                &vendor.token,
                &format!("/api/v1/work-orders/{oid}/milestones/{m}/deliver"),
                json!({"note": "all of it"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        // Four acceptances at once pay once (the order then complete).
        let accepts = (0..4).map(|_| {
            let (srv, token, path) = (
                &srv,
                prod.token.clone(),
                format!("/api/v1/work-orders/{oid}/milestones/{m}/accept"),
            );
            async move { srv.post(&token, &path, json!({})).await }
        });
        let answers = futures_util::future::join_all(accepts).await;
        assert_eq!(
            answers.iter().filter(|(s, _)| *s == 200).count(),
            1,
            "{answers:?}"
        );
        for (s, v) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!(
                (*s, v["code"].as_str()),
                (409, Some("orders.not_awarded")),
                "{v}"
            );
        }
        assert_eq!(
            wallet(&srv, &prod).await,
            (10_000_000 - price, 10_000_000 - price)
        );
        assert_eq!(wallet(&srv, vendor).await, (price, price));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_rules_on_a_dispute_that_neither_side_withdraws() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Alpha Pictures", "alpha").await;
        let vendor = srv.tenant("Harbour VFX", "harbour").await;
        let (pid, shots, asset) = production(&srv, &prod, "ALPHA").await;
        credit(&srv, &op, &prod, "100000.00").await;
        let mut awarded = Vec::new();
        for title in ["Paid by ruling", "Refunded by ruling", "Split by ruling"] {
            let mut body = order(&pid, &shots[0], &asset);
            body["title"] = json!(title);
            let (_, o) = srv.post(&prod.token, "/api/v1/work-orders", body).await;
            let oid = id(&o);
            srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/publish"), json!({"audience": "invited", "invite": [vendor.org.id]})).await;
            let (_, b) = srv.post(&vendor.token, &format!("/api/v1/work-orders/{oid}/bids"), json!({"price": 2_000_000, "days": 20})).await;
            let (s, o) = srv
                .post(&prod.token, &format!("/api/v1/work-orders/{oid}/award"), json!({"bid_id": id(&b), "price": 2_000_000, "milestones": [{"title": "One", "amount": 500_000}, {"title": "Two", "amount": 1_500_000}]}))
                .await;
            assert_eq!(s, 200, "{o}");
            // The first paid as usual; then the vendor disputes the second.
            let m = milestone(&o, 0);
            srv.post(&vendor.token, &format!("/api/v1/work-orders/{oid}/milestones/{m}/deliver"), json!({"note": "v1"})).await;
            let (s, _) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/milestones/{m}/accept"), json!({})).await;
            assert_eq!(s, 200);
            let (s, _) = srv.post(&vendor.token, &format!("/api/v1/work-orders/{oid}/dispute"), json!({"note": "The second part was delivered by e-mail"})).await;
            assert_eq!(s, 200);
            awarded.push(oid);
        }
        // Only the operator reads the disputes and rules; a side of the order is refused, an
        // organisation that is none is not told the order exists.
        for t in [&prod, &vendor] {
            let (s, v) = srv.get(&t.token, "/api/v1/work-orders/disputes").await;
            assert_eq!((s, v["code"].as_str()), (403, Some("orders.operator_only")), "{v}");
            let (s, v) = srv.post(&t.token, &format!("/api/v1/work-orders/{}/ruling", awarded[0]), json!({"outcome": "refund", "note": "mine"})).await;
            assert_eq!((s, v["code"].as_str()), (403, Some("orders.operator_only")), "{v}");
        }
        let other = srv.tenant("Citrus Post", "citrus").await;
        let (s, _) = srv.post(&other.token, &format!("/api/v1/work-orders/{}/ruling", awarded[0]), json!({"outcome": "refund", "note": "x"})).await;
        assert_eq!(s, 404);
        let (s, list) = srv.get(&op.token, "/api/v1/work-orders/disputes").await;
        assert_eq!(s, 200, "{list}");
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{list}");
        assert_eq!((items[0]["held"].as_i64(), items[0]["vendor_name"].as_str(), items[0]["dispute"]["reason"].as_str()), (Some(1_500_000), Some("Harbour VFX"), Some("The second part was delivered by e-mail")));
        let (s, v) = srv.post(&op.token, &format!("/api/v1/work-orders/{}/ruling", awarded[0]), json!({"outcome": "release", "note": ""})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("note")), "{v}");

        let (s, r) = srv.post(&op.token, &format!("/api/v1/work-orders/{}/ruling", awarded[0]), json!({"outcome": "release", "note": "The delivery log shows it arrived"})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["state"].as_str(), r["released"].as_i64(), r["refunded"].as_i64()), (Some("completed"), Some(1_500_000), Some(0)));
        let (s, r) = srv.post(&op.token, &format!("/api/v1/work-orders/{}/ruling", awarded[1]), json!({"outcome": "refund", "note": "Never delivered"})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["state"].as_str(), r["refunded"].as_i64()), (Some("cancelled"), Some(1_500_000)));
        let (s, v) = srv.post(&op.token, &format!("/api/v1/work-orders/{}/ruling", awarded[1]), json!({"outcome": "refund", "note": "Again"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("orders.not_awarded")), "{v}");
        // A split: part of the 1.5 held paid, the rest given back; what it must be, said first.
        let split = format!("/api/v1/work-orders/{}/ruling", awarded[2]);
        for (body, reason) in [
            (json!({"outcome": "split", "note": "Half the finals arrived"}), "required"),
            (json!({"outcome": "split", "note": "Half the finals arrived", "release": 0}), "must_be_positive"),
            (json!({"outcome": "split", "note": "Half the finals arrived", "release": 1_500_000}), "less_than_held"),
            (json!({"outcome": "refund", "note": "Half the finals arrived", "release": 1_000}), "only_for_a_split"),
        ] {
            let (s, v) = srv.post(&op.token, &split, body).await;
            assert_eq!((s, v["field"].as_str(), v["reason"].as_str()), (422, Some("release"), Some(reason)), "{v}");
        }
        let (s, r) = srv.post(&op.token, &split, json!({"outcome": "split", "note": "Two thirds of the finals arrived", "release": 1_000_000})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["state"].as_str(), r["released"].as_i64(), r["refunded"].as_i64()), (Some("completed"), Some(1_000_000), Some(500_000)));
        let (_, o) = srv.get(&vendor.token, &split.replace("/ruling", "")).await;
        assert_eq!((o["milestones"][1]["state"].as_str(), o["milestones"][1]["paid_amount"].as_i64()), (Some("accepted"), Some(1_000_000)), "{o}");
        // Both sides see the outcome: the vendor was paid 0.5 + 0.5 + 1.5 (ruled) + 0.5 + 1.0
        // (split) = 4.0 of the 10.0 credited.
        assert_eq!(wallet(&srv, &vendor).await, (4_000_000, 4_000_000));
        assert_eq!(wallet(&srv, &prod).await, (6_000_000, 6_000_000));
        // Both sides read the ruling on the order, with why.
        for (oid, outcome, note) in [(&awarded[0], "release", "The delivery log shows it arrived"), (&awarded[1], "refund", "Never delivered")] {
            for t in [&prod, &vendor] {
                let (_, o) = srv.get(&t.token, &format!("/api/v1/work-orders/{oid}")).await;
                assert!(o["dispute"].is_null(), "{o}");
                assert_eq!((o["ruling"]["outcome"].as_str(), o["ruling"]["note"].as_str()), (Some(outcome), Some(note)), "{o}");
            }
        }
        let (_, list) = srv.get(&op.token, "/api/v1/work-orders/disputes").await;
        assert_eq!(list["items"], json!([]));
        let news = kinds(&srv, &vendor).await;
        assert!(news.iter().any(|k| k == "work_order.ruled"), "{news:?}");
    })
    .await;
}
