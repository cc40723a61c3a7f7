//! Envelope encryption as an attacker with a copy of the database would test it.

use crate::{expect_code, ok, value};
use strongroom_testkit::{PASSWORD, TestApp};

async fn the_database_holds_no_plaintext_value_password_or_token(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let values = ["PLAINTEXT-CANARY-one-7f3a", "PLAINTEXT-CANARY-two-91bc"];
    for (i, v) in values.iter().enumerate() {
        ok(alice
            .client
            .put_secret(&format!("payments/api/production/K{i}"), &value(v))
            .await);
    }
    ok(alice.client.rollback("payments/api/production/K0", 1).await);
    let enrollment = ok(alice.client.totp_begin().await);
    for needle in values.iter().copied().chain([
        PASSWORD,
        alice.token.as_str(),
        enrollment.secret_base32.expose(),
    ]) {
        assert!(
            !app.database_contains(needle).await,
            "the database contains {needle:?}"
        );
    }
    // The scan does find what is stored in the clear, so a miss above means something.
    assert!(app.database_contains("payments").await);
}

/// Copies one version's ciphertext over another's and checks that reading the target
/// fails without revealing the source.
async fn swap_and_expect_refusal(
    app: &TestApp,
    client: &strongroom_client::Client,
    from: (&str, i64),
    to: (&str, i64),
    source_value: &str,
) {
    let sql = format!(
        "UPDATE secret_versions SET ciphertext = (SELECT v.ciphertext FROM secret_versions v \
         JOIN secrets s ON s.id = v.secret_id JOIN environments e ON e.id = s.environment_id \
         WHERE s.name = '{}' AND e.name = '{}' AND v.version = {}) \
         WHERE version = {} AND secret_id = (SELECT s.id FROM secrets s JOIN environments e \
         ON e.id = s.environment_id WHERE s.name = '{}' AND e.name = '{}')",
        name_of(from.0),
        env_of(from.0),
        from.1,
        to.1,
        name_of(to.0),
        env_of(to.0)
    );
    assert_eq!(app.execute_sql(&sql).await, 1, "{sql}");
    let err = expect_code(client.reveal(to.0, Some(to.1)).await, "internal");
    assert!(!err.to_string().contains(source_value));
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

fn env_of(path: &str) -> &str {
    path.split('/').nth(2).unwrap_or_default()
}

async fn a_ciphertext_moved_to_another_row_does_not_decrypt(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let a = "payments/api/production/A";
    let b = "payments/api/production/B";
    let staging_a = "payments/api/staging/A";
    ok(alice.client.put_secret(a, &value("value-of-a-v1")).await);
    ok(alice.client.put_secret(a, &value("value-of-a-v2")).await);
    ok(alice.client.put_secret(b, &value("value-of-b")).await);
    ok(alice
        .client
        .put_secret(staging_a, &value("staging-a"))
        .await);

    // Another secret's row, another version of the same secret, another environment.
    swap_and_expect_refusal(&app, &alice.client, (a, 1), (b, 1), "value-of-a-v1").await;
    swap_and_expect_refusal(&app, &alice.client, (a, 1), (a, 2), "value-of-a-v1").await;
    swap_and_expect_refusal(&app, &alice.client, (a, 1), (staging_a, 1), "value-of-a-v1").await;
    // Untouched rows still open.
    assert_eq!(
        ok(alice.client.reveal(a, Some(1)).await).value.expose(),
        "value-of-a-v1"
    );
}

async fn a_ciphertext_moved_to_another_vault_does_not_decrypt(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let bob = app.user_with_project("bob", "payments/api").await;
    let path = "payments/api/production/SHARED_NAME";
    ok(alice.client.put_secret(path, &value("alice-secret")).await);
    ok(bob.client.put_secret(path, &value("bob-secret")).await);
    let alice_vault = alice.signup.user.personal_vault_id.clone();
    let bob_vault = bob.signup.user.personal_vault_id.clone();
    let sql = format!(
        "UPDATE secret_versions SET ciphertext = (SELECT v.ciphertext FROM secret_versions v \
         JOIN secrets s ON s.id = v.secret_id WHERE s.vault_id = '{alice_vault}') \
         WHERE secret_id = (SELECT id FROM secrets WHERE vault_id = '{bob_vault}')"
    );
    assert_eq!(app.execute_sql(&sql).await, 1);
    let err = expect_code(bob.client.reveal(path, None).await, "internal");
    assert!(!err.to_string().contains("alice-secret"));
}

crate::on_both_backends!(
    the_database_holds_no_plaintext_value_password_or_token,
    a_ciphertext_moved_to_another_row_does_not_decrypt,
    a_ciphertext_moved_to_another_vault_does_not_decrypt,
);
