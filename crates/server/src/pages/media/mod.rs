//! Media pages: a project's files, with their download links, and the upload area that sends
//! new files through `/files` (`assets/upload.js`) with progress per file; the viewer's uploads
//! cut off before they finished are listed, and resume when the same file is chosen again.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::routing::get;
use mstation_core::Permission;
use mstation_store::tracking::Project;
use serde::Deserialize;
use uuid::Uuid;

use super::tracking::people;
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::{Nav, PageResult, Tr, ctx, html};

mod cuts;
mod share;

pub(in crate::pages) use share::{forget_shared, shared_once};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    let r = cuts::routes(r);
    let r = share::routes(r);
    r.route("/app/projects/{project_id}/media", get(media_page))
}

/// How many files one page lists.
const PAGE: u32 = 100;

/// A size for people: `812 KB`, `4.2 GB` (powers of 1000, as file browsers show them).
pub(crate) fn size_text(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    if v < 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

struct FileRow {
    id: String,
    /// Its name, or its path on the card it was ingested from.
    name: String,
    reel: String,
    kind: String,
    /// What ffprobe read: the picture, the sound, the timecode; or why it could not.
    about: String,
    /// Whether it has a poster, and a proxy to play in the browser; whether it holds pictures
    /// (whose cuts may be found).
    poster: bool,
    picture: bool,
    proxy: bool,
    size: String,
    by: String,
    when: String,
}

struct OpenRow {
    url: String,
    name: String,
    /// The file's modification time as the browser gave it (ms), to know it again.
    modified: String,
    length: i64,
    received: i64,
    progress: String,
}

#[derive(Template)]
#[template(path = "media.html")]
struct MediaPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    project: Project,
    files: Vec<FileRow>,
    total: i64,
    more: Option<String>,
    /// The filters' query string, for the next page.
    keep: String,
    reels: Vec<String>,
    cameras: Vec<String>,
    reel: String,
    camera: String,
    day: String,
    filtered: bool,
    open: Vec<OpenRow>,
    usage: String,
    can_upload: bool,
    data: String,
}

#[derive(Deserialize)]
struct MediaQuery {
    cursor: Option<String>,
    /// Only this reel's files, this camera's, uploaded on this day (`YYYY-MM-DD`, the viewer's).
    reel: Option<String>,
    camera: Option<String>,
    day: Option<String>,
}

async fn media_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    Query(mq): Query<MediaQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let project = store.project(project_id).await?;
    let q = crate::extract::list_query(Some(PAGE), mq.cursor.as_deref(), Some("-created_at"))?;
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (reel, camera, day) = (given(&mq.reel), given(&mq.camera), given(&mq.day));
    let uploaded = match &day {
        Some(d) => match (
            crate::pages::identity::day_start(d, &cx.tz, false),
            crate::pages::identity::day_start(d, &cx.tz, true),
        ) {
            (Some(from), Some(to)) => Some((from, to)),
            _ => return Err(crate::error::ApiError::invalid("day", "not_a_date").into()),
        },
        None => None,
    };
    let filter = mstation_store::media::MediaFilter {
        reel: reel.clone(),
        camera: camera.clone(),
        uploaded,
    };
    let page = store.browse_media(project_id, &filter, &q).await?;
    let (reels, cameras) = store.media_reels(project_id).await?;
    let filtered = reel.is_some() || camera.is_some() || day.is_some();
    // The next page keeps the filters.
    let keep: String = [("reel", &reel), ("camera", &camera), ("day", &day)]
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("&{k}={}", crate::pages::identity::in_address(v)))
        })
        .collect();
    let names: std::collections::HashMap<Uuid, String> =
        people(&state, &cx).await?.into_iter().collect();
    let files = page
        .items
        .iter()
        .map(|f| FileRow {
            id: f.id.to_string(),
            name: f.path.clone().unwrap_or_else(|| f.name.clone()),
            reel: f
                .probe
                .as_ref()
                .and_then(|p| p.reel.clone())
                .unwrap_or_default(),
            kind: f.content_type.clone().unwrap_or_default(),
            about: about(f),
            poster: f.poster_hash.is_some(),
            picture: f.probe.as_ref().is_some_and(|p| p.video.is_some()),
            proxy: f.proxy_hash.is_some(),
            size: size_text(f.size),
            by: names
                .get(&f.created_by)
                .cloned()
                .unwrap_or_else(|| i18n::text("someone")),
            when: cx.time(f.created_at.0),
        })
        .collect();
    let can_upload = cx.scope.can(Permission::WriteProduction);
    let open = if can_upload {
        store
            .open_uploads(Some(project_id))
            .await?
            .into_iter()
            .map(|u| OpenRow {
                url: format!("/files/{}", u.id),
                modified: mstation_core::media::tus::parse_metadata(&u.metadata)
                    .ok()
                    .and_then(|m| m.get_str("modified").ok().flatten())
                    .filter(|m| m.bytes().all(|b| b.is_ascii_digit()))
                    .unwrap_or_default(),
                progress: i18n::text_args(
                    "media-upload-kept",
                    &[
                        ("kept", size_text(u.received).into()),
                        ("size", size_text(u.length).into()),
                    ],
                ),
                name: u.name,
                length: u.length,
                received: u.received,
            })
            .collect()
    } else {
        Vec::new()
    };
    let usage = store.media_usage().await?;
    let usage = match usage.quota {
        Some(q) => i18n::text_args(
            "media-usage-of",
            &[
                ("used", size_text(usage.used).into()),
                ("quota", size_text(q).into()),
            ],
        ),
        None => i18n::text_args("media-usage", &[("used", size_text(usage.used).into())]),
    };
    let data = upload_data(&cx.csrf, Some(project_id));
    html(MediaPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash: None,
        project,
        files,
        total: page.total,
        more: page.next_cursor,
        keep,
        reels,
        cameras,
        reel: reel.unwrap_or_default(),
        camera: camera.unwrap_or_default(),
        day: day.unwrap_or_default(),
        filtered,
        open,
        usage,
        can_upload,
        data,
    })
}

/// A frame rate for people: `23.976`, `25`.
fn fps_text([n, d]: [i64; 2]) -> String {
    if n % d == 0 {
        (n / d).to_string()
    } else {
        let v = format!("{:.3}", n as f64 / d as f64);
        v.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// What ffprobe read of a file, in the viewer's language.
fn about(f: &mstation_store::media::MediaFile) -> String {
    let Some(p) = &f.probe else {
        // A document (text, PDF …) is not pictures or sound: nothing to say of it.
        let media = f.content_type.as_deref().is_none_or(|t| {
            [
                "video/",
                "audio/",
                "image/",
                "application/octet-stream",
                "application/mxf",
            ]
            .iter()
            .any(|m| t.starts_with(m))
        });
        return match &f.probe_error {
            Some(_) if !media => String::new(),
            // ffprobe's commonest reason, in the viewer's words; another is quoted as it is.
            Some(why) if why.starts_with("Invalid data found") => i18n::text("media-probe-invalid"),
            Some(why) => i18n::text_args("media-probe-failed", &[("reason", why.clone().into())]),
            None => i18n::text("media-probe-pending"),
        };
    };
    let mut parts = Vec::new();
    if let Some(v) = &p.video {
        let codec = match &v.profile {
            Some(profile) => format!("{} {profile}", v.codec),
            None => v.codec.clone(),
        };
        parts.push(i18n::text_args(
            "media-probe-video",
            &[
                ("codec", codec.into()),
                ("width", v.width.to_string().into()),
                ("height", v.height.to_string().into()),
                (
                    "fps",
                    v.fps.map(fps_text).unwrap_or_else(|| "?".into()).into(),
                ),
            ],
        ));
    }
    if let Some(a) = p.audio.first() {
        parts.push(i18n::text_args(
            "media-probe-audio",
            &[
                ("codec", a.codec.clone().into()),
                ("channels", a.channels.to_string().into()),
                (
                    "rate",
                    a.sample_rate
                        .map(|r| r.to_string())
                        .unwrap_or_default()
                        .into(),
                ),
            ],
        ));
    }
    if let Some(tc) = &p.timecode {
        parts.push(i18n::text_args(
            "media-probe-timecode",
            &[("tc", tc.clone().into())],
        ));
    }
    parts.join(" · ")
}

/// The words and token the upload scripts (`upload.js`, `card.js`) read from a page, as the
/// text of its `upload-data` element: files go to `project` when given.
pub(crate) fn upload_data(csrf: &str, project: Option<Uuid>) -> String {
    let texts: serde_json::Map<String, serde_json::Value> = [
        ("waiting", "media-upload-waiting"),
        ("done", "media-upload-done"),
        ("failed", "media-upload-failed"),
        ("network", "media-upload-network"),
        ("sealing", "media-card-sealing"),
        ("history", "media-card-history"),
        ("folder_only", "media-card-folder-only"),
        ("has_history", "media-card-has-history"),
    ]
    .into_iter()
    .map(|(k, key)| (k.to_string(), i18n::text(key).into()))
    .chain([
        (
            "rate".to_string(),
            i18n::text_args("media-upload-rate", &[("rate", "{rate}".into())]).into(),
        ),
        (
            "filed".to_string(),
            i18n::text_args(
                "media-card-filed",
                &[("files", "{files}".into()), ("source", "{source}".into())],
            )
            .into(),
        ),
    ])
    .collect();
    // Inside a <script> element: nothing in it may close the element.
    serde_json::json!({"project": project, "csrf": csrf, "texts": texts})
        .to_string()
        .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::{fps_text, size_text};

    #[test]
    fn frame_rates_read_as_editors_say_them() {
        assert_eq!(fps_text([24000, 1001]), "23.976");
        assert_eq!(fps_text([25, 1]), "25");
        assert_eq!(fps_text([30000, 1001]), "29.97");
        assert_eq!(fps_text([48, 2]), "24");
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(size_text(0), "0 B");
        assert_eq!(size_text(999), "999 B");
        assert_eq!(size_text(1_000), "1.0 KB");
        assert_eq!(size_text(812_400), "812 KB");
        assert_eq!(size_text(4_200_000_000), "4.2 GB");
        assert_eq!(size_text(2_147_483_648), "2.1 GB");
    }
}
