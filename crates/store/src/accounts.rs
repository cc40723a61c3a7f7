//! Accounts and their vaults: sign-up creates the user, their personal vault and their
//! owner membership in one transaction.

use crate::db::{Row, q};
use crate::model::{LoginRecord, NewUser, UserRecord, VaultRecord};
use crate::{Store, now_ms};
use strongroom_core::account::{Email, Username};
use strongroom_core::authz::Authorized;
use strongroom_core::ids::{UserId, VaultId};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

fn user_from_row(row: &Row) -> Result<UserRecord, Error> {
    Ok(UserRecord {
        id: UserId::from_trusted(row.text("id")?),
        username: Username::from_trusted(row.text("username")?),
        email: Email::from_trusted(row.text("email")?),
        personal_vault_id: VaultId::from_trusted(row.text("personal_vault_id")?),
        totp_enabled: row.i64("totp_enabled")? != 0,
        email_verified_at: row.opt_i64("email_verified_at")?,
        created_at: row.i64("created_at")?,
    })
}

/// The columns [`user_from_row`] reads.
macro_rules! user_columns {
    () => {
        "id, username, email, personal_vault_id, created_at, email_verified_at, \
         CAST(CASE WHEN totp_sealed IS NULL THEN 0 ELSE 1 END AS BIGINT) AS totp_enabled"
    };
}

/// The columns [`vault_from_row`] reads, from `vaults v` joined with `memberships m` and
/// `role_join!()`.
macro_rules! vault_columns {
    () => {
        concat!(
            "v.id, v.kind, v.name, v.plan, v.deleted_at, v.created_at, m.status, ",
            crate::vault_roles::role_columns!()
        )
    };
}
pub(crate) use vault_columns;

impl Store {
    /// Creates an account with its personal vault, in which the user is owner.
    pub async fn create_user(&self, new: NewUser) -> Result<UserRecord, Error> {
        let user_id = new_id(UserId::from_random)?;
        let vault_id = new_id(VaultId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let taken = tx
            .optional(q("SELECT id FROM users WHERE username = $1").bind(new.username.as_str()))
            .await?;
        if taken.is_some() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                "that username is taken; choose another",
            ));
        }
        tx.execute(
            q(
                "INSERT INTO users (id, username, email, email_key, verified_email_claim, \
               password_hash, personal_vault_id, created_at) \
               VALUES ($1, $2, $3, $4, 'unverified:' || $1, $5, $6, $7)",
            )
            .bind(user_id.as_str())
            .bind(new.username.as_str())
            .bind(new.email.as_str())
            .bind(new.email.key())
            .bind(new.password_hash)
            .bind(vault_id.as_str())
            .bind(now),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                "that username is taken; choose another",
            ),
            _ => e,
        })?;
        crate::organizations::insert_owned_vault(
            &mut tx,
            &vault_id,
            "personal",
            new.username.as_str(),
            &user_id,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(UserRecord {
            id: user_id,
            username: new.username,
            email: new.email,
            personal_vault_id: vault_id,
            totp_enabled: false,
            email_verified_at: None,
            created_at: now,
        })
    }

    /// What sign-in needs, by username. `None` if there is no such user.
    pub async fn login_record(&self, username: &Username) -> Result<Option<LoginRecord>, Error> {
        let row = self
            .db
            .optional(
                q(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", password_hash FROM users WHERE username = $1"
                ))
                .bind(username.as_str()),
            )
            .await?;
        row.map(|row| {
            Ok(LoginRecord {
                user: user_from_row(&row)?,
                password_hash: row.text("password_hash")?,
            })
        })
        .transpose()
    }

    /// The caller's own account.
    pub async fn own_user(&self, authz: &Authorized) -> Result<UserRecord, Error> {
        let row = self
            .db
            .optional(
                q(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE id = $1"
                ))
                .bind(authz.actor()?.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found("account"))?;
        user_from_row(&row)
    }

    /// The caller's password hash, for step-up and password change.
    pub async fn own_password_hash(&self, authz: &Authorized) -> Result<String, Error> {
        self.db
            .optional(
                q("SELECT password_hash FROM users WHERE id = $1").bind(authz.actor()?.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found("account"))?
            .text("password_hash")
    }

    /// Replaces the caller's password and ends every other session of theirs.
    pub async fn change_password(
        &self,
        authz: &Authorized,
        new_hash: String,
        keep_session: &str,
    ) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(new_hash)
                .bind(authz.actor()?.as_str()),
        )
        .await?;
        tx.execute(
            q("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(authz.actor()?.as_str())
                .bind(keep_session),
        )
        .await?;
        tx.commit().await
    }

    /// Every vault the caller belongs to, with their role and standing in each (the
    /// personal vault first, then organizations by name).
    pub async fn own_vaults(&self, authz: &Authorized) -> Result<Vec<VaultRecord>, Error> {
        let rows = self
            .db
            .all(
                q(concat!(
                    "SELECT ",
                    vault_columns!(),
                    " FROM memberships m JOIN vaults v ON v.id = m.vault_id \
                     ",
                    crate::vault_roles::role_join!(),
                    " WHERE m.user_id = $1 \
                     ORDER BY v.kind DESC, v.name, v.id"
                ))
                .bind(authz.actor()?.as_str()),
            )
            .await?;
        rows.iter().map(vault_from_row).collect()
    }
}

pub(crate) fn vault_from_row(row: &Row) -> Result<VaultRecord, Error> {
    Ok(VaultRecord {
        id: VaultId::from_trusted(row.text("id")?),
        kind: row.text("kind")?,
        name: row.text("name")?,
        role: crate::vault_roles::role_from_row(row)?,
        role_name: crate::vault_roles::role_name_from_row(row)?,
        member_status: row.text("status")?,
        plan: row.text("plan")?.parse()?,
        deleted_at: row.opt_i64("deleted_at")?,
        created_at: row.i64("created_at")?,
    })
}
