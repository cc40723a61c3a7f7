//! Server configuration: defaults that need nothing (127.0.0.1:8420, `./strongroom-data`,
//! SQLite), overridden by an optional TOML file, then by environment variables, then by
//! flags (the CLI does that layering). The one rule checked here: never listen on a
//! non-loopback address without TLS unless the operator explicitly accepts plain HTTP.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8420";
/// The default data directory, relative to where the server starts.
pub const DEFAULT_DATA_DIR: &str = "strongroom-data";

/// A certificate chain and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Where the SQLite database and the root key file live.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; SQLite in `data_dir` when absent.
    pub database_url: Option<String>,
    /// Root key file; `data_dir/root.key` when absent.
    pub root_key_file: Option<PathBuf>,
    /// Serve HTTPS with these files.
    pub tls: Option<TlsFiles>,
    /// Allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    pub insecure_http: bool,
    /// Outgoing mail for invites and verification codes; without it, codes are printed
    /// to the console (development only).
    pub smtp: Option<SmtpSettings>,
    /// Values a member may reveal per hour in one vault; 0 lifts the limit.
    pub reveals_per_member_per_hour: u32,
    /// Proxies whose `X-Forwarded-For` names the client (none: the socket's peer does).
    pub trusted_proxies: Vec<strongroom_core::network::CidrRange>,
    /// Let the `use` broker call loopback, link-local and private addresses.
    pub broker_allow_private: bool,
    /// Mirror every audit entry, as JSON lines, to this file.
    pub audit_file: Option<PathBuf>,
    /// Mirror every audit entry, as JSON lines, to this HTTP(S) endpoint (a SIEM).
    pub audit_url: Option<String>,
    /// Let alert webhooks reach loopback, link-local and private addresses.
    pub alerts_allow_private: bool,
}

/// The `[smtp]` table of the configuration file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Mail server host name.
    pub host: String,
    /// Port (default 587 with STARTTLS, 465 with TLS, 25 without).
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (only for a relay on this machine).
    pub security: Option<String>,
    /// User name for SMTP authentication, if the server needs it.
    pub username: Option<String>,
    /// Password for SMTP authentication (redacted in debug output).
    pub password: Option<strongroom_proto::Sensitive>,
    /// The sender, e.g. `Strongroom <strongroom@example.com>`.
    pub from: String,
}

/// The optional TOML configuration file; every field may be omitted.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `listen = "0.0.0.0:8420"`.
    pub listen: Option<String>,
    /// `data_dir = "/var/lib/strongroom"`.
    pub data_dir: Option<PathBuf>,
    /// `database_url = "postgres://…"`.
    pub database_url: Option<String>,
    /// `root_key_file = "/etc/strongroom/root.key"`.
    pub root_key_file: Option<PathBuf>,
    /// `tls_cert = "/etc/strongroom/cert.pem"`.
    pub tls_cert: Option<PathBuf>,
    /// `tls_key = "/etc/strongroom/key.pem"`.
    pub tls_key: Option<PathBuf>,
    /// `insecure_http = true`.
    pub insecure_http: Option<bool>,
    /// `[smtp]` with `host`, `port`, `security`, `username`, `password`, `from`.
    pub smtp: Option<SmtpSettings>,
    /// `reveals_per_member_per_hour = 1000` (0 lifts the limit).
    pub reveals_per_member_per_hour: Option<u32>,
    /// `trusted_proxies = ["10.0.0.0/8"]`.
    pub trusted_proxies: Option<Vec<String>>,
    /// `broker_allow_private = true` (tests and closed networks only).
    pub broker_allow_private: Option<bool>,
    /// `audit_file = "/var/log/strongroom/audit.jsonl"`.
    pub audit_file: Option<PathBuf>,
    /// `audit_url = "https://siem.example.com/ingest"`.
    pub audit_url: Option<String>,
    /// `alerts_allow_private = true` (tests and closed networks only).
    pub alerts_allow_private: Option<bool>,
}

/// A configuration that cannot work, with what to do about it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read or parsed.
    #[error("configuration file {path}: {reason}")]
    File {
        /// Which file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A value is malformed.
    #[error("{0}")]
    Invalid(String),
    /// Plain HTTP on a network address without the operator's consent.
    #[error(
        "refusing to listen on {0} without TLS: pass --tls-cert FILE --tls-key FILE, or \
         --insecure-http if a TLS-terminating proxy sits in front"
    )]
    PlainHttpOnNetwork(SocketAddr),
}

impl FileConfig {
    /// Reads a TOML configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }
}

/// Parses CIDR ranges from the configuration.
pub fn parse_ranges(
    ranges: &[String],
) -> Result<Vec<strongroom_core::network::CidrRange>, ConfigError> {
    ranges
        .iter()
        .map(|r| {
            r.parse().map_err(|e: strongroom_core::Error| {
                ConfigError::Invalid(format!("trusted_proxies: {}", e.message()))
            })
        })
        .collect()
}

impl ServerConfig {
    /// The defaults: loopback, `./strongroom-data`, SQLite, plain HTTP.
    pub fn defaults() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8420)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            root_key_file: None,
            tls: None,
            insecure_http: false,
            smtp: None,
            reveals_per_member_per_hour: strongroom_store::DEFAULT_REVEALS_PER_HOUR,
            trusted_proxies: Vec::new(),
            broker_allow_private: false,
            audit_file: None,
            audit_url: None,
            alerts_allow_private: false,
        }
    }

    /// Applies a configuration file over the current values.
    pub fn apply_file(&mut self, file: FileConfig) -> Result<(), ConfigError> {
        if let Some(listen) = file.listen {
            self.listen = parse_listen(&listen)?;
        }
        if let Some(dir) = file.data_dir {
            self.data_dir = dir;
        }
        if file.database_url.is_some() {
            self.database_url = file.database_url;
        }
        if file.root_key_file.is_some() {
            self.root_key_file = file.root_key_file;
        }
        match (file.tls_cert, file.tls_key) {
            (Some(cert), Some(key)) => self.tls = Some(TlsFiles { cert, key }),
            (None, None) => {}
            _ => {
                return Err(ConfigError::Invalid(
                    "tls_cert and tls_key must be given together".into(),
                ));
            }
        }
        if let Some(insecure) = file.insecure_http {
            self.insecure_http = insecure;
        }
        if file.smtp.is_some() {
            self.smtp = file.smtp;
        }
        if let Some(limit) = file.reveals_per_member_per_hour {
            self.reveals_per_member_per_hour = limit;
        }
        if let Some(ranges) = file.trusted_proxies {
            self.trusted_proxies = parse_ranges(&ranges)?;
        }
        if let Some(allow) = file.broker_allow_private {
            self.broker_allow_private = allow;
        }
        if file.audit_file.is_some() {
            self.audit_file = file.audit_file;
        }
        if file.audit_url.is_some() {
            self.audit_url = file.audit_url;
        }
        if let Some(allow) = file.alerts_allow_private {
            self.alerts_allow_private = allow;
        }
        Ok(())
    }

    /// The reveal limit as the store takes it: `None` when lifted.
    pub fn reveal_limit(&self) -> Option<u32> {
        Some(self.reveals_per_member_per_hour).filter(|n| *n > 0)
    }

    /// Where the root key file is.
    pub fn root_key_path(&self) -> PathBuf {
        self.root_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("root.key"))
    }

    /// Where the SQLite database is (when no PostgreSQL URL is set).
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("strongroom.db")
    }

    /// Checks the configuration as a whole.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() && !self.insecure_http {
            return Err(ConfigError::PlainHttpOnNetwork(self.listen));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "--database-url must be a postgres:// URL (SQLite needs no URL: it lives in --data-dir)".into(),
            ));
        }
        if let Some(url) = &self.audit_url
            && reqwest::Url::parse(url)
                .map(|u| !matches!(u.scheme(), "http" | "https"))
                .unwrap_or(true)
        {
            return Err(ConfigError::Invalid(format!(
                "--audit-url {url:?} must be an http:// or https:// URL"
            )));
        }
        Ok(())
    }

    /// Whether the operator chose plain HTTP on a network address (worth a warning).
    pub fn is_plain_http_on_network(&self) -> bool {
        self.tls.is_none() && !self.listen.ip().is_loopback()
    }
}

/// Parses `HOST:PORT` (an IP address; names are not resolved).
pub fn parse_listen(s: &str) -> Result<SocketAddr, ConfigError> {
    s.parse().map_err(|_| {
        ConfigError::Invalid(format!(
            "listen address {s:?} is not IP:PORT (for example 127.0.0.1:8420 or [::1]:8420)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_loopback_sqlite_in_strongroom_data() {
        let c = ServerConfig::defaults();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            c.sqlite_path(),
            PathBuf::from("strongroom-data/strongroom.db")
        );
        assert_eq!(c.root_key_path(), PathBuf::from("strongroom-data/root.key"));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn plain_http_on_a_network_address_needs_consent() {
        let mut c = ServerConfig::defaults();
        c.listen = parse_listen("0.0.0.0:8420").unwrap_or(c.listen);
        assert!(matches!(
            c.validate(),
            Err(ConfigError::PlainHttpOnNetwork(_))
        ));
        c.insecure_http = true;
        assert_eq!(c.validate(), Ok(()));
        assert!(c.is_plain_http_on_network());
    }

    #[test]
    fn tls_makes_a_network_address_acceptable() {
        let mut c = ServerConfig::defaults();
        c.listen = parse_listen("0.0.0.0:8420").unwrap_or(c.listen);
        c.tls = Some(TlsFiles {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        });
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_file_overrides_defaults_and_rejects_unknown_keys() {
        let file: FileConfig =
            toml::from_str("listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/sr\"")
                .unwrap_or_default();
        let mut c = ServerConfig::defaults();
        assert_eq!(c.apply_file(file), Ok(()));
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/sr"));
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }

    #[test]
    fn a_database_url_must_be_postgres() {
        let mut c = ServerConfig::defaults();
        c.database_url = Some("mysql://x".into());
        assert!(c.validate().is_err());
    }
}
