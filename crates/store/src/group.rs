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
//! A writer works in place. sqlx runs a SQLite connection on a thread of its own, and on a loaded
//! machine the hand-offs to that thread, not SQLite, were what a writer waited on. So the
//! writer connection is also seen through rusqlite ([`Writer`]), and a writer's statements, its
//! RELEASE and the next writer's SAVEPOINT run on the calling thread while it holds the group.
//! Only what may wait (BEGIN IMMEDIATE, which can meet another process's lock, and COMMIT, which
//! waits for the disk) goes to sqlx's thread, once per batch, detached from the request
//! (`detached`): a client that hangs up cannot leave a statement sent whose effect the shared
//! state does not know of. A writer may still use the connection through sqlx (`&mut *tx`); it
//! then ends through sqlx too, behind whatever it sent.

use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// The most writers one COMMIT carries, so the first of them never waits long.
pub const MAX_BATCH: usize = 128;
/// The oldest a shared transaction gets before it is committed whoever is still queued.
pub const MAX_AGE: Duration = Duration::from_millis(10);
/// How long a committed writer waits for another to commit the batch before doing it itself.
const TAKE_OVER: Duration = Duration::from_millis(50);

type Outcome = Option<Result<(), Arc<str>>>;

/// The writer connection, seen both through sqlx and, for the work done in place, through
/// rusqlite. It is opened `serialized(true)`: SQLite then guards the handle with its own mutex,
/// so sqlx's thread tidying up after a statement (a reset, a cache count) can never race a
/// statement run in place. Field order matters: the view finalizes its statements before the
/// connection closes.
struct Writer {
    inline: rusqlite::Connection,
    conn: SqliteConnection,
}

impl Writer {
    async fn open(opts: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let mut conn = opts.connect().await?;
        let raw = conn.lock_handle().await?.as_raw_handle();
        let inline = view(raw).map_err(|e| failed(&e.to_string()))?;
        inline.set_prepared_statement_cache_capacity(64);
        Ok(Writer { inline, conn })
    }

    /// Drops the connection, in a state not known: the next writer opens another.
    fn discard(self) {
        let Writer { inline, conn } = self;
        drop(inline);
        drop(conn);
    }
}

/// A rusqlite view of the handle sqlx opened.
#[allow(unsafe_code)]
fn view(raw: NonNull<rusqlite::ffi::sqlite3>) -> rusqlite::Result<rusqlite::Connection> {
    // SAFETY: `from_handle` makes a view that never closes the handle. The handle outlives the
    // view: both live in one `Writer`, the view dropped first, and sqlx closes a pooled
    // connection only once it is dropped or given back, which `Writer` does after dropping the
    // view. Use from two threads is sound: the connection is opened in SQLite's serialized mode
    // (a mutex per handle), and the group's rules keep the two from taking turns within a
    // statement: the view runs only while a writer holds the group, after every sqlx command
    // sent on the connection has returned, and a writer that used sqlx or was dropped ends
    // through sqlx, queued behind its own statements.
    unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }
}

pub struct GroupWriter {
    opts: Arc<SqliteConnectOptions>,
    state: Arc<Mutex<State>>,
    queued: Arc<AtomicUsize>,
}

#[derive(Default)]
struct State {
    /// Kept between batches: reopening its rusqlite view would cost a round trip each time.
    conn: Option<Writer>,
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
    /// A group writer on the database `opts` opens; it connects when first needed.
    pub fn new(opts: SqliteConnectOptions) -> Self {
        Self {
            opts: Arc::new(opts.serialized(true)),
            state: Arc::default(),
            queued: Arc::default(),
        }
    }

    /// Opens this writer's part of the shared transaction.
    pub async fn begin(&self) -> Result<GroupTx, sqlx::Error> {
        let queued = Queued::enter(self);
        let mut g = self.state.clone().lock_owned().await;
        queued.leave();
        let writer = self.handle();
        if g.spare && !g.undo && g.conn.is_some() {
            // The writer before opened this one's savepoint: nothing to wait for.
            g.spare = false;
            return Ok(GroupTx::new(g, writer));
        }
        let opts = self.opts.clone();
        // The writer is made inside the detached task: if the caller is gone by the time it
        // ends, dropping it undoes the savepoint like any abandoned writer.
        detached(async move {
            match prepare(&mut g, &opts).await {
                Ok(()) => Ok(GroupTx::new(g, writer)),
                Err(e) => {
                    fail_batch(&mut g, &e.to_string()).await;
                    Err(e)
                }
            }
        })
        .await?
    }

    /// Runs SQLite's `PRAGMA optimize` on the writer connection, between batches.
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        let mut g = self.state.clone().lock_owned().await;
        let opts = self.opts.clone();
        detached(async move {
            settle(&mut g).await;
            if g.conn.is_none() {
                g.conn = Some(Writer::open(&opts).await?);
            }
            let conn = &mut g.conn.as_mut().expect("opened above").conn;
            sqlx::query("PRAGMA optimize").execute(conn).await?;
            Ok(())
        })
        .await?
    }

    /// Settles the shared transaction and closes the connection.
    pub async fn close(&self) {
        let mut g = self.state.clone().lock_owned().await;
        let _ = detached(async move {
            settle(&mut g).await;
            if let Some(w) = g.conn.take() {
                drop(w.inline);
                let _ = w.conn.close().await;
            }
        })
        .await;
    }

    /// Transactions committed so far and the writes they carried: the ratio is the batching.
    pub async fn stats(&self) -> (u64, u64) {
        let g = self.state.lock().await;
        (g.commits, g.writes)
    }

    fn handle(&self) -> Handle {
        Handle {
            state: self.state.clone(),
            queued: self.queued.clone(),
        }
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

async fn prepare(g: &mut State, opts: &SqliteConnectOptions) -> Result<(), sqlx::Error> {
    if g.spare && !g.undo {
        g.spare = false;
        return Ok(());
    }
    undo(g).await?;
    if g.conn.is_none() {
        g.conn = Some(Writer::open(opts).await?);
    }
    let conn = &mut g.conn.as_mut().expect("opened above").conn;
    if g.batch.is_none() {
        sqlx::query("BEGIN IMMEDIATE; SAVEPOINT w")
            .execute(&mut *conn)
            .await?;
        g.next_id += 1;
        g.batch = Some(Batch {
            id: g.next_id,
            writers: 0,
            opened: Instant::now(),
            done: watch::channel(None).0,
        });
    } else {
        sqlx::query("SAVEPOINT w").execute(&mut *conn).await?;
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
    let conn = &mut g
        .conn
        .as_mut()
        .expect("a savepoint lives on a connection")
        .conn;
    sqlx::query(text).execute(&mut *conn).await?;
    g.undo = false;
    g.spare = false;
    Ok(())
}

/// Commits the shared transaction and tells everyone in it.
async fn commit_batch(g: &mut State) -> Result<(), sqlx::Error> {
    let Some(batch) = g.batch.take() else {
        return Ok(());
    };
    let conn = &mut g.conn.as_mut().expect("a batch lives on a connection").conn;
    match sqlx::query("COMMIT").execute(&mut *conn).await {
        Ok(_) => {
            committed(g, batch);
            Ok(())
        }
        Err(e) => {
            let msg: Arc<str> = e.to_string().into();
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            batch.done.send_replace(Some(Err(msg)));
            if let Some(w) = g.conn.take() {
                w.discard();
            }
            Err(e)
        }
    }
}

/// After the COMMIT: everyone in the batch is told.
fn committed(g: &mut State, batch: Batch) {
    g.commits += 1;
    g.writes += batch.writers as u64;
    batch.done.send_replace(Some(Ok(())));
    g.spare = false;
}

/// Abandons the shared transaction: everyone in it is told it failed.
async fn fail_batch(g: &mut State, why: &str) {
    if let Some(batch) = g.batch.take() {
        if let Some(w) = g.conn.as_mut() {
            let _ = sqlx::query("ROLLBACK").execute(&mut w.conn).await;
        }
        batch.done.send_replace(Some(Err(why.into())));
    }
    g.undo = false;
    g.spare = false;
    // A connection in an unknown state is not reused.
    if let Some(w) = g.conn.take() {
        w.discard();
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
            let conn = &mut g.conn.as_mut().expect("a batch lives on a connection").conn;
            if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                fail_batch(g, &e.to_string()).await;
            } else {
                g.batch = None;
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

/// Whether the writer ending now commits the batch: nobody is waiting for the connection, or the
/// batch is full or old enough.
fn commit_now(g: &State, queued: &AtomicUsize) -> bool {
    let batch = g.batch.as_ref().expect("a writer is inside a batch");
    queued.load(Ordering::SeqCst) == 0
        || batch.writers + 1 >= MAX_BATCH
        || batch.opened.elapsed() >= MAX_AGE
}

/// What a writer's end leaves it to do: wait for the batch's COMMIT, or send it.
enum Ended {
    Wait(u64, watch::Receiver<Outcome>),
    Commit,
}

/// Counts the writer into the batch; unless it commits, opens the next writer's savepoint.
fn counted(g: &mut State, commit: bool) -> Ended {
    let batch = g.batch.as_mut().expect("a writer is inside a batch");
    batch.writers += 1;
    if commit {
        return Ended::Commit;
    }
    g.spare = true;
    Ended::Wait(batch.id, batch.done.subscribe())
}

/// A writer's end in place: its RELEASE and, when another writer is queued, that writer's
/// SAVEPOINT, on the calling thread.
fn release_in_place(g: &mut State, queued: &AtomicUsize) -> rusqlite::Result<Ended> {
    let commit = commit_now(g, queued);
    let conn = &g
        .conn
        .as_ref()
        .expect("a live writer holds the connection")
        .inline;
    conn.prepare_cached("RELEASE w")?.execute([])?;
    if !commit {
        conn.prepare_cached("SAVEPOINT w")?.execute([])?;
    }
    Ok(counted(g, commit))
}

/// A writer's end through sqlx, behind the statements it sent there: the RELEASE, and then either
/// the COMMIT or the next writer's SAVEPOINT, in one round trip.
async fn release_through_sqlx(
    mut g: OwnedMutexGuard<State>,
    queued: Arc<AtomicUsize>,
) -> Result<Option<(u64, watch::Receiver<Outcome>)>, sqlx::Error> {
    let commit = commit_now(&g, &queued);
    let text = if commit {
        "RELEASE w; COMMIT"
    } else {
        "RELEASE w; SAVEPOINT w"
    };
    let conn = &mut g
        .conn
        .as_mut()
        .expect("a live writer holds the connection")
        .conn;
    if let Err(e) = sqlx::query(text).execute(&mut *conn).await {
        fail_batch(&mut g, &e.to_string()).await;
        return Err(e);
    }
    match counted(&mut g, commit) {
        Ended::Commit => {
            let batch = g.batch.take().expect("a writer is inside a batch");
            committed(&mut g, batch);
            Ok(None)
        }
        Ended::Wait(id, done) => Ok(Some((id, done))),
    }
}

/// Undoes a writer's savepoint in place; true when done, false when it must be left to `undo`.
fn undo_in_place(g: &mut State) -> bool {
    let Some(w) = g.conn.as_ref() else {
        return false;
    };
    let undone = w
        .inline
        .prepare_cached("ROLLBACK TO w")
        .and_then(|mut s| s.execute([]))
        .and_then(|_| w.inline.prepare_cached("RELEASE w")?.execute([]));
    undone.is_ok()
}

/// One writer's part of the shared transaction: a connection inside its own SAVEPOINT. Work in
/// place through `inline()`, or through sqlx as `&mut *tx`; `commit` returns once the work is
/// durable.
pub struct GroupTx {
    guard: Option<OwnedMutexGuard<State>>,
    writer: Handle,
    /// This writer used the connection through sqlx, so it ends through sqlx, after its
    /// statements (one dropped unanswered may still be running on sqlx's thread).
    through_sqlx: bool,
}

impl Deref for GroupTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.guard
            .as_ref()
            .and_then(|g| g.conn.as_ref())
            .map(|w| &w.conn)
            .expect("a live writer holds the connection")
    }
}

impl DerefMut for GroupTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.through_sqlx = true;
        self.guard
            .as_mut()
            .and_then(|g| g.conn.as_mut())
            .map(|w| &mut w.conn)
            .expect("a live writer holds the connection")
    }
}

impl GroupTx {
    fn new(g: OwnedMutexGuard<State>, writer: Handle) -> Self {
        GroupTx {
            guard: Some(g),
            writer,
            through_sqlx: false,
        }
    }

    /// The writer connection, to work on in place (see the module's notes).
    pub(crate) fn inline(&self) -> &rusqlite::Connection {
        &self
            .guard
            .as_ref()
            .and_then(|g| g.conn.as_ref())
            .expect("a live writer holds the connection")
            .inline
    }

    /// Keeps this writer's work and returns once the COMMIT that holds it has returned.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let mut g = self.guard.take().expect("commit once");
        let queued = self.writer.queued.clone();
        let waiting = if self.through_sqlx {
            detached(release_through_sqlx(g, queued)).await??
        } else {
            match release_in_place(&mut g, &queued) {
                Ok(Ended::Wait(id, done)) => {
                    drop(g); // the next writer's turn
                    Some((id, done))
                }
                // Sent from a task of its own, so that the state follows the connection even if
                // this request goes away.
                Ok(Ended::Commit) => {
                    return detached(async move { commit_batch(&mut g).await }).await?;
                }
                Err(e) => {
                    let why = e.to_string();
                    detached(async move { fail_batch(&mut g, &why).await }).await?;
                    return Err(failed(&e.to_string()));
                }
            }
        };
        let Some((id, mut done)) = waiting else {
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

    /// Undoes this writer's work; the others' in the batch is unaffected.
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let mut g = self.guard.take().expect("rollback once");
        if self.through_sqlx || !undo_in_place(&mut g) {
            g.undo = true;
        }
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
            if self.through_sqlx || !undo_in_place(&mut g) {
                g.undo = true;
            }
            drop(g);
            self.writer.settle_later();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::SqlitePool;

    async fn writer() -> (GroupWriter, SqlitePool, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("mstation-group-{}.db", uuid::Uuid::now_v7()));
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let read = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(opts.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&read)
            .await
            .unwrap();
        (GroupWriter::new(opts), read, path)
    }

    async fn insert(w: &GroupWriter, id: i64) -> Result<(), sqlx::Error> {
        let mut tx = w.begin().await?;
        sqlx::query("INSERT INTO t (id) VALUES ($1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Inserts `id` in place, or through sqlx when `through_sqlx`.
    async fn put(tx: &mut GroupTx, id: i64, through_sqlx: bool) -> Result<(), sqlx::Error> {
        if through_sqlx {
            sqlx::query("INSERT INTO t (id) VALUES ($1)")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        } else {
            tx.inline()
                .execute("INSERT INTO t (id) VALUES (?1)", [id])
                .map_err(|e| failed(&e.to_string()))?;
        }
        Ok(())
    }

    async fn insert_by(w: &GroupWriter, id: i64, through_sqlx: bool) -> Result<(), sqlx::Error> {
        let mut tx = w.begin().await?;
        put(&mut tx, id, through_sqlx).await?;
        tx.commit().await
    }

    async fn ids(read: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(read)
            .await
            .unwrap()
    }

    async fn waiting_writers_share_one_commit(through_sqlx: bool) {
        let (w, read, path) = writer().await;
        let w = Arc::new(w);
        insert_by(&w, 1, through_sqlx).await.unwrap();
        assert_eq!(w.stats().await, (1, 1), "a lone writer commits at once");

        // Hold the connection so that the others queue up behind it.
        let mut first = w.begin().await.unwrap();
        put(&mut first, 2, through_sqlx).await.unwrap();
        let mut tasks = Vec::new();
        for id in 10..30 {
            let w = w.clone();
            // One of them inserts a row that exists: it fails, alone.
            let id = if id == 20 { 1 } else { id };
            tasks.push(tokio::spawn(async move {
                insert_by(&w, id, through_sqlx).await
            }));
        }
        while w.queued.load(Ordering::SeqCst) < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let all = tokio::spawn(async move { first.commit().await });
        let mut failures = 0;
        for t in tasks {
            // A writer waiting for its batch must not keep the others from committing it.
            let done = tokio::time::timeout(Duration::from_secs(10), t).await;
            if done.expect("every writer ends").unwrap().is_err() {
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
    async fn waiting_writers_share_one_commit_and_a_failing_one_undoes_only_itself() {
        waiting_writers_share_one_commit(true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_in_place_share_one_commit_and_a_failing_one_undoes_only_itself() {
        waiting_writers_share_one_commit(false).await;
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
            // Half of them work in place, half through sqlx, interleaved in one batch.
            let through_sqlx = (id / 5) % 2 == 0;
            tasks.push(tokio::spawn(async move {
                match id % 5 {
                    // Commits: the row must be there.
                    0 => insert_by(&w, id, through_sqlx)
                        .await
                        .map(|_| Some((id, true))),
                    // Cut off anywhere, commit included (its client hung up): the row may or
                    // may not be there, and nobody else notices.
                    4 => {
                        let cut = Duration::from_micros(50 * (id as u64 % 7));
                        let _ = tokio::time::timeout(cut, insert_by(&w, id, through_sqlx)).await;
                        Ok(Some((id, false)))
                    }
                    // Fails on a duplicate inside its savepoint: nothing of it stays.
                    1 => {
                        let mut tx = w.begin().await?;
                        put(&mut tx, id, through_sqlx).await?;
                        assert!(put(&mut tx, 1, through_sqlx).await.is_err());
                        Ok(None)
                    }
                    // Leaves without committing.
                    2 => {
                        let mut tx = w.begin().await?;
                        put(&mut tx, id, through_sqlx).await?;
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
