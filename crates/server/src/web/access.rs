//! "Why": what a member may do where, and who may do what with one secret. My access
//! lays out the member's vault-role cells and, environment by environment, the verbs
//! their access role opens, each refusal with its reason; a secret's Access tab lists
//! the members, machines and tokens that can read, use or reveal it, and who has
//! revealed it, from the audit log. Every answer comes from the decision functions the
//! requests themselves go through.

use super::forms::given;
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ListParams};
use crate::routes::{access_roles, audit, check, members, secrets, tokens};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use strongroom_core::ErrorCode;
use strongroom_core::access::{AccessOutcome, AccessRole, AccessRoleSpec, Verb, Verbs, Verdict};
use strongroom_core::authz::{Action, Standing, VaultRole};
use strongroom_core::capability::Capability;
use strongroom_core::names::{EnvironmentPath, SecretPath};
use strongroom_core::runtime::{Attachment, RuntimeAccess};
use strongroom_core::secret::SecretType;
use strongroom_proto::{AuditEntryInfo, CheckResult};

/// One verb's answer in one place.
pub struct Answer {
    pub allowed: bool,
    pub why: String,
}

fn reason(outcome: &AccessOutcome) -> String {
    match outcome {
        AccessOutcome::Allowed => String::new(),
        AccessOutcome::OutOfScope => "outside your access role's scope".into(),
        AccessOutcome::DeniedByRule(rule) => format!("denied by the rule {rule}"),
        AccessOutcome::SwitchedOff(verb) => format!("{verb} is switched off here"),
        AccessOutcome::RefusedByPolicy(why) => why.clone(),
    }
}

/// One environment's row of My access.
pub struct PlaceRow {
    pub path: String,
    pub answers: Vec<Answer>,
}

#[derive(Template)]
#[template(path = "my_access.html")]
struct MyAccessPage {
    chrome: Chrome,
    /// "You are developer in acme, with the access role readers." and the like.
    standing: String,
    cells: Vec<(&'static str, &'static str)>,
    verbs: Vec<&'static str>,
    places: Vec<PlaceRow>,
    asked: Option<(String, String, CheckResult)>,
    /// Whether the member may ask about others (Roles: view).
    asks_for_others: bool,
}

/// `?verb=&path=`: a question about one secret, answered as `strongroom check` would.
#[derive(Deserialize, Default)]
pub struct Question {
    verb: Option<String>,
    path: Option<String>,
    /// Another member to ask about (needs Roles: view); the member themselves when absent.
    who: Option<String>,
}

/// `GET /ui/access`: what the member may do where, and why.
pub async fn my_access_page(
    State(state): State<AppState>,
    member: Member,
    Query(question): Query<Question>,
) -> Result<Html<String>, WebError> {
    let authz = member.caller.in_vault(Action::ExplainOwnAccess)?;
    let subject = state
        .store
        .check_subject(&authz, &member.caller.username)
        .await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "access").await?;
    let vault = chrome.current_name().to_owned();
    let (standing, cells, access): (String, Vec<_>, Option<Arc<AccessRole>>) = match subject
        .standing
    {
        Standing::Active(role) => {
            let cells = Capability::ALL
                .into_iter()
                .filter(|c| role.capabilities().contains(*c))
                .map(Capability::category_and_cell)
                .collect();
            let (line, access) = if role.sees_everything() {
                (
                    format!(
                        "You are {} in {vault}: you open every application, with every verb.",
                        subject.role_name
                    ),
                    None,
                )
            } else {
                match &subject.access {
                    Some((name, compiled)) => (
                        format!(
                            "You are {} in {vault}, and open applications through the access role {name}.",
                            subject.role_name
                        ),
                        Some(compiled.clone()),
                    ),
                    None => (
                        format!(
                            "You are {} in {vault} and hold no access role, so you open no application; \
                                 an admin gives you one on the Members page.",
                            subject.role_name
                        ),
                        Some(Arc::new(AccessRole::nothing())),
                    ),
                }
            };
            (line, cells, access)
        }
        Standing::Suspended => (
            format!(
                "You are suspended in {vault}: you can do nothing here until someone who manages members unsuspends you."
            ),
            Vec::new(),
            Some(Arc::new(AccessRole::nothing())),
        ),
        _ => (
            format!("You are not an active member of {vault}."),
            Vec::new(),
            Some(Arc::new(AccessRole::nothing())),
        ),
    };
    let places = match member.caller.in_vault(Action::ReadStructure) {
        Ok(read) => state.store.environment_paths(&read).await?,
        Err(_) => Vec::new(),
    };
    let places = places
        .iter()
        .map(|env: &EnvironmentPath| PlaceRow {
            path: env.to_string(),
            answers: Verb::ALL
                .iter()
                .map(|verb| match &access {
                    None => Answer {
                        allowed: true,
                        why: String::new(),
                    },
                    Some(role) => {
                        let outcome = role.decide_environment(*verb, env);
                        Answer {
                            allowed: outcome == AccessOutcome::Allowed,
                            why: reason(&outcome),
                        }
                    }
                })
                .collect(),
        })
        .collect();
    let asked = match (given(question.verb), given(question.path)) {
        (Some(verb), Some(path)) => {
            let who = given(question.who).unwrap_or_else(|| member.caller.username.to_string());
            let ApiJson(answer) = check::check(
                State(state.clone()),
                member.caller.clone(),
                ApiQuery(check::CheckParams {
                    username: who.clone(),
                    action: verb.clone(),
                    resource: Some(path.clone()),
                }),
            )
            .await?;
            Some((format!("{who}: {verb}"), path, answer))
        }
        _ => None,
    };
    render(&MyAccessPage {
        chrome,
        standing,
        cells,
        verbs: Verb::ALL.iter().map(|v| v.as_str()).collect(),
        places,
        asked,
        asks_for_others: member.caller.in_vault(Action::ViewRoles).is_ok(),
    })
}

/// Who holds which of read, use and reveal on one secret.
pub struct Holder {
    pub name: String,
    /// Vault role and access role, machine status, or token kind.
    pub detail: String,
    pub read: bool,
    pub use_: bool,
    pub reveal: bool,
}

impl Holder {
    fn of(name: String, detail: String, verbs: Verbs) -> Self {
        Self {
            name,
            detail,
            read: verbs.contains(Verb::Read),
            use_: verbs.contains(Verb::Use),
            reveal: verbs.contains(Verb::Reveal),
        }
    }
}

/// Who holds a secret, or why the member may not see that list.
type Holders = Result<Vec<Holder>, String>;

/// A section the member may not see, and why.
fn hidden<T>(answer: Result<T, ApiError>) -> Result<Result<T, String>, WebError> {
    match answer {
        Ok(value) => Ok(Ok(value)),
        Err(e) if e.0.code() == ErrorCode::PermissionDenied => Ok(Err(e.0.message().to_owned())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "secret_access.html")]
struct SecretAccessPage {
    chrome: Chrome,
    path: String,
    href: String,
    members: Holders,
    machines: Holders,
    tokens: Holders,
    reveals: Result<Vec<AuditEntryInfo>, String>,
}

async fn member_holders(
    state: &AppState,
    member: &Member,
    path: &SecretPath,
    secret_type: Option<SecretType>,
) -> Result<Holders, WebError> {
    let roster = match hidden(
        members::list_members(
            State(state.clone()),
            member.caller.clone(),
            ApiQuery(ListParams {
                limit: Some(1000),
                cursor: None,
            }),
        )
        .await,
    )? {
        Ok(ApiJson(roster)) => roster,
        Err(why) => return Ok(Err(why)),
    };
    let roles = match hidden(
        access_roles::list_access_roles(State(state.clone()), member.caller.clone()).await,
    )? {
        Ok(ApiJson(list)) => list.items,
        Err(why) => return Ok(Err(why)),
    };
    // Each access role is compiled once, whatever the number of members holding it.
    let mut compiled: HashMap<String, AccessRole> = HashMap::new();
    for role in roles {
        let spec: AccessRoleSpec = serde_json::from_value(role.spec).map_err(|e| {
            strongroom_core::Error::internal(format!("a stored access role did not read back: {e}"))
        })?;
        compiled.insert(role.name, AccessRole::compile(&spec)?);
    }
    Ok(Ok(roster
        .items
        .into_iter()
        .map(|m| {
            let sees_everything = m
                .vault_role
                .parse::<VaultRole>()
                .is_ok_and(VaultRole::sees_everything);
            let verbs = if m.status != "active" {
                Verbs::default()
            } else if sees_everything {
                Verbs::of(&Verb::ALL)
            } else {
                match m.access_role.as_ref().and_then(|name| compiled.get(name)) {
                    Some(role) => match role.verdict(path, secret_type) {
                        Verdict::Open(off) => off.complement(),
                        _ => Verbs::default(),
                    },
                    None => Verbs::default(),
                }
            };
            let detail = match &m.access_role {
                Some(a) => format!("{} · access role {a} · {}", m.vault_role, m.status),
                None => format!("{} · {}", m.vault_role, m.status),
            };
            Holder::of(m.username, detail, verbs)
        })
        .filter(|h| h.read || h.use_ || h.reveal)
        .collect()))
}

async fn token_holders(
    state: &AppState,
    member: &Member,
    path: &SecretPath,
) -> Result<Holders, WebError> {
    let list = match hidden(tokens::list_tokens(State(state.clone()), member.caller.clone()).await)?
    {
        Ok(ApiJson(list)) => list.items,
        Err(why) => return Ok(Err(why)),
    };
    let mut holders = Vec::new();
    for token in list.into_iter().filter(|t| t.status == "active") {
        let verbs = Verbs::parse(&token.verbs)?;
        let mut attachments = Vec::new();
        for scope in &token.scopes {
            let (project, env) = match scope.matches('/').count() {
                2 => {
                    let (project, env) = scope.rsplit_once('/').unwrap_or((scope, ""));
                    (project.to_owned(), Some(env.to_owned()))
                }
                _ => (scope.clone(), None),
            };
            let Ok(project) = project.parse() else {
                continue;
            };
            attachments.push(Attachment {
                project,
                environments: env.into_iter().filter_map(|e| e.parse().ok()).collect(),
                verbs,
            });
        }
        let mut held = match RuntimeAccess::new(&attachments, &[]).verdict(path) {
            Verdict::Open(off) => off.complement(),
            _ => continue,
        };
        if token.kind == "agent" {
            // An agent token never receives a plaintext value, whatever its verbs.
            held = Verbs::of(
                &held
                    .iter()
                    .filter(|v| *v != Verb::Reveal)
                    .collect::<Vec<_>>(),
            );
        }
        holders.push(Holder::of(
            token.name,
            format!("{} token", token.kind),
            held,
        ));
    }
    Ok(Ok(holders))
}

impl SecretAccessPage {
    /// The holder tables, in the order they are shown.
    fn sections(&self) -> [(&'static str, &'static str, &Holders); 3] {
        [
            ("Members", "access-members", &self.members),
            ("Machines", "access-machines", &self.machines),
            ("Agent and CI tokens", "access-tokens", &self.tokens),
        ]
    }
}

/// `GET /ui/apps/{…}/{name}/access`: who can read, use or reveal this secret, and who has.
pub async fn secret_access_page(
    State(state): State<AppState>,
    member: Member,
    super::forms::WebPath(params): super::forms::WebPath<crate::extract::SecretParams>,
) -> Result<Html<String>, WebError> {
    let href = format!(
        "/ui/apps/{}/{}/{}/{}",
        params.app, params.project, params.env, params.name
    );
    let path = params.path()?;
    // The secret must be one the member may read at all; otherwise it does not exist.
    let axum::Json(meta) = secrets::get_secret(
        State(state.clone()),
        member.requester(),
        ApiPath(crate::extract::SecretParams {
            app: params.app.clone(),
            project: params.project.clone(),
            env: params.env.clone(),
            name: params.name.clone(),
        }),
    )
    .await?;
    let secret_type = meta.secret_type.parse::<SecretType>().ok();
    let members = member_holders(&state, &member, &path, secret_type).await?;
    let machines = match hidden(member.caller.in_vault(Action::ManageMachines))? {
        Ok(authz) => Ok(state
            .store
            .machines_reaching(&authz, &path)
            .await?
            .into_iter()
            .map(|m| {
                let how = if m.granted {
                    "granted this secret"
                } else {
                    "attached to the project"
                };
                Holder::of(m.name, format!("{how} · {}", m.status), m.verbs)
            })
            .collect()),
        Err(why) => Err(why),
    };
    let tokens = token_holders(&state, &member, &path).await?;
    let reveals = match hidden(
        audit::list_audit(
            State(state.clone()),
            member.caller.clone(),
            ApiQuery(audit::AuditParams {
                actor: None,
                actor_kind: None,
                action: Some("secret.reveal".into()),
                target: Some(path.to_string()),
                severity: None,
                outcome: Some("allowed".into()),
                since: None,
                until: None,
                order: None,
                limit: Some(100),
                cursor: None,
            }),
        )
        .await,
    )? {
        Ok(ApiJson(list)) => Ok(list
            .items
            .into_iter()
            .filter(|e| e.target == path.to_string())
            .collect()),
        Err(why) => Err(why),
    };
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "secrets").await?;
    render(&SecretAccessPage {
        chrome,
        path: path.to_string(),
        href,
        members,
        machines,
        tokens,
        reveals,
    })
}
