//! Access policies on machines and tokens: conditions that refuse a request (source
//! ranges, environments, expiry, a weekly window, rate caps, a maximum of reads). Written
//! by members who hold the policies switch on the project a policy binds.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::authz::Action;
use strongroom_core::names::{PolicyName, ProjectPath};
use strongroom_core::policy::PolicySpec;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{CreatePolicyRequest, ErrorBody, List, PolicyInfo};
use strongroom_store::PolicySubject;

/// Writes a policy binding a machine or token (in one project, or everywhere).
#[utoipa::path(post, path = "/policies", tag = "policies", security(("bearer" = [])),
    request_body = CreatePolicyRequest,
    responses((status = 201, body = PolicyInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreatePolicyRequest>,
) -> Result<(StatusCode, ApiJson<PolicyInfo>), ApiError> {
    let authz = caller.in_vault(Action::ManagePolicies)?;
    let name: PolicyName = body.name.parse()?;
    let subject = match (&body.machine, &body.token) {
        (Some(machine), None) => PolicySubject::Machine(machine.parse()?),
        (None, Some(token)) => PolicySubject::Token(token.parse()?),
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a policy binds exactly one machine or one token: give `machine` or `token`",
            )
            .into());
        }
    };
    let project = body
        .project
        .as_deref()
        .map(str::parse::<ProjectPath>)
        .transpose()?;
    let spec: PolicySpec = serde_json::from_value(body.spec).map_err(|e| {
        Error::new(
            ErrorCode::InvalidValue,
            format!("the policy's conditions do not parse: {e}"),
        )
    })?;
    let record = state
        .store
        .create_policy(
            &authz,
            &name,
            &subject,
            project.as_ref(),
            &spec,
            &meta.origin(),
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(convert::policy(&record))))
}

/// The policies the caller may author.
#[utoipa::path(get, path = "/policies", tag = "policies", security(("bearer" = [])),
    responses((status = 200, body = List<PolicyInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<PolicyInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ManagePolicies)?;
    let policies = state.store.policies(&authz).await?;
    Ok(ApiJson(List {
        items: policies.iter().map(convert::policy).collect(),
        next_cursor: None,
    }))
}

/// One policy.
#[utoipa::path(get, path = "/policies/{policy}", tag = "policies", security(("bearer" = [])),
    params(("policy" = String, Path, description = "Policy name")),
    responses((status = 200, body = PolicyInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<PolicyInfo>, ApiError> {
    let authz = caller.in_vault(Action::ManagePolicies)?;
    let record = state.store.policy(&authz, &name).await?;
    Ok(ApiJson(convert::policy(&record)))
}

/// Deletes a policy; its subject is no longer bound by it from its next request.
#[utoipa::path(delete, path = "/policies/{policy}", tag = "policies", security(("bearer" = [])),
    params(("policy" = String, Path, description = "Policy name")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_policy(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManagePolicies)?;
    state
        .store
        .delete_policy(&authz, &name, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
