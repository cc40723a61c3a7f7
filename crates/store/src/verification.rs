//! Email verification: a one-time code per account, stored hashed and bound to the
//! address it was sent to, with few tries allowed. Changing the address makes it
//! unverified again.

use crate::db::q;
use crate::model::UserRecord;
use crate::{Store, now_ms};
use strongroom_core::account::{Email, Username};
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::UserId;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token::constant_time_eq;

/// Wrong codes allowed before a new one must be requested.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// How long a verification code works.
pub const VERIFICATION_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Only one account can hold an address verified. Saying so is safe here: only someone
/// who received the code (or the operator) gets this far.
fn claimed_elsewhere(e: Error) -> Error {
    match e.code() {
        ErrorCode::AlreadyExists => Error::new(
            ErrorCode::Conflict,
            "this email address is already verified on another account",
        ),
        _ => e,
    }
}

impl Store {
    /// Replaces any pending code of `user` with `code_hash`, for their current address.
    /// Does nothing (and returns `false`) when the address is already verified.
    pub async fn start_email_verification(
        &self,
        user: &UserId,
        code_hash: String,
    ) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .one(
                q("SELECT email_key, email_verified_at FROM users WHERE id = $1")
                    .bind(user.as_str()),
            )
            .await?;
        if row.opt_i64("email_verified_at")?.is_some() {
            return Ok(false);
        }
        tx.execute(q("DELETE FROM email_verifications WHERE user_id = $1").bind(user.as_str()))
            .await?;
        tx.execute(
            q("INSERT INTO email_verifications (user_id, email_key, code_hash, expires_at, attempts) \
               VALUES ($1, $2, $3, $4, 0)")
            .bind(user.as_str())
            .bind(row.text("email_key")?)
            .bind(code_hash)
            .bind(now_ms() + VERIFICATION_TTL_MS),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Checks a typed code (already hashed by the caller) and marks the address verified.
    pub async fn verify_email(&self, authz: &Authorized, code_hash: &str) -> Result<(), Error> {
        authz.require(Action::ManageOwnAccount)?;
        let user = authz.actor()?.as_str();
        let wrong = || {
            Error::new(
                ErrorCode::InvalidValue,
                "that verification code is wrong or has expired; check it, or get a new one with \
                 `strongroom verify-email --resend`",
            )
        };
        let mut tx = self.db.begin().await?;
        // Claim the attempt before looking at the code: the conditional update takes the
        // row lock, so concurrent guesses cannot share one of the few tries.
        let claimed = tx
            .execute(
                q("UPDATE email_verifications SET attempts = attempts + 1 \
                   WHERE user_id = $1 AND attempts < $2")
                .bind(user)
                .bind(MAX_CODE_ATTEMPTS),
            )
            .await?;
        if claimed != 1 {
            let pending = tx
                .optional(
                    q("SELECT attempts FROM email_verifications WHERE user_id = $1").bind(user),
                )
                .await?;
            return Err(match pending {
                Some(_) => Error::new(
                    ErrorCode::InvalidValue,
                    "too many wrong codes; get a new one with `strongroom verify-email --resend`",
                ),
                None => wrong(),
            });
        }
        let row = tx
            .one(
                q("SELECT e.code_hash, e.expires_at, \
                   CAST(CASE WHEN e.email_key = u.email_key THEN 1 ELSE 0 END AS BIGINT) AS same_address \
                   FROM email_verifications e JOIN users u ON u.id = e.user_id WHERE e.user_id = $1")
                .bind(user),
            )
            .await?;
        let matches = constant_time_eq(row.text("code_hash")?.as_bytes(), code_hash.as_bytes());
        if !matches || row.i64("expires_at")? <= now_ms() || row.i64("same_address")? != 1 {
            tx.commit().await?;
            return Err(wrong());
        }
        tx.execute(
            q("UPDATE users SET email_verified_at = $1, verified_email_claim = email_key WHERE id = $2")
                .bind(now_ms())
                .bind(user),
        )
        .await
        .map_err(claimed_elsewhere)?;
        tx.execute(q("DELETE FROM email_verifications WHERE user_id = $1").bind(user))
            .await?;
        tx.commit().await
    }

    /// Changes the caller's email address; it is unverified until its code is entered.
    pub async fn change_email(&self, authz: &Authorized, email: &Email) -> Result<(), Error> {
        authz.require(Action::ManageOwnAccount)?;
        let mut tx = self.db.begin().await?;
        tx.execute(
            q(
                "UPDATE users SET email = $1, email_key = $2, email_verified_at = NULL, \
               verified_email_claim = 'unverified:' || id WHERE id = $3",
            )
            .bind(email.as_str())
            .bind(email.key())
            .bind(authz.actor()?.as_str()),
        )
        .await?;
        tx.execute(
            q("DELETE FROM email_verifications WHERE user_id = $1").bind(authz.actor()?.as_str()),
        )
        .await?;
        tx.commit().await
    }

    /// The operator marks an account's address verified (`strongroom admin verify-email`).
    pub async fn mark_email_verified(&self, username: &Username) -> Result<UserRecord, Error> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q(
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), \
                   verified_email_claim = email_key WHERE username = $2",
                )
                .bind(now_ms())
                .bind(username.as_str()),
            )
            .await
            .map_err(claimed_elsewhere)?;
        if n != 1 {
            return Err(Error::not_found(&format!("account '{username}'")));
        }
        tx.execute(
            q("DELETE FROM email_verifications WHERE user_id = (SELECT id FROM users WHERE username = $1)")
                .bind(username.as_str()),
        )
        .await?;
        tx.commit().await?;
        self.login_record(username)
            .await?
            .map(|r| r.user)
            .ok_or_else(|| Error::not_found(&format!("account '{username}'")))
    }
}
