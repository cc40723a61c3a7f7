//! A typed client for the Strongroom HTTP API, used by the CLI, the tests and any Rust
//! program that reads secrets. Every call returns the API's wire types or a
//! [`ClientError`] that keeps the server's stable error code.
//!
//! A machine signs every request with its own key (the private half never leaves it):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use strongroom_client::Client;
//! use strongroom_crypto::machine_key::MachineKey;
//!
//! let key = MachineKey::from_openssh(&std::fs::read_to_string("/etc/app/machine.key")?)?;
//! let client = Client::new("https://vault.example.com", None)?
//!     .with_machine_key(key, "vault_01hzy3…");
//! let one = client.reveal("payments/api/production/STRIPE_KEY", None).await?;
//! let all = client.environment_values("payments/api/production").await?;
//! # let _ = (one, all);
//! # Ok(())
//! # }
//! ```
//!
//! An agent or CI job uses its token instead: `Client::new(url, None)?.with_token("sr_…")`;
//! an agent calls APIs through [`Client::use_secret`] and never receives a value.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use strongroom_crypto::machine_key::MachineKey;
use strongroom_crypto::request_signing::{SignedRequest, body_digest};
use strongroom_proto::*;

/// What went wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error.
    #[error("{message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code, e.g. `not_found`.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached.
    #[error("cannot reach the Strongroom server at {url}: {reason}")]
    Transport {
        /// Where we tried.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The answer was not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// A path argument does not have the required shape.
    #[error("{0}")]
    BadPath(String),
}

impl ClientError {
    /// The server's stable error code, if the server answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Result of a client call.
pub type Result<T> = std::result::Result<T, ClientError>;

/// A connection to one Strongroom server, optionally signed in as a member (a session
/// token) or acting as a machine (every request signed with its key).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Sensitive>,
    machine: Option<Arc<MachineIdentity>>,
}

/// A machine's key and the vault it is registered in.
#[derive(Debug)]
struct MachineIdentity {
    key: MachineKey,
    vault: String,
    fingerprint: String,
}

/// Splits `a/b/c` into exactly `N` non-empty parts.
fn split_path<'a, const N: usize>(path: &'a str, shape: &str) -> Result<[&'a str; N]> {
    let parts: Vec<&str> = path.split('/').collect();
    let bad = || ClientError::BadPath(format!("expected {shape}, got {path:?}"));
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    parts.try_into().map_err(|_| bad())
}

impl Client {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8420`). `ca_cert_pem` adds a CA to
    /// trust, for servers with a private certificate.
    pub fn new(base_url: &str, ca_cert_pem: Option<&[u8]>) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = Url::parse(base_url).map_err(|e| ClientError::Transport {
            url: base_url.to_owned(),
            reason: format!("not a valid URL: {e}"),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::Transport {
                url: base_url.to_owned(),
                reason: "the server URL must start with http:// or https://".into(),
            });
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("strongroom-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120));
        if let Some(pem) = ca_cert_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| ClientError::Transport {
                url: base_url.to_owned(),
                reason: format!("the CA certificate is not valid PEM: {e}"),
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| ClientError::Transport {
            url: base_url.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            http,
            base,
            token: None,
            machine: None,
        })
    }

    /// The same connection acting as a machine: every request is signed with `key` for
    /// `vault` (the `vault_…` id the machine is registered in).
    pub fn with_machine_key(&self, key: MachineKey, vault: &str) -> Self {
        let fingerprint = key.public().fingerprint();
        Self {
            token: None,
            machine: Some(Arc::new(MachineIdentity {
                key,
                vault: vault.to_owned(),
                fingerprint,
            })),
            ..self.clone()
        }
    }

    /// Whether requests are signed by a machine key.
    pub fn is_machine(&self) -> bool {
        self.machine.is_some()
    }

    /// Signs a built request as the machine.
    fn sign(&self, request: &mut reqwest::Request) -> Result<()> {
        let Some(machine) = &self.machine else {
            return Ok(());
        };
        let nonce = strongroom_crypto::random::random_bytes::<16>()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let body = request
            .body()
            .map(|b| {
                b.as_bytes()
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| ClientError::Protocol("a streamed body cannot be signed".into()))
            })
            .transpose()?
            .unwrap_or_default();
        let signed = SignedRequest {
            method: request.method().as_str().to_owned(),
            path: request.url().path().to_owned(),
            query: request.url().query().unwrap_or("").to_owned(),
            vault: machine.vault.clone(),
            key: machine.fingerprint.clone(),
            timestamp,
            nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
            digest: body_digest(&body),
        };
        let value = reqwest::header::HeaderValue::from_str(&signed.authorization(&machine.key))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
        Ok(())
    }

    /// The same connection, signed in with `token`.
    pub fn with_token(&self, token: impl Into<Sensitive>) -> Self {
        Self {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| ClientError::BadPath("the server URL cannot have a path appended".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn api(&self, method: Method, segments: &[&str]) -> Result<RequestBuilder> {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        let mut request = self.http.request(method, self.url(&all)?);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        Ok(request)
    }

    async fn call(&self, request: RequestBuilder) -> Result<reqwest::Response> {
        let mut request = request
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.sign(&mut request)?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| ClientError::Transport {
                url: self.base.to_string(),
                reason: error_chain(&e),
            })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(e) => Err(ClientError::Api {
                status: status.as_u16(),
                code: e.error.code,
                message: e.error.message,
            }),
            Err(_) => Err(ClientError::Protocol(format!(
                "HTTP {status} without an error body"
            ))),
        }
    }

    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        self.call(request)
            .await?
            .json::<T>()
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    async fn empty(&self, request: RequestBuilder) -> Result<()> {
        let response = self.call(request).await?;
        if response.status() == StatusCode::NO_CONTENT || response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Protocol(format!(
                "unexpected status {}",
                response.status()
            )))
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T> {
        self.json(self.api(Method::GET, segments)?.query(query))
            .await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: &B,
    ) -> Result<T> {
        self.json(self.api(method, segments)?.json(body)).await
    }

    /// Follows `next_cursor` until the list ends.
    async fn all<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "1000".to_owned())];
            if let Some(c) = cursor.take() {
                query.push(("cursor", c));
            }
            let page: List<T> = self.get(segments, &query).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health> {
        self.json(self.http.get(self.url(&["healthz"])?)).await
    }

    /// `GET /api/v1/openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        self.get(&["openapi.json"], &[]).await
    }

    /// Creates an account and signs it in.
    pub async fn signup(&self, request: &SignupRequest) -> Result<LoginResponse> {
        self.send(Method::POST, &["auth", "signup"], request).await
    }

    /// Signs in.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse> {
        self.send(Method::POST, &["auth", "login"], request).await
    }

    /// Ends this session.
    pub async fn logout(&self) -> Result<()> {
        self.empty(self.api(Method::POST, &["auth", "logout"])?)
            .await
    }

    /// The signed-in account, vault and session.
    pub async fn whoami(&self) -> Result<WhoAmI> {
        self.get(&["auth", "whoami"], &[]).await
    }

    /// Re-authenticates for sensitive actions.
    pub async fn step_up(&self, request: &StepUpRequest) -> Result<StepUpResponse> {
        self.send(Method::POST, &["auth", "step-up"], request).await
    }

    /// Changes the password (after a step-up).
    pub async fn change_password(&self, request: &ChangePasswordRequest) -> Result<()> {
        self.empty(self.api(Method::POST, &["auth", "password"])?.json(request))
            .await
    }

    /// Every live session of the account.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        self.all(&["auth", "sessions"]).await
    }

    /// Revokes one session.
    pub async fn revoke_session(&self, id: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["auth", "sessions", id])?)
            .await
    }

    /// Starts TOTP enrolment.
    pub async fn totp_begin(&self) -> Result<TotpEnrollment> {
        self.json(self.api(Method::POST, &["auth", "totp"])?).await
    }

    /// Confirms TOTP enrolment; returns recovery codes.
    pub async fn totp_confirm(&self, code: &str) -> Result<RecoveryCodes> {
        self.send(
            Method::POST,
            &["auth", "totp", "confirm"],
            &TotpCodeRequest {
                code: code.to_owned(),
            },
        )
        .await
    }

    /// Turns TOTP off (after a step-up).
    pub async fn totp_disable(&self) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["auth", "totp"])?)
            .await
    }

    /// New recovery codes (after a step-up).
    pub async fn regenerate_recovery_codes(&self) -> Result<RecoveryCodes> {
        self.json(self.api(Method::POST, &["auth", "recovery-codes"])?)
            .await
    }

    /// Vaults the user belongs to.
    pub async fn vaults(&self) -> Result<Vec<VaultInfo>> {
        let list: List<VaultInfo> = self.get(&["vaults"], &[]).await?;
        Ok(list.items)
    }

    /// Makes this session act in another vault (by id or name).
    pub async fn switch_vault(&self, vault: &str) -> Result<VaultInfo> {
        self.send(
            Method::PUT,
            &["session", "vault"],
            &SwitchVaultRequest {
                vault: vault.to_owned(),
            },
        )
        .await
    }

    /// Creates an empty organization.
    pub async fn create_organization(&self, name: &str) -> Result<VaultInfo> {
        self.send(
            Method::POST,
            &["organizations"],
            &OrganizationNameRequest {
                name: name.to_owned(),
            },
        )
        .await
    }

    /// Converts the current (personal) vault into an organization (after a step-up).
    pub async fn convert_vault(&self, name: &str) -> Result<VaultInfo> {
        self.send(
            Method::POST,
            &["vault", "convert"],
            &OrganizationNameRequest {
                name: name.to_owned(),
            },
        )
        .await
    }

    /// Hands the current organization to another member (after a step-up).
    pub async fn transfer_ownership(&self, username: &str) -> Result<()> {
        self.empty(
            self.api(Method::POST, &["vault", "transfer"])?
                .json(&TransferRequest {
                    username: username.to_owned(),
                }),
        )
        .await
    }

    /// Leaves the current organization; returns the personal vault now in use.
    pub async fn leave_vault(&self) -> Result<VaultInfo> {
        self.json(self.api(Method::POST, &["vault", "leave"])?)
            .await
    }

    /// Soft-deletes the current organization (after a step-up).
    pub async fn delete_organization(&self) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["vault"])?).await
    }

    /// Restores a soft-deleted organization one owns.
    pub async fn restore_organization(&self, vault_id: &str) -> Result<VaultInfo> {
        self.json(self.api(Method::POST, &["vaults", vault_id, "restore"])?)
            .await
    }

    /// The roster with the plan, its usage and cap (every page).
    pub async fn members(&self) -> Result<Roster> {
        let mut roster: Roster = self
            .get(&["members"], &[("limit", "1000".to_owned())])
            .await?;
        while let Some(cursor) = roster.next_cursor.take() {
            let next: Roster = self
                .get(
                    &["members"],
                    &[("limit", "1000".to_owned()), ("cursor", cursor)],
                )
                .await?;
            roster.items.extend(next.items);
            roster.next_cursor = next.next_cursor;
        }
        Ok(roster)
    }

    /// Suspends a member.
    pub async fn suspend_member(&self, username: &str) -> Result<MemberInfo> {
        self.json(self.api(Method::POST, &["members", username, "suspend"])?)
            .await
    }

    /// Unsuspends a member.
    pub async fn unsuspend_member(&self, username: &str) -> Result<MemberInfo> {
        self.json(self.api(Method::POST, &["members", username, "unsuspend"])?)
            .await
    }

    /// Removes a member.
    pub async fn remove_member(&self, username: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["members", username])?)
            .await
    }

    /// Changes a member's vault role.
    pub async fn set_member_role(&self, username: &str, role: &str) -> Result<MemberInfo> {
        self.send(
            Method::PUT,
            &["members", username, "role"],
            &SetRoleRequest {
                vault_role: role.to_owned(),
            },
        )
        .await
    }

    /// The vault's roles.
    pub async fn roles(&self) -> Result<Vec<RoleInfo>> {
        let list: List<RoleInfo> = self.get(&["roles"], &[]).await?;
        Ok(list.items)
    }

    /// How a decision comes out for a member, and why.
    pub async fn check(
        &self,
        username: &str,
        action: &str,
        resource: Option<&str>,
    ) -> Result<CheckResult> {
        let mut query = vec![
            ("username", username.to_owned()),
            ("action", action.to_owned()),
        ];
        if let Some(resource) = resource {
            query.push(("resource", resource.to_owned()));
        }
        self.get(&["check"], &query).await
    }

    /// The vault's access roles.
    pub async fn access_roles(&self) -> Result<Vec<AccessRoleInfo>> {
        let list: List<AccessRoleInfo> = self.get(&["access-roles"], &[]).await?;
        Ok(list.items)
    }

    /// One access role.
    pub async fn access_role(&self, name: &str) -> Result<AccessRoleInfo> {
        self.get(&["access-roles", name], &[]).await
    }

    /// Creates an access role from its role file.
    pub async fn create_access_role(
        &self,
        name: &str,
        spec: serde_json::Value,
    ) -> Result<AccessRoleInfo> {
        self.send(
            Method::POST,
            &["access-roles"],
            &CreateAccessRoleRequest {
                name: name.to_owned(),
                spec,
            },
        )
        .await
    }

    /// Replaces an access role's file.
    pub async fn edit_access_role(
        &self,
        name: &str,
        spec: serde_json::Value,
    ) -> Result<AccessRoleInfo> {
        self.send(
            Method::PUT,
            &["access-roles", name],
            &EditAccessRoleRequest { spec },
        )
        .await
    }

    /// What saving `spec` as access role `name` would change, without saving it.
    pub async fn preview_access_role(
        &self,
        name: &str,
        spec: serde_json::Value,
    ) -> Result<EffectPreview> {
        self.send(
            Method::POST,
            &["access-roles", name, "preview"],
            &EditAccessRoleRequest { spec },
        )
        .await
    }

    /// What saving `spec` as custom vault role `name` would change, without saving it.
    pub async fn preview_role(&self, name: &str, spec: serde_json::Value) -> Result<EffectPreview> {
        self.send(
            Method::POST,
            &["roles", name, "preview"],
            &strongroom_proto::EditRoleRequest { spec },
        )
        .await
    }

    /// Deletes an access role.
    pub async fn delete_access_role(&self, name: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["access-roles", name])?)
            .await
    }

    /// Gives a member an access role (or none).
    pub async fn set_member_access_role(
        &self,
        username: &str,
        access_role: Option<&str>,
    ) -> Result<MemberInfo> {
        self.send(
            Method::PUT,
            &["members", username, "access-role"],
            &SetAccessRoleRequest {
                access_role: access_role.map(str::to_owned),
            },
        )
        .await
    }

    /// One vault role.
    pub async fn role(&self, name: &str) -> Result<RoleInfo> {
        self.get(&["roles", name], &[]).await
    }

    /// The vault's machines.
    pub async fn machines(&self) -> Result<Vec<MachineInfo>> {
        let list: List<MachineInfo> = self.get(&["machines"], &[]).await?;
        Ok(list.items)
    }

    /// One machine, with its attachments and grants.
    pub async fn machine(&self, name: &str) -> Result<MachineDetail> {
        self.get(&["machines", name], &[]).await
    }

    /// Attaches a machine to `app/project` for `environments` (all when empty) with
    /// `verbs` (`read` always included).
    pub async fn attach_machine(
        &self,
        name: &str,
        project: &str,
        environments: &[String],
        verbs: &[String],
    ) -> Result<MachineAttachment> {
        self.send(
            Method::POST,
            &["machines", name, "attachments"],
            &AttachMachineRequest {
                project: project.to_owned(),
                environments: environments.to_vec(),
                verbs: verbs.to_vec(),
            },
        )
        .await
    }

    /// Detaches a machine from `app/project`.
    pub async fn detach_machine(&self, name: &str, project: &str) -> Result<()> {
        let [app, project] = split_path::<2>(project, "APP/PROJECT")?;
        self.empty(self.api(
            Method::DELETE,
            &["machines", name, "attachments", app, project],
        )?)
        .await
    }

    /// Grants a machine the secret at `app/project/env/NAME` with `verbs`.
    pub async fn grant_machine(
        &self,
        name: &str,
        path: &str,
        verbs: &[String],
    ) -> Result<MachineGrant> {
        self.send(
            Method::POST,
            &["machines", name, "grants"],
            &GrantMachineRequest {
                path: path.to_owned(),
                verbs: verbs.to_vec(),
            },
        )
        .await
    }

    /// Takes back a secret granted to a machine.
    pub async fn revoke_machine_grant(&self, name: &str, path: &str) -> Result<()> {
        let [app, project, env, secret] = split_path::<4>(path, "APP/PROJECT/ENV/NAME")?;
        self.empty(self.api(
            Method::DELETE,
            &["machines", name, "grants", app, project, env, secret],
        )?)
        .await
    }

    /// Creates an agent or CI token; the answer holds its secret, shown this once.
    pub async fn create_token(&self, request: &CreateTokenRequest) -> Result<TokenCreated> {
        self.send(Method::POST, &["tokens"], request).await
    }

    /// The vault's live tokens of the kinds the caller manages.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let list: List<TokenInfo> = self.get(&["tokens"], &[]).await?;
        Ok(list.items)
    }

    /// Revokes a token by name or id.
    pub async fn revoke_token(&self, name_or_id: &str) -> Result<TokenInfo> {
        self.json(self.api(Method::DELETE, &["tokens", name_or_id])?)
            .await
    }

    /// Writes an access policy.
    pub async fn create_policy(&self, request: &CreatePolicyRequest) -> Result<PolicyInfo> {
        self.send(Method::POST, &["policies"], request).await
    }

    /// The policies the caller may author.
    pub async fn policies(&self) -> Result<Vec<PolicyInfo>> {
        let list: List<PolicyInfo> = self.get(&["policies"], &[]).await?;
        Ok(list.items)
    }

    /// One policy.
    pub async fn policy(&self, name: &str) -> Result<PolicyInfo> {
        self.get(&["policies", name], &[]).await
    }

    /// Deletes a policy.
    pub async fn delete_policy(&self, name: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["policies", name])?)
            .await
    }

    /// The vault's IP allowlist.
    pub async fn allowlist(&self) -> Result<Vec<AllowlistRange>> {
        let list: List<AllowlistRange> = self.get(&["ip-allowlist"], &[]).await?;
        Ok(list.items)
    }

    /// Adds a range to the vault's IP allowlist.
    pub async fn allow_range(&self, cidr: &str, note: &str) -> Result<()> {
        self.empty(
            self.api(Method::POST, &["ip-allowlist"])?
                .json(&AllowRangeRequest {
                    cidr: cidr.to_owned(),
                    note: note.to_owned(),
                }),
        )
        .await
    }

    /// Removes a range from the vault's IP allowlist.
    pub async fn disallow_range(&self, cidr: &str) -> Result<()> {
        self.empty(
            self.api(Method::DELETE, &["ip-allowlist"])?
                .query(&[("cidr", cidr)]),
        )
        .await
    }

    /// One page of the vault's audit log, newest first (your own entries with View own,
    /// everyone's with View others). Pass the returned `next_cursor` for the next page.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<List<AuditEntryInfo>> {
        let mut query = filter.pairs();
        query.push(("limit", limit.to_string()));
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        self.get(&["audit"], &query).await
    }

    /// Writes an alert rule; a webhook's signing secret comes back once.
    pub async fn create_alert(&self, request: &CreateAlertRequest) -> Result<AlertCreated> {
        self.send(Method::POST, &["alerts"], request).await
    }

    /// The vault's alert rules.
    pub async fn alerts(&self) -> Result<Vec<AlertInfo>> {
        let list: List<AlertInfo> = self.get(&["alerts"], &[]).await?;
        Ok(list.items)
    }

    /// Deletes an alert rule.
    pub async fn delete_alert(&self, name: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["alerts", name])?)
            .await
    }

    /// Sends a test alert through a rule now.
    pub async fn test_alert(&self, name: &str) -> Result<AlertTestResult> {
        self.json(self.api(Method::POST, &["alerts", name, "test"])?)
            .await
    }

    /// Walks the vault's audit chain and reports the first entry that does not hold.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        self.get(&["audit", "verify"], &[]).await
    }

    /// Calls a secret's declared destination through the server's broker.
    pub async fn use_secret(&self, request: &UseRequest) -> Result<UseResponse> {
        self.send(Method::POST, &["use"], request).await
    }

    /// Declares where the secret at `path` may be used, and how its value travels.
    pub async fn set_secret_use(
        &self,
        path: &str,
        request: &SetUseRequest,
    ) -> Result<SecretMetadata> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.send(
            Method::PUT,
            &["apps", a, "projects", p, "envs", e, "secrets", n, "use"],
            request,
        )
        .await
    }

    /// Clears where the secret at `path` may be used.
    pub async fn clear_secret_use(&self, path: &str) -> Result<SecretMetadata> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.json(self.api(
            Method::DELETE,
            &["apps", a, "projects", p, "envs", e, "secrets", n, "use"],
        )?)
        .await
    }

    /// As a machine: its own identity and what it may read.
    pub async fn own_machine(&self) -> Result<MachineSelf> {
        self.get(&["machine"], &[]).await
    }

    /// Registers a machine by its OpenSSH public key line.
    pub async fn register_machine(
        &self,
        name: &str,
        public_key: &str,
        expires_in_hours: Option<u32>,
    ) -> Result<MachineInfo> {
        self.send(
            Method::POST,
            &["machines"],
            &RegisterMachineRequest {
                name: name.to_owned(),
                public_key: public_key.to_owned(),
                expires_in_hours,
            },
        )
        .await
    }

    /// Disables (`enabled` false) or enables a machine.
    pub async fn set_machine_enabled(&self, name: &str, enabled: bool) -> Result<MachineInfo> {
        let verb = if enabled { "enable" } else { "disable" };
        self.json(self.api(Method::POST, &["machines", name, verb])?)
            .await
    }

    /// Issues an AppRole secret id for a machine (shown once).
    pub async fn issue_approle(
        &self,
        name: &str,
        request: &strongroom_proto::IssueApproleRequest,
    ) -> Result<strongroom_proto::ApproleIssued> {
        self.send(Method::POST, &["machines", name, "approle"], request)
            .await
    }

    /// A machine's role id and secret ids (never the secrets).
    pub async fn approle(&self, name: &str) -> Result<strongroom_proto::ApproleSecrets> {
        self.get(&["machines", name, "approle"], &[]).await
    }

    /// Revokes a machine's AppRole secret id (and the logins it gave).
    pub async fn revoke_approle(&self, name: &str, id: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["machines", name, "approle", id])?)
            .await
    }

    /// Removes a machine.
    pub async fn remove_machine(&self, name: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["machines", name])?)
            .await
    }

    /// Creates a custom vault role from its role file (enterprise plan).
    pub async fn create_role(&self, name: &str, spec: serde_json::Value) -> Result<RoleInfo> {
        self.send(
            Method::POST,
            &["roles"],
            &CreateRoleRequest {
                name: name.to_owned(),
                spec,
            },
        )
        .await
    }

    /// Replaces a custom vault role's file.
    pub async fn edit_role(&self, name: &str, spec: serde_json::Value) -> Result<RoleInfo> {
        self.send(Method::PUT, &["roles", name], &EditRoleRequest { spec })
            .await
    }

    /// Deletes a custom vault role nobody holds.
    pub async fn delete_role(&self, name: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["roles", name])?)
            .await
    }

    /// Invites an email address.
    pub async fn invite(&self, email: &str, role: Option<&str>) -> Result<InviteSent> {
        self.invite_with_access_role(email, role, None).await
    }

    /// Invites an email address, offering an access role too.
    pub async fn invite_with_access_role(
        &self,
        email: &str,
        role: Option<&str>,
        access_role: Option<&str>,
    ) -> Result<InviteSent> {
        self.send(
            Method::POST,
            &["invites"],
            &InviteRequest {
                email: email.to_owned(),
                vault_role: role.map(str::to_owned),
                access_role: access_role.map(str::to_owned),
            },
        )
        .await
    }

    /// The vault's pending invites.
    pub async fn pending_invites(&self) -> Result<Vec<InviteInfo>> {
        self.all(&["invites"]).await
    }

    /// Revokes a pending invite.
    pub async fn revoke_invite(&self, id: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["invites", id])?)
            .await
    }

    /// Invites waiting for the signed-in user.
    pub async fn received_invites(&self) -> Result<Vec<ReceivedInviteInfo>> {
        let list: List<ReceivedInviteInfo> = self.get(&["account", "invites"], &[]).await?;
        Ok(list.items)
    }

    /// Accepts an invite; returns the organization joined.
    pub async fn accept_invite(&self, id: &str) -> Result<VaultInfo> {
        self.json(self.api(Method::POST, &["account", "invites", id, "accept"])?)
            .await
    }

    /// Declines an invite.
    pub async fn decline_invite(&self, id: &str) -> Result<()> {
        self.empty(self.api(Method::POST, &["account", "invites", id, "decline"])?)
            .await
    }

    /// Creates an invite link.
    pub async fn create_link(&self, request: &CreateLinkRequest) -> Result<InviteLinkCreated> {
        self.send(Method::POST, &["links"], request).await
    }

    /// The vault's invite links.
    pub async fn links(&self) -> Result<Vec<InviteLinkInfo>> {
        self.all(&["links"]).await
    }

    /// Revokes an invite link.
    pub async fn revoke_link(&self, id: &str) -> Result<()> {
        self.empty(self.api(Method::DELETE, &["links", id])?).await
    }

    /// Joins by an invite link (its token, or a URL ending in it).
    pub async fn join(&self, link: &str) -> Result<VaultInfo> {
        self.send(
            Method::POST,
            &["links", "join"],
            &JoinRequest {
                link: Sensitive::new(link),
            },
        )
        .await
    }

    /// Verifies the account's email address.
    pub async fn verify_email(&self, code: &str) -> Result<UserInfo> {
        self.send(
            Method::POST,
            &["auth", "email", "verify"],
            &VerifyEmailRequest {
                code: Sensitive::new(code),
            },
        )
        .await
    }

    /// Asks for a new verification code.
    pub async fn resend_verification(&self) -> Result<()> {
        self.empty(self.api(Method::POST, &["auth", "email", "resend"])?)
            .await
    }

    /// Changes the account's email address (after a step-up).
    pub async fn change_email(&self, email: &str) -> Result<UserInfo> {
        self.send(
            Method::PUT,
            &["auth", "email"],
            &ChangeEmailRequest {
                email: email.to_owned(),
            },
        )
        .await
    }

    /// Every application.
    pub async fn apps(&self) -> Result<Vec<Node>> {
        self.all(&["apps"]).await
    }

    /// Creates an application.
    pub async fn create_app(&self, name: &str) -> Result<Node> {
        self.send(
            Method::POST,
            &["apps"],
            &CreateRequest {
                name: name.to_owned(),
            },
        )
        .await
    }

    /// Every project of an application.
    pub async fn projects(&self, app: &str) -> Result<Vec<Node>> {
        self.all(&["apps", app, "projects"]).await
    }

    /// Creates `APP/PROJECT` (with development, staging and production).
    pub async fn create_project(&self, project_path: &str) -> Result<ProjectCreated> {
        let [app, project] = split_path(project_path, "APP/PROJECT")?;
        self.send(
            Method::POST,
            &["apps", app, "projects"],
            &CreateRequest {
                name: project.to_owned(),
            },
        )
        .await
    }

    /// Every environment of `APP/PROJECT`.
    pub async fn envs(&self, project_path: &str) -> Result<Vec<Node>> {
        let [app, project] = split_path(project_path, "APP/PROJECT")?;
        self.all(&["apps", app, "projects", project, "envs"]).await
    }

    /// Creates `APP/PROJECT/ENV`.
    pub async fn create_env(&self, env_path: &str) -> Result<Node> {
        let [app, project, env] = split_path(env_path, "APP/PROJECT/ENV")?;
        self.send(
            Method::POST,
            &["apps", app, "projects", project, "envs"],
            &CreateRequest {
                name: env.to_owned(),
            },
        )
        .await
    }

    /// Every live secret of `APP/PROJECT/ENV` (metadata).
    pub async fn secrets(&self, env_path: &str) -> Result<Vec<SecretMetadata>> {
        let [app, project, env] = split_path(env_path, "APP/PROJECT/ENV")?;
        self.all(&["apps", app, "projects", project, "envs", env, "secrets"])
            .await
    }

    /// One page of the secrets of `APP/PROJECT/ENV`.
    pub async fn secrets_page(
        &self,
        env_path: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<List<SecretMetadata>> {
        let [app, project, env] = split_path(env_path, "APP/PROJECT/ENV")?;
        let mut query = vec![("limit", limit.to_string())];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_owned()));
        }
        self.get(
            &["apps", app, "projects", project, "envs", env, "secrets"],
            &query,
        )
        .await
    }

    fn secret_segments(path: &str) -> Result<[&str; 4]> {
        split_path(path, "APP/PROJECT/ENV/NAME")
    }

    /// Writes a new version of `APP/PROJECT/ENV/NAME`.
    pub async fn put_secret(
        &self,
        path: &str,
        request: &SecretWriteRequest,
    ) -> Result<SecretWritten> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.send(
            Method::PUT,
            &["apps", a, "projects", p, "envs", e, "secrets", n],
            request,
        )
        .await
    }

    /// A secret's metadata.
    pub async fn secret(&self, path: &str) -> Result<SecretMetadata> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.get(&["apps", a, "projects", p, "envs", e, "secrets", n], &[])
            .await
    }

    /// A secret's value (latest, or `version`).
    pub async fn reveal(&self, path: &str, version: Option<i64>) -> Result<SecretValueResponse> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        let query: Vec<(&str, String)> = version
            .map(|v| ("version", v.to_string()))
            .into_iter()
            .collect();
        self.get(
            &["apps", a, "projects", p, "envs", e, "secrets", n, "value"],
            &query,
        )
        .await
    }

    /// A secret's versions, newest first.
    pub async fn versions(&self, path: &str) -> Result<Vec<SecretVersionInfo>> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.all(&[
            "apps", a, "projects", p, "envs", e, "secrets", n, "versions",
        ])
        .await
    }

    /// Makes a new version equal to version `to`.
    pub async fn rollback(&self, path: &str, to: i64) -> Result<SecretWritten> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.send(
            Method::POST,
            &[
                "apps", a, "projects", p, "envs", e, "secrets", n, "rollback",
            ],
            &RollbackRequest { to },
        )
        .await
    }

    /// Deletes (`"delete"`), undeletes (`"undelete"`) or destroys (`"destroy"`) versions
    /// of a secret; returns the versions that changed.
    pub async fn change_versions(
        &self,
        path: &str,
        change: &str,
        versions: &[i64],
    ) -> Result<strongroom_proto::VersionsChanged> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.send(
            Method::POST,
            &[
                "apps", a, "projects", p, "envs", e, "secrets", n, "versions", change,
            ],
            &strongroom_proto::VersionsRequest {
                versions: versions.to_vec(),
            },
        )
        .await
    }

    /// Moves a secret to the trash.
    pub async fn delete_secret(&self, path: &str) -> Result<()> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.empty(self.api(
            Method::DELETE,
            &["apps", a, "projects", p, "envs", e, "secrets", n],
        )?)
        .await
    }

    /// Restores a secret from the trash.
    pub async fn restore_secret(&self, path: &str) -> Result<()> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.empty(self.api(
            Method::POST,
            &["apps", a, "projects", p, "envs", e, "secrets", n, "restore"],
        )?)
        .await
    }

    /// Destroys a trashed secret.
    pub async fn purge_secret(&self, path: &str) -> Result<()> {
        let [a, p, e, n] = Self::secret_segments(path)?;
        self.empty(self.api(
            Method::POST,
            &["apps", a, "projects", p, "envs", e, "secrets", n, "purge"],
        )?)
        .await
    }

    /// The vault's trash.
    pub async fn trash(&self) -> Result<Vec<TrashedSecretInfo>> {
        self.all(&["trash"]).await
    }

    /// Every live value of `APP/PROJECT/ENV`.
    pub async fn environment_values(&self, env_path: &str) -> Result<EnvironmentValues> {
        let [app, project, env] = split_path(env_path, "APP/PROJECT/ENV")?;
        self.get(
            &["apps", app, "projects", project, "envs", env, "values"],
            &[],
        )
        .await
    }

    /// Sets many secrets at once (one new version per changed key).
    pub async fn import(
        &self,
        env_path: &str,
        secrets: BTreeMap<String, Sensitive>,
    ) -> Result<ImportResult> {
        let [app, project, env] = split_path(env_path, "APP/PROJECT/ENV")?;
        self.send(
            Method::POST,
            &["apps", app, "projects", project, "envs", env, "import"],
            &ImportRequest { secrets },
        )
        .await
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_have_the_exact_shape() {
        assert!(split_path::<4>("a/b/c/D", "").is_ok());
        assert!(split_path::<4>("a/b/c", "").is_err());
        assert!(split_path::<4>("a//c/D", "").is_err());
    }

    #[test]
    fn segments_are_percent_encoded() {
        let client = Client::new("http://localhost:1/", None).unwrap_or_else(|e| panic!("{e}"));
        let url = client
            .url(&["api", "a b", "../x"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.as_str(), "http://localhost:1/api/a%20b/..%2Fx");
    }
}

/// Filters for [`Client::audit_page`]; unset fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Username, machine name or token name.
    pub actor: Option<String>,
    /// `member`, `machine`, `agent`, `token`, `system` or `external`.
    pub actor_kind: Option<String>,
    /// An action (`secret.reveal`) or a family (`secret.*`).
    pub action: Option<String>,
    /// Targets starting with this.
    pub target: Option<String>,
    /// This severity or higher.
    pub severity: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub outcome: Option<String>,
    /// At or after this RFC 3339 time.
    pub since: Option<String>,
    /// Before this RFC 3339 time.
    pub until: Option<String>,
    /// Oldest first (for exports) instead of newest first.
    pub oldest_first: bool,
}

impl AuditFilter {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("actor_kind", &self.actor_kind),
            ("action", &self.action),
            ("target", &self.target),
            ("severity", &self.severity),
            ("outcome", &self.outcome),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.clone().map(|v| (name, v)))
        .chain(self.oldest_first.then(|| ("order", "oldest".to_owned())))
        .collect()
    }
}
