//! `GET /check`: how a decision would come out for a member, and why, in one line. Anyone
//! may ask about themselves; asking about others needs Roles: view.

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;
use axum::extract::State;
use serde::Deserialize;
use strongroom_core::access::Verb;
use strongroom_core::account::Username;
use strongroom_core::authz::Action;
use strongroom_core::capability::Capability;
use strongroom_core::explain::{Question, Subject, explain};
use strongroom_core::names::SecretPath;
use strongroom_core::secret::SecretType;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{CheckResult, ErrorBody};
use strongroom_store::CheckSubject;
use utoipa::IntoParams;

/// `?username=&action=&resource=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckParams {
    /// The member asked about.
    pub username: String,
    /// A secret verb (`read`, `write`, `use`, `reveal`, `delete`, `manage`) or a matrix
    /// cell such as `members.invite`.
    pub action: String,
    /// `APP/PROJECT/ENV/NAME` for a secret verb; `vault` (or nothing) for a cell.
    pub resource: Option<String>,
}

/// Explains the decision for one member, action and resource.
#[utoipa::path(get, path = "/check", tag = "members", security(("bearer" = [])), params(CheckParams),
    responses((status = 200, body = CheckResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<CheckParams>,
) -> Result<ApiJson<CheckResult>, ApiError> {
    let username = Username::parse(&params.username)
        .map_err(|_| Error::not_found(&format!("member '{}'", params.username)))?;
    let authz = if username == caller.username {
        caller.in_vault(Action::ExplainOwnAccess)?
    } else {
        caller.in_vault(Action::ViewRoles)?
    };
    let question = match params.action.parse::<Verb>() {
        Ok(verb) => {
            let resource = params.resource.as_deref().unwrap_or("");
            let path: SecretPath = resource.parse().map_err(|_| {
                Error::new(
                    ErrorCode::InvalidPath,
                    format!(
                        "'{}' needs a secret path APP/PROJECT/ENV/NAME as the resource",
                        params.action
                    ),
                )
            })?;
            let secret_type = known_type(&state, &caller, &path).await;
            Question::Secret {
                verb,
                path,
                secret_type,
            }
        }
        Err(_) => {
            let cell: Capability = params.action.parse().map_err(|_| {
                Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "unknown action '{}': use a secret verb (read, write, use, reveal, delete, manage) \
                         or a matrix cell such as members.invite",
                        params.action
                    ),
                )
            })?;
            Question::Capability(cell)
        }
    };
    let subject = state.store.check_subject(&authz, &username).await?;
    let answer = explain(&subject_of(&username, &subject), &question);
    Ok(ApiJson(CheckResult {
        allowed: answer.allowed,
        reason: answer.reason,
    }))
}

/// A secret's type, which type switches depend on; the caller learns it only if they
/// may read it.
async fn known_type(state: &AppState, caller: &Caller, path: &SecretPath) -> Option<SecretType> {
    let read = caller.in_vault(Action::ReadSecretMetadata).ok()?;
    state
        .store
        .secret_meta(&read, path)
        .await
        .ok()
        .map(|m| m.secret_type)
}

fn subject_of<'a>(username: &'a Username, subject: &'a CheckSubject) -> Subject<'a> {
    Subject {
        username: username.as_str(),
        standing: subject.standing,
        role_name: &subject.role_name,
        access: subject
            .access
            .as_ref()
            .map(|(name, role)| (name.as_str(), role.as_ref())),
    }
}

/// What `check` answers the caller about their own `verbs` on one secret, with the
/// subject and the secret's type loaded once for all of them (the dashboard asks this
/// to decide which buttons a secret's page offers, and why not).
pub async fn own_secret_answers(
    state: &AppState,
    caller: &Caller,
    path: &SecretPath,
    verbs: &[Verb],
) -> Result<Vec<CheckResult>, ApiError> {
    let authz = caller.in_vault(Action::ExplainOwnAccess)?;
    let secret_type = known_type(state, caller, path).await;
    let subject = state.store.check_subject(&authz, &caller.username).await?;
    let subject = subject_of(&caller.username, &subject);
    Ok(verbs
        .iter()
        .map(|verb| {
            let answer = explain(
                &subject,
                &Question::Secret {
                    verb: *verb,
                    path: path.clone(),
                    secret_type,
                },
            );
            CheckResult {
                allowed: answer.allowed,
                reason: answer.reason,
            }
        })
        .collect())
}
