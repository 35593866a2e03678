//! The market on both backends: a contributor lists its media with licence offers, a buyer finds
//! it in the storefront and buys a licence paid from its market wallet, downloads the original
//! through an expiring link, and is refunded; an exclusive offer bought by 64 buyers at once is
//! sold once; a listing of bytes another contributor listed first is held for review; bad input
//! is refused naming the field, with nothing written. The ledger's invariants are proved after
//! every story (`common::on_every_backend`).

// Amounts are written as money is: `120_00` is 120.00 in minor units.
#![allow(clippy::inconsistent_digit_grouping)]

#[path = "../common/mod.rs"]
mod common;

use std::sync::Arc;

use common::*;
use mstation_core::{Role, TokenScope};
use serde_json::{Value, json};

/// `len` bytes of a clip no other test's share.
fn clip(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2] ^ seed)
        .collect()
}

/// A published listing of a new file of `t`'s with one offer (`offer`): the listing and the
/// offer's id.
async fn on_sale(srv: &Srv, t: &Tenant, name: &str, seed: u8, offer: Value) -> (Value, String) {
    let file = srv.upload(&t.token, name, clip(4096, seed)).await;
    let (s, l) = srv
        .post(
            &t.token,
            "/api/v1/market/listings",
            json!({"media_file_id": file, "category": "footage",
                   "title_en": format!("{name} harbour at dawn"), "title_zh": "黎明的港口",
                   "description_en": "Fishing boats leave the harbour.", "description_zh": "渔船驶出港口。",
                   "keywords": ["harbour", "dawn", "港口"]}),
        )
        .await;
    assert_eq!(s, 201, "{l}");
    let (s, o) = srv
        .post(
            &t.token,
            &format!("/api/v1/market/listings/{}/offers", id(&l)),
            offer,
        )
        .await;
    assert_eq!(s, 201, "{o}");
    let (s, l) = srv
        .post(
            &t.token,
            &format!("/api/v1/market/listings/{}/publish", id(&l)),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{l}");
    (l, id(&o))
}

/// What the market keeps for `t` in CNY: (wallet, owed to it), posted.
async fn held(srv: &Srv, t: &Tenant) -> (i64, i64) {
    let (s, v) = srv.get(&t.token, "/api/v1/market/wallets").await;
    assert_eq!(s, 200, "{v}");
    let of = |purpose: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["purpose"] == purpose && a["currency"] == "CNY")
            .map_or(0, |a| a["posted"].as_i64().unwrap())
    };
    (of("wallet"), of("royalties_payable"))
}

async fn credit(srv: &Srv, op: &Tenant, t: &Tenant, amount: &str) {
    let (s, v) = srv
        .post(
            &op.token,
            "/api/v1/market/wallets/credit",
            json!({"org_id": t.org.id, "currency": "CNY", "amount": amount, "reference": "bank transfer 2026-12-06"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_is_found_bought_downloaded_and_refunded() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Pictures", "bravo").await;
        let (_, artist) = srv
            .member(&buyer, "artist@bravo.example", Role::Artist, &[TokenScope::Read, TokenScope::Write])
            .await;

        let (listing, offer) = on_sale(
            &srv,
            &seller,
            "A001C003",
            1,
            json!({"kind": "rf_standard", "price": "120.00", "currency": "CNY"}),
        )
        .await;
        assert_eq!(listing["status"], "published");

        // Found in the storefront in either language, showing nothing of the file behind it.
        for q in ["harbour", "HARBOUR dawn", "港口"] {
            let (s, found) = srv.get(&buyer.token, &format!("/api/v1/market/store?q={}", urlencode(q))).await;
            assert_eq!(s, 200, "{found}");
            assert_eq!(found["items"].as_array().unwrap().len(), 1, "{q}: {found}");
            let item = &found["items"][0];
            assert_eq!(item["contributor"], "Harbour Stock");
            assert_eq!(item["offers"][0]["price"], 12000);
            for private in ["media_file_id", "hash", "created_by"] {
                assert!(item.get(private).is_none(), "the storefront shows {private}: {item}");
            }
        }
        let (_, none) = srv.get(&buyer.token, "/api/v1/market/store?q=desert").await;
        assert_eq!(none["items"], json!([]));
        let (_, none) = srv.get(&buyer.token, "/api/v1/market/store?category=music").await;
        assert_eq!(none["items"], json!([]));

        // No money, no licence; nothing written.
        let (s, v) = srv.post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": offer})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.wallet_short")), "{v}");
        let (_, mine) = srv.get(&buyer.token, "/api/v1/market/licences").await;
        assert_eq!(mine["total"], 0);

        // The operator's finance credits the wallet; only the operator can.
        let (s, v) = srv
            .post(&buyer.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": buyer.org.id, "currency": "CNY", "amount": "1000000.00", "reference": "wishful"}))
            .await;
        assert_eq!((s, v["code"].as_str()), (403, Some("market.operator_only")), "{v}");
        // A credit sent twice under one key credits once.
        for _ in 0..2 {
            let (s, v) = srv
                .post(&op.token, "/api/v1/market/wallets/credit",
                      json!({"org_id": buyer.org.id, "currency": "CNY", "amount": "500.00", "reference": "ICBC 8841", "key": "icbc-8841"}))
                .await;
            assert_eq!(s, 201, "{v}");
        }
        assert_eq!(held(&srv, &buyer).await, (500_00, 0));
        let (s, v) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": buyer.org.id, "currency": "CNY", "amount": "900.00", "reference": "ICBC 8841", "key": "icbc-8841"}))
            .await;
        assert_eq!((s, v["code"].as_str()), (422, Some("ledger.key_reused")), "{v}");

        // Bought: the price split 70/30, the licence granted; the same key replays it.
        let (s, lic) = srv
            .post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": offer, "key": "po-7731"}))
            .await;
        assert_eq!(s, 201, "{lic}");
        assert_eq!((lic["state"].as_str(), lic["price"].as_i64()), (Some("active"), Some(120_00)));
        for private in ["share_bp", "contributor_amount", "fee_amount"] {
            assert!(lic.get(private).is_none(), "the buyer is shown the contributor's {private}: {lic}");
        }
        assert_eq!((lic["territory"].as_str(), lic["ends_on"].as_str(), lic["exclusive"].as_bool()), (Some("WORLD"), Some("9999-12-31"), Some(false)));
        assert_eq!(lic["ai_training"], false, "AI training is off unless the contributor opts in");
        let (s, again) = srv
            .post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": offer, "key": "po-7731"}))
            .await;
        assert_eq!((s, again["id"].clone()), (201, lic["id"].clone()), "{again}");
        assert_eq!(held(&srv, &buyer).await, (380_00, 0), "a replay pays nothing");
        assert_eq!(held(&srv, &seller).await, (0, 84_00), "the contributor is owed its share");

        // The contributor sees the sale and its share, not who bought.
        let (_, sales) = srv.get(&seller.token, "/api/v1/market/sales").await;
        assert_eq!(sales["total"], 1, "{sales}");
        assert_eq!((sales["items"][0]["contributor_amount"].as_i64(), sales["items"][0]["share_bp"].as_i64()), (Some(84_00), Some(7_000)));
        assert!(!sales.to_string().contains(&buyer.org.id.to_string()), "{sales}");
        assert!(!sales.to_string().contains("Bravo"), "{sales}");

        // The licence's users download the original through a link of their own.
        let lic_id = id(&lic);
        let (s, link) = srv
            .post(&artist, &format!("/api/v1/market/licences/{lic_id}/download"), json!({}))
            .await;
        assert_eq!(s, 201, "{link}");
        let url = format!("{}{}", srv.base, link["url"].as_str().unwrap());
        let r = srv.http.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("A001C003"));
        assert_eq!(r.bytes().await.unwrap().to_vec(), clip(4096, 1), "the original, byte for byte");
        let r = srv.http.get(format!("{}/market/downloads/msd_guessed", srv.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404);

        // The seller cannot reach the buyer's licence; the buyer cannot reach the seller's listing.
        let (s, _) = srv.get(&seller.token, &format!("/api/v1/market/licences/{lic_id}")).await;
        assert_eq!(s, 404);
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/market/listings/{}", id(&listing))).await;
        assert_eq!(s, 404);

        // Refunded: the money back by reversing transfers, the link dead, no second refund.
        let (s, refunded) = srv
            .post(&buyer.token, &format!("/api/v1/market/licences/{lic_id}/refund"), json!({}))
            .await;
        assert_eq!((s, refunded["state"].as_str()), (200, Some("refunded")), "{refunded}");
        assert!(refunded["refund_batch_id"].is_string());
        assert_eq!(held(&srv, &buyer).await, (500_00, 0));
        assert_eq!(held(&srv, &seller).await, (0, 0));
        let r = srv.http.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "a refunded licence's link stops working");
        let (s, v) = srv
            .post(&buyer.token, &format!("/api/v1/market/licences/{lic_id}/refund"), json!({}))
            .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.refund_closed")));
        let (s, v) = srv
            .post(&artist, &format!("/api/v1/market/licences/{lic_id}/download"), json!({}))
            .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.refund_closed")));
        // Taken off sale: nobody finds or buys it; the licence sold on it stays good.
        let (s, again) = srv
            .post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": offer, "key": "po-7732"}))
            .await;
        assert_eq!(s, 201, "{again}");
        let (s, w) = srv
            .post(&seller.token, &format!("/api/v1/market/listings/{}/withdraw", id(&listing)), json!({}))
            .await;
        assert_eq!((s, w["status"].as_str()), (200, Some("withdrawn")), "{w}");
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/market/store/{}", id(&listing))).await;
        assert_eq!(s, 404);
        let (s, _) = srv.post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": offer})).await;
        assert_eq!(s, 404);
        let (s, _) = srv
            .post(&buyer.token, &format!("/api/v1/market/licences/{}/download", id(&again)), json!({}))
            .await;
        assert_eq!(s, 201, "a licence outlives its listing's sale");
        let (s, v) = srv
            .post(&seller.token, &format!("/api/v1/market/listings/{}/withdraw", id(&listing)), json!({}))
            .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.not_for_sale")));
        let (s, _) = srv
            .post(&buyer.token, &format!("/api/v1/market/licences/{}/refund", id(&again)), json!({}))
            .await;
        assert_eq!(s, 200);
        // The key is spent on that purchase: another offer under it is refused.
        let (_, other_offer) = on_sale(&srv, &seller, "A001C004", 2,
            json!({"kind": "rf_extended", "price": "300.00", "currency": "CNY"})).await;
        let (s, v) = srv
            .post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": other_offer, "key": "po-7731"}))
            .await;
        assert_eq!((s, v["code"].as_str()), (422, Some("market.key_reused")), "{v}");
        // A seller does not buy its own listing.
        let (s, v) = srv.post(&seller.token, "/api/v1/market/checkout", json!({"offer_id": other_offer})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("market.own_listing")), "{v}");
        // The operator's books balance, and hold what the market holds.
        let (_, books) = srv.get(&op.token, "/api/v1/ledger/accounts").await;
        let names: Vec<&str> = books["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"Market wallet · bravo · CNY"), "{names:?}");
        assert!(names.contains(&"Royalties owed · harbour-stock · CNY"), "{names:?}");
    })
    .await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            b' ' => "+".into(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_buyers_of_one_exclusive_offer_get_one_licence() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let (listing, offer) = on_sale(
            &srv,
            &seller,
            "B002C001",
            3,
            json!({"kind": "rights_managed", "price": "8000.00", "currency": "CNY", "media": "broadcast",
                   "territory": "cn", "starts_on": "2027-01-01", "ends_on": "2027-12-31", "exclusive": true}),
        )
        .await;
        let mut buyers = Vec::new();
        for i in 0..64 {
            let b = srv.tenant(&format!("Buyer {i}"), &format!("buyer-{i}")).await;
            credit(&srv, &op, &b, "10000.00").await;
            buyers.push(Arc::new(b));
        }
        let mut runs = Vec::new();
        for b in &buyers {
            let (srv, b, offer) = (Arc::clone(&srv), Arc::clone(b), offer.clone());
            runs.push(tokio::spawn(async move {
                srv.post(&b.token, "/api/v1/market/checkout", json!({"offer_id": offer})).await
            }));
        }
        let mut sold = 0;
        let mut refused = 0;
        for r in runs {
            let (s, v) = r.await.unwrap();
            match s {
                201 => sold += 1,
                409 if v["code"] == "market.exclusive_taken" => refused += 1,
                _ => panic!("{s}: {v}"),
            }
        }
        assert_eq!((sold, refused), (1, 63));
        // Exactly one buyer paid; every other wallet is as it was.
        let (mut paid, mut unpaid) = (0, Vec::new());
        for b in &buyers {
            match held(&srv, b).await {
                (1_000_000, 0) => unpaid.push(Arc::clone(b)),
                (200_000, 0) => paid += 1,
                other => panic!("a wallet moved oddly: {other:?}"),
            }
        }
        assert_eq!(paid, 1);
        assert_eq!(held(&srv, &seller).await, (0, 560_000));
        // What does not overlap still sells: another territory of the same listing.
        let (s, o) = srv
            .post(&seller.token, &format!("/api/v1/market/listings/{}/offers", id(&listing)),
                  json!({"kind": "rights_managed", "price": "5000.00", "currency": "CNY", "media": "broadcast",
                         "territory": "FR", "starts_on": "2027-01-01", "ends_on": "2027-12-31", "exclusive": true}))
            .await;
        assert_eq!(s, 201, "{o}");
        let (s, v) = srv.post(&unpaid[0].token, "/api/v1/market/checkout", json!({"offer_id": o["id"]})).await;
        assert_eq!(s, 201, "{v}");
        // A royalty-free offer on it now would overlap both exclusives.
        let (_, rf) = srv
            .post(&seller.token, &format!("/api/v1/market/listings/{}/offers", id(&listing)),
                  json!({"kind": "rf_standard", "price": "10.00", "currency": "CNY"}))
            .await;
        let (s, v) = srv.post(&unpaid[1].token, "/api/v1/market/checkout", json!({"offer_id": rf["id"]})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.exclusive_taken")), "{v}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_of_bytes_another_contributor_listed_is_held_for_review() {
    on_every_backend(|srv| async move {
        let first = srv.tenant("Harbour Stock", "harbour-stock").await;
        let copier = srv.tenant("Copy Cat", "copy-cat").await;
        let rf = json!({"kind": "rf_standard", "price": "50.00", "currency": "CNY"});
        let (original, _) = on_sale(&srv, &first, "C003C001", 9, rf.clone()).await;
        // The same bytes, listed again by another organisation: held, not on sale.
        let (held_listing, _) = on_sale(&srv, &copier, "C003C001_copy", 9, rf.clone()).await;
        assert_eq!(held_listing["status"], "held");
        assert_eq!(held_listing["duplicate_of"], original["id"]);
        let (_, found) = srv
            .get(&copier.token, "/api/v1/market/store?q=C003C001")
            .await;
        let ids: Vec<&Value> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| &l["id"])
            .collect();
        assert_eq!(
            ids,
            vec![&original["id"]],
            "only the first listing is on sale"
        );
        let (s, _) = srv
            .get(
                &copier.token,
                &format!("/api/v1/market/store/{}", id(&held_listing)),
            )
            .await;
        assert_eq!(s, 404);
        // The first contributor lists its bytes once: their licences are weighed in one place.
        let file = srv.upload(&first.token, "C003C001_alt", clip(4096, 9)).await;
        let (_, again) = srv
            .post(&first.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "footage", "title_en": "Again", "title_zh": "再次"}))
            .await;
        srv.post(&first.token, &format!("/api/v1/market/listings/{}/offers", id(&again)), rf).await;
        let (s, v) = srv
            .post(&first.token, &format!("/api/v1/market/listings/{}/publish", id(&again)), json!({}))
            .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.already_listed")), "{v}");
        // Words are found whatever their case, in any script.
        let file = srv.upload(&copier.token, "D001.mov", clip(1024, 11)).await;
        let (_, l) = srv
            .post(&copier.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "footage", "title_en": "ÉCOLE DE NUIT", "title_zh": "夜校",
                         "keywords": ["Straße"]}))
            .await;
        srv.post(&copier.token, &format!("/api/v1/market/listings/{}/offers", id(&l)),
                 json!({"kind": "rf_standard", "price": "5.00", "currency": "CNY"})).await;
        let (s, _) = srv.post(&copier.token, &format!("/api/v1/market/listings/{}/publish", id(&l)), json!({})).await;
        assert_eq!(s, 200);
        for q in ["%C3%A9cole", "%C3%89COLE", "stra%C3%9Fe", "%E5%A4%9C%E6%A0%A1"] {
            let (_, found) = srv.get(&first.token, &format!("/api/v1/market/store?q={q}")).await;
            assert_eq!(found["items"].as_array().unwrap().len(), 1, "{q}: {found}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_listings_offers_and_purchases_are_refused_naming_the_problem() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let file = srv.upload(&a.token, "D004C001.mov", clip(2048, 4)).await;
        let b_file = srv.upload(&b.token, "D004C002.mov", clip(2048, 5)).await;
        let listing = |file: &str, title_zh: &str, category: &str| {
            json!({"media_file_id": file, "category": category, "title_en": "Night market", "title_zh": title_zh})
        };
        for (body, status, field) in [
            (listing(&file, "", "footage"), 422, Some("title_zh")),
            (listing(&file, "夜市", "painting"), 422, None),
            (listing(&b_file, "夜市", "footage"), 404, None),
            (json!({"media_file_id": file, "category": "footage", "title_en": "x", "title_zh": "夜市", "keywords": ["a\u{0}b"]}), 422, Some("keywords")),
        ] {
            let (s, v) = srv.post(&a.token, "/api/v1/market/listings", body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
            if field.is_some() {
                assert_eq!(v["field"].as_str(), field, "{body}: {v}");
            }
        }
        let (s, l) = srv.post(&a.token, "/api/v1/market/listings", listing(&file, "夜市", "footage")).await;
        assert_eq!(s, 201, "{l}");
        let offers = format!("/api/v1/market/listings/{}/offers", id(&l));
        // Publishing without an offer is refused.
        let (s, v) = srv.post(&a.token, &format!("/api/v1/market/listings/{}/publish", id(&l)), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("market.no_offers")), "{v}");
        let rm = |f: &dyn Fn(&mut Value)| {
            let mut v = json!({"kind": "rights_managed", "price": "100.00", "currency": "CNY", "media": "online",
                               "territory": "CN", "starts_on": "2027-01-01", "ends_on": "2027-06-30"});
            f(&mut v);
            v
        };
        for (body, field, reason) in [
            (rm(&|v| v["price"] = json!("-5.00")), "price", "not_an_amount"),
            (rm(&|v| v["price"] = json!("0")), "price", "must_be_positive"),
            (rm(&|v| v["price"] = json!("12.345")), "price", "not_an_amount"),
            (rm(&|v| v["price"] = json!("99999999999999999999")), "price", "not_an_amount"),
            (rm(&|v| v["currency"] = json!("yuan")), "currency", "not_a_currency"),
            (rm(&|v| v["media"] = json!("radio")), "media", "not_one_of_the_choices"),
            (rm(&|v| v["territory"] = json!("China")), "territory", "not_a_territory"),
            (rm(&|v| v["starts_on"] = json!("2027-02-30")), "starts_on", "not_a_date"),
            (rm(&|v| v["ends_on"] = json!("2026-12-31")), "ends_on", "before_start"),
            (rm(&|v| { v["starts_on"] = json!("2020-01-01"); v["ends_on"] = json!("2020-12-31"); }), "ends_on", "in_the_past"),
            (rm(&|v| { v.as_object_mut().unwrap().remove("ends_on"); }), "starts_on", "required"),
            (json!({"kind": "rf_standard", "price": "10.00", "currency": "CNY", "territory": "CN"}), "media", "not_for_royalty_free"),
            (json!({"kind": "rf_standard", "price": "10.00", "currency": "CNY", "exclusive": true}), "exclusive", "not_for_royalty_free"),
        ] {
            let (s, v) = srv.post(&a.token, &offers, body.clone()).await;
            assert_eq!((s, v["field"].as_str(), v["reason"].as_str()), (422, Some(field), Some(reason)), "{body}: {v}");
        }
        let (_, listed) = srv.get(&a.token, &format!("/api/v1/market/listings/{}", id(&l))).await;
        assert_eq!(listed["offers"], json!([]), "nothing refused was written");
        // A draft's offer is not for sale to anyone, and is nobody else's to change.
        let (s, o) = srv.post(&a.token, &offers, rm(&|_| {})).await;
        assert_eq!(s, 201, "{o}");
        let (s, _) = srv.post(&b.token, "/api/v1/market/checkout", json!({"offer_id": o["id"]})).await;
        assert_eq!(s, 404);
        let (s, _) = srv.post(&b.token, &offers, rm(&|_| {})).await;
        assert_eq!(s, 404);
        let (s, _) = srv.get(&b.token, &format!("/api/v1/market/store/{}", id(&l))).await;
        assert_eq!(s, 404, "a draft is nobody's to see");
        let (s, _) = srv.post(&b.token, "/api/v1/market/checkout", json!({"offer_id": uuid::Uuid::now_v7()})).await;
        assert_eq!(s, 404);
        for body in [json!({"offer_id": "not-an-id"}), json!({"offer_id": o["id"], "key": ""}), json!({"offer_id": o["id"], "extra": 1})] {
            let (s, v) = srv.post(&b.token, "/api/v1/market/checkout", body.clone()).await;
            assert!(s == 422 || s == 400, "{body}: {s} {v}");
        }
        // Published once; again is refused.
        let (s, _) = srv.post(&a.token, &format!("/api/v1/market/listings/{}/publish", id(&l)), json!({})).await;
        assert_eq!(s, 200);
        let (s, v) = srv.post(&a.token, &format!("/api/v1/market/listings/{}/publish", id(&l)), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.not_publishable")));
        for q in ["category=painting", "limit=0", "limit=201"] {
            let (s, _) = srv.get(&b.token, &format!("/api/v1/market/store?{q}")).await;
            assert_eq!(s, 422, "{q}");
        }
        // Crediting is for amounts: each refusal names its field.
        for (body, field) in [
            (json!({"org_id": b.org.id, "currency": "CNY", "amount": "-1", "reference": "x"}), "amount"),
            (json!({"org_id": b.org.id, "currency": "CNY", "amount": "0.00", "reference": "x"}), "amount"),
            (json!({"org_id": b.org.id, "currency": "CNY", "amount": "1.00", "reference": ""}), "reference"),
            (json!({"org_id": b.org.id, "currency": "cny1", "amount": "1.00", "reference": "x"}), "currency"),
        ] {
            let (s, v) = srv.post(&op.token, "/api/v1/market/wallets/credit", body.clone()).await;
            assert_eq!((s, v["field"].as_str()), (422, Some(field)), "{body}: {v}");
        }
        let (s, _) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": uuid::Uuid::now_v7(), "currency": "CNY", "amount": "1.00", "reference": "x"}))
            .await;
        assert_eq!(s, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_on_sale_shows_a_marked_preview_and_never_its_original() {
    on_every_backend(|srv| async move {
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo", "bravo").await;
        let movie = ffmpeg_clip("320x180", "24", "1", &[]);
        let file = srv.upload(&seller.token, "F006C001.mov", movie.clone()).await;
        let (_, l) = srv
            .post(&seller.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "footage", "title_en": "Test card", "title_zh": "测试卡"}))
            .await;
        let path = format!("/api/v1/market/store/{}/preview", id(&l));
        // A draft has no preview for anyone.
        let (s, _) = srv.get(&buyer.token, &path).await;
        assert_eq!(s, 404);
        srv.post(&seller.token, &format!("/api/v1/market/listings/{}/offers", id(&l)),
                 json!({"kind": "rf_standard", "price": "5.00", "currency": "CNY"})).await;
        let (s, _) = srv.post(&seller.token, &format!("/api/v1/market/listings/{}/publish", id(&l)), json!({})).await;
        assert_eq!(s, 200);
        // Made by a job once the listing is on sale.
        let mut made = None;
        for _ in 0..600 {
            let r = srv.call(&buyer.token, reqwest::Method::GET, &path, None).await;
            if r.status().as_u16() == 200 {
                assert_eq!(r.headers()["content-type"], "video/mp4");
                made = Some(r.bytes().await.unwrap().to_vec());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let preview = made.expect("a preview within 60 s");
        assert_eq!(&preview[4..8], b"ftyp", "an MP4");
        assert_ne!(preview, movie, "the preview is not the original");
        let (_, found) = srv.get(&buyer.token, "/api/v1/market/store").await;
        assert_eq!(found["items"][0]["preview"], true, "{found}");
        // The original is nowhere the buyer can reach.
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/media/{file}")).await;
        assert_eq!(s, 404);
        let r = srv.call(&buyer.token, reqwest::Method::GET, &format!("/api/v1/media/{file}/content"), None).await;
        assert_eq!(r.status().as_u16(), 404);
    })
    .await;
}

/// The ids of the listings a storefront answer holds, in its order.
fn found_ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(id).collect()
}

/// How many listings a facet's bucket `key` counts in a storefront answer.
fn facet(v: &Value, name: &str, key: &str) -> u64 {
    v["facets"][name]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .map_or(0, |f| f["count"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storefront_finds_words_in_either_language_at_a_typo_with_facets_and_neighbours() {
    on_every_backend(|srv| async move {
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Pictures", "bravo").await;
        // A second server on the same database hears of listings through the outbox.
        let other = start_beside(&srv, 0).await;
        let rf = json!({"kind": "rf_standard", "price": "120.00", "currency": "CNY"});
        let (a, _) = on_sale(&srv, &seller, "A001", 21, rf.clone()).await;
        let rm = json!({"kind": "rights_managed", "price": "800.00", "currency": "CNY", "media": "broadcast",
                        "territory": "CN", "starts_on": "2027-01-01", "ends_on": "2027-12-31"});
        let (b, _) = on_sale(&srv, &seller, "B002", 22, rm).await;
        let file = srv.upload(&seller.token, "C003", clip(4096, 23)).await;
        let (s, c) = srv
            .post(&seller.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "music", "title_en": "Night city",
                         "title_zh": "上海夜景", "keywords": ["城市"]}))
            .await;
        assert_eq!(s, 201, "{c}");
        srv.post(&seller.token, &format!("/api/v1/market/listings/{}/offers", id(&c)), rf.clone()).await;
        let (s, _) = srv.post(&seller.token, &format!("/api/v1/market/listings/{}/publish", id(&c)), json!({})).await;
        assert_eq!(s, 200);
        let (a, b, c) = (id(&a), id(&b), id(&c));

        let search = |q: &'static str| {
            let (srv, token) = (&srv, buyer.token.clone());
            async move {
                let (s, v) = srv.get(&token, &format!("/api/v1/market/store?{q}")).await;
                assert_eq!(s, 200, "{q}: {v}");
                v
            }
        };
        // Chinese typed without spaces is cut into its words; a typo still finds the word.
        let v = search("q=%E5%A4%9C%E6%99%AF").await; // 夜景
        assert_eq!(found_ids(&v), vec![c.clone()], "{v}");
        let v = search("q=%E4%B8%8A%E6%B5%B7%E5%A4%9C%E6%99%AF").await; // 上海夜景
        assert_eq!(found_ids(&v), vec![c.clone()], "{v}");
        let v = search("q=harbuor").await;
        assert_eq!(v["total"], 2, "{v}");
        assert!(found_ids(&v).contains(&a) && found_ids(&v).contains(&b), "{v}");
        // Facets count what is found; a filter keeps its own facet's other values.
        let v = search("kind=rights_managed").await;
        assert_eq!(found_ids(&v), vec![b.clone()], "{v}");
        assert_eq!((facet(&v, "kind", "rights_managed"), facet(&v, "kind", "rf_standard")), (1, 2), "{v}");
        assert_eq!(facet(&v, "category", "footage"), 1, "{v}");
        let v = search("category=music").await;
        assert_eq!(found_ids(&v), vec![c.clone()]);
        assert_eq!((facet(&v, "category", "footage"), facet(&v, "category", "music")), (2, 1), "{v}");
        assert_eq!(v["facets"]["contributor"][0]["name"], "Harbour Stock", "{v}");
        assert_eq!(v["facets"]["contributor"][0]["count"], 1, "{v}");
        let v = search("price=500_1999").await;
        assert_eq!(found_ids(&v), vec![b.clone()], "{v}");
        let v = search("order=newest&limit=2").await;
        assert_eq!((found_ids(&v), v["total"].as_u64()), (vec![c.clone(), b.clone()], Some(3)), "{v}");
        let v = search("order=newest&limit=2&offset=2").await;
        assert_eq!(found_ids(&v), vec![a.clone()], "{v}");

        // Neighbours share words; never the listing itself.
        let (s, v) = srv.get(&buyer.token, &format!("/api/v1/market/store/{a}/similar")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(found_ids(&v), vec![b.clone()], "{v}");

        // The other server finds them once the outbox brings them round.
        let mut seen = Vec::new();
        for _ in 0..100 {
            let (_, v) = other.get(&buyer.token, "/api/v1/market/store?q=harbour").await;
            seen = found_ids(&v);
            if seen.len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(seen.len(), 2, "the second server's catalogue: {seen:?}");

        // Withdrawn: gone from the storefront, here at once and there soon.
        let (s, _) = srv.post(&seller.token, &format!("/api/v1/market/listings/{b}/withdraw"), json!({})).await;
        assert_eq!(s, 200);
        let v = search("q=harbour").await;
        assert_eq!(found_ids(&v), vec![a.clone()], "{v}");
        for _ in 0..100 {
            let (_, v) = other.get(&buyer.token, "/api/v1/market/store?q=harbour").await;
            seen = found_ids(&v);
            if seen.len() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(seen, vec![a.clone()], "the second server's catalogue");

        // Bad filters are refused naming the parameter.
        for (q, field) in [("resolution=8k", "resolution"), ("fps=23", "fps"), ("order=random", "order"),
                           ("offset=10001", "offset"), ("offset=-1", "offset"), ("lang=fr", "lang"),
                           ("duration=long", "duration"), ("contributor=xyz", "contributor")] {
            let (s, v) = srv.get(&buyer.token, &format!("/api/v1/market/store?{q}")).await;
            assert_eq!((s, v["field"].as_str()), (422, Some(field)), "{q}: {v}");
        }
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/market/store/{a}/similar?limit=0")).await;
        assert_eq!(s, 422);
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/market/store/{b}/similar")).await;
        assert_eq!(s, 404, "a withdrawn listing has no neighbours to show");
    })
    .await;
}

/// A member's scope, for the store's own calls that take the clock as an argument.
fn scope_of(t: &Tenant) -> mstation_core::TenantScope {
    mstation_core::TenantScope {
        org_id: t.org.id,
        user_id: t.owner.id,
        role: Role::Owner,
        token_scopes: None,
        token_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_keep_the_agreement_they_were_made_under_and_a_month_is_paid_out_once() {
    on_every_backend(|srv| async move {
        const DAY: i64 = 86_400_000;
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Pictures", "bravo").await;
        let other = srv.tenant("Delta Footage", "delta-footage").await;
        let now = mstation_store::now_ms();

        // Before any agreement, the platform's standing 70 %.
        let (s, terms) = srv.get(&seller.token, "/api/v1/market/terms").await;
        assert_eq!(
            (s, terms["share_bp"].as_i64()),
            (200, Some(7000)),
            "{terms}"
        );
        assert!(terms["current"].is_null() && terms["upcoming"] == json!([]));

        // New terms are announced 30 days ahead, by the operator's finance only.
        let soon = day_of(now + 29 * DAY);
        let later = day_of(now + 31 * DAY);
        for (token, body, status, field_or_code) in [
            (
                &op.token,
                json!({"org_id": seller.org.id, "share_bp": 5000, "effective_from": soon}),
                422,
                "effective_from",
            ),
            (
                &op.token,
                json!({"org_id": seller.org.id, "share_bp": 10_001, "effective_from": later}),
                422,
                "share_bp",
            ),
            (
                &op.token,
                json!({"org_id": seller.org.id, "share_bp": -1, "effective_from": later}),
                422,
                "share_bp",
            ),
            (
                &op.token,
                json!({"org_id": seller.org.id, "share_bp": 5000, "effective_from": "2027-02-30"}),
                422,
                "effective_from",
            ),
            (
                &op.token,
                json!({"org_id": uuid::Uuid::now_v7(), "share_bp": 5000, "effective_from": later}),
                404,
                "",
            ),
            (
                &seller.token,
                json!({"org_id": seller.org.id, "share_bp": 9000, "effective_from": later}),
                403,
                "market.operator_only",
            ),
        ] {
            let (s, v) = srv
                .post(token, "/api/v1/market/agreements", body.clone())
                .await;
            assert_eq!(s, status, "{body}: {v}");
            match status {
                422 => assert_eq!(v["field"], field_or_code, "{body}: {v}"),
                403 => assert_eq!(v["code"], field_or_code, "{body}: {v}"),
                _ => {}
            }
        }
        let (_, terms) = srv.get(&seller.token, "/api/v1/market/terms").await;
        assert_eq!(terms["upcoming"], json!([]), "nothing refused was written");

        // Terms announced 40 days ago apply from five days ago; the contributor hears of the
        // next change the moment it is announced.
        let past = srv
            .store()
            .tenant(&scope_of(&op))
            .announce_agreement(seller.org.id, 6000, &day_of(now - 5 * DAY), now - 40 * DAY)
            .await
            .unwrap();
        let stream = srv
            .http
            .get(format!("{}/api/v1/events", srv.base))
            .bearer_auth(&seller.token)
            .send()
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (s, next) = srv
            .post(
                &op.token,
                "/api/v1/market/agreements",
                json!({"org_id": seller.org.id, "share_bp": 5000, "effective_from": later}),
            )
            .await;
        assert_eq!(s, 201, "{next}");
        // (The stream may first replay the organisation's earlier events.)
        let heard = read_events(stream, 50, std::time::Duration::from_secs(3)).await;
        assert!(
            heard
                .iter()
                .any(|e| e.1 == "agreement.announced"
                    && e.2["payload"]["entity"]["share_bp"] == 5000),
            "{heard:?}"
        );
        let (_, terms) = srv.get(&seller.token, "/api/v1/market/terms").await;
        assert_eq!(terms["share_bp"], 6000, "{terms}");
        assert_eq!(terms["current"]["id"], past.id.to_string());
        assert_eq!(terms["upcoming"][0]["effective_from"], later.as_str());
        // Nobody else reads them.
        let (_, theirs) = srv.get(&other.token, "/api/v1/market/terms").await;
        assert_eq!(
            (theirs["share_bp"].as_i64(), theirs["current"].is_null()),
            (Some(7000), true)
        );

        // A sale today is split 60/40 under the agreement in force, and keeps it.
        let (_, offer) = on_sale(
            &srv,
            &seller,
            "A002C001",
            21,
            json!({"kind": "rf_standard", "price": "99.99", "currency": "CNY"}),
        )
        .await;
        credit(&srv, &op, &buyer, "500.00").await;
        let (s, lic) = srv
            .post(
                &buyer.token,
                "/api/v1/market/checkout",
                json!({"offer_id": offer}),
            )
            .await;
        assert_eq!(s, 201, "{lic}");
        let (_, sales) = srv.get(&seller.token, "/api/v1/market/sales").await;
        let sale = &sales["items"][0];
        assert_eq!(
            (
                sale["share_bp"].as_i64(),
                sale["contributor_amount"].as_i64(),
                sale["fee_amount"].as_i64()
            ),
            (Some(6000), Some(59_99), Some(40_00)),
            "{sale}"
        );
        assert_eq!(sale["agreement_id"], past.id.to_string());
        assert!(sale["payout_id"].is_null());
        assert_eq!(held(&srv, &seller).await, (0, 59_99));

        // This month is not over: not paid out; nor is a month that is not one, nor by anyone
        // but the operator's finance.
        let month = &day_of(now)[..7];
        for (token, body, status, field_or_code) in [
            (
                &op.token,
                json!({"period": month}),
                409,
                "market.period_open",
            ),
            (&op.token, json!({"period": "2026-13"}), 422, "period"),
            (&op.token, json!({"period": "December"}), 422, "period"),
            (
                &seller.token,
                json!({"period": "2026-01"}),
                403,
                "market.operator_only",
            ),
        ] {
            let (s, v) = srv
                .post(token, "/api/v1/market/payout-batches", body.clone())
                .await;
            assert_eq!(s, status, "{body}: {v}");
            let got = if status == 422 {
                &v["field"]
            } else {
                &v["code"]
            };
            assert_eq!(got, field_or_code, "{body}: {v}");
        }
        assert_eq!(held(&srv, &seller).await, (0, 59_99), "nothing paid");

        // Once the refund window has closed on the month, its payout pays each contributor its
        // share into its wallet, a line per currency; the same month again is the same batch.
        let (_, end) = mstation_store::market::payouts::month_bounds(month).unwrap();
        let paid_at = end + mstation_store::market::REFUND_WINDOW_MS + DAY;
        // Two payouts of the month at once: one batch.
        let books = scope_of(&op);
        let (one, two) = (srv.store().tenant(&books), srv.store().tenant(&books));
        let (first, second) =
            tokio::join!(one.pay_out(month, paid_at), two.pay_out(month, paid_at));
        let ((batch, made), (twin, made_too)) = (first.unwrap(), second.unwrap());
        assert_eq!((batch.id == twin.id, made ^ made_too), (true, true));
        let batch = if made { batch } else { twin };
        assert_eq!((batch.sales, batch.lines.len()), (1, 1));
        assert_eq!(
            (batch.lines[0].org_id, batch.lines[0].amount),
            (seller.org.id, 59_99)
        );
        assert_eq!(held(&srv, &seller).await, (59_99, 0));
        let (again, made) = srv
            .store()
            .tenant(&scope_of(&op))
            .pay_out(month, paid_at + DAY)
            .await
            .unwrap();
        assert_eq!((again.id, made), (batch.id, false));
        let (s, v) = srv
            .post(
                &op.token,
                "/api/v1/market/payout-batches",
                json!({"period": month}),
            )
            .await;
        assert_eq!(
            (s, v["id"].as_str()),
            (200, Some(batch.id.to_string().as_str())),
            "{v}"
        );
        assert_eq!(held(&srv, &seller).await, (59_99, 0), "paid once");

        // The contributor sees the line and each sale it paid; the operator its batches;
        // nobody else either.
        let (_, lines) = srv.get(&seller.token, "/api/v1/market/payouts").await;
        assert_eq!(
            (
                lines["items"][0]["amount"].as_i64(),
                lines["items"][0]["sales"].as_i64()
            ),
            (Some(59_99), Some(1)),
            "{lines}"
        );
        assert_eq!(lines["items"][0]["period"], month);
        let (_, sales) = srv.get(&seller.token, "/api/v1/market/sales").await;
        assert_eq!(sales["items"][0]["payout_id"], batch.id.to_string());
        let (_, batches) = srv.get(&op.token, "/api/v1/market/payout-batches").await;
        assert_eq!(
            batches["items"][0]["lines"][0]["amount"], 59_99,
            "{batches}"
        );
        for t in [&buyer, &other] {
            let (_, none) = srv.get(&t.token, "/api/v1/market/payouts").await;
            assert_eq!(none["items"], json!([]));
            let (_, none) = srv.get(&t.token, "/api/v1/market/payout-batches").await;
            assert_eq!(none["items"], json!([]));
        }

        // A paid sale is not refunded, whatever else its contributor is owed.
        let (_, second) = on_sale(
            &srv,
            &seller,
            "A002C002",
            22,
            json!({"kind": "rf_standard", "price": "10.00", "currency": "CNY"}),
        )
        .await;
        let (s, _) = srv
            .post(
                &buyer.token,
                "/api/v1/market/checkout",
                json!({"offer_id": second}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, v) = srv
            .post(
                &buyer.token,
                &format!("/api/v1/market/licences/{}/refund", id(&lic)),
                json!({}),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.paid_out")),
            "{v}"
        );
        assert_eq!(held(&srv, &seller).await, (59_99, 6_00));
    })
    .await;
}

/// A clip of one of ffmpeg's own pictures (`source`, a lavfi source such as `mandelbrot`).
fn lavfi_clip(source: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("mstation-clip-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("clip.mov");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            source,
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (scripts/test installs it)");
    assert!(status.success());
    let clip = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    clip
}

/// Lists `movie` as footage of `t`'s with one offer and puts it on sale: the listing's id.
async fn footage_on_sale(srv: &Srv, t: &Tenant, name: &str, movie: Vec<u8>) -> String {
    let file = srv.upload(&t.token, name, movie).await;
    let (s, l) = srv
        .post(&t.token, "/api/v1/market/listings",
              json!({"media_file_id": file, "category": "footage", "title_en": format!("Test card {name}"), "title_zh": "测试卡"}))
        .await;
    assert_eq!(s, 201, "{l}");
    let (s, o) = srv
        .post(
            &t.token,
            &format!("/api/v1/market/listings/{}/offers", id(&l)),
            json!({"kind": "rf_standard", "price": "5.00", "currency": "CNY"}),
        )
        .await;
    assert_eq!(s, 201, "{o}");
    let (s, p) = srv
        .post(
            &t.token,
            &format!("/api/v1/market/listings/{}/publish", id(&l)),
            json!({}),
        )
        .await;
    assert_eq!((s, p["status"].as_str()), (200, Some("published")), "{p}");
    id(&l)
}

/// The listing `listing` of `t`'s once its preview job has ended (its status then says whether
/// it was held), within 60 s.
async fn once_compared(srv: &Srv, t: &Tenant, listing: &str) -> Value {
    for _ in 0..600 {
        let (_, jobs) = srv.get(&t.token, "/api/v1/jobs?limit=100").await;
        let ended = jobs["items"].as_array().into_iter().flatten().any(|j| {
            j["kind"] == "media.watermark"
                && j["payload"]["listing_id"] == listing
                && matches!(j["status"].as_str(), Some("succeeded" | "failed"))
        });
        if ended {
            let (_, l) = srv
                .get(&t.token, &format!("/api/v1/market/listings/{listing}"))
                .await;
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the preview of {listing} was not made within 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_whose_picture_nearly_copies_another_contributors_is_held_for_review() {
    on_every_backend(|srv| async move {
        let first = srv.tenant("Harbour Stock", "harbour-stock").await;
        let copier = srv.tenant("Delta Footage", "delta-footage").await;
        let buyer = srv.tenant("Bravo", "bravo").await;
        // The same picture in other bytes: another size, another encoding.
        let original = footage_on_sale(
            &srv,
            &first,
            "G007C001.mov",
            ffmpeg_clip("320x180", "24", "2", &[]),
        )
        .await;
        let l = once_compared(&srv, &first, &original).await;
        assert_eq!(l["status"], "published", "{l}");
        let copy = footage_on_sale(
            &srv,
            &copier,
            "G007C002.mov",
            ffmpeg_clip("640x360", "25", "2", &["-crf", "30"]),
        )
        .await;
        let l = once_compared(&srv, &copier, &copy).await;
        assert_eq!(
            (l["status"].as_str(), l["duplicate_of"].as_str()),
            (Some("held"), Some(original.as_str())),
            "{l}"
        );
        // Another picture stays on sale.
        let other = footage_on_sale(
            &srv,
            &copier,
            "G007C003.mov",
            lavfi_clip("mandelbrot=size=320x180:rate=24"),
        )
        .await;
        let l = once_compared(&srv, &copier, &other).await;
        assert_eq!(l["status"], "published", "{l}");
        // The storefront shows the original and the other picture; the copy is nobody's to buy.
        let mut shown = Vec::new();
        for _ in 0..50 {
            let (_, found) = srv.get(&buyer.token, "/api/v1/market/store?q=test").await;
            shown = found_ids(&found);
            if !shown.contains(&copy) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            shown.contains(&original) && shown.contains(&other) && !shown.contains(&copy),
            "{shown:?}"
        );
        let (s, _) = srv
            .get(&buyer.token, &format!("/api/v1/market/store/{copy}"))
            .await;
        assert_eq!(s, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_buys_every_licence_in_it_together_or_none() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Pictures", "bravo").await;
        let rival = srv.tenant("Charlie Films", "charlie").await;
        let (_, fin) = srv
            .member(&buyer, "finance@bravo.example", Role::Finance, &[TokenScope::Read, TokenScope::Write])
            .await;
        let (_, rf) = on_sale(&srv, &seller, "H008C001", 31, json!({"kind": "rf_standard", "price": "20.00", "currency": "CNY"})).await;
        let (_, rf2) = on_sale(&srv, &seller, "H008C002", 32, json!({"kind": "rf_extended", "price": "30.00", "currency": "CNY"})).await;
        let exclusive = json!({"kind": "rights_managed", "price": "100.00", "currency": "CNY", "media": "broadcast",
                               "territory": "CN", "starts_on": "2027-01-01", "ends_on": "2027-12-31", "exclusive": true});
        let (_, excl) = on_sale(&srv, &seller, "H008C003", 33, exclusive).await;
        credit(&srv, &op, &buyer, "500.00").await;
        credit(&srv, &op, &rival, "500.00").await;

        // Nothing in it: nothing to buy.
        let (s, v) = srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("market.cart_empty")), "{v}");
        // Three offers, one of them twice: three items, all to be had.
        for o in [&rf, &rf2, &excl, &rf] {
            let (s, v) = srv.post(&buyer.token, "/api/v1/market/cart", json!({"offer_id": o})).await;
            assert_eq!(s, 200, "{v}");
        }
        let (_, cart) = srv.get(&buyer.token, "/api/v1/market/cart").await;
        assert_eq!(cart["items"].as_array().unwrap().len(), 3, "{cart}");
        assert!(cart["items"].as_array().unwrap().iter().all(|i| i["available"] == true));
        assert_eq!(cart["totals"], json!([{"currency": "CNY", "amount": 150_00}]));
        // Its own listing, an offer that is none, a bad body: refused, naming why.
        let (s, v) = srv.post(&seller.token, "/api/v1/market/cart", json!({"offer_id": rf})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("market.own_listing")), "{v}");
        let (s, _) = srv.post(&buyer.token, "/api/v1/market/cart", json!({"offer_id": uuid::Uuid::now_v7()})).await;
        assert_eq!(s, 404);
        let (s, _) = srv.post(&buyer.token, "/api/v1/market/cart", json!({"offer": rf})).await;
        assert_eq!(s, 422);

        // A rival buys the exclusive offer first: the cart shows it, and the order is refused
        // whole, with no money moved and no licence.
        let (s, _) = srv.post(&rival.token, "/api/v1/market/checkout", json!({"offer_id": excl})).await;
        assert_eq!(s, 201);
        let (_, cart) = srv.get(&buyer.token, "/api/v1/market/cart").await;
        let gone: Vec<&Value> = cart["items"].as_array().unwrap().iter().filter(|i| i["available"] == false).collect();
        assert_eq!((gone.len(), gone[0]["offer"]["id"].as_str()), (1, Some(excl.as_str())), "{cart}");
        assert_eq!(cart["totals"], json!([{"currency": "CNY", "amount": 50_00}]));
        let (s, v) = srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({"key": "order-1"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.exclusive_taken")), "{v}");
        let (_, mine) = srv.get(&buyer.token, "/api/v1/market/licences").await;
        assert_eq!(mine["total"], 0, "nothing of the order was written");
        assert_eq!(held(&srv, &buyer).await.0, 500_00);

        // Without it, the rest is one order: both licences, paid once, the cart emptied; its key
        // again answers the same order.
        let r = srv.call(&buyer.token, reqwest::Method::DELETE, &format!("/api/v1/market/cart/{excl}"), None).await;
        assert_eq!(r.status().as_u16(), 200);
        let r = srv.call(&buyer.token, reqwest::Method::DELETE, &format!("/api/v1/market/cart/{excl}"), None).await;
        assert_eq!(r.status().as_u16(), 404, "not in the cart any more");
        let (s, order) = srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({"key": "order-2"})).await;
        assert_eq!(s, 201, "{order}");
        let licences = order["licences"].as_array().unwrap();
        assert_eq!(licences.len(), 2, "{order}");
        assert!(licences.iter().all(|l| l["order_id"] == order["id"] && l["state"] == "active"));
        assert_eq!(held(&srv, &buyer).await.0, 450_00);
        let (_, cart) = srv.get(&buyer.token, "/api/v1/market/cart").await;
        assert_eq!(cart["items"], json!([]));
        let (s, again) = srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({"key": "order-2"})).await;
        assert_eq!((s, &again["id"]), (201, &order["id"]), "{again}");
        assert_eq!(again["licences"].as_array().unwrap().len(), 2);
        assert_eq!(held(&srv, &buyer).await.0, 450_00, "paid once");

        // Each member's cart is its own; another organisation's is out of reach.
        let (s, _) = srv.post(&fin, "/api/v1/market/cart", json!({"offer_id": rf})).await;
        assert_eq!(s, 200);
        let (_, mine) = srv.get(&buyer.token, "/api/v1/market/cart").await;
        assert_eq!(mine["items"], json!([]));
        let r = srv.call(&rival.token, reqwest::Method::DELETE, &format!("/api/v1/market/cart/{rf}"), None).await;
        assert_eq!(r.status().as_u16(), 404);
        let (_, theirs) = srv.get(&fin, "/api/v1/market/cart").await;
        assert_eq!(theirs["items"].as_array().unwrap().len(), 1);

        // Two checkouts of one cart at once: one order, paid once; the other finds it empty.
        let (s, _) = srv.post(&buyer.token, "/api/v1/market/cart", json!({"offer_id": rf2})).await;
        assert_eq!(s, 200);
        let before = held(&srv, &buyer).await.0;
        let (a, b) = tokio::join!(
            srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({})),
            srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({}))
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 422], "{a:?} {b:?}");
        assert_eq!(held(&srv, &buyer).await.0, before - 30_00, "paid once");
        // A key used for an order does not buy a cart filled since.
        srv.post(&buyer.token, "/api/v1/market/cart", json!({"offer_id": rf2})).await;
        let (s, v) = srv.post(&buyer.token, "/api/v1/market/cart/checkout", json!({"key": "order-2"})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("market.key_reused")), "{v}");
        let (_, cart) = srv.get(&buyer.token, "/api/v1/market/cart").await;
        assert_eq!(cart["items"].as_array().unwrap().len(), 1, "the cart stays as it was");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_are_on_file_for_everyone_and_only_a_licences_holder_downloads_them() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Pictures", "bravo").await;
        let other = srv.tenant("Delta Footage", "delta-footage").await;
        let signed = srv
            .upload(
                &seller.token,
                "release-li-na.pdf",
                b"%PDF-1.4 signed by Li Na".to_vec(),
            )
            .await;
        let garden = srv
            .upload(
                &seller.token,
                "release-yu-garden.pdf",
                b"%PDF-1.4 Yu Garden".to_vec(),
            )
            .await;
        let theirs = srv
            .upload(&other.token, "other.pdf", b"%PDF-1.4 not theirs".to_vec())
            .await;
        let (l, offer) = on_sale(
            &srv,
            &seller,
            "K010C001",
            41,
            json!({"kind": "rf_standard", "price": "10.00", "currency": "CNY"}),
        )
        .await;
        let listing = id(&l);
        let path = format!("/api/v1/market/listings/{listing}/releases");

        // Bad input, another organisation's file, another organisation's listing: refused.
        for (token, body, status) in [
            (
                &seller.token,
                json!({"kind": "model", "name": " ", "media_file_id": signed}),
                422,
            ),
            (
                &seller.token,
                json!({"kind": "portrait", "name": "Li Na", "media_file_id": signed}),
                422,
            ),
            (
                &seller.token,
                json!({"kind": "model", "name": "Li Na", "media_file_id": theirs}),
                404,
            ),
            (
                &other.token,
                json!({"kind": "model", "name": "Li Na", "media_file_id": theirs}),
                404,
            ),
        ] {
            let (s, v) = srv.post(token, &path, body.clone()).await;
            assert_eq!(s, status, "{body}: {v}");
        }
        let (_, none) = srv.get(&seller.token, &path).await;
        assert_eq!(none["items"], json!([]), "nothing refused was written");

        // Attached, and taken off again while nothing was sold.
        let (s, garden_release) = srv
            .post(
                &seller.token,
                &path,
                json!({"kind": "property", "name": "Yu Garden", "media_file_id": garden}),
            )
            .await;
        assert_eq!(s, 201, "{garden_release}");
        let r = srv
            .call(
                &seller.token,
                reqwest::Method::DELETE,
                &format!("{path}/{}", id(&garden_release)),
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 204);
        let (s, release) = srv
            .post(
                &seller.token,
                &path,
                json!({"kind": "model", "name": "Li Na", "media_file_id": signed}),
            )
            .await;
        assert_eq!(s, 201, "{release}");
        let (_, mine) = srv.get(&seller.token, &path).await;
        assert_eq!(
            (
                mine["items"].as_array().unwrap().len(),
                mine["items"][0]["file_name"].as_str()
            ),
            (1, Some("release-li-na.pdf"))
        );

        // The storefront says what is on file, never the file.
        let (_, shown) = srv
            .get(&buyer.token, &format!("/api/v1/market/store/{listing}"))
            .await;
        assert_eq!(
            shown["releases"],
            json!([{"id": id(&release), "kind": "model", "name": "Li Na"}]),
            "{shown}"
        );
        let text = shown.to_string();
        assert!(
            !text.contains(&signed) && !text.contains("release-li-na.pdf"),
            "{text}"
        );

        // Only the holder of a licence on the listing downloads a copy, while it stands.
        credit(&srv, &op, &buyer, "100.00").await;
        let (s, lic) = srv
            .post(
                &buyer.token,
                "/api/v1/market/checkout",
                json!({"offer_id": offer}),
            )
            .await;
        assert_eq!(s, 201, "{lic}");
        let link = format!(
            "/api/v1/market/licences/{}/releases/{}/download",
            id(&lic),
            id(&release)
        );
        let (s, _) = srv.post(&other.token, &link, json!({})).await;
        assert_eq!(s, 404);
        let (s, to) = srv.post(&buyer.token, &link, json!({})).await;
        assert_eq!(s, 201, "{to}");
        let url = format!("{}{}", srv.base, to["url"].as_str().unwrap());
        let got = srv.http.get(&url).send().await.unwrap();
        assert_eq!(got.status().as_u16(), 200);
        assert_eq!(
            got.bytes().await.unwrap().as_ref(),
            b"%PDF-1.4 signed by Li Na"
        );
        // Sold with it on file: it stays.
        let r = srv
            .call(
                &seller.token,
                reqwest::Method::DELETE,
                &format!("{path}/{}", id(&release)),
                None,
            )
            .await;
        let (s, v) = json(r).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.release_relied_on")),
            "{v}"
        );
        // Refunded: its links stop working, and no new one is given.
        let (s, _) = srv
            .post(
                &buyer.token,
                &format!("/api/v1/market/licences/{}/refund", id(&lic)),
                json!({}),
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            srv.http.get(&url).send().await.unwrap().status().as_u16(),
            404
        );
        let (s, v) = srv.post(&buyer.token, &link, json!({})).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.refund_closed")),
            "{v}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_team_puts_a_held_listing_on_sale_or_refuses_it() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let first = srv.tenant("Harbour Stock", "harbour-stock").await;
        let copier = srv.tenant("Delta Footage", "delta-footage").await;
        let buyer = srv.tenant("Bravo", "bravo").await;
        let bytes = clip(3000, 51);
        let rf = json!({"kind": "rf_standard", "price": "5.00", "currency": "CNY"});
        let held_one = |name: &'static str| {
            let (srv, copier, bytes, rf) = (&srv, &copier, bytes.clone(), rf.clone());
            async move {
                let file = srv.upload(&copier.token, name, bytes).await;
                let (_, l) = srv
                    .post(&copier.token, "/api/v1/market/listings",
                          json!({"media_file_id": file, "category": "lut", "title_en": format!("Look {name}"), "title_zh": "调色"}))
                    .await;
                srv.post(&copier.token, &format!("/api/v1/market/listings/{}/offers", id(&l)), rf).await;
                let (s, p) = srv.post(&copier.token, &format!("/api/v1/market/listings/{}/publish", id(&l)), json!({})).await;
                assert_eq!((s, p["status"].as_str()), (200, Some("held")), "{p}");
                id(&l)
            }
        };
        let file = srv.upload(&first.token, "M012C001.cube", bytes.clone()).await;
        let (_, original) = srv
            .post(&first.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "lut", "title_en": "Harbour look", "title_zh": "港口调色"}))
            .await;
        srv.post(&first.token, &format!("/api/v1/market/listings/{}/offers", id(&original)), rf.clone()).await;
        srv.post(&first.token, &format!("/api/v1/market/listings/{}/publish", id(&original)), json!({})).await;
        let approved = held_one("M012C002.cube").await;

        // The operator's administrators see it beside the listing it copies; nobody else does.
        let (s, queue) = srv.get(&op.token, "/api/v1/market/review").await;
        assert_eq!(s, 200, "{queue}");
        let item = &queue["items"][0];
        assert_eq!((item["id"].as_str(), item["original_id"].as_str(), item["same_bytes"].as_bool()),
                   (Some(approved.as_str()), Some(id(&original).as_str()), Some(true)), "{queue}");
        assert_eq!(item["original_contributor"], "Harbour Stock");
        let (s, v) = srv.get(&copier.token, "/api/v1/market/review").await;
        assert_eq!((s, v["code"].as_str()), (403, Some("market.operator_only")));
        let path = format!("/api/v1/market/review/{approved}");
        let (s, _) = srv.post(&copier.token, &path, json!({"decision": "approve"})).await;
        assert_eq!(s, 404, "no listing is there to review for a contributor");
        let (s, v) = srv.post(&op.token, &path, json!({"decision": "maybe"})).await;
        assert_eq!((s, v["field"].as_str()), (422, Some("decision")), "{v}");

        // Put on sale: found and bought; reviewed once only.
        let (s, l) = srv.post(&op.token, &path, json!({"decision": "approve"})).await;
        assert_eq!((s, l["status"].as_str()), (200, Some("published")), "{l}");
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/market/store/{approved}")).await;
        assert_eq!(s, 200);
        let (s, v) = srv.post(&op.token, &path, json!({"decision": "refuse"})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("market.not_held")), "{v}");

        // Refused: withdrawn for good.
        let refused = held_one("M012C003.cube").await;
        let (s, l) = srv.post(&op.token, &format!("/api/v1/market/review/{refused}"), json!({"decision": "refuse"})).await;
        assert_eq!((s, l["status"].as_str()), (200, Some("withdrawn")), "{l}");
        let (s, _) = srv.get(&buyer.token, &format!("/api/v1/market/store/{refused}")).await;
        assert_eq!(s, 404);
        let (_, queue) = srv.get(&op.token, "/api/v1/market/review").await;
        assert_eq!(queue["items"], json!([]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_taken_off_sale_sells_no_more_and_its_licences_stand() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Pictures", "bravo").await;
        let (l, offer) = on_sale(
            &srv,
            &seller,
            "P014C001",
            61,
            json!({"kind": "rf_standard", "price": "8.00", "currency": "CNY"}),
        )
        .await;
        let listing = id(&l);
        let (s, second) = srv
            .post(
                &seller.token,
                &format!("/api/v1/market/listings/{listing}/offers"),
                json!({"kind": "rf_extended", "price": "16.00", "currency": "CNY"}),
            )
            .await;
        assert_eq!(s, 201, "{second}");
        credit(&srv, &op, &buyer, "100.00").await;
        let (s, lic) = srv
            .post(
                &buyer.token,
                "/api/v1/market/checkout",
                json!({"offer_id": offer}),
            )
            .await;
        assert_eq!(s, 201, "{lic}");
        let (s, _) = srv
            .post(
                &buyer.token,
                "/api/v1/market/cart",
                json!({"offer_id": offer}),
            )
            .await;
        assert_eq!(s, 200);

        // Only its contributor takes it off sale: to anyone else it is not there.
        let path = format!("/api/v1/market/listings/{listing}/offers/{offer}/withdraw");
        let (s, _) = srv.post(&buyer.token, &path, json!({})).await;
        assert_eq!(s, 404);
        let (s, o) = srv.post(&seller.token, &path, json!({})).await;
        assert_eq!((s, o["active"].as_bool()), (200, Some(false)), "{o}");
        let (s, v) = srv.post(&seller.token, &path, json!({})).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.not_for_sale")),
            "{v}"
        );

        // Nobody buys it any more, in the storefront, at the checkout or from a cart; the other
        // offer sells, and the licence sold on it stands.
        let (_, shown) = srv
            .get(&buyer.token, &format!("/api/v1/market/store/{listing}"))
            .await;
        let offers: Vec<&str> = shown["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(offers, [id(&second).as_str()], "{shown}");
        let (s, v) = srv
            .post(
                &buyer.token,
                "/api/v1/market/checkout",
                json!({"offer_id": offer}),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.not_for_sale")),
            "{v}"
        );
        let (_, cart) = srv.get(&buyer.token, "/api/v1/market/cart").await;
        assert_eq!(cart["items"][0]["available"], false, "{cart}");
        let (s, v) = srv
            .post(&buyer.token, "/api/v1/market/cart/checkout", json!({}))
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.not_for_sale")),
            "{v}"
        );
        let (s, _) = srv
            .post(
                &buyer.token,
                "/api/v1/market/checkout",
                json!({"offer_id": id(&second)}),
            )
            .await;
        assert_eq!(s, 201);
        let (_, still) = srv
            .get(
                &buyer.token,
                &format!("/api/v1/market/licences/{}", id(&lic)),
            )
            .await;
        assert_eq!(still["state"], "active");
        assert_eq!(held(&srv, &buyer).await.0, 100_00 - 8_00 - 16_00);
    })
    .await;
}
