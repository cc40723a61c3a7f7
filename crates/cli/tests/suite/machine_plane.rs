//! The machine plane: machines sign every request with their own key, read only what
//! they are attached to or granted, and never reach a member or management route;
//! nobody gives a machine more than they hold.

use crate::cli::Cli;
use crate::{expect_code, ok, value};
use serde_json::json;
use strongroom_client::Client;
use strongroom_crypto::machine_key::MachineKey;
use strongroom_crypto::request_signing::{SignedRequest, body_digest};
use strongroom_testkit::{TestApp, TestUser};

/// A machine's key, kept as its OpenSSH text so it can be loaded more than once.
struct Key(String);

impl Key {
    fn new() -> Self {
        Self(
            MachineKey::generate()
                .and_then(|k| k.to_openssh("test").map(|t| t.to_string()))
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    fn load(&self) -> MachineKey {
        MachineKey::from_openssh(&self.0).unwrap_or_else(|e| panic!("{e}"))
    }

    fn public(&self) -> String {
        self.load().public().to_openssh("test")
    }

    fn fingerprint(&self) -> String {
        self.load().public().fingerprint()
    }

    fn client(&self, app: &TestApp, vault: &str) -> Client {
        app.client.with_machine_key(self.load(), vault)
    }
}

/// Alice's organization `acme` with dev (a developer) and payments/api holding
/// production and staging secrets, and machine `deployer` registered by alice.
struct Vault {
    alice: TestUser,
    dev: TestUser,
    id: String,
    key: Key,
}

async fn vault(app: &TestApp) -> Vault {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    for (path, v) in [
        ("payments/api/production/STRIPE_KEY", "sk_live_1"),
        ("payments/api/production/DB_URL", "postgres://prod"),
        ("payments/api/staging/STRIPE_KEY", "sk_test_1"),
    ] {
        ok(alice.client.put_secret(path, &value(v)).await);
    }
    let key = Key::new();
    ok(alice
        .client
        .register_machine("deployer", &key.public(), None)
        .await);
    Vault {
        dev: members.remove(0),
        alice,
        id: org.id,
        key,
    }
}

/// Alice attaches `deployer` to payments/api, every environment, with `verbs`.
async fn attach_everywhere(v: &Vault, verbs: &[&str]) {
    ok(v.alice
        .client
        .attach_machine("deployer", "payments/api", &[], &strings(verbs))
        .await);
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn revealed(
    result: Result<strongroom_proto::SecretValueResponse, strongroom_client::ClientError>,
) -> String {
    ok(result).value.expose().to_owned()
}

async fn a_registered_machine_reads_nothing_until_it_is_attached(app: TestApp) {
    let v = vault(&app).await;
    let machine = v.key.client(&app, &v.id);
    assert!(ok(machine.apps().await).is_empty());
    expect_code(
        machine
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await,
        "not_found",
    );
    expect_code(
        machine.environment_values("payments/api/production").await,
        "not_found",
    );
    let me = ok(machine.own_machine().await);
    assert_eq!(
        (me.name.as_str(), me.vault.as_str()),
        ("deployer", v.id.as_str())
    );
    assert!(me.attachments.is_empty() && me.grants.is_empty());
}

async fn an_attachment_opens_its_environments_and_verbs_and_nothing_else(app: TestApp) {
    let v = vault(&app).await;
    let machine = v.key.client(&app, &v.id);
    let attached = ok(v
        .alice
        .client
        .attach_machine(
            "deployer",
            "payments/api",
            &strings(&["production"]),
            &strings(&["reveal"]),
        )
        .await);
    assert_eq!(attached.verbs, strings(&["read", "reveal"]));
    assert_eq!(
        revealed(
            machine
                .reveal("payments/api/production/STRIPE_KEY", None)
                .await
        ),
        "sk_live_1"
    );
    let values = ok(machine.environment_values("payments/api/production").await);
    assert_eq!(values.secrets.len(), 2);
    let names: Vec<String> = ok(machine.secrets("payments/api/production").await)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, strings(&["DB_URL", "STRIPE_KEY"]));
    // Staging was not attached: it does not exist as far as the machine can tell.
    let envs: Vec<String> = ok(machine.envs("payments/api").await)
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(envs, strings(&["production"]));
    expect_code(
        machine
            .reveal("payments/api/staging/STRIPE_KEY", None)
            .await,
        "not_found",
    );
    expect_code(machine.secrets("payments/api/staging").await, "not_found");
    // A machine never writes, whatever it is attached with.
    expect_code(
        machine
            .put_secret("payments/api/production/NEW", &value("x"))
            .await,
        "permission_denied",
    );
    expect_code(
        v.alice
            .client
            .attach_machine("deployer", "payments/api", &[], &strings(&["write"]))
            .await,
        "invalid_value",
    );
    // Every reveal is audited under the machine's name.
    let trail = app.audit_trail(&v.id).await;
    assert!(trail.iter().any(|(who, action, target)| who == "deployer"
        && action == "secret.reveal"
        && target == "payments/api/production/STRIPE_KEY"));
    let kinds = app
        .query_column("SELECT DISTINCT actor_kind FROM audit_events WHERE actor_name = 'deployer'")
        .await;
    assert_eq!(kinds, strings(&["machine"]));
}

async fn a_machine_attached_to_read_sees_names_but_no_values(app: TestApp) {
    let v = vault(&app).await;
    let machine = v.key.client(&app, &v.id);
    ok(v.alice
        .client
        .attach_machine("deployer", "payments/api", &[], &strings(&["read"]))
        .await);
    assert_eq!(ok(machine.secrets("payments/api/staging").await).len(), 1);
    let refused = expect_code(
        machine
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("'reveal'"), "{refused}");
    expect_code(
        machine.environment_values("payments/api/production").await,
        "permission_denied",
    );
}

async fn a_granted_secret_is_the_only_one_of_its_environment_the_machine_sees(app: TestApp) {
    let v = vault(&app).await;
    let machine = v.key.client(&app, &v.id);
    let grant = ok(v
        .alice
        .client
        .grant_machine(
            "deployer",
            "payments/api/production/STRIPE_KEY",
            &strings(&["reveal"]),
        )
        .await);
    assert_eq!(grant.granted_by, "alice");
    assert_eq!(
        revealed(
            machine
                .reveal("payments/api/production/STRIPE_KEY", None)
                .await
        ),
        "sk_live_1"
    );
    expect_code(
        machine.reveal("payments/api/production/DB_URL", None).await,
        "not_found",
    );
    let names: Vec<String> = ok(machine.secrets("payments/api/production").await)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, strings(&["STRIPE_KEY"]));
    let values = ok(machine.environment_values("payments/api/production").await);
    assert_eq!(values.secrets.len(), 1);
    expect_code(
        v.alice
            .client
            .grant_machine("deployer", "payments/api/production/NOPE", &[])
            .await,
        "not_found",
    );
}

async fn detaching_revoking_disabling_removing_and_expiry_hold_on_the_next_request(app: TestApp) {
    let v = vault(&app).await;
    let machine = v.key.client(&app, &v.id);
    let path = "payments/api/production/STRIPE_KEY";
    attach_everywhere(&v, &["reveal"]).await;
    ok(v.alice
        .client
        .grant_machine("deployer", path, &strings(&["reveal"]))
        .await);
    revealed(machine.reveal(path, None).await);
    ok(v.alice
        .client
        .detach_machine("deployer", "payments/api")
        .await);
    revealed(machine.reveal(path, None).await);
    ok(v.alice.client.revoke_machine_grant("deployer", path).await);
    expect_code(machine.reveal(path, None).await, "not_found");
    expect_code(
        v.alice
            .client
            .detach_machine("deployer", "payments/api")
            .await,
        "not_found",
    );

    attach_everywhere(&v, &["reveal"]).await;
    ok(v.alice.client.set_machine_enabled("deployer", false).await);
    let refused = expect_code(machine.reveal(path, None).await, "unauthenticated");
    assert!(refused.to_string().contains("disabled"), "{refused}");
    ok(v.alice.client.set_machine_enabled("deployer", true).await);
    revealed(machine.reveal(path, None).await);

    app.execute_sql("UPDATE machines SET expires_at = 1 WHERE name = 'deployer'")
        .await;
    let expired = expect_code(machine.reveal(path, None).await, "unauthenticated");
    assert!(expired.to_string().contains("expired"), "{expired}");
    app.execute_sql("UPDATE machines SET expires_at = NULL WHERE name = 'deployer'")
        .await;
    revealed(machine.reveal(path, None).await);

    ok(v.alice.client.remove_machine("deployer").await);
    expect_code(machine.reveal(path, None).await, "unauthenticated");
    let trail: Vec<String> = app
        .audit_trail(&v.id)
        .await
        .into_iter()
        .filter(|(who, action, _)| who == "alice" && action.starts_with("machine."))
        .map(|(_, action, _)| action)
        .collect();
    assert_eq!(
        trail,
        strings(&[
            "machine.register",
            "machine.attach",
            "machine.grant",
            "machine.detach",
            "machine.revoke",
            "machine.attach",
            "machine.disable",
            "machine.enable",
            "machine.remove",
        ])
    );
}

/// Sends a request signed by hand, so each part can be got wrong on purpose.
async fn send_signed(
    app: &TestApp,
    key: &MachineKey,
    signed: &SignedRequest,
    path_and_query: &str,
    body: &[u8],
) -> (u16, String) {
    let response = reqwest::Client::new()
        .request(
            signed.method.parse().unwrap_or_else(|e| panic!("{e}")),
            format!("{}{path_and_query}", app.url),
        )
        .header("authorization", signed.authorization(key))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn signed(v: &Vault, method: &str, path: &str, query: &str, body: &[u8]) -> SignedRequest {
    SignedRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        vault: v.id.clone(),
        key: v.key.fingerprint(),
        timestamp: strongroom_store::now_ms() / 1000,
        nonce: format!("{:032x}", rand_u128()),
        digest: body_digest(body),
    }
}

fn rand_u128() -> u128 {
    u128::from_le_bytes(
        strongroom_crypto::random::random_bytes::<16>().unwrap_or_else(|e| panic!("{e}")),
    )
}

async fn unsigned_forged_tampered_stale_replayed_and_wrong_vault_requests_are_refused(
    app: TestApp,
) {
    let v = vault(&app).await;
    attach_everywhere(&v, &["reveal"]).await;
    let key = v.key.load();
    let reveal = "/api/v1/apps/payments/projects/api/envs/production/secrets/STRIPE_KEY/value";

    // A correct request works, once.
    let good = signed(&v, "GET", reveal, "", b"");
    let (status, body) = send_signed(&app, &key, &good, reveal, b"").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send_signed(&app, &key, &good, reveal, b"").await;
    assert_eq!(status, 401);
    assert!(body.contains("already used"), "{body}");

    // Unsigned.
    let plain = reqwest::get(format!("{}{reveal}", app.url))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain.status().as_u16(), 401);

    // Forged: another key claiming the registered fingerprint.
    let forger = Key::new().load();
    let (status, _) = send_signed(
        &app,
        &forger,
        &signed(&v, "GET", reveal, "", b""),
        reveal,
        b"",
    )
    .await;
    assert_eq!(status, 401);

    // Tampered: signed for one secret, sent for another; signed query, other query.
    let other = "/api/v1/apps/payments/projects/api/envs/production/secrets/DB_URL/value";
    let (status, _) =
        send_signed(&app, &key, &signed(&v, "GET", reveal, "", b""), other, b"").await;
    assert_eq!(status, 401);
    let list = "/api/v1/apps/payments/projects/api/envs/production/secrets";
    let s = signed(&v, "GET", list, "limit=1", b"");
    let (status, _) = send_signed(&app, &key, &s, &format!("{list}?limit=1000"), b"").await;
    assert_eq!(status, 401);

    // A body other than the one signed.
    let s = signed(&v, "POST", "/api/v1/apps", "", br#"{"name":"a"}"#);
    let (status, body) = send_signed(&app, &key, &s, "/api/v1/apps", br#"{"name":"b"}"#).await;
    assert_eq!(status, 401, "{body}");

    // A timestamp outside the window, either way.
    for skew in [-120, 120] {
        let mut s = signed(&v, "GET", reveal, "", b"");
        s.timestamp += skew;
        let (status, body) = send_signed(&app, &key, &s, reveal, b"").await;
        assert_eq!(status, 401);
        assert!(body.contains("clock"), "{body}");
    }

    // The right key, but a vault it is not registered in (alice's personal vault), answers
    // exactly like an unknown key.
    let personal = ok(v.alice.client.vaults().await)
        .into_iter()
        .find(|vault| vault.id != v.id)
        .unwrap_or_else(|| panic!("alice has a personal vault"));
    let mut s = signed(&v, "GET", reveal, "", b"");
    s.vault = personal.id;
    let (status, wrong_vault) = send_signed(&app, &key, &s, reveal, b"").await;
    assert_eq!(status, 401);
    let unknown = Key::new();
    let mut s = signed(&v, "GET", reveal, "", b"");
    s.key = unknown.fingerprint();
    let (_, unknown_key) = send_signed(&app, &unknown.load(), &s, reveal, b"").await;
    assert_eq!(wrong_vault, unknown_key);
}

async fn a_machine_cannot_call_member_or_management_routes(app: TestApp) {
    let v = vault(&app).await;
    attach_everywhere(&v, &["reveal"]).await;
    let machine = v.key.client(&app, &v.id);
    expect_code(machine.whoami().await, "permission_denied");
    expect_code(machine.members().await, "permission_denied");
    expect_code(machine.machines().await, "permission_denied");
    expect_code(machine.vaults().await, "permission_denied");
    expect_code(machine.sessions().await, "permission_denied");
    expect_code(machine.access_roles().await, "permission_denied");
    expect_code(machine.create_app("other").await, "permission_denied");
    expect_code(
        machine
            .delete_secret("payments/api/production/STRIPE_KEY")
            .await,
        "permission_denied",
    );
    expect_code(machine.trash().await, "permission_denied");
    expect_code(
        machine
            .attach_machine("deployer", "payments/api", &[], &strings(&["reveal"]))
            .await,
        "permission_denied",
    );
    expect_code(
        machine.invite("eve@example.com", Some("admin")).await,
        "permission_denied",
    );
}

async fn a_members_session_cannot_use_the_machine_route_and_membership_gives_machines_nothing(
    app: TestApp,
) {
    let v = vault(&app).await;
    let refused = expect_code(v.alice.client.own_machine().await, "permission_denied");
    assert!(refused.to_string().contains("machines"), "{refused}");
    // dev registers a machine while holding an access role that opens payments: the
    // machine still reads nothing until someone attaches it.
    ok(v.alice
        .client
        .create_access_role("payments", json!({"scope": {"applications": ["payments"]}}))
        .await);
    ok(v.alice
        .client
        .set_member_access_role("dev", Some("payments"))
        .await);
    let key = Key::new();
    ok(v.dev
        .client
        .register_machine("dev-box", &key.public(), None)
        .await);
    let machine = key.client(&app, &v.id);
    assert!(ok(machine.apps().await).is_empty());
    expect_code(
        machine
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await,
        "not_found",
    );
}

async fn inviting_a_member_adds_no_runtime_access(app: TestApp) {
    let v = vault(&app).await;
    attach_everywhere(&v, &["reveal"]).await;
    let machine = v.key.client(&app, &v.id);
    let before = ok(machine.own_machine().await);
    // A new developer joins: they get no machine identity, no token, and open nothing.
    let eve = app.verified_user("eve").await;
    ok(v.alice
        .client
        .invite("eve@example.com", Some("developer"))
        .await);
    let invite = ok(eve.client.received_invites().await).remove(0).id;
    ok(eve.client.accept_invite(&invite).await);
    ok(eve.client.switch_vault(&v.id).await);
    expect_code(eve.client.own_machine().await, "permission_denied");
    expect_code(
        eve.client
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await,
        "permission_denied",
    );
    expect_code(
        eve.client
            .create_token(&crate::token_request(
                "mine",
                "ci",
                &["payments/api"],
                &["reveal"],
            ))
            .await,
        "not_found",
    );
    // And the machine's access is what it was: membership changes do not reach it.
    let after = ok(machine.own_machine().await);
    assert_eq!(
        (before.attachments.len(), before.grants.len()),
        (after.attachments.len(), after.grants.len())
    );
    assert!(ok(v.alice.client.tokens().await).is_empty());
}

async fn nobody_gives_a_machine_more_than_they_hold(app: TestApp) {
    let v = vault(&app).await;
    let dev = &v.dev.client;
    // Without an access role, dev opens no project, so has none to attach to.
    expect_code(
        dev.attach_machine("deployer", "payments/api", &[], &[])
            .await,
        "not_found",
    );
    ok(v.alice
        .client
        .create_access_role(
            "devs",
            json!({
                "scope": {"projects": ["payments/api"]},
                "environments": {"production": ["reveal"]},
                "off": ["manage"],
                "deny": ["payments/api/staging/STRIPE_*"]
            }),
        )
        .await);
    ok(v.alice
        .client
        .set_member_access_role("dev", Some("devs"))
        .await);
    for (envs, verbs) in [
        (vec!["production"], vec!["reveal"]),
        (vec![], vec!["reveal"]),
        (vec!["staging"], vec!["read"]),
    ] {
        let refused = expect_code(
            dev.attach_machine(
                "deployer",
                "payments/api",
                &strings(&envs),
                &strings(&verbs),
            )
            .await,
            "permission_denied",
        );
        assert!(refused.to_string().contains("machine"), "{refused}");
    }
    ok(dev
        .attach_machine(
            "deployer",
            "payments/api",
            &strings(&["development"]),
            &strings(&["reveal"]),
        )
        .await);
    ok(dev
        .attach_machine(
            "deployer",
            "payments/api",
            &strings(&["production"]),
            &strings(&["read"]),
        )
        .await);
    // Granting a single secret takes 'manage' on it, which dev's role switches off.
    let refused = expect_code(
        dev.grant_machine("deployer", "payments/api/production/DB_URL", &[])
            .await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("manage"), "{refused}");
    // With the project's machines switch off, dev attaches nothing there at all.
    ok(v.alice
        .client
        .edit_access_role(
            "devs",
            json!({"scope": {"projects": ["payments/api"]}, "machines": false}),
        )
        .await);
    let refused = expect_code(
        dev.attach_machine("deployer", "payments/api", &[], &[])
            .await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("machines off"), "{refused}");
    // A collaborator does not hold Machines at all.
    ok(v.alice.client.set_member_role("dev", "collaborator").await);
    expect_code(
        dev.attach_machine("deployer", "payments/api", &[], &[])
            .await,
        "permission_denied",
    );
}

async fn a_machine_runs_the_cli_with_its_key_file(app: TestApp) {
    let v = vault(&app).await;
    ok(v.alice
        .client
        .attach_machine(
            "deployer",
            "payments/api",
            &strings(&["production"]),
            &strings(&["reveal"]),
        )
        .await);
    let key_file = app.scratch().join("deployer.key");
    std::fs::write(&key_file, &v.key.0).unwrap_or_else(|e| panic!("{e}"));
    let key_path = key_file.display().to_string();
    let machine = Cli::new(&app, "machine");
    let url = app.url.clone();
    let full = [
        ("STRONGROOM_SERVER", url.as_str()),
        ("STRONGROOM_MACHINE_KEY", key_path.as_str()),
        ("STRONGROOM_VAULT", v.id.as_str()),
    ];
    // A key file others can read is refused, as ssh does.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let loose = machine
        .run_with_env(
            &["secrets", "get", "payments/api/production/STRIPE_KEY"],
            None,
            &full,
        )
        .await;
    assert_ne!(loose.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&loose.stderr).contains("chmod 600"));
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));

    let got = machine
        .run_with_env(
            &["secrets", "get", "payments/api/production/STRIPE_KEY"],
            None,
            &full,
        )
        .await;
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "sk_live_1");
    let exported = machine
        .run_with_env(&["export", "--env", "payments/api/production"], None, &full)
        .await;
    let text = String::from_utf8_lossy(&exported.stdout);
    assert!(
        text.contains("STRIPE_KEY") && text.contains("sk_live_1"),
        "{text}"
    );
    let ran = machine
        .run_with_env(
            &[
                "run",
                "--env",
                "payments/api/production",
                "--",
                "sh",
                "-c",
                "echo $DB_URL",
            ],
            None,
            &full,
        )
        .await;
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "postgres://prod",
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let whoami = machine
        .run_with_env(&["machines", "whoami", "--json"], None, &full)
        .await;
    let me: serde_json::Value = serde_json::from_slice(&whoami.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&whoami.stderr)));
    assert_eq!(me["name"], "deployer");
    // Without STRONGROOM_VAULT the CLI says what is missing.
    let no_vault = machine
        .run_with_env(
            &["secrets", "get", "payments/api/production/STRIPE_KEY"],
            None,
            &full[..2],
        )
        .await;
    assert!(String::from_utf8_lossy(&no_vault.stderr).contains("STRONGROOM_VAULT"));
}

crate::on_both_backends!(
    a_registered_machine_reads_nothing_until_it_is_attached,
    an_attachment_opens_its_environments_and_verbs_and_nothing_else,
    a_machine_attached_to_read_sees_names_but_no_values,
    a_granted_secret_is_the_only_one_of_its_environment_the_machine_sees,
    detaching_revoking_disabling_removing_and_expiry_hold_on_the_next_request,
    unsigned_forged_tampered_stale_replayed_and_wrong_vault_requests_are_refused,
    a_machine_cannot_call_member_or_management_routes,
    a_members_session_cannot_use_the_machine_route_and_membership_gives_machines_nothing,
    nobody_gives_a_machine_more_than_they_hold,
    inviting_a_member_adds_no_runtime_access,
    a_machine_runs_the_cli_with_its_key_file,
);
