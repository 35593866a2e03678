//! "My tasks", an artist's landing page: their open work first by due date, the counts, the
//! filters in the address (and kept by "more"), bad filters refused in words, nothing of anyone
//! else's or of another organisation's, where `/app` sends each role, and the Chinese page.

use std::collections::HashMap;

use crate::common::*;
use crate::pages::{Browser, CUT};
use mstation_core::{Role, TokenScope};
use mstation_store::Actor;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// The day `n` days from today in the time zone the people of these tests have (their
/// organisation's, the default), `YYYY-MM-DD`.
fn day(n: i64) -> String {
    let zone = jiff::tz::TimeZone::get(mstation_store::identity::DEFAULT_TIMEZONE).unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone).date();
    today
        .checked_add(jiff::Span::new().days(n))
        .unwrap()
        .to_string()
}

/// A project with one conformed sequence of two shots, as its owner made it.
struct Production {
    id: String,
    shots: Vec<String>,
    types: Vec<String>,
    statuses: HashMap<String, String>,
}

async fn production(srv: &Srv, token: &str, name: &str, code: &str) -> Production {
    let (s, p) = srv
        .post(
            token,
            "/api/v1/projects",
            json!({"name": name, "code": code, "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    let (s, seq) = srv
        .post(
            token,
            &format!("/api/v1/projects/{id}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    assert_eq!(s, 201, "{seq}");
    let seq = seq["id"].as_str().unwrap().to_string();
    let (s, v) = srv
        .post(
            token,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": "cmx3600", "edl": CUT, "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, shots) = srv
        .get(token, &format!("/api/v1/sequences/{seq}/shots"))
        .await;
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{id}/task-types"))
        .await;
    let (_, statuses) = srv
        .get(token, &format!("/api/v1/projects/{id}/statuses"))
        .await;
    Production {
        shots: ids(&shots),
        // The shot steps: six, as a project starts with.
        types: types["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["entity"] == "shot")
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect(),
        statuses: statuses["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["short_name"].as_str().unwrap().to_string(),
                    s["id"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
        id,
    }
}

/// Creates tasks (as the organisation's owner, who may set any status) and answers their ids.
async fn tasks(srv: &Srv, token: &str, tasks: Vec<Value>) -> Vec<String> {
    let (s, v) = srv
        .post(token, "/api/v1/tasks", json!({ "tasks": tasks }))
        .await;
    assert_eq!(s, 201, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// The tasks a page lists, in its order.
fn listed(page: &str) -> Vec<String> {
    page.split("href=\"/app/tasks/")
        .skip(1)
        .filter_map(|s| s.get(..36))
        .map(str::to_string)
        .collect()
}

/// The number on a count tile (`open`, `week`, `overdue`, `finished`).
fn count(page: &str, kind: &str) -> i64 {
    let at = page
        .find(&format!("data-count=\"{kind}\""))
        .unwrap_or_else(|| panic!("no {kind} count: {page}"));
    let rest = &page[at..];
    let from = rest.find("<strong>").unwrap() + "<strong>".len();
    rest[from..from + rest[from..].find('<').unwrap()]
        .parse()
        .unwrap()
}

/// The link of a count tile, as a browser would follow it.
fn tile_link(page: &str, kind: &str) -> String {
    let at = page.find(&format!("data-count=\"{kind}\"")).unwrap();
    let tag = &page[page[..at].rfind('<').unwrap()..at];
    let from = tag.find("href=\"").unwrap() + 6;
    tag[from..from + tag[from..].find('"').unwrap()]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The "more" link, as a browser would follow it.
fn more(page: &str) -> Option<String> {
    let at = page.find("rel=\"next\"")?;
    let tag = &page[page[..at].rfind('<').unwrap()..at];
    let from = tag.find("href=\"").unwrap() + 6;
    Some(
        tag[from..from + tag[from..].find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

/// The table row of task `id`.
fn row<'p>(page: &'p str, id: &str) -> &'p str {
    let at = page
        .find(&format!("href=\"/app/tasks/{id}\""))
        .unwrap_or_else(|| panic!("{id} is not listed"));
    let start = page[..at].rfind("<tr").unwrap();
    &page[start..at + page[at..].find("</tr>").unwrap()]
}

/// The `## My tasks` block of a catalog: (key, value).
fn my_keys(lang: &str) -> Vec<(String, String)> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let block = &text[text.find("\n## My tasks\n").expect("a ## My tasks block")..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The words of a catalog value around its placeables (`{ $value }`).
fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        out.push(rest[..open].to_string());
        rest = &rest[open + rest[open..].find('}').unwrap() + 1..];
    }
    out.push(rest.to_string());
    out.into_iter()
        .map(|w| w.trim().to_string())
        .filter(|w| w.chars().count() >= 2)
        .collect()
}

/// Where `/app` sends a person just signed in: its status and `Location`.
async fn landing(srv: &Srv, email: &str) -> (u16, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{}/signin", srv.base))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "signing in as {email}");
    let r = http.get(format!("{}/app", srv.base)).send().await.unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_tasks_open_first_with_counts_filters_and_only_mine() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let rw = [TokenScope::Read, TokenScope::Write];
        let (li, _) = srv.member(&a, "li.na@alpha.example", Role::Artist, &rw).await;
        let (zhao, _) = srv.member(&a, "zhao.min@alpha.example", Role::Artist, &rw).await;
        // Li works for Bravo too, where they have work of their own.
        srv.store().platform().add_member(&Actor::system(), b.org.id, li.id, Role::Artist).await.unwrap();

        let moon = production(&srv, &a.token, "Moonlight", "MOON").await;
        let harbour = production(&srv, &a.token, "Harbour", "HARB").await;
        let (s, asset) = srv
            .post(&a.token, &format!("/api/v1/projects/{}/assets", harbour.id), json!({"kind": "prop", "name": "Lighthouse"}))
            .await;
        assert_eq!(s, 201, "{asset}");
        let st = |p: &Production, short: &str| p.statuses[short].clone();
        let mine = |p: &Production, on: (&str, Value), ty: usize, status: &str, due: Option<String>, priority: i64| {
            json!({(on.0): on.1, "task_type_id": p.types[ty], "status_id": st(p, status), "assignees": [li.id], "due_date": due, "priority": priority})
        };
        let shot = |p: &Production, i: usize| ("shot_id", json!(p.shots[i]));
        let ids = tasks(
            &srv,
            &a.token,
            vec![
                mine(&moon, shot(&moon, 0), 0, "todo", Some(day(-5)), 0),
                mine(&moon, shot(&moon, 0), 1, "wip", Some(day(0)), 2),
                mine(&moon, shot(&moon, 1), 0, "todo", None, 1),
                mine(&harbour, ("asset_id", asset["id"].clone()), 0, "retake", Some(day(-1)), 0),
                mine(&harbour, shot(&harbour, 0), 1, "wip", Some(day(8)), 0),
                mine(&moon, shot(&moon, 1), 1, "done", Some(day(-3)), 0),
                mine(&harbour, shot(&harbour, 1), 4, "approved", Some(day(-10)), 0),
                // Someone else's, and no one's.
                json!({"shot_id": moon.shots[0], "task_type_id": moon.types[2], "assignees": [zhao.id], "due_date": day(-2)}),
                json!({"shot_id": moon.shots[1], "task_type_id": moon.types[2], "due_date": day(-2)}),
            ],
        )
        .await;
        let [m1, m2, m3, h1, h2, m4, h3, theirs, nobodys]: [&str; 9] =
            ids.iter().map(String::as_str).collect::<Vec<_>>().try_into().unwrap();
        let bravo = production(&srv, &b.token, "Nightfall", "NIGHT").await;
        let b1 = tasks(&srv, &b.token, vec![mine(&bravo, shot(&bravo, 0), 0, "todo", Some(day(-1)), 0)]).await.remove(0);

        let browser = Browser::sign_in(&srv, &li.email, PASSWORD).await;
        let (s, _) = browser.post("/app/switch", &[("org_id", &a.org.id.to_string())]).await;
        assert_eq!(s, 303);
        let get = |path: String| {
            let browser = &browser;
            async move {
                let (s, page) = browser.get(&path).await;
                assert_eq!(s, 200, "{path}: {page}");
                page
            }
        };

        // Open work first by due date (undated last), then finished work; only Li's, only Alpha's.
        let page = get("/app/my-tasks".into()).await;
        let all = [m1, h1, m2, h2, m3, h3, m4];
        assert_eq!(listed(&page), all, "{page}");
        for other in [theirs, nobodys, b1.as_str()] {
            assert!(!page.contains(other), "{other} is not Li's in Alpha");
        }
        assert!(!page.contains("Nightfall"), "no other organisation's project, not even in the filter");
        assert_eq!(
            ["open", "week", "overdue", "finished"].map(|k| count(&page, k)),
            [5, 1, 2, 2],
            "open, due this week, overdue, finished"
        );
        // Each row: the shot or asset linking to its page, the step to the task, the status, the due date
        // (overdue marked on open work only), the priority in words, the project.
        let r = row(&page, h1);
        assert!(r.contains(">Lighthouse</a>") && r.contains("Harbour") && r.contains("Layout") && r.contains(">Retake</span>"), "{r}");
        assert!(r.contains(&day(-1)) && r.contains("class=\"overdue\"") && r.contains(">Normal<"), "{r}");
        let r = row(&page, m2);
        assert!(r.contains(&day(0)) && !r.contains("class=\"overdue\"") && r.contains(">Urgent<") && r.contains("Animation"), "{r}");
        let r = row(&page, m3);
        assert!(r.contains("No due date") && r.contains(">High<"), "{r}");
        let r = row(&page, m4);
        assert!(r.contains(&day(-3)) && !r.contains("class=\"overdue\""), "finished work is never overdue: {r}");
        assert!(page.contains(&format!("<option value=\"{}\"", moon.id)) && page.contains(&format!("<option value=\"{}\"", harbour.id)));
        assert!(!page.contains(&format!("<option value=\"{}\"", bravo.id)));

        // Each filter, alone and together; the counts follow the project.
        let filtered: [(String, Vec<&str>); 11] = [
            ("status=open".into(), vec![m1, h1, m2, h2, m3]),
            ("status=finished".into(), vec![h3, m4]),
            ("status=wip".into(), vec![m2, h2]),
            ("status=retake".into(), vec![h1]),
            ("due=week".into(), vec![m2]),
            ("due=overdue".into(), vec![m1, h1]),
            (format!("project={}", moon.id), vec![m1, m2, m3, m4]),
            (format!("project={}&status=open", harbour.id), vec![h1, h2]),
            (format!("project={}&due=overdue", harbour.id), vec![h1]),
            ("status=&project=".into(), all.to_vec()),
            ("status=finished&due=week".into(), vec![]),
        ];
        for (query, want) in filtered {
            let page = get(format!("/app/my-tasks?{query}")).await;
            assert_eq!(listed(&page), want, "{query}");
            assert!(page.contains(&format!("data-testid=\"total\">{}<", want.len())), "{query}");
        }
        let page = get(format!("/app/my-tasks?project={}", moon.id)).await;
        assert_eq!(["open", "week", "overdue", "finished"].map(|k| count(&page, k)), [3, 1, 1, 1]);
        assert!(page.contains(&format!("<option value=\"{}\" selected>", moon.id)));
        // The counts are links to their filters, which toggle, keeping the others.
        let overdue = tile_link(&page, "overdue");
        assert_eq!(overdue, format!("/app/my-tasks?project={}&due=overdue", moon.id));
        let page = get(overdue).await;
        assert_eq!(listed(&page), [m1]);
        assert!(page.contains("name=\"due\" value=\"overdue\""), "the form keeps the toggle");
        assert_eq!(tile_link(&page, "overdue"), format!("/app/my-tasks?project={}", moon.id), "on, it switches off");
        let page = get("/app/my-tasks?status=finished&due=week".into()).await;
        assert!(page.contains("None of your tasks match these filters."));
        assert!(!page.contains("Nothing is assigned to you."));

        // A filter value the page cannot show is said in words (4xx), with the whole list.
        let elsewhere = format!("project={}", bravo.id);
        for (query, status, said) in [
            ("status=bogus", 400, "bogus"),
            ("status=open&due=tomorrow", 400, "tomorrow"),
            ("project=not-a-project", 400, "not-a-project"),
            (elsewhere.as_str(), 404, bravo.id.as_str()),
            ("cursor=not-a-cursor", 400, "further page"),
        ] {
            let (s, page) = browser.get(&format!("/app/my-tasks?{query}")).await;
            assert_eq!(s, status, "{query}: {page}");
            assert!(page.contains("class=\"flash error\"") && page.contains(said), "{query}: {page}");
            assert!(page.contains("class=\"top\""), "the page keeps its navigation");
            assert_eq!(listed(&page), all, "{query}");
        }

        // In Bravo, Li sees Bravo's work only.
        let (s, _) = browser.post("/app/switch", &[("org_id", &b.org.id.to_string())]).await;
        assert_eq!(s, 303);
        let page = get("/app/my-tasks".into()).await;
        assert_eq!(listed(&page), [b1.as_str()]);
        assert_eq!(["open", "week", "overdue", "finished"].map(|k| count(&page, k)), [1, 0, 1, 0]);
        let (s, _) = browser.get(&format!("/app/my-tasks?project={}", moon.id)).await;
        assert_eq!(s, 404, "Alpha's project is not found from Bravo");
        let (s, _) = browser.post("/app/switch", &[("org_id", &a.org.id.to_string())]).await;
        assert_eq!(s, 303);

        // In Chinese, none of the page's English words.
        let (s, _) = browser.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        // (The forms' random CSRF tokens are no words of the page.)
        let page = crate::pages::without_csrf(&get("/app/my-tasks".into()).await);
        let bad = crate::pages::without_csrf(&browser.get("/app/my-tasks?status=bogus").await.1);
        let zh: HashMap<String, String> = my_keys("zh-CN").into_iter().collect();
        let en = my_keys("en");
        assert_eq!(en.iter().map(|(k, _)| k).collect::<Vec<_>>(), my_keys("zh-CN").iter().map(|(k, _)| k).collect::<Vec<_>>());
        for (key, english) in &en {
            for w in words(english) {
                assert!(!page.contains(&w) && !bad.contains(&w), "{key}: “{w}” on the Chinese page");
            }
        }
        for key in ["my-tasks-open", "my-tasks-due", "my-tasks-overdue", "my-tasks-finished", "my-tasks-subject", "my-tasks-no-due", "my-tasks-priority-urgent"] {
            assert!(page.contains(&zh[key]), "{key} in Chinese");
        }
        for w in words(&zh["my-tasks-bad-filter"]) {
            assert!(bad.contains(&w), "the refusal in Chinese: {w}");
        }
        assert!(page.contains("lang=\"zh-CN\""));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_tasks_more_keeps_the_filters() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (li, _) = srv.member(&a, "li.na@alpha.example", Role::Artist, &[TokenScope::Read]).await;
        let p = production(&srv, &a.token, "Moonlight", "MOON").await;
        let mut new = Vec::new();
        for i in 0..18 {
            let (s, asset) = srv
                .post(&a.token, &format!("/api/v1/projects/{}/assets", p.id), json!({"kind": "prop", "name": format!("Prop {i:02}")}))
                .await;
            assert_eq!(s, 201, "{asset}");
            for ty in &p.types {
                let n = new.len() as i64;
                // Open work due over a week (every tenth undated), and three finished.
                let (status, due) = if n < 105 { ("wip", (n % 10 != 0).then(|| day(n % 7))) } else { ("done", Some(day(-n))) };
                new.push(json!({"asset_id": asset["id"], "task_type_id": ty, "status_id": p.statuses[status], "assignees": [li.id], "due_date": due}));
            }
        }
        let (s, v) = srv.post(&a.token, "/api/v1/tasks", json!({ "tasks": new })).await;
        assert_eq!(s, 201, "{v}");
        // The list's order: open first, by due date (undated last), then by id.
        let mut want: Vec<(bool, String, String)> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let finished = t["status_id"] == json!(p.statuses["done"]);
                (finished, t["due_date"].as_str().unwrap_or("9999-12-31").to_string(), t["id"].as_str().unwrap().to_string())
            })
            .collect();
        want.sort();
        let want: Vec<String> = want.into_iter().map(|w| w.2).collect();

        let browser = Browser::sign_in(&srv, &li.email, PASSWORD).await;
        for (first, kept, n) in [
            ("/app/my-tasks".to_string(), "", 108),
            (format!("/app/my-tasks?status=open&project={}", p.id), "status=open", 105),
        ] {
            let (s, page) = browser.get(&first).await;
            assert_eq!(s, 200);
            let mut seen = listed(&page);
            assert_eq!(seen.len(), 100);
            let next = more(&page).expect("a link to the rest");
            assert!(next.contains(kept) && next.contains("cursor="), "{next}");
            if !kept.is_empty() {
                assert!(next.contains(&format!("project={}", p.id)), "{next}");
            }
            let (s, page) = browser.get(&next).await;
            assert_eq!(s, 200);
            assert!(more(&page).is_none(), "{:?} after {next}", listed(&page).len());
            seen.extend(listed(&page));
            assert_eq!(seen, want[..n], "{first}: one order across the pages, nothing twice");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_tasks_is_where_an_artist_lands() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    for (email, role) in [
        ("li.na@alpha.example", Role::Artist),
        ("chen.jing@alpha.example", Role::Producer),
        ("zhang.wei@alpha.example", Role::Coordinator),
        ("client@alpha.example", Role::Client),
    ] {
        srv.member(&a, email, role, &[TokenScope::Read]).await;
    }
    assert_eq!(
        landing(&srv, "li.na@alpha.example").await,
        (303, "/app/my-tasks".to_string())
    );
    assert_eq!(
        landing(&srv, "chen.jing@alpha.example").await,
        (303, "/app/overview".to_string())
    );
    for email in [
        a.owner.email.as_str(),
        "zhang.wei@alpha.example",
        "client@alpha.example",
    ] {
        assert_eq!(
            landing(&srv, email).await,
            (200, String::new()),
            "{email} keeps the organisation's home"
        );
    }
}
