//! Media: resumable uploads at `/files` (tus 1.0) becoming an organisation's files, their bytes
//! kept once across the platform and reached only through the organisation's own files.

#[path = "../common/mod.rs"]
mod common;

use base64::Engine;
use common::*;
use mstation_core::{Role, TokenScope};
use reqwest::{Method, StatusCode};

use sha1::Digest;

mod share;

/// `len` bytes no two uploads of a test share by accident.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A tus request of `srv` with the caller's token and the protocol's version.
fn tus(srv: &Srv, token: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    srv.http
        .request(method, format!("{}{path}", srv.base))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Starts an upload of `length` bytes named `name`; answers its address.
async fn create(srv: &Srv, token: &str, length: usize, name: &str) -> String {
    let r = tus(srv, token, Method::POST, "/files")
        .header("Upload-Length", length.to_string())
        .header(
            "Upload-Metadata",
            format!("filename {},filetype {}", b64(name), b64("video/quicktime")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(header(&r, "tus-resumable"), "1.0.0");
    assert!(header(&r, "upload-expires").ends_with(" GMT"));
    let location = header(&r, "location");
    assert!(location.starts_with("/files/"), "{location}");
    location
}

async fn patch(
    srv: &Srv,
    token: &str,
    at: &str,
    offset: usize,
    body: Vec<u8>,
) -> reqwest::Response {
    tus(srv, token, Method::PATCH, at)
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The bytes of a file, downloaded back.
async fn downloaded(srv: &Srv, token: &str, file_id: &str) -> Vec<u8> {
    let r = srv
        .call(
            token,
            Method::GET,
            &format!("/api/v1/media/{file_id}/content"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

async fn offset(srv: &Srv, token: &str, at: &str) -> (StatusCode, String) {
    let r = tus(srv, token, Method::HEAD, at).send().await.unwrap();
    (r.status(), header(&r, "upload-offset"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_in_pieces_becomes_a_file_whose_bytes_are_its_hash() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let r = srv
            .http
            .request(Method::OPTIONS, format!("{}/files", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&r, "tus-version"), "1.0.0");
        for ext in [
            "creation",
            "creation-with-upload",
            "termination",
            "checksum",
            "expiration",
        ] {
            assert!(
                header(&r, "tus-extension").split(',').any(|e| e == ext),
                "{ext}"
            );
        }
        assert!(header(&r, "tus-checksum-algorithm").contains("sha1"));

        let content = bytes(300_000, 7);
        let at = create(&srv, &a.token, content.len(), "镜头 010.mov").await;
        assert_eq!(
            offset(&srv, &a.token, &at).await,
            (StatusCode::OK, "0".into())
        );
        let r = patch(&srv, &a.token, &at, 0, content[..100_000].to_vec()).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&r, "upload-offset"), "100000");
        assert_eq!(offset(&srv, &a.token, &at).await.1, "100000");
        // Not where the upload stands: 409, nothing kept.
        let r = patch(&srv, &a.token, &at, 50_000, content[50_000..].to_vec()).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let (_, problem) = json(r).await;
        assert_eq!(problem["code"], "media.offset_mismatch");
        // A checksum that does not match keeps none of the bytes: 460.
        let r = tus(&srv, &a.token, Method::PATCH, &at)
            .header("Upload-Offset", "100000")
            .header("Content-Type", "application/offset+octet-stream")
            .header(
                "Upload-Checksum",
                format!(
                    "sha1 {}",
                    base64::engine::general_purpose::STANDARD.encode([0u8; 20])
                ),
            )
            .body(content[100_000..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 460);
        assert_eq!(offset(&srv, &a.token, &at).await.1, "100000");
        // The rest, with its checksum.
        let sum = sha1::Sha1::digest(&content[100_000..]);
        let r = tus(&srv, &a.token, Method::PATCH, &at)
            .header("Upload-Offset", "100000")
            .header("Content-Type", "application/offset+octet-stream")
            .header(
                "Upload-Checksum",
                format!(
                    "sha1 {}",
                    base64::engine::general_purpose::STANDARD.encode(sum)
                ),
            )
            .body(content[100_000..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "{}",
            r.text().await.unwrap()
        );
        assert_eq!(offset(&srv, &a.token, &at).await.1, "300000");

        let (s, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(s, 200, "{files}");
        assert_eq!(files["total"], 1);
        let file = &files["items"][0];
        assert_eq!(file["name"], "镜头 010.mov");
        assert_eq!(file["size"], 300_000);
        assert_eq!(file["content_type"], "video/quicktime");
        assert_eq!(file["hash"], blake3::hash(&content).to_hex().as_str());
        let r = srv
            .call(
                &a.token,
                Method::GET,
                &format!("/api/v1/media/{}/content", id(file)),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, "content-disposition").contains("filename*=UTF-8''%E9%95%9C"));
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            content,
            "the bytes as sent"
        );

        // Every state of the upload is announced.
        let events = srv
            .store()
            .platform()
            .events_after(0, 10_000)
            .await
            .unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        for k in ["upload.created", "upload.completed", "media.added"] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        // A finished upload takes no more bytes.
        let r = patch(&srv, &a.token, &at, 300_000, Vec::new()).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_upload_headers_are_refused_in_words() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    // No protocol version: 412 with the versions spoken.
    let r = srv
        .http
        .post(format!("{}/files", srv.base))
        .bearer_auth(&a.token)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(header(&r, "tus-version"), "1.0.0");
    for (length, meta) in [
        ("-1", String::new()),
        ("2026-13-45", String::new()),
        ("99999999999999999999", String::new()),
        ("10", "filename !!!notbase64".to_string()),
        ("10", format!("filename {}", b64("../../etc/passwd"))),
        ("10", format!("filename {}", b64("..\\..\\boot.ini"))),
        ("10", format!("filename {},filename {}", b64("a"), b64("b"))),
        ("10", format!("project {}", b64("not-an-id"))),
    ] {
        let mut r = tus(&srv, &a.token, Method::POST, "/files").header("Upload-Length", length);
        if !meta.is_empty() {
            r = r.header("Upload-Metadata", meta.clone());
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let (_, problem) = json(r).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{length} {meta}: {problem}"
        );
        assert_eq!(problem["code"], "media.bad_upload_header", "{problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let at = create(&srv, &a.token, 10, "a.mov").await;
    for (offset, kind) in [
        ("abc", "application/offset+octet-stream"),
        ("0", "text/plain"),
    ] {
        let r = tus(&srv, &a.token, Method::PATCH, &at)
            .header("Upload-Offset", offset)
            .header("Content-Type", kind)
            .body("0123")
            .send()
            .await
            .unwrap();
        assert!([400, 415].contains(&r.status().as_u16()), "{offset} {kind}");
    }
    // Past the announced length: 413, nothing kept.
    let r = patch(&srv, &a.token, &at, 0, vec![1; 11]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(offset(&srv, &a.token, &at).await.1, "0");
    // An upload that is not there, or not an upload id.
    let r = tus(
        &srv,
        &a.token,
        Method::HEAD,
        "/files/018f0000-0000-7000-8000-000000000000",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = patch(&srv, &a.token, "/files/nope", 0, vec![1]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_files_stay_inside_their_organisation_and_their_roles() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let content = bytes(5_000, 1);
        let at = create(&srv, &a.token, content.len(), "plate.exr").await;
        // Another organisation knows nothing of A's upload.
        assert_eq!(offset(&srv, &b.token, &at).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            patch(&srv, &b.token, &at, 0, content.clone())
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let r = tus(&srv, &b.token, Method::DELETE, &at)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // Nor does another member of A: an upload is its sender's.
        let (_, artist) = srv
            .member(
                &a,
                "artist@alpha.example",
                Role::Artist,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        assert_eq!(offset(&srv, &artist, &at).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            patch(&srv, &a.token, &at, 0, content.clone())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        let file = id(&files["items"][0]);
        for path in [
            format!("/api/v1/media/{file}"),
            format!("/api/v1/media/{file}/content"),
        ] {
            let (s, _) = srv.get(&b.token, &path).await;
            assert_eq!(s, 404, "{path}");
        }
        let (_, theirs) = srv.get(&b.token, "/api/v1/media").await;
        assert_eq!(theirs["total"], 0);
        // B sends the same bytes: B's own file, the blob kept once.
        let at_b = create(&srv, &b.token, content.len(), "same.exr").await;
        assert_eq!(
            patch(&srv, &b.token, &at_b, 0, content.clone())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let (_, theirs) = srv.get(&b.token, "/api/v1/media").await;
        assert_eq!(theirs["total"], 1);
        assert_eq!(theirs["items"][0]["hash"], files["items"][0]["hash"]);
        assert_ne!(id(&theirs["items"][0]), file);
        // A read-only token sends nothing; a client reads but uploads nothing.
        let (_, reader) = srv
            .member(
                &a,
                "reader@alpha.example",
                Role::Artist,
                &[TokenScope::Read],
            )
            .await;
        let r = tus(&srv, &reader, Method::POST, "/files")
            .header("Upload-Length", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let (_, client) = srv
            .member(
                &a,
                "client@alpha.example",
                Role::Client,
                &[TokenScope::Read, TokenScope::Write],
            )
            .await;
        let r = tus(&srv, &client, Method::POST, "/files")
            .header("Upload-Length", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Without a token at all.
        let r = srv
            .http
            .post(format!("{}/files", srv.base))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_serve_one_upload_and_one_writer_holds_it_at_a_time() {
    on_every_backend(|srv| async move {
        let other = start_beside(&srv, 0).await;
        let a = srv.tenant("Alpha", "alpha").await;
        let content = bytes(200_000, 3);
        let at = create(&srv, &a.token, content.len(), "take 3.mov").await;
        assert_eq!(
            patch(&srv, &a.token, &at, 0, content[..80_000].to_vec())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        // The client switches servers mid-upload.
        assert_eq!(offset(&other, &a.token, &at).await.1, "80000");
        let upload: uuid::Uuid = at.trim_start_matches("/files/").parse().unwrap();
        // While another request holds it, a second writer is turned away: 423.
        let scope = mstation_core::TenantScope {
            org_id: a.org.id,
            user_id: a.owner.id,
            role: Role::Owner,
            token_scopes: None,
            token_id: None,
        };
        srv.store()
            .tenant(&scope)
            .hold_upload(upload, 80_000, "another request")
            .await
            .unwrap();
        let r = patch(&other, &a.token, &at, 80_000, content[80_000..].to_vec()).await;
        assert_eq!(r.status(), StatusCode::LOCKED);
        let r = tus(&other, &a.token, Method::DELETE, &at)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::LOCKED);
        srv.store()
            .tenant(&scope)
            .upload_progress(upload, "another request", 80_000, true)
            .await
            .unwrap();
        let r = patch(&other, &a.token, &at, 80_000, content[80_000..].to_vec()).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(
            files["items"][0]["hash"],
            blake3::hash(&content).to_hex().as_str()
        );
        assert_eq!(
            downloaded(&srv, &a.token, &id(&files["items"][0])).await,
            content
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_from_what_was_kept() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let content = bytes(400_000, 9);
    let at = create(&srv, &a.token, content.len(), "card.mxf").await;
    // The connection breaks after 150,000 bytes.
    use futures_util::StreamExt;
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(content[..150_000].to_vec())])
        .chain(futures_util::stream::once(async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            Err(std::io::Error::other("the network went away"))
        }));
    let r = tus(&srv, &a.token, Method::PATCH, &at)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(reqwest::Body::wrap_stream(first))
        .send()
        .await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    // The server keeps what arrived; the client sends only the rest.
    let mut kept = String::new();
    for _ in 0..100 {
        let (s, o) = offset(&srv, &a.token, &at).await;
        assert_eq!(s, StatusCode::OK);
        kept = o;
        let r = patch(
            &srv,
            &a.token,
            &at,
            kept.parse().unwrap(),
            content[kept.parse::<usize>().unwrap()..].to_vec(),
        )
        .await;
        // The broken request may still hold the upload (423), or have just recorded what it
        // kept since the HEAD (409): ask again.
        if ![StatusCode::LOCKED, StatusCode::CONFLICT].contains(&r.status()) {
            assert_eq!(r.status(), StatusCode::NO_CONTENT, "resumed from {kept}");
            break;
        }
        // The broken request has not let go yet.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let kept: usize = kept.parse().unwrap();
    assert_eq!(kept, 150_000, "every byte that arrived was kept");
    let (_, files) = srv.get(&a.token, "/api/v1/media").await;
    assert_eq!(
        files["items"][0]["hash"],
        blake3::hash(&content).to_hex().as_str()
    );

    // Termination lets an unfinished upload go.
    let at = create(&srv, &a.token, 10, "gone.mov").await;
    assert_eq!(
        patch(&srv, &a.token, &at, 0, vec![1; 4]).await.status(),
        StatusCode::NO_CONTENT
    );
    let r = tus(&srv, &a.token, Method::DELETE, &at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset(&srv, &a.token, &at).await.0, StatusCode::NOT_FOUND);
    let upload: uuid::Uuid = at.trim_start_matches("/files/").parse().unwrap();
    assert!(
        !srv.state.blobs.staging_file(upload).exists(),
        "its bytes are gone"
    );

    // Creation with upload: the first bytes ride on the POST.
    let r = tus(&srv, &a.token, Method::POST, "/files")
        .header("Upload-Length", "6")
        .header("Content-Type", "application/offset+octet-stream")
        .body("abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "upload-offset"), "6");
    let (_, files) = srv.get(&a.token, "/api/v1/media").await;
    assert_eq!(files["total"], 2);
    assert_eq!(files["items"][0]["name"], "untitled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_not_finished_in_time_expires() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let at = create(&srv, &a.token, 10, "late.mov").await;
    assert_eq!(
        patch(&srv, &a.token, &at, 0, vec![1; 4]).await.status(),
        StatusCode::NO_CONTENT
    );
    let upload: uuid::Uuid = at.trim_start_matches("/files/").parse().unwrap();
    // Its time runs out.
    let db =
        sqlx::SqlitePool::connect(&format!("sqlite:{}", srv.url.trim_start_matches("sqlite:")))
            .await
            .unwrap();
    sqlx::query("UPDATE uploads SET expires_at = 0 WHERE id = ?")
        .bind(upload)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(offset(&srv, &a.token, &at).await.0, StatusCode::GONE);
    assert_eq!(
        patch(&srv, &a.token, &at, 4, vec![1; 6]).await.status(),
        StatusCode::GONE
    );
    // The reaper lets it go and says so.
    let mut gone = false;
    for _ in 0..100 {
        if offset(&srv, &a.token, &at).await.0 == StatusCode::NOT_FOUND {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the expired upload was let go");
    assert!(!srv.state.blobs.staging_file(upload).exists());
    let events = srv
        .store()
        .platform()
        .events_after(0, 10_000)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "upload.expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_sent_in_parallel_join_into_one_file() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let content = bytes(250_000, 5);
        let (first, second) = content.split_at(120_000);
        let partial = |token: String, length: usize| {
            let srv = srv.clone();
            async move {
                let r = tus(&srv, &token, Method::POST, "/files")
                    .header("Upload-Length", length.to_string())
                    .header("Upload-Concat", "partial")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                header(&r, "location")
            }
        };
        let (p1, p2) = tokio::join!(
            partial(a.token.clone(), first.len()),
            partial(a.token.clone(), second.len())
        );
        let (r1, r2) = tokio::join!(
            patch(&srv, &a.token, &p1, 0, first.to_vec()),
            patch(&srv, &a.token, &p2, 0, second.to_vec())
        );
        assert_eq!(
            (r1.status(), r2.status()),
            (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT)
        );
        let r = tus(&srv, &a.token, Method::HEAD, &p1).send().await.unwrap();
        assert_eq!(header(&r, "upload-concat"), "partial");
        // A finished part is not a file by itself.
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(files["total"], 0);
        // Another organisation cannot join A's parts; nor can anyone join an unfinished one.
        let final_of = |token: &str, parts: String| {
            tus(&srv, token, Method::POST, "/files")
                .header("Upload-Concat", format!("final;{parts}"))
                .header("Upload-Metadata", format!("filename {}", b64("joined.mov")))
                .send()
        };
        let r = final_of(&b.token, format!("{p1} {p2}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let open = partial(a.token.clone(), 10).await;
        let r = final_of(&a.token, format!("{p1} {open}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let (_, problem) = json(r).await;
        assert_eq!(problem["code"], "media.parts_unfinished");
        // Joined in order, with full URLs as some clients send them.
        let r = final_of(&a.token, format!("{}{p1} {}{p2}", srv.base, srv.base))
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        let joined = header(&r, "location");
        assert_eq!(header(&r, "upload-offset"), "250000");
        let r = tus(&srv, &a.token, Method::HEAD, &joined)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "upload-concat"), format!("final;{p1} {p2}"));
        assert_eq!(header(&r, "upload-offset"), "250000");
        let r = patch(&srv, &a.token, &joined, 250_000, Vec::new()).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "a final upload takes no bytes"
        );
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(files["total"], 1);
        assert_eq!(files["items"][0]["name"], "joined.mov");
        assert_eq!(
            files["items"][0]["hash"],
            blake3::hash(&content).to_hex().as_str()
        );
        // The parts are let go.
        assert_eq!(offset(&srv, &a.token, &p1).await.0, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_keeps_media_within_its_quota_and_unused_blobs_are_collected() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, usage) = srv.get(&a.token, "/api/v1/media/usage").await;
        assert_eq!(usage, serde_json::json!({"used": 0, "quota": null}));
        srv.store()
            .platform()
            .set_media_quota(&mstation_store::Actor::system(), a.org.id, Some(1_000))
            .await
            .unwrap();
        let content = bytes(600, 2);
        let at = create(&srv, &a.token, content.len(), "fits.mov").await;
        // An unfinished upload counts from its start: a second one would not fit.
        let r = tus(&srv, &a.token, Method::POST, "/files")
            .header("Upload-Length", "600")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let (_, problem) = json(r).await;
        assert_eq!(problem["code"], "media.quota_exceeded");
        assert_eq!(
            patch(&srv, &a.token, &at, 0, content.clone())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let (_, usage) = srv.get(&a.token, "/api/v1/media/usage").await;
        assert_eq!(usage, serde_json::json!({"used": 600, "quota": 1000}));
        let small = create(&srv, &a.token, 400, "just.mov").await;
        let r = tus(&srv, &a.token, Method::DELETE, &small)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "an ended upload gives its room back"
        );
        create(&srv, &a.token, 400, "again.mov").await;

        // A blob no file references (an upload that stopped after storing its bytes) is
        // collected; a referenced one stays.
        let orphan = blake3::hash(b"orphan").to_hex().to_string();
        let crumb = srv.state.blobs.staging_file(uuid::Uuid::now_v7());
        std::fs::write(&crumb, b"orphan").unwrap();
        srv.state.blobs.put_file(&orphan, &crumb, 6).await.unwrap();
        srv.store().platform().add_blob(&orphan, 6).await.unwrap();
        let later = mstation_store::now_ms() + 1_000;
        mstation_server::workers::collect_blobs(&srv.state, later).await;
        assert!(!srv.store().platform().blob_known(&orphan).await.unwrap());
        assert!(
            srv.state.blobs.get(&orphan).await.is_err(),
            "its bytes are gone"
        );
        let kept = blake3::hash(&content).to_hex().to_string();
        assert!(srv.store().platform().blob_known(&kept).await.unwrap());
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(
            downloaded(&srv, &a.token, &id(&files["items"][0])).await,
            content
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_is_read_by_ffprobe_on_the_job_queue() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let dir =
            std::env::temp_dir().join(format!("mstation-probe-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let take = ffmpeg_clip(
            "320x180",
            "24000/1001",
            "2",
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=1000:sample_rate=48000",
                "-timecode",
                "01:02:03:04",
                "-c:a",
                "pcm_s16le",
                "-ac",
                "2",
            ],
        );
        for (name, body) in [("take.mov", take.clone()), ("junk.mov", bytes(20_000, 4))] {
            let at = create(&srv, &a.token, body.len(), name).await;
            assert_eq!(
                patch(&srv, &a.token, &at, 0, body).await.status(),
                StatusCode::NO_CONTENT
            );
        }
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        let file_of = |name: &str| {
            id(files["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap())
        };
        let (take_id, junk_id) = (file_of("take.mov"), file_of("junk.mov"));
        let mut read = (serde_json::Value::Null, serde_json::Value::Null);
        for _ in 0..200 {
            let (_, t) = srv.get(&a.token, &format!("/api/v1/media/{take_id}")).await;
            let (_, j) = srv.get(&a.token, &format!("/api/v1/media/{junk_id}")).await;
            if !t["probe"].is_null() && !j["probe_error"].is_null() {
                read = (t, j);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (t, j) = read;
        let p = &t["probe"];
        assert_eq!(p["video"]["codec"], "h264", "{t}");
        assert_eq!(
            (p["video"]["width"].as_i64(), p["video"]["height"].as_i64()),
            (Some(320), Some(180))
        );
        assert_eq!(p["video"]["fps"], serde_json::json!([24000, 1001]));
        assert_eq!(p["timecode"], "01:02:03:04");
        assert_eq!(p["audio"][0]["codec"], "pcm_s16le");
        assert_eq!(p["audio"][0]["channels"], 2);
        assert!(p["duration"].as_f64().unwrap() > 1.9);
        assert!(j["probe"].is_null());
        assert!(
            j["probe_error"].as_str().unwrap().contains("Invalid data"),
            "ffprobe's reason: {j}"
        );
        // The corrupt file's job failed for good, with the reason; nothing else failed.
        let (_, failed) = srv.get(&a.token, "/api/v1/jobs?status=failed").await;
        assert_eq!(failed["total"], 1, "{failed}");
        assert!(
            failed["items"][0]["last_error"]
                .as_str()
                .unwrap_or("")
                .contains("Invalid data"),
            "{failed}"
        );
        let events = srv
            .store()
            .platform()
            .events_after(0, 10_000)
            .await
            .unwrap();
        assert!(events.iter().any(|e| e.kind == "media.probed"));
        assert!(events.iter().any(|e| e.kind == "media.probe_failed"));
        // Each probe job's states were announced, naming its file: the junk's ended failed,
        // with ffprobe's reason.
        let states = |file: &str| -> Vec<(String, serde_json::Value)> {
            events
                .iter()
                .filter(|e| e.kind.starts_with("job."))
                .map(|e| {
                    let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
                    (e.kind.clone(), p["entity"].clone())
                })
                .filter(|(_, j)| j["media_file_id"] == file && j["kind"] == "media.probe")
                .collect()
        };
        let kinds = |file: &str| -> Vec<String> { states(file).into_iter().map(|s| s.0).collect() };
        assert_eq!(
            kinds(&take_id),
            ["job.queued", "job.started", "job.succeeded"]
        );
        assert_eq!(kinds(&junk_id), ["job.queued", "job.started", "job.failed"]);
        assert!(
            states(&junk_id)[2].1["error"]
                .as_str()
                .unwrap()
                .contains("Invalid data")
        );

        // The take gets a browser proxy and a poster; the junk gets none.
        let mut made = serde_json::Value::Null;
        for _ in 0..300 {
            let (_, t) = srv.get(&a.token, &format!("/api/v1/media/{take_id}")).await;
            if !t["poster_hash"].is_null() {
                made = t;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(!made["proxy_hash"].is_null(), "the proxy was made: {made}");
        let r = srv
            .call(
                &a.token,
                Method::GET,
                &format!("/api/v1/media/{take_id}/proxy"),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "video/mp4");
        assert_eq!(header(&r, "accept-ranges"), "bytes");
        let proxy = r.bytes().await.unwrap().to_vec();
        let at = |tag: &[u8]| proxy.windows(4).position(|w| w == tag).unwrap();
        assert!(
            at(b"moov") < at(b"mdat"),
            "faststart: the index before the pictures"
        );
        let path = dir.join("proxy.mp4");
        std::fs::write(&path, &proxy).unwrap();
        let probe = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let p =
            mstation_core::media::probe::parse(&String::from_utf8_lossy(&probe.stdout)).unwrap();
        let v = p.video.unwrap();
        assert_eq!((v.codec.as_str(), v.width, v.height), ("h264", 320, 180));
        assert_eq!(
            p.timecode.as_deref(),
            Some("01:02:03:04"),
            "the source timecode is kept"
        );
        assert_eq!(p.audio[0].codec, "aac");
        // A scrub sprite of 10 by 10 frames 160 wide, and the sound's waveform.
        for (what, kind, magic, size) in [
            ("sprite", "image/jpeg", &b"\xff\xd8\xff"[..], (1600, 900)),
            ("waveform", "image/png", &b"\x89PNG"[..], (1600, 120)),
        ] {
            let r = srv
                .call(
                    &a.token,
                    Method::GET,
                    &format!("/api/v1/media/{take_id}/{what}"),
                    None,
                )
                .await;
            assert_eq!(
                (r.status(), header(&r, "content-type")),
                (StatusCode::OK, kind.to_string()),
                "{what}"
            );
            let image = r.bytes().await.unwrap().to_vec();
            assert!(image.starts_with(magic), "{what} is a {kind}");
            let path = dir.join(what);
            std::fs::write(&path, &image).unwrap();
            let dims = std::process::Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=width,height",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&dims.stdout).trim(),
                format!("{},{}", size.0, size.1),
                "{what}"
            );
        }
        // Seekable: a range of it.
        let r = srv
            .http
            .get(format!("{}/api/v1/media/{take_id}/proxy", srv.base))
            .bearer_auth(&a.token)
            .header("Range", "bytes=0-99")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&r, "content-range"),
            format!("bytes 0-99/{}", proxy.len())
        );
        assert_eq!(r.bytes().await.unwrap().to_vec(), proxy[..100]);
        let r = srv
            .call(
                &a.token,
                Method::GET,
                &format!("/api/v1/media/{take_id}/poster"),
                None,
            )
            .await;
        assert_eq!(header(&r, "content-type"), "image/jpeg");
        assert_eq!(r.bytes().await.unwrap()[..2], [0xFF, 0xD8], "a JPEG");
        let (s, _) = srv
            .get(&a.token, &format!("/api/v1/media/{junk_id}/proxy"))
            .await;
        assert_eq!(s, 404, "no proxy of what could not be read");
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_file_was_not_made_is_made_when_asked_where_it_stands() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let at = create(&srv, &a.token, 6, "lost.mov").await;
    let upload: uuid::Uuid = at.trim_start_matches("/files/").parse().unwrap();
    // Every byte arrived, then making the file failed (as a full disk would make it).
    std::fs::write(srv.state.blobs.staging_file(upload), b"sunset").unwrap();
    let scope = mstation_core::TenantScope {
        org_id: a.org.id,
        user_id: a.owner.id,
        role: Role::Owner,
        token_scopes: None,
        token_id: None,
    };
    let tenant = srv.store().tenant(&scope);
    tenant
        .hold_upload(upload, 0, "a request that failed")
        .await
        .unwrap();
    tenant
        .upload_progress(upload, "a request that failed", 6, true)
        .await
        .unwrap();
    let (_, files) = srv.get(&a.token, "/api/v1/media").await;
    assert_eq!(files["total"], 0);
    // A client asking where it stands sees the whole offset, and finds its file.
    assert_eq!(
        offset(&srv, &a.token, &at).await,
        (StatusCode::OK, "6".into())
    );
    let (_, files) = srv.get(&a.token, "/api/v1/media").await;
    assert_eq!(files["total"], 1);
    assert_eq!(
        files["items"][0]["hash"],
        blake3::hash(b"sunset").to_hex().as_str()
    );
}

/// Sends `content` as the file at `path` on the card of `ingest`; answers its upload's id.
async fn send_card_file(
    srv: &Srv,
    token: &str,
    ingest: &str,
    path: &str,
    content: &[u8],
) -> String {
    let name = path.rsplit('/').next().unwrap();
    let r = tus(srv, token, Method::POST, "/files")
        .header("Upload-Length", content.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {},path {},ingest {}",
                b64(name),
                b64(path),
                b64(ingest)
            ),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .body(content.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    header(&r, "location")
        .trim_start_matches("/files/")
        .to_string()
}

/// An ASC MHL generation recording `files` (path, bytes).
fn generation_of(files: &[(&str, &[u8])]) -> String {
    use mstation_core::media::mhl;
    let g = mhl::Generation {
        created: "2026-12-06T10:00:00+00:00".into(),
        hostname: "dit-cart".into(),
        tool: "mstation".into(),
        tool_version: "test".into(),
        root: None,
        files: files
            .iter()
            .map(|(p, b)| mhl::FileHash {
                path: p.to_string(),
                size: b.len() as u64,
                modified: "2026-12-06T09:00:00+00:00".into(),
                hashes: [("xxh64".to_string(), mhl::xxh64_hex(b))].into(),
                action: "original".into(),
            })
            .collect(),
        ignore: vec![],
        dirs: vec![],
        references: vec![],
        warnings: vec![],
    };
    mhl::write_generation(&g, "2026-12-06T10:00:00.000000+00:00")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_filed_all_at_once_when_every_file_arrived_as_read() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", serde_json::json!({"name": "Feature", "code": "FEAT", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let project = id(&p);
        let (s, ingest) = srv
            .post(&a.token, &format!("/api/v1/projects/{project}/ingests"), serde_json::json!({"source": "A001_R1XZ", "files": 2, "bytes": 3000}))
            .await;
        assert_eq!(s, 201, "{ingest}");
        assert_eq!(ingest["state"], "open");
        let ingest = id(&ingest);
        let (one, two) = (bytes(1000, 3), bytes(2000, 4));
        let u1 = send_card_file(&srv, &a.token, &ingest, "A001/CLIP/A001C001.mov", &one).await;
        // The second file has not arrived whole yet.
        let r = tus(&srv, &a.token, Method::POST, "/files")
            .header("Upload-Length", "2000")
            .header("Upload-Metadata", format!("filename {},path {},ingest {}", b64("A001C002.mov"), b64("A001/CLIP/A001C002.mov"), b64(&ingest)))
            .send()
            .await
            .unwrap();
        let at2 = header(&r, "location");
        let u2 = at2.trim_start_matches("/files/").to_string();
        assert_eq!(patch(&srv, &a.token, &at2, 0, two[..500].to_vec()).await.status(), StatusCode::NO_CONTENT);

        // Nothing is a file of the project before the ingest is filed.
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(files["items"].as_array().unwrap().len(), 0);
        let (_, view) = srv.get(&a.token, &format!("/api/v1/ingests/{ingest}")).await;
        let uploads = view["uploads"].as_array().unwrap();
        assert_eq!(uploads.len(), 2);
        let hash1 = blake3::hash(&one).to_hex().to_string();
        assert_eq!(uploads[0]["blake3"], hash1.as_str());
        assert_eq!(uploads[1]["received"], 500);
        // A complete file of an ingest takes no more bytes.
        let r = patch(&srv, &a.token, &format!("/files/{u1}"), 1000, vec![]).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        // A file of an ingest waiting to be filed is never collected.
        let later = mstation_store::now_ms() + 2 * mstation_store::media::BLOB_GRACE_MS;
        mstation_server::workers::collect_blobs(&srv.state, later).await;
        assert!(srv.store().platform().blob_known(&hash1).await.unwrap());

        let generation = generation_of(&[("A001/CLIP/A001C001.mov", &one), ("A001/CLIP/A001C002.mov", &two)]);
        let hash2 = blake3::hash(&two).to_hex().to_string();
        let finish = |files: serde_json::Value| {
            let (srv, token, ingest, generation) = (&srv, &a.token, &ingest, &generation);
            async move {
                srv.post(token, &format!("/api/v1/ingests/{ingest}/finish"), serde_json::json!({"generation": generation, "files": files}))
                    .await
            }
        };
        let both = serde_json::json!([
            {"upload_id": u1, "path": "A001/CLIP/A001C001.mov", "blake3": hash1},
            {"upload_id": u2, "path": "A001/CLIP/A001C002.mov", "blake3": hash2},
        ]);
        let (s, problem) = finish(both.clone()).await;
        assert_eq!((s, problem["code"].as_str()), (409, Some("media.ingest_unfinished")), "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("A001/CLIP/A001C002.mov"), "{problem}");
        assert_eq!(patch(&srv, &a.token, &at2, 500, two[500..].to_vec()).await.status(), StatusCode::NO_CONTENT);
        // What arrived must be what the card's reader hashed.
        let wrong = serde_json::json!([
            {"upload_id": u1, "path": "A001/CLIP/A001C001.mov", "blake3": hash2},
            {"upload_id": u2, "path": "A001/CLIP/A001C002.mov", "blake3": hash2},
        ]);
        let (s, problem) = finish(wrong).await;
        assert_eq!(s, 409, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("is not what was read"), "{problem}");
        // A file the generation does not record, a bad hash and a bad generation are refused.
        let (s, problem) = finish(serde_json::json!([{"upload_id": u1, "path": "A001/other.mov", "blake3": hash1}])).await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("not_in_the_generation")), "{problem}");
        let (s, problem) = finish(serde_json::json!([{"upload_id": u1, "path": "A001/CLIP/A001C001.mov", "blake3": "abc"}])).await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("not_a_blake3_hash")), "{problem}");
        let (s, problem) = srv
            .post(&a.token, &format!("/api/v1/ingests/{ingest}/finish"), serde_json::json!({"generation": "<hashlist", "files": []}))
            .await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("not_an_mhl_generation")), "{problem}");

        let (s, done) = finish(both.clone()).await;
        assert_eq!(s, 200, "{done}");
        assert_eq!((done["state"].as_str(), done["files"].as_i64(), done["bytes"].as_i64()), (Some("done"), Some(2), Some(3000)));
        let (_, files) = srv.get(&a.token, &format!("/api/v1/media?project={project}")).await;
        let items = files["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let mut paths: Vec<&str> = items.iter().map(|f| f["path"].as_str().unwrap()).collect();
        paths.sort();
        assert_eq!(paths, ["A001/CLIP/A001C001.mov", "A001/CLIP/A001C002.mov"]);
        assert!(items.iter().all(|f| f["ingest_id"] == ingest.as_str()));
        let second = items.iter().find(|f| f["name"] == "A001C002.mov").unwrap();
        assert_eq!(downloaded(&srv, &a.token, &id(second)).await, two);
        let r = srv.http.get(format!("{}/api/v1/ingests/{ingest}/generation", srv.base)).bearer_auth(&a.token).send().await.unwrap();
        // A download of the history as written, never a page a browser would run.
        assert_eq!(header(&r, "content-type"), "text/plain; charset=utf-8");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert!(header(&r, "content-disposition").starts_with("attachment"));
        assert_eq!(r.text().await.unwrap(), generation, "the card's history is kept as written");
        // Ended: no more files, no second end.
        let (s, problem) = finish(both.clone()).await;
        assert_eq!((s, problem["code"].as_str()), (409, Some("media.ingest_closed")));
        let r = tus(&srv, &a.token, Method::POST, "/files")
            .header("Upload-Length", "1")
            .header("Upload-Metadata", format!("path {},ingest {}", b64("late.mov"), b64(&ingest)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);

        // The same card again: nothing is filed twice.
        let (_, again) = srv
            .post(&a.token, &format!("/api/v1/projects/{project}/ingests"), serde_json::json!({"source": "A001_R1XZ", "files": 1, "bytes": 1000}))
            .await;
        let again = id(&again);
        let u = send_card_file(&srv, &a.token, &again, "A001/CLIP/A001C001.mov", &one).await;
        let read_one = serde_json::json!([{"upload_id": u, "path": "A001/CLIP/A001C001.mov", "blake3": hash1}]);
        // Every file the generation records is filed, or none.
        let (s, problem) = srv
            .post(&a.token, &format!("/api/v1/ingests/{again}/finish"), serde_json::json!({"generation": generation, "files": read_one}))
            .await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("a_file_of_the_generation_is_missing")), "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("A001/CLIP/A001C002.mov"), "{problem}");
        // A nested history's generation counts only when the generation around it refers to it.
        let inner = generation_of(&[("CLIP/A001C001.mov", &one)]);
        let read_nested = serde_json::json!([{"upload_id": u, "path": "A001/CLIP/A001C001.mov", "blake3": hash1}]);
        let (s, problem) = srv
            .post(&a.token, &format!("/api/v1/ingests/{again}/finish"), serde_json::json!({"generation": generation_of(&[]), "files": read_nested, "nested": [{"path": "A001", "generation": inner}]}))
            .await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("not_referred_to")), "{problem}");
        for bad_path in ["../A001", "/A001", ""] {
            let (s, problem) = srv
                .post(&a.token, &format!("/api/v1/ingests/{again}/finish"), serde_json::json!({"generation": generation_of(&[]), "files": [], "nested": [{"path": bad_path, "generation": inner}]}))
                .await;
            assert_eq!((s, problem["reason"].as_str()), (422, Some("not_a_path_on_a_card")), "{problem}");
        }
        let (s, done) = srv
            .post(&a.token, &format!("/api/v1/ingests/{again}/finish"), serde_json::json!({"generation": generation_of(&[("A001/CLIP/A001C001.mov", &one)]), "files": read_one}))
            .await;
        assert_eq!((s, done["state"].as_str()), (200, Some("done")));
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(files["items"].as_array().unwrap().len(), 2);

        // A card whose files fail their check files nothing.
        let (_, bad) = srv
            .post(&a.token, &format!("/api/v1/projects/{project}/ingests"), serde_json::json!({"source": "A002", "files": 1, "bytes": 10}))
            .await;
        let bad = id(&bad);
        let ten = bytes(10, 9);
        let u = send_card_file(&srv, &a.token, &bad, "A002/C.mov", &ten).await;
        let (s, failed) = srv
            .post(&a.token, &format!("/api/v1/ingests/{bad}/finish"), serde_json::json!({"generation": generation_of(&[("A002/C.mov", &ten)]), "files": [{"upload_id": u, "path": "A002/C.mov", "blake3": blake3::hash(&ten).to_hex().to_string()}], "failed": ["A002/C.mov"]}))
            .await;
        assert_eq!((s, failed["state"].as_str()), (200, Some("failed")), "{failed}");
        assert_eq!(failed["problems"], serde_json::json!(["A002/C.mov"]));
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(files["items"].as_array().unwrap().len(), 2);

        // Bad card paths and half an ingest's metadata are refused in words.
        for meta in [
            format!("path {},ingest {}", b64("../etc/passwd"), b64(&ingest)),
            format!("path {},ingest {}", b64("/abs.mov"), b64(&ingest)),
            format!("path {}", b64("A001/x.mov")),
            format!("path {},ingest {}", b64("x.mov"), b64("not-an-id")),
            // Kept as on the card, never changed: a name with a space at its end is refused.
            format!("path {},ingest {}", b64("Day 1 /x.mov"), b64(&ingest)),
            format!("path {},ingest {}", b64("A001\\x.mov"), b64(&ingest)),
        ] {
            let r = tus(&srv, &a.token, Method::POST, "/files")
                .header("Upload-Length", "1")
                .header("Upload-Metadata", meta.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{meta}");
        }
        // Another organisation's member cannot send files into A's ingest, nor see it.
        let b = srv.tenant("Bravo", "bravo").await;
        let r = tus(&srv, &b.token, Method::POST, "/files")
            .header("Upload-Length", "1")
            .header("Upload-Metadata", format!("path {},ingest {}", b64("x.mov"), b64(&again)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (s, _) = srv.get(&b.token, &format!("/api/v1/ingests/{ingest}")).await;
        assert_eq!(s, 404);
    })
    .await;
}

/// The platform operators' organisation with an operator and a token that may manage it: what
/// a remote agent runs with.
async fn operator_token(srv: &Srv) -> String {
    let op = srv
        .store()
        .platform()
        .create_user(
            &mstation_store::Actor::system(),
            mstation_store::identity::NewUser {
                email: "ops@m-station.example".into(),
                display_name: "Render farm".into(),
                password: "correct horse battery".into(),
                locale: None,
                is_operator: true,
            },
        )
        .await
        .unwrap();
    let org = srv
        .store()
        .platform()
        .create_org(
            &mstation_store::Actor::system(),
            mstation_store::identity::NewOrg {
                name: "Operations".into(),
                slug: Some("operations".into()),
                kind: mstation_core::OrgKind::PlatformOperator,
                timezone: None,
            },
            op.id,
        )
        .await
        .unwrap();
    srv.store()
        .platform()
        .create_token_for(
            &mstation_store::Actor::system(),
            org.id,
            op.id,
            "agent",
            &[TokenScope::Read, TokenScope::Write, TokenScope::Admin],
            None,
        )
        .await
        .unwrap()
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_run_media_jobs_over_http_and_a_lapsed_lease_records_nothing() {
    for b in backends() {
        // No workers of its own: only agents take the jobs.
        let srv = start_with_workers(b, 0).await;
        let a = srv.tenant("Alpha", "alpha").await;
        let ops = operator_token(&srv).await;
        let clip = ffmpeg_clip("64x36", "24", "0.5", &[]);
        let r = tus(&srv, &a.token, Method::POST, "/files")
            .header("Upload-Length", clip.len().to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(clip.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let claim = |token: &str, body: serde_json::Value| {
            let (srv, token) = (&srv, token.to_string());
            async move { srv.post(&token, "/api/v1/agent/claim", body).await }
        };

        // Only the platform's operators run its jobs; and only media jobs.
        let (s, problem) = claim(&a.token, serde_json::json!({"worker": "w1"})).await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (403, Some("auth.forbidden")),
            "{problem}"
        );
        let (s, problem) = claim(
            &ops,
            serde_json::json!({"worker": "w1", "kinds": ["webhook.delivery"]}),
        )
        .await;
        assert_eq!(
            (s, problem["reason"].as_str()),
            (422, Some("not_a_job_kind_for_agents"))
        );
        let (s, problem) = claim(&ops, serde_json::json!({"worker": "w 1"})).await;
        assert_eq!(
            (s, problem["reason"].as_str()),
            (422, Some("not_a_worker_name"))
        );
        let (s, problem) = claim(&ops, serde_json::json!({"worker": "w1", "lease_ms": 10})).await;
        assert_eq!(
            (s, problem["reason"].as_str()),
            (422, Some("between_5000_and_600000"))
        );

        let (s, claimed) = claim(&ops, serde_json::json!({"worker": "w1", "lease_ms": 5000})).await;
        assert_eq!(s, 200, "{claimed}");
        let job = claimed["job"].clone();
        assert_eq!(job["kind"], "media.probe");
        let job_id = id(&job);
        let source = |worker: &str| {
            srv.http
                .get(format!(
                    "{}/api/v1/agent/jobs/{job_id}/source?worker={worker}",
                    srv.base
                ))
                .bearer_auth(&ops)
                .send()
        };
        assert_eq!(
            source("w2").await.unwrap().status(),
            StatusCode::CONFLICT,
            "only its holder reads a job's source"
        );
        let got = source("w1").await.unwrap().bytes().await.unwrap();
        assert!(
            got.as_ref() == clip.as_slice(),
            "the source is the file's bytes"
        );
        let (s, _) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/heartbeat"),
                serde_json::json!({"worker": "w1", "lease_ms": 5000}),
            )
            .await;
        assert_eq!(s, 204);

        // w1 stops answering: its lease lapses and the job goes to w2.
        tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
        srv.store().platform().reap_expired_leases().await.unwrap();
        let (s, again) = claim(&ops, serde_json::json!({"worker": "w2", "lease_ms": 30000})).await;
        assert_eq!(s, 200, "{again}");
        assert_eq!(
            (
                again["job"]["id"].as_str(),
                again["job"]["attempts"].as_i64()
            ),
            (Some(job_id.as_str()), Some(2))
        );
        let dir = std::env::temp_dir().join(format!(
            "mstation-agent-test-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("clip.mov"), &clip).unwrap();
        let probe = mstation_server::media_jobs::probe_file(&dir.join("clip.mov"), false)
            .await
            .unwrap()
            .unwrap();
        // The late worker's end records nothing.
        let (s, problem) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/finish"),
                serde_json::json!({"worker": "w1", "probe": probe}),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (409, Some("jobs.lease_lost")),
            "{problem}"
        );
        let (s, _) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/heartbeat"),
                serde_json::json!({"worker": "w1"}),
            )
            .await;
        assert_eq!(s, 409);
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert!(
            files["items"][0]["probe"].is_null(),
            "nothing recorded from the late worker"
        );
        // What does not fit the job is refused.
        let (s, problem) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/finish"),
                serde_json::json!({"worker": "w2", "proxy_hash": "00", "poster_hash": "00"}),
            )
            .await;
        assert_eq!(
            (s, problem["reason"].as_str()),
            (422, Some("not_what_this_job_makes"))
        );
        let cut = serde_json::json!({"frames": 48, "fps": [24, 1], "start_timecode": null, "transitions": []});
        let (s, problem) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/finish"),
                serde_json::json!({"worker": "w2", "cuts": cut}),
            )
            .await;
        assert_eq!(
            (s, problem["reason"].as_str()),
            (422, Some("not_what_this_job_makes")),
            "a probe job makes no cuts"
        );
        let (s, end) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/finish"),
                serde_json::json!({"worker": "w2", "probe": probe}),
            )
            .await;
        assert_eq!(
            (s, end["status"].as_str()),
            (200, Some("succeeded")),
            "{end}"
        );
        let (s, _) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{job_id}/finish"),
                serde_json::json!({"worker": "w2", "probe": probe}),
            )
            .await;
        assert_eq!(s, 409, "a job ends once");
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        let file = &files["items"][0];
        assert_eq!(file["probe"]["video"]["width"], 64);
        let (_, job) = srv.get(&a.token, &format!("/api/v1/jobs/{job_id}")).await;
        assert_eq!(
            (job["status"].as_str(), job["attempts"].as_i64()),
            (Some("succeeded"), Some(2))
        );

        // The proxy job it queued: outputs sent through the server, then named in the end.
        let (s, claimed) = claim(&ops, serde_json::json!({"worker": "w2"})).await;
        assert_eq!(
            (s, claimed["job"]["kind"].as_str()),
            (200, Some("media.proxy")),
            "{claimed}"
        );
        let proxy_job = id(&claimed["job"]);
        let put = |bytes: Vec<u8>, worker: &str| {
            srv.http
                .put(format!(
                    "{}/api/v1/agent/jobs/{proxy_job}/outputs?worker={worker}",
                    srv.base
                ))
                .bearer_auth(&ops)
                .body(bytes)
                .send()
        };
        assert_eq!(
            put(b"late".to_vec(), "w1").await.unwrap().status(),
            StatusCode::CONFLICT
        );
        let (proxy, poster) = (bytes(200_000, 5), bytes(3_000, 6));
        let r = put(proxy.clone(), "w2").await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let (_, kept) = json(r).await;
        assert_eq!(kept["hash"], blake3::hash(&proxy).to_hex().as_str());
        let (_, kept_poster) = json(put(poster.clone(), "w2").await.unwrap()).await;
        // Two more fit (a sprite, a waveform); a fifth is refused.
        for seed in [7, 8] {
            assert_eq!(
                put(bytes(100, seed), "w2").await.unwrap().status(),
                StatusCode::CREATED
            );
        }
        let (s, problem) = json(put(bytes(100, 9), "w2").await.unwrap()).await;
        assert_eq!(
            (s, problem["reason"].as_str()),
            (422, Some("at_most_4")),
            "{problem}"
        );
        // Only the job's holder may report it failed.
        let (s, problem) = srv
            .post(
                &ops,
                &format!("/api/v1/agent/jobs/{proxy_job}/fail"),
                serde_json::json!({"worker": "w1", "error": "late", "retry": true}),
            )
            .await;
        assert_eq!(
            (s, problem["code"].as_str()),
            (409, Some("jobs.lease_lost"))
        );
        let unknown = blake3::hash(b"never sent").to_hex().to_string();
        let (s, problem) = srv.post(&ops, &format!("/api/v1/agent/jobs/{proxy_job}/finish"), serde_json::json!({"worker": "w2", "proxy_hash": unknown, "poster_hash": kept_poster["hash"]})).await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("unknown_blob")));
        let (s, end) = srv.post(&ops, &format!("/api/v1/agent/jobs/{proxy_job}/finish"), serde_json::json!({"worker": "w2", "proxy_hash": kept["hash"], "poster_hash": kept_poster["hash"]})).await;
        assert_eq!(
            (s, end["status"].as_str()),
            (200, Some("succeeded")),
            "{end}"
        );
        let r = srv
            .http
            .get(format!("{}/api/v1/media/{}/proxy", srv.base, id(file)))
            .bearer_auth(&a.token)
            .send()
            .await
            .unwrap();
        assert!(r.bytes().await.unwrap().as_ref() == proxy.as_slice());
        // Nothing more to do.
        let (s, _) = claim(&ops, serde_json::json!({"worker": "w2"})).await;
        assert_eq!(s, 204);
        // A cut detection is handed only to an agent that names it: one from before cut
        // detection names no kinds.
        let (s, _) = srv
            .post(
                &a.token,
                &format!("/api/v1/media/{}/cuts", id(file)),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(s, 202);
        let (s, _) = claim(&ops, serde_json::json!({"worker": "w3"})).await;
        assert_eq!(s, 204, "an agent naming no kinds gets no cuts job");
        let (s, claimed) = claim(
            &ops,
            serde_json::json!({"worker": "w3", "kinds": ["media.probe", "media.proxy", "media.cuts"]}),
        )
        .await;
        assert_eq!(
            (s, claimed["job"]["kind"].as_str()),
            (200, Some("media.cuts")),
            "{claimed}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shot_finds_the_camera_file_holding_its_reel_and_source_timecode() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", serde_json::json!({"name": "Feature", "code": "FEAT", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let project = id(&p);
        let (_, seq) = srv
            .post(&a.token, &format!("/api/v1/projects/{project}/sequences"), serde_json::json!({"name": "SQ010"}))
            .await;
        let seq = id(&seq);
        // Two events: 2 s into camera reel A001C003, and a reel nobody uploaded.
        let edl = "TITLE: RELINK\n\
                   001  A001C003 V     C        01:00:02:00 01:00:03:00 01:00:00:00 01:00:01:00\n\
                   002  B001C001 V     C        02:00:00:00 02:00:01:00 01:00:01:00 01:00:02:00\n";
        let (s, v) = srv
            .post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), serde_json::json!({"format": "cmx3600", "edl": edl, "apply": true}))
            .await;
        assert_eq!(s, 200, "{v}");
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let shot_of = |reel: &str| {
            id(shots["items"].as_array().unwrap().iter().find(|s| s["reel"] == reel).unwrap())
        };
        let (covered, uncovered) = (shot_of("A001C003"), shot_of("B001C001"));

        // A file of the same reel at another frame rate cannot be placed frame for frame.
        let other_rate = ffmpeg_clip("64x36", "25", "5", &["-timecode", "01:00:00:00"]);
        let r = tus(&srv, &a.token, Method::POST, "/files")
            .header("Upload-Length", other_rate.len().to_string())
            .header("Upload-Metadata", format!("filename {},project {}", b64("A001C003_25fps.mov"), b64(&project)))
            .header("Content-Type", "application/offset+octet-stream")
            .body(other_rate)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        // The camera file: 5 s from 01:00:00:00, named as its reel.
        let clip = ffmpeg_clip("64x36", "24", "5", &["-timecode", "01:00:00:00"]);
        let r = tus(&srv, &a.token, Method::POST, "/files")
            .header("Upload-Length", clip.len().to_string())
            .header("Upload-Metadata", format!("filename {},project {}", b64("A001C003.mov"), b64(&project)))
            .header("Content-Type", "application/offset+octet-stream")
            .body(clip)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        for _ in 0..300 {
            let (s, f) = srv.get(&a.token, &format!("/api/v1/shots/{covered}/camera-files")).await;
            assert_eq!(s, 200);
            if !f["items"].as_array().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // Both probed: the 25 fps file is left out.
        for _ in 0..300 {
            let (_, f) = srv.get(&a.token, &format!("/api/v1/media?project={project}")).await;
            if f["items"].as_array().unwrap().iter().all(|f| !f["probe"].is_null()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (_, found) = srv.get(&a.token, &format!("/api/v1/shots/{covered}/camera-files")).await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
        let item = &found["items"][0];
        assert_eq!(item["file"]["name"], "A001C003.mov", "{found}");
        assert_eq!(item["fps"], serde_json::json!([24, 1]));
        assert_eq!((item["offset_frames"].as_i64(), item["offset_seconds"].as_f64()), (Some(48), Some(2.0)));
        let (_, none) = srv.get(&a.token, &format!("/api/v1/shots/{uncovered}/camera-files")).await;
        assert_eq!(none["items"], serde_json::json!([]));
        // Another organisation asks in vain.
        let b = srv.tenant("Bravo", "bravo").await;
        let (s, _) = srv.get(&b.token, &format!("/api/v1/shots/{covered}/camera-files")).await;
        assert_eq!(s, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_sent_from_a_browser_is_filed_with_the_generation_the_platform_writes() {
    on_every_backend(|srv| async move {
        use mstation_core::media::mhl;
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", serde_json::json!({"name": "Feature", "code": "FEAT", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let project = id(&p);
        let (s, ingest) = srv
            .post(&a.token, &format!("/api/v1/projects/{project}/ingests"), serde_json::json!({"source": "A001_R1XZ", "files": 2, "bytes": 30_000}))
            .await;
        assert_eq!(s, 201, "{ingest}");
        let ingest = id(&ingest);
        let (one, two) = (bytes(20_000, 3), bytes(10_000, 4));
        // One file sent whole (hashed as it arrives), one in pieces (read again at its end).
        let first = send_card_file(&srv, &a.token, &ingest, "CLIP/A001C001.mov", &one).await;
        let second = {
            let name = "A001C002.mov";
            let r = tus(&srv, &a.token, Method::POST, "/files")
                .header("Upload-Length", two.len().to_string())
                .header("Upload-Metadata", format!("filename {},path {},ingest {}", b64(name), b64("CLIP/A001C002.mov"), b64(&ingest)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            let at = header(&r, "location");
            let id = at.trim_start_matches("/files/").to_string();
            // Not sealed before every file arrived: the file is named.
            let (s, problem) = srv
                .post(&a.token, &format!("/api/v1/ingests/{ingest}/seal"), serde_json::json!({"files": [
                    {"upload_id": first, "path": "CLIP/A001C001.mov", "modified_ms": 1_765_000_000_000i64},
                    {"upload_id": id, "path": "CLIP/A001C002.mov", "modified_ms": 1_765_000_000_000i64}]}))
                .await;
            assert_eq!(s, 409, "{problem}");
            assert!(problem["detail"].as_str().unwrap().contains("CLIP/A001C002.mov"), "{problem}");
            assert_eq!(patch(&srv, &a.token, &at, 0, two[..4000].to_vec()).await.status(), StatusCode::NO_CONTENT);
            assert_eq!(patch(&srv, &a.token, &at, 4000, two[4000..].to_vec()).await.status(), StatusCode::NO_CONTENT);
            id
        };
        let (_, view) = srv.get(&a.token, &format!("/api/v1/ingests/{ingest}")).await;
        let xxh = |path: &str| {
            view["uploads"].as_array().unwrap().iter().find(|u| u["path"] == path).unwrap()["xxh64"].clone()
        };
        assert_eq!(xxh("CLIP/A001C001.mov"), mhl::xxh64_hex(&one).as_str());
        assert_eq!(xxh("CLIP/A001C002.mov"), mhl::xxh64_hex(&two).as_str());

        // Refused in words: a file histories leave out, a path not the upload's, another
        // ingest's upload, a path out of the card.
        let file = |upload: &str, path: &str| serde_json::json!({"upload_id": upload, "path": path, "modified_ms": 1_765_000_000_000i64});
        for (files, folders, field, reason) in [
            (vec![file(&first, ".DS_Store")], vec![], "files[0].path", "left_out_of_histories"),
            (vec![file(&first, "CLIP/other.mov")], vec![], "files[0].path", "not_the_uploads_path"),
            (vec![file(&uuid::Uuid::now_v7().to_string(), "CLIP/A001C001.mov")], vec![], "files[0].upload_id", "not_an_upload_of_this_ingest"),
            (vec![file(&first, "../A001C001.mov")], vec![], "files[0].path", "not_a_path_on_a_card"),
            (vec![file(&first, "CLIP/A001C001.mov")], vec!["ascmhl"], "folders[0]", "not_a_path_on_a_card"),
            (vec![file(&first, "CLIP/A001C001.mov")], vec!["CLIP/A001C001.mov"], "files[0].path", "a_file_and_a_folder"),
        ] {
            let (s, problem) = srv
                .post(&a.token, &format!("/api/v1/ingests/{ingest}/seal"), serde_json::json!({"files": files, "folders": folders}))
                .await;
            assert_eq!((s, problem["reason"].as_str()), (422, Some(reason)), "{problem}");
            assert_eq!(problem["field"], field, "{problem}");
        }

        // A card of many frame files is sealed in one request (well over the 1 MiB of other
        // requests): here refused for its first file, not for its size.
        let many: Vec<serde_json::Value> = (0..12_000)
            .map(|n| file(&uuid::Uuid::now_v7().to_string(), &format!("DPX/frame.{n:07}.dpx")))
            .collect();
        let (s, problem) = srv
            .post(&a.token, &format!("/api/v1/ingests/{ingest}/seal"), serde_json::json!({"files": many}))
            .await;
        assert_eq!((s, problem["reason"].as_str()), (422, Some("not_an_upload_of_this_ingest")), "{problem}");

        // Sealed: filed at once, with the generation `mstation mhl create` would write of the
        // same folder (its files, their xxh64, the folders' hashes, an empty folder's too).
        let (s, done) = srv
            .post(&a.token, &format!("/api/v1/ingests/{ingest}/seal"), serde_json::json!({
                "files": [file(&second, "CLIP/A001C002.mov"), file(&first, "CLIP/A001C001.mov")],
                "folders": ["CLIP", "EMPTY"]}))
            .await;
        assert_eq!((s, done["state"].as_str()), (200, Some("done")), "{done}");
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert_eq!(files["total"], 2);
        let r = srv.call(&a.token, Method::GET, &format!("/api/v1/ingests/{ingest}/generation"), None).await;
        let xml = r.text().await.unwrap();
        let g = mhl::parse_generation(&xml).unwrap();
        let paths: Vec<&str> = g.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["CLIP/A001C001.mov", "CLIP/A001C002.mov"]);
        assert_eq!(g.files[0].hashes["xxh64"], mhl::xxh64_hex(&one));
        assert_eq!(g.files[1].size, 10_000);
        assert_eq!(g.files[0].modified, "2025-12-06T05:46:40+00:00");
        let want = mhl::directory_hashes(
            &[
                ("CLIP/A001C001.mov".into(), mhl::xxh64_hex(&one)),
                ("CLIP/A001C002.mov".into(), mhl::xxh64_hex(&two)),
            ],
            &["CLIP".into(), "EMPTY".into()],
        );
        // The root's and each folder's content and structure hashes, in the generation's XML.
        for (path, h) in &want {
            assert!(xml.contains(&format!(">{}</xxh64>", h.content)), "{path}: {xml}");
            assert!(xml.contains(&format!(">{}</xxh64>", h.structure)), "{path}: {xml}");
        }
        assert!(xml.contains(">EMPTY</path>") && xml.contains(">CLIP</path>"), "{xml}");
        // Once done, it is not sealed again.
        let (s, problem) = srv
            .post(&a.token, &format!("/api/v1/ingests/{ingest}/seal"), serde_json::json!({"files": [file(&first, "CLIP/A001C001.mov")]}))
            .await;
        assert_eq!((s, problem["code"].as_str()), (409, Some("media.ingest_closed")), "{problem}");
    })
    .await;
}

/// A PNG whose header says it is `w` by `h` pixels, with almost nothing after it: what a hostile
/// upload may claim of its size.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream of a few zero bytes: far from the picture's rows.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Hostile and broken media: a movie cut short, an empty file, pictures claiming 24,000 by
/// 8,000 and 30,000 by 30,000 pixels, and a movie named as a text file. Each bad one fails its
/// job for good with a reason in words, and so does a cut detection asked of it; the worker goes
/// on, and the misnamed movie, read by what it holds, plays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_or_hostile_media_fail_their_jobs_in_words() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let take = ffmpeg_clip("320x180", "24", "2", &[]);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("cut_short.mov", take[..take.len() / 3].to_vec()),
        ("empty.mov", Vec::new()),
        ("huge.png", png_claiming(24_000, 8_000)),
        // Beyond what ffprobe itself takes: it reads no size at all.
        ("absurd.png", png_claiming(30_000, 30_000)),
        ("take_notes.txt", take.clone()),
    ];
    for (name, body) in &files {
        let at = create(&srv, &a.token, body.len(), name).await;
        if !body.is_empty() {
            assert_eq!(
                patch(&srv, &a.token, &at, 0, body.clone()).await.status(),
                StatusCode::NO_CONTENT,
                "{name}"
            );
        }
    }
    let (_, list) = srv.get(&a.token, "/api/v1/media").await;
    assert_eq!(list["total"], 5, "{list}");
    let file_of = |name: &str| {
        id(list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}")))
    };
    // Every job ends: done, or failed for good.
    let mut jobs = serde_json::Value::Null;
    for _ in 0..300 {
        let (_, all) = srv.get(&a.token, "/api/v1/jobs?limit=100").await;
        let open = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| !matches!(j["status"].as_str(), Some("succeeded" | "failed")));
        let (_, misnamed) = srv
            .get(
                &a.token,
                &format!("/api/v1/media/{}", file_of("take_notes.txt")),
            )
            .await;
        if !open && !misnamed["proxy_hash"].is_null() {
            jobs = all;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!jobs.is_null(), "the jobs ended");
    let failed: Vec<String> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["status"] == "failed")
        .map(|j| j["last_error"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(failed.len(), 4, "{jobs}");
    // The cut-short movie and the empty file: ffprobe's reason, on the file and its job.
    for name in ["cut_short.mov", "empty.mov"] {
        let (_, f) = srv
            .get(&a.token, &format!("/api/v1/media/{}", file_of(name)))
            .await;
        let why = f["probe_error"].as_str().unwrap_or("");
        assert!(!why.is_empty() && why.len() < 300, "{name}: {f}");
        assert!(
            failed.iter().any(|e| e.contains(why)),
            "{name}: {why} in {failed:?}"
        );
        assert!(f["proxy_hash"].is_null());
    }
    // The huge picture is read, and no proxy is attempted of it.
    let (_, huge) = srv
        .get(&a.token, &format!("/api/v1/media/{}", file_of("huge.png")))
        .await;
    assert_eq!(huge["probe"]["video"]["width"], 24_000, "{huge}");
    assert!(huge["proxy_hash"].is_null());
    assert!(
        failed
            .iter()
            .any(|e| e.contains("24000×8000") && e.contains("larger than")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|e| e.contains("no size to show")),
        "{failed:?}"
    );
    // The movie named as text plays.
    let (_, misnamed) = srv
        .get(
            &a.token,
            &format!("/api/v1/media/{}", file_of("take_notes.txt")),
        )
        .await;
    assert_eq!(misnamed["probe"]["video"]["codec"], "h264", "{misnamed}");
    // Their cuts: the unreadable ones are refused at once, in words; the huge picture's job fails
    // with ffmpeg's reason.
    let cuts = |name: &str| format!("/api/v1/media/{}/cuts", file_of(name));
    let (s, v) = srv
        .post(&a.token, &cuts("cut_short.mov"), serde_json::json!({}))
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("could not be read as media"),
        "{v}"
    );
    let (s, v) = srv
        .post(&a.token, &cuts("huge.png"), serde_json::json!({}))
        .await;
    assert_eq!(s, 202, "{v}");
    let ended = srv.job_ended(&a.token, v["job_id"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert!(
        ended["last_error"]
            .as_str()
            .unwrap_or("")
            .starts_with("ffmpeg could not decode the file: "),
        "{ended}"
    );
    assert_eq!(srv.get(&a.token, &cuts("huge.png")).await.0, 404);
}

/// Cut detection on the job queue: a movie with two hard cuts (made here by ffmpeg) is read, its
/// changes found on their frames and given back as JSON and as an EDL one event a shot; asked
/// before the file is read, it says to wait; a viewer may read them but not ask for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_movies_cuts_are_found_on_the_job_queue() {
    let srv = start(Backend::Sqlite).await;
    let a = srv.tenant("Alpha", "alpha").await;
    let dir = std::env::temp_dir().join(format!("mstation-cuts-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let movie = dir.join("ref.mov");
    let shot = |src: &str, l: &str| {
        format!("{src}=s=320x180:r=24,format=yuv420p,trim=end_frame=30,setpts=PTS-STARTPTS[{l}]")
    };
    let graph = format!(
        "{};{};{};[a][b][c]concat=n=3:v=1:a=0[out]",
        shot("testsrc2", "a"),
        shot("smptebars", "b"),
        shot("testsrc", "c")
    );
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-filter_complex",
            &graph,
            "-map",
            "[out]",
        ])
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-timecode",
            "01:00:00:00",
        ])
        .arg(&movie)
        .status()
        .expect("ffmpeg is installed");
    assert!(made.success());
    let body = std::fs::read(&movie).unwrap();
    let at = create(&srv, &a.token, body.len(), "REF_v001.mov").await;
    assert_eq!(
        patch(&srv, &a.token, &at, 0, body).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, files) = srv.get(&a.token, "/api/v1/media").await;
    let file = id(&files["items"][0]);
    // Read first: asked too early, it says to wait.
    let cuts = format!("/api/v1/media/{file}/cuts");
    let mut asked = None;
    for _ in 0..200 {
        let (s, v) = srv.post(&a.token, &cuts, serde_json::json!({})).await;
        if s == 202 {
            asked = Some(v);
            break;
        }
        assert_eq!(s, 422, "{v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap_or("")
                .contains("not been read yet"),
            "{v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let asked = asked.expect("asked once the file was read");
    let job = asked["job_id"].as_str().unwrap().to_string();
    let (s, v) = srv.get(&a.token, &cuts).await;
    assert_eq!(s, 404, "nothing found before the job ran: {v}");
    // Asked again while it looks: the same job, not a second decoding.
    let (s, again) = srv.post(&a.token, &cuts, serde_json::json!({})).await;
    assert_eq!((s, again["job_id"].as_str()), (202, Some(job.as_str())));
    let ended = srv.job_ended(&a.token, &job).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let (s, found) = srv.get(&a.token, &cuts).await;
    assert_eq!(s, 200, "{found}");
    assert_eq!(found["frames"], 90);
    let at: Vec<i64> = found["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["frame"].as_i64().unwrap())
        .collect();
    assert_eq!(at, [30, 60]);
    let r = tus(
        &srv,
        &a.token,
        Method::GET,
        &format!("{cuts}?format=cmx3600"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let rate = mstation_core::tracking::timecode::Rate::FPS_24;
    let edl = mstation_core::tracking::edl::parse(&text, rate).unwrap();
    let hour = 86_400;
    let events: Vec<(i64, i64)> = edl
        .events
        .iter()
        .map(|e| (e.record_in_frames - hour, e.record_out_frames - hour))
        .collect();
    assert_eq!(events, [(0, 30), (30, 60), (60, 90)], "{text}");
    let (s, v) = srv.get(&a.token, &format!("{cuts}?format=avi")).await;
    assert_eq!(s, 422, "{v}");
    // A viewer reads them, and may not ask.
    let (_, viewer) = srv
        .member(
            &a,
            "vera@alpha.example",
            Role::Viewer,
            &[TokenScope::Read, TokenScope::Write],
        )
        .await;
    assert_eq!(srv.get(&viewer, &cuts).await.0, 200);
    assert_eq!(srv.post(&viewer, &cuts, serde_json::json!({})).await.0, 403);
    // Another organisation finds nothing there.
    let b = srv.tenant("Bravo", "bravo").await;
    assert_eq!(srv.get(&b.token, &cuts).await.0, 404);
    assert_eq!(
        srv.post(&b.token, &cuts, serde_json::json!({})).await.0,
        404
    );
    let _ = std::fs::remove_dir_all(&dir);
}
