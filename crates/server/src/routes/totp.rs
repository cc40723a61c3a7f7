//! TOTP enrolment (begin, confirm with a first code), disabling, and recovery codes.

use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::signin;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token;
use strongroom_crypto::totp::TotpSecret;
use strongroom_proto::{ErrorBody, RecoveryCodes, Sensitive, TotpCodeRequest, TotpEnrollment};

const RECOVERY_CODE_COUNT: usize = 10;

fn new_recovery_codes() -> Result<(Vec<Sensitive>, Vec<String>), ApiError> {
    let mut shown = Vec::with_capacity(RECOVERY_CODE_COUNT);
    let mut hashes = Vec::with_capacity(RECOVERY_CODE_COUNT);
    for _ in 0..RECOVERY_CODE_COUNT {
        let code = token::new_recovery_code()?;
        hashes.push(token::recovery_code_hash(code.expose()));
        shown.push(Sensitive::new(code.expose()));
    }
    Ok((shown, hashes))
}

/// Starts enrolment: returns a new secret to load into an authenticator app. TOTP is not
/// on until a code from the app is confirmed.
#[utoipa::path(post, path = "/auth/totp", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrollment),
        (status = 409, description = "TOTP is already enabled", body = ErrorBody)))]
pub async fn begin(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<TotpEnrollment>, ApiError> {
    let authz = caller.own_account()?;
    let user = state.store.own_user(&authz).await?;
    let secret = TotpSecret::generate()?;
    state.store.begin_totp(&authz, &secret).await?;
    let (url, base32) = secret.provisioning(user.username.as_str())?;
    Ok(ApiJson(TotpEnrollment {
        otpauth_url: Sensitive::new(url),
        secret_base32: Sensitive::new(base32),
    }))
}

/// Confirms enrolment with a code from the app; turns TOTP on and returns ten one-time
/// recovery codes, shown only now.
#[utoipa::path(post, path = "/auth/totp/confirm", tag = "auth", security(("bearer" = [])), request_body = TotpCodeRequest,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, description = "invalid_totp", body = ErrorBody),
        (status = 409, description = "No enrolment in progress", body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<TotpCodeRequest>,
) -> Result<ApiJson<RecoveryCodes>, ApiError> {
    let authz = caller.own_account()?;
    let pending = state
        .store
        .totp_state(&caller.session.user_id)
        .await?
        .pending
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Conflict,
                "there is no TOTP enrolment to confirm; start one with `strongroom totp enroll`",
            )
        })?;
    let step = signin::verify_pending_code(&pending, &body.code)?.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidTotp,
            "that code does not match: check the authenticator app's clock and try the current code",
        )
    })?;
    let (codes, hashes) = new_recovery_codes()?;
    state.store.confirm_totp(&authz, step, &hashes).await?;
    Ok(ApiJson(RecoveryCodes { codes }))
}

/// Turns TOTP off and deletes the recovery codes (needs a recent step-up).
#[utoipa::path(delete, path = "/auth/totp", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "TOTP disabled"),
        (status = 401, description = "step_up_required", body = ErrorBody),
        (status = 409, description = "TOTP is not enabled", body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let authz = caller.own_account()?;
    signin::require_step_up(&state, &caller)?;
    state.store.disable_totp(&authz).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces every recovery code with ten new ones (needs a recent step-up).
#[utoipa::path(post, path = "/auth/recovery-codes", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, description = "step_up_required", body = ErrorBody),
        (status = 409, description = "TOTP is not enabled", body = ErrorBody)))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<RecoveryCodes>, ApiError> {
    let authz = caller.own_account()?;
    signin::require_step_up(&state, &caller)?;
    if state
        .store
        .totp_state(&caller.session.user_id)
        .await?
        .enabled
        .is_none()
    {
        return Err(Error::new(
            ErrorCode::Conflict,
            "TOTP is not enabled, so there are no recovery codes",
        )
        .into());
    }
    let (codes, hashes) = new_recovery_codes()?;
    state.store.replace_recovery_codes(&authz, &hashes).await?;
    Ok(ApiJson(RecoveryCodes { codes }))
}
