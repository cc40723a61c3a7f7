//! Sessions. Only the SHA-256 of a session token is stored; a session is found by that
//! hash together with the user's membership in the session's vault in one query, so
//! authentication costs one indexed lookup however large the vault.

use crate::db::{Row, q};
use crate::model::{
    AuthenticatedSession, NewSession, Origin, Page, PageRequest, SessionRecord, VaultRecord,
};
use crate::{Store, now_ms, paginate};
use strongroom_core::account::Username;
use strongroom_core::authz::{Authorized, Standing};
use strongroom_core::ids::{SessionId, UserId, VaultId};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// Refresh `last_seen_at` at most this often, so reads do not turn into writes.
const TOUCH_INTERVAL_MS: i64 = 60_000;

macro_rules! session_columns {
    () => {
        "s.id, s.user_id, s.vault_id, s.created_at, s.expires_at, s.last_seen_at, \
         s.stepped_up_at, s.ip, s.user_agent"
    };
}

fn session_from_row(row: &Row) -> Result<SessionRecord, Error> {
    Ok(SessionRecord {
        id: SessionId::from_trusted(row.text("id")?),
        user_id: UserId::from_trusted(row.text("user_id")?),
        vault_id: VaultId::from_trusted(row.text("vault_id")?),
        created_at: row.i64("created_at")?,
        expires_at: row.i64("expires_at")?,
        last_seen_at: row.i64("last_seen_at")?,
        stepped_up_at: row.opt_i64("stepped_up_at")?,
        ip: row.text("ip")?,
        user_agent: row.text("user_agent")?,
    })
}

impl Store {
    /// Records a new session, and the sign-in in the audit log of the vault it opens in.
    pub async fn create_session(
        &self,
        new: NewSession,
        origin: &Origin,
    ) -> Result<SessionRecord, Error> {
        let id = new_id(SessionId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q(
                "INSERT INTO sessions (id, token_hash, user_id, vault_id, created_at, expires_at, \
               last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8)",
            )
            .bind(id.as_str())
            .bind(new.token_hash)
            .bind(new.user_id.as_str())
            .bind(new.vault_id.as_str())
            .bind(now)
            .bind(now.saturating_add(new.ttl_ms))
            .bind(new.ip.clone())
            .bind(new.user_agent.clone()),
        )
        .await?;
        crate::audit::record_member_action(
            &mut tx,
            origin,
            new.vault_id.as_str(),
            &new.user_id,
            "session.sign_in",
            "",
            crate::audit::Severity::Notice,
        )
        .await?;
        tx.commit().await?;
        Ok(SessionRecord {
            id,
            user_id: new.user_id,
            vault_id: new.vault_id,
            created_at: now,
            expires_at: now.saturating_add(new.ttl_ms),
            last_seen_at: now,
            stepped_up_at: None,
            ip: new.ip,
            user_agent: new.user_agent,
        })
    }

    /// The live session whose token hashes to `token_hash`, with the user's standing in
    /// the session's vault read in the same query, so suspension, removal and deletion
    /// count from the very next request on every node. Expired sessions are not found.
    pub async fn authenticate_session(
        &self,
        token_hash: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Option<AuthenticatedSession>, Error> {
        let now = now_ms();
        let row = self
            .db
            .optional(
                q(concat!(
                    "SELECT ",
                    session_columns!(),
                    ", u.username, m.status, v.deleted_at, ar.id AS access_role_id, \
                     ar.version AS access_role_version, \
                     (SELECT COUNT(*) FROM ip_allowlist al WHERE al.vault_id = s.vault_id) \
                     AS allowlist_ranges, ",
                    crate::vault_roles::role_columns!(),
                    " FROM sessions s \
                     JOIN users u ON u.id = s.user_id \
                     JOIN vaults v ON v.id = s.vault_id \
                     LEFT JOIN memberships m ON m.vault_id = s.vault_id AND m.user_id = s.user_id \
                     LEFT JOIN access_roles ar ON ar.id = m.access_role_id \
                     ",
                    crate::vault_roles::role_join!(),
                    " \
                     WHERE s.token_hash = $1 AND s.expires_at > $2"
                ))
                .bind(token_hash)
                .bind(now),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let session = session_from_row(&row)?;
        if now - session.last_seen_at > TOUCH_INTERVAL_MS {
            let mut tx = self.db.begin().await?;
            tx.execute(
                q("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(session.id.as_str()),
            )
            .await?;
            tx.commit().await?;
        }
        let standing = if row.opt_i64("deleted_at")?.is_some() {
            Standing::VaultDeleted
        } else if row.i64("allowlist_ranges")? > 0 && !self.admits(&session.vault_id, ip).await? {
            Standing::OutsideAllowlist
        } else {
            match (row.opt_text("role")?, row.opt_text("status")?.as_deref()) {
                (None, _) => Standing::NotMember,
                (Some(_), Some("suspended")) => Standing::Suspended,
                (Some(_), _) => Standing::Active(crate::vault_roles::role_from_row(&row)?),
            }
        };
        let access = match (
            row.opt_text("access_role_id")?,
            row.opt_i64("access_role_version")?,
        ) {
            (Some(id), Some(version)) => Some(self.compiled_access_role(&id, version).await?),
            _ => None,
        };
        Ok(Some(AuthenticatedSession {
            username: Username::from_trusted(row.text("username")?),
            standing,
            access,
            session,
        }))
    }

    /// The caller's live sessions, newest first.
    pub async fn own_sessions(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<SessionRecord>, Error> {
        let (before_created, before_id) = crate::decode_newest_first_cursor(page.after.as_deref())?;
        let rows = self
            .db
            .all(
                q(concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 \
                     AND (s.created_at < $3 OR (s.created_at = $3 AND s.id > $4)) \
                     ORDER BY s.created_at DESC, s.id LIMIT $5"
                ))
                .bind(authz.actor()?.as_str())
                .bind(now_ms())
                .bind(before_created)
                .bind(before_id)
                .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let sessions = rows
            .iter()
            .map(session_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(sessions, page.limit, |s| {
            format!("{}:{}", s.created_at, s.id)
        }))
    }

    /// Ends one of the caller's sessions. `false` if they have no such session.
    pub async fn revoke_own_session(
        &self,
        authz: &Authorized,
        id: &SessionId,
    ) -> Result<bool, Error> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
                    .bind(id.as_str())
                    .bind(authz.actor()?.as_str()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Points one of the caller's sessions at another vault they belong to, named by id or
    /// by name. A name shared by two of their vaults is refused as ambiguous; a vault they
    /// are suspended in, or that was deleted, is refused with the reason.
    pub async fn switch_session_vault(
        &self,
        authz: &Authorized,
        session: &SessionId,
        wanted: &str,
        origin: &Origin,
    ) -> Result<VaultRecord, Error> {
        let vaults = self.own_vaults(authz).await?;
        let by_id: Vec<&VaultRecord> = vaults.iter().filter(|v| v.id.as_str() == wanted).collect();
        let matches = if by_id.is_empty() {
            vaults.iter().filter(|v| v.name == wanted).collect()
        } else {
            by_id
        };
        let vault = match matches.as_slice() {
            [] => return Err(Error::not_found(&format!("vault '{wanted}'"))),
            [one] => (*one).clone(),
            several => {
                let ids: Vec<&str> = several.iter().map(|v| v.id.as_str()).collect();
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "more than one of your vaults is named '{wanted}'; use its id: {}",
                        ids.join(", ")
                    ),
                ));
            }
        };
        if vault.deleted_at.is_some() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "organization '{}' has been deleted; its owner can restore it with `strongroom org restore {}`",
                    vault.name, vault.id
                ),
            ));
        }
        if vault.member_status == "suspended" {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                format!("your membership in '{}' is suspended", vault.name),
            ));
        }
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE sessions SET vault_id = $1 WHERE id = $2 AND user_id = $3")
                    .bind(vault.id.as_str())
                    .bind(session.as_str())
                    .bind(authz.actor()?.as_str()),
            )
            .await?;
        if n != 1 {
            return Err(Error::not_found("session"));
        }
        crate::audit::record_member_action(
            &mut tx,
            origin,
            vault.id.as_str(),
            authz.actor()?,
            "session.switch_vault",
            &vault.name,
            crate::audit::Severity::Info,
        )
        .await?;
        tx.commit().await?;
        Ok(vault)
    }

    /// Records a successful step-up re-authentication on a session of the caller's.
    pub async fn mark_stepped_up(&self, authz: &Authorized, id: &SessionId) -> Result<i64, Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("UPDATE sessions SET stepped_up_at = $1 WHERE id = $2 AND user_id = $3")
                .bind(now)
                .bind(id.as_str())
                .bind(authz.actor()?.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(now)
    }

    /// Deletes expired sessions and stale sign-in throttles; returns how many rows went.
    pub async fn prune_expired(&self, throttle_window_ms: i64) -> Result<u64, Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let sessions = tx
            .execute(q("DELETE FROM sessions WHERE expires_at <= $1").bind(now))
            .await?;
        let throttles = tx
            .execute(
                q("DELETE FROM auth_throttle WHERE window_start <= $1")
                    .bind(now - throttle_window_ms),
            )
            .await?;
        let logins = tx
            .execute(q("DELETE FROM machine_logins WHERE expires_at <= $1").bind(now))
            .await?;
        tx.commit().await?;
        Ok(sessions + throttles + logins)
    }
}
