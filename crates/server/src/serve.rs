//! Starting and stopping: create the data directory and the root key file on first
//! start, refuse a key file others can read, open and migrate the database, bind, serve
//! HTTP or HTTPS, and on shutdown finish in-flight requests and close the database.

use crate::config::{ConfigError, ServerConfig};
use crate::mail::Mailer;
use crate::routes;
use crate::state::{AppState, Settings};
use axum_server::tls_rustls::RustlsConfig;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use strongroom_crypto::FileKeyring;
use strongroom_store::{Backend, Store};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

/// Why the server could not start (each message says what to do).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory or listen address could not be used.
    #[error("{0}")]
    Io(String),
    /// The root key file is unusable (wrong permissions, malformed, or does not match).
    #[error("{0}")]
    Keys(String),
    /// The database could not be opened or migrated.
    #[error("{0}")]
    Database(String),
    /// The TLS certificate or key could not be loaded.
    #[error("{0}")]
    Tls(String),
}

/// A store opened the way the server opens it, with what was found or created.
pub struct OpenedStore {
    /// The store.
    pub store: Store,
    /// The root keyring.
    pub keyring: Arc<FileKeyring>,
    /// Whether the root key file was created just now.
    pub key_created: bool,
    /// Human description of where data lives.
    pub database: String,
}

fn create_data_dir(dir: &Path) -> Result<(), StartError> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| {
            StartError::Io(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })
}

/// Opens the keyring (creating it on first start) and the database, as configured.
pub async fn open_store(config: &ServerConfig) -> Result<OpenedStore, StartError> {
    create_data_dir(&config.data_dir)?;
    let key_path = config.root_key_path();
    let (keyring, key_created) = FileKeyring::load_or_create(&key_path).map_err(|e| {
        StartError::Keys(match e.internal_detail() {
            Some(detail) => detail.to_owned(),
            None => e.message().to_owned(),
        })
    })?;
    let keyring = Arc::new(keyring);
    let sqlite_path = config.sqlite_path();
    let (backend, database) = match &config.database_url {
        Some(url) => (
            Backend::Postgres(url),
            format!("PostgreSQL at {}", redact_url(url)),
        ),
        None => (
            Backend::Sqlite(&sqlite_path),
            format!("SQLite at {}", absolute(&sqlite_path).display()),
        ),
    };
    let store = Store::open(backend, keyring.clone())
        .await
        .map_err(|e| StartError::Database(e.internal_detail().unwrap_or(e.message()).to_owned()))?
        .with_reveal_limit(config.reveal_limit());
    Ok(OpenedStore {
        store,
        keyring,
        key_created,
        database,
    })
}

/// `postgres://user:password@host/db` without the password.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// A server that is running; stop it with [`RunningServer::stop`].
pub struct RunningServer {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// `http://…` or `https://…`.
    pub url: String,
    /// Where its data lives (absolute).
    pub data_dir: PathBuf,
    /// Where its database is.
    pub database: String,
    /// Where its root key file is.
    pub root_key_file: PathBuf,
    /// Whether the root key file was created at this start.
    pub key_created: bool,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), StartError>>,
}

impl RunningServer {
    /// Stops accepting requests, finishes in-flight ones and closes the database.
    pub async fn stop(mut self) -> Result<(), StartError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops (after [`RunningServer::stop`] or an error).
    pub async fn wait(&mut self) -> Result<(), StartError> {
        (&mut self.task)
            .await
            .map_err(|e| StartError::Io(format!("server task failed: {e}")))?
    }

    /// A handle that stops the server when sent to (for signal handling).
    pub fn take_shutdown(&mut self) -> Option<oneshot::Sender<()>> {
        self.shutdown.take()
    }
}

/// Starts the server and returns once it is listening.
pub async fn start(config: ServerConfig, settings: Settings) -> Result<RunningServer, StartError> {
    config.validate()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = match &config.tls {
        Some(files) => Some(
            RustlsConfig::from_pem_file(&files.cert, &files.key)
                .await
                .map_err(|e| {
                    StartError::Tls(format!(
                        "cannot load TLS certificate {} and key {}: {e}",
                        files.cert.display(),
                        files.key.display()
                    ))
                })?,
        ),
        None => None,
    };
    let mailer = Mailer::from_settings(config.smtp.as_ref())
        .map_err(|e| StartError::Config(ConfigError::Invalid(e)))?;
    let opened = open_store(&config).await?;
    let mut sinks = Vec::new();
    if let Some(path) = &config.audit_file {
        sinks.push(crate::audit_stream::Sink::File(path.clone()));
    }
    if let Some(url) = &config.audit_url {
        let url = reqwest::Url::parse(url)
            .map_err(|e| StartError::Config(ConfigError::Invalid(format!("--audit-url: {e}"))))?;
        sinks.push(crate::audit_stream::Sink::Http(url));
    }
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| StartError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Io(e.to_string()))?;

    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let state = AppState {
        store: opened.store.clone(),
        settings: Arc::new(settings),
        hashing: Arc::new(Semaphore::new(cpus)),
        mailer,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        broker_allow_private: config.broker_allow_private,
        alerts_allow_private: config.alerts_allow_private,
        https: tls.is_some() || config.insecure_http,
    };
    let outlets = crate::alerts::Outlets {
        mailer: state.mailer.clone(),
        allow_private: state.alerts_allow_private,
    };
    let retry_base_ms = state.settings.alert_retry_base_ms;
    let throttle_window = state
        .settings
        .account_throttle
        .window_ms
        .max(state.settings.address_throttle.window_ms);
    let app = routes::build(state).into_make_service_with_connect_info::<SocketAddr>();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let store = opened.store.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };

    let task = tokio::spawn(async move {
        let pruner = tokio::spawn(prune_periodically(store.clone(), throttle_window));
        // The audit log's readers: the mirrors and the alerts, under one lease holder.
        let holder = format!(
            "node-{}",
            hex::encode(strongroom_crypto::random::random_bytes::<8>().unwrap_or_default())
        );
        let mut readers = crate::audit_stream::start(&store, sinks, &holder);
        readers.extend(crate::alerts::start(
            &store,
            outlets,
            retry_base_ms,
            &holder,
        ));
        let served = match tls {
            None => {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .map_err(|e| StartError::Io(e.to_string()))?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .map_err(|e| StartError::Io(format!("server error: {e}")))
            }
            Some(tls) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    let _ = shutdown_rx.await;
                    stopper.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                axum_server::from_tcp_rustls(listener, tls)
                    .handle(handle)
                    .serve(app)
                    .await
                    .map_err(|e| StartError::Io(format!("server error: {e}")))
            }
        };
        pruner.abort();
        for reader in readers {
            reader.abort();
        }
        if let Err(e) = store.release_audit_sinks(&holder).await {
            tracing::warn!(error = %e, "cannot release the audit log readers' leases");
        }
        store.close().await;
        served
    });

    Ok(RunningServer {
        addr,
        url: format!("{scheme}://{addr}"),
        data_dir: absolute(&config.data_dir),
        database: opened.database,
        root_key_file: absolute(&config.root_key_path()),
        key_created: opened.key_created,
        shutdown: Some(shutdown_tx),
        task,
    })
}

/// Deletes expired sessions and stale throttles once an hour.
async fn prune_periodically(store: Store, throttle_window_ms: i64) {
    let mut interval = tokio::time::interval(Duration::from_secs(3600));
    loop {
        interval.tick().await;
        if let Err(e) = store.prune_expired(throttle_window_ms).await {
            tracing::warn!(error = %e, "pruning expired sessions failed");
        }
        match store
            .purge_deleted_organizations(strongroom_store::now_ms())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                purged = n,
                "purged organizations deleted more than 30 days ago"
            ),
            Err(e) => tracing::warn!(error = %e, "purging deleted organizations failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_are_shown_without_their_password() {
        assert_eq!(
            super::redact_url("postgres://sr:hunter2@db:5432/strongroom"),
            "postgres://sr:***@db:5432/strongroom"
        );
        assert_eq!(
            super::redact_url("postgres://db/strongroom"),
            "postgres://db/strongroom"
        );
    }
}
