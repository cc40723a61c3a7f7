//! The command line, as a contract: command names and flags here are documented and
//! scripts depend on them. Add, never rename.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Strongroom: a self-hosted secrets manager.
///
/// Run `strongroom server` to start a server, then `strongroom signup` and
/// `strongroom login` to use it. Every command takes --json for scripts.
/// Exit codes: 0 success, 1 error, 2 usage, 3 not signed in or authentication failed,
/// 4 permission denied, 5 not found.
#[derive(Debug, Parser)]
#[command(name = "strongroom", version, max_term_width = 100)]
pub struct Cli {
    /// Print machine-readable JSON (documented in docs/cli.md) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Server URL for this command, overriding STRONGROOM_SERVER and the saved server.
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Strongroom server.
    Server(ServerArgs),
    /// Create an account (with its personal vault) and sign in.
    Signup(SignupArgs),
    /// Sign in and save the session for later commands.
    Login(LoginArgs),
    /// End the saved session.
    Logout,
    /// Show who is signed in, in which vault.
    Whoami,
    /// Re-authenticate, allowing sensitive actions for the next five minutes.
    StepUp(StepUpArgs),
    /// Change your password (needs a recent step-up; ends your other sessions).
    Passwd(PasswdArgs),
    /// List or revoke your sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Manage your TOTP second factor and recovery codes.
    #[command(subcommand)]
    Totp(TotpCommand),
    /// List the vaults you belong to and choose which one to act in.
    #[command(subcommand)]
    Vaults(VaultsCommand),
    /// Create, convert, transfer, leave, delete and restore organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// The member roster, email invites, suspension and removal.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Access roles: which applications and projects members open, and what they may do.
    #[command(subcommand)]
    AccessRoles(AccessRolesCommand),
    /// Explain a decision: may USERNAME do ACTION on RESOURCE, and why (one line).
    ///
    /// ACTION is a secret verb (read, write, use, reveal, delete, manage) with a secret
    /// path as RESOURCE, or a matrix cell such as members.invite (RESOURCE: vault).
    /// Exits 0 when allowed and 4 when denied.
    Check {
        /// The member.
        username: String,
        /// A secret verb or a matrix cell.
        action: String,
        /// APP/PROJECT/ENV/NAME, or `vault` for a matrix cell.
        resource: Option<String>,
    },
    /// Vault roles and the management matrix each one holds.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Machines: Ed25519 identities for workloads (keygen, register, attach, grant, list,
    /// disable, remove).
    #[command(subcommand)]
    Machines(MachinesCommand),
    /// Tokens for AI agents and CI jobs: create (shown once), list, revoke.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Access policies: conditions on a machine's or token's access (source ranges,
    /// environments, expiry, time windows, rate caps, a maximum of reads).
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// The vault's IP allowlist: once it holds a range, members', machines' and tokens'
    /// requests must come from one of its ranges.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
    /// The audit log: list and export entries, and check the hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Alert rules: send chosen audit entries to a webhook (signed) or by email.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Invites sent to you: list, accept, decline.
    #[command(subcommand)]
    Invites(InvitesCommand),
    /// Shareable invite links into the current organization.
    #[command(subcommand)]
    Links(LinksCommand),
    /// Join an organization with an invite link (its srl_… token or a URL ending in it).
    Join {
        /// The link.
        link: String,
    },
    /// Verify your email address with the code you were sent (or ask for a new one).
    VerifyEmail(VerifyEmailArgs),
    /// Change your email address (needs your password; the new one must be verified).
    ChangeEmail(ChangeEmailArgs),
    /// Create and list applications.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Create and list projects (APP/PROJECT).
    #[command(subcommand)]
    Projects(ProjectsCommand),
    /// Create and list environments (APP/PROJECT/ENV).
    #[command(subcommand)]
    Envs(EnvsCommand),
    /// Set, read, list, version, roll back, trash, restore and purge secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Run a command with an environment's secrets as environment variables.
    Run(RunArgs),
    /// Print an environment's secrets as dotenv or JSON.
    Export(ExportArgs),
    /// Set an environment's secrets from a dotenv or JSON file (one new version per changed key).
    Import(ImportArgs),
    /// Operator commands that work on the server's data directly.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the server's OpenAPI document.
    Openapi,
    /// Run a local HTTP proxy for an AI agent: its plain HTTP calls to a host a secret
    /// declares are made by the server with the secret injected, and the answers come
    /// back with the value scrubbed. Calls to any other host are refused.
    Broker(BrokerArgs),
}

/// Where the server keeps its data, shared by `server` and `admin`.
#[derive(Debug, Args, Clone)]
pub struct StorageArgs {
    /// Data directory (SQLite database and root key file).
    #[arg(long, env = "STRONGROOM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead of SQLite.
    #[arg(
        long,
        env = "STRONGROOM_DATABASE_URL",
        value_name = "postgres://…",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Root key file (default: DATA_DIR/root.key).
    #[arg(long, env = "STRONGROOM_ROOT_KEY_FILE", value_name = "FILE")]
    pub root_key_file: Option<PathBuf>,
    /// TOML configuration file (flags and environment variables override it).
    #[arg(long, env = "STRONGROOM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address to listen on (default 127.0.0.1:8420).
    #[arg(long, env = "STRONGROOM_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// TLS certificate chain (PEM); serves HTTPS.
    #[arg(
        long,
        env = "STRONGROOM_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(
        long,
        env = "STRONGROOM_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, env = "STRONGROOM_INSECURE_HTTP")]
    pub insecure_http: bool,
    /// Values a member may reveal per hour in one vault (default 1000; 0 lifts the limit;
    /// every reveal is recorded either way).
    #[arg(long, env = "STRONGROOM_REVEALS_PER_MEMBER_PER_HOUR", value_name = "N")]
    pub reveals_per_member_per_hour: Option<u32>,
    /// A proxy (CIDR range) whose X-Forwarded-For names the client; repeat for more.
    /// Without one, the socket's peer is the client.
    #[arg(
        long = "trusted-proxy",
        env = "STRONGROOM_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "RANGE"
    )]
    pub trusted_proxies: Vec<String>,
    /// Let the `use` broker call loopback, link-local and private addresses (closed
    /// networks and tests only).
    #[arg(long, env = "STRONGROOM_BROKER_ALLOW_PRIVATE")]
    pub broker_allow_private: bool,
    /// Mirror every audit entry, in order, as JSON lines to this file.
    #[arg(long, env = "STRONGROOM_AUDIT_FILE", value_name = "FILE")]
    pub audit_file: Option<PathBuf>,
    /// Mirror every audit entry, in order, as JSON lines POSTed to this URL (a SIEM).
    #[arg(long, env = "STRONGROOM_AUDIT_URL", value_name = "URL")]
    pub audit_url: Option<String>,
    /// Let alert webhooks reach loopback, link-local and private addresses (closed
    /// networks and tests only).
    #[arg(long, env = "STRONGROOM_ALERTS_ALLOW_PRIVATE")]
    pub alerts_allow_private: bool,
}

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Where to listen (keep it on loopback: anything that reaches it uses the secrets).
    #[arg(long, default_value = "127.0.0.1:8421", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// A secret (APP/PROJECT/ENV/NAME) whose declared host the proxy serves; repeat for
    /// more. Without any, every secret the token may use is served by its declared host
    /// (the server picks it; two secrets declaring one host must then be named).
    #[arg(long = "secret", value_name = "APP/PROJECT/ENV/NAME")]
    pub secrets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SignupArgs {
    /// Username (2–32 characters: letters, digits, '.', '-', '_').
    #[arg(long)]
    pub username: String,
    /// Email address.
    #[arg(long)]
    pub email: String,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username.
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Current TOTP code, if the account has TOTP.
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
    /// A one-time recovery code, instead of a TOTP code.
    #[arg(long, value_name = "CODE", conflicts_with = "totp")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Args)]
pub struct StepUpArgs {
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Current TOTP code, if the account has TOTP.
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List your live sessions.
    List,
    /// Revoke one session by id (sess_…).
    Revoke {
        /// Session id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TotpCommand {
    /// Start enrolment: prints a secret and an otpauth:// URL for your authenticator app.
    Enroll,
    /// Finish enrolment with a code from the app; prints one-time recovery codes.
    Confirm {
        /// The 6-digit code the app shows.
        code: String,
    },
    /// Turn TOTP off (needs a recent step-up).
    Disable,
    /// Replace your recovery codes (needs a recent step-up).
    RecoveryCodes,
}

#[derive(Debug, Subcommand)]
pub enum VaultsCommand {
    /// List your vaults and your role in each; `*` marks the one in use.
    List,
    /// Act in another vault from now on (by name or id); no new sign-in needed.
    Use {
        /// Vault name or id (vault_…).
        vault: String,
    },
}

/// Re-authentication for a sensitive action.
#[derive(Debug, Args)]
pub struct StepUpFlags {
    /// Read your password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Current TOTP code, if your account has TOTP.
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create a new, empty organization that you own.
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
    },
    /// Convert your personal vault (the one in use) into an organization; one-way.
    Convert {
        /// The organization's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        step_up: StepUpFlags,
    },
    /// Leave the organization in use (owners transfer ownership first).
    Leave,
    /// Make another member the owner; you become an admin.
    Transfer {
        /// The new owner's username.
        username: String,
        #[command(flatten)]
        step_up: StepUpFlags,
    },
    /// Delete the organization in use: everyone loses access at once; restorable for 30 days.
    Delete {
        #[command(flatten)]
        step_up: StepUpFlags,
    },
    /// Restore an organization you deleted less than 30 days ago.
    Restore {
        /// The organization's id (vault_…), as `vaults list` shows it.
        vault: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// List members with their role and status, and the plan's usage and cap.
    List,
    /// Invite an email address (they need an account with that address, verified).
    Invite {
        /// Email address.
        email: String,
        /// Vault role to offer (built-in or custom), below your own.
        #[arg(long, value_name = "ROLE", default_value = "collaborator")]
        vault_role: String,
        /// Access role the invitee starts with (default none).
        #[arg(long, value_name = "NAME")]
        access_role: Option<String>,
    },
    /// List pending invites.
    Invites,
    /// Revoke a pending invite.
    RevokeInvite {
        /// Invite id (inv_…).
        id: String,
    },
    /// Suspend a member: their access to this vault stops on their next request.
    Suspend {
        /// Username.
        username: String,
    },
    /// Give a suspended member their access back.
    Unsuspend {
        /// Username.
        username: String,
    },
    /// Remove a member from this vault.
    Remove {
        /// Username.
        username: String,
    },
    /// Change a member's vault role (to one below your own).
    SetRole {
        /// Username.
        username: String,
        /// New vault role: admin, developer, collaborator or a custom role (below your own).
        #[arg(long, value_name = "ROLE")]
        vault_role: Option<String>,
        /// Access role to hold.
        #[arg(long, value_name = "NAME", conflicts_with = "no_access_role")]
        access_role: Option<String>,
        /// Take the member's access role away.
        #[arg(long)]
        no_access_role: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessRolesCommand {
    /// List the vault's access roles.
    List,
    /// Print an access role's file.
    Show {
        /// Name.
        name: String,
    },
    /// Create an access role from a role file (JSON, or TOML for a .toml file).
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
        /// The role file.
        #[arg(long, value_name = "FILE")]
        from_file: std::path::PathBuf,
    },
    /// Replace an access role's file; holders see the change on their next request.
    Edit {
        /// Name.
        name: String,
        /// The role file.
        #[arg(long, value_name = "FILE")]
        from_file: std::path::PathBuf,
    },
    /// Delete an access role; its holders hold none from then on.
    Delete {
        /// Name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MachinesCommand {
    /// Make an Ed25519 keypair on this machine: the private key goes to FILE (mode 0600,
    /// OpenSSH format), the public key to FILE.pub and standard output.
    Keygen {
        /// Where to write the private key.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// A comment kept with the key (default: this host's name).
        #[arg(long)]
        comment: Option<String>,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Register a machine's public key under NAME (needs Machines). It opens nothing until
    /// it is attached to a project.
    Register {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
        /// The public key: a FILE.pub path, or the `ssh-ed25519 AAAA…` line itself.
        #[arg(long, value_name = "FILE_OR_KEY")]
        public_key: String,
        /// Refuse the machine after this long: 30d, 12h (default: never).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List the vault's machines.
    List,
    /// Show one machine.
    Show {
        /// Name.
        name: String,
    },
    /// Disable a machine: its next request is refused (undo with enable).
    Disable {
        /// Name.
        name: String,
    },
    /// Enable a disabled machine.
    Enable {
        /// Name.
        name: String,
    },
    /// Remove a machine: its key is refused from then on.
    Remove {
        /// Name.
        name: String,
    },
    /// Issue an AppRole secret id for a machine that cannot sign its requests (Vault
    /// clients, ESO, CI actions): it logs in with the role id and this secret id at
    /// `POST /v1/auth/approle/login` and acts as the machine with a short-lived token.
    /// The secret id is shown once.
    Approle {
        /// Machine name.
        name: String,
        /// Refuse the secret id after this long: 30d, 12h (default: never).
        #[arg(long)]
        expires: Option<String>,
        /// How long each login's token lives: 15m, 1h, up to 24h (default 1h).
        #[arg(long, value_name = "DURATION")]
        token_ttl: Option<String>,
    },
    /// List a machine's role id and AppRole secret ids (never the secrets).
    ApproleList {
        /// Machine name.
        name: String,
    },
    /// Revoke an AppRole secret id and every login token it gave out.
    ApproleRevoke {
        /// Machine name.
        name: String,
        /// The secret id's id (`ars_…`, from approle-list).
        id: String,
    },
    /// Attach a machine to a project for some environments (default: all) and verbs. Needs
    /// Machines, the project's machines switch, and each verb yourself. Attaching again
    /// replaces the earlier attachment.
    Attach {
        /// Machine name.
        name: String,
        /// APP/PROJECT.
        #[arg(long, value_name = "APP/PROJECT")]
        project: String,
        /// An environment to open (repeat for more; default: every environment).
        #[arg(long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// What the machine may do: read, reveal, use (comma-separated; read is always
        /// included).
        #[arg(long, value_delimiter = ',', default_value = "read,reveal")]
        verbs: Vec<String>,
    },
    /// Detach a machine from a project: it can no longer read there, from its next request.
    Detach {
        /// Machine name.
        name: String,
        /// APP/PROJECT.
        #[arg(long, value_name = "APP/PROJECT")]
        project: String,
    },
    /// Grant a machine one secret (needs 'manage' on it, and each verb yourself).
    Grant {
        /// Machine name.
        name: String,
        /// APP/PROJECT/ENV/NAME.
        path: String,
        /// What the machine may do: read, reveal, use (comma-separated; read is always
        /// included).
        #[arg(long, value_delimiter = ',', default_value = "read,reveal")]
        verbs: Vec<String>,
    },
    /// Take back a secret granted to a machine.
    Revoke {
        /// Machine name.
        name: String,
        /// APP/PROJECT/ENV/NAME.
        path: String,
    },
    /// As a machine (STRONGROOM_MACHINE_KEY and STRONGROOM_VAULT set): show which machine
    /// this key is and what it may read.
    Whoami,
}

/// Which audit entries to show. Times are RFC 3339 (2026-12-01T09:00:00Z) or a span
/// back from now (30m, 24h, 7d).
#[derive(Debug, Clone, clap::Args)]
pub struct AuditFilterArgs {
    /// Entries by this username, machine name or token name.
    #[arg(long)]
    pub actor: Option<String>,
    /// member, machine, agent, token, system or external.
    #[arg(long, value_name = "KIND")]
    pub actor_kind: Option<String>,
    /// An action (secret.reveal) or a family of actions (secret.*).
    #[arg(long)]
    pub action: Option<String>,
    /// Targets starting with this path prefix (payments/api/).
    #[arg(long, value_name = "PREFIX")]
    pub target: Option<String>,
    /// This severity or higher: info, notice, warning, critical.
    #[arg(long)]
    pub severity: Option<String>,
    /// allowed, denied or error.
    #[arg(long)]
    pub outcome: Option<String>,
    /// At or after this time.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Entries, newest first: your own with Audit log: view own, everyone's (machines and
    /// agents included) with view others.
    List {
        #[command(flatten)]
        filter: AuditFilterArgs,
        /// How many entries (at most 1000; export has no limit).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Every matching entry, oldest first, as JSON lines or CSV on standard output.
    Export {
        /// jsonl or csv.
        #[arg(long)]
        format: String,
        #[command(flatten)]
        filter: AuditFilterArgs,
    },
    /// Walk the vault's hash chain and name the first entry that was changed, removed,
    /// inserted or reordered (exit code 6 if one was).
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Write a rule: every audit entry meeting all the conditions given is sent to the
    /// webhook or the address. A webhook's signing secret is shown once.
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
        /// POST each match here (https://), signed with X-Strongroom-Signature.
        #[arg(long, conflicts_with = "email", required_unless_present = "email")]
        webhook: Option<String>,
        /// Mail each match to this address (the server needs SMTP).
        #[arg(long)]
        email: Option<String>,
        /// An action (secret.reveal) or a family (secret.*); repeat for more (none: any).
        #[arg(long = "action", value_name = "ACTION")]
        actions: Vec<String>,
        /// This severity or higher: info, notice, warning, critical.
        #[arg(long)]
        severity: Option<String>,
        /// allowed, denied or error.
        #[arg(long)]
        outcome: Option<String>,
        /// Targets starting with this path prefix.
        #[arg(long, value_name = "PREFIX")]
        target: Option<String>,
        /// member, machine, agent, token, system or external.
        #[arg(long, value_name = "KIND")]
        actor_kind: Option<String>,
    },
    /// List the rules.
    List,
    /// Delete a rule.
    Delete {
        /// As listed.
        name: String,
    },
    /// Send a test alert through a rule now and say whether it arrived.
    Test {
        /// As listed.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AllowlistCommand {
    /// Add a range (CIDR, or one address). Refused if your own address would be left out.
    Add {
        /// e.g. 203.0.113.0/24.
        cidr: String,
        /// Why it is there.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List the ranges.
    List,
    /// Remove a range. Refused if your own address would be left out.
    Remove {
        /// As listed.
        cidr: String,
    },
}

// Parsed once per run; boxing the flags would only obscure them.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Write a policy binding one machine or token, in one project (or, for owners and
    /// admins, everywhere). Conditions come from flags, or from a JSON file.
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
        /// The machine it binds.
        #[arg(long, conflicts_with = "token", required_unless_present = "token")]
        machine: Option<String>,
        /// The token it binds.
        #[arg(long)]
        token: Option<String>,
        /// APP/PROJECT it binds (default: everything it reaches; owners and admins only).
        #[arg(long, value_name = "APP/PROJECT")]
        project: Option<String>,
        /// Admit requests only from this CIDR range (repeat for more).
        #[arg(long = "cidr", value_name = "RANGE")]
        cidrs: Vec<String>,
        /// Admit only this environment (repeat for more).
        #[arg(long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// Refuse everything after this long (30d, 12h) or this RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
        /// Days the time window opens on: mon-fri, or a list such as mon,wed,fri.
        #[arg(long, requires = "hours")]
        days: Option<String>,
        /// The time window's hours, e.g. 09:00-17:00 (22:00-06:00 wraps past midnight).
        #[arg(long, requires = "time_zone")]
        hours: Option<String>,
        /// The time window's IANA time zone, e.g. Europe/Paris or UTC.
        #[arg(long)]
        time_zone: Option<String>,
        /// Most reads per minute.
        #[arg(long)]
        reads_per_minute: Option<u32>,
        /// Most reads per day (UTC).
        #[arg(long)]
        reads_per_day: Option<u32>,
        /// Most reads ever.
        #[arg(long)]
        max_reads: Option<u32>,
        /// Take the conditions from a JSON file instead (same fields as the API's spec).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["cidrs", "envs", "expires", "days", "hours", "reads_per_minute", "reads_per_day", "max_reads"])]
        from_file: Option<std::path::PathBuf>,
    },
    /// List the policies you may author.
    List,
    /// Show one policy.
    Show {
        /// Name.
        name: String,
    },
    /// Delete a policy: its machine or token is no longer bound by it.
    Delete {
        /// Name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token; its secret is printed once. An agent token reads names and uses
    /// values through the broker but never sees one (needs AI agents); a CI token may
    /// reveal, for run and export (needs Integrations). You must hold every verb on the
    /// whole scope.
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
        /// agent or ci.
        #[arg(long)]
        kind: String,
        /// APP/PROJECT or APP/PROJECT/ENV it opens (repeat for more).
        #[arg(long = "scope", value_name = "APP/PROJECT[/ENV]", required = true)]
        scopes: Vec<String>,
        /// What it may do: read, use, and for ci tokens reveal (comma-separated; read is
        /// always included). Default: read,use for agent tokens, read,reveal for ci.
        #[arg(long, value_delimiter = ',')]
        verbs: Vec<String>,
        /// Refuse it after this long: 30d, 12h (default: never).
        #[arg(long)]
        expires: Option<String>,
        /// A CIDR range it may be used from (repeat for more; default: anywhere).
        #[arg(long = "cidr", value_name = "RANGE")]
        cidrs: Vec<String>,
    },
    /// List the vault's live tokens (of the kinds you manage).
    List,
    /// Revoke a token: its next request is refused, on every server node.
    Revoke {
        /// Name or tok_… id.
        name_or_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List the vault's roles and what each holds.
    List,
    /// Print a role's row of the management matrix (built-in roles need no server).
    Show {
        /// owner, admin, developer, collaborator, or a custom role's name.
        role: String,
    },
    /// Create a custom vault role from a role file (enterprise plan; JSON, or TOML for a
    /// .toml file): {"description": "...", "capabilities": ["overview", ...]}.
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_'; not a built-in role's).
        name: String,
        /// The role file.
        #[arg(long, value_name = "FILE")]
        from_file: std::path::PathBuf,
    },
    /// Replace a custom role's cells; its holders hold the new ones on their next request.
    Edit {
        /// Name.
        name: String,
        /// The role file.
        #[arg(long, value_name = "FILE")]
        from_file: std::path::PathBuf,
    },
    /// Delete a custom role nobody holds.
    Delete {
        /// Name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InvitesCommand {
    /// Invites waiting for you, from any organization.
    List,
    /// Accept an invite and join the organization.
    Accept {
        /// Invite id (inv_…).
        id: String,
    },
    /// Decline an invite.
    Decline {
        /// Invite id (inv_…).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LinksCommand {
    /// Create a link; whoever signs in and uses it joins as collaborator.
    Create {
        /// Lifetime, in hours or days: 12h, 7d (at most 30d).
        #[arg(long, default_value = "7d")]
        expires: String,
        /// Most joins allowed (default unlimited).
        #[arg(long, value_name = "N")]
        max_uses: Option<u32>,
    },
    /// List links with their state.
    List,
    /// Revoke a link.
    Revoke {
        /// Link id (link_…).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct VerifyEmailArgs {
    /// The six-digit code from the email (or the server console when it has no SMTP).
    #[arg(required_unless_present = "resend")]
    pub code: Option<String>,
    /// Send a new code instead.
    #[arg(long, conflicts_with = "code")]
    pub resend: bool,
}

#[derive(Debug, Args)]
pub struct ChangeEmailArgs {
    /// The new address.
    pub email: String,
    #[command(flatten)]
    pub step_up: StepUpFlags,
}

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Create an application.
    Create {
        /// Name (lowercase letters, digits, '.', '-', '_').
        name: String,
    },
    /// List applications.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// Create a project, with environments development, staging and production.
    Create {
        /// APP/PROJECT
        path: String,
    },
    /// List an application's projects.
    List {
        /// APP
        app: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnvsCommand {
    /// Add an environment to a project.
    Create {
        /// APP/PROJECT/ENV
        path: String,
    },
    /// List a project's environments.
    List {
        /// APP/PROJECT
        project: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Write a new version of a secret (creating it if needed).
    Set(SetArgs),
    /// Print a secret's value, alone (latest version, or --version N).
    Get {
        /// APP/PROJECT/ENV/NAME
        path: String,
        /// Which version.
        #[arg(long, value_name = "N")]
        version: Option<i64>,
    },
    /// Show a secret's metadata (never its value).
    Show {
        /// APP/PROJECT/ENV/NAME
        path: String,
    },
    /// List an environment's secrets (names and metadata).
    List {
        /// APP/PROJECT/ENV
        env: String,
    },
    /// List a secret's versions.
    History {
        /// APP/PROJECT/ENV/NAME
        path: String,
    },
    /// Delete versions of a secret (restorable with undelete): reads of them are refused,
    /// the secret itself stays. Needs delete on it.
    DeleteVersion {
        /// APP/PROJECT/ENV/NAME
        path: String,
        /// A version to delete (repeat for several).
        #[arg(long = "version", value_name = "N", required = true)]
        versions: Vec<i64>,
    },
    /// Bring deleted versions back.
    Undelete {
        /// APP/PROJECT/ENV/NAME
        path: String,
        /// A version to undelete (repeat for several).
        #[arg(long = "version", value_name = "N", required = true)]
        versions: Vec<i64>,
    },
    /// Destroy versions' values for good (their metadata stays in the history). Needs
    /// purge on the secret. Cannot be undone.
    Destroy {
        /// APP/PROJECT/ENV/NAME
        path: String,
        /// A version to destroy (repeat for several).
        #[arg(long = "version", value_name = "N", required = true)]
        versions: Vec<i64>,
    },
    /// Declare where a secret may be used through the broker, and how its value travels
    /// (needs write and reveal on it: the destination decides where the value goes).
    SetUse {
        /// APP/PROJECT/ENV/NAME
        path: String,
        /// The host it may be sent to: api.example.com, or https://api.example.com:8443.
        #[arg(long)]
        destination: String,
        /// The header the value goes in.
        #[arg(long, default_value = "Authorization")]
        header: String,
        /// The header's value, with {value} where the secret goes.
        #[arg(long, default_value = "Bearer {value}")]
        format: String,
    },
    /// Clear where a secret may be used: the broker no longer sends it anywhere.
    ClearUse {
        /// APP/PROJECT/ENV/NAME
        path: String,
    },
    /// Make a new version equal to an old one.
    Rollback {
        /// APP/PROJECT/ENV/NAME
        path: String,
        /// The version to copy.
        #[arg(long, value_name = "N")]
        to: i64,
    },
    /// Move a secret to the trash.
    Delete {
        /// APP/PROJECT/ENV/NAME
        path: String,
    },
    /// Bring a secret back from the trash.
    Restore {
        /// APP/PROJECT/ENV/NAME
        path: String,
    },
    /// Destroy a trashed secret and all its versions. Cannot be undone.
    Purge {
        /// APP/PROJECT/ENV/NAME
        path: String,
    },
    /// List the vault's trash.
    Trash,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// APP/PROJECT/ENV/NAME
    pub path: String,
    /// Read the value from standard input (one trailing newline is dropped).
    #[arg(
        long,
        required_unless_present = "value_file",
        conflicts_with = "value_file"
    )]
    pub value_stdin: bool,
    /// Read the value from a file, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub value_file: Option<PathBuf>,
    /// generic, password, api_key, certificate, ssh_key or connection_string (default: unchanged).
    #[arg(long = "type", value_name = "TYPE")]
    pub secret_type: Option<String>,
    /// A note (default: unchanged).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// A tag; repeat for several (replaces the tags).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Check-and-set: write only if N is the latest version (0: only if the secret does
    /// not exist yet); otherwise nothing is written and the command fails.
    #[arg(long, value_name = "N")]
    pub expected_version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// APP/PROJECT/ENV whose secrets to inject.
    #[arg(long, value_name = "APP/PROJECT/ENV")]
    pub env: String,
    /// The command and its arguments, after `--`.
    #[arg(trailing_var_arg = true, required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FileFormat {
    /// NAME="value" lines.
    Dotenv,
    /// A JSON object of names to values.
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// APP/PROJECT/ENV
    #[arg(long, value_name = "APP/PROJECT/ENV")]
    pub env: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "dotenv")]
    pub format: FileFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// APP/PROJECT/ENV
    #[arg(long, value_name = "APP/PROJECT/ENV")]
    pub env: String,
    /// Input format.
    #[arg(long, value_enum, default_value = "dotenv")]
    pub format: FileFormat,
    /// File to read, or - for standard input.
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Rewrap every data key under a new root key, while the server keeps serving.
    RotateRootKey(StorageArgs),
    /// Set an organization's plan (free, team, enterprise).
    SetPlan {
        /// Organization id (vault_…) or name.
        vault: String,
        /// free, team or enterprise.
        plan: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Mark an account's email address verified.
    VerifyEmail {
        /// Username.
        username: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
