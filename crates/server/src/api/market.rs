//! The market over HTTP: a contributor's listings and their licence offers, the storefront every
//! organisation browses, checkout, the buyer's licences with their download links and refunds,
//! the contributor's sales, and the wallets the market keeps (credited by the platform's
//! operator). The download itself is `/market/downloads/{token}` (`pages/market`).

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use mstation_core::Permission;
use mstation_core::ledger::Currency;
use mstation_core::market::{Category, LicenceKind};
use mstation_store::Page;
use mstation_store::market::{
    DownloadLink, HeldAccount, Licence, Listing, NewListing, NewOffer, Offer, PublicListing, Sale,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::api::identity::ListParams;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Q, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_listings, create_listing))
        .routes(routes!(get_listing))
        .routes(routes!(add_offer))
        .routes(routes!(publish_listing))
        .routes(routes!(withdraw_listing))
        .routes(routes!(storefront))
        .routes(routes!(storefront_listing))
        .routes(routes!(preview))
        .routes(routes!(checkout))
        .routes(routes!(list_licences))
        .routes(routes!(get_licence))
        .routes(routes!(refund))
        .routes(routes!(download_link))
        .routes(routes!(list_sales))
        .routes(routes!(list_wallets))
        .routes(routes!(credit_wallet))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    /// One of the organisation's media files.
    pub media_file_id: Uuid,
    pub category: Category,
    /// The title in English and in Chinese, each 1 to 200 characters.
    pub title_en: String,
    pub title_zh: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_zh: String,
    /// At most 50, each at most 60 characters, in either language.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// Lists one of the organisation's media files in the market, as a draft.
#[utoipa::path(post, path = "/api/v1/market/listings", tag = "market", request_body = ListingInput,
    responses((status = 201, body = Listing), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_listing(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<ListingInput>,
) -> ApiResult<(StatusCode, Json<Listing>)> {
    let l = state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .create_listing(NewListing {
            media_file_id: input.media_file_id,
            category: Some(input.category),
            title_en: input.title_en,
            title_zh: input.title_zh,
            description_en: input.description_en,
            description_zh: input.description_zh,
            keywords: input.keywords,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(l)))
}

/// The organisation's own listings, in every state, with their offers.
#[utoipa::path(get, path = "/api/v1/market/listings", tag = "market", params(ListParams),
    responses((status = 200, body = Page<Listing>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_listings(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Listing>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .listings(&q)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/market/listings/{listing_id}", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, body = Listing), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_listing(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
) -> ApiResult<Json<Listing>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .listing(listing_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferInput {
    pub kind: LicenceKind,
    /// As a person writes it in the currency (`1200.00`), more than 0.
    pub price: String,
    /// ISO 4217 (`CNY`).
    pub currency: String,
    /// Rights-managed only: `all`, `theatrical`, `broadcast`, `streaming`, `online`,
    /// `advertising` or `games`.
    pub media: Option<String>,
    /// Rights-managed only: ISO 3166-1 alpha-2 (`CN`) or `WORLD`.
    pub territory: Option<String>,
    /// Rights-managed only: the first and last day covered (`YYYY-MM-DD`).
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Rights-managed only: no other licence may overlap one sold on this offer.
    #[serde(default)]
    pub exclusive: bool,
    /// Whether the buyer may train AI models on the media. Off unless chosen.
    #[serde(default)]
    pub ai_training: bool,
}

/// Adds a licence offer to one of the organisation's listings.
#[utoipa::path(post, path = "/api/v1/market/listings/{listing_id}/offers", tag = "market", params(("listing_id" = Uuid, Path)),
    request_body = OfferInput,
    responses((status = 201, body = Offer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_offer(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
    Body(input): Body<OfferInput>,
) -> ApiResult<(StatusCode, Json<Offer>)> {
    let o = state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .add_offer(
            listing_id,
            NewOffer {
                kind: Some(input.kind),
                price: input.price,
                currency: input.currency,
                media: input.media,
                territory: input.territory,
                starts_on: input.starts_on,
                ends_on: input.ends_on,
                exclusive: input.exclusive,
                ai_training: input.ai_training,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// Puts a draft listing on sale; a listing of bytes another contributor listed first is held
/// for review instead (`status: held`).
#[utoipa::path(post, path = "/api/v1/market/listings/{listing_id}/publish", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, body = Listing), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn publish_listing(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
) -> ApiResult<Json<Listing>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .publish_listing(listing_id)
            .await?,
    ))
}

/// Takes a listing off sale for good; the licences sold on it stay good.
#[utoipa::path(post, path = "/api/v1/market/listings/{listing_id}/withdraw", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, body = Listing), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw_listing(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
) -> ApiResult<Json<Listing>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .withdraw_listing(listing_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StoreParams {
    /// Words every listing found has in its title or keywords, in English or Chinese.
    pub q: Option<String>,
    pub category: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// Listings on sale, newest first, with their live offers.
#[utoipa::path(get, path = "/api/v1/market/store", tag = "market", params(StoreParams),
    responses((status = 200, body = Items<PublicListing>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn storefront(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<StoreParams>,
) -> ApiResult<Json<Items<PublicListing>>> {
    m.may(Permission::ReadOrg)?;
    let category = match p.category.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            Category::parse(c)
                .ok_or_else(|| ApiError::invalid("category", "not_one_of_the_choices"))?,
        ),
    };
    let words = p.q.unwrap_or_default();
    if words.chars().count() > 200 {
        return Err(ApiError::invalid("q", "too_long"));
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "out_of_range"));
    }
    let items = state
        .store
        .platform()
        .storefront(&words, category, limit)
        .await?;
    Ok(Json(Items { items }))
}

#[utoipa::path(get, path = "/api/v1/market/store/{listing_id}", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, body = PublicListing), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn storefront_listing(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
) -> ApiResult<Json<PublicListing>> {
    m.may(Permission::ReadOrg)?;
    Ok(Json(
        state.store.platform().listing_on_sale(listing_id).await?,
    ))
}

/// A listing's preview: its media with the platform's mark in every frame, at most 720 lines
/// (H.264 MP4), once its job has made it. The original is never served here.
#[utoipa::path(get, path = "/api/v1/market/store/{listing_id}/preview", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, content_type = "video/mp4", description = "The preview, whole or the range asked for"),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn preview(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::response::Response> {
    m.may(Permission::ReadOrg)?;
    let Some((hash, size)) = state.store.platform().listing_preview(listing_id).await? else {
        return Err(ApiError::new(crate::error::Code::NotFound));
    };
    let mut r =
        crate::api::media::blob_answer(&state, &hash, size, "video/mp4", None, &headers).await?;
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(r)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    pub offer_id: Uuid,
    /// Yours, unique in the organisation: the same key again answers the licence it bought;
    /// with another offer it is refused (`market.key_reused`).
    pub key: Option<String>,
}

/// Buys a licence: the price leaves the organisation's market wallet and the licence is
/// granted, together or not at all. An exclusive licence overlapping one sold is refused
/// (`market.exclusive_taken`), with no money moved.
#[utoipa::path(post, path = "/api/v1/market/checkout", tag = "market", request_body = CheckoutInput,
    responses((status = 201, body = Licence), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn checkout(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<CheckoutInput>,
) -> ApiResult<(StatusCode, Json<Licence>)> {
    let l = state
        .store
        .tenant(m.may(Permission::BuyLicences)?)
        .checkout(input.offer_id, input.key)
        .await?;
    Ok((StatusCode::CREATED, Json(l)))
}

/// The organisation's licences, newest first with `sort=-created_at`.
#[utoipa::path(get, path = "/api/v1/market/licences", tag = "market", params(ListParams),
    responses((status = 200, body = Page<Licence>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_licences(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Licence>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::UseLicences)?)
            .licences(&q)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/market/licences/{licence_id}", tag = "market", params(("licence_id" = Uuid, Path)),
    responses((status = 200, body = Licence), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_licence(
    AxState(state): AxState<State>,
    m: Member,
    Path(licence_id): Path<Uuid>,
) -> ApiResult<Json<Licence>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::UseLicences)?)
            .licence(licence_id)
            .await?,
    ))
}

/// Gives a licence's price back to the wallet, within 14 days of the sale, by transfers that
/// reverse the sale's; its download links stop working at once.
#[utoipa::path(post, path = "/api/v1/market/licences/{licence_id}/refund", tag = "market", params(("licence_id" = Uuid, Path)),
    responses((status = 200, body = Licence), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn refund(
    AxState(state): AxState<State>,
    m: Member,
    Path(licence_id): Path<Uuid>,
) -> ApiResult<Json<Licence>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::BuyLicences)?)
            .refund(licence_id)
            .await?,
    ))
}

/// A link that downloads the licensed original, good for an hour and only while the licence
/// stands.
#[utoipa::path(post, path = "/api/v1/market/licences/{licence_id}/download", tag = "market", params(("licence_id" = Uuid, Path)),
    responses((status = 201, body = DownloadLink), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn download_link(
    AxState(state): AxState<State>,
    m: Member,
    Path(licence_id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<DownloadLink>)> {
    let link = state
        .store
        .tenant(m.may(Permission::UseLicences)?)
        .download_link(licence_id)
        .await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// The organisation's sales as a contributor: what was licensed and what it earned.
#[utoipa::path(get, path = "/api/v1/market/sales", tag = "market", params(ListParams),
    responses((status = 200, body = Page<Sale>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_sales(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Sale>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .sales(&q)
            .await?,
    ))
}

/// The accounts the market keeps for the organisation: its wallets, and what it is owed for
/// its sales.
#[utoipa::path(get, path = "/api/v1/market/wallets", tag = "market",
    responses((status = 200, body = Items<HeldAccount>), (status = 403, body = Problem)))]
async fn list_wallets(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<HeldAccount>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadLedger)?)
            .held_accounts()
            .await?,
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    /// The organisation whose wallet receives the money.
    pub org_id: Uuid,
    /// ISO 4217 (`CNY`).
    pub currency: String,
    /// As a person writes it in the currency (`5000.00`), more than 0.
    pub amount: String,
    /// What the money is (the bank's reference), 1 to 200 characters.
    pub reference: String,
    /// Yours, unique in the operator's books: the same key again answers the credit it made,
    /// without crediting twice; with other parameters it is refused (`ledger.key_reused`).
    pub key: Option<String>,
}

/// Credits an organisation's market wallet with money received from outside: the platform
/// operator's finance only.
#[utoipa::path(post, path = "/api/v1/market/wallets/credit", tag = "market", request_body = CreditInput,
    responses((status = 201, body = HeldAccount), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn credit_wallet(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<CreditInput>,
) -> ApiResult<(StatusCode, Json<HeldAccount>)> {
    let scope = m.may(Permission::ManageLedger)?;
    let currency = Currency::parse(&input.currency)
        .ok_or_else(|| ApiError::invalid("currency", "not_a_currency"))?;
    let amount = currency
        .parse_amount(input.amount.trim())
        .ok_or_else(|| ApiError::invalid("amount", "not_an_amount"))?;
    let a = state
        .store
        .tenant(scope)
        .credit_wallet(
            input.org_id,
            currency.as_str(),
            amount,
            &input.reference,
            input.key,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}
