//! Machines: Ed25519 identities registered by members who hold the Machines cell, and
//! `strongroom machines keygen`, which makes the keypair where the machine runs.

use crate::cli::Cli;
use crate::{expect_code, ok};
use std::os::unix::fs::PermissionsExt;
use strongroom_crypto::machine_key::MachineKey;
use strongroom_testkit::{TestApp, TestUser};

fn public_key() -> String {
    MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public()
        .to_openssh("build-1")
}

/// Alice's organization with dev (developer: holds Machines) and col (collaborator).
async fn vault(app: &TestApp) -> (TestUser, TestUser, TestUser, String) {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(
            &alice,
            "acme",
            &[("dev", "developer"), ("col", "collaborator")],
        )
        .await;
    let col = members.remove(1);
    let dev = members.remove(0);
    (alice, dev, col, org.id)
}

async fn members_with_the_machines_cell_register_machines_by_public_key(app: TestApp) {
    let (_, dev, col, _) = vault(&app).await;
    let key = public_key();
    let refused = expect_code(
        col.client.register_machine("deployer", &key, None).await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("Machines"), "{refused}");
    let machine = ok(dev.client.register_machine("deployer", &key, None).await);
    assert_eq!(
        (machine.name.as_str(), machine.status.as_str()),
        ("deployer", "active")
    );
    assert!(machine.fingerprint.starts_with("SHA256:"));
    assert!(machine.public_key.starts_with("ssh-ed25519 AAAA"));
    assert_eq!(machine.expires_at, None);
    assert_eq!(machine.registered_by, "dev");
    let listed: Vec<String> = ok(dev.client.machines().await)
        .into_iter()
        .map(|m| m.fingerprint)
        .collect();
    assert_eq!(listed, vec![machine.fingerprint.clone()]);
    expect_code(col.client.machines().await, "permission_denied");
}

async fn a_name_or_key_is_registered_once_and_bad_keys_are_refused(app: TestApp) {
    let (_, dev, _, _) = vault(&app).await;
    let key = public_key();
    ok(dev
        .client
        .register_machine("deployer", &key, Some(24))
        .await);
    expect_code(
        dev.client
            .register_machine("deployer", &public_key(), None)
            .await,
        "already_exists",
    );
    expect_code(
        dev.client.register_machine("other", &key, None).await,
        "already_exists",
    );
    let private = MachineKey::generate()
        .and_then(|k| k.to_openssh(""))
        .unwrap_or_else(|e| panic!("{e}"));
    for bad in [
        "",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC",
        "ssh-ed25519 not-base64",
        private.as_str(),
    ] {
        expect_code(
            dev.client.register_machine("bad", bad, None).await,
            "invalid_value",
        );
    }
    expect_code(
        dev.client
            .register_machine("Bad Name", &public_key(), None)
            .await,
        "invalid_name",
    );
    expect_code(
        dev.client
            .register_machine("now", &public_key(), Some(0))
            .await,
        "invalid_value",
    );
}

async fn machines_are_disabled_enabled_and_removed_with_an_audit_entry_each(app: TestApp) {
    let (_, dev, _, vault_id) = vault(&app).await;
    ok(dev
        .client
        .register_machine("deployer", &public_key(), None)
        .await);
    let disabled = ok(dev.client.set_machine_enabled("deployer", false).await);
    assert_eq!(disabled.status, "disabled");
    expect_code(
        dev.client.set_machine_enabled("deployer", false).await,
        "conflict",
    );
    let enabled = ok(dev.client.set_machine_enabled("deployer", true).await);
    assert_eq!(enabled.status, "active");
    ok(dev.client.remove_machine("deployer").await);
    assert!(ok(dev.client.machines().await).is_empty());
    expect_code(dev.client.remove_machine("deployer").await, "not_found");
    expect_code(dev.client.machine("deployer").await, "not_found");
    let trail: Vec<String> = app
        .audit_trail(&vault_id)
        .await
        .into_iter()
        .filter(|(who, action, _)| who == "dev" && action.starts_with("machine."))
        .map(|(_, action, _)| action)
        .collect();
    assert_eq!(
        trail,
        vec![
            "machine.register",
            "machine.disable",
            "machine.enable",
            "machine.remove"
        ]
    );
}

async fn a_machine_past_its_expiry_is_listed_as_expired(app: TestApp) {
    let (_, dev, _, _) = vault(&app).await;
    let machine = ok(dev
        .client
        .register_machine("short", &public_key(), Some(1))
        .await);
    assert!(machine.expires_at.is_some());
    assert_eq!(machine.status, "active");
    app.execute_sql("UPDATE machines SET expires_at = 1 WHERE name = 'short'")
        .await;
    assert_eq!(
        ok(dev.client.machine("short").await).machine.status,
        "expired"
    );
}

async fn keygen_writes_a_private_key_only_its_owner_reads_and_registers_its_public_half(
    app: TestApp,
) {
    let alice = Cli::new(&app, "alice");
    alice.signup("alice").await;
    let key_file = app.scratch().join("machine.key");
    let key_path = key_file.display().to_string();
    let printed = alice
        .ok(
            &["machines", "keygen", "--out", &key_path, "--comment", "ci"],
            None,
        )
        .await;
    assert!(printed.starts_with("ssh-ed25519 AAAA") && printed.trim_end().ends_with(" ci"));
    let mode = std::fs::metadata(&key_file)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_default();
    assert_eq!(mode, 0o600);
    let private = std::fs::read_to_string(&key_file).unwrap_or_default();
    assert!(MachineKey::from_openssh(&private).is_ok());
    // A second keygen never overwrites a key by accident.
    let again = alice
        .run(&["machines", "keygen", "--out", &key_path], None)
        .await;
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    // The private key is refused as a public key, with the hint to use FILE.pub.
    let wrong = alice
        .run(
            &["machines", "register", "build", "--public-key", &key_path],
            None,
        )
        .await;
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains(".pub"));
    let registered = alice
        .ok(
            &[
                "machines",
                "register",
                "build",
                "--public-key",
                &format!("{key_path}.pub"),
                "--expires",
                "30d",
                "--json",
            ],
            None,
        )
        .await;
    let machine: serde_json::Value =
        serde_json::from_str(&registered).unwrap_or_else(|e| panic!("{e}: {registered}"));
    assert_eq!(
        machine["public_key"].as_str(),
        Some(printed.trim_end().replace(" ci", " build").as_str())
    );
    assert!(machine["expires_at"].is_string());
    let listed = alice.ok(&["machines", "list"], None).await;
    assert!(
        listed.contains("build") && listed.contains("SHA256:"),
        "{listed}"
    );
    alice.ok(&["machines", "disable", "build"], None).await;
    alice.ok(&["machines", "remove", "build"], None).await;
    let gone = alice.run(&["machines", "show", "build"], None).await;
    assert_eq!(gone.status.code(), Some(5));
}

crate::on_both_backends!(
    members_with_the_machines_cell_register_machines_by_public_key,
    a_name_or_key_is_registered_once_and_bad_keys_are_refused,
    machines_are_disabled_enabled_and_removed_with_an_audit_entry_each,
    a_machine_past_its_expiry_is_listed_as_expired,
    keygen_writes_a_private_key_only_its_owner_reads_and_registers_its_public_half,
);
