//! Reveals: every plaintext a member sees is an audited event, recorded before the value
//! leaves, and counted against a per-member hourly limit the operator sets.

use crate::{expect_code, ok, value};
use strongroom_testkit::{Backend, TestApp, TestUser};

/// Alice's organization with payments/api/production holding A and B, and dev, a
/// developer who may open everything.
async fn vault_with_values(app: &TestApp) -> (TestUser, TestUser, String) {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    for name in ["A", "B"] {
        ok(alice
            .client
            .put_secret(&format!("payments/api/production/{name}"), &value("v"))
            .await);
    }
    ok(alice
        .client
        .create_access_role("all", serde_json::json!({"scope": "everything"}))
        .await);
    ok(alice
        .client
        .set_member_access_role("dev", Some("all"))
        .await);
    (alice, members.remove(0), org.id)
}

fn reveals(trail: &[(String, String, String)]) -> Vec<(String, String)> {
    trail
        .iter()
        .filter(|(_, action, _)| action == "secret.reveal")
        .map(|(who, _, target)| (who.clone(), target.clone()))
        .collect()
}

async fn each_reveal_is_recorded_with_who_and_which_secret(app: TestApp) {
    let (alice, dev, vault) = vault_with_values(&app).await;
    ok(dev.client.reveal("payments/api/production/A", None).await);
    ok(alice
        .client
        .environment_values("payments/api/production")
        .await);
    let metadata_only = ok(dev.client.secrets("payments/api/production").await);
    assert_eq!(metadata_only.len(), 2);
    assert_eq!(
        reveals(&app.audit_trail(&vault).await),
        vec![
            ("dev".to_owned(), "payments/api/production/A".to_owned()),
            ("alice".to_owned(), "payments/api/production/A".to_owned()),
            ("alice".to_owned(), "payments/api/production/B".to_owned()),
        ]
    );
}

async fn no_value_leaves_when_its_reveal_cannot_be_recorded(app: TestApp) {
    let (_, dev, vault) = vault_with_values(&app).await;
    app.execute_sql("ALTER TABLE audit_events RENAME TO audit_events_elsewhere")
        .await;
    expect_code(
        dev.client.reveal("payments/api/production/A", None).await,
        "internal",
    );
    expect_code(
        dev.client
            .environment_values("payments/api/production")
            .await,
        "internal",
    );
    app.execute_sql("ALTER TABLE audit_events_elsewhere RENAME TO audit_events")
        .await;
    assert!(reveals(&app.audit_trail(&vault).await).is_empty());
}

crate::on_both_backends!(
    each_reveal_is_recorded_with_who_and_which_secret,
    no_value_leaves_when_its_reveal_cannot_be_recorded,
);

async fn reveals_past_the_hourly_limit_are_refused_and_recorded_as_denied(backend: Backend) {
    let app = TestApp::spawn_configured(backend, Default::default(), |config| {
        config.reveals_per_member_per_hour = 3;
    })
    .await;
    let (alice, dev, vault) = vault_with_values(&app).await;
    ok(dev.client.reveal("payments/api/production/A", None).await);
    ok(dev
        .client
        .environment_values("payments/api/production")
        .await);
    // Three used: one more single reveal is refused, and so is a whole environment.
    let refused = expect_code(
        dev.client.reveal("payments/api/production/B", None).await,
        "rate_limited",
    );
    assert!(
        refused.to_string().contains("3 values an hour")
            && refused.to_string().contains("retry in"),
        "{refused}"
    );
    expect_code(
        dev.client
            .environment_values("payments/api/production")
            .await,
        "rate_limited",
    );
    // The limit is per member: alice still reveals.
    ok(alice.client.reveal("payments/api/production/B", None).await);
    let denied = app
        .query_column(
            "SELECT target FROM audit_events WHERE action = 'secret.reveal' \
             AND outcome = 'denied' ORDER BY id",
        )
        .await;
    // One denied entry per refused request, naming what was asked for.
    assert_eq!(
        denied,
        vec![
            "payments/api/production/B",
            "payments/api/production (2 values)",
        ]
    );
    // Four values seen: dev's three, then alice's one.
    assert_eq!(reveals(&app.audit_trail(&vault).await).len(), 4);
}

async fn an_environment_larger_than_the_limit_is_refused_whole(backend: Backend) {
    let app = TestApp::spawn_configured(backend, Default::default(), |config| {
        config.reveals_per_member_per_hour = 1;
    })
    .await;
    let (_, dev, _) = vault_with_values(&app).await;
    let refused = expect_code(
        dev.client
            .environment_values("payments/api/production")
            .await,
        "rate_limited",
    );
    assert!(
        refused
            .to_string()
            .contains("holds 2 values you may reveal, more than the 1"),
        "{refused}"
    );
    ok(dev.client.reveal("payments/api/production/A", None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveals_past_the_hourly_limit_are_refused_on_sqlite() {
    reveals_past_the_hourly_limit_are_refused_and_recorded_as_denied(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveals_past_the_hourly_limit_are_refused_on_postgres() {
    reveals_past_the_hourly_limit_are_refused_and_recorded_as_denied(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_larger_than_the_limit_is_refused_whole_on_sqlite() {
    an_environment_larger_than_the_limit_is_refused_whole(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_larger_than_the_limit_is_refused_whole_on_postgres() {
    an_environment_larger_than_the_limit_is_refused_whole(Backend::Postgres).await;
}
