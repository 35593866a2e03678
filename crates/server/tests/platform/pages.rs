//! The production pages behind a browser session: each organisation sees only its own projects,
//! grids, imports and tasks; another organisation's ids are 404 pages, for reads and for posts;
//! roles limit what the pages may change.

use crate::common::*;
use mstation_core::{Role, TokenScope};
use serde_json::json;

pub(crate) const CUT: &str = "TITLE: MOONLIGHT R1
FCM: NON-DROP FRAME
001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
* FROM CLIP NAME: A001C003_ROOFTOP.MOV
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:02:00 01:00:03:12
* FROM CLIP NAME: A001C007_ALLEY.MOV
";

/// A signed-in browser: cookie jar, and the CSRF token its pages carry.
/// What a reader sees: the page without its tags.
/// The English texts (without arguments, longer than four bytes) of the first block of the
/// pages' catalogue whose heading begins with `heading`: what must never stand on a Chinese
/// page.
pub(crate) fn english_block(heading: &str) -> Vec<String> {
    let path = format!("{}/locales/en/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let all = std::fs::read_to_string(path).unwrap();
    let block = &all[all
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("a block headed {heading}"))..];
    block
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("##"))
        .filter_map(|l| l.split_once(" = ").map(|(_, v)| v.to_string()))
        .filter(|v| !v.contains('{') && v.len() > 4)
        .collect()
}

pub(crate) fn text(page: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The words of a PDF as poppler's `pdftotext` reads them (the test command installs it):
/// another reader than ours, which says nothing on its error stream about a sound file.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pdftotext is installed (scripts/test installs poppler-utils)");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "pdftotext read the PDF: {said}"
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Browser {
    pub(crate) async fn sign_in(srv: &Srv, email: &str, password: &str) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{}/signin", srv.base))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "signing in as {email}");
        let mut b = Browser {
            http,
            base: srv.base.clone(),
            csrf: String::new(),
        };
        let (_, page) = b.get("/app/projects").await;
        let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        b.csrf = page[at..at + page[at..].find('"').unwrap()].to_string();
        b
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.get_bytes(path).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// A download: its status, its content type and its bytes.
    pub(crate) async fn get_bytes(&self, path: &str) -> (u16, Option<String>, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let kind = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (r.status().as_u16(), kind, r.bytes().await.unwrap().to_vec())
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut f: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        f.extend_from_slice(form);
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&f)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_pages_keep_to_their_organisation_and_role() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let alpha = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;

        // Alpha builds a production through its pages.
        let (s, _) = alpha
            .post(
                "/app/projects",
                &[
                    ("name", "Moonlight"),
                    ("code", "MOON"),
                    ("fps", "24"),
                    ("width", "4096"),
                    ("height", "2160"),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (_, projects) = srv.get(&a.token, "/api/v1/projects").await;
        let pid = projects["items"][0]["id"].as_str().unwrap().to_string();
        let (s, _) = alpha
            .post(
                &format!("/app/projects/{pid}/sequences"),
                &[("name", "SQ010")],
            )
            .await;
        assert_eq!(s, 303);
        let (_, seqs) = srv
            .get(&a.token, &format!("/api/v1/projects/{pid}/sequences"))
            .await;
        let seq = seqs["items"][0]["id"].as_str().unwrap().to_string();
        let import = format!("/app/sequences/{seq}/import");

        let (s, preview) = alpha
            .post(
                &import,
                &[("edl", CUT), ("action", "preview"), ("tasks", "1")],
            )
            .await;
        assert_eq!(s, 200);
        assert!(
            preview.contains("A001C007_ALLEY.MOV") && preview.contains("SQ010_0020"),
            "the preview lists the new shots"
        );
        let (_, shots) = srv
            .get(&a.token, &format!("/api/v1/sequences/{seq}/shots"))
            .await;
        assert_eq!(shots["total"], 0, "a preview writes nothing");
        let (s, _) = alpha
            .post(
                &import,
                &[("edl", CUT), ("action", "apply"), ("tasks", "1")],
            )
            .await;
        assert_eq!(s, 303);
        // A recut, previewed: the changes in words, and a malformed audio line skipped with a
        // warning rather than refusing the file.
        let recut = "TITLE: MOONLIGHT R2\nFCM: NON-DROP FRAME\n\
001  A001C003 V     C        10:00:00:00 10:00:02:12 01:00:00:00 01:00:02:12\n\
* FROM CLIP NAME: A001C003_ROOFTOP.MOV\n\
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:02:12 01:00:04:00\n\
* FROM CLIP NAME: A001C007_ALLEY.MOV\n\
003  A001C003 A     C        10:00:00:00 10:00:01:00 01:00:05:00 01:00:04:12\n";
        let (s, preview) = alpha
            .post(&import, &[("edl", recut), ("action", "preview")])
            .await;
        assert_eq!(s, 200, "{preview}");
        assert!(
            preview.contains("length 48 → 60 frames"),
            "the change in words"
        );
        assert!(!preview.contains("cut_out"), "no internal field names");
        assert!(
            preview.contains("data-testid=\"warnings\"")
                && preview.contains("the record out is before the record in"),
            "the warning is shown"
        );
        let (_, tasks) = srv
            .get(&a.token, &format!("/api/v1/sequences/{seq}/tasks"))
            .await;
        assert_eq!(
            tasks["items"].as_array().unwrap().len(),
            12,
            "two shots, six pipeline steps each"
        );
        let task = tasks["items"][0]["id"].as_str().unwrap().to_string();
        let applied = shots_now(&srv, &a.token, &seq).await;
        assert_eq!(applied.as_array().unwrap().len(), 2);
        // Frames are counted one way: in and out both included (2 s and 1 s 12 f at 24 fps).
        let (_, grid) = alpha.get(&format!("/app/projects/{pid}/shots")).await;
        assert!(
            grid.contains("data-frames=\"48\"") && grid.contains("data-frames=\"36\""),
            "the grid counts 48 and 36 frames"
        );
        let (_, page) = alpha.get(&format!("/app/tasks/{task}")).await;
        assert!(
            page.contains("(48)") || page.contains("(36)"),
            "the task page too"
        );

        // The asset grid: an asset made through its form gets the pipeline's tasks.
        let assets = format!("/app/projects/{pid}/assets");
        let (s, _) = alpha
            .post(
                &assets,
                &[
                    ("name", "Lantern"),
                    ("kind", "prop"),
                    ("description", "Paper, red"),
                    ("tasks", "1"),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (_, listed) = srv
            .get(&a.token, &format!("/api/v1/projects/{pid}/assets"))
            .await;
        let asset = listed["items"][0]["id"].as_str().unwrap().to_string();
        let (_, asset_tasks) = srv
            .get(&a.token, &format!("/api/v1/assets/{asset}/tasks"))
            .await;
        assert_eq!(
            asset_tasks["items"].as_array().unwrap().len(),
            5,
            "one per asset step"
        );
        let (s, page) = alpha.get(&format!("{assets}?kind=prop")).await;
        assert_eq!(s, 200);
        assert!(page.contains("Lantern") && page.contains(&format!("data-row=\"{asset}\"")));
        assert_eq!(page.matches("class=\"cell\" data-task=").count(), 5);
        let (_, page) = alpha.get(&format!("{assets}?kind=character")).await;
        assert!(!page.contains("Lantern"), "the kind filter");
        // Adding the missing tasks again adds none.
        assert_eq!(alpha.post(&format!("{assets}/add-tasks"), &[]).await.0, 303);
        let (_, again) = srv
            .get(&a.token, &format!("/api/v1/assets/{asset}/tasks"))
            .await;
        assert_eq!(again["items"].as_array().unwrap().len(), 5);

        // The project's activity names an asset's task and a note on the asset after the asset.
        let asset_task = again["items"][0]["id"].as_str().unwrap().to_string();
        let (s, _) = srv
            .post(
                &a.token,
                &format!("/api/v1/tasks/{asset_task}/notes"),
                json!({"body": "Paint pass started."}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, _) = srv
            .post(
                &a.token,
                &format!("/api/v1/assets/{asset}/notes"),
                json!({"body": "Reference photos are in."}),
            )
            .await;
        assert_eq!(s, 201);
        let (_, feed) = alpha.get(&format!("/app/projects/{pid}/activity")).await;
        let lantern_notes = feed.matches("wrote a note on <a href=").count();
        assert!(lantern_notes >= 2, "{feed}");
        assert!(
            feed.contains("Lantern · ")
                && feed.contains(&format!("href=\"/app/assets/{asset}\">Lantern</a>")),
            "{feed}"
        );

        // Casting: the asset is cast into a shot from its page; the shot's task page names it.
        let shot0 = applied[0]["id"].as_str().unwrap().to_string();
        let asset_page = format!("/app/assets/{asset}");
        let (_, page) = alpha.get(&asset_page).await;
        assert!(page.contains("SQ010_0010"), "a shot to cast it in");
        let (s, _) = alpha
            .post(
                &format!("{asset_page}/cast"),
                &[("shot_id", &shot0), ("count", "3")],
            )
            .await;
        assert_eq!(s, 303);
        let (_, cast) = srv
            .get(&a.token, &format!("/api/v1/shots/{shot0}/assets"))
            .await;
        assert_eq!(cast["items"][0]["count"], 3, "{cast}");
        let shot_task = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["shot_id"] == json!(shot0))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, page) = alpha.get(&format!("/app/tasks/{shot_task}")).await;
        assert!(page.contains(&format!("href=\"/app/assets/{asset}\"")));

        // Versions and time logs through the task page.
        let task_url = format!("/app/tasks/{task}");
        for comment in ["First pass.", "Timing notes addressed."] {
            let (s, _) = alpha
                .post(&format!("{task_url}/versions"), &[("comment", comment)])
                .await;
            assert_eq!(s, 303);
        }
        let (s, _) = alpha
            .post(
                &format!("{task_url}/time-logs"),
                &[
                    ("date", "2026-11-20"),
                    ("minutes", "90"),
                    ("comment", "blocking"),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (s, _) = alpha
            .post(
                &format!("{task_url}/time-logs"),
                &[("date", "2026-11-21"), ("minutes", "45")],
            )
            .await;
        assert_eq!(s, 303);
        let (s, page) = alpha
            .post(
                &format!("{task_url}/time-logs"),
                &[("date", "2026-11-21"), ("minutes", "lots")],
            )
            .await;
        assert_eq!(s, 200);
        assert!(page.contains("class=\"flash error\""));
        let (_, page) = alpha.get(&task_url).await;
        let (v2, v1) = (
            page.find("v002").expect("v002"),
            page.find("v001").expect("v001"),
        );
        assert!(v2 < v1, "newest first");
        assert!(page.contains("Timing notes addressed."));
        assert!(
            page.contains("data-testid=\"time-total\">2:15<"),
            "90 + 45 minutes"
        );

        // The project page's bar comes from the progress overview: two shots, twelve tasks.
        let (_, page) = alpha.get(&format!("/app/projects/{pid}")).await;
        assert!(
            page.contains("<td class=\"num\">2</td><td class=\"num\">12</td>"),
            "{page}"
        );

        // A broken EDL is a 422 page that names the line.
        let (s, page) = alpha
            .post(
                &import,
                &[
                    ("edl", "001  A001 V C 01:00:00:00\n"),
                    ("action", "preview"),
                ],
            )
            .await;
        assert_eq!(s, 422);
        assert!(page.contains("line 1"), "{page}");

        let grid = format!("/app/projects/{pid}/shots");
        let reads = [
            format!("/app/projects/{pid}"),
            grid.clone(),
            format!("{grid}?sequence={seq}"),
            import.clone(),
            format!("/app/tasks/{task}"),
            format!("/app/projects/{pid}/activity"),
            assets.clone(),
            asset_page.clone(),
        ];
        for path in &reads {
            let (s, page) = alpha.get(path).await;
            assert_eq!(s, 200, "{path} for its own organisation");
            assert!(page.contains("Moonlight"), "{path}");
            let (s, page) = bravo.get(path).await;
            assert_eq!(s, 404, "{path} for another organisation");
            assert!(
                !page.contains("Moonlight") && !page.contains("SQ010"),
                "{path} leaks nothing"
            );
        }
        // Alpha's owner's feed names the shots; Bravo cannot open it.
        let feed = format!("/app/people/{}/activity", a.owner.id);
        let (s, page) = alpha.get(&feed).await;
        assert_eq!(s, 200);
        assert!(
            page.contains("SQ010_0010") && page.contains("created the project"),
            "{page}"
        );
        assert_eq!(bravo.get(&feed).await.0, 404);
        // A big page travels gzipped to a browser that asks for it.
        let r = alpha
            .http
            .get(format!("{}{grid}", srv.base))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            Some("gzip")
        );
        let (_, list) = bravo.get("/app/projects").await;
        assert!(!list.contains("Moonlight"));

        // Bravo's posts at Alpha's ids change nothing.
        let cut2 = CUT.replace(
            "11:00:06:12 01:00:02:00 01:00:03:12",
            "11:00:06:00 01:00:02:00 01:00:03:00",
        );
        let posts: [(String, Vec<(&str, &str)>); 10] = [
            (import.clone(), vec![("edl", &cut2), ("action", "apply")]),
            (format!("/app/sequences/{seq}/add-tasks"), vec![]),
            (
                format!("/app/projects/{pid}/sequences"),
                vec![("name", "SQ999")],
            ),
            (
                format!("/app/tasks/{task}/notes"),
                vec![("body", "sneaky"), ("version", "1")],
            ),
            (
                assets.clone(),
                vec![("name", "Sneaky"), ("kind", "prop"), ("tasks", "1")],
            ),
            (format!("{assets}/add-tasks"), vec![]),
            (format!("{asset_page}/cast"), vec![("shot_id", &shot0)]),
            (format!("{asset_page}/uncast"), vec![("shot_id", &shot0)]),
            (format!("{task_url}/versions"), vec![("comment", "sneaky")]),
            (
                format!("{task_url}/time-logs"),
                vec![("date", "2026-11-22"), ("minutes", "60")],
            ),
        ];
        for (path, form) in &posts {
            let (s, _) = bravo.post(path, form).await;
            assert_eq!(s, 404, "POST {path} for another organisation");
        }
        assert_eq!(
            shots_now(&srv, &a.token, &seq).await,
            applied,
            "Bravo's recut was not applied"
        );
        let (_, cast) = srv
            .get(&a.token, &format!("/api/v1/shots/{shot0}/assets"))
            .await;
        assert_eq!(cast["items"].as_array().unwrap().len(), 1, "still cast");
        let (_, versions) = srv
            .get(&a.token, &format!("/api/v1/tasks/{task}/versions"))
            .await;
        assert_eq!(versions["total"], 2);
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["logged_minutes"], 135);
        let (_, notes) = srv
            .get(&a.token, &format!("/api/v1/tasks/{task}/notes"))
            .await;
        assert_eq!(notes["items"].as_array().unwrap().len(), 0);

        // A forged form without the session's CSRF token is refused.
        let r = alpha
            .http
            .post(format!("{}/app/tasks/{task}/notes", srv.base))
            .form(&[("csrf", "nope"), ("body", "x"), ("version", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);

        // A viewer sees the grid but may not import a cut or write a note.
        let (_viewer, _) = srv
            .member(
                &a,
                "viewer@alpha.example",
                Role::Viewer,
                &[TokenScope::Read],
            )
            .await;
        let v = Browser::sign_in(&srv, "viewer@alpha.example", "correct horse battery").await;
        assert_eq!(v.get(&grid).await.0, 200);
        assert_eq!(v.get(&assets).await.0, 200);
        assert_eq!(
            v.post(&assets, &[("name", "Kite"), ("kind", "prop")])
                .await
                .0,
            403
        );
        assert_eq!(v.post(&format!("{assets}/add-tasks"), &[]).await.0, 403);
        assert_eq!(
            v.post(&format!("{task_url}/versions"), &[("comment", "hi")])
                .await
                .0,
            403
        );
        assert_eq!(
            v.post(
                &format!("{task_url}/time-logs"),
                &[("date", "2026-11-22"), ("minutes", "60")]
            )
            .await
            .0,
            403
        );
        assert_eq!(
            v.post(&format!("{asset_page}/uncast"), &[("shot_id", &shot0)])
                .await
                .0,
            403
        );
        assert_eq!(
            v.post(&import, &[("edl", CUT), ("action", "apply")])
                .await
                .0,
            403
        );
        assert_eq!(
            v.post(
                &format!("/app/tasks/{task}/notes"),
                &[("body", "hi"), ("version", "1")]
            )
            .await
            .0,
            403
        );

        // A note with a status change, through the task page.
        let (_, statuses) = srv
            .get(&a.token, &format!("/api/v1/projects/{pid}/statuses"))
            .await;
        let wip = statuses["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["short_name"] == "wip")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, _) = alpha
            .post(
                &format!("/app/tasks/{task}/notes"),
                &[
                    ("body", "Starting."),
                    ("frame", "1012"),
                    ("status_id", &wip),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(s, 303);
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["status_id"], json!(wip));
        // The same form again carries a stale version: the page says so and changes nothing.
        let (s, page) = alpha
            .post(
                &format!("/app/tasks/{task}/notes"),
                &[
                    ("body", "Again."),
                    ("status_id", statuses["items"][0]["id"].as_str().unwrap()),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(s, 409);
        assert!(page.contains("class=\"flash error\""), "{page}");
        assert!(
            page.contains(">Again.</textarea>"),
            "the note kept as typed"
        );
        let (_, mine) = alpha.get("/app/my-tasks").await;
        assert!(mine.contains("Nothing is assigned to you"));
    })
    .await;
}

async fn shots_now(srv: &Srv, token: &str, seq: &str) -> serde_json::Value {
    srv.get(token, &format!("/api/v1/sequences/{seq}/shots"))
        .await
        .1["items"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_posted_from_another_site_is_refused() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let here = srv.base.trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = |headers: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{here}/signin");
        let (email, password) = (a.owner.email.clone(), a.password.clone());
        async move {
            let mut req = http
                .post(url)
                .form(&[("email", email.as_str()), ("password", password.as_str())]);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let r = req.send().await.unwrap();
            let cookie = r.headers().contains_key("set-cookie");
            (r.status().as_u16(), cookie)
        }
    };
    for refused in [
        vec![("origin", "https://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        vec![
            ("sec-fetch-site", "cross-site".to_string()),
            ("origin", here.clone()),
        ],
        vec![("sec-fetch-site", "same-site".to_string())],
    ] {
        let what = format!("{refused:?}");
        assert_eq!(sign_in(refused).await, (403, false), "{what}");
    }
    for allowed in [
        vec![("origin", here.clone())],
        vec![
            ("sec-fetch-site", "same-origin".to_string()),
            ("origin", here.clone()),
        ],
        vec![("sec-fetch-site", "none".to_string())],
        // No browser: nothing to forge a sign-in into.
        vec![],
    ] {
        let what = format!("{allowed:?}");
        assert_eq!(sign_in(allowed).await, (303, true), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_host_is_this_site() {
    // A proxy that rewrote Host, in front of an older browser that sends Origin only.
    for (proxies, want) in [(&["127.0.0.1"][..], 303), (&[][..], 403)] {
        let srv = start_behind(Backend::Sqlite, proxies).await;
        let a = srv.tenant("Alpha", "alpha").await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{}/signin", srv.base.trim_end_matches('/')))
            .header("origin", "https://studio.example")
            .header("x-forwarded-host", "studio.example")
            .form(&[
                ("email", a.owner.email.as_str()),
                ("password", a.password.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "trusted proxies: {proxies:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_without_the_sessions_token_changes_nothing() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let browser = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let r = browser
            .http
            .post(format!("{}/signout", srv.base))
            .form(&[("csrf", "not-the-token")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert!(
            r.headers().get("set-cookie").is_none(),
            "the cookie is left alone"
        );
        let (s, _) = browser.get("/app/projects").await;
        assert_eq!(s, 200, "still signed in");
        let (s, _) = browser.post("/signout", &[]).await;
        assert_eq!(s, 303);
        let (s, _) = browser.get("/app/projects").await;
        assert_eq!(s, 303, "signed out with the session's own token");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_downloads_their_data_and_erases_their_account_from_its_page() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let lin = srv
            .person(
                &a,
                "lin.qiao@alpha.example",
                "Lin Qiao",
                mstation_core::Role::Artist,
            )
            .await;
        let browser = Browser::sign_in(&srv, &lin.email, "correct horse battery").await;
        let (s, page) = browser.get("/app/account").await;
        assert_eq!(s, 200);
        assert!(
            page.contains("lin.qiao@alpha.example")
                && page.contains("data-testid=\"download-data\""),
            "{page}"
        );
        let (s, kind, data) = browser.get_bytes("/app/account/data.json").await;
        assert_eq!((s, kind.as_deref()), (200, Some("application/json")));
        let data: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(data["account"]["display_name"], "Lin Qiao");
        // Without the tick, or with a wrong password, nothing happens and the page says why.
        let (s, page) = browser
            .post(
                "/app/account/erase",
                &[("password", "correct horse battery")],
            )
            .await;
        assert_eq!(s, 422);
        assert!(page.contains("class=\"flash error\""), "{page}");
        let (s, page) = browser
            .post(
                "/app/account/erase",
                &[("password", "not it"), ("sure", "yes")],
            )
            .await;
        assert_eq!(s, 422);
        assert!(page.contains("class=\"flash error\""), "{page}");
        let (s, _) = browser.get("/app/account").await;
        assert_eq!(s, 200, "still there");
        // With both: erased, signed out, told so, and never signed in again.
        let r = browser
            .http
            .post(format!("{}/app/account/erase", srv.base))
            .form(&[
                ("csrf", browser.csrf.as_str()),
                ("password", "correct horse battery"),
                ("sure", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/signin?erased=1");
        let (_, signin) = browser.get("/signin?erased=1").await;
        assert!(signin.contains("Your account was erased."), "{signin}");
        let r = srv
            .http
            .post(format!("{}/signin", srv.base))
            .form(&[
                ("email", "lin.qiao@alpha.example"),
                ("password", "correct horse battery"),
            ])
            .send()
            .await
            .unwrap();
        assert_ne!(r.status().as_u16(), 303, "no sign-in as an erased person");
    })
    .await;
}

/// `page` with the values of its CSRF fields left out.
pub(crate) fn without_csrf(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(at) = rest.find("name=\"csrf\" value=\"") {
        let start = at + "name=\"csrf\" value=\"".len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = &rest[rest.find('"').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}
