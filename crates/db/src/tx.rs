//! The write rule: a write is one function over one write transaction, [`WriteTx`], the same
//! text for both backends.
//!
//! On SQLite the function runs on the writer thread (`writer`), in place: every statement runs
//! at once inside the write's savepoint and the function never waits. On PostgreSQL it runs in
//! a transaction of its own that runs to its end even if the caller goes away ([`RunToEnd`]),
//! so a request that goes away mid-write never leaves a pooled connection inside an open
//! transaction: the write runs on to its commit or its rollback. Either way the function takes only
//! what it owns (`'static`), and its caller hears of success once the write is durable.

use std::pin::Pin;
use std::sync::Mutex;

use rusqlite::Connection;
use serde::Serialize;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::value::pg_query;
use crate::writer::{lock, ready};
use crate::{Arg, Column, DbError, FromRow, Row, Writer, check_scoped, direct, new_id, now_ms};

/// A future a write function returns: it may borrow the transaction, and it is `Send` so that
/// a PostgreSQL write whose caller went away can finish on a task of its own.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

enum Inner<'c> {
    Sqlite(&'c Mutex<Connection>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// One write transaction, on either backend. Its statements and reads run in order; the write
/// commits when its function returns `Ok`, and nothing of it stays when it returns `Err`.
pub struct WriteTx<'c> {
    inner: Inner<'c>,
    /// A tenant's write: every statement must bind this organisation ([`check_scoped`]).
    tenant: Option<Uuid>,
}

impl WriteTx<'_> {
    /// Runs the statement `text` with `args` as `$1…`; answers the number of rows it changed.
    pub async fn execute(&mut self, text: &str, args: &[Arg]) -> Result<u64, DbError> {
        if let Some(org) = self.tenant {
            check_scoped(org, text, args)?;
        }
        self.run(text, args).await
    }

    async fn run(&mut self, text: &str, args: &[Arg]) -> Result<u64, DbError> {
        match &mut self.inner {
            Inner::Sqlite(conn) => direct::execute(&lock(conn), text, args),
            Inner::Postgres(tx) => Ok(pg_query(text, args)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
        }
    }

    /// The rows `text` selects.
    pub async fn query<T: FromRow>(&mut self, text: &str, args: &[Arg]) -> Result<Vec<T>, DbError> {
        if let Some(org) = self.tenant {
            check_scoped(org, text, args)?;
        }
        match &mut self.inner {
            Inner::Sqlite(conn) => direct::query(&lock(conn), text, args),
            Inner::Postgres(tx) => {
                let rows = pg_query(text, args).fetch_all(&mut **tx).await?;
                rows.iter().map(|r| T::from_row(&mut Row::pg(r))).collect()
            }
        }
    }

    /// The first row `text` selects, if any.
    pub async fn query_opt<T: FromRow>(
        &mut self,
        text: &str,
        args: &[Arg],
    ) -> Result<Option<T>, DbError> {
        Ok(self.query(text, args).await?.into_iter().next())
    }

    /// The first column of the first row `text` selects, if any.
    pub async fn scalar_opt<T>(&mut self, text: &str, args: &[Arg]) -> Result<Option<T>, DbError>
    where
        T: Column + Send + 'static,
    {
        Ok(self.query_opt::<(T,)>(text, args).await?.map(|(v,)| v))
    }

    /// The first column of the first row `text` selects; a query that selects no row is a bug.
    pub async fn scalar<T>(&mut self, text: &str, args: &[Arg]) -> Result<T, DbError>
    where
        T: Column + Send + 'static,
    {
        self.scalar_opt(text, args)
            .await?
            .ok_or_else(|| DbError::WriteFailed(format!("no row from: {text}")))
    }

    /// Appends the audit-log row and the outbox event of one change, inside this transaction:
    /// nothing is announced that did not commit, and nothing commits unrecorded.
    ///
    /// The audit row goes in first: on PostgreSQL the transaction then has its id before it
    /// takes its outbox number, which is what lets outbox readers wait on a number still in
    /// flight for exactly as long as its holder runs (`mstation_core::events`).
    pub async fn record(&mut self, actor: &Actor, change: Change) -> Result<(), DbError> {
        self.record_all(actor, vec![change]).await
    }

    /// Like [`record`](Self::record) for several changes of one write (a batch of transfers):
    /// their audit rows in one statement, then their events in one, in the order given.
    pub async fn record_all(&mut self, actor: &Actor, changes: Vec<Change>) -> Result<(), DbError> {
        self.record_and_announce(actor, changes, Vec::new()).await
    }

    /// [`record_all`](Self::record_all) of `recorded`, and [`announce`](Self::announce) of
    /// each of `announced` after them, in one statement for the audit rows and one for every
    /// event: a write that records several changes and announces others (a sale: its
    /// transfers, its licence, and the contributor's news of it) pays for two statements.
    pub async fn record_and_announce(
        &mut self,
        actor: &Actor,
        recorded: Vec<Change>,
        announced: Vec<Change>,
    ) -> Result<(), DbError> {
        if recorded.is_empty() && announced.is_empty() {
            return Ok(());
        }
        if let Some(org) = self.tenant
            && let Some(c) = recorded
                .iter()
                .chain(&announced)
                .find(|c| c.org_id != Some(org))
        {
            return Err(DbError::Unscoped(format!("the record of {}", c.action)));
        }
        if recorded.is_empty()
            && let Inner::Postgres(_) = self.inner
        {
            self.run("SELECT txid_current()", &[]).await?;
        }
        let now = now_ms();
        let mut audit = Vec::with_capacity(recorded.len() * 11);
        let mut outbox = Vec::with_capacity((recorded.len() + announced.len()) * 7);
        let by = actor
            .user_id
            .map_or_else(|| "null".to_string(), |u| format!("\"{u}\""));
        let events = recorded
            .into_iter()
            .map(|c| (c, true))
            .chain(announced.into_iter().map(|c| (c, false)));
        for (change, audited) in events {
            let after = change.after.as_ref().map(|v| v.to_string());
            let before = change.before.as_ref().map(|v| v.to_string());
            // The event's payload holds the entity as the audit row has it, written once; an
            // announcement names no one.
            let entity = after.as_deref().or(before.as_deref()).unwrap_or("null");
            let payload = format!(
                "{{\"entity\":{entity},\"actor_id\":{}}}",
                if audited { by.as_str() } else { "null" }
            );
            outbox.extend([
                Arg::from(new_id()),
                change.org_id.into(),
                change.action.into(),
                change.entity_type.into(),
                change.entity_id.into(),
                payload.into(),
                now.into(),
            ]);
            if !audited {
                continue;
            }
            let project = change.project_id();
            audit.extend([
                Arg::from(new_id()),
                change.org_id.into(),
                actor.user_id.into(),
                actor.token_id.into(),
                change.action.into(),
                change.entity_type.into(),
                change.entity_id.into(),
                before.into(),
                after.into(),
                now.into(),
                project.into(),
            ]);
        }
        if !audit.is_empty() {
            self.run(&rows(AUDIT_INSERT, audit.len() / 11, 11), &audit)
                .await?;
        }
        self.run(&rows(OUTBOX_INSERT, outbox.len() / 7, 7), &outbox)
            .await?;
        Ok(())
    }

    /// Announces a change on the outbox only, inside this transaction: for what the platform
    /// does on its own, many times a minute, that no one did (a job claimed, retried, ended),
    /// which events and webhooks carry but the audit log of people's actions does not.
    ///
    /// On PostgreSQL the transaction is given its id first, as [`record`](Self::record) does
    /// with its audit row, so outbox readers wait on its number for as long as it runs.
    pub async fn announce(&mut self, change: Change) -> Result<(), DbError> {
        self.record_and_announce(&Actor::system(), Vec::new(), vec![change])
            .await
    }

    /// Makes the writes that call this with the same `key` take turns until they commit, in
    /// every process sharing the database: for a check-then-create with no row to lock yet
    /// (the platform's first start). SQLite has one writer at a time anyway.
    pub async fn take_turns(&mut self, key: i64) -> Result<(), DbError> {
        if let Inner::Postgres(_) = self.inner {
            self.run("SELECT pg_advisory_xact_lock($1)", &[key.into()])
                .await?;
        }
        Ok(())
    }

    /// The suffix that locks the rows a write reads before changing them: PostgreSQL needs it
    /// so a blind write waits for a concurrent one instead of failing its version check;
    /// SQLite's single writer already holds every row.
    pub fn lock_rows(&self) -> &'static str {
        match self.inner {
            Inner::Sqlite(_) => "",
            Inner::Postgres(_) => " FOR UPDATE",
        }
    }

    /// Like [`lock_rows`](Self::lock_rows), but other readers that share the lock go on: a
    /// change to the rows waits for this transaction, and this read for a change under way.
    pub fn share_rows(&self) -> &'static str {
        match self.inner {
            Inner::Sqlite(_) => "",
            Inner::Postgres(_) => " FOR SHARE",
        }
    }

    /// Like [`lock_rows`](Self::lock_rows), skipping rows another transaction holds (a job
    /// queue's claim).
    pub fn lock_rows_skip_locked(&self) -> &'static str {
        match self.inner {
            Inner::Sqlite(_) => "",
            Inner::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }
}

const AUDIT_INSERT: &str = "INSERT INTO audit_log (id, org_id, actor_id, token_id, action, entity_type, entity_id, before, after, at, project_id) VALUES ";
const OUTBOX_INSERT: &str =
    "INSERT INTO outbox (id, org_id, kind, entity_type, entity_id, payload, at) VALUES ";

/// `insert` followed by `n` tuples of `width` parameters, numbered on from `$1`.
fn rows(insert: &str, n: usize, width: usize) -> String {
    let mut text = String::from(insert);
    for r in 0..n {
        text.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=width {
            if c > 1 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&(r * width + c).to_string());
        }
        text.push(')');
    }
    text
}

/// The rows `text` selects from PostgreSQL's pool (a read outside any write).
pub async fn read_pg<T: FromRow>(
    pool: &PgPool,
    text: &str,
    args: &[Arg],
) -> Result<Vec<T>, DbError> {
    let rows = pg_query(text, args).fetch_all(pool).await?;
    rows.iter().map(|r| T::from_row(&mut Row::pg(r))).collect()
}

impl Writer {
    /// Runs the write `f` on the writer thread, in the next group transaction; for `tenant`,
    /// every statement is checked to bind it ([`check_scoped`]).
    pub async fn write<T, E, F>(&self, tenant: Option<Uuid>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        self.run(move |conn| {
            let mut tx = WriteTx {
                inner: Inner::Sqlite(conn),
                tenant,
            };
            ready(f(&mut tx))
        })
        .await
    }
}

/// Runs the write `f` in a PostgreSQL transaction of its own, to its end whatever the caller
/// does: polled in place, and if the caller goes away before it ends, handed to a task of its
/// own ([`RunToEnd`]).
pub async fn write_pg<T, E, F>(pool: &PgPool, tenant: Option<Uuid>, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
{
    let pool = pool.clone();
    RunToEnd::new(async move {
        let tx = pool.begin().await.map_err(DbError::from)?;
        let mut tx = WriteTx {
            inner: Inner::Postgres(tx),
            tenant,
        };
        let out = f(&mut tx).await?;
        if let Inner::Postgres(tx) = tx.inner {
            tx.commit().await.map_err(DbError::from)?;
        }
        Ok(out)
    })
    .await
}

/// A write that always runs to its end. It is polled in place, so the common case costs no
/// hand-off between threads; dropped unfinished (its request cancelled), it is handed to a
/// task of its own, so a pooled connection is never left inside a transaction that nobody will
/// finish. (At the runtime's own shutdown that task is dropped too, and the connection's close
/// rolls the transaction back.) A write that panics answers `DbError::WriteFailed`, as it does
/// on the SQLite writer thread.
pub struct RunToEnd<F, T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    work: Option<Pin<Box<F>>>,
}

impl<F, T, E> RunToEnd<F, T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    pub fn new(work: F) -> Self {
        RunToEnd {
            work: Some(Box::pin(work)),
        }
    }
}

impl<F, T, E> Future for RunToEnd<F, T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    type Output = Result<T, E>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::panic::{AssertUnwindSafe, catch_unwind};
        use std::task::Poll;
        let this = self.get_mut();
        let Some(work) = this.work.as_mut() else {
            return Poll::Ready(Err(DbError::WriteFailed(
                "the write was polled again".into(),
            )
            .into()));
        };
        let out = match catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(out)) => out,
            Err(_) => Err(DbError::WriteFailed("the write stopped on a bug".into()).into()),
        };
        this.work = None;
        Poll::Ready(out)
    }
}

impl<F, T, E> Drop for RunToEnd<F, T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn drop(&mut self) {
        if let Some(work) = self.work.take()
            && !std::thread::panicking()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                if work.await.is_err() {
                    tracing::warn!("a write whose request went away did not commit");
                }
            });
        }
    }
}

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
