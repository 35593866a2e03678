//! Production tracking: projects, episodes, sequences and shots, and conforming a sequence to an
//! edit (the EDL import); assets and their casting, tasks and their workflow, custom fields,
//! notes and their mentions, versions and playlists, and time logs live in the submodules.
//! All scoped.

pub mod assets;
pub mod conforming;
pub(crate) mod crew;
pub use crew::WorkItem;
pub mod fields;
pub mod grid;
pub mod json;
pub mod locators;
pub mod mine;
pub mod notes;
pub mod overview;
pub mod sessions;
pub mod shot_page;
pub mod tasks;
pub mod timelogs;
pub mod versions;

use mstation_core::tracking::conform::{self, ShotLocator};
use mstation_core::tracking::timecode::Rate;
use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Arg, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError, Tenant,
    WriteTx, new_id, now_ms,
};
use crate::{check_version, dup};

pub const PROJECT_STATUSES: [&str; 4] = ["development", "active", "on_hold", "wrapped"];

/// Serialises a space-separated list of ids (assignees, mentions) as a JSON array.
pub(crate) fn ids_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.split_whitespace())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// A short code used in shot and file names, unique in the organisation.
    pub code: String,
    /// The frame rate as a rational: 24000/1001 is 23.976.
    pub fps_num: i64,
    pub fps_den: i64,
    pub width: i64,
    pub height: i64,
    /// The first frame of a shot's head handles (1001 by convention).
    pub start_frame: i64,
    /// Default handles of new shots, in frames.
    pub head_handles: i64,
    pub tail_handles: i64,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub status: String,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for Project {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Project {
            id: r.get()?,
            org_id: r.get()?,
            name: r.get()?,
            code: r.get()?,
            fps_num: r.get()?,
            fps_den: r.get()?,
            width: r.get()?,
            height: r.get()?,
            start_frame: r.get()?,
            head_handles: r.get()?,
            tail_handles: r.get()?,
            start_date: r.get()?,
            end_date: r.get()?,
            status: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

impl Project {
    pub fn rate(&self) -> Option<Rate> {
        Rate::new(
            u32::try_from(self.fps_num).ok()?,
            u32::try_from(self.fps_den).ok()?,
        )
        .ok()
    }
}

/// An episode of a series; projects without episodes simply have none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Episode {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    /// Unique in the project, e.g. `EP101`.
    pub name: String,
    pub description: String,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for Episode {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Episode {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            name: r.get()?,
            description: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

/// The episode fields a PATCH may change.
#[derive(Debug, Clone, Default)]
pub struct EpisodeChanges {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sequence {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    /// The episode the sequence belongs to, in a series.
    pub episode_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for Sequence {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Sequence {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            episode_id: r.get()?,
            name: r.get()?,
            description: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shot {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub sequence_id: Uuid,
    pub name: String,
    /// `active`, or `omitted` once a cut no longer has it.
    pub status: String,
    /// Position in the cut, from 1.
    pub cut_order: i64,
    /// The first and the last frame of the shot in the cut, both included.
    pub cut_in: i64,
    pub cut_out: i64,
    /// The shot's length in the cut: `cut_out - cut_in + 1` (a shot from 1009 to 1080 is 72).
    pub frames: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
    /// Frames on the edit's record timeline (end exclusive).
    pub record_in: Option<i64>,
    pub record_out: Option<i64>,
    /// Frames of source timecode (end exclusive), and the same as SMPTE timecode.
    pub source_in: Option<i64>,
    pub source_out: Option<i64>,
    pub source_in_tc: Option<String>,
    pub source_out_tc: Option<String>,
    pub reel: Option<String>,
    pub clip_name: Option<String>,
    pub description: String,
    pub created_at: Millis,
    pub version: i64,
    /// The shot's locators (an editor's markers from the cut: EDL `* LOC:` lines, OTIO
    /// markers), in order. Only where one shot is read (`GET /api/v1/shots/{shot_id}`): lists of
    /// shots leave it out, as it would cost a read of every shot's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locators: Option<Vec<ShotLocator>>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_days_that_exist_are_dates() {
        for ok in ["2026-12-05", "2028-02-29", "2026-01-31"] {
            assert!(super::date("due_date", ok).is_ok(), "{ok}");
        }
        for bad in [
            "2026-02-30",
            "2026-13-45",
            "2027-02-29",
            "2026-04-31",
            "2026-00-10",
            "2026-1-05",
        ] {
            assert!(super::date("due_date", bad).is_err(), "{bad}");
        }
    }
}

impl Shot {
    /// The shot's length in the cut: in and out are both frames of it, so a shot from 1009 to
    /// 1080 is 72 frames.
    pub fn frames(&self) -> i64 {
        self.cut_out - self.cut_in + 1
    }
}

impl FromRow for Shot {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, org_id, project_id, sequence_id, name, status, cut_order, cut_in, cut_out) = (
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get::<i64>()?,
        );
        Ok(Shot {
            id,
            org_id,
            project_id,
            sequence_id,
            name,
            status,
            cut_order,
            cut_in,
            cut_out,
            frames: cut_out - cut_in + 1,
            head_handles: r.get()?,
            tail_handles: r.get()?,
            record_in: r.get()?,
            record_out: r.get()?,
            source_in: r.get()?,
            source_out: r.get()?,
            source_in_tc: r.get()?,
            source_out_tc: r.get()?,
            reel: r.get()?,
            clip_name: r.get()?,
            description: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
            locators: None,
        })
    }
}

/// The sequence fields a PATCH may change; `episode_id: Some(None)` takes it out of its episode.
#[derive(Debug, Clone, Default)]
pub struct SequenceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub episode_id: Option<Option<Uuid>>,
}

/// Checked input for a new project.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: String,
    pub code: String,
    pub rate: Rate,
    pub width: i64,
    pub height: i64,
    pub start_frame: Option<i64>,
    pub head_handles: Option<i64>,
    pub tail_handles: Option<i64>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// The project fields a PATCH may change.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub status: Option<String>,
    pub head_handles: Option<i64>,
    pub tail_handles: Option<i64>,
    pub start_date: Option<Option<String>>,
    pub end_date: Option<Option<String>>,
}

const PROJECT_COLS: &str = "id, org_id, name, code, fps_num, fps_den, width, height, start_frame, head_handles, tail_handles, start_date, end_date, status, created_at, version";
const SEQUENCE_COLS: &str =
    "id, org_id, project_id, episode_id, name, description, created_at, version";
const EPISODE_COLS: &str = "id, org_id, project_id, name, description, created_at, version";
const SHOT_COLS: &str = "id, org_id, project_id, sequence_id, name, status, cut_order, cut_in, cut_out, head_handles, tail_handles, record_in, record_out, source_in, source_out, source_in_tc, source_out_tc, reel, clip_name, description, created_at, version";

fn code(field: &'static str, v: &str) -> Result<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 24
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(FieldError::new(field, "invalid_code").into())
    }
}

/// A calendar day written `YYYY-MM-DD` that exists (`2026-02-30` and `2026-13-45` do not).
pub(crate) fn date(field: &'static str, v: &str) -> Result<String> {
    let b = v.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && v.chars()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let number = |r: std::ops::Range<usize>| v.get(r).and_then(|n| n.parse::<u8>().ok());
    let year: i32 = v.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let month = number(5..7).and_then(|m| time::Month::try_from(m).ok());
    let exists = month
        .zip(number(8..10))
        .is_some_and(|(m, d)| time::Date::from_calendar_date(year, m, d).is_ok());
    if shape && exists {
        Ok(v.to_string())
    } else {
        Err(FieldError::new(field, "not_a_date").into())
    }
}

/// Inside a write transaction: `episode` is an episode of `project` (or absent).
pub(crate) async fn check_episode(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    project: Uuid,
    episode: Option<Uuid>,
) -> Result<()> {
    if let Some(e) = episode {
        let p: Option<Uuid> = tx
            .scalar_opt(
                "SELECT project_id FROM episodes WHERE org_id = $1 AND id = $2",
                &[org.into(), e.into()],
            )
            .await?;
        if p != Some(project) {
            return Err(FieldError::new("episode_id", "not_an_episode_of_this_project").into());
        }
    }
    Ok(())
}

fn handles(field: &'static str, v: i64) -> Result<i64> {
    if (0..=1000).contains(&v) {
        Ok(v)
    } else {
        Err(FieldError::new(field, "out_of_range").into())
    }
}

/// The rules of tracking a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingRule {
    TransitionNotAllowed,
    AssetHasTasks,
    AssetHasNotes,
    EpisodeInUse,
    NotYourTimeLog,
    TooManyFields,
    ChoiceInUse,
    /// The workflow does not let the caller's role set this status.
    StatusNotForRole,
    /// An artist sets statuses only on tasks assigned to them.
    NotYourTask,
    /// Only a review session's presenter moves its playhead (or, with its starter and those who
    /// plan production, ends it).
    NotPresenter,
    /// The review session has ended: its playhead moves no more.
    SessionEnded,
}

impl TrackingRule {
    pub const ALL: [TrackingRule; 11] = [
        TrackingRule::TransitionNotAllowed,
        TrackingRule::AssetHasTasks,
        TrackingRule::AssetHasNotes,
        TrackingRule::EpisodeInUse,
        TrackingRule::NotYourTimeLog,
        TrackingRule::TooManyFields,
        TrackingRule::ChoiceInUse,
        TrackingRule::StatusNotForRole,
        TrackingRule::NotYourTask,
        TrackingRule::NotPresenter,
        TrackingRule::SessionEnded,
    ];

    /// The stable code a caller can match on.
    pub const fn code(self) -> &'static str {
        match self {
            TrackingRule::TransitionNotAllowed => "tracking.transition_not_allowed",
            TrackingRule::AssetHasTasks => "tracking.asset_has_tasks",
            TrackingRule::AssetHasNotes => "tracking.asset_has_notes",
            TrackingRule::EpisodeInUse => "tracking.episode_in_use",
            TrackingRule::NotYourTimeLog => "tracking.not_your_time_log",
            TrackingRule::TooManyFields => "tracking.too_many_fields",
            TrackingRule::ChoiceInUse => "tracking.choice_in_use",
            TrackingRule::StatusNotForRole => "tracking.status_not_for_role",
            TrackingRule::NotYourTask => "tracking.not_your_task",
            TrackingRule::NotPresenter => "tracking.not_presenter",
            TrackingRule::SessionEnded => "tracking.session_ended",
        }
    }
}

/// Inside a write: whether `project` is one of `org`'s (for other contexts, e.g. a grant).
pub(crate) async fn project_exists(tx: &mut WriteTx<'_>, org: Uuid, project: Uuid) -> Result<bool> {
    let found: Option<Uuid> = tx
        .scalar_opt(
            "SELECT id FROM projects WHERE org_id = $1 AND id = $2",
            &[org.into(), project.into()],
        )
        .await?;
    Ok(found.is_some())
}

/// Inside a write: how many of `ids` are `org`'s shots, tasks or assets (`kind`) of
/// `project` (for other contexts, e.g. a work order's scope).
pub(crate) async fn in_project(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    project: Uuid,
    kind: &str,
    ids: &[Uuid],
) -> Result<usize> {
    let table = match kind {
        "shot" => "shots",
        "task" => "tasks",
        "asset" => "assets",
        _ => return Ok(0),
    };
    if ids.is_empty() {
        return Ok(0);
    }
    let marks: Vec<String> = (3..ids.len() + 3).map(|k| format!("${k}")).collect();
    let text = format!(
        "SELECT COUNT(*) FROM {table} WHERE org_id = $1 AND project_id = $2 AND id IN ({})",
        marks.join(", ")
    );
    let mut args: Vec<Arg> = vec![org.into(), project.into()];
    args.extend(ids.iter().map(|id| Arg::from(*id)));
    let n: i64 = tx.scalar(&text, &args).await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

impl Tenant<'_> {
    pub async fn create_project(&self, new: NewProject) -> Result<Project> {
        let scope = self.scope().clone();
        let name = validate::name("name", &new.name, 200)?;
        let code = code("code", &new.code)?;
        if !(16..=16384).contains(&new.width) {
            return Err(FieldError::new("width", "out_of_range").into());
        }
        if !(16..=16384).contains(&new.height) {
            return Err(FieldError::new("height", "out_of_range").into());
        }
        let start_frame = new.start_frame.unwrap_or(1001);
        if !(0..=10_000_000).contains(&start_frame) {
            return Err(FieldError::new("start_frame", "out_of_range").into());
        }
        let start_date = new
            .start_date
            .as_deref()
            .map(|d| date("start_date", d))
            .transpose()?;
        let end_date = new
            .end_date
            .as_deref()
            .map(|d| date("end_date", d))
            .transpose()?;
        let p = Project {
            id: new_id(),
            org_id: scope.org_id,
            name,
            code,
            fps_num: new.rate.num() as i64,
            fps_den: new.rate.den() as i64,
            width: new.width,
            height: new.height,
            start_frame,
            head_handles: handles("head_handles", new.head_handles.unwrap_or(8))?,
            tail_handles: handles("tail_handles", new.tail_handles.unwrap_or(8))?,
            start_date,
            end_date,
            status: "active".into(),
            created_at: Millis(now_ms()),
            version: 1,
        };
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "INSERT INTO projects ({PROJECT_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                );
                let args = [
                    p.id.into(),
                    p.org_id.into(),
                    (&p.name).into(),
                    (&p.code).into(),
                    p.fps_num.into(),
                    p.fps_den.into(),
                    p.width.into(),
                    p.height.into(),
                    p.start_frame.into(),
                    p.head_handles.into(),
                    p.tail_handles.into(),
                    (&p.start_date).into(),
                    (&p.end_date).into(),
                    (&p.status).into(),
                    p.created_at.into(),
                    p.version.into(),
                ];
                if let Err(e) = tx.execute(&text, &args).await {
                    return Err(dup(e, "project", "code"));
                }
                // Every project starts with the usual workflow and pipeline steps; both are its
                // own to change.
                let mut status_ids = Vec::new();
                for (i, (short, name, color, done, retake, review, client, default)) in
                    tasks::DEFAULT_STATUSES.iter().enumerate()
                {
                    let id = new_id();
                    let args = [
                        id.into(),
                        scope.org_id.into(),
                        p.id.into(),
                        Arg::from(*name),
                        (*short).into(),
                        (*color).into(),
                        (*done).into(),
                        (*retake).into(),
                        (*review).into(),
                        (*client).into(),
                        (*default).into(),
                        (i as i64).into(),
                        tasks::default_set_by(*done, *retake, *client, *default).into(),
                    ];
                    tx.execute(
                        "INSERT INTO task_statuses (id, org_id, project_id, name, short_name, color,
                         is_done, is_retake, needs_review, client_approved, is_default, sort_order,
                         set_by)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                        &args,
                    )
                    .await?;
                    status_ids.push(id);
                }
                for from in &status_ids {
                    for to in &status_ids {
                        if from != to {
                            tx.execute(
                                "INSERT INTO status_transitions
                                 (org_id, project_id, from_status_id, to_status_id)
                                 VALUES ($1, $2, $3, $4)",
                                &[scope.org_id.into(), p.id.into(), from.into(), to.into()],
                            )
                            .await?;
                        }
                    }
                }
                let steps = tasks::DEFAULT_TASK_TYPES
                    .iter()
                    .map(|s| (s, "shot"))
                    .chain(tasks::DEFAULT_ASSET_TASK_TYPES.iter().map(|s| (s, "asset")));
                for (i, ((short, name, color), entity)) in steps.enumerate() {
                    let args = [
                        new_id().into(),
                        scope.org_id.into(),
                        p.id.into(),
                        Arg::from(*name),
                        (*short).into(),
                        (*color).into(),
                        (i as i64).into(),
                        entity.into(),
                    ];
                    tx.execute(
                        "INSERT INTO task_types (id, org_id, project_id, name, short_name, color,
                         sort_order, entity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        &args,
                    )
                    .await?;
                }
                let change = Change::new(Some(scope.org_id), "project.created", "project", p.id);
                tx.record(&Actor::of(&scope), change.after(&p)).await?;
                Ok(p)
            })
        })
        .await
    }

    pub async fn projects(&self, status: Option<&str>, q: &ListQuery) -> Result<Page<Project>> {
        let filter = "org_id = $1 AND ($2 IS NULL OR status = $2)";
        let args = vec![self.org_id().into(), status.into()];
        self.page(PROJECT_COLS, "projects", filter, args, q, |p: &Project| {
            p.id
        })
        .await
    }

    pub async fn project(&self, id: Uuid) -> Result<Project> {
        self.one(PROJECT_COLS, "projects", id, "project").await
    }

    pub async fn update_project(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        ch: ProjectChanges,
    ) -> Result<Project> {
        let name = ch
            .name
            .map(|n| validate::name("name", &n, 200))
            .transpose()?;
        if let Some(s) = &ch.status
            && !PROJECT_STATUSES.contains(&s.as_str())
        {
            return Err(FieldError::new("status", "unknown_status").into());
        }
        let head = ch
            .head_handles
            .map(|h| handles("head_handles", h))
            .transpose()?;
        let tail = ch
            .tail_handles
            .map(|h| handles("tail_handles", h))
            .transpose()?;
        let start_date = ch
            .start_date
            .map(|d| d.map(|d| date("start_date", &d)).transpose())
            .transpose()?;
        let end_date = ch
            .end_date
            .map(|d| d.map(|d| date("end_date", &d)).transpose())
            .transpose()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before: Project =
                    crate::locked(tx, PROJECT_COLS, "projects", scope.org_id, id, "project")
                        .await?;
                check_version("project", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(n) = name {
                    after.name = n;
                }
                if let Some(s) = ch.status {
                    after.status = s;
                }
                if let Some(h) = head {
                    after.head_handles = h;
                }
                if let Some(t) = tail {
                    after.tail_handles = t;
                }
                if let Some(d) = start_date {
                    after.start_date = d;
                }
                if let Some(d) = end_date {
                    after.end_date = d;
                }
                after.version += 1;
                let args = [
                    (&after.name).into(),
                    (&after.status).into(),
                    after.head_handles.into(),
                    after.tail_handles.into(),
                    (&after.start_date).into(),
                    (&after.end_date).into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "project",
                    None,
                    before.version,
                    "UPDATE projects SET name = $1, status = $2, head_handles = $3,
                         tail_handles = $4, start_date = $5, end_date = $6, version = $7
                         WHERE org_id = $8 AND id = $9 AND version = $10",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "project.updated", "project", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    pub async fn create_sequence(
        &self,
        project_id: Uuid,
        name: &str,
        description: &str,
    ) -> Result<Sequence> {
        self.create_sequence_in(project_id, None, name, description)
            .await
    }

    /// Creates a sequence, in an episode of the project when one is named.
    pub async fn create_sequence_in(
        &self,
        project_id: Uuid,
        episode_id: Option<Uuid>,
        name: &str,
        description: &str,
    ) -> Result<Sequence> {
        let scope = self.scope().clone();
        let name = code("name", name)?;
        let s = Sequence {
            id: new_id(),
            org_id: scope.org_id,
            project_id,
            episode_id,
            name,
            description: validate::text("description", description, 2000)?,
            created_at: Millis(now_ms()),
            version: 1,
        };
        self.write(move |tx| {
            Box::pin(async move {
                crate::exists(tx, "projects", scope.org_id, project_id, "project").await?;
                check_episode(tx, scope.org_id, project_id, episode_id).await?;
                let text = format!(
                    "INSERT INTO sequences ({SEQUENCE_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                );
                let args = [
                    s.id.into(),
                    s.org_id.into(),
                    s.project_id.into(),
                    s.episode_id.into(),
                    (&s.name).into(),
                    (&s.description).into(),
                    s.created_at.into(),
                    s.version.into(),
                ];
                if let Err(e) = tx.execute(&text, &args).await {
                    return Err(dup(e, "sequence", "name"));
                }
                let change = Change::new(Some(scope.org_id), "sequence.created", "sequence", s.id);
                tx.record(&Actor::of(&scope), change.after(&s)).await?;
                Ok(s)
            })
        })
        .await
    }

    pub async fn sequences(&self, project_id: Uuid, q: &ListQuery) -> Result<Page<Sequence>> {
        self.project(project_id).await?;
        let filter = "org_id = $1 AND project_id = $2";
        let args = vec![self.org_id().into(), project_id.into()];
        self.page(
            SEQUENCE_COLS,
            "sequences",
            filter,
            args,
            q,
            |s: &Sequence| s.id,
        )
        .await
    }

    pub async fn sequence(&self, id: Uuid) -> Result<Sequence> {
        self.one(SEQUENCE_COLS, "sequences", id, "sequence").await
    }

    pub async fn update_sequence(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        ch: SequenceChanges,
    ) -> Result<Sequence> {
        let name = ch.name.map(|n| code("name", &n)).transpose()?;
        let description = ch
            .description
            .map(|d| validate::text("description", &d, 2000))
            .transpose()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before: Sequence =
                    crate::locked(tx, SEQUENCE_COLS, "sequences", scope.org_id, id, "sequence")
                        .await?;
                check_version("sequence", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(e) = ch.episode_id {
                    check_episode(tx, scope.org_id, before.project_id, e).await?;
                    after.episode_id = e;
                }
                if let Some(n) = name {
                    after.name = n;
                }
                if let Some(d) = description {
                    after.description = d;
                }
                after.version += 1;
                let args = [
                    after.episode_id.into(),
                    (&after.name).into(),
                    (&after.description).into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "sequence",
                    Some("name"),
                    before.version,
                    "UPDATE sequences SET episode_id = $1, name = $2, description = $3,
                         version = $4 WHERE org_id = $5 AND id = $6 AND version = $7",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "sequence.updated", "sequence", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    pub async fn create_episode(
        &self,
        project_id: Uuid,
        name: &str,
        description: &str,
    ) -> Result<Episode> {
        let scope = self.scope().clone();
        let e = Episode {
            id: new_id(),
            org_id: scope.org_id,
            project_id,
            name: validate::name("name", name, 100)?,
            description: validate::text("description", description, 2000)?,
            created_at: Millis(now_ms()),
            version: 1,
        };
        self.write(move |tx| {
            Box::pin(async move {
                crate::exists(tx, "projects", scope.org_id, project_id, "project").await?;
                let text = format!(
                    "INSERT INTO episodes ({EPISODE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                );
                let args = [
                    e.id.into(),
                    e.org_id.into(),
                    e.project_id.into(),
                    (&e.name).into(),
                    (&e.description).into(),
                    e.created_at.into(),
                    e.version.into(),
                ];
                if let Err(err) = tx.execute(&text, &args).await {
                    return Err(dup(err, "episode", "name"));
                }
                let change = Change::new(Some(scope.org_id), "episode.created", "episode", e.id);
                tx.record(&Actor::of(&scope), change.after(&e)).await?;
                Ok(e)
            })
        })
        .await
    }

    pub async fn episodes(&self, project_id: Uuid, q: &ListQuery) -> Result<Page<Episode>> {
        self.project(project_id).await?;
        let filter = "org_id = $1 AND project_id = $2";
        let args = vec![self.org_id().into(), project_id.into()];
        self.page(EPISODE_COLS, "episodes", filter, args, q, |e: &Episode| {
            e.id
        })
        .await
    }

    pub async fn episode(&self, id: Uuid) -> Result<Episode> {
        self.one(EPISODE_COLS, "episodes", id, "episode").await
    }

    pub async fn update_episode(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        ch: EpisodeChanges,
    ) -> Result<Episode> {
        let name = ch
            .name
            .map(|n| validate::name("name", &n, 100))
            .transpose()?;
        let description = ch
            .description
            .map(|d| validate::text("description", &d, 2000))
            .transpose()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before = crate::locked::<Episode>(
                    tx,
                    EPISODE_COLS,
                    "episodes",
                    scope.org_id,
                    id,
                    "episode",
                )
                .await?;
                check_version("episode", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(n) = name {
                    after.name = n;
                }
                if let Some(d) = description {
                    after.description = d;
                }
                after.version += 1;
                let args = [
                    (&after.name).into(),
                    (&after.description).into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "episode",
                    Some("name"),
                    before.version,
                    "UPDATE episodes SET name = $1, description = $2, version = $3
                         WHERE org_id = $4 AND id = $5 AND version = $6",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "episode.updated", "episode", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Deletes an episode that no sequence or asset names.
    pub async fn delete_episode(&self, id: Uuid, expected_version: Option<i64>) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before = crate::locked::<Episode>(
                    tx,
                    EPISODE_COLS,
                    "episodes",
                    scope.org_id,
                    id,
                    "episode",
                )
                .await?;
                check_version("episode", expected_version, before.version)?;
                let used: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT id FROM sequences WHERE org_id = $1 AND episode_id = $2
                         UNION ALL SELECT id FROM assets WHERE org_id = $1 AND episode_id = $2
                         LIMIT 1",
                        &[scope.org_id.into(), id.into()],
                    )
                    .await?;
                if used.is_some() {
                    return Err(StoreError::from(TrackingRule::EpisodeInUse));
                }
                tx.execute(
                    "DELETE FROM episodes WHERE org_id = $1 AND id = $2",
                    &[scope.org_id.into(), id.into()],
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "episode.deleted", "episode", id);
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The shots of a sequence in cut order; `after` is the `cut_order` of the last shot seen.
    pub async fn shots(
        &self,
        sequence_id: Uuid,
        include_omitted: bool,
        after: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<Shot>, i64)> {
        let scope = self.scope();
        self.sequence(sequence_id).await?;
        let omitted = if include_omitted {
            None
        } else {
            Some(conform::OMITTED)
        };
        let text = format!(
            "SELECT {SHOT_COLS} FROM shots WHERE org_id = $1 AND sequence_id = $2 AND staged IS NULL AND ($3 IS NULL OR status <> $3) AND ($4 IS NULL OR cut_order > $4) ORDER BY cut_order, id LIMIT $5"
        );
        let items = self
            .read(
                &text,
                &[
                    scope.org_id.into(),
                    sequence_id.into(),
                    omitted.into(),
                    after.into(),
                    (limit as i64 + 1).into(),
                ],
            )
            .await?;
        let total = self
            .scalar(
                "SELECT COUNT(*) FROM shots WHERE org_id = $1 AND sequence_id = $2 AND staged IS NULL AND ($3 IS NULL OR status <> $3)",
                &[scope.org_id.into(), sequence_id.into(), omitted.into()],
            )
            .await?;
        Ok((items, total))
    }

    pub async fn shot(&self, id: Uuid) -> Result<Shot> {
        self.one(SHOT_COLS, "shots", id, "shot").await
    }
}
