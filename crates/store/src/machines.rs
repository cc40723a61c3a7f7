//! Machines: registered by members who hold the Machines cell, disabled, enabled and
//! removed by them. A registered machine opens nothing until it is attached to a project.

use crate::audit::{Severity, record_member_action};
use crate::db::{Row, q};
use crate::model::{MachineRecord, Origin};
use crate::{Store, now_ms};
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::MachineId;
use strongroom_core::names::MachineName;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::machine_key::MachinePublicKey;
use strongroom_crypto::random::new_id;

/// `SELECT` of every column [`machine_from_row`] reads, then `$filter`.
macro_rules! machine_select {
    ($filter:literal) => {
        concat!(
            "SELECT id, name, public_key, fingerprint, status, expires_at, registered_by_name, \
             created_at, updated_at FROM machines ",
            $filter
        )
    };
}

fn machine_from_row(row: &Row) -> Result<MachineRecord, Error> {
    Ok(MachineRecord {
        id: MachineId::from_trusted(row.text("id")?),
        name: MachineName::from_trusted(row.text("name")?),
        public_key: row.bytes("public_key")?,
        fingerprint: row.text("fingerprint")?,
        status: row.text("status")?,
        expires_at: row.opt_i64("expires_at")?,
        registered_by: row.text("registered_by_name")?,
        created_at: row.i64("created_at")?,
        updated_at: row.i64("updated_at")?,
    })
}

fn not_found(name: &MachineName) -> Error {
    Error::not_found(&format!("machine '{name}'"))
}

impl Store {
    /// Registers a machine under `name` with its public key; it opens nothing yet.
    pub async fn register_machine(
        &self,
        authz: &Authorized,
        name: &MachineName,
        key: MachinePublicKey,
        expires_at: Option<i64>,
        origin: &Origin,
    ) -> Result<MachineRecord, Error> {
        authz.require(Action::ManageMachines)?;
        let vault = authz.vault()?.as_str();
        let id = new_id(MachineId::from_random)?;
        let now = now_ms();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a machine's expiry must be in the future",
            ));
        }
        let fingerprint = key.fingerprint();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q(
                "INSERT INTO machines (id, vault_id, name, public_key, fingerprint, status, \
               expires_at, registered_by, registered_by_name, created_at, updated_at) \
               SELECT $1, $2, $3, $4, $5, 'active', $6, u.id, u.username, $7, $7 \
               FROM users u WHERE u.id = $8",
            )
            .bind(id.as_str())
            .bind(vault)
            .bind(name.as_str())
            .bind(key.to_bytes().to_vec())
            .bind(fingerprint.clone())
            .bind(expires_at)
            .bind(now)
            .bind(authz.actor()?.as_str()),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                format!(
                    "a machine named '{name}', or one with key {fingerprint}, is already \
                     registered in this vault"
                ),
            ),
            _ => e,
        })?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.register",
            &format!("{name} ({fingerprint})"),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(q(machine_select!("WHERE id = $1")).bind(id.as_str()))
            .await?;
        let record = machine_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// The vault's machines, by name.
    pub async fn machines(&self, authz: &Authorized) -> Result<Vec<MachineRecord>, Error> {
        authz.require(Action::ManageMachines)?;
        let rows = self
            .db
            .all(
                q(machine_select!(
                    "WHERE vault_id = $1 ORDER BY name LIMIT 1000"
                ))
                .bind(authz.vault()?.as_str()),
            )
            .await?;
        rows.iter().map(machine_from_row).collect()
    }

    /// One machine of the vault.
    pub async fn machine(
        &self,
        authz: &Authorized,
        name: &MachineName,
    ) -> Result<MachineRecord, Error> {
        authz.require(Action::ManageMachines)?;
        let row = self
            .db
            .optional(
                q(machine_select!("WHERE vault_id = $1 AND name = $2"))
                    .bind(authz.vault()?.as_str())
                    .bind(name.as_str()),
            )
            .await?
            .ok_or_else(|| not_found(name))?;
        machine_from_row(&row)
    }

    /// Disables (`enabled` false) or enables a machine; it holds from its next request.
    pub async fn set_machine_enabled(
        &self,
        authz: &Authorized,
        name: &MachineName,
        enabled: bool,
        origin: &Origin,
    ) -> Result<MachineRecord, Error> {
        authz.require(Action::ManageMachines)?;
        let vault = authz.vault()?.as_str();
        let (status, action) = if enabled {
            ("active", "machine.enable")
        } else {
            ("disabled", "machine.disable")
        };
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(
                q(machine_select!("WHERE vault_id = $1 AND name = $2"))
                    .bind(vault)
                    .bind(name.as_str()),
            )
            .await?
            .ok_or_else(|| not_found(name))?;
        let mut record = machine_from_row(&row)?;
        if record.status == status {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("machine '{name}' is already {status}"),
            ));
        }
        let now = now_ms();
        // Conditional, so of two concurrent identical changes the second is a conflict.
        let changed = tx
            .execute(
                q("UPDATE machines SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1")
                    .bind(status)
                    .bind(now)
                    .bind(record.id.as_str()),
            )
            .await?;
        if changed != 1 {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("machine '{name}' changed meanwhile; try again"),
            ));
        }
        record.status = status.to_owned();
        record.updated_at = now;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            action,
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Removes a machine: its key is refused from then on.
    pub async fn remove_machine(
        &self,
        authz: &Authorized,
        name: &MachineName,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageMachines)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let removed = tx
            .execute(
                q("DELETE FROM machines WHERE vault_id = $1 AND name = $2")
                    .bind(vault)
                    .bind(name.as_str()),
            )
            .await?;
        if removed != 1 {
            return Err(not_found(name));
        }
        // Its policies go with it; the rest of its rows cascade.
        tx.execute(
            q(
                "DELETE FROM policies WHERE vault_id = $1 AND subject_kind = 'machine' \
               AND subject_id NOT IN (SELECT id FROM machines WHERE vault_id = $1)",
            )
            .bind(vault),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.remove",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }
}
