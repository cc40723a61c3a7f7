//! Alerts: rules written by members with the Alerts cell send each matching audit entry
//! to a webhook (HMAC-signed, with a delivery id that stays the same across retries) or
//! by email; webhooks to private addresses are refused unless the operator allows them.
//! Delivery is tested against local receivers.

use crate::{expect_code, ok, value};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use strongroom_proto::CreateAlertRequest;
use strongroom_server::Settings;
use strongroom_testkit::{Backend, MailSink, Received, Receiver, TestApp, TestUser};

const SECRET: &str = "payments/api/production/KEY";

/// A server whose alerts may reach this machine, retrying quickly.
async fn app_allowing_private(backend: Backend) -> TestApp {
    let settings = Settings {
        alert_retry_base_ms: 100,
        ..Default::default()
    };
    TestApp::spawn_configured(backend, settings, |config| {
        config.alerts_allow_private = true;
    })
    .await
}

/// Alice's organization with dev (a developer without access to the secret).
async fn vault(app: &TestApp) -> (TestUser, TestUser) {
    let alice = app.signup("alice").await;
    let (_, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice.client.put_secret(SECRET, &value("v")).await);
    (alice, members.remove(0))
}

fn denied_reveals(webhook: &str) -> CreateAlertRequest {
    CreateAlertRequest {
        name: "denied-reveals".into(),
        webhook: Some(webhook.to_owned()),
        actions: vec!["secret.reveal".into()],
        outcome: Some("denied".into()),
        ..Default::default()
    }
}

/// Checks `X-Strongroom-Signature` as a receiver would.
fn signed_by(received: &Received, secret: &str) -> bool {
    let Some(header) = received.header("x-strongroom-signature") else {
        return false;
    };
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(format!("{t}.{}", received.body).as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

fn body(received: &Received) -> serde_json::Value {
    serde_json::from_str(&received.body).unwrap_or_else(|e| panic!("{e}: {}", received.body))
}

async fn a_webhook_receives_each_matching_entry_signed(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = app_allowing_private(backend).await;
    let (alice, dev) = vault(&app).await;
    let created = ok(alice.client.create_alert(&denied_reveals(&hook.url)).await);
    let secret = created
        .signing_secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .unwrap_or_default();
    assert!(secret.starts_with("whsec_"), "{created:?}");
    // Allowed reveals do not match; dev's refused one does.
    ok(alice.client.reveal(SECRET, None).await);
    expect_code(dev.client.reveal(SECRET, None).await, "permission_denied");
    let received = hook.wait_for(|r| !r.is_empty()).await;
    assert_eq!(received.len(), 1, "{received:?}");
    let alert = &received[0];
    assert!(signed_by(alert, &secret), "bad signature: {alert:?}");
    assert!(!signed_by(alert, "whsec_someone-elses"));
    assert!(
        alert
            .header("x-strongroom-delivery")
            .is_some_and(|id| id.starts_with("dlv_"))
    );
    let sent = body(alert);
    assert_eq!(sent["alert"], "denied-reveals");
    assert_eq!(sent["entry"]["action"], "secret.reveal");
    assert_eq!(sent["entry"]["outcome"], "denied");
    assert_eq!(sent["entry"]["actor_name"], "dev");
    assert_eq!(sent["entry"]["target"], SECRET);
    assert!(!alert.body.contains("\"v\""), "no secret value in an alert");
    // The next match arrives after it, with a delivery id of its own.
    expect_code(dev.client.reveal(SECRET, None).await, "permission_denied");
    let received = hook.wait_for(|r| r.len() >= 2).await;
    assert_eq!(received.len(), 2);
    assert_ne!(
        received[0].header("x-strongroom-delivery"),
        received[1].header("x-strongroom-delivery")
    );
    assert!(
        body(&received[1])["entry"]["seq"].as_i64() > body(&received[0])["entry"]["seq"].as_i64()
    );
}

async fn a_refused_delivery_is_retried_until_it_arrives(backend: Backend) {
    let hook = Receiver::start(3).await;
    let app = app_allowing_private(backend).await;
    let (alice, dev) = vault(&app).await;
    ok(alice.client.create_alert(&denied_reveals(&hook.url)).await);
    expect_code(dev.client.reveal(SECRET, None).await, "permission_denied");
    let received = hook.wait_for(|r| !r.is_empty()).await;
    assert_eq!(hook.refused(), 3);
    assert_eq!(received.len(), 1, "delivered once, after three refusals");
}

async fn alerts_test_delivers_a_test_alert_now(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = app_allowing_private(backend).await;
    let (alice, _) = vault(&app).await;
    let created = ok(alice.client.create_alert(&denied_reveals(&hook.url)).await);
    let result = ok(alice.client.test_alert("denied-reveals").await);
    assert!(result.delivered, "{result:?}");
    let received = hook.received();
    assert_eq!(received.len(), 1);
    assert_eq!(body(&received[0])["test"], true);
    assert_eq!(
        received[0].header("x-strongroom-delivery"),
        Some(result.delivery_id.as_str())
    );
    let secret = created
        .signing_secret
        .map(|s| s.expose().to_owned())
        .unwrap_or_default();
    assert!(signed_by(&received[0], &secret));
    // A receiver that is gone: the test says so.
    let gone = Receiver::start(usize::MAX).await;
    ok(alice
        .client
        .create_alert(&CreateAlertRequest {
            name: "broken".into(),
            ..denied_reveals(&gone.url)
        })
        .await);
    let failed = ok(alice.client.test_alert("broken").await);
    assert!(!failed.delivered);
    assert!(failed.detail.contains("500"), "{failed:?}");
}

async fn rules_are_listed_without_url_credentials_and_deleted(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = app_allowing_private(backend).await;
    let (alice, dev) = vault(&app).await;
    let url = format!("{}/in?token=hunter2", hook.url);
    ok(alice.client.create_alert(&denied_reveals(&url)).await);
    expect_code(
        alice.client.create_alert(&denied_reveals(&url)).await,
        "already_exists",
    );
    let listed = ok(alice.client.alerts().await);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].destination, format!("{}/in", hook.url));
    assert_eq!(listed[0].actions, ["secret.reveal"]);
    assert_eq!(listed[0].created_by, "alice");
    ok(alice.client.delete_alert("denied-reveals").await);
    assert!(ok(alice.client.alerts().await).is_empty());
    expect_code(
        alice.client.delete_alert("denied-reveals").await,
        "not_found",
    );
    // A deleted rule sends nothing.
    expect_code(dev.client.reveal(SECRET, None).await, "permission_denied");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(hook.received().is_empty());
}

async fn email_alerts_are_mailed(backend: Backend) {
    let sink = MailSink::start().await;
    let settings = Settings {
        alert_retry_base_ms: 100,
        ..Default::default()
    };
    let port = sink.port;
    let app = TestApp::spawn_configured(backend, settings, move |config| {
        config.smtp = Some(strongroom_server::SmtpSettings {
            host: "127.0.0.1".into(),
            port: Some(port),
            security: Some("none".into()),
            username: None,
            password: None,
            from: "Strongroom <strongroom@example.com>".into(),
        });
    })
    .await;
    let (alice, dev) = vault(&app).await;
    ok(alice
        .client
        .create_alert(&CreateAlertRequest {
            name: "mail-me".into(),
            email: Some("security@example.com".into()),
            actions: vec!["secret.*".into()],
            outcome: Some("denied".into()),
            ..Default::default()
        })
        .await);
    expect_code(dev.client.reveal(SECRET, None).await, "permission_denied");
    let mail = sink
        .wait_for(
            "security@example.com",
            "[Strongroom] mail-me: secret.reveal",
        )
        .await;
    assert!(mail.data.contains("actor_name: dev"), "{}", mail.data);
}

async fn webhooks_to_private_addresses_are_refused_unless_the_operator_allows_them(app: TestApp) {
    let (alice, _) = vault(&app).await;
    let hook = Receiver::start(0).await;
    expect_code(
        alice.client.create_alert(&denied_reveals(&hook.url)).await,
        "invalid_value",
    );
    let port = hook.url.rsplit(':').next().unwrap_or("80");
    for private in [
        format!("https://127.0.0.1:{port}/"),
        "https://10.0.0.8/hook".to_owned(),
        "https://169.254.169.254/latest".to_owned(),
        "https://[::1]/hook".to_owned(),
    ] {
        expect_code(
            alice.client.create_alert(&denied_reveals(&private)).await,
            "permission_denied",
        );
    }
    expect_code(
        alice
            .client
            .create_alert(&denied_reveals("ftp://example.com/"))
            .await,
        "invalid_value",
    );
}

async fn email_alerts_need_the_servers_smtp(app: TestApp) {
    let (alice, _) = vault(&app).await;
    expect_code(
        alice
            .client
            .create_alert(&CreateAlertRequest {
                name: "mail-me".into(),
                email: Some("security@example.com".into()),
                ..Default::default()
            })
            .await,
        "conflict",
    );
}

async fn managing_alerts_takes_the_alerts_cell(app: TestApp) {
    let (alice, dev) = vault(&app).await;
    expect_code(
        dev.client
            .create_alert(&denied_reveals("https://hooks.example.com/"))
            .await,
        "permission_denied",
    );
    expect_code(dev.client.alerts().await, "permission_denied");
    expect_code(dev.client.test_alert("any").await, "permission_denied");
    assert!(ok(alice.client.alerts().await).is_empty());
}

async fn a_rule_with_bad_conditions_is_refused(app: TestApp) {
    let (alice, _) = vault(&app).await;
    for bad in [
        CreateAlertRequest {
            actions: vec!["reveal".into()],
            ..denied_reveals("https://hooks.example.com/")
        },
        CreateAlertRequest {
            severity: Some("loud".into()),
            ..denied_reveals("https://hooks.example.com/")
        },
        CreateAlertRequest {
            webhook: None,
            ..denied_reveals("https://hooks.example.com/")
        },
    ] {
        expect_code(alice.client.create_alert(&bad).await, "invalid_value");
    }
    expect_code(
        alice
            .client
            .create_alert(&CreateAlertRequest {
                name: "Not A Name".into(),
                ..denied_reveals("https://hooks.example.com/")
            })
            .await,
        "invalid_name",
    );
}

crate::on_both_backends!(
    webhooks_to_private_addresses_are_refused_unless_the_operator_allows_them,
    email_alerts_need_the_servers_smtp,
    managing_alerts_takes_the_alerts_cell,
    a_rule_with_bad_conditions_is_refused,
);

crate::each_backend!(
    a_webhook_receives_each_matching_entry_signed,
    a_refused_delivery_is_retried_until_it_arrives,
    alerts_test_delivers_a_test_alert_now,
    rules_are_listed_without_url_credentials_and_deleted,
    email_alerts_are_mailed,
);
