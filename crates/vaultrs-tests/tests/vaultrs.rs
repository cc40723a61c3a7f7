//! vaultrs (the Rust Vault client) against a real Strongroom server, unchanged but for
//! the address and the token: KV v2 reads, writes, lists, versions, metadata, health,
//! token lookup, AppRole login and namespaces, on SQLite and PostgreSQL.

use serde_json::{Value, json};
use std::collections::HashMap;
use strongroom_testkit::{Backend, TestApp, TestUser};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

const MOUNT: &str = "secret";
const DB: &str = "payments/api/production/db";

fn client(app: &TestApp, token: &str, namespace: Option<&str>) -> VaultClient {
    let mut settings = VaultClientSettingsBuilder::default();
    settings
        .address(&app.url)
        .token(token)
        .namespace(namespace.map(str::to_owned));
    VaultClient::new(settings.build().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn alice(app: &TestApp) -> TestUser {
    app.user_with_project("alice", "payments/api").await
}

async fn vaultrs_reads_writes_and_lists_secrets(app: TestApp) {
    let alice = alice(&app).await;
    let vault = client(&app, &alice.token, None);
    let data = HashMap::from([("user", "app"), ("pass", "s3cret")]);
    let written = vaultrs::kv2::set(&vault, MOUNT, DB, &data)
        .await
        .unwrap_or_else(|e| panic!("set: {e}"));
    assert_eq!(written.version, 1);
    let read: HashMap<String, String> = vaultrs::kv2::read(&vault, MOUNT, DB)
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(read["pass"], "s3cret");
    let nested = json!({"tls": {"mode": "full"}, "port": 5432});
    vaultrs::kv2::set(&vault, MOUNT, "payments/api/production/nested", &nested)
        .await
        .unwrap_or_else(|e| panic!("set: {e}"));
    let back: Value = vaultrs::kv2::read(&vault, MOUNT, "payments/api/production/nested")
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(back, nested);
    let keys = vaultrs::kv2::list(&vault, MOUNT, "payments/api/production")
        .await
        .unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(keys, ["db", "nested"]);
    let folders = vaultrs::kv2::list(&vault, MOUNT, "")
        .await
        .unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(folders, ["payments/"]);
    assert!(
        vaultrs::kv2::list(&vault, MOUNT, "payments/api/staging")
            .await
            .is_err(),
        "an empty folder is a 404"
    );
}

async fn vaultrs_follows_versions_and_metadata(app: TestApp) {
    let alice = alice(&app).await;
    let vault = client(&app, &alice.token, None);
    for v in ["1", "2", "3"] {
        vaultrs::kv2::set(&vault, MOUNT, DB, &HashMap::from([("v", v)]))
            .await
            .unwrap_or_else(|e| panic!("set: {e}"));
    }
    let first: HashMap<String, String> = vaultrs::kv2::read_version(&vault, MOUNT, DB, 1)
        .await
        .unwrap_or_else(|e| panic!("read_version: {e}"));
    assert_eq!(first["v"], "1");
    vaultrs::kv2::delete_versions(&vault, MOUNT, DB, vec![3])
        .await
        .unwrap_or_else(|e| panic!("delete_versions: {e}"));
    assert!(
        vaultrs::kv2::read::<HashMap<String, String>>(&vault, MOUNT, DB)
            .await
            .is_err()
    );
    vaultrs::kv2::undelete_versions(&vault, MOUNT, DB, vec![3])
        .await
        .unwrap_or_else(|e| panic!("undelete_versions: {e}"));
    vaultrs::kv2::destroy_versions(&vault, MOUNT, DB, vec![1])
        .await
        .unwrap_or_else(|e| panic!("destroy_versions: {e}"));
    let meta = vaultrs::kv2::read_metadata(&vault, MOUNT, DB)
        .await
        .unwrap_or_else(|e| panic!("read_metadata: {e}"));
    assert_eq!(meta.current_version, 3);
    assert!(meta.versions["1"].destroyed);
    assert!(!meta.versions["3"].destroyed);
    vaultrs::kv2::delete_metadata(&vault, MOUNT, DB)
        .await
        .unwrap_or_else(|e| panic!("delete_metadata: {e}"));
    assert!(
        vaultrs::kv2::read_metadata(&vault, MOUNT, DB)
            .await
            .is_err()
    );
}

async fn vaultrs_sees_a_healthy_server_and_its_own_token(app: TestApp) {
    let alice = alice(&app).await;
    let vault = client(&app, &alice.token, None);
    let health = vaultrs::sys::health(&vault)
        .await
        .unwrap_or_else(|e| panic!("health: {e}"));
    assert!(health.initialized && !health.sealed);
    let status = vaultrs::sys::status(&vault).await;
    assert!(
        matches!(status, Ok(vaultrs::sys::ServerStatus::OK)),
        "{status:?}"
    );
    let me = vaultrs::token::lookup_self(&vault)
        .await
        .unwrap_or_else(|e| panic!("lookup_self: {e}"));
    assert_eq!(me.display_name, "member-alice");
}

async fn vaultrs_logs_a_machine_in_with_approle(app: TestApp) {
    let alice = alice(&app).await;
    let member = client(&app, &alice.token, None);
    vaultrs::kv2::set(
        &member,
        MOUNT,
        DB,
        &HashMap::from([("pass", "machine-read")]),
    )
    .await
    .unwrap_or_else(|e| panic!("set: {e}"));
    let key = strongroom_crypto::machine_key::MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public();
    alice
        .client
        .register_machine("deployer", &key.to_openssh(""), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    alice
        .client
        .attach_machine("deployer", "payments/api", &[], &["reveal".to_owned()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let issued = alice
        .client
        .issue_approle(
            "deployer",
            &strongroom_proto::IssueApproleRequest::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let anonymous = client(&app, "", None);
    let auth = vaultrs::auth::approle::login(
        &anonymous,
        "approle",
        &issued.role_id,
        issued.secret_id.expose(),
    )
    .await
    .unwrap_or_else(|e| panic!("approle login: {e}"));
    let machine = client(&app, &auth.client_token, None);
    let read: HashMap<String, String> = vaultrs::kv2::read(&machine, MOUNT, DB)
        .await
        .unwrap_or_else(|e| panic!("read as the machine: {e}"));
    assert_eq!(read["pass"], "machine-read");
    assert!(
        vaultrs::kv2::set(&machine, MOUNT, DB, &HashMap::from([("pass", "x")]))
            .await
            .is_err(),
        "a machine never writes"
    );
}

async fn vaultrs_namespaces_name_the_tokens_own_vault(app: TestApp) {
    let alice = alice(&app).await;
    let own = client(&app, &alice.token, Some(&alice.signup.session.vault_id));
    vaultrs::kv2::set(&own, MOUNT, DB, &HashMap::from([("pass", "p")]))
        .await
        .unwrap_or_else(|e| panic!("set: {e}"));
    let mallory = app.signup("mallory").await;
    let probe = client(&app, &mallory.token, Some(&alice.signup.session.vault_id));
    let refused = vaultrs::kv2::read::<HashMap<String, String>>(&probe, MOUNT, DB).await;
    match refused {
        Err(vaultrs::error::ClientError::APIError { code, errors }) => {
            assert_eq!(code, 403);
            assert_eq!(errors, ["permission denied"]);
        }
        other => panic!("expected a 403, got {other:?}"),
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::TestApp::spawn(super::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::TestApp::spawn(super::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    vaultrs_reads_writes_and_lists_secrets,
    vaultrs_follows_versions_and_metadata,
    vaultrs_sees_a_healthy_server_and_its_own_token,
    vaultrs_logs_a_machine_in_with_approle,
    vaultrs_namespaces_name_the_tokens_own_vault,
);
