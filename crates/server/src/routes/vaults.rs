//! The vaults a user belongs to.

use crate::convert;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;
use axum::extract::State;
use strongroom_proto::{ErrorBody, List, VaultInfo};

/// Every vault the caller belongs to (the personal vault first), with their role there.
#[utoipa::path(get, path = "/vaults", tag = "vaults", security(("bearer" = [])),
    responses((status = 200, body = List<VaultInfo>), (status = 401, body = ErrorBody)))]
pub async fn list_vaults(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<List<VaultInfo>>, ApiError> {
    let authz = caller.own_account()?;
    let vaults = state.store.own_vaults(&authz).await?;
    Ok(axum::Json(List {
        items: vaults.iter().map(convert::vault).collect(),
        next_cursor: None,
    }))
}
