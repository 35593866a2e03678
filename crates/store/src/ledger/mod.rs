//! The ledger (context `ledger`): an organisation's accounts, one currency each, and the
//! transfers between them, immutable and balanced, posted at once or in two phases. Each account
//! row holds its four sums, changed only under its row lock in the transaction that writes the
//! transfer, by `core::ledger`'s rules; `Platform::ledger_check` proves the invariants from the
//! rows and from the transfers alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mstation_core::ledger::{
    self, AccountState, Balance, Broken, Currency, Flags, Kind, LedgerRule, PendingState, Purpose,
};
use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, StoreError,
    Tenant, WriteTx, new_id, now_ms,
};

/// The most transfers one batch may hold.
pub const MAX_BATCH: usize = 100;
/// The longest a pending transfer may wait before it expires: 90 days.
pub const MAX_TIMEOUT_MS: i64 = 90 * 24 * 3600 * 1000;

/// An account and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub purpose: Purpose,
    /// ISO 4217 (`CNY`); every amount of the account is in its minor units (fen, cents).
    #[schema(value_type = String)]
    pub currency: String,
    pub flags: Flags,
    #[serde(flatten)]
    pub balance: Balance,
    /// Credits less debits, posted.
    pub posted: i64,
    /// What can be moved out now: what it holds less what is held for its pending debits.
    pub available: i64,
    pub created_at: Millis,
}

const ACCOUNT_COLS: &str = "id, org_id, name, purpose, currency, flags, debits_posted, credits_posted, debits_pending, credits_pending, created_at";

impl FromRow for Account {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let org_id = r.get()?;
        let name = r.get()?;
        let purpose: String = r.get()?;
        let currency = r.get()?;
        let flags = Flags::from_bits(r.get()?);
        let balance = Balance {
            debits_posted: r.get()?,
            credits_posted: r.get()?,
            debits_pending: r.get()?,
            credits_pending: r.get()?,
        };
        Ok(Account {
            id,
            org_id,
            name,
            // Written by this store from `Purpose::as_str`.
            purpose: Purpose::parse(&purpose).unwrap_or(Purpose::Settlement),
            currency,
            flags,
            posted: clamp(balance.posted()),
            available: clamp(balance.available()),
            balance,
            created_at: r.get()?,
        })
    }
}

/// Sums of one account fit in 64 bits each; their difference is said in 64 bits too.
fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A transfer as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Transfer {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The transfers written together with it, all or none.
    pub batch_id: Uuid,
    /// The caller's key: the same key again replays this transfer.
    pub key: Option<String>,
    pub kind: Kind,
    pub debit_account_id: Uuid,
    pub credit_account_id: Uuid,
    /// Minor units: held by a pending transfer, posted by a post, given back by a void or an
    /// expiry, moved by a posted one.
    pub amount: i64,
    #[schema(value_type = String)]
    pub currency: String,
    /// The pending transfer a post, a void or an expiry closes.
    pub pending_id: Option<Uuid>,
    /// When a pending transfer expires, by the server's clock.
    pub timeout_at: Option<Millis>,
    /// Where a pending transfer stands now.
    pub state: Option<PendingState>,
    pub description: String,
    pub created_at: Millis,
    /// Who wrote it; none for the server's own (an expiry).
    pub created_by: Option<Uuid>,
}

const TRANSFER_COLS: &str = "id, org_id, batch_id, key, kind, debit_account_id, credit_account_id, amount, currency, pending_id, timeout_at, state, description, created_at, created_by";

impl FromRow for Transfer {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let org_id = r.get()?;
        let batch_id = r.get()?;
        let key = r.get()?;
        let kind: String = r.get()?;
        Ok(Transfer {
            id,
            org_id,
            batch_id,
            key,
            // Written by this store from `Kind::as_str`.
            kind: Kind::parse(&kind).unwrap_or(Kind::Posted),
            debit_account_id: r.get()?,
            credit_account_id: r.get()?,
            amount: r.get()?,
            currency: r.get()?,
            pending_id: r.get()?,
            timeout_at: r.get()?,
            state: r
                .get::<Option<String>>()?
                .and_then(|s| PendingState::parse(&s)),
            description: r.get()?,
            created_at: r.get()?,
            created_by: r.get()?,
        })
    }
}

/// A transfer asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferInput {
    pub key: Option<String>,
    /// `posted`, `pending`, `post` or `void` (an expiry is the server's).
    pub kind: Option<Kind>,
    /// For `posted` and `pending`: the accounts. A post or a void takes its pending transfer's.
    pub debit_account_id: Option<Uuid>,
    pub credit_account_id: Option<Uuid>,
    /// For `posted` and `pending`: what moves, in minor units. For `post`: what is posted (all
    /// that is held when absent).
    pub amount: Option<i64>,
    pub pending_id: Option<Uuid>,
    /// For `pending`: how long until it expires, in seconds.
    pub timeout_seconds: Option<i64>,
    pub description: String,
}

impl TransferInput {
    /// What the request asked, as compared when its key comes again.
    fn fingerprint(&self) -> String {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            self.kind.map(Kind::as_str),
            self.debit_account_id,
            self.credit_account_id,
            self.amount,
            self.pending_id,
            self.timeout_seconds,
            self.description
        );
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }
}

/// A field of the batch's transfer `i` refused: `transfers[i].field`.
fn refused(i: usize, field: &str, reason: &'static str) -> StoreError {
    StoreError::InvalidValue {
        field: format!("transfers[{i}].{field}"),
        reason,
    }
}

/// An account row as a write holds it, locked.
#[derive(Debug, Clone)]
struct Held {
    currency: String,
    flags: Flags,
    balance: Balance,
    changed: bool,
}

/// A line of an account's statement: a transfer, what it did to the account's posted balance
/// and what the balance was after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    #[serde(flatten)]
    pub transfer: Transfer,
    /// What the transfer did to the account's posted balance (credits less debits): positive
    /// in, negative out, 0 for a hold or its release.
    pub posted_change: i64,
    /// What it did to the account's pending sums, in the same sense.
    pub pending_change: i64,
    /// The posted balance after it.
    pub balance: i64,
}

impl Tenant<'_> {
    /// Opens an account of the organisation: `flags` as its purpose has them unless given.
    pub async fn open_account(
        &self,
        name: &str,
        purpose: Purpose,
        currency: &str,
        flags: Option<Flags>,
    ) -> Result<Account> {
        let scope = self.scope().clone();
        let name = validate::name("name", name, 120)?;
        let currency = Currency::parse(currency)
            .ok_or_else(|| FieldError::new("currency", "not_a_currency"))?;
        let flags = flags.unwrap_or_else(|| purpose.default_flags());
        if flags.debits_must_not_exceed_credits && flags.credits_must_not_exceed_debits {
            return Err(FieldError::new("flags", "both_sides_bound").into());
        }
        self.write(move |tx| {
            Box::pin(async move {
                let a = Account {
                    id: new_id(),
                    org_id: scope.org_id,
                    name,
                    purpose,
                    currency: currency.to_string(),
                    flags,
                    balance: Balance::default(),
                    posted: 0,
                    available: 0,
                    created_at: Millis(now_ms()),
                };
                let text = format!(
                    "INSERT INTO ledger_accounts ({ACCOUNT_COLS}) VALUES ($2, $1, $3, $4, $5, $6, 0, 0, 0, 0, $7)"
                );
                tx.execute(
                    &text,
                    &[
                        a.org_id.into(),
                        a.id.into(),
                        (&a.name).into(),
                        a.purpose.as_str().into(),
                        (&a.currency).into(),
                        a.flags.bits().into(),
                        a.created_at.into(),
                    ],
                )
                .await
                .map_err(|e| match e {
                    DbError::Duplicate => StoreError::Duplicate {
                        entity: "account",
                        field: "name",
                    },
                    e => e.into(),
                })?;
                let change = Change::new(Some(scope.org_id), "account.opened", "account", a.id);
                tx.record(&Actor::of(&scope), change.after(&a)).await?;
                Ok(a)
            })
        })
        .await
    }

    /// The organisation's accounts, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let text = format!(
            "SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE org_id = $1 ORDER BY name, id LIMIT 1000"
        );
        self.read(&text, &[self.org_id().into()]).await
    }

    pub async fn account(&self, id: Uuid) -> Result<Account> {
        let text =
            format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE org_id = $1 AND id = $2");
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "account" })
    }

    pub async fn ledger_transfer(&self, id: Uuid) -> Result<Transfer> {
        let text =
            format!("SELECT {TRANSFER_COLS} FROM ledger_transfers WHERE org_id = $1 AND id = $2");
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "transfer" })
    }

    /// Writes a batch of transfers between the organisation's accounts, in order, all or none
    /// (linked: one refused refuses them all, and nothing is written). A batch
    /// whose keys were written before is answered with what was written then, if it asks the
    /// same; otherwise it is refused (`ledger.key_reused`).
    pub async fn transfer(&self, batch: Vec<TransferInput>) -> Result<Vec<Transfer>> {
        if batch.is_empty() {
            return Err(FieldError::new("transfers", "required").into());
        }
        if batch.len() > MAX_BATCH {
            return Err(FieldError::new("transfers", "too_many").into());
        }
        for (i, t) in batch.iter().enumerate() {
            if let Some(k) = &t.key
                && (k.is_empty() || k.len() > 200 || k.chars().any(char::is_control))
            {
                return Err(refused(i, "key", "invalid"));
            }
            if t.description.chars().count() > 500 {
                return Err(refused(i, "description", "too_long"));
            }
            if let Some(k) = &t.key
                && batch[..i].iter().any(|o| o.key.as_ref() == Some(k))
            {
                return Err(refused(i, "key", "repeated"));
            }
            // A batch is replayed whole: every transfer of a keyed batch has its key.
            if t.key.is_none() && batch.iter().any(|o| o.key.is_some()) {
                return Err(refused(i, "key", "required"));
            }
        }
        // A retry sent while the first was still being written finds its key taken when it
        // writes: it is answered again, now that the first is there to replay.
        let mut attempt = 0;
        loop {
            let (scope, batch) = (self.scope().clone(), batch.clone());
            let written = self
                .write(move |tx| {
                    Box::pin(async move {
                        let actor = Actor::of(&scope);
                        // A work order's hold moves only by the order's steps.
                        for t in &batch {
                            if let (Some(Kind::Post | Kind::Void), Some(p)) = (t.kind, t.pending_id)
                                && crate::orders::holds_milestone(tx, scope.org_id, p).await?
                            {
                                return Err(crate::orders::OrdersRule::HeldByOrder.into());
                            }
                        }
                        write_batch(tx, scope.org_id, &actor, batch, Some(scope.user_id)).await
                    })
                })
                .await;
            match written {
                Err(StoreError::Duplicate { .. }) if attempt == 0 => attempt += 1,
                other => return other,
            }
        }
    }

    /// An account's transfers, oldest first by default, each with what it did to the account
    /// and the posted balance after it.
    pub async fn statement(&self, account_id: Uuid, q: &ListQuery) -> Result<Page<StatementLine>> {
        self.account(account_id).await?;
        let org = self.org_id();
        let filter = "org_id = $1 AND (debit_account_id = $2 OR credit_account_id = $2)";
        let page: Page<Transfer> = self
            .page(
                TRANSFER_COLS,
                "ledger_transfers",
                filter,
                vec![org.into(), account_id.into()],
                q,
                |t: &Transfer| t.id,
            )
            .await?;
        // The posted balance before the page's first line (after its last, when newest first).
        let Some(first) = page.items.first().map(|t| t.id) else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
                total: page.total,
                total_capped: page.total_capped,
            });
        };
        let (cmp, ascending) = if q.order().1 == "ASC" {
            ("<", true)
        } else {
            ("<=", false)
        };
        let before: i64 = self
            .scalar(
                &format!(
                    "SELECT CAST(COALESCE(SUM(CASE WHEN kind IN ('posted', 'post') THEN
                        CASE WHEN credit_account_id = $2 THEN amount ELSE -amount END ELSE 0 END), 0) AS BIGINT)
                     FROM ledger_transfers WHERE org_id = $1 AND (debit_account_id = $2 OR credit_account_id = $2) AND id {cmp} $3"
                ),
                &[org.into(), account_id.into(), first.into()],
            )
            .await?;
        // What the pending transfers the page's posts close held.
        let mut held: HashMap<Uuid, i64> = HashMap::new();
        for p in page
            .items
            .iter()
            .filter(|t| t.kind == Kind::Post)
            .filter_map(|t| t.pending_id)
        {
            if let std::collections::hash_map::Entry::Vacant(e) = held.entry(p) {
                e.insert(self.ledger_transfer(p).await?.amount);
            }
        }
        let mut balance = before;
        let items = page.items.into_iter().map(|t| {
            let closed = t
                .pending_id
                .and_then(|p| held.get(&p).copied())
                .unwrap_or(0);
            let (posted_change, pending_change) = effect(&t, account_id, closed);
            if ascending {
                balance += posted_change;
                StatementLine {
                    transfer: t,
                    posted_change,
                    pending_change,
                    balance,
                }
            } else {
                let line = StatementLine {
                    transfer: t,
                    posted_change,
                    pending_change,
                    balance,
                };
                balance -= posted_change;
                line
            }
        });
        Ok(Page {
            items: items.collect(),
            next_cursor: page.next_cursor,
            total: page.total,
            total_capped: page.total_capped,
        })
    }
}

/// What `t` did to `account`'s posted balance and to its pending sums (credits less debits):
/// `held` is what the pending transfer a post closes held, all of which it releases.
fn effect(t: &Transfer, account: Uuid, held: i64) -> (i64, i64) {
    let sign = if t.credit_account_id == account {
        1
    } else {
        -1
    };
    match t.kind {
        Kind::Posted => (sign * t.amount, 0),
        Kind::Post => (sign * t.amount, -sign * held),
        Kind::Pending => (0, sign * t.amount),
        Kind::Void | Kind::Expire => (0, -sign * t.amount),
    }
}

/// Inside a write: the batch of the organisation `org`, checked against the locked accounts
/// and written, or refused whole, and recorded. `by` is who asks (none: the server, for
/// expiries).
pub(crate) async fn write_batch(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    actor: &Actor,
    batch: Vec<TransferInput>,
    by: Option<Uuid>,
) -> Result<Vec<Transfer>> {
    let (written, changes) = apply_batch(tx, org, batch, by).await?;
    tx.record_all(actor, changes).await?;
    Ok(written)
}

/// [`write_batch`] without its record: the transfers written, and the changes the write must
/// record (none when the batch was a retry answered with what was written before), for a write
/// that records them with its own in one statement.
pub(crate) async fn apply_batch(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    batch: Vec<TransferInput>,
    by: Option<Uuid>,
) -> Result<(Vec<Transfer>, Vec<Change>)> {
    // A retry: every key written before, asking the same, gets what was written.
    let keyed = format!(
        "SELECT {TRANSFER_COLS}, fingerprint FROM ledger_transfers WHERE org_id = $1 AND key = $2"
    );
    let mut replayed = Vec::new();
    for t in &batch {
        let Some(k) = &t.key else { continue };
        let found: Option<Keyed> = tx.query_opt(&keyed, &[org.into(), k.into()]).await?;
        if let Some(Keyed(found, fingerprint)) = found {
            if fingerprint != t.fingerprint() {
                return Err(LedgerRule::KeyReused.into());
            }
            replayed.push(found);
        }
    }
    if !replayed.is_empty() {
        if replayed.len() != batch.len() {
            return Err(LedgerRule::KeyReused.into());
        }
        return Ok((replayed, Vec::new()));
    }

    // The pending transfers the batch closes, locked, and the accounts it touches.
    let pending_text = format!(
        "SELECT {TRANSFER_COLS} FROM ledger_transfers WHERE org_id = $1 AND id = $2{}",
        tx.lock_rows()
    );
    let mut pendings: HashMap<Uuid, Transfer> = HashMap::new();
    let mut touched: BTreeSet<Uuid> = BTreeSet::new();
    // Each pending transfer the batch closes, with the first transfer that names it.
    let mut closing: BTreeMap<Uuid, usize> = BTreeMap::new();
    let now = now_ms();
    for (i, t) in batch.iter().enumerate() {
        let kind = t.kind.ok_or_else(|| refused(i, "kind", "required"))?;
        match kind {
            Kind::Posted | Kind::Pending => {
                let d = t
                    .debit_account_id
                    .ok_or_else(|| refused(i, "debit_account_id", "required"))?;
                let c = t
                    .credit_account_id
                    .ok_or_else(|| refused(i, "credit_account_id", "required"))?;
                if t.amount.is_none_or(|a| a <= 0) {
                    return Err(refused(i, "amount", "must_be_positive"));
                }
                if t.pending_id.is_some() {
                    return Err(refused(i, "pending_id", "not_for_this_kind"));
                }
                match (kind, t.timeout_seconds) {
                    (Kind::Posted, Some(_)) => {
                        return Err(refused(i, "timeout_seconds", "not_for_this_kind"));
                    }
                    (Kind::Pending, Some(s))
                        if s <= 0 || s.saturating_mul(1000) > MAX_TIMEOUT_MS =>
                    {
                        return Err(refused(i, "timeout_seconds", "out_of_range"));
                    }
                    _ => {}
                }
                touched.extend([d, c]);
            }
            Kind::Post | Kind::Void => {
                let p = t
                    .pending_id
                    .ok_or_else(|| refused(i, "pending_id", "required"))?;
                if t.debit_account_id.is_some() || t.credit_account_id.is_some() {
                    return Err(refused(i, "debit_account_id", "not_for_this_kind"));
                }
                if t.timeout_seconds.is_some() {
                    return Err(refused(i, "timeout_seconds", "not_for_this_kind"));
                }
                match (kind, t.amount) {
                    (Kind::Post, Some(a)) if a <= 0 => {
                        return Err(refused(i, "amount", "must_be_positive"));
                    }
                    (Kind::Void, Some(_)) => {
                        return Err(refused(i, "amount", "not_for_this_kind"));
                    }
                    _ => {}
                }
                closing.entry(p).or_insert(i);
            }
            Kind::Expire if by.is_none() => {
                let p = t
                    .pending_id
                    .ok_or_else(|| refused(i, "pending_id", "required"))?;
                closing.entry(p).or_insert(i);
            }
            Kind::Expire => return Err(refused(i, "kind", "not_for_this_kind")),
        }
    }
    // The pending transfers closed, locked in one order (by id) like the accounts below.
    for (p, i) in closing {
        match tx
            .query_opt::<Transfer>(&pending_text, &[org.into(), p.into()])
            .await?
        {
            Some(found) if found.kind == Kind::Pending => {
                touched.extend([found.debit_account_id, found.credit_account_id]);
                pendings.insert(p, found);
            }
            // An expiry of one closed or gone meanwhile: refused below, as closed.
            _ if by.is_none() => {}
            _ => return Err(refused(i, "pending_id", "not_a_pending_transfer")),
        }
    }

    // Every account locked in one order (by id), so two batches never wait on each other: in
    // one statement, whose rows are locked as its sort returns them.
    if touched.is_empty() {
        return Err(StoreError::NotFound { entity: "account" });
    }
    let marks: Vec<String> = (2..touched.len() + 2).map(|k| format!("${k}")).collect();
    let account_text = format!(
        "SELECT id, currency, flags, debits_posted, credits_posted, debits_pending, credits_pending
         FROM ledger_accounts WHERE org_id = $1 AND id IN ({}) ORDER BY id{}",
        marks.join(", "),
        tx.lock_rows()
    );
    let mut args: Vec<crate::Arg> = vec![org.into()];
    args.extend(touched.iter().map(|id| crate::Arg::from(*id)));
    let rows: Vec<(Uuid, AccountRow)> = tx
        .query::<LockedAccount>(&account_text, &args)
        .await?
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    if rows.len() != touched.len() {
        return Err(StoreError::NotFound { entity: "account" });
    }
    let accounts: HashMap<Uuid, Held> = rows.into_iter().map(|(id, row)| (id, row.0)).collect();
    let mut accounts = accounts;

    // Applied in order, in memory, by the core's rules.
    let batch_id = new_id();
    let mut written: Vec<Transfer> = Vec::with_capacity(batch.len());
    let mut fingerprints: Vec<String> = Vec::with_capacity(batch.len());
    for t in batch {
        let kind = t.kind.unwrap_or(Kind::Posted);
        let fingerprint = t.fingerprint();
        let (debit, credit, amount, held, pending_id, timeout_at) = match kind {
            Kind::Posted | Kind::Pending => (
                t.debit_account_id.unwrap_or_default(),
                t.credit_account_id.unwrap_or_default(),
                t.amount.unwrap_or_default(),
                0,
                None,
                t.timeout_seconds.map(|s| Millis(now + s * 1000)),
            ),
            Kind::Post | Kind::Void | Kind::Expire => {
                let p = t.pending_id.unwrap_or_default();
                let Some(found) = pendings.get(&p) else {
                    return Err(StoreError::NotFound { entity: "transfer" });
                };
                if found.state != Some(PendingState::Pending) {
                    return Err(LedgerRule::PendingClosed.into());
                }
                // Posting after the time ran out is refused; the server's sweep expires it.
                if kind == Kind::Post && found.timeout_at.is_some_and(|at| at.0 <= now) {
                    return Err(LedgerRule::PendingClosed.into());
                }
                let amount = match kind {
                    Kind::Post => t.amount.unwrap_or(found.amount),
                    _ => found.amount,
                };
                if amount > found.amount {
                    return Err(LedgerRule::ExceedsPending.into());
                }
                (
                    found.debit_account_id,
                    found.credit_account_id,
                    amount,
                    found.amount,
                    Some(p),
                    None,
                )
            }
        };
        if debit == credit {
            return Err(LedgerRule::SameAccount.into());
        }
        let (Some(d), Some(c)) = (
            accounts.get(&debit).cloned(),
            accounts.get(&credit).cloned(),
        ) else {
            return Err(StoreError::NotFound { entity: "account" });
        };
        if d.currency != c.currency {
            return Err(LedgerRule::CurrencyMismatch.into());
        }
        let (dd, cd) = ledger::deltas(kind, amount, held);
        let db = d.balance.apply(dd, d.flags)?;
        let cb = c.balance.apply(cd, c.flags)?;
        for (id, b) in [(debit, db), (credit, cb)] {
            if let Some(a) = accounts.get_mut(&id) {
                a.balance = b;
                a.changed = true;
            }
        }
        let out = Transfer {
            id: new_id(),
            org_id: org,
            batch_id,
            key: t.key.clone(),
            kind,
            debit_account_id: debit,
            credit_account_id: credit,
            amount,
            currency: d.currency.clone(),
            pending_id,
            timeout_at,
            state: (kind == Kind::Pending).then_some(PendingState::Pending),
            description: t.description.clone(),
            created_at: Millis(now),
            created_by: by,
        };
        if kind == Kind::Pending {
            pendings.insert(out.id, out.clone());
        }
        if let Some(p) = pending_id
            && let Some(found) = pendings.get_mut(&p)
        {
            found.state = Some(PendingState::after(kind));
        }
        fingerprints.push(fingerprint);
        written.push(out);
    }
    // The transfers, in one statement.
    let mut text = format!("INSERT INTO ledger_transfers ({TRANSFER_COLS}, fingerprint) VALUES ");
    let mut args: Vec<crate::Arg> = Vec::with_capacity(written.len() * 16);
    for (i, (out, fingerprint)) in written.iter().zip(fingerprints).enumerate() {
        let marks: Vec<String> = (1..=16).map(|c| format!("${}", i * 16 + c)).collect();
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("({})", marks.join(", ")));
        args.extend([
            out.id.into(),
            org.into(),
            out.batch_id.into(),
            out.key.clone().into(),
            out.kind.as_str().into(),
            out.debit_account_id.into(),
            out.credit_account_id.into(),
            out.amount.into(),
            (&out.currency).into(),
            out.pending_id.into(),
            out.timeout_at.into(),
            out.state.map(PendingState::as_str).into(),
            (&out.description).into(),
            out.created_at.into(),
            out.created_by.into(),
            fingerprint.into(),
        ]);
    }
    tx.execute(&text, &args).await?;
    // The pending transfers closed, and the accounts' new sums.
    for t in &written {
        let Some(p) = t.pending_id else { continue };
        tx.execute(
            "UPDATE ledger_transfers SET state = $3 WHERE org_id = $1 AND id = $2",
            &[
                org.into(),
                p.into(),
                PendingState::after(t.kind).as_str().into(),
            ],
        )
        .await?;
    }
    // Every changed account's sums in one statement (all are the organisation's: the lock
    // above read them by it).
    let mut values = Vec::new();
    let mut args: Vec<crate::Arg> = vec![org.into()];
    for (id, a) in accounts.iter().filter(|(_, a)| a.changed) {
        let b = a.balance;
        let k = args.len();
        values.push(format!(
            "(${}, ${}, ${}, ${}, ${})",
            k + 1,
            k + 2,
            k + 3,
            k + 4,
            k + 5
        ));
        args.extend([
            crate::Arg::from(*id),
            b.debits_posted.into(),
            b.credits_posted.into(),
            b.debits_pending.into(),
            b.credits_pending.into(),
        ]);
    }
    if !values.is_empty() {
        let text = format!(
            "UPDATE ledger_accounts SET debits_posted = v.column2, credits_posted = v.column3,
                 debits_pending = v.column4, credits_pending = v.column5
             FROM (VALUES {}) AS v WHERE ledger_accounts.org_id = $1 AND ledger_accounts.id = v.column1",
            values.join(", ")
        );
        tx.execute(&text, &args).await?;
    }
    let changes = written
        .iter()
        .map(|t| Change::new(Some(org), "transfer.created", "transfer", t.id).after(t))
        .collect();
    Ok((written, changes))
}

/// A transfer found by its key, with what it asked.
struct Keyed(Transfer, String);

impl FromRow for Keyed {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let t = Transfer::from_row(r)?;
        Ok(Keyed(t, r.get()?))
    }
}

/// An account's id, currency, flags and sums, as read for the invariants.
struct Sums(Uuid, String, i64, Balance);

impl FromRow for Sums {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Sums(
            r.get()?,
            r.get()?,
            r.get()?,
            Balance {
                debits_posted: r.get()?,
                credits_posted: r.get()?,
                debits_pending: r.get()?,
                credits_pending: r.get()?,
            },
        ))
    }
}

/// An account's four sums as its transfers make them, for the account `a` of a query: what
/// `Platform::ledger_check` and `ledger_check_own` hold its row's sums to.
const MADE_SUMS: &str = "CAST(COALESCE((SELECT SUM(amount) FROM ledger_transfers t WHERE t.debit_account_id = a.id AND t.kind IN ('posted', 'post')), 0) AS BIGINT),
     CAST(COALESCE((SELECT SUM(amount) FROM ledger_transfers t WHERE t.credit_account_id = a.id AND t.kind IN ('posted', 'post')), 0) AS BIGINT),
     CAST(COALESCE((SELECT SUM(amount) FROM ledger_transfers t WHERE t.debit_account_id = a.id AND t.kind = 'pending' AND t.state = 'pending'), 0) AS BIGINT),
     CAST(COALESCE((SELECT SUM(amount) FROM ledger_transfers t WHERE t.credit_account_id = a.id AND t.kind = 'pending' AND t.state = 'pending'), 0) AS BIGINT)";

/// An account's sums as kept on its row, then as its transfers make them.
struct Books(Sums, Sums);

impl FromRow for Books {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Books(Sums::from_row(r)?, Sums::from_row(r)?))
    }
}

/// A locked account's id and row.
struct LockedAccount(Uuid, AccountRow);

impl FromRow for LockedAccount {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        Ok(LockedAccount(id, AccountRow::from_row(r)?))
    }
}

/// A locked account's row.
struct AccountRow(Held);

impl FromRow for AccountRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let currency: String = r.get()?;
        Ok(AccountRow(Held {
            currency,
            flags: Flags::from_bits(r.get()?),
            balance: Balance {
                debits_posted: r.get()?,
                credits_posted: r.get()?,
                debits_pending: r.get()?,
                credits_pending: r.get()?,
            },
            changed: false,
        }))
    }
}

impl Tenant<'_> {
    /// The organisation's books checked: each of its accounts' sums recomputed from its
    /// transfers, and its flags. Empty when they are right.
    pub async fn ledger_check_own(&self) -> Result<Vec<Broken>> {
        let rows: Vec<Books> = self
            .read(
                &format!("SELECT a.id, a.currency, a.flags, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
                   a.id, a.currency, a.flags,
                   {MADE_SUMS}
                 FROM ledger_accounts a WHERE a.org_id = $1 ORDER BY a.id"),
                &[self.org_id().into()],
            )
            .await?;
        let mut broken = Vec::new();
        for Books(Sums(id, _, flags, kept), Sums(_, _, _, made)) in rows {
            if kept != made {
                broken.push(Broken::Mismatch { account: id });
            }
            if let Err(rule) = kept.check(Flags::from_bits(flags)) {
                broken.push(Broken::Overdrawn { account: id, rule });
            }
        }
        Ok(broken)
    }
}

impl Platform<'_> {
    /// Proves the ledger's invariants over every organisation: each currency's debits equal
    /// its credits, posted and pending; no account is past its flags; and every account's sums
    /// are what its transfers make them. Empty when all hold.
    pub async fn ledger_check(&self) -> Result<Vec<Broken>> {
        let rows: Vec<Sums> = self
            .read(
                "SELECT id, currency, flags, debits_posted, credits_posted, debits_pending, credits_pending FROM ledger_accounts",
                &[],
            )
            .await?;
        let mut accounts = HashMap::new();
        let mut broken = Vec::new();
        for Sums(id, currency, flags, balance) in rows {
            match Currency::parse(&currency) {
                Some(currency) => {
                    accounts.insert(
                        id,
                        AccountState {
                            currency,
                            flags: Flags::from_bits(flags),
                            balance,
                        },
                    );
                }
                None => broken.push(Broken::Mismatch { account: id }),
            }
        }
        broken.extend(ledger::check(&accounts));
        // The sums again, from the transfers.
        let sums: Vec<Sums> = self
            .read(
                &format!(
                    "SELECT a.id, a.currency, a.flags,
                   {MADE_SUMS}
                 FROM ledger_accounts a ORDER BY a.id"
                ),
                &[],
            )
            .await?;
        for Sums(id, _, _, made) in sums {
            if accounts.get(&id).map(|a| a.balance) != Some(made) {
                broken.push(Broken::Mismatch { account: id });
            }
        }
        Ok(broken)
    }

    /// Expires the pending transfers whose time ran out by `now`, at most `limit`, each in its
    /// own organisation's write; how many were expired.
    pub async fn expire_pending(&self, now: i64, limit: i64) -> Result<usize> {
        let due: Vec<(Uuid, Uuid)> = self
            .read(
                "SELECT org_id, id FROM ledger_transfers WHERE state = 'pending' AND timeout_at <= $1 ORDER BY timeout_at LIMIT $2",
                &[now.into(), limit.into()],
            )
            .await?;
        let mut n = 0;
        for (org, id) in due {
            let expired = self
                .write(move |tx| {
                    Box::pin(async move {
                        let input = TransferInput {
                            kind: Some(Kind::Expire),
                            pending_id: Some(id),
                            description: String::new(),
                            ..TransferInput::default()
                        };
                        match write_batch(tx, org, &Actor::system(), vec![input], None).await {
                            Ok(_) => Ok(true),
                            // Posted or voided since it was read.
                            Err(StoreError::Rule(_) | StoreError::NotFound { .. }) => Ok(false),
                            Err(e) => Err(e),
                        }
                    })
                })
                .await?;
            n += usize::from(expired);
        }
        Ok(n)
    }
}
