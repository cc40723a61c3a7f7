//! Alert rules and their deliveries. Rules are written, listed and deleted by members
//! with the Alerts cell, audited. The matcher (in the server) reads the audit log as it
//! grows and, in one transaction, queues a delivery for every match and moves its cursor,
//! so a match is queued exactly once. Deliveries stay queued until they are delivered or
//! given up, so none is lost to a restart; a webhook's signing secret is kept sealed
//! under the accounts key.

use crate::audit::{Severity, record_member_action};
use crate::db::{Row, q, q_built};
use crate::model::Origin;
use crate::{Store, now_ms};
use strongroom_core::alert::AlertFilter;
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::{AlertDeliveryId, AlertRuleId};
use strongroom_core::names::AlertName;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::Aad;
use strongroom_crypto::random::new_id;
use zeroize::Zeroizing;

/// Most rules in one vault (each is checked against every entry).
const MAX_RULES_PER_VAULT: i64 = 50;

/// Where a rule's alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertChannel {
    /// POSTed, signed, to a URL.
    Webhook,
    /// Mailed to an address.
    Email,
}

impl AlertChannel {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
        }
    }

    fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "webhook" => Ok(Self::Webhook),
            "email" => Ok(Self::Email),
            other => Err(Error::internal(format!("stored alert channel {other:?}"))),
        }
    }
}

/// A rule as stored.
#[derive(Debug, Clone)]
pub struct AlertRuleRecord {
    /// `alert_…`.
    pub id: AlertRuleId,
    /// The vault whose entries it watches.
    pub vault: String,
    /// Its name.
    pub name: String,
    /// Webhook or email.
    pub channel: AlertChannel,
    /// The URL or the address.
    pub destination: String,
    /// Which entries it picks out.
    pub filter: AlertFilter,
    /// Who wrote it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// A rule to write.
#[derive(Debug)]
pub struct NewAlertRule {
    /// Its name.
    pub name: AlertName,
    /// Webhook or email.
    pub channel: AlertChannel,
    /// The URL or the address (already checked by the caller).
    pub destination: String,
    /// Which entries it picks out.
    pub filter: AlertFilter,
    /// The webhook's signing secret.
    pub webhook_secret: Option<Zeroizing<String>>,
}

/// A delivery that is due, with what it takes to make it.
#[derive(Debug)]
pub struct DueDelivery {
    /// `dlv_…`: the receiver's key for dropping repeats.
    pub id: AlertDeliveryId,
    /// The rule it is for.
    pub rule: AlertRuleRecord,
    /// The webhook's signing secret.
    pub webhook_secret: Option<Zeroizing<String>>,
    /// What to send (JSON).
    pub payload: String,
    /// Attempts made so far.
    pub attempts: i64,
}

/// A match to queue.
#[derive(Debug, Clone)]
pub struct QueuedAlert {
    /// The rule that matched.
    pub rule: AlertRuleId,
    /// What to send (JSON).
    pub payload: String,
}

/// How an attempt went.
#[derive(Debug, Clone)]
pub enum DeliveryAttempt {
    /// Delivered.
    Delivered,
    /// Failed; try again at this time.
    Retry {
        /// When.
        at: i64,
        /// What went wrong (never the payload).
        error: String,
    },
    /// Failed for the last time.
    GiveUp {
        /// What went wrong.
        error: String,
    },
}

macro_rules! rule_select {
    ($filter:literal) => {
        concat!(
            "SELECT r.id, r.vault_id, r.name, r.channel, r.destination, r.actions, \
             r.min_severity, r.outcome, r.target_prefix, r.actor_kind, r.created_at, \
             r.sealed_secret, u.username AS created_by FROM alert_rules r \
             JOIN users u ON u.id = r.created_by ",
            $filter
        )
    };
}

fn rule_from_row(row: &Row) -> Result<AlertRuleRecord, Error> {
    let actions: Vec<String> = serde_json::from_str(&row.text("actions")?)
        .map_err(|e| Error::internal(format!("stored alert actions: {e}")))?;
    Ok(AlertRuleRecord {
        id: AlertRuleId::from_trusted(row.text("id")?),
        vault: row.text("vault_id")?,
        name: row.text("name")?,
        channel: AlertChannel::parse(&row.text("channel")?)?,
        destination: row.text("destination")?,
        filter: AlertFilter {
            actions,
            min_severity: row
                .opt_text("min_severity")?
                .map(|s| s.parse())
                .transpose()?,
            outcome: row.opt_text("outcome")?.map(|s| s.parse()).transpose()?,
            target_prefix: row.opt_text("target_prefix")?,
            actor_kind: row.opt_text("actor_kind")?.map(|s| s.parse()).transpose()?,
        },
        created_by: row.text("created_by")?,
        created_at: row.i64("created_at")?,
    })
}

fn secret_aad(rule: &AlertRuleId) -> Aad {
    Aad::new("alert webhook secret").field(rule.as_str())
}

fn missing(name: &str) -> Error {
    Error::not_found(&format!("alert '{name}'"))
}

impl Store {
    /// Writes a rule.
    pub async fn create_alert_rule(
        &self,
        authz: &Authorized,
        new: NewAlertRule,
        origin: &Origin,
    ) -> Result<AlertRuleRecord, Error> {
        authz.require(Action::ManageAlerts)?;
        new.filter.validate()?;
        let vault = authz.vault()?.as_str();
        let id = new_id(AlertRuleId::from_random)?;
        let sealed = new
            .webhook_secret
            .as_ref()
            .map(|secret| {
                self.accounts_key()?
                    .seal(&secret_aad(&id), secret.as_bytes())
            })
            .transpose()?;
        let actions = serde_json::to_string(&new.filter.actions)
            .map_err(|e| Error::internal(format!("alert actions: {e}")))?;
        let mut tx = self.db.begin().await?;
        let rules = tx
            .one(q("SELECT COUNT(*) AS n FROM alert_rules WHERE vault_id = $1").bind(vault))
            .await?
            .i64("n")?;
        if rules >= MAX_RULES_PER_VAULT {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("a vault may hold at most {MAX_RULES_PER_VAULT} alert rules; merge some"),
            ));
        }
        let now = now_ms();
        tx.execute(
            q(
                "INSERT INTO alert_rules (id, vault_id, name, channel, destination, sealed_secret, \
               actions, min_severity, outcome, target_prefix, actor_kind, created_by, \
               created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(id.as_str())
            .bind(vault)
            .bind(new.name.as_str())
            .bind(new.channel.as_str())
            .bind(new.destination.clone())
            .bind(sealed)
            .bind(actions)
            .bind(new.filter.min_severity.map(|s| s.as_str().to_owned()))
            .bind(new.filter.outcome.map(|o| o.as_str().to_owned()))
            .bind(new.filter.target_prefix.clone())
            .bind(new.filter.actor_kind.map(|k| k.as_str().to_owned()))
            .bind(authz.actor()?.as_str())
            .bind(now),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                format!("alert '{}' already exists", new.name),
            ),
            _ => e,
        })?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "alert.create",
            new.name.as_str(),
            Severity::Notice,
        )
        .await?;
        tx.commit().await?;
        self.alert_rule(authz, new.name.as_str()).await
    }

    /// The vault's rules, by name.
    pub async fn alert_rules(&self, authz: &Authorized) -> Result<Vec<AlertRuleRecord>, Error> {
        authz.require(Action::ManageAlerts)?;
        let rows = self
            .db
            .all(
                q(rule_select!("WHERE r.vault_id = $1 ORDER BY r.name"))
                    .bind(authz.vault()?.as_str()),
            )
            .await?;
        rows.iter().map(rule_from_row).collect()
    }

    async fn rule_row(&self, authz: &Authorized, name: &str) -> Result<Row, Error> {
        authz.require(Action::ManageAlerts)?;
        self.db
            .optional(
                q(rule_select!("WHERE r.vault_id = $1 AND r.name = $2"))
                    .bind(authz.vault()?.as_str())
                    .bind(name),
            )
            .await?
            .ok_or_else(|| missing(name))
    }

    /// One rule, by name.
    pub async fn alert_rule(
        &self,
        authz: &Authorized,
        name: &str,
    ) -> Result<AlertRuleRecord, Error> {
        rule_from_row(&self.rule_row(authz, name).await?)
    }

    /// One rule with its webhook secret, to send a test delivery.
    pub async fn alert_rule_for_test(
        &self,
        authz: &Authorized,
        name: &str,
    ) -> Result<(AlertRuleRecord, Option<Zeroizing<String>>), Error> {
        let row = self.rule_row(authz, name).await?;
        let rule = rule_from_row(&row)?;
        let secret = self.open_webhook_secret(&rule.id, row.opt_bytes("sealed_secret")?)?;
        Ok((rule, secret))
    }

    /// Deletes a rule, and any of its deliveries still queued.
    pub async fn delete_alert_rule(
        &self,
        authz: &Authorized,
        name: &str,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageAlerts)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("DELETE FROM alert_rules WHERE vault_id = $1 AND name = $2")
                    .bind(vault)
                    .bind(name),
            )
            .await?;
        if n == 0 {
            return Err(missing(name));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "alert.delete",
            name,
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// Every rule watching one of `vaults` (for the matcher).
    pub async fn alert_rules_watching(
        &self,
        vaults: &[&str],
    ) -> Result<Vec<AlertRuleRecord>, Error> {
        // A few dozen vaults to a query, so the statement texts stay few.
        const VAULTS_PER_QUERY: usize = 32;
        let mut rules = Vec::new();
        for chunk in vaults.chunks(VAULTS_PER_QUERY) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let mut statement = q_built(format!(
                "{}WHERE r.vault_id IN ({})",
                rule_select!(""),
                marks.join(", ")
            ));
            for vault in chunk {
                statement = statement.bind(*vault);
            }
            for row in &self.db.all(statement).await? {
                rules.push(rule_from_row(row)?);
            }
        }
        Ok(rules)
    }

    /// Queues `alerts` and moves the matcher's cursor past the entries they came from,
    /// in one transaction: each match is queued once, whatever fails.
    pub async fn queue_alerts(
        &self,
        sink: &str,
        read_up_to: &[(&str, i64)],
        alerts: &[QueuedAlert],
    ) -> Result<(), Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        for alert in alerts {
            let id = new_id(AlertDeliveryId::from_random)?;
            tx.execute(
                q(
                    "INSERT INTO alert_deliveries (id, rule_id, payload, attempts, \
                   next_attempt_at, delivered_at, last_error, created_at) \
                   VALUES ($1, $2, $3, 0, $4, NULL, '', $4)",
                )
                .bind(id.as_str())
                .bind(alert.rule.as_str())
                .bind(alert.payload.clone())
                .bind(now),
            )
            .await?;
        }
        for (vault, seq) in read_up_to {
            crate::audit_tail::advance_cursor(&mut tx, sink, vault, *seq).await?;
        }
        tx.commit().await
    }

    /// Deliveries whose time has come, oldest first.
    pub async fn due_alert_deliveries(&self, limit: u32) -> Result<Vec<DueDelivery>, Error> {
        let rows = self
            .db
            .all(
                q(
                    "SELECT r.id, r.vault_id, r.name, r.channel, r.destination, r.actions, \
                   r.min_severity, r.outcome, r.target_prefix, r.actor_kind, r.created_at, \
                   r.sealed_secret, u.username AS created_by, d.id AS delivery_id, d.payload, \
                   d.attempts FROM alert_deliveries d JOIN alert_rules r ON r.id = d.rule_id \
                   JOIN users u ON u.id = r.created_by \
                   WHERE d.delivered_at IS NULL AND d.next_attempt_at <= $1 \
                   ORDER BY d.next_attempt_at, d.created_at LIMIT $2",
                )
                .bind(now_ms())
                .bind(i64::from(limit)),
            )
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            let rule = rule_from_row(row)?;
            let webhook_secret =
                self.open_webhook_secret(&rule.id, row.opt_bytes("sealed_secret")?)?;
            due.push(DueDelivery {
                id: AlertDeliveryId::from_trusted(row.text("delivery_id")?),
                rule,
                webhook_secret,
                payload: row.text("payload")?,
                attempts: row.i64("attempts")?,
            });
        }
        Ok(due)
    }

    /// Records how an attempt went.
    pub async fn finish_alert_delivery(
        &self,
        id: &AlertDeliveryId,
        attempt: DeliveryAttempt,
    ) -> Result<(), Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let statement = match &attempt {
            DeliveryAttempt::Delivered => q(
                "UPDATE alert_deliveries SET delivered_at = $1, attempts = attempts + 1, \
                 last_error = '' WHERE id = $2",
            )
            .bind(now)
            .bind(id.as_str()),
            DeliveryAttempt::Retry { at, error } => q(
                "UPDATE alert_deliveries SET next_attempt_at = $1, attempts = attempts + 1, \
                 last_error = $2 WHERE id = $3",
            )
            .bind(*at)
            .bind(error.clone())
            .bind(id.as_str()),
            // Given up: kept (with the reason) for the operator, never tried again.
            DeliveryAttempt::GiveUp { error } => q(
                "UPDATE alert_deliveries SET delivered_at = -1, attempts = attempts + 1, \
                 last_error = $1 WHERE id = $2",
            )
            .bind(error.clone())
            .bind(id.as_str()),
        };
        tx.execute(statement).await?;
        tx.commit().await
    }

    fn open_webhook_secret(
        &self,
        rule: &AlertRuleId,
        sealed: Option<Vec<u8>>,
    ) -> Result<Option<Zeroizing<String>>, Error> {
        sealed
            .map(|sealed| {
                let plain = self.accounts_key()?.open(&secret_aad(rule), &sealed)?;
                String::from_utf8(plain.to_vec())
                    .map(Zeroizing::new)
                    .map_err(|_| Error::internal("a webhook secret is not text"))
            })
            .transpose()
    }
}
