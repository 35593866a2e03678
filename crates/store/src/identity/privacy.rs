//! A person's own data: all of it exported as one document, and erased at their word.
//!
//! Erasure keeps what other people's records stand on and nothing that names the person. The
//! account stays as an opaque id ("erased-be653dcc51bc", an address that can receive
//! nothing, a password nothing matches), so the ledger, the audit log, notes, versions, time
//! logs and assignments keep an author who is no one. What was only theirs goes: their
//! memberships, sessions and tokens (revoked, their names blanked), their pending invitations,
//! saved views, carts, stored answers of idempotent requests, their place among a work order's
//! artists, their talent profiles (wherever kept, with credits and calendars) and their
//! verified credits. Every audit row and event about them (their account, their memberships,
//! their profiles and credits) or by them (and every event about what they touched) has their
//! name and e-mail address (and their profiles' names) replaced by the label; the rows of what
//! they did keep their id as the actor. So the history still reads "who did what" through the
//! id alone.
//!
//! A person who is the last owner of an organisation is refused (`identity.last_owner`): the
//! organisation would be left with no one to run it.

use std::collections::BTreeSet;

use mstation_core::validate::FieldError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{IdentityRule, TOKEN_COLS, USER_COLS, User, check_password};
use crate::identity::ApiToken;
use crate::talent::calendar::Entry;
use crate::talent::training::Training;
use crate::talent::{Profile, WorkCredit};
use crate::{Actor, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, now_ms};

/// The password hash of an erased account: nothing matches it, and it tells the erased apart
/// (a wrapped project credits them no more).
pub(crate) const ERASED_HASH: &str = "!";

/// The most rows of one kind an export carries (the newest).
const MOST_ROWS: usize = 50_000;

/// A membership as the person's export shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipRecord {
    pub org_id: Uuid,
    pub org_name: String,
    pub role: String,
    pub joined_at: Millis,
}

impl FromRow for MembershipRecord {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(MembershipRecord {
            org_id: r.get()?,
            org_name: r.get()?,
            role: r.get()?,
            joined_at: r.get()?,
        })
    }
}

/// A task the person is assigned to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentRecord {
    pub org_name: String,
    pub project_name: String,
    pub task_id: Uuid,
    /// The task's type, as its production names it.
    pub task_type: String,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
}

impl FromRow for AssignmentRecord {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(AssignmentRecord {
            org_name: r.get()?,
            project_name: r.get()?,
            task_id: r.get()?,
            task_type: r.get()?,
            start_date: r.get()?,
            due_date: r.get()?,
        })
    }
}

/// A note the person wrote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteRecord {
    pub id: Uuid,
    pub org_name: String,
    pub project_name: String,
    pub body: String,
    /// The frame it is anchored to, if any.
    pub frame: Option<i64>,
    pub created_at: Millis,
}

impl FromRow for NoteRecord {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(NoteRecord {
            id: r.get()?,
            org_name: r.get()?,
            project_name: r.get()?,
            body: r.get()?,
            frame: r.get()?,
            created_at: r.get()?,
        })
    }
}

/// Time the person logged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeRecord {
    pub org_name: String,
    pub task_id: Uuid,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub minutes: i64,
    pub comment: String,
}

impl FromRow for TimeRecord {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(TimeRecord {
            org_name: r.get()?,
            task_id: r.get()?,
            date: r.get()?,
            minutes: r.get()?,
            comment: r.get()?,
        })
    }
}

/// A version the person handed in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionRecord {
    pub id: Uuid,
    pub org_name: String,
    pub task_id: Uuid,
    pub number: i64,
    pub comment: String,
    pub created_at: Millis,
}

impl FromRow for VersionRecord {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(VersionRecord {
            id: r.get()?,
            org_name: r.get()?,
            task_id: r.get()?,
            number: r.get()?,
            comment: r.get()?,
            created_at: r.get()?,
        })
    }
}

/// Something the person did, as the audit log records it (what changed, not its contents).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionRecord {
    pub org_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub at: Millis,
}

impl FromRow for ActionRecord {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(ActionRecord {
            org_id: r.get()?,
            action: r.get()?,
            entity_type: r.get()?,
            entity_id: r.get()?,
            at: r.get()?,
        })
    }
}

/// Everything the platform keeps about a person, as they download it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonalData {
    pub exported_at: Millis,
    pub account: User,
    pub memberships: Vec<MembershipRecord>,
    /// Their API tokens (never a secret).
    pub tokens: Vec<ApiToken>,
    /// Browsers signed in as them now.
    pub sessions: i64,
    /// The talent profiles linked to them, wherever kept, with every field (the birth date and
    /// e-mail address too) and their credits.
    pub profiles: Vec<Profile>,
    /// Those profiles' calendars: holds, bookings and days off.
    pub calendar: Vec<Entry>,
    /// Credits productions gave them for work on the platform.
    pub work_credits: Vec<WorkCredit>,
    /// What schools recorded they completed there (withdrawn ones marked).
    pub training: Vec<Training>,
    pub assignments: Vec<AssignmentRecord>,
    pub notes: Vec<NoteRecord>,
    pub time_logs: Vec<TimeRecord>,
    pub versions: Vec<VersionRecord>,
    /// What they did, newest first.
    pub actions: Vec<ActionRecord>,
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Erased {
    /// The opaque id the person's records now stand on.
    pub user_id: Uuid,
    /// What the records show instead of their name.
    pub label: String,
    pub memberships: u64,
    pub profiles: u64,
    /// Audit rows and events whose words about them were replaced.
    pub redacted: u64,
}

/// What an erased person's records show instead of their name: a handle, the same in every
/// language, that names no one.
pub fn erased_label(id: Uuid) -> String {
    format!("erased-{}", &id.simple().to_string()[20..])
}

/// `s` as it stands inside a JSON string (quotes and backslashes escaped), which is how the
/// audit log and the event stream hold it.
fn in_json(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_string()
}

impl Platform<'_> {
    /// Everything the platform keeps about the person `user_id`, across organisations.
    pub async fn export_person(&self, user_id: Uuid) -> Result<PersonalData> {
        let account = self.user(user_id).await?;
        let u = [user_id.into()];
        let memberships = self
            .read(
                "SELECT o.id, o.name, m.role, m.created_at FROM memberships m JOIN orgs o ON o.id = m.org_id
                 WHERE m.user_id = $1 ORDER BY o.name, o.id",
                &u,
            )
            .await?;
        let tokens = self
            .read(
                &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id LIMIT {MOST_ROWS}"),
                &u,
            )
            .await?;
        let sessions: i64 = self
            .scalar(
                "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2",
                &[user_id.into(), now_ms().into()],
            )
            .await?;
        let (profiles, calendar) = crate::talent::person_profiles(self, user_id).await?;
        let work_credits = crate::talent::person_work_credits(self, user_id).await?;
        let training = crate::talent::training::person_training(self, user_id).await?;
        let assignments = self
            .read(
                &format!(
                    "SELECT o.name, p.name, t.id, tt.name, t.start_date, t.due_date
                     FROM task_assignees a JOIN tasks t ON t.id = a.task_id JOIN orgs o ON o.id = t.org_id
                     JOIN projects p ON p.id = t.project_id JOIN task_types tt ON tt.id = t.task_type_id
                     WHERE a.user_id = $1 ORDER BY o.name, p.name, t.id LIMIT {MOST_ROWS}"
                ),
                &u,
            )
            .await?;
        let notes = self
            .read(
                &format!(
                    "SELECT n.id, o.name, p.name, n.body, n.frame, n.created_at
                     FROM notes n JOIN orgs o ON o.id = n.org_id JOIN projects p ON p.id = n.project_id
                     WHERE n.author_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT {MOST_ROWS}"
                ),
                &u,
            )
            .await?;
        let time_logs = self
            .read(
                &format!(
                    "SELECT o.name, l.task_id, l.date, l.minutes, l.comment
                     FROM time_logs l JOIN orgs o ON o.id = l.org_id
                     WHERE l.user_id = $1 ORDER BY l.date DESC, l.id DESC LIMIT {MOST_ROWS}"
                ),
                &u,
            )
            .await?;
        let versions = self
            .read(
                &format!(
                    "SELECT v.id, o.name, v.task_id, v.number, v.comment, v.created_at
                     FROM versions v JOIN orgs o ON o.id = v.org_id
                     WHERE v.author_id = $1 ORDER BY v.created_at DESC, v.id DESC LIMIT {MOST_ROWS}"
                ),
                &u,
            )
            .await?;
        let actions = self
            .read(
                &format!(
                    "SELECT org_id, action, entity_type, entity_id, at FROM audit_log
                     WHERE actor_id = $1 ORDER BY at DESC, id DESC LIMIT {MOST_ROWS}"
                ),
                &u,
            )
            .await?;
        Ok(PersonalData {
            exported_at: Millis(now_ms()),
            account,
            memberships,
            tokens,
            sessions,
            profiles,
            calendar,
            work_credits,
            training,
            assignments,
            notes,
            time_logs,
            versions,
            actions,
        })
    }

    /// Erases the person `user_id` at their word, given with their password; see the module's
    /// docs for what stays and what goes.
    pub async fn erase_person(&self, user_id: Uuid, password: &str) -> Result<Erased> {
        let (hash,): (String,) = self
            .read_opt(
                "SELECT password_hash FROM users WHERE id = $1",
                &[user_id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound { entity: "user" })?;
        if !check_password(hash, password.to_string()).await {
            return Err(FieldError::new("password", "wrong_password").into());
        }
        self.erase(
            user_id,
            Actor {
                user_id: Some(user_id),
                token_id: None,
            },
        )
        .await
    }

    /// Erases the person `user_id` on the platform operator's word (`mstation admin
    /// erase-user`), for someone who can no longer sign in.
    pub async fn erase_person_for_operator(&self, user_id: Uuid) -> Result<Erased> {
        self.erase(user_id, Actor::system()).await
    }

    async fn erase(&self, user_id: Uuid, actor: Actor) -> Result<Erased> {
        let label = erased_label(user_id);
        let erased = self
            .write(move |tx| {
                Box::pin(async move {
                    let text = format!("SELECT {USER_COLS} FROM users WHERE id = $1{}", tx.lock_rows());
                    let user: User = tx
                        .query_opt(&text, &[user_id.into()])
                        .await?
                        .ok_or(StoreError::NotFound { entity: "user" })?;
                    // An organisation it is the last owner of would be left with no one.
                    // Their memberships are all locked first: a promotion to owner, or a
                    // record given them as a member (a school's training record) made
                    // meanwhile, waits, then finds them gone.
                    let text = format!(
                        "SELECT org_id, role FROM memberships WHERE user_id = $1{}",
                        tx.lock_rows()
                    );
                    let memberships: Vec<(Uuid, String)> = tx.query(&text, &[user_id.into()]).await?;
                    let owned: Vec<(Uuid,)> = memberships
                        .into_iter()
                        .filter(|(_, role)| role == "owner")
                        .map(|(org, _)| (org,))
                        .collect();
                    for (org,) in &owned {
                        super::ensure_another_owner(tx, *org, user_id).await.map_err(|e| {
                            match e {
                                StoreError::Rule(_) => StoreError::from(IdentityRule::LastOwner),
                                other => other,
                            }
                        })?;
                    }
                    // The words that named them: their name and address, their profiles' names.
                    let (profile_names, credits) =
                        crate::talent::erase_person_tx(tx, user_id).await?;
                    crate::orders::forget_artist_tx(tx, user_id).await?;
                    // The words that named them: their name and address, their profiles' names.
                    let mut words: BTreeSet<String> = BTreeSet::new();
                    for w in std::iter::once(&user.display_name)
                        .chain(std::iter::once(&user.email))
                        .chain(profile_names.iter().map(|(_, n)| n))
                    {
                        if !w.trim().is_empty() && *w != label {
                            words.insert(w.clone());
                        }
                    }
                    // What is about them: their account (and membership), profiles, credits
                    // and the invitations sent to their address.
                    let invited: Vec<(Uuid,)> = tx
                        .query("SELECT id FROM invitations WHERE email = $1", &[(&user.email).into()])
                        .await?;
                    let about: Vec<Uuid> = std::iter::once(user_id)
                        .chain(profile_names.iter().map(|(id, _)| *id))
                        .chain(credits.iter().copied())
                        .chain(invited.iter().map(|(id,)| *id))
                        .collect();
                    let memberships = tx
                        .execute("DELETE FROM memberships WHERE user_id = $1", &[user_id.into()])
                        .await?;
                    tx.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])
                        .await?;
                    tx.execute(
                        "UPDATE api_tokens SET name = '', revoked_at = COALESCE(revoked_at, $2) WHERE user_id = $1",
                        &[user_id.into(), now_ms().into()],
                    )
                    .await?;
                    tx.execute("DELETE FROM invitations WHERE email = $1", &[(&user.email).into()])
                        .await?;
                    tx.execute("DELETE FROM saved_views WHERE user_id = $1", &[user_id.into()])
                        .await?;
                    tx.execute("DELETE FROM market_cart WHERE user_id = $1", &[user_id.into()])
                        .await?;
                    tx.execute("DELETE FROM idempotency_keys WHERE user_id = $1", &[user_id.into()])
                        .await?;
                    tx.execute(
                        "UPDATE users SET email = $2, display_name = $3, password_hash = $4, locale = NULL, timezone = NULL,
                             is_operator = FALSE, version = version + 1
                         WHERE id = $1",
                        &[
                            user_id.into(),
                            format!("erased-{}@erased.invalid", user_id.simple()).into(),
                            (&label).into(),
                            ERASED_HASH.into(),
                        ],
                    )
                    .await?;
                    let words: Vec<String> = words.into_iter().collect();
                    let redacted = redact_history(tx, user_id, &about, &words, &label).await?;
                    let change = Change::new(None, "user.erased", "user", user_id);
                    tx.record(&actor, change).await?;
                    Ok(Erased {
                        user_id,
                        label: label.clone(),
                        memberships,
                        profiles: profile_names.len() as u64,
                        redacted,
                    })
                })
            })
            .await?;
        self.store.tokens.invalidate();
        Ok(erased)
    }
}

/// The keys whose string values, in a record about the person, are their name or address
/// whatever they say (an earlier name, an earlier address).
const NAMING_KEYS: [&str; 3] = ["display_name", "name", "email"];

/// Replaces in `v` every string that is one of `words` (an address in any case) by `label`;
/// in a record about the person (`own`), also every value of a naming key. Only whole values
/// are replaced: a word inside another (Lin in Lincoln) and the keys stay as they are.
fn scrub(v: &mut serde_json::Value, words: &[String], label: &str, own: bool) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let named = words
                .iter()
                .any(|w| w == s || (w.contains('@') && w.eq_ignore_ascii_case(s)));
            if named && s != label {
                *s = label.to_string();
            }
            named
        }
        Value::Array(items) => {
            // Every item, not only up to the first that changed.
            let mut changed = false;
            for x in items.iter_mut() {
                changed |= scrub(x, words, label, own);
            }
            changed
        }
        Value::Object(map) => {
            let mut changed = false;
            for (k, x) in map.iter_mut() {
                if own && NAMING_KEYS.contains(&k.as_str()) && x.is_string() {
                    if x.as_str() != Some(label) {
                        *x = Value::String(label.to_string());
                        changed = true;
                    }
                } else {
                    changed |= scrub(x, words, label, own);
                }
            }
            changed
        }
        _ => false,
    }
}

/// `text` (a record's JSON) scrubbed, if that changed it.
fn scrubbed(text: Option<&str>, words: &[String], label: &str, own: bool) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(text?).ok()?;
    scrub(&mut v, words, label, own).then(|| v.to_string())
}

/// Inside the erasure: the audit rows and events about the person (`about`: their account,
/// profiles, credits, invitations) lose every naming value; the rows they acted in, and the
/// events of what they touched, lose every value that is one of their `words` (found first by
/// the words' text). Returns how many rows changed.
async fn redact_history(
    tx: &mut crate::WriteTx<'_>,
    user: Uuid,
    about: &[Uuid],
    words: &[String],
    label: &str,
) -> Result<u64> {
    let mut changed = 0;
    let ids: Vec<crate::Arg> = about.iter().map(|id| (*id).into()).collect();
    let marks = |from: usize| -> String {
        (from..from + about.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Rows by them are found by their words' text first (escaped for LIKE), then read whole.
    let likes = |cols: &[&str]| -> (String, Vec<crate::Arg>) {
        let mut args: Vec<crate::Arg> = vec![user.into()];
        let mut ors = Vec::new();
        for w in words {
            args.push(crate::tracking::grid::contains_pattern(&in_json(w)).into());
            let n = args.len();
            for c in cols {
                ors.push(format!("{c} LIKE ${n} ESCAPE '\\'"));
            }
        }
        if ors.is_empty() {
            ors.push("1 = 0".to_string());
        }
        (ors.join(" OR "), args)
    };
    let (audit_words, audit_args) = likes(&["before", "after"]);
    let (outbox_words, outbox_args) = likes(&["payload"]);
    let rows: Vec<(Uuid, Option<String>, Option<String>, bool)> = {
        let mut rows = Vec::new();
        let about_rows: Vec<(Uuid, Option<String>, Option<String>)> = tx
            .query(
                &format!(
                    "SELECT id, before, after FROM audit_log WHERE entity_id IN ({})",
                    marks(1)
                ),
                &ids,
            )
            .await?;
        rows.extend(about_rows.into_iter().map(|(i, b, a)| (i, b, a, true)));
        let by_rows: Vec<(Uuid, Option<String>, Option<String>)> = tx
            .query(
                &format!("SELECT id, before, after FROM audit_log WHERE actor_id = $1 AND ({audit_words})"),
                &audit_args,
            )
            .await?;
        rows.extend(
            by_rows
                .into_iter()
                .filter(|(i, _, _)| !rows.iter().any(|r| r.0 == *i))
                .map(|(i, b, a)| (i, b, a, false))
                .collect::<Vec<_>>(),
        );
        rows
    };
    for (id, before, after, own) in rows {
        let b = scrubbed(before.as_deref(), words, label, own);
        let a = scrubbed(after.as_deref(), words, label, own);
        if b.is_none() && a.is_none() {
            continue;
        }
        tx.execute(
            "UPDATE audit_log SET before = $2, after = $3 WHERE id = $1",
            &[id.into(), b.or(before).into(), a.or(after).into()],
        )
        .await?;
        changed += 1;
    }
    let mut events: Vec<(Uuid, String, bool)> = {
        let about_events: Vec<(Uuid, String)> = tx
            .query(
                &format!(
                    "SELECT id, payload FROM outbox WHERE entity_id IN ({})",
                    marks(1)
                ),
                &ids,
            )
            .await?;
        about_events
            .into_iter()
            .map(|(i, p)| (i, p, true))
            .collect()
    };
    let touched: Vec<(Uuid, String)> = tx
        .query(
            &format!(
                "SELECT id, payload FROM outbox WHERE entity_id IN (SELECT entity_id FROM audit_log WHERE actor_id = $1 AND entity_id IS NOT NULL)
                   AND ({outbox_words})"
            ),
            &outbox_args,
        )
        .await?;
    for (i, p) in touched {
        if !events.iter().any(|e| e.0 == i) {
            events.push((i, p, false));
        }
    }
    for (id, payload, own) in events {
        if let Some(p) = scrubbed(Some(&payload), words, label, own) {
            tx.execute(
                "UPDATE outbox SET payload = $2 WHERE id = $1",
                &[id.into(), p.into()],
            )
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_opaque_and_words_are_found_as_json_holds_them() {
        let id = Uuid::parse_str("01a250df-6ba1-7597-b962-be653dcc51bc").unwrap();
        assert_eq!(erased_label(id), "erased-be653dcc51bc");
        assert_eq!(in_json("Lin \"Q\" 乔"), "Lin \\\"Q\\\" 乔");
        assert_eq!(in_json("a\\b"), "a\\\\b");
    }
}
