//! Applications, projects and environments in the session's vault.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, ClientMeta, ListParams, ProjectParams, Requester,
};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::authz::Action;
use strongroom_core::names::{ApplicationName, EnvironmentPath, ProjectPath};
use strongroom_proto::{CreateRequest, ErrorBody, List, Node, ProjectCreated};

/// The vault's applications, by name.
#[utoipa::path(get, path = "/apps", tag = "structure", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = List<Node>), (status = 401, body = ErrorBody)))]
pub async fn list_apps(
    State(state): State<AppState>,
    caller: Requester,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<Node>>, ApiError> {
    let authz = caller.in_vault(Action::ReadStructure)?;
    let page = state
        .store
        .list_applications(&authz, &params.page("apps")?)
        .await?;
    Ok(Json(convert::list(page, "apps", |n| {
        convert::node(n, None)
    })))
}

/// Creates an application.
#[utoipa::path(post, path = "/apps", tag = "structure", security(("bearer" = [])), request_body = CreateRequest,
    responses(
        (status = 201, body = Node),
        (status = 400, description = "invalid_name", body = ErrorBody),
        (status = 409, description = "already_exists", body = ErrorBody)))]
pub async fn create_app(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Node>), ApiError> {
    let name: ApplicationName = body.name.parse()?;
    let authz = caller.in_vault(Action::WriteStructure)?;
    let app = state
        .store
        .create_application(&authz, &name, &meta.origin())
        .await?;
    Ok((StatusCode::CREATED, Json(convert::node(&app, None))))
}

/// An application's projects, by name.
#[utoipa::path(get, path = "/apps/{app}/projects", tag = "structure", security(("bearer" = [])),
    params(("app" = String, Path, description = "Application name"), ListParams),
    responses((status = 200, body = List<Node>), (status = 404, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    caller: Requester,
    ApiPath(app): ApiPath<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<Node>>, ApiError> {
    let app: ApplicationName = app.parse()?;
    let authz = caller.in_vault(Action::ReadStructure)?;
    let page = state
        .store
        .list_projects(&authz, &app, &params.page("projects")?)
        .await?;
    Ok(Json(convert::list(page, "projects", |n| {
        convert::node(n, Some(app.as_str()))
    })))
}

/// Creates a project, with its own data key and the environments development, staging
/// and production.
#[utoipa::path(post, path = "/apps/{app}/projects", tag = "structure", security(("bearer" = [])),
    params(("app" = String, Path, description = "Application name")), request_body = CreateRequest,
    responses(
        (status = 201, body = ProjectCreated),
        (status = 404, description = "No such application", body = ErrorBody),
        (status = 409, description = "already_exists", body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<ProjectCreated>), ApiError> {
    let path: ProjectPath = ProjectPath {
        application: app.parse()?,
        project: body.name.parse()?,
    };
    let authz = caller.in_vault(Action::WriteStructure)?;
    let (project, envs) = state
        .store
        .create_project(&authz, &path, &meta.origin())
        .await?;
    let project_path = path.to_string();
    Ok((
        StatusCode::CREATED,
        Json(ProjectCreated {
            project: convert::node(&project, Some(path.application.as_str())),
            environments: envs
                .iter()
                .map(|e| convert::node(e, Some(&project_path)))
                .collect(),
        }),
    ))
}

/// A project's environments, by name.
#[utoipa::path(get, path = "/apps/{app}/projects/{project}/envs", tag = "structure", security(("bearer" = [])),
    params(ProjectParams, ListParams),
    responses((status = 200, body = List<Node>), (status = 404, body = ErrorBody)))]
pub async fn list_envs(
    State(state): State<AppState>,
    caller: Requester,
    ApiPath(params): ApiPath<ProjectParams>,
    ApiQuery(list): ApiQuery<ListParams>,
) -> Result<Json<List<Node>>, ApiError> {
    let path = params.path()?;
    let authz = caller.in_vault(Action::ReadStructure)?;
    let page = state
        .store
        .list_environments(&authz, &path, &list.page("envs")?)
        .await?;
    let parent = path.to_string();
    Ok(Json(convert::list(page, "envs", |n| {
        convert::node(n, Some(&parent))
    })))
}

/// Adds an environment to a project.
#[utoipa::path(post, path = "/apps/{app}/projects/{project}/envs", tag = "structure", security(("bearer" = [])),
    params(ProjectParams), request_body = CreateRequest,
    responses(
        (status = 201, body = Node),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "already_exists", body = ErrorBody)))]
pub async fn create_env(
    State(state): State<AppState>,
    caller: Requester,
    meta: ClientMeta,
    ApiPath(params): ApiPath<ProjectParams>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Node>), ApiError> {
    let path = EnvironmentPath {
        project: params.path()?,
        environment: body.name.parse()?,
    };
    let authz = caller.in_vault(Action::WriteStructure)?;
    let env = state
        .store
        .create_environment(&authz, &path, &meta.origin())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(convert::node(&env, Some(&path.project.to_string()))),
    ))
}
