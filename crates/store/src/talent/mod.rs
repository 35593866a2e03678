//! The talent data center (context `talent`): people's profiles with their crew roles, skills,
//! languages, place and day rate, and the credits on them.
//!
//! A profile is kept by one organisation (a post house for its crew, a school for its
//! students, a freelancer's own), which alone writes it. Shown to the platform, it is found in
//! the talent directory by every organisation's hirers, who read what a hirer may know: never
//! the person's birth date or e-mail address, which only the keeping organisation reads.

use mstation_core::Permission;
pub mod calendar;
pub mod index;
pub mod matching;
pub mod showreel;
pub mod training;

use mstation_core::ledger::Currency;
use mstation_core::market::{valid_date, valid_territory};
use mstation_core::talent::{self, LANGUAGES, Provenance, Visibility};
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::tracking::grid::contains_pattern;
use crate::{
    Actor, Arg, Change, DbError, FromRow, ListQuery, Millis, Page, Result, Row, StoreError, Tenant,
    WriteTx, check_version, new_id, now_ms,
};

/// The rules of the talent data center a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalentRule {
    /// A production credits its crew once its project is wrapped, not before.
    ProjectNotWrapped,
    /// A booking or a day off takes some of those days already.
    DaysTaken,
    /// Only a hold is confirmed into a booking.
    NotAHold,
    /// Only a school (an organisation of kind university) issues training records.
    NotASchool,
}

impl TalentRule {
    pub const ALL: [TalentRule; 4] = [
        TalentRule::ProjectNotWrapped,
        TalentRule::DaysTaken,
        TalentRule::NotAHold,
        TalentRule::NotASchool,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            TalentRule::ProjectNotWrapped => "talent.project_not_wrapped",
            TalentRule::DaysTaken => "talent.days_taken",
            TalentRule::NotAHold => "talent.not_a_hold",
            TalentRule::NotASchool => "talent.not_a_school",
        }
    }
}

impl From<TalentRule> for StoreError {
    fn from(r: TalentRule) -> Self {
        StoreError::Rule(crate::Rule::Talent(r))
    }
}

/// A credit verified from work on the platform: a wrapped production's, for a person assigned
/// to its tasks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkCredit {
    pub id: Uuid,
    /// The production that credits the work.
    pub org_id: Uuid,
    pub org_name: String,
    /// The project, for its own organisation only.
    pub project_id: Option<Uuid>,
    /// The person credited, and their name, for the crediting organisation only.
    pub user_id: Option<Uuid>,
    pub name: Option<String>,
    /// The project's name when it was credited.
    pub title: String,
    /// The kinds of task they did (the production's task types), as it named them.
    pub work: Vec<String>,
    /// Their first and last day of work (`YYYY-MM-DD`): their time logs, or their tasks'
    /// dates.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub created_at: Millis,
    /// When the production withdrew it (then no profile shows it); the crediting organisation
    /// and the person's own export only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Millis>,
}

/// The columns of a work credit as its crediting organisation (`$1`) reads it.
const WORK_COLS: &str = "w.id, w.org_id, (SELECT o.name FROM orgs o WHERE o.id = w.org_id), w.project_id, w.user_id, (SELECT u.display_name FROM users u WHERE u.id = w.user_id), w.title, w.work, w.starts_on, w.ends_on, w.created_at, w.withdrawn_at";

/// The columns of a work credit as a profile shows it to anyone: neither the production's
/// project nor the person's account (which only the profile's keeper knows).
const VERIFIED_COLS: &str = "w.id, w.org_id, (SELECT o.name FROM orgs o WHERE o.id = w.org_id), NULL, NULL, NULL, w.title, w.work, w.starts_on, w.ends_on, w.created_at, w.withdrawn_at";

impl FromRow for WorkCredit {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, org_id, org_name, project_id, user_id, name, title) = (
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
        );
        let work: String = r.get()?;
        Ok(WorkCredit {
            id,
            org_id,
            org_name,
            project_id,
            user_id,
            name,
            title,
            work: lines(&work),
            starts_on: r.get()?,
            ends_on: r.get()?,
            created_at: r.get()?,
            withdrawn_at: r.get()?,
        })
    }
}

/// What crediting a project's crew did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CrewCredits {
    /// How many people this call credited (those credited before are not again).
    pub credited: usize,
    /// Every credit of the project, the new ones among them.
    pub credits: Vec<WorkCredit>,
}

/// Whether `s` is one line (no line feed, no carriage return).
fn one_line(s: &str) -> bool {
    !s.contains(['\n', '\r'])
}

/// A profile without what is sensitive: what its audit rows and events keep, which those who
/// read the audit log or the event stream may read without keeping profiles.
fn redacted(p: &Profile) -> Profile {
    Profile {
        birth_date: None,
        email: None,
        ..p.clone()
    }
}

/// A profile as its keeping organisation reads it, or as the directory shows it to others
/// (then `birth_date` and `email` are never there).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Profile {
    pub id: Uuid,
    /// The organisation that keeps the profile.
    pub org_id: Uuid,
    /// Its name, as the directory shows it.
    pub org_name: String,
    /// The person's account on the platform, a member of the keeping organisation, if linked.
    pub user_id: Option<Uuid>,
    pub name: String,
    /// One line about them: "Compositor, 8 years in feature VFX".
    pub headline: String,
    pub bio: String,
    /// The department of their first crew role.
    pub department: String,
    /// Crew-role keys of the taxonomy (`GET /api/v1/talent/taxonomy`), the first their main one.
    pub roles: Vec<String>,
    /// Skills and software, as written.
    pub skills: Vec<String>,
    /// ISO 639 codes of the languages they work in.
    pub languages: Vec<String>,
    pub city: String,
    /// ISO 3166-1 alpha-2, or empty.
    pub country: String,
    /// Their day rate in minor units of `currency`.
    pub day_rate: Option<i64>,
    pub currency: Option<String>,
    pub visibility: Visibility,
    /// `YYYY-MM-DD`; the keeping organisation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// The keeping organisation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the caller's organisation keeps it (and may change it).
    pub own: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
    /// Newest first; in the directory's lists, empty.
    pub credits: Vec<Credit>,
    /// Credits verified from work on the platform, for the person the profile is linked to:
    /// the latest first; in the directory's lists, empty.
    pub verified: Vec<WorkCredit>,
    /// What schools recorded the person linked completed there (verified by the school), the
    /// latest first; in the directory's lists, empty.
    pub training: Vec<training::Training>,
    /// Its reel, if it has one; in the directory's lists, none.
    pub showreel: Option<showreel::Showreel>,
}

/// The columns of a profile; `user` selects the person's account and `sensitive` the birth
/// date and e-mail address, which only the keeping organisation reads.
fn profile_cols(user: &str, sensitive: &str) -> String {
    format!(
        "p.id, p.org_id, (SELECT o.name FROM orgs o WHERE o.id = p.org_id), {user}, p.name, p.headline, p.bio, p.department, p.roles, p.skills, p.languages, p.city, p.country, p.day_rate, p.currency, p.visibility, {sensitive}, p.created_at, p.updated_at, p.version"
    )
}

const PROFILE_FROM: &str = "talent_profiles p";

fn lines(s: &str) -> Vec<String> {
    s.split('\n')
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl FromRow for Profile {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, org_id, org_name, user_id) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let (name, headline, bio, department) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let (roles, skills, languages): (String, String, String) = (r.get()?, r.get()?, r.get()?);
        let (city, country, day_rate, currency) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let visibility: String = r.get()?;
        Ok(Profile {
            id,
            org_id,
            org_name,
            user_id,
            name,
            headline,
            bio,
            department,
            roles: lines(&roles),
            skills: lines(&skills),
            languages: lines(&languages),
            city,
            country,
            day_rate,
            currency,
            // Written by this store from `as_str`.
            visibility: Visibility::parse(&visibility).unwrap_or(Visibility::Private),
            birth_date: r.get()?,
            email: r.get()?,
            own: false,
            created_at: r.get()?,
            updated_at: r.get()?,
            version: r.get()?,
            credits: Vec::new(),
            verified: Vec::new(),
            training: Vec::new(),
            showreel: None,
        })
    }
}

/// A credit on a profile: a production, the role they had on it, the year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Credit {
    pub id: Uuid,
    pub profile_id: Uuid,
    /// The production's title.
    pub title: String,
    /// A crew-role key of the taxonomy.
    pub role: String,
    /// The company they worked for on it, if named.
    pub company: String,
    pub year: i64,
    /// Where the credit comes from: today, only what the keeping organisation wrote.
    pub provenance: Provenance,
    pub created_at: Millis,
}

const CREDIT_COLS: &str = "id, profile_id, title, role, company, year, provenance, created_at";

impl FromRow for Credit {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, profile_id, title, role, company, year) =
            (r.get()?, r.get()?, r.get()?, r.get()?, r.get()?, r.get()?);
        let provenance: String = r.get()?;
        Ok(Credit {
            id,
            profile_id,
            title,
            role,
            company,
            year,
            provenance: Provenance::parse(&provenance).unwrap_or(Provenance::SelfDeclared),
            created_at: r.get()?,
        })
    }
}

/// What a profile says, as its keeping organisation writes it (a new one, or all of one
/// again).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    pub name: String,
    #[serde(default)]
    pub headline: String,
    #[serde(default)]
    pub bio: String,
    /// 1 to 5 crew-role keys, the main one first.
    pub roles: Vec<String>,
    /// At most 30.
    #[serde(default)]
    pub skills: Vec<String>,
    /// ISO 639 codes, at most 10.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub city: String,
    /// ISO 3166-1 alpha-2 (`CN`), or empty.
    #[serde(default)]
    pub country: String,
    /// As a person writes it (`1800`, `1800.00`), in `currency`.
    pub day_rate: Option<String>,
    pub currency: Option<String>,
    /// `private` unless said.
    pub visibility: Option<Visibility>,
    /// `YYYY-MM-DD`, read by the keeping organisation only.
    pub birth_date: Option<String>,
    /// Read by the keeping organisation only.
    pub email: Option<String>,
    /// A member of the keeping organisation whose profile this is.
    pub user_id: Option<Uuid>,
}

/// A profile's values, checked.
struct Checked {
    name: String,
    headline: String,
    bio: String,
    department: String,
    roles: Vec<String>,
    skills: Vec<String>,
    languages: Vec<String>,
    city: String,
    country: String,
    day_rate: Option<i64>,
    currency: Option<String>,
    visibility: Visibility,
    birth_date: Option<String>,
    email: Option<String>,
    user_id: Option<Uuid>,
}

impl Checked {
    /// The statement arguments of a profile's row: `$1` the organisation, `$2` the profile,
    /// `$3`..`$18` its values in the order of the columns from `user_id` to `search_text`,
    /// then `more`.
    fn args<const N: usize>(&self, org: Uuid, id: Uuid, more: [Arg; N]) -> Vec<Arg> {
        let c = self;
        let mut args: Vec<Arg> = vec![
            org.into(),
            id.into(),
            c.user_id.into(),
            (&c.name).into(),
            (&c.headline).into(),
            (&c.bio).into(),
            (&c.department).into(),
            c.roles.join("\n").into(),
            c.skills.join("\n").into(),
            c.languages.join("\n").into(),
            (&c.city).into(),
            (&c.country).into(),
            c.day_rate.into(),
            c.currency.clone().into(),
            c.visibility.as_str().into(),
            c.birth_date.clone().into(),
            c.email.clone().into(),
            search_text(c).into(),
        ];
        args.extend(more);
        args
    }
}

fn check(input: ProfileInput, today: &str) -> Result<Checked> {
    let name = validate::name("name", &input.name, 120)?;
    let headline = validate::text("headline", &input.headline, 160)?;
    if !one_line(&headline) {
        return Err(FieldError::new("headline", "one_line").into());
    }
    let bio = validate::text("bio", &input.bio, 5_000)?;
    if input.roles.is_empty() {
        return Err(FieldError::new("roles", "required").into());
    }
    let mut roles: Vec<String> = Vec::new();
    for r in &input.roles {
        let r = r.trim();
        if talent::department_of(r).is_none() {
            return Err(FieldError::new("roles", "not_a_crew_role").into());
        }
        if !roles.iter().any(|x| x == r) {
            roles.push(r.to_string());
        }
    }
    if roles.len() > 5 {
        return Err(FieldError::new("roles", "too_many").into());
    }
    let department = talent::department_of(&roles[0])
        .unwrap_or_default()
        .to_string();
    let skills = talent::tags("skills", &input.skills, 30)?;
    let mut languages: Vec<String> = Vec::new();
    for l in &input.languages {
        let l = l.trim().to_lowercase();
        if !LANGUAGES.contains(&l.as_str()) {
            return Err(FieldError::new("languages", "not_a_language").into());
        }
        if !languages.contains(&l) {
            languages.push(l);
        }
    }
    if languages.len() > 10 {
        return Err(FieldError::new("languages", "too_many").into());
    }
    let city = validate::text("city", &input.city, 100)?;
    if !one_line(&city) {
        return Err(FieldError::new("city", "one_line").into());
    }
    let country = input.country.trim().to_uppercase();
    if !country.is_empty() && (country == "WORLD" || !valid_territory(&country)) {
        return Err(FieldError::new("country", "not_a_country").into());
    }
    let rate = input
        .day_rate
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let (day_rate, currency) = match (rate, input.currency.as_deref().map(str::trim)) {
        (None, _) => (None, None),
        (Some(_), None | Some("")) => {
            return Err(FieldError::new("currency", "required").into());
        }
        (Some(rate), Some(c)) => {
            let currency =
                Currency::parse(c).ok_or_else(|| FieldError::new("currency", "not_a_currency"))?;
            let amount = currency
                .parse_amount(rate)
                .ok_or_else(|| FieldError::new("day_rate", "not_an_amount"))?;
            if amount <= 0 {
                return Err(FieldError::new("day_rate", "must_be_positive").into());
            }
            (Some(amount), Some(currency.as_str().to_string()))
        }
    };
    let birth_date = match input.birth_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) if !valid_date(d) => return Err(FieldError::new("birth_date", "not_a_date").into()),
        Some(d) if d > today => return Err(FieldError::new("birth_date", "in_the_future").into()),
        Some(d) => Some(d.to_string()),
    };
    let email = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(e) => Some(validate::email("email", e)?),
    };
    Ok(Checked {
        name,
        headline,
        bio,
        department,
        roles,
        skills,
        languages,
        city,
        country,
        day_rate,
        currency,
        visibility: input.visibility.unwrap_or(Visibility::Private),
        birth_date,
        email,
        user_id: input.user_id,
    })
}

/// What the directory's words are matched against, lowered here (the database's `lower`
/// differs between backends beyond ASCII).
fn search_text(c: &Checked) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}",
        c.name,
        c.headline,
        c.skills.join("\n"),
        c.roles.join("\n"),
        c.city
    )
    .to_lowercase()
}

/// The directory's filters.
#[derive(Debug, Clone, Default)]
pub struct Find {
    /// Words, each of which must be in the name, headline, skills, roles or city.
    pub q: String,
    pub department: Option<String>,
    pub role: Option<String>,
    pub language: Option<String>,
    pub country: Option<String>,
}

/// A credit as the keeping organisation writes it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredit {
    pub title: String,
    /// A crew-role key of the taxonomy.
    pub role: String,
    #[serde(default)]
    pub company: String,
    pub year: i64,
}

/// The public projection of a profile, as an audit row of its removal keeps it: without what
/// is sensitive.
#[derive(Serialize)]
struct Removed<'a> {
    id: Uuid,
    name: &'a str,
    roles: &'a [String],
}

impl Tenant<'_> {
    /// Writes a new profile, kept by the organisation.
    pub async fn create_profile(&self, input: ProfileInput) -> Result<Profile> {
        let c = check(input, &crate::market::sale_day())?;
        let scope = self.scope().clone();
        let org_name = self.org_name().await?;
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                if let Some(u) = c.user_id {
                    member_of(tx, org, u).await?;
                }
                let now = Millis(now_ms());
                let p = profile_of(new_id(), org, org_name, &c, now, now, 1);
                tx.execute(
                    "INSERT INTO talent_profiles (id, org_id, user_id, name, headline, bio, department, roles, skills, languages, city, country, day_rate, currency, visibility, birth_date, email, search_text, created_by, created_at, updated_at, version)
                     VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, 1)",
                    &c.args(org, p.id, [scope.user_id.into(), now.into()]),
                )
                .await
                .map_err(|e| crate::dup(e, "profile", "user_id"))?;
                write_facets(tx, org, p.id, &c).await?;
                let change = Change::new(Some(org), "profile.created", "profile", p.id);
                tx.record(&Actor::of(&scope), change.after(&redacted(&p)))
                    .await?;
                Ok(p)
            })
        })
        .await
    }

    /// Writes all of one of the organisation's profiles again; `expected_version` is the
    /// version the caller saw (`If-Match`).
    pub async fn update_profile(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        input: ProfileInput,
    ) -> Result<Profile> {
        // Another organisation's profile is not found, whatever the input says.
        self.profile_kept(id).await?;
        let c = check(input, &crate::market::sale_day())?;
        let scope = self.scope().clone();
        let org_name = self.org_name().await?;
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let text = format!(
                    "SELECT {} FROM {PROFILE_FROM} WHERE p.org_id = $1 AND p.id = $2{}",
                    profile_cols("p.user_id", "p.birth_date, p.email"),
                    tx.lock_rows()
                );
                let mut before: Profile = tx
                    .query_opt(&text, &[org.into(), id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "profile" })?;
                before.own = true;
                check_version("profile", expected_version, before.version)?;
                if let Some(u) = c.user_id {
                    member_of(tx, org, u).await?;
                }
                let now = Millis(now_ms());
                let after = profile_of(
                    id,
                    org,
                    org_name,
                    &c,
                    before.created_at,
                    now,
                    before.version + 1,
                );
                let args = c.args(
                    org,
                    id,
                    [now.into(), after.version.into(), before.version.into()],
                );
                crate::update_seen(
                    tx,
                    "profile",
                    Some("user_id"),
                    before.version,
                    "UPDATE talent_profiles SET user_id = $3, name = $4, headline = $5, bio = $6, department = $7,
                         roles = $8, skills = $9, languages = $10, city = $11, country = $12, day_rate = $13,
                         currency = $14, visibility = $15, birth_date = $16, email = $17, search_text = $18,
                         updated_at = $19, version = $20
                     WHERE org_id = $1 AND id = $2 AND version = $21",
                    &args,
                )
                .await?;
                tx.execute(
                    "DELETE FROM talent_profile_facets WHERE profile_id = (SELECT id FROM talent_profiles WHERE org_id = $1 AND id = $2)",
                    &[org.into(), id.into()],
                )
                .await?;
                write_facets(tx, org, id, &c).await?;
                let change = Change::new(Some(org), "profile.updated", "profile", id);
                tx.record(
                    &Actor::of(&scope),
                    change.before(&redacted(&before)).after(&redacted(&after)),
                )
                .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Removes one of the organisation's profiles with its credits. The audit row keeps who it
    /// was by name and roles, not what was sensitive.
    pub async fn delete_profile(&self, id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let found: Option<(String, String)> = tx
                    .query_opt(
                        &format!(
                            "SELECT name, roles FROM talent_profiles WHERE org_id = $1 AND id = $2{}",
                            tx.lock_rows()
                        ),
                        &[org.into(), id.into()],
                    )
                    .await?;
                let (name, roles) = found.ok_or(StoreError::NotFound { entity: "profile" })?;
                tx.execute(
                    "DELETE FROM talent_credits WHERE org_id = $1 AND profile_id = $2",
                    &[org.into(), id.into()],
                )
                .await?;
                tx.execute(
                    "DELETE FROM talent_calendar WHERE org_id = $1 AND profile_id = $2",
                    &[org.into(), id.into()],
                )
                .await?;
                tx.execute(
                    "DELETE FROM talent_showreels WHERE org_id = $1 AND profile_id = $2",
                    &[org.into(), id.into()],
                )
                .await?;
                tx.execute(
                    "DELETE FROM talent_profile_facets WHERE profile_id = (SELECT id FROM talent_profiles WHERE org_id = $1 AND id = $2)",
                    &[org.into(), id.into()],
                )
                .await?;
                // Its vector was made from what it said of the person: it goes with it.
                tx.execute(
                    "DELETE FROM talent_vectors WHERE profile_id = (SELECT id FROM talent_profiles WHERE org_id = $1 AND id = $2)",
                    &[org.into(), id.into()],
                )
                .await?;
                tx.execute(
                    "DELETE FROM talent_profiles WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into()],
                )
                .await?;
                let before = Removed {
                    id,
                    name: &name,
                    roles: &lines(&roles),
                };
                let change = Change::new(Some(org), "profile.deleted", "profile", id);
                tx.record(&Actor::of(&scope), change.before(&before)).await?;
                Ok(())
            })
        })
        .await
    }

    /// A profile: all of it if the organisation keeps it; what a hirer may know if another
    /// organisation shows it to the platform; otherwise not found.
    pub async fn profile(&self, id: Uuid) -> Result<Profile> {
        let org = self.org_id();
        let text = format!(
            "SELECT {} FROM {PROFILE_FROM} WHERE p.id = $2 AND (p.org_id = $1 OR p.visibility = 'platform')",
            profile_cols(
                "CASE WHEN p.org_id = $1 THEN p.user_id END",
                "CASE WHEN p.org_id = $1 THEN p.birth_date END, CASE WHEN p.org_id = $1 THEN p.email END"
            )
        );
        let mut p: Profile = self
            .read_opt(&text, &[org.into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "profile" })?;
        p.own = p.org_id == org;
        if !(p.own && self.scope().can(Permission::ManageTalent)) {
            // Within the organisation too, only those who keep profiles read these.
            p.birth_date = None;
            p.email = None;
        }
        p.credits = self
            .read(
                &format!(
                    "SELECT {CREDIT_COLS} FROM talent_credits WHERE profile_id = $2
                       AND org_id = (SELECT org_id FROM talent_profiles WHERE id = $2 AND (org_id = $1 OR visibility = 'platform'))
                     ORDER BY year DESC, id DESC LIMIT 500"
                ),
                &[org.into(), id.into()],
            )
            .await?;
        p.verified = self
            .read(
                &format!(
                    "SELECT {VERIFIED_COLS} FROM talent_work_credits w
                     WHERE w.user_id = (SELECT user_id FROM talent_profiles WHERE id = $2 AND (org_id = $1 OR visibility = 'platform'))
                       AND w.withdrawn_at IS NULL
                     ORDER BY COALESCE(w.ends_on, w.starts_on, '') DESC, w.id DESC LIMIT 500"
                ),
                &[org.into(), id.into()],
            )
            .await?;
        p.showreel = self
            .read_opt(
                &format!(
                    "SELECT {} FROM talent_showreels s
                     WHERE s.profile_id = $2
                       AND s.org_id = (SELECT org_id FROM talent_profiles WHERE id = $2 AND (org_id = $1 OR visibility = 'platform'))",
                    showreel::SHOWREEL_COLS
                ),
                &[org.into(), id.into()],
            )
            .await?;
        p.training = self
            .read(
                &format!(
                    "SELECT {} FROM talent_training t
                     WHERE t.user_id = (SELECT user_id FROM talent_profiles WHERE id = $2 AND (org_id = $1 OR visibility = 'platform'))
                       AND t.withdrawn_at IS NULL
                     ORDER BY t.ends_on DESC, t.id DESC LIMIT 500",
                    training::SHOWN_COLS
                ),
                &[org.into(), id.into()],
            )
            .await?;
        Ok(p)
    }

    /// Credits everyone assigned to a task of one of the organisation's wrapped projects, with
    /// the kinds of task they did and when: the credit every profile linked to them shows as
    /// verified. Those credited before are not again.
    pub async fn credit_crew(&self, project_id: Uuid) -> Result<CrewCredits> {
        let scope = self.scope().clone();
        let org_name = self.org_name().await?;
        let credited = self
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    // Locked: a second crediting of the project waits for this one, then finds
                    // its credits.
                    let (title, status) =
                        crate::tracking::crew::project_state(tx, org, project_id).await?;
                    if status != "wrapped" {
                        return Err(TalentRule::ProjectNotWrapped.into());
                    }
                    let before: Vec<(Uuid,)> = tx
                        .query(
                            "SELECT user_id FROM talent_work_credits WHERE org_id = $1 AND project_id = $2",
                            &[org.into(), project_id.into()],
                        )
                        .await?;
                    let crew = crate::tracking::crew::crew_of(tx, org, project_id).await?;
                    let now = Millis(now_ms());
                    let mut changes = Vec::new();
                    for c in crew
                        .into_iter()
                        .filter(|c| !before.iter().any(|(u,)| *u == c.user_id))
                    {
                        let w = WorkCredit {
                            id: new_id(),
                            org_id: org,
                            org_name: org_name.clone(),
                            project_id: Some(project_id),
                            user_id: Some(c.user_id),
                            name: Some(c.name),
                            title: title.clone(),
                            work: c.work,
                            starts_on: c.first,
                            ends_on: c.last,
                            created_at: now,
                            withdrawn_at: None,
                        };
                        tx.execute(
                            "INSERT INTO talent_work_credits (id, org_id, project_id, user_id, title, work, starts_on, ends_on, created_by, created_at)
                             VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10)",
                            &[
                                org.into(),
                                w.id.into(),
                                project_id.into(),
                                c.user_id.into(),
                                (&w.title).into(),
                                w.work.join("\n").into(),
                                w.starts_on.clone().into(),
                                w.ends_on.clone().into(),
                                scope.user_id.into(),
                                now.into(),
                            ],
                        )
                        .await?;
                        let change = Change::new(Some(org), "work_credit.created", "work_credit", w.id);
                        changes.push(change.after(&w));
                    }
                    let n = changes.len();
                    // In statements of at most 500 rows, whatever the crew's size.
                    let actor = Actor::of(&scope);
                    let mut changes = changes.into_iter().peekable();
                    while changes.peek().is_some() {
                        let some: Vec<Change> = changes.by_ref().take(500).collect();
                        tx.record_and_announce(&actor, some, Vec::new()).await?;
                    }
                    Ok(n)
                })
            })
            .await?;
        Ok(CrewCredits {
            credited,
            credits: self.project_credits(project_id).await?,
        })
    }

    /// Withdraws a verified credit one of the organisation's projects gave (a person credited
    /// by mistake): no profile shows it again, and crediting the crew again does not give it
    /// back. Withdrawing it again changes nothing.
    pub async fn withdraw_work_credit(
        &self,
        project_id: Uuid,
        credit_id: Uuid,
    ) -> Result<WorkCredit> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let found: Vec<WorkCredit> = tx
                    .query(
                        &format!(
                            "SELECT {WORK_COLS} FROM talent_work_credits w WHERE w.org_id = $1 AND w.project_id = $2 AND w.id = $3{}",
                            tx.lock_rows()
                        ),
                        &[org.into(), project_id.into(), credit_id.into()],
                    )
                    .await?;
                let before = found
                    .into_iter()
                    .next()
                    .ok_or(StoreError::NotFound { entity: "work_credit" })?;
                if before.withdrawn_at.is_none() {
                    let now = Millis(now_ms());
                    tx.execute(
                        "UPDATE talent_work_credits SET withdrawn_at = $3 WHERE org_id = $1 AND id = $2",
                        &[org.into(), credit_id.into(), now.into()],
                    )
                    .await?;
                    let after = WorkCredit {
                        withdrawn_at: Some(now),
                        ..before.clone()
                    };
                    // Told with what it was, so the project's feed shows it to its producers.
                    let change =
                        Change::new(Some(org), "work_credit.withdrawn", "work_credit", credit_id)
                            .before(&before)
                            .after(&after);
                    tx.record(&Actor::of(&scope), change).await?;
                }
                Ok(())
            })
        })
        .await?;
        self.read(
            &format!(
                "SELECT {WORK_COLS} FROM talent_work_credits w WHERE w.org_id = $1 AND w.id = $2"
            ),
            &[self.org_id().into(), credit_id.into()],
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound {
            entity: "work_credit",
        })
    }

    /// The credits one of the organisation's projects gave its crew, by the person's name.
    pub async fn project_credits(&self, project_id: Uuid) -> Result<Vec<WorkCredit>> {
        // Another organisation's project is not found (tracking's own read).
        self.project(project_id).await?;
        self.read(
            &format!(
                "SELECT {WORK_COLS} FROM talent_work_credits w JOIN users u ON u.id = w.user_id
                 WHERE w.org_id = $1 AND w.project_id = $2 ORDER BY u.display_name, w.id LIMIT 10000"
            ),
            &[self.org_id().into(), project_id.into()],
        )
        .await
    }

    /// The talent directory: the profiles shown to the platform and the organisation's own,
    /// matching `find`, newest first, without what is sensitive.
    pub async fn find_profiles(&self, find: &Find, q: &ListQuery) -> Result<Page<Profile>> {
        let org = self.org_id();
        let mut filter = String::from("(org_id = $1 OR visibility = 'platform')");
        let mut args: Vec<Arg> = vec![org.into()];
        let mut bind = |filter: &mut String, clause: &str, arg: Arg| {
            args.push(arg);
            filter.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        if let Some(d) = find.department.as_deref().filter(|d| !d.is_empty()) {
            if !talent::is_department(d) {
                return Err(FieldError::new("department", "not_a_department").into());
            }
            bind(&mut filter, " AND department = ?", d.into());
        }
        if let Some(r) = find.role.as_deref().filter(|r| !r.is_empty()) {
            if talent::department_of(r).is_none() {
                return Err(FieldError::new("role", "not_a_crew_role").into());
            }
            bind(
                &mut filter,
                " AND id IN (SELECT profile_id FROM talent_profile_facets WHERE facet = 'role' AND value = ?)",
                r.into(),
            );
        }
        let language = find.language.as_deref().map(|l| l.trim().to_lowercase());
        if let Some(l) = language.as_deref().filter(|l| !l.is_empty()) {
            if !LANGUAGES.contains(&l) {
                return Err(FieldError::new("language", "not_a_language").into());
            }
            bind(
                &mut filter,
                " AND id IN (SELECT profile_id FROM talent_profile_facets WHERE facet = 'language' AND value = ?)",
                l.into(),
            );
        }
        if let Some(c) = find.country.as_deref().filter(|c| !c.is_empty()) {
            let c = c.trim().to_uppercase();
            if c == "WORLD" || !valid_territory(&c) {
                return Err(FieldError::new("country", "not_a_country").into());
            }
            bind(&mut filter, " AND country = ?", c.into());
        }
        let words: Vec<String> = find
            .q
            .to_lowercase()
            .split_whitespace()
            .take(8)
            .map(str::to_string)
            .collect();
        if find.q.chars().count() > 200 {
            return Err(FieldError::new("q", "too_long").into());
        }
        for w in &words {
            bind(
                &mut filter,
                " AND search_text LIKE ? ESCAPE '\\'",
                contains_pattern(w).into(),
            );
        }
        let cols = "id, org_id, (SELECT name FROM orgs WHERE orgs.id = talent_profiles.org_id), CASE WHEN org_id = $1 THEN user_id END, name, headline, bio, department, roles, skills, languages, city, country, day_rate, currency, visibility, NULL, NULL, created_at, updated_at, version";
        let mut page: Page<Profile> = self
            .page(cols, "talent_profiles", &filter, args, q, |p: &Profile| {
                p.id
            })
            .await?;
        for p in &mut page.items {
            p.own = p.org_id == org;
        }
        Ok(page)
    }

    /// Adds a credit the organisation writes to one of its profiles.
    pub async fn add_credit(&self, profile_id: Uuid, input: NewCredit) -> Result<Credit> {
        self.profile_kept(profile_id).await?;
        let title = validate::name("title", &input.title, 200)?;
        let role = input.role.trim().to_string();
        if talent::department_of(&role).is_none() {
            return Err(FieldError::new("role", "not_a_crew_role").into());
        }
        let company = validate::text("company", &input.company, 200)?;
        if !one_line(&company) {
            return Err(FieldError::new("company", "one_line").into());
        }
        let this_year: i32 = crate::market::sale_day()
            .get(..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(2026);
        if !i32::try_from(input.year).is_ok_and(|y| talent::valid_year(y, this_year)) {
            return Err(FieldError::new("year", "out_of_range").into());
        }
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                // Shared: a removal of the profile waits for this credit, or this for it.
                kept(tx, org, profile_id, true).await?;
                let c = Credit {
                    id: new_id(),
                    profile_id,
                    title,
                    role,
                    company,
                    year: input.year,
                    provenance: Provenance::SelfDeclared,
                    created_at: Millis(now_ms()),
                };
                tx.execute(
                    &format!("INSERT INTO talent_credits (org_id, {CREDIT_COLS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                    &[
                        org.into(),
                        c.id.into(),
                        profile_id.into(),
                        (&c.title).into(),
                        (&c.role).into(),
                        (&c.company).into(),
                        c.year.into(),
                        c.provenance.as_str().into(),
                        c.created_at.into(),
                        scope.user_id.into(),
                    ],
                )
                .await?;
                let change = Change::new(Some(org), "credit.created", "credit", c.id);
                tx.record(&Actor::of(&scope), change.after(&c)).await?;
                Ok(c)
            })
        })
        .await
    }

    /// Removes a credit from one of the organisation's profiles.
    pub async fn delete_credit(&self, profile_id: Uuid, credit_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before: Credit = tx
                    .query_opt(
                        &format!("SELECT {CREDIT_COLS} FROM talent_credits WHERE org_id = $1 AND id = $2 AND profile_id = $3"),
                        &[org.into(), credit_id.into(), profile_id.into()],
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "credit" })?;
                tx.execute(
                    "DELETE FROM talent_credits WHERE org_id = $1 AND id = $2",
                    &[org.into(), credit_id.into()],
                )
                .await?;
                let change = Change::new(Some(org), "credit.deleted", "credit", credit_id);
                tx.record(&Actor::of(&scope), change.before(&before)).await?;
                Ok(())
            })
        })
        .await
    }

    /// `NotFound` unless the organisation keeps the profile `id`.
    async fn profile_kept(&self, id: Uuid) -> Result<()> {
        let found: Option<Uuid> = self
            .scalar_opt(
                "SELECT id FROM talent_profiles WHERE org_id = $1 AND id = $2",
                &[self.org_id().into(), id.into()],
            )
            .await?;
        found
            .map(|_| ())
            .ok_or(StoreError::NotFound { entity: "profile" })
    }

    async fn org_name(&self) -> Result<String> {
        self.scalar(
            "SELECT name FROM orgs WHERE id = $1",
            &[self.org_id().into()],
        )
        .await
    }
}

fn profile_of(
    id: Uuid,
    org: Uuid,
    org_name: String,
    c: &Checked,
    created_at: Millis,
    updated_at: Millis,
    version: i64,
) -> Profile {
    Profile {
        id,
        org_id: org,
        org_name,
        user_id: c.user_id,
        name: c.name.clone(),
        headline: c.headline.clone(),
        bio: c.bio.clone(),
        department: c.department.clone(),
        roles: c.roles.clone(),
        skills: c.skills.clone(),
        languages: c.languages.clone(),
        city: c.city.clone(),
        country: c.country.clone(),
        day_rate: c.day_rate,
        currency: c.currency.clone(),
        visibility: c.visibility,
        birth_date: c.birth_date.clone(),
        email: c.email.clone(),
        own: true,
        created_at,
        updated_at,
        version,
        credits: Vec::new(),
        verified: Vec::new(),
        training: Vec::new(),
        showreel: None,
    }
}

/// The talent profiles linked to the person `user`, wherever kept, with every field and their
/// credits, and those profiles' calendars: for the person's own export.
pub(crate) async fn person_profiles(
    p: &crate::Platform<'_>,
    user: Uuid,
) -> Result<(Vec<Profile>, Vec<calendar::Entry>)> {
    let mut profiles: Vec<Profile> = p
        .read(
            &format!(
                "SELECT {} FROM {PROFILE_FROM} WHERE p.user_id = $1 ORDER BY p.created_at, p.id LIMIT 1000",
                profile_cols("p.user_id", "p.birth_date, p.email")
            ),
            &[user.into()],
        )
        .await?;
    for pr in &mut profiles {
        pr.credits = p
            .read(
                &format!(
                    "SELECT {CREDIT_COLS} FROM talent_credits WHERE profile_id = $1 ORDER BY year DESC, id DESC LIMIT 5000"
                ),
                &[pr.id.into()],
            )
            .await?;
        // The reel's note; not the keeper's media file.
        pr.showreel = p
            .read_opt(
                "SELECT NULL, s.note, s.updated_at FROM talent_showreels s WHERE s.profile_id = $1",
                &[pr.id.into()],
            )
            .await?;
    }
    let entries = p
        .read(
            "SELECT c.id, c.profile_id, c.kind, c.starts_on, c.ends_on, c.what, c.created_at
             FROM talent_calendar c JOIN talent_profiles p ON p.id = c.profile_id AND p.org_id = c.org_id
             WHERE p.user_id = $1 ORDER BY c.starts_on, c.id LIMIT 50000",
            &[user.into()],
        )
        .await?;
    Ok((profiles, entries))
}

/// The credits productions gave the person `user` for work on the platform, as the person
/// reads them: with the production's name, not its project.
pub(crate) async fn person_work_credits(
    p: &crate::Platform<'_>,
    user: Uuid,
) -> Result<Vec<WorkCredit>> {
    p.read(
        &format!(
            "SELECT {VERIFIED_COLS} FROM talent_work_credits w WHERE w.user_id = $1
             ORDER BY COALESCE(w.ends_on, w.starts_on, '') DESC, w.id DESC LIMIT 50000"
        ),
        &[user.into()],
    )
    .await
}

/// Inside a platform write: removes the person `user`'s talent profiles wherever kept (with
/// their credits, calendars and facets), the credits productions gave them and the training
/// records schools issued them; returns the ids and names of what went (profiles, then work
/// credits and training records), for erasing their history.
pub(crate) async fn erase_person_tx(
    tx: &mut WriteTx<'_>,
    user: Uuid,
) -> Result<(Vec<(Uuid, String)>, Vec<Uuid>)> {
    let profiles: Vec<(Uuid, Uuid, String)> = tx
        .query(
            &format!(
                "SELECT id, org_id, name FROM talent_profiles WHERE user_id = $1{}",
                tx.lock_rows()
            ),
            &[user.into()],
        )
        .await?;
    for (id, org, _) in &profiles {
        for table in ["talent_credits", "talent_calendar", "talent_showreels"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE profile_id = $1"),
                &[(*id).into()],
            )
            .await?;
        }
        tx.execute(
            "DELETE FROM talent_profile_facets WHERE profile_id = $1",
            &[(*id).into()],
        )
        .await?;
        tx.execute(
            "DELETE FROM talent_vectors WHERE profile_id = $1",
            &[(*id).into()],
        )
        .await?;
        tx.execute("DELETE FROM talent_profiles WHERE id = $1", &[(*id).into()])
            .await?;
        // Its organisation's audit log says it went, and nothing of whom it was about.
        let change = Change::new(Some(*org), "profile.erased", "profile", *id);
        tx.record(&Actor::system(), change).await?;
    }
    let credits: Vec<(Uuid,)> = tx
        .query(
            "SELECT id FROM talent_work_credits WHERE user_id = $1",
            &[user.into()],
        )
        .await?;
    tx.execute(
        "DELETE FROM talent_work_credits WHERE user_id = $1",
        &[user.into()],
    )
    .await?;
    let training: Vec<(Uuid,)> = tx
        .query(
            "SELECT id FROM talent_training WHERE user_id = $1",
            &[user.into()],
        )
        .await?;
    tx.execute(
        "DELETE FROM talent_training WHERE user_id = $1",
        &[user.into()],
    )
    .await?;
    Ok((
        profiles
            .into_iter()
            .map(|(id, _, name)| (id, name))
            .collect(),
        credits.into_iter().chain(training).map(|(c,)| c).collect(),
    ))
}

/// Inside a write: `NotFound` unless `org` keeps the profile `id`, which stays locked until the
/// write commits (`shared`: against its removal only; otherwise against every other write
/// that locks it, so two bookings of its days take turns).
async fn kept(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid, shared: bool) -> Result<()> {
    let text = format!(
        "SELECT id FROM talent_profiles WHERE org_id = $1 AND id = $2{}",
        if shared {
            tx.share_rows()
        } else {
            tx.lock_rows()
        }
    );
    let found: Option<Uuid> = tx.scalar_opt(&text, &[org.into(), id.into()]).await?;
    found
        .map(|_| ())
        .ok_or(StoreError::NotFound { entity: "profile" })
}

/// `NotFound` naming the user unless they are a member of `org`; the membership stays locked
/// against its removal (an erasure of the person) until the write commits.
async fn member_of(tx: &mut WriteTx<'_>, org: Uuid, user: Uuid) -> Result<()> {
    let text = format!(
        "SELECT user_id FROM memberships WHERE org_id = $1 AND user_id = $2{}",
        tx.share_rows()
    );
    let found: Option<Uuid> = tx.scalar_opt(&text, &[org.into(), user.into()]).await?;
    found
        .map(|_| ())
        .ok_or_else(|| FieldError::new("user_id", "not_a_member").into())
}

/// The profile's crew roles and languages as rows of their own, for the directory's filters.
async fn write_facets(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid, c: &Checked) -> Result<()> {
    let rows: Vec<(&str, &String)> = c
        .roles
        .iter()
        .map(|r| ("role", r))
        .chain(c.languages.iter().map(|l| ("language", l)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut text = String::from("INSERT INTO talent_profile_facets (facet, value, profile_id) ");
    let mut args: Vec<Arg> = vec![org.into(), id.into()];
    let mut selects = Vec::new();
    for (facet, value) in rows {
        args.push(facet.into());
        args.push(value.into());
        selects.push(format!(
            "SELECT ${}, ${}, id FROM talent_profiles WHERE org_id = $1 AND id = $2",
            args.len() - 1,
            args.len()
        ));
    }
    text.push_str(&selects.join(" UNION ALL "));
    tx.execute(&text, &args).await?;
    Ok(())
}
