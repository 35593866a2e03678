//! The work-order pages, both sides: a production writes an order through the form on a
//! project's shots and assets, invites a vendor by its short name and awards its bid in two
//! milestones; the vendor finds the order open to it, bids, and delivers; the production
//! accepts, and both see what was paid, in English and in Chinese. A refused form comes back
//! with what was typed and the field named.

use crate::common::*;
use crate::pages::Browser;
use serde_json::json;

/// The page's error message.
fn flash(page: &str) -> &str {
    let at = page
        .find("class=\"flash error\"")
        .expect("a refusal on the page");
    &page[at..at + page[at..].find("</p>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_posted_bid_for_awarded_and_paid_through_the_pages() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Bravo Films", "bravo-films").await;
        let vendor = srv.tenant("Harbour VFX", "harbour-vfx").await;
        let (s, v) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": prod.org.id, "currency": "CNY", "amount": "100000.00", "reference": "deposit"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let (_, project) = srv
            .post(&prod.token, "/api/v1/projects", json!({"name": "Bravo Feature", "code": "BRAVO", "fps": "24", "width": 4096, "height": 1716}))
            .await;
        let pid = id(&project);
        let (_, seq) = srv.post(&prod.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let edl = "TITLE: X\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
        let (s, _) = srv
            .post(&prod.token, &format!("/api/v1/sequences/{}/conform", id(&seq)), json!({"format": "cmx3600", "edl": edl, "apply": true}))
            .await;
        assert_eq!(s, 200);
        let (_, shots) = srv.get(&prod.token, &format!("/api/v1/sequences/{}/shots", id(&seq))).await;
        let shot = id(&shots["items"][0]);
        let (_, asset) = srv.post(&prod.token, &format!("/api/v1/projects/{pid}/assets"), json!({"kind": "prop", "name": "Harbour crane"})).await;

        let producer = Browser::sign_in(&srv, &prod.owner.email, &prod.password).await;
        let seller = Browser::sign_in(&srv, &vendor.owner.email, &vendor.password).await;
        let (s, page) = producer.get("/app/work-orders").await;
        assert_eq!(s, 200);
        assert!(page.contains("data-testid=\"no-orders\"") && page.contains("href=\"/app/work-orders\""), "{page}");
        // The form offers the project's shots and assets once the project is chosen.
        let (s, page) = producer.get(&format!("/app/work-orders/new?project={pid}")).await;
        assert_eq!(s, 200);
        assert!(page.contains("Bravo Feature") && page.contains("SQ010 · ") && page.contains("Harbour crane"), "{page}");
        let shot_value = format!("shot:{shot}");
        let asset_value = format!("asset:{}", id(&asset));
        let mut form = vec![
            ("project_id", pid.as_str()),
            ("title", "Harbour extension"),
            ("brief", "Extend the harbour to the horizon."),
            ("deliverables", "EXR 16-bit half, ACEScg"),
            ("currency", "CNY"),
            ("budget_min", "30000"),
            ("budget_max", "thirty"),
            ("due_on", "2027-03-31"),
            ("nda", "on"),
            ("scope", shot_value.as_str()),
            ("scope", asset_value.as_str()),
        ];
        let (s, page) = producer.post("/app/work-orders", &form).await;
        assert_eq!(s, 422, "{page}");
        assert!(flash(&page).contains("Maximum budget is not an amount") && page.contains("value=\"Harbour extension\""), "{page}");
        form[6] = ("budget_max", "50000.00");
        let (s, page) = producer.post("/app/work-orders", &form).await;
        assert_eq!(s, 303, "{page}");
        let (_, list) = srv.get(&prod.token, "/api/v1/work-orders").await;
        let oid = id(&list["items"][0]);
        let path = format!("/app/work-orders/{oid}");
        let (_, page) = producer.get(&path).await;
        assert!(page.contains("data-state=\"draft\"") && page.contains("data-testid=\"work\"") && page.contains("Harbour crane") && page.contains("SQ010") && page.contains("30,000.00 – 50,000.00 CNY"), "{page}");

        // Invited by short name: an unknown one is refused by name, nothing opened.
        let (s, page) = producer.post(&format!("{path}/publish"), &[("audience", "invited"), ("invite", "no-such-post")]).await;
        assert_eq!(s, 422, "{page}");
        assert!(flash(&page).contains("Invited organisations must name organisations of the platform"), "{page}");
        let (s, _) = producer.post(&format!("{path}/publish"), &[("audience", "invited"), ("invite", "Harbour-VFX")]).await;
        assert_eq!(s, 303);

        // The vendor finds it, sees what to bid on (counted, not named) and bids.
        let (_, open) = seller.get("/app/work-orders?side=open").await;
        assert!(open.contains("Harbour extension") && open.contains("Bravo Films"), "{open}");
        let (_, page) = seller.get(&path).await;
        assert!(page.contains("data-testid=\"bid-form\"") && !page.contains("Harbour crane") && !page.contains(&pid), "{page}");
        let (s, page) = seller.post(&format!("{path}/bid"), &[("price", "40000.005"), ("days", "45")]).await;
        assert_eq!(s, 422, "{page}");
        let (s, _) = seller.post(&format!("{path}/bid"), &[("price", "40000.00"), ("days", "45"), ("assumptions", "Plates by January")]).await;
        assert_eq!(s, 303);

        // The production compares and awards in two milestones; the price is held.
        let (_, page) = producer.get(&path).await;
        assert!(page.contains("Harbour VFX") && page.contains("40,000.00 CNY") && page.contains("45 days") && page.contains("Plates by January"), "{page}");
        let (_, bids) = srv.get(&prod.token, &format!("/api/v1/work-orders/{oid}/bids")).await;
        let bid = id(&bids["items"][0]);
        let (s, page) = producer
            .post(&format!("{path}/award"), &[("bid_id", bid.as_str()), ("price", "4000000"), ("milestones", "Layout: 15000.00\nFinals: 20000.00")])
            .await;
        assert_eq!(s, 422, "the milestones make less than the price: {page}");
        let (s, _) = producer
            .post(&format!("{path}/award"), &[("bid_id", bid.as_str()), ("price", "4000000"), ("milestones", "Layout: 15000.00\nFinals：25000.00")])
            .await;
        assert_eq!(s, 303);
        let (_, page) = producer.get(&path).await;
        assert!(page.contains("data-state=\"awarded\"") && page.contains("Layout") && page.contains("Finals"), "{page}");
        // The vendor now sees the work itself, with its frames.
        let (_, page) = seller.get(&path).await;
        assert!(page.contains("data-testid=\"work\"") && page.contains("Harbour crane") && page.contains("(48 frames)"), "{page}");
        assert!(page.contains("data-testid=\"held\">40,000.00 CNY"), "{page}");

        // The shot's task: the vendor puts its owner on it, hands in a version of a file of
        // its own, and notes it; the production reads both on the same page.
        let (_, types) = srv.get(&prod.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (s, made) = srv
            .post(&prod.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shot, "task_type_id": types["items"][0]["id"]}]}))
            .await;
        assert_eq!(s, 201, "{made}");
        let task = id(&made["items"][0]);
        let item = format!("{path}/work/{task}");
        let (_, page) = seller.get(&path).await;
        assert!(page.contains(&format!("href=\"{item}\"")), "the work links to its page: {page}");
        let (s, page) = seller.get(&item).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("data-testid=\"hand-in\"") && page.contains("data-testid=\"upload-zone\"") && page.contains("data-testid=\"artists-form\""), "{page}");
        let (s, _) = seller.post(&format!("{item}/artists"), &[("user_id", &vendor.owner.id.to_string())]).await;
        assert_eq!(s, 303);
        let file = srv.upload(&vendor.token, "SQ010_0010_comp_v001.mov", b"comp".to_vec()).await;
        let (s, _) = seller.post(&format!("{item}/hand-in"), &[("comment", "First comp"), ("media", file.as_str())]).await;
        assert_eq!(s, 303);
        let (s, page) = seller.post(&format!("{item}/note"), &[("body", "Edge fixed"), ("frame", "twelve")]).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("Edge fixed"), "what was typed stays: {page}");
        let (s, _) = seller.post(&format!("{item}/note"), &[("body", "Edge fixed"), ("frame", "12")]).await;
        assert_eq!(s, 303);
        for (who, b) in [("production", &producer), ("vendor", &seller)] {
            let (s, page) = b.get(&item).await;
            assert_eq!(s, 200, "{who}: {page}");
            assert!(page.contains("v001") && page.contains("First comp") && page.contains("SQ010_0010_comp_v001.mov") && page.contains("Edge fixed") && page.contains("frame 12"), "{who}: {page}");
            assert!(page.contains(&vendor.owner.display_name), "{who}: the vendor's artist is named: {page}");
        }
        // The vendor's artist finds the task among its own.
        let (_, mine) = seller.get("/app/my-tasks").await;
        assert!(mine.contains("data-testid=\"order-work\"") && mine.contains(&format!("href=\"{item}\"")) && mine.contains("Bravo Films · Harbour extension"), "{mine}");
        let (_, page) = producer.get(&item).await;
        assert!(!page.contains("data-testid=\"hand-in\"") && !page.contains("data-testid=\"artists-form\""), "handing in is the vendor's: {page}");

        // The vendor delivers the first; the production accepts it: both see it paid.
        let (_, o) = srv.get(&vendor.token, &format!("/api/v1/work-orders/{oid}")).await;
        let m1 = o["milestones"][0]["id"].as_str().unwrap().to_string();
        let (_, page) = seller.get(&path).await;
        assert!(page.contains("data-testid=\"deliver-form\"") && !page.contains("data-testid=\"accept\""), "{page}");
        let (s, _) = seller.post(&format!("{path}/milestones/{m1}/deliver"), &[("note", "Layout v002 in the review room")]).await;
        assert_eq!(s, 303);
        let (_, page) = producer.get(&path).await;
        assert!(page.contains("Layout v002 in the review room") && page.contains("data-testid=\"accept\""), "{page}");
        let (s, _) = producer.post(&format!("{path}/milestones/{m1}/accept"), &[]).await;
        assert_eq!(s, 303);
        for (who, b) in [("production", &producer), ("vendor", &seller)] {
            let (_, page) = b.get(&path).await;
            assert!(page.contains("data-testid=\"paid\">15,000.00 CNY") && page.contains("data-testid=\"held\">25,000.00 CNY") && page.contains("paid on acceptance"), "{who}: {page}");
        }
        let (_, awarded) = seller.get("/app/work-orders?side=awarded").await;
        assert!(awarded.contains("Harbour extension"), "{awarded}");

        // A change order through the pages: written up, priced by the vendor, approved.
        let (_, page) = producer.get(&path).await;
        assert!(page.contains("data-testid=\"change-form\""), "{page}");
        let (s, _) = producer.post(&format!("{path}/changes"), &[("title", "Lighthouse"), ("description", "A lighthouse on the point")]).await;
        assert_eq!(s, 303);
        let (_, list) = srv.get(&prod.token, &format!("/api/v1/work-orders/{oid}/changes")).await;
        let co = id(&list["items"][0]);
        let (s, page) = seller.post(&format!("{path}/changes/{co}/quote"), &[("price", "eight"), ("days", "5")]).await;
        assert_eq!(s, 422, "{page}");
        let (s, _) = seller.post(&format!("{path}/changes/{co}/quote"), &[("price", "8000.00"), ("days", "5")]).await;
        assert_eq!(s, 303);
        let (_, page) = producer.get(&path).await;
        assert!(page.contains("8,000.00 CNY · 5 days") && page.contains("data-testid=\"approve-change\""), "{page}");
        let (s, _) = producer.post(&format!("{path}/changes/{co}/approve"), &[("price", "800000")]).await;
        assert_eq!(s, 303);
        let (_, page) = seller.get(&path).await;
        assert!(page.contains("CO-1 · Lighthouse") && page.contains("data-state=\"approved\""), "{page}");

        // In Chinese, both sides, with no English of the block left.
        let english = crate::pages::english_block("## Work orders");
        assert!(english.len() > 40, "{english:?}");
        for (b, pages) in [(&producer, vec![path.clone(), "/app/work-orders".into(), format!("/app/work-orders/new?project={pid}")]), (&seller, vec![path.clone(), "/app/work-orders?side=awarded".into(), format!("{path}/work/{task}"), "/app/my-tasks".into()])] {
            let (s, _) = b.post("/app/language", &[("locale", "zh-CN")]).await;
            assert_eq!(s, 303);
            for p in pages {
                let (_, zh) = b.get(&p).await;
                assert!(zh.contains("工单"), "{p}: {zh}");
                for t in &english {
                    assert!(!zh.contains(t.as_str()), "{p}: English “{t}” on a Chinese page");
                }
            }
        }
        let (_, zh) = seller.get(&path).await;
        assert!(zh.contains("验收即付款") && zh.contains("已验收并付款"), "{zh}");
        // The work's words too: the asset's kind and the shot's place in the cut.
        assert!(zh.contains("道具") && !zh.contains(">prop<") && !zh.contains(">active<"), "{zh}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_rules_on_a_dispute_from_its_page() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let prod = srv.tenant("Bravo Films", "bravo-films").await;
        let vendor = srv.tenant("Harbour VFX", "harbour-vfx").await;
        let (s, _) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": prod.org.id, "currency": "CNY", "amount": "50000.00", "reference": "deposit"}))
            .await;
        assert_eq!(s, 201);
        let (_, project) = srv
            .post(&prod.token, "/api/v1/projects", json!({"name": "Bravo Feature", "code": "BRAVO", "fps": "24", "width": 4096, "height": 1716}))
            .await;
        let (_, o) = srv
            .post(&prod.token, "/api/v1/work-orders", json!({"project_id": id(&project), "title": "Harbour extension", "currency": "CNY",
                "budget_min": 100_000, "budget_max": 2_000_000, "due_on": "2027-03-31"}))
            .await;
        let oid = id(&o);
        srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/publish"), json!({"audience": "invited", "invite": [vendor.org.id]})).await;
        let (_, b) = srv.post(&vendor.token, &format!("/api/v1/work-orders/{oid}/bids"), json!({"price": 1_000_000, "days": 10})).await;
        let (s, _) = srv.post(&prod.token, &format!("/api/v1/work-orders/{oid}/award"), json!({"bid_id": id(&b), "price": 1_000_000})).await;
        assert_eq!(s, 200);
        let (s, _) = srv
            .post(&vendor.token, &format!("/api/v1/work-orders/{oid}/dispute"), json!({"note": "The finals were delivered by e-mail"}))
            .await;
        assert_eq!(s, 200);

        // The operator's finance finds it under its own tab and rules on it.
        let operator = Browser::sign_in(&srv, &op.owner.email, &op.password).await;
        let (_, list) = operator.get("/app/work-orders").await;
        assert!(list.contains("data-testid=\"disputes-tab\""), "{list}");
        let (s, page) = operator.get("/app/work-orders/disputes").await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("Harbour extension") && page.contains("10,000.00 CNY") && page.contains("The finals were delivered by e-mail") && page.contains("Opened by Harbour VFX"), "{page}");
        let ruling = format!("/app/work-orders/{oid}/ruling");
        let (s, page) = operator.post(&ruling, &[("note", "No delivery on record")]).await;
        assert_eq!(s, 422, "an outcome is chosen: {page}");
        let (s, page) = operator.post(&ruling, &[("outcome", "release"), ("release", "100.00"), ("note", "x")]).await;
        assert_eq!(s, 422, "an amount is for a split only: {page}");
        // In Chinese, the dispute and a refused ruling, with no English of the block left.
        let (s, _) = operator.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (s, zh) = operator.post(&ruling, &[("note", "No delivery on record")]).await;
        assert_eq!(s, 422);
        assert!(zh.contains("待裁决的争议") && zh.contains("裁决") && !zh.contains(">outcome<"), "{zh}");
        for t in crate::pages::english_block("## Work orders") {
            assert!(!zh.contains(t.as_str()), "English “{t}” on a Chinese page");
        }
        let (s, _) = operator.post("/app/language", &[("locale", "en")]).await;
        assert_eq!(s, 303);
        let (s, _) = operator.post(&ruling, &[("outcome", "refund"), ("note", "No delivery on record")]).await;
        assert_eq!(s, 303);
        let (_, page) = operator.get("/app/work-orders/disputes").await;
        assert!(page.contains("data-testid=\"no-disputes\""), "{page}");
        let (_, o) = srv.get(&prod.token, &format!("/api/v1/work-orders/{oid}")).await;
        assert_eq!((o["ruling"]["outcome"].as_str(), o["state"].as_str()), (Some("refund"), Some("cancelled")), "{o}");

        // Nobody else has the page.
        let producer = Browser::sign_in(&srv, &prod.owner.email, &prod.password).await;
        let (s, _) = producer.get("/app/work-orders/disputes").await;
        assert_eq!(s, 403);
        let (_, list) = producer.get("/app/work-orders").await;
        assert!(!list.contains("disputes-tab"), "{list}");

        // In Chinese, with no English of the block left.
        let (s, _) = operator.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (_, zh) = operator.get("/app/work-orders/disputes").await;
        assert!(zh.contains("待裁决的争议"), "{zh}");
        for t in crate::pages::english_block("## Work orders") {
            assert!(!zh.contains(t.as_str()), "English “{t}” on a Chinese page");
        }
    })
    .await;
}
