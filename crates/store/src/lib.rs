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
mod direct;
pub mod group;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod outbox;
pub mod tracking;
pub mod webhooks;
mod writer;

pub use mstation_core::validate::FieldError;

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

/// Like `on_read!`, but opens a write transaction `$tx` that `$body` must commit. On SQLite it is
/// this writer's savepoint in the group-committed transaction (`group`, begun IMMEDIATE so a
/// writer never has to upgrade a read lock); `commit` returns once the work is durable.
macro_rules! on_write {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite { group, .. } => {
                #[allow(unused_mut)]
                let mut $tx = group.begin().await?;
                $body
            }
            $crate::Db::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

/// Like `on_write!`, for the writes made all day: on SQLite `$body` runs on the writer thread
/// (`writer`), in place, so it may capture only what it owns. `$body` is the function's answer.
macro_rules! on_hot_write {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite { writer, .. } => {
                writer
                    .run(move |conn| {
                        $crate::writer::ready(async move {
                            #[allow(unused_mut)]
                            let mut $tx = $crate::writer::SyncTx::new(conn);
                            $body
                        })
                    })
                    .await
            }
            $crate::Db::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

/// Appends the audit-log row and the outbox event of one change, inside the caller's transaction:
/// nothing is announced that did not commit, and nothing commits unrecorded.
macro_rules! record {
    ($tx:ident, $actor:expr, $change:expr) => {{
        let rows = $crate::Recorded::of($actor, $change);
        $crate::Deferred::keep(&mut $tx, rows).await?;
    }};
}

const AUDIT_INSERT: &str = "INSERT INTO audit_log (id, org_id, actor_id, token_id, action, entity_type, entity_id, before, after, at, project_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);";
const OUTBOX_INSERT: &str =
    "INSERT INTO outbox (id, org_id, kind, entity_type, entity_id, payload, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7);";

/// The audit-log row and the outbox event of one change, ready to insert.
pub(crate) struct Recorded {
    audit: Vec<direct::Arg>,
    outbox: Vec<direct::Arg>,
}

impl Recorded {
    pub(crate) fn of(actor: &Actor, change: Change) -> Self {
        use direct::Arg;
        let now = now_ms();
        let payload = serde_json::json!({
            "entity": change.after.as_ref().or(change.before.as_ref()),
            "actor_id": actor.user_id,
        });
        let text = |s: &str| Arg::Text(Some(s.to_string()));
        Recorded {
            audit: vec![
                Arg::Uuid(Some(new_id())),
                Arg::Uuid(change.org_id),
                Arg::Uuid(actor.user_id),
                Arg::Uuid(actor.token_id),
                text(change.action),
                text(change.entity_type),
                Arg::Uuid(change.entity_id),
                Arg::Text(change.before.as_ref().map(|v| v.to_string())),
                Arg::Text(change.after.as_ref().map(|v| v.to_string())),
                Arg::Int(Some(now)),
                Arg::Uuid(change.project_id()),
            ],
            outbox: vec![
                Arg::Uuid(Some(new_id())),
                Arg::Uuid(change.org_id),
                text(change.action),
                text(change.entity_type),
                Arg::Uuid(change.entity_id),
                Arg::Text(Some(payload.to_string())),
                Arg::Int(Some(now)),
            ],
        }
    }
}

/// Statements whose answer a writer does not need. On PostgreSQL and on the writer thread
/// (`writer`) they run at once; for a writer of the sqlx group (`group`) they ride with its
/// RELEASE, one round trip to the connection thread for all of them. Only for statements that
/// cannot fail on the caller's input (the checks come first): in the sqlx group a failure there
/// abandons the whole group commit.
pub(crate) trait Deferred {
    /// Appends the audit-log row and the outbox event of one change.
    async fn keep(&mut self, rows: Recorded) -> Result<()>;
    /// Runs `text` now, with the rows it touched, or later, with `None`.
    async fn write(&mut self, text: &'static str, args: Vec<direct::Arg>) -> Result<Option<u64>>;
}

impl Deferred for group::GroupTx {
    async fn keep(&mut self, rows: Recorded) -> Result<()> {
        self.defer(AUDIT_INSERT, rows.audit);
        self.defer(OUTBOX_INSERT, rows.outbox);
        Ok(())
    }

    async fn write(&mut self, text: &'static str, args: Vec<direct::Arg>) -> Result<Option<u64>> {
        self.defer(text, args);
        Ok(None)
    }
}

impl Deferred for sqlx::Transaction<'static, sqlx::Postgres> {
    async fn keep(&mut self, rows: Recorded) -> Result<()> {
        self.write(AUDIT_INSERT, rows.audit).await?;
        self.write(OUTBOX_INSERT, rows.outbox).await?;
        Ok(())
    }

    async fn write(&mut self, text: &'static str, args: Vec<direct::Arg>) -> Result<Option<u64>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        direct::bind_args!(q, &args);
        Ok(Some(q.execute(&mut **self).await?.rows_affected()))
    }
}

/// A row type a write transaction reads: by `FromRow` through sqlx, by a row function on the
/// writer thread.
pub(crate) trait TxRow:
    for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + Send
    + Unpin
{
}

impl<T> TxRow for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + Send
        + Unpin
{
}

/// Reads inside a write transaction, written once for the writer thread and sqlx.
pub(crate) trait ReadTx {
    /// Runs the query `text`; `row` reads a row on the writer thread, `FromRow` through sqlx.
    async fn read<T: TxRow>(
        &mut self,
        text: &str,
        args: &[direct::Arg],
        row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>>;
}

/// `ReadTx` for a transaction that sqlx runs (PostgreSQL's, or a writer of the SQLite group).
macro_rules! read_through_sqlx {
    ($tx:ty) => {
        impl ReadTx for $tx {
            async fn read<T: TxRow>(
                &mut self,
                text: &str,
                args: &[direct::Arg],
                _row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
            ) -> Result<Vec<T>> {
                let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(text.to_string()));
                direct::bind_args!(q, args);
                Ok(q.fetch_all(&mut **self).await?)
            }
        }
    };
}
read_through_sqlx!(sqlx::Transaction<'static, sqlx::Postgres>);
read_through_sqlx!(group::GroupTx);

pub(crate) use {on_hot_write, on_read, on_write, record};

/// The two metadata backends. SQLite gets one writer connection (SQLite has one writer anyway, and
/// queueing in the pool is cheaper than lock retries) and a pool of readers.
pub enum Db {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        group: group::GroupWriter,
        /// The hot writes, on a thread of their own (`writer`).
        writer: writer::Writer,
        /// The hot reads, on the calling thread (`direct`).
        direct: direct::Readers,
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
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e
            && d.is_unique_violation()
        {
            return StoreError::Duplicate {
                entity: "record",
                field: "key",
            };
        }
        StoreError::Database(e)
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
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Sqlite(_) => {
                "store_unavailable"
            }
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who caused a change: a member acting through a session or token, or the platform itself
/// (the `admin` command, the first start).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub token_id: Option<Uuid>,
}

impl Actor {
    pub fn system() -> Self {
        Self::default()
    }
    pub fn of(scope: &mstation_core::TenantScope) -> Self {
        Self {
            user_id: Some(scope.user_id),
            token_id: scope.token_id,
        }
    }
}

/// One recorded change: the audit log keeps before and after, the outbox announces it.
pub struct Change {
    pub org_id: Option<Uuid>,
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn new(
        org_id: Option<Uuid>,
        action: &'static str,
        entity_type: &'static str,
        entity_id: Uuid,
    ) -> Self {
        Self {
            org_id,
            action,
            entity_type,
            entity_id: Some(entity_id),
            before: None,
            after: None,
        }
    }
    pub fn before(mut self, v: &impl Serialize) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }
    pub fn after(mut self, v: &impl Serialize) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }

    /// The project a production change belongs to (the project itself, or the `project_id` of
    /// what changed): it puts the change into that project's activity feed.
    pub fn project_id(&self) -> Option<Uuid> {
        if self.entity_type == "project" {
            return self.entity_id;
        }
        self.after
            .as_ref()
            .or(self.before.as_ref())?
            .get("project_id")?
            .as_str()?
            .parse()
            .ok()
    }
}

/// An instant as integer milliseconds since the Unix epoch, UTC. Stored as an integer on both
/// backends (exact ordering, no text-collation surprises); shown as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct Millis(pub i64);

impl Millis {
    pub fn rfc3339(self) -> String {
        let mut out = Vec::with_capacity(24);
        self.write_rfc3339(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends what `rfc3339` returns: `time`'s RFC 3339 in UTC (the fraction without trailing
    /// zeros, none when the second is whole), written digit by digit for years 0 to 9999 (a
    /// grid of tasks writes two per task), and by `time` for any other instant.
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        let (secs, ms) = (self.0.div_euclid(1000), self.0.rem_euclid(1000) as u32);
        let (days, second) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        let date = i32::try_from(days + UNIX_EPOCH_JULIAN_DAY)
            .ok()
            .and_then(|d| time::Date::from_julian_day(d).ok())
            .filter(|d| (0..=9999).contains(&d.year()));
        let Some(date) = date else {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let text = t
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            out.extend_from_slice(text.as_bytes());
            return;
        };
        let digits = |out: &mut Vec<u8>, n: u32, width: u32| {
            for p in (0..width).rev() {
                out.push(b'0' + (n / 10u32.pow(p) % 10) as u8);
            }
        };
        digits(out, date.year() as u32, 4);
        out.push(b'-');
        digits(out, date.month() as u32, 2);
        out.push(b'-');
        digits(out, date.day() as u32, 2);
        out.push(b'T');
        digits(out, second / 3600, 2);
        out.push(b':');
        digits(out, second / 60 % 60, 2);
        out.push(b':');
        digits(out, second % 60, 2);
        if ms != 0 {
            out.push(b'.');
            let width = if ms % 100 == 0 {
                1
            } else if ms % 10 == 0 {
                2
            } else {
                3
            };
            digits(out, ms / 10u32.pow(3 - width), width);
        }
        out.push(b'Z');
    }
}

/// The Julian day of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

impl Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl utoipa::PartialSchema for Millis {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .into()
    }
}
impl utoipa::ToSchema for Millis {}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Ids are UUIDv7: unique without coordination, and ordered by creation time, which makes them
/// the natural cursor of every list.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
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
            .pragma("cache_size", "-32000")
            // Keep the planner's statistics fresh as tables grow from ten rows to millions.
            .analysis_limit(Some(1000))
            .optimize_on_close(true, Some(1000));
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
        let group = group::GroupWriter::new(write.clone());
        let writer = writer::Writer::start(path, group.gate())?;
        Ok(Store {
            analyze: None,
            db: Db::Sqlite {
                read,
                writer,
                group,
                direct: direct::Readers::new(path, readers as usize),
                write,
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
        if let Db::Sqlite { write, .. } = &self.db {
            sqlx::query("PRAGMA optimize").execute(write).await?;
        }
        Ok(())
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

    /// The suffix that locks the rows a write transaction reads before changing them. PostgreSQL
    /// needs it so a blind write waits for a concurrent one instead of failing its version
    /// check; SQLite's single writer already holds every row.
    pub(crate) fn row_lock(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => "",
            Db::Postgres(_) => " FOR UPDATE",
        }
    }

    /// SQLite's group commit so far: (transactions committed, writes they carried).
    pub async fn write_batches(&self) -> Option<(u64, u64)> {
        match &self.db {
            Db::Sqlite { group, writer, .. } => {
                let (c, w) = group.stats().await;
                let (tc, tw) = writer.stats();
                Some((c + tc, w + tw))
            }
            Db::Postgres(_) => None,
        }
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        on_read!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Millis;

    /// What `time` writes for the instant, the reference `write_rfc3339` must match.
    fn by_time(ms: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    #[test]
    fn instants_are_written_as_time_writes_them() {
        let year_10000 = 253_402_300_800_000;
        let mut cases = vec![
            0,
            1,
            -1,
            999,
            1000,
            1001,
            10,
            100,
            450,
            -86_400_000,
            951_782_400_000, // 2000-02-29
            1_764_000_000_123,
            -62_167_219_200_000, // 0000-01-01
            -62_167_219_200_001,
            year_10000 - 1,
            year_10000,
            i64::MIN,
            i64::MAX,
        ];
        // Instants across the years 0 to 9999 and beyond, from a fixed generator.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x % 700_000_000_000_000) as i64 - 300_000_000_000_000);
        }
        for ms in cases {
            assert_eq!(Millis(ms).rfc3339(), by_time(ms), "{ms} ms");
        }
    }
}
