//! The page of one shot, task or asset of an awarded order, for both sides: what it is, a
//! shot's tasks, a task's versions with their files to play or download, the vendor's artists
//! on it, the notes both sides write there, and the vendor's hand-in of a new version made of
//! its own files.

use askama::Template;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect};
use mstation_core::Permission;
use mstation_store::orders::{HandIn, NewWorkNote, SetArtists, WorkAuthor, WorkDetail, WorkSide};
use mstation_store::{ListQuery, StoreError};
use uuid::Uuid;

use super::{WorkRow, field, work_row};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::media::size_text;
use crate::pages::tracking::{answered, flash_of};
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

struct VersionRow {
    id: String,
    /// "v002".
    label: String,
    comment: String,
    author: String,
    vendor: bool,
    when: String,
    files: Vec<FileRow>,
}

struct FileRow {
    name: String,
    size: String,
    content: String,
    proxy: Option<String>,
}

struct NoteRow {
    author: String,
    vendor: bool,
    body: String,
    /// "v002 · frame 1012", or empty.
    about: String,
    when: String,
}

#[derive(Template)]
#[template(path = "work_item.html")]
struct ItemPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    order_id: String,
    order_title: String,
    item_id: String,
    item: WorkRow,
    is_task: bool,
    tasks: Vec<(String, WorkRow)>,
    versions: Vec<VersionRow>,
    notes: Vec<NoteRow>,
    artists: Vec<String>,
    /// The vendor's side, who hands in.
    vendor: bool,
    can_note: bool,
    can_hand_in: bool,
    /// The caller's organisation's files to hand in: (id, name · size).
    own_files: Vec<(String, String)>,
    /// The vendor's members to put on the task: (id, name, on it).
    members: Vec<(String, String, bool)>,
    running: bool,
    typed_body: String,
    typed_comment: String,
    /// What the upload script reads (`upload.js`): the hand-in's files are uploaded here.
    upload_data: String,
}

fn author(a: &WorkAuthor) -> (String, bool) {
    (a.name.clone(), a.side == WorkSide::Vendor)
}

async fn item_page(
    state: &State,
    cx: &Ctx,
    order_id: Uuid,
    item_id: Uuid,
    flash: Option<(String, String)>,
    typed: (String, String),
) -> PageResult {
    let t = state.store.tenant(&cx.scope);
    let d: WorkDetail = match t.work_item(order_id, item_id).await {
        Ok(d) => d,
        // The production's own order, to a member who does not read work orders: say which
        // right it takes. (A vendor's artist reads the tasks it is on without it; to it, an
        // award that ended is simply not there.)
        Err(e @ StoreError::NotFound { .. }) if !cx.scope.can(Permission::ReadWorkOrders) => {
            if t.work_order(order_id).await.is_ok_and(|o| o.own) {
                cx.need(Permission::ReadWorkOrders)?;
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    // The order's title and side: the order is read by those who read work orders; an
    // artist on the task sees it named by its assignment.
    let (order_title, vendor, running) = if cx.scope.can(Permission::ReadWorkOrders) {
        let o = t.work_order(order_id).await?;
        (
            o.title,
            o.vendor_org_id == Some(cx.scope.org_id),
            o.state == mstation_store::orders::OrderState::Awarded,
        )
    } else {
        let title = t
            .assigned_work()
            .await?
            .into_iter()
            .find(|w| w.order_id == order_id)
            .map(|w| w.order_title)
            .unwrap_or_default();
        (title, true, true)
    };
    let is_task = d.item.kind == "task";
    let can_hand_in = vendor && running && is_task && cx.scope.can(Permission::WriteProduction);
    let own_files = if can_hand_in {
        let q = ListQuery {
            limit: 100,
            after: None,
            descending: true,
        };
        t.media_files(None, &q)
            .await?
            .items
            .into_iter()
            .map(|f| {
                (
                    f.id.to_string(),
                    format!("{} · {}", f.name, size_text(f.size)),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let on_it: Vec<Uuid> = d.artists.iter().map(|a| a.user_id).collect();
    let members = if vendor && running && is_task && cx.scope.can(Permission::PlanProduction) {
        let q = ListQuery {
            limit: 200,
            after: None,
            descending: false,
        };
        t.members(&q, None)
            .await?
            .items
            .into_iter()
            .map(|m| {
                (
                    m.user_id.to_string(),
                    m.display_name,
                    on_it.contains(&m.user_id),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let number_of = |id: Uuid| d.versions.iter().find(|v| v.id == id).map(|v| v.number);
    html(ItemPage {
        tr: Tr::now(),
        nav: cx.nav("work-orders"),
        flash,
        csrf: cx.csrf.clone(),
        order_id: order_id.to_string(),
        order_title,
        item_id: item_id.to_string(),
        item: work_row(&d.item),
        is_task,
        tasks: d
            .tasks
            .iter()
            .map(|w| (w.id.to_string(), work_row(w)))
            .collect(),
        versions: d
            .versions
            .iter()
            .map(|v| {
                let (name, by_vendor) = author(&v.author);
                VersionRow {
                    id: v.id.to_string(),
                    label: format!("v{:03}", v.number),
                    comment: v.comment.clone(),
                    author: name,
                    vendor: by_vendor,
                    when: cx.time(v.created_at.0),
                    files: v
                        .media
                        .iter()
                        .map(|f| FileRow {
                            name: f.name.clone(),
                            size: size_text(f.size),
                            content: format!(
                                "/api/v1/work-orders/{order_id}/media/{}/content",
                                f.id
                            ),
                            proxy: f.proxy.then(|| {
                                format!("/api/v1/work-orders/{order_id}/media/{}/proxy", f.id)
                            }),
                        })
                        .collect(),
                }
            })
            .collect(),
        notes: d
            .notes
            .iter()
            .map(|n| {
                let (name, by_vendor) = author(&n.author);
                let mut about = Vec::new();
                if let Some(v) = n.version_id.and_then(number_of) {
                    about.push(format!("v{v:03}"));
                }
                match (n.frame, n.frame_out) {
                    (Some(f), Some(o)) => about.push(i18n::text_args(
                        "orders-item-frames",
                        &[("first", f.into()), ("last", o.into())],
                    )),
                    (Some(f), None) => {
                        about.push(i18n::text_args("orders-item-frame", &[("frame", f.into())]))
                    }
                    _ => {}
                }
                NoteRow {
                    author: name,
                    vendor: by_vendor,
                    body: n.body.clone(),
                    about: about.join(" · "),
                    when: cx.time(n.created_at.0),
                }
            })
            .collect(),
        artists: d.artists.iter().map(|a| a.name.clone()).collect(),
        vendor,
        can_note: running && cx.scope.can(Permission::Review),
        can_hand_in,
        own_files,
        members,
        running,
        upload_data: if can_hand_in {
            crate::pages::media::upload_data(&cx.csrf, None)
        } else {
            String::new()
        },
        typed_body: typed.0,
        typed_comment: typed.1,
    })
}

pub(super) async fn item(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    item_page(&state, &cx, order_id, item_id, None, Default::default()).await
}

/// After a form of the item's page: back to it, or the page again saying why with what was
/// typed (what is not there stays not there).
async fn after(
    state: &State,
    cx: &Ctx,
    (order_id, item_id): (Uuid, Uuid),
    done: Result<(), StoreError>,
    typed: (String, String),
) -> PageResult {
    match done {
        Ok(()) => Ok(
            Redirect::to(&format!("/app/work-orders/{order_id}/work/{item_id}")).into_response(),
        ),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            if status == axum::http::StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            answered(
                item_page(state, cx, order_id, item_id, Some(flash_of(e)), typed).await,
                status,
            )
        }
    }
}

/// A number typed in a form, or none when left empty; `field` names it in the error.
fn typed_number(text: &str, name: &'static str) -> Result<Option<i64>, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        StoreError::Invalid(mstation_core::validate::FieldError::new(
            name,
            "not_a_number",
        ))
    })
}

fn typed_id(text: &str, name: &'static str) -> Result<Option<Uuid>, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(text).map(Some).map_err(|_| {
        StoreError::Invalid(mstation_core::validate::FieldError::new(name, "not_an_id"))
    })
}

pub(super) async fn note(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(field(&form, "csrf"))?;
    cx.need(Permission::Review)?;
    let body = field(&form, "body").to_string();
    let done = async {
        let new = NewWorkNote {
            body: body.clone(),
            version_id: typed_id(field(&form, "version_id"), "version_id")?,
            frame: typed_number(field(&form, "frame"), "frame")?,
            frame_out: None,
        };
        state
            .store
            .tenant(&cx.scope)
            .add_work_note(order_id, item_id, new)
            .await
            .map(|_| ())
    }
    .await;
    after(
        &state,
        &cx,
        (order_id, item_id),
        done,
        (body, String::new()),
    )
    .await
}

pub(super) async fn hand_in(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(field(&form, "csrf"))?;
    cx.need(Permission::WriteProduction)?;
    let comment = field(&form, "comment").to_string();
    let done = async {
        let mut media = Vec::new();
        for (k, v) in &form {
            if k == "media"
                && let Some(id) = typed_id(v, "media")?
            {
                media.push(id);
            }
        }
        let h = HandIn {
            comment: comment.clone(),
            media,
        };
        state
            .store
            .tenant(&cx.scope)
            .hand_in(order_id, item_id, h)
            .await
            .map(|_| ())
    }
    .await;
    after(
        &state,
        &cx,
        (order_id, item_id),
        done,
        (String::new(), comment),
    )
    .await
}

pub(super) async fn artists(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(field(&form, "csrf"))?;
    cx.need(Permission::PlanProduction)?;
    let done = async {
        let mut user_ids = Vec::new();
        for (k, v) in &form {
            if k == "user_id"
                && let Some(id) = typed_id(v, "user_ids")?
            {
                user_ids.push(id);
            }
        }
        state
            .store
            .tenant(&cx.scope)
            .set_work_artists(order_id, item_id, SetArtists { user_ids })
            .await
            .map(|_| ())
    }
    .await;
    after(&state, &cx, (order_id, item_id), done, Default::default()).await
}
