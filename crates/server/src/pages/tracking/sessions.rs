//! Review sessions in the browser: a playlist played together in the review player. The page is
//! the player on the version the session is on, opened where the presenter is, with the
//! session's bar above it (its items, who presents, taking over and ending, the log and the
//! report). `assets/session.js` follows the presenter's playhead through the session's stream,
//! or, for the presenter, sends each move; the page itself only reads. A session is started
//! from its playlist's page (`POST /app/playlists/{id}/sessions`).

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use serde::Deserialize;
use uuid::Uuid;

use super::player::{Opened, first_frame_of, player_page};
use super::{answered, flash_of, need, people};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::{Ctx, PageResult, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/playlists/{playlist_id}/sessions", post(start))
        .route("/app/review-sessions/{session_id}", get(session_page))
}

/// The bar of a session above its player.
pub(in crate::pages) struct SessionBar {
    pub id: String,
    pub playlist_id: String,
    pub name: String,
    /// "Huang Jun presents", or that the viewer does, or that it has ended.
    pub who: String,
    pub presenting: bool,
    pub ended: bool,
    /// The playlist's items: their label and whether the session is on it.
    pub items: Vec<(String, bool)>,
    pub may_present: bool,
    pub may_end: bool,
    /// What `assets/session.js` reads: the session as it is, and the words it says.
    pub data: String,
}

#[derive(Deserialize)]
struct StartForm {
    csrf: String,
}

/// Starts a session of the playlist, the viewer presenting, and opens it.
async fn start(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(playlist_id): Path<Uuid>,
    axum::Form(f): axum::Form<StartForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::WriteProduction)?;
    let store = state.store.tenant(&cx.scope);
    let list = store.playlist(playlist_id).await?;
    let first = match list.items.first() {
        Some(i) => first_frame_of(&store, i.version_id).await?,
        None => 0,
    };
    match store.start_review_session(playlist_id, first).await {
        Ok(s) => {
            crate::api::tracking::sessions::announce(&state, &s);
            Ok(Redirect::to(&format!("/app/review-sessions/{}", s.id)).into_response())
        }
        Err(e @ mstation_store::StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            let page = super::review::playlist_view(&state, &cx, playlist_id, Some(flash_of(e)));
            answered(page.await, status)
        }
    }
}

async fn session_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(session_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    session_view(&state, &cx, session_id, None, String::new()).await
}

/// A session's page: the player on the version it is on, where the presenter is, with `flash`
/// said and a refused note `typed` back in its form.
pub(in crate::pages) async fn session_view(
    state: &State,
    cx: &Ctx,
    session_id: Uuid,
    flash: Option<(String, String)>,
    typed: String,
) -> PageResult {
    need(cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let s = store.review_session(session_id).await?;
    let list = store.playlist(s.playlist_id).await?;
    // A playlist made shorter since: its first version.
    let Some(version_id) = s
        .version_id
        .or_else(|| list.items.first().map(|i| i.version_id))
    else {
        return Ok(Redirect::to(&format!("/app/playlists/{}", s.playlist_id)).into_response());
    };
    let at = Opened {
        frame: Some(s.playhead.frame),
        compare: None,
        session: Some(session_id),
    };
    let mut page = player_page(state, cx, version_id, at, flash, typed).await?;
    let me = cx.scope.user_id;
    let presenting =
        s.presenter_id == me && s.ended_at.is_none() && cx.scope.can(Permission::Review);
    let may_present = cx.scope.can(Permission::WriteProduction);
    let names: std::collections::HashMap<Uuid, String> =
        people(state, cx).await?.into_iter().collect();
    let presenter = names
        .get(&s.presenter_id)
        .cloned()
        .unwrap_or_else(|| i18n::text("someone"));
    let mut items = Vec::with_capacity(list.items.len());
    // The first frame of each item, for a presenter to move the session to it.
    let mut firsts = Vec::new();
    for (i, item) in list.items.iter().enumerate() {
        let label = super::player::version_label(&store, item.version_id).await?;
        items.push((label, i as i64 == s.playhead.item));
        if presenting {
            firsts.push(first_frame_of(&store, item.version_id).await?);
        }
    }
    let who = match (s.ended_at.is_some(), presenting) {
        (true, _) => i18n::text("session-ended"),
        (false, true) => i18n::text("session-you-present"),
        (false, false) => i18n::text_args("session-presents", &[("name", presenter.into())]),
    };
    // Where the session is: its playlist may have grown shorter since (then on its first item,
    // which the presenter's next move makes so).
    let mut state = s.clone();
    if state.version_id != Some(version_id) {
        state.playhead.item = 0;
        state.version_id = Some(version_id);
    }
    let data = serde_json::json!({
        "id": session_id,
        "presenting": presenting,
        "ended": s.ended_at.is_some(),
        "state": crate::api::tracking::sessions::now_of(state),
        "firsts": firsts,
        "csrf": cx.csrf,
        "texts": {
            "live": i18n::text("session-live"),
            "lost": i18n::text("session-lost"),
            "refused": i18n::text("session-refused"),
        },
    });
    page.session = Some(SessionBar {
        id: session_id.to_string(),
        playlist_id: s.playlist_id.to_string(),
        name: s.name.clone(),
        who,
        presenting,
        ended: s.ended_at.is_some(),
        items,
        may_present: may_present && !presenting && s.ended_at.is_none(),
        data: super::script_json(&data),
        may_end: s.ended_at.is_none()
            && (s.presenter_id == me
                || s.started_by == me
                || cx.scope.can(Permission::PlanProduction)),
    });
    html(page)
}
