//! A member's cart: offers gathered from the storefront to buy together, and its checkout, an
//! order that buys a licence on every one of them in one transaction, or none. Each sale is
//! the checkout's own (`sell`), so every rule of one purchase holds for each: the listing
//! locked (the cart's in the listings' order, so two carts never wait on each other), its
//! terms weighed against the licences standing, the price from the wallet. One refused
//! refuses the order, and nothing is written; the cart shows which item stands in the way.

use mstation_core::TenantScope;
use mstation_core::market::ListingStatus;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{LICENCE_COLS, Licence, MarketRule, OFFER_COLS, Offer, sell, today};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, WriteTx, new_id,
    now_ms,
};

/// The most offers a cart holds.
pub const CART_MAX: i64 = 50;

/// An offer in a cart, with what it licenses and whether it can be bought now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CartItem {
    pub offer: Offer,
    pub listing_id: Uuid,
    pub title_en: String,
    pub title_zh: String,
    pub contributor: String,
    /// Whether it can be bought now: its listing on sale, the offer not taken off, and no
    /// exclusive licence standing in its way.
    pub available: bool,
    pub added_at: Millis,
}

/// What a cart costs in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CartTotal {
    #[schema(value_type = String)]
    pub currency: String,
    /// In minor units.
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cart {
    /// Oldest first.
    pub items: Vec<CartItem>,
    /// Per currency, of the items available.
    pub totals: Vec<CartTotal>,
}

/// An order: the licences one checkout of a cart bought together.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CartOrder {
    pub id: Uuid,
    pub org_id: Uuid,
    pub key: Option<String>,
    pub licences: Vec<Licence>,
    pub created_by: Uuid,
    pub created_at: Millis,
}

struct ItemRow(Offer, String, String, String, String, Uuid, Millis);

impl FromRow for ItemRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let offer = Offer::from_row(r)?;
        Ok(ItemRow(
            offer,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
        ))
    }
}

/// `cols` (a list of the code's columns) of the table `t` in a join.
fn of(t: &str, cols: &str) -> String {
    cols.split(", ")
        .map(|c| format!("{t}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tenant<'_> {
    /// The member's cart.
    pub async fn cart(&self) -> Result<Cart> {
        let scope = self.scope();
        let text = format!(
            "SELECT {}, l.title_en, l.title_zh, s.name, l.status, l.org_id, c.added_at
             FROM market_cart c JOIN market_offers o ON o.id = c.offer_id
             JOIN market_listings l ON l.id = o.listing_id JOIN orgs s ON s.id = l.org_id
             WHERE c.org_id = $1 AND c.user_id = $2 ORDER BY c.added_at, o.id",
            of("o", OFFER_COLS)
        );
        let rows: Vec<ItemRow> = self
            .read(&text, &[scope.org_id.into(), scope.user_id.into()])
            .await?;
        let day = today(now_ms());
        let mut items = Vec::with_capacity(rows.len());
        for ItemRow(offer, title_en, title_zh, contributor, status, seller, added_at) in rows {
            let on_sale = status == ListingStatus::Published.as_str()
                && offer.active
                && seller != scope.org_id;
            let available = on_sale && {
                let terms = offer.terms(&day);
                let standing = self.platform().standing_terms(offer.listing_id).await?;
                terms.ends_on >= day && !standing.iter().any(|s| s.collides(&terms))
            };
            items.push(CartItem {
                listing_id: offer.listing_id,
                offer,
                title_en,
                title_zh,
                contributor,
                available,
                added_at,
            });
        }
        let mut totals: Vec<CartTotal> = Vec::new();
        for i in items.iter().filter(|i| i.available) {
            match totals.iter_mut().find(|t| t.currency == i.offer.currency) {
                Some(t) => t.amount = t.amount.saturating_add(i.offer.price),
                None => totals.push(CartTotal {
                    currency: i.offer.currency.clone(),
                    amount: i.offer.price,
                }),
            }
        }
        Ok(Cart { items, totals })
    }

    /// Puts an offer on sale in the member's cart (again changes nothing): at most `CART_MAX`.
    pub async fn add_to_cart(&self, offer_id: Uuid) -> Result<Cart> {
        let scope = self.scope().clone();
        // The offer as the storefront has it: on sale, and not the organisation's own.
        let found: Option<(Uuid, String, bool)> = self
            .platform()
            .read_opt(
                "SELECT l.org_id, l.status, o.active FROM market_offers o
                 JOIN market_listings l ON l.id = o.listing_id WHERE o.id = $1",
                &[offer_id.into()],
            )
            .await?;
        match found {
            Some((_, status, _)) if status != ListingStatus::Published.as_str() => {
                return Err(StoreError::NotFound { entity: "offer" });
            }
            None => return Err(StoreError::NotFound { entity: "offer" }),
            Some((seller, _, _)) if seller == scope.org_id => {
                return Err(MarketRule::OwnListing.into());
            }
            Some((_, _, false)) => return Err(MarketRule::NotForSale.into()),
            Some(_) => {}
        }
        self.write(move |tx| {
            Box::pin(async move {
                let (org, user) = (scope.org_id, scope.user_id);
                let held: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM market_cart WHERE org_id = $1 AND user_id = $2",
                        &[org.into(), user.into()],
                    )
                    .await?;
                let there: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT offer_id FROM market_cart WHERE org_id = $1 AND user_id = $2 AND offer_id = $3",
                        &[org.into(), user.into(), offer_id.into()],
                    )
                    .await?;
                if there.is_some() {
                    return Ok(());
                }
                if held >= CART_MAX {
                    return Err(MarketRule::CartFull.into());
                }
                tx.execute(
                    "INSERT INTO market_cart (org_id, user_id, offer_id, added_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (org_id, user_id, offer_id) DO NOTHING",
                    &[org.into(), user.into(), offer_id.into(), Millis(now_ms()).into()],
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        self.cart().await
    }

    /// Takes an offer out of the member's cart.
    pub async fn remove_from_cart(&self, offer_id: Uuid) -> Result<Cart> {
        let scope = self.scope().clone();
        let n = self
            .write(move |tx| {
                Box::pin(async move {
                    Ok(tx
                        .execute(
                            "DELETE FROM market_cart WHERE org_id = $1 AND user_id = $2 AND offer_id = $3",
                            &[scope.org_id.into(), scope.user_id.into(), offer_id.into()],
                        )
                        .await?)
                })
            })
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { entity: "offer" });
        }
        self.cart().await
    }

    /// Buys a licence on every offer in the member's cart, together or not at all, and empties
    /// it. The same `key` again answers the order it made.
    pub async fn checkout_cart(&self, key: Option<String>) -> Result<CartOrder> {
        if let Some(k) = &key
            && (k.is_empty() || k.len() > 200 || k.chars().any(char::is_control))
        {
            return Err(mstation_core::validate::FieldError::new("key", "invalid").into());
        }
        let mut attempt = 0;
        loop {
            let (scope, key) = (self.scope().clone(), key.clone());
            let done = self
                .platform()
                .write(move |tx| Box::pin(async move { order(tx, &scope, key).await }))
                .await;
            match done {
                // A first sale in a currency opened its account at the same moment as another,
                // or a retry met its first attempt: once more, which finds them.
                Err(StoreError::Duplicate { .. }) if attempt == 0 => attempt += 1,
                other => return other,
            }
        }
    }
}

/// The cart's checkout: see [`Tenant::checkout_cart`].
async fn order(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    key: Option<String>,
) -> Result<CartOrder> {
    let (org, user) = (scope.org_id, scope.user_id);
    // The cart's rows taken first: a second checkout of the same cart waits here, then finds
    // it empty; an offer added meanwhile stays for the next order. A refusal puts them back.
    let taken: Vec<(Uuid,)> = tx
        .query(
            "DELETE FROM market_cart WHERE org_id = $1 AND user_id = $2 RETURNING offer_id",
            &[org.into(), user.into()],
        )
        .await?;
    if let Some(k) = &key {
        let made: Option<(Uuid, Uuid, Millis)> = tx
            .query_opt(
                "SELECT id, created_by, created_at FROM market_orders WHERE org_id = $1 AND key = $2",
                &[org.into(), k.into()],
            )
            .await?;
        if let Some((id, created_by, created_at)) = made {
            // The key answers its order when asked again (the cart it emptied is still
            // empty); with a cart filled since, it is another order's key.
            if !taken.is_empty() {
                return Err(MarketRule::KeyReused.into());
            }
            let licences = tx
                .query(
                    &format!(
                        "SELECT {LICENCE_COLS} FROM market_licences WHERE org_id = $1 AND order_id = $2 ORDER BY id"
                    ),
                    &[org.into(), id.into()],
                )
                .await?;
            return Ok(CartOrder {
                id,
                org_id: org,
                key,
                licences,
                created_by,
                created_at,
            });
        }
    }
    if taken.is_empty() {
        return Err(MarketRule::CartEmpty.into());
    }
    // What the order locks, before any sale: its listings, then every account it can move
    // money between, each set in id order (the order a single checkout takes too: its listing,
    // then its accounts in one statement), so two orders, or an order and a checkout or a
    // payout, never wait on each other in a circle.
    let marks: Vec<String> = (1..=taken.len()).map(|k| format!("${k}")).collect();
    let ids: Vec<crate::Arg> = taken.iter().map(|(o,)| (*o).into()).collect();
    let offers: Vec<(Uuid, Uuid, Uuid)> = tx
        .query(
            &format!(
                "SELECT id, listing_id, org_id FROM market_offers WHERE id IN ({}) ORDER BY listing_id, id",
                marks.join(", ")
            ),
            &ids,
        )
        .await?;
    if !tx.lock_rows().is_empty() {
        let listings: Vec<crate::Arg> = offers.iter().map(|o| o.1.into()).collect();
        let marks: Vec<String> = (1..=listings.len()).map(|k| format!("${k}")).collect();
        tx.query::<(Uuid,)>(
            &format!(
                "SELECT id FROM market_listings WHERE id IN ({}) ORDER BY id FOR UPDATE",
                marks.join(", ")
            ),
            &listings,
        )
        .await?;
        let operator = super::operator_of(tx).await?;
        let mut args: Vec<crate::Arg> = vec![operator.into(), org.into()];
        args.extend(offers.iter().map(|o| crate::Arg::from(o.2)));
        let sellers: Vec<String> = (3..=args.len()).map(|k| format!("${k}")).collect();
        tx.query::<(Uuid,)>(
            &format!(
                "SELECT id FROM ledger_accounts WHERE org_id = $1
                   AND ((holder_org_id = $2 AND purpose = 'wallet') OR purpose = 'platform_fees'
                        OR (purpose = 'royalties_payable' AND holder_org_id IN ({})))
                 ORDER BY id FOR UPDATE",
                sellers.join(", ")
            ),
            &args,
        )
        .await?;
    }
    let id = new_id();
    let now = Millis(now_ms());
    tx.execute(
        "INSERT INTO market_orders (id, org_id, key, licences, created_by, created_at)
         VALUES ($2, $1, $3, $4, $5, $6)",
        &[
            org.into(),
            id.into(),
            key.clone().into(),
            (offers.len() as i64).into(),
            user.into(),
            now.into(),
        ],
    )
    .await?;
    let mut licences = Vec::with_capacity(offers.len());
    for (offer, _, _) in offers {
        licences.push(sell(tx, scope, offer, None, Some(id)).await?);
    }
    let order = CartOrder {
        id,
        org_id: org,
        key,
        licences,
        created_by: user,
        created_at: now,
    };
    let change = Change::new(Some(org), "order.placed", "order", id);
    let summary = serde_json::json!({
        "id": id, "licences": order.licences.iter().map(|l| l.id).collect::<Vec<_>>(),
    });
    tx.record(&Actor::of(scope), change.after(&summary)).await?;
    Ok(order)
}

impl Tenant<'_> {
    /// How many offers the member's cart holds.
    pub async fn cart_count(&self) -> Result<i64> {
        let scope = self.scope();
        self.scalar(
            "SELECT COUNT(*) FROM market_cart WHERE org_id = $1 AND user_id = $2",
            &[scope.org_id.into(), scope.user_id.into()],
        )
        .await
    }
}
