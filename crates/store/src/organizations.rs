//! Organizations: creating one, converting a personal vault into one, handing it to
//! another member, the owner's kill switch (soft delete, restore within 30 days, purge)
//! and the operator's plan setting.

use crate::accounts::{vault_columns, vault_from_row};
use crate::audit::{Severity, record_member_action, record_system_action};
use crate::db::{Dialect, Tx, q};
use crate::model::{Origin, VaultRecord};
use crate::{Store, now_ms};
use strongroom_core::account::Username;
use strongroom_core::authz::{Action, Authorized, VaultRole};
use strongroom_core::ids::{UserId, VaultId};
use strongroom_core::names::OrganizationName;
use strongroom_core::plan::Plan;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// How long a soft-deleted organization can be restored before it is purged.
pub const RESTORE_WINDOW_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Organization names are unique per owner; says so in terms the owner can act on.
fn name_taken(e: Error, name: &str) -> Error {
    match e.code() {
        ErrorCode::AlreadyExists => Error::new(
            ErrorCode::AlreadyExists,
            format!("you already own an organization named '{name}'; choose another name"),
        ),
        _ => e,
    }
}

/// Inserts a vault and its owner's membership.
pub(crate) async fn insert_owned_vault(
    tx: &mut Tx,
    id: &VaultId,
    kind: &str,
    name: &str,
    owner: &UserId,
    now: i64,
) -> Result<(), Error> {
    tx.execute(
        q("INSERT INTO vaults (id, kind, name, owner_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.as_str())
            .bind(kind)
            .bind(name)
            .bind(owner.as_str())
            .bind(now),
    )
    .await
    .map_err(|e| name_taken(e, name))?;
    tx.execute(
        q("INSERT INTO memberships (vault_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(owner.as_str())
            .bind(VaultRole::Owner.as_str())
            .bind(now),
    )
    .await?;
    Ok(())
}

/// A vault as its member `user` sees it (their role and standing there).
pub(crate) async fn vault_as_member(
    tx: &mut Tx,
    vault: &str,
    user: &UserId,
) -> Result<VaultRecord, Error> {
    let row = tx
        .optional(
            q(concat!(
                "SELECT ",
                vault_columns!(),
                " FROM vaults v JOIN memberships m ON m.vault_id = v.id \
                 ",
                crate::vault_roles::role_join!(),
                " \
                 WHERE v.id = $1 AND m.user_id = $2"
            ))
            .bind(vault)
            .bind(user.as_str()),
        )
        .await?
        .ok_or_else(|| Error::not_found("vault"))?;
    vault_from_row(&row)
}

impl Store {
    /// Creates an empty organization owned by the caller, on the free plan.
    pub async fn create_organization(
        &self,
        authz: &Authorized,
        name: &OrganizationName,
        origin: &Origin,
    ) -> Result<VaultRecord, Error> {
        authz.require(Action::CreateOrganization)?;
        let id = new_id(VaultId::from_random)?;
        let mut tx = self.db.begin().await?;
        insert_owned_vault(
            &mut tx,
            &id,
            "organization",
            name.as_str(),
            authz.actor()?,
            now_ms(),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            id.as_str(),
            authz.actor()?,
            "organization.create",
            name.as_str(),
            Severity::Notice,
        )
        .await?;
        let vault = vault_as_member(&mut tx, id.as_str(), authz.actor()?).await?;
        tx.commit().await?;
        Ok(vault)
    }

    /// Converts the caller's personal vault (the one the proof is for) into an organization
    /// named `name`. The vault keeps its id and everything in it; the caller gets a new,
    /// empty personal vault, so every account still has one. One-way.
    pub async fn convert_to_organization(
        &self,
        authz: &Authorized,
        name: &OrganizationName,
        origin: &Origin,
    ) -> Result<VaultRecord, Error> {
        authz.require(Action::ConvertToOrganization)?;
        let vault = authz.vault()?.as_str();
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE vaults SET kind = 'organization', name = $1 \
                   WHERE id = $2 AND owner_id = $3 AND kind = 'personal'")
                .bind(name.as_str())
                .bind(vault)
                .bind(authz.actor()?.as_str()),
            )
            .await
            .map_err(|e| name_taken(e, name.as_str()))?;
        if n != 1 {
            return Err(Error::new(
                ErrorCode::Conflict,
                "this vault is already an organization; conversion applies to a personal vault",
            ));
        }
        let personal = new_id(VaultId::from_random)?;
        let username = tx
            .one(q("SELECT username FROM users WHERE id = $1").bind(authz.actor()?.as_str()))
            .await?
            .text("username")?;
        insert_owned_vault(
            &mut tx,
            &personal,
            "personal",
            &username,
            authz.actor()?,
            now,
        )
        .await?;
        tx.execute(
            q("UPDATE users SET personal_vault_id = $1 WHERE id = $2")
                .bind(personal.as_str())
                .bind(authz.actor()?.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "organization.convert",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        let record = vault_as_member(&mut tx, vault, authz.actor()?).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Makes `new_owner` (an active member) the owner; the caller becomes an admin. The
    /// conditional update of `owner_id` makes two racing transfers resolve to one.
    pub async fn transfer_ownership(
        &self,
        authz: &Authorized,
        new_owner: &Username,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::TransferOwnership)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        // The target's membership is locked (PostgreSQL) so that a concurrent removal,
        // suspension or departure cannot slip between this check and the hand-over.
        let sql = match tx.dialect() {
            Dialect::Sqlite => {
                "SELECT u.id, m.status FROM users u JOIN memberships m \
                 ON m.user_id = u.id AND m.vault_id = $1 WHERE u.username = $2"
            }
            Dialect::Postgres => {
                "SELECT u.id, m.status FROM users u JOIN memberships m \
                 ON m.user_id = u.id AND m.vault_id = $1 WHERE u.username = $2 FOR UPDATE OF m"
            }
        };
        let target = tx
            .optional(q(sql).bind(vault).bind(new_owner.as_str()))
            .await?
            .ok_or_else(|| Error::not_found(&format!("member '{new_owner}'")))?;
        let target_id = UserId::from_trusted(target.text("id")?);
        if target_id == *authz.actor()? {
            return Err(Error::new(
                ErrorCode::Conflict,
                "you already own this organization",
            ));
        }
        if target.text("status")? != "active" {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("'{new_owner}' is suspended; unsuspend them before handing over ownership"),
            ));
        }
        let moved = tx
            .execute(
                q("UPDATE vaults SET owner_id = $1 \
                   WHERE id = $2 AND owner_id = $3 AND kind = 'organization'")
                .bind(target_id.as_str())
                .bind(vault)
                .bind(authz.actor()?.as_str()),
            )
            .await
            .map_err(|e| match e.code() {
                // Says nothing about what the new owner owns elsewhere.
                ErrorCode::AlreadyExists => Error::new(
                    ErrorCode::Conflict,
                    format!("ownership could not be transferred to '{new_owner}'"),
                ),
                _ => e,
            })?;
        if moved != 1 {
            return Err(Error::new(
                ErrorCode::Conflict,
                "only an organization's current owner can transfer it (a personal vault cannot be transferred)",
            ));
        }
        for (user, role) in [
            (authz.actor()?, VaultRole::Admin),
            (&target_id, VaultRole::Owner),
        ] {
            let n = tx
                .execute(
                    q("UPDATE memberships SET role = $1, vault_role_id = NULL \
                       WHERE vault_id = $2 AND user_id = $3")
                    .bind(role.as_str())
                    .bind(vault)
                    .bind(user.as_str()),
                )
                .await?;
            if n != 1 {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "a membership changed while ownership was being transferred; nothing was \
                     changed, try again",
                ));
            }
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "organization.transfer",
            new_owner.as_str(),
            Severity::Critical,
        )
        .await?;
        tx.commit().await
    }

    /// The owner's kill switch: from the next request on, nothing of this organization
    /// opens for anyone (members, sessions, and the machine plane, which reads the same
    /// flag). Restorable for 30 days.
    pub async fn delete_organization(
        &self,
        authz: &Authorized,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::DeleteOrganization)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE vaults SET deleted_at = $1, deleted_by = $2 \
                   WHERE id = $3 AND owner_id = $2 AND kind = 'organization' AND deleted_at IS NULL")
                .bind(now_ms())
                .bind(authz.actor()?.as_str())
                .bind(vault),
            )
            .await?;
        if n != 1 {
            return Err(Error::new(
                ErrorCode::Conflict,
                "only an organization can be deleted (a personal vault cannot)",
            ));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "organization.delete",
            vault,
            Severity::Critical,
        )
        .await?;
        tx.commit().await
    }

    /// Brings back an organization the caller owns and soft-deleted less than 30 days ago.
    pub async fn restore_organization(
        &self,
        authz: &Authorized,
        vault: &VaultId,
        origin: &Origin,
    ) -> Result<VaultRecord, Error> {
        authz.require(Action::ManageOwnAccount)?;
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE vaults SET deleted_at = NULL, deleted_by = NULL \
                   WHERE id = $1 AND owner_id = $2 AND deleted_at IS NOT NULL AND deleted_at > $3")
                .bind(vault.as_str())
                .bind(authz.actor()?.as_str())
                .bind(now_ms() - RESTORE_WINDOW_MS),
            )
            .await?;
        if n != 1 {
            return Err(Error::not_found("deleted organization owned by you"));
        }
        record_member_action(
            &mut tx,
            origin,
            vault.as_str(),
            authz.actor()?,
            "organization.restore",
            vault.as_str(),
            Severity::Critical,
        )
        .await?;
        let record = vault_as_member(&mut tx, vault.as_str(), authz.actor()?).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Destroys organizations deleted more than 30 days before `now`: their data keys
    /// first (so nothing sealed under them can ever open again), then every row. Sessions
    /// that were acting in one move to their user's personal vault. Returns how many went.
    pub async fn purge_deleted_organizations(&self, now: i64) -> Result<u64, Error> {
        let doomed = self
            .db
            .all(
                q("SELECT id FROM vaults WHERE deleted_at IS NOT NULL AND deleted_at <= $1")
                    .bind(now - RESTORE_WINDOW_MS),
            )
            .await?;
        let mut purged = 0;
        for row in doomed {
            let vault = row.text("id")?;
            let mut tx = self.db.begin().await?;
            // Re-checked (and locked) inside the transaction: a restore may have just
            // committed, and one that comes now waits for this purge.
            let sql = match tx.dialect() {
                Dialect::Sqlite => {
                    "SELECT id FROM vaults WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at <= $2"
                }
                Dialect::Postgres => {
                    "SELECT id FROM vaults WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at <= $2 \
                     FOR UPDATE"
                }
            };
            let still_doomed = tx
                .optional(q(sql).bind(vault.clone()).bind(now - RESTORE_WINDOW_MS))
                .await?;
            if still_doomed.is_none() {
                continue;
            }
            let keys = tx
                .all(q("SELECT data_key_id FROM projects WHERE vault_id = $1").bind(vault.clone()))
                .await?;
            tx.execute(
                q("UPDATE sessions SET vault_id = \
                   (SELECT u.personal_vault_id FROM users u WHERE u.id = sessions.user_id) \
                   WHERE vault_id = $1")
                .bind(vault.clone()),
            )
            .await?;
            tx.execute(q("DELETE FROM vaults WHERE id = $1").bind(vault.clone()))
                .await?;
            for key in keys {
                tx.execute(q("DELETE FROM data_keys WHERE id = $1").bind(key.text("data_key_id")?))
                    .await?;
            }
            record_system_action(
                &mut tx,
                &vault,
                "server",
                "organization.purge",
                &vault,
                Severity::Critical,
            );
            tx.commit().await?;
            purged += 1;
        }
        Ok(purged)
    }

    /// The operator's plan setting (`strongroom admin set-plan`), by vault id or by
    /// organization name (refused as ambiguous when two owners use the name).
    pub async fn set_plan(&self, vault: &str, plan: Plan) -> Result<(VaultId, String), Error> {
        let rows = self
            .db
            .all(
                q("SELECT id, name FROM vaults WHERE kind = 'organization' AND (id = $1 OR name = $1)")
                    .bind(vault),
            )
            .await?;
        let (id, name) = match rows.as_slice() {
            [] => return Err(Error::not_found(&format!("organization '{vault}'"))),
            [row] => (row.text("id")?, row.text("name")?),
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("more than one organization is named '{vault}'; give its id"),
                ));
            }
        };
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("UPDATE vaults SET plan = $1 WHERE id = $2")
                .bind(plan.as_str())
                .bind(id.clone()),
        )
        .await?;
        record_system_action(
            &mut tx,
            &id,
            "operator",
            "organization.set_plan",
            plan.as_str(),
            Severity::Notice,
        );
        tx.commit().await?;
        Ok((VaultId::from_trusted(id), name))
    }
}
