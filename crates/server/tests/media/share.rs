//! Share links: a playlist shown to a guest with no account. The guest reaches exactly what the
//! link shares, only as copies made for the link with its recipient burnt into every frame,
//! behind its password, and nothing once it is revoked or has run out.

use super::*;
use serde_json::{Value, json};

/// Decodes a movie to small grey frames (80 by 45), one `Vec` of 3,600 bytes per frame.
fn grey_frames(movie: &[u8]) -> Vec<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("mstation-grey-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("in.mp4");
    std::fs::write(&path, movie).unwrap();
    let out = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(&path)
        .args([
            "-vf",
            "scale=80:45",
            "-pix_fmt",
            "gray",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("ffmpeg is installed");
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
    out.stdout.chunks(80 * 45).map(|c| c.to_vec()).collect()
}

/// A guest's request: no account, only the cookies given.
async fn guest(srv: &Srv, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut r = client.get(format!("{}{path}", srv.base));
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    r.send().await.unwrap()
}

/// A project with one asset, a task on it, a version of the task made of `file`, and a playlist
/// holding that version: the version and the playlist.
async fn shared_version(srv: &Srv, token: &str, asset: &str, file: &str) -> (Value, String) {
    let (_, p) = srv
        .post(
            token,
            "/api/v1/projects",
            json!({"name": "Moon", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}),
        )
        .await;
    let project = id(&p);
    let (_, hero) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/assets"),
            json!({"kind": "character", "name": asset}),
        )
        .await;
    let (_, types) = srv
        .get(token, &format!("/api/v1/projects/{project}/task-types"))
        .await;
    let (_, tasks) = srv
        .post(
            token,
            "/api/v1/tasks",
            json!({"tasks": [{"asset_id": hero["id"], "task_type_id": types["items"][1]["id"]}]}),
        )
        .await;
    let (s, version) = srv
        .post(
            token,
            &format!("/api/v1/tasks/{}/versions", id(&tasks["items"][0])),
            json!({"comment": "for the client", "media": [file]}),
        )
        .await;
    assert_eq!(s, 201, "{version}");
    let (_, list) = srv
        .post(
            token,
            &format!("/api/v1/projects/{project}/playlists"),
            json!({"name": "Client review", "items": [version["id"]]}),
        )
        .await;
    (version, id(&list))
}

/// Uploads a clip of `seconds` as `name`: the file's id.
async fn uploaded(srv: &Srv, token: &str, name: &str, seconds: &str) -> String {
    let clip = ffmpeg_clip("320x180", "24", seconds, &[]);
    let at = create(srv, token, clip.len(), name).await;
    assert_eq!(
        patch(srv, token, &at, 0, clip).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, files) = srv.get(token, "/api/v1/media").await;
    let f = files["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
        .clone();
    id(&f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_link_serves_its_guest_only_watermarked_copies() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let b = srv.tenant("Bravo", "bravo").await;
    let (_, artist) = srv
        .member(
            &a,
            "artist@alpha.example",
            Role::Artist,
            &[TokenScope::Read, TokenScope::Write],
        )
        .await;

    // A version with a played file, in a playlist.
    let file = uploaded(&srv, &a.token, "SH010_comp_v001.mov", "2").await;
    let mut proxy = Value::Null;
    for _ in 0..600 {
        let (_, f) = srv.get(&a.token, &format!("/api/v1/media/{file}")).await;
        if f["proxy_hash"].is_string() {
            proxy = f["proxy_hash"].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(proxy.is_string(), "the proxy was made");
    let (version, list) = shared_version(&srv, &a.token, "Hero", &file).await;
    let links = format!("/api/v1/playlists/{list}/share-links");

    // Made by producers and coordinators, with a recipient, 1 to 90 days and a real password.
    let (s, _) = srv
        .post(&artist, &links, json!({"recipient": "Zhang Wei"}))
        .await;
    assert_eq!(s, 403);
    for (body, field) in [
        (json!({"recipient": ""}), "recipient"),
        (json!({"recipient": "Zhang Wei", "days": 0}), "days"),
        (json!({"recipient": "Zhang Wei", "days": 91}), "days"),
        (
            json!({"recipient": "Zhang Wei", "password": "short"}),
            "password",
        ),
    ] {
        let (s, r) = srv.post(&a.token, &links, body.clone()).await;
        assert_eq!(s, 422, "{body}: {r}");
        assert_eq!(r["field"], field, "{r}");
    }
    let (s, made) = srv
        .post(&a.token, &links, json!({"recipient": "Zhang Wei, Star Pictures", "password": "open sesame 42", "days": 7}))
        .await;
    assert_eq!(s, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    let page = made["path"].as_str().unwrap().to_string();
    assert_eq!(page, format!("/share/{token}"));
    let link = id(&made["link"]);
    assert_eq!(made["link"]["has_password"], true);
    assert!(
        made["link"].get("token_hash").is_none() && made["link"].get("password_hash").is_none()
    );
    let (_, detail) = srv
        .get(&a.token, &format!("/api/v1/share-links/{link}"))
        .await;
    let job = detail["versions"][0]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = srv.job_ended(&a.token, &job).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let (_, detail) = srv
        .get(&a.token, &format!("/api/v1/share-links/{link}"))
        .await;
    let copy = detail["versions"][0]["hash"].clone();
    assert!(
        copy.is_string() && copy != proxy,
        "a copy of its own: {detail}"
    );
    // Another organisation reaches none of it.
    for path in [format!("/api/v1/share-links/{link}"), links.clone()] {
        assert_eq!(srv.get(&b.token, &path).await.0, 404, "{path}");
    }

    // A guest: the password first; nothing plays before it.
    let media = format!("{page}/{}/media", id(&version));
    let r = guest(&srv, &page, None).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("name=\"password\"") && !html.contains("MOON") && !html.contains("Hero"),
        "{html}"
    );
    assert_eq!(guest(&srv, &media, None).await.status(), 404);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let wrong = client
        .post(format!("{}{page}", srv.base))
        .header("origin", &srv.base)
        .form(&[("password", "open sesame")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client
        .post(format!("{}{page}", srv.base))
        .header("origin", &srv.base)
        .form(&[("password", "open sesame 42")])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    let cookie = right.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = guest(&srv, &page, Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Zhang Wei, Star Pictures") && html.contains("Hero v001"),
        "{html}"
    );
    for secret in [
        "Alpha",
        "artist@alpha.example",
        "for the client",
        "SH010_comp_v001.mov",
    ] {
        assert!(!html.contains(secret), "a guest sees {secret}: {html}");
    }

    // What plays is the link's copy, and the recipient is on every frame of it.
    let r = guest(&srv, &media, Some(&cookie)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["content-disposition"], "inline");
    let served = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        Value::String(blake3::hash(&served).to_hex().to_string()),
        copy,
        "the guest is served the watermarked copy"
    );
    let original = srv
        .call(
            &a.token,
            Method::GET,
            &format!("/api/v1/media/{file}/proxy"),
            None,
        )
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let (marked, plain) = (grey_frames(&served), grey_frames(&original));
    assert_eq!(marked.len(), plain.len());
    assert!(marked.len() >= 48, "{} frames", marked.len());
    for (n, (m, p)) in marked.iter().zip(&plain).enumerate() {
        // The band across the middle where the name is written large.
        let band = (18 * 80..27 * 80).filter(|i| (i % 80) >= 8 && (i % 80) < 72);
        let differ = band.filter(|&i| m[i].abs_diff(p[i]) > 24).count();
        assert!(differ > 40, "frame {n}: only {differ} pixels marked");
    }
    // The guest's note: held with production, not a note of the version, until published.
    let r = client
        .post(format!("{}{page}/{}/notes", srv.base, id(&version)))
        .header("cookie", &cookie)
        .form(&[
            ("body", "The sky could be warmer @artist@alpha.example"),
            ("at", "1000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = client
        .post(format!("{}{page}/{}/notes", srv.base, id(&version)))
        .header("cookie", &cookie)
        .form(&[("body", "  "), ("at", "1000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "an empty note is refused in words");
    let notes_of_version = format!("/api/v1/versions/{}/notes", id(&version));
    let (_, seen) = srv.get(&artist, &notes_of_version).await;
    assert_eq!(
        seen["items"].as_array().map_or(0, |a| a.len()),
        0,
        "held: {seen}"
    );
    let (s, _) = srv
        .get(&artist, &format!("/api/v1/share-links/{link}/notes"))
        .await;
    assert_eq!(s, 403);
    let (_, held) = srv
        .get(&a.token, &format!("/api/v1/share-links/{link}/notes"))
        .await;
    assert_eq!(
        held[0]["body"],
        "The sky could be warmer @artist@alpha.example"
    );
    assert!(held[0]["published_at"].is_null());
    let publish = format!("/api/v1/guest-notes/{}/publish", id(&held[0]));
    let (s, _) = srv.post(&artist, &publish, json!({})).await;
    assert_eq!(s, 403);
    assert_eq!(srv.post(&b.token, &publish, json!({})).await.0, 404);
    let (s, published) = srv.post(&a.token, &publish, json!({})).await;
    assert_eq!(s, 200, "{published}");
    // One second into a 24 fps copy: 24 frames past its first (an asset's: the project's 1001).
    assert_eq!(published["note"]["frame"], 1025);
    assert_eq!(
        published["note"]["body"],
        "Zhang Wei, Star Pictures: The sky could be warmer @artist@alpha.example"
    );
    assert_eq!(
        published["note"]["mentions"],
        json!([]),
        "a guest's words mention nobody"
    );
    let (_, again) = srv.post(&a.token, &publish, json!({})).await;
    assert_eq!(
        again["note"]["id"], published["note"]["id"],
        "published once"
    );
    let (_, seen) = srv.get(&artist, &notes_of_version).await;
    assert_eq!(seen["items"][0]["frame"], 1025, "{seen}");
    let html = guest(&srv, &format!("{page}/{}", id(&version)), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("The sky could be warmer") && html.contains("0:01.000"),
        "{html}"
    );

    let r = client
        .get(format!("{}{media}", srv.base))
        .header("cookie", &cookie)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    // Downloads are off for this link.
    assert_eq!(
        guest(&srv, &format!("{media}?download=1"), Some(&cookie))
            .await
            .status(),
        403
    );
    // A version the link does not share, a made-up link: nothing.
    let other = format!("{page}/{}/media", uuid::Uuid::now_v7());
    assert_eq!(guest(&srv, &other, Some(&cookie)).await.status(), 404);
    let r = guest(&srv, "/share/msl_not-a-link", None).await;
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("data-testid=\"share-closed\"")
    );

    // Revoked: nothing more, cookie or not.
    let (s, revoked) = srv
        .post(
            &a.token,
            &format!("/api/v1/share-links/{link}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{revoked}");
    assert_eq!(revoked["live"], false);
    assert_eq!(guest(&srv, &page, Some(&cookie)).await.status(), 404);
    assert_eq!(guest(&srv, &media, Some(&cookie)).await.status(), 404);

    // Run out: a link with no password, past its time.
    // A name ffmpeg would read as its own (`%`, a backslash) is drawn as written.
    let (_, open) = srv
        .post(
            &a.token,
            &links,
            json!({"recipient": "Director, 100% \\ cut", "days": 1, "allow_download": true}),
        )
        .await;
    let (_, detail) = srv
        .get(
            &a.token,
            &format!("/api/v1/share-links/{}", id(&open["link"])),
        )
        .await;
    let job = detail["versions"][0]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = srv.job_ended(&a.token, &job).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let open_page = open["path"].as_str().unwrap().to_string();
    assert_eq!(guest(&srv, &open_page, None).await.status(), 200);
    let db =
        sqlx::SqlitePool::connect(&format!("sqlite:{}", srv.url.trim_start_matches("sqlite:")))
            .await
            .unwrap();
    sqlx::query("UPDATE share_links SET expires_at = 1 WHERE id = ?")
        .bind(uuid::Uuid::parse_str(&id(&open["link"])).unwrap())
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(guest(&srv, &open_page, None).await.status(), 404);
}

/// A link made before a version's proxy is: the copy is made once the proxy is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_waiting_for_a_proxy_gets_its_copy_when_the_proxy_is_made() {
    // No workers: the file is not even read until a second server with workers starts.
    let srv = start_with_workers(Backend::Sqlite, 0).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let file = uploaded(&srv, &a.token, "SH020_comp_v001.mov", "1").await;
    let (version, list) = shared_version(&srv, &a.token, "Kite", &file).await;
    let (s, made) = srv
        .post(
            &a.token,
            &format!("/api/v1/playlists/{list}/share-links"),
            json!({"recipient": "Director"}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let detail = format!("/api/v1/share-links/{}", id(&made["link"]));
    let (_, d) = srv.get(&a.token, &detail).await;
    assert!(
        d["versions"][0]["job_id"].is_null(),
        "nothing to copy yet: {d}"
    );
    let page = made["path"].as_str().unwrap().to_string();
    let html = guest(&srv, &page, None).await.text().await.unwrap();
    assert!(
        html.contains("Kite v001") && !html.contains("href=\"/share/"),
        "{html}"
    );

    // Workers start: probe, proxy, then the link's copy.
    let _workers = start_beside(&srv, 1).await;
    let mut copy = Value::Null;
    for _ in 0..600 {
        let (_, d) = srv.get(&a.token, &detail).await;
        if d["versions"][0]["hash"].is_string() {
            copy = d["versions"][0]["hash"].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(copy.is_string(), "the copy was made once the proxy was");
    let media = format!("{page}/{}/media", id(&version));
    let served = guest(&srv, &media, None).await.bytes().await.unwrap();
    assert_eq!(
        Value::String(blake3::hash(&served).to_hex().to_string()),
        copy
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_could_not_be_made_is_made_again_when_asked() {
    // No workers of its own: a second server beside it makes the proxy, then stops.
    let srv = start_with_workers(Backend::Sqlite, 0).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let b = srv.tenant("Bravo", "bravo").await;
    let file = uploaded(&srv, &a.token, "SH030_comp_v001.mov", "1").await;
    let (_, list) = shared_version(&srv, &a.token, "Lantern", &file).await;
    let workers = start_beside(&srv, 1).await;
    let mut proxied = false;
    for _ in 0..600 {
        let (_, f) = srv.get(&a.token, &format!("/api/v1/media/{file}")).await;
        if f["proxy_hash"].is_string() {
            proxied = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(proxied, "the proxy was made");
    drop(workers);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // The link's copy is asked for; its job fails for good (a worker that could not draw).
    let (s, made) = srv
        .post(
            &a.token,
            &format!("/api/v1/playlists/{list}/share-links"),
            json!({"recipient": "Director"}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let link = id(&made["link"]);
    let detail = format!("/api/v1/share-links/{link}");
    let platform = srv.store().platform();
    let job = platform
        .claim_job("test-worker", &["media.watermark"], 60_000)
        .await
        .unwrap()
        .expect("the copy's job is queued");
    assert!(
        platform
            .fail_job_for_good(job.id, "test-worker", "drawtext: no font")
            .await
            .unwrap()
    );
    let (_, d) = srv.get(&a.token, &detail).await;
    assert_eq!(d["versions"][0]["job_status"], "failed", "{d}");

    // A link revoked while its copy is being made: the copy, finished, is not kept for it.
    let (_, third) = srv
        .post(
            &a.token,
            &format!("/api/v1/playlists/{list}/share-links"),
            json!({"recipient": "Colourist"}),
        )
        .await;
    let third = format!("/api/v1/share-links/{}", id(&third["link"]));
    let running = platform
        .claim_job("test-worker", &["media.watermark"], 60_000)
        .await
        .unwrap()
        .expect("the third link's copy is queued");
    assert_eq!(
        srv.post(&a.token, &format!("{third}/revoke"), json!({}))
            .await
            .0,
        200
    );
    let ended = platform
        .finish_media_job(
            running.id,
            "test-worker",
            mstation_store::media::work::Made::Watermarked("0".repeat(64)),
        )
        .await
        .unwrap();
    assert!(
        matches!(&ended, mstation_store::media::work::Ended::Succeeded(r) if r["gone"] == true),
        "{ended:?}"
    );
    let (_, d) = srv.get(&a.token, &third).await;
    assert!(d["versions"][0]["hash"].is_null(), "{d}");

    // Asked again: a new job, once; not by another organisation.
    let remake = format!("/api/v1/share-links/{link}/remake");
    assert_eq!(srv.post(&b.token, &remake, json!({})).await.0, 404);
    let (s, asked) = srv.post(&a.token, &remake, json!({})).await;
    assert_eq!((s, asked["asked"].as_i64()), (200, Some(1)), "{asked}");
    let (_, d) = srv.get(&a.token, &detail).await;
    assert_eq!(d["versions"][0]["job_status"], "queued", "{d}");
    assert_ne!(d["versions"][0]["job_id"], json!(job.id.to_string()));
    let (_, again) = srv.post(&a.token, &remake, json!({})).await;
    assert_eq!(again["asked"], 0, "nothing failed now");
    // A link withdrawn before its copy was made: the copy is not made, and its job says why.
    let (_, other) = srv
        .post(
            &a.token,
            &format!("/api/v1/playlists/{list}/share-links"),
            json!({"recipient": "Editor"}),
        )
        .await;
    let other = format!("/api/v1/share-links/{}", id(&other["link"]));
    assert_eq!(
        srv.get(&a.token, &other).await.1["versions"][0]["job_status"],
        "queued"
    );
    assert_eq!(
        srv.post(&a.token, &format!("{other}/revoke"), json!({}))
            .await
            .0,
        200
    );
    let (_, d) = srv.get(&a.token, &other).await;
    assert_eq!(d["versions"][0]["job_status"], "failed", "{d}");
    let (_, j) = srv
        .get(
            &a.token,
            &format!(
                "/api/v1/jobs/{}",
                d["versions"][0]["job_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        j["last_error"], "the share link was revoked before its copy was made",
        "{j}"
    );

    // Workers again: the copy is made.
    let _workers = start_beside(&srv, 1).await;
    let mut copy = false;
    for _ in 0..600 {
        let (_, d) = srv.get(&a.token, &detail).await;
        if d["versions"][0]["hash"].is_string() {
            copy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(copy, "the copy was made once asked again");
    // A withdrawn link asks for nothing.
    srv.post(
        &a.token,
        &format!("/api/v1/share-links/{link}/revoke"),
        json!({}),
    )
    .await;
    assert_eq!(srv.post(&a.token, &remake, json!({})).await.1["asked"], 0);
}
