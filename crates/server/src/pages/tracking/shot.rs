//! A shot's page: its place in the cut and the editor's locators on it, its tasks by pipeline
//! step, its notes (and a form for one), the versions of its tasks, the assets cast in it, its
//! custom fields, and a timeline.
//!
//! The timeline is the shot's notes, its tasks' notes and their versions, newest first: the
//! audit log has no index by entity, so the project's feed filtered to one shot would scan the
//! project's whole history; these come from indexed reads by shot.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::tracking::fields::{FieldEntity, FieldKind};
use mstation_core::tracking::timecode::{Rate, Timecode};
use mstation_store::StoreError;
use mstation_store::tracking::notes::{Note, NoteOn};
use mstation_store::tracking::{Project, Sequence, Shot};
use uuid::Uuid;

use super::{answered, flash_of, need, people, review};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/shots/{shot_id}", get(shot_page))
        .route("/app/shots/{shot_id}/notes", post(shot_note))
        .route("/app/shots/{shot_id}/fields", post(shot_fields))
}

/// The most versions the page lists, and the most entries its timeline shows.
const SHOT_PAGE_LIST: u32 = 50;

/// One task of the shot, in pipeline order.
struct TaskRow {
    id: String,
    step: String,
    step_color: String,
    status: String,
    color: String,
    assignees: String,
    due: String,
}

struct VersionRow {
    number: String,
    task_id: String,
    step: String,
    author: String,
    when: String,
    comment: String,
}

/// A locator of the shot, as the cut marked it.
struct LocatorRow {
    /// A frame of the shot, as its cut in and out count.
    frame: i64,
    /// Its record timecode, when the shot has a place on the record timeline.
    timecode: Option<String>,
    /// A CSS colour for its dot; empty for none (the dot's own grey).
    css: &'static str,
    /// The colour's name in the viewer's language.
    colour: String,
    text: String,
}

struct CastRow {
    id: String,
    name: String,
    kind: String,
    count: Option<i64>,
}

/// A custom field of the project's shots with this shot's value.
struct FieldRow {
    key: String,
    name: String,
    /// `text`, `number`, `date` or `choice`.
    kind: String,
    /// The value as the form takes it back; empty when unset.
    value: String,
    choices: Vec<String>,
}

/// One entry of the timeline, newest first.
struct EventRow {
    at: i64,
    when: String,
    who: String,
    /// The sentence around the subject, in the viewer's language (`super::sentence`).
    before: String,
    subject: String,
    after: String,
    link: Option<String>,
    /// (from, its colour, to, its colour) when a note changed the task's status.
    change: Option<(String, String, String, String)>,
    body: String,
}

#[derive(Template)]
#[template(path = "shot.html")]
struct ShotPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    /// The note form: empty, or as typed when the note was refused.
    note_form: super::NoteTyped,
    csrf: String,
    project: Project,
    sequence: Sequence,
    shot: Shot,
    omitted: bool,
    status_label: String,
    /// The first and last frame with the handles, and how many frames that is.
    with_handles: (i64, i64, i64),
    /// Record in and out as timecode (out exclusive, as in the EDL).
    record: Option<(String, String)>,
    /// Source in and out timecodes, as the cut gave them.
    source: Option<(String, String)>,
    locators: Vec<LocatorRow>,
    tasks: Vec<TaskRow>,
    notes: Vec<review::NoteRow>,
    versions: Vec<VersionRow>,
    versions_total: i64,
    /// Said when the list shows only the latest of more versions.
    versions_more: Option<String>,
    cast: Vec<CastRow>,
    /// The camera files holding the shot's source.
    camera: Vec<CameraRow>,
    fields: Vec<FieldRow>,
    events: Vec<EventRow>,
    /// Notes on the shot.
    can_note: bool,
    /// Its custom values.
    can_plan: bool,
}

/// A camera file holding the shot: its name, what ffprobe read, and where the shot starts in it.
struct CameraRow {
    id: String,
    name: String,
    /// Reel and start timecode, as the camera wrote them.
    reel: String,
    timecode: String,
    /// "starts 2.000 s in (frame 48)".
    starts: String,
    /// Seconds into the proxy, for the player's `#t=`.
    seek: String,
    poster: bool,
    proxy: bool,
}

/// A frame count as timecode at the project's rate; drop-frame when the shot's source
/// timecode is (the only trace the cut left of its counting), as the editor would read it.
fn timecode(frames: i64, rate: Rate, drop_frame: bool) -> String {
    Timecode::from_frames(frames, rate, drop_frame).to_string()
}

/// A locator colour (`edl::LOCATOR_COLOURS`) as CSS names it, and the key of its name.
fn locator_colour(colour: Option<&str>) -> (&'static str, &'static str) {
    match colour {
        Some("RED") => ("red", "shot-locator-red"),
        Some("GREEN") => ("green", "shot-locator-green"),
        Some("BLUE") => ("blue", "shot-locator-blue"),
        Some("CYAN") => ("cyan", "shot-locator-cyan"),
        Some("MAGENTA") => ("magenta", "shot-locator-magenta"),
        Some("YELLOW") => ("yellow", "shot-locator-yellow"),
        Some("BLACK") => ("black", "shot-locator-black"),
        Some("WHITE") => ("white", "shot-locator-white"),
        Some("PINK") => ("pink", "shot-locator-pink"),
        Some("ORANGE") => ("orange", "shot-locator-orange"),
        Some("PURPLE") => ("purple", "shot-locator-purple"),
        _ => ("", "shot-locator-no-colour"),
    }
}

/// A stored custom value as the page shows it and its form takes it back.
fn value_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

async fn shot_view(
    state: &State,
    cx: &Ctx,
    shot_id: Uuid,
    flash: Option<(String, String)>,
    note_form: super::NoteTyped,
) -> PageResult {
    need(cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let shot = store.shot(shot_id).await?;
    let project = store.project(shot.project_id).await?;
    let sequence = store.sequence(shot.sequence_id).await?;
    let types = super::named_steps(store.task_types(project.id).await?);
    let statuses = super::named_statuses(store.task_statuses(project.id).await?);
    let names: HashMap<Uuid, String> = people(state, cx).await?.into_iter().collect();
    let name_of = |id: Uuid| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| i18n::text("someone"))
    };
    let step_of = |type_id: Uuid| types.iter().find(|t| t.id == type_id);
    let status_of = |id: Uuid| statuses.iter().find(|s| s.id == id);

    // The store lists a shot's tasks in pipeline order.
    let shot_tasks = store.shot_tasks(shot_id).await?;
    let step_of_task: HashMap<Uuid, String> = shot_tasks
        .iter()
        .map(|t| {
            let step = step_of(t.task_type_id)
                .map(|y| y.name.clone())
                .unwrap_or_default();
            (t.id, step)
        })
        .collect();
    let tasks = shot_tasks
        .iter()
        .map(|t| {
            let ty = step_of(t.task_type_id);
            let st = status_of(t.status_id);
            TaskRow {
                id: t.id.to_string(),
                step: ty.map(|y| y.name.clone()).unwrap_or_default(),
                step_color: ty.map(|y| y.color.clone()).unwrap_or_default(),
                status: st.map(|s| s.name.clone()).unwrap_or_default(),
                color: st.map(|s| s.color.clone()).unwrap_or_default(),
                assignees: t
                    .assignees
                    .split_whitespace()
                    .filter_map(|u| Uuid::parse_str(u).ok())
                    .filter_map(|u| names.get(&u).cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
                due: t.due_date.clone().unwrap_or_default(),
            }
        })
        .collect();

    let shot_notes = store.entity_notes(NoteOn::Shot(shot_id)).await?;
    let task_notes = store.shot_task_notes(shot_id, SHOT_PAGE_LIST).await?;
    let (versions, versions_total) = store.shot_versions(shot_id, SHOT_PAGE_LIST).await?;

    let mut events: Vec<EventRow> = Vec::new();
    let note_event = |n: &Note, subject: String, link: Option<String>| {
        let change = match (
            n.status_from.and_then(status_of),
            n.status_to.and_then(status_of),
        ) {
            (Some(a), Some(b)) => Some((
                a.name.clone(),
                a.color.clone(),
                b.name.clone(),
                b.color.clone(),
            )),
            _ => None,
        };
        let (before, after) = super::sentence("note.created", Vec::new());
        EventRow {
            at: n.created_at.0,
            when: cx.time(n.created_at.0),
            who: name_of(n.author_id),
            before,
            subject,
            after,
            link,
            change,
            body: n.body.chars().take(280).collect(),
        }
    };
    for n in &shot_notes {
        events.push(note_event(n, shot.name.clone(), None));
    }
    for n in &task_notes {
        let Some(task_id) = n.task_id else { continue };
        let step = step_of_task.get(&task_id).cloned().unwrap_or_default();
        events.push(note_event(n, step, Some(format!("/app/tasks/{task_id}"))));
    }
    for v in &versions {
        let step = step_of_task.get(&v.task_id).cloned().unwrap_or_default();
        let number = format!("v{:03}", v.number);
        let (before, after) = super::sentence("version.created", vec![("version", number.into())]);
        events.push(EventRow {
            at: v.created_at.0,
            when: cx.time(v.created_at.0),
            who: name_of(v.author_id),
            before,
            subject: step,
            after,
            link: Some(format!("/app/tasks/{}", v.task_id)),
            change: None,
            body: v.comment.chars().take(280).collect(),
        });
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    events.truncate(SHOT_PAGE_LIST as usize);

    let notes = review::note_rows(shot_notes, &names, cx);
    let versions = versions
        .into_iter()
        .map(|v| VersionRow {
            number: format!("v{:03}", v.number),
            task_id: v.task_id.to_string(),
            step: step_of_task.get(&v.task_id).cloned().unwrap_or_default(),
            author: name_of(v.author_id),
            when: cx.time(v.created_at.0),
            comment: v.comment,
        })
        .collect();
    let cast = store
        .shot_assets(shot_id)
        .await?
        .into_iter()
        .map(|a| CastRow {
            id: a.asset_id.to_string(),
            kind: i18n::text(&format!("asset-kind-{}", a.kind)),
            name: a.name,
            count: a.count,
        })
        .collect();
    let values = store.field_values(FieldEntity::Shot, shot_id).await?;
    let fields = store
        .custom_fields(project.id, Some(FieldEntity::Shot))
        .await?
        .into_iter()
        .map(|f| FieldRow {
            value: value_text(values.get(&f.key)),
            choices: f
                .choices
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            key: f.key,
            name: f.name,
            kind: f.kind,
        })
        .collect();

    let drop_frame = shot
        .source_in_tc
        .as_deref()
        .is_some_and(|tc| tc.contains([';', '.']));
    let record = match (shot.record_in, shot.record_out, project.rate()) {
        (Some(i), Some(o), Some(rate)) => {
            Some((timecode(i, rate, drop_frame), timecode(o, rate, drop_frame)))
        }
        _ => None,
    };
    let locators = store
        .shot_locators(shot_id)
        .await?
        .into_iter()
        .map(|l| {
            let (css, name) = locator_colour(l.colour.as_deref());
            LocatorRow {
                // As far into the record as the locator is into the shot.
                timecode: match (shot.record_in, project.rate()) {
                    (Some(i), Some(rate)) => {
                        Some(timecode(i + (l.frame - shot.cut_in), rate, drop_frame))
                    }
                    _ => None,
                },
                css,
                colour: i18n::text(name),
                frame: l.frame,
                text: l.text,
            }
        })
        .collect();
    let camera = store
        .shot_camera_files(shot_id)
        .await?
        .into_iter()
        .map(|c| {
            let p = c.file.probe.clone();
            CameraRow {
                id: c.file.id.to_string(),
                name: c.file.path.clone().unwrap_or_else(|| c.file.name.clone()),
                reel: p.as_ref().and_then(|p| p.reel.clone()).unwrap_or_default(),
                timecode: p.and_then(|p| p.timecode).unwrap_or_default(),
                starts: i18n::text_args(
                    "shot-camera-starts",
                    &[
                        ("seconds", format!("{:.3}", c.offset_seconds).into()),
                        ("frame", c.offset_frames.into()),
                    ],
                ),
                // The middle of the shot's first frame, so rounding never shows the one before.
                seek: format!(
                    "{:.3}",
                    (c.offset_frames as f64 + 0.5) * c.fps[1] as f64 / c.fps[0].max(1) as f64
                ),
                poster: c.file.poster_hash.is_some(),
                proxy: c.file.proxy_hash.is_some(),
            }
        })
        .collect();
    let first = shot.cut_in - shot.head_handles;
    let last = shot.cut_out + shot.tail_handles;
    let omitted = shot.status == mstation_core::tracking::conform::OMITTED;
    html(ShotPage {
        note_form,
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        status_label: i18n::text(if omitted {
            "shot-status-omitted"
        } else {
            "shot-status-active"
        }),
        omitted,
        with_handles: (first, last, last - first + 1),
        record,
        source: shot.source_in_tc.clone().zip(shot.source_out_tc.clone()),
        locators,
        tasks,
        notes,
        versions_more: (versions_total > i64::from(SHOT_PAGE_LIST))
            .then(|| i18n::text_args("shot-versions-latest", &[("count", SHOT_PAGE_LIST.into())])),
        versions,
        versions_total,
        cast,
        camera,
        fields,
        events,
        can_note: cx.scope.can(Permission::Review),
        can_plan: cx.scope.can(Permission::PlanProduction),
        project,
        sequence,
        shot,
    })
}

async fn shot_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(shot_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    shot_view(&state, &cx, shot_id, None, Default::default()).await
}

async fn shot_note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(shot_id): Path<Uuid>,
    axum::Form(f): axum::Form<review::NoteForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::Review)?;
    match review::write_note(&state, &cx, NoteOn::Shot(shot_id), &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/shots/{shot_id}#notes")).into_response()),
        Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            let status = e.status();
            answered(
                shot_view(&state, &cx, shot_id, Some(flash_of(e)), f.typed()).await,
                status,
            )
        }
    }
}

/// The custom-values form: `csrf`, then `f.<key>` for each field's new value and `was.<key>`
/// for the value the page showed. Only the values changed on the page are written, so a field
/// someone else set meanwhile keeps their value unless this form changed it too.
async fn shot_fields(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(shot_id): Path<Uuid>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    cx.check_csrf(csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let was: HashMap<&str, &str> = pairs
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("was.")?, v.as_str())))
        .collect();
    let mut changed = serde_json::Map::new();
    for (k, v) in &pairs {
        let Some(key) = k.strip_prefix("f.") else {
            continue;
        };
        if was.get(key).copied() == Some(v.as_str()) {
            continue;
        }
        let value = match v.trim() {
            "" => serde_json::Value::Null,
            s => serde_json::Value::String(s.to_string()),
        };
        changed.insert(key.to_string(), value);
    }
    let store = state.store.tenant(&cx.scope);
    let done = if changed.is_empty() {
        // Nothing to write; the shot must still be the caller's.
        store.shot(shot_id).await.map(|_| ())
    } else {
        store
            .set_field_values(FieldEntity::Shot, shot_id, &changed)
            .await
            .map(|_| ())
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/shots/{shot_id}#fields")).into_response()),
        Err(e @ StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => shot_view(&state, &cx, shot_id, Some(flash_of(e)), Default::default()).await,
    }
}

/// What the template needs to pick an input for a field kind.
impl FieldRow {
    fn input_type(&self) -> &'static str {
        match FieldKind::parse(&self.kind) {
            Some(FieldKind::Date) => "date",
            _ => "text",
        }
    }
    fn is_choice(&self) -> bool {
        self.kind == FieldKind::Choice.as_str()
    }
    fn is_number(&self) -> bool {
        self.kind == FieldKind::Number.as_str()
    }
}
