//! The single authorization decision. Every request, from every kind of principal, is
//! turned into `(principal, action, resource)` and passed to [`decide`]; the storage layer
//! only accepts an [`Authorized`] proof, which nothing but [`authorize`] can make. So no
//! handler can reach a vault's data without a decision, and a handler never compares
//! vault ids itself.
//!
//! Denials of things the principal may not even know exist are marked `hidden`, and the
//! API answers them exactly like "not found".

use crate::access::{AccessOutcome, AccessRole, AccessRoleSpec, Verb, Verbs};
use crate::capability::{Capabilities, Capability};
use crate::error::{Error, ErrorCode};
use crate::ids::{MachineId, TokenId, UserId, VaultId};
use crate::names::{EnvironmentName, EnvironmentPath, ProjectPath, SecretPath};
use crate::runtime::RuntimeAccess;
use crate::secret::SecretType;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// A member's role in a vault: one of the built-in rows of the management matrix, or a
/// custom row authored on the enterprise plan. Seniority is inclusion of rows, so "below"
/// means the same for built-in and custom roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VaultRole {
    /// The one owner: holds everything.
    Owner,
    /// Everything but billing, authoring roles and deleting or transferring the vault.
    Admin,
    /// Machines, agents, integrations, the roster, own trash and own audit entries.
    Developer,
    /// The overview and their own audit entries.
    Collaborator,
    /// A custom role: exactly these cells, and applications only through an access role.
    Custom(Capabilities),
}

const OWNER_CELLS: Capabilities = Capabilities::all();
const ADMIN_CELLS: Capabilities = Capabilities::all().without(Capabilities::of(&[
    Capability::Billing,
    Capability::RolesManage,
    Capability::OrganizationDelete,
    Capability::OrganizationTransfer,
]));
const DEVELOPER_CELLS: Capabilities = Capabilities::of(&[
    Capability::Overview,
    Capability::Machines,
    Capability::AiAgents,
    Capability::Integrations,
    Capability::MembersView,
    Capability::TrashOwn,
    Capability::AuditViewOwn,
]);
const COLLABORATOR_CELLS: Capabilities =
    Capabilities::of(&[Capability::Overview, Capability::AuditViewOwn]);

impl VaultRole {
    /// Whether the role opens every application without an access role (owner, admin).
    pub fn sees_everything(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Seniority: a member may act only on members, and assign only roles, strictly below
    /// their own. Below means fewer cells of the matrix, and never a wider view of the
    /// data: a custom role holding more cells than Admin still cannot make an admin.
    pub fn is_below(self, other: VaultRole) -> bool {
        self.capabilities().is_strictly_below(other.capabilities())
            && (!self.sees_everything() || other.sees_everything())
    }

    /// The role's row of the management matrix (a constant for built-in roles).
    pub fn capabilities(self) -> Capabilities {
        match self {
            Self::Owner => OWNER_CELLS,
            Self::Admin => ADMIN_CELLS,
            Self::Developer => DEVELOPER_CELLS,
            Self::Collaborator => COLLABORATOR_CELLS,
            Self::Custom(cells) => cells,
        }
    }

    /// Whether the role holds a cell of the matrix.
    pub fn holds(self, capability: Capability) -> bool {
        self.capabilities().contains(capability)
    }

    /// Every built-in role, most senior first.
    pub const ALL: [VaultRole; 4] = [
        Self::Owner,
        Self::Admin,
        Self::Developer,
        Self::Collaborator,
    ];

    /// One line on what the role may do, for invites and role pickers.
    pub fn summary(self) -> &'static str {
        match self {
            Self::Owner => {
                "Owner: everything, including billing, roles and deleting the organization"
            }
            Self::Admin => {
                "Admin: everything except billing, authoring roles, and deleting or transferring the organization"
            }
            Self::Developer => {
                "Developer: machines, AI agents, integrations, the member roster, own trash and own audit entries"
            }
            Self::Collaborator => "Collaborator: the overview and their own audit entries",
            Self::Custom(_) => {
                "A custom role: the cells listed, and applications through an access role"
            }
        }
    }

    /// Storage form; a custom role is stored as `custom` with a reference to its row.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Collaborator => "collaborator",
            Self::Custom(_) => "custom",
        }
    }
}

impl FromStr for VaultRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "developer" => Ok(Self::Developer),
            "collaborator" => Ok(Self::Collaborator),
            _ => Err(Error::new(ErrorCode::InvalidValue, "unknown vault role")),
        }
    }
}

impl fmt::Display for VaultRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a member stands in the vault their session acts in, read fresh on every request
/// so that suspension, removal and deletion take effect at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A member in good standing, with their role.
    Active(VaultRole),
    /// Suspended by someone who manages members.
    Suspended,
    /// No longer a member (removed, or left).
    NotMember,
    /// The organization was soft-deleted by its owner.
    VaultDeleted,
    /// The request comes from an address outside the vault's IP allowlist.
    OutsideAllowlist,
}

/// A signed-in user acting inside the vault their session has selected.
#[derive(Debug, Clone)]
pub struct Member {
    /// The account.
    pub user_id: UserId,
    /// The vault this request acts in.
    pub vault_id: VaultId,
    /// Their standing, and role, in that vault.
    pub standing: Standing,
    /// Their access role there, if they hold one (owners and admins need none).
    pub access: Option<Arc<AccessRole>>,
}

/// A registered machine, authenticated by a signed request. It is active and unexpired:
/// authentication refuses the others before a principal is made.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The machine.
    pub id: MachineId,
    /// The vault it is registered in, the only one it can act in.
    pub vault_id: VaultId,
    /// What its attachments and grants open.
    pub access: Arc<RuntimeAccess>,
}

/// What a token is for; each kind is usable only for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An AI agent: reads names and uses values through the broker, never sees one.
    Agent,
    /// A CI job: may reveal values (for `run` and `export`).
    Ci,
}

impl TokenKind {
    /// Storage and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Ci => "ci",
        }
    }

    /// The matrix cell that creates, lists and revokes tokens of this kind.
    pub fn cell(self) -> Capability {
        match self {
            Self::Agent => Capability::AiAgents,
            Self::Ci => Capability::Integrations,
        }
    }
}

impl FromStr for TokenKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "agent" => Ok(Self::Agent),
            "ci" => Ok(Self::Ci),
            _ => Err(Error::new(
                ErrorCode::InvalidValue,
                "a token's kind is 'agent' or 'ci'",
            )),
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent or CI token, authenticated by its secret: unrevoked, unexpired, and used
/// from an address it admits.
#[derive(Debug, Clone)]
pub struct RuntimeToken {
    /// The token.
    pub id: TokenId,
    /// What it is for.
    pub kind: TokenKind,
    /// The vault it was created in, the only one it can act in.
    pub vault_id: VaultId,
    /// What its scope opens.
    pub access: Arc<RuntimeAccess>,
}

/// Whoever is making the request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, through a session.
    Member(Member),
    /// A workload, through its own key.
    Machine(Machine),
    /// An AI agent or a CI job, through a token.
    Token(RuntimeToken),
}

/// On whose behalf an allowed action runs, for the store and its audit entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member (a user account).
    Member(UserId),
    /// A machine.
    Machine(MachineId),
    /// An agent or CI token.
    Token(TokenId, TokenKind),
}

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read or change one's own account: sessions, TOTP, password.
    ManageOwnAccount,
    /// List applications, projects and environments.
    ReadStructure,
    /// Create applications, projects and environments.
    WriteStructure,
    /// List secrets and read their metadata and history (never values).
    ReadSecretMetadata,
    /// Create a secret, write a new version, roll back or import.
    WriteSecret,
    /// See a secret's plaintext value.
    RevealSecret,
    /// Move a secret to the trash, or bring it back.
    DeleteSecret,
    /// Destroy a secret and all its versions for good.
    PurgeSecret,
    /// Create a new organization (an account-level action).
    CreateOrganization,
    /// Turn one's personal vault into an organization.
    ConvertToOrganization,
    /// See the roster, the plan and its usage.
    ViewMembers,
    /// Invite someone (by email or link) with this vault role.
    InviteMember(VaultRole),
    /// List and revoke the vault's pending invites and invite links.
    ManageInvites,
    /// See the vault's roles and their matrices.
    ViewRoles,
    /// Author, edit and delete access roles (and custom vault roles).
    ManageRoles,
    /// Ask how a decision would come out for oneself (`strongroom check`).
    ExplainOwnAccess,
    /// Suspend, unsuspend or remove a member (the resource names their role).
    ManageMember,
    /// Give a member this vault role (the resource names their current role).
    AssignRole(VaultRole),
    /// Leave the vault of one's own accord.
    LeaveVault,
    /// Hand ownership to another member.
    TransferOwnership,
    /// Soft-delete the organization.
    DeleteOrganization,
    /// Register, list, disable, enable and remove machines; attach and grant them access.
    ManageMachines,
    /// A machine looks at its own identity and what it may read (a machine-only route).
    InspectOwnMachine,
    /// Create, list and revoke agent and CI tokens (each kind needs its own cell).
    ManageTokens,
    /// Have a secret's value injected into a call to its declared destination.
    UseSecret,
    /// Write, list and delete access policies on machines and tokens.
    ManagePolicies,
    /// See and change the vault's IP allowlist.
    ManageIpAllowlist,
    /// Read the audit log: one's own entries, or everyone's with View others.
    ViewAuditLog,
    /// Walk the whole audit chain to check nothing was changed (View others).
    VerifyAuditLog,
    /// Define, list, test and delete alert rules.
    ManageAlerts,
}

impl Action {
    /// Stable name for logs and, later, audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManageOwnAccount => "account.manage",
            Self::ReadStructure => "structure.read",
            Self::WriteStructure => "structure.write",
            Self::ReadSecretMetadata => "secret.read",
            Self::WriteSecret => "secret.write",
            Self::RevealSecret => "secret.reveal",
            Self::DeleteSecret => "secret.delete",
            Self::PurgeSecret => "secret.purge",
            Self::CreateOrganization => "organization.create",
            Self::ConvertToOrganization => "organization.convert",
            Self::ViewMembers => "member.list",
            Self::InviteMember(_) => "member.invite",
            Self::ManageInvites => "member.invites",
            Self::ViewRoles => "role.list",
            Self::ManageRoles => "role.manage",
            Self::ExplainOwnAccess => "access.explain",
            Self::ManageMember => "member.manage",
            Self::AssignRole(_) => "member.assign_role",
            Self::LeaveVault => "member.leave",
            Self::TransferOwnership => "organization.transfer",
            Self::DeleteOrganization => "organization.delete",
            Self::ManageMachines => "machine.manage",
            Self::InspectOwnMachine => "machine.self",
            Self::ManageTokens => "token.manage",
            Self::ManagePolicies => "policy.manage",
            Self::UseSecret => "secret.use",
            Self::ManageIpAllowlist => "allowlist.manage",
            Self::ViewAuditLog => "audit.list",
            Self::VerifyAuditLog => "audit.verify",
            Self::ManageAlerts => "alert.manage",
        }
    }

    fn is_account_action(self) -> bool {
        matches!(self, Self::ManageOwnAccount | Self::CreateOrganization)
    }

    fn is_member_action(self) -> bool {
        matches!(self, Self::ManageMember | Self::AssignRole(_))
    }
}

/// What the action is aimed at.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// A user's own account.
    Account(&'a UserId),
    /// Anything inside a vault.
    Vault(&'a VaultId),
    /// A member of a vault, who currently holds `role` there.
    Member {
        /// Their vault.
        vault: &'a VaultId,
        /// Their current vault role.
        role: VaultRole,
    },
}

/// The outcome of [`decide`], with the reason (for logs, audit and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the action may proceed.
    pub allowed: bool,
    /// Why.
    pub reason: &'static str,
    /// A denial the principal must not be able to tell from "does not exist".
    pub hidden: bool,
}

impl Decision {
    const fn allow(reason: &'static str) -> Self {
        Self {
            allowed: true,
            reason,
            hidden: false,
        }
    }
    const fn deny(reason: &'static str) -> Self {
        Self {
            allowed: false,
            reason,
            hidden: false,
        }
    }
    const fn hide(reason: &'static str) -> Self {
        Self {
            allowed: false,
            reason,
            hidden: true,
        }
    }
}

/// The decision. Pure, allocation-free, and independent of how many members or secrets
/// a vault holds.
pub fn decide(principal: &Principal, action: Action, resource: Resource<'_>) -> Decision {
    match principal {
        Principal::Member(member) => decide_for_member(member, action, resource),
        Principal::Machine(machine) => {
            decide_for_runtime(&machine.vault_id, None, action, resource)
        }
        Principal::Token(token) => {
            decide_for_runtime(&token.vault_id, Some(token.kind), action, resource)
        }
    }
}

/// Machines and tokens read, reveal and use what they were given, and nothing else: the
/// management plane is closed to them whatever they hold. An agent token never reveals.
fn decide_for_runtime(
    own_vault: &VaultId,
    token: Option<TokenKind>,
    action: Action,
    resource: Resource<'_>,
) -> Decision {
    match resource {
        Resource::Vault(vault) if vault != own_vault => {
            Decision::hide("the resource belongs to another vault")
        }
        Resource::Vault(_) => match (action, token) {
            (Action::RevealSecret, Some(TokenKind::Agent)) => Decision::deny(AGENT_NEVER_REVEALS),
            (Action::InspectOwnMachine, Some(_)) => {
                Decision::deny("this route is for machines; a token cannot use it")
            }
            (
                Action::ReadStructure
                | Action::ReadSecretMetadata
                | Action::RevealSecret
                | Action::UseSecret
                | Action::InspectOwnMachine,
                _,
            ) => Decision::allow("what it was given decides each path as it is used"),
            _ => Decision::deny(MACHINE_PLANE_ONLY),
        },
        Resource::Account(_) | Resource::Member { .. } => Decision::deny(MACHINE_PLANE_ONLY),
    }
}

/// Why an agent token is refused a value.
pub const AGENT_NEVER_REVEALS: &str = "an agent token never receives a plaintext value; it \
     uses secrets through the broker (`strongroom broker`, or POST /api/v1/use)";

/// Why a request from outside a vault's IP allowlist is refused.
pub const OUTSIDE_ALLOWLIST: &str = "this vault admits requests only from the ranges on its IP \
     allowlist, and this request's address is not among them";

/// Why a machine is refused a member or management route.
pub const MACHINE_PLANE_ONLY: &str = "machines and tokens read the secrets they were given, and \
     nothing else: this route is for members";

fn decide_for_member(member: &Member, action: Action, resource: Resource<'_>) -> Decision {
    if action == Action::InspectOwnMachine {
        return Decision::deny(
            "this route is for machines, which sign their requests with their own key; \
             a member's session cannot use it",
        );
    }
    match resource {
        Resource::Account(user) => {
            if !action.is_account_action() {
                Decision::deny("this action does not apply to an account")
            } else if *user == member.user_id {
                Decision::allow("a user manages their own account")
            } else {
                Decision::hide("another user's account")
            }
        }
        Resource::Vault(vault) => {
            if action.is_account_action() || action.is_member_action() {
                return Decision::deny("this action does not apply to a vault as a whole");
            }
            match standing_in(member, vault) {
                Err(denial) => denial,
                Ok(role) => decide_in_vault(role, member.access.is_some(), action),
            }
        }
        Resource::Member {
            vault,
            role: target,
        } => {
            if !action.is_member_action() {
                return Decision::deny("this action does not apply to a member");
            }
            match standing_in(member, vault) {
                Err(denial) => denial,
                Ok(role) => decide_on_member(role, action, target),
            }
        }
    }
}

/// The caller's role in `vault`, or the denial for not having one there.
fn standing_in(member: &Member, vault: &VaultId) -> Result<VaultRole, Decision> {
    if *vault != member.vault_id {
        return Err(Decision::hide("the resource belongs to another vault"));
    }
    match member.standing {
        Standing::Active(role) => Ok(role),
        Standing::Suspended => Err(Decision::deny(
            "your membership in this vault is suspended; switch vaults with `strongroom vaults use`",
        )),
        Standing::NotMember => Err(Decision::deny(
            "you are no longer a member of this vault; switch vaults with `strongroom vaults use`",
        )),
        Standing::VaultDeleted => Err(Decision::deny(
            "this organization has been deleted; its owner can restore it within 30 days",
        )),
        Standing::OutsideAllowlist => Err(Decision::deny(OUTSIDE_ALLOWLIST)),
    }
}

fn capability(role: VaultRole, capability: Capability, reason: &'static str) -> Decision {
    if role.holds(capability) {
        Decision::allow(reason)
    } else {
        Decision::deny(match capability {
            Capability::MembersView => "your vault role does not include Members: view",
            Capability::MembersInvite => "your vault role does not include Members: invite",
            Capability::MembersManage => "your vault role does not include Members: manage",
            Capability::RolesView => "your vault role does not include Roles: view",
            Capability::RolesManage => "your vault role does not include Roles: manage",
            Capability::Billing => "your vault role does not include Billing",
            Capability::OrganizationDelete => "only the owner can delete the organization",
            Capability::OrganizationTransfer => "only the owner can transfer ownership",
            Capability::Machines => "your vault role does not include Machines",
            Capability::IpAllowlist => "your vault role does not include IP allowlist",
            Capability::AuditViewOwn => "your vault role does not include Audit log: view own",
            Capability::AuditViewOthers => {
                "your vault role does not include Audit log: view others"
            }
            Capability::Alerts => "your vault role does not include Alerts",
            _ => "your vault role does not include this capability",
        })
    }
}

fn decide_in_vault(role: VaultRole, has_access_role: bool, action: Action) -> Decision {
    let sees_everything = role.sees_everything();
    match action {
        Action::WriteStructure => {
            if sees_everything {
                Decision::allow("owners and admins shape the vault")
            } else {
                Decision::deny(
                    "only owners and admins create applications, projects and environments",
                )
            }
        }
        Action::ReadStructure
        | Action::ReadSecretMetadata
        | Action::WriteSecret
        | Action::RevealSecret
        | Action::UseSecret
        | Action::DeleteSecret
        | Action::PurgeSecret => {
            if sees_everything {
                Decision::allow("owners and admins hold every data-plane action")
            } else if has_access_role {
                Decision::allow("the access role decides each path as it is used")
            } else {
                Decision::deny(
                    "this role opens applications only through an access role, and none is assigned",
                )
            }
        }
        Action::ManagePolicies => {
            if sees_everything {
                Decision::allow("owners and admins write policies anywhere")
            } else if has_access_role {
                Decision::allow("the access role's policies switch decides each project")
            } else {
                Decision::deny(
                    "policies are written per project, through an access role, and none is assigned",
                )
            }
        }
        Action::ViewMembers => {
            capability(role, Capability::MembersView, "the role may view members")
        }
        Action::ManageInvites => capability(role, Capability::MembersInvite, "the role may invite"),
        Action::ViewRoles => capability(role, Capability::RolesView, "the role may view roles"),
        Action::ManageRoles => {
            capability(role, Capability::RolesManage, "the role may author roles")
        }
        Action::ExplainOwnAccess => Decision::allow("every member may ask about their own access"),
        Action::InviteMember(offered) => {
            let allowed = capability(role, Capability::MembersInvite, "the role may invite");
            if !allowed.allowed {
                allowed
            } else if offered == VaultRole::Owner {
                Decision::deny("the owner role is not assignable; ownership moves only by transfer")
            } else if !offered.is_below(role) {
                Decision::deny("an invite may only offer a vault role below your own")
            } else {
                allowed
            }
        }
        Action::LeaveVault => {
            if role == VaultRole::Owner {
                Decision::deny("the owner cannot leave; transfer ownership first")
            } else {
                Decision::allow("a member may leave")
            }
        }
        Action::ConvertToOrganization => {
            if role == VaultRole::Owner {
                Decision::allow("the owner may convert their vault")
            } else {
                Decision::deny("only the vault's owner can convert it")
            }
        }
        Action::TransferOwnership => capability(
            role,
            Capability::OrganizationTransfer,
            "the owner may transfer ownership",
        ),
        Action::DeleteOrganization => capability(
            role,
            Capability::OrganizationDelete,
            "the owner may delete the organization",
        ),
        Action::ManageMachines => {
            capability(role, Capability::Machines, "the role may manage machines")
        }
        Action::ManageIpAllowlist => capability(
            role,
            Capability::IpAllowlist,
            "the role may manage the IP allowlist",
        ),
        Action::ViewAuditLog => {
            if role.holds(Capability::AuditViewOthers) {
                Decision::allow("the role may view everyone's audit entries")
            } else {
                capability(
                    role,
                    Capability::AuditViewOwn,
                    "the role may view its own audit entries",
                )
            }
        }
        Action::VerifyAuditLog => capability(
            role,
            Capability::AuditViewOthers,
            "the role may view, and so check, the whole audit log",
        ),
        Action::ManageAlerts => capability(role, Capability::Alerts, "the role may manage alerts"),
        Action::ManageTokens => {
            if role.holds(Capability::AiAgents) || role.holds(Capability::Integrations) {
                Decision::allow("the role may manage agent or CI tokens")
            } else {
                Decision::deny(
                    "your vault role includes neither AI agents (agent tokens) nor \
                     Integrations (CI tokens)",
                )
            }
        }
        Action::ManageOwnAccount
        | Action::CreateOrganization
        | Action::ManageMember
        | Action::AssignRole(_)
        | Action::InspectOwnMachine => Decision::deny("this action does not apply to a vault"),
    }
}

fn decide_on_member(role: VaultRole, action: Action, target: VaultRole) -> Decision {
    let allowed = capability(
        role,
        Capability::MembersManage,
        "the role may manage members",
    );
    if !allowed.allowed {
        return allowed;
    }
    if target == VaultRole::Owner {
        return Decision::deny("nobody can suspend, remove or change the role of the owner");
    }
    if !target.is_below(role) {
        return Decision::deny("you can act only on members whose role is below your own");
    }
    if let Action::AssignRole(new) = action {
        if new == VaultRole::Owner {
            return Decision::deny(
                "the owner role is not assignable; ownership moves only by transfer",
            );
        }
        if !new.is_below(role) {
            return Decision::deny("you can assign only vault roles below your own");
        }
    }
    allowed
}

/// Proof that [`decide`] allowed an action. Storage methods take it and read the vault and
/// actor from it, so they cannot be pointed at another vault.
#[derive(Debug, Clone)]
pub struct Authorized {
    actor: Actor,
    vault: Option<VaultId>,
    action: Action,
    lens: Lens,
    /// The actor's cells of the management matrix: the ceiling of any vault role they
    /// author.
    capabilities: Capabilities,
}

/// How much of the vault a proof opens.
#[derive(Debug, Clone)]
enum Lens {
    /// Owners and admins: everything.
    Everything,
    /// Everyone else: what their access role opens, path by path.
    AccessRole(Arc<AccessRole>),
    /// A machine: what its attachments and grants open.
    Runtime(Arc<RuntimeAccess>),
    /// No access role: no application at all.
    Nothing,
}

/// A vault id that matches no row: out-of-scope paths are looked up in it, so they answer
/// exactly as paths that do not exist.
const NO_VAULT: &str = "";

impl Authorized {
    /// The member on whose behalf the action runs. Errors for a machine: only members
    /// reach the operations that ask.
    pub fn actor(&self) -> Result<&UserId, Error> {
        match &self.actor {
            Actor::Member(user) => Ok(user),
            Actor::Machine(_) | Actor::Token(..) => Err(Error::internal(
                "a member-only operation was given a machine's or token's proof",
            )),
        }
    }

    /// Whoever the action runs for, member or machine.
    pub fn acting(&self) -> &Actor {
        &self.actor
    }

    /// The action that was allowed.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The vault the action may touch. Errors if the proof was for an account action.
    pub fn vault(&self) -> Result<&VaultId, Error> {
        self.vault
            .as_ref()
            .ok_or_else(|| Error::internal("a vault operation was given an account-level proof"))
    }

    /// The vault to look `app/project` up in: the proof's own when the caller's lens opens
    /// it, otherwise one that holds nothing.
    pub fn vault_for(&self, app: &str, project: &str) -> Result<&str, Error> {
        let vault = self.vault()?.as_str();
        Ok(match &self.lens {
            Lens::Everything => vault,
            Lens::AccessRole(role) if role.opens_project(app, project) => vault,
            Lens::Runtime(access) if access.opens_project(app, project) => vault,
            Lens::AccessRole(_) | Lens::Runtime(_) | Lens::Nothing => NO_VAULT,
        })
    }

    /// The vault to look application `app` up in (see [`Authorized::vault_for`]).
    pub fn vault_for_application(&self, app: &str) -> Result<&str, Error> {
        let vault = self.vault()?.as_str();
        Ok(match &self.lens {
            Lens::Everything => vault,
            Lens::AccessRole(role) if role.opens_application(app) => vault,
            Lens::Runtime(access) if access.opens_application(app) => vault,
            Lens::AccessRole(_) | Lens::Runtime(_) | Lens::Nothing => NO_VAULT,
        })
    }

    /// Whether the audit log shows this member everyone's entries, not only their own.
    pub fn sees_all_audit_entries(&self) -> bool {
        self.capabilities.contains(Capability::AuditViewOthers)
    }

    /// Whether the proof opens the whole vault (owners and admins), so that per-secret
    /// checks can be skipped.
    pub fn sees_everything(&self) -> bool {
        matches!(self.lens, Lens::Everything)
    }

    /// Whether listings show application `app`.
    pub fn sees_application(&self, app: &str) -> bool {
        match &self.lens {
            Lens::Everything => true,
            Lens::AccessRole(role) => role.opens_application(app),
            Lens::Runtime(access) => access.opens_application(app),
            Lens::Nothing => false,
        }
    }

    /// Whether listings show project `app/project`.
    pub fn sees_project(&self, app: &str, project: &str) -> bool {
        match &self.lens {
            Lens::Everything => true,
            Lens::AccessRole(role) => role.opens_project(app, project),
            Lens::Runtime(access) => access.opens_project(app, project),
            Lens::Nothing => false,
        }
    }

    /// Whether listings show environment `env` of a project the caller sees: a machine or
    /// token sees only the environments it may read in (and none while a policy refuses
    /// it there).
    pub fn sees_environment(&self, env: &EnvironmentPath) -> bool {
        match &self.lens {
            Lens::Everything => true,
            Lens::AccessRole(role) => role.opens_project(
                env.project.application.as_str(),
                env.project.project.as_str(),
            ),
            Lens::Runtime(access) => {
                access.decide_environment(Verb::Read, env) == AccessOutcome::Allowed
            }
            Lens::Nothing => false,
        }
    }

    /// Checks what the path alone decides (deny rules, verbs switched off) before the
    /// secret is looked up, so the answer is the same whether or not it exists.
    pub fn permit_path(&self, verb: Verb, path: &SecretPath) -> Result<(), Error> {
        match &self.lens {
            Lens::Everything => Ok(()),
            Lens::AccessRole(role) => outcome_to_result(role.decide_secret(verb, path, None), path),
            Lens::Runtime(access) => runtime_result(access.verdict(path).outcome(verb), verb, path),
            Lens::Nothing => Err(Error::not_found(&format!("secret '{path}'"))),
        }
    }

    /// The same for a whole environment (listing, bulk reads).
    pub fn permit_environment(&self, verb: Verb, env: &EnvironmentPath) -> Result<(), Error> {
        match &self.lens {
            Lens::Everything => Ok(()),
            Lens::AccessRole(role) => match role.decide_environment(verb, env) {
                AccessOutcome::Allowed => Ok(()),
                AccessOutcome::OutOfScope => Err(Error::not_found(&format!("environment '{env}'"))),
                other => Err(denial(other, &env.to_string())),
            },
            Lens::Runtime(access) => match access.decide_environment(verb, env) {
                AccessOutcome::Allowed => Ok(()),
                AccessOutcome::OutOfScope => Err(Error::not_found(&format!("environment '{env}'"))),
                AccessOutcome::RefusedByPolicy(why) => {
                    Err(policy_refusal(&why, verb, &env.to_string()))
                }
                other => Err(runtime_denial(&other, &env.to_string())),
            },
            Lens::Nothing => Err(Error::not_found(&format!("environment '{env}'"))),
        }
    }

    /// Checks a secret once it is loaded and its type is known. A secret the caller may not
    /// even read answers `missing()`, exactly as one that does not exist.
    pub fn permit_loaded(
        &self,
        verb: Verb,
        path: &SecretPath,
        secret_type: SecretType,
        missing: impl FnOnce() -> Error,
    ) -> Result<(), Error> {
        let role = match &self.lens {
            Lens::Everything => return Ok(()),
            Lens::Nothing => return Err(missing()),
            Lens::AccessRole(role) => role,
            Lens::Runtime(access) => {
                let verdict = access.verdict(path);
                return match verdict.outcome(Verb::Read) {
                    AccessOutcome::OutOfScope | AccessOutcome::DeniedByRule(_) => Err(missing()),
                    _ => runtime_result(verdict.outcome(verb), verb, path),
                };
            }
        };
        let verdict = role.verdict(path, Some(secret_type));
        if verdict.outcome(Verb::Read) != AccessOutcome::Allowed {
            return Err(missing());
        }
        outcome_to_result(verdict.outcome(verb), path)
    }

    /// Whether a listing shows this secret (the caller may read it).
    pub fn may_read(&self, path: &SecretPath, secret_type: Option<SecretType>) -> bool {
        match &self.lens {
            Lens::Everything => true,
            Lens::AccessRole(role) => {
                role.decide_secret(Verb::Read, path, secret_type) == AccessOutcome::Allowed
            }
            Lens::Runtime(access) => {
                access.verdict(path).outcome(Verb::Read) == AccessOutcome::Allowed
            }
            Lens::Nothing => false,
        }
    }

    /// Whether the caller may use `verb` on this secret (for bulk reads that skip the rest).
    pub fn may(&self, verb: Verb, path: &SecretPath, secret_type: Option<SecretType>) -> bool {
        match &self.lens {
            Lens::Everything => true,
            Lens::AccessRole(role) => {
                let verdict = role.verdict(path, secret_type);
                verdict.outcome(verb) == AccessOutcome::Allowed
                    && verdict.outcome(Verb::Read) == AccessOutcome::Allowed
            }
            Lens::Runtime(access) => access.verdict(path).outcome(verb) == AccessOutcome::Allowed,
            Lens::Nothing => false,
        }
    }

    /// Whether the actor's vault role is above `role` (see [`VaultRole::is_below`]): they
    /// may change what members holding `role` hold.
    pub fn outranks(&self, role: VaultRole) -> bool {
        role.capabilities().is_strictly_below(self.capabilities)
            && (!role.sees_everything() || matches!(self.lens, Lens::Everything))
    }

    /// Checks a custom vault role its author is about to create (`old` is `None`), edit
    /// or delete (`new` is `None`): nobody writes a cell they do not hold, touches a role
    /// that is not below their own (so not their peers' nor their own), or gives a custom
    /// role an owner-only cell.
    pub fn permit_vault_role_authoring(
        &self,
        old: Option<Capabilities>,
        new: Option<Capabilities>,
    ) -> Result<(), Error> {
        self.require(Action::ManageRoles)?;
        if let Some(old) = old {
            let beyond = old.beyond(self.capabilities);
            if !beyond.is_empty() {
                return Err(escalation(format!(
                    "this role holds {} and you do not, so you cannot change it",
                    cell_list(&beyond)
                )));
            }
            if !old.is_strictly_below(self.capabilities) {
                return Err(escalation(
                    "this role holds as much as your own, so only someone above you can change it"
                        .into(),
                ));
            }
        }
        if let Some(new) = new {
            let owner_only = new.beyond(Capabilities::all().without(Capabilities::OWNER_ONLY));
            if !owner_only.is_empty() {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "a custom role cannot hold {}: only the owner does, and ownership moves only by transfer",
                        cell_list(&owner_only)
                    ),
                ));
            }
            let beyond = new.beyond(self.capabilities);
            if !beyond.is_empty() {
                return Err(escalation(format!(
                    "you cannot grant {}: your own vault role does not hold it",
                    cell_list(&beyond)
                )));
            }
        }
        Ok(())
    }

    /// Checks an access role its author is about to create (`old` is `None`) or edit, and
    /// returns the file to store: the author's own deny rules travel into it. Nobody
    /// writes a role that opens more than their own, edits one that already does, or
    /// removes a deny rule that binds them.
    pub fn permit_access_role_authoring(
        &self,
        old: Option<&AccessRole>,
        new: &AccessRoleSpec,
    ) -> Result<AccessRoleSpec, Error> {
        self.require(Action::ManageRoles)?;
        let nothing = AccessRole::nothing();
        let author = match &self.lens {
            Lens::Everything => return Ok(new.clone()),
            Lens::AccessRole(role) => role.as_ref(),
            Lens::Runtime(_) | Lens::Nothing => &nothing,
        };
        if let Some(old) = old {
            author.covers(old).map_err(|why| {
                escalation(format!(
                    "this access role opens more than yours ({why}), so you cannot change it"
                ))
            })?;
            if let Some(rule) = author
                .deny_rules()
                .iter()
                .find(|rule| old.deny_rules().contains(rule) && !new.deny.contains(rule))
            {
                return Err(escalation(format!(
                    "deny rule '{rule}' binds you, so you cannot remove it"
                )));
            }
        }
        let mut merged = new.clone();
        for rule in author.deny_rules() {
            if !merged.deny.contains(rule) {
                merged.deny.push(rule.clone());
            }
        }
        let compiled = AccessRole::compile(&merged)?;
        author
            .covers(&compiled)
            .map_err(|why| escalation(format!("the role would grant more than you hold: {why}")))?;
        Ok(merged)
    }

    /// Checks that the actor may hand `role` to a member (assigning it, or offering it in
    /// an invite): it must open nothing the actor's own access does not.
    pub fn permit_granting_access_role(&self, role: &AccessRole) -> Result<(), Error> {
        let nothing = AccessRole::nothing();
        let author = match &self.lens {
            Lens::Everything => return Ok(()),
            Lens::AccessRole(own) => own.as_ref(),
            Lens::Runtime(_) | Lens::Nothing => &nothing,
        };
        author.covers(role).map_err(|why| {
            escalation(format!(
                "you can hand out only access you hold yourself: {why}"
            ))
        })
    }

    /// Checks the trash cells of the matrix for restoring or purging a secret that
    /// `deleted_by` (a user id) moved to the trash: one's own needs Trash: own, anyone
    /// else's Trash: others.
    pub fn permit_trash(&self, deleted_by: Option<&str>) -> Result<(), Error> {
        if self.may_handle_trash_of(deleted_by) {
            return Ok(());
        }
        Err(escalation(if self.is_own(deleted_by) {
            "your vault role does not include Trash: own (restoring or purging secrets you deleted)"
                .into()
        } else {
            "your vault role does not include Trash: others (restoring or purging secrets someone else deleted)".into()
        }))
    }

    /// Whether the trash listing shows a secret that `deleted_by` moved there.
    pub fn may_handle_trash_of(&self, deleted_by: Option<&str>) -> bool {
        let cell = if self.is_own(deleted_by) {
            Capability::TrashOwn
        } else {
            Capability::TrashOthers
        };
        self.capabilities.contains(cell)
    }

    fn is_own(&self, deleted_by: Option<&str>) -> bool {
        matches!(&self.actor, Actor::Member(user) if deleted_by == Some(user.as_str()))
    }

    /// Checks that the actor may attach a machine to `project` for `environments` (all
    /// when empty) with `verbs`, or detach it (no verbs): the project's machines switch
    /// must be on for them, and they must hold each verb on every secret the attachment
    /// opens. Nobody gives a machine more than they hold.
    pub fn permit_attaching(
        &self,
        project: &ProjectPath,
        environments: &[EnvironmentName],
        verbs: Verbs,
    ) -> Result<(), Error> {
        self.require(Action::ManageMachines)?;
        let (app, name) = (project.application.as_str(), project.project.as_str());
        let role = match &self.lens {
            Lens::Everything => return Ok(()),
            Lens::AccessRole(role) if role.opens_project(app, name) => role,
            _ => return Err(Error::not_found(&format!("project '{project}'"))),
        };
        if !role.may_attach_machines(app, name) {
            return Err(escalation(format!(
                "your access role switches machines off for {project}"
            )));
        }
        let places: Vec<Option<&str>> = if environments.is_empty() {
            vec![None]
        } else {
            environments.iter().map(|e| Some(e.as_str())).collect()
        };
        for env in places {
            hand_on(role, project, env, verbs, "a machine")?;
        }
        Ok(())
    }

    /// The read caps of the access policies binding the actor (a machine or token) in
    /// `app/project`; members have none.
    pub fn read_caps(&self, app: &str, project: &str) -> Vec<crate::policy::ReadCaps> {
        match &self.lens {
            Lens::Runtime(access) => access.read_caps(app, project),
            _ => Vec::new(),
        }
    }

    /// Checks that the actor may write, see or delete a policy binding `project` (or
    /// everything, when `None`): the project's policies switch, or seeing everything.
    pub fn permit_policy(&self, project: Option<&ProjectPath>) -> Result<(), Error> {
        self.require(Action::ManagePolicies)?;
        let role = match &self.lens {
            Lens::Everything => return Ok(()),
            Lens::AccessRole(role) => role,
            Lens::Runtime(_) | Lens::Nothing => {
                return Err(escalation("you author no policies".into()));
            }
        };
        let Some(project) = project else {
            return Err(escalation(
                "only owners and admins write policies binding every project; name a project"
                    .into(),
            ));
        };
        let (app, name) = (project.application.as_str(), project.project.as_str());
        if !role.opens_project(app, name) {
            return Err(Error::not_found(&format!("project '{project}'")));
        }
        if !role.may_author_policies(app, name) {
            return Err(escalation(format!(
                "your access role switches policies off for {project}"
            )));
        }
        Ok(())
    }

    /// Whether the actor holds the cell for tokens of `kind` (listing shows only those).
    pub fn may_manage_tokens(&self, kind: TokenKind) -> bool {
        self.capabilities.contains(kind.cell())
    }

    /// Checks a token the actor is about to create (or revoke, with no scopes): the
    /// kind's cell, and every verb held on everything each scope (a project, or one of its
    /// environments) opens. An agent token never holds reveal.
    pub fn permit_token(
        &self,
        kind: TokenKind,
        scopes: &[(ProjectPath, Option<EnvironmentName>)],
        verbs: Verbs,
    ) -> Result<(), Error> {
        self.require(Action::ManageTokens)?;
        if !self.may_manage_tokens(kind) {
            return Err(escalation(format!(
                "{kind} tokens take the '{}' cell, which your vault role does not include",
                kind.cell()
            )));
        }
        if kind == TokenKind::Agent && verbs.contains(Verb::Reveal) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "an agent token never reveals: give it read and use (make a ci token for \
                 run and export)",
            ));
        }
        for (project, env) in scopes {
            let (app, name) = (project.application.as_str(), project.project.as_str());
            let role = match &self.lens {
                Lens::Everything => continue,
                Lens::AccessRole(role) if role.opens_project(app, name) => role,
                _ => return Err(Error::not_found(&format!("project '{project}'"))),
            };
            hand_on(
                role,
                project,
                env.as_ref().map(EnvironmentName::as_str),
                verbs,
                &format!("a {kind} token"),
            )?;
        }
        Ok(())
    }

    /// Checks that the actor may grant a machine the secret at `path` (of
    /// `secret_type`) with `verbs`, or revoke that grant (no verbs): it takes 'manage' on
    /// the secret, the project's machines switch, and each verb given.
    pub fn permit_granting_secret(
        &self,
        path: &SecretPath,
        secret_type: SecretType,
        verbs: Verbs,
    ) -> Result<(), Error> {
        self.require(Action::ManageMachines)?;
        let missing = || Error::not_found(&format!("secret '{path}'"));
        let project = &path.environment.project;
        let role = match &self.lens {
            Lens::Everything => return Ok(()),
            Lens::AccessRole(role) => role,
            Lens::Runtime(_) | Lens::Nothing => return Err(missing()),
        };
        let verdict = role.verdict(path, Some(secret_type));
        if verdict.outcome(Verb::Read) != AccessOutcome::Allowed {
            return Err(missing());
        }
        if !role.may_attach_machines(project.application.as_str(), project.project.as_str()) {
            return Err(escalation(format!(
                "your access role switches machines off for {project}"
            )));
        }
        for verb in verbs.with(Verb::Manage).iter() {
            outcome_to_result(verdict.outcome(verb), path)?;
        }
        Ok(())
    }

    /// Checks that this proof covers `action`; a mismatch is a programming error.
    pub fn require(&self, action: Action) -> Result<(), Error> {
        if self.action == action {
            Ok(())
        } else {
            Err(Error::internal(format!(
                "operation needs {} but was authorized for {}",
                action.as_str(),
                self.action.as_str()
            )))
        }
    }
}

/// Runs [`decide`] and turns an allow into a proof, a deny into the error the caller sees.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource: Resource<'_>,
) -> Result<Authorized, Error> {
    let decision = decide(principal, action, resource);
    if !decision.allowed {
        return Err(if decision.hidden {
            Error::not_found("resource")
        } else {
            Error::new(
                ErrorCode::PermissionDenied,
                format!("permission denied: {}", decision.reason),
            )
        });
    }
    let (actor, lens, capabilities) = match principal {
        Principal::Member(member) => {
            let capabilities = match member.standing {
                Standing::Active(role) => role.capabilities(),
                _ => Capabilities::NONE,
            };
            let lens = match (member.standing, &member.access) {
                (Standing::Active(role), _) if role.sees_everything() => Lens::Everything,
                (_, Some(role)) => Lens::AccessRole(role.clone()),
                (_, None) => Lens::Nothing,
            };
            (Actor::Member(member.user_id.clone()), lens, capabilities)
        }
        Principal::Machine(machine) => (
            Actor::Machine(machine.id.clone()),
            Lens::Runtime(machine.access.clone()),
            Capabilities::NONE,
        ),
        Principal::Token(token) => (
            Actor::Token(token.id.clone(), token.kind),
            Lens::Runtime(token.access.clone()),
            Capabilities::NONE,
        ),
    };
    Ok(Authorized {
        actor,
        vault: match resource {
            Resource::Vault(v) | Resource::Member { vault: v, .. } => Some(v.clone()),
            Resource::Account(_) => None,
        },
        action,
        lens,
        capabilities,
    })
}

fn escalation(reason: String) -> Error {
    Error::new(
        ErrorCode::PermissionDenied,
        format!("permission denied: {reason}"),
    )
}

fn cell_list(cells: &[Capability]) -> String {
    cells
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn denial(outcome: AccessOutcome, what: &str) -> Error {
    let reason = match outcome {
        AccessOutcome::DeniedByRule(rule) => {
            format!("path rule '{rule}' of your access role denies {what}")
        }
        AccessOutcome::SwitchedOff(verb) => {
            format!("your access role switches '{verb}' off for {what}")
        }
        AccessOutcome::RefusedByPolicy(why) => why,
        AccessOutcome::Allowed | AccessOutcome::OutOfScope => format!("{what} is out of reach"),
    };
    Error::new(
        ErrorCode::PermissionDenied,
        format!("permission denied: {reason}"),
    )
}

/// Checks that `role` holds each of `verbs` on everything in `project` (or in its
/// environment `env`), so they may be handed on to `to`.
fn hand_on(
    role: &AccessRole,
    project: &ProjectPath,
    env: Option<&str>,
    verbs: Verbs,
    to: &str,
) -> Result<(), Error> {
    let (app, name) = (project.application.as_str(), project.project.as_str());
    for verb in verbs.iter() {
        role.holds_throughout(app, name, env, verb)
            .map_err(|why| escalation(format!("you cannot give {to} '{verb}' there: {why}")))?;
    }
    Ok(())
}

/// A machine's refusal: it has no access role, only what it was given.
fn runtime_denial(outcome: &AccessOutcome, what: &str) -> Error {
    let verb = match outcome {
        AccessOutcome::SwitchedOff(verb) => verb.as_str(),
        _ => "this",
    };
    Error::new(
        ErrorCode::PermissionDenied,
        format!("permission denied: '{verb}' on {what} was not given to this machine or token"),
    )
}

/// An access policy's refusal, which the audit log records naming the condition.
fn policy_refusal(why: &str, verb: Verb, target: &str) -> Error {
    Error::new(ErrorCode::PolicyDenied, format!("refused by {why}"))
        .recorded_as_refusal(&format!("secret.{verb}"), target)
}

fn runtime_result(outcome: AccessOutcome, verb: Verb, path: &SecretPath) -> Result<(), Error> {
    match outcome {
        AccessOutcome::Allowed => Ok(()),
        AccessOutcome::OutOfScope | AccessOutcome::DeniedByRule(_) => {
            Err(Error::not_found(&format!("secret '{path}'")))
        }
        AccessOutcome::RefusedByPolicy(why) => Err(policy_refusal(&why, verb, &path.to_string())),
        other => Err(runtime_denial(&other, &format!("'{path}'"))),
    }
}

fn outcome_to_result(outcome: AccessOutcome, path: &SecretPath) -> Result<(), Error> {
    match outcome {
        AccessOutcome::Allowed => Ok(()),
        AccessOutcome::OutOfScope => Err(Error::not_found(&format!("secret '{path}'"))),
        other => Err(denial(other, &format!("'{path}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: VaultRole) -> Principal {
        with_standing(Standing::Active(role))
    }

    fn with_standing(standing: Standing) -> Principal {
        Principal::Member(Member {
            user_id: UserId::from_random([1; 16]),
            vault_id: VaultId::from_random([2; 16]),
            standing,
            access: None,
        })
    }

    const ROLES: [VaultRole; 4] = [
        VaultRole::Owner,
        VaultRole::Admin,
        VaultRole::Developer,
        VaultRole::Collaborator,
    ];

    fn vault_of(p: &Principal) -> VaultId {
        match p {
            Principal::Member(m) => m.vault_id.clone(),
            Principal::Machine(m) => m.vault_id.clone(),
            Principal::Token(t) => t.vault_id.clone(),
        }
    }

    const VAULT_ACTIONS: [Action; 7] = [
        Action::ReadStructure,
        Action::WriteStructure,
        Action::ReadSecretMetadata,
        Action::WriteSecret,
        Action::RevealSecret,
        Action::DeleteSecret,
        Action::PurgeSecret,
    ];

    #[test]
    fn the_owner_may_do_everything_in_their_own_vault() {
        let p = member(VaultRole::Owner);
        let v = vault_of(&p);
        for action in VAULT_ACTIONS {
            assert!(
                decide(&p, action, Resource::Vault(&v)).allowed,
                "{action:?}"
            );
        }
    }

    #[test]
    fn another_vault_is_hidden_not_forbidden() {
        let p = member(VaultRole::Owner);
        let other = VaultId::from_random([9; 16]);
        for action in VAULT_ACTIONS {
            let d = decide(&p, action, Resource::Vault(&other));
            assert!(!d.allowed && d.hidden, "{action:?}");
        }
        assert_eq!(
            authorize(&p, Action::RevealSecret, Resource::Vault(&other))
                .err()
                .map(|e| e.code()),
            Some(ErrorCode::NotFound)
        );
    }

    #[test]
    fn members_without_an_access_role_open_nothing() {
        for role in [VaultRole::Developer, VaultRole::Collaborator] {
            let p = member(role);
            let v = vault_of(&p);
            for action in VAULT_ACTIONS {
                let d = decide(&p, action, Resource::Vault(&v));
                assert!(!d.allowed && !d.hidden, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn a_user_manages_only_their_own_account() {
        let p = member(VaultRole::Collaborator);
        let Principal::Member(m) = &p else {
            unreachable!("member() makes a member")
        };
        assert!(decide(&p, Action::ManageOwnAccount, Resource::Account(&m.user_id)).allowed);
        let stranger = UserId::from_random([5; 16]);
        let d = decide(&p, Action::ManageOwnAccount, Resource::Account(&stranger));
        assert!(!d.allowed && d.hidden);
    }

    #[test]
    fn a_proof_covers_only_the_action_it_was_made_for() {
        let p = member(VaultRole::Owner);
        let v = vault_of(&p);
        let proof = authorize(&p, Action::ReadSecretMetadata, Resource::Vault(&v))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(proof.require(Action::ReadSecretMetadata).is_ok());
        assert!(proof.require(Action::RevealSecret).is_err());
        assert_eq!(proof.vault().ok(), Some(&v));
    }

    /// The documented matrix, row by row: a change here is a change of the contract.
    #[test]
    fn each_built_in_role_holds_exactly_its_documented_row() {
        let row = |role: VaultRole| -> Vec<&str> {
            role.capabilities().iter().map(Capability::as_str).collect()
        };
        assert_eq!(row(VaultRole::Owner).len(), Capability::ALL.len());
        assert_eq!(
            row(VaultRole::Admin),
            vec![
                "overview",
                "machines",
                "ai_agents",
                "audit.view_own",
                "audit.view_others",
                "alerts",
                "ip_allowlist",
                "members.view",
                "members.invite",
                "members.manage",
                "roles.view",
                "integrations",
                "trash.own",
                "trash.others",
                "organization.settings",
                "support",
            ]
        );
        assert_eq!(
            row(VaultRole::Developer),
            vec![
                "overview",
                "machines",
                "ai_agents",
                "audit.view_own",
                "members.view",
                "integrations",
                "trash.own"
            ]
        );
        assert_eq!(
            row(VaultRole::Collaborator),
            vec!["overview", "audit.view_own"]
        );
    }

    #[test]
    fn built_in_seniority_is_owner_then_admin_then_developer_then_collaborator() {
        for (i, higher) in VaultRole::ALL.into_iter().enumerate() {
            for (j, lower) in VaultRole::ALL.into_iter().enumerate() {
                assert_eq!(lower.is_below(higher), j > i, "{lower:?} vs {higher:?}");
            }
        }
    }

    #[test]
    fn a_custom_role_with_more_cells_than_admin_still_cannot_act_on_or_make_an_admin() {
        let above_admin =
            VaultRole::Custom(VaultRole::Admin.capabilities().with(Capability::Billing));
        assert!(!VaultRole::Admin.is_below(above_admin));
        assert!(VaultRole::Developer.is_below(above_admin));
        let p = member(above_admin);
        let v = vault_of(&p);
        let on_admin = decide(
            &p,
            Action::ManageMember,
            Resource::Member {
                vault: &v,
                role: VaultRole::Admin,
            },
        );
        assert!(!on_admin.allowed);
        let make_admin = decide(
            &p,
            Action::AssignRole(VaultRole::Admin),
            Resource::Member {
                vault: &v,
                role: VaultRole::Collaborator,
            },
        );
        assert!(!make_admin.allowed);
    }

    #[test]
    fn a_custom_role_opens_applications_only_through_an_access_role() {
        let p = member(VaultRole::Custom(Capabilities::all()));
        let v = vault_of(&p);
        assert!(!decide(&p, Action::RevealSecret, Resource::Vault(&v)).allowed);
        assert!(!decide(&p, Action::WriteStructure, Resource::Vault(&v)).allowed);
    }

    #[test]
    fn suspended_removed_and_deleted_standings_open_nothing_in_the_vault() {
        for standing in [
            Standing::Suspended,
            Standing::NotMember,
            Standing::VaultDeleted,
        ] {
            let p = with_standing(standing);
            let v = vault_of(&p);
            for action in VAULT_ACTIONS
                .into_iter()
                .chain([Action::ViewMembers, Action::LeaveVault])
            {
                let d = decide(&p, action, Resource::Vault(&v));
                assert!(!d.allowed && !d.hidden, "{standing:?} {action:?}");
            }
        }
    }

    #[test]
    fn invites_offer_only_roles_strictly_below_the_inviters_own() {
        for inviter in ROLES {
            let p = member(inviter);
            let v = vault_of(&p);
            for offered in ROLES {
                let d = decide(&p, Action::InviteMember(offered), Resource::Vault(&v));
                let expected = inviter.holds(Capability::MembersInvite)
                    && offered != VaultRole::Owner
                    && ROLES.iter().position(|r| *r == offered)
                        > ROLES.iter().position(|r| *r == inviter);
                assert_eq!(d.allowed, expected, "{inviter:?} offering {offered:?}");
            }
        }
    }

    #[test]
    fn nobody_acts_on_the_owner_or_on_a_member_at_or_above_their_own_role() {
        for actor in ROLES {
            let p = member(actor);
            let v = vault_of(&p);
            for target in ROLES {
                let d = decide(
                    &p,
                    Action::ManageMember,
                    Resource::Member {
                        vault: &v,
                        role: target,
                    },
                );
                let expected = actor.holds(Capability::MembersManage)
                    && target != VaultRole::Owner
                    && ROLES.iter().position(|r| *r == target)
                        > ROLES.iter().position(|r| *r == actor);
                assert_eq!(d.allowed, expected, "{actor:?} on {target:?}");
            }
        }
    }

    #[test]
    fn roles_are_assigned_only_below_the_assigners_own_and_never_owner() {
        for actor in ROLES {
            let p = member(actor);
            let v = vault_of(&p);
            for new in ROLES {
                let d = decide(
                    &p,
                    Action::AssignRole(new),
                    Resource::Member {
                        vault: &v,
                        role: VaultRole::Collaborator,
                    },
                );
                let expected = actor.holds(Capability::MembersManage)
                    && new != VaultRole::Owner
                    && ROLES.iter().position(|r| *r == new)
                        > ROLES.iter().position(|r| *r == actor);
                assert_eq!(d.allowed, expected, "{actor:?} assigning {new:?}");
            }
        }
    }

    #[test]
    fn only_the_owner_transfers_deletes_or_converts_and_the_owner_cannot_leave() {
        for role in ROLES {
            let p = member(role);
            let v = vault_of(&p);
            let is_owner = role == VaultRole::Owner;
            for action in [
                Action::TransferOwnership,
                Action::DeleteOrganization,
                Action::ConvertToOrganization,
            ] {
                assert_eq!(
                    decide(&p, action, Resource::Vault(&v)).allowed,
                    is_owner,
                    "{role:?} {action:?}"
                );
            }
            assert_eq!(
                decide(&p, Action::LeaveVault, Resource::Vault(&v)).allowed,
                !is_owner
            );
        }
    }

    fn author(role: VaultRole, access: Option<&str>) -> Authorized {
        let p = Principal::Member(Member {
            user_id: UserId::from_random([1; 16]),
            vault_id: VaultId::from_random([2; 16]),
            standing: Standing::Active(role),
            access: access.map(|json| Arc::new(compile(json))),
        });
        let v = vault_of(&p);
        authorize(&p, Action::ManageRoles, Resource::Vault(&v)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn spec(json: &str) -> AccessRoleSpec {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    fn compile(json: &str) -> AccessRole {
        AccessRole::compile(&spec(json)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn role_author() -> VaultRole {
        VaultRole::Custom(Capabilities::of(&[
            Capability::Overview,
            Capability::RolesView,
            Capability::RolesManage,
            Capability::Machines,
        ]))
    }

    #[test]
    fn a_custom_vault_role_cannot_hold_a_cell_its_author_lacks() {
        let a = author(role_author(), None);
        let mine = Capabilities::of(&[Capability::Overview, Capability::Machines]);
        assert!(a.permit_vault_role_authoring(None, Some(mine)).is_ok());
        let err = a
            .permit_vault_role_authoring(None, Some(mine.with(Capability::Billing)))
            .err()
            .map(|e| (e.code(), e.to_string()));
        assert_eq!(err.as_ref().map(|e| e.0), Some(ErrorCode::PermissionDenied));
        assert!(err.is_some_and(|e| e.1.contains("'billing'")));
    }

    #[test]
    fn a_custom_vault_role_holding_more_than_its_editor_cannot_be_edited_or_deleted() {
        let a = author(role_author(), None);
        let above = Capabilities::of(&[Capability::Overview, Capability::Billing]);
        let narrow = Capabilities::of(&[Capability::Overview]);
        assert!(
            a.permit_vault_role_authoring(Some(above), Some(narrow))
                .is_err()
        );
        assert!(a.permit_vault_role_authoring(Some(above), None).is_err());
        assert!(a.permit_vault_role_authoring(Some(narrow), None).is_ok());
        // Nor one that holds exactly as much: that is the author's own, or a peer's.
        let own = role_author().capabilities();
        assert!(
            a.permit_vault_role_authoring(Some(own), Some(narrow))
                .is_err()
        );
    }

    #[test]
    fn no_custom_vault_role_holds_an_owner_only_cell_not_even_one_the_owner_writes() {
        let a = author(VaultRole::Owner, None);
        for cell in [
            Capability::OrganizationDelete,
            Capability::OrganizationTransfer,
        ] {
            let err = a.permit_vault_role_authoring(None, Some(Capabilities::of(&[cell])));
            assert_eq!(err.err().map(|e| e.code()), Some(ErrorCode::InvalidValue));
        }
    }

    #[test]
    fn the_authors_deny_rules_travel_into_every_access_role_they_write() {
        let a = author(
            role_author(),
            Some(
                r#"{"scope": {"applications": ["payments"]}, "deny": ["payments/+/production/STRIPE_*"]}"#,
            ),
        );
        let stored = a
            .permit_access_role_authoring(
                None,
                &spec(r#"{"scope": {"projects": ["payments/api"]}}"#),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            stored.deny,
            vec!["payments/+/production/STRIPE_*".to_owned()]
        );
    }

    #[test]
    fn an_access_role_opening_more_than_its_author_is_refused() {
        let a = author(
            role_author(),
            Some(
                r#"{"scope": {"applications": ["payments"]}, "environments": {"production": ["reveal"]}}"#,
            ),
        );
        for wider in [
            r#"{"scope": "everything", "environments": {"production": ["reveal"]}}"#,
            r#"{"scope": {"applications": ["payments"]}}"#,
        ] {
            let err = a.permit_access_role_authoring(None, &spec(wider));
            assert_eq!(
                err.err().map(|e| e.code()),
                Some(ErrorCode::PermissionDenied),
                "{wider}"
            );
        }
    }

    #[test]
    fn a_deny_rule_that_binds_the_author_cannot_be_removed_by_an_edit() {
        let own = r#"{"scope": {"applications": ["payments"]}, "deny": ["payments/api/production/ROOT"]}"#;
        let a = author(role_author(), Some(own));
        let err = a.permit_access_role_authoring(
            Some(&compile(own)),
            &spec(r#"{"scope": {"applications": ["payments"]}}"#),
        );
        assert!(err.is_err_and(|e| e.to_string().contains("binds you")));
    }

    #[test]
    fn an_access_role_wider_than_the_editor_cannot_be_edited() {
        let a = author(
            role_author(),
            Some(r#"{"scope": {"applications": ["payments"]}}"#),
        );
        let err = a.permit_access_role_authoring(
            Some(&compile(r#"{"scope": "everything"}"#)),
            &spec(r#"{"scope": {"applications": ["payments"]}}"#),
        );
        assert_eq!(
            err.err().map(|e| e.code()),
            Some(ErrorCode::PermissionDenied)
        );
    }

    #[test]
    fn only_access_one_holds_can_be_handed_out() {
        let a = author(
            role_author(),
            Some(r#"{"scope": {"applications": ["payments"]}}"#),
        );
        assert!(
            a.permit_granting_access_role(&compile(r#"{"scope": {"projects": ["payments/api"]}}"#))
                .is_ok()
        );
        assert!(
            a.permit_granting_access_role(&compile(r#"{"scope": "everything"}"#))
                .is_err()
        );
        let nobody = author(role_author(), None);
        assert!(
            nobody
                .permit_granting_access_role(&compile(
                    r#"{"scope": {"projects": ["payments/api"]}}"#
                ))
                .is_err()
        );
        let owner = author(VaultRole::Owner, None);
        assert!(
            owner
                .permit_granting_access_role(&compile(r#"{"scope": "everything"}"#))
                .is_ok()
        );
    }

    #[test]
    fn another_vaults_members_are_hidden() {
        let p = member(VaultRole::Owner);
        let other = VaultId::from_random([9; 16]);
        let d = decide(
            &p,
            Action::ManageMember,
            Resource::Member {
                vault: &other,
                role: VaultRole::Collaborator,
            },
        );
        assert!(!d.allowed && d.hidden);
    }

    fn machine() -> Principal {
        Principal::Machine(Machine {
            id: MachineId::from_random([3; 16]),
            vault_id: VaultId::from_random([2; 16]),
            access: Arc::new(RuntimeAccess::default()),
        })
    }

    #[test]
    fn a_machine_may_only_read_reveal_and_inspect_itself_in_its_own_vault() {
        let m = machine();
        let own = VaultId::from_random([2; 16]);
        let other = VaultId::from_random([9; 16]);
        let data = [
            Action::ReadStructure,
            Action::ReadSecretMetadata,
            Action::RevealSecret,
            Action::InspectOwnMachine,
        ];
        for action in data {
            assert!(decide(&m, action, Resource::Vault(&own)).allowed);
            let elsewhere = decide(&m, action, Resource::Vault(&other));
            assert!(!elsewhere.allowed && elsewhere.hidden);
        }
        let management = [
            Action::WriteStructure,
            Action::WriteSecret,
            Action::DeleteSecret,
            Action::PurgeSecret,
            Action::ConvertToOrganization,
            Action::ViewMembers,
            Action::InviteMember(VaultRole::Collaborator),
            Action::ManageInvites,
            Action::ViewRoles,
            Action::ManageRoles,
            Action::ExplainOwnAccess,
            Action::LeaveVault,
            Action::TransferOwnership,
            Action::DeleteOrganization,
            Action::ManageMachines,
        ];
        for action in management {
            let d = decide(&m, action, Resource::Vault(&own));
            assert!(!d.allowed && d.reason == MACHINE_PLANE_ONLY, "{action:?}");
        }
        let user = UserId::from_random([1; 16]);
        assert!(!decide(&m, Action::ManageOwnAccount, Resource::Account(&user)).allowed);
    }

    #[test]
    fn a_members_session_is_refused_the_machine_route() {
        for role in ROLES {
            let p = member(role);
            let d = decide(
                &p,
                Action::InspectOwnMachine,
                Resource::Vault(&vault_of(&p)),
            );
            assert!(!d.allowed);
        }
    }
}
