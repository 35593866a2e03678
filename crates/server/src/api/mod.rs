//! The JSON API under `/api/v1`, one module per context. Every handler is registered through
//! `routes!`, which also puts it into the OpenAPI document: a route cannot go undocumented.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::State;

pub mod agents;
pub mod events;
pub mod health;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod market;
pub mod media;
pub mod orders;
pub mod talent;
pub mod tracking;

/// A whole list in one answer (`{"items": […]}`), for what is never paged: a shot's tasks, a
/// project's statuses.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "M-Station API",
        description = "The shared platform for film and TV production. Authenticate with `Authorization: Bearer <token>` (create tokens under Settings → API tokens or with `mstation admin create-token`). Errors are RFC 9457 problem+json with a stable `code` (and `field` and `reason` when an input is refused); their title and detail follow the caller's language (where an edit file could not be read, the detail is the reader's own account of the line, in English). Lists take `limit`, `cursor` and `sort` and answer `{items, next_cursor, total}`. Versioned entities carry an ETag; send it back as If-Match to get 409 instead of overwriting someone else's change. Creating POSTs accept an `Idempotency-Key`."
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(agents::router())
        .merge(identity::router())
        .merge(jobs::router())
        .merge(events::router())
        .merge(health::router())
        .merge(tracking::router())
        .merge(media::router())
        .merge(ledger::router())
        .merge(market::router())
        .merge(talent::router())
        .merge(orders::router())
}

/// The common list parameters, for the OpenAPI document of each list.
pub const LIST_DOC: &str =
    "limit: 1..500 (default 50); cursor: from next_cursor; sort: created_at | -created_at";
