//! Extractors. They authenticate and parse; they never authorize. [`Caller`] turns a
//! bearer token into a principal; handlers then ask the core's decision function. No
//! extractor records a token or a body in a log span.

use crate::error::ApiError;
use crate::runtime_auth::RuntimeCaller;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use strongroom_core::account::Username;
use strongroom_core::authz::{
    Action, Authorized, MACHINE_PLANE_ONLY, Member, Principal, Resource, authorize,
};
use strongroom_core::ids::{MachineId, VaultId};
use strongroom_core::names::{EnvironmentPath, ProjectPath, SecretPath};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token::Token;
use strongroom_store::{AuditActor, Origin, PageRequest, RecordedMark, SessionRecord};
use utoipa::IntoParams;

/// A JSON body whose rejections use the API's error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters whose rejections use the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A query string whose rejections use the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Where a request came from, for sessions, throttling and audit entries.
#[derive(Clone)]
pub struct ClientMeta {
    /// The client's address, when known (see [`crate::client_ip`]).
    pub addr: Option<std::net::IpAddr>,
    pub ip: String,
    pub user_agent: String,
    pub request_id: String,
    /// Set when the store records this request's entry along with its change.
    pub recorded: RecordedMark,
}

impl ClientMeta {
    /// The audit entry's view of this request.
    pub fn origin(&self) -> Origin {
        Origin {
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
            recorded: self.recorded.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.headers, &parts.extensions))
    }
}

impl ClientMeta {
    /// Reads the request's source address, user agent and request id.
    pub fn of(headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions) -> Self {
        let addr = crate::runtime_auth::peer_ip(extensions);
        let ip = addr.map_or_else(|| "unknown".into(), |ip| ip.to_string());
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect();
        Self {
            addr,
            ip,
            user_agent,
            request_id,
            recorded: extensions
                .get::<RecordedMark>()
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub session: SessionRecord,
    pub username: Username,
}

impl Caller {
    /// Asks the decision function about an action inside the session's vault.
    pub fn in_vault(&self, action: Action) -> Result<Authorized, ApiError> {
        Ok(authorize(
            &self.principal,
            action,
            Resource::Vault(&self.session.vault_id),
        )?)
    }

    /// Asks the decision function about the caller's own account.
    pub fn own_account(&self) -> Result<Authorized, ApiError> {
        self.for_account(Action::ManageOwnAccount)
    }

    /// Asks the decision function about an account-level action of the caller's.
    pub fn for_account(&self, action: Action) -> Result<Authorized, ApiError> {
        Ok(authorize(
            &self.principal,
            action,
            Resource::Account(&self.session.user_id),
        )?)
    }
}

fn bearer_token(parts: &Parts) -> Option<Token> {
    // Vault's clients send the token in X-Vault-Token, on the KV routes only.
    if parts.uri.path().starts_with("/v1/")
        && let Some(token) = parts
            .headers
            .get("x-vault-token")
            .and_then(|v| v.to_str().ok())
    {
        return Some(Token::from_presented(token.trim().to_owned()));
    }
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| Token::from_presented(token.trim().to_owned()))
}

/// Whoever calls a route of the data plane: a member through a session, or a machine
/// through a signed request. The decision function tells them apart.
pub struct Requester {
    pub principal: Principal,
    /// The machine's id and name, when a machine is calling.
    pub machine: Option<(MachineId, String)>,
}

impl Requester {
    /// Asks the decision function about an action inside the requester's vault.
    pub fn in_vault(&self, action: Action) -> Result<Authorized, ApiError> {
        let vault: &VaultId = match &self.principal {
            Principal::Member(m) => &m.vault_id,
            Principal::Machine(m) => &m.vault_id,
            Principal::Token(t) => &t.vault_id,
        };
        Ok(authorize(&self.principal, action, Resource::Vault(vault))?)
    }
}

impl FromRequestParts<AppState> for Requester {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(machine) = parts.extensions.get::<RuntimeCaller>() {
            let id = match &machine.principal {
                Principal::Machine(m) => Some((m.id.clone(), machine.name.clone())),
                Principal::Member(_) | Principal::Token(_) => None,
            };
            return Ok(Self {
                principal: machine.principal.clone(),
                machine: id,
            });
        }
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(Self {
            principal: caller.principal,
            machine: None,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.extensions.get::<RuntimeCaller>().is_some() {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                format!("permission denied: {MACHINE_PLANE_ONLY}"),
            )
            .into());
        }
        let token = bearer_token(parts).ok_or_else(|| {
            Error::new(
                ErrorCode::Unauthenticated,
                "sign in first: `strongroom login`, or send Authorization: Bearer <token> (machines \
             sign their requests: set STRONGROOM_MACHINE_KEY and STRONGROOM_VAULT)",
            )
        })?;
        Self::from_session_token(parts, state, &token).await
    }
}

impl Caller {
    /// The member whose session `token` is (from a bearer header, or the dashboard's
    /// cookie), named to the audit layer as the request's actor.
    pub async fn from_session_token(
        parts: &Parts,
        state: &AppState,
        token: &Token,
    ) -> Result<Self, ApiError> {
        let found = state
            .store
            .authenticate_session(
                &token.hash(),
                crate::runtime_auth::peer_ip(&parts.extensions),
            )
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "the session has expired or was revoked: sign in again",
                )
            })?;
        if let Some(scope) = parts.extensions.get::<crate::audit_layer::AuditScope>() {
            scope.set(
                found.session.vault_id.clone(),
                AuditActor {
                    kind: strongroom_core::audit::ActorKind::Member,
                    id: found.session.user_id.to_string(),
                    name: found.username.to_string(),
                },
            );
        }
        Ok(Self {
            principal: Principal::Member(Member {
                user_id: found.session.user_id.clone(),
                vault_id: found.session.vault_id.clone(),
                standing: found.standing,
                access: found.access,
            }),
            session: found.session,
            username: found.username,
        })
    }
}

/// `?limit=&cursor=` on every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    /// The page request for list `list` (cursors of one list are refused by another).
    pub fn page(&self, list: &str) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(
                Error::new(ErrorCode::InvalidValue, "limit must be between 1 and 1000").into(),
            );
        }
        let after = self
            .cursor
            .as_deref()
            .map(|c| crate::cursor::decode(list, c))
            .transpose()?;
        Ok(PageRequest { after, limit })
    }
}

/// `/apps/{app}/projects/{project}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectParams {
    /// Application name.
    pub app: String,
    /// Project name.
    pub project: String,
}

impl ProjectParams {
    pub fn path(&self) -> Result<ProjectPath, ApiError> {
        Ok(format!("{}/{}", self.app, self.project).parse()?)
    }
}

/// `/apps/{app}/projects/{project}/envs/{env}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EnvParams {
    /// Application name.
    pub app: String,
    /// Project name.
    pub project: String,
    /// Environment name.
    pub env: String,
}

impl EnvParams {
    pub fn path(&self) -> Result<EnvironmentPath, ApiError> {
        Ok(format!("{}/{}/{}", self.app, self.project, self.env).parse()?)
    }
}

/// `/apps/{app}/projects/{project}/envs/{env}/secrets/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecretParams {
    /// Application name.
    pub app: String,
    /// Project name.
    pub project: String,
    /// Environment name.
    pub env: String,
    /// Secret name.
    pub name: String,
}

impl SecretParams {
    pub fn path(&self) -> Result<SecretPath, ApiError> {
        Ok(format!("{}/{}/{}/{}", self.app, self.project, self.env, self.name).parse()?)
    }
}
