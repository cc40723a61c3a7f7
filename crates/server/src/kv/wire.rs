//! The Vault HTTP wire: the eight-key response envelope, `{"errors": [...]}` bodies,
//! the exact `application/json` content type clients check, and how a Strongroom error
//! becomes a Vault status. Refusals all read `permission denied`, whatever the reason,
//! so a probe learns nothing about another vault; the reason goes to the audit log.

use crate::error::{FailedWith, RecordedRefusal};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use strongroom_core::{Error, ErrorCode};

/// A Vault-style answer on its way out, with what the audit entry should name.
pub struct KvResponse {
    status: StatusCode,
    body: Option<Value>,
    failed: Option<Box<Error>>,
}

fn request_id() -> String {
    let b = strongroom_crypto::random::random_bytes::<16>().unwrap_or([0; 16]);
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The envelope every JSON answer but `sys/health`'s family carries.
pub fn envelope(data: Option<Value>, auth: Option<Value>, status: StatusCode) -> KvResponse {
    KvResponse {
        status,
        body: Some(json!({
            "request_id": request_id(),
            "lease_id": "",
            "renewable": false,
            "lease_duration": 0,
            "data": data,
            "wrap_info": null,
            "warnings": null,
            "auth": auth,
        })),
        failed: None,
    }
}

impl KvResponse {
    /// `200` with `data`.
    pub fn data(data: Value) -> Self {
        envelope(Some(data), None, StatusCode::OK)
    }

    /// `200` with `auth` (a login or a token renewal).
    pub fn auth(auth: Value) -> Self {
        envelope(None, Some(auth), StatusCode::OK)
    }

    /// `204`: done, nothing to say.
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            failed: None,
        }
    }

    /// A status without a body (a `HEAD`).
    pub fn no_body(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            failed: None,
        }
    }

    /// A bare object, as `sys/health`, `sys/seal-status` and `sys/leader` answer.
    pub fn bare(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            failed: None,
        }
    }

    /// `{"errors": [...]}` with `status`.
    pub fn errors(status: StatusCode, errors: &[&str]) -> Self {
        Self {
            status,
            body: Some(json!({ "errors": errors })),
            failed: None,
        }
    }

    /// Keeps the Strongroom error this answer stands for, for the audit entry.
    pub fn failing(mut self, error: Error) -> Self {
        self.failed = Some(Box::new(error));
        self
    }

    /// Turns the answer into a response, naming `action` and `target` for the audit
    /// layer (a refusal the store named itself keeps its own).
    pub fn into_response(self, action: &str, target: &str) -> Response {
        let mut response = match self.body {
            None => Response::builder()
                .status(self.status)
                .body(Body::empty())
                .unwrap_or_default(),
            Some(body) => Response::builder()
                .status(self.status)
                .header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .body(Body::from(body.to_string()))
                .unwrap_or_default(),
        };
        let refusal = self.failed.as_deref().and_then(Error::refusal);
        let (action, target) = refusal.unwrap_or((action, target));
        response.extensions_mut().insert(RecordedRefusal {
            action: action.to_owned(),
            target: target.to_owned(),
        });
        if let Some(error) = &self.failed {
            if self.status.is_server_error() {
                tracing::error!(
                    code = error.code().as_str(),
                    detail = error.internal_detail().unwrap_or(""),
                    "KV request failed"
                );
            }
            response.extensions_mut().insert(FailedWith {
                code: error.code(),
                message: error.message().to_owned(),
            });
        }
        response
    }
}

/// `403 permission denied`, the one answer to every refusal.
pub fn denied(error: Error) -> KvResponse {
    KvResponse::errors(StatusCode::FORBIDDEN, &["permission denied"]).failing(error)
}

/// A Strongroom error as Vault's clients expect it.
pub fn from_error(error: Error) -> KvResponse {
    let message = error.message().to_owned();
    let response = match error.code() {
        ErrorCode::Unauthenticated
        | ErrorCode::InvalidCredentials
        | ErrorCode::TotpRequired
        | ErrorCode::InvalidTotp
        | ErrorCode::StepUpRequired
        | ErrorCode::PermissionDenied
        | ErrorCode::PolicyDenied
        | ErrorCode::PlanLimitReached
        | ErrorCode::PlanRequired
        | ErrorCode::EmailNotVerified => return denied(error),
        ErrorCode::NotFound | ErrorCode::RouteNotFound => {
            KvResponse::errors(StatusCode::NOT_FOUND, &[])
        }
        ErrorCode::MethodNotAllowed => KvResponse::errors(
            StatusCode::METHOD_NOT_ALLOWED,
            &["1 error occurred:\n\t* unsupported operation\n\n"],
        ),
        ErrorCode::PayloadTooLarge => {
            KvResponse::errors(StatusCode::PAYLOAD_TOO_LARGE, &[&message])
        }
        ErrorCode::UnsupportedMediaType => {
            KvResponse::errors(StatusCode::UNSUPPORTED_MEDIA_TYPE, &[&message])
        }
        ErrorCode::RateLimited => KvResponse::errors(StatusCode::TOO_MANY_REQUESTS, &[&message]),
        ErrorCode::Unavailable => KvResponse::errors(StatusCode::SERVICE_UNAVAILABLE, &[&message]),
        ErrorCode::Internal => {
            KvResponse::errors(StatusCode::INTERNAL_SERVER_ERROR, &["internal error"])
        }
        _ => KvResponse::errors(StatusCode::BAD_REQUEST, &[&message]),
    };
    response.failing(error)
}

/// A Strongroom time (ms) as Vault writes one.
pub fn time(ms: i64) -> String {
    crate::convert::ts(ms)
}

/// An optional time: Vault writes `""` for none.
pub fn time_or_empty(ms: Option<i64>) -> String {
    ms.map(time).unwrap_or_default()
}
