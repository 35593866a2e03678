//! The talent pages: a post house writes a profile through the editor and adds a credit; a
//! production's producer finds the person in the directory in English and in Chinese and opens
//! the profile, which never shows the birth date or e-mail address; a refused form comes back
//! with what was typed and names the field in the reader's language.

use crate::common::*;
use crate::pages::Browser;
use serde_json::json;

/// The texts of the catalog's `## Talent` block in English.
fn talent_texts() -> Vec<String> {
    let path = format!("{}/locales/en/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let all = std::fs::read_to_string(path).unwrap();
    let block = &all[all.find("\n## Talent").expect("a ## Talent block")..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        // A language's name is also the language switcher's, in its own words.
        .filter(|l| !l.starts_with("talent-lang-"))
        .filter_map(|l| l.split_once(" = ").map(|(_, v)| v.to_string()))
        .filter(|v| !v.contains('{') && v.len() > 4)
        .collect()
}

/// The address a 303 sends the browser to.
fn profile_of(page: &str) -> String {
    let at = page.find("data-profile=\"").expect("a profile") + 14;
    page[at..at + 36].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_is_written_found_and_read_through_the_pages() {
    on_every_backend(|srv| async move {
        let post = srv.tenant("Harbour Post", "harbour-post").await;
        let prod = srv.tenant("Bravo Films", "bravo-films").await;
        let keeper = Browser::sign_in(&srv, &post.owner.email, &post.password).await;
        let hirer = Browser::sign_in(&srv, &prod.owner.email, &prod.password).await;

        // A refused form comes back with what was typed and the field named.
        let form = [
            ("name", "Chen Yu"),
            ("headline", "Grading features and commercials since 2012"),
            ("role", "colourist"),
            ("role2", "dit"),
            ("skills", "DaVinci Resolve，Baselight, ACES"),
            ("lang-zh", "on"),
            ("lang-yue", "on"),
            ("lang-en", "on"),
            ("city", "Shanghai"),
            ("country", "CN"),
            ("day_rate", "2500"),
            ("currency", "CNY"),
            ("visibility", "platform"),
            ("birth_date", "1988-02-14"),
            ("email", "chen.yu@harbour.example"),
            ("bio", "Twelve years in the grading suite."),
        ];
        let mut bad: Vec<(&str, &str)> = form.to_vec();
        bad.retain(|(k, _)| *k != "currency");
        let (s, page) = keeper.post("/app/talent", &bad).await;
        assert_eq!(s, 422, "{page}");
        assert!(
            page.contains("class=\"flash error\"")
                && page.contains("Currency")
                && page.contains("value=\"Chen Yu\""),
            "{page}"
        );
        let (s, _) = keeper.post("/app/talent", &form).await;
        assert_eq!(s, 303);
        let (_, list) = keeper.get("/app/talent").await;
        let id = profile_of(&list);
        let (s, _) = keeper
            .post(
                &format!("/app/talent/profiles/{id}/credits"),
                &[
                    ("title", "Moonlight Harbour"),
                    ("role", "colourist"),
                    ("company", "Harbour Post"),
                    ("year", "2022"),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (_, mine) = keeper.get(&format!("/app/talent/profiles/{id}")).await;
        assert!(
            mine.contains("1988-02-14") && mine.contains("chen.yu@harbour.example"),
            "the keeper reads all of it"
        );
        assert!(
            mine.contains("Moonlight Harbour")
                && mine.contains("Self-declared")
                && mine.contains("data-testid=\"edit\"")
        );
        let (s, edit) = keeper.get(&format!("/app/talent/profiles/{id}/edit")).await;
        assert_eq!(s, 200);
        assert!(
            edit.contains("value=\"DaVinci Resolve, Baselight, ACES\"")
                && edit.contains("value=\"2500.00\""),
            "{edit}"
        );
        assert!(
            edit.contains("name=\"lang-yue\" checked")
                && !edit.contains("name=\"lang-ja\" checked"),
            "{edit}"
        );

        // The producer finds the colourist by role and by words, and reads no sensitive field.
        for q in [
            "/app/talent",
            "/app/talent?role=colourist",
            "/app/talent?q=resolve&language=yue",
            "/app/talent?department=colour&country=cn",
        ] {
            let (s, found) = hirer.get(q).await;
            assert_eq!(s, 200, "{q}");
            assert!(
                found.contains(&id)
                    && found.contains("Chen Yu")
                    && found.contains("2,500.00 CNY a day"),
                "{q}: {found}"
            );
            assert!(
                !found.contains("1988") && !found.contains("harbour.example"),
                "{q}"
            );
        }
        let (_, none) = hirer.get("/app/talent?role=gaffer").await;
        assert!(none.contains("data-testid=\"no-profiles\"") && !none.contains(&id));
        let (s, theirs) = hirer.get(&format!("/app/talent/profiles/{id}")).await;
        assert_eq!(s, 200);
        assert!(theirs.contains("Moonlight Harbour") && theirs.contains("Harbour Post"));
        assert!(
            !theirs.contains("1988")
                && !theirs.contains("harbour.example")
                && !theirs.contains("data-testid=\"edit\"")
                && !theirs.contains("credit-form"),
            "{theirs}"
        );
        let (s, _) = hirer.get(&format!("/app/talent/profiles/{id}/edit")).await;
        assert_eq!(s, 404);
        let (s, _) = hirer
            .post(&format!("/app/talent/profiles/{id}/delete"), &[])
            .await;
        assert_eq!(s, 404);

        // The editor keeps what it does not show: the linked account and roles past two. A
        // second save from a form read before the first is refused, and shows what it meets.
        let (s, linked) = srv
            .post(&post.token, "/api/v1/talent/profiles",
                  json!({"name": "Wu Fang", "roles": ["gaffer", "best_boy", "key_grip"], "user_id": post.owner.id}))
            .await;
        assert_eq!(s, 201, "{linked}");
        let lid = linked["id"].as_str().unwrap().to_string();
        let (_, edit) = keeper.get(&format!("/app/talent/profiles/{lid}/edit")).await;
        let hidden = |name: &str| {
            let at = edit.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
            edit[at..at + edit[at..].find('"').unwrap()].to_string()
        };
        let (user, more, version) = (hidden("user_id"), hidden("more_roles"), hidden("version"));
        let form = [("name", "Wu Fang"), ("role", "gaffer"), ("role2", "best_boy"), ("user_id", user.as_str()),
                    ("more_roles", more.as_str()), ("version", version.as_str()), ("visibility", "private")];
        let (s, _) = keeper.post(&format!("/app/talent/profiles/{lid}"), &form).await;
        assert_eq!(s, 303);
        let (_, after) = srv.get(&post.token, &format!("/api/v1/talent/profiles/{lid}")).await;
        assert_eq!((&after["user_id"], &after["roles"]), (&json!(post.owner.id), &json!(["gaffer", "best_boy", "key_grip"])), "{after}");
        let (s, page) = keeper.post(&format!("/app/talent/profiles/{lid}"), &form).await;
        assert_eq!(s, 409);
        assert!(page.contains("name=\"version\" value=\"2\"") && page.contains("class=\"flash error\""), "{page}");

        // Wrapped, the production credits its crew from the project's page: Wu Fang's profile
        // (linked to the owner, who had a task) shows it as verified.
        let (_, project) = srv
            .post(&post.token, "/api/v1/projects", json!({"name": "Harbour Lights", "code": "HL", "fps": "25", "width": 1920, "height": 1080}))
            .await;
        let pid = project["id"].as_str().unwrap().to_string();
        let (_, seq) = srv.post(&post.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let edl = "TITLE: HL\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
        let seq_id = seq["id"].as_str().unwrap();
        srv.post(&post.token, &format!("/api/v1/sequences/{seq_id}/conform"), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
        let (_, shots) = srv.get(&post.token, &format!("/api/v1/sequences/{seq_id}/shots")).await;
        let (_, types) = srv.get(&post.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let (s, _) = srv
            .post(&post.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][0]["id"], "assignees": [post.owner.id], "due_date": "2026-04-30"}]}))
            .await;
        assert_eq!(s, 201);
        let (_, page) = keeper.get(&format!("/app/projects/{pid}")).await;
        assert!(page.contains("data-testid=\"crew-credits\"") && !page.contains(&format!("/app/projects/{pid}/credits")), "not before it is wrapped");
        let r = srv.call(&post.token, reqwest::Method::PATCH, &format!("/api/v1/projects/{pid}"), Some(json!({"status": "wrapped"}))).await;
        assert_eq!(r.status(), 200);
        let (s, _) = keeper.post(&format!("/app/projects/{pid}/credits"), &[]).await;
        assert_eq!(s, 303);
        let (_, page) = keeper.get(&format!("/app/projects/{pid}")).await;
        assert!(page.contains("One person credited."), "{page}");
        let (s, _) = hirer.get(&format!("/app/talent/profiles/{lid}")).await;
        assert_eq!(s, 404, "Wu Fang's profile is kept private");
        let (_, wu) = keeper.get(&format!("/app/talent/profiles/{lid}")).await;
        assert!(wu.contains("Verified by Harbour Post") && wu.contains("Harbour Lights") && wu.contains("data-verified"), "{wu}");

        // In Chinese: the same people, the words of the taxonomy in Chinese, no English left.
        let (s, _) = hirer.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let english = talent_texts();
        for path in [
            "/app/talent?role=colourist".to_string(),
            format!("/app/talent/profiles/{id}"),
        ] {
            let (_, zh) = hirer.get(&path).await;
            assert!(
                zh.contains("人才") && zh.contains("调色师") && zh.contains("Chen Yu"),
                "{path}: {zh}"
            );
            for t in &english {
                assert!(
                    !zh.contains(t.as_str()),
                    "{path}: English \"{t}\" on the Chinese page"
                );
            }
        }
        let (s, _) = keeper.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (s, page) = keeper.post("/app/talent", &bad).await;
        assert_eq!(s, 422);
        let flash = &page[page.find("class=\"flash error\"").expect("a flash")..];
        assert!(
            flash[..flash.find("</").unwrap()].contains("币种"),
            "the field named in Chinese: {page}"
        );
        // A verified credit in Chinese: its provenance, and the default step in Chinese words.
        let (_, wu) = keeper.get(&format!("/app/talent/profiles/{lid}")).await;
        assert!(wu.contains("经 Harbour Post 核实") && wu.contains("镜头布局"), "{wu}");
        let (_, zh) = keeper.get("/app/talent/new").await;
        for t in &english {
            assert!(
                !zh.contains(t.as_str()),
                "the editor: English \"{t}\" on the Chinese page"
            );
        }
        // Withdrawn from the project's page (a credit given by mistake): listed as withdrawn,
        // gone from the profile.
        let (_, page) = keeper.get(&format!("/app/projects/{pid}")).await;
        let credit = page
            .split("data-credit=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the credit is listed")
            .to_string();
        let (s, _) = keeper
            .post(&format!("/app/projects/{pid}/credits/{credit}/withdraw"), &[])
            .await;
        assert_eq!(s, 303);
        let (_, page) = keeper.get(&format!("/app/projects/{pid}")).await;
        assert!(page.contains("已撤回") && !page.contains("data-testid=\"withdraw\""), "{page}");
        let (_, wu) = keeper.get(&format!("/app/talent/profiles/{lid}")).await;
        assert!(!wu.contains("data-verified"), "{wu}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_opens_the_matcher_with_its_role_and_days_and_every_match_says_why() {
    on_every_backend(|srv| async move {
        let post = srv.tenant("Harbour Post", "harbour-post").await;
        let prod = srv.tenant("Bravo Films", "bravo-films").await;
        for (name, skills, rate) in [("Lin Qiao", ["Nuke", "Houdini"], "1800"), ("Tom Weber", ["Nuke", "Silhouette"], "3000")] {
            let (s, p) = srv
                .post(&post.token, "/api/v1/talent/profiles",
                      json!({"name": name, "roles": ["compositor"], "skills": skills, "languages": ["zh"],
                             "day_rate": rate, "currency": "CNY", "visibility": "platform"}))
                .await;
            assert_eq!(s, 201, "{p}");
        }
        // Bravo's compositing task, from 2027-03-01 to 2027-03-12.
        let (_, project) = srv
            .post(&prod.token, "/api/v1/projects", json!({"name": "Night Ferry", "code": "NF", "fps": "24", "width": 2048, "height": 858}))
            .await;
        let pid = project["id"].as_str().unwrap().to_string();
        let (_, seq) = srv.post(&prod.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq_id = seq["id"].as_str().unwrap();
        let edl = "TITLE: NF\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
        srv.post(&prod.token, &format!("/api/v1/sequences/{seq_id}/conform"), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
        let (_, shots) = srv.get(&prod.token, &format!("/api/v1/sequences/{seq_id}/shots")).await;
        let (_, types) = srv.get(&prod.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let comp = types["items"].as_array().unwrap().iter().find(|t| t["name"] == "Compositing").unwrap()["id"].clone();
        let (s, tasks) = srv
            .post(&prod.token, "/api/v1/tasks", json!({"tasks": [{"shot_id": shots["items"][0]["id"], "task_type_id": comp, "start_date": "2027-03-01", "due_date": "2027-03-12"}]}))
            .await;
        assert_eq!(s, 201, "{tasks}");
        let task = tasks["items"][0]["id"].as_str().or(tasks[0]["id"].as_str()).unwrap().to_string();

        let hirer = Browser::sign_in(&srv, &prod.owner.email, &prod.password).await;
        let (s, page) = hirer.get(&format!("/app/tasks/{task}")).await;
        assert_eq!(s, 200);
        let at = page.find("data-testid=\"find-people\"").expect("the matcher's link");
        let href_at = page[..at].rfind("href=\"").unwrap() + 6;
        let href = page[href_at..href_at + page[href_at..].find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
        assert!(href.contains("role=compositor") && href.contains("starts_on=2027-03-01") && href.contains("ends_on=2027-03-12"), "{href}");
        let (s, found) = hirer.get(&format!("{href}&skills=Nuke%2C+Houdini&max_rate=2500&currency=CNY")).await;
        assert_eq!(s, 200, "{found}");
        let lin = found.find("Lin Qiao").expect("Lin Qiao");
        let tom = found.find("Tom Weber").expect("Tom Weber");
        assert!(lin < tom, "the better fit first");
        for why in ["Main role: Compositor", "Has Nuke, Houdini", "Free all 12 days", "1,800.00 CNY a day, within budget", "Lacks Houdini", "3,000.00 CNY a day, 20% over budget"] {
            assert!(found.contains(why), "{why}: {found}");
        }
        assert!(found.contains("data-testid=\"match-for\""), "the task named");
        // A bad ask comes back with the field named.
        let (s, bad) = hirer.get("/app/talent/match?role=compositor&starts_on=2027-03-12&ends_on=2027-03-01").await;
        assert_eq!(s, 422);
        let flash = &bad[bad.find("class=\"flash error\"").expect("a flash")..];
        assert!(flash[..flash.find("</").unwrap()].contains("Last day"), "{bad}");
        // In Chinese: the reasons in Chinese, no English of the matcher left.
        let (s, _) = hirer.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (_, zh) = hirer.get(&format!("{href}&skills=Nuke%2C+Houdini&max_rate=2500&currency=CNY")).await;
        assert!(zh.contains("主要职位：合成师") && zh.contains("12 天全部空闲") && zh.contains("超出预算 20%"), "{zh}");
        for t in crate::pages::english_block("## Talent: matching") {
            assert!(!zh.contains(t.as_str()), "English \"{t}\" on the Chinese page");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_issues_training_through_its_page_and_every_profile_of_the_student_shows_it() {
    on_every_backend(|srv| async move {
        let school = srv
            .tenant_of("Bund Film School", "bund-film", mstation_core::OrgKind::University)
            .await;
        let post = srv.tenant("Harbour Post", "harbour-post").await;
        let student = srv
            .person(&school, "wang.lei@bund-film.example", "Wang Lei", mstation_core::Role::Viewer)
            .await;
        // A graduate working at a post house, which keeps his profile.
        srv.store()
            .platform()
            .add_member(&mstation_store::Actor::system(), post.org.id, student.id, mstation_core::Role::Artist)
            .await
            .unwrap();
        let (s, profile) = srv
            .post(
                &post.token,
                "/api/v1/talent/profiles",
                json!({"name": "Wang Lei", "roles": ["compositor"], "user_id": student.id, "visibility": "platform"}),
            )
            .await;
        assert_eq!(s, 201, "{profile}");
        let profile_page = format!("/app/talent/profiles/{}", profile["id"].as_str().unwrap());
        let keeper = Browser::sign_in(&srv, &school.owner.email, &school.password).await;
        let (_, directory) = keeper.get("/app/talent").await;
        assert!(directory.contains("href=\"/app/talent/training\""), "{directory}");

        // An address of no member comes back with what was typed.
        let mut form = vec![
            ("email", "nobody@bund-film.example"),
            ("programme", "MFA Visual Effects"),
            ("kind", "degree"),
            ("department", "vfx"),
            ("starts_on", "2022-09-01"),
            ("ends_on", "2025-06-30"),
            ("hours", "2400"),
        ];
        let (s, page) = keeper.post("/app/talent/training", &form).await;
        assert_eq!(s, 422, "{page}");
        assert!(
            page.contains("class=\"flash error\"") && page.contains("value=\"MFA Visual Effects\""),
            "{page}"
        );
        // An address with an account, of no member of the school, is answered the same way,
        // whatever else the form says: the page tells nothing of other organisations' people.
        let elsewhere = post.owner.email.clone();
        for hours in ["2400", "many"] {
            let mut other = form.clone();
            other[0] = ("email", elsewhere.as_str());
            other[6] = ("hours", hours);
            let (s, again) = keeper.post("/app/talent/training", &other).await;
            let flash = |p: &str| p[p.find("class=\"flash error\"").expect("a flash")..].split("</").next().unwrap().to_string();
            let (s0, first) = {
                let mut unknown = other.clone();
                unknown[0] = ("email", "nobody@bund-film.example");
                keeper.post("/app/talent/training", &unknown).await
            };
            assert_eq!((s, flash(&again)), (s0, flash(&first)), "{again}");
        }
        form[0] = ("email", "wang.lei@bund-film.example");
        let (s, page) = keeper.post("/app/talent/training", &form).await;
        assert_eq!(s, 303, "{page}");
        let (_, list) = keeper.get("/app/talent/training").await;
        assert!(
            list.contains("Wang Lei") && list.contains("MFA Visual Effects") && list.contains("Degree"),
            "{list}"
        );

        // Any hirer reads it on the student's profile, verified by the school; in Chinese too.
        let hirer = Browser::sign_in(&srv, &post.owner.email, &post.password).await;
        let (_, page) = hirer.get(&profile_page).await;
        assert!(
            page.contains("data-testid=\"training\"")
                && page.contains("Verified by Bund Film School")
                && page.contains("2022-09-01 – 2025-06-30")
                && page.contains("Visual effects"),
            "{page}"
        );
        // A production is no school: its keepers are told so, and get no form or link.
        let (s, page) = hirer.get("/app/talent/training").await;
        assert_eq!(s, 200);
        assert!(
            page.contains("data-testid=\"not-a-school\"") && !page.contains("data-testid=\"training-form\""),
            "{page}"
        );
        let (_, directory) = hirer.get("/app/talent").await;
        assert!(!directory.contains("href=\"/app/talent/training\""), "{directory}");
        let (s, _) = hirer.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (_, zh) = hirer.get(&profile_page).await;
        assert!(zh.contains("教育与培训") && zh.contains("学位") && zh.contains("经 Bund Film School 核实"), "{zh}");
        let (s, _) = keeper.post("/app/language", &[("locale", "zh-CN")]).await;
        assert_eq!(s, 303);
        let (_, zh_list) = keeper.get("/app/talent/training").await;
        let english = talent_texts();
        for (what, page) in [("profile", &zh), ("school", &zh_list)] {
            for t in &english {
                assert!(!page.contains(t.as_str()), "{what}: English \"{t}\" on the Chinese page");
            }
        }

        // Withdrawn from the school's page: listed as withdrawn, gone from the profile.
        let at = zh_list.find("data-training=\"").expect("a record") + 15;
        let record = &zh_list[at..at + 36];
        let (s, _) = keeper
            .post(&format!("/app/talent/training/{record}/withdraw"), &[])
            .await;
        assert_eq!(s, 303);
        let (_, zh_list) = keeper.get("/app/talent/training").await;
        assert!(zh_list.contains("已撤回"), "{zh_list}");
        let (_, zh) = hirer.get(&profile_page).await;
        assert!(!zh.contains("data-testid=\"training\""), "{zh}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_finds_an_older_video_by_name_for_the_reel_and_the_profile_moves_a_version_on() {
    for backend in backends() {
        let srv = start_with_workers(backend, 1).await;
        let post = srv.tenant("Harbour Post", "harbour-post").await;
        let keeper = Browser::sign_in(&srv, &post.owner.email, &post.password).await;
        let (s, profile) = srv
            .post(
                &post.token,
                "/api/v1/talent/profiles",
                json!({"name": "Lin Qiao", "roles": ["compositor"], "visibility": "platform"}),
            )
            .await;
        assert_eq!(s, 201, "{profile}");
        let pid = id(&profile);
        let page = format!("/app/talent/profiles/{pid}");
        // No video yet: the page says where to upload one.
        let (_, none) = keeper.get(&page).await;
        assert!(
            none.contains("/app/media") && !none.contains("data-testid=\"reel-find\""),
            "{none}"
        );
        let media = srv
            .upload(
                &post.token,
                "Moonlight Harbour comp reel.mov",
                ffmpeg_clip("320x180", "24", "1", &[]),
            )
            .await;
        srv.proxied(&post.token, &media).await;
        // Found by part of its name, in any case; a name nobody wrote is said to be so.
        let (s, found) = keeper.get(&format!("{page}?reel_q=HARBOUR+comp")).await;
        assert_eq!(s, 200);
        assert!(
            found.contains(&format!("value=\"{media}\"")) && !found.contains("reel-none-named"),
            "{found}"
        );
        let (_, missing) = keeper.get(&format!("{page}?reel_q=dragon")).await;
        assert!(
            missing.contains("reel-none-named")
                && missing.contains("dragon")
                && !missing.contains(&format!("value=\"{media}\"")),
            "{missing}"
        );
        let (s, _) = keeper
            .post(
                &format!("{page}/showreel"),
                &[("media_id", media.as_str()), ("note", "Comp breakdowns")],
            )
            .await;
        assert_eq!(s, 303);
        // The reel is part of the profile: a new version, so a write of the one before is stale.
        let (_, after) = srv
            .get(&post.token, &format!("/api/v1/talent/profiles/{pid}"))
            .await;
        assert_eq!(
            after["version"].as_i64(),
            Some(profile["version"].as_i64().unwrap() + 1),
            "{after}"
        );
        // The current reel stays chosen, whatever is looked for.
        let (_, chosen) = keeper.get(&format!("{page}?reel_q=dragon")).await;
        assert!(
            chosen.contains(&format!("value=\"{media}\" selected")),
            "{chosen}"
        );
        let (s, _) = keeper.post(&format!("{page}/showreel/remove"), &[]).await;
        assert_eq!(s, 303);
        let (_, removed) = srv
            .get(&post.token, &format!("/api/v1/talent/profiles/{pid}"))
            .await;
        assert_eq!(
            removed["version"].as_i64(),
            Some(profile["version"].as_i64().unwrap() + 2),
            "{removed}"
        );
        assert!(removed["showreel"].is_null(), "{removed}");
    }
}
