//! What the market pays its contributors.
//!
//! A contributor's agreement sets its share of every sale, in basis points, from a first day
//! on. The platform's operator announces it at least [`NOTICE_DAYS`] before that day (the
//! contributor hears of it at once, `agreement.announced`), so a change of terms only ever
//! reaches later sales; each licence keeps the agreement it was sold under and the share it
//! gave, whatever is announced after.
//!
//! A payout batch is the operator's, one per calendar month of sales (UTC). Once no refund can
//! reach that month's sales (the month ended more than the refund window ago), it moves what
//! the market owes each contributor for them from its royalties account into its market wallet,
//! a line per contributor and currency, and marks each sale paid by it. The same month again
//! answers the batch made, never a second one.

use mstation_core::TenantScope;
use mstation_core::ledger::{Kind, Purpose};
use mstation_core::market::{DEFAULT_SHARE_BP, valid_date};
use mstation_core::validate::FieldError;
use serde::Serialize;
use time::{Date, Month};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{MarketRule, REFUND_WINDOW_MS, held_account, operator_of, today};
use crate::ledger::{TransferInput, write_batch};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, Tenant, WriteTx,
    new_id, now_ms,
};

/// How many days before its first day an agreement is announced, at least: 30.
pub const NOTICE_DAYS: i64 = 30;

/// A contributor's share of its sales from a day on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agreement {
    pub id: Uuid,
    /// The contributor.
    pub org_id: Uuid,
    /// Its share of each sale's price, in basis points (`7000` is 70 %).
    pub share_bp: i64,
    /// The first day (UTC) whose sales it covers, `YYYY-MM-DD`.
    pub effective_from: String,
    /// When the operator announced it.
    pub created_at: Millis,
    pub created_by: Uuid,
}

const AGREEMENT_COLS: &str = "id, org_id, share_bp, effective_from, created_at, created_by";

impl FromRow for Agreement {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Agreement {
            id: r.get()?,
            org_id: r.get()?,
            share_bp: r.get()?,
            effective_from: r.get()?,
            created_at: r.get()?,
            created_by: r.get()?,
        })
    }
}

/// A contributor's terms: the share its sales get today, and the changes announced.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Terms {
    /// The share of a sale made today, in basis points.
    pub share_bp: i64,
    /// The agreement that gives it; none while the platform's standing share applies.
    pub current: Option<Agreement>,
    /// Announced, not yet in force: soonest first.
    pub upcoming: Vec<Agreement>,
}

/// What one payout paid one contributor in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoutLine {
    pub payout_id: Uuid,
    /// The contributor paid.
    pub org_id: Uuid,
    /// The month of the sales it pays, `YYYY-MM`.
    pub period: String,
    #[schema(value_type = String)]
    pub currency: String,
    /// In minor units of `currency`: the contributor's share of the month's standing sales.
    pub amount: i64,
    /// How many sales it pays.
    pub sales: i64,
    /// The ledger transfer from what the market owed into the contributor's wallet (none when
    /// the amount is 0).
    pub transfer_id: Option<Uuid>,
    pub created_at: Millis,
}

const LINE_COLS: &str =
    "payout_id, org_id, period, currency, amount, sales, transfer_id, created_at";

impl FromRow for PayoutLine {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(PayoutLine {
            payout_id: r.get()?,
            org_id: r.get()?,
            period: r.get()?,
            currency: r.get()?,
            amount: r.get()?,
            sales: r.get()?,
            transfer_id: r.get()?,
            created_at: r.get()?,
        })
    }
}

/// A month's payout batch, with its lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payout {
    pub id: Uuid,
    /// `YYYY-MM`.
    pub period: String,
    /// How many sales it paid.
    pub sales: i64,
    pub lines: Vec<PayoutLine>,
    pub created_by: Uuid,
    pub created_at: Millis,
}

struct PayoutRow(Uuid, String, i64, Uuid, Millis);

impl FromRow for PayoutRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(PayoutRow(r.get()?, r.get()?, r.get()?, r.get()?, r.get()?))
    }
}

/// A contributor's earnings of one day (days since 1970-01-01, UTC) in one currency.
#[derive(Debug, Clone)]
pub struct DayEarnings {
    pub day: i64,
    pub currency: String,
    pub amount: i64,
    pub sales: i64,
}

impl FromRow for DayEarnings {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(DayEarnings {
            day: r.get()?,
            currency: r.get()?,
            amount: r.get()?,
            sales: r.get()?,
        })
    }
}

/// An organisation that sells in the market (or has terms), with its agreements, the latest
/// first day first.
#[derive(Debug, Clone)]
pub struct Contributor {
    pub id: Uuid,
    pub name: String,
    pub agreements: Vec<Agreement>,
}

impl Platform<'_> {
    /// Every contributor with its terms, by name: the operator's view of whom the market pays.
    pub async fn contributors(&self) -> Result<Vec<Contributor>> {
        let orgs: Vec<(Uuid, String)> = self
            .read(
                "SELECT id, name FROM orgs
                 WHERE id IN (SELECT org_id FROM market_listings) OR id IN (SELECT org_id FROM market_agreements)
                 ORDER BY name, id LIMIT 1000",
                &[],
            )
            .await?;
        let all: Vec<Agreement> = self
            .read(
                &format!(
                    "SELECT {AGREEMENT_COLS} FROM market_agreements
                     ORDER BY effective_from DESC, created_at DESC LIMIT 10000"
                ),
                &[],
            )
            .await?;
        Ok(orgs
            .into_iter()
            .map(|(id, name)| Contributor {
                id,
                name,
                agreements: all.iter().filter(|a| a.org_id == id).cloned().collect(),
            })
            .collect())
    }
}

/// The first and the day after the last millisecond of the month `period` (`YYYY-MM`, UTC).
pub fn month_bounds(period: &str) -> Option<(i64, i64)> {
    let b = period.as_bytes();
    if b.len() != 7
        || b[4] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
    {
        return None;
    }
    let year: i32 = period[..4].parse().ok()?;
    let month = Month::try_from(period[5..].parse::<u8>().ok()?).ok()?;
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let next = if month == Month::December {
        Date::from_calendar_date(year + 1, Month::January, 1).ok()?
    } else {
        Date::from_calendar_date(year, month.next(), 1).ok()?
    };
    let ms = |d: Date| d.midnight().assume_utc().unix_timestamp() * 1000;
    Some((ms(first), ms(next)))
}

/// The earliest first day an agreement announced at `now` may have.
pub fn earliest_start(now: i64) -> String {
    today(now + NOTICE_DAYS * 86_400_000)
}

impl Tenant<'_> {
    /// The organisation's terms as a contributor: today's share and the changes announced.
    pub async fn agreement_terms(&self) -> Result<Terms> {
        let all: Vec<Agreement> = self
            .read(
                &format!(
                    "SELECT {AGREEMENT_COLS} FROM market_agreements WHERE org_id = $1
                     ORDER BY effective_from DESC, created_at DESC LIMIT 100"
                ),
                &[self.org_id().into()],
            )
            .await?;
        let day = today(now_ms());
        let current = all.iter().find(|a| a.effective_from <= day).cloned();
        let mut upcoming: Vec<Agreement> =
            all.into_iter().filter(|a| a.effective_from > day).collect();
        upcoming.reverse();
        Ok(Terms {
            share_bp: current.as_ref().map_or(DEFAULT_SHARE_BP, |a| a.share_bp),
            current,
            upcoming,
        })
    }

    /// Announces `contributor`'s share from `effective_from` on, at least [`NOTICE_DAYS`] after
    /// `now`: the platform operator's finance, only.
    pub async fn announce_agreement(
        &self,
        contributor: Uuid,
        share_bp: i64,
        effective_from: &str,
        now: i64,
    ) -> Result<Agreement> {
        if !(0..=10_000).contains(&share_bp) {
            return Err(FieldError::new("share_bp", "out_of_range").into());
        }
        if !valid_date(effective_from) {
            return Err(FieldError::new("effective_from", "not_a_date").into());
        }
        if *effective_from < *earliest_start(now) {
            return Err(FieldError::new("effective_from", "within_notice").into());
        }
        let scope = self.scope().clone();
        let effective_from = effective_from.to_owned();
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    announce(tx, &scope, contributor, share_bp, effective_from, now).await
                })
            })
            .await
    }

    /// What payouts paid the organisation as a contributor, newest month first.
    pub async fn payout_lines(&self) -> Result<Vec<PayoutLine>> {
        self.read(
            &format!(
                "SELECT {LINE_COLS} FROM market_payout_lines WHERE org_id = $1
                 ORDER BY period DESC, currency LIMIT 240"
            ),
            &[self.org_id().into()],
        )
        .await
    }

    /// The organisation's earnings as a contributor from `since` (ms) on, by day and currency:
    /// standing sales only.
    pub async fn earnings_by_day(&self, since: i64) -> Result<Vec<DayEarnings>> {
        self.read(
            "SELECT created_at / 86400000, currency, CAST(SUM(contributor_amount) AS BIGINT), COUNT(*)
             FROM market_licences WHERE seller_org_id = $1 AND state = 'active' AND created_at >= $2
             GROUP BY created_at / 86400000, currency ORDER BY 1, 2",
            &[self.org_id().into(), since.into()],
        )
        .await
    }

    /// The payout batches the organisation made as the market's operator, newest first.
    pub async fn payouts(&self) -> Result<Vec<Payout>> {
        let rows: Vec<PayoutRow> = self
            .read(
                "SELECT id, period, sales, created_by, created_at FROM market_payouts
                 WHERE org_id = $1 ORDER BY period DESC LIMIT 120",
                &[self.org_id().into()],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for PayoutRow(id, period, sales, created_by, created_at) in rows {
            // The lines are the contributors'; the operator reads those of its own batch.
            let lines = self
                .platform()
                .read(
                    &format!(
                        "SELECT {LINE_COLS} FROM market_payout_lines WHERE payout_id = $1
                         ORDER BY org_id, currency"
                    ),
                    &[id.into()],
                )
                .await?;
            out.push(Payout {
                id,
                period,
                sales,
                lines,
                created_by,
                created_at,
            });
        }
        Ok(out)
    }

    /// Pays contributors what the market owes them for the sales of the month `period`
    /// (`YYYY-MM`), as of `now`: the platform operator's finance, only. Answers the batch and
    /// whether this call made it (the same month again answers the batch made before).
    pub async fn pay_out(&self, period: &str, now: i64) -> Result<(Payout, bool)> {
        let (start, end) =
            month_bounds(period).ok_or_else(|| FieldError::new("period", "not_a_month"))?;
        let mut attempt = 0;
        loop {
            let (scope, period) = (self.scope().clone(), period.to_owned());
            let done = self
                .platform()
                .write(move |tx| {
                    Box::pin(async move { pay(tx, &scope, period, start, end, now).await })
                })
                .await;
            match done {
                // Another payout of the month, or the first in a currency opening an account,
                // got there first: once more, which finds it.
                Err(StoreError::Duplicate { .. }) if attempt == 0 => attempt += 1,
                other => return other,
            }
        }
    }
}

/// The announcement's write: see [`Tenant::announce_agreement`].
async fn announce(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    contributor: Uuid,
    share_bp: i64,
    effective_from: String,
    now: i64,
) -> Result<Agreement> {
    let operator = operator_of(tx).await?;
    if operator != scope.org_id {
        return Err(MarketRule::OperatorOnly.into());
    }
    let found: Option<Uuid> = tx
        .scalar_opt("SELECT id FROM orgs WHERE id = $1", &[contributor.into()])
        .await?;
    if found.is_none() {
        return Err(StoreError::NotFound {
            entity: "organisation",
        });
    }
    let agreement = Agreement {
        id: new_id(),
        org_id: contributor,
        share_bp,
        effective_from,
        created_at: Millis(now),
        created_by: scope.user_id,
    };
    tx.execute(
        &format!(
            "INSERT INTO market_agreements ({AGREEMENT_COLS}) VALUES ($2, $1, $3, $4, $5, $6)"
        ),
        &[
            contributor.into(),
            agreement.id.into(),
            share_bp.into(),
            (&agreement.effective_from).into(),
            agreement.created_at.into(),
            agreement.created_by.into(),
        ],
    )
    .await?;
    let actor = Actor::of(scope);
    let change = Change::new(Some(operator), "agreement.made", "agreement", agreement.id);
    tx.record(&actor, change.after(&agreement)).await?;
    // The contributor hears of it at once, a notice period before it applies.
    let told = Change::new(
        Some(contributor),
        "agreement.announced",
        "agreement",
        agreement.id,
    );
    tx.announce(told.after(&agreement)).await?;
    Ok(agreement)
}

/// The payout's write: see [`Tenant::pay_out`].
async fn pay(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    period: String,
    start: i64,
    end: i64,
    now: i64,
) -> Result<(Payout, bool)> {
    let operator = operator_of(tx).await?;
    if operator != scope.org_id {
        return Err(MarketRule::OperatorOnly.into());
    }
    let made: Option<PayoutRow> = tx
        .query_opt(
            "SELECT id, period, sales, created_by, created_at FROM market_payouts
             WHERE org_id = $1 AND period = $2",
            &[operator.into(), (&period).into()],
        )
        .await?;
    if let Some(PayoutRow(id, period, sales, created_by, created_at)) = made {
        let lines = tx
            .query(
                &format!(
                    "SELECT {LINE_COLS} FROM market_payout_lines WHERE payout_id = $1
                     ORDER BY org_id, currency"
                ),
                &[id.into()],
            )
            .await?;
        let payout = Payout {
            id,
            period,
            sales,
            lines,
            created_by,
            created_at,
        };
        return Ok((payout, false));
    }
    // Until the refund window has closed on the month's last sale, its money may still go back.
    if now < end + REFUND_WINDOW_MS {
        return Err(MarketRule::PeriodOpen.into());
    }
    // The month taken first: a second payout of it waits here, then finds this one.
    let id = new_id();
    tx.execute(
        "INSERT INTO market_payouts (id, org_id, period, sales, created_by, created_at)
         VALUES ($2, $1, $3, 0, $4, $5)",
        &[
            operator.into(),
            id.into(),
            (&period).into(),
            scope.user_id.into(),
            Millis(now).into(),
        ],
    )
    .await?;
    // The month's standing sales marked first (their rows locked, their state read again), then
    // summed from what was marked: a refund that got there first is in neither.
    tx.execute(
        "UPDATE market_licences SET payout_id = $1
         WHERE created_at >= $2 AND created_at < $3 AND state = 'active' AND payout_id IS NULL",
        &[id.into(), start.into(), end.into()],
    )
    .await?;
    let owed: Vec<(Uuid, String, i64, i64)> = tx
        .query(
            "SELECT seller_org_id, currency, CAST(SUM(contributor_amount) AS BIGINT), COUNT(*)
             FROM market_licences WHERE payout_id = $1
             GROUP BY seller_org_id, currency ORDER BY seller_org_id, currency",
            &[id.into()],
        )
        .await?;
    // Every account the payout moves money between, locked at once in id order (a sale's
    // order), so a payout of more than one ledger batch never waits on a sale in a circle.
    if !tx.lock_rows().is_empty() {
        tx.query::<(Uuid,)>(
            "SELECT id FROM ledger_accounts WHERE org_id = $1 AND purpose IN ('royalties_payable', 'wallet')
               AND holder_org_id IN (SELECT seller_org_id FROM market_licences WHERE payout_id = $2)
             ORDER BY id FOR UPDATE",
            &[operator.into(), id.into()],
        )
        .await?;
    }
    let actor = Actor::of(scope);
    let mut lines = Vec::with_capacity(owed.len());
    let mut batch = Vec::new();
    for (seller, currency, amount, sales) in owed {
        if amount > 0 {
            let from = held_account(
                tx,
                &actor,
                operator,
                seller,
                Purpose::RoyaltiesPayable,
                &currency,
            )
            .await?;
            let to = held_account(tx, &actor, operator, seller, Purpose::Wallet, &currency).await?;
            batch.push(TransferInput {
                kind: Some(Kind::Posted),
                debit_account_id: Some(from),
                credit_account_id: Some(to),
                amount: Some(amount),
                description: format!("royalties for {period}"),
                ..TransferInput::default()
            });
        }
        lines.push(PayoutLine {
            payout_id: id,
            org_id: seller,
            period: period.clone(),
            currency,
            amount,
            sales,
            transfer_id: None,
            created_at: Millis(now),
        });
    }
    // The ledger takes at most 100 transfers a batch; each line with money has its transfer,
    // in order.
    let mut transfers = Vec::with_capacity(batch.len());
    let mut rest = batch;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(100));
        transfers.extend(write_batch(tx, operator, &actor, rest, Some(scope.user_id)).await?);
        rest = tail;
    }
    let mut paid = transfers.into_iter();
    for line in lines.iter_mut().filter(|l| l.amount > 0) {
        line.transfer_id = paid.next().map(|t| t.id);
    }
    let sales: i64 = lines.iter().map(|l| l.sales).sum();
    tx.execute(
        "UPDATE market_payouts SET sales = $3 WHERE org_id = $1 AND id = $2",
        &[operator.into(), id.into(), sales.into()],
    )
    .await?;
    for line in &lines {
        tx.execute(
            &format!(
                "INSERT INTO market_payout_lines ({LINE_COLS}) VALUES ($3, $1, $4, $5, $6, $7, $8, $2)"
            ),
            &[
                line.org_id.into(),
                line.created_at.into(),
                id.into(),
                (&line.period).into(),
                (&line.currency).into(),
                line.amount.into(),
                line.sales.into(),
                line.transfer_id.into(),
            ],
        )
        .await?;
        tx.announce(Change::new(Some(line.org_id), "payout.paid", "payout", id).after(line))
            .await?;
    }
    let payout = Payout {
        id,
        period,
        sales,
        lines,
        created_by: scope.user_id,
        created_at: Millis(now),
    };
    tx.record(
        &actor,
        Change::new(Some(operator), "payout.made", "payout", id).after(&payout),
    )
    .await?;
    Ok((payout, true))
}
