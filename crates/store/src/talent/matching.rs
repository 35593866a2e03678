//! Matching people to work: the profiles a hirer may find, ranked by how well each fits a
//! crew role, skills, languages, a place, a run of days and a day rate, with every reason
//! for its rank shown (what fits and what does not, and the points each gave).
//!
//! - The role decides who is considered: people with a role of the wanted role's department
//!   (the wanted role itself ranks first), or, with no role asked for, people whose words hold
//!   one of the wanted skills. They are found, and weighed for all that does not change by the
//!   day, in the talent index held in memory (`TalentIndex::candidates`); the database is read
//!   only for those who may still reach the best: the most promising first, a batch at a time,
//!   until nobody left could reach the last place listed with every day free and every credit.
//! - Days are read as the hirer may see them: busy for another organisation's profile (a
//!   pencil hold, a booking, a day off, a task of the keeping organisation alike), with the
//!   pencils told apart only for the keeper of the profile. What the days are taken by is never
//!   said.
//! - Rates are compared in one currency; a rate in another is said to be so, never converted.
//! - Every reason carries its points; the score is the points as a share of the most a person
//!   could have had for what was asked.

use std::collections::HashMap;

use mstation_core::Permission;
use mstation_core::ledger::Currency;
use mstation_core::market::{valid_date, valid_territory};
use mstation_core::talent::{self, LANGUAGES};
use mstation_core::validate::FieldError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::calendar::{EntryKind, days_between};
use super::index::{Facts, TalentIndex, same_word};
use super::{Profile, profile_cols};
use crate::{Arg, Result, Tenant};

/// The most people a match lists.
pub const MOST_MATCHES: usize = 50;

/// The most candidates whose days and credits one read of the database takes (the first
/// reads take fewer: four times the places listed, at least 20, then twice as many each
/// time).
const BATCH: usize = 400;

/// What a hirer looks for, as asked (checked by `match_people`).
#[derive(Debug, Clone, Default)]
pub struct Want {
    /// A crew-role key of the taxonomy.
    pub role: Option<String>,
    pub skills: Vec<String>,
    /// ISO 639 codes.
    pub languages: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// The days the work takes, `YYYY-MM-DD`, inclusive.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// The most a day may cost, as a person writes it (`2500`), in `currency`.
    pub max_rate: Option<String>,
    pub currency: Option<String>,
    /// 1 to `MOST_MATCHES`; 10 unless said.
    pub limit: Option<usize>,
}

/// One reason a person ranks where they do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reason {
    /// What it says: `role.main`, `role.other`, `role.department`; `skills.has`,
    /// `skills.lacks`; `languages.speaks`, `languages.lacks`; `country.same`, `country.other`;
    /// `days.free`, `days.pencilled`, `days.partly_busy`, `days.busy`; `rate.within`,
    /// `rate.over`, `rate.other_currency`, `rate.unknown`; `credits.verified`,
    /// `credits.in_role`.
    pub code: String,
    /// Whether it counts for the person.
    pub fits: bool,
    /// What it added to (or took from) their points.
    pub points: i64,
    /// What it names: the role; the skills or languages; the days (busy or pencilled, of how
    /// many); the day rate in minor units and its currency, and how far over in per cent; how
    /// many credits.
    pub values: Vec<String>,
}

/// A person who fits, with why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Match {
    /// As the directory lists it (without credits, birth date or e-mail address).
    pub profile: Profile,
    /// 0 to 100: the points as a share of the most anyone could have had.
    pub score: i64,
    pub points: i64,
    /// What fits first, then what does not.
    pub reasons: Vec<Reason>,
}

/// The people who fit best, and how many were weighed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Matches {
    /// Best first.
    pub items: Vec<Match>,
    /// How many profiles were weighed (everyone the role or the skills let in).
    pub considered: usize,
    /// The most points anyone could have had for what was asked.
    pub most_points: i64,
}

/// The points each part of a fit gives.
mod weight {
    pub const MAIN_ROLE: i64 = 40;
    pub const OTHER_ROLE: i64 = 30;
    pub const SAME_DEPARTMENT: i64 = 10;
    pub const SKILLS: i64 = 30;
    pub const LANGUAGES: i64 = 10;
    pub const COUNTRY: i64 = 5;
    pub const DAYS: i64 = 20;
    pub const PENCILLED: i64 = 12;
    pub const ALL_BUSY: i64 = -10;
    pub const RATE: i64 = 10;
    pub const RATE_UNKNOWN: i64 = 4;
    pub const RATE_OTHER_CURRENCY: i64 = 2;
    pub const MOST_OVER: i64 = 20;
    pub const PER_VERIFIED: i64 = 2;
    pub const MOST_VERIFIED: i64 = 6;
    pub const PER_CREDIT_IN_ROLE: i64 = 1;
    pub const MOST_IN_ROLE: i64 = 3;
}

/// A want, checked.
struct Checked {
    role: Option<&'static str>,
    skills: Vec<String>,
    languages: Vec<String>,
    country: Option<String>,
    days: Option<(String, String, usize)>,
    rate: Option<(i64, Currency)>,
    limit: usize,
}

impl Want {
    /// Refuses a want that cannot be matched, naming its field (`match_people` checks it too).
    pub fn check(&self) -> Result<()> {
        check(self).map(|_| ())
    }
}

fn check(want: &Want) -> Result<Checked> {
    let role = match want
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(r) => Some(
            talent::all_roles()
                .find(|k| *k == r)
                .ok_or_else(|| FieldError::new("role", "not_a_crew_role"))?,
        ),
        None => None,
    };
    let skills: Vec<String> = talent::tags("skills", &want.skills, 20)?;
    if role.is_none() && skills.is_empty() {
        return Err(FieldError::new("role", "required").into());
    }
    let mut languages: Vec<String> = Vec::new();
    for l in &want.languages {
        let l = l.trim().to_lowercase();
        if l.is_empty() {
            continue;
        }
        if !LANGUAGES.contains(&l.as_str()) {
            return Err(FieldError::new("languages", "not_a_language").into());
        }
        if !languages.contains(&l) {
            languages.push(l);
        }
    }
    let country = match want
        .country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => {
            let c = c.to_uppercase();
            if c == "WORLD" || !valid_territory(&c) {
                return Err(FieldError::new("country", "not_a_country").into());
            }
            Some(c)
        }
        None => None,
    };
    let starts = want
        .starts_on
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let ends = want
        .ends_on
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let days = match (starts, ends) {
        (None, None) => None,
        (Some(_), None) => return Err(FieldError::new("ends_on", "required").into()),
        (None, Some(_)) => return Err(FieldError::new("starts_on", "required").into()),
        (Some(s), Some(e)) => {
            if !valid_date(s) {
                return Err(FieldError::new("starts_on", "not_a_date").into());
            }
            if !valid_date(e) {
                return Err(FieldError::new("ends_on", "not_a_date").into());
            }
            match days_between(s, e) {
                Some(d) if d < 0 => return Err(FieldError::new("ends_on", "before_start").into()),
                Some(d) if d >= 400 => return Err(FieldError::new("ends_on", "too_long").into()),
                Some(d) => Some((s.to_string(), e.to_string(), d as usize + 1)),
                None => return Err(FieldError::new("ends_on", "not_a_date").into()),
            }
        }
    };
    let typed = want
        .max_rate
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let rate = match (typed, want.currency.as_deref().map(str::trim)) {
        (None, _) => None,
        (Some(_), None | Some("")) => return Err(FieldError::new("currency", "required").into()),
        (Some(r), Some(c)) => {
            let currency =
                Currency::parse(c).ok_or_else(|| FieldError::new("currency", "not_a_currency"))?;
            let amount = currency
                .parse_amount(r)
                .ok_or_else(|| FieldError::new("max_rate", "not_an_amount"))?;
            if amount <= 0 {
                return Err(FieldError::new("max_rate", "must_be_positive").into());
            }
            Some((amount, currency))
        }
    };
    let limit = want.limit.unwrap_or(10);
    if !(1..=MOST_MATCHES).contains(&limit) {
        return Err(FieldError::new("limit", "out_of_range").into());
    }
    Ok(Checked {
        role,
        skills,
        languages,
        country,
        days,
        rate,
        limit,
    })
}

/// What a person's days say of the days wanted: how many are busy, how many only pencilled.
#[derive(Debug, Default, Clone, Copy)]
struct Days {
    busy: usize,
    pencilled: usize,
}

/// Marks the days of `runs` (inclusive, `YYYY-MM-DD`) within the `n` days from `from`.
fn mark(taken: &mut [bool], from: &str, runs: &[(String, String)]) {
    let n = taken.len() as i64;
    for (s, e) in runs {
        let (Some(a), Some(b)) = (days_between(from, s), days_between(from, e)) else {
            continue;
        };
        for d in a.max(0)..=b.min(n - 1) {
            taken[d as usize] = true;
        }
    }
}

/// What `weigh` reads of a person: a profile as kept, or as the talent index holds it.
struct Person<'a> {
    roles: &'a [String],
    skills: &'a [String],
    languages: &'a [String],
    country: &'a str,
    day_rate: Option<i64>,
    currency: Option<&'a str>,
}

impl<'a> From<&'a Profile> for Person<'a> {
    fn from(p: &'a Profile) -> Person<'a> {
        Person {
            roles: &p.roles,
            skills: &p.skills,
            languages: &p.languages,
            country: &p.country,
            day_rate: p.day_rate,
            currency: p.currency.as_deref(),
        }
    }
}

impl<'a> From<&'a Facts> for Person<'a> {
    fn from(f: &'a Facts) -> Person<'a> {
        Person {
            roles: &f.roles,
            skills: &f.skills,
            languages: &f.languages,
            country: &f.country,
            day_rate: f.day_rate,
            currency: f.currency.as_deref(),
        }
    }
}

/// What one part of a fit says: its code, its points, and (asked for only when the reasons
/// are kept) what it names.
type Say<'s> = dyn FnMut(&'static str, i64, &dyn Fn() -> Vec<String>) + 's;

/// The points and reasons of one person for what was asked (without `days`, and with no
/// credits, what does not change by the day alone).
fn weigh<'a>(
    want: &Checked,
    p: impl Into<Person<'a>>,
    days: Option<Days>,
    verified: i64,
    in_role: i64,
) -> (i64, Vec<Reason>) {
    let mut reasons = Vec::new();
    weigh_each(
        want,
        &p.into(),
        days,
        verified,
        in_role,
        &mut |code, points, values| {
            reasons.push(Reason {
                code: code.to_string(),
                // A rate not stated, or in another currency, is not known to fit.
                fits: points > 0 && !matches!(code, "rate.unknown" | "rate.other_currency"),
                points,
                values: values(),
            });
        },
    );
    let points = reasons.iter().map(|r| r.points).sum();
    // What fits first, the most telling first; then what does not.
    reasons.sort_by_key(|r| (!r.fits, -r.points.abs()));
    (points, reasons)
}

/// The points of one person for all that was asked but their days and credits, naming
/// nothing: the first pass over every candidate.
fn points_before_the_day(want: &Checked, p: &Person<'_>) -> i64 {
    let mut sum = 0;
    weigh_each(want, p, None, 0, 0, &mut |_, points, _| sum += points);
    sum
}

/// Tells `say` each part of the fit of one person, with its points.
fn weigh_each(
    want: &Checked,
    p: &Person<'_>,
    days: Option<Days>,
    verified: i64,
    in_role: i64,
    say: &mut Say<'_>,
) {
    if let Some(role) = want.role {
        let named = || vec![role.to_string()];
        if p.roles.first().is_some_and(|r| r == role) {
            say("role.main", weight::MAIN_ROLE, &named);
        } else if p.roles.iter().any(|r| r == role) {
            say("role.other", weight::OTHER_ROLE, &named);
        } else {
            say("role.department", weight::SAME_DEPARTMENT, &|| {
                vec![p.roles.first().cloned().unwrap_or_default()]
            });
        }
    }
    if !want.skills.is_empty() {
        // Compared in any case; what they have named as they wrote it, what they lack as
        // the hirer did.
        let theirs = |s: &String| p.skills.iter().find(|t| same_word(t, s));
        let has = want.skills.iter().filter(|s| theirs(s).is_some()).count();
        if has > 0 {
            let points = weight::SKILLS * has as i64 / want.skills.len() as i64;
            say("skills.has", points.max(1), &|| {
                want.skills
                    .iter()
                    .filter_map(|s| theirs(s).cloned())
                    .collect()
            });
        }
        if has < want.skills.len() {
            say("skills.lacks", 0, &|| {
                want.skills
                    .iter()
                    .filter(|s| theirs(s).is_none())
                    .cloned()
                    .collect()
            });
        }
    }
    if !want.languages.is_empty() {
        let speaks = |l: &&String| p.languages.contains(l);
        let n = want.languages.iter().filter(speaks).count();
        if n > 0 {
            let points = weight::LANGUAGES * n as i64 / want.languages.len() as i64;
            say("languages.speaks", points.max(1), &|| {
                want.languages.iter().filter(speaks).cloned().collect()
            });
        }
        if n < want.languages.len() {
            say("languages.lacks", 0, &|| {
                want.languages
                    .iter()
                    .filter(|l| !speaks(l))
                    .cloned()
                    .collect()
            });
        }
    }
    if let Some(c) = &want.country {
        if p.country == c {
            say("country.same", weight::COUNTRY, &|| vec![c.clone()]);
        } else {
            say("country.other", 0, &|| vec![p.country.to_string()]);
        }
    }
    if let (Some((_, _, n)), Some(d)) = (&want.days, days) {
        let n = *n;
        // A free day counts whole, a pencilled one in part, a busy one not at all.
        let free = n.saturating_sub(d.busy + d.pencilled) as i64;
        let points =
            (weight::DAYS * free + weight::PENCILLED * d.pencilled as i64) / n.max(1) as i64;
        if d.busy == 0 && d.pencilled == 0 {
            say("days.free", weight::DAYS, &|| vec![n.to_string()]);
        } else if d.busy >= n {
            say("days.busy", weight::ALL_BUSY, &|| vec![n.to_string()]);
        } else if d.busy == 0 {
            say("days.pencilled", points, &|| {
                vec![d.pencilled.to_string(), n.to_string()]
            });
        } else {
            say("days.partly_busy", points, &|| {
                vec![d.busy.to_string(), n.to_string()]
            });
        }
    }
    if let Some((most, currency)) = &want.rate {
        match (p.day_rate, p.currency) {
            (Some(rate), Some(c)) if c == currency.as_str() => {
                if rate <= *most {
                    say("rate.within", weight::RATE, &|| {
                        vec![rate.to_string(), c.to_string()]
                    });
                } else {
                    let over = (rate - most).saturating_mul(100) / most;
                    let points = -(over / 5).clamp(1, weight::MOST_OVER);
                    say("rate.over", points, &|| {
                        vec![rate.to_string(), c.to_string(), over.to_string()]
                    });
                }
            }
            (Some(rate), Some(c)) => {
                say("rate.other_currency", weight::RATE_OTHER_CURRENCY, &|| {
                    vec![rate.to_string(), c.to_string()]
                })
            }
            _ => say("rate.unknown", weight::RATE_UNKNOWN, &Vec::new),
        }
    }
    if verified > 0 {
        say(
            "credits.verified",
            (verified * weight::PER_VERIFIED).min(weight::MOST_VERIFIED),
            &|| vec![verified.to_string()],
        );
    }
    if in_role > 0 {
        say(
            "credits.in_role",
            (in_role * weight::PER_CREDIT_IN_ROLE).min(weight::MOST_IN_ROLE),
            &|| vec![in_role.to_string()],
        );
    }
}

/// The most points a person's days and credits can add to what the rest of them gives.
fn most_by_the_day(want: &Checked) -> i64 {
    let mut most = weight::MOST_VERIFIED;
    if want.role.is_some() {
        most += weight::MOST_IN_ROLE;
    }
    if want.days.is_some() {
        most += weight::DAYS;
    }
    most
}

/// The most points anyone could have had for `want`.
fn most_points(want: &Checked) -> i64 {
    let mut most = weight::MOST_VERIFIED;
    if want.role.is_some() {
        most += weight::MAIN_ROLE + weight::MOST_IN_ROLE;
    }
    if !want.skills.is_empty() {
        most += weight::SKILLS;
    }
    if !want.languages.is_empty() {
        most += weight::LANGUAGES;
    }
    if want.country.is_some() {
        most += weight::COUNTRY;
    }
    if want.days.is_some() {
        most += weight::DAYS;
    }
    if want.rate.is_some() {
        most += weight::RATE;
    }
    most
}

/// What a day of a person costs in the wanted currency, for ordering those of equal points:
/// the cheaper first, a rate not stated or in another currency last.
fn cost(want: &Checked, day_rate: Option<i64>, currency: Option<&str>) -> i64 {
    match (&want.rate, day_rate, currency) {
        (Some((_, c)), Some(r), Some(cur)) if c.as_str() == cur => r,
        _ => i64::MAX,
    }
}

impl Tenant<'_> {
    /// The people the organisation may find (the platform's profiles and its own) who fit
    /// `want` best, each with the reasons for their rank. `index` finds the candidates (this
    /// server's talent index, built and kept up to date); what is listed is read from the
    /// database as it is now.
    pub async fn match_people(&self, want: &Want, index: &TalentIndex) -> Result<Matches> {
        let want = check(want)?;
        let org = self.org_id();
        // Who is considered: the wanted role's department, or the wanted skills' words; each
        // weighed at once for all but their days and credits.
        let roles: &[&str] = match want.role {
            Some(role) => {
                let department = talent::department_of(role).unwrap_or_default();
                talent::DEPARTMENTS
                    .iter()
                    .find(|d| d.key == department)
                    .map(|d| d.roles)
                    .unwrap_or_default()
            }
            None => &[],
        };
        let mut weighed: Vec<(i64, i64, Uuid)> = Vec::new();
        index.candidates(org, roles, &want.skills, |f| {
            let points = points_before_the_day(&want, &f.into());
            weighed.push((points, cost(&want, f.day_rate, f.currency.as_deref()), f.id));
        });
        let considered = weighed.len();
        // The most promising first, in the order the listing breaks ties.
        weighed.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let more = most_by_the_day(&want);
        let most = most_points(&want);
        let mut ranked: Vec<Match> = Vec::new();
        let mut at = 0;
        let mut size = (want.limit * 4).max(20);
        while at < weighed.len() {
            // Nobody left can reach the last place: stop.
            if ranked.len() >= want.limit && weighed[at].0 + more < ranked[want.limit - 1].points {
                break;
            }
            let batch: Vec<Uuid> = weighed[at..(at + size).min(weighed.len())]
                .iter()
                .map(|w| w.2)
                .collect();
            at += batch.len();
            size = (size * 2).min(BATCH);
            for m in self.weigh_batch(&want, &batch, most).await? {
                ranked.push(m);
            }
            // Best first; of equal points, the cheaper in the wanted currency, then the older
            // profile (a stable order).
            ranked.sort_by(|a, b| {
                b.points
                    .cmp(&a.points)
                    .then_with(|| {
                        let c = |m: &Match| {
                            cost(&want, m.profile.day_rate, m.profile.currency.as_deref())
                        };
                        c(a).cmp(&c(b))
                    })
                    .then_with(|| a.profile.id.cmp(&b.profile.id))
            });
            ranked.truncate(want.limit);
        }
        Ok(Matches {
            items: ranked,
            considered,
            most_points: most,
        })
    }

    /// The people `ids` as they are now (those the organisation may still find), weighed whole:
    /// with their days and credits.
    async fn weigh_batch(&self, want: &Checked, ids: &[Uuid], most: i64) -> Result<Vec<Match>> {
        let org = self.org_id();
        let mut args: Vec<Arg> = vec![org.into()];
        let mut marks = Vec::with_capacity(ids.len());
        for id in ids {
            args.push((*id).into());
            marks.push(format!("${}", args.len()));
        }
        let filter = format!(
            "(p.org_id = $1 OR p.visibility = 'platform') AND p.id IN ({})",
            marks.join(", ")
        );
        // The account is read for the days its tasks take, and kept from the caller below
        // unless the caller keeps the profile.
        let people: Vec<Profile> = self
            .read(
                &format!(
                    "SELECT {} FROM talent_profiles p WHERE {filter}",
                    profile_cols("p.user_id", "NULL, NULL")
                ),
                &args,
            )
            .await?;
        // Verified credits (of the person linked) and credits in the role, by profile.
        let verified: HashMap<Uuid, i64> = self
            .read::<(Uuid, i64)>(
                &format!(
                    "SELECT p.id, CAST(COUNT(*) AS BIGINT) FROM talent_profiles p JOIN talent_work_credits w ON w.user_id = p.user_id
                     WHERE {filter} AND w.withdrawn_at IS NULL GROUP BY p.id"
                ),
                &args,
            )
            .await?
            .into_iter()
            .collect();
        let in_role: HashMap<Uuid, i64> = match want.role {
            Some(role) => {
                let mut with_role = args.clone();
                with_role.push(role.into());
                let n = with_role.len();
                self.read::<(Uuid, i64)>(
                    &format!(
                        "SELECT p.id, CAST(COUNT(*) AS BIGINT) FROM talent_profiles p JOIN talent_credits c ON c.profile_id = p.id AND c.org_id = p.org_id
                         WHERE {filter} AND c.role = ${n} GROUP BY p.id"
                    ),
                    &with_role,
                )
                .await?
                .into_iter()
                .collect()
            }
            None => HashMap::new(),
        };
        let days = match &want.days {
            Some((from, to, n)) => Some(self.days_of(&people, &filter, &args, from, to, *n).await?),
            None => None,
        };
        Ok(people
            .into_iter()
            .map(|mut p| {
                p.own = p.org_id == org;
                let d = days
                    .as_ref()
                    .map(|d| d.get(&p.id).copied().unwrap_or_default());
                let v = verified.get(&p.id).copied().unwrap_or(0);
                let r = in_role.get(&p.id).copied().unwrap_or(0);
                let (points, reasons) = weigh(want, &p, d, v, r);
                if !p.own {
                    p.user_id = None;
                }
                Match {
                    score: (points.max(0) * 100 / most.max(1)).min(100),
                    points,
                    reasons,
                    profile: p,
                }
            })
            .collect())
    }

    /// Each considered person's busy and pencilled days among the `n` from `from` to `to`:
    /// their calendar's entries and their tasks in the keeping organisation. Pencils are told
    /// apart from busy days for the keeper of the profile only.
    async fn days_of(
        &self,
        people: &[Profile],
        filter: &str,
        args: &[Arg],
        from: &str,
        to: &str,
        n: usize,
    ) -> Result<HashMap<Uuid, Days>> {
        let org = self.org_id();
        let keeps = self.scope().can(Permission::ManageTalent);
        let mut with_days = args.to_vec();
        with_days.push(from.into());
        with_days.push(to.into());
        let (f, t) = (with_days.len() - 1, with_days.len());
        let entries: Vec<(Uuid, String, String, String)> = self
            .read(
                &format!(
                    "SELECT c.profile_id, c.kind, c.starts_on, c.ends_on FROM talent_calendar c JOIN talent_profiles p ON p.id = c.profile_id AND p.org_id = c.org_id
                     WHERE {filter} AND c.ends_on >= ${f} AND c.starts_on <= ${t}"
                ),
                &with_days,
            )
            .await?;
        let linked: Vec<(Uuid, Uuid)> = people
            .iter()
            .filter_map(|p| p.user_id.map(|u| (p.org_id, u)))
            .collect();
        let tasks =
            crate::tracking::crew::people_task_days(&self.platform(), &linked, from, to).await?;
        let mut busy: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
        let mut pencils: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
        let person_of: HashMap<(Uuid, Uuid), Uuid> = people
            .iter()
            .filter_map(|p| p.user_id.map(|u| ((p.org_id, u), p.id)))
            .collect();
        let kept: HashMap<Uuid, bool> = people
            .iter()
            .map(|p| (p.id, keeps && p.org_id == org))
            .collect();
        for (id, kind, s, e) in entries {
            let pencil = EntryKind::parse(&kind) == Some(EntryKind::Hold)
                && kept.get(&id).copied().unwrap_or(false);
            let runs = if pencil { &mut pencils } else { &mut busy };
            runs.entry(id).or_default().push((s, e));
        }
        for (o, u, s, e) in tasks {
            if let Some(id) = person_of.get(&(o, u)) {
                busy.entry(*id).or_default().push((s, e));
            }
        }
        let mut out = HashMap::new();
        for p in people {
            let (b, h) = (busy.get(&p.id), pencils.get(&p.id));
            if b.is_none() && h.is_none() {
                continue;
            }
            let mut taken = vec![false; n];
            mark(&mut taken, from, b.map(Vec::as_slice).unwrap_or_default());
            let mut held = vec![false; n];
            mark(&mut held, from, h.map(Vec::as_slice).unwrap_or_default());
            out.insert(
                p.id,
                Days {
                    busy: taken.iter().filter(|d| **d).count(),
                    pencilled: held.iter().zip(&taken).filter(|(h, t)| **h && !**t).count(),
                },
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(roles: &[&str], skills: &[&str], rate: Option<(i64, &str)>) -> Profile {
        Profile {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            org_name: String::new(),
            user_id: None,
            name: "Someone".into(),
            headline: String::new(),
            bio: String::new(),
            department: String::new(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            languages: vec!["zh".into()],
            city: String::new(),
            country: "CN".into(),
            day_rate: rate.map(|r| r.0),
            currency: rate.map(|r| r.1.to_string()),
            visibility: mstation_core::talent::Visibility::Platform,
            birth_date: None,
            email: None,
            own: false,
            created_at: crate::Millis(0),
            updated_at: crate::Millis(0),
            version: 1,
            credits: Vec::new(),
            verified: Vec::new(),
            training: Vec::new(),
            showreel: None,
        }
    }

    fn want() -> Checked {
        check(&Want {
            role: Some("compositor".into()),
            skills: vec!["Nuke".into(), "Houdini".into()],
            languages: vec!["zh".into()],
            starts_on: Some("2027-01-04".into()),
            ends_on: Some("2027-01-13".into()),
            max_rate: Some("2000".into()),
            currency: Some("CNY".into()),
            ..Want::default()
        })
        .unwrap()
    }

    #[test]
    fn a_whole_fit_outranks_every_partial_one_and_says_why() {
        let w = want();
        let free = Some(Days::default());
        let (best, why) = weigh(
            &w,
            &person(
                &["compositor"],
                &["nuke", "Houdini"],
                Some((180_000, "CNY")),
            ),
            free,
            0,
            0,
        );
        let codes: Vec<&str> = why.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "role.main",
                "skills.has",
                "days.free",
                "languages.speaks",
                "rate.within"
            ]
        );
        assert_eq!(
            why[1].values,
            ["nuke", "Houdini"],
            "named as they wrote them"
        );
        for (other, days) in [
            // Another role of the department, a skill short, booked half the days, dear.
            (
                person(
                    &["roto_artist"],
                    &["Nuke", "Houdini"],
                    Some((180_000, "CNY")),
                ),
                free,
            ),
            (
                person(&["compositor"], &["Nuke"], Some((180_000, "CNY"))),
                free,
            ),
            (
                person(
                    &["compositor"],
                    &["Nuke", "Houdini"],
                    Some((180_000, "CNY")),
                ),
                Some(Days {
                    busy: 5,
                    pencilled: 0,
                }),
            ),
            (
                person(
                    &["compositor"],
                    &["Nuke", "Houdini"],
                    Some((300_000, "CNY")),
                ),
                free,
            ),
        ] {
            let (points, _) = weigh(&w, &other, days, 3, 3);
            assert!(points < best, "{points} ≥ {best} for {other:?}");
        }
        assert_eq!(most_points(&w), 40 + 3 + 30 + 10 + 20 + 10 + 6);
    }

    #[test]
    fn the_first_pass_counts_the_points_the_reasons_give() {
        let w = want();
        for p in [
            person(
                &["compositor"],
                &["NUKE", "houdini"],
                Some((180_000, "CNY")),
            ),
            person(
                &["roto_artist", "compositor"],
                &["Flame"],
                Some((300_000, "CNY")),
            ),
            person(&["fx_artist"], &[], Some((30_000, "USD"))),
            person(&[], &["Nuke"], None),
        ] {
            let (points, _) = weigh(&w, &p, None, 0, 0);
            assert_eq!(points_before_the_day(&w, &(&p).into()), points, "{p:?}");
        }
        assert!(same_word("Nuke", "nUKE") && !same_word("Straße", "STRASSE"));
        assert!(same_word("ÉCLAIR", "éclair"));
    }

    #[test]
    fn days_and_credits_add_no_more_than_the_first_pass_allows() {
        // The reading stops when a candidate's first-pass points and the most their days and
        // credits can add cannot reach the last place: that most must bound every person.
        let by_skills = check(&Want {
            skills: vec!["Nuke".into()],
            languages: vec!["zh".into()],
            max_rate: Some("1000".into()),
            currency: Some("CNY".into()),
            ..Want::default()
        })
        .unwrap();
        let no_days = check(&Want {
            role: Some("compositor".into()),
            ..Want::default()
        })
        .unwrap();
        let people = [
            person(
                &["compositor"],
                &["Nuke", "Houdini"],
                Some((180_000, "CNY")),
            ),
            person(
                &["roto_artist", "compositor"],
                &["Flame"],
                Some((900_000, "CNY")),
            ),
            person(&["fx_artist"], &["nuke"], Some((30_000, "USD"))),
            person(&[], &[], None),
        ];
        for w in [want(), by_skills, no_days] {
            let most = most_by_the_day(&w);
            let least = if w.days.is_some() {
                weight::ALL_BUSY
            } else {
                0
            };
            for p in &people {
                let first = points_before_the_day(&w, &p.into());
                for busy in 0..=11 {
                    for pencilled in 0..=(11 - busy) {
                        for verified in 0..=4 {
                            for in_role in 0..=4 {
                                let in_role = if w.role.is_some() { in_role } else { 0 };
                                let days = w.days.as_ref().map(|_| Days { busy, pencilled });
                                let (whole, _) = weigh(&w, p, days, verified, in_role);
                                assert!(
                                    (first + least..=first + most).contains(&whole),
                                    "{whole} outside {first} + {least}..={most} for {p:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn days_rates_and_credits_each_give_their_reason() {
        let w = want();
        let p = person(
            &["roto_artist", "compositor"],
            &["Flame"],
            Some((300_000, "CNY")),
        );
        let (_, why) = weigh(
            &w,
            &p,
            Some(Days {
                busy: 10,
                pencilled: 0,
            }),
            4,
            1,
        );
        let find = |c: &str| why.iter().find(|r| r.code == c).cloned().unwrap();
        assert_eq!(find("role.other").points, 30);
        assert_eq!(
            find("skills.lacks").values,
            ["Nuke", "Houdini"],
            "as the hirer wrote them"
        );
        assert_eq!(
            (find("days.busy").points, find("days.busy").values.clone()),
            (-10, vec!["10".to_string()])
        );
        let over = find("rate.over");
        assert_eq!(
            (over.points, over.values.clone()),
            (-10, vec!["300000".into(), "CNY".into(), "50".into()])
        );
        assert_eq!(find("credits.verified").points, 6, "at most three count");
        assert!(!why.last().unwrap().fits, "what does not fit comes last");
        let usd = person(&["compositor"], &[], Some((30_000, "USD")));
        let (_, why) = weigh(
            &w,
            &usd,
            Some(Days {
                busy: 0,
                pencilled: 2,
            }),
            0,
            0,
        );
        assert!(
            why.iter().any(|r| r.code == "rate.other_currency"
                && r.values == ["30000", "USD"]
                && !r.fits)
        );
        assert!(
            why.iter()
                .any(|r| r.code == "days.pencilled" && r.values == ["2", "10"] && r.points == 18)
        );
        // Pencils on every day rank above a busy day among free ones, which ranks above more.
        let days = |busy, pencilled| {
            let (_, why) = weigh(&w, &usd, Some(Days { busy, pencilled }), 0, 0);
            why.iter()
                .find(|r| r.code.starts_with("days."))
                .unwrap()
                .points
        };
        assert!(days(0, 0) > days(0, 1) && days(0, 1) > days(0, 10));
        assert!(days(0, 10) < days(1, 0) && days(1, 0) > days(2, 0) && days(9, 0) > days(10, 0));
        assert!(
            days(1, 3) < days(1, 0),
            "pencils count when some days are busy too"
        );
    }

    #[test]
    fn a_want_is_checked_field_by_field() {
        let bad = |w: Want, field: &str| {
            let Err(crate::StoreError::Invalid(e)) = check(&w) else {
                panic!("{w:?} was taken");
            };
            assert_eq!(e.field, field, "{w:?}");
        };
        bad(Want::default(), "role");
        let role = || Want {
            role: Some("compositor".into()),
            ..Want::default()
        };
        bad(
            Want {
                role: Some("wizard".into()),
                ..Want::default()
            },
            "role",
        );
        bad(
            Want {
                languages: vec!["xx".into()],
                ..role()
            },
            "languages",
        );
        bad(
            Want {
                country: Some("WORLD".into()),
                ..role()
            },
            "country",
        );
        bad(
            Want {
                starts_on: Some("2027-01-01".into()),
                ..role()
            },
            "ends_on",
        );
        bad(
            Want {
                starts_on: Some("2027-02-01".into()),
                ends_on: Some("2027-01-01".into()),
                ..role()
            },
            "ends_on",
        );
        bad(
            Want {
                starts_on: Some("2027-01-01".into()),
                ends_on: Some("2028-06-01".into()),
                ..role()
            },
            "ends_on",
        );
        bad(
            Want {
                max_rate: Some("100".into()),
                ..role()
            },
            "currency",
        );
        bad(
            Want {
                max_rate: Some("-1".into()),
                currency: Some("CNY".into()),
                ..role()
            },
            "max_rate",
        );
        bad(
            Want {
                limit: Some(0),
                ..role()
            },
            "limit",
        );
        bad(
            Want {
                limit: Some(51),
                ..role()
            },
            "limit",
        );
        assert!(
            check(&Want {
                skills: vec!["Nuke".into()],
                ..Want::default()
            })
            .is_ok()
        );
    }
}
