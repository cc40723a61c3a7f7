//! `strongroom server` and the operator's `admin` commands.

use crate::args::{ServerArgs, StorageArgs};
use crate::failure::{CliResult, Failure, exit};
use crate::output;
use strongroom_server::{FileConfig, ServerConfig, Settings, TlsFiles};
use tracing_subscriber::EnvFilter;

/// Defaults, then the config file, then environment and flags (clap merged those two).
fn storage_config(storage: &StorageArgs) -> CliResult<ServerConfig> {
    let mut config = ServerConfig::defaults();
    if let Some(path) = &storage.config {
        let file = FileConfig::load(path).map_err(|e| Failure::usage(e.to_string()))?;
        config
            .apply_file(file)
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    if let Some(dir) = &storage.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &storage.database_url {
        config.database_url = Some(url.clone());
    }
    if let Some(file) = &storage.root_key_file {
        config.root_key_file = Some(file.clone());
    }
    Ok(config)
}

fn init_logging() {
    let filter =
        EnvFilter::try_from_env("STRONGROOM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub async fn run(args: ServerArgs) -> CliResult {
    init_logging();
    let mut config = storage_config(&args.storage)?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    if args.insecure_http {
        config.insecure_http = true;
    }
    if let Some(limit) = args.reveals_per_member_per_hour {
        config.reveals_per_member_per_hour = limit;
    }
    if !args.trusted_proxies.is_empty() {
        config.trusted_proxies = strongroom_server::parse_ranges(&args.trusted_proxies)
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    if args.broker_allow_private {
        config.broker_allow_private = true;
    }
    if args.audit_file.is_some() {
        config.audit_file = args.audit_file.clone();
    }
    if args.audit_url.is_some() {
        config.audit_url = args.audit_url.clone();
    }
    if args.alerts_allow_private {
        config.alerts_allow_private = true;
    }
    config
        .validate()
        .map_err(|e| Failure::usage(e.to_string()))?;
    if config.is_plain_http_on_network() {
        eprintln!(
            "WARNING: serving plain HTTP on {} (--insecure-http). Sessions and secret values \
             cross the network unencrypted unless a TLS-terminating proxy sits in front.",
            config.listen
        );
    }

    let mail = match &config.smtp {
        Some(smtp) => format!("SMTP via {} (from {})", smtp.host, smtp.from),
        None => "no SMTP configured: email verification codes are printed here (development only)"
            .to_owned(),
    };
    let mut server = strongroom_server::start(config, Settings::default())
        .await
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    println!("Strongroom {} is running", env!("CARGO_PKG_VERSION"));
    println!("  listening on  {}", server.url);
    println!("  dashboard     {}/ui", server.url);
    println!("  data          {}", server.data_dir.display());
    println!("  database      {}", server.database);
    if server.key_created {
        println!(
            "  root key      {} (created now, mode 0600: back it up; without it nothing can be decrypted)",
            server.root_key_file.display()
        );
    } else {
        println!("  root key      {}", server.root_key_file.display());
    }
    println!("  mail          {mail}");
    println!("Press Ctrl-C to stop.");

    let stop = server.take_shutdown();
    let signal = wait_for_signal().await;
    println!("{signal} received: finishing requests in flight and closing the database");
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    server
        .wait()
        .await
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    println!("Strongroom stopped cleanly");
    Ok(())
}

async fn wait_for_signal() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "Ctrl-C";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term.recv() => "SIGTERM",
    }
}

pub async fn rotate_root_key(storage: StorageArgs, json: bool) -> CliResult {
    init_logging();
    let config = storage_config(&storage)?;
    let opened = strongroom_server::open_store(&config)
        .await
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    output::say(
        json,
        format!(
            "Rotating the root key in {} …",
            opened.keyring.path().display()
        ),
    );
    let report = opened
        .store
        .rotate_root_key(&opened.keyring)
        .await
        .map_err(|e| {
            Failure::new(
                exit::ERROR,
                e.internal_detail().unwrap_or(e.message()).to_owned(),
            )
        })?;
    opened.store.close().await;
    if json {
        return output::json(&serde_json::json!({
            "new_root_key_id": report.new_root_key_id,
            "rewrapped_data_keys": report.rewrapped,
            "retired_root_keys": report.retired,
        }));
    }
    println!(
        "Root key rotated: {} data keys rewrapped under {}; retired {}.",
        report.rewrapped,
        report.new_root_key_id,
        if report.retired.is_empty() {
            "none".to_owned()
        } else {
            report.retired.join(", ")
        }
    );
    println!(
        "Back up {} again: the old copy no longer opens this database.",
        opened.keyring.path().display()
    );
    Ok(())
}

fn operator_failure(e: strongroom_core::Error) -> Failure {
    let code = match e.code() {
        strongroom_core::ErrorCode::NotFound => exit::NOT_FOUND,
        strongroom_core::ErrorCode::InvalidValue | strongroom_core::ErrorCode::InvalidAccount => {
            exit::USAGE
        }
        _ => exit::ERROR,
    };
    Failure::new(code, e.internal_detail().unwrap_or(e.message()).to_owned())
}

/// `strongroom admin set-plan`: the operator sets an organization's plan.
pub async fn set_plan(storage: StorageArgs, vault: &str, plan: &str, json: bool) -> CliResult {
    init_logging();
    let plan: strongroom_core::plan::Plan = plan.parse().map_err(operator_failure)?;
    let config = storage_config(&storage)?;
    let opened = strongroom_server::open_store(&config)
        .await
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let result = opened.store.set_plan(vault, plan).await;
    opened.store.close().await;
    let (id, name) = result.map_err(operator_failure)?;
    let cap = plan
        .member_cap()
        .map_or("unlimited".to_owned(), |c| c.to_string());
    if json {
        return output::json(&serde_json::json!({
            "vault": id.as_str(), "name": name, "plan": plan.as_str(), "cap": plan.member_cap(),
        }));
    }
    println!("Organization {name} ({id}) is now on the {plan} plan ({cap} members).");
    Ok(())
}

/// `strongroom admin verify-email`: the operator vouches for an account's address.
pub async fn verify_email(storage: StorageArgs, username: &str, json: bool) -> CliResult {
    init_logging();
    let username = strongroom_core::account::Username::parse(username).map_err(operator_failure)?;
    let config = storage_config(&storage)?;
    let opened = strongroom_server::open_store(&config)
        .await
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let result = opened.store.mark_email_verified(&username).await;
    opened.store.close().await;
    let user = result.map_err(operator_failure)?;
    if json {
        return output::json(&serde_json::json!({
            "username": user.username.as_str(), "email": user.email.as_str(), "email_verified": true,
        }));
    }
    println!("Marked {} <{}> as verified.", user.username, user.email);
    Ok(())
}
