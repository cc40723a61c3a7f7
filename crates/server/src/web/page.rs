//! What every dashboard page shares: the header (who is signed in, the vault switcher),
//! the CSRF token for its forms, and the error page. Errors are the API's own errors,
//! rendered as a page whose one line says why and what to do next.

use crate::error::{ApiError, mark_failure, status_for};
use crate::extract::Caller;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::VaultInfo;

/// The header of a signed-in page.
pub struct Chrome {
    pub csrf: String,
    pub username: String,
    /// Every vault the member belongs to, for the switcher.
    pub vaults: Vec<VaultInfo>,
    /// The vault this session acts in (none when the member has just left or been
    /// removed from it: they pick another).
    pub current: Option<VaultInfo>,
    /// Which section of the navigation is lit.
    pub section: &'static str,
}

impl Chrome {
    /// The header for `caller`, with `section` lit.
    pub async fn of(
        state: &AppState,
        caller: &Caller,
        csrf: &str,
        section: &'static str,
    ) -> Result<Self, WebError> {
        let axum::Json(list) =
            crate::routes::vaults::list_vaults(State(state.clone()), caller.clone()).await?;
        let current = list.items.iter().find(|v| v.current).cloned();
        Ok(Self {
            csrf: csrf.to_owned(),
            username: caller.username.to_string(),
            vaults: list.items,
            current,
            section,
        })
    }

    /// The current vault's name, for sentences.
    pub fn current_name(&self) -> &str {
        self.current
            .as_ref()
            .map_or("this vault", |v| v.name.as_str())
    }
}

/// Renders a page.
pub fn render<T: Template>(page: &T) -> Result<Html<String>, WebError> {
    page.render()
        .map(Html)
        .map_err(|e| Error::internal(format!("template failed: {e}")).into())
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum WebError {
    /// Nobody is signed in (or the session ended): go to the sign-in page.
    SignIn,
    /// The API's error, shown as a page.
    Failed(Error),
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        Self::Failed(e.0)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    code: &'a str,
    message: &'a str,
}

fn title_of(code: ErrorCode) -> &'static str {
    match status_for(code) {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Permission denied",
        StatusCode::UNAUTHORIZED => "Sign-in needed",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        StatusCode::CONFLICT => "Conflict",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let error = match self {
            Self::SignIn => return Redirect::to("/ui/signin").into_response(),
            Self::Failed(e) => e,
        };
        let status = status_for(error.code());
        if status.is_server_error() {
            tracing::error!(
                code = error.code().as_str(),
                detail = error.internal_detail().unwrap_or(""),
                "dashboard request failed"
            );
        }
        let page = ErrorPage {
            status: status.as_u16(),
            title: title_of(error.code()),
            code: error.code().as_str(),
            message: error.message(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".into());
        let mut response = (status, Html(body)).into_response();
        mark_failure(&mut response, &error);
        response
    }
}

/// Unknown dashboard paths.
pub async fn not_found(uri: Uri) -> WebError {
    let _ = uri;
    Error::new(
        ErrorCode::RouteNotFound,
        "there is no such page; start again from the Vaults page",
    )
    .into()
}
