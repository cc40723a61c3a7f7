//! Reading the audit log as it grows, for the sinks that mirror it (a file, an HTTP
//! endpoint) and the alert matcher. A sink's cursor is kept per vault, in chain order:
//! a vault's entries up to its head are all committed when the head shows them, so a
//! sink that reads past its cursor up to the head never skips one, on any node.

use crate::Store;
use crate::audit_query::AuditEvent;
use crate::db::{Tx, q};
use crate::now_ms;
use strongroom_core::Error;

/// One entry as a sink receives it: the event, its vault, and its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailedEntry {
    /// The vault whose chain holds it.
    pub vault: String,
    /// The entry.
    pub event: AuditEvent,
    /// The MAC of the entry before it.
    pub prev_mac: String,
    /// Its own MAC.
    pub mac: String,
}

impl Store {
    /// Takes, or renews, `holder`'s lease on `sink` for `lease_ms`; false while another
    /// node holds an unexpired one.
    pub async fn hold_audit_sink(
        &self,
        sink: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<bool, Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let held = tx
            .optional(
                q(
                    "INSERT INTO audit_sink_leases (sink, holder, until) VALUES ($1, $2, $3) \
                   ON CONFLICT (sink) DO UPDATE SET holder = excluded.holder, \
                   until = excluded.until \
                   WHERE audit_sink_leases.holder = excluded.holder \
                      OR audit_sink_leases.until < $4 \
                   RETURNING holder",
                )
                .bind(sink)
                .bind(holder)
                .bind(now + lease_ms)
                .bind(now),
            )
            .await?
            .is_some();
        tx.commit().await?;
        Ok(held)
    }

    /// Gives up `holder`'s leases, so another node (or this one, restarted) takes over at
    /// once rather than when they expire.
    pub async fn release_audit_sinks(&self, holder: &str) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        tx.execute(q("DELETE FROM audit_sink_leases WHERE holder = $1").bind(holder))
            .await?;
        tx.commit().await
    }

    /// Entries past `sink`'s cursors, each vault's in chain order, at most `limit` in all.
    pub async fn audit_backlog(&self, sink: &str, limit: u32) -> Result<Vec<TailedEntry>, Error> {
        let behind = self
            .db
            .all(
                q(
                    "SELECT h.vault_id, h.seq AS head, COALESCE(c.seq, 0) AS done \
                   FROM audit_heads h LEFT JOIN audit_sink_cursors c \
                   ON c.sink = $1 AND c.vault_id = h.vault_id \
                   WHERE h.seq > COALESCE(c.seq, 0) ORDER BY h.vault_id",
                )
                .bind(sink),
            )
            .await?;
        // Each vault behind gets a share of the batch, so a busy vault cannot starve the
        // others.
        let vaults = i64::try_from(behind.len()).unwrap_or(i64::MAX).max(1);
        let share = (i64::from(limit) / vaults).max(16);
        let mut entries = Vec::new();
        for vault in behind {
            let room =
                share.min(i64::from(limit) - i64::try_from(entries.len()).unwrap_or(i64::MAX));
            if room <= 0 {
                break;
            }
            let id = vault.text("vault_id")?;
            let rows = self
                .db
                .all(
                    q(
                        "SELECT seq, at, actor_kind, actor_id, actor_name, action, target, \
                       outcome, severity, ip, user_agent, request_id, detail, prev_mac, mac \
                       FROM audit_events WHERE vault_id = $1 AND seq > $2 AND seq <= $3 \
                       ORDER BY seq LIMIT $4",
                    )
                    .bind(id.clone())
                    .bind(vault.i64("done")?)
                    .bind(vault.i64("head")?)
                    .bind(room),
                )
                .await?;
            for row in rows {
                entries.push(TailedEntry {
                    vault: id.clone(),
                    event: crate::audit_query::event_of(&row)?,
                    prev_mac: row.text("prev_mac")?,
                    mac: row.text("mac")?,
                });
            }
        }
        Ok(entries)
    }

    /// Moves `sink`'s cursor in `vault` to entry `seq` (delivered, with all before it).
    pub async fn advance_audit_sink(&self, sink: &str, vault: &str, seq: i64) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        advance_cursor(&mut tx, sink, vault, seq).await?;
        tx.commit().await
    }
}

/// Moves a sink's cursor forward (never back: a slower node's late write is ignored).
pub(crate) async fn advance_cursor(
    tx: &mut Tx,
    sink: &str,
    vault: &str,
    seq: i64,
) -> Result<(), Error> {
    tx.execute(
        q(
            "INSERT INTO audit_sink_cursors (sink, vault_id, seq) VALUES ($1, $2, $3) \
           ON CONFLICT (sink, vault_id) DO UPDATE SET seq = excluded.seq \
           WHERE audit_sink_cursors.seq < excluded.seq",
        )
        .bind(sink)
        .bind(vault)
        .bind(seq),
    )
    .await?;
    Ok(())
}
