//! The kernel's errors: what a context needs to tell apart (a duplicate key, a failed
//! transaction) and the backend's own error for everything else.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DbError {
    /// A unique key or primary key already holds this value.
    #[error("a record with this key already exists")]
    Duplicate,
    /// The write transaction holding a write failed or could not be opened (the write is not
    /// kept, and may be retried).
    #[error("the write transaction failed: {0}")]
    WriteFailed(String),
    /// A tenant's statement that does not bind its organisation (a bug: the tenant rule,
    /// `check_scoped`); the text's first words.
    #[error("a tenant statement without its organisation: {0}")]
    Unscoped(String),
    /// A read that must answer one row answered none (the text's first words).
    #[error("no row for: {0}")]
    NoRow(String),
    #[error("database: {0}")]
    Postgres(sqlx::Error),
    #[error("database: {0}")]
    Sqlite(rusqlite::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e
            && d.is_unique_violation()
        {
            return DbError::Duplicate;
        }
        DbError::Postgres(e)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            )
        {
            return DbError::Duplicate;
        }
        DbError::Sqlite(e)
    }
}
