//! Who worked on a project: the people assigned to its tasks, the kinds of task they had and
//! when they worked, for the talent context when a wrapped production credits its crew
//! (`Tenant::credit_crew`).

use uuid::Uuid;

use crate::{Result, StoreError, WriteTx};

/// One person's work on a project.
pub(crate) struct Crew {
    pub user_id: Uuid,
    /// The names of the task types they were assigned, as the production wrote them.
    pub work: Vec<String>,
    /// The first and last day of their work: their time logs on the project if they logged
    /// any, otherwise their tasks' start and due dates.
    pub first: Option<String>,
    pub last: Option<String>,
}

/// The project's name and status, read under a shared lock (a status change waits for the
/// credits, or they for it).
pub(crate) async fn project_state(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    project: Uuid,
) -> Result<(String, String)> {
    tx.query_opt(
        &format!(
            "SELECT name, status FROM projects WHERE org_id = $1 AND id = $2{}",
            tx.share_rows()
        ),
        &[org.into(), project.into()],
    )
    .await?
    .ok_or(StoreError::NotFound { entity: "project" })
}

/// Everyone assigned to a task of the project, with what and when.
pub(crate) async fn crew_of(tx: &mut WriteTx<'_>, org: Uuid, project: Uuid) -> Result<Vec<Crew>> {
    let assigned: Vec<(Uuid, String, Option<String>, Option<String>)> = tx
        .query(
            "SELECT a.user_id, ty.name, MIN(COALESCE(t.start_date, t.due_date)), MAX(COALESCE(t.due_date, t.start_date))
             FROM task_assignees a
             JOIN tasks t ON t.id = a.task_id
             JOIN task_types ty ON ty.id = t.task_type_id
             WHERE a.org_id = $1 AND t.org_id = $1 AND t.project_id = $2
             GROUP BY a.user_id, ty.name, ty.sort_order
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
    for (user_id, work, first, last) in assigned {
        match crew.last_mut() {
            Some(c) if c.user_id == user_id => {
                c.work.push(work);
                c.first = c.first.take().into_iter().chain(first).min();
                c.last = c.last.take().into_iter().chain(last).max();
            }
            _ => crew.push(Crew {
                user_id,
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
