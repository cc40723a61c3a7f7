//! Agent and CI tokens: each usable only for its own purpose. An agent token never
//! receives a plaintext value by any route; a CI token reveals within its scope; nobody
//! creates a token beyond what they hold; revocation holds on the next request, on every
//! node.

use crate::cli::Cli;
use crate::{expect_code, ok, value};
use serde_json::{Value, json};
use strongroom_client::Client;
use strongroom_proto::TokenCreated;
use strongroom_testkit::{TestApp, TestUser};

const LIVE: &str = "sk_live_4f9a1c";

/// Alice's organization `acme` with dev (a developer), and payments/api holding
/// production and staging secrets.
async fn vault(app: &TestApp) -> (TestUser, TestUser, String) {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    for (path, v) in [
        ("payments/api/production/STRIPE_KEY", LIVE),
        ("payments/api/staging/STRIPE_KEY", "sk_test_1"),
    ] {
        ok(alice.client.put_secret(path, &value(v)).await);
    }
    (alice, members.remove(0), org.id)
}

/// A CI token of alice's that may reveal within `scopes`.
async fn ci_token(alice: &TestUser, name: &str, scopes: &[&str]) -> TokenCreated {
    ok(alice
        .client
        .create_token(&crate::token_request(name, "ci", scopes, &["reveal"]))
        .await)
}

fn as_token(app: &TestApp, created: &TokenCreated) -> Client {
    app.client.with_token(created.secret.expose().to_owned())
}

async fn an_agent_token_reads_names_and_no_route_ever_returns_it_a_value(app: TestApp) {
    let (alice, _, _) = vault(&app).await;
    let created = ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["read", "use"],
        ))
        .await);
    assert!(created.secret.expose().starts_with("sr_"));
    assert_eq!(created.token.verbs, ["read", "use"]);
    let agent = as_token(&app, &created);
    assert_eq!(ok(agent.secrets("payments/api/production").await).len(), 1);
    let refused = expect_code(
        agent
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("broker"), "{refused}");
    expect_code(
        agent.environment_values("payments/api/production").await,
        "permission_denied",
    );
    // Every route of the API, asked by the agent about the secret: none answers with its
    // value, in any status.
    let doc = ok(app.client.openapi().await);
    let http = reqwest::Client::new();
    let mut asked = 0;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let url = path
            .replace("{app}", "payments")
            .replace("{project}", "api")
            .replace("{env}", "production")
            .replace("{name}", "STRIPE_KEY");
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            let response = http
                .request(
                    reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                        .unwrap_or(reqwest::Method::GET),
                    format!("{}{url}", app.url),
                )
                .bearer_auth(created.secret.expose())
                .json(
                    &json!({"secrets": {"STRIPE_KEY": LIVE}, "to": 1, "value": "x",
                    "name": "STRIPE_KEY", "secret": "payments/api/production/STRIPE_KEY"}),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let body = response.text().await.unwrap_or_default();
            assert!(
                !body.contains(LIVE),
                "{method} {url} gave the agent the value: {body}"
            );
            asked += 1;
        }
    }
    assert!(asked > 40, "only {asked} operations asked");
    // The value is unchanged: none of those calls wrote anything.
    assert_eq!(
        ok(alice
            .client
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await)
        .value
        .expose(),
        LIVE
    );
    // And an agent token that could reveal cannot be made.
    expect_code(
        alice
            .client
            .create_token(&crate::token_request(
                "peeker",
                "agent",
                &["payments/api"],
                &["reveal"],
            ))
            .await,
        "invalid_value",
    );
}

async fn a_ci_token_reveals_within_its_scope_for_run_and_export(app: TestApp) {
    let (alice, _, vault_id) = vault(&app).await;
    let created = ci_token(&alice, "deploy", &["payments/api/production"]).await;
    let ci = as_token(&app, &created);
    assert_eq!(
        ok(ci.reveal("payments/api/production/STRIPE_KEY", None).await)
            .value
            .expose(),
        LIVE
    );
    expect_code(
        ci.reveal("payments/api/staging/STRIPE_KEY", None).await,
        "not_found",
    );
    expect_code(ci.secrets("payments/api/staging").await, "not_found");
    let runner = Cli::new(&app, "ci");
    let env = [
        ("STRONGROOM_SERVER", app.url.as_str()),
        ("STRONGROOM_TOKEN", created.secret.expose()),
    ];
    let ran = runner
        .run_with_env(
            &[
                "run",
                "--env",
                "payments/api/production",
                "--",
                "sh",
                "-c",
                "echo $STRIPE_KEY",
            ],
            None,
            &env,
        )
        .await;
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        LIVE,
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let trail = app.audit_trail(&vault_id).await;
    assert!(trail.iter().any(|(who, action, target)| who == "deploy"
        && action == "secret.reveal"
        && target == "payments/api/production/STRIPE_KEY"));
    let kinds = app
        .query_column("SELECT DISTINCT actor_kind FROM audit_events WHERE actor_name = 'deploy'")
        .await;
    assert_eq!(kinds, ["token"]);
    // Only the hash is stored.
    assert!(!app.database_contains(created.secret.expose()).await);
}

async fn nobody_creates_a_token_beyond_what_they_hold(app: TestApp) {
    let (alice, dev, _) = vault(&app).await;
    // dev opens payments/api but may not reveal in production.
    ok(alice
        .client
        .create_access_role(
            "devs",
            json!({"scope": {"projects": ["payments/api"]},
                   "environments": {"production": ["reveal"]}}),
        )
        .await);
    ok(alice
        .client
        .set_member_access_role("dev", Some("devs"))
        .await);
    let refused = expect_code(
        dev.client
            .create_token(&crate::token_request(
                "ci",
                "ci",
                &["payments/api"],
                &["reveal"],
            ))
            .await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("reveal"), "{refused}");
    expect_code(
        dev.client
            .create_token(&crate::token_request(
                "ci",
                "ci",
                &["payments/api/production"],
                &["reveal"],
            ))
            .await,
        "permission_denied",
    );
    ok(dev
        .client
        .create_token(&crate::token_request(
            "ci",
            "ci",
            &["payments/api/staging"],
            &["reveal"],
        ))
        .await);
    ok(dev
        .client
        .create_token(&crate::token_request(
            "agent",
            "agent",
            &["payments/api"],
            &["use"],
        ))
        .await);
    expect_code(
        dev.client
            .create_token(&crate::token_request(
                "other",
                "agent",
                &["billing/api"],
                &["use"],
            ))
            .await,
        "not_found",
    );
    // A token reaching a project dev does not open is not dev's to see or revoke.
    ok(alice.client.create_app("billing").await);
    ok(alice.client.create_project("billing/api").await);
    ci_token(&alice, "billing", &["billing/api"]).await;
    let seen: Vec<String> = ok(dev.client.tokens().await)
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(seen, ["agent", "ci"]);
    expect_code(dev.client.revoke_token("billing").await, "not_found");
    // A collaborator holds neither AI agents nor Integrations.
    ok(alice.client.set_member_role("dev", "collaborator").await);
    expect_code(
        dev.client
            .create_token(&crate::token_request(
                "x",
                "agent",
                &["payments/api"],
                &["use"],
            ))
            .await,
        "permission_denied",
    );
    expect_code(dev.client.tokens().await, "permission_denied");
}

async fn a_token_cannot_call_member_or_management_routes(app: TestApp) {
    let (alice, _, _) = vault(&app).await;
    let created = ci_token(&alice, "deploy", &["payments/api"]).await;
    let ci = as_token(&app, &created);
    expect_code(ci.tokens().await, "permission_denied");
    expect_code(
        ci.create_token(&crate::token_request(
            "more",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await,
        "permission_denied",
    );
    expect_code(ci.revoke_token("deploy").await, "permission_denied");
    expect_code(ci.whoami().await, "permission_denied");
    expect_code(ci.members().await, "permission_denied");
    expect_code(ci.own_machine().await, "permission_denied");
    expect_code(
        ci.put_secret("payments/api/production/STRIPE_KEY", &value("x"))
            .await,
        "permission_denied",
    );
}

async fn revoked_expired_and_out_of_range_tokens_are_refused(app: TestApp) {
    let (alice, _, _) = vault(&app).await;
    let path = "payments/api/production/STRIPE_KEY";
    let mut from_elsewhere = crate::token_request("office", "ci", &["payments/api"], &["reveal"]);
    from_elsewhere.cidrs = vec!["10.0.0.0/8".into()];
    let office = ok(alice.client.create_token(&from_elsewhere).await);
    let refused = expect_code(
        as_token(&app, &office).reveal(path, None).await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("10.0.0.0/8"), "{refused}");
    let mut local = crate::token_request("local", "ci", &["payments/api"], &["reveal"]);
    local.cidrs = vec!["127.0.0.1".into(), "::1".into()];
    let local = ok(alice.client.create_token(&local).await);
    ok(as_token(&app, &local).reveal(path, None).await);

    let created = ci_token(&alice, "deploy", &["payments/api"]).await;
    let ci = as_token(&app, &created);
    ok(ci.reveal(path, None).await);
    app.execute_sql("UPDATE tokens SET expires_at = 1 WHERE name = 'deploy'")
        .await;
    let expired = expect_code(ci.reveal(path, None).await, "unauthenticated");
    assert!(expired.to_string().contains("expired"), "{expired}");
    app.execute_sql("UPDATE tokens SET expires_at = NULL WHERE name = 'deploy'")
        .await;
    ok(ci.reveal(path, None).await);
    let listed: Vec<String> = ok(alice.client.tokens().await)
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(listed, ["deploy", "local", "office"]);
    let revoked = ok(alice.client.revoke_token("deploy").await);
    assert_eq!(revoked.status, "revoked");
    let refused = expect_code(ci.reveal(path, None).await, "unauthenticated");
    assert!(refused.to_string().contains("revoked"), "{refused}");
    expect_code(alice.client.revoke_token("deploy").await, "not_found");
    // The name is free again.
    ci_token(&alice, "deploy", &["payments/api"]).await;
    let forged = app
        .client
        .with_token("sr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned());
    expect_code(forged.reveal(path, None).await, "unauthenticated");
}

async fn tokens_are_created_listed_and_revoked_from_the_cli(app: TestApp) {
    let alice = Cli::new(&app, "alice");
    alice.signup("alice").await;
    alice.ok(&["apps", "create", "payments"], None).await;
    alice
        .ok(&["projects", "create", "payments/api"], None)
        .await;
    let created = alice
        .ok(
            &[
                "tokens",
                "create",
                "helper",
                "--kind",
                "agent",
                "--scope",
                "payments/api",
                "--expires",
                "30d",
                "--json",
            ],
            None,
        )
        .await;
    let created: Value = serde_json::from_str(&created).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        created["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("sr_"))
    );
    assert_eq!(created["token"]["verbs"], json!(["read", "use"]));
    let listed = alice.ok(&["tokens", "list"], None).await;
    assert!(
        listed.contains("helper") && listed.contains("agent"),
        "{listed}"
    );
    assert!(!listed.contains("sr_"), "{listed}");
    alice.ok(&["tokens", "revoke", "helper"], None).await;
    let gone = alice.run(&["tokens", "revoke", "helper"], None).await;
    assert_eq!(gone.status.code(), Some(5));
}

crate::on_both_backends!(
    an_agent_token_reads_names_and_no_route_ever_returns_it_a_value,
    a_ci_token_reveals_within_its_scope_for_run_and_export,
    nobody_creates_a_token_beyond_what_they_hold,
    a_token_cannot_call_member_or_management_routes,
    revoked_expired_and_out_of_range_tokens_are_refused,
    tokens_are_created_listed_and_revoked_from_the_cli,
);

/// A revocation made through one node holds on the token's next request on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_one_node_is_refused_on_the_next_request_on_another() {
    let mut app = TestApp::spawn(strongroom_testkit::Backend::Postgres).await;
    let (alice, _, _) = vault(&app).await;
    let created = ci_token(&alice, "deploy", &["payments/api"]).await;
    let node_b = app.second_node().await;
    let on_b = Client::new(&node_b, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_token(created.secret.expose().to_owned());
    let path = "payments/api/production/STRIPE_KEY";
    ok(on_b.reveal(path, None).await);
    ok(alice.client.revoke_token("deploy").await);
    expect_code(on_b.reveal(path, None).await, "unauthenticated");
    app.stop().await;
}
