//! Group commit for SQLite.
//!
//! SQLite has one writer, and with `synchronous=FULL` every COMMIT waits for the disk: under
//! concurrent writes the fsync, not the CPU, sets the pace. Here concurrent writers share one
//! transaction. Each runs inside its own SAVEPOINT, so one that fails undoes only itself; the
//! shared transaction commits as soon as no other writer is waiting (or after [`MAX_BATCH`]
//! writers, or once it is [`MAX_AGE`] old). A writer's `commit` returns only after the COMMIT
//! holding its work has returned, so an acknowledged write is exactly as durable as before, while
//! many writes share one fsync. A lone writer commits at once: nothing waits for company.
//!
//! Whatever way a writer ends (commit, error, rollback, or its request dropped mid-way), the
//! shared transaction is settled: committed if someone is waiting on it, rolled back if it holds
//! nothing, never left open to block other processes on the same file.
//!
//! Round trips to sqlx's connection thread are what a writer waits on, so they are few: a
//! writer's last one carries its deferred statements (`defer`), its RELEASE, and either the
//! COMMIT or, when another writer is queued, that writer's SAVEPOINT. Every step that changes the
//! connection's state runs detached from the request (`detached`): a client that hangs up cannot
//! leave a statement sent whose effect the shared state does not know of.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;

use crate::direct::Arg;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// The most writers one COMMIT carries, so the first of them never waits long.
pub const MAX_BATCH: usize = 128;
/// The oldest a shared transaction gets before it is committed whoever is still queued.
pub const MAX_AGE: Duration = Duration::from_millis(10);
/// How long a committed writer waits for another to commit the batch before doing it itself.
const TAKE_OVER: Duration = Duration::from_millis(50);

type Outcome = Option<Result<(), Arc<str>>>;

pub struct GroupWriter {
    pool: SqlitePool,
    state: Arc<Mutex<State>>,
    queued: Arc<AtomicUsize>,
}

#[derive(Default)]
struct State {
    conn: Option<PoolConnection<Sqlite>>,
    batch: Option<Batch>,
    next_id: u64,
    /// A writer ended without committing: its savepoint is still open and must be undone
    /// before anything else runs on the connection.
    undo: bool,
    /// A writer that handed the connection on opened the next one's (empty) savepoint with its
    /// own RELEASE, saving the next writer a round trip.
    spare: bool,
    /// Committed transactions, and the writes they carried.
    commits: u64,
    writes: u64,
}

struct Batch {
    id: u64,
    /// Writers whose work is in the batch, waiting for its COMMIT.
    writers: usize,
    opened: Instant,
    done: watch::Sender<Outcome>,
}

fn failed(e: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the shared write transaction failed: {e}"
    )))
}

impl GroupWriter {
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            state: Arc::default(),
            queued: Arc::default(),
        }
    }

    /// Opens this writer's part of the shared transaction.
    pub async fn begin(&self) -> Result<GroupTx, sqlx::Error> {
        let queued = Queued::enter(self);
        let mut g = self.state.clone().lock_owned().await;
        queued.leave();
        let pool = self.pool.clone();
        let writer = self.handle();
        // The writer is made inside the detached task: if the caller is gone by the time it
        // ends, dropping it undoes the savepoint like any abandoned writer.
        detached(async move {
            match prepare(&mut g, &pool).await {
                Ok(()) => Ok(GroupTx {
                    guard: Some(g),
                    writer,
                    deferred: String::new(),
                    deferred_args: Vec::new(),
                }),
                Err(e) => {
                    fail_batch(&mut g, &e.to_string()).await;
                    Err(e)
                }
            }
        })
        .await?
    }

    /// Transactions committed so far and the writes they carried: the ratio is the batching.
    pub async fn stats(&self) -> (u64, u64) {
        let g = self.state.lock().await;
        (g.commits, g.writes)
    }

    /// The gate the writer thread (`writer`) holds for each of its transactions.
    pub(crate) fn gate(&self) -> Gate {
        Gate {
            state: self.state.clone(),
        }
    }

    fn handle(&self) -> Handle {
        Handle {
            state: self.state.clone(),
            queued: self.queued.clone(),
        }
    }
}

/// Keeps the group's writers out while another connection (the writer thread's) writes.
pub(crate) struct Gate {
    state: Arc<Mutex<State>>,
}

/// The group held shut: its connection is outside any transaction until this is dropped.
pub(crate) struct Held(#[allow(dead_code)] OwnedMutexGuard<State>);

impl Gate {
    /// Waits (blocking: for a thread outside the runtime) for the group's current writer to
    /// finish, then commits what its transaction holds, so the write lock is free.
    pub(crate) fn hold(&self, rt: &tokio::runtime::Handle) -> Held {
        let mut g = self.state.clone().blocking_lock_owned();
        if g.batch.is_some() || g.undo || g.spare {
            g = rt.block_on(async move {
                settle(&mut g).await;
                g
            });
        }
        Held(g)
    }
}

/// What a writer keeps of the group to settle it later.
#[derive(Clone)]
struct Handle {
    state: Arc<Mutex<State>>,
    queued: Arc<AtomicUsize>,
}

impl Handle {
    /// Settles the shared transaction from a task of its own, when nobody else will.
    fn settle_later(&self) {
        if self.queued.load(Ordering::SeqCst) > 0 {
            return; // the next writer carries on and settles it
        }
        let state = self.state.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut g = state.lock().await;
                settle(&mut g).await;
            });
        }
    }
}

/// Counts a writer waiting for the connection; a writer dropped while waiting still leaves the
/// count right and the batch settled.
struct Queued {
    handle: Handle,
    waiting: bool,
}

impl Queued {
    fn enter(w: &GroupWriter) -> Self {
        w.queued.fetch_add(1, Ordering::SeqCst);
        Self {
            handle: w.handle(),
            waiting: true,
        }
    }
    fn leave(mut self) {
        self.handle.queued.fetch_sub(1, Ordering::SeqCst);
        self.waiting = false;
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if self.waiting {
            self.handle.queued.fetch_sub(1, Ordering::SeqCst);
            self.handle.settle_later();
        }
    }
}

async fn prepare(g: &mut State, pool: &SqlitePool) -> Result<(), sqlx::Error> {
    if g.spare && !g.undo {
        g.spare = false;
        return Ok(());
    }
    undo(g).await?;
    if g.conn.is_none() {
        g.conn = Some(pool.acquire().await?);
    }
    let conn = g.conn.as_mut().expect("acquired above");
    if g.batch.is_none() {
        sqlx::query("BEGIN IMMEDIATE; SAVEPOINT w")
            .execute(&mut **conn)
            .await?;
        g.next_id += 1;
        g.batch = Some(Batch {
            id: g.next_id,
            writers: 0,
            opened: Instant::now(),
            done: watch::channel(None).0,
        });
    } else {
        sqlx::query("SAVEPOINT w").execute(&mut **conn).await?;
    }
    Ok(())
}

/// Undoes the savepoint a writer left open, or closes the spare one nobody took.
async fn undo(g: &mut State) -> Result<(), sqlx::Error> {
    let text = match (g.undo, g.spare) {
        (true, _) => "ROLLBACK TO w; RELEASE w",
        (false, true) => "RELEASE w",
        (false, false) => return Ok(()),
    };
    let conn = g.conn.as_mut().expect("a savepoint lives on a connection");
    sqlx::query(text).execute(&mut **conn).await?;
    g.undo = false;
    g.spare = false;
    Ok(())
}

/// Commits the shared transaction and tells everyone in it; the connection goes back to the pool
/// so that maintenance (`PRAGMA optimize`) can have it between batches.
async fn commit_batch(g: &mut State) -> Result<(), sqlx::Error> {
    let Some(batch) = g.batch.take() else {
        return Ok(());
    };
    let conn = g.conn.as_mut().expect("a batch lives on a connection");
    match sqlx::query("COMMIT").execute(&mut **conn).await {
        Ok(_) => {
            committed(g, batch);
            Ok(())
        }
        Err(e) => {
            let msg: Arc<str> = e.to_string().into();
            let _ = sqlx::query("ROLLBACK").execute(&mut **conn).await;
            batch.done.send_replace(Some(Err(msg)));
            g.conn = None;
            Err(e)
        }
    }
}

/// After the COMMIT: everyone in the batch is told, and the connection goes back to the pool.
fn committed(g: &mut State, batch: Batch) {
    g.commits += 1;
    g.writes += batch.writers as u64;
    batch.done.send_replace(Some(Ok(())));
    g.spare = false;
    g.conn = None;
}

/// Abandons the shared transaction: everyone in it is told it failed.
async fn fail_batch(g: &mut State, why: &str) {
    if let Some(batch) = g.batch.take() {
        if let Some(conn) = g.conn.as_mut() {
            let _ = sqlx::query("ROLLBACK").execute(&mut **conn).await;
        }
        batch.done.send_replace(Some(Err(why.into())));
    }
    g.undo = false;
    g.spare = false;
    // A connection in an unknown state is not reused.
    if let Some(mut conn) = g.conn.take() {
        conn.close_on_drop();
    }
}

/// Brings the shared transaction to rest: undoes an abandoned savepoint, then commits what
/// others are waiting for, or rolls back an empty transaction.
async fn settle(g: &mut State) {
    if let Err(e) = undo(g).await {
        fail_batch(g, &e.to_string()).await;
        return;
    }
    match g.batch.as_ref().map(|b| b.writers) {
        None => {}
        Some(0) => {
            let conn = g.conn.as_mut().expect("a batch lives on a connection");
            if let Err(e) = sqlx::query("ROLLBACK").execute(&mut **conn).await {
                fail_batch(g, &e.to_string()).await;
            } else {
                g.batch = None;
                g.conn = None;
            }
        }
        Some(_) => {
            let _ = commit_batch(g).await;
        }
    }
}

/// Runs `work` to its end even if the caller goes away. A request can be dropped at any await
/// (its client hung up); a statement already sent still runs, and the shared state must say so.
async fn detached<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, sqlx::Error> {
    tokio::spawn(work).await.map_err(|e| failed(&e.to_string()))
}

/// A writer's end: its deferred statements, the RELEASE, and then either the COMMIT (answers
/// `None`) or the next writer's SAVEPOINT (answers the batch to wait for), in one round trip.
/// Should any statement fail, the ones before it already ran: the batch is abandoned.
async fn release(
    mut g: OwnedMutexGuard<State>,
    queued: Arc<AtomicUsize>,
    mut text: String,
    args: Vec<Arg>,
) -> Result<Option<(u64, watch::Receiver<Outcome>)>, sqlx::Error> {
    let batch = g.batch.as_ref().expect("a writer is inside a batch");
    let commit_now = queued.load(Ordering::SeqCst) == 0
        || batch.writers + 1 >= MAX_BATCH
        || batch.opened.elapsed() >= MAX_AGE;
    text.push_str(if commit_now {
        "RELEASE w;\nCOMMIT"
    } else {
        "RELEASE w;\nSAVEPOINT w"
    });
    // A bulk change's one-off text would only push the common ones out of the cache.
    let big = args.len() > 64;
    let conn = g.conn.as_mut().expect("a live writer holds the connection");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text)).persistent(!big);
    crate::direct::bind_args!(q, &args);
    if let Err(e) = q.execute(&mut **conn).await {
        fail_batch(&mut g, &e.to_string()).await;
        return Err(e);
    }
    let mut batch = g.batch.take().expect("a writer is inside a batch");
    batch.writers += 1;
    if commit_now {
        committed(&mut g, batch);
        return Ok(None);
    }
    g.spare = true;
    let waiting = (batch.id, batch.done.subscribe());
    g.batch = Some(batch);
    Ok(Some(waiting))
}

/// One writer's part of the shared transaction: a connection inside its own SAVEPOINT. Use it
/// as `&mut *tx`; `commit` returns once the work is durable.
pub struct GroupTx {
    guard: Option<OwnedMutexGuard<State>>,
    writer: Handle,
    /// Statements that need no answer (the audit and outbox rows), sent with the RELEASE.
    deferred: String,
    deferred_args: Vec<Arg>,
}

impl Deref for GroupTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.guard
            .as_ref()
            .and_then(|g| g.conn.as_deref())
            .expect("a live writer holds the connection")
    }
}

impl DerefMut for GroupTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .and_then(|g| g.conn.as_deref_mut())
            .expect("a live writer holds the connection")
    }
}

impl GroupTx {
    /// Keeps this writer's work and returns once the COMMIT that holds it has returned.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let g = self.guard.take().expect("commit once");
        let queued = self.writer.queued.clone();
        let text = std::mem::take(&mut self.deferred);
        let args = std::mem::take(&mut self.deferred_args);
        let Some((id, mut done)) = detached(release(g, queued, text, args)).await?? else {
            return Ok(());
        };
        loop {
            if let Some(outcome) = done.borrow_and_update().clone() {
                return outcome.map_err(|e| failed(&e));
            }
            match tokio::time::timeout(TAKE_OVER, done.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(failed("the batch was dropped")),
                Err(_) => {
                    // Nobody committed the batch in time: do it here.
                    let mut g = self.writer.state.clone().lock_owned().await;
                    let took_over = detached(async move {
                        if g.batch.as_ref().is_some_and(|b| b.id == id) {
                            undo(&mut g).await.ok();
                            return Some(commit_batch(&mut g).await);
                        }
                        None
                    });
                    if let Some(committed) = took_over.await? {
                        return committed;
                    }
                }
            }
        }
    }

    /// Queues `text` (one statement, parameters `$1…`) to run just before this
    /// writer's RELEASE, with `args` as its parameters.
    pub(crate) fn defer(&mut self, text: &str, args: Vec<Arg>) {
        let base = self.deferred_args.len();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            self.deferred.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = rest[..digits].parse().expect("a numbered parameter");
            self.deferred.push_str(&(n + base).to_string());
            rest = &rest[digits..];
        }
        self.deferred.push_str(rest.trim_end());
        if !self.deferred.ends_with(';') {
            self.deferred.push(';');
        }
        self.deferred.push('\n');
        self.deferred_args.extend(args);
    }

    /// Undoes this writer's work; the others' in the batch is unaffected.
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let mut g = self.guard.take().expect("rollback once");
        g.undo = true;
        if self.writer.queued.load(Ordering::SeqCst) == 0 {
            detached(async move { settle(&mut g).await }).await?;
        }
        Ok(())
    }
}

impl Drop for GroupTx {
    fn drop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            // Ended without commit (an error, or the request went away): undo before the next.
            g.undo = true;
            drop(g);
            self.writer.settle_later();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqliteConnectOptions;

    async fn writer() -> (GroupWriter, SqlitePool, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("mstation-group-{}.db", uuid::Uuid::now_v7()));
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        let read = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(opts)
            .await
            .unwrap();
        (GroupWriter::new(pool), read, path)
    }

    async fn insert(w: &GroupWriter, id: i64) -> Result<(), sqlx::Error> {
        let mut tx = w.begin().await?;
        sqlx::query("INSERT INTO t (id) VALUES ($1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    async fn ids(read: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(read)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_writers_share_one_commit_and_a_failing_one_undoes_only_itself() {
        let (w, read, path) = writer().await;
        let w = Arc::new(w);
        insert(&w, 1).await.unwrap();
        assert_eq!(w.stats().await, (1, 1), "a lone writer commits at once");

        // Hold the connection so that the others queue up behind it.
        let mut first = w.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id) VALUES (2)")
            .execute(&mut *first)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for id in 10..30 {
            let w = w.clone();
            // One of them inserts a row that exists: it fails, alone.
            let id = if id == 20 { 1 } else { id };
            tasks.push(tokio::spawn(async move { insert(&w, id).await }));
        }
        while w.queued.load(Ordering::SeqCst) < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let all = tokio::spawn(async move { first.commit().await });
        let mut failures = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                failures += 1;
            }
        }
        all.await.unwrap().unwrap();
        assert_eq!(failures, 1, "only the duplicate fails");
        let mut want = vec![1, 2];
        want.extend((10..30).filter(|i| *i != 20));
        assert_eq!(ids(&read).await, want);
        let (commits, writes) = w.stats().await;
        assert_eq!(writes, 1 + 20, "every successful writer is counted once");
        // One COMMIT for the lone writer, then the queue shares one (or a few, if the machine is
        // slow enough for the batch to reach its age limit): never one per writer.
        assert!(
            (2..=4).contains(&commits),
            "{commits} commits for 21 writes"
        );
        std::fs::remove_file(path).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deferred_statement_that_fails_fails_everyone_in_its_batch_and_nothing_else() {
        let (w, read, path) = writer().await;
        let w = Arc::new(w);
        insert(&w, 1).await.unwrap();

        // `first` holds the connection so that `second` queues behind it; `first` then leaves
        // the batch open for `second` and waits for its COMMIT.
        let mut first = w.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id) VALUES (2)")
            .execute(&mut *first)
            .await
            .unwrap();
        let w2 = w.clone();
        let second = tokio::spawn(async move {
            let mut tx = w2.begin().await?;
            sqlx::query("INSERT INTO t (id) VALUES (3)")
                .execute(&mut *tx)
                .await?;
            // Runs only with the RELEASE, and fails there: 1 exists.
            tx.defer("INSERT INTO t (id) VALUES ($1)", vec![Arg::Int(Some(1))]);
            tx.commit().await
        });
        while w.queued.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let first = tokio::spawn(async move { first.commit().await });
        let (first, second) = (first.await.unwrap(), second.await.unwrap());

        // Nobody is told their write is kept when the COMMIT that held it never happened.
        assert!(second.is_err(), "the writer whose statement failed is told");
        assert!(first.is_err(), "so is the writer that shared its batch");
        assert_eq!(ids(&read).await, vec![1], "neither write is there");
        // And the next writer starts afresh.
        insert(&w, 4).await.unwrap();
        assert_eq!(ids(&read).await, vec![1, 4]);
        std::fs::remove_file(path).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_writer_neither_keeps_its_work_nor_strands_the_others() {
        let (w, read, path) = writer().await;
        let w = Arc::new(w);
        let mut first = w.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id) VALUES (1)")
            .execute(&mut *first)
            .await
            .unwrap();
        let w2 = w.clone();
        let second = tokio::spawn(async move {
            let mut tx = w2.begin().await.unwrap();
            sqlx::query("INSERT INTO t (id) VALUES (2)")
                .execute(&mut *tx)
                .await
                .unwrap();
            drop(tx); // the request went away before committing
        });
        while w.queued.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // `first` sees a writer queued and leaves the batch open for it; the abandoned writer
        // must still get the batch committed.
        first.commit().await.unwrap();
        second.await.unwrap();
        assert_eq!(ids(&read).await, vec![1]);
        // And the connection is free for the next writer.
        insert(&w, 3).await.unwrap();
        assert_eq!(ids(&read).await, vec![1, 3]);
        std::fs::remove_file(path).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_that_commit_fail_leave_give_up_or_are_cut_off_keep_exactly_the_committed() {
        let (w, read, path) = writer().await;
        let w = Arc::new(w);
        insert(&w, 1).await.unwrap();
        let mut tasks = Vec::new();
        for id in 100..400_i64 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                match id % 5 {
                    // Commits: the row must be there.
                    0 => insert(&w, id).await.map(|_| Some((id, true))),
                    // Cut off anywhere, commit included (its client hung up): the row may or
                    // may not be there, and nobody else notices.
                    4 => {
                        let cut = Duration::from_micros(50 * (id as u64 % 7));
                        let _ = tokio::time::timeout(cut, insert(&w, id)).await;
                        Ok(Some((id, false)))
                    }
                    // Fails on a duplicate inside its savepoint: nothing of it stays.
                    1 => {
                        let mut tx = w.begin().await?;
                        sqlx::query("INSERT INTO t (id) VALUES ($1)")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        let dup = sqlx::query("INSERT INTO t (id) VALUES (1)")
                            .execute(&mut *tx)
                            .await;
                        assert!(dup.is_err());
                        Ok(None)
                    }
                    // Leaves without committing.
                    2 => {
                        let mut tx = w.begin().await?;
                        sqlx::query("INSERT INTO t (id) VALUES ($1)")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        drop(tx);
                        Ok(None)
                    }
                    // Gives up while queued (or right after being let in).
                    _ => {
                        if let Ok(tx) =
                            tokio::time::timeout(Duration::from_micros(200), w.begin()).await
                        {
                            drop(tx?);
                        }
                        Ok(None)
                    }
                }
            }));
        }
        let (mut sure, mut maybe) = (vec![1], Vec::new());
        for t in tasks {
            match t
                .await
                .unwrap()
                .expect("no writer sees an error of another")
            {
                Some((id, true)) => sure.push(id),
                Some((id, false)) => maybe.push(id),
                None => {}
            }
        }
        insert(&w, 1000).await.unwrap();
        sure.push(1000);
        let got = ids(&read).await;
        let kept: Vec<i64> = got.iter().copied().filter(|i| !maybe.contains(i)).collect();
        assert_eq!(kept, sure);
        std::fs::remove_file(path).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_cut_off_inside_its_commit_leaves_the_next_one_working() {
        use std::future::Future;
        let (w, read, path) = writer().await;
        for id in (1..40).step_by(2) {
            let mut tx = w.begin().await.unwrap();
            sqlx::query("INSERT INTO t (id) VALUES ($1)")
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
            // Its RELEASE and COMMIT are on their way when the request is dropped.
            let mut commit = Box::pin(tx.commit());
            std::future::poll_fn(|cx| {
                let _ = commit.as_mut().poll(cx);
                std::task::Poll::Ready(())
            })
            .await;
            drop(commit);
            insert(&w, id + 1).await.unwrap();
        }
        let got = ids(&read).await;
        for id in (2..=40).step_by(2) {
            assert!(got.contains(&id), "{id} missing: {got:?}");
        }
        std::fs::remove_file(path).ok();
    }
}
