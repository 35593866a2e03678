//! A project's media page: its files with sizes, their uploaders and download links; the upload
//! area and the viewer's unfinished uploads for those who may upload; a viewer reads the files
//! without it; another organisation's project is not found; the Chinese page has no English.

use crate::common::*;
use crate::pages::Browser;
use mstation_core::Role;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_page_lists_files_and_offers_uploads_to_those_who_may() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        let viewer = srv.person(&a, "viewer@alpha.example", "Vera Viewer", Role::Viewer).await;
        let (s, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        assert_eq!(s, 201, "{p}");
        let pid = id(&p);
        let meta = |name: &str| {
            use base64::Engine;
            let e = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
            format!("filename {},filetype {},project {}", e(name), e("video/quicktime"), e(&pid))
        };
        let upload = |name: String, length: usize, body: Vec<u8>| {
            srv.http
                .post(format!("{}/files", srv.base))
                .bearer_auth(&a.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", length.to_string())
                .header("Upload-Metadata", meta(&name))
                .header("Content-Type", "application/offset+octet-stream")
                .body(body)
                .send()
        };
        assert_eq!(upload("A001C003.mov".into(), 2_500_000, vec![7; 2_500_000]).await.unwrap().status(), 201);
        assert_eq!(upload("镜头 B.mov".into(), 4_000, vec![1; 1_000]).await.unwrap().status(), 201);

        let url = format!("/app/projects/{pid}/media");
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let (s, page) = owner.get(&url).await;
        assert_eq!(s, 200);
        assert!(page.contains("A001C003.mov") && page.contains("2.5 MB"), "the file and its size");
        let (_, files) = srv.get(&a.token, "/api/v1/media").await;
        assert!(page.contains(&format!("/api/v1/media/{}/content", id(&files["items"][0]))), "its download link");
        assert!(page.contains("data-testid=\"upload-input\""), "the upload area");
        assert!(page.contains("1.0 KB of 4.0 KB arrived"), "the unfinished upload, to resume: {page}");
        assert!(page.contains("Your organisation keeps 2.5 MB of media."), "what the organisation keeps");

        let reader = Browser::sign_in(&srv, &viewer.email, "correct horse battery").await;
        let (s, page) = reader.get(&url).await;
        assert_eq!(s, 200);
        assert!(page.contains("A001C003.mov"), "a viewer reads the files");
        assert!(!page.contains("upload-input") && !page.contains("镜头 B.mov"), "but uploads nothing, and sees no one's unfinished uploads");

        let other = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        let (s, page) = other.get(&url).await;
        assert_eq!(s, 404);
        assert!(!page.contains("A001C003.mov"));

        let r = srv.call(&a.token, Method::PATCH, "/api/v1/me", Some(json!({"locale": "zh-CN"}))).await;
        assert_eq!(r.status(), 200);
        let (_, page) = owner.get(&url).await;
        assert!(page.contains("媒体") && page.contains("已收到 1.0 KB，共 4.0 KB"), "{page}");
        for english in ["Upload files", "Choose files", "Unfinished", "Uploaded by", "arrived", "keeps", "Cancel"] {
            assert!(!page.contains(english), "{english} on the Chinese page");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_browser_narrows_to_a_camera_a_reel_or_a_day() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let (_, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        let pid = id(&p);
        // Three camera files: two of camera A, one of camera B, with their reels in the metadata.
        for (name, reel) in [("a1.mov", "A001C001"), ("a2.mov", "A002C007"), ("b1.mov", "B001C003")] {
            use base64::Engine;
            let e = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
            // A QuickTime file keeps its reel with its timecode track.
            let clip = ffmpeg_clip("64x36", "24", "0.5", &["-timecode", "01:00:00:00", "-metadata:s:v", &format!("reel_name={reel}")]);
            let r = srv
                .http
                .post(format!("{}/files", srv.base))
                .bearer_auth(&a.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", clip.len().to_string())
                .header("Upload-Metadata", format!("filename {},project {}", e(name), e(&pid)))
                .header("Content-Type", "application/offset+octet-stream")
                .body(clip)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        // Once probed, each file knows its reel.
        for _ in 0..300 {
            let (_, f) = srv.get(&a.token, "/api/v1/media").await;
            if f["items"].as_array().unwrap().iter().all(|f| !f["probe"].is_null()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;
        let url = format!("/app/projects/{pid}/media");
        let shown = |page: &str| -> Vec<&'static str> {
            ["a1.mov", "a2.mov", "b1.mov"].into_iter().filter(|n| page.contains(&format!(">{n}<"))).collect()
        };
        let (_, page) = owner.get(&url).await;
        assert!(page.contains("data-testid=\"media-filters\""), "{page}");
        assert!(page.contains("<option value=\"B001C003\">") && page.contains("<option value=\"A\">"));
        assert_eq!(shown(&page), ["a1.mov", "a2.mov", "b1.mov"]);
        let (_, page) = owner.get(&format!("{url}?camera=A")).await;
        assert_eq!(shown(&page), ["a1.mov", "a2.mov"]);
        let (_, page) = owner.get(&format!("{url}?reel=B001C003")).await;
        assert_eq!(shown(&page), ["b1.mov"]);
        let today = jiff::Zoned::now().in_tz("Asia/Shanghai").unwrap().date().to_string();
        let (_, page) = owner.get(&format!("{url}?day={today}&camera=B")).await;
        assert_eq!(shown(&page), ["b1.mov"]);
        let (_, page) = owner.get(&format!("{url}?day=2001-01-01")).await;
        assert!(shown(&page).is_empty() && page.contains("No file of this project matches these filters."));
        let (s, _) = owner.get(&format!("{url}?day=yesterday")).await;
        assert_eq!(s, 422, "a day that is not a date is refused");
    })
    .await;
}
