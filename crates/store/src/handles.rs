//! The two ways into the store.
//!
//! - [`Tenant`], made from a [`TenantScope`] (`store.tenant(&scope)`), for everything one
//!   organisation owns: its projects, shots, tasks, members, webhooks, audit log. Every read
//!   and every statement of its writes must name `org_id` and bind the scope's organisation,
//!   checked before it runs (`mstation_db::check_scoped`), so a tenant query that forgot its
//!   organisation fails its first test instead of reading across organisations. Its writes
//!   record changes of that organisation only.
//! - [`Platform`] (`store.platform()`), for the work above organisations: sign-in, sessions,
//!   token lookup, the job queue and its workers, the outbox and webhook deliveries, the admin
//!   command line. Nothing is checked there; code reaches it only by asking for it by name.
//!
//! A context's functions live on one of the two (`impl Tenant<'_>` or `impl Platform<'_>`),
//! never on [`Store`] itself, which keeps only opening, closing and health.

use mstation_core::TenantScope;
use uuid::Uuid;

use crate::{
    Arg, BoxFuture, COUNT_CAP, Column, FromRow, ListQuery, Page, Result, Store, StoreError, WriteTx,
};

/// One organisation's data, as seen by one caller (`Store::tenant`).
#[derive(Clone, Copy)]
pub struct Tenant<'s> {
    pub(crate) store: &'s Store,
    scope: &'s TenantScope,
}

/// The platform's own data, above organisations (`Store::platform`).
#[derive(Clone, Copy)]
pub struct Platform<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// The handle for `scope`'s organisation: every tenant function is on it.
    pub fn tenant<'s>(&'s self, scope: &'s TenantScope) -> Tenant<'s> {
        Tenant { store: self, scope }
    }

    /// The handle for platform work (sign-in, tokens, jobs, the outbox, the admin CLI).
    pub fn platform(&self) -> Platform<'_> {
        Platform { store: self }
    }
}

impl<'s> Tenant<'s> {
    pub fn scope(&self) -> &'s TenantScope {
        self.scope
    }

    pub fn org_id(&self) -> Uuid {
        self.scope.org_id
    }

    /// The platform handle, for the few platform facts tenant work depends on.
    pub(crate) fn platform(&self) -> Platform<'s> {
        self.store.platform()
    }

    /// The rows `text` selects; `text` names `org_id` and `args` bind the organisation.
    pub(crate) async fn read<T: FromRow>(&self, text: &str, args: &[Arg]) -> Result<Vec<T>> {
        mstation_db::check_scoped(self.org_id(), text, args)?;
        Ok(self.store.db.read(text, args).await?)
    }

    /// The first row `text` selects, if any.
    pub(crate) async fn read_opt<T: FromRow>(&self, text: &str, args: &[Arg]) -> Result<Option<T>> {
        mstation_db::check_scoped(self.org_id(), text, args)?;
        Ok(self.store.db.read_opt(text, args).await?)
    }

    /// The one value `text` selects (a count).
    pub(crate) async fn scalar<T: Column + Send + 'static>(
        &self,
        text: &str,
        args: &[Arg],
    ) -> Result<T> {
        mstation_db::check_scoped(self.org_id(), text, args)?;
        Ok(self.store.db.scalar(text, args).await?)
    }

    /// The first column of the first row `text` selects, if any.
    pub(crate) async fn scalar_opt<T: Column + Send + 'static>(
        &self,
        text: &str,
        args: &[Arg],
    ) -> Result<Option<T>> {
        mstation_db::check_scoped(self.org_id(), text, args)?;
        Ok(self.store.db.scalar_opt(text, args).await?)
    }

    /// Like `read`, for a read that scans more than a page (`Database::read_apart`).
    pub(crate) async fn read_apart<T: FromRow>(
        &self,
        text: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>> {
        mstation_db::check_scoped(self.org_id(), text, &args)?;
        Ok(self.store.db.read_apart(text.to_string(), args).await?)
    }

    /// The row `id` of `table` in this organisation, as `cols` select it, or `NotFound`
    /// naming `entity`. (`cols` and `table` are the code's constants, never input.)
    pub(crate) async fn one<T: FromRow>(
        &self,
        cols: &str,
        table: &str,
        id: Uuid,
        entity: &'static str,
    ) -> Result<T> {
        let text = format!("SELECT {cols} FROM {table} WHERE org_id = $1 AND id = $2");
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity })
    }

    /// One page of the rows of `table` that match `filter`, in id order, with the number of
    /// all that match: the list every entity shares. `filter` starts with `org_id = $1` and
    /// numbers its parameters `$1…$n` as `args` binds them; the page's cursor and limit come
    /// after. The count stops at `COUNT_CAP` (`total_capped`), so no list costs more to count
    /// than to read, however long the audit log grows. (`cols`, `table` and `filter` are the
    /// code's text, never input.)
    pub(crate) async fn page<T: FromRow>(
        &self,
        cols: &str,
        table: &str,
        filter: &str,
        mut args: Vec<Arg>,
        q: &ListQuery,
        id_of: impl Fn(&T) -> Uuid,
    ) -> Result<Page<T>> {
        let counting = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {filter} LIMIT {}) c",
            COUNT_CAP + 1
        );
        let total: i64 = self.scalar(&counting, &args).await?;
        let (cmp, dir) = q.order();
        let (after, limit) = (args.len() + 1, args.len() + 2);
        let text = format!(
            "SELECT {cols} FROM {table} WHERE ({filter}) AND (${after} IS NULL OR id {cmp} ${after})
             ORDER BY id {dir} LIMIT ${limit}"
        );
        args.extend([q.after.into(), (i64::from(q.limit) + 1).into()]);
        let items = self.read(&text, &args).await?;
        let mut page = q.finish(items, total.min(COUNT_CAP), id_of);
        page.total_capped = total > COUNT_CAP;
        Ok(page)
    }

    /// Runs the write `f` for this organisation (the write rule, `mstation_db`): every statement
    /// binds the organisation, every change recorded is this organisation's.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        self.store.db.write(Some(self.org_id()), f).await
    }

    /// After a committed write that added `rows` rows (PostgreSQL's statistics).
    pub(crate) fn wrote_rows(&self, rows: usize) {
        self.store.db.wrote_rows(rows);
    }
}

impl<'s> Platform<'s> {
    /// The rows `text` selects.
    pub(crate) async fn read<T: FromRow>(&self, text: &str, args: &[Arg]) -> Result<Vec<T>> {
        Ok(self.store.db.read(text, args).await?)
    }

    /// The first row `text` selects, if any.
    pub(crate) async fn read_opt<T: FromRow>(&self, text: &str, args: &[Arg]) -> Result<Option<T>> {
        Ok(self.store.db.read_opt(text, args).await?)
    }

    /// The one value `text` selects (a count).
    pub(crate) async fn scalar<T: Column + Send + 'static>(
        &self,
        text: &str,
        args: &[Arg],
    ) -> Result<T> {
        Ok(self.store.db.scalar(text, args).await?)
    }

    /// The first column of the first row `text` selects, if any.
    pub(crate) async fn scalar_opt<T: Column + Send + 'static>(
        &self,
        text: &str,
        args: &[Arg],
    ) -> Result<Option<T>> {
        Ok(self.store.db.scalar_opt(text, args).await?)
    }

    /// Runs the write `f` (the write rule, `mstation_db`), above any one organisation.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        self.store.db.write(None, f).await
    }
}
