//! The finance pages: the organisation's accounts with their balances, opening one and moving
//! money between two of them, and an account's statement with the balance after each line.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::ledger::{Currency, Kind, Purpose};
use mstation_store::ListQuery;
use mstation_store::ledger::{Account, TransferInput};
use serde::Deserialize;
use uuid::Uuid;

use super::tracking::{answered, flash_of};
use super::{Ctx, Nav, PageResult, Tr, ctx, html};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/finance", get(finance))
        .route("/app/finance/accounts", post(open_account))
        .route("/app/finance/transfers", post(move_money))
        .route("/app/finance/accounts/{account_id}", get(statement))
}

/// An account as the pages show it: amounts in its currency as a person writes them.
struct AccountRow {
    id: String,
    name: String,
    purpose: String,
    currency: String,
    posted: String,
    held: String,
    available: String,
    negative: bool,
}

/// Digits grouped by thousands: `12345` → `12,345`.
pub(super) fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount as the pages show it: in its currency's units, the thousands grouped
/// (`-1,248,798.50`).
pub(super) fn money(currency: &str, minor: i64) -> String {
    let plain = match Currency::parse(currency) {
        Some(c) => c.format(i128::from(minor)),
        None => minor.to_string(),
    };
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain.as_str()),
    };
    let (whole, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(w, f)| (w, Some(f)));
    let grouped = grouped(whole);
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(super::money("CNY", 124_879_850), "1,248,798.50");
        assert_eq!(super::money("CNY", -100_050), "-1,000.50");
        assert_eq!(super::money("CNY", 99_999), "999.99");
        assert_eq!(super::money("JPY", 1_000_000), "1,000,000");
        assert_eq!(super::money("CNY", -7), "-0.07");
    }
}

fn row(a: &Account) -> AccountRow {
    AccountRow {
        id: a.id.to_string(),
        name: a.name.clone(),
        purpose: i18n::text(&format!("purpose-{}", a.purpose.as_str())),
        currency: a.currency.clone(),
        posted: money(&a.currency, a.posted),
        held: money(&a.currency, a.balance.debits_pending),
        available: money(&a.currency, a.available),
        negative: a.posted < 0,
    }
}

#[derive(Template)]
#[template(path = "finance.html")]
struct FinancePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    accounts: Vec<AccountRow>,
    can_manage: bool,
    purposes: Vec<(&'static str, String)>,
    /// What a refused form held, to show again.
    typed: Typed,
    /// Whether the organisation's books check out now: every account's sums its transfers'.
    books_ok: bool,
}

#[derive(Default, Clone, Deserialize)]
struct Typed {
    #[serde(default)]
    name: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    description: String,
    /// The move form's key: the same form sent twice moves the money once.
    #[serde(default)]
    key: String,
}

async fn finance_page(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    typed: Typed,
) -> PageResult {
    cx.need(Permission::ReadLedger)?;
    let accounts = state.store.tenant(&cx.scope).accounts().await?;
    let broken = state.store.tenant(&cx.scope).ledger_check_own().await?;
    if !broken.is_empty() {
        tracing::error!(?broken, org = %cx.scope.org_id, "an organisation's books do not check out");
    }
    let mut typed = typed;
    if typed.key.is_empty() {
        typed.key = format!("form-{}", Uuid::now_v7());
    }
    html(FinancePage {
        tr: Tr::now(),
        nav: cx.nav("finance"),
        flash,
        csrf: cx.csrf.clone(),
        accounts: accounts.iter().map(row).collect(),
        can_manage: cx.scope.can(Permission::ManageLedger),
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.as_str(), i18n::text(&format!("purpose-{}", p.as_str()))))
            .collect(),
        typed,
        books_ok: broken.is_empty(),
    })
}

async fn finance(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    finance_page(&state, &cx, None, Typed::default()).await
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    #[serde(flatten)]
    typed: Typed,
}

async fn open_account(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<OpenForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageLedger)?;
    let purpose = Purpose::parse(&f.typed.purpose).unwrap_or(Purpose::Wallet);
    match state
        .store
        .tenant(&cx.scope)
        .open_account(&f.typed.name, purpose, &f.typed.currency, None)
        .await
    {
        Ok(_) => Ok(Redirect::to("/app/finance").into_response()),
        Err(e) => {
            let page = finance_page(&state, &cx, Some(flash_of(e)), f.typed).await;
            answered(page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// Moves money between two of the organisation's accounts at once, the amount as a person
/// writes it in the paying account's currency.
async fn move_money(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<OpenForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageLedger)?;
    let store = state.store.tenant(&cx.scope);
    let t = &f.typed;
    let refused = |e: ApiError| {
        let status = e.status();
        let typed = f.typed.clone();
        let (state, cx) = (&state, &cx);
        async move {
            answered(
                finance_page(state, cx, Some(flash_of(e)), typed).await,
                status,
            )
        }
    };
    let (Ok(from), Ok(to)) = (t.from.parse::<Uuid>(), t.to.parse::<Uuid>()) else {
        return refused(ApiError::invalid("from", "required")).await;
    };
    let paying = store.account(from).await?;
    let Some(amount) = Currency::parse(&paying.currency).and_then(|c| c.parse_amount(&t.amount))
    else {
        return refused(ApiError::invalid("amount", "not_an_amount")).await;
    };
    let input = TransferInput {
        kind: Some(Kind::Posted),
        debit_account_id: Some(from),
        credit_account_id: Some(to),
        amount: Some(amount),
        description: t.description.clone(),
        key: (!t.key.is_empty()).then(|| t.key.clone()),
        ..TransferInput::default()
    };
    match store.transfer(vec![input]).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/finance/accounts/{from}")).into_response()),
        Err(e) => refused(ApiError::from(e)).await,
    }
}

/// A line of a statement as the page shows it.
struct LineRow {
    when: String,
    kind: String,
    other: String,
    other_link: Option<String>,
    description: String,
    change: String,
    pending: String,
    balance: String,
    out: bool,
}

#[derive(Template)]
#[template(path = "finance_statement.html")]
struct StatementPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    account: AccountRow,
    lines: Vec<LineRow>,
    next: Option<String>,
    total: i64,
}

#[derive(Deserialize)]
struct StatementQuery {
    cursor: Option<String>,
}

async fn statement(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(account_id): Path<Uuid>,
    Query(sq): Query<StatementQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ReadLedger)?;
    let store = state.store.tenant(&cx.scope);
    let account = store.account(account_id).await?;
    let q: ListQuery =
        crate::extract::list_query(Some(50), sq.cursor.as_deref(), Some("-created_at"))?;
    let page = store.statement(account_id, &q).await?;
    let names: HashMap<Uuid, String> = store
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let lines = page
        .items
        .iter()
        .map(|l| {
            let t = &l.transfer;
            let other = if t.debit_account_id == account.id {
                t.credit_account_id
            } else {
                t.debit_account_id
            };
            let change = if l.posted_change != 0 {
                l.posted_change
            } else {
                l.pending_change
            };
            LineRow {
                when: cx.time(t.created_at.0),
                kind: i18n::text(&format!("ledger-kind-{}", t.kind.as_str())),
                other: names
                    .get(&other)
                    .cloned()
                    .unwrap_or_else(|| i18n::text("finance-other-account")),
                other_link: names
                    .contains_key(&other)
                    .then(|| format!("/app/finance/accounts/{other}")),
                description: t.description.clone(),
                change: if change == 0 {
                    String::new()
                } else {
                    money(&account.currency, change)
                },
                pending: if l.pending_change == 0 {
                    String::new()
                } else {
                    i18n::text("finance-held")
                },
                balance: money(&account.currency, l.balance),
                out: change < 0,
            }
        })
        .collect();
    html(StatementPage {
        tr: Tr::now(),
        nav: cx.nav("finance"),
        flash: None,
        account: row(&account),
        lines,
        next: page.next_cursor,
        total: page.total,
    })
}
