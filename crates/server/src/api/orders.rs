//! Work orders over HTTP: a production posts and publishes them, vendors bid, the production
//! awards one bid (holding its price in the ledger), the vendor delivers each milestone and the
//! production accepts it (paying it) or asks for changes; either side may open a dispute,
//! which freezes the money, and the production may call the order off (refunding what is held).

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::orders::{
    Approval, AssignedWork, Bid, ChangeOrder, DisputedOrder, HandIn, NewAward, NewBid, NewChange,
    NewDelivery, NewWorkNote, NewWorkOrder, Publish, Quote, Ruled, Ruling, SetArtists, Side,
    StepNote, WorkArtist, WorkDetail, WorkNote, WorkOrder, WorkVersion,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::api::media::{derived_answer, file_answer};
use crate::auth::Member;
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Q, etag, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, create_order))
        .routes(routes!(get_order, delete_order))
        .routes(routes!(publish_order))
        .routes(routes!(list_bids, bid))
        .routes(routes!(withdraw_bid))
        .routes(routes!(award))
        .routes(routes!(cancel_order))
        .routes(routes!(open_dispute, withdraw_dispute))
        .routes(routes!(deliver))
        .routes(routes!(accept))
        .routes(routes!(request_changes))
        .routes(routes!(order_work))
        .routes(routes!(work_item))
        .routes(routes!(work_note))
        .routes(routes!(hand_in))
        .routes(routes!(set_artists))
        .routes(routes!(assigned_work))
        .routes(routes!(work_media_content))
        .routes(routes!(work_media_proxy))
        .routes(routes!(list_changes, request_change))
        .routes(routes!(quote_change))
        .routes(routes!(approve_change))
        .routes(routes!(close_change))
        .routes(routes!(disputes))
        .routes(routes!(rule))
}

/// The order's shots, assets and tasks (the tasks of its shots and assets too), with their
/// frames and where they stand: for the production; for the vendor while the work is awarded
/// to it, its artists seeing the tasks they are on.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}/work", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 200, body = Items<mstation_store::tracking::WorkItem>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn order_work(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Json<Items<mstation_store::tracking::WorkItem>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .order_work(order_id)
            .await?,
    }))
}

/// One shot, task or asset of the order's work with what both sides share of it: a shot's or
/// asset's tasks, a task's versions with their files and the vendor's artists on it, the
/// notes.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}/work/{item_id}", tag = "orders",
    params(("order_id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 200, body = WorkDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn work_item(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<WorkDetail>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .work_item(order_id, item_id)
            .await?,
    ))
}

/// A note on one of the order's shots, tasks or assets (or on a version of one of its tasks),
/// by either side.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/work/{item_id}/notes", tag = "orders", request_body = NewWorkNote,
    params(("order_id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 201, body = WorkNote), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn work_note(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<NewWorkNote>,
) -> ApiResult<Response> {
    let note = state
        .store
        .tenant(m.may(Permission::Review)?)
        .add_work_note(order_id, item_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(note)).into_response())
}

/// The vendor hands in its work on one of the order's tasks: the task's next version, made of
/// the vendor's own files, which become files of the production's.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/work/{item_id}/versions", tag = "orders", request_body = HandIn,
    params(("order_id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 201, body = WorkVersion), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn hand_in(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<HandIn>,
) -> ApiResult<Response> {
    let v = state
        .store
        .tenant(m.may(Permission::WriteProduction)?)
        .hand_in(order_id, item_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// The vendor's artists on one of the order's tasks, replacing those there were: each of them
/// then reads that task and hands in its versions.
#[utoipa::path(put, path = "/api/v1/work-orders/{order_id}/work/{item_id}/artists", tag = "orders", request_body = SetArtists,
    params(("order_id" = Uuid, Path), ("item_id" = Uuid, Path)),
    responses((status = 200, body = Items<WorkArtist>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_artists(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, item_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<SetArtists>,
) -> ApiResult<Json<Items<WorkArtist>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .set_work_artists(order_id, item_id, input)
            .await?,
    }))
}

/// The tasks of awarded orders the caller is one of the vendor's artists on, soonest due first.
#[utoipa::path(get, path = "/api/v1/work-orders/assigned", tag = "orders",
    responses((status = 200, body = Items<AssignedWork>), (status = 403, body = Problem)))]
async fn assigned_work(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<AssignedWork>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadOrg)?)
            .assigned_work()
            .await?,
    }))
}

/// The bytes of a file of a version of one of the order's tasks, as a download (a `Range` of
/// them when asked), for those who read that task.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}/media/{media_id}/content", tag = "orders",
    params(("order_id" = Uuid, Path), ("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn work_media_content(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, media_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .work_media(order_id, media_id)
        .await?;
    file_answer(&state, &file, &headers).await
}

/// The browser proxy (H.264 in MP4, seekable) of a file of a version of one of the order's
/// tasks, for those who read that task.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}/media/{media_id}/proxy", tag = "orders",
    params(("order_id" = Uuid, Path), ("media_id" = Uuid, Path)),
    responses((status = 200, content_type = "video/mp4", body = Vec<u8>),
        (status = 206, description = "The range asked for"), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "No such file, or no proxy yet")))]
async fn work_media_proxy(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, media_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = state
        .store
        .tenant(m.may(Permission::ReadOrg)?)
        .work_media(order_id, media_id)
        .await?;
    derived_answer(
        &state,
        &file,
        &headers,
        |f| f.proxy_hash.clone(),
        "video/mp4",
    )
    .await
}

/// The order's change orders, oldest first: for both sides.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}/changes", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 200, body = Items<ChangeOrder>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_changes(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Json<Items<ChangeOrder>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadWorkOrders)?)
            .change_orders(order_id)
            .await?,
    }))
}

/// The production writes up new work on a running order (from a client's note, say): what it
/// is and the shots, tasks and assets it adds. The vendor prices it; nothing of it reaches the
/// vendor's artists until the production approves it.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/changes", tag = "orders", request_body = NewChange,
    params(("order_id" = Uuid, Path)),
    responses((status = 201, body = ChangeOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request_change(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
    Body(input): Body<NewChange>,
) -> ApiResult<Response> {
    let c = state
        .store
        .tenant(m.may(Permission::ManageWorkOrders)?)
        .request_change(order_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// The vendor prices a change order (again, until the production decides).
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/changes/{change_id}/quote", tag = "orders", request_body = Quote,
    params(("order_id" = Uuid, Path), ("change_id" = Uuid, Path)),
    responses((status = 200, body = ChangeOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn quote_change(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, change_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<Quote>,
) -> ApiResult<Json<ChangeOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .quote_change(order_id, change_id, input)
            .await?,
    ))
}

/// The production approves a priced change order at the price it read: the price is held as
/// a new milestone and the change's scope joins the order's work.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/changes/{change_id}/approve", tag = "orders", request_body = Approval,
    params(("order_id" = Uuid, Path), ("change_id" = Uuid, Path)),
    responses((status = 200, body = ChangeOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn approve_change(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, change_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<Approval>,
) -> ApiResult<Json<ChangeOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .approve_change(order_id, change_id, input)
            .await?,
    ))
}

/// Closes a change order before approval: the production withdraws it, the vendor declines it.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/changes/{change_id}/close", tag = "orders",
    params(("order_id" = Uuid, Path), ("change_id" = Uuid, Path)),
    responses((status = 200, body = ChangeOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn close_change(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, change_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<ChangeOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .close_change(order_id, change_id)
            .await?,
    ))
}

/// Every order under dispute on the platform, oldest first: for the platform operator's
/// finance, who rules on them.
#[utoipa::path(get, path = "/api/v1/work-orders/disputes", tag = "orders",
    responses((status = 200, body = Items<DisputedOrder>), (status = 403, body = Problem)))]
async fn disputes(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<DisputedOrder>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadLedger)?)
            .disputed_orders()
            .await?,
    }))
}

/// The platform operator's ruling on a dispute: every milestone still held is paid to the
/// vendor (`release`), given back to the production (`refund`), or split (`split`, with
/// `release` the part paid to the vendor in minor units); the dispute closes.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/ruling", tag = "orders", request_body = Ruling,
    params(("order_id" = Uuid, Path)),
    responses((status = 200, body = Ruled), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rule(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
    Body(input): Body<Ruling>,
) -> ApiResult<Json<Ruled>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageLedger)?)
            .rule_dispute(order_id, input)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrdersParams {
    /// `posted` (by the organisation; the default), `open` (for its bids) or `awarded` (to it).
    pub side: Option<Side>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Work orders on one side of the organisation's dealings, newest first.
#[utoipa::path(get, path = "/api/v1/work-orders", tag = "orders", params(OrdersParams),
    responses((status = 200, body = Page<WorkOrder>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_orders(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<OrdersParams>,
) -> ApiResult<Json<Page<WorkOrder>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), Some("-created_at"))?;
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadWorkOrders)?)
            .work_orders(p.side.unwrap_or(Side::Posted), &q)
            .await?,
    ))
}

/// Writes a draft work order on shots, tasks and assets of one of the organisation's projects.
#[utoipa::path(post, path = "/api/v1/work-orders", tag = "orders", request_body = NewWorkOrder,
    responses((status = 201, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_order(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<NewWorkOrder>,
) -> ApiResult<Response> {
    let o = state
        .store
        .tenant(m.may(Permission::ManageWorkOrders)?)
        .create_work_order(input)
        .await?;
    Ok((StatusCode::CREATED, etag(o.version), Json(o)).into_response())
}

/// A work order: all of it for the production; its scope and milestones for the vendor
/// awarded; what there is to bid on for the vendors it is open to.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_order(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Response> {
    let o = state
        .store
        .tenant(m.may(Permission::ReadWorkOrders)?)
        .work_order(order_id)
        .await?;
    Ok((etag(o.version), Json(o)).into_response())
}

/// Removes one of the organisation's draft orders.
#[utoipa::path(delete, path = "/api/v1/work-orders/{order_id}", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_order(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageWorkOrders)?)
        .delete_work_order(order_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Opens a draft for bids, to the vendors invited or to every organisation; for an open
/// order, invites more vendors.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/publish", tag = "orders", request_body = Publish,
    params(("order_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn publish_order(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
    Body(input): Body<Publish>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .publish_work_order(order_id, input)
            .await?,
    ))
}

/// The bids for an order, lowest price first: every one for the production, its own for a
/// vendor.
#[utoipa::path(get, path = "/api/v1/work-orders/{order_id}/bids", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 200, body = Items<Bid>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_bids(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Json<Items<Bid>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadWorkOrders)?)
            .bids(order_id)
            .await?,
    }))
}

/// Bids for an order open to the organisation, or writes its bid again.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/bids", tag = "orders", request_body = NewBid,
    params(("order_id" = Uuid, Path)),
    responses((status = 201, body = Bid), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn bid(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
    Body(input): Body<NewBid>,
) -> ApiResult<(StatusCode, Json<Bid>)> {
    let b = state
        .store
        .tenant(m.may(Permission::ManageWorkOrders)?)
        .bid(order_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(b)))
}

/// Withdraws the organisation's bid while the order is open.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/bids/{bid_id}/withdraw", tag = "orders",
    params(("order_id" = Uuid, Path), ("bid_id" = Uuid, Path)),
    responses((status = 204, description = "Withdrawn"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw_bid(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, bid_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageWorkOrders)?)
        .withdraw_bid(order_id, bid_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Awards the order to a bid: its price is held from the production's wallet, one pending
/// transfer per milestone, until each is accepted.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/award", tag = "orders", request_body = NewAward,
    params(("order_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn award(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
    Body(input): Body<NewAward>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .award(order_id, input)
            .await?,
    ))
}

/// Calls the order off; an awarded one gives back to the production what is still held.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/cancel", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_order(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .cancel_work_order(order_id)
            .await?,
    ))
}

/// Either side of an award opens a dispute: nothing is paid or refunded until it is withdrawn.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/dispute", tag = "orders", request_body = StepNote,
    params(("order_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn open_dispute(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
    Body(input): Body<StepNote>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .open_dispute(order_id, input)
            .await?,
    ))
}

/// The side that opened the dispute withdraws it.
#[utoipa::path(delete, path = "/api/v1/work-orders/{order_id}/dispute", tag = "orders", params(("order_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw_dispute(
    AxState(state): AxState<State>,
    m: Member,
    Path(order_id): Path<Uuid>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .withdraw_dispute(order_id)
            .await?,
    ))
}

/// The vendor awarded hands in a milestone's work: a note, the versions of the order's tasks
/// it hands over, and their ASC MHL manifest, verified against the files on arrival (the
/// milestone's `delivery.check`: `verifying`, then `verified` or `failed`).
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/milestones/{milestone_id}/deliver", tag = "orders", request_body = NewDelivery,
    params(("order_id" = Uuid, Path), ("milestone_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn deliver(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<NewDelivery>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .deliver_milestone(order_id, milestone_id, input)
            .await?,
    ))
}

/// The production accepts a delivered milestone: its amount is paid to the vendor.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/milestones/{milestone_id}/accept", tag = "orders",
    params(("order_id" = Uuid, Path), ("milestone_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn accept(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .accept_milestone(order_id, milestone_id)
            .await?,
    ))
}

/// The production asks for changes to a delivered milestone.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/milestones/{milestone_id}/changes", tag = "orders", request_body = StepNote,
    params(("order_id" = Uuid, Path), ("milestone_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request_changes(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<StepNote>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageWorkOrders)?)
            .request_changes(order_id, milestone_id, input)
            .await?,
    ))
}
