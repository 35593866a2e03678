//! The custom fields page: a producer defines a project's fields (text and choice), renames them
//! and edits their choices; a refused form comes back as typed; the fields show on the shot page
//! and as grid columns; a coordinator reads the list without forms and is refused a post; another
//! organisation's field is not found; the Chinese page has no English.

use crate::common::*;
use crate::pages::{Browser, CUT};
use mstation_core::{Role, TokenScope};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_defines_custom_fields_on_their_page() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha", "alpha").await;
        let b = srv.tenant("Bravo", "bravo").await;
        srv.member(&a, "coord@alpha.example", Role::Coordinator, &[TokenScope::Read]).await;
        let (s, p) = srv
            .post(&a.token, "/api/v1/projects", json!({"name": "Moonlight", "code": "MOON", "fps": "24", "width": 1920, "height": 1080}))
            .await;
        assert_eq!(s, 201, "{p}");
        let pid = p["id"].as_str().unwrap().to_string();
        let (_, seq) = srv.post(&a.token, &format!("/api/v1/projects/{pid}/sequences"), json!({"name": "SQ010"})).await;
        let seq = seq["id"].as_str().unwrap().to_string();
        let (s, _) = srv
            .post(&a.token, &format!("/api/v1/sequences/{seq}/conform"), json!({"format": "cmx3600", "edl": CUT, "apply": true}))
            .await;
        assert_eq!(s, 200);
        let url = format!("/app/projects/{pid}/fields");
        let owner = Browser::sign_in(&srv, &a.owner.email, &a.password).await;

        let (s, page) = owner.get(&url).await;
        assert_eq!(s, 200);
        assert_eq!(page.matches("No custom fields yet.").count(), 3, "shots, assets and tasks");
        let (s, _) = owner
            .post(&url, &[("entity", "shot"), ("key", "lens"), ("name", "Lens"), ("kind", "text")])
            .await;
        assert_eq!(s, 303);
        let (s, _) = owner
            .post(&url, &[("entity", "shot"), ("key", "format"), ("name", "Format"), ("kind", "choice"), ("choices", "Anamorphic\r\n\r\nSpherical\r\n")])
            .await;
        assert_eq!(s, 303);
        // A key that is not one: said, with what was typed kept.
        let (s, page) = owner
            .post(&url, &[("entity", "asset"), ("key", "Bad Key"), ("name", "Supplier"), ("kind", "text")])
            .await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("Key must start with a lower-case letter"), "the field by its label: {page}");
        assert!(page.contains("value=\"Bad Key\"") && page.contains("value=\"Supplier\""), "{page}");
        assert!(page.contains("<option value=\"asset\" selected>"), "the entity as chosen");

        let (_, fields) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/fields")).await;
        let items = fields["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{fields}");
        let format = items.iter().find(|f| f["key"] == "format").unwrap();
        assert_eq!(format["choices"], json!(["Anamorphic", "Spherical"]));
        let format_id = format["id"].as_str().unwrap().to_string();

        // Renamed, a choice added; then a stale form changes nothing.
        let (s, _) = owner
            .post(&format!("/app/fields/{format_id}"), &[("version", "1"), ("name", "Lens format"), ("choices", "Anamorphic\nSpherical\nLarge format")])
            .await;
        assert_eq!(s, 303);
        let (s, page) = owner
            .post(&format!("/app/fields/{format_id}"), &[("version", "1"), ("name", "Old name")])
            .await;
        assert_eq!(s, 409, "{page}");
        let (_, f) = srv.get(&a.token, &format!("/api/v1/fields/{format_id}")).await;
        assert_eq!((f["name"].as_str(), f["choices"].as_array().map(Vec::len)), (Some("Lens format"), Some(3)));

        // The fields on the shot page and as grid columns.
        let (_, shots) = srv.get(&a.token, &format!("/api/v1/sequences/{seq}/shots")).await;
        let shot = shots["items"][0]["id"].as_str().unwrap();
        let (_, page) = owner.get(&format!("/app/shots/{shot}")).await;
        assert!(page.contains("Lens format") && page.contains("Large format"), "{page}");
        let (s, grid) = owner.get(&format!("/app/projects/{pid}/shots?show=field.format")).await;
        assert_eq!(s, 200);
        assert!(grid.contains("<th class=\"field\">Lens format</th>"));

        // A coordinator reads the list, has no forms and is refused a post.
        let coord = Browser::sign_in(&srv, "coord@alpha.example", "correct horse battery").await;
        let (s, page) = coord.get(&url).await;
        assert_eq!(s, 200);
        assert!(page.contains("Anamorphic · Spherical · Large format"), "{page}");
        assert!(!page.contains("data-testid=\"new-field\"") && !page.contains("/delete\""));
        let (s, _) = coord.post(&url, &[("entity", "shot"), ("key", "nope"), ("name", "Nope"), ("kind", "text")]).await;
        assert_eq!(s, 403);
        let (s, _) = coord.post(&format!("/app/fields/{format_id}/delete"), &[("version", "2")]).await;
        assert_eq!(s, 403);

        // Another organisation: not found, whatever the form.
        let bravo = Browser::sign_in(&srv, &b.owner.email, &b.password).await;
        assert_eq!(bravo.get(&url).await.0, 404);
        assert_eq!(bravo.post(&format!("/app/fields/{format_id}"), &[("version", "2"), ("name", "Mine")]).await.0, 404);
        assert_eq!(bravo.post(&format!("/app/fields/{format_id}/delete"), &[("version", "2")]).await.0, 404);

        // Removed by the producer.
        let (s, _) = owner.post(&format!("/app/fields/{format_id}/delete"), &[("version", "2")]).await;
        assert_eq!(s, 303);
        let (_, fields) = srv.get(&a.token, &format!("/api/v1/projects/{pid}/fields")).await;
        assert_eq!(fields["items"].as_array().unwrap().len(), 1);

        // In Chinese: the page's own words, no English left.
        let r = srv.call(&a.token, reqwest::Method::PATCH, "/api/v1/me", Some(json!({"locale": "zh-CN"}))).await;
        assert_eq!(r.status(), 200);
        let (_, page) = owner.get(&url).await;
        assert!(page.contains("自定义字段") && page.contains("新建自定义字段"), "{page}");
        for english in ["Custom fields", "No custom fields", "Choices", "Add the field", "Remove", "Shots"] {
            assert!(!page.contains(english), "{english} on the Chinese page");
        }
    })
    .await;
}
