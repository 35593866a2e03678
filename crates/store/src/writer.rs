//! The SQLite writer thread: the writes production people make all day (a task's status, a
//! bulk change, a note) run on one thread that owns a write connection. So does the webhook
//! fan-out, which writes after every burst of changes: a commit by another connection empties
//! this connection's page cache.
//!
//! Through sqlx, each statement of a write is a message to the connection's thread and an
//! answer back, and the writer holds SQLite's one write lock across those hand-offs: under
//! load the lock is held less for the work than for the waking of threads (profiled: half the
//! server's time in the kernel's context switches). Here a write is one closure sent to the
//! writer thread, which runs it in place and answers once.
//!
//! The thread commits in groups, as `group` does: it opens a transaction, runs every write that
//! is waiting, each in its own SAVEPOINT (a write that fails undoes only itself, and its caller
//! hears at once), and commits them together. Writes that arrive during a COMMIT wait for the next
//! one: the slower the disk, the larger the group. A caller hears of its write's success only
//! once the COMMIT holding it has returned, so an acknowledged write is durable
//! (`synchronous=FULL`).
//!
//! The other writes still go through sqlx (`group`). The two never hold the write lock at once:
//! the thread holds the group's gate for each of its transactions, so each side waits its turn
//! in process instead of sleeping in SQLite's busy handler.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::direct::{self, Arg};
use crate::group::{Gate, MAX_BATCH};
use crate::{Deferred, Recorded, Result, StoreError};

/// Told to a kept write once the COMMIT holding it has returned (or failed).
type Reply = Box<dyn FnOnce(Result<(), Arc<str>>) + Send>;
/// A write: runs on the connection; answers `Some` to be kept, `None` once it has told its
/// caller it failed.
type Job = Box<dyn FnOnce(&Connection) -> Option<Reply> + Send>;

fn failed(why: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!(
        "the write transaction failed: {why}"
    ))))
}

pub struct Writer {
    jobs: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    commits: AtomicU64,
    writes: AtomicU64,
}

impl Writer {
    /// Opens the write connection to the (migrated) database at `path` and starts the thread.
    /// It ends when the `Writer` is dropped.
    pub(crate) fn start(path: &Path, gate: Gate) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // FULL: an acknowledged write survives power loss, not just a killed process. The
        // savepoints' journal stays in memory: on a file, every group created, filled and
        // unlinked one (measured under status changes at 100,000 shots).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;",
        )?;
        conn.set_prepared_statement_cache_capacity(128);
        let (jobs, queue) = mpsc::channel::<Job>();
        let counts = Arc::new(Counts::default());
        let rt = tokio::runtime::Handle::current();
        let c = counts.clone();
        std::thread::Builder::new()
            .name("mstation-writer".into())
            .spawn(move || run(conn, queue, gate, rt, c))
            .map_err(|e| failed(&e.to_string()))?;
        Ok(Writer { jobs, counts })
    }

    /// Runs `work` in the next group transaction and answers once that has committed. An
    /// error (or a panic) undoes `work` alone. The caller going away does not stop it.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tell, answer) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(
            move |conn| match catch_unwind(AssertUnwindSafe(|| work(conn))) {
                Ok(Ok(v)) => Some(Box::new(move |committed: Result<(), Arc<str>>| {
                    let _ = tell.send(committed.map(|()| v).map_err(|e| failed(&e)));
                })),
                Ok(Err(e)) => {
                    let _ = tell.send(Err(e));
                    None
                }
                Err(_) => {
                    let _ = tell.send(Err(failed("the write stopped on a bug")));
                    None
                }
            },
        );
        self.jobs
            .send(job)
            .map_err(|_| failed("the writer has stopped"))?;
        // Dropped untold: the transaction failed before the write could run.
        answer
            .await
            .map_err(|_| failed("the transaction could not be opened"))?
    }

    /// Transactions committed so far and the writes they carried.
    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.counts.commits.load(Ordering::Relaxed),
            self.counts.writes.load(Ordering::Relaxed),
        )
    }
}

fn run(
    conn: Connection,
    queue: mpsc::Receiver<Job>,
    gate: Gate,
    rt: tokio::runtime::Handle,
    counts: Arc<Counts>,
) {
    while let Ok(first) = queue.recv() {
        let held = gate.hold(&rt);
        let mut kept: Vec<Reply> = Vec::new();
        let outcome = group(&conn, first, &queue, &mut kept);
        let outcome = outcome.and_then(|()| conn.execute_batch("COMMIT"));
        let outcome: Result<(), Arc<str>> = match outcome {
            Ok(()) => {
                counts.commits.fetch_add(1, Ordering::Relaxed);
                counts
                    .writes
                    .fetch_add(kept.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.to_string().into())
            }
        };
        drop(held);
        for reply in kept {
            reply(outcome.clone());
        }
    }
}

/// Opens the transaction and runs `first` and the writes that queue behind it, each in its
/// savepoint. An error here is the transaction's own (not a write's): nothing of it stays.
fn group(
    conn: &Connection,
    first: Job,
    queue: &mpsc::Receiver<Job>,
    kept: &mut Vec<Reply>,
) -> rusqlite::Result<()> {
    let mut next = Some(first);
    let mut taken = 0;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    while let Some(job) = next.take() {
        taken += 1;
        conn.execute_batch("SAVEPOINT w")?;
        match job(conn) {
            Some(reply) => {
                kept.push(reply);
                conn.execute_batch("RELEASE w")?;
            }
            None => conn.execute_batch("ROLLBACK TO w; RELEASE w")?,
        }
        if taken < MAX_BATCH {
            next = queue.try_recv().ok();
        }
    }
    Ok(())
}

/// Drives a write body to its end. On the writer thread every statement runs in place, so the
/// body never waits; one that did would be a bug, and fails instead of blocking the thread.
pub(crate) fn ready<T>(body: impl Future<Output = Result<T>>) -> Result<T> {
    let mut body = std::pin::pin!(body);
    match body.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => Err(failed("a write on the writer thread waited")),
    }
}

/// A write's view of the writer connection, inside its savepoint.
pub(crate) struct SyncTx<'c> {
    conn: &'c Connection,
}

impl<'c> SyncTx<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        SyncTx { conn }
    }

    /// Keeps the write: the writer thread commits it with its group.
    pub(crate) async fn commit(self) -> Result<()> {
        Ok(())
    }
}

impl Deferred for SyncTx<'_> {
    async fn keep(&mut self, rows: Recorded) -> Result<()> {
        direct::execute(self.conn, crate::AUDIT_INSERT, &rows.audit)?;
        direct::execute(self.conn, crate::OUTBOX_INSERT, &rows.outbox)?;
        Ok(())
    }

    async fn write(&mut self, text: &'static str, args: Vec<Arg>) -> Result<Option<u64>> {
        Ok(Some(direct::execute(self.conn, text, &args)? as u64))
    }
}

impl crate::ReadTx for SyncTx<'_> {
    async fn read<T: crate::TxRow>(
        &mut self,
        text: &str,
        args: &[Arg],
        row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        Ok(direct::query(self.conn, text, args, row)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::GroupWriter;
    use sqlx::SqlitePool;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    struct Fixture {
        writer: Arc<Writer>,
        group: Arc<GroupWriter>,
        read: SqlitePool,
        path: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            for end in ["", "-wal", "-shm"] {
                std::fs::remove_file(format!("{}{end}", self.path.display())).ok();
            }
        }
    }

    async fn fixture() -> Fixture {
        let path =
            std::env::temp_dir().join(format!("mstation-writer-{}.db", uuid::Uuid::now_v7()));
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, by TEXT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        let read = SqlitePoolOptions::new().connect_with(opts).await.unwrap();
        let group = GroupWriter::new(pool);
        let writer = Writer::start(&path, group.gate()).unwrap();
        Fixture {
            writer: Arc::new(writer),
            group: Arc::new(group),
            read,
            path,
        }
    }

    async fn insert(w: &Writer, id: i64) -> Result<i64> {
        w.run(move |c| {
            direct::execute(
                c,
                "INSERT INTO t (id, by) VALUES ($1, 'thread')",
                &[Arg::Int(Some(id))],
            )?;
            Ok(id)
        })
        .await
    }

    async fn ids(read: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(read)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writes_share_a_commit_and_a_failing_one_undoes_only_itself() {
        let f = fixture().await;
        assert_eq!(insert(&f.writer, 1).await.unwrap(), 1);
        assert_eq!(f.writer.stats(), (1, 1), "a lone write commits at once");
        assert_eq!(ids(&f.read).await, vec![1], "and is there once answered");

        // Hold the writer thread inside a write so that the others queue behind it.
        let (entered, inside) = std::sync::mpsc::channel();
        let (release, go) = std::sync::mpsc::channel::<()>();
        let w = f.writer.clone();
        let first = tokio::spawn(async move {
            w.run(move |c| {
                direct::execute(c, "INSERT INTO t (id, by) VALUES (2, 'first')", &[])?;
                entered.send(()).unwrap();
                go.recv().unwrap();
                Ok(())
            })
            .await
        });
        tokio::task::spawn_blocking(move || inside.recv().unwrap())
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for id in 10..30 {
            let w = f.writer.clone();
            // One of them inserts a row that exists: it fails, alone.
            let id = if id == 20 { 1 } else { id };
            tasks.push(tokio::spawn(async move { insert(&w, id).await }));
        }
        // Let every write reach the queue before the thread goes on.
        tokio::time::sleep(Duration::from_millis(100)).await;
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        let mut failures = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                failures += 1;
            }
        }
        assert_eq!(failures, 1, "only the duplicate fails");
        let mut want = vec![1, 2];
        want.extend((10..30).filter(|i| *i != 20));
        assert_eq!(ids(&f.read).await, want);
        assert_eq!(
            f.writer.stats(),
            (2, 21),
            "the queued writes went in with the one that held the thread"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_panics_is_an_error_undone_and_the_thread_goes_on() {
        let f = fixture().await;
        let got = f
            .writer
            .run(|c| -> Result<()> {
                direct::execute(c, "INSERT INTO t (id, by) VALUES (7, 'panics')", &[])?;
                panic!("a bug in a write");
            })
            .await;
        assert!(got.is_err(), "{got:?}");
        assert_eq!(insert(&f.writer, 8).await.unwrap(), 8);
        assert_eq!(
            ids(&f.read).await,
            vec![8],
            "nothing of the panicked write stays"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_thread_and_the_group_take_turns_and_lose_nothing() {
        let f = fixture().await;
        let mut tasks = Vec::new();
        for id in 0..400i64 {
            let (w, g) = (f.writer.clone(), f.group.clone());
            tasks.push(tokio::spawn(async move {
                if id % 2 == 0 {
                    insert(&w, id).await.map(|_| ())
                } else {
                    let mut tx = g.begin().await?;
                    sqlx::query("INSERT INTO t (id, by) VALUES ($1, 'group')")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(ids(&f.read).await, (0..400).collect::<Vec<_>>());
        let by_group: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE by = 'group'")
            .fetch_one(&f.read)
            .await
            .unwrap();
        assert_eq!(by_group, 200);
        let (commits, writes) = f.writer.stats();
        assert_eq!(writes, 200);
        assert!(commits < 200, "{commits} commits for 200 writes");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_thread_waits_for_a_group_writer_then_finds_its_work_committed() {
        let f = fixture().await;
        // A sqlx writer of the group holds the connection, inside an open transaction.
        let mut tx = f.group.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id, by) VALUES (1, 'group')")
            .execute(&mut *tx)
            .await
            .unwrap();
        let w = f.writer.clone();
        let thread = tokio::spawn(async move { insert(&w, 2).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !thread.is_finished(),
            "the thread waits for the group's writer"
        );
        assert_eq!(
            ids(&f.read).await,
            Vec::<i64>::new(),
            "nothing is committed yet"
        );
        tx.commit().await.unwrap();
        assert_eq!(thread.await.unwrap().unwrap(), 2);
        assert_eq!(ids(&f.read).await, vec![1, 2]);
    }

    #[test]
    fn a_body_that_would_wait_fails_instead_of_blocking() {
        let got = ready(async {
            std::future::pending::<()>().await;
            Ok(())
        });
        assert!(got.is_err());
        assert_eq!(ready(async { Ok(3) }).unwrap(), 3);
    }
}
