//! The talent pages: the directory (search by words, department, crew role, language and
//! country), a profile with its credits and training, the editor of the organisation's own
//! profiles, and a school's training records.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::talent::{DEPARTMENTS, LANGUAGES, Visibility};
use mstation_core::validate::FieldError;
use mstation_store::talent::index::Ask;
use mstation_store::talent::matching::{Reason, Want};
use mstation_store::talent::training::{self, NewTraining, Training};
use mstation_store::talent::{NewCredit, Profile, ProfileInput};
use serde::Deserialize;
use uuid::Uuid;

use super::ledger::money;
use super::tracking::{answered, flash_of};
use super::{Ctx, Nav, PageResult, Tr, ctx, html};
use crate::State;
use crate::api::talent::search_directory;
use crate::auth::MaybeSigned;
use crate::i18n;

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route("/app/talent", get(directory).post(create))
        .route("/app/talent/match", get(match_page))
        .route("/app/talent/new", get(new_profile))
        .route(
            "/app/talent/profiles/{profile_id}",
            get(profile).post(update),
        )
        .route("/app/talent/profiles/{profile_id}/edit", get(edit))
        .route("/app/talent/profiles/{profile_id}/delete", post(delete))
        .route(
            "/app/talent/profiles/{profile_id}/credits",
            post(add_credit),
        )
        .route(
            "/app/talent/profiles/{profile_id}/credits/{credit_id}/delete",
            post(delete_credit),
        )
        .route("/app/projects/{project_id}/credits", post(credit_crew))
        .route(
            "/app/projects/{project_id}/credits/{credit_id}/withdraw",
            post(withdraw_credit),
        )
        .route(
            "/app/talent/profiles/{profile_id}/showreel",
            post(set_showreel),
        )
        .route(
            "/app/talent/profiles/{profile_id}/showreel/remove",
            post(remove_showreel),
        )
        .route(
            "/app/talent/training",
            get(training_page).post(issue_training),
        )
        .route(
            "/app/talent/training/{training_id}/withdraw",
            post(withdraw_training),
        )
        .route(
            "/app/talent/profiles/{profile_id}/calendar",
            post(add_entry),
        )
        .route(
            "/app/talent/profiles/{profile_id}/calendar/{entry_id}/confirm",
            post(confirm_entry),
        )
        .route(
            "/app/talent/profiles/{profile_id}/calendar/{entry_id}/delete",
            post(delete_entry),
        )
}

fn role_name(key: &str) -> String {
    i18n::text(&format!("talent-role-{key}"))
}

fn language_name(code: &str) -> String {
    i18n::text(&format!("talent-lang-{code}"))
}

/// A profile as a card of the directory or the head of its page shows it.
struct Card {
    id: String,
    name: String,
    initials: String,
    headline: String,
    roles: String,
    department: String,
    place: String,
    languages: String,
    rate: String,
    org: String,
    own: bool,
    private: bool,
    /// Found by meaning: how near, said in words.
    near: String,
}

fn card(p: &Profile) -> Card {
    let initials = initials(&p.name);
    let place = match (p.city.is_empty(), p.country.is_empty()) {
        (false, false) => format!("{} · {}", p.city, p.country),
        (false, true) => p.city.clone(),
        (true, false) => p.country.clone(),
        (true, true) => String::new(),
    };
    Card {
        id: p.id.to_string(),
        name: p.name.clone(),
        initials: initials.to_uppercase(),
        headline: p.headline.clone(),
        roles: p
            .roles
            .iter()
            .map(|r| role_name(r))
            .collect::<Vec<_>>()
            .join(" · "),
        department: i18n::text(&format!("talent-dept-{}", p.department)),
        place,
        languages: p
            .languages
            .iter()
            .map(|l| language_name(l))
            .collect::<Vec<_>>()
            .join(", "),
        rate: match (p.day_rate, p.currency.as_deref()) {
            (Some(r), Some(c)) => i18n::text_args(
                "talent-per-day",
                &[("amount", format!("{} {c}", money(c, r)).into())],
            ),
            _ => String::new(),
        },
        org: p.org_name.clone(),
        own: p.own,
        private: p.visibility == Visibility::Private,
        near: String::new(),
    }
}

/// What stands for a person where there is no picture: the first letters of their first two
/// names, or the first character of a name written in ideographs (林乔 → 林).
fn initials(name: &str) -> String {
    let mut words = name.split_whitespace();
    let Some(first) = words.next().and_then(|w| w.chars().next()) else {
        return String::new();
    };
    if !first.is_alphabetic() || !first.is_ascii() && first.to_uppercase().eq(first.to_lowercase())
    {
        return first.to_string();
    }
    let second = words.next().and_then(|w| w.chars().next());
    std::iter::once(first)
        .chain(second)
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_are_letters_or_one_ideograph() {
        assert_eq!(super::initials("Lin Qiao"), "LQ");
        assert_eq!(super::initials("sofia marchetti rossi"), "SM");
        assert_eq!(super::initials("林乔 Lin Qiao"), "林");
        assert_eq!(super::initials("王敏"), "王");
        assert_eq!(super::initials("Élodie"), "É");
        assert_eq!(super::initials("  "), "");
    }
}

/// A choice of a select: its value, its words, whether it is chosen.
type Choice = (String, String, bool);

fn choices<'a>(values: impl Iterator<Item = (&'a str, String)>, chosen: &str) -> Vec<Choice> {
    values
        .map(|(v, words)| (v.to_string(), words, v == chosen))
        .collect()
}

/// The crew roles grouped by department, for a select's option groups.
fn role_groups(chosen: &[String]) -> Vec<(String, Vec<Choice>)> {
    DEPARTMENTS
        .iter()
        .map(|d| {
            (
                i18n::text(&format!("talent-dept-{}", d.key)),
                d.roles
                    .iter()
                    .map(|r| (r.to_string(), role_name(r), chosen.iter().any(|c| c == r)))
                    .collect(),
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "talent.html")]
struct DirectoryPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    q: String,
    country: String,
    departments: Vec<Choice>,
    roles: Vec<(String, Vec<Choice>)>,
    languages: Vec<Choice>,
    cards: Vec<Card>,
    found: String,
    searched: bool,
    next: Option<String>,
    can_manage: bool,
    /// A school's keepers also issue training records.
    school: bool,
    /// Searching by meaning (else by words).
    meaning: bool,
}

#[derive(Deserialize, Default)]
struct DirectoryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    country: String,
    /// `meaning`, or words.
    #[serde(default)]
    by: String,
    #[serde(default)]
    offset: usize,
}

/// People a page of the directory shows.
const DIRECTORY_PAGE: usize = 24;

impl DirectoryQuery {
    /// This search's address from `offset` on.
    fn with_offset(&self, offset: usize) -> String {
        let offset = offset.to_string();
        let pairs = [
            ("q", self.q.as_str()),
            ("by", &self.by),
            ("department", &self.department),
            ("role", &self.role),
            ("language", &self.language),
            ("country", &self.country),
            ("offset", &offset),
        ];
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            q.append_pair(k, v);
        }
        format!("/app/talent?{}", q.finish())
    }
}

async fn directory(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(dq): Query<DirectoryQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::FindTalent)?;
    let school = cx.scope.can(Permission::ManageTalent)
        && state.store.tenant(&cx.scope).org().await?.kind == mstation_core::OrgKind::University;
    let meaning = dq.by == "meaning";
    let searched_by = match Ask::checked(
        &dq.q,
        Some(&dq.department),
        Some(&dq.role),
        Some(&dq.language),
        Some(&dq.country),
        dq.offset,
        DIRECTORY_PAGE,
    ) {
        Ok(ask) => search_directory(&state, &cx.scope, &dq.q, meaning, ask).await,
        Err(e) => Err(mstation_store::StoreError::from(e).into()),
    };
    let (cards, found, next, flash) = match searched_by {
        Ok(s) => {
            let next = (dq.offset + DIRECTORY_PAGE < s.total)
                .then(|| dq.with_offset(dq.offset + DIRECTORY_PAGE));
            let cards = s
                .items
                .iter()
                .map(|h| {
                    let mut c = card(&h.profile);
                    if meaning {
                        c.near = i18n::text_args(
                            "talent-near",
                            &[("percent", ((h.score * 100.0).round() as i64).into())],
                        );
                    }
                    c
                })
                .collect();
            let mut found = i18n::text_args("talent-found", &[("count", s.total.into())]);
            if s.waiting > 0 {
                found = format!(
                    "{found} · {}",
                    i18n::text_args("talent-waiting", &[("count", s.waiting.into())])
                );
            }
            (cards, found, next, None)
        }
        Err(e) => (Vec::new(), String::new(), None, Some(flash_of(e))),
    };
    let searched = [&dq.q, &dq.department, &dq.role, &dq.language, &dq.country]
        .iter()
        .any(|v| !v.is_empty());
    let page = html(DirectoryPage {
        tr: Tr::now(),
        nav: cx.nav("talent"),
        departments: choices(
            DEPARTMENTS
                .iter()
                .map(|d| (d.key, i18n::text(&format!("talent-dept-{}", d.key)))),
            &dq.department,
        ),
        roles: role_groups(std::slice::from_ref(&dq.role)),
        languages: choices(
            LANGUAGES.iter().map(|l| (*l, language_name(l))),
            &dq.language,
        ),
        cards,
        found,
        searched,
        next,
        can_manage: cx.scope.can(Permission::ManageTalent),
        school,
        flash: flash.clone(),
        q: dq.q,
        country: dq.country,
        meaning,
    });
    if flash.is_some() {
        return answered(page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    page
}

#[derive(Deserialize, Default)]
struct MatchQuery {
    #[serde(default)]
    role: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    max_rate: String,
    #[serde(default)]
    currency: String,
    /// What the work is, as the page that sent the hirer here named it (a task).
    #[serde(default, rename = "for")]
    work: String,
}

/// One person the matcher found, with the reasons in words.
struct MatchRow {
    card: Card,
    score: i64,
    points: i64,
    /// (words, points as signed text, fits).
    reasons: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "talent_match.html")]
struct MatchPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    typed: MatchQuery,
    roles: Vec<(String, Vec<Choice>)>,
    languages: Vec<Choice>,
    rows: Vec<MatchRow>,
    asked: bool,
    considered: String,
}

/// A list of the taxonomy's keys in words, with `name` giving each.
fn named(keys: &[String], name: fn(&str) -> String) -> String {
    keys.iter().map(|k| name(k)).collect::<Vec<_>>().join(", ")
}

/// A reason for a match, in the reader's words.
fn reason_words(r: &Reason) -> String {
    let v = |i: usize| r.values.get(i).cloned().unwrap_or_default();
    let key = format!("talent-why-{}", r.code.replace('.', "-"));
    let args: Vec<(
        &'static str,
        fluent_templates::fluent_bundle::FluentValue<'static>,
    )> = match r.code.as_str() {
        "role.main" | "role.other" | "role.department" => vec![("role", role_name(&v(0)).into())],
        "skills.has" | "skills.lacks" => vec![("skills", r.values.join(", ").into())],
        "languages.speaks" | "languages.lacks" => {
            vec![("languages", named(&r.values, language_name).into())]
        }
        "country.same" | "country.other" => {
            let c = v(0);
            vec![(
                "country",
                if c.is_empty() { "—".to_string() } else { c }.into(),
            )]
        }
        "days.free" | "days.busy" => vec![("days", v(0).into())],
        "days.pencilled" | "days.partly_busy" => vec![("some", v(0).into()), ("days", v(1).into())],
        "rate.within" | "rate.other_currency" | "rate.over" => {
            let rate = match v(0).parse::<i64>() {
                Ok(minor) => format!("{} {}", money(&v(1), minor), v(1)),
                Err(_) => String::new(),
            };
            vec![("rate", rate.into()), ("over", v(2).into())]
        }
        "credits.verified" | "credits.in_role" => {
            vec![("count", v(0).parse::<i64>().unwrap_or_default().into())]
        }
        _ => Vec::new(),
    };
    i18n::text_args(&key, &args)
}

/// Matching people to a piece of work: the form, and the people who fit best with why.
async fn match_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Query(mq): Query<MatchQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::FindTalent)?;
    let asked = !mq.role.is_empty() || !mq.skills.is_empty();
    // What a refusal answers with (422 for a want that cannot be matched).
    let mut refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (rows, considered, flash) = if asked {
        let want = Want {
            role: Some(mq.role.clone()),
            skills: mq
                .skills
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            languages: vec![mq.language.clone()],
            country: Some(mq.country.clone()),
            starts_on: Some(mq.starts_on.clone()),
            ends_on: Some(mq.ends_on.clone()),
            max_rate: Some(mq.max_rate.clone()),
            currency: Some(mq.currency.clone()),
            limit: Some(20),
        };
        let found: Result<_, crate::ApiError> = match want.check() {
            Err(e) => Err(e.into()),
            Ok(()) => match crate::api::talent::index_built(&state).await {
                Ok(()) => state
                    .store
                    .tenant(&cx.scope)
                    .match_people(&want, &state.talent)
                    .await
                    .map_err(crate::ApiError::from),
                Err(e) => Err(e),
            },
        };
        match found {
            Ok(m) => (
                m.items
                    .iter()
                    .map(|m| MatchRow {
                        card: card(&m.profile),
                        score: m.score,
                        points: m.points,
                        reasons: m
                            .reasons
                            .iter()
                            .map(|r| {
                                let points = match r.points {
                                    0 => String::new(),
                                    p if p > 0 => format!("+{p}"),
                                    p => format!("−{}", -p),
                                };
                                (reason_words(r), points, r.fits)
                            })
                            .collect(),
                    })
                    .collect(),
                i18n::text_args("talent-match-considered", &[("count", m.considered.into())]),
                None,
            ),
            Err(e) => {
                refused = e.status();
                (Vec::new(), String::new(), Some(flash_of(e)))
            }
        }
    } else {
        (Vec::new(), String::new(), None)
    };
    let page = html(MatchPage {
        tr: Tr::now(),
        nav: cx.nav("talent"),
        flash: flash.clone(),
        roles: role_groups(std::slice::from_ref(&mq.role)),
        languages: choices(
            LANGUAGES.iter().map(|l| (*l, language_name(l))),
            &mq.language,
        ),
        rows,
        asked,
        considered,
        typed: mq,
    });
    if flash.is_some() {
        return answered(page, refused);
    }
    page
}

/// The matcher's address for a task: the role its type wants, its days, and what it is.
pub(crate) fn match_for_task(
    type_name: &str,
    subject: &str,
    start: Option<&str>,
    due: Option<&str>,
    today: &str,
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(role) = mstation_core::talent::role_for_work(type_name) {
        q.append_pair("role", role);
    }
    let days = match (start, due) {
        (Some(s), Some(d)) => Some((s.min(d), s.max(d))),
        (Some(s), None) => Some((s, s)),
        (None, Some(d)) if d >= today => Some((today, d)),
        _ => None,
    };
    if let Some((s, e)) = days {
        // The matcher weighs at most 400 days: a longer task is asked about its first 400.
        let most = s
            .parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.checked_add(jiff::Span::new().days(399)).ok())
            .map(|d| d.to_string());
        let e = match most {
            Some(m) if m.as_str() < e => m,
            _ => e.to_string(),
        };
        q.append_pair("starts_on", s);
        q.append_pair("ends_on", &e);
    }
    let work = if subject.is_empty() {
        type_name.to_string()
    } else {
        format!("{subject} · {type_name}")
    };
    q.append_pair("for", &work);
    format!("/app/talent/match?{}", q.finish())
}

/// What the editor's form holds: as typed, so a refused form comes back as it was.
#[derive(Default, Clone, Deserialize)]
struct Typed {
    #[serde(default)]
    name: String,
    #[serde(default)]
    headline: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    role2: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    day_rate: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    version: String,
    /// The member whose profile it is, if linked (through the API): kept as it is.
    #[serde(default)]
    user_id: String,
    /// Crew roles past the two the form shows (the API takes five): kept as they are.
    #[serde(default)]
    more_roles: String,
    /// The languages ticked, as `lang-<code>` fields.
    #[serde(flatten)]
    ticked: HashMap<String, String>,
}

impl Typed {
    fn of(p: &Profile) -> Typed {
        Typed {
            name: p.name.clone(),
            headline: p.headline.clone(),
            bio: p.bio.clone(),
            role: p.roles.first().cloned().unwrap_or_default(),
            role2: p.roles.get(1).cloned().unwrap_or_default(),
            skills: p.skills.join(", "),
            city: p.city.clone(),
            country: p.country.clone(),
            day_rate: match (p.day_rate, p.currency.as_deref()) {
                (Some(r), Some(c)) => mstation_core::ledger::Currency::parse(c)
                    .map(|c| c.format(i128::from(r)))
                    .unwrap_or_default(),
                _ => String::new(),
            },
            currency: p.currency.clone().unwrap_or_default(),
            visibility: p.visibility.as_str().to_string(),
            birth_date: p.birth_date.clone().unwrap_or_default(),
            email: p.email.clone().unwrap_or_default(),
            version: p.version.to_string(),
            user_id: p.user_id.map(|u| u.to_string()).unwrap_or_default(),
            more_roles: p
                .roles
                .iter()
                .skip(2)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            ticked: p
                .languages
                .iter()
                .map(|l| (format!("lang-{l}"), "on".to_string()))
                .collect(),
        }
    }

    /// The languages ticked, in the platform's order.
    fn languages(&self) -> Vec<String> {
        LANGUAGES
            .iter()
            .filter(|l| self.ticked.contains_key(&format!("lang-{l}")))
            .map(|l| l.to_string())
            .collect()
    }

    fn input(&self) -> ProfileInput {
        let list = |s: &str| -> Vec<String> {
            s.split([',', '，', '、', '\n'])
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        };
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        ProfileInput {
            name: self.name.clone(),
            headline: self.headline.clone(),
            bio: self.bio.clone(),
            roles: [self.role.as_str(), self.role2.as_str()]
                .into_iter()
                .chain(self.more_roles.split(','))
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            skills: list(&self.skills),
            languages: self.languages(),
            city: self.city.clone(),
            country: self.country.clone(),
            day_rate: some(&self.day_rate),
            currency: some(&self.currency),
            visibility: Visibility::parse(&self.visibility),
            birth_date: some(&self.birth_date),
            email: some(&self.email),
            user_id: self.user_id.trim().parse().ok(),
        }
    }
}

#[derive(Template)]
#[template(path = "talent_editor.html")]
struct EditorPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    /// The profile being changed; `None` for a new one.
    id: Option<String>,
    typed: Typed,
    roles: Vec<(String, Vec<Choice>)>,
    roles2: Vec<(String, Vec<Choice>)>,
    languages: Vec<Choice>,
}

fn editor(cx: &Ctx, id: Option<Uuid>, typed: Typed, flash: Option<(String, String)>) -> PageResult {
    let ticked = typed.languages();
    let languages = LANGUAGES
        .iter()
        .map(|l| {
            (
                l.to_string(),
                language_name(l),
                ticked.iter().any(|t| t == l),
            )
        })
        .collect();
    html(EditorPage {
        tr: Tr::now(),
        nav: cx.nav("talent"),
        flash,
        csrf: cx.csrf.clone(),
        id: id.map(|i| i.to_string()),
        roles: role_groups(std::slice::from_ref(&typed.role)),
        roles2: role_groups(std::slice::from_ref(&typed.role2)),
        typed,
        languages,
    })
}

async fn new_profile(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ManageTalent)?;
    let typed = Typed {
        visibility: Visibility::Private.as_str().into(),
        currency: "CNY".into(),
        ..Typed::default()
    };
    editor(&cx, None, typed, None)
}

#[derive(Deserialize)]
struct EditorForm {
    csrf: String,
    #[serde(flatten)]
    typed: Typed,
}

async fn create(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<EditorForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    match state
        .store
        .tenant(&cx.scope)
        .create_profile(f.typed.input())
        .await
    {
        Ok(p) => {
            state.index_profiles(&[p.id]).await;
            Ok(Redirect::to(&format!("/app/talent/profiles/{}", p.id)).into_response())
        }
        Err(e) => answered(
            editor(&cx, None, f.typed, Some(flash_of(e))),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

async fn edit(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.need(Permission::ManageTalent)?;
    let p = state.store.tenant(&cx.scope).profile(profile_id).await?;
    if !p.own {
        return Err(mstation_store::StoreError::NotFound { entity: "profile" }.into());
    }
    editor(&cx, Some(profile_id), Typed::of(&p), None)
}

async fn update(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    axum::Form(f): axum::Form<EditorForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    let seen = f.typed.version.parse::<i64>().ok();
    match state
        .store
        .tenant(&cx.scope)
        .update_profile(profile_id, seen, f.typed.input())
        .await
    {
        Ok(p) => {
            state.index_profiles(&[p.id]).await;
            Ok(Redirect::to(&format!("/app/talent/profiles/{}", p.id)).into_response())
        }
        Err(e) => {
            let mut typed = f.typed;
            // Changed by someone else meanwhile: saying so, the form saves over it next time.
            if let mstation_store::StoreError::Stale { current, .. } = &e {
                typed.version = current.to_string();
            }
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            if status == StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            answered(
                editor(&cx, Some(profile_id), typed, Some(flash_of(e))),
                status,
            )
        }
    }
}

/// A credit as the profile page lists it: one the keeping organisation wrote, or one a
/// production verified from work on the platform.
struct CreditRow {
    id: String,
    title: String,
    role: String,
    company: String,
    year: i64,
    /// The days worked, for a verified credit.
    dates: String,
    provenance: String,
    verified: bool,
}

#[derive(Template)]
#[template(path = "talent_profile.html")]
struct ProfilePage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    card: Card,
    bio: String,
    skills: Vec<String>,
    birth_date: String,
    email: String,
    visibility: String,
    credits: Vec<CreditRow>,
    /// What schools verified the person completed, the latest first.
    training: Vec<TrainingRow>,
    /// Whether it has a reel to play, and what the reel shows.
    has_reel: bool,
    reel_note: String,
    /// For its keeper: the organisation's videos to choose the reel from (those with a
    /// browser proxy, newest first; those whose name holds `reel_q` if asked), the current
    /// one chosen.
    reel_choices: Vec<Choice>,
    reel_q: String,
    /// Whether any video's name holds `reel_q`, and what to say if none does.
    reel_found: bool,
    reel_none_named: String,
    can_edit: bool,
    roles: Vec<(String, Vec<Choice>)>,
    typed: CreditTyped,
    /// The keeper's calendar entries over the next 90 days.
    entries: Vec<EntryRow>,
    /// The days the person is busy, in words, for everyone else.
    busy: Vec<String>,
    /// The days the person's tasks take, in words, for the keeper.
    task_days: Vec<String>,
    calendar_to: String,
    days: DaysTyped,
}

/// A calendar entry as the profile page lists it.
struct EntryRow {
    id: String,
    kind: String,
    hold: bool,
    dates: String,
    what: String,
    rank: String,
}

/// What the calendar form held, to show again.
#[derive(Default, Clone, Deserialize)]
struct DaysTyped {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    what: String,
}

/// A run of days in words: one day, or the first and the last.
fn run_of(from: &str, to: &str) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from} – {to}")
    }
}

#[derive(Default, Clone, Deserialize)]
struct CreditTyped {
    #[serde(default)]
    title: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    year: String,
}

async fn profile_page(
    state: &State,
    cx: &Ctx,
    profile_id: Uuid,
    flash: Option<(String, String)>,
    typed: CreditTyped,
    days: DaysTyped,
    reel_q: &str,
) -> PageResult {
    cx.need(Permission::FindTalent)?;
    let reel_q: String = reel_q.trim().chars().take(200).collect();
    let p = state.store.tenant(&cx.scope).profile(profile_id).await?;
    let cal = state
        .store
        .tenant(&cx.scope)
        .calendar(profile_id, None, None)
        .await?;
    let can_edit = p.own && cx.scope.can(Permission::ManageTalent);
    let mut reel_found = false;
    let reel_choices = if can_edit {
        let current = p.showreel.as_ref().and_then(|r| r.media_id);
        let tenant = state.store.tenant(&cx.scope);
        let mut files = tenant.reel_choices(&reel_q, 100).await?;
        reel_found = !files.is_empty();
        // The current reel is always among them, however old, so saving a note keeps it.
        if let Some(id) = current
            && !files.iter().any(|f| f.id == id)
            && let Ok(f) = tenant.media_file(id).await
        {
            files.insert(0, f);
        }
        let current = current.map(|m| m.to_string()).unwrap_or_default();
        let videos: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.id.to_string(), f.name.clone()))
            .collect();
        choices(
            videos.iter().map(|(id, name)| (id.as_str(), name.clone())),
            &current,
        )
    } else {
        Vec::new()
    };
    let mut typed = typed;
    if typed.role.is_empty() {
        typed.role = p.roles.first().cloned().unwrap_or_default();
    }
    html(ProfilePage {
        tr: Tr::now(),
        nav: cx.nav("talent"),
        flash,
        csrf: cx.csrf.clone(),
        card: card(&p),
        bio: p.bio.clone(),
        skills: p.skills.clone(),
        birth_date: p.birth_date.clone().unwrap_or_default(),
        email: p.email.clone().unwrap_or_default(),
        visibility: i18n::text(&format!("talent-visibility-{}", p.visibility.as_str())),
        credits: credit_rows(&p),
        training: p.training.iter().map(training_row).collect(),
        has_reel: p.showreel.is_some(),
        reel_note: p
            .showreel
            .as_ref()
            .map(|r| r.note.clone())
            .unwrap_or_default(),
        reel_choices,
        reel_none_named: i18n::text_args(
            "talent-showreel-none-named",
            &[("q", reel_q.clone().into())],
        ),
        reel_q,
        reel_found,
        can_edit,
        roles: role_groups(std::slice::from_ref(&typed.role)),
        typed,
        entries: cal
            .entries
            .iter()
            .map(|e| EntryRow {
                id: e.id.to_string(),
                kind: i18n::text(&format!("talent-kind-{}", e.kind.as_str())),
                hold: e.kind == mstation_store::talent::calendar::EntryKind::Hold,
                dates: run_of(&e.starts_on, &e.ends_on),
                what: e.what.clone(),
                rank: e.rank.map_or(String::new(), |r| {
                    i18n::text_args("talent-pencil", &[("rank", r.into())])
                }),
            })
            .collect(),
        busy: cal
            .busy
            .iter()
            .map(|b| run_of(&b.starts_on, &b.ends_on))
            .collect(),
        task_days: cal
            .tasks
            .iter()
            .map(|b| run_of(&b.starts_on, &b.ends_on))
            .collect(),
        calendar_to: cal.to,
        days,
    })
}

/// A refused form of a profile's page: a profile not found stays not found; anything else
/// shows the page again saying why, with what was typed.
async fn refused(
    state: &State,
    cx: &Ctx,
    profile_id: Uuid,
    e: mstation_store::StoreError,
    typed: CreditTyped,
    days: DaysTyped,
) -> PageResult {
    let e = crate::error::ApiError::from(e);
    let status = e.status();
    if status == StatusCode::NOT_FOUND {
        return Err(e.into());
    }
    let page = profile_page(state, cx, profile_id, Some(flash_of(e)), typed, days, "").await;
    answered(page, status)
}

/// A training record as the profile page and the school's list show it.
struct TrainingRow {
    id: String,
    /// The person, for the school's list.
    name: String,
    programme: String,
    kind: String,
    department: String,
    dates: String,
    hours: String,
    school: String,
    withdrawn: bool,
}

fn training_row(t: &Training) -> TrainingRow {
    TrainingRow {
        id: t.id.to_string(),
        name: t.name.clone().unwrap_or_default(),
        programme: t.programme.clone(),
        kind: i18n::text(&format!("talent-training-kind-{}", t.kind)),
        department: t
            .department
            .as_deref()
            .map(|d| i18n::text(&format!("talent-dept-{d}")))
            .unwrap_or_default(),
        dates: match &t.starts_on {
            Some(s) => run_of(s, &t.ends_on),
            None => t.ends_on.clone(),
        },
        hours: t.hours.map(|h| h.to_string()).unwrap_or_default(),
        school: i18n::text_args(
            "talent-provenance-verified",
            &[("org", t.org_name.clone().into())],
        ),
        withdrawn: t.withdrawn_at.is_some(),
    }
}

/// What the training form held, to show again.
#[derive(Default, Clone, Deserialize)]
struct TrainingTyped {
    #[serde(default)]
    email: String,
    #[serde(default)]
    programme: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    hours: String,
}

#[derive(Template)]
#[template(path = "talent_training.html")]
struct TrainingPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    /// Whether the organisation is a school: only a school issues records.
    school: bool,
    lede: String,
    typed: TrainingTyped,
    kinds: Vec<Choice>,
    departments: Vec<Choice>,
    rows: Vec<TrainingRow>,
}

/// A school's training records: those it issued, and the form to issue one to a member.
async fn training_view(
    state: &State,
    cx: &Ctx,
    flash: Option<(String, String)>,
    typed: TrainingTyped,
) -> PageResult {
    cx.need(Permission::ManageTalent)?;
    let tenant = state.store.tenant(&cx.scope);
    let org = tenant.org().await?;
    let school = org.kind == mstation_core::OrgKind::University;
    let rows = if school {
        tenant.school_training().await?
    } else {
        Vec::new()
    };
    let mut typed = typed;
    if typed.kind.is_empty() {
        typed.kind = "course".into();
    }
    html(TrainingPage {
        tr: Tr::now(),
        nav: cx.nav("talent"),
        flash,
        csrf: cx.csrf.clone(),
        school,
        lede: i18n::text_args("talent-training-lede", &[("org", org.name.into())]),
        kinds: choices(
            training::KINDS
                .iter()
                .map(|k| (*k, i18n::text(&format!("talent-training-kind-{k}")))),
            &typed.kind,
        ),
        departments: choices(
            DEPARTMENTS
                .iter()
                .map(|d| (d.key, i18n::text(&format!("talent-dept-{}", d.key)))),
            &typed.department,
        ),
        rows: rows.iter().map(training_row).collect(),
        typed,
    })
}

async fn training_page(AxState(state): AxState<State>, MaybeSigned(c): MaybeSigned) -> PageResult {
    let cx = ctx(&state, c).await?;
    training_view(&state, &cx, None, TrainingTyped::default()).await
}

#[derive(Deserialize)]
struct TrainingForm {
    csrf: String,
    #[serde(flatten)]
    typed: TrainingTyped,
}

/// Issues a record to the member named by their e-mail address; a refusal shows the page
/// again, saying why, with what was typed.
async fn issue_training(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    axum::Form(f): axum::Form<TrainingForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    let t = &f.typed;
    let hours = match t.hours.trim() {
        "" => Ok(None),
        h => h
            .parse::<i64>()
            .map(Some)
            .map_err(|_| crate::error::ApiError::invalid("hours", "not_a_number")),
    };
    // Looked up among the organisation's own members only: whether an address has an account
    // elsewhere is never told.
    let user = match state
        .store
        .tenant(&cx.scope)
        .member_by_email(&t.email)
        .await?
    {
        Some(u) => Ok(u),
        None => Err(crate::error::ApiError::invalid("user_id", "not_a_member")),
    };
    let done = match (hours, user) {
        (Ok(hours), Ok(user_id)) => state
            .store
            .tenant(&cx.scope)
            .issue_training(&NewTraining {
                user_id,
                programme: t.programme.clone(),
                kind: t.kind.clone(),
                department: Some(t.department.clone()),
                starts_on: Some(t.starts_on.clone()),
                ends_on: t.ends_on.clone(),
                hours,
            })
            .await
            .map_err(crate::error::ApiError::from),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to("/app/talent/training").into_response()),
        Err(e) => {
            let status = e.status();
            answered(
                training_view(&state, &cx, Some(flash_of(e)), f.typed).await,
                status,
            )
        }
    }
}

#[derive(Deserialize)]
struct ShowreelForm {
    csrf: String,
    #[serde(default)]
    media_id: String,
    #[serde(default)]
    note: String,
}

/// Gives the profile its reel; a refusal shows the profile again saying why.
async fn set_showreel(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    axum::Form(f): axum::Form<ShowreelForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    let done = match f.media_id.trim().parse::<Uuid>() {
        Ok(media_id) => state
            .store
            .tenant(&cx.scope)
            .set_showreel(
                profile_id,
                &mstation_store::talent::showreel::ShowreelInput {
                    media_id,
                    note: f.note.clone(),
                },
            )
            .await
            .map(|_| ()),
        Err(_) if f.media_id.trim().is_empty() => {
            Err(FieldError::new("media_id", "required").into())
        }
        Err(_) => Err(FieldError::new("media_id", "not_a_media_file").into()),
    };
    match done {
        Ok(()) => {
            state.index_profiles(&[profile_id]).await;
            Ok(
                Redirect::to(&format!("/app/talent/profiles/{profile_id}#showreel"))
                    .into_response(),
            )
        }
        Err(e) => {
            refused(
                &state,
                &cx,
                profile_id,
                e,
                CreditTyped::default(),
                DaysTyped::default(),
            )
            .await
        }
    }
}

async fn remove_showreel(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    state
        .store
        .tenant(&cx.scope)
        .remove_showreel(profile_id)
        .await?;
    state.index_profiles(&[profile_id]).await;
    Ok(Redirect::to(&format!("/app/talent/profiles/{profile_id}#showreel")).into_response())
}

async fn withdraw_training(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(training_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    state
        .store
        .tenant(&cx.scope)
        .withdraw_training(training_id)
        .await?;
    Ok(Redirect::to("/app/talent/training").into_response())
}

/// The profile's credits, verified and written, the latest year first.
fn credit_rows(p: &Profile) -> Vec<CreditRow> {
    let year_of = |d: Option<&String>| d.and_then(|d| d.get(..4)?.parse::<i64>().ok());
    let mut rows: Vec<CreditRow> = p
        .verified
        .iter()
        .map(|w| CreditRow {
            id: w.id.to_string(),
            title: w.title.clone(),
            // The production's task types; a default step in the reader's language.
            role: w
                .work
                .iter()
                .map(|n| super::tracking::step_named(n))
                .collect::<Vec<_>>()
                .join(", "),
            company: w.org_name.clone(),
            year: year_of(w.ends_on.as_ref())
                .or_else(|| year_of(w.starts_on.as_ref()))
                .unwrap_or_else(|| year_of(Some(&w.created_at.rfc3339())).unwrap_or_default()),
            dates: match (&w.starts_on, &w.ends_on) {
                (Some(s), Some(e)) if s != e => format!("{s} – {e}"),
                (Some(d), _) | (None, Some(d)) => d.clone(),
                (None, None) => String::new(),
            },
            provenance: i18n::text_args(
                "talent-provenance-verified",
                &[("org", w.org_name.clone().into())],
            ),
            verified: true,
        })
        .collect();
    rows.extend(p.credits.iter().map(|c| CreditRow {
        id: c.id.to_string(),
        title: c.title.clone(),
        role: role_name(&c.role),
        company: c.company.clone(),
        year: c.year,
        dates: String::new(),
        provenance: i18n::text(&format!("talent-provenance-{}", c.provenance.as_str())),
        verified: false,
    }));
    rows.sort_by_key(|r| std::cmp::Reverse(r.year));
    rows
}

/// What the profile page was asked: a keeper looking for an older video to make the reel.
#[derive(Default, Deserialize)]
struct ProfileQuery {
    #[serde(default)]
    reel_q: String,
}

async fn profile(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    Query(q): Query<ProfileQuery>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    profile_page(
        &state,
        &cx,
        profile_id,
        None,
        CreditTyped::default(),
        DaysTyped::default(),
        &q.reel_q,
    )
    .await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn delete(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    state
        .store
        .tenant(&cx.scope)
        .delete_profile(profile_id)
        .await?;
    state.index_profiles(&[profile_id]).await;
    Ok(Redirect::to("/app/talent").into_response())
}

async fn withdraw_credit(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((project_id, credit_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageProduction)?;
    state
        .store
        .tenant(&cx.scope)
        .withdraw_work_credit(project_id, credit_id)
        .await?;
    Ok(Redirect::to(&format!("/app/projects/{project_id}")).into_response())
}

#[derive(Deserialize)]
struct CreditForm {
    csrf: String,
    #[serde(flatten)]
    typed: CreditTyped,
}

async fn add_credit(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    axum::Form(f): axum::Form<CreditForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    let t = &f.typed;
    let input = NewCredit {
        title: t.title.clone(),
        role: t.role.clone(),
        company: t.company.clone(),
        year: t.year.trim().parse().unwrap_or(0),
    };
    match state
        .store
        .tenant(&cx.scope)
        .add_credit(profile_id, input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/talent/profiles/{profile_id}")).into_response()),
        Err(e) => refused(&state, &cx, profile_id, e, f.typed, DaysTyped::default()).await,
    }
}

async fn delete_credit(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((profile_id, credit_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    state
        .store
        .tenant(&cx.scope)
        .delete_credit(profile_id, credit_id)
        .await?;
    Ok(Redirect::to(&format!("/app/talent/profiles/{profile_id}")).into_response())
}

/// Credits the crew of one of the organisation's wrapped projects (`Tenant::credit_crew`).
async fn credit_crew(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageProduction)?;
    match state.store.tenant(&cx.scope).credit_crew(project_id).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/projects/{project_id}")).into_response()),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let status = e.status();
            if status == StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            answered(
                super::tracking::project_page(&state, &cx, project_id, Some(flash_of(e))).await,
                status,
            )
        }
    }
}

#[derive(Deserialize)]
struct DaysForm {
    csrf: String,
    #[serde(flatten)]
    typed: DaysTyped,
}

/// Pencils, books or keeps free a run of days (`Tenant::add_entry`).
async fn add_entry(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(profile_id): Path<Uuid>,
    axum::Form(f): axum::Form<DaysForm>,
) -> PageResult {
    use mstation_store::talent::calendar::{EntryKind, NewEntry};
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    let t = &f.typed;
    let Some(kind) = EntryKind::parse(&t.kind) else {
        let e = mstation_store::StoreError::from(mstation_core::validate::FieldError::new(
            "kind",
            "not_one_of_the_choices",
        ));
        return refused(&state, &cx, profile_id, e, CreditTyped::default(), f.typed).await;
    };
    let new = NewEntry {
        kind,
        starts_on: t.starts_on.trim().to_string(),
        ends_on: if t.ends_on.trim().is_empty() {
            t.starts_on.trim().to_string()
        } else {
            t.ends_on.trim().to_string()
        },
        what: t.what.clone(),
    };
    match state
        .store
        .tenant(&cx.scope)
        .add_entry(profile_id, new)
        .await
    {
        Ok(_) => Ok(to_availability(profile_id)),
        Err(e) => refused(&state, &cx, profile_id, e, CreditTyped::default(), f.typed).await,
    }
}

/// Back to the profile's availability.
fn to_availability(profile_id: Uuid) -> axum::response::Response {
    Redirect::to(&format!("/app/talent/profiles/{profile_id}#availability")).into_response()
}

async fn confirm_entry(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((profile_id, entry_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    match state
        .store
        .tenant(&cx.scope)
        .confirm_entry(profile_id, entry_id)
        .await
    {
        Ok(_) => Ok(to_availability(profile_id)),
        Err(e) => {
            refused(
                &state,
                &cx,
                profile_id,
                e,
                CreditTyped::default(),
                DaysTyped::default(),
            )
            .await
        }
    }
}

async fn delete_entry(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path((profile_id, entry_id)): Path<(Uuid, Uuid)>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    cx.need(Permission::ManageTalent)?;
    state
        .store
        .tenant(&cx.scope)
        .delete_entry(profile_id, entry_id)
        .await?;
    Ok(to_availability(profile_id))
}
