//! Review: a project's playlists of versions, made, filled and put in order through forms; the
//! feed of notes that mention the viewer; and the note forms on assets and on versions, with
//! the note rows the asset page and the task page share (`note_rows`, `note_thread.html`).
//!
//! The store writes a playlist's items whole. Each item form carries the playlist version the
//! page showed, so a second click, or a change someone made meanwhile, is refused and the page
//! shown as it is now, rather than applied to a list the viewer never saw.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::tracking::drawing::Shape;
use mstation_store::tracking::Project;
use mstation_store::tracking::notes::{Note, NoteOn, OnFrames};
use mstation_store::tracking::tasks::{TaskStatus, TaskType};
use mstation_store::tracking::versions::Playlist;
use mstation_store::{ListQuery, StoreError, Tenant};
use serde::Deserialize;
use uuid::Uuid;

use super::{FeedQuery, Typed, answered, flash_of, named_statuses, named_steps, need, people};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;
use crate::pages::{Ctx, Nav, PageError, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route(
        "/app/projects/{project_id}/playlists",
        get(playlists).post(create_playlist),
    )
    .route("/app/playlists/{playlist_id}", get(playlist_page))
    .route("/app/playlists/{playlist_id}/items", post(playlist_items))
    .route("/app/mentions", get(mentions))
    .route("/app/assets/{asset_id}/notes", post(asset_note))
    .route("/app/versions/{version_id}/notes", post(version_note))
    .route("/app/notes/{note_id}/publish", post(publish_note))
}

/// How many playlists, and how many mentions, one page lists.
const PAGE: u32 = 50;

/// The most recent versions a playlist's add form offers.
const RECENT_VERSIONS: usize = 60;

/// Who someone is, by id; "Someone" for a former member.
fn name_of(names: &HashMap<Uuid, String>, id: Uuid) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| i18n::text("someone"))
}

async fn names(state: &State, cx: &Ctx) -> Result<HashMap<Uuid, String>, PageError> {
    Ok(people(state, cx).await?.into_iter().collect())
}

/// `?cursor=` as a list query, newest first; a cursor this page did not make is said in the
/// page, which then starts from the top.
fn newest_first(cursor: Option<&str>) -> (ListQuery, Option<(String, String)>) {
    match crate::extract::list_query(Some(PAGE), cursor, Some("-created_at")) {
        Ok(q) => (q, None),
        Err(_) => (
            ListQuery {
                limit: PAGE,
                descending: true,
                ..Default::default()
            },
            Some(("error".into(), i18n::text("review-bad-cursor"))),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Notes on assets and versions

/// A note as a thread shows it (`note_thread.html`), oldest first.
pub(super) struct NoteRow {
    pub id: Uuid,
    pub author: String,
    pub when: String,
    pub body: String,
    pub frame: Option<i64>,
    /// The last frame of its range, and whether something was drawn with it.
    pub frame_out: Option<i64>,
    pub drawn: bool,
    pub reply: bool,
    /// A client's note held with production; `publish`: the viewer may publish it.
    pub held: bool,
    pub publish: bool,
}

/// Notes as a thread shows them, named and timed for the viewer.
pub(super) fn note_rows(notes: Vec<Note>, names: &HashMap<Uuid, String>, cx: &Ctx) -> Vec<NoteRow> {
    notes
        .into_iter()
        .map(|n| NoteRow {
            id: n.id,
            held: n.held,
            publish: n.held && cx.scope.can(Permission::PlanProduction),
            author: name_of(names, n.author_id),
            when: cx.time(n.created_at.0),
            body: n.body,
            frame: n.frame,
            frame_out: n.frame_out,
            drawn: n.drawing.is_some(),
            reply: n.parent_id.is_some(),
        })
        .collect()
}

#[derive(Deserialize)]
pub(super) struct NoteForm {
    pub(super) csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    frame: String,
    /// The last frame of the range the note is on, and what was drawn on its frame.
    #[serde(default)]
    frame_out: String,
    #[serde(default)]
    drawing: String,
    /// The version the player compared with, which it goes back to.
    #[serde(default)]
    compare: String,
    /// `review`: the note was written in the review player, which it goes back to.
    #[serde(default)]
    back: String,
    /// The review session the player played in, whose page it goes back to.
    #[serde(default)]
    session: String,
}

/// The optional frame of a note form: empty is none; anything but a whole number is refused.
fn note_frame(typed: &str) -> Result<Option<i64>, ApiError> {
    match typed.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::invalid("frame", "not_a_number")),
    }
}

/// Where a note of a form is: its frame, the last of its range and its drawing (the shapes as
/// JSON, as the review player writes them); empty fields are none.
pub(super) fn note_at(frame: &str, frame_out: &str, drawing: &str) -> Result<OnFrames, ApiError> {
    let frame_out = match frame_out.trim() {
        "" => None,
        s => Some(
            s.parse::<i64>()
                .map_err(|_| ApiError::invalid("frame_out", "not_a_number"))?,
        ),
    };
    let drawing = match drawing.trim() {
        "" => None,
        s => Some(
            serde_json::from_str::<Vec<Shape>>(s)
                .map_err(|_| ApiError::invalid("drawing", "not_a_drawing"))?,
        ),
    };
    Ok(OnFrames {
        frame: note_frame(frame)?,
        frame_out,
        drawing,
    })
}

impl NoteForm {
    /// The form as typed, to show again when the note was refused.
    pub(super) fn typed(&self) -> super::NoteTyped {
        super::NoteTyped {
            body: self.body.clone(),
            frame: self.frame.clone(),
            status_id: String::new(),
        }
    }
}

/// Publishes a client's held note to the team, and goes back to what it is on.
async fn publish_note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(note_id): Path<Uuid>,
    axum::Form(f): axum::Form<super::CsrfOnly>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::PlanProduction)?;
    let note = state.store.tenant(&cx.scope).publish_note(note_id).await?;
    let back = match (note.version_id, note.task_id, note.shot_id, note.asset_id) {
        (Some(v), ..) => format!("/app/versions/{v}/review"),
        (_, Some(t), ..) => format!("/app/tasks/{t}"),
        (_, _, Some(s), _) => format!("/app/shots/{s}"),
        (_, _, _, Some(a)) => format!("/app/assets/{a}"),
        _ => format!("/app/projects/{}", note.project_id),
    };
    Ok(Redirect::to(&back).into_response())
}

/// Writes the note of a form on a shot, an asset or a version.
pub(super) async fn write_note(
    state: &State,
    cx: &Ctx,
    on: NoteOn,
    f: &NoteForm,
) -> Result<Note, ApiError> {
    let at = note_at(&f.frame, &f.frame_out, &f.drawing)?;
    Ok(state
        .store
        .tenant(&cx.scope)
        .add_entity_note(on, &f.body, at, None)
        .await?)
}

async fn asset_note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(asset_id): Path<Uuid>,
    axum::Form(f): axum::Form<NoteForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::Review)?;
    match write_note(&state, &cx, NoteOn::Asset(asset_id), &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/assets/{asset_id}#notes")).into_response()),
        Err(e) if e.status() == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            let page =
                super::assets::asset_view(&state, &cx, asset_id, Some(flash_of(e)), f.typed());
            answered(page.await, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn version_note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(version_id): Path<Uuid>,
    axum::Form(f): axum::Form<NoteForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::Review)?;
    let version = state.store.tenant(&cx.scope).version(version_id).await?;
    let task_id = version.task_id;
    match write_note(&state, &cx, NoteOn::Version(version_id), &f).await {
        // Back in the player, on the frame the note is on.
        Ok(_) if f.back == "review" => {
            let at = super::player::Opened::read(&f.frame, &f.compare).in_session(&f.session);
            Ok(Redirect::to(&at.href(version_id)).into_response())
        }
        Ok(_) => {
            Ok(Redirect::to(&format!("/app/tasks/{task_id}#version-{version_id}")).into_response())
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => Err(e.into()),
        // Refused in the player: said there, the note as typed, on its frame.
        Err(e) if f.back == "review" => {
            let at = super::player::Opened::read(&f.frame, &f.compare).in_session(&f.session);
            let page = super::player::player_view(
                &state,
                &cx,
                version_id,
                at,
                Some(flash_of(e)),
                f.body.clone(),
            );
            answered(page.await, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => {
            let typed = Typed {
                version_note: Some((version_id, f.typed())),
                ..Typed::default()
            };
            let page = super::task_view(&state, &cx, task_id, Some(flash_of(e)), typed);
            answered(page.await, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What a version is of

/// A task as the review pages name it: its shot or asset (with a link), its step and status.
#[derive(Clone, Default)]
struct TaskLabel {
    subject: String,
    link: Option<String>,
    step: String,
    status: String,
    color: String,
}

/// Names tasks, reading each task, shot and asset once however many versions or notes name it.
struct Labels<'a> {
    store: Tenant<'a>,
    /// A project's steps and statuses in the viewer's language, by project.
    projects: HashMap<Uuid, (Vec<TaskType>, Vec<TaskStatus>)>,
    tasks: HashMap<Uuid, TaskLabel>,
    shots: HashMap<Uuid, String>,
    assets: HashMap<Uuid, String>,
}

impl<'a> Labels<'a> {
    fn new(store: Tenant<'a>) -> Self {
        Labels {
            store,
            projects: HashMap::new(),
            tasks: HashMap::new(),
            shots: HashMap::new(),
            assets: HashMap::new(),
        }
    }

    /// A task's label; empty when the task is gone.
    async fn task(&mut self, id: Uuid) -> Result<TaskLabel, StoreError> {
        if let Some(l) = self.tasks.get(&id) {
            return Ok(l.clone());
        }
        let task = match self.store.task(id).await {
            Ok(t) => t,
            Err(StoreError::NotFound { .. }) => return Ok(TaskLabel::default()),
            Err(e) => return Err(e),
        };
        let (types, statuses) = match self.projects.entry(task.project_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let types = named_steps(self.store.task_types(task.project_id).await?);
                let statuses = named_statuses(self.store.task_statuses(task.project_id).await?);
                v.insert((types, statuses))
            }
        };
        let step = types
            .iter()
            .find(|t| t.id == task.task_type_id)
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let status = statuses.iter().find(|s| s.id == task.status_id);
        let (status, color) = status
            .map(|s| (s.name.clone(), s.color.clone()))
            .unwrap_or_default();
        let (subject, link) = match (task.shot_id, task.asset_id) {
            (Some(s), _) => (self.shot(s).await?, Some(format!("/app/shots/{s}"))),
            (None, Some(a)) => (self.asset(a).await?, Some(format!("/app/assets/{a}"))),
            (None, None) => (String::new(), None),
        };
        let label = TaskLabel {
            subject,
            link,
            step,
            status,
            color,
        };
        self.tasks.insert(id, label.clone());
        Ok(label)
    }

    async fn shot(&mut self, id: Uuid) -> Result<String, StoreError> {
        if let Some(n) = self.shots.get(&id) {
            return Ok(n.clone());
        }
        let name = match self.store.shot(id).await {
            Ok(s) => s.name,
            Err(StoreError::NotFound { .. }) => String::new(),
            Err(e) => return Err(e),
        };
        self.shots.insert(id, name.clone());
        Ok(name)
    }

    async fn asset(&mut self, id: Uuid) -> Result<String, StoreError> {
        if let Some(n) = self.assets.get(&id) {
            return Ok(n.clone());
        }
        let name = match self.store.asset(id).await {
            Ok(a) => a.name,
            Err(StoreError::NotFound { .. }) => String::new(),
            Err(e) => return Err(e),
        };
        self.assets.insert(id, name.clone());
        Ok(name)
    }
}

/// "SQ010_0010 · Layout": a task's shot or asset and its step.
fn subject_and_step(l: &TaskLabel) -> String {
    match (l.subject.is_empty(), l.step.is_empty()) {
        (false, false) => format!("{} · {}", l.subject, l.step),
        (false, true) => l.subject.clone(),
        _ => l.step.clone(),
    }
}

fn version_number(n: i64) -> String {
    format!("v{n:03}")
}

// ---------------------------------------------------------------------------------------------
// A project's playlists

struct PlaylistRow {
    id: String,
    name: String,
    items: String,
    when: String,
    by: String,
}

#[derive(Template)]
#[template(path = "playlists.html")]
struct PlaylistsPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    rows: Vec<PlaylistRow>,
    total: i64,
    more: Option<String>,
    /// What was typed in the create form, when it came back.
    name: String,
    can_write: bool,
}

fn item_count(n: i64) -> String {
    i18n::text_args("playlist-item-count", &[("count", n.into())])
}

async fn playlists_view(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    cursor: Option<&str>,
    flash: Option<(String, String)>,
    name: String,
) -> PageResult {
    need(cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let project = store.project(project_id).await?;
    let (q, bad_cursor) = newest_first(cursor);
    let page = store.playlists(project_id, &q).await?;
    let names = names(state, cx).await?;
    let rows = page
        .items
        .iter()
        .map(|p| PlaylistRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            items: item_count(p.item_count),
            when: cx.time(p.created_at.0),
            by: name_of(&names, p.created_by),
        })
        .collect();
    let page_result = html(PlaylistsPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash: flash.or_else(|| bad_cursor.clone()),
        csrf: cx.csrf.clone(),
        project,
        rows,
        total: page.total,
        more: page.next_cursor,
        name,
        can_write: cx.scope.can(Permission::WriteProduction),
    });
    if bad_cursor.is_some() {
        answered(page_result, StatusCode::BAD_REQUEST)
    } else {
        page_result
    }
}

async fn playlists(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    Query(fq): Query<FeedQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    playlists_view(
        &state,
        &cx,
        project_id,
        fq.cursor.as_deref(),
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
struct PlaylistForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn create_playlist(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<PlaylistForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    // As the API: writing playlists is production work.
    need(&cx, Permission::WriteProduction)?;
    match state
        .store
        .tenant(&cx.scope)
        .create_playlist(project_id, &f.name, &[])
        .await
    {
        Ok(p) => Ok(Redirect::to(&format!("/app/playlists/{}", p.playlist.id)).into_response()),
        Err(e @ StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => answered(
            playlists_view(&state, &cx, project_id, None, Some(flash_of(e)), f.name).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// One playlist

/// One version of the playlist, in play order.
struct ItemRow {
    version_id: String,
    task_id: String,
    position: usize,
    subject: String,
    subject_link: Option<String>,
    step: String,
    number: String,
    comment: String,
    author: String,
    when: String,
    status: String,
    color: String,
    first: bool,
    last: bool,
    /// The move and remove buttons' words for a screen reader, naming the version.
    up_label: String,
    down_label: String,
    remove_label: String,
}

#[derive(Template)]
#[template(path = "playlist.html")]
struct PlaylistPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    playlist: Playlist,
    count: String,
    /// "Made by Li Na on 2026-05-01 10:20".
    made: String,
    items: Vec<ItemRow>,
    /// The project's recent versions not in the playlist: (version id, label).
    choices: Vec<(String, String)>,
    can_write: bool,
    /// Its review sessions, newest first.
    sessions: Vec<SessionRow>,
    /// Its share links, for those who make and revoke them; a link just made (recipient,
    /// address), shown this once.
    can_share: bool,
    links: Vec<LinkRow>,
    shared: Option<(String, String)>,
}

/// A share link as the playlist's page lists it.
struct LinkRow {
    id: String,
    recipient: String,
    /// "until 2026-12-13 10:00 · password · downloads".
    said: String,
    live: bool,
    /// Its guest's notes: id, "SQ010_0010 v003 · 0:01.250", the words, whether published.
    notes: Vec<(String, String, String, bool)>,
    /// How its copies stand ("2 of 3 copies ready · 1 could not be made"), and how many failed.
    copies: String,
    failed: usize,
}

/// A review session of a playlist, as its page lists it.
struct SessionRow {
    id: String,
    live: bool,
    /// "Started by Huang Jun on 2026-12-06 10:00, running" (or ended).
    said: String,
}

/// A version the add form offers.
struct Recent {
    id: Uuid,
    task_id: Uuid,
    number: i64,
    author: Uuid,
    at: i64,
}

/// The project's latest versions, newest first: at most `RECENT_VERSIONS`.
async fn recent_versions(store: &Tenant<'_>, project_id: Uuid) -> Result<Vec<Recent>, StoreError> {
    Ok(store
        .latest_versions(project_id, RECENT_VERSIONS as u32)
        .await?
        .into_iter()
        .map(|v| Recent {
            id: v.id,
            task_id: v.task_id,
            number: v.number,
            author: v.author_id,
            at: v.created_at.0,
        })
        .collect())
}

pub(super) async fn playlist_view(
    state: &State,
    cx: &Ctx,
    playlist_id: Uuid,
    flash: Option<(String, String)>,
) -> PageResult {
    playlist_view_shared(state, cx, playlist_id, flash, None).await
}

/// The playlist's page, with the address of a share link just made, to send (shown only now).
pub(in crate::pages) async fn playlist_view_shared(
    state: &State,
    cx: &Ctx,
    playlist_id: Uuid,
    flash: Option<(String, String)>,
    shared: Option<(String, String)>,
) -> PageResult {
    need(cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let found = store.playlist(playlist_id).await?;
    let project = store.project(found.playlist.project_id).await?;
    let names = names(state, cx).await?;
    let mut labels = Labels::new(state.store.tenant(&cx.scope));
    let total = found.items.len();
    let mut items = Vec::with_capacity(total);
    for (i, item) in found.items.iter().enumerate() {
        let version = store.version(item.version_id).await?;
        let label = labels.task(item.task_id).await?;
        let named = format!(
            "{} {}",
            subject_and_step(&label),
            version_number(item.number)
        );
        let said = |key: &str| i18n::text_args(key, &[("version", named.clone().into())]);
        items.push(ItemRow {
            version_id: item.version_id.to_string(),
            task_id: item.task_id.to_string(),
            position: i + 1,
            subject: label.subject,
            subject_link: label.link,
            step: label.step,
            number: version_number(item.number),
            comment: item.comment.clone(),
            author: name_of(&names, version.author_id),
            when: cx.time(version.created_at.0),
            status: label.status,
            color: label.color,
            first: i == 0,
            last: i + 1 == total,
            up_label: said("playlist-move-up"),
            down_label: said("playlist-move-down"),
            remove_label: said("playlist-remove"),
        });
    }
    let can_write = cx.scope.can(Permission::WriteProduction);
    let mut choices = Vec::new();
    if can_write {
        let shown: Vec<Uuid> = found.items.iter().map(|i| i.version_id).collect();
        for r in recent_versions(&store, project.id).await? {
            if shown.contains(&r.id) {
                continue;
            }
            let label = labels.task(r.task_id).await?;
            let who = name_of(&names, r.author);
            choices.push((
                r.id.to_string(),
                format!(
                    "{} · {} · {} · {}",
                    subject_and_step(&label),
                    version_number(r.number),
                    who,
                    cx.time(r.at)
                ),
            ));
        }
    }
    let sessions = store
        .review_sessions(playlist_id)
        .await?
        .into_iter()
        .map(|s| {
            let args = [
                ("name", name_of(&names, s.started_by).into()),
                ("when", cx.time(s.started_at.0).into()),
            ];
            let key = match s.ended_at {
                None => "playlist-session-live",
                Some(_) => "playlist-session-ended",
            };
            SessionRow {
                id: s.id.to_string(),
                live: s.ended_at.is_none(),
                said: i18n::text_args(key, &args),
            }
        })
        .collect();
    let can_share = cx.scope.can(Permission::PlanProduction);
    let mut links: Vec<LinkRow> = match can_share {
        false => Vec::new(),
        true => store
            .share_links(playlist_id)
            .await?
            .into_iter()
            .map(|l| {
                let mut said = vec![match (l.revoked_at, l.live) {
                    (Some(at), _) => {
                        i18n::text_args("share-link-revoked", &[("when", cx.time(at.0).into())])
                    }
                    (None, true) => i18n::text_args(
                        "share-link-until",
                        &[("when", cx.time(l.expires_at.0).into())],
                    ),
                    (None, false) => i18n::text_args(
                        "share-link-ran-out",
                        &[("when", cx.time(l.expires_at.0).into())],
                    ),
                }];
                if l.has_password {
                    said.push(i18n::text("share-link-password"));
                }
                if l.allow_download {
                    said.push(i18n::text("share-link-downloads"));
                }
                LinkRow {
                    id: l.id.to_string(),
                    recipient: l.recipient,
                    said: said.join(" · "),
                    live: l.live,
                    notes: Vec::new(),
                    copies: String::new(),
                    failed: 0,
                }
            })
            .collect(),
    };
    // What each link's guest wrote, on which version and where in it.
    let labels: HashMap<Uuid, String> = found
        .items
        .iter()
        .zip(&items)
        .map(|(i, row)| (i.version_id, format!("{} {}", row.subject, row.number)))
        .collect();
    // How each link's copies stand, in one read.
    if can_share {
        // Per link: ready, in all, failed.
        let mut counts: HashMap<String, (usize, usize, usize)> = HashMap::new();
        for c in store.playlist_share_copies(playlist_id).await? {
            let n = counts.entry(c.link_id.to_string()).or_default();
            n.0 += usize::from(c.made);
            n.1 += 1;
            n.2 += usize::from(c.failed);
        }
        for l in &mut links {
            let (ready, total, failed) = counts.get(&l.id).copied().unwrap_or_default();
            l.failed = failed;
            l.copies = i18n::text_args(
                "share-copies",
                &[("ready", ready.into()), ("total", total.into())],
            );
            if l.failed > 0 {
                l.copies.push_str(" · ");
                l.copies.push_str(&i18n::text_args(
                    "share-copies-failed",
                    &[("failed", l.failed.into())],
                ));
            }
        }
    }
    let mut by_link: HashMap<Uuid, Vec<mstation_store::media::share::GuestNote>> = HashMap::new();
    if can_share {
        for n in store.playlist_guest_notes(playlist_id).await? {
            by_link.entry(n.link_id).or_default().push(n);
        }
    }
    for l in &mut links {
        let Some(notes) = l.id.parse::<Uuid>().ok().and_then(|id| by_link.remove(&id)) else {
            continue;
        };
        l.notes = notes
            .into_iter()
            .map(|n| {
                let s = n.at_ms / 1000;
                let at = format!("{}:{:02}.{:03}", s / 60, s % 60, n.at_ms % 1000);
                let on = labels.get(&n.version_id).cloned().unwrap_or_default();
                (
                    n.id.to_string(),
                    format!("{on} · {at}"),
                    n.body,
                    n.published_at.is_some(),
                )
            })
            .collect();
    }
    let made = i18n::text_args(
        "playlist-made",
        &[
            ("name", name_of(&names, found.playlist.created_by).into()),
            ("when", cx.time(found.playlist.created_at.0).into()),
        ],
    );
    html(PlaylistPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        project,
        count: item_count(found.playlist.item_count),
        playlist: found.playlist,
        made,
        items,
        choices,
        can_write,
        sessions,
        can_share,
        links,
        shared,
    })
}

async fn playlist_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(playlist_id): Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    // A share link just made from this page: its address, this once (`pages/media/share.rs`).
    let Some((link, url)) = crate::pages::media::shared_once(&headers) else {
        return playlist_view(&state, &cx, playlist_id, None).await;
    };
    let recipient = match state.store.tenant(&cx.scope).share_link(link).await {
        Ok(l) if l.playlist_id == playlist_id && l.live => Some(l.recipient),
        _ => None,
    };
    let shared = recipient.map(|r| (r, url));
    let mut page = playlist_view_shared(&state, &cx, playlist_id, None, shared).await?;
    crate::pages::media::forget_shared(&mut page, playlist_id);
    Ok(page)
}

/// One change to a playlist's items: `add`, `remove`, `up` or `down` a version, made from the
/// playlist at version `seen`.
#[derive(Deserialize)]
struct ItemForm {
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    version_id: String,
    seen: Option<i64>,
}

async fn playlist_items(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(playlist_id): Path<Uuid>,
    axum::Form(f): axum::Form<ItemForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::WriteProduction)?;
    let store = state.store.tenant(&cx.scope);
    let current = store.playlist(playlist_id).await?;
    let refused = |flash: (String, String), status: StatusCode| {
        let (state, cx) = (&state, &cx);
        async move {
            answered(
                playlist_view(state, cx, playlist_id, Some(flash)).await,
                status,
            )
        }
    };
    let stale = || ("error".to_string(), i18n::text("playlist-stale"));
    let Ok(version) = Uuid::parse_str(f.version_id.trim()) else {
        let e = ApiError::invalid("version_id", "not_an_id");
        return refused(flash_of(e), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let seen = f.seen.unwrap_or(current.playlist.version);
    if seen != current.playlist.version {
        return refused(stale(), StatusCode::CONFLICT).await;
    }
    let mut items: Vec<Uuid> = current.items.iter().map(|i| i.version_id).collect();
    let at = items.iter().position(|v| *v == version);
    let back = format!("/app/playlists/{playlist_id}#item-{version}");
    match (f.action.as_str(), at) {
        ("add", None) => items.push(version),
        ("add", Some(_)) => {
            let flash = ("error".to_string(), i18n::text("playlist-already"));
            return refused(flash, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        ("remove", Some(i)) => {
            items.remove(i);
        }
        ("up", Some(i)) if i > 0 => items.swap(i, i - 1),
        ("down", Some(i)) if i + 1 < items.len() => items.swap(i, i + 1),
        // Already first or last: nothing to write.
        ("up" | "down", Some(_)) => return Ok(Redirect::to(&back).into_response()),
        // Not in the list the form was made from, at the version it was made from.
        ("remove" | "up" | "down", None) => return refused(stale(), StatusCode::CONFLICT).await,
        _ => {
            let e = ApiError::invalid("action", "unknown_value");
            return refused(flash_of(e), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    }
    match store
        .set_playlist_items(playlist_id, Some(seen), &items)
        .await
    {
        Ok(_) if f.action == "remove" => {
            Ok(Redirect::to(&format!("/app/playlists/{playlist_id}#items")).into_response())
        }
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(StoreError::Stale { .. }) => refused(stale(), StatusCode::CONFLICT).await,
        Err(e @ StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => refused(flash_of(e), StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Mentions

/// A note that mentions the viewer, as a sentence: `who` + `before` + `subject` + `after`.
struct MentionRow {
    id: String,
    who: String,
    before: String,
    subject: String,
    after: String,
    link: Option<String>,
    project: String,
    when: String,
    body: String,
}

#[derive(Template)]
#[template(path = "mentions.html")]
struct MentionsPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    rows: Vec<MentionRow>,
    total: i64,
    total_capped: bool,
    next: Option<String>,
    /// A later page links back to the newest.
    later: bool,
}

async fn mentions(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(fq): Query<FeedQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    need(&cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let (q, bad_cursor) = newest_first(fq.cursor.as_deref());
    let page = store.mentions(cx.scope.user_id, &q).await?;
    let names = names(&state, &cx).await?;
    let mut labels = Labels::new(state.store.tenant(&cx.scope));
    let mut projects: HashMap<Uuid, String> = HashMap::new();
    let mut rows = Vec::with_capacity(page.items.len());
    for n in &page.items {
        let project = match projects.entry(n.project_id) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(v) => match store.project(n.project_id).await {
                Ok(p) => v.insert(p.name).clone(),
                Err(StoreError::NotFound { .. }) => String::new(),
                Err(e) => return Err(e.into()),
            },
        };
        // A note is on one of a task, a shot, an asset or a version; it is named after that.
        let (action, args, subject, link) = if let Some(t) = n.task_id {
            let l = labels.task(t).await?;
            let link = format!("/app/tasks/{t}");
            ("mention.task", vec![], subject_and_step(&l), Some(link))
        } else if let Some(s) = n.shot_id {
            let link = format!("/app/shots/{s}#notes");
            ("mention.shot", vec![], labels.shot(s).await?, Some(link))
        } else if let Some(a) = n.asset_id {
            let link = format!("/app/assets/{a}#notes");
            ("mention.asset", vec![], labels.asset(a).await?, Some(link))
        } else if let Some(v) = n.version_id {
            match store.version(v).await {
                Ok(ver) => {
                    let l = labels.task(ver.task_id).await?;
                    let link = format!("/app/tasks/{}#version-{v}", ver.task_id);
                    let number = version_number(ver.number);
                    let args = vec![("version", number.into())];
                    ("mention.version", args, subject_and_step(&l), Some(link))
                }
                Err(StoreError::NotFound { .. }) => {
                    ("mention.version", vec![], String::new(), None)
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            ("mention.task", vec![], String::new(), None)
        };
        let (before, after) = super::sentence(action, args);
        rows.push(MentionRow {
            id: n.id.to_string(),
            who: name_of(&names, n.author_id),
            before,
            subject,
            after,
            link,
            project,
            when: cx.time(n.created_at.0),
            body: n.body.chars().take(280).collect(),
        });
    }
    let r = html(MentionsPage {
        tr: Tr::now(),
        nav: cx.nav("mentions"),
        flash: bad_cursor.clone(),
        rows,
        total: page.total,
        total_capped: page.total_capped,
        next: page.next_cursor,
        later: q.after.is_some(),
    });
    if bad_cursor.is_some() {
        answered(r, StatusCode::BAD_REQUEST)
    } else {
        r
    }
}
