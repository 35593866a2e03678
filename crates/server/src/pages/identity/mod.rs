//! The identity pages: sign in and out, the organisation's home and switching organisation,
//! members and roles, invitations, API tokens, and the audit log.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::{Permission, Role, TokenScope};
use mstation_store::identity::audit::AuditFilter;
use mstation_store::{ListQuery, StoreError};
use serde::Deserialize;
use uuid::Uuid;

use super::tracking::{answered, flash_of};
use super::{CsrfForm, Ctx, Nav, PageResult, Tr, ctx, html};
use crate::State;
use crate::api::identity::{ClientIp, sign_in};
use crate::auth::MaybeSigned;
use crate::error::{ApiError, Code};
use crate::i18n;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/signin", get(signin_page).post(signin_submit))
        .route("/signout", post(signout))
        .route("/app", get(home))
        .route("/app/switch", post(switch))
        .route("/app/members", get(members))
        .route("/app/members/invite", post(invite))
        .route("/app/members/{user_id}/role", post(set_role))
        .route("/app/tokens", get(tokens).post(create_token))
        .route("/app/tokens/{token_id}/revoke", post(revoke_token))
        .route("/app/audit", get(audit))
        .route("/app/account", get(account))
        .route("/app/account/data.json", get(account_data))
        .route("/app/account/erase", post(account_erase))
        .route("/invite/{token}", get(invite_page).post(invite_accept))
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    email: String,
}

#[derive(Deserialize, Default)]
struct SigninQuery {
    /// Set when an account was just erased, to say so.
    #[serde(default)]
    erased: String,
}

async fn signin_page(MaybeSigned(c): MaybeSigned, Query(q): Query<SigninQuery>) -> PageResult {
    if c.is_some() {
        return Ok(Redirect::to("/app").into_response());
    }
    html(SigninPage {
        tr: Tr::now(),
        nav: None,
        flash: (q.erased == "1").then(|| ("ok".into(), i18n::text("account-erased"))),
        email: String::new(),
    })
}

#[derive(Deserialize)]
struct SigninForm {
    email: String,
    password: String,
}

/// Whether a form was posted by one of this site's own pages, by what the browser says of where
/// it was sent from: `Sec-Fetch-Site` when it sends one, else `Origin` against `Host` (`null`, an
/// opaque origin, is another site). Behind a trusted proxy (`via_proxy`), which may rewrite
/// `Host`, the host it forwards (`X-Forwarded-Host`) is this site too. A client that sends
/// neither header is no browser, and signing a browser in to someone else's account (login
/// CSRF) needs a browser.
fn posted_from_here(h: &axum::http::HeaderMap, via_proxy: bool) -> bool {
    if let Some(site) = h.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = h.get(header::ORIGIN) else {
        return true;
    };
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, a)| a)
    else {
        return false;
    };
    let forwarded = h
        .get_all("x-forwarded-host")
        .iter()
        .next_back()
        .filter(|_| via_proxy);
    h.get(header::HOST).is_some_and(|host| host == authority)
        || forwarded.is_some_and(|host| host == authority)
}

async fn signin_submit(
    AxState(state): AxState<State>,
    ClientIp(ip): ClientIp,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: axum::http::HeaderMap,
    axum::Form(f): axum::Form<SigninForm>,
) -> PageResult {
    let via_proxy =
        peer.is_some_and(|p| state.trusted_proxies.iter().any(|c| c.contains(p.0.0.ip())));
    if !posted_from_here(&headers, via_proxy) {
        let mut r = html(SigninPage {
            tr: Tr::now(),
            nav: None,
            flash: Some(("error".into(), i18n::text("signin-cross-site"))),
            email: String::new(),
        })?;
        *r.status_mut() = StatusCode::FORBIDDEN;
        return Ok(r);
    }
    match sign_in(&state, &ip, &f.email, &f.password, None).await {
        Ok((_, _, secret, _)) => {
            let mut r = Redirect::to("/app").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                crate::api::identity::session_cookie(&state, &secret, 14 * 24 * 3600),
            );
            Ok(r)
        }
        Err(e) => {
            let mut r = html(SigninPage {
                tr: Tr::now(),
                nav: None,
                flash: Some(("error".into(), e.page_detail())),
                email: f.email,
            })?;
            *r.status_mut() = e.status();
            Ok(r)
        }
    }
}

async fn signout(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    if let Some(s) = c.and_then(|c| c.session) {
        // A sign-out posted without this session's token (from another site) changes nothing:
        // neither the session nor the browser's cookie.
        if !crate::auth::same_secret(&f.csrf, &s.csrf) {
            let refused = ApiError::new(Code::AuthCsrf).message("problem-auth-csrf-form");
            return Err(refused.into());
        }
        state.store.platform().end_session(&s.secret).await?;
    }
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        crate::api::identity::session_cookie(&state, "", 0),
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    org_name: String,
    kind_key: String,
    role_key: String,
    timezone: String,
    members: i64,
    tokens: i64,
    webhooks: Option<i64>,
}

/// Where a role starts when it opens `/app`, the one place that choice is made: artists from
/// their own work; producers from the productions overview; everyone else, owners and admins
/// included, from the organisation's home (`None`).
fn landing(role: Role) -> Option<&'static str> {
    match role {
        Role::Artist => Some("/app/my-tasks"),
        Role::Producer => Some("/app/overview"),
        Role::Owner
        | Role::Admin
        | Role::Coordinator
        | Role::Supervisor
        | Role::Finance
        | Role::Viewer
        | Role::Client => None,
    }
}

async fn home(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    if let Some(to) = landing(cx.scope.role) {
        return Ok(Redirect::to(to).into_response());
    }
    let org = state.store.tenant(&cx.scope).org().await?;
    let one = ListQuery {
        limit: 1,
        ..Default::default()
    };
    let members = state
        .store
        .tenant(&cx.scope)
        .members(&one, None)
        .await?
        .total;
    let tokens = state
        .store
        .tenant(&cx.scope)
        .tokens(&one, false)
        .await?
        .total;
    let webhooks = if cx.scope.can(Permission::ManageWebhooks) {
        Some(state.store.tenant(&cx.scope).webhooks(&one).await?.total)
    } else {
        None
    };
    html(HomePage {
        tr: Tr::now(),
        nav: cx.nav("home"),
        flash: None,
        kind_key: format!("org-kind-{}", org.kind.as_str()),
        role_key: format!("role-{}", cx.scope.role.as_str()),
        timezone: cx.tz.clone(),
        org_name: org.name,
        members,
        tokens,
        webhooks,
    })
}

#[derive(Deserialize)]
struct SwitchForm {
    csrf: String,
    org_id: Uuid,
}

async fn switch(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<SwitchForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    if state
        .store
        .platform()
        .role_in(cx.caller.user_id, f.org_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("organisation").into());
    }
    if let Some(s) = &cx.caller.session {
        state
            .store
            .platform()
            .switch_session_org(&s.secret, f.org_id)
            .await?;
    }
    Ok(Redirect::to("/app").into_response())
}

struct MemberRow {
    user_id: String,
    name: String,
    email: String,
    role: String,
    role_label: String,
    joined: String,
    /// Whether the viewer may change this member's role (an admin may not touch an owner's).
    changeable: bool,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    tr: Tr,
    nav: Option<Nav>,
    nav_csrf: String,
    flash: Option<(String, String)>,
    rows: Vec<MemberRow>,
    total: i64,
    can_manage: bool,
    roles: Vec<(String, String)>,
    invite_link: Option<String>,
}

async fn members_page(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    invite_link: Option<String>,
) -> PageResult {
    let q = ListQuery {
        limit: 500,
        ..Default::default()
    };
    let page = state.store.tenant(&cx.scope).members(&q, None).await?;
    let tr = Tr::now();
    let rows = page
        .items
        .iter()
        .map(|m| MemberRow {
            user_id: m.user_id.to_string(),
            name: m.display_name.clone(),
            email: m.email.clone(),
            role: m.role.as_str().into(),
            role_label: tr.t(&format!("role-{}", m.role.as_str())),
            joined: cx.time(m.joined_at.0),
            changeable: cx.scope.can(Permission::ManageMembers) && cx.scope.role.may_assign(m.role),
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .filter(|r| cx.scope.role.may_assign(**r))
        .map(|r| {
            (
                r.as_str().to_string(),
                tr.t(&format!("role-{}", r.as_str())),
            )
        })
        .collect();
    html(MembersPage {
        tr,
        nav: cx.nav("members"),
        nav_csrf: cx.csrf.clone(),
        flash,
        rows,
        total: page.total,
        can_manage: cx.scope.can(Permission::ManageMembers),
        roles,
        invite_link,
    })
}

async fn members(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    members_page(&state, &cx, None, None).await
}

#[derive(Deserialize)]
struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

async fn invite(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<InviteForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageMembers)?;
    let role = Role::parse(&f.role).ok_or_else(|| ApiError::invalid("role", "unknown_role"))?;
    match state.store.tenant(&cx.scope).invite(&f.email, role).await {
        Ok((_, token)) => {
            members_page(
                &state,
                &cx,
                Some(("ok".into(), i18n::text("members-invited"))),
                Some(format!("/invite/{token}")),
            )
            .await
        }
        Err(e) => members_refused(&state, &cx, e.into()).await,
    }
}

/// The members page again, saying why a form was not taken, with the status the API answers
/// it with (403 for a role the member may not give or take away), as the other forms do.
async fn members_refused(state: &State, cx: &Ctx, e: ApiError) -> PageResult {
    let mut r = members_page(state, cx, Some(("error".into(), e.page_detail())), None).await?;
    *r.status_mut() = e.status();
    Ok(r)
}

#[derive(Deserialize)]
struct RoleForm {
    csrf: String,
    role: String,
}

async fn set_role(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(user_id): Path<Uuid>,
    axum::Form(f): axum::Form<RoleForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageMembers)?;
    let role = Role::parse(&f.role).ok_or_else(|| ApiError::invalid("role", "unknown_role"))?;
    match state
        .store
        .tenant(&cx.scope)
        .set_member_role(user_id, role, None)
        .await
    {
        Ok(_) => Ok(Redirect::to("/app/members").into_response()),
        Err(e) => members_refused(&state, &cx, e.into()).await,
    }
}

struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    tr: Tr,
    nav: Option<Nav>,
    nav_csrf: String,
    flash: Option<(String, String)>,
    rows: Vec<TokenRow>,
    new_secret: Option<String>,
}

async fn tokens_page(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    new_secret: Option<String>,
) -> PageResult {
    let q = ListQuery {
        limit: 500,
        descending: true,
        ..Default::default()
    };
    let page = state.store.tenant(&cx.scope).tokens(&q, false).await?;
    let tr = Tr::now();
    let rows = page
        .items
        .iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            scopes: TokenScope::split(&t.scopes)
                .iter()
                .map(|s| tr.t(&format!("scope-{}", s.as_str())))
                .collect::<Vec<_>>()
                .join(", "),
            created: cx.time(t.created_at.0),
            last_used: t
                .last_used_at
                .map(|m| cx.time(m.0))
                .unwrap_or_else(|| tr.t("tokens-never")),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    html(TokensPage {
        tr,
        nav: cx.nav("tokens"),
        nav_csrf: cx.csrf.clone(),
        flash,
        rows,
        new_secret,
    })
}

async fn tokens(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    tokens_page(&state, &cx, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    name: String,
    scope_read: Option<String>,
    scope_write: Option<String>,
    scope_admin: Option<String>,
}

async fn create_token(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<TokenForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    let mut scopes = Vec::new();
    if f.scope_read.is_some() {
        scopes.push(TokenScope::Read);
    }
    if f.scope_write.is_some() {
        scopes.push(TokenScope::Write);
    }
    if f.scope_admin.is_some() {
        scopes.push(TokenScope::Admin);
    }
    match state
        .store
        .tenant(&cx.scope)
        .create_token(&f.name, &scopes, None)
        .await
    {
        Ok((_, secret)) => {
            tokens_page(
                &state,
                &cx,
                Some(("ok".into(), i18n::text("tokens-created"))),
                Some(secret),
            )
            .await
        }
        Err(e) => {
            let msg = ApiError::from(e).detail();
            tokens_page(&state, &cx, Some(("error".into(), msg)), None).await
        }
    }
}

async fn revoke_token(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(token_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    state
        .store
        .tenant(&cx.scope)
        .revoke_token(token_id, false)
        .await?;
    Ok(Redirect::to("/app/tokens").into_response())
}

struct AuditRow {
    at: String,
    who: String,
    /// The sentence, around its subject: "Li Na" + "made the API token " + "ci" + "".
    before: String,
    subject: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    rows: Vec<AuditRow>,
    total: i64,
    next_cursor: Option<String>,
    /// The filters as chosen, for the form and the next page's address.
    person: String,
    action: String,
    from: String,
    to: String,
    people: Vec<(String, String)>,
    actions: Vec<(String, String)>,
    query: String,
}

#[derive(Deserialize)]
struct AuditQuery {
    cursor: Option<String>,
    #[serde(default)]
    person: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// The actions the audit log can be filtered by, in the order the form lists them.
const AUDIT_ACTIONS: [&str; 30] = [
    "member.added",
    "member.updated",
    "member.removed",
    "invitation.created",
    "invitation.accepted",
    "invitation.revoked",
    "token.created",
    "token.revoked",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "grant.created",
    "grant.revoked",
    "org.updated",
    "session.started",
    "session.ended",
    "project.created",
    "project.updated",
    "sequence.created",
    "sequence.conformed",
    "task.created",
    "task.updated",
    "task.status_changed",
    "task_status.updated",
    "note.created",
    "version.created",
    "time_log.created",
    "asset.created",
    "asset.deleted",
    "custom_field.created",
];

/// What a record names its subject by: a name, an e-mail address, an address.
fn subject_of(v: &serde_json::Value) -> Option<String> {
    ["name", "display_name", "email", "url", "code"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_string))
}

/// A day `YYYY-MM-DD` in `tz`, as the instant it starts (ms); `next` for the day after.
pub(crate) fn day_start(day: &str, tz: &str, next: bool) -> Option<i64> {
    let date: jiff::civil::Date = day.trim().parse().ok()?;
    let date = if next { date.tomorrow().ok()? } else { date };
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    Some(date.to_zoned(zone).ok()?.timestamp().as_millisecond())
}

/// A filter's value in an address: letters, digits and `-._~` as they are, the rest escaped.
pub(crate) fn in_address(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn audit(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(p): Query<AuditQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ReadAudit)?;
    let q = crate::extract::list_query(Some(100), p.cursor.as_deref(), Some("-created_at"))?;
    let members = state
        .store
        .tenant(&cx.scope)
        .members(
            &ListQuery {
                limit: 500,
                ..Default::default()
            },
            None,
        )
        .await?
        .items;
    let tr = Tr::now();
    // A filter that does not read is said, and left out.
    let mut refused: Option<(String, String)> = None;
    let person = match p.person.trim() {
        "" => None,
        s => s.parse::<Uuid>().map_or_else(
            |_| {
                refused = Some(("field-who".into(), s.into()));
                None
            },
            Some,
        ),
    };
    let action = match p.action.trim() {
        "" => None,
        a if AUDIT_ACTIONS.contains(&a) => Some(a.to_string()),
        a => {
            refused = Some(("field-action".into(), a.into()));
            None
        }
    };
    let mut day = |field: &str, value: &str, next: bool| match value.trim() {
        "" => None,
        v => {
            let at = day_start(v, &cx.tz, next);
            if at.is_none() {
                refused = Some((field.into(), v.into()));
            }
            at
        }
    };
    let from = day("audit-from", &p.from, false);
    let until = day("audit-to", &p.to, true);
    let flash = refused.map(|(what, value)| {
        (
            "error".to_string(),
            i18n::text_args(
                "audit-bad-filter",
                &[("what", i18n::text(&what).into()), ("value", value.into())],
            ),
        )
    });
    let filter = AuditFilter {
        actor_id: person,
        action,
        from,
        until,
        ..AuditFilter::default()
    };
    let page = state.store.tenant(&cx.scope).audit(&filter, &q).await?;
    let name_of = |id: Uuid| {
        members
            .iter()
            .find(|m| m.user_id == id)
            .map(|m| m.display_name.clone())
    };
    let rows = page
        .items
        .iter()
        .map(|a| {
            let parse = |s: &Option<String>| {
                s.as_deref()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                    .unwrap_or(serde_json::Value::Null)
            };
            let (before, after) = (parse(&a.before), parse(&a.after));
            // A member is named by their name; anything else by what its record calls it.
            let subject = match a.entity_type.as_str() {
                "member" | "user" => a.entity_id.and_then(name_of),
                _ => None,
            }
            .or_else(|| subject_of(&after))
            .or_else(|| subject_of(&before))
            .unwrap_or_default();
            let args = crate::pages::tracking::sentence_args(if after.is_null() {
                &before
            } else {
                &after
            });
            let (b, f) = crate::pages::tracking::sentence(&a.action, args);
            AuditRow {
                at: cx.time(a.at.0),
                who: match a.actor_id {
                    None => tr.t("audit-platform"),
                    Some(id) => name_of(id).unwrap_or_else(|| tr.t("someone")),
                },
                before: b,
                subject,
                after: f,
            }
        })
        .collect();
    let query = [
        ("person", &p.person),
        ("action", &p.action),
        ("from", &p.from),
        ("to", &p.to),
    ]
    .iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("&{k}={}", in_address(v.trim())))
    .collect::<String>();
    html(AuditPage {
        tr,
        nav: cx.nav("audit"),
        flash,
        rows,
        total: page.total,
        next_cursor: page.next_cursor,
        person: p.person.trim().to_string(),
        action: p.action.trim().to_string(),
        from: p.from.trim().to_string(),
        to: p.to.trim().to_string(),
        people: members
            .iter()
            .map(|m| (m.user_id.to_string(), m.display_name.clone()))
            .collect(),
        actions: AUDIT_ACTIONS
            .iter()
            .map(|a| {
                let args = crate::pages::tracking::sentence_args(&serde_json::Value::Null);
                let (b, f) = crate::pages::tracking::sentence(a, args);
                (a.to_string(), format!("{b}…{f}").trim().to_string())
            })
            .collect(),
        query,
    })
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    token: String,
}

async fn invite_page(Path(token): Path<String>) -> PageResult {
    html(InvitePage {
        tr: Tr::now(),
        nav: None,
        flash: None,
        token,
    })
}

#[derive(Deserialize)]
struct AcceptForm {
    display_name: String,
    password: String,
}

async fn invite_accept(
    AxState(state): AxState<State>,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<AcceptForm>,
) -> PageResult {
    match state
        .store
        .platform()
        .accept_invitation(&token, None, Some(f.display_name), Some(f.password))
        .await
    {
        Ok(_) => Ok(Redirect::to("/signin").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let mut r = html(InvitePage {
                tr: Tr::now(),
                nav: None,
                flash: Some(("error".into(), e.page_detail())),
                token,
            })?;
            *r.status_mut() = e.status();
            Ok(r)
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    name: String,
    email: String,
    /// (organisation, role in words).
    memberships: Vec<(String, String)>,
}

/// The signed-in person's account: who they are, where they belong, their data to download,
/// and erasure.
async fn account(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    account_view(&state, &cx, None).await
}

async fn account_view(state: &State, cx: &Ctx, flash: Option<(String, String)>) -> PageResult {
    let user = state.store.platform().user(cx.caller.user_id).await?;
    let memberships = state
        .store
        .platform()
        .memberships(cx.caller.user_id)
        .await?
        .into_iter()
        .map(|m| (m.org.name, i18n::text(&format!("role-{}", m.role.as_str()))))
        .collect();
    html(AccountPage {
        tr: Tr::now(),
        nav: cx.nav("account"),
        flash,
        csrf: cx.csrf.clone(),
        name: user.display_name,
        email: user.email,
        memberships,
    })
}

/// All of the signed-in person's data, as one JSON file to keep.
async fn account_data(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    let data = state
        .store
        .platform()
        .export_person(cx.caller.user_id)
        .await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"m-station-my-data.json\"",
        )],
        axum::Json(data),
    )
        .into_response())
}

#[derive(Deserialize)]
struct EraseForm {
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    sure: String,
}

/// Erases the signed-in person, with their password and their tick; then they are signed out
/// and told so.
async fn account_erase(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    ClientIp(ip): ClientIp,
    axum::Form(f): axum::Form<EraseForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    if f.sure != "yes" {
        let e = StoreError::Invalid(mstation_core::validate::FieldError::new("sure", "required"));
        let page = account_view(&state, &cx, Some(flash_of(e))).await;
        return answered(page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let user = state.store.platform().user(cx.caller.user_id).await?;
    crate::api::identity::password_try(&state, &ip, &user.email)?;
    match state
        .store
        .platform()
        .erase_person(cx.caller.user_id, &f.password)
        .await
    {
        Ok(_) => {
            let mut r = Redirect::to("/signin?erased=1").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                crate::api::identity::session_cookie(&state, "", 0),
            );
            Ok(r)
        }
        Err(e) => {
            let status = match &e {
                StoreError::Rule(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let page = account_view(&state, &cx, Some(flash_of(e))).await;
            answered(page, status)
        }
    }
}
