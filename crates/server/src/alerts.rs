//! Alerts: the matcher reads the audit log as it grows (like a mirror, from its own
//! cursor) and queues a delivery for every entry a rule picks out; the sender delivers
//! queued alerts to webhooks (signed) and mail, retrying with backoff. Both run apart
//! from requests, one node at a time.
//!
//! A webhook POST carries `X-Strongroom-Delivery: dlv_…` (the same on every retry, for
//! de-duplication) and `X-Strongroom-Signature: t=UNIX,v1=HEX`, the HMAC-SHA256 of
//! `"{t}.{body}"` under the rule's signing secret. Webhooks go only to public addresses
//! unless the operator allows private ones.

use crate::mail::{Mail, Mailer};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;
use strongroom_core::alert::AlertSubject;
use strongroom_core::{Error, ErrorCode};
use strongroom_store::{
    AlertChannel, AlertRuleRecord, DeliveryAttempt, QueuedAlert, Store, TailedEntry,
};
use tokio::task::JoinHandle;

/// The matcher's cursor, and the sender's lease.
const MATCHER: &str = "alerts";
const SENDER: &str = "alert-deliveries";
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a webhook has to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between attempts.
const MAX_RETRY_MS: i64 = 3_600_000;
const LEASE_MS: i64 = 30_000;
const IDLE: Duration = Duration::from_millis(200);

/// What a delivery needs besides the store.
#[derive(Clone)]
pub struct Outlets {
    /// For email alerts.
    pub mailer: Mailer,
    /// Whether webhooks may reach private addresses.
    pub allow_private: bool,
}

/// One alert on its way out.
pub struct Outgoing<'a> {
    /// `dlv_…`.
    pub id: &'a str,
    /// The rule it is for.
    pub rule: &'a AlertRuleRecord,
    /// The webhook's signing secret.
    pub secret: Option<&'a str>,
    /// The JSON body.
    pub payload: &'a str,
}

/// `t=…,v1=…`: the signature header for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The body sent for `entry` matching rule `rule`.
pub fn payload(rule: &str, entry: &TailedEntry) -> String {
    let e = &entry.event;
    serde_json::json!({
        "alert": rule,
        "vault_id": entry.vault,
        "entry": {
            "seq": e.seq,
            "at": crate::convert::ts(e.at),
            "actor_kind": e.actor_kind,
            "actor_id": e.actor_id,
            "actor_name": e.actor_name,
            "action": e.action,
            "target": e.target,
            "outcome": e.outcome,
            "severity": e.severity,
            "ip": e.ip,
            "user_agent": e.user_agent,
            "request_id": e.request_id,
            "detail": e.detail,
            "mac": entry.mac,
        }
    })
    .to_string()
}

/// A webhook URL that passed [`check_webhook`], with its host and the address to call.
pub struct CheckedWebhook {
    pub url: reqwest::Url,
    pub host: String,
    pub address: std::net::SocketAddr,
}

/// Checks a webhook URL: http(s), a host, and (unless the operator allows private
/// addresses) https to a host that resolves only to public addresses; resolved now, so
/// a delivery calls the very address checked.
pub async fn check_webhook(url: &str, allow_private: bool) -> Result<CheckedWebhook, Error> {
    let invalid = |why: &str| Error::new(ErrorCode::InvalidValue, format!("webhook {why}"));
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("must be an https:// URL"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => {
            return Err(invalid(
                "must be https:// (plain http only where the operator allows private \
                 addresses)",
            ));
        }
        _ => return Err(invalid("must be an https:// URL")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("must not carry a user name or password"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid("must name a host"))?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let address =
        crate::outbound::resolve_checked(&host, port, allow_private, "an alert webhook").await?;
    Ok(CheckedWebhook {
        url: parsed,
        host,
        address,
    })
}

/// Makes one attempt; the error says why it failed (never the body or the secret).
pub async fn deliver(outlets: &Outlets, alert: &Outgoing<'_>) -> Result<(), String> {
    match alert.rule.channel {
        AlertChannel::Webhook => deliver_webhook(outlets, alert).await,
        AlertChannel::Email => deliver_mail(&outlets.mailer, alert).await,
    }
}

async fn deliver_webhook(outlets: &Outlets, alert: &Outgoing<'_>) -> Result<(), String> {
    let CheckedWebhook { url, host, address } =
        check_webhook(&alert.rule.destination, outlets.allow_private)
            .await
            .map_err(|e| e.message().to_owned())?;
    let client = crate::outbound::pinned_client(&host, address, WEBHOOK_TIMEOUT)
        .map_err(|e| e.message().to_owned())?;
    let now = u64::try_from(strongroom_store::now_ms() / 1000).unwrap_or_default();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Strongroom-Alerts")
        .header("x-strongroom-delivery", alert.id)
        .body(alert.payload.to_owned());
    if let Some(secret) = alert.secret {
        request = request.header(
            "x-strongroom-signature",
            signature(secret, now, alert.payload),
        );
    }
    let response = request
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", response.status()))
    }
}

async fn deliver_mail(mailer: &Mailer, alert: &Outgoing<'_>) -> Result<(), String> {
    let body: serde_json::Value =
        serde_json::from_str(alert.payload).map_err(|e| format!("alert payload: {e}"))?;
    let entry = &body["entry"];
    let text = |key: &str| entry[key].as_str().unwrap_or_default().to_owned();
    let subject = format!(
        "[Strongroom] {}: {} {} ({})",
        alert.rule.name,
        text("action"),
        text("target"),
        text("outcome")
    );
    let mut lines = vec![
        format!("Alert '{}' matched an audit entry.", alert.rule.name),
        String::new(),
    ];
    for key in [
        "at",
        "action",
        "target",
        "outcome",
        "severity",
        "actor_kind",
        "actor_name",
        "ip",
        "user_agent",
        "request_id",
        "detail",
    ] {
        let value = text(key);
        if !value.is_empty() {
            lines.push(format!("{key}: {value}"));
        }
    }
    lines.push(format!(
        "entry: #{} in vault {}",
        entry["seq"],
        body["vault_id"].as_str().unwrap_or_default()
    ));
    lines.push(format!("delivery: {}", alert.id));
    mailer
        .send(Mail {
            to: alert.rule.destination.clone(),
            subject,
            body: lines.join("\n"),
        })
        .await
}

/// The wait before the next attempt after `attempts` failures.
fn retry_after_ms(base_ms: i64, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    base_ms.saturating_mul(1_i64 << doublings).min(MAX_RETRY_MS)
}

/// Starts the matcher and the sender, holding their leases as `holder`.
pub fn start(
    store: &Store,
    outlets: Outlets,
    retry_base_ms: i64,
    holder: &str,
) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(match_entries(store.clone(), holder.to_owned())),
        tokio::spawn(send_alerts(
            store.clone(),
            outlets,
            holder.to_owned(),
            retry_base_ms,
        )),
    ]
}

async fn match_entries(store: Store, holder: String) {
    loop {
        match match_once(&store, &holder).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(IDLE).await,
            Err(e) => {
                tracing::warn!(error = %e, "matching audit entries against alert rules failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Matches one batch; whether there was one.
async fn match_once(store: &Store, holder: &str) -> Result<bool, Error> {
    if !store.hold_audit_sink(MATCHER, holder, LEASE_MS).await? {
        tokio::time::sleep(Duration::from_secs(5)).await;
        return Ok(false);
    }
    let batch = store.audit_backlog(MATCHER, 500).await?;
    if batch.is_empty() {
        return Ok(false);
    }
    let mut read_up_to: BTreeMap<&str, i64> = BTreeMap::new();
    for entry in &batch {
        read_up_to.insert(&entry.vault, entry.event.seq);
    }
    let vaults: Vec<&str> = read_up_to.keys().copied().collect();
    let rules = store.alert_rules_watching(&vaults).await?;
    let mut alerts = Vec::new();
    for entry in &batch {
        let e = &entry.event;
        let (Ok(severity), Ok(outcome), Ok(actor_kind)) =
            (e.severity.parse(), e.outcome.parse(), e.actor_kind.parse())
        else {
            continue;
        };
        let subject = AlertSubject {
            action: &e.action,
            severity,
            outcome,
            target: &e.target,
            actor_kind,
        };
        for rule in rules.iter().filter(|r| r.vault == entry.vault) {
            if rule.filter.matches(&subject) {
                alerts.push(QueuedAlert {
                    rule: rule.id.clone(),
                    payload: payload(&rule.name, entry),
                });
            }
        }
    }
    let read: Vec<(&str, i64)> = read_up_to.into_iter().collect();
    store.queue_alerts(MATCHER, &read, &alerts).await?;
    Ok(true)
}

async fn send_alerts(store: Store, outlets: Outlets, holder: String, retry_base_ms: i64) {
    loop {
        match send_once(&store, &outlets, &holder, retry_base_ms).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(IDLE).await,
            Err(e) => {
                tracing::warn!(error = %e, "sending alerts failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Sends what is due, all at once; whether anything was.
async fn send_once(
    store: &Store,
    outlets: &Outlets,
    holder: &str,
    retry_base_ms: i64,
) -> Result<bool, Error> {
    if !store.hold_audit_sink(SENDER, holder, LEASE_MS).await? {
        tokio::time::sleep(Duration::from_secs(5)).await;
        return Ok(false);
    }
    let due = store.due_alert_deliveries(32).await?;
    if due.is_empty() {
        return Ok(false);
    }
    let mut sending = tokio::task::JoinSet::new();
    for delivery in due {
        let (store, outlets) = (store.clone(), outlets.clone());
        sending.spawn(async move {
            let outgoing = Outgoing {
                id: delivery.id.as_str(),
                rule: &delivery.rule,
                secret: delivery.webhook_secret.as_deref().map(String::as_str),
                payload: &delivery.payload,
            };
            let attempt = match deliver(&outlets, &outgoing).await {
                Ok(()) => DeliveryAttempt::Delivered,
                Err(error) if delivery.attempts + 1 >= MAX_ATTEMPTS => {
                    tracing::warn!(alert = %delivery.rule.name, %error, "alert given up");
                    DeliveryAttempt::GiveUp { error }
                }
                Err(error) => DeliveryAttempt::Retry {
                    at: strongroom_store::now_ms()
                        + retry_after_ms(retry_base_ms, delivery.attempts),
                    error,
                },
            };
            store.finish_alert_delivery(&delivery.id, attempt).await
        });
    }
    while let Some(finished) = sending.join_next().await {
        match finished {
            Ok(recorded) => recorded?,
            Err(e) => return Err(Error::internal(format!("an alert delivery panicked: {e}"))),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_time_and_the_body() {
        let a = signature("whsec_k", 1_700_000_000, "{\"a\":1}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_ne!(a, signature("whsec_k", 1_700_000_001, "{\"a\":1}"));
        assert_ne!(a, signature("whsec_k", 1_700_000_000, "{\"a\":2}"));
        assert_ne!(a, signature("whsec_other", 1_700_000_000, "{\"a\":1}"));
    }

    #[test]
    fn retries_back_off_doubling_up_to_an_hour() {
        assert_eq!(retry_after_ms(5_000, 0), 5_000);
        assert_eq!(retry_after_ms(5_000, 1), 10_000);
        assert_eq!(retry_after_ms(5_000, 3), 40_000);
        assert_eq!(retry_after_ms(5_000, 30), MAX_RETRY_MS);
    }
}
