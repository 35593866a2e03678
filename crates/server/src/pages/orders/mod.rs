//! The work-order pages, for both sides: the production's orders, those open to the
//! organisation's bids and those awarded to it; a new order on a project's shots and assets; an
//! order with its bids side by side, the award, the milestones with their money, and a dispute.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::ledger::Currency;
use mstation_core::validate::FieldError;
use mstation_store::orders::{
    Approval, Audience, Bid, BidState, ChangeState, DeliveryCheck, FileOutcome, MilestoneState,
    NewAward, NewBid, NewChange, NewDelivery, NewMilestone, NewWorkOrder, OrderState, Outcome,
    Publish, Quote, Ruling, ScopeItem, ScopeKind, Side, StepNote, WorkOrder,
};
use mstation_store::{ListQuery, StoreError};
use serde::Deserialize;
use uuid::Uuid;

use super::ledger::money;
use super::tracking::{answered, flash_of};
use super::{Ctx, Nav, PageResult, Tr, ctx, html};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;

mod work;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/work-orders", get(list).post(create))
        .route("/app/work-orders/new", get(new_order))
        .route("/app/work-orders/disputes", get(disputes))
        .route("/app/work-orders/{order_id}/ruling", post(rule))
        .route("/app/work-orders/{order_id}", get(order))
        .route("/app/work-orders/{order_id}/publish", post(publish))
        .route("/app/work-orders/{order_id}/bid", post(bid))
        .route(
            "/app/work-orders/{order_id}/bids/{bid_id}/withdraw",
            post(withdraw_bid),
        )
        .route("/app/work-orders/{order_id}/award", post(award))
        .route("/app/work-orders/{order_id}/cancel", post(cancel))
        .route("/app/work-orders/{order_id}/dispute", post(dispute))
        .route(
            "/app/work-orders/{order_id}/dispute/withdraw",
            post(withdraw_dispute),
        )
        .route(
            "/app/work-orders/{order_id}/milestones/{milestone_id}/deliver",
            post(deliver),
        )
        .route(
            "/app/work-orders/{order_id}/milestones/{milestone_id}/accept",
            post(accept),
        )
        .route(
            "/app/work-orders/{order_id}/milestones/{milestone_id}/changes",
            post(changes),
        )
        .route("/app/work-orders/{order_id}/delete", post(delete))
        .route("/app/work-orders/{order_id}/changes", post(request_change))
        .route(
            "/app/work-orders/{order_id}/changes/{change_id}/quote",
            post(quote_change),
        )
        .route(
            "/app/work-orders/{order_id}/changes/{change_id}/approve",
            post(approve_change),
        )
        .route(
            "/app/work-orders/{order_id}/changes/{change_id}/close",
            post(close_change),
        )
        .route(
            "/app/work-orders/{order_id}/work/{item_id}",
            get(work::item),
        )
        .route(
            "/app/work-orders/{order_id}/work/{item_id}/note",
            post(work::note),
        )
        .route(
            "/app/work-orders/{order_id}/work/{item_id}/hand-in",
            post(work::hand_in),
        )
        .route(
            "/app/work-orders/{order_id}/work/{item_id}/artists",
            post(work::artists),
        )
}

/// The currencies the new-order form offers first (any ISO 4217 code is taken).
const CURRENCIES: [&str; 6] = ["CNY", "USD", "EUR", "GBP", "HKD", "JPY"];

/// An amount with its currency, as a person reads it.
fn amount(currency: &str, minor: i64) -> String {
    format!("{} {currency}", money(currency, minor))
}

fn state_word(s: OrderState) -> String {
    i18n::text(&format!("orders-state-{}", s.as_str()))
}

/// An order as a row of a list.
struct Row {
    id: String,
    title: String,
    party: String,
    budget: String,
    due_on: String,
    state: String,
    state_key: &'static str,
    bids: Option<i64>,
    disputed: bool,
    nda: bool,
}

fn row(o: &WorkOrder) -> Row {
    Row {
        id: o.id.to_string(),
        title: o.title.clone(),
        party: if o.own {
            o.vendor_name.clone().unwrap_or_default()
        } else {
            o.org_name.clone()
        },
        budget: format!(
            "{} – {}",
            money(&o.currency, o.budget_min),
            amount(&o.currency, o.budget_max)
        ),
        due_on: o.due_on.clone(),
        state: state_word(o.state),
        state_key: o.state.as_str(),
        bids: o.bids,
        disputed: o.dispute.is_some(),
        nda: o.nda,
    }
}

#[derive(Template)]
#[template(path = "work_orders.html")]
struct ListPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    side: &'static str,
    rows: Vec<Row>,
    can_manage: bool,
    next: Option<String>,
    /// The platform operator's finance, who rules on disputes: a tab of its own.
    rules: bool,
}

#[derive(Deserialize)]
struct ListParams {
    side: Option<String>,
    cursor: Option<String>,
}

async fn list(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(p): Query<ListParams>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ReadWorkOrders)?;
    let (side, key) = match p.side.as_deref() {
        Some("open") => (Side::Open, "open"),
        Some("awarded") => (Side::Awarded, "awarded"),
        _ => (Side::Posted, "posted"),
    };
    let q = crate::extract::list_query(Some(50), p.cursor.as_deref(), Some("-created_at"))?;
    let t = state.store.tenant(&cx.scope);
    let page = t.work_orders(side, &q).await?;
    let rules = cx.scope.can(Permission::ManageLedger) && t.is_operator().await?;
    html(ListPage {
        rules,
        tr: Tr::now(),
        nav: cx.nav("work-orders"),
        flash: None,
        side: key,
        rows: page.items.iter().map(row).collect(),
        can_manage: cx.scope.can(Permission::ManageWorkOrders),
        next: page
            .next_cursor
            .map(|c| format!("/app/work-orders?side={key}&cursor={c}")),
    })
}

/// A shot, task or asset the new-order form offers.
struct Pick {
    value: String,
    label: String,
    checked: bool,
}

/// What the new-order form held, to show again.
#[derive(Default, Clone)]
struct OrderTyped {
    project_id: String,
    title: String,
    brief: String,
    deliverables: String,
    currency: String,
    budget_min: String,
    budget_max: String,
    due_on: String,
    nda: bool,
    scope: Vec<String>,
}

#[derive(Template)]
#[template(path = "work_order_new.html")]
struct NewPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    projects: Vec<(String, String, bool)>,
    project_name: String,
    shots: Vec<Pick>,
    assets: Vec<Pick>,
    currencies: Vec<(String, bool)>,
    typed: OrderTyped,
}

#[derive(Deserialize)]
struct NewParams {
    project: Option<String>,
}

async fn new_order(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(p): Query<NewParams>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ManageWorkOrders)?;
    let typed = OrderTyped {
        // Kept as typed: a project that is not one of the organisation's is simply not chosen.
        project_id: p.project.unwrap_or_default(),
        currency: "CNY".into(),
        ..OrderTyped::default()
    };
    new_page(&state, &cx, typed, None).await
}

/// The shots and assets of project `pid` to tick for an order's scope (`kind:id`), those in
/// `checked` ticked and those in `skip` left out.
async fn project_picks(
    t: &mstation_store::Tenant<'_>,
    pid: Uuid,
    checked: &[String],
    skip: &[ScopeItem],
) -> Result<(Vec<Pick>, Vec<Pick>), StoreError> {
    let q = ListQuery {
        limit: 200,
        ..ListQuery::default()
    };
    let is_checked = |v: &str| checked.iter().any(|s| s == v);
    let skipped = |id: Uuid| skip.iter().any(|s| s.id == id);
    let (mut shots, mut assets) = (Vec::new(), Vec::new());
    for seq in t.sequences(pid, &q).await?.items {
        let (found, _) = t.shots(seq.id, false, None, 500).await?;
        for s in found.into_iter().filter(|s| !skipped(s.id)) {
            let value = format!("shot:{}", s.id);
            shots.push(Pick {
                checked: is_checked(&value),
                label: format!("{} · {}", seq.name, s.name),
                value,
            });
        }
    }
    for a in t.assets(pid, None, &q).await?.items {
        if skipped(a.id) {
            continue;
        }
        let value = format!("asset:{}", a.id);
        assets.push(Pick {
            checked: is_checked(&value),
            label: a.name.clone(),
            value,
        });
    }
    Ok((shots, assets))
}

/// The new-order form: the organisation's projects to choose from, and once one is chosen its
/// shots and assets to put in the order's scope.
async fn new_page(
    state: &State,
    cx: &Ctx,
    typed: OrderTyped,
    flash: Option<(String, String)>,
) -> PageResult {
    let t = state.store.tenant(&cx.scope);
    let q = ListQuery {
        limit: 200,
        ..ListQuery::default()
    };
    let projects = t.projects(None, &q).await?;
    let chosen: Option<Uuid> = typed.project_id.parse().ok();
    let mut project_name = String::new();
    let (mut shots, mut assets) = (Vec::new(), Vec::new());
    if let Some(pid) = chosen.filter(|p| projects.items.iter().any(|x| x.id == *p)) {
        project_name = projects
            .items
            .iter()
            .find(|x| x.id == pid)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        (shots, assets) = project_picks(&t, pid, &typed.scope, &[]).await?;
    }
    let mut currencies: Vec<(String, bool)> = CURRENCIES
        .iter()
        .map(|c| (c.to_string(), *c == typed.currency))
        .collect();
    if !typed.currency.is_empty() && !CURRENCIES.contains(&typed.currency.as_str()) {
        currencies.push((typed.currency.clone(), true));
    }
    html(NewPage {
        tr: Tr::now(),
        nav: cx.nav("work-orders"),
        flash,
        csrf: cx.csrf.clone(),
        projects: projects
            .items
            .iter()
            .map(|p| (p.id.to_string(), p.name.clone(), Some(p.id) == chosen))
            .collect(),
        project_name,
        shots,
        assets,
        currencies,
        typed,
    })
}

/// The value of the form's field `name` (the first, if sent more than once).
fn field<'f>(form: &'f [(String, String)], name: &str) -> &'f str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// An amount typed in `currency`, refused by the field's name.
fn typed_amount(currency: &str, text: &str, name: &'static str) -> Result<i64, StoreError> {
    Currency::parse(currency)
        .and_then(|c| c.parse_amount(text))
        .ok_or_else(|| FieldError::new(name, "not_an_amount").into())
}

async fn create(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(field(&form, "csrf"))?;
    cx.need(Permission::ManageWorkOrders)?;
    let typed = OrderTyped {
        project_id: field(&form, "project_id").to_string(),
        title: field(&form, "title").to_string(),
        brief: field(&form, "brief").to_string(),
        deliverables: field(&form, "deliverables").to_string(),
        currency: field(&form, "currency").trim().to_uppercase(),
        budget_min: field(&form, "budget_min").to_string(),
        budget_max: field(&form, "budget_max").to_string(),
        due_on: field(&form, "due_on").to_string(),
        nda: field(&form, "nda") == "on",
        scope: form
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let made = async {
        let project_id: Uuid = typed
            .project_id
            .parse()
            .map_err(|_| StoreError::from(FieldError::new("project_id", "required")))?;
        if Currency::parse(&typed.currency).is_none() {
            return Err(FieldError::new("currency", "not_a_currency").into());
        }
        let mut scope = Vec::new();
        for v in &typed.scope {
            let item = v.split_once(':').and_then(|(k, id)| {
                Some(ScopeItem {
                    kind: ScopeKind::parse(k)?,
                    id: id.parse().ok()?,
                })
            });
            scope.push(
                item.ok_or_else(|| StoreError::from(FieldError::new("scope", "not_in_project")))?,
            );
        }
        let new = NewWorkOrder {
            project_id,
            title: typed.title.clone(),
            brief: typed.brief.clone(),
            deliverables: typed.deliverables.clone(),
            currency: typed.currency.clone(),
            budget_min: typed_amount(&typed.currency, &typed.budget_min, "budget_min")?,
            budget_max: typed_amount(&typed.currency, &typed.budget_max, "budget_max")?,
            due_on: typed.due_on.trim().to_string(),
            nda: typed.nda,
            scope,
        };
        state.store.tenant(&cx.scope).create_work_order(new).await
    }
    .await;
    match made {
        Ok(o) => Ok(Redirect::to(&format!("/app/work-orders/{}", o.id)).into_response()),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            answered(
                new_page(&state, &cx, typed, Some(flash_of(e))).await,
                status,
            )
        }
    }
}

/// A bid as the order's page shows it.
struct BidRow {
    id: String,
    vendor: String,
    price: String,
    price_minor: i64,
    /// "45 days".
    days: String,
    assumptions: String,
    questions: String,
    withdrawn: bool,
    awarded: bool,
    lowest: bool,
}

/// A milestone as the order's page shows it.
struct MilestoneRow {
    id: String,
    position: i64,
    title: String,
    amount: String,
    state: String,
    state_key: &'static str,
    delivery_note: String,
    delivered_at: String,
    review_note: String,
    paid_at: String,
    days_to_payment: String,
    /// The vendor may hand it in (again).
    deliverable: bool,
    /// The production may send it back.
    reviewable: bool,
    /// The production may accept it (pay it): reviewable, and no dispute stands.
    acceptable: bool,
    delivery: Option<DeliveryRow>,
}

/// A change order as the order's page shows it.
struct ChangeRow {
    id: String,
    /// "CO-1 · Lighthouse".
    title: String,
    description: String,
    state_key: &'static str,
    state: String,
    scope: String,
    /// "8,000.00 CNY · 5 days", once priced.
    quote: String,
    price_minor: i64,
    quote_note: String,
    open: bool,
    quoted: bool,
}

/// A milestone's latest delivery as the page shows it.
struct DeliveryRow {
    /// "Compositing · SQ010_0010 v002", each version.
    versions: Vec<String>,
    check_key: &'static str,
    check: String,
    /// Each file the verification found wrong: its path and what was wrong, in words.
    problems: Vec<(String, String)>,
    /// How many files matched.
    matched: String,
}

/// What the order page's forms held, to show again.
#[derive(Default, Clone, Deserialize)]
struct Typed {
    #[serde(default)]
    price: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    assumptions: String,
    #[serde(default)]
    questions: String,
    #[serde(default)]
    invite: String,
    #[serde(default)]
    milestones: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "work_order.html")]
struct OrderPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    id: String,
    title: String,
    org_name: String,
    vendor_name: String,
    brief: String,
    deliverables: String,
    budget: String,
    currency: String,
    due_on: String,
    nda: bool,
    state: String,
    state_key: &'static str,
    audience: String,
    own: bool,
    vendor: bool,
    can_manage: bool,
    /// What the order is on, counted.
    scope_summary: String,
    /// The shots, tasks and assets themselves: the production's, and the vendor's while the
    /// work is awarded to it.
    work: Vec<WorkRow>,
    /// The versions of the work a delivery may hand over: (id, "Compositing · SQ010_0010 v002").
    deliverable_versions: Vec<(String, String)>,
    changes: Vec<ChangeRow>,
    /// The project's shots and assets not in the work yet, for a change order (the production's).
    change_shots: Vec<Pick>,
    change_assets: Vec<Pick>,
    /// "2 organisations invited", for the production.
    invited: String,
    bids: Vec<BidRow>,
    milestones: Vec<MilestoneRow>,
    held: String,
    paid: String,
    refunded: String,
    awarded: bool,
    /// Who opened the dispute and when, in words, and why.
    dispute: Option<(String, String)>,
    /// The operator's ruling, in words, and why.
    ruling: Option<(String, String)>,
    /// Whether the production may call the order off now (open; or awarded, with no dispute
    /// and no delivery waiting for its review).
    can_cancel: bool,
    my_dispute: bool,
    typed: Typed,
}

/// A task status known only by its name: a status of the default workflow in the reader's
/// words, a project's own as written.
fn status_named(name: &str) -> String {
    use mstation_store::tracking::tasks::DEFAULT_STATUSES;
    match DEFAULT_STATUSES.iter().find(|d| d.1 == name) {
        Some(d) => i18n::try_text(&format!("status-{}", d.0)).unwrap_or_else(|| name.to_string()),
        None => name.to_string(),
    }
}

/// A shot, task or asset of the order as its page lists it.
struct WorkRow {
    id: String,
    kind: String,
    name: String,
    context: String,
    status: String,
    frames: String,
    due_date: String,
}

fn work_row(w: &mstation_store::tracking::WorkItem) -> WorkRow {
    WorkRow {
        id: w.id.to_string(),
        kind: i18n::text(&format!("orders-scope-{}", w.kind)),
        // A task is named by its type: a default step in the reader's words.
        name: if w.kind == "task" {
            super::tracking::step_named(&w.name)
        } else {
            w.name.clone()
        },
        // An asset's kind and a shot's place in the cut in the reader's words; a task's
        // status and the names are the production's own.
        context: match w.kind.as_str() {
            "asset" => i18n::text(&format!("asset-kind-{}", w.context)),
            _ => w.context.clone(),
        },
        status: match (w.kind.as_str(), w.status.as_str()) {
            ("shot", "omitted") => i18n::text("shot-status-omitted"),
            ("shot", _) => i18n::text("shot-status-active"),
            _ => status_named(&w.status),
        },
        frames: match (w.frame_in, w.frame_out, w.frames) {
            (Some(i), Some(o), Some(n)) => i18n::text_args(
                "orders-frames",
                &[("first", i.into()), ("last", o.into()), ("count", n.into())],
            ),
            _ => String::new(),
        },
        due_date: w.due_date.clone().unwrap_or_default(),
    }
}

/// "2 shots · 1 asset": the scope counted, for the vendor.
fn scope_summary(o: &WorkOrder) -> String {
    scope_count(&o.scope)
}

/// "2 shots · 1 asset": shots, tasks and assets counted.
fn scope_count(scope: &[ScopeItem]) -> String {
    ScopeKind::ALL
        .iter()
        .filter_map(|k| {
            let n = scope.iter().filter(|s| s.kind == *k).count();
            (n > 0).then(|| {
                i18n::text_args(
                    &format!("orders-count-{}", k.as_str()),
                    &[("count", (n as i64).into())],
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

async fn order_page(
    state: &State,
    cx: &Ctx,
    order_id: Uuid,
    flash: Option<(String, String)>,
    typed: Typed,
) -> PageResult {
    cx.need(Permission::ReadWorkOrders)?;
    let t = state.store.tenant(&cx.scope);
    let o = t.work_order(order_id).await?;
    let bids: Vec<Bid> = t.bids(order_id).await?;
    let vendor = o.vendor_org_id == Some(cx.scope.org_id);
    let cur = o.currency.clone();
    let lowest = bids
        .iter()
        .filter(|b| b.state == BidState::Open)
        .map(|b| b.price)
        .min();
    let sum = |f: &dyn Fn(MilestoneState) -> bool| -> i64 {
        o.milestones
            .iter()
            .filter(|m| f(m.state))
            .map(|m| m.amount)
            .sum()
    };
    let running = o.state == OrderState::Awarded;
    let held = sum(&|s| {
        matches!(
            s,
            MilestoneState::Held | MilestoneState::Delivered | MilestoneState::ChangesRequested
        )
    });
    // A milestone a ruling split paid part of its amount; the rest went back.
    let split_back: i64 = o
        .milestones
        .iter()
        .filter_map(|m| m.paid_amount.map(|p| m.amount - p))
        .sum();
    let paid = sum(&|s| s == MilestoneState::Accepted) - split_back;
    let refunded = sum(&|s| s == MilestoneState::Refunded) + split_back;
    let items = if o.own || (vendor && running) {
        // An award that ended since the order was read shows no work, not an error.
        t.order_work(order_id).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let work: Vec<WorkRow> = items.iter().map(work_row).collect();
    // A version named by its task: "Compositing · SQ010_0010 v002".
    let tasks: Vec<(String, String)> = work
        .iter()
        .map(|w| (w.id.clone(), format!("{} · {} ", w.name, w.context)))
        .collect();
    let version_label = |task: Uuid, number: i64| {
        let task = task.to_string();
        let on = tasks
            .iter()
            .find(|t| t.0 == task)
            .map(|t| t.1.as_str())
            .unwrap_or_default();
        format!("{on}v{number:03}")
    };
    let changes: Vec<ChangeRow> = if o.own || vendor {
        t.change_orders(order_id)
            .await?
            .into_iter()
            .map(|c| {
                let items: Vec<ScopeItem> = c.scope.clone();
                ChangeRow {
                    id: c.id.to_string(),
                    title: format!("CO-{} · {}", c.number, c.title),
                    description: c.description,
                    state_key: c.state.as_str(),
                    state: i18n::text(&format!("orders-change-{}", c.state.as_str())),
                    scope: scope_count(&items),
                    quote: match (c.price, c.days) {
                        (Some(p), Some(d)) => format!(
                            "{} · {}",
                            amount(&o.currency, p),
                            i18n::text_args("orders-days", &[("days", d.into())])
                        ),
                        _ => String::new(),
                    },
                    price_minor: c.price.unwrap_or_default(),
                    quote_note: c.quote_note,
                    open: matches!(c.state, ChangeState::Requested | ChangeState::Quoted),
                    quoted: c.state == ChangeState::Quoted,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let (change_shots, change_assets) = match o.project_id {
        Some(pid) if o.own && running && cx.scope.can(Permission::ManageWorkOrders) => {
            project_picks(&t, pid, &[], &o.scope).await?
        }
        _ => (Vec::new(), Vec::new()),
    };
    let deliverable_versions = if vendor && running {
        t.work_versions(order_id)
            .await
            .unwrap_or_default()
            .iter()
            .map(|v| (v.id.to_string(), version_label(v.task_id, v.number)))
            .collect()
    } else {
        Vec::new()
    };
    html(OrderPage {
        tr: Tr::now(),
        nav: cx.nav("work-orders"),
        flash,
        csrf: cx.csrf.clone(),
        id: o.id.to_string(),
        title: o.title.clone(),
        org_name: o.org_name.clone(),
        vendor_name: o.vendor_name.clone().unwrap_or_default(),
        brief: o.brief.clone(),
        deliverables: o.deliverables.clone(),
        budget: format!(
            "{} – {}",
            money(&cur, o.budget_min),
            amount(&cur, o.budget_max)
        ),
        currency: cur.clone(),
        due_on: o.due_on.clone(),
        nda: o.nda,
        state: state_word(o.state),
        state_key: o.state.as_str(),
        audience: i18n::text(&format!("orders-audience-{}", o.audience.as_str())),
        own: o.own,
        vendor,
        can_manage: cx.scope.can(Permission::ManageWorkOrders),
        scope_summary: scope_summary(&o),
        work,
        deliverable_versions,
        changes,
        change_shots,
        change_assets,
        invited: if o.invited.is_empty() {
            String::new()
        } else {
            i18n::text_args(
                "orders-invited-count",
                &[("count", (o.invited.len() as i64).into())],
            )
        },
        bids: bids
            .iter()
            .map(|b| BidRow {
                id: b.id.to_string(),
                vendor: b.vendor_name.clone(),
                price: amount(&cur, b.price),
                price_minor: b.price,
                days: i18n::text_args("orders-days", &[("days", b.days.into())]),
                assumptions: b.assumptions.clone(),
                questions: b.questions.clone(),
                withdrawn: b.state == BidState::Withdrawn,
                awarded: b.awarded,
                lowest: b.state == BidState::Open && Some(b.price) == lowest && bids.len() > 1,
            })
            .collect(),
        milestones: o
            .milestones
            .iter()
            .map(|m| MilestoneRow {
                id: m.id.to_string(),
                position: m.position,
                title: m.title.clone(),
                amount: match m.paid_amount {
                    Some(p) => i18n::text_args(
                        "orders-paid-of",
                        &[
                            ("paid", amount(&cur, p).into()),
                            ("amount", amount(&cur, m.amount).into()),
                        ],
                    ),
                    None => amount(&cur, m.amount),
                },
                state: i18n::text(&format!(
                    "orders-milestone-{}",
                    m.state.as_str().replace('_', "-")
                )),
                state_key: m.state.as_str(),
                delivery_note: m.delivery_note.clone(),
                delivered_at: m.delivered_at.map(|t| cx.time(t.0)).unwrap_or_default(),
                review_note: m.review_note.clone(),
                paid_at: m.paid_at.map(|t| cx.time(t.0)).unwrap_or_default(),
                days_to_payment: m
                    .days_to_payment
                    .map(|d| i18n::text_args("orders-days-to-payment", &[("days", d.into())]))
                    .unwrap_or_default(),
                deliverable: running
                    && matches!(
                        m.state,
                        MilestoneState::Held | MilestoneState::ChangesRequested
                    ),
                // Nothing is paid while a dispute stands.
                reviewable: running && m.state == MilestoneState::Delivered,
                // Nothing is paid while a dispute stands, nor for a delivery not verified.
                acceptable: running
                    && m.state == MilestoneState::Delivered
                    && o.dispute.is_none()
                    && m.delivery.as_ref().is_none_or(|d| {
                        matches!(d.check, DeliveryCheck::Unchecked | DeliveryCheck::Verified)
                    }),
                delivery: m.delivery.as_ref().map(|d| DeliveryRow {
                    versions: d
                        .versions
                        .iter()
                        .map(|v| version_label(v.task_id, v.number))
                        .collect(),
                    check_key: d.check.as_str(),
                    check: i18n::text(&format!("orders-check-{}", d.check.as_str())),
                    problems: d
                        .files
                        .iter()
                        .filter(|f| f.outcome != FileOutcome::Match)
                        .map(|f| {
                            let word = match f.outcome {
                                FileOutcome::Missing => i18n::text("orders-file-missing"),
                                FileOutcome::Unlisted => i18n::text("orders-file-unlisted"),
                                _ if f.found.is_none() => i18n::text("orders-file-unreadable"),
                                _ => i18n::text_args(
                                    "orders-file-mismatch",
                                    &[
                                        ("format", f.format.clone().unwrap_or_default().into()),
                                        ("expected", f.expected.clone().unwrap_or_default().into()),
                                        ("found", f.found.clone().unwrap_or_default().into()),
                                    ],
                                ),
                            };
                            (f.path.clone(), word)
                        })
                        .collect(),
                    matched: i18n::text_args(
                        "orders-files-matched",
                        &[(
                            "count",
                            (d.files
                                .iter()
                                .filter(|f| f.outcome == FileOutcome::Match)
                                .count() as i64)
                                .into(),
                        )],
                    ),
                }),
            })
            .collect(),
        held: amount(&cur, held),
        paid: amount(&cur, paid),
        refunded: amount(&cur, refunded),
        awarded: !o.milestones.is_empty(),
        my_dispute: o
            .dispute
            .as_ref()
            .is_some_and(|d| d.opened_by == cx.scope.org_id),
        dispute: o.dispute.as_ref().map(|d| {
            let by = if d.opened_by == o.org_id {
                o.org_name.clone()
            } else {
                o.vendor_name.clone().unwrap_or_default()
            };
            (
                i18n::text_args(
                    "orders-dispute-by",
                    &[("org", by.into()), ("when", cx.time(d.opened_at.0).into())],
                ),
                d.reason.clone(),
            )
        }),
        ruling: o.ruling.as_ref().map(|r| {
            (
                i18n::text_args(
                    &format!("orders-ruled-{}", r.outcome.as_str()),
                    &[("when", cx.time(r.ruled_at.0).into())],
                ),
                r.note.clone(),
            )
        }),
        can_cancel: o.own
            && (o.state == OrderState::Open
                || (running
                    && o.dispute.is_none()
                    && !o
                        .milestones
                        .iter()
                        .any(|m| m.state == MilestoneState::Delivered))),
        typed,
    })
}

async fn order(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    order_page(&state, &cx, order_id, None, Typed::default()).await
}

/// What a form of the order's page sends: its token and what was typed.
#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    #[serde(default)]
    bid_id: String,
    #[serde(default)]
    audience: String,
    #[serde(flatten)]
    typed: Typed,
}

/// After a form of the order's page: back to it, or the page again saying why with what was
/// typed (an order not found stays not found).
async fn after_step(
    state: &State,
    cx: &Ctx,
    order_id: Uuid,
    done: Result<(), StoreError>,
    typed: Typed,
) -> PageResult {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/work-orders/{order_id}")).into_response()),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            if status == StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            answered(
                order_page(state, cx, order_id, Some(flash_of(e)), typed).await,
                status,
            )
        }
    }
}

/// The page's signed-in member who may manage work orders, having sent its form's token.
async fn manager(
    state: &State,
    c: Option<crate::auth::Caller>,
    csrf: &str,
) -> Result<Ctx, super::PageError> {
    let cx = ctx(state, c).await?;
    cx.check_csrf(csrf)?;
    cx.need(Permission::ManageWorkOrders)?;
    Ok(cx)
}

async fn publish(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = async {
        // The organisation's own order first: no one learns which short names exist by
        // posting to another's.
        let o = state.store.tenant(&cx.scope).work_order(order_id).await?;
        if !o.own {
            return Err(StoreError::NotFound {
                entity: "work_order",
            });
        }
        let audience = Audience::parse(&f.audience).ok_or_else(|| {
            StoreError::from(FieldError::new("audience", "not_one_of_the_choices"))
        })?;
        let mut invite = Vec::new();
        for slug in f
            .typed
            .invite
            .split([',', '，', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let org = state
                .store
                .platform()
                .org_by_slug(&slug.to_lowercase())
                .await?;
            let org = org.ok_or_else(|| {
                StoreError::from(FieldError::new("invite", "not_an_organisation"))
            })?;
            invite.push(org.id);
        }
        state
            .store
            .tenant(&cx.scope)
            .publish_work_order(order_id, Publish { audience, invite })
            .await
            .map(|_| ())
    }
    .await;
    after_step(&state, &cx, order_id, done, f.typed).await
}

async fn bid(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let t = state.store.tenant(&cx.scope);
    let done = async {
        let o = t.work_order(order_id).await?;
        let new = NewBid {
            price: typed_amount(&o.currency, &f.typed.price, "price")?,
            days: f
                .typed
                .days
                .trim()
                .parse()
                .map_err(|_| StoreError::from(FieldError::new("days", "not_a_number")))?,
            assumptions: f.typed.assumptions.clone(),
            questions: f.typed.questions.clone(),
        };
        t.bid(order_id, new).await.map(|_| ())
    }
    .await;
    after_step(&state, &cx, order_id, done, f.typed).await
}

async fn withdraw_bid(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, bid_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = state
        .store
        .tenant(&cx.scope)
        .withdraw_bid(order_id, bid_id)
        .await;
    after_step(&state, &cx, order_id, done, Typed::default()).await
}

/// The award form's milestones, a line each: "Layout: 15000.00" (a title, then the amount
/// after the last colon or equals sign). None typed: one milestone for the whole price.
fn milestone_lines(currency: &str, text: &str) -> Result<Vec<NewMilestone>, StoreError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (title, value) = line
            .rsplit_once([':', '：', '='])
            .ok_or_else(|| StoreError::from(FieldError::new("milestones", "not_an_amount")))?;
        out.push(NewMilestone {
            title: title.trim().to_string(),
            amount: typed_amount(currency, value, "milestones")?,
        });
    }
    Ok(out)
}

async fn award(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let t = state.store.tenant(&cx.scope);
    let done = async {
        let o = t.work_order(order_id).await?;
        let bid_id: Uuid = f
            .bid_id
            .parse()
            .map_err(|_| StoreError::from(FieldError::new("bid_id", "required")))?;
        let price: i64 = f
            .typed
            .price
            .parse()
            .map_err(|_| StoreError::from(FieldError::new("price", "not_a_number")))?;
        let milestones = milestone_lines(&o.currency, &f.typed.milestones)?;
        t.award(
            order_id,
            NewAward {
                bid_id,
                price,
                milestones,
            },
        )
        .await
        .map(|_| ())
    }
    .await;
    after_step(&state, &cx, order_id, done, f.typed).await
}

async fn cancel(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = state
        .store
        .tenant(&cx.scope)
        .cancel_work_order(order_id)
        .await
        .map(|_| ());
    after_step(&state, &cx, order_id, done, Typed::default()).await
}

async fn dispute(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let note = StepNote {
        note: f.typed.note.clone(),
    };
    let done = state
        .store
        .tenant(&cx.scope)
        .open_dispute(order_id, note)
        .await
        .map(|_| ());
    after_step(&state, &cx, order_id, done, f.typed).await
}

async fn withdraw_dispute(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = state
        .store
        .tenant(&cx.scope)
        .withdraw_dispute(order_id)
        .await
        .map(|_| ());
    after_step(&state, &cx, order_id, done, Typed::default()).await
}

async fn deliver(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = manager(&state, c, field(&form, "csrf")).await?;
    let typed = Typed {
        note: field(&form, "note").to_string(),
        ..Typed::default()
    };
    let done =
        async {
            let mut versions = Vec::new();
            for (k, v) in &form {
                if k == "version" {
                    versions.push(Uuid::parse_str(v.trim()).map_err(|_| {
                        StoreError::Invalid(FieldError::new("versions", "not_an_id"))
                    })?);
                }
            }
            let manifest = field(&form, "manifest");
            let d = NewDelivery {
                note: typed.note.clone(),
                versions,
                manifest: (!manifest.trim().is_empty()).then(|| manifest.to_string()),
            };
            state
                .store
                .tenant(&cx.scope)
                .deliver_milestone(order_id, milestone_id, d)
                .await
                .map(|_| ())
        }
        .await;
    after_step(&state, &cx, order_id, done, typed).await
}

async fn accept(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = state
        .store
        .tenant(&cx.scope)
        .accept_milestone(order_id, milestone_id)
        .await
        .map(|_| ());
    after_step(&state, &cx, order_id, done, Typed::default()).await
}

async fn changes(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, milestone_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let note = StepNote {
        note: f.typed.note.clone(),
    };
    let done = state
        .store
        .tenant(&cx.scope)
        .request_changes(order_id, milestone_id, note)
        .await
        .map(|_| ());
    after_step(&state, &cx, order_id, done, f.typed).await
}

async fn delete(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    match state
        .store
        .tenant(&cx.scope)
        .delete_work_order(order_id)
        .await
    {
        Ok(()) => Ok(Redirect::to("/app/work-orders").into_response()),
        Err(e) => after_step(&state, &cx, order_id, Err(e), Typed::default()).await,
    }
}

/// The production writes up a change order from the order's page: its title, what it is, and
/// the shots and assets it adds.
async fn request_change(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = manager(&state, c, field(&form, "csrf")).await?;
    let typed = Typed {
        note: field(&form, "description").to_string(),
        ..Typed::default()
    };
    let done = async {
        let mut scope = Vec::new();
        for (k, v) in &form {
            if k == "scope" {
                scope.push(scope_item(v)?);
            }
        }
        let new = NewChange {
            title: field(&form, "title").to_string(),
            description: typed.note.clone(),
            note_id: None,
            scope,
        };
        state
            .store
            .tenant(&cx.scope)
            .request_change(order_id, new)
            .await
            .map(|_| ())
    }
    .await;
    after_step(&state, &cx, order_id, done, typed).await
}

/// A `kind:id` the scope's checkboxes send.
fn scope_item(v: &str) -> Result<ScopeItem, StoreError> {
    let bad = || StoreError::Invalid(FieldError::new("scope", "not_in_project"));
    let (kind, id) = v.split_once(':').ok_or_else(bad)?;
    Ok(ScopeItem {
        kind: ScopeKind::parse(kind).ok_or_else(bad)?,
        id: Uuid::parse_str(id).map_err(|_| bad())?,
    })
}

/// The vendor prices a change order: price in the order's currency, days.
async fn quote_change(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, change_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let t = state.store.tenant(&cx.scope);
    let done =
        async {
            let o = t.work_order(order_id).await?;
            let q =
                Quote {
                    price: typed_amount(&o.currency, f.typed.price.trim(), "price")?,
                    days: f.typed.days.trim().parse().map_err(|_| {
                        StoreError::Invalid(FieldError::new("days", "not_a_number"))
                    })?,
                    note: f.typed.note.clone(),
                };
            t.quote_change(order_id, change_id, q).await.map(|_| ())
        }
        .await;
    after_step(&state, &cx, order_id, done, f.typed).await
}

/// The production approves a change order at the price its page showed.
async fn approve_change(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, change_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = async {
        let price = f
            .typed
            .price
            .trim()
            .parse()
            .map_err(|_| StoreError::Invalid(FieldError::new("price", "not_a_number")))?;
        state
            .store
            .tenant(&cx.scope)
            .approve_change(order_id, change_id, Approval { price })
            .await
            .map(|_| ())
    }
    .await;
    after_step(&state, &cx, order_id, done, Typed::default()).await
}

/// The production withdraws a change order, or the vendor declines it.
async fn close_change(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((order_id, change_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<StepForm>,
) -> PageResult {
    let cx = manager(&state, c, &f.csrf).await?;
    let done = state
        .store
        .tenant(&cx.scope)
        .close_change(order_id, change_id)
        .await
        .map(|_| ());
    after_step(&state, &cx, order_id, done, Typed::default()).await
}

/// An order under dispute as the operator's page shows it.
struct DisputeRow {
    id: String,
    title: String,
    production: String,
    vendor: String,
    held: String,
    /// "Opened by Harbour VFX on 2026-12-07 10:00".
    opened: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "work_order_disputes.html")]
struct DisputesPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    rows: Vec<DisputeRow>,
    /// Whether the reader rules (moves the operator's money), or only reads.
    can_rule: bool,
}

/// The platform operator's disputes to rule on, oldest first, each with what it holds, why it
/// was opened, and the ruling form.
async fn disputes(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    disputes_page(&state, &cx, None).await
}

async fn disputes_page(state: &State, cx: &Ctx, flash: Option<(String, String)>) -> PageResult {
    cx.need(Permission::ReadLedger)?;
    let rows = state
        .store
        .tenant(&cx.scope)
        .disputed_orders()
        .await?
        .into_iter()
        .map(|d| {
            let opened = d.dispute.as_ref().map(|x| {
                let by = if x.opened_by == d.org_id {
                    d.org_name.clone()
                } else {
                    d.vendor_name.clone().unwrap_or_default()
                };
                i18n::text_args(
                    "orders-dispute-by",
                    &[("org", by.into()), ("when", cx.time(x.opened_at.0).into())],
                )
            });
            DisputeRow {
                id: d.id.to_string(),
                title: d.title.clone(),
                production: d.org_name.clone(),
                vendor: d.vendor_name.clone().unwrap_or_default(),
                held: amount(&d.currency, d.held),
                opened: opened.unwrap_or_default(),
                reason: d.dispute.map(|x| x.reason).unwrap_or_default(),
            }
        })
        .collect();
    html(DisputesPage {
        tr: Tr::now(),
        nav: cx.nav("work-orders"),
        flash,
        csrf: cx.csrf.clone(),
        rows,
        can_rule: cx.scope.can(Permission::ManageLedger),
    })
}

/// The operator's ruling from its disputes page: back to the page, saying what was done or why
/// not.
async fn rule(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(order_id): Path<Uuid>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(field(&form, "csrf"))?;
    cx.need(Permission::ManageLedger)?;
    let t = state.store.tenant(&cx.scope);
    let done = async {
        let outcome = Outcome::parse(field(&form, "outcome"))
            .ok_or_else(|| StoreError::Invalid(FieldError::new("outcome", "required")))?;
        // In the order's currency; typed with another outcome, the store refuses it.
        let typed = field(&form, "release").trim();
        let release = if typed.is_empty() {
            None
        } else {
            let currency = t
                .disputed_orders()
                .await?
                .into_iter()
                .find(|d| d.id == order_id)
                .map(|d| d.currency)
                .ok_or(StoreError::NotFound {
                    entity: "work_order",
                })?;
            Some(typed_amount(&currency, typed, "release")?)
        };
        let r = Ruling {
            outcome,
            note: field(&form, "note").to_string(),
            release,
        };
        t.rule_dispute(order_id, r).await
    }
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/app/work-orders/disputes").into_response()),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            if status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN {
                return Err(e.into());
            }
            answered(disputes_page(&state, &cx, Some(flash_of(e))).await, status)
        }
    }
}
