//! `auth/token/*-self` for the token a request carries: lookup (what hvac, ESO, the CLI
//! and vault-agent check a token with), renew (Strongroom tokens keep their expiry, so
//! a renewal reports what is left) and revoke.

use super::wire::{self, KvResponse};
use super::{Identity, KvRequest, Op};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use strongroom_core::authz::Principal;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token::{MACHINE_LOGIN_PREFIX, Token};

/// `auth/approle/login` (POST or PUT `{"role_id", "secret_id"}`): a machine's secret id
/// for a short-lived token that acts as the machine. `None` for any other request.
pub async fn login(
    state: &AppState,
    request: &KvRequest,
    namespace: &[String],
) -> Option<Response> {
    let path: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    if !matches!(path.as_slice(), ["auth", "approle", "login"]) {
        return None;
    }
    if request.op != Op::Write {
        return Some(
            wire::from_error(Error::new(
                ErrorCode::MethodNotAllowed,
                "unsupported operation",
            ))
            .into_response("machine.approle_login", ""),
        );
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(answer) => return Some(answer.into_response("machine.approle_login", "")),
    };
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_owned()
    };
    let (role_id, secret_id) = (field("role_id"), field("secret_id"));
    let answer = if role_id.is_empty() || secret_id.is_empty() {
        Err(Error::new(
            ErrorCode::InvalidCredentials,
            "missing role_id or secret_id",
        ))
    } else {
        approle_login(state, request, namespace, &role_id, secret_id).await
    };
    Some(match answer {
        Ok(answer) => answer.into_response("machine.approle_login", ""),
        Err(e) if e.code() == ErrorCode::InvalidCredentials => {
            KvResponse::errors(StatusCode::BAD_REQUEST, &[e.message()])
                .failing(e)
                .into_response("machine.approle_login", "")
        }
        Err(e) => wire::from_error(e).into_response("machine.approle_login", ""),
    })
}

async fn approle_login(
    state: &AppState,
    request: &KvRequest,
    namespace: &[String],
    role_id: &str,
    secret_id: String,
) -> Result<KvResponse, Error> {
    let login = state
        .store
        .approle_login(
            role_id,
            &Token::from_presented(secret_id),
            &request.meta.origin(),
        )
        .await?;
    // A namespace, if given, must name the machine's vault; otherwise the login is
    // refused like a wrong secret (and its token is revoked at once).
    if !namespace.is_empty()
        && super::namespace_names(state, &login.vault_id, namespace)
            .await
            .is_err()
    {
        state
            .store
            .revoke_machine_login(&login.token.hash())
            .await?;
        return Err(Error::new(
            ErrorCode::InvalidCredentials,
            "invalid role or secret ID",
        ));
    }
    let policies = ["default", "machine"];
    let ttl = login.ttl_ms / 1000;
    Ok(KvResponse::auth(json!({
        "client_token": login.token.expose(),
        "accessor": login.id.to_string(),
        "policies": policies,
        "token_policies": policies,
        "metadata": {"role_name": login.machine_name.to_string()},
        "lease_duration": ttl,
        "renewable": false,
        "entity_id": login.machine_id.to_string(),
        "token_type": "service",
        "orphan": true,
        "mfa_requirement": null,
        "num_uses": 0,
    })))
}

/// What a token lookup shows of the caller's credential.
struct TokenFacts {
    accessor: String,
    display_name: String,
    policies: Vec<String>,
    created_ms: i64,
    expires_ms: Option<i64>,
}

async fn facts(
    state: &AppState,
    identity: &Identity,
    presented: &str,
) -> Result<TokenFacts, Error> {
    if let Some(caller) = &identity.session {
        return Ok(TokenFacts {
            accessor: caller.session.id.to_string(),
            display_name: format!("member-{}", caller.username),
            policies: vec!["default".to_owned(), "member".to_owned()],
            created_ms: caller.session.created_at,
            expires_ms: Some(caller.session.expires_at),
        });
    }
    let name = identity.runtime_name.clone().unwrap_or_default();
    match &identity.requester.principal {
        Principal::Token(_) => {
            let found = state
                .store
                .token_credentials(&Token::from_presented(presented.to_owned()).hash())
                .await?
                .ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "token not recognized"))?;
            Ok(TokenFacts {
                accessor: found.id.to_string(),
                display_name: format!("token-{name}"),
                policies: vec!["default".to_owned(), found.kind.as_str().to_owned()],
                created_ms: found.created_at,
                expires_ms: found.expires_at,
            })
        }
        Principal::Machine(m) => {
            let login = state
                .store
                .machine_login_credentials(&Token::from_presented(presented.to_owned()).hash())
                .await?;
            Ok(TokenFacts {
                accessor: login
                    .as_ref()
                    .map_or_else(|| m.id.to_string(), |l| l.id.to_string()),
                display_name: format!("approle-{name}"),
                policies: vec!["default".to_owned(), "machine".to_owned()],
                created_ms: login
                    .as_ref()
                    .map_or_else(strongroom_store::now_ms, |l| l.created_at),
                expires_ms: login.map(|l| l.expires_at),
            })
        }
        Principal::Member(_) => Err(Error::internal("a member without a session")),
    }
}

fn ttl_secs(expires_ms: Option<i64>) -> i64 {
    expires_ms.map_or(0, |at| ((at - strongroom_store::now_ms()) / 1000).max(0))
}

fn lookup_data(facts: &TokenFacts, presented: &str) -> Value {
    json!({
        "accessor": facts.accessor,
        "creation_time": facts.created_ms / 1000,
        "creation_ttl": facts.expires_ms.map_or(0, |at| (at - facts.created_ms) / 1000),
        "display_name": facts.display_name,
        "entity_id": "",
        "expire_time": facts.expires_ms.map(wire::time),
        "explicit_max_ttl": 0,
        "id": presented,
        "issue_time": wire::time(facts.created_ms),
        "meta": null,
        "num_uses": 0,
        "orphan": true,
        "path": "auth/token/create",
        "policies": facts.policies,
        "renewable": false,
        "ttl": ttl_secs(facts.expires_ms),
        "type": "service",
    })
}

fn auth_block(facts: &TokenFacts, presented: &str) -> Value {
    json!({
        "client_token": presented,
        "accessor": facts.accessor,
        "policies": facts.policies,
        "token_policies": facts.policies,
        "metadata": null,
        "lease_duration": ttl_secs(facts.expires_ms),
        "renewable": false,
        "entity_id": "",
        "token_type": "service",
        "orphan": true,
        "mfa_requirement": null,
        "num_uses": 0,
    })
}

/// `auth/token/lookup-self`, `renew-self` and `revoke-self`.
pub async fn token(state: &AppState, identity: &Identity, request: &KvRequest) -> Response {
    let path: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let presented = request.token.as_ref().map_or("", Token::expose);
    let answer = match (path.as_slice(), request.op) {
        (["auth", "token", "lookup-self"], Op::Read | Op::Write) => {
            facts(state, identity, presented)
                .await
                .map(|f| KvResponse::data(lookup_data(&f, presented)))
        }
        (["auth", "token", "renew-self"], Op::Write) => facts(state, identity, presented)
            .await
            .map(|f| KvResponse::auth(auth_block(&f, presented))),
        (["auth", "token", "revoke-self"], Op::Write) => revoke(state, identity, presented)
            .await
            .map(|()| KvResponse::no_content()),
        _ => Err(Error::new(
            ErrorCode::RouteNotFound,
            "Strongroom answers auth/token/lookup-self, renew-self and revoke-self",
        )),
    };
    let action = match path.get(2) {
        Some(&"lookup-self") => "token.lookup_self",
        Some(&"renew-self") => "token.renew_self",
        Some(&"revoke-self") => "token.revoke_self",
        _ => "kv.auth",
    };
    answer
        .unwrap_or_else(wire::from_error)
        .into_response(action, &request.segments.join("/"))
}

async fn revoke(state: &AppState, identity: &Identity, presented: &str) -> Result<(), Error> {
    if let Some(caller) = &identity.session {
        let authz = caller.own_account().map_err(|e| e.0)?;
        state
            .store
            .revoke_own_session(&authz, &caller.session.id)
            .await?;
        return Ok(());
    }
    match &identity.requester.principal {
        Principal::Token(_) => {
            state
                .store
                .revoke_token_itself(&Token::from_presented(presented.to_owned()).hash())
                .await?;
            Ok(())
        }
        Principal::Machine(_) if presented.starts_with(MACHINE_LOGIN_PREFIX) => {
            state
                .store
                .revoke_machine_login(&Token::from_presented(presented.to_owned()).hash())
                .await?;
            Ok(())
        }
        _ => Err(Error::new(
            ErrorCode::PermissionDenied,
            "permission denied: a machine's signature cannot be revoked; disable the machine",
        )),
    }
}
