//! Vault roles and their rows of the management matrix: the four built-in roles, and
//! custom roles authored cell by cell on the enterprise plan.

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::authz::{Action, VaultRole};
use strongroom_core::capability::{Capabilities, Capability};
use strongroom_core::custom_role::CustomRoleSpec;
use strongroom_core::names::RoleName;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{
    CreateRoleRequest, EditRoleRequest, EffectPreview, ErrorBody, List, RoleInfo,
};
use strongroom_store::CustomRoleRecord;

fn cell_names(cells: Capabilities) -> Vec<String> {
    cells
        .iter()
        .map(|c| Capability::as_str(c).to_owned())
        .collect()
}

/// The wire form of a built-in role (also what `strongroom roles show` prints offline).
pub fn built_in(role: VaultRole) -> RoleInfo {
    RoleInfo {
        name: role.to_string(),
        kind: "built_in".into(),
        assignable: role != VaultRole::Owner,
        summary: role.summary().into(),
        capabilities: cell_names(role.capabilities()),
        members: None,
    }
}

fn custom(record: &CustomRoleRecord) -> RoleInfo {
    RoleInfo {
        name: record.name.to_string(),
        kind: "custom".into(),
        assignable: true,
        summary: if record.description.is_empty() {
            VaultRole::Custom(record.capabilities).summary().into()
        } else {
            record.description.clone()
        },
        capabilities: cell_names(record.capabilities),
        members: Some(record.members),
    }
}

/// Reads a role file of either kind (`kind` names it in the error).
pub(crate) fn role_file<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    kind: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        Error::new(
            ErrorCode::InvalidValue,
            format!("the {kind} file is not valid: {e}"),
        )
        .into()
    })
}

/// A role name from a path: one that cannot be valid is simply not found.
pub(crate) fn role_name(name: &str, kind: &str) -> Result<RoleName, ApiError> {
    name.parse()
        .map_err(|_| Error::not_found(&format!("{kind} '{name}'")).into())
}

fn spec(value: serde_json::Value) -> Result<CustomRoleSpec, ApiError> {
    role_file(value, "role")
}

const VAULT_ROLE: &str = "vault role";

fn built_in_named(name: &str) -> Option<VaultRole> {
    name.parse().ok()
}

fn refuse_built_in(name: &str) -> Result<(), ApiError> {
    match built_in_named(name) {
        Some(role) => Err(Error::new(
            ErrorCode::PermissionDenied,
            format!("permission denied: '{role}' is a built-in role and cannot be changed"),
        )
        .into()),
        None => Ok(()),
    }
}

/// The vault roles: built-in ones most senior first, then custom ones by name.
#[utoipa::path(get, path = "/roles", tag = "members", security(("bearer" = [])),
    responses((status = 200, body = List<RoleInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_roles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<RoleInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ViewRoles)?;
    let custom_roles = state.store.custom_roles(&authz).await?;
    Ok(ApiJson(List {
        items: VaultRole::ALL
            .into_iter()
            .map(built_in)
            .chain(custom_roles.iter().map(custom))
            .collect(),
        next_cursor: None,
    }))
}

/// Creates a custom vault role (enterprise plan; needs Roles: manage, and only cells you
/// hold yourself).
#[utoipa::path(post, path = "/roles", tag = "members", security(("bearer" = [])),
    request_body = CreateRoleRequest,
    responses((status = 201, body = RoleInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateRoleRequest>,
) -> Result<(StatusCode, ApiJson<RoleInfo>), ApiError> {
    let authz = caller.in_vault(Action::ManageRoles)?;
    let name: RoleName = body.name.parse()?;
    let record = state
        .store
        .create_custom_role(&authz, &name, &spec(body.spec)?, &meta.origin())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(custom(&record))))
}

/// One vault role and the cells it holds.
#[utoipa::path(get, path = "/roles/{name}", tag = "members", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses((status = 200, body = RoleInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<RoleInfo>, ApiError> {
    let authz = caller.in_vault(Action::ViewRoles)?;
    if let Some(role) = built_in_named(&name) {
        return Ok(ApiJson(built_in(role)));
    }
    let record = state
        .store
        .custom_role(&authz, &role_name(&name, VAULT_ROLE)?)
        .await?;
    Ok(ApiJson(custom(&record)))
}

/// Replaces a custom role's cells; its holders hold the new ones from their next request.
#[utoipa::path(put, path = "/roles/{name}", tag = "members", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")), request_body = EditRoleRequest,
    responses((status = 200, body = RoleInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn edit_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<EditRoleRequest>,
) -> Result<ApiJson<RoleInfo>, ApiError> {
    let authz = caller.in_vault(Action::ManageRoles)?;
    refuse_built_in(&name)?;
    let record = state
        .store
        .update_custom_role(
            &authz,
            &role_name(&name, VAULT_ROLE)?,
            &spec(body.spec)?,
            &meta.origin(),
        )
        .await?;
    Ok(ApiJson(custom(&record)))
}

/// What saving this file as the custom role would change: which cells its holders gain
/// or lose. Nothing is saved; a role that does not exist yet is compared with no cells.
#[utoipa::path(post, path = "/roles/{name}/preview", tag = "members", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")), request_body = EditRoleRequest,
    responses((status = 200, body = EffectPreview), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn preview_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<EditRoleRequest>,
) -> Result<ApiJson<EffectPreview>, ApiError> {
    // Only someone who may change the role sees what a change would do.
    caller.in_vault(Action::ManageRoles)?;
    let authz = caller.in_vault(Action::ViewRoles)?;
    refuse_built_in(&name)?;
    let name = role_name(&name, VAULT_ROLE)?;
    let after =
        Capabilities::parse_names(spec(body.spec)?.capabilities.iter().map(String::as_str))?;
    let (before, holders) = match state.store.custom_role(&authz, &name).await {
        Ok(record) => (
            record.capabilities,
            state.store.role_holders(&authz, &name, false).await?,
        ),
        Err(e) if e.code() == ErrorCode::NotFound => (Capabilities::NONE, Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let changes = strongroom_core::effect::capability_changes(before, after);
    Ok(ApiJson(crate::convert::effect(&changes, holders)))
}

/// Deletes a custom role nobody holds.
#[utoipa::path(delete, path = "/roles/{name}", tag = "members", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageRoles)?;
    refuse_built_in(&name)?;
    state
        .store
        .delete_custom_role(&authz, &role_name(&name, VAULT_ROLE)?, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
