//! The shot grid's tools: filters by person, due date, asset, status and free text (which reads
//! names, assignees and notes), the cells a filter leaves out dimmed, extra columns (due date,
//! priority, custom fields), a bad filter said in words, and views saved per person through the
//! page and the API, never seen by anyone else.

use crate::common::*;
use crate::pages::Browser;
use mstation_core::Role;
use serde_json::json;

const CUT: &str = "TITLE: HAZE R1
FCM: NON-DROP FRAME
001  A001C003 V     C        10:00:00:00 10:00:03:00 01:00:00:00 01:00:03:00
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:03:00 01:00:04:12
003  A002C001 V     C        12:00:00:00 12:00:01:00 01:00:04:12 01:00:05:12
";

/// The names of the shot rows a grid page shows, in order.
fn rows(page: &str) -> Vec<String> {
    page.split("<a class=\"shot\" href=\"/app/shots/")
        .skip(1)
        .map(|s| {
            let s = &s[s.find('>').unwrap() + 1..];
            s[..s.find('<').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_filters_columns_and_saved_views() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let li = srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist).await;
        let fang = srv.person(&a, "fang@alpha.example", "Wang Fang", Role::Artist).await;
        let tok = a.token.clone();

        let (s, p) = srv
            .post(&tok, "/api/v1/projects", json!({"name": "Haze", "code": "HAZE", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        assert_eq!(s, 201, "{p}");
        let pid = id(&p);
        let (_, seq) = srv
            .post(&tok, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"}))
            .await;
        let seq = id(&seq);
        let (s, v) = srv
            .post(&tok, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true}))
            .await;
        assert_eq!(s, 200, "{v}");
        let (_, shots) = srv.get(&tok, &format!("/api/v1/sequences/{seq}/shots")).await;
        let shot = |i: usize| id(&shots["items"][i]);
        let (_, types) = srv.get(&tok, &format!("/api/v1/projects/{pid}/task-types")).await;
        let step = |name: &str| {
            types["items"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].clone()
        };
        let (s, made) = srv
            .post(&tok, "/api/v1/tasks", json!({"tasks": [
                {"shot_id": shot(0), "task_type_id": step("Animation"), "assignees": [li.id], "due_date": "2020-01-06", "priority": 2},
                {"shot_id": shot(0), "task_type_id": step("Compositing"), "assignees": [fang.id]},
                {"shot_id": shot(1), "task_type_id": step("Compositing"), "assignees": [fang.id], "due_date": "2099-01-05"},
                {"shot_id": shot(2), "task_type_id": step("Layout")},
            ]}))
            .await;
        assert_eq!(s, 201, "{made}");
        let (s, _) = srv
            .post(&tok, &format!("/api/v1/tasks/{}/notes", id(&made["items"][3])), json!({"body": "The sky needs more HAZE."}))
            .await;
        assert_eq!(s, 201);
        let (s, asset) = srv
            .post(&tok, &format!("/api/v1/projects/{pid}/assets"), json!({"kind": "prop", "name": "Lantern"}))
            .await;
        assert_eq!(s, 201, "{asset}");
        let asset = id(&asset);
        let r = srv
            .call(&tok, reqwest::Method::PUT, &format!("/api/v1/shots/{}/assets/{asset}", shot(1)), Some(json!({"count": 1})))
            .await;
        assert_eq!(r.status(), 200);
        let (s, f) = srv
            .post(&tok, &format!("/api/v1/projects/{pid}/fields"), json!({"entity": "shot", "key": "lens", "name": "Lens", "kind": "text"}))
            .await;
        assert_eq!(s, 201, "{f}");
        let r = srv
            .call(&tok, reqwest::Method::PATCH, &format!("/api/v1/shots/{}/fields", shot(2)), Some(json!({"lens": "35mm anamorphic"})))
            .await;
        assert_eq!(r.status(), 200);

        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let grid = format!("/app/projects/{pid}/shots");
        let shown = |q: &str| {
            let owner = &owner;
            let path = format!("{grid}?{q}");
            async move {
                let (s, page) = owner.get(&path).await;
                assert_eq!(s, 200, "{path}: {page}");
                (rows(&page), page)
            }
        };
        let all = ["SQ010_0010", "SQ010_0020", "SQ010_0030"];
        assert_eq!(shown("").await.0, all);
        assert_eq!(shown(&format!("person={}", li.id)).await.0, ["SQ010_0010"]);
        assert_eq!(shown(&format!("person={}", fang.id)).await.0, ["SQ010_0010", "SQ010_0020"]);
        assert_eq!(shown("person=nobody").await.0, ["SQ010_0030"]);
        assert_eq!(shown("due=overdue").await.0, ["SQ010_0010"]);
        assert_eq!(shown("q=haze").await.0, ["SQ010_0030"], "a note's text finds its shot");
        assert_eq!(shown("q=wang").await.0, ["SQ010_0010", "SQ010_0020"], "an assignee's name finds the shot");
        assert_eq!(shown("q=0020").await.0, ["SQ010_0020"]);
        assert_eq!(shown(&format!("asset={asset}")).await.0, ["SQ010_0020"]);
        assert_eq!(shown(&format!("asset={asset}&person={li}", li = li.id)).await.0, Vec::<String>::new());
        let (none, page) = shown("q=nothing-like-this").await;
        assert!(none.is_empty());
        assert!(page.contains("No shots match these filters."), "{page}");

        // The person filter dims the other cells of the rows it keeps.
        let (_, page) = shown(&format!("person={}", li.id)).await;
        assert_eq!(page.matches("class=\"cell dim\"").count(), 1, "Fang's compositing is dimmed");

        // Extra columns: due dates, priority in words, a custom field.
        let (_, page) = shown("show=due&show=priority&show=field.lens").await;
        assert!(page.contains("<th class=\"field\">Lens</th>"), "{page}");
        assert!(page.contains("35mm anamorphic"));
        assert!(page.contains("class=\"due overdue\">2020-01-06<"), "{page}");
        assert!(page.contains("class=\"due\">2099-01-05<"));
        assert!(page.contains(">Urgent</small>"));
        let (_, plain) = shown("").await;
        assert!(!plain.contains("2099-01-05") && !plain.contains("35mm"), "columns only when asked for");
        assert!(!plain.contains(">Lookdev</button>"), "asset steps are not the shot grid's columns");
        // A shot task on an asset step (the API allows it) brings that step in as a column.
        let (s, v) = srv
            .post(&tok, "/api/v1/tasks", json!({"tasks": [{"shot_id": shot(2), "task_type_id": step("Lookdev")}]}))
            .await;
        assert_eq!(s, 201, "{v}");
        let (_, plain) = shown("").await;
        assert!(plain.contains(">Lookdev</button>") && !plain.contains(">Rigging</button>"), "{plain}");

        // A bad filter is said in words and the whole grid shown.
        for (q, said) in [
            ("person=somebody".to_string(), "The Assignees filter cannot show “somebody”".to_string()),
            (format!("person={}", b.owner.id), format!("The Assignees filter cannot show “{}”", b.owner.id)),
            ("due=tomorrow".to_string(), "The Due filter cannot show “tomorrow”".to_string()),
            ("show=field.nope".to_string(), "The Columns filter cannot show “nope”".to_string()),
            (format!("asset={}", li.id), format!("The Asset filter cannot show “{}”", li.id)),
        ] {
            let (s, page) = owner.get(&format!("{grid}?{q}")).await;
            assert_eq!(s, 400, "{q}");
            assert!(page.contains(&format!("{said}, so here is the whole grid.")), "{q}: {page}");
            assert_eq!(rows(&page), all, "{q}");
        }

        // Views: saved through the page under a name, read back by their owner only.
        let (s, _) = owner
            .post(&format!("/app/projects/{pid}/views"), &[("name", "Overdue, with dates"), ("query", "show=due&due=overdue")])
            .await;
        assert_eq!(s, 303);
        let (_, page) = shown("due=overdue&show=due").await;
        assert!(page.contains("Overdue, with dates"), "the view is listed");
        assert!(page.contains("aria-current=\"true\"><a href=\"/app/projects/"), "and marked as the one shown");
        let (s, mine) = srv.get(&tok, &format!("/api/v1/projects/{pid}/views")).await;
        assert_eq!(s, 200);
        assert_eq!(mine["items"][0]["query"], "due=overdue&show=due", "kept in the grid's order");
        let view_id = id(&mine["items"][0]);
        // The same name again replaces it.
        let (s, again) = srv
            .post(&tok, &format!("/api/v1/projects/{pid}/views"), json!({"grid": "shots", "name": "Overdue, with dates", "query": "due=week"}))
            .await;
        assert_eq!((s, again["id"].clone()), (200, json!(view_id)));
        let (s, bad) = srv
            .post(&tok, &format!("/api/v1/projects/{pid}/views"), json!({"grid": "shots", "name": "x", "query": "colour=red"}))
            .await;
        assert_eq!(s, 422, "{bad}");
        for grid in ["timeline", "assets"] {
            let (s, bad) = srv
                .post(&tok, &format!("/api/v1/projects/{pid}/views"), json!({"grid": grid, "name": "x", "query": ""}))
                .await;
            assert_eq!(s, 422, "{grid}: {bad}");
        }
        let (s, page) = owner.post(&format!("/app/projects/{pid}/views"), &[("name", " "), ("query", "person=nobody")]).await;
        assert_eq!(s, 422, "an empty name is said back");
        assert!(page.contains("Name is required."), "the field by its label: {page}");
        assert_eq!(rows(&page), ["SQ010_0030"], "the grid as it was");

        // Nor do the activity feeds, which every member reads, name them.
        for feed in [format!("/api/v1/projects/{pid}/activity"), format!("/api/v1/people/{}/activity", a.owner.id)] {
            let (s, v) = srv.get(&tok, &feed).await;
            assert_eq!(s, 200, "{v}");
            assert!(!v.to_string().contains("Overdue, with dates"), "{feed}: {v}");
        }
        // Another person of the organisation sees none of them and cannot delete them.
        let lib = Browser::sign_in(&srv, "li@alpha.example", "correct horse battery").await;
        let (_, page) = lib.get(&grid).await;
        assert!(!page.contains("Overdue, with dates"));
        let (s, _) = lib.post(&format!("/app/views/{view_id}/delete"), &[]).await;
        assert_eq!(s, 404);
        // Another organisation neither.
        let (s, _) = srv.get(&b.token, &format!("/api/v1/projects/{pid}/views")).await;
        assert_eq!(s, 404);
        let r = srv.call(&b.token, reqwest::Method::DELETE, &format!("/api/v1/views/{view_id}"), None).await;
        assert_eq!(r.status(), 404);
        // The owner deletes it and goes back to the grid as it was.
        let (s, _) = owner.post(&format!("/app/views/{view_id}/delete"), &[("back", "due=week")]).await;
        assert_eq!(s, 303);
        let (_, mine) = srv.get(&tok, &format!("/api/v1/projects/{pid}/views")).await;
        assert_eq!(mine["items"], json!([]));
    })
    .await;
}

/// A CMX 3600 list of `n` one-second events.
fn long_cut(n: u32) -> String {
    let at = |base_hour: u32, s: u32| {
        let (h, m, sec) = (base_hour + s / 3600, s / 60 % 60, s % 60);
        format!("{h:02}:{m:02}:{sec:02}:00")
    };
    let mut edl = String::from("TITLE: LONG\nFCM: NON-DROP FRAME\n");
    for i in 0..n {
        edl.push_str(&format!(
            "{:03}  A{:03}C001 V     C        {} {} {} {}\n",
            i % 1000 + 1,
            i % 1000,
            at(10, i),
            at(10, i + 1),
            at(1, i),
            at(1, i + 1)
        ));
    }
    edl
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_past_its_size_says_so_and_filters_read_to_the_end() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let (s, p) = srv
        .post(
            &a.token,
            "/api/v1/projects",
            json!({"name": "Long", "code": "LONG", "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let pid = id(&p);
    let (_, seq) = srv
        .post(
            &a.token,
            &format!("/api/v1/projects/{pid}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let seq = id(&seq);
    let (s, v) = srv
        .post(
            &a.token,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": "cmx3600", "edl": long_cut(5_002), "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
    let (_, page) = owner.get(&format!("/app/projects/{pid}/shots")).await;
    assert_eq!(rows(&page).len(), 5_000);
    assert!(
        page.contains("the grid shows its first 5,000 shots"),
        "the cut is said"
    );
    // A filter reads past the first 5,000: the last shot of the cut is found.
    let last = format!("SQ010_{:04}", 5_002 * 10);
    let (_, page) = owner
        .get(&format!("/app/projects/{pid}/shots?q={last}"))
        .await;
    assert_eq!(rows(&page), [last]);
    assert!(!page.contains("the grid shows its first 5,000 shots"));
}
