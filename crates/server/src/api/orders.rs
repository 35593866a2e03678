//! Work orders over HTTP: a production posts and publishes them, vendors bid, the production
//! awards one bid (holding its price in the ledger), the vendor delivers each milestone and the
//! production accepts it (paying it) or asks for changes; either side may open a dispute,
//! which freezes the money, and the production may call the order off (refunding what is held).

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_store::Page;
use mstation_store::orders::{
    Bid, DisputedOrder, NewAward, NewBid, NewWorkOrder, Publish, Ruled, Ruling, Side, StepNote,
    WorkOrder,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
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
        .routes(routes!(disputes))
        .routes(routes!(rule))
}

/// The order's shots, tasks and assets with their frames and where they stand: for the
/// production, and for the vendor while the work is awarded to it.
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
            .tenant(m.may(Permission::ReadWorkOrders)?)
            .order_work(order_id)
            .await?,
    }))
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
/// vendor (`release`) or given back to the production (`refund`); the dispute closes.
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

/// The vendor awarded hands in a milestone's work.
#[utoipa::path(post, path = "/api/v1/work-orders/{order_id}/milestones/{milestone_id}/deliver", tag = "orders", request_body = StepNote,
    params(("order_id" = Uuid, Path), ("milestone_id" = Uuid, Path)),
    responses((status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn deliver(
    AxState(state): AxState<State>,
    m: Member,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
    Body(input): Body<StepNote>,
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
