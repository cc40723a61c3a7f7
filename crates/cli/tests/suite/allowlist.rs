//! The IP allowlist: once a vault holds a range, its members', machines' and tokens'
//! requests must come from one; nobody can change it so as to shut themselves out; and
//! the client address comes from the socket unless the operator trusts a proxy.

use crate::{expect_code, ok, value};
use strongroom_crypto::machine_key::MachineKey;
use strongroom_crypto::request_signing::{SignedRequest, body_digest};

use strongroom_testkit::{Backend, TestApp, TestUser};

const SECRET: &str = "payments/api/production/KEY";
const LIST: &str = "/api/v1/apps/payments/projects/api/envs/production/secrets";

/// Alice's organization with dev (a developer), a secret, and a machine and a CI token
/// that may reveal it.
async fn vault(app: &TestApp) -> (TestUser, TestUser, String, MachineKey, String) {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice.client.put_secret(SECRET, &value("v")).await);
    let key = MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
    ok(alice
        .client
        .register_machine("deployer", &key.public().to_openssh(""), None)
        .await);
    ok(alice
        .client
        .attach_machine("deployer", "payments/api", &[], &["reveal".to_owned()])
        .await);
    let token = ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await)
    .secret
    .expose()
    .to_owned();
    (alice, members.remove(0), org.id, key, token)
}

async fn a_change_that_would_shut_out_its_maker_is_refused(app: TestApp) {
    let (alice, dev, vault_id, _, _) = vault(&app).await;
    assert!(ok(alice.client.allowlist().await).is_empty());
    let refused = expect_code(alice.client.allow_range("10.0.0.0/8", "").await, "conflict");
    assert!(
        refused.to_string().contains("127.0.0.1") && refused.to_string().contains("lock you out"),
        "{refused}"
    );
    ok(alice.client.allow_range("127.0.0.0/8", "this host").await);
    ok(alice.client.allow_range("10.0.0.0/8", "office").await);
    expect_code(
        alice.client.allow_range("10.1.2.3/8", "").await,
        "already_exists",
    );
    expect_code(alice.client.allow_range("nope", "").await, "invalid_value");
    let listed: Vec<String> = ok(alice.client.allowlist().await)
        .into_iter()
        .map(|r| r.cidr)
        .collect();
    assert_eq!(listed, ["10.0.0.0/8", "127.0.0.0/8"]);
    expect_code(alice.client.disallow_range("127.0.0.0/8").await, "conflict");
    expect_code(
        alice.client.disallow_range("192.0.2.0/24").await,
        "not_found",
    );
    ok(alice.client.disallow_range("10.0.0.0/8").await);
    // A developer does not hold the IP allowlist cell.
    expect_code(dev.client.allowlist().await, "permission_denied");
    expect_code(
        dev.client.allow_range("0.0.0.0/0", "").await,
        "permission_denied",
    );
    let trail: Vec<String> = app
        .audit_trail(&vault_id)
        .await
        .into_iter()
        .filter(|(_, action, _)| action.starts_with("allowlist."))
        .map(|(_, action, target)| format!("{action} {target}"))
        .collect();
    assert_eq!(
        trail,
        [
            "allowlist.add 127.0.0.0/8",
            "allowlist.add 10.0.0.0/8",
            "allowlist.remove 10.0.0.0/8"
        ]
    );
}

/// Sends `GET path` as `auth` (a bearer token, or a machine key) claiming to come from
/// `forwarded`.
async fn from(
    app: &TestApp,
    path: &str,
    forwarded: &str,
    bearer: Option<&str>,
    machine: Option<(&MachineKey, &str)>,
) -> u16 {
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", app.url))
        .header("x-forwarded-for", forwarded);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some((key, vault)) = machine {
        let signed = SignedRequest {
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            vault: vault.into(),
            key: key.public().fingerprint(),
            timestamp: strongroom_store::now_ms() / 1000,
            nonce: format!(
                "{:032x}",
                u128::from_le_bytes(
                    strongroom_crypto::random::random_bytes::<16>()
                        .unwrap_or_else(|e| panic!("{e}"))
                )
            ),
            digest: body_digest(b""),
        };
        request = request.header("authorization", signed.authorization(key));
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status()
        .as_u16()
}

async fn behind_a_trusted_proxy_requests_from_outside_the_allowlist_are_refused(backend: Backend) {
    let app = TestApp::spawn_configured(backend, Default::default(), |config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap_or_else(|e| panic!("{e:?}"))];
    })
    .await;
    let (alice, _, vault_id, key, token) = vault(&app).await;
    let inside = "203.0.113.5";
    let outside = "198.51.100.7";
    // Every kind of principal gets in before there is a list.
    for who in [
        (Some(alice.token.as_str()), None),
        (Some(token.as_str()), None),
        (None, Some((&key, vault_id.as_str()))),
    ] {
        assert_eq!(from(&app, LIST, outside, who.0, who.1).await, 200);
    }
    // Alice's own request comes through the proxy from `inside`: a list without it is
    // refused, and one with it is accepted.
    let add = |cidr: &'static str, via: &'static str| {
        let url = format!("{}/api/v1/ip-allowlist", app.url);
        let token = alice.token.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", via)
                .bearer_auth(token)
                .json(&serde_json::json!({"cidr": cidr}))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .status()
                .as_u16()
        }
    };
    assert_eq!(add("192.0.2.0/24", inside).await, 409);
    assert_eq!(add("203.0.113.0/24", inside).await, 204);
    for who in [
        (Some(alice.token.as_str()), None),
        (Some(token.as_str()), None),
        (None, Some((&key, vault_id.as_str()))),
    ] {
        assert_eq!(from(&app, LIST, inside, who.0, who.1).await, 200);
        assert_eq!(from(&app, LIST, outside, who.0, who.1).await, 403);
    }
    // The member's own account is not the vault's: it stays reachable from anywhere.
    assert_eq!(
        from(
            &app,
            "/api/v1/auth/whoami",
            outside,
            Some(&alice.token),
            None
        )
        .await,
        200
    );
    // The client cannot choose its address by adding hops of its own on the left.
    assert_eq!(
        from(
            &app,
            LIST,
            &format!("{inside}, {outside}"),
            Some(&alice.token),
            None
        )
        .await,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_behind_a_trusted_proxy_requests_from_outside_the_allowlist_are_refused() {
    behind_a_trusted_proxy_requests_from_outside_the_allowlist_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_behind_a_trusted_proxy_requests_from_outside_the_allowlist_are_refused() {
    behind_a_trusted_proxy_requests_from_outside_the_allowlist_are_refused(Backend::Postgres).await;
}

async fn without_a_trusted_proxy_forwarded_addresses_are_ignored(app: TestApp) {
    let (alice, _, _, _, _) = vault(&app).await;
    ok(alice.client.allow_range("127.0.0.0/8", "").await);
    assert_eq!(
        from(&app, LIST, "198.51.100.7", Some(&alice.token), None).await,
        200
    );
}

crate::on_both_backends!(
    a_change_that_would_shut_out_its_maker_is_refused,
    without_a_trusted_proxy_forwarded_addresses_are_ignored,
);
