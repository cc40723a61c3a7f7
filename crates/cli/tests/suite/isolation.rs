//! Vault isolation: nothing of one user's vault is visible from another's.

use crate::{expect_code, ok, value};
use strongroom_testkit::TestApp;

async fn another_users_vault_is_invisible(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice
        .client
        .put_secret("payments/api/production/KEY", &value("alice-only"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/production/OLD", &value("old"))
        .await);
    ok(alice
        .client
        .delete_secret("payments/api/production/OLD")
        .await);
    let bob = app.signup("bob").await;

    assert!(ok(bob.client.apps().await).is_empty());
    assert!(ok(bob.client.trash().await).is_empty());
    let probe = expect_code(
        bob.client.reveal("payments/api/production/KEY", None).await,
        "not_found",
    );
    let nothing = expect_code(
        bob.client.reveal("nothing/here/at/ALL", None).await,
        "not_found",
    );
    assert!(!probe.to_string().contains("alice"));
    assert!(!nothing.to_string().contains("alice"));
    expect_code(
        bob.client.secrets("payments/api/production").await,
        "not_found",
    );
    expect_code(bob.client.projects("payments").await, "not_found");
    expect_code(
        bob.client
            .put_secret("payments/api/production/KEY", &value("x"))
            .await,
        "not_found",
    );
    expect_code(
        bob.client
            .delete_secret("payments/api/production/KEY")
            .await,
        "not_found",
    );
    expect_code(
        bob.client
            .restore_secret("payments/api/production/OLD")
            .await,
        "not_found",
    );
    expect_code(
        bob.client.rollback("payments/api/production/KEY", 1).await,
        "not_found",
    );
    expect_code(
        bob.client
            .environment_values("payments/api/production")
            .await,
        "not_found",
    );

    // The same names in Bob's own vault are his alone.
    ok(bob.client.create_app("payments").await);
    ok(bob.client.create_project("payments/api").await);
    ok(bob
        .client
        .put_secret("payments/api/production/KEY", &value("bob-only"))
        .await);
    assert_eq!(
        ok(alice
            .client
            .reveal("payments/api/production/KEY", None)
            .await)
        .value
        .expose(),
        "alice-only"
    );
    assert_eq!(
        ok(bob.client.reveal("payments/api/production/KEY", None).await)
            .value
            .expose(),
        "bob-only"
    );
    assert_eq!(
        ok(bob.client.versions("payments/api/production/KEY").await).len(),
        1
    );
    assert_ne!(
        alice.signup.user.personal_vault_id,
        bob.signup.user.personal_vault_id
    );
}

crate::on_both_backends!(another_users_vault_is_invisible);
