//! Checking a vault's audit chain, and chaining entries written before the chain existed.
//! The walk goes in entry-number order, a page at a time, and stops at the first entry
//! that does not hold: one whose MAC does not match its fields (changed, or forged and
//! inserted), one that does not follow its predecessor (an entry removed before it, or
//! moved), or a head that does not match the last entry (entries removed from the end).

use crate::Store;
use crate::db::q;
use std::collections::VecDeque;
use strongroom_core::Error;
use strongroom_core::authz::Authorized;
use strongroom_crypto::audit_chain::ChainKey;

/// Entries read per page of the walk.
const PAGE: i64 = 2000;

/// What a walk of a vault's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Entries that held, from the first.
    pub verified: i64,
    /// The last entry number the chain's head records.
    pub head_seq: i64,
    /// The first entry that does not hold, if any.
    pub broken: Option<ChainBreak>,
}

/// The first place a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The entry number where it breaks.
    pub seq: i64,
    /// `changed`, `removed`, `inserted` or `reordered`.
    pub kind: &'static str,
    /// What was found, in a sentence.
    pub message: String,
}

struct Link {
    seq: i64,
    fields: [String; 13],
    prev_mac: String,
    mac: String,
}

impl Link {
    fn holds(&self, key: &ChainKey) -> bool {
        let fields: Vec<&str> = self.fields.iter().map(String::as_str).collect();
        key.verifies(&self.mac, &self.prev_mac, &fields)
    }
}

fn link_of(row: &crate::db::Row) -> Result<(Link, i64), Error> {
    Ok((
        Link {
            seq: row.i64("seq")?,
            fields: [
                row.text("vault_id")?,
                row.i64("at")?.to_string(),
                row.text("actor_kind")?,
                row.text("actor_id")?,
                row.text("actor_name")?,
                row.text("action")?,
                row.text("target")?,
                row.text("outcome")?,
                row.text("severity")?,
                row.text("ip")?,
                row.text("user_agent")?,
                row.text("request_id")?,
                row.text("detail")?,
            ],
            prev_mac: row.text("prev_mac")?,
            mac: row.text("mac")?,
        },
        row.i64("id")?,
    ))
}

/// Reads a vault's chain a page at a time, one entry ahead of the walk.
struct Walk<'a> {
    store: &'a Store,
    vault: &'a str,
    buffered: VecDeque<Link>,
    after: (i64, i64),
    exhausted: bool,
}

impl Walk<'_> {
    async fn fill(&mut self) -> Result<(), Error> {
        if self.buffered.len() >= 2 || self.exhausted {
            return Ok(());
        }
        let rows = self
            .store
            .db
            .all(
                q(
                    "SELECT seq, id, vault_id, at, actor_kind, actor_id, actor_name, action, \
                   target, outcome, severity, ip, user_agent, request_id, detail, prev_mac, mac \
                   FROM audit_events WHERE vault_id = $1 AND seq > 0 \
                   AND (seq > $2 OR (seq = $2 AND id > $3)) ORDER BY seq, id LIMIT $4",
                )
                .bind(self.vault)
                .bind(self.after.0)
                .bind(self.after.1)
                .bind(PAGE),
            )
            .await?;
        self.exhausted = rows.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
        for row in &rows {
            let (link, id) = link_of(row)?;
            self.after = (link.seq, id);
            self.buffered.push_back(link);
        }
        Ok(())
    }

    async fn next(&mut self) -> Result<Option<Link>, Error> {
        self.fill().await?;
        let next = self.buffered.pop_front();
        self.fill().await?;
        Ok(next)
    }

    fn peek(&self) -> Option<&Link> {
        self.buffered.front()
    }
}

impl Store {
    /// Walks the caller's vault's chain and reports the first entry that does not hold.
    pub async fn verify_audit_chain(&self, authorized: &Authorized) -> Result<ChainReport, Error> {
        let vault = authorized.vault()?.as_str();
        let key = self.db.chain_key()?;
        let head = self
            .db
            .optional(q("SELECT seq, mac FROM audit_heads WHERE vault_id = $1").bind(vault))
            .await?;
        let (head_seq, head_mac) = match head {
            Some(row) => (row.i64("seq")?, row.text("mac")?),
            None => (0, String::new()),
        };
        let report = |verified, broken| ChainReport {
            verified,
            head_seq,
            broken,
        };
        let mut walk = Walk {
            store: self,
            vault,
            buffered: VecDeque::new(),
            after: (0, 0),
            exhausted: false,
        };
        let (mut prev_seq, mut prev_mac) = (0_i64, String::new());
        let mut verified = 0;
        while let Some(link) = walk.next().await? {
            if !link.holds(key) {
                // A forged entry leaves its neighbours linked to each other.
                let skipped = match walk.peek() {
                    Some(next) => next.prev_mac == prev_mac,
                    None => head_mac == prev_mac && head_seq == prev_seq,
                };
                let broken = if skipped {
                    ChainBreak {
                        seq: link.seq,
                        kind: "inserted",
                        message: format!(
                            "an entry numbered #{} was inserted after #{prev_seq}: it is not \
                             part of the chain",
                            link.seq
                        ),
                    }
                } else {
                    ChainBreak {
                        seq: link.seq,
                        kind: "changed",
                        message: format!(
                            "entry #{} was changed: it no longer matches its MAC",
                            link.seq
                        ),
                    }
                };
                return Ok(report(verified, Some(broken)));
            }
            if link.prev_mac != prev_mac {
                let moved = self
                    .db
                    .optional(
                        q("SELECT seq FROM audit_events WHERE vault_id = $1 AND mac = $2")
                            .bind(vault)
                            .bind(link.prev_mac.clone()),
                    )
                    .await?;
                let broken = match moved {
                    Some(_) => ChainBreak {
                        seq: link.seq,
                        kind: "reordered",
                        message: format!(
                            "entry #{} is out of order: the entry it follows was moved",
                            link.seq
                        ),
                    },
                    None => ChainBreak {
                        seq: link.seq,
                        kind: "removed",
                        message: format!(
                            "the entry before #{} was removed (the chain goes from #{prev_seq} \
                             to #{})",
                            link.seq, link.seq
                        ),
                    },
                };
                return Ok(report(verified, Some(broken)));
            }
            if link.seq != prev_seq + 1 {
                let broken = ChainBreak {
                    seq: link.seq,
                    kind: "changed",
                    message: format!("entry #{} was renumbered: it follows #{prev_seq}", link.seq),
                };
                return Ok(report(verified, Some(broken)));
            }
            prev_seq = link.seq;
            prev_mac = link.mac;
            verified += 1;
        }
        if head_seq != prev_seq || head_mac != prev_mac {
            let broken = if head_seq > prev_seq {
                ChainBreak {
                    seq: prev_seq + 1,
                    kind: "removed",
                    message: format!(
                        "entries #{} to #{head_seq} were removed from the end of the log",
                        prev_seq + 1
                    ),
                }
            } else {
                ChainBreak {
                    seq: prev_seq,
                    kind: "changed",
                    message: format!(
                        "the chain's head (#{head_seq}) does not match its last entry \
                         (#{prev_seq})"
                    ),
                }
            };
            return Ok(report(verified, Some(broken)));
        }
        Ok(report(verified, None))
    }

    /// Chains entries written before the chain existed (or by an older node during an
    /// upgrade), after each vault's current head, in the order they were written.
    pub(crate) async fn chain_unchained_entries(&self) -> Result<(), Error> {
        let key = self.db.chain_key()?.clone();
        let vaults = self
            .db
            .all(q(
                "SELECT DISTINCT vault_id FROM audit_events WHERE seq = 0",
            ))
            .await?;
        for vault in vaults {
            let vault = vault.text("vault_id")?;
            let mut tx = self.db.begin().await?;
            let head = crate::audit::lock_head(&mut tx, &vault).await?;
            let (mut seq, mut mac, mut at) = (head.seq, head.mac, head.at);
            let rows = tx
                .all(
                    q(
                        "SELECT seq, id, vault_id, at, actor_kind, actor_id, actor_name, action, \
                       target, outcome, severity, ip, user_agent, request_id, detail, prev_mac, \
                       mac FROM audit_events WHERE vault_id = $1 AND seq = 0 ORDER BY id",
                    )
                    .bind(vault.clone()),
                )
                .await?;
            for row in &rows {
                let (link, id) = link_of(row)?;
                let fields: Vec<&str> = link.fields.iter().map(String::as_str).collect();
                seq += 1;
                at = at.max(row.i64("at")?);
                let next = key.link(&mac, &fields);
                tx.execute(
                    q("UPDATE audit_events SET seq = $1, prev_mac = $2, mac = $3 WHERE id = $4")
                        .bind(seq)
                        .bind(mac.clone())
                        .bind(next.clone())
                        .bind(id),
                )
                .await?;
                mac = next;
            }
            crate::audit::move_head(&mut tx, &vault, crate::audit::Head { seq, mac, at }).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
