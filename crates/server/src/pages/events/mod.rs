//! The events pages: the organisation's webhooks with their delivery log.

use askama::Template;
use axum::Router;
use axum::extract::State as AxState;
use axum::routing::get;
use mstation_core::Permission;
use mstation_store::ListQuery;
use serde::Deserialize;

use super::{Ctx, Nav, PageResult, Tr, ctx, html};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/webhooks", get(webhooks).post(create_webhook))
}

struct DeliveryRow {
    at: String,
    kind: String,
    attempt: i64,
    result: String,
    ms: i64,
    ok: bool,
}

struct HookRow {
    url: String,
    events: String,
    active: bool,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    tr: Tr,
    nav: Option<Nav>,
    nav_csrf: String,
    flash: Option<(String, String)>,
    hooks: Vec<HookRow>,
    can_manage: bool,
    new_secret: Option<String>,
}

async fn webhooks_page(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    new_secret: Option<String>,
) -> PageResult {
    cx.need(Permission::ManageWebhooks)?;
    let q = ListQuery {
        limit: 100,
        descending: true,
        ..Default::default()
    };
    let mut hooks = Vec::new();
    for h in state.store.tenant(&cx.scope).webhooks(&q).await?.items {
        let dq = ListQuery {
            limit: 20,
            descending: true,
            ..Default::default()
        };
        let deliveries = state
            .store
            .tenant(&cx.scope)
            .deliveries(h.id, &dq)
            .await?
            .items
            .into_iter()
            .map(|d| DeliveryRow {
                at: cx.time(d.at.0),
                kind: d.event_kind,
                attempt: d.attempt,
                ok: d.error.is_none(),
                result: d
                    .error
                    .unwrap_or_else(|| d.status_code.map(|c| c.to_string()).unwrap_or_default()),
                ms: d.duration_ms,
            })
            .collect();
        hooks.push(HookRow {
            url: h.url,
            events: h.events,
            active: h.active,
            deliveries,
        });
    }
    html(WebhooksPage {
        tr: Tr::now(),
        nav: cx.nav("webhooks"),
        nav_csrf: cx.csrf.clone(),
        flash,
        hooks,
        can_manage: true,
        new_secret,
    })
}

async fn webhooks(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    webhooks_page(&state, &cx, None, None).await
}

#[derive(Deserialize)]
struct WebhookForm {
    csrf: String,
    url: String,
    events: String,
}

async fn create_webhook(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<WebhookForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageWebhooks)?;
    let events: Vec<String> = f
        .events
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    match state
        .store
        .tenant(&cx.scope)
        .create_webhook(&f.url, &events, "")
        .await
    {
        Ok((_, secret)) => webhooks_page(&state, &cx, None, Some(secret)).await,
        Err(e) => {
            webhooks_page(
                &state,
                &cx,
                Some(("error".into(), ApiError::from(e).page_detail())),
                None,
            )
            .await
        }
    }
}
