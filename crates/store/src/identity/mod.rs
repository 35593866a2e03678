//! Identity: organisations, users, memberships, invitations, sessions, API tokens and
//! collaboration grants. Secrets (passwords, tokens) are kept only as hashes.

pub mod audit;
pub mod privacy;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mstation_core::identity::UnknownName;
use mstation_core::validate::{self, FieldError};
use mstation_core::{OrgKind, Role, TenantScope, TokenScope};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, StoreError,
    Tenant, WriteTx, check_version, dup, new_id, now_ms,
};

/// The rules of identity a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityRule {
    RoleNotAssignable,
    LastOwner,
    InvitationExpired,
    InvitationForOtherEmail,
    SignInToAccept,
    PasswordHashFailed,
}

impl IdentityRule {
    pub const ALL: [IdentityRule; 6] = [
        IdentityRule::RoleNotAssignable,
        IdentityRule::LastOwner,
        IdentityRule::InvitationExpired,
        IdentityRule::InvitationForOtherEmail,
        IdentityRule::SignInToAccept,
        IdentityRule::PasswordHashFailed,
    ];

    /// The stable code a caller can match on.
    pub const fn code(self) -> &'static str {
        match self {
            IdentityRule::RoleNotAssignable => "identity.role_not_assignable",
            IdentityRule::LastOwner => "identity.last_owner",
            IdentityRule::InvitationExpired => "identity.invitation_expired",
            IdentityRule::InvitationForOtherEmail => "identity.invitation_for_other_email",
            IdentityRule::SignInToAccept => "identity.sign_in_to_accept",
            IdentityRule::PasswordHashFailed => "identity.password_hash_failed",
        }
    }
}
// ----- for other contexts, inside their writes -----

/// Inside a write: whether `user` is a member of `org`.
/// Inside a platform write: whether `org` is an organisation of the platform (for other
/// contexts, e.g. an invitation to bid).
pub(crate) async fn org_exists(tx: &mut WriteTx<'_>, org: Uuid) -> Result<bool> {
    let found: Option<Uuid> = tx
        .scalar_opt("SELECT id FROM orgs WHERE id = $1", &[org.into()])
        .await?;
    Ok(found.is_some())
}

pub(crate) async fn is_member(tx: &mut WriteTx<'_>, org: Uuid, user: Uuid) -> Result<bool> {
    let found: Option<Uuid> = tx
        .scalar_opt(
            "SELECT user_id FROM memberships WHERE org_id = $1 AND user_id = $2",
            &[org.into(), user.into()],
        )
        .await?;
    Ok(found.is_some())
}

/// Inside a write: the members of `org` with the e-mail address `email`, or (with `by_name`)
/// whose display name is `name` in any case; at most two, so a caller can tell one from many.
pub(crate) async fn members_called(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    who: &str,
    by_name: bool,
) -> Result<Vec<Uuid>> {
    let text = if by_name {
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id
         WHERE m.org_id = $1 AND LOWER(u.display_name) = LOWER($2) LIMIT 2"
    } else {
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id
         WHERE m.org_id = $1 AND u.email = $2 LIMIT 2"
    };
    let found: Vec<(Uuid,)> = tx.query(text, &[org.into(), who.into()]).await?;
    Ok(found.into_iter().map(|(id,)| id).collect())
}

/// Inside a write: an organisation always keeps an owner; refuses to demote or remove the last
/// one.
async fn ensure_another_owner(tx: &mut WriteTx<'_>, org: Uuid, leaving: Uuid) -> Result<()> {
    // Two owners demoting each other at once must not both see the other one: the row lock
    // on the organisation makes the second wait for the first.
    tx.execute(
        "UPDATE orgs SET version = version WHERE id = $1",
        &[org.into()],
    )
    .await?;
    let others: i64 = tx
        .scalar(
            "SELECT COUNT(*) FROM memberships
             WHERE org_id = $1 AND role = 'owner' AND user_id <> $2",
            &[org.into(), leaving.into()],
        )
        .await?;
    if others == 0 {
        return Err(StoreError::from(IdentityRule::LastOwner));
    }
    Ok(())
}

/// A stored role or organisation kind, read inside a write.
fn name_col<T: TryFrom<String, Error = UnknownName>>(r: &mut Row<'_>) -> Result<T, DbError> {
    let s: String = r.get()?;
    T::try_from(s).map_err(|e| DbError::WriteFailed(e.to_string()))
}

/// Time zone of an organisation that sets none: the hub is in Shanghai.
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Org {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub kind: OrgKind,
    pub timezone: String,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for Org {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Org {
            id: r.get()?,
            name: r.get()?,
            slug: r.get()?,
            kind: name_col(r)?,
            timezone: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub is_operator: bool,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for User {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(User {
            id: r.get()?,
            email: r.get()?,
            display_name: r.get()?,
            locale: r.get()?,
            timezone: r.get()?,
            is_operator: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub joined_at: Millis,
    pub version: i64,
}

impl FromRow for Member {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Member {
            user_id: r.get()?,
            org_id: r.get()?,
            email: r.get()?,
            display_name: r.get()?,
            role: name_col(r)?,
            joined_at: r.get()?,
            version: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    pub org: Org,
    pub role: Role,
}

/// Read as the organisation's columns (`ORG_COLS`) followed by the membership's role.
impl FromRow for Membership {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Membership {
            org: Org::from_row(r)?,
            role: name_col(r)?,
        })
    }
}

fn scopes_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(TokenScope::split(v))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The first characters of the secret, to recognise a token in a list.
    pub prefix: String,
    #[serde(serialize_with = "scopes_out")]
    #[schema(value_type = Vec<TokenScope>)]
    pub scopes: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

impl FromRow for ApiToken {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(ApiToken {
            id: r.get()?,
            org_id: r.get()?,
            user_id: r.get()?,
            name: r.get()?,
            prefix: r.get()?,
            scopes: r.get()?,
            created_at: r.get()?,
            expires_at: r.get()?,
            last_used_at: r.get()?,
            revoked_at: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Uuid,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub accepted_at: Option<Millis>,
}

impl FromRow for Invitation {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Invitation {
            id: r.get()?,
            org_id: r.get()?,
            email: r.get()?,
            role: name_col(r)?,
            invited_by: r.get()?,
            created_at: r.get()?,
            expires_at: r.get()?,
            accepted_at: r.get()?,
        })
    }
}

fn json_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    serde_json::from_str::<serde_json::Value>(v)
        .unwrap_or(serde_json::Value::Null)
        .serialize(s)
}
fn words_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.split_whitespace())
}

/// Lets another organisation see and act on a chosen part of one project (a vendor on its shots).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Grant {
    pub id: Uuid,
    pub org_id: Uuid,
    pub grantee_org_id: Uuid,
    pub project_id: Uuid,
    /// Which entities of the project the grant covers, e.g. `{"sequences": ["…"]}`; `{}` is all.
    #[serde(serialize_with = "json_out")]
    #[schema(value_type = Object)]
    pub entity_filter: String,
    /// What the grantee may do there: `read`, `comment`, `write`.
    #[serde(serialize_with = "words_out")]
    #[schema(value_type = Vec<String>)]
    pub permissions: String,
    pub note: String,
    pub created_by: Uuid,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

impl FromRow for Grant {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Grant {
            id: r.get()?,
            org_id: r.get()?,
            grantee_org_id: r.get()?,
            project_id: r.get()?,
            entity_filter: r.get()?,
            permissions: r.get()?,
            note: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
            revoked_at: r.get()?,
        })
    }
}

pub const GRANT_PERMISSIONS: [&str; 3] = ["read", "comment", "write"];

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub org_id: Option<Uuid>,
    pub csrf: String,
}

pub fn hash_secret(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn random_secret(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A one-time password a person can type: 20 characters from an alphabet without look-alikes.
pub fn readable_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter()
        .map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char)
        .collect()
}

/// Argon2id with the crate's recommended parameters, off the async threads.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| StoreError::from(IdentityRule::PasswordHashFailed))
    })
    .await
    .map_err(|_| StoreError::from(IdentityRule::PasswordHashFailed))?
}

pub async fn check_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// Checked input for a new organisation.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub slug: Option<String>,
    pub kind: OrgKind,
    pub timezone: Option<String>,
}

/// Checked input for a new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub locale: Option<String>,
    pub is_operator: bool,
}

const ORG_COLS: &str = "id, name, slug, kind, timezone, created_at, version";
const USER_COLS: &str =
    "id, email, display_name, locale, timezone, is_operator, created_at, version";
const TOKEN_COLS: &str =
    "id, org_id, user_id, name, prefix, scopes, created_at, expires_at, last_used_at, revoked_at";
const INVITE_COLS: &str =
    "id, org_id, email, role, invited_by, created_at, expires_at, accepted_at";
const GRANT_COLS: &str = "id, org_id, grantee_org_id, project_id, entity_filter, permissions, note, created_by, created_at, revoked_at";
const MEMBER_SELECT: &str = "SELECT m.user_id, m.org_id, u.email, u.display_name, m.role, m.created_at AS joined_at, m.version
     FROM memberships m JOIN users u ON u.id = m.user_id";

/// Checks a new account and hashes its password: everything before its transaction.
async fn prepare_user(new: NewUser) -> Result<(User, String)> {
    let email = validate::email("email", &new.email)?;
    let display_name = validate::name("display_name", &new.display_name, 120)?;
    validate::password("password", &new.password)?;
    let locale = new
        .locale
        .as_deref()
        .map(|l| validate::locale("locale", l))
        .transpose()?;
    let hash = hash_password(new.password).await?;
    let user = User {
        id: new_id(),
        email,
        display_name,
        locale,
        timezone: None,
        is_operator: new.is_operator,
        created_at: Millis(now_ms()),
        version: 1,
    };
    Ok((user, hash))
}

/// Inside a write transaction: inserts a prepared account and records it.
async fn insert_user(tx: &mut WriteTx<'_>, actor: &Actor, user: &User, hash: &str) -> Result<()> {
    let args = [
        user.id.into(),
        (&user.email).into(),
        (&user.display_name).into(),
        hash.into(),
        (&user.locale).into(),
        user.is_operator.into(),
        user.created_at.into(),
    ];
    tx.execute(
        "INSERT INTO users
         (id, email, display_name, password_hash, locale, is_operator, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &args,
    )
    .await
    .map_err(|e| dup(e, "user", "email"))?;
    let change = Change::new(None, "user.created", "user", user.id).after(user);
    tx.record(actor, change).await?;
    Ok(())
}

/// Checks a new organisation: everything before its transaction.
fn prepare_org(new: NewOrg) -> Result<Org> {
    let name = validate::name("name", &new.name, 120)?;
    let slug = match new.slug {
        Some(s) => validate::slug("slug", &s)?,
        None => validate::slugify(&name),
    };
    let timezone = match new.timezone {
        Some(t) => validate::timezone("timezone", &t)?,
        None => crate::identity::DEFAULT_TIMEZONE.to_string(),
    };
    Ok(Org {
        id: new_id(),
        name,
        slug,
        kind: new.kind,
        timezone,
        created_at: Millis(now_ms()),
        version: 1,
    })
}

/// Inside a write transaction: inserts a prepared organisation with `owner` as its owner.
async fn insert_org(tx: &mut WriteTx<'_>, actor: &Actor, org: &Org, owner: Uuid) -> Result<()> {
    let args = [
        org.id.into(),
        (&org.name).into(),
        (&org.slug).into(),
        org.kind.as_str().into(),
        (&org.timezone).into(),
        org.created_at.into(),
    ];
    tx.execute(
        "INSERT INTO orgs (id, name, slug, kind, timezone, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &args,
    )
    .await
    .map_err(|e| dup(e, "organisation", "slug"))?;
    let args = [
        org.id.into(),
        Role::Owner.as_str().into(),
        org.created_at.into(),
        owner.into(),
    ];
    let n = tx
        .execute(
            "INSERT INTO memberships (org_id, user_id, role, created_at)
             SELECT $1, id, $2, $3 FROM users WHERE id = $4",
            &args,
        )
        .await?;
    if n != 1 {
        return Err(StoreError::NotFound { entity: "user" });
    }
    let change = Change::new(Some(org.id), "org.created", "org", org.id).after(org);
    tx.record(actor, change).await?;
    Ok(())
}

impl Platform<'_> {
    // ----- users and organisations (platform level) -----

    pub async fn user_count(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM users", &[]).await
    }

    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let (user, hash) = prepare_user(new).await?;
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                insert_user(tx, &actor, &user, &hash).await?;
                Ok(user)
            })
        })
        .await
    }

    pub async fn create_org(&self, actor: &Actor, new: NewOrg, owner: Uuid) -> Result<Org> {
        let org = prepare_org(new)?;
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                insert_org(tx, &actor, &org, owner).await?;
                Ok(org)
            })
        })
        .await
    }

    /// A new account and a new organisation it owns, in one transaction: the platform's first
    /// start, which must never leave an admin without an organisation.
    pub async fn create_owner_and_org(
        &self,
        actor: &Actor,
        user: NewUser,
        org: NewOrg,
    ) -> Result<(User, Org)> {
        let (user, hash) = prepare_user(user).await?;
        let org = prepare_org(org)?;
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                insert_user(tx, &actor, &user, &hash).await?;
                insert_org(tx, &actor, &org, user.id).await?;
                Ok((user, org))
            })
        })
        .await
    }

    /// The platform's first start: creates the operator's organisation and its admin, unless
    /// someone has an account already (then `None`). Servers started at once on an empty
    /// database take turns, so exactly one of them creates them and none fails.
    pub async fn bootstrap_platform(
        &self,
        actor: &Actor,
        user: NewUser,
        org: NewOrg,
    ) -> Result<Option<(User, Org)>> {
        /// The advisory key of the first start ("mstation" in ASCII).
        const FIRST_START: i64 = 0x6d73_7461_7469_6f6e;
        let (user, hash) = prepare_user(user).await?;
        let org = prepare_org(org)?;
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                tx.take_turns(FIRST_START).await?;
                let users: i64 = tx.scalar("SELECT COUNT(*) FROM users", &[]).await?;
                if users > 0 {
                    return Ok(None);
                }
                insert_user(tx, &actor, &user, &hash).await?;
                insert_org(tx, &actor, &org, user.id).await?;
                Ok(Some((user, org)))
            })
        })
        .await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        let text = format!("SELECT {USER_COLS} FROM users WHERE email = $1");
        self.read_opt(&text, &[email.into()]).await
    }

    pub async fn user(&self, id: Uuid) -> Result<User> {
        let text = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        self.read_opt(&text, &[id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "user" })
    }

    /// Checks a password. Unknown e-mails cost as much as wrong passwords, so timing does not
    /// tell which addresses have accounts.
    pub async fn verify_login(&self, email: &str, password: &str) -> Result<Option<User>> {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2j7y1U8Q0b3hT2Zb7xM0H0YgQ8Qe7G6m0m4rX6Zb2xU";
        let email = email.trim().to_lowercase();
        let row: Option<(Uuid, String)> = self
            .read_opt(
                "SELECT id, password_hash FROM users WHERE email = $1",
                &[(&email).into()],
            )
            .await?;
        match row {
            Some((id, hash)) => {
                if check_password(hash, password.to_string()).await {
                    Ok(Some(self.user(id).await?))
                } else {
                    Ok(None)
                }
            }
            None => {
                let _ = check_password(DUMMY.to_string(), password.to_string()).await;
                Ok(None)
            }
        }
    }

    pub async fn change_password(&self, user_id: Uuid, current: &str, new: &str) -> Result<()> {
        validate::password("new_password", new)?;
        let (hash,): (String,) = self
            .read_opt(
                "SELECT password_hash FROM users WHERE id = $1",
                &[user_id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound { entity: "user" })?;
        if !check_password(hash, current.to_string()).await {
            return Err(StoreError::Invalid(FieldError::new(
                "current_password",
                "wrong_password",
            )));
        }
        let new_hash = hash_password(new.to_string()).await?;
        let actor = Actor {
            user_id: Some(user_id),
            token_id: None,
        };
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE users SET password_hash = $1, version = version + 1 WHERE id = $2",
                    &[new_hash.into(), user_id.into()],
                )
                .await?;
                // Every other browser signed in as this person is signed out.
                tx.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])
                    .await?;
                let change = Change::new(None, "user.password_changed", "user", user_id);
                tx.record(&actor, change).await?;
                Ok(())
            })
        })
        .await
    }

    /// Sets a new password without the old one: for the platform operator's `admin` command.
    pub async fn reset_password(&self, user_id: Uuid, new: &str) -> Result<()> {
        validate::password("password", new)?;
        let new_hash = hash_password(new.to_string()).await?;
        self.write(move |tx| {
            Box::pin(async move {
                let n = tx
                    .execute(
                        "UPDATE users SET password_hash = $1, version = version + 1 WHERE id = $2",
                        &[new_hash.into(), user_id.into()],
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound { entity: "user" });
                }
                tx.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])
                    .await?;
                let change = Change::new(None, "user.password_reset", "user", user_id);
                tx.record(&Actor::system(), change).await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn update_user_prefs(
        &self,
        user_id: Uuid,
        locale: Option<Option<String>>,
        timezone: Option<Option<String>>,
    ) -> Result<User> {
        let before = self.user(user_id).await?;
        let locale = match locale {
            Some(Some(l)) => Some(validate::locale("locale", &l)?),
            Some(None) => None,
            None => before.locale.clone(),
        };
        let timezone = match timezone {
            Some(Some(t)) => Some(validate::timezone("timezone", &t)?),
            Some(None) => None,
            None => before.timezone.clone(),
        };
        let actor = Actor {
            user_id: Some(user_id),
            token_id: None,
        };
        let mut after = before.clone();
        after.locale = locale;
        after.timezone = timezone;
        after.version += 1;
        let after = self
            .write(move |tx| {
                Box::pin(async move {
                    tx.execute(
                        "UPDATE users SET locale = $1, timezone = $2, version = version + 1
                         WHERE id = $3",
                        &[
                            (&after.locale).into(),
                            (&after.timezone).into(),
                            user_id.into(),
                        ],
                    )
                    .await?;
                    let change = Change::new(None, "user.updated", "user", user_id);
                    tx.record(&actor, change.before(&before).after(&after))
                        .await?;
                    Ok(after)
                })
            })
            .await?;
        self.store.tokens.invalidate();
        Ok(after)
    }

    pub async fn memberships(&self, user_id: Uuid) -> Result<Vec<Membership>> {
        self.read(
            "SELECT o.id, o.name, o.slug, o.kind, o.timezone, o.created_at, o.version, m.role
             FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.name",
            &[user_id.into()],
        )
        .await
    }

    pub async fn role_in(&self, user_id: Uuid, org_id: Uuid) -> Result<Option<Role>> {
        let r: Option<String> = self
            .scalar_opt(
                "SELECT role FROM memberships WHERE user_id = $1 AND org_id = $2",
                &[user_id.into(), org_id.into()],
            )
            .await?;
        Ok(r.and_then(|r| Role::parse(&r)))
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        let text = format!("SELECT {ORG_COLS} FROM orgs WHERE slug = $1");
        self.read_opt(&text, &[slug.into()]).await
    }

    // ----- members -----

    /// Adds an existing user to an organisation (the `admin` command; invitations for everyone
    /// else).
    pub async fn add_member(
        &self,
        actor: &Actor,
        org_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let args = [
                    org_id.into(),
                    user_id.into(),
                    role.as_str().into(),
                    now_ms().into(),
                ];
                tx.execute(
                    "INSERT INTO memberships (org_id, user_id, role, created_at)
                     VALUES ($1, $2, $3, $4)",
                    &args,
                )
                .await
                .map_err(|e| dup(e, "member", "user"))?;
                let change = Change::new(Some(org_id), "member.added", "member", user_id)
                    .after(&serde_json::json!({"user_id": user_id, "role": role}));
                tx.record(&actor, change).await?;
                Ok(())
            })
        })
        .await
    }

    // ----- invitations -----

    /// Accepts an invitation. A person without an account gives a name and password and gets one;
    /// a person with an account must be the one signed in (`user_id`).
    pub async fn accept_invitation(
        &self,
        token: &str,
        user_id: Option<Uuid>,
        display_name: Option<String>,
        password: Option<String>,
    ) -> Result<(User, Org)> {
        let h = hash_secret(token);
        let text = format!("SELECT {INVITE_COLS} FROM invitations WHERE token_hash = $1");
        let inv: Invitation =
            self.read_opt(&text, &[(&h).into()])
                .await?
                .ok_or(StoreError::NotFound {
                    entity: "invitation",
                })?;
        if inv.accepted_at.is_some() || inv.expires_at.0 < now_ms() {
            return Err(StoreError::from(IdentityRule::InvitationExpired));
        }
        // A new account is created in the same transaction that accepts the invitation: a failed
        // accept leaves no account behind.
        let (user, new_account) = match (user_id, self.user_by_email(&inv.email).await?) {
            (Some(uid), _) => {
                let u = self.user(uid).await?;
                if u.email != inv.email {
                    return Err(StoreError::from(IdentityRule::InvitationForOtherEmail));
                }
                (u, None)
            }
            (None, Some(_)) => return Err(StoreError::from(IdentityRule::SignInToAccept)),
            (None, None) => {
                let name = display_name.ok_or(FieldError::new("display_name", "required"))?;
                let pw = password.ok_or(FieldError::new("password", "required"))?;
                let (u, hash) = prepare_user(NewUser {
                    email: inv.email.clone(),
                    display_name: name,
                    password: pw,
                    locale: None,
                    is_operator: false,
                })
                .await?;
                (u, Some(hash))
            }
        };
        let actor = Actor {
            user_id: Some(user.id),
            token_id: None,
        };
        let org_id = inv.org_id;
        let user = self
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(hash) = &new_account {
                        insert_user(tx, &Actor::system(), &user, hash).await?;
                    }
                    let n = tx
                        .execute(
                            "UPDATE invitations SET accepted_at = $1
                             WHERE id = $2 AND accepted_at IS NULL",
                            &[now_ms().into(), inv.id.into()],
                        )
                        .await?;
                    if n != 1 {
                        return Err(StoreError::from(IdentityRule::InvitationExpired));
                    }
                    let args = [
                        inv.org_id.into(),
                        user.id.into(),
                        inv.role.as_str().into(),
                        now_ms().into(),
                    ];
                    let added = tx
                        .execute(
                            "INSERT INTO memberships (org_id, user_id, role, created_at)
                             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, user_id) DO NOTHING",
                            &args,
                        )
                        .await?
                        == 1;
                    let change = if added {
                        Change::new(Some(inv.org_id), "member.added", "member", user.id).after(
                            &serde_json::json!({
                                "user_id": user.id,
                                "role": inv.role,
                                "invitation_id": inv.id
                            }),
                        )
                    } else {
                        // Already a member: the invitation is used up and the membership stays
                        // as it was (an invitation never changes a role); the record says so.
                        let role: String = tx
                            .scalar(
                                "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2",
                                &[inv.org_id.into(), user.id.into()],
                            )
                            .await?;
                        Change::new(
                            Some(inv.org_id),
                            "invitation.accepted",
                            "invitation",
                            inv.id,
                        )
                        .after(&serde_json::json!({
                            "user_id": user.id,
                            "already_a_member": true,
                            "role": role,
                            "invited_as": inv.role,
                        }))
                    };
                    tx.record(&actor, change).await?;
                    Ok(user)
                })
            })
            .await?;
        let text = format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1");
        let org = self
            .read_opt(&text, &[org_id.into()])
            .await?
            .ok_or(StoreError::NotFound {
                entity: "organisation",
            })?;
        Ok((user, org))
    }

    // ----- sessions -----

    /// Starts a browser session; returns (session secret, CSRF token).
    pub async fn create_session(
        &self,
        user_id: Uuid,
        org_id: Option<Uuid>,
    ) -> Result<(String, String)> {
        let secret = random_secret(32);
        let csrf = random_secret(18);
        let now = now_ms();
        let token_hash = hash_secret(&secret);
        let csrf_stored = csrf.clone();
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "DELETE FROM sessions WHERE user_id = $1 AND expires_at < $2",
                    &[user_id.into(), now.into()],
                )
                .await?;
                let args = [
                    token_hash.into(),
                    user_id.into(),
                    org_id.into(),
                    csrf_stored.into(),
                    now.into(),
                    (now + SESSION_TTL_MS).into(),
                ];
                tx.execute(
                    "INSERT INTO sessions (token_hash, user_id, org_id, csrf, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &args,
                )
                .await?;
                let actor = Actor {
                    user_id: Some(user_id),
                    token_id: None,
                };
                let change = Change::new(org_id, "session.started", "session", user_id).after(
                    &serde_json::json!({
                        "user_id": user_id,
                        "org_id": org_id,
                        "expires_at": Millis(now + SESSION_TTL_MS)
                    }),
                );
                tx.record(&actor, change).await?;
                Ok(())
            })
        })
        .await?;
        Ok((secret, csrf))
    }

    pub async fn session(&self, secret: &str) -> Result<Option<Session>> {
        let row: Option<(Uuid, Option<Uuid>, String)> = self
            .read_opt(
                "SELECT user_id, org_id, csrf FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                &[hash_secret(secret).into(), now_ms().into()],
            )
            .await?;
        let Some((user_id, org_id, csrf)) = row else {
            return Ok(None);
        };
        Ok(Some(Session {
            user: self.user(user_id).await?,
            org_id,
            csrf,
        }))
    }

    pub async fn switch_session_org(&self, secret: &str, org_id: Uuid) -> Result<()> {
        let token_hash = hash_secret(secret);
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE sessions SET org_id = $1 WHERE token_hash = $2",
                    &[org_id.into(), token_hash.into()],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn end_session(&self, secret: &str) -> Result<()> {
        let token_hash = hash_secret(secret);
        self.write(move |tx| {
            Box::pin(async move {
                let row: Option<(Uuid, Option<Uuid>)> = tx
                    .query_opt(
                        "DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id, org_id",
                        &[token_hash.into()],
                    )
                    .await?;
                if let Some((user_id, org_id)) = row {
                    let actor = Actor {
                        user_id: Some(user_id),
                        token_id: None,
                    };
                    let change = Change::new(org_id, "session.ended", "session", user_id);
                    tx.record(&actor, change).await?;
                }
                Ok(())
            })
        })
        .await
    }

    // ----- API tokens -----

    pub async fn create_token_for(
        &self,
        actor: &Actor,
        org_id: Uuid,
        user_id: Uuid,
        name: &str,
        scopes: &[TokenScope],
        expires_at: Option<i64>,
    ) -> Result<(ApiToken, String)> {
        let name = validate::name("name", name, 80)?;
        if scopes.is_empty() {
            return Err(FieldError::new("scopes", "required").into());
        }
        if expires_at.is_some_and(|e| e <= now_ms()) {
            return Err(FieldError::new("expires_at", "in_the_past").into());
        }
        let secret = format!("mst_{}", random_secret(30));
        let token = ApiToken {
            id: new_id(),
            org_id,
            user_id,
            name,
            prefix: secret[..12].to_string(),
            scopes: TokenScope::join(scopes),
            created_at: Millis(now_ms()),
            expires_at: expires_at.map(Millis),
            last_used_at: None,
            revoked_at: None,
        };
        let actor = actor.clone();
        let token_hash = hash_secret(&secret);
        // The organisation's row, written under the tenant rule whoever asks.
        let token = self
            .store
            .db
            .write(Some(org_id), move |tx| {
                Box::pin(async move {
                    if !is_member(tx, org_id, user_id).await? {
                        return Err(FieldError::new("user_id", "not_a_member").into());
                    }
                    let args = [
                        token.id.into(),
                        org_id.into(),
                        user_id.into(),
                        (&token.name).into(),
                        token_hash.into(),
                        (&token.prefix).into(),
                        (&token.scopes).into(),
                        token.created_at.into(),
                        token.expires_at.into(),
                    ];
                    tx.execute(
                        "INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, prefix,
                         scopes, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        &args,
                    )
                    .await?;
                    let change =
                        Change::new(Some(org_id), "token.created", "token", token.id).after(&token);
                    tx.record(&actor, change).await?;
                    Ok::<_, StoreError>(token)
                })
            })
            .await?;
        Ok((token, secret))
    }

    /// Resolves a bearer secret to the scope it acts in. One indexed read, then answered from
    /// memory for `TokenCache::TTL`; `last_used_at` is written at most once a minute so reads
    /// stay reads.
    pub async fn authenticate_token(
        &self,
        secret: &str,
    ) -> Result<Option<(TenantScope, Option<String>)>> {
        if !secret.starts_with("mst_") || secret.len() > 100 {
            return Ok(None);
        }
        let now = now_ms();
        let hash = hash_secret(secret);
        let generation = self.store.tokens.generation();
        if let Some(hit) = self.store.tokens.get(&hash, generation, now) {
            return Ok(Some(hit));
        }
        struct TokenRow {
            id: Uuid,
            org_id: Uuid,
            user_id: Uuid,
            scopes: String,
            role: String,
            last_used_at: Option<i64>,
            expires_at: Option<i64>,
            locale: Option<String>,
        }
        impl FromRow for TokenRow {
            fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
                Ok(TokenRow {
                    id: r.get()?,
                    org_id: r.get()?,
                    user_id: r.get()?,
                    scopes: r.get()?,
                    role: r.get()?,
                    last_used_at: r.get()?,
                    expires_at: r.get()?,
                    locale: r.get()?,
                })
            }
        }
        let row: Option<TokenRow> = self
            .read_opt(
                "SELECT t.id, t.org_id, t.user_id, t.scopes, m.role, t.last_used_at, t.expires_at, u.locale FROM api_tokens t
                 JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id
                 JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
                &[(&hash).into(), now.into()],
            )
            .await?;
        let Some(TokenRow {
            id: token_id,
            org_id,
            user_id,
            scopes,
            role,
            last_used_at: last_used,
            expires_at,
            locale,
        }) = row
        else {
            return Ok(None);
        };
        let Some(role) = Role::parse(&role) else {
            return Ok(None);
        };
        if last_used.is_none_or(|t| now - t > 60_000) {
            self.write(move |tx| {
                Box::pin(async move {
                    tx.execute(
                        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
                        &[now.into(), token_id.into()],
                    )
                    .await?;
                    Ok(())
                })
            })
            .await?;
        }
        let scope = TenantScope {
            org_id,
            user_id,
            role,
            token_scopes: Some(TokenScope::split(&scopes)),
            token_id: Some(token_id),
        };
        self.store.tokens.put(
            hash,
            CachedToken {
                generation,
                read_at: Instant::now(),
                last_used: if last_used.is_none_or(|t| now - t > 60_000) {
                    now
                } else {
                    last_used.unwrap_or(now)
                },
                expires_at,
                scope: scope.clone(),
                locale: locale.clone(),
            },
        );
        Ok(Some((scope, locale)))
    }

    /// Whether a token still works (not revoked, not expired, its member still in the
    /// organisation).
    pub async fn token_live(&self, token_id: Uuid) -> Result<bool> {
        let r: Option<Uuid> = self
            .scalar_opt(
                "SELECT t.id FROM api_tokens t JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id
             WHERE t.id = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
                &[token_id.into(), now_ms().into()],
            )
            .await?;
        Ok(r.is_some())
    }

    // ----- collaboration grants -----
}

impl Tenant<'_> {
    // ----- the organisation -----

    /// The organisation the scope acts for.
    pub async fn org(&self) -> Result<Org> {
        let scope = self.scope();
        let text = format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1");
        self.read_opt(&text, &[scope.org_id.into()])
            .await?
            .ok_or(StoreError::NotFound {
                entity: "organisation",
            })
    }

    pub async fn update_org(
        &self,
        expected_version: Option<i64>,
        name: Option<String>,
        timezone: Option<String>,
    ) -> Result<Org> {
        let scope = self.scope().clone();
        let name = name.map(|n| validate::name("name", &n, 120)).transpose()?;
        let timezone = timezone
            .map(|t| validate::timezone("timezone", &t))
            .transpose()?;
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT {ORG_COLS} FROM orgs WHERE id = $1{}",
                    tx.lock_rows()
                );
                let before: Org = tx.query_opt(&text, &[scope.org_id.into()]).await?.ok_or(
                    StoreError::NotFound {
                        entity: "organisation",
                    },
                )?;
                check_version("organisation", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(n) = name {
                    after.name = n;
                }
                if let Some(t) = timezone {
                    after.timezone = t;
                }
                after.version += 1;
                let args = [
                    (&after.name).into(),
                    (&after.timezone).into(),
                    after.version.into(),
                    scope.org_id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "organisation",
                    None,
                    before.version,
                    "UPDATE orgs SET name = $1, timezone = $2, version = $3
                         WHERE id = $4 AND version = $5",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "org.updated", "org", scope.org_id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    // ----- members -----

    pub async fn members(&self, q: &ListQuery, role: Option<Role>) -> Result<Page<Member>> {
        let scope = self.scope();
        let (cmp, dir) = q.order();
        let role = role.map(|r| r.as_str());
        let text = format!(
            "{MEMBER_SELECT} WHERE m.org_id = $1 AND ($2 IS NULL OR m.role = $2) AND ($3 IS NULL OR m.user_id {cmp} $3)
             ORDER BY m.user_id {dir} LIMIT $4"
        );
        let args = [
            scope.org_id.into(),
            role.into(),
            q.after.into(),
            (q.limit as i64 + 1).into(),
        ];
        let items: Vec<Member> = self.read(&text, &args).await?;
        let total = self
            .scalar(
                "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND ($2 IS NULL OR role = $2)",
                &[scope.org_id.into(), role.into()],
            )
            .await?;
        Ok(q.finish(items, total, |m| m.user_id))
    }

    pub async fn member(&self, user_id: Uuid) -> Result<Member> {
        let scope = self.scope();
        let text = format!("{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2");
        self.read_opt(&text, &[scope.org_id.into(), user_id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "member" })
    }

    pub async fn set_member_role(
        &self,
        user_id: Uuid,
        role: Role,
        expected_version: Option<i64>,
    ) -> Result<Member> {
        let scope = self.scope().clone();
        let after = self
            .write(move |tx| {
                Box::pin(async move {
                    let text = format!(
                        "{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2{}",
                        tx.lock_rows()
                    );
                    let before: Member = tx
                        .query_opt(&text, &[scope.org_id.into(), user_id.into()])
                        .await?
                        .ok_or(StoreError::NotFound { entity: "member" })?;
                    check_version("member", expected_version, before.version)?;
                    if !scope.role.may_assign(role) || !scope.role.may_assign(before.role) {
                        return Err(StoreError::from(IdentityRule::RoleNotAssignable));
                    }
                    if before.role == Role::Owner && role != Role::Owner {
                        ensure_another_owner(tx, scope.org_id, user_id).await?;
                    }
                    let mut after = before.clone();
                    after.role = role;
                    after.version += 1;
                    let args = [
                        role.as_str().into(),
                        after.version.into(),
                        scope.org_id.into(),
                        user_id.into(),
                        before.version.into(),
                    ];
                    crate::update_seen(
                        tx,
                        "member",
                        None,
                        before.version,
                        "UPDATE memberships SET role = $1, version = $2
                             WHERE org_id = $3 AND user_id = $4 AND version = $5",
                        &args,
                    )
                    .await?;
                    let change =
                        Change::new(Some(scope.org_id), "member.updated", "member", user_id);
                    tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                        .await?;
                    Ok(after)
                })
            })
            .await?;
        self.store.tokens.invalidate();
        Ok(after)
    }

    pub async fn remove_member(&self, user_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!("{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2");
                let before: Member = tx
                    .query_opt(&text, &[scope.org_id.into(), user_id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "member" })?;
                if !scope.role.may_assign(before.role) {
                    return Err(StoreError::from(IdentityRule::RoleNotAssignable));
                }
                if before.role == Role::Owner {
                    ensure_another_owner(tx, scope.org_id, user_id).await?;
                }
                tx.execute(
                    "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
                    &[scope.org_id.into(), user_id.into()],
                )
                .await?;
                // Their tokens for this organisation stop working with the membership.
                tx.execute(
                    "UPDATE api_tokens SET revoked_at = $1
                     WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
                    &[now_ms().into(), scope.org_id.into(), user_id.into()],
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "member.removed", "member", user_id);
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await?;
        self.store.tokens.invalidate();
        Ok(())
    }

    // ----- invitations -----

    /// Invites an e-mail address; returns the invitation and the one-time token to send.
    pub async fn invite(&self, email: &str, role: Role) -> Result<(Invitation, String)> {
        let scope = self.scope();
        let email = validate::email("email", email)?;
        if !scope.role.may_assign(role) {
            return Err(StoreError::from(IdentityRule::RoleNotAssignable));
        }
        let secret = format!("msi_{}", random_secret(24));
        let now = now_ms();
        let inv = Invitation {
            id: new_id(),
            org_id: scope.org_id,
            email,
            role,
            invited_by: scope.user_id,
            created_at: Millis(now),
            expires_at: Millis(now + INVITATION_TTL_MS),
            accepted_at: None,
        };
        let scope = scope.clone();
        let token_hash = hash_secret(&secret);
        let inv = self
            .write(move |tx| {
                Box::pin(async move {
                    let args = [
                        inv.id.into(),
                        inv.org_id.into(),
                        (&inv.email).into(),
                        role.as_str().into(),
                        token_hash.into(),
                        inv.invited_by.into(),
                        inv.created_at.into(),
                        inv.expires_at.into(),
                    ];
                    tx.execute(
                        "INSERT INTO invitations
                         (id, org_id, email, role, token_hash, invited_by, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        &args,
                    )
                    .await?;
                    let change = Change::new(
                        Some(scope.org_id),
                        "invitation.created",
                        "invitation",
                        inv.id,
                    );
                    tx.record(&Actor::of(&scope), change.after(&inv)).await?;
                    Ok(inv)
                })
            })
            .await?;
        Ok((inv, secret))
    }

    pub async fn invitations(&self, q: &ListQuery) -> Result<Page<Invitation>> {
        let args = vec![self.org_id().into()];
        self.page(
            INVITE_COLS,
            "invitations",
            "org_id = $1",
            args,
            q,
            |i: &Invitation| i.id,
        )
        .await
    }

    pub async fn invitation(&self, id: Uuid) -> Result<Invitation> {
        self.one(INVITE_COLS, "invitations", id, "invitation").await
    }

    pub async fn revoke_invitation(&self, id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        let inv = self.invitation(id).await?;
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "DELETE FROM invitations WHERE org_id = $1 AND id = $2",
                    &[scope.org_id.into(), id.into()],
                )
                .await?;
                let change =
                    Change::new(Some(scope.org_id), "invitation.revoked", "invitation", id);
                tx.record(&Actor::of(&scope), change.before(&inv)).await?;
                Ok(())
            })
        })
        .await
    }

    // ----- API tokens -----

    /// Creates a token for the scope's member; the secret is returned once and never stored.
    pub async fn create_token(
        &self,
        name: &str,
        scopes: &[TokenScope],
        expires_at: Option<i64>,
    ) -> Result<(ApiToken, String)> {
        let scope = self.scope();
        self.platform()
            .create_token_for(
                &Actor::of(scope),
                scope.org_id,
                scope.user_id,
                name,
                scopes,
                expires_at,
            )
            .await
    }

    /// Lists tokens: an admin sees every token of the organisation, anyone else their own.
    pub async fn tokens(&self, q: &ListQuery, all_members: bool) -> Result<Page<ApiToken>> {
        let owner = (!all_members).then_some(self.scope().user_id);
        let filter = "org_id = $1 AND ($2 IS NULL OR user_id = $2)";
        let args = vec![self.org_id().into(), owner.into()];
        self.page(TOKEN_COLS, "api_tokens", filter, args, q, |t: &ApiToken| {
            t.id
        })
        .await
    }

    pub async fn token(&self, id: Uuid, all_members: bool) -> Result<ApiToken> {
        let scope = self.scope();
        let owner = if all_members {
            None
        } else {
            Some(scope.user_id)
        };
        let text = format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 AND id = $2 AND ($3 IS NULL OR user_id = $3)"
        );
        self.read_opt(&text, &[scope.org_id.into(), id.into(), owner.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "token" })
    }

    pub async fn revoke_token(&self, id: Uuid, all_members: bool) -> Result<ApiToken> {
        let scope = self.scope();
        let before = self.token(id, all_members).await?;
        let mut after = before.clone();
        if after.revoked_at.is_none() {
            after.revoked_at = Some(Millis(now_ms()));
            let scope = scope.clone();
            let revoked = after.clone();
            self.write(move |tx| {
                Box::pin(async move {
                    tx.execute(
                        "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND id = $3",
                        &[revoked.revoked_at.into(), scope.org_id.into(), id.into()],
                    )
                    .await?;
                    let change = Change::new(Some(scope.org_id), "token.revoked", "token", id);
                    tx.record(&Actor::of(&scope), change.before(&before).after(&revoked))
                        .await?;
                    Ok(())
                })
            })
            .await?;
            self.store.tokens.invalidate();
        }
        Ok(after)
    }

    // ----- collaboration grants -----

    pub async fn create_grant(
        &self,
        grantee_org_id: Uuid,
        project_id: Uuid,
        entity_filter: serde_json::Value,
        permissions: &[String],
        note: &str,
    ) -> Result<Grant> {
        let scope = self.scope();
        if grantee_org_id == scope.org_id {
            return Err(FieldError::new("grantee_org_id", "own_organisation").into());
        }
        if !entity_filter.is_object() {
            return Err(FieldError::new("entity_filter", "not_an_object").into());
        }
        if permissions.is_empty()
            || permissions
                .iter()
                .any(|p| !GRANT_PERMISSIONS.contains(&p.as_str()))
        {
            return Err(FieldError::new("permissions", "unknown_permission").into());
        }
        let note = validate::text("note", note, 500)?;
        let note = note.as_str();
        let mut perms: Vec<&str> = permissions.iter().map(String::as_str).collect();
        perms.sort_unstable();
        perms.dedup();
        let grant = Grant {
            id: new_id(),
            org_id: scope.org_id,
            grantee_org_id,
            project_id,
            entity_filter: entity_filter.to_string(),
            permissions: perms.join(" "),
            note: note.to_string(),
            created_by: scope.user_id,
            created_at: Millis(now_ms()),
            revoked_at: None,
        };
        // Whether the other organisation exists is a platform fact (another organisation's row),
        // read before the write; organisations are never deleted, so the answer still holds.
        let exists: Option<Uuid> = self
            .platform()
            .scalar_opt(
                "SELECT id FROM orgs WHERE id = $1",
                &[grantee_org_id.into()],
            )
            .await?;
        if exists.is_none() {
            return Err(FieldError::new("grantee_org_id", "unknown_organisation").into());
        }
        let scope = scope.clone();
        self.write(move |tx| {
            Box::pin(async move {
                // Only what this organisation owns can be shared.
                if !crate::tracking::project_exists(tx, scope.org_id, project_id).await? {
                    return Err(StoreError::NotFound { entity: "project" });
                }
                let text = format!(
                    "INSERT INTO grants ({GRANT_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                );
                let args = [
                    grant.id.into(),
                    grant.org_id.into(),
                    grant.grantee_org_id.into(),
                    grant.project_id.into(),
                    (&grant.entity_filter).into(),
                    (&grant.permissions).into(),
                    (&grant.note).into(),
                    grant.created_by.into(),
                    grant.created_at.into(),
                    grant.revoked_at.into(),
                ];
                tx.execute(&text, &args).await?;
                let change = Change::new(Some(scope.org_id), "grant.created", "grant", grant.id);
                tx.record(&Actor::of(&scope), change.after(&grant)).await?;
                Ok(grant)
            })
        })
        .await
    }

    /// Grants this organisation gave (`incoming == false`) or received (`incoming == true`).
    pub async fn grants(&self, q: &ListQuery, incoming: bool) -> Result<Page<Grant>> {
        let filter = if incoming {
            "grantee_org_id = $1"
        } else {
            "org_id = $1"
        };
        let args = vec![self.org_id().into()];
        self.page(GRANT_COLS, "grants", filter, args, q, |g: &Grant| g.id)
            .await
    }

    /// A grant this organisation gave or received.
    pub async fn grant(&self, id: Uuid) -> Result<Grant> {
        let scope = self.scope();
        let text = format!(
            "SELECT {GRANT_COLS} FROM grants WHERE id = $1 AND (org_id = $2 OR grantee_org_id = $2)"
        );
        self.read_opt(&text, &[id.into(), scope.org_id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "grant" })
    }

    pub async fn revoke_grant(&self, id: Uuid) -> Result<Grant> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!("SELECT {GRANT_COLS} FROM grants WHERE id = $1 AND org_id = $2");
                let before: Grant = tx
                    .query_opt(&text, &[id.into(), scope.org_id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "grant" })?;
                let mut after = before.clone();
                if after.revoked_at.is_none() {
                    after.revoked_at = Some(Millis(now_ms()));
                    tx.execute(
                        "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND org_id = $3",
                        &[after.revoked_at.into(), id.into(), scope.org_id.into()],
                    )
                    .await?;
                    let change = Change::new(Some(scope.org_id), "grant.revoked", "grant", id);
                    tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                        .await?;
                }
                Ok(after)
            })
        })
        .await
    }
}

/// Bearer tokens recently resolved, so a busy client costs one lookup per `TTL` instead of one
/// per request. Every change that can end or alter a token's rights in this process (revoking
/// it, a role change, removing the member, a new locale) bumps the generation, which voids
/// every entry at once; an entry read before the bump can never be stored as current. Another
/// process sharing the database (the `admin` command, a second server on PostgreSQL) is seen
/// within `TTL`.
#[derive(Default)]
pub(crate) struct TokenCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, CachedToken>>,
}

struct CachedToken {
    generation: u64,
    read_at: Instant,
    last_used: i64,
    expires_at: Option<i64>,
    scope: TenantScope,
    locale: Option<String>,
}

impl TokenCache {
    pub(crate) const TTL: Duration = Duration::from_secs(2);
    /// Past this many live tokens the cache starts again empty rather than grow without bound.
    const MAX_ENTRIES: usize = 10_000;

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, hash: &str, generation: u64, now: i64) -> Option<(TenantScope, Option<String>)> {
        let entries = self.lock();
        let e = entries.get(hash)?;
        let fresh = e.generation == generation
            && e.read_at.elapsed() < Self::TTL
            && e.expires_at.is_none_or(|t| t > now)
            // Past a minute the caller goes to the database, which also records the use.
            && now - e.last_used <= 60_000;
        fresh.then(|| (e.scope.clone(), e.locale.clone()))
    }

    fn put(&self, hash: String, entry: CachedToken) {
        let mut entries = self.lock();
        if entry.generation != self.generation() {
            return;
        }
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, entry);
    }
}
