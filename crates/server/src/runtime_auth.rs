//! Authenticates the runtime plane before any handler runs: signed machine requests (the
//! body is read once to check its digest, then handed on unchanged) and agent and CI
//! tokens (`Authorization: Bearer sr_…`). A verified machine or token rides in the
//! request's extensions as a [`RuntimeCaller`]; handlers meet it only through the
//! [`crate::extract::Requester`] extractor and the core's decision. Every refusal is a
//! 401 whose message says what to fix; none says whether a key is registered elsewhere.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use strongroom_core::audit::{ActorKind, Outcome, Severity};
use strongroom_core::authz::{Machine, OUTSIDE_ALLOWLIST, Principal, RuntimeToken};
use strongroom_core::ids::VaultId;
use strongroom_core::network;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::machine_key::MachinePublicKey;
use strongroom_crypto::request_signing::{Credentials, WINDOW_SECS, body_digest};
use strongroom_crypto::token::{ACCESS_TOKEN_PREFIX, MACHINE_LOGIN_PREFIX, Token};
use strongroom_store::{AuditActor, AuditEntry};

/// How long a nonce is kept after its request's timestamp: twice the window, and five
/// minutes for clocks that disagree between nodes.
const NONCE_RETENTION_SECS: i64 = 2 * WINDOW_SECS + 300;

/// A machine or token whose request verified.
#[derive(Debug, Clone)]
pub struct RuntimeCaller {
    /// Its principal, for the decision function.
    pub principal: Principal,
    /// Its name, for answers.
    pub name: String,
}

/// How a request claims a runtime identity.
enum Claim {
    Signed(Result<Credentials, Error>),
    Token(Token),
    /// A token an AppRole login handed a machine.
    MachineLogin(Token),
}

/// A bearer credential of the runtime plane, by its prefix.
fn bearer_claim(token: &str) -> Option<Claim> {
    if token.starts_with(MACHINE_LOGIN_PREFIX) {
        Some(Claim::MachineLogin(Token::from_presented(token.to_owned())))
    } else if token.starts_with(ACCESS_TOKEN_PREFIX) {
        Some(Claim::Token(Token::from_presented(token.to_owned())))
    } else {
        None
    }
}

fn claim(request: &Request) -> Option<Claim> {
    // Vault's clients send the token in X-Vault-Token, on the KV routes only.
    if request.uri().path().starts_with("/v1/")
        && let Some(token) = request
            .headers()
            .get("x-vault-token")
            .and_then(|v| v.to_str().ok())
    {
        return bearer_claim(token.trim());
    }
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    if let Some(signed) = Credentials::parse(value) {
        return Some(Claim::Signed(signed));
    }
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    bearer_claim(token.trim())
}

/// The address the request came from (see [`crate::client_ip`]).
pub fn peer_ip(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    match extensions.get::<crate::client_ip::ClientIp>() {
        Some(resolved) => resolved.0,
        None => extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|axum::extract::ConnectInfo(addr)| network::canonical(addr.ip())),
    }
}

fn refused(message: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

/// A refused runtime request, with whom it claimed to be once that was known (a machine
/// or token of some vault), so the refusal can go in that vault's audit log.
struct Refusal {
    error: Error,
    claimed: Option<(VaultId, AuditActor)>,
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Self {
            error,
            claimed: None,
        }
    }
}

/// Who a refused request claimed to be: `kind` is the machine or token itself once its
/// credential was shown to be genuine, `external` before.
fn claimant(
    vault: &VaultId,
    kind: ActorKind,
    id: &str,
    name: &str,
) -> impl Fn(Error) -> Refusal + use<> {
    let claimed = (
        vault.clone(),
        AuditActor {
            kind,
            id: id.to_owned(),
            name: name.to_owned(),
        },
    );
    move |error| Refusal {
        error,
        claimed: Some(claimed.clone()),
    }
}

/// Records a refused runtime request in the vault it claimed, after the answer (so a
/// known credential is refused no slower than an unknown one).
fn record_refusal(state: &AppState, request: &RequestSummary, refusal: &Refusal) {
    let Some((vault, actor)) = refusal.claimed.clone() else {
        return;
    };
    let entry = AuditEntry {
        vault: vault.to_string(),
        actor,
        action: "runtime.authenticate".to_owned(),
        target: request.path.clone(),
        outcome: Outcome::of_failure(refusal.error.code()),
        severity: Severity::Warning,
        origin: request.origin.clone(),
        detail: refusal.error.message().to_owned(),
    };
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.record_audit(entry).await {
            tracing::error!(error = %e, "a refused machine or token request could not be recorded");
        }
    });
}

/// What the audit entry of a refused request needs, taken before the request is used up.
struct RequestSummary {
    path: String,
    origin: strongroom_store::Origin,
}

/// The middleware: requests without a signature pass through untouched.
pub async fn authenticate_runtime(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(claimed) = claim(&request) else {
        return next.run(request).await;
    };
    let summary = RequestSummary {
        path: request.uri().path().to_owned(),
        origin: crate::extract::ClientMeta::of(request.headers(), request.extensions()).origin(),
    };
    let verified = match claimed {
        Claim::Signed(parsed) => verify(&state, parsed, request).await,
        Claim::Token(token) => verify_token(&state, &token, request).await,
        Claim::MachineLogin(token) => verify_machine_login(&state, &token, request).await,
    };
    let request = match verified {
        Ok(request) => request,
        Err(refusal) => {
            record_refusal(&state, &summary, &refusal);
            if summary.path.starts_with("/v1/") {
                return crate::kv::refusal(refusal.error);
            }
            return ApiError(refusal.error).into_response();
        }
    };
    next.run(request).await
}

/// Refuses a request from outside the vault's IP allowlist.
async fn admitted(state: &AppState, vault: &VaultId, ip: Option<IpAddr>) -> Result<(), Error> {
    if state.store.admits(vault, ip).await? {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::PermissionDenied,
            format!("permission denied: {OUTSIDE_ALLOWLIST}"),
        ))
    }
}

/// What a machine's or token's policies say, judged for this request.
async fn with_policies(
    state: &AppState,
    any: bool,
    subject: &str,
    access: strongroom_core::runtime::RuntimeAccess,
    ip: Option<IpAddr>,
) -> Result<std::sync::Arc<strongroom_core::runtime::RuntimeAccess>, Error> {
    if !any {
        return Ok(std::sync::Arc::new(access));
    }
    let policies = state.store.runtime_policies(subject).await?;
    Ok(std::sync::Arc::new(access.with_policies(
        policies,
        ip,
        strongroom_store::now_ms(),
    )))
}

async fn verify_token(
    state: &AppState,
    token: &Token,
    mut request: Request,
) -> Result<Request, Refusal> {
    let found = state
        .store
        .token_credentials(&token.hash())
        .await?
        .ok_or_else(|| {
            refused("this token is not recognized: check STRONGROOM_TOKEN, or ask for a new one")
        })?;
    let as_token = claimant(
        &found.vault_id,
        ActorKind::from(found.kind),
        found.id.as_str(),
        &found.name,
    );
    if found.revoked {
        return Err(as_token(refused(
            "this token was revoked; ask for a new one",
        )));
    }
    if found.vault_deleted {
        return Err(as_token(refused(
            "this organization has been deleted; its owner can restore it within 30 days",
        )));
    }
    if found
        .expires_at
        .is_some_and(|at| at <= strongroom_store::now_ms())
    {
        return Err(as_token(refused(
            "this token has expired; ask for a new one",
        )));
    }
    if !found.cidrs.is_empty() {
        let admitted =
            peer_ip(request.extensions()).is_some_and(|ip| network::any_contains(&found.cidrs, ip));
        if !admitted {
            return Err(as_token(Error::new(
                ErrorCode::PermissionDenied,
                format!(
                    "permission denied: this token may be used only from {}",
                    network::format_list(&found.cidrs)
                ),
            )));
        }
    }
    let ip = peer_ip(request.extensions());
    if found.vault_has_allowlist {
        admitted(state, &found.vault_id, ip)
            .await
            .map_err(&as_token)?;
    }
    let access = with_policies(
        state,
        found.has_policies,
        found.id.as_str(),
        found.access,
        ip,
    )
    .await
    .map_err(&as_token)?;
    request.extensions_mut().insert(RuntimeCaller {
        principal: Principal::Token(RuntimeToken {
            id: found.id,
            kind: found.kind,
            vault_id: found.vault_id,
            access,
        }),
        name: found.name,
    });
    Ok(request)
}

async fn verify(
    state: &AppState,
    parsed: Result<Credentials, Error>,
    request: Request,
) -> Result<Request, Refusal> {
    let creds = parsed?;
    let unknown = || {
        refused(
            "the request's signature does not verify against a machine registered in the vault \
             it names: check STRONGROOM_VAULT and that this key was registered there \
             (`strongroom machines register`)",
        )
    };
    let (parts, body) = request.into_parts();
    let vault: VaultId = creds.vault.parse().map_err(|_| unknown())?;
    let found = state
        .store
        .machine_credentials(&vault, &creds.key)
        .await?
        .ok_or_else(unknown)?;
    // Until the signature verifies, whoever sent it only claims to be the machine.
    let claiming = claimant(
        &vault,
        ActorKind::External,
        found.id.as_str(),
        found.name.as_str(),
    );
    let key = MachinePublicKey::from_bytes(&found.public_key)?;
    let signed = creds.signed_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
    );
    if !key.verify(&signed.canonical(), &creds.signature) {
        return Err(claiming(unknown()));
    }
    // The signature covers the digest, so the body is read only for a verified machine.
    let max = state.settings.max_body_bytes;
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        claiming(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {max} bytes"),
        ))
    })?;
    if body_digest(&bytes) != creds.digest {
        return Err(claiming(refused(
            "the request body does not match the digest the machine signed",
        )));
    }
    let now_ms = strongroom_store::now_ms();
    if (now_ms / 1000).abs_diff(creds.timestamp) > WINDOW_SECS.unsigned_abs() {
        return Err(claiming(refused(&format!(
            "the request's timestamp is more than {WINDOW_SECS} seconds from the server's \
             clock: set the machine's clock right (NTP) and sign a fresh request"
        ))));
    }
    // Kept well past the window, so a node whose clock runs behind another's still finds
    // a nonce the other has seen.
    let keep_until = (creds.timestamp + NONCE_RETENTION_SECS) * 1000;
    if !state
        .store
        .take_nonce(&found.id, &creds.nonce, keep_until)
        .await?
    {
        return Err(claiming(refused(
            "this signed request was already used (its nonce was seen before); sign each \
             request afresh",
        )));
    }
    // A fresh request signed by the machine's key: the machine itself is asking.
    let ip = peer_ip(&parts.extensions);
    let caller = admit_machine(
        state,
        MachineStanding {
            id: found.id,
            name: found.name.to_string(),
            vault,
            active: found.status == "active",
            expires_at: found.expires_at,
            vault_deleted: found.vault_deleted,
            vault_has_allowlist: found.vault_has_allowlist,
            has_policies: found.has_policies,
        },
        ip,
    )
    .await?;
    let mut parts = parts;
    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// What admitting a machine checks once its credential (signature or login token)
/// proved the machine itself is asking.
struct MachineStanding {
    id: strongroom_core::ids::MachineId,
    name: String,
    vault: VaultId,
    active: bool,
    expires_at: Option<i64>,
    vault_deleted: bool,
    vault_has_allowlist: bool,
    has_policies: bool,
}

/// The machine's standing, its vault's allowlist and its policies, then its access.
async fn admit_machine(
    state: &AppState,
    machine: MachineStanding,
    ip: Option<IpAddr>,
) -> Result<RuntimeCaller, Refusal> {
    let as_machine = claimant(
        &machine.vault,
        ActorKind::Machine,
        machine.id.as_str(),
        &machine.name,
    );
    if machine.vault_deleted {
        return Err(as_machine(refused(
            "this organization has been deleted; its owner can restore it within 30 days",
        )));
    }
    if !machine.active {
        return Err(as_machine(refused(
            "this machine is disabled; a member with the Machines capability can enable it \
             (`strongroom machines enable`)",
        )));
    }
    if machine
        .expires_at
        .is_some_and(|at| at <= strongroom_store::now_ms())
    {
        return Err(as_machine(refused(
            "this machine's registration has expired; register its key again",
        )));
    }
    if machine.vault_has_allowlist {
        admitted(state, &machine.vault, ip)
            .await
            .map_err(&as_machine)?;
    }
    let access = state.store.machine_runtime_access(&machine.id).await?;
    let access = with_policies(state, machine.has_policies, machine.id.as_str(), access, ip)
        .await
        .map_err(&as_machine)?;
    Ok(RuntimeCaller {
        principal: Principal::Machine(Machine {
            id: machine.id,
            vault_id: machine.vault,
            access,
        }),
        name: machine.name,
    })
}

/// A machine acting through the token an AppRole login gave it: the same checks as a
/// signed request once the signature verified, then the machine's own access.
async fn verify_machine_login(
    state: &AppState,
    token: &Token,
    mut request: Request,
) -> Result<Request, Refusal> {
    let found = state
        .store
        .machine_login_credentials(&token.hash())
        .await?
        .ok_or_else(|| {
            refused("this login token is not recognized: log in again (auth/approle/login)")
        })?;
    let as_machine = claimant(
        &found.vault_id,
        ActorKind::Machine,
        found.machine_id.as_str(),
        found.machine_name.as_str(),
    );
    if found.revoked {
        return Err(as_machine(refused(
            "this login token, or the secret id it came from, was revoked; log in again",
        )));
    }
    if found.expires_at <= strongroom_store::now_ms() {
        return Err(as_machine(refused(
            "this login token has expired; log in again",
        )));
    }
    let ip = peer_ip(request.extensions());
    let caller = admit_machine(
        state,
        MachineStanding {
            id: found.machine_id,
            name: found.machine_name.to_string(),
            vault: found.vault_id,
            active: found.machine_status == "active",
            expires_at: found.machine_expires_at,
            vault_deleted: found.vault_deleted,
            vault_has_allowlist: found.vault_has_allowlist,
            has_policies: found.has_policies,
        },
        ip,
    )
    .await?;
    request.extensions_mut().insert(caller);
    Ok(request)
}
