//! An editor's locators (EDL `* LOC:` lines) kept on their shots: a conform writes them, a shot
//! read answers them, the shot page shows them (in Chinese too), both exports write them back
//! (and conform back unchanged), a recut without one removes it, and another organisation sees
//! none of them.

use crate::common::*;
use mstation_core::tracking::edl::{self, TrackKind};
use mstation_core::tracking::otio;
use mstation_core::tracking::timecode::Rate;
use mstation_core::{Role, TenantScope};
use serde_json::{Value, json};

/// Two shots at 24 fps: three seconds and a second and a half. The first has two locators (one
/// with Avid's one-digit hour), the second one of a colour no reader knows and one past its end.
const CUT: &str = "TITLE: MOONLIGHT R1
FCM: NON-DROP FRAME
001  A001C003 V     C        10:00:00:00 10:00:03:00 01:00:00:00 01:00:03:00
* FROM CLIP NAME: A001C003_ROOFTOP.MOV
* LOC: 01:00:01:00 RED     fix the sky
*LOC: 1:00:02:12 YELLOW note
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:03:00 01:00:04:12
* FROM CLIP NAME: A001C007_ALLEY.MOV
* LOC: 01:00:03:06 TEAL    check the grade
* LOC: 01:00:05:00 GREEN   past the end
";

async fn conform(srv: &Srv, token: &str, seq: &str, format: &str, edl: &str, apply: bool) -> Value {
    let (s, v) = srv
        .post(
            token,
            &format!("/api/v1/sequences/{seq}/conform"),
            json!({"format": format, "edl": edl, "apply": apply}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn export(srv: &Srv, token: &str, seq: &str, format: &str) -> String {
    let r = srv
        .call(
            token,
            reqwest::Method::GET,
            &format!("/api/v1/sequences/{seq}/export?format={format}"),
            None,
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

/// `(frame, color, text)` of a shot's answer.
fn marks(shot: &Value) -> Vec<(i64, Option<String>, String)> {
    shot["locators"]
        .as_array()
        .unwrap_or_else(|| panic!("no locators: {shot}"))
        .iter()
        .map(|l| {
            (
                l["frame"].as_i64().unwrap(),
                l["color"].as_str().map(str::to_string),
                l["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn mark(frame: i64, color: Option<&str>, text: &str) -> (i64, Option<String>, String) {
    (frame, color.map(str::to_string), text.to_string())
}

/// A signed-in browser session: the page as `lang` reads it.
async fn page(srv: &Srv, t: &Tenant, path: &str, lang: &str) -> (u16, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{}/signin", srv.base))
        .form(&[
            ("email", t.owner.email.as_str()),
            ("password", t.password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "signing in");
    let r = http
        .get(format!("{}{path}", srv.base))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The page's locators section.
fn section(page: &str) -> &str {
    let at = page
        .find("data-testid=\"locators\"")
        .unwrap_or_else(|| panic!("no locators section: {page}"));
    &page[at..at + page[at..].find("</section>").unwrap()]
}

/// The values of the catalog's `## Shot locators` block.
fn words(lang: &str) -> Vec<String> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let block = &text[text
        .find("\n## Shot locators")
        .expect("a ## Shot locators block")..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        .filter(|l| l.starts_with("shot-"))
        .filter_map(|l| l.split_once(" = "))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locators_are_kept_shown_exported_and_replaced_by_a_recut() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let tok = a.token.clone();
        let (s, p) = srv
            .post(
                &tok,
                "/api/v1/projects",
                json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 4096, "height": 2160}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        let (_, seq) = srv
            .post(
                &tok,
                &format!("/api/v1/projects/{}/sequences", p["id"].as_str().unwrap()),
                json!({"name": "SQ010"}),
            )
            .await;
        let seq = seq["id"].as_str().unwrap().to_string();

        // The dry run shows each new shot's locators on its frames (cut in at 1009); the one
        // past its event's end and the unknown colour are warned of.
        let diff = conform(&srv, &tok, &seq, "cmx3600", CUT, false).await;
        assert_eq!(diff["new"][0]["locators"][0], json!({"frame": 1033, "color": "RED", "text": "fix the sky"}));
        let warned: Vec<(i64, &str)> = diff["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["line"].as_i64().unwrap(), w["code"].as_str().unwrap()))
            .collect();
        assert_eq!(warned, [(9, "locator_colour_unknown"), (10, "locator_outside_event")]);
        let applied = conform(&srv, &tok, &seq, "cmx3600", CUT, true).await;
        assert_eq!(applied["new"], diff["new"], "apply writes what the dry run showed");

        // One shot read has them; a list of shots leaves them out.
        let (_, shots) = srv.get(&tok, &format!("/api/v1/sequences/{seq}/shots")).await;
        let first = shots["items"][0]["id"].as_str().unwrap().to_string();
        let second = shots["items"][1]["id"].as_str().unwrap().to_string();
        assert!(shots["items"][0].get("locators").is_none(), "{shots}");
        let (s, shot) = srv.get(&tok, &format!("/api/v1/shots/{first}")).await;
        assert_eq!(s, 200);
        assert_eq!(
            marks(&shot),
            [mark(1033, Some("RED"), "fix the sky"), mark(1069, Some("YELLOW"), "note")]
        );
        let (_, other) = srv.get(&tok, &format!("/api/v1/shots/{second}")).await;
        assert_eq!(marks(&other), [mark(1015, None, "TEAL    check the grade")]);

        // The CMX 3600 export writes them at their record timecodes, after the shot's name; read
        // again, they are the same locators.
        let cmx = export(&srv, &tok, &seq, "cmx3600").await;
        assert!(cmx.contains("* LOC: 01:00:00:00 WHITE   SQ010_0010\n* LOC: 01:00:01:00 RED     fix the sky\n* LOC: 01:00:02:12 YELLOW  note\n"), "{cmx}");
        assert!(cmx.contains("* LOC: 01:00:03:06 TEAL    check the grade\n"), "{cmx}");
        let read = edl::parse(&cmx, Rate::FPS_24).unwrap();
        let again: Vec<Vec<(i64, Option<String>, String)>> = read
            .events
            .iter()
            .filter(|e| e.track == TrackKind::Video)
            .map(|e| {
                e.locators
                    .iter()
                    .map(|l| (1009 + l.frames - e.record_in_frames, l.colour.clone(), l.text.clone()))
                    .collect()
            })
            .collect();
        assert_eq!(
            again,
            [
                vec![mark(1009, Some("WHITE"), "SQ010_0010"), mark(1033, Some("RED"), "fix the sky"), mark(1069, Some("YELLOW"), "note")],
                vec![mark(1009, Some("WHITE"), "SQ010_0020"), mark(1015, None, "TEAL    check the grade")],
            ]
        );

        // The OTIO export writes them as markers in their clip's own time: the source in
        // (10:00:00:00, frame 864 000) and a second into the shot.
        let timeline = export(&srv, &tok, &seq, "otio").await;
        let doc: Value = serde_json::from_str(&timeline).unwrap();
        let marker = &doc["tracks"]["children"][0]["children"][0]["markers"][0];
        assert_eq!(marker["OTIO_SCHEMA"], "Marker.2");
        assert_eq!((marker["name"].as_str(), marker["color"].as_str()), (Some("fix the sky"), Some("RED")));
        assert_eq!(marker["marked_range"]["start_time"]["value"], json!(864_024.0));
        let read = otio::read(&timeline, Rate::FPS_24, false).unwrap();
        let texts: Vec<&str> = read.events.iter().flat_map(|e| &e.locators).map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["fix the sky", "note", "TEAL    check the grade"]);

        // Either export conforms back unchanged, locators and all.
        for (format, text) in [("cmx3600", &cmx), ("otio", &timeline)] {
            let back = conform(&srv, &tok, &seq, format, text, false).await;
            assert_eq!(back["unchanged"].as_array().unwrap().len(), 2, "{format}: {back}");
            assert!(back["changed"].as_array().unwrap().is_empty(), "{format}: {back}");
        }

        // The shot page lists them with their timecode and colour, in English and in Chinese.
        let url = format!("/app/shots/{first}");
        let (s, en) = page(&srv, &a, &url, "en").await;
        assert_eq!(s, 200, "{en}");
        let listed = section(&en);
        for seen in ["Markers from the cut", "1033", "01:00:01:00", "fix the sky", "Red", "--c:red", "1069", "Yellow"] {
            assert!(listed.contains(seen), "{seen}: {listed}");
        }
        assert!(listed.find("fix the sky").unwrap() < listed.find("note").unwrap(), "in order");
        let (s, zh) = page(&srv, &a, &url, "zh-CN").await;
        assert_eq!(s, 200);
        let listed = section(&zh);
        for seen in ["剪辑标记", "录制时间码", "红色", "黄色", "fix the sky"] {
            assert!(listed.contains(seen), "{seen}: {listed}");
        }
        for english in words("en") {
            if english.len() >= 3 {
                assert!(!listed.contains(&english), "{english} on the Chinese page: {listed}");
            }
        }
        assert!(words("zh-CN").len() >= 17, "the block is read");
        let (_, none) = page(&srv, &a, &format!("/app/shots/{second}"), "en").await;
        assert!(section(&none).contains("No colour"), "{}", section(&none));

        // Another organisation sees none of it: not the shot, its page, its export, nor its
        // locators through the store.
        let (s, _) = srv.get(&b.token, &format!("/api/v1/shots/{first}")).await;
        assert_eq!(s, 404);
        let (s, _) = srv.get(&b.token, &format!("/api/v1/sequences/{seq}/export")).await;
        assert_eq!(s, 404);
        let (s, theirs) = page(&srv, &b, &url, "en").await;
        assert_eq!(s, 404);
        assert!(!theirs.contains("fix the sky"));
        let bravo = TenantScope {
            org_id: b.org.id,
            user_id: b.owner.id,
            role: Role::Owner,
            token_scopes: None,
            token_id: None,
        };
        let first_id = first.parse().unwrap();
        assert!(srv.store().tenant(&bravo).shot_locators(first_id).await.unwrap().is_empty());
        assert!(srv.store().tenant(&bravo).sequence_locators(seq.parse().unwrap()).await.unwrap().is_empty());
        let (s, _) = srv
            .post(&b.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true}))
            .await;
        assert_eq!(s, 404);

        // The OpenAPI document says so: a shot's locators, with the fields they have.
        let doc: Value = srv.http.get(format!("{}/api/openapi.json", srv.base)).send().await.unwrap().json().await.unwrap();
        let schemas = &doc["components"]["schemas"];
        let field = &schemas["Shot"]["properties"]["locators"];
        let said = field["description"].as_str().unwrap_or_default().replace('\n', " ");
        assert!(said.contains("lists of shots leave it out"), "{field}");
        let fields: Vec<&String> = schemas["ShotLocator"]["properties"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["color", "frame", "text"], "{}", schemas["ShotLocator"]);

        // A recut without the red locator: that shot changes in its locators alone, and the
        // locator is gone from the shot and from the exports.
        let recut = CUT.replace("* LOC: 01:00:01:00 RED     fix the sky\n", "");
        let done = conform(&srv, &tok, &seq, "cmx3600", &recut, true).await;
        assert_eq!(done["unchanged"].as_array().unwrap().len(), 1, "{done}");
        assert_eq!(done["changed"][0]["id"], json!(first));
        assert_eq!(done["changed"][0]["fields"], json!(["locators"]));
        let (_, shot_after) = srv.get(&tok, &format!("/api/v1/shots/{first}")).await;
        assert_eq!(marks(&shot_after), [mark(1069, Some("YELLOW"), "note")]);
        assert_eq!(shot_after["version"].as_i64(), shot["version"].as_i64().map(|v| v + 1));
        let (_, other_after) = srv.get(&tok, &format!("/api/v1/shots/{second}")).await;
        assert_eq!(marks(&other_after), marks(&other), "a shot the recut leaves alone keeps its own");
        for format in ["cmx3600", "otio"] {
            assert!(!export(&srv, &tok, &seq, format).await.contains("fix the sky"), "{format}");
        }
        let (_, audit) = srv.get(&tok, "/api/v1/audit?action=sequence.conformed").await;
        assert_eq!(audit["items"][0]["after"]["shots"][0]["fields"], json!(["locators"]), "{audit}");
    })
    .await;
}
