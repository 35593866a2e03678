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
    let assigned: Vec<Assigned> = tx
        .query(
            "SELECT a.user_id, u.display_name, ty.name, MIN(COALESCE(t.start_date, t.due_date)), MAX(COALESCE(t.due_date, t.start_date))
             FROM task_assignees a
             JOIN tasks t ON t.id = a.task_id
             JOIN task_types ty ON ty.id = t.task_type_id
             JOIN users u ON u.id = a.user_id
             WHERE a.org_id = $1 AND t.org_id = $1 AND t.project_id = $2
             GROUP BY a.user_id, u.display_name, ty.name, ty.sort_order
             ORDER BY a.user_id, ty.sort_order, ty.name",
            &[org.into(), project.into()],
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
