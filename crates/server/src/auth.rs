//! Who is calling: a bearer API token (scripts) or a session cookie (pages). The middleware
//! resolves it once per request; handlers take the extractor that states what they need.

use axum::extract::{FromRequestParts, Request, State as AxState};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mstation_core::{Permission, TenantScope};
use uuid::Uuid;

use crate::error::{ApiError, Code};
use crate::i18n::{self, Lang};
use crate::{State, extract::cookie};

pub const SESSION_COOKIE: &str = "ms_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The resolved caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: Uuid,
    /// The organisation the caller acts for; `None` for a person with no membership yet.
    pub scope: Option<TenantScope>,
    /// Present when signed in through the browser.
    pub session: Option<SessionInfo>,
}

#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub secret: String,
    pub csrf: String,
}

pub async fn authenticate(
    AxState(state): AxState<State>,
    mut req: Request,
    next: Next,
) -> Response {
    // `/metrics` carries the scraper's own bearer secret (`serve --metrics-token`), not a
    // member's token.
    if req.uri().path() == "/metrics" {
        return next.run(req).await;
    }
    // Copy what is needed out of the request first: a request body is not `Sync`.
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|h| h.to_str().map(str::to_string));
    let cookie_secret = cookie(req.headers(), SESSION_COOKIE);
    match resolve_parts(&state, bearer, cookie_secret).await {
        Ok(Some(caller)) => {
            if caller.session.is_some()
                && is_unsafe(req.method())
                && (req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/files"))
            {
                let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                let expected = caller.session.as_ref().map(|s| s.csrf.as_str());
                let ok = matches!((sent, expected), (Some(a), Some(b)) if same_secret(a, b));
                if !ok {
                    return ApiError::new(Code::AuthCsrf).into_response();
                }
            }
            req.extensions_mut().insert(caller);
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    next.run(req).await
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn resolve_parts(
    state: &State,
    bearer: Option<Result<String, axum::http::header::ToStrError>>,
    cookie_secret: Option<String>,
) -> Result<Option<Caller>, ApiError> {
    if let Some(h) = bearer {
        let h = h.map_err(|_| bad_token())?;
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .ok_or_else(bad_token)?;
        let Some((scope, locale)) = state
            .store
            .platform()
            .authenticate_token(token.trim())
            .await?
        else {
            return Err(bad_token());
        };
        if let Some(l) = locale.as_deref().and_then(Lang::from_code) {
            i18n::set_current(l);
        }
        return Ok(Some(Caller {
            user_id: scope.user_id,
            scope: Some(scope),
            session: None,
        }));
    }
    let Some(secret) = cookie_secret else {
        return Ok(None);
    };
    let Some(session) = state.store.platform().session(&secret).await? else {
        return Ok(None);
    };
    if let Some(l) = session.user.locale.as_deref().and_then(Lang::from_code) {
        i18n::set_current(l);
    }
    let user_id = session.user.id;
    // The session's organisation, if the person is still a member of it; else their first.
    let mut scope = None;
    if let Some(org_id) = session.org_id
        && let Some(role) = state.store.platform().role_in(user_id, org_id).await?
    {
        scope = Some(TenantScope {
            org_id,
            user_id,
            role,
            token_scopes: None,
            token_id: None,
        });
    }
    if scope.is_none()
        && let Some(m) = state
            .store
            .platform()
            .memberships(user_id)
            .await?
            .into_iter()
            .next()
    {
        scope = Some(TenantScope {
            org_id: m.org.id,
            user_id,
            role: m.role,
            token_scopes: None,
            token_id: None,
        });
    }
    Ok(Some(Caller {
        user_id,
        scope,
        session: Some(SessionInfo {
            secret,
            csrf: session.csrf,
        }),
    }))
}

fn bad_token() -> ApiError {
    ApiError::new(Code::AuthInvalidToken)
}

/// A signed-in person (any organisation, or none).
pub struct Signed(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Signed)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The caller if signed in, without requiring it.
pub struct MaybeSigned(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSigned {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSigned(parts.extensions.get::<Caller>().cloned()))
    }
}

/// A member acting for one organisation: every tenant handler takes this.
pub struct Member(pub TenantScope);

impl<S: Send + Sync> FromRequestParts<S> for Member {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .ok_or_else(ApiError::unauthorized)?;
        caller
            .scope
            .clone()
            .map(Member)
            .ok_or_else(|| ApiError::new(Code::AuthNoOrganisation))
    }
}

impl Member {
    /// The scope, if it may do `p`; a 403 naming what was refused otherwise.
    pub fn may(&self, p: Permission) -> Result<&TenantScope, ApiError> {
        if self.0.can(p) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(permission_key(p)))
        }
    }
}

/// The catalog key naming what `p` allows, for a refusal ("… does not allow { $what }").
pub(crate) fn permission_key(p: Permission) -> &'static str {
    match p {
        Permission::ReadOrg => "permission-read_org",
        Permission::ManageOrg => "permission-manage_org",
        Permission::ReadMembers => "permission-read_members",
        Permission::ManageMembers => "permission-manage_members",
        Permission::TransferOwnership => "permission-transfer_ownership",
        Permission::ManageOwnTokens => "permission-manage_own_tokens",
        Permission::ReadAudit => "permission-read_audit",
        Permission::ManageWebhooks => "permission-manage_webhooks",
        Permission::ManageGrants => "permission-manage_grants",
        Permission::ReadJobs => "permission-read_jobs",
        Permission::Review => "permission-review",
        Permission::WriteProduction => "permission-write_production",
        Permission::PlanProduction => "permission-plan_production",
        Permission::ManageProduction => "permission-manage_production",
        Permission::KeepViews => "permission-keep_views",
        Permission::ReadLedger => "permission-read_ledger",
        Permission::ManageLedger => "permission-manage_ledger",
        Permission::SellListings => "permission-sell_listings",
        Permission::BuyLicences => "permission-buy_licences",
        Permission::UseLicences => "permission-use_licences",
        Permission::FindTalent => "permission-find_talent",
        Permission::ManageTalent => "permission-manage_talent",
        Permission::ReadWorkOrders => "permission-read_work_orders",
        Permission::ManageWorkOrders => "permission-manage_work_orders",
    }
}

/// Compares a secret the client sent with the one we hold in time that does not depend on where
/// they first differ, so response timing reveals nothing of the secret.
pub fn same_secret(sent: &str, held: &str) -> bool {
    let (a, b) = (sent.as_bytes(), held.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc123", "abc123"));
        assert!(!same_secret("abc124", "abc123"));
        assert!(!same_secret("abc12", "abc123"));
        assert!(!same_secret("", "abc123"));
        assert!(same_secret("", ""));
    }
}
