//! Sessions. Only the SHA-256 of a session token is stored; a session is found by that
//! hash together with the user's membership in the session's vault in one query, so
//! authentication costs one indexed lookup however large the vault.

use crate::db::{Row, q};
use crate::model::{AuthenticatedSession, NewSession, Page, PageRequest, SessionRecord};
use crate::{Store, now_ms, paginate};
use strongroom_core::Error;
use strongroom_core::account::Username;
use strongroom_core::authz::Authorized;
use strongroom_core::ids::{SessionId, UserId, VaultId};
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
    /// Records a new session.
    pub async fn create_session(&self, new: NewSession) -> Result<SessionRecord, Error> {
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

    /// The live session whose token hashes to `token_hash`, with the user's role in the
    /// session's vault. Expired sessions, and sessions whose user is no longer a member of
    /// the vault, are not found.
    pub async fn authenticate_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<AuthenticatedSession>, Error> {
        let now = now_ms();
        let row = self
            .db
            .optional(
                q(concat!(
                    "SELECT ",
                    session_columns!(),
                    ", u.username, m.role FROM sessions s \
                     JOIN users u ON u.id = s.user_id \
                     JOIN memberships m ON m.vault_id = s.vault_id AND m.user_id = s.user_id \
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
        Ok(Some(AuthenticatedSession {
            username: Username::from_trusted(row.text("username")?),
            role: row.text("role")?.parse()?,
            session,
        }))
    }

    /// The caller's live sessions, newest first.
    pub async fn own_sessions(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<SessionRecord>, Error> {
        let (before_created, before_id) = decode_session_cursor(page.after.as_deref())?;
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
                .bind(authz.actor().as_str())
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
                    .bind(authz.actor().as_str()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Records a successful step-up re-authentication on a session of the caller's.
    pub async fn mark_stepped_up(&self, authz: &Authorized, id: &SessionId) -> Result<i64, Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("UPDATE sessions SET stepped_up_at = $1 WHERE id = $2 AND user_id = $3")
                .bind(now)
                .bind(id.as_str())
                .bind(authz.actor().as_str()),
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
        tx.commit().await?;
        Ok(sessions + throttles)
    }
}

/// Sessions are listed newest first; the cursor is `created_at:id` of the last one seen.
fn decode_session_cursor(after: Option<&str>) -> Result<(i64, String), Error> {
    let Some(after) = after else {
        return Ok((i64::MAX, String::new()));
    };
    let invalid = || Error::new(strongroom_core::ErrorCode::InvalidCursor, "invalid cursor");
    let (created, id) = after.split_once(':').ok_or_else(invalid)?;
    Ok((created.parse().map_err(|_| invalid())?, id.to_owned()))
}
