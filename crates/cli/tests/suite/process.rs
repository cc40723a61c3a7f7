//! The server as an operator runs it: the `strongroom server` process, its defaults,
//! its refusals, TLS, restarts, SIGKILL in the middle of a write burst, and root-key
//! rotation while it serves.

use crate::{ok, value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strongroom_client::Client;
use strongroom_testkit::{Backend, TestApp, TestDatabase};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

/// A `strongroom server` child process.
struct ServerProcess {
    child: Child,
    url: String,
    banner: Vec<String>,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// Starts the binary and waits for its "listening on" line; on failure returns stderr.
async fn spawn_server(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<ServerProcess, String> {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"));
    command
        .arg("server")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "STRONGROOM_DATA_DIR",
        "STRONGROOM_LISTEN",
        "STRONGROOM_DATABASE_URL",
        "STRONGROOM_CONFIG",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let mut banner = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            banner.push(line.clone());
            if line.contains("Press Ctrl-C") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if !found {
        let _ = child.kill().await;
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut stderr).await;
        }
        return Err(stderr);
    }
    let url = banner
        .iter()
        .find(|l| l.contains("listening on"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_default()
        .to_owned();
    Ok(ServerProcess {
        child,
        url,
        banner,
        stdout,
    })
}

fn signal(child: &Child, signal: &str) {
    let pid = child
        .id()
        .unwrap_or_else(|| panic!("server already exited"));
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_with_no_configuration_and_stops_cleanly() {
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut server = spawn_server(cwd.path(), &[], &[])
        .await
        .unwrap_or_else(|e| panic!("did not start: {e}"));
    let banner = server.banner.join("\n");
    assert!(
        banner.contains("listening on  http://127.0.0.1:8420"),
        "{banner}"
    );
    let data = cwd.path().join("strongroom-data");
    assert!(banner.contains(&data.display().to_string()), "{banner}");
    assert!(banner.contains("SQLite"), "{banner}");
    assert_eq!(mode(&data.join("root.key")), 0o600);
    assert_eq!(mode(&data.join("strongroom.db")), 0o600);
    assert_eq!(mode(&data), 0o700);
    let client = Client::new(&server.url, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok(client.health().await).status, "ok");

    signal(&server.child, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .unwrap_or_else(|_| panic!("server did not stop within 30s of SIGTERM"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = server.stdout.next_line().await {
        rest.push(line);
    }
    assert!(
        rest.iter().any(|l| l.contains("stopped cleanly")),
        "{rest:?}"
    );

    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        data.join("strongroom.db").display()
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(journal, "wal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_verification_codes_are_printed_on_the_console_for_development() {
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut server = spawn_server(cwd.path(), &["--listen", "127.0.0.1:0"], &[])
        .await
        .unwrap_or_else(|e| panic!("did not start: {e}"));
    let banner = server.banner.join("\n");
    assert!(banner.contains("no SMTP configured"), "{banner}");
    let client = Client::new(&server.url, None).unwrap_or_else(|e| panic!("{e}"));
    let bob = ok(client
        .signup(&crate::signup_request(
            "bob",
            "bob@example.com",
            strongroom_testkit::PASSWORD,
        ))
        .await);
    let line = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = server.stdout.next_line().await {
            if line.contains("verification code for bob") {
                return line;
            }
        }
        String::new()
    })
    .await
    .unwrap_or_default();
    assert!(line.contains("development only"), "{line:?}");
    let code = line.split_whitespace().last().unwrap_or_default();
    let bob = client.with_token(bob.token.expose().to_owned());
    assert!(ok(bob.verify_email(code).await).email_verified);
    let _ = server.child.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_key_file_others_can_read_is_refused_with_the_fix() {
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let args = ["--listen", "127.0.0.1:0"];
    let mut first = spawn_server(cwd.path(), &args, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    signal(&first.child, "-TERM");
    let _ = first.child.wait().await;
    let key = cwd.path().join("strongroom-data/root.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = spawn_server(cwd.path(), &args, &[])
        .await
        .err()
        .unwrap_or_else(|| panic!("started with a 0644 key"));
    assert!(refused.contains("chmod 600"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_a_network_address_needs_explicit_consent() {
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let refused = spawn_server(cwd.path(), &["--listen", "0.0.0.0:0"], &[])
        .await
        .err()
        .unwrap_or_else(|| panic!("listened on 0.0.0.0 without TLS"));
    assert!(
        refused.contains("--insecure-http") && refused.contains("--tls-cert"),
        "{refused}"
    );
    let mut server = spawn_server(
        cwd.path(),
        &["--listen", "0.0.0.0:0", "--insecure-http"],
        &[],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // Behind the TLS-terminating proxy this consent promises, browsers use HTTPS: the
    // dashboard's cookies are Secure and its pages ask browsers to keep to HTTPS.
    let port = server.url.rsplit(':').next().unwrap_or_default().to_owned();
    let mut web = strongroom_testkit::WebBrowser::new(&format!("http://127.0.0.1:{port}"));
    let page = web.get("/ui/signin").await;
    assert!(
        page.set_cookies().iter().all(|c| c.contains("; Secure")),
        "{:?}",
        page.set_cookies()
    );
    assert!(page.headers.contains_key("strict-transport-security"));
    signal(&server.child, "-TERM");
    let _ = server.child.wait().await;
    let mut stderr = String::new();
    if let Some(mut err) = server.child.stderr.take() {
        let _ = err.read_to_string(&mut stderr).await;
    }
    assert!(stderr.contains("WARNING"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_https_with_tls_files() {
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap_or_else(|e| panic!("{e}"));
    let cert_pem = certified.cert.pem();
    let cert = cwd.path().join("cert.pem");
    let key = cwd.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap_or_else(|e| panic!("{e}"));
    let (cert_arg, key_arg) = (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    );
    let mut server = spawn_server(
        cwd.path(),
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-cert",
            &cert_arg,
            "--tls-key",
            &key_arg,
        ],
        &[],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let port = server.url.rsplit(':').next().unwrap_or_default().to_owned();
    let client = Client::new(
        &format!("https://127.0.0.1:{port}"),
        Some(cert_pem.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok(client.health().await).status, "ok");
    let untrusted =
        Client::new(&format!("https://127.0.0.1:{port}"), None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        untrusted.health().await.is_err(),
        "an unknown certificate must not be trusted"
    );
    // Over TLS the dashboard's cookies are marked Secure.
    let browser = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let page = browser
        .get(format!("https://127.0.0.1:{port}/ui/signin"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(page.headers().contains_key("strict-transport-security"));
    signal(&server.child, "-TERM");
    assert!(
        server
            .child
            .wait()
            .await
            .map(|s| s.success())
            .unwrap_or(false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_comes_from_a_file_overridden_by_the_environment() {
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = cwd.path().join("strongroom.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\ndata_dir = \"from-file\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file_arg = file.to_string_lossy().into_owned();
    let mut from_file = spawn_server(cwd.path(), &["--config", &file_arg], &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(from_file.banner.join("\n").contains("from-file"));
    signal(&from_file.child, "-TERM");
    let _ = from_file.child.wait().await;

    let mut from_env = spawn_server(
        cwd.path(),
        &[],
        &[
            ("STRONGROOM_CONFIG", &file_arg),
            ("STRONGROOM_DATA_DIR", "from-env"),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(from_env.banner.join("\n").contains("from-env"));
    assert!(cwd.path().join("from-env/root.key").exists());
    signal(&from_env.child, "-TERM");
    let _ = from_env.child.wait().await;

    std::fs::write(&file, "lisen = \"typo\"\n").unwrap_or_else(|e| panic!("{e}"));
    let refused = spawn_server(cwd.path(), &["--config", &file_arg], &[])
        .await
        .err()
        .unwrap_or_default();
    assert!(refused.contains("unknown field"), "{refused}");
}

async fn restarting_the_server_loses_nothing(mut app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice
        .client
        .put_secret("payments/api/production/KEY", &value("v1"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/production/KEY", &value("v2"))
        .await);
    app.restart().await;
    let client = app.client.with_token(alice.token.clone());
    assert_eq!(
        ok(client.reveal("payments/api/production/KEY", Some(1)).await)
            .value
            .expose(),
        "v1"
    );
    assert_eq!(
        ok(client.reveal("payments/api/production/KEY", None).await)
            .value
            .expose(),
        "v2"
    );
    assert_eq!(ok(client.whoami().await).user.username, "alice");
}

/// Writes as fast as possible from several tasks, kills the server with SIGKILL mid-way,
/// restarts it, and checks that every write that was acknowledged is there, exactly.
async fn sigkill_during_a_write_burst_loses_no_acknowledged_write(backend: Backend) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(TestDatabase::create().await),
    };
    let data = dir.path().join("data").to_string_lossy().into_owned();
    let mut args = vec![
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--data-dir".to_owned(),
        data,
    ];
    if let Some(db) = &database {
        args.extend(["--database-url".to_owned(), db.url.clone()]);
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = spawn_server(dir.path(), &arg_refs, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let app_client = Client::new(&server.url, None).unwrap_or_else(|e| panic!("{e}"));
    let signup = ok(app_client
        .signup(&crate::signup_request(
            "alice",
            "alice@example.com",
            strongroom_testkit::PASSWORD,
        ))
        .await);
    let token = signup.token.expose().to_owned();
    let client = app_client.with_token(token.clone());
    ok(client.create_app("burst").await);
    ok(client.create_project("burst/p").await);

    let acknowledged = Arc::new(Mutex::new(Vec::<(String, i64, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let client = client.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let path = format!("burst/p/production/W{w}");
                let v = format!("writer{w}-write{i}");
                match client.put_secret(&path, &value(&v)).await {
                    Ok(written) => acknowledged
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((path, written.version, v)),
                    Err(_) => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&server.child, "-KILL");
    let _ = server.child.wait().await;
    for writer in writers {
        let _ = writer.await;
    }
    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    assert!(
        acknowledged.len() >= 20,
        "only {} writes were acknowledged before the kill",
        acknowledged.len()
    );

    let mut restarted = spawn_server(dir.path(), &arg_refs, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = Client::new(&restarted.url, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_token(token);
    for (path, version, expected) in &acknowledged {
        let revealed = ok(client.reveal(path, Some(*version)).await);
        assert_eq!(revealed.value.expose(), expected, "{path} v{version}");
    }
    signal(&restarted.child, "-TERM");
    let _ = restarted.child.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_write_burst_loses_no_acknowledged_write_on_sqlite() {
    sigkill_during_a_write_burst_loses_no_acknowledged_write(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_write_burst_loses_no_acknowledged_write_on_postgres() {
    sigkill_during_a_write_burst_loses_no_acknowledged_write(Backend::Postgres).await;
}

fn key_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    json["keys"]
        .as_object()
        .map(|k| k.keys().cloned().collect())
        .unwrap_or_default()
}

async fn root_key_rotation_rewraps_every_key_while_reads_continue(mut app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice.client.create_project("payments/web").await);
    ok(alice
        .client
        .put_secret("payments/api/production/A", &value("a"))
        .await);
    ok(alice
        .client
        .put_secret("payments/web/staging/B", &value("b"))
        .await);
    let key_file: PathBuf = app.data_dir().join("root.key");
    let old_ids = key_ids(&key_file);
    let old_copy = app.scratch().join("old-root.key");
    std::fs::copy(&key_file, &old_copy).unwrap_or_else(|e| panic!("{e}"));

    // Readers keep reading through the rotation; none may fail.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let client = alice.client.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let a = client.reveal("payments/api/production/A", None).await;
                assert_eq!(
                    a.map(|r| r.value.expose().to_owned()).ok().as_deref(),
                    Some("a")
                );
                reads += 1;
            }
            reads
        })
    };

    let mut args = vec![
        "admin".to_owned(),
        "rotate-root-key".to_owned(),
        "--json".to_owned(),
        "--data-dir".to_owned(),
    ];
    args.push(app.data_dir().to_string_lossy().into_owned());
    if let Some(url) = &app.config.database_url {
        args.extend(["--database-url".to_owned(), url.clone()]);
    }
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(&args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(
        report["rewrapped_data_keys"].as_u64().unwrap_or(0) >= 3,
        "{report}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        reader
            .await
            .unwrap_or_else(|e| panic!("a read failed during rotation: {e}"))
            > 0
    );

    let new_ids = key_ids(&key_file);
    assert_eq!(new_ids.len(), 1);
    assert!(!old_ids.contains(&new_ids[0]));
    assert_eq!(report["new_root_key_id"], new_ids[0].as_str());
    assert_eq!(mode(&key_file), 0o600);

    // The running server keeps working, including for keys made after the rotation.
    ok(alice.client.create_project("payments/jobs").await);
    ok(alice
        .client
        .put_secret("payments/jobs/production/C", &value("c"))
        .await);
    assert_eq!(
        ok(alice.client.reveal("payments/web/staging/B", None).await)
            .value
            .expose(),
        "b"
    );

    app.restart().await;
    let client = app.client.with_token(alice.token.clone());
    for (path, expected) in [
        ("payments/api/production/A", "a"),
        ("payments/web/staging/B", "b"),
        ("payments/jobs/production/C", "c"),
    ] {
        assert_eq!(ok(client.reveal(path, None).await).value.expose(), expected);
    }
    app.stop().await;

    // The old key file no longer opens this database.
    let mut stale = app.config.clone();
    stale.root_key_file = Some(old_copy);
    let refused = strongroom_server::start(stale, strongroom_server::Settings::default())
        .await
        .err();
    let message = refused.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("does not open"), "{message}");
}

crate::on_both_backends!(
    restarting_the_server_loses_nothing,
    root_key_rotation_rewraps_every_key_while_reads_continue
);

/// Nothing a person types into the dashboard, nor what it reveals, reaches the server's
/// logs, even at debug level: not the password, not a secret's value, not the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_leaves_no_password_value_or_session_in_the_logs() {
    const VALUE: &str = "sk_live_dashboard_log_probe";
    let cwd = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut server = spawn_server(
        cwd.path(),
        &["--listen", "127.0.0.1:0"],
        &[("STRONGROOM_LOG", "debug")],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // Debug logging fills a pipe quickly: read it while the server runs.
    let mut stderr = server
        .child
        .stderr
        .take()
        .unwrap_or_else(|| panic!("no stderr"));
    let collected = tokio::spawn(async move {
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs).await;
        logs
    });
    let mut web = strongroom_testkit::WebBrowser::new(&server.url);
    let page = web.get("/ui/signup").await;
    let signed_up = web
        .post(
            "/ui/signup",
            &[
                ("csrf", &page.csrf()),
                ("username", "alice"),
                ("email", "alice@example.com"),
                ("password", strongroom_testkit::PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        signed_up.location(),
        Some("/ui/verify"),
        "{}",
        signed_up.body
    );
    let session = web
        .cookie("strongroom_session")
        .unwrap_or_default()
        .to_owned();
    let csrf = web.get("/ui/apps").await.csrf();
    web.post("/ui/apps", &[("csrf", &csrf), ("name", "payments")])
        .await;
    web.post("/ui/apps/payments", &[("csrf", &csrf), ("name", "api")])
        .await;
    let created = web
        .post(
            "/ui/apps/payments/api/production",
            &[("csrf", &csrf), ("name", "KEY"), ("value", VALUE)],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let revealed = web
        .post(
            "/ui/apps/payments/api/production/KEY/reveal",
            &[("csrf", &csrf)],
        )
        .await;
    assert!(revealed.body.contains(VALUE));
    signal(&server.child, "-TERM");
    let _ = server.child.wait().await;
    let mut logs = collected.await.unwrap_or_default();
    while let Ok(Some(line)) = server.stdout.next_line().await {
        logs.push_str(&line);
        logs.push('\n');
    }
    assert!(logs.contains("/ui/apps"), "the requests are logged: {logs}");
    for secret in [
        VALUE,
        strongroom_testkit::PASSWORD,
        session.as_str(),
        csrf.as_str(),
    ] {
        assert!(
            !secret.is_empty() && !logs.contains(secret),
            "{secret} is in the logs"
        );
    }
}
