//! Invites by email (the organization's side and the invitee's panel) and invite links.
//! The answer to an email invite is the same, byte for byte and in timing, whatever the
//! address turns out to be: the store makes one conditional insert, and whether to send
//! mail is decided in a background task.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, ClientMeta, ListParams};
use crate::mail::Mail;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::Error;
use strongroom_core::ErrorCode;
use strongroom_core::account::Email;
use strongroom_core::authz::{Action, VaultRole};
use strongroom_core::ids::{InviteId, InviteLinkId};
use strongroom_core::names::RoleName;
use strongroom_crypto::token::{self, Token};
use strongroom_proto::{
    CreateLinkRequest, ErrorBody, InviteInfo, InviteLinkCreated, InviteLinkInfo, InviteRequest,
    InviteSent, JoinRequest, List, ReceivedInviteInfo, Sensitive, VaultInfo,
};
use strongroom_store::{INVITE_TTL_MS, NamedRole, NewInviteLink, now_ms};

const HOUR_MS: i64 = 60 * 60 * 1000;
const DEFAULT_LINK_HOURS: u32 = 7 * 24;
const MAX_LINK_HOURS: u32 = 30 * 24;

/// Invites an email address with a vault role below your own. The answer is identical
/// whether or not the address has an account, is a member or was already invited.
#[utoipa::path(post, path = "/invites", tag = "members", security(("bearer" = [])), request_body = InviteRequest,
    responses((status = 202, body = InviteSent), (status = 400, body = ErrorBody),
        (status = 403, description = "permission_denied or plan_limit_reached", body = ErrorBody)))]
pub async fn send_invite(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<InviteRequest>,
) -> Result<(StatusCode, ApiJson<InviteSent>), ApiError> {
    let role_name: RoleName = body
        .vault_role
        .as_deref()
        .unwrap_or(VaultRole::Collaborator.as_str())
        .parse()?;
    // A custom role is looked up only for those who may invite at all; the offer is then
    // decided for the role's own cells.
    let role = match role_name.as_str().parse::<VaultRole>() {
        Ok(built_in) => NamedRole::built_in(built_in),
        Err(_) => {
            let inviter = caller.in_vault(Action::ManageInvites)?;
            state.store.offered_role(&inviter, &role_name).await?
        }
    };
    let authz = caller.in_vault(Action::InviteMember(role.role))?;
    let email = Email::parse(&body.email)?;
    let access_role: Option<RoleName> = body
        .access_role
        .as_deref()
        .map(|name| {
            name.parse()
                .map_err(|_| Error::not_found(&format!("access role '{name}'")))
        })
        .transpose()?;
    let inserted = state
        .store
        .invite_by_email(&authz, &email, &role, access_role.as_ref(), &meta.origin())
        .await?;
    let (store, mailer, to, inviter, offered) = (
        state.store.clone(),
        state.mailer.clone(),
        email.clone(),
        caller.username.to_string(),
        role.name.clone(),
    );
    tokio::spawn(async move {
        if inserted && mailer.is_smtp() && store.has_account_with_email(&to).await.unwrap_or(false)
        {
            mailer.send_later(Mail {
                to: to.as_str().to_owned(),
                subject: format!("{inviter} invited you to an organization on Strongroom"),
                body: format!(
                    "{inviter} invited you to join their organization on Strongroom as {offered}.\n\n\
                     Sign in and run `strongroom invites list` (or open your invites in the \
                     dashboard) to accept or decline. The invite expires in 7 days.\n"
                ),
            });
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(InviteSent {
            vault_role: role.name.clone(),
            access_role: access_role.map(|r| r.to_string()),
            expires_in_days: u32::try_from(INVITE_TTL_MS / (24 * HOUR_MS)).unwrap_or(7),
            message: "if this address belongs to a Strongroom account, the invite is waiting in \
                      its owner's invites (they need to have verified the address to accept)"
                .into(),
        }),
    ))
}

/// The vault's pending invites, newest first.
#[utoipa::path(get, path = "/invites", tag = "members", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = List<InviteInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_invites(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<ApiJson<List<InviteInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ManageInvites)?;
    let page = state
        .store
        .pending_invites(&authz, &params.page("invites")?)
        .await?;
    Ok(ApiJson(convert::list(page, "invites", convert::invite)))
}

/// Revokes a pending invite.
#[utoipa::path(delete, path = "/invites/{id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path, description = "`inv_…`")),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageInvites)?;
    let id: InviteId = id.parse().map_err(|_| Error::not_found("pending invite"))?;
    state
        .store
        .revoke_invite(&authz, &id, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The invites waiting for the signed-in user (from any vault; needs a verified address).
#[utoipa::path(get, path = "/account/invites", tag = "members", security(("bearer" = [])),
    responses((status = 200, body = List<ReceivedInviteInfo>),
        (status = 403, description = "email_not_verified", body = ErrorBody)))]
pub async fn received_invites(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<ReceivedInviteInfo>>, ApiError> {
    let authz = caller.own_account()?;
    let invites = state.store.received_invites(&authz).await?;
    Ok(ApiJson(List {
        items: invites.iter().map(convert::received_invite).collect(),
        next_cursor: None,
    }))
}

/// Accepts an invite addressed to the caller's verified email; they join with the
/// offered role.
#[utoipa::path(post, path = "/account/invites/{id}/accept", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path, description = "`inv_…`")),
    responses((status = 200, body = VaultInfo), (status = 403, description = "email_not_verified", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already a member", body = ErrorBody),
        (status = 410, description = "invite_expired or invite_unusable", body = ErrorBody)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiJson<VaultInfo>, ApiError> {
    let authz = caller.own_account()?;
    let id: InviteId = id.parse().map_err(|_| Error::not_found("invite"))?;
    let vault = state
        .store
        .answer_invite(&authz, &id, true, &meta.origin())
        .await?
        .ok_or_else(|| Error::internal("accepting an invite returned no vault"))?;
    Ok(ApiJson(convert::vault(&vault, &caller.session.vault_id)))
}

/// Declines an invite addressed to the caller.
#[utoipa::path(post, path = "/account/invites/{id}/decline", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path, description = "`inv_…`")),
    responses((status = 204, description = "Declined"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn decline_invite(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.own_account()?;
    let id: InviteId = id.parse().map_err(|_| Error::not_found("invite"))?;
    state
        .store
        .answer_invite(&authz, &id, false, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a shareable invite link (joiners become Collaborators). The token is shown
/// once.
#[utoipa::path(post, path = "/links", tag = "members", security(("bearer" = [])), request_body = CreateLinkRequest,
    responses((status = 201, body = InviteLinkCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateLinkRequest>,
) -> Result<(StatusCode, ApiJson<InviteLinkCreated>), ApiError> {
    let authz = caller.in_vault(Action::InviteMember(VaultRole::Collaborator))?;
    let hours = body.expires_in_hours.unwrap_or(DEFAULT_LINK_HOURS);
    if !(1..=MAX_LINK_HOURS).contains(&hours) {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("expires_in_hours must be between 1 and {MAX_LINK_HOURS}"),
        )
        .into());
    }
    if body.max_uses == Some(0) {
        return Err(Error::new(ErrorCode::InvalidValue, "max_uses must be at least 1").into());
    }
    let token = token::new_invite_link_token()?;
    let link = state
        .store
        .create_invite_link(
            &authz,
            NewInviteLink {
                token_hash: token.hash(),
                ttl_ms: i64::from(hours) * HOUR_MS,
                max_uses: body.max_uses.map(i64::from),
            },
            &meta.origin(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(InviteLinkCreated {
            link: convert::link(&link, now_ms()),
            token: Sensitive::new(token.expose()),
        }),
    ))
}

/// The vault's invite links, newest first, with their state.
#[utoipa::path(get, path = "/links", tag = "members", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = List<InviteLinkInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_links(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<ApiJson<List<InviteLinkInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ManageInvites)?;
    let page = state
        .store
        .invite_links(&authz, &params.page("links")?)
        .await?;
    let now = now_ms();
    Ok(ApiJson(convert::list(page, "links", |l| {
        convert::link(l, now)
    })))
}

/// Revokes an invite link.
#[utoipa::path(delete, path = "/links/{id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path, description = "`link_…`")),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_link(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageInvites)?;
    let id: InviteLinkId = id.parse().map_err(|_| Error::not_found("invite link"))?;
    state
        .store
        .revoke_invite_link(&authz, &id, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins the organization of an invite link, as Collaborator.
#[utoipa::path(post, path = "/links/join", tag = "members", security(("bearer" = [])), request_body = JoinRequest,
    responses((status = 200, body = VaultInfo), (status = 403, description = "plan_limit_reached", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already a member", body = ErrorBody),
        (status = 410, description = "invite_expired or invite_unusable", body = ErrorBody)))]
pub async fn join_by_link(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<JoinRequest>,
) -> Result<ApiJson<VaultInfo>, ApiError> {
    let authz = caller.own_account()?;
    let presented = body.link.expose().trim();
    let tail = presented
        .rsplit(['/', '#', '='])
        .next()
        .unwrap_or(presented);
    let token = Token::from_presented(tail.to_owned());
    let vault = state
        .store
        .join_by_link(&authz, &token.hash(), &meta.origin())
        .await?;
    Ok(ApiJson(convert::vault(&vault, &caller.session.vault_id)))
}
