//! The ledger over HTTP: an organisation's accounts and their balances, batches of transfers
//! between them (posted at once or in two phases, linked, replayed by key), and each account's
//! statement with its running balance, as JSON a page at a time or as CSV.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::ledger::{Currency, Flags, Kind, Purpose};
use mstation_core::tracking::export::csv_field;
use mstation_store::Page;
use mstation_store::ledger::{Account, StatementLine, Transfer, TransferInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Q, list_query};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, open_account))
        .routes(routes!(get_account))
        .routes(routes!(statement))
        .routes(routes!(create_transfers))
        .routes(routes!(get_transfer))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    /// Unique in the organisation ("Wallet CNY", "Escrow for order 118").
    pub name: String,
    pub purpose: Purpose,
    /// ISO 4217, three letters (`CNY`, `USD`, `EUR`).
    pub currency: String,
    /// What the account may not do; by default, as its purpose has it (every purpose but
    /// `settlement` may not be overdrawn).
    pub flags: Option<Flags>,
}

/// Opens an account of the organisation.
#[utoipa::path(post, path = "/api/v1/ledger/accounts", tag = "ledger", request_body = AccountInput,
    responses((status = 201, body = Account), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn open_account(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<AccountInput>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let a = state
        .store
        .tenant(m.may(Permission::ManageLedger)?)
        .open_account(&input.name, input.purpose, &input.currency, input.flags)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// The organisation's accounts with their balances, by name.
#[utoipa::path(get, path = "/api/v1/ledger/accounts", tag = "ledger",
    responses((status = 200, body = Items<Account>), (status = 403, body = Problem)))]
async fn list_accounts(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<Account>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ReadLedger)?)
            .accounts()
            .await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/ledger/accounts/{account_id}", tag = "ledger", params(("account_id" = Uuid, Path)),
    responses((status = 200, body = Account), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_account(
    AxState(state): AxState<State>,
    m: Member,
    Path(account_id): Path<Uuid>,
) -> ApiResult<Json<Account>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadLedger)?)
            .account(account_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `created_at` (oldest first, the default) or `-created_at`.
    pub sort: Option<String>,
    /// `json` (a page) or `csv` (the whole statement, oldest first, up to 100,000 lines).
    pub format: Option<String>,
}

/// The most lines a CSV statement holds.
const CSV_LINES: usize = 100_000;

/// An account's transfers, each with what it did to the account and the posted balance after
/// it.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{account_id}/statement", tag = "ledger",
    params(("account_id" = Uuid, Path), StatementParams),
    responses((status = 200, body = Page<StatementLine>, description = "A page of lines; with format=csv, text/csv of every line"),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn statement(
    AxState(state): AxState<State>,
    m: Member,
    Path(account_id): Path<Uuid>,
    Q(p): Q<StatementParams>,
) -> ApiResult<Response> {
    let scope = m.may(Permission::ReadLedger)?;
    let store = state.store.tenant(scope);
    match p.format.as_deref() {
        None | Some("json") => {
            let q = list_query(p.limit, p.cursor.as_deref(), p.sort.as_deref())?;
            Ok(Json(store.statement(account_id, &q).await?).into_response())
        }
        Some("csv") => {
            let account = store.account(account_id).await?;
            let mut q = list_query(Some(500), None, None)?;
            let mut lines = Vec::new();
            loop {
                let page = store.statement(account_id, &q).await?;
                lines.extend(page.items);
                match page.next_cursor {
                    Some(_) if lines.len() < CSV_LINES => {
                        q.after = lines.last().map(|l| l.transfer.id);
                    }
                    _ => break,
                }
            }
            lines.truncate(CSV_LINES);
            let name = format!("statement-{}.csv", account.id);
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                statement_csv(&account, &lines),
            )
                .into_response())
        }
        Some(_) => Err(ApiError::invalid("format", "not_one_of_the_choices")),
    }
}

/// A statement as CSV: amounts in the account's currency as a person writes them (`-50.00`).
pub fn statement_csv(account: &Account, lines: &[StatementLine]) -> String {
    let currency = Currency::parse(&account.currency);
    let money = |minor: i64| match currency {
        Some(c) => c.format(i128::from(minor)),
        None => minor.to_string(),
    };
    let mut out = String::from(
        "transfer_id,time,kind,counterparty_account_id,description,posted_change,pending_change,balance,currency\n",
    );
    for l in lines {
        let t = &l.transfer;
        let other = if t.debit_account_id == account.id {
            t.credit_account_id
        } else {
            t.debit_account_id
        };
        let time = t.created_at.rfc3339();
        let row = [
            t.id.to_string(),
            time,
            t.kind.as_str().to_string(),
            other.to_string(),
            t.description.clone(),
            money(l.posted_change),
            money(l.pending_change),
            money(l.balance),
            account.currency.clone(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// One transfer of a batch.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// Yours, unique in the organisation: the same key again answers what was written; with
    /// other parameters it is refused (`ledger.key_reused`).
    pub key: Option<String>,
    /// `posted`, `pending`, `post` (a pending one, in full or in part) or `void`.
    pub kind: Kind,
    /// For `posted` and `pending`: the account money leaves.
    pub debit_account_id: Option<Uuid>,
    /// For `posted` and `pending`: the account money reaches.
    pub credit_account_id: Option<Uuid>,
    /// In minor units of the accounts' currency (fen, cents), more than 0. For `post`: what is
    /// posted (all that is held when absent).
    pub amount: Option<i64>,
    /// For `post` and `void`: the pending transfer.
    pub pending_id: Option<Uuid>,
    /// For `pending`: seconds until it expires by the server's clock (at most 90 days).
    pub timeout_seconds: Option<i64>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransfersInput {
    /// 1 to 100 transfers, written in order, all or none.
    pub transfers: Vec<TransferBody>,
}

/// Writes transfers between the organisation's accounts, in order, all or none: one refused
/// refuses the batch, naming it (`transfers[2].amount`), and nothing is written.
#[utoipa::path(post, path = "/api/v1/ledger/transfers", tag = "ledger", request_body = TransfersInput,
    responses((status = 201, body = Items<Transfer>), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_transfers(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<TransfersInput>,
) -> ApiResult<(StatusCode, Json<Items<Transfer>>)> {
    let batch = input
        .transfers
        .into_iter()
        .map(|t| TransferInput {
            key: t.key,
            kind: Some(t.kind),
            debit_account_id: t.debit_account_id,
            credit_account_id: t.credit_account_id,
            amount: t.amount,
            pending_id: t.pending_id,
            timeout_seconds: t.timeout_seconds,
            description: t.description,
        })
        .collect();
    let items = state
        .store
        .tenant(m.may(Permission::ManageLedger)?)
        .transfer(batch)
        .await?;
    Ok((StatusCode::CREATED, Json(Items { items })))
}

#[utoipa::path(get, path = "/api/v1/ledger/transfers/{transfer_id}", tag = "ledger", params(("transfer_id" = Uuid, Path)),
    responses((status = 200, body = Transfer), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_transfer(
    AxState(state): AxState<State>,
    m: Member,
    Path(transfer_id): Path<Uuid>,
) -> ApiResult<Json<Transfer>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ReadLedger)?)
            .ledger_transfer(transfer_id)
            .await?,
    ))
}
