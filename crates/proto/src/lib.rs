//! Strongroom's HTTP wire types: what the API accepts and returns, shared by the server,
//! the client, the CLI and the tests, and described in the OpenAPI document. Times are
//! RFC 3339 strings in UTC. Anything secret travels as [`Sensitive`], which is
//! redacted in debug output and zeroized on drop.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod sensitive;

pub use sensitive::Sensitive;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Every error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable code (see the error code table in the docs) and a human message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `not_found` or `invalid_name`.
    pub code: String,
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// Server version.
    pub version: String,
}

/// Create an account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignupRequest {
    /// 2–32 characters: letters, digits, `.`, `-`, `_` (stored lowercase).
    pub username: String,
    /// Email address.
    pub email: String,
    /// At least 10 characters.
    #[schema(value_type = String)]
    pub password: Sensitive,
}

/// Sign in. Give `totp_code` (or a `recovery_code`) when the account has TOTP.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    #[schema(value_type = String)]
    pub password: Sensitive,
    /// Current 6-digit TOTP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_code: Option<String>,
    /// A one-time recovery code, instead of a TOTP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub recovery_code: Option<Sensitive>,
}

/// A new session. The token is shown only here, once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    #[schema(value_type = String)]
    pub token: Sensitive,
    /// The session.
    pub session: SessionInfo,
    /// The account.
    pub user: UserInfo,
}

/// An account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserInfo {
    /// `usr_…`.
    pub id: String,
    /// Username.
    pub username: String,
    /// Email address.
    pub email: String,
    /// The personal vault, `vault_…`.
    pub personal_vault_id: String,
    /// Whether TOTP is on.
    pub totp_enabled: bool,
    /// Whether the email address is verified (needed to accept email invites).
    pub email_verified: bool,
    /// Sign-up time.
    pub created_at: String,
}

/// A session (never its token).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// `sess_…`.
    pub id: String,
    /// The vault the session acts in.
    pub vault_id: String,
    /// Sign-in time.
    pub created_at: String,
    /// When it stops working.
    pub expires_at: String,
    /// Last request (to the minute).
    pub last_seen_at: String,
    /// Last step-up re-authentication.
    pub stepped_up_at: Option<String>,
    /// Address it signed in from.
    pub ip: String,
    /// User agent it signed in with.
    pub user_agent: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// A vault the user belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VaultInfo {
    /// `vault_…`.
    pub id: String,
    /// `personal` or `organization`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// The user's role there.
    pub role: String,
    /// `active`, `suspended` (by someone who manages members) or `deleted` (the
    /// organization was soft-deleted by its owner).
    pub status: String,
    /// The plan (`free`, `team`, `enterprise`).
    pub plan: String,
    /// When the organization was soft-deleted, if it was.
    pub deleted_at: Option<String>,
    /// Whether this request's session acts in it.
    pub current: bool,
    /// Creation time.
    pub created_at: String,
}

/// `GET /api/v1/auth/whoami`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The account.
    pub user: UserInfo,
    /// The vault this session acts in.
    pub vault: VaultInfo,
    /// This session.
    pub session: SessionInfo,
}

/// Re-authenticate for a sensitive action.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepUpRequest {
    /// Password.
    #[schema(value_type = String)]
    pub password: Sensitive,
    /// TOTP code, required when TOTP is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_code: Option<String>,
}

/// How long the step-up lasts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepUpResponse {
    /// Sensitive actions are allowed until this time.
    pub valid_until: String,
}

/// Change the password (needs a recent step-up). Other sessions are ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    /// The new password.
    #[schema(value_type = String)]
    pub new_password: Sensitive,
}

/// A TOTP enrolment to confirm with a first code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrollment {
    /// `otpauth://` URL for an authenticator app (as a QR code).
    #[schema(value_type = String)]
    pub otpauth_url: Sensitive,
    /// The same secret in base32, to type in by hand.
    #[schema(value_type = String)]
    pub secret_base32: Sensitive,
}

/// A TOTP code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpCodeRequest {
    /// 6 digits.
    pub code: String,
}

/// One-time recovery codes, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each works once, in place of a TOTP code.
    #[schema(value_type = Vec<String>)]
    pub codes: Vec<Sensitive>,
}

/// Create something by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateRequest {
    /// Lowercase letters, digits, `.`, `-`, `_`; at most 64 characters.
    pub name: String,
}

/// An application, project or environment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Node {
    /// `app_…`, `prj_…` or `env_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Path from the vault root (`app`, `app/project`, `app/project/env`).
    pub path: String,
    /// Creation time.
    pub created_at: String,
}

/// A new project and its environments.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectCreated {
    /// The project.
    pub project: Node,
    /// Its environments (development, staging, production).
    pub environments: Vec<Node>,
}

/// Write a new version of a secret. Omitted metadata is kept from the previous version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretWriteRequest {
    /// The value (at most 64 KiB).
    #[schema(value_type = String)]
    pub value: Sensitive,
    /// generic, password, api_key, certificate, ssh_key or connection_string.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    /// Free text, at most 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Tags (letters, digits, `-_.:=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Check-and-set: write only if this is the latest version (0: only if the secret
    /// does not exist yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i64>,
}

/// The result of a write.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretWritten {
    /// `app/project/env/NAME`.
    pub path: String,
    /// The version just written.
    pub version: i64,
    /// Whether the secret was created by this write.
    pub created: bool,
}

/// A secret's metadata (never its value).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretMetadata {
    /// `sec_…`.
    pub id: String,
    /// `app/project/env/NAME`.
    pub path: String,
    /// Name.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub secret_type: String,
    /// Note.
    pub note: String,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Latest version.
    pub version: i64,
    /// First write.
    pub created_at: String,
    /// Latest write.
    pub updated_at: String,
    /// Where it may be used through the broker (`https://host[:port]`), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_destination: Option<String>,
    /// The header its value travels in there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_header: Option<String>,
}

/// `PUT …/secrets/{name}/use`: where a secret may be used, and how its value travels.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetUseRequest {
    /// `api.example.com`, `https://api.example.com:8443` (or `http://…` where the operator
    /// allows private destinations).
    pub destination: String,
    /// The header the value goes in (default `Authorization`).
    #[serde(default = "default_use_header")]
    pub header: String,
    /// The header's value, with `{value}` where the secret goes (default `Bearer {value}`).
    #[serde(default = "default_use_format")]
    pub format: String,
}

fn default_use_header() -> String {
    "Authorization".into()
}

fn default_use_format() -> String {
    "Bearer {value}".into()
}

/// `POST /api/v1/use`: a call to a secret's declared destination, made by the server with
/// the value injected. The caller never receives the value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UseRequest {
    /// `app/project/env/NAME`; without it, the one secret the caller may use whose
    /// declared destination is `host`.
    #[serde(default)]
    pub secret: Option<String>,
    /// The host the caller meant (checked against the declared one; needed without
    /// `secret`).
    #[serde(default)]
    pub host: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Headers to send (the secret's own header, and connection headers, cannot be set).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// A text body.
    #[serde(default)]
    pub body: Option<String>,
    /// A binary body, base64.
    #[serde(default)]
    pub body_base64: Option<String>,
}

/// The destination's answer, with the value scrubbed from it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UseResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (connection headers left out).
    pub headers: Vec<(String, String)>,
    /// The body, when it is text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body, base64, when it is not text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

/// One version of a secret (metadata only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretVersionInfo {
    /// Version number, from 1.
    pub version: i64,
    /// Type.
    #[serde(rename = "type")]
    pub secret_type: String,
    /// Note.
    pub note: String,
    /// Tags.
    pub tags: Vec<String>,
    /// When written.
    pub created_at: String,
    /// Who wrote it.
    pub created_by: Option<String>,
    /// Set when this version was a rollback to that version.
    pub rolled_back_from: Option<i64>,
    /// When it was deleted (restorable), or is scheduled to be; absent if neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// When its value was destroyed; absent if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroyed_at: Option<String>,
}

/// Versions to delete, undelete or destroy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionsRequest {
    /// Version numbers.
    pub versions: Vec<i64>,
}

/// What a version change did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionsChanged {
    /// `app/project/env/NAME`.
    pub path: String,
    /// The versions that changed (others were already in that state, or do not exist).
    pub changed: Vec<i64>,
}

/// A revealed value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretValueResponse {
    /// `app/project/env/NAME`.
    pub path: String,
    /// Version revealed.
    pub version: i64,
    /// Type.
    #[serde(rename = "type")]
    pub secret_type: String,
    /// The plaintext.
    #[schema(value_type = String)]
    pub value: Sensitive,
}

/// Roll back to a version (creates a new version equal to it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RollbackRequest {
    /// The version to copy.
    pub to: i64,
}

/// One value of an environment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentValue {
    /// Name.
    pub name: String,
    /// Latest version.
    pub version: i64,
    /// The plaintext.
    #[schema(value_type = String)]
    pub value: Sensitive,
}

/// Every live value of an environment (for `run` and `export`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentValues {
    /// `app/project/env`.
    pub environment: String,
    /// The values, by name.
    pub secrets: Vec<EnvironmentValue>,
}

/// Set many secrets at once: one new version per key whose value changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportRequest {
    /// Name → value.
    #[schema(value_type = BTreeMap<String, String>)]
    pub secrets: BTreeMap<String, Sensitive>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
pub struct ImportResult {
    /// New secrets.
    pub created: Vec<String>,
    /// Secrets that got a new version.
    pub updated: Vec<String>,
    /// Secrets whose value was already the same.
    pub unchanged: Vec<String>,
}

/// A secret in the trash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrashedSecretInfo {
    /// `sec_…`.
    pub id: String,
    /// `app/project/env/NAME`.
    pub path: String,
    /// Latest version.
    pub version: i64,
    /// When deleted.
    pub deleted_at: String,
    /// Who deleted it.
    pub deleted_by: Option<String>,
}

/// A page of a list. Pass `next_cursor` back as `?cursor=` for the next page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct List<T> {
    /// The items.
    pub items: Vec<T>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/organizations`, `POST /api/v1/vault/convert`: a new organization's name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizationNameRequest {
    /// Lowercase letters, digits, `.`, `-`, `_`; unique among your organizations.
    pub name: String,
}

/// `PUT /api/v1/session/vault`: the vault to act in, by id or name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SwitchVaultRequest {
    /// `vault_…` or a vault's name.
    pub vault: String,
}

/// `POST /api/v1/vault/transfer`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// The member who becomes owner (you become an admin).
    pub username: String,
}

/// A member of the vault.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberInfo {
    /// `usr_…`.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Vault role.
    pub vault_role: String,
    /// Access role, if any.
    pub access_role: Option<String>,
    /// `active` or `suspended`.
    pub status: String,
    /// When they joined.
    pub joined_at: String,
}

/// `GET /api/v1/members`: the roster with the plan's usage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Roster {
    /// The plan.
    pub plan: String,
    /// Members plus pending invites.
    pub used: u64,
    /// The plan's cap; absent when unlimited.
    pub cap: Option<u64>,
    /// Where the plan is changed.
    pub billing_path: String,
    /// Members, by username.
    pub items: Vec<MemberInfo>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `PUT /api/v1/members/{username}/role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetRoleRequest {
    /// `admin`, `developer`, `collaborator` or a custom role's name (below your own role).
    pub vault_role: String,
}

/// `POST /api/v1/invites`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteRequest {
    /// The invitee's email address (they need an account with it, verified).
    pub email: String,
    /// The vault role offered, built-in or custom (default `collaborator`; below your own).
    pub vault_role: Option<String>,
    /// The access role the invitee starts with (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_role: Option<String>,
}

/// The answer to an invite: byte for byte the same whatever the address turns out to be
/// (so it does not even repeat the address).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteSent {
    /// The vault role offered.
    pub vault_role: String,
    /// The access role offered, if any.
    pub access_role: Option<String>,
    /// Days until the invite expires.
    pub expires_in_days: u32,
    /// What happens next.
    pub message: String,
}

/// A pending invite, as the inviting organization sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteInfo {
    /// `inv_…`.
    pub id: String,
    /// The invited address.
    pub email: String,
    /// The offered vault role.
    pub vault_role: String,
    /// The offered access role, if any.
    pub access_role: Option<String>,
    /// Who sent it.
    pub invited_by: String,
    /// When it was sent.
    pub created_at: String,
    /// When it expires.
    pub expires_at: String,
}

/// An invite waiting for the signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceivedInviteInfo {
    /// `inv_…`.
    pub id: String,
    /// The organization, `vault_…`.
    pub vault_id: String,
    /// The organization's name.
    pub organization: String,
    /// The offered vault role.
    pub vault_role: String,
    /// What that role may do.
    pub role_summary: String,
    /// Who invited you.
    pub invited_by: String,
    /// When it was sent.
    pub created_at: String,
    /// When it expires.
    pub expires_at: String,
}

/// `POST /api/v1/links`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateLinkRequest {
    /// Lifetime in hours (default 168, at most 720).
    pub expires_in_hours: Option<u32>,
    /// Most joins allowed (default unlimited).
    pub max_uses: Option<u32>,
}

/// An invite link (never its token).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteLinkInfo {
    /// `link_…`.
    pub id: String,
    /// The role joiners get.
    pub vault_role: String,
    /// Who created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: String,
    /// Expiry.
    pub expires_at: String,
    /// Most joins allowed; absent when unlimited.
    pub max_uses: Option<i64>,
    /// Joins so far.
    pub uses: i64,
    /// `active`, `revoked`, `expired` or `used_up`.
    pub state: String,
}

/// A new invite link: the token is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteLinkCreated {
    /// The link.
    pub link: InviteLinkInfo,
    /// `srl_…`: give it to the people who should join (`strongroom join srl_…`).
    #[schema(value_type = String)]
    pub token: Sensitive,
}

/// `POST /api/v1/links/join`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JoinRequest {
    /// The link's token (`srl_…`), alone or at the end of a URL.
    #[schema(value_type = String)]
    pub link: Sensitive,
}

/// An access role: which applications and projects its holders open, and what they may
/// do there (the role file is documented in the README).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessRoleInfo {
    /// `arole_…`.
    pub id: String,
    /// Name, unique in the vault.
    pub name: String,
    /// The role file.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Grows with every edit.
    pub version: i64,
    /// How many members hold it.
    pub members: i64,
    /// Creation time.
    pub created_at: String,
    /// Last edit.
    pub updated_at: String,
}

/// `POST /api/v1/access-roles`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateAccessRoleRequest {
    /// Name (lowercase letters, digits, `.`, `-`, `_`).
    pub name: String,
    /// The role file.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

/// One capability gained or lost by a role's holders, and where.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EffectChange {
    /// `gain` or `lose`.
    pub direction: String,
    /// A verb (`reveal`) or a matrix cell (`members.invite`).
    pub what: String,
    /// `app/project/env` paths; empty for a vault-wide cell.
    pub places: Vec<String>,
}

/// What saving a role file would change, before it is saved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EffectPreview {
    /// The members who hold the role now.
    pub holders: Vec<String>,
    /// Each change.
    pub changes: Vec<EffectChange>,
    /// The changes as sentences: "3 members (…) gain reveal on payments/api/production".
    pub summary: Vec<String>,
}

/// `PUT /api/v1/access-roles/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EditAccessRoleRequest {
    /// The new role file (replaces the old one).
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

/// `PUT /api/v1/members/{username}/access-role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetAccessRoleRequest {
    /// The access role to hold, or null for none.
    pub access_role: Option<String>,
}

/// `GET /api/v1/check`: how a decision comes out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// Whether it would be allowed.
    pub allowed: bool,
    /// One line: the decision, the reason and what would change it.
    pub reason: String,
}

/// A vault role and its row of the management matrix.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleInfo {
    /// `owner`, `admin`, `developer`, `collaborator` (or a custom role's name).
    pub name: String,
    /// `built_in` or `custom`.
    pub kind: String,
    /// Whether it can be given to a member (the owner role moves only by transfer).
    pub assignable: bool,
    /// One line on what it may do.
    pub summary: String,
    /// The matrix cells it holds, such as `members.view`.
    pub capabilities: Vec<String>,
    /// How many members hold it (custom roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<i64>,
}

/// A registered machine (its private key never leaves the machine).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MachineInfo {
    /// `mach_…`.
    pub id: String,
    /// Name, unique in the vault.
    pub name: String,
    /// Its public key, as an OpenSSH line.
    pub public_key: String,
    /// The key's OpenSSH SHA-256 fingerprint (`SHA256:…`).
    pub fingerprint: String,
    /// `active`, `disabled` or `expired`.
    pub status: String,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<String>,
    /// Who registered it.
    pub registered_by: String,
    /// Registration time.
    pub created_at: String,
}

/// A machine with what it may read (`GET /machines/{machine}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MachineDetail {
    /// The machine.
    #[serde(flatten)]
    pub machine: MachineInfo,
    /// The projects it is attached to.
    pub attachments: Vec<MachineAttachment>,
    /// The single secrets granted to it.
    pub grants: Vec<MachineGrant>,
}

/// A machine's attachment to a project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MachineAttachment {
    /// `app/project`.
    pub project: String,
    /// The environments it opens; empty means every environment.
    pub environments: Vec<String>,
    /// What the machine may do there: `read`, and `reveal` and `use` if given.
    pub verbs: Vec<String>,
    /// Who attached it.
    pub attached_by: String,
    /// When.
    pub created_at: String,
}

/// One secret granted to a machine.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MachineGrant {
    /// `app/project/env/NAME`.
    pub path: String,
    /// What the machine may do with it.
    pub verbs: Vec<String>,
    /// Who granted it.
    pub granted_by: String,
    /// When.
    pub created_at: String,
}

/// `POST /api/v1/machines/{machine}/attachments`: attaches (or re-attaches) a machine to a
/// project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachMachineRequest {
    /// `app/project`.
    pub project: String,
    /// Environments to open (default: every environment).
    #[serde(default)]
    pub environments: Vec<String>,
    /// Any of `read`, `reveal`, `use` (default `read`); `read` is always included.
    #[serde(default)]
    pub verbs: Vec<String>,
}

/// `POST /api/v1/machines/{machine}/grants`: grants a machine one secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GrantMachineRequest {
    /// `app/project/env/NAME`.
    pub path: String,
    /// Any of `read`, `reveal`, `use` (default `read`); `read` is always included.
    #[serde(default)]
    pub verbs: Vec<String>,
}

/// `GET /api/v1/machine`: a machine's view of itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MachineSelf {
    /// `mach_…`.
    pub id: String,
    /// Its name in the vault.
    pub name: String,
    /// The vault it is registered in.
    pub vault: String,
    /// The projects it is attached to.
    pub attachments: Vec<MachineAttachment>,
    /// The single secrets granted to it.
    pub grants: Vec<MachineGrant>,
}

/// `POST /api/v1/tokens`: an agent or CI token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    /// Name (lowercase letters, digits, `.`, `-`, `_`), unique among live tokens.
    pub name: String,
    /// `agent` (read and use, never reveal) or `ci` (may reveal).
    pub kind: String,
    /// What it opens: `app/project` or `app/project/env`, one or more.
    pub scopes: Vec<String>,
    /// Any of `read`, `use`, and for `ci` tokens `reveal`; `read` is always included.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Refuse the token after this many hours (default: never).
    #[serde(default)]
    pub expires_in_hours: Option<u32>,
    /// CIDR ranges it may be used from (default: anywhere).
    #[serde(default)]
    pub cidrs: Vec<String>,
}

/// An agent or CI token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    /// `tok_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `agent` or `ci`.
    pub kind: String,
    /// `app/project` or `app/project/env`, each.
    pub scopes: Vec<String>,
    /// What it may do there.
    pub verbs: Vec<String>,
    /// Ranges it may be used from (empty: anywhere).
    pub cidrs: Vec<String>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// A new token and its secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The token.
    #[serde(flatten)]
    pub token: TokenInfo,
    /// `sr_…`: use it as `Authorization: Bearer` (or `STRONGROOM_TOKEN`). Only its hash is
    /// kept, so it cannot be shown again.
    #[schema(value_type = String)]
    pub secret: Sensitive,
}

/// `POST /api/v1/policies`: conditions on one machine's or token's access.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatePolicyRequest {
    /// Name (lowercase letters, digits, `.`, `-`, `_`), unique in the vault.
    pub name: String,
    /// The machine it binds (give this or `token`).
    #[serde(default)]
    pub machine: Option<String>,
    /// The live token it binds (give this or `machine`).
    #[serde(default)]
    pub token: Option<String>,
    /// `app/project` it binds; without one it binds everything (owners and admins only).
    #[serde(default)]
    pub project: Option<String>,
    /// The conditions: `{"cidrs", "environments", "expires_at", "window": {"days", "from",
    /// "to", "time_zone"}, "reads_per_minute", "reads_per_day", "max_reads"}`.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

/// An access policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyInfo {
    /// `pol_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `machine` or `token`.
    pub subject_kind: String,
    /// The machine's or token's name.
    pub subject: String,
    /// The project it binds (`null`: everything).
    pub project: Option<String>,
    /// Its conditions.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Who wrote it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// One range on a vault's IP allowlist.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllowlistRange {
    /// CIDR, e.g. `203.0.113.0/24`.
    pub cidr: String,
    /// Why it is there.
    pub note: String,
    /// Who added it.
    pub added_by: String,
    /// When.
    pub created_at: String,
}

/// `POST /api/v1/ip-allowlist`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllowRangeRequest {
    /// CIDR, or one address.
    pub cidr: String,
    /// Why it is there (optional).
    #[serde(default)]
    pub note: String,
}

/// `POST /api/v1/machines`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterMachineRequest {
    /// Name (lowercase letters, digits, `.`, `-`, `_`).
    pub name: String,
    /// The public key: an OpenSSH `ssh-ed25519 AAAA…` line.
    pub public_key: String,
    /// Refuse the machine after this many hours (default: never).
    pub expires_in_hours: Option<u32>,
}

/// `POST /api/v1/machines/{machine}/approle`: a secret id for AppRole logins.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct IssueApproleRequest {
    /// Refuse the secret id after this many hours (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_hours: Option<u32>,
    /// How long each login's token lives, in minutes (1–1440; default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ttl_minutes: Option<u32>,
}

/// A secret id just issued: the secret is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApproleIssued {
    /// The machine.
    pub machine: String,
    /// The machine's role id (the same for every secret id).
    pub role_id: String,
    /// `srr_…`: log in with `POST /v1/auth/approle/login {"role_id", "secret_id"}`.
    #[schema(value_type = String)]
    pub secret_id: Sensitive,
    /// The secret id's own id, to list and revoke it by.
    pub secret_id_accessor: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// How long each login's token lives, in seconds.
    pub token_ttl_seconds: i64,
}

/// A secret id as listed (never the secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApproleSecretInfo {
    /// Its id.
    pub id: String,
    /// Who issued it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// How long each login's token lives, in seconds.
    pub token_ttl_seconds: i64,
}

/// A machine's AppRole: its role id (none until the first secret id) and secret ids.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApproleSecrets {
    /// The role id.
    pub role_id: Option<String>,
    /// Secret ids, newest first.
    pub secret_ids: Vec<ApproleSecretInfo>,
}

/// `POST /api/v1/roles`: a custom vault role (enterprise plan).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateRoleRequest {
    /// Name (lowercase letters, digits, `.`, `-`, `_`; not a built-in role's).
    pub name: String,
    /// The role file: `{"description": "…", "capabilities": ["overview", …]}`.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

/// `PUT /api/v1/roles/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EditRoleRequest {
    /// The new role file (replaces the old one).
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

/// `POST /api/v1/auth/email/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyEmailRequest {
    /// The six-digit code that was sent to you.
    #[schema(value_type = String)]
    pub code: Sensitive,
}

/// `PUT /api/v1/auth/email`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangeEmailRequest {
    /// The new address (unverified until its code is entered).
    pub email: String,
}

/// One audit log entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryInfo {
    /// Its number in the vault's chain, from 1.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// `member`, `machine`, `agent`, `token`, `system` or `external`.
    pub actor_kind: String,
    /// The actor's id.
    pub actor_id: String,
    /// The actor's username, machine name or token name when they acted.
    pub actor_name: String,
    /// What was done (`secret.reveal`, `member.suspend`, …).
    pub action: String,
    /// To what: a secret path, a member, a machine, …
    pub target: String,
    /// `allowed`, `denied` or `error`.
    pub outcome: String,
    /// `info`, `notice`, `warning` or `critical`.
    pub severity: String,
    /// The client's address.
    pub ip: String,
    /// The client's user agent.
    pub user_agent: String,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// A refusal's reason, a brokered call, … (may be empty).
    pub detail: String,
}

/// `GET /api/v1/audit/verify`: what a walk of the vault's audit chain found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    /// Whether every entry holds.
    pub intact: bool,
    /// Entries that held, from the first.
    pub verified: i64,
    /// The last entry number the chain's head records.
    pub head_seq: i64,
    /// The first entry that does not hold.
    pub broken: Option<AuditChainBreak>,
}

/// Where an audit chain breaks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditChainBreak {
    /// The entry number.
    pub seq: i64,
    /// `changed`, `removed`, `inserted` or `reordered`.
    pub kind: String,
    /// What was found.
    pub message: String,
}

/// `POST /api/v1/alerts`: a rule that sends chosen audit entries to a webhook or an
/// address. Every condition given must hold for an entry to match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateAlertRequest {
    /// Lowercase letters, digits, `.`, `-`, `_`; unique in the vault.
    pub name: String,
    /// An https:// URL to POST each match to (signed). Give this or `email`.
    #[serde(default)]
    pub webhook: Option<String>,
    /// An address to mail each match to. Give this or `webhook`.
    #[serde(default)]
    pub email: Option<String>,
    /// Actions (`secret.reveal`) or families (`secret.*`); none matches any action.
    #[serde(default)]
    pub actions: Vec<String>,
    /// This severity or higher: `info`, `notice`, `warning`, `critical`.
    #[serde(default)]
    pub severity: Option<String>,
    /// `allowed`, `denied` or `error`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Targets starting with this path prefix.
    #[serde(default)]
    pub target: Option<String>,
    /// `member`, `machine`, `agent`, `token`, `system` or `external`.
    #[serde(default)]
    pub actor_kind: Option<String>,
}

/// An alert rule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertInfo {
    /// `alert_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The URL (shown without its query) or the address.
    pub destination: String,
    /// Actions or families it matches (empty: any).
    pub actions: Vec<String>,
    /// Lowest severity it matches.
    pub severity: Option<String>,
    /// Outcome it matches.
    pub outcome: Option<String>,
    /// Target prefix it matches.
    pub target: Option<String>,
    /// Kind of actor it matches.
    pub actor_kind: Option<String>,
    /// Who wrote it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// A new rule; a webhook's signing secret is shown here once and never again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertCreated {
    /// The rule.
    pub alert: AlertInfo,
    /// `whsec_…`: the key of the HMAC-SHA256 in `X-Strongroom-Signature` (webhooks only).
    #[schema(value_type = Option<String>)]
    pub signing_secret: Option<Sensitive>,
}

/// `POST /api/v1/alerts/{name}/test`: how a test delivery went.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertTestResult {
    /// Whether the receiver accepted it.
    pub delivered: bool,
    /// The delivery's id (`X-Strongroom-Delivery`).
    pub delivery_id: String,
    /// What happened, in words.
    pub detail: String,
}
