//! Work orders' money through `kill -9`: many orders at once, each awarded in milestones whose
//! price is held, delivered, sent back, accepted (paid), disputed and withdrawn, or cancelled
//! (refunded), by clients that ask again whatever went unanswered, against the real binary
//! killed at random moments and started again. At the end every order is complete or called
//! off, every milestone's pending transfer stands as the milestone says (paid: posted;
//! refunded: voided; none left held), each milestone held exactly once, the wallets hold what
//! the accepted milestones say, and the ledger's invariant checker finds nothing. The seed is
//! printed first: `MSTATION_SIM_SEED=n` makes the same choices again. Runs on SQLite and
//! PostgreSQL.

// Amounts are written as money is: `1_000_00` is 1,000.00 in minor units.
#![allow(clippy::inconsistent_digit_grouping)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::*;

/// Clients at once, each taking its orders one after another.
const CLIENTS: usize = 6;
const ORDERS: usize = 20;
/// At most this many kills.
const CRASHES: usize = 20;
/// The production's wallet at the start, in fen: enough for every order at once.
const START: i64 = 10_000_000_00;

#[derive(Clone)]
struct Server {
    http: reqwest::Client,
    base: String,
}

impl Server {
    /// `method path` as `token`, asked again until the server answers (it was killed and is
    /// coming back): its status and body.
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        loop {
            let mut r = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(token)
                .timeout(Duration::from_secs(30));
            if let Some(b) = body {
                r = r.json(b);
            }
            if let Ok(r) = r.send().await
                && r.status().as_u16() != 503
            {
                let s = r.status().as_u16();
                // Every answer here has a body: one cut off by a kill is no answer.
                if let Ok(v) = r.json::<Value>().await {
                    return (s, v);
                }
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
    async fn get(&self, token: &str, path: &str) -> Value {
        let (s, v) = self.call(token, reqwest::Method::GET, path, None).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }
    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(token, reqwest::Method::POST, path, Some(&body))
            .await
    }
}

fn owner(dir: &Path, pg: Option<&str>, slug: &str, kind: &str) -> String {
    owner_on(
        dir,
        pg,
        slug,
        &format!("owner@{slug}.example"),
        kind,
        "read,write,admin",
    )
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// A step answered: done, or refused by a rule of the order as it now stands (a step asked
/// again after a crash may find it taken already, a payment meets a dispute). Anything else,
/// a step taken by the wrong side among them, fails the run.
fn answered(seed: u64, what: &str, s: u16, v: &Value) {
    const AS_IT_STANDS: [&str; 7] = [
        "orders.not_open",
        "orders.not_awarded",
        "orders.not_delivered",
        "orders.milestone_closed",
        "orders.disputed",
        "orders.no_dispute",
        "orders.awaiting_review",
    ];
    let as_it_stands = v["code"]
        .as_str()
        .is_some_and(|c| AS_IT_STANDS.contains(&c));
    assert!(
        s == 200 || s == 201 || (s == 409 && as_it_stands),
        "seed {seed}: {what}: {s} {v}"
    );
}

/// A client's orders, one after another: each posted, bid for and lived to its end. Answers
/// each order's id and price.
async fn client(
    srv: Server,
    seed: u64,
    c: usize,
    who: (String, String, String),
    vendor_org: String,
    project: String,
) -> Vec<(String, i64)> {
    let (prod, vendor) = (&who.0, &who.1);
    let mut done = Vec::new();
    for k in 0..ORDERS {
        let n = c * ORDERS + k;
        let (s, o) = srv
            .post(
                prod,
                "/api/v1/work-orders",
                json!({"project_id": project, "title": format!("Order {n}"), "currency": "CNY",
                "budget_min": 1, "budget_max": 10_000_000, "due_on": "2027-06-30"}),
            )
            .await;
        assert_eq!(s, 201, "seed {seed}: {o}");
        let oid = id(&o);
        let (s, v) = srv
            .post(
                prod,
                &format!("/api/v1/work-orders/{oid}/publish"),
                json!({"audience": "invited", "invite": [vendor_org]}),
            )
            .await;
        assert_eq!(s, 200, "seed {seed}: {v}");
        let price = 1_000_00 + 37_00 * n as i64;
        let (s, b) = srv
            .post(
                vendor,
                &format!("/api/v1/work-orders/{oid}/bids"),
                json!({"price": price, "days": 10}),
            )
            .await;
        assert_eq!(s, 201, "seed {seed}: {b}");
        live(&srv, seed, n, &who, &oid, &id(&b), price).await;
        done.push((oid, price));
    }
    done
}

/// One order's life, chosen by the seed, until it is complete or called off.
async fn live(
    srv: &Server,
    seed: u64,
    n: usize,
    who: &(String, String, String),
    oid: &str,
    bid: &str,
    price: i64,
) {
    let (prod, vendor, op) = (who.0.as_str(), who.1.as_str(), who.2.as_str());
    let mut rng = Rng(seed ^ (n as u64).wrapping_mul(0x5851_f42d_4c95_7f2d));
    let path = format!("/api/v1/work-orders/{oid}");
    for _ in 0..200 {
        let o = srv.get(prod, &path).await;
        let state = o["state"].as_str().unwrap().to_string();
        match state.as_str() {
            "completed" | "cancelled" => return,
            "open" => {
                // Two or three milestones that make the price, or one.
                let parts = 1 + rng.below(3) as i64;
                let each = price / parts;
                let milestones: Vec<Value> = (0..parts)
                    .map(|i| json!({"title": format!("Part {}", i + 1), "amount": if i == parts - 1 { price - each * (parts - 1) } else { each }}))
                    .collect();
                let (s, v) = srv
                    .post(
                        prod,
                        &format!("{path}/award"),
                        json!({"bid_id": bid, "price": price, "milestones": milestones}),
                    )
                    .await;
                answered(seed, "award", s, &v);
            }
            "awarded" => {
                let disputed = !o["dispute"].is_null();
                let ms = o["milestones"].as_array().unwrap();
                let delivered = ms.iter().find(|m| m["state"] == "delivered").map(id);
                let to_deliver = ms
                    .iter()
                    .find(|m| m["state"] == "held" || m["state"] == "changes_requested")
                    .map(id);
                let roll = rng.below(100);
                let (who, what, body): (&str, String, Value) = if disputed {
                    // Only the vendor opens disputes here: it withdraws it, the operator rules
                    // (paying or refunding what is held), or the production tries to pay or
                    // call off meanwhile (refused while it stands).
                    if roll < 40 {
                        (vendor, "dispute/withdraw".into(), Value::Null)
                    } else if roll < 65 {
                        let outcome = if roll.is_multiple_of(2) {
                            "release"
                        } else {
                            "refund"
                        };
                        let body = json!({"outcome": outcome, "note": "As the delivery log shows"});
                        (op, "ruling".into(), body)
                    } else if let Some(m) = &delivered {
                        (prod, format!("milestones/{m}/accept"), json!({}))
                    } else {
                        (prod, "cancel".into(), json!({}))
                    }
                } else if let Some(m) = delivered {
                    match roll {
                        0..60 => (prod, format!("milestones/{m}/accept"), json!({})),
                        60..85 => (
                            prod,
                            format!("milestones/{m}/changes"),
                            json!({"note": "Again, tighter"}),
                        ),
                        _ => (
                            vendor,
                            "dispute".into(),
                            json!({"note": "The notes exceed the brief"}),
                        ),
                    }
                } else if let Some(m) = to_deliver {
                    match roll {
                        0..90 => (
                            vendor,
                            format!("milestones/{m}/deliver"),
                            json!({"note": "v00x"}),
                        ),
                        _ => (prod, "cancel".into(), json!({})),
                    }
                } else {
                    continue;
                };
                let (s, v) = if what == "dispute/withdraw" {
                    srv.call(
                        who,
                        reqwest::Method::DELETE,
                        &format!("{path}/dispute"),
                        None,
                    )
                    .await
                } else {
                    srv.post(who, &format!("{path}/{what}"), body).await
                };
                answered(seed, &what, s, &v);
            }
            other => panic!("seed {seed}: order {n} is {other}"),
        }
    }
    panic!("seed {seed}: order {n} never ended");
}

async fn story(pg: Option<String>) {
    mstation_server::init_tls();
    let seed = std::env::var("MSTATION_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::now_v7().as_u128() as u64);
    eprintln!(
        "the work orders' crash story's seed: {seed} (MSTATION_SIM_SEED={seed} runs it again)"
    );
    let dir =
        std::env::temp_dir().join(format!("mstation-orders-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = pg.as_deref();
    let op = owner(&dir, pg, "m-station", "platform_operator");
    let prod = owner(&dir, pg, "alpha-films", "production_company");
    let vendor = owner(&dir, pg, "harbour-vfx", "post_house");
    let port = free_port();
    let srv = Server {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut server = serve(&dir, pg, port);
    wait_ready(&srv.base).await;

    let prod_org = id(&srv.get(&prod, "/api/v1/org").await);
    let vendor_org = id(&srv.get(&vendor, "/api/v1/org").await);
    let (s, v) = srv
        .post(&op, "/api/v1/market/wallets/credit", json!({"org_id": prod_org, "currency": "CNY", "amount": "10000000.00", "reference": "deposit", "key": "deposit"}))
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, project) = srv
        .post(&prod, "/api/v1/projects", json!({"name": "Alpha Feature", "code": "ALPHA", "fps": "24", "width": 1920, "height": 1080}))
        .await;
    assert_eq!(s, 201, "{project}");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            tokio::spawn(client(
                srv.clone(),
                seed,
                c,
                (prod.clone(), vendor.clone(), op.clone()),
                vendor_org.clone(),
                id(&project),
            ))
        })
        .collect();
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut crashes = 0;
    // Killed again and again while the clients are at work, to their end.
    while crashes < CRASHES {
        tokio::time::sleep(Duration::from_millis(40 + rng.below(120))).await;
        if clients.iter().all(|c| c.is_finished()) {
            break;
        }
        server.kill().unwrap();
        server.wait().unwrap();
        crashes += 1;
        tokio::time::sleep(Duration::from_millis(rng.below(200))).await;
        server = serve(&dir, pg, port);
        wait_ready(&srv.base).await;
    }
    let mut orders = Vec::new();
    for c in clients {
        orders.extend(
            c.await
                .expect("a client failed: its message above names the seed"),
        );
    }
    eprintln!(
        "{} orders ended in {:.1} s through {crashes} crashes",
        orders.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        crashes >= 3,
        "seed {seed}: the server was killed at work only {crashes} times"
    );

    // Every milestone's transfer stands as the milestone says; nothing is held.
    let mut paid = 0;
    let mut milestones = 0;
    for (oid, price) in &orders {
        let o = srv.get(&prod, &format!("/api/v1/work-orders/{oid}")).await;
        let ms = o["milestones"].as_array().unwrap();
        assert!(
            matches!(o["state"].as_str(), Some("completed" | "cancelled")),
            "seed {seed}: {o}"
        );
        assert_eq!(
            ms.iter()
                .map(|m| m["amount"].as_i64().unwrap())
                .sum::<i64>(),
            *price,
            "seed {seed}: {o}"
        );
        let mut accepted = 0;
        for m in ms {
            milestones += 1;
            let t = srv
                .get(
                    &op,
                    &format!(
                        "/api/v1/ledger/transfers/{}",
                        m["transfer_id"].as_str().unwrap()
                    ),
                )
                .await;
            let want = match m["state"].as_str() {
                Some("accepted") => "posted",
                Some("refunded") => "voided",
                other => panic!("seed {seed}: a milestone left {other:?}: {o}"),
            };
            assert_eq!(
                t["state"].as_str(),
                Some(want),
                "seed {seed}: {m} and its transfer {t}"
            );
            assert_eq!(t["amount"], m["amount"], "seed {seed}: {t}");
            if want == "posted" {
                accepted += 1;
                paid += m["amount"].as_i64().unwrap();
            }
        }
        // Complete when every milestone was accepted; called off otherwise.
        assert_eq!(
            o["state"] == "completed",
            !ms.is_empty() && accepted == ms.len(),
            "seed {seed}: {o}"
        );
    }
    let wallet = |t: String| {
        let srv = srv.clone();
        async move {
            let v = srv.get(&t, "/api/v1/market/wallets").await;
            let a = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["purpose"] == "wallet")
                .cloned()
                .unwrap_or(Value::Null);
            (
                a["posted"].as_i64().unwrap_or(0),
                a["available"].as_i64().unwrap_or(0),
            )
        }
    };
    assert_eq!(
        wallet(prod.clone()).await,
        (START - paid, START - paid),
        "seed {seed}"
    );
    assert_eq!(wallet(vendor.clone()).await, (paid, paid), "seed {seed}");
    // Each milestone was held once: the production's wallet shows one pending transfer each.
    let accounts = srv.get(&op, "/api/v1/ledger/accounts").await;
    let account = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["name"]
                .as_str()
                .is_some_and(|n| n.contains("alpha-films"))
                && a["purpose"] == "wallet"
        })
        .map(id)
        .expect("the production's wallet");
    // Every line of its statement, a page at a time.
    let mut held = 0;
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor
            .as_ref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let page = srv
            .get(
                &op,
                &format!("/api/v1/ledger/accounts/{account}/statement?limit=500{after}"),
            )
            .await;
        held += page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["kind"] == "pending")
            .count();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        held, milestones,
        "seed {seed}: pending transfers of the production's wallet"
    );
    drop(server);

    let store = match pg {
        Some(url) => mstation_store::Store::open(url).await,
        None => mstation_store::Store::open_sqlite(&dir.join("mstation.db")).await,
    }
    .unwrap();
    let broken = store.platform().ledger_check().await.unwrap();
    assert!(broken.is_empty(), "seed {seed}: {broken:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn work_orders_hold_pay_and_refund_exactly_through_kill_9() {
    story(None).await;
    if let Some(url) = pg_database().await {
        story(Some(url)).await;
    }
}
