//! The account's email address: verify it with the code that was sent, ask for a new
//! code, change it (which makes it unverified again).

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::mail::{Mail, Mailer};
use crate::signin;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::Error;
use strongroom_core::account::Email;
use strongroom_crypto::token;
use strongroom_proto::{ChangeEmailRequest, ErrorBody, UserInfo, VerifyEmailRequest};
use strongroom_store::{ThrottleRule, UserRecord};

/// New codes allowed per account per hour (each one may send a mail).
const RESEND_RULE: ThrottleRule = ThrottleRule {
    max_failures: 5,
    window_ms: 60 * 60 * 1000,
};

/// Counts one more code for the caller, refusing past [`RESEND_RULE`]: every new code
/// brings fresh tries, so codes must be scarce.
async fn count_new_code(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let key = format!("verify-resend:{}", caller.session.user_id);
    if let Some(wait) = state.store.throttle_wait(&key, RESEND_RULE).await? {
        return Err(Error::rate_limited(wait).into());
    }
    state
        .store
        .throttle_record_failure(&[&key], RESEND_RULE)
        .await?;
    Ok(())
}

/// Issues a fresh verification code for `user`'s address and delivers it: by SMTP when
/// configured, otherwise on the server's console, marked as development-only.
pub async fn send_verification_code(state: &AppState, user: &UserRecord) -> Result<(), ApiError> {
    let code = token::new_verification_code()?;
    let hash = token::verification_code_hash(user.id.as_str(), code.expose());
    if !state.store.start_email_verification(&user.id, hash).await? {
        return Ok(());
    }
    match &state.mailer {
        Mailer::Smtp { .. } => state.mailer.send_later(Mail {
            to: user.email.to_string(),
            subject: "Your Strongroom verification code".into(),
            body: format!(
                "Your Strongroom verification code is {}\n\nEnter it on the dashboard's Verify page, or \
                 with `strongroom verify-email {}`, within 24 hours. If you did not sign up, ignore \
                 this message.\n",
                code.expose(),
                code.expose()
            ),
        }),
        Mailer::Console => println!(
            "[development only: no SMTP configured] email verification code for {} <{}>: {}",
            user.username,
            user.email,
            code.expose()
        ),
    }
    Ok(())
}

/// Verifies the account's email address with the code that was sent to it.
#[utoipa::path(post, path = "/auth/email/verify", tag = "auth", security(("bearer" = [])),
    request_body = VerifyEmailRequest,
    responses((status = 200, body = UserInfo), (status = 400, description = "Wrong or expired code", body = ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<VerifyEmailRequest>,
) -> Result<ApiJson<UserInfo>, ApiError> {
    let authz = caller.own_account()?;
    let hash = token::verification_code_hash(caller.session.user_id.as_str(), body.code.expose());
    state.store.verify_email(&authz, &hash).await?;
    let user = state.store.own_user(&authz).await?;
    Ok(ApiJson(convert::user(&user)))
}

/// Sends a new verification code (the old one stops working).
#[utoipa::path(post, path = "/auth/email/resend", tag = "auth", security(("bearer" = [])),
    responses((status = 202, description = "A new code is on its way (or the address is already verified)"),
        (status = 429, body = ErrorBody)))]
pub async fn resend_code(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let authz = caller.own_account()?;
    count_new_code(&state, &caller).await?;
    let user = state.store.own_user(&authz).await?;
    send_verification_code(&state, &user).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Changes the email address (needs a recent step-up). The new address is unverified
/// until its code is entered, and email invites wait until then.
#[utoipa::path(put, path = "/auth/email", tag = "auth", security(("bearer" = [])), request_body = ChangeEmailRequest,
    responses((status = 200, body = UserInfo), (status = 400, body = ErrorBody),
        (status = 401, description = "step_up_required", body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_email(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> Result<ApiJson<UserInfo>, ApiError> {
    let authz = caller.own_account()?;
    signin::require_step_up(&state, &caller)?;
    let email = Email::parse(&body.email)?;
    count_new_code(&state, &caller).await?;
    state.store.change_email(&authz, &email).await?;
    let user = state.store.own_user(&authz).await?;
    send_verification_code(&state, &user).await?;
    Ok(ApiJson(convert::user(&user)))
}
