//! Organisations, roles and what each role may do.
//! The permission table below is the single place that answers "may this member do that?".

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What kind of enterprise an organisation is. Shown in the directory and used by later
/// contexts (a financier reviews fund applications, a post house bids on work orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    ProductionCompany,
    PostHouse,
    VfxStudio,
    AnimationStudio,
    University,
    Financier,
    Distributor,
    PlatformOperator,
}

impl OrgKind {
    pub const ALL: [OrgKind; 8] = [
        OrgKind::ProductionCompany,
        OrgKind::PostHouse,
        OrgKind::VfxStudio,
        OrgKind::AnimationStudio,
        OrgKind::University,
        OrgKind::Financier,
        OrgKind::Distributor,
        OrgKind::PlatformOperator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::ProductionCompany => "production_company",
            OrgKind::PostHouse => "post_house",
            OrgKind::VfxStudio => "vfx_studio",
            OrgKind::AnimationStudio => "animation_studio",
            OrgKind::University => "university",
            OrgKind::Financier => "financier",
            OrgKind::Distributor => "distributor",
            OrgKind::PlatformOperator => "platform_operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A member's role inside one organisation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Producer,
    Coordinator,
    Supervisor,
    Artist,
    Finance,
    Viewer,
    /// A reviewer from the client's side: reads the production, writes notes and gives client
    /// approval where the workflow lets it.
    Client,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Owner,
        Role::Admin,
        Role::Producer,
        Role::Coordinator,
        Role::Supervisor,
        Role::Artist,
        Role::Finance,
        Role::Viewer,
        Role::Client,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Producer => "producer",
            Role::Coordinator => "coordinator",
            Role::Supervisor => "supervisor",
            Role::Artist => "artist",
            Role::Finance => "finance",
            Role::Viewer => "viewer",
            Role::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permission table. Read it as: a role may do exactly what is listed for it.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(p, TransferOwnership),
            Role::Producer => matches!(
                p,
                ReadOrg
                    | ReadMembers
                    | ManageOwnTokens
                    | ReadAudit
                    | ManageGrants
                    | ReadJobs
                    | Review
                    | WriteProduction
                    | PlanProduction
                    | ManageProduction
                    | KeepViews
                    | ReadLedger
                    | SellListings
                    | BuyLicences
                    | UseLicences
                    | FindTalent
                    | ManageTalent
                    | ReadWorkOrders
                    | ManageWorkOrders
            ),
            Role::Coordinator => matches!(
                p,
                ReadOrg
                    | ReadMembers
                    | ManageOwnTokens
                    | ReadJobs
                    | Review
                    | WriteProduction
                    | PlanProduction
                    | KeepViews
                    | UseLicences
                    | FindTalent
                    | ManageTalent
                    | ReadWorkOrders
            ),
            Role::Supervisor => matches!(
                p,
                ReadOrg
                    | ReadMembers
                    | ManageOwnTokens
                    | ReadJobs
                    | Review
                    | WriteProduction
                    | KeepViews
                    | UseLicences
                    | FindTalent
            ),
            Role::Artist => matches!(
                p,
                ReadOrg
                    | ReadMembers
                    | ManageOwnTokens
                    | ReadJobs
                    | Review
                    | WriteProduction
                    | KeepViews
                    | UseLicences
            ),
            Role::Client => matches!(
                p,
                ReadOrg | ReadMembers | ManageOwnTokens | Review | KeepViews
            ),
            Role::Finance => matches!(
                p,
                ReadOrg
                    | ReadMembers
                    | ManageOwnTokens
                    | ReadAudit
                    | ReadJobs
                    | KeepViews
                    | ReadLedger
                    | ManageLedger
                    | BuyLicences
                    | UseLicences
                    | ReadWorkOrders
            ),
            Role::Viewer => matches!(p, ReadOrg | ReadMembers | ManageOwnTokens | KeepViews),
        }
    }

    /// Whether a member holding `self` may set a task to a status that `set_by` roles may set.
    /// Owners and admins may set any status; an artist only on a task assigned to them.
    pub fn may_set_status(self, set_by: &[Role], assigned: bool) -> bool {
        match self {
            Role::Owner | Role::Admin => true,
            Role::Artist => assigned && set_by.contains(&self),
            r => set_by.contains(&r),
        }
    }

    /// Whether the notes this role writes wait for production: a client's words reach the
    /// artists when a producer or coordinator publishes them, not before.
    pub fn notes_held(self) -> bool {
        self == Role::Client
    }

    /// Whether a member holding `self` may hand `other` to someone: nobody grants more than they
    /// hold, and only an owner makes owners.
    pub fn may_assign(self, other: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => other != Role::Owner,
            _ => false,
        }
    }
}

/// A stored name that this version does not know (a row written by a newer release, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

impl TryFrom<String> for Role {
    type Error = UnknownName;
    fn try_from(s: String) -> Result<Self, UnknownName> {
        Role::parse(&s).ok_or(UnknownName(s))
    }
}

impl TryFrom<String> for OrgKind {
    type Error = UnknownName;
    fn try_from(s: String) -> Result<Self, UnknownName> {
        OrgKind::parse(&s).ok_or(UnknownName(s))
    }
}

/// Everything a member might be allowed to do. Later contexts add their own lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ReadOrg,
    ManageOrg,
    ReadMembers,
    ManageMembers,
    TransferOwnership,
    ManageOwnTokens,
    ReadAudit,
    ManageWebhooks,
    ManageGrants,
    ReadJobs,
    /// Notes, and the task statuses the workflow lets the member's role set.
    Review,
    /// Day-to-day production work: versions, time logs, playlists.
    WriteProduction,
    /// Planning a production: sequences, episodes, assets and tasks, assigning people, dates and
    /// priorities, casting, custom values and conforming to a new cut.
    PlanProduction,
    /// Setting a production up: projects, workflows and custom fields.
    ManageProduction,
    /// Keeping one's own saved views of the grids. Every role; a token needs write.
    KeepViews,
    /// Reading the organisation's accounts, balances and statements.
    ReadLedger,
    /// Opening accounts and moving money between them.
    ManageLedger,
    /// Listing the organisation's media in the market, with its offers, and reading its sales.
    SellListings,
    /// Buying licences in the market, and asking for refunds.
    BuyLicences,
    /// Reading the organisation's licences and downloading what they cover.
    UseLicences,
    /// Reading the talent directory: the profiles other organisations show the platform, and
    /// the organisation's own.
    FindTalent,
    /// Keeping the organisation's talent profiles and their credits.
    ManageTalent,
    /// Reading work orders: those the organisation posted, with their bids, and those open to
    /// it as a vendor, with its own bids.
    ReadWorkOrders,
    /// Posting work orders and awarding them (which holds their budget), accepting or
    /// cancelling their work; bidding for others' and delivering the work awarded.
    ManageWorkOrders,
}

/// What an API token may be used for. A session cookie carries every scope its role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// GET, HEAD and the event stream.
    Read,
    /// Creating and changing production data.
    Write,
    /// Members, tokens, webhooks, grants and organisation settings.
    Admin,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
    /// Encodes a set of scopes as the space-separated text stored with the token.
    pub fn join(scopes: &[TokenScope]) -> String {
        let mut v: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v.join(" ")
    }
    pub fn split(s: &str) -> Vec<TokenScope> {
        s.split_whitespace().filter_map(TokenScope::parse).collect()
    }
}

/// Who is acting, for which organisation. Tenant data is reached only through the store's handle
/// made from one (`store.tenant(&scope)`), which checks every query binds its organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    /// `None` for a browser session (all scopes its role allows); the token's scopes otherwise.
    pub token_scopes: Option<Vec<TokenScope>>,
    /// The API token in use, if any (recorded in the audit log).
    pub token_id: Option<Uuid>,
}

impl TenantScope {
    pub fn can(&self, p: Permission) -> bool {
        if !self.role.allows(p) {
            return false;
        }
        let Some(scopes) = &self.token_scopes else {
            return true;
        };
        let needed = match p {
            Permission::ReadOrg
            | Permission::ReadMembers
            | Permission::ReadAudit
            | Permission::ReadJobs
            | Permission::ReadLedger
            | Permission::UseLicences
            | Permission::FindTalent
            | Permission::ReadWorkOrders => TokenScope::Read,
            Permission::Review
            | Permission::WriteProduction
            | Permission::PlanProduction
            | Permission::ManageProduction
            | Permission::KeepViews
            | Permission::ManageLedger
            | Permission::SellListings
            | Permission::BuyLicences
            | Permission::ManageTalent
            | Permission::ManageWorkOrders => TokenScope::Write,
            Permission::ManageOwnTokens => return true,
            Permission::ManageOrg
            | Permission::ManageMembers
            | Permission::TransferOwnership
            | Permission::ManageWebhooks
            | Permission::ManageGrants => TokenScope::Admin,
        };
        // Admin implies write implies read: a token made for administration can also look.
        scopes.iter().any(|s| match needed {
            TokenScope::Read => true,
            TokenScope::Write => matches!(s, TokenScope::Write | TokenScope::Admin),
            TokenScope::Admin => *s == TokenScope::Admin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn viewers_cannot_manage_and_owners_can() {
        assert!(!Role::Viewer.allows(Permission::ManageMembers));
        assert!(!Role::Artist.allows(Permission::ManageWebhooks));
        assert!(Role::Owner.allows(Permission::TransferOwnership));
        assert!(!Role::Admin.allows(Permission::TransferOwnership));
        assert!(Role::Admin.may_assign(Role::Producer));
        assert!(!Role::Admin.may_assign(Role::Owner));
        assert!(!Role::Producer.may_assign(Role::Viewer));
    }

    #[test]
    fn statuses_follow_the_workflow_and_artists_their_own_tasks() {
        let wip = [Role::Artist, Role::Supervisor];
        let approved = [Role::Producer, Role::Supervisor, Role::Client];
        assert!(Role::Artist.may_set_status(&wip, true));
        assert!(!Role::Artist.may_set_status(&wip, false));
        assert!(!Role::Artist.may_set_status(&approved, true));
        assert!(Role::Supervisor.may_set_status(&wip, false));
        assert!(Role::Client.may_set_status(&approved, false));
        assert!(!Role::Coordinator.may_set_status(&approved, true));
        assert!(Role::Admin.may_set_status(&[], false));
        assert!(!Role::Viewer.may_set_status(&approved, true));
    }

    #[test]
    fn token_scopes_narrow_a_role() {
        let mut s = TenantScope {
            org_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: Role::Owner,
            token_scopes: Some(vec![TokenScope::Read]),
            token_id: None,
        };
        assert!(s.can(Permission::ReadMembers));
        assert!(!s.can(Permission::ManageMembers));
        s.token_scopes = Some(vec![TokenScope::Admin]);
        assert!(s.can(Permission::ManageMembers));
        assert!(s.can(Permission::ReadAudit));
        s.role = Role::Viewer;
        assert!(
            !s.can(Permission::ManageMembers),
            "a scope never widens a role"
        );
    }

    #[test]
    fn scopes_encode_sorted_and_unique() {
        let t = TokenScope::join(&[TokenScope::Write, TokenScope::Read, TokenScope::Write]);
        assert_eq!(t, "read write");
        assert_eq!(
            TokenScope::split(&t),
            vec![TokenScope::Read, TokenScope::Write]
        );
    }
}
