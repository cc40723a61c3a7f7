//! Per-version deletion, undeletion and destruction. A deleted version keeps its
//! ciphertext and can be brought back; a destroyed one loses it for good. The secret
//! itself stays live either way (the trash is for whole secrets).

use crate::audit::Severity;
use crate::db::{Q, q, q_built};
use crate::model::Origin;
use crate::secrets::bind_secret_path;
use crate::{Store, now_ms};
use strongroom_core::access::Verb;
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::names::SecretPath;
use strongroom_core::{Error, ErrorCode};

/// Refuses a version that is deleted (its deletion time has come) or destroyed.
pub(crate) fn available(
    path: &SecretPath,
    version: i64,
    deletion_at: Option<i64>,
    destroyed_at: Option<i64>,
) -> Result<(), Error> {
    if destroyed_at.is_some() {
        return Err(Error::new(
            ErrorCode::VersionDestroyed,
            format!("version {version} of '{path}' was destroyed: its value is gone"),
        ));
    }
    if deletion_at.is_some_and(|at| at <= now_ms()) {
        return Err(Error::new(
            ErrorCode::VersionDeleted,
            format!(
                "version {version} of '{path}' is deleted: undelete it \
                 (`strongroom secrets undelete {path} --version {version}`) or read another version"
            ),
        ));
    }
    Ok(())
}

/// What to do to some versions of a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionChange {
    /// Hide them; restorable.
    Delete,
    /// Bring deleted ones back.
    Undelete,
    /// Drop their values for good.
    Destroy,
}

impl VersionChange {
    fn action(self) -> (&'static str, Severity) {
        match self {
            Self::Delete => ("secret.delete_version", Severity::Warning),
            Self::Undelete => ("secret.undelete_version", Severity::Notice),
            Self::Destroy => ("secret.destroy_version", Severity::Warning),
        }
    }

    /// The update and the number of its first version placeholder: `$1` is the
    /// secret, then now (delete, destroy) and the empty ciphertext (destroy).
    fn statement(self, versions: usize) -> String {
        let (set, first) = match self {
            Self::Delete => (
                "deletion_at = $2 WHERE destroyed_at IS NULL \
                 AND (deletion_at IS NULL OR deletion_at > $2)",
                3,
            ),
            Self::Undelete => (
                "deletion_at = NULL WHERE destroyed_at IS NULL AND deletion_at IS NOT NULL",
                2,
            ),
            Self::Destroy => (
                "destroyed_at = $2, ciphertext = $3 WHERE destroyed_at IS NULL",
                4,
            ),
        };
        let list = (first..first + versions)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "UPDATE secret_versions SET {set} AND secret_id = $1 AND version IN ({list}) \
             RETURNING version"
        )
    }
}

/// Which versions a change applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelection {
    /// The latest version, whichever it is when the change runs.
    Latest,
    /// These version numbers; ones that do not exist are skipped.
    These(Vec<i64>),
}

/// Most versions one change may name.
const MAX_VERSIONS_PER_CHANGE: usize = 1000;

impl Store {
    /// Deletes, undeletes or destroys versions of a live secret, in one transaction
    /// with its audit entry. Returns the versions that changed (versions already in the
    /// asked-for state, or missing, are left alone, as in Vault).
    pub async fn change_versions(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        selection: &VersionSelection,
        change: VersionChange,
        origin: &Origin,
    ) -> Result<Vec<i64>, Error> {
        let action = match change {
            VersionChange::Delete | VersionChange::Undelete => Action::DeleteSecret,
            VersionChange::Destroy => Action::PurgeSecret,
        };
        let vault = self
            .permit_secret_change(authz, action, Verb::Delete, path)
            .await?;
        if let VersionSelection::These(v) = selection
            && v.len() > MAX_VERSIONS_PER_CHANGE
        {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("name at most {MAX_VERSIONS_PER_CHANGE} versions at once"),
            ));
        }
        let mut tx = self.db.begin().await?;
        let secret = tx
            .optional(bind_secret_path(
                q("SELECT s.id, s.latest_version FROM applications a \
                   JOIN projects p ON p.application_id = a.id \
                   JOIN environments e ON e.project_id = p.id \
                   JOIN secrets s ON s.environment_id = e.id \
                   WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3 AND e.name = $4 \
                   AND s.name = $5 AND s.deleted_at IS NULL"),
                vault,
                path,
            ))
            .await?
            .ok_or_else(|| Error::not_found(&format!("secret '{path}'")))?;
        let versions = match selection {
            VersionSelection::Latest => vec![secret.i64("latest_version")?],
            VersionSelection::These(v) => v.clone(),
        };
        let mut statement: Q = q_built(change.statement(versions.len())).bind(secret.text("id")?);
        match change {
            VersionChange::Delete => statement = statement.bind(now_ms()),
            VersionChange::Undelete => {}
            VersionChange::Destroy => statement = statement.bind(now_ms()).bind(Vec::<u8>::new()),
        }
        for v in &versions {
            statement = statement.bind(*v);
        }
        let mut changed = tx
            .all(statement)
            .await?
            .iter()
            .map(|row| row.i64("version"))
            .collect::<Result<Vec<_>, _>>()?;
        changed.sort_unstable();
        let (action, severity) = change.action();
        let listed = versions
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let target = match versions.len() {
            1 => format!("{path} (version {listed})"),
            _ => format!("{path} (versions {listed})"),
        };
        crate::audit::record_member_action(
            &mut tx,
            origin,
            authz.vault()?.as_str(),
            authz.actor()?,
            action,
            &target,
            severity,
        )
        .await?;
        tx.commit().await?;
        Ok(changed)
    }
}
