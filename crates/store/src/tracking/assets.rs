//! Assets of a project (characters, props, environments, …) and their casting: which assets
//! appear in which shots, and how many of them. Tasks on assets live in `tasks`.

use mstation_core::TenantScope;
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::identity::{check_version, dup};
use crate::{
    Actor, Change, ListQuery, Millis, Page, Result, Store, StoreError, new_id, now_ms, on_read,
    on_write, record,
};

/// What an asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    Character,
    Prop,
    Environment,
    Fx,
    Vehicle,
    Other,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Character => "character",
            AssetKind::Prop => "prop",
            AssetKind::Environment => "environment",
            AssetKind::Fx => "fx",
            AssetKind::Vehicle => "vehicle",
            AssetKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Asset {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    /// The episode the asset was made for, in a series.
    pub episode_id: Option<Uuid>,
    #[schema(value_type = AssetKind)]
    pub kind: String,
    /// Unique in the project.
    pub name: String,
    pub description: String,
    pub created_at: Millis,
    pub version: i64,
}

/// The asset fields a PATCH may change.
#[derive(Debug, Clone, Default)]
pub struct AssetChanges {
    pub kind: Option<AssetKind>,
    /// `Some(None)` takes the asset out of its episode.
    pub episode_id: Option<Option<Uuid>>,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// One asset cast in a shot, as listed for the shot.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CastAsset {
    pub asset_id: Uuid,
    pub kind: String,
    pub name: String,
    /// How many appear, when known.
    pub count: Option<i64>,
}

/// One shot an asset is cast in, as listed for the asset.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CastShot {
    pub shot_id: Uuid,
    pub sequence_id: Uuid,
    pub name: String,
    pub cut_order: i64,
    pub count: Option<i64>,
}

/// A casting as written: the shot, the asset, and the count.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Casting {
    pub shot_id: Uuid,
    pub asset_id: Uuid,
    pub count: Option<i64>,
    pub created_at: Millis,
}

const ASSET_COLS: &str =
    "id, org_id, project_id, episode_id, kind, name, description, created_at, version";

fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

fn check_count(v: Option<i64>) -> Result<Option<i64>> {
    match v {
        Some(n) if !(1..=100_000).contains(&n) => {
            Err(FieldError::new("count", "out_of_range").into())
        }
        _ => Ok(v),
    }
}

impl Store {
    pub async fn create_asset(
        &self,
        scope: &TenantScope,
        project_id: Uuid,
        episode_id: Option<Uuid>,
        kind: AssetKind,
        name: &str,
        description: &str,
    ) -> Result<Asset> {
        let a = Asset {
            id: new_id(),
            org_id: scope.org_id,
            project_id,
            episode_id,
            kind: kind.as_str().to_string(),
            name: validate::name("name", name, 200)?,
            description: validate::text("description", description, 2000)?,
            created_at: Millis(now_ms()),
            version: 1,
        };
        on_write!(self, tx => {
            let project: Option<Uuid> = sqlx::query_scalar("SELECT id FROM projects WHERE org_id = $1 AND id = $2")
                .bind(scope.org_id).bind(project_id).fetch_optional(&mut *tx).await?;
            if project.is_none() { return Err(StoreError::NotFound { entity: "project" }); }
            super::check_episode!(tx, scope.org_id, project_id, episode_id);
            let r = sqlx::query(sql(format!("INSERT INTO assets ({ASSET_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")))
                .bind(a.id).bind(a.org_id).bind(a.project_id).bind(a.episode_id).bind(&a.kind).bind(&a.name).bind(&a.description).bind(a.created_at).bind(a.version)
                .execute(&mut *tx).await;
            if let Err(e) = r { return Err(dup(e, "asset", "name")); }
            record!(tx, &Actor::of(scope), Change::new(Some(scope.org_id), "asset.created", "asset", a.id).after(&a));
            tx.commit().await?;
        });
        Ok(a)
    }

    /// The assets of a project, in creation order, optionally of one kind.
    pub async fn assets(
        &self,
        scope: &TenantScope,
        project_id: Uuid,
        kind: Option<AssetKind>,
        q: &ListQuery,
    ) -> Result<Page<Asset>> {
        let kind = kind.map(AssetKind::as_str);
        self.project(scope, project_id).await?;
        let (cmp, dir) = q.order();
        let filter = "org_id = $1 AND project_id = $2 AND ($3 IS NULL OR kind = $3)";
        let text = format!(
            "SELECT {ASSET_COLS} FROM assets WHERE {filter} AND ($4 IS NULL OR id {cmp} $4) ORDER BY id {dir} LIMIT $5"
        );
        let count = format!("SELECT COUNT(*) FROM assets WHERE {filter}");
        let (items, total) = on_read!(self, pool => {
            let items = sqlx::query_as::<_, Asset>(sql(text)).bind(scope.org_id).bind(project_id).bind(kind).bind(q.after).bind(q.limit as i64 + 1).fetch_all(pool).await?;
            let total: i64 = sqlx::query_scalar(sql(count)).bind(scope.org_id).bind(project_id).bind(kind).fetch_one(pool).await?;
            (items, total)
        });
        Ok(q.finish(items, total, |a| a.id))
    }

    pub async fn asset(&self, scope: &TenantScope, id: Uuid) -> Result<Asset> {
        on_read!(self, pool => sqlx::query_as::<_, Asset>(sql(format!("SELECT {ASSET_COLS} FROM assets WHERE org_id = $1 AND id = $2")))
            .bind(scope.org_id).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound { entity: "asset" })
    }

    pub async fn update_asset(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: Option<i64>,
        ch: AssetChanges,
    ) -> Result<Asset> {
        let name = ch
            .name
            .map(|n| validate::name("name", &n, 200))
            .transpose()?;
        let description = ch
            .description
            .map(|d| validate::text("description", &d, 2000))
            .transpose()?;
        let lock = self.row_lock();
        on_write!(self, tx => {
            let before = sqlx::query_as::<_, Asset>(sql(format!("SELECT {ASSET_COLS} FROM assets WHERE org_id = $1 AND id = $2{lock}")))
                .bind(scope.org_id).bind(id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound { entity: "asset" })?;
            check_version("asset", expected_version, before.version)?;
            let mut after = before.clone();
            if let Some(e) = ch.episode_id {
                super::check_episode!(tx, scope.org_id, before.project_id, e);
                after.episode_id = e;
            }
            if let Some(k) = ch.kind { after.kind = k.as_str().to_string(); }
            if let Some(n) = name { after.name = n; }
            if let Some(d) = description { after.description = d; }
            after.version += 1;
            let r = sqlx::query("UPDATE assets SET episode_id = $1, kind = $2, name = $3, description = $4, version = $5 WHERE org_id = $6 AND id = $7 AND version = $8")
                .bind(after.episode_id).bind(&after.kind).bind(&after.name).bind(&after.description).bind(after.version)
                .bind(scope.org_id).bind(id).bind(before.version).execute(&mut *tx).await;
            let n = match r { Ok(r) => r.rows_affected(), Err(e) => return Err(dup(e, "asset", "name")) };
            if n != 1 { return Err(StoreError::Stale { entity: "asset", current: before.version + 1 }); }
            record!(tx, &Actor::of(scope), Change::new(Some(scope.org_id), "asset.updated", "asset", id).before(&before).after(&after));
            tx.commit().await?;
            Ok(after)
        })
    }

    /// Deletes an asset, its casting and its custom values. An asset with tasks or notes is kept:
    /// its work and its reviews are history.
    pub async fn delete_asset(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let lock = self.row_lock();
        on_write!(self, tx => {
            let before = sqlx::query_as::<_, Asset>(sql(format!("SELECT {ASSET_COLS} FROM assets WHERE org_id = $1 AND id = $2{lock}")))
                .bind(scope.org_id).bind(id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound { entity: "asset" })?;
            check_version("asset", expected_version, before.version)?;
            let task: Option<Uuid> = sqlx::query_scalar("SELECT id FROM tasks WHERE org_id = $1 AND asset_id = $2 LIMIT 1")
                .bind(scope.org_id).bind(id).fetch_optional(&mut *tx).await?;
            if task.is_some() { return Err(StoreError::Rule("tracking.asset_has_tasks")); }
            let note: Option<Uuid> = sqlx::query_scalar("SELECT id FROM notes WHERE org_id = $1 AND asset_id = $2 LIMIT 1")
                .bind(scope.org_id).bind(id).fetch_optional(&mut *tx).await?;
            if note.is_some() { return Err(StoreError::Rule("tracking.asset_has_notes")); }
            sqlx::query("DELETE FROM casting WHERE org_id = $1 AND asset_id = $2").bind(scope.org_id).bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM custom_values WHERE org_id = $1 AND entity_id = $2").bind(scope.org_id).bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM assets WHERE org_id = $1 AND id = $2").bind(scope.org_id).bind(id).execute(&mut *tx).await?;
            record!(tx, &Actor::of(scope), Change::new(Some(scope.org_id), "asset.deleted", "asset", id).before(&before));
            tx.commit().await?;
            Ok(())
        })
    }

    /// Casts an asset in a shot of the same project, or changes its count if it already is.
    pub async fn cast(
        &self,
        scope: &TenantScope,
        shot_id: Uuid,
        asset_id: Uuid,
        n: Option<i64>,
    ) -> Result<Casting> {
        let n = check_count(n)?;
        on_write!(self, tx => {
            let shot: Option<Uuid> = sqlx::query_scalar("SELECT project_id FROM shots WHERE org_id = $1 AND id = $2")
                .bind(scope.org_id).bind(shot_id).fetch_optional(&mut *tx).await?;
            let Some(project_id) = shot else { return Err(StoreError::NotFound { entity: "shot" }) };
            let asset: Option<Uuid> = sqlx::query_scalar("SELECT project_id FROM assets WHERE org_id = $1 AND id = $2")
                .bind(scope.org_id).bind(asset_id).fetch_optional(&mut *tx).await?;
            match asset {
                None => return Err(StoreError::NotFound { entity: "asset" }),
                Some(p) if p != project_id => return Err(FieldError::new("asset_id", "not_an_asset_of_this_project").into()),
                Some(_) => {}
            }
            let before = sqlx::query_as::<_, Casting>("SELECT shot_id, asset_id, count, created_at FROM casting WHERE shot_id = $1 AND asset_id = $2")
                .bind(shot_id).bind(asset_id).fetch_optional(&mut *tx).await?;
            let after = Casting { shot_id, asset_id, count: n, created_at: before.as_ref().map_or(Millis(now_ms()), |b| b.created_at) };
            let change = match &before {
                Some(b) => {
                    sqlx::query("UPDATE casting SET count = $1 WHERE shot_id = $2 AND asset_id = $3")
                        .bind(n).bind(shot_id).bind(asset_id).execute(&mut *tx).await?;
                    Change::new(Some(scope.org_id), "casting.updated", "casting", shot_id).before(b)
                }
                None => {
                    sqlx::query("INSERT INTO casting (org_id, project_id, shot_id, asset_id, count, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(scope.org_id).bind(project_id).bind(shot_id).bind(asset_id).bind(n).bind(after.created_at).execute(&mut *tx).await?;
                    Change::new(Some(scope.org_id), "casting.added", "casting", shot_id)
                }
            };
            record!(tx, &Actor::of(scope), change.after(&after));
            tx.commit().await?;
            Ok(after)
        })
    }

    /// Takes an asset out of a shot.
    pub async fn uncast(&self, scope: &TenantScope, shot_id: Uuid, asset_id: Uuid) -> Result<()> {
        on_write!(self, tx => {
            let before = sqlx::query_as::<_, Casting>("SELECT shot_id, asset_id, count, created_at FROM casting WHERE org_id = $1 AND shot_id = $2 AND asset_id = $3")
                .bind(scope.org_id).bind(shot_id).bind(asset_id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound { entity: "casting" })?;
            sqlx::query("DELETE FROM casting WHERE org_id = $1 AND shot_id = $2 AND asset_id = $3")
                .bind(scope.org_id).bind(shot_id).bind(asset_id).execute(&mut *tx).await?;
            record!(tx, &Actor::of(scope), Change::new(Some(scope.org_id), "casting.removed", "casting", shot_id).before(&before));
            tx.commit().await?;
            Ok(())
        })
    }

    /// The assets cast in a shot, by kind then name.
    pub async fn shot_assets(&self, scope: &TenantScope, shot_id: Uuid) -> Result<Vec<CastAsset>> {
        self.shot(scope, shot_id).await?;
        Ok(on_read!(self, pool => sqlx::query_as::<_, CastAsset>(
            "SELECT a.id AS asset_id, a.kind, a.name, c.count FROM casting c JOIN assets a ON a.id = c.asset_id
             WHERE c.org_id = $1 AND c.shot_id = $2 ORDER BY a.kind, a.name")
            .bind(scope.org_id).bind(shot_id).fetch_all(pool).await?))
    }

    /// The shots an asset is cast in, by sequence then cut order.
    pub async fn asset_shots(&self, scope: &TenantScope, asset_id: Uuid) -> Result<Vec<CastShot>> {
        self.asset(scope, asset_id).await?;
        Ok(on_read!(self, pool => sqlx::query_as::<_, CastShot>(
            "SELECT s.id AS shot_id, s.sequence_id, s.name, s.cut_order, c.count FROM casting c JOIN shots s ON s.id = c.shot_id
             WHERE c.org_id = $1 AND c.asset_id = $2 ORDER BY s.sequence_id, s.cut_order, s.id")
            .bind(scope.org_id).bind(asset_id).fetch_all(pool).await?))
    }
}
