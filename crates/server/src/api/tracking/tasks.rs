//! Tasks over HTTP: the workflow of a project, tasks of a shot, an asset or a sequence, filtered
//! lists across projects ("my tasks"), single and bulk changes, notes with a status change, and
//! the progress overview of a project.

use axum::Json;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mstation_core::page::{self, Cursor};
use mstation_core::tracking::drawing::Shape;
use mstation_core::{Permission, Role};
use mstation_store::tracking::fields::{FieldFilter, FieldOp};
use mstation_store::tracking::notes::{Note, OnFrames};
use mstation_store::tracking::tasks::{
    NewTask, Progress, Task, TaskChanges, TaskEntity, TaskFilter, TaskOrder, TaskSort, TaskStatus,
    TaskType,
};
use mstation_store::{ListQuery, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{
    Body, IdempotencyKey, IfMatch, Q, bad_param, bad_person, bad_query, bad_sort, etag, idempotent,
};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_statuses))
        .routes(routes!(update_status))
        .routes(routes!(list_task_types))
        .routes(routes!(progress))
        .routes(routes!(list_tasks, create_tasks))
        .routes(routes!(get_task, update_task))
        .routes(routes!(bulk_update))
        .routes(routes!(shot_tasks))
        .routes(routes!(sequence_tasks))
        .routes(routes!(list_notes, add_note))
}

/// `Items<Task>` as JSON, the same bytes written faster (`tracking::json`): a sequence's grid
/// is hundreds of tasks.
pub struct TaskItems(pub Vec<Task>);

impl IntoResponse for TaskItems {
    fn into_response(self) -> Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            mstation_store::tracking::json::task_items(&self.0),
        )
            .into_response()
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/statuses", tag = "tracking", params(("project_id" = Uuid, Path)),
    responses((status = 200, body = Items<TaskStatus>), (status = 404, body = Problem)))]
async fn list_statuses(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
) -> ApiResult<Json<Items<TaskStatus>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .task_statuses(project_id)
            .await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPatch {
    /// The roles that may set a task to this status. Owners and admins may always; an artist
    /// only on a task assigned to them.
    pub set_by: Vec<Role>,
}

/// Changes who may set a status of a project's workflow (producers, admins and owners).
#[utoipa::path(patch, path = "/api/v1/statuses/{status_id}", tag = "tracking", request_body = StatusPatch,
    params(("status_id" = Uuid, Path)),
    responses((status = 200, body = TaskStatus), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_status(
    AxState(state): AxState<State>,
    m: Member,
    Path(status_id): Path<Uuid>,
    Body(p): Body<StatusPatch>,
) -> ApiResult<Json<TaskStatus>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageProduction)?)
            .set_status_roles(status_id, &p.set_by)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{project_id}/task-types", tag = "tracking", params(("project_id" = Uuid, Path)),
    responses((status = 200, body = Items<TaskType>), (status = 404, body = Problem)))]
async fn list_task_types(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
) -> ApiResult<Json<Items<TaskType>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .task_types(project_id)
            .await?,
    }))
}

/// The progress overview: for each sequence, its shot tasks per status and per task type and
/// status (tasks of omitted shots and of assets are not counted).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/progress", tag = "tracking", params(("project_id" = Uuid, Path)),
    responses((status = 200, body = Progress), (status = 404, body = Problem)))]
async fn progress(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
) -> ApiResult<Json<Progress>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .progress(project_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `created_at` (the default), `due_date` (undated last) or `priority`; `-` before it for
    /// the reverse.
    pub sort: Option<String>,
    pub project_id: Option<Uuid>,
    pub sequence_id: Option<Uuid>,
    pub status_id: Option<Uuid>,
    pub task_type_id: Option<Uuid>,
    /// A user id, or `me`.
    pub assignee: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub due_after: Option<String>,
    pub due_before: Option<String>,
    /// `shot` or `asset`: only tasks on shots, or only tasks on assets.
    pub entity: Option<String>,
    /// Tasks on the shots of the episode's sequences and on its assets.
    pub episode_id: Option<Uuid>,
}

/// Splits the `field.<key>`, `field.<key>.gte` and `field.<key>.lte` parameters from the
/// others, which are decoded as strictly as any query.
fn task_params(uri: &Uri) -> ApiResult<(TaskParams, Vec<FieldFilter>)> {
    let (custom, rest): (Vec<&str>, Vec<&str>) = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .partition(|p| p.starts_with("field."));
    let decode = |parts: &[&str]| -> ApiResult<Uri> {
        format!("/?{}", parts.join("&"))
            .parse()
            .map_err(|_| ApiError::new(Code::RequestInvalidQuery))
    };
    let p = Query::<TaskParams>::try_from_uri(&decode(&rest)?)
        .map_err(|e| bad_query(&e))?
        .0;
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(&decode(&custom)?)
        .map_err(|e| bad_query(&e))?
        .0;
    let mut filters = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let rest = name.strip_prefix("field.").unwrap_or(&name);
        let (key, op) = if let Some(k) = rest.strip_suffix(".gte") {
            (k, FieldOp::Gte)
        } else if let Some(k) = rest.strip_suffix(".lte") {
            (k, FieldOp::Lte)
        } else {
            (rest, FieldOp::Eq)
        };
        if mstation_core::tracking::fields::key(key).is_err() {
            return Err(ApiError::new(Code::RequestInvalidQuery)
                .message("problem-request-invalid_query-field_filter")
                .arg("param", name));
        }
        filters.push(FieldFilter {
            key: key.to_string(),
            op,
            value,
        });
    }
    Ok((p, filters))
}

/// Tasks across the organisation's projects. Besides the parameters below, custom task fields
/// filter by key: `field.<key>=<value>` (equality), and on number and date fields
/// `field.<key>.gte=` and `field.<key>.lte=` (inclusive bounds), up to 10, combined with AND.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tracking", params(TaskParams),
    responses((status = 200, body = Page<Task>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_tasks(
    AxState(state): AxState<State>,
    m: Member,
    uri: Uri,
) -> ApiResult<Json<Page<Task>>> {
    let scope = m.may(Permission::ReadOrg)?;
    let (p, fields) = task_params(&uri)?;
    let (by, dir) = page::sort(
        p.sort.as_deref(),
        &["created_at", "due_date", "priority"],
        "created_at",
    )
    .ok_or_else(|| bad_sort("created_at, due_date, priority"))?;
    let cursor = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => {
            Some(Cursor::decode(c).ok_or_else(|| ApiError::new(Code::RequestInvalidCursor))?)
        }
    };
    let q = ListQuery {
        limit: crate::extract::page_limit(p.limit)?,
        after: cursor.as_ref().map(|c| c.id),
        descending: dir == page::Direction::Desc,
    };
    let sort = TaskSort {
        order: match by {
            "due_date" => TaskOrder::Due,
            "priority" => TaskOrder::Priority,
            _ => TaskOrder::Created,
        },
        after_key: cursor.map(|c| c.key),
    };
    let assignee = match p.assignee.as_deref() {
        None => None,
        Some("me") => Some(scope.user_id),
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| bad_person("assignee"))?),
    };
    let entity = p
        .entity
        .as_deref()
        .map(|e| TaskEntity::parse(e).ok_or_else(|| bad_param("entity", "shot, asset")))
        .transpose()?;
    let f = TaskFilter {
        project_id: p.project_id,
        sequence_id: p.sequence_id,
        status_id: p.status_id,
        task_type_id: p.task_type_id,
        assignee,
        due_after: p.due_after,
        due_before: p.due_before,
        entity,
        episode_id: p.episode_id,
        fields,
    };
    Ok(Json(
        state
            .store
            .tenant(scope)
            .tasks_sorted(&f, &sort, &q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskInput {
    /// The shot the task is on; give this or `asset_id`, not both.
    pub shot_id: Option<Uuid>,
    /// The asset the task is on.
    pub asset_id: Option<Uuid>,
    pub task_type_id: Uuid,
    /// The project's default status when absent.
    pub status_id: Option<Uuid>,
    #[serde(default)]
    pub assignees: Vec<Uuid>,
    /// -10 to 10: below 0 low, 0 (the default) normal, 1 high, 2 and above urgent.
    #[serde(default)]
    #[schema(minimum = -10, maximum = 10)]
    pub priority: i64,
    pub estimate_minutes: Option<i64>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTasksInput {
    /// Up to 1,000 tasks, created together or not at all.
    pub tasks: Vec<NewTaskInput>,
}

#[utoipa::path(post, path = "/api/v1/tasks", tag = "tracking", request_body = CreateTasksInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Items<Task>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_tasks(
    AxState(state): AxState<State>,
    m: Member,
    key: IdempotencyKey,
    Body(input): Body<CreateTasksInput>,
) -> Response {
    let scope = match m.may(Permission::PlanProduction) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let new: Vec<NewTask> = input
            .tasks
            .into_iter()
            .map(|t| NewTask {
                shot_id: t.shot_id,
                asset_id: t.asset_id,
                task_type_id: t.task_type_id,
                status_id: t.status_id,
                assignees: t.assignees,
                priority: t.priority,
                estimate_minutes: t.estimate_minutes,
                start_date: t.start_date,
                due_date: t.due_date,
            })
            .collect();
        let items = st.store.tenant(&scope).create_tasks(&new).await?;
        let body = serde_json::to_value(Items { items }).unwrap_or_default();
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// One task, with the time logged on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    /// Minutes logged on the task, by everyone.
    pub logged_minutes: i64,
}

#[utoipa::path(get, path = "/api/v1/tasks/{task_id}", tag = "tracking", params(("task_id" = Uuid, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = Problem)))]
async fn get_task(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
) -> ApiResult<Response> {
    let scope = m.may(Permission::ReadOrg)?;
    let task = state.store.tenant(scope).task(task_id).await?;
    let logged_minutes = state
        .store
        .tenant(scope)
        .task_logged_minutes(task_id)
        .await?;
    Ok((
        etag(task.version),
        Json(TaskDetail {
            task,
            logged_minutes,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    pub status_id: Option<Uuid>,
    pub assignees: Option<Vec<Uuid>>,
    /// -10 to 10: below 0 low, 0 normal, 1 high, 2 and above urgent.
    #[schema(minimum = -10, maximum = 10)]
    pub priority: Option<i64>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<i64>)]
    pub estimate_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Option<String>>,
    /// What the task is for: up to 20,000 characters, stored trimmed; `""` clears it.
    #[schema(max_length = 20000)]
    pub description: Option<String>,
}

impl From<TaskPatch> for TaskChanges {
    fn from(p: TaskPatch) -> Self {
        TaskChanges {
            status_id: p.status_id,
            assignees: p.assignees,
            priority: p.priority,
            estimate_minutes: p.estimate_minutes,
            start_date: p.start_date,
            due_date: p.due_date,
            description: p.description,
        }
    }
}

/// What a change of a task needs: planning for assignees, priority, estimate, dates and the
/// description; a status alone needs review, and the workflow then says whether the caller's
/// role may set it.
fn needed_for(c: &TaskChanges) -> Permission {
    let planning = c.assignees.is_some()
        || c.priority.is_some()
        || c.estimate_minutes.is_some()
        || c.start_date.is_some()
        || c.due_date.is_some()
        || c.description.is_some();
    if planning {
        Permission::PlanProduction
    } else {
        Permission::Review
    }
}

#[utoipa::path(patch, path = "/api/v1/tasks/{task_id}", tag = "tracking", request_body = TaskPatch,
    params(("task_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Task), (status = 403, body = Problem, description = "The caller's role may not plan (assignees, priority, estimate, dates, description), or may not set this status (the status's set_by; artists only on their own tasks)"), (status = 404, body = Problem), (status = 409, body = Problem, description = "Stale version or a transition the workflow does not allow"), (status = 422, body = Problem)))]
async fn update_task(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<TaskPatch>,
) -> ApiResult<Response> {
    let c: TaskChanges = p.into();
    let t = state
        .store
        .tenant(m.may(needed_for(&c))?)
        .update_task(task_id, v, &c)
        .await?;
    Ok((etag(t.version), Json(t)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    pub id: Uuid,
    /// The version you saw; the whole batch is refused with 409 if any task moved on.
    pub version: Option<i64>,
    pub status_id: Option<Uuid>,
    pub assignees: Option<Vec<Uuid>>,
    pub priority: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// Up to 1,000 changes, applied together or not at all.
    pub updates: Vec<BulkItem>,
}

#[utoipa::path(post, path = "/api/v1/tasks/bulk-update", tag = "tracking", request_body = BulkInput,
    responses((status = 200, body = Items<Task>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn bulk_update(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<BulkInput>,
) -> ApiResult<TaskItems> {
    let changes: Vec<(Uuid, Option<i64>, TaskChanges)> = input
        .updates
        .into_iter()
        .map(|u| {
            (
                u.id,
                u.version,
                TaskChanges {
                    status_id: u.status_id,
                    assignees: u.assignees,
                    priority: u.priority,
                    ..Default::default()
                },
            )
        })
        .collect();
    let needed = if changes
        .iter()
        .any(|(_, _, c)| needed_for(c) == Permission::PlanProduction)
    {
        Permission::PlanProduction
    } else {
        Permission::Review
    };
    Ok(TaskItems(
        state
            .store
            .tenant(m.may(needed)?)
            .update_tasks(&changes)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/shots/{shot_id}/tasks", tag = "tracking", params(("shot_id" = Uuid, Path)),
    responses((status = 200, body = Items<Task>), (status = 404, body = Problem)))]
async fn shot_tasks(
    AxState(state): AxState<State>,
    m: Member,
    Path(shot_id): Path<Uuid>,
) -> ApiResult<TaskItems> {
    Ok(TaskItems(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .shot_tasks(shot_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SequenceTaskParams {
    /// Only this pipeline step's tasks: one column of the grid.
    pub task_type_id: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/sequences/{sequence_id}/tasks", tag = "tracking", params(("sequence_id" = Uuid, Path), SequenceTaskParams),
    responses((status = 200, body = Items<Task>, description = "Every shot task of the sequence (or of one pipeline step), in cut order"), (status = 404, body = Problem)))]
async fn sequence_tasks(
    AxState(state): AxState<State>,
    m: Member,
    Path(sequence_id): Path<Uuid>,
    Q(p): Q<SequenceTaskParams>,
) -> ApiResult<TaskItems> {
    Ok(TaskItems(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .sequence_tasks_of(sequence_id, p.task_type_id)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/tasks/{task_id}/notes", tag = "tracking", params(("task_id" = Uuid, Path)),
    responses((status = 200, body = Items<Note>), (status = 404, body = Problem)))]
async fn list_notes(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
) -> ApiResult<Json<Items<Note>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .notes(task_id)
            .await?,
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[serde(default)]
    pub body: String,
    /// The frame the note is about.
    pub frame: Option<i64>,
    /// The last frame of a range the note is about, from `frame` (both included).
    pub frame_out: Option<i64>,
    /// Shapes drawn on `frame`, in coordinates relative to the picture.
    pub drawing: Option<Vec<Shape>>,
    /// Reply to this note.
    pub parent_id: Option<Uuid>,
    /// Change the task's status with the note, atomically (send If-Match with the task's version).
    pub status_id: Option<Uuid>,
}

impl NoteInput {
    fn on_frames(&self) -> OnFrames {
        OnFrames {
            frame: self.frame,
            frame_out: self.frame_out,
            drawing: self.drawing.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteOut {
    pub note: Note,
    pub task: Task,
}

#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/notes", tag = "tracking", request_body = NoteInput,
    params(("task_id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The task's version, when changing its status"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried note safe: the retry gets the first answer")),
    responses((status = 201, body = NoteOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_note(
    AxState(state): AxState<State>,
    m: Member,
    Path(task_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    key: IdempotencyKey,
    Body(n): Body<NoteInput>,
) -> Response {
    let scope = match m.may(Permission::Review) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    if key.0.is_none() {
        let status_to = n.status_id.map(|s| (s, v));
        return match state
            .store
            .tenant(&scope)
            .add_note(task_id, &n.body, n.on_frames(), n.parent_id, status_to)
            .await
        {
            // The task's new version as its ETag, for the next If-Match.
            Ok((note, task)) => (
                StatusCode::CREATED,
                etag(task.version),
                Json(NoteOut { note, task }),
            )
                .into_response(),
            Err(e) => ApiError::from(e).into_response(),
        };
    }
    // With a key, a retry gets the first answer back (the task's version is in its body); the
    // version the request was sent with is part of the request.
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, (n, v), |(n, v)| async move {
        let status_to = n.status_id.map(|s| (s, v));
        let (note, task) = st
            .store
            .tenant(&scope)
            .add_note(task_id, &n.body, n.on_frames(), n.parent_id, status_to)
            .await?;
        let body = serde_json::to_value(NoteOut { note, task }).unwrap_or_default();
        Ok((StatusCode::CREATED, body))
    })
    .await
}
