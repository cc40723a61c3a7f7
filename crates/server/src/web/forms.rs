//! The dashboard's form bodies. Fields that hold a password, code or secret value are
//! [`Sensitive`]: zeroized when dropped, redacted in debug output.

use super::page::WebError;
use axum::extract::FromRequest;
use axum::extract::rejection::FormRejection;
use serde::Deserialize;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::Sensitive;

/// A URL-encoded form whose rejections are dashboard error pages.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(WebError))]
pub struct WebForm<T>(pub T);

impl From<FormRejection> for WebError {
    fn from(_: FormRejection) -> Self {
        // The parser's message can quote the input, and the input can be a secret.
        Error::new(
            ErrorCode::InvalidRequest,
            "the form could not be read; reload the page and try again",
        )
        .into()
    }
}

/// An empty form field is an absent one.
pub fn given(field: Option<String>) -> Option<String> {
    field.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty())
}

#[derive(Deserialize)]
pub struct SignIn {
    pub username: String,
    pub password: Sensitive,
    pub code: Option<String>,
    pub recovery_code: Option<Sensitive>,
}

#[derive(Deserialize)]
pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: Sensitive,
}

#[derive(Deserialize)]
pub struct Code {
    pub code: Sensitive,
}

/// Re-authentication, for the sensitive actions that need a recent step-up.
#[derive(Deserialize)]
pub struct StepUp {
    pub password: Sensitive,
    pub code: Option<String>,
}

#[derive(Deserialize)]
pub struct SwitchVault {
    pub vault: String,
}

#[derive(Deserialize)]
pub struct Name {
    pub name: String,
}

#[derive(Deserialize)]
pub struct NewSecret {
    pub name: String,
    pub value: Sensitive,
    pub secret_type: Option<String>,
    pub note: Option<String>,
    /// Comma-separated.
    pub tags: Option<String>,
}

#[derive(Deserialize)]
pub struct NewVersion {
    pub value: Sensitive,
    pub secret_type: Option<String>,
    pub note: Option<String>,
    /// Comma-separated.
    pub tags: Option<String>,
}

#[derive(Deserialize)]
pub struct Version {
    pub version: i64,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// Path parameters whose rejections are dashboard error pages.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(WebError))]
pub struct WebPath<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for WebError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        Error::new(
            ErrorCode::InvalidPath,
            "that address does not name a page here",
        )
        .into()
    }
}

/// `?cursor=` on a listing page.
#[derive(Deserialize, Default)]
pub struct Paging {
    pub cursor: Option<String>,
}

impl Paging {
    /// The API's list parameters for this page.
    pub fn list(&self) -> crate::extract::ListParams {
        crate::extract::ListParams {
            limit: Some(100),
            cursor: given(self.cursor.clone()),
        }
    }
}

#[derive(Deserialize)]
pub struct Invite {
    pub email: String,
    pub vault_role: Option<String>,
}

#[derive(Deserialize)]
pub struct NewLink {
    pub expires_in_hours: Option<u32>,
    pub max_uses: Option<String>,
}

#[derive(Deserialize)]
pub struct VaultRole {
    pub vault_role: String,
}

#[derive(Deserialize)]
pub struct AccessRole {
    pub access_role: Option<String>,
}

#[derive(Deserialize)]
pub struct JoinLink {
    pub link: Sensitive,
}

/// A step-up followed by an organization change: its name, or the new owner's.
#[derive(Deserialize)]
pub struct SteppedUp {
    pub password: Sensitive,
    pub code: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
}

impl SteppedUp {
    /// The step-up part.
    pub fn step_up(&self) -> StepUp {
        StepUp {
            password: Sensitive::new(self.password.expose()),
            code: self.code.clone(),
        }
    }
}

/// A URL-encoded form read as its pairs, for forms with repeated fields (checkbox
/// groups), which the serde form reader cannot express.
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = WebError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, WebError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                WebError::from(Error::new(
                    ErrorCode::InvalidRequest,
                    "the form could not be read; reload the page and try again",
                ))
            })?;
        Ok(Self(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl FormPairs {
    /// Every value of field `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of field `name`, trimmed; empty is absent.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// A step-up, then a new password or email address.
#[derive(Deserialize)]
pub struct AccountChange {
    pub password: Sensitive,
    pub code: Option<String>,
    pub new_password: Option<Sensitive>,
    pub email: Option<String>,
}

impl AccountChange {
    /// The step-up part.
    pub fn step_up(&self) -> StepUp {
        StepUp {
            password: Sensitive::new(self.password.expose()),
            code: self.code.clone(),
        }
    }
}

/// A pasted dotenv file.
#[derive(Deserialize)]
pub struct Dotenv {
    pub dotenv: Sensitive,
}
