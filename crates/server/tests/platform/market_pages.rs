//! The market's pages: a contributor lists a file, adds offers and puts it on sale through
//! forms; a buyer finds it in the storefront in either language, buys it, downloads it and is
//! refunded; a refused form says why on its page with what was typed; Chinese pages without
//! English.

use crate::common::*;
use crate::pages::{Browser, pdf_text};
use mstation_core::Role;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// What a person reads on `page`, its spaces made one.
fn text(page: &str) -> String {
    crate::pages::text(page)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value of the first `attr="…"` on `page`.
fn first(page: &str, attr: &str) -> String {
    let at = page
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} on {page}"))
        + attr.len()
        + 2;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_is_listed_bought_and_refunded_through_the_pages() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Films", "bravo").await;
        srv.person(&buyer, "art@bravo.example", "Art", Role::Artist).await;
        let file = srv.upload(&seller.token, "E005C001.mov", b"harbour at dawn".to_vec()).await;

        // The contributor lists the file, is told what is missing, adds offers, publishes.
        let sell = Browser::sign_in(&srv, &seller.owner.email, PASSWORD).await;
        let (s, page) = sell.get("/app/market/selling").await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("data-testid=\"no-listings\"") && page.contains("E005C001.mov"), "{page}");
        let form = [
            ("media_file_id", file.as_str()),
            ("category", "footage"),
            ("title_en", "Harbour at dawn"),
            ("title_zh", ""),
            ("keywords", "harbour，港口, dawn"),
        ];
        let (s, bad) = sell.post("/app/market/selling", &form).await;
        assert_eq!(s, 422);
        assert!(bad.contains("class=\"flash error\"") && bad.contains("value=\"Harbour at dawn\""), "{bad}");
        let mut form = form;
        form[3] = ("title_zh", "黎明的港口");
        let (s, r) = sell.post("/app/market/selling", &form).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = sell.get("/app/market/selling").await;
        let listing = first(&page, "data-listing");
        let edit = format!("/app/market/selling/{listing}");
        let (s, r) = sell.post(&format!("{edit}/publish"), &[]).await;
        assert_eq!(s, 422, "no offer yet: {r}");
        assert!(r.contains("The listing has no offer"), "{r}");
        let rm = [
            ("kind", "rights_managed"),
            ("price", "8000"),
            ("currency", "cny"),
            ("media", "broadcast"),
            ("territory", "cn"),
            ("starts_on", "2027-01-01"),
            ("ends_on", "2026-12-31"),
            ("exclusive", "on"),
        ];
        let (s, bad) = sell.post(&format!("{edit}/offers"), &rm).await;
        assert_eq!(s, 422);
        assert!(bad.contains("comes before the first day") && bad.contains("value=\"2026-12-31\""), "{bad}");
        let mut rm = rm;
        rm[6] = ("ends_on", "2027-12-31");
        let (s, r) = sell.post(&format!("{edit}/offers"), &rm).await;
        assert_eq!(s, 303, "{r}");
        let (s, r) = sell
            .post(&format!("{edit}/offers"), &[("kind", "rf_standard"), ("price", "120.00"), ("currency", "CNY")])
            .await;
        assert_eq!(s, 303, "{r}");
        let (s, r) = sell.post(&format!("{edit}/publish"), &[]).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = sell.get(&edit).await;
        let shown = text(&page);
        assert!(
            shown.contains("On sale")
                && shown.contains("Rights-managed Exclusive Broadcast, CN, 2027-01-01 to 2027-12-31")
                && shown.contains("CNY 8,000.00")
                && shown.contains("Not for training AI models."),
            "{shown}"
        );

        // The buyer finds it in either language, with no money yet.
        let buy = Browser::sign_in(&srv, &buyer.owner.email, PASSWORD).await;
        for q in ["harbour", "%E6%B8%AF%E5%8F%A3"] {
            let (s, page) = buy.get(&format!("/app/market?q={q}")).await;
            assert_eq!(s, 200);
            assert!(page.contains(&format!("/app/market/store/{listing}")), "{q}: {page}");
            assert!(text(&page).contains("from CNY 120.00"), "{page}");
        }
        let (_, none) = buy.get("/app/market?q=desert").await;
        assert!(none.contains("data-testid=\"no-listings\""));
        // Refined by a facet's link: the count says so, and the chosen value links back out.
        let (s, page) = buy.get("/app/market?q=harbour&kind=rights_managed").await;
        assert_eq!(s, 200);
        let shown = text(&page);
        assert!(shown.contains("One listing found") && shown.contains("Rights-managed"), "{shown}");
        assert!(page.contains("href=\"/app/market?q=harbour\""), "the chosen kind links back out: {page}");
        let (_, page) = buy.get("/app/market?q=harbour&kind=rf_extended").await;
        assert!(page.contains("data-testid=\"no-listings\""), "no extended offer here: {page}");
        let store = format!("/app/market/store/{listing}");
        let (s, page) = buy.get(&store).await;
        assert_eq!(s, 200);
        assert!(page.contains("data-testid=\"wallet\"") && text(&page).contains("no market wallet yet"), "{page}");
        // Cheapest first: the royalty-free offer, then the exclusive one.
        let offers: Vec<String> = page
            .match_indices("data-offer=\"")
            .map(|(at, m)| page[at + m.len()..at + m.len() + 36].to_string())
            .collect();
        assert_eq!(offers.len(), 2, "{page}");
        let (rf, offer) = (offers[0].clone(), offers[1].clone());
        let (s, bad) = buy.post("/app/market/checkout", &[("offer_id", offer.as_str()), ("key", "page-1")]).await;
        assert_eq!(s, 409);
        assert!(bad.contains("Not enough money in your market wallet"), "{bad}");
        let (s, v) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": buyer.org.id, "currency": "CNY", "amount": "10000", "reference": "deposit"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, r) = buy.post("/app/market/checkout", &[("offer_id", offer.as_str()), ("key", "page-2")]).await;
        assert_eq!(s, 303, "{r}");
        // The same form again buys nothing more.
        let (s, _) = buy.post("/app/market/checkout", &[("offer_id", offer.as_str()), ("key", "page-2")]).await;
        assert_eq!(s, 303);
        let (_, page) = buy.get(&store).await;
        assert!(text(&page).contains("Your market wallet: CNY 2,000.00"), "{}", text(&page));
        assert_eq!(
            page.matches("data-testid=\"unavailable\"").count(),
            2,
            "the exclusive sold, and the royalty-free offer it covers, are not for sale: {page}"
        );
        // Sold exclusively: nobody buys it again.
        let (s, bad) = buy.post("/app/market/checkout", &[("offer_id", rf.as_str()), ("key", "page-3")]).await;
        assert_eq!(s, 409);
        assert!(bad.contains("An exclusive licence stands in the way"), "{bad}");

        // Licences: the artist downloads; the owner refunds.
        let (_, page) = buy.get("/app/market/licences").await;
        let licence = first(&page, "data-licence");
        assert!(text(&page).contains("Harbour at dawn"), "{page}");
        let art = Browser::sign_in(&srv, "art@bravo.example", PASSWORD).await;
        let (s, page) = art.get("/app/market/licences").await;
        assert_eq!(s, 200);
        assert!(!page.contains("/refund\""), "an artist downloads, never refunds: {page}");
        let (s, _) = art.get("/app/market/selling").await;
        assert_eq!(s, 403);
        let (s, r) = art.post(&format!("/app/market/licences/{licence}/download"), &[]).await;
        assert_eq!(s, 303, "{r}");
        // Its certificate names both parties; its public address says it stands, to anyone.
        let (s, cert) = art.get(&format!("/app/market/licences/{licence}/certificate")).await;
        assert_eq!(s, 200);
        let shown = text(&cert);
        assert!(
            cert.contains("data-testid=\"stands\"") && shown.contains("Licensee Bravo Films") && shown.contains("Contributor Harbour Stock"),
            "{shown}"
        );
        let at = cert.find("/licences/verify/").expect("a verification address");
        let verify = cert[at..at + cert[at..].find('"').unwrap()].to_string();
        assert!(cert.contains(&format!(">{}{verify}<", srv.base)), "the whole address, to print: {cert}");
        // The same certificate as a PDF, read back by another reader than ours.
        let (s, kind, pdf) = art.get_bytes(&format!("/app/market/licences/{licence}/certificate.pdf")).await;
        assert_eq!((s, kind.as_deref()), (200, Some("application/pdf")));
        let words = pdf_text(&pdf);
        for said in ["Licence certificate", "This licence stands.", "Bravo Films", "Harbour Stock", "Harbour at dawn", "黎明的港口", &format!("{}{verify}", srv.base)] {
            assert!(words.contains(said), "the PDF says {said:?}: {words}");
        }
        let (s, _, other) = sell.get_bytes(&format!("/app/market/licences/{licence}/certificate.pdf")).await;
        assert!(s == 404 && !other.starts_with(b"%PDF"), "another organisation's licence: {s}");
        let public = |path: String| {
            let (http, base) = (srv.http.clone(), srv.base.clone());
            async move {
                let r = http.get(format!("{base}{path}")).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        // The printed address is a host's whatever a request claims, and a forwarded host
        // counts only from a trusted proxy (none here).
        let r = srv.http.get(format!("{}{verify}", srv.base)).header("host", "evil\"><b>x").header("x-forwarded-host", "elsewhere.example").send().await.unwrap();
        let page = r.text().await.unwrap();
        assert!(page.contains(&format!(">http://localhost{verify}<")) && !page.contains("elsewhere.example") && !page.contains("<b>x"), "{page}");
        let (s, page) = public(verify.clone()).await;
        assert!(s == 200 && page.contains("This licence stands.") && !page.contains("<header class=\"top\">"), "{s} {page}");
        // The parties are named as they were at the sale, whatever they are called later.
        let r = srv
            .http
            .patch(format!("{}/api/v1/org", srv.base))
            .bearer_auth(&buyer.token)
            .json(&json!({"name": "Renamed Films"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let (_, page) = public(verify.clone()).await;
        assert!(text(&page).contains("Licensee Bravo Films"), "{page}");
        // Anything but a code is no code.
        for bad in ["%00", "x", "AAAAAAAAAAAAAAA%00", "AAAAAAAAAAAAAAAA"] {
            let (s, _) = public(format!("/licences/verify/{bad}")).await;
            assert_eq!(s, 404, "{bad}");
        }
        // The licence's id, which its contributor sees in its sales, opens nothing.
        let (s, _) = public(format!("/licences/verify/{licence}")).await;
        assert_eq!(s, 404);
        let (s, r) = buy.post(&format!("/app/market/licences/{licence}/refund"), &[]).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = public(verify.clone()).await;
        assert!(page.contains("data-testid=\"refunded\"") && page.contains("no longer stands"), "{page}");
        let r = srv.http.get(format!("{}{verify}/certificate.pdf", srv.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let words = pdf_text(&r.bytes().await.unwrap());
        assert!(words.contains("no longer stands") && words.contains("Bravo Films"), "{words}");
        let r = srv.http.get(format!("{}/licences/verify/AAAAAAAAAAAAAAAA/certificate.pdf", srv.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let (_, page) = buy.get("/app/market/licences").await;
        assert!(page.contains("data-testid=\"refunded\"") && !page.contains("/download\""), "{page}");

        // The contributor's side: the sale line by line, refunded, and nothing owed now.
        let (_, page) = sell.get("/app/market/earnings").await;
        let shown = text(&page);
        assert!(shown.contains("CNY 8,000.00 70% CNY 5,600.00") && shown.contains("Refunded"), "{shown}");
        assert!(!shown.contains("Bravo"), "a contributor never sees who bought: {shown}");

        // In Chinese: the pages speak Chinese, with no English left.
        for b in [&buy, &sell] {
            let (s, _) = b.post("/app/language", &[("locale", "zh-CN")]).await;
            assert_eq!(s, 303);
        }
        let english = crate::pages::english_block("## Market");
        for (b, path) in [(&buy, "/app/market".to_string()), (&buy, store.clone()), (&buy, "/app/market/licences".into()), (&sell, "/app/market/selling".into()), (&sell, "/app/market/earnings".into()), (&sell, edit.clone()), (&buy, format!("/app/market/licences/{licence}/certificate"))] {
            let (s, page) = b.get(&path).await;
            assert_eq!(s, 200, "{path}");
            let shown = text(&page);
            for e in &english {
                assert!(!shown.contains(e.as_str()), "{path} shows English {e:?}: {shown}");
            }
        }
        let (_, page) = buy.get(&store).await;
        assert!(text(&page).contains("黎明的港口") && text(&page).contains("电视播出，CN，2027-01-01 至 2027-12-31"), "{}", text(&page));
        // The PDF in Chinese: labels and state in Chinese, no English of ours left.
        let (s, _, pdf) = buy.get_bytes(&format!("/app/market/licences/{licence}/certificate.pdf")).await;
        assert_eq!(s, 200);
        let words = pdf_text(&pdf);
        assert!(words.contains("授权证书") && words.contains("此授权已退款") && words.contains("黎明的港口"), "{words}");
        for e in &english {
            assert!(!words.contains(e.as_str()), "the Chinese PDF shows English {e:?}: {words}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_announces_terms_and_pays_out_and_the_contributor_sees_it_all() {
    on_every_backend(|srv| async move {
        const DAY: i64 = 86_400_000;
        let op = srv.operator().await;
        srv.person(&op, "books@m-station.example", "Books", Role::Finance).await;
        srv.person(&op, "prod@m-station.example", "Prod", Role::Producer).await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Films", "bravo").await;
        let file = srv.upload(&seller.token, "F006C001.mov", b"harbour at noon".to_vec()).await;
        let (s, l) = srv
            .post(&seller.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "footage", "title_en": "Harbour at noon", "title_zh": "正午的港口"}))
            .await;
        assert_eq!(s, 201, "{l}");
        let (s, o) = srv
            .post(&seller.token, &format!("/api/v1/market/listings/{}/offers", l["id"].as_str().unwrap()),
                  json!({"kind": "rf_standard", "price": "200.00", "currency": "CNY"}))
            .await;
        assert_eq!(s, 201, "{o}");
        let (s, _) = srv.post(&seller.token, &format!("/api/v1/market/listings/{}/publish", l["id"].as_str().unwrap()), json!({})).await;
        assert_eq!(s, 200);

        // The operator's finance sees every contributor's terms and both forms.
        let books = Browser::sign_in(&srv, "books@m-station.example", PASSWORD).await;
        let (s, page) = books.get("/app/market/payouts").await;
        assert_eq!(s, 200, "{page}");
        let shown = text(&page);
        assert!(shown.contains("Harbour Stock 70%"), "{shown}");
        assert!(page.contains("data-testid=\"announce-form\"") && page.contains("data-testid=\"payout-form\""), "{page}");
        // Too soon: refused, saying why, with what was typed.
        let now = mstation_store::now_ms();
        let soon = day_of(now + 20 * DAY);
        let later = day_of(now + 30 * DAY);
        let org = seller.org.id.to_string();
        let (s, bad) = books
            .post("/app/market/payouts/terms", &[("org_id", org.as_str()), ("share", "65"), ("effective_from", soon.as_str())])
            .await;
        assert_eq!(s, 422);
        assert!(text(&bad).contains("at least 30 days before") && bad.contains("value=\"65\""), "{bad}");
        let (s, bad) = books
            .post("/app/market/payouts/terms", &[("org_id", org.as_str()), ("share", "165"), ("effective_from", later.as_str())])
            .await;
        assert_eq!(s, 422, "{bad}");
        let (s, page) = books
            .post("/app/market/payouts/terms", &[("org_id", org.as_str()), ("share", "62.5"), ("effective_from", later.as_str())])
            .await;
        assert_eq!(s, 200, "{page}");
        let shown = text(&page);
        assert!(shown.contains(&format!("Announced: 62.5% from {later}")) && shown.contains(&format!("From {later}: 62.5%")), "{shown}");
        // This month cannot be paid out yet: said, nothing paid.
        let month = &day_of(now)[..7];
        let (s, bad) = books.post("/app/market/payouts", &[("period", month)]).await;
        assert_eq!(s, 409);
        assert!(text(&bad).contains("That month cannot be paid out yet") && bad.contains("data-testid=\"no-batches\""), "{bad}");
        let (s, bad) = books.post("/app/market/payouts", &[("period", "2026/11")]).await;
        assert_eq!(s, 422, "{bad}");

        // A producer of the operator reads, without the forms; no other organisation gets in.
        let prod = Browser::sign_in(&srv, "prod@m-station.example", PASSWORD).await;
        let (s, page) = prod.get("/app/market/payouts").await;
        assert_eq!(s, 200);
        assert!(!page.contains("announce-form") && !page.contains("payout-form"), "{page}");
        let (s, _) = prod.post("/app/market/payouts", &[("period", "2026-01")]).await;
        assert_eq!(s, 403);
        let sell = Browser::sign_in(&srv, &seller.owner.email, PASSWORD).await;
        let (s, page) = sell.get("/app/market/payouts").await;
        assert_eq!(s, 403, "{page}");
        let (s, _) = sell.post("/app/market/payouts/terms", &[("org_id", org.as_str()), ("share", "99"), ("effective_from", later.as_str())]).await;
        assert_eq!(s, 403);
        let (_, page) = sell.get("/app/market/earnings").await;
        assert!(!page.contains("/app/market/payouts\""), "no payouts tab for a contributor: {page}");

        // The contributor sees the terms announced, its sale, and then its payout.
        let shown = text(&page);
        assert!(shown.contains("Your share of each sale is 70%, the platform") && shown.contains(&format!("From {later}: 62.5% of each sale")), "{shown}");
        assert!(page.contains("data-testid=\"no-payouts\""), "{page}");
        let (s, v) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": buyer.org.id, "currency": "CNY", "amount": "1000", "reference": "deposit"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = srv.post(&buyer.token, "/api/v1/market/checkout", json!({"offer_id": o["id"]})).await;
        assert_eq!(s, 201, "{v}");
        let (_, page) = sell.get("/app/market/earnings").await;
        let shown = text(&page);
        assert!(shown.contains("CNY 200.00 70% CNY 140.00 Owed") && page.contains("data-testid=\"chart\""), "{shown}");
        let scope = mstation_core::TenantScope { org_id: op.org.id, user_id: op.owner.id, role: Role::Owner, token_scopes: None, token_id: None };
        let (_, end) = mstation_store::market::payouts::month_bounds(month).unwrap();
        srv.store().tenant(&scope).pay_out(month, end + mstation_store::market::REFUND_WINDOW_MS).await.unwrap();
        let (_, page) = sell.get("/app/market/earnings").await;
        let shown = text(&page);
        let d = time::OffsetDateTime::from_unix_timestamp(now / 1000).unwrap().date();
        let name = format!("{} {}", ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][usize::from(u8::from(d.month())) - 1], d.year());
        assert!(shown.contains(&format!("Paid with {name}")) && shown.contains(&format!("{name} 1 CNY 140.00")), "{shown}");
        assert!(shown.contains("Paid to you CNY 140.00"), "{shown}");
        let (_, page) = books.get("/app/market/payouts").await;
        assert!(text(&page).contains(&format!("{name} 1 Harbour Stock · CNY 140.00")), "{}", text(&page));

        // In Chinese, no English.
        for b in [&books, &sell] {
            let (s, _) = b.post("/app/language", &[("locale", "zh-CN")]).await;
            assert_eq!(s, 303);
        }
        let english = crate::pages::english_block("## Market");
        for (b, path) in [(&books, "/app/market/payouts"), (&sell, "/app/market/earnings")] {
            let (s, page) = b.get(path).await;
            assert_eq!(s, 200, "{path}");
            let shown = text(&page);
            for e in &english {
                assert!(!shown.contains(e.as_str()), "{path} shows English {e:?}: {shown}");
            }
            assert!(shown.contains(&format!("{}年{}月", d.year(), u8::from(d.month()))), "{shown}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_is_filled_from_listings_and_bought_as_one_order_through_the_pages() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Films", "bravo").await;
        let mut listings = Vec::new();
        for (name, price) in [("J009C001.mov", "40.00"), ("J009C002.mov", "60.00")] {
            let file = srv.upload(&seller.token, name, name.as_bytes().to_vec()).await;
            let (_, l) = srv
                .post(&seller.token, "/api/v1/market/listings",
                      json!({"media_file_id": file, "category": "music", "title_en": format!("Score {name}"), "title_zh": "配乐"}))
                .await;
            let listing = l["id"].as_str().unwrap().to_string();
            let (s, _) = srv
                .post(&seller.token, &format!("/api/v1/market/listings/{listing}/offers"),
                      json!({"kind": "rf_standard", "price": price, "currency": "CNY"}))
                .await;
            assert_eq!(s, 201);
            let (s, _) = srv.post(&seller.token, &format!("/api/v1/market/listings/{listing}/publish"), json!({})).await;
            assert_eq!(s, 200);
            listings.push(listing);
        }
        let (s, _) = srv
            .post(&op.token, "/api/v1/market/wallets/credit",
                  json!({"org_id": buyer.org.id, "currency": "CNY", "amount": "500", "reference": "deposit"}))
            .await;
        assert_eq!(s, 201);

        // Each listing's page puts its offer in the cart; the tab counts them.
        let buy = Browser::sign_in(&srv, &buyer.owner.email, PASSWORD).await;
        for l in &listings {
            let (_, page) = buy.get(&format!("/app/market/store/{l}")).await;
            let offer = first(&page, "data-offer");
            let (s, r) = buy.post("/app/market/cart", &[("offer_id", offer.as_str())]).await;
            assert_eq!(s, 303, "{r}");
        }
        let (s, page) = buy.get("/app/market/cart").await;
        assert_eq!(s, 200);
        let shown = text(&page);
        assert!(shown.contains("Total: CNY 100.00") && shown.contains("Buy all 2 licences"), "{shown}");
        assert!(page.contains("data-testid=\"cart-count\">2<"), "{page}");
        let key = first(&page, "name=\"key\" value");

        // In Chinese, no English.
        let (s, _) = buy.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (_, page) = buy.get("/app/market/cart").await;
        let shown = text(&page);
        for e in crate::pages::english_block("## Market") {
            assert!(!shown.contains(e.as_str()), "the cart shows English {e:?}: {shown}");
        }
        assert!(shown.contains("购买全部 2 项授权") && shown.contains("合计"), "{shown}");
        let (s, _) = buy.post("/app/language", &[("locale", "en")]).await;
        assert_eq!(s, 303);

        // Bought together: two licences, the cart empty; an empty cart's checkout says so.
        let (s, r) = buy.post("/app/market/cart/checkout", &[("key", key.as_str())]).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = buy.get("/app/market/licences").await;
        assert_eq!(page.matches("data-licence=").count(), 2, "{page}");
        let (_, page) = buy.get("/app/market/cart").await;
        assert!(page.contains("data-testid=\"cart-empty\""), "{page}");
        let (s, bad) = buy.post("/app/market/cart/checkout", &[("key", "cart-again")]).await;
        assert_eq!(s, 422);
        assert!(text(&bad).contains("The cart is empty"), "{bad}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_is_attached_in_the_editor_and_shown_on_file_in_the_storefront() {
    on_every_backend(|srv| async move {
        let seller = srv.tenant("Harbour Stock", "harbour-stock").await;
        let buyer = srv.tenant("Bravo Films", "bravo").await;
        let file = srv.upload(&seller.token, "L011C001.mov", b"a portrait".to_vec()).await;
        let doc = srv.upload(&seller.token, "release-li-na.pdf", b"%PDF-1.4 Li Na".to_vec()).await;
        let (_, l) = srv
            .post(&seller.token, "/api/v1/market/listings",
                  json!({"media_file_id": file, "category": "footage", "title_en": "Portrait at the window", "title_zh": "窗边肖像"}))
            .await;
        let listing = l["id"].as_str().unwrap().to_string();
        let (s, _) = srv
            .post(&seller.token, &format!("/api/v1/market/listings/{listing}/offers"),
                  json!({"kind": "rf_standard", "price": "30.00", "currency": "CNY"}))
            .await;
        assert_eq!(s, 201);

        let sell = Browser::sign_in(&srv, &seller.owner.email, PASSWORD).await;
        let edit = format!("/app/market/selling/{listing}");
        let (_, page) = sell.get(&edit).await;
        assert!(page.contains("data-testid=\"no-releases\"") && page.contains("release-li-na.pdf"), "{page}");
        let (s, bad) = sell
            .post(&format!("{edit}/releases"), &[("kind", "model"), ("name", ""), ("media_file_id", doc.as_str())])
            .await;
        assert_eq!(s, 422);
        assert!(bad.contains("class=\"flash error\""), "{bad}");
        let (s, r) = sell
            .post(&format!("{edit}/releases"), &[("kind", "model"), ("name", "Zhou Xun"), ("media_file_id", doc.as_str())])
            .await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = sell.get(&edit).await;
        assert!(text(&page).contains("Model release Zhou Xun release-li-na.pdf"), "{}", text(&page));
        let (s, _) = sell.post(&format!("{edit}/publish"), &[]).await;
        assert_eq!(s, 303);
        // Its offer taken off sale from the editor: marked so there, gone from the storefront.
        let (_, page) = sell.get(&edit).await;
        let offer = first(&page, "data-offer");
        let (s, r) = sell.post(&format!("{edit}/offers/{offer}/withdraw"), &[]).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = sell.get(&edit).await;
        assert!(page.contains("data-testid=\"off-sale\"") && !page.contains("data-testid=\"withdraw-offer\""), "{page}");

        let buy = Browser::sign_in(&srv, &buyer.owner.email, PASSWORD).await;
        let store = format!("/app/market/store/{listing}");
        let (_, page) = buy.get(&store).await;
        assert!(text(&page).contains("Releases on file Model release: Zhou Xun") && !page.contains("release-li-na.pdf"), "{}", text(&page));
        assert!(!page.contains(&format!("data-offer=\"{offer}\"")), "an offer off sale is not shown: {page}");
        for b in [&buy, &sell] {
            let (s, _) = b.post("/app/language", &[("locale", "zh-CN")]).await;
            assert_eq!(s, 303);
        }
        let english = crate::pages::english_block("## Market");
        for (b, path) in [(&buy, store.clone()), (&sell, edit.clone())] {
            let (_, page) = b.get(&path).await;
            let shown = text(&page);
            for e in &english {
                assert!(!shown.contains(e.as_str()), "{path} shows English {e:?}: {shown}");
            }
            assert!(shown.contains("肖像授权书"), "{shown}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_reviews_a_held_listing_through_its_page() {
    on_every_backend(|srv| async move {
        let op = srv.operator().await;
        srv.person(&op, "books@m-station.example", "Books", Role::Finance).await;
        let first = srv.tenant("Harbour Stock", "harbour-stock").await;
        let copier = srv.tenant("Delta Grading", "delta-grading").await;
        let mut listings = Vec::new();
        for t in [&first, &copier] {
            let file = srv.upload(&t.token, "N013C001.cube", b"the same look".to_vec()).await;
            let (_, l) = srv
                .post(&t.token, "/api/v1/market/listings",
                      json!({"media_file_id": file, "category": "lut", "title_en": "Harbour look", "title_zh": "港口调色"}))
                .await;
            let listing = l["id"].as_str().unwrap().to_string();
            srv.post(&t.token, &format!("/api/v1/market/listings/{listing}/offers"),
                     json!({"kind": "rf_standard", "price": "5.00", "currency": "CNY"})).await;
            srv.post(&t.token, &format!("/api/v1/market/listings/{listing}/publish"), json!({})).await;
            listings.push(listing);
        }
        let admin = Browser::sign_in(&srv, &op.owner.email, PASSWORD).await;
        let (s, page) = admin.get("/app/market/review").await;
        assert_eq!(s, 200, "{page}");
        let shown = text(&page);
        assert!(shown.contains("Delta Grading") && shown.contains("Harbour Stock") && shown.contains("The same file"), "{shown}");
        assert!(page.contains(&format!("data-held=\"{}\"", listings[1])), "{page}");
        // The operator's finance reads the market's books, not its review; a contributor neither.
        let books = Browser::sign_in(&srv, "books@m-station.example", PASSWORD).await;
        let (s, _) = books.get("/app/market/review").await;
        assert_eq!(s, 403);
        let contributor = Browser::sign_in(&srv, &copier.owner.email, PASSWORD).await;
        let (s, _) = contributor.get("/app/market/review").await;
        assert_eq!(s, 403);
        // In Chinese, no English.
        let (s, _) = admin.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (_, page) = admin.get("/app/market/review").await;
        let shown = text(&page);
        for e in crate::pages::english_block("## Market") {
            assert!(!shown.contains(e.as_str()), "the review page shows English {e:?}: {shown}");
        }
        assert!(shown.contains("相同的文件"), "{shown}");
        // Put on sale from the page.
        let (s, r) = admin.post(&format!("/app/market/review/{}", listings[1]), &[("decision", "approve")]).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = admin.get("/app/market/review").await;
        assert!(page.contains("data-testid=\"nothing-held\""), "{page}");
        let (_, l) = srv.get(&copier.token, &format!("/api/v1/market/listings/{}", listings[1])).await;
        assert_eq!(l["status"], "published");
    })
    .await;
}
