//! Vault roles and their rows of the management matrix.

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;
use axum::extract::State;
use strongroom_core::Error;
use strongroom_core::authz::{Action, VaultRole};
use strongroom_core::capability::Capability;
use strongroom_proto::{ErrorBody, List, RoleInfo};

/// The wire form of a built-in role (also what `strongroom roles show` prints offline).
pub fn built_in(role: VaultRole) -> RoleInfo {
    RoleInfo {
        name: role.to_string(),
        kind: "built_in".into(),
        assignable: role != VaultRole::Owner,
        summary: role.summary().into(),
        capabilities: role
            .capabilities()
            .iter()
            .map(|c| Capability::as_str(c).to_owned())
            .collect(),
    }
}

/// The vault roles, most senior first, with the cells each holds.
#[utoipa::path(get, path = "/roles", tag = "members", security(("bearer" = [])),
    responses((status = 200, body = List<RoleInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_roles(
    State(_state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<RoleInfo>>, ApiError> {
    caller.in_vault(Action::ViewRoles)?;
    Ok(ApiJson(List {
        items: VaultRole::ALL.into_iter().map(built_in).collect(),
        next_cursor: None,
    }))
}

/// One vault role and the cells it holds.
#[utoipa::path(get, path = "/roles/{name}", tag = "members", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses((status = 200, body = RoleInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_role(
    State(_state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<RoleInfo>, ApiError> {
    caller.in_vault(Action::ViewRoles)?;
    let role: VaultRole = name
        .parse()
        .map_err(|_| Error::not_found(&format!("role '{name}'")))?;
    Ok(ApiJson(built_in(role)))
}
