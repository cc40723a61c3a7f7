//! `strongroom-loadtest`: measures authorized secret reads (reveals) and writes over HTTP.
//!
//! Without `--server` it starts a real Strongroom server in this process on a fresh
//! SQLite data directory (build with `--release` for meaningful figures). It signs up a
//! user, creates `--secrets` secrets, then runs `--concurrency` clients for `--duration`
//! seconds per phase and reports requests per second and latency percentiles.
//!
//! With `--audit ENTRIES` it measures the audit log instead: appends through the journal,
//! then queries and a chain walk once one vault holds ENTRIES entries.
//!
//! With `--vs-openbao` it compares Strongroom with OpenBao on this machine through the
//! KV v2 API (see [`kv_bench`]).
#![forbid(unsafe_code)]

mod audit_bench;
mod kv_bench;

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::time::{Duration, Instant};
use strongroom_client::Client;
use strongroom_proto::{SecretWriteRequest, Sensitive, SignupRequest};

#[derive(Debug, Parser)]
#[command(
    name = "strongroom-loadtest",
    version,
    about = "Measure secret read and write throughput over HTTP"
)]
struct Args {
    /// Server to measure; by default one is started in this process on SQLite.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Secrets to spread the load over.
    #[arg(long, default_value_t = 100)]
    secrets: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Instead of reads and writes, time N email invites of each kind (address with an
    /// account, without one, already invited) against an in-process server, to show the
    /// answer's timing does not tell them apart.
    #[arg(long, value_name = "N", conflicts_with = "server")]
    invite_timing: Option<usize>,
    /// Instead of reads and writes, measure the audit log: journal appends for
    /// --duration seconds, then queries and `audit verify` over one vault filled to N
    /// entries (an in-process server).
    #[arg(long, value_name = "N", conflicts_with_all = ["server", "invite_timing"])]
    audit: Option<usize>,
    /// With --audit: a PostgreSQL URL to measure instead of SQLite.
    #[arg(long, value_name = "URL", requires = "audit")]
    database_url: Option<String>,
    /// Instead, run Strongroom (release binary, SQLite) and OpenBao (`bao`: raft, file
    /// audit, ACL tokens) side by side through the KV v2 API with wrk: reads at 16 and
    /// 64 connections, writes at 16, over --secrets secrets (use 1000), --duration
    /// seconds each. Needs wrk and OpenBao's `bao` (BAO_BIN, the PATH, or the test
    /// suite's target/kv-clients).
    #[arg(long, conflicts_with_all = ["server", "invite_timing", "audit"])]
    vs_openbao: bool,
}

struct PhaseResult {
    name: &'static str,
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl PhaseResult {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[index.min(self.latencies_us.len() - 1)] as f64 / 1000.0
    }

    fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

#[derive(Clone, Copy)]
enum Operation {
    Read,
    Write,
}

async fn phase(
    name: &'static str,
    client: &Client,
    operation: Operation,
    args: &Args,
    paths: &[String],
) -> PhaseResult {
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let client = client.clone();
        let paths = paths.to_vec();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut errors = 0usize;
            let mut i = worker;
            while Instant::now() < deadline {
                let path = &paths[i % paths.len()];
                i += 7;
                let t = Instant::now();
                let ok = match operation {
                    Operation::Read => client.reveal(path, None).await.is_ok(),
                    Operation::Write => client
                        .put_secret(path, &write(&format!("value-{worker}-{i}")))
                        .await
                        .is_ok(),
                };
                if ok {
                    latencies.push(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((l, e)) = worker.await {
            latencies_us.extend(l);
            errors += e;
        }
    }
    latencies_us.sort_unstable();
    PhaseResult {
        name,
        requests: latencies_us.len(),
        errors,
        seconds: started.elapsed().as_secs_f64(),
        latencies_us,
    }
}

fn write(value: &str) -> SecretWriteRequest {
    SecretWriteRequest {
        value: Sensitive::new(value),
        secret_type: None,
        note: None,
        tags: None,
        expected_version: None,
    }
}

fn median_and_p90(mut samples: Vec<u64>) -> (f64, f64) {
    samples.sort_unstable();
    let at = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    (at(0.5), at(0.9))
}

/// Times invites to addresses with an account, without one, and already invited,
/// interleaved so that drift in the machine's load affects every kind alike.
async fn invite_timing(n: usize, json: bool) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let mut config = strongroom_server::ServerConfig::defaults();
    config.listen = "127.0.0.1:0".parse()?;
    config.data_dir = scratch.path().join("data");
    let mut settings = strongroom_server::Settings::default();
    settings.signup_throttle.max_failures = i64::MAX;
    let server = strongroom_server::start(config.clone(), settings).await?;
    let anonymous = Client::new(&server.url, None)?;
    let signup = |name: String| {
        let anonymous = anonymous.clone();
        async move {
            anonymous
                .signup(&SignupRequest {
                    username: name.clone(),
                    email: format!("{name}@example.com"),
                    password: Sensitive::new("load test password"),
                })
                .await
        }
    };
    let owner = signup("owner".into()).await?;
    let owner = anonymous.with_token(owner.token.expose());
    let org = owner.create_organization("timing").await?;
    owner.switch_vault(&org.id).await?;
    let opened = strongroom_server::open_store(&config).await?;
    opened
        .store
        .set_plan(&org.id, "enterprise".parse()?)
        .await?;
    opened.store.close().await;
    eprintln!("signing up {n} accounts to invite…");
    for i in 0..n {
        signup(format!("member{i}")).await?;
    }
    let mut timings: [Vec<u64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for i in 0..n {
        for (kind, email) in [
            (0, format!("member{i}@example.com")),
            (1, format!("nobody{i}@example.com")),
            (2, format!("member{i}@example.com")),
        ] {
            let t = Instant::now();
            owner.invite(&email, Some("developer")).await?;
            timings[kind].push(t.elapsed().as_micros() as u64);
        }
    }
    let names = ["account", "no account", "already invited"];
    let rows: Vec<(&str, f64, f64)> = names
        .iter()
        .zip(timings)
        .map(|(name, t)| {
            let (p50, p90) = median_and_p90(t);
            (*name, p50, p90)
        })
        .collect();
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, p50, p90)| serde_json::json!({"address": name, "p50_ms": p50, "p90_ms": p90}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:<18} {:>9} {:>9}   ({n} invites each)",
            "address", "p50 ms", "p90 ms"
        );
        for (name, p50, p90) in rows {
            println!("{name:<18} {p50:>9.2} {p90:>9.2}");
        }
    }
    server.stop().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(n) = args.invite_timing {
        if n == 0 {
            bail!("--invite-timing needs at least 1");
        }
        return invite_timing(n, args.json).await;
    }
    if args.vs_openbao {
        if args.secrets == 0 || args.duration == 0 {
            bail!("--secrets and --duration must be at least 1");
        }
        return kv_bench::run(kv_bench::Options {
            secrets: args.secrets,
            duration: args.duration,
            json: args.json,
        })
        .await;
    }
    if let Some(entries) = args.audit {
        if args.concurrency == 0 || args.duration == 0 {
            bail!("--concurrency and --duration must be at least 1");
        }
        return audit_bench::run(
            entries,
            args.database_url.clone(),
            args.concurrency,
            args.duration,
            args.json,
        )
        .await;
    }
    if args.concurrency == 0 || args.secrets == 0 || args.duration == 0 {
        bail!("--concurrency, --secrets and --duration must be at least 1");
    }
    let scratch = tempfile::tempdir()?;
    let mut local = None;
    let url = match &args.server {
        Some(url) => url.clone(),
        None => {
            let mut config = strongroom_server::ServerConfig::defaults();
            config.listen = "127.0.0.1:0".parse()?;
            config.data_dir = scratch.path().join("data");
            // One member reveals thousands of values a second here: lift the hourly limit
            // (every reveal is still recorded).
            config.reveals_per_member_per_hour = 0;
            let server = strongroom_server::start(config, strongroom_server::Settings::default())
                .await
                .context("starting the server")?;
            let url = server.url.clone();
            eprintln!(
                "started a server at {url} on SQLite in {}",
                server.data_dir.display()
            );
            local = Some(server);
            url
        }
    };

    let anonymous = Client::new(&url, None)?;
    let username = format!("load{}", std::process::id());
    let signup = anonymous
        .signup(&SignupRequest {
            username: username.clone(),
            email: format!("{username}@example.com"),
            password: Sensitive::new("load test password"),
        })
        .await
        .context("sign-up")?;
    let client = anonymous.with_token(signup.token.expose());
    client.create_app("load").await?;
    client.create_project("load/bench").await?;
    let paths: Vec<String> = (0..args.secrets)
        .map(|i| format!("load/bench/production/SECRET_{i}"))
        .collect();
    eprintln!("writing {} secrets…", paths.len());
    for path in &paths {
        client
            .put_secret(
                path,
                &write("initial value of a typical size: 0123456789abcdef"),
            )
            .await?;
    }

    eprintln!(
        "measuring for {}s per phase with {} clients…",
        args.duration, args.concurrency
    );
    // The same reads by a CI token and by a signed machine request (each with its own
    // authentication: a token lookup, or a signature check and a one-shot nonce).
    let token = client
        .create_token(&strongroom_proto::CreateTokenRequest {
            name: "load".into(),
            kind: "ci".into(),
            scopes: vec!["load/bench".into()],
            verbs: vec!["reveal".into()],
            expires_in_hours: None,
            cidrs: Vec::new(),
        })
        .await?;
    let as_token = anonymous.with_token(token.secret.expose());
    let key = strongroom_crypto::machine_key::MachineKey::generate()?;
    client
        .register_machine("load", &key.public().to_openssh("load"), None)
        .await?;
    client
        .attach_machine("load", "load/bench", &[], &["reveal".to_owned()])
        .await?;
    let vault = client.whoami().await?.vault.id;
    let as_machine = anonymous.with_machine_key(key, &vault);

    let reads = phase("read (reveal)", &client, Operation::Read, &args, &paths).await;
    let writes = phase(
        "write (new version)",
        &client,
        Operation::Write,
        &args,
        &paths,
    )
    .await;
    let token_reads = phase(
        "read as CI token",
        &as_token,
        Operation::Read,
        &args,
        &paths,
    )
    .await;
    let machine_reads = phase(
        "read as machine",
        &as_machine,
        Operation::Read,
        &args,
        &paths,
    )
    .await;
    let results = [reads, writes, token_reads, machine_reads];

    if args.json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "phase": r.name,
                    "requests": r.requests,
                    "errors": r.errors,
                    "requests_per_second": r.throughput(),
                    "p50_ms": r.percentile(0.50),
                    "p99_ms": r.percentile(0.99),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:<22} {:>10} {:>8} {:>12} {:>9} {:>9}",
            "phase", "requests", "errors", "req/s", "p50 ms", "p99 ms"
        );
        for r in &results {
            println!(
                "{:<22} {:>10} {:>8} {:>12.0} {:>9.2} {:>9.2}",
                r.name,
                r.requests,
                r.errors,
                r.throughput(),
                r.percentile(0.50),
                r.percentile(0.99)
            );
        }
    }
    if let Some(server) = local {
        server.stop().await?;
    }
    Ok(())
}
