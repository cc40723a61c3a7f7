//! `POST /use`: the broker. The caller names a secret and the call to make; the server
//! checks the destination the secret declares, records the use, makes the call with the
//! value injected and answers with the value scrubbed. Agents use secrets only this way.

use crate::broker::{self, Call};
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta, Requester};
use crate::state::AppState;
use axum::extract::State;
use strongroom_core::authz::Action;
use strongroom_core::names::SecretPath;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{ErrorBody, UseRequest, UseResponse};

/// Calls a secret's declared destination with its value injected; answers with the
/// value scrubbed. Needs `use` on the secret; a host other than the declared one, and a
/// destination resolving to a private address (unless the operator allows it), are
/// refused. Every use is audited.
#[utoipa::path(post, path = "/use", tag = "secrets", security(("bearer" = []), ("machine" = [])),
    request_body = UseRequest,
    responses((status = 200, body = UseResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn use_secret(
    State(state): State<AppState>,
    requester: Requester,
    meta: ClientMeta,
    ApiJson(body): ApiJson<UseRequest>,
) -> Result<ApiJson<UseResponse>, ApiError> {
    let read = requester.in_vault(Action::ReadSecretMetadata)?;
    let authz = requester.in_vault(Action::UseSecret)?;
    let path: SecretPath = match (&body.secret, &body.host) {
        (Some(secret), _) => secret.parse()?,
        (None, Some(host)) => {
            let mut found = state.store.secrets_declaring(&authz, host).await?;
            match found.len() {
                1 => found.remove(0),
                0 => {
                    return Err(Error::not_found(&format!(
                        "a secret you may use that declares host {host}"
                    ))
                    .into());
                }
                n => {
                    return Err(Error::new(
                        ErrorCode::Conflict,
                        format!("{n} secrets you may use declare host {host}: name one"),
                    )
                    .into());
                }
            }
        }
        (None, None) => {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "name the secret to use, or the host to call",
            )
            .into());
        }
    };
    let call = Call::check(&body)?;
    let declaration = state
        .store
        .secret_meta(&read, &path)
        .await?
        .use_declaration
        .ok_or_else(|| strongroom_core::broker::undeclared(&path))?;
    // Whether the caller may use it at all is settled before anything goes out.
    authz.permit_path(strongroom_core::access::Verb::Use, &path)?;
    let target = path.to_string();
    if let Some(host) = &body.host
        && !declaration.matches_host(host)
    {
        return Err(Error::new(
            ErrorCode::PermissionDenied,
            format!(
                "permission denied: '{path}' may be used only with {}, not {host}",
                declaration.destination()
            ),
        )
        .recorded_as_refusal("secret.use", &target)
        .into());
    }
    let address = broker::resolve(&declaration, state.broker_allow_private)
        .await
        .map_err(|e| match e.code() {
            ErrorCode::PermissionDenied => e.recorded_as_refusal("secret.use", &target),
            _ => e,
        })?;
    let (revealed, declaration) = state
        .store
        .use_secret(
            &authz,
            &path,
            &declaration,
            call.summary(&declaration),
            &meta.origin(),
        )
        .await?;
    let answer = broker::call(&declaration, address, revealed.value.expose(), call).await?;
    Ok(ApiJson(answer))
}
