//! Matching people to work on a seeded directory of 10,000 profiles with known answers: for
//! each of ten pieces of work, three people who fit it in every way are written in among the
//! crowd, beside near misses meant to fool a ranking by role or words alone (booked all the
//! days, three times the rate, the skills under another department's role, the role with
//! credits and none of the skills). The right three rank in the top five for at least nine of
//! the ten, every match says why, and another organisation's private profile is never found.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::common::*;

const SKILLS: [&str; 40] = [
    "Nuke",
    "Houdini",
    "Maya",
    "Katana",
    "Flame",
    "Resolve",
    "Baselight",
    "Avid",
    "Premiere",
    "Pro Tools",
    "Blender",
    "ZBrush",
    "Substance",
    "Mari",
    "Arnold",
    "RenderMan",
    "3DEqualizer",
    "PFTrack",
    "Silhouette",
    "Mocha",
    "After Effects",
    "Unreal",
    "Unity",
    "Clarisse",
    "Gaffer",
    "V-Ray",
    "Redshift",
    "Cinema 4D",
    "Toon Boom",
    "Harmony",
    "Storyboard Pro",
    "Photoshop",
    "Final Draft",
    "Movie Magic",
    "ShotGrid",
    "Frame.io",
    "Python",
    "Dolby Atmos",
    "iZotope RX",
    "ARRI Alexa",
];

const ROLES: [&str; 44] = [
    "producer",
    "line_producer",
    "production_manager",
    "production_coordinator",
    "assistant_director",
    "director",
    "screenwriter",
    "script_supervisor",
    "director_of_photography",
    "camera_operator",
    "focus_puller",
    "dit",
    "steadicam_operator",
    "gaffer",
    "best_boy",
    "key_grip",
    "production_designer",
    "art_director",
    "set_decorator",
    "props_master",
    "costume_designer",
    "makeup_artist",
    "production_sound_mixer",
    "boom_operator",
    "sound_designer",
    "re_recording_mixer",
    "composer",
    "editor",
    "assistant_editor",
    "conform_editor",
    "vfx_supervisor",
    "vfx_producer",
    "compositor",
    "matchmove_artist",
    "roto_artist",
    "fx_artist",
    "cg_lighting_artist",
    "environment_artist",
    "animator",
    "rigger",
    "modeller",
    "colourist",
    "colour_assistant",
    "post_coordinator",
];

const LANGS: [&str; 8] = ["zh", "en", "yue", "ja", "ko", "fr", "de", "es"];
const COUNTRIES: [&str; 6] = ["CN", "HK", "JP", "KR", "GB", "FR"];

/// A small, fixed random source: the same crowd on every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
    fn some<'a>(&mut self, from: &[&'a str], n: usize) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        while out.len() < n {
            let x = self.pick(from);
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out
    }
}

/// A piece of work a hirer asks about.
struct Work {
    role: Option<&'static str>,
    skills: &'static [&'static str],
    languages: &'static [&'static str],
    country: Option<&'static str>,
    days: Option<(&'static str, &'static str)>,
    rate: Option<(&'static str, &'static str)>,
}

impl Work {
    fn query(&self) -> String {
        let mut q = vec!["limit=5".to_string()];
        if let Some(r) = self.role {
            q.push(format!("role={r}"));
        }
        if !self.skills.is_empty() {
            q.push(format!(
                "skills={}",
                self.skills.join(",").replace(' ', "%20")
            ));
        }
        if !self.languages.is_empty() {
            q.push(format!("languages={}", self.languages.join(",")));
        }
        if let Some(c) = self.country {
            q.push(format!("country={c}"));
        }
        if let Some((s, e)) = self.days {
            q.push(format!("starts_on={s}&ends_on={e}"));
        }
        if let Some((r, c)) = self.rate {
            q.push(format!("max_rate={r}&currency={c}"));
        }
        format!("/api/v1/talent/matches?{}", q.join("&"))
    }

    /// A profile that fits in every way, with a few more skills and languages of its own.
    fn fit(&self, name: &str, dice: &mut Dice) -> Value {
        let role = self.role.unwrap_or("matchmove_artist");
        let mut skills: Vec<&str> = self.skills.to_vec();
        skills.extend(dice.some(&SKILLS, 2));
        let mut langs: Vec<&str> = self.languages.to_vec();
        langs.push(dice.pick(&LANGS));
        let (rate, currency) = match self.rate {
            Some((most, c)) => ((most.parse::<i64>().unwrap() * 8 / 10).to_string(), c),
            None => ("1500".to_string(), "CNY"),
        };
        json!({"name": name, "headline": "Known answer", "roles": [role],
               "skills": skills, "languages": langs,
               "country": self.country.unwrap_or_else(|| dice.pick(&COUNTRIES)),
               "day_rate": rate, "currency": currency, "visibility": "platform"})
    }
}

fn works() -> Vec<Work> {
    let jan = Some(("2027-01-11", "2027-01-22"));
    let mar = Some(("2027-03-01", "2027-03-12"));
    vec![
        Work {
            role: Some("compositor"),
            skills: &["Nuke", "Houdini"],
            languages: &["zh"],
            country: None,
            days: mar,
            rate: Some(("2500", "CNY")),
        },
        Work {
            role: Some("colourist"),
            skills: &["Baselight", "Resolve"],
            languages: &["en"],
            country: Some("GB"),
            days: jan,
            rate: Some(("900", "EUR")),
        },
        Work {
            role: Some("animator"),
            skills: &["Maya", "Toon Boom"],
            languages: &["ja"],
            country: Some("JP"),
            days: mar,
            rate: None,
        },
        Work {
            role: Some("editor"),
            skills: &["Avid"],
            languages: &["yue", "en"],
            country: Some("HK"),
            days: jan,
            rate: Some(("3000", "CNY")),
        },
        Work {
            role: None,
            skills: &["3DEqualizer", "PFTrack"],
            languages: &["zh"],
            country: Some("CN"),
            days: mar,
            rate: Some(("2000", "CNY")),
        },
        Work {
            role: Some("sound_designer"),
            skills: &["Pro Tools", "iZotope RX"],
            languages: &["fr"],
            country: Some("FR"),
            days: None,
            rate: Some(("700", "EUR")),
        },
        Work {
            role: Some("fx_artist"),
            skills: &["Houdini", "Python"],
            languages: &["zh"],
            country: Some("CN"),
            days: jan,
            rate: Some(("4000", "CNY")),
        },
        Work {
            role: Some("director_of_photography"),
            skills: &["ARRI Alexa"],
            languages: &["zh"],
            country: Some("CN"),
            days: mar,
            rate: Some(("3000", "CNY")),
        },
        Work {
            role: Some("production_coordinator"),
            skills: &["ShotGrid", "Movie Magic"],
            languages: &["zh", "en"],
            country: None,
            days: jan,
            rate: None,
        },
        Work {
            role: Some("rigger"),
            skills: &["Maya", "Python"],
            languages: &["ko"],
            country: Some("KR"),
            days: None,
            rate: Some(("500", "USD")),
        },
    ]
}

/// One of the crowd: any role, skills and languages, somewhere, at some rate or none.
fn anyone(i: usize, dice: &mut Dice) -> Value {
    let mut roles = vec![dice.pick(&ROLES)];
    if dice.below(3) == 0 {
        let other = dice.pick(&ROLES);
        if other != roles[0] {
            roles.push(other);
        }
    }
    let n = 1 + dice.below(5);
    let skills = dice.some(&SKILLS, n);
    let n = 1 + dice.below(2);
    let langs = dice.some(&LANGS, n);
    let mut p = json!({"name": format!("Crew {i:05}"), "headline": "One of many", "roles": roles,
                       "skills": skills, "languages": langs, "country": dice.pick(&COUNTRIES),
                       "visibility": if dice.below(10) == 0 { "private" } else { "platform" }});
    match dice.below(4) {
        0 => {}
        1 => {
            p["day_rate"] = json!((300 + dice.below(700)).to_string());
            p["currency"] = json!(["EUR", "USD"][dice.below(2)]);
        }
        _ => {
            p["day_rate"] = json!((800 + dice.below(5000)).to_string());
            p["currency"] = json!("CNY");
        }
    }
    p
}

async fn write_all(srv: &Arc<Srv>, token: &str, profiles: Vec<Value>) -> Vec<String> {
    futures_util::stream::iter(profiles)
        .map(|p| {
            let srv = Arc::clone(srv);
            let token = token.to_string();
            async move {
                let (s, v) = srv.post(&token, "/api/v1/talent/profiles", p).await;
                assert_eq!(s, 201, "{v}");
                id(&v)
            }
        })
        .buffered(8)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_people_rank_in_the_top_five_and_every_match_says_why() {
    on_every_backend(|srv| async move {
        let keeper = srv.tenant("Harbour Crew", "harbour-crew").await;
        let school = srv.tenant("Film Academy", "film-academy").await;
        let hirer = srv.tenant("Bravo Films", "bravo-films").await;
        let mut dice = Dice(20261207);
        // The crowd, kept by two organisations.
        let crowd: Vec<Value> = (0..9_929).map(|i| anyone(i, &mut dice)).collect();
        let (a, b) = crowd.split_at(4_960);
        let crowd_ids = write_all(&srv, &keeper.token, a.to_vec()).await;
        write_all(&srv, &school.token, b.to_vec()).await;
        // Some of the crowd are booked or off for a while.
        for pid in crowd_ids.iter().step_by(5) {
            let (s, e) = srv
                .post(&keeper.token, &format!("/api/v1/talent/profiles/{pid}/calendar"),
                      json!({"kind": "booking", "starts_on": "2027-01-05", "ends_on": "2027-03-06", "what": "A feature"}))
                .await;
            assert_eq!(s, 201, "{e}");
        }
        // For each piece of work: three who fit in every way, and the near misses.
        let works = works();
        let mut answers: Vec<Vec<String>> = Vec::new();
        let mut misses: Vec<Vec<String>> = Vec::new();
        let mut written = 0;
        for (n, w) in works.iter().enumerate() {
            let fits: Vec<Value> = (0..3).map(|k| w.fit(&format!("Answer {n}.{k}"), &mut dice)).collect();
            answers.push(write_all(&srv, &school.token, fits).await);
            // Booked all the days asked about (or, with no days asked about, speaking none of
            // the languages and elsewhere).
            let mut booked = w.fit(&format!("Booked {n}"), &mut dice);
            if w.days.is_none() {
                booked["languages"] = json!(["de"]);
                booked["country"] = json!(if w.country == Some("GB") { "FR" } else { "GB" });
            }
            // Three times the rate (or, with no rate asked about, the role as a second one).
            let mut dear = w.fit(&format!("Dear {n}"), &mut dice);
            match (w.rate, w.role) {
                (Some((most, _)), _) => dear["day_rate"] = json!((most.parse::<i64>().unwrap() * 3).to_string()),
                (None, Some(role)) => dear["roles"] = json!(["producer", role]),
                (None, None) => unreachable!("every piece of work asks a role or a rate"),
            }
            // The skills under another department's role (or, with no role asked, one skill).
            let mut elsewhere = w.fit(&format!("Elsewhere {n}"), &mut dice);
            match w.role {
                Some(role) => elsewhere["roles"] = json!([if role == "editor" { "compositor" } else { "editor" }]),
                None => elsewhere["skills"] = json!([w.skills[0]]),
            }
            // The role, with credits in it, and none of the skills (or, with no skills asked
            // about, none of the languages).
            let mut unskilled = w.fit(&format!("Unskilled {n}"), &mut dice);
            if w.skills.is_empty() {
                unskilled["languages"] = json!(["de"]);
            } else {
                unskilled["skills"] = json!(["Photoshop"]);
            }
            let near = write_all(&srv, &keeper.token, vec![booked, dear, elsewhere, unskilled]).await;
            if let Some((s, e)) = w.days {
                let (st, v) = srv
                    .post(&keeper.token, &format!("/api/v1/talent/profiles/{}/calendar", near[0]),
                          json!({"kind": "booking", "starts_on": s, "ends_on": e}))
                    .await;
                assert_eq!(st, 201, "{v}");
            }
            if let Some(role) = w.role {
                for year in [2021, 2022, 2023] {
                    let (st, v) = srv
                        .post(&keeper.token, &format!("/api/v1/talent/profiles/{}/credits", near[3]),
                              json!({"title": format!("Feature {year}"), "role": role, "year": year}))
                        .await;
                    assert_eq!(st, 201, "{v}");
                }
            }
            misses.push(near);
            written += 7;
        }
        // A private profile of the keeper's that fits the first piece of work in every way.
        let mut private = works[0].fit("Kept to themselves", &mut dice);
        private["visibility"] = json!("private");
        let private_id = write_all(&srv, &keeper.token, vec![private]).await.remove(0);
        assert_eq!(crowd.len() + written + 1, 10_000);

        let mut right = 0;
        for (n, w) in works.iter().enumerate() {
            let (s, m) = srv.get(&hirer.token, &w.query()).await;
            assert_eq!(s, 200, "{m}");
            let items = m["items"].as_array().unwrap();
            assert_eq!(items.len(), 5, "{m}");
            assert!(m["considered"].as_u64().unwrap() >= 7, "{m}");
            let top: Vec<&str> = items.iter().map(|i| i["profile"]["id"].as_str().unwrap()).collect();
            let all_in = answers[n].iter().all(|a| top.contains(&a.as_str()));
            if all_in {
                right += 1;
            } else {
                eprintln!("work {n}: the top five are {:#}", json!(items.iter().map(|i| (i["profile"]["name"].clone(), i["points"].clone(), i["reasons"].clone())).collect::<Vec<_>>()));
            }
            for i in items {
                // Every match says why, and its points are its reasons' sum.
                let reasons = i["reasons"].as_array().unwrap();
                assert!(!reasons.is_empty(), "{i}");
                let sum: i64 = reasons.iter().map(|r| r["points"].as_i64().unwrap()).sum();
                assert_eq!(sum, i["points"].as_i64().unwrap(), "{i}");
                assert!((0..=100).contains(&i["score"].as_i64().unwrap()), "{i}");
                assert_ne!(i["profile"]["id"], private_id.as_str(), "another organisation's private profile");
                assert!(i["profile"]["user_id"].is_null() && i["profile"].get("email").is_none(), "{i}");
            }
            // The near misses rank below every answer, whatever their credits.
            let (s, wide) = srv.get(&hirer.token, &w.query().replace("limit=5", "limit=50")).await;
            assert_eq!(s, 200);
            let wide = wide["items"].as_array().unwrap();
            // Reading fewer people for a shorter list (the index weighs all, the database is
            // read only for those who may still reach the last place) loses none of the best.
            let ranked = |items: &[Value]| -> Vec<(String, i64)> {
                items.iter().take(5).map(|i| (i["profile"]["id"].as_str().unwrap().to_string(), i["points"].as_i64().unwrap())).collect()
            };
            assert_eq!(ranked(items), ranked(wide), "work {n}: the best five differ between a list of 5 and one of 50");
            let rank = |pid: &str| wide.iter().position(|i| i["profile"]["id"] == pid);
            let last_answer = answers[n].iter().filter_map(|a| rank(a)).max().unwrap();
            for miss in &misses[n] {
                assert!(rank(miss).is_none_or(|r| r > last_answer), "work {n}: near miss {miss} above an answer");
            }
            // The booked near miss says so, and says nothing of what it is booked for.
            if w.days.is_some()
                && w.role.is_some()
                && let Some(r) = rank(&misses[n][0])
            {
                let why = wide[r]["reasons"].to_string();
                assert!(why.contains("days.busy") && !why.contains("A feature"), "{why}");
            }
        }
        assert!(right >= 9, "the right people ranked in the top five for {right} of 10");
        eprintln!("the right people ranked in the top five for {right} of 10");
        // The keeper finds its own private profile among the best for the same work.
        let (s, own) = srv.get(&keeper.token, &works[0].query()).await;
        assert_eq!(s, 200);
        assert!(own["items"].as_array().unwrap().iter().any(|i| i["profile"]["id"] == private_id.as_str()), "{own}");
        // A bad ask is refused naming its field.
        let (s, p) = srv.get(&hirer.token, "/api/v1/talent/matches?skills=&languages=zh").await;
        assert_eq!((s, p["field"].as_str()), (422, Some("role")), "{p}");
        let (s, p) = srv
            .get(&hirer.token, "/api/v1/talent/matches?role=compositor&starts_on=2027-02-01&ends_on=2027-01-01")
            .await;
        assert_eq!((s, p["field"].as_str()), (422, Some("ends_on")), "{p}");
    })
    .await;
}
