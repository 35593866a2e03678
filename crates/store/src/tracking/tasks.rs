//! Tasks on shots and assets: per-project task types (the pipeline steps), a status workflow with
//! allowed transitions, assignees, notes on tasks (a status change with its note is one atomic
//! write; notes elsewhere are in `notes`), and the progress overview of a project.

use mstation_core::validate::{self, FieldError};
use mstation_core::{Role, TenantScope};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids_out;
use super::notes::{NOTE_COLS, Note, OnFrames, write_note};
use crate::{
    Actor, Arg, Backend, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row,
    StoreError, Tenant, WriteTx, new_id, now_ms,
};

/// (short name, name, colour, done, retake, needs review, client approved, default)
pub type StatusSeed = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
    bool,
    bool,
    bool,
);

/// Colours from the Okabe–Ito palette, told apart with every common colour-vision deficiency;
/// each chip also carries its short name.
pub const DEFAULT_STATUSES: [StatusSeed; 6] = [
    ("todo", "To do", "#9e9e9e", false, false, false, false, true),
    (
        "wip",
        "In progress",
        "#0072b2",
        false,
        false,
        false,
        false,
        false,
    ),
    (
        "wfa",
        "Waiting for approval",
        "#e69f00",
        false,
        false,
        true,
        false,
        false,
    ),
    (
        "retake", "Retake", "#d55e00", false, true, false, false, false,
    ),
    ("done", "Done", "#009e73", true, false, false, false, false),
    (
        "approved",
        "Client approved",
        "#005f46",
        true,
        false,
        false,
        true,
        false,
    ),
];

/// Who may set a status of the default workflow, from what the status means: supervisors give
/// retakes and finals; producers, supervisors and the client's reviewers give client approval;
/// producers, coordinators and supervisors send work back to the start; artists and supervisors
/// move work along. The same rule gave existing workflows their roles (migration 0018).
pub fn default_set_by(done: bool, retake: bool, client: bool, default: bool) -> &'static str {
    if client {
        "producer supervisor client"
    } else if done || retake {
        "supervisor"
    } else if default {
        "producer coordinator supervisor"
    } else {
        "artist supervisor"
    }
}

/// The roles named in a stored `set_by`, in the order of `Role`; a name this version does not
/// know is left out.
fn roles_of(text: &str) -> Vec<Role> {
    let mut roles: Vec<Role> = text.split_whitespace().filter_map(Role::parse).collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// The pipeline steps a new project starts with for its shots: (short name, name, colour).
pub const DEFAULT_TASK_TYPES: [(&str, &str, &str); 6] = [
    ("layout", "Layout", "#7e57c2"),
    ("anim", "Animation", "#42a5f5"),
    ("fx", "FX", "#ff7043"),
    ("light", "Lighting", "#ffca28"),
    ("comp", "Compositing", "#26a69a"),
    ("grade", "Grade", "#8d6e63"),
];

/// The steps a new project starts with for its assets, after the shot steps in sort order
/// (migration 0023 gives them to projects made before).
pub const DEFAULT_ASSET_TASK_TYPES: [(&str, &str, &str); 5] = [
    ("concept", "Concept", "#cc79a7"),
    ("model", "Modelling", "#56b4e9"),
    ("rig", "Rigging", "#e69f00"),
    ("tex", "Texturing", "#f0e442"),
    ("lookdev", "Lookdev", "#009e73"),
];

/// Every default step, the shot steps then the asset steps.
pub fn default_steps() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)>
{
    DEFAULT_TASK_TYPES
        .iter()
        .chain(DEFAULT_ASSET_TASK_TYPES.iter())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskStatus {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub short_name: String,
    pub color: String,
    pub is_done: bool,
    pub is_retake: bool,
    pub needs_review: bool,
    pub client_approved: bool,
    pub is_default: bool,
    pub sort_order: i64,
    /// The roles that may set a task to this status. Owners and admins may set any status; an
    /// artist only on a task assigned to them.
    pub set_by: Vec<Role>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskType {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub short_name: String,
    pub color: String,
    pub sort_order: i64,
    /// `shot` or `asset`: the grid the step is a column of and what gets its task by default.
    /// A task of either may be made on a shot or an asset.
    pub entity: String,
}

impl TaskType {
    pub fn is_for_assets(&self) -> bool {
        self.entity == "asset"
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    /// The shot's sequence, for a task on a shot.
    pub sequence_id: Option<Uuid>,
    /// A task belongs to exactly one of a shot or an asset.
    pub shot_id: Option<Uuid>,
    pub asset_id: Option<Uuid>,
    pub task_type_id: Uuid,
    pub status_id: Uuid,
    /// User ids of the people assigned.
    #[serde(serialize_with = "ids_out")]
    #[schema(value_type = Vec<Uuid>)]
    pub assignees: String,
    /// -10 to 10: below 0 low, 0 normal, 1 high, 2 and above urgent.
    pub priority: i64,
    pub estimate_minutes: Option<i64>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    /// What the task is for, in the planner's words; empty when none.
    pub description: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
}

/// A task to create, on exactly one of a shot or an asset.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub shot_id: Option<Uuid>,
    pub asset_id: Option<Uuid>,
    pub task_type_id: Uuid,
    pub status_id: Option<Uuid>,
    pub assignees: Vec<Uuid>,
    pub priority: i64,
    pub estimate_minutes: Option<i64>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
}

/// What a task update changes; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub status_id: Option<Uuid>,
    pub assignees: Option<Vec<Uuid>>,
    pub priority: Option<i64>,
    pub estimate_minutes: Option<Option<i64>>,
    pub start_date: Option<Option<String>>,
    pub due_date: Option<Option<String>>,
    /// Stored trimmed; up to `MAX_DESCRIPTION` characters.
    pub description: Option<String>,
}

/// The longest description a task may have, in characters.
pub const MAX_DESCRIPTION: usize = 20_000;

/// One person put on or taken off a task, whoever else is on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    Add(Uuid),
    Remove(Uuid),
}

/// Filters of the task list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<Uuid>,
    pub sequence_id: Option<Uuid>,
    pub status_id: Option<Uuid>,
    pub task_type_id: Option<Uuid>,
    pub assignee: Option<Uuid>,
    pub due_after: Option<String>,
    pub due_before: Option<String>,
    /// Only tasks on shots, or only tasks on assets.
    pub entity: Option<TaskEntity>,
    /// Tasks on the shots of the episode's sequences and on the episode's assets.
    pub episode_id: Option<Uuid>,
    /// Custom task fields (`field.<key>`), each an equality or a bound of a range.
    pub fields: Vec<super::fields::FieldFilter>,
}

/// The order of a task list. Pages follow it by keyset: the cursor holds the last task's sort
/// value and id, so a page never repeats or skips a task whatever changes between two pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskOrder {
    /// Creation order (the id).
    #[default]
    Created,
    /// Due date, tasks without one last.
    Due,
    Priority,
}

/// Where a sorted page starts: after the task with this sort value and id.
#[derive(Debug, Clone, Default)]
pub struct TaskSort {
    pub order: TaskOrder,
    /// The sort value of the last task seen (from the cursor), for `Due` and `Priority`.
    pub after_key: Option<String>,
}

enum SortKey {
    Text(String),
    Int(i64),
}

/// What a task is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEntity {
    Shot,
    Asset,
}

impl TaskEntity {
    pub fn parse(s: &str) -> Option<TaskEntity> {
        match s {
            "shot" => Some(TaskEntity::Shot),
            "asset" => Some(TaskEntity::Asset),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            TaskEntity::Shot => "shot",
            TaskEntity::Asset => "asset",
        }
    }
}

/// How far the shot work of a project has come: per sequence, tasks per status and per task
/// type and status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub project_id: Uuid,
    /// In name order (SQ010 before SQ020), including sequences without tasks.
    pub sequences: Vec<SequenceProgress>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SequenceProgress {
    pub sequence_id: Uuid,
    pub name: String,
    /// Shots in the current cut.
    pub shots: i64,
    /// Tasks on the sequence's shots in the current cut (omitted shots are not counted).
    pub tasks: i64,
    /// In workflow order; statuses without tasks are left out.
    pub by_status: Vec<StatusCount>,
    /// In pipeline order, then workflow order.
    pub by_type: Vec<TypeStatusCount>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusCount {
    pub status_id: Uuid,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeStatusCount {
    pub task_type_id: Uuid,
    pub status_id: Uuid,
    pub count: i64,
}

/// One grouped count of `progress`: tasks of a sequence in one type and status.
struct ProgressCount {
    sequence_id: Uuid,
    task_type_id: Uuid,
    status_id: Uuid,
    /// The status's place in the workflow.
    status_order: i64,
    count: i64,
}

/// A row of (sequence, type, status, type order, status order, count); the type order is only
/// the query's sort.
impl FromRow for ProgressCount {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (sequence_id, task_type_id, status_id) = (r.get()?, r.get()?, r.get()?);
        r.skip();
        Ok(ProgressCount {
            sequence_id,
            task_type_id,
            status_id,
            status_order: r.get()?,
            count: r.get()?,
        })
    }
}

const TASK_COLS: &str = "id, org_id, project_id, sequence_id, shot_id, asset_id, task_type_id, status_id, assignees, priority, estimate_minutes, start_date, due_date, description, created_at, updated_at, version";
const STATUS_COLS: &str = "id, project_id, name, short_name, color, is_done, is_retake, needs_review, client_approved, is_default, sort_order, set_by";
pub const MAX_BULK: usize = 1000;

const TYPE_COLS: &str = "id, project_id, name, short_name, color, sort_order, entity";

/// A row of `TASK_COLS`, in that order.
impl FromRow for Task {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Task {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            sequence_id: r.get()?,
            shot_id: r.get()?,
            asset_id: r.get()?,
            task_type_id: r.get()?,
            status_id: r.get()?,
            assignees: r.get()?,
            priority: r.get()?,
            estimate_minutes: r.get()?,
            start_date: r.get()?,
            due_date: r.get()?,
            description: r.get()?,
            created_at: r.get()?,
            updated_at: r.get()?,
            version: r.get()?,
        })
    }
}

/// A row of `STATUS_COLS`, in that order.
impl FromRow for TaskStatus {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(TaskStatus {
            id: r.get()?,
            project_id: r.get()?,
            name: r.get()?,
            short_name: r.get()?,
            color: r.get()?,
            is_done: r.get()?,
            is_retake: r.get()?,
            needs_review: r.get()?,
            client_approved: r.get()?,
            is_default: r.get()?,
            sort_order: r.get()?,
            set_by: roles_of(&r.get::<String>()?),
        })
    }
}

/// A row of `TYPE_COLS`, in that order.
impl FromRow for TaskType {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(TaskType {
            id: r.get()?,
            project_id: r.get()?,
            name: r.get()?,
            short_name: r.get()?,
            color: r.get()?,
            sort_order: r.get()?,
            entity: r.get()?,
        })
    }
}

/// The task columns, each prefixed with a table alias.
fn prefixed(alias: &str) -> String {
    TASK_COLS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn join_ids(ids: &[Uuid]) -> String {
    let mut v: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    v.sort();
    v.dedup();
    v.join(" ")
}

fn check_date(field: &'static str, d: &Option<String>) -> Result<()> {
    if let Some(d) = d {
        let b = d.as_bytes();
        let ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && d.chars()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !ok {
            return Err(FieldError::new(field, "not_a_date").into());
        }
    }
    Ok(())
}

/// Checks everything about a task change that does not need the database.
fn check_changes(c: &TaskChanges) -> Result<()> {
    if let Some(p) = c.priority
        && !(-10..=10).contains(&p)
    {
        return Err(FieldError::new("priority", "out_of_range").into());
    }
    if let Some(Some(e)) = c.estimate_minutes
        && !(0..=1_000_000).contains(&e)
    {
        return Err(FieldError::new("estimate_minutes", "out_of_range").into());
    }
    if c.assignees.as_ref().is_some_and(|a| a.len() > 50) {
        return Err(FieldError::new("assignees", "too_many").into());
    }
    if let Some(d) = &c.description {
        validate::text("description", d, MAX_DESCRIPTION)?;
    }
    check_date("start_date", c.start_date.as_ref().unwrap_or(&None))?;
    check_date("due_date", c.due_date.as_ref().unwrap_or(&None))
}

/// Inside a write: every assignee is a member of the organisation.
async fn check_assignees(tx: &mut WriteTx<'_>, org_id: Uuid, ids: &[Uuid]) -> Result<()> {
    for u in ids {
        if !crate::identity::is_member(tx, org_id, *u).await? {
            return Err(FieldError::new("assignees", "not_a_member").into());
        }
    }
    Ok(())
}

/// Inside a write transaction: `to` is a status of the project and the workflow allows the move.
/// The three columns of `TaskAndMove` beside a task `t`: whether the status `to` is one of the
/// task's project, whether the workflow lets the task's status go to it, and who may set it.
fn workflow_answer(to: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM task_statuses s WHERE s.project_id = t.project_id AND s.id = {to}) AS status_known,
         (SELECT COUNT(*) FROM status_transitions x WHERE x.project_id = t.project_id AND x.from_status_id = t.status_id AND x.to_status_id = {to}) AS move_allowed,
         (SELECT s.set_by FROM task_statuses s WHERE s.project_id = t.project_id AND s.id = {to}) AS set_by"
    )
}

/// A task read for a change, with what the workflow says of the status asked for.
struct TaskAndMove {
    task: Task,
    status_known: i64,
    move_allowed: i64,
    set_by: Option<String>,
}

/// A row of `TASK_COLS` and the three workflow columns.
impl FromRow for TaskAndMove {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(TaskAndMove {
            task: Task::from_row(r)?,
            status_known: r.get()?,
            move_allowed: r.get()?,
            set_by: r.get()?,
        })
    }
}

/// Inside a write: applies `c` to the task `id` seen at `expected` (if given), records it, and
/// answers the task before and after the change.
async fn apply_task_change(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    id: Uuid,
    expected: Option<i64>,
    c: &TaskChanges,
) -> Result<(Task, Task)> {
    let read = read_for_change(tx, scope, id, c.status_id).await?;
    apply_read_change(tx, scope, read, expected, c).await
}

/// Inside a write: the task `id`, locked on PostgreSQL, and in the same read whether the status
/// `to` is one of its project's and may follow the current one.
async fn read_for_change(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    id: Uuid,
    to: Option<Uuid>,
) -> Result<TaskAndMove> {
    let text = format!(
        "SELECT {}, {} FROM tasks t WHERE t.org_id = $1 AND t.id = $2{}",
        prefixed("t"),
        workflow_answer("$3"),
        tx.lock_rows()
    );
    let args = [scope.org_id.into(), id.into(), to.into()];
    tx.query_opt(&text, &args)
        .await?
        .ok_or(StoreError::NotFound { entity: "task" })
}

/// Inside a write: applies `c` to a task already read (locked on PostgreSQL) with its workflow
/// answer, records it, and answers the task before and after.
async fn apply_read_change(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    read: TaskAndMove,
    expected: Option<i64>,
    c: &TaskChanges,
) -> Result<(Task, Task)> {
    let TaskAndMove {
        task: before,
        status_known,
        move_allowed,
        set_by,
    } = read;
    if let Some(v) = expected
        && v != before.version
    {
        return Err(StoreError::Stale {
            entity: "task",
            current: before.version,
        });
    }
    let mut after = before.clone();
    if let Some(s) = c.status_id {
        if status_known == 0 {
            return Err(FieldError::new("status_id", "not_a_status_of_this_project").into());
        }
        if s != before.status_id {
            let assigned = before.assignees.contains(&scope.user_id.to_string());
            let set_by = roles_of(set_by.as_deref().unwrap_or_default());
            if !scope.role.may_set_status(&set_by, assigned) {
                let rule = if scope.role == Role::Artist && set_by.contains(&Role::Artist) {
                    super::TrackingRule::NotYourTask
                } else {
                    super::TrackingRule::StatusNotForRole
                };
                return Err(StoreError::from(rule));
            }
            if move_allowed == 0 {
                return Err(StoreError::from(super::TrackingRule::TransitionNotAllowed));
            }
        }
        after.status_id = s;
    }
    if let Some(a) = &c.assignees {
        check_assignees(tx, scope.org_id, a).await?;
        after.assignees = join_ids(a);
    }
    if let Some(p) = c.priority {
        after.priority = p;
    }
    if let Some(e) = c.estimate_minutes {
        after.estimate_minutes = e;
    }
    if let Some(d) = &c.start_date {
        after.start_date = d.clone();
    }
    if let Some(d) = &c.due_date {
        after.due_date = d.clone();
    }
    if let Some(d) = &c.description {
        after.description = d.trim().to_string();
    }
    after.version += 1;
    after.updated_at = Millis(now_ms());
    // The row was read in this transaction under the write lock (SQLite) or FOR UPDATE
    // (PostgreSQL), so the version check below never fires but for a bug.
    if let Some(a) = &c.assignees {
        tx.execute(
            "DELETE FROM task_assignees WHERE task_id = $1 AND org_id = $2",
            &[before.id.into(), scope.org_id.into()],
        )
        .await?;
        for u in a {
            let args = [
                before.id.into(),
                u.into(),
                scope.org_id.into(),
                after.status_id.into(),
                before.project_id.into(),
            ];
            tx.execute(
                "INSERT INTO task_assignees (task_id, user_id, org_id, status_id, project_id)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (task_id, user_id) DO NOTHING",
                &args,
            )
            .await?;
        }
    } else if after.status_id != before.status_id && !before.assignees.is_empty() {
        // The assignments carry the status, so "my tasks in this status" is one index range.
        tx.execute(
            "UPDATE task_assignees SET status_id = $1 WHERE task_id = $2 AND org_id = $3",
            &[
                after.status_id.into(),
                before.id.into(),
                scope.org_id.into(),
            ],
        )
        .await?;
    }
    let args = [
        after.status_id.into(),
        (&after.assignees).into(),
        after.priority.into(),
        after.estimate_minutes.into(),
        (&after.start_date).into(),
        (&after.due_date).into(),
        (&after.description).into(),
        after.updated_at.into(),
        after.version.into(),
        scope.org_id.into(),
        before.id.into(),
        before.version.into(),
    ];
    crate::update_seen(
        tx,
        "task",
        None,
        before.version,
        "UPDATE tasks SET status_id = $1, assignees = $2, priority = $3,
             estimate_minutes = $4, start_date = $5, due_date = $6, description = $7,
             updated_at = $8, version = $9
             WHERE org_id = $10 AND id = $11 AND version = $12",
        &args,
    )
    .await?;
    let action = if after.status_id != before.status_id {
        "task.status_changed"
    } else {
        "task.updated"
    };
    let change = Change::new(Some(scope.org_id), action, "task", before.id);
    tx.record(&Actor::of(scope), change.before(&before).after(&after))
        .await?;
    Ok((before, after))
}

/// Inside a write: creates the task `n` (checked by `check_changes`) and records it.
async fn create_task(tx: &mut WriteTx<'_>, scope: &TenantScope, n: &NewTask) -> Result<Task> {
    let org = Arg::from(scope.org_id);
    // A shot task carries the shot's place in the cut (`tasks_sequence_step`). On PostgreSQL
    // the shot is read FOR SHARE, so a conform moving it at the same moment and this creation
    // take turns: either the conform waits for this task to commit and its trigger moves the
    // task too, or this read waits for the conform and sees the move.
    let (project_id, sequence_id, cut_order) = match (n.shot_id, n.asset_id) {
        (Some(shot_id), _) => {
            let text = format!(
                "SELECT project_id, sequence_id, cut_order FROM shots
                 WHERE org_id = $1 AND id = $2{}",
                tx.share_rows()
            );
            let shot: Option<(Uuid, Uuid, i64)> =
                tx.query_opt(&text, &[org.clone(), shot_id.into()]).await?;
            let Some((p, s, c)) = shot else {
                return Err(StoreError::NotFound { entity: "shot" });
            };
            (p, Some(s), Some(c))
        }
        (None, asset_id) => {
            let asset: Option<Uuid> = tx
                .scalar_opt(
                    "SELECT project_id FROM assets WHERE org_id = $1 AND id = $2",
                    &[org.clone(), asset_id.into()],
                )
                .await?;
            let Some(p) = asset else {
                return Err(StoreError::NotFound { entity: "asset" });
            };
            (p, None, None)
        }
    };
    let ty: Option<Uuid> = tx
        .scalar_opt(
            "SELECT id FROM task_types WHERE project_id = $1 AND id = $2 AND org_id = $3",
            &[project_id.into(), n.task_type_id.into(), org.clone()],
        )
        .await?;
    if ty.is_none() {
        return Err(FieldError::new("task_type_id", "not_a_task_type_of_this_project").into());
    }
    let status_id: Uuid = match n.status_id {
        Some(s) => tx
            .scalar_opt(
                "SELECT id FROM task_statuses WHERE project_id = $1 AND id = $2 AND org_id = $3",
                &[project_id.into(), s.into(), org.clone()],
            )
            .await?
            .ok_or(FieldError::new("status_id", "not_a_status_of_this_project"))?,
        None => {
            tx.scalar(
                "SELECT id FROM task_statuses WHERE project_id = $1 AND org_id = $2
                 ORDER BY is_default DESC, sort_order LIMIT 1",
                &[project_id.into(), org.clone()],
            )
            .await?
        }
    };
    check_assignees(tx, scope.org_id, &n.assignees).await?;
    let now = Millis(now_ms());
    let t = Task {
        id: new_id(),
        org_id: scope.org_id,
        project_id,
        sequence_id,
        shot_id: n.shot_id,
        asset_id: n.asset_id,
        task_type_id: n.task_type_id,
        status_id,
        assignees: join_ids(&n.assignees),
        priority: n.priority,
        estimate_minutes: n.estimate_minutes,
        start_date: n.start_date.clone(),
        due_date: n.due_date.clone(),
        description: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let text = format!(
        "INSERT INTO tasks ({TASK_COLS}, cut_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    );
    let args = [
        t.id.into(),
        t.org_id.into(),
        t.project_id.into(),
        t.sequence_id.into(),
        t.shot_id.into(),
        t.asset_id.into(),
        t.task_type_id.into(),
        t.status_id.into(),
        (&t.assignees).into(),
        t.priority.into(),
        t.estimate_minutes.into(),
        (&t.start_date).into(),
        (&t.due_date).into(),
        (&t.description).into(),
        t.created_at.into(),
        t.updated_at.into(),
        t.version.into(),
        cut_order.into(),
    ];
    tx.execute(&text, &args)
        .await
        .map_err(|e| crate::dup(e, "task", "task_type_id"))?;
    for u in &n.assignees {
        let args = [
            t.id.into(),
            u.into(),
            org.clone(),
            t.status_id.into(),
            t.project_id.into(),
        ];
        tx.execute(
            "INSERT INTO task_assignees (task_id, user_id, org_id, status_id, project_id)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (task_id, user_id) DO NOTHING",
            &args,
        )
        .await?;
    }
    let change = Change::new(Some(scope.org_id), "task.created", "task", t.id);
    tx.record(&Actor::of(scope), change.after(&t)).await?;
    Ok(t)
}

impl Tenant<'_> {
    /// Changes which roles may set the status `id` (a change of the project's workflow).
    pub async fn set_status_roles(&self, id: Uuid, roles: &[Role]) -> Result<TaskStatus> {
        if roles.len() > Role::ALL.len() {
            return Err(FieldError::new("set_by", "too_many").into());
        }
        let scope = self.scope().clone();
        let mut roles = roles.to_vec();
        roles.sort_unstable();
        roles.dedup();
        let text = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.write(move |tx| {
            Box::pin(async move {
                let before = crate::locked::<TaskStatus>(
                    tx,
                    STATUS_COLS,
                    "task_statuses",
                    scope.org_id,
                    id,
                    "task_status",
                )
                .await?;
                tx.execute(
                    "UPDATE task_statuses SET set_by = $1 WHERE org_id = $2 AND id = $3",
                    &[text.into(), scope.org_id.into(), id.into()],
                )
                .await?;
                let after = TaskStatus {
                    set_by: roles,
                    ..before.clone()
                };
                let change =
                    Change::new(Some(scope.org_id), "task_status.updated", "task_status", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    pub async fn task_statuses(&self, project_id: Uuid) -> Result<Vec<TaskStatus>> {
        let scope = self.scope();
        self.project(project_id).await?;
        let text = format!(
            "SELECT {STATUS_COLS} FROM task_statuses WHERE org_id = $1 AND project_id = $2 ORDER BY sort_order"
        );
        self.read(&text, &[scope.org_id.into(), project_id.into()])
            .await
    }

    pub async fn task_types(&self, project_id: Uuid) -> Result<Vec<TaskType>> {
        let scope = self.scope();
        self.project(project_id).await?;
        let text = format!(
            "SELECT {TYPE_COLS} FROM task_types WHERE org_id = $1 AND project_id = $2 ORDER BY sort_order"
        );
        self.read(&text, &[scope.org_id.into(), project_id.into()])
            .await
    }

    /// Creates tasks in one transaction: all of them or none.
    pub async fn create_tasks(&self, new: &[NewTask]) -> Result<Vec<Task>> {
        let scope = self.scope().clone();
        if new.is_empty() || new.len() > MAX_BULK {
            return Err(FieldError::new("tasks", "between_1_and_1000").into());
        }
        for n in new {
            if n.shot_id.is_some() == n.asset_id.is_some() {
                return Err(
                    FieldError::new("shot_id", "exactly_one_of_shot_id_or_asset_id").into(),
                );
            }
            check_changes(&TaskChanges {
                priority: Some(n.priority),
                estimate_minutes: Some(n.estimate_minutes),
                assignees: Some(n.assignees.clone()),
                start_date: Some(n.start_date.clone()),
                due_date: Some(n.due_date.clone()),
                ..Default::default()
            })?;
        }
        let new = new.to_vec();
        let created = self
            .write(move |tx| {
                Box::pin(async move {
                    let mut out = Vec::with_capacity(new.len());
                    for n in &new {
                        out.push(create_task(tx, &scope, n).await?);
                    }
                    Ok(out)
                })
            })
            .await?;
        self.wrote_rows(created.len());
        Ok(created)
    }

    pub async fn task(&self, id: Uuid) -> Result<Task> {
        self.one(TASK_COLS, "tasks", id, "task").await
    }

    /// The tasks of one shot, in pipeline order.
    pub async fn shot_tasks(&self, shot_id: Uuid) -> Result<Vec<Task>> {
        let scope = self.scope();
        let text = format!(
            "SELECT {} FROM tasks t JOIN task_types y ON y.id = t.task_type_id WHERE t.org_id = $1 AND t.shot_id = $2 ORDER BY y.sort_order",
            prefixed("t")
        );
        let rows = self
            .read(
                &text,
                &[Arg::Uuid(Some(scope.org_id)), Arg::Uuid(Some(shot_id))],
            )
            .await?;
        if rows.is_empty() {
            self.shot(shot_id).await?;
        }
        Ok(rows)
    }

    /// The tasks of one asset, in pipeline order.
    pub async fn asset_tasks(&self, asset_id: Uuid) -> Result<Vec<Task>> {
        let scope = self.scope();
        let text = format!(
            "SELECT {} FROM tasks t JOIN task_types y ON y.id = t.task_type_id WHERE t.org_id = $1 AND t.asset_id = $2 ORDER BY y.sort_order",
            prefixed("t")
        );
        let rows = self
            .read(
                &text,
                &[Arg::Uuid(Some(scope.org_id)), Arg::Uuid(Some(asset_id))],
            )
            .await?;
        if rows.is_empty() {
            self.asset(asset_id).await?;
        }
        Ok(rows)
    }

    /// The shot tasks of a sequence, in cut order then pipeline order: one read for a shot grid.
    pub async fn sequence_tasks(&self, sequence_id: Uuid) -> Result<Vec<Task>> {
        self.sequence_tasks_of(sequence_id, None).await
    }

    /// The shot tasks of a sequence, of one pipeline step when `task_type_id` is given: one
    /// column of the grid.
    pub async fn sequence_tasks_of(
        &self,
        sequence_id: Uuid,
        task_type_id: Option<Uuid>,
    ) -> Result<Vec<Task>> {
        let scope = self.scope();
        let text = match (self.store.backend(), task_type_id.is_some()) {
            // One step: a range of `tasks_sequence_step`, already in cut order, on both backends.
            (_, true) => format!(
                "SELECT {} FROM tasks t WHERE t.org_id = $1 AND t.sequence_id = $2 AND t.task_type_id = $3 ORDER BY t.cut_order",
                prefixed("t")
            ),
            // The shots in cut order drive (CROSS JOIN holds SQLite's planner to that order):
            // each shot's tasks are one lookup, sorted by step in memory.
            (Backend::Sqlite, false) => format!(
                "SELECT {} FROM shots s CROSS JOIN tasks t JOIN task_types y ON y.id = t.task_type_id
                 WHERE s.org_id = $1 AND s.sequence_id = $2 AND t.shot_id = s.id AND t.org_id = $1
                 ORDER BY s.cut_order, y.sort_order",
                prefixed("t")
            ),
            (Backend::Postgres, false) => format!(
                "SELECT {} FROM tasks t JOIN task_types y ON y.id = t.task_type_id
                 WHERE t.org_id = $1 AND t.sequence_id = $2 ORDER BY t.cut_order, y.sort_order",
                prefixed("t")
            ),
        };
        let mut args = vec![Arg::Uuid(Some(scope.org_id)), Arg::Uuid(Some(sequence_id))];
        if task_type_id.is_some() {
            args.push(Arg::Uuid(task_type_id));
        }
        let rows = self.read(&text, &args).await?;
        if rows.is_empty() {
            self.sequence(sequence_id).await?;
        }
        Ok(rows)
    }

    /// Tasks across the organisation (or one project), filtered, in creation order, by cursor.
    pub async fn tasks(&self, f: &TaskFilter, q: &ListQuery) -> Result<Page<Task>> {
        self.tasks_sorted(f, &TaskSort::default(), q).await
    }

    /// Tasks across the organisation (or one project), filtered, in `sort` order, by cursor.
    pub async fn tasks_sorted(
        &self,
        f: &TaskFilter,
        sort: &TaskSort,
        q: &ListQuery,
    ) -> Result<Page<Task>> {
        let scope = self.scope();
        check_date("due_after", &f.due_after)?;
        check_date("due_before", &f.due_before)?;
        let custom = self.task_field_filters(f.project_id, &f.fields).await?;
        let entity = f.entity.map(TaskEntity::as_str);
        let (cmp, dir) = q.order();
        let cols = TASK_COLS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // With an assignee, the person's own tasks drive the query (their index gives id
        // order): their tasks, not the whole production; with a status too, only their tasks in
        // that status, as the assignments carry it. Without an assignee, the project's tasks do,
        // through (org, project, status, id).
        let (from, key, who) = if f.assignee.is_some() {
            // CROSS JOIN fixes the join order on SQLite, whose planner would otherwise start from
            // the (org, project, status) index and walk most of a big project.
            let who = match (f.project_id.is_some(), f.status_id.is_some()) {
                (true, true) => {
                    "a.org_id = $1 AND a.user_id = $6 AND a.project_id = $2 AND a.status_id = $4 AND t.id = a.task_id"
                }
                (false, true) => {
                    "a.org_id = $1 AND a.user_id = $6 AND a.status_id = $4 AND t.id = a.task_id"
                }
                (true, false) => {
                    "a.org_id = $1 AND a.user_id = $6 AND a.project_id = $2 AND t.id = a.task_id"
                }
                (false, false) => "a.org_id = $1 AND a.user_id = $6 AND t.id = a.task_id",
            };
            ("task_assignees a CROSS JOIN tasks t", "a.task_id", who)
        } else {
            ("tasks t", "t.id", "$6 IS NULL")
        };
        let filter = format!(
            "{who} AND t.org_id = $1 AND ($2 IS NULL OR t.project_id = $2) AND ($3 IS NULL OR t.sequence_id = $3) AND ($4 IS NULL OR t.status_id = $4)
             AND ($5 IS NULL OR t.task_type_id = $5) AND ($7 IS NULL OR t.due_date >= $7) AND ($8 IS NULL OR t.due_date <= $8)
             AND ($9 IS NULL OR ($9 = 'shot' AND t.shot_id IS NOT NULL) OR ($9 = 'asset' AND t.asset_id IS NOT NULL))
             AND ($10 IS NULL OR t.sequence_id IN (SELECT id FROM sequences WHERE org_id = $1 AND episode_id = $10)
                  OR t.asset_id IN (SELECT id FROM assets WHERE org_id = $1 AND episode_id = $10))"
        );
        // Keyset paging: by id alone in creation order, else by (sort value, id).
        let value = match sort.order {
            TaskOrder::Created => None,
            TaskOrder::Due => Some("COALESCE(t.due_date, '9999-12-31')"),
            TaskOrder::Priority => Some("t.priority"),
        };
        let after_key = match (sort.order, &sort.after_key, q.after) {
            (TaskOrder::Created, _, _) | (_, _, None) => None,
            (TaskOrder::Due, Some(k), Some(_)) => Some(SortKey::Text(k.clone())),
            (TaskOrder::Priority, Some(k), Some(_)) => {
                Some(SortKey::Int(k.parse().map_err(|_| {
                    FieldError::new("cursor", "not_a_cursor_of_this_sort")
                })?))
            }
            (_, None, Some(_)) => {
                return Err(FieldError::new("cursor", "not_a_cursor_of_this_sort").into());
            }
        };
        // Custom field filters come after the fixed parameters (and the sort key, when there is
        // one): $13… or $14… here, $11… in the count.
        let custom_from = if after_key.is_some() { 14 } else { 13 };
        let custom_page = super::fields::clauses(&custom, custom_from);
        let text = match value {
            None => format!(
                "SELECT {cols} FROM {from} WHERE {filter} AND ($11 IS NULL OR {key} {cmp} $11){custom_page} ORDER BY {key} {dir} LIMIT $12"
            ),
            Some(v) => {
                let from_cursor = if after_key.is_some() {
                    format!("AND ({v} {cmp} $13 OR ({v} = $13 AND {key} {cmp} $11))")
                } else {
                    "AND $11 IS NULL".to_string()
                };
                format!(
                    "SELECT {cols} FROM {from} WHERE {filter} {from_cursor}{custom_page} ORDER BY {v} {dir}, {key} {dir} LIMIT $12"
                )
            }
        };
        // Counting stops after the cap, so the total never costs more than the page.
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {filter}{} LIMIT {}) c",
            super::fields::clauses(&custom, 11),
            crate::COUNT_CAP + 1
        );
        // "My tasks" filtered by project and status only: the assignments alone can count them,
        // an index range without a single task row read.
        let assignments_only = f.assignee.is_some()
            && f.sequence_id.is_none()
            && f.task_type_id.is_none()
            && f.due_after.is_none()
            && f.due_before.is_none()
            && f.entity.is_none()
            && f.episode_id.is_none()
            && custom.is_empty();
        // Only the filters given are written, so the planner sees plain equalities on the index.
        let mut quick: Vec<Uuid> = Vec::new();
        let mut quick_where = String::from("a.org_id = $1 AND a.user_id = $2");
        for (col, v) in [("project_id", f.project_id), ("status_id", f.status_id)] {
            if let Some(v) = v {
                quick.push(v);
                quick_where.push_str(&format!(" AND a.{col} = ${}", quick.len() + 2));
            }
        }
        // On SQLite the per-person counts (`assignment_counts`, kept by triggers) answer it
        // exactly in one read, however many tasks the person has; PostgreSQL counts the range.
        let backend = self.store.backend();
        let quick_count = match backend {
            Backend::Sqlite => {
                format!("SELECT COALESCE(SUM(a.n), 0) FROM assignment_counts a WHERE {quick_where}")
            }
            Backend::Postgres => format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM task_assignees a WHERE {quick_where} LIMIT {}) c",
                crate::COUNT_CAP + 1
            ),
        };
        let exact = assignments_only && backend == Backend::Sqlite;
        let mut args = vec![
            Arg::Uuid(Some(scope.org_id)),
            Arg::Uuid(f.project_id),
            Arg::Uuid(f.sequence_id),
            Arg::Uuid(f.status_id),
            Arg::Uuid(f.task_type_id),
            Arg::Uuid(f.assignee),
            Arg::Text(f.due_after.clone()),
            Arg::Text(f.due_before.clone()),
            Arg::Text(entity.map(str::to_string)),
            Arg::Uuid(f.episode_id),
        ];
        let fields = super::fields::filter_args(&custom);
        let total = if assignments_only {
            let mut quick_args = vec![Arg::Uuid(Some(scope.org_id)), Arg::Uuid(f.assignee)];
            quick_args.extend(quick.iter().map(|v| Arg::Uuid(Some(*v))));
            self.scalar(&quick_count, &quick_args).await?
        } else {
            let count_args: Vec<Arg> = args.iter().chain(&fields).cloned().collect();
            self.scalar(&count, &count_args).await?
        };
        args.push(Arg::Uuid(q.after));
        args.push(Arg::Int(Some(q.limit as i64 + 1)));
        match &after_key {
            Some(SortKey::Text(k)) => args.push(Arg::Text(Some(k.clone()))),
            Some(SortKey::Int(k)) => args.push(Arg::Int(Some(*k))),
            None => {}
        }
        args.extend(fields);
        let items: Vec<Task> = self.read(&text, &args).await?;
        let capped = !exact && total > crate::COUNT_CAP;
        let mut page = q.finish(items, if capped { crate::COUNT_CAP } else { total }, |t| {
            t.id
        });
        page.total_capped = capped;
        if let (Some(next), Some(last)) = (&mut page.next_cursor, page.items.last()) {
            let key = match sort.order {
                TaskOrder::Created => String::new(),
                TaskOrder::Due => last.due_date.clone().unwrap_or_else(|| "9999-12-31".into()),
                TaskOrder::Priority => last.priority.to_string(),
            };
            *next = mstation_core::page::Cursor { key, id: last.id }.encode();
        }
        Ok(page)
    }

    pub async fn update_task(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        c: &TaskChanges,
    ) -> Result<Task> {
        let scope = self.scope().clone();
        check_changes(c)?;
        let c = c.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let (_, after) = apply_task_change(tx, &scope, id, expected_version, &c).await?;
                Ok(after)
            })
        })
        .await
    }

    /// Puts one person on a task or takes them off, in one write against the assignees as they
    /// are then: two planners adding two people both land, whatever else changed meanwhile.
    /// Adding someone already on it or removing someone not on it changes nothing.
    pub async fn assign(&self, id: Uuid, a: Assignment) -> Result<Task> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let read = read_for_change(tx, &scope, id, None).await?;
                let mut people: Vec<Uuid> = read
                    .task
                    .assignees
                    .split_whitespace()
                    .filter_map(|u| Uuid::parse_str(u).ok())
                    .collect();
                match a {
                    Assignment::Add(u) if !people.contains(&u) => people.push(u),
                    Assignment::Remove(u) => people.retain(|p| *p != u),
                    Assignment::Add(_) => {}
                }
                if join_ids(&people) == read.task.assignees {
                    return Ok(read.task);
                }
                let c = TaskChanges {
                    assignees: Some(people),
                    ..Default::default()
                };
                check_changes(&c)?;
                let (_, after) = apply_read_change(tx, &scope, read, None, &c).await?;
                Ok(after)
            })
        })
        .await
    }

    /// Applies many task changes in one transaction: all of them, or none and the first error.
    pub async fn update_tasks(
        &self,
        changes: &[(Uuid, Option<i64>, TaskChanges)],
    ) -> Result<Vec<Task>> {
        let scope = self.scope().clone();
        if changes.is_empty() || changes.len() > MAX_BULK {
            return Err(FieldError::new("updates", "between_1_and_1000").into());
        }
        for (_, _, c) in changes {
            check_changes(c)?;
        }
        // Rows are changed in id order, so two overlapping batches on PostgreSQL wait for each
        // other instead of deadlocking; the answer keeps the caller's order.
        let mut order: Vec<usize> = (0..changes.len()).collect();
        order.sort_by_key(|i| changes[*i].0);
        // One change per task: two would each be checked against the task as it was.
        if order.windows(2).any(|w| changes[w[0]].0 == changes[w[1]].0) {
            return Err(FieldError::new("updates", "one_change_per_task").into());
        }
        let mut args = vec![Arg::from(scope.org_id)];
        for (id, _, c) in changes {
            args.extend([Arg::from(*id), c.status_id.into()]);
        }
        let changes = changes.to_vec();
        self.write(move |tx| {
            Box::pin(async move {
                // All the tasks and their workflow answers in one read, locked in id order.
                let wanted = (0..changes.len())
                    .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
                    .collect::<Vec<_>>()
                    .join(", ");
                let lock = if tx.lock_rows().is_empty() {
                    ""
                } else {
                    " FOR UPDATE OF t"
                };
                let text = format!(
                    "WITH wanted (id, to_status) AS (VALUES {wanted})
                     SELECT {}, {} FROM wanted w CROSS JOIN tasks t
                     WHERE t.id = w.id AND t.org_id = $1 ORDER BY t.id{lock}",
                    prefixed("t"),
                    workflow_answer("w.to_status")
                );
                let mut read: std::collections::HashMap<Uuid, TaskAndMove> = tx
                    .query::<TaskAndMove>(&text, &args)
                    .await?
                    .into_iter()
                    .map(|r| (r.task.id, r))
                    .collect();
                let mut out: Vec<Option<Task>> = vec![None; changes.len()];
                for i in order {
                    let (id, v, c) = &changes[i];
                    let r = read
                        .remove(id)
                        .ok_or(StoreError::NotFound { entity: "task" })?;
                    let (_, after) = apply_read_change(tx, &scope, r, *v, c).await?;
                    out[i] = Some(after);
                }
                Ok(out.into_iter().flatten().collect())
            })
        })
        .await
    }

    /// Adds a note to a task; with `status_to`, changes the task's status in the same
    /// transaction, so the note and the change it explains are never apart.
    pub async fn add_note(
        &self,
        task_id: Uuid,
        body: &str,
        at: OnFrames,
        parent_id: Option<Uuid>,
        status_to: Option<(Uuid, Option<i64>)>,
    ) -> Result<(Note, Task)> {
        let body = validate::text("body", body, 20_000)?;
        let at = at.checked()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let (before, after) = match status_to {
                    Some((s, v)) => {
                        let c = TaskChanges {
                            status_id: Some(s),
                            ..Default::default()
                        };
                        apply_task_change(tx, &scope, task_id, v, &c).await?
                    }
                    None => {
                        let text =
                            format!("SELECT {TASK_COLS} FROM tasks WHERE org_id = $1 AND id = $2");
                        let t: Task = tx
                            .query_opt(&text, &[scope.org_id.into(), task_id.into()])
                            .await?
                            .ok_or(StoreError::NotFound { entity: "task" })?;
                        (t.clone(), t)
                    }
                };
                // Checked once the task is known to be the caller's: another organisation's
                // task is a 404 whatever the body.
                if body.is_empty() && status_to.is_none() {
                    return Err(FieldError::new("body", "required").into());
                }
                if let Some(p) = parent_id {
                    let found = tx
                        .query_opt(
                            "SELECT author_id, held_at FROM notes WHERE org_id = $1 AND task_id = $2 AND id = $3",
                            &[scope.org_id.into(), task_id.into(), p.into()],
                        )
                        .await?;
                    super::notes::reply_to(found, &scope, "not_a_note_of_this_task")?;
                }
                let mut note = Note {
                    id: new_id(),
                    project_id: after.project_id,
                    task_id: Some(task_id),
                    shot_id: None,
                    asset_id: None,
                    version_id: None,
                    parent_id,
                    author_id: scope.user_id,
                    body,
                    frame: at.frame,
                    frame_out: at.frame_out,
                    drawing: at.drawing,
                    status_from: status_to.map(|_| before.status_id),
                    status_to: status_to.map(|(s, _)| s),
                    created_at: Millis(now_ms()),
                    mentions: String::new(),
                    held: false,
                };
                write_note(tx, &scope, &mut note).await?;
                Ok((note, after))
            })
        })
        .await
    }

    pub async fn notes(&self, task_id: Uuid) -> Result<Vec<Note>> {
        let scope = self.scope();
        self.task(task_id).await?;
        let text =
            format!("SELECT {NOTE_COLS} FROM notes WHERE org_id = $1 AND task_id = $2 ORDER BY id");
        let mut notes: Vec<Note> = self
            .read(&text, &[scope.org_id.into(), task_id.into()])
            .await?;
        notes.retain(|n| n.readable_by(scope));
        Ok(notes)
    }

    /// The progress overview of a project: one read of the sequences with their shot counts and
    /// one grouped count of their shot tasks, whatever the size of the production.
    pub async fn progress(&self, project_id: Uuid) -> Result<Progress> {
        let scope = self.scope();
        self.project(project_id).await?;
        let args: Vec<Arg> = vec![
            scope.org_id.into(),
            project_id.into(),
            mstation_core::tracking::conform::OMITTED.into(),
        ];
        // Both scan the whole project: off the runtime's threads on SQLite.
        let sequences: Vec<(Uuid, String, i64)> = self
            .read_apart(
                "SELECT q.id, q.name, (SELECT COUNT(*) FROM shots s WHERE s.org_id = q.org_id AND s.sequence_id = q.id AND s.staged IS NULL AND s.status <> $3)
                 FROM sequences q WHERE q.org_id = $1 AND q.project_id = $2 ORDER BY q.name, q.id",
                args.clone(),
            )
            .await?;
        let counts: Vec<ProgressCount> = self
            .read_apart(
                "SELECT t.sequence_id, t.task_type_id, t.status_id, y.sort_order, st.sort_order, COUNT(*)
                 FROM tasks t JOIN shots s ON s.id = t.shot_id JOIN task_types y ON y.id = t.task_type_id JOIN task_statuses st ON st.id = t.status_id
                 WHERE t.org_id = $1 AND t.project_id = $2 AND s.status <> $3
                 GROUP BY t.sequence_id, t.task_type_id, t.status_id, y.sort_order, st.sort_order
                 ORDER BY y.sort_order, st.sort_order",
                args,
            )
            .await?;
        let mut out: Vec<SequenceProgress> = sequences
            .into_iter()
            .map(|(sequence_id, name, shots)| SequenceProgress {
                sequence_id,
                name,
                shots,
                tasks: 0,
                by_status: Vec::new(),
                by_type: Vec::new(),
            })
            .collect();
        let at: std::collections::HashMap<Uuid, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.sequence_id, i))
            .collect();
        // (sequence, status) → (workflow position, count), to sum the types of each status.
        let mut statuses: std::collections::HashMap<(usize, Uuid), (i64, i64)> =
            std::collections::HashMap::new();
        for ProgressCount {
            sequence_id,
            task_type_id,
            status_id,
            status_order,
            count,
        } in counts
        {
            let Some(&i) = at.get(&sequence_id) else {
                continue;
            };
            out[i].tasks += count;
            out[i].by_type.push(TypeStatusCount {
                task_type_id,
                status_id,
                count,
            });
            statuses
                .entry((i, status_id))
                .or_insert((status_order, 0))
                .1 += count;
        }
        let mut by_status: Vec<_> = statuses.into_iter().collect();
        by_status.sort_by_key(|((i, id), (order, _))| (*i, *order, *id));
        for ((i, status_id), (_, count)) in by_status {
            out[i].by_status.push(StatusCount { status_id, count });
        }
        Ok(Progress {
            project_id,
            sequences: out,
        })
    }
}
