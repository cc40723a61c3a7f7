//! Secrets and their versions. Every write appends a version sealed under the project's
//! data key with associated data naming the vault, project, environment, secret, name and
//! version: a ciphertext copied anywhere else fails to open. Delete moves a secret to the
//! trash, restore brings it back, purge (only from the trash) destroys every version.

use crate::audit::Severity;
use crate::db::{Dialect, Q, Row, Tx, q};
use crate::model::Origin;
use crate::model::{
    ImportOutcome, Page, PageRequest, RevealedSecret, SecretInput, SecretMeta, TrashedSecret,
    VersionMeta, WriteOutcome,
};
use crate::{Store, now_ms, paginate, paginate_filtered};
use std::collections::HashMap;
use strongroom_core::access::Verb;
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::broker::UseDeclaration;
use strongroom_core::ids::{SecretId, UserId};
use strongroom_core::names::{EnvironmentPath, ProjectPath, SecretName, SecretPath};
use strongroom_core::secret::{Note, SecretType, SecretValue, Tags};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;
use strongroom_crypto::{Aad, DataKey};

/// Joins from an application down to a secret, filtered by vault and the four names
/// bound as `$1`–`$5`.
macro_rules! by_secret_path {
    ($columns:literal, $joins:literal, $filter:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM applications a JOIN projects p ON p.application_id = a.id \
             JOIN environments e ON e.project_id = p.id \
             JOIN secrets s ON s.environment_id = e.id ",
            $joins,
            " WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3 AND e.name = $4 AND s.name = $5 ",
            $filter
        )
    };
}

/// The columns [`meta_from_row`] reads (`s` a secret, `v` its latest version).
macro_rules! meta_columns {
    () => {
        "s.id, s.name, s.latest_version, s.created_at, s.updated_at, v.secret_type, v.note, v.tags, \
         s.use_destination, s.use_header, s.use_format"
    };
}

/// Binds `$1`–`$5` of [`by_secret_path`].
pub(crate) fn bind_secret_path(query: Q, vault: &str, path: &SecretPath) -> Q {
    bind_env_path(query, vault, &path.environment).bind(path.name.as_str())
}

/// Binds `$1`–`$4`: vault, application, project, environment.
pub(crate) fn bind_env_path(query: Q, vault: &str, path: &EnvironmentPath) -> Q {
    query
        .bind(vault)
        .bind(path.project.application.as_str())
        .bind(path.project.project.as_str())
        .bind(path.environment.as_str())
}

pub(crate) const ENV_BY_PATH: &str = "SELECT p.id AS project_id, e.id AS env_id, dk.id AS dk_id, \
     dk.root_key_id, dk.wrapped FROM applications a JOIN projects p ON p.application_id = a.id \
     JOIN environments e ON e.project_id = p.id JOIN data_keys dk ON dk.id = p.data_key_id \
     JOIN vaults vt ON vt.id = a.vault_id AND vt.deleted_at IS NULL \
     WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3 AND e.name = $4";

/// An environment resolved for sealing or opening values, with its unwrapped data key.
struct Sealer {
    vault: String,
    project_id: String,
    env_id: String,
    key: DataKey,
}

impl Sealer {
    fn aad(&self, secret_id: &str, name: &str, version: i64) -> Aad {
        Aad::new("strongroom/secret-value/v1")
            .field(&self.vault)
            .field(&self.project_id)
            .field(&self.env_id)
            .field(secret_id)
            .field(name)
            .number(version)
    }

    fn seal(
        &self,
        secret_id: &str,
        name: &str,
        version: i64,
        value: &SecretValue,
    ) -> Result<Vec<u8>, Error> {
        self.key.seal(
            &self.aad(secret_id, name, version),
            value.expose().as_bytes(),
        )
    }

    fn open(
        &self,
        secret_id: &str,
        name: &str,
        version: i64,
        sealed: &[u8],
    ) -> Result<SecretValue, Error> {
        let plain = self.key.open(&self.aad(secret_id, name, version), sealed)?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| Error::internal("decrypted secret value is not UTF-8"))?;
        Ok(SecretValue::from_decrypted(text))
    }
}

fn tags_to_json(tags: &Tags) -> String {
    serde_json::to_string(tags.as_slice()).unwrap_or_else(|_| "[]".into())
}

fn tags_from_json(text: &str) -> Result<Tags, Error> {
    serde_json::from_str::<Vec<String>>(text)
        .map(Tags::from_trusted)
        .map_err(|e| Error::internal(format!("stored tags are malformed: {e}")))
}

fn meta_from_row(row: &Row) -> Result<SecretMeta, Error> {
    Ok(SecretMeta {
        id: SecretId::from_trusted(row.text("id")?),
        name: SecretName::from_trusted(row.text("name")?),
        secret_type: row.text("secret_type")?.parse::<SecretType>()?,
        note: Note::from_trusted(row.text("note")?),
        tags: tags_from_json(&row.text("tags")?)?,
        version: row.i64("latest_version")?,
        created_at: row.i64("created_at")?,
        updated_at: row.i64("updated_at")?,
        use_declaration: declaration_from_row(row)?,
    })
}

/// The broker declaration stored with a secret, if it has one.
fn declaration_from_row(row: &Row) -> Result<Option<UseDeclaration>, Error> {
    match (
        row.opt_text("use_destination")?,
        row.opt_text("use_header")?,
        row.opt_text("use_format")?,
    ) {
        (Some(destination), Some(header), Some(format)) => {
            Ok(Some(UseDeclaration::parse(&destination, &header, &format)?))
        }
        _ => Ok(None),
    }
}

/// The vault to look an environment's secrets up in: the caller's, or (when their access
/// role does not open the project) one that holds nothing.
pub(crate) fn scoped_vault<'a>(
    authz: &'a Authorized,
    env: &EnvironmentPath,
) -> Result<&'a str, Error> {
    authz.vault_for(
        env.project.application.as_str(),
        env.project.project.as_str(),
    )
}

/// A write that would leave a secret of a type the caller may not even read.
fn type_closed(secret_type: SecretType, path: &SecretPath) -> Error {
    Error::new(
        ErrorCode::PermissionDenied,
        format!(
            "permission denied: your access role does not open {} secrets at '{path}'",
            secret_type.as_str()
        ),
    )
}

fn in_trash(path: &SecretPath) -> Error {
    Error::new(
        ErrorCode::SecretInTrash,
        format!("secret '{path}' is in the trash: restore it or purge it first"),
    )
}

impl Store {
    fn sealer(&self, vault: &str, row: &Row) -> Result<Sealer, Error> {
        Ok(Sealer {
            vault: vault.to_owned(),
            project_id: row.text("project_id")?,
            env_id: row.text("env_id")?,
            key: self.unwrap_data_key(
                &row.text("dk_id")?,
                &row.text("root_key_id")?,
                &row.bytes("wrapped")?,
            )?,
        })
    }

    async fn sealer_in_tx(
        &self,
        tx: &mut Tx,
        vault: &str,
        path: &EnvironmentPath,
    ) -> Result<Sealer, Error> {
        let row = tx
            .optional(bind_env_path(q(ENV_BY_PATH), vault, path))
            .await?
            .ok_or_else(|| Error::not_found(&format!("environment '{path}'")))?;
        self.sealer(vault, &row)
    }

    /// Appends a version to `name` in the sealer's environment, creating the secret if
    /// needed. Missing metadata is carried over from the previous version.
    async fn append_version(
        &self,
        tx: &mut Tx,
        sealer: &Sealer,
        path: &SecretPath,
        input: &SecretInput,
        actor: &UserId,
        rolled_back_from: Option<i64>,
    ) -> Result<WriteOutcome, Error> {
        let now = now_ms();
        let new_secret_id = new_id(SecretId::from_random)?;
        let created = tx
            .execute(
                q("INSERT INTO secrets (id, vault_id, environment_id, name, latest_version, created_at, \
                   updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5) \
                   ON CONFLICT (environment_id, name) DO NOTHING")
                    .bind(new_secret_id.as_str())
                    .bind(&sealer.vault)
                    .bind(&sealer.env_id)
                    .bind(path.name.as_str())
                    .bind(now),
            )
            .await?
            == 1;
        let row = tx
            .optional(
                q(
                    "UPDATE secrets SET latest_version = latest_version + 1, updated_at = $1 \
                   WHERE environment_id = $2 AND name = $3 AND deleted_at IS NULL \
                   RETURNING id, latest_version",
                )
                .bind(now)
                .bind(&sealer.env_id)
                .bind(path.name.as_str()),
            )
            .await?
            .ok_or_else(|| in_trash(path))?;
        let secret_id = row.text("id")?;
        let version = row.i64("latest_version")?;
        let settings = crate::secret_settings::write_settings(tx, &sealer.env_id, path).await?;
        strongroom_core::kv::check_and_set(
            input.expected_version,
            version - 1,
            settings.cas_required,
        )?;

        let needs_previous =
            input.secret_type.is_none() || input.note.is_none() || input.tags.is_none();
        let previous = if version > 1 && needs_previous {
            tx.optional(
                q("SELECT secret_type, note, tags FROM secret_versions WHERE secret_id = $1 AND version = $2")
                    .bind(&secret_id)
                    .bind(version - 1),
            )
            .await?
        } else {
            None
        };
        let secret_type = match (input.secret_type, &previous) {
            (Some(t), _) => t,
            (None, Some(prev)) => prev.text("secret_type")?.parse()?,
            (None, None) => SecretType::default(),
        };
        let note = match (&input.note, &previous) {
            (Some(n), _) => n.as_str().to_owned(),
            (None, Some(prev)) => prev.text("note")?,
            (None, None) => String::new(),
        };
        let tags = match (&input.tags, &previous) {
            (Some(t), _) => tags_to_json(t),
            (None, Some(prev)) => prev.text("tags")?,
            (None, None) => "[]".to_owned(),
        };

        let ciphertext = sealer.seal(&secret_id, path.name.as_str(), version, &input.value)?;
        let deletion_at =
            (settings.delete_version_after_ms > 0).then(|| now + settings.delete_version_after_ms);
        tx.execute(
            q("INSERT INTO secret_versions (secret_id, version, ciphertext, secret_type, note, tags, \
               created_at, created_by, rolled_back_from, deletion_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(&secret_id)
                .bind(version)
                .bind(ciphertext)
                .bind(secret_type.as_str())
                .bind(note)
                .bind(tags)
                .bind(now)
                .bind(actor.as_str())
                .bind(rolled_back_from)
                .bind(deletion_at),
        )
        .await?;
        if settings.max_versions > 0 {
            // Only the newest `max_versions` are kept, as in Vault.
            tx.execute(
                q("DELETE FROM secret_versions WHERE secret_id = $1 AND version <= $2")
                    .bind(&secret_id)
                    .bind(version - settings.max_versions),
            )
            .await?;
        }
        Ok(WriteOutcome {
            version,
            created,
            secret_type,
            created_at: now,
            deletion_at,
            custom_metadata: settings.custom_metadata,
        })
    }

    /// Writes a new version of a secret (creating it on first write).
    pub async fn write_secret(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        input: &SecretInput,
        origin: &Origin,
    ) -> Result<WriteOutcome, Error> {
        authz.require(Action::WriteSecret)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(Verb::Write, path)?;
        let mut tx = self.db.begin().await?;
        let sealer = self.sealer_in_tx(&mut tx, vault, &path.environment).await?;
        let outcome = self
            .append_version(&mut tx, &sealer, path, input, authz.actor()?, None)
            .await?;
        authz.permit_loaded(Verb::Write, path, outcome.secret_type, || {
            type_closed(outcome.secret_type, path)
        })?;
        record_change(
            &mut tx,
            authz,
            origin,
            "secret.write",
            path,
            Severity::Notice,
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// A live secret's current metadata.
    pub async fn secret_meta(
        &self,
        authz: &Authorized,
        path: &SecretPath,
    ) -> Result<SecretMeta, Error> {
        authz.require(Action::ReadSecretMetadata)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(Verb::Read, path)?;
        let row = self
            .db
            .optional(bind_secret_path(
                q(concat!(
                    "SELECT ",
                    meta_columns!(),
                    " FROM applications a JOIN projects p ON p.application_id = a.id \
                     JOIN environments e ON e.project_id = p.id \
                     JOIN secrets s ON s.environment_id = e.id \
                     JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
                     WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3 AND e.name = $4 \
                     AND s.name = $5 AND s.deleted_at IS NULL"
                )),
                vault,
                path,
            ))
            .await?
            .ok_or_else(|| Error::not_found(&format!("secret '{path}'")))?;
        let meta = meta_from_row(&row)?;
        authz.permit_loaded(Verb::Read, path, meta.secret_type, || {
            Error::not_found(&format!("secret '{path}'"))
        })?;
        Ok(meta)
    }

    /// The live secrets of an environment, by name, with their current metadata.
    pub async fn list_secrets(
        &self,
        authz: &Authorized,
        env: &EnvironmentPath,
        page: &PageRequest,
    ) -> Result<Page<SecretMeta>, Error> {
        authz.require(Action::ReadSecretMetadata)?;
        let vault = scoped_vault(authz, env)?;
        authz.permit_environment(Verb::Read, env)?;
        let env_row = self
            .db
            .optional(bind_env_path(q(ENV_BY_PATH), vault, env))
            .await?
            .ok_or_else(|| Error::not_found(&format!("environment '{env}'")))?;
        let rows = self
            .db
            .all(
                q(concat!(
                    "SELECT ",
                    meta_columns!(),
                    " FROM secrets s \
                   JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
                   WHERE s.environment_id = $1 AND s.deleted_at IS NULL AND s.name > $2 \
                   ORDER BY s.name LIMIT $3"
                ))
                .bind(env_row.text("env_id")?)
                .bind(page.after.clone().unwrap_or_default())
                .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let items = rows
            .iter()
            .map(meta_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate_filtered(
            items,
            page.limit,
            |m| {
                let path = SecretPath {
                    environment: env.clone(),
                    name: m.name.clone(),
                };
                authz.may_read(&path, Some(m.secret_type))
            },
            |m| m.name.to_string(),
        ))
    }

    /// A live secret's versions, newest first (metadata only).
    pub async fn secret_history(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        page: &PageRequest,
    ) -> Result<Page<VersionMeta>, Error> {
        let meta = self.secret_meta(authz, path).await?;
        let before = match &page.after {
            None => i64::MAX,
            Some(v) => v
                .parse()
                .map_err(|_| Error::new(ErrorCode::InvalidCursor, "invalid cursor"))?,
        };
        let rows = self
            .db
            .all(
                q("SELECT v.version, v.secret_type, v.note, v.tags, v.created_at, v.rolled_back_from, \
                   v.deletion_at, v.destroyed_at, u.username FROM secret_versions v LEFT JOIN users u ON u.id = v.created_by \
                   WHERE v.secret_id = $1 AND v.version < $2 ORDER BY v.version DESC LIMIT $3")
                    .bind(meta.id.as_str())
                    .bind(before)
                    .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(VersionMeta {
                    version: row.i64("version")?,
                    secret_type: row.text("secret_type")?.parse()?,
                    note: Note::from_trusted(row.text("note")?),
                    tags: tags_from_json(&row.text("tags")?)?,
                    created_at: row.i64("created_at")?,
                    created_by: row.opt_text("username")?,
                    rolled_back_from: row.opt_i64("rolled_back_from")?,
                    deletion_at: row.opt_i64("deletion_at")?,
                    destroyed_at: row.opt_i64("destroyed_at")?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(paginate(items, page.limit, |v| v.version.to_string()))
    }

    /// The plaintext of a live secret's latest version, or of `version`. It is returned
    /// only once the reveal is recorded and within the member's hourly limit.
    pub async fn reveal_secret(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        version: Option<i64>,
        origin: &Origin,
    ) -> Result<RevealedSecret, Error> {
        authz.require(Action::RevealSecret)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(Verb::Reveal, path)?;
        let row = self
            .db
            .optional(bind_secret_path(q(REVEAL_BY_PATH), vault, path).bind(version))
            .await?;
        let Some(row) = row else {
            return Err(self.missing_version(vault, path, version).await);
        };
        authz.permit_loaded(
            Verb::Reveal,
            path,
            row.text("secret_type")?.parse()?,
            || Error::not_found(&format!("secret '{path}'")),
        )?;
        let revealed = self.open_revealed(vault, &row, path)?;
        self.record_reveal(
            authz,
            &path.environment.project,
            vec![path.to_string()],
            path.to_string(),
            origin,
        )
        .await?;
        Ok(revealed)
    }

    /// A live secret's value for one call to its declared destination, with the
    /// declaration. It is returned only once the use (`detail` says which call) is
    /// recorded; the caller never sees it.
    pub async fn use_secret(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        expected: &UseDeclaration,
        detail: String,
        origin: &Origin,
    ) -> Result<(RevealedSecret, UseDeclaration), Error> {
        authz.require(Action::UseSecret)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(Verb::Use, path)?;
        let row = self
            .db
            .optional(bind_secret_path(q(REVEAL_BY_PATH), vault, path).bind(None::<i64>))
            .await?
            .ok_or_else(|| Error::not_found(&format!("secret '{path}'")))?;
        authz.permit_loaded(Verb::Use, path, row.text("secret_type")?.parse()?, || {
            Error::not_found(&format!("secret '{path}'"))
        })?;
        let declaration =
            declaration_from_row(&row)?.ok_or_else(|| strongroom_core::broker::undeclared(path))?;
        if declaration != *expected {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("the destination of '{path}' changed meanwhile; try again"),
            ));
        }
        let revealed = self.open_revealed(vault, &row, path)?;
        let project = &path.environment.project;
        let record = crate::journal::RevealRecord {
            vault: authz.vault()?.as_str().to_owned(),
            actor: authz.acting().clone(),
            targets: vec![path.to_string()],
            asked_for: path.to_string(),
            origin: origin.clone(),
            caps: authz.read_caps(project.application.as_str(), project.project.as_str()),
            action: "secret.use",
            detail,
        };
        // A member's uses count against their hourly reveal limit: a member who may declare
        // destinations could otherwise send values to a host of their own past the limit.
        // (The journal counts members only; machines and tokens have policy caps.)
        self.journal.record(record, self.reveal_limit).await?;
        Ok((revealed, declaration))
    }

    /// The secrets the caller may use whose declared destination is `host`, by path.
    pub async fn secrets_declaring(
        &self,
        authz: &Authorized,
        host: &str,
    ) -> Result<Vec<SecretPath>, Error> {
        authz.require(Action::UseSecret)?;
        let rows = self
            .db
            .all(
                q(
                    "SELECT a.name AS app, p.name AS project, e.name AS env, s.name, \
                   s.use_destination, s.use_header, s.use_format, v.secret_type \
                   FROM applications a JOIN projects p ON p.application_id = a.id \
                   JOIN environments e ON e.project_id = p.id \
                   JOIN secrets s ON s.environment_id = e.id \
                   JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
                   WHERE a.vault_id = $1 AND s.deleted_at IS NULL \
                   AND s.use_destination IS NOT NULL \
                   ORDER BY a.name, p.name, e.name, s.name LIMIT 10000",
                )
                .bind(authz.vault()?.as_str()),
            )
            .await?;
        let mut found = Vec::new();
        for row in &rows {
            // A declaration that no longer parses is skipped, not fatal to the others.
            let Ok(Some(declaration)) = declaration_from_row(row) else {
                continue;
            };
            if !declaration.matches_host(host) {
                continue;
            }
            let path: SecretPath = format!(
                "{}/{}/{}/{}",
                row.text("app")?,
                row.text("project")?,
                row.text("env")?,
                row.text("name")?
            )
            .parse()?;
            if authz.may(Verb::Use, &path, Some(row.text("secret_type")?.parse()?)) {
                found.push(path);
            }
        }
        Ok(found)
    }

    /// Declares where a secret may be used and how its value travels, or clears that
    /// (`None`). Declaring takes write and reveal on the secret: the destination decides
    /// where its value goes, so write access alone must not be able to choose it.
    pub async fn set_secret_use(
        &self,
        write: &Authorized,
        reveal: Option<&Authorized>,
        path: &SecretPath,
        declaration: Option<&UseDeclaration>,
        origin: &Origin,
    ) -> Result<(), Error> {
        write.require(Action::WriteSecret)?;
        if let Some(reveal) = reveal {
            reveal.require(Action::RevealSecret)?;
            if reveal.vault()? != write.vault()? {
                return Err(Error::internal(
                    "write and reveal proofs for different vaults",
                ));
            }
        }
        let vault = scoped_vault(write, &path.environment)?;
        write.permit_path(Verb::Write, path)?;
        let missing = || Error::not_found(&format!("secret '{path}'"));
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(bind_secret_path(
                q(by_secret_path!(
                    "s.id, v.secret_type",
                    "JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version",
                    "AND s.deleted_at IS NULL"
                )),
                vault,
                path,
            ))
            .await?
            .ok_or_else(missing)?;
        let secret_type: SecretType = row.text("secret_type")?.parse()?;
        write.permit_loaded(Verb::Write, path, secret_type, missing)?;
        if declaration.is_some() {
            let reveal = reveal.ok_or_else(|| {
                Error::internal("a destination was declared without a reveal proof")
            })?;
            reveal
                .permit_loaded(Verb::Reveal, path, secret_type, missing)
                .map_err(|e| {
                    if e.code() == ErrorCode::PermissionDenied {
                        Error::new(
                            ErrorCode::PermissionDenied,
                            format!(
                                "permission denied: choosing where '{path}' may be used takes \
                             'reveal' on it ({})",
                                e.message().trim_start_matches("permission denied: ")
                            ),
                        )
                    } else {
                        e
                    }
                })?;
        }
        tx.execute(
            q(
                "UPDATE secrets SET use_destination = $1, use_header = $2, use_format = $3 \
               WHERE id = $4",
            )
            .bind(declaration.map(UseDeclaration::destination))
            .bind(declaration.map(|d| d.header.clone()))
            .bind(declaration.map(|d| d.format.clone()))
            .bind(row.text("id")?),
        )
        .await?;
        let target = match declaration {
            Some(d) => format!("{path} -> {} ({})", d.destination(), d.header),
            None => format!("{path} (cleared)"),
        };
        crate::audit::record_member_action(
            &mut tx,
            origin,
            write.vault()?.as_str(),
            write.actor()?,
            "secret.use_destination",
            &target,
            Severity::Critical,
        )
        .await?;
        tx.commit().await
    }

    /// Records a reveal and counts it against the limit; the values wait for the answer.
    async fn record_reveal(
        &self,
        authz: &Authorized,
        project: &ProjectPath,
        targets: Vec<String>,
        asked_for: String,
        origin: &Origin,
    ) -> Result<(), Error> {
        if targets.is_empty() {
            return Ok(());
        }
        let record = crate::journal::RevealRecord {
            vault: authz.vault()?.as_str().to_owned(),
            actor: authz.acting().clone(),
            targets,
            asked_for,
            origin: origin.clone(),
            caps: authz.read_caps(project.application.as_str(), project.project.as_str()),
            action: "secret.reveal",
            detail: String::new(),
        };
        self.journal.record(record, self.reveal_limit).await
    }

    /// Opens a version read by [`REVEAL_BY_PATH`], unless it is deleted or destroyed.
    fn open_revealed(
        &self,
        vault: &str,
        row: &Row,
        path: &SecretPath,
    ) -> Result<RevealedSecret, Error> {
        let version = row.i64("version")?;
        let deletion_at = row.opt_i64("deletion_at")?;
        crate::versions::available(path, version, deletion_at, row.opt_i64("destroyed_at")?)?;
        let sealer = self.sealer(vault, row)?;
        let name = row.text("name")?;
        let value = sealer.open(
            &row.text("secret_id")?,
            &name,
            version,
            &row.bytes("ciphertext")?,
        )?;
        Ok(RevealedSecret {
            name: SecretName::from_trusted(name),
            version,
            secret_type: row.text("secret_type")?.parse()?,
            value,
            created_at: row.i64("version_created_at")?,
            deletion_at,
            custom_metadata: crate::secret_settings::custom_from_column(
                row.opt_text("custom_metadata")?,
            )?,
        })
    }

    /// Says whether the secret or only the asked-for version is missing.
    async fn missing_version(&self, vault: &str, path: &SecretPath, version: Option<i64>) -> Error {
        let latest = self
            .db
            .optional(bind_secret_path(
                q(by_secret_path!(
                    "s.latest_version",
                    "",
                    "AND s.deleted_at IS NULL"
                )),
                vault,
                path,
            ))
            .await;
        match (latest, version) {
            (Ok(Some(row)), Some(v)) => match row.i64("latest_version") {
                Ok(latest) => Error::new(
                    ErrorCode::NotFound,
                    format!("secret '{path}' has no version {v} (the latest is {latest})"),
                ),
                Err(e) => e,
            },
            (Err(e), _) => e,
            _ => Error::not_found(&format!("secret '{path}'")),
        }
    }

    /// The latest plaintext of every live secret in an environment, by name; each one is
    /// a recorded reveal, counted against the member's hourly limit.
    pub async fn reveal_environment(
        &self,
        authz: &Authorized,
        env: &EnvironmentPath,
        origin: &Origin,
    ) -> Result<Vec<RevealedSecret>, Error> {
        authz.require(Action::RevealSecret)?;
        let vault = scoped_vault(authz, env)?;
        authz.permit_environment(Verb::Reveal, env)?;
        let env_row = self
            .db
            .optional(bind_env_path(q(ENV_BY_PATH), vault, env))
            .await?
            .ok_or_else(|| Error::not_found(&format!("environment '{env}'")))?;
        let sealer = self.sealer(vault, &env_row)?;
        let rows = self
            .db
            .all(
                q(
                    "SELECT s.id, s.name, v.version, v.ciphertext, v.secret_type, v.created_at, \
                   v.deletion_at, st.custom_metadata FROM secrets s \
                   JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
                   LEFT JOIN secret_settings st ON st.environment_id = s.environment_id \
                   AND st.name = s.name \
                   WHERE s.environment_id = $1 AND s.deleted_at IS NULL \
                   AND v.destroyed_at IS NULL AND (v.deletion_at IS NULL OR v.deletion_at > $2) \
                   ORDER BY s.name",
                )
                .bind(&sealer.env_id)
                .bind(now_ms()),
            )
            .await?;
        // Secrets the caller may not reveal are left out, exactly as a listing leaves out
        // what it may not read.
        let mut revealable = Vec::with_capacity(rows.len());
        for row in rows {
            let path = SecretPath {
                environment: env.clone(),
                name: SecretName::from_trusted(row.text("name")?),
            };
            if authz.may(Verb::Reveal, &path, Some(row.text("secret_type")?.parse()?)) {
                revealable.push(row);
            }
        }
        let revealed = revealable
            .iter()
            .map(|row| {
                let name = row.text("name")?;
                let version = row.i64("version")?;
                Ok(RevealedSecret {
                    value: sealer.open(
                        &row.text("id")?,
                        &name,
                        version,
                        &row.bytes("ciphertext")?,
                    )?,
                    name: SecretName::from_trusted(name),
                    version,
                    secret_type: row.text("secret_type")?.parse()?,
                    created_at: row.i64("created_at")?,
                    deletion_at: row.opt_i64("deletion_at")?,
                    custom_metadata: crate::secret_settings::custom_from_column(
                        row.opt_text("custom_metadata")?,
                    )?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let targets = revealed
            .iter()
            .map(|s| format!("{env}/{}", s.name))
            .collect();
        self.record_reveal(authz, &env.project, targets, env.to_string(), origin)
            .await?;
        Ok(revealed)
    }

    /// Makes a new version equal to version `to` (value and metadata).
    pub async fn rollback_secret(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        to: i64,
        origin: &Origin,
    ) -> Result<WriteOutcome, Error> {
        authz.require(Action::WriteSecret)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(Verb::Write, path)?;
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(bind_secret_path(q(REVEAL_BY_PATH), vault, path).bind(Some(to)))
            .await?;
        let Some(row) = row else {
            drop(tx);
            return Err(self.missing_version(vault, path, Some(to)).await);
        };
        authz.permit_loaded(Verb::Write, path, row.text("secret_type")?.parse()?, || {
            Error::not_found(&format!("secret '{path}'"))
        })?;
        let old = self.open_revealed(vault, &row, path)?;
        let sealer = self.sealer(vault, &row)?;
        let input = SecretInput {
            value: old.value,
            secret_type: Some(old.secret_type),
            note: Some(Note::from_trusted(row.text("note")?)),
            tags: Some(tags_from_json(&row.text("tags")?)?),
            expected_version: None,
        };
        let outcome = self
            .append_version(&mut tx, &sealer, path, &input, authz.actor()?, Some(to))
            .await?;
        record_change(
            &mut tx,
            authz,
            origin,
            "secret.rollback",
            path,
            Severity::Notice,
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Moves a live secret to the trash.
    pub async fn delete_secret(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        origin: &Origin,
    ) -> Result<(), Error> {
        let vault = self
            .permit_secret_change(authz, Action::DeleteSecret, Verb::Delete, path)
            .await?;
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(bind_secret_path(
                q(concat!(
                    "UPDATE secrets SET deleted_at = $6, deleted_by = $7 WHERE deleted_at IS NULL AND id IN (",
                    by_secret_path!("s.id", "", ""),
                    ")"
                )),
                vault,
                path,
            )
            .bind(now_ms())
            .bind(authz.actor()?.as_str()))
            .await?;
        if n == 0 {
            return Err(Error::not_found(&format!("secret '{path}'")));
        }
        record_change(
            &mut tx,
            authz,
            origin,
            "secret.delete",
            path,
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Brings a secret back from the trash.
    pub async fn restore_secret(
        &self,
        authz: &Authorized,
        path: &SecretPath,
        origin: &Origin,
    ) -> Result<(), Error> {
        let vault = self
            .permit_secret_change(authz, Action::DeleteSecret, Verb::Delete, path)
            .await?;
        let mut tx = self.db.begin().await?;
        // Locked on PostgreSQL (SQLite has one writer), so the deleter read here is the one
        // whose deletion is undone.
        let sql = match tx.dialect() {
            Dialect::Sqlite => {
                by_secret_path!("s.id, s.deleted_by", "", "AND s.deleted_at IS NOT NULL")
            }
            Dialect::Postgres => by_secret_path!(
                "s.id, s.deleted_by",
                "",
                "AND s.deleted_at IS NOT NULL FOR UPDATE OF s"
            ),
        };
        let row = tx
            .optional(bind_secret_path(q(sql), vault, path))
            .await?
            .ok_or_else(|| Error::not_found(&format!("secret '{path}' in the trash")))?;
        authz.permit_trash(row.opt_text("deleted_by")?.as_deref())?;
        tx.execute(
            q("UPDATE secrets SET deleted_at = NULL, deleted_by = NULL WHERE id = $1")
                .bind(row.text("id")?),
        )
        .await?;
        record_change(
            &mut tx,
            authz,
            origin,
            "secret.restore",
            path,
            Severity::Notice,
        )
        .await?;
        tx.commit().await
    }

    /// Destroys a trashed secret and every one of its versions.
    pub async fn purge_secret(
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
            Dialect::Sqlite => by_secret_path!("s.id, s.deleted_at, s.deleted_by", "", ""),
            Dialect::Postgres => {
                by_secret_path!("s.id, s.deleted_at, s.deleted_by", "", "FOR UPDATE OF s")
            }
        };
        let row = tx
            .optional(bind_secret_path(q(sql), vault, path))
            .await?
            .ok_or_else(|| Error::not_found(&format!("secret '{path}'")))?;
        if row.opt_i64("deleted_at")?.is_none() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("secret '{path}' is not in the trash: delete it first, then purge it"),
            ));
        }
        authz.permit_trash(row.opt_text("deleted_by")?.as_deref())?;
        destroy_secret(&mut tx, &row.text("id")?).await?;
        record_change(
            &mut tx,
            authz,
            origin,
            "secret.purge",
            path,
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// The checks every change to an existing secret makes first: the proof is for
    /// `action`, the path is open to `verb`, and so is the secret's type. Returns the
    /// vault to look the secret up in.
    pub(crate) async fn permit_secret_change<'a>(
        &self,
        authz: &'a Authorized,
        action: Action,
        verb: Verb,
        path: &SecretPath,
    ) -> Result<&'a str, Error> {
        authz.require(action)?;
        let vault = scoped_vault(authz, &path.environment)?;
        authz.permit_path(verb, path)?;
        self.permit_by_type(authz, vault, path, verb).await?;
        Ok(vault)
    }

    /// For callers who see the vault through an access role: checks `verb` against the
    /// type of the secret's latest version (live or trashed).
    pub(crate) async fn permit_by_type(
        &self,
        authz: &Authorized,
        vault: &str,
        path: &SecretPath,
        verb: Verb,
    ) -> Result<(), Error> {
        if authz.sees_everything() {
            return Ok(());
        }
        let row = self
            .db
            .optional(bind_secret_path(
                q(by_secret_path!(
                    "v.secret_type",
                    "JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version",
                    ""
                )),
                vault,
                path,
            ))
            .await?;
        match row {
            // A secret that is not there gets the operation's own "not found".
            None => Ok(()),
            Some(row) => authz.permit_loaded(verb, path, row.text("secret_type")?.parse()?, || {
                Error::not_found(&format!("secret '{path}'"))
            }),
        }
    }

    /// The vault's trash, most recently deleted first.
    pub async fn list_trash(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<TrashedSecret>, Error> {
        authz.require(Action::ReadSecretMetadata)?;
        let (before_deleted, after_id) = match page.after.as_deref() {
            None => (i64::MAX, String::new()),
            Some(cursor) => cursor
                .split_once(':')
                .and_then(|(t, id)| Some((t.parse().ok()?, id.to_owned())))
                .ok_or_else(|| Error::new(ErrorCode::InvalidCursor, "invalid cursor"))?,
        };
        let rows = self
            .db
            .all(
                q("SELECT s.id, a.name AS app, p.name AS project, e.name AS env, s.name, \
                   s.latest_version, s.deleted_at, s.deleted_by, u.username FROM secrets s \
                   JOIN environments e ON e.id = s.environment_id JOIN projects p ON p.id = e.project_id \
                   JOIN applications a ON a.id = p.application_id LEFT JOIN users u ON u.id = s.deleted_by \
                   WHERE s.vault_id = $1 AND s.deleted_at IS NOT NULL \
                   AND (s.deleted_at < $2 OR (s.deleted_at = $2 AND s.id > $3)) \
                   ORDER BY s.deleted_at DESC, s.id LIMIT $4")
                    .bind(authz.vault()?.as_str())
                    .bind(before_deleted)
                    .bind(after_id)
                    .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(TrashedSecret {
                    id: SecretId::from_trusted(row.text("id")?),
                    path: format!(
                        "{}/{}/{}/{}",
                        row.text("app")?,
                        row.text("project")?,
                        row.text("env")?,
                        row.text("name")?
                    ),
                    version: row.i64("latest_version")?,
                    deleted_at: row.i64("deleted_at")?,
                    deleted_by: row.opt_text("username")?,
                    deleted_by_id: row.opt_text("deleted_by")?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(paginate_filtered(
            items,
            page.limit,
            |t| {
                authz.may_handle_trash_of(t.deleted_by_id.as_deref())
                    && t.path
                        .parse::<SecretPath>()
                        .is_ok_and(|path| authz.may_read(&path, None))
            },
            |t| format!("{}:{}", t.deleted_at, t.id),
        ))
    }

    /// Writes one new version per key whose value differs from its latest version, all in
    /// one transaction. Comparing needs the current values, so the caller must hold both
    /// write and reveal.
    pub async fn import_secrets(
        &self,
        write: &Authorized,
        reveal: &Authorized,
        env: &EnvironmentPath,
        entries: Vec<(SecretName, SecretValue)>,
        origin: &Origin,
    ) -> Result<Vec<(SecretName, ImportOutcome)>, Error> {
        write.require(Action::WriteSecret)?;
        reveal.require(Action::RevealSecret)?;
        if reveal.vault()? != write.vault()? {
            return Err(Error::internal("import proofs are for different vaults"));
        }
        let vault = scoped_vault(write, env)?;
        write.permit_environment(Verb::Write, env)?;
        let mut tx = self.db.begin().await?;
        let sealer = self.sealer_in_tx(&mut tx, vault, env).await?;
        let rows = tx
            .all(
                q(
                    "SELECT s.id, s.name, s.deleted_at, v.version, v.ciphertext, v.secret_type, \
                   v.deletion_at, v.destroyed_at FROM secrets s \
                   JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
                   WHERE s.environment_id = $1",
                )
                .bind(&sealer.env_id),
            )
            .await?;
        let mut current: HashMap<String, Row> = HashMap::with_capacity(rows.len());
        for row in rows {
            current.insert(row.text("name")?, row);
        }
        let mut outcomes = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            let path = SecretPath {
                environment: env.clone(),
                name: name.clone(),
            };
            write.permit_path(Verb::Write, &path)?;
            let outcome = match current.get(name.as_str()) {
                Some(row) if row.opt_i64("deleted_at")?.is_some() => return Err(in_trash(&path)),
                Some(row) => {
                    let secret_type: SecretType = row.text("secret_type")?.parse()?;
                    let missing = || Error::not_found(&format!("secret '{path}'"));
                    reveal.permit_loaded(Verb::Reveal, &path, secret_type, missing)?;
                    write.permit_loaded(Verb::Write, &path, secret_type, missing)?;
                    let gone = crate::versions::available(
                        &path,
                        row.i64("version")?,
                        row.opt_i64("deletion_at")?,
                        row.opt_i64("destroyed_at")?,
                    )
                    .is_err();
                    let unchanged = !gone
                        && sealer.open(
                            &row.text("id")?,
                            name.as_str(),
                            row.i64("version")?,
                            &row.bytes("ciphertext")?,
                        )? == value;
                    if unchanged {
                        ImportOutcome::Unchanged
                    } else {
                        let input = SecretInput {
                            value,
                            secret_type: None,
                            note: None,
                            tags: None,
                            expected_version: None,
                        };
                        self.append_version(&mut tx, &sealer, &path, &input, write.actor()?, None)
                            .await?;
                        record_change(
                            &mut tx,
                            write,
                            origin,
                            "secret.write",
                            &path,
                            Severity::Notice,
                        )
                        .await?;
                        ImportOutcome::Updated
                    }
                }
                None => {
                    write.permit_loaded(Verb::Write, &path, SecretType::default(), || {
                        type_closed(SecretType::default(), &path)
                    })?;
                    let input = SecretInput {
                        value,
                        secret_type: None,
                        note: None,
                        tags: None,
                        expected_version: None,
                    };
                    self.append_version(&mut tx, &sealer, &path, &input, write.actor()?, None)
                        .await?;
                    record_change(
                        &mut tx,
                        write,
                        origin,
                        "secret.write",
                        &path,
                        Severity::Notice,
                    )
                    .await?;
                    ImportOutcome::Created
                }
            };
            outcomes.push((name, outcome));
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// A secret version with everything needed to open it. `$6` is the version, or NULL for
/// the latest.
const REVEAL_BY_PATH: &str = by_secret_path!(
    "s.id AS secret_id, s.name, p.id AS project_id, e.id AS env_id, dk.id AS dk_id, dk.root_key_id, \
     dk.wrapped, v.version, v.ciphertext, v.secret_type, v.note, v.tags, s.use_destination, \
     s.use_header, s.use_format, v.created_at AS version_created_at, v.deletion_at, \
     v.destroyed_at, st.custom_metadata",
    "JOIN data_keys dk ON dk.id = p.data_key_id \
     JOIN vaults vt ON vt.id = a.vault_id AND vt.deleted_at IS NULL \
     JOIN secret_versions v ON v.secret_id = s.id AND v.version = COALESCE($6, s.latest_version) \
     LEFT JOIN secret_settings st ON st.environment_id = e.id AND st.name = s.name",
    "AND s.deleted_at IS NULL"
);

/// Deletes a secret, every version and its settings, in the caller's transaction.
pub(crate) async fn destroy_secret(tx: &mut Tx, id: &str) -> Result<(), Error> {
    crate::secret_settings::forget_settings(tx, id).await?;
    tx.execute(q("DELETE FROM secret_versions WHERE secret_id = $1").bind(id))
        .await?;
    tx.execute(q("DELETE FROM secrets WHERE id = $1").bind(id))
        .await?;
    Ok(())
}

/// Queues the entry for a member's change to a secret, in the change's transaction.
async fn record_change(
    tx: &mut Tx,
    authz: &Authorized,
    origin: &Origin,
    action: &str,
    path: &SecretPath,
    severity: Severity,
) -> Result<(), Error> {
    crate::audit::record_member_action(
        tx,
        origin,
        authz.vault()?.as_str(),
        authz.actor()?,
        action,
        &path.to_string(),
        severity,
    )
    .await
}
