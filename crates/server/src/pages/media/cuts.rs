//! A movie's cuts: asking for them to be found (a `media.cuts` job), following the job, and
//! what it found, each change with a frame on each side of it (painted from the proxy by
//! `assets/cuts.js`), as an EDL or OTIO to download, and offered to a sequence of the project,
//! whose import shows what conforming it to them would change before anything does.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use mstation_core::Permission;
use mstation_core::media::cuts::Kind;
use mstation_core::tracking::edl;
use mstation_core::tracking::timecode::{Rate, Timecode};
use serde::Deserialize;
use uuid::Uuid;

use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;
use crate::pages::tracking::script_json;
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/media/{media_id}/cuts", get(cuts_page).post(find))
}

/// A change as the page lists it.
struct CutRow {
    frame: i64,
    timecode: String,
    kind: String,
    /// The file's frames shown on either side of it.
    before: i64,
    after: i64,
}

/// What was found, as the page shows it.
struct Found {
    summary: String,
    rows: Vec<CutRow>,
    /// The movie as an EDL, for a sequence's import; none when timecode does not know its rate.
    edl: Option<String>,
}

#[derive(Template)]
#[template(path = "cuts.html")]
struct CutsPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    id: String,
    file_name: String,
    /// The project it belongs to (id, name), when it does.
    project: Option<(String, String)>,
    looking: bool,
    failed: Option<String>,
    found: Option<Found>,
    can_find: bool,
    can_conform: bool,
    /// The project's sequences (id, "Conform SQ010"), to conform to the cuts.
    sequences: Vec<(String, String)>,
    /// Said when the movie's rate is not the project's.
    rate_warning: Option<String>,
    csrf: String,
    data: String,
}

async fn cuts_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(media_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cuts_view(&state, &cx, media_id, None).await
}

async fn cuts_view(
    state: &State,
    cx: &Ctx,
    media_id: Uuid,
    flash: Option<(String, String)>,
) -> PageResult {
    cx.need(Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let file = store.media_file(media_id).await?;
    let (cutting, job) = store.media_cuts(media_id).await?;
    let job = match job {
        Some(j) => Some(store.job(j).await?),
        None => None,
    };
    let looking = job
        .as_ref()
        .is_some_and(|j| matches!(j.status.as_str(), "queued" | "running"));
    let failed = job.as_ref().filter(|j| j.status == "failed").map(|j| {
        i18n::text_args(
            "cuts-failed",
            &[("reason", j.last_error.clone().unwrap_or_default().into())],
        )
    });
    let project = match file.project_id {
        Some(p) => Some(store.project(p).await?),
        None => None,
    };
    let fps = cutting.as_ref().map(|c| c.fps);
    let rate =
        fps.and_then(|f| Rate::new(u32::try_from(f[0]).ok()?, u32::try_from(f[1]).ok()?).ok());
    let found = cutting.as_ref().map(|c| {
        let start = c
            .start_timecode
            .as_deref()
            .zip(rate)
            .and_then(|(t, r)| Timecode::parse(t, r).ok());
        let tc = |n: i64| match (start, rate) {
            (Some(t), Some(r)) => t
                .to_frames(r)
                .map(|s| Timecode::from_frames(s + n, r, t.drop_frame).to_string())
                .unwrap_or_default(),
            (None, Some(r)) => Timecode::from_frames(n, r, false).to_string(),
            _ => String::new(),
        };
        let last = (c.frames - 1).max(0);
        let rows = c
            .transitions
            .iter()
            .map(|t| {
                let (before, after, kind) = match t.kind {
                    Kind::Cut => (t.frame - 1, t.frame, i18n::text("cuts-kind-cut")),
                    k => (
                        t.frame - (t.frames + 1) / 2 - 1,
                        t.frame + t.frames / 2,
                        i18n::text_args(
                            if k == Kind::Fade {
                                "cuts-kind-fade"
                            } else {
                                "cuts-kind-dissolve"
                            },
                            &[("frames", t.frames.into())],
                        ),
                    ),
                };
                CutRow {
                    frame: t.frame,
                    timecode: tc(t.frame),
                    kind,
                    before: before.clamp(0, last),
                    after: after.clamp(0, last),
                }
            })
            .collect();
        let stem = std::path::Path::new(&file.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Found {
            summary: i18n::text_args(
                "cuts-summary",
                &[
                    ("count", (c.transitions.len() as i64).into()),
                    ("frames", c.frames.into()),
                ],
            ),
            rows,
            edl: c
                .as_cut(&stem, &file.name)
                .and_then(|cut| cut.ok())
                .and_then(|cut| edl::write(&cut).ok()),
        }
    });
    let sequences = match &project {
        Some(p) => store
            .sequences(
                p.id,
                &mstation_store::ListQuery {
                    limit: 200,
                    ..Default::default()
                },
            )
            .await?
            .items
            .into_iter()
            .map(|s| {
                let label = i18n::text_args("cuts-conform-to", &[("sequence", s.name.into())]);
                (s.id.to_string(), label)
            })
            .collect(),
        None => Vec::new(),
    };
    let rate_warning = match (&project, rate) {
        (Some(p), Some(r)) if p.rate() != Some(r) => Some(i18n::text_args(
            "cuts-rate-differs",
            &[
                ("movie", r.to_string().into()),
                (
                    "project",
                    p.rate()
                        .map_or_else(|| format!("{}/{}", p.fps_num, p.fps_den), |r| r.to_string())
                        .into(),
                ),
            ],
        )),
        _ => None,
    };
    let proxy = file
        .proxy_hash
        .is_some()
        .then(|| format!("/api/v1/media/{media_id}/proxy"));
    let data = script_json(&serde_json::json!({
        "proxy": proxy,
        "fps": fps,
        "looking": looking,
    }));
    html(CutsPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        id: media_id.to_string(),
        file_name: file.path.clone().unwrap_or(file.name.clone()),
        project: project.map(|p| (p.id.to_string(), p.name)),
        looking,
        failed,
        found,
        can_find: cx.scope.can(Permission::WriteProduction),
        can_conform: cx.scope.can(Permission::PlanProduction),
        sequences,
        rate_warning,
        csrf: cx.csrf.clone(),
        data,
    })
}

#[derive(Deserialize)]
struct FindForm {
    csrf: String,
}

async fn find(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(media_id): Path<Uuid>,
    axum::Form(f): axum::Form<FindForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::WriteProduction)?;
    match state.store.tenant(&cx.scope).find_cuts(media_id).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/media/{media_id}/cuts")).into_response()),
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            let flash = (
                "error".to_string(),
                format!("{}: {}", e.title(), e.page_detail()),
            );
            let page = cuts_view(&state, &cx, media_id, Some(flash)).await;
            crate::pages::tracking::answered(page, status)
        }
    }
}
