//! The metadata store: every table M-Station keeps, on SQLite (the embedded default) or PostgreSQL.
//! Each query is written once and compiled for both backends; every tenant query takes a scope.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use thiserror::Error;
use uuid::Uuid;

pub mod audit;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod outbox;
pub mod tracking;
pub mod webhooks;

pub use mstation_core::validate::FieldError;
pub use mstation_db::{Actor, Change, Millis, new_id, now_ms};
pub(crate) use mstation_db::{Arg, BoxFuture, DbError, FromRow, Row, WriteTx};

/// Runs `$body` with `$pool` bound to the pool that serves reads: the same SQL text is compiled
/// once per backend, so the two can never drift apart.
macro_rules! on_read {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite { read: $pool, .. } => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

pub(crate) use on_read;

/// The two metadata backends. SQLite gets one writer connection (SQLite has one writer anyway, and
/// queueing in the pool is cheaper than lock retries) and a pool of readers.
pub enum Db {
    Sqlite {
        read: SqlitePool,
        /// Every write, on a thread of its own (`mstation_db::Writer`).
        writer: mstation_db::Writer,
        /// The hot reads, on the calling thread.
        direct: mstation_db::Readers,
    },
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Store {
    pub(crate) db: Db,
    pub(crate) tokens: identity::TokenCache,
    /// PostgreSQL: wakes the task that refreshes the planner's statistics after large writes.
    pub(crate) analyze: Option<tokio::sync::mpsc::Sender<()>>,
}

/// A write adding at least this many rows (a conform, a bulk creation) asks PostgreSQL for fresh
/// statistics once the burst is over.
const ANALYZE_AFTER_ROWS: usize = 200;
/// The end of a burst: this long without another large write…
const ANALYZE_QUIET: Duration = Duration::from_secs(2);
/// …or this long after its first write, whichever comes first.
const ANALYZE_AT_MOST_AFTER: Duration = Duration::from_secs(30);

/// Refreshes PostgreSQL's statistics of the production tables after bursts of large writes.
/// Autovacuum does so within a minute or so, and for a large import into an already large table
/// maybe never (its threshold is a share of the table); until then the planner knows nothing of
/// the new rows. Measured: a person's filtered tasks right after seeding 1,000 shots took 10-18 ms
/// a page through a plan made without statistics, under 1 ms after ANALYZE (BENCHMARKS.md).
/// The task ends with the store.
fn start_analyzer(pool: PgPool) -> tokio::sync::mpsc::Sender<()> {
    let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
    tokio::spawn(async move {
        while woken.recv().await.is_some() {
            let first = std::time::Instant::now();
            loop {
                match tokio::time::timeout(ANALYZE_QUIET, woken.recv()).await {
                    Ok(Some(())) if first.elapsed() < ANALYZE_AT_MOST_AFTER => continue,
                    Ok(None) => return,
                    _ => break,
                }
            }
            if let Err(e) = sqlx::query("ANALYZE shots, tasks, task_assignees")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "could not refresh the planner's statistics");
            }
        }
    });
    wake
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
    #[error("{0}")]
    Rule(&'static str),
    #[error("{0}")]
    Database(DbError),
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

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(e.into())
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
            StoreError::Rule(r) => r,
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
/// locked on PostgreSQL, so this answers `Stale` only for a bug.)
pub(crate) async fn update_seen(
    tx: &mut WriteTx<'_>,
    entity: &'static str,
    seen: i64,
    text: &str,
    args: &[Arg],
) -> Result<()> {
    if tx.execute(text, args).await? != 1 {
        return Err(StoreError::Stale {
            entity,
            current: seen + 1,
        });
    }
    Ok(())
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

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many items match the filters, over all pages (see `total_capped`).
    pub total: i64,
    /// True when more than `COUNT_CAP` items match and `total` stops counting there, so a
    /// count never costs more than the page it comes with.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
}

/// Lists whose filters can match a large part of a big production count at most this far.
pub const COUNT_CAP: i64 = 10_000;

/// What a list request asks for, already checked by the caller.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: u32,
    pub after: Option<Uuid>,
    pub descending: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            limit: mstation_core::page::DEFAULT_LIMIT,
            after: None,
            descending: false,
        }
    }
}

impl ListQuery {
    /// The id comparison and order for a list keyed by id (creation order).
    pub(crate) fn order(&self) -> (&'static str, &'static str) {
        if self.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        }
    }
    pub(crate) fn finish<T>(
        &self,
        mut items: Vec<T>,
        total: i64,
        id_of: impl Fn(&T) -> Uuid,
    ) -> Page<T> {
        let more = items.len() > self.limit as usize;
        items.truncate(self.limit as usize);
        let next_cursor = if more {
            items.last().map(|t| {
                mstation_core::page::Cursor {
                    key: String::new(),
                    id: id_of(t),
                }
                .encode()
            })
        } else {
            None
        };
        Page {
            items,
            next_cursor,
            total,
            total_capped: false,
        }
    }
}

impl Store {
    /// Opens the store named by `url`: `sqlite:PATH` / a plain path, or `postgres://…`. Creates the
    /// database file if needed and applies the migrations of that backend.
    pub async fn open(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(32)
                // No ping before each use: a round trip per query for a connection that is
                // almost always fine. A connection the server dropped fails its one query (503,
                // retry) and leaves the pool.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Store {
                analyze: Some(start_analyzer(pool.clone())),
                db: Db::Postgres(pool),
                tokens: identity::TokenCache::default(),
            })
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            Self::open_sqlite(Path::new(path)).await
        }
    }

    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32000");
        // The migrations' connection closes without `PRAGMA optimize`: at the start of a
        // server the tables may be empty, and statistics taken then would mislead the planner
        // for the whole run (measured: readers scanning twenty times the pages). The writer
        // refreshes them when the store closes and every hour (`optimize`).
        let opts = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives power loss, not just a killed process.
            .synchronous(SqliteSynchronous::Full);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        // Migrated: from here on every write goes through the writer thread.
        write.close().await;
        let readers = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2)
            .max(2)
            * 2;
        let read = SqlitePoolOptions::new()
            .max_connections(readers)
            // A file connection cannot go stale; a ping before each use is one more round trip
            // to the connection's thread for nothing.
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await?;
        let writer = mstation_db::Writer::start(path)?;
        Ok(Store {
            analyze: None,
            db: Db::Sqlite {
                read,
                writer,
                direct: mstation_db::Readers::new(path, readers as usize),
            },
            tokens: identity::TokenCache::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Refreshes the query planner's statistics where they have gone stale (SQLite's
    /// `PRAGMA optimize`; PostgreSQL's autovacuum does this itself).
    pub async fn optimize(&self) -> Result<()> {
        if let Db::Sqlite { writer, .. } = &self.db {
            writer
                .write(|tx| {
                    Box::pin(async move {
                        tx.execute("PRAGMA optimize", &[]).await?;
                        Ok::<_, StoreError>(())
                    })
                })
                .await?;
        }
        Ok(())
    }

    /// Runs the write `f`: on SQLite on the writer thread, on PostgreSQL in a transaction of its
    /// own (the write rule, `mstation_db`). `f` owns what it uses; it commits when it answers
    /// `Ok`, and leaves nothing when it answers `Err`.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        match &self.db {
            Db::Sqlite { writer, .. } => writer.write(f).await,
            Db::Postgres(pool) => mstation_db::write_pg(pool, f).await,
        }
    }

    /// After a committed write that added `rows` rows: on PostgreSQL, a large one asks for
    /// fresh statistics (`start_analyzer`).
    pub(crate) fn wrote_rows(&self, rows: usize) {
        if rows >= ANALYZE_AFTER_ROWS
            && let Some(wake) = &self.analyze
        {
            let _ = wake.try_send(());
        }
    }

    /// SQLite's group commit so far: (transactions committed, writes they carried).
    pub async fn write_batches(&self) -> Option<(u64, u64)> {
        match &self.db {
            Db::Sqlite { writer, .. } => Some(writer.stats()),
            Db::Postgres(_) => None,
        }
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        on_read!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        // Keep the planner's statistics fresh as tables grow from ten rows to millions.
        if let Err(e) = self.optimize().await {
            tracing::warn!(error = %e, "could not refresh the planner's statistics");
        }
        match &self.db {
            Db::Sqlite { read, .. } => read.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}
