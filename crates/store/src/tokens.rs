//! Agent and CI tokens: created by members who hold the kind's cell and every verb on
//! the whole scope, shown once, stored hashed, refused from the request after they are
//! revoked or expire. Authentication reads the row on every request, so a revocation
//! holds at once on every node.

use crate::audit::{Severity, record_member_action};
use crate::db::{Row, q};
use crate::model::{Origin, TokenRecord};
use crate::{Store, now_ms};
use strongroom_core::access::Verbs;
use strongroom_core::authz::{Action, Authorized, TokenKind};
use strongroom_core::ids::{TokenId, VaultId};
use strongroom_core::names::{EnvironmentName, ProjectPath, TokenName};
use strongroom_core::network::{self, CidrRange};
use strongroom_core::runtime::{Attachment, RuntimeAccess, runtime_verbs};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;
use strongroom_crypto::token::{Token, new_access_token};

/// What an agent or CI token opens: a project, or one of its environments.
pub type TokenScope = (ProjectPath, Option<EnvironmentName>);

/// A token found by its secret, with what authentication checks.
#[derive(Debug, Clone)]
pub struct TokenCredentials {
    /// The token.
    pub id: TokenId,
    /// Its name.
    pub name: String,
    /// Agent or CI.
    pub kind: TokenKind,
    /// Its vault.
    pub vault_id: VaultId,
    /// Ranges it may be used from (empty: anywhere).
    pub cidrs: Vec<CidrRange>,
    /// When it was made.
    pub created_at: i64,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Whether its organization was soft-deleted.
    pub vault_deleted: bool,
    /// Whether its vault has an IP allowlist (checked only then).
    pub vault_has_allowlist: bool,
    /// Whether any access policy binds it (loaded only then).
    pub has_policies: bool,
    /// What its scope opens.
    pub access: RuntimeAccess,
}

/// `SELECT` of every column [`record_from_row`] reads, then `$filter`.
macro_rules! token_select {
    ($filter:literal) => {
        concat!(
            "SELECT id, name, kind, verbs, cidrs, expires_at, created_by_name, created_at, \
             revoked_at FROM tokens ",
            $filter
        )
    };
}

fn scope_text(scope: &TokenScope) -> String {
    match &scope.1 {
        Some(env) => format!("{}/{env}", scope.0),
        None => scope.0.to_string(),
    }
}

fn scopes_from_rows(rows: &[Row]) -> Result<Vec<TokenScope>, Error> {
    rows.iter()
        .map(|row| {
            let project: ProjectPath =
                format!("{}/{}", row.text("application")?, row.text("project")?).parse()?;
            let env = row.text("environment")?;
            Ok((
                project,
                (!env.is_empty()).then(|| EnvironmentName::from_trusted(env)),
            ))
        })
        .collect()
}

fn access_of(scopes: &[TokenScope], verbs: Verbs) -> RuntimeAccess {
    let attachments: Vec<Attachment> = scopes
        .iter()
        .map(|(project, env)| Attachment {
            project: project.clone(),
            environments: env.iter().cloned().collect(),
            verbs,
        })
        .collect();
    RuntimeAccess::new(&attachments, &[])
}

fn verbs_of(row: &Row) -> Result<Verbs, Error> {
    let bits = u8::try_from(row.i64("verbs")?)
        .map_err(|_| Error::internal("stored verbs out of range"))?;
    Ok(Verbs::from_bits(bits))
}

fn record_from_row(row: &Row, scopes: Vec<TokenScope>) -> Result<TokenRecord, Error> {
    Ok(TokenRecord {
        id: TokenId::from_trusted(row.text("id")?),
        name: row.text("name")?,
        kind: row.text("kind")?.parse()?,
        scopes: scopes.iter().map(scope_text).collect(),
        verbs: verbs_of(row)?,
        cidrs: network::parse_list(&row.text("cidrs")?)?,
        expires_at: row.opt_i64("expires_at")?,
        created_by: row.text("created_by_name")?,
        created_at: row.i64("created_at")?,
        revoked_at: row.opt_i64("revoked_at")?,
    })
}

/// Most scopes one token names.
const MAX_SCOPES: usize = 50;

impl Store {
    /// Creates a token; returns it with its secret, which is shown once and never again.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        authz: &Authorized,
        name: &TokenName,
        kind: TokenKind,
        scopes: &[TokenScope],
        verbs: Verbs,
        expires_at: Option<i64>,
        cidrs: &[CidrRange],
        origin: &Origin,
    ) -> Result<(TokenRecord, Token), Error> {
        if scopes.is_empty() || scopes.len() > MAX_SCOPES {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("a token needs 1 to {MAX_SCOPES} scopes (APP/PROJECT or APP/PROJECT/ENV)"),
            ));
        }
        let verbs = runtime_verbs(verbs)?;
        authz.permit_token(kind, scopes, verbs)?;
        let now = now_ms();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a token's expiry must be in the future",
            ));
        }
        let vault = authz.vault()?.as_str();
        let id = new_id(TokenId::from_random)?;
        let secret = new_access_token()?;
        let mut tx = self.db.begin().await?;
        for (project, _) in scopes {
            crate::structure::require_project(&mut tx, vault, project).await?;
        }
        tx.execute(
            q("INSERT INTO tokens (id, vault_id, name, kind, token_hash, verbs, cidrs, \
               expires_at, created_by_name, created_at) \
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, u.username, $9 FROM users u WHERE u.id = $10")
            .bind(id.as_str())
            .bind(vault)
            .bind(name.as_str())
            .bind(kind.as_str())
            .bind(secret.hash())
            .bind(i64::from(verbs.bits()))
            .bind(network::format_list(cidrs))
            .bind(expires_at)
            .bind(now)
            .bind(authz.actor()?.as_str()),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                format!("a token named '{name}' already exists in this vault; revoke it or choose another name"),
            ),
            _ => e,
        })?;
        for (project, env) in scopes {
            tx.execute(
                q(
                    "INSERT INTO token_scopes (token_id, application, project, environment) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(id.as_str())
                .bind(project.application.as_str())
                .bind(project.project.as_str())
                .bind(env.as_ref().map_or("", EnvironmentName::as_str)),
            )
            .await?;
        }
        let scope_list: Vec<String> = scopes.iter().map(scope_text).collect();
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "token.create",
            &format!("{name} ({kind}; {}; {verbs})", scope_list.join(" ")),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(q(token_select!("WHERE id = $1")).bind(id.as_str()))
            .await?;
        let scope_rows = tx
            .all(
                q(
                    "SELECT application, project, environment FROM token_scopes \
                   WHERE token_id = $1 ORDER BY application, project, environment",
                )
                .bind(id.as_str()),
            )
            .await?;
        let record = record_from_row(&row, scopes_from_rows(&scope_rows)?)?;
        tx.commit().await?;
        Ok((record, secret))
    }

    /// The vault's live tokens of the kinds the caller manages, by name.
    pub async fn tokens(&self, authz: &Authorized) -> Result<Vec<TokenRecord>, Error> {
        authz.require(Action::ManageTokens)?;
        let vault = authz.vault()?.as_str();
        let rows = self
            .db
            .all(
                q(token_select!(
                    "WHERE vault_id = $1 AND revoked_at IS NULL ORDER BY name LIMIT 1000"
                ))
                .bind(vault),
            )
            .await?;
        let scope_rows = self
            .db
            .all(
                q(
                    "SELECT s.token_id, s.application, s.project, s.environment \
                   FROM token_scopes s JOIN tokens t ON t.id = s.token_id \
                   WHERE t.vault_id = $1 AND t.revoked_at IS NULL \
                   ORDER BY s.application, s.project, s.environment",
                )
                .bind(vault),
            )
            .await?;
        let mut by_token: std::collections::HashMap<String, Vec<Row>> = Default::default();
        for row in scope_rows {
            by_token.entry(row.text("token_id")?).or_default().push(row);
        }
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let scopes = by_token.remove(&row.text("id")?).unwrap_or_default();
            let scopes = scopes_from_rows(&scopes)?;
            // A token reaching a project the caller does not open is not theirs to see.
            let visible = scopes
                .iter()
                .all(|(p, _)| authz.sees_project(p.application.as_str(), p.project.as_str()));
            let record = record_from_row(row, scopes)?;
            if authz.may_manage_tokens(record.kind) && visible {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Revokes a live token by name or id: its next request is refused, on every node.
    pub async fn revoke_token(
        &self,
        authz: &Authorized,
        name_or_id: &str,
        origin: &Origin,
    ) -> Result<TokenRecord, Error> {
        authz.require(Action::ManageTokens)?;
        let vault = authz.vault()?.as_str();
        let missing = || Error::not_found(&format!("token '{name_or_id}'"));
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(
                q(token_select!(
                    "WHERE vault_id = $1 AND revoked_at IS NULL AND (name = $2 OR id = $2)"
                ))
                .bind(vault)
                .bind(name_or_id),
            )
            .await?
            .ok_or_else(missing)?;
        let scopes = tx
            .all(
                q("SELECT application, project, environment FROM token_scopes WHERE token_id = $1")
                    .bind(row.text("id")?),
            )
            .await?;
        let scopes = scopes_from_rows(&scopes)?;
        let visible = scopes
            .iter()
            .all(|(p, _)| authz.sees_project(p.application.as_str(), p.project.as_str()));
        let mut record = record_from_row(&row, scopes)?;
        if !authz.may_manage_tokens(record.kind) || !visible {
            return Err(missing());
        }
        authz.permit_token(record.kind, &[], Verbs::NONE)?;
        let now = now_ms();
        let changed = tx
            .execute(
                q("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(record.id.as_str()),
            )
            .await?;
        if changed != 1 {
            return Err(missing());
        }
        record.revoked_at = Some(now);
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "token.revoke",
            &format!("{} ({})", record.name, record.kind),
            Severity::Warning,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The token whose secret hashes to `hash`, whatever its state (authentication
    /// decides), with what its scope opens.
    pub async fn token_credentials(&self, hash: &str) -> Result<Option<TokenCredentials>, Error> {
        let Some(row) = self
            .db
            .optional(
                q(
                    "SELECT t.id, t.name, t.kind, t.vault_id, t.verbs, t.cidrs, t.expires_at, \
                     t.created_at, t.revoked_at, v.deleted_at, \
                     (SELECT COUNT(*) FROM ip_allowlist al WHERE al.vault_id = t.vault_id) \
                     AS allowlist_ranges, \
                     (SELECT COUNT(*) FROM policies p WHERE p.subject_id = t.id) AS policy_count \
                     FROM tokens t JOIN vaults v ON v.id = t.vault_id WHERE t.token_hash = $1",
                )
                .bind(hash),
            )
            .await?
        else {
            return Ok(None);
        };
        let id = row.text("id")?;
        let scopes = self
            .db
            .all(
                q("SELECT application, project, environment FROM token_scopes WHERE token_id = $1")
                    .bind(id.as_str()),
            )
            .await?;
        let verbs = verbs_of(&row)?;
        Ok(Some(TokenCredentials {
            id: TokenId::from_trusted(id),
            name: row.text("name")?,
            kind: row.text("kind")?.parse()?,
            vault_id: row.text("vault_id")?.parse()?,
            cidrs: network::parse_list(&row.text("cidrs")?)?,
            created_at: row.i64("created_at")?,
            expires_at: row.opt_i64("expires_at")?,
            revoked: row.opt_i64("revoked_at")?.is_some(),
            vault_deleted: row.opt_i64("deleted_at")?.is_some(),
            vault_has_allowlist: row.i64("allowlist_ranges")? > 0,
            has_policies: row.i64("policy_count")? > 0,
            access: access_of(&scopes_from_rows(&scopes)?, verbs),
        }))
    }

    /// Revokes a token at its own request (Vault's `revoke-self`): it authenticated
    /// with its secret, which is all the authority revoking itself takes.
    pub async fn revoke_token_itself(&self, hash: &str) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
                    .bind(hash)
                    .bind(now_ms()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The name of the caller's own vault, which a KV namespace may use instead of its
    /// id.
    pub async fn own_vault_name(&self, vault: &VaultId) -> Result<Option<String>, Error> {
        let row = self
            .db
            .optional(
                q("SELECT name FROM vaults WHERE id = $1 AND deleted_at IS NULL")
                    .bind(vault.as_str()),
            )
            .await?;
        row.map(|r| r.text("name")).transpose()
    }
}
