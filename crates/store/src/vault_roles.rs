//! Custom vault roles: authored cell by cell on the enterprise plan, held by members
//! through `memberships.vault_role_id`. A holder's cells are joined in with every
//! request, so an edit holds on the next request on every node without a cache.

use crate::audit::{Severity, record_member_action};
use crate::db::{Dialect, Row, Tx, q};
use crate::model::{CustomRoleRecord, Origin};
use crate::{Store, now_ms};
use strongroom_core::authz::{Action, Authorized, VaultRole};
use strongroom_core::capability::Capabilities;
use strongroom_core::custom_role::{CustomRoleSpec, check_custom_name};
use strongroom_core::ids::VaultRoleId;
use strongroom_core::names::RoleName;
use strongroom_core::plan::Plan;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// The columns [`role_from_row`] and [`role_name_from_row`] read; the query must
/// `LEFT JOIN vault_roles vr ON vr.id = m.vault_role_id AND vr.vault_id = m.vault_id`.
macro_rules! role_columns {
    () => {
        "m.role, vr.capabilities AS role_capabilities, vr.name AS custom_role"
    };
}
pub(crate) use role_columns;

/// The join [`role_columns`] needs, from `memberships m` (a role of the member's own
/// vault only).
macro_rules! role_join {
    () => {
        "LEFT JOIN vault_roles vr ON vr.id = m.vault_role_id AND vr.vault_id = m.vault_id"
    };
}
pub(crate) use role_join;

/// A member's vault role from a row with [`role_columns`].
pub(crate) fn role_from_row(row: &Row) -> Result<VaultRole, Error> {
    let role = row.text("role")?;
    if role != "custom" {
        return role.parse();
    }
    let bits = row
        .opt_i64("role_capabilities")?
        .ok_or_else(|| Error::internal("a membership points at a missing custom role"))?;
    let bits = u32::try_from(bits).map_err(|_| Error::internal("stored capabilities overflow"))?;
    Ok(VaultRole::Custom(Capabilities::from_bits(bits)?))
}

/// The name of a member's vault role, built-in or custom, from a row with [`role_columns`].
pub(crate) fn role_name_from_row(row: &Row) -> Result<String, Error> {
    match row.opt_text("custom_role")? {
        Some(name) => Ok(name),
        None => row.text("role"),
    }
}

/// A vault role named by a person, resolved in the vault it is used in.
#[derive(Debug, Clone)]
pub struct NamedRole {
    /// What the decision sees.
    pub role: VaultRole,
    /// Its name.
    pub name: String,
    /// The custom role's row, if it is one.
    pub(crate) custom_id: Option<String>,
}

impl NamedRole {
    /// A built-in role.
    pub fn built_in(role: VaultRole) -> Self {
        Self {
            role,
            name: role.to_string(),
            custom_id: None,
        }
    }
}

const CUSTOM_BY_NAME: &str =
    "SELECT id, capabilities FROM vault_roles WHERE vault_id = $1 AND name = $2";
const CUSTOM_BY_NAME_SHARED: &str =
    "SELECT id, capabilities FROM vault_roles WHERE vault_id = $1 AND name = $2 FOR SHARE";

fn named(name: &RoleName, row: Option<Row>) -> Result<NamedRole, Error> {
    let row = row.ok_or_else(|| Error::not_found(&format!("vault role '{name}'")))?;
    Ok(NamedRole {
        role: VaultRole::Custom(capabilities(&row)?),
        name: name.as_str().to_owned(),
        custom_id: Some(row.text("id")?),
    })
}

/// Resolves `name` to a built-in role or one of `vault`'s custom roles, inside `tx`.
pub(crate) async fn resolve_role(
    tx: &mut Tx,
    vault: &str,
    name: &RoleName,
) -> Result<NamedRole, Error> {
    if let Ok(role) = name.as_str().parse::<VaultRole>() {
        return Ok(NamedRole::built_in(role));
    }
    // Share-locked on PostgreSQL: the role cannot change between this decision and the
    // write that gives it.
    let sql = match tx.dialect() {
        Dialect::Sqlite => CUSTOM_BY_NAME,
        Dialect::Postgres => CUSTOM_BY_NAME_SHARED,
    };
    let row = tx.optional(q(sql).bind(vault).bind(name.as_str())).await?;
    named(name, row)
}

/// Checks, inside `tx`, that a custom role decided on outside it still holds the cells
/// the decision saw (share-locked on PostgreSQL until the transaction ends).
pub(crate) async fn confirm_unchanged(
    tx: &mut Tx,
    vault: &str,
    role: &NamedRole,
) -> Result<(), Error> {
    let Some(id) = &role.custom_id else {
        return Ok(());
    };
    let sql = match tx.dialect() {
        Dialect::Sqlite => "SELECT capabilities FROM vault_roles WHERE id = $1 AND vault_id = $2",
        Dialect::Postgres => {
            "SELECT capabilities FROM vault_roles WHERE id = $1 AND vault_id = $2 FOR SHARE"
        }
    };
    let row = tx.optional(q(sql).bind(id.clone()).bind(vault)).await?;
    match row {
        Some(row) if VaultRole::Custom(capabilities(&row)?) == role.role => Ok(()),
        Some(_) => Err(Error::new(
            ErrorCode::Conflict,
            format!("vault role '{}' changed meanwhile; try again", role.name),
        )),
        None => Err(Error::not_found(&format!("vault role '{}'", role.name))),
    }
}

fn capabilities(row: &Row) -> Result<Capabilities, Error> {
    let bits = u32::try_from(row.i64("capabilities")?)
        .map_err(|_| Error::internal("stored capabilities overflow"))?;
    Capabilities::from_bits(bits)
}

fn record_from_row(row: &Row) -> Result<CustomRoleRecord, Error> {
    Ok(CustomRoleRecord {
        id: VaultRoleId::from_trusted(row.text("id")?),
        name: RoleName::from_trusted(row.text("name")?),
        description: row.text("description")?,
        capabilities: capabilities(row)?,
        members: row.i64("members")?,
        created_at: row.i64("created_at")?,
        updated_at: row.i64("updated_at")?,
    })
}

/// `SELECT` of every column [`record_from_row`] reads, then `$filter`.
macro_rules! custom_role_select {
    ($filter:literal) => {
        concat!(
            "SELECT r.id, r.name, r.description, r.capabilities, r.created_at, r.updated_at, \
             CAST((SELECT COUNT(*) FROM memberships m WHERE m.vault_role_id = r.id) AS BIGINT) \
             AS members FROM vault_roles r ",
            $filter
        )
    };
}

/// Refuses authoring below the enterprise plan, naming the plan.
async fn require_enterprise(tx: &mut Tx, vault: &str) -> Result<(), Error> {
    let plan: Plan = tx
        .one(q("SELECT plan FROM vaults WHERE id = $1").bind(vault))
        .await?
        .text("plan")?
        .parse()?;
    plan.check_custom_roles()
}

/// The cells of custom role `name` in `vault`, or "not found".
/// Locked on PostgreSQL (SQLite has one writer), so two edits cannot both decide on the
/// same old cells.
async fn stored_cells(tx: &mut Tx, vault: &str, name: &RoleName) -> Result<Capabilities, Error> {
    let sql = match tx.dialect() {
        Dialect::Sqlite => "SELECT capabilities FROM vault_roles WHERE vault_id = $1 AND name = $2",
        Dialect::Postgres => {
            "SELECT capabilities FROM vault_roles WHERE vault_id = $1 AND name = $2 FOR UPDATE"
        }
    };
    let row = tx
        .optional(q(sql).bind(vault).bind(name.as_str()))
        .await?
        .ok_or_else(|| Error::not_found(&format!("vault role '{name}'")))?;
    capabilities(&row)
}

impl Store {
    /// Creates a custom vault role (enterprise plan; no cell its author lacks).
    pub async fn create_custom_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
        spec: &CustomRoleSpec,
        origin: &Origin,
    ) -> Result<CustomRoleRecord, Error> {
        check_custom_name(name)?;
        let cells = spec.cells()?;
        authz.permit_vault_role_authoring(None, Some(cells))?;
        let vault = authz.vault()?.as_str();
        let id = new_id(VaultRoleId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        require_enterprise(&mut tx, vault).await?;
        tx.execute(
            q(
                "INSERT INTO vault_roles (id, vault_id, name, description, capabilities, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(id.as_str())
            .bind(vault)
            .bind(name.as_str())
            .bind(spec.description.clone())
            .bind(i64::from(cells.bits()))
            .bind(now),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                format!("a vault role named '{name}' already exists; edit it instead"),
            ),
            _ => e,
        })?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "vault_role.create",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(q(custom_role_select!("WHERE r.id = $1")).bind(id.as_str()))
            .await?;
        let record = record_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Replaces a custom role's cells; its holders hold the new ones from their next
    /// request. Nobody edits a role holding more than they do, or grants a cell they lack.
    pub async fn update_custom_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
        spec: &CustomRoleSpec,
        origin: &Origin,
    ) -> Result<CustomRoleRecord, Error> {
        authz.require(Action::ManageRoles)?;
        let cells = spec.cells()?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let old = stored_cells(&mut tx, vault, name).await?;
        authz.permit_vault_role_authoring(Some(old), Some(cells))?;
        require_enterprise(&mut tx, vault).await?;
        tx.execute(
            q(
                "UPDATE vault_roles SET description = $1, capabilities = $2, updated_at = $3 \
               WHERE vault_id = $4 AND name = $5",
            )
            .bind(spec.description.clone())
            .bind(i64::from(cells.bits()))
            .bind(now_ms())
            .bind(vault)
            .bind(name.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "vault_role.edit",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(
                q(custom_role_select!("WHERE r.vault_id = $1 AND r.name = $2"))
                    .bind(vault)
                    .bind(name.as_str()),
            )
            .await?;
        let record = record_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a custom role that nobody holds.
    pub async fn delete_custom_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageRoles)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let old = stored_cells(&mut tx, vault, name).await?;
        authz.permit_vault_role_authoring(Some(old), None)?;
        let holders = tx
            .one(
                q("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM memberships m \
                   JOIN vault_roles r ON r.id = m.vault_role_id \
                   WHERE r.vault_id = $1 AND r.name = $2")
                .bind(vault)
                .bind(name.as_str()),
            )
            .await?
            .i64("n")?;
        // Invites that lapsed are marked so; a pending one still offers the role.
        tx.execute(
            q("UPDATE invites SET status = 'expired' WHERE status = 'pending' AND expires_at <= $1 \
               AND vault_role_id IN (SELECT id FROM vault_roles WHERE vault_id = $2 AND name = $3)")
            .bind(now_ms())
            .bind(vault)
            .bind(name.as_str()),
        )
        .await?;
        let offered = tx
            .one(
                q("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM invites i \
                   JOIN vault_roles r ON r.id = i.vault_role_id \
                   WHERE r.vault_id = $1 AND r.name = $2 AND i.status = 'pending'")
                .bind(vault)
                .bind(name.as_str()),
            )
            .await?
            .i64("n")?;
        if offered > 0 {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "{offered} pending invite(s) offer '{name}'; revoke them first \
                     (`strongroom members invites`, then `strongroom members revoke-invite ID`)"
                ),
            ));
        }
        if holders > 0 {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "{holders} member(s) hold '{name}'; give them another role first \
                     (`strongroom members set-role USERNAME --vault-role ROLE`)"
                ),
            ));
        }
        tx.execute(
            q("DELETE FROM vault_roles WHERE vault_id = $1 AND name = $2")
                .bind(vault)
                .bind(name.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "vault_role.delete",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Resolves the role an invite offers: built-in, or one of the vault's custom roles.
    pub async fn offered_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
    ) -> Result<NamedRole, Error> {
        authz.require(Action::ManageInvites)?;
        if let Ok(role) = name.as_str().parse::<VaultRole>() {
            return Ok(NamedRole::built_in(role));
        }
        let row = self
            .db
            .optional(
                q(CUSTOM_BY_NAME)
                    .bind(authz.vault()?.as_str())
                    .bind(name.as_str()),
            )
            .await?;
        named(name, row)
    }

    /// The vault's custom roles, by name.
    pub async fn custom_roles(&self, authz: &Authorized) -> Result<Vec<CustomRoleRecord>, Error> {
        authz.require(Action::ViewRoles)?;
        let rows = self
            .db
            .all(
                q(custom_role_select!(
                    "WHERE r.vault_id = $1 ORDER BY r.name LIMIT 1000"
                ))
                .bind(authz.vault()?.as_str()),
            )
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// One custom role of the vault.
    pub async fn custom_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
    ) -> Result<CustomRoleRecord, Error> {
        authz.require(Action::ViewRoles)?;
        let row = self
            .db
            .optional(
                q(custom_role_select!("WHERE r.vault_id = $1 AND r.name = $2"))
                    .bind(authz.vault()?.as_str())
                    .bind(name.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(&format!("vault role '{name}'")))?;
        record_from_row(&row)
    }
}
