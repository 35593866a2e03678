//! The productions overview, a producer's landing page: progress by step and by person, due and
//! overdue work, the bid against the time logged, the burn-up chart, this week's timesheet,
//! nothing of another organisation's, and the Chinese page without the English words.

use std::collections::HashMap;

use crate::common::*;
use crate::pages::{Browser, CUT};
use mstation_core::{Role, TokenScope};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// The day `n` days from `from` (`YYYY-MM-DD`).
fn shift(from: jiff::civil::Date, n: i64) -> jiff::civil::Date {
    from.checked_add(jiff::Span::new().days(n)).unwrap()
}

/// Today in the zone the people of these tests have (their organisation's, the default).
fn today() -> jiff::civil::Date {
    let zone = jiff::tz::TimeZone::get(mstation_store::identity::DEFAULT_TIMEZONE).unwrap();
    jiff::Timestamp::now().to_zoned(zone).date()
}

/// A project with one conformed sequence of two shots: (id, shots, step ids, status ids by short name).
async fn production(
    srv: &Srv,
    token: &str,
    name: &str,
    code: &str,
) -> (String, Vec<String>, Vec<String>, HashMap<String, String>) {
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
    let seq = seq["id"].as_str().unwrap();
    let (s, v) = srv
        .post(
            token,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": "cmx3600", "edl": CUT, "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let items = |v: &Value| -> Vec<Value> { v["items"].as_array().unwrap().clone() };
    let (_, shots) = srv
        .get(token, &format!("/api/v1/sequences/{seq}/shots"))
        .await;
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{id}/task-types"))
        .await;
    let (_, statuses) = srv
        .get(token, &format!("/api/v1/projects/{id}/statuses"))
        .await;
    let ids = |v: &Value| -> Vec<String> {
        items(v)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let statuses = items(&statuses)
        .iter()
        .map(|s| {
            (
                s["short_name"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (id, ids(&shots), ids(&types), statuses)
}

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

async fn log(srv: &Srv, token: &str, task: &str, day: jiff::civil::Date, minutes: i64) {
    let (s, v) = srv
        .post(
            token,
            &format!("/api/v1/tasks/{task}/time-logs"),
            json!({"date": day.to_string(), "minutes": minutes}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

/// The cells of the table row marked `attr="value"` in `html`: its header, then each cell's text.
fn row(html: &str, attr: &str, value: &str) -> Vec<String> {
    let at = html
        .find(&format!("{attr}=\"{value}\""))
        .unwrap_or_else(|| panic!("no row {attr}={value}: {html}"));
    let tr = &html[at..at + html[at..].find("</tr>").unwrap()];
    tr.split("<t")
        .skip(1)
        .filter(|c| c.starts_with('h') || c.starts_with('d'))
        .map(|c| {
            let text = &c[c.find('>').unwrap() + 1..];
            text[..text.find("</t").unwrap_or(text.len())].to_string()
        })
        .collect()
}

/// The number on a count tile of `html`.
fn tile(html: &str, kind: &str) -> String {
    let at = html
        .find(&format!("data-count=\"{kind}\""))
        .unwrap_or_else(|| panic!("no {kind} tile"));
    let rest = &html[at..];
    let from = rest.find("<strong>").unwrap() + "<strong>".len();
    rest[from..from + rest[from..].find('<').unwrap()].to_string()
}

/// The `## Productions overview` block of a catalog: (key, value).
fn overview_keys(lang: &str) -> Vec<(String, String)> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let block = &text[text
        .find("\n## Productions overview\n")
        .expect("a ## Productions overview block")..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The words of a catalog value around its placeables, two characters or more.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_counts_steps_people_hours_and_the_week() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let rw = [TokenScope::Read, TokenScope::Write];
        let (chen, _) = srv.member(&a, "chen.jing@alpha.example", Role::Producer, &rw).await;
        let (li, li_t) = srv.member(&a, "li.na@alpha.example", Role::Artist, &rw).await;
        let (zhao, zhao_t) = srv.member(&a, "zhao.min@alpha.example", Role::Artist, &rw).await;

        let today = today();
        let monday = shift(today, -i64::from(today.weekday().to_monday_zero_offset()));
        let (moon, shots, types, st) = production(&srv, &a.token, "Moonlight", "MOON").await;
        let task = |shot: usize, ty: usize, status: &str, who: &str, est: i64, due: Option<String>| {
            json!({"shot_id": shots[shot], "task_type_id": types[ty], "status_id": st[status],
                   "assignees": [who], "estimate_minutes": est, "due_date": due})
        };
        let ids = tasks(
            &srv,
            &a.token,
            vec![
                // Layout: one done, one overdue; Animation: one due this week, one client-approved.
                task(0, 0, "done", &li.id.to_string(), 120, Some(shift(today, -3).to_string())),
                task(1, 0, "wip", &li.id.to_string(), 60, Some(shift(today, -2).to_string())),
                task(0, 1, "todo", &zhao.id.to_string(), 240, Some(today.to_string())),
                task(1, 1, "approved", &zhao.id.to_string(), 30, None),
            ],
        )
        .await;
        // This week: Li 1:30 on Monday and 0:30 today on Layout; Zhao 1:00 on Monday on
        // Animation, and 0:45 the Sunday before (the bid counts it; the week does not).
        log(&srv, &li_t, &ids[0], monday, 90).await;
        log(&srv, &li_t, &ids[0], today, 30).await;
        log(&srv, &zhao_t, &ids[2], monday, 60).await;
        log(&srv, &zhao_t, &ids[2], shift(monday, -1), 45).await;

        // Bravo's production and time never show in Alpha's overview.
        let (_, b_shots, b_types, _) = production(&srv, &b.token, "Nightfall", "NIGHT").await;
        let b_ids = tasks(
            &srv,
            &b.token,
            vec![json!({"shot_id": b_shots[0], "task_type_id": b_types[0], "assignees": [b.owner.id], "estimate_minutes": 600})],
        )
        .await;
        log(&srv, &b.token, &b_ids[0], monday, 480).await;

        let browser = Browser::sign_in(&srv, &chen.email, PASSWORD).await;
        let (s, page) = browser.get("/app/overview").await;
        assert_eq!(s, 200, "{page}");
        let at = page.find(&format!("data-project=\"{moon}\"")).expect("Moonlight's section");
        let sheet_at = page.find("class=\"timesheet\"").expect("the timesheet");
        let project = &page[at..sheet_at];
        let sheet = &page[sheet_at..];

        // Counts, linking to the grid; the bid against the time logged.
        assert_eq!(["done", "week", "overdue"].map(|k| tile(project, k)), ["2/4", "1", "1"]);
        assert!(project.contains(&format!("href=\"/app/projects/{moon}/shots\" data-count=\"overdue\"")));
        assert_eq!(tile(project, "hours"), "3:45 / 7:30", "logged against the bid");
        assert!(project.contains("· 50%"), "{project}");
        // By step: name, done/total, the bar, bid, logged, percentage.
        let layout = row(project, "data-step", "layout");
        assert_eq!((layout[0].as_str(), layout[1].as_str()), ("Layout", "1/2"));
        assert_eq!(layout[3..], ["3:00", "2:00", "67%"]);
        assert!(project.contains("aria-label=\"50%\"><span style=\"width:50%"), "a half-filled bar");
        let anim = row(project, "data-step", "anim");
        assert_eq!(anim[..2], ["Animation", "1/2"]);
        assert_eq!(anim[3..], ["4:30", "1:45", "39%"]);
        // By person: open, done, overdue.
        assert_eq!(row(project, "data-person", &li.email)[1..], ["1", "1", "1"]);
        assert_eq!(row(project, "data-person", &zhao.email)[1..], ["1", "1", "0"]);

        // The burn-up: its title and description, the scope flat at the top (4 of 4), the done
        // line ending this week at 2 of 4 (halfway down the 160-unit chart from y=12).
        assert!(project.contains("<svg") && project.contains("<title id=\"burnup-t-"));
        assert!(project.contains(">Burn-up, last eight weeks</title>"));
        let points = |class: &str| {
            let at = project.find(&format!("class=\"{class}\" points=\"")).unwrap() + class.len() + 17;
            project[at..at + project[at..].find('"').unwrap()].to_string()
        };
        assert!(points("done").ends_with("456.0,92.0"), "{}", points("done"));
        assert_eq!(points("scope").split(' ').filter(|p| p.ends_with(",12.0")).count(), 8);
        assert!(project.contains(&format!(">{}</text>", monday.strftime("%m-%d"))), "this week's label");

        // This week's timesheet: Monday to Sunday, a row a person, totals.
        let mut li_days = vec![String::new(); 7];
        let t = today.weekday().to_monday_zero_offset() as usize;
        li_days[0] = "1:30".into();
        li_days[t] = if t == 0 { "2:00".into() } else { "0:30".into() };
        let mut zhao_days = vec![String::new(); 7];
        zhao_days[0] = "1:00".into();
        let mut totals = vec!["0:00".to_string(); 7];
        totals[0] = if t == 0 { "3:00".into() } else { "2:30".into() };
        if t != 0 {
            totals[t] = "0:30".into();
        }
        let li_row = row(sheet, "data-person", &li.email);
        assert_eq!(li_row[1..8], li_days[..]);
        assert_eq!(li_row[8], "2:00");
        let zhao_row = row(sheet, "data-person", &zhao.email);
        assert_eq!(zhao_row[1..8], zhao_days[..]);
        assert_eq!(zhao_row[8], "1:00");
        let total_row = row(sheet, "data-person", "total");
        assert_eq!(total_row[1..8], totals[..]);
        assert_eq!(total_row[8], "3:00");
        assert!(sheet.contains(&format!("data-day=\"{monday}\"")));

        // Nothing of Bravo's.
        for theirs in ["Nightfall", "NIGHT", "Bravo Owner", "8:00", "10:00"] {
            assert!(!page.contains(theirs), "{theirs} is Bravo's");
        }
        // Bravo's overview has its own figures only.
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        let (s, theirs) = bravo.get("/app/overview").await;
        assert_eq!(s, 200);
        assert!(theirs.contains("Nightfall") && !theirs.contains("Moonlight") && !theirs.contains(&li.email));
        assert_eq!(tile(&theirs, "hours"), "8:00 / 10:00");

        // A producer lands here from /app.
        assert_eq!(browser_location(&srv, &chen.email).await, "/app/overview");

        // In Chinese, none of the block's English words; its Chinese ones are there.
        let (s, _) = browser.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (s, zh_page) = browser.get("/app/overview").await;
        assert_eq!(s, 200);
        // The forms' random CSRF tokens are no words of the page (one may hold "of").
        let zh_page = crate::pages::without_csrf(&zh_page);
        let en = overview_keys("en");
        let zh: HashMap<String, String> = overview_keys("zh-CN").into_iter().collect();
        assert_eq!(en.iter().map(|(k, _)| k).collect::<Vec<_>>(), overview_keys("zh-CN").iter().map(|(k, _)| k).collect::<Vec<_>>());
        for (key, english) in &en {
            for w in words(english) {
                assert!(!zh_page.contains(&w), "{key}: “{w}” on the Chinese page");
            }
        }
        for key in ["overview-title", "overview-by-step", "overview-by-person", "overview-burnup", "overview-timesheet", "overview-day-1", "overview-total"] {
            assert!(zh_page.contains(&zh[key]), "{key} in Chinese");
        }
        assert_eq!(row(&zh_page, "data-step", "anim")[0], "动画", "the step in Chinese");
        assert!(zh_page.contains("lang=\"zh-CN\""));
    })
    .await;
}

/// Where `/app` sends `email` just signed in.
async fn browser_location(srv: &Srv, email: &str) -> String {
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
    assert_eq!(r.status().as_u16(), 303);
    let r = http.get(format!("{}/app", srv.base)).send().await.unwrap();
    r.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}
