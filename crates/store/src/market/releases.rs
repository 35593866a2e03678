//! Model and property releases: the signed consents of the people a listing shows and the
//! owners of the places it shows, each one of the contributor's files, attached to its listing.
//! The storefront and a licence's certificate say what is on file (the kind and whom or what it
//! releases), never the file; the holder of a licence standing on the listing downloads a copy
//! through an expiring link, like the original. A release stays once a licence was sold with it
//! on file.

use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{DownloadLink, MarketRule, lock_listing};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, Tenant, new_id,
    now_ms,
};

/// The most releases a listing holds.
pub const RELEASES_MAX: i64 = 20;

/// What a release consents to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// A person shown agrees to the use of their likeness.
    Model,
    /// The owner of a place or thing shown agrees to its use.
    Property,
}

impl ReleaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseKind::Model => "model",
            ReleaseKind::Property => "property",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "model" => Some(ReleaseKind::Model),
            "property" => Some(ReleaseKind::Property),
            _ => None,
        }
    }
}

/// A release as its contributor sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Release {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub kind: ReleaseKind,
    /// Whom or what it releases ("Li Na", "Yu Garden").
    pub name: String,
    /// The signed document: one of the organisation's files.
    pub media_file_id: Uuid,
    pub file_name: String,
    pub created_by: Uuid,
    pub created_at: Millis,
}

impl FromRow for Release {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, listing_id) = (r.get()?, r.get()?);
        let kind: String = r.get()?;
        Ok(Release {
            id,
            listing_id,
            kind: ReleaseKind::parse(&kind).unwrap_or(ReleaseKind::Model),
            name: r.get()?,
            media_file_id: r.get()?,
            file_name: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
        })
    }
}

const RELEASE_SELECT: &str =
    "SELECT r.id, r.listing_id, r.kind, r.name, r.media_file_id, f.name, r.created_by, r.created_at
     FROM market_releases r JOIN media_files f ON f.id = r.media_file_id";

/// A release as the storefront and a certificate say it is on file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseOnFile {
    pub id: Uuid,
    pub kind: ReleaseKind,
    pub name: String,
}

struct OnFileRow(Uuid, ReleaseOnFile);

impl FromRow for OnFileRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (listing, id) = (r.get()?, r.get()?);
        let kind: String = r.get()?;
        Ok(OnFileRow(
            listing,
            ReleaseOnFile {
                id,
                kind: ReleaseKind::parse(&kind).unwrap_or(ReleaseKind::Model),
                name: r.get()?,
            },
        ))
    }
}

impl Tenant<'_> {
    /// The releases on one of the organisation's listings, oldest first.
    pub async fn releases(&self, listing_id: Uuid) -> Result<Vec<Release>> {
        self.listing(listing_id).await?;
        self.read(
            &format!("{RELEASE_SELECT} WHERE r.org_id = $1 AND r.listing_id = $2 ORDER BY r.id"),
            &[self.org_id().into(), listing_id.into()],
        )
        .await
    }

    /// Attaches a release to one of the organisation's listings (not one withdrawn): the signed
    /// document is one of its files; at most `RELEASES_MAX` a listing.
    pub async fn add_release(
        &self,
        listing_id: Uuid,
        kind: ReleaseKind,
        name: &str,
        media_file_id: Uuid,
    ) -> Result<Release> {
        let name = validate::name("name", name, 200)?;
        let listing = self.listing(listing_id).await?;
        if listing.status == mstation_core::market::ListingStatus::Withdrawn {
            return Err(MarketRule::NotForSale.into());
        }
        let file = self.media_file(media_file_id).await?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                // The listing locked: two attached at once count one after the other.
                lock_listing(tx, org, listing_id).await?;
                let held: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM market_releases WHERE org_id = $1 AND listing_id = $2",
                        &[org.into(), listing_id.into()],
                    )
                    .await?;
                if held >= RELEASES_MAX {
                    return Err(FieldError::new("media_file_id", "at_most_20").into());
                }
                let r = Release {
                    id: new_id(),
                    listing_id,
                    kind,
                    name,
                    media_file_id: file.id,
                    file_name: file.name,
                    created_by: scope.user_id,
                    created_at: Millis(now_ms()),
                };
                tx.execute(
                    "INSERT INTO market_releases (id, org_id, listing_id, kind, name, media_file_id, created_by, created_at)
                     VALUES ($2, $1, $3, $4, $5, $6, $7, $8)",
                    &[
                        org.into(),
                        r.id.into(),
                        listing_id.into(),
                        kind.as_str().into(),
                        (&r.name).into(),
                        r.media_file_id.into(),
                        r.created_by.into(),
                        r.created_at.into(),
                    ],
                )
                .await?;
                let change = Change::new(Some(org), "release.added", "release", r.id);
                tx.record(&Actor::of(&scope), change.after(&r)).await?;
                Ok(r)
            })
        })
        .await
    }

    /// Takes a release off one of the organisation's listings, while no licence was sold on it.
    pub async fn remove_release(&self, listing_id: Uuid, release_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                // The listing locked, as a sale locks it: no licence is sold while this looks.
                lock_listing(tx, org, listing_id).await?;
                // Whether a licence was sold on it: the buyers' rows, read as their seller.
                let sold: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM market_licences WHERE seller_org_id = $1 AND listing_id = $2",
                        &[org.into(), listing_id.into()],
                    )
                    .await?;
                let found: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT id FROM market_releases WHERE org_id = $1 AND listing_id = $2 AND id = $3",
                        &[org.into(), listing_id.into(), release_id.into()],
                    )
                    .await?;
                if found.is_none() {
                    return Err(StoreError::NotFound { entity: "release" });
                }
                if sold > 0 {
                    return Err(MarketRule::ReleaseReliedOn.into());
                }
                tx.execute(
                    "DELETE FROM market_releases WHERE org_id = $1 AND id = $2",
                    &[org.into(), release_id.into()],
                )
                .await?;
                let change = Change::new(Some(org), "release.removed", "release", release_id);
                tx.record(&Actor::of(&scope), change).await?;
                Ok(())
            })
        })
        .await
    }

    /// A link that downloads a release on file for a licence of the organisation's, for the
    /// next hour, while the licence stands.
    pub async fn release_link(&self, licence_id: Uuid, release_id: Uuid) -> Result<DownloadLink> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let found: Option<(String, Uuid)> = tx
                    .query_opt(
                        "SELECT state, listing_id FROM market_licences WHERE org_id = $1 AND id = $2",
                        &[org.into(), licence_id.into()],
                    )
                    .await?;
                let Some((state, listing)) = found else {
                    return Err(StoreError::NotFound { entity: "licence" });
                };
                // The release must be on the licence's listing (read as the party it was sold to).
                let on_file: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT r.id FROM market_releases r JOIN market_licences l ON l.listing_id = r.listing_id
                         WHERE l.org_id = $1 AND l.id = $2 AND r.id = $3 AND r.listing_id = $4",
                        &[org.into(), licence_id.into(), release_id.into(), listing.into()],
                    )
                    .await?;
                if on_file.is_none() {
                    return Err(StoreError::NotFound { entity: "release" });
                }
                if state != "active" {
                    return Err(MarketRule::RefundClosed.into());
                }
                super::issue_link(tx, &scope, licence_id, Some(release_id)).await
            })
        })
        .await
    }
}

impl Platform<'_> {
    /// The releases on file for `listings`, by listing: what the storefront and certificates say.
    pub async fn releases_on_file(&self, listings: &[Uuid]) -> Result<Vec<(Uuid, ReleaseOnFile)>> {
        if listings.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=listings.len()).map(|k| format!("${k}")).collect();
        let text = format!(
            "SELECT listing_id, id, kind, name FROM market_releases WHERE listing_id IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let args: Vec<crate::Arg> = listings.iter().map(|l| (*l).into()).collect();
        let rows: Vec<OnFileRow> = self.read(&text, &args).await?;
        Ok(rows.into_iter().map(|OnFileRow(l, r)| (l, r)).collect())
    }
}
