//! The role editors. Vault roles are a matrix of cells, category by category: built-in
//! roles read-only, custom roles editable on the enterprise plan. Access roles choose a
//! scope, per-project capability toggles (on by default), per-environment overrides and
//! deny rules. Cells the author does not hold are disabled with the reason, and every
//! save first shows its effect ("3 members gain reveal on …") and asks to confirm.

use super::forms::{FormPairs, Name, WebForm, WebPath};
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::extract::{ApiJson, ApiPath, ClientMeta};
use crate::routes::{access_roles, roles};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use strongroom_core::Error;
use strongroom_core::access::{
    AccessOutcome, AccessRole, AccessRoleSpec, ScopeSpec, SwitchesSpec, Verb,
};
use strongroom_core::authz::{Principal, Standing};
use strongroom_core::capability::{Capabilities, Capability};
use strongroom_core::names::EnvironmentPath;
use strongroom_proto::{
    AccessRoleInfo, CreateAccessRoleRequest, CreateRoleRequest, EditAccessRoleRequest,
    EditRoleRequest, EffectPreview, RoleInfo,
};

/// What the author holds, to disable what they cannot give.
struct Author {
    cells: Capabilities,
    /// `None` for owners and admins, who see everything.
    access: Option<std::sync::Arc<AccessRole>>,
}

impl Author {
    fn of(member: &Member) -> Self {
        match &member.caller.principal {
            Principal::Member(m) => match m.standing {
                Standing::Active(role) => Self {
                    cells: role.capabilities(),
                    access: if role.sees_everything() {
                        None
                    } else {
                        Some(
                            m.access
                                .clone()
                                .unwrap_or_else(|| std::sync::Arc::new(AccessRole::nothing())),
                        )
                    },
                },
                _ => Self {
                    cells: Capabilities::NONE,
                    access: Some(std::sync::Arc::new(AccessRole::nothing())),
                },
            },
            _ => Self {
                cells: Capabilities::NONE,
                access: Some(std::sync::Arc::new(AccessRole::nothing())),
            },
        }
    }

    fn holds_on(&self, verb: Verb, envs: &[&EnvironmentPath]) -> bool {
        match &self.access {
            None => true,
            Some(role) => envs
                .iter()
                .any(|e| role.decide_environment(verb, e) == AccessOutcome::Allowed),
        }
    }
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<RoleInfo>,
    access_roles: Vec<AccessRoleInfo>,
    enterprise: bool,
}

/// `GET /ui/roles`: vault roles and access roles.
pub async fn roles_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) = roles::list_roles(State(state.clone()), member.caller.clone()).await?;
    let ApiJson(access) =
        access_roles::list_access_roles(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "roles").await?;
    let enterprise = chrome
        .current
        .as_ref()
        .is_some_and(|v| v.plan == "enterprise");
    render(&RolesPage {
        chrome,
        roles: list.items,
        access_roles: access.items,
        enterprise,
    })
}

/// One cell of the matrix, as drawn.
pub struct Cell {
    pub name: &'static str,
    pub label: &'static str,
    pub checked: bool,
    /// Why it cannot be changed here, if it cannot.
    pub locked: Option<String>,
}

/// One category row of the matrix.
pub struct Category {
    pub name: &'static str,
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "vault_role.html")]
struct VaultRolePage {
    chrome: Chrome,
    role: RoleInfo,
    description: String,
    matrix: Vec<Category>,
    /// Why the role cannot be edited here at all, if it cannot.
    read_only: Option<String>,
    preview: Option<EffectPreview>,
    saved: bool,
}

fn matrix(held: Capabilities, author: &Author, read_only: bool) -> Vec<Category> {
    let mut rows: Vec<Category> = Vec::new();
    for cell in Capability::ALL {
        let (category, label) = cell.category_and_cell();
        let locked = if read_only {
            Some("read-only".to_owned())
        } else if Capabilities::OWNER_ONLY.contains(cell) {
            Some(format!("{} stays the owner's alone", cell.as_str()))
        } else if !author.cells.contains(cell) {
            Some(format!("you do not hold {} yourself", cell.as_str()))
        } else {
            None
        };
        let drawn = Cell {
            name: cell.as_str(),
            label,
            checked: held.contains(cell),
            locked,
        };
        match rows.iter_mut().find(|r| r.name == category) {
            Some(row) => row.cells.push(drawn),
            None => rows.push(Category {
                name: category,
                cells: vec![drawn],
            }),
        }
    }
    rows
}

#[derive(Deserialize)]
pub struct RoleParams {
    name: String,
}

async fn vault_role_view(
    state: &AppState,
    member: &Member,
    name: &str,
    proposed: Option<(Capabilities, String)>,
    preview: Option<EffectPreview>,
    saved: bool,
) -> Result<Html<String>, WebError> {
    let ApiJson(role) = roles::get_role(
        State(state.clone()),
        member.caller.clone(),
        ApiPath(name.to_owned()),
    )
    .await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "roles").await?;
    let enterprise = chrome
        .current
        .as_ref()
        .is_some_and(|v| v.plan == "enterprise");
    let author = Author::of(member);
    let read_only = if role.kind == "built_in" {
        Some(
            "Built-in roles are read-only. Create a custom role to choose cells one by one."
                .to_owned(),
        )
    } else if !enterprise {
        Some(format!(
            "Custom vault roles are edited on the enterprise plan; {} is on {}.",
            chrome.current_name(),
            chrome
                .current
                .as_ref()
                .map_or("another plan", |v| v.plan.as_str())
        ))
    } else if !author.cells.contains(Capability::RolesManage) {
        Some("You do not hold Roles: manage, so you can look but not change.".to_owned())
    } else {
        None
    };
    let (held, description) = match proposed {
        Some(p) => p,
        None => (
            Capabilities::parse_names(role.capabilities.iter().map(String::as_str))?,
            role.summary.clone(),
        ),
    };
    render(&VaultRolePage {
        matrix: matrix(held, &author, read_only.is_some()),
        chrome,
        description,
        role,
        read_only,
        preview,
        saved,
    })
}

/// `GET /ui/roles/{name}`: the role's row of the matrix.
pub async fn vault_role_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<RoleParams>,
) -> Result<Html<String>, WebError> {
    vault_role_view(&state, &member, &params.name, None, None, false).await
}

fn role_file(form: &FormPairs) -> serde_json::Value {
    serde_json::json!({
        "description": form.one("description").unwrap_or(""),
        "capabilities": form.all("cell"),
    })
}

/// `POST /ui/roles/{name}`: shows the effect of the chosen cells; with `confirm`, saves.
pub async fn save_vault_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<RoleParams>,
    form: FormPairs,
) -> Result<Response, WebError> {
    let spec = role_file(&form);
    if form.one("confirm") == Some("yes") {
        roles::edit_role(
            State(state.clone()),
            member.caller.clone(),
            meta,
            ApiPath(params.name.clone()),
            ApiJson(EditRoleRequest { spec }),
        )
        .await?;
        return Ok(
            vault_role_view(&state, &member, &params.name, None, None, true)
                .await?
                .into_response(),
        );
    }
    let cells = Capabilities::parse_names(form.all("cell"))?;
    let ApiJson(preview) = roles::preview_role(
        State(state.clone()),
        member.caller.clone(),
        ApiPath(params.name.clone()),
        ApiJson(EditRoleRequest { spec }),
    )
    .await?;
    let description = form.one("description").unwrap_or("").to_owned();
    Ok(vault_role_view(
        &state,
        &member,
        &params.name,
        Some((cells, description)),
        Some(preview),
        false,
    )
    .await?
    .into_response())
}

/// `POST /ui/roles`: a new custom role with no cells, to be filled in on its page.
pub async fn create_vault_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<Name>,
) -> Result<Redirect, WebError> {
    let (_, ApiJson(role)) = roles::create_role(
        State(state),
        member.caller,
        meta,
        ApiJson(CreateRoleRequest {
            name: form.name.trim().to_owned(),
            spec: serde_json::json!({"capabilities": ["overview"]}),
        }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/roles/{}", role.name)))
}

/// A toggle of the access-role editor.
pub struct Toggle {
    /// The form value it sends when on.
    pub value: String,
    pub label: String,
    pub checked: bool,
    pub locked: Option<String>,
}

/// One project's row of toggles.
pub struct ProjectRow {
    pub path: String,
    pub in_scope: Toggle,
    pub verbs: Vec<Toggle>,
    pub machines: Toggle,
    pub policies: Toggle,
}

/// One environment name's row of overrides.
pub struct EnvironmentRow {
    pub name: String,
    pub verbs: Vec<Toggle>,
}

#[derive(Template)]
#[template(path = "access_role.html")]
struct AccessRolePage {
    chrome: Chrome,
    name: String,
    holders: i64,
    scope_kind: &'static str,
    everything_locked: Option<String>,
    applications: Vec<Toggle>,
    everywhere: Vec<Toggle>,
    projects: Vec<ProjectRow>,
    environments: Vec<EnvironmentRow>,
    deny: String,
    other_switches: bool,
    /// Why the role cannot be changed here, if it cannot.
    read_only: Option<String>,
    preview: Option<EffectPreview>,
    saved: bool,
}

fn verb_toggles(
    prefix: &str,
    off: &BTreeSet<String>,
    author: &Author,
    envs: &[&EnvironmentPath],
    place: &str,
) -> Vec<Toggle> {
    Verb::ALL
        .iter()
        .map(|verb| Toggle {
            value: format!("{prefix}{}", verb.as_str()),
            label: verb.as_str().to_owned(),
            checked: !off.contains(verb.as_str()),
            locked: (!author.holds_on(*verb, envs))
                .then(|| format!("you do not hold {} {place}", verb.as_str())),
        })
        .collect()
}

fn set(list: &[String]) -> BTreeSet<String> {
    list.iter().cloned().collect()
}

/// The editor's toggles for one access role, as drawn.
struct EditorModel {
    scope_kind: &'static str,
    everything_locked: Option<String>,
    applications: Vec<Toggle>,
    everywhere: Vec<Toggle>,
    projects: Vec<ProjectRow>,
    environments: Vec<EnvironmentRow>,
}

fn access_view_model(
    spec: &AccessRoleSpec,
    envs: &[EnvironmentPath],
    author: &Author,
) -> EditorModel {
    let all: Vec<&EnvironmentPath> = envs.iter().collect();
    let (kind, apps_in, projects_in): (&'static str, BTreeSet<String>, BTreeSet<String>) =
        match &spec.scope {
            ScopeSpec::Everything => ("everything", BTreeSet::new(), BTreeSet::new()),
            ScopeSpec::Applications(a) => ("applications", set(a), BTreeSet::new()),
            ScopeSpec::Projects(p) => ("projects", BTreeSet::new(), set(p)),
        };
    let everything_locked = author
        .access
        .as_ref()
        .filter(|a| !a.opens_everything())
        .map(|_| "your own access role does not open everything".to_owned());
    let app_names: BTreeSet<String> = envs
        .iter()
        .map(|e| e.project.application.to_string())
        .collect();
    let applications = app_names
        .iter()
        .map(|app| Toggle {
            value: app.clone(),
            label: app.clone(),
            checked: apps_in.contains(app),
            locked: author
                .access
                .as_ref()
                .filter(|a| !a.opens_whole_application(app))
                .map(|_| format!("your access role does not open all of {app}")),
        })
        .collect();
    let everywhere = verb_toggles("", &set(&spec.everywhere.off), author, &all, "anywhere");
    let project_names: BTreeSet<String> = envs.iter().map(|e| e.project.to_string()).collect();
    let projects = project_names
        .iter()
        .map(|path| {
            let in_project: Vec<&EnvironmentPath> = envs
                .iter()
                .filter(|e| e.project.to_string() == *path)
                .collect();
            let switches = spec.projects.get(path).cloned().unwrap_or_default();
            let (app, project) = path.split_once('/').unwrap_or((path, ""));
            let opens = author
                .access
                .as_ref()
                .is_none_or(|a| a.opens_project(app, project));
            let lock = (!opens).then(|| format!("your access role does not open {path}"));
            ProjectRow {
                path: path.clone(),
                in_scope: Toggle {
                    value: path.clone(),
                    label: path.clone(),
                    checked: projects_in.contains(path),
                    locked: lock.clone(),
                },
                verbs: verb_toggles(
                    &format!("{path}:"),
                    &set(&switches.off),
                    author,
                    &in_project,
                    &format!("on {path}"),
                ),
                machines: Toggle {
                    value: path.clone(),
                    label: "machines".into(),
                    checked: switches.machines.unwrap_or(true),
                    locked: lock.clone(),
                },
                policies: Toggle {
                    value: path.clone(),
                    label: "policies".into(),
                    checked: switches.policies.unwrap_or(true),
                    locked: lock,
                },
            }
        })
        .collect();
    let mut env_names: BTreeSet<String> = envs.iter().map(|e| e.environment.to_string()).collect();
    env_names.extend(spec.everywhere.environments.keys().cloned());
    let environments = env_names
        .iter()
        .map(|name| {
            let named: Vec<&EnvironmentPath> = envs
                .iter()
                .filter(|e| e.environment.as_str() == name)
                .collect();
            let off = spec
                .everywhere
                .environments
                .get(name)
                .map(|v| set(v))
                .unwrap_or_default();
            EnvironmentRow {
                name: name.clone(),
                verbs: verb_toggles(
                    &format!("{name}:"),
                    &off,
                    author,
                    &named,
                    &format!("in {name}"),
                ),
            }
        })
        .collect();
    EditorModel {
        scope_kind: kind,
        everything_locked,
        applications,
        everywhere,
        projects,
        environments,
    }
}

/// The access role the form describes, keeping what the form does not show (switches by
/// secret type) from `base`.
fn spec_from_form(
    form: &FormPairs,
    base: &AccessRoleSpec,
    envs: &[EnvironmentPath],
) -> AccessRoleSpec {
    let verbs_off = |on: Vec<&str>, prefix: &str| -> Vec<String> {
        Verb::ALL
            .iter()
            .map(|v| v.as_str())
            .filter(|v| !on.contains(&format!("{prefix}{v}").as_str()))
            .map(str::to_owned)
            .collect()
    };
    let scope = match form.one("scope") {
        Some("applications") => {
            ScopeSpec::Applications(form.all("app").into_iter().map(str::to_owned).collect())
        }
        Some("projects") => {
            ScopeSpec::Projects(form.all("project").into_iter().map(str::to_owned).collect())
        }
        _ => ScopeSpec::Everything,
    };
    let env_on = form.all("env_on");
    let mut env_names: BTreeSet<String> = envs.iter().map(|e| e.environment.to_string()).collect();
    env_names.extend(base.everywhere.environments.keys().cloned());
    let environments: BTreeMap<String, Vec<String>> = env_names
        .into_iter()
        .map(|name| {
            let off = verbs_off(env_on.clone(), &format!("{name}:"));
            (name, off)
        })
        .filter(|(_, off)| !off.is_empty())
        .collect();
    let project_on = form.all("project_on");
    let machines_on = form.all("project_machines");
    let policies_on = form.all("project_policies");
    let project_names: BTreeSet<String> = envs.iter().map(|e| e.project.to_string()).collect();
    let mut projects = BTreeMap::new();
    for path in project_names {
        let kept = base.projects.get(&path).cloned().unwrap_or_default();
        let switches = SwitchesSpec {
            off: verbs_off(project_on.clone(), &format!("{path}:")),
            off_by_type: kept.off_by_type,
            environments: kept.environments,
            machines: (!machines_on.contains(&path.as_str())).then_some(false),
            policies: (!policies_on.contains(&path.as_str())).then_some(false),
        };
        if switches != SwitchesSpec::default() {
            projects.insert(path, switches);
        }
    }
    AccessRoleSpec {
        scope,
        everywhere: SwitchesSpec {
            off: verbs_off(form.all("on"), ""),
            off_by_type: base.everywhere.off_by_type.clone(),
            environments,
            machines: base.everywhere.machines,
            policies: base.everywhere.policies,
        },
        projects,
        deny: form
            .one("deny")
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// An access role as stored, and the environments its editor lays out: loaded once per
/// request, whether the page then shows it, previews an edit or saves one.
struct StoredRole {
    info: AccessRoleInfo,
    spec: AccessRoleSpec,
    envs: Vec<EnvironmentPath>,
}

impl StoredRole {
    async fn load(state: &AppState, member: &Member, name: &str) -> Result<Self, WebError> {
        let ApiJson(info) = access_roles::get_access_role(
            State(state.clone()),
            member.caller.clone(),
            ApiPath(name.to_owned()),
        )
        .await?;
        let envs = environments(state, member).await?;
        Self::of(info, envs)
    }

    fn of(info: AccessRoleInfo, envs: Vec<EnvironmentPath>) -> Result<Self, WebError> {
        let spec = serde_json::from_value(info.spec.clone())
            .map_err(|e| Error::internal(format!("a stored access role did not read back: {e}")))?;
        Ok(Self { info, spec, envs })
    }
}

async fn access_role_view(
    state: &AppState,
    member: &Member,
    stored: StoredRole,
    proposed: Option<AccessRoleSpec>,
    preview: Option<EffectPreview>,
    saved: bool,
) -> Result<Html<String>, WebError> {
    let StoredRole { info, spec, envs } = stored;
    let spec = proposed.unwrap_or(spec);
    let author = Author::of(member);
    let EditorModel {
        scope_kind,
        everything_locked,
        applications,
        everywhere,
        projects,
        environments,
    } = access_view_model(&spec, &envs, &author);
    let other_switches = !spec.everywhere.off_by_type.is_empty()
        || spec
            .projects
            .values()
            .any(|p| !p.off_by_type.is_empty() || !p.environments.is_empty());
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "roles").await?;
    render(&AccessRolePage {
        chrome,
        name: info.name,
        holders: info.members,
        scope_kind,
        everything_locked,
        applications,
        everywhere,
        projects,
        environments,
        deny: spec.deny.join("\n"),
        other_switches,
        read_only: (!author.cells.contains(Capability::RolesManage))
            .then(|| "You do not hold Roles: manage, so you can look but not change.".to_owned()),
        preview,
        saved,
    })
}

async fn environments(state: &AppState, member: &Member) -> Result<Vec<EnvironmentPath>, WebError> {
    let authz = member
        .caller
        .in_vault(strongroom_core::authz::Action::ReadStructure)?;
    Ok(state.store.environment_paths(&authz).await?)
}

#[derive(Deserialize)]
pub struct AccessRoleParams {
    role: String,
}

/// `GET /ui/access-roles/{role}`: the editor.
pub async fn access_role_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<AccessRoleParams>,
) -> Result<Html<String>, WebError> {
    let stored = StoredRole::load(&state, &member, &params.role).await?;
    access_role_view(&state, &member, stored, None, None, false).await
}

/// `POST /ui/access-roles/{role}`: shows the effect of the edited role; with `confirm`,
/// saves it. The page's script posts here on every change (without `confirm`) to keep
/// the effect in view while the form is edited.
pub async fn save_access_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<AccessRoleParams>,
    form: FormPairs,
) -> Result<Response, WebError> {
    let stored = StoredRole::load(&state, &member, &params.role).await?;
    let spec = spec_from_form(&form, &stored.spec, &stored.envs);
    let file = serde_json::to_value(&spec)
        .map_err(|e| Error::internal(format!("an access role did not serialize: {e}")))?;
    if form.one("confirm") == Some("yes") {
        let ApiJson(edited) = access_roles::edit_access_role(
            State(state.clone()),
            member.caller.clone(),
            meta,
            ApiPath(params.role.clone()),
            ApiJson(EditAccessRoleRequest { spec: file }),
        )
        .await?;
        let saved = StoredRole::of(edited, stored.envs)?;
        return Ok(access_role_view(&state, &member, saved, None, None, true)
            .await?
            .into_response());
    }
    let ApiJson(preview) = access_roles::preview_access_role(
        State(state.clone()),
        member.caller.clone(),
        ApiPath(params.role.clone()),
        ApiJson(EditAccessRoleRequest { spec: file }),
    )
    .await?;
    Ok(
        access_role_view(&state, &member, stored, Some(spec), Some(preview), false)
            .await?
            .into_response(),
    )
}

/// `POST /ui/access-roles`: a new access role that opens nothing yet, to be shaped on its
/// page (an empty list of projects).
pub async fn create_access_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<Name>,
) -> Result<Redirect, WebError> {
    let (_, ApiJson(role)) = access_roles::create_access_role(
        State(state),
        member.caller,
        meta,
        ApiJson(CreateAccessRoleRequest {
            name: form.name.trim().to_owned(),
            spec: serde_json::json!({"scope": {"projects": []}}),
        }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/access-roles/{}", role.name)))
}

/// `POST /ui/roles/{name}/delete`: deletes a custom role nobody holds.
pub async fn delete_vault_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<RoleParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    roles::delete_role(State(state), member.caller, meta, ApiPath(params.name)).await?;
    Ok(Redirect::to("/ui/roles"))
}

/// `POST /ui/access-roles/{role}/delete`: deletes an access role nobody holds.
pub async fn delete_access_role(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<AccessRoleParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    access_roles::delete_access_role(State(state), member.caller, meta, ApiPath(params.role))
        .await?;
    Ok(Redirect::to("/ui/roles"))
}
