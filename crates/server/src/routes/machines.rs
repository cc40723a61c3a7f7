//! Machines: Ed25519 identities for workloads, managed by members who hold the Machines
//! cell. Registering one gives it no access; attaching it to a project does.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::Error;
use strongroom_core::authz::Action;
use strongroom_core::names::MachineName;
use strongroom_crypto::machine_key::MachinePublicKey;
use strongroom_proto::{ErrorBody, List, MachineInfo, RegisterMachineRequest};

const HOUR_MS: i64 = 60 * 60 * 1000;

fn machine_name(name: &str) -> Result<MachineName, ApiError> {
    name.parse()
        .map_err(|_| Error::not_found(&format!("machine '{name}'")).into())
}

/// Registers a machine by its public key (needs Machines). It opens nothing until it is
/// attached to a project.
#[utoipa::path(post, path = "/machines", tag = "machines", security(("bearer" = [])),
    request_body = RegisterMachineRequest,
    responses((status = 201, body = MachineInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn register_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<RegisterMachineRequest>,
) -> Result<(StatusCode, ApiJson<MachineInfo>), ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name: MachineName = body.name.parse()?;
    let key = MachinePublicKey::parse(&body.public_key)?;
    let expires_at = body
        .expires_in_hours
        .map(|hours| strongroom_store::now_ms().saturating_add(i64::from(hours) * HOUR_MS));
    let record = state
        .store
        .register_machine(&authz, &name, key, expires_at, &meta.origin())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(convert::machine(&record))))
}

/// The vault's machines, by name.
#[utoipa::path(get, path = "/machines", tag = "machines", security(("bearer" = [])),
    responses((status = 200, body = List<MachineInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_machines(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<MachineInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let machines = state.store.machines(&authz).await?;
    Ok(ApiJson(List {
        items: machines.iter().map(convert::machine).collect(),
        next_cursor: None,
    }))
}

/// One machine.
#[utoipa::path(get, path = "/machines/{machine}", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    responses((status = 200, body = MachineInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_machine(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<MachineInfo>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let record = state.store.machine(&authz, &machine_name(&name)?).await?;
    Ok(ApiJson(convert::machine(&record)))
}

/// Disables a machine: its next request is refused (reversible with enable).
#[utoipa::path(post, path = "/machines/{machine}/disable", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    responses((status = 200, body = MachineInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn disable_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<MachineInfo>, ApiError> {
    set_enabled(state, caller, meta, name, false).await
}

/// Enables a disabled machine.
#[utoipa::path(post, path = "/machines/{machine}/enable", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    responses((status = 200, body = MachineInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn enable_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<MachineInfo>, ApiError> {
    set_enabled(state, caller, meta, name, true).await
}

async fn set_enabled(
    state: AppState,
    caller: Caller,
    meta: ClientMeta,
    name: String,
    enabled: bool,
) -> Result<ApiJson<MachineInfo>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let record = state
        .store
        .set_machine_enabled(&authz, &machine_name(&name)?, enabled, &meta.origin())
        .await?;
    Ok(ApiJson(convert::machine(&record)))
}

/// Removes a machine; its key is refused from then on.
#[utoipa::path(delete, path = "/machines/{machine}", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    state
        .store
        .remove_machine(&authz, &machine_name(&name)?, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
