//! Change orders (migration 0068): new work asked for while an order runs — a client's note
//! that wants more than was awarded, say — written up by the production with the shots, tasks
//! and assets it adds, priced by the vendor, and approved by the production, which holds the
//! price as a new milestone (a pending transfer, as the award's) and adds the scope to the
//! order's work. Until then nothing of it reaches the vendor's artists: they see the work they
//! are put on, and the scope grows only on approval. Numbered per order: CO-1, CO-2 …

use mstation_core::ledger::{Kind, Purpose};
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{MOST_SCOPE, OrderState, OrdersRule, ScopeItem, ScopeKind, party_order};
use crate::ledger::{TransferInput, apply_batch};
use crate::market::{held_account, operator_of};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, new_id, now_ms,
};

/// The most change orders one order takes.
pub const MOST_CHANGES: i64 = 200;

/// Where a change order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeState {
    /// Written by the production; the vendor prices it.
    Requested,
    /// Priced by the vendor; the production approves or withdraws it.
    Quoted,
    /// Approved: its price held as a milestone, its scope part of the work.
    Approved,
    /// Turned down by the vendor.
    Declined,
    /// Taken back by the production.
    Withdrawn,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Requested => "requested",
            ChangeState::Quoted => "quoted",
            ChangeState::Approved => "approved",
            ChangeState::Declined => "declined",
            ChangeState::Withdrawn => "withdrawn",
        }
    }
    fn parse(s: &str) -> ChangeState {
        match s {
            "quoted" => ChangeState::Quoted,
            "approved" => ChangeState::Approved,
            "declined" => ChangeState::Declined,
            "withdrawn" => ChangeState::Withdrawn,
            _ => ChangeState::Requested,
        }
    }
    fn open(self) -> bool {
        matches!(self, ChangeState::Requested | ChangeState::Quoted)
    }
}

/// A change order as the production writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChange {
    pub title: String,
    /// What is asked for, in the words the vendor's artists will read once it is approved.
    #[serde(default)]
    pub description: String,
    /// The note it came from (a client's, held or not), on the order's project.
    #[serde(default)]
    pub note_id: Option<Uuid>,
    /// Shots, tasks and assets of the order's project it adds to the work.
    #[serde(default)]
    pub scope: Vec<ScopeItem>,
}

/// The vendor's price for a change order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// Minor units of the order's currency.
    pub price: i64,
    pub days: i64,
    #[serde(default)]
    pub note: String,
}

/// The production's approval, at the price it read (a quote changed since is refused).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub price: i64,
}

/// A change order as both sides read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeOrder {
    pub id: Uuid,
    pub order_id: Uuid,
    /// 1 for CO-1.
    pub number: i64,
    pub title: String,
    pub description: String,
    /// The note it came from: the production's to read.
    pub note_id: Option<Uuid>,
    pub scope: Vec<ScopeItem>,
    pub state: ChangeState,
    pub price: Option<i64>,
    pub days: Option<i64>,
    pub quote_note: String,
    /// The milestone its approval added.
    pub milestone_id: Option<Uuid>,
    pub created_at: Millis,
    pub quoted_at: Option<Millis>,
    pub decided_at: Option<Millis>,
}

const CHANGE_COLS: &str = "id, order_id, number, title, description, note_id, scope, state, price, days, quote_note, milestone_id, created_at, quoted_at, decided_at";

impl FromRow for ChangeOrder {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, order_id, number, title, description, note_id) =
            (r.get()?, r.get()?, r.get()?, r.get()?, r.get()?, r.get()?);
        let scope: String = r.get()?;
        let state: String = r.get()?;
        Ok(ChangeOrder {
            id,
            order_id,
            number,
            title,
            description,
            note_id,
            // Written by this store from `ScopeItem`s.
            scope: serde_json::from_str(&scope).unwrap_or_default(),
            state: ChangeState::parse(&state),
            price: r.get()?,
            days: r.get()?,
            quote_note: r.get()?,
            milestone_id: r.get()?,
            created_at: r.get()?,
            quoted_at: r.get()?,
            decided_at: r.get()?,
        })
    }
}

/// What a step on a change order does.
enum ChangeStep {
    Quote(Quote),
    Approve(Approval),
    /// The production withdraws it, or the vendor declines it.
    Close,
}

impl Tenant<'_> {
    /// The change orders of an order, oldest first: for both sides (the vendor not told which
    /// note a change came from).
    pub async fn change_orders(&self, order_id: Uuid) -> Result<Vec<ChangeOrder>> {
        let o = self.work_order(order_id).await?;
        if !o.own && o.vendor_org_id != Some(self.org_id()) {
            return Err(StoreError::NotFound {
                entity: "work_order",
            });
        }
        let mut all: Vec<ChangeOrder> = self
            .read(
                &format!(
                    "SELECT {CHANGE_COLS} FROM work_order_changes WHERE order_id = $2 AND (org_id = $1 OR vendor_org_id = $1) ORDER BY number"
                ),
                &[self.org_id().into(), order_id.into()],
            )
            .await?;
        if !o.own {
            for c in &mut all {
                c.note_id = None;
            }
        }
        Ok(all)
    }

    /// The production writes up new work on a running order: what it is, the note it came
    /// from, and the shots, tasks and assets of the order's project it adds.
    pub async fn request_change(&self, order_id: Uuid, new: NewChange) -> Result<ChangeOrder> {
        self.work_order(order_id).await?;
        let title = validate::name("title", &new.title, 200)?;
        let description = validate::text("description", &new.description, 20_000)?;
        if new.scope.len() > MOST_SCOPE {
            return Err(FieldError::new("scope", "too_many").into());
        }
        let mut items = new.scope.clone();
        items.sort_by_key(|s| (s.kind.as_str(), s.id));
        items.dedup();
        let scope = self.scope().clone();
        let id = self
            .platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    let o = party_order(tx, org, order_id).await?;
                    if o.org_id != org {
                        return Err(OrdersRule::OtherSide.into());
                    }
                    if o.state != OrderState::Awarded {
                        return Err(OrdersRule::NotAwarded.into());
                    }
                    // The production's own row: its project is there.
                    let project = o.project_id.unwrap_or_default();
                    for kind in ScopeKind::ALL {
                        let ids: Vec<Uuid> =
                            items.iter().filter(|s| s.kind == *kind).map(|s| s.id).collect();
                        let found =
                            crate::tracking::in_project(tx, org, project, kind.as_str(), &ids)
                                .await?;
                        if found != ids.len() {
                            return Err(FieldError::new("scope", "not_in_project").into());
                        }
                    }
                    if let Some(n) = new.note_id {
                        let on: Option<Uuid> = tx
                            .scalar_opt(
                                "SELECT project_id FROM notes WHERE org_id = $1 AND id = $2",
                                &[org.into(), n.into()],
                            )
                            .await?;
                        if on != Some(project) {
                            return Err(FieldError::new("note_id", "not_a_note_of_this_project").into());
                        }
                    }
                    let number: i64 = tx
                        .scalar(
                            "SELECT COALESCE(MAX(number), 0) + 1 FROM work_order_changes WHERE org_id = $1 AND order_id = $2",
                            &[org.into(), order_id.into()],
                        )
                        .await?;
                    if number > MOST_CHANGES {
                        return Err(FieldError::new("title", "too_many_changes").into());
                    }
                    let c = ChangeOrder {
                        id: new_id(),
                        order_id,
                        number,
                        title,
                        description,
                        note_id: new.note_id,
                        scope: items,
                        state: ChangeState::Requested,
                        price: None,
                        days: None,
                        quote_note: String::new(),
                        milestone_id: None,
                        created_at: Millis(now_ms()),
                        quoted_at: None,
                        decided_at: None,
                    };
                    let vendor = o.vendor_org_id.unwrap_or(org);
                    tx.execute(
                        "INSERT INTO work_order_changes (id, org_id, vendor_org_id, order_id, number, title, description, note_id, scope, state, quote_note, created_by, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'requested', '', $10, $11)",
                        &[
                            c.id.into(),
                            org.into(),
                            vendor.into(),
                            order_id.into(),
                            number.into(),
                            (&c.title).into(),
                            (&c.description).into(),
                            c.note_id.into(),
                            serde_json::to_string(&c.scope).unwrap_or_default().into(),
                            scope.user_id.into(),
                            c.created_at.into(),
                        ],
                    )
                    .await?;
                    let recorded = Change::new(Some(org), "change_order.requested", "change_order", c.id).after(&c);
                    let mut told = c.clone();
                    told.note_id = None;
                    let news = Change::new(Some(vendor), "change_order.requested", "change_order", c.id).after(&told);
                    tx.record_and_announce(&Actor::of(&scope), vec![recorded], vec![news]).await?;
                    Ok(c.id)
                })
            })
            .await?;
        self.change_order(order_id, id).await
    }

    async fn change_order(&self, order_id: Uuid, id: Uuid) -> Result<ChangeOrder> {
        self.change_orders(order_id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound {
                entity: "change_order",
            })
    }

    /// The vendor prices a change order (again, while the production has not decided).
    pub async fn quote_change(&self, order_id: Uuid, id: Uuid, q: Quote) -> Result<ChangeOrder> {
        if q.price <= 0 {
            return Err(FieldError::new("price", "must_be_positive").into());
        }
        if !(1..=3650).contains(&q.days) {
            return Err(FieldError::new("days", "out_of_range").into());
        }
        validate::text("note", &q.note, 10_000)?;
        self.change_step(order_id, id, ChangeStep::Quote(q)).await
    }

    /// The production approves a priced change order at the price it read: the price is held
    /// from its wallet as a new milestone, and the change's scope joins the order's work.
    pub async fn approve_change(
        &self,
        order_id: Uuid,
        id: Uuid,
        a: Approval,
    ) -> Result<ChangeOrder> {
        self.change_step(order_id, id, ChangeStep::Approve(a)).await
    }

    /// The production withdraws a change order, or the vendor declines it, before approval.
    pub async fn close_change(&self, order_id: Uuid, id: Uuid) -> Result<ChangeOrder> {
        self.change_step(order_id, id, ChangeStep::Close).await
    }

    async fn change_step(&self, order_id: Uuid, id: Uuid, step: ChangeStep) -> Result<ChangeOrder> {
        self.work_order(order_id).await?;
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    let o = party_order(tx, org, order_id).await?;
                    let production = o.org_id == org;
                    let c: ChangeOrder = tx
                        .query_opt(
                            &format!(
                                "SELECT {CHANGE_COLS} FROM work_order_changes WHERE org_id = $1 AND order_id = $2 AND id = $3{}",
                                tx.lock_rows()
                            ),
                            &[o.org_id.into(), order_id.into(), id.into()],
                        )
                        .await?
                        .ok_or(StoreError::NotFound { entity: "change_order" })?;
                    let mine = match step {
                        ChangeStep::Quote(_) => !production,
                        ChangeStep::Approve(_) => production,
                        ChangeStep::Close => true,
                    };
                    if !mine {
                        return Err(OrdersRule::OtherSide.into());
                    }
                    if o.state != OrderState::Awarded {
                        return Err(OrdersRule::NotAwarded.into());
                    }
                    if !c.state.open() {
                        return Err(OrdersRule::ChangeClosed.into());
                    }
                    let vendor = o.vendor_org_id.unwrap_or(o.org_id);
                    let now = Millis(now_ms());
                    let actor = Actor::of(&scope);
                    let mut recorded = Vec::new();
                    let action = match step {
                        ChangeStep::Quote(q) => {
                            tx.execute(
                                "UPDATE work_order_changes SET state = 'quoted', price = $3, days = $4, quote_note = $5, quoted_at = $6 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), id.into(), q.price.into(), q.days.into(), (&q.note).into(), now.into()],
                            )
                            .await?;
                            "change_order.quoted"
                        }
                        ChangeStep::Approve(a) => {
                            if o.dispute.is_some() {
                                return Err(OrdersRule::Disputed.into());
                            }
                            let Some(price) = c.price.filter(|_| c.state == ChangeState::Quoted) else {
                                return Err(OrdersRule::NotQuoted.into());
                            };
                            if price != a.price {
                                return Err(OrdersRule::QuoteChanged.into());
                            }
                            if super::scope_taken(tx, o.org_id, order_id, vendor, &c.scope).await? {
                                return Err(OrdersRule::ScopeTaken.into());
                            }
                            let operator = operator_of(tx).await?;
                            let from = held_account(tx, &actor, operator, o.org_id, Purpose::Wallet, &o.currency).await?;
                            let to = held_account(tx, &actor, operator, vendor, Purpose::Wallet, &o.currency).await?;
                            let title = format!("CO-{} · {}", c.number, c.title);
                            let hold = TransferInput {
                                kind: Some(Kind::Pending),
                                debit_account_id: Some(from),
                                credit_account_id: Some(to),
                                amount: Some(price),
                                description: format!("Work order «{}» · {title}", o.title),
                                ..TransferInput::default()
                            };
                            let (written, changes) = apply_batch(tx, operator, vec![hold], Some(scope.user_id)).await?;
                            recorded.extend(changes);
                            let position: i64 = tx
                                .scalar(
                                    "SELECT COALESCE(MAX(position), 0) + 1 FROM work_order_milestones WHERE org_id = $1 AND order_id = $2",
                                    &[o.org_id.into(), order_id.into()],
                                )
                                .await?;
                            let held = super::Held { vendor, position, title: &title, amount: price, transfer: written[0].id };
                            let milestone = super::insert_milestone(tx, o.org_id, order_id, held).await?;
                            for s in &c.scope {
                                let there: Option<Uuid> = tx
                                    .scalar_opt(
                                        "SELECT entity_id FROM work_order_scope WHERE org_id = $1 AND order_id = $2 AND kind = $3 AND entity_id = $4",
                                        &[o.org_id.into(), order_id.into(), s.kind.as_str().into(), s.id.into()],
                                    )
                                    .await?;
                                if there.is_none() {
                                    tx.execute(
                                        "INSERT INTO work_order_scope (order_id, org_id, kind, entity_id) VALUES ($2, $1, $3, $4)",
                                        &[o.org_id.into(), order_id.into(), s.kind.as_str().into(), s.id.into()],
                                    )
                                    .await?;
                                }
                            }
                            tx.execute(
                                "UPDATE work_order_changes SET state = 'approved', milestone_id = $3, decided_at = $4 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), id.into(), milestone.into(), now.into()],
                            )
                            .await?;
                            tx.execute(
                                "UPDATE work_orders SET version = version + 1, updated_at = $3 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), order_id.into(), now.into()],
                            )
                            .await?;
                            "change_order.approved"
                        }
                        ChangeStep::Close => {
                            let (state, action) = if production {
                                ("withdrawn", "change_order.withdrawn")
                            } else {
                                ("declined", "change_order.declined")
                            };
                            tx.execute(
                                "UPDATE work_order_changes SET state = $3, decided_at = $4 WHERE org_id = $1 AND id = $2",
                                &[o.org_id.into(), id.into(), state.into(), now.into()],
                            )
                            .await?;
                            action
                        }
                    };
                    let after = serde_json::json!({"order_id": order_id, "number": c.number});
                    let (mine, theirs) = if production { (o.org_id, vendor) } else { (vendor, o.org_id) };
                    recorded.push(Change::new(Some(mine), action, "change_order", id).after(&after));
                    let news = Change::new(Some(theirs), action, "change_order", id).after(&after);
                    tx.record_and_announce(&actor, recorded, vec![news]).await?;
                    Ok(())
                })
            })
            .await?;
        self.change_order(order_id, id).await
    }
}
