//! The market's pages. Everyone browses the storefront (`/app/market`: words in either
//! language, a category) and a listing with its offers (`/app/market/store/{listing_id}`),
//! where those who buy for the organisation buy. The organisation's licences
//! (`/app/market/licences`) give their users a download and their buyers a refund. A
//! contributor's side (`/app/market/selling`) lists one of its media files and shows its
//! listings; a listing's own page (`/app/market/selling/{listing_id}`) takes its offers and puts
//! it on sale. What contributors earn and are paid, and the operator's payouts, are
//! `royalties`.
//!
//! And the download a licence's link fetches, `/market/downloads/{token}`: the licensed
//! original while the link lives and its licence stands, to whoever holds the link (it is made
//! for one member of the buying organisation, for an hour).

mod cart;
mod pdf;
mod review;
mod royalties;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::ledger::Purpose;
use mstation_core::market::{Category, LicenceKind, Terms};
use mstation_store::market::releases::ReleaseKind;
use mstation_store::market::search::{
    DurationBucket, FacetCount, Filters, FpsBucket, Lang as SearchLang, Order, PriceBucket,
    Resolution,
};
use mstation_store::market::{
    Certificate, Licence, Listing, NewListing, NewOffer, Offer, PublicListing, REFUND_WINDOW_MS,
    sale_day,
};
use serde::Deserialize;
use uuid::Uuid;

use super::ledger::money;
use super::tracking::{answered, flash_of};
use super::{Ctx, Nav, PageResult, Tr, ctx, html};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::{ApiError, Code};
use crate::i18n;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/market", get(storefront))
        .route("/app/market/store/{listing_id}", get(listing_page))
        .route("/app/market/checkout", post(checkout))
        .route("/app/market/licences", get(licences))
        .route(
            "/app/market/licences/{licence_id}/download",
            post(download_link),
        )
        .route("/app/market/licences/{licence_id}/refund", post(refund))
        .route("/app/market/selling", get(selling).post(new_listing))
        .route("/app/market/selling/{listing_id}", get(editor))
        .route("/app/market/selling/{listing_id}/offers", post(add_offer))
        .route(
            "/app/market/selling/{listing_id}/offers/{offer_id}/withdraw",
            post(withdraw_offer),
        )
        .route(
            "/app/market/selling/{listing_id}/releases",
            post(add_release),
        )
        .route(
            "/app/market/selling/{listing_id}/releases/{release_id}/remove",
            post(remove_release),
        )
        .route(
            "/app/market/licences/{licence_id}/releases/{release_id}/download",
            post(release_link),
        )
        .route("/app/market/selling/{listing_id}/publish", post(publish))
        .route("/app/market/selling/{listing_id}/withdraw", post(withdraw))
        .route(
            "/app/market/licences/{licence_id}/certificate",
            get(certificate),
        )
        .route(
            "/app/market/licences/{licence_id}/certificate.pdf",
            get(certificate_pdf),
        )
        .route("/app/market/cart", get(cart::cart).post(cart::add))
        .route("/app/market/cart/checkout", post(cart::checkout))
        .route("/app/market/cart/{offer_id}/remove", post(cart::remove))
        .route("/app/market/review", get(review::review))
        .route("/app/market/review/{listing_id}", post(review::decide))
        .route("/app/market/earnings", get(royalties::earnings))
        .route(
            "/app/market/payouts",
            get(royalties::payouts).post(royalties::pay_out),
        )
        .route("/app/market/payouts/terms", post(royalties::announce))
        .route("/licences/verify/{code}", get(verify))
        .route("/licences/verify/{code}/certificate.pdf", get(verify_pdf))
        .route("/market/downloads/{token}", get(download))
}

/// A listing's title in the reader's language.
fn title(lang: &str, en: &str, zh: &str) -> String {
    if lang == "zh-CN" { zh } else { en }.to_string()
}

/// What the probe read of a listing's media, in a line: `3840 × 2160 · 25 fps · 0:12`.
fn technical(l: &PublicListing) -> String {
    let t = &l.technical;
    let mut parts = Vec::new();
    if let (Some(w), Some(h)) = (t.width, t.height) {
        parts.push(format!("{w} × {h}"));
    }
    if let Some([n, d]) = t.fps
        && d > 0
    {
        let fps = n as f64 / d as f64;
        let text = if (fps - fps.round()).abs() < 0.005 {
            format!("{}", fps.round() as i64)
        } else {
            format!("{fps:.3}")
        };
        parts.push(format!("{text} fps"));
    }
    if let Some(s) = t.duration {
        let s = s.round() as i64;
        parts.push(format!("{}:{:02}", s / 60, s % 60));
    }
    parts.join(" · ")
}

/// What an offer's licence covers, in words.
fn terms(o: &Offer) -> String {
    match (&o.starts_on, &o.ends_on) {
        (Some(s), Some(e)) => i18n::text_args(
            "market-terms-rm",
            &[
                (
                    "media",
                    i18n::text(&format!("market-media-{}", o.media)).into(),
                ),
                ("territory", territory(&o.territory).into()),
                ("from", s.clone().into()),
                ("to", e.clone().into()),
            ],
        ),
        _ => i18n::text("market-terms-rf"),
    }
}

fn territory(code: &str) -> String {
    if code == mstation_core::market::WORLDWIDE {
        i18n::text("market-worldwide")
    } else {
        code.to_string()
    }
}

/// A listing on sale as a card of the storefront, in the reader's language `lang`.
fn card(lang: &str, l: &PublicListing) -> Card {
    Card {
        id: l.id.to_string(),
        preview: l.preview,
        title: title(lang, &l.title_en, &l.title_zh),
        contributor: l.contributor.clone(),
        category: i18n::text(&format!("market-category-{}", l.category.as_str())),
        technical: technical(l),
        from: l
            .offers
            .first()
            .map(|o| format!("{} {}", o.currency, money(&o.currency, o.price)))
            .unwrap_or_default(),
    }
}

/// A card of the storefront.
struct Card {
    id: String,
    preview: bool,
    title: String,
    contributor: String,
    category: String,
    technical: String,
    from: String,
}

#[derive(Template)]
#[template(path = "market.html")]
struct StorePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    q: String,
    category: String,
    categories: Vec<(&'static str, String)>,
    cards: Vec<Card>,
    tabs: Tabs,
    /// How many listings were found, in words (with words or filters only).
    found: String,
    facets: Vec<FacetGroup>,
}

/// A facet of the storefront: its values with their counts, each a link that narrows the
/// search to it (or, chosen, back out).
struct FacetGroup {
    title: String,
    values: Vec<FacetLink>,
}

struct FacetLink {
    label: String,
    count: String,
    href: String,
    active: bool,
}

/// The storefront's address with `params`, `name` set to `value` (or taken out when it is set
/// to it already).
fn store_href(params: &[(&'static str, String)], name: &str, value: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut chosen = false;
    for (k, v) in params {
        if *k == name {
            chosen = v == value;
            continue;
        }
        q.append_pair(k, v);
    }
    if !chosen {
        q.append_pair(name, value);
    }
    match q.finish() {
        s if s.is_empty() => "/app/market".to_string(),
        s => format!("/app/market?{s}"),
    }
}

/// The facets of a search as the page shows them, in the reader's language.
fn facet_groups(
    params: &[(&'static str, String)],
    f: &mstation_store::market::search::Facets,
) -> Vec<FacetGroup> {
    let group = |title: &str,
                 param: &'static str,
                 counts: &[FacetCount],
                 label: &dyn Fn(&str) -> String| {
        FacetGroup {
            title: i18n::text(title),
            values: counts
                .iter()
                .map(|c| FacetLink {
                    label: label(&c.key),
                    count: super::ledger::grouped(&c.count.to_string()),
                    href: store_href(params, param, &c.key),
                    active: params.iter().any(|(k, v)| *k == param && *v == c.key),
                })
                .collect(),
        }
    };
    let keyed = |prefix: &'static str| move |k: &str| i18n::text(&format!("{prefix}{k}"));
    let fps = |k: &str| match k {
        "other" => i18n::text("market-fps-other"),
        k => format!("{k} fps"),
    };
    let people: Vec<FacetCount> = f
        .contributor
        .iter()
        .map(|c| FacetCount {
            key: c.org_id.to_string(),
            count: c.count,
        })
        .collect();
    let name_of = |k: &str| {
        f.contributor
            .iter()
            .find(|c| c.org_id.to_string() == k)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    vec![
        group("market-facet-kind", "kind", &f.kind, &keyed("market-kind-")),
        group(
            "market-facet-resolution",
            "resolution",
            &f.resolution,
            &keyed("market-resolution-"),
        ),
        group("market-facet-fps", "fps", &f.fps, &fps),
        group(
            "market-facet-duration",
            "duration",
            &f.duration,
            &keyed("market-duration-"),
        ),
        group(
            "market-facet-price",
            "price",
            &f.price,
            &keyed("market-price-"),
        ),
        group(
            "market-facet-language",
            "lang",
            &f.language,
            &keyed("market-language-"),
        ),
        group("market-contributor", "contributor", &people, &name_of),
    ]
    .into_iter()
    .filter(|g| !g.values.is_empty())
    .collect()
}

/// The market's own tabs, each shown to those who may open it.
struct Tabs {
    active: &'static str,
    licences: bool,
    selling: bool,
    /// The platform operator's payouts and contributors' terms, for its finance readers.
    payouts: bool,
    /// The platform operator's review of held listings, for its administrators.
    review: bool,
    /// Those who buy have a cart; what it holds.
    buyer: bool,
    cart: i64,
}

async fn tabs(state: &State, cx: &Ctx, active: &'static str) -> Result<Tabs, ApiError> {
    let books = cx.scope.can(Permission::ReadLedger);
    let admin = cx.scope.can(Permission::ManageOrg);
    let operator = (books || admin)
        && state.store.tenant(&cx.scope).org().await?.kind
            == mstation_core::OrgKind::PlatformOperator;
    let payouts = operator && books;
    let review = operator && admin;
    let buyer = cx.scope.can(Permission::BuyLicences);
    let cart = if buyer {
        state.store.tenant(&cx.scope).cart_count().await?
    } else {
        0
    };
    Ok(Tabs {
        active,
        licences: cx.scope.can(Permission::UseLicences),
        selling: cx.scope.can(Permission::SellListings),
        payouts,
        review,
        buyer,
        cart,
    })
}

fn categories() -> Vec<(&'static str, String)> {
    Category::ALL
        .iter()
        .map(|c| {
            (
                c.as_str(),
                i18n::text(&format!("market-category-{}", c.as_str())),
            )
        })
        .collect()
}

#[derive(Deserialize)]
struct StoreQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    fps: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    contributor: String,
}

async fn storefront(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(sq): Query<StoreQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ReadOrg)?;
    let category = Category::parse(&sq.category);
    let words: String = sq.q.chars().take(200).collect();
    // A filter the page does not know is left out, as a link from an older page may carry.
    let filters = Filters {
        category,
        kind: LicenceKind::parse(&sq.kind),
        resolution: Resolution::parse(&sq.resolution),
        fps: FpsBucket::parse(&sq.fps),
        duration: DurationBucket::parse(&sq.duration),
        price: PriceBucket::parse(&sq.price),
        contributor: Uuid::parse_str(&sq.contributor).ok(),
        language: SearchLang::parse(&sq.lang),
    };
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let chosen = [
        ("q", (!words.trim().is_empty()).then(|| words.clone())),
        ("category", filters.category.map(|c| c.as_str().to_string())),
        ("kind", filters.kind.map(|k| k.as_str().to_string())),
        (
            "resolution",
            filters.resolution.map(|b| b.as_str().to_string()),
        ),
        ("fps", filters.fps.map(|b| b.as_str().to_string())),
        ("duration", filters.duration.map(|b| b.as_str().to_string())),
        ("price", filters.price.map(|b| b.as_str().to_string())),
        ("lang", filters.language.map(|b| b.as_str().to_string())),
        ("contributor", filters.contributor.map(|c| c.to_string())),
    ];
    for (k, v) in chosen {
        if let Some(v) = v {
            params.push((k, v));
        }
    }
    let order = Order::Relevance;
    let hits = crate::api::market::search(&state, words.clone(), filters, order, 0, 60).await?;
    let found = state.store.platform().listings_on_sale(&hits.ids).await?;
    let lang = i18n::current().code();
    let cards = found.iter().map(|l| card(lang, l)).collect();
    html(StorePage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash: None,
        q: words,
        category: category.map(|c| c.as_str().to_string()).unwrap_or_default(),
        categories: categories(),
        cards,
        tabs: tabs(&state, &cx, "store").await?,
        found: if params.is_empty() {
            String::new()
        } else {
            i18n::text_args("market-found", &[("count", hits.total.into())])
        },
        facets: facet_groups(&params, &hits.facets),
    })
}

/// An offer as a listing's page shows it.
struct OfferRow {
    id: String,
    /// Whether it is on sale (not taken off).
    active: bool,
    /// Whether a licence on it can be sold now: no exclusive licence standing is in its way.
    available: bool,
    kind: String,
    terms: String,
    exclusive: bool,
    ai_training: bool,
    price: String,
}

fn offer_row(o: &Offer, standing: &[Terms]) -> OfferRow {
    let wanted = o.terms(&sale_day());
    OfferRow {
        id: o.id.to_string(),
        active: o.active,
        available: !standing.iter().any(|t| t.collides(&wanted)),
        kind: i18n::text(&format!("market-kind-{}", o.kind.as_str())),
        terms: terms(o),
        exclusive: o.exclusive,
        ai_training: o.ai_training,
        price: format!("{} {}", o.currency, money(&o.currency, o.price)),
    }
}

#[derive(Template)]
#[template(path = "market_listing.html")]
struct ListingPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    id: String,
    preview: bool,
    title: String,
    other_title: String,
    description: String,
    contributor: String,
    category: String,
    keywords: Vec<String>,
    technical: String,
    size: String,
    offers: Vec<OfferRow>,
    can_buy: bool,
    own: bool,
    wallets: Vec<String>,
    key: String,
    /// Listings on sale like this one.
    similar: Vec<Card>,
    /// The releases on file, as a person reads them.
    releases: Vec<String>,
}

async fn listing_page_with(
    state: &State,
    cx: &Ctx,
    listing_id: Uuid,
    flash: Option<(String, String)>,
) -> PageResult {
    cx.need(Permission::ReadOrg)?;
    let l = state.store.platform().listing_on_sale(listing_id).await?;
    let standing = state.store.platform().standing_terms(listing_id).await?;
    let lang = i18n::current().code();
    let can_buy = cx.scope.can(Permission::BuyLicences);
    let wallets = if can_buy {
        state
            .store
            .tenant(&cx.scope)
            .held_accounts()
            .await?
            .iter()
            .filter(|a| a.purpose == Purpose::Wallet)
            .map(|a| format!("{} {}", a.currency, money(&a.currency, a.available)))
            .collect()
    } else {
        Vec::new()
    };
    html(ListingPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash,
        csrf: cx.csrf.clone(),
        id: l.id.to_string(),
        preview: l.preview,
        title: title(lang, &l.title_en, &l.title_zh),
        other_title: title(
            if lang == "zh-CN" { "en" } else { "zh-CN" },
            &l.title_en,
            &l.title_zh,
        ),
        // The reader's language, else the other's rather than nothing.
        description: match title(lang, &l.description_en, &l.description_zh) {
            d if d.is_empty() => format!("{}{}", l.description_en, l.description_zh),
            d => d,
        },
        contributor: l.contributor.clone(),
        category: i18n::text(&format!("market-category-{}", l.category.as_str())),
        keywords: l.keywords.clone(),
        technical: technical(&l),
        size: bytes(l.technical.size),
        offers: l.offers.iter().map(|o| offer_row(o, &standing)).collect(),
        can_buy,
        own: l.contributor_org_id == cx.scope.org_id,
        wallets,
        key: format!("page-{}", Uuid::now_v7()),
        releases: l.releases.iter().map(release_label).collect(),
        // Neighbours are a help, not the page: without them the listing still shows.
        similar: match crate::api::market::similar_listings(state, listing_id, 6).await {
            Ok(found) => found.iter().map(|s| card(lang, s)).collect(),
            Err(_) => Vec::new(),
        },
    })
}

/// A size as a person reads it: `1.4 GB`.
fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n >= 1e9 => format!("{:.1} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.0} KB", n / 1e3),
        n => format!("{n} B"),
    }
}

async fn listing_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    listing_page_with(&state, &cx, listing_id, None).await
}

#[derive(Deserialize)]
struct BuyForm {
    csrf: String,
    #[serde(default)]
    offer_id: String,
    #[serde(default)]
    key: String,
}

/// Buys the licence an offer grants; the licences page after, or the listing's page again
/// saying why not.
async fn checkout(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<BuyForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::BuyLicences)?;
    let Ok(offer_id) = f.offer_id.parse::<Uuid>() else {
        return Err(ApiError::invalid("offer_id", "required").into());
    };
    let key = (!f.key.is_empty()).then(|| f.key.clone());
    match state.store.tenant(&cx.scope).checkout(offer_id, key).await {
        Ok(l) => {
            Ok(Redirect::to(&format!("/app/market/licences#licence-{}", l.id)).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            // The listing the offer is on, to say why on its own page.
            match state.store.platform().offer_listing(offer_id).await? {
                Some(listing) => answered(
                    listing_page_with(&state, &cx, listing, Some(flash_of(e))).await,
                    status,
                ),
                None => Err(e.into()),
            }
        }
    }
}

/// A licence as the licences page shows it.
struct LicenceRow {
    id: String,
    title: String,
    kind: String,
    terms: String,
    exclusive: bool,
    ai_training: bool,
    price: String,
    bought: String,
    active: bool,
    refundable: bool,
    /// The releases on file for its listing: id and what the button says.
    releases: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "market_licences.html")]
struct LicencesPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    licences: Vec<LicenceRow>,
    can_refund: bool,
    tabs: Tabs,
}

fn licence_terms(l: &Licence) -> String {
    if l.kind == LicenceKind::RightsManaged {
        i18n::text_args(
            "market-terms-rm",
            &[
                (
                    "media",
                    i18n::text(&format!("market-media-{}", l.media)).into(),
                ),
                ("territory", territory(&l.territory).into()),
                ("from", l.starts_on.clone().into()),
                ("to", l.ends_on.clone().into()),
            ],
        )
    } else {
        i18n::text_args(
            "market-terms-rf-from",
            &[("from", l.starts_on.clone().into())],
        )
    }
}

async fn licences_page(state: &State, cx: &Ctx, flash: Option<(String, String)>) -> PageResult {
    cx.need(Permission::UseLicences)?;
    let q = crate::extract::list_query(Some(200), None, Some("-created_at"))?;
    let page = state.store.tenant(&cx.scope).licences(&q).await?;
    let listings: Vec<Uuid> = page.items.iter().map(|l| l.listing_id).collect();
    let on_file = state.store.platform().releases_on_file(&listings).await?;
    let now = mstation_store::now_ms();
    let licences = page
        .items
        .iter()
        .map(|l| LicenceRow {
            id: l.id.to_string(),
            title: title(i18n::current().code(), &l.title, &l.title_zh),
            kind: i18n::text(&format!("market-kind-{}", l.kind.as_str())),
            terms: licence_terms(l),
            exclusive: l.exclusive,
            ai_training: l.ai_training,
            price: format!("{} {}", l.currency, money(&l.currency, l.price)),
            bought: cx.time(l.created_at.0),
            active: l.state == "active",
            refundable: l.state == "active" && now - l.created_at.0 <= REFUND_WINDOW_MS,
            releases: on_file
                .iter()
                .filter(|(listing, _)| *listing == l.listing_id)
                .map(|(_, r)| (r.id.to_string(), release_label(r)))
                .collect(),
        })
        .collect();
    html(LicencesPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash,
        csrf: cx.csrf.clone(),
        licences,
        can_refund: cx.scope.can(Permission::BuyLicences),
        tabs: tabs(state, cx, "licences").await?,
    })
}

async fn licences(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    licences_page(&state, &cx, None).await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// Sends the browser on to a fresh download link of the licence.
async fn download_link(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(licence_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::UseLicences)?;
    match state
        .store
        .tenant(&cx.scope)
        .download_link(licence_id)
        .await
    {
        Ok(link) => Ok(Redirect::to(&link.url).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(licences_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}

async fn refund(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(licence_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::BuyLicences)?;
    match state.store.tenant(&cx.scope).refund(licence_id).await {
        Ok(_) => Ok(Redirect::to("/app/market/licences").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(licences_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}

/// One of the contributor's listings, as its side of the market lists them.
struct MineRow {
    id: String,
    title: String,
    status: &'static str,
    status_text: String,
    offers: usize,
}

#[derive(Template)]
#[template(path = "market_selling.html")]
struct SellingPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    mine: Vec<MineRow>,
    files: Vec<(String, String)>,
    categories: Vec<(&'static str, String)>,
    typed: ListingTyped,
    tabs: Tabs,
}

#[derive(Default, Clone, Deserialize)]
struct ListingTyped {
    #[serde(default)]
    media_file_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    title_zh: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    description_zh: String,
    /// Comma-separated (either comma).
    #[serde(default)]
    keywords: String,
}

fn status_text(l: &Listing) -> String {
    i18n::text(&format!("market-status-{}", l.status.as_str()))
}

async fn selling_page(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    typed: ListingTyped,
) -> PageResult {
    cx.need(Permission::SellListings)?;
    let store = state.store.tenant(&cx.scope);
    let q = crate::extract::list_query(Some(200), None, Some("-created_at"))?;
    let lang = i18n::current().code();
    let mine = store
        .listings(&q)
        .await?
        .items
        .iter()
        .map(|l| MineRow {
            id: l.id.to_string(),
            title: title(lang, &l.title_en, &l.title_zh),
            status: l.status.as_str(),
            status_text: status_text(l),
            offers: l.offers.iter().filter(|o| o.active).count(),
        })
        .collect();
    let files = store
        .media_files(
            None,
            &crate::extract::list_query(Some(200), None, Some("-created_at"))?,
        )
        .await?
        .items
        .into_iter()
        .map(|f| (f.id.to_string(), f.name))
        .collect();
    html(SellingPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash,
        csrf: cx.csrf.clone(),
        mine,
        files,
        categories: categories(),
        typed,
        tabs: tabs(state, cx, "selling").await?,
    })
}

async fn selling(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    selling_page(&state, &cx, None, ListingTyped::default()).await
}

#[derive(Deserialize)]
struct ListingForm {
    csrf: String,
    #[serde(flatten)]
    typed: ListingTyped,
}

async fn new_listing(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<ListingForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let t = &f.typed;
    let refused = |e: ApiError| {
        let status = e.status();
        let typed = f.typed.clone();
        let (state, cx) = (&state, &cx);
        async move {
            answered(
                selling_page(state, cx, Some(flash_of(e)), typed).await,
                status,
            )
        }
    };
    let Ok(file) = t.media_file_id.parse::<Uuid>() else {
        return refused(ApiError::invalid("media_file_id", "required")).await;
    };
    let made = state
        .store
        .tenant(&cx.scope)
        .create_listing(NewListing {
            media_file_id: file,
            category: Category::parse(&t.category),
            title_en: t.title_en.clone(),
            title_zh: t.title_zh.clone(),
            description_en: t.description_en.clone(),
            description_zh: t.description_zh.clone(),
            keywords: t
                .keywords
                .split([',', '，'])
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect(),
        })
        .await;
    match made {
        Ok(l) => Ok(Redirect::to(&format!("/app/market/selling/{}", l.id)).into_response()),
        Err(e) => refused(e.into()).await,
    }
}

#[derive(Template)]
#[template(path = "market_editor.html")]
struct EditorPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    id: String,
    title: String,
    status: &'static str,
    status_text: String,
    held: bool,
    draft: bool,
    offers: Vec<OfferRow>,
    kinds: Vec<(&'static str, String)>,
    media: Vec<(&'static str, String)>,
    typed: OfferTyped,
    releases: Vec<ReleaseRow>,
    files: Vec<(String, String)>,
    release_kinds: Vec<(&'static str, String)>,
}

/// A release on a listing, as its editor shows it.
struct ReleaseRow {
    id: String,
    kind: String,
    name: String,
    file: String,
}

/// A release as a person reads it: `Model release: Li Na`.
fn release_label(r: &mstation_store::market::releases::ReleaseOnFile) -> String {
    format!(
        "{}: {}",
        i18n::text(&format!("market-release-{}", r.kind.as_str())),
        r.name
    )
}

fn release_kinds() -> Vec<(&'static str, String)> {
    [ReleaseKind::Model, ReleaseKind::Property]
        .iter()
        .map(|k| {
            (
                k.as_str(),
                i18n::text(&format!("market-release-{}", k.as_str())),
            )
        })
        .collect()
}

#[derive(Default, Clone, Deserialize)]
struct OfferTyped {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    media: String,
    #[serde(default)]
    territory: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    exclusive: Option<String>,
    #[serde(default)]
    ai_training: Option<String>,
}

async fn editor_page(
    state: &State,
    cx: &Ctx,
    listing_id: Uuid,
    flash: Option<(String, String)>,
    typed: OfferTyped,
) -> PageResult {
    cx.need(Permission::SellListings)?;
    let store = state.store.tenant(&cx.scope);
    let l = store.listing(listing_id).await?;
    let releases = store.releases(listing_id).await?;
    let files = store
        .media_files(
            None,
            &crate::extract::list_query(Some(200), None, Some("-created_at"))?,
        )
        .await?
        .items
        .into_iter()
        .map(|f| (f.id.to_string(), f.name))
        .collect();
    let lang = i18n::current().code();
    let mut typed = typed;
    if typed.currency.is_empty() {
        typed.currency = "CNY".into();
    }
    html(EditorPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash,
        csrf: cx.csrf.clone(),
        id: l.id.to_string(),
        title: title(lang, &l.title_en, &l.title_zh),
        status: l.status.as_str(),
        status_text: status_text(&l),
        held: l.status == mstation_core::market::ListingStatus::Held,
        draft: l.status == mstation_core::market::ListingStatus::Draft,
        offers: l.offers.iter().map(|o| offer_row(o, &[])).collect(),
        kinds: LicenceKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    i18n::text(&format!("market-kind-{}", k.as_str())),
                )
            })
            .collect(),
        media: mstation_core::market::MEDIA
            .iter()
            .map(|m| (*m, i18n::text(&format!("market-media-{m}"))))
            .collect(),
        typed,
        releases: releases
            .iter()
            .map(|r| ReleaseRow {
                id: r.id.to_string(),
                kind: i18n::text(&format!("market-release-{}", r.kind.as_str())),
                name: r.name.clone(),
                file: r.file_name.clone(),
            })
            .collect(),
        files,
        release_kinds: release_kinds(),
    })
}

#[derive(Deserialize)]
struct ReleaseForm {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    media_file_id: String,
}

/// Takes an offer off sale from its listing's editor.
async fn withdraw_offer(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((listing_id, offer_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let done = state
        .store
        .tenant(&cx.scope)
        .withdraw_offer(listing_id, offer_id)
        .await;
    after_change(&state, &cx, listing_id, done).await
}

/// Attaches a release to a listing from its editor.
async fn add_release(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
    axum::Form(f): axum::Form<ReleaseForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let attempt = async {
        let kind =
            ReleaseKind::parse(&f.kind).ok_or_else(|| ApiError::invalid("kind", "required"))?;
        let file: Uuid = f
            .media_file_id
            .parse()
            .map_err(|_| ApiError::invalid("media_file_id", "not_an_id"))?;
        state
            .store
            .tenant(&cx.scope)
            .add_release(listing_id, kind, &f.name, file)
            .await?;
        Ok::<_, ApiError>(())
    };
    after_change(&state, &cx, listing_id, attempt.await).await
}

/// Takes a release off a listing from its editor.
async fn remove_release(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((listing_id, release_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let done = state
        .store
        .tenant(&cx.scope)
        .remove_release(listing_id, release_id)
        .await;
    after_change(&state, &cx, listing_id, done).await
}

/// Sends the browser on to a fresh download link of a release on file for the licence.
async fn release_link(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((licence_id, release_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::UseLicences)?;
    match state
        .store
        .tenant(&cx.scope)
        .release_link(licence_id, release_id)
        .await
    {
        Ok(link) => Ok(Redirect::to(&link.url).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(licences_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}

async fn editor(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    editor_page(&state, &cx, listing_id, None, OfferTyped::default()).await
}

#[derive(Deserialize)]
struct OfferForm {
    csrf: String,
    #[serde(flatten)]
    typed: OfferTyped,
}

async fn add_offer(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
    axum::Form(f): axum::Form<OfferForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let t = &f.typed;
    let rm = t.kind == LicenceKind::RightsManaged.as_str();
    let some = |s: &str| (rm && !s.trim().is_empty()).then(|| s.trim().to_string());
    let made = state
        .store
        .tenant(&cx.scope)
        .add_offer(
            listing_id,
            NewOffer {
                kind: LicenceKind::parse(&t.kind),
                price: t.price.clone(),
                currency: t.currency.trim().to_uppercase(),
                media: some(&t.media),
                territory: some(&t.territory),
                starts_on: some(&t.starts_on),
                ends_on: some(&t.ends_on),
                exclusive: rm && t.exclusive.is_some(),
                ai_training: t.ai_training.is_some(),
            },
        )
        .await;
    match made {
        Ok(_) => {
            state.index_listings(&[listing_id]).await;
            Ok(Redirect::to(&format!("/app/market/selling/{listing_id}")).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(
                editor_page(&state, &cx, listing_id, Some(flash_of(e)), f.typed.clone()).await,
                status,
            )
        }
    }
}

/// After a listing's state changed from its page: the page again, or the page saying why not.
async fn after_change<T>(
    state: &State,
    cx: &Ctx,
    listing_id: Uuid,
    done: Result<T, impl Into<ApiError>>,
) -> PageResult {
    match done {
        Ok(_) => {
            state.index_listings(&[listing_id]).await;
            Ok(Redirect::to(&format!("/app/market/selling/{listing_id}")).into_response())
        }
        Err(e) => {
            let e: ApiError = e.into();
            let status = e.status();
            let page = editor_page(
                state,
                cx,
                listing_id,
                Some(flash_of(e)),
                OfferTyped::default(),
            );
            answered(page.await, status)
        }
    }
}

async fn publish(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let done = state
        .store
        .tenant(&cx.scope)
        .publish_listing(listing_id)
        .await;
    after_change(&state, &cx, listing_id, done).await
}

#[derive(Template)]
#[template(path = "market_certificate.html")]
struct CertificatePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    id: String,
    title_en: String,
    title_zh: String,
    licensee: String,
    contributor: String,
    kind: String,
    terms: String,
    exclusive: bool,
    ai_training: bool,
    granted: String,
    active: bool,
    refunded: String,
    /// The public address that says whether the licence stands: its path, for the link, and
    /// whole, to print.
    verify: Option<(String, String)>,
    /// Where its PDF is.
    pdf: String,
}

impl CertificatePage {
    /// The certificate as the PDF says it, in the same words.
    fn sheet(&self) -> pdf::Sheet {
        let tr = &self.tr;
        let status = if self.active {
            tr.t("market-certificate-stands")
        } else {
            format!("{} {}", tr.t("market-certificate-refunded"), self.refunded)
        };
        let mut licence = self.kind.clone();
        if self.exclusive {
            licence = format!("{licence} · {}", tr.t("market-exclusive"));
        }
        let ai = tr.t(if self.ai_training {
            "market-ai-yes"
        } else {
            "market-ai-no"
        });
        pdf::Sheet {
            header: format!("M-Station · {}", tr.t("nav-market")),
            title: tr.t("market-certificate"),
            status,
            stands: self.active,
            facts: vec![
                (tr.t("market-certificate-number"), vec![self.id.clone()]),
                (
                    tr.t("market-listing"),
                    vec![self.title_en.clone(), self.title_zh.clone()],
                ),
                (tr.t("market-contributor"), vec![self.contributor.clone()]),
                (tr.t("market-licensee"), vec![self.licensee.clone()]),
                (tr.t("market-licence"), vec![licence]),
                (tr.t("market-terms"), vec![self.terms.clone(), ai]),
                (tr.t("market-granted"), vec![self.granted.clone()]),
            ],
            verify: self
                .verify
                .as_ref()
                .map(|(_, whole)| (tr.t("market-verify"), whole.clone())),
        }
    }
}

/// The peer of a request, when the server is told it (always, as `serve` runs it).
type Peer = Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>;

/// The address people reach the platform at: the one it was started with (`--public-url`),
/// else the one this request came to: behind a trusted proxy the host and scheme it forwards
/// (`X-Forwarded-Host`, `X-Forwarded-Proto`), otherwise `Host`, over HTTPS when cookies are
/// marked secure. Only a host's characters pass, so nothing else reaches a page or a PDF.
fn site_address(state: &State, headers: &HeaderMap, peer: &Peer) -> String {
    if let Some(u) = state.public_url.get() {
        return u.clone();
    }
    let via_proxy = peer
        .as_ref()
        .is_some_and(|p| state.trusted_proxies.iter().any(|c| c.contains(p.0.0.ip())));
    let last = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .next_back()
            .and_then(|h| h.to_str().ok())
            .map(|h| h.rsplit(',').next().unwrap_or(h).trim().to_string())
            .filter(|_| via_proxy)
    };
    let is_host = |h: &String| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    };
    let host = last("x-forwarded-host")
        .filter(is_host)
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
                .filter(is_host)
        })
        .unwrap_or_else(|| "localhost".into());
    let scheme = match last("x-forwarded-proto").as_deref() {
        Some("https") => "https",
        Some("http") => "http",
        _ if state.secure_cookies => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// A certificate as its page and its PDF show it: `site` is the platform's address, `pdf` the
/// PDF's.
fn certificate_view(
    c: &Certificate,
    nav: Option<Nav>,
    when: impl Fn(i64) -> String,
    site: &str,
    pdf: String,
) -> CertificatePage {
    let l = &c.licence;
    CertificatePage {
        tr: Tr::now(),
        nav,
        flash: None,
        id: l.id.to_string(),
        title_en: l.title.clone(),
        title_zh: l.title_zh.clone(),
        licensee: c.licensee.clone(),
        contributor: c.contributor.clone(),
        kind: i18n::text(&format!("market-kind-{}", l.kind.as_str())),
        terms: licence_terms(l),
        exclusive: l.exclusive,
        ai_training: l.ai_training,
        granted: when(l.created_at.0),
        active: l.state == "active",
        refunded: l.refunded_at.map(|t| when(t.0)).unwrap_or_default(),
        verify: l.verify_code.as_ref().map(|c| {
            let path = format!("/licences/verify/{c}");
            (path.clone(), format!("{site}{path}"))
        }),
        pdf,
    }
}

/// A PDF to open in the browser and keep: never cached, since the licence it speaks of can be
/// refunded.
fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A licence of the reader's organisation as its certificate shows it, in the reader's time,
/// with the page's navigation when `framed`.
async fn own_certificate(
    state: &State,
    c: Option<crate::auth::Caller>,
    headers: &HeaderMap,
    peer: &Peer,
    licence_id: Uuid,
    framed: bool,
) -> Result<CertificatePage, super::PageError> {
    let cx = ctx(state, c).await?;
    cx.need(Permission::UseLicences)?;
    let c = state
        .store
        .tenant(&cx.scope)
        .certificate(licence_id)
        .await?;
    let pdf = format!("/app/market/licences/{licence_id}/certificate.pdf");
    let site = site_address(state, headers, peer);
    let nav = if framed { cx.nav("market") } else { None };
    Ok(certificate_view(&c, nav, |t| cx.time(t), &site, pdf))
}

/// A licence's certificate, to print or to send: its public address says whether it stands.
async fn certificate(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    headers: HeaderMap,
    peer: Peer,
    Path(licence_id): Path<Uuid>,
) -> PageResult {
    html(own_certificate(&state, c, &headers, &peer, licence_id, true).await?)
}

/// The certificate as a PDF, in the reader's language and time.
async fn certificate_pdf(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    headers: HeaderMap,
    peer: Peer,
    Path(licence_id): Path<Uuid>,
) -> PageResult {
    let view = own_certificate(&state, c, &headers, &peer, licence_id, false).await?;
    Ok(pdf_response(
        pdf::render(&view.sheet()),
        &format!("m-station-licence-{licence_id}.pdf"),
    ))
}

/// A public certificate's day: the day in UTC, as its reader may be anywhere.
fn utc_day(t: i64) -> String {
    mstation_store::Millis(t)
        .rfc3339()
        .chars()
        .take(10)
        .collect()
}

/// A certificate's public page: whoever holds its address sees what the licence covers and
/// whether it stands (the days in UTC).
async fn verify(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    peer: Peer,
    Path(code): Path<String>,
) -> PageResult {
    let Some(c) = state.store.platform().certificate_by_code(&code).await? else {
        return Err(ApiError::new(Code::NotFound).into());
    };
    let site = site_address(&state, &headers, &peer);
    let pdf = format!("/licences/verify/{code}/certificate.pdf");
    html(certificate_view(&c, None, utc_day, &site, pdf))
}

/// The public certificate as a PDF.
async fn verify_pdf(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    peer: Peer,
    Path(code): Path<String>,
) -> PageResult {
    let Some(c) = state.store.platform().certificate_by_code(&code).await? else {
        return Err(ApiError::new(Code::NotFound).into());
    };
    let site = site_address(&state, &headers, &peer);
    let view = certificate_view(&c, None, utc_day, &site, String::new());
    Ok(pdf_response(
        pdf::render(&view.sheet()),
        "m-station-licence.pdf",
    ))
}

async fn withdraw(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::SellListings)?;
    let done = state
        .store
        .tenant(&cx.scope)
        .withdraw_listing(listing_id)
        .await;
    after_change(&state, &cx, listing_id, done).await
}

/// The licensed original, whole or the range asked for; a link run out, unknown or of a
/// refunded licence finds nothing.
async fn download(
    AxState(state): AxState<State>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if token.len() > 100 {
        return Err(ApiError::new(Code::NotFound));
    }
    let Some(d) = state.store.platform().market_download(&token).await? else {
        return Err(ApiError::new(Code::NotFound));
    };
    let kind = d
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut r = crate::api::media::blob_answer(
        &state,
        &d.hash,
        d.size,
        &kind,
        Some(d.name.as_str()),
        &headers,
    )
    .await?;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}
