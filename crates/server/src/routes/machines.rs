//! Machines: Ed25519 identities for workloads, managed by members who hold the Machines
//! cell. Registering one gives it no access; attaching it to a project does.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta, Requester};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use strongroom_core::access::{Verb, Verbs};
use strongroom_core::authz::Action;
use strongroom_core::names::{EnvironmentName, MachineName, ProjectPath, SecretPath};
use strongroom_core::runtime::Attachment;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::machine_key::MachinePublicKey;
use strongroom_proto::{
    AttachMachineRequest, ErrorBody, GrantMachineRequest, List, MachineAttachment, MachineDetail,
    MachineGrant, MachineInfo, MachineSelf, RegisterMachineRequest,
};
use utoipa::IntoParams;

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

/// One machine, with its attachments and grants.
#[utoipa::path(get, path = "/machines/{machine}", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    responses((status = 200, body = MachineDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_machine(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<MachineDetail>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&name)?;
    let record = state.store.machine(&authz, &name).await?;
    let access = state.store.machine_access(&authz, &name).await?;
    let (attachments, grants) = convert::machine_attachments(&access);
    Ok(ApiJson(MachineDetail {
        machine: convert::machine(&record),
        attachments,
        grants,
    }))
}

/// The verbs named, with `read` (core checks they are runtime verbs).
fn parse_verbs(names: &[String]) -> Result<Verbs, ApiError> {
    Ok(Verbs::parse(names)?.with(Verb::Read))
}

/// Attaches a machine to a project for some environments (default all) and verbs
/// (`read`, `reveal`, `use`; default `read`), replacing an earlier attachment to that
/// project. Needs Machines, the project's machines switch, and every verb given held on
/// everything the attachment opens.
#[utoipa::path(post, path = "/machines/{machine}/attachments", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    request_body = AttachMachineRequest,
    responses((status = 200, body = MachineAttachment), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn attach_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<AttachMachineRequest>,
) -> Result<ApiJson<MachineAttachment>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&name)?;
    let project: ProjectPath = body.project.parse()?;
    if body.environments.len() > 50 {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "an attachment names at most 50 environments; attach to every environment instead",
        )
        .into());
    }
    let environments = body
        .environments
        .iter()
        .map(|e| e.parse::<EnvironmentName>())
        .collect::<Result<Vec<_>, _>>()?;
    let attachment = Attachment {
        project,
        environments,
        verbs: parse_verbs(&body.verbs)?,
    };
    let record = state
        .store
        .attach_machine(&authz, &name, &attachment, &meta.origin())
        .await?;
    let access = strongroom_store::MachineAccessRecord {
        attachments: vec![record],
        grants: Vec::new(),
    };
    let (mut attachments, _) = convert::machine_attachments(&access);
    attachments
        .pop()
        .map(ApiJson)
        .ok_or_else(|| Error::internal("attachment vanished").into())
}

/// `/machines/{machine}/attachments/{app}/{project}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentParams {
    /// Machine name.
    pub machine: String,
    /// Application name.
    pub app: String,
    /// Project name.
    pub project: String,
}

/// Detaches a machine from a project: what it opened is closed from the machine's next
/// request.
#[utoipa::path(delete, path = "/machines/{machine}/attachments/{app}/{project}", tag = "machines",
    security(("bearer" = [])), params(AttachmentParams),
    responses((status = 204, description = "Detached"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn detach_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(params): ApiPath<AttachmentParams>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&params.machine)?;
    let project: ProjectPath = format!("{}/{}", params.app, params.project).parse()?;
    state
        .store
        .detach_machine(&authz, &name, &project, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants a machine one secret with some verbs (`read`, `reveal`, `use`; default
/// `read`). Needs Machines, 'manage' on the secret, and every verb given.
#[utoipa::path(post, path = "/machines/{machine}/grants", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    request_body = GrantMachineRequest,
    responses((status = 200, body = MachineGrant), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn grant_machine(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<GrantMachineRequest>,
) -> Result<ApiJson<MachineGrant>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&name)?;
    let path: SecretPath = body.path.parse()?;
    let record = state
        .store
        .grant_machine_secret(
            &authz,
            &name,
            &path,
            parse_verbs(&body.verbs)?,
            &meta.origin(),
        )
        .await?;
    let access = strongroom_store::MachineAccessRecord {
        attachments: Vec::new(),
        grants: vec![record],
    };
    let (_, mut grants) = convert::machine_attachments(&access);
    grants
        .pop()
        .map(ApiJson)
        .ok_or_else(|| Error::internal("grant vanished").into())
}

/// `/machines/{machine}/grants/{app}/{project}/{env}/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GrantParams {
    /// Machine name.
    pub machine: String,
    /// Application name.
    pub app: String,
    /// Project name.
    pub project: String,
    /// Environment name.
    pub env: String,
    /// Secret name.
    pub name: String,
}

/// Takes back a secret granted to a machine.
#[utoipa::path(delete, path = "/machines/{machine}/grants/{app}/{project}/{env}/{name}", tag = "machines",
    security(("bearer" = [])), params(GrantParams),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_machine_grant(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(params): ApiPath<GrantParams>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&params.machine)?;
    let path: SecretPath = format!(
        "{}/{}/{}/{}",
        params.app, params.project, params.env, params.name
    )
    .parse()?;
    state
        .store
        .revoke_machine_secret(&authz, &name, &path, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling machine's own identity and what it may read. Machines only: a member's
/// session is refused.
#[utoipa::path(get, path = "/machine", tag = "machines", security(("machine" = [])),
    responses((status = 200, body = MachineSelf), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn own_machine(
    State(state): State<AppState>,
    requester: Requester,
) -> Result<ApiJson<MachineSelf>, ApiError> {
    let authz = requester.in_vault(Action::InspectOwnMachine)?;
    let (id, name) = requester
        .machine
        .clone()
        .ok_or_else(|| Error::internal("a machine route admitted a member"))?;
    let access = state.store.own_machine_access(&authz).await?;
    let (attachments, grants) = convert::machine_attachments(&access);
    Ok(ApiJson(MachineSelf {
        id: id.to_string(),
        name: name.to_string(),
        vault: authz.vault()?.to_string(),
        attachments,
        grants,
    }))
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

/// Issues a secret id for AppRole logins (needs Machines): the machine logs in with its
/// role id and this secret id (`POST /v1/auth/approle/login`) and acts with a
/// short-lived token, exactly as when it signs its requests. Shown once.
#[utoipa::path(post, path = "/machines/{machine}/approle", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    request_body = strongroom_proto::IssueApproleRequest,
    responses((status = 201, body = strongroom_proto::ApproleIssued), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue_approle(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<strongroom_proto::IssueApproleRequest>,
) -> Result<(StatusCode, ApiJson<strongroom_proto::ApproleIssued>), ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&name)?;
    let expires_at = body
        .expires_in_hours
        .map(|hours| strongroom_store::now_ms().saturating_add(i64::from(hours) * HOUR_MS));
    let token_ttl_ms = i64::from(body.token_ttl_minutes.unwrap_or(60)) * 60_000;
    let issued = state
        .store
        .issue_approle_secret(&authz, &name, expires_at, token_ttl_ms, &meta.origin())
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(strongroom_proto::ApproleIssued {
            machine: name.to_string(),
            role_id: issued.role_id,
            secret_id: strongroom_proto::Sensitive::new(issued.secret.expose()),
            secret_id_accessor: issued.id.to_string(),
            expires_at: issued.expires_at.map(convert::ts),
            token_ttl_seconds: issued.token_ttl_ms / 1000,
        }),
    ))
}

/// A machine's role id and secret ids (never the secrets).
#[utoipa::path(get, path = "/machines/{machine}/approle", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name")),
    responses((status = 200, body = strongroom_proto::ApproleSecrets), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_approle(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<strongroom_proto::ApproleSecrets>, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&name)?;
    let (role_id, records) = state.store.approle_secrets(&authz, &name).await?;
    Ok(ApiJson(strongroom_proto::ApproleSecrets {
        role_id,
        secret_ids: records
            .iter()
            .map(|r| strongroom_proto::ApproleSecretInfo {
                id: r.id.to_string(),
                created_by: r.created_by.clone(),
                created_at: convert::ts(r.created_at),
                expires_at: r.expires_at.map(convert::ts),
                revoked_at: r.revoked_at.map(convert::ts),
                token_ttl_seconds: r.token_ttl_ms / 1000,
            })
            .collect(),
    }))
}

/// Revokes a secret id, and every login token it gave out.
#[utoipa::path(delete, path = "/machines/{machine}/approle/{id}", tag = "machines", security(("bearer" = [])),
    params(("machine" = String, Path, description = "Machine name"),
        ("id" = String, Path, description = "The secret id's id (`ars_…`)")),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_approle(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageMachines)?;
    let name = machine_name(&name)?;
    state
        .store
        .revoke_approle_secret(&authz, &name, &id, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
