//! Access roles: authored by those with Roles: manage, read by those with Roles: view,
//! assigned to members by those who manage members.

use super::roles::role_file;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::access::{AccessRole, AccessRoleSpec};
use strongroom_core::account::Username;
use strongroom_core::authz::Action;
use strongroom_core::effect;
use strongroom_core::names::RoleName;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{
    AccessRoleInfo, CreateAccessRoleRequest, EditAccessRoleRequest, EffectPreview, ErrorBody, List,
    MemberInfo, SetAccessRoleRequest,
};
use strongroom_store::MemberChange;

const ACCESS_ROLE: &str = "access role";

fn spec(value: serde_json::Value) -> Result<AccessRoleSpec, ApiError> {
    role_file(value, ACCESS_ROLE)
}

fn role_name(name: &str) -> Result<RoleName, ApiError> {
    super::roles::role_name(name, ACCESS_ROLE)
}

/// The vault's access roles, by name.
#[utoipa::path(get, path = "/access-roles", tag = "members", security(("bearer" = [])),
    responses((status = 200, body = List<AccessRoleInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_access_roles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<AccessRoleInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ViewRoles)?;
    let roles = state.store.access_roles(&authz).await?;
    Ok(ApiJson(List {
        items: roles.iter().map(convert::access_role).collect(),
        next_cursor: None,
    }))
}

/// Creates an access role (needs Roles: manage).
#[utoipa::path(post, path = "/access-roles", tag = "members", security(("bearer" = [])),
    request_body = CreateAccessRoleRequest,
    responses((status = 201, body = AccessRoleInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_access_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateAccessRoleRequest>,
) -> Result<(StatusCode, ApiJson<AccessRoleInfo>), ApiError> {
    let authz = caller.in_vault(Action::ManageRoles)?;
    let name: RoleName = body.name.parse()?;
    let record = state
        .store
        .create_access_role(&authz, &name, &spec(body.spec)?, &meta.origin())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(convert::access_role(&record))))
}

/// One access role.
#[utoipa::path(get, path = "/access-roles/{role}", tag = "members", security(("bearer" = [])),
    params(("role" = String, Path, description = "Access role name")),
    responses((status = 200, body = AccessRoleInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_access_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<AccessRoleInfo>, ApiError> {
    let authz = caller.in_vault(Action::ViewRoles)?;
    let record = state.store.access_role(&authz, &role_name(&name)?).await?;
    Ok(ApiJson(convert::access_role(&record)))
}

/// Replaces an access role's file; its holders see the change on their next request.
#[utoipa::path(put, path = "/access-roles/{role}", tag = "members", security(("bearer" = [])),
    params(("role" = String, Path, description = "Access role name")), request_body = EditAccessRoleRequest,
    responses((status = 200, body = AccessRoleInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn edit_access_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<EditAccessRoleRequest>,
) -> Result<ApiJson<AccessRoleInfo>, ApiError> {
    let authz = caller.in_vault(Action::ManageRoles)?;
    let record = state
        .store
        .update_access_role(
            &authz,
            &role_name(&name)?,
            &spec(body.spec)?,
            &meta.origin(),
        )
        .await?;
    Ok(ApiJson(convert::access_role(&record)))
}

/// Deletes an access role; its holders hold none from their next request.
/// What saving this file as the access role would change: which of its holders gain or
/// lose which verbs in which environments. Nothing is saved; a role that does not exist
/// yet is compared with one that opens nothing.
#[utoipa::path(post, path = "/access-roles/{role}/preview", tag = "members", security(("bearer" = [])),
    params(("role" = String, Path, description = "Access role name")), request_body = EditAccessRoleRequest,
    responses((status = 200, body = EffectPreview), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn preview_access_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<EditAccessRoleRequest>,
) -> Result<ApiJson<EffectPreview>, ApiError> {
    // Only someone who may change the role sees what a change would do.
    caller.in_vault(Action::ManageRoles)?;
    let authz = caller.in_vault(Action::ViewRoles)?;
    let name = role_name(&name)?;
    let after = AccessRole::compile(&spec(body.spec)?)?;
    let (before, holders) = match state.store.access_role(&authz, &name).await {
        Ok(record) => (
            AccessRole::compile(&record.spec)?,
            state.store.role_holders(&authz, &name, true).await?,
        ),
        Err(e) if e.code() == ErrorCode::NotFound => (AccessRole::nothing(), Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let environments = state
        .store
        .environment_paths(&caller.in_vault(Action::ReadStructure)?)
        .await?;
    let changes = effect::access_role_changes(&before, &after, &environments);
    Ok(ApiJson(convert::effect(&changes, holders)))
}

#[utoipa::path(delete, path = "/access-roles/{role}", tag = "members", security(("bearer" = [])),
    params(("role" = String, Path, description = "Access role name")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_access_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageRoles)?;
    state
        .store
        .delete_access_role(&authz, &role_name(&name)?, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a member an access role, or takes theirs away (`null`).
#[utoipa::path(put, path = "/members/{username}/access-role", tag = "members", security(("bearer" = [])),
    params(("username" = String, Path, description = "The member")), request_body = SetAccessRoleRequest,
    responses((status = 200, body = MemberInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_member_access_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(username): ApiPath<String>,
    ApiJson(body): ApiJson<SetAccessRoleRequest>,
) -> Result<ApiJson<MemberInfo>, ApiError> {
    let username = Username::parse(&username)
        .map_err(|_| Error::not_found(&format!("member '{username}'")))?;
    let role = body.access_role.as_deref().map(role_name).transpose()?;
    let member = state
        .store
        .change_member(
            &caller.principal,
            &username,
            MemberChange::SetAccessRole(role),
            &meta.origin(),
        )
        .await?;
    Ok(ApiJson(convert::member(&member)))
}
