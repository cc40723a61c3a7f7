//! Appending to the audit log. A change queues its entry on the transaction that makes
//! it ([`Tx::audit`]); the entries are chained and written when that transaction commits,
//! so there is never a change without its entry, nor an entry without its change. Reads
//! and refusals go through the journal, which commits many entries at once.

use crate::db::{Tx, q};
use crate::model::Origin;
use crate::now_ms;
use std::collections::BTreeMap;
use strongroom_core::Error;
use strongroom_core::audit::{ActorKind, Outcome};
use strongroom_core::authz::{Actor, TokenKind};
use strongroom_core::ids::UserId;
use strongroom_crypto::audit_chain::ChainKey;

pub use strongroom_core::audit::Severity;

/// Who an entry names, as they were called when they acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    /// Member, machine, agent, token, system or external.
    pub kind: ActorKind,
    /// The account's, machine's or token's id (for system and external, a name).
    pub id: String,
    /// Username, machine name or token name at the time.
    pub name: String,
}

/// One entry on its way into the log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The vault whose chain it joins.
    pub vault: String,
    /// Who acted.
    pub actor: AuditActor,
    /// What they did (`secret.reveal`, `member.suspend`, …).
    pub action: String,
    /// What they did it to: a secret's path, a member's username, a machine's name, …
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How much it matters.
    pub severity: Severity,
    /// Where the request came from.
    pub origin: Origin,
    /// What the entry adds in words (a refusal's reason, a brokered call).
    pub detail: String,
}

impl AuditEntry {
    /// The fields the chain MAC covers, in their fixed order.
    fn chained_fields<'a>(&'a self, at: &'a str) -> [&'a str; 13] {
        [
            &self.vault,
            at,
            self.actor.kind.as_str(),
            &self.actor.id,
            &self.actor.name,
            &self.action,
            &self.target,
            self.outcome.as_str(),
            self.severity.as_str(),
            &self.origin.ip,
            &self.origin.user_agent,
            &self.origin.request_id,
            &self.detail,
        ]
    }
}

/// Names an actor as they are called now (which the entry then keeps).
pub(crate) async fn actor_named(tx: &mut Tx, actor: &Actor) -> Result<AuditActor, Error> {
    let (sql, id) = match actor {
        Actor::Member(user) => (
            "SELECT username AS name FROM users WHERE id = $1",
            user.as_str(),
        ),
        Actor::Machine(machine) => ("SELECT name FROM machines WHERE id = $1", machine.as_str()),
        Actor::Token(token, _) => ("SELECT name FROM tokens WHERE id = $1", token.as_str()),
    };
    let row = tx
        .optional(q(sql).bind(id))
        .await?
        .ok_or_else(|| Error::internal("an audit entry names an actor that does not exist"))?;
    Ok(AuditActor {
        kind: kind_of(actor),
        id: id.to_owned(),
        name: row.text("name")?,
    })
}

/// The kind of actor an entry names for `actor`.
pub(crate) fn kind_of(actor: &Actor) -> ActorKind {
    match actor {
        Actor::Member(_) => ActorKind::Member,
        Actor::Machine(_) => ActorKind::Machine,
        Actor::Token(_, TokenKind::Agent) => ActorKind::Agent,
        Actor::Token(_, TokenKind::Ci) => ActorKind::Token,
    }
}

/// Queues an allowed action by a member, named as their username is now.
pub(crate) async fn record_member_action(
    tx: &mut Tx,
    origin: &Origin,
    vault: &str,
    actor: &UserId,
    action: &str,
    target: &str,
    severity: Severity,
) -> Result<(), Error> {
    let actor = actor_named(tx, &Actor::Member(actor.clone())).await?;
    tx.audit(AuditEntry {
        vault: vault.to_owned(),
        actor,
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: Outcome::Allowed,
        severity,
        origin: origin.clone(),
        detail: String::new(),
    });
    Ok(())
}

/// Queues an action taken by the operator or by the server itself.
pub(crate) fn record_system_action(
    tx: &mut Tx,
    vault: &str,
    actor_name: &str,
    action: &str,
    target: &str,
    severity: Severity,
) {
    tx.audit(AuditEntry {
        vault: vault.to_owned(),
        actor: AuditActor {
            kind: ActorKind::System,
            id: actor_name.to_owned(),
            name: actor_name.to_owned(),
        },
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: Outcome::Allowed,
        severity,
        origin: Origin::default(),
        detail: String::new(),
    });
}

/// Appends `entries` to their vaults' chains inside `tx`. Each vault's head is locked
/// (in vault order, so two transactions cannot deadlock on heads), extended and moved.
pub(crate) async fn append(
    tx: &mut Tx,
    entries: Vec<AuditEntry>,
    key: &ChainKey,
) -> Result<(), Error> {
    let mut by_vault: BTreeMap<String, Vec<AuditEntry>> = BTreeMap::new();
    for entry in entries {
        by_vault.entry(entry.vault.clone()).or_default().push(entry);
    }
    for (vault, entries) in by_vault {
        let (mut seq, mut mac) = lock_head(tx, &vault).await?;
        let at = now_ms();
        let at_text = at.to_string();
        for entry in &entries {
            seq += 1;
            let next = key.link(&mac, &entry.chained_fields(&at_text));
            insert(tx, entry, at, seq, &mac, &next).await?;
            mac = next;
        }
        move_head(tx, &vault, seq, mac).await?;
    }
    Ok(())
}

/// Locks a vault's chain head (creating it for a first entry) and reads it: appends to
/// one vault's chain go one after another, on every node.
pub(crate) async fn lock_head(tx: &mut Tx, vault: &str) -> Result<(i64, String), Error> {
    let head = tx
        .one(
            q(
                "INSERT INTO audit_heads (vault_id, seq, mac) VALUES ($1, 0, '') \
               ON CONFLICT (vault_id) DO UPDATE SET seq = audit_heads.seq \
               RETURNING seq, mac",
            )
            .bind(vault),
        )
        .await?;
    Ok((head.i64("seq")?, head.text("mac")?))
}

/// Moves a vault's chain head to its new last entry.
pub(crate) async fn move_head(
    tx: &mut Tx,
    vault: &str,
    seq: i64,
    mac: String,
) -> Result<(), Error> {
    tx.execute(
        q("UPDATE audit_heads SET seq = $1, mac = $2 WHERE vault_id = $3")
            .bind(seq)
            .bind(mac)
            .bind(vault),
    )
    .await?;
    Ok(())
}

async fn insert(
    tx: &mut Tx,
    entry: &AuditEntry,
    at: i64,
    seq: i64,
    prev_mac: &str,
    mac: &str,
) -> Result<(), Error> {
    tx.execute(
        q(
            "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, action, \
           target, outcome, severity, ip, user_agent, request_id, detail, seq, prev_mac, mac) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(entry.vault.clone())
        .bind(at)
        .bind(entry.actor.kind.as_str())
        .bind(entry.actor.id.clone())
        .bind(entry.actor.name.clone())
        .bind(entry.action.clone())
        .bind(entry.target.clone())
        .bind(entry.outcome.as_str())
        .bind(entry.severity.as_str())
        .bind(entry.origin.ip.clone())
        .bind(entry.origin.user_agent.clone())
        .bind(entry.origin.request_id.clone())
        .bind(entry.detail.clone())
        .bind(seq)
        .bind(prev_mac)
        .bind(mac),
    )
    .await?;
    Ok(())
}

impl crate::Store {
    /// Appends many entries in one transaction (imports, benchmarks); they are chained
    /// like any other.
    pub async fn record_audit_batch(&self, entries: Vec<AuditEntry>) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        for entry in entries {
            tx.audit(entry);
        }
        tx.commit().await
    }

    /// Records an entry the server made for a request (a read, a refusal), committed
    /// together with whatever else is waiting; returns once it is committed.
    pub async fn record_audit(&self, entry: AuditEntry) -> Result<(), Error> {
        self.journal.append(entry).await
    }
}
