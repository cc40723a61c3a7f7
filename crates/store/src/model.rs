//! What the store hands back: plain records, already decrypted where the caller was
//! authorized to see values.

use strongroom_core::account::{Email, Username};
use strongroom_core::authz::{Standing, VaultRole};
use strongroom_core::ids::{InviteId, InviteLinkId, SecretId, SessionId, UserId, VaultId};
use strongroom_core::names::SecretName;
use strongroom_core::plan::Plan;
use strongroom_core::secret::{Note, SecretType, SecretValue, Tags};

/// Which slice of a list to return. `after` is the sort key of the last item already seen.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Start after this key (from the previous page's `next_after`).
    pub after: Option<String>,
    /// At most this many items.
    pub limit: u32,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next_after: Option<String>,
}

/// A new account, with its password already hashed.
#[derive(Debug)]
pub struct NewUser {
    /// Username.
    pub username: Username,
    /// Email address.
    pub email: Email,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// An account as its owner sees it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Username.
    pub username: Username,
    /// Email address.
    pub email: Email,
    /// The personal vault created at sign-up.
    pub personal_vault_id: VaultId,
    /// Whether TOTP is enrolled and confirmed.
    pub totp_enabled: bool,
    /// When the current email address was verified, if it was.
    pub email_verified_at: Option<i64>,
    /// Sign-up time.
    pub created_at: i64,
}

/// What sign-in needs to check a password, and the account it opens.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    /// The account.
    pub user: UserRecord,
    /// The stored argon2id hash.
    pub password_hash: String,
}

/// A session, without its token (which is never stored).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Id (safe to show; not a credential).
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// The vault this session acts in.
    pub vault_id: VaultId,
    /// Sign-in time.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// Last request, to the minute.
    pub last_seen_at: i64,
    /// Last step-up re-authentication.
    pub stepped_up_at: Option<i64>,
    /// Address it signed in from.
    pub ip: String,
    /// User agent it signed in with.
    pub user_agent: String,
}

/// A session found by its token, with what authorization needs.
#[derive(Debug, Clone)]
pub struct AuthenticatedSession {
    /// The session.
    pub session: SessionRecord,
    /// The user's name.
    pub username: Username,
    /// Their standing (and role) in the session's vault, as of this request.
    pub standing: Standing,
    /// Their access role there, compiled, as of this request.
    pub access: Option<std::sync::Arc<strongroom_core::access::AccessRole>>,
}

/// A new session to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Owner.
    pub user_id: UserId,
    /// Vault to act in.
    pub vault_id: VaultId,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Lifetime in milliseconds.
    pub ttl_ms: i64,
    /// Client address.
    pub ip: String,
    /// Client user agent (truncated).
    pub user_agent: String,
}

/// A vault the user belongs to.
#[derive(Debug, Clone)]
pub struct VaultRecord {
    /// Id.
    pub id: VaultId,
    /// `personal` or `organization`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// The user's role there.
    pub role: VaultRole,
    /// Its name (a custom role's own name).
    pub role_name: String,
    /// `active` or `suspended`.
    pub member_status: String,
    /// The organization's plan.
    pub plan: Plan,
    /// When the owner soft-deleted it, if they did.
    pub deleted_at: Option<i64>,
    /// Creation time.
    pub created_at: i64,
}

/// Where a request came from, for the audit entry of the change it makes.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Client address.
    pub ip: String,
    /// Client user agent (truncated).
    pub user_agent: String,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// Set once an entry made with this origin commits.
    pub recorded: RecordedMark,
}

/// Tells the server's audit layer that the store recorded a request's entry in the same
/// transaction as its change, so the layer must not add a second, detached one.
#[derive(Debug, Clone, Default)]
pub struct RecordedMark(Option<std::sync::Arc<std::sync::atomic::AtomicBool>>);

impl RecordedMark {
    /// A mark for one request, not yet set.
    pub fn new() -> Self {
        Self(Some(Default::default()))
    }

    /// Whether an entry with this mark has committed.
    pub fn is_set(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|flag| flag.load(std::sync::atomic::Ordering::Acquire))
    }

    pub(crate) fn set(&self) {
        if let Some(flag) = &self.0 {
            flag.store(true, std::sync::atomic::Ordering::Release);
        }
    }
}

/// One member of a vault, as the roster shows them.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    /// Account id.
    pub user_id: UserId,
    /// Username.
    pub username: Username,
    /// Vault role.
    pub role: VaultRole,
    /// Its name (a custom role's own name).
    pub role_name: String,
    /// Access role, if any.
    pub access_role: Option<String>,
    /// `active` or `suspended`.
    pub status: String,
    /// When they joined.
    pub joined_at: i64,
}

/// The roster's header: the plan and how much of it is used.
#[derive(Debug, Clone)]
pub struct PlanUsage {
    /// The plan.
    pub plan: Plan,
    /// Members plus pending (unexpired) invites.
    pub used: u64,
    /// The plan's cap; `None` is unlimited.
    pub cap: Option<u64>,
}

impl PlanUsage {
    /// Refuses one more seat when the plan is full.
    pub fn plan_check(&self) -> Result<(), strongroom_core::Error> {
        self.plan.check_room_for_one_more(self.used)
    }
}

/// An invite, as the inviting organization sees it.
#[derive(Debug, Clone)]
pub struct InviteRecord {
    /// Id.
    pub id: InviteId,
    /// The invited address.
    pub email: String,
    /// The offered vault role's name (`custom` if that custom role was deleted since).
    pub role_name: String,
    /// The offered access role, if any.
    pub access_role: Option<String>,
    /// Who sent it.
    pub inviter_username: String,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    pub status: String,
    /// When it was sent.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
}

/// An invite, as the invitee sees it in their own panel.
#[derive(Debug, Clone)]
pub struct ReceivedInvite {
    /// Id.
    pub id: InviteId,
    /// The organization.
    pub vault_id: VaultId,
    /// The organization's name.
    pub vault_name: String,
    /// The offered vault role's name.
    pub role_name: String,
    /// One line on what it may do.
    pub role_summary: String,
    /// Who sent it.
    pub inviter_username: String,
    /// When it was sent.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
}

/// An invite link, without its token (which is never stored).
#[derive(Debug, Clone)]
pub struct InviteLinkRecord {
    /// Id.
    pub id: InviteLinkId,
    /// The role it grants.
    pub role: VaultRole,
    /// Who created it.
    pub creator_username: String,
    /// Creation time.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// Most joins it allows; `None` is unlimited.
    pub max_uses: Option<i64>,
    /// Joins so far.
    pub uses: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// A member as `strongroom check` sees them.
#[derive(Debug, Clone)]
pub struct CheckSubject {
    /// Their standing and vault role.
    pub standing: Standing,
    /// Their vault role's name (a custom role's own name).
    pub role_name: String,
    /// Their access role: name and compiled form.
    pub access: Option<(String, std::sync::Arc<strongroom_core::access::AccessRole>)>,
}

/// An access role as stored.
#[derive(Debug, Clone)]
pub struct AccessRoleRecord {
    /// Id.
    pub id: strongroom_core::ids::AccessRoleId,
    /// Name, unique in the vault.
    pub name: strongroom_core::names::RoleName,
    /// The role file.
    pub spec: strongroom_core::access::AccessRoleSpec,
    /// Grows with every edit.
    pub version: i64,
    /// How many members hold it.
    pub members: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last edit.
    pub updated_at: i64,
}

/// A registered machine.
#[derive(Debug, Clone)]
pub struct MachineRecord {
    /// Id.
    pub id: strongroom_core::ids::MachineId,
    /// Name, unique in the vault.
    pub name: strongroom_core::names::MachineName,
    /// Its public key (raw Ed25519).
    pub public_key: Vec<u8>,
    /// The key's OpenSSH SHA-256 fingerprint.
    pub fingerprint: String,
    /// `active` or `disabled`.
    pub status: String,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<i64>,
    /// Who registered it (username as it was then).
    pub registered_by: String,
    /// Registration time.
    pub created_at: i64,
    /// Last change of status.
    pub updated_at: i64,
}

/// A custom vault role as stored.
#[derive(Debug, Clone)]
pub struct CustomRoleRecord {
    /// Id.
    pub id: strongroom_core::ids::VaultRoleId,
    /// Name, unique in the vault and never a built-in role's.
    pub name: strongroom_core::names::RoleName,
    /// One line for role pickers.
    pub description: String,
    /// The cells it holds.
    pub capabilities: strongroom_core::capability::Capabilities,
    /// How many members hold it.
    pub members: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last edit.
    pub updated_at: i64,
}

/// An application, project or environment: a named node of the tree.
#[derive(Debug, Clone)]
pub struct NodeRecord {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

/// A secret's current state (metadata only).
#[derive(Debug, Clone)]
pub struct SecretMeta {
    /// Id.
    pub id: SecretId,
    /// Name.
    pub name: SecretName,
    /// Type of the latest version.
    pub secret_type: SecretType,
    /// Note of the latest version.
    pub note: Note,
    /// Tags of the latest version.
    pub tags: Tags,
    /// Latest version number.
    pub version: i64,
    /// First version's time.
    pub created_at: i64,
    /// Latest version's time.
    pub updated_at: i64,
    /// Where it may be used through the broker, if anywhere.
    pub use_declaration: Option<strongroom_core::broker::UseDeclaration>,
}

/// One version in a secret's history (never the value).
#[derive(Debug, Clone)]
pub struct VersionMeta {
    /// Version number, from 1.
    pub version: i64,
    /// Type.
    pub secret_type: SecretType,
    /// Note.
    pub note: Note,
    /// Tags.
    pub tags: Tags,
    /// When it was written.
    pub created_at: i64,
    /// Who wrote it (username), if the account still exists.
    pub created_by: Option<String>,
    /// Set when this version was made by rolling back to that version.
    pub rolled_back_from: Option<i64>,
    /// When it was deleted, or is to be (restorable until destroyed).
    pub deletion_at: Option<i64>,
    /// When its value was destroyed.
    pub destroyed_at: Option<i64>,
}

/// A value the caller was authorized to reveal.
#[derive(Debug, Clone)]
pub struct RevealedSecret {
    /// Name.
    pub name: SecretName,
    /// Version revealed.
    pub version: i64,
    /// Type.
    pub secret_type: SecretType,
    /// The plaintext.
    pub value: SecretValue,
    /// When the version was written.
    pub created_at: i64,
    /// When it is to be deleted (`delete_version_after`), if it is.
    pub deletion_at: Option<i64>,
    /// The secret's custom metadata (KV v2), if any was set.
    pub custom_metadata: Option<strongroom_core::kv::CustomMetadata>,
}

/// A new version to write. `None` metadata keeps the previous version's.
#[derive(Debug, Clone)]
pub struct SecretInput {
    /// The value.
    pub value: SecretValue,
    /// Type (default: previous, or generic).
    pub secret_type: Option<SecretType>,
    /// Note (default: previous, or empty).
    pub note: Option<Note>,
    /// Tags (default: previous, or none).
    pub tags: Option<Tags>,
    /// Check-and-set: the write lands only if this is the latest version (0: only if
    /// the secret does not exist yet).
    pub expected_version: Option<i64>,
}

/// The result of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The secret's type after the write.
    pub secret_type: SecretType,
    /// The version just written.
    pub version: i64,
    /// Whether this write created the secret.
    pub created: bool,
    /// When the version was written.
    pub created_at: i64,
    /// When it will delete itself (`delete_version_after`), if it will.
    pub deletion_at: Option<i64>,
    /// The secret's custom metadata (KV v2), if any was set.
    pub custom_metadata: Option<strongroom_core::kv::CustomMetadata>,
}

/// What an import did with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new secret.
    Created,
    /// A new version of an existing secret.
    Updated,
    /// Same value as the latest version: nothing written.
    Unchanged,
}

/// A secret in the trash.
#[derive(Debug, Clone)]
pub struct TrashedSecret {
    /// Id.
    pub id: SecretId,
    /// Its path `app/project/env/NAME`.
    pub path: String,
    /// Latest version.
    pub version: i64,
    /// When it was deleted.
    pub deleted_at: i64,
    /// Who deleted it (username), if the account still exists.
    pub deleted_by: Option<String>,
    /// Their account id: the trash cells tell one's own deletions from others'.
    pub deleted_by_id: Option<String>,
}

/// A machine's attachment to a project.
#[derive(Debug, Clone)]
pub struct MachineAttachmentRecord {
    /// The project, environments and verbs.
    pub attachment: strongroom_core::runtime::Attachment,
    /// Who attached it (username as it was then).
    pub by: String,
    /// When.
    pub created_at: i64,
}

/// One secret granted to a machine.
#[derive(Debug, Clone)]
pub struct MachineGrantRecord {
    /// The secret and verbs.
    pub grant: strongroom_core::runtime::SecretGrant,
    /// Who granted it (username as it was then).
    pub by: String,
    /// When.
    pub created_at: i64,
}

/// Everything a machine may read.
#[derive(Debug, Clone, Default)]
pub struct MachineAccessRecord {
    /// Its attachments, by project.
    pub attachments: Vec<MachineAttachmentRecord>,
    /// Its grants, by path.
    pub grants: Vec<MachineGrantRecord>,
}

/// An agent or CI token (never its secret).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Id.
    pub id: strongroom_core::ids::TokenId,
    /// Name, unique among the vault's live tokens.
    pub name: String,
    /// Agent or CI.
    pub kind: strongroom_core::authz::TokenKind,
    /// `app/project` or `app/project/env`, each.
    pub scopes: Vec<String>,
    /// What it may do there (`read` always).
    pub verbs: strongroom_core::access::Verbs,
    /// Ranges it may be used from (empty: anywhere).
    pub cidrs: Vec<strongroom_core::network::CidrRange>,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// Who created it (username as it was then).
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// An access policy on a machine or token.
#[derive(Debug, Clone)]
pub struct PolicyRecord {
    /// Id.
    pub id: strongroom_core::ids::PolicyId,
    /// Name, unique in the vault.
    pub name: String,
    /// `machine` or `token`.
    pub subject_kind: String,
    /// The machine's or token's name.
    pub subject: String,
    /// The project it binds (`None`: everything).
    pub project: Option<strongroom_core::names::ProjectPath>,
    /// Its conditions.
    pub spec: strongroom_core::policy::PolicySpec,
    /// Who wrote it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// One range on a vault's IP allowlist.
#[derive(Debug, Clone)]
pub struct AllowlistEntry {
    /// The range.
    pub cidr: strongroom_core::network::CidrRange,
    /// Why it is there.
    pub note: String,
    /// Who added it.
    pub added_by: String,
    /// When.
    pub created_at: i64,
}
