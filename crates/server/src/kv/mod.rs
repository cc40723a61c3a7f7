//! Vault/OpenBao KV v2 compatibility under `/v1/`: the `bao`/`vault` CLI, vault-agent,
//! hvac, vaultrs, External Secrets Operator and CI actions work unchanged but for the
//! address and the token. Each vault exposes one KV v2 mount, `secret`, whose keys are
//! Strongroom paths (`secret/data/APP/PROJECT/ENV/NAME`). This module only translates
//! the wire: every call is decided by the core's decision function, served by the same
//! store methods and recorded by the same audit layer as the native API.

mod auth;
mod secrets;
mod sys;
mod wire;

use crate::extract::{Caller, ClientMeta, Requester};
use crate::runtime_auth::RuntimeCaller;
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use std::collections::HashMap;
use strongroom_core::authz::Principal;
use strongroom_core::ids::VaultId;
use strongroom_core::kv::{MOUNT, namespace_segments};
use strongroom_core::{Error, ErrorCode};
use wire::KvResponse;

/// The KV routes. They sit beside the native API, under the same middleware.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/{*path}", any(handle))
}

/// A refused credential on a KV route, as Vault answers one (the runtime layer refuses
/// unknown, revoked and expired tokens before any route runs).
pub fn refusal(error: Error) -> Response {
    wire::denied(error).into_response("runtime.authenticate", "")
}

/// The operation a request asks for: Vault's `LIST` (the verb, or `GET ?list=true`) is
/// an operation of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    List,
    Write,
    Patch,
    Delete,
    Head,
}

/// A KV request, parsed.
pub struct KvRequest {
    pub op: Op,
    /// The path below the namespace, split on `/` (no empty segments).
    pub segments: Vec<String>,
    /// Namespace segments written in the path itself (`/v1/acme/secret/...`).
    pub path_namespace: Vec<String>,
    pub query: HashMap<String, String>,
    pub body: Bytes,
    pub content_type: Option<String>,
    pub meta: ClientMeta,
    /// The token as presented, for `lookup-self` and `revoke-self`.
    pub token: Option<strongroom_crypto::token::Token>,
}

impl KvRequest {
    /// The body as JSON (empty is an empty object), or Vault's error.
    pub fn json(&self) -> Result<serde_json::Map<String, serde_json::Value>, KvResponse> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Map::new());
        }
        match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(_) => Err(KvResponse::errors(
                StatusCode::BAD_REQUEST,
                &["failed to decode JSON input: the body must be a JSON object"],
            )
            .failing(Error::new(
                ErrorCode::InvalidRequest,
                "body is not a JSON object",
            ))),
            Err(e) => {
                let message = format!(
                    "failed to decode JSON input: malformed JSON at line {} column {}",
                    e.line(),
                    e.column()
                );
                Err(KvResponse::errors(StatusCode::BAD_REQUEST, &[&message])
                    .failing(Error::new(ErrorCode::InvalidRequest, message.clone())))
            }
        }
    }
}

/// Who is calling, once their token checked out.
pub struct Identity {
    pub requester: Requester,
    /// The member's session, when a member is calling.
    pub session: Option<Caller>,
    /// The machine's or token's name, when one is calling.
    pub runtime_name: Option<String>,
}

impl Identity {
    /// The decision function's answer for `action` in the caller's vault.
    pub fn decide(
        &self,
        action: strongroom_core::authz::Action,
    ) -> Result<strongroom_core::authz::Authorized, Error> {
        self.requester.in_vault(action).map_err(|e| e.0)
    }

    pub fn vault(&self) -> &VaultId {
        match &self.requester.principal {
            Principal::Member(m) => &m.vault_id,
            Principal::Machine(m) => &m.vault_id,
            Principal::Token(t) => &t.vault_id,
        }
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(&v.replace('+', " "))?))
        })
        .collect()
}

/// Vault's `ParseBool`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn op_of(method: &Method, query: &HashMap<String, String>) -> Result<Op, KvResponse> {
    Ok(match method.as_str() {
        "LIST" => Op::List,
        "GET" => match query.get("list").map(|v| parse_bool(v)) {
            None | Some(Some(false)) => Op::Read,
            Some(Some(true)) => Op::List,
            Some(None) => {
                return Err(KvResponse::errors(
                    StatusCode::BAD_REQUEST,
                    &["error parsing the list parameter: not a boolean"],
                ));
            }
        },
        "HEAD" => Op::Head,
        "POST" | "PUT" => Op::Write,
        "PATCH" => Op::Patch,
        "DELETE" => Op::Delete,
        _ => return Err(KvResponse::errors(StatusCode::METHOD_NOT_ALLOWED, &[])),
    })
}

/// The token a request carries: `X-Vault-Token`, else `Authorization: Bearer`.
fn presented_token(parts: &Parts) -> Option<strongroom_crypto::token::Token> {
    use strongroom_crypto::token::Token;
    if let Some(v) = parts.headers.get("x-vault-token") {
        return v
            .to_str()
            .ok()
            .map(|s| Token::from_presented(s.trim().to_owned()));
    }
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| Token::from_presented(token.trim().to_owned()))
}

/// Authenticates the caller: a machine or token the runtime layer verified, or a
/// member's session token.
async fn identify(state: &AppState, parts: &mut Parts) -> Result<Identity, Error> {
    if let Some(runtime) = parts.extensions.get::<RuntimeCaller>() {
        return Ok(Identity {
            requester: Requester {
                principal: runtime.principal.clone(),
                machine: None,
            },
            session: None,
            runtime_name: Some(runtime.name.clone()),
        });
    }
    let caller = Caller::from_request_parts(parts, state)
        .await
        .map_err(|e| e.0)?;
    Ok(Identity {
        requester: Requester {
            principal: caller.principal.clone(),
            machine: None,
        },
        session: Some(caller),
        runtime_name: None,
    })
}

/// Checks that the namespace (header and path prefix together) names the caller's own
/// vault, by id or by name. Anything else is refused exactly as a path without access.
async fn check_namespace(
    state: &AppState,
    identity: &Identity,
    namespace: &[String],
) -> Result<(), Error> {
    namespace_names(state, identity.vault(), namespace).await
}

/// Whether `namespace` is empty or names `vault` by id or by name.
async fn namespace_names(
    state: &AppState,
    vault: &VaultId,
    namespace: &[String],
) -> Result<(), Error> {
    let refused = || {
        Error::new(
            ErrorCode::PermissionDenied,
            "permission denied: the namespace does not name the vault this token belongs to",
        )
    };
    match namespace {
        [] => Ok(()),
        [one] if one == vault.as_str() => Ok(()),
        [one] => match state.store.own_vault_name(vault).await? {
            Some(name) if &name == one => Ok(()),
            _ => Err(refused()),
        },
        _ => Err(refused()),
    }
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let meta = ClientMeta::of(&parts.headers, &parts.extensions);
    let query = parse_query(parts.uri.query());
    let op = match op_of(&parts.method, &query) {
        Ok(op) => op,
        Err(answer) => return answer.into_response("kv.request", ""),
    };
    let raw = parts.uri.path().strip_prefix("/v1/").unwrap_or("");
    let Some(mut segments) = raw
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()
    else {
        return KvResponse::errors(StatusCode::BAD_REQUEST, &["invalid path encoding"])
            .into_response("kv.request", "");
    };
    let mut path_namespace = Vec::new();
    while segments.len() > 1 && !matches!(segments[0].as_str(), "sys" | "auth" | MOUNT) {
        path_namespace.push(segments.remove(0));
    }
    let mut namespace = parts
        .headers
        .get("x-vault-namespace")
        .and_then(|v| v.to_str().ok())
        .map(namespace_segments)
        .unwrap_or_default();
    namespace.extend(path_namespace.iter().cloned());
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let token = presented_token(&parts);
    let max = state.settings.max_body_bytes;
    let body = match axum::body::to_bytes(body, max).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return KvResponse::errors(StatusCode::PAYLOAD_TOO_LARGE, &["request body too large"])
                .into_response("kv.request", "");
        }
    };
    let request = KvRequest {
        op,
        segments,
        path_namespace,
        query,
        body,
        content_type,
        meta,
        token,
    };
    // The unauthenticated status endpoints answer anyone.
    if let Some(answer) = sys::unauthenticated(&request) {
        return answer;
    }
    if request.segments.first().map(String::as_str) == Some("auth")
        && let Some(answer) = auth::login(&state, &request, &namespace).await
    {
        return answer;
    }
    let identity = match identify(&state, &mut parts).await {
        Ok(identity) => identity,
        Err(e) => return wire::denied(e).into_response("kv.authenticate", ""),
    };
    if let Err(e) = check_namespace(&state, &identity, &namespace).await {
        return wire::from_error(e).into_response("kv.namespace", &namespace.join("/"));
    }
    match request.segments.first().map(String::as_str) {
        Some(MOUNT) => secrets::handle(&state, &identity, &request).await,
        Some("sys") => sys::authenticated(&state, &identity, &namespace, &request).await,
        Some("auth") => auth::token(&state, &identity, &request).await,
        _ => wire::denied(Error::new(
            ErrorCode::PermissionDenied,
            "permission denied: no such mount (Strongroom's KV v2 mount is 'secret')",
        ))
        .into_response("kv.request", &request.segments.join("/")),
    }
}
