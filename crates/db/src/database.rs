//! The database a server runs on: the backend chosen by its URL, its connections, and the one
//! read and one write function every context uses.
//!
//! - [`Database::write`] runs a write function ([`WriteTx`]) by the write rule (crate docs).
//! - [`Database::read`] runs one read outside any write. On SQLite it runs on the calling thread
//!   through [`Readers`] (a read of a page or of one sequence takes well under a millisecond,
//!   less than a hand-off to a connection thread would cost); on PostgreSQL through the pool.
//!   A list reads a page and counts at most `COUNT_CAP` rows; a sequence's shots are at most a
//!   few thousand.
//! - [`Database::read_apart`] is for the reads that scan more (a project's progress, grouped
//!   over all its tasks): on SQLite it runs on a blocking thread, so a long scan never holds up
//!   the requests sharing the runtime's thread.
//!
//! Nothing here names a context's table except through the caller's SQL text (the kernel's own
//! tables are `audit_log` and `outbox`, written by `WriteTx::record` and read here by the
//! outbox reader); the migrations are the caller's ([`Migrations`]).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use mstation_core::events::Horizon;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{Arg, BoxFuture, Column, DbError, FromRow, Readers, WriteTx, Writer, now_ms};

/// Which backend a database runs on (for `/readyz` and the logs; contexts never ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The schema of each backend, as `sqlx::migrate!` embeds it, and the tables whose planner
/// statistics go stale fastest (refreshed on PostgreSQL after bursts of large writes).
pub struct Migrations {
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
    /// `ANALYZE` after a burst of large writes, e.g. `"shots, tasks"`.
    pub hot_tables: &'static str,
}

enum Inner {
    Sqlite {
        readers: Arc<Readers>,
        /// Every write, on a thread of its own.
        writer: Writer,
    },
    Postgres {
        pool: PgPool,
        /// Wakes the task that refreshes the planner's statistics after large writes.
        analyze: mpsc::Sender<()>,
    },
}

/// A write adding at least this many rows (a conform, a bulk creation) asks PostgreSQL for fresh
/// statistics once the burst is over.
const ANALYZE_AFTER_ROWS: usize = 200;
/// The end of a burst: this long without another large write…
const ANALYZE_QUIET: Duration = Duration::from_secs(2);
/// …or this long after its first write, whichever comes first.
const ANALYZE_AT_MOST_AFTER: Duration = Duration::from_secs(30);

pub struct Database {
    inner: Inner,
}

impl Database {
    /// Opens the database named by `url`: `sqlite:PATH` / a plain path, or `postgres://…`.
    /// Creates the SQLite file if needed and applies the migrations of that backend.
    pub async fn open(url: &str, migrations: &Migrations) -> Result<Database, DbError> {
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
            migrations.postgres.run(&pool).await?;
            let analyze = start_analyzer(pool.clone(), migrations.hot_tables);
            return Ok(Database {
                inner: Inner::Postgres { pool, analyze },
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Self::open_sqlite(Path::new(path), migrations).await
    }

    async fn open_sqlite(path: &Path, migrations: &Migrations) -> Result<Database, DbError> {
        // The migrations' connection closes without `PRAGMA optimize`: at the start of a
        // server the tables may be empty, and statistics taken then would mislead the planner
        // for the whole run (measured: readers scanning twenty times the pages). The writer
        // refreshes them when the database closes and every hour (`optimize`).
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives power loss, not just a killed process.
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        migrations.sqlite.run(&pool).await?;
        pool.close().await;
        // Migrated: from here on every write goes through the writer thread, every read through
        // the readers.
        let keep = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2)
            * 2;
        Ok(Database {
            inner: Inner::Sqlite {
                readers: Arc::new(Readers::new(path, keep)),
                writer: Writer::start(path)?,
            },
        })
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite { .. } => Backend::Sqlite,
            Inner::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs the write `f`: on SQLite on the writer thread, on PostgreSQL in a transaction of its
    /// own (the write rule, crate docs). `f` owns what it uses; it commits when it answers
    /// `Ok`, and leaves nothing when it answers `Err`.
    ///
    /// With `tenant`, every statement of the write must bind that organisation
    /// ([`crate::check_scoped`]); `None` is platform work (sign-in, tokens, the job queue).
    pub async fn write<T, E, F>(&self, tenant: Option<Uuid>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        match &self.inner {
            Inner::Sqlite { writer, .. } => writer.write(tenant, f).await,
            Inner::Postgres { pool, .. } => crate::write_pg(pool, tenant, f).await,
        }
    }

    /// The rows `text` selects, with `args` as `$1…` (a read bounded by a page or by one
    /// sequence; module docs).
    pub async fn read<T: FromRow>(&self, text: &str, args: &[Arg]) -> Result<Vec<T>, DbError> {
        match &self.inner {
            Inner::Sqlite { readers, .. } => readers.read(text, args),
            Inner::Postgres { pool, .. } => crate::read_pg(pool, text, args).await,
        }
    }

    /// The first row `text` selects, if any.
    pub async fn read_opt<T: FromRow>(
        &self,
        text: &str,
        args: &[Arg],
    ) -> Result<Option<T>, DbError> {
        Ok(self.read(text, args).await?.into_iter().next())
    }

    /// The one value `text` selects (an aggregate, a count); `None` when it selects no row.
    pub async fn scalar_opt<T>(&self, text: &str, args: &[Arg]) -> Result<Option<T>, DbError>
    where
        T: Column + Send + 'static,
    {
        Ok(self.read_opt::<(T,)>(text, args).await?.map(|(v,)| v))
    }

    /// The one value of the one row `text` selects (a `COUNT(*)`, a `MAX(…)` of a nullable).
    pub async fn scalar<T>(&self, text: &str, args: &[Arg]) -> Result<T, DbError>
    where
        T: Column + Send + 'static,
    {
        self.scalar_opt(text, args)
            .await?
            .ok_or_else(|| DbError::NoRow(text.chars().take(80).collect()))
    }

    /// Like [`Database::read`], for a read that scans more than a page or a sequence (a
    /// project's progress, grouped over all its tasks): on SQLite on a blocking thread, so a
    /// long scan never holds up the requests sharing the runtime's thread.
    pub async fn read_apart<T: FromRow>(
        &self,
        text: String,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, DbError> {
        match &self.inner {
            Inner::Sqlite { readers, .. } => {
                let readers = readers.clone();
                tokio::task::spawn_blocking(move || readers.read(&text, &args))
                    .await
                    .map_err(|_| DbError::WriteFailed("a read stopped on a bug".into()))?
            }
            Inner::Postgres { pool, .. } => crate::read_pg(pool, &text, &args).await,
        }
    }

    /// After a committed write that added `rows` rows: on PostgreSQL, a large one asks for
    /// fresh statistics of the hot tables once the burst is over.
    pub fn wrote_rows(&self, rows: usize) {
        if rows >= ANALYZE_AFTER_ROWS
            && let Inner::Postgres { analyze, .. } = &self.inner
        {
            let _ = analyze.try_send(());
        }
    }

    /// SQLite's group commit so far: (transactions committed, writes they carried).
    pub fn write_batches(&self) -> Option<(u64, u64)> {
        match &self.inner {
            Inner::Sqlite { writer, .. } => Some(writer.stats()),
            Inner::Postgres { .. } => None,
        }
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.scalar::<i64>("SELECT CAST(1 AS BIGINT)", &[])
            .await
            .map(drop)
    }

    /// Refreshes the query planner's statistics where they have gone stale (SQLite's
    /// `PRAGMA optimize`; PostgreSQL's autovacuum does this itself).
    pub async fn optimize(&self) -> Result<(), DbError> {
        if let Inner::Sqlite { writer, .. } = &self.inner {
            writer
                .write(None, |tx| {
                    Box::pin(async move {
                        tx.execute("PRAGMA optimize", &[]).await?;
                        Ok::<_, DbError>(())
                    })
                })
                .await?;
        }
        Ok(())
    }

    /// Refreshes the planner's statistics and closes the connections.
    pub async fn close(&self) {
        // Keep the planner's statistics fresh as tables grow from ten rows to millions.
        if let Err(e) = self.optimize().await {
            tracing::warn!(error = %e, "could not refresh the planner's statistics");
        }
        if let Inner::Postgres { pool, .. } = &self.inner {
            pool.close().await;
        }
    }

    /// Where a new outbox reader of this process starts, and the numbers after that start
    /// that are committed already (the reader announces them as replayed: for streams resuming
    /// from an earlier event, not for those that start "now").
    ///
    /// SQLite commits outbox numbers in order: the reader starts at the newest. On PostgreSQL
    /// a write still open on another server may hold a number below the newest, and starting
    /// at the newest would skip its events for good; the reader starts before the events of
    /// the last `window_ms` instead, and waits on every hole there until its holder has ended
    /// (`mstation_core::events`). A write open for longer than the window when a server starts
    /// is the one case not covered.
    pub async fn outbox_start(&self, window_ms: i64) -> Result<(i64, Vec<i64>), DbError> {
        let pool = match &self.inner {
            Inner::Sqlite { .. } => {
                let newest: Option<i64> = self.scalar("SELECT MAX(seq) FROM outbox", &[]).await?;
                return Ok((newest.unwrap_or(0), Vec::new()));
            }
            Inner::Postgres { pool, .. } => pool,
        };
        // The newest numbers, by the primary key, back to the first one before the window (at
        // most 100,000 of them, so a start never walks the whole outbox). The reader starts at
        // that one: a number taken inside the window and still in flight is above it.
        const AT_MOST: usize = 100_000;
        let since = now_ms() - window_ms;
        let newest_first: Vec<(i64, i64)> = crate::read_pg(
            pool,
            "SELECT seq, at FROM outbox ORDER BY seq DESC LIMIT 100000",
            &[],
        )
        .await?;
        let in_window = newest_first
            .iter()
            .take_while(|(_, at)| *at >= since)
            .count();
        let start = match newest_first.get(in_window) {
            Some((seq, _)) => *seq,
            None if newest_first.len() < AT_MOST => 0,
            None => newest_first.last().map_or(0, |(seq, _)| seq - 1),
        };
        let mut committed: Vec<i64> = newest_first[..in_window].iter().map(|(s, _)| *s).collect();
        committed.reverse();
        Ok((start, committed))
    }

    /// PostgreSQL's transaction horizon, read between two reads of the outbox so that a reader
    /// can tell when a hole's holder has ended (`mstation_core::events::advance`); with `bound`,
    /// also a fresh transaction id (one committed transaction, only when a hole is new). `None`
    /// on SQLite, where a hole is never in flight.
    pub async fn outbox_horizon(&self, bound: bool) -> Result<Option<Horizon>, DbError> {
        let Inner::Postgres { pool, .. } = &self.inner else {
            return Ok(None);
        };
        let text = if bound {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                    pg_current_xact_id()::text::bigint"
        } else {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, NULL::bigint"
        };
        let rows: Vec<(i64, Option<i64>)> = crate::read_pg(pool, text, &[]).await?;
        Ok(rows.first().map(|&(xmin, bound)| Horizon { xmin, bound }))
    }
}

/// Refreshes PostgreSQL's statistics of the hot tables after bursts of large writes.
/// Autovacuum does so within a minute or so, and for a large import into an already large table
/// maybe never (its threshold is a share of the table); until then the planner knows nothing of
/// the new rows. Measured: a person's filtered tasks right after seeding 1,000 shots took 10-18 ms
/// a page through a plan made without statistics, under 1 ms after ANALYZE (BENCHMARKS.md).
/// The task ends with the database.
fn start_analyzer(pool: PgPool, tables: &'static str) -> mpsc::Sender<()> {
    let (wake, mut woken) = mpsc::channel::<()>(1);
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
            let text = format!("ANALYZE {tables}");
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(text))
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "could not refresh the planner's statistics");
            }
        }
    });
    wake
}
