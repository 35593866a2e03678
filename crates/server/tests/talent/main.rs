//! The talent data center on both backends: a profile kept by one organisation, found by the
//! others' hirers in the directory (by words, department, crew role, language and country)
//! without the person's birth date or e-mail address; another organisation's private profile
//! never found; writes only by the keeping organisation's keepers, versioned; every bad value
//! refused naming its field, with nothing written.

#[path = "../common/mod.rs"]
mod common;
mod matching;
mod search;

use common::*;
use mstation_core::{Role, TokenScope};
use mstation_store::Actor;
use reqwest::Method;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

async fn put(
    srv: &Srv,
    token: &str,
    path: &str,
    if_match: Option<i64>,
    body: Value,
) -> (u16, Value) {
    let mut r = srv
        .http
        .put(format!("{}{path}", srv.base))
        .bearer_auth(token)
        .json(&body);
    if let Some(v) = if_match {
        r = r.header("If-Match", format!("\"{v}\""));
    }
    json(r.send().await.unwrap()).await
}

fn compositor() -> Value {
    json!({
        "name": "Lin Qiao", "headline": "Compositor, eight years in feature VFX",
        "bio": "Nuke and Flame on features and series.\nBased in Shanghai.",
        "roles": ["compositor", "roto_artist"], "skills": ["Nuke", "Flame", "nuke"],
        "languages": ["zh", "EN"], "city": "Shanghai", "country": "cn",
        "day_rate": "1800", "currency": "cny", "visibility": "platform",
        "birth_date": "1991-06-30", "email": "Lin.Qiao@alpha.example"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hirers_find_a_shown_profile_without_what_is_sensitive() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        let (s, p) = srv.post(&a.token, "/api/v1/talent/profiles", compositor()).await;
        assert_eq!(s, 201, "{p}");
        let pid = id(&p);
        // As written, checked and tidied: the repeated skill once, codes in their case.
        assert_eq!(p["department"], "vfx");
        assert_eq!(p["skills"], json!(["Nuke", "Flame"]));
        assert_eq!(p["languages"], json!(["zh", "en"]));
        assert_eq!((p["country"].as_str(), p["currency"].as_str()), (Some("CN"), Some("CNY")));
        assert_eq!(p["day_rate"], 180_000);
        assert_eq!((p["birth_date"].as_str(), p["email"].as_str()), (Some("1991-06-30"), Some("lin.qiao@alpha.example")));
        assert_eq!(p["own"], true);
        let (s, c) = srv
            .post(&a.token, &format!("/api/v1/talent/profiles/{pid}/credits"),
                  json!({"title": "The Wandering Earth", "role": "compositor", "company": "Alpha Post", "year": 2019}))
            .await;
        assert_eq!(s, 201, "{c}");
        assert_eq!(c["provenance"], "self_declared");
        // A profile Alpha keeps to itself.
        let mut hidden = compositor();
        hidden["name"] = json!("Hidden Nuke Artist");
        hidden["visibility"] = json!("private");
        let (s, h) = srv.post(&a.token, "/api/v1/talent/profiles", hidden).await;
        assert_eq!(s, 201, "{h}");

        // Bravo's hirer finds the shown one by each filter, and never the private one.
        for q in ["", "?q=nuke", "?q=SHANGHAI+flame", "?department=vfx", "?role=roto_artist", "?language=en", "?country=CN",
                  "?q=lin&department=vfx&role=compositor&language=zh&country=cn"] {
            let (s, found) = srv.get(&b.token, &format!("/api/v1/talent/profiles{q}")).await;
            assert_eq!(s, 200, "{q}: {found}");
            assert_eq!(ids(&found), vec![pid.clone()], "{q}: {found}");
            let card = &found["items"][0];
            assert!(card.get("birth_date").is_none() && card.get("email").is_none(), "{q}: {card}");
            assert_eq!((card["own"].as_bool(), card["org_name"].as_str()), (Some(false), Some("Alpha Post")));
        }
        for q in ["?q=flame+editor", "?role=editor", "?language=ja", "?country=FR", "?department=sound", "?q=100%25"] {
            let (s, found) = srv.get(&b.token, &format!("/api/v1/talent/profiles{q}")).await;
            assert_eq!((s, found["total"].as_i64()), (200, Some(0)), "{q}: {found}");
        }
        // Alpha finds both of its own, the newest first.
        let (_, own) = srv.get(&a.token, "/api/v1/talent/profiles?q=nuke").await;
        assert_eq!(ids(&own), vec![id(&h), pid.clone()], "{own}");
        // Inside Alpha too, only those who keep profiles read what is sensitive: not a
        // supervisor, who finds people, nor the audit log and the event stream.
        let (_, supervisor) = srv
            .member(&a, "sup@alpha-post.example", Role::Supervisor, &[TokenScope::Read])
            .await;
        let (s, v) = srv.get(&supervisor, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!(s, 200, "{v}");
        assert!(v.get("birth_date").is_none() && v.get("email").is_none(), "{v}");
        let (_, audit) = srv.get(&a.token, "/api/v1/audit?limit=20").await;
        let raw = audit.to_string();
        assert!(raw.contains("profile.created") && !raw.contains("1991-06-30") && !raw.contains("alpha.example"), "{raw}");

        // The profile itself: the hirer reads it and its credits, not the sensitive fields.
        let (s, seen) = srv.get(&b.token, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!(s, 200, "{seen}");
        assert!(seen.get("birth_date").is_none() && seen.get("email").is_none(), "{seen}");
        assert_eq!(seen["credits"][0]["title"], "The Wandering Earth");
        let raw = serde_json::to_string(&seen).unwrap();
        assert!(!raw.contains("1991") && !raw.contains("alpha.example"), "{raw}");
        let (_, mine) = srv.get(&a.token, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!(mine["birth_date"], "1991-06-30");
        let (s, v) = srv.get(&b.token, &format!("/api/v1/talent/profiles/{}", id(&h))).await;
        assert_eq!(s, 404, "another organisation's private profile: {v}");

        // Only the keeping organisation writes it: Bravo's owner finds nothing to change.
        let (s, v) = put(&srv, &b.token, &format!("/api/v1/talent/profiles/{pid}"), None, compositor()).await;
        assert_eq!(s, 404, "{v}");
        let (s, v) = srv.post(&b.token, &format!("/api/v1/talent/profiles/{pid}/credits"),
                              json!({"title": "Taken", "role": "compositor", "year": 2020})).await;
        assert_eq!(s, 404, "{v}");
        let r = srv.call(&b.token, Method::DELETE, &format!("/api/v1/talent/profiles/{pid}/credits/{}", id(&c)), None).await;
        assert_eq!(r.status(), 404);
        let r = srv.call(&b.token, Method::DELETE, &format!("/api/v1/talent/profiles/{pid}"), None).await;
        assert_eq!(r.status(), 404);
        let (_, still) = srv.get(&a.token, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!((still["version"].as_i64(), still["credits"].as_array().map(Vec::len)), (Some(1), Some(1)));

        // Kept private again, it leaves the directory of others.
        let mut private = compositor();
        private["visibility"] = json!("private");
        let (s, v) = put(&srv, &a.token, &format!("/api/v1/talent/profiles/{pid}"), Some(1), private).await;
        assert_eq!(s, 200, "{v}");
        let (_, found) = srv.get(&b.token, "/api/v1/talent/profiles").await;
        assert_eq!(found["total"], 0, "{found}");
        let (s, _) = srv.get(&b.token, &format!("/api/v1/talent/profiles/{pid}")).await;
        assert_eq!(s, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_versioned_and_the_filters_follow_them() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/talent/profiles", compositor())
            .await;
        let path = format!("/api/v1/talent/profiles/{}", id(&p));
        let mut colourist = compositor();
        colourist["roles"] = json!(["colourist"]);
        colourist["languages"] = json!(["yue"]);
        let (s, v) = put(&srv, &a.token, &path, Some(1), colourist.clone()).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (v["version"].as_i64(), v["department"].as_str()),
            (Some(2), Some("colour"))
        );
        // A stale version is refused and changes nothing.
        let mut editor = compositor();
        editor["roles"] = json!(["editor"]);
        let (s, v) = put(&srv, &a.token, &path, Some(1), editor).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("stale_version")), "{v}");
        let (_, now) = srv.get(&a.token, &path).await;
        assert_eq!(now["roles"], json!(["colourist"]));
        // The filters read the new roles and languages, not the old.
        for (q, n) in [
            ("?role=colourist", 1),
            ("?role=compositor", 0),
            ("?department=vfx", 0),
            ("?language=yue", 1),
            ("?language=zh", 0),
        ] {
            let (_, found) = srv
                .get(&a.token, &format!("/api/v1/talent/profiles{q}"))
                .await;
            assert_eq!(found["total"], n, "{q}: {found}");
        }
        // Removed with its credit; its audit row keeps the name, not the birth date.
        srv.post(
            &a.token,
            &format!("{path}/credits"),
            json!({"title": "Series", "role": "colourist", "year": 2025}),
        )
        .await;
        let r = srv.call(&a.token, Method::DELETE, &path, None).await;
        assert_eq!(r.status(), 204);
        let (s, _) = srv.get(&a.token, &path).await;
        assert_eq!(s, 404);
        let (_, audit) = srv.get(&a.token, "/api/v1/audit?limit=1").await;
        let row = &audit["items"][0];
        assert_eq!(row["action"], "profile.deleted", "{row}");
        assert_eq!(row["before"]["name"], "Lin Qiao");
        assert!(!row.to_string().contains("1991-06-30"), "{row}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_are_refused_naming_the_field_and_nothing_is_written() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        let with = |k: &str, v: Value| {
            let mut p = compositor();
            p[k] = v;
            p
        };
        let cases: Vec<(Value, &str)> = vec![
            (with("name", json!("  ")), "name"),
            (with("name", json!("x".repeat(121))), "name"),
            (with("roles", json!([])), "roles"),
            (with("roles", json!(["gaffer", "wizard"])), "roles"),
            (with("roles", json!(["vfx"])), "roles"),
            (
                with(
                    "roles",
                    json!([
                        "producer", "director", "editor", "gaffer", "dit", "animator"
                    ]),
                ),
                "roles",
            ),
            (with("languages", json!(["klingon"])), "languages"),
            (with("country", json!("WORLD")), "country"),
            (with("country", json!("C1")), "country"),
            (with("day_rate", json!("-5")), "day_rate"),
            (with("day_rate", json!("12.345")), "day_rate"),
            (with("currency", json!(null)), "currency"),
            (with("currency", json!("yuan")), "currency"),
            (with("birth_date", json!("1990-13-01")), "birth_date"),
            (with("birth_date", json!("2999-01-01")), "birth_date"),
            (with("email", json!("not an address")), "email"),
            (with("headline", json!("two\nlines")), "headline"),
            (with("bio", json!("nul \u{0} byte")), "bio"),
            (
                with(
                    "skills",
                    json!((0..31).map(|i| format!("skill {i}")).collect::<Vec<_>>()),
                ),
                "skills",
            ),
            (with("user_id", json!(b.owner.id)), "user_id"),
            (with("visibility", json!("everyone")), ""),
            (with("nickname", json!("Lin")), ""),
        ];
        for (body, field) in cases {
            let (s, v) = srv
                .post(&a.token, "/api/v1/talent/profiles", body.clone())
                .await;
            assert!(s == 422 || s == 400, "{body}: {s} {v}");
            assert!(
                v["type"].is_string() && v["title"].is_string(),
                "a problem: {v}"
            );
            if !field.is_empty() {
                assert_eq!(v["field"], field, "{body}: {v}");
            }
        }
        for (body, field) in [
            (
                json!({"title": "", "role": "editor", "year": 2020}),
                "title",
            ),
            (
                json!({"title": "Film", "role": "chef", "year": 2020}),
                "role",
            ),
            (
                json!({"title": "Film", "role": "editor", "year": 1500}),
                "year",
            ),
            (
                json!({"title": "Film", "role": "editor", "year": 99_999_999_999_i64}),
                "year",
            ),
        ] {
            let (_, p) = srv
                .post(&a.token, "/api/v1/talent/profiles", compositor())
                .await;
            let (s, v) = srv
                .post(
                    &a.token,
                    &format!("/api/v1/talent/profiles/{}/credits", id(&p)),
                    body.clone(),
                )
                .await;
            assert_eq!((s, v["field"].as_str()), (422, Some(field)), "{body}: {v}");
        }
        for q in [
            "?role=chef",
            "?department=catering",
            "?language=xx",
            "?country=WORLD",
            "?limit=0",
        ] {
            let (s, v) = srv
                .get(&a.token, &format!("/api/v1/talent/profiles{q}"))
                .await;
            assert!(s == 422 || s == 400, "{q}: {s} {v}");
        }
        // Only the four good profiles of the credit cases were written.
        let (_, all) = srv.get(&a.token, "/api/v1/talent/profiles").await;
        assert_eq!(all["total"], 4, "{all}");
        let (_, credits) = srv
            .get(
                &a.token,
                &format!(
                    "/api/v1/talent/profiles/{}",
                    all["items"][0]["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(credits["credits"], json!([]));
        // A member of the keeping organisation may be linked, once.
        let (member, _) = srv
            .member(
                &a,
                "lin@alpha-post.example",
                Role::Artist,
                &[TokenScope::Read],
            )
            .await;
        let (s, v) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                with("user_id", json!(member.id)),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                with("user_id", json!(member.id)),
            )
            .await;
        assert_eq!((s, v["code"].as_str()), (409, Some("duplicate")), "{v}");
        // Another organisation never learns which account the person has.
        let linked = {
            let mut p = with("user_id", json!(member.id));
            p["name"] = json!("Linked Person");
            p
        };
        let (s, v) = srv.post(&a.token, "/api/v1/talent/profiles", linked).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("duplicate")), "{v}");
        let (_, shown) = srv.get(&b.token, "/api/v1/talent/profiles?q=lin").await;
        let mine = shown["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Lin Qiao" && p["org_id"] == json!(a.org.id));
        assert!(
            shown["total"].as_i64().unwrap() >= 1 && mine.is_some(),
            "{shown}"
        );
        assert!(
            shown["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["user_id"].is_null()),
            "{shown}"
        );
        // Repeated skills are forgiven; a flood of them is refused at once.
        let (s, v) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                with("skills", json!(vec!["Nuke"; 100])),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                with("skills", json!(vec!["Nuke"; 5_000])),
            )
            .await;
        assert_eq!(
            (s, v["field"].as_str(), v["reason"].as_str()),
            (422, Some("skills"), Some("too_many")),
            "{v}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_taxonomy_names_every_role_in_both_languages_and_tokens_keep_to_their_scopes() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let (s, t) = srv.get(&a.token, "/api/v1/talent/taxonomy").await;
        assert_eq!(s, 200, "{t}");
        let vfx = t["departments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == "vfx")
            .unwrap();
        assert_eq!(
            (vfx["name"]["en"].as_str(), vfx["name"]["zh"].as_str()),
            (Some("Visual effects"), Some("视觉特效"))
        );
        for d in t["departments"].as_array().unwrap() {
            for r in d["roles"].as_array().unwrap() {
                let (en, zh) = (
                    r["name"]["en"].as_str().unwrap(),
                    r["name"]["zh"].as_str().unwrap(),
                );
                assert!(
                    !en.starts_with("talent-") && !zh.starts_with("talent-") && en != zh,
                    "{r}"
                );
            }
        }
        assert_eq!(t["languages"].as_array().unwrap().len(), 14);
        let named = t["departments"]
            .as_array()
            .unwrap()
            .iter()
            .chain(t["languages"].as_array().unwrap());
        for n in named {
            let (en, zh) = (
                n["name"]["en"].as_str().unwrap(),
                n["name"]["zh"].as_str().unwrap(),
            );
            assert!(
                !en.starts_with("talent-") && !zh.starts_with("talent-") && en != zh,
                "{n}"
            );
        }
        // A read token finds people but writes nothing; a viewer does neither.
        let (_, read) = srv
            .member(
                &a,
                "reader@alpha-post.example",
                Role::Producer,
                &[TokenScope::Read],
            )
            .await;
        let (s, _) = srv.get(&read, "/api/v1/talent/profiles").await;
        assert_eq!(s, 200);
        let (s, v) = srv
            .post(&read, "/api/v1/talent/profiles", compositor())
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("auth.forbidden")),
            "{v}"
        );
        let (_, viewer) = srv
            .member(
                &a,
                "viewer@alpha-post.example",
                Role::Viewer,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let (s, _) = srv.get(&viewer, "/api/v1/talent/profiles").await;
        assert_eq!(s, 403);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrapped_production_credits_its_crew_on_their_own_profiles() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Pictures", "alpha-pictures").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        // A freelancer keeps her own profile in her own studio, and works in Alpha's project.
        let fang = srv.tenant("Fang Studio", "fang-studio").await;
        let platform = srv.store().platform();
        platform.add_member(&Actor::system(), a.org.id, fang.owner.id, Role::Artist).await.unwrap();
        let (_, fang_in_a) = platform
            .create_token_for(&Actor::system(), a.org.id, fang.owner.id, "work", &[TokenScope::Read, TokenScope::Write], None)
            .await
            .unwrap();
        let (other, other_token) = srv.member(&a, "roto@alpha-pictures.example", Role::Artist, &[TokenScope::Read]).await;
        let mut mine = compositor();
        mine["name"] = json!("Fang Lin");
        mine["user_id"] = json!(fang.owner.id);
        let (s, profile) = srv.post(&fang.token, "/api/v1/talent/profiles", mine).await;
        assert_eq!(s, 201, "{profile}");

        let (_, project) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Alpha Feature", "code": "ALPHA", "fps": "24", "width": 4096, "height": 1716}))
            .await;
        let pid = id(&project);
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let edl = "TITLE: ALPHA\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
        let (s, cut) = srv
            .post(&a.token, &format!("/api/v1/sequences/{}/conform", id(&seq)), json!({"format": "cmx3600", "edl": edl, "apply": true}))
            .await;
        assert_eq!(s, 200, "{cut}");
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{}/shots", id(&seq))).await;
        let shot = shots["items"][0]["id"].clone();
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/task-types")).await;
        let ty = |i: usize| types["items"][i]["id"].clone();
        let name = |i: usize| types["items"][i]["name"].as_str().unwrap().to_string();
        let (s, tasks) = srv
            .post(&a.token, "/api/v1/tasks", json!({"tasks": [
                {"shot_id": shot, "task_type_id": ty(0), "assignees": [fang.owner.id], "start_date": "2026-02-01", "due_date": "2026-02-20"},
                {"shot_id": shot, "task_type_id": ty(1), "assignees": [fang.owner.id, other.id], "start_date": "2026-02-10", "due_date": "2026-06-30"}]}))
            .await;
        assert_eq!(s, 201, "{tasks}");
        for date in ["2026-03-02", "2026-05-20"] {
            let (s, v) = srv
                .post(&fang_in_a, &format!("/api/v1/tasks/{}/time-logs", tasks["items"][0]["id"].as_str().unwrap()), json!({"date": date, "minutes": 120}))
                .await;
            assert_eq!(s, 201, "{v}");
        }

        // Not before the project is wrapped; then once for each person, however often asked.
        let path = format!("/api/v1/projects/{pid}/credits");
        let (s, v) = srv.post(&a.token, &path, json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("talent.project_not_wrapped")), "{v}");
        let r = srv.call(&a.token, Method::PATCH, &format!("/api/v1/projects/{pid}"), Some(json!({"status": "wrapped"}))).await;
        assert_eq!(r.status(), 200);
        let (s, v) = srv.post(&a.token, &path, json!({})).await;
        assert_eq!((s, v["credited"].as_i64()), (200, Some(2)), "{v}");
        let hers = v["credits"].as_array().unwrap().iter().find(|c| c["user_id"] == json!(fang.owner.id)).unwrap().clone();
        assert_eq!(hers["work"], json!([name(0), name(1)]), "{hers}");
        // Her days are those she logged; the other artist's, the task's dates.
        assert_eq!((hers["starts_on"].as_str(), hers["ends_on"].as_str()), (Some("2026-03-02"), Some("2026-05-20")));
        let his = v["credits"].as_array().unwrap().iter().find(|c| c["user_id"] == json!(other.id)).unwrap().clone();
        assert_eq!((his["starts_on"].as_str(), his["ends_on"].as_str(), &his["work"]), (Some("2026-02-10"), Some("2026-06-30"), &json!([name(1)])));
        let (s, again) = srv.post(&a.token, &path, json!({})).await;
        assert_eq!((s, again["credited"].as_i64(), again["credits"].as_array().map(Vec::len)), (200, Some(0), Some(2)), "{again}");

        // Her profile shows it as verified, to her studio and to any hirer, without Alpha's
        // project or her account.
        for token in [&fang.token, &b.token] {
            let (s, p) = srv.get(token, &format!("/api/v1/talent/profiles/{}", id(&profile))).await;
            assert_eq!(s, 200, "{p}");
            let w = &p["verified"][0];
            assert_eq!((w["title"].as_str(), w["org_name"].as_str()), (Some("Alpha Feature"), Some("Alpha Pictures")), "{p}");
            assert!(w["project_id"].is_null() && w["user_id"].is_null(), "{w}");
        }
        // The crediting production reads her profile too, without learning her account there.
        let (_, seen) = srv.get(&a.token, &format!("/api/v1/talent/profiles/{}", id(&profile))).await;
        assert!(seen["verified"][0]["user_id"].is_null() && seen["verified"][0]["project_id"].is_null(), "{seen}");
        // The credits are production's: the project's feed shows them to its producers, not
        // to a client of the project.
        let (_, client) = srv.member(&a, "client@alpha-pictures.example", Role::Client, &[TokenScope::Read]).await;
        let (s, feed) = srv.get(&client, &format!("/api/v1/projects/{pid}/activity")).await;
        assert_eq!(s, 200, "{feed}");
        assert!(!feed.to_string().contains("work_credit"), "{feed}");
        let (_, feed) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/activity")).await;
        assert!(feed.to_string().contains("work_credit.created"), "{feed}");
        // Nobody else gives or reads Alpha's credits: not another organisation, not an artist.
        let (s, _) = srv.post(&b.token, &path, json!({})).await;
        assert_eq!(s, 404);
        let (s, _) = srv.get(&b.token, &path).await;
        assert_eq!(s, 404);
        let (s, v) = srv.get(&other_token, &path).await;
        assert_eq!((s, v["code"].as_str()), (403, Some("auth.forbidden")), "{v}");
        let (_, listed) = srv.get(&a.token, &path).await;
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");
        assert_eq!(listed["items"][0]["name"], "Fang Studio Owner", "by name: {listed}");

        // Withdrawn by mistake's producer: no profile shows it, crediting again does not give
        // it back, withdrawing again changes nothing; nobody else withdraws it.
        let withdraw = format!("{path}/{}", hers["id"].as_str().unwrap());
        let r = srv.call(&b.token, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 404);
        let r = srv.call(&other_token, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 403);
        let r = srv.call(&a.token, Method::DELETE, &format!("{path}/{}", id(&profile)), None).await;
        assert_eq!(r.status(), 404, "a profile's id is no credit of the project");
        let r = srv.call(&a.token, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 200);
        let gone: Value = r.json().await.unwrap();
        assert!(gone["withdrawn_at"].is_string(), "{gone}");
        let r = srv.call(&a.token, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 200);
        let again: Value = r.json().await.unwrap();
        assert_eq!(again["withdrawn_at"], gone["withdrawn_at"]);
        for token in [&fang.token, &b.token] {
            let (_, p) = srv.get(token, &format!("/api/v1/talent/profiles/{}", id(&profile))).await;
            assert_eq!(p["verified"], json!([]), "{p}");
        }
        let (s, v) = srv.post(&a.token, &path, json!({})).await;
        assert_eq!((s, v["credited"].as_i64()), (200, Some(0)), "{v}");
        let (_, listed) = srv.get(&a.token, &path).await;
        let withdrawn: Vec<bool> = listed["items"].as_array().unwrap().iter().map(|c| c["withdrawn_at"].is_string()).collect();
        assert_eq!(withdrawn, [true, false], "{listed}");
        let (_, feed) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/activity")).await;
        assert!(feed.to_string().contains("work_credit.withdrawn"), "{feed}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_rank_bookings_never_clash_and_others_see_only_busy_days() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        let (_, p) = srv.post(&a.token, "/api/v1/talent/profiles", compositor()).await;
        let cal = format!("/api/v1/talent/profiles/{}/calendar", id(&p));
        let day = |kind: &str, s: &str, e: &str, what: &str| json!({"kind": kind, "starts_on": s, "ends_on": e, "what": what});
        let (s, first) = srv.post(&a.token, &cal, day("hold", "2027-03-01", "2027-03-10", "Moonlight, Bravo")).await;
        assert_eq!(s, 201, "{first}");
        let (s, second) = srv.post(&a.token, &cal, day("hold", "2027-03-05", "2027-03-06", "Another feature")).await;
        assert_eq!(s, 201, "{second}");
        let (s, booked) = srv.post(&a.token, &cal, day("booking", "2027-03-20", "2027-03-25", "Series S2")).await;
        assert_eq!(s, 201, "{booked}");
        // A booking or a day off never shares a day with another; a hold may.
        for (kind, from, to) in [("booking", "2027-03-25", "2027-03-26"), ("off", "2027-03-18", "2027-03-20")] {
            let (s, v) = srv.post(&a.token, &cal, day(kind, from, to, "")).await;
            assert_eq!((s, v["code"].as_str()), (409, Some("talent.days_taken")), "{kind} {from}: {v}");
        }
        let (s, v) = srv.post(&a.token, &cal, day("hold", "2027-03-24", "2027-03-28", "Pencil over a booking")).await;
        assert_eq!(s, 201, "{v}");
        // The keeper reads it all, holds ranked by age.
        let (_, mine) = srv.get(&a.token, &format!("{cal}?from=2027-03-01&to=2027-03-31")).await;
        let ranks: Vec<(String, Value)> = mine["entries"].as_array().unwrap().iter().map(|e| (e["what"].as_str().unwrap().to_string(), e["rank"].clone())).collect();
        assert_eq!(ranks, vec![
            ("Moonlight, Bravo".to_string(), json!(1)), ("Another feature".to_string(), json!(2)),
            ("Series S2".to_string(), Value::Null), ("Pencil over a booking".to_string(), json!(1))], "{mine}");
        // Another organisation's hirer sees when, never what on.
        let (s, theirs) = srv.get(&b.token, &format!("{cal}?from=2027-03-01&to=2027-03-31")).await;
        assert_eq!(s, 200, "{theirs}");
        assert_eq!(theirs["entries"], json!([]));
        assert_eq!(theirs["busy"], json!([{"starts_on": "2027-03-01", "ends_on": "2027-03-10"}, {"starts_on": "2027-03-20", "ends_on": "2027-03-28"}]));
        assert!(!theirs.to_string().contains("Moonlight"), "{theirs}");
        // Asked about one day, the answer says nothing of the days around it.
        let (_, one) = srv.get(&b.token, &format!("{cal}?from=2027-03-26&to=2027-03-26")).await;
        assert_eq!(one["busy"], json!([{"starts_on": "2027-03-26", "ends_on": "2027-03-26"}]), "{one}");
        // Inside Alpha, a supervisor finds people but reads only the busy days.
        let (_, supervisor) = srv.member(&a, "sup@alpha-post.example", Role::Supervisor, &[TokenScope::Read]).await;
        let (_, theirs) = srv.get(&supervisor, &format!("{cal}?from=2027-03-01&to=2027-03-31")).await;
        assert_eq!((theirs["entries"].as_array().map(Vec::len), theirs["busy"].as_array().map(Vec::len)), (Some(0), Some(2)), "{theirs}");
        // A hold's rank does not depend on the days asked about: the second pencil stays second
        // when the first one's days are outside the window.
        let (_, c1) = srv.post(&a.token, &cal, day("hold", "2027-04-20", "2027-04-25", "First")).await;
        let (_, c2) = srv.post(&a.token, &cal, day("hold", "2027-04-24", "2027-05-05", "Second")).await;
        let (_, late) = srv.get(&a.token, &format!("{cal}?from=2027-04-27&to=2027-05-10")).await;
        let later = late["entries"].as_array().unwrap().iter().find(|e| e["id"] == c2["id"]).unwrap().clone();
        assert_eq!(later["rank"], 2, "{late}");
        assert!(c1["id"].is_string());
        // Confirming the second pencil books its days; the first, which shares them, cannot be
        // booked until they are free again.
        let (s, v) = srv.post(&a.token, &format!("{cal}/{}/confirm", id(&second)), json!({})).await;
        assert_eq!((s, v["kind"].as_str()), (200, Some("booking")), "{v}");
        let (s, v) = srv.post(&a.token, &format!("{cal}/{}/confirm", id(&first)), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("talent.days_taken")), "{v}");
        let (s, v) = srv.post(&a.token, &format!("{cal}/{}/confirm", id(&booked)), json!({})).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("talent.not_a_hold")), "{v}");
        let r = srv.call(&a.token, Method::DELETE, &format!("{cal}/{}", id(&second)), None).await;
        assert_eq!(r.status(), 204);
        let (s, v) = srv.post(&a.token, &format!("{cal}/{}/confirm", id(&first)), json!({})).await;
        assert_eq!((s, v["kind"].as_str()), (200, Some("booking")), "{v}");
        // Nobody else writes it; bad days are refused naming the field.
        let (s, _) = srv.post(&b.token, &cal, day("hold", "2027-04-01", "2027-04-02", "")).await;
        assert_eq!(s, 404);
        let r = srv.call(&b.token, Method::DELETE, &format!("{cal}/{}", id(&first)), None).await;
        assert_eq!(r.status(), 404);
        for (body, field) in [
            (day("hold", "2027-02-30", "2027-03-01", ""), "starts_on"),
            (day("hold", "2027-03-02", "2027-03-01", ""), "ends_on"),
            (day("hold", "2027-01-01", "2028-06-01", ""), "ends_on"),
            (day("hold", "2027-01-01", "2027-01-02", "two\nlines"), "what"),
        ] {
            let (s, v) = srv.post(&a.token, &cal, body.clone()).await;
            assert_eq!((s, v["field"].as_str()), (422, Some(field)), "{body}: {v}");
        }
        let (s, v) = srv.post(&a.token, &cal, json!({"kind": "maybe", "starts_on": "2027-01-01", "ends_on": "2027-01-01"})).await;
        assert!(s == 422 || s == 400, "{v}");
        for q in ["?from=yesterday", "?from=2027-01-10&to=2027-01-01", "?from=2027-01-01&to=2029-01-01"] {
            let (s, v) = srv.get(&a.token, &format!("{cal}{q}")).await;
            assert_eq!(s, 422, "{q}: {v}");
        }
        // A private profile's calendar is nobody else's to read.
        let mut hidden = compositor();
        hidden["visibility"] = json!("private");
        let (_, h) = srv.post(&a.token, "/api/v1/talent/profiles", hidden).await;
        let (s, _) = srv.get(&b.token, &format!("/api/v1/talent/profiles/{}/calendar", id(&h))).await;
        assert_eq!(s, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_days_a_persons_tasks_take_are_busy_to_others_and_shown_to_the_keeper() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        let (artist, _) = srv.member(&a, "lin@alpha.example", Role::Artist, &[TokenScope::Read]).await;
        let mut p = compositor();
        p["user_id"] = json!(artist.id);
        let (s, profile) = srv.post(&a.token, "/api/v1/talent/profiles", p).await;
        assert_eq!(s, 201, "{profile}");
        let pid = id(&profile);
        let (_, project) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Alpha Secret Feature", "code": "ASF", "fps": "24", "width": 2048, "height": 858}))
            .await;
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{}/sequences", id(&project)), json!({"name": "SQ010"})).await;
        let edl = "TITLE: A\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
        srv.post(&a.token, &format!("/api/v1/sequences/{}/conform", id(&seq)), json!({"format": "cmx3600", "edl": edl, "apply": true})).await;
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{}/shots", id(&seq))).await;
        let (_, types) = srv.get(&a.token, &format!("/api/v1/projects/{}/task-types", id(&project))).await;
        let (s, tasks) = srv
            .post(&a.token, "/api/v1/tasks", json!({"tasks": [
                {"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][0]["id"], "assignees": [artist.id], "start_date": "2027-03-01", "due_date": "2027-03-10"},
                {"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][1]["id"], "assignees": [artist.id], "due_date": "2027-04-02"},
                {"shot_id": shots["items"][0]["id"], "task_type_id": types["items"][2]["id"], "assignees": [artist.id], "start_date": "2027-04-20", "due_date": "2027-04-18"}]}))
            .await;
        assert_eq!(s, 201, "{tasks}");
        // A hold beside the first task: busy runs merge it in.
        let path = format!("/api/v1/talent/profiles/{pid}/calendar");
        let (s, v) = srv.post(&a.token, &path, json!({"kind": "hold", "starts_on": "2027-03-11", "ends_on": "2027-03-12", "what": "Bravo pencil"})).await;
        assert_eq!(s, 201, "{v}");
        let window = format!("{path}?from=2027-03-05&to=2027-04-30");
        let (s, keeper) = srv.get(&a.token, &window).await;
        assert_eq!(s, 200, "{keeper}");
        // A task whose dates were written backwards takes the days between them all the same.
        assert_eq!(keeper["tasks"], json!([{"starts_on": "2027-03-05", "ends_on": "2027-03-10"}, {"starts_on": "2027-04-02", "ends_on": "2027-04-02"}, {"starts_on": "2027-04-18", "ends_on": "2027-04-20"}]), "{keeper}");
        let busy = json!([{"starts_on": "2027-03-05", "ends_on": "2027-03-12"}, {"starts_on": "2027-04-02", "ends_on": "2027-04-02"}, {"starts_on": "2027-04-18", "ends_on": "2027-04-20"}]);
        assert_eq!(keeper["busy"], busy, "{keeper}");
        // Another organisation's hirer: the same busy days, nothing of what they are.
        let (s, other) = srv.get(&b.token, &window).await;
        assert_eq!(s, 200, "{other}");
        assert_eq!((other["busy"].clone(), other["tasks"].clone(), other["entries"].clone()), (busy, json!([]), json!([])), "{other}");
        assert!(!other.to_string().contains("Secret") && !other.to_string().contains("SQ010"), "{other}");
        // Matching reads the same days: for Bravo, the task and the pencil are busy days; for
        // Alpha, who keeps the profile, the pencil is told apart.
        let ask = "/api/v1/talent/matches?role=compositor&starts_on=2027-03-09&ends_on=2027-03-18";
        let reason = |m: &Value| {
            let r = m["items"].as_array().unwrap().iter().find(|i| i["profile"]["id"] == pid.as_str()).unwrap()["reasons"]
                .as_array().unwrap().iter().find(|r| r["code"].as_str().unwrap().starts_with("days.")).unwrap().clone();
            (r["code"].as_str().unwrap().to_string(), r["values"].clone())
        };
        let (s, m) = srv.get(&b.token, ask).await;
        assert_eq!(s, 200, "{m}");
        assert_eq!(reason(&m), ("days.partly_busy".into(), json!(["4", "10"])), "{m}");
        assert!(!m.to_string().contains("Secret") && !m.to_string().contains("pencil"), "{m}");
        let (_, m) = srv.get(&a.token, ask).await;
        assert_eq!(reason(&m), ("days.partly_busy".into(), json!(["2", "10"])), "{m}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_verifies_what_its_members_completed_there_and_no_one_else_does() {
    on_every_backend(|srv| async move {
        let school = srv.tenant_of("Bund Film School", "bund-film", mstation_core::OrgKind::University).await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        // A graduate keeps her profile in her own studio; she is a member of the school.
        let fang = srv.tenant("Fang Studio", "fang-studio").await;
        let platform = srv.store().platform();
        platform.add_member(&Actor::system(), school.org.id, fang.owner.id, Role::Viewer).await.unwrap();
        let mut mine = compositor();
        mine["name"] = json!("Fang Lin");
        mine["user_id"] = json!(fang.owner.id);
        let (s, profile) = srv.post(&fang.token, "/api/v1/talent/profiles", mine).await;
        assert_eq!(s, 201, "{profile}");
        let profile_path = format!("/api/v1/talent/profiles/{}", id(&profile));
        let (_, student) = srv.member(&school, "student@bund-film.example", Role::Artist, &[TokenScope::Read, TokenScope::Write]).await;
        let path = "/api/v1/talent/training";
        let record = |user: &str| {
            json!({"user_id": user, "programme": "MFA Visual Effects", "kind": "degree", "department": "vfx",
                   "starts_on": "2022-09-01", "ends_on": "2025-06-30", "hours": 2400})
        };
        let fang_id = fang.owner.id.to_string();

        // Only a school issues them, only to a member, and only those who keep profiles there.
        let (s, v) = srv.post(&b.token, path, record(&b.owner.id.to_string())).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("talent.not_a_school")), "{v}");
        let mut bad = record(&b.owner.id.to_string());
        bad["programme"] = json!("");
        let (s, v) = srv.post(&b.token, path, bad).await;
        assert_eq!((s, v["code"].as_str()), (409, Some("talent.not_a_school")), "refused before the fields: {v}");
        let (s, v) = srv.post(&school.token, path, json!({"user_id": fang_id, "programme": "MFA", "kind": "degree", "ends_on": "2025-06-30", "departmnt": "vfx"})).await;
        assert_eq!(s, 422, "an unknown field is refused, not ignored: {v}");
        let (s, v) = srv.post(&school.token, path, record(&b.owner.id.to_string())).await;
        assert_eq!((s, v["field"].as_str(), v["reason"].as_str()), (422, Some("user_id"), Some("not_a_member")), "{v}");
        let (s, v) = srv.post(&student, path, record(&fang_id)).await;
        assert_eq!((s, v["code"].as_str()), (403, Some("auth.forbidden")), "{v}");
        // Every bad value is named.
        for (field, value, reason) in [
            ("programme", json!(""), "required"),
            ("kind", json!("phd"), "not_a_training_kind"),
            ("department", json!("catering"), "not_a_department"),
            ("ends_on", json!("2025-13-01"), "not_a_date"),
            ("ends_on", json!("2022-08-31"), "before_start"),
            ("hours", json!(0), "out_of_range"),
        ] {
            let mut bad = record(&fang_id);
            bad[field] = value;
            let (s, v) = srv.post(&school.token, path, bad).await;
            assert_eq!((s, v["field"].as_str(), v["reason"].as_str()), (422, Some(field), Some(reason)), "{v}");
        }
        let (_, listed) = srv.get(&school.token, path).await;
        assert_eq!(listed["items"], json!([]), "nothing was written: {listed}");

        let (s, issued) = srv.post(&school.token, path, record(&fang_id)).await;
        assert_eq!(s, 201, "{issued}");
        assert_eq!((issued["name"].as_str(), issued["org_name"].as_str()), (Some("Fang Studio Owner"), Some("Bund Film School")), "{issued}");
        let (s, course) = srv
            .post(&school.token, path, json!({"user_id": fang_id, "programme": "Nuke compositing", "kind": "course", "ends_on": "2026-01-20"}))
            .await;
        assert_eq!(s, 201, "{course}");

        // Her profile shows both as verified by the school, latest first, to her studio and
        // to any hirer, without her account.
        for token in [&fang.token, &b.token] {
            let (s, p) = srv.get(token, &profile_path).await;
            assert_eq!(s, 200, "{p}");
            let programmes: Vec<&str> = p["training"].as_array().unwrap().iter().map(|t| t["programme"].as_str().unwrap()).collect();
            assert_eq!(programmes, ["Nuke compositing", "MFA Visual Effects"], "{p}");
            let t = &p["training"][1];
            assert_eq!((t["org_name"].as_str(), t["kind"].as_str(), t["hours"].as_i64()), (Some("Bund Film School"), Some("degree"), Some(2400)), "{t}");
            assert!(t["user_id"].is_null() && t["name"].is_null(), "{t}");
        }
        // The school's records are its own: another organisation neither lists nor withdraws
        // them, and a student neither.
        let (_, theirs) = srv.get(&b.token, path).await;
        assert_eq!(theirs["items"], json!([]), "{theirs}");
        let withdraw = format!("{path}/{}", id(&issued));
        let r = srv.call(&b.token, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 404);
        let r = srv.call(&student, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 403);
        let (s, _) = srv.get(&student, path).await;
        assert_eq!(s, 403);
        // Who studied what is for those who plan: the audit log shows the records to the
        // school's owner, not to its finance.
        let (_, audit) = srv.get(&school.token, "/api/v1/audit?entity_type=training").await;
        assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
        let (_, finance) = srv.member(&school, "finance@bund-film.example", Role::Finance, &[TokenScope::Read]).await;
        let (s, audit) = srv.get(&finance, "/api/v1/audit?entity_type=training").await;
        assert_eq!((s, audit["items"].as_array().map(Vec::len)), (200, Some(0)), "{audit}");

        // Withdrawn: no profile shows it; again, no change.
        let r = srv.call(&school.token, Method::DELETE, &withdraw, None).await;
        assert_eq!(r.status(), 200);
        let gone: Value = r.json().await.unwrap();
        assert!(gone["withdrawn_at"].is_string(), "{gone}");
        let r = srv.call(&school.token, Method::DELETE, &withdraw, None).await;
        let again: Value = r.json().await.unwrap();
        assert_eq!(again["withdrawn_at"], gone["withdrawn_at"]);
        let (_, p) = srv.get(&b.token, &profile_path).await;
        let programmes: Vec<&str> = p["training"].as_array().unwrap().iter().map(|t| t["programme"].as_str().unwrap()).collect();
        assert_eq!(programmes, ["Nuke compositing"], "{p}");
        let (_, listed) = srv.get(&school.token, path).await;
        let withdrawn: Vec<bool> = listed["items"].as_array().unwrap().iter().map(|t| t["withdrawn_at"].is_string()).collect();
        assert_eq!(withdrawn, [false, true], "{listed}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_showreel_plays_for_whoever_may_read_the_profile_and_its_words_are_found() {
    for backend in backends() {
        let srv = start_with_workers(backend, 1).await;
        let post = srv.tenant("Harbour Post", "harbour-post").await;
        let hirer = srv.tenant("Bravo Films", "bravo-films").await;
        let (s, shown) = srv
            .post(&post.token, "/api/v1/talent/profiles", compositor())
            .await;
        assert_eq!(s, 201, "{shown}");
        let mut private = compositor();
        private["name"] = json!("Kept Apart");
        private["visibility"] = json!("private");
        let (s, hidden) = srv
            .post(&post.token, "/api/v1/talent/profiles", private)
            .await;
        assert_eq!(s, 201, "{hidden}");
        let media = srv
            .upload(
                &post.token,
                "reel.mov",
                ffmpeg_clip("320x180", "24", "1", &[]),
            )
            .await;
        let theirs = srv
            .upload(
                &hirer.token,
                "theirs.mov",
                ffmpeg_clip("160x90", "24", "1", &[]),
            )
            .await;
        srv.proxied(&post.token, &media).await;
        let reel = |p: &Value| format!("/api/v1/talent/profiles/{}/showreel", id(p));
        let note = "Rotoscoping breakdowns from Moonlight Harbour";

        // Only from the keeper's own media, only by those who keep its profiles.
        let r = srv
            .call(
                &post.token,
                Method::PUT,
                &reel(&shown),
                Some(json!({"media_id": theirs, "note": note})),
            )
            .await;
        let (s, v) = json(r).await;
        assert_eq!(
            (s, v["field"].as_str(), v["reason"].as_str()),
            (422, Some("media_id"), Some("not_a_media_file")),
            "{v}"
        );
        let r = srv
            .call(
                &hirer.token,
                Method::PUT,
                &reel(&shown),
                Some(json!({"media_id": theirs, "note": note})),
            )
            .await;
        assert_eq!(
            r.status(),
            404,
            "another organisation's profile is not found"
        );
        // A file that is no video (a PDF, no proxy) is refused by name.
        {
            use base64::Engine;
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            let pdf = b"%PDF-1.4 not a reel".to_vec();
            let r = srv
                .http
                .post(format!("{}/files", srv.base))
                .bearer_auth(&post.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", pdf.len().to_string())
                .header(
                    "Upload-Metadata",
                    format!(
                        "filename {},filetype {}",
                        b64("terms.pdf"),
                        b64("application/pdf")
                    ),
                )
                .header("Content-Type", "application/offset+octet-stream")
                .body(pdf)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let (_, files) = srv.get(&post.token, "/api/v1/media?limit=500").await;
            let doc = files["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == "terms.pdf")
                .unwrap()["id"]
                .clone();
            let r = srv
                .call(
                    &post.token,
                    Method::PUT,
                    &reel(&shown),
                    Some(json!({"media_id": doc})),
                )
                .await;
            let (s, v) = json(r).await;
            assert_eq!(
                (s, v["field"].as_str(), v["reason"].as_str()),
                (422, Some("media_id"), Some("not_a_video")),
                "{v}"
            );
        }
        let (_, artist) = srv
            .member(
                &post,
                "artist@harbour-post.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let r = srv
            .call(
                &artist,
                Method::PUT,
                &reel(&shown),
                Some(json!({"media_id": media, "note": note})),
            )
            .await;
        assert_eq!(r.status(), 403);
        let r = srv
            .call(
                &post.token,
                Method::PUT,
                &reel(&shown),
                Some(json!({"media_id": media, "note": note})),
            )
            .await;
        let (s, set) = json(r).await;
        assert_eq!((s, set["note"].as_str()), (200, Some(note)), "{set}");

        // The keeper reads which file it is; a hirer reads what it shows, and plays it.
        let (_, mine) = srv
            .get(
                &post.token,
                &format!("/api/v1/talent/profiles/{}", id(&shown)),
            )
            .await;
        assert_eq!(
            mine["showreel"]["media_id"].as_str(),
            Some(media.as_str()),
            "{mine}"
        );
        let (_, seen) = srv
            .get(
                &hirer.token,
                &format!("/api/v1/talent/profiles/{}", id(&shown)),
            )
            .await;
        assert_eq!(
            (
                seen["showreel"]["note"].as_str(),
                seen["showreel"]["media_id"].is_null()
            ),
            (Some(note), true),
            "{seen}"
        );
        let r = srv
            .call(
                &hirer.token,
                Method::GET,
                &format!("{}/video", reel(&shown)),
                None,
            )
            .await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["content-type"].to_str().unwrap()
            ),
            (200, "video/mp4")
        );
        let whole = r.bytes().await.unwrap().len();
        assert!(whole > 1000, "{whole} bytes");
        let r = srv
            .http
            .get(format!("{}{}/video", srv.base, reel(&shown)))
            .bearer_auth(&hirer.token)
            .header("Range", "bytes=0-99")
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), r.bytes().await.unwrap().len()),
            (206, 100)
        );
        let r = srv
            .call(
                &hirer.token,
                Method::GET,
                &format!("{}/poster", reel(&shown)),
                None,
            )
            .await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["content-type"].to_str().unwrap()
            ),
            (200, "image/jpeg")
        );
        // Not through the media file itself: that stays the keeper's.
        let (s, _) = srv
            .get(&hirer.token, &format!("/api/v1/media/{media}/proxy"))
            .await;
        assert_eq!(s, 404);
        // Its words are found.
        let (_, found) = srv
            .get(&hirer.token, "/api/v1/talent/search?q=rotoscoping")
            .await;
        let ids: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["profile"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id(&shown).as_str()], "{found}");

        // A profile kept to its organisation: its reel plays for that organisation only.
        let r = srv
            .call(
                &post.token,
                Method::PUT,
                &reel(&hidden),
                Some(json!({"media_id": media})),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = srv
            .call(
                &hirer.token,
                Method::GET,
                &format!("{}/video", reel(&hidden)),
                None,
            )
            .await;
        assert_eq!(r.status(), 404);
        let r = srv
            .call(
                &post.token,
                Method::GET,
                &format!("{}/video", reel(&hidden)),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);

        // Taken off: nothing plays, its words are not found, the profile says none.
        let r = srv
            .call(&post.token, Method::DELETE, &reel(&shown), None)
            .await;
        assert_eq!(r.status(), 204);
        let r = srv
            .call(
                &hirer.token,
                Method::GET,
                &format!("{}/video", reel(&shown)),
                None,
            )
            .await;
        assert_eq!(r.status(), 404);
        let (_, found) = srv
            .get(&hirer.token, "/api/v1/talent/search?q=rotoscoping")
            .await;
        assert_eq!(found["total"], 0, "{found}");
        let (_, seen) = srv
            .get(
                &hirer.token,
                &format!("/api/v1/talent/profiles/{}", id(&shown)),
            )
            .await;
        assert!(seen["showreel"].is_null(), "{seen}");
        // A profile removed takes its reel with it.
        let r = srv
            .call(
                &post.token,
                Method::DELETE,
                &format!("/api/v1/talent/profiles/{}", id(&hidden)),
                None,
            )
            .await;
        assert_eq!(r.status(), 204);
    }
}
