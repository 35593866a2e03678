//! The shot page: a shot's place in the cut (72 frames from 1009 to 1080), its tasks in pipeline
//! order with their people, its notes and the form for one (offered only to who may write it),
//! the versions of its tasks, its cast, its custom fields and its timeline; the pages that name
//! a shot link to it; another organisation's shot is a 404; the Chinese page has no English.

use crate::common::*;
use crate::pages::{Browser, text};
use mstation_core::Role;
use serde_json::json;

/// Two shots: three seconds (72 frames at 24 fps) and a second and a half.
const CUT: &str = "TITLE: MOONLIGHT R1
FCM: NON-DROP FRAME
001  A001C003 V     C        10:00:00:00 10:00:03:00 01:00:00:00 01:00:03:00
* FROM CLIP NAME: A001C003_ROOFTOP.MOV
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:03:00 01:00:04:12
* FROM CLIP NAME: A001C007_ALLEY.MOV
";

/// The recut: the second shot is gone.
const RECUT: &str = "TITLE: MOONLIGHT R2
FCM: NON-DROP FRAME
001  A001C003 V     C        10:00:00:00 10:00:03:00 01:00:00:00 01:00:03:00
* FROM CLIP NAME: A001C003_ROOFTOP.MOV
";

/// The `<section>` of a page marked `data-testid="{name}"`.
fn section<'p>(page: &'p str, name: &str) -> &'p str {
    let at = page
        .find(&format!("data-testid=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} section: {page}"));
    &page[at..at + page[at..].find("</section>").unwrap()]
}

/// The text of a fact: `data-testid="{name}">…<`.
fn fact<'p>(page: &'p str, name: &str) -> &'p str {
    let marker = format!("data-testid=\"{name}\">");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} fact: {page}"))
        + marker.len();
    &page[at..at + page[at..].find('<').unwrap()]
}

/// The `## Shot page` block of a catalog: (key, value).
fn shot_keys(lang: &str) -> Vec<(String, String)> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let block = &text[text.find("\n## Shot page\n").expect("a ## Shot page block")..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shot_page_shows_the_shot_its_work_and_its_people() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let li = srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist).await;
        let fang = srv.person(&a, "fang@alpha.example", "Wang Fang", Role::Artist).await;
        srv.person(&a, "vera@alpha.example", "Vera Viewer", Role::Viewer).await;
        let tok = a.token.clone();

        // A project, a sequence and its cut.
        let (s, p) = srv
            .post(
                &tok,
                "/api/v1/projects",
                json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 4096, "height": 2160}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        let pid = id(&p);
        let (_, seq) = srv
            .post(
                &tok,
                &format!("/api/v1/projects/{pid}/sequences"),
                json!({"name": "SQ010"}),
            )
            .await;
        let seq = id(&seq);
        let (s, v) = srv
            .post(
                &tok,
                &format!("/api/v1/sequences/{seq}/conform"),
                json!({"format": "cmx3600", "edl": CUT, "apply": true}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (_, shots) = srv
            .get(&tok, &format!("/api/v1/sequences/{seq}/shots"))
            .await;
        let shot = id(&shots["items"][0]);
        let other_shot = id(&shots["items"][1]);
        assert_eq!(shots["items"][0]["name"], "SQ010_0010");

        // Tasks made against pipeline order, with people and a due date.
        let (_, types) = srv
            .get(&tok, &format!("/api/v1/projects/{pid}/task-types"))
            .await;
        let step = |name: &str| {
            types["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == name)
                .unwrap_or_else(|| panic!("no step {name}: {types}"))["id"]
                .clone()
        };
        let (s, made) = srv
            .post(
                &tok,
                "/api/v1/tasks",
                json!({"tasks": [
                    {"shot_id": shot, "task_type_id": step("Compositing"), "assignees": [fang.id], "due_date": "2026-12-05"},
                    {"shot_id": shot, "task_type_id": step("Layout"), "assignees": [li.id, fang.id]},
                    {"shot_id": shot, "task_type_id": step("Animation"), "assignees": [li.id]},
                    {"shot_id": other_shot, "task_type_id": step("Animation"), "assignees": [li.id]},
                ]}),
            )
            .await;
        assert_eq!(s, 201, "{made}");
        let (comp, layout, anim) = (
            id(&made["items"][0]),
            id(&made["items"][1]),
            id(&made["items"][2]),
        );
        let other_task = id(&made["items"][3]);

        // A note on the shot, a note on one of its tasks, versions, a cast asset, custom fields.
        let (s, v) = srv
            .post(
                &tok,
                &format!("/api/v1/shots/{shot}/notes"),
                json!({"body": "The sky needs a wider plate.", "frame": 1020}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, _) = srv
            .post(
                &tok,
                &format!("/api/v1/tasks/{layout}/notes"),
                json!({"body": "Camera locked."}),
            )
            .await;
        assert_eq!(s, 201);
        let lib = Browser::sign_in(&srv, "li@alpha.example", "correct horse battery").await;
        let (s, _) = lib
            .post(
                &format!("/app/tasks/{anim}/versions"),
                &[("comment", "Blocking pass.")],
            )
            .await;
        assert_eq!(s, 303);
        let (s, _) = lib
            .post(
                &format!("/app/tasks/{anim}/versions"),
                &[("comment", "Spline pass.")],
            )
            .await;
        assert_eq!(s, 303);
        // A version of another shot's task is not this shot's.
        let (s, _) = lib
            .post(
                &format!("/app/tasks/{other_task}/versions"),
                &[("comment", "Alley blocking.")],
            )
            .await;
        assert_eq!(s, 303);
        let (s, asset) = srv
            .post(
                &tok,
                &format!("/api/v1/projects/{pid}/assets"),
                json!({"name": "Lantern", "kind": "prop"}),
            )
            .await;
        assert_eq!(s, 201, "{asset}");
        let asset = id(&asset);
        let r = srv
            .call(
                &tok,
                reqwest::Method::PUT,
                &format!("/api/v1/shots/{shot}/assets/{asset}"),
                Some(json!({"count": 3})),
            )
            .await;
        assert_eq!(r.status().as_u16(), 200);
        for field in [
            json!({"entity": "shot", "key": "bid", "name": "Bid days", "kind": "number"}),
            json!({"entity": "shot", "key": "complexity", "name": "Complexity", "kind": "choice", "choices": ["Easy", "Hard"], "sort_order": 5}),
        ] {
            let (s, v) = srv
                .post(&tok, &format!("/api/v1/projects/{pid}/fields"), field)
                .await;
            assert_eq!(s, 201, "{v}");
        }
        let r = srv
            .call(
                &tok,
                reqwest::Method::PATCH,
                &format!("/api/v1/shots/{shot}/fields"),
                Some(json!({"bid": 2.5})),
            )
            .await;
        assert_eq!(r.status().as_u16(), 200);

        // The owner's view.
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let url = format!("/app/shots/{shot}");
        let (s, page) = owner.get(&url).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("<title>SQ010_0010 · SQ010"), "{page}");
        assert!(page.contains(&format!("href=\"/app/projects/{pid}\">Moonlight</a>")));
        assert!(page.contains(&format!(
            "href=\"/app/projects/{pid}/shots?sequence={seq}\" data-testid=\"sequence\">SQ010</a>"
        )));
        assert_eq!(fact(&page, "shot-status"), "In the cut");
        assert_eq!(fact(&page, "cut"), "1009–1080");
        assert_eq!(fact(&page, "frames"), "72", "in and out both count");
        assert_eq!(fact(&page, "head-handles"), "8");
        assert_eq!(fact(&page, "tail-handles"), "8");
        assert_eq!(fact(&page, "with-handles"), "1001–1088 (88)");
        assert_eq!(fact(&page, "record"), "01:00:00:00–01:00:03:00");
        assert_eq!(fact(&page, "source"), "10:00:00:00–10:00:03:00");
        assert_eq!(fact(&page, "reel"), "A001C003");
        assert_eq!(fact(&page, "clip"), "A001C003_ROOFTOP.MOV");

        let tasks = section(&page, "tasks");
        let at = |needle: &str| {
            tasks
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} is not among the tasks: {tasks}"))
        };
        assert!(
            at(">Layout<") < at(">Animation<") && at(">Animation<") < at(">Compositing<"),
            "pipeline order, not the order they were made in"
        );
        for t in [&layout, &anim, &comp] {
            assert!(tasks.contains(&format!("href=\"/app/tasks/{t}\"")), "{t}");
        }
        let row = |task: &str| {
            let start = tasks.find(&format!("data-task=\"{task}\"")).unwrap();
            &tasks[start..start + tasks[start..].find("</tr>").unwrap()]
        };
        assert!(row(&comp).contains("Wang Fang") && row(&comp).contains("2026-12-05"));
        assert!(row(&layout).contains("Li Wei") && row(&layout).contains("Wang Fang"));
        assert!(row(&anim).contains("Li Wei") && !row(&anim).contains("Wang Fang"));
        assert!(row(&anim).contains("class=\"chip\""), "a status chip");
        assert!(!tasks.contains(&other_task), "only this shot's tasks");

        let notes = section(&page, "notes");
        assert!(notes.contains("The sky needs a wider plate."), "{notes}");
        assert!(notes.contains("Frame 1020") && notes.contains("Alpha Owner"));
        assert!(!notes.contains("Camera locked."), "a task's note stays on the task");
        assert!(notes.contains(&format!("action=\"/app/shots/{shot}/notes\"")));

        let versions = section(&page, "versions");
        let (v2, v1) = (
            versions.find("v002").expect("v002"),
            versions.find("v001").expect("v001"),
        );
        assert!(v2 < v1, "newest first: {versions}");
        assert!(versions.contains("Spline pass.") && versions.contains("Li Wei"));
        assert!(versions.contains(&format!("href=\"/app/tasks/{anim}\">Animation</a>")));
        assert!(!versions.contains("Alley blocking."), "another shot's version");
        assert!(versions.contains("<span class=\"count\">2</span>"));

        let cast = section(&page, "cast");
        assert!(cast.contains(&format!("href=\"/app/assets/{asset}\">Lantern</a>")));
        assert!(cast.contains("×3"));

        let fields = section(&page, "fields");
        assert!(fields.contains("Bid days") && fields.contains("value=\"2.5\""), "{fields}");
        assert!(
            fields.find("Bid days").unwrap() < fields.find("Complexity").unwrap(),
            "fields in their order"
        );

        let activity = section(&page, "activity");
        for seen in ["Spline pass.", "Camera locked.", "The sky needs a wider plate."] {
            assert!(activity.contains(seen), "{seen} in the timeline: {activity}");
        }
        assert!(
            activity.find("Spline pass.").unwrap() < activity.find("Camera locked.").unwrap(),
            "newest first"
        );
        assert!(
            activity.contains(&format!("handed in v002 of <a href=\"/app/tasks/{anim}\">Animation</a>")),
            "{activity}"
        );
        assert!(activity.contains(&format!("wrote a note on <a href=\"/app/tasks/{layout}\">Layout</a>")));
        assert!(activity.contains("wrote a note on SQ010_0010"), "a note on the shot itself");

        // The pages that name the shot link to it.
        let link = format!("href=\"/app/shots/{shot}\"");
        let (_, grid) = owner.get(&format!("/app/projects/{pid}/shots")).await;
        assert!(grid.contains(&link), "the grid");
        let (_, task_page) = owner.get(&format!("/app/tasks/{anim}")).await;
        assert!(task_page.contains(&link), "the task page");
        let (_, mine) = lib.get("/app/my-tasks").await;
        assert!(mine.contains(&link), "my tasks");
        assert!(
            mine.contains(&format!("href=\"/app/tasks/{anim}\"")),
            "my tasks still link each task"
        );

        // A viewer reads it, without the forms; their posts are refused in the page frame.
        let viewer = Browser::sign_in(&srv, "vera@alpha.example", "correct horse battery").await;
        let (s, seen) = viewer.get(&url).await;
        assert_eq!(s, 200);
        assert!(seen.contains("The sky needs a wider plate."));
        assert!(!seen.contains("data-testid=\"note-form\""), "no note form for a viewer");
        assert!(!seen.contains("action=\"/app/shots/"), "no form at all");
        assert!(section(&seen, "fields").contains(">2.5<"), "values read-only");
        let (s, refused) = viewer
            .post(&format!("{url}/notes"), &[("body", "Looks great")])
            .await;
        assert_eq!(s, 403);
        assert!(refused.contains("class=\"top\""), "inside the page frame");
        assert_eq!(
            viewer
                .post(&format!("{url}/fields"), &[("f.bid", "9"), ("was.bid", "2.5")])
                .await
                .0,
            403
        );

        // An artist may write a note, not the custom values; the note lands on the page.
        let (_, artist) = lib.get(&url).await;
        assert!(artist.contains("data-testid=\"note-form\""), "an artist gets the form");
        assert!(!artist.contains(&format!("action=\"/app/shots/{shot}/fields\"")));
        let (s, _) = lib
            .post(
                &format!("{url}/notes"),
                &[("body", "Plate is in, see the new scan."), ("frame", "1033")],
            )
            .await;
        assert_eq!(s, 303);
        let (_, after) = lib.get(&url).await;
        let notes = section(&after, "notes");
        assert!(notes.contains("Plate is in, see the new scan.") && notes.contains("Frame 1033"));
        assert!(
            notes.find("The sky needs").unwrap() < notes.find("Plate is in").unwrap(),
            "a thread reads oldest first"
        );
        assert!(notes.contains("Li Wei"));
        assert_eq!(
            lib.post(&format!("{url}/fields"), &[("f.bid", "9"), ("was.bid", "2.5")])
                .await
                .0,
            403
        );
        // A frame that is no number, or no text, is said on the page and writes nothing.
        let (s, bad) = lib
            .post(&format!("{url}/notes"), &[("body", "x"), ("frame", "late")])
            .await;
        assert_eq!(s, 422);
        assert!(bad.contains("class=\"flash error\""), "{bad}");
        assert!(
            bad.contains(">x</textarea>") && bad.contains("value=\"late\""),
            "the note comes back as typed: {bad}"
        );
        let (s, bad) = lib
            .post(&format!("{url}/notes"), &[("body", "  "), ("frame", "")])
            .await;
        assert_eq!(s, 422);
        assert!(bad.contains("class=\"flash error\""), "{bad}");
        let (_, listed) = srv.get(&tok, &format!("/api/v1/shots/{shot}/notes")).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");

        // The owner plans: only the changed field is written; a bad number is said.
        let (s, _) = owner
            .post(
                &format!("{url}/fields"),
                &[
                    ("f.bid", "2.5"),
                    ("was.bid", "2.5"),
                    ("f.complexity", "Hard"),
                    ("was.complexity", ""),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (_, values) = srv.get(&tok, &format!("/api/v1/shots/{shot}/fields")).await;
        assert_eq!(values["complexity"], "Hard", "{values}");
        assert_eq!(values["bid"], 2.5);
        let (s, bad) = owner
            .post(
                &format!("{url}/fields"),
                &[("f.bid", "lots"), ("was.bid", "2.5")],
            )
            .await;
        assert_eq!(s, 200);
        assert!(bad.contains("class=\"flash error\""), "{bad}");
        let (_, values) = srv.get(&tok, &format!("/api/v1/shots/{shot}/fields")).await;
        assert_eq!(values["bid"], 2.5, "unchanged");

        // An omitted shot says so.
        let (s, v) = srv
            .post(
                &tok,
                &format!("/api/v1/sequences/{seq}/conform"),
                json!({"format": "cmx3600", "edl": RECUT, "apply": true}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, gone) = owner.get(&format!("/app/shots/{other_shot}")).await;
        assert_eq!(s, 200);
        assert_eq!(fact(&gone, "shot-status"), "Omitted from the cut");

        // Another organisation's shot, or none at all, is the 404 page, for reads and posts.
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        let (s, page) = bravo.get(&url).await;
        assert_eq!(s, 404);
        assert!(!page.contains("SQ010") && !page.contains("Moonlight"), "{page}");
        assert_eq!(
            bravo.post(&format!("{url}/notes"), &[("body", "sneaky")]).await.0,
            404
        );
        assert_eq!(
            bravo
                .post(&format!("{url}/fields"), &[("f.bid", "1"), ("was.bid", "")])
                .await
                .0,
            404
        );
        assert_eq!(bravo.post(&format!("{url}/fields"), &[]).await.0, 404);
        let nobody = uuid::Uuid::now_v7();
        assert_eq!(owner.get(&format!("/app/shots/{nobody}")).await.0, 404);
        let (s, _) = owner.get("/app/shots/not-a-shot").await;
        assert!((400..500).contains(&s), "a bad id is the caller's mistake: {s}");
        let (_, listed) = srv.get(&tok, &format!("/api/v1/shots/{shot}/notes")).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 2, "nothing written");

        // In Chinese, none of the page's own words are English.
        assert_eq!(lib.post("/app/language", &[("locale", "zh-CN")]).await.0, 303);
        let (s, zh) = lib.get(&url).await;
        assert_eq!(s, 200);
        assert!(zh.contains("lang=\"zh-CN\""));
        let seen = text(&zh);
        let zh_words: std::collections::HashMap<String, String> =
            shot_keys("zh-CN").into_iter().collect();
        for key in ["shot-status-active", "shot-tasks", "shot-notes", "shot-versions", "shot-assets", "shot-fields", "shot-activity"] {
            let word = &zh_words[key];
            assert!(seen.contains(word.as_str()), "{key} in Chinese ({word}): {seen}");
        }
        let english = shot_keys("en");
        assert!(english.len() >= 20, "the block is read: {english:?}");
        for (key, value) in english {
            for part in value.split(['{', '}']).step_by(2) {
                let part = part.trim();
                if part.len() >= 4 {
                    assert!(!seen.contains(part), "{key} in English on the Chinese page: {part}");
                }
            }
        }
        assert!(seen.contains("提交了") && seen.contains("写了备注"), "the timeline in Chinese");
        for english in ["Notes", "Versions", "Frames", "Cut", "Reel", "Clip", "Layout", "Animation", "wrote a note"] {
            assert!(!seen.contains(english), "{english} on the Chinese page: {seen}");
        }
    })
    .await;
}
