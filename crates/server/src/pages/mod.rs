//! The server-rendered pages, one module per context: `identity` (sign in, the organisation's
//! home, members and roles, API tokens, invitations and the audit log), `events` (webhooks with
//! their delivery log) and `tracking` (the production pages). This module is what they share:
//! the router, the layout's navigation, messages, page errors and the signed-in context. Plain
//! forms; every change posts the session's CSRF token and redirects, so reload and back never
//! repeat a change.

use askama::Template;
use axum::Router;
use axum::extract::State as AxState;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mstation_core::{Permission, TenantScope};
use serde::Deserialize;

use crate::State;
use crate::auth::{Caller, MaybeSigned};
use crate::error::{ApiError, Code};
use crate::i18n::{self, Lang};

mod events;
mod identity;
mod ledger;
mod market;
pub(crate) mod media;
mod orders;
mod talent;
pub(crate) mod tracking;

pub(crate) use tracking::grid_query;

pub fn router() -> Router<State> {
    let r = Router::new()
        .route("/", get(root))
        .route("/assets/app.css", get(css))
        .route("/assets/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/assets/grid.js", get(grid_js))
        .route("/assets/import.js", get(import_js))
        .route("/assets/upload.js", get(upload_js))
        .route("/assets/tus.js", get(tus_js))
        .route("/assets/card.js", get(card_js))
        .route("/assets/player.js", get(player_js))
        .route("/assets/draw.js", get(draw_js))
        .route("/assets/cuts.js", get(cuts_js))
        .route("/assets/session.js", get(session_js))
        .route("/assets/report.js", get(report_js))
        .route("/assets/guest.js", get(guest_js))
        .route("/app/language", post(language));
    let r = identity::routes(r);
    let r = events::routes(r);
    let r = ledger::routes(r);
    let r = market::routes(r);
    let r = talent::routes(r);
    let r = orders::routes(r);
    let r = media::routes(r);
    tracking::routes(r)
}

/// Messages of the request's language, for templates.
pub struct Tr(Lang);

impl Tr {
    fn now() -> Self {
        Tr(i18n::current())
    }
    pub fn t(&self, key: &str) -> String {
        i18n::text_in(self.0, key)
    }
    /// Why an editorial import skipped an event (`audio_only`, `black`, …).
    pub fn skipped(&self, reason: &str) -> String {
        i18n::text_in(self.0, &format!("import-skipped-{reason}"))
    }
    /// Why an editorial import skipped a malformed line (`record_out_before_in`, …).
    pub fn warning(&self, code: &str) -> String {
        i18n::text_in(self.0, &format!("import-warning-{code}"))
    }
    /// What a new cut changes in a shot, in words: `Length: 48 → 60 frames`.
    pub fn change(&self, c: &mstation_core::tracking::conform::ChangedShot, field: &str) -> String {
        use fluent_templates::fluent_bundle::FluentValue;
        let (b, a) = (&c.before, &c.after);
        let frames = |i: i64, o: i64| o - i + 1;
        let args: Vec<(&'static str, FluentValue<'static>)> = match field {
            "cut_order" => vec![
                ("before", b.cut_order.into()),
                ("after", a.cut_order.into()),
            ],
            "cut_out" => vec![
                ("before", frames(b.cut_in, b.cut_out).into()),
                ("after", frames(a.cut_in, a.cut_out).into()),
            ],
            "source" => vec![
                ("from", a.source_in_tc.clone().into()),
                ("to", a.source_out_tc.clone().into()),
            ],
            "clip_name" => vec![
                (
                    "before",
                    b.clip_name.clone().unwrap_or_else(|| "—".into()).into(),
                ),
                (
                    "after",
                    a.clip_name.clone().unwrap_or_else(|| "—".into()).into(),
                ),
            ],
            _ => Vec::new(),
        };
        i18n::text_args_in(self.0, &format!("import-change-{field}"), &args)
    }
    pub fn lang_code(&self) -> &'static str {
        self.0.code()
    }
}

pub struct Nav {
    pub active: &'static str,
    pub csrf: String,
    pub orgs: Vec<(String, String)>,
    pub org_id: String,
    pub user_name: String,
    /// Links shown only to those who may open them.
    pub webhooks: bool,
    pub audit: bool,
    pub overview: bool,
    pub finance: bool,
    pub talent: bool,
    pub work_orders: bool,
}

/// A page failure: a signed-out visitor goes to sign in; a refusal is shown inside the page's
/// frame (the navigation stays); anything else is shown as text.
enum PageError {
    SignIn,
    Api(ApiError),
    Refused(ApiError, Box<Nav>),
}

#[derive(Template)]
#[template(path = "refused.html")]
struct RefusedPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    title: String,
    detail: String,
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}
impl From<mstation_store::StoreError> for PageError {
    fn from(e: mstation_store::StoreError) -> Self {
        PageError::Api(e.into())
    }
}
impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "page template failed");
        PageError::Api(ApiError::new(Code::PageRender))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/signin").into_response(),
            PageError::Refused(e, nav) => {
                let page = RefusedPage {
                    tr: Tr::now(),
                    nav: Some(*nav),
                    flash: None,
                    title: e.title(),
                    detail: e.page_detail(),
                };
                match page.render() {
                    Ok(body) => (e.status(), Html(body)).into_response(),
                    Err(_) => PageError::Api(e).into_response(),
                }
            }
            PageError::Api(e) => {
                let body = format!(
                    "<!doctype html><meta charset=utf-8><link rel=icon href=/assets/favicon.svg type=image/svg+xml><link rel=stylesheet href=/assets/app.css><main><section class=card><h1>{}</h1><p>{}</p><p><a href=\"javascript:history.back()\">{}</a></p></section></main>",
                    escape(&e.title()),
                    escape(&e.page_detail()),
                    escape(&i18n::text("action-back"))
                );
                (e.status(), Html(body)).into_response()
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

type PageResult = Result<Response, PageError>;

/// The signed-in member behind a page, with what the layout needs.
struct Ctx {
    caller: Caller,
    scope: TenantScope,
    csrf: String,
    tz: String,
    user_name: String,
    orgs: Vec<(String, String)>,
}

async fn ctx(state: &State, caller: Option<Caller>) -> Result<Ctx, PageError> {
    let caller = caller.ok_or(PageError::SignIn)?;
    let csrf = caller
        .session
        .as_ref()
        .map(|s| s.csrf.clone())
        .ok_or(PageError::SignIn)?;
    let scope = caller
        .scope
        .clone()
        .ok_or_else(|| PageError::Api(ApiError::new(Code::AuthNoOrganisation)))?;
    let user = state.store.platform().user(caller.user_id).await?;
    let memberships = state.store.platform().memberships(caller.user_id).await?;
    let org_tz = memberships
        .iter()
        .find(|m| m.org.id == scope.org_id)
        .map(|m| m.org.timezone.clone());
    let tz = user
        .timezone
        .clone()
        .or(org_tz)
        .unwrap_or_else(|| mstation_store::identity::DEFAULT_TIMEZONE.into());
    let orgs = memberships
        .iter()
        .map(|m| (m.org.id.to_string(), m.org.name.clone()))
        .collect();
    Ok(Ctx {
        caller,
        scope,
        csrf,
        tz,
        user_name: user.display_name,
        orgs,
    })
}

impl Ctx {
    fn nav(&self, active: &'static str) -> Option<Nav> {
        Some(Nav {
            active,
            csrf: self.csrf.clone(),
            orgs: self.orgs.clone(),
            org_id: self.scope.org_id.to_string(),
            user_name: self.user_name.clone(),
            webhooks: self.scope.can(Permission::ManageWebhooks),
            audit: self.scope.can(Permission::ReadAudit),
            overview: self.may_see_overview(),
            finance: self.scope.can(Permission::ReadLedger),
            talent: self.scope.can(Permission::FindTalent),
            work_orders: self.scope.can(Permission::ReadWorkOrders),
        })
    }
    /// Whether the productions overview (hours and bids per person) is the viewer's to see.
    fn may_see_overview(&self) -> bool {
        self.scope.can(Permission::PlanProduction) || self.scope.can(Permission::ReadAudit)
    }
    /// A refusal of `p`, shown inside the page frame.
    fn refuse(&self, p: Permission) -> PageError {
        self.refuse_for(crate::auth::permission_key(p))
    }
    /// A refusal inside the page frame saying it does not allow `what` (a catalog key).
    fn refuse_for(&self, what: &'static str) -> PageError {
        PageError::Refused(
            ApiError::forbidden(what),
            Box::new(self.nav("").expect("a signed-in page has a nav")),
        )
    }
    /// Ok when the viewer may do `p`; a refusal inside the page frame otherwise.
    fn need(&self, p: Permission) -> Result<(), PageError> {
        if self.scope.can(p) {
            Ok(())
        } else {
            Err(self.refuse(p))
        }
    }
    fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if crate::auth::same_secret(sent, &self.csrf) {
            Ok(())
        } else {
            Err(PageError::Api(
                ApiError::new(Code::AuthCsrf).message("problem-auth-csrf-form"),
            ))
        }
    }
    fn time(&self, ms: i64) -> String {
        format_time(ms, &self.tz)
    }
    /// Today in the person's time zone, `YYYY-MM-DD`.
    fn today(&self) -> String {
        let zone = jiff::tz::TimeZone::get(&self.tz).unwrap_or(jiff::tz::TimeZone::UTC);
        jiff::Timestamp::now().to_zoned(zone).date().to_string()
    }
}

/// An instant in a person's time zone, e.g. `2026-11-23 20:15`.
pub fn format_time(ms: i64, tz: &str) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string()
}

fn html(t: impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

async fn root(MaybeSigned(c): MaybeSigned) -> Redirect {
    if c.is_some() {
        Redirect::to("/app")
    } else {
        Redirect::to("/signin")
    }
}

/// The icon browsers show on the tab (also answered at `/favicon.ico`, where they look first).
async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../assets/favicon.svg"),
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

async fn grid_js() -> impl IntoResponse {
    script(include_str!("../../assets/grid.js"))
}

async fn import_js() -> impl IntoResponse {
    script(include_str!("../../assets/import.js"))
}

async fn tus_js() -> impl IntoResponse {
    script(include_str!("../../assets/tus.js"))
}

async fn player_js() -> impl IntoResponse {
    script(include_str!("../../assets/player.js"))
}

async fn draw_js() -> impl IntoResponse {
    script(include_str!("../../assets/draw.js"))
}

async fn cuts_js() -> impl IntoResponse {
    script(include_str!("../../assets/cuts.js"))
}

async fn guest_js() -> impl IntoResponse {
    script(include_str!("../../assets/guest.js"))
}

async fn report_js() -> impl IntoResponse {
    script(include_str!("../../assets/report.js"))
}

async fn session_js() -> impl IntoResponse {
    script(include_str!("../../assets/session.js"))
}

async fn card_js() -> impl IntoResponse {
    script(include_str!("../../assets/card.js"))
}

async fn upload_js() -> impl IntoResponse {
    script(include_str!("../../assets/upload.js"))
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
struct LanguageForm {
    csrf: String,
    locale: String,
}

async fn language(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    headers: axum::http::HeaderMap,
    axum::Form(f): axum::Form<LanguageForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    state
        .store
        .platform()
        .update_user_prefs(cx.caller.user_id, Some(Some(f.locale)), None)
        .await?;
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/app").map(|i| r[i..].to_string()));
    Ok(Redirect::to(&back.unwrap_or_else(|| "/app".into())).into_response())
}
