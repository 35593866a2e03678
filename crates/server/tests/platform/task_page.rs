//! The task page's edits: a planner adds and removes one assignee at a time and sets the due
//! date, the priority (in words) and the description; an artist sees none of it and a forged
//! form from them is refused; a stale form keeps what was typed and applies it again; time is
//! logged as `1:30` and listed by day; a bad duration comes back with what was typed. And the
//! description over the API, which needs planning rights.

use crate::common::*;
use crate::pages::{Browser, CUT};
use mstation_core::{Role, TokenScope};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// Today plus `n` days in the time zone the people of these tests have (their organisation's,
/// the default), `YYYY-MM-DD`.
fn day(n: i64) -> String {
    let zone = jiff::tz::TimeZone::get(mstation_store::identity::DEFAULT_TIMEZONE).unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone).date();
    today
        .checked_add(jiff::Span::new().days(n))
        .unwrap()
        .to_string()
}

/// A project with a conformed sequence and one task on its first shot (nobody assigned), made by
/// `token`'s owner: the task's and the shot's ids.
async fn a_task(srv: &Srv, token: &str) -> (String, String) {
    let (s, p) = srv
        .post(
            token,
            "/api/v1/projects",
            json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let pid = p["id"].as_str().unwrap().to_string();
    let (_, seq) = srv
        .post(
            token,
            &format!("/api/v1/projects/{pid}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let seq = seq["id"].as_str().unwrap().to_string();
    let (s, v) = srv
        .post(
            token,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": "cmx3600", "edl": CUT, "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, shots) = srv
        .get(token, &format!("/api/v1/sequences/{seq}/shots"))
        .await;
    let shot = shots["items"][0]["id"].as_str().unwrap().to_string();
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{pid}/task-types"))
        .await;
    let (s, t) = srv
        .post(
            token,
            "/api/v1/tasks",
            json!({"tasks": [{"shot_id": shot, "task_type_id": types["items"][0]["id"]}]}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    (t["items"][0]["id"].as_str().unwrap().to_string(), shot)
}

/// The text between `start` and the next `end` after it.
fn between<'p>(page: &'p str, start: &str, end: &str) -> &'p str {
    let at = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {page}"))
        + start.len();
    &page[at..at + page[at..].find(end).unwrap()]
}

/// The version the page's plan form saves over.
fn plan_version(page: &str) -> String {
    let form = between(page, "data-testid=\"plan-form\"", "</form>");
    between(form, "name=\"version\" value=\"", "\"").to_string()
}

/// The plan form of a page.
fn plan_form(page: &str) -> &str {
    between(page, "data-testid=\"plan-form\"", "</form>")
}

/// Text as the page wrote it, read back.
fn unescape(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The plan form of `page` as a browser would send it: every field as the page filled it in,
/// but those in `typed`.
fn plan_fields(page: &str, typed: &[(&str, &str)]) -> Vec<(String, String)> {
    let form = plan_form(page);
    let value = |name: &str| unescape(between(form, &format!("name=\"{name}\" value=\""), "\""));
    let priority = between(
        between(form, "name=\"priority\">", "</select>"),
        "<option value=\"",
        "\" selected>",
    );
    let mut fields = vec![
        ("version".to_string(), value("version")),
        ("was_due_date".into(), value("was_due_date")),
        ("was_priority".into(), value("was_priority")),
        ("was_description".into(), value("was_description")),
        ("due_date".into(), value("due_date")),
        ("priority".into(), priority.to_string()),
        (
            "description".into(),
            unescape(between(
                form,
                "name=\"description\" rows=\"5\" maxlength=\"20000\">",
                "</textarea>",
            )),
        ),
    ];
    for (name, v) in typed {
        let field = fields.iter_mut().find(|(n, _)| n == name).unwrap();
        field.1 = v.to_string();
    }
    fields
}

/// Sends the plan form of `page` with `typed` typed into it.
async fn save_plan(
    b: &Browser,
    task_id: &str,
    page: &str,
    typed: &[(&str, &str)],
) -> (u16, String) {
    let fields = plan_fields(page, typed);
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    b.post(&format!("/app/tasks/{task_id}/plan"), &form).await
}

/// The time-log form of a page.
fn time_form(page: &str) -> &str {
    between(page, "data-testid=\"time-form\"", "</form>")
}

/// The rows of one day in the time-log list.
fn day_block<'p>(page: &'p str, date: &str) -> &'p str {
    between(page, &format!("<tbody data-day=\"{date}\">"), "</tbody>")
}

async fn task(srv: &Srv, token: &str, id: &str) -> Value {
    let (s, t) = srv.get(token, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(s, 200, "{t}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_plans_a_task_on_its_page() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task_id, shot) = a_task(&srv, &a.token).await;
        srv.member(
            &a,
            "coord@alpha.example",
            Role::Coordinator,
            &[TokenScope::Read],
        )
        .await;
        let (li, _) = srv
            .member(&a, "li@alpha.example", Role::Artist, &[TokenScope::Read])
            .await;
        let (wang, _) = srv
            .member(&a, "wang@alpha.example", Role::Artist, &[TokenScope::Read])
            .await;
        let coord = Browser::sign_in(&srv, "coord@alpha.example", PASSWORD).await;
        let url = format!("/app/tasks/{task_id}");

        let (s, page) = coord.get(&url).await;
        assert_eq!(s, 200);
        assert!(
            page.contains(&format!("action=\"/app/tasks/{task_id}/assignees\"")),
            "{page}"
        );
        assert!(page.contains(&format!("action=\"/app/tasks/{task_id}/plan\"")));
        assert!(between(&page, "data-testid=\"task-priority\">", "<") == "Normal");

        // One person at a time: two added, then one of them removed.
        for who in [&li, &wang] {
            let (s, body) = coord
                .post(
                    &format!("{url}/assignees"),
                    &[("action", "add"), ("user_id", &who.id.to_string())],
                )
                .await;
            assert_eq!(s, 303, "{body}");
        }
        let mut both = vec![li.id.to_string(), wang.id.to_string()];
        both.sort();
        assert_eq!(
            task(&srv, &a.token, &task_id).await["assignees"],
            json!(both)
        );
        let (s, _) = coord
            .post(
                &format!("{url}/assignees"),
                &[("action", "remove"), ("user_id", &li.id.to_string())],
            )
            .await;
        assert_eq!(s, 303);
        let t = task(&srv, &a.token, &task_id).await;
        assert_eq!(t["assignees"], json!([wang.id]), "only Li was taken off");
        let (_, page) = coord.get(&url).await;
        let people = between(&page, "data-testid=\"assignees\">", "</dd>");
        assert!(
            people.contains(&format!("data-person=\"{}\"", wang.id))
                && people.contains("wang@alpha.example")
        );
        assert!(
            !people.contains(&format!("data-person=\"{}\"", li.id)),
            "{people}"
        );
        assert!(
            people.contains(&format!("<option value=\"{}\">", li.id)),
            "Li can be added again: {people}"
        );
        // Adding someone already on the task changes nothing, not even the version.
        let version = t["version"].clone();
        let (s, _) = coord
            .post(
                &format!("{url}/assignees"),
                &[("action", "add"), ("user_id", &wang.id.to_string())],
            )
            .await;
        assert_eq!(s, 303);
        assert_eq!(task(&srv, &a.token, &task_id).await["version"], version);
        // Without a person chosen, the page says so.
        let (s, page) = coord
            .post(
                &format!("{url}/assignees"),
                &[("action", "add"), ("user_id", "")],
            )
            .await;
        assert_eq!(s, 422);
        assert!(page.contains("Choose a person to assign first."), "{page}");

        // Due date, priority and description in one form.
        let description = "  Roto the lantern first.\nKeep the <b>glow</b> soft.  ";
        let (s, body) = save_plan(
            &coord,
            &task_id,
            &page,
            &[
                ("due_date", "2026-12-04"),
                ("priority", "2"),
                ("description", description),
            ],
        )
        .await;
        assert_eq!(s, 303, "{body}");
        let t = task(&srv, &a.token, &task_id).await;
        assert_eq!(
            (&t["due_date"], &t["priority"], &t["description"]),
            (&json!("2026-12-04"), &json!(2), &json!(description.trim()))
        );
        let (_, page) = coord.get(&url).await;
        assert_eq!(
            between(&page, "data-testid=\"task-priority\">", "<"),
            "Urgent"
        );
        assert_eq!(
            between(&page, "data-testid=\"task-due\">", "<"),
            "2026-12-04"
        );
        let shown = between(&page, "<div class=\"description\">", "</div>");
        assert!(
            shown.starts_with("Roto the lantern first.\nKeep the "),
            "{shown}"
        );
        assert!(
            !page.contains("<b>glow</b>"),
            "the description is text, not markup"
        );
        // The hand-written task list JSON (a shot's tasks) carries it too.
        let (_, list) = srv
            .get(&a.token, &format!("/api/v1/shots/{shot}/tasks"))
            .await;
        assert_eq!(list["items"][0]["description"], json!(description.trim()));
        // And the change is recorded like the others.
        let (_, audit) = srv.get(&a.token, "/api/v1/audit?action=task.updated").await;
        let last = &audit["items"][0];
        assert_eq!(
            (
                &last["before"]["description"],
                &last["after"]["description"]
            ),
            (&json!(""), &json!(description.trim())),
            "{last}"
        );
        assert_eq!(last["after"]["priority"], 2);

        // Low is below normal; clearing the due date and the description.
        // The form as the page filled it in sends the description back as it is.
        let unchanged = plan_fields(&page, &[]);
        assert!(
            unchanged.contains(&("description".into(), description.trim().into())),
            "{unchanged:?}"
        );
        let (s, _) = save_plan(
            &coord,
            &task_id,
            &page,
            &[("due_date", ""), ("priority", "-1"), ("description", "")],
        )
        .await;
        assert_eq!(s, 303);
        let t = task(&srv, &a.token, &task_id).await;
        assert_eq!(
            (&t["due_date"], &t["priority"], &t["description"]),
            (&Value::Null, &json!(-1), &json!(""))
        );
        let (_, page) = coord.get(&url).await;
        assert_eq!(between(&page, "data-testid=\"task-priority\">", "<"), "Low");
        assert!(!page.contains("data-testid=\"task-due\""));
        assert!(page.contains("No description yet."));

        // A description too long comes back, typed text kept, nothing saved.
        let long = "x".repeat(20_001);
        let (s, page) = save_plan(
            &coord,
            &task_id,
            &page,
            &[
                ("due_date", "2026-12-24"),
                ("priority", "1"),
                ("description", &long),
            ],
        )
        .await;
        assert_eq!(s, 422);
        let form = plan_form(&page);
        assert!(
            form.contains("this one has 20001") || form.contains("this one has 20,001"),
            "{form}"
        );
        assert!(form.contains(&long) && form.contains("value=\"2026-12-24\""));
        assert!(form.contains("<option value=\"1\" selected>"), "{form}");
        assert_eq!(task(&srv, &a.token, &task_id).await["priority"], -1);

        // In Chinese, the page's words are the catalog's.
        assert_eq!(
            coord.post("/app/language", &[("locale", "zh-CN")]).await.0,
            303
        );
        let (_, page) = coord.get(&url).await;
        assert_eq!(between(&page, "data-testid=\"task-priority\">", "<"), "低");
        for english in [
            "Choose a person",
            "No description yet.",
            "Time spent",
            "Day total",
            "Edit the due date",
        ] {
            assert!(!page.contains(english), "“{english}” on the Chinese page");
        }
        assert!(
            page.contains("选择人员") && page.contains("还没有说明。") && page.contains("用时")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artist_sees_no_plan_controls_and_a_forged_plan_is_refused() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task_id, _) = a_task(&srv, &a.token).await;
        let (li, _) = srv
            .member(&a, "li@alpha.example", Role::Artist, &[TokenScope::Read])
            .await;
        let r = srv
            .call(
                &a.token,
                Method::PATCH,
                &format!("/api/v1/tasks/{task_id}"),
                Some(json!({"assignees": [li.id], "priority": 1, "description": "Paint it red."})),
            )
            .await;
        assert_eq!(r.status().as_u16(), 200);
        let before = task(&srv, &a.token, &task_id).await;
        let artist = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let url = format!("/app/tasks/{task_id}");
        let (s, page) = artist.get(&url).await;
        assert_eq!(s, 200);
        // What the task is, in words, but no control to change it.
        assert_eq!(
            between(&page, "data-testid=\"task-priority\">", "<"),
            "High"
        );
        assert!(page.contains("Paint it red."));
        for control in [
            format!("action=\"/app/tasks/{task_id}/plan\""),
            format!("action=\"/app/tasks/{task_id}/assignees\""),
            "name=\"priority\"".to_string(),
            "name=\"description\"".to_string(),
            "name=\"user_id\"".to_string(),
        ] {
            assert!(!page.contains(&control), "an artist sees {control}");
        }
        // Their own work they still log.
        assert!(page.contains(&format!("action=\"/app/tasks/{task_id}/time-logs\"")));

        // Forged forms are refused inside the page frame and change nothing.
        let (me, owner) = (li.id.to_string(), a.owner.id.to_string());
        let forged: [(String, Vec<(&str, &str)>); 3] = [
            (
                format!("{url}/plan"),
                vec![
                    ("version", "2"),
                    ("due_date", "2026-12-01"),
                    ("priority", "-1"),
                    ("description", "Mine now."),
                ],
            ),
            (
                format!("{url}/assignees"),
                vec![("action", "remove"), ("user_id", &me)],
            ),
            (
                format!("{url}/assignees"),
                vec![("action", "add"), ("user_id", &owner)],
            ),
        ];
        for (path, form) in &forged {
            let (s, page) = artist.post(path, form).await;
            assert_eq!(s, 403, "POST {path}");
            assert!(page.contains("data-testid=\"refused\""), "{page}");
            assert!(page.contains("Sign out"), "the navigation stays: {page}");
        }
        assert_eq!(task(&srv, &a.token, &task_id).await, before);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_keeps_what_was_typed_and_applies_it_again() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task_id, _) = a_task(&srv, &a.token).await;
        srv.member(
            &a,
            "coord@alpha.example",
            Role::Coordinator,
            &[TokenScope::Read],
        )
        .await;
        let coord = Browser::sign_in(&srv, "coord@alpha.example", PASSWORD).await;
        let url = format!("/app/tasks/{task_id}");
        let patch = |body: Value| {
            let srv = srv.clone();
            let (token, path) = (a.token.clone(), format!("/api/v1/tasks/{task_id}"));
            async move {
                let r = srv.call(&token, Method::PATCH, &path, Some(body)).await;
                assert_eq!(r.status().as_u16(), 200);
            }
        };
        let (_, loaded) = coord.get(&url).await;

        // Meanwhile the producer raises the priority and sets a due date.
        patch(json!({"priority": 1, "due_date": "2026-11-30"})).await;
        let now = task(&srv, &a.token, &task_id).await;

        // The coordinator had changed all three in the page they loaded before.
        let typed = "Typed while someone else worked:\nkeep every word & <all> of it.";
        let mine = [
            ("due_date", "2026-12-10"),
            ("priority", "-1"),
            ("description", typed),
        ];
        let (s, page) = save_plan(&coord, &task_id, &loaded, &mine).await;
        assert_eq!(s, 409);
        let shown = plan_form(&page);
        let fields = plan_fields(&page, &[]);
        for (name, value) in mine {
            assert!(
                fields.contains(&(name.into(), value.into())),
                "{name} is kept as typed: {fields:?}"
            );
        }
        assert!(shown.contains("Apply my changes again"));
        assert!(
            shown.contains("Now: High") && shown.contains("Now: 2026-11-30"),
            "{shown}"
        );
        assert!(page.contains("Someone changed this task after you opened it"));
        assert!(
            page.contains("<details class=\"plan\" open>"),
            "the form is shown open"
        );
        assert_eq!(
            plan_version(&page),
            now["version"].to_string(),
            "applying again saves over the task as it is now"
        );
        assert_eq!(
            task(&srv, &a.token, &task_id).await,
            now,
            "nothing of the stale form was saved"
        );

        // Applied again, the typed values land.
        let (s, _) = save_plan(&coord, &task_id, &page, &[]).await;
        assert_eq!(s, 303);
        let t = task(&srv, &a.token, &task_id).await;
        assert_eq!(
            (&t["due_date"], &t["priority"], &t["description"]),
            (&json!("2026-12-10"), &json!(-1), &json!(typed))
        );
        // The first form sent once more is stale again, not a silent overwrite.
        assert_eq!(save_plan(&coord, &task_id, &loaded, &mine).await.0, 409);

        // Changed only the description, while the producer moved the due date: the form comes
        // back with the new due date, so applying it again keeps the producer's.
        let (_, loaded) = coord.get(&url).await;
        patch(json!({"due_date": "2027-01-15"})).await;
        let (s, page) =
            save_plan(&coord, &task_id, &loaded, &[("description", "Only this.")]).await;
        assert_eq!(s, 409);
        let fields = plan_fields(&page, &[]);
        assert!(
            fields.contains(&("due_date".into(), "2027-01-15".into())),
            "{fields:?}"
        );
        assert!(fields.contains(&("description".into(), "Only this.".into())));
        assert!(
            !plan_form(&page).contains("Now:"),
            "nothing the coordinator changed was changed by another"
        );
        assert_eq!(save_plan(&coord, &task_id, &page, &[]).await.0, 303);
        let t = task(&srv, &a.token, &task_id).await;
        assert_eq!(
            (&t["due_date"], &t["priority"], &t["description"]),
            (&json!("2027-01-15"), &json!(-1), &json!("Only this."))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_is_logged_as_hours_and_minutes_and_listed_by_day() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task_id, _) = a_task(&srv, &a.token).await;
        srv.member(&a, "li@alpha.example", Role::Artist, &[TokenScope::Read])
            .await;
        let artist = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let url = format!("/app/tasks/{task_id}");
        let log = |date: &'static str, typed: &'static str, comment: &'static str| {
            let artist = &artist;
            let url = url.clone();
            async move {
                artist
                    .post(
                        &format!("{url}/time-logs"),
                        &[("date", date), ("minutes", typed), ("comment", comment)],
                    )
                    .await
            }
        };
        assert_eq!(log("2026-11-20", "1:30", "blocking").await.0, 303);
        let t = task(&srv, &a.token, &task_id).await;
        assert_eq!(t["logged_minutes"], 90, "1:30 is 90 minutes");
        assert_eq!(log("2026-11-21", "45m", "timing").await.0, 303);
        assert_eq!(log("2026-11-21", "1h", "notes").await.0, 303);
        assert_eq!(log("2026-11-19", "30", "").await.0, 303);
        let today = day(0);
        let (s, _) = artist
            .post(
                &format!("{url}/time-logs"),
                &[("date", &today), ("minutes", "0:20")],
            )
            .await;
        assert_eq!(s, 303);

        let (_, page) = artist.get(&url).await;
        assert_eq!(between(&page, "data-testid=\"time-total\">", "<"), "4:05");
        let d21 = day_block(&page, "2026-11-21");
        assert_eq!(
            between(d21, "data-testid=\"day-total\"", "</td>")
                .rsplit('>')
                .next(),
            Some("1:45"),
            "{d21}"
        );
        assert!(d21.contains("timing") && d21.contains("notes") && !d21.contains("blocking"));
        assert_eq!(
            d21.matches("<td class=\"num\">").count(),
            2,
            "two logs that day: {d21}"
        );
        let d20 = day_block(&page, "2026-11-20");
        assert!(
            d20.contains(">1:30</td>") && d20.contains("blocking"),
            "{d20}"
        );
        // The latest day first; today is said as today.
        let order: Vec<usize> = [today.as_str(), "2026-11-21", "2026-11-20", "2026-11-19"]
            .iter()
            .map(|d| page.find(&format!("data-day=\"{d}\"")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(day_block(&page, &today).contains("· Today"));

        // Bad durations come back with what was typed, and log nothing.
        for (typed, says) in [
            ("0", "more than zero"),
            ("-30", "cannot be negative"),
            ("25:00", "At most 24 hours"),
            ("1441", "At most 24 hours"),
            ("lots", "“lots” is not a time spent"),
            ("1:5", "“1:5” is not a time spent"),
            ("", "Type the time spent"),
        ] {
            let (s, page) = artist
                .post(
                    &format!("{url}/time-logs"),
                    &[
                        ("date", "2026-11-22"),
                        ("minutes", typed),
                        ("comment", "kept too"),
                    ],
                )
                .await;
            assert_eq!(s, 200, "{typed:?}");
            assert!(page.contains("class=\"flash error\""));
            let form = time_form(&page);
            assert!(form.contains(says), "{typed:?}: {form}");
            assert!(
                form.contains(&format!("name=\"minutes\" value=\"{typed}\"")),
                "{typed:?} is kept: {form}"
            );
            assert!(form.contains("aria-invalid=\"true\""));
            assert!(form.contains("value=\"2026-11-22\"") && form.contains("value=\"kept too\""));
        }
        assert_eq!(task(&srv, &a.token, &task_id).await["logged_minutes"], 245);
        // A bad date is the store's to refuse; what was typed stays.
        let (s, page) = artist
            .post(
                &format!("{url}/time-logs"),
                &[("date", "soon"), ("minutes", "1:00")],
            )
            .await;
        assert_eq!(s, 200);
        let form = time_form(&page);
        assert!(
            form.contains("value=\"1:00\"") && form.contains("YYYY-MM-DD"),
            "{form}"
        );
        assert!(!form.contains("aria-invalid"), "the duration was fine");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_over_the_api_needs_planning_rights() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task_id, _) = a_task(&srv, &a.token).await;
        let (_, artist) = srv
            .member(
                &a,
                "li@alpha.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (_, coord) = srv
            .member(
                &a,
                "coord@alpha.example",
                Role::Coordinator,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let path = format!("/api/v1/tasks/{task_id}");
        let patch = |token: String, body: Value| {
            let srv = srv.clone();
            let path = path.clone();
            async move { json(srv.call(&token, Method::PATCH, &path, Some(body)).await).await }
        };

        let (s, v) = patch(artist.clone(), json!({"description": "Mine."})).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("auth.forbidden")),
            "{v}"
        );
        let (s, t) = patch(coord.clone(), json!({"description": "  Paint it red.\n"})).await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["description"], "Paint it red.");
        assert_eq!(
            task(&srv, &a.token, &task_id).await["description"],
            "Paint it red."
        );
        let (s, v) = patch(coord.clone(), json!({"description": "x".repeat(20_001)})).await;
        assert_eq!(
            (s, v["field"].as_str(), v["reason"].as_str()),
            (422, Some("description"), Some("too_long")),
            "{v}"
        );
        let (s, t) = patch(coord.clone(), json!({"description": "y".repeat(20_000)})).await;
        assert_eq!(s, 200);
        assert_eq!(t["description"].as_str().unwrap().len(), 20_000);
        let (s, t) = patch(coord.clone(), json!({"description": ""})).await;
        assert_eq!((s, &t["description"]), (200, &json!("")));
        // A priority below normal is low.
        let (s, t) = patch(coord.clone(), json!({"priority": -1})).await;
        assert_eq!((s, &t["priority"]), (200, &json!(-1)));
        let (s, _) = patch(coord, json!({"priority": -11})).await;
        assert_eq!(s, 422);

        // The document says so.
        let doc: Value = srv
            .http
            .get(format!("{}/api/openapi.json", srv.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["TaskPatch"]["properties"]["description"]["maxLength"], 20_000,
            "{}",
            schemas["TaskPatch"]
        );
        assert_eq!(
            schemas["TaskPatch"]["properties"]["priority"]["minimum"],
            -10
        );
        assert!(
            schemas["Task"]["required"]
                .as_array()
                .unwrap()
                .contains(&json!("description"))
        );
        assert!(schemas["Task"]["properties"]["description"].is_object());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_refused_for_a_stale_status_change_comes_back_as_typed() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (task_id, _) = a_task(&srv, &a.token).await;
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let url = format!("/app/tasks/{task_id}");
        let t = task(&srv, &a.token, &task_id).await;
        let seen = t["version"].to_string();
        let (_, statuses) = srv
            .get(
                &a.token,
                &format!(
                    "/api/v1/projects/{}/statuses",
                    t["project_id"].as_str().unwrap()
                ),
            )
            .await;
        let status = |short: &str| {
            statuses["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["short_name"] == short)
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        // Someone moves the task on after the page was loaded.
        let r = srv
            .call(
                &a.token,
                Method::PATCH,
                &format!("/api/v1/tasks/{task_id}"),
                Some(json!({"status_id": status("wip")})),
            )
            .await;
        assert_eq!(r.status().as_u16(), 200);
        let (s, page) = owner
            .post(
                &format!("{url}/notes"),
                &[
                    ("body", "Edge flicker at 1012 <fixed?>"),
                    ("frame", "1012"),
                    ("status_id", &status("retake")),
                    ("version", &seen),
                ],
            )
            .await;
        assert_eq!(s, 409, "{page}");
        assert!(page.contains("so your note was not posted"), "{page}");
        assert!(
            page.contains(">Edge flicker at 1012 &#60;fixed?&#62;</textarea>"),
            "the note as typed: {page}"
        );
        assert!(
            page.contains("name=\"frame\" inputmode=\"numeric\" size=\"8\" value=\"1012\""),
            "{page}"
        );
        assert!(
            page.contains(&format!("<option value=\"{}\" selected>", status("retake"))),
            "the status chosen"
        );
        let (_, notes) = srv
            .get(&a.token, &format!("/api/v1/tasks/{task_id}/notes"))
            .await;
        assert_eq!(notes["items"], json!([]), "nothing was posted");
        // Posted again from that page (now at the task's version), it goes through.
        let now = task(&srv, &a.token, &task_id).await["version"].to_string();
        assert!(
            page.contains(&format!("name=\"version\" value=\"{now}\"")),
            "the form is at the task's version now"
        );
        let (s, _) = owner
            .post(
                &format!("{url}/notes"),
                &[
                    ("body", "Edge flicker at 1012"),
                    ("frame", "1012"),
                    ("status_id", &status("retake")),
                    ("version", &now),
                ],
            )
            .await;
        assert_eq!(s, 303);
        assert_eq!(
            task(&srv, &a.token, &task_id).await["status_id"],
            json!(status("retake"))
        );
    })
    .await;
}
