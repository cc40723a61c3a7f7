//! Access roles: authored by those with Roles: manage, assigned to members, and loaded
//! with every session. A compiled role is cached by id and version; the version is read
//! with the session on every request, so an edit on one node holds on the next request
//! on every node.

use crate::audit::{Severity, record_member_action};
use crate::db::{Row, q};
use crate::model::{AccessRoleRecord, Origin};
use crate::{Store, now_ms};
use std::sync::Arc;
use strongroom_core::access::{AccessRole, AccessRoleSpec};
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::AccessRoleId;
use strongroom_core::names::RoleName;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// Compiled access roles by id, with the version they were compiled from.
pub(crate) type AccessRoleCache =
    Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, Arc<AccessRole>)>>>;

/// The id and compiled form of access role `name` in `vault`, read in `tx`, or "not
/// found". The compiled form is what the caller must be able to hand out.
pub(crate) async fn access_role_by_name(
    store: &Store,
    tx: &mut crate::db::Tx,
    vault: &str,
    name: &RoleName,
) -> Result<(String, Arc<AccessRole>), Error> {
    // Locked on PostgreSQL (SQLite has one writer): the role cannot change between the
    // decision made on it here and the write that follows.
    let sql = match tx.dialect() {
        crate::db::Dialect::Sqlite => {
            "SELECT id, spec, version FROM access_roles WHERE vault_id = $1 AND name = $2"
        }
        crate::db::Dialect::Postgres => {
            "SELECT id, spec, version FROM access_roles WHERE vault_id = $1 AND name = $2 FOR UPDATE"
        }
    };
    let row = tx
        .optional(q(sql).bind(vault).bind(name.as_str()))
        .await?
        .ok_or_else(|| Error::not_found(&format!("access role '{name}'")))?;
    let id = row.text("id")?;
    let role = store.compile_cached(&id, &row)?;
    Ok((id, role))
}

/// Refuses changing access role `id` while a member whose vault role is not below the
/// caller's holds it: an edit or deletion changes what they hold.
async fn require_holders_below(
    tx: &mut crate::db::Tx,
    authz: &Authorized,
    id: &str,
) -> Result<(), Error> {
    let holders = tx
        .all(
            q(concat!(
                "SELECT ",
                crate::vault_roles::role_columns!(),
                " FROM memberships m ",
                crate::vault_roles::role_join!(),
                " WHERE m.access_role_id = $1"
            ))
            .bind(id),
        )
        .await?;
    for row in &holders {
        if !authz.outranks(crate::vault_roles::role_from_row(row)?) {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                "permission denied: a member whose vault role is not below yours holds this \
                 access role (perhaps you), so only someone above them can change it",
            ));
        }
    }
    Ok(())
}

fn spec_from_text(text: &str) -> Result<AccessRoleSpec, Error> {
    serde_json::from_str(text)
        .map_err(|e| Error::internal(format!("stored access role is malformed: {e}")))
}

fn record_from_row(row: &Row) -> Result<AccessRoleRecord, Error> {
    Ok(AccessRoleRecord {
        id: AccessRoleId::from_trusted(row.text("id")?),
        name: RoleName::from_trusted(row.text("name")?),
        spec: spec_from_text(&row.text("spec")?)?,
        version: row.i64("version")?,
        members: row.i64("members")?,
        created_at: row.i64("created_at")?,
        updated_at: row.i64("updated_at")?,
    })
}

/// `SELECT` of every column [`record_from_row`] reads, then `$filter`.
macro_rules! concat_columns {
    ($filter:literal) => {
        concat!(
            "SELECT r.id, r.name, r.spec, r.version, r.created_at, r.updated_at, \
             CAST((SELECT COUNT(*) FROM memberships m WHERE m.access_role_id = r.id) AS BIGINT) \
             AS members FROM access_roles r ",
            $filter
        )
    };
}

fn encode(spec: &AccessRoleSpec) -> Result<String, Error> {
    // Compiling first refuses a malformed role before anything is stored.
    AccessRole::compile(spec)?;
    serde_json::to_string(spec)
        .map_err(|e| Error::internal(format!("encoding an access role: {e}")))
}

impl Store {
    /// The compiled access role `id` at `version`, from the cache or the database.
    pub(crate) async fn compiled_access_role(
        &self,
        id: &str,
        version: i64,
    ) -> Result<Arc<AccessRole>, Error> {
        if let Ok(cache) = self.access_roles.lock()
            && let Some((cached, role)) = cache.get(id)
            && *cached == version
        {
            return Ok(role.clone());
        }
        let row = self
            .db
            .one(q("SELECT spec, version FROM access_roles WHERE id = $1").bind(id))
            .await?;
        self.compile_cached(id, &row)
    }

    /// The compiled form of a row holding `spec` and `version`, through the cache.
    fn compile_cached(&self, id: &str, row: &Row) -> Result<Arc<AccessRole>, Error> {
        let version = row.i64("version")?;
        if let Ok(cache) = self.access_roles.lock()
            && let Some((cached, role)) = cache.get(id)
            && *cached == version
        {
            return Ok(role.clone());
        }
        let role = Arc::new(AccessRole::compile(&spec_from_text(&row.text("spec")?)?)?);
        if let Ok(mut cache) = self.access_roles.lock() {
            cache.insert(id.to_owned(), (version, role.clone()));
        }
        Ok(role)
    }

    /// Creates an access role in the vault the proof is for.
    pub async fn create_access_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
        spec: &AccessRoleSpec,
        origin: &Origin,
    ) -> Result<AccessRoleRecord, Error> {
        let spec = authz.permit_access_role_authoring(None, spec)?;
        let vault = authz.vault()?.as_str();
        let id = new_id(AccessRoleId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("INSERT INTO access_roles (id, vault_id, name, spec, version, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, 1, $5, $5)")
            .bind(id.as_str())
            .bind(vault)
            .bind(name.as_str())
            .bind(encode(&spec)?)
            .bind(now),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                format!("an access role named '{name}' already exists; edit it instead"),
            ),
            _ => e,
        })?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "access_role.create",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(q(concat_columns!("WHERE r.id = $1")).bind(id.as_str()))
            .await?;
        let record = record_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Replaces an access role's file; members holding it see the change on their next
    /// request.
    pub async fn update_access_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
        spec: &AccessRoleSpec,
        origin: &Origin,
    ) -> Result<AccessRoleRecord, Error> {
        authz.require(Action::ManageRoles)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let (id, old) = access_role_by_name(self, &mut tx, vault, name).await?;
        let spec = authz.permit_access_role_authoring(Some(&old), spec)?;
        require_holders_below(&mut tx, authz, &id).await?;
        let n = tx
            .execute(
                q(
                    "UPDATE access_roles SET spec = $1, version = version + 1, updated_at = $2 \
                   WHERE vault_id = $3 AND name = $4",
                )
                .bind(encode(&spec)?)
                .bind(now_ms())
                .bind(vault)
                .bind(name.as_str()),
            )
            .await?;
        if n != 1 {
            return Err(Error::not_found(&format!("access role '{name}'")));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "access_role.edit",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(
                q(concat_columns!("WHERE r.vault_id = $1 AND r.name = $2"))
                    .bind(vault)
                    .bind(name.as_str()),
            )
            .await?;
        let record = record_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes an access role (only one the caller could hand out); the members who held
    /// it hold none from their next request.
    pub async fn delete_access_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageRoles)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let (id, old) = access_role_by_name(self, &mut tx, vault, name).await?;
        authz.permit_granting_access_role(&old)?;
        require_holders_below(&mut tx, authz, &id).await?;
        tx.execute(
            q("UPDATE memberships SET access_role_id = NULL WHERE access_role_id = $1")
                .bind(id.clone()),
        )
        .await?;
        tx.execute(
            q("UPDATE invites SET access_role_id = NULL WHERE access_role_id = $1")
                .bind(id.clone()),
        )
        .await?;
        tx.execute(q("DELETE FROM access_roles WHERE id = $1").bind(id))
            .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "access_role.delete",
            name.as_str(),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// The vault's access roles, by name.
    pub async fn access_roles(&self, authz: &Authorized) -> Result<Vec<AccessRoleRecord>, Error> {
        authz.require(Action::ViewRoles)?;
        let rows = self
            .db
            .all(
                q(concat_columns!(
                    "WHERE r.vault_id = $1 ORDER BY r.name LIMIT 1000"
                ))
                .bind(authz.vault()?.as_str()),
            )
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// One access role of the vault.
    pub async fn access_role(
        &self,
        authz: &Authorized,
        name: &RoleName,
    ) -> Result<AccessRoleRecord, Error> {
        authz.require(Action::ViewRoles)?;
        let row = self
            .db
            .optional(
                q(concat_columns!("WHERE r.vault_id = $1 AND r.name = $2"))
                    .bind(authz.vault()?.as_str())
                    .bind(name.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(&format!("access role '{name}'")))?;
        record_from_row(&row)
    }
}
