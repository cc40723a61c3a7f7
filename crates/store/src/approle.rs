//! AppRole for machines that cannot sign requests (Vault's `auth/approle`): a member
//! with the Machines cell issues a secret id for a machine; the machine logs in with its
//! role id and that secret id and gets a short-lived token that acts as the machine —
//! same attachments, policies and audit identity. Secret ids and login tokens are kept
//! only as hashes; both expire and can be revoked, and revoking a secret id ends the
//! logins it made.

use crate::audit::{AuditActor, AuditEntry, Severity, record_member_action};
use crate::db::{Row, q};
use crate::model::Origin;
use crate::{Store, now_ms};
use base64::Engine as _;
use strongroom_core::audit::{ActorKind, Outcome};
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::{ApproleSecretId, MachineId, MachineLoginId, VaultId};
use strongroom_core::names::MachineName;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::{new_id, random_bytes};
use strongroom_crypto::token::{
    Token, constant_time_eq, new_approle_secret, new_machine_login_token,
};

/// Longest a login token may live.
pub const MAX_LOGIN_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// A secret id just issued: the secret is shown once.
#[derive(Debug)]
pub struct IssuedApprole {
    /// The machine's role id (stable; not a secret on its own).
    pub role_id: String,
    /// The secret id (`srr_…`).
    pub secret: Token,
    /// Its id, to list and revoke it by.
    pub id: ApproleSecretId,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// How long each login's token lives, in ms.
    pub token_ttl_ms: i64,
}

/// A secret id as listed (never the secret).
#[derive(Debug, Clone)]
pub struct ApproleSecretRecord {
    /// Its id.
    pub id: ApproleSecretId,
    /// Who issued it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// How long each login's token lives, in ms.
    pub token_ttl_ms: i64,
}

/// A successful login.
#[derive(Debug)]
pub struct MachineLogin {
    /// The token (`srm_…`), shown once.
    pub token: Token,
    /// The login's id (Vault's accessor).
    pub id: MachineLoginId,
    /// The machine.
    pub machine_id: MachineId,
    /// Its name.
    pub machine_name: MachineName,
    /// Its vault.
    pub vault_id: VaultId,
    /// When the token stops working.
    pub expires_at: i64,
    /// How long it lives, in ms.
    pub ttl_ms: i64,
}

/// A login token found by its hash, with what authentication checks.
#[derive(Debug, Clone)]
pub struct MachineLoginCredentials {
    /// The login.
    pub id: MachineLoginId,
    /// The machine it acts as.
    pub machine_id: MachineId,
    /// Its name.
    pub machine_name: MachineName,
    /// Its vault.
    pub vault_id: VaultId,
    /// The machine's state: `active` or `disabled`.
    pub machine_status: String,
    /// When the machine's registration ends, if ever.
    pub machine_expires_at: Option<i64>,
    /// When the login was made.
    pub created_at: i64,
    /// When the token stops working.
    pub expires_at: i64,
    /// Whether the token or its secret id was revoked.
    pub revoked: bool,
    /// Whether its organization was soft-deleted.
    pub vault_deleted: bool,
    /// Whether the vault has an IP allowlist.
    pub vault_has_allowlist: bool,
    /// Whether any access policy binds the machine.
    pub has_policies: bool,
}

fn invalid_login() -> Error {
    Error::new(ErrorCode::InvalidCredentials, "invalid role or secret ID")
}

fn record_from_row(row: &Row) -> Result<ApproleSecretRecord, Error> {
    Ok(ApproleSecretRecord {
        id: ApproleSecretId::from_trusted(row.text("id")?),
        created_by: row.text("created_by_name")?,
        created_at: row.i64("created_at")?,
        expires_at: row.opt_i64("expires_at")?,
        revoked_at: row.opt_i64("revoked_at")?,
        token_ttl_ms: row.i64("token_ttl_ms")?,
    })
}

impl Store {
    async fn machine_row(
        &self,
        tx: &mut crate::db::Tx,
        vault: &str,
        name: &MachineName,
    ) -> Result<Row, Error> {
        tx.optional(
            q("SELECT id, approle_role_id FROM machines WHERE vault_id = $1 AND name = $2")
                .bind(vault)
                .bind(name.as_str()),
        )
        .await?
        .ok_or_else(|| Error::not_found(&format!("machine '{name}'")))
    }

    /// Issues a secret id for `machine` (and its role id, the first time).
    pub async fn issue_approle_secret(
        &self,
        authz: &Authorized,
        machine: &MachineName,
        expires_at: Option<i64>,
        token_ttl_ms: i64,
        origin: &Origin,
    ) -> Result<IssuedApprole, Error> {
        authz.require(Action::ManageMachines)?;
        let now = now_ms();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a secret id's expiry must be in the future",
            ));
        }
        if !(60_000..=MAX_LOGIN_TTL_MS).contains(&token_ttl_ms) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a login token lives from 1 minute to 24 hours",
            ));
        }
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let row = self.machine_row(&mut tx, vault, machine).await?;
        let machine_id = row.text("id")?;
        let role_id = match row.opt_text("approle_role_id")? {
            Some(id) => id,
            None => {
                let bytes = random_bytes::<16>()?;
                let id = format!(
                    "role_{}",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
                );
                tx.execute(
                    q("UPDATE machines SET approle_role_id = $1 WHERE id = $2")
                        .bind(id.as_str())
                        .bind(machine_id.as_str()),
                )
                .await?;
                id
            }
        };
        let secret = new_approle_secret()?;
        let id = new_id(ApproleSecretId::from_random)?;
        tx.execute(
            q(
                "INSERT INTO approle_secrets (id, vault_id, machine_id, secret_hash, token_ttl_ms, \
               expires_at, created_by_name, created_at) \
               SELECT $1, $2, $3, $4, $5, $6, u.username, $7 FROM users u WHERE u.id = $8",
            )
            .bind(id.as_str())
            .bind(vault)
            .bind(machine_id.as_str())
            .bind(secret.hash())
            .bind(token_ttl_ms)
            .bind(expires_at)
            .bind(now)
            .bind(authz.actor()?.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.approle_issue",
            &format!("{machine} ({id})"),
            Severity::Warning,
        )
        .await?;
        tx.commit().await?;
        Ok(IssuedApprole {
            role_id,
            secret,
            id,
            expires_at,
            token_ttl_ms,
        })
    }

    /// A machine's secret ids, newest first (never the secrets).
    pub async fn approle_secrets(
        &self,
        authz: &Authorized,
        machine: &MachineName,
    ) -> Result<(Option<String>, Vec<ApproleSecretRecord>), Error> {
        authz.require(Action::ManageMachines)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let row = self.machine_row(&mut tx, vault, machine).await?;
        let rows = tx
            .all(
                q("SELECT id, created_by_name, created_at, expires_at, revoked_at, token_ttl_ms \
                   FROM approle_secrets WHERE machine_id = $1 ORDER BY created_at DESC, id LIMIT 1000")
                .bind(row.text("id")?),
            )
            .await?;
        tx.commit().await?;
        let records = rows.iter().map(record_from_row).collect::<Result<_, _>>()?;
        Ok((row.opt_text("approle_role_id")?, records))
    }

    /// Revokes one of a machine's secret ids, and every login made with it.
    pub async fn revoke_approle_secret(
        &self,
        authz: &Authorized,
        machine: &MachineName,
        id: &str,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageMachines)?;
        let vault = authz.vault()?.as_str();
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let row = self.machine_row(&mut tx, vault, machine).await?;
        let n = tx
            .execute(
                q(
                    "UPDATE approle_secrets SET revoked_at = $1 WHERE id = $2 AND machine_id = $3 \
                   AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(row.text("id")?),
            )
            .await?;
        if n == 0 {
            return Err(Error::not_found(&format!(
                "unrevoked secret id '{id}' of machine '{machine}'"
            )));
        }
        tx.execute(
            q("UPDATE machine_logins SET revoked_at = $1 WHERE secret_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "machine.approle_revoke",
            &format!("{machine} ({id})"),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Logs a machine in with its role id and a secret id. Every failure is the same
    /// "invalid role or secret ID", so a guess learns nothing.
    pub async fn approle_login(
        &self,
        role_id: &str,
        secret: &Token,
        origin: &Origin,
    ) -> Result<MachineLogin, Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(
                q(
                    "SELECT s.id, s.token_ttl_ms, s.expires_at, s.revoked_at, m.id AS machine_id, \
                   m.name, m.status, m.expires_at AS machine_expires_at, m.approle_role_id, \
                   m.vault_id, v.deleted_at FROM approle_secrets s \
                   JOIN machines m ON m.id = s.machine_id JOIN vaults v ON v.id = m.vault_id \
                   WHERE s.secret_hash = $1",
                )
                .bind(secret.hash()),
            )
            .await?
            .ok_or_else(invalid_login)?;
        let stored_role = row.opt_text("approle_role_id")?.unwrap_or_default();
        let refusal = if !constant_time_eq(stored_role.as_bytes(), role_id.as_bytes()) {
            Some("a known secret id with the wrong role id")
        } else if row.opt_i64("revoked_at")?.is_some() {
            Some("the secret id was revoked")
        } else if row.opt_i64("expires_at")?.is_some_and(|at| at <= now) {
            Some("the secret id has expired")
        } else if row.text("status")? != "active" {
            Some("the machine is disabled")
        } else if row
            .opt_i64("machine_expires_at")?
            .is_some_and(|at| at <= now)
        {
            Some("the machine's registration has expired")
        } else if row.opt_i64("deleted_at")?.is_some() {
            Some("the organization was deleted")
        } else {
            None
        };
        if let Some(why) = refusal {
            drop(tx);
            // Someone holds a real secret id: the machine's vault should know.
            self.record_audit(AuditEntry {
                vault: row.text("vault_id")?,
                actor: AuditActor {
                    kind: ActorKind::External,
                    id: row.text("machine_id")?,
                    name: row.text("name")?,
                },
                action: "machine.approle_login".to_owned(),
                target: format!("{} ({})", row.text("name")?, row.text("id")?),
                outcome: Outcome::Denied,
                severity: Severity::Warning,
                origin: origin.clone(),
                detail: why.to_owned(),
            })
            .await?;
            return Err(invalid_login());
        }
        let token = new_machine_login_token()?;
        let id = new_id(MachineLoginId::from_random)?;
        let ttl_ms = row.i64("token_ttl_ms")?;
        let expires_at = now + ttl_ms;
        let machine_id = MachineId::from_trusted(row.text("machine_id")?);
        let machine_name = MachineName::from_trusted(row.text("name")?);
        let vault_id: VaultId = row.text("vault_id")?.parse()?;
        tx.execute(
            q(
                "INSERT INTO machine_logins (token_hash, id, secret_id, machine_id, vault_id, \
               expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token.hash())
            .bind(id.as_str())
            .bind(row.text("id")?)
            .bind(machine_id.as_str())
            .bind(vault_id.as_str())
            .bind(expires_at)
            .bind(now),
        )
        .await?;
        tx.audit(AuditEntry {
            vault: vault_id.to_string(),
            actor: AuditActor {
                kind: ActorKind::Machine,
                id: machine_id.to_string(),
                name: machine_name.to_string(),
            },
            action: "machine.approle_login".to_owned(),
            target: format!("{machine_name} ({})", row.text("id")?),
            outcome: Outcome::Allowed,
            severity: Severity::Notice,
            origin: origin.clone(),
            detail: String::new(),
        });
        tx.commit().await?;
        Ok(MachineLogin {
            token,
            id,
            machine_id,
            machine_name,
            vault_id,
            expires_at,
            ttl_ms,
        })
    }

    /// The login whose token hashes to `hash`, whatever its state (authentication
    /// decides).
    pub async fn machine_login_credentials(
        &self,
        hash: &str,
    ) -> Result<Option<MachineLoginCredentials>, Error> {
        let Some(row) = self
            .db
            .optional(
                q(
                    "SELECT l.id, l.machine_id, l.vault_id, l.created_at, l.expires_at, \
                   l.revoked_at, s.revoked_at AS secret_revoked_at, m.name, m.status, \
                   m.expires_at AS machine_expires_at, v.deleted_at, \
                   (SELECT COUNT(*) FROM ip_allowlist al WHERE al.vault_id = l.vault_id) \
                   AS allowlist_ranges, \
                   (SELECT COUNT(*) FROM policies p WHERE p.subject_id = l.machine_id) \
                   AS policy_count \
                   FROM machine_logins l JOIN approle_secrets s ON s.id = l.secret_id \
                   JOIN machines m ON m.id = l.machine_id JOIN vaults v ON v.id = l.vault_id \
                   WHERE l.token_hash = $1",
                )
                .bind(hash),
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(MachineLoginCredentials {
            id: MachineLoginId::from_trusted(row.text("id")?),
            machine_id: MachineId::from_trusted(row.text("machine_id")?),
            machine_name: MachineName::from_trusted(row.text("name")?),
            vault_id: row.text("vault_id")?.parse()?,
            machine_status: row.text("status")?,
            machine_expires_at: row.opt_i64("machine_expires_at")?,
            created_at: row.i64("created_at")?,
            expires_at: row.i64("expires_at")?,
            revoked: row.opt_i64("revoked_at")?.is_some()
                || row.opt_i64("secret_revoked_at")?.is_some(),
            vault_deleted: row.opt_i64("deleted_at")?.is_some(),
            vault_has_allowlist: row.i64("allowlist_ranges")? > 0,
            has_policies: row.i64("policy_count")? > 0,
        }))
    }

    /// Revokes a login token at its own request (Vault's `revoke-self`).
    pub async fn revoke_machine_login(&self, hash: &str) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q(
                    "UPDATE machine_logins SET revoked_at = $2 WHERE token_hash = $1 \
                   AND revoked_at IS NULL",
                )
                .bind(hash)
                .bind(now_ms()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }
}
