//! Machines, agent and CI tokens, and access policies: registering, attaching,
//! granting, AppRole secret ids, creating and revoking tokens (their secrets shown
//! once), and the conditions policies put on them. Each form calls the API's handler.

use super::forms::{FormPairs, WebForm, WebPath, given};
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::extract::{ApiJson, ApiPath, ClientMeta};
use crate::routes::{machines, policies, tokens};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use serde::Deserialize;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{
    ApproleIssued, ApproleSecrets, AttachMachineRequest, CreatePolicyRequest, CreateTokenRequest,
    GrantMachineRequest, IssueApproleRequest, MachineDetail, MachineInfo, PolicyInfo,
    RegisterMachineRequest, TokenInfo,
};

/// A number field: empty is absent, anything else must be a whole number.
fn number(form: &FormPairs, name: &str) -> Result<Option<u32>, WebError> {
    form.one(name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                WebError::from(Error::new(
                    ErrorCode::InvalidValue,
                    format!("{name} must be a whole number (or empty)"),
                ))
            })
        })
        .transpose()
}

/// A comma- or line-separated list field.
fn list(form: &FormPairs, name: &str) -> Vec<String> {
    form.one(name)
        .unwrap_or("")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn owned(values: Vec<&str>) -> Vec<String> {
    values.into_iter().map(str::to_owned).collect()
}

#[derive(Template)]
#[template(path = "machines.html")]
struct MachinesPage {
    chrome: Chrome,
    machines: Vec<MachineInfo>,
}

/// `GET /ui/machines`.
pub async fn machines_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) =
        machines::list_machines(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "machines").await?;
    render(&MachinesPage {
        chrome,
        machines: list.items,
    })
}

/// `POST /ui/machines`: registers a machine's public key.
pub async fn register(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    form: FormPairs,
) -> Result<Redirect, WebError> {
    let (_, ApiJson(machine)) = machines::register_machine(
        State(state),
        member.caller,
        meta,
        ApiJson(RegisterMachineRequest {
            name: form.one("name").unwrap_or("").to_owned(),
            public_key: form.one("public_key").unwrap_or("").to_owned(),
            expires_in_hours: number(&form, "expires_in_hours")?,
        }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/machines/{}", machine.name)))
}

#[derive(Deserialize)]
pub struct MachineParams {
    machine: String,
}

#[derive(Template)]
#[template(path = "machine.html")]
struct MachinePage {
    chrome: Chrome,
    detail: MachineDetail,
    approle: ApproleSecrets,
    /// A secret id just issued, shown once.
    issued: Option<ApproleIssued>,
}

async fn machine_view(
    state: &AppState,
    member: &Member,
    name: &str,
    issued: Option<ApproleIssued>,
) -> Result<Html<String>, WebError> {
    let ApiJson(detail) = machines::get_machine(
        State(state.clone()),
        member.caller.clone(),
        ApiPath(name.to_owned()),
    )
    .await?;
    let ApiJson(approle) = machines::list_approle(
        State(state.clone()),
        member.caller.clone(),
        ApiPath(name.to_owned()),
    )
    .await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "machines").await?;
    render(&MachinePage {
        chrome,
        detail,
        approle,
        issued,
    })
}

/// `GET /ui/machines/{machine}`.
pub async fn machine_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<MachineParams>,
) -> Result<Html<String>, WebError> {
    machine_view(&state, &member, &params.machine, None).await
}

fn back(machine: &str) -> Redirect {
    Redirect::to(&format!("/ui/machines/{machine}"))
}

/// `POST /ui/machines/{machine}/attach`: opens a project (some environments) to it.
pub async fn attach(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<MachineParams>,
    form: FormPairs,
) -> Result<Redirect, WebError> {
    machines::attach_machine(
        State(state),
        member.caller,
        meta,
        ApiPath(params.machine.clone()),
        ApiJson(AttachMachineRequest {
            project: form.one("project").unwrap_or("").to_owned(),
            environments: list(&form, "environments"),
            verbs: owned(form.all("verb")),
        }),
    )
    .await?;
    Ok(back(&params.machine))
}

#[derive(Deserialize)]
pub struct AttachmentParams {
    machine: String,
    app: String,
    project: String,
}

/// `POST /ui/machines/{machine}/attachments/{app}/{project}/detach`.
pub async fn detach(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<AttachmentParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    let machine = params.machine.clone();
    machines::detach_machine(
        State(state),
        member.caller,
        meta,
        ApiPath(machines::AttachmentParams {
            machine: params.machine,
            app: params.app,
            project: params.project,
        }),
    )
    .await?;
    Ok(back(&machine))
}

/// `POST /ui/machines/{machine}/grant`: opens one secret to it.
pub async fn grant(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<MachineParams>,
    form: FormPairs,
) -> Result<Redirect, WebError> {
    machines::grant_machine(
        State(state),
        member.caller,
        meta,
        ApiPath(params.machine.clone()),
        ApiJson(GrantMachineRequest {
            path: form.one("path").unwrap_or("").to_owned(),
            verbs: owned(form.all("verb")),
        }),
    )
    .await?;
    Ok(back(&params.machine))
}

#[derive(Deserialize)]
pub struct GrantParams {
    machine: String,
    app: String,
    project: String,
    env: String,
    name: String,
}

/// `POST /ui/machines/{machine}/grants/{app}/{project}/{env}/{name}/revoke`.
pub async fn revoke_grant(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<GrantParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    let machine = params.machine.clone();
    machines::revoke_machine_grant(
        State(state),
        member.caller,
        meta,
        ApiPath(machines::GrantParams {
            machine: params.machine,
            app: params.app,
            project: params.project,
            env: params.env,
            name: params.name,
        }),
    )
    .await?;
    Ok(back(&machine))
}

/// `POST /ui/machines/{machine}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<MachineParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    machines::disable_machine(
        State(state),
        member.caller,
        meta,
        ApiPath(params.machine.clone()),
    )
    .await?;
    Ok(back(&params.machine))
}

/// `POST /ui/machines/{machine}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<MachineParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    machines::enable_machine(
        State(state),
        member.caller,
        meta,
        ApiPath(params.machine.clone()),
    )
    .await?;
    Ok(back(&params.machine))
}

/// `POST /ui/machines/{machine}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<MachineParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    machines::remove_machine(State(state), member.caller, meta, ApiPath(params.machine)).await?;
    Ok(Redirect::to("/ui/machines"))
}

/// `POST /ui/machines/{machine}/approle`: a new AppRole secret id, shown once.
pub async fn issue_approle(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<MachineParams>,
    form: FormPairs,
) -> Result<Html<String>, WebError> {
    let (_, ApiJson(issued)) = machines::issue_approle(
        State(state.clone()),
        member.caller.clone(),
        meta,
        ApiPath(params.machine.clone()),
        ApiJson(IssueApproleRequest {
            expires_in_hours: number(&form, "expires_in_hours")?,
            token_ttl_minutes: number(&form, "token_ttl_minutes")?,
        }),
    )
    .await?;
    machine_view(&state, &member, &params.machine, Some(issued)).await
}

#[derive(Deserialize)]
pub struct ApproleParams {
    machine: String,
    id: String,
}

/// `POST /ui/machines/{machine}/approle/{id}/revoke`.
pub async fn revoke_approle(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<ApproleParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    machines::revoke_approle(
        State(state),
        member.caller,
        meta,
        ApiPath((params.machine.clone(), params.id)),
    )
    .await?;
    Ok(back(&params.machine))
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenInfo>,
    /// A token just made: its name and secret, shown once.
    created: Option<(String, String)>,
}

async fn tokens_view(
    state: &AppState,
    member: &Member,
    created: Option<(String, String)>,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) = tokens::list_tokens(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "tokens").await?;
    render(&TokensPage {
        chrome,
        tokens: list.items,
        created,
    })
}

/// `GET /ui/tokens`.
pub async fn tokens_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    tokens_view(&state, &member, None).await
}

/// `POST /ui/tokens`: a new agent or CI token; its secret is shown once.
pub async fn create_token(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    form: FormPairs,
) -> Result<Html<String>, WebError> {
    let (_, ApiJson(created)) = tokens::create_token(
        State(state.clone()),
        member.caller.clone(),
        meta,
        ApiJson(CreateTokenRequest {
            name: form.one("name").unwrap_or("").to_owned(),
            kind: form.one("kind").unwrap_or("").to_owned(),
            scopes: list(&form, "scopes"),
            verbs: owned(form.all("verb")),
            expires_in_hours: number(&form, "expires_in_hours")?,
            cidrs: list(&form, "cidrs"),
        }),
    )
    .await?;
    tokens_view(
        &state,
        &member,
        Some((created.token.name, created.secret.into_inner())),
    )
    .await
}

#[derive(Deserialize)]
pub struct TokenParams {
    token: String,
}

/// `POST /ui/tokens/{token}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<TokenParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    tokens::revoke_token(State(state), member.caller, meta, ApiPath(params.token)).await?;
    Ok(Redirect::to("/ui/tokens"))
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    chrome: Chrome,
    policies: Vec<PolicyInfo>,
    days: [&'static str; 7],
}

impl PoliciesPage {
    fn conditions(&self, p: &PolicyInfo) -> String {
        serde_json::to_string(&p.spec).unwrap_or_default()
    }
}

/// `GET /ui/policies`.
pub async fn policies_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) =
        policies::list_policies(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "policies").await?;
    render(&PoliciesPage {
        chrome,
        policies: list.items,
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    })
}

/// The policy file the form describes.
fn policy_spec(form: &FormPairs) -> Result<serde_json::Value, WebError> {
    let mut spec = serde_json::Map::new();
    let cidrs = list(form, "cidrs");
    if !cidrs.is_empty() {
        spec.insert("cidrs".into(), cidrs.into());
    }
    let environments = list(form, "environments");
    if !environments.is_empty() {
        spec.insert("environments".into(), environments.into());
    }
    let days = owned(form.all("day"));
    match (form.one("from"), form.one("to")) {
        (Some(from), Some(to)) => {
            spec.insert(
                "window".into(),
                serde_json::json!({
                    "days": if days.is_empty() { owned(vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"]) } else { days },
                    "from": from,
                    "to": to,
                    "time_zone": form.one("time_zone").unwrap_or("UTC"),
                }),
            );
        }
        (None, None) if days.is_empty() => {}
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a time window needs both its opening and its closing time",
            )
            .into());
        }
    }
    for field in ["reads_per_minute", "reads_per_day", "max_reads"] {
        if let Some(n) = number(form, field)? {
            spec.insert(field.into(), n.into());
        }
    }
    if let Some(until) = given(form.one("expires_at").map(str::to_owned)) {
        let until = if until.len() == 16 {
            format!("{until}:00Z")
        } else {
            until
        };
        spec.insert("expires_at".into(), until.into());
    }
    Ok(serde_json::Value::Object(spec))
}

/// `POST /ui/policies`.
pub async fn create_policy(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    form: FormPairs,
) -> Result<Redirect, WebError> {
    let subject = form.one("subject").unwrap_or("");
    let (machine, token) = match form.one("subject_kind") {
        Some("token") => (None, Some(subject.to_owned())),
        _ => (Some(subject.to_owned()), None),
    };
    policies::create_policy(
        State(state),
        member.caller,
        meta,
        ApiJson(CreatePolicyRequest {
            name: form.one("name").unwrap_or("").to_owned(),
            machine,
            token,
            project: form.one("project").map(str::to_owned),
            spec: policy_spec(&form)?,
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/policies"))
}

#[derive(Deserialize)]
pub struct PolicyParams {
    policy: String,
}

/// `POST /ui/policies/{policy}/delete`.
pub async fn delete_policy(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<PolicyParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    policies::delete_policy(State(state), member.caller, meta, ApiPath(params.policy)).await?;
    Ok(Redirect::to("/ui/policies"))
}
