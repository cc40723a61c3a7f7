//! `strongroom-loadtest --audit ENTRIES`: how fast the audit log takes entries, and how
//! fast it answers queries once a vault holds ENTRIES of them.
//!
//! 1. Appends through the journal (the path every audited read takes: many requests'
//!    entries chained and committed together) from `--concurrency` tasks for
//!    `--duration` seconds, and reports entries per second.
//! 2. Fills the vault up to ENTRIES entries (in large transactions, chained as usual)
//!    with a realistic mix of actors, actions, targets and outcomes.
//! 3. Times each kind of query over HTTP, as `strongroom audit list` sends it, and the
//!    walk of the whole chain (`strongroom audit verify`).

use anyhow::{Context, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use strongroom_client::{AuditFilter, Client};
use strongroom_core::audit::{ActorKind, Outcome, Severity};
use strongroom_proto::{Sensitive, SignupRequest};
use strongroom_store::{AuditActor, AuditEntry, Origin, Store};

const ACTIONS: &[&str] = &[
    "secret.reveal",
    "secret.read",
    "secret.list",
    "secret.write",
    "session.sign_in",
    "member.list",
    "machine.list",
    "secret.use",
    "token.create",
    "policy.create",
];

/// The `i`th synthetic entry: mostly reads by a few dozen actors, some refusals.
fn entry(vault: &str, i: usize) -> AuditEntry {
    let actor = i % 40;
    let (kind, name) = match actor {
        0..=24 => (ActorKind::Member, format!("member{actor}")),
        25..=34 => (ActorKind::Machine, format!("machine{actor}")),
        _ => (ActorKind::Token, format!("token{actor}")),
    };
    let denied = i.is_multiple_of(53);
    AuditEntry {
        vault: vault.to_owned(),
        actor: AuditActor {
            kind,
            id: format!("id_{name}"),
            name,
        },
        action: ACTIONS[i % ACTIONS.len()].to_owned(),
        target: format!("app{}/api/production/SECRET_{}", i % 20, i % 500),
        outcome: if denied {
            Outcome::Denied
        } else {
            Outcome::Allowed
        },
        severity: if denied {
            Severity::Warning
        } else if i.is_multiple_of(7) {
            Severity::Notice
        } else {
            Severity::Info
        },
        origin: Origin {
            ip: format!("10.0.{}.{}", i % 250, i % 200),
            user_agent: "strongroom-loadtest".into(),
            request_id: format!("{i:016x}"),
            ..Default::default()
        },
        detail: if denied {
            "permission denied: a refusal".into()
        } else {
            String::new()
        },
    }
}

async fn append_phase(store: &Store, vault: &str, tasks: usize, seconds: u64) -> (usize, f64) {
    let count = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for task in 0..tasks {
        let (store, vault, count) = (store.clone(), vault.to_owned(), count.clone());
        workers.push(tokio::spawn(async move {
            let mut i = task;
            while Instant::now() < deadline {
                if store.record_audit(entry(&vault, i)).await.is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                i += tasks;
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let n = count.load(Ordering::Relaxed);
    (n, n as f64 / started.elapsed().as_secs_f64())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_query(
    client: &Client,
    filter: &AuditFilter,
    runs: usize,
) -> Result<(f64, f64, usize)> {
    let mut samples = Vec::with_capacity(runs);
    let mut found = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let page = client.audit_page(filter, 100, None).await?;
        samples.push(t.elapsed());
        found = page.items.len();
    }
    samples.sort();
    Ok((
        millis(samples[runs / 2]),
        millis(samples[(runs * 9 / 10).min(runs - 1)]),
        found,
    ))
}

/// Runs the benchmark against a server started in this process.
pub async fn run(
    entries: usize,
    database_url: Option<String>,
    concurrency: usize,
    seconds: u64,
    json: bool,
) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let mut config = strongroom_server::ServerConfig::defaults();
    config.listen = "127.0.0.1:0".parse()?;
    config.data_dir = scratch.path().join("data");
    config.database_url = database_url;
    let server = strongroom_server::start(config.clone(), strongroom_server::Settings::default())
        .await
        .context("starting the server")?;
    eprintln!("started a server at {} on {}", server.url, server.database);
    let anonymous = Client::new(&server.url, None)?;
    let signup = anonymous
        .signup(&SignupRequest {
            username: "auditor".into(),
            email: "auditor@example.com".into(),
            password: Sensitive::new("load test password"),
        })
        .await?;
    let vault = signup.session.vault_id.clone();
    let client = anonymous.with_token(signup.token.expose());
    let store = strongroom_server::open_store(&config).await?.store;

    eprintln!("appending through the journal for {seconds}s from {concurrency} tasks…");
    let (appended, per_second) = append_phase(&store, &vault, concurrency, seconds).await;

    let mut have = client.verify_audit().await?.head_seq.max(0) as usize;
    eprintln!("filling the vault to {entries} entries…");
    let fill_started = Instant::now();
    let mut middle_time = None;
    while have < entries {
        let chunk = (entries - have).min(10_000);
        let batch: Vec<AuditEntry> = (have..have + chunk).map(|i| entry(&vault, i)).collect();
        store.record_audit_batch(batch).await?;
        have += chunk;
        if middle_time.is_none() && have >= entries / 2 {
            middle_time = Some(jiff::Timestamp::now().to_string());
        }
        if have % 100_000 < chunk {
            eprintln!("  {have} entries");
        }
    }
    let fill_rate =
        (entries.saturating_sub(appended)) as f64 / fill_started.elapsed().as_secs_f64();
    // One rare actor, to show a filter that matches little still reads little.
    store
        .record_audit_batch(
            (0..10)
                .map(|i| {
                    let mut e = entry(&vault, i);
                    e.actor.name = "rare-actor".into();
                    e.actor.id = "id_rare".into();
                    e
                })
                .collect(),
        )
        .await?;

    let since = middle_time.unwrap_or_else(|| jiff::Timestamp::now().to_string());
    let queries: Vec<(&str, AuditFilter)> = vec![
        ("newest 100", AuditFilter::default()),
        (
            "--actor member7",
            AuditFilter {
                actor: Some("member7".into()),
                ..Default::default()
            },
        ),
        (
            "--actor rare-actor (10 entries)",
            AuditFilter {
                actor: Some("rare-actor".into()),
                ..Default::default()
            },
        ),
        (
            "--actor-kind machine",
            AuditFilter {
                actor_kind: Some("machine".into()),
                ..Default::default()
            },
        ),
        (
            "--action secret.reveal",
            AuditFilter {
                action: Some("secret.reveal".into()),
                ..Default::default()
            },
        ),
        (
            "--action 'secret.*'",
            AuditFilter {
                action: Some("secret.*".into()),
                ..Default::default()
            },
        ),
        (
            "--target app3/api/",
            AuditFilter {
                target: Some("app3/api/".into()),
                ..Default::default()
            },
        ),
        (
            "--severity warning",
            AuditFilter {
                severity: Some("warning".into()),
                ..Default::default()
            },
        ),
        (
            "--outcome denied",
            AuditFilter {
                outcome: Some("denied".into()),
                ..Default::default()
            },
        ),
        (
            "--until (middle of the log)",
            AuditFilter {
                until: Some(since.clone()),
                ..Default::default()
            },
        ),
        (
            "--actor member7 --outcome denied",
            AuditFilter {
                actor: Some("member7".into()),
                outcome: Some("denied".into()),
                ..Default::default()
            },
        ),
        (
            "oldest 100 (export order)",
            AuditFilter {
                oldest_first: true,
                ..Default::default()
            },
        ),
    ];
    let mut rows = Vec::new();
    for (name, filter) in &queries {
        let (p50, p90, found) = time_query(&client, filter, 21).await?;
        rows.push((name.to_string(), p50, p90, found));
    }
    let t = Instant::now();
    let report = client.verify_audit().await?;
    let verify_secs = t.elapsed().as_secs_f64();
    if !report.intact {
        anyhow::bail!("the chain does not verify: {:?}", report.broken);
    }

    if json {
        let queries: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, p50, p90, found)| {
                serde_json::json!({"query": name, "p50_ms": p50, "p90_ms": p90, "returned": found})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "journal_appends_per_second": per_second,
                "bulk_appends_per_second": fill_rate,
                "entries": report.verified,
                "verify_seconds": verify_secs,
                "queries": queries,
            }))?
        );
    } else {
        println!(
            "journal appends: {appended} in {seconds}s = {per_second:.0} entries/s ({concurrency} tasks)"
        );
        println!("bulk appends:    {fill_rate:.0} entries/s (10,000 per transaction)");
        println!(
            "vault holds {} entries; `audit verify` walked them in {verify_secs:.1}s",
            report.verified
        );
        println!(
            "{:<36} {:>9} {:>9} {:>9}",
            "query (100 per page)", "p50 ms", "p90 ms", "returned"
        );
        for (name, p50, p90, found) in rows {
            println!("{name:<36} {p50:>9.2} {p90:>9.2} {found:>9}");
        }
    }
    server.stop().await?;
    Ok(())
}
