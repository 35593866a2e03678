//! The asset pages: the asset grid of a project (rows = assets, columns = task types) with the
//! same inline and bulk edits and live updates as the shot grid (`grid.js`), creating assets and
//! their pipeline tasks, and one asset with its tasks, the shots it is cast in and its notes.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_store::ListQuery;
use mstation_store::tracking::Project;
use mstation_store::tracking::assets::{Asset, AssetKind};
use mstation_store::tracking::notes::NoteOn;
use mstation_store::tracking::tasks::{
    NewTask, Task, TaskEntity, TaskFilter, TaskStatus, TaskType,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Cell, CsrfOnly, GRID_MAX_SHOTS, all_sequences, cell_of, flash_of, grid_data, need, people,
    settable,
};
use crate::State;
use crate::auth::MaybeSigned;
use crate::pages::{Ctx, Nav, PageError, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route(
        "/app/projects/{project_id}/assets",
        get(asset_grid).post(create_asset),
    )
    .route(
        "/app/projects/{project_id}/assets/add-tasks",
        post(add_asset_tasks),
    )
    .route("/app/assets/{asset_id}", get(asset_page))
    .route("/app/assets/{asset_id}/cast", post(cast))
    .route("/app/assets/{asset_id}/uncast", post(uncast))
}

/// Every kind of asset, in the order the grid sorts them.
const KINDS: [AssetKind; 6] = [
    AssetKind::Character,
    AssetKind::Prop,
    AssetKind::Environment,
    AssetKind::Fx,
    AssetKind::Vehicle,
    AssetKind::Other,
];

fn kind_of(s: &str) -> Option<AssetKind> {
    KINDS.into_iter().find(|k| k.as_str() == s)
}

fn kind_label(kind: &str) -> String {
    crate::i18n::text(&format!("asset-kind-{kind}"))
}

/// Every asset of a project (of one kind), by name.
pub(super) async fn all_assets(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    kind: Option<AssetKind>,
) -> Result<Vec<Asset>, PageError> {
    let mut out = Vec::new();
    let mut q = ListQuery {
        limit: 500,
        ..Default::default()
    };
    loop {
        let page = state
            .store
            .tenant(&cx.scope)
            .assets(project_id, kind, &q)
            .await?;
        let more = page.next_cursor.is_some();
        q.after = page.items.last().map(|a| a.id);
        out.extend(page.items);
        if !more || q.after.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Every task on the assets of a project, a page of 500 at a time.
async fn asset_tasks(state: &State, cx: &Ctx, project_id: Uuid) -> Result<Vec<Task>, PageError> {
    let filter = TaskFilter {
        project_id: Some(project_id),
        entity: Some(TaskEntity::Asset),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut q = ListQuery {
        limit: 500,
        ..Default::default()
    };
    loop {
        let page = state.store.tenant(&cx.scope).tasks(&filter, &q).await?;
        let more = page.next_cursor.is_some();
        q.after = page.items.last().map(|t| t.id);
        out.extend(page.items);
        if !more || q.after.is_none() {
            break;
        }
    }
    Ok(out)
}

struct AssetRow {
    id: String,
    name: String,
    /// The media file whose poster stands for the asset (its newest version's), if any.
    poster: Option<String>,
    description: String,
    kind_label: String,
    kind_rank: usize,
    order: usize,
    cells: Vec<Option<Cell>>,
}

#[derive(Template)]
#[template(path = "assets.html")]
struct AssetGridPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    kinds: Vec<(String, String)>,
    selected: String,
    types: Vec<TaskType>,
    statuses: Vec<TaskStatus>,
    people: Vec<(String, String)>,
    rows: Vec<AssetRow>,
    /// Whether the viewer may change anything here (rows can be picked).
    can_write: bool,
    /// Whether the viewer may plan: create assets, add tasks, assign people.
    can_plan: bool,
    /// The statuses the viewer's role may set.
    settable: Vec<TaskStatus>,
    data: String,
}

impl AssetGridPage {
    /// Whether an asset shown has a poster: then every row keeps a place for one.
    fn thumbs(&self) -> bool {
        self.rows.iter().any(|r| r.poster.is_some())
    }
}

#[derive(Deserialize)]
struct GridQuery {
    #[serde(default)]
    kind: String,
}

async fn asset_grid_view(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    kind: &str,
    flash: Option<(String, String)>,
) -> PageResult {
    let project = state.store.tenant(&cx.scope).project(project_id).await?;
    let chosen = kind_of(kind);
    let all_types = state.store.tenant(&cx.scope).task_types(project_id).await?;
    let statuses = super::named_statuses(
        state
            .store
            .tenant(&cx.scope)
            .task_statuses(project_id)
            .await?,
    );
    let assets = all_assets(state, cx, project_id, chosen).await?;
    let tasks = asset_tasks(state, cx, project_id).await?;
    // The asset steps, and any other step an asset has a task of (one made before steps
    // belonged to shots or assets, or through the API).
    let used: HashSet<Uuid> = tasks.iter().map(|t| t.task_type_id).collect();
    let types = super::named_steps(
        all_types
            .into_iter()
            .filter(|t| t.is_for_assets() || used.contains(&t.id))
            .collect(),
    );
    let people = people(state, cx).await?;
    let names: HashMap<Uuid, String> = people.iter().cloned().collect();
    let by_status: HashMap<Uuid, &TaskStatus> = statuses.iter().map(|s| (s.id, s)).collect();
    let column: HashMap<Uuid, usize> = types.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let today = cx.today();
    let playable = state
        .store
        .tenant(&cx.scope)
        .latest_playable(project_id)
        .await?;
    let mut cells: HashMap<Uuid, Vec<Option<Cell>>> = HashMap::new();
    for t in &tasks {
        let (Some(col), Some(asset_id)) = (column.get(&t.task_type_id), t.asset_id) else {
            continue;
        };
        let row = cells
            .entry(asset_id)
            .or_insert_with(|| (0..types.len()).map(|_| None).collect());
        let mut cell = cell_of(t, &by_status, &names, cx.scope.user_id, &today);
        cell.review = super::review_of(&playable, t.id);
        row[*col] = Some(cell);
    }
    let posters = state
        .store
        .tenant(&cx.scope)
        .latest_posters(project_id)
        .await?;
    let rows = assets
        .iter()
        .enumerate()
        .map(|(i, a)| AssetRow {
            id: a.id.to_string(),
            name: a.name.clone(),
            poster: posters.get(&a.id).map(Uuid::to_string),
            description: a.description.clone(),
            kind_label: kind_label(&a.kind),
            kind_rank: KINDS
                .iter()
                .position(|k| k.as_str() == a.kind)
                .unwrap_or(KINDS.len()),
            order: i,
            cells: cells
                .remove(&a.id)
                .unwrap_or_else(|| (0..types.len()).map(|_| None).collect()),
        })
        .collect();
    let data = grid_data(cx, &statuses, &types, &people);
    let settable = settable(cx, &statuses);
    html(AssetGridPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        project,
        kinds: KINDS
            .iter()
            .map(|k| (k.as_str().to_string(), kind_label(k.as_str())))
            .collect(),
        selected: chosen.map(|k| k.as_str().to_string()).unwrap_or_default(),
        types,
        statuses,
        people: people
            .iter()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect(),
        rows,
        can_write: !settable.is_empty() || cx.scope.can(Permission::PlanProduction),
        can_plan: cx.scope.can(Permission::PlanProduction),
        settable,
        data,
    })
}

async fn asset_grid(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    Query(q): Query<GridQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    asset_grid_view(&state, &cx, project_id, &q.kind, None).await
}

#[derive(Deserialize)]
struct AssetForm {
    csrf: String,
    name: String,
    kind: String,
    #[serde(default)]
    description: String,
    /// Give the new asset one task of each pipeline step.
    #[serde(default)]
    tasks: Option<String>,
}

async fn create_asset(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<AssetForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let Some(kind) = kind_of(&f.kind) else {
        let fl = flash_of(crate::error::ApiError::invalid("kind", "unknown_kind"));
        return asset_grid_view(&state, &cx, project_id, "", Some(fl)).await;
    };
    match state
        .store
        .tenant(&cx.scope)
        .create_asset(project_id, None, kind, &f.name, &f.description)
        .await
    {
        Ok(a) => {
            if f.tasks.is_some() {
                create_missing_tasks(&state, &cx, project_id, &[a]).await?;
            }
            Ok(Redirect::to(&format!("/app/projects/{project_id}/assets")).into_response())
        }
        Err(e) => asset_grid_view(&state, &cx, project_id, "", Some(flash_of(e))).await,
    }
}

/// Gives each asset one task of each of the project's asset steps it lacks.
async fn create_missing_tasks(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    assets: &[Asset],
) -> Result<usize, PageError> {
    let types: Vec<_> = state
        .store
        .tenant(&cx.scope)
        .task_types(project_id)
        .await?
        .into_iter()
        .filter(|t| t.is_for_assets())
        .collect();
    let have: HashSet<(Uuid, Uuid)> = asset_tasks(state, cx, project_id)
        .await?
        .iter()
        .filter_map(|t| Some((t.asset_id?, t.task_type_id)))
        .collect();
    let missing: Vec<NewTask> = assets
        .iter()
        .flat_map(|a| types.iter().map(move |ty| (a.id, ty.id)))
        .filter(|pair| !have.contains(pair))
        .map(|(asset_id, task_type_id)| NewTask {
            shot_id: None,
            asset_id: Some(asset_id),
            task_type_id,
            status_id: None,
            assignees: Vec::new(),
            priority: 0,
            estimate_minutes: None,
            start_date: None,
            due_date: None,
        })
        .collect();
    for chunk in missing.chunks(mstation_store::tracking::tasks::MAX_BULK) {
        state.store.tenant(&cx.scope).create_tasks(chunk).await?;
    }
    Ok(missing.len())
}

async fn add_asset_tasks(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let assets = all_assets(&state, &cx, project_id, None).await?;
    create_missing_tasks(&state, &cx, project_id, &assets).await?;
    Ok(Redirect::to(&format!("/app/projects/{project_id}/assets")).into_response())
}

// ---------------------------------------------------------------------------------------------
// One asset: its tasks, the shots it is cast in and its notes (written through `review`).

struct CastRow {
    shot_id: String,
    name: String,
    count: Option<i64>,
}

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    /// The note form: empty, or as typed when the note was refused.
    note_form: super::NoteTyped,
    csrf: String,
    project: Project,
    asset: Asset,
    kind_label: String,
    /// (task id, task type, status, colour)
    tasks: Vec<(String, String, String, String)>,
    /// The shots it is cast in, by sequence: (sequence id, sequence, shots).
    shots: Vec<(String, String, Vec<CastRow>)>,
    shot_count: usize,
    /// The shots it could be cast in, by sequence: (sequence, [(shot id, shot)]).
    choices: Vec<(String, Vec<(String, String)>)>,
    can_write: bool,
    /// Notes on the asset, oldest first, and whether the viewer may write one.
    notes: Vec<super::review::NoteRow>,
    can_note: bool,
}

pub(super) async fn asset_view(
    state: &State,
    cx: &Ctx,
    asset_id: Uuid,
    flash: Option<(String, String)>,
    note_form: super::NoteTyped,
) -> PageResult {
    let asset = state.store.tenant(&cx.scope).asset(asset_id).await?;
    let project = state
        .store
        .tenant(&cx.scope)
        .project(asset.project_id)
        .await?;
    let types = super::named_steps(state.store.tenant(&cx.scope).task_types(project.id).await?);
    let statuses = super::named_statuses(
        state
            .store
            .tenant(&cx.scope)
            .task_statuses(project.id)
            .await?,
    );
    let tasks = state
        .store
        .tenant(&cx.scope)
        .asset_tasks(asset_id)
        .await?
        .iter()
        .map(|t| {
            let st = statuses.iter().find(|s| s.id == t.status_id);
            (
                t.id.to_string(),
                types
                    .iter()
                    .find(|y| y.id == t.task_type_id)
                    .map(|y| y.name.clone())
                    .unwrap_or_default(),
                st.map(|s| s.name.clone()).unwrap_or_default(),
                st.map(|s| s.color.clone()).unwrap_or_default(),
            )
        })
        .collect();
    let sequences = all_sequences(state, cx, project.id).await?;
    let sequence_name = |id: Uuid| {
        sequences
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let cast = state.store.tenant(&cx.scope).asset_shots(asset_id).await?;
    let cast_ids: HashSet<Uuid> = cast.iter().map(|c| c.shot_id).collect();
    // The store lists them by sequence, then cut order.
    let mut shots: Vec<(String, String, Vec<CastRow>)> = Vec::new();
    for c in &cast {
        let id = c.sequence_id.to_string();
        if shots.last().is_none_or(|g| g.0 != id) {
            shots.push((id, sequence_name(c.sequence_id), Vec::new()));
        }
        if let Some(g) = shots.last_mut() {
            g.2.push(CastRow {
                shot_id: c.shot_id.to_string(),
                name: c.name.clone(),
                count: c.count,
            });
        }
    }
    shots.sort_by(|a, b| a.1.cmp(&b.1));
    let can_write = cx.scope.can(Permission::PlanProduction);
    let mut choices = Vec::new();
    if can_write {
        let mut room = GRID_MAX_SHOTS;
        for s in &sequences {
            if room == 0 {
                break;
            }
            let (list, _) = state
                .store
                .tenant(&cx.scope)
                .shots(s.id, false, None, room as u32)
                .await?;
            let options: Vec<(String, String)> = list
                .iter()
                .take(room)
                .filter(|sh| !cast_ids.contains(&sh.id))
                .map(|sh| (sh.id.to_string(), sh.name.clone()))
                .collect();
            room = room.saturating_sub(list.len());
            if !options.is_empty() {
                choices.push((s.name.clone(), options));
            }
        }
    }
    let names: HashMap<Uuid, String> = people(state, cx).await?.into_iter().collect();
    let notes = state
        .store
        .tenant(&cx.scope)
        .entity_notes(NoteOn::Asset(asset_id))
        .await?;
    html(AssetPage {
        note_form,
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        notes: super::review::note_rows(notes, &names, cx),
        can_note: cx.scope.can(Permission::Review),
        kind_label: kind_label(&asset.kind),
        project,
        asset,
        tasks,
        shot_count: cast.len(),
        shots,
        choices,
        can_write,
    })
}

async fn asset_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(asset_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    asset_view(&state, &cx, asset_id, None, Default::default()).await
}

#[derive(Deserialize)]
struct CastForm {
    csrf: String,
    shot_id: Uuid,
    #[serde(default)]
    count: String,
}

async fn cast(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(asset_id): Path<Uuid>,
    axum::Form(f): axum::Form<CastForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let count = match f.count.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let fl = flash_of(crate::error::ApiError::invalid("count", "not_a_number"));
                return asset_view(&state, &cx, asset_id, Some(fl), Default::default()).await;
            }
        },
    };
    match state
        .store
        .tenant(&cx.scope)
        .cast(f.shot_id, asset_id, count)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/assets/{asset_id}")).into_response()),
        Err(e) => asset_view(&state, &cx, asset_id, Some(flash_of(e)), Default::default()).await,
    }
}

#[derive(Deserialize)]
struct UncastForm {
    csrf: String,
    shot_id: Uuid,
}

async fn uncast(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(asset_id): Path<Uuid>,
    axum::Form(f): axum::Form<UncastForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    match state
        .store
        .tenant(&cx.scope)
        .uncast(f.shot_id, asset_id)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/app/assets/{asset_id}")).into_response()),
        Err(e) => asset_view(&state, &cx, asset_id, Some(flash_of(e)), Default::default()).await,
    }
}
