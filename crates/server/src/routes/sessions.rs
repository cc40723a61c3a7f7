//! One's own sessions: list them, revoke one.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, Caller, ListParams};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::Error;
use strongroom_core::ids::SessionId;
use strongroom_proto::{ErrorBody, List, SessionInfo};

/// The caller's live sessions, newest first; `current` marks this one.
#[utoipa::path(get, path = "/auth/sessions", tag = "auth", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = List<SessionInfo>), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<axum::Json<List<SessionInfo>>, ApiError> {
    let authz = caller.own_account()?;
    let page = state
        .store
        .own_sessions(&authz, &params.page("sessions")?)
        .await?;
    let current = caller.session.id.as_str();
    Ok(axum::Json(convert::list(page, "sessions", |s| {
        convert::session(s, current)
    })))
}

/// Ends one of the caller's sessions (this one included). Takes effect on its next request.
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id, `sess_…`")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.own_account()?;
    let id: SessionId = id.parse().map_err(|_| Error::not_found("session"))?;
    if state.store.revoke_own_session(&authz, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::not_found("session").into())
    }
}
