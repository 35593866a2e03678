//! Who worked on a project: the people assigned to its tasks, the kinds of task they had and
//! when they worked, for the talent context when a wrapped production credits its crew
//! (`Tenant::credit_crew`).

use uuid::Uuid;

use crate::{DbError, FromRow, Result, Row, StoreError, WriteTx};

/// One person and one kind of task they had, with its days.
struct Assigned {
    user_id: Uuid,
    name: String,
    work: String,
    first: Option<String>,
    last: Option<String>,
}

impl FromRow for Assigned {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Assigned {
            user_id: r.get()?,
            name: r.get()?,
            work: r.get()?,
            first: r.get()?,
            last: r.get()?,
        })
    }
}

/// One person's work on a project.
pub(crate) struct Crew {
    pub user_id: Uuid,
    /// Their name on the platform.
    pub name: String,
    /// The names of the task types they were assigned, as the production wrote them.
    pub work: Vec<String>,
    /// The first and last day of their work: their time logs on the project if they logged
    /// any, otherwise their tasks' start and due dates.
    pub first: Option<String>,
    pub last: Option<String>,
}

/// The project's name and status, locked until the write commits (a status change, or another
/// crediting of the project, waits for it).
pub(crate) async fn project_state(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    project: Uuid,
) -> Result<(String, String)> {
    tx.query_opt(
        &format!(
            "SELECT name, status FROM projects WHERE org_id = $1 AND id = $2{}",
            tx.lock_rows()
        ),
        &[org.into(), project.into()],
    )
    .await?
    .ok_or(StoreError::NotFound { entity: "project" })
}

/// Everyone assigned to a task of the project, with what and when.
pub(crate) async fn crew_of(tx: &mut WriteTx<'_>, org: Uuid, project: Uuid) -> Result<Vec<Crew>> {
    // Someone erased at their word (`identity::privacy`) is crew no more.
    let assigned: Vec<Assigned> = tx
        .query(
            "SELECT a.user_id, u.display_name, ty.name, MIN(COALESCE(t.start_date, t.due_date)), MAX(COALESCE(t.due_date, t.start_date))
             FROM task_assignees a
             JOIN tasks t ON t.id = a.task_id
             JOIN task_types ty ON ty.id = t.task_type_id
             JOIN users u ON u.id = a.user_id
             WHERE a.org_id = $1 AND t.org_id = $1 AND t.project_id = $2 AND u.password_hash <> $3
             GROUP BY a.user_id, u.display_name, ty.name, ty.sort_order
             ORDER BY a.user_id, ty.sort_order, ty.name",
            &[org.into(), project.into(), crate::identity::privacy::ERASED_HASH.into()],
        )
        .await?;
    let logged: Vec<(Uuid, String, String)> = tx
        .query(
            "SELECT user_id, MIN(date), MAX(date) FROM time_logs
             WHERE org_id = $1 AND project_id = $2 GROUP BY user_id",
            &[org.into(), project.into()],
        )
        .await?;
    let mut crew: Vec<Crew> = Vec::new();
    for Assigned {
        user_id,
        name,
        work,
        first,
        last,
    } in assigned
    {
        match crew.last_mut() {
            Some(c) if c.user_id == user_id => {
                // Two task types may share a name: it is one kind of work.
                if !c.work.contains(&work) {
                    c.work.push(work);
                }
                c.first = c.first.take().into_iter().chain(first).min();
                c.last = c.last.take().into_iter().chain(last).max();
            }
            _ => crew.push(Crew {
                user_id,
                name,
                work: vec![work],
                first,
                last,
            }),
        }
    }
    for c in &mut crew {
        if let Some((_, first, last)) = logged.iter().find(|(u, _, _)| *u == c.user_id) {
            c.first = Some(first.clone());
            c.last = Some(last.clone());
        }
    }
    Ok(crew)
}

/// The runs of days (start to due, inclusive; one of them when the other is not set) of the
/// tasks `user` is assigned to in `org` that share a day with `from`..`to`: for a talent
/// profile's availability, which tells others only that those days are taken. A platform read:
/// the reader may be another organisation, which never learns what the tasks are.
pub(crate) async fn task_days(
    p: &crate::Platform<'_>,
    org: Uuid,
    user: Uuid,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String)>> {
    // A task's dates are not kept in order: its run is from the earlier to the later.
    let runs: Vec<(String, String)> = p
        .read(
            "SELECT COALESCE(t.start_date, t.due_date), COALESCE(t.due_date, t.start_date)
             FROM task_assignees a JOIN tasks t ON t.id = a.task_id
             WHERE a.org_id = $1 AND a.user_id = $2 AND t.org_id = $1
               AND (t.start_date IS NOT NULL OR t.due_date IS NOT NULL)
               AND (COALESCE(t.due_date, t.start_date) >= $3 OR COALESCE(t.start_date, t.due_date) >= $3)
               AND (COALESCE(t.start_date, t.due_date) <= $4 OR COALESCE(t.due_date, t.start_date) <= $4)
             ORDER BY 1, 2 LIMIT 2000",
            &[org.into(), user.into(), from.into(), to.into()],
        )
        .await?;
    Ok(runs
        .into_iter()
        .map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
        .filter(|(a, b)| b.as_str() >= from && a.as_str() <= to)
        .collect())
}

/// `task_days` for many people at once: for each `(org, user)`, the runs of days of the tasks
/// the user is assigned to in that organisation that share a day with `from`..`to`, as
/// `(org, user, first, last)`. A platform read, as `task_days` is.
pub(crate) async fn people_task_days(
    p: &crate::Platform<'_>,
    people: &[(Uuid, Uuid)],
    from: &str,
    to: &str,
) -> Result<Vec<(Uuid, Uuid, String, String)>> {
    let mut out = Vec::new();
    for some in people.chunks(200) {
        let mut args: Vec<crate::Arg> = vec![from.into(), to.into()];
        let mut pairs = Vec::with_capacity(some.len());
        for (org, user) in some {
            args.push((*org).into());
            args.push((*user).into());
            // Each person in the organisation that keeps them (the assignees' index).
            pairs.push(format!(
                "(a.org_id = ${} AND a.user_id = ${})",
                args.len() - 1,
                args.len()
            ));
        }
        let runs: Vec<(Uuid, Uuid, String, String)> = p
            .read(
                &format!(
                    "SELECT a.org_id, a.user_id, COALESCE(t.start_date, t.due_date), COALESCE(t.due_date, t.start_date)
                     FROM task_assignees a JOIN tasks t ON t.id = a.task_id AND t.org_id = a.org_id
                     WHERE ({})
                       AND (t.start_date IS NOT NULL OR t.due_date IS NOT NULL)
                       AND (COALESCE(t.due_date, t.start_date) >= $1 OR COALESCE(t.start_date, t.due_date) >= $1)
                       AND (COALESCE(t.start_date, t.due_date) <= $2 OR COALESCE(t.due_date, t.start_date) <= $2)",
                    pairs.join(" OR ")
                ),
                &args,
            )
            .await?;
        out.extend(
            runs.into_iter()
                .map(|(o, u, a, b)| if a <= b { (o, u, a, b) } else { (o, u, b, a) })
                .filter(|(_, _, a, b)| b.as_str() >= from && a.as_str() <= to),
        );
    }
    Ok(out)
}

/// A shot, task or asset as the parties of a work order read it: what it is, where it sits,
/// its frames and where it stands.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WorkItem {
    /// `shot`, `task` or `asset`.
    pub kind: String,
    pub id: Uuid,
    /// The shot's or asset's name; a task's type.
    pub name: String,
    /// A shot's sequence; an asset's kind; the shot or asset a task is on.
    pub context: String,
    /// A shot's status (`active`, `omitted`); a task's status; empty for an asset.
    pub status: String,
    /// A shot's first and last frame in the cut, both included, and how many frames that is.
    pub frame_in: Option<i64>,
    pub frame_out: Option<i64>,
    pub frames: Option<i64>,
    /// A task's due date.
    pub due_date: Option<String>,
}

impl FromRow for WorkItem {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (kind, id, name, context, status) = (r.get()?, r.get()?, r.get()?, r.get()?, r.get()?);
        let (frame_in, frame_out): (Option<i64>, Option<i64>) = (r.get()?, r.get()?);
        Ok(WorkItem {
            kind,
            id,
            name,
            context,
            status,
            frame_in,
            frame_out,
            // Inclusive in and out: out - in + 1.
            frames: frame_in.zip(frame_out).map(|(i, o)| o - i + 1),
            due_date: r.get()?,
        })
    }
}

/// `org`'s shots, tasks or assets (`kind`) among `ids`, as a work order's parties read them: a
/// platform read bound to the production's organisation, for the order's vendor too.
pub(crate) async fn work_items(
    p: &crate::Platform<'_>,
    org: Uuid,
    kind: &str,
    ids: &[Uuid],
) -> Result<Vec<WorkItem>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (2..ids.len() + 2).map(|k| format!("${k}")).collect();
    let marks = marks.join(", ");
    let text = match kind {
        "shot" => format!(
            "SELECT 'shot', s.id, s.name, q.name, s.status, s.cut_in, s.cut_out, CAST(NULL AS TEXT)
             FROM shots s JOIN sequences q ON q.id = s.sequence_id
             WHERE s.org_id = $1 AND s.id IN ({marks}) ORDER BY q.name, s.cut_order, s.id"
        ),
        "asset" => format!(
            "SELECT 'asset', a.id, a.name, a.kind, '', CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT)
             FROM assets a WHERE a.org_id = $1 AND a.id IN ({marks}) ORDER BY a.name, a.id"
        ),
        "task" => format!(
            "SELECT 'task', t.id, ty.name, COALESCE(s.name, a.name, ''), st.name, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), t.due_date
             FROM tasks t JOIN task_types ty ON ty.id = t.task_type_id JOIN task_statuses st ON st.id = t.status_id
             LEFT JOIN shots s ON s.id = t.shot_id LEFT JOIN assets a ON a.id = t.asset_id
             WHERE t.org_id = $1 AND t.id IN ({marks}) ORDER BY ty.name, t.id"
        ),
        _ => return Ok(Vec::new()),
    };
    let mut args: Vec<crate::Arg> = vec![org.into()];
    args.extend(ids.iter().map(|id| crate::Arg::from(*id)));
    p.read(&text, &args).await
}
