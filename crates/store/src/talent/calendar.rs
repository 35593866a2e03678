//! A person's availability (`talent_calendar`, migration 0062): ranked pencil holds, confirmed
//! bookings and days off, each a run of days (inclusive), kept by the profile's organisation.
//! Holds may overlap anything (that is what a second pencil is); a booking or a day off may
//! not overlap a booking or a day off. Others see only when the person is busy, never on what.

use mstation_core::Permission;
use mstation_core::market::valid_date;
use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{TalentRule, one_line};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, new_id, now_ms,
};

/// What a run of days in a person's calendar is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A pencil: the days are wanted, not yet confirmed. Holds on the same days rank by age.
    Hold,
    /// Confirmed work.
    Booking,
    /// The person is not working.
    Off,
}

impl EntryKind {
    pub const ALL: [EntryKind; 3] = [EntryKind::Hold, EntryKind::Booking, EntryKind::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Hold => "hold",
            EntryKind::Booking => "booking",
            EntryKind::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A run of days in the calendar, as its keeper reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Entry {
    pub id: Uuid,
    pub profile_id: Uuid,
    pub kind: EntryKind,
    /// `YYYY-MM-DD`, inclusive.
    pub starts_on: String,
    /// `YYYY-MM-DD`, inclusive.
    pub ends_on: String,
    /// The production or the reason, as written.
    pub what: String,
    /// For a hold: 1 for the first pencil on its days, 2 for the second, and so on.
    pub rank: Option<i64>,
    pub created_at: Millis,
}

const ENTRY_COLS: &str = "id, profile_id, kind, starts_on, ends_on, what, created_at";

impl FromRow for Entry {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, profile_id) = (r.get()?, r.get()?);
        let kind: String = r.get()?;
        Ok(Entry {
            id,
            profile_id,
            // Written by this store from `as_str`.
            kind: EntryKind::parse(&kind).unwrap_or(EntryKind::Hold),
            starts_on: r.get()?,
            ends_on: r.get()?,
            what: r.get()?,
            rank: None,
            created_at: r.get()?,
        })
    }
}

/// A run of days the person is busy, as anyone who finds the profile sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Busy {
    pub starts_on: String,
    pub ends_on: String,
}

/// A profile's calendar over some days: all of it for its keeper, the busy days for others.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Calendar {
    pub from: String,
    pub to: String,
    /// The keeper's view; empty for others.
    pub entries: Vec<Entry>,
    /// Every day taken by anything (an entry, or a task the person is assigned to in the
    /// keeping organisation), merged into runs.
    pub busy: Vec<Busy>,
    /// The days the person's tasks in the keeping organisation take (start to due): the
    /// keeper's view; empty for others, who see them only as busy.
    pub tasks: Vec<Busy>,
}

/// A run of days as its keeper writes it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    pub kind: EntryKind,
    pub starts_on: String,
    pub ends_on: String,
    #[serde(default)]
    pub what: String,
}

/// The longest run of days one entry holds.
const MOST_DAYS: i64 = 366;

/// Days between two `YYYY-MM-DD` dates (checked), `to` after `from` counting positive.
pub(super) fn days_between(from: &str, to: &str) -> Option<i64> {
    let f: jiff::civil::Date = from.parse().ok()?;
    let t: jiff::civil::Date = to.parse().ok()?;
    Some(i64::from(f.until(t).ok()?.get_days()))
}

/// Whether two inclusive runs of days share a day.
fn overlap(a: (&str, &str), b: (&str, &str)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// Runs of days (first, last), merged (touching runs are one).
fn merged(runs: impl IntoIterator<Item = (String, String)>) -> Vec<Busy> {
    let mut runs: Vec<(String, String)> = runs.into_iter().collect();
    runs.sort();
    let mut out: Vec<Busy> = Vec::new();
    for (s, e) in runs {
        match out.last_mut() {
            Some(last) if days_between(&last.ends_on, &s).is_some_and(|d| d <= 1) => {
                if e > last.ends_on {
                    last.ends_on = e;
                }
            }
            _ => out.push(Busy {
                starts_on: s,
                ends_on: e,
            }),
        }
    }
    out
}

/// Each hold's rank among `holds` (every hold that shares a day with one of `entries`): 1 +
/// the holds on any of its days made before it.
fn ranked(mut entries: Vec<Entry>, holds: &[Entry]) -> Vec<Entry> {
    for e in entries.iter_mut().filter(|e| e.kind == EntryKind::Hold) {
        let before = holds
            .iter()
            .filter(|h| {
                (h.created_at.0, h.id) < (e.created_at.0, e.id)
                    && overlap((&h.starts_on, &h.ends_on), (&e.starts_on, &e.ends_on))
            })
            .count();
        e.rank = Some(before as i64 + 1);
    }
    entries
}

/// Runs of days cut to the days from `from` to `to`: what they say of those days only.
fn clipped<'r>(
    runs: impl IntoIterator<Item = (&'r str, &'r str)>,
    from: &str,
    to: &str,
) -> Vec<(String, String)> {
    runs.into_iter()
        .map(|(s, e)| (s.max(from).to_string(), e.min(to).to_string()))
        .collect()
}

impl Tenant<'_> {
    /// The profile's calendar from `from` to `to` (inclusive, at most a year and a bit; by
    /// default the next 90 days): its keeper reads every entry, others who may find the
    /// profile only the busy days.
    pub async fn calendar(
        &self,
        profile_id: Uuid,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Calendar> {
        let today = crate::market::sale_day();
        let from = from.filter(|f| !f.is_empty()).unwrap_or(&today).to_string();
        if !valid_date(&from) {
            return Err(FieldError::new("from", "not_a_date").into());
        }
        let to = match to.filter(|t| !t.is_empty()) {
            Some(t) => t.to_string(),
            None => {
                let f: jiff::civil::Date = from
                    .parse()
                    .map_err(|_| FieldError::new("from", "not_a_date"))?;
                f.checked_add(jiff::Span::new().days(89))
                    .map_err(|_| FieldError::new("from", "not_a_date"))?
                    .to_string()
            }
        };
        if !valid_date(&to) {
            return Err(FieldError::new("to", "not_a_date").into());
        }
        match days_between(&from, &to) {
            Some(d) if d < 0 => return Err(FieldError::new("to", "before_start").into()),
            Some(d) if d >= 400 => return Err(FieldError::new("to", "too_long").into()),
            None => return Err(FieldError::new("to", "not_a_date").into()),
            _ => {}
        }
        let org = self.org_id();
        // Found as the profile is: its keeper's, or shown to the platform.
        let found: Option<(Uuid, Option<Uuid>)> = self
            .read_opt(
                "SELECT org_id, user_id FROM talent_profiles WHERE id = $2 AND (org_id = $1 OR visibility = 'platform')",
                &[org.into(), profile_id.into()],
            )
            .await?;
        let (keeper, person) = found.ok_or(StoreError::NotFound { entity: "profile" })?;
        // What the person's tasks take, read through tracking's own function.
        let task_runs = match person {
            Some(user) => {
                crate::tracking::crew::task_days(&self.platform(), keeper, user, &from, &to).await?
            }
            None => Vec::new(),
        };
        let all: Vec<Entry> = self
            .read(
                &format!(
                    "SELECT {ENTRY_COLS} FROM talent_calendar
                     WHERE profile_id = $2 AND org_id = (SELECT org_id FROM talent_profiles WHERE id = $2 AND (org_id = $1 OR visibility = 'platform'))
                       AND ends_on >= $3 AND starts_on <= $4
                     ORDER BY starts_on, id LIMIT 2000"
                ),
                &[org.into(), profile_id.into(), (&from).into(), (&to).into()],
            )
            .await?;
        // What the days asked about say, and nothing of the days beyond them.
        let runs = all
            .iter()
            .map(|e| (e.starts_on.as_str(), e.ends_on.as_str()))
            .chain(task_runs.iter().map(|(s, e)| (s.as_str(), e.as_str())));
        let busy = merged(clipped(runs, &from, &to));
        let tasks = merged(clipped(
            task_runs.iter().map(|(s, e)| (s.as_str(), e.as_str())),
            &from,
            &to,
        ));
        // Entries, what they are for and their ranks are for those who keep the profile.
        let keeps = keeper == org && self.scope().can(Permission::ManageTalent);
        let entries = if keeps {
            let holds: Vec<&Entry> = all.iter().filter(|e| e.kind == EntryKind::Hold).collect();
            let span = (
                holds.iter().map(|h| h.starts_on.clone()).min(),
                holds.iter().map(|h| h.ends_on.clone()).max(),
            );
            let around: Vec<Entry> = match span {
                (Some(lo), Some(hi)) => {
                    self.read(
                        &format!(
                            "SELECT {ENTRY_COLS} FROM talent_calendar
                             WHERE org_id = $1 AND profile_id = $2 AND kind = 'hold' AND ends_on >= $3 AND starts_on <= $4
                             LIMIT 5000"
                        ),
                        &[org.into(), profile_id.into(), lo.into(), hi.into()],
                    )
                    .await?
                }
                _ => Vec::new(),
            };
            ranked(all, &around)
        } else {
            Vec::new()
        };
        Ok(Calendar {
            from,
            to,
            entries,
            busy,
            tasks: if keeps { tasks } else { Vec::new() },
        })
    }

    /// Writes a run of days into one of the organisation's profiles' calendars.
    pub async fn add_entry(&self, profile_id: Uuid, new: NewEntry) -> Result<Entry> {
        // Another organisation's profile is not found, whatever the days say.
        self.profile_kept(profile_id).await?;
        if !valid_date(&new.starts_on) {
            return Err(FieldError::new("starts_on", "not_a_date").into());
        }
        if !valid_date(&new.ends_on) {
            return Err(FieldError::new("ends_on", "not_a_date").into());
        }
        match days_between(&new.starts_on, &new.ends_on) {
            Some(d) if d < 0 => return Err(FieldError::new("ends_on", "before_start").into()),
            Some(d) if d >= MOST_DAYS => return Err(FieldError::new("ends_on", "too_long").into()),
            None => return Err(FieldError::new("ends_on", "not_a_date").into()),
            _ => {}
        }
        let what = validate::text("what", &new.what, 200)?;
        if !one_line(&what) {
            return Err(FieldError::new("what", "one_line").into());
        }
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                // The profile locked: two bookings of its days take turns.
                super::kept(tx, org, profile_id, false).await?;
                if new.kind != EntryKind::Hold {
                    taken(tx, org, profile_id, None, &new.starts_on, &new.ends_on).await?;
                }
                let e = Entry {
                    id: new_id(),
                    profile_id,
                    kind: new.kind,
                    starts_on: new.starts_on,
                    ends_on: new.ends_on,
                    what,
                    rank: None,
                    created_at: Millis(now_ms()),
                };
                tx.execute(
                    &format!("INSERT INTO talent_calendar (org_id, {ENTRY_COLS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
                    &[
                        org.into(),
                        e.id.into(),
                        profile_id.into(),
                        e.kind.as_str().into(),
                        (&e.starts_on).into(),
                        (&e.ends_on).into(),
                        (&e.what).into(),
                        e.created_at.into(),
                        scope.user_id.into(),
                    ],
                )
                .await?;
                let change = Change::new(Some(org), "calendar_entry.created", "calendar_entry", e.id);
                tx.record(&Actor::of(&scope), change.after(&e)).await?;
                Ok(e)
            })
        })
        .await
    }

    /// Confirms a hold: its days become a booking, if no booking or day off takes them.
    pub async fn confirm_entry(&self, profile_id: Uuid, entry_id: Uuid) -> Result<Entry> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                super::kept(tx, org, profile_id, false).await?;
                let before: Entry = tx
                    .query_opt(
                        &format!("SELECT {ENTRY_COLS} FROM talent_calendar WHERE org_id = $1 AND id = $2 AND profile_id = $3"),
                        &[org.into(), entry_id.into(), profile_id.into()],
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "calendar_entry" })?;
                if before.kind != EntryKind::Hold {
                    return Err(TalentRule::NotAHold.into());
                }
                taken(tx, org, profile_id, Some(entry_id), &before.starts_on, &before.ends_on).await?;
                let changed = tx
                    .execute(
                        "UPDATE talent_calendar SET kind = 'booking' WHERE org_id = $1 AND id = $2",
                        &[org.into(), entry_id.into()],
                    )
                    .await?;
                if changed != 1 {
                    return Err(StoreError::NotFound {
                        entity: "calendar_entry",
                    });
                }
                let after = Entry {
                    kind: EntryKind::Booking,
                    ..before.clone()
                };
                let change = Change::new(Some(org), "calendar_entry.confirmed", "calendar_entry", entry_id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Removes a run of days from one of the organisation's profiles' calendars (a later
    /// hold on its days moves up).
    pub async fn delete_entry(&self, profile_id: Uuid, entry_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                // Taking turns with a confirmation of the same days.
                super::kept(tx, org, profile_id, false).await?;
                let before: Entry = tx
                    .query_opt(
                        &format!("SELECT {ENTRY_COLS} FROM talent_calendar WHERE org_id = $1 AND id = $2 AND profile_id = $3"),
                        &[org.into(), entry_id.into(), profile_id.into()],
                    )
                    .await?
                    .ok_or(StoreError::NotFound { entity: "calendar_entry" })?;
                tx.execute(
                    "DELETE FROM talent_calendar WHERE org_id = $1 AND id = $2",
                    &[org.into(), entry_id.into()],
                )
                .await?;
                let change = Change::new(Some(org), "calendar_entry.deleted", "calendar_entry", entry_id);
                tx.record(&Actor::of(&scope), change.before(&before)).await?;
                Ok(())
            })
        })
        .await
    }
}

/// `talent.days_taken` if a booking or a day off of the profile (other than `except`) shares
/// a day with `from`..=`to`.
async fn taken(
    tx: &mut crate::WriteTx<'_>,
    org: Uuid,
    profile_id: Uuid,
    except: Option<Uuid>,
    from: &str,
    to: &str,
) -> Result<()> {
    let clash: Option<Uuid> = tx
        .scalar_opt(
            "SELECT id FROM talent_calendar
             WHERE org_id = $1 AND profile_id = $2 AND kind <> 'hold' AND ($3 IS NULL OR id <> $3)
               AND starts_on <= $5 AND ends_on >= $4 LIMIT 1",
            &[
                org.into(),
                profile_id.into(),
                except.into(),
                from.into(),
                to.into(),
            ],
        )
        .await?;
    match clash {
        Some(_) => Err(TalentRule::DaysTaken.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: EntryKind, s: &str, e: &str, n: u128) -> Entry {
        Entry {
            id: Uuid::from_u128(n),
            profile_id: Uuid::nil(),
            kind,
            starts_on: s.into(),
            ends_on: e.into(),
            what: String::new(),
            rank: None,
            created_at: Millis(0),
        }
    }

    #[test]
    fn touching_and_overlapping_runs_merge_and_holds_rank_by_age() {
        let es = vec![
            entry(EntryKind::Hold, "2027-01-10", "2027-01-20", 1),
            entry(EntryKind::Hold, "2027-01-15", "2027-01-16", 2),
            entry(EntryKind::Booking, "2027-01-21", "2027-01-25", 3),
            entry(EntryKind::Off, "2027-02-01", "2027-02-01", 4),
            entry(EntryKind::Hold, "2027-01-30", "2027-01-31", 5),
        ];
        assert_eq!(
            merged(es.iter().map(|e| (e.starts_on.clone(), e.ends_on.clone()))),
            vec![
                Busy {
                    starts_on: "2027-01-10".into(),
                    ends_on: "2027-01-25".into()
                },
                Busy {
                    starts_on: "2027-01-30".into(),
                    ends_on: "2027-02-01".into()
                },
            ]
        );
        let holds = es.clone();
        let ranks: Vec<Option<i64>> = ranked(es, &holds).iter().map(|e| e.rank).collect();
        assert_eq!(ranks, vec![Some(1), Some(2), None, None, Some(1)]);
        assert_eq!(days_between("2027-12-31", "2028-01-01"), Some(1));
        assert_eq!(days_between("2028-02-28", "2028-03-01"), Some(2));
        assert!(overlap(
            ("2027-01-01", "2027-01-05"),
            ("2027-01-05", "2027-01-09")
        ));
        assert!(!overlap(
            ("2027-01-01", "2027-01-04"),
            ("2027-01-05", "2027-01-09")
        ));
    }
}
