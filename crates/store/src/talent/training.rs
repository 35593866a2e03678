//! Training records: a school (an organisation of kind `university`) records what one of its
//! members studied and completed there (a degree, a diploma, a certificate, a course, a
//! workshop), and every profile linked to that person shows it as verified, naming the school.
//! Only a school issues them, only to its own members, and it alone withdraws them; a
//! withdrawn record stays, marked, for the school and the person's own export.

use mstation_core::OrgKind;
use mstation_core::market::valid_date;
use mstation_core::talent;
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{TalentRule, member_of};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, Tenant, new_id,
    now_ms,
};

/// What a record says was completed.
pub const KINDS: [&str; 5] = ["degree", "diploma", "certificate", "course", "workshop"];

/// A school's record of what a person completed there.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Training {
    pub id: Uuid,
    /// The school that issued it.
    pub org_id: Uuid,
    pub org_name: String,
    /// The person, and their name: for the school only.
    pub user_id: Option<Uuid>,
    pub name: Option<String>,
    /// The programme or course, as the school names it.
    pub programme: String,
    /// One of `degree`, `diploma`, `certificate`, `course`, `workshop`.
    pub kind: String,
    /// The department of the crew-role taxonomy it trains for, if one.
    pub department: Option<String>,
    /// `YYYY-MM-DD`; the day it was completed, and the first day if said.
    pub starts_on: Option<String>,
    pub ends_on: String,
    /// Hours of teaching, if said.
    pub hours: Option<i64>,
    pub created_at: Millis,
    /// When the school withdrew it (then no profile shows it); the school and the person's own
    /// export only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Millis>,
}

/// A record to issue.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTraining {
    /// A member of the school.
    pub user_id: Uuid,
    pub programme: String,
    pub kind: String,
    pub department: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: String,
    pub hours: Option<i64>,
}

/// The columns of a record as the school (`$1`) reads it.
const SCHOOL_COLS: &str = "t.id, t.org_id, (SELECT o.name FROM orgs o WHERE o.id = t.org_id), t.user_id, (SELECT u.display_name FROM users u WHERE u.id = t.user_id), t.programme, t.kind, t.department, t.starts_on, t.ends_on, t.hours, t.created_at, t.withdrawn_at";

/// The columns of a record as a profile shows it: the school, not the person's account.
pub(crate) const SHOWN_COLS: &str = "t.id, t.org_id, (SELECT o.name FROM orgs o WHERE o.id = t.org_id), NULL, NULL, t.programme, t.kind, t.department, t.starts_on, t.ends_on, t.hours, t.created_at, t.withdrawn_at";

impl FromRow for Training {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, org_id, org_name, user_id, name) =
            (r.get()?, r.get()?, r.get()?, r.get()?, r.get()?);
        Ok(Training {
            id,
            org_id,
            org_name,
            user_id,
            name,
            programme: r.get()?,
            kind: r.get()?,
            department: r.get()?,
            starts_on: r.get()?,
            ends_on: r.get()?,
            hours: r.get()?,
            created_at: r.get()?,
            withdrawn_at: r.get()?,
        })
    }
}

/// A record as asked, checked field by field.
fn check(input: &NewTraining) -> Result<NewTraining> {
    let programme = validate::name("programme", &input.programme, 200)?;
    let kind = input.kind.trim();
    if !KINDS.contains(&kind) {
        return Err(FieldError::new("kind", "not_a_training_kind").into());
    }
    let department = match input.department.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) if talent::is_department(d) => Some(d.to_string()),
        Some(_) => return Err(FieldError::new("department", "not_a_department").into()),
    };
    let ends_on = input.ends_on.trim();
    if ends_on.is_empty() {
        return Err(FieldError::new("ends_on", "required").into());
    }
    if !valid_date(ends_on) {
        return Err(FieldError::new("ends_on", "not_a_date").into());
    }
    let starts_on = match input.starts_on.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if !valid_date(s) => {
            return Err(FieldError::new("starts_on", "not_a_date").into());
        }
        Some(s) if s > ends_on => return Err(FieldError::new("ends_on", "before_start").into()),
        Some(s) => Some(s.to_string()),
    };
    if input.hours.is_some_and(|h| !(1..=20_000).contains(&h)) {
        return Err(FieldError::new("hours", "out_of_range").into());
    }
    Ok(NewTraining {
        user_id: input.user_id,
        programme,
        kind: kind.to_string(),
        department,
        starts_on,
        ends_on: ends_on.to_string(),
        hours: input.hours,
    })
}

impl Tenant<'_> {
    /// Records that a member of the school completed a programme there: every profile linked
    /// to them shows it as verified. Only an organisation of kind `university` issues them.
    /// Any other organisation is refused first, whatever it asked.
    pub async fn issue_training(&self, input: &NewTraining) -> Result<Training> {
        let scope = self.scope().clone();
        let id = new_id();
        let input = input.clone();
        self.write(move |tx| {
            let input = input.clone();
            Box::pin(async move {
                let org = scope.org_id;
                let kind: Option<String> = tx
                    .scalar_opt("SELECT kind FROM orgs WHERE id = $1", &[org.into()])
                    .await?;
                if kind.as_deref() != Some(OrgKind::University.as_str()) {
                    return Err(TalentRule::NotASchool.into());
                }
                let t = check(&input)?;
                // Shared until this commits: an erasure of the person waits, then finds the
                // record and deletes it with the rest.
                member_of(tx, org, t.user_id).await?;
                let now = Millis(now_ms());
                tx.execute(
                    "INSERT INTO talent_training (id, org_id, user_id, programme, kind, department, starts_on, ends_on, hours, created_by, created_at)
                     VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[
                        org.into(),
                        id.into(),
                        t.user_id.into(),
                        (&t.programme).into(),
                        (&t.kind).into(),
                        t.department.clone().into(),
                        t.starts_on.clone().into(),
                        (&t.ends_on).into(),
                        t.hours.into(),
                        scope.user_id.into(),
                        now.into(),
                    ],
                )
                .await?;
                let issued: Training = tx
                    .query(
                        &format!("SELECT {SCHOOL_COLS} FROM talent_training t WHERE t.org_id = $1 AND t.id = $2"),
                        &[org.into(), id.into()],
                    )
                    .await?
                    .pop()
                    .ok_or(StoreError::NotFound { entity: "training" })?;
                let change = Change::new(Some(org), "training.issued", "training", id).after(&issued);
                tx.record(&Actor::of(&scope), change).await?;
                Ok(())
            })
        })
        .await?;
        self.training_record(id).await
    }

    /// The member of the organisation whose account has the e-mail address `email` (in any
    /// case); none for an address of no member, whether or not it has an account elsewhere.
    pub async fn member_by_email(&self, email: &str) -> Result<Option<Uuid>> {
        let email = email.trim().to_lowercase();
        self.scalar_opt(
            "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 AND u.email = $2",
            &[self.org_id().into(), email.into()],
        )
        .await
    }

    /// One of the school's records, withdrawn or not.
    pub async fn training_record(&self, id: Uuid) -> Result<Training> {
        self.read(
            &format!(
                "SELECT {SCHOOL_COLS} FROM talent_training t WHERE t.org_id = $1 AND t.id = $2"
            ),
            &[self.org_id().into(), id.into()],
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound { entity: "training" })
    }

    /// The records the school issued, the latest completed first (withdrawn ones marked).
    pub async fn school_training(&self) -> Result<Vec<Training>> {
        self.read(
            &format!(
                "SELECT {SCHOOL_COLS} FROM talent_training t WHERE t.org_id = $1
                 ORDER BY t.ends_on DESC, t.created_at DESC, t.id DESC LIMIT 10000"
            ),
            &[self.org_id().into()],
        )
        .await
    }

    /// Withdraws one of the school's records (issued by mistake): no profile shows it again.
    /// Withdrawing it again changes nothing.
    pub async fn withdraw_training(&self, id: Uuid) -> Result<Training> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before: Training = tx
                    .query(
                        &format!(
                            "SELECT {SCHOOL_COLS} FROM talent_training t WHERE t.org_id = $1 AND t.id = $2{}",
                            tx.lock_rows()
                        ),
                        &[org.into(), id.into()],
                    )
                    .await?
                    .pop()
                    .ok_or(StoreError::NotFound { entity: "training" })?;
                if before.withdrawn_at.is_none() {
                    let now = Millis(now_ms());
                    tx.execute(
                        "UPDATE talent_training SET withdrawn_at = $3 WHERE org_id = $1 AND id = $2",
                        &[org.into(), id.into(), now.into()],
                    )
                    .await?;
                    let after = Training {
                        withdrawn_at: Some(now),
                        ..before.clone()
                    };
                    let change = Change::new(Some(org), "training.withdrawn", "training", id)
                        .before(&before)
                        .after(&after);
                    tx.record(&Actor::of(&scope), change).await?;
                }
                Ok(())
            })
        })
        .await?;
        self.training_record(id).await
    }
}

/// The records schools issued the person `user`, as the person reads them (withdrawn ones
/// marked).
pub(crate) async fn person_training(p: &Platform<'_>, user: Uuid) -> Result<Vec<Training>> {
    p.read(
        &format!(
            "SELECT {SHOWN_COLS} FROM talent_training t WHERE t.user_id = $1
             ORDER BY t.ends_on DESC, t.id DESC LIMIT 50000"
        ),
        &[user.into()],
    )
    .await
}
