//! The metadata store: every table M-Station keeps, on SQLite (the embedded default) or PostgreSQL.
//! Each query is written once for both backends, on the storage kernel (`mstation_db`); tenant
//! work goes through the handle made from the caller's scope (`handles`).

use thiserror::Error;
use uuid::Uuid;

pub mod events;
pub mod handles;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod market;
pub mod media;
pub mod orders;
pub mod talent;
pub mod tracking;

pub use handles::{Platform, Tenant};
pub use mstation_core::validate::FieldError;
pub use mstation_db::{
    Actor, Backend, COUNT_CAP, Change, DbError, ListQuery, Millis, Page, new_id, now_ms,
};
pub(crate) use mstation_db::{Arg, BoxFuture, Column, FromRow, Row, WriteTx};

/// The schema, one set of migrations per backend, embedded at build time.
static MIGRATIONS: mstation_db::Migrations = mstation_db::Migrations {
    sqlite: &SQLITE,
    postgres: &POSTGRES,
    hot_tables: "shots, tasks, task_assignees",
};
// sqlx embeds the migrations; nothing else in the store touches it.
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Every table M-Station keeps. Tenant work goes through [`Store::tenant`], platform work
/// through [`Store::platform`] (`handles`).
pub struct Store {
    pub(crate) db: mstation_db::Database,
    pub(crate) tokens: identity::TokenCache,
    /// Conforms of one sequence take turns (SQLite; `tracking::conforming`).
    pub(crate) conform_turns: tracking::conforming::ConformTurns,
    /// How many new shots a conform writes a transaction on SQLite.
    pub(crate) conform_batch: usize,
    /// When set, each staged batch of a conform waits for a permit (`with_conform_gate`).
    pub(crate) conform_gate: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("{entity} was changed by someone else (now at version {current})")]
    Stale { entity: &'static str, current: i64 },
    #[error("{entity} with this {field} already exists")]
    Duplicate {
        entity: &'static str,
        field: &'static str,
    },
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// Like `Invalid`, for a field whose name is data (a custom field's key).
    #[error("{field}: {reason}")]
    InvalidValue { field: String, reason: &'static str },
    /// A rule of a context the request would break (`Rule::code` names it).
    #[error("{}", .0.code())]
    Rule(Rule),
    #[error("{0}")]
    Database(DbError),
}

/// The rules of the contexts a request can break, each typed by its context; the server maps
/// each to its HTTP status in one place (`error::Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Identity(identity::IdentityRule),
    Tracking(tracking::TrackingRule),
    Media(media::MediaRule),
    Ledger(mstation_core::ledger::LedgerRule),
    Market(market::MarketRule),
    Talent(talent::TalentRule),
    Orders(orders::OrdersRule),
}

impl Rule {
    /// The stable code a caller can match on, e.g. `identity.last_owner`.
    pub const fn code(self) -> &'static str {
        match self {
            Rule::Identity(r) => r.code(),
            Rule::Tracking(r) => r.code(),
            Rule::Media(r) => r.code(),
            Rule::Ledger(r) => r.code(),
            Rule::Market(r) => r.code(),
            Rule::Talent(r) => r.code(),
            Rule::Orders(r) => r.code(),
        }
    }
}

impl From<identity::IdentityRule> for StoreError {
    fn from(r: identity::IdentityRule) -> Self {
        StoreError::Rule(Rule::Identity(r))
    }
}

impl From<mstation_core::ledger::LedgerRule> for StoreError {
    fn from(r: mstation_core::ledger::LedgerRule) -> Self {
        StoreError::Rule(Rule::Ledger(r))
    }
}

impl From<tracking::TrackingRule> for StoreError {
    fn from(r: tracking::TrackingRule) -> Self {
        StoreError::Rule(Rule::Tracking(r))
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Duplicate => StoreError::Duplicate {
                entity: "record",
                field: "key",
            },
            e => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// The stable code a caller can match on.
    pub const fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound { .. } => "not_found",
            StoreError::Stale { .. } => "stale_version",
            StoreError::Duplicate { .. } => "duplicate",
            StoreError::Invalid(_) | StoreError::InvalidValue { .. } => "invalid_field",
            StoreError::Rule(r) => r.code(),
            StoreError::Database(_) => "store_unavailable",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A versioned write's check: the caller saw `expected` (`If-Match`), the row is at `current`.
pub(crate) fn check_version(
    entity: &'static str,
    expected: Option<i64>,
    current: i64,
) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(StoreError::Stale { entity, current }),
        _ => Ok(()),
    }
}

/// Inside a write: runs `text`, an UPDATE of the row read at version `seen` and guarded by
/// `AND version = …`; a row changed meanwhile is `Stale`. (The row was read in the same write,
/// locked on PostgreSQL, so this answers `Stale` only for a bug.) With `unique`, the field a
/// unique key guards: a clash there is `Duplicate` naming it.
pub(crate) async fn update_seen(
    tx: &mut WriteTx<'_>,
    entity: &'static str,
    unique: Option<&'static str>,
    seen: i64,
    text: &str,
    args: &[Arg],
) -> Result<()> {
    let changed = match (tx.execute(text, args).await, unique) {
        (Ok(n), _) => n,
        (Err(e), Some(field)) => return Err(dup(e, entity, field)),
        (Err(e), None) => return Err(e.into()),
    };
    if changed != 1 {
        return Err(StoreError::Stale {
            entity,
            current: seen + 1,
        });
    }
    Ok(())
}

/// Inside a write: the row `id` of `table` in `org`, as `cols` select it, locked until the write
/// commits (`WriteTx::lock_rows`), or `NotFound` naming `entity`. The caller checks the version
/// it was sent (`check_version`) and changes the row.
pub(crate) async fn locked<T: FromRow>(
    tx: &mut WriteTx<'_>,
    cols: &str,
    table: &str,
    org: Uuid,
    id: Uuid,
    entity: &'static str,
) -> Result<T> {
    let text = format!(
        "SELECT {cols} FROM {table} WHERE org_id = $1 AND id = $2{}",
        tx.lock_rows()
    );
    tx.query_opt(&text, &[org.into(), id.into()])
        .await?
        .ok_or(StoreError::NotFound { entity })
}

/// Inside a write: `NotFound` naming `entity` unless `table` holds the row `id` in `org`.
pub(crate) async fn exists(
    tx: &mut WriteTx<'_>,
    table: &str,
    org: Uuid,
    id: Uuid,
    entity: &'static str,
) -> Result<()> {
    let text = format!("SELECT id FROM {table} WHERE org_id = $1 AND id = $2");
    match tx
        .scalar_opt::<Uuid>(&text, &[org.into(), id.into()])
        .await?
    {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound { entity }),
    }
}

/// Names what a unique key refused: `e` as "`entity` with this `field` already exists".
pub(crate) fn dup(
    e: impl Into<StoreError>,
    entity: &'static str,
    field: &'static str,
) -> StoreError {
    match e.into() {
        StoreError::Duplicate { .. } => StoreError::Duplicate { entity, field },
        other => other,
    }
}

impl Store {
    /// Opens the store named by `url`: `sqlite:PATH` / a plain path, or `postgres://…`. Creates the
    /// database file if needed and applies the migrations of that backend.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store {
            db: mstation_db::Database::open(url, &MIGRATIONS).await?,
            tokens: identity::TokenCache::default(),
            conform_turns: Default::default(),
            conform_batch: tracking::conforming::CONFORM_BATCH,
            conform_gate: None,
        };
        store.platform().clear_staged_shots().await?;
        Ok(store)
    }

    /// Sets how many new shots a conform writes in one transaction on SQLite (at least one
    /// statement's 400); a cut with more is staged out of sight and shown at once.
    pub fn with_conform_batch(mut self, shots: usize) -> Store {
        self.conform_batch = shots.max(tracking::conforming::CONFORM_CHUNK);
        self
    }

    /// Makes each staged batch of a conform wait for a permit of `gate`: a test stops a conform
    /// between two batches this way.
    #[doc(hidden)]
    pub fn with_conform_gate(mut self, gate: std::sync::Arc<tokio::sync::Semaphore>) -> Store {
        self.conform_gate = Some(gate);
        self
    }

    pub async fn open_sqlite(path: &std::path::Path) -> Result<Store> {
        Self::open(&format!("sqlite:{}", path.display())).await
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Refreshes the query planner's statistics where they have gone stale (SQLite's
    /// `PRAGMA optimize`; PostgreSQL's autovacuum does this itself).
    pub async fn optimize(&self) -> Result<()> {
        Ok(self.db.optimize().await?)
    }

    /// SQLite's group commit so far: (transactions committed, writes they carried).
    pub fn write_batches(&self) -> Option<(u64, u64)> {
        self.db.write_batches()
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}
