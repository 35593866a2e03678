//! The production pages: projects, a project's sequences, the shot grid (rows = shots, columns =
//! task types) with inline and bulk status changes kept live by the event stream, the editorial
//! import with its diff preview, a task with its notes, versions and time logs, and "my tasks".
//!
//! The grid is rendered whole on the server; `grid.js` adds the inline edits, filters, sorting,
//! bulk selection and live updates through the JSON API and `/api/v1/events`, so every change a
//! page makes goes through the same rules as any other client's. The asset pages are in `assets`.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::tracking::conform::Conform;
use mstation_core::tracking::fields::FieldEntity;
use mstation_core::tracking::review::{self as review_status, Verdict};
use mstation_core::tracking::timecode::Rate;
use mstation_core::{Permission, Role};
use mstation_store::ListQuery;
use mstation_store::tracking::mine::{MyTaskCounts, MyTasksAfter, MyTasksFilter};
use mstation_store::tracking::tasks::{NewTask, Task, TaskStatus, TaskType};
use mstation_store::tracking::timelogs::TimeLogFilter;
use mstation_store::tracking::{NewProject, Project, Sequence, Shot};
use serde::Deserialize;
use uuid::Uuid;

use super::{Ctx, Nav, PageError, PageResult, Tr, ctx, html};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;
use grid::{GridView, PersonPick, Show};

mod assets;
mod fields;
mod grid;
mod overview;
pub(crate) mod player;
mod review;
mod sessions;
mod shot;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    let r = r
        .route("/app/projects", get(projects).post(create_project))
        .route("/app/projects/{project_id}", get(project))
        .route(
            "/app/projects/{project_id}/sequences",
            post(create_sequence),
        )
        .route("/app/projects/{project_id}/shots", get(grid))
        .route("/app/projects/{project_id}/views", post(save_grid_view))
        .route("/app/views/{view_id}/delete", post(delete_grid_view))
        .route(
            "/app/sequences/{sequence_id}/import",
            get(import_page).post(import_submit),
        )
        .route("/app/sequences/{sequence_id}/add-tasks", post(add_tasks))
        .route("/app/tasks/{task_id}", get(task_page))
        .route("/app/tasks/{task_id}/notes", post(task_note))
        .route("/app/tasks/{task_id}/versions", post(task_version))
        .route("/app/tasks/{task_id}/time-logs", post(task_time_log))
        .route("/app/tasks/{task_id}/assignees", post(task_assignee))
        .route("/app/tasks/{task_id}/plan", post(task_plan))
        .route("/app/my-tasks", get(my_tasks))
        .route("/app/projects/{project_id}/activity", get(project_activity))
        .route("/app/people/{user}/activity", get(person_activity));
    let r = shot::routes(r);
    let r = overview::routes(r);
    let r = review::routes(r);
    let r = player::routes(r);
    let r = sessions::routes(r);
    let r = fields::routes(r);
    assets::routes(r)
}

/// The most shots one grid shows; a bigger project is looked at a sequence at a time.
pub(super) const GRID_MAX_SHOTS: usize = 5_000;

/// A playlist's page, with a share link just made (recipient, address) shown this once.
pub(in crate::pages) async fn playlist_page_with(
    state: &State,
    cx: &Ctx,
    playlist_id: Uuid,
    flash: Option<(String, String)>,
    shared: Option<(String, String)>,
) -> PageResult {
    review::playlist_view_shared(state, cx, playlist_id, flash, shared).await
}

pub(in crate::pages) fn need(cx: &Ctx, p: Permission) -> Result<(), PageError> {
    cx.need(p)
}

/// A status's name in the viewer's language: the catalog's word for a status of the default
/// workflow that nobody renamed; the project's own name (its data) otherwise.
pub(crate) fn status_name(short: &str, name: &str) -> String {
    use mstation_store::tracking::tasks::DEFAULT_STATUSES;
    default_word(
        "status",
        DEFAULT_STATUSES.iter().map(|d| (d.0, d.1)),
        short,
        name,
    )
}

/// `name` in the viewer's language when it is the default `(short, name)` it was created with:
/// the catalog's `{prefix}-{short}`; as written otherwise.
fn default_word<'a>(
    prefix: &str,
    mut defaults: impl Iterator<Item = (&'a str, &'a str)>,
    short: &str,
    name: &str,
) -> String {
    match defaults.find(|d| d.0 == short) {
        Some(d) if d.1 == name => {
            i18n::try_text(&format!("{prefix}-{short}")).unwrap_or_else(|| name.to_string())
        }
        _ => name.to_string(),
    }
}

/// A status's chip in the grid: a short word of the viewer's language for a status of the
/// default workflow; a project's own short name as written.
pub(crate) fn status_chip(short: &str) -> String {
    i18n::try_text(&format!("status-chip-{short}")).unwrap_or_else(|| short.to_string())
}

/// A pipeline step's name in the viewer's language, as [`status_name`] for statuses.
pub(crate) fn step_name(short: &str, name: &str) -> String {
    use mstation_store::tracking::tasks::default_steps;
    default_word("step", default_steps().map(|d| (d.0, d.1)), short, name)
}

/// A pipeline step known only by its name: the default step of that name is named in the
/// viewer's language.
pub(crate) fn step_named(name: &str) -> String {
    use mstation_store::tracking::tasks::default_steps;
    match default_steps().find(|d| d.1 == name) {
        Some(d) => step_name(d.0, name),
        None => name.to_string(),
    }
}

/// A project's statuses, named in the viewer's language ([`status_name`]).
pub(crate) fn named_statuses(mut v: Vec<TaskStatus>) -> Vec<TaskStatus> {
    for s in &mut v {
        s.name = status_name(&s.short_name, &s.name);
    }
    v
}

/// A project's steps for shots, named in the viewer's language.
pub(crate) fn shot_steps(v: Vec<TaskType>) -> Vec<TaskType> {
    named_steps(v.into_iter().filter(|t| !t.is_for_assets()).collect())
}

/// A project's pipeline steps, named in the viewer's language ([`step_name`]).
pub(crate) fn named_steps(mut v: Vec<TaskType>) -> Vec<TaskType> {
    for t in &mut v {
        t.name = step_name(&t.short_name, &t.name);
    }
    v
}

/// A store or rule error shown as a flash on the page that caused it: its title, then its
/// detail (which names the field when one was refused).
pub(in crate::pages) fn flash_of(e: impl Into<ApiError>) -> (String, String) {
    let e: ApiError = e.into();
    (
        "error".into(),
        format!("{}: {}", e.title(), e.page_detail()),
    )
}

fn fps_label(p: &Project) -> String {
    match p.rate() {
        Some(r) => r.to_string(),
        None => format!("{}/{}", p.fps_num, p.fps_den),
    }
}

/// Every member of the organisation: id → display name.
pub(in crate::pages) async fn people(
    state: &State,
    cx: &Ctx,
) -> Result<Vec<(Uuid, String)>, PageError> {
    Ok(members_named(state, &cx.scope).await?)
}

/// Every member of the scope's organisation: id and display name.
pub(crate) async fn members_named(
    state: &State,
    scope: &mstation_core::TenantScope,
) -> Result<Vec<(Uuid, String)>, mstation_store::StoreError> {
    let mut out = Vec::new();
    let mut q = ListQuery {
        limit: 500,
        ..Default::default()
    };
    loop {
        let page = state.store.tenant(scope).members(&q, None).await?;
        out.extend(
            page.items
                .iter()
                .map(|m| (m.user_id, m.display_name.clone())),
        );
        match page.next_cursor {
            Some(c) if page.items.len() == 500 => {
                q.after = mstation_core::page::Cursor::decode(&c).map(|c| c.id);
                if q.after.is_none() {
                    break;
                }
            }
            _ => break,
        }
    }
    Ok(out)
}

/// Short initials for a grid cell: "Li Wei" → "LW", "王芳" → "王芳".
pub(super) fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() > 1 {
        words
            .iter()
            .filter_map(|w| w.chars().next())
            .take(3)
            .collect::<String>()
            .to_uppercase()
    } else {
        name.chars().take(2).collect()
    }
}

/// JSON for a `<script type="application/json">` block: `<` escaped, so no text can end it.
pub(in crate::pages) fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

// ---------------------------------------------------------------------------------------------
// Projects

struct ProjectRow {
    id: String,
    name: String,
    code: String,
    fps: String,
    resolution: String,
    status_label: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    rows: Vec<ProjectRow>,
    can_manage: bool,
}

async fn projects_page(state: &State, cx: &Ctx, flash: Option<(String, String)>) -> PageResult {
    let q = ListQuery {
        limit: 500,
        descending: true,
        ..Default::default()
    };
    let page = state.store.tenant(&cx.scope).projects(None, &q).await?;
    let tr = Tr::now();
    let rows = page
        .items
        .iter()
        .map(|p| ProjectRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            code: p.code.clone(),
            fps: fps_label(p),
            resolution: format!("{}×{}", p.width, p.height),
            status_label: tr.t(&format!("project-status-{}", p.status)),
        })
        .collect();
    html(ProjectsPage {
        tr,
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        rows,
        can_manage: cx.scope.can(Permission::ManageProduction),
    })
}

async fn projects(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    projects_page(&state, &cx, None).await
}

#[derive(Deserialize)]
struct ProjectForm {
    csrf: String,
    name: String,
    code: String,
    fps: String,
    width: i64,
    height: i64,
}

async fn create_project(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<ProjectForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::ManageProduction)?;
    let Ok(rate) = Rate::parse(&f.fps) else {
        return projects_page(
            &state,
            &cx,
            Some(flash_of(ApiError::invalid("fps", "unknown_frame_rate"))),
        )
        .await;
    };
    let new = NewProject {
        name: f.name,
        code: f.code,
        rate,
        width: f.width,
        height: f.height,
        start_frame: None,
        head_handles: None,
        tail_handles: None,
        start_date: None,
        end_date: None,
    };
    match state.store.tenant(&cx.scope).create_project(new).await {
        Ok(p) => Ok(Redirect::to(&format!("/app/projects/{}", p.id)).into_response()),
        Err(e) => projects_page(&state, &cx, Some(flash_of(e))).await,
    }
}

// ---------------------------------------------------------------------------------------------
// One project: its sequences, each with its shots' task statuses as a bar.

struct Segment {
    color: String,
    label: String,
    count: i64,
    percent: String,
}

struct SequenceRow {
    id: String,
    name: String,
    description: String,
    shots: i64,
    tasks: i64,
    bar: Vec<Segment>,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    fps: String,
    rows: Vec<SequenceRow>,
    legend: Vec<(String, String)>,
    can_manage: bool,
    /// How many of the crew the project credited, in words, for those who may credit them.
    credited: Option<String>,
    /// The credits given: id, the person, what they did and when, whether withdrawn.
    credits: Vec<CreditLine>,
}

pub(super) async fn all_sequences(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
) -> Result<Vec<Sequence>, PageError> {
    let q = ListQuery {
        limit: 500,
        ..Default::default()
    };
    Ok(state
        .store
        .tenant(&cx.scope)
        .sequences(project_id, &q)
        .await?
        .items)
}

/// A credit the project gave, as its page lists it.
struct CreditLine {
    id: String,
    name: String,
    work: String,
    days: String,
    withdrawn: bool,
}

pub(in crate::pages) async fn project_page(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    flash: Option<(String, String)>,
) -> PageResult {
    let project = state.store.tenant(&cx.scope).project(project_id).await?;
    // What the crew's credits stand at, for those who may give them.
    let (credited, credits) = if cx.scope.can(Permission::ManageProduction) {
        let given = state
            .store
            .tenant(&cx.scope)
            .project_credits(project_id)
            .await?;
        let standing = given.iter().filter(|c| c.withdrawn_at.is_none()).count();
        let lines = given
            .iter()
            .map(|c| CreditLine {
                id: c.id.to_string(),
                name: c.name.clone().unwrap_or_default(),
                work: c.work.join(", "),
                days: match (&c.starts_on, &c.ends_on) {
                    (Some(s), Some(e)) if s != e => format!("{s} – {e}"),
                    (Some(s), _) | (None, Some(s)) => s.clone(),
                    (None, None) => String::new(),
                },
                withdrawn: c.withdrawn_at.is_some(),
            })
            .collect();
        (
            Some(i18n::text_args(
                "talent-crew-credited",
                &[("count", standing.into())],
            )),
            lines,
        )
    } else {
        (None, Vec::new())
    };
    let statuses = named_statuses(
        state
            .store
            .tenant(&cx.scope)
            .task_statuses(project_id)
            .await?,
    );
    // One grouped read for every sequence's counts, and one for their descriptions.
    let progress = state.store.tenant(&cx.scope).progress(project_id).await?;
    let descriptions: HashMap<Uuid, String> = all_sequences(state, cx, project_id)
        .await?
        .into_iter()
        .map(|s| (s.id, s.description))
        .collect();
    let rows = progress
        .sequences
        .into_iter()
        .map(|s| {
            let counts: HashMap<Uuid, i64> =
                s.by_status.iter().map(|c| (c.status_id, c.count)).collect();
            let bar = statuses
                .iter()
                .filter_map(|st| {
                    let n = *counts.get(&st.id)?;
                    Some(Segment {
                        color: st.color.clone(),
                        label: st.name.clone(),
                        count: n,
                        percent: format!("{:.2}", 100.0 * n as f64 / s.tasks.max(1) as f64),
                    })
                })
                .collect();
            SequenceRow {
                id: s.sequence_id.to_string(),
                description: descriptions
                    .get(&s.sequence_id)
                    .cloned()
                    .unwrap_or_default(),
                name: s.name,
                shots: s.shots,
                tasks: s.tasks,
                bar,
            }
        })
        .collect();
    html(ProjectPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        fps: fps_label(&project),
        project,
        rows,
        legend: statuses
            .iter()
            .map(|s| (s.color.clone(), s.name.clone()))
            .collect(),
        credited,
        credits,
        can_manage: cx.scope.can(Permission::PlanProduction),
    })
}

async fn project(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    project_page(&state, &cx, project_id, None).await
}

#[derive(Deserialize)]
struct SequenceForm {
    csrf: String,
    name: String,
    #[serde(default)]
    description: String,
}

async fn create_sequence(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<SequenceForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    match state
        .store
        .tenant(&cx.scope)
        .create_sequence(project_id, &f.name, &f.description)
        .await
    {
        Ok(s) => Ok(Redirect::to(&format!("/app/sequences/{}/import", s.id)).into_response()),
        Err(e) => project_page(&state, &cx, project_id, Some(flash_of(e))).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The shot grid

pub(super) struct Cell {
    pub(super) task_id: String,
    pub(super) version: i64,
    pub(super) status_id: String,
    pub(super) short: String,
    pub(super) color: String,
    /// The chip's text colour, black or white, whichever reads on `color`.
    pub(super) ink: &'static str,
    pub(super) rank: i64,
    pub(super) people: String,
    pub(super) people_full: String,
    /// The assignees' user ids, space-separated, for adding or removing one person.
    pub(super) assignees: String,
    /// Whether the viewer is one of the task's assignees (artists set statuses only on these).
    pub(super) mine: bool,
    /// The due date, `YYYY-MM-DD`, or empty.
    pub(super) due: String,
    /// Open work due before today.
    pub(super) overdue: bool,
    pub(super) priority: i64,
    /// The priority in words.
    pub(super) priority_word: String,
    /// Whether the grid's filters on tasks leave this cell out (it is shown dimmed).
    pub(super) dim: bool,
    /// The task's newest playable version and its file: a thumbnail opening the review player.
    pub(super) review: Option<(String, String)>,
}

struct GridRow {
    id: String,
    name: String,
    /// The media file whose poster stands for the shot (its newest version's), if any.
    poster: Option<String>,
    sequence: String,
    order: usize,
    frames: i64,
    clip: String,
    cells: Vec<Option<Cell>>,
    /// The shown custom fields' values, in column order.
    fields: Vec<String>,
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    sequences: Vec<(String, String)>,
    selected: String,
    types: Vec<TaskType>,
    statuses: Vec<TaskStatus>,
    people: Vec<(String, String)>,
    rows: Vec<GridRow>,
    truncated: bool,
    /// Whether the viewer may change anything here (rows can be picked).
    can_write: bool,
    /// Whether the viewer may plan: assign people, add tasks.
    can_plan: bool,
    /// The statuses the viewer's role may set.
    settable: Vec<TaskStatus>,
    data: String,
    /// The view as the address gave it, and its query (empty for the plain grid).
    view: GridView,
    query: String,
    /// The project's assets, for the asset filter: (id, name).
    assets: Vec<(String, String)>,
    /// The custom fields of shots: (key, name), all of them and the shown ones.
    fields: Vec<(String, String)>,
    shown_fields: Vec<(String, String)>,
    /// The viewer's saved views of this grid: (id, name, query).
    views: Vec<(String, String, String)>,
    /// Whether the viewer may keep saved views.
    can_keep_views: bool,
}

impl GridPage {
    /// Whether a shot shown has a poster: then every row keeps a place for one.
    fn thumbs(&self) -> bool {
        self.rows.iter().any(|r| r.poster.is_some())
    }
    fn shows_due(&self) -> bool {
        self.view.shows(&Show::Due)
    }
    fn shows_priority(&self) -> bool {
        self.view.shows(&Show::Priority)
    }
    /// Whether the custom field of `key` is a column (a field may be keyed `due` too).
    fn shows_field(&self, key: &str) -> bool {
        self.view.shows(&Show::Field(key.to_string()))
    }
    fn person(&self) -> String {
        self.view.person.map(|p| p.value()).unwrap_or_default()
    }
    fn due(&self) -> &'static str {
        self.view.due.map(DuePick::value).unwrap_or_default()
    }
    fn asset(&self) -> String {
        self.view.asset.map(|a| a.to_string()).unwrap_or_default()
    }
    fn status(&self) -> String {
        self.view.status.map(|s| s.to_string()).unwrap_or_default()
    }
}

pub(super) fn cell_of(
    t: &Task,
    statuses: &HashMap<Uuid, &TaskStatus>,
    names: &HashMap<Uuid, String>,
    me: Uuid,
    today: &str,
) -> Cell {
    let st = statuses.get(&t.status_id);
    let who: Vec<&str> = t
        .assignees
        .split_whitespace()
        .filter_map(|u| Uuid::parse_str(u).ok())
        .filter_map(|u| names.get(&u).map(String::as_str))
        .collect();
    let finished = st.is_some_and(|s| s.is_done || s.client_approved);
    let due = t.due_date.clone().unwrap_or_default();
    let color = st.map(|s| s.color.clone()).unwrap_or_default();
    Cell {
        task_id: t.id.to_string(),
        version: t.version,
        status_id: t.status_id.to_string(),
        short: st.map(|s| status_chip(&s.short_name)).unwrap_or_default(),
        ink: grid::ink_on(&color),
        color,
        rank: st.map(|s| s.sort_order).unwrap_or_default(),
        people: who
            .iter()
            .map(|n| initials(n))
            .collect::<Vec<_>>()
            .join(" "),
        people_full: who.join(", "),
        assignees: t.assignees.clone(),
        mine: t.assignees.contains(&me.to_string()),
        overdue: !finished && !due.is_empty() && due.as_str() < today,
        due,
        priority: t.priority,
        priority_word: i18n::text(priority_key(t.priority)),
        dim: false,
        review: None,
    }
}

/// The review thumbnail of a task's cell: its newest playable version and that file.
pub(super) fn review_of(
    playable: &HashMap<Uuid, (Uuid, Uuid)>,
    task: Uuid,
) -> Option<(String, String)> {
    playable
        .get(&task)
        .map(|(v, f)| (v.to_string(), f.to_string()))
}

/// What grid.js needs besides the table: the workflow, the columns, the people and its words.
/// The statuses of `statuses` the viewer's role may set (the workflow's `set_by`; an artist's own
/// tasks are told apart in the page).
pub(super) fn settable(cx: &Ctx, statuses: &[TaskStatus]) -> Vec<TaskStatus> {
    if !cx.scope.can(Permission::Review) {
        return Vec::new();
    }
    statuses
        .iter()
        .filter(|s| cx.scope.role.may_set_status(&s.set_by, true))
        .cloned()
        .collect()
}

pub(super) fn grid_data(
    cx: &Ctx,
    statuses: &[TaskStatus],
    types: &[TaskType],
    people: &[(Uuid, String)],
) -> String {
    let may_set = cx.scope.can(Permission::Review);
    script_json(&serde_json::json!({
        "statuses": statuses.iter().map(|s| serde_json::json!({
            "id": s.id, "name": s.name, "short": status_chip(&s.short_name), "color": s.color,
            "ink": grid::ink_on(&s.color), "rank": s.sort_order,
            "settable": may_set && cx.scope.role.may_set_status(&s.set_by, true),
        })).collect::<Vec<_>>(),
        "me": cx.scope.user_id,
        "own_only": cx.scope.role == Role::Artist,
        "types": types.iter().map(|t| t.id).collect::<Vec<_>>(),
        "people": people.iter().map(|(id, n)| serde_json::json!({"id": id, "name": n, "initials": initials(n)})).collect::<Vec<_>>(),
        "text": {
            "saved": i18n::text("grid-saved"),
            "stale": i18n::text("grid-stale"),
            "failed": i18n::text("grid-failed"),
            "live": i18n::text("grid-live"),
            "offline": i18n::text("grid-offline"),
            "selected": i18n::text("grid-selected"),
            "shown": i18n::text("grid-shown"),
            "nothing": i18n::text("grid-nothing-to-change"),
        },
    }))
}

/// A custom value as a grid cell shows it.
fn field_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn grid(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    grid_page(&state, &cx, project_id, &pairs, None).await
}

/// The shot grid as `pairs` (its address's query) ask for it; `said` is a flash from a form
/// that came back to the grid, shown with its answer's status.
async fn grid_page(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    pairs: &[(String, String)],
    said: Option<((String, String), axum::http::StatusCode)>,
) -> PageResult {
    let store = state.store.tenant(&cx.scope);
    let project = store.project(project_id).await?;
    let all_types = store.task_types(project_id).await?;
    let statuses = named_statuses(store.task_statuses(project_id).await?);
    let sequences = all_sequences(state, cx, project_id).await?;
    let people = people(state, cx).await?;
    let fields: Vec<(String, String)> = store
        .custom_fields(project_id, Some(FieldEntity::Shot))
        .await?
        .into_iter()
        .map(|f| (f.key, f.name))
        .collect();
    let assets: Vec<(Uuid, String)> = assets::all_assets(state, cx, project_id, None)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();

    // The address's view, checked against the organisation: a bad one is said in the page,
    // which then shows the whole grid.
    let mut view = GridView::read(pairs, false);
    if let Ok(v) = &view {
        if let Some(s) = v.sequence
            && !sequences.iter().any(|q| q.id == s)
        {
            return Err(ApiError::not_found("sequence").into());
        }
        let bad = if let Some(PersonPick::One(id)) = v.person
            && !people.iter().any(|(p, _)| *p == id)
        {
            Some(grid::bad("field-assignees", &id.to_string()))
        } else if let Some(id) = v.status
            && !statuses.iter().any(|s| s.id == id)
        {
            Some(grid::bad("field-status", &id.to_string()))
        } else if let Some(id) = v.asset
            && !assets.iter().any(|(a, _)| *a == id)
        {
            Some(grid::bad("field-asset", &id.to_string()))
        } else {
            v.show.iter().find_map(|s| match s {
                Show::Field(k) if !fields.iter().any(|(f, _)| f == k) => {
                    Some(grid::bad("grid-columns", k))
                }
                _ => None,
            })
        };
        if let Some(bad) = bad {
            view = Err(bad);
        }
    }
    let (view, flash, code) = match view {
        Ok(v) => match said {
            Some((flash, code)) => (v, Some(flash), code),
            None => (v, None, axum::http::StatusCode::OK),
        },
        Err(bad) => (
            GridView {
                sequence: GridView::read(pairs, false)
                    .ok()
                    .and_then(|v| v.sequence)
                    .filter(|s| sequences.iter().any(|q| q.id == *s)),
                ..GridView::default()
            },
            Some(bad.flash()),
            bad.status,
        ),
    };
    let chosen: Vec<&Sequence> = match view.sequence {
        Some(id) => sequences.iter().filter(|s| s.id == id).collect(),
        None => sequences.iter().collect(),
    };
    // Each chosen sequence's tasks; the columns are the shot steps and any other step a shot has
    // a task of (one made through the API on an asset step).
    let mut sequence_tasks = Vec::with_capacity(chosen.len());
    for s in &chosen {
        sequence_tasks.push(store.sequence_tasks(s.id).await?);
    }
    let used: HashSet<Uuid> = sequence_tasks
        .iter()
        .flatten()
        .map(|t| t.task_type_id)
        .collect();
    let types = named_steps(
        all_types
            .into_iter()
            .filter(|t| !t.is_for_assets() || used.contains(&t.id))
            .collect(),
    );
    let names: HashMap<Uuid, String> = people.iter().cloned().collect();
    let by_status: HashMap<Uuid, &TaskStatus> = statuses.iter().map(|s| (s.id, s)).collect();
    let column: HashMap<Uuid, usize> = types.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let days = MyDays::of(&cx.today());
    let noted = if view.text.is_empty() {
        HashSet::new()
    } else {
        store
            .note_hits(project_id, FieldEntity::Shot, &view.text)
            .await?
    };
    let cast: Option<HashSet<Uuid>> = match view.asset {
        Some(a) => Some(
            store
                .asset_shots(a)
                .await?
                .into_iter()
                .map(|c| c.shot_id)
                .collect(),
        ),
        None => None,
    };
    let shown_fields: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| view.shows(&Show::Field(k.clone())))
        .cloned()
        .collect();
    let mut values = if shown_fields.is_empty() {
        HashMap::new()
    } else {
        store
            .project_field_values(project_id, FieldEntity::Shot)
            .await?
    };

    let posters = store.latest_posters(project_id).await?;
    let playable = store.latest_playable(project_id).await?;
    let mut rows: Vec<GridRow> = Vec::new();
    let mut truncated = false;
    'sequences: for (s, tasks) in chosen.into_iter().zip(sequence_tasks) {
        if rows.len() >= GRID_MAX_SHOTS {
            truncated = true;
            break;
        }
        let mut cells: HashMap<Uuid, Vec<Option<Cell>>> = HashMap::new();
        let mut kept: HashSet<Uuid> = HashSet::new();
        for t in &tasks {
            let (Some(col), Some(shot_id)) = (column.get(&t.task_type_id), t.shot_id) else {
                continue;
            };
            let row = cells
                .entry(shot_id)
                .or_insert_with(|| (0..types.len()).map(|_| None).collect());
            let mut cell = cell_of(t, &by_status, &names, cx.scope.user_id, &days.today);
            cell.review = review_of(&playable, t.id);
            if view.filters_tasks() {
                let keep = view.keeps_task(
                    t,
                    by_status.get(&t.status_id).copied(),
                    cx.scope.user_id,
                    &days,
                );
                cell.dim = !keep;
                if keep {
                    kept.insert(shot_id);
                }
            }
            row[*col] = Some(cell);
        }
        // The sequence's shots in cut order, a page at a time: filters drop rows after reading
        // them, so a filtered grid reads on to the sequence's end.
        let mut after = None;
        loop {
            let room = if view.filters() {
                GRID_MAX_SHOTS
            } else {
                GRID_MAX_SHOTS.saturating_sub(rows.len()).max(1)
            };
            let (shots, _) = store.shots(s.id, false, after, room as u32).await?;
            let more = shots.len() > room;
            for shot in shots.into_iter().take(room) {
                after = Some(shot.cut_order);
                if view.filters_tasks() && !kept.contains(&shot.id) {
                    continue;
                }
                let row_cells = cells
                    .remove(&shot.id)
                    .unwrap_or_else(|| (0..types.len()).map(|_| None).collect());
                if view.filters() {
                    let mut hay = format!(
                        "{} {} {}",
                        shot.name,
                        shot.clip_name.as_deref().unwrap_or_default(),
                        s.name
                    );
                    for c in row_cells.iter().flatten() {
                        hay.push(' ');
                        hay.push_str(&c.people_full);
                    }
                    if !view.keeps_row(shot.id, &hay.to_lowercase(), &noted, cast.as_ref()) {
                        continue;
                    }
                }
                if rows.len() >= GRID_MAX_SHOTS {
                    truncated = true;
                    break 'sequences;
                }
                let mut own = values.remove(&shot.id).unwrap_or_default();
                rows.push(GridRow {
                    order: rows.len(),
                    id: shot.id.to_string(),
                    name: shot.name.clone(),
                    poster: posters.get(&shot.id).map(Uuid::to_string),
                    sequence: s.name.clone(),
                    frames: shot.frames(),
                    clip: shot.clip_name.clone().unwrap_or_default(),
                    cells: row_cells,
                    fields: shown_fields
                        .iter()
                        .map(|(k, _)| own.remove(k).map(|v| field_text(&v)).unwrap_or_default())
                        .collect(),
                });
            }
            if !more {
                break;
            }
        }
    }
    let views = store
        .saved_views(project_id, Some("shots"))
        .await?
        .into_iter()
        .map(|v| (v.id.to_string(), v.name, v.query))
        .collect();
    let data = grid_data(cx, &statuses, &types, &people);
    let settable = settable(cx, &statuses);
    let page = html(GridPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        sequences: sequences
            .iter()
            .map(|s| (s.id.to_string(), s.name.clone()))
            .collect(),
        selected: view.sequence.map(|s| s.to_string()).unwrap_or_default(),
        project,
        types,
        statuses,
        people: people
            .iter()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect(),
        rows,
        truncated,
        can_write: !settable.is_empty() || cx.scope.can(Permission::PlanProduction),
        can_plan: cx.scope.can(Permission::PlanProduction),
        settable,
        data,
        query: view.query(),
        view,
        assets: assets
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        fields,
        shown_fields,
        views,
        can_keep_views: cx.scope.can(Permission::KeepViews),
    });
    answered(page, code)
}

#[derive(Deserialize)]
struct ViewForm {
    csrf: String,
    #[serde(default)]
    name: String,
    /// The grid's query the view keeps.
    #[serde(default)]
    query: String,
}

/// A grid's query as a saved view keeps it (checked, in the grid's order), or `None` when it is
/// not one.
pub(crate) fn grid_query(q: &str) -> Option<String> {
    GridView::read(&query_pairs(q), true)
        .ok()
        .map(|v| v.query())
}

/// A query string as the pairs an address's `Query` gives.
fn query_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Saves the grid as it is shown under a name, for the viewer; the same name again replaces it.
async fn save_grid_view(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<ViewForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::KeepViews)?;
    let pairs = query_pairs(&f.query);
    let query = match GridView::read(&pairs, true) {
        Ok(v) => v.query(),
        Err(bad) => {
            return grid_page(
                &state,
                &cx,
                project_id,
                &[],
                Some((bad.flash(), bad.status)),
            )
            .await;
        }
    };
    let saved = state
        .store
        .tenant(&cx.scope)
        .save_view(project_id, "shots", &f.name, &query)
        .await;
    match saved {
        Ok((v, _)) => {
            let to = format!("/app/projects/{project_id}/shots");
            Ok(Redirect::to(&if v.query.is_empty() {
                to
            } else {
                format!("{to}?{}", v.query)
            })
            .into_response())
        }
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            grid_page(&state, &cx, project_id, &pairs, Some((flash_of(e), status))).await
        }
    }
}

#[derive(Deserialize)]
struct DeleteViewForm {
    csrf: String,
    /// The query of the grid the form was on, to go back to it.
    #[serde(default)]
    back: String,
}

async fn delete_grid_view(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(view_id): Path<Uuid>,
    axum::Form(f): axum::Form<DeleteViewForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::KeepViews)?;
    let view = state.store.tenant(&cx.scope).delete_view(view_id).await?;
    let back = GridView::read(&query_pairs(&f.back), false)
        .map(|v| v.query())
        .unwrap_or_default();
    let to = format!("/app/projects/{}/shots", view.project_id);
    Ok(Redirect::to(&if back.is_empty() {
        to
    } else {
        format!("{to}?{back}")
    })
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Editorial import: paste or pick an EDL, see the diff, apply it.

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    sequence: Sequence,
    edl: String,
    diff: Option<Conform>,
    can_apply: bool,
}

async fn import_view(
    state: &State,
    cx: &Ctx,
    sequence_id: Uuid,
    edl: String,
    diff: Option<Conform>,
    flash: Option<(String, String)>,
) -> PageResult {
    let sequence = state.store.tenant(&cx.scope).sequence(sequence_id).await?;
    let project = state
        .store
        .tenant(&cx.scope)
        .project(sequence.project_id)
        .await?;
    html(ImportPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        project,
        sequence,
        edl,
        diff,
        can_apply: cx.scope.can(Permission::PlanProduction),
    })
}

async fn import_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(sequence_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    import_view(&state, &cx, sequence_id, String::new(), None, None).await
}

#[derive(Deserialize)]
struct ImportForm {
    csrf: String,
    edl: String,
    /// `preview` or `apply`.
    action: String,
    /// Create the project's pipeline tasks on shots that have none.
    #[serde(default)]
    tasks: Option<String>,
}

async fn import_submit(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(sequence_id): Path<Uuid>,
    axum::Form(f): axum::Form<ImportForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    let apply = f.action == "apply";
    if apply {
        need(&cx, Permission::PlanProduction)?;
    }
    let sequence = state.store.tenant(&cx.scope).sequence(sequence_id).await?;
    let project = state
        .store
        .tenant(&cx.scope)
        .project(sequence.project_id)
        .await?;
    let rate = project
        .rate()
        .ok_or_else(|| ApiError::invalid("fps", "unknown_frame_rate"))?;
    // An OpenTimelineIO file is JSON; anything else is read as a CMX 3600 EDL.
    let format = if f.edl.trim_start().starts_with('{') {
        "otio"
    } else {
        "cmx3600"
    };
    let edl = match crate::api::tracking::read_edit(format, &f.edl, rate) {
        Ok(e) => e,
        Err(e) => {
            let msg = i18n::text_args("import-unreadable", &[("reason", e.detail().into())]);
            let mut r = import_view(
                &state,
                &cx,
                sequence_id,
                f.edl,
                None,
                Some(("error".into(), msg)),
            )
            .await?;
            *r.status_mut() = e.status();
            return Ok(r);
        }
    };
    match state
        .store
        .tenant(&cx.scope)
        .conform_sequence(sequence_id, &edl, apply)
        .await
    {
        Ok(diff) if apply => {
            if f.tasks.is_some() {
                let added = create_missing_tasks(&state, &cx, sequence_id).await?;
                if let Some(said) = added.stopped_flash("import-tasks-stopped") {
                    return grid_after(&state, &cx, project.id, sequence_id, said).await;
                }
            }
            let _ = diff;
            Ok(Redirect::to(&format!(
                "/app/projects/{}/shots?sequence={}",
                project.id, sequence_id
            ))
            .into_response())
        }
        Ok(diff) => import_view(&state, &cx, sequence_id, f.edl, Some(diff), None).await,
        Err(e) => import_view(&state, &cx, sequence_id, f.edl, None, Some(flash_of(e))).await,
    }
}

/// Gives every active shot of a sequence one task of each of the project's shot steps it lacks.
async fn create_missing_tasks(
    state: &State,
    cx: &Ctx,
    sequence_id: Uuid,
) -> Result<Added, PageError> {
    let sequence = state.store.tenant(&cx.scope).sequence(sequence_id).await?;
    let types = shot_steps(
        state
            .store
            .tenant(&cx.scope)
            .task_types(sequence.project_id)
            .await?,
    );
    let existing = state
        .store
        .tenant(&cx.scope)
        .sequence_tasks(sequence_id)
        .await?;
    let have: std::collections::HashSet<(Uuid, Uuid)> = existing
        .iter()
        .filter_map(|t| Some((t.shot_id?, t.task_type_id)))
        .collect();
    let mut missing = Vec::new();
    let mut after = None;
    loop {
        let (shots, _) = state
            .store
            .tenant(&cx.scope)
            .shots(sequence_id, false, after, 500)
            .await?;
        let more = shots.len() > 500;
        for s in shots.iter().take(500) {
            after = Some(s.cut_order);
            for ty in &types {
                if !have.contains(&(s.id, ty.id)) {
                    missing.push(NewTask {
                        shot_id: Some(s.id),
                        asset_id: None,
                        task_type_id: ty.id,
                        status_id: None,
                        assignees: Vec::new(),
                        priority: 0,
                        estimate_minutes: None,
                        start_date: None,
                        due_date: None,
                    });
                }
            }
        }
        if !more {
            break;
        }
    }
    // A thousand tasks a write, so a big sequence never holds the writer for long. Each write
    // stands on its own: when one fails, what was made stays, and adding again makes only what
    // is still missing.
    let mut made = 0;
    for chunk in missing.chunks(mstation_store::tracking::tasks::MAX_BULK) {
        if let Err(e) = state.store.tenant(&cx.scope).create_tasks(chunk).await {
            return Ok(Added {
                missing: missing.len(),
                made,
                stopped: Some(e.into()),
            });
        }
        made += chunk.len();
    }
    Ok(Added {
        missing: missing.len(),
        made,
        stopped: None,
    })
}

/// What adding a sequence's missing tasks did: how many were missing, how many were made, and
/// the error that stopped it before the end.
struct Added {
    missing: usize,
    made: usize,
    stopped: Option<ApiError>,
}

impl Added {
    /// The grid's flash when the adding stopped before the end (`key` says what came before).
    fn stopped_flash(&self, key: &str) -> Option<((String, String), axum::http::StatusCode)> {
        let e = self.stopped.as_ref()?;
        let text = i18n::text_args(
            key,
            &[
                ("made", (self.made as i64).into()),
                ("missing", (self.missing as i64).into()),
                ("reason", e.page_detail().into()),
            ],
        );
        Some((("error".to_string(), text), e.status()))
    }
}

/// The sequence's grid after adding its missing tasks stopped before the end.
async fn grid_after(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    sequence_id: Uuid,
    said: ((String, String), axum::http::StatusCode),
) -> PageResult {
    let pairs = [("sequence".to_string(), sequence_id.to_string())];
    grid_page(state, cx, project_id, &pairs, Some(said)).await
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    pub csrf: String,
}

async fn add_tasks(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(sequence_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let sequence = state.store.tenant(&cx.scope).sequence(sequence_id).await?;
    let added = create_missing_tasks(&state, &cx, sequence_id).await?;
    if let Some(said) = added.stopped_flash("grid-tasks-stopped") {
        return grid_after(&state, &cx, sequence.project_id, sequence_id, said).await;
    }
    Ok(Redirect::to(&format!(
        "/app/projects/{}/shots?sequence={}",
        sequence.project_id, sequence_id
    ))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// A task with its notes, versions and time logs by day; planners edit its assignees (one person
// at a time), due date, priority and description. A refused or stale form comes back with what
// was typed in it.

struct NoteRow {
    id: Uuid,
    author: String,
    when: String,
    body: String,
    frame: Option<i64>,
    change: Option<(String, String, String, String)>,
    reply: bool,
    /// A client's note held with production; `publish`: the viewer may publish it.
    held: bool,
    publish: bool,
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    shot: Option<Shot>,
    subject: String,
    task: Task,
    type_name: String,
    status: Option<TaskStatus>,
    statuses: Vec<TaskStatus>,
    assignees: Vec<AssigneeRow>,
    /// Members who could be added: (user id, name).
    addable: Vec<(String, String)>,
    priority_key: &'static str,
    plan: PlanForm,
    notes: Vec<NoteRow>,
    /// The note form: empty, or as typed when the note was not posted.
    note_form: NoteTyped,
    /// The assets cast in the task's shot: (asset id, name, kind).
    cast: Vec<(String, String, String)>,
    versions: Vec<VersionRow>,
    versions_total: i64,
    /// The project's latest files, to make a new version of: (id, name and when).
    project_files: Vec<(String, String)>,
    days: Vec<TimeDay>,
    time_logs_total: i64,
    logged: String,
    time_form: TimeForm,
    /// Notes (and the status changes in `statuses`).
    can_note: bool,
    /// Versions and time logs.
    can_write: bool,
    /// Assignees, due date, priority and description.
    can_plan: bool,
    /// The talent matcher's address for this task, for those who plan and find people.
    find_people: Option<String>,
}

struct AssigneeRow {
    id: String,
    name: String,
    /// The remove button's words for a screen reader: "Remove Li Wei from this task".
    remove_label: String,
}

/// The plan form as shown: the task's own values, or what the planner typed when it came back.
struct PlanForm {
    /// The task version the form saves over.
    version: i64,
    due_date: String,
    priorities: Vec<PriorityOption>,
    description: String,
    /// The task's values the form started from, so a stale form can tell what its planner
    /// changed from what they left alone: due date, priority, `fingerprint` of the description.
    was_due_date: String,
    was_priority: i64,
    was_description: String,
    /// Why the form came back, in words; the form is then shown open.
    error: Option<String>,
    /// The task changed since the form was loaded: saving applies the typed values again.
    stale: bool,
    /// After a stale form, where someone else changed what the planner changed too: the
    /// task's value now, in words ("Now: 2026-12-01").
    now_due: Option<String>,
    now_priority: Option<String>,
    description_moved: bool,
}

/// A short fingerprint of a description (64-bit FNV-1a of the trimmed text), which the plan
/// form carries instead of a second copy of up to 20,000 characters.
fn fingerprint(text: &str) -> String {
    let hash = text.trim().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

struct PriorityOption {
    value: i64,
    key: &'static str,
    selected: bool,
}

/// The four priorities a page offers, `selected`'s among them. The option of `selected`'s word
/// writes `selected` itself, so saving the form without touching it leaves a priority of 5 at 5.
fn priority_options(selected: i64) -> Vec<PriorityOption> {
    [-1, 0, 1, 2]
        .into_iter()
        .map(|p| {
            let key = priority_key(p);
            let same = key == priority_key(selected);
            PriorityOption {
                value: if same { selected } else { p },
                key,
                selected: same,
            }
        })
        .collect()
}

/// What a planner typed into the plan form, given back when it was refused or stale.
struct PlanTyped {
    /// The version the form was loaded at.
    seen: i64,
    due_date: String,
    priority: i64,
    description: String,
    /// Which of the three the planner changed in the form (due date, priority, description).
    changed: [bool; 3],
    error: Option<String>,
    stale: bool,
}

/// The time-log form: today and nothing typed, or what was typed when it was refused.
struct TimeForm {
    date: String,
    duration: String,
    comment: String,
    error: Option<String>,
    /// Whether the error is about the duration.
    bad_duration: bool,
}

/// Forms that come back to the page with what was typed in them.
#[derive(Default)]
pub(super) struct Typed {
    plan: Option<PlanTyped>,
    time: Option<TimeForm>,
    note: Option<NoteTyped>,
    /// A note on one of the task's versions, as typed.
    pub(super) version_note: Option<(Uuid, NoteTyped)>,
}

/// A note form as typed, shown again when the note was not posted (`status_id` only on a
/// task's).
#[derive(Default, Clone)]
pub(super) struct NoteTyped {
    pub(super) body: String,
    pub(super) frame: String,
    pub(super) status_id: String,
}

/// One day of time logs, the latest day first.
struct TimeDay {
    date: String,
    /// "Today" or "Yesterday", in the viewer's time zone.
    label: Option<String>,
    total: String,
    logs: Vec<TimeLogRow>,
}

struct VersionRow {
    id: String,
    number: String,
    /// Where it stands in review: its stable name and its words.
    review: (&'static str, String),
    comment: String,
    author: String,
    when: String,
    /// Review notes on this version, oldest first.
    notes: Vec<review::NoteRow>,
    /// The note form's summary: "Write a note on v003".
    note_label: String,
    /// The note form as typed when a note on this version was refused (then shown open).
    note_form: NoteTyped,
    /// The files it is made of, in order.
    files: Vec<VersionFileRow>,
}

/// A file of a version: a poster to look at and a proxy to play, once made.
impl VersionRow {
    /// Whether one of its files has a proxy to play in the review player.
    fn playable(&self) -> bool {
        self.files.iter().any(|f| f.proxy)
    }
}

struct VersionFileRow {
    id: String,
    name: String,
    poster: bool,
    proxy: bool,
}

struct TimeLogRow {
    person: String,
    duration: String,
    comment: String,
}

/// Minutes as hours and minutes, `1:05`.
fn duration(minutes: i64) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

/// The most versions and time logs a task page lists, newest first.
const TASK_PAGE_LIST: u32 = 200;

/// The task page; `typed` gives refused forms back with what was typed in them.
async fn task_view(
    state: &State,
    cx: &Ctx,
    task_id: Uuid,
    flash: Option<(String, String)>,
    typed: Typed,
) -> PageResult {
    let task = state.store.tenant(&cx.scope).task(task_id).await?;
    let shot = match task.shot_id {
        Some(id) => Some(state.store.tenant(&cx.scope).shot(id).await?),
        None => None,
    };
    let subject = match (&shot, task.asset_id) {
        (Some(s), _) => s.name.clone(),
        (None, Some(a)) => state.store.tenant(&cx.scope).asset(a).await?.name,
        (None, None) => String::new(),
    };
    let project = state
        .store
        .tenant(&cx.scope)
        .project(task.project_id)
        .await?;
    let cast = match &shot {
        Some(s) => state
            .store
            .tenant(&cx.scope)
            .shot_assets(s.id)
            .await?
            .into_iter()
            .map(|a| {
                let kind = i18n::text(&format!("asset-kind-{}", a.kind));
                (a.asset_id.to_string(), a.name, kind)
            })
            .collect(),
        None => Vec::new(),
    };
    let statuses = named_statuses(
        state
            .store
            .tenant(&cx.scope)
            .task_statuses(task.project_id)
            .await?,
    );
    let types = named_steps(
        state
            .store
            .tenant(&cx.scope)
            .task_types(task.project_id)
            .await?,
    );
    let members = people(state, cx).await?;
    let names: HashMap<Uuid, String> = members.iter().cloned().collect();
    let by_id: HashMap<Uuid, &TaskStatus> = statuses.iter().map(|s| (s.id, s)).collect();
    let status_of = |id: Uuid| by_id.get(&id).map(|s| (s.name.clone(), s.color.clone()));
    let raw_notes = state.store.tenant(&cx.scope).notes(task_id).await?;
    // The verdicts given on the task: what each version's review status is made of.
    let verdicts: Vec<(i64, Verdict)> = raw_notes
        .iter()
        .filter_map(|n| {
            let to = by_id.get(&n.status_to?)?;
            let said = match (to.is_retake, to.is_done) {
                (true, _) => Verdict::ChangesRequested,
                (false, true) => Verdict::Approved,
                (false, false) => return None,
            };
            Some((n.created_at.0, said))
        })
        .collect();
    let notes = raw_notes
        .into_iter()
        .map(|n| NoteRow {
            id: n.id,
            held: n.held,
            publish: n.held && cx.scope.can(Permission::PlanProduction),
            author: names
                .get(&n.author_id)
                .cloned()
                .unwrap_or_else(|| i18n::text("someone")),
            when: cx.time(n.created_at.0),
            body: n.body,
            frame: n.frame,
            change: match (
                n.status_from.and_then(status_of),
                n.status_to.and_then(status_of),
            ) {
                (Some(a), Some(b)) => Some((a.0, a.1, b.0, b.1)),
                _ => None,
            },
            reply: n.parent_id.is_some(),
        })
        .collect();
    let name_of = |id: Uuid| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| i18n::text("someone"))
    };
    let newest = ListQuery {
        limit: TASK_PAGE_LIST,
        descending: true,
        ..Default::default()
    };
    let versions = state
        .store
        .tenant(&cx.scope)
        .versions(task_id, &newest)
        .await?;
    let versions_total = versions.total;
    let ids: Vec<Uuid> = versions.items.iter().map(|v| v.id).collect();
    let mut files_of = state.store.tenant(&cx.scope).versions_media(&ids).await?;
    let made: Vec<i64> = versions.items.iter().map(|v| v.created_at.0).collect();
    let reviewed = review_status::statuses(&made, &verdicts);
    let mut version_rows = Vec::with_capacity(versions.items.len());
    for (v, said) in versions.items.into_iter().zip(reviewed) {
        // One indexed read per version (by `notes_version`).
        let notes = state
            .store
            .tenant(&cx.scope)
            .entity_notes(mstation_store::tracking::notes::NoteOn::Version(v.id))
            .await?;
        let number = format!("v{:03}", v.number);
        version_rows.push(VersionRow {
            id: v.id.to_string(),
            note_label: i18n::text_args(
                "version-note-write",
                &[("version", number.clone().into())],
            ),
            number,
            review: (
                said.as_str(),
                i18n::text(&format!("review-{}", said.as_str().replace('_', "-"))),
            ),
            comment: v.comment,
            author: name_of(v.author_id),
            when: cx.time(v.created_at.0),
            notes: review::note_rows(notes, &names, cx),
            note_form: typed
                .version_note
                .as_ref()
                .filter(|(id, _)| *id == v.id)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
            files: files_of
                .remove(&v.id)
                .unwrap_or_default()
                .into_iter()
                .map(|f| VersionFileRow {
                    id: f.id.to_string(),
                    name: f.path.unwrap_or(f.name),
                    poster: f.poster_hash.is_some(),
                    proxy: f.proxy_hash.is_some(),
                })
                .collect(),
        });
    }
    let versions = version_rows;
    let recent = ListQuery {
        limit: 30,
        descending: true,
        ..Default::default()
    };
    let project_files = if cx.scope.can(Permission::WriteProduction) {
        state
            .store
            .tenant(&cx.scope)
            .media_files(Some(task.project_id), &recent)
            .await?
            .items
            .into_iter()
            .map(|f| {
                let label = format!("{} · {}", f.path.unwrap_or(f.name), cx.time(f.created_at.0));
                (f.id.to_string(), label)
            })
            .collect()
    } else {
        Vec::new()
    };
    let logs = state
        .store
        .tenant(&cx.scope)
        .time_logs(
            &TimeLogFilter {
                task_id: Some(task_id),
                ..Default::default()
            },
            &newest,
        )
        .await?;
    let time_logs_total = logs.total;
    // Days from the grouped totals, so a day's total is whole even when the list is cut; each
    // day's logs newest first.
    let mut by_day: HashMap<String, Vec<TimeLogRow>> = HashMap::new();
    for l in logs.items {
        by_day.entry(l.date).or_default().push(TimeLogRow {
            person: name_of(l.user_id),
            duration: duration(l.minutes),
            comment: l.comment,
        });
    }
    let days_said = MyDays::of(&cx.today());
    let day_totals = state
        .store
        .tenant(&cx.scope)
        .task_minutes_by_day(task_id)
        .await?;
    let logged = duration(day_totals.iter().map(|(_, m)| m).sum());
    let days = day_totals
        .into_iter()
        .filter_map(|(date, minutes)| {
            let logs = by_day.remove(&date)?;
            let label = if date == days_said.today {
                Some(i18n::text("task-time-today"))
            } else if date == days_said.yesterday {
                Some(i18n::text("task-time-yesterday"))
            } else {
                None
            };
            Some(TimeDay {
                date,
                label,
                total: duration(minutes),
                logs,
            })
        })
        .collect();
    let assigned: Vec<Uuid> = task
        .assignees
        .split_whitespace()
        .filter_map(|u| Uuid::parse_str(u).ok())
        .collect();
    let assignees = assigned
        .iter()
        .map(|u| {
            let name = name_of(*u);
            AssigneeRow {
                id: u.to_string(),
                remove_label: i18n::text_args(
                    "task-assignee-remove",
                    &[("name", name.clone().into())],
                ),
                name,
            }
        })
        .collect();
    let addable = members
        .iter()
        .filter(|(id, _)| !assigned.contains(id))
        .map(|(id, name)| (id.to_string(), name.clone()))
        .collect();
    let now_due = task.due_date.clone().unwrap_or_default();
    let mut plan = PlanForm {
        version: task.version,
        due_date: now_due.clone(),
        priorities: priority_options(task.priority),
        description: task.description.clone(),
        was_due_date: now_due.clone(),
        was_priority: task.priority,
        was_description: fingerprint(&task.description),
        error: None,
        stale: false,
        now_due: None,
        now_priority: None,
        description_moved: false,
    };
    if let Some(t) = typed.plan {
        let now = |value: String| i18n::text_args("task-plan-now", &[("value", value.into())]);
        let [due, priority, description] = t.changed;
        // A refused form was current: all of it comes back as typed. A stale one comes back
        // with what its planner changed, over the task as it is now (which the rest shows), and
        // saves over this version: "apply again".
        let keep = |changed: bool| !t.stale || changed;
        if t.stale {
            plan.now_due = (due && now_due != t.due_date).then(|| {
                now(if now_due.is_empty() {
                    i18n::text("my-tasks-no-due")
                } else {
                    now_due.clone()
                })
            });
            plan.now_priority = (priority
                && priority_key(task.priority) != priority_key(t.priority))
            .then(|| now(i18n::text(priority_key(task.priority))));
            plan.description_moved = description && task.description != t.description.trim();
        } else {
            plan.version = t.seen;
        }
        if keep(due) {
            plan.due_date = t.due_date;
        }
        if keep(priority) {
            plan.priorities = priority_options(t.priority);
        }
        if keep(description) {
            plan.description = t.description;
        }
        plan.error = t.error;
        plan.stale = t.stale;
    }
    let note_form = typed.note.unwrap_or_default();
    let time_form = typed.time.unwrap_or_else(|| TimeForm {
        date: cx.today(),
        duration: String::new(),
        comment: String::new(),
        error: None,
        bad_duration: false,
    });
    let type_name = types
        .iter()
        .find(|t| t.id == task.task_type_id)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let find_people = (cx.scope.can(Permission::PlanProduction)
        && cx.scope.can(Permission::FindTalent))
    .then(|| {
        crate::pages::talent::match_for_task(
            &type_name,
            &subject,
            task.start_date.as_deref(),
            task.due_date.as_deref(),
            &cx.today(),
        )
    });
    html(TaskPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        find_people,
        type_name,
        status: by_id.get(&task.status_id).map(|s| (*s).clone()),
        // Only the statuses the viewer may set on this task (an artist: on their own tasks).
        statuses: if cx.scope.role != Role::Artist
            || task.assignees.contains(&cx.scope.user_id.to_string())
        {
            settable(cx, &statuses)
        } else {
            Vec::new()
        },
        assignees,
        addable,
        priority_key: priority_key(task.priority),
        plan,
        notes,
        cast,
        versions,
        versions_total,
        project_files,
        days,
        time_logs_total,
        logged,
        note_form,
        time_form,
        can_note: cx.scope.can(Permission::Review),
        can_write: cx.scope.can(Permission::WriteProduction),
        can_plan: cx.scope.can(Permission::PlanProduction),
        project,
        shot,
        subject,
        task,
    })
}

async fn task_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(task_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    task_view(&state, &cx, task_id, None, Typed::default()).await
}

#[derive(Deserialize)]
struct NoteForm {
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    frame: String,
    /// The last frame of the range the note is on, and what was drawn on its frame (JSON shapes,
    /// as the review player writes them).
    #[serde(default)]
    frame_out: String,
    #[serde(default)]
    drawing: String,
    /// The version the player compared with, which it goes back to.
    #[serde(default)]
    compare: String,
    #[serde(default)]
    status_id: String,
    version: i64,
    /// The version whose review player the note was written in, which it goes back to.
    #[serde(default)]
    review: Option<Uuid>,
    /// The review session that player played in.
    #[serde(default)]
    session: String,
}

async fn task_note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(task_id): Path<Uuid>,
    axum::Form(f): axum::Form<NoteForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::Review)?;
    let typed = |f: &NoteForm| Typed {
        note: Some(NoteTyped {
            body: f.body.clone(),
            frame: f.frame.clone(),
            status_id: f.status_id.clone(),
        }),
        ..Typed::default()
    };
    let at = match review::note_at(&f.frame, &f.frame_out, &f.drawing) {
        Ok(at) => at,
        Err(e) => {
            let status = e.status();
            let page = task_view(&state, &cx, task_id, Some(flash_of(e)), typed(&f)).await;
            return answered(page, status);
        }
    };
    let frame = at.frame;
    let status = match f.status_id.trim() {
        "" => None,
        s => Some(Uuid::parse_str(s).map_err(|_| ApiError::invalid("status_id", "not_an_id"))?),
    };
    let current = state.store.tenant(&cx.scope).task(task_id).await?;
    let status = status.filter(|s| *s != current.status_id);
    match state
        .store
        .tenant(&cx.scope)
        .add_note(
            task_id,
            &f.body,
            at,
            None,
            status.map(|s| (s, Some(f.version))),
        )
        .await
    {
        // Back in the player of a version of this task, on the frame the note is on.
        Ok(_) if f.review.is_some() => {
            let version = f.review.unwrap_or_default();
            let on_task = state
                .store
                .tenant(&cx.scope)
                .version(version)
                .await
                .is_ok_and(|v| v.task_id == task_id);
            let at = player::Opened {
                frame,
                compare: f.compare.trim().parse().ok(),
                session: None,
            }
            .in_session(&f.session);
            Ok(Redirect::to(&if on_task {
                at.href(version)
            } else {
                format!("/app/tasks/{task_id}")
            })
            .into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/app/tasks/{task_id}")).into_response()),
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => {
            // Nothing was posted: the note comes back as typed, to post again over the task
            // as it is now.
            let stale = matches!(e, mstation_store::StoreError::Stale { .. });
            let e = ApiError::from(e);
            let status = e.status();
            let flash = if stale {
                ("error".to_string(), i18n::text("task-note-stale"))
            } else {
                flash_of(e)
            };
            // Refused in the player of a version of this task: said there.
            if let Some(version) = f.review
                && state
                    .store
                    .tenant(&cx.scope)
                    .version(version)
                    .await
                    .is_ok_and(|v| v.task_id == task_id)
            {
                let at = player::Opened {
                    frame,
                    compare: f.compare.trim().parse().ok(),
                    session: None,
                }
                .in_session(&f.session);
                let page =
                    player::player_view(&state, &cx, version, at, Some(flash), f.body.clone());
                return answered(page.await, status);
            }
            let page = task_view(&state, &cx, task_id, Some(flash), typed(&f)).await;
            answered(page, status)
        }
    }
}

/// A new version from the task page: its comment, and the files ticked (`media`, repeated).
async fn task_version(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(task_id): Path<Uuid>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    cx.check_csrf(field("csrf"))?;
    need(&cx, Permission::WriteProduction)?;
    let mut media = Vec::new();
    for (_, v) in pairs.iter().filter(|(n, _)| n == "media") {
        match Uuid::parse_str(v) {
            Ok(id) => media.push(id),
            Err(_) => {
                let e = mstation_store::StoreError::Invalid(
                    mstation_core::validate::FieldError::new("media", "not_an_id"),
                );
                return task_view(&state, &cx, task_id, Some(flash_of(e)), Typed::default()).await;
            }
        }
    }
    match state
        .store
        .tenant(&cx.scope)
        .create_version_of(task_id, field("comment").trim(), &media)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/tasks/{task_id}")).into_response()),
        Err(e) => task_view(&state, &cx, task_id, Some(flash_of(e)), Typed::default()).await,
    }
}

#[derive(Deserialize)]
struct TimeLogForm {
    csrf: String,
    date: String,
    /// The time spent as typed: `1:30`, `90`, `1h30` or `45m` (`parse_duration`).
    minutes: String,
    #[serde(default)]
    comment: String,
}

async fn task_time_log(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(task_id): Path<Uuid>,
    axum::Form(f): axum::Form<TimeLogForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::WriteProduction)?;
    let typed = |error: String, bad_duration: bool| Typed {
        time: Some(TimeForm {
            date: f.date.trim().to_string(),
            duration: f.minutes.clone(),
            comment: f.comment.clone(),
            error: Some(error),
            bad_duration,
        }),
        ..Default::default()
    };
    let not_logged = || Some(("error".to_string(), i18n::text("task-time-not-logged")));
    let minutes = match parse_duration(&f.minutes) {
        Ok(m) => m,
        Err(bad) => {
            // The task is read first, so another organisation's id is a 404 whatever was typed.
            state.store.tenant(&cx.scope).task(task_id).await?;
            let why = typed(bad.message(&f.minutes), true);
            return task_view(&state, &cx, task_id, not_logged(), why).await;
        }
    };
    match state
        .store
        .tenant(&cx.scope)
        .log_time(task_id, f.date.trim(), minutes, f.comment.trim())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/tasks/{task_id}")).into_response()),
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => {
            let why = typed(ApiError::from(e).detail(), false);
            task_view(&state, &cx, task_id, not_logged(), why).await
        }
    }
}

/// Why a typed duration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadDuration {
    Missing,
    Zero,
    Negative,
    OverADay,
    Unreadable,
}

impl BadDuration {
    /// The field's message, in the viewer's language.
    fn message(self, typed: &str) -> String {
        match self {
            BadDuration::Missing => i18n::text("task-duration-missing"),
            BadDuration::Zero => i18n::text("task-duration-zero"),
            BadDuration::Negative => i18n::text("task-duration-negative"),
            BadDuration::OverADay => i18n::text("task-duration-over-a-day"),
            BadDuration::Unreadable => {
                // Only said back, so a long paste is cut rather than refused again.
                let typed: String = typed.trim().chars().take(40).collect();
                i18n::text_args("task-duration-unreadable", &[("typed", typed.into())])
            }
        }
    }
}

/// The most minutes one time log holds: a day.
const MAX_LOG_MINUTES: i64 = 24 * 60;

/// The minutes of a duration as people type it: `1:30` (hours and two-digit minutes; a
/// full-width `：` too), `90` (minutes), `1h30`, `1h30m`, `2h`, `45m` or `45min`; spaces and
/// case do not matter. More than none and at most a day.
fn parse_duration(typed: &str) -> Result<i64, BadDuration> {
    let s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if c == '：' {
                ':'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if s.is_empty() {
        return Err(BadDuration::Missing);
    }
    let (negative, s) = match s.strip_prefix('-').or_else(|| s.strip_prefix('−')) {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    // Digits only, and few enough that no sum below overflows (more is more than a day anyway).
    let number = |d: &str| -> Result<i64, BadDuration> {
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
            Err(BadDuration::Unreadable)
        } else if d.len() > 6 {
            Err(BadDuration::OverADay)
        } else {
            d.parse().map_err(|_| BadDuration::Unreadable)
        }
    };
    let minutes_of_hour = |d: &str| -> Result<i64, BadDuration> {
        match number(d)? {
            m if m < 60 => Ok(m),
            _ => Err(BadDuration::Unreadable),
        }
    };
    let minutes = if let Some((h, m)) = s.split_once(':') {
        if m.len() != 2 {
            return Err(BadDuration::Unreadable);
        }
        number(h)? * 60 + minutes_of_hour(m)?
    } else if let Some((h, m)) = s.split_once('h') {
        let m = m
            .strip_suffix("min")
            .or_else(|| m.strip_suffix('m'))
            .unwrap_or(m);
        let m = if m.is_empty() { 0 } else { minutes_of_hour(m)? };
        number(h)? * 60 + m
    } else {
        number(
            s.strip_suffix("min")
                .or_else(|| s.strip_suffix('m'))
                .unwrap_or(s),
        )?
    };
    match minutes {
        0 => Err(BadDuration::Zero),
        _ if negative => Err(BadDuration::Negative),
        m if m > MAX_LOG_MINUTES => Err(BadDuration::OverADay),
        m => Ok(m),
    }
}

/// A page answered with `status` (a refused form: 409 when stale, 422 when not valid).
pub(in crate::pages) fn answered(page: PageResult, status: axum::http::StatusCode) -> PageResult {
    let mut r = page?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize)]
struct AssigneeForm {
    csrf: String,
    #[serde(default)]
    user_id: String,
    /// `add` or `remove`.
    #[serde(default)]
    action: String,
}

/// Puts one person on the task or takes them off. No version is asked for: the change is made
/// to the assignees as they are when it lands, so a page loaded earlier cannot undo another
/// planner's work.
async fn task_assignee(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(task_id): Path<Uuid>,
    axum::Form(f): axum::Form<AssigneeForm>,
) -> PageResult {
    use mstation_store::tracking::tasks::Assignment;
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let store = state.store.tenant(&cx.scope);
    let user = Uuid::parse_str(f.user_id.trim()).ok();
    let change = match (f.action.as_str(), user) {
        ("add", Some(u)) => Assignment::Add(u),
        ("remove", Some(u)) => Assignment::Remove(u),
        (action, _) => {
            store.task(task_id).await?;
            let fl = if action == "add" || action == "remove" {
                ("error".to_string(), i18n::text("task-assignee-pick"))
            } else {
                flash_of(ApiError::invalid("action", "unknown_value"))
            };
            let page = task_view(&state, &cx, task_id, Some(fl), Typed::default()).await;
            return answered(page, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match store.assign(task_id, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/tasks/{task_id}")).into_response()),
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            let page = task_view(&state, &cx, task_id, Some(flash_of(e)), Typed::default()).await;
            answered(page, status)
        }
    }
}

#[derive(Deserialize)]
struct PlanPost {
    csrf: String,
    /// The task version the form was loaded at.
    #[serde(default)]
    version: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    description: String,
    /// The values the form started from (`PlanForm`); a field without one counts as changed.
    was_due_date: Option<String>,
    was_priority: Option<String>,
    was_description: Option<String>,
}

/// Saves a task's due date, priority and description from the plan form: only what differs
/// from the task, and only over the version the form was loaded at. A stale or refused form
/// comes back with what was typed; a stale one saves over the task as it is now when sent again.
async fn task_plan(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(task_id): Path<Uuid>,
    axum::Form(f): axum::Form<PlanPost>,
) -> PageResult {
    use axum::http::StatusCode;
    use mstation_store::StoreError;
    use mstation_store::tracking::tasks::{MAX_DESCRIPTION, TaskChanges};
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let store = state.store.tenant(&cx.scope);
    let task = store.task(task_id).await?;
    // A version that is not a number was not given by this page: the form is then stale.
    let seen = f.version.trim().parse::<i64>().unwrap_or(0);
    let priority = f.priority.trim().parse::<i64>();
    let changed = |was: &Option<String>, now: &str| was.as_deref() != Some(now);
    let back = |error: Option<String>, stale: bool| Typed {
        plan: Some(PlanTyped {
            seen,
            due_date: f.due_date.trim().to_string(),
            priority: *priority.as_ref().unwrap_or(&task.priority),
            description: f.description.clone(),
            changed: [
                changed(&f.was_due_date, f.due_date.trim()),
                changed(&f.was_priority, f.priority.trim()),
                changed(&f.was_description, &fingerprint(&f.description)),
            ],
            error,
            stale,
        }),
        ..Default::default()
    };
    let stale = || {
        let fl = ("error".to_string(), i18n::text("task-plan-stale"));
        (Some(fl), back(None, true), StatusCode::CONFLICT)
    };
    let refused = |why: String| {
        let fl = ("error".to_string(), i18n::text("task-plan-not-saved"));
        (
            Some(fl),
            back(Some(why), false),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let length = f.description.trim().chars().count();
    let outcome = if seen != task.version {
        stale()
    } else if priority.is_err() {
        refused(ApiError::invalid("priority", "not_a_number").page_detail())
    } else if length > MAX_DESCRIPTION {
        refused(i18n::text_args(
            "task-description-too-long",
            &[("length", (length as i64).into())],
        ))
    } else {
        let due = Some(f.due_date.trim().to_string()).filter(|d| !d.is_empty());
        let priority = *priority.as_ref().unwrap_or(&task.priority);
        let description = f.description.trim();
        let changes = TaskChanges {
            due_date: (due != task.due_date).then_some(due),
            priority: (priority != task.priority).then_some(priority),
            description: (description != task.description).then(|| description.to_string()),
            ..Default::default()
        };
        let unchanged = changes.due_date.is_none()
            && changes.priority.is_none()
            && changes.description.is_none();
        if unchanged {
            return Ok(Redirect::to(&format!("/app/tasks/{task_id}")).into_response());
        }
        match store.update_task(task_id, Some(seen), &changes).await {
            Ok(_) => return Ok(Redirect::to(&format!("/app/tasks/{task_id}")).into_response()),
            Err(StoreError::Stale { .. }) => stale(),
            Err(e @ StoreError::NotFound { .. }) => return Err(e.into()),
            Err(e) => refused(ApiError::from(e).detail()),
        }
    };
    let (flash, typed, status) = outcome;
    answered(task_view(&state, &cx, task_id, flash, typed).await, status)
}

// ---------------------------------------------------------------------------------------------
// My tasks: an artist's landing page. Their work across the organisation's projects, open work
// first by due date, with counts and filters that live in the address (plain GET parameters),
// so a filtered view works without JavaScript and can be bookmarked.

/// Tasks on one page of "my tasks".
const MY_TASKS_PAGE: u32 = 100;

/// The catalog key of a priority in words. Tasks are stored with 0 for normal work and higher
/// numbers for more pressing work; below 0 reads as low.
fn priority_key(priority: i64) -> &'static str {
    match priority {
        i64::MIN..=-1 => "my-tasks-priority-low",
        0 => "my-tasks-priority-normal",
        1 => "my-tasks-priority-high",
        _ => "my-tasks-priority-urgent",
    }
}

/// The days the page's words mean, in the person's time zone: today, yesterday (the last day
/// of "overdue") and the Sunday that ends this week (Monday to Sunday).
struct MyDays {
    today: String,
    yesterday: String,
    week_end: String,
}

impl MyDays {
    fn of(today: &str) -> MyDays {
        // `Ctx::today` always gives a real day; were it not, the three would be that text.
        let Ok(d) = today.parse::<jiff::civil::Date>() else {
            return MyDays {
                today: today.into(),
                yesterday: today.into(),
                week_end: today.into(),
            };
        };
        let to_sunday = 6 - i64::from(d.weekday().to_monday_zero_offset());
        let day = |n: i64| {
            d.checked_add(jiff::Span::new().days(n))
                .unwrap_or(d)
                .to_string()
        };
        MyDays {
            today: d.to_string(),
            yesterday: day(-1),
            week_end: day(to_sunday),
        }
    }
}

/// Which work the status filter keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StatusPick {
    Open,
    Finished,
    /// The status of this short name, in whichever project's workflow.
    Named(String),
}

impl StatusPick {
    /// As the address spells it. The two groups' words come first: a workflow status named
    /// `open` or `finished` could only be picked through its group.
    fn parse(s: &str) -> StatusPick {
        match s {
            "open" => StatusPick::Open,
            "finished" => StatusPick::Finished,
            other => StatusPick::Named(other.to_string()),
        }
    }
    fn value(&self) -> &str {
        match self {
            StatusPick::Open => "open",
            StatusPick::Finished => "finished",
            StatusPick::Named(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DuePick {
    /// Open work due from today to Sunday.
    Week,
    /// Open work due before today.
    Overdue,
}

impl DuePick {
    fn parse(s: &str) -> Option<DuePick> {
        match s {
            "week" => Some(DuePick::Week),
            "overdue" => Some(DuePick::Overdue),
            _ => None,
        }
    }
    fn value(self) -> &'static str {
        match self {
            DuePick::Week => "week",
            DuePick::Overdue => "overdue",
        }
    }
}

/// The page's filters, as its address carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MyFilters {
    status: Option<StatusPick>,
    project: Option<Uuid>,
    due: Option<DuePick>,
}

/// A filter value the page cannot show: the message (a catalog key), the filter's label key,
/// the value sent, and the answer's status.
#[derive(Debug)]
struct BadFilter {
    message: &'static str,
    filter: &'static str,
    value: String,
    status: axum::http::StatusCode,
}

impl BadFilter {
    fn invalid(filter: &'static str, value: &str) -> BadFilter {
        BadFilter {
            message: "my-tasks-bad-filter",
            filter,
            // Only shown back, so a long value is cut rather than refused again.
            value: value.chars().take(80).collect(),
            status: axum::http::StatusCode::BAD_REQUEST,
        }
    }
    /// A "more" link this page did not make.
    fn cursor() -> BadFilter {
        BadFilter {
            message: "my-tasks-bad-cursor",
            filter: "",
            value: String::new(),
            status: axum::http::StatusCode::BAD_REQUEST,
        }
    }
    fn flash(&self) -> (String, String) {
        if self.filter.is_empty() {
            return ("error".into(), i18n::text(self.message));
        }
        let label = i18n::text(self.filter);
        let text = i18n::text_args(
            self.message,
            &[
                ("filter", label.into()),
                ("value", self.value.clone().into()),
            ],
        );
        ("error".into(), text)
    }
}

impl MyFilters {
    /// Reads the address's parameters (the last of a repeated one counts; an empty one is no
    /// filter; others are not the page's and are left alone) and the page's cursor. Whether a
    /// status or a project exists is checked later, against the organisation.
    fn read(pairs: &[(String, String)]) -> Result<(MyFilters, Option<MyTasksAfter>), BadFilter> {
        let last = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let project = match last("project") {
            None => None,
            Some(p) => {
                Some(Uuid::parse_str(p).map_err(|_| BadFilter::invalid("field-project", p))?)
            }
        };
        let due = match last("due") {
            None => None,
            Some(d) => Some(DuePick::parse(d).ok_or_else(|| BadFilter::invalid("field-due", d))?),
        };
        let after = match last("cursor") {
            None => None,
            Some(c) => Some(MyTasksAfter::from_cursor(c).ok_or_else(BadFilter::cursor)?),
        };
        let filters = MyFilters {
            status: last("status").map(StatusPick::parse),
            project,
            due,
        };
        Ok((filters, after))
    }

    /// The page's address with these filters, on the page after `cursor` when given.
    fn href(&self, cursor: Option<&str>) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = &self.status {
            q.push(("status", s.value().to_string()));
        }
        if let Some(p) = self.project {
            q.push(("project", p.to_string()));
        }
        if let Some(d) = self.due {
            q.push(("due", d.value().to_string()));
        }
        if let Some(c) = cursor {
            q.push(("cursor", c.to_string()));
        }
        if q.is_empty() {
            return "/app/my-tasks".into();
        }
        let q: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", query_value(v)))
            .collect();
        format!("/app/my-tasks?{}", q.join("&"))
    }

    /// The store's filter, or `None` when nothing can match (finished work is never due).
    fn store_filter(&self, days: &MyDays) -> Option<MyTasksFilter> {
        let mut f = MyTasksFilter {
            project_id: self.project,
            ..Default::default()
        };
        match &self.status {
            None => {}
            Some(StatusPick::Open) => f.finished = Some(false),
            Some(StatusPick::Finished) => f.finished = Some(true),
            Some(StatusPick::Named(s)) => f.status = Some(s.clone()),
        }
        if let Some(due) = self.due {
            if f.finished == Some(true) {
                return None;
            }
            f.finished = Some(false);
            match due {
                DuePick::Week => {
                    f.due_from = Some(days.today.clone());
                    f.due_until = Some(days.week_end.clone());
                }
                DuePick::Overdue => f.due_until = Some(days.yesterday.clone()),
            }
        }
        Some(f)
    }
}

/// A value for a query string: everything but unreserved characters percent-encoded.
fn query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct MyTaskRow {
    id: String,
    project: String,
    subject: String,
    /// The page of the shot or the asset the task is on, which the subject links to.
    subject_link: Option<String>,
    step: String,
    status: String,
    color: String,
    due: String,
    overdue: bool,
    finished: bool,
    priority_key: &'static str,
}

/// One count at the top, which is also a link that sets (or, when on, clears) its filter.
struct CountTile {
    /// `open`, `week`, `overdue` or `finished`.
    kind: &'static str,
    label: &'static str,
    n: i64,
    href: String,
    on: bool,
}

#[derive(Template)]
#[template(path = "my_tasks.html")]
struct MyTasksPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    rows: Vec<MyTaskRow>,
    total: i64,
    total_capped: bool,
    /// The next page, filters kept.
    more: Option<String>,
    tiles: Vec<CountTile>,
    /// (value, label) of the status filter's workflow statuses.
    statuses: Vec<(String, String)>,
    /// (id, name) of the projects the person has work in.
    projects: Vec<(String, String)>,
    status: String,
    project: String,
    due: String,
    /// Whether any filter is on (an empty list then says so, rather than "nothing assigned").
    filtered: bool,
    /// Tasks of other productions' work orders awarded to the organisation that the person is
    /// on: (page, task, where, production · order, due).
    order_work: Vec<(String, String, String, String, String)>,
}

async fn my_tasks(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let store = state.store.tenant(&cx.scope);
    let days = MyDays::of(&cx.today());
    let counts = store.my_task_counts(&days.today, &days.week_end).await?;
    let mut projects: Vec<(Uuid, String)> = counts
        .iter()
        .map(|c| (c.project_id, c.project.clone()))
        .collect();
    let mut workflows: Vec<TaskStatus> = Vec::new();
    for (id, _) in &projects {
        workflows.extend(named_statuses(store.task_statuses(*id).await?));
    }

    // The address's filters, checked against the organisation: a bad one is said in the page,
    // which then shows the whole list.
    let checked = match MyFilters::read(&pairs) {
        Err(bad) => Err(bad),
        Ok((f, after)) => {
            let mut bad = None;
            if let Some(p) = f.project
                && !projects.iter().any(|(id, _)| *id == p)
            {
                // A project of the organisation without work of theirs is an empty list;
                // any other id is not found, whoever's it is.
                match store.project(p).await {
                    Ok(found) => {
                        workflows.extend(named_statuses(store.task_statuses(p).await?));
                        projects.push((p, found.name));
                    }
                    Err(mstation_store::StoreError::NotFound { .. }) => {
                        bad = Some(BadFilter {
                            message: "my-tasks-bad-project",
                            status: axum::http::StatusCode::NOT_FOUND,
                            ..BadFilter::invalid("field-project", &p.to_string())
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some(StatusPick::Named(s)) = &f.status
                && !workflows.iter().any(|w| &w.short_name == s)
            {
                bad = Some(BadFilter::invalid("field-status", s));
            }
            match bad {
                Some(b) => Err(b),
                None => Ok((f, after)),
            }
        }
    };
    let (filters, after, flash, code) = match checked {
        Ok((f, after)) => (f, after, None, axum::http::StatusCode::OK),
        Err(bad) => (MyFilters::default(), None, Some(bad.flash()), bad.status),
    };

    let page = match filters.store_filter(&days) {
        Some(f) => store.my_tasks(&f, after.as_ref(), MY_TASKS_PAGE).await?,
        None => mstation_store::Page {
            items: Vec::new(),
            next_cursor: None,
            total: 0,
            total_capped: false,
        },
    };
    let ids: Vec<Uuid> = page.items.iter().map(|t| t.id).collect();
    let subject_links: HashMap<Uuid, String> = store
        .task_subjects(&ids)
        .await?
        .into_iter()
        .filter_map(|(task, shot, asset)| match (shot, asset) {
            (Some(s), _) => Some((task, format!("/app/shots/{s}"))),
            (None, Some(a)) => Some((task, format!("/app/assets/{a}"))),
            (None, None) => None,
        })
        .collect();
    let rows = page
        .items
        .iter()
        .map(|t| {
            let due = t.due_date.clone().unwrap_or_default();
            MyTaskRow {
                id: t.id.to_string(),
                project: t.project.clone(),
                subject: t.subject.clone(),
                subject_link: subject_links.get(&t.id).cloned(),
                step: step_named(&t.step),
                status: workflows
                    .iter()
                    .find(|w| w.id == t.status_id)
                    .map_or_else(|| t.status.clone(), |w| w.name.clone()),
                color: t.color.clone(),
                overdue: !t.finished && !due.is_empty() && due < days.today,
                due,
                finished: t.finished,
                priority_key: priority_key(t.priority),
            }
        })
        .collect();

    // The counts follow the project filter; each is a link to its own filter.
    let shown: Vec<&MyTaskCounts> = counts
        .iter()
        .filter(|c| filters.project.is_none_or(|p| p == c.project_id))
        .collect();
    let sum = |n: fn(&MyTaskCounts) -> i64| shown.iter().map(|c| n(c)).sum::<i64>();
    let status_tile = |kind, label, n, pick: StatusPick| {
        let on = filters.status.as_ref() == Some(&pick);
        let f = MyFilters {
            status: (!on).then_some(pick),
            ..filters.clone()
        };
        CountTile {
            kind,
            label,
            n,
            href: f.href(None),
            on,
        }
    };
    let due_tile = |kind, label, n, pick: DuePick| {
        let on = filters.due == Some(pick);
        let f = MyFilters {
            due: (!on).then_some(pick),
            ..filters.clone()
        };
        CountTile {
            kind,
            label,
            n,
            href: f.href(None),
            on,
        }
    };
    let tiles = vec![
        status_tile("open", "my-tasks-open", sum(|c| c.open), StatusPick::Open),
        due_tile("week", "my-tasks-due", sum(|c| c.due_soon), DuePick::Week),
        due_tile(
            "overdue",
            "my-tasks-overdue",
            sum(|c| c.overdue),
            DuePick::Overdue,
        ),
        status_tile(
            "finished",
            "my-tasks-finished",
            sum(|c| c.finished),
            StatusPick::Finished,
        ),
    ];

    // One option per status short name, in workflow order.
    workflows.sort_by_key(|s| s.sort_order);
    let mut statuses: Vec<(String, String)> = Vec::new();
    for s in &workflows {
        if !statuses.iter().any(|(v, _)| *v == s.short_name) {
            statuses.push((s.short_name.clone(), s.name.clone()));
        }
    }
    let order_work = store
        .assigned_work()
        .await?
        .into_iter()
        .map(|w| {
            (
                format!("/app/work-orders/{}/work/{}", w.order_id, w.task.id),
                step_named(&w.task.name),
                w.task.context.clone(),
                format!("{} · {}", w.client_name, w.order_title),
                w.task.due_date.clone().unwrap_or(w.due_on),
            )
        })
        .collect();
    let mut r = html(MyTasksPage {
        order_work,
        tr: Tr::now(),
        nav: cx.nav("my-tasks"),
        flash,
        rows,
        total: page.total,
        total_capped: page.total_capped,
        more: page.next_cursor.as_deref().map(|c| filters.href(Some(c))),
        tiles,
        statuses,
        projects: projects
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        status: filters
            .status
            .as_ref()
            .map(|s| s.value().to_string())
            .unwrap_or_default(),
        project: filters.project.map(|p| p.to_string()).unwrap_or_default(),
        due: filters
            .due
            .map(|d| d.value().to_string())
            .unwrap_or_default(),
        filtered: filters != MyFilters::default(),
    })?;
    *r.status_mut() = code;
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Activity feeds

/// One line of a feed: a sentence `who` + `before` + `subject` (a link when it has one) +
/// `after`, worded by the catalog of the viewer's language (the subject's place in it differs).
struct ActivityRow {
    when: String,
    who: String,
    before: String,
    subject: String,
    after: String,
    link: Option<String>,
    change: Option<(String, String, String, String)>,
    body: String,
}

/// Where the subject goes in a sentence from the catalog (a private-use character no name has).
const SUBJECT: &str = "\u{E000}";

/// The words a sentence may ask for besides its subject, read from a record's JSON where it has
/// them (`number`, `minutes`, a conform's counts) and "…" where it does not: a sentence never
/// shows a placeholder.
pub(crate) fn sentence_args(
    v: &serde_json::Value,
) -> Vec<(
    &'static str,
    fluent_templates::fluent_bundle::FluentValue<'static>,
)> {
    let some = "…";
    let number = |k: &str| v.get(k).and_then(|n| n.as_i64());
    vec![
        (
            "version",
            number("number")
                .map_or(some.to_string(), |n| format!("v{n:03}"))
                .into(),
        ),
        (
            "duration",
            number("minutes").map_or(some.to_string(), duration).into(),
        ),
        (
            "new",
            number("new")
                .map_or(some.to_string(), |n| n.to_string())
                .into(),
        ),
        (
            "changed",
            number("changed")
                .map_or(some.to_string(), |n| n.to_string())
                .into(),
        ),
        (
            "omitted",
            number("omitted")
                .map_or(some.to_string(), |n| n.to_string())
                .into(),
        ),
        ("asset", some.into()),
    ]
}

/// The sentence for `action` (`version.created` → `activity-version-created`), split around its
/// `{ $subject }`; an action without a sentence of its own is "made a change to …", never the
/// action's internal name.
pub(crate) fn sentence(
    action: &str,
    args: Vec<(
        &'static str,
        fluent_templates::fluent_bundle::FluentValue<'static>,
    )>,
) -> (String, String) {
    let key = format!("activity-{}", action.replace('.', "-"));
    let mut args = args;
    args.push(("subject", SUBJECT.into()));
    // A message the catalog lacks comes back as its key.
    let mut text = i18n::text_args(&key, &args);
    if text == key {
        text = i18n::text_args("activity-other", &args);
    }
    match text.split_once(SUBJECT) {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (text, String::new()),
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    title: String,
    back: Option<(String, String)>,
    rows: Vec<ActivityRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct FeedQuery {
    cursor: Option<String>,
}

fn json_uuid(v: &serde_json::Value, key: &str) -> Option<Uuid> {
    v.get(key)?.as_str()?.parse().ok()
}

/// A task as a feed names it, read by its id: "SQ010_0010 · Layout" (its shot or asset, and its
/// step); empty when it is gone.
async fn task_subject(state: &State, cx: &Ctx, types: &[TaskType], id: Uuid) -> String {
    let store = state.store.tenant(&cx.scope);
    let Ok(task) = store.task(id).await else {
        return String::new();
    };
    let on = match (task.shot_id, task.asset_id) {
        (Some(s), _) => store.shot(s).await.ok().map(|s| s.name),
        (None, Some(a)) => store.asset(a).await.ok().map(|a| a.name),
        (None, None) => None,
    };
    let step = types
        .iter()
        .find(|t| t.id == task.task_type_id)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    match on {
        Some(s) => format!("{s} · {step}"),
        None => step,
    }
}

/// Reads a feed page and puts it into words: who did what to which shot or task.
async fn activity_rows(
    state: &State,
    cx: &Ctx,
    entries: &[mstation_store::identity::audit::AuditEntry],
) -> Result<Vec<ActivityRow>, PageError> {
    let names: HashMap<Uuid, String> = people(state, cx).await?.into_iter().collect();
    let mut projects: HashMap<Uuid, (Vec<TaskStatus>, Vec<TaskType>)> = HashMap::new();
    let mut shots: HashMap<Uuid, Option<String>> = HashMap::new();
    let mut rows = Vec::with_capacity(entries.len());
    // A note that changes a status is one line: the task's own record of that change, written
    // in the same instant by the same person, is left out.
    let by_notes: Vec<(Option<Uuid>, Option<Uuid>, i64)> = entries
        .iter()
        .filter(|e| e.action == "note.created")
        .filter_map(|e| {
            let after: serde_json::Value = serde_json::from_str(e.after.as_deref()?).ok()?;
            after.get("status_to")?.as_str()?;
            Some((json_uuid(&after, "task_id"), e.actor_id, e.at.0))
        })
        .collect();
    for e in entries {
        // (The two records of one write are stamped apart by the time between them: a second
        // is ample.)
        if e.action == "task.status_changed"
            && by_notes.iter().any(|(task, actor, at)| {
                *task == e.entity_id && *actor == e.actor_id && (at - e.at.0).abs() <= 1000
            })
        {
            continue;
        }

        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        let (before, after) = (parse(&e.before), parse(&e.after));
        // A conform of many shots is recorded in parts; the feed says it once, with its counts.
        if e.action == "sequence.conformed" && after.get("part").and_then(|p| p.as_i64()) != Some(1)
        {
            continue;
        }
        let now = if after.is_null() { &before } else { &after };
        if let Some(pid) = e.project_id
            && let std::collections::hash_map::Entry::Vacant(v) = projects.entry(pid)
        {
            let st = named_statuses(
                state
                    .store
                    .tenant(&cx.scope)
                    .task_statuses(pid)
                    .await
                    .unwrap_or_default(),
            );
            let ty = named_steps(
                state
                    .store
                    .tenant(&cx.scope)
                    .task_types(pid)
                    .await
                    .unwrap_or_default(),
            );
            v.insert((st, ty));
        }
        let (statuses, types) = e
            .project_id
            .and_then(|p| projects.get(&p))
            .map(|(s, t)| (s.as_slice(), t.as_slice()))
            .unwrap_or((&[], &[]));
        let status = |id: Option<Uuid>| {
            id.and_then(|id| statuses.iter().find(|s| s.id == id))
                .map(|s| (s.name.clone(), s.color.clone()))
        };
        let shot_name = |id: Option<Uuid>| {
            let state = state.clone();
            let scope = cx.scope.clone();
            async move {
                let id = id?;
                Some((
                    id,
                    state
                        .store
                        .tenant(&scope)
                        .shot(id)
                        .await
                        .ok()
                        .map(|s| s.name),
                ))
            }
        };
        let task_label = |task: &serde_json::Value, shot: Option<String>| {
            let ty = json_uuid(task, "task_type_id")
                .and_then(|t| types.iter().find(|y| y.id == t))
                .map(|t| t.name.clone())
                .unwrap_or_default();
            match shot {
                Some(s) => format!("{s} · {ty}"),
                None => ty,
            }
        };
        let mut extra: Vec<(
            &'static str,
            fluent_templates::fluent_bundle::FluentValue<'static>,
        )> = Vec::new();
        let (subject, link, change, body) = match e.entity_type.as_str() {
            "task" => {
                let sid = json_uuid(now, "shot_id");
                let name = match sid.and_then(|s| shots.get(&s).cloned()) {
                    Some(n) => n,
                    None => {
                        let found = shot_name(sid).await;
                        if let Some((id, n)) = found.clone() {
                            shots.insert(id, n);
                        }
                        found.and_then(|f| f.1)
                    }
                };
                // A task on an asset is named after the asset.
                let name = match (name, json_uuid(now, "asset_id")) {
                    (None, Some(a)) => state
                        .store
                        .tenant(&cx.scope)
                        .asset(a)
                        .await
                        .ok()
                        .map(|a| a.name),
                    (n, _) => n,
                };
                let change = match (
                    status(json_uuid(&before, "status_id")),
                    status(json_uuid(&after, "status_id")),
                ) {
                    (Some(a), Some(b)) if a != b => Some((a.0, a.1, b.0, b.1)),
                    _ => None,
                };
                (
                    task_label(now, name),
                    e.entity_id.map(|id| format!("/app/tasks/{id}")),
                    change,
                    String::new(),
                )
            }
            "note" | "held_note" => {
                let tid = json_uuid(now, "task_id");
                let change = match (
                    status(json_uuid(now, "status_from")),
                    status(json_uuid(now, "status_to")),
                ) {
                    (Some(a), Some(b)) => Some((a.0, a.1, b.0, b.1)),
                    _ => None,
                };
                let body: String = now
                    .get("body")
                    .and_then(|b| b.as_str())
                    .unwrap_or_default()
                    .chars()
                    .take(280)
                    .collect();
                // A note is on a task, a shot, an asset or a version; it is named after that.
                let (label, link) = if let Some(t) = tid {
                    let label = task_subject(state, cx, types, t).await;
                    (label, Some(format!("/app/tasks/{t}")))
                } else if let Some(sh) = json_uuid(now, "shot_id") {
                    (
                        shot_name(Some(sh))
                            .await
                            .and_then(|f| f.1)
                            .unwrap_or_default(),
                        None,
                    )
                } else if let Some(a) = json_uuid(now, "asset_id") {
                    match state.store.tenant(&cx.scope).asset(a).await {
                        Ok(asset) => (asset.name, Some(format!("/app/assets/{a}"))),
                        Err(_) => (String::new(), None),
                    }
                } else if let Some(v) = json_uuid(now, "version_id") {
                    match state.store.tenant(&cx.scope).version(v).await {
                        Ok(ver) => (
                            format!("v{:03}", ver.number),
                            Some(format!("/app/tasks/{}", ver.task_id)),
                        ),
                        Err(_) => (String::new(), None),
                    }
                } else {
                    (String::new(), None)
                };
                (label, link, change, body)
            }
            // A version or a time log is named after its task.
            "version" | "time_log" => {
                let tid = json_uuid(now, "task_id");
                if let Some(n) = now.get("number").and_then(|n| n.as_i64()) {
                    extra.push(("version", format!("v{n:03}").into()));
                }
                if let Some(m) = now.get("minutes").and_then(|m| m.as_i64()) {
                    extra.push(("duration", duration(m).into()));
                }
                let label = match tid {
                    Some(t) => task_subject(state, cx, types, t).await,
                    None => String::new(),
                };
                (
                    label,
                    tid.map(|t| format!("/app/tasks/{t}")),
                    None,
                    String::new(),
                )
            }
            "sequence" => {
                for key in ["new", "changed", "omitted"] {
                    extra.push((
                        key,
                        now.get(key).and_then(|n| n.as_i64()).unwrap_or(0).into(),
                    ));
                }
                let name = match now.get("name").and_then(|n| n.as_str()) {
                    Some(n) => n.to_string(),
                    None => match e.entity_id {
                        Some(id) => state
                            .store
                            .tenant(&cx.scope)
                            .sequence(id)
                            .await
                            .map(|s| s.name)
                            .unwrap_or_default(),
                        None => String::new(),
                    },
                };
                let link = e
                    .project_id
                    .zip(e.entity_id)
                    .map(|(p, s)| format!("/app/projects/{p}/shots?sequence={s}"));
                (name, link, None, String::new())
            }
            // Casting names the asset and the shot.
            "casting" => {
                let asset = match json_uuid(now, "asset_id") {
                    Some(a) => state
                        .store
                        .tenant(&cx.scope)
                        .asset(a)
                        .await
                        .map(|a| a.name)
                        .unwrap_or_default(),
                    None => String::new(),
                };
                extra.push(("asset", asset.into()));
                let shot = shot_name(json_uuid(now, "shot_id"))
                    .await
                    .and_then(|f| f.1)
                    .unwrap_or_default();
                (shot, None, None, String::new())
            }
            _ => (
                now.get("name")
                    .or_else(|| now.get("recipient"))
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string(),
                match e.entity_type.as_str() {
                    "project" => e.entity_id.map(|id| format!("/app/projects/{id}")),
                    "asset" => e.entity_id.map(|id| format!("/app/assets/{id}")),
                    _ => None,
                },
                None,
                String::new(),
            ),
        };
        let (before_subject, after_subject) = sentence(&e.action, extra);
        rows.push(ActivityRow {
            when: cx.time(e.at.0),
            who: e
                .actor_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_else(|| i18n::text("someone")),
            before: before_subject,
            subject,
            after: after_subject,
            link,
            change,
            body,
        });
    }
    Ok(rows)
}

async fn project_activity(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    Query(fq): Query<FeedQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let project = state.store.tenant(&cx.scope).project(project_id).await?;
    let q = crate::extract::list_query(Some(50), fq.cursor.as_deref(), Some("-created_at"))?;
    let page = state
        .store
        .tenant(&cx.scope)
        .activity(
            mstation_store::identity::audit::Feed::Project(project_id),
            &q,
        )
        .await?;
    let rows = activity_rows(&state, &cx, &page.items).await?;
    html(ActivityPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash: None,
        title: format!("{} · {}", project.name, i18n::text("nav-activity")),
        back: Some((format!("/app/projects/{project_id}"), project.name)),
        rows,
        next: page.next_cursor,
    })
}

async fn person_activity(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(user): Path<String>,
    Query(fq): Query<FeedQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    let user_id = if user == "me" {
        cx.caller.user_id
    } else {
        user.parse::<Uuid>()
            .map_err(|_| ApiError::not_found("person"))?
    };
    let names: HashMap<Uuid, String> = people(&state, &cx).await?.into_iter().collect();
    let name = names
        .get(&user_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("person"))?;
    let q = crate::extract::list_query(Some(50), fq.cursor.as_deref(), Some("-created_at"))?;
    let page = state
        .store
        .tenant(&cx.scope)
        .activity(mstation_store::identity::audit::Feed::Person(user_id), &q)
        .await?;
    let rows = activity_rows(&state, &cx, &page.items).await?;
    html(ActivityPage {
        tr: Tr::now(),
        nav: cx.nav("my-tasks"),
        flash: None,
        title: format!("{name} · {}", i18n::text("nav-activity")),
        back: None,
        rows,
        next: page.next_cursor,
    })
}

#[cfg(test)]
mod my_tasks_tests {
    use super::*;

    #[test]
    fn my_tasks_priorities_in_words() {
        let words: Vec<&str> = [-3, -1, 0, 1, 2, 10].map(priority_key).to_vec();
        assert_eq!(
            words,
            [
                "my-tasks-priority-low",
                "my-tasks-priority-low",
                "my-tasks-priority-normal",
                "my-tasks-priority-high",
                "my-tasks-priority-urgent",
                "my-tasks-priority-urgent",
            ]
        );
    }

    #[test]
    fn my_tasks_week_ends_on_sunday() {
        // 2026-03-02 is a Monday.
        for (today, yesterday, sunday) in [
            ("2026-03-02", "2026-03-01", "2026-03-08"),
            ("2026-03-05", "2026-03-04", "2026-03-08"),
            ("2026-03-08", "2026-03-07", "2026-03-08"),
            ("2026-12-31", "2026-12-30", "2027-01-03"),
        ] {
            let d = MyDays::of(today);
            assert_eq!(
                (d.yesterday.as_str(), d.week_end.as_str()),
                (yesterday, sunday),
                "{today}"
            );
        }
    }

    #[test]
    fn my_tasks_filters_read_back_from_their_address() {
        let project = Uuid::now_v7();
        let f = MyFilters {
            status: Some(StatusPick::Named("w i&p".into())),
            project: Some(project),
            due: Some(DuePick::Overdue),
        };
        let href = f.href(None);
        assert_eq!(
            href,
            format!("/app/my-tasks?status=w%20i%26p&project={project}&due=overdue")
        );
        let pairs = [
            ("status".to_string(), "w i&p".to_string()),
            ("project".into(), project.to_string()),
            ("due".into(), "overdue".into()),
            ("utm_source".into(), "mail".into()),
        ];
        let (read, after) = MyFilters::read(&pairs).ok().unwrap();
        assert_eq!((read, after), (f, None));
        let empty = [
            ("status".to_string(), String::new()),
            ("project".into(), " ".into()),
        ];
        assert_eq!(
            MyFilters::read(&empty).ok().unwrap().0,
            MyFilters::default()
        );
        for (k, v) in [("due", "soon"), ("project", "42"), ("cursor", "zzz")] {
            assert!(
                MyFilters::read(&[(k.to_string(), v.to_string())]).is_err(),
                "{k}={v}"
            );
        }
    }
}

#[cfg(test)]
mod task_page_tests {
    use super::*;

    #[test]
    fn durations_are_read_as_people_type_them() {
        for (typed, minutes) in [
            ("90", 90),
            ("1:30", 90),
            (" 1 : 30 ", 90),
            ("1：30", 90),
            ("0:45", 45),
            ("24:00", 1440),
            ("1440", 1440),
            ("1h30", 90),
            ("1H30M", 90),
            ("1h 30min", 90),
            ("2h", 120),
            ("45m", 45),
            ("45 min", 45),
            ("007", 7),
        ] {
            assert_eq!(parse_duration(typed), Ok(minutes), "{typed:?}");
        }
    }

    #[test]
    fn durations_out_of_a_day_or_unreadable_are_refused_with_why() {
        use BadDuration::*;
        for (typed, why) in [
            ("", Missing),
            ("   ", Missing),
            ("0", Zero),
            ("0:00", Zero),
            ("0h", Zero),
            ("-0", Zero),
            ("-30", Negative),
            ("-1:30", Negative),
            ("−45m", Negative),
            ("24:01", OverADay),
            ("1441", OverADay),
            ("25h", OverADay),
            ("99999999999999999999", OverADay),
            ("lots", Unreadable),
            ("1:5", Unreadable),
            ("1:60", Unreadable),
            ("1:30:00", Unreadable),
            ("1h75", Unreadable),
            ("1.5", Unreadable),
            ("1.5h", Unreadable),
            (":30", Unreadable),
            ("h30", Unreadable),
            ("m", Unreadable),
            ("--5", Unreadable),
            ("９０", Unreadable),
        ] {
            assert_eq!(parse_duration(typed), Err(why), "{typed:?}");
        }
    }

    #[test]
    fn an_unreadable_duration_is_said_back_cut_short() {
        let said = BadDuration::Unreadable.message(&format!("soon{}", "x".repeat(100)));
        assert!(
            said.contains("soonxxx") && !said.contains(&"x".repeat(40)),
            "{said}"
        );
        let zero = String::from("0");
        assert!(!BadDuration::Zero.message(&zero).starts_with("task-"));
    }

    #[test]
    fn the_priority_select_offers_four_words_and_keeps_an_unusual_value() {
        let shown = |p: i64| -> Vec<(i64, &str, bool)> {
            priority_options(p)
                .into_iter()
                .map(|o| (o.value, o.key, o.selected))
                .collect()
        };
        assert_eq!(
            shown(0),
            [
                (-1, "my-tasks-priority-low", false),
                (0, "my-tasks-priority-normal", true),
                (1, "my-tasks-priority-high", false),
                (2, "my-tasks-priority-urgent", false),
            ]
        );
        // A priority of 5 (set through the API) is urgent, and saving the form keeps it at 5.
        let five = shown(5);
        assert_eq!(five[3], (5, "my-tasks-priority-urgent", true));
        assert_eq!(five[..3].iter().filter(|o| o.2).count(), 0);
        assert_eq!(shown(-4)[0], (-4, "my-tasks-priority-low", true));
    }
}
