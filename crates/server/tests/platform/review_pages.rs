//! The review pages: a project's playlists, made, filled, reordered and emptied through forms;
//! notes on an asset and on each version of a task; the feed of notes that mention me, as
//! sentences, a page at a time. Forms only for the roles that may use them, a refused post in
//! the page frame, another organisation's ids not found, and Chinese pages without English.

use crate::common::*;
use crate::pages::{Browser, CUT, text};
use mstation_core::Role;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// The part of `page` from the element marked `data-testid="{name}"` to the next `end`.
fn marked<'p>(page: &'p str, name: &str, end: &str) -> &'p str {
    let at = page
        .find(&format!("data-testid=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name}: {page}"));
    &page[at..at + page[at..].find(end).unwrap()]
}

/// The `<li>` of a version on a task page, its notes (an inner list) included.
fn version_item<'p>(page: &'p str, version: &str) -> &'p str {
    let at = page
        .find(&format!("id=\"version-{version}\""))
        .unwrap_or_else(|| panic!("no version {version}: {page}"));
    let rest = &page[at..];
    let mut depth = 0;
    let mut i = 0;
    loop {
        let open = rest[i..].find("<li").map(|n| n + i);
        let close = rest[i..]
            .find("</li>")
            .map(|n| n + i)
            .expect("a closed item");
        match open {
            Some(o) if o < close => {
                depth += 1;
                i = o + 3;
            }
            _ if depth == 0 => return &rest[..close],
            _ => {
                depth -= 1;
                i = close + 5;
            }
        }
    }
}

/// The playlist's version ids, in order, as the API has them.
async fn items(srv: &Srv, token: &str, playlist: &str) -> Vec<String> {
    let (s, p) = srv
        .get(token, &format!("/api/v1/playlists/{playlist}"))
        .await;
    assert_eq!(s, 200, "{p}");
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version_id"].as_str().unwrap().to_string())
        .collect()
}

/// A production to review: project Moonlight with its cut, Layout and Animation on the first
/// shot, a Lantern asset with a Layout task, and versions handed in by Li Wei (an artist).
struct Production {
    project: String,
    shot: String,
    asset: String,
    layout: String,
    anim: String,
    asset_task: String,
    /// layout v001, layout v002, anim v001, asset task v001, in the order they were made.
    versions: Vec<String>,
}

async fn production(srv: &Srv, a: &Tenant) -> Production {
    let tok = &a.token;
    let (s, p) = srv
        .post(
            tok,
            "/api/v1/projects",
            json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let project = id(&p);
    let (_, seq) = srv
        .post(
            tok,
            &format!("/api/v1/projects/{project}/sequences"),
            json!({"name": "SQ010"}),
        )
        .await;
    let seq = id(&seq);
    let (s, v) = srv
        .post(
            tok,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": "cmx3600", "edl": CUT, "apply": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, shots) = srv
        .get(tok, &format!("/api/v1/sequences/{seq}/shots"))
        .await;
    let shot = id(&shots["items"][0]);
    let (s, asset) = srv
        .post(
            tok,
            &format!("/api/v1/projects/{project}/assets"),
            json!({"name": "Lantern", "kind": "prop"}),
        )
        .await;
    assert_eq!(s, 201, "{asset}");
    let asset = id(&asset);
    let (_, types) = srv
        .get(tok, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let step = |name: &str| {
        types["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let (s, made) = srv
        .post(
            tok,
            "/api/v1/tasks",
            json!({"tasks": [
                {"shot_id": shot, "task_type_id": step("Layout")},
                {"shot_id": shot, "task_type_id": step("Animation")},
                {"asset_id": asset, "task_type_id": step("Layout")},
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let (layout, anim, asset_task) = (
        id(&made["items"][0]),
        id(&made["items"][1]),
        id(&made["items"][2]),
    );
    let li = Browser::sign_in(srv, "li@alpha.example", PASSWORD).await;
    for (task, comment) in [
        (&layout, "Camera blocked."),
        (&layout, "Camera final."),
        (&anim, "Blocking pass."),
        (&asset_task, "Lantern model."),
    ] {
        let (s, _) = li
            .post(
                &format!("/app/tasks/{task}/versions"),
                &[("comment", comment)],
            )
            .await;
        assert_eq!(s, 303);
    }
    let mut versions = Vec::new();
    for task in [&layout, &anim, &asset_task] {
        let (_, list) = srv
            .get(tok, &format!("/api/v1/tasks/{task}/versions"))
            .await;
        versions.extend(list["items"].as_array().unwrap().iter().map(id));
    }
    Production {
        project,
        shot,
        asset,
        layout,
        anim,
        asset_task,
        versions,
    }
}

/// The `## Review` block of a catalog: every text in it, the variants of a selector included.
fn review_texts(lang: &str) -> Vec<(String, String)> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let block = &text[text
        .find("\n## Review: playlists, mentions")
        .expect("a ## Review block")..];
    let mut out = Vec::new();
    let mut key = String::new();
    for line in block.lines().skip(2).take_while(|l| !l.starts_with("##")) {
        let value = match line.split_once(" = ") {
            Some((k, v)) if !line.starts_with(' ') => {
                key = k.trim().to_string();
                v
            }
            // A selector's variant: `[one] 1 version`.
            _ => line.trim().rsplit(']').next().unwrap_or(""),
        };
        out.push((key.clone(), value.trim().to_string()));
    }
    out
}

/// No text of the review block, and no key of it, is on a Chinese `page`.
fn no_english(page: &str, what: &str) {
    assert!(page.contains("lang=\"zh-CN\""), "{what} is Chinese");
    let seen = text(page);
    let english = review_texts("en");
    assert!(english.len() >= 30, "the block is read: {english:?}");
    for (key, value) in &english {
        assert!(!page.contains(key.as_str()), "{what} names the key {key}");
        for part in value.split(['{', '}']).step_by(2) {
            let part = part.trim();
            if part.len() >= 4 {
                assert!(!seen.contains(part), "{what}: {key} in English: {part}");
            }
        }
    }
    for english in [
        "Note",
        "Post note",
        "Frame",
        "Someone",
        "Versions",
        "Layout",
        "Animation",
        "More",
    ] {
        assert!(
            !seen.contains(english),
            "{what}: {english} in English: {seen}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_are_made_filled_and_ordered_through_pages() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist).await;
        srv.person(&a, "cleo@alpha.example", "Cleo Client", Role::Client).await;
        let tok = a.token.clone();
        let p = production(&srv, &a).await;
        let pid = &p.project;
        let [l1, l2, a1, s1] = [0, 1, 2, 3].map(|i| p.versions[i].clone());

        // The project page links to its playlists, which start empty.
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let list_url = format!("/app/projects/{pid}/playlists");
        let (_, project) = owner.get(&format!("/app/projects/{pid}")).await;
        assert!(project.contains(&format!("href=\"{list_url}\">Playlists</a>")));
        let (s, list) = owner.get(&list_url).await;
        assert_eq!(s, 200, "{list}");
        assert!(list.contains("This project has no playlists yet."));
        assert!(list.contains("data-testid=\"playlist-form\""));

        // A name is needed; the form comes back with the refusal said.
        let (s, bad) = owner.post(&list_url, &[("name", "   ")]).await;
        assert_eq!(s, 422);
        assert!(bad.contains("class=\"flash error\""), "{bad}");
        let (s, _) = owner.post(&list_url, &[("name", "Dailies Tuesday")]).await;
        assert_eq!(s, 303);
        let (_, api) = srv.get(&tok, &format!("/api/v1/projects/{pid}/playlists")).await;
        let pl = id(&api["items"][0]);
        let url = format!("/app/playlists/{pl}");
        let items_url = format!("{url}/items");

        // The empty playlist offers the project's recent versions, newest first.
        let (s, page) = owner.get(&url).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("<title>Dailies Tuesday · Moonlight"));
        assert!(page.contains("This playlist has no versions yet."));
        assert!(page.contains("Made by Alpha Owner on "));
        let add = marked(&page, "add-form", "</form>");
        for v in [&l1, &l2, &a1, &s1] {
            assert!(add.contains(&format!("value=\"{v}\"")), "{v} offered: {add}");
        }
        assert!(add.contains("SQ010_0010 · Layout · v002 · Li Wei · "), "{add}");
        assert!(add.contains("Lantern · Layout · v001 · Li Wei"), "{add}");
        assert!(
            add.find(&s1).unwrap() < add.find(&l1).unwrap(),
            "newest first: {add}"
        );

        // Three versions added one at a time, each form from the playlist it saw.
        for (seen, v) in [("1", &l2), ("2", &a1), ("3", &s1)] {
            let (s, body) = owner
                .post(&items_url, &[("action", "add"), ("version_id", v), ("seen", seen)])
                .await;
            assert_eq!(s, 303, "{body}");
        }
        assert_eq!(items(&srv, &tok, &pl).await, [&l2, &a1, &s1].map(String::as_str));
        let (_, page) = owner.get(&url).await;
        assert!(page.contains("3 versions"), "the count in words");
        let rows = marked(&page, "items", "</table>");
        let at = |v: &str| rows.find(&format!("data-version=\"{v}\"")).unwrap();
        assert!(at(&l2) < at(&a1) && at(&a1) < at(&s1), "play order");
        let row = &rows[at(&l2)..at(&a1)];
        for seen in [
            format!("href=\"/app/shots/{}\">SQ010_0010</a>", p.shot),
            format!("href=\"/app/tasks/{}\">Layout</a>", p.layout),
            format!("href=\"/app/tasks/{}#version-{l2}\">v002</a>", p.layout),
            "Camera final.".into(),
            "Li Wei".into(),
            "class=\"chip\"".into(),
            "To do".into(),
        ] {
            assert!(row.contains(&seen), "{seen} in the row: {row}");
        }
        let row = &rows[at(&s1)..];
        assert!(row.contains(&format!("href=\"/app/assets/{}\">Lantern</a>", p.asset)));
        assert!(rows.contains("aria-label=\"Move SQ010_0010 · Layout v002 down\""));
        assert!(rows.contains("aria-label=\"Take Lantern · Layout v001 out of the playlist\""));
        let add = marked(&page, "add-form", "</form>");
        assert!(add.contains(&l1) && !add.contains(&l2), "only what is not in it");

        // Moved down, moved up, a move past the end changes nothing, one taken out.
        let seen = |n: i64| n.to_string();
        let post = |action: &'static str, v: String, n: i64| {
            let owner = &owner;
            let items_url = items_url.clone();
            async move {
                owner
                    .post(&items_url, &[("action", action), ("version_id", &v), ("seen", &seen(n))])
                    .await
            }
        };
        assert_eq!(post("down", l2.clone(), 4).await.0, 303);
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &l2, &s1].map(String::as_str));
        assert_eq!(post("up", s1.clone(), 5).await.0, 303);
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &s1, &l2].map(String::as_str));
        assert_eq!(post("up", a1.clone(), 6).await.0, 303, "already first");
        assert_eq!(post("down", l2.clone(), 6).await.0, 303, "already last");
        assert_eq!(post("remove", s1.clone(), 6).await.0, 303);
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &l2].map(String::as_str));

        // A form from before a change (a second click) is refused and changes nothing.
        let (s, stale) = post("up", l2.clone(), 6).await;
        assert_eq!(s, 409);
        assert!(stale.contains("Someone changed this playlist"), "{stale}");
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &l2].map(String::as_str));
        // A version already in it, one of another project or organisation, or no id at all.
        let (s, again) = post("add", l2.clone(), 7).await;
        assert_eq!(s, 422);
        assert!(again.contains("That version is in the playlist already."));
        let (_, other) = srv
            .post(&tok, "/api/v1/projects", json!({"name": "Sunrise", "code": "SUN", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let other_pid = id(&other);
        let (_, oseq) = srv
            .post(&tok, &format!("/api/v1/projects/{other_pid}/sequences"), json!({"name": "SQ900"}))
            .await;
        let oseq = id(&oseq);
        srv.post(&tok, &format!("/api/v1/sequences/{oseq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true}))
            .await;
        let (_, oshots) = srv.get(&tok, &format!("/api/v1/sequences/{oseq}/shots")).await;
        let (_, otypes) = srv.get(&tok, &format!("/api/v1/projects/{other_pid}/task-types")).await;
        let (_, otask) = srv
            .post(&tok, "/api/v1/tasks", json!({"tasks": [{"shot_id": oshots["items"][0]["id"], "task_type_id": otypes["items"][0]["id"]}]}))
            .await;
        let (_, ov) = srv
            .post(&tok, &format!("/api/v1/tasks/{}/versions", id(&otask["items"][0])), json!({}))
            .await;
        let (s, refused) = post("add", id(&ov), 7).await;
        assert_eq!(s, 422);
        assert!(refused.contains("class=\"flash error\""), "{refused}");
        assert!(!marked(&refused, "add-form", "</form>").contains(&id(&ov)), "only this project's");
        let (s, _) = post("add", "not-an-id".into(), 7).await;
        assert_eq!(s, 422);
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &l2].map(String::as_str), "nothing written");

        // The list: its name, count in words, when and by whom.
        let (_, list) = owner.get(&list_url).await;
        let table = marked(&list, "playlists", "</table>");
        assert!(table.contains(&format!("href=\"{url}\">Dailies Tuesday</a>")), "{table}");
        assert!(table.contains("2 versions") && table.contains("Alpha Owner"));
        assert_eq!(marked(&list, "total", "<").rsplit('>').next(), Some("1"));

        // An artist works on playlists too (as the API lets them).
        let li = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let (_, seen_by_li) = li.get(&url).await;
        assert!(seen_by_li.contains("data-testid=\"add-form\""));
        assert_eq!(li.post(&list_url, &[("name", "Li's picks")]).await.0, 303);

        // A client reviews: reads both pages without a form; a forged form is refused in frame.
        let cleo = Browser::sign_in(&srv, "cleo@alpha.example", PASSWORD).await;
        let (s, list) = cleo.get(&list_url).await;
        assert_eq!(s, 200);
        assert!(list.contains("Dailies Tuesday") && !list.contains("playlist-form"));
        let (s, page) = cleo.get(&url).await;
        assert_eq!(s, 200);
        assert!(page.contains("Camera final."));
        assert!(!page.contains("<form method=\"post\" action=\"/app/playlists/"), "no forms");
        let (s, refused) = cleo.post(&list_url, &[("name", "Client cut")]).await;
        assert_eq!(s, 403);
        assert!(refused.contains("class=\"top\""), "inside the page frame");
        let (s, refused) = cleo
            .post(&items_url, &[("action", "remove"), ("version_id", &a1), ("seen", "7")])
            .await;
        assert_eq!(s, 403);
        assert!(refused.contains("class=\"top\""));
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &l2].map(String::as_str));

        // Another organisation finds neither the project's playlists nor the playlist.
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        let (s, page) = bravo.get(&url).await;
        assert_eq!(s, 404);
        assert!(!page.contains("Dailies") && !page.contains("Moonlight"));
        assert_eq!(bravo.get(&list_url).await.0, 404);
        assert_eq!(bravo.post(&list_url, &[("name", "Sneaky")]).await.0, 404);
        assert_eq!(
            bravo
                .post(&items_url, &[("action", "remove"), ("version_id", &a1), ("seen", "7")])
                .await
                .0,
            404
        );
        assert_eq!(owner.get(&format!("/app/playlists/{}", uuid::Uuid::now_v7())).await.0, 404);
        assert_eq!(items(&srv, &tok, &pl).await, [&a1, &l2].map(String::as_str));

        // In Chinese.
        assert_eq!(li.post("/app/language", &[("locale", "zh-CN")]).await.0, 303);
        let (_, zh) = li.get(&url).await;
        no_english(&zh, "the playlist page");
        assert!(zh.contains("2 个版本") && zh.contains("加入播放列表") && zh.contains("镜头布局"), "{zh}");
        let (_, zh) = li.get(&list_url).await;
        no_english(&zh, "the playlists page");
        assert!(zh.contains("新建播放列表"));
        let (_, zh) = li.get(&format!("/app/projects/{pid}")).await;
        assert!(zh.contains(&format!("href=\"{list_url}\">播放列表</a>")));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_on_an_asset_and_on_each_version() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist)
            .await;
        srv.person(&a, "vera@alpha.example", "Vera Viewer", Role::Viewer)
            .await;
        let tok = a.token.clone();
        let p = production(&srv, &a).await;
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;

        // The asset page: no notes yet, and the form.
        let asset_url = format!("/app/assets/{}", p.asset);
        let (s, page) = owner.get(&asset_url).await;
        assert_eq!(s, 200, "{page}");
        let notes = marked(&page, "notes", "</section>");
        assert!(
            notes.contains("Notes on the asset") && notes.contains("No notes on this asset yet.")
        );
        assert!(
            notes.contains(&format!("action=\"{asset_url}/notes\"")),
            "{notes}"
        );
        let (s, _) = owner
            .post(
                &format!("{asset_url}/notes"),
                &[("body", "The glass needs more grime."), ("frame", "")],
            )
            .await;
        assert_eq!(s, 303);
        let li = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let (s, _) = li
            .post(
                &format!("{asset_url}/notes"),
                &[("body", "Grime added, see the turntable."), ("frame", "12")],
            )
            .await;
        assert_eq!(s, 303);
        let (_, page) = owner.get(&asset_url).await;
        let notes = marked(&page, "notes", "</section>");
        assert!(notes.contains("The glass needs more grime.") && notes.contains("Alpha Owner"));
        assert!(
            notes.contains("Grime added") && notes.contains("Li Wei") && notes.contains("Frame 12")
        );
        assert!(
            notes.find("The glass").unwrap() < notes.find("Grime added").unwrap(),
            "oldest first"
        );
        // A frame that is no number, or no text, is said on the page and writes nothing.
        for form in [
            [("body", "x"), ("frame", "late")],
            [("body", "  "), ("frame", "")],
        ] {
            let (s, bad) = owner.post(&format!("{asset_url}/notes"), &form).await;
            assert_eq!(s, 422);
            assert!(bad.contains("class=\"flash error\""), "{bad}");
            assert!(bad.contains("Lantern"), "the asset page, with the refusal");
        }
        let (_, listed) = srv
            .get(&tok, &format!("/api/v1/assets/{}/notes", p.asset))
            .await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");

        // The task page: a form under each version; a note lands under its version only.
        let task_url = format!("/app/tasks/{}", p.layout);
        let (l1, l2) = (&p.versions[0], &p.versions[1]);
        let (_, page) = owner.get(&task_url).await;
        for v in [l1, l2] {
            let item = version_item(&page, v);
            assert!(
                item.contains(&format!("action=\"/app/versions/{v}/notes\"")),
                "{item}"
            );
            assert!(item.contains(&format!(
                "Write a note on {}",
                if v == l1 { "v001" } else { "v002" }
            )));
        }
        let (s, _) = owner
            .post(
                &format!("/app/versions/{l2}/notes"),
                &[("body", "Lens is too wide."), ("frame", "1010")],
            )
            .await;
        assert_eq!(s, 303);
        let (_, page) = owner.get(&task_url).await;
        let item = version_item(&page, l2);
        assert!(
            item.contains("Lens is too wide.")
                && item.contains("Frame 1010")
                && item.contains("Alpha Owner"),
            "{item}"
        );
        assert!(
            !version_item(&page, l1).contains("Lens is too wide."),
            "only under its version"
        );
        let (s, bad) = owner
            .post(
                &format!("/app/versions/{l2}/notes"),
                &[("body", ""), ("frame", "")],
            )
            .await;
        assert_eq!(s, 422);
        assert!(
            bad.contains("class=\"flash error\"") && bad.contains("id=\"version-"),
            "the task page"
        );
        // A refused note comes back as typed, under its version, with its form open.
        let (s, bad) = owner
            .post(
                &format!("/app/versions/{l2}/notes"),
                &[("body", "Flicker at the edge"), ("frame", "soon")],
            )
            .await;
        assert_eq!(s, 422);
        let item = version_item(&bad, l2);
        assert!(
            item.contains(">Flicker at the edge</textarea>")
                && item.contains("<details class=\"plan\" open>"),
            "{item}"
        );
        assert!(
            !version_item(&bad, l1).contains("Flicker at the edge"),
            "only under its version"
        );
        let (_, listed) = srv.get(&tok, &format!("/api/v1/versions/{l2}/notes")).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

        // A viewer reads the notes without the forms; a forged form is refused in the frame.
        let vera = Browser::sign_in(&srv, "vera@alpha.example", PASSWORD).await;
        let (_, page) = vera.get(&asset_url).await;
        assert!(
            page.contains("The glass needs more grime.")
                && !page.contains("data-testid=\"note-form\"")
        );
        let (_, page) = vera.get(&task_url).await;
        assert!(page.contains("Lens is too wide.") && !page.contains("version-note-form"));
        for url in [
            format!("{asset_url}/notes"),
            format!("/app/versions/{l2}/notes"),
        ] {
            let (s, refused) = vera.post(&url, &[("body", "Looks great")]).await;
            assert_eq!(s, 403, "{url}");
            assert!(refused.contains("class=\"top\""), "inside the page frame");
        }

        // Another organisation's asset and version are not found, to read or to note.
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        assert_eq!(bravo.get(&asset_url).await.0, 404);
        assert_eq!(
            bravo
                .post(&format!("{asset_url}/notes"), &[("body", "sneaky")])
                .await
                .0,
            404
        );
        assert_eq!(
            bravo
                .post(&format!("/app/versions/{l2}/notes"), &[("body", "sneaky")])
                .await
                .0,
            404
        );
        let (_, listed) = srv.get(&tok, &format!("/api/v1/versions/{l2}/notes")).await;
        assert_eq!(
            listed["items"].as_array().unwrap().len(),
            1,
            "nothing written"
        );

        // In Chinese.
        assert_eq!(
            li.post("/app/language", &[("locale", "zh-CN")]).await.0,
            303
        );
        let (_, zh) = li.get(&asset_url).await;
        no_english(&zh, "the asset page");
        assert!(zh.contains("资产备注") && zh.contains("帧 12"), "{zh}");
        let (_, zh) = li.get(&task_url).await;
        no_english(&zh, "the task page");
        assert!(zh.contains("给 v002 写备注"));
        let _ = (&p.anim, &p.asset_task);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_are_sentences_naming_the_note_newest_first() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist).await;
        let tok = a.token.clone();
        let p = production(&srv, &a).await;
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;

        // Li is mentioned on a task, a shot, an asset and a version; one note names nobody.
        let on_version = &p.versions[2];
        for (path, body) in [
            (format!("/api/v1/tasks/{}/notes", p.layout), "@li@alpha.example camera is yours"),
            (format!("/api/v1/shots/{}/notes", p.shot), "@\"Li Wei\" the plate is in"),
            (format!("/api/v1/assets/{}/notes", p.asset), "Nobody is named here."),
        ] {
            let (s, n) = srv.post(&tok, &path, json!({"body": body})).await;
            assert_eq!(s, 201, "{n}");
        }
        let (s, _) = owner
            .post(&format!("/app/assets/{}/notes", p.asset), &[("body", "@li@alpha.example more grime")])
            .await;
        assert_eq!(s, 303);
        let (s, _) = owner
            .post(&format!("/app/versions/{on_version}/notes"), &[("body", "@\"Li Wei\" arcs are floaty")])
            .await;
        assert_eq!(s, 303);
        // Bravo has no Li: a mention there names nobody of Alpha.
        let (s, _) = srv
            .post(&b.token, "/api/v1/projects", json!({"name": "Other", "code": "OTH", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        assert_eq!(s, 201);

        let li = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let (s, page) = li.get("/app/mentions").await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("href=\"/app/mentions\" aria-current=\"page\""), "in the navigation");
        assert_eq!(marked(&page, "total", "<").rsplit('>').next(), Some("4"));
        let feed = marked(&page, "mentions", "</ol>");
        let flat = feed.replace('\n', " ");
        for sentence in [
            format!("<strong>Alpha Owner</strong> mentioned you in a note on <a href=\"/app/tasks/{}\">SQ010_0010 · Layout</a>", p.layout),
            format!("mentioned you in a note on the shot <a href=\"/app/shots/{}#notes\">SQ010_0010</a>", p.shot),
            format!("mentioned you in a note on the asset <a href=\"/app/assets/{}#notes\">Lantern</a>", p.asset),
            format!("mentioned you in a note on v001 of <a href=\"/app/tasks/{}#version-{on_version}\">SQ010_0010 · Animation</a>", p.anim),
        ] {
            assert!(flat.contains(&sentence), "{sentence} in {flat}");
        }
        assert!(!feed.contains("Nobody is named here."));
        let order: Vec<usize> = ["arcs are floaty", "more grime", "the plate is in", "camera is yours"]
            .iter()
            .map(|b| feed.find(b).unwrap_or_else(|| panic!("{b}: {feed}")))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {order:?}");
        assert!(feed.contains("Moonlight"), "the project is named");
        let (_, mine) = owner.get("/app/mentions").await;
        assert!(mine.contains("No note mentions you yet."), "only mine");

        // A page at a time: 50, then the rest with a way back to the newest.
        for i in 0..48 {
            let (s, _) = srv
                .post(&tok, &format!("/api/v1/shots/{}/notes", p.shot), json!({"body": format!("@li@alpha.example ping {i:02}")}))
                .await;
            assert_eq!(s, 201);
        }
        let (_, first) = li.get("/app/mentions").await;
        assert_eq!(marked(&first, "total", "<").rsplit('>').next(), Some("52"));
        assert_eq!(marked(&first, "mentions", "</ol>").matches("<li ").count(), 50);
        assert!(first.contains("ping 47") && !first.contains("camera is yours"));
        assert!(!first.contains("Back to the newest"));
        let more = first
            .split("href=\"")
            .find(|h| h.starts_with("/app/mentions?cursor="))
            .map(|h| &h[..h.find('"').unwrap()])
            .expect("a link to the next page");
        let (s, second) = li.get(more).await;
        assert_eq!(s, 200);
        let rest = marked(&second, "mentions", "</ol>");
        assert_eq!(rest.matches("<li ").count(), 2);
        assert!(rest.contains("camera is yours") && rest.contains("the plate is in"));
        assert!(second.contains("Back to the newest") && !second.contains("rel=\"next\""));
        // A link this page did not make: said, and the list from the top.
        let (s, bad) = li.get("/app/mentions?cursor=nonsense").await;
        assert_eq!(s, 400);
        assert!(bad.contains("class=\"flash error\"") && bad.contains("ping 47"), "{bad}");

        // In Chinese.
        assert_eq!(li.post("/app/language", &[("locale", "zh-CN")]).await.0, 303);
        let (_, zh) = li.get(more).await;
        no_english(&zh, "the mentions page");
        assert!(zh.contains("提到我的备注") && zh.contains("的备注中提到了你"), "{zh}");
        assert!(zh.contains("SQ010_0010 · 镜头布局"), "the step in Chinese");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_made_on_the_task_page_carries_the_files_ticked() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist)
            .await;
        let p = production(&srv, &a).await;
        // A render uploaded into the project.
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let render = ffmpeg_clip("160x90", "24", "1", &[]);
        let r = srv
            .http
            .post(format!("{}/files", srv.base))
            .bearer_auth(&a.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", render.len().to_string())
            .header(
                "Upload-Metadata",
                format!(
                    "filename {},project {}",
                    b64("SH010_comp_v004.mov"),
                    b64(&p.project)
                ),
            )
            .header("Content-Type", "application/offset+octet-stream")
            .body(render)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        let file = id(&files["items"][0]);
        let grid = format!("/app/projects/{}/shots", p.project);
        let poster = format!("/api/v1/media/{file}/poster");

        let li = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let (_, page) = li.get(&format!("/app/tasks/{}", p.layout)).await;
        assert!(
            page.contains(&format!("value=\"{file}\"")),
            "the project's latest file is offered"
        );
        let (s, _) = li
            .post(
                &format!("/app/tasks/{}/versions", p.layout),
                &[("comment", "Comp v4."), ("media", file.as_str())],
            )
            .await;
        assert_eq!(s, 303);
        let (_, list) = srv
            .get(
                &a.token,
                &format!("/api/v1/tasks/{}/versions?sort=-created_at", p.layout),
            )
            .await;
        let newest = id(&list["items"][0]);
        let (_, media) = srv
            .get(&a.token, &format!("/api/v1/versions/{newest}/media"))
            .await;
        assert_eq!(media["items"][0]["id"], file.as_str());
        let (_, page) = li.get(&format!("/app/tasks/{}", p.layout)).await;
        assert!(
            page.contains("data-testid=\"version-files\"") && page.contains("SH010_comp_v004.mov"),
            "the version shows its file"
        );
        // Once the render has its poster, the shot grid shows it on the shot's row (and only
        // there), and the asset grid shows none.
        for _ in 0..300 {
            let (_, f) = srv.get(&a.token, &format!("/api/v1/media/{file}")).await;
            if !f["poster_hash"].is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (s, page) = li.get(&grid).await;
        assert_eq!(s, 200);
        // The shot's poster on its row, and the layout task's cell opening its version in the
        // player.
        assert_eq!(page.matches(&poster).count(), 2, "{page}");
        assert!(
            page.contains(&format!("/app/versions/{newest}/review")),
            "the cell opens the player"
        );
        let row = &page[page.find(&poster).unwrap()..];
        let shot_link = row.find("/app/shots/").unwrap();
        assert!(
            row[shot_link..].starts_with(&format!("/app/shots/{}", p.shot)),
            "the poster is on its shot's row"
        );
        assert_eq!(
            li.get(&poster).await.0,
            200,
            "the page's viewer may load it"
        );
        // The version opens in the review player for the organisation, and for no one else.
        let review = format!("/app/versions/{newest}/review");
        let (s, player) = li.get(&review).await;
        assert_eq!(s, 200);
        assert!(
            player.contains("data-testid=\"player\"")
                && player.contains(&format!("/api/v1/media/{file}/proxy")),
            "{player}"
        );
        let (_, task_page) = li.get(&format!("/app/tasks/{}", p.layout)).await;
        assert!(
            task_page.contains(&review),
            "the task page offers the player"
        );
        // A comparison with a version that is not there is no comparison, not a missing page.
        let (s, page) = li
            .get(&format!("{review}?compare={}", uuid::Uuid::now_v7()))
            .await;
        assert_eq!(s, 200);
        assert!(!page.contains("player-video-b"), "{page}");
        let b = srv.tenant("Bravo", "bravo").await;
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        assert_eq!(bravo.get(&review).await.0, 404);
        // Verdicts as the viewer's role may give them: the owner approves or asks for changes;
        // a viewer writes nothing.
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (_, page) = owner.get(&review).await;
        assert!(
            page.contains("data-testid=\"player-approve\"")
                && page.contains("data-testid=\"player-retake\""),
            "{page}"
        );
        // An artist approves nothing of their own work.
        let (_, page) = li.get(&review).await;
        assert!(!page.contains("data-testid=\"player-approve\""), "{page}");
        // A note refused in the player is said there, kept as typed.
        let (s, page) = owner
            .post(
                &format!("/app/versions/{newest}/notes"),
                &[
                    ("body", "Keep this note."),
                    ("frame", "one"),
                    ("back", "review"),
                ],
            )
            .await;
        assert_eq!(s, 422);
        assert!(
            page.contains("data-testid=\"player\"")
                && page.contains("Keep this note.")
                && page.contains("flash error"),
            "{page}"
        );
        // A verdict against a task changed meanwhile, likewise.
        let (s, page) = owner
            .post(
                &format!("/app/tasks/{}/notes", p.layout),
                &[
                    ("body", "Approved, v1."),
                    ("version", "0"),
                    ("status_id", "00000000-0000-0000-0000-000000000000"),
                    ("review", newest.as_str()),
                ],
            )
            .await;
        assert!(s >= 400, "{s}");
        assert!(
            page.contains("data-testid=\"player\"") && page.contains("Approved, v1."),
            "{page}"
        );
        srv.person(&a, "vera@alpha.example", "Vera Viewer", Role::Viewer)
            .await;
        let vera = Browser::sign_in(&srv, "vera@alpha.example", PASSWORD).await;
        let (s, page) = vera.get(&review).await;
        assert_eq!(s, 200);
        assert!(
            !page.contains("player-note-form") && !page.contains("player-retake"),
            "{page}"
        );
        // A verdict given in the player is the version's review status in its task's stack.
        let task_page = format!("/app/tasks/{}", p.layout);
        let (_, page) = li.get(&task_page).await;
        assert!(page.contains("data-review=\"waiting\""), "{page}");
        let (_, player) = owner.get(&review).await;
        let before = &player[..player.find("data-testid=\"player-retake\"").unwrap()];
        let at = before.rfind("value=\"").unwrap() + 7;
        let retake = &before[at..at + 36];
        let (_, task) = srv
            .get(&a.token, &format!("/api/v1/tasks/{}", p.layout))
            .await;
        let (s, _) = owner
            .post(
                &format!("/app/tasks/{}/notes", p.layout),
                &[
                    ("body", "Tighter on the lantern."),
                    ("version", &task["version"].to_string()),
                    ("status_id", retake),
                    ("review", newest.as_str()),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (_, page) = li.get(&task_page).await;
        assert!(
            page.contains("data-review=\"changes_requested\"")
                && page.contains("Changes requested"),
            "{page}"
        );
        let (_, assets) = li.get(&format!("/app/projects/{}/assets", p.project)).await;
        assert!(
            !assets.contains("/poster\""),
            "no asset has a version with a file"
        );
        // A form naming something that is not a file's id is refused in words.
        let (s, page) = li
            .post(
                &format!("/app/tasks/{}/versions", p.layout),
                &[("comment", "x"), ("media", "not-an-id")],
            )
            .await;
        assert_eq!(s, 200);
        assert!(page.contains("Media must be an id"), "{page}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_note_waits_on_the_page_until_production_publishes_it() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        srv.person(&a, "li@alpha.example", "Li Wei", Role::Artist)
            .await;
        srv.person(&a, "dir@client.example", "The Director", Role::Client)
            .await;
        let p = production(&srv, &a).await;
        let asset_url = format!("/app/assets/{}", p.asset);
        let client = Browser::sign_in(&srv, "dir@client.example", PASSWORD).await;
        let (s, _) = client
            .post(
                &format!("{asset_url}/notes"),
                &[("body", "Warmer light on the lantern."), ("frame", "")],
            )
            .await;
        assert_eq!(s, 303);
        // Its author sees it, said to be with production; nothing to publish it with.
        let (_, page) = client.get(&asset_url).await;
        let notes = marked(&page, "notes", "</section>");
        assert!(
            notes.contains("Warmer light") && notes.contains("data-testid=\"held\""),
            "{notes}"
        );
        assert!(notes.contains("With production") && !notes.contains("publish-held"));
        // The artist does not.
        let li = Browser::sign_in(&srv, "li@alpha.example", PASSWORD).await;
        let (_, page) = li.get(&asset_url).await;
        assert!(!page.contains("Warmer light"), "{page}");
        // The producer publishes it from the page.
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (_, page) = owner.get(&asset_url).await;
        let notes = marked(&page, "notes", "</section>");
        let at = notes.find("action=\"/app/notes/").expect("a publish form");
        let action = &notes[at + 8..at + 8 + notes[at + 8..].find('"').unwrap()];
        // Not by the artist.
        assert_eq!(li.post(action, &[]).await.0, 403);
        assert!(!li.get(&asset_url).await.1.contains("Warmer light"));
        let (s, _) = owner.post(action, &[]).await;
        assert_eq!(s, 303);
        let (_, page) = li.get(&asset_url).await;
        let notes = marked(&page, "notes", "</section>");
        assert!(
            notes.contains("Warmer light") && notes.contains("The Director"),
            "{notes}"
        );
        assert!(
            !notes.contains("data-testid=\"held\""),
            "published: {notes}"
        );

        // In Chinese, for its author and for production.
        let (s, _) = client
            .post(
                &format!("{asset_url}/notes"),
                &[("body", "And a longer flicker."), ("frame", "")],
            )
            .await;
        assert_eq!(s, 303);
        for who in [&client, &owner] {
            assert_eq!(
                who.post("/app/language", &[("locale", "zh-CN")]).await.0,
                303
            );
            let (_, zh) = who.get(&asset_url).await;
            no_english(&zh, "the asset page with a held note");
            assert!(zh.contains("待制片审阅"), "{zh}");
        }
        let (_, zh) = owner.get(&asset_url).await;
        assert!(zh.contains("发布给团队"), "{zh}");
    })
    .await;
}
