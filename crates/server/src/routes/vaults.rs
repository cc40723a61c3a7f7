//! Vaults and organizations: list the vaults one belongs to, choose which one this
//! session acts in, create or convert an organization, hand it over, leave it, and the
//! owner's kill switch (delete, restore).

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::signin;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::Error;
use strongroom_core::account::Username;
use strongroom_core::authz::Action;
use strongroom_core::ids::VaultId;
use strongroom_core::names::OrganizationName;
use strongroom_proto::{
    ErrorBody, List, OrganizationNameRequest, SwitchVaultRequest, TransferRequest, VaultInfo,
};

/// Every vault the caller belongs to (the personal vault first), with their role and
/// standing there; `current` marks the one this session acts in.
#[utoipa::path(get, path = "/vaults", tag = "vaults", security(("bearer" = [])),
    responses((status = 200, body = List<VaultInfo>), (status = 401, body = ErrorBody)))]
pub async fn list_vaults(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<List<VaultInfo>>, ApiError> {
    let authz = caller.own_account()?;
    let vaults = state.store.own_vaults(&authz).await?;
    Ok(axum::Json(List {
        items: vaults
            .iter()
            .map(|v| convert::vault(v, &caller.session.vault_id))
            .collect(),
        next_cursor: None,
    }))
}

/// Makes this session act in another of the caller's vaults (by id or name). No new
/// sign-in is needed; every later request of this session acts there.
#[utoipa::path(put, path = "/session/vault", tag = "vaults", security(("bearer" = [])),
    request_body = SwitchVaultRequest,
    responses((status = 200, body = VaultInfo), (status = 403, description = "Suspended there", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Deleted organization", body = ErrorBody)))]
pub async fn switch_vault(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<SwitchVaultRequest>,
) -> Result<ApiJson<VaultInfo>, ApiError> {
    let authz = caller.own_account()?;
    let vault = state
        .store
        .switch_session_vault(
            &authz,
            &caller.session.id,
            body.vault.trim(),
            &meta.origin(),
        )
        .await?;
    Ok(ApiJson(convert::vault(&vault, &vault.id)))
}

/// Creates a new, empty organization owned by the caller (free plan).
#[utoipa::path(post, path = "/organizations", tag = "vaults", security(("bearer" = [])),
    request_body = OrganizationNameRequest,
    responses((status = 201, body = VaultInfo), (status = 400, body = ErrorBody),
        (status = 409, description = "You already own an organization of that name", body = ErrorBody)))]
pub async fn create_organization(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<OrganizationNameRequest>,
) -> Result<(StatusCode, ApiJson<VaultInfo>), ApiError> {
    let authz = caller.for_account(Action::CreateOrganization)?;
    let name: OrganizationName = body.name.parse()?;
    let vault = state
        .store
        .create_organization(&authz, &name, &meta.origin())
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(convert::vault(&vault, &caller.session.vault_id)),
    ))
}

/// Converts the personal vault this session acts in into an organization (needs a
/// recent step-up). One-way; the vault keeps its id and contents, and the caller gets
/// a new, empty personal vault.
#[utoipa::path(post, path = "/vault/convert", tag = "vaults", security(("bearer" = [])),
    request_body = OrganizationNameRequest,
    responses((status = 200, body = VaultInfo), (status = 401, description = "step_up_required", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn convert_vault(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<OrganizationNameRequest>,
) -> Result<ApiJson<VaultInfo>, ApiError> {
    let authz = caller.in_vault(Action::ConvertToOrganization)?;
    signin::require_step_up(&state, &caller)?;
    let name: OrganizationName = body.name.parse()?;
    let vault = state
        .store
        .convert_to_organization(&authz, &name, &meta.origin())
        .await?;
    Ok(ApiJson(convert::vault(&vault, &caller.session.vault_id)))
}

/// Hands the organization to another active member (needs a recent step-up); the
/// caller becomes an admin.
#[utoipa::path(post, path = "/vault/transfer", tag = "vaults", security(("bearer" = [])),
    request_body = TransferRequest,
    responses((status = 204, description = "Transferred"), (status = 401, description = "step_up_required", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn transfer_ownership(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<TransferRequest>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::TransferOwnership)?;
    signin::require_step_up(&state, &caller)?;
    let username = Username::parse(&body.username)
        .map_err(|_| Error::not_found(&format!("member '{}'", body.username)))?;
    state
        .store
        .transfer_ownership(&authz, &username, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves the organization this session acts in; the session moves to the caller's
/// personal vault, which is returned. The owner must transfer ownership first.
#[utoipa::path(post, path = "/vault/leave", tag = "vaults", security(("bearer" = [])),
    responses((status = 200, body = VaultInfo), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn leave_vault(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
) -> Result<ApiJson<VaultInfo>, ApiError> {
    let authz = caller.in_vault(Action::LeaveVault)?;
    let personal = state.store.leave_vault(&authz, &meta.origin()).await?;
    Ok(ApiJson(convert::vault(&personal, &personal.id)))
}

/// The owner's kill switch (needs a recent step-up): at once, nothing of the
/// organization opens for anyone. Restorable for 30 days, then purged.
#[utoipa::path(delete, path = "/vault", tag = "vaults", security(("bearer" = [])),
    responses((status = 204, description = "Deleted; restorable for 30 days"),
        (status = 401, description = "step_up_required", body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A personal vault cannot be deleted", body = ErrorBody)))]
pub async fn delete_organization(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::DeleteOrganization)?;
    signin::require_step_up(&state, &caller)?;
    state
        .store
        .delete_organization(&authz, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restores an organization the caller owns and deleted less than 30 days ago.
#[utoipa::path(post, path = "/vaults/{vault}/restore", tag = "vaults", security(("bearer" = [])),
    params(("vault" = String, Path, description = "The organization's id, `vault_…`")),
    responses((status = 200, body = VaultInfo), (status = 404, body = ErrorBody)))]
pub async fn restore_organization(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(vault): ApiPath<String>,
) -> Result<ApiJson<VaultInfo>, ApiError> {
    let authz = caller.own_account()?;
    let vault: VaultId = vault
        .parse()
        .map_err(|_| Error::not_found("deleted organization owned by you"))?;
    let restored = state
        .store
        .restore_organization(&authz, &vault, &meta.origin())
        .await?;
    Ok(ApiJson(convert::vault(&restored, &caller.session.vault_id)))
}
