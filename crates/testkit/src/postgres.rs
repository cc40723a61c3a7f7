//! A throwaway PostgreSQL for the tests. Unless `STRONGROOM_TEST_DATABASE_URL` names a
//! server, the first test that needs one runs `initdb` (as the `postgres` user when we
//! are root, since PostgreSQL refuses to run as root) into a temporary directory, starts
//! `postgres` on a free loopback port with trust authentication, and arranges for it to
//! be killed when this test process exits. Each test gets its own database.

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "the PostgreSQL tests need PostgreSQL 15's server programs (initdb and \
postgres; on Debian: apt-get install postgresql) or STRONGROOM_TEST_DATABASE_URL pointing at a \
server where the user may create databases";

static ADMIN_URL: OnceLock<Result<String, String>> = OnceLock::new();

/// URL of a database on the test server from which test databases are created. Panics
/// with installation advice when no PostgreSQL can be had: a PostgreSQL test never
/// passes silently.
pub fn admin_url() -> &'static str {
    match ADMIN_URL.get_or_init(|| match std::env::var("STRONGROOM_TEST_DATABASE_URL") {
        Ok(url) => Ok(url),
        // Started on a plain thread: the caller is usually inside a test's async runtime.
        Err(_) => std::thread::spawn(start_cluster)
            .join()
            .unwrap_or_else(|_| Err("starting PostgreSQL panicked".into())),
    }) {
        Ok(url) => url,
        Err(e) => panic!("cannot start PostgreSQL for the tests: {e}\n{INSTALL_HINT}"),
    }
}

fn find_initdb() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("initdb"))
        .find(|p| p.is_file());
    let candidate = match on_path {
        Some(p) => p,
        None => std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "initdb is not on PATH".to_owned())?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin/initdb")))
            .find(|p| p.is_file())
            .ok_or_else(|| "initdb is not on PATH or in /usr/lib/postgresql".to_owned())?,
    };
    candidate
        .canonicalize()
        .map_err(|e| format!("{}: {e}", candidate.display()))
}

/// The uid and gid to run PostgreSQL as: ours, or the `postgres` user's when we are root.
fn run_as() -> Result<Option<(u32, u32)>, String> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("id -u: {e}"))?;
    if String::from_utf8_lossy(&output.stdout).trim() != "0" {
        return Ok(None);
    }
    let read = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| format!("id {flag} postgres: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                "running as root, and there is no `postgres` user to run PostgreSQL as".to_owned()
            })
    };
    Ok(Some((read("-u")?, read("-g")?)))
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Removes clusters left behind by test processes that no longer exist.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("strongroom-test-pg-")
            .and_then(|r| r.split('-').next())
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn start_cluster() -> Result<String, String> {
    remove_stale_clusters();
    let initdb = find_initdb()?;
    let bin = initdb
        .parent()
        .ok_or("initdb has no parent directory")?
        .to_owned();
    let postgres = bin.join("postgres");
    let owner = run_as()?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let root =
        std::env::temp_dir().join(format!("strongroom-test-pg-{}-{stamp}", std::process::id()));
    let data = root.join("data");
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(|e| format!("chown: {e}"))?;
    }

    let mut init = Command::new(&initdb);
    init.args(["-D"])
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    as_user(&mut init, owner);
    let out = init
        .output()
        .map_err(|e| format!("{}: {e}", initdb.display()))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    let port = free_port()?;
    let log = std::fs::File::create(root.join("postgres.log")).map_err(|e| e.to_string())?;
    let mut server = Command::new(&postgres);
    server
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(&root)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=500",
            "-c",
            "shared_buffers=64MB",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    as_user(&mut server, owner);
    die_with_this_process(&mut server);
    spawn_from_immortal_thread(server)?;

    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    wait_until_ready(&url, &root)?;
    Ok(url)
}

fn as_user(command: &mut Command, owner: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt as _;
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
}

/// Asks the kernel to send SIGQUIT (PostgreSQL's immediate shutdown) to the child when
/// the thread that spawned it ends, which for an immortal thread means: when this test
/// process exits, however it exits.
#[allow(unsafe_code)]
fn die_with_this_process(command: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: the closure runs in the forked child before exec and only calls prctl,
    // which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn spawn_from_immortal_thread(mut command: Command) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-parent".into())
        .spawn(move || {
            let child = command.spawn();
            let started = child.as_ref().map(|_| ()).map_err(|e| e.to_string());
            let _ = tx.send(started);
            if let Ok(mut child) = child {
                let _ = child.wait();
            }
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot start postgres: {e}"))
}

fn wait_until_ready(url: &str, root: &Path) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let connected = runtime.block_on(async { PgConnection::connect(url).await.map(drop) });
        match connected {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(root.join("postgres.log")).unwrap_or_default();
                return Err(format!("postgres did not accept connections: {e}\n{log}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A database of its own for one test, dropped when the test is done with it.
pub struct TestDatabase {
    /// Connection URL of the database.
    pub url: String,
    name: String,
}

fn database_url(name: &str) -> String {
    let admin = admin_url();
    match admin.rfind('/') {
        Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &admin[..slash]),
        _ => format!("{admin}/{name}"),
    }
}

impl TestDatabase {
    /// Creates a new empty database.
    pub async fn create() -> Self {
        let name = format!("sr_test_{}_{}", std::process::id(), uniq());
        let mut admin = PgConnection::connect(admin_url())
            .await
            .unwrap_or_else(|e| {
                panic!("cannot connect to the test PostgreSQL: {e}\n{INSTALL_HINT}")
            });
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE failed: {e}"));
        Self {
            url: database_url(&name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a plain thread with its own runtime avoids
        // blocking on it.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(admin_url()).await {
                        let _ = admin
                            .execute(AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            )))
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

fn uniq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
