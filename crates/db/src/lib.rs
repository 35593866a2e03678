//! M-Station's storage kernel: how every context reaches its tables, on SQLite (the embedded
//! default) and on PostgreSQL, without ever matching on the backend.
//!
//! # The write rule
//! A write is one function over one [`WriteTx`], written once for both backends:
//!
//! ```ignore
//! store.write(move |tx| Box::pin(async move {
//!     let n = tx.execute("UPDATE … WHERE org_id = $1 AND id = $2", &[org.into(),
//!     id.into()]).await?; tx.record(&actor, change).await?;
//!     Ok(n)
//! })).await
//! ```
//!
//! - On SQLite it runs on the writer thread ([`Writer`]), which owns the one write connection
//!   and commits waiting writes together, each in its own SAVEPOINT: a write that fails undoes
//!   only itself. Every statement runs in place, so one caller's bad input never fails another
//!   caller's write. The function must not wait on anything but its transaction.
//! - On PostgreSQL it runs in its own transaction, polled in place but run to its end even if
//!   the caller goes away ([`write_pg`], [`RunToEnd`]): a request cancelled mid-write cannot
//!   leave a connection in a transaction.
//! - The function owns what it uses (`'static`): clone the scope and the input into it.
//! - Every change records its audit row and outbox event in the same transaction
//!   ([`WriteTx::record`]).
//! - Rows a write reads before changing them carry [`WriteTx::lock_rows`] (`FOR UPDATE` on
//!   PostgreSQL).
//!
//! # Rows
//! Parameters are [`Arg`]s, numbered `$1…$n` in the text for both backends. A record type
//! implements [`FromRow`] once, reading its columns in select-list order with [`Row::get`].
//!
//! # Reads
//! A read is one call of [`Database::read`] (or `read_opt`, `scalar`), the same text for both
//! backends: on SQLite through [`Readers`], read-only connections used on the calling thread;
//! on PostgreSQL through the pool.

mod database;
mod direct;
mod error;
mod page;
mod scoped;
mod time;
mod tx;
mod value;
mod writer;

pub use database::{Backend, Database, Migrations};
pub(crate) use direct::Readers;
pub use error::DbError;
pub use page::{COUNT_CAP, ListQuery, Page};
pub use scoped::check_scoped;
pub use time::{Millis, new_id, now_ms};
#[cfg(test)]
pub(crate) use tx::RunToEnd;
pub use tx::{Actor, BoxFuture, Change, WriteTx};
pub(crate) use tx::{read_pg, write_pg};
pub use value::{Arg, Column, FromRow, Row};
pub use writer::MAX_BATCH;
pub(crate) use writer::Writer;

#[cfg(test)]
mod tests;
