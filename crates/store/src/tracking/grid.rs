//! What the shot and asset grids need beyond their rows: a person's saved views, the shots or
//! assets whose notes hold a text, and the custom values of a project's shots or assets at once.

use std::collections::{HashMap, HashSet};

use mstation_core::tracking::fields::FieldEntity;
use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::fields::FieldValues;
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, dup, new_id, now_ms,
};

/// The grids a view can be saved for: the shot grid, whose address carries its filters (the
/// table leaves room for the asset grid's, which filters in the page for now).
pub const GRIDS: [&str; 1] = ["shots"];
/// The most views one person keeps per project and grid.
pub const MAX_VIEWS: i64 = 50;
/// The longest query a view keeps, in bytes.
pub const MAX_VIEW_QUERY: usize = 2000;
/// The most rows a note search answers with: more than a grid shows.
const MAX_NOTE_HITS: i64 = 20_000;

/// A grid as one person likes to see it: a name and the grid's query string (filters and
/// columns, without `?`). Only its owner reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedView {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `shots` or `assets`.
    pub grid: String,
    pub name: String,
    /// The grid page's query, such as `person=me&due=overdue&show=due`.
    pub query: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl FromRow for SavedView {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(SavedView {
            id: r.get()?,
            project_id: r.get()?,
            grid: r.get()?,
            name: r.get()?,
            query: r.get()?,
            created_at: r.get()?,
            updated_at: r.get()?,
        })
    }
}

const VIEW_COLS: &str = "id, project_id, grid, name, query, created_at, updated_at";

/// A view as its audit row keeps it: without its project, so it stays out of the project's and
/// the person's activity feeds, which every member reads (a view is its owner's alone).
fn recorded(v: &SavedView) -> serde_json::Value {
    serde_json::json!({"id": v.id, "grid": v.grid, "name": v.name, "query": v.query})
}

fn grid_of(grid: &str) -> Result<&'static str> {
    GRIDS
        .into_iter()
        .find(|g| *g == grid)
        .ok_or_else(|| FieldError::new("grid", "unknown_value").into())
}

/// `text` made literal inside a `LIKE … ESCAPE '\'` pattern, between `%`s. The query lower-cases
/// both sides with the database's `lower`, so they fold alike.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Tenant<'_> {
    async fn project_exists(&self, project_id: Uuid) -> Result<()> {
        let found: Option<Uuid> = self
            .scalar_opt(
                "SELECT id FROM projects WHERE org_id = $1 AND id = $2",
                &[self.org_id().into(), project_id.into()],
            )
            .await?;
        found
            .map(|_| ())
            .ok_or(StoreError::NotFound { entity: "project" })
    }

    /// The caller's saved views of a project, of one grid or of both, by name.
    pub async fn saved_views(
        &self,
        project_id: Uuid,
        grid: Option<&str>,
    ) -> Result<Vec<SavedView>> {
        self.project_exists(project_id).await?;
        let scope = self.scope();
        let mut args = vec![scope.org_id.into(), scope.user_id.into(), project_id.into()];
        let mut text = format!(
            "SELECT {VIEW_COLS} FROM saved_views WHERE org_id = $1 AND user_id = $2 AND project_id = $3"
        );
        if let Some(g) = grid {
            args.push(grid_of(g)?.into());
            text.push_str(" AND grid = $4");
        }
        text.push_str(" ORDER BY name, id");
        self.read(&text, &args).await
    }

    /// Saves a view of a project's grid for the caller, replacing their view of the same name.
    /// Answers the view and whether it is new. `query` is kept as given: the page that reads
    /// it back checks it as it checks its own address.
    pub async fn save_view(
        &self,
        project_id: Uuid,
        grid: &str,
        name: &str,
        query: &str,
    ) -> Result<(SavedView, bool)> {
        let scope = self.scope().clone();
        let (grid, name, query) = (grid.to_string(), name.to_string(), query.to_string());
        self.write(move |tx| {
            Box::pin(async move {
                let found: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT id FROM projects WHERE org_id = $1 AND id = $2",
                        &[scope.org_id.into(), project_id.into()],
                    )
                    .await?;
                if found.is_none() {
                    return Err(StoreError::NotFound { entity: "project" });
                }
                // Checked once the project is known to be the caller's: another organisation's
                // project is a 404 whatever the body.
                let grid = grid_of(&grid)?;
                let name = validate::name("name", &name, 80)?;
                let query = query.trim_start_matches('?').to_string();
                if query.len() > MAX_VIEW_QUERY {
                    return Err(FieldError::new("query", "too_long").into());
                }
                if query.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    return Err(FieldError::new("query", "not_a_grid_query").into());
                }
                let mine = [
                    scope.org_id.into(),
                    scope.user_id.into(),
                    project_id.into(),
                    grid.into(),
                    (&name).into(),
                ];
                let lock = tx.lock_rows();
                let before: Option<SavedView> = tx
                    .query_opt(
                        &format!(
                            "SELECT {VIEW_COLS} FROM saved_views WHERE org_id = $1 AND user_id = $2
                             AND project_id = $3 AND grid = $4 AND name = $5{lock}"
                        ),
                        &mine,
                    )
                    .await?;
                let now = Millis(now_ms());
                if let Some(before) = before {
                    let after = SavedView {
                        query: query.clone(),
                        updated_at: now,
                        ..before.clone()
                    };
                    tx.execute(
                        "UPDATE saved_views SET query = $3, updated_at = $4 WHERE org_id = $1 AND id = $2",
                        &[
                            scope.org_id.into(),
                            after.id.into(),
                            (&after.query).into(),
                            now.into(),
                        ],
                    )
                    .await?;
                    let change = Change::new(Some(scope.org_id), "view.saved", "view", after.id)
                        .before(&recorded(&before))
                        .after(&recorded(&after));
                    tx.record(&Actor::of(&scope), change).await?;
                    return Ok((after, false));
                }
                let kept: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM saved_views WHERE org_id = $1 AND user_id = $2
                         AND project_id = $3 AND grid = $4",
                        &mine[..4],
                    )
                    .await?;
                if kept >= MAX_VIEWS {
                    return Err(FieldError::new("name", "too_many_views").into());
                }
                let v = SavedView {
                    id: new_id(),
                    project_id,
                    grid: grid.to_string(),
                    name: name.clone(),
                    query: query.clone(),
                    created_at: now,
                    updated_at: now,
                };
                tx.execute(
                    "INSERT INTO saved_views (id, org_id, user_id, project_id, grid, name, query, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        v.id.into(),
                        scope.org_id.into(),
                        scope.user_id.into(),
                        project_id.into(),
                        grid.into(),
                        (&v.name).into(),
                        (&v.query).into(),
                        now.into(),
                        now.into(),
                    ],
                )
                .await
                .map_err(|e| dup(e, "view", "name"))?;
                let change = Change::new(Some(scope.org_id), "view.saved", "view", v.id)
                    .after(&recorded(&v));
                tx.record(&Actor::of(&scope), change).await?;
                Ok((v, true))
            })
        })
        .await
    }

    /// Deletes one of the caller's saved views and answers it; anyone else's is not found.
    pub async fn delete_view(&self, id: Uuid) -> Result<SavedView> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let lock = tx.lock_rows();
                let before: SavedView = tx
                    .query_opt(
                        &format!(
                            "SELECT {VIEW_COLS} FROM saved_views WHERE org_id = $1 AND user_id = $2 AND id = $3{lock}"
                        ),
                        &[scope.org_id.into(), scope.user_id.into(), id.into()],
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "view" })?;
                tx.execute(
                    "DELETE FROM saved_views WHERE org_id = $1 AND user_id = $2 AND id = $3",
                    &[scope.org_id.into(), scope.user_id.into(), id.into()],
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "view.deleted", "view", id)
                    .before(&recorded(&before));
                tx.record(&Actor::of(&scope), change).await?;
                Ok(before)
            })
        })
        .await
    }

    /// The shots (or assets) of a project with a note holding `text`, in any case: a note on
    /// the shot itself, on one of its tasks or on a version of one of its tasks. Lower-casing is
    /// the database's: SQLite's folds ASCII letters only.
    pub async fn note_hits(
        &self,
        project_id: Uuid,
        on: FieldEntity,
        text: &str,
    ) -> Result<HashSet<Uuid>> {
        let column = match on {
            FieldEntity::Shot => "shot_id",
            FieldEntity::Asset => "asset_id",
            FieldEntity::Task => return Ok(HashSet::new()),
        };
        let sql = format!(
            "SELECT DISTINCT COALESCE(n.{column}, t.{column}, vt.{column}) FROM notes n
             LEFT JOIN tasks t ON t.org_id = $1 AND t.id = n.task_id
             LEFT JOIN versions v ON v.org_id = $1 AND v.id = n.version_id
             LEFT JOIN tasks vt ON vt.org_id = $1 AND vt.id = v.task_id
             WHERE n.org_id = $1 AND n.project_id = $2 AND lower(n.body) LIKE lower($3) ESCAPE '\\'
             AND {}
             LIMIT $4",
            super::notes::unheld(5, 6)
        );
        let rows: Vec<(Option<Uuid>,)> = self
            .read(
                &sql,
                &[
                    self.org_id().into(),
                    project_id.into(),
                    contains_pattern(text).into(),
                    MAX_NOTE_HITS.into(),
                    self.scope().user_id.into(),
                    super::notes::plans_production(self.scope()).into(),
                ],
            )
            .await?;
        Ok(rows.into_iter().filter_map(|(id,)| id).collect())
    }

    /// The custom values of every shot (or asset, or task) of a project, by its id; those with
    /// no value set are absent.
    pub async fn project_field_values(
        &self,
        project_id: Uuid,
        on: FieldEntity,
    ) -> Result<HashMap<Uuid, FieldValues>> {
        let rows: Vec<(Uuid, String, String, String)> = self
            .read(
                "SELECT v.entity_id, d.key, d.kind, v.value FROM custom_fields d
                 JOIN custom_values v ON v.org_id = $1 AND v.field_id = d.id
                 WHERE d.org_id = $1 AND d.project_id = $2 AND d.entity = $3",
                &[self.org_id().into(), project_id.into(), on.as_str().into()],
            )
            .await?;
        let mut out: HashMap<Uuid, FieldValues> = HashMap::new();
        for (id, key, kind, value) in rows {
            out.entry(id)
                .or_default()
                .insert(key, super::fields::value_json(&kind, &value));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_text_is_literal_inside_its_pattern() {
        assert_eq!(contains_pattern("Sky"), "%Sky%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern("天空"), "%天空%");
    }
}
