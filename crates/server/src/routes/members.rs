//! The member roster and what is done to members. Changes to another member are decided
//! by the core's decision function inside the store's transaction, on fresh rows.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, ClientMeta, ListParams};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::Error;
use strongroom_core::account::Username;
use strongroom_core::authz::Action;
use strongroom_core::names::RoleName;
use strongroom_core::plan::BILLING_PATH;
use strongroom_proto::{ErrorBody, MemberInfo, Roster, SetRoleRequest};
use strongroom_store::MemberChange;

/// The vault's members by username, with the plan, its used count and its cap.
#[utoipa::path(get, path = "/members", tag = "members", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Roster), (status = 403, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<ApiJson<Roster>, ApiError> {
    let authz = caller.in_vault(Action::ViewMembers)?;
    let usage = state.store.plan_usage(&authz).await?;
    let page = state
        .store
        .members(&authz, &params.page("members")?)
        .await?;
    let list = convert::list(page, "members", convert::member);
    Ok(ApiJson(Roster {
        plan: usage.plan.to_string(),
        used: usage.used,
        cap: usage.cap,
        billing_path: BILLING_PATH.into(),
        items: list.items,
        next_cursor: list.next_cursor,
    }))
}

async fn change(
    state: &AppState,
    caller: &Caller,
    meta: &ClientMeta,
    username: &str,
    change: MemberChange,
) -> Result<MemberInfo, ApiError> {
    let username =
        Username::parse(username).map_err(|_| Error::not_found(&format!("member '{username}'")))?;
    let member = state
        .store
        .change_member(&caller.principal, &username, change, &meta.origin())
        .await?;
    Ok(convert::member(&member))
}

/// Suspends a member: from their next request, nothing of this vault opens for them.
#[utoipa::path(post, path = "/members/{username}/suspend", tag = "members", security(("bearer" = [])),
    params(("username" = String, Path, description = "The member")),
    responses((status = 200, body = MemberInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Already suspended", body = ErrorBody)))]
pub async fn suspend_member(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(username): ApiPath<String>,
) -> Result<ApiJson<MemberInfo>, ApiError> {
    Ok(ApiJson(
        change(&state, &caller, &meta, &username, MemberChange::Suspend).await?,
    ))
}

/// Gives a suspended member their access back.
#[utoipa::path(post, path = "/members/{username}/unsuspend", tag = "members", security(("bearer" = [])),
    params(("username" = String, Path, description = "The member")),
    responses((status = 200, body = MemberInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not suspended", body = ErrorBody)))]
pub async fn unsuspend_member(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(username): ApiPath<String>,
) -> Result<ApiJson<MemberInfo>, ApiError> {
    Ok(ApiJson(
        change(&state, &caller, &meta, &username, MemberChange::Unsuspend).await?,
    ))
}

/// Removes a member from the vault (their audit entries stay).
#[utoipa::path(delete, path = "/members/{username}", tag = "members", security(("bearer" = [])),
    params(("username" = String, Path, description = "The member")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    change(&state, &caller, &meta, &username, MemberChange::Remove).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a member another vault role (below your own; never owner).
#[utoipa::path(put, path = "/members/{username}/role", tag = "members", security(("bearer" = [])),
    params(("username" = String, Path, description = "The member")), request_body = SetRoleRequest,
    responses((status = 200, body = MemberInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn set_member_role(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(username): ApiPath<String>,
    ApiJson(body): ApiJson<SetRoleRequest>,
) -> Result<ApiJson<MemberInfo>, ApiError> {
    let role: RoleName = body.vault_role.parse()?;
    Ok(ApiJson(
        change(
            &state,
            &caller,
            &meta,
            &username,
            MemberChange::AssignRole(role),
        )
        .await?,
    ))
}
