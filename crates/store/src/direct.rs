//! Hot reads on SQLite without the trip to a connection thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: every query is a message to that
//! thread and every row a message back, and on a loaded machine those hand-offs cost more than
//! the query itself (profiled: a third of the server's CPU in futex waits and context switches
//! on the task-list reads). The reads that production people hit all day (the tasks of a shot,
//! of a sequence, the filtered task list) run here instead, on the calling thread, through a
//! small pool of read-only connections. A read of a few hundred rows takes well under a
//! millisecond, so doing it in place costs the runtime less than handing it off.
//!
//! The SQL text is the one the PostgreSQL pool runs: [`Arg`] carries the parameters to either
//! backend, numbered `$1…$n` as in the text.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, types::Value};
use uuid::Uuid;

use crate::Result;

/// One query parameter, for either backend.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Uuid(Option<Uuid>),
    Int(Option<i64>),
    Real(f64),
    Text(Option<String>),
}

impl Arg {
    fn to_sqlite(&self) -> Value {
        match self {
            Arg::Uuid(Some(u)) => Value::Blob(u.as_bytes().to_vec()),
            Arg::Int(Some(i)) => Value::Integer(*i),
            Arg::Real(r) => Value::Real(*r),
            Arg::Text(Some(s)) => Value::Text(s.clone()),
            Arg::Uuid(None) | Arg::Int(None) | Arg::Text(None) => Value::Null,
        }
    }
}

/// Binds `args` to a sqlx query in order (`$1` is the first).
macro_rules! bind_args {
    ($q:ident, $args:expr) => {
        for a in $args {
            $q = match a {
                $crate::direct::Arg::Uuid(v) => $q.bind(*v),
                $crate::direct::Arg::Int(v) => $q.bind(*v),
                $crate::direct::Arg::Real(v) => $q.bind(*v),
                $crate::direct::Arg::Text(v) => $q.bind(v.clone()),
            };
        }
    };
}
pub(crate) use bind_args;

/// Read-only connections to the database file, taken and given back around each read.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
}

impl Readers {
    pub(crate) fn new(path: &Path, keep: usize) -> Self {
        Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            keep,
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader waits for nothing in WAL mode but a checkpoint's brief exclusive moments.
        c.busy_timeout(Duration::from_secs(5))?;
        c.pragma_update(None, "cache_size", -32000)?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// Runs `f` with a connection of the pool, opening one when all are in use.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let taken = self.lock().pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        let mut idle = self.lock();
        if idle.len() < self.keep {
            idle.push(conn);
        }
        Ok(out?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Prepares `text` (cached per connection) and binds `args` by the number in each `$n`, as sqlx
/// does: SQLite numbers parameters by first appearance, the text numbers them by meaning.
pub(crate) fn query<T>(
    conn: &Connection,
    text: &str,
    args: &[Arg],
    mut each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(text)?;
    bind(&mut stmt, args)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(each(row)?);
    }
    Ok(out)
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(i);
        let arg = n
            .checked_sub(1)
            .and_then(|at| args.get(at))
            .ok_or(rusqlite::Error::InvalidParameterCount(n, args.len()))?;
        stmt.raw_bind_parameter(i, arg.to_sqlite())?;
    }
    Ok(())
}

/// Runs the statement `text` with `args` bound as in [`query`]; answers the rows it changed.
pub(crate) fn execute(conn: &Connection, text: &str, args: &[Arg]) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached(text)?;
    bind(&mut stmt, args)?;
    stmt.raw_execute()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(conn: &Connection, text: &str, args: &[Arg]) -> rusqlite::Result<Vec<i64>> {
        query(conn, text, args, |r| r.get(0))
    }

    #[test]
    fn parameters_bind_by_their_number_not_their_order_of_appearance() {
        let conn = Connection::open_in_memory().unwrap();
        let args = [Arg::Int(Some(10)), Arg::Int(Some(3))];
        // `$2` comes first in the text; sqlx and PostgreSQL bind it to the second argument.
        assert_eq!(ints(&conn, "SELECT $2 - $1 + $2", &args).unwrap(), vec![-4]);
    }

    #[test]
    fn a_parameter_without_an_argument_is_an_error_not_a_panic() {
        let conn = Connection::open_in_memory().unwrap();
        let got = ints(
            &conn,
            "SELECT $1 + $3",
            &[Arg::Int(Some(1)), Arg::Int(Some(2))],
        );
        assert!(
            matches!(got, Err(rusqlite::Error::InvalidParameterCount(3, 2))),
            "{got:?}"
        );
        let got = ints(&conn, "SELECT $0", &[Arg::Int(Some(1))]);
        assert!(got.is_err(), "$0 names no argument: {got:?}");
    }
}
