//! Sign-up, sign-in, sign-out, who-am-I, step-up and password change.

use crate::convert;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, ClientMeta};
use crate::signin;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::account::{Email, Password, Username};
use strongroom_core::ids::{UserId, VaultId};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token;
use strongroom_proto::{
    ChangePasswordRequest, ErrorBody, LoginRequest, LoginResponse, Sensitive, SignupRequest,
    StepUpRequest, StepUpResponse, WhoAmI,
};
use strongroom_store::{NewSession, NewUser, UserRecord};

async fn new_session(
    state: &AppState,
    meta: &ClientMeta,
    user: &UserId,
    vault: &VaultId,
) -> Result<(Sensitive, strongroom_store::SessionRecord), ApiError> {
    let token = token::new_session_token()?;
    let session = state
        .store
        .create_session(
            NewSession {
                user_id: user.clone(),
                vault_id: vault.clone(),
                token_hash: token.hash(),
                ttl_ms: state.settings.session_ttl_ms,
                ip: meta.ip.clone(),
                user_agent: meta.user_agent.clone(),
            },
            &meta.origin(),
        )
        .await?;
    Ok((Sensitive::new(token.expose()), session))
}

fn login_response(
    token: Sensitive,
    session: &strongroom_store::SessionRecord,
    user: &UserRecord,
) -> LoginResponse {
    LoginResponse {
        token,
        session: convert::session(session, session.id.as_str()),
        user: convert::user(user),
    }
}

/// Creates an account with its personal vault and signs it in.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, description = "Account, personal vault and session created", body = LoginResponse),
        (status = 400, description = "Invalid username, email or password", body = ErrorBody),
        (status = 409, description = "Username or email already registered", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this address", body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<(StatusCode, ApiJson<LoginResponse>), ApiError> {
    // Every attempt counts, so password hashing cannot be used to exhaust the server.
    let key = format!("signup:ip:{}", meta.ip);
    let rule = state.settings.signup_throttle;
    if let Some(wait) = state.store.throttle_wait(&key, rule).await? {
        return Err(Error::rate_limited(wait).into());
    }
    state.store.throttle_record_failure(&[&key], rule).await?;
    let username = Username::parse(&body.username)?;
    let email = Email::parse(&body.email)?;
    let password = Password::new_choice(body.password.into_inner())?;
    let password_hash = signin::hash_password(&state, password).await?;
    let user = state
        .store
        .create_user(NewUser {
            username,
            email,
            password_hash,
        })
        .await?;
    super::email::send_verification_code(&state, &user).await?;
    let (token, session) = new_session(&state, &meta, &user.id, &user.personal_vault_id).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(login_response(token, &session, &user)),
    ))
}

/// Signs in with a password and, when enrolled, a TOTP or recovery code. A wrong
/// username and a wrong password get the same answer in the same time.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "invalid_credentials, totp_required or invalid_totp", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this account or address", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<ApiJson<LoginResponse>, ApiError> {
    let keys = signin::throttle_keys(&body.username, &meta.ip);
    signin::check_throttle(&state, &keys).await?;

    let username = Username::parse(&body.username).ok();
    let password = Password::candidate(body.password.into_inner());
    let record = match &username {
        Some(u) => state.store.login_record(u).await?,
        None => None,
    };
    let verified = match password {
        Ok(password) => {
            signin::verify_password(
                &state,
                record.as_ref().map(|r| r.password_hash.clone()),
                password,
            )
            .await?
        }
        Err(_) => false,
    };
    let record = match record {
        Some(record) if verified => record,
        Some(record) => {
            signin::record_refused_sign_in(&state, &meta, &record.user, "wrong password");
            signin::record_failure(&state, &keys).await?;
            return Err(signin::invalid_credentials().into());
        }
        None => {
            signin::record_failure(&state, &keys).await?;
            return Err(signin::invalid_credentials().into());
        }
    };

    if record.user.totp_enabled
        && let Err(refused) = signin::require_second_factor(
            &state,
            &record.user.id,
            body.totp_code.as_deref(),
            body.recovery_code.as_ref().map(Sensitive::expose),
            &keys,
        )
        .await
    {
        signin::record_refused_sign_in(&state, &meta, &record.user, refused.0.message());
        return Err(refused);
    }

    state.store.throttle_clear(&keys.0).await?;
    let user = record.user;
    let (token, session) = new_session(&state, &meta, &user.id, &user.personal_vault_id).await?;
    Ok(ApiJson(login_response(token, &session, &user)))
}

/// Ends the session that makes this request.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    let authz = caller.own_account()?;
    state
        .store
        .revoke_own_session(&authz, &caller.session.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account, the vault this session acts in and the session.
#[utoipa::path(get, path = "/auth/whoami", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<WhoAmI>, ApiError> {
    let authz = caller.own_account()?;
    let user = state.store.own_user(&authz).await?;
    let vault = state
        .store
        .own_vaults(&authz)
        .await?
        .into_iter()
        .find(|v| v.id == caller.session.vault_id)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::PermissionDenied,
                "you are no longer a member of the vault this session acts in; \
                 pick one with `strongroom vaults list` and `strongroom vaults use VAULT`",
            )
        })?;
    Ok(ApiJson(WhoAmI {
        user: convert::user(&user),
        vault: convert::vault(&vault, &caller.session.vault_id),
        session: convert::session(&caller.session, caller.session.id.as_str()),
    }))
}

/// Re-authenticates (password, plus TOTP when enrolled) so that sensitive actions are
/// allowed on this session for the next five minutes.
#[utoipa::path(post, path = "/auth/step-up", tag = "auth", security(("bearer" = [])), request_body = StepUpRequest,
    responses(
        (status = 200, body = StepUpResponse),
        (status = 401, description = "invalid_credentials, totp_required or invalid_totp", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn step_up(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<StepUpRequest>,
) -> Result<ApiJson<StepUpResponse>, ApiError> {
    let authz = caller.own_account()?;
    let user = state.store.own_user(&authz).await?;
    let keys = signin::throttle_keys(user.username.as_str(), &meta.ip);
    signin::check_throttle(&state, &keys).await?;
    let hash = state.store.own_password_hash(&authz).await?;
    let password = Password::candidate(body.password.into_inner())?;
    if !signin::verify_password(&state, Some(hash), password).await? {
        signin::record_failure(&state, &keys).await?;
        return Err(signin::invalid_credentials().into());
    }
    if user.totp_enabled {
        signin::require_second_factor(&state, &user.id, body.totp_code.as_deref(), None, &keys)
            .await?;
    }
    let at = state
        .store
        .mark_stepped_up(&authz, &caller.session.id)
        .await?;
    Ok(ApiJson(StepUpResponse {
        valid_until: convert::ts(at + state.settings.step_up_window_ms),
    }))
}

/// Changes the password (needs a recent step-up) and ends every other session.
#[utoipa::path(post, path = "/auth/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; other sessions ended"),
        (status = 400, body = ErrorBody),
        (status = 401, description = "step_up_required", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.own_account()?;
    signin::require_step_up(&state, &caller)?;
    let password = Password::new_choice(body.new_password.into_inner())?;
    let hash = signin::hash_password(&state, password).await?;
    state
        .store
        .change_password(&authz, hash, caller.session.id.as_str())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
