//! What the CLI remembers between commands: the server URL (and a CA to trust) in
//! `config.json`, and the session token in `token` (mode 0600). Both live in
//! `$STRONGROOM_CONFIG_DIR`, else `$XDG_CONFIG_HOME/strongroom`, else
//! `~/.config/strongroom`. `STRONGROOM_SERVER` and `STRONGROOM_TOKEN` override them; a machine sets
//! `STRONGROOM_MACHINE_KEY` (its private key file) and `STRONGROOM_VAULT` instead.

use crate::failure::{CliResult, Failure, exit};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strongroom_client::Client;
use strongroom_crypto::machine_key::MachineKey;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SavedConfig {
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

pub struct CliState {
    dir: PathBuf,
}

impl CliState {
    pub fn locate() -> CliResult<Self> {
        let dir = if let Some(dir) = std::env::var_os("STRONGROOM_CONFIG_DIR") {
            PathBuf::from(dir)
        } else if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME") {
            PathBuf::from(xdg).join("strongroom")
        } else if let Some(home) = std::env::var_os("HOME") {
            PathBuf::from(home).join(".config").join("strongroom")
        } else {
            return Err(Failure::new(
                exit::ERROR,
                "cannot find a configuration directory: set STRONGROOM_CONFIG_DIR",
            ));
        };
        Ok(Self { dir })
    }

    fn ensure_dir(&self) -> CliResult {
        if !self.dir.exists() {
            fs::create_dir_all(&self.dir)?;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    fn token_path(&self) -> PathBuf {
        self.dir.join("token")
    }

    pub fn config(&self) -> CliResult<SavedConfig> {
        match fs::read_to_string(self.config_path()) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Failure::new(
                    exit::ERROR,
                    format!("{} is malformed: {e}", self.config_path().display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SavedConfig::default()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save_config(&self, config: &SavedConfig) -> CliResult {
        self.ensure_dir()?;
        let text = serde_json::to_string_pretty(config)
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
        write_private(&self.config_path(), text.as_bytes())
    }

    pub fn token(&self) -> CliResult<Option<String>> {
        if let Ok(token) = std::env::var("STRONGROOM_TOKEN") {
            return Ok(Some(token));
        }
        match fs::read_to_string(self.token_path()) {
            Ok(text) => Ok(Some(text.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save_token(&self, token: &str) -> CliResult {
        self.ensure_dir()?;
        write_private(&self.token_path(), token.as_bytes())
    }

    pub fn clear_token(&self) -> CliResult {
        match fs::remove_file(self.token_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The server to talk to: the flag, else STRONGROOM_SERVER, else the saved one.
    pub fn server(&self, flag: Option<&str>) -> CliResult<String> {
        if let Some(s) = flag {
            return Ok(s.to_owned());
        }
        if let Ok(s) = std::env::var("STRONGROOM_SERVER") {
            return Ok(s);
        }
        self.config()?.server.ok_or_else(|| {
            Failure::new(exit::AUTH, "no server configured").with_hint(
                "sign in with `strongroom login --server URL --username NAME`, or set STRONGROOM_SERVER",
            )
        })
    }

    /// A client for the server, not signed in.
    pub fn anonymous_client(&self, server: &str) -> CliResult<Client> {
        let ca = match self
            .config()?
            .ca_cert
            .or_else(|| std::env::var_os("STRONGROOM_CA_CERT").map(PathBuf::from))
        {
            Some(path) => Some(fs::read(&path).map_err(|e| {
                Failure::new(
                    exit::ERROR,
                    format!("cannot read CA certificate {}: {e}", path.display()),
                )
            })?),
            None => None,
        };
        Ok(Client::new(server, ca.as_deref())?)
    }

    /// A client for the server: a machine's when STRONGROOM_MACHINE_KEY is set (every
    /// request signed), else signed in with the saved session.
    pub fn client(&self, flag: Option<&str>) -> CliResult<Client> {
        let server = self.server(flag)?;
        if let Some(key_file) = std::env::var_os("STRONGROOM_MACHINE_KEY") {
            let (key, vault) = machine_identity(Path::new(&key_file))?;
            return Ok(self
                .anonymous_client(&server)?
                .with_machine_key(key, &vault));
        }
        let token = self.token()?.ok_or_else(|| {
            Failure::new(exit::AUTH, "not signed in").with_hint("sign in with `strongroom login`")
        })?;
        Ok(self.anonymous_client(&server)?.with_token(token))
    }
}

/// The machine key in `path` (which only its owner may read) and `STRONGROOM_VAULT`.
fn machine_identity(path: &Path) -> CliResult<(MachineKey, String)> {
    let vault = std::env::var("STRONGROOM_VAULT").map_err(|_| {
        Failure::new(
            exit::AUTH,
            "STRONGROOM_MACHINE_KEY is set but STRONGROOM_VAULT is not",
        )
        .with_hint("set STRONGROOM_VAULT to the vault_… id the machine is registered in")
    })?;
    let meta = fs::metadata(path).map_err(|e| {
        Failure::new(
            exit::AUTH,
            format!("cannot read machine key {}: {e}", path.display()),
        )
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Failure::new(
            exit::AUTH,
            format!(
                "machine key {} can be read by others than its owner",
                path.display()
            ),
        )
        .with_hint(format!("run `chmod 600 {}`", path.display())));
    }
    let text = zeroize::Zeroizing::new(fs::read_to_string(path)?);
    Ok((MachineKey::from_openssh(&text)?, vault))
}

/// Writes a file only its owner can read, atomically.
fn write_private(path: &Path, bytes: &[u8]) -> CliResult {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(())
}
