//! The SQLite writer thread: every write on SQLite runs on one thread that owns the write
//! connection.
//!
//! Through sqlx, each statement of a write is a message to the connection's thread and an
//! answer back, and the writer holds SQLite's one write lock across those hand-offs: under
//! load the lock is held less for the work than for the waking of threads (profiled: half the
//! server's time in the kernel's context switches). Here a write is one closure sent to the
//! writer thread, which runs it in place and answers once.
//!
//! The thread commits in groups: it opens a transaction, runs every write that is waiting, each
//! in its own SAVEPOINT, and commits them together. A write that fails (on its caller's input,
//! a constraint, or a panic) is rolled back to its savepoint: it undoes only itself, its caller
//! hears at once, and the others commit. Every statement runs in place, inside its write's
//! savepoint, so no statement of one caller is ever deferred into another's commit. Writes that
//! arrive during a COMMIT wait for the next one: the slower the disk, the larger the group. A
//! caller hears of its write's success only once the COMMIT holding it has returned, so an
//! acknowledged write is durable (`synchronous=FULL`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::DbError;

/// The most writes one COMMIT carries, so the first of them never waits long.
pub const MAX_BATCH: usize = 128;

/// Told to a kept write once the COMMIT holding it has returned (or failed).
type Reply = Box<dyn FnOnce(Result<(), Arc<str>>) + Send>;
/// A write: runs on the connection; answers `Some` to be kept, `None` once it has told its
/// caller it failed.
type Job = Box<dyn FnOnce(&Mutex<Connection>) -> Option<Reply> + Send>;

fn failed(why: &str) -> DbError {
    DbError::WriteFailed(why.to_string())
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
    pub fn start(path: &Path) -> Result<Self, DbError> {
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
             PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;
             PRAGMA analysis_limit = 1000;",
        )?;
        conn.set_prepared_statement_cache_capacity(128);
        let (jobs, queue) = mpsc::channel::<Job>();
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        std::thread::Builder::new()
            .name("mstation-writer".into())
            .spawn(move || run(Mutex::new(conn), queue, c))
            .map_err(|e| failed(&e.to_string()))?;
        Ok(Writer { jobs, counts })
    }

    /// Runs `work` in the next group transaction and answers once that has committed. An
    /// error (or a panic) undoes `work` alone. The caller going away does not stop it.
    pub(crate) async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Mutex<Connection>) -> Result<T, E> + Send + 'static,
    {
        let (tell, answer) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(
            move |conn| match catch_unwind(AssertUnwindSafe(|| work(conn))) {
                Ok(Ok(v)) => Some(Box::new(move |committed: Result<(), Arc<str>>| {
                    let _ = tell.send(committed.map(|()| v).map_err(|e| failed(&e).into()));
                })),
                Ok(Err(e)) => {
                    let _ = tell.send(Err(e));
                    None
                }
                Err(_) => {
                    let _ = tell.send(Err(failed("the write stopped on a bug").into()));
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
    pub fn stats(&self) -> (u64, u64) {
        (
            self.counts.commits.load(Ordering::Relaxed),
            self.counts.writes.load(Ordering::Relaxed),
        )
    }
}

fn run(conn: Mutex<Connection>, queue: mpsc::Receiver<Job>, counts: Arc<Counts>) {
    while let Ok(first) = queue.recv() {
        let mut kept: Vec<Reply> = Vec::new();
        let outcome = group(&conn, first, &queue, &mut kept);
        let outcome = outcome.and_then(|()| lock(&conn).execute_batch("COMMIT"));
        let outcome: Result<(), Arc<str>> = match outcome {
            Ok(()) => {
                counts.commits.fetch_add(1, Ordering::Relaxed);
                counts
                    .writes
                    .fetch_add(kept.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let _ = lock(&conn).execute_batch("ROLLBACK");
                Err(e.to_string().into())
            }
        };
        for reply in kept {
            reply(outcome.clone());
        }
    }
}

/// The connection, whoever panicked while holding it: a write that panicked is rolled back to
/// its savepoint like one that failed.
pub(crate) fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens the transaction and runs `first` and the writes that queue behind it, each in its
/// savepoint. An error here is the transaction's own (not a write's): nothing of it stays.
fn group(
    conn: &Mutex<Connection>,
    first: Job,
    queue: &mpsc::Receiver<Job>,
    kept: &mut Vec<Reply>,
) -> rusqlite::Result<()> {
    let mut next = Some(first);
    let mut taken = 0;
    lock(conn).execute_batch("BEGIN IMMEDIATE")?;
    while let Some(job) = next.take() {
        taken += 1;
        step(conn, "SAVEPOINT w")?;
        match job(conn) {
            Some(reply) => {
                kept.push(reply);
                step(conn, "RELEASE w")?;
            }
            None => lock(conn).execute_batch("ROLLBACK TO w; RELEASE w")?,
        }
        if taken < MAX_BATCH {
            next = queue.try_recv().ok();
        }
    }
    Ok(())
}

/// Runs one cached statement of the group's own (a savepoint's start or end): prepared once,
/// not parsed again for every write.
fn step(conn: &Mutex<Connection>, text: &str) -> rusqlite::Result<()> {
    lock(conn).prepare_cached(text)?.execute([]).map(|_| ())
}

/// Drives a write body to its end. On the writer thread every statement runs in place, so the
/// body never waits; one that did would be a bug, and fails instead of blocking the thread.
pub(crate) fn ready<T, E: From<DbError>>(body: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    let mut body = std::pin::pin!(body);
    match body.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => Err(failed("a write on the writer thread waited").into()),
    }
}
