//! A guest's pages: what a share link shows to someone with no account. `/share/{token}` lists
//! the playlist's versions (behind the link's password, when it has one); each plays in a
//! player of its own from the copy made for the link, the recipient's name burnt into every
//! frame. A guest reaches nothing else: no other version, no notes, no names of the people who
//! made the work, nothing once the link runs out or is revoked.
//!
//! A guest who typed the password carries a cookie for that link alone, the SHA-256 of the
//! link's secret and its password's hash: it stops opening the link when the password changes.
//!
//! Producers and coordinators make and revoke links from the playlist's page; a link's address
//! is shown once, when it is made.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mstation_store::media::share::{GuestLink, SharedVersion};
use serde::Deserialize;
use uuid::Uuid;

use crate::State;
use crate::api::identity::ClientIp;
use crate::auth::MaybeSigned;
use crate::error::{ApiError, Code};
use crate::i18n;
use crate::pages::{Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/playlists/{playlist_id}/share-links", post(make_link))
        .route("/app/share-links/{link_id}/revoke", post(revoke_link))
        .route("/app/share-links/{link_id}/remake", post(remake_copies))
        .route("/share/{token}", get(guest_page).post(guest_password))
        .route("/share/{token}/{version_id}", get(guest_player))
        .route("/share/{token}/{version_id}/notes", post(guest_note))
        .route(
            "/app/guest-notes/{guest_note_id}/publish",
            post(publish_note),
        )
        .route("/share/{token}/{version_id}/media", get(guest_media))
}

#[derive(Template)]
#[template(path = "share.html")]
struct SharePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    token: String,
    /// "For Zhang Wei, Star Pictures".
    heading: String,
    /// "Open until 2026-12-13 10:00".
    until: String,
    /// Why it shows nothing: run out, revoked, or behind a password.
    closed: Option<String>,
    password: bool,
    versions: Vec<GuestVersion>,
    /// The version played, when one is, and the guest's notes on it (when, words, passed on).
    playing: Option<GuestVersion>,
    notes: Vec<(String, String, bool)>,
    allow_download: bool,
}

struct GuestVersion {
    id: String,
    label: String,
    /// Why it cannot play (its copy is being made, or could not be).
    waiting: Option<String>,
}

fn heading(g: &GuestLink) -> String {
    i18n::text_args("share-for", &[("name", g.link.recipient.clone().into())])
}

fn cookie_name(link: Uuid) -> String {
    format!("mstation_share_{}", link.simple())
}

/// What a guest who typed the password carries for the link.
fn pass_of(token: &str, password_hash: &str) -> String {
    mstation_store::identity::hash_secret(&format!("{token}\n{password_hash}"))
}

/// Whether the request carries the link's pass.
fn has_pass(headers: &HeaderMap, token: &str, g: &GuestLink) -> bool {
    let Some(hash) = &g.password_hash else {
        return true;
    };
    let want = pass_of(token, hash);
    let name = cookie_name(g.link.id);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(k, v)| k == name && crate::auth::same_secret(v, &want))
}

/// A link's page closed, with why: the same page whether the link never was or is gone, so a
/// guessed secret learns nothing.
fn closed(why: &str, status: StatusCode) -> PageResult {
    let mut r = html(SharePage {
        tr: Tr::now(),
        nav: None,
        flash: None,
        token: String::new(),
        heading: String::new(),
        until: String::new(),
        closed: Some(i18n::text(why)),
        password: false,
        versions: Vec::new(),
        playing: None,
        notes: Vec::new(),
        allow_download: false,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

/// The link of `token` when a guest may use it now; the closed page otherwise.
async fn open(state: &State, token: &str) -> Result<GuestLink, PageResult> {
    match state.store.platform().guest_link(token).await {
        Ok(Some(g)) if g.link.live => Ok(g),
        Ok(_) => Err(closed("share-closed", StatusCode::NOT_FOUND)),
        Err(e) => Err(Err(ApiError::from(e).into())),
    }
}

fn versions_of(list: Vec<SharedVersion>) -> Vec<GuestVersion> {
    list.into_iter()
        .map(|v| GuestVersion {
            id: v.version_id.to_string(),
            label: v.label,
            waiting: match (&v.hash, v.job_status.as_deref()) {
                (Some(_), _) => None,
                (None, Some("failed")) | (None, None) => Some(i18n::text("share-not-available")),
                (None, _) => Some(i18n::text("share-preparing")),
            },
        })
        .collect()
}

async fn page_of(
    state: &State,
    token: &str,
    g: &GuestLink,
    playing: Option<Uuid>,
    flash: Option<(String, String)>,
) -> PageResult {
    let list = state
        .store
        .platform()
        .guest_versions(g.org_id, g.link.id)
        .await
        .map_err(ApiError::from)?;
    let versions = versions_of(list);
    let playing = match playing {
        None => None,
        Some(id) => Some(
            versions
                .iter()
                .find(|v| v.id == id.to_string())
                .map(|v| GuestVersion {
                    id: v.id.clone(),
                    label: v.label.clone(),
                    waiting: v.waiting.clone(),
                })
                .ok_or_else(|| ApiError::new(Code::NotFound))?,
        ),
    };
    // The guest's own notes on the version played, held or passed on.
    let notes = match playing.as_ref() {
        None => Vec::new(),
        Some(p) => state
            .store
            .platform()
            .guest_notes_of(g.org_id, g.link.id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .filter(|n| n.version_id.to_string() == p.id)
            .map(|n| (clock(n.at_ms), n.body, n.published_at.is_some()))
            .collect(),
    };
    html(SharePage {
        tr: Tr::now(),
        nav: None,
        flash,
        token: token.to_string(),
        heading: heading(g),
        until: i18n::text_args(
            "share-until",
            &[(
                "when",
                format!(
                    "{} UTC",
                    crate::pages::format_time(g.link.expires_at.0, "UTC")
                )
                .into(),
            )],
        ),
        closed: None,
        password: false,
        versions,
        playing,
        notes,
        allow_download: g.link.allow_download,
    })
}

/// The password form of a link.
fn password_page(token: &str, flash: Option<(String, String)>) -> PageResult {
    html(SharePage {
        tr: Tr::now(),
        nav: None,
        flash,
        token: token.to_string(),
        // Who it is for is said only past the password.
        heading: i18n::text("share-title"),
        until: String::new(),
        closed: None,
        password: true,
        versions: Vec::new(),
        playing: None,
        notes: Vec::new(),
        allow_download: false,
    })
}

async fn guest_page(
    AxState(state): AxState<State>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let g = match open(&state, &token).await {
        Ok(g) => g,
        Err(page) => return page,
    };
    if !has_pass(&headers, &token, &g) {
        return password_page(&token, None);
    }
    page_of(&state, &token, &g, None, None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// The password typed: a pass for the link, or the form again. Tries count against the
/// sign-in limits of the address and of the link.
async fn guest_password(
    AxState(state): AxState<State>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<PasswordForm>,
) -> PageResult {
    let g = match open(&state, &token).await {
        Ok(g) => g,
        Err(page) => return page,
    };
    let Some(hash) = g.password_hash.clone() else {
        return Ok(Redirect::to(&format!("/share/{token}")).into_response());
    };
    for key in [format!("share-ip:{ip}"), format!("share:{}", g.link.id)] {
        if let Err(wait) = state.login_limiter.check(&key) {
            let e = ApiError::new(Code::AuthTooManyAttempts).arg("wait", wait);
            let mut r = password_page(&token, Some(("error".into(), e.page_detail())))?;
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return Ok(r);
        }
    }
    if !mstation_store::identity::check_password(hash.clone(), f.password).await {
        let flash = ("error".to_string(), i18n::text("share-wrong-password"));
        let mut r = password_page(&token, Some(flash))?;
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(r);
    }
    let mut r = Redirect::to(&format!("/share/{token}")).into_response();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{}={}; Path=/share/{token}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(g.link.id),
        pass_of(&token, &hash),
        ((g.link.expires_at.0 - mstation_store::now_ms()) / 1000).max(0)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

async fn guest_player(
    AxState(state): AxState<State>,
    Path((token, version_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> PageResult {
    let g = match open(&state, &token).await {
        Ok(g) => g,
        Err(page) => return page,
    };
    if !has_pass(&headers, &token, &g) {
        return Ok(Redirect::to(&format!("/share/{token}")).into_response());
    }
    page_of(&state, &token, &g, Some(version_id), None).await
}

#[derive(Deserialize)]
struct MediaQuery {
    #[serde(default)]
    download: Option<String>,
}

/// The copy made for the link, and only that: never the version's own files or proxy.
async fn guest_media(
    AxState(state): AxState<State>,
    Path((token, version_id)): Path<(String, Uuid)>,
    axum::extract::Query(q): axum::extract::Query<MediaQuery>,
    headers: HeaderMap,
) -> Result<Response, crate::pages::PageError> {
    let gone = || crate::pages::PageError::from(ApiError::new(Code::NotFound));
    let g = match state.store.platform().guest_link(&token).await {
        Ok(Some(g)) if g.link.live && has_pass(&headers, &token, &g) => g,
        Ok(_) => return Err(gone()),
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let list = state
        .store
        .platform()
        .guest_versions(g.org_id, g.link.id)
        .await
        .map_err(ApiError::from)?;
    let Some(v) = list.into_iter().find(|v| v.version_id == version_id) else {
        return Err(gone());
    };
    let (Some(hash), Some(size)) = (v.hash, v.size) else {
        return Err(gone());
    };
    let download = q.download.is_some() && g.link.allow_download;
    if q.download.is_some() && !g.link.allow_download {
        return Err(ApiError::new(Code::AuthForbidden).into());
    }
    let name = format!("{}.mp4", v.label.replace(' ', "_"));
    let mut r = crate::api::media::blob_answer(
        &state,
        &hash,
        size,
        "video/mp4",
        download.then_some(name.as_str()),
        &headers,
    )
    .await?;
    if !download {
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("inline"),
        );
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

#[derive(Deserialize)]
struct LinkForm {
    csrf: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    download: Option<String>,
}

/// A link made from the playlist's page: the page again, with its address to send.
async fn make_link(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(playlist_id): Path<Uuid>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LinkForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    super::super::tracking::need(&cx, mstation_core::Permission::PlanProduction)?;
    let refused = |e: ApiError| {
        let (state, cx) = (&state, &cx);
        async move {
            let status = e.status();
            let flash = super::super::tracking::flash_of(e);
            let page = super::super::tracking::playlist_page_with(
                state,
                cx,
                playlist_id,
                Some(flash),
                None,
            );
            super::super::tracking::answered(page.await, status)
        }
    };
    let days = match f.days.trim() {
        "" => 7,
        d => match d.parse::<i64>() {
            Ok(n) if (1..=90).contains(&n) => n,
            _ => return refused(ApiError::invalid("days", "share_too_long")).await,
        },
    };
    let expires_at = mstation_store::now_ms() + days * 86_400_000;
    let made = state
        .store
        .tenant(&cx.scope)
        .create_share_link(
            playlist_id,
            &f.recipient,
            Some(f.password.as_str()).filter(|p| !p.is_empty()),
            f.download.is_some(),
            expires_at,
        )
        .await;
    match made {
        // The playlist's page again (a reload makes no second link), the address shown there
        // once, as this browser reaches the platform (the form's `Origin`).
        Ok(made) => {
            let origin = headers
                .get(header::ORIGIN)
                .and_then(|h| h.to_str().ok())
                .filter(|o| o.starts_with("http://") || o.starts_with("https://"))
                .filter(|o| {
                    o.bytes()
                        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
                })
                .unwrap_or("");
            let url = format!("{origin}/share/{}", made.token);
            let mut r =
                Redirect::to(&format!("/app/playlists/{playlist_id}#share")).into_response();
            let secure = if state.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{SHARED}={}|{url}; Path=/app/playlists/{playlist_id}; Max-Age=300; HttpOnly; SameSite=Strict{secure}",
                made.link.id
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(ApiError::from(e).into()),
        Err(e) => refused(ApiError::from(e)).await,
    }
}

/// The cookie that carries a link just made to the playlist's page, once.
const SHARED: &str = "mstation_shared";

/// The link just made and its address, when the request carries them.
pub(in crate::pages) fn shared_once(headers: &HeaderMap) -> Option<(Uuid, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SHARED)
        .and_then(|(_, v)| v.split_once('|'))
        .and_then(|(id, url)| Some((id.parse().ok()?, url.to_string())))
}

/// Forgets the link just made once its page was drawn, and keeps that page out of caches.
pub(in crate::pages) fn forget_shared(page: &mut Response, playlist_id: Uuid) {
    let h = page.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SHARED}=; Path=/app/playlists/{playlist_id}; Max-Age=0; HttpOnly; SameSite=Strict"
    )) {
        h.insert(header::SET_COOKIE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
}

async fn revoke_link(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(link_id): Path<Uuid>,
    axum::Form(f): axum::Form<RevokeForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    super::super::tracking::need(&cx, mstation_core::Permission::PlanProduction)?;
    let link = state
        .store
        .tenant(&cx.scope)
        .revoke_share_link(link_id)
        .await
        .map_err(ApiError::from)?;
    Ok(Redirect::to(&format!("/app/playlists/{}#share", link.playlist_id)).into_response())
}

/// Asks again for the link's copies that could not be made, and goes back to its playlist.
async fn remake_copies(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(link_id): Path<Uuid>,
    axum::Form(f): axum::Form<RevokeForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    super::super::tracking::need(&cx, mstation_core::Permission::PlanProduction)?;
    let store = state.store.tenant(&cx.scope);
    store
        .remake_share_copies(link_id)
        .await
        .map_err(ApiError::from)?;
    let link = store.share_link(link_id).await.map_err(ApiError::from)?;
    Ok(Redirect::to(&format!("/app/playlists/{}#share", link.playlist_id)).into_response())
}

/// A time in a copy as a guest reads it: `0:01.250`.
fn clock(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}.{:03}", s / 60, s % 60, ms % 1000)
}

#[derive(Deserialize)]
struct GuestNoteForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    at: String,
}

/// A guest's note on the version played, where the copy stood: held with production, shown
/// back to the guest under the player.
async fn guest_note(
    AxState(state): AxState<State>,
    ClientIp(ip): ClientIp,
    Path((token, version_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<GuestNoteForm>,
) -> PageResult {
    let g = match open(&state, &token).await {
        Ok(g) => g,
        Err(page) => return page,
    };
    if !has_pass(&headers, &token, &g) {
        return Ok(Redirect::to(&format!("/share/{token}")).into_response());
    }
    // Ten a minute from an address and through a link: enough to review, too few to flood.
    for key in [
        format!("guest-note-ip:{ip}"),
        format!("guest-note:{}", g.link.id),
    ] {
        if let Err(wait) = state.login_limiter.check(&key) {
            let e = ApiError::new(Code::AuthTooManyAttempts).arg("wait", wait);
            let flash = ("error".to_string(), e.page_detail());
            let mut r = page_of(&state, &token, &g, Some(version_id), Some(flash)).await?;
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return Ok(r);
        }
    }
    let at = match f.at.trim() {
        "" => 0,
        t => t.parse::<i64>().unwrap_or(-1),
    };
    match state
        .store
        .platform()
        .add_guest_note(g.org_id, g.link.id, version_id, at, &f.body)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/share/{token}/{version_id}#notes")).into_response()),
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(ApiError::from(e).into()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            let flash = ("error".to_string(), e.page_detail());
            let mut r = page_of(&state, &token, &g, Some(version_id), Some(flash)).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: String,
}

/// A guest's note published to the team from the playlist's page.
async fn publish_note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(guest_note_id): Path<Uuid>,
    axum::Form(f): axum::Form<PublishForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    super::super::tracking::need(&cx, mstation_core::Permission::PlanProduction)?;
    let (held, _) = crate::api::media::share::publish(&state, &cx.scope, guest_note_id).await?;
    let link = state
        .store
        .tenant(&cx.scope)
        .share_link(held.link_id)
        .await
        .map_err(ApiError::from)?;
    Ok(Redirect::to(&format!("/app/playlists/{}#share", link.playlist_id)).into_response())
}
