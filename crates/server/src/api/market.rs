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
use mstation_store::market::cart::{Cart, CartOrder};
use mstation_store::market::payouts::{Agreement, Payout, PayoutLine, Terms};
use mstation_store::market::releases::{Release, ReleaseKind};
use mstation_store::market::review::HeldListing;
use mstation_store::market::search::{
    DurationBucket, Facets, Filters, Found, FpsBucket, Lang, Order, PriceBucket, Resolution,
};
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
        .routes(routes!(withdraw_offer))
        .routes(routes!(publish_listing))
        .routes(routes!(withdraw_listing))
        .routes(routes!(storefront))
        .routes(routes!(storefront_listing))
        .routes(routes!(similar))
        .routes(routes!(preview))
        .routes(routes!(checkout))
        .routes(routes!(list_licences))
        .routes(routes!(get_licence))
        .routes(routes!(refund))
        .routes(routes!(download_link))
        .routes(routes!(list_sales))
        .routes(routes!(list_wallets))
        .routes(routes!(credit_wallet))
        .routes(routes!(terms))
        .routes(routes!(announce_agreement))
        .routes(routes!(list_payouts))
        .routes(routes!(list_payout_batches, pay_out))
        .routes(routes!(get_cart, add_to_cart))
        .routes(routes!(remove_from_cart))
        .routes(routes!(checkout_cart))
        .routes(routes!(list_releases, add_release))
        .routes(routes!(remove_release))
        .routes(routes!(release_link))
        .routes(routes!(held_listings))
        .routes(routes!(review_listing))
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
    state.index_listings(&[listing_id]).await;
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
    let l = state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .publish_listing(listing_id)
        .await?;
    state.index_listings(&[listing_id]).await;
    Ok(Json(l))
}

/// Takes a listing off sale for good; the licences sold on it stay good.
#[utoipa::path(post, path = "/api/v1/market/listings/{listing_id}/withdraw", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, body = Listing), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw_listing(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
) -> ApiResult<Json<Listing>> {
    let l = state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .withdraw_listing(listing_id)
        .await?;
    state.index_listings(&[listing_id]).await;
    Ok(Json(l))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StoreParams {
    /// Words in English or Chinese, every one of which a listing found has in its titles,
    /// descriptions or keywords (a Latin word of 4 letters or more also at one typo, 8 or more
    /// at two); Chinese is cut into words (上海夜景 finds 上海 and 夜景).
    pub q: Option<String>,
    pub category: Option<String>,
    /// A licence kind one of its offers has: `rf_standard`, `rf_extended`, `rights_managed`.
    pub kind: Option<String>,
    /// `sd` (under 720 lines), `hd`, `full_hd`, `uhd` (2160 and more).
    pub resolution: Option<String>,
    /// `23.976`, `24`, `25`, `29.97`, `30`, `48`, `50`, `59.94`, `60` or `other`.
    pub fps: Option<String>,
    /// `under_10s`, `10s_30s`, `30s_60s`, `1m_5m`, `over_5m`.
    pub duration: Option<String>,
    /// Its lowest price, in whole units of its currency: `under_100`, `100_499`, `500_1999`,
    /// `2000_up`.
    pub price: Option<String>,
    /// The contributor organisation's id.
    pub contributor: Option<String>,
    /// A language it is written in: `en` or `zh`.
    pub lang: Option<String>,
    /// `relevance` (the default: the best match first, newest first without words) or `newest`.
    pub order: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// How many to skip, 0 to 10,000.
    pub offset: Option<String>,
}

/// A page of the storefront's search, with how many listings were found and the facets.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreResults {
    pub items: Vec<PublicListing>,
    /// How many listings the words and filters find.
    pub total: u64,
    /// Each facet counted over what the words and the other filters find.
    pub facets: Facets,
}

/// The filters of a storefront search, each checked against its choices.
pub fn store_filters(p: &StoreParams) -> Result<(Filters, Order), ApiError> {
    fn one<T>(
        field: &'static str,
        v: &Option<String>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => parse(s)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(field, "not_one_of_the_choices")),
        }
    }
    let filters = Filters {
        category: one("category", &p.category, Category::parse)?,
        kind: one("kind", &p.kind, LicenceKind::parse)?,
        resolution: one("resolution", &p.resolution, Resolution::parse)?,
        fps: one("fps", &p.fps, FpsBucket::parse)?,
        duration: one("duration", &p.duration, DurationBucket::parse)?,
        price: one("price", &p.price, PriceBucket::parse)?,
        contributor: one("contributor", &p.contributor, |s| Uuid::parse_str(s).ok())?,
        language: one("lang", &p.lang, Lang::parse)?,
    };
    let order = one("order", &p.order, |s| match s {
        "relevance" => Some(Order::Relevance),
        "newest" => Some(Order::Newest),
        _ => None,
    })?
    .unwrap_or(Order::Relevance);
    Ok((filters, order))
}

/// Searches the listings on sale: words in either language, facets and filters, best first.
#[utoipa::path(get, path = "/api/v1/market/store", tag = "market", params(StoreParams),
    responses((status = 200, body = StoreResults), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn storefront(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<StoreParams>,
) -> ApiResult<Json<StoreResults>> {
    m.may(Permission::ReadOrg)?;
    let (filters, order) = store_filters(&p)?;
    let words = p.q.clone().unwrap_or_default();
    if words.chars().count() > 200 {
        return Err(ApiError::invalid("q", "too_long"));
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "out_of_range"));
    }
    let offset = match p.offset.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 10_000)
            .ok_or_else(|| ApiError::invalid("offset", "out_of_range"))?,
    };
    let found = search(&state, words, filters, order, offset, limit).await?;
    let items = state.store.platform().listings_on_sale(&found.ids).await?;
    Ok(Json(StoreResults {
        items,
        total: found.total,
        facets: found.facets,
    }))
}

/// Runs a search of the catalogue off the async threads.
pub async fn search(
    state: &State,
    words: String,
    filters: Filters,
    order: Order,
    offset: u32,
    limit: u32,
) -> Result<Found, ApiError> {
    catalogue_built(state).await?;
    let catalogue = state.catalogue.clone();
    tokio::task::spawn_blocking(move || {
        catalogue.search(&words, &filters, order, offset as usize, limit as usize)
    })
    .await
    .map_err(search_failed)?
    .map_err(search_failed)
}

/// Waits (up to 10 s) for this server's catalogue to be built once after its start: a search
/// before then would say that nothing is on sale. Still building after that: 503.
async fn catalogue_built(state: &State) -> Result<(), ApiError> {
    let mut ready = state.catalogue_ready.subscribe();
    let built = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        ready.wait_for(|built| *built),
    )
    .await;
    match built {
        Ok(Ok(_)) => Ok(()),
        _ => Err(ApiError::new(crate::error::Code::StoreUnavailable)),
    }
}

/// A search of the catalogue that failed: a bug, logged, and a 500 to its caller.
fn search_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "the catalogue's search failed");
    ApiError::new(crate::error::Code::Internal)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    /// 1 to 50 (default 12).
    pub limit: Option<u32>,
}

/// Listings on sale like this one: sharing its keywords and the words of its titles, in its
/// category first.
#[utoipa::path(get, path = "/api/v1/market/store/{listing_id}/similar", tag = "market",
    params(("listing_id" = Uuid, Path), SimilarParams),
    responses((status = 200, body = Items<PublicListing>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn similar(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
    Q(p): Q<SimilarParams>,
) -> ApiResult<Json<Items<PublicListing>>> {
    m.may(Permission::ReadOrg)?;
    let limit = p.limit.unwrap_or(12);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "out_of_range"));
    }
    // Only a listing on sale has neighbours to show.
    state.store.platform().listing_on_sale(listing_id).await?;
    let items = similar_listings(&state, listing_id, limit).await?;
    Ok(Json(Items { items }))
}

/// The listings on sale like `listing_id`, best first.
pub async fn similar_listings(
    state: &State,
    listing_id: Uuid,
    limit: u32,
) -> Result<Vec<PublicListing>, ApiError> {
    catalogue_built(state).await?;
    let catalogue = state.catalogue.clone();
    let ids = tokio::task::spawn_blocking(move || catalogue.similar(listing_id, limit as usize))
        .await
        .map_err(search_failed)?
        .map_err(search_failed)?;
    Ok(state.store.platform().listings_on_sale(&ids).await?)
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

/// The organisation's terms as a contributor: its share of a sale made today (its agreement's,
/// or the platform's standing 70 %) and the changes announced, with the day each applies from.
#[utoipa::path(get, path = "/api/v1/market/terms", tag = "market",
    responses((status = 200, body = Terms), (status = 403, body = Problem)))]
async fn terms(AxState(state): AxState<State>, m: Member) -> ApiResult<Json<Terms>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .agreement_terms()
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    /// The contributor organisation.
    pub org_id: Uuid,
    /// Its share of each sale's price, in basis points: 0 to 10000 (`6500` is 65 %).
    pub share_bp: i64,
    /// The first day (UTC, `YYYY-MM-DD`) whose sales it covers: 30 days from today or later.
    pub effective_from: String,
}

/// Announces a contributor's share of its sales from a day at least 30 days ahead: the
/// contributor hears of it at once (`agreement.announced`), and sales before that day keep the
/// terms they were made under. The platform operator's finance only.
#[utoipa::path(post, path = "/api/v1/market/agreements", tag = "market", request_body = AgreementInput,
    responses((status = 201, body = Agreement), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn announce_agreement(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<AgreementInput>,
) -> ApiResult<(StatusCode, Json<Agreement>)> {
    let a = state
        .store
        .tenant(m.may(Permission::ManageLedger)?)
        .announce_agreement(
            input.org_id,
            input.share_bp,
            &input.effective_from,
            mstation_store::now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// What the market's monthly payouts paid the organisation as a contributor, newest month
/// first: a line per month and currency, with the sales it paid and its ledger transfer.
#[utoipa::path(get, path = "/api/v1/market/payouts", tag = "market",
    responses((status = 200, body = Items<PayoutLine>), (status = 403, body = Problem)))]
async fn list_payouts(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<PayoutLine>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .payout_lines()
            .await?,
    }))
}

/// The payout batches the organisation made as the market's operator, newest month first.
#[utoipa::path(get, path = "/api/v1/market/payout-batches", tag = "market",
    responses((status = 200, body = Items<Payout>), (status = 403, body = Problem)))]
async fn list_payout_batches(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<Payout>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadLedger)?)
            .payouts()
            .await?,
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutInput {
    /// The month of the sales to pay for, `YYYY-MM` (UTC).
    pub period: String,
}

/// Pays every contributor what the market owes it for a month's standing sales, from its
/// royalties account into its market wallet: once the refund window has closed on the month's
/// last day (`market.period_open` before). The same month again answers the batch made (200),
/// never a second one. The platform operator's finance only.
#[utoipa::path(post, path = "/api/v1/market/payout-batches", tag = "market", request_body = PayoutInput,
    responses((status = 201, body = Payout), (status = 200, body = Payout, description = "The month was paid before: its batch"),
              (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
async fn pay_out(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<PayoutInput>,
) -> ApiResult<(StatusCode, Json<Payout>)> {
    let (p, made) = state
        .store
        .tenant(m.may(Permission::ManageLedger)?)
        .pay_out(input.period.trim(), mstation_store::now_ms())
        .await?;
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(p)))
}

/// The member's cart: the offers it gathered, each saying whether it can be bought now, and
/// what the ones that can cost, per currency.
#[utoipa::path(get, path = "/api/v1/market/cart", tag = "market",
    responses((status = 200, body = Cart), (status = 403, body = Problem)))]
async fn get_cart(AxState(state): AxState<State>, m: Member) -> ApiResult<Json<Cart>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::BuyLicences)?)
            .cart()
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartInput {
    /// An offer on sale in the storefront.
    pub offer_id: Uuid,
}

/// Puts an offer on sale in the member's cart (again changes nothing): at most 50.
#[utoipa::path(post, path = "/api/v1/market/cart", tag = "market", request_body = CartInput,
    responses((status = 200, body = Cart), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_to_cart(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<CartInput>,
) -> ApiResult<Json<Cart>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::BuyLicences)?)
            .add_to_cart(input.offer_id)
            .await?,
    ))
}

/// Takes an offer out of the member's cart.
#[utoipa::path(delete, path = "/api/v1/market/cart/{offer_id}", tag = "market", params(("offer_id" = Uuid, Path)),
    responses((status = 200, body = Cart), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_from_cart(
    AxState(state): AxState<State>,
    m: Member,
    Path(offer_id): Path<Uuid>,
) -> ApiResult<Json<Cart>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::BuyLicences)?)
            .remove_from_cart(offer_id)
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartCheckoutInput {
    /// Yours, unique in the organisation: the same key again answers the order it made.
    pub key: Option<String>,
}

/// Buys a licence on every offer in the member's cart as one order, from the organisation's
/// market wallets, together or not at all (one refused refuses the order, naming why, with no
/// money moved), and empties the cart.
#[utoipa::path(post, path = "/api/v1/market/cart/checkout", tag = "market", request_body = CartCheckoutInput,
    responses((status = 201, body = CartOrder), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn checkout_cart(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<CartCheckoutInput>,
) -> ApiResult<(StatusCode, Json<CartOrder>)> {
    let o = state
        .store
        .tenant(m.may(Permission::BuyLicences)?)
        .checkout_cart(input.key)
        .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// The model and property releases on one of the organisation's listings.
#[utoipa::path(get, path = "/api/v1/market/listings/{listing_id}/releases", tag = "market", params(("listing_id" = Uuid, Path)),
    responses((status = 200, body = Items<Release>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_releases(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
) -> ApiResult<Json<Items<Release>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::SellListings)?)
            .releases(listing_id)
            .await?,
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    pub kind: ReleaseKind,
    /// Whom or what it releases, 1 to 200 characters ("Li Na", "Yu Garden").
    pub name: String,
    /// The signed document: one of the organisation's files.
    pub media_file_id: Uuid,
}

/// Attaches a model or property release to one of the organisation's listings (at most 20):
/// the storefront says it is on file, and licensees download a copy.
#[utoipa::path(post, path = "/api/v1/market/listings/{listing_id}/releases", tag = "market", params(("listing_id" = Uuid, Path)),
    request_body = ReleaseInput,
    responses((status = 201, body = Release), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_release(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
    Body(input): Body<ReleaseInput>,
) -> ApiResult<(StatusCode, Json<Release>)> {
    let r = state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .add_release(listing_id, input.kind, &input.name, input.media_file_id)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Takes a release off a listing, while no licence was sold on it
/// (`market.release_relied_on` after).
#[utoipa::path(delete, path = "/api/v1/market/listings/{listing_id}/releases/{release_id}", tag = "market",
    params(("listing_id" = Uuid, Path), ("release_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_release(
    AxState(state): AxState<State>,
    m: Member,
    Path((listing_id, release_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .remove_release(listing_id, release_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A link that downloads a copy of a release on file for the licence's listing, good for an
/// hour and only while the licence stands.
#[utoipa::path(post, path = "/api/v1/market/licences/{licence_id}/releases/{release_id}/download", tag = "market",
    params(("licence_id" = Uuid, Path), ("release_id" = Uuid, Path)),
    responses((status = 201, body = DownloadLink), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn release_link(
    AxState(state): AxState<State>,
    m: Member,
    Path((licence_id, release_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<DownloadLink>)> {
    let link = state
        .store
        .tenant(m.may(Permission::UseLicences)?)
        .release_link(licence_id, release_id)
        .await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// The listings held for review, each beside the listing on sale it copies: the platform
/// operator's team, only.
#[utoipa::path(get, path = "/api/v1/market/review", tag = "market",
    responses((status = 200, body = Items<HeldListing>), (status = 403, body = Problem)))]
async fn held_listings(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<HeldListing>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ManageOrg)?)
            .held_listings()
            .await?,
    }))
}

/// What the review decides.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The listing goes on sale.
    Approve,
    /// The listing is withdrawn for good.
    Refuse,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: Decision,
}

/// Decides a held listing: on sale, or refused (withdrawn for good). The platform operator's
/// team, only; to anyone else there is no such listing to review.
#[utoipa::path(post, path = "/api/v1/market/review/{listing_id}", tag = "market", params(("listing_id" = Uuid, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = Listing), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn review_listing(
    AxState(state): AxState<State>,
    m: Member,
    Path(listing_id): Path<Uuid>,
    Body(input): Body<ReviewInput>,
) -> ApiResult<Json<Listing>> {
    let l = state
        .store
        .tenant(m.may(Permission::ManageOrg)?)
        .review_listing(listing_id, matches!(input.decision, Decision::Approve))
        .await?;
    state.index_listings(&[listing_id]).await;
    Ok(Json(l))
}

/// Takes one of a listing's offers off sale for good: the storefront no longer shows it and no
/// licence is sold on it any more; the licences sold on it stay good.
#[utoipa::path(post, path = "/api/v1/market/listings/{listing_id}/offers/{offer_id}/withdraw", tag = "market",
    params(("listing_id" = Uuid, Path), ("offer_id" = Uuid, Path)),
    responses((status = 200, body = Offer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw_offer(
    AxState(state): AxState<State>,
    m: Member,
    Path((listing_id, offer_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Offer>> {
    let o = state
        .store
        .tenant(m.may(Permission::SellListings)?)
        .withdraw_offer(listing_id, offer_id)
        .await?;
    state.index_listings(&[listing_id]).await;
    Ok(Json(o))
}
