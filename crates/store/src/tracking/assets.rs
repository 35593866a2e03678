//! Assets of a project (characters, props, environments, …) and their casting: which assets
//! appear in which shots, and how many of them. Tasks on assets live in `tasks`.

use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::check_episode;
use crate::{
    Actor, Arg, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError, Tenant,
    new_id, now_ms,
};
use crate::{check_version, dup};

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

#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl FromRow for Asset {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Asset {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            episode_id: r.get()?,
            kind: r.get()?,
            name: r.get()?,
            description: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CastAsset {
    pub asset_id: Uuid,
    pub kind: String,
    pub name: String,
    /// How many appear, when known.
    pub count: Option<i64>,
}

impl FromRow for CastAsset {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(CastAsset {
            asset_id: r.get()?,
            kind: r.get()?,
            name: r.get()?,
            count: r.get()?,
        })
    }
}

/// One shot an asset is cast in, as listed for the asset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CastShot {
    pub shot_id: Uuid,
    pub sequence_id: Uuid,
    pub name: String,
    pub cut_order: i64,
    pub count: Option<i64>,
}

impl FromRow for CastShot {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(CastShot {
            shot_id: r.get()?,
            sequence_id: r.get()?,
            name: r.get()?,
            cut_order: r.get()?,
            count: r.get()?,
        })
    }
}

/// A casting as written: the shot, the asset, and the count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Casting {
    pub shot_id: Uuid,
    pub asset_id: Uuid,
    pub count: Option<i64>,
    pub created_at: Millis,
}

impl FromRow for Casting {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Casting {
            shot_id: r.get()?,
            asset_id: r.get()?,
            count: r.get()?,
            created_at: r.get()?,
        })
    }
}

const ASSET_COLS: &str =
    "id, org_id, project_id, episode_id, kind, name, description, created_at, version";

fn check_count(v: Option<i64>) -> Result<Option<i64>> {
    match v {
        Some(n) if !(1..=100_000).contains(&n) => {
            Err(FieldError::new("count", "out_of_range").into())
        }
        _ => Ok(v),
    }
}

impl Tenant<'_> {
    pub async fn create_asset(
        &self,
        project_id: Uuid,
        episode_id: Option<Uuid>,
        kind: AssetKind,
        name: &str,
        description: &str,
    ) -> Result<Asset> {
        let scope = self.scope().clone();
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
        self.write(move |tx| {
            Box::pin(async move {
                crate::exists(tx, "projects", scope.org_id, project_id, "project").await?;
                check_episode(tx, scope.org_id, project_id, episode_id).await?;
                let text = format!(
                    "INSERT INTO assets ({ASSET_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                );
                let args = [
                    a.id.into(),
                    a.org_id.into(),
                    a.project_id.into(),
                    a.episode_id.into(),
                    (&a.kind).into(),
                    (&a.name).into(),
                    (&a.description).into(),
                    a.created_at.into(),
                    a.version.into(),
                ];
                if let Err(e) = tx.execute(&text, &args).await {
                    return Err(dup(e, "asset", "name"));
                }
                let change = Change::new(Some(scope.org_id), "asset.created", "asset", a.id);
                tx.record(&Actor::of(&scope), change.after(&a)).await?;
                Ok(a)
            })
        })
        .await
    }

    /// The assets of a project, in creation order, optionally of one kind.
    pub async fn assets(
        &self,
        project_id: Uuid,
        kind: Option<AssetKind>,
        q: &ListQuery,
    ) -> Result<Page<Asset>> {
        let kind = kind.map(AssetKind::as_str);
        self.project(project_id).await?;
        let filter = "org_id = $1 AND project_id = $2 AND ($3 IS NULL OR kind = $3)";
        let args = vec![self.org_id().into(), project_id.into(), kind.into()];
        self.page(ASSET_COLS, "assets", filter, args, q, |a: &Asset| a.id)
            .await
    }

    pub async fn asset(&self, id: Uuid) -> Result<Asset> {
        self.one(ASSET_COLS, "assets", id, "asset").await
    }

    pub async fn update_asset(
        &self,
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
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before =
                    crate::locked::<Asset>(tx, ASSET_COLS, "assets", scope.org_id, id, "asset")
                        .await?;
                check_version("asset", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(e) = ch.episode_id {
                    check_episode(tx, scope.org_id, before.project_id, e).await?;
                    after.episode_id = e;
                }
                if let Some(k) = ch.kind {
                    after.kind = k.as_str().to_string();
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
                    (&after.kind).into(),
                    (&after.name).into(),
                    (&after.description).into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "asset",
                    Some("name"),
                    before.version,
                    "UPDATE assets SET episode_id = $1, kind = $2, name = $3, description = $4,
                         version = $5 WHERE org_id = $6 AND id = $7 AND version = $8",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "asset.updated", "asset", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Deletes an asset, its casting and its custom values. An asset with tasks or notes is kept:
    /// its work and its reviews are history.
    pub async fn delete_asset(&self, id: Uuid, expected_version: Option<i64>) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before =
                    crate::locked::<Asset>(tx, ASSET_COLS, "assets", scope.org_id, id, "asset")
                        .await?;
                check_version("asset", expected_version, before.version)?;
                let ids: [Arg; 2] = [scope.org_id.into(), id.into()];
                let task: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT id FROM tasks WHERE org_id = $1 AND asset_id = $2 LIMIT 1",
                        &ids,
                    )
                    .await?;
                if task.is_some() {
                    return Err(StoreError::from(super::TrackingRule::AssetHasTasks));
                }
                let note: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT id FROM notes WHERE org_id = $1 AND asset_id = $2 LIMIT 1",
                        &ids,
                    )
                    .await?;
                if note.is_some() {
                    return Err(StoreError::from(super::TrackingRule::AssetHasNotes));
                }
                tx.execute(
                    "DELETE FROM casting WHERE org_id = $1 AND asset_id = $2",
                    &ids,
                )
                .await?;
                tx.execute(
                    "DELETE FROM custom_values WHERE org_id = $1 AND entity_id = $2",
                    &ids,
                )
                .await?;
                tx.execute("DELETE FROM assets WHERE org_id = $1 AND id = $2", &ids)
                    .await?;
                let change = Change::new(Some(scope.org_id), "asset.deleted", "asset", id);
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Casts an asset in a shot of the same project, or changes its count if it already is.
    pub async fn cast(&self, shot_id: Uuid, asset_id: Uuid, n: Option<i64>) -> Result<Casting> {
        let n = check_count(n)?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let shot: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT project_id FROM shots WHERE org_id = $1 AND id = $2",
                        &[scope.org_id.into(), shot_id.into()],
                    )
                    .await?;
                let Some(project_id) = shot else {
                    return Err(StoreError::NotFound { entity: "shot" });
                };
                let asset: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT project_id FROM assets WHERE org_id = $1 AND id = $2",
                        &[scope.org_id.into(), asset_id.into()],
                    )
                    .await?;
                match asset {
                    None => return Err(StoreError::NotFound { entity: "asset" }),
                    Some(p) if p != project_id => {
                        return Err(
                            FieldError::new("asset_id", "not_an_asset_of_this_project").into()
                        );
                    }
                    Some(_) => {}
                }
                let before: Option<Casting> = tx
                    .query_opt(
                        "SELECT shot_id, asset_id, count, created_at FROM casting
                         WHERE shot_id = $1 AND asset_id = $2 AND org_id = $3",
                        &[shot_id.into(), asset_id.into(), scope.org_id.into()],
                    )
                    .await?;
                let after = Casting {
                    shot_id,
                    asset_id,
                    count: n,
                    created_at: before.as_ref().map_or(Millis(now_ms()), |b| b.created_at),
                };
                let change = match &before {
                    Some(b) => {
                        let args = [
                            n.into(),
                            shot_id.into(),
                            asset_id.into(),
                            scope.org_id.into(),
                        ];
                        tx.execute(
                            "UPDATE casting SET count = $1
                             WHERE shot_id = $2 AND asset_id = $3 AND org_id = $4",
                            &args,
                        )
                        .await?;
                        Change::new(Some(scope.org_id), "casting.updated", "casting", shot_id)
                            .before(b)
                    }
                    None => {
                        let args = [
                            scope.org_id.into(),
                            project_id.into(),
                            shot_id.into(),
                            asset_id.into(),
                            n.into(),
                            after.created_at.into(),
                        ];
                        tx.execute(
                            "INSERT INTO casting (org_id, project_id, shot_id, asset_id, count,
                             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                            &args,
                        )
                        .await?;
                        Change::new(Some(scope.org_id), "casting.added", "casting", shot_id)
                    }
                };
                tx.record(&Actor::of(&scope), change.after(&after)).await?;
                Ok(after)
            })
        })
        .await
    }

    /// Takes an asset out of a shot.
    pub async fn uncast(&self, shot_id: Uuid, asset_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let ids: [Arg; 3] = [scope.org_id.into(), shot_id.into(), asset_id.into()];
                let before: Casting = tx
                    .query_opt(
                        "SELECT shot_id, asset_id, count, created_at FROM casting
                         WHERE org_id = $1 AND shot_id = $2 AND asset_id = $3",
                        &ids,
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "casting" })?;
                tx.execute(
                    "DELETE FROM casting WHERE org_id = $1 AND shot_id = $2 AND asset_id = $3",
                    &ids,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "casting.removed", "casting", shot_id);
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The assets cast in a shot, by kind then name.
    pub async fn shot_assets(&self, shot_id: Uuid) -> Result<Vec<CastAsset>> {
        let scope = self.scope();
        self.shot(shot_id).await?;
        self.read(
            "SELECT a.id AS asset_id, a.kind, a.name, c.count FROM casting c JOIN assets a ON a.id = c.asset_id
             WHERE c.org_id = $1 AND c.shot_id = $2 ORDER BY a.kind, a.name",
            &[scope.org_id.into(), shot_id.into()],
        )
        .await
    }

    /// The shots an asset is cast in, by sequence then cut order.
    pub async fn asset_shots(&self, asset_id: Uuid) -> Result<Vec<CastShot>> {
        let scope = self.scope();
        self.asset(asset_id).await?;
        self.read(
            "SELECT s.id AS shot_id, s.sequence_id, s.name, s.cut_order, c.count FROM casting c JOIN shots s ON s.id = c.shot_id
             WHERE c.org_id = $1 AND c.asset_id = $2 ORDER BY s.sequence_id, s.cut_order, s.id",
            &[scope.org_id.into(), asset_id.into()],
        )
        .await
    }
}
