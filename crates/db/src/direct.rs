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

use rusqlite::{Connection, OpenFlags};

use crate::{Arg, DbError, FromRow, Row};

/// Read-only connections to the database file, taken and given back around each read.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
}

impl Readers {
    pub fn new(path: &Path, keep: usize) -> Self {
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
        c.set_prepared_statement_cache_capacity(128);
        Ok(c)
    }

    /// Runs `f` with a connection of the pool, opening one when all are in use.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, DbError>) -> Result<T, DbError> {
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
        out
    }

    /// The rows `text` selects, with `args` as `$1…`, read on the calling thread.
    pub fn read<T: FromRow>(&self, text: &str, args: &[Arg]) -> Result<Vec<T>, DbError> {
        self.with(|c| query(c, text, args))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Prepares `text` (cached per connection) and binds `args` by the number in each `$n`, as sqlx
/// does for PostgreSQL: `$2` is the second argument wherever it appears.
pub(crate) fn query<T: FromRow>(
    conn: &Connection,
    text: &str,
    args: &[Arg],
) -> Result<Vec<T>, DbError> {
    let mut stmt = conn.prepare_cached(&numbered(text))?;
    bind(&mut stmt, args)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_row(&mut Row::sqlite(row))?);
    }
    Ok(out)
}

/// `text` with each `$n` outside a quoted string written `?n`: SQLite binds `?n` by its number
/// directly, where `$n` is a name it looks up among all the statement's names (a statement of
/// thousands of parameters, a set-based write, would take quadratic time to prepare).
fn numbered(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    if !bytes.contains(&b'$') {
        return std::borrow::Cow::Borrowed(text);
    }
    // Bytes, not chars: `$`, `'` and digits are ASCII, and no byte of a longer character is.
    let mut out = bytes.to_vec();
    let mut quoted = false;
    for (i, b) in out.iter_mut().enumerate() {
        match *b {
            b'\'' => quoted = !quoted,
            b'$' if !quoted && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => *b = b'?',
            _ => {}
        }
    }
    // Only ASCII bytes were swapped for ASCII bytes: still UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| text.to_string()))
}

/// Binds `args` by number: `?n` (see [`numbered`]) takes the n-th argument. (A slot the text
/// skips is bound too, and read by nothing. Asking SQLite each slot's name would cost a walk of
/// the statement's names per slot.)
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    let count = stmt.parameter_count();
    if count > args.len() {
        return Err(rusqlite::Error::InvalidParameterCount(count, args.len()));
    }
    for (i, arg) in args.iter().take(count).enumerate() {
        stmt.raw_bind_parameter(i + 1, arg.to_sqlite())?;
    }
    Ok(())
}

/// Runs the statement `text` with `args` bound as in [`query`]; answers the rows it changed.
pub(crate) fn execute(conn: &Connection, text: &str, args: &[Arg]) -> Result<u64, DbError> {
    let mut stmt = conn.prepare_cached(&numbered(text))?;
    bind(&mut stmt, args)?;
    Ok(stmt.raw_execute()? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(conn: &Connection, text: &str, args: &[Arg]) -> Result<Vec<i64>, DbError> {
        Ok(query::<(i64,)>(conn, text, args)?
            .into_iter()
            .map(|(n,)| n)
            .collect())
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
            matches!(
                got,
                Err(DbError::Sqlite(rusqlite::Error::InvalidParameterCount(
                    3, 2
                )))
            ),
            "{got:?}"
        );
        let got = ints(&conn, "SELECT $0", &[Arg::Int(Some(1))]);
        assert!(got.is_err(), "$0 names no argument: {got:?}");
    }

    #[test]
    fn only_parameters_outside_quotes_are_renumbered_whatever_the_script() {
        assert_eq!(
            numbered("SELECT '镜头 $1', $2, name || '$' FROM t WHERE a = $10 AND b = '$3'"),
            "SELECT '镜头 $1', ?2, name || '$' FROM t WHERE a = ?10 AND b = '$3'"
        );
        assert!(matches!(
            numbered("SELECT 1"),
            std::borrow::Cow::Borrowed(_)
        ));
        let conn = Connection::open_in_memory().unwrap();
        let got: Vec<(String,)> =
            query(&conn, "SELECT '第$1场' || $1", &[Arg::from("二")]).unwrap();
        assert_eq!(got, vec![("第$1场二".to_string(),)]);
    }
}
