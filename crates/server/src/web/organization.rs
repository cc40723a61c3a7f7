//! Organizations: converting a personal vault (step-up) or creating one; the member
//! roster with per-member actions, plan and cap, kept live by polling; invites by email
//! and by link; the invitee's own panel; leaving, transferring, deleting and restoring.

use super::account::step_up_with;
use super::forms::{
    self, AccessRole, Empty, Invite, JoinLink, Name, NewLink, SteppedUp, VaultRole, WebForm,
    WebPath,
};
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientMeta, ListParams};
use crate::routes::{access_roles, invites, members, roles, vaults};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use strongroom_core::ErrorCode;
use strongroom_proto::{
    AccessRoleInfo, CreateLinkRequest, InviteInfo, InviteLinkInfo, InviteRequest,
    OrganizationNameRequest, ReceivedInviteInfo, RoleInfo, Roster, SetAccessRoleRequest,
    SetRoleRequest, TransferRequest,
};

fn all() -> ApiQuery<ListParams> {
    ApiQuery(ListParams {
        limit: Some(1000),
        cursor: None,
    })
}

/// What a listing the member may not see becomes: nothing, rather than an error page.
fn permitted<T>(answer: Result<T, ApiError>) -> Result<Option<T>, WebError> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.0.code() == ErrorCode::PermissionDenied => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    chrome: Chrome,
    roster: RosterView,
    invites: Option<Vec<InviteInfo>>,
    links: Option<Vec<InviteLinkInfo>>,
    /// A link just made: its token, shown once.
    new_link: Option<String>,
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterFragment {
    chrome: Chrome,
    roster: RosterView,
}

/// The roster and the choices its action menus offer.
pub struct RosterView {
    pub roster: Roster,
    pub roles: Vec<RoleInfo>,
    pub access_roles: Vec<AccessRoleInfo>,
}

impl RosterView {
    fn tag(&self) -> String {
        roster_tag(&self.roster)
    }

    fn cap(&self) -> String {
        self.roster
            .cap
            .map_or_else(|| "unlimited".to_owned(), |c| c.to_string())
    }

    fn at_cap(&self) -> bool {
        self.roster.cap.is_some_and(|c| self.roster.used >= c)
    }
}

async fn roster_view(state: &AppState, member: &Member) -> Result<RosterView, WebError> {
    let ApiJson(roster) =
        members::list_members(State(state.clone()), member.caller.clone(), all()).await?;
    let roles = permitted(roles::list_roles(State(state.clone()), member.caller.clone()).await)?
        .map(|ApiJson(list)| list.items)
        .unwrap_or_default();
    let access_roles = permitted(
        access_roles::list_access_roles(State(state.clone()), member.caller.clone()).await,
    )?
    .map(|ApiJson(list)| list.items)
    .unwrap_or_default();
    Ok(RosterView {
        roster,
        roles,
        access_roles,
    })
}

async fn members_view(
    state: &AppState,
    member: &Member,
    new_link: Option<String>,
) -> Result<Html<String>, WebError> {
    let roster = roster_view(state, member).await?;
    let invites =
        permitted(invites::list_invites(State(state.clone()), member.caller.clone(), all()).await)?
            .map(|ApiJson(list)| list.items);
    let links =
        permitted(invites::list_links(State(state.clone()), member.caller.clone(), all()).await)?
            .map(|ApiJson(list)| list.items);
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "members").await?;
    render(&MembersPage {
        chrome,
        roster,
        invites,
        links,
        new_link,
    })
}

/// `GET /ui/members`.
pub async fn members_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    members_view(&state, &member, None).await
}

/// `GET /ui/members/roster`: the roster alone, which the page polls to stay current.
pub async fn roster(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let roster = roster_view(&state, &member).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "members").await?;
    render(&RosterFragment { chrome, roster })
}

/// What the roster's live refresh compares: a digest of what the roster shows, so the
/// page fetches (and the audit log records) the roster again only when it changed.
fn roster_tag(roster: &Roster) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    digest.update(format!("{}|{}|{:?}", roster.plan, roster.used, roster.cap));
    for m in &roster.items {
        digest.update(format!(
            "|{}|{}|{:?}|{}",
            m.username, m.vault_role, m.access_role, m.status
        ));
    }
    hex::encode(&digest.finalize()[..12])
}

/// `GET /ui/members/roster/version`: the roster's digest, polled every few seconds by
/// an open Members page. It shows nothing but whether the roster changed, so a
/// successful answer is not an audit entry (the fetch of the roster that follows is).
pub async fn roster_version(
    State(state): State<AppState>,
    member: Member,
) -> Result<String, WebError> {
    let ApiJson(roster) =
        members::list_members(State(state.clone()), member.caller.clone(), all()).await?;
    Ok(roster_tag(&roster))
}

#[derive(Deserialize)]
pub struct UsernameParams {
    username: String,
}

/// `POST /ui/members/{username}/role`.
pub async fn set_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<UsernameParams>,
    WebForm(form): WebForm<VaultRole>,
) -> Result<Redirect, WebError> {
    members::set_member_role(
        State(state),
        member.caller,
        meta,
        ApiPath(params.username),
        ApiJson(SetRoleRequest {
            vault_role: form.vault_role,
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/members/{username}/access-role` (empty for none).
pub async fn set_access_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<UsernameParams>,
    WebForm(form): WebForm<AccessRole>,
) -> Result<Redirect, WebError> {
    access_roles::set_member_access_role(
        State(state),
        member.caller,
        meta,
        ApiPath(params.username),
        ApiJson(SetAccessRoleRequest {
            access_role: forms::given(form.access_role),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/members/{username}/suspend`.
pub async fn suspend(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<UsernameParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    members::suspend_member(State(state), member.caller, meta, ApiPath(params.username)).await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/members/{username}/unsuspend`.
pub async fn unsuspend(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<UsernameParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    members::unsuspend_member(State(state), member.caller, meta, ApiPath(params.username)).await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/members/{username}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<UsernameParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    members::remove_member(State(state), member.caller, meta, ApiPath(params.username)).await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/invites`: an email invite with a pre-assigned vault role.
pub async fn invite(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<Invite>,
) -> Result<Redirect, WebError> {
    invites::send_invite(
        State(state),
        member.caller,
        meta,
        ApiJson(InviteRequest {
            email: form.email.trim().to_owned(),
            vault_role: forms::given(form.vault_role),
            access_role: None,
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/members"))
}

#[derive(Deserialize)]
pub struct IdParams {
    id: String,
}

/// `POST /ui/invites/{id}/revoke`.
pub async fn revoke_invite(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<IdParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    invites::revoke_invite(State(state), member.caller, meta, ApiPath(params.id)).await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/links`: a new invite link, whose token is shown once on the page.
pub async fn create_link(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<NewLink>,
) -> Result<Html<String>, WebError> {
    let max_uses = forms::given(form.max_uses)
        .map(|m| {
            m.parse::<u32>().map_err(|_| {
                strongroom_core::Error::new(
                    ErrorCode::InvalidValue,
                    "the number of uses must be a whole number, or empty for no limit",
                )
            })
        })
        .transpose()?;
    let (_, ApiJson(created)) = invites::create_link(
        State(state.clone()),
        member.caller.clone(),
        meta,
        ApiJson(CreateLinkRequest {
            expires_in_hours: form.expires_in_hours,
            max_uses,
        }),
    )
    .await?;
    members_view(&state, &member, Some(created.token.into_inner())).await
}

/// `POST /ui/links/{id}/revoke`.
pub async fn revoke_link(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<IdParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    invites::revoke_link(State(state), member.caller, meta, ApiPath(params.id)).await?;
    Ok(Redirect::to("/ui/members"))
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    chrome: Chrome,
    received: Vec<ReceivedInviteInfo>,
}

/// `GET /ui/invitations`: the invites this account has received, to accept or decline.
pub async fn invitations_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) =
        invites::received_invites(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "invitations").await?;
    render(&InvitationsPage {
        chrome,
        received: list.items,
    })
}

/// `POST /ui/invitations/{id}/accept`: joins, and switches this session there.
pub async fn accept(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<IdParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    invites::accept_invite(State(state), member.caller, meta, ApiPath(params.id)).await?;
    Ok(Redirect::to("/ui/vaults"))
}

/// `POST /ui/invitations/{id}/decline`.
pub async fn decline(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<IdParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    invites::decline_invite(State(state), member.caller, meta, ApiPath(params.id)).await?;
    Ok(Redirect::to("/ui/invitations"))
}

/// `POST /ui/invitations/join`: joins with an invite link someone shared.
pub async fn join(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<JoinLink>,
) -> Result<Redirect, WebError> {
    invites::join_by_link(
        State(state),
        member.caller,
        meta,
        ApiJson(strongroom_proto::JoinRequest { link: form.link }),
    )
    .await?;
    Ok(Redirect::to("/ui/vaults"))
}

#[derive(Template)]
#[template(path = "organization.html")]
struct OrganizationPage {
    chrome: Chrome,
}

/// `GET /ui/organization`: convert or create; leave, transfer, delete.
pub async fn organization_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "organization").await?;
    render(&OrganizationPage { chrome })
}

fn required_name(form: &SteppedUp) -> String {
    form.name.clone().unwrap_or_default().trim().to_owned()
}

/// `POST /ui/organization/convert`: a step-up, then the personal vault becomes an
/// organization (its secrets stay; a new personal vault is made).
pub async fn convert(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<SteppedUp>,
) -> Result<Redirect, WebError> {
    step_up_with(&state, &mut member, meta.clone(), form.step_up()).await?;
    vaults::convert_vault(
        State(state),
        member.caller,
        meta,
        ApiJson(OrganizationNameRequest {
            name: required_name(&form),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/organization/create`: a new, empty organization; this session moves there.
pub async fn create(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<Name>,
) -> Result<Redirect, WebError> {
    let (_, ApiJson(vault)) = vaults::create_organization(
        State(state.clone()),
        member.caller.clone(),
        meta.clone(),
        ApiJson(OrganizationNameRequest {
            name: form.name.trim().to_owned(),
        }),
    )
    .await?;
    vaults::switch_vault(
        State(state),
        member.caller,
        meta,
        ApiJson(strongroom_proto::SwitchVaultRequest { vault: vault.id }),
    )
    .await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/organization/leave`: back to the personal vault.
pub async fn leave(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    vaults::leave_vault(State(state), member.caller, meta).await?;
    Ok(Redirect::to("/ui/vaults"))
}

/// `POST /ui/organization/transfer`: a step-up, then another member becomes the owner.
pub async fn transfer(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<SteppedUp>,
) -> Result<Redirect, WebError> {
    step_up_with(&state, &mut member, meta.clone(), form.step_up()).await?;
    vaults::transfer_ownership(
        State(state),
        member.caller,
        meta,
        ApiJson(TransferRequest {
            username: form.username.clone().unwrap_or_default().trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/members"))
}

/// `POST /ui/organization/delete`: a step-up, then the organization is deleted (its owner
/// may restore it for 30 days).
pub async fn delete(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<SteppedUp>,
) -> Result<Redirect, WebError> {
    step_up_with(&state, &mut member, meta.clone(), form.step_up()).await?;
    vaults::delete_organization(State(state), member.caller, meta).await?;
    Ok(Redirect::to("/ui/vaults"))
}

#[derive(Deserialize)]
pub struct VaultParams {
    vault: String,
}

/// `POST /ui/vaults/{vault}/restore`: a step-up, then a deleted organization comes back.
pub async fn restore(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<VaultParams>,
    WebForm(form): WebForm<SteppedUp>,
) -> Result<Response, WebError> {
    step_up_with(&state, &mut member, meta.clone(), form.step_up()).await?;
    vaults::restore_organization(State(state), member.caller, meta, ApiPath(params.vault)).await?;
    Ok(Redirect::to("/ui/vaults").into_response())
}

#[derive(Template)]
#[template(path = "billing.html")]
struct BillingPage {
    chrome: Chrome,
    roster: Option<Roster>,
}

/// `GET /ui/billing`: the plan, the members it counts and its cap.
pub async fn billing_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let roster = permitted(
        members::list_members(
            State(state.clone()),
            member.caller.clone(),
            ApiQuery(ListParams {
                limit: Some(1),
                cursor: None,
            }),
        )
        .await,
    )?
    .map(|ApiJson(r)| r);
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "members").await?;
    render(&BillingPage { chrome, roster })
}
