//! The review of listings held as copies: the platform operator's team sees each held listing
//! beside the listing it was held against (the same bytes, or a picture that nearly copies
//! it) and puts it on sale (a contributor with the rights to both, a false likeness) or refuses
//! it (withdrawn for good). A listing put on sale so is never held again by a likeness.

use mstation_core::market::{Category, ListingStatus};
use mstation_core::{OrgKind, TenantScope};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{LISTING_COLS, Listing, MarketRule, queue_preview};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, WriteTx, now_ms,
};

/// A listing held for review, beside the one it was held against.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldListing {
    pub id: Uuid,
    pub contributor_org_id: Uuid,
    pub contributor: String,
    pub category: Category,
    pub title_en: String,
    pub title_zh: String,
    pub created_at: Millis,
    /// The listing on sale it copies, its contributor and titles.
    pub original_id: Option<Uuid>,
    pub original_contributor: Option<String>,
    pub original_title_en: Option<String>,
    pub original_title_zh: Option<String>,
    /// Whether the two are the same bytes (else their pictures are near duplicates).
    pub same_bytes: bool,
}

impl FromRow for HeldListing {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, contributor_org_id, contributor) = (r.get()?, r.get()?, r.get()?);
        let category: String = r.get()?;
        Ok(HeldListing {
            id,
            contributor_org_id,
            contributor,
            category: Category::parse(&category).unwrap_or(Category::Footage),
            title_en: r.get()?,
            title_zh: r.get()?,
            created_at: r.get()?,
            original_id: r.get()?,
            original_contributor: r.get()?,
            original_title_en: r.get()?,
            original_title_zh: r.get()?,
            same_bytes: r.get::<i64>()? == 1,
        })
    }
}

/// Whether `org` is the platform's operator.
async fn operator(tx: &mut WriteTx<'_>, org: Uuid) -> Result<bool> {
    let kind: Option<String> = tx
        .scalar_opt("SELECT kind FROM orgs WHERE id = $1", &[org.into()])
        .await?;
    Ok(kind.as_deref() == Some(OrgKind::PlatformOperator.as_str()))
}

impl Tenant<'_> {
    /// Every listing held for review, oldest first: the platform operator's, only.
    pub async fn held_listings(&self) -> Result<Vec<HeldListing>> {
        if self.org().await?.kind != OrgKind::PlatformOperator {
            return Err(MarketRule::OperatorOnly.into());
        }
        self.platform()
            .read(
                "SELECT l.id, l.org_id, o.name, l.category, l.title_en, l.title_zh, l.created_at,
                        f.id, fo.name, f.title_en, f.title_zh,
                        CAST(CASE WHEN f.hash = l.hash THEN 1 ELSE 0 END AS BIGINT)
                 FROM market_listings l JOIN orgs o ON o.id = l.org_id
                 LEFT JOIN market_listings f ON f.id = l.duplicate_of
                 LEFT JOIN orgs fo ON fo.id = f.org_id
                 WHERE l.status = 'held' ORDER BY l.id LIMIT 500",
                &[],
            )
            .await
    }

    /// Puts a held listing on sale (`approve`) or refuses it (withdrawn for good): the platform
    /// operator's team, only; to anyone else no listing is there to review.
    pub async fn review_listing(&self, id: Uuid, approve: bool) -> Result<Listing> {
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| Box::pin(async move { review(tx, &scope, id, approve).await }))
            .await
    }
}

/// The review's write: see [`Tenant::review_listing`].
async fn review(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    id: Uuid,
    approve: bool,
) -> Result<Listing> {
    if !operator(tx, scope.org_id).await? {
        return Err(StoreError::NotFound { entity: "listing" });
    }
    let found: Option<Listing> = tx
        .query_opt(
            &format!(
                "SELECT {LISTING_COLS} FROM market_listings WHERE id = $1{}",
                tx.lock_rows()
            ),
            &[id.into()],
        )
        .await?;
    let mut l = found.ok_or(StoreError::NotFound { entity: "listing" })?;
    if l.status != ListingStatus::Held {
        return Err(MarketRule::NotHeld.into());
    }
    let now = Millis(now_ms());
    let (status, published_at) = if approve {
        (ListingStatus::Published, Some(now))
    } else {
        (ListingStatus::Withdrawn, None)
    };
    tx.execute(
        "UPDATE market_listings SET status = $3, published_at = $4, reviewed_by = $5, reviewed_at = $6,
                version = version + 1
         WHERE org_id = $1 AND id = $2",
        &[
            l.org_id.into(),
            id.into(),
            status.as_str().into(),
            published_at.into(),
            scope.user_id.into(),
            now.into(),
        ],
    )
    .await?;
    l.status = status;
    l.published_at = published_at;
    l.version += 1;
    if approve && matches!(l.category, Category::Footage | Category::VfxElement) {
        queue_preview(tx, l.org_id, &l).await?;
    }
    let action = if approve {
        "listing.published"
    } else {
        "listing.withdrawn"
    };
    let change = Change::new(Some(l.org_id), action, "listing", id);
    tx.record(&Actor::of(scope), change.after(&l)).await?;
    Ok(l)
}
