//! WAL checkpoints off the writer's path.
//!
//! In WAL mode SQLite copies the log back into the database file once it passes 1,000 pages, on
//! the connection whose COMMIT crossed the mark. Under group commit that is the writer, holding
//! the group while it copies: profiled under concurrent status changes, checkpoints were a third
//! of the writer thread's time. So the writer does not checkpoint as it commits
//! (`wal_autocheckpoint=0`). A task of its own copies the log back a few times a second, PASSIVE
//! (it waits for nobody and nobody waits for it), on a connection with `synchronous=FULL`, so the
//! database file is on disk before the log can be reused.
//!
//! A log that is copied back is only rewound when a writer starts with nothing left to copy, which
//! under steady writes never happens by itself. So once the log passes [`REWIND_AT`] frames, the
//! writer itself, between two batches, runs a RESTART checkpoint (`GroupWriter::rewind_log`):
//! with the PASSIVE copies done, what is left to copy is small, and the next batch writes the log
//! from its start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::group::GroupWriter;

/// How often the log is copied back. Longer lets more commits of a hot page share one copy;
/// shorter keeps the log small.
const EVERY: Duration = Duration::from_millis(200);
/// The log's length (in 4 KiB frames, so 32 MiB) past which it is rewound.
const REWIND_AT: i64 = 8192;

/// The checkpointing task of one database; it stops when this is dropped.
pub struct Checkpointer {
    task: Option<tokio::task::AbortHandle>,
}

impl Checkpointer {
    pub fn start(path: &Path, writer: GroupWriter) -> Self {
        let task = tokio::runtime::Handle::try_current()
            .ok()
            .map(|rt| rt.spawn(run(path.to_path_buf(), writer)).abort_handle());
        Checkpointer { task }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

fn open(path: &PathBuf) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.busy_timeout(Duration::from_secs(1))?;
    Ok(c)
}

/// A PASSIVE checkpoint: (whether it was kept from finishing, frames in the log, frames copied).
fn passive(conn: &Connection) -> rusqlite::Result<(bool, i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(0)? != 0, r.get(1)?, r.get(2)?))
    })
}

async fn run(path: PathBuf, writer: GroupWriter) {
    let mut conn = match open(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no checkpoint connection: the log will grow");
            return;
        }
    };
    let mut failing = false;
    loop {
        tokio::time::sleep(EVERY).await;
        let (back, done) = match tokio::task::spawn_blocking(move || {
            let done = passive(&conn);
            (conn, done)
        })
        .await
        {
            Ok(r) => r,
            Err(_) => return, // the runtime is going away
        };
        conn = back;
        match done {
            Ok((_, frames, _)) => {
                failing = false;
                if frames > REWIND_AT
                    && let Err(e) = writer.rewind_log().await
                {
                    tracing::warn!(error = %e, "could not rewind the WAL; retrying");
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
            }
            Err(_) => {}
        }
    }
}
