//! Review sessions in the browser: a playlist played together in the review player. The page is
//! the player on the version the session is on, opened where the presenter is, with the
//! session's bar above it (its items, who presents, taking over and ending, the log and the
//! report). `assets/session.js` follows the presenter's playhead through the session's stream,
//! or, for the presenter, sends each move; the page itself only reads. A session is started
//! from its playlist's page (`POST /app/playlists/{id}/sessions`). Its report
//! (`/app/review-sessions/{id}/report`) is a printable page: who presented and took part, each
//! note written in it with its frame painted and its drawing over it (`assets/report.js`), and
//! the session's log.

use askama::Template;
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
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/playlists/{playlist_id}/sessions", post(start))
        .route("/app/review-sessions/{session_id}", get(session_page))
        .route("/app/review-sessions/{session_id}/report", get(report_page))
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

// ---------------------------------------------------------------------------------------------
// The report

/// A note of the report: where it is, who wrote what, and the frame painted when its file holds it.
struct ReportNote {
    /// "2 · SQ010_0010 · Compositing v001".
    on: String,
    /// "Frame 1037", "Frames 1037–1040", or empty for a note on no frame.
    frames: String,
    author: String,
    when: String,
    body: String,
    /// The index of its picture in the report's data, when painted.
    figure: Option<usize>,
    drawn: bool,
}

/// A line of the log as the report shows it.
struct ReportLine {
    when: String,
    who: String,
    what: String,
    version: String,
    frame: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "session_report.html")]
struct ReportPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    id: String,
    playlist_id: String,
    name: String,
    /// "Started by Huang Jun on …, ended on …".
    said: String,
    presenters: String,
    participants: String,
    notes: Vec<ReportNote>,
    lines: Vec<ReportLine>,
    data: String,
}

async fn report_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(session_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    need(&cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let log = store.review_session_log(session_id).await?;
    let s = &log.session;
    let list = store.playlist(s.playlist_id).await?;
    let names: std::collections::HashMap<Uuid, String> =
        people(&state, &cx).await?.into_iter().collect();
    let name = |id: &Uuid| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| i18n::text("someone"))
    };
    // Versions named and placed once each: their label and where their frames are.
    let mut labels: std::collections::HashMap<Uuid, String> = Default::default();
    let mut reels: std::collections::HashMap<Uuid, super::player::ProxyFrames> = Default::default();
    for v in log
        .events
        .iter()
        .filter_map(|e| e.version_id)
        .chain(list.items.iter().map(|i| i.version_id))
    {
        if let std::collections::hash_map::Entry::Vacant(e) = labels.entry(v) {
            e.insert(super::player::version_label(&store, v).await?);
        }
    }
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let mut said_notes: Vec<&mstation_store::tracking::sessions::SessionEvent> =
        log.events.iter().filter(|e| e.kind == "note").collect();
    said_notes.sort_by_key(|e| (e.item, e.frame, e.at.0));
    for e in said_notes {
        let Some(note) = log.notes.iter().find(|n| Some(n.id) == e.note_id) else {
            continue;
        };
        // A note on a task is on the version of it the playlist holds.
        let version = e.version_id.or_else(|| {
            e.item
                .and_then(|i| list.items.get(i as usize))
                .map(|i| i.version_id)
        });
        let on = match (e.item, version.and_then(|v| labels.get(&v))) {
            (Some(i), Some(l)) => format!("{} · {l}", i + 1),
            (None, Some(l)) => l.clone(),
            _ => String::new(),
        };
        let frames = match (note.frame, note.frame_out) {
            (Some(a), Some(b)) => format!("{} {a}–{b}", i18n::text("field-frames")),
            (Some(a), None) => format!("{} {a}", i18n::text("field-frame")),
            _ => String::new(),
        };
        let mut figure = None;
        if let (Some(v), Some(f)) = (version, note.frame) {
            if let std::collections::hash_map::Entry::Vacant(slot) = reels.entry(v) {
                slot.insert(super::player::proxy_frames(&store, v).await?);
            }
            let r = &reels[&v];
            let at = f - r.first;
            if let Some(proxy) = r.proxy.as_ref().filter(|_| (0..r.count).contains(&at)) {
                figure = Some(figures.len());
                figures.push(serde_json::json!({
                    "proxy": proxy,
                    "fps": r.fps,
                    "at": at,
                    "shapes": note.drawing,
                }));
            }
        }
        notes.push(ReportNote {
            on,
            frames,
            author: name(&note.author_id),
            when: cx.time(note.created_at.0),
            body: note.body.clone(),
            figure,
            drawn: note.drawing.is_some(),
        });
    }
    let mut presenters: Vec<String> = Vec::new();
    let mut participants: Vec<String> = Vec::new();
    for e in &log.events {
        let who = name(&e.actor_id);
        let list = match e.kind.as_str() {
            "started" | "presenter" => &mut presenters,
            "joined" | "note" => &mut participants,
            _ => continue,
        };
        if !list.contains(&who) {
            list.push(who);
        }
    }
    // Who came and went is said once above ("took part"); the table tells what was played.
    let lines = log
        .events
        .iter()
        .filter(|e| !matches!(e.kind.as_str(), "joined" | "left"))
        .map(|e| ReportLine {
            when: cx.time(e.at.0),
            who: name(&e.actor_id),
            what: i18n::text(&format!("session-kind-{}", e.kind)),
            version: e
                .version_id
                .and_then(|v| labels.get(&v).cloned())
                .unwrap_or_default(),
            frame: match (e.frame, e.frame_out) {
                (Some(a), Some(b)) => format!("{a}–{b}"),
                (Some(a), None) => a.to_string(),
                _ => String::new(),
            },
            detail: e.detail.clone().unwrap_or_default(),
        })
        .collect();
    let mut args = vec![
        ("name", name(&s.started_by).into()),
        ("when", cx.time(s.started_at.0).into()),
    ];
    let said = match s.ended_at {
        Some(end) => {
            args.push(("end", cx.time(end.0).into()));
            i18n::text_args("session-report-ended", &args)
        }
        None => i18n::text_args("session-report-running", &args),
    };
    html(ReportPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash: None,
        id: session_id.to_string(),
        playlist_id: s.playlist_id.to_string(),
        name: s.name.clone(),
        said,
        presenters: presenters.join(", "),
        participants: participants.join(", "),
        notes,
        lines,
        data: super::script_json(&serde_json::json!({ "figures": figures })),
    })
}
