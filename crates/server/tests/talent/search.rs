//! The talent directory's search through each server's index, on both backends: words (every
//! word found, a word's beginning, a crew role's Chinese name), facets counted without their
//! own filter, a private profile found by its own organisation only and a change seen at once;
//! search by meaning with the real sentence model, its vectors kept in the database so a new
//! index reads them rather than running the model again; every bad value refused by name.

use super::common::*;
use mstation_store::talent::index::{Ask, TalentIndex};
use reqwest::Method;
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|h| h["profile"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn person(
    name: &str,
    roles: &[&str],
    skills: &[&str],
    country: &str,
    shown: bool,
    bio: &str,
) -> Value {
    json!({
        "name": name, "headline": "", "bio": bio, "roles": roles, "skills": skills,
        "languages": ["en"], "city": "", "country": country,
        "visibility": if shown { "platform" } else { "private" },
        "birth_date": "1990-01-01", "email": format!("{}@example.com", name.replace(' ', "."))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn words_and_facets_find_what_each_organisation_may_see() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        let (s, lin) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                person("Lin Qiao", &["compositor"], &["Nuke"], "CN", true, ""),
            )
            .await;
        assert_eq!(s, 201, "{lin}");
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                person(
                    "Wang Fang",
                    &["compositor"],
                    &["Nuke", "Houdini"],
                    "CN",
                    false,
                    "",
                ),
            )
            .await;
        assert_eq!(s, 201);
        let (s, _) = srv
            .post(
                &a.token,
                "/api/v1/talent/profiles",
                person("Anna Berg", &["colourist"], &["Baselight"], "DE", true, ""),
            )
            .await;
        assert_eq!(s, 201);
        let search = |token: String, q: String| {
            let srv = srv.clone();
            async move {
                let (s, v) = srv.get(&token, &format!("/api/v1/talent/search?{q}")).await;
                assert_eq!(s, 200, "{q}: {v}");
                v
            }
        };
        // Another organisation finds the shown profile only, never what is sensitive.
        let v = search(b.token.clone(), "q=nuke".into()).await;
        assert_eq!(names(&v), ["Lin Qiao"]);
        assert_eq!(v["total"], 1);
        let text = v.to_string();
        assert!(
            !text.contains("1990-01-01") && !text.contains("example.com"),
            "{text}"
        );
        // Its keeper finds both; every word must be found.
        assert_eq!(search(a.token.clone(), "q=nuke".into()).await["total"], 2);
        assert_eq!(
            names(&search(a.token.clone(), "q=nuke%20houdini".into()).await),
            ["Wang Fang"]
        );
        assert_eq!(
            search(b.token.clone(), "q=nuke%20houdini".into()).await["total"],
            0
        );
        // A beginning of a word, and a crew role's Chinese name.
        assert_eq!(
            names(&search(b.token.clone(), "q=comp".into()).await),
            ["Lin Qiao"]
        );
        assert_eq!(
            names(&search(b.token.clone(), "q=%E5%90%88%E6%88%90%E5%B8%88".into()).await),
            ["Lin Qiao"]
        );
        // Facets: a country chosen still counts the others.
        let v = search(b.token.clone(), "country=de".into()).await;
        assert_eq!(names(&v), ["Anna Berg"]);
        let countries: Vec<(String, i64)> = v["facets"]["country"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["value"].as_str().unwrap().to_string(),
                    c["count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(countries, [("CN".to_string(), 1), ("DE".to_string(), 1)]);
        assert_eq!(
            v["facets"]["role"],
            json!([{"value": "colourist", "count": 1}])
        );
        // No words: everyone B may see, the newest first, a page at a time.
        let v = search(b.token.clone(), "limit=1".into()).await;
        assert_eq!(
            (names(&v), v["total"].as_i64()),
            (vec!["Anna Berg".to_string()], Some(2))
        );
        let v = search(b.token.clone(), "limit=1&offset=1".into()).await;
        assert_eq!(names(&v), ["Lin Qiao"]);
        // Made private: gone from B's search at once; removed: gone from A's.
        let mut private = person("Lin Qiao", &["compositor"], &["Nuke"], "CN", false, "");
        private["headline"] = json!("Compositor");
        let r = srv
            .http
            .put(format!("{}/api/v1/talent/profiles/{}", srv.base, id(&lin)))
            .bearer_auth(&a.token)
            .json(&private)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(search(b.token.clone(), "q=nuke".into()).await["total"], 0);
        let r = srv
            .call(
                &a.token,
                Method::DELETE,
                &format!("/api/v1/talent/profiles/{}", id(&lin)),
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(
            names(&search(a.token.clone(), "q=nuke".into()).await),
            ["Wang Fang"]
        );
        // Bad values, each by name.
        for (q, field) in [
            ("by=letters", "by"),
            ("role=wizard", "role"),
            ("department=magic", "department"),
            ("language=xx", "language"),
            ("country=Q1", "country"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("offset=10001", "offset"),
            ("by=meaning", "q"),
        ] {
            let (s, p) = srv
                .get(&b.token, &format!("/api/v1/talent/search?{q}"))
                .await;
            assert_eq!((s, p["field"].as_str()), (422, Some(field)), "{q}: {p}");
        }
        let long = "a".repeat(201);
        let (s, p) = srv
            .get(&b.token, &format!("/api/v1/talent/search?q={long}"))
            .await;
        assert_eq!((s, p["field"].as_str()), (422, Some("q")), "{p}");
        let (s, p) = srv.get(&b.token, "/api/v1/talent/search?limit=x").await;
        assert_eq!(s, 400, "{p}");
    })
    .await;
}

/// Waits for the server to have embedded every profile; the search by meaning `q`.
async fn by_meaning(srv: &Srv, token: &str, q: &str) -> Value {
    for _ in 0..600 {
        let (s, v) = srv
            .get(
                token,
                &format!(
                    "/api/v1/talent/search?by=meaning&q={}",
                    q.replace(' ', "%20")
                ),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        if v["waiting"] == 0 {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("profiles still wait for their vectors after a minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meaning_finds_the_right_people_in_other_words() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Post", "alpha-post").await;
        let b = srv.tenant("Bravo Films", "bravo-films").await;
        for p in [
            person("Arjun Mehta", &["fx_artist"], &["Houdini"], "IN", true,
                "Simulates collapsing buildings, explosions, smoke and water for action films."),
            person("Guo Fang", &["colourist"], &["Baselight"], "CN", true,
                "Grades features and streaming series, builds show LUTs with the DP and finishes in HDR."),
            person("Tom Reed", &["boom_operator"], &[], "GB", true,
                "Records dialogue on location, keeps the microphone out of frame on long takes."),
            person("Secret Sam", &["fx_artist"], &["Houdini"], "IN", false,
                "Blows up cities and floods them, for disaster movies."),
        ] {
            let (s, v) = srv.post(&a.token, "/api/v1/talent/profiles", p).await;
            assert_eq!(s, 201, "{v}");
        }
        // Not one word of the query is in the profile it finds first.
        let v = by_meaning(&srv, &b.token, "someone to blow things up in a disaster movie").await;
        assert_eq!(v["by"], "meaning");
        let found = names(&v);
        assert_eq!(found.first().map(String::as_str), Some("Arjun Mehta"), "{v}");
        assert!(!found.iter().any(|n| n == "Secret Sam"), "B finds A's private profile: {v}");
        let score = v["items"][0]["score"].as_f64().unwrap();
        assert!((0.2..=1.0).contains(&score), "{score}");
        assert_eq!(
            names(&by_meaning(&srv, &b.token, "colour correction of a film in high dynamic range").await).first().map(String::as_str),
            Some("Guo Fang")
        );
        assert_eq!(
            names(&by_meaning(&srv, &b.token, "sound recordist for dialogue on set").await).first().map(String::as_str),
            Some("Tom Reed")
        );
        // Its keeper finds the private one, and facets narrow a search by meaning.
        let v = by_meaning(&srv, &a.token, "someone to blow things up in a disaster movie").await;
        assert!(names(&v).iter().any(|n| n == "Secret Sam"), "{v}");
        let (s, v) = srv
            .get(&b.token, "/api/v1/talent/search?by=meaning&q=sound%20recordist&country=CN")
            .await;
        assert_eq!(s, 200);
        assert!(!names(&v).iter().any(|n| n == "Tom Reed"), "{v}");
        // The vectors are kept: an index built anew from the database has nothing to embed.
        let fresh = TalentIndex::new(mstation_server::role_names());
        let entries = srv.state.store.platform().talent_index_page(None, 100).await.unwrap();
        assert_eq!(entries.len(), 4);
        assert!(entries.iter().all(|e| e.vector.is_some()));
        fresh.rebuild(entries);
        assert!(fresh.wanting_vectors(10).is_empty());
        assert_eq!(fresh.with_vectors(), 4);
        let found = fresh.search(a.org.id, &Ask { words: "houdini".into(), limit: 10, ..Default::default() });
        assert_eq!(found.total, 2);
        // A removed profile's vector goes with it.
        let (_, all) = srv.get(&a.token, "/api/v1/talent/search?q=tom").await;
        let tom = all["items"][0]["profile"]["id"].as_str().unwrap().to_string();
        let r = srv
            .call(&a.token, Method::DELETE, &format!("/api/v1/talent/profiles/{tom}"), None)
            .await;
        assert_eq!(r.status().as_u16(), 204);
        let entries = srv.state.store.platform().talent_index_page(None, 100).await.unwrap();
        assert_eq!(entries.len(), 3);
    })
    .await;
}
