//! The asset pages: the asset grid of a project (rows = assets, columns = task types) with the
//! same inline and bulk edits and live updates as the shot grid (`grid.js`), creating assets and
//! their pipeline tasks.

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
use mstation_store::tracking::tasks::{
    NewTask, Task, TaskEntity, TaskFilter, TaskStatus, TaskType,
};
use serde::Deserialize;
use uuid::Uuid;

use super::tracking::{Cell, CsrfOnly, cell_of, flash_of, grid_data, need, people};
use super::{Ctx, Nav, PageError, PageResult, Tr, ctx, html};
use crate::State;
use crate::auth::MaybeSigned;

pub fn router() -> Router<State> {
    Router::new()
        .route(
            "/app/projects/{project_id}/assets",
            get(asset_grid).post(create_asset),
        )
        .route(
            "/app/projects/{project_id}/assets/add-tasks",
            post(add_asset_tasks),
        )
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
async fn all_assets(
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
        let page = state.store.assets(&cx.scope, project_id, kind, &q).await?;
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
        let page = state.store.tasks(&cx.scope, &filter, &q).await?;
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
    can_write: bool,
    can_manage: bool,
    data: String,
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
    let project = state.store.project(&cx.scope, project_id).await?;
    let chosen = kind_of(kind);
    let types = state.store.task_types(&cx.scope, project_id).await?;
    let statuses = state.store.task_statuses(&cx.scope, project_id).await?;
    let assets = all_assets(state, cx, project_id, chosen).await?;
    let tasks = asset_tasks(state, cx, project_id).await?;
    let people = people(state, cx).await?;
    let names: HashMap<Uuid, String> = people.iter().cloned().collect();
    let by_status: HashMap<Uuid, &TaskStatus> = statuses.iter().map(|s| (s.id, s)).collect();
    let column: HashMap<Uuid, usize> = types.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut cells: HashMap<Uuid, Vec<Option<Cell>>> = HashMap::new();
    for t in &tasks {
        let (Some(col), Some(asset_id)) = (column.get(&t.task_type_id), t.asset_id) else {
            continue;
        };
        let row = cells
            .entry(asset_id)
            .or_insert_with(|| (0..types.len()).map(|_| None).collect());
        row[*col] = Some(cell_of(t, &by_status, &names));
    }
    let rows = assets
        .iter()
        .enumerate()
        .map(|(i, a)| AssetRow {
            id: a.id.to_string(),
            name: a.name.clone(),
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
    let data = grid_data(&statuses, &types, &people);
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
        can_write: cx.scope.can(Permission::WriteProduction),
        can_manage: cx.scope.can(Permission::ManageProduction),
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
    need(&cx, Permission::ManageProduction, "managing the production")?;
    let Some(kind) = kind_of(&f.kind) else {
        let fl = flash_of(crate::error::ApiError::invalid("kind", "unknown_kind"));
        return asset_grid_view(&state, &cx, project_id, "", Some(fl)).await;
    };
    match state
        .store
        .create_asset(&cx.scope, project_id, None, kind, &f.name, &f.description)
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

/// Gives each asset one task of each of the project's task types it lacks.
async fn create_missing_tasks(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    assets: &[Asset],
) -> Result<usize, PageError> {
    let types = state.store.task_types(&cx.scope, project_id).await?;
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
        state.store.create_tasks(&cx.scope, chunk).await?;
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
    need(&cx, Permission::ManageProduction, "managing the production")?;
    let assets = all_assets(&state, &cx, project_id, None).await?;
    create_missing_tasks(&state, &cx, project_id, &assets).await?;
    Ok(Redirect::to(&format!("/app/projects/{project_id}/assets")).into_response())
}
