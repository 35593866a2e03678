//! The review player: a version's proxy frame by frame, each frame named by its production
//! number and source timecode (`core::tracking::frames`), stepped, looped and played at speed
//! in the browser (`assets/player.js`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::routing::get;
use mstation_core::tracking::frames::{self, ShotFrames};
use mstation_core::tracking::timecode::{Rate, Timecode};
use mstation_store::tracking::Project;
use uuid::Uuid;

use mstation_core::Permission;
use mstation_store::tracking::notes::NoteOn;

use super::review::{NoteRow, note_rows};
use super::{named_steps, people, script_json};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/versions/{version_id}/review", get(player))
}

#[derive(Template)]
#[template(path = "player.html")]
struct PlayerPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    project: Project,
    /// What the version is of ("SQ010_0010 · Comp"), its number ("v003"), and its task.
    subject: String,
    number: String,
    task_id: String,
    /// The file played (its proxy's address), and why none can be yet.
    file_name: String,
    proxy: String,
    waiting: Option<String>,
    data: String,
    version_id: String,
    /// The version's notes, by frame (notes on no frame last), and whether the viewer may write one.
    notes: Vec<NoteRow>,
    can_note: bool,
    csrf: String,
    /// The verdicts the viewer's role may give, as statuses of the task's workflow (id, name):
    /// approve (its first finished status) and ask for changes (its first retake status); the
    /// task's version a verdict is given against, and its status now (name, colour).
    approve: Option<(String, String)>,
    retake: Option<(String, String)>,
    task_version: i64,
    status: Option<(String, String)>,
    /// A note refused, as typed, to post again.
    typed: String,
}

async fn player(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(version_id): Path<Uuid>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let frame = q
        .iter()
        .find(|(k, _)| k == "frame")
        .and_then(|(_, f)| f.trim().parse::<i64>().ok());
    player_view(&state, &cx, version_id, frame, None, String::new()).await
}

/// The player of the version `version_id` on the production `frame` (its first when none, or
/// one the file does not hold), with `flash` said and a refused note `typed` back in its form.
pub(super) async fn player_view(
    state: &State,
    cx: &Ctx,
    version_id: Uuid,
    frame: Option<i64>,
    flash: Option<(String, String)>,
    typed: String,
) -> PageResult {
    let store = state.store.tenant(&cx.scope);
    let version = store.version(version_id).await?;
    let task = store.task(version.task_id).await?;
    let project = store.project(task.project_id).await?;
    let shot = match task.shot_id {
        Some(id) => Some(store.shot(id).await?),
        None => None,
    };
    let on = match (&shot, task.asset_id) {
        (Some(s), _) => s.name.clone(),
        (None, Some(a)) => store.asset(a).await?.name,
        (None, None) => String::new(),
    };
    let step = named_steps(store.task_types(task.project_id).await?)
        .into_iter()
        .find(|t| t.id == task.task_type_id)
        .map(|t| t.name)
        .unwrap_or_default();
    // A verdict moves the task through its workflow, as far as the viewer's role may: an
    // artist's only on a task of theirs.
    let statuses = super::named_statuses(store.task_statuses(task.project_id).await?);
    let own = task
        .assignees
        .split_whitespace()
        .any(|u| u == cx.scope.user_id.to_string());
    let may: Vec<&mstation_store::tracking::tasks::TaskStatus> = statuses
        .iter()
        .filter(|s| {
            cx.scope.can(Permission::Review) && cx.scope.role.may_set_status(&s.set_by, own)
        })
        .collect();
    let verdict = |pick: &dyn Fn(&&&mstation_store::tracking::tasks::TaskStatus) -> bool| {
        may.iter()
            .filter(pick)
            .min_by_key(|s| s.sort_order)
            .map(|s| (s.id.to_string(), s.name.clone()))
    };
    // A verdict the task already has is not offered again: no approving a finished task, no
    // asking again for changes already asked for.
    let now = statuses.iter().find(|s| s.id == task.status_id);
    let approve = verdict(&|s| s.is_done && !s.is_retake)
        .filter(|_| !now.is_some_and(|s| s.is_done && !s.is_retake));
    let retake = verdict(&|s| s.is_retake).filter(|_| !now.is_some_and(|s| s.is_retake));
    let status = statuses
        .iter()
        .find(|s| s.id == task.status_id)
        .map(|s| (s.name.clone(), s.color.clone()));
    let files = store
        .versions_media(&[version_id])
        .await?
        .remove(&version_id)
        .unwrap_or_default();
    // The first of its files with a proxy to play; else the first, and why it cannot play yet.
    let playable = files.iter().find(|f| f.proxy_hash.is_some());
    let file = playable.or(files.first());
    let waiting = match (playable, file) {
        (Some(_), _) => None,
        (None, Some(f)) if f.probe_error.is_some() => Some(i18n::text("player-unreadable")),
        // Read, with no picture (a sound mix): no proxy is made of it.
        (None, Some(f)) if f.probe.as_ref().is_some_and(|p| p.video.is_none()) => {
            Some(i18n::text("player-no-picture"))
        }
        (None, Some(_)) => Some(i18n::text("player-making")),
        (None, None) => Some(i18n::text("player-no-file")),
    };
    let video = file
        .and_then(|f| f.probe.as_ref())
        .and_then(|p| p.video.clone());
    // The file's rate, as timecode counts it; a rate timecode does not know (variable, or an
    // odd one) plays at ffprobe's rate, without timecode.
    let fps = video
        .as_ref()
        .and_then(|v| v.fps)
        .filter(|f| f[0] > 0 && f[1] > 0)
        .unwrap_or([24, 1]);
    let known = Rate::new(fps[0] as u32, fps[1] as u32).ok();
    let rate = known.unwrap_or(Rate::FPS_24);
    let duration = file.and_then(|f| f.probe.as_ref()).and_then(|p| p.duration);
    // Its frames: as ffprobe counted them, else from its duration.
    let count = video
        .as_ref()
        .and_then(|v| v.frames)
        .or_else(|| duration.map(|d| (d * fps[0] as f64 / fps[1] as f64).round() as i64))
        .unwrap_or(1)
        .max(1);
    let tc_text = file
        .and_then(|f| f.probe.as_ref())
        .and_then(|p| p.timecode.clone());
    let tc = tc_text
        .as_deref()
        .filter(|_| known.is_some())
        .and_then(|t| Timecode::parse(t, rate).ok());
    let tc0 = tc.as_ref().and_then(|t| t.to_frames(rate).ok());
    let drop_frame = tc.as_ref().is_some_and(|t| t.drop_frame);
    // A file's timecode places it in the shot's source only at the project's own rate.
    let project_rate = Rate::new(project.fps_num as u32, project.fps_den as u32).ok();
    let shot_frames = shot.as_ref().map(|s| ShotFrames {
        cut_in: s.cut_in,
        cut_out: s.cut_out,
        head_handles: s.head_handles,
        tail_handles: s.tail_handles,
        source_in: s.source_in,
    });
    let first = frames::first_frame(
        shot_frames,
        tc0.filter(|_| project_rate == known),
        count,
        project.start_frame,
    );
    // Opened on a note's frame, when it is one of the file's.
    let open_at = frame
        .and_then(|f| f.checked_sub(first))
        .filter(|i| (0..count).contains(i))
        .unwrap_or(0);
    let names: std::collections::HashMap<Uuid, String> =
        people(state, cx).await?.into_iter().collect();
    // The version's own notes, and the task's written while it was the newest version (the
    // verdicts given in its player among them).
    let mut all = store.entity_notes(NoteOn::Version(version_id)).await?;
    let next = store
        .versions(
            task.id,
            &mstation_store::ListQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await?
        .items
        .into_iter()
        .filter(|v| v.number > version.number)
        .map(|v| v.created_at.0)
        .min();
    all.extend(store.notes(task.id).await?.into_iter().filter(|n| {
        n.created_at.0 >= version.created_at.0 && next.is_none_or(|at| n.created_at.0 < at)
    }));
    let mut notes = note_rows(all, &names, cx);
    notes.sort_by_key(|n| (n.frame.is_none(), n.frame));
    let texts = serde_json::json!({
        "on_frame": i18n::text_args("player-note-on", &[("frame", "{frame}".into())]),
        "of": i18n::text_args("player-index", &[("at", "{at}".into()), ("all", "{all}".into())]),
        "loop": i18n::text_args("player-loop", &[("in", "{in}".into()), ("out", "{out}".into())]),
        "no_loop": i18n::text("player-no-loop"),
        "play": i18n::text("player-play"),
        "pause": i18n::text("player-pause"),
    });
    let data = script_json(&serde_json::json!({
        "proxy": playable.map(|f| format!("/api/v1/media/{}/proxy", f.id)),
        "fps": fps,
        "frames": count,
        "first": first,
        "tc0": tc0,
        "drop": drop_frame,
        "nominal": rate.nominal(),
        "open_at": open_at,
        "texts": texts,
    }));
    html(PlayerPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        project,
        subject: if step.is_empty() {
            on
        } else {
            format!("{on} · {step}")
        },
        number: format!("v{:03}", version.number),
        task_id: task.id.to_string(),
        file_name: file.map(|f| f.name.clone()).unwrap_or_default(),
        proxy: playable
            .map(|f| format!("/api/v1/media/{}/proxy", f.id))
            .unwrap_or_default(),
        waiting,
        data,
        version_id: version_id.to_string(),
        notes,
        can_note: cx.scope.can(Permission::Review),
        csrf: cx.csrf.clone(),
        approve,
        retake,
        task_version: task.version,
        status,
        typed,
    })
}
