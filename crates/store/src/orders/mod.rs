//! Work orders (context `orders`, migration 0063): a production posts a call for work on some
//! of its shots, tasks and assets; vendors it invites (or every organisation, once it is
//! published to the platform) bid; the production awards one bid. The award holds the price in
//! the ledger, in the books the platform's operator keeps: one pending transfer per milestone
//! from the production's wallet to the vendor's. The vendor delivers each milestone; the
//! production accepts it (the transfer is posted: the vendor is paid) or asks for changes.
//! Cancelling the award voids what is still held (the production is refunded); a dispute,
//! opened by either side, freezes every movement of the money until its opener withdraws it.
//!
//! The order, its scope, invitations and milestones are the production's rows (the vendor is a
//! party, `vendor_org_id`); a bid is the vendor's row (the production is a party,
//! `client_org_id`). A step one side takes on rows the other owns, or on the operator's books,
//! is a platform write that checks first that the caller is that side.

mod changes;
mod deliveries;
pub use changes::{Approval, ChangeOrder, ChangeState, NewChange, Quote};
mod work;

/// Inside a platform write: the erased person `user` is no longer among any work order's
/// artists.
pub(crate) async fn forget_artist_tx(
    tx: &mut crate::WriteTx<'_>,
    user: uuid::Uuid,
) -> crate::Result<()> {
    tx.execute(
        "DELETE FROM work_order_artists WHERE user_id = $1",
        &[user.into()],
    )
    .await?;
    Ok(())
}
pub use deliveries::{
    CheckedFile, DeliveredFile, DeliveredVersion, Delivery, DeliveryCheck, FileOutcome,
    MOST_MANIFEST, NewDelivery, ToVerify, VERIFY_JOB, formats_needed, pair_files, verify,
};
pub use work::{
    AssignedWork, HandIn, NewWorkNote, SetArtists, WorkArtist, WorkAuthor, WorkDetail, WorkFile,
    WorkNote, WorkSide, WorkVersion,
};

use mstation_core::ledger::{Currency, Kind, Purpose};
use mstation_core::market::valid_date;
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ledger::{TransferInput, apply_batch};
use crate::market::{held_account, operator_of};
use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError, Tenant,
    WriteTx, new_id, now_ms,
};

/// A rule of work orders a request would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrdersRule {
    /// Only a draft is changed or removed.
    NotDraft,
    /// Bids and awards are for an order open for bids.
    NotOpen,
    /// Delivery, acceptance, disputes and cancelling a running award need an awarded order.
    NotAwarded,
    /// An organisation does not bid for its own order.
    OwnOrder,
    /// The bid was withdrawn.
    BidWithdrawn,
    /// The money is frozen while a dispute is open.
    Disputed,
    /// The milestone is not waiting for a review.
    NotDelivered,
    /// The milestone was accepted or refunded already.
    MilestoneClosed,
    /// There is no open dispute this side opened.
    NoDispute,
    /// The step is the other side's to take.
    OtherSide,
    /// The bid's price is not the one the award names: it changed since it was read.
    BidChanged,
    /// A delivery waits for the production's review.
    AwaitingReview,
    /// Only the platform's operator rules on disputes.
    OperatorOnly,
    /// The operator does not rule on an order it is a side of.
    OwnDispute,
    /// The pending transfer holds a work order's milestone: the order pays or refunds it.
    HeldByOrder,
    /// The delivery's manifest is still being verified against its files.
    DeliveryVerifying,
    /// The delivery's files do not match its manifest: ask for changes instead.
    DeliveryFailed,
    /// The change order was approved, declined or withdrawn already.
    ChangeClosed,
    /// A change order is approved once the vendor has priced it.
    NotQuoted,
    /// The change order's price is not the one the approval names: it changed since it was read.
    QuoteChanged,
    /// Some of the work is another running order's: two vendors never share a piece of work.
    ScopeTaken,
}

impl OrdersRule {
    pub const ALL: [OrdersRule; 21] = [
        OrdersRule::NotDraft,
        OrdersRule::NotOpen,
        OrdersRule::NotAwarded,
        OrdersRule::OwnOrder,
        OrdersRule::BidWithdrawn,
        OrdersRule::Disputed,
        OrdersRule::NotDelivered,
        OrdersRule::MilestoneClosed,
        OrdersRule::NoDispute,
        OrdersRule::OtherSide,
        OrdersRule::BidChanged,
        OrdersRule::AwaitingReview,
        OrdersRule::OperatorOnly,
        OrdersRule::OwnDispute,
        OrdersRule::HeldByOrder,
        OrdersRule::DeliveryVerifying,
        OrdersRule::DeliveryFailed,
        OrdersRule::ChangeClosed,
        OrdersRule::NotQuoted,
        OrdersRule::QuoteChanged,
        OrdersRule::ScopeTaken,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            OrdersRule::NotDraft => "orders.not_draft",
            OrdersRule::NotOpen => "orders.not_open",
            OrdersRule::NotAwarded => "orders.not_awarded",
            OrdersRule::OwnOrder => "orders.own_order",
            OrdersRule::BidWithdrawn => "orders.bid_withdrawn",
            OrdersRule::Disputed => "orders.disputed",
            OrdersRule::NotDelivered => "orders.not_delivered",
            OrdersRule::MilestoneClosed => "orders.milestone_closed",
            OrdersRule::NoDispute => "orders.no_dispute",
            OrdersRule::OtherSide => "orders.other_side",
            OrdersRule::BidChanged => "orders.bid_changed",
            OrdersRule::AwaitingReview => "orders.awaiting_review",
            OrdersRule::OperatorOnly => "orders.operator_only",
            OrdersRule::OwnDispute => "orders.own_dispute",
            OrdersRule::HeldByOrder => "orders.held_by_order",
            OrdersRule::DeliveryVerifying => "orders.delivery_verifying",
            OrdersRule::DeliveryFailed => "orders.delivery_failed",
            OrdersRule::ChangeClosed => "orders.change_closed",
            OrdersRule::NotQuoted => "orders.not_quoted",
            OrdersRule::QuoteChanged => "orders.quote_changed",
            OrdersRule::ScopeTaken => "orders.scope_taken",
        }
    }
}

impl From<OrdersRule> for StoreError {
    fn from(r: OrdersRule) -> Self {
        StoreError::Rule(crate::Rule::Orders(r))
    }
}

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|k| k.as_str() == s)
            }
        }
    };
}

words!(
    /// Who sees an order open for bids.
    Audience {
        /// The vendors it invites.
        Invited => "invited",
        /// Every organisation on the platform.
        Platform => "platform",
    }
);

words!(
    /// Where an order stands.
    OrderState {
        /// Being written: only the production sees it.
        Draft => "draft",
        /// Open for bids.
        Open => "open",
        /// Awarded to a vendor, its price held.
        Awarded => "awarded",
        /// Every milestone accepted (or refunded, some being accepted).
        Completed => "completed",
        /// Called off: what was held went back.
        Cancelled => "cancelled",
    }
);

words!(
    /// What an order's scope names.
    ScopeKind {
        Shot => "shot",
        Task => "task",
        Asset => "asset",
    }
);

words!(
    /// Where a bid stands.
    BidState {
        Open => "open",
        Withdrawn => "withdrawn",
    }
);

words!(
    /// Where a milestone stands.
    MilestoneState {
        /// Its amount is held; the vendor is at work.
        Held => "held",
        /// The vendor delivered; the production reviews.
        Delivered => "delivered",
        /// The production asked for changes; the vendor delivers again.
        ChangesRequested => "changes_requested",
        /// Accepted: its amount was paid to the vendor.
        Accepted => "accepted",
        /// Its amount went back to the production.
        Refunded => "refunded",
    }
);

/// A shot, task or asset of the order's project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeItem {
    pub kind: ScopeKind,
    pub id: Uuid,
}

/// A work order as the production writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkOrder {
    pub project_id: Uuid,
    pub title: String,
    /// What the work is, for the vendors.
    #[serde(default)]
    pub brief: String,
    /// What is to be handed in, with its technical specifications.
    #[serde(default)]
    pub deliverables: String,
    /// ISO 4217; the budget and every bid are in its minor units.
    pub currency: String,
    pub budget_min: i64,
    pub budget_max: i64,
    /// `YYYY-MM-DD`: when the work is due.
    pub due_on: String,
    /// Whether vendors must sign a non-disclosure agreement.
    #[serde(default)]
    pub nda: bool,
    /// The shots, tasks and assets of the project the work is on.
    #[serde(default)]
    pub scope: Vec<ScopeItem>,
}

/// The most items one order's scope names.
pub const MOST_SCOPE: usize = 500;

/// A milestone of an award.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Milestone {
    pub id: Uuid,
    /// 1 for the first.
    pub position: i64,
    pub title: String,
    /// Minor units of the order's currency.
    pub amount: i64,
    pub state: MilestoneState,
    /// The pending transfer holding the amount, in the operator's books.
    pub transfer_id: Uuid,
    pub delivery_note: String,
    pub delivered_at: Option<Millis>,
    pub review_note: String,
    pub accepted_at: Option<Millis>,
    pub paid_at: Option<Millis>,
    pub refunded_at: Option<Millis>,
    /// What an accepted milestone paid when a ruling split it (the rest went back); none: all
    /// of its amount.
    pub paid_amount: Option<i64>,
    /// Whole days from acceptance to payment, once paid.
    pub days_to_payment: Option<i64>,
    /// Its latest delivery, with the verification of its manifest.
    pub delivery: Option<Delivery>,
}

const MILESTONE_COLS: &str = "id, position, title, amount, state, transfer_id, delivery_note, delivered_at, review_note, accepted_at, paid_at, refunded_at, paid_amount";

impl FromRow for Milestone {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, position, title, amount) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let state: String = r.get()?;
        let mut m = Milestone {
            id,
            position,
            title,
            amount,
            // Written by this store from `as_str`.
            state: MilestoneState::parse(&state).unwrap_or(MilestoneState::Held),
            transfer_id: r.get()?,
            delivery_note: r.get()?,
            delivered_at: r.get()?,
            review_note: r.get()?,
            accepted_at: r.get()?,
            paid_at: r.get()?,
            refunded_at: r.get()?,
            paid_amount: r.get()?,
            days_to_payment: None,
            delivery: None,
        };
        m.days_to_payment = match (m.accepted_at, m.paid_at) {
            (Some(a), Some(p)) => Some((p.0 - a.0).max(0) / 86_400_000),
            _ => None,
        };
        Ok(m)
    }
}

/// An open dispute.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dispute {
    /// The side that opened it.
    pub opened_by: Uuid,
    pub reason: String,
    pub opened_at: Millis,
}

/// A work order as one side reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkOrder {
    pub id: Uuid,
    /// The production that posted it.
    pub org_id: Uuid,
    pub org_name: String,
    /// The production's project: its own side only.
    pub project_id: Option<Uuid>,
    pub title: String,
    pub brief: String,
    pub deliverables: String,
    #[schema(value_type = String)]
    pub currency: String,
    pub budget_min: i64,
    pub budget_max: i64,
    pub due_on: String,
    pub nda: bool,
    pub audience: Audience,
    pub state: OrderState,
    /// The vendor awarded, once it is.
    pub vendor_org_id: Option<Uuid>,
    pub vendor_name: Option<String>,
    pub awarded_at: Option<Millis>,
    pub dispute: Option<Dispute>,
    /// The platform operator's ruling on a dispute, once it ruled.
    pub ruling: Option<RulingRecord>,
    /// Whether the reader is the production that posted it.
    pub own: bool,
    /// The work: for the production, and for the vendor awarded.
    pub scope: Vec<ScopeItem>,
    /// The vendors invited: for the production only.
    pub invited: Vec<Uuid>,
    /// The award's milestones, for both sides of it.
    pub milestones: Vec<Milestone>,
    /// Bids not withdrawn: the production sees how many.
    pub bids: Option<i64>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const ORDER_COLS: &str = "o.id, o.org_id, (SELECT name FROM orgs WHERE id = o.org_id), o.project_id, o.title, o.brief, o.deliverables, o.currency, o.budget_min, o.budget_max, o.due_on, o.nda, o.visibility, o.state, o.vendor_org_id, (SELECT name FROM orgs WHERE id = o.vendor_org_id), o.awarded_at, o.disputed_by, o.dispute, o.disputed_at, o.version, o.created_at, o.updated_at, o.ruling, o.ruling_note, o.ruled_at";

impl FromRow for WorkOrder {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, org_id, org_name, project_id) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let (title, brief, deliverables, currency) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let (budget_min, budget_max, due_on, nda) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let audience: String = r.get()?;
        let state: String = r.get()?;
        let (vendor_org_id, vendor_name, awarded_at) = (r.get()?, r.get()?, r.get()?);
        let disputed_by: Option<Uuid> = r.get()?;
        let reason: Option<String> = r.get()?;
        let disputed_at: Option<Millis> = r.get()?;
        Ok(WorkOrder {
            id,
            org_id,
            org_name,
            project_id: Some(project_id),
            title,
            brief,
            deliverables,
            currency,
            budget_min,
            budget_max,
            due_on,
            nda,
            // Written by this store from `as_str`.
            audience: Audience::parse(&audience).unwrap_or(Audience::Invited),
            state: OrderState::parse(&state).unwrap_or(OrderState::Draft),
            vendor_org_id,
            vendor_name,
            awarded_at,
            dispute: disputed_by.map(|opened_by| Dispute {
                opened_by,
                reason: reason.unwrap_or_default(),
                opened_at: disputed_at.unwrap_or(Millis(0)),
            }),
            own: false,
            scope: Vec::new(),
            invited: Vec::new(),
            milestones: Vec::new(),
            bids: None,
            version: r.get()?,
            created_at: r.get()?,
            updated_at: r.get()?,
            ruling: {
                let outcome: Option<String> = r.get()?;
                let note: Option<String> = r.get()?;
                let at: Option<Millis> = r.get()?;
                outcome
                    .and_then(|o| Outcome::parse(&o))
                    .map(|outcome| RulingRecord {
                        outcome,
                        note: note.unwrap_or_default(),
                        ruled_at: at.unwrap_or(Millis(0)),
                    })
            },
        })
    }
}

/// Which orders a list is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Those the organisation posted.
    Posted,
    /// Those open for its bids.
    Open,
    /// Those awarded to it.
    Awarded,
}

/// Who may read an order: the production, the vendor awarded, and while it is open, the
/// vendors it is shown to. `$1` is the reader.
const READABLE: &str = "(o.org_id = $1 OR o.vendor_org_id = $1 OR (o.state = 'open' AND (o.visibility = 'platform' OR EXISTS (SELECT 1 FROM work_order_invites i WHERE i.order_id = o.id AND i.vendor_org_id = $1))))";

/// A bid as its vendor writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBid {
    /// Minor units of the order's currency.
    pub price: i64,
    /// Days from the award to delivery.
    pub days: i64,
    #[serde(default)]
    pub assumptions: String,
    #[serde(default)]
    pub questions: String,
}

/// A vendor's bid.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bid {
    pub id: Uuid,
    pub order_id: Uuid,
    pub vendor_org_id: Uuid,
    pub vendor_name: String,
    pub price: i64,
    pub days: i64,
    pub assumptions: String,
    pub questions: String,
    pub state: BidState,
    /// Whether the order was awarded to it.
    pub awarded: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const BID_COLS: &str = "b.id, b.order_id, b.org_id, (SELECT name FROM orgs WHERE id = b.org_id), b.price, b.days, b.assumptions, b.questions, b.state, (SELECT COUNT(*) FROM work_orders w WHERE w.id = b.order_id AND w.bid_id = b.id), b.created_at, b.updated_at";

impl FromRow for Bid {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, order_id, vendor_org_id, vendor_name) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let (price, days, assumptions, questions) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let state: String = r.get()?;
        let awarded: i64 = r.get()?;
        Ok(Bid {
            id,
            order_id,
            vendor_org_id,
            vendor_name,
            price,
            days,
            assumptions,
            questions,
            state: BidState::parse(&state).unwrap_or(BidState::Open),
            awarded: awarded > 0,
            created_at: r.get()?,
            updated_at: r.get()?,
        })
    }
}

/// A milestone as an award names it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestone {
    pub title: String,
    pub amount: i64,
}

/// An award: the bid, and how its price is split into milestones (one for all of it, unless
/// given; their amounts add up to the price).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAward {
    pub bid_id: Uuid,
    /// The bid's price as the production read it: refused (`orders.bid_changed`) if the vendor
    /// has changed it since.
    pub price: i64,
    #[serde(default)]
    pub milestones: Vec<NewMilestone>,
}

/// The most milestones one award has.
pub const MOST_MILESTONES: usize = 20;

/// Publishing an order, or showing an open one to more vendors.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    pub audience: Audience,
    /// Organisations invited to bid.
    #[serde(default)]
    pub invite: Vec<Uuid>,
}

/// A note with a step (a delivery, a request for changes, a dispute).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepNote {
    #[serde(default)]
    pub note: String,
}

fn short_text(field: &'static str, v: &str, max: usize) -> Result<String> {
    Ok(validate::text(field, v, max)?)
}

/// A note that must say something: lines of text, up to 10,000 characters.
fn required_text(field: &'static str, v: &str) -> Result<String> {
    let text = short_text(field, v, 10_000)?;
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "required").into());
    }
    Ok(text)
}

impl Tenant<'_> {
    /// Writes a draft work order on some of the organisation's project's shots, tasks and
    /// assets.
    pub async fn create_work_order(&self, new: NewWorkOrder) -> Result<WorkOrder> {
        let title = validate::name("title", &new.title, 200)?;
        let brief = short_text("brief", &new.brief, 20_000)?;
        let deliverables = short_text("deliverables", &new.deliverables, 20_000)?;
        let currency = Currency::parse(&new.currency)
            .ok_or_else(|| FieldError::new("currency", "not_a_currency"))?;
        if new.budget_min < 0 {
            return Err(FieldError::new("budget_min", "must_not_be_negative").into());
        }
        if new.budget_max <= 0 {
            return Err(FieldError::new("budget_max", "must_be_positive").into());
        }
        if new.budget_max < new.budget_min {
            return Err(FieldError::new("budget_max", "below_minimum").into());
        }
        if !valid_date(&new.due_on) {
            return Err(FieldError::new("due_on", "not_a_date").into());
        }
        if new.scope.len() > MOST_SCOPE {
            return Err(FieldError::new("scope", "too_many").into());
        }
        let mut scope_items = new.scope.clone();
        scope_items.sort_by_key(|s| (s.kind.as_str(), s.id));
        scope_items.dedup();
        let scope = self.scope().clone();
        let id = self
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    if !crate::tracking::project_exists(tx, org, new.project_id).await? {
                        return Err(StoreError::NotFound { entity: "project" });
                    }
                    for kind in ScopeKind::ALL {
                        let ids: Vec<Uuid> = scope_items
                            .iter()
                            .filter(|s| s.kind == *kind)
                            .map(|s| s.id)
                            .collect();
                        let found = crate::tracking::in_project(
                            tx,
                            org,
                            new.project_id,
                            kind.as_str(),
                            &ids,
                        )
                        .await?;
                        if found != ids.len() {
                            return Err(FieldError::new("scope", "not_in_project").into());
                        }
                    }
                    let id = new_id();
                    let now = Millis(now_ms());
                    tx.execute(
                        "INSERT INTO work_orders (id, org_id, project_id, title, brief, deliverables, currency, budget_min, budget_max, due_on, nda, visibility, state, version, created_by, created_at, updated_at)
                         VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'invited', 'draft', 1, $12, $13, $13)",
                        &[
                            org.into(),
                            id.into(),
                            new.project_id.into(),
                            (&title).into(),
                            (&brief).into(),
                            (&deliverables).into(),
                            currency.as_str().into(),
                            new.budget_min.into(),
                            new.budget_max.into(),
                            (&new.due_on).into(),
                            new.nda.into(),
                            scope.user_id.into(),
                            now.into(),
                        ],
                    )
                    .await?;
                    for s in &scope_items {
                        tx.execute(
                            "INSERT INTO work_order_scope (order_id, org_id, kind, entity_id) VALUES ($2, $1, $3, $4)",
                            &[org.into(), id.into(), s.kind.as_str().into(), s.id.into()],
                        )
                        .await?;
                    }
                    let after = serde_json::json!({
                        "id": id, "project_id": new.project_id, "title": title, "currency": currency.as_str(),
                        "budget_min": new.budget_min, "budget_max": new.budget_max, "due_on": new.due_on,
                        "nda": new.nda, "scope": scope_items,
                    });
                    let change = Change::new(Some(org), "work_order.created", "work_order", id)
                        .after(&after);
                    tx.record(&Actor::of(&scope), change).await?;
                    Ok(id)
                })
            })
            .await?;
        self.work_order(id).await
    }

    /// Work orders on one side of the organisation's dealings, newest first.
    pub async fn work_orders(&self, side: Side, q: &ListQuery) -> Result<Page<WorkOrder>> {
        let filter = match side {
            Side::Posted => "o.org_id = $1",
            Side::Awarded => "o.vendor_org_id = $1",
            Side::Open => {
                "o.org_id <> $1 AND o.state = 'open' AND (o.visibility = 'platform' OR EXISTS (SELECT 1 FROM work_order_invites i WHERE i.order_id = o.id AND i.vendor_org_id = $1))"
            }
        };
        let org = self.org_id();
        let mut page: Page<WorkOrder> = self
            .page(
                ORDER_COLS,
                "work_orders o",
                filter,
                vec![org.into()],
                q,
                |o: &WorkOrder| o.id,
            )
            .await?;
        // The production's own orders say how many bids are open on each.
        let own: Vec<Uuid> = page
            .items
            .iter()
            .filter(|o| o.org_id == org)
            .map(|o| o.id)
            .collect();
        let mut bids: Vec<(Uuid, i64)> = Vec::new();
        if !own.is_empty() {
            let marks: Vec<String> = (2..own.len() + 2).map(|k| format!("${k}")).collect();
            let mut args: Vec<crate::Arg> = vec![org.into()];
            args.extend(own.iter().map(|id| crate::Arg::from(*id)));
            bids = self
                .read(
                    &format!(
                        "SELECT order_id, COUNT(*) FROM work_order_bids WHERE client_org_id = $1 AND state = 'open' AND order_id IN ({}) GROUP BY order_id",
                        marks.join(", ")
                    ),
                    &args,
                )
                .await?;
        }
        for o in &mut page.items {
            o.own = o.org_id == org;
            if o.own {
                o.bids = Some(
                    bids.iter()
                        .find(|(id, _)| *id == o.id)
                        .map_or(0, |(_, n)| *n),
                );
            } else {
                o.project_id = None;
            }
        }
        Ok(page)
    }

    /// A work order as the organisation may read it: all of it for the production; for the
    /// vendor awarded, its scope and milestones; for vendors it is shown to, what they bid on.
    pub async fn work_order(&self, id: Uuid) -> Result<WorkOrder> {
        let org = self.org_id();
        let mut o: WorkOrder = self
            .read_opt(
                &format!("SELECT {ORDER_COLS} FROM work_orders o WHERE o.id = $2 AND {READABLE}"),
                &[org.into(), id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound {
                entity: "work_order",
            })?;
        o.own = o.org_id == org;
        let vendor = o.vendor_org_id == Some(org);
        if o.own || vendor {
            let scope: Vec<ScopeRow> = self
                .read(
                    "SELECT s.kind, s.entity_id FROM work_order_scope s JOIN work_orders o ON o.id = s.order_id
                     WHERE s.order_id = $2 AND (o.org_id = $1 OR o.vendor_org_id = $1) ORDER BY s.kind, s.entity_id",
                    &[org.into(), id.into()],
                )
                .await?;
            o.scope = scope.into_iter().map(|s| s.0).collect();
            o.milestones = self
                .read(
                    &format!(
                        "SELECT {MILESTONE_COLS} FROM work_order_milestones
                         WHERE order_id = $2 AND (org_id = $1 OR vendor_org_id = $1) ORDER BY position"
                    ),
                    &[org.into(), id.into()],
                )
                .await?;
            let deliveries: Vec<Delivery> = self
                .read(
                    &format!(
                        "SELECT {} FROM work_order_deliveries
                         WHERE order_id = $2 AND (org_id = $1 OR vendor_org_id = $1) ORDER BY created_at, id",
                        deliveries::DELIVERY_COLS
                    ),
                    &[org.into(), id.into()],
                )
                .await?;
            for d in deliveries {
                if let Some(m) = o.milestones.iter_mut().find(|m| m.id == d.milestone_id) {
                    m.delivery = Some(d);
                }
            }
        }
        if o.own {
            o.invited = self
                .read::<(Uuid,)>(
                    "SELECT vendor_org_id FROM work_order_invites WHERE org_id = $1 AND order_id = $2 ORDER BY created_at, vendor_org_id",
                    &[org.into(), id.into()],
                )
                .await?
                .into_iter()
                .map(|(v,)| v)
                .collect();
            o.bids = Some(
                self.scalar(
                    "SELECT COUNT(*) FROM work_order_bids WHERE client_org_id = $1 AND order_id = $2 AND state = 'open'",
                    &[org.into(), id.into()],
                )
                .await?,
            );
        } else {
            o.project_id = None;
        }
        Ok(o)
    }

    /// Removes one of the organisation's draft orders.
    pub async fn delete_work_order(&self, id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let state = own_order(tx, org, id).await?.state;
                if state != OrderState::Draft {
                    return Err(OrdersRule::NotDraft.into());
                }
                for text in [
                    "DELETE FROM work_order_scope WHERE org_id = $1 AND order_id = $2",
                    "DELETE FROM work_order_invites WHERE org_id = $1 AND order_id = $2",
                    "DELETE FROM work_orders WHERE org_id = $1 AND id = $2",
                ] {
                    tx.execute(text, &[org.into(), id.into()]).await?;
                }
                let change = Change::new(Some(org), "work_order.deleted", "work_order", id);
                tx.record(&Actor::of(&scope), change).await?;
                Ok(())
            })
        })
        .await
    }

    /// Opens a draft for bids, to the vendors invited or to the platform; for an open order,
    /// shows it to more vendors (an order shown to the platform stays so).
    pub async fn publish_work_order(&self, id: Uuid, p: Publish) -> Result<WorkOrder> {
        // Another organisation's order is not found, whatever the body says.
        self.work_order(id).await?;
        if p.invite.len() > 100 {
            return Err(FieldError::new("invite", "too_many").into());
        }
        if p.audience == Audience::Invited && p.invite.is_empty() {
            return Err(FieldError::new("invite", "required").into());
        }
        let mut invite = p.invite.clone();
        invite.sort();
        invite.dedup();
        let scope = self.scope().clone();
        // A platform write: the vendors invited are told.
        self.platform().write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before = own_order(tx, org, id).await?;
                if !matches!(before.state, OrderState::Draft | OrderState::Open) {
                    return Err(OrdersRule::NotOpen.into());
                }
                let now = Millis(now_ms());
                for v in &invite {
                    if *v == org {
                        return Err(FieldError::new("invite", "not_another_organisation").into());
                    }
                    if !crate::identity::org_exists(tx, *v).await? {
                        return Err(FieldError::new("invite", "not_an_organisation").into());
                    }
                    tx.execute(
                        "INSERT INTO work_order_invites (order_id, org_id, vendor_org_id, created_at) VALUES ($2, $1, $3, $4)
                         ON CONFLICT (order_id, vendor_org_id) DO NOTHING",
                        &[org.into(), id.into(), (*v).into(), now.into()],
                    )
                    .await?;
                }
                let audience = if before.audience == Audience::Platform {
                    Audience::Platform
                } else {
                    p.audience
                };
                tx.execute(
                    "UPDATE work_orders SET state = 'open', visibility = $3, version = version + 1, updated_at = $4 WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into(), audience.as_str().into(), now.into()],
                )
                .await?;
                let after = serde_json::json!({ "state": "open", "audience": audience, "invited": invite });
                let mut announced = Vec::new();
                for v in &invite {
                    let news = Change::new(Some(*v), "work_order.invited", "work_order", id)
                        .after(&serde_json::json!({ "id": id, "title": before.title }));
                    announced.push(news);
                }
                let change = Change::new(Some(org), "work_order.published", "work_order", id)
                    .after(&after);
                tx.record_and_announce(&Actor::of(&scope), vec![change], announced)
                    .await?;
                Ok(())
            })
        })
        .await?;
        self.work_order(id).await
    }

    /// Bids for an order open to the organisation, or writes its bid again (a withdrawn one
    /// comes back).
    pub async fn bid(&self, order_id: Uuid, new: NewBid) -> Result<Bid> {
        let org = self.org_id();
        // An order the vendor cannot read is not found, whatever the bid says.
        let o = self.work_order(order_id).await?;
        if o.own {
            return Err(OrdersRule::OwnOrder.into());
        }
        if new.price <= 0 {
            return Err(FieldError::new("price", "must_be_positive").into());
        }
        if !(1..=3650).contains(&new.days) {
            return Err(FieldError::new("days", "out_of_range").into());
        }
        let assumptions = short_text("assumptions", &new.assumptions, 10_000)?;
        let questions = short_text("questions", &new.questions, 10_000)?;
        let scope = self.scope().clone();
        let client = o.org_id;
        // A platform write: the production is told of the bid.
        let bid_id = self
            .platform()
            .write(move |tx| {
                Box::pin(async move {
                    // The order, as the vendor may read it, still open.
                    // Locked: an award or a cancellation takes turns with the bid.
                    let state: Option<String> = tx
                        .scalar_opt(
                            &format!(
                                "SELECT o.state FROM work_orders o WHERE o.id = $2 AND {READABLE}{}",
                                tx.lock_rows()
                            ),
                            &[org.into(), order_id.into()],
                        )
                        .await?;
                    match state.as_deref() {
                        None => return Err(StoreError::NotFound { entity: "work_order" }),
                        Some("open") => {}
                        Some(_) => return Err(OrdersRule::NotOpen.into()),
                    }
                    let now = Millis(now_ms());
                    // One bid per vendor and order: written again, open again.
                    tx.execute(
                        "INSERT INTO work_order_bids (id, org_id, client_org_id, order_id, price, days, assumptions, questions, state, created_by, created_at, updated_at)
                         VALUES ($2, $1, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $10)
                         ON CONFLICT (order_id, org_id) DO UPDATE SET price = excluded.price, days = excluded.days,
                           assumptions = excluded.assumptions, questions = excluded.questions, state = 'open', updated_at = excluded.updated_at",
                        &[
                            org.into(),
                            new_id().into(),
                            client.into(),
                            order_id.into(),
                            new.price.into(),
                            new.days.into(),
                            (&assumptions).into(),
                            (&questions).into(),
                            scope.user_id.into(),
                            now.into(),
                        ],
                    )
                    .await?;
                    let id: Uuid = tx
                        .scalar(
                            "SELECT id FROM work_order_bids WHERE org_id = $1 AND order_id = $2",
                            &[org.into(), order_id.into()],
                        )
                        .await?;
                    let after = serde_json::json!({
                        "id": id, "order_id": order_id, "price": new.price, "days": new.days,
                    });
                    let mine = Change::new(Some(org), "bid.submitted", "bid", id).after(&after);
                    let news = Change::new(Some(client), "bid.submitted", "bid", id).after(&after);
                    tx.record_and_announce(&Actor::of(&scope), vec![mine], vec![news])
                        .await?;
                    Ok(id)
                })
            })
            .await?;
        self.read_opt(
            &format!("SELECT {BID_COLS} FROM work_order_bids b WHERE b.org_id = $1 AND b.id = $2"),
            &[org.into(), bid_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound { entity: "bid" })
    }

    /// The bids for an order: every one for the production that posted it, its own for a
    /// vendor.
    pub async fn bids(&self, order_id: Uuid) -> Result<Vec<Bid>> {
        let o = self.work_order(order_id).await?;
        let side = if o.own { "b.client_org_id" } else { "b.org_id" };
        self.read(
            &format!(
                "SELECT {BID_COLS} FROM work_order_bids b WHERE {side} = $1 AND b.order_id = $2 ORDER BY b.price, b.id LIMIT 500"
            ),
            &[self.org_id().into(), order_id.into()],
        )
        .await
    }

    /// Withdraws the organisation's bid while the order is open.
    pub async fn withdraw_bid(&self, order_id: Uuid, bid_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let found: Option<String> = tx
                    .scalar_opt(
                        &format!(
                            "SELECT o.state FROM work_order_bids b JOIN work_orders o ON o.id = b.order_id
                             WHERE b.org_id = $1 AND b.id = $2 AND b.order_id = $3{}",
                            tx.lock_rows()
                        ),
                        &[org.into(), bid_id.into(), order_id.into()],
                    )
                    .await?;
                match found.as_deref() {
                    None => return Err(StoreError::NotFound { entity: "bid" }),
                    Some("open") => {}
                    Some(_) => return Err(OrdersRule::NotOpen.into()),
                }
                tx.execute(
                    "UPDATE work_order_bids SET state = 'withdrawn', updated_at = $3 WHERE org_id = $1 AND id = $2",
                    &[org.into(), bid_id.into(), Millis(now_ms()).into()],
                )
                .await?;
                let change = Change::new(Some(org), "bid.withdrawn", "bid", bid_id);
                tx.record(&Actor::of(&scope), change).await?;
                Ok(())
            })
        })
        .await
    }

    /// Awards the order to a bid: its price is held from the production's wallet for the
    /// vendor, one pending transfer per milestone, and the vendor sees the order's scope.
    pub async fn award(&self, order_id: Uuid, a: NewAward) -> Result<WorkOrder> {
        self.work_order(order_id).await?;
        if a.milestones.len() > MOST_MILESTONES {
            return Err(FieldError::new("milestones", "too_many").into());
        }
        let mut milestones = Vec::with_capacity(a.milestones.len());
        for m in &a.milestones {
            if m.amount <= 0 {
                return Err(FieldError::new("milestones", "must_be_positive").into());
            }
            milestones.push((validate::name("milestones", &m.title, 200)?, m.amount));
        }
        // Two first awards to a vendor open its wallet at once: the second, once more, finds it.
        let mut attempt = 0;
        loop {
            let done = self
                .award_once(order_id, a.clone(), milestones.clone())
                .await;
            match done {
                Err(StoreError::Duplicate { .. }) if attempt == 0 => attempt += 1,
                Err(e) => return Err(e),
                Ok(()) => return self.work_order(order_id).await,
            }
        }
    }

    async fn award_once(
        &self,
        order_id: Uuid,
        a: NewAward,
        milestones: Vec<(String, i64)>,
    ) -> Result<()> {
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    let o = own_order(tx, org, order_id).await?;
                    if o.state != OrderState::Open {
                        return Err(OrdersRule::NotOpen.into());
                    }
                    let bid: Option<(Uuid, i64, String)> = tx
                        .query_opt(
                            &format!(
                                "SELECT org_id, price, state FROM work_order_bids WHERE client_org_id = $1 AND id = $2 AND order_id = $3{}",
                                tx.lock_rows()
                            ),
                            &[org.into(), a.bid_id.into(), order_id.into()],
                        )
                        .await?;
                    let Some((vendor, price, state)) = bid else {
                        return Err(StoreError::NotFound { entity: "bid" });
                    };
                    if state != BidState::Open.as_str() {
                        return Err(OrdersRule::BidWithdrawn.into());
                    }
                    if price != a.price {
                        return Err(OrdersRule::BidChanged.into());
                    }
                    let items: Vec<ScopeRow> = tx
                        .query(
                            "SELECT kind, entity_id FROM work_order_scope WHERE org_id = $1 AND order_id = $2",
                            &[org.into(), order_id.into()],
                        )
                        .await?;
                    let items: Vec<ScopeItem> = items.into_iter().map(|s| s.0).collect();
                    if scope_taken(tx, org, order_id, vendor, &items).await? {
                        return Err(OrdersRule::ScopeTaken.into());
                    }
                    let milestones = if milestones.is_empty() {
                        vec![(o.title.clone(), price)]
                    } else {
                        milestones
                    };
                    let total = milestones
                        .iter()
                        .try_fold(0i64, |s, (_, amount)| s.checked_add(*amount));
                    if total != Some(price) {
                        return Err(FieldError::new("milestones", "must_add_up_to_price").into());
                    }
                    let actor = Actor::of(&scope);
                    let operator = operator_of(tx).await?;
                    let cur = o.currency.clone();
                    let from =
                        held_account(tx, &actor, operator, org, Purpose::Wallet, &cur).await?;
                    let to =
                        held_account(tx, &actor, operator, vendor, Purpose::Wallet, &cur).await?;
                    let batch: Vec<TransferInput> = milestones
                        .iter()
                        .enumerate()
                        .map(|(i, (title, amount))| TransferInput {
                            kind: Some(Kind::Pending),
                            debit_account_id: Some(from),
                            credit_account_id: Some(to),
                            amount: Some(*amount),
                            description: format!("Work order «{}» · {} · {title}", o.title, i + 1),
                            ..TransferInput::default()
                        })
                        .collect();
                    let (written, mut changes) =
                        apply_batch(tx, operator, batch, Some(scope.user_id)).await?;
                    let now = Millis(now_ms());
                    for (i, ((title, amount), t)) in milestones.iter().zip(&written).enumerate() {
                        let held = Held { vendor, position: i as i64 + 1, title, amount: *amount, transfer: t.id };
                        insert_milestone(tx, org, order_id, held).await?;
                    }
                    tx.execute(
                        "UPDATE work_orders SET state = 'awarded', vendor_org_id = $3, bid_id = $4, awarded_at = $5, version = version + 1, updated_at = $5
                         WHERE org_id = $1 AND id = $2",
                        &[org.into(), order_id.into(), vendor.into(), a.bid_id.into(), now.into()],
                    )
                    .await?;
                    let after = serde_json::json!({
                        "id": order_id, "state": "awarded", "vendor_org_id": vendor, "bid_id": a.bid_id,
                        "price": price, "currency": cur, "milestones": milestones.len(),
                    });
                    changes.push(
                        Change::new(Some(org), "work_order.awarded", "work_order", order_id)
                            .after(&after),
                    );
                    let news = Change::new(Some(vendor), "work_order.awarded", "work_order", order_id)
                        .after(&after);
                    tx.record_and_announce(&actor, changes, vec![news]).await?;
                    Ok(())
                })
            })
            .await
    }

    /// The vendor awarded hands in a milestone's work (again, after changes were asked for):
    /// a note, the versions of the order's tasks it hands over and their ASC MHL manifest,
    /// which is verified against the files on arrival (`deliveries`).
    pub async fn deliver_milestone(
        &self,
        order_id: Uuid,
        milestone_id: Uuid,
        d: NewDelivery,
    ) -> Result<WorkOrder> {
        self.work_order(order_id).await?;
        let note = short_text("note", &d.note, 10_000)?;
        let manifest = deliveries::checked(&d)?;
        // The order's tasks, which the versions must be of: the step itself says why a
        // caller who no longer reads them may not deliver.
        let tasks = if d.versions.is_empty() {
            Vec::new()
        } else {
            match self.work_tasks(order_id).await {
                Ok(tasks) => tasks,
                // No longer the caller's to read: the step says why.
                Err(StoreError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        let step = Step::Deliver(DeliverStep {
            note,
            versions: d.versions,
            manifest,
            tasks,
        });
        self.milestone_step(order_id, milestone_id, step).await
    }

    /// The production accepts a delivered milestone: its amount is paid to the vendor.
    pub async fn accept_milestone(&self, order_id: Uuid, milestone_id: Uuid) -> Result<WorkOrder> {
        self.milestone_step(order_id, milestone_id, Step::Accept)
            .await
    }

    /// The production asks for changes to a delivered milestone.
    pub async fn request_changes(
        &self,
        order_id: Uuid,
        milestone_id: Uuid,
        note: StepNote,
    ) -> Result<WorkOrder> {
        self.work_order(order_id).await?;
        let text = required_text("note", &note.note)?;
        self.milestone_step(order_id, milestone_id, Step::Changes(text))
            .await
    }

    async fn milestone_step(
        &self,
        order_id: Uuid,
        milestone_id: Uuid,
        step: Step,
    ) -> Result<WorkOrder> {
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    let o = party_order(tx, org, order_id).await?;
                    let vendor = o.vendor_org_id == Some(org);
                    let production = o.org_id == org;
                    // The side the step is for; the other side is not told the order exists
                    // beyond what it may read.
                    if matches!(step, Step::Deliver(_)) != vendor
                        || matches!(step, Step::Accept | Step::Changes(_)) != production
                    {
                        return Err(OrdersRule::OtherSide.into());
                    }
                    if o.state != OrderState::Awarded {
                        return Err(OrdersRule::NotAwarded.into());
                    }
                    let m: Milestone = tx
                        .query_opt(
                            &format!(
                                "SELECT {MILESTONE_COLS} FROM work_order_milestones WHERE org_id = $1 AND order_id = $2 AND id = $3{}",
                                tx.lock_rows()
                            ),
                            &[o.org_id.into(), order_id.into(), milestone_id.into()],
                        )
                        .await?
                        .ok_or(StoreError::NotFound { entity: "milestone" })?;
                    if matches!(m.state, MilestoneState::Accepted | MilestoneState::Refunded) {
                        return Err(OrdersRule::MilestoneClosed.into());
                    }
                    let actor = Actor::of(&scope);
                    let now = Millis(now_ms());
                    let mut recorded = Vec::new();
                    let (action, after) = match &step {
                        Step::Deliver(d) => {
                            if m.state == MilestoneState::Delivered {
                                return Err(OrdersRule::AwaitingReview.into());
                            }
                            tx.execute(
                                "UPDATE work_order_milestones SET state = 'delivered', delivery_note = $3, delivered_at = $4 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), milestone_id.into(), (&d.note).into(), now.into()],
                            )
                            .await?;
                            let delivery = deliveries::record(
                                tx, &o, milestone_id, scope.user_id, &d.note, &d.versions, d.manifest.as_deref(), &d.tasks,
                            )
                            .await?;
                            ("milestone.delivered", serde_json::json!({
                                "state": "delivered", "note": d.note, "delivery_id": delivery.id,
                                "versions": delivery.versions, "check": delivery.check,
                            }))
                        }
                        Step::Changes(text) => {
                            if m.state != MilestoneState::Delivered {
                                return Err(OrdersRule::NotDelivered.into());
                            }
                            tx.execute(
                                "UPDATE work_order_milestones SET state = 'changes_requested', review_note = $3 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), milestone_id.into(), text.into()],
                            )
                            .await?;
                            ("milestone.changes_requested", serde_json::json!({ "state": "changes_requested", "note": text }))
                        }
                        Step::Accept => {
                            if o.dispute.is_some() {
                                return Err(OrdersRule::Disputed.into());
                            }
                            if m.state != MilestoneState::Delivered {
                                return Err(OrdersRule::NotDelivered.into());
                            }
                            deliveries::accepted_check(tx, o.org_id, milestone_id).await?;
                            let operator = operator_of(tx).await?;
                            let post = TransferInput {
                                kind: Some(Kind::Post),
                                pending_id: Some(m.transfer_id),
                                description: format!("Work order «{}» · {} accepted", o.title, m.title),
                                ..TransferInput::default()
                            };
                            let (_, changes) =
                                apply_batch(tx, operator, vec![post], Some(scope.user_id)).await?;
                            recorded.extend(changes);
                            tx.execute(
                                "UPDATE work_order_milestones SET state = 'accepted', accepted_at = $3, paid_at = $3 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), milestone_id.into(), now.into()],
                            )
                            .await?;
                            // The last one open accepted: the order is complete.
                            let open: i64 = tx
                                .scalar(
                                    "SELECT COUNT(*) FROM work_order_milestones WHERE org_id = $1 AND order_id = $2 AND state NOT IN ('accepted', 'refunded')",
                                    &[o.org_id.into(), order_id.into()],
                                )
                                .await?;
                            if open == 0 {
                                tx.execute(
                                    "UPDATE work_orders SET state = 'completed', version = version + 1, updated_at = $3 WHERE org_id = $1 AND id = $2",
                                    &[o.org_id.into(), order_id.into(), now.into()],
                                )
                                .await?;
                            }
                            ("milestone.accepted", serde_json::json!({ "state": "accepted", "amount": m.amount, "completed": open == 0 }))
                        }
                    };
                    let vendor_org = o.vendor_org_id.unwrap_or(o.org_id);
                    let (mine, theirs) = if vendor { (vendor_org, o.org_id) } else { (o.org_id, vendor_org) };
                    recorded.push(Change::new(Some(mine), action, "milestone", milestone_id).after(&after));
                    let news = Change::new(Some(theirs), action, "milestone", milestone_id).after(&after);
                    tx.record_and_announce(&actor, recorded, vec![news]).await?;
                    Ok(())
                })
            })
            .await?;
        self.work_order(order_id).await
    }

    /// Calls the order off: a draft or an open one simply; an awarded one gives back what is
    /// still held (the milestones accepted stay paid).
    pub async fn cancel_work_order(&self, order_id: Uuid) -> Result<WorkOrder> {
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    let o = own_order(tx, org, order_id).await?;
                    if matches!(o.state, OrderState::Completed | OrderState::Cancelled) {
                        return Err(OrdersRule::NotAwarded.into());
                    }
                    if o.dispute.is_some() {
                        return Err(OrdersRule::Disputed.into());
                    }
                    let actor = Actor::of(&scope);
                    let now = Millis(now_ms());
                    let (refunded, mut recorded) =
                        close_open(tx, &o, Kind::Void, scope.user_id, now, true).await?;
                    tx.execute(
                        "UPDATE work_orders SET state = 'cancelled', version = version + 1, updated_at = $3 WHERE org_id = $1 AND id = $2",
                        &[org.into(), order_id.into(), now.into()],
                    )
                    .await?;
                    let after = serde_json::json!({ "state": "cancelled", "refunded": refunded });
                    recorded.push(
                        Change::new(Some(org), "work_order.cancelled", "work_order", order_id)
                            .after(&after),
                    );
                    let news: Vec<Change> = o
                        .vendor_org_id
                        .map(|v| {
                            Change::new(Some(v), "work_order.cancelled", "work_order", order_id)
                                .after(&after)
                        })
                        .into_iter()
                        .collect();
                    tx.record_and_announce(&actor, recorded, news).await?;
                    Ok(())
                })
            })
            .await?;
        self.work_order(order_id).await
    }

    /// Either side of an award opens a dispute: the money stays where it is (nothing is paid,
    /// nothing refunded) until the side that opened it withdraws it.
    pub async fn open_dispute(&self, order_id: Uuid, note: StepNote) -> Result<WorkOrder> {
        self.work_order(order_id).await?;
        let reason = required_text("note", &note.note)?;
        self.dispute_step(order_id, Some(reason)).await
    }

    /// The side that opened the order's dispute withdraws it.
    pub async fn withdraw_dispute(&self, order_id: Uuid) -> Result<WorkOrder> {
        self.dispute_step(order_id, None).await
    }

    async fn dispute_step(&self, order_id: Uuid, reason: Option<String>) -> Result<WorkOrder> {
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    let o = party_order(tx, org, order_id).await?;
                    if o.org_id != org && o.vendor_org_id != Some(org) {
                        return Err(StoreError::NotFound { entity: "work_order" });
                    }
                    if o.state != OrderState::Awarded {
                        return Err(OrdersRule::NotAwarded.into());
                    }
                    let now = Millis(now_ms());
                    let action = match (&reason, &o.dispute) {
                        (Some(_), Some(_)) => return Err(OrdersRule::Disputed.into()),
                        (Some(text), None) => {
                            tx.execute(
                                "UPDATE work_orders SET disputed_by = $3, dispute = $4, disputed_at = $5, version = version + 1, updated_at = $5 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), order_id.into(), org.into(), text.into(), now.into()],
                            )
                            .await?;
                            "work_order.disputed"
                        }
                        (None, Some(d)) if d.opened_by == org => {
                            tx.execute(
                                "UPDATE work_orders SET disputed_by = NULL, dispute = NULL, disputed_at = NULL, version = version + 1, updated_at = $3 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), order_id.into(), now.into()],
                            )
                            .await?;
                            "work_order.dispute_withdrawn"
                        }
                        (None, _) => return Err(OrdersRule::NoDispute.into()),
                    };
                    let after = serde_json::json!({ "dispute": reason, "by": org });
                    let vendor = o.vendor_org_id.unwrap_or(o.org_id);
                    let theirs = if org == o.org_id { vendor } else { o.org_id };
                    let mine = Change::new(Some(org), action, "work_order", order_id).after(&after);
                    let news = Change::new(Some(theirs), action, "work_order", order_id).after(&after);
                    tx.record_and_announce(&Actor::of(&scope), vec![mine], vec![news]).await?;
                    Ok(())
                })
            })
            .await?;
        self.work_order(order_id).await
    }
}

words!(
    /// How the platform's operator settles a dispute.
    Outcome {
        /// Every milestone still held is paid to the vendor: the order is complete.
        Release => "release",
        /// Every milestone still held goes back to the production: the order is called off.
        Refund => "refund",
        /// Part of what is held (`release`) is paid to the vendor, the rest goes back to the
        /// production: the order is complete.
        Split => "split",
    }
);

/// The operator's ruling on an order's dispute.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ruling {
    pub outcome: Outcome,
    /// Why, for both sides.
    pub note: String,
    /// For a split: what the vendor is paid of what is held, in minor units (more than none,
    /// less than all).
    #[serde(default)]
    pub release: Option<i64>,
}

/// An order under dispute, as the platform's operator reads it to rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisputedOrder {
    pub id: Uuid,
    pub title: String,
    pub org_id: Uuid,
    pub org_name: String,
    pub vendor_org_id: Option<Uuid>,
    pub vendor_name: Option<String>,
    #[schema(value_type = String)]
    pub currency: String,
    /// What the milestones still open hold, in minor units.
    pub held: i64,
    pub dispute: Option<Dispute>,
}

/// The operator's ruling as the order keeps it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RulingRecord {
    pub outcome: Outcome,
    pub note: String,
    pub ruled_at: Millis,
}

/// What a ruling did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ruled {
    pub order_id: Uuid,
    pub state: OrderState,
    /// Paid to the vendor by the ruling, in minor units.
    pub released: i64,
    /// Given back to the production by the ruling.
    pub refunded: i64,
}

impl Tenant<'_> {
    /// The platform's operator: the first organisation of that kind, which keeps the books.
    /// Whether the caller's organisation is the platform's operator (which rules on disputes).
    pub async fn is_operator(&self) -> Result<bool> {
        let found: Vec<(Uuid,)> = self
            .platform()
            .read(
                "SELECT id FROM orgs WHERE kind = 'platform_operator' ORDER BY created_at, id LIMIT 1",
                &[],
            )
            .await?;
        Ok(found.first().is_some_and(|(id,)| *id == self.org_id()))
    }

    /// Every order under dispute on the platform that the operator is no side of, oldest
    /// dispute first: the operator's to rule on.
    pub async fn disputed_orders(&self) -> Result<Vec<DisputedOrder>> {
        if !self.is_operator().await? {
            return Err(OrdersRule::OperatorOnly.into());
        }
        let orders: Vec<WorkOrder> = self
            .platform()
            .read(
                &format!(
                    "SELECT {ORDER_COLS} FROM work_orders o WHERE o.disputed_by IS NOT NULL
                     AND o.org_id <> $1 AND (o.vendor_org_id IS NULL OR o.vendor_org_id <> $1)
                     ORDER BY o.disputed_at, o.id LIMIT 500"
                ),
                &[self.org_id().into()],
            )
            .await?;
        let mut out = Vec::with_capacity(orders.len());
        for o in orders {
            let held: Option<i64> = self
                .platform()
                .read::<(Option<i64>,)>(
                    "SELECT CAST(SUM(amount) AS BIGINT) FROM work_order_milestones WHERE order_id = $1 AND state NOT IN ('accepted', 'refunded')",
                    &[o.id.into()],
                )
                .await?
                .first()
                .and_then(|(v,)| *v);
            out.push(DisputedOrder {
                id: o.id,
                title: o.title,
                org_id: o.org_id,
                org_name: o.org_name,
                vendor_org_id: o.vendor_org_id,
                vendor_name: o.vendor_name,
                currency: o.currency,
                held: held.unwrap_or(0),
                dispute: o.dispute,
            });
        }
        Ok(out)
    }

    /// The operator rules on an order's dispute: every milestone still held is paid to the
    /// vendor (`release`, the order complete), given back to the production (`refund`, the
    /// order called off), or split (`split`: `release` paid, the rest given back, the order
    /// complete), and the dispute closes. For anyone but the operator, an order it is
    /// no side of is not found, and its own is refused.
    pub async fn rule_dispute(&self, order_id: Uuid, r: Ruling) -> Result<Ruled> {
        if !self.is_operator().await? {
            self.work_order(order_id).await?;
            return Err(OrdersRule::OperatorOnly.into());
        }
        let note = required_text("note", &r.note)?;
        let release = match (r.outcome, r.release) {
            (Outcome::Split, Some(a)) if a > 0 => Some(a),
            (Outcome::Split, Some(_)) => {
                return Err(FieldError::new("release", "must_be_positive").into());
            }
            (Outcome::Split, None) => return Err(FieldError::new("release", "required").into()),
            (_, Some(_)) => return Err(FieldError::new("release", "only_for_a_split").into()),
            (_, None) => None,
        };
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let o: WorkOrder = tx
                        .query_opt(
                            &format!(
                                "SELECT {ORDER_COLS} FROM work_orders o WHERE o.id = $1{}",
                                tx.lock_rows()
                            ),
                            &[order_id.into()],
                        )
                        .await?
                        .ok_or(StoreError::NotFound {
                            entity: "work_order",
                        })?;
                    // The operator is no judge of its own order.
                    if o.org_id == scope.org_id || o.vendor_org_id == Some(scope.org_id) {
                        return Err(OrdersRule::OwnDispute.into());
                    }
                    if o.state != OrderState::Awarded {
                        return Err(OrdersRule::NotAwarded.into());
                    }
                    let Some(vendor) = o.vendor_org_id.filter(|_| o.dispute.is_some()) else {
                        return Err(OrdersRule::NoDispute.into());
                    };
                    let operator = operator_of(tx).await?;
                    let now = Millis(now_ms());
                    let (order_state, released, refunded, mut recorded) = match (r.outcome, release) {
                        (Outcome::Split, Some(part)) => {
                            let (released, refunded, changes) =
                                split_open(tx, &o, part, scope.user_id, now).await?;
                            (OrderState::Completed, released, refunded, changes)
                        }
                        (Outcome::Release, _) | (Outcome::Split, None) => {
                            let (amount, changes) =
                                close_open(tx, &o, Kind::Post, scope.user_id, now, false).await?;
                            (OrderState::Completed, amount, 0, changes)
                        }
                        (Outcome::Refund, _) => {
                            let (amount, changes) =
                                close_open(tx, &o, Kind::Void, scope.user_id, now, false).await?;
                            (OrderState::Cancelled, 0, amount, changes)
                        }
                    };
                    tx.execute(
                        "UPDATE work_orders SET state = $3, disputed_by = NULL, dispute = NULL, disputed_at = NULL, ruling = $5, ruling_note = $6, ruled_at = $4, version = version + 1, updated_at = $4 WHERE org_id = $1 AND id = $2",
                        &[
                            o.org_id.into(),
                            order_id.into(),
                            order_state.as_str().into(),
                            now.into(),
                            r.outcome.as_str().into(),
                            (&note).into(),
                        ],
                    )
                    .await?;
                    let after = serde_json::json!({
                        "outcome": r.outcome, "note": note, "state": order_state,
                        "released": released, "refunded": refunded,
                    });
                    recorded.push(
                        Change::new(Some(operator), "work_order.ruled", "work_order", order_id)
                            .after(&after),
                    );
                    let news = [o.org_id, vendor]
                        .into_iter()
                        .map(|org| {
                            Change::new(Some(org), "work_order.ruled", "work_order", order_id)
                                .after(&after)
                        })
                        .collect();
                    tx.record_and_announce(&Actor::of(&scope), recorded, news).await?;
                    Ok(Ruled {
                        order_id,
                        state: order_state,
                        released,
                        refunded,
                    })
                })
            })
            .await
    }
}

/// Inside a write: whether some of `items` is already the work of another of `org`'s orders
/// awarded to a vendor other than `vendor` — the same shot, task or asset, a task of one of its
/// shots or assets, or the shot or asset of one of its tasks. Two vendors never share a piece
/// of work, so neither reads the other's. Awards and approvals of one production take turns here (PostgreSQL), so two at
/// once cannot both take the same work.
pub(crate) async fn scope_taken(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    order: Uuid,
    vendor: Uuid,
    items: &[ScopeItem],
) -> Result<bool> {
    let head = u64::from_le_bytes(org.as_bytes()[8..16].try_into().unwrap_or_default());
    tx.take_turns(head as i64 ^ 0x776f_726b).await?;
    let marks = |n: usize| {
        (2..n + 2)
            .map(|k| format!("${k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let of = |kind: ScopeKind| -> Vec<Uuid> {
        items
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.id)
            .collect()
    };
    let mut ids: Vec<Uuid> = items.iter().map(|s| s.id).collect();
    for (column, parents) in [
        ("shot_id", of(ScopeKind::Shot)),
        ("asset_id", of(ScopeKind::Asset)),
    ] {
        for chunk in parents.chunks(200) {
            let text = format!(
                "SELECT id FROM tasks WHERE org_id = $1 AND {column} IN ({})",
                marks(chunk.len())
            );
            let mut args: Vec<crate::Arg> = vec![org.into()];
            args.extend(chunk.iter().map(|id| crate::Arg::from(*id)));
            let found: Vec<(Uuid,)> = tx.query(&text, &args).await?;
            ids.extend(found.into_iter().map(|(id,)| id));
        }
    }
    for chunk in of(ScopeKind::Task).chunks(200) {
        let text = format!(
            "SELECT shot_id, asset_id FROM tasks WHERE org_id = $1 AND id IN ({})",
            marks(chunk.len())
        );
        let mut args: Vec<crate::Arg> = vec![org.into()];
        args.extend(chunk.iter().map(|id| crate::Arg::from(*id)));
        let found: Vec<(Option<Uuid>, Option<Uuid>)> = tx.query(&text, &args).await?;
        ids.extend(found.into_iter().flat_map(|(s, a)| s.into_iter().chain(a)));
    }
    ids.sort();
    ids.dedup();
    for chunk in ids.chunks(200) {
        let text = format!(
            "SELECT s.entity_id FROM work_order_scope s JOIN work_orders o ON o.id = s.order_id
             WHERE s.org_id = $1 AND o.state = 'awarded' AND s.order_id <> ${} AND o.vendor_org_id <> ${}
             AND s.entity_id IN ({}) LIMIT 1",
            chunk.len() + 2,
            chunk.len() + 3,
            marks(chunk.len())
        );
        let mut args: Vec<crate::Arg> = vec![org.into()];
        args.extend(chunk.iter().map(|id| crate::Arg::from(*id)));
        args.push(order.into());
        args.push(vendor.into());
        let found: Option<Uuid> = tx.scalar_opt(&text, &args).await?;
        if found.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A milestone's amount just held, as `insert_milestone` writes it.
pub(crate) struct Held<'a> {
    pub vendor: Uuid,
    /// 1 for the first.
    pub position: i64,
    pub title: &'a str,
    pub amount: i64,
    /// The pending transfer holding it.
    pub transfer: Uuid,
}

/// Inside a write: a milestone of `org`'s order `order` whose amount the pending transfer
/// `held.transfer` holds; its id.
pub(crate) async fn insert_milestone(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    order: Uuid,
    held: Held<'_>,
) -> Result<Uuid> {
    let id = new_id();
    tx.execute(
        "INSERT INTO work_order_milestones (id, org_id, vendor_org_id, order_id, position, title, amount, transfer_id, state, delivery_note, review_note)
         VALUES ($2, $1, $3, $4, $5, $6, $7, $8, 'held', '', '')",
        &[
            org.into(),
            id.into(),
            held.vendor.into(),
            order.into(),
            held.position.into(),
            held.title.into(),
            held.amount.into(),
            held.transfer.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// Inside a write of the books' keeper `org`: whether its pending transfer `id` holds a work
/// order's milestone, which only the order's own steps post or void (for the ledger, which
/// refuses a batch that would).
pub(crate) async fn holds_milestone(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid) -> Result<bool> {
    let found: Option<Uuid> = tx
        .scalar_opt(
            "SELECT m.id FROM work_order_milestones m JOIN ledger_transfers t ON t.id = m.transfer_id
             WHERE t.org_id = $1 AND t.id = $2",
            &[org.into(), id.into()],
        )
        .await?;
    Ok(found.is_some())
}

/// Inside a platform write: every milestone of `o` still open closed at once, paid (`Post`)
/// or given back (`Void`), its transfer and its row together. `reviewed`: a delivery waiting
/// for its review refuses it (a cancellation never takes back work unseen; a ruling decides on
/// it). Answers what was moved and the transfers' changes to record.
async fn close_open(
    tx: &mut WriteTx<'_>,
    o: &WorkOrder,
    kind: Kind,
    by: Uuid,
    now: Millis,
    reviewed: bool,
) -> Result<(i64, Vec<Change>)> {
    let open: Vec<Milestone> = tx
        .query(
            &format!(
                "SELECT {MILESTONE_COLS} FROM work_order_milestones WHERE org_id = $1 AND order_id = $2 AND state NOT IN ('accepted', 'refunded') ORDER BY position"
            ),
            &[o.org_id.into(), o.id.into()],
        )
        .await?;
    if reviewed && open.iter().any(|m| m.state == MilestoneState::Delivered) {
        return Err(OrdersRule::AwaitingReview.into());
    }
    if open.is_empty() {
        return Ok((0, Vec::new()));
    }
    let operator = operator_of(tx).await?;
    let (word, state, stamp) = if kind == Kind::Post {
        ("paid", "accepted", "accepted_at = $4, paid_at = $4")
    } else {
        ("refunded", "refunded", "refunded_at = $4")
    };
    let batch = open
        .iter()
        .map(|m| TransferInput {
            kind: Some(kind),
            pending_id: Some(m.transfer_id),
            description: format!("Work order «{}» · {} {word}", o.title, m.title),
            ..TransferInput::default()
        })
        .collect();
    let (_, changes) = apply_batch(tx, operator, batch, Some(by)).await?;
    tx.execute(
        &format!(
            "UPDATE work_order_milestones SET state = $3, {stamp} WHERE org_id = $1 AND order_id = $2 AND state NOT IN ('accepted', 'refunded')"
        ),
        &[o.org_id.into(), o.id.into(), state.into(), now.into()],
    )
    .await?;
    Ok((open.iter().map(|m| m.amount).sum(), changes))
}

/// A delivery's step: its note, the versions it hands over (each of one of `tasks`, the
/// order's) and their manifest.
struct DeliverStep {
    note: String,
    versions: Vec<Uuid>,
    manifest: Option<String>,
    tasks: Vec<Uuid>,
}

/// Inside a ruling's write: what `o`'s open milestones hold split, `release` paid to the
/// vendor in the milestones' order (the first ones in full, one in part) and the rest given
/// back, their transfers posted (in part) or voided and their rows closed together. Answers
/// what was paid, what was given back and the transfers' changes.
async fn split_open(
    tx: &mut WriteTx<'_>,
    o: &WorkOrder,
    release: i64,
    by: Uuid,
    now: Millis,
) -> Result<(i64, i64, Vec<Change>)> {
    let open: Vec<Milestone> = tx
        .query(
            &format!(
                "SELECT {MILESTONE_COLS} FROM work_order_milestones WHERE org_id = $1 AND order_id = $2 AND state NOT IN ('accepted', 'refunded') ORDER BY position"
            ),
            &[o.org_id.into(), o.id.into()],
        )
        .await?;
    let held: i64 = open.iter().map(|m| m.amount).sum();
    if release >= held {
        return Err(FieldError::new("release", "less_than_held").into());
    }
    let operator = operator_of(tx).await?;
    let mut left = release;
    let mut batch = Vec::new();
    let mut rows = Vec::new();
    for m in &open {
        let paid = left.min(m.amount);
        left -= paid;
        batch.push(TransferInput {
            kind: Some(if paid > 0 { Kind::Post } else { Kind::Void }),
            pending_id: Some(m.transfer_id),
            amount: (paid > 0).then_some(paid),
            description: format!("Work order «{}» · {} split by ruling", o.title, m.title),
            ..TransferInput::default()
        });
        rows.push((m.id, paid, m.amount));
    }
    let (_, changes) = apply_batch(tx, operator, batch, Some(by)).await?;
    for (id, paid, whole) in rows {
        if paid > 0 {
            // What it paid is kept only when it is less than its amount.
            let part = (paid < whole).then_some(paid);
            tx.execute(
                "UPDATE work_order_milestones SET state = 'accepted', accepted_at = $3, paid_at = $3, paid_amount = $4 WHERE org_id = $1 AND id = $2",
                &[o.org_id.into(), id.into(), now.into(), part.into()],
            )
            .await?;
        } else {
            tx.execute(
                "UPDATE work_order_milestones SET state = 'refunded', refunded_at = $3 WHERE org_id = $1 AND id = $2",
                &[o.org_id.into(), id.into(), now.into()],
            )
            .await?;
        }
    }
    Ok((release, held - release, changes))
}

/// A step on a milestone.
enum Step {
    Deliver(DeliverStep),
    Accept,
    Changes(String),
}

struct ScopeRow(ScopeItem);

impl FromRow for ScopeRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let kind: String = r.get()?;
        Ok(ScopeRow(ScopeItem {
            // Written by this store from `as_str`.
            kind: ScopeKind::parse(&kind).unwrap_or(ScopeKind::Shot),
            id: r.get()?,
        }))
    }
}

/// Inside a write: one of `org`'s orders, locked.
async fn own_order(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid) -> Result<WorkOrder> {
    tx.query_opt(
        &format!(
            "SELECT {ORDER_COLS} FROM work_orders o WHERE o.org_id = $1 AND o.id = $2{}",
            tx.lock_rows()
        ),
        &[org.into(), id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound {
        entity: "work_order",
    })
}

/// Inside a platform write: an order `org` is a side of (its production or its vendor),
/// locked; not found for anyone else.
async fn party_order(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid) -> Result<WorkOrder> {
    tx.query_opt(
        &format!(
            "SELECT {ORDER_COLS} FROM work_orders o WHERE o.id = $2 AND (o.org_id = $1 OR o.vendor_org_id = $1){}",
            tx.lock_rows()
        ),
        &[org.into(), id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound {
        entity: "work_order",
    })
}
