//! The finance pages: the accounts with their balances, opening one and moving money through
//! forms, an account's statement with the balance after each line; a refused form said on the
//! page with what was typed; the pages refused to an artist and another organisation's account
//! not found; Chinese pages without English.

use crate::common::*;
use crate::pages::Browser;
use mstation_core::Role;

const PASSWORD: &str = "correct horse battery";

/// What a person reads on `page`, its spaces made one.
fn text(page: &str) -> String {
    crate::pages::text(page)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ids of the accounts listed on the finance page, in its order (by name).
fn account_ids(page: &str) -> Vec<String> {
    page.match_indices("data-account=\"")
        .map(|(at, m)| page[at + m.len()..at + m.len() + 36].to_string())
        .collect()
}

/// The texts of the catalog's `## Finance` block in English.
fn finance_texts() -> Vec<String> {
    let path = format!("{}/locales/en/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let all = std::fs::read_to_string(path).unwrap();
    let block = &all[all.find("\n## Finance").expect("a ## Finance block")..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        .filter_map(|l| l.split_once(" = ").map(|(_, v)| v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_is_moved_and_read_through_the_finance_pages() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        srv.person(&a, "money@alpha.example", "Mei", Role::Finance)
            .await;
        srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist)
            .await;
        let fin = Browser::sign_in(&srv, "money@alpha.example", PASSWORD).await;
        let (s, page) = fin.get("/app/finance").await;
        assert_eq!(s, 200, "{page}");
        assert!(
            page.contains("data-testid=\"no-accounts\"")
                && page.contains("href=\"/app/finance\" aria-current=\"page\""),
            "{page}"
        );
        assert!(
            !page.contains("data-testid=\"move-form\""),
            "nothing to move between yet"
        );
        for (name, purpose) in [("上海银行", "settlement"), ("钱包一号", "wallet")] {
            let (s, r) = fin
                .post(
                    "/app/finance/accounts",
                    &[("name", name), ("purpose", purpose), ("currency", "cny")],
                )
                .await;
            assert_eq!(s, 303, "{r}");
        }
        let (s, bad) = fin
            .post(
                "/app/finance/accounts",
                &[
                    ("name", "美元"),
                    ("purpose", "wallet"),
                    ("currency", "RMB1"),
                ],
            )
            .await;
        assert_eq!(s, 422);
        assert!(
            bad.contains("class=\"flash error\"")
                && bad.contains("value=\"美元\"")
                && bad.contains("not a currency code"),
            "{bad}"
        );
        let (_, page) = fin.get("/app/finance").await;
        let ids = account_ids(&page);
        assert_eq!(ids.len(), 2, "{page}");
        let (bank, wallet) = (ids[0].clone(), ids[1].clone());

        // Money in from the bank, as a person writes it.
        let (s, r) = fin
            .post(
                "/app/finance/transfers",
                &[
                    ("from", bank.as_str()),
                    ("to", wallet.as_str()),
                    ("amount", "1200.5"),
                    ("description", "开户存款"),
                ],
            )
            .await;
        assert_eq!(s, 303, "{r}");
        // More out than in, and an amount with too many decimals: said, nothing moved.
        let (s, bad) = fin
            .post(
                "/app/finance/transfers",
                &[
                    ("from", wallet.as_str()),
                    ("to", bank.as_str()),
                    ("amount", "2000"),
                    ("description", "太多"),
                ],
            )
            .await;
        assert_eq!(s, 409);
        assert!(
            bad.contains("Not enough money in the account") && bad.contains("value=\"太多\""),
            "{bad}"
        );
        let (s, bad) = fin
            .post(
                "/app/finance/transfers",
                &[
                    ("from", wallet.as_str()),
                    ("to", bank.as_str()),
                    ("amount", "12.345"),
                ],
            )
            .await;
        assert_eq!(s, 422);
        assert!(bad.contains("not an amount in this currency"), "{bad}");
        let (s, r) = fin
            .post(
                "/app/finance/transfers",
                &[
                    ("from", wallet.as_str()),
                    ("to", bank.as_str()),
                    ("amount", "200"),
                    ("description", "退回银行"),
                    ("key", "form-twice"),
                ],
            )
            .await;
        assert_eq!(s, 303, "{r}");
        // The same form sent twice (its key) moves the money once.
        let twice = [
            ("from", wallet.as_str()),
            ("to", bank.as_str()),
            ("amount", "200"),
            ("description", "退回银行"),
            ("key", "form-twice"),
        ];
        let (s, r) = fin.post("/app/finance/transfers", &twice).await;
        assert_eq!(s, 303, "{r}");
        let (_, page) = fin.get("/app/finance").await;
        assert!(page.contains("data-testid=\"books-ok\""), "{page}");
        let listed = text(&page);
        assert!(
            listed.contains("上海银行 Settlement (bank) -1,000.50")
                && listed.contains("钱包一号 Wallet 1,000.50 0.00 1,000.50 CNY"),
            "{listed}"
        );

        // The wallet's statement: newest first, each line with the balance after it.
        let (s, page) = fin.get(&format!("/app/finance/accounts/{wallet}")).await;
        assert_eq!(s, 200);
        let lines = text(&page);
        let back = lines
            .find("退回银行 -200.00 1,000.50")
            .unwrap_or_else(|| panic!("{lines}"));
        let first = lines
            .find("开户存款 1,200.50 1,200.50")
            .unwrap_or_else(|| panic!("{lines}"));
        assert!(back < first, "newest first: {lines}");
        assert!(page.contains(&format!(
            "/api/v1/ledger/accounts/{wallet}/statement?format=csv"
        )));

        // An artist has no finance pages; another organisation finds no account.
        let li = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let (s, refused) = li.get("/app/finance").await;
        assert_eq!(s, 403);
        assert!(
            !refused.contains("href=\"/app/finance\""),
            "not in the artist's navigation"
        );
        assert_eq!(
            li.post(
                "/app/finance/transfers",
                &[
                    ("from", wallet.as_str()),
                    ("to", bank.as_str()),
                    ("amount", "1")
                ]
            )
            .await
            .0,
            403
        );
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        assert_eq!(
            bravo
                .get(&format!("/app/finance/accounts/{wallet}"))
                .await
                .0,
            404
        );
        let (s, _) = bravo
            .post(
                "/app/finance/transfers",
                &[
                    ("from", wallet.as_str()),
                    ("to", bank.as_str()),
                    ("amount", "1"),
                ],
            )
            .await;
        assert_eq!(s, 404);

        // In Chinese, with none of the English texts.
        assert_eq!(
            fin.post("/app/language", &[("locale", "zh-CN")]).await.0,
            303
        );
        let english = finance_texts();
        assert!(english.len() >= 30, "{english:?}");
        for url in [
            "/app/finance".to_string(),
            format!("/app/finance/accounts/{wallet}"),
        ] {
            let (_, zh) = fin.get(&url).await;
            assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("财务"), "{zh}");
            let seen = text(&zh);
            for value in &english {
                for part in value.split(['{', '}']).step_by(2).map(str::trim) {
                    assert!(
                        part.len() < 4 || !seen.contains(part),
                        "{url}: {part} in English: {seen}"
                    );
                }
            }
        }
    })
    .await;
}
