//! Identity over HTTP: sign-in, the caller, the organisation, members, invitations, API tokens
//! and collaboration grants.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State as AxState};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::{OrgKind, Permission, Role, TenantScope, TokenScope};
use mstation_store::identity::{
    ApiToken, Grant, Invitation, Member as MemberRow, Membership, NewOrg, Org, User,
};
use mstation_store::{Actor, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::auth::{MaybeSigned, Member, SESSION_COOKIE, Signed};
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{Body, IdempotencyKey, IfMatch, Q, bad_param, etag, idempotent, list_query};

pub mod audit;

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(switch_org))
        .routes(routes!(me, update_me))
        .routes(routes!(my_data))
        .routes(routes!(erase_me))
        .routes(routes!(create_org))
        .routes(routes!(current_org, update_org))
        .routes(routes!(list_members))
        .routes(routes!(get_member, update_member, remove_member))
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(get_invitation, revoke_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(get_token, revoke_token))
        .routes(routes!(list_grants, create_grant))
        .routes(routes!(get_grant, revoke_grant))
        .merge(audit::router())
}

/// The client address (the sign-in limiter's key): the connection's peer, or behind a trusted
/// reverse proxy the client it names in `X-Forwarded-For` (`core::net::client_address`); an
/// IPv6 client by its /64 (`core::net::limit_key`).
pub struct ClientIp(pub String);

impl axum::extract::FromRequestParts<State> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientIp("unknown".into()));
        };
        // Every line of the header, in order: a proxy may add a line of its own after the
        // client's rather than append to it. A line that is not text is a broken hop.
        let lines: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or("?"))
            .collect();
        let forwarded = lines.join(",");
        let ip = mstation_core::net::client_address(
            peer.0.ip(),
            (!lines.is_empty()).then_some(forwarded.as_str()),
            &state.trusted_proxies,
        );
        Ok(ClientIp(mstation_core::net::limit_key(ip)))
    }
}

// ----- sign-in -----

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Which organisation to act for; the first membership when absent.
    pub org_slug: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub user: User,
    pub memberships: Vec<Membership>,
    /// The organisation this session or token acts for.
    pub current_org_id: Option<Uuid>,
    /// Send as `X-CSRF-Token` with every change made through the session cookie.
    pub csrf_token: Option<String>,
}

pub(crate) fn session_cookie(state: &State, secret: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Counts a password's try against the sign-in limits of the client address and the account
/// (10 a minute each): a sign-in, a change of password or an erasure alike.
pub(crate) fn password_try(state: &State, ip: &str, email: &str) -> ApiResult<()> {
    for key in [
        format!("ip:{ip}"),
        format!("acct:{}", email.trim().to_lowercase()),
    ] {
        if let Err(wait) = state.login_limiter.check(&key) {
            return Err(ApiError::new(Code::AuthTooManyAttempts).arg("wait", wait));
        }
    }
    Ok(())
}

/// Signs in by a limited, counted attempt; answers `429` when a client or account tries too often.
pub(crate) async fn sign_in(
    state: &State,
    ip: &str,
    email: &str,
    password: &str,
    org_slug: Option<&str>,
) -> ApiResult<(User, Option<Uuid>, String, String)> {
    password_try(state, ip, email)?;
    let Some(user) = state.store.platform().verify_login(email, password).await? else {
        return Err(ApiError::new(Code::AuthBadCredentials));
    };
    let memberships = state.store.platform().memberships(user.id).await?;
    let org_id = match org_slug {
        Some(slug) => Some(
            memberships
                .iter()
                .find(|m| m.org.slug == slug)
                .map(|m| m.org.id)
                .ok_or_else(|| ApiError::invalid("org_slug", "not_a_member"))?,
        ),
        None => memberships.first().map(|m| m.org.id),
    };
    let (secret, csrf) = state
        .store
        .platform()
        .create_session(user.id, org_id)
        .await?;
    Ok((user, org_id, secret, csrf))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", request_body = LoginInput,
    responses((status = 200, body = MeOut, description = "Signed in; sets the session cookie"),
              (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn login(
    AxState(state): AxState<State>,
    ClientIp(ip): ClientIp,
    Body(input): Body<LoginInput>,
) -> ApiResult<Response> {
    let (user, org_id, secret, csrf) = sign_in(
        &state,
        &ip,
        &input.email,
        &input.password,
        input.org_slug.as_deref(),
    )
    .await?;
    let memberships = state.store.platform().memberships(user.id).await?;
    let mut resp = Json(MeOut {
        user,
        memberships,
        current_org_id: org_id,
        csrf_token: Some(csrf),
    })
    .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &secret, 14 * 24 * 3600),
    );
    Ok(resp)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", responses((status = 204, description = "Signed out")))]
async fn logout(AxState(state): AxState<State>, Signed(caller): Signed) -> ApiResult<Response> {
    if let Some(s) = &caller.session {
        state.store.platform().end_session(&s.secret).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "identity", request_body = PasswordInput,
    responses((status = 204, description = "Changed; every session of the person is signed out"),
              (status = 403, body = Problem, description = "Called with an API token: a password is changed only when signed in"),
              (status = 422, body = Problem), (status = 429, body = Problem, description = "Too many attempts (the sign-in limits)")))]
async fn change_password(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    ClientIp(ip): ClientIp,
    Body(input): Body<PasswordInput>,
) -> ApiResult<StatusCode> {
    if caller.session.is_none() {
        return Err(ApiError::forbidden("forbidden-password_by_token"));
    }
    // Each try counts against the sign-in limits of the address and the account: a stolen
    // session cannot guess the current password faster than the sign-in page could.
    let email = state.store.platform().user(caller.user_id).await?.email;
    password_try(&state, &ip, &email)?;
    state
        .store
        .platform()
        .change_password(caller.user_id, &input.current_password, &input.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchInput {
    pub org_id: Uuid,
}

#[utoipa::path(post, path = "/api/v1/auth/switch-org", tag = "identity", request_body = SwitchInput,
    responses((status = 204, description = "The session now acts for this organisation"), (status = 404, body = Problem)))]
async fn switch_org(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    Body(input): Body<SwitchInput>,
) -> ApiResult<StatusCode> {
    let Some(session) = &caller.session else {
        return Err(ApiError::new(Code::AuthTokenBound));
    };
    if state
        .store
        .platform()
        .role_in(caller.user_id, input.org_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("organisation"));
    }
    state
        .store
        .platform()
        .switch_session_org(&session.secret, input.org_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- the caller -----

#[utoipa::path(get, path = "/api/v1/me", tag = "identity", responses((status = 200, body = MeOut), (status = 401, body = Problem)))]
async fn me(AxState(state): AxState<State>, Signed(caller): Signed) -> ApiResult<Json<MeOut>> {
    let user = state.store.platform().user(caller.user_id).await?;
    let mut memberships = state.store.platform().memberships(caller.user_id).await?;
    if caller.session.is_none() {
        // A token sees only the organisation it belongs to.
        let org = caller.scope.as_ref().map(|s| s.org_id);
        memberships.retain(|m| Some(m.org.id) == org);
    }
    Ok(Json(MeOut {
        user,
        memberships,
        current_org_id: caller.scope.map(|s| s.org_id),
        csrf_token: caller.session.map(|s| s.csrf),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeInput {
    /// `en` or `zh-CN`; null follows the browser.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// An IANA zone such as `Asia/Shanghai`; null follows the organisation.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "identity", request_body = MeInput, responses((status = 200, body = User), (status = 422, body = Problem)))]
async fn update_me(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    Body(input): Body<MeInput>,
) -> ApiResult<Json<User>> {
    if let Some(scope) = &caller.scope {
        lasting_token(&state, scope).await?;
    }
    if let Some(Some(tz)) = &input.timezone {
        known_zone(tz)?;
    }
    Ok(Json(
        state
            .store
            .platform()
            .update_user_prefs(caller.user_id, input.locale, input.timezone)
            .await?,
    ))
}

/// Everything the platform keeps about the caller, across organisations, as one JSON document
/// to download: the account, memberships, tokens (never a secret), talent profiles with every
/// field, calendars and credits, assignments, notes, time logs, versions and what they did.
#[utoipa::path(get, path = "/api/v1/me/data", tag = "identity",
    responses((status = 200, body = mstation_store::identity::privacy::PersonalData),
              (status = 401, body = Problem),
              (status = 403, body = Problem, description = "Called with an API token: a token acts for one organisation; sign in")))]
async fn my_data(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
) -> ApiResult<axum::response::Response> {
    if caller.session.is_none() {
        return Err(ApiError::forbidden("forbidden-data_by_token"));
    }
    let data = state.store.platform().export_person(caller.user_id).await?;
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"m-station-my-data.json\"",
        )],
        Json(data),
    )
        .into_response())
}

/// The caller's password, to erase their account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseInput {
    pub password: String,
}

/// Erases the caller at their word: the account stays only as an opaque id that others'
/// records (the ledger, the audit log, notes, versions) stand on; their name and e-mail address
/// leave every record about them; their memberships, sessions, tokens, talent profiles and
/// credits go. Refused while they are the last owner of an organisation.
#[utoipa::path(post, path = "/api/v1/me/erase", tag = "identity", request_body = EraseInput,
    responses((status = 200, body = mstation_store::identity::privacy::Erased),
              (status = 401, body = Problem),
              (status = 403, body = Problem, description = "Called with an API token; sign in"),
              (status = 409, body = Problem, description = "The last owner of an organisation (`identity.last_owner`)"),
              (status = 422, body = Problem), (status = 429, body = Problem, description = "Too many attempts (the sign-in limits)")))]
async fn erase_me(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    ClientIp(ip): ClientIp,
    Body(input): Body<EraseInput>,
) -> ApiResult<Json<mstation_store::identity::privacy::Erased>> {
    if caller.session.is_none() {
        return Err(ApiError::forbidden("forbidden-data_by_token"));
    }
    // Each try counts against the sign-in limits, as a change of password does.
    let email = state.store.platform().user(caller.user_id).await?.email;
    password_try(&state, &ip, &email)?;
    Ok(Json(
        state
            .store
            .platform()
            .erase_person(caller.user_id, &input.password)
            .await?,
    ))
}

/// Refuses time-zone names the IANA database does not know (`Mars/Olympus_Mons`).
pub(crate) fn known_zone(tz: &str) -> ApiResult<()> {
    jiff::tz::TimeZone::get(tz.trim())
        .map(|_| ())
        .map_err(|_| ApiError::invalid("timezone", "unknown_timezone"))
}

// ----- organisations -----

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    pub name: String,
    pub slug: Option<String>,
    pub kind: OrgKind,
    pub timezone: Option<String>,
    /// The first owner (an existing user's e-mail); the caller when absent.
    pub owner_email: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orgs", tag = "identity", request_body = OrgInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Org), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_org(
    AxState(state): AxState<State>,
    Signed(caller): Signed,
    Member(scope): Member,
    key: IdempotencyKey,
    Body(input): Body<OrgInput>,
) -> Response {
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let user = st.store.platform().user(caller.user_id).await?;
        if !user.is_operator || !scope.can(Permission::ManageOrg) {
            return Err(ApiError::forbidden("forbidden-create_org"));
        }
        if let Some(tz) = &input.timezone {
            known_zone(tz)?;
        }
        let owner = match &input.owner_email {
            Some(e) => {
                st.store
                    .platform()
                    .user_by_email(e)
                    .await?
                    .ok_or_else(|| ApiError::invalid("owner_email", "unknown_user"))?
                    .id
            }
            None => caller.user_id,
        };
        let org = st
            .store
            .platform()
            .create_org(
                &Actor::of(&scope),
                NewOrg {
                    name: input.name,
                    slug: input.slug,
                    kind: input.kind,
                    timezone: input.timezone,
                },
                owner,
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(org).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/org", tag = "identity", responses((status = 200, body = Org)))]
async fn current_org(AxState(state): AxState<State>, m: Member) -> ApiResult<Response> {
    let org = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .org()
        .await?;
    Ok((etag(org.version), Json(org)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/org", tag = "identity", request_body = OrgPatch,
    params(("If-Match" = Option<String>, Header, description = "The version you last saw; 409 if it moved")),
    responses((status = 200, body = Org), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_org(
    AxState(state): AxState<State>,
    m: Member,
    IfMatch(v): IfMatch,
    Body(p): Body<OrgPatch>,
) -> ApiResult<Response> {
    if let Some(tz) = &p.timezone {
        known_zone(tz)?;
    }
    let org = state
        .store
        .tenant(m.may(Permission::ManageOrg)?)
        .update_org(v, p.name, p.timezone)
        .await?;
    Ok((etag(org.version), Json(org)).into_response())
}

// ----- members -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MemberParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `created_at` or `-created_at`.
    pub sort: Option<String>,
    pub role: Option<Role>,
}

#[utoipa::path(get, path = "/api/v1/members", tag = "identity", params(MemberParams),
    responses((status = 200, body = Page<MemberRow>), (status = 400, body = Problem)))]
async fn list_members(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<MemberParams>,
) -> ApiResult<Json<Page<MemberRow>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadMembers)?)
            .members(&q, p.role)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/members/{member_id}", tag = "identity", params(("member_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 200, body = MemberRow), (status = 404, body = Problem)))]
async fn get_member(
    AxState(state): AxState<State>,
    m: Member,
    Path(member_id): Path<Uuid>,
) -> ApiResult<Response> {
    let row = state
        .store
        .tenant(m.may(Permission::ReadMembers)?)
        .member(member_id)
        .await?;
    Ok((etag(row.version), Json(row)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    pub role: Role,
}

#[utoipa::path(patch, path = "/api/v1/members/{member_id}", tag = "identity", request_body = MemberPatch,
    params(("member_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = MemberRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn update_member(
    AxState(state): AxState<State>,
    m: Member,
    Path(member_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(p): Body<MemberPatch>,
) -> ApiResult<Response> {
    let row = state
        .store
        .tenant(m.may(Permission::ManageMembers)?)
        .set_member_role(member_id, p.role, v)
        .await?;
    Ok((etag(row.version), Json(row)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/members/{member_id}", tag = "identity", params(("member_id" = Uuid, Path)),
    responses((status = 204, description = "Removed; their tokens for this organisation are revoked"), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_member(
    AxState(state): AxState<State>,
    m: Member,
    Path(member_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageMembers)?)
        .remove_member(member_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- invitations -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `created_at` or `-created_at`.
    pub sort: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/invitations", tag = "identity", params(ListParams), responses((status = 200, body = Page<Invitation>)))]
async fn list_invitations(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<Invitation>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageMembers)?)
            .invitations(&q)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    pub invitation: Invitation,
    /// Send this to the invitee; it is shown only now (absent from a replay of the creation
    /// under the same `Idempotency-Key`: it is never stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The page where the invitee accepts (absent from a replay, like `token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_path: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/invitations", tag = "identity", request_body = InvitationInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = InvitationOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_invitation(
    AxState(state): AxState<State>,
    m: Member,
    key: IdempotencyKey,
    Body(input): Body<InvitationInput>,
) -> Response {
    let scope = match m.may(Permission::ManageMembers) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let (invitation, token) = st
            .store
            .tenant(&scope)
            .invite(&input.email, input.role)
            .await?;
        let accept_path = format!("/invite/{token}");
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(InvitationOut {
                invitation,
                token: Some(token),
                accept_path: Some(accept_path),
            })
            .unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/invitations/{invitation_id}", tag = "identity", params(("invitation_id" = Uuid, Path)),
    responses((status = 200, body = Invitation), (status = 404, body = Problem)))]
async fn get_invitation(
    AxState(state): AxState<State>,
    m: Member,
    Path(invitation_id): Path<Uuid>,
) -> ApiResult<Json<Invitation>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageMembers)?)
            .invitation(invitation_id)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/invitations/{invitation_id}", tag = "identity", params(("invitation_id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_invitation(
    AxState(state): AxState<State>,
    m: Member,
    Path(invitation_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageMembers)?)
        .revoke_invitation(invitation_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    pub token: String,
    /// For a new account.
    pub display_name: Option<String>,
    /// For a new account.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptOut {
    pub user: User,
    pub org: Org,
}

/// Accepts an invitation: signed in, it adds the membership; otherwise it creates the account.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "identity", request_body = AcceptInput,
    responses((status = 200, body = AcceptOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn accept_invitation(
    AxState(state): AxState<State>,
    MaybeSigned(caller): MaybeSigned,
    Body(input): Body<AcceptInput>,
) -> ApiResult<Json<AcceptOut>> {
    let user_id = caller.map(|c| c.user_id);
    let (user, org) = state
        .store
        .platform()
        .accept_invitation(&input.token, user_id, input.display_name, input.password)
        .await?;
    Ok(Json(AcceptOut { user, org }))
}

// ----- API tokens -----

#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity", params(ListParams),
    responses((status = 200, body = Page<ApiToken>, description = "Admins see every member's tokens; others their own")))]
async fn list_tokens(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<Page<ApiToken>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    let all = m.0.can(Permission::ManageMembers);
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageOwnTokens)?)
            .tokens(&q, all)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: String,
    pub scopes: Vec<TokenScope>,
    /// RFC 3339; the token never expires when absent.
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub token: ApiToken,
    /// The secret: shown only now. Send it as `Authorization: Bearer <secret>`. Absent from a
    /// replay of the creation under the same `Idempotency-Key`: it is never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub(crate) fn parse_instant(field: &str, s: &str) -> ApiResult<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ApiError::invalid(field, "not_rfc3339"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", request_body = TokenInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TokenOut), (status = 422, body = Problem)))]
async fn create_token(
    AxState(state): AxState<State>,
    m: Member,
    key: IdempotencyKey,
    Body(input): Body<TokenInput>,
) -> Response {
    let scope = match m.may(Permission::ManageOwnTokens) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    if let Err(e) = lasting_token(&state, &scope).await {
        return e.into_response();
    }
    // A token never carries more than the scope that made it (and, made by a token, never
    // outlives it: only a token without an expiry may make one).
    if let Some(have) = &scope.token_scopes
        && input
            .scopes
            .iter()
            .any(|s| !have.contains(s) && !have.contains(&TokenScope::Admin))
    {
        return ApiError::forbidden("forbidden-token_scopes").into_response();
    }
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let expires = input
            .expires_at
            .as_deref()
            .map(|s| parse_instant("expires_at", s))
            .transpose()?;
        let (token, secret) = st
            .store
            .tenant(&scope)
            .create_token(&input.name, &input.scopes, expires)
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(TokenOut {
                token,
                secret: Some(secret),
            })
            .unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/tokens/{token_id}", tag = "identity", params(("token_id" = Uuid, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = Problem)))]
async fn get_token(
    AxState(state): AxState<State>,
    m: Member,
    Path(token_id): Path<Uuid>,
) -> ApiResult<Json<ApiToken>> {
    let all = m.0.can(Permission::ManageMembers);
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageOwnTokens)?)
            .token(token_id, all)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "identity", params(("token_id" = Uuid, Path)),
    responses((status = 200, body = ApiToken, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_token(
    AxState(state): AxState<State>,
    m: Member,
    Path(token_id): Path<Uuid>,
) -> ApiResult<Json<ApiToken>> {
    let all = m.0.can(Permission::ManageMembers);
    let scope = m.may(Permission::ManageOwnTokens)?;
    // A token may always revoke itself; another token only as the account would.
    if scope.token_id != Some(token_id) {
        lasting_token(&state, scope).await?;
    }
    Ok(Json(
        state
            .store
            .tenant(scope)
            .revoke_token(token_id, all)
            .await?,
    ))
}

/// Acting on the account itself (making tokens, revoking another, changing the profile) through
/// a token needs one that may write and never expires: a read-only or short-lived token handed
/// to a script never grows into a lasting credential. A browser session always may.
async fn lasting_token(state: &State, scope: &TenantScope) -> ApiResult<()> {
    let Some(id) = scope.token_id else {
        return Ok(());
    };
    let writes = scope
        .token_scopes
        .iter()
        .flatten()
        .any(|s| matches!(s, TokenScope::Write | TokenScope::Admin));
    let lasting = state
        .store
        .tenant(scope)
        .token(id, false)
        .await?
        .expires_at
        .is_none();
    if writes && lasting {
        Ok(())
    } else {
        Err(ApiError::forbidden("forbidden-token_account"))
    }
}

// ----- collaboration grants -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GrantParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub sort: Option<String>,
    /// `given` (default): grants this organisation made; `received`: grants made to it.
    pub direction: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/grants", tag = "identity", params(GrantParams), responses((status = 200, body = Page<Grant>)))]
async fn list_grants(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<GrantParams>,
) -> ApiResult<Json<Page<Grant>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
    let incoming = match p.direction.as_deref() {
        None | Some("given") => false,
        Some("received") => true,
        Some(_) => {
            return Err(bad_param("direction", "given, received"));
        }
    };
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .grants(&q, incoming)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub grantee_org_id: Uuid,
    pub project_id: Uuid,
    /// Which part of the project, e.g. `{"sequences": ["…"], "shots": ["…"]}`; `{}` for all of it.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub entity_filter: serde_json::Value,
    /// Any of `read`, `comment`, `write`.
    pub permissions: Vec<String>,
    #[serde(default)]
    pub note: String,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[utoipa::path(post, path = "/api/v1/grants", tag = "identity", request_body = GrantInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Grant), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_grant(
    AxState(state): AxState<State>,
    m: Member,
    key: IdempotencyKey,
    Body(input): Body<GrantInput>,
) -> Response {
    let scope = match m.may(Permission::ManageGrants) {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    idempotent(&state, &scope.clone(), key, input, |input| async move {
        let g = st
            .store
            .tenant(&scope)
            .create_grant(
                input.grantee_org_id,
                input.project_id,
                input.entity_filter.clone(),
                &input.permissions,
                &input.note,
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(g).unwrap_or_default(),
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/grants/{grant_id}", tag = "identity", params(("grant_id" = Uuid, Path)),
    responses((status = 200, body = Grant), (status = 404, body = Problem)))]
async fn get_grant(
    AxState(state): AxState<State>,
    m: Member,
    Path(grant_id): Path<Uuid>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .grant(grant_id)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/grants/{grant_id}", tag = "identity", params(("grant_id" = Uuid, Path)),
    responses((status = 200, body = Grant, description = "Revoked"), (status = 404, body = Problem)))]
async fn revoke_grant(
    AxState(state): AxState<State>,
    m: Member,
    Path(grant_id): Path<Uuid>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageGrants)?)
            .revoke_grant(grant_id)
            .await?,
    ))
}
