//! Proving who you are: passwords (argon2id, off the async runtime and bounded in
//! concurrency), TOTP and recovery codes, throttling of failures per account and per
//! address, and the step-up check for sensitive actions. Sign-in and step-up share it.

use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;
use std::time::{SystemTime, UNIX_EPOCH};
use strongroom_core::account::Password;
use strongroom_core::ids::UserId;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::{password, token};
use strongroom_store::now_ms;

/// The answer to any failed sign-in, whatever failed.
pub fn invalid_credentials() -> Error {
    Error::new(
        ErrorCode::InvalidCredentials,
        "invalid username or password",
    )
}

/// Throttle keys for an attempt on `account` from `ip`. Account names are lowercased and
/// bounded, so any typed name, existing or not, gets the same treatment.
pub fn throttle_keys(account: &str, ip: &str) -> (String, String) {
    let account: String = account.to_ascii_lowercase().chars().take(64).collect();
    (format!("signin:user:{account}"), format!("signin:ip:{ip}"))
}

/// Refuses the attempt if either key is over its limit.
pub async fn check_throttle(state: &AppState, keys: &(String, String)) -> Result<(), ApiError> {
    let settings = &state.settings;
    for (key, rule) in [
        (&keys.0, settings.account_throttle),
        (&keys.1, settings.address_throttle),
    ] {
        if let Some(wait) = state.store.throttle_wait(key, rule).await? {
            return Err(Error::rate_limited(wait).into());
        }
    }
    Ok(())
}

/// Counts a failure against both keys.
pub async fn record_failure(state: &AppState, keys: &(String, String)) -> Result<(), ApiError> {
    let settings = &state.settings;
    state
        .store
        .throttle_record_failure(&[&keys.0], settings.account_throttle)
        .await?;
    state
        .store
        .throttle_record_failure(&[&keys.1], settings.address_throttle)
        .await?;
    Ok(())
}

/// Checks a password against a stored hash, or against a dummy hash when there is no
/// account, so both cost the same.
pub async fn verify_password(
    state: &AppState,
    stored_hash: Option<String>,
    candidate: Password,
) -> Result<bool, ApiError> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| Error::internal("hashing semaphore closed"))?;
    tokio::task::spawn_blocking(move || match stored_hash {
        Some(hash) => password::verify_password(&hash, &candidate),
        None => {
            password::verify_against_dummy(&candidate);
            false
        }
    })
    .await
    .map_err(|e| Error::internal(format!("password check panicked: {e}")).into())
}

/// Hashes a new password off the async runtime.
pub async fn hash_password(state: &AppState, new: Password) -> Result<String, ApiError> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| Error::internal("hashing semaphore closed"))?;
    tokio::task::spawn_blocking(move || password::hash_password(&new))
        .await
        .map_err(|e| Error::internal(format!("password hashing panicked: {e}")))?
        .map_err(ApiError::from)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How a second factor check went.
enum SecondFactor {
    /// A valid, unused code.
    Passed,
    /// No code was given.
    Missing,
    /// A code was given and it was wrong, stale or already used.
    Failed,
}

/// Checks a TOTP code (or a recovery code) for a user with TOTP on. A TOTP code counts
/// only if its time step is later than the last one accepted, so it cannot be replayed.
async fn check_second_factor(
    state: &AppState,
    user: &UserId,
    totp_code: Option<&str>,
    recovery_code: Option<&str>,
) -> Result<SecondFactor, ApiError> {
    if let Some(code) = totp_code {
        let totp = state.store.totp_state(user).await?;
        let Some(secret) = totp.enabled else {
            return Ok(SecondFactor::Failed);
        };
        let Some(step) = secret.verify(code, unix_now())? else {
            return Ok(SecondFactor::Failed);
        };
        let step = i64::try_from(step).map_err(|_| Error::internal("TOTP step out of range"))?;
        return Ok(if state.store.accept_totp_step(user, step).await? {
            SecondFactor::Passed
        } else {
            SecondFactor::Failed
        });
    }
    if let Some(code) = recovery_code {
        return Ok(
            if state
                .store
                .use_recovery_code(user, &token::recovery_code_hash(code))
                .await?
            {
                SecondFactor::Passed
            } else {
                SecondFactor::Failed
            },
        );
    }
    Ok(SecondFactor::Missing)
}

/// Requires a valid second factor from a user who has TOTP on. A wrong code counts as a
/// failed attempt against `keys`; a missing one does not.
pub async fn require_second_factor(
    state: &AppState,
    user: &UserId,
    totp_code: Option<&str>,
    recovery_code: Option<&str>,
    keys: &(String, String),
) -> Result<(), ApiError> {
    match check_second_factor(state, user, totp_code, recovery_code).await? {
        SecondFactor::Passed => Ok(()),
        SecondFactor::Missing => Err(Error::new(
            ErrorCode::TotpRequired,
            "this account has TOTP: give the current code (--totp CODE), or a recovery code to sign in",
        )
        .into()),
        SecondFactor::Failed => {
            record_failure(state, keys).await?;
            Err(Error::new(
                ErrorCode::InvalidTotp,
                "the TOTP or recovery code is wrong, expired or already used",
            )
            .into())
        }
    }
}

/// Refuses a sensitive action unless the session re-authenticated within the window.
pub fn require_step_up(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let fresh = caller
        .session
        .stepped_up_at
        .is_some_and(|at| now_ms() - at <= state.settings.step_up_window_ms);
    if fresh {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::StepUpRequired,
            "this action needs a recent re-authentication: run `strongroom step-up` \
             (POST /api/v1/auth/step-up) and retry within 5 minutes",
        )
        .into())
    }
}

/// The TOTP code checked against a pending (not yet confirmed) secret; returns its step.
pub fn verify_pending_code(
    secret: &strongroom_crypto::totp::TotpSecret,
    code: &str,
) -> Result<Option<i64>, ApiError> {
    Ok(secret
        .verify(code, unix_now())?
        .and_then(|s| i64::try_from(s).ok()))
}

/// Records a refused sign-in to an existing account in its personal vault, as an
/// external actor claiming it. The write is not awaited: an unknown username writes
/// nothing, and the answer must not take longer for a known one.
pub fn record_refused_sign_in(
    state: &AppState,
    meta: &crate::extract::ClientMeta,
    user: &strongroom_store::UserRecord,
    reason: &str,
) {
    let mut origin = meta.origin();
    origin.recorded = Default::default();
    let entry = strongroom_store::AuditEntry {
        vault: user.personal_vault_id.to_string(),
        actor: strongroom_store::AuditActor {
            kind: strongroom_core::audit::ActorKind::External,
            id: user.id.to_string(),
            name: user.username.to_string(),
        },
        action: "session.sign_in".to_owned(),
        target: String::new(),
        outcome: strongroom_core::audit::Outcome::Denied,
        severity: strongroom_core::audit::Severity::Warning,
        origin,
        detail: reason.to_owned(),
    };
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.record_audit(entry).await {
            tracing::error!(error = %e, "a refused sign-in could not be recorded");
        }
    });
}
