//! Authenticates signed machine requests before any handler runs. The body is read once
//! to check its digest, then handed on unchanged. A verified machine rides in the
//! request's extensions as a [`MachineCaller`]; handlers meet it only through the
//! [`crate::extract::Requester`] extractor and the core's decision. Every refusal is a
//! 401 whose message says what to fix; none says whether a key is registered elsewhere.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use strongroom_core::authz::{Machine, Principal};
use strongroom_core::ids::VaultId;
use strongroom_core::names::MachineName;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::machine_key::MachinePublicKey;
use strongroom_crypto::request_signing::{Credentials, WINDOW_SECS, body_digest};

/// A machine whose request verified.
#[derive(Debug, Clone)]
pub struct MachineCaller {
    /// Its principal, for the decision function.
    pub principal: Principal,
    /// Its name, for answers.
    pub name: MachineName,
}

fn refused(message: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

/// The middleware: requests without a signature pass through untouched.
pub async fn authenticate_machines(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let parsed = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(Credentials::parse);
    let Some(parsed) = parsed else {
        return next.run(request).await;
    };
    match verify(&state, parsed, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => ApiError(e).into_response(),
    }
}

async fn verify(
    state: &AppState,
    parsed: Result<Credentials, Error>,
    request: Request,
) -> Result<Request, Error> {
    let creds = parsed?;
    let unknown = || {
        refused(
            "the request's signature does not verify against a machine registered in the vault \
             it names: check STRONGROOM_VAULT and that this key was registered there \
             (`strongroom machines register`)",
        )
    };
    let (mut parts, body) = request.into_parts();
    let max = state.settings.max_body_bytes;
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {max} bytes"),
        )
    })?;
    let vault: VaultId = creds.vault.parse().map_err(|_| unknown())?;
    let found = state
        .store
        .machine_credentials(&vault, &creds.key)
        .await?
        .ok_or_else(unknown)?;
    let key = MachinePublicKey::from_bytes(&found.public_key)?;
    let signed = creds.signed_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
    );
    if !key.verify(&signed.canonical(), &creds.signature) {
        return Err(unknown());
    }
    if body_digest(&bytes) != creds.digest {
        return Err(refused(
            "the request body does not match the digest the machine signed",
        ));
    }
    let now_ms = strongroom_store::now_ms();
    if (now_ms / 1000 - creds.timestamp).abs() > WINDOW_SECS {
        return Err(refused(&format!(
            "the request's timestamp is more than {WINDOW_SECS} seconds from the server's \
             clock: set the machine's clock right (NTP) and sign a fresh request"
        )));
    }
    if found.vault_deleted {
        return Err(refused(
            "this organization has been deleted; its owner can restore it within 30 days",
        ));
    }
    if found.status != "active" {
        return Err(refused(
            "this machine is disabled; a member with the Machines capability can enable it \
             (`strongroom machines enable`)",
        ));
    }
    if found.expires_at.is_some_and(|at| at <= now_ms) {
        return Err(refused(
            "this machine's registration has expired; register its key again",
        ));
    }
    let keep_until = (creds.timestamp + WINDOW_SECS + 1) * 1000;
    if !state
        .store
        .take_nonce(&found.id, &creds.nonce, keep_until)
        .await?
    {
        return Err(refused(
            "this signed request was already used (its nonce was seen before); sign each \
             request afresh",
        ));
    }
    let access = state.store.machine_runtime_access(&found.id).await?;
    parts.extensions.insert(MachineCaller {
        principal: Principal::Machine(Machine {
            id: found.id,
            vault_id: vault,
            access,
        }),
        name: found.name,
    });
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
