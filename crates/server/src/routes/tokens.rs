//! Agent and CI tokens: created by members who hold the kind's cell (AI agents for agent
//! tokens, Integrations for CI tokens) and every verb on the whole scope; shown once.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::access::{Verb, Verbs};
use strongroom_core::authz::{Action, TokenKind};
use strongroom_core::names::{EnvironmentPath, ProjectPath, TokenName};
use strongroom_core::network::CidrRange;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{CreateTokenRequest, ErrorBody, List, Sensitive, TokenCreated, TokenInfo};
use strongroom_store::TokenScope;

const HOUR_MS: i64 = 60 * 60 * 1000;

fn scope(text: &str) -> Result<TokenScope, ApiError> {
    match text.split('/').count() {
        2 => Ok((text.parse::<ProjectPath>()?, None)),
        3 => {
            let env: EnvironmentPath = text.parse()?;
            Ok((env.project, Some(env.environment)))
        }
        _ => Err(Error::new(
            ErrorCode::InvalidValue,
            format!("scope {text:?} must be APP/PROJECT or APP/PROJECT/ENV"),
        )
        .into()),
    }
}

/// Creates an agent or CI token; its secret is in this answer only.
#[utoipa::path(post, path = "/tokens", tag = "tokens", security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses((status = 201, body = TokenCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, ApiJson<TokenCreated>), ApiError> {
    let authz = caller.in_vault(Action::ManageTokens)?;
    let name: TokenName = body.name.parse()?;
    let kind: TokenKind = body.kind.parse()?;
    let scopes = body
        .scopes
        .iter()
        .map(|s| scope(s))
        .collect::<Result<Vec<_>, _>>()?;
    let verbs = Verbs::parse(&body.verbs)?.with(Verb::Read);
    let cidrs = body
        .cidrs
        .iter()
        .map(|c| c.parse::<CidrRange>())
        .collect::<Result<Vec<_>, _>>()?;
    let expires_at = body
        .expires_in_hours
        .map(|hours| strongroom_store::now_ms().saturating_add(i64::from(hours) * HOUR_MS));
    let (record, secret) = state
        .store
        .create_token(
            &authz,
            &name,
            kind,
            &scopes,
            verbs,
            expires_at,
            &cidrs,
            &meta.origin(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(TokenCreated {
            token: convert::token(&record),
            secret: Sensitive::new(secret.expose()),
        }),
    ))
}

/// The vault's live tokens of the kinds the caller manages.
#[utoipa::path(get, path = "/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, body = List<TokenInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<TokenInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ManageTokens)?;
    let tokens = state.store.tokens(&authz).await?;
    Ok(ApiJson(List {
        items: tokens.iter().map(convert::token).collect(),
        next_cursor: None,
    }))
}

/// Revokes a token by name or id: its next request is refused, on every node.
#[utoipa::path(delete, path = "/tokens/{token}", tag = "tokens", security(("bearer" = [])),
    params(("token" = String, Path, description = "Token name or id")),
    responses((status = 200, body = TokenInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(token): ApiPath<String>,
) -> Result<ApiJson<TokenInfo>, ApiError> {
    let authz = caller.in_vault(Action::ManageTokens)?;
    let record = state
        .store
        .revoke_token(&authz, &token, &meta.origin())
        .await?;
    Ok(ApiJson(convert::token(&record)))
}
