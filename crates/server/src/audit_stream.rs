//! Mirroring the audit log to the operator's sinks: a JSON-lines file and/or an HTTP
//! endpoint (a SIEM). Each sink is fed by its own task, apart from requests, from the
//! database in each vault's chain order; a batch that cannot be written is tried again,
//! with backoff, until it is, and the sink's cursor moves only past what was delivered.
//! So an entry reaches a sink at least once and in order; `vault_id` and `seq` identify
//! it for de-duplication, and `prev_mac`/`mac` let the receiver check the chain itself.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use strongroom_store::{Store, TailedEntry};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

/// Entries read and delivered together.
const BATCH: u32 = 500;
/// How long a node holds a sink before it must renew.
const LEASE_MS: i64 = 30_000;
/// Waits between polls of an idle log, and the longest backoff after a failure.
const IDLE: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Where entries are mirrored.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Appended to a file, one JSON object per line.
    File(PathBuf),
    /// POSTed as JSON lines (`application/x-ndjson`).
    Http(reqwest::Url),
}

impl Sink {
    /// A stable name for the sink's cursors: its kind and a digest of where it points
    /// (the URL may carry a credential, so it is not stored as is).
    fn name(&self) -> String {
        let (kind, place) = match self {
            Self::File(path) => ("file", path.display().to_string()),
            Self::Http(url) => ("http", url.to_string()),
        };
        let digest = Sha256::digest(place.as_bytes());
        format!("{kind}:{}", hex::encode(&digest[..8]))
    }

    fn describe(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Http(url) => crate::outbound::shown_url(url),
        }
    }
}

/// One line of the mirror.
#[derive(Serialize)]
struct Line<'a> {
    vault_id: &'a str,
    seq: i64,
    at: String,
    actor_kind: &'a str,
    actor_id: &'a str,
    actor_name: &'a str,
    action: &'a str,
    target: &'a str,
    outcome: &'a str,
    severity: &'a str,
    ip: &'a str,
    user_agent: &'a str,
    request_id: &'a str,
    detail: &'a str,
    prev_mac: &'a str,
    mac: &'a str,
}

/// The JSON-lines body for a batch.
pub fn json_lines(entries: &[TailedEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        let e = &entry.event;
        let line = Line {
            vault_id: &entry.vault,
            seq: e.seq,
            at: crate::convert::ts(e.at),
            actor_kind: &e.actor_kind,
            actor_id: &e.actor_id,
            actor_name: &e.actor_name,
            action: &e.action,
            target: &e.target,
            outcome: &e.outcome,
            severity: &e.severity,
            ip: &e.ip,
            user_agent: &e.user_agent,
            request_id: &e.request_id,
            detail: &e.detail,
            prev_mac: &entry.prev_mac,
            mac: &entry.mac,
        };
        if let Ok(text) = serde_json::to_string(&line) {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// Starts one task per sink, holding their leases as `holder`.
pub fn start(store: &Store, sinks: Vec<Sink>, holder: &str) -> Vec<JoinHandle<()>> {
    sinks
        .into_iter()
        .map(|sink| {
            tracing::info!(sink = %sink.describe(), "mirroring the audit log");
            tokio::spawn(feed(store.clone(), sink, holder.to_owned()))
        })
        .collect()
}

async fn feed(store: Store, sink: Sink, holder: String) {
    let name = sink.name();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut backoff = Duration::from_secs(1);
    loop {
        match store.hold_audit_sink(&name, &holder, LEASE_MS).await {
            Ok(true) => {}
            Ok(false) => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the audit sink's lease");
                tokio::time::sleep(backoff).await;
                continue;
            }
        }
        let batch = match store.audit_backlog(&name, BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the audit log for its mirror");
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::time::sleep(IDLE).await;
            continue;
        }
        match deliver(&http, &sink, &batch).await {
            Ok(()) => {
                backoff = Duration::from_secs(1);
                if let Err(e) = advance(&store, &name, &batch).await {
                    tracing::warn!(error = %e, "cannot record the audit mirror's progress");
                }
            }
            Err(reason) => {
                tracing::warn!(sink = %sink.describe(), %reason, retry_in = ?backoff,
                    "audit mirror delivery failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn deliver(http: &reqwest::Client, sink: &Sink, batch: &[TailedEntry]) -> Result<(), String> {
    let body = json_lines(batch);
    match sink {
        Sink::File(path) => {
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .map_err(|e| e.to_string())?;
            file.write_all(body.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            file.sync_data().await.map_err(|e| e.to_string())
        }
        Sink::Http(url) => {
            let response = http
                .post(url.clone())
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .map_err(|e| e.without_url().to_string())?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("the endpoint answered {}", response.status()))
            }
        }
    }
}

/// Moves the sink's cursor in each vault of the batch past its last entry there.
async fn advance(
    store: &Store,
    name: &str,
    batch: &[TailedEntry],
) -> Result<(), strongroom_core::Error> {
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for entry in batch {
        last.insert(&entry.vault, entry.event.seq);
    }
    for (vault, seq) in last {
        store.advance_audit_sink(name, vault, seq).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sink_is_named_without_the_credential_its_url_may_carry() {
        let url = reqwest::Url::parse("https://siem.example.com/in?token=hunter2").ok();
        let sink = Sink::Http(url.unwrap_or_else(|| unreachable!()));
        assert!(!sink.name().contains("hunter2"));
        assert!(!sink.describe().contains("hunter2"));
        assert!(sink.name().starts_with("http:"));
    }
}
