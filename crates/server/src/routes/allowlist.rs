//! A vault's IP allowlist, managed by members with the IP allowlist cell. A change that
//! would shut out the member making it is refused.

use crate::convert::ts;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use strongroom_core::authz::Action;
use strongroom_core::network::CidrRange;
use strongroom_proto::{AllowRangeRequest, AllowlistRange, ErrorBody, List};
use utoipa::IntoParams;

/// The vault's allowlist (empty: every address is admitted).
#[utoipa::path(get, path = "/ip-allowlist", tag = "allowlist", security(("bearer" = [])),
    responses((status = 200, body = List<AllowlistRange>), (status = 403, body = ErrorBody)))]
pub async fn list_allowlist(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<AllowlistRange>>, ApiError> {
    let authz = caller.in_vault(Action::ManageIpAllowlist)?;
    let entries = state.store.allowlist(&authz).await?;
    Ok(ApiJson(List {
        items: entries
            .into_iter()
            .map(|e| AllowlistRange {
                cidr: e.cidr.to_string(),
                note: e.note,
                added_by: e.added_by,
                created_at: ts(e.created_at),
            })
            .collect(),
        next_cursor: None,
    }))
}

/// Adds a range. Refused (`409 conflict`) if the caller's own address would then be
/// outside the list.
#[utoipa::path(post, path = "/ip-allowlist", tag = "allowlist", security(("bearer" = [])),
    request_body = AllowRangeRequest,
    responses((status = 204, description = "Added"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn allow_range(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<AllowRangeRequest>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageIpAllowlist)?;
    let range: CidrRange = body.cidr.parse()?;
    state
        .store
        .allow_range(&authz, range, &body.note, meta.addr, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?cidr=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// The range to remove, as listed.
    pub cidr: String,
}

/// Removes a range. Refused (`409 conflict`) if the caller's own address would then be
/// outside the list.
#[utoipa::path(delete, path = "/ip-allowlist", tag = "allowlist", security(("bearer" = [])),
    params(RangeParams),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn disallow_range(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiQuery(params): ApiQuery<RangeParams>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageIpAllowlist)?;
    let range: CidrRange = params.cidr.parse()?;
    state
        .store
        .disallow_range(&authz, range, meta.addr, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
