//! Access policies on machines and tokens: each condition refuses what it should, the
//! refusal names the policy and the condition and is audited as denied, and only members
//! who hold the policies switch on a project write policies there.

use crate::{expect_code, ok, value};
use serde_json::{Value, json};
use strongroom_client::{Client, ClientError};
use strongroom_crypto::machine_key::MachineKey;
use strongroom_proto::CreatePolicyRequest;
use strongroom_testkit::{TestApp, TestUser};

const PROD: &str = "payments/api/production/STRIPE_KEY";
const STAGING: &str = "payments/api/staging/STRIPE_KEY";

struct Vault {
    alice: TestUser,
    dev: TestUser,
    id: String,
    machine: Client,
}

/// Alice's organization with dev (a developer), payments/api and billing/api with
/// secrets, and machine `deployer` attached to both projects with reveal.
async fn vault(app: &TestApp) -> Vault {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    for app_name in ["payments", "billing"] {
        ok(alice.client.create_app(app_name).await);
        ok(alice
            .client
            .create_project(&format!("{app_name}/api"))
            .await);
    }
    for path in [
        PROD,
        STAGING,
        "payments/api/production/DB_URL",
        "billing/api/production/KEY",
    ] {
        ok(alice.client.put_secret(path, &value("v")).await);
    }
    let key = MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
    ok(alice
        .client
        .register_machine("deployer", &key.public().to_openssh(""), None)
        .await);
    for project in ["payments/api", "billing/api"] {
        ok(alice
            .client
            .attach_machine("deployer", project, &[], &["reveal".to_owned()])
            .await);
    }
    Vault {
        dev: members.remove(0),
        machine: app.client.with_machine_key(key, &org.id),
        alice,
        id: org.id,
    }
}

fn on_machine(name: &str, project: Option<&str>, spec: Value) -> CreatePolicyRequest {
    CreatePolicyRequest {
        name: name.into(),
        machine: Some("deployer".into()),
        token: None,
        project: project.map(str::to_owned),
        spec,
    }
}

/// Asserts a policy refusal naming `policy` and containing `condition`.
#[track_caller]
fn refused_by<T: std::fmt::Debug>(result: Result<T, ClientError>, policy: &str, condition: &str) {
    let e = expect_code(result, "policy_denied");
    let message = e.to_string();
    assert!(
        message.contains(&format!("'{policy}'")) && message.contains(condition),
        "{message}"
    );
}

/// The detail of the denied audit entries of the vault, oldest first.
async fn denials(app: &TestApp, vault: &str) -> Vec<String> {
    app.query_column(&format!(
        "SELECT detail FROM audit_events WHERE vault_id = '{vault}' AND outcome = 'denied' \
         ORDER BY id"
    ))
    .await
}

async fn a_source_outside_the_policys_ranges_is_refused_and_audited(app: TestApp) {
    let v = vault(&app).await;
    ok(v.machine.reveal(PROD, None).await);
    ok(v.alice
        .client
        .create_policy(&on_machine(
            "office",
            None,
            json!({"cidrs": ["10.0.0.0/8"]}),
        ))
        .await);
    refused_by(v.machine.reveal(PROD, None).await, "office", "127.0.0.1");
    refused_by(
        v.machine
            .environment_values("payments/api/production")
            .await,
        "office",
        "10.0.0.0/8",
    );
    let audited = denials(&app, &v.id).await;
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited[0].contains("office") && audited[0].contains("10.0.0.0/8"));
    let targets = app
        .query_column(&format!(
            "SELECT action || ' ' || target || ' ' || actor_kind FROM audit_events \
             WHERE vault_id = '{}' AND outcome = 'denied' ORDER BY id",
            v.id
        ))
        .await;
    assert_eq!(
        targets,
        [
            format!("secret.reveal {PROD} machine"),
            "secret.reveal payments/api/production machine".to_owned()
        ]
    );
    // From inside the ranges, the same request passes; deleting the policy lifts it.
    ok(v.alice.client.delete_policy("office").await);
    ok(v.alice
        .client
        .create_policy(&on_machine(
            "local",
            None,
            json!({"cidrs": ["127.0.0.0/8", "::1"]}),
        ))
        .await);
    ok(v.machine.reveal(PROD, None).await);
}

async fn environments_expiry_and_time_windows_refuse_what_they_exclude(app: TestApp) {
    let v = vault(&app).await;
    ok(v.alice
        .client
        .create_policy(&on_machine(
            "staging-only",
            Some("payments/api"),
            json!({"environments": ["staging"]}),
        ))
        .await);
    ok(v.machine.reveal(STAGING, None).await);
    refused_by(
        v.machine.reveal(PROD, None).await,
        "staging-only",
        "'production'",
    );
    // A policy binds only its project.
    ok(v.machine.reveal("billing/api/production/KEY", None).await);
    ok(v.alice.client.delete_policy("staging-only").await);

    ok(v.alice
        .client
        .create_policy(&on_machine(
            "ended",
            Some("payments/api"),
            json!({"expires_at": "2020-01-01T00:00:00Z"}),
        ))
        .await);
    refused_by(v.machine.reveal(PROD, None).await, "ended", "expired");
    ok(v.alice.client.delete_policy("ended").await);

    // A window that closed an hour ago and opens in two hours (wrapping midnight when it
    // must), then one around now.
    let hour = (strongroom_store::now_ms() / 3_600_000).rem_euclid(24);
    let at = |h: i64| format!("{:02}:00", h.rem_euclid(24));
    ok(v.alice
        .client
        .create_policy(&on_machine(
            "later",
            Some("payments/api"),
            json!({"window": {"days": ["mon","tue","wed","thu","fri","sat","sun"],
                              "from": at(hour + 2), "to": at(hour - 1), "time_zone": "UTC"}}),
        ))
        .await);
    refused_by(v.machine.reveal(PROD, None).await, "later", "time window");
    ok(v.alice.client.delete_policy("later").await);
    // Tokyo is UTC+9 with no daylight saving: the window around now, read there.
    ok(v.alice
        .client
        .create_policy(&on_machine(
            "now-tokyo",
            Some("payments/api"),
            json!({"window": {"days": ["mon","tue","wed","thu","fri","sat","sun"],
                              "from": at(hour + 9 - 1), "to": at(hour + 9 + 2),
                              "time_zone": "Asia/Tokyo"}}),
        ))
        .await);
    ok(v.machine.reveal(PROD, None).await);
}

/// Waits until early in a UTC minute, so a per-minute count cannot be split by the turn
/// of the minute mid-test.
async fn early_in_a_minute() {
    let second = (strongroom_store::now_ms() / 1000).rem_euclid(60);
    if second > 45 {
        let wait = u64::try_from(61 - second).unwrap_or(1);
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
}

async fn rate_caps_and_a_maximum_of_reads_are_counted_per_value(app: TestApp) {
    let v = vault(&app).await;
    ok(v.alice
        .client
        .create_policy(&on_machine("slow", None, json!({"reads_per_minute": 2})))
        .await);
    early_in_a_minute().await;
    ok(v.machine.reveal(PROD, None).await);
    ok(v.machine.reveal(PROD, None).await);
    let e = expect_code(v.machine.reveal(PROD, None).await, "policy_denied");
    assert!(
        e.to_string().contains("reads per minute capped at 2"),
        "{e}"
    );
    ok(v.alice.client.delete_policy("slow").await);

    ok(v.alice
        .client
        .create_policy(&on_machine(
            "three",
            Some("payments/api"),
            json!({"max_reads": 3, "reads_per_day": 100}),
        ))
        .await);
    // Two values at once count two.
    assert_eq!(
        ok(v.machine
            .environment_values("payments/api/production")
            .await)
        .secrets
        .len(),
        2
    );
    ok(v.machine.reveal(STAGING, None).await);
    refused_by(
        v.machine.reveal(STAGING, None).await,
        "three",
        "all 3 reads",
    );
    // Other projects are not counted against it.
    ok(v.machine.reveal("billing/api/production/KEY", None).await);
    ok(v.alice.client.delete_policy("three").await);
    ok(v.alice
        .client
        .create_policy(&on_machine(
            "daily",
            Some("billing/api"),
            json!({"reads_per_day": 1}),
        ))
        .await);
    ok(v.machine.reveal("billing/api/production/KEY", None).await);
    refused_by(
        v.machine.reveal("billing/api/production/KEY", None).await,
        "daily",
        "reads per day (UTC) capped at 1",
    );
    let audited = denials(&app, &v.id).await;
    assert!(
        audited.iter().any(|d| d.contains("used up"))
            && audited.last().is_some_and(|d| d.contains("per day")),
        "{audited:?}"
    );
}

async fn a_policy_binds_a_token_too(app: TestApp) {
    let v = vault(&app).await;
    let created = ok(v
        .alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await);
    let ci = app.client.with_token(created.secret.expose().to_owned());
    ok(ci.reveal(PROD, None).await);
    ok(v.alice
        .client
        .create_policy(&CreatePolicyRequest {
            name: "prod-off".into(),
            machine: None,
            token: Some("deploy".into()),
            project: Some("payments/api".into()),
            spec: json!({"environments": ["staging"]}),
        })
        .await);
    refused_by(ci.reveal(PROD, None).await, "prod-off", "'production'");
    ok(ci.reveal(STAGING, None).await);
    let kinds = app
        .query_column(&format!(
            "SELECT actor_kind FROM audit_events WHERE vault_id = '{}' AND outcome = 'denied'",
            v.id
        ))
        .await;
    assert_eq!(kinds, ["token"]);
}

async fn only_members_with_the_policies_switch_write_policies_in_a_project(app: TestApp) {
    let v = vault(&app).await;
    let spec = json!({"max_reads": 10});
    // Without an access role, dev writes no policy.
    expect_code(
        v.dev
            .client
            .create_policy(&on_machine("p", Some("payments/api"), spec.clone()))
            .await,
        "permission_denied",
    );
    ok(v.alice
        .client
        .create_access_role(
            "devs",
            json!({"scope": {"projects": ["payments/api"]},
                   "projects": {"payments/api": {"policies": true}}}),
        )
        .await);
    ok(v.alice
        .client
        .set_member_access_role("dev", Some("devs"))
        .await);
    ok(v.dev
        .client
        .create_policy(&on_machine("p", Some("payments/api"), spec.clone()))
        .await);
    // Not in a project dev does not open, and not everywhere.
    expect_code(
        v.dev
            .client
            .create_policy(&on_machine("q", Some("billing/api"), spec.clone()))
            .await,
        "not_found",
    );
    expect_code(
        v.dev
            .client
            .create_policy(&on_machine("q", None, spec.clone()))
            .await,
        "permission_denied",
    );
    // An admin's policy binding everything is not dev's to see or delete.
    ok(v.alice
        .client
        .create_policy(&on_machine("global", None, spec.clone()))
        .await);
    let listed: Vec<String> = ok(v.dev.client.policies().await)
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(listed, ["p"]);
    expect_code(
        v.dev.client.delete_policy("global").await,
        "permission_denied",
    );
    // With the switch off, dev can no longer loosen the policy it wrote.
    ok(v.alice
        .client
        .edit_access_role(
            "devs",
            json!({"scope": {"projects": ["payments/api"]}, "policies": false}),
        )
        .await);
    expect_code(v.dev.client.delete_policy("p").await, "permission_denied");
    // Bad conditions are refused with what to write.
    for bad in [
        json!({"cidrs": ["nope"]}),
        json!({"window": {"days": ["mon"], "from": "9am", "to": "17:00", "time_zone": "UTC"}}),
        json!({"max_reads": 0}),
        json!({"unknown": 1}),
    ] {
        expect_code(
            v.alice
                .client
                .create_policy(&on_machine("bad", None, bad))
                .await,
            "invalid_value",
        );
    }
    expect_code(
        v.alice
            .client
            .create_policy(&on_machine("x", Some("payments/api"), json!({})))
            .await,
        "invalid_value",
    );
}

crate::on_both_backends!(
    a_source_outside_the_policys_ranges_is_refused_and_audited,
    environments_expiry_and_time_windows_refuse_what_they_exclude,
    rate_caps_and_a_maximum_of_reads_are_counted_per_value,
    a_policy_binds_a_token_too,
    only_members_with_the_policies_switch_write_policies_in_a_project,
);
