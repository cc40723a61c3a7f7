//! The settings KV v2 clients keep per secret — how many versions to keep, whether
//! writes must use check-and-set, when versions delete themselves, free-form custom
//! metadata — and the KV view of a secret: those settings with every version's state.
//! Settings are keyed by environment and name, so (as in Vault) they can be written
//! before the secret's first version, and they go when the secret is purged.

use crate::audit::Severity;
use crate::db::{Dialect, Row, Tx, q};
use crate::model::Origin;
use crate::secrets::{ENV_BY_PATH, bind_env_path, bind_secret_path, scoped_vault};
use crate::{Store, now_ms};
use std::collections::BTreeMap;
use strongroom_core::access::Verb;
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::kv::CustomMetadata;
use strongroom_core::names::{EnvironmentPath, SecretName, SecretPath};
use strongroom_core::{Error, ErrorCode};

/// A secret's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretSettings {
    /// Versions kept (the newest ones); 0 keeps every version.
    pub max_versions: i64,
    /// Whether every write must name the version it follows.
    pub cas_required: bool,
    /// How long after its write a version deletes itself, in ms; 0 never.
    pub delete_version_after_ms: i64,
    /// Free-form pairs.
    pub custom_metadata: Option<CustomMetadata>,
    /// When the settings were first written (0 if never).
    pub created_at: i64,
    /// When they last changed (0 if never).
    pub updated_at: i64,
}

/// A change to a secret's settings: fields left `None` keep their value.
#[derive(Debug, Clone, Default)]
pub struct SettingsUpdate {
    /// See [`SecretSettings::max_versions`].
    pub max_versions: Option<i64>,
    /// See [`SecretSettings::cas_required`].
    pub cas_required: Option<bool>,
    /// See [`SecretSettings::delete_version_after_ms`].
    pub delete_version_after_ms: Option<i64>,
    /// Replaces the custom metadata as a whole.
    pub custom_metadata: Option<CustomMetadata>,
}

impl SettingsUpdate {
    fn is_empty(&self) -> bool {
        self.max_versions.is_none()
            && self.cas_required.is_none()
            && self.delete_version_after_ms.is_none()
            && self.custom_metadata.is_none()
    }
}

/// One version's state, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionState {
    /// Its number.
    pub version: i64,
    /// When it was written.
    pub created_at: i64,
    /// When it was (or is to be) deleted.
    pub deletion_at: Option<i64>,
    /// When its value was destroyed.
    pub destroyed_at: Option<i64>,
}

/// Everything the KV view shows of a secret but its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretOverview {
    /// Its settings (defaults when none were written).
    pub settings: SecretSettings,
    /// The latest version's number (0 when only settings exist).
    pub latest_version: i64,
    /// When the secret (or, without versions, its settings) was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// Every kept version, oldest first.
    pub versions: Vec<VersionState>,
}

/// What a write needs to know of a secret's settings.
pub(crate) struct WriteSettings {
    pub max_versions: i64,
    pub cas_required: bool,
    pub delete_version_after_ms: i64,
    pub custom_metadata: Option<CustomMetadata>,
}

/// The settings that shape a write to `path` in environment `env_id`.
pub(crate) async fn write_settings(
    tx: &mut Tx,
    env_id: &str,
    path: &SecretPath,
) -> Result<WriteSettings, Error> {
    let row = tx
        .optional(
            q(
                "SELECT max_versions, cas_required, delete_version_after_ms, custom_metadata \
               FROM secret_settings \
               WHERE environment_id = $1 AND name = $2",
            )
            .bind(env_id)
            .bind(path.name.as_str()),
        )
        .await?;
    Ok(match row {
        None => WriteSettings {
            max_versions: 0,
            cas_required: false,
            delete_version_after_ms: 0,
            custom_metadata: None,
        },
        Some(row) => WriteSettings {
            max_versions: row.i64("max_versions")?,
            cas_required: row.i64("cas_required")? != 0,
            delete_version_after_ms: row.i64("delete_version_after_ms")?,
            custom_metadata: custom_from_column(row.opt_text("custom_metadata")?)?,
        },
    })
}

/// Reads the stored custom metadata column.
pub(crate) fn custom_from_column(text: Option<String>) -> Result<Option<CustomMetadata>, Error> {
    text.map(|t| {
        serde_json::from_str::<BTreeMap<String, String>>(&t)
            .map(CustomMetadata::from_trusted)
            .map_err(|e| Error::internal(format!("stored custom metadata is malformed: {e}")))
    })
    .transpose()
}

/// Drops the settings of the secret `secret_id` (when it is purged).
pub(crate) async fn forget_settings(tx: &mut Tx, secret_id: &str) -> Result<(), Error> {
    tx.execute(
        q(
            "DELETE FROM secret_settings WHERE (environment_id, name) IN \
           (SELECT environment_id, name FROM secrets WHERE id = $1)",
        )
        .bind(secret_id),
    )
    .await?;
    Ok(())
}

fn settings_from_row(row: &Row) -> Result<SecretSettings, Error> {
    Ok(SecretSettings {
        max_versions: row.i64("max_versions")?,
        cas_required: row.i64("cas_required")? != 0,
        delete_version_after_ms: row.i64("delete_version_after_ms")?,
        custom_metadata: custom_from_column(row.opt_text("custom_metadata")?)?,
        created_at: row.i64("st_created_at")?,
        updated_at: row.i64("st_updated_at")?,
    })
}

/// A secret (live or not) and its settings, by path; `$1`–`$5` as in
/// [`bind_secret_path`].
const SECRET_AND_SETTINGS: &str = "SELECT e.id AS env_id, s.id AS secret_id, s.latest_version, \
     s.created_at, s.updated_at, s.deleted_at, s.deleted_by, v.secret_type, st.max_versions, \
     st.cas_required, st.delete_version_after_ms, st.custom_metadata, \
     st.created_at AS st_created_at, st.updated_at AS st_updated_at \
     FROM applications a JOIN projects p ON p.application_id = a.id \
     JOIN environments e ON e.project_id = p.id \
     JOIN vaults vt ON vt.id = a.vault_id AND vt.deleted_at IS NULL \
     LEFT JOIN secrets s ON s.environment_id = e.id AND s.name = $5 \
     LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
     LEFT JOIN secret_settings st ON st.environment_id = e.id AND st.name = $5 \
     WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3 AND e.name = $4";

impl Store {
    /// A secret's settings and the state of every kept version. A secret in the trash
    /// shows as missing; settings written before any version show with no versions.
    pub async fn secret_overview(
        &self,
        authz: &Authorized,
        path: &SecretPath,
    ) -> Result<SecretOverview, Error> {
        authz.require(Action::ReadSecretMetadata)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(Verb::Read, path)?;
        let missing = || Error::not_found(&format!("secret '{path}'"));
        let row = self
            .db
            .optional(bind_secret_path(q(SECRET_AND_SETTINGS), vault, path))
            .await?
            .ok_or_else(missing)?;
        let live = row.opt_text("secret_id")?.is_some() && row.opt_i64("deleted_at")?.is_none();
        let has_settings = row.opt_i64("st_created_at")?.is_some();
        if !live && !has_settings {
            return Err(missing());
        }
        if let Some(secret_type) = row.opt_text("secret_type")? {
            authz.permit_loaded(Verb::Read, path, secret_type.parse()?, missing)?;
        } else {
            authz.permit_loaded(Verb::Read, path, Default::default(), missing)?;
        }
        let settings = if has_settings {
            settings_from_row(&row)?
        } else {
            SecretSettings::default()
        };
        if !live {
            return Ok(SecretOverview {
                latest_version: 0,
                created_at: settings.created_at,
                updated_at: settings.updated_at,
                settings,
                versions: Vec::new(),
            });
        }
        let versions = self
            .db
            .all(
                q(
                    "SELECT version, created_at, deletion_at, destroyed_at FROM secret_versions \
                   WHERE secret_id = $1 ORDER BY version",
                )
                .bind(row.text("secret_id")?),
            )
            .await?
            .iter()
            .map(|v| {
                Ok(VersionState {
                    version: v.i64("version")?,
                    created_at: v.i64("created_at")?,
                    deletion_at: v.opt_i64("deletion_at")?,
                    destroyed_at: v.opt_i64("destroyed_at")?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(SecretOverview {
            latest_version: row.i64("latest_version")?,
            created_at: row.i64("created_at")?,
            updated_at: row.i64("updated_at")?.max(settings.updated_at),
            settings,
            versions,
        })
    }

    /// Changes a secret's settings, creating them (before any version, if need be). An
    /// update that changes nothing writes nothing, as in Vault.
    pub async fn update_secret_settings(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        update: &SettingsUpdate,
        origin: &Origin,
    ) -> Result<(), Error> {
        let vault = self
            .permit_secret_change(authz, Action::WriteSecret, Verb::Write, path)
            .await?;
        if update.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(bind_secret_path(q(SECRET_AND_SETTINGS), vault, path))
            .await?
            .ok_or_else(|| Error::not_found(&format!("environment '{}'", path.environment)))?;
        if row.opt_i64("deleted_at")?.is_some() {
            return Err(Error::new(
                ErrorCode::SecretInTrash,
                format!("secret '{path}' is in the trash: restore it or purge it first"),
            ));
        }
        let current = if row.opt_i64("st_created_at")?.is_some() {
            settings_from_row(&row)?
        } else {
            SecretSettings::default()
        };
        let custom = update
            .custom_metadata
            .clone()
            .or(current.custom_metadata)
            .map(|c| serde_json::to_string(c.pairs()))
            .transpose()
            .map_err(|e| Error::internal(format!("custom metadata: {e}")))?;
        let now = now_ms();
        tx.execute(
            q(
                "INSERT INTO secret_settings (environment_id, name, vault_id, max_versions, \
               cas_required, delete_version_after_ms, custom_metadata, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
               ON CONFLICT (environment_id, name) DO UPDATE SET max_versions = $4, \
               cas_required = $5, delete_version_after_ms = $6, custom_metadata = $7, \
               updated_at = $8",
            )
            .bind(row.text("env_id")?)
            .bind(path.name.as_str())
            .bind(vault)
            .bind(update.max_versions.unwrap_or(current.max_versions))
            .bind(i64::from(
                update.cas_required.unwrap_or(current.cas_required),
            ))
            .bind(
                update
                    .delete_version_after_ms
                    .unwrap_or(current.delete_version_after_ms),
            )
            .bind(custom)
            .bind(now),
        )
        .await?;
        crate::audit::record_member_action(
            &mut tx,
            origin,
            authz.vault()?.as_str(),
            authz.actor()?,
            "secret.settings",
            &path.to_string(),
            Severity::Notice,
        )
        .await?;
        tx.commit().await
    }

    /// Destroys a secret now — every version and its settings — whether it is live or
    /// in the trash (KV v2's metadata delete). Nothing to destroy is not an error.
    pub async fn purge_secret_now(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        origin: &Origin,
    ) -> Result<(), Error> {
        let vault = self
            .permit_secret_change(authz, Action::PurgeSecret, Verb::Delete, path)
            .await?;
        let mut tx = self.db.begin().await?;
        let sql = match tx.dialect() {
            Dialect::Sqlite => SECRET_AND_SETTINGS.to_owned(),
            Dialect::Postgres => format!("{SECRET_AND_SETTINGS} FOR UPDATE OF e"),
        };
        let Some(row) = tx
            .optional(bind_secret_path(crate::db::q_built(sql), vault, path))
            .await?
        else {
            return Ok(());
        };
        if let Some(id) = row.opt_text("secret_id")? {
            // A secret already in the trash needs the trash cell its deleter's does; a
            // live one is the caller's own deletion.
            let deleter = match row.opt_i64("deleted_at")? {
                Some(_) => row.opt_text("deleted_by")?,
                None => Some(authz.actor()?.to_string()),
            };
            authz.permit_trash(deleter.as_deref())?;
            crate::secrets::destroy_secret(&mut tx, &id).await?;
        } else {
            let settings = tx
                .execute(
                    q("DELETE FROM secret_settings WHERE environment_id = $1 AND name = $2")
                        .bind(row.text("env_id")?)
                        .bind(path.name.as_str()),
                )
                .await?;
            if settings == 0 {
                return Ok(());
            }
        }
        crate::audit::record_member_action(
            &mut tx,
            origin,
            authz.vault()?.as_str(),
            authz.actor()?,
            "secret.purge",
            &path.to_string(),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Names in an environment that have settings but no live secret (the KV view lists
    /// them, as Vault lists keys with metadata only).
    pub async fn names_with_settings_only(
        &self,
        authz: &Authorized,
        env: &EnvironmentPath,
    ) -> Result<Vec<SecretName>, Error> {
        authz.require(Action::ReadSecretMetadata)?;
        let vault = scoped_vault(authz, env)?;
        authz.permit_environment(Verb::Read, env)?;
        let Some(env_row) = self
            .db
            .optional(bind_env_path(q(ENV_BY_PATH), vault, env))
            .await?
        else {
            return Ok(Vec::new());
        };
        let rows = self
            .db
            .all(
                q("SELECT st.name FROM secret_settings st WHERE st.environment_id = $1 \
                   AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.environment_id = st.environment_id \
                   AND s.name = st.name AND s.deleted_at IS NULL) ORDER BY st.name LIMIT 10000")
                .bind(env_row.text("env_id")?),
            )
            .await?;
        let mut names = Vec::with_capacity(rows.len());
        for row in &rows {
            let name = SecretName::from_trusted(row.text("name")?);
            let path = SecretPath {
                environment: env.clone(),
                name: name.clone(),
            };
            if authz.may_read(&path, None) {
                names.push(name);
            }
        }
        Ok(names)
    }
}
