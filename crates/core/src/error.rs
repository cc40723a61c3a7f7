//! The one domain error. It knows nothing of HTTP: the server maps each [`ErrorCode`] to
//! a status. `message` is safe to show to the caller; `internal` is only ever logged.

use std::fmt;

/// Stable, documented error codes. Clients match on these strings, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request body or parameters are malformed.
    InvalidRequest,
    /// An application, project, environment or secret name breaks the naming rules.
    InvalidName,
    /// A path does not have the expected `app/project/env/NAME` shape.
    InvalidPath,
    /// A field value (note, tags, type, secret value, version, limit) is not acceptable.
    InvalidValue,
    /// A username or email address is not acceptable.
    InvalidAccount,
    /// A new password does not meet the password rules.
    InvalidPassword,
    /// A pagination cursor was altered or belongs to another list.
    InvalidCursor,
    /// No valid session or token came with the request.
    Unauthenticated,
    /// Sign-in failed. Deliberately silent on whether the username exists.
    InvalidCredentials,
    /// The password was right; a TOTP code (or a recovery code) is also needed.
    TotpRequired,
    /// The TOTP or recovery code was wrong, expired or already used.
    InvalidTotp,
    /// A sensitive action needs a fresh re-authentication (`POST /auth/step-up`).
    StepUpRequired,
    /// The caller is known but may not do this.
    PermissionDenied,
    /// Nothing by that name or id exists that the caller may see.
    NotFound,
    /// No API route matches the method and path.
    RouteNotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// Something by that name already exists.
    AlreadyExists,
    /// The request conflicts with the current state (for example TOTP already enabled).
    Conflict,
    /// The secret is in the trash: restore or purge it first.
    SecretInTrash,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// The request body is not JSON.
    UnsupportedMediaType,
    /// Too many attempts; retry after the given number of seconds.
    RateLimited,
    /// The storage is busy or full; nothing was written; retry later.
    Unavailable,
    /// The organization's plan allows no more members (members plus pending invites).
    PlanLimitReached,
    /// The feature needs a higher plan than the organization's.
    PlanRequired,
    /// An access policy on the machine or token refused the request; the message names
    /// the policy and the condition.
    PolicyDenied,
    /// The invite or invite link has expired.
    InviteExpired,
    /// The invite or invite link was revoked, already answered or used up.
    InviteUnusable,
    /// The action needs a verified email address (`strongroom verify-email CODE`).
    EmailNotVerified,
    /// The version asked for is deleted; undelete it, or read another version.
    VersionDeleted,
    /// The version asked for was destroyed: its value is gone for good.
    VersionDestroyed,
    /// A check-and-set write named a version that is not the secret's latest.
    VersionConflict,
    /// The secret requires check-and-set: send the version the write expects to follow.
    CheckAndSetRequired,
    /// An unexpected failure; details are in the server log under the request id.
    Internal,
}

impl ErrorCode {
    /// The wire form, e.g. `invalid_name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidName => "invalid_name",
            Self::InvalidPath => "invalid_path",
            Self::InvalidValue => "invalid_value",
            Self::InvalidAccount => "invalid_account",
            Self::InvalidPassword => "invalid_password",
            Self::InvalidCursor => "invalid_cursor",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TotpRequired => "totp_required",
            Self::InvalidTotp => "invalid_totp",
            Self::StepUpRequired => "step_up_required",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::AlreadyExists => "already_exists",
            Self::Conflict => "conflict",
            Self::SecretInTrash => "secret_in_trash",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::PlanLimitReached => "plan_limit_reached",
            Self::PlanRequired => "plan_required",
            Self::PolicyDenied => "policy_denied",
            Self::InviteExpired => "invite_expired",
            Self::InviteUnusable => "invite_unusable",
            Self::EmailNotVerified => "email_not_verified",
            Self::VersionDeleted => "version_deleted",
            Self::VersionDestroyed => "version_destroyed",
            Self::VersionConflict => "version_conflict",
            Self::CheckAndSetRequired => "check_and_set_required",
            Self::Internal => "internal",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 34] = [
        Self::InvalidRequest,
        Self::InvalidName,
        Self::InvalidPath,
        Self::InvalidValue,
        Self::InvalidAccount,
        Self::InvalidPassword,
        Self::InvalidCursor,
        Self::Unauthenticated,
        Self::InvalidCredentials,
        Self::TotpRequired,
        Self::InvalidTotp,
        Self::StepUpRequired,
        Self::PermissionDenied,
        Self::NotFound,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::AlreadyExists,
        Self::Conflict,
        Self::SecretInTrash,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::Unavailable,
        Self::PlanLimitReached,
        Self::PlanRequired,
        Self::PolicyDenied,
        Self::InviteExpired,
        Self::InviteUnusable,
        Self::EmailNotVerified,
        Self::VersionDeleted,
        Self::VersionDestroyed,
        Self::VersionConflict,
        Self::CheckAndSetRequired,
        Self::Internal,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with a stable code, a message for the caller and, for the log only, detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    internal: Option<String>,
    retry_after_secs: Option<u64>,
    /// A refusal to record in the audit log: the action and its target.
    refused: Option<(String, String)>,
}

/// Result with the domain error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error whose message may be shown to the caller.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            internal: None,
            retry_after_secs: None,
            refused: None,
        }
    }

    /// An unexpected failure. The detail goes to the log; the caller sees a generic message.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error; the server log has details under this request's id".into(),
            internal: Some(detail.into()),
            retry_after_secs: None,
            refused: None,
        }
    }

    /// Storage busy, locked or full: nothing was written and a retry may succeed.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Unavailable,
            message: "storage is temporarily unavailable; nothing was changed; retry shortly"
                .into(),
            internal: Some(detail.into()),
            retry_after_secs: Some(1),
            refused: None,
        }
    }

    /// "Not found" that says nothing about whether the thing exists elsewhere.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// Too many attempts; the caller may retry after `secs`.
    pub fn rate_limited(secs: u64) -> Self {
        Self {
            code: ErrorCode::RateLimited,
            message: format!("too many attempts; retry in {secs} seconds"),
            internal: None,
            retry_after_secs: Some(secs),
            refused: None,
        }
    }

    /// The same error, telling the client when a retry may succeed (`Retry-After`).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// The same error, marked as a refusal of `action` on `target` that the audit log must
    /// record (the caller saw no change and no value).
    pub fn recorded_as_refusal(mut self, action: &str, target: &str) -> Self {
        self.refused = Some((action.to_owned(), target.to_owned()));
        self
    }

    /// The action and target of a refusal the audit log must record.
    pub fn refusal(&self) -> Option<(&str, &str)> {
        self.refused.as_ref().map(|(a, t)| (a.as_str(), t.as_str()))
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Detail for the log, never for the caller.
    pub fn internal_detail(&self) -> Option<&str> {
        self.internal.as_deref()
    }

    /// Seconds after which a retry may succeed, for `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_unique_snake_case_strings() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn internal_errors_never_show_their_detail() {
        let e = Error::internal("disk /dev/sda1 exploded at row 42");
        assert!(!e.message().contains("sda1"));
        assert_eq!(
            e.internal_detail(),
            Some("disk /dev/sda1 exploded at row 42")
        );
    }
}
