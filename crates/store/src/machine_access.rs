//! What machines may read, and what authenticating one needs: attachments to projects,
//! grants of single secrets, the key a signed request is checked against, and the
//! one-shot nonces that make a signed request good only once. Attaching and granting
//! are decided by core (nobody gives more than they hold) and audited.

use crate::audit::{Severity, record_member_action};
use crate::db::{Row, Tx, q};
use crate::model::{MachineAccessRecord, MachineAttachmentRecord, MachineGrantRecord, Origin};
use crate::{Store, now_ms};
use strongroom_core::access::Verbs;
use strongroom_core::authz::{Action, Actor, Authorized};
use strongroom_core::ids::{MachineId, VaultId};
use strongroom_core::names::{EnvironmentName, MachineName, ProjectPath, SecretPath};
use strongroom_core::runtime::{Attachment, RuntimeAccess, SecretGrant, runtime_verbs};
use strongroom_core::secret::SecretType;
use strongroom_core::{Error, ErrorCode};

/// What a signed request is checked against: the key registered under its fingerprint in
/// the vault it names, and the machine's standing.
#[derive(Debug, Clone)]
pub struct MachineCredentials {
    /// The machine.
    pub id: MachineId,
    /// Its name.
    pub name: MachineName,
    /// Its raw Ed25519 public key.
    pub public_key: Vec<u8>,
    /// `active` or `disabled`.
    pub status: String,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<i64>,
    /// Whether its organization was soft-deleted.
    pub vault_deleted: bool,
    /// Whether its vault has an IP allowlist (checked only then).
    pub vault_has_allowlist: bool,
    /// Whether any access policy binds it (loaded only then).
    pub has_policies: bool,
}

/// A machine that reaches one secret, and what it may do with it.
#[derive(Debug, Clone)]
pub struct MachineReach {
    /// The machine's name.
    pub name: String,
    /// `active` or `disabled`.
    pub status: String,
    /// The verbs it holds on the secret.
    pub verbs: Verbs,
    /// Whether a grant of this very secret is among the reasons.
    pub granted: bool,
}

fn verbs_from_row(row: &Row) -> Result<Verbs, Error> {
    let bits = u8::try_from(row.i64("verbs")?)
        .map_err(|_| Error::internal("stored verbs out of range"))?;
    Ok(Verbs::from_bits(bits))
}

fn environments_from_text(text: &str) -> Vec<EnvironmentName> {
    text.split(',')
        .filter(|e| !e.is_empty())
        .map(|e| EnvironmentName::from_trusted(e.to_owned()))
        .collect()
}

fn attachment_from_row(row: &Row) -> Result<MachineAttachmentRecord, Error> {
    let project: ProjectPath =
        format!("{}/{}", row.text("application")?, row.text("project")?).parse()?;
    Ok(MachineAttachmentRecord {
        attachment: Attachment {
            project,
            environments: environments_from_text(&row.text("environments")?),
            verbs: verbs_from_row(row)?,
        },
        by: row.text("by_name")?,
        created_at: row.i64("created_at")?,
    })
}

fn grant_from_row(row: &Row) -> Result<MachineGrantRecord, Error> {
    Ok(MachineGrantRecord {
        grant: SecretGrant {
            path: row.text("path")?.parse()?,
            verbs: verbs_from_row(row)?,
        },
        by: row.text("by_name")?,
        created_at: row.i64("created_at")?,
    })
}

const ATTACHMENTS: &str = "SELECT application, project, environments, verbs, \
     attached_by_name AS by_name, created_at FROM machine_attachments WHERE machine_id = $1 \
     ORDER BY application, project";
const GRANTS: &str = "SELECT path, verbs, granted_by_name AS by_name, created_at \
     FROM machine_grants WHERE machine_id = $1 ORDER BY path";

fn machine_missing(name: &MachineName) -> Error {
    Error::not_found(&format!("machine '{name}'"))
}

/// The machine's id in the proof's vault.
async fn machine_id(tx: &mut Tx, vault: &str, name: &MachineName) -> Result<String, Error> {
    let row = tx
        .optional(
            q("SELECT id FROM machines WHERE vault_id = $1 AND name = $2")
                .bind(vault)
                .bind(name.as_str()),
        )
        .await?
        .ok_or_else(|| machine_missing(name))?;
    row.text("id")
}

/// The type of the live secret at `path` in `vault`, if there is one.
async fn live_secret_type(
    tx: &mut Tx,
    vault: &str,
    path: &SecretPath,
) -> Result<Option<SecretType>, Error> {
    let env = &path.environment;
    let row = tx
        .optional(
            q("SELECT v.secret_type FROM applications a \
               JOIN projects p ON p.application_id = a.id \
               JOIN environments e ON e.project_id = p.id \
               JOIN secrets s ON s.environment_id = e.id \
               JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.latest_version \
               WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3 AND e.name = $4 \
               AND s.name = $5 AND s.deleted_at IS NULL")
            .bind(vault)
            .bind(env.project.application.as_str())
            .bind(env.project.project.as_str())
            .bind(env.environment.as_str())
            .bind(path.name.as_str()),
        )
        .await?;
    row.map(|r| r.text("secret_type")?.parse()).transpose()
}

fn describe(verbs: Verbs, environments: &[EnvironmentName]) -> String {
    let envs = if environments.is_empty() {
        "every environment".to_owned()
    } else {
        environments
            .iter()
            .map(EnvironmentName::as_str)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!("{envs}; {verbs}")
}

impl Store {
    /// The key and standing of the machine registered under `fingerprint` in `vault`.
    pub async fn machine_credentials(
        &self,
        vault: &VaultId,
        fingerprint: &str,
    ) -> Result<Option<MachineCredentials>, Error> {
        let row = self
            .db
            .optional(
                q(
                    "SELECT m.id, m.name, m.public_key, m.status, m.expires_at, v.deleted_at, \
                     (SELECT COUNT(*) FROM ip_allowlist al WHERE al.vault_id = m.vault_id) \
                     AS allowlist_ranges, \
                     (SELECT COUNT(*) FROM policies p WHERE p.subject_id = m.id) AS policy_count \
                     FROM machines m JOIN vaults v ON v.id = m.vault_id \
                     WHERE m.vault_id = $1 AND m.fingerprint = $2",
                )
                .bind(vault.as_str())
                .bind(fingerprint),
            )
            .await?;
        row.map(|row| {
            Ok(MachineCredentials {
                id: MachineId::from_trusted(row.text("id")?),
                name: MachineName::from_trusted(row.text("name")?),
                public_key: row.bytes("public_key")?,
                status: row.text("status")?,
                expires_at: row.opt_i64("expires_at")?,
                vault_deleted: row.opt_i64("deleted_at")?.is_some(),
                vault_has_allowlist: row.i64("allowlist_ranges")? > 0,
                has_policies: row.i64("policy_count")? > 0,
            })
        })
        .transpose()
    }

    /// What a machine's attachments and grants open, compiled for its request.
    pub async fn machine_runtime_access(
        &self,
        machine: &MachineId,
    ) -> Result<RuntimeAccess, Error> {
        let attachments = self
            .db
            .all(q(ATTACHMENTS).bind(machine.as_str()))
            .await?
            .iter()
            .map(|row| attachment_from_row(row).map(|r| r.attachment))
            .collect::<Result<Vec<_>, Error>>()?;
        let grants = self
            .db
            .all(q(GRANTS).bind(machine.as_str()))
            .await?
            .iter()
            .map(|row| grant_from_row(row).map(|r| r.grant))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(RuntimeAccess::new(&attachments, &grants))
    }

    /// Takes a signed request's nonce. False if it was taken before: a replay. Nonces are
    /// kept until `expires_at`, when the request's timestamp is outside the window anyway.
    pub async fn take_nonce(
        &self,
        machine: &MachineId,
        nonce: &str,
        expires_at: i64,
    ) -> Result<bool, Error> {
        self.nonces.take(machine.as_str(), nonce, expires_at).await
    }

    /// Attaches machine `name` to a project for some environments and verbs, replacing
    /// an earlier attachment to that project.
    pub async fn attach_machine(
        &self,
        authz: &Authorized,
        name: &MachineName,
        attachment: &Attachment,
        origin: &Origin,
    ) -> Result<MachineAttachmentRecord, Error> {
        let verbs = runtime_verbs(attachment.verbs)?;
        let project = &attachment.project;
        authz.permit_attaching(project, &attachment.environments, verbs)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let id = machine_id(&mut tx, vault, name).await?;
        crate::structure::require_project(&mut tx, vault, project).await?;
        let mut environments: Vec<&str> =
            attachment.environments.iter().map(|e| e.as_str()).collect();
        environments.sort_unstable();
        environments.dedup();
        let now = now_ms();
        tx.execute(
            q(
                "INSERT INTO machine_attachments (machine_id, application, project, environments, \
               verbs, attached_by_name, created_at) \
               SELECT $1, $2, $3, $4, $5, u.username, $6 FROM users u WHERE u.id = $7 \
               ON CONFLICT (machine_id, application, project) DO UPDATE SET \
               environments = excluded.environments, verbs = excluded.verbs, \
               attached_by_name = excluded.attached_by_name, created_at = excluded.created_at",
            )
            .bind(id.as_str())
            .bind(project.application.as_str())
            .bind(project.project.as_str())
            .bind(environments.join(","))
            .bind(i64::from(verbs.bits()))
            .bind(now)
            .bind(authz.actor()?.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.attach",
            &format!(
                "{name} to {project} ({})",
                describe(verbs, &environments_from_text(&environments.join(",")))
            ),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(
                q("SELECT application, project, environments, verbs, \
                   attached_by_name AS by_name, created_at FROM machine_attachments \
                   WHERE machine_id = $1 AND application = $2 AND project = $3")
                .bind(id.as_str())
                .bind(project.application.as_str())
                .bind(project.project.as_str()),
            )
            .await?;
        let record = attachment_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Detaches machine `name` from a project: what the attachment opened is closed from
    /// the machine's next request.
    pub async fn detach_machine(
        &self,
        authz: &Authorized,
        name: &MachineName,
        project: &ProjectPath,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.permit_attaching(project, &[], Verbs::NONE)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let id = machine_id(&mut tx, vault, name).await?;
        let removed = tx
            .execute(
                q("DELETE FROM machine_attachments \
                   WHERE machine_id = $1 AND application = $2 AND project = $3")
                .bind(id.as_str())
                .bind(project.application.as_str())
                .bind(project.project.as_str()),
            )
            .await?;
        if removed != 1 {
            return Err(Error::not_found(&format!(
                "attachment of machine '{name}' to '{project}'"
            )));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.detach",
            &format!("{name} from {project}"),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Grants machine `name` one secret with `verbs` (and read), replacing an earlier
    /// grant of it.
    pub async fn grant_machine_secret(
        &self,
        authz: &Authorized,
        name: &MachineName,
        path: &SecretPath,
        verbs: Verbs,
        origin: &Origin,
    ) -> Result<MachineGrantRecord, Error> {
        let verbs = runtime_verbs(verbs)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let secret_type = live_secret_type(&mut tx, vault, path)
            .await?
            .ok_or_else(|| Error::not_found(&format!("secret '{path}'")))?;
        authz.permit_granting_secret(path, secret_type, verbs)?;
        let id = machine_id(&mut tx, vault, name).await?;
        tx.execute(
            q(
                "INSERT INTO machine_grants (machine_id, path, verbs, granted_by_name, created_at) \
               SELECT $1, $2, $3, u.username, $4 FROM users u WHERE u.id = $5 \
               ON CONFLICT (machine_id, path) DO UPDATE SET verbs = excluded.verbs, \
               granted_by_name = excluded.granted_by_name, created_at = excluded.created_at",
            )
            .bind(id.as_str())
            .bind(path.to_string())
            .bind(i64::from(verbs.bits()))
            .bind(now_ms())
            .bind(authz.actor()?.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.grant",
            &format!("{path} to {name} ({verbs})"),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(
                q(
                    "SELECT path, verbs, granted_by_name AS by_name, created_at \
                   FROM machine_grants WHERE machine_id = $1 AND path = $2",
                )
                .bind(id.as_str())
                .bind(path.to_string()),
            )
            .await?;
        let record = grant_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Takes back a secret granted to machine `name`. A secret that is gone needs only the
    /// project's machines switch; a live one, 'manage' on it.
    pub async fn revoke_machine_secret(
        &self,
        authz: &Authorized,
        name: &MachineName,
        path: &SecretPath,
        origin: &Origin,
    ) -> Result<(), Error> {
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        match live_secret_type(&mut tx, vault, path).await? {
            Some(secret_type) => authz.permit_granting_secret(path, secret_type, Verbs::NONE)?,
            None => authz.permit_attaching(&path.environment.project, &[], Verbs::NONE)?,
        }
        let id = machine_id(&mut tx, vault, name).await?;
        let removed = tx
            .execute(
                q("DELETE FROM machine_grants WHERE machine_id = $1 AND path = $2")
                    .bind(id.as_str())
                    .bind(path.to_string()),
            )
            .await?;
        if removed != 1 {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("machine '{name}' holds no grant of '{path}'"),
            ));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.revoke",
            &format!("{path} from {name}"),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Machine `name`'s attachments and grants, for those who manage machines.
    pub async fn machine_access(
        &self,
        authz: &Authorized,
        name: &MachineName,
    ) -> Result<MachineAccessRecord, Error> {
        authz.require(Action::ManageMachines)?;
        let row = self
            .db
            .optional(
                q("SELECT id FROM machines WHERE vault_id = $1 AND name = $2")
                    .bind(authz.vault()?.as_str())
                    .bind(name.as_str()),
            )
            .await?
            .ok_or_else(|| machine_missing(name))?;
        self.access_rows(&row.text("id")?).await
    }

    /// Every machine whose attachment or grant reaches the secret at `path`, with what
    /// it may do there (as the machine's own requests would be decided, before access
    /// policies), by name. Two queries, whatever the number of machines.
    pub async fn machines_reaching(
        &self,
        authz: &Authorized,
        path: &SecretPath,
    ) -> Result<Vec<MachineReach>, Error> {
        authz.require(Action::ManageMachines)?;
        let vault = authz.vault()?.as_str();
        let project = &path.environment.project;
        let attached = self
            .db
            .all(
                q(
                    "SELECT m.name, m.status, a.environments, a.verbs FROM machine_attachments a \
                   JOIN machines m ON m.id = a.machine_id \
                   WHERE m.vault_id = $1 AND a.application = $2 AND a.project = $3",
                )
                .bind(vault)
                .bind(project.application.as_str())
                .bind(project.project.as_str()),
            )
            .await?;
        let granted = self
            .db
            .all(
                q("SELECT m.name, m.status, g.verbs FROM machine_grants g \
                   JOIN machines m ON m.id = g.machine_id \
                   WHERE m.vault_id = $1 AND g.path = $2")
                .bind(vault)
                .bind(path.to_string()),
            )
            .await?;
        let mut by_name: std::collections::BTreeMap<
            String,
            (String, Vec<Attachment>, Vec<SecretGrant>),
        > = std::collections::BTreeMap::new();
        for row in &attached {
            let entry = by_name
                .entry(row.text("name")?)
                .or_insert_with(|| (String::new(), Vec::new(), Vec::new()));
            entry.0 = row.text("status")?;
            entry.1.push(Attachment {
                project: project.clone(),
                environments: environments_from_text(&row.text("environments")?),
                verbs: verbs_from_row(row)?,
            });
        }
        for row in &granted {
            let entry = by_name
                .entry(row.text("name")?)
                .or_insert_with(|| (String::new(), Vec::new(), Vec::new()));
            entry.0 = row.text("status")?;
            entry.2.push(SecretGrant {
                path: path.clone(),
                verbs: verbs_from_row(row)?,
            });
        }
        Ok(by_name
            .into_iter()
            .filter_map(|(name, (status, attachments, grants))| {
                let verbs = match RuntimeAccess::new(&attachments, &grants).verdict(path) {
                    strongroom_core::access::Verdict::Open(off) => off.complement(),
                    _ => return None,
                };
                Some(MachineReach {
                    name,
                    status,
                    verbs,
                    granted: !grants.is_empty(),
                })
            })
            .collect())
    }

    /// The requesting machine's own attachments and grants.
    pub async fn own_machine_access(
        &self,
        authz: &Authorized,
    ) -> Result<MachineAccessRecord, Error> {
        authz.require(Action::InspectOwnMachine)?;
        let Actor::Machine(id) = authz.acting() else {
            return Err(Error::internal("a member was given a machine's own view"));
        };
        self.access_rows(id.as_str()).await
    }

    async fn access_rows(&self, id: &str) -> Result<MachineAccessRecord, Error> {
        let attachments = self
            .db
            .all(q(ATTACHMENTS).bind(id))
            .await?
            .iter()
            .map(attachment_from_row)
            .collect::<Result<Vec<_>, Error>>()?;
        let grants = self
            .db
            .all(q(GRANTS).bind(id))
            .await?
            .iter()
            .map(grant_from_row)
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(MachineAccessRecord {
            attachments,
            grants,
        })
    }
}
