//! The member's cart (`/app/market/cart`): the offers it gathered from listings' pages, each
//! saying whether it can still be bought, what they cost per currency against the wallets, and
//! one button that buys them all as one order, or none.

use askama::Template;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect};
use mstation_core::Permission;
use mstation_core::ledger::Purpose;
use serde::Deserialize;
use uuid::Uuid;

use super::super::ledger::money;
use super::super::tracking::{answered, flash_of};
use super::super::{Ctx, Nav, PageResult, Tr, ctx, html};
use super::{CsrfForm, Tabs, listing_page_with, tabs, terms, title};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;

/// An item of the cart as the page lists it.
struct ItemRow {
    offer_id: String,
    listing_id: String,
    title: String,
    contributor: String,
    kind: String,
    terms: String,
    exclusive: bool,
    price: String,
    available: bool,
}

#[derive(Template)]
#[template(path = "market_cart.html")]
struct CartPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    tabs: Tabs,
    items: Vec<ItemRow>,
    totals: String,
    wallets: String,
    buy_all: String,
    buyable: usize,
    key: String,
}

async fn cart_page(state: &State, cx: &Ctx, flash: Option<(String, String)>) -> PageResult {
    cx.need(Permission::BuyLicences)?;
    let store = state.store.tenant(&cx.scope);
    let cart = store.cart().await?;
    let lang = i18n::current().code();
    let wallets: Vec<String> = store
        .held_accounts()
        .await?
        .iter()
        .filter(|a| a.purpose == Purpose::Wallet)
        .map(|a| format!("{} {}", a.currency, money(&a.currency, a.available)))
        .collect();
    let buyable = cart.items.iter().filter(|i| i.available).count();
    html(CartPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash,
        csrf: cx.csrf.clone(),
        tabs: tabs(state, cx, "cart").await?,
        items: cart
            .items
            .iter()
            .map(|i| ItemRow {
                offer_id: i.offer.id.to_string(),
                listing_id: i.listing_id.to_string(),
                title: title(lang, &i.title_en, &i.title_zh),
                contributor: i.contributor.clone(),
                kind: i18n::text(&format!("market-kind-{}", i.offer.kind.as_str())),
                terms: terms(&i.offer),
                exclusive: i.offer.exclusive,
                price: format!(
                    "{} {}",
                    i.offer.currency,
                    money(&i.offer.currency, i.offer.price)
                ),
                available: i.available,
            })
            .collect(),
        totals: cart
            .totals
            .iter()
            .map(|t| format!("{} {}", t.currency, money(&t.currency, t.amount)))
            .collect::<Vec<_>>()
            .join(" · "),
        wallets: if wallets.is_empty() {
            i18n::text("market-no-wallet")
        } else {
            wallets.join(" · ")
        },
        buy_all: i18n::text_args("market-buy-all", &[("count", (buyable as i64).into())]),
        buyable,
        key: format!("cart-{}", Uuid::now_v7()),
    })
}

pub(super) async fn cart(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cart_page(&state, &cx, None).await
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    csrf: String,
    #[serde(default)]
    offer_id: String,
}

/// Puts an offer in the cart from a listing's page: the cart after, or the listing's page
/// again saying why not.
pub(super) async fn add(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<AddForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::BuyLicences)?;
    let Ok(offer_id) = f.offer_id.parse::<Uuid>() else {
        return Err(ApiError::invalid("offer_id", "required").into());
    };
    match state.store.tenant(&cx.scope).add_to_cart(offer_id).await {
        Ok(_) => Ok(Redirect::to("/app/market/cart").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
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

/// Takes an offer out of the cart.
pub(super) async fn remove(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(offer_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::BuyLicences)?;
    match state
        .store
        .tenant(&cx.scope)
        .remove_from_cart(offer_id)
        .await
    {
        Ok(_) => Ok(Redirect::to("/app/market/cart").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(cart_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CheckoutForm {
    csrf: String,
    #[serde(default)]
    key: String,
}

/// Buys everything in the cart as one order: the licences after, or the cart again saying why
/// nothing was bought.
pub(super) async fn checkout(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<CheckoutForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::BuyLicences)?;
    let key = (!f.key.is_empty()).then(|| f.key.clone());
    match state.store.tenant(&cx.scope).checkout_cart(key).await {
        Ok(_) => Ok(Redirect::to("/app/market/licences").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(cart_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}
