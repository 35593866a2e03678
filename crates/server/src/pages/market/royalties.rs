//! What contributors earn. A contributor's dashboard (`/app/market/earnings`): what it sold,
//! is owed and was paid, its earnings by month as a chart, its terms with the changes
//! announced, every payout, and every sale line by line with its share and its payout. The
//! platform operator's side (`/app/market/payouts`): each contributor's terms, a form that
//! announces new ones, a form that pays out a month, and the batches paid.

use askama::Template;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Redirect};
use mstation_core::Permission;
use mstation_core::ledger::Purpose;
use mstation_core::market::DEFAULT_SHARE_BP;
use mstation_store::market::payouts::{DayEarnings, PayoutLine, earliest_start, month_bounds};
use mstation_store::market::{REFUND_WINDOW_MS, Sale};
use serde::Deserialize;
use time::{Date, Month};

use super::super::ledger::money;
use super::super::tracking::{answered, flash_of};
use super::super::{Ctx, Nav, PageResult, Tr, ctx, html};
use super::{Tabs, tabs, title};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;

/// A share in basis points as people read it: `60%`, `62.5%`.
pub(super) fn percent(bp: i64) -> String {
    format!("{}%", bp as f64 / 100.0)
}

/// `62.5` (or `62.5%`) as basis points: 0 to 100, at most two decimals.
fn basis_points(typed: &str) -> Option<i64> {
    let t = typed.trim().trim_end_matches('%').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    let bp = whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?;
    (bp <= 10_000).then_some(bp)
}

/// A month's short name in the page's language.
fn month_name(m: Month) -> String {
    i18n::text(&format!("month-short-{}", u8::from(m)))
}

/// `2026-12` as the page says it: `Dec 2026`, `2026年12月`.
fn period_name(period: &str) -> String {
    let (y, m) = period.split_once('-').unwrap_or((period, "1"));
    let m = m.parse::<u8>().ok().and_then(|m| Month::try_from(m).ok());
    match m {
        Some(m) => i18n::text_args(
            "market-period",
            &[
                ("year", y.to_string().into()),
                ("month", month_name(m).into()),
            ],
        ),
        None => period.to_string(),
    }
}

/// One month's bar of the earnings chart.
struct Bar {
    x: f64,
    y: f64,
    h: f64,
    label: String,
    tip: String,
}

/// A year of earnings by month in one currency, drawn as bars.
struct Chart {
    currency: String,
    title: String,
    bars: Vec<Bar>,
    top: String,
    desc: String,
}

/// The first day of each of the twelve months up to this one (UTC), oldest first.
fn last_twelve_months(today: Date) -> Vec<Date> {
    let mut first = today.replace_day(1).unwrap_or(today);
    let mut out = vec![first];
    for _ in 0..11 {
        first = first
            .previous_day()
            .and_then(|d| d.replace_day(1).ok())
            .unwrap_or(first);
        out.push(first);
    }
    out.reverse();
    out
}

fn charts(months: &[Date], days: &[DayEarnings]) -> Vec<Chart> {
    let mut currencies: Vec<&str> = days.iter().map(|d| d.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    currencies
        .into_iter()
        .take(3)
        .map(|cur| {
            let mut sums = vec![(0i64, 0i64); months.len()];
            for d in days.iter().filter(|d| d.currency == cur) {
                let Ok(day) = Date::from_julian_day(2_440_588 + d.day as i32) else {
                    continue;
                };
                if let Some(i) = months.iter().rposition(|m| *m <= day) {
                    sums[i].0 += d.amount;
                    sums[i].1 += d.sales;
                }
            }
            let max = sums.iter().map(|s| s.0).max().unwrap_or(0).max(1);
            let slot = 480.0 / months.len() as f64;
            let mut desc = Vec::new();
            let bars = months
                .iter()
                .zip(&sums)
                .enumerate()
                .map(|(i, (m, (amount, sales)))| {
                    let h = 160.0 * *amount as f64 / max as f64;
                    let name = i18n::text_args(
                        "market-period",
                        &[
                            ("year", m.year().to_string().into()),
                            ("month", month_name(m.month()).into()),
                        ],
                    );
                    let tip = i18n::text_args(
                        "market-chart-tip",
                        &[
                            ("month", name.into()),
                            ("amount", format!("{cur} {}", money(cur, *amount)).into()),
                            ("sales", (*sales).into()),
                        ],
                    );
                    if *amount > 0 {
                        desc.push(tip.clone());
                    }
                    Bar {
                        x: 70.0 + slot * i as f64 + slot * 0.2,
                        y: 172.0 - h,
                        h,
                        label: month_name(m.month()),
                        tip,
                    }
                })
                .collect();
            Chart {
                currency: cur.to_string(),
                title: i18n::text_args(
                    "market-chart-title",
                    &[("currency", cur.to_string().into())],
                ),
                bars,
                top: money(cur, max),
                desc: desc.join("; "),
            }
        })
        .collect()
}

/// A sale, line by line, with where its share stands.
struct SaleRow {
    when: String,
    title: String,
    kind: String,
    price: String,
    share: String,
    earned: String,
    /// `paid`, `owed` or `refunded`.
    state: &'static str,
    payout: String,
}

struct PayoutRow {
    month: String,
    sales: i64,
    amount: String,
    when: String,
}

/// A change of terms announced: for the share's tile and in full.
struct UpcomingRow {
    short: String,
    long: String,
}

#[derive(Template)]
#[template(path = "market_earnings.html")]
struct EarningsPage {
    tr: Tr,
    nav: Option<Nav>,
    tabs: Tabs,
    sold: String,
    owed: Vec<String>,
    paid: Vec<String>,
    flash: Option<(String, String)>,
    share: String,
    terms_line: String,
    upcoming: Vec<UpcomingRow>,
    charts: Vec<Chart>,
    payouts: Vec<PayoutRow>,
    sales: Vec<SaleRow>,
}

pub(super) async fn earnings(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::SellListings)?;
    let store = state.store.tenant(&cx.scope);
    let lang = i18n::current().code();
    let q = crate::extract::list_query(Some(200), None, Some("-created_at"))?;
    let sales: Vec<Sale> = store.sales(&q).await?.items;
    let held = store.held_accounts().await?;
    let terms = store.agreement_terms().await?;
    let lines: Vec<PayoutLine> = store.payout_lines().await?;
    let today = time::OffsetDateTime::now_utc().date();
    let months = last_twelve_months(today);
    let since = months[0].midnight().assume_utc().unix_timestamp() * 1000;
    let days = store.earnings_by_day(since).await?;

    let period_of = |id: uuid::Uuid| {
        lines
            .iter()
            .find(|l| l.payout_id == id)
            .map(|l| period_name(&l.period))
            .unwrap_or_default()
    };
    let sold = sales.iter().filter(|s| s.refunded_at.is_none()).count();
    let rows = sales
        .iter()
        .map(|s| {
            let (state, payout) = match (s.refunded_at, s.payout_id) {
                (Some(_), _) => ("refunded", i18n::text("market-refunded")),
                (None, Some(p)) => (
                    "paid",
                    i18n::text_args("market-paid-in", &[("month", period_of(p).into())]),
                ),
                (None, None) => ("owed", i18n::text("market-owed-now")),
            };
            SaleRow {
                when: cx.time(s.created_at.0),
                title: title(lang, &s.title, &s.title_zh),
                kind: i18n::text(&format!("market-kind-{}", s.kind.as_str())),
                price: format!("{} {}", s.currency, money(&s.currency, s.price)),
                share: percent(s.share_bp),
                earned: format!(
                    "{} {}",
                    s.currency,
                    money(&s.currency, s.contributor_amount)
                ),
                state,
                payout,
            }
        })
        .collect();
    let mut paid: Vec<(String, i64)> = Vec::new();
    for l in &lines {
        match paid.iter_mut().find(|p| p.0 == l.currency) {
            Some(p) => p.1 += l.amount,
            None => paid.push((l.currency.clone(), l.amount)),
        }
    }
    html(EarningsPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        tabs: tabs(&state, &cx, "earnings").await?,
        sold: sold.to_string(),
        owed: held
            .iter()
            .filter(|a| a.purpose == Purpose::RoyaltiesPayable)
            .map(|a| format!("{} {}", a.currency, money(&a.currency, a.posted)))
            .collect(),
        paid: paid
            .iter()
            .map(|(c, a)| format!("{c} {}", money(c, *a)))
            .collect(),
        flash: None,
        share: percent(terms.share_bp),
        terms_line: match &terms.current {
            Some(a) => i18n::text_args(
                "market-terms-current",
                &[
                    ("share", percent(a.share_bp).into()),
                    ("day", a.effective_from.clone().into()),
                ],
            ),
            None => i18n::text_args(
                "market-terms-standing",
                &[("share", percent(terms.share_bp).into())],
            ),
        },
        upcoming: terms
            .upcoming
            .iter()
            .map(|a| {
                let (day, share) = (a.effective_from.clone(), percent(a.share_bp));
                UpcomingRow {
                    short: i18n::text_args(
                        "market-share-from",
                        &[("day", day.clone().into()), ("share", share.clone().into())],
                    ),
                    long: i18n::text_args(
                        "market-terms-upcoming",
                        &[
                            ("day", day.into()),
                            ("share", share.into()),
                            ("when", cx.time(a.created_at.0).into()),
                        ],
                    ),
                }
            })
            .collect(),
        charts: charts(&months, &days),
        payouts: lines
            .iter()
            .map(|l| PayoutRow {
                month: period_name(&l.period),
                sales: l.sales,
                amount: format!("{} {}", l.currency, money(&l.currency, l.amount)),
                when: cx.time(l.created_at.0),
            })
            .collect(),
        sales: rows,
    })
}

/// A contributor as the operator's page lists it, with its terms.
struct ContributorRow {
    name: String,
    share: String,
    upcoming: Vec<String>,
}

struct BatchRow {
    month: String,
    sales: i64,
    lines: Vec<String>,
    when: String,
}

#[derive(Template)]
#[template(path = "market_payouts.html")]
struct PayoutsPage {
    tr: Tr,
    nav: Option<Nav>,
    tabs: Tabs,
    flash: Option<(String, String)>,
    csrf: String,
    keeper: bool,
    contributors: Vec<ContributorRow>,
    choices: Vec<(String, String)>,
    earliest: String,
    payable: String,
    typed: PayoutsTyped,
    batches: Vec<BatchRow>,
}

#[derive(Default, Clone, Deserialize)]
struct PayoutsTyped {
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    share: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    period: String,
}

/// The latest month that can be paid out now: the refund window closed on its last day.
fn payable_month(now_ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp((now_ms - REFUND_WINDOW_MS) / 1000)
        .map_or_else(|_| time::OffsetDateTime::now_utc().date(), |t| t.date());
    let before = at
        .replace_day(1)
        .ok()
        .and_then(|d| d.previous_day())
        .unwrap_or(at);
    format!("{:04}-{:02}", before.year(), u8::from(before.month()))
}

/// The page is the operator's: its finance readers see it, and nobody else.
async fn operator_ctx(state: &State, cx: &Ctx) -> Result<(), super::super::PageError> {
    cx.need(Permission::ReadLedger)?;
    let org = state.store.tenant(&cx.scope).org().await?;
    if org.kind != mstation_core::OrgKind::PlatformOperator {
        return Err(cx.refuse_for("forbidden-market_books"));
    }
    Ok(())
}

async fn payouts_page(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    typed: PayoutsTyped,
) -> PageResult {
    operator_ctx(state, cx).await?;
    let store = state.store.tenant(&cx.scope);
    let now = mstation_store::now_ms();
    let today = mstation_store::market::sale_day();
    let contributors = state.store.platform().contributors().await?;
    let rows = contributors
        .iter()
        .map(|c| {
            let current = c
                .agreements
                .iter()
                .find(|a| a.effective_from <= today)
                .map_or(DEFAULT_SHARE_BP, |a| a.share_bp);
            ContributorRow {
                name: c.name.clone(),
                share: percent(current),
                upcoming: c
                    .agreements
                    .iter()
                    .rev()
                    .filter(|a| a.effective_from > today)
                    .map(|a| {
                        i18n::text_args(
                            "market-share-from",
                            &[
                                ("day", a.effective_from.clone().into()),
                                ("share", percent(a.share_bp).into()),
                            ],
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let batches = store
        .payouts()
        .await?
        .into_iter()
        .map(|b| BatchRow {
            month: period_name(&b.period),
            sales: b.sales,
            lines: b
                .lines
                .iter()
                .map(|l| {
                    let name = contributors
                        .iter()
                        .find(|c| c.id == l.org_id)
                        .map_or_else(|| l.org_id.to_string(), |c| c.name.clone());
                    format!("{name} · {} {}", l.currency, money(&l.currency, l.amount))
                })
                .collect(),
            when: cx.time(b.created_at.0),
        })
        .collect();
    let earliest = earliest_start(now);
    let payable = payable_month(now);
    html(PayoutsPage {
        tr: Tr::now(),
        nav: cx.nav("market"),
        tabs: tabs(state, cx, "payouts").await?,
        flash,
        csrf: cx.csrf.clone(),
        keeper: cx.scope.can(Permission::ManageLedger),
        choices: contributors
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        contributors: rows,
        typed: PayoutsTyped {
            effective_from: if typed.effective_from.is_empty() {
                earliest.clone()
            } else {
                typed.effective_from
            },
            period: if typed.period.is_empty() {
                payable.clone()
            } else {
                typed.period
            },
            ..typed
        },
        earliest,
        payable,
        batches,
    })
}

pub(super) async fn payouts(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    payouts_page(&state, &cx, None, PayoutsTyped::default()).await
}

#[derive(Deserialize)]
pub(super) struct PayoutsForm {
    csrf: String,
    #[serde(flatten)]
    typed: PayoutsTyped,
}

fn done(key: &str, args: &[(&'static str, String)]) -> Option<(String, String)> {
    let args: Vec<_> = args.iter().map(|(k, v)| (*k, v.clone().into())).collect();
    Some(("ok".to_string(), i18n::text_args(key, &args)))
}

/// Announces a contributor's new terms from the operator's page.
pub(super) async fn announce(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<PayoutsForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageLedger)?;
    let typed = f.typed;
    let attempt = async {
        let org: uuid::Uuid = typed
            .org_id
            .parse()
            .map_err(|_| ApiError::invalid("org_id", "not_an_id"))?;
        let bp = basis_points(&typed.share)
            .ok_or_else(|| ApiError::invalid("share_bp", "out_of_range"))?;
        let a = state
            .store
            .tenant(&cx.scope)
            .announce_agreement(
                org,
                bp,
                typed.effective_from.trim(),
                mstation_store::now_ms(),
            )
            .await?;
        Ok::<_, ApiError>(a)
    };
    match attempt.await {
        Ok(a) => {
            let flash = done(
                "market-announced-flash",
                &[("share", percent(a.share_bp)), ("day", a.effective_from)],
            );
            payouts_page(&state, &cx, flash, PayoutsTyped::default()).await
        }
        Err(e) => {
            let status = e.status();
            answered(
                payouts_page(&state, &cx, Some(flash_of(e)), typed).await,
                status,
            )
        }
    }
}

/// Pays out a month from the operator's page.
pub(super) async fn pay_out(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<PayoutsForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageLedger)?;
    let period = f.typed.period.trim().to_string();
    if month_bounds(&period).is_none() {
        let e = ApiError::invalid("period", "not_a_month");
        let status = e.status();
        return answered(
            payouts_page(&state, &cx, Some(flash_of(e)), f.typed).await,
            status,
        );
    }
    match state
        .store
        .tenant(&cx.scope)
        .pay_out(&period, mstation_store::now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to("/app/market/payouts").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            answered(
                payouts_page(&state, &cx, Some(flash_of(e)), f.typed).await,
                status,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_read_as_people_write_them() {
        for (typed, bp) in [
            ("70", Some(7000)),
            ("62.5", Some(6250)),
            ("62.55%", Some(6255)),
            (" 0 ", Some(0)),
            ("100", Some(10_000)),
        ] {
            assert_eq!(basis_points(typed), bp, "{typed}");
        }
        for typed in ["", "100.01", "-5", "1e2", "62.555", "seventy", "1000", ".5"] {
            assert_eq!(basis_points(typed), None, "{typed}");
        }
    }

    #[test]
    fn a_year_of_months_ends_with_this_one() {
        let months = last_twelve_months(Date::from_calendar_date(2026, Month::March, 31).unwrap());
        assert_eq!(months.len(), 12);
        assert_eq!(
            months[0],
            Date::from_calendar_date(2025, Month::April, 1).unwrap()
        );
        assert_eq!(
            months[11],
            Date::from_calendar_date(2026, Month::March, 1).unwrap()
        );
    }

    #[test]
    fn the_payable_month_is_the_last_one_past_its_refund_window() {
        let at = |y, m, d| {
            Date::from_calendar_date(y, m, d)
                .unwrap()
                .midnight()
                .assume_utc()
                .unix_timestamp()
                * 1000
        };
        assert_eq!(payable_month(at(2026, Month::December, 20)), "2026-11");
        assert_eq!(payable_month(at(2026, Month::December, 10)), "2026-10");
        assert_eq!(payable_month(at(2027, Month::January, 15)), "2026-12");
    }
}
