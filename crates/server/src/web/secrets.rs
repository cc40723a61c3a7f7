//! Browsing applications → projects → environments → secrets; writing versions, history,
//! comparison, rollback, reveal (a separate, audited action), the trash. Listings show
//! what the API lists (only what may be read); values appear only after a reveal.

use super::forms::{self, Empty, Name, NewSecret, NewVersion, Paging, Version, WebForm, WebPath};
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, ClientMeta, EnvParams, ProjectParams, SecretParams,
};
use crate::routes::{check, secrets, structure};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use strongroom_core::ErrorCode;
use strongroom_core::access::Verb;
use strongroom_core::names::SecretPath;
use strongroom_proto::{
    CreateRequest, Node, RollbackRequest, SecretMetadata, SecretVersionInfo, SecretWriteRequest,
    TrashedSecretInfo,
};

/// One link of the breadcrumb trail.
pub struct Crumb {
    pub label: String,
    pub href: String,
}

fn crumbs(parts: &[&str]) -> Vec<Crumb> {
    let mut href = String::from("/ui/apps");
    let mut trail = vec![Crumb {
        label: "Applications".into(),
        href: href.clone(),
    }];
    for part in parts {
        href = format!("{href}/{part}");
        trail.push(Crumb {
            label: (*part).to_owned(),
            href: href.clone(),
        });
    }
    trail
}

/// The applications, projects or environments of one level.
#[derive(Template)]
#[template(path = "folder.html")]
struct FolderPage {
    chrome: Chrome,
    title: String,
    crumbs: Vec<Crumb>,
    /// What the items are, for the empty state and the form ("application").
    kind: &'static str,
    items: Vec<Node>,
    base: String,
    next_cursor: Option<String>,
    /// What creating one does, under the form.
    hint: &'static str,
    /// Why nothing can be listed here, when the member may not open the vault's secrets.
    denied: Option<String>,
}

impl FolderPage {
    fn empty_state(&self) -> String {
        format!(
            "There is no {} here yet. Create the first one below.",
            self.kind
        )
    }
}

async fn folder(
    state: &AppState,
    member: &Member,
    parts: &[&str],
    kind: &'static str,
    hint: &'static str,
    list: Result<strongroom_proto::List<Node>, crate::error::ApiError>,
) -> Result<Html<String>, WebError> {
    // A refusal to list the vault's applications is shown in the page, with its reason,
    // so the header's switcher stays at hand.
    let (list, denied) = match list {
        Ok(list) => (list, None),
        Err(e) if parts.is_empty() && e.0.code() == ErrorCode::PermissionDenied => (
            strongroom_proto::List {
                items: Vec::new(),
                next_cursor: None,
            },
            Some(e.0.message().to_owned()),
        ),
        Err(e) => return Err(e.into()),
    };
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "secrets").await?;
    let title = parts
        .last()
        .map_or_else(|| "Applications".to_owned(), |p| (*p).to_owned());
    let mut trail = crumbs(parts);
    let base = trail.last().map(|c| c.href.clone()).unwrap_or_default();
    trail.pop();
    render(&FolderPage {
        chrome,
        title,
        crumbs: trail,
        kind,
        items: list.items,
        base,
        next_cursor: list.next_cursor,
        hint,
        denied,
    })
}

/// `GET /ui/apps`.
pub async fn apps_page(
    State(state): State<AppState>,
    member: Member,
    Query(paging): Query<Paging>,
) -> Result<Html<String>, WebError> {
    let list = structure::list_apps(
        State(state.clone()),
        member.requester(),
        ApiQuery(paging.list()),
    )
    .await
    .map(|axum::Json(list)| list);
    folder(
        &state,
        &member,
        &[],
        "application",
        "An application groups the projects of one product, such as payments.",
        list,
    )
    .await
}

/// `POST /ui/apps`.
pub async fn create_app(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<Name>,
) -> Result<Redirect, WebError> {
    let (_, axum::Json(app)) = structure::create_app(
        State(state),
        member.requester(),
        meta,
        ApiJson(CreateRequest {
            name: form.name.trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/apps/{}", app.path)))
}

#[derive(Deserialize)]
pub struct AppParams {
    app: String,
}

/// `GET /ui/apps/{app}`.
pub async fn projects_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<AppParams>,
    Query(paging): Query<Paging>,
) -> Result<Html<String>, WebError> {
    let list = structure::list_projects(
        State(state.clone()),
        member.requester(),
        ApiPath(params.app.clone()),
        ApiQuery(paging.list()),
    )
    .await
    .map(|axum::Json(list)| list);
    folder(
        &state,
        &member,
        &[&params.app],
        "project",
        "A new project gets the environments development, staging and production.",
        list,
    )
    .await
}

/// `POST /ui/apps/{app}`.
pub async fn create_project(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<AppParams>,
    WebForm(form): WebForm<Name>,
) -> Result<Redirect, WebError> {
    let (_, axum::Json(created)) = structure::create_project(
        State(state),
        member.requester(),
        meta,
        ApiPath(params.app),
        ApiJson(CreateRequest {
            name: form.name.trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/apps/{}", created.project.path)))
}

/// `GET /ui/apps/{app}/{project}`.
pub async fn environments_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<ProjectParams>,
    Query(paging): Query<Paging>,
) -> Result<Html<String>, WebError> {
    let list = structure::list_envs(
        State(state.clone()),
        member.requester(),
        ApiPath(ProjectParams {
            app: params.app.clone(),
            project: params.project.clone(),
        }),
        ApiQuery(paging.list()),
    )
    .await
    .map(|axum::Json(list)| list);
    folder(
        &state,
        &member,
        &[&params.app, &params.project],
        "environment",
        "An environment holds the secrets of one deployment, such as production.",
        list,
    )
    .await
}

/// `POST /ui/apps/{app}/{project}`.
pub async fn create_environment(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<ProjectParams>,
    WebForm(form): WebForm<Name>,
) -> Result<Redirect, WebError> {
    let (_, axum::Json(env)) = structure::create_env(
        State(state),
        member.requester(),
        meta,
        ApiPath(params),
        ApiJson(CreateRequest {
            name: form.name.trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/apps/{}", env.path)))
}

/// The secret types a form offers.
fn secret_types() -> Vec<&'static str> {
    strongroom_core::secret::SecretType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect()
}

#[derive(Template)]
#[template(path = "secrets.html")]
struct SecretsPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    env: String,
    base: String,
    secrets: Vec<SecretMetadata>,
    next_cursor: Option<String>,
    types: Vec<&'static str>,
    /// Where the import form posts.
    import_href: String,
    /// What an import just did.
    imported: Option<strongroom_proto::ImportResult>,
}

fn env_params(params: &EnvParams) -> EnvParams {
    EnvParams {
        app: params.app.clone(),
        project: params.project.clone(),
        env: params.env.clone(),
    }
}

/// `GET /ui/apps/{app}/{project}/{env}`: names and metadata, never values.
pub async fn secrets_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<EnvParams>,
    Query(paging): Query<Paging>,
) -> Result<Html<String>, WebError> {
    secrets_view(&state, &member, &params, &paging, None).await
}

async fn secrets_view(
    state: &AppState,
    member: &Member,
    params: &EnvParams,
    paging: &Paging,
    imported: Option<strongroom_proto::ImportResult>,
) -> Result<Html<String>, WebError> {
    let axum::Json(list) = secrets::list_secrets(
        State(state.clone()),
        member.requester(),
        ApiPath(env_params(params)),
        ApiQuery(paging.list()),
    )
    .await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "secrets").await?;
    let mut trail = crumbs(&[&params.app, &params.project, &params.env]);
    let base = trail.pop().map(|c| c.href).unwrap_or_default();
    render(&SecretsPage {
        chrome,
        crumbs: trail,
        env: params.env.clone(),
        base,
        secrets: list.items,
        next_cursor: list.next_cursor,
        types: secret_types(),
        import_href: format!(
            "/ui/import/{}/{}/{}",
            params.app, params.project, params.env
        ),
        imported,
    })
}

/// `POST /ui/import/{app}/{project}/{env}`: a pasted dotenv file, set in one
/// transaction (a new version only where a value differs).
pub async fn import(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<EnvParams>,
    WebForm(form): WebForm<forms::Dotenv>,
) -> Result<Html<String>, WebError> {
    let parsed = strongroom_core::dotenv::parse(form.dotenv.expose()).map_err(|why| {
        strongroom_core::Error::new(
            ErrorCode::InvalidValue,
            format!("the file could not be read: {why}"),
        )
    })?;
    let axum::Json(result) = secrets::import(
        State(state.clone()),
        member.requester(),
        meta,
        ApiPath(env_params(&params)),
        ApiJson(strongroom_proto::ImportRequest {
            secrets: parsed
                .into_iter()
                .map(|(name, value)| (name, strongroom_proto::Sensitive::new(value)))
                .collect(),
        }),
    )
    .await?;
    secrets_view(&state, &member, &params, &Paging::default(), Some(result)).await
}

fn write_request(
    value: strongroom_proto::Sensitive,
    secret_type: Option<String>,
    note: Option<String>,
    tags: Option<String>,
) -> SecretWriteRequest {
    SecretWriteRequest {
        value,
        secret_type: forms::given(secret_type),
        note: note.map(|n| n.trim().to_owned()),
        tags: tags.map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        expected_version: None,
    }
}

/// `POST /ui/apps/{app}/{project}/{env}`: a new secret (its first version).
pub async fn create_secret(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<EnvParams>,
    WebForm(form): WebForm<NewSecret>,
) -> Result<Redirect, WebError> {
    let secret = SecretParams {
        app: params.app,
        project: params.project,
        env: params.env,
        name: form.name.trim().to_owned(),
    };
    let axum::Json(written) = secrets::put_secret(
        State(state),
        member.requester(),
        meta,
        ApiPath(secret),
        ApiJson(write_request(
            form.value,
            form.secret_type,
            form.note,
            form.tags,
        )),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/apps/{}", written.path)))
}

fn secret_href(p: &SecretParams) -> String {
    format!("/ui/apps/{}/{}/{}/{}", p.app, p.project, p.env, p.name)
}

fn copy_params(p: &SecretParams) -> SecretParams {
    SecretParams {
        app: p.app.clone(),
        project: p.project.clone(),
        env: p.env.clone(),
        name: p.name.clone(),
    }
}

/// Whether the member may do `verb` on the secret, and the one-line why (the same
/// answer as `strongroom check`).
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// The member's own decisions for `verbs` on the secret at `path`, as `strongroom check`
/// would answer them; a question that cannot be asked is a refusal with its reason.
async fn decide(
    state: &AppState,
    member: &Member,
    verbs: &[Verb],
    path: &SecretPath,
) -> Vec<Decision> {
    match check::own_secret_answers(state, &member.caller, path, verbs).await {
        Ok(answers) => answers
            .into_iter()
            .map(|a| Decision {
                allowed: a.allowed,
                reason: a.reason,
            })
            .collect(),
        Err(e) => verbs
            .iter()
            .map(|_| Decision {
                allowed: false,
                reason: e.0.message().to_owned(),
            })
            .collect(),
    }
}

/// `?a=&b=`: two versions to compare.
#[derive(Deserialize, Default)]
pub struct Compare {
    a: Option<i64>,
    b: Option<i64>,
}

/// One metadata row of a comparison.
pub struct Difference {
    pub field: &'static str,
    pub a: String,
    pub b: String,
}

impl Difference {
    pub fn differs(&self) -> bool {
        self.a != self.b
    }
}

fn version_state(v: &SecretVersionInfo) -> String {
    if v.destroyed_at.is_some() {
        "destroyed".into()
    } else if v.deleted_at.is_some() {
        "deleted".into()
    } else {
        "live".into()
    }
}

fn compare(a: &SecretVersionInfo, b: &SecretVersionInfo) -> Vec<Difference> {
    let row = |field, f: &dyn Fn(&SecretVersionInfo) -> String| Difference {
        field,
        a: f(a),
        b: f(b),
    };
    vec![
        row("Version", &|v| v.version.to_string()),
        row("Type", &|v| v.secret_type.clone()),
        row("Note", &|v| v.note.clone()),
        row("Tags", &|v| v.tags.join(", ")),
        row("Written", &|v| v.created_at.clone()),
        row("Written by", &|v| v.created_by.clone().unwrap_or_default()),
        row("Rolled back from", &|v| {
            v.rolled_back_from
                .map(|n| n.to_string())
                .unwrap_or_default()
        }),
        row("State", &version_state),
    ]
}

#[derive(Template)]
#[template(path = "secret.html")]
struct SecretPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    href: String,
    secret: SecretMetadata,
    versions: Vec<SecretVersionInfo>,
    reveal: Decision,
    write: Decision,
    delete: Decision,
    /// The value, after a reveal.
    revealed: Option<Revealed>,
    comparison: Option<(i64, i64, Vec<Difference>)>,
    types: Vec<&'static str>,
}

/// A revealed value, on the page that asked for it only.
pub struct Revealed {
    pub version: i64,
    pub value: strongroom_proto::Sensitive,
}

impl SecretPage {
    fn state_of(&self, v: &SecretVersionInfo) -> String {
        version_state(v)
    }
}

async fn secret_view(
    state: &AppState,
    member: &Member,
    params: &SecretParams,
    revealed: Option<Revealed>,
    wanted: Compare,
) -> Result<Html<String>, WebError> {
    let axum::Json(secret) = secrets::get_secret(
        State(state.clone()),
        member.requester(),
        ApiPath(copy_params(params)),
    )
    .await?;
    let axum::Json(history) = secrets::list_versions(
        State(state.clone()),
        member.requester(),
        ApiPath(copy_params(params)),
        ApiQuery(crate::extract::ListParams {
            limit: Some(1000),
            cursor: None,
        }),
    )
    .await?;
    let [reveal, write, delete]: [Decision; 3] = decide(
        state,
        member,
        &[Verb::Reveal, Verb::Write, Verb::Delete],
        &params.path()?,
    )
    .await
    .try_into()
    .map_err(|_| strongroom_core::Error::internal("three questions, three answers"))?;
    let comparison = match (wanted.a, wanted.b) {
        (Some(a), Some(b)) => {
            let find = |n| history.items.iter().find(|v| v.version == n);
            match (find(a), find(b)) {
                (Some(va), Some(vb)) => Some((a, b, compare(va, vb))),
                _ => {
                    return Err(strongroom_core::Error::new(
                        ErrorCode::NotFound,
                        "no such version to compare; pick two from the history",
                    )
                    .into());
                }
            }
        }
        _ => None,
    };
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "secrets").await?;
    let mut trail = crumbs(&[&params.app, &params.project, &params.env, &params.name]);
    trail.pop();
    render(&SecretPage {
        chrome,
        crumbs: trail,
        href: secret_href(params),
        secret,
        versions: history.items,
        reveal,
        write,
        delete,
        revealed,
        comparison,
        types: secret_types(),
    })
}

/// `GET /ui/apps/{app}/{project}/{env}/{name}`: metadata and history; `?a=&b=` compares.
pub async fn secret_page(
    State(state): State<AppState>,
    member: Member,
    WebPath(params): WebPath<SecretParams>,
    Query(wanted): Query<Compare>,
) -> Result<Html<String>, WebError> {
    secret_view(&state, &member, &params, None, wanted).await
}

/// `POST …/{name}`: a new version.
pub async fn write_version(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(form): WebForm<NewVersion>,
) -> Result<Redirect, WebError> {
    let axum::Json(written) = secrets::put_secret(
        State(state),
        member.requester(),
        meta,
        ApiPath(params),
        ApiJson(write_request(
            form.value,
            form.secret_type,
            form.note,
            form.tags,
        )),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/apps/{}", written.path)))
}

/// `POST …/{name}/reveal`: the value, audited as a reveal; a refusal explains itself.
pub async fn reveal(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Response, WebError> {
    let answer = secrets::reveal_secret(
        State(state.clone()),
        member.requester(),
        meta,
        ApiPath(copy_params(&params)),
        ApiQuery(secrets::VersionQuery { version: None }),
    )
    .await;
    match answer {
        Ok(axum::Json(value)) => {
            let revealed = Revealed {
                version: value.version,
                value: value.value,
            };
            Ok(
                secret_view(&state, &member, &params, Some(revealed), Compare::default())
                    .await?
                    .into_response(),
            )
        }
        Err(e)
            if matches!(
                e.0.code(),
                ErrorCode::PermissionDenied | ErrorCode::NotFound
            ) =>
        {
            // Say why, as `strongroom check` would; a secret the member cannot see at all
            // stays indistinguishable from one that does not exist.
            let path = params.path()?;
            let answers = decide(&state, &member, &[Verb::Reveal, Verb::Read], &path).await;
            let (reveal, read) = (&answers[0], &answers[1]);
            if reveal.allowed || (e.0.code() == ErrorCode::NotFound && !read.allowed) {
                return Err(e.into());
            }
            Err(
                strongroom_core::Error::new(ErrorCode::PermissionDenied, reveal.reason.clone())
                    .recorded_as_refusal("secret.reveal", &path.to_string())
                    .into(),
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST …/{name}/rollback`.
pub async fn rollback(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(form): WebForm<Version>,
) -> Result<Redirect, WebError> {
    let axum::Json(written) = secrets::rollback(
        State(state),
        member.requester(),
        meta,
        ApiPath(params),
        ApiJson(RollbackRequest { to: form.version }),
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/apps/{}", written.path)))
}

/// `POST …/{name}/delete`: to the trash.
pub async fn delete(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    let target = format!("/ui/apps/{}/{}/{}", params.app, params.project, params.env);
    secrets::delete_secret(State(state), member.requester(), meta, ApiPath(params)).await?;
    Ok(Redirect::to(&target))
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    chrome: Chrome,
    items: Vec<TrashedSecretInfo>,
    next_cursor: Option<String>,
}

/// `GET /ui/trash`.
pub async fn trash_page(
    State(state): State<AppState>,
    member: Member,
    Query(paging): Query<Paging>,
) -> Result<Html<String>, WebError> {
    let axum::Json(list) = secrets::list_trash(
        State(state.clone()),
        member.caller.clone(),
        ApiQuery(paging.list()),
    )
    .await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "trash").await?;
    render(&TrashPage {
        chrome,
        items: list.items,
        next_cursor: list.next_cursor,
    })
}

/// `POST /ui/trash/{…}/restore`.
pub async fn restore(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    let target = secret_href(&params);
    secrets::restore_secret(State(state), member.requester(), meta, ApiPath(params)).await?;
    Ok(Redirect::to(&target))
}

/// `POST /ui/trash/{…}/purge`: destroys it with every version.
pub async fn purge(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(_): WebForm<Empty>,
) -> Result<Redirect, WebError> {
    secrets::purge_secret(State(state), member.requester(), meta, ApiPath(params)).await?;
    Ok(Redirect::to("/ui/trash"))
}

/// Which per-version change a form asks for.
#[derive(Clone, Copy)]
pub enum VersionChange {
    Delete,
    Undelete,
    Destroy,
}

async fn change_version(
    state: AppState,
    member: Member,
    meta: ClientMeta,
    params: SecretParams,
    version: i64,
    change: VersionChange,
) -> Result<Redirect, WebError> {
    let (state, caller, path, body) = (
        State(state),
        member.requester(),
        ApiPath(params),
        ApiJson(strongroom_proto::VersionsRequest {
            versions: vec![version],
        }),
    );
    let axum::Json(changed) = match change {
        VersionChange::Delete => secrets::delete_versions(state, caller, meta, path, body).await,
        VersionChange::Undelete => {
            secrets::undelete_versions(state, caller, meta, path, body).await
        }
        VersionChange::Destroy => secrets::destroy_versions(state, caller, meta, path, body).await,
    }?;
    Ok(Redirect::to(&format!("/ui/apps/{}", changed.path)))
}

/// `POST …/{name}/versions/delete`: one version hidden (restorable).
pub async fn delete_version(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(form): WebForm<Version>,
) -> Result<Redirect, WebError> {
    change_version(
        state,
        member,
        meta,
        params,
        form.version,
        VersionChange::Delete,
    )
    .await
}

/// `POST …/{name}/versions/undelete`.
pub async fn undelete_version(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(form): WebForm<Version>,
) -> Result<Redirect, WebError> {
    change_version(
        state,
        member,
        meta,
        params,
        form.version,
        VersionChange::Undelete,
    )
    .await
}

/// `POST …/{name}/versions/destroy`: one version's value gone for good.
pub async fn destroy_version(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<SecretParams>,
    WebForm(form): WebForm<Version>,
) -> Result<Redirect, WebError> {
    change_version(
        state,
        member,
        meta,
        params,
        form.version,
        VersionChange::Destroy,
    )
    .await
}
