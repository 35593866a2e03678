//! The platform operator's review of held listings (`/app/market/review`): each held listing
//! beside the listing on sale it copies, and why (the same file, or nearly the same picture),
//! with a button that puts it on sale and one that refuses it.

use askama::Template;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect};
use mstation_core::Permission;
use serde::Deserialize;
use uuid::Uuid;

use super::super::tracking::{answered, flash_of};
use super::super::{Ctx, Nav, PageResult, Tr, ctx, html};
use super::{Tabs, tabs, title};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;

struct HeldRow {
    id: String,
    title: String,
    contributor: String,
    category: String,
    original_id: String,
    original: String,
    original_contributor: String,
    why: String,
    when: String,
}

#[derive(Template)]
#[template(path = "market_review.html")]
struct ReviewPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    tabs: Tabs,
    held: Vec<HeldRow>,
}

async fn review_page(state: &State, cx: &Ctx, flash: Option<(String, String)>) -> PageResult {
    cx.need(Permission::ManageOrg)?;
    let held = match state.store.tenant(&cx.scope).held_listings().await {
        Ok(h) => h,
        Err(mstation_store::StoreError::Rule(_)) => {
            return Err(cx.refuse_for("forbidden-market_review"));
        }
        Err(e) => return Err(e.into()),
    };
    let lang = i18n::current().code();
    html(ReviewPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        flash,
        csrf: cx.csrf.clone(),
        tabs: tabs(state, cx, "review").await?,
        held: held
            .iter()
            .map(|h| HeldRow {
                id: h.id.to_string(),
                title: title(lang, &h.title_en, &h.title_zh),
                contributor: h.contributor.clone(),
                category: i18n::text(&format!("market-category-{}", h.category.as_str())),
                original_id: h.original_id.map(|i| i.to_string()).unwrap_or_default(),
                original: title(
                    lang,
                    h.original_title_en.as_deref().unwrap_or(""),
                    h.original_title_zh.as_deref().unwrap_or(""),
                ),
                original_contributor: h.original_contributor.clone().unwrap_or_default(),
                why: i18n::text(if h.same_bytes {
                    "market-review-same-file"
                } else {
                    "market-review-likeness"
                }),
                when: cx.time(h.created_at.0),
            })
            .collect(),
    })
}

pub(super) async fn review(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    review_page(&state, &cx, None).await
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    csrf: String,
    #[serde(default)]
    decision: String,
}

/// Puts a held listing on sale or refuses it, from the review page.
pub(super) async fn decide(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(listing_id): Path<Uuid>,
    axum::Form(f): axum::Form<DecisionForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageOrg)?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => {
            let e = ApiError::invalid("decision", "not_one_of_the_choices");
            let status = e.status();
            return answered(review_page(&state, &cx, Some(flash_of(e))).await, status);
        }
    };
    match state
        .store
        .tenant(&cx.scope)
        .review_listing(listing_id, approve)
        .await
    {
        Ok(_) => {
            state.index_listings(&[listing_id]).await;
            Ok(Redirect::to("/app/market/review").into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(review_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}
