//! The one error renderer for the JSON API: `{"error": {"code", "message"}}` with a
//! status derived from the stable code. Internal details are logged with the request id,
//! never sent. Framework rejections (bad JSON, wrong content type, oversized body, bad
//! path or query) are mapped onto the same shape.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{ErrorBody, ErrorDetail};

/// The action and target a refusal names, when the handler knows them better than the
/// route does (the secret a policy refused), riding on the response to the audit layer.
#[derive(Debug, Clone)]
pub struct RecordedRefusal {
    pub action: String,
    pub target: String,
}

/// What a failed request failed with, riding on the response to the audit layer.
#[derive(Debug, Clone)]
pub struct FailedWith {
    pub code: ErrorCode,
    pub message: String,
}

/// A domain error on its way out as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

/// The HTTP status for each stable code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidName
        | ErrorCode::InvalidPath
        | ErrorCode::InvalidValue
        | ErrorCode::InvalidAccount
        | ErrorCode::InvalidPassword
        | ErrorCode::InvalidCursor => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated
        | ErrorCode::InvalidCredentials
        | ErrorCode::TotpRequired
        | ErrorCode::InvalidTotp
        | ErrorCode::StepUpRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::PermissionDenied
        | ErrorCode::PolicyDenied
        | ErrorCode::PlanLimitReached
        | ErrorCode::PlanRequired
        | ErrorCode::EmailNotVerified => StatusCode::FORBIDDEN,
        ErrorCode::InviteExpired
        | ErrorCode::InviteUnusable
        | ErrorCode::VersionDeleted
        | ErrorCode::VersionDestroyed => StatusCode::GONE,
        ErrorCode::CheckAndSetRequired => StatusCode::PRECONDITION_REQUIRED,
        ErrorCode::NotFound | ErrorCode::RouteNotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::AlreadyExists
        | ErrorCode::Conflict
        | ErrorCode::SecretInTrash
        | ErrorCode::VersionConflict => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = status_for(error.code());
        if status.is_server_error() {
            tracing::error!(
                code = error.code().as_str(),
                detail = error.internal_detail().unwrap_or(""),
                "request failed"
            );
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: error.code().as_str().to_owned(),
                message: error.message().to_owned(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        mark_failure(&mut response, &error);
        if error.code() == ErrorCode::Unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Tells the audit layer what a request failed with (and which action and target a
/// refusal names), and the client when to retry; shared by the API and the dashboard.
pub fn mark_failure(response: &mut Response, error: &Error) {
    response.extensions_mut().insert(FailedWith {
        code: error.code(),
        message: error.message().to_owned(),
    });
    if let Some((action, target)) = error.refusal() {
        response.extensions_mut().insert(RecordedRefusal {
            action: action.to_owned(),
            target: target.to_owned(),
        });
    }
    if let Some(secs) = error.retry_after_secs()
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let error = match &rejection {
            JsonRejection::MissingJsonContentType(_) => Error::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Error::new(ErrorCode::PayloadTooLarge, "request body is too large")
            }
            JsonRejection::JsonDataError(e) => Error::new(
                ErrorCode::InvalidRequest,
                format!("invalid request body: {}", unquoted(&e.body_text())),
            ),
            JsonRejection::JsonSyntaxError(e) => Error::new(
                ErrorCode::InvalidRequest,
                format!("malformed JSON: {}", unquoted(&e.body_text())),
            ),
            _ => Error::new(ErrorCode::InvalidRequest, "could not read the request body"),
        };
        Self(error)
    }
}

/// The parser's message without the parts of the input it quotes (serde quotes strings
/// in double quotes and numbers and names in backticks): a secret sent with the wrong
/// type would otherwise come back, and be logged, in the clear. Field names stay.
fn unquoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut escaped = false;
                for inner in chars.by_ref() {
                    match inner {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("(a value)");
            }
            '`' => {
                let quoted: String = chars.by_ref().take_while(|c| *c != '`').collect();
                let is_name = !quoted.is_empty()
                    && quoted
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !quoted.chars().all(|c| c.is_ascii_digit());
                if is_name {
                    out.push('`');
                    out.push_str(&quoted);
                    out.push('`');
                } else {
                    out.push_str("(a value)");
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self(Error::new(
            ErrorCode::InvalidPath,
            format!("invalid path: {}", rejection.body_text()),
        ))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self(Error::new(
            ErrorCode::InvalidRequest,
            format!("invalid query string: {}", rejection.body_text()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_messages_leave_out_the_values_they_quote() {
        assert_eq!(
            unquoted("value: invalid type: integer `918273`, expected a string at line 1"),
            "value: invalid type: integer (a value), expected a string at line 1"
        );
        assert_eq!(
            unquoted("unknown field `valeu`, expected `value` or `note`"),
            "unknown field `valeu`, expected `value` or `note`"
        );
        assert_eq!(
            unquoted("invalid type: string \"hunter2 \\\" is secret\", expected u64"),
            "invalid type: string (a value), expected u64"
        );
        assert_eq!(
            unquoted("unknown variant `hunter2`, expected `password`"),
            "unknown variant `hunter2`, expected `password`"
        );
    }

    #[test]
    fn every_code_maps_to_an_error_status() {
        for code in ErrorCode::ALL {
            let status = status_for(code);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code}"
            );
        }
    }
}
