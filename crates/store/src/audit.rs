//! Appending to the audit log. A change queues its entry on the transaction that makes
//! it ([`Tx::audit`]); the entries are chained and written when that transaction commits,
//! so there is never a change without its entry, nor an entry without its change. Reads
//! and refusals go through the journal, which commits many entries at once.

use crate::db::{Tx, q, q_built};
use crate::model::Origin;
use crate::now_ms;
use std::collections::BTreeMap;
use strongroom_core::Error;
use strongroom_core::audit::{ActorKind, Outcome};
use strongroom_core::authz::Actor;
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
        Actor::Token(_, kind) => ActorKind::from(*kind),
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
        let head = lock_head(tx, &vault).await?;
        // Never earlier than the entry before, so time follows the chain's order (and a
        // time bound is an entry-number bound; see audit_query).
        let at = now_ms().max(head.at);
        let at_text = at.to_string();
        let (mut seq, mut mac) = (head.seq, head.mac);
        let mut links = Vec::with_capacity(entries.len());
        for entry in &entries {
            seq += 1;
            let next = key.link(&mac, &entry.chained_fields(&at_text));
            links.push((seq, std::mem::replace(&mut mac, next.clone()), next));
        }
        let rows: Vec<_> = entries.iter().zip(links).collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            insert(tx, chunk, at).await?;
        }
        move_head(tx, &vault, Head { seq, mac, at }).await?;
    }
    Ok(())
}

/// A vault's last entry: its number, MAC and time.
pub(crate) struct Head {
    pub seq: i64,
    pub mac: String,
    pub at: i64,
}

/// Locks a vault's chain head (creating it for a first entry) and reads it: appends to
/// one vault's chain go one after another, on every node.
pub(crate) async fn lock_head(tx: &mut Tx, vault: &str) -> Result<Head, Error> {
    let head = tx
        .one(
            q(
                "INSERT INTO audit_heads (vault_id, seq, mac, at) VALUES ($1, 0, '', 0) \
               ON CONFLICT (vault_id) DO UPDATE SET seq = audit_heads.seq \
               RETURNING seq, mac, at",
            )
            .bind(vault),
        )
        .await?;
    Ok(Head {
        seq: head.i64("seq")?,
        mac: head.text("mac")?,
        at: head.i64("at")?,
    })
}

/// Moves a vault's chain head to its new last entry.
pub(crate) async fn move_head(tx: &mut Tx, vault: &str, head: Head) -> Result<(), Error> {
    tx.execute(
        q("UPDATE audit_heads SET seq = $1, mac = $2, at = $3 WHERE vault_id = $4")
            .bind(head.seq)
            .bind(head.mac)
            .bind(head.at)
            .bind(vault),
    )
    .await?;
    Ok(())
}

/// Entries written by one statement (16 values each). More rows save statements, but
/// sqlx finds each bound value's place by scanning the statement's parameters, so the
/// cost per row grows with the statement's size; eight did better than one or 64.
const ROWS_PER_INSERT: usize = 8;

/// Writes chained entries, many to a statement.
async fn insert(
    tx: &mut Tx,
    rows: &[(&AuditEntry, (i64, String, String))],
    at: i64,
) -> Result<(), Error> {
    let values: Vec<String> = (0..rows.len())
        .map(|row| {
            let marks: Vec<String> = (1..=16).map(|col| format!("${}", row * 16 + col)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let mut statement = q_built(format!(
        "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, action, \
         target, outcome, severity, ip, user_agent, request_id, detail, seq, prev_mac, mac) \
         VALUES {}",
        values.join(", ")
    ));
    for (entry, (seq, prev_mac, mac)) in rows {
        statement = statement
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
            .bind(*seq)
            .bind(prev_mac.clone())
            .bind(mac.clone());
    }
    tx.execute(statement).await?;
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
