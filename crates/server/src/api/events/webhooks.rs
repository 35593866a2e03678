//! Webhooks over HTTP: an organisation's admins choose where events go and read the delivery log.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::events::webhooks::{Delivery, Webhook, WebhookChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::identity::ListParams;
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, etag, idempotent, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: String,
    /// `*`, a family such as `member.*`, or exact kinds such as `token.created`.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub webhook: Webhook,
    /// Signing secret: each delivery carries `X-MStation-Signature: t=…,v1=HMAC-SHA256(secret,
    /// "t.body")`. Shown only now: absent from a replay of the creation under the same
    /// `Idempotency-Key`, since it is never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", params(ListParams), responses((status = 200, body = Page<Webhook>), (status = 403, body = Problem)))]
async fn list_webhooks(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Webhook>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWebhooks)?)
            .webhooks(&q)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = WebhookOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_webhook(
    AxState(state): AxState<State>,
    m: Member,
    key: IdempotencyKey,
    Body(input): Body<WebhookInput>,
) -> Response {
    let scope = match m.may(Permission::ManageWebhooks) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let (webhook, secret) = st
            .store
            .tenant(&scope)
            .create_webhook(&input.url, &input.events, &input.description)
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(WebhookOut {
                webhook,
                secret: Some(secret),
            })
            .unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", params(("webhook_id" = Uuid, Path)),
    responses((status = 200, body = Webhook), (status = 404, body = Problem)))]
async fn get_webhook(
    AxState(state): AxState<State>,
    m: Member,
    Path(webhook_id): Path<Uuid>,
) -> ApiResult<Response> {
    let w = state
        .store
        .tenant(m.may(Permission::ManageWebhooks)?)
        .webhook(webhook_id)
        .await?;
    Ok((etag(w.version), Json(w)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", request_body = WebhookPatch,
    params(("webhook_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Webhook), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_webhook(
    AxState(state): AxState<State>,
    m: Member,
    Path(webhook_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<WebhookPatch>,
) -> ApiResult<Response> {
    let w = state
        .store
        .tenant(m.may(Permission::ManageWebhooks)?)
        .update_webhook(
            webhook_id,
            v,
            WebhookChanges {
                url: p.url,
                events: p.events,
                active: p.active,
                description: p.description,
            },
        )
        .await?;
    Ok((etag(w.version), Json(w)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", params(("webhook_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted with its delivery log"), (status = 404, body = Problem)))]
async fn delete_webhook(
    AxState(state): AxState<State>,
    m: Member,
    Path(webhook_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageWebhooks)?)
        .delete_webhook(webhook_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks", params(("webhook_id" = Uuid, Path), ListParams),
    responses((status = 200, body = Page<Delivery>), (status = 404, body = Problem)))]
async fn list_deliveries(
    AxState(state): AxState<State>,
    m: Member,
    Path(webhook_id): Path<Uuid>,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Delivery>>> {
    let q = list_query(
        p.limit,
        p.cursor.as_deref(),
        Some(p.sort.as_deref().unwrap_or("-created_at")),
    )?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWebhooks)?)
            .deliveries(webhook_id, &q)
            .await?,
    ))
}
