//! Audit entries for the changes the store makes, written in the same transaction as the
//! change, so there is never a change without its entry (nor an entry without its change).
//! The audit issue adds the hash chain, reads, denials and streaming on top of this table.

use crate::db::{Tx, q};
use crate::model::Origin;
use crate::now_ms;
use strongroom_core::Error;
use strongroom_core::ids::UserId;

/// How much an entry matters to someone watching the log.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Severity {
    Info,
    Notice,
    Warning,
    Critical,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// Records an allowed action by a member, named as their username is now.
pub(crate) async fn record_member_action(
    tx: &mut Tx,
    origin: &Origin,
    vault: &str,
    actor: &UserId,
    action: &str,
    target: &str,
    severity: Severity,
) -> Result<(), Error> {
    let n = tx
        .execute(
            q(
                "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, action, \
               target, outcome, severity, ip, user_agent, request_id) \
               SELECT $1, $2, 'member', u.id, u.username, $3, $4, 'allowed', $5, $6, $7, $8 \
               FROM users u WHERE u.id = $9",
            )
            .bind(vault)
            .bind(now_ms())
            .bind(action)
            .bind(target)
            .bind(severity.as_str())
            .bind(origin.ip.clone())
            .bind(origin.user_agent.clone())
            .bind(origin.request_id.clone())
            .bind(actor.as_str()),
        )
        .await?;
    if n == 1 {
        Ok(())
    } else {
        Err(Error::internal(
            "audit entry names an account that does not exist",
        ))
    }
}

/// Records an action taken by the operator or by the server itself.
pub(crate) async fn record_system_action(
    tx: &mut Tx,
    vault: &str,
    actor_name: &str,
    action: &str,
    target: &str,
    severity: Severity,
) -> Result<(), Error> {
    tx.execute(
        q(
            "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, action, \
           target, outcome, severity, ip, user_agent, request_id) \
           VALUES ($1, $2, 'system', $3, $3, $4, $5, 'allowed', $6, '', '', '')",
        )
        .bind(vault)
        .bind(now_ms())
        .bind(actor_name)
        .bind(action)
        .bind(target)
        .bind(severity.as_str()),
    )
    .await?;
    Ok(())
}

impl crate::Store {
    /// Records a machine's or token's refused request (an access policy said no), naming
    /// the condition that failed in the entry's detail.
    pub async fn record_runtime_refusal(
        &self,
        vault: &strongroom_core::ids::VaultId,
        actor: &strongroom_core::authz::Actor,
        action: &str,
        target: &str,
        detail: &str,
        origin: &Origin,
    ) -> Result<(), Error> {
        use strongroom_core::authz::Actor;
        let (sql, id) = match actor {
            Actor::Machine(id) => (
                "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, \
                 action, target, outcome, severity, ip, user_agent, request_id, detail) \
                 SELECT $1, $2, 'machine', m.id, m.name, $3, $4, 'denied', 'warning', $5, $6, \
                 $7, $8 FROM machines m WHERE m.id = $9",
                id.as_str(),
            ),
            Actor::Token(id, _) => (
                "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, \
                 action, target, outcome, severity, ip, user_agent, request_id, detail) \
                 SELECT $1, $2, CASE t.kind WHEN 'agent' THEN 'agent' ELSE 'token' END, t.id, \
                 t.name, $3, $4, 'denied', 'warning', $5, $6, $7, $8 FROM tokens t \
                 WHERE t.id = $9",
                id.as_str(),
            ),
            Actor::Member(_) => {
                return Err(Error::internal("members' refusals are not recorded here"));
            }
        };
        let mut tx = self.db.begin().await?;
        tx.execute(
            q(sql)
                .bind(vault.as_str())
                .bind(now_ms())
                .bind(action.to_owned())
                .bind(target.to_owned())
                .bind(origin.ip.clone())
                .bind(origin.user_agent.clone())
                .bind(origin.request_id.clone())
                .bind(detail.to_owned())
                .bind(id.to_owned()),
        )
        .await?;
        tx.commit().await
    }
}
