//! A seeded simulation of the market and its ledger in the spirit of TigerBeetle's VOPR: a
//! reference model in plain Rust, and thousands of random purchases, refunds and pending
//! transfers (posted in full or in part, voided, or left to expire by the server's clock) made
//! by concurrent clients against the real binary, which is killed (`kill -9`) at random moments
//! and started again; then the month's payouts. A client that hears no answer asks again once
//! the server is back, with the same key, and takes that answer. Every answer is checked against
//! the model as it comes (a purchase the buyer's wallet could not pay for, a refusal it could
//! have paid, a refund of a licence refunded before, fail the run); at the end the server agrees
//! with the model account by account, every acknowledged purchase is there exactly once and no
//! other, no two licences of the exclusive offer ever stood at once, and the ledger's invariant
//! checker finds nothing. The seed is printed first: `MSTATION_SIM_SEED=n` runs the same
//! choices and the same crash schedule again (the interleaving of the clients is the machine's).
//! Runs on SQLite and PostgreSQL.

// Amounts are written as money is: `300_00` is 300.00 in minor units.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::*;

const BUYERS: usize = 8;
const BUYER_OPS: usize = 400;
const OPERATOR_OPS: usize = 600;
const CRASHES: usize = 8;
/// Every buyer's market wallet at the start, in fen.
const START: i64 = 300_00;
const SHARE_BP: i64 = 7_000;

/// The server as the clients reach it: its address, and whether it is up (a client that hears
/// nothing waits for it).
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
    ) -> (u16, Value, bool) {
        let mut retried = false;
        loop {
            let mut r = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(token)
                .timeout(Duration::from_secs(30));
            if let Some(b) = body {
                r = r.json(b);
            }
            match r.send().await {
                Ok(r) if r.status().as_u16() != 503 => {
                    let s = r.status().as_u16();
                    return (s, r.json().await.unwrap_or(Value::Null), retried);
                }
                // No answer, or one from a server still starting: the same question again.
                _ => {
                    retried = true;
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
            }
        }
    }
}

/// An offer as the model knows it.
#[derive(Clone, Debug)]
struct Offer {
    id: String,
    price: i64,
    seller: usize,
    exclusive: bool,
}

/// A licence the model holds.
#[derive(Clone, Debug)]
struct Licence {
    buyer: usize,
    offer: usize,
    key: String,
    refunded: bool,
}

/// The reference model: what every account must hold, from the answers acknowledged.
#[derive(Default)]
struct Model {
    wallets: Vec<i64>,
    owed: Vec<i64>,
    fees: i64,
    licences: BTreeMap<String, Licence>,
    /// Pending transfers of the operator's: id → (amount, expires at by this clock, state).
    pending: HashMap<String, (i64, Instant, &'static str)>,
    escrow_posted: i64,
    /// Operations acknowledged, of each kind.
    counts: BTreeMap<&'static str, usize>,
}

impl Model {
    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// The owner of a new organisation `slug` of `kind`, through `mstation admin`: a token of theirs.
fn owner(dir: &Path, pg: Option<&str>, slug: &str, kind: &str) -> String {
    let email = format!("owner@{slug}.example");
    owner_on(dir, pg, slug, &email, kind, "read,write,admin")
}

/// Uploads `bytes` as `name` and lists it with `offers`, on sale: the offers' ids.
async fn list(
    srv: &Server,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    offers: &[Value],
) -> (String, Vec<String>) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let r = srv
        .http
        .post(format!("{}/files", srv.base))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header(
            "Upload-Metadata",
            format!("filename {},filetype {}", b64(name), b64("audio/wav")),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (_, files, _) = srv
        .call(token, reqwest::Method::GET, "/api/v1/media?limit=100", None)
        .await;
    let file = files["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map(id)
        .unwrap();
    let body = json!({"media_file_id": file, "category": "sound_effect", "title_en": name, "title_zh": "音效"});
    let (s, l, _) = srv
        .call(
            token,
            reqwest::Method::POST,
            "/api/v1/market/listings",
            Some(&body),
        )
        .await;
    assert_eq!(s, 201, "{l}");
    let listing = id(&l);
    let mut ids = Vec::new();
    for o in offers {
        let (s, v, _) = srv
            .call(
                token,
                reqwest::Method::POST,
                &format!("/api/v1/market/listings/{listing}/offers"),
                Some(o),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        ids.push(id(&v));
    }
    let (s, v, _) = srv
        .call(
            token,
            reqwest::Method::POST,
            &format!("/api/v1/market/listings/{listing}/publish"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (listing, ids)
}

/// One buyer's client: purchases and refunds, one at a time, each answer checked against the
/// model.
async fn buyer(
    srv: Server,
    token: String,
    me: usize,
    seed: u64,
    offers: Vec<Offer>,
    model: Arc<Mutex<Model>>,
) {
    let mut rng = Rng(seed ^ (0x1000 + me as u64));
    let mine = |m: &Model| -> Vec<String> {
        m.licences
            .iter()
            .filter(|(_, l)| l.buyer == me && !l.refunded)
            .map(|(k, _)| k.clone())
            .collect()
    };
    for n in 0..BUYER_OPS {
        let own = mine(&model.lock().unwrap());
        if !own.is_empty() && rng.chance(30) {
            let licence = own[rng.below(own.len() as u64) as usize].clone();
            let path = format!("/api/v1/market/licences/{licence}/refund");
            let (s, v, retried) = srv
                .call(&token, reqwest::Method::POST, &path, Some(&json!({})))
                .await;
            let refunded = match (s, v["code"].as_str()) {
                (200, _) => true,
                // Its first answer was lost: the refund was made then.
                (409, Some("market.refund_closed")) if retried => {
                    let (_, l, _) = srv
                        .call(
                            &token,
                            reqwest::Method::GET,
                            &format!("/api/v1/market/licences/{licence}"),
                            None,
                        )
                        .await;
                    assert_eq!(
                        l["state"], "refunded",
                        "seed {seed}: refund of {licence} answered {v} and left {l}"
                    );
                    true
                }
                _ => panic!("seed {seed}: buyer {me}'s refund of {licence} answered {s} {v}"),
            };
            assert!(refunded);
            let mut m = model.lock().unwrap();
            let l = m.licences.get_mut(&licence).unwrap();
            assert!(!l.refunded, "seed {seed}: {licence} refunded twice");
            l.refunded = true;
            let o = &offers[l.offer];
            let (contributor, fee) = mstation_core::market::split(o.price, SHARE_BP);
            m.wallets[me] += o.price;
            m.owed[o.seller] -= contributor;
            m.fees -= fee;
            m.count("refund");
            continue;
        }
        let which = rng.below(offers.len() as u64) as usize;
        let o = &offers[which];
        let key = format!("sim-{seed}-{me}-{n}");
        let body = json!({"offer_id": o.id, "key": key});
        let (s, v, retried) = srv
            .call(
                &token,
                reqwest::Method::POST,
                "/api/v1/market/checkout",
                Some(&body),
            )
            .await;
        let mut m = model.lock().unwrap();
        if retried {
            m.count("asked again after a crash");
        }
        let affordable = m.wallets[me] >= o.price;
        match (s, v["code"].as_str()) {
            (201, _) => {
                assert!(
                    affordable,
                    "seed {seed}: buyer {me} bought {} for {} with {} in its wallet",
                    o.id, o.price, m.wallets[me]
                );
                assert_eq!(
                    (v["offer_id"].as_str(), v["key"].as_str()),
                    (Some(o.id.as_str()), Some(key.as_str())),
                    "seed {seed}: {v}"
                );
                let licence = id(&v);
                assert!(
                    !m.licences.contains_key(&licence),
                    "seed {seed}: licence {licence} granted twice"
                );
                m.licences.insert(
                    licence,
                    Licence {
                        buyer: me,
                        offer: which,
                        key,
                        refunded: false,
                    },
                );
                let (contributor, fee) = mstation_core::market::split(o.price, SHARE_BP);
                m.wallets[me] -= o.price;
                m.owed[o.seller] += contributor;
                m.fees += fee;
                m.count("purchase");
            }
            (409, Some("market.wallet_short")) => {
                assert!(
                    !affordable,
                    "seed {seed}: buyer {me} refused {} at {} with {} in its wallet",
                    o.id, o.price, m.wallets[me]
                );
                m.count("refused: wallet short");
            }
            (409, Some("market.exclusive_taken")) if o.exclusive => {
                m.count("refused: exclusive taken")
            }
            _ => panic!(
                "seed {seed}: buyer {me}'s purchase of {} answered {s} {v}",
                o.id
            ),
        }
    }
}

/// The operator's client: pending transfers from a float into an escrow account of its own
/// books, each posted in full or in part, voided, or left to expire.
async fn operator(
    srv: Server,
    token: String,
    seed: u64,
    float: String,
    escrow: String,
    model: Arc<Mutex<Model>>,
) {
    let mut rng = Rng(seed ^ 0x0f0f);
    let transfers = |t: Value| json!({"transfers": [t]});
    for n in 0..OPERATOR_OPS {
        let open: Vec<(String, i64, Instant)> = model
            .lock()
            .unwrap()
            .pending
            .iter()
            .filter(|(_, p)| p.2 == "pending")
            .map(|(id, p)| (id.clone(), p.0, p.1))
            .collect();
        let key = format!("sim-{seed}-op-{n}");
        if open.is_empty() || rng.chance(45) {
            let amount = 1 + rng.below(500) as i64;
            let timeout = 1 + rng.below(3) as i64;
            let asked = Instant::now();
            let t = json!({"key": key, "kind": "pending", "debit_account_id": float, "credit_account_id": escrow,
                           "amount": amount, "timeout_seconds": timeout, "description": "held"});
            let (s, v, _) = srv
                .call(
                    &token,
                    reqwest::Method::POST,
                    "/api/v1/ledger/transfers",
                    Some(&transfers(t)),
                )
                .await;
            assert_eq!(s, 201, "seed {seed}: a pending transfer answered {v}");
            let mut m = model.lock().unwrap();
            m.pending.insert(
                id(&v["items"][0]),
                (
                    amount,
                    asked + Duration::from_secs(timeout as u64),
                    "pending",
                ),
            );
            m.count("pending transfer");
            continue;
        }
        let (pending, amount, expires) = open[rng.below(open.len() as u64) as usize].clone();
        let (kind, part) = match rng.below(3) {
            0 => ("post", None),
            1 => ("post", Some(1 + rng.below(amount as u64) as i64)),
            _ => ("void", None),
        };
        let mut t = json!({"key": key, "kind": kind, "pending_id": pending, "description": kind});
        if let Some(a) = part {
            t["amount"] = json!(a);
        }
        let (s, v, retried) = srv
            .call(
                &token,
                reqwest::Method::POST,
                "/api/v1/ledger/transfers",
                Some(&transfers(t)),
            )
            .await;
        let mut m = model.lock().unwrap();
        if retried {
            m.count("asked again after a crash");
        }
        let entry = m.pending.get_mut(&pending).unwrap();
        match (s, v["code"].as_str()) {
            (201, _) => {
                entry.2 = if kind == "post" { "posted" } else { "voided" };
                if kind == "post" {
                    m.escrow_posted += part.unwrap_or(amount);
                }
                m.count(if kind == "post" { "post" } else { "void" });
            }
            // Its time ran out first: the server expired it, by its clock (which may run a
            // little ahead of this one's reading of when it was asked for).
            (409, Some("ledger.pending_closed")) => {
                assert!(
                    Instant::now() + Duration::from_millis(1500) >= expires,
                    "seed {seed}: {pending} closed {:?} before its time",
                    expires.saturating_duration_since(Instant::now())
                );
                entry.2 = "expired";
                m.count("refused: expired");
            }
            _ => panic!("seed {seed}: a {kind} of {pending} answered {s} {v}"),
        }
    }
}

async fn simulate(pg: Option<String>) {
    mstation_server::init_tls();
    let seed = std::env::var("MSTATION_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::now_v7().as_u128() as u64);
    eprintln!("the market simulation's seed: {seed} (MSTATION_SIM_SEED={seed} runs it again)");
    let dir = std::env::temp_dir().join(format!("mstation-sim-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = pg.as_deref();
    let op = owner(&dir, pg, "m-station", "platform_operator");
    let sellers = [
        owner(&dir, pg, "harbour-stock", "post_house"),
        owner(&dir, pg, "delta-sound", "post_house"),
    ];
    let buyers: Vec<String> = (0..BUYERS)
        .map(|i| owner(&dir, pg, &format!("buyer-{i}"), "production_company"))
        .collect();

    let port = free_port();
    let srv = Server {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut server = serve(&dir, pg, port);
    wait_ready(&srv.base).await;

    // Four offers on three listings: two royalty-free on one, one on another, and an exclusive
    // rights-managed offer alone on the third (no other licence stands in its way).
    let rf = |price: &str| json!({"kind": "rf_standard", "price": price, "currency": "CNY"});
    let (_, a_offers) = list(
        &srv,
        &sellers[0],
        "rain.wav",
        vec![1; 300],
        &[
            rf("7.00"),
            json!({"kind": "rf_extended", "price": "12.00", "currency": "CNY"}),
        ],
    )
    .await;
    let (_, b_offers) = list(
        &srv,
        &sellers[1],
        "thunder.wav",
        vec![2; 300],
        &[rf("10.00")],
    )
    .await;
    let exclusive = json!({"kind": "rights_managed", "price": "50.00", "currency": "CNY", "media": "broadcast",
                           "territory": "CN", "starts_on": "2027-01-01", "ends_on": "2027-12-31", "exclusive": true});
    let (_, c_offers) = list(&srv, &sellers[0], "wind.wav", vec![3; 300], &[exclusive]).await;
    let offers = vec![
        Offer {
            id: a_offers[0].clone(),
            price: 7_00,
            seller: 0,
            exclusive: false,
        },
        Offer {
            id: a_offers[1].clone(),
            price: 12_00,
            seller: 0,
            exclusive: false,
        },
        Offer {
            id: b_offers[0].clone(),
            price: 10_00,
            seller: 1,
            exclusive: false,
        },
        Offer {
            id: c_offers[0].clone(),
            price: 50_00,
            seller: 0,
            exclusive: true,
        },
    ];
    for (i, t) in buyers.iter().enumerate() {
        let (_, org, _) = srv.call(t, reqwest::Method::GET, "/api/v1/org", None).await;
        let body = json!({"org_id": org["id"], "currency": "CNY", "amount": "300.00", "reference": format!("deposit {i}"), "key": format!("deposit-{i}")});
        let (s, v, _) = srv
            .call(
                &op,
                reqwest::Method::POST,
                "/api/v1/market/wallets/credit",
                Some(&body),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let account =
        |name: &str, purpose: &str| json!({"name": name, "purpose": purpose, "currency": "CNY"});
    let (_, float, _) = srv
        .call(
            &op,
            reqwest::Method::POST,
            "/api/v1/ledger/accounts",
            Some(&account("Simulation float", "settlement")),
        )
        .await;
    let (_, escrow, _) = srv
        .call(
            &op,
            reqwest::Method::POST,
            "/api/v1/ledger/accounts",
            Some(&account("Simulation escrow", "escrow")),
        )
        .await;
    let (float, escrow) = (id(&float), id(&escrow));

    let model = Arc::new(Mutex::new(Model {
        wallets: vec![START; BUYERS],
        owed: vec![0; 2],
        ..Model::default()
    }));
    let mut clients = Vec::new();
    for (i, t) in buyers.iter().enumerate() {
        clients.push(tokio::spawn(buyer(
            srv.clone(),
            t.clone(),
            i,
            seed,
            offers.clone(),
            model.clone(),
        )));
    }
    clients.push(tokio::spawn(operator(
        srv.clone(),
        op.clone(),
        seed,
        float.clone(),
        escrow.clone(),
        model.clone(),
    )));

    // The crashes: kill -9 at moments the seed chooses, while the clients are at work.
    let mut rng = Rng(seed);
    let started = Instant::now();
    for _ in 0..CRASHES {
        tokio::time::sleep(Duration::from_millis(60 + rng.below(300))).await;
        if clients.iter().all(|c| c.is_finished()) {
            break;
        }
        server.kill().unwrap();
        server.wait().unwrap();
        model.lock().unwrap().count("crash");
        tokio::time::sleep(Duration::from_millis(rng.below(200))).await;
        server = serve(&dir, pg, port);
        wait_ready(&srv.base).await;
    }
    for c in clients {
        c.await
            .expect("a client failed: its message above names the seed");
    }
    eprintln!(
        "simulated for {:.1} s: {:?}",
        started.elapsed().as_secs_f64(),
        model.lock().unwrap().counts
    );

    // Every pending transfer left open expires by the server's clock (its reaper looks every 2 s).
    tokio::time::sleep(Duration::from_secs(6)).await;

    // The server agrees with the model, account by account.
    let mut m = std::mem::take(&mut *model.lock().unwrap());
    assert!(
        m.counts.get("crash").copied().unwrap_or(0) >= 3,
        "seed {seed}: the server was killed at work {:?}",
        m.counts
    );
    let held = |token: &str| {
        let (srv, token) = (srv.clone(), token.to_string());
        async move {
            let (_, v, _) = srv
                .call(&token, reqwest::Method::GET, "/api/v1/market/wallets", None)
                .await;
            let of = |p: &str| {
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["purpose"] == p)
                    .map_or(0, |a| a["posted"].as_i64().unwrap())
            };
            (of("wallet"), of("royalties_payable"))
        }
    };
    let mut all = Vec::new();
    for (i, t) in buyers.iter().enumerate() {
        assert_eq!(
            held(t).await.0,
            m.wallets[i],
            "seed {seed}: buyer {i}'s wallet"
        );
        // Its licences: each acknowledged purchase once, as the model has it, and no other.
        let mut theirs: HashMap<String, Value> = HashMap::new();
        let mut cursor = String::new();
        loop {
            let path = format!("/api/v1/market/licences?limit=500&cursor={cursor}");
            let (_, page, _) = srv.call(t, reqwest::Method::GET, &path, None).await;
            for l in page["items"].as_array().unwrap() {
                assert!(
                    theirs.insert(id(l), l.clone()).is_none(),
                    "seed {seed}: a licence listed twice"
                );
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        let expected: Vec<(&String, &Licence)> =
            m.licences.iter().filter(|(_, l)| l.buyer == i).collect();
        assert_eq!(
            theirs.len(),
            expected.len(),
            "seed {seed}: buyer {i}'s licences"
        );
        for (licence, l) in expected {
            let got = &theirs[licence];
            assert_eq!(got["key"].as_str(), Some(l.key.as_str()), "seed {seed}");
            assert_eq!(
                got["state"],
                if l.refunded { "refunded" } else { "active" },
                "seed {seed}: {licence}"
            );
        }
        let keys: HashSet<&str> = theirs
            .values()
            .map(|l| l["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), theirs.len(), "seed {seed}: one licence a key");
        all.extend(theirs.into_values());
    }
    // No two licences of the exclusive offer ever stood at once: each was sold after the one
    // before was refunded.
    // Instants are compared as instants: the server writes as few fractional digits as it
    // needs, so ".25Z" is earlier than ".251Z" though it sorts after it as text.
    let instant = |v: &Value| -> jiff::Timestamp {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("seed {seed}: not an instant: {v}"))
    };
    let mut exclusive: Vec<(jiff::Timestamp, Option<jiff::Timestamp>)> = all
        .iter()
        .filter(|l| l["offer_id"] == offers[3].id.as_str())
        .map(|l| {
            (
                instant(&l["created_at"]),
                (!l["refunded_at"].is_null()).then(|| instant(&l["refunded_at"])),
            )
        })
        .collect();
    exclusive.sort();
    for pair in exclusive.windows(2) {
        let ended = pair[0]
            .1
            .unwrap_or_else(|| panic!("seed {seed}: two exclusive licences stand: {exclusive:?}"));
        assert!(
            ended <= pair[1].0,
            "seed {seed}: exclusive licences overlap: {exclusive:?}"
        );
    }
    for (i, t) in sellers.iter().enumerate() {
        assert_eq!(
            held(t).await,
            (0, m.owed[i]),
            "seed {seed}: seller {i}'s royalties"
        );
    }
    let (_, accounts, _) = srv
        .call(
            &op,
            reqwest::Method::GET,
            "/api/v1/ledger/accounts?limit=500",
            None,
        )
        .await;
    let items = accounts["items"].as_array().unwrap().clone();
    let sums = |account: &str| {
        let a = items.iter().find(|a| a["id"] == account).unwrap();
        let n = |f: &str| a[f].as_i64().unwrap();
        (
            n("credits_posted"),
            n("debits_posted"),
            n("credits_pending"),
            n("debits_pending"),
        )
    };
    assert_eq!(
        sums(&escrow),
        (m.escrow_posted, 0, 0, 0),
        "seed {seed}: the escrow account"
    );
    assert_eq!(
        sums(&float),
        (0, m.escrow_posted, 0, 0),
        "seed {seed}: the float account"
    );
    let fees = items
        .iter()
        .filter(|a| a["purpose"] == "platform_fees")
        .map(|a| a["credits_posted"].as_i64().unwrap() - a["debits_posted"].as_i64().unwrap())
        .sum::<i64>();
    assert_eq!(fees, m.fees, "seed {seed}: the platform's fees");
    let (_, me, _) = srv
        .call(&op, reqwest::Method::GET, "/api/v1/me", None)
        .await;
    let (_, op_org, _) = srv
        .call(&op, reqwest::Method::GET, "/api/v1/org", None)
        .await;
    drop(server);

    // The server down, its store read directly: the ledger's invariants hold; then the month's
    // payouts (as of a day no refund can reach its sales) pay every seller what it is owed.
    let store = match pg {
        Some(url) => mstation_store::Store::open(url).await,
        None => mstation_store::Store::open_sqlite(&dir.join("mstation.db")).await,
    }
    .unwrap();
    let broken = store.platform().ledger_check().await.unwrap();
    assert!(broken.is_empty(), "seed {seed}: {broken:?}");
    let scope = mstation_core::TenantScope {
        org_id: op_org["id"].as_str().unwrap().parse().unwrap(),
        user_id: me["user"]["id"]
            .as_str()
            .or(me["id"].as_str())
            .unwrap()
            .parse()
            .unwrap(),
        role: mstation_core::Role::Owner,
        token_scopes: None,
        token_id: None,
    };
    let now = mstation_store::now_ms();
    let later = now + 60 * 86_400_000;
    for month in [day_of(now - 31 * 86_400_000), day_of(now)] {
        let (batch, _) = store
            .tenant(&scope)
            .pay_out(&month[..7], later)
            .await
            .unwrap();
        m.count("payout");
        let _ = batch;
    }
    let broken = store.platform().ledger_check().await.unwrap();
    assert!(
        broken.is_empty(),
        "seed {seed}: after the payouts {broken:?}"
    );
    drop(store);
    let server = serve(&dir, pg, port);
    wait_ready(&srv.base).await;
    for (i, t) in sellers.iter().enumerate() {
        assert_eq!(
            held(t).await,
            (m.owed[i], 0),
            "seed {seed}: seller {i} paid what it was owed"
        );
    }
    // A licence paid out is not refunded.
    if let Some((licence, l)) = m.licences.iter().find(|(_, l)| !l.refunded) {
        let path = format!("/api/v1/market/licences/{licence}/refund");
        let (s, v, _) = srv
            .call(
                &buyers[l.buyer],
                reqwest::Method::POST,
                &path,
                Some(&json!({})),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("market.paid_out")),
            "seed {seed}: {v}"
        );
    }
    eprintln!(
        "seed {seed}: the server agrees with the model: {:?}",
        m.counts
    );
    drop(server);
}

/// `YYYY-MM-DD` of `ms` (UTC).
fn day_of(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_market_agrees_with_its_model_through_thousands_of_operations_and_kill_9() {
    simulate(None).await;
    if let Some(url) = pg_database().await {
        simulate(Some(url)).await;
    }
}
