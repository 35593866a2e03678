//! The review player: a version's proxy frame by frame, each frame named by its production
//! number and source timecode (`core::tracking::frames`), stepped, looped and played at speed
//! in the browser (`assets/player.js`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::routing::get;
use mstation_core::tracking::frames::{self, ShotFrames};
use mstation_core::tracking::timecode::{Rate, Timecode};
use mstation_store::tracking::{Project, Shot};
use mstation_store::{StoreError, Tenant};
use uuid::Uuid;

use mstation_core::Permission;
use mstation_store::tracking::notes::NoteOn;

use super::review::{NoteRow, note_rows};
use super::{named_steps, people, script_json};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::{Ctx, Nav, PageError, PageResult, Tr, ctx, html};

/// The colours a reviewer draws in, most seen first: red, yellow, green, blue, white, black.
const COLOURS: [(&str, &str); 6] = [
    ("#ff3b30", "colour-red"),
    ("#ffcc00", "colour-yellow"),
    ("#34c759", "colour-green"),
    ("#0a84ff", "colour-blue"),
    ("#ffffff", "colour-white"),
    ("#000000", "colour-black"),
];

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/versions/{version_id}/review", get(player))
}

#[derive(Template)]
#[template(path = "player.html")]
pub(super) struct PlayerPage {
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
    /// The version compared with, and the task's other versions (id, "v002"), newest first.
    compare: Option<Compared>,
    others: Vec<(String, String)>,
    /// What the page's script reads (`data_text`).
    pub(super) data: serde_json::Value,
    /// The review session the player plays in, when it does.
    pub(super) session: Option<super::sessions::SessionBar>,
    version_id: String,
    /// The version's notes, by frame (notes on no frame last), and whether the viewer may write one.
    notes: Vec<NoteRow>,
    can_note: bool,
    /// The drawing colours offered: `#rrggbb` and its name.
    colours: Vec<(&'static str, String)>,
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

/// A version compared with the one reviewed.
struct Compared {
    id: String,
    number: String,
    proxy: String,
    file_name: String,
    waiting: Option<String>,
}

impl PlayerPage {
    /// The script's data, safe inside `<script>`.
    fn data_text(&self) -> String {
        script_json(&self.data)
    }

    /// Whether a version is compared with and plays (its proxy made).
    fn comparing(&self) -> bool {
        self.compare.as_ref().is_some_and(|c| c.waiting.is_none())
    }
}

async fn player(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(version_id): Path<Uuid>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let field = |name: &str| {
        q.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let at = Opened::read(field("frame"), field("compare"));
    player_view(&state, &cx, version_id, at, None, String::new()).await
}

/// Where the player opens: on a production frame (its first when none, or one the file does not
/// hold), and beside another version to compare with.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Opened {
    pub frame: Option<i64>,
    pub compare: Option<Uuid>,
    /// The review session it plays in, whose page it goes back to.
    pub session: Option<Uuid>,
}

impl Opened {
    /// From a query or a form's fields as typed: what does not read is left out.
    pub(super) fn read(frame: &str, compare: &str) -> Self {
        Opened {
            frame: frame.trim().parse().ok(),
            compare: compare.trim().parse().ok(),
            session: None,
        }
    }

    /// In the review session a form names (its `session` field), if it names one.
    pub(super) fn in_session(mut self, session: &str) -> Self {
        self.session = session.trim().parse().ok();
        self
    }

    /// The player's address for `version_id`, opened here.
    pub(super) fn href(&self, version_id: Uuid) -> String {
        if let Some(s) = self.session {
            return format!("/app/review-sessions/{s}");
        }
        let mut q = Vec::new();
        if let Some(f) = self.frame {
            q.push(format!("frame={f}"));
        }
        if let Some(c) = self.compare {
            q.push(format!("compare={c}"));
        }
        match q.is_empty() {
            true => format!("/app/versions/{version_id}/review"),
            false => format!("/app/versions/{version_id}/review?{}", q.join("&")),
        }
    }
}

/// The player of the version `version_id` opened `at` a frame and a comparison, with `flash`
/// said and a refused note `typed` back in its form.
pub(super) async fn player_view(
    state: &State,
    cx: &Ctx,
    version_id: Uuid,
    at: Opened,
    flash: Option<(String, String)>,
    typed: String,
) -> PageResult {
    // In a review session: its page, on the version it is on now.
    if let Some(session) = at.session {
        return super::sessions::session_view(state, cx, session, flash, typed).await;
    }
    html(player_page(state, cx, version_id, at, flash, typed).await?)
}

/// The player's page, to draw as it is or inside a review session.
pub(super) async fn player_page(
    state: &State,
    cx: &Ctx,
    version_id: Uuid,
    at: Opened,
    flash: Option<(String, String)>,
    typed: String,
) -> Result<PlayerPage, PageError> {
    let Opened { frame, compare, .. } = at;
    let store = state.store.tenant(&cx.scope);
    let version = store.version(version_id).await?;
    let task = store.task(version.task_id).await?;
    let project = store.project(task.project_id).await?;
    let shot = match task.shot_id {
        Some(id) => Some(store.shot(id).await?),
        None => None,
    };
    let subject = subject_of(&store, &task, shot.as_ref()).await?;
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
    let shot_frames = shot.as_ref().map(frames_of);
    let a = reel(&store, version_id, &project, shot_frames).await?;
    let (first, count) = (a.first, a.count);
    // The version compared with, numbered as its own shot numbers its frames (the same frame
    // number is the same moment of the cut in both).
    let b = match compare.filter(|c| *c != version_id) {
        None => None,
        Some(id) => 'b: {
            // A version that is not the organisation's (or no longer there) is no comparison.
            let v = match store.version(id).await {
                Ok(v) => v,
                Err(mstation_store::StoreError::NotFound { .. }) => break 'b None,
                Err(e) => return Err(e.into()),
            };
            let t = store.task(v.task_id).await?;
            let p = match t.project_id == project.id {
                true => project.clone(),
                false => store.project(t.project_id).await?,
            };
            let sf = match t.shot_id {
                None => None,
                Some(s) if Some(s) == task.shot_id => shot_frames,
                Some(s) => Some(frames_of(&store.shot(s).await?)),
            };
            let r = reel(&store, id, &p, sf).await?;
            Some((v, r))
        }
    };
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
    let mut versions = store
        .versions(
            task.id,
            &mstation_store::ListQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await?
        .items;
    versions.sort_by_key(|v| std::cmp::Reverse(v.number));
    let next = versions
        .iter()
        .filter(|v| v.number > version.number)
        .map(|v| v.created_at.0)
        .min();
    all.extend(store.notes(task.id).await?.into_iter().filter(|n| {
        n.created_at.0 >= version.created_at.0 && next.is_none_or(|at| n.created_at.0 < at)
    }));
    // What was drawn, to show on its frames.
    let marks: Vec<serde_json::Value> = all
        .iter()
        .filter_map(|n| {
            let shapes = n.drawing.as_ref()?;
            Some(serde_json::json!({"frame": n.frame?, "out": n.frame_out, "shapes": shapes}))
        })
        .collect();
    // The task's other versions, newest first, to compare with.
    let others: Vec<(String, String)> = versions
        .iter()
        .filter(|v| v.id != version_id)
        .map(|v| (v.id.to_string(), format!("v{:03}", v.number)))
        .collect();
    let mut notes = note_rows(all, &names, cx);
    notes.sort_by_key(|n| (n.frame.is_none(), n.frame));
    let texts = serde_json::json!({
        "on_frame": i18n::text_args("player-note-on", &[("frame", "{frame}".into())]),
        "on_range": i18n::text_args("player-note-on-range", &[("in", "{in}".into()), ("out", "{out}".into())]),
        "range": i18n::text_args("player-note-range", &[("in", "{in}".into()), ("out", "{out}".into())]),
        "of": i18n::text_args("player-index", &[("at", "{at}".into()), ("all", "{all}".into())]),
        "loop": i18n::text_args("player-loop", &[("in", "{in}".into()), ("out", "{out}".into())]),
        "no_loop": i18n::text("player-no-loop"),
        "play": i18n::text("player-play"),
        "pause": i18n::text("player-pause"),
        "b_none": i18n::text_args("compare-no-frame", &[("frame", "{frame}".into())]),
    });
    let mut data = a.json();
    // Compared only once the other version plays.
    data["compare"] = b
        .as_ref()
        .filter(|(_, r)| r.proxy.is_some())
        .map(|(_, r)| r.json())
        .into();
    let more = serde_json::json!({
        "open_at": open_at,
        "marks": marks,
        "texts": texts,
    });
    if let (Some(d), Some(m)) = (data.as_object_mut(), more.as_object()) {
        d.extend(m.clone());
    }
    Ok(PlayerPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        project,
        subject,
        number: format!("v{:03}", version.number),
        task_id: task.id.to_string(),
        file_name: a.file_name.clone(),
        proxy: a.proxy.clone().unwrap_or_default(),
        waiting: a.waiting.clone(),
        compare: b.map(|(v, r)| Compared {
            id: v.id.to_string(),
            number: format!("v{:03}", v.number),
            proxy: r.proxy.unwrap_or_default(),
            file_name: r.file_name,
            waiting: r.waiting,
        }),
        others,
        data,
        version_id: version_id.to_string(),
        notes,
        can_note: cx.scope.can(Permission::Review),
        colours: COLOURS
            .iter()
            .map(|(c, key)| (*c, i18n::text(key)))
            .collect(),
        csrf: cx.csrf.clone(),
        approve,
        retake,
        task_version: task.version,
        status,
        typed,
        session: None,
    })
}

/// What a task's versions are of: "SQ010_0010 · Comp" (its shot or asset, and its step).
async fn subject_of(
    store: &Tenant<'_>,
    task: &mstation_store::tracking::tasks::Task,
    shot: Option<&Shot>,
) -> Result<String, StoreError> {
    let on = match (shot, task.shot_id, task.asset_id) {
        (Some(s), _, _) => s.name.clone(),
        (None, Some(s), _) => store.shot(s).await?.name,
        (None, None, Some(a)) => store.asset(a).await?.name,
        (None, None, None) => String::new(),
    };
    let step = named_steps(store.task_types(task.project_id).await?)
        .into_iter()
        .find(|t| t.id == task.task_type_id)
        .map(|t| t.name)
        .unwrap_or_default();
    Ok(if step.is_empty() {
        on
    } else {
        format!("{on} · {step}")
    })
}

/// A version as a log names it: "SQ010_0010 · Comp v003"; empty once it is gone.
pub(crate) async fn version_label(
    store: &Tenant<'_>,
    version_id: Uuid,
) -> Result<String, StoreError> {
    let version = match store.version(version_id).await {
        Ok(v) => v,
        Err(StoreError::NotFound { .. }) => return Ok(String::new()),
        Err(e) => return Err(e),
    };
    let task = store.task(version.task_id).await?;
    let subject = subject_of(store, &task, None).await?;
    Ok(format!("{subject} v{:03}", version.number)
        .trim()
        .to_string())
}

/// The production frame the player opens the version `version_id` on: its file's first.
pub(crate) async fn first_frame_of(
    store: &Tenant<'_>,
    version_id: Uuid,
) -> Result<i64, StoreError> {
    Ok(proxy_frames(store, version_id).await?.first)
}

/// Where a version's production frames are in the file it plays: the proxy's address (none
/// until it is made), the production frame of its first frame, its rate and its frames.
pub(crate) struct ProxyFrames {
    pub proxy: Option<String>,
    pub first: i64,
    pub fps: [i64; 2],
    pub count: i64,
}

pub(crate) async fn proxy_frames(
    store: &Tenant<'_>,
    version_id: Uuid,
) -> Result<ProxyFrames, StoreError> {
    let version = store.version(version_id).await?;
    let task = store.task(version.task_id).await?;
    let project = store.project(task.project_id).await?;
    let shot = match task.shot_id {
        Some(id) => Some(frames_of(&store.shot(id).await?)),
        None => None,
    };
    let r = reel(store, version_id, &project, shot).await?;
    Ok(ProxyFrames {
        proxy: r.proxy,
        first: r.first,
        fps: r.fps,
        count: r.count,
    })
}

fn frames_of(s: &Shot) -> ShotFrames {
    ShotFrames {
        cut_in: s.cut_in,
        cut_out: s.cut_out,
        head_handles: s.head_handles,
        tail_handles: s.tail_handles,
        source_in: s.source_in,
    }
}

/// A version's picture as the player plays it: the file (its proxy, or why none plays yet), its
/// rate and frames, the production frame of its first frame and its source timecode.
struct Reel {
    file_name: String,
    proxy: Option<String>,
    waiting: Option<String>,
    fps: [i64; 2],
    count: i64,
    first: i64,
    tc0: Option<i64>,
    drop_frame: bool,
    nominal: u32,
}

impl Reel {
    /// As the page's script reads it.
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "proxy": self.proxy,
            "fps": self.fps,
            "frames": self.count,
            "first": self.first,
            "tc0": self.tc0,
            "drop": self.drop_frame,
            "nominal": self.nominal,
        })
    }
}

/// The reel of the version `version_id`, numbered as the shot `shot_frames` (none: an asset's)
/// of `project` numbers its frames.
async fn reel(
    store: &Tenant<'_>,
    version_id: Uuid,
    project: &Project,
    shot_frames: Option<ShotFrames>,
) -> Result<Reel, StoreError> {
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
    let first = frames::first_frame(
        shot_frames,
        tc0.filter(|_| project_rate == known),
        count,
        project.start_frame,
    );
    Ok(Reel {
        file_name: file.map(|f| f.name.clone()).unwrap_or_default(),
        proxy: playable.map(|f| format!("/api/v1/media/{}/proxy", f.id)),
        waiting,
        fps,
        count,
        first,
        tc0,
        drop_frame,
        nominal: rate.nominal(),
    })
}
