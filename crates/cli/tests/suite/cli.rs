//! The `strongroom` binary as a user drives it, against a real server.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use strongroom_testkit::{PASSWORD, TestApp};
use tokio::io::AsyncWriteExt;

/// Runs the CLI with its own configuration directory.
pub struct Cli {
    pub config_dir: PathBuf,
    pub server: String,
}

impl Cli {
    pub fn new(app: &TestApp, name: &str) -> Self {
        let config_dir = app.scratch().join(format!("cli-{name}"));
        Self {
            config_dir,
            server: app.url.clone(),
        }
    }

    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_with_env(args, stdin, &[]).await
    }

    pub async fn run_with_env(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"));
        command
            .args(args)
            .env("STRONGROOM_CONFIG_DIR", &self.config_dir)
            .env_remove("STRONGROOM_SERVER")
            .env_remove("STRONGROOM_TOKEN")
            .env_remove("STRONGROOM_MACHINE_KEY")
            .env_remove("STRONGROOM_VAULT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run strongroom: {e}"));
        // Taking stdin closes it after writing, so commands reading it see the end.
        if let Some(mut input) = child.stdin.take()
            && let Some(text) = stdin
        {
            let _ = input.write_all(text.as_bytes()).await;
        }
        child
            .wait_with_output()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs and expects exit code 0; returns stdout.
    pub async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin).await;
        assert!(
            out.status.success(),
            "strongroom {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Signs up `username` through the CLI and remembers the session.
    pub async fn signup(&self, username: &str) {
        let email = format!("{username}@example.com");
        self.ok(
            &[
                "signup",
                "--server",
                &self.server,
                "--username",
                username,
                "--email",
                &email,
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

async fn the_cli_manages_secrets_end_to_end(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    let token_mode =
        std::fs::metadata(cli.config_dir.join("token")).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(token_mode.ok(), Some(0o600));

    let me = json(&cli.ok(&["whoami", "--json"], None).await);
    assert_eq!(me["user"]["username"], "alice");
    assert!(
        me["vault"]["id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("vault_")
    );

    cli.ok(&["apps", "create", "payments"], None).await;
    cli.ok(&["projects", "create", "payments/api"], None).await;
    cli.ok(&["envs", "create", "payments/api/qa"], None).await;
    let envs = json(
        &cli.ok(&["envs", "list", "payments/api", "--json"], None)
            .await,
    );
    assert_eq!(envs.as_array().map(Vec::len), Some(4));

    let key = "payments/api/production/STRIPE_KEY";
    cli.ok(
        &[
            "secrets",
            "set",
            key,
            "--value-stdin",
            "--type",
            "api_key",
            "--note",
            "live key",
        ],
        Some("sk_live_1\n"),
    )
    .await;
    cli.ok(&["secrets", "set", key, "--value-stdin"], Some("sk_live_2"))
        .await;
    assert_eq!(cli.ok(&["secrets", "get", key], None).await, "sk_live_2");
    assert_eq!(
        cli.ok(&["secrets", "get", key, "--version", "1"], None)
            .await,
        "sk_live_1"
    );

    let list = json(
        &cli.ok(
            &["secrets", "list", "payments/api/production", "--json"],
            None,
        )
        .await,
    );
    assert_eq!(list[0]["name"], "STRIPE_KEY");
    assert_eq!(list[0]["version"], 2);
    assert_eq!(list[0]["type"], "api_key");
    let history = json(&cli.ok(&["secrets", "history", key, "--json"], None).await);
    assert_eq!(history.as_array().map(Vec::len), Some(2));

    let rolled = json(
        &cli.ok(&["secrets", "rollback", key, "--to", "1", "--json"], None)
            .await,
    );
    assert_eq!(rolled["version"], 3);
    assert_eq!(cli.ok(&["secrets", "get", key], None).await, "sk_live_1");

    cli.ok(&["secrets", "delete", key], None).await;
    assert_eq!(
        cli.run(&["secrets", "get", key], None).await.status.code(),
        Some(5)
    );
    let trash = json(&cli.ok(&["secrets", "trash", "--json"], None).await);
    assert_eq!(trash[0]["path"], key);
    cli.ok(&["secrets", "restore", key], None).await;
    assert_eq!(cli.ok(&["secrets", "get", key], None).await, "sk_live_1");
    cli.ok(&["secrets", "delete", key], None).await;
    cli.ok(&["secrets", "purge", key], None).await;
    assert_eq!(
        json(&cli.ok(&["secrets", "trash", "--json"], None).await),
        serde_json::json!([])
    );

    let certificate = app.scratch().join("cert.pem");
    std::fs::write(
        &certificate,
        "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let cert_path = certificate.to_string_lossy().into_owned();
    cli.ok(
        &[
            "secrets",
            "set",
            "payments/api/production/TLS",
            "--value-file",
            &cert_path,
            "--type",
            "certificate",
        ],
        None,
    )
    .await;
    assert_eq!(
        cli.ok(&["secrets", "get", "payments/api/production/TLS"], None)
            .await,
        "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"
    );
}

async fn run_injects_secrets_as_environment_variables(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    cli.ok(&["apps", "create", "web"], None).await;
    cli.ok(&["projects", "create", "web/site"], None).await;
    cli.ok(
        &[
            "secrets",
            "set",
            "web/site/production/DATABASE_URL",
            "--value-stdin",
        ],
        Some("postgres://db/prod"),
    )
    .await;
    cli.ok(
        &[
            "secrets",
            "set",
            "web/site/production/API_TOKEN",
            "--value-stdin",
        ],
        Some("tok en$HOME\""),
    )
    .await;
    let out = cli
        .ok(
            &[
                "run",
                "--env",
                "web/site/production",
                "--",
                "sh",
                "-c",
                "printf '%s|%s' \"$DATABASE_URL\" \"$API_TOKEN\"",
            ],
            None,
        )
        .await;
    assert_eq!(out, "postgres://db/prod|tok en$HOME\"");
    let exit = cli
        .run(
            &[
                "run",
                "--env",
                "web/site/production",
                "--",
                "sh",
                "-c",
                "exit 7",
            ],
            None,
        )
        .await;
    assert_eq!(
        exit.status.code(),
        Some(7),
        "run passes the command's exit code through"
    );
    cli.ok(
        &[
            "secrets",
            "set",
            "web/site/production/not-an-env-name",
            "--value-stdin",
        ],
        Some("x"),
    )
    .await;
    let refused = cli
        .run(&["run", "--env", "web/site/production", "--", "true"], None)
        .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not-an-env-name"));
}

async fn export_and_import_round_trip(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    cli.ok(&["apps", "create", "web"], None).await;
    cli.ok(&["projects", "create", "web/site"], None).await;
    let tricky = [
        ("PLAIN", "simple"),
        ("QUOTES", "it's \"quoted\""),
        ("MULTI", "line1\nline2"),
        ("DOLLAR", "$NOT_EXPANDED"),
    ];
    for (name, value) in tricky {
        cli.ok(
            &[
                "secrets",
                "set",
                &format!("web/site/development/{name}"),
                "--value-stdin",
            ],
            Some(&format!("{value}\n")),
        )
        .await;
    }
    let dotenv = cli
        .ok(
            &[
                "export",
                "--env",
                "web/site/development",
                "--format",
                "dotenv",
            ],
            None,
        )
        .await;
    let file = app.scratch().join("dev.env");
    std::fs::write(&file, &dotenv).unwrap_or_else(|e| panic!("{e}"));
    let file_arg = file.to_string_lossy().into_owned();
    let imported = json(
        &cli.ok(
            &[
                "import",
                "--env",
                "web/site/staging",
                "--format",
                "dotenv",
                &file_arg,
                "--json",
            ],
            None,
        )
        .await,
    );
    assert_eq!(imported["created"].as_array().map(Vec::len), Some(4));

    let exported = json(
        &cli.ok(
            &["export", "--env", "web/site/staging", "--format", "json"],
            None,
        )
        .await,
    );
    for (name, value) in tricky {
        assert_eq!(exported[name], value, "{name}");
    }
    // Importing the same file again changes nothing.
    let again = json(
        &cli.ok(
            &["import", "--env", "web/site/staging", &file_arg, "--json"],
            None,
        )
        .await,
    );
    assert_eq!(again["unchanged"].as_array().map(Vec::len), Some(4));
    // JSON import from standard input.
    let from_json = json(
        &cli.ok(
            &[
                "import",
                "--env",
                "web/site/staging",
                "--format",
                "json",
                "-",
                "--json",
            ],
            Some("{\"PLAIN\": \"changed\"}"),
        )
        .await,
    );
    assert_eq!(from_json["updated"], serde_json::json!(["PLAIN"]));
}

async fn exit_codes_follow_the_contract(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    let not_signed_in = cli.run(&["whoami"], None).await;
    assert_eq!(not_signed_in.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&not_signed_in.stderr).contains("strongroom login"));

    cli.signup("alice").await;
    let cases: [(&[&str], i32); 4] = [
        (&["secrets", "get", "a/b/c/D"], 5),
        (&["secrets", "get", "a/b/c"], 2),
        (&["secrets", "get", "a/../c/D"], 2),
        (&["secrets", "frobnicate"], 2),
    ];
    for (args, code) in cases {
        assert_eq!(
            cli.run(args, None).await.status.code(),
            Some(code),
            "{args:?}"
        );
    }
    let wrong = cli
        .run(
            &["login", "--username", "alice", "--password-stdin"],
            Some("not the password\n"),
        )
        .await;
    assert_eq!(wrong.status.code(), Some(3));
    let json_error = cli
        .run(&["secrets", "get", "a/b/c/D", "--json"], None)
        .await;
    let body = json(String::from_utf8_lossy(&json_error.stderr).trim());
    assert_eq!(body["error"]["code"], "not_found");

    cli.ok(&["logout"], None).await;
    assert_eq!(cli.run(&["whoami"], None).await.status.code(), Some(3));
    cli.ok(
        &["login", "--username", "alice", "--password-stdin"],
        Some(PASSWORD),
    )
    .await;
    cli.ok(&["whoami"], None).await;
    let overridden = cli
        .run_with_env(
            &["whoami"],
            None,
            &[("STRONGROOM_SERVER", "http://127.0.0.1:9")],
        )
        .await;
    assert_eq!(overridden.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&overridden.stderr).contains("127.0.0.1:9"));
}

async fn totp_and_step_up_work_from_the_cli(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    let enrollment = json(&cli.ok(&["totp", "enroll", "--json"], None).await);
    let base32 = enrollment["secret_base32"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let secret = strongroom_crypto::totp::TotpSecret::from_bytes(
        totp_rs::Secret::Encoded(base32)
            .to_bytes()
            .unwrap_or_default(),
    );
    crate::early_in_a_totp_step().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let code = secret.code_at(now - 30).unwrap_or_default();
    let codes = json(&cli.ok(&["totp", "confirm", &code, "--json"], None).await);
    assert_eq!(codes["codes"].as_array().map(Vec::len), Some(10));

    cli.ok(&["logout"], None).await;
    let without = cli
        .run(
            &["login", "--username", "alice", "--password-stdin"],
            Some(PASSWORD),
        )
        .await;
    assert_eq!(without.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&without.stderr).contains("--totp"));
    let next = secret.code_at(now).unwrap_or_default();
    cli.ok(
        &[
            "login",
            "--username",
            "alice",
            "--password-stdin",
            "--totp",
            &next,
        ],
        Some(PASSWORD),
    )
    .await;
    let needs_step_up = cli.run(&["totp", "disable"], None).await;
    assert_eq!(needs_step_up.status.code(), Some(3));
    let later = secret.code_at(now + 30).unwrap_or_default();
    cli.ok(
        &["step-up", "--password-stdin", "--totp", &later],
        Some(PASSWORD),
    )
    .await;
    cli.ok(&["totp", "disable"], None).await;
}

/// `--data-dir` (and `--database-url`) of the app's server, for `strongroom admin`.
fn storage_args(app: &TestApp) -> Vec<String> {
    let mut args = vec![
        "--data-dir".to_owned(),
        app.config.data_dir.display().to_string(),
    ];
    if let Some(url) = &app.config.database_url {
        args.extend(["--database-url".to_owned(), url.clone()]);
    }
    args
}

async fn admin(cli: &Cli, app: &TestApp, args: &[&str]) -> String {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(storage_args(app));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    cli.ok(&refs, None).await
}

async fn organizations_are_run_from_the_cli(app: TestApp) {
    let alice = Cli::new(&app, "alice");
    alice.signup("alice").await;
    let org = json(&alice.ok(&["org", "create", "acme", "--json"], None).await);
    let org_id = org["id"].as_str().unwrap_or_default().to_owned();
    assert!(
        alice
            .ok(&["vaults", "use", "acme"], None)
            .await
            .contains("Now acting in acme")
    );
    let roster = json(&alice.ok(&["members", "list", "--json"], None).await);
    assert_eq!(
        (
            roster["plan"].as_str(),
            roster["used"].as_u64(),
            roster["cap"].as_u64()
        ),
        (Some("free"), Some(1), Some(3))
    );

    let bob = Cli::new(&app, "bob");
    bob.signup("bob").await;
    assert_eq!(
        bob.run(&["invites", "list"], None).await.status.code(),
        Some(4),
        "unverified"
    );
    admin(&alice, &app, &["admin", "verify-email", "bob"]).await;
    alice
        .ok(
            &[
                "members",
                "invite",
                "bob@example.com",
                "--vault-role",
                "developer",
            ],
            None,
        )
        .await;
    let invites = json(&bob.ok(&["invites", "list", "--json"], None).await);
    assert_eq!(invites[0]["organization"], "acme");
    assert_eq!(invites[0]["invited_by"], "alice");
    let invite_id = invites[0]["id"].as_str().unwrap_or_default().to_owned();
    bob.ok(&["invites", "accept", &invite_id], None).await;
    bob.ok(&["vaults", "use", &org_id], None).await;
    let vaults = json(&bob.ok(&["vaults", "list", "--json"], None).await);
    let current: Vec<&str> = vaults
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["current"] == true)
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(current, vec!["acme"]);

    let link = json(
        &alice
            .ok(
                &[
                    "links",
                    "create",
                    "--expires",
                    "1d",
                    "--max-uses",
                    "1",
                    "--json",
                ],
                None,
            )
            .await,
    );
    let token = link["token"].as_str().unwrap_or_default().to_owned();
    let carol = Cli::new(&app, "carol");
    carol.signup("carol").await;
    carol.ok(&["join", &token], None).await;
    carol.ok(&["vaults", "use", "acme"], None).await;
    let full = alice
        .run(&["members", "invite", "dave@example.com"], None)
        .await;
    assert_eq!(full.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&full.stderr).contains("/billing"));
    admin(&alice, &app, &["admin", "set-plan", "acme", "team"]).await;
    let roster = json(&alice.ok(&["members", "list", "--json"], None).await);
    assert_eq!(
        (
            roster["plan"].as_str(),
            roster["used"].as_u64(),
            roster["cap"].as_u64()
        ),
        (Some("team"), Some(3), Some(25))
    );

    alice.ok(&["members", "suspend", "bob"], None).await;
    assert_eq!(
        bob.run(&["members", "list"], None).await.status.code(),
        Some(4)
    );
    alice.ok(&["members", "unsuspend", "bob"], None).await;
    bob.ok(&["members", "list"], None).await;

    alice
        .ok(
            &["org", "transfer", "bob", "--password-stdin"],
            Some(PASSWORD),
        )
        .await;
    bob.ok(&["org", "delete", "--password-stdin"], Some(PASSWORD))
        .await;
    assert_eq!(
        alice.run(&["apps", "list"], None).await.status.code(),
        Some(4)
    );
    bob.ok(&["org", "restore", &org_id], None).await;
    alice.ok(&["apps", "list"], None).await;
    alice.ok(&["org", "leave"], None).await;
    assert!(alice.ok(&["whoami"], None).await.contains("personal"));
}

async fn access_roles_are_authored_from_a_toml_file(app: TestApp) {
    let alice = Cli::new(&app, "alice");
    alice.signup("alice").await;
    alice.ok(&["org", "create", "acme"], None).await;
    alice.ok(&["vaults", "use", "acme"], None).await;
    alice.ok(&["apps", "create", "payments"], None).await;
    alice
        .ok(&["projects", "create", "payments/api"], None)
        .await;
    alice
        .ok(
            &[
                "secrets",
                "set",
                "payments/api/production/KEY",
                "--value-stdin",
            ],
            Some("v"),
        )
        .await;
    let dev = Cli::new(&app, "dev");
    dev.signup("dev").await;
    admin(&alice, &app, &["admin", "verify-email", "dev"]).await;
    alice
        .ok(
            &[
                "members",
                "invite",
                "dev@example.com",
                "--vault-role",
                "developer",
            ],
            None,
        )
        .await;
    let invites = json(&dev.ok(&["invites", "list", "--json"], None).await);
    dev.ok(
        &[
            "invites",
            "accept",
            invites[0]["id"].as_str().unwrap_or_default(),
        ],
        None,
    )
    .await;
    dev.ok(&["vaults", "use", "acme"], None).await;

    let file = app.scratch().join("readers.toml");
    std::fs::write(
        &file,
        "scope = \"everything\"\noff = [\"reveal\"]\ndeny = [\"payments/api/staging\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = file.display().to_string();
    alice
        .ok(
            &["access-roles", "create", "readers", "--from-file", &file],
            None,
        )
        .await;
    alice
        .ok(
            &["members", "set-role", "dev", "--access-role", "readers"],
            None,
        )
        .await;
    let shown = json(
        &alice
            .ok(&["access-roles", "show", "readers", "--json"], None)
            .await,
    );
    assert_eq!(shown["spec"]["off"], serde_json::json!(["reveal"]));
    assert_eq!(shown["members"], 1);
    assert!(
        dev.ok(&["secrets", "list", "payments/api/production"], None)
            .await
            .contains("KEY")
    );
    let refused = dev
        .run(&["secrets", "get", "payments/api/production/KEY"], None)
        .await;
    assert_eq!(refused.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reveal"));
    let denied = alice
        .run(
            &["check", "dev", "reveal", "payments/api/production/KEY"],
            None,
        )
        .await;
    assert_eq!(denied.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&denied.stdout).starts_with("deny: dev may not reveal"));
    assert!(
        alice
            .ok(
                &["check", "dev", "read", "payments/api/production/KEY"],
                None
            )
            .await
            .starts_with("allow:")
    );
    let usage = alice.run(&["members", "set-role", "dev"], None).await;
    assert_eq!(usage.status.code(), Some(2));
    alice
        .ok(&["members", "set-role", "dev", "--no-access-role"], None)
        .await;
    assert_eq!(
        dev.run(&["apps", "list"], None).await.status.code(),
        Some(4)
    );

    // Custom vault roles: refused below enterprise (exit 4, naming the plan), then authored
    // from a TOML file, held, and deletable only once nobody holds them.
    let role_file = app.scratch().join("auditors.toml");
    std::fs::write(
        &role_file,
        "description = \"Auditors\"\ncapabilities = [\"overview\", \"members.view\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let role_file = role_file.display().to_string();
    let create = ["roles", "create", "auditors", "--from-file", &role_file];
    let refused = alice.run(&create, None).await;
    assert_eq!(refused.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("free plan"));
    admin(&alice, &app, &["admin", "set-plan", "acme", "enterprise"]).await;
    assert!(alice.ok(&create, None).await.contains("set-role"));
    alice
        .ok(
            &["members", "set-role", "dev", "--vault-role", "auditors"],
            None,
        )
        .await;
    let roles = json(&alice.ok(&["roles", "list", "--json"], None).await);
    assert_eq!(roles[4]["name"], "auditors");
    assert_eq!(roles[4]["members"], 1);
    let shown = alice.ok(&["roles", "show", "auditors"], None).await;
    assert!(
        shown.contains("Auditors") && shown.contains("members.view"),
        "{shown}"
    );
    assert!(
        dev.ok(&["members", "list"], None)
            .await
            .contains("auditors")
    );
    assert_eq!(
        alice
            .run(&["roles", "delete", "auditors"], None)
            .await
            .status
            .code(),
        Some(1)
    );
    alice
        .ok(
            &["members", "set-role", "dev", "--vault-role", "developer"],
            None,
        )
        .await;
    alice.ok(&["roles", "delete", "auditors"], None).await;
}

async fn the_audit_log_is_listed_exported_and_verified_from_the_cli(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    cli.ok(&["apps", "create", "payments"], None).await;
    cli.ok(&["projects", "create", "payments/api"], None).await;
    cli.ok(
        &[
            "secrets",
            "set",
            "payments/api/production/KEY",
            "--value-stdin",
        ],
        Some("s3cr3t-value\n"),
    )
    .await;
    cli.ok(&["secrets", "get", "payments/api/production/KEY"], None)
        .await;
    let listed = json(
        &cli.ok(&["audit", "list", "--action", "secret.*", "--json"], None)
            .await,
    );
    let actions: Vec<&str> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["secret.reveal", "secret.write"]);
    let table = cli.ok(&["audit", "list", "--since", "1h"], None).await;
    assert!(
        table.contains("secret.reveal") && table.contains("alice (member)"),
        "{table}"
    );

    let jsonl = cli
        .ok(&["audit", "export", "--format", "jsonl"], None)
        .await;
    let seqs: Vec<i64> = jsonl
        .lines()
        .map(|line| json(line)["seq"].as_i64().unwrap_or_default())
        .collect();
    assert!(seqs.len() >= 6);
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "oldest first"
    );
    let csv = cli
        .ok(
            &[
                "audit",
                "export",
                "--format",
                "csv",
                "--action",
                "secret.write",
            ],
            None,
        )
        .await;
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("seq,at,actor_kind"));
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[1].contains(",secret.write,payments/api/production/KEY,allowed,"));
    assert!(!jsonl.contains("s3cr3t-value") && !csv.contains("s3cr3t-value"));
    assert_eq!(
        cli.run(&["audit", "export", "--format", "xml"], None)
            .await
            .status
            .code(),
        Some(2)
    );

    assert!(cli.ok(&["audit", "verify"], None).await.contains("holds"));
    app.execute_sql("UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 2")
        .await;
    let broken = cli.run(&["audit", "verify"], None).await;
    assert_eq!(broken.status.code(), Some(6));
    let said = String::from_utf8_lossy(&broken.stdout);
    assert!(said.contains("#2") && said.contains("changed"), "{said}");
    assert!(
        cli.ok(&["alerts", "list"], None)
            .await
            .contains("No alert rules")
    );
}

async fn versions_are_deleted_undeleted_and_destroyed_from_the_cli(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    cli.ok(&["apps", "create", "payments"], None).await;
    cli.ok(&["projects", "create", "payments/api"], None).await;
    let key = "payments/api/production/DB_PASSWORD";
    for v in ["one", "two", "three"] {
        cli.ok(&["secrets", "set", key, "--value-stdin"], Some(v))
            .await;
    }
    let stale = cli
        .run(
            &[
                "secrets",
                "set",
                key,
                "--value-stdin",
                "--expected-version",
                "2",
            ],
            Some("four"),
        )
        .await;
    assert!(!stale.status.success());
    assert!(String::from_utf8_lossy(&stale.stderr).contains("check-and-set"));
    cli.ok(
        &[
            "secrets",
            "set",
            key,
            "--value-stdin",
            "--expected-version",
            "3",
        ],
        Some("four"),
    )
    .await;
    let deleted = cli
        .ok(&["secrets", "delete-version", key, "--version", "4"], None)
        .await;
    assert!(deleted.contains("Deleted version(s) 4"), "{deleted}");
    let refused = cli.run(&["secrets", "get", key], None).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("undelete"));
    cli.ok(&["secrets", "undelete", key, "--version", "4"], None)
        .await;
    assert_eq!(cli.ok(&["secrets", "get", key], None).await, "four");
    cli.ok(
        &[
            "secrets",
            "destroy",
            key,
            "--version",
            "1",
            "--version",
            "2",
        ],
        None,
    )
    .await;
    let history = json(&cli.ok(&["secrets", "history", key, "--json"], None).await);
    let destroyed: Vec<i64> = history
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["destroyed_at"].is_string())
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(destroyed, [2, 1]);
    let table = cli.ok(&["secrets", "history", key], None).await;
    assert!(table.contains("destroyed"), "{table}");
}

async fn approle_secret_ids_are_issued_listed_and_revoked_from_the_cli(app: TestApp) {
    let cli = Cli::new(&app, "alice");
    cli.signup("alice").await;
    let key = app.scratch().join("deployer.key");
    let key_arg = key.display().to_string();
    cli.ok(&["machines", "keygen", "--out", &key_arg], None)
        .await;
    let public = format!("{key_arg}.pub");
    cli.ok(
        &["machines", "register", "deployer", "--public-key", &public],
        None,
    )
    .await;
    let issued = json(
        &cli.ok(
            &[
                "machines",
                "approle",
                "deployer",
                "--token-ttl",
                "15m",
                "--json",
            ],
            None,
        )
        .await,
    );
    assert!(
        issued["secret_id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("srr_")
    );
    assert_eq!(issued["token_ttl_seconds"], 900);
    let login = strongroom_testkit::VaultHttp::new(&app.url, None)
        .post(
            "auth/approle/login",
            serde_json::json!({"role_id": issued["role_id"], "secret_id": issued["secret_id"]}),
        )
        .await;
    assert_eq!(login.status, 200);
    let accessor = issued["secret_id_accessor"].as_str().unwrap_or_default();
    let listed = cli
        .ok(&["machines", "approle-list", "deployer"], None)
        .await;
    assert!(
        listed.contains(accessor) && listed.contains("active"),
        "{listed}"
    );
    cli.ok(&["machines", "approle-revoke", "deployer", accessor], None)
        .await;
    let listed = json(
        &cli.ok(&["machines", "approle-list", "deployer", "--json"], None)
            .await,
    );
    assert!(listed["secret_ids"][0]["revoked_at"].is_string());
}

crate::on_both_backends!(
    versions_are_deleted_undeleted_and_destroyed_from_the_cli,
    approle_secret_ids_are_issued_listed_and_revoked_from_the_cli,
    the_audit_log_is_listed_exported_and_verified_from_the_cli,
    organizations_are_run_from_the_cli,
    access_roles_are_authored_from_a_toml_file,
    the_cli_manages_secrets_end_to_end,
    run_injects_secrets_as_environment_variables,
    export_and_import_round_trip,
    exit_codes_follow_the_contract,
    totp_and_step_up_work_from_the_cli,
);

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["server", "--help"],
        vec!["secrets", "--help"],
        vec!["secrets", "set", "--help"],
        vec!["secrets", "delete-version", "--help"],
        vec!["secrets", "undelete", "--help"],
        vec!["secrets", "destroy", "--help"],
        vec!["machines", "approle", "--help"],
        vec!["machines", "approle-list", "--help"],
        vec!["machines", "approle-revoke", "--help"],
        vec!["run", "--help"],
        vec!["import", "--help"],
        vec!["admin", "rotate-root-key", "--help"],
        vec!["admin", "set-plan", "--help"],
        vec!["admin", "verify-email", "--help"],
        vec!["vaults", "use", "--help"],
        vec!["org", "--help"],
        vec!["org", "convert", "--help"],
        vec!["org", "transfer", "--help"],
        vec!["org", "delete", "--help"],
        vec!["members", "--help"],
        vec!["members", "invite", "--help"],
        vec!["invites", "--help"],
        vec!["links", "create", "--help"],
        vec!["join", "--help"],
        vec!["roles", "show", "--help"],
        vec!["roles", "create", "--help"],
        vec!["roles", "edit", "--help"],
        vec!["roles", "delete", "--help"],
        vec!["machines", "--help"],
        vec!["machines", "keygen", "--help"],
        vec!["machines", "register", "--help"],
        vec!["access-roles", "create", "--help"],
        vec!["check", "--help"],
        vec!["verify-email", "--help"],
        vec!["change-email", "--help"],
        vec!["audit", "list", "--help"],
        vec!["audit", "export", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["alerts", "create", "--help"],
        vec!["alerts", "test", "--help"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}
