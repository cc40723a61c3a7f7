//! TOTP enrolment and recovery codes. The TOTP secret is sealed under the accounts data
//! key, bound to its user. Each accepted code moves the user's last-used step forward in
//! one conditional update, so a code can never be accepted twice, even by two nodes at
//! once; a recovery code is spent the same way.

use crate::db::q;
use crate::{Store, now_ms};
use strongroom_core::authz::Authorized;
use strongroom_core::ids::UserId;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::Aad;
use strongroom_crypto::totp::TotpSecret;

fn totp_aad(user: &UserId) -> Aad {
    Aad::new("strongroom/totp-secret/v1").field(user.as_str())
}

/// The state of a user's second factor.
#[derive(Debug)]
pub struct TotpState {
    /// The confirmed secret, if TOTP is on.
    pub enabled: Option<TotpSecret>,
    /// A secret awaiting its first code, if enrolment has begun.
    pub pending: Option<TotpSecret>,
    /// Recovery codes not yet used.
    pub recovery_codes_left: i64,
}

impl Store {
    fn seal_totp(&self, user: &UserId, secret: &TotpSecret) -> Result<Vec<u8>, Error> {
        self.accounts_key()?.seal(&totp_aad(user), secret.expose())
    }

    fn open_totp(
        &self,
        user: &UserId,
        sealed: Option<Vec<u8>>,
    ) -> Result<Option<TotpSecret>, Error> {
        sealed
            .map(|s| {
                self.accounts_key()?
                    .open(&totp_aad(user), &s)
                    .map(|plain| TotpSecret::from_bytes(plain.to_vec()))
            })
            .transpose()
    }

    /// The TOTP state of a user (for sign-in, before a session exists).
    pub async fn totp_state(&self, user: &UserId) -> Result<TotpState, Error> {
        let row = self
            .db
            .one(
                q("SELECT totp_sealed, totp_pending_sealed, \
                   (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS codes_left \
                   FROM users u WHERE u.id = $1")
                    .bind(user.as_str()),
            )
            .await?;
        Ok(TotpState {
            enabled: self.open_totp(user, row.opt_bytes("totp_sealed")?)?,
            pending: self.open_totp(user, row.opt_bytes("totp_pending_sealed")?)?,
            recovery_codes_left: row.i64("codes_left")?,
        })
    }

    /// Starts TOTP enrolment with a fresh secret (replacing any unconfirmed one).
    pub async fn begin_totp(&self, authz: &Authorized, secret: &TotpSecret) -> Result<(), Error> {
        let sealed = self.seal_totp(authz.actor()?, secret)?;
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE users SET totp_pending_sealed = $1 WHERE id = $2 AND totp_sealed IS NULL")
                    .bind(sealed)
                    .bind(authz.actor()?.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(Error::new(
                ErrorCode::Conflict,
                "TOTP is already enabled; disable it first to enrol a new authenticator",
            ));
        }
        tx.commit().await
    }

    /// Turns the pending secret on, after its first code was checked at `step`, and
    /// stores fresh recovery codes (their hashes).
    pub async fn confirm_totp(
        &self,
        authz: &Authorized,
        step: i64,
        recovery_code_hashes: &[String],
    ) -> Result<(), Error> {
        let user = authz.actor()?.as_str();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE users SET totp_sealed = totp_pending_sealed, totp_pending_sealed = NULL, \
                   totp_last_step = $1 WHERE id = $2 AND totp_pending_sealed IS NOT NULL \
                   AND totp_sealed IS NULL")
                    .bind(step)
                    .bind(user),
            )
            .await?;
        if n == 0 {
            return Err(Error::new(
                ErrorCode::Conflict,
                "there is no TOTP enrolment to confirm; start one with POST /api/v1/auth/totp",
            ));
        }
        replace_codes(&mut tx, user, recovery_code_hashes).await?;
        tx.commit().await
    }

    /// Accepts a TOTP code's step if it is later than the last one used.
    pub async fn accept_totp_step(&self, user: &UserId, step: i64) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
                    .bind(step)
                    .bind(user.as_str()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Spends a recovery code (by hash). `false` if it is unknown or already used.
    pub async fn use_recovery_code(&self, user: &UserId, code_hash: &str) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE recovery_codes SET used_at = $1 \
                   WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
                .bind(now_ms())
                .bind(user.as_str())
                .bind(code_hash),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Replaces all of the caller's recovery codes.
    pub async fn replace_recovery_codes(
        &self,
        authz: &Authorized,
        hashes: &[String],
    ) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        replace_codes(&mut tx, authz.actor()?.as_str(), hashes).await?;
        tx.commit().await
    }

    /// Turns TOTP off and deletes the recovery codes.
    pub async fn disable_totp(&self, authz: &Authorized) -> Result<(), Error> {
        let user = authz.actor()?.as_str();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q(
                    "UPDATE users SET totp_sealed = NULL, totp_pending_sealed = NULL \
                   WHERE id = $1 AND (totp_sealed IS NOT NULL OR totp_pending_sealed IS NOT NULL)",
                )
                .bind(user),
            )
            .await?;
        if n == 0 {
            return Err(Error::new(ErrorCode::Conflict, "TOTP is not enabled"));
        }
        tx.execute(q("DELETE FROM recovery_codes WHERE user_id = $1").bind(user))
            .await?;
        tx.commit().await
    }
}

async fn replace_codes(tx: &mut crate::db::Tx, user: &str, hashes: &[String]) -> Result<(), Error> {
    tx.execute(q("DELETE FROM recovery_codes WHERE user_id = $1").bind(user))
        .await?;
    for hash in hashes {
        tx.execute(
            q("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user)
                .bind(hash),
        )
        .await?;
    }
    Ok(())
}
