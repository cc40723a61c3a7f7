//! Secrets: write, read metadata, reveal, history, rollback, trash, restore, purge, and
//! the environment-wide reveal and import that `run`, `export` and `import` use.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, Caller, ClientMeta, EnvParams, ListParams, Requester, SecretParams,
};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use strongroom_core::authz::Action;
use strongroom_core::names::SecretName;
use strongroom_core::secret::{Note, SecretType, SecretValue, Tags};
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{
    EnvironmentValue, EnvironmentValues, ErrorBody, ImportRequest, ImportResult, List,
    RollbackRequest, SecretMetadata, SecretValueResponse, SecretVersionInfo, SecretWriteRequest,
    SecretWritten, Sensitive,
};
use strongroom_store::{ImportOutcome, SecretInput};
use utoipa::IntoParams;

/// Most keys in one import.
const MAX_IMPORT: usize = 1000;

fn check_version(v: i64) -> Result<i64, ApiError> {
    if v < 1 {
        return Err(Error::new(ErrorCode::InvalidValue, "versions are numbered from 1").into());
    }
    Ok(v)
}

/// The live secrets of an environment, by name (metadata only).
#[utoipa::path(get, path = "/apps/{app}/projects/{project}/envs/{env}/secrets", tag = "secrets",
    security(("bearer" = [])), params(EnvParams, ListParams),
    responses((status = 200, body = List<SecretMetadata>), (status = 404, body = ErrorBody)))]
pub async fn list_secrets(
    State(state): State<AppState>,
    caller: Requester,
    ApiPath(params): ApiPath<EnvParams>,
    ApiQuery(list): ApiQuery<ListParams>,
) -> Result<Json<List<SecretMetadata>>, ApiError> {
    let env = params.path()?;
    let authz = caller.in_vault(Action::ReadSecretMetadata)?;
    let page = state
        .store
        .list_secrets(&authz, &env, &list.page("secrets")?)
        .await?;
    let env_path = env.to_string();
    Ok(Json(convert::list(page, "secrets", |m| {
        convert::secret(m, &env_path)
    })))
}

/// Every live value of an environment, for `strongroom run` and `export`.
#[utoipa::path(get, path = "/apps/{app}/projects/{project}/envs/{env}/values", tag = "secrets",
    security(("bearer" = [])), params(EnvParams),
    responses((status = 200, body = EnvironmentValues), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "The hourly reveal limit would be passed")))]
pub async fn environment_values(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<EnvParams>,
) -> Result<Json<EnvironmentValues>, ApiError> {
    let env = params.path()?;
    let authz = caller.in_vault(Action::RevealSecret)?;
    let values = state
        .store
        .reveal_environment(&authz, &env, &meta.origin())
        .await?;
    Ok(Json(EnvironmentValues {
        environment: env.to_string(),
        secrets: values
            .into_iter()
            .map(|v| EnvironmentValue {
                name: v.name.to_string(),
                version: v.version,
                value: Sensitive::new(v.value.expose()),
            })
            .collect(),
    }))
}

/// Sets many secrets at once, in one transaction: one new version per key whose value
/// differs from its latest version; equal values write nothing.
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/import", tag = "secrets",
    security(("bearer" = [])), params(EnvParams), request_body = ImportRequest,
    responses(
        (status = 200, body = ImportResult),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "A key names a secret in the trash", body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<EnvParams>,
    ApiJson(body): ApiJson<ImportRequest>,
) -> Result<Json<ImportResult>, ApiError> {
    let env = params.path()?;
    if body.secrets.len() > MAX_IMPORT {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("an import may set at most {MAX_IMPORT} secrets; split the file"),
        )
        .into());
    }
    let mut entries = Vec::with_capacity(body.secrets.len());
    for (name, value) in body.secrets {
        let name: SecretName = name.parse()?;
        entries.push((name, SecretValue::new(value.into_inner())?));
    }
    let write = caller.in_vault(Action::WriteSecret)?;
    let reveal = caller.in_vault(Action::RevealSecret)?;
    let outcomes = state
        .store
        .import_secrets(&write, &reveal, &env, entries, &meta.origin())
        .await?;
    let mut result = ImportResult::default();
    for (name, outcome) in outcomes {
        match outcome {
            ImportOutcome::Created => result.created.push(name.to_string()),
            ImportOutcome::Updated => result.updated.push(name.to_string()),
            ImportOutcome::Unchanged => result.unchanged.push(name.to_string()),
        }
    }
    Ok(Json(result))
}

/// A secret's current metadata (never its value).
#[utoipa::path(get, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}", tag = "secrets",
    security(("bearer" = [])), params(SecretParams),
    responses((status = 200, body = SecretMetadata), (status = 404, body = ErrorBody)))]
pub async fn get_secret(
    State(state): State<AppState>,
    caller: Requester,
    ApiPath(params): ApiPath<SecretParams>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let path = params.path()?;
    let authz = caller.in_vault(Action::ReadSecretMetadata)?;
    let meta = state.store.secret_meta(&authz, &path).await?;
    Ok(Json(convert::secret(&meta, &path.environment.to_string())))
}

/// Writes a new version (creating the secret on first write). Omitted type, note and
/// tags are kept from the previous version.
#[utoipa::path(put, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}", tag = "secrets",
    security(("bearer" = [])), params(SecretParams), request_body = SecretWriteRequest,
    responses(
        (status = 200, body = SecretWritten),
        (status = 400, body = ErrorBody),
        (status = 404, description = "No such environment", body = ErrorBody),
        (status = 409, description = "secret_in_trash", body = ErrorBody)))]
pub async fn put_secret(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiJson(body): ApiJson<SecretWriteRequest>,
) -> Result<Json<SecretWritten>, ApiError> {
    let path = params.path()?;
    let input = SecretInput {
        value: SecretValue::new(body.value.into_inner())?,
        secret_type: body
            .secret_type
            .as_deref()
            .map(str::parse::<SecretType>)
            .transpose()?,
        note: body.note.as_deref().map(Note::parse).transpose()?,
        tags: body.tags.as_deref().map(Tags::parse).transpose()?,
        expected_version: body.expected_version,
    };
    let authz = caller.in_vault(Action::WriteSecret)?;
    let outcome = state
        .store
        .write_secret(&authz, &path, &input, &meta.origin())
        .await?;
    Ok(Json(SecretWritten {
        path: path.to_string(),
        version: outcome.version,
        created: outcome.created,
    }))
}

/// Which version to reveal.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version number; the latest when absent.
    pub version: Option<i64>,
}

/// The plaintext value of the latest version, or of `?version=N`.
#[utoipa::path(get, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/value", tag = "secrets",
    security(("bearer" = [])), params(SecretParams, VersionQuery),
    responses((status = 200, body = SecretValueResponse), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "The hourly reveal limit would be passed")))]
pub async fn reveal_secret(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiQuery(query): ApiQuery<VersionQuery>,
) -> Result<Json<SecretValueResponse>, ApiError> {
    let path = params.path()?;
    let version = query.version.map(check_version).transpose()?;
    let authz = caller.in_vault(Action::RevealSecret)?;
    let revealed = state
        .store
        .reveal_secret(&authz, &path, version, &meta.origin())
        .await?;
    Ok(Json(SecretValueResponse {
        path: path.to_string(),
        version: revealed.version,
        secret_type: revealed.secret_type.to_string(),
        value: Sensitive::new(revealed.value.expose()),
    }))
}

/// A secret's versions, newest first (metadata only).
#[utoipa::path(get, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions", tag = "secrets",
    security(("bearer" = [])), params(SecretParams, ListParams),
    responses((status = 200, body = List<SecretVersionInfo>), (status = 404, body = ErrorBody)))]
pub async fn list_versions(
    State(state): State<AppState>,
    caller: Requester,
    ApiPath(params): ApiPath<SecretParams>,
    ApiQuery(list): ApiQuery<ListParams>,
) -> Result<Json<List<SecretVersionInfo>>, ApiError> {
    let path = params.path()?;
    let authz = caller.in_vault(Action::ReadSecretMetadata)?;
    let page = state
        .store
        .secret_history(&authz, &path, &list.page("versions")?)
        .await?;
    Ok(Json(convert::list(page, "versions", convert::version)))
}

/// Makes a new version equal to an old one (value, type, note and tags).
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/rollback", tag = "secrets",
    security(("bearer" = [])), params(SecretParams), request_body = RollbackRequest,
    responses((status = 200, body = SecretWritten), (status = 404, body = ErrorBody)))]
pub async fn rollback(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiJson(body): ApiJson<RollbackRequest>,
) -> Result<Json<SecretWritten>, ApiError> {
    let path = params.path()?;
    let to = check_version(body.to)?;
    let authz = caller.in_vault(Action::WriteSecret)?;
    let outcome = state
        .store
        .rollback_secret(&authz, &path, to, &meta.origin())
        .await?;
    Ok(Json(SecretWritten {
        path: path.to_string(),
        version: outcome.version,
        created: false,
    }))
}

/// Moves a secret to the trash (restorable).
#[utoipa::path(delete, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}", tag = "secrets",
    security(("bearer" = [])), params(SecretParams),
    responses((status = 204, description = "In the trash"), (status = 404, body = ErrorBody)))]
pub async fn delete_secret(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
) -> Result<StatusCode, ApiError> {
    let path = params.path()?;
    let authz = caller.in_vault(Action::DeleteSecret)?;
    state
        .store
        .delete_secret(&authz, &path, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Brings a secret back from the trash.
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/restore", tag = "secrets",
    security(("bearer" = [])), params(SecretParams),
    responses((status = 204, description = "Restored"), (status = 404, body = ErrorBody)))]
pub async fn restore_secret(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
) -> Result<StatusCode, ApiError> {
    let path = params.path()?;
    let authz = caller.in_vault(Action::DeleteSecret)?;
    state
        .store
        .restore_secret(&authz, &path, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Destroys a secret that is in the trash, with every version. Cannot be undone.
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/purge", tag = "secrets",
    security(("bearer" = [])), params(SecretParams),
    responses(
        (status = 204, description = "Destroyed"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not in the trash", body = ErrorBody)))]
pub async fn purge_secret(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
) -> Result<StatusCode, ApiError> {
    let path = params.path()?;
    let authz = caller.in_vault(Action::PurgeSecret)?;
    state
        .store
        .purge_secret(&authz, &path, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The vault's trash, most recently deleted first.
#[utoipa::path(get, path = "/trash", tag = "secrets", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = List<strongroom_proto::TrashedSecretInfo>), (status = 401, body = ErrorBody)))]
pub async fn list_trash(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(list): ApiQuery<ListParams>,
) -> Result<Json<List<strongroom_proto::TrashedSecretInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ReadSecretMetadata)?;
    let page = state.store.list_trash(&authz, &list.page("trash")?).await?;
    Ok(Json(convert::list(page, "trash", convert::trashed)))
}

/// Declares where a secret may be used through the broker, and how its value travels.
/// Takes write and reveal on it: the destination decides where its value goes.
#[utoipa::path(put, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/use", tag = "secrets",
    security(("bearer" = [])), params(SecretParams), request_body = strongroom_proto::SetUseRequest,
    responses((status = 200, body = SecretMetadata), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn set_secret_use(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiJson(body): ApiJson<strongroom_proto::SetUseRequest>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let path = params.path()?;
    let declaration = strongroom_core::broker::UseDeclaration::parse(
        &body.destination,
        &body.header,
        &body.format,
    )?;
    let write = caller.in_vault(Action::WriteSecret)?;
    let reveal = caller.in_vault(Action::RevealSecret)?;
    state
        .store
        .set_secret_use(
            &write,
            Some(&reveal),
            &path,
            Some(&declaration),
            &meta.origin(),
        )
        .await?;
    let read = caller.in_vault(Action::ReadSecretMetadata)?;
    let m = state.store.secret_meta(&read, &path).await?;
    Ok(Json(convert::secret(&m, &path.environment.to_string())))
}

/// Clears where a secret may be used: it can no longer be used through the broker.
#[utoipa::path(delete, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/use", tag = "secrets",
    security(("bearer" = [])), params(SecretParams),
    responses((status = 200, body = SecretMetadata), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn clear_secret_use(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let path = params.path()?;
    let write = caller.in_vault(Action::WriteSecret)?;
    state
        .store
        .set_secret_use(&write, None, &path, None, &meta.origin())
        .await?;
    let read = caller.in_vault(Action::ReadSecretMetadata)?;
    let m = state.store.secret_meta(&read, &path).await?;
    Ok(Json(convert::secret(&m, &path.environment.to_string())))
}

async fn change_versions(
    state: &AppState,
    caller: &Requester,
    meta: &ClientMeta,
    params: &SecretParams,
    versions: Vec<i64>,
    change: strongroom_store::VersionChange,
) -> Result<Json<strongroom_proto::VersionsChanged>, ApiError> {
    let path = params.path()?;
    if versions.is_empty() {
        return Err(Error::new(ErrorCode::InvalidValue, "name at least one version").into());
    }
    let versions = versions
        .into_iter()
        .map(check_version)
        .collect::<Result<Vec<_>, _>>()?;
    let action = match change {
        strongroom_store::VersionChange::Delete | strongroom_store::VersionChange::Undelete => {
            Action::DeleteSecret
        }
        strongroom_store::VersionChange::Destroy => Action::PurgeSecret,
    };
    let authz = caller.in_vault(action)?;
    let changed = state
        .store
        .change_versions(
            &authz,
            &path,
            &strongroom_store::VersionSelection::These(versions),
            change,
            &meta.origin(),
        )
        .await?;
    Ok(Json(strongroom_proto::VersionsChanged {
        path: path.to_string(),
        changed,
    }))
}

/// Deletes versions (restorable with undelete); reads of them are refused.
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions/delete", tag = "secrets",
    security(("bearer" = [])), params(SecretParams), request_body = strongroom_proto::VersionsRequest,
    responses((status = 200, body = strongroom_proto::VersionsChanged), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_versions(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiJson(body): ApiJson<strongroom_proto::VersionsRequest>,
) -> Result<Json<strongroom_proto::VersionsChanged>, ApiError> {
    change_versions(
        &state,
        &caller,
        &meta,
        &params,
        body.versions,
        strongroom_store::VersionChange::Delete,
    )
    .await
}

/// Brings deleted versions back (destroyed ones cannot be).
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions/undelete", tag = "secrets",
    security(("bearer" = [])), params(SecretParams), request_body = strongroom_proto::VersionsRequest,
    responses((status = 200, body = strongroom_proto::VersionsChanged), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn undelete_versions(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiJson(body): ApiJson<strongroom_proto::VersionsRequest>,
) -> Result<Json<strongroom_proto::VersionsChanged>, ApiError> {
    change_versions(
        &state,
        &caller,
        &meta,
        &params,
        body.versions,
        strongroom_store::VersionChange::Undelete,
    )
    .await
}

/// Destroys versions' values for good (their metadata stays in the history).
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions/destroy", tag = "secrets",
    security(("bearer" = [])), params(SecretParams), request_body = strongroom_proto::VersionsRequest,
    responses((status = 200, body = strongroom_proto::VersionsChanged), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn destroy_versions(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<SecretParams>,
    ApiJson(body): ApiJson<strongroom_proto::VersionsRequest>,
) -> Result<Json<strongroom_proto::VersionsChanged>, ApiError> {
    change_versions(
        &state,
        &caller,
        &meta,
        &params,
        body.versions,
        strongroom_store::VersionChange::Destroy,
    )
    .await
}
