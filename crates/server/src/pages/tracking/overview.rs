//! The productions overview, a producer's landing page: each active project's progress by step
//! and by person, its due and overdue work, its bid against the time logged, a burn-up chart of
//! the last eight weeks, and this week's timesheet per person, in the viewer's zone and language.
//!
//! A handful of grouped reads over the whole organisation (`store::tracking::overview`), never
//! one a task; the chart is drawn here as inline SVG, so the page needs no script.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State as AxState;
use axum::routing::get;
use jiff::civil::Date;
use mstation_core::Permission;
use mstation_store::ListQuery;
use uuid::Uuid;

use super::{need, people, step_name};
use crate::State;
use crate::auth::MaybeSigned;
use crate::i18n;
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/overview", get(overview))
}

/// The weeks the burn-up shows, this one last.
const WEEKS: i64 = 8;

/// The burn-up's drawing area in SVG units: left and top margins, width and height.
const CHART: (f64, f64, f64, f64) = (36.0, 12.0, 420.0, 160.0);

/// Minutes as hours and minutes, `h:mm`: 90 → `1:30`.
fn hours(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.abs();
    format!("{sign}{}:{:02}", m / 60, m % 60)
}

/// What was logged as a percentage of the bid, `—` without a bid.
fn percent(actual: i64, bid: i64) -> String {
    if bid <= 0 {
        return "—".into();
    }
    format!("{}%", (actual * 100 + bid / 2) / bid)
}

/// The Monday of the week of `day`.
fn monday(day: Date) -> Date {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    add_days(day, -back)
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// A day as the charts label it: `03-02`.
fn short_day(d: Date) -> String {
    d.strftime("%m-%d").to_string()
}

struct StepRow {
    short: String,
    name: String,
    color: String,
    done: i64,
    total: i64,
    /// The bar's filled share, 0 to 100.
    pct: i64,
    bid: String,
    actual: String,
    ratio: String,
}

struct PersonRow {
    name: String,
    open: i64,
    done: i64,
    overdue: i64,
}

/// The burn-up chart of one project, ready to draw.
struct Burnup {
    /// SVG `points` of the two lines.
    done: String,
    scope: String,
    /// (x, label) of each week, at its Monday.
    weeks: Vec<(f64, String)>,
    /// The y of the top of the scale, and the number there.
    top: (f64, i64),
    desc: String,
}

struct ProjectView {
    id: String,
    name: String,
    code: String,
    total: i64,
    done: i64,
    due_week: i64,
    overdue: i64,
    bid: String,
    actual: String,
    ratio: String,
    steps: Vec<StepRow>,
    people: Vec<PersonRow>,
    burnup: Burnup,
}

struct SheetRow {
    name: String,
    /// `h:mm` a day, Monday first; empty when nothing was logged.
    days: Vec<String>,
    total: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    projects: Vec<ProjectView>,
    /// (weekday, `MM-DD`, `YYYY-MM-DD`) Monday to Sunday.
    days: Vec<(String, String, String)>,
    week: String,
    sheet: Vec<SheetRow>,
    /// `h:mm` a day, then the week's.
    day_totals: Vec<String>,
    week_total: String,
}

/// The burn-up of a project with `total` tasks: `before` finished before the first week, then
/// `by_week[i]` finished in week `i`.
fn burnup(tr: &Tr, first: Date, total: i64, before: i64, by_week: &[i64]) -> Burnup {
    let (left, top, width, height) = CHART;
    let max = total.max(before + by_week.iter().sum::<i64>()).max(1);
    let step = width / (WEEKS - 1) as f64;
    let y = |v: i64| top + height - v as f64 / max as f64 * height;
    let mut done = Vec::new();
    let mut scope = Vec::new();
    let mut weeks = Vec::new();
    let mut sum = before;
    for (i, n) in by_week.iter().enumerate() {
        sum += n;
        let x = left + i as f64 * step;
        done.push(format!("{x:.1},{:.1}", y(sum)));
        scope.push(format!("{x:.1},{:.1}", y(total)));
        weeks.push((x, short_day(add_days(first, 7 * i as i64))));
    }
    let desc = i18n::text_args_in(
        tr.0,
        "overview-burnup-desc",
        &[("done", sum.into()), ("total", total.into())],
    );
    Burnup {
        done: done.join(" "),
        scope: scope.join(" "),
        weeks,
        top: (y(max), max),
        desc,
    }
}

async fn overview(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    // People's hours and bids are for those who run the productions: planners, and those who
    // read the audit log (finance among them).
    if !cx.may_see_overview() {
        return Err(cx.refuse_for("permission-see_overview"));
    }
    need(&cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let tr = Tr::now();
    let today: Date = cx.today().parse().unwrap_or(Date::constant(2026, 1, 1));
    let this_monday = monday(today);
    let sunday = add_days(this_monday, 6);
    let first = add_days(this_monday, -7 * (WEEKS - 1));
    let (today_s, sunday_s) = (today.to_string(), sunday.to_string());

    let q = ListQuery {
        limit: 500,
        ..Default::default()
    };
    let projects = store.projects(Some("active"), &q).await?.items;
    let steps = store.overview_steps(&today_s, &sunday_s).await?;
    let logged: HashMap<(Uuid, Uuid), i64> = store
        .overview_logged()
        .await?
        .into_iter()
        .map(|(p, t, m)| ((p, t), m))
        .collect();
    let assigned = store.overview_people(&today_s).await?;
    // Weeks of the burn-up are counted in fixed 7-day spans from the first Monday's midnight in
    // the viewer's zone: across a change of clocks a task finished in that hour falls a week early.
    let since = since_ms(&cx, first);
    let mut by_week: HashMap<Uuid, (i64, Vec<i64>)> = HashMap::new();
    for (p, week, n) in store.overview_done_by_week(since).await? {
        let e = by_week
            .entry(p)
            .or_insert_with(|| (0, vec![0; WEEKS as usize]));
        match usize::try_from(week) {
            Ok(w) if w < WEEKS as usize => e.1[w] += n,
            // Finished before the chart's first week; a clock ahead of today's counts this week.
            Ok(_) => e.1[WEEKS as usize - 1] += n,
            Err(_) => e.0 += n,
        }
    }
    let sheet = store
        .overview_timesheet(&this_monday.to_string(), &sunday_s)
        .await?;
    let names: HashMap<Uuid, String> = people(&state, &cx).await?.into_iter().collect();
    let name_of = |u: &Uuid| {
        names
            .get(u)
            .cloned()
            .unwrap_or_else(|| tr.t("overview-former-member"))
    };

    let views = projects
        .iter()
        .map(|p| {
            let mine: Vec<_> = steps.iter().filter(|s| s.project_id == p.id).collect();
            let step_rows: Vec<StepRow> = mine
                .iter()
                .map(|s| {
                    let actual = logged.get(&(p.id, s.task_type_id)).copied().unwrap_or(0);
                    StepRow {
                        short: s.short_name.clone(),
                        name: step_name(&s.short_name, &s.name),
                        color: s.color.clone(),
                        done: s.done,
                        total: s.total,
                        pct: if s.total > 0 {
                            s.done * 100 / s.total
                        } else {
                            0
                        },
                        bid: hours(s.estimate_minutes),
                        actual: hours(actual),
                        ratio: percent(actual, s.estimate_minutes),
                    }
                })
                .collect();
            let sum = |f: fn(&&mstation_store::tracking::overview::StepFigures) -> i64| {
                mine.iter().map(f).sum::<i64>()
            };
            let total = sum(|s| s.total);
            let bid = sum(|s| s.estimate_minutes);
            // Time logged on any step of the project, steps without tasks included.
            let actual: i64 = logged
                .iter()
                .filter(|((proj, _), _)| *proj == p.id)
                .map(|(_, m)| m)
                .sum();
            let mut people_rows: Vec<PersonRow> = assigned
                .iter()
                .filter(|a| a.project_id == p.id)
                .map(|a| PersonRow {
                    name: name_of(&a.user_id),
                    open: a.open,
                    done: a.done,
                    overdue: a.overdue,
                })
                .collect();
            people_rows.sort_by(|a, b| a.name.cmp(&b.name));
            let (before, weeks) = by_week
                .get(&p.id)
                .cloned()
                .unwrap_or_else(|| (0, vec![0; WEEKS as usize]));
            ProjectView {
                id: p.id.to_string(),
                name: p.name.clone(),
                code: p.code.clone(),
                total,
                done: sum(|s| s.done),
                due_week: sum(|s| s.due_soon),
                overdue: sum(|s| s.overdue),
                bid: hours(bid),
                actual: hours(actual),
                ratio: percent(actual, bid),
                steps: step_rows,
                people: people_rows,
                burnup: burnup(&tr, first, total, before, &weeks),
            }
        })
        .collect();

    // This week's timesheet: a row a person who logged time, Monday to Sunday.
    let days: Vec<Date> = (0..7).map(|i| add_days(this_monday, i)).collect();
    let mut logged_by: HashMap<Uuid, HashMap<String, i64>> = HashMap::new();
    for (user, day, minutes) in sheet {
        *logged_by.entry(user).or_default().entry(day).or_default() += minutes;
    }
    let cell = |m: i64| if m == 0 { String::new() } else { hours(m) };
    let mut sheet_rows: Vec<SheetRow> = logged_by
        .iter()
        .map(|(user, by_day)| {
            let mins: Vec<i64> = days
                .iter()
                .map(|d| by_day.get(&d.to_string()).copied().unwrap_or(0))
                .collect();
            SheetRow {
                name: name_of(user),
                days: mins.iter().map(|m| cell(*m)).collect(),
                total: hours(mins.iter().sum()),
            }
        })
        .collect();
    sheet_rows.sort_by(|a, b| a.name.cmp(&b.name));
    let day_mins: Vec<i64> = days
        .iter()
        .map(|d| {
            let d = d.to_string();
            logged_by
                .values()
                .map(|m| m.get(&d).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    html(OverviewPage {
        nav: cx.nav("overview"),
        flash: None,
        projects: views,
        days: days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                (
                    tr.t(&format!("overview-day-{}", i + 1)),
                    short_day(*d),
                    d.to_string(),
                )
            })
            .collect(),
        week: format!("{this_monday} – {sunday}"),
        sheet: sheet_rows,
        day_totals: day_mins.iter().map(|m| hours(*m)).collect(),
        week_total: hours(day_mins.iter().sum()),
        tr,
    })
}

/// The first instant of `day` in the viewer's zone, in ms.
fn since_ms(cx: &Ctx, day: Date) -> i64 {
    let zone = jiff::tz::TimeZone::get(&cx.tz).unwrap_or(jiff::tz::TimeZone::UTC);
    day.to_zoned(zone)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

#[cfg(test)]
mod overview_tests {
    use super::*;

    #[test]
    fn overview_hours_percent_and_weeks() {
        assert_eq!(
            [0, 5, 90, 450, 6001].map(hours),
            ["0:00", "0:05", "1:30", "7:30", "100:01"]
        );
        assert_eq!(percent(120, 180), "67%");
        assert_eq!(percent(30, 0), "—");
        // 2026-03-02 is a Monday; a Sunday belongs to the week before it.
        for (day, mon) in [
            ("2026-03-02", "2026-03-02"),
            ("2026-03-08", "2026-03-02"),
            ("2027-01-01", "2026-12-28"),
        ] {
            assert_eq!(monday(day.parse().unwrap()).to_string(), mon, "{day}");
        }
    }
}
