//! Query parameters and row mapping, written once for both backends.
//!
//! A statement's text numbers its parameters `$1…$n` as PostgreSQL does; [`Arg`] carries each
//! one to either backend. A row is read in column order through [`Row::get`]: a record type
//! implements [`FromRow`] once, and the same function reads it from SQLite and PostgreSQL.

use rusqlite::types::Value;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Postgres, Row as _};
use uuid::Uuid;

use crate::{DbError, Millis};

/// One query parameter, for either backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Uuid(Option<Uuid>),
    Int(Option<i64>),
    Real(Option<f64>),
    /// An integer on SQLite, a BOOLEAN on PostgreSQL.
    Bool(Option<bool>),
    Text(Option<String>),
}

impl Arg {
    pub(crate) fn to_sqlite(&self) -> Value {
        match self {
            Arg::Uuid(Some(u)) => Value::Blob(u.as_bytes().to_vec()),
            Arg::Int(Some(i)) => Value::Integer(*i),
            Arg::Real(Some(r)) => Value::Real(*r),
            Arg::Bool(Some(b)) => Value::Integer((*b).into()),
            Arg::Text(Some(s)) => Value::Text(s.clone()),
            Arg::Uuid(None)
            | Arg::Int(None)
            | Arg::Real(None)
            | Arg::Bool(None)
            | Arg::Text(None) => Value::Null,
        }
    }
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(Some(v))
    }
}
impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Arg::Uuid(v)
    }
}
impl From<&Uuid> for Arg {
    fn from(v: &Uuid) -> Self {
        Arg::Uuid(Some(*v))
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(Some(v.into()))
    }
}
impl From<u32> for Arg {
    fn from(v: u32) -> Self {
        Arg::Int(Some(v.into()))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::Bool(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Self {
        Arg::Real(v)
    }
}
impl From<Millis> for Arg {
    fn from(v: Millis) -> Self {
        Arg::Int(Some(v.0))
    }
}
impl From<Option<Millis>> for Arg {
    fn from(v: Option<Millis>) -> Self {
        Arg::Int(v.map(|m| m.0))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}

/// A sqlx query for PostgreSQL with `args` bound in order (`$1` is the first).
pub(crate) fn pg_query(
    text: &str,
    args: &[Arg],
) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text.to_string()));
    for a in args {
        q = match a {
            Arg::Uuid(v) => q.bind(*v),
            Arg::Int(v) => q.bind(*v),
            Arg::Real(v) => q.bind(*v),
            Arg::Bool(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
        };
    }
    q
}

/// A record read from a row, column by column in the order of the query's select list.
pub trait FromRow: Sized + Send + 'static {
    fn from_row(row: &mut Row<'_>) -> Result<Self, DbError>;
}

/// A value one column holds, readable from both backends.
pub trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self>;
    fn from_pg(row: &PgRow, at: usize) -> sqlx::Result<Self>;
}

impl<T> Column for T
where
    T: rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    fn from_sqlite(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        row.get(at)
    }
    fn from_pg(row: &PgRow, at: usize) -> sqlx::Result<Self> {
        row.try_get(at)
    }
}

enum Source<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r PgRow),
}

/// One row of an answer, read left to right.
pub struct Row<'r> {
    source: Source<'r>,
    at: usize,
}

impl<'r> Row<'r> {
    pub(crate) fn sqlite(row: &'r rusqlite::Row<'r>) -> Self {
        Row {
            source: Source::Sqlite(row),
            at: 0,
        }
    }

    pub(crate) fn pg(row: &'r PgRow) -> Self {
        Row {
            source: Source::Postgres(row),
            at: 0,
        }
    }

    /// The next column's value.
    pub fn get<T: Column>(&mut self) -> Result<T, DbError> {
        let at = self.at;
        self.at += 1;
        match self.source {
            Source::Sqlite(r) => Ok(T::from_sqlite(r, at)?),
            Source::Postgres(r) => Ok(T::from_pg(r, at)?),
        }
    }

    /// Steps over the next column.
    pub fn skip(&mut self) {
        self.at += 1;
    }
}

impl<A: Column + Send + 'static> FromRow for (A,) {
    fn from_row(row: &mut Row<'_>) -> Result<Self, DbError> {
        Ok((row.get()?,))
    }
}
impl<A, B> FromRow for (A, B)
where
    A: Column + Send + 'static,
    B: Column + Send + 'static,
{
    fn from_row(row: &mut Row<'_>) -> Result<Self, DbError> {
        Ok((row.get()?, row.get()?))
    }
}
impl<A, B, C> FromRow for (A, B, C)
where
    A: Column + Send + 'static,
    B: Column + Send + 'static,
    C: Column + Send + 'static,
{
    fn from_row(row: &mut Row<'_>) -> Result<Self, DbError> {
        Ok((row.get()?, row.get()?, row.get()?))
    }
}
impl<A, B, C, D> FromRow for (A, B, C, D)
where
    A: Column + Send + 'static,
    B: Column + Send + 'static,
    C: Column + Send + 'static,
    D: Column + Send + 'static,
{
    fn from_row(row: &mut Row<'_>) -> Result<Self, DbError> {
        Ok((row.get()?, row.get()?, row.get()?, row.get()?))
    }
}
